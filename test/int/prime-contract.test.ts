// The AllSource Prime contract, in one place. The tables below are written from Prime's own HTTP
// routes and MCP tools (the request each client sends, and every field each answer carries, with
// its JSON type). Each case sends exactly what a Prime client sends, against a real server over
// HTTP and against the real MCP client over stdio and streamable HTTP, and checks every field.
// When Prime changes, this file is where the change shows.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { call, givenServer, type GivenServer } from '../support/http-server.js';

// ---- the expected shapes ----

type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';
/** A field's JSON type (`a|b` for either), a nested object's shape, or `[row]` for an array of rows. A key ending in `?` may be absent. */
type Shape = { [field: string]: `${JsonType}` | `${JsonType}|${JsonType}` | Shape | [Shape] };

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

/** Every field the shape names is there, with its JSON type (mnemo may add fields beside them). */
function expectShape(value: unknown, shape: Shape, where: string): void {
  expect(jsonTypeOf(value), where).toBe('object');
  const object = value as Record<string, unknown>;
  for (const [key, expected] of Object.entries(shape)) {
    const optional = key.endsWith('?');
    const field = optional ? key.slice(0, -1) : key;
    const path = `${where}.${field}`;
    if (optional && !(field in object)) continue;
    expect(object, `${path} is missing`).toHaveProperty([field]);
    const actual = object[field];
    if (typeof expected === 'string') {
      expect(expected.split('|'), `${path} is ${jsonTypeOf(actual)}`).toContain(jsonTypeOf(actual));
    } else if (Array.isArray(expected)) {
      expect(jsonTypeOf(actual), path).toBe('array');
      (actual as unknown[]).forEach((row, i) => expectShape(row, expected[0], `${path}[${i}]`));
    } else {
      expectShape(actual, expected, path);
    }
  }
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Prime's node detail (GET /nodes/{id}). */
const nodeDetail: Shape = { id: 'string', type: 'string', properties: 'object', domain: 'string|null', labels: 'array', created_at: 'string', updated_at: 'string' };
/** Prime's node row in neighbours, subgraph and paths. */
const nodeRow: Shape = { id: 'string', type: 'string', properties: 'object' };
const summaryRow: Shape = { id: 'string', type: 'string', name: 'string|null', at: 'string' };
const historyRow: Shape = { type: 'string', timestamp: 'string', payload: 'object' };
const similarRow: Shape = { id: 'string', score: 'number', text: 'string|null' };
const sync: Shape = { enabled: 'boolean', remote_url: 'string|null', note: 'string' };
const stats: Shape = {
  total_nodes: 'number',
  total_edges: 'number',
  deleted_nodes: 'number',
  deleted_edges: 'number',
  event_count: 'number',
  nodes_by_type: 'object',
  edges_by_relation: 'object',
  sync,
};

// ---- HTTP: Prime's routes ----

const prime = '/api/v1/prime';

interface World {
  ada: string;
  note: string;
  gardening: string;
  edge: string;
  doomed: string;
  doomedEdge: string;
}

interface HttpCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path(w: World): string;
  body?(w: World): unknown;
  status: number;
  shape: Shape;
  then?(json: any, w: World): void;
}

const httpCases: HttpCase[] = [
  { name: 'create a node', method: 'POST', path: () => `${prime}/nodes`, body: () => ({ type: 'person', properties: { name: 'Grace', domain: 'navy' } }), status: 201, shape: { node_id: 'string', entity_id: 'string' } },
  {
    name: 'get a node',
    method: 'GET',
    path: (w) => `${prime}/nodes/${w.ada}`,
    status: 200,
    shape: nodeDetail,
    then: (json) => {
      expect(json.created_at).toMatch(rfc3339);
      expect(json.updated_at).toMatch(rfc3339);
    },
  },
  { name: 'update a node', method: 'PATCH', path: (w) => `${prime}/nodes/${w.ada}`, body: () => ({ properties: { role: 'mathematician' } }), status: 200, shape: { updated: 'boolean' }, then: (json) => expect(json.updated).toBe(true) },
  { name: 'neighbours (Prime sends no parameters)', method: 'GET', path: (w) => `${prime}/nodes/${w.ada}/neighbors`, status: 200, shape: { nodes: [nodeRow] }, then: (json, w) => expect(json.nodes.map((n: { id: string }) => n.id)).toEqual([w.note]) },
  { name: 'subgraph', method: 'GET', path: (w) => `${prime}/nodes/${w.ada}/subgraph`, status: 200, shape: { nodes: [nodeRow], edges: [{ id: 'string', source: 'string', target: 'string', relation: 'string' }] } },
  { name: 'history', method: 'GET', path: (w) => `${prime}/nodes/${w.note}/history`, status: 200, shape: { events: [historyRow] }, then: (json) => expect(json.events[0].timestamp).toMatch(rfc3339) },
  { name: 'create an edge', method: 'POST', path: () => `${prime}/edges`, body: (w) => ({ source: w.gardening, target: w.ada, relation: 'mentions', properties: { since: '2026-01' }, weight: 0.5 }), status: 201, shape: { edge_id: 'string' } },
  { name: 'store a vector', method: 'POST', path: () => `${prime}/vectors`, body: (w) => ({ id: w.ada, vector: [0.2, 0.9, 0.1], text: 'Ada', metadata: { source: 'test' } }), status: 201, shape: { stored: 'boolean', id: 'string' } },
  { name: 'vector search', method: 'POST', path: () => `${prime}/vectors/search`, body: () => ({ vector: [1, 0, 0], top_k: 2 }), status: 200, shape: { results: [similarRow] } },
  { name: 'shortest path', method: 'POST', path: () => `${prime}/shortest-path`, body: (w) => ({ from: w.ada, to: w.note }), status: 200, shape: { path: [nodeRow] } },
  { name: 'no path', method: 'POST', path: () => `${prime}/shortest-path`, body: (w) => ({ from: w.note, to: w.ada, relation: 'wrote' }), status: 200, shape: { path: 'null', message: 'string' } },
  {
    name: 'recall by vector',
    method: 'POST',
    path: () => `${prime}/recall`,
    body: () => ({ vector: [1, 0, 0], depth: 1, top_k: 5 }),
    status: 200,
    shape: { nodes: [{ id: 'string', type: 'string', score: 'number', depth: 'number' }], retrieval: 'string', 'degraded?': 'string' },
    then: (json) => expect(json.retrieval).toBe('semantic'),
  },
  {
    name: 'recall by text, filtered by node_type',
    method: 'POST',
    path: () => `${prime}/recall`,
    body: () => ({ text: 'analytical engine', node_type: 'note', top_k: 5 }),
    status: 200,
    shape: { nodes: [{ id: 'string', type: 'string', score: 'number', depth: 'number' }], retrieval: 'string', degraded: 'string' },
    then: (json) => {
      expect(json.retrieval).toBe('lexical');
      expect(json.nodes.every((n: { type: string }) => n.type === 'note')).toBe(true);
    },
  },
  {
    name: 'recall with only node_type (a type scan)',
    method: 'POST',
    path: () => `${prime}/recall`,
    body: () => ({ node_type: 'note', top_k: 2 }),
    status: 200,
    shape: { nodes: [{ id: 'string', type: 'string', score: 'number', depth: 'number' }], retrieval: 'string', degraded: 'string' },
    then: (json) => {
      expect(json.retrieval).toBe('type_scan');
      expect(json.nodes).toHaveLength(2);
    },
  },
  {
    name: 'recall filtered by tenant_id',
    method: 'POST',
    path: () => `${prime}/recall`,
    body: () => ({ text: 'analytical engine', tenant_id: 'nobody' }),
    status: 200,
    shape: { nodes: 'array', retrieval: 'string' },
    then: (json) => {
      expect(json.nodes).toEqual([]);
      expect(json.retrieval).toBe('empty');
    },
  },
  { name: 'diff without parameters', method: 'GET', path: () => `${prime}/diff`, status: 200, shape: { total_nodes: 'number', total_edges: 'number', event_count: 'number' } },
  { name: 'stats', method: 'GET', path: () => `${prime}/stats`, status: 200, shape: stats },
  {
    name: 'graph',
    method: 'GET',
    path: () => `${prime}/graph`,
    status: 200,
    shape: {
      nodes: [{ id: 'string', node_type: 'string', properties: 'object', has_vector: 'boolean', vector_dim: 'number|null', created_at: 'string', updated_at: 'string' }],
      // Prime's edges also carry created_at; mnemo's edge records keep no time (documented gap).
      edges: [{ source: 'string', target: 'string', relation: 'string', properties: 'object|null', weight: 'number|null' }],
      stats: { node_count: 'number', edge_count: 'number', vector_count: 'number', nodes_by_type: 'object' },
      has_more: 'boolean',
    },
  },
  {
    name: 'graph of one type, limited',
    method: 'GET',
    path: () => `${prime}/graph?node_type=note&limit=1`,
    status: 200,
    shape: { nodes: [{ id: 'string', node_type: 'string' }], edges: 'array', stats: 'object', has_more: 'boolean' },
    then: (json) => {
      expect(json.nodes).toHaveLength(1);
      expect(json.has_more).toBe(true);
    },
  },
  { name: 'delete a vector', method: 'DELETE', path: (w) => `${prime}/vectors/${w.ada}`, status: 200, shape: { deleted: 'boolean' } },
  { name: 'delete an edge', method: 'DELETE', path: (w) => `${prime}/edges/${w.doomedEdge}`, status: 200, shape: { deleted: 'boolean' } },
  { name: 'delete a node', method: 'DELETE', path: (w) => `${prime}/nodes/${w.doomed}`, status: 200, shape: { deleted: 'boolean' } },
  { name: 'health', method: 'GET', path: () => '/health', status: 200, shape: { status: 'string' } },
];

describe('Prime contract over HTTP', () => {
  let given: GivenServer;
  const w = {} as World;

  beforeAll(async () => {
    given = await givenServer();
    const node = async (type: string, properties: object): Promise<string> => (await call(given.url, 'POST', `${prime}/nodes`, { body: { type, properties } })).json.entity_id;
    const edge = async (source: string, target: string, relation: string): Promise<string> => (await call(given.url, 'POST', `${prime}/edges`, { body: { source, target, relation } })).json.edge_id;
    w.ada = await node('person', { name: 'Ada', domain: 'math' });
    w.note = await node('note', { name: 'notes', body: 'analytical engine notes' });
    w.gardening = await node('note', { name: 'gardening', body: 'tomatoes' });
    w.doomed = await node('note', { name: 'doomed' });
    w.edge = await edge(w.ada, w.note, 'wrote');
    w.doomedEdge = await edge(w.doomed, w.note, 'cites');
    await call(given.url, 'POST', `${prime}/vectors`, { body: { id: w.note, vector: [1, 0, 0], text: 'analytical engine' } });
  });

  afterAll(async () => {
    await given?.close();
  });

  for (const c of httpCases) {
    it(`${c.method} ${c.name}: status ${c.status} and every field Prime returns`, async () => {
      const reply = await call(given.url, c.method, c.path(w), c.body === undefined ? {} : { body: c.body(w) });
      expect(reply.status, reply.text).toBe(c.status);
      expectShape(reply.json, c.shape, c.name);
      c.then?.(reply.json, w);
    });
  }

  it('GET graph.html: a page that draws /graph', async () => {
    const reply = await call(given.url, 'GET', `${prime}/graph.html`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/html');
    expect(reply.text).toContain("fetch('graph'");
  });

  it('Prime request names: node_type for type, incoming/outgoing for in/out', async () => {
    const created = await call(given.url, 'POST', `${prime}/nodes`, { body: { node_type: 'concept', properties: { name: 'recursion' } } });
    expect(created.status).toBe(201);
    expect(created.json.entity_id).toMatch(/^node:concept:/);
    const incoming = await call(given.url, 'GET', `${prime}/nodes/${w.note}/neighbors?direction=incoming`);
    expect(incoming.json.nodes.map((n: { id: string }) => n.id)).toContain(w.ada);
    const outgoing = await call(given.url, 'GET', `${prime}/nodes/${w.note}/neighbors?direction=outgoing`);
    expect(outgoing.json.nodes).toEqual([]);
  });

  describe('/mcp as Prime speaks it', () => {
    const post = (body: string): Promise<Response> => fetch(`${given.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('initialize without params answers serverInfo and a protocol version', async () => {
      const reply = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize' }));
      expect(reply.status).toBe(200);
      const json = (await reply.json()) as any;
      expect(typeof json.result.serverInfo.name).toBe('string');
      expect(typeof json.result.protocolVersion).toBe('string');
    });

    it('tools/list and tools/call without a session', async () => {
      const list = (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }))).json()) as any;
      expect(list.result.tools.length).toBeGreaterThan(0);
      const stat = (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'prime_stats', arguments: {} } }))).json()) as any;
      expectShape(JSON.parse(stat.result.content[0].text), stats, 'prime_stats');
    });

    it('a notification is 202 with no body', async () => {
      const reply = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      expect(reply.status).toBe(202);
      expect(await reply.text()).toBe('');
    });

    it('a malformed body is a JSON-RPC parse error (-32700), not an HTTP 400', async () => {
      const reply = await post('not json');
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as any).error.code).toBe(-32700);
    });

    it('GET /mcp is 405', async () => {
      expect((await fetch(`${given.url}/mcp`)).status).toBe(405);
    });
  });
});

// ---- MCP: Prime's tools ----

interface McpCase {
  tool: string;
  args(w: World): Record<string, unknown>;
  shape: Shape;
  then?(json: any, w: World): void;
}

const mcpCases: McpCase[] = [
  { tool: 'prime_add_node', args: () => ({ type: 'person', properties: { name: 'Grace', domain: 'navy' } }), shape: { node_id: 'string', entity_id: 'string' } },
  { tool: 'prime_add_edge', args: (w) => ({ source: w.gardening, target: w.ada, relation: 'mentions', properties: { since: '2026-01' }, weight: 0.5 }), shape: { edge_id: 'string' } },
  {
    tool: 'prime_neighbors',
    args: (w) => ({ node_id: w.note, direction: 'incoming', depth: 1, limit: 50, offset: 0, fields: 'full' }),
    shape: { nodes: [nodeRow], total: 'number' },
    then: (json, w) => expect(json.nodes.map((n: { id: string }) => n.id)).toContain(w.ada),
  },
  { tool: 'prime_neighbors', args: (w) => ({ node_id: w.ada, depth: 2 }), shape: { nodes: [{ ...summaryRow, depth: 'number' }], total: 'number' } },
  {
    // Ada sets properties.domain; Prime lists her by her type all the same.
    tool: 'prime_search',
    args: () => ({ type: 'person' }),
    shape: { nodes: [summaryRow], total: 'number' },
    then: (json, w) => expect(json.nodes.map((n: { id: string }) => n.id)).toContain(w.ada),
  },
  { tool: 'prime_search', args: () => ({ type: 'note', limit: 1, offset: 1, fields: 'full' }), shape: { nodes: [nodeRow], total: 'number', 'next_offset?': 'number' } },
  { tool: 'prime_shortest_path', args: (w) => ({ from: w.ada, to: w.note }), shape: { path: [nodeRow] } },
  { tool: 'prime_shortest_path', args: (w) => ({ from: w.note, to: w.ada, relation: 'wrote' }), shape: { path: 'null', message: 'string' } },
  { tool: 'prime_history', args: (w) => ({ entity_id: w.note }), shape: { events: [historyRow] }, then: (json) => expect(json.events[0].timestamp).toMatch(rfc3339) },
  {
    tool: 'prime_stats',
    args: () => ({}),
    shape: { ...stats, nodes_without_vectors: 'number', recall_coverage: 'string|null' },
  },
  { tool: 'prime_embed', args: (w) => ({ id: w.ada, vector: [0.2, 0.9, 0.1], text: 'Ada', metadata: { source: 'test' } }), shape: { stored: 'boolean', id: 'string' } },
  { tool: 'prime_similar', args: (w) => ({ id: w.note, top_k: 5 }), shape: { results: [similarRow] } },
  {
    tool: 'prime_recall',
    args: () => ({ vector: [1, 0, 0], depth: 1, top_k: 5 }),
    shape: { nodes: [{ ...nodeRow, score: 'number', depth: 'number' }], vectors: [similarRow], edges: 'number', retrieval: 'string', 'degraded?': 'string' },
    then: (json) => expect(json.retrieval).toBe('semantic'),
  },
  {
    tool: 'prime_recall',
    args: () => ({ text: 'analytical engine', node_type: 'note' }),
    shape: { nodes: [{ ...nodeRow, score: 'number', depth: 'number' }], vectors: 'array', edges: 'number', retrieval: 'string', degraded: 'string' },
    then: (json) => expect(json.retrieval).toBe('lexical'),
  },
  {
    tool: 'prime_recall',
    args: () => ({ node_type: 'note' }),
    shape: { nodes: [{ ...nodeRow, score: 'number', depth: 'number' }], retrieval: 'string', degraded: 'string' },
    then: (json) => expect(json.retrieval).toBe('type_scan'),
  },
  { tool: 'prime_forget', args: (w) => ({ node_id: w.doomed }), shape: { deleted: 'boolean' } },
];

type ToolReply = { isError?: boolean; content: Array<{ type: string; text: string }> };

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const reply = (await client.callTool({ name, arguments: args })) as ToolReply;
  expect(reply.isError ?? false, `${name}: ${reply.content[0]?.text}`).toBe(false);
  return JSON.parse(reply.content[0]!.text);
}

const repo = join(import.meta.dirname, '..', '..');

const transports: Array<[string, () => Promise<{ client: Client; close(): Promise<void> }>]> = [
  [
    'stdio',
    async () => {
      // The data dir lives for the whole describe (the per-test temp dirs of support/engine would go after the first test).
      const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-contract-'));
      const client = new Client({ name: 'prime-contract', version: '1.0.0' });
      // Runs the compiled CLI: `npm test` builds dist/ before vitest starts.
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(repo, 'dist/src/cli/main.js'), 'mcp', '--data-dir', dataDir], stderr: 'ignore' }));
      return { client, close: async () => (await client.close(), await rm(dataDir, { recursive: true, force: true })) };
    },
  ],
  [
    'streamable HTTP',
    async () => {
      const given = await givenServer();
      const client = new Client({ name: 'prime-contract', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${given.url}/mcp`)));
      return { client, close: async () => (await client.close(), await given.close()) };
    },
  ],
];

for (const [transport, connect] of transports) {
  describe(`Prime contract over MCP (${transport})`, () => {
    let client: Client;
    let close: () => Promise<void>;
    const w = {} as World;

    beforeAll(async () => {
      ({ client, close } = await connect());
      const node = async (type: string, properties: object): Promise<string> => (await callTool(client, 'prime_add_node', { type, properties })).entity_id;
      w.ada = await node('person', { name: 'Ada', domain: 'math' });
      w.note = await node('note', { name: 'notes', body: 'analytical engine notes' });
      w.gardening = await node('note', { name: 'gardening', body: 'tomatoes' });
      w.doomed = await node('note', { name: 'doomed' });
      w.edge = (await callTool(client, 'prime_add_edge', { source: w.ada, target: w.note, relation: 'wrote' })).edge_id;
      await callTool(client, 'prime_embed', { id: w.note, vector: [1, 0, 0], text: 'analytical engine' });
      await callTool(client, 'prime_embed', { id: w.gardening, vector: [0.7, 0.7, 0] });
    });

    afterAll(async () => {
      await close?.();
    });

    it('lists every Prime memory tool, each parameter described', async () => {
      const tools = (await client.listTools()).tools;
      const names = tools.map((t) => t.name);
      for (const name of new Set(mcpCases.map((c) => c.tool))) expect(names).toContain(name);
      for (const tool of tools) {
        for (const [parameter, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
          expect((schema as { description?: string }).description, `${tool.name}.${parameter}`).toEqual(expect.any(String));
        }
      }
    });

    for (const c of mcpCases) {
      it(`${c.tool} ${JSON.stringify(Object.keys(c.args(w)))}: every field Prime returns`, async () => {
        const json = await callTool(client, c.tool, c.args(w));
        expectShape(json, c.shape, c.tool);
        c.then?.(json, w);
      });
    }

    it('an unknown argument is an error naming it, with the message HTTP gives', async () => {
      const reply = (await client.callTool({ name: 'prime_add_node', arguments: { type: 'person', name: 'Ada' } })) as ToolReply;
      expect(reply.isError).toBe(true);
      expect(JSON.parse(reply.content[0]!.text)).toEqual({ error: expect.stringMatching(/^name: unknown field; expected type, node_type, properties, id/), code: 'VALIDATION_FAILED' });
    });
  });
}
