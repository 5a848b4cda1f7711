// The MCP tools, named and shaped as AllSource Prime's, over the public engine API. Arguments are
// checked by the same schemas as the HTTP routes (src/kernel/requests.ts), so a bad argument gets
// the same message either way; answers carry Prime's fields beside mnemo's, in snake_case JSON.
//
// The SDK's low-level Server is used, not McpServer: McpServer validates arguments itself and
// reports zod's own messages, and registering a dozen tools cost ~6 ms per stateless request.

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { isMnemoError, limits, type MnemoEngine, type NodeRecord } from '../index.js';
import {
  asOfArguments,
  createEdgeRequest,
  createNodeRequest,
  forgetArguments,
  historyArguments,
  inRequestFields,
  invalid,
  jsonSchemaOf,
  neighborsArguments,
  noArguments,
  parseInput,
  recallRequest,
  searchArguments,
  shortestPathRequest,
  similarRequest,
  storeVectorRequest,
} from '../kernel/requests.js';
import { degradedNote, historyRow, pathAnswer, reachedByEdges, recallHits, recallInputOf, similarRows, statsAnswer, summaryRow, typeOf, vectorRows } from '../kernel/prime-wire.js';
import { toSnakeJson } from '../kernel/wire.js';

interface ToolDefinition {
  name: string;
  description: string;
  input: z.ZodType;
  run(engine: MnemoEngine, args: any): unknown;
}

/** A tool answer that is markdown for a prompt, sent as it is rather than as JSON. */
class Markdown {
  constructor(readonly text: string) {}
}

const maxTokens = z.number().int().min(limits.indexTokensMin).max(limits.indexTokensMax).describe(`Token budget (estimated; ${limits.indexTokensMin}..${limits.indexTokensMax})`);
const indexArguments = z.object({ max_tokens: maxTokens.optional() }).strict();
const contextArguments = z
  .object({
    query: z.string().min(1).max(limits.embedTextCharsMax).describe('The question to gather context for'),
    max_tokens: maxTokens.optional(),
    top_k: z.number().int().min(1).max(limits.topKMax).optional().describe('How many recalled memories (default 10)'),
  })
  .strict();

type Fields = 'summary' | 'full';

/** A node row as Prime's `fields` asks: summary `{id, type, name, at}`, or the whole node. */
function row(node: NodeRecord, fields: Fields): object {
  return fields === 'summary' ? summaryRow(node) : node;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

function directionOf(raw: string | undefined): 'out' | 'in' | 'both' | undefined {
  if (raw === 'outgoing') return 'out';
  if (raw === 'incoming') return 'in';
  return raw as 'out' | 'in' | 'both' | undefined;
}

const tools: readonly ToolDefinition[] = [
  {
    name: 'prime_add_node',
    description:
      "Create a node in the knowledge graph: a fact, an entity or a concept you learned. Include a 'name' and a 'domain' property. Pass the returned entity_id to prime_add_edge and prime_embed.",
    input: createNodeRequest,
    run: async (engine, a) => {
      const type = typeOf(a);
      if (type === undefined) throw invalid('type', 'expected a non-empty string, got nothing');
      const { nodeId } = await inRequestFields(engine.addNode(withoutUndefined({ type, properties: a.properties ?? {}, id: a.id })));
      return { nodeId, entityId: nodeId };
    },
  },
  {
    name: 'prime_add_edge',
    description: 'Create a directed relationship between two existing nodes (by their entity_id): works_on, depends_on, causes, requires…',
    input: createEdgeRequest,
    run: async (engine, a) => ({ edgeId: (await inRequestFields(engine.addEdge(withoutUndefined({ ...a })))).edgeId }),
  },
  {
    name: 'prime_neighbors',
    description:
      "The graph around a node: what it links to and what links to it, deduplicated, paged ('total', 'next_offset'). Set depth > 1 for multi-hop exploration.",
    input: neighborsArguments,
    run: (engine, a) => {
      const depth: number = a.depth ?? 1;
      const page = engine.neighbors(a.node_id, withoutUndefined({ relation: a.relation, direction: directionOf(a.direction), depth: a.depth, limit: a.limit, offset: a.offset }));
      // Prime's default: every property at depth 1, summaries deeper (the frontier grows fast).
      const fields: Fields = a.fields ?? (depth > 1 ? 'summary' : 'full');
      return fields === 'full' ? page : { ...page, nodes: page.nodes.map((n) => ({ ...summaryRow(n), depth: n.depth })) };
    },
  },
  {
    name: 'prime_search',
    description:
      "List nodes of a type ('person', 'project'…), 50 rows by default with the true 'total': page with 'offset'. For 'what do I know about X' use prime_recall instead.",
    input: searchArguments,
    run: (engine, a) => {
      // By type, as Prime lists: a node that set its own properties.domain is still found.
      const page = engine.search(withoutUndefined({ nodeType: a.type, limit: a.limit, offset: a.offset }));
      const fields: Fields = a.fields ?? 'summary';
      return { ...page, nodes: page.nodes.map((n) => row(n, fields)) };
    },
  },
  {
    name: 'prime_shortest_path',
    description: 'How two entities are connected: the chain of nodes from one to the other (following outgoing edges), or null with a message.',
    input: shortestPathRequest,
    run: (engine, a) => pathAnswer(engine.shortestPath(a.from, a.to, withoutUndefined({ relation: a.relation, direction: directionOf(a.direction) }))),
  },
  {
    name: 'prime_forget',
    description: 'Delete a node with its edges and vector. Its history stays readable with prime_history.',
    input: forgetArguments,
    run: async (engine, a) => {
      await inRequestFields(engine.deleteNode(a.node_id));
      return { deleted: true, forgotten: a.node_id };
    },
  },
  {
    name: 'prime_history',
    description: 'The audit trail of any entity (node, edge or vector): every event that touched it, oldest first, with timestamps.',
    input: historyArguments,
    run: (engine, a) => ({ events: engine.history(a.entity_id).map(historyRow) }),
  },
  {
    name: 'prime_stats',
    description: 'Overview of memory: live nodes, edges and vectors, by type and relation, deletions, and sync state. Cheap; call it at the start of a conversation.',
    input: noArguments,
    run: (engine) => {
      const stats = statsAnswer(engine.stats());
      // Vectors are usually stored under node ids; nodes past the vector count are unreachable by semantic recall.
      const nodesWithoutVectors = Math.max(0, stats.totalNodes - stats.totalVectors);
      const recallCoverage =
        nodesWithoutVectors === 0 || stats.totalNodes === 0 ? null : `${stats.totalNodes - nodesWithoutVectors} of ${stats.totalNodes} nodes have a vector; prime_recall finds the others by text only`;
      return { ...stats, nodesWithoutVectors, recallCoverage };
    },
  },
  {
    name: 'prime_embed',
    description: "Store an embedding (and its text) for a node's entity_id, so recall finds it by meaning. Give 'vector', 'text', or both; text alone is searchable by words.",
    input: storeVectorRequest,
    run: async (engine, a) => {
      if (a.vector === undefined && a.text === undefined) throw invalid('vector', "give 'vector' or 'text' (or both)");
      await inRequestFields(engine.embed(withoutUndefined({ ...a })));
      return { stored: true, id: a.id };
    },
  },
  {
    name: 'prime_similar',
    description: 'The stored embeddings most similar to the one stored under an id.',
    input: similarRequest,
    run: async (engine, a) => {
      const given = [a.id, a.vector, a.text].filter((v) => v !== undefined).length;
      if (given !== 1) throw invalid('id', "give exactly one of 'vector', 'id' or 'text'");
      const options = withoutUndefined({ topK: a.top_k ?? 5 });
      if (a.text !== undefined) return { results: similarRows((await engine.similarText({ text: a.text }, options)).results) };
      return { results: similarRows(engine.similar(a.id !== undefined ? { id: a.id } : { vector: a.vector }, options)) };
    },
  },
  {
    name: 'prime_recall',
    description:
      "Hybrid recall, your main tool for 'what do I know about X?': text (BM25) and/or vector matches, expanded through the graph, scored by similarity, proximity and recency. 'retrieval' says what ranked the answer; 'degraded' says why when it is not semantic.",
    input: recallRequest,
    run: async (engine, a) => {
      if (a.peers !== undefined || a.deadline_ms !== undefined) {
        // Asked of peers too: {results (each with its origin), peers, degraded} (docs/federation.md).
        const { tenant: _tenant, ...options } = recallInputOf(a);
        const peers = a.peers === undefined || a.peers === false ? [] : a.peers;
        return engine.recall({ ...options, peers, ...(a.deadline_ms === undefined ? {} : { deadlineMs: a.deadline_ms }) });
      }
      if (a.text !== undefined && engine.embedder !== undefined) {
        // With an embedder, text is embedded too (fused with BM25); BM25 alone, degraded, if it fails.
        const { tenant: _tenant, ...options } = recallInputOf(a);
        const answer = await engine.recallText(options);
        const fields: Fields = a.fields ?? 'full';
        const nodes = answer.results.filter((hit) => hit.node !== null).map((hit) => ({ ...row(hit.node!, fields), score: hit.score, depth: hit.depth }));
        const retrieval = answer.degraded ? 'lexical' : 'semantic';
        const degraded = answer.degraded ? 'the embedder did not answer; ranked by BM25 text match only' : undefined;
        return withoutUndefined({ nodes, retrieval, degraded, results: answer.results });
      }
      const { hits, retrieval } = recallHits(engine, recallInputOf(a));
      const fields: Fields = a.fields ?? 'full';
      const nodes = hits.filter((hit) => hit.node !== null).map((hit) => ({ ...row(hit.node!, fields), score: hit.score, depth: hit.depth }));
      const vectors = vectorRows(hits, (id) => engine.getVector(id)?.text);
      return withoutUndefined({ nodes, vectors, edges: reachedByEdges(hits), retrieval, degraded: degradedNote(retrieval), results: hits });
    },
  },
  {
    name: 'prime_as_of',
    description: 'A node as it was at a seq or an ISO time (time travel); null if it did not exist then.',
    input: asOfArguments,
    run: (engine, a) => ({ node: engine.getNode(a.node_id, { asOf: a.as_of }) }),
  },
  {
    name: 'prime_index',
    description:
      'A compressed markdown index of the whole memory: domains with node counts, types and example names, and the links between domains with their relations and counts. Read it first to know what to ask.',
    input: indexArguments,
    run: (engine, a) => new Markdown(engine.memoryIndex(a.max_tokens === undefined ? {} : { maxTokens: a.max_tokens }).markdown),
  },
  {
    name: 'prime_context',
    description: 'Everything to answer a question in one markdown: the memory index and the recalled memories, best first, within a token budget.',
    input: contextArguments,
    run: async (engine, a) =>
      new Markdown((await engine.promptContext(a.query, { ...(a.max_tokens === undefined ? {} : { maxTokens: a.max_tokens }), ...(a.top_k === undefined ? {} : { topK: a.top_k }) })).markdown),
  },
];

const toolsByName = new Map(tools.map((t) => [t.name, t]));

/** Tools that only read; prime_forget is the one that destroys. Clients use these to decide what to confirm. */
const readOnlyTools = new Set(['prime_neighbors', 'prime_search', 'prime_similar', 'prime_recall', 'prime_index', 'prime_context', 'prime_stats', 'prime_history', 'prime_as_of', 'prime_shortest_path']);

function annotationsOf(name: string): Tool['annotations'] {
  if (readOnlyTools.has(name)) return { readOnlyHint: true };
  return { readOnlyHint: false, destructiveHint: name === 'prime_forget' };
}

/** tools/list is the same for every server: computed once. */
let listed: Tool[] | undefined;
function toolList(): Tool[] {
  listed ??= tools.map((t) => ({ name: t.name, description: t.description, inputSchema: jsonSchemaOf(t.input) as Tool['inputSchema'], annotations: annotationsOf(t.name) }));
  return listed;
}

function answer(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: toSnakeJson(value) }] };
}

/** Runs a tool; a MnemoError (bad input, missing node) becomes a tool error the agent can read, never a crash. */
async function callTool(engine: MnemoEngine, name: string, args: unknown): Promise<CallToolResult> {
  const tool = toolsByName.get(name);
  if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `no tool named '${name}'; tools/list names them`);
  try {
    const value = await tool.run(engine, parseInput(tool.input, args ?? {}, 'arguments'));
    return value instanceof Markdown ? { content: [{ type: 'text', text: value.text }] } : answer(value);
  } catch (e) {
    if (!isMnemoError(e)) throw e;
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: e.message, code: e.code }) }] };
  }
}

const indexUri = 'mnemo://index';

export function createMcpServer(engine: MnemoEngine, version: string): Server {
  const server = new Server({ name: 'mnemo', version }, { capabilities: { tools: {}, resources: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: toolList() }));
  server.setRequestHandler(CallToolRequestSchema, (request) => callTool(engine, request.params.name, request.params.arguments));
  // mnemo://index: the memory index for a client's system prompt.
  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [{ uri: indexUri, name: 'memory-index', title: 'Memory index', description: 'What this memory holds (domains, examples, cross-domain links), for the system prompt.', mimeType: 'text/markdown' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    if (request.params.uri !== indexUri) throw new McpError(ErrorCode.InvalidParams, `no resource '${request.params.uri}'; resources/list names them`);
    return { contents: [{ uri: indexUri, mimeType: 'text/markdown', text: engine.memoryIndex().markdown }] };
  });
  return server;
}
