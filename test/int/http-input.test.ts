// Input is never silently dropped, and errors name the route's own fields: unknown body fields and
// query parameters are refused by name, a batch naming a missing node is bad input (400), and MCP
// gives the same message as HTTP for the same mistake (one set of schemas serves both).

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { call, givenServer, type GivenServer } from '../support/http-server.js';

const prime = '/api/v1/prime';
let given: GivenServer;
let ada: string;

beforeAll(async () => {
  given = await givenServer();
  ada = (await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'person', properties: { name: 'Ada' } } })).json.node_id;
});

afterAll(async () => {
  await given.close();
});

describe('unknown fields and parameters', () => {
  it('given {type, name}, when POST /nodes, then 400 naming name (it belongs in properties), and nothing is written', async () => {
    const before = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'person', name: 'Ada' } });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error: "name: unknown field; expected type, node_type, properties, id; a node's or edge's own data goes in 'properties'",
      code: 'VALIDATION_FAILED',
    });
    expect((await call(given.url, 'GET', `${prime}/stats`)).json.last_seq).toBe(before);
  });

  const cases: Array<[string, string, unknown, RegExp]> = [
    ['a misspelt body field', `${prime}/recall`, { text: 'ada', topK: 3 }, /^topK: unknown field; expected text, vector, type, node_type/],
    ['two unknown fields', `${prime}/edges`, { source: 'a', target: 'b', relation: 'r', weigth: 1, colour: 'red' }, /^weigth, colour: unknown fields; expected source, target/],
    ['an unknown field beside events', '/api/v1/events', { events: [], extra: true }, /^extra: unknown field; expected events$/],
  ];
  for (const [name, path, body, message] of cases) {
    it(`given ${name}, then 400 naming it`, async () => {
      const reply = await call(given.url, 'POST', path, { body });
      expect(reply.status).toBe(400);
      expect(reply.json.error).toMatch(message);
    });
  }

  it('given ?limt=, then 400 naming the query parameter', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/${ada}/neighbors?limt=5`);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^limt: unknown query parameter; expected relation, direction, depth, limit, offset, as_of, deadline_ms$/);
  });

  it('given a query parameter on a route that takes none, then 400', async () => {
    const reply = await call(given.url, 'GET', `${prime}/stats?verbose=1`);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^verbose: unknown query parameter; expected none$/);
  });

  it("given Prime's fields (node_type, tenant_id), then they are accepted, not refused", async () => {
    expect((await call(given.url, 'POST', `${prime}/recall`, { body: { text: 'ada', node_type: 'person', tenant_id: 't1', top_k: 3 } })).status).toBe(200);
    expect((await call(given.url, 'GET', `${prime}/graph?node_type=person&limit=5&tenant_id=t1`)).status).toBe(200);
  });
});

describe("errors name the route's own fields", () => {
  it('given a bad type, when POST /nodes, then the error names type, not events[0].payload.type', async () => {
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'Person!' } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^type: /);
  });

  it('given properties too deep, when POST /nodes, then the error names properties', async () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 18; i++) deep = { d: deep };
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'x', properties: deep } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^properties/);
  });

  it('given a missing node, when PATCH or DELETE it by path, then 404 with no field', async () => {
    const patch = await call(given.url, 'PATCH', `${prime}/nodes/node:x:none`, { body: { properties: { a: 1 } } });
    expect(patch.status).toBe(404);
    expect(patch.json).toEqual({ error: "node 'node:x:none' does not exist", code: 'NODE_NOT_FOUND' });
  });

  it('given a batch whose second event links to a missing node, then 400 naming events[1].payload.target and nothing is written', async () => {
    const before = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    const reply = await call(given.url, 'POST', '/api/v1/events', {
      body: [
        { type: 'prime.node.created', payload: { id: 'node:batch:one', type: 'batch' } },
        { type: 'prime.edge.created', payload: { source: 'node:batch:one', target: 'node:batch:nobody', relation: 'r' } },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: "events[1].payload.target: node 'node:batch:nobody' does not exist", code: 'NODE_NOT_FOUND' });
    expect((await call(given.url, 'GET', `${prime}/stats`)).json.last_seq).toBe(before);
  });

  it('given a data dir whose vectors have 3 dimensions, when a 2-dim vector arrives, then the message says the dimension is fixed and what to do', async () => {
    expect((await call(given.url, 'POST', `${prime}/vectors`, { body: { id: ada, vector: [1, 0, 0] } })).status).toBe(201);
    const reply = await call(given.url, 'POST', `${prime}/vectors`, { body: { id: ada, vector: [1, 0] } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^vector: expected 3 dimensions, got 2: a data dir's vector dimension is fixed by its first vector .*start a new data dir \(--data-dir\)/);
    const search = await call(given.url, 'POST', `${prime}/vectors/search`, { body: { vector: [1, 0] } });
    expect(search.json.error).toMatch(/^vector: expected 3 dimensions, got 2: /);
  });
});

describe('one message for HTTP and MCP', () => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: 'mnemo-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${given.url}/mcp`)));
  });

  afterAll(async () => {
    await client?.close();
  });

  const pairs: Array<[string, string, Record<string, unknown>, string, Record<string, unknown>]> = [
    ['an unknown field', `${prime}/nodes`, { type: 'person', name: 'Ada' }, 'prime_add_node', { type: 'person', name: 'Ada' }],
    ['a wrong type', `${prime}/edges`, { source: 'a', target: 'b', relation: 'r', weight: 'heavy' }, 'prime_add_edge', { source: 'a', target: 'b', relation: 'r', weight: 'heavy' }],
    ['top_k out of range', `${prime}/recall`, { text: 'x', top_k: 0 }, 'prime_recall', { text: 'x', top_k: 0 }],
    ['an edge to a missing node', `${prime}/edges`, { source: 'SELF', target: 'node:x:gone', relation: 'r' }, 'prime_add_edge', { source: 'SELF', target: 'node:x:gone', relation: 'r' }],
  ];
  for (const [name, path, body, tool, args] of pairs) {
    it(`given ${name}, then HTTP and MCP say the same`, async () => {
      const fill = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === 'SELF' ? ada : v]));
      const http = await call(given.url, 'POST', path, { body: fill(body) });
      expect(http.status).toBe(400);
      const mcp = (await client.callTool({ name: tool, arguments: fill(args) })) as { isError?: boolean; content: Array<{ text: string }> };
      expect(mcp.isError).toBe(true);
      expect(JSON.parse(mcp.content[0]!.text)).toEqual(http.json);
    });
  }
});
