// MCP tools that take words: prime_similar and prime_recall accept `text` where they accept a
// vector; prime_index and prime_context answer markdown for a prompt; the resource mnemo://index
// holds the index for a client's system prompt. And every tool's description polish: each
// parameter described, and the hints a client shows (reads are read-only, prime_forget destroys).

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { isMnemoError, limits, type MnemoEngine } from '../index.js';
import { toSnakeJson } from '../kernel/wire.js';

const text = z.string().min(1).max(limits.embedTextCharsMax);
const vector = z.array(z.number()).min(1).max(limits.vectorDimMax);
const topK = z.number().int().min(1).max(limits.topKMax);
const maxTokens = z.number().int().min(limits.indexTokensMin).max(limits.indexTokensMax);

/** Parameter descriptions by name, for every tool's parameters that came without one. */
const parameterDescriptions: Record<string, string> = {
  id: 'The id of a node or stored vector, e.g. node:person:…',
  node_id: 'The id of a node, e.g. node:person:… (as prime_add_node returned it).',
  entity_id: 'The id of a node or edge whose events to list.',
  type: 'The node type (its domain unless properties.domain says otherwise), e.g. person, project.',
  node_type: 'Keep only nodes of this type.',
  properties: 'The node\'s facts as a JSON object; name or title is shown in the memory index.',
  source: 'The id of the node the edge starts at.',
  target: 'The id of the node the edge ends at.',
  relation: 'The edge\'s relation, a verb phrase such as works_on or decided_by.',
  weight: 'Edge weight; default 1.',
  direction: "Which edges to follow: 'out', 'in' or 'both' (default 'out').",
  depth: 'Hops to follow from the start (or from each recall seed).',
  limit: `Page size, 1..${limits.pageLimitMax} (default ${limits.pageLimitDefault}).`,
  offset: 'Items to skip, for the next page.',
  from: 'The id of the path\'s first node.',
  to: 'The id of the path\'s last node.',
  vector: 'An embedding: numbers, the dimension of the vectors already stored.',
  text: 'Text; with an embedder configured it is embedded, otherwise it is matched by BM25.',
  metadata: 'Extra JSON stored with the vector.',
  top_k: `How many results, 1..${limits.topKMax}.`,
  as_of: 'A seq, or an ISO-8601 time: answer from the state at that point.',
  query: 'The question, in words.',
  max_tokens: `Token budget for the markdown, ${limits.indexTokensMin}..${limits.indexTokensMax} (estimated: about 4 characters a token).`,
};

const readOnly: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const additive: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };

/** Hints per tool: a client may call read-only tools without asking, and must ask before a destructive one. */
const annotationsByTool: Record<string, ToolAnnotations> = {
  prime_add_node: { ...additive, title: 'Remember an entity' },
  prime_add_edge: { ...additive, title: 'Link two entities' },
  prime_embed: { ...additive, idempotentHint: true, title: 'Store a vector or text' },
  prime_forget: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false, title: 'Forget a node' },
  prime_neighbors: { ...readOnly, title: 'Neighbours of a node' },
  prime_search: { ...readOnly, title: 'Nodes of a type' },
  prime_shortest_path: { ...readOnly, title: 'Path between two nodes' },
  prime_history: { ...readOnly, title: 'History of an entity' },
  prime_stats: { ...readOnly, title: 'Memory statistics' },
  prime_similar: { ...readOnly, title: 'Similar memories' },
  prime_recall: { ...readOnly, title: 'Recall by meaning and links' },
  prime_as_of: { ...readOnly, title: 'A node at a point in time' },
  prime_index: { ...readOnly, title: 'Index of the memory' },
  prime_context: { ...readOnly, title: 'Context for a question' },
};

type Shape = Record<string, z.ZodType>;

/** Adds a description to each parameter that has none; nested optionals keep theirs. */
function described(shape: Shape): Shape {
  return Object.fromEntries(
    Object.entries(shape).map(([name, schema]) => [name, schema.description === undefined && parameterDescriptions[name] ? schema.describe(parameterDescriptions[name]!) : schema]),
  );
}

/**
 * Makes every tool registered on `server` from now on carry parameter descriptions and its
 * annotations, wherever it is registered: call right after creating the server.
 */
export function describeTools(server: McpServer): void {
  const register = server.registerTool.bind(server);
  server.registerTool = ((name: string, config: { description?: string; inputSchema?: Shape; annotations?: ToolAnnotations }, callback: never) =>
    register(name, { ...config, ...(config.inputSchema ? { inputSchema: described(config.inputSchema) } : {}), annotations: { ...annotationsByTool[name], ...config.annotations } } as never, callback)) as never;
}

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: toSnakeJson(value) }] };
}

function markdown(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

async function guarded(body: () => Promise<CallToolResult> | CallToolResult): Promise<CallToolResult> {
  try {
    return await body();
  } catch (e) {
    if (!isMnemoError(e)) throw e;
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: e.message, code: e.code }) }] };
  }
}

export function registerWordsTools(server: McpServer, engine: MnemoEngine): void {
  server.registerTool(
    'prime_similar',
    {
      description: 'Nearest stored memories to a stored vector (id), a vector, or a text (embedded by the configured embedder). Give exactly one of id, vector, text.',
      inputSchema: { id: z.string().min(1).max(limits.idCharsMax).optional(), vector: vector.optional(), text: text.optional(), top_k: topK.optional(), node_type: z.string().min(1).max(limits.typeCharsMax).optional() },
    },
    (a) =>
      guarded(async () => {
        const answer = await engine.similarText(
          { ...(a.id !== undefined ? { id: a.id } : {}), ...(a.vector !== undefined ? { vector: a.vector } : {}), ...(a.text !== undefined ? { text: a.text } : {}) },
          { ...(a.top_k !== undefined ? { topK: a.top_k } : {}), ...(a.node_type !== undefined ? { type: a.node_type } : {}) },
        );
        return json({ results: answer.results });
      }),
  );
  server.registerTool(
    'prime_recall',
    {
      description:
        'Recall what the memory knows about a question: text (embedded by the configured embedder and matched by BM25, fused) and/or a vector, expanded through the graph, scored by similarity, proximity and recency. degraded: true when the embedder did not answer and only BM25 did.',
      inputSchema: { text: text.optional(), vector: vector.optional(), node_type: z.string().min(1).max(limits.typeCharsMax).optional(), depth: z.number().int().min(0).max(limits.traversalDepthMax).optional(), top_k: topK.optional() },
    },
    (a) =>
      guarded(async () => {
        const answer = await engine.recallText({
          ...(a.text !== undefined ? { text: a.text } : {}),
          ...(a.vector !== undefined ? { vector: a.vector } : {}),
          ...(a.node_type !== undefined ? { type: a.node_type } : {}),
          ...(a.depth !== undefined ? { depth: a.depth } : {}),
          ...(a.top_k !== undefined ? { topK: a.top_k } : {}),
        });
        return json({ results: answer.results, degraded: answer.degraded });
      }),
  );
  server.registerTool(
    'prime_index',
    {
      description: 'A compressed markdown index of the whole memory: domains with node counts, types and example names, and the links between domains with their relations and counts. Read it first to know what to ask.',
      inputSchema: { max_tokens: maxTokens.optional() },
    },
    (a) => guarded(() => markdown(engine.memoryIndex(a.max_tokens === undefined ? {} : { maxTokens: a.max_tokens }).markdown)),
  );
  server.registerTool(
    'prime_context',
    {
      description: 'Everything to answer a question in one markdown: the memory index and the recalled memories, best first, within a token budget.',
      inputSchema: { query: text, max_tokens: maxTokens.optional(), top_k: topK.optional() },
    },
    (a) =>
      guarded(async () => {
        const context = await engine.promptContext(a.query, { ...(a.max_tokens !== undefined ? { maxTokens: a.max_tokens } : {}), ...(a.top_k !== undefined ? { topK: a.top_k } : {}) });
        return markdown(context.markdown);
      }),
  );
  server.registerResource(
    'memory-index',
    'mnemo://index',
    { title: 'Memory index', description: 'What this memory holds (domains, examples, cross-domain links), for the system prompt.', mimeType: 'text/markdown' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: engine.memoryIndex().markdown }] }),
  );
}
