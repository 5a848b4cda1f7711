// The MCP tools, named and shaped as AllSource Prime's, over the public engine API.
// Every tool answers JSON text in snake_case, the same shapes as the HTTP routes.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { isMnemoError, limits, type MnemoEngine } from '../index.js';
import { toSnakeJson } from '../kernel/wire.js';
import { describeTools, registerWordsTools } from './words-tools.js';

const id = z.string().min(1).max(limits.idCharsMax);
const json = z.record(z.string(), z.unknown());
const vector = z.array(z.number()).min(1).max(limits.vectorDimMax);
const direction = z.enum(['out', 'in', 'both']);
const asOf = z.union([z.number().int().nonnegative(), z.string().min(1)]).describe('a seq, or an ISO-8601 time');

function answer(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: toSnakeJson(value) }] };
}

/** Runs a tool body; a MnemoError (bad input, missing node) becomes a tool error the agent can read, never a crash. */
async function guarded(body: () => unknown): Promise<CallToolResult> {
  try {
    return answer(await body());
  } catch (e) {
    if (!isMnemoError(e)) throw e;
    return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: e.message, code: e.code }) }] };
  }
}

export function createMcpServer(engine: MnemoEngine, version: string): McpServer {
  const server = new McpServer({ name: 'mnemo', version });
  describeTools(server);
  const tool = <S extends z.ZodRawShape>(name: string, description: string, shape: S, run: (args: z.infer<z.ZodObject<S>>) => unknown) =>
    server.registerTool(name, { description, inputSchema: shape }, ((args: z.infer<z.ZodObject<S>>) => guarded(() => run(args))) as never);

  tool('prime_add_node', 'Create a node (an entity the agent remembers); answers its id as node_id and entity_id.', { type: z.string().min(1).max(limits.typeCharsMax), properties: json.optional(), id: id.optional() }, async (a) => {
    const { nodeId } = await engine.addNode({ type: a.type, properties: (a.properties ?? {}) as never, ...(a.id ? { id: a.id } : {}) });
    // Prime's clients read entity_id; both name the same id.
    return { nodeId, entityId: nodeId };
  });
  tool(
    'prime_add_edge',
    'Link two existing nodes with a relation.',
    { source: id, target: id, relation: z.string().min(1).max(limits.relationCharsMax), weight: z.number().finite().optional(), properties: json.optional() },
    async (a) => engine.addEdge({ source: a.source, target: a.target, relation: a.relation, weight: a.weight, properties: a.properties as never }),
  );
  tool(
    'prime_neighbors',
    "A node's neighbours (deduplicated), optionally by relation, direction and depth, paged.",
    { node_id: id, relation: z.string().optional(), direction: direction.optional(), depth: z.number().int().optional(), limit: z.number().int().optional(), offset: z.number().int().optional() },
    (a) => engine.neighbors(a.node_id, { relation: a.relation, direction: a.direction, depth: a.depth, limit: a.limit, offset: a.offset }),
  );
  tool('prime_search', 'Nodes of a domain (type), paged.', { type: z.string().min(1), limit: z.number().int().optional(), offset: z.number().int().optional() }, (a) =>
    engine.search({ type: a.type, limit: a.limit, offset: a.offset }),
  );
  tool('prime_shortest_path', 'Fewest-hop path between two nodes following outgoing edges, or null.', { from: id, to: id, relation: z.string().optional() }, (a) => ({
    path: engine.shortestPath(a.from, a.to, { relation: a.relation }),
  }));
  tool('prime_forget', 'Delete a node, its edges and its vector.', { node_id: id }, async (a) => {
    await engine.deleteNode(a.node_id);
    return { forgotten: a.node_id };
  });
  tool('prime_history', 'Every event that touched an entity, in order.', { entity_id: id }, (a) => ({ events: engine.history(a.entity_id) }));
  tool('prime_stats', 'Live counts, last seq, and index state.', {}, () => engine.stats());
  tool(
    'prime_embed',
    'Store a vector (and optional text) for an id, usually a node id.',
    { id, vector: vector.optional(), text: z.string().optional(), metadata: json.optional() },
    async (a) => {
      await engine.embed({ id: a.id, vector: a.vector, text: a.text, metadata: a.metadata as never });
      return { stored: true, id: a.id };
    },
  );
  registerWordsTools(server, engine);
  tool('prime_as_of', 'A node as it was at a seq or time (time travel).', { node_id: id, as_of: asOf }, (a) => ({ node: engine.getNode(a.node_id, { asOf: a.as_of }) }));
  return server;
}
