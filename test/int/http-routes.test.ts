// Route by route over a real server on an ephemeral loopback port: every shape and status
// code docs/http.md promises, in snake_case.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { call, givenServer, type GivenServer } from '../support/http-server.js';

const prime = '/api/v1/prime';
let given: GivenServer;

beforeAll(async () => {
  given = await givenServer();
});

afterAll(async () => {
  await given.close();
});

async function givenNode(type: string, properties: Record<string, unknown> = {}, id?: string): Promise<string> {
  const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type, properties, ...(id ? { id } : {}) } });
  expect(reply.status).toBe(201);
  return reply.json.node_id as string;
}

async function givenEdge(source: string, target: string, relation: string): Promise<string> {
  const reply = await call(given.url, 'POST', `${prime}/edges`, { body: { source, target, relation } });
  expect(reply.status).toBe(201);
  return reply.json.edge_id as string;
}

describe('health, metrics and timing', () => {
  it('given a running server, when GET /health, then 200 {status: ok} with a Server-Timing header', async () => {
    const reply = await call(given.url, 'GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'ok' });
    expect(reply.headers.get('server-timing')).toMatch(/^parse;dur=[\d.]+, query;dur=[\d.]+, serialize;dur=[\d.]+$/);
  });

  it('given any response, even an error, then it carries Server-Timing', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/node:x:missing`);
    expect(reply.status).toBe(404);
    expect(reply.headers.get('server-timing')).toContain('query;dur=');
  });

  it('when GET /metrics, then Prometheus text with counts and per-operation latency', async () => {
    await givenNode('metric');
    const reply = await call(given.url, 'GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/plain');
    expect(reply.text).toMatch(/^mnemo_total_nodes \d+$/m);
    expect(reply.text).toMatch(/^mnemo_nodes_by_type\{type="metric"\} 1$/m);
    expect(reply.text).toMatch(/^mnemo_http_request_duration_seconds_count\{operation="nodes.create"\} \d+$/m);
  });
});

describe('nodes', () => {
  it('when POST /nodes, then 201 {node_id, entity_id} and GET returns the node in snake_case, properties untouched', async () => {
    const id = await givenNode('person', { name: 'Ada', firstName: 'Ada' });
    expect(id).toMatch(/^node:person:[0-9a-f-]{36}$/);
    const reply = await call(given.url, 'GET', `${prime}/nodes/${encodeURIComponent(id)}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id, type: 'person', domain: 'person', properties: { name: 'Ada', firstName: 'Ada' }, version: expect.any(Number) });
    // Prime's times are RFC 3339 strings; mnemo's epoch ms stand beside them.
    expect(reply.json.created_at).toEqual(new Date(reply.json.created_at_ms).toISOString());
    expect(reply.json.updated_at).toEqual(new Date(reply.json.updated_at_ms).toISOString());
    expect(reply.json.labels).toEqual([]);
  });

  it('given a node id chosen by the caller, then entity_id equals node_id', async () => {
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'person', id: 'node:person:grace' } });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({ node_id: 'node:person:grace', entity_id: 'node:person:grace' });
  });

  it('given an existing id, when POST /nodes again with it, then 409', async () => {
    await givenNode('dup', {}, 'node:dup:one');
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'dup', id: 'node:dup:one' } });
    expect(reply.status).toBe(409);
    expect(reply.json.code).toBe('ALREADY_EXISTS');
  });

  it('when PATCH /nodes/:id, then properties merge shallowly, null removes a key, and the node comes back', async () => {
    const id = await givenNode('person', { name: 'Alan', city: 'London' });
    const reply = await call(given.url, 'PATCH', `${prime}/nodes/${id}`, { body: { properties: { city: null, field: 'computing' } } });
    expect(reply.status).toBe(200);
    expect(reply.json.properties).toEqual({ name: 'Alan', field: 'computing' });
  });

  it('when DELETE /nodes/:id, then 200 and the node is gone (404), with its edges', async () => {
    const a = await givenNode('temp');
    const b = await givenNode('temp');
    const edge = await givenEdge(a, b, 'links');
    const reply = await call(given.url, 'DELETE', `${prime}/nodes/${a}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ deleted: true, id: a });
    expect((await call(given.url, 'GET', `${prime}/nodes/${a}`)).status).toBe(404);
    expect((await call(given.url, 'DELETE', `${prime}/edges/${edge}`)).status).toBe(404);
  });

  it('when GET or DELETE a node that does not exist, then 404 {error, code}', async () => {
    for (const method of ['GET', 'DELETE']) {
      const reply = await call(given.url, method, `${prime}/nodes/node:nobody:here`);
      expect(reply.status).toBe(404);
      expect(reply.json).toEqual({ error: expect.stringContaining('node:nobody:here'), code: 'NODE_NOT_FOUND' });
    }
  });
});

describe('neighbors and paging', () => {
  let hub: string;
  const spokes: string[] = [];

  beforeAll(async () => {
    hub = await givenNode('hub');
    for (let i = 0; i < 5; i++) {
      const spoke = await givenNode('spoke', { i });
      spokes.push(spoke);
      await givenEdge(hub, spoke, i % 2 === 0 ? 'even' : 'odd');
    }
    const far = await givenNode('far');
    await givenEdge(spokes[0]!, far, 'even');
  });

  it('when GET neighbors with limit, then {nodes, total, returned, offset, next_offset} pages through all of them', async () => {
    const first = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?limit=2`);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ total: 5, returned: 2, offset: 0, next_offset: 2 });
    const last = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?limit=2&offset=4`);
    expect(last.json).toMatchObject({ total: 5, returned: 1, offset: 4 });
    expect(last.json.next_offset).toBeUndefined();
    const seen = new Set<string>();
    for (let offset = 0; offset < 5; offset += 2) {
      const page = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?limit=2&offset=${offset}`);
      for (const node of page.json.nodes) seen.add(node.id);
    }
    expect([...seen].sort()).toEqual([...spokes].sort());
  });

  it('when filtered by relation and direction, then only matching neighbours', async () => {
    const even = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?relation=even`);
    expect(even.json.total).toBe(3);
    const incoming = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?direction=in`);
    expect(incoming.json.total).toBe(0);
    const back = await call(given.url, 'GET', `${prime}/nodes/${spokes[1]}/neighbors?direction=in`);
    expect(back.json.nodes.map((n: { id: string }) => n.id)).toEqual([hub]);
  });

  it('when depth=2, then nodes two hops away come with their depth', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/${hub}/neighbors?depth=2&direction=out`);
    expect(reply.json.total).toBe(6);
    const far = reply.json.nodes.find((n: { type: string }) => n.type === 'far');
    expect(far.depth).toBe(2);
  });

  it('when GET subgraph, then the nodes and edges around the node', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/${hub}/subgraph?depth=1`);
    expect(reply.status).toBe(200);
    expect(reply.json.nodes.length).toBeGreaterThanOrEqual(6);
    expect(reply.json.edges.length).toBeGreaterThanOrEqual(5);
  });

  it('when GET search?type, then a page of that domain', async () => {
    const reply = await call(given.url, 'GET', `${prime}/search?type=spoke&limit=3`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ total: 5, returned: 3, offset: 0, next_offset: 3 });
  });

  it('when GET cross-domain?a&b, then the edges between the two domains', async () => {
    const reply = await call(given.url, 'GET', `${prime}/cross-domain?a=hub&b=spoke`);
    expect(reply.status).toBe(200);
    expect(reply.json.total).toBe(5);
    expect(reply.json.edges[0]).toEqual({ id: expect.any(String), source: hub, target: expect.any(String), relation: expect.any(String) });
  });

  it('when POST shortest-path, then the nodes from → to inclusive', async () => {
    const far = (await call(given.url, 'GET', `${prime}/search?type=far`)).json.nodes[0].id;
    const reply = await call(given.url, 'POST', `${prime}/shortest-path`, { body: { from: hub, to: far } });
    expect(reply.status).toBe(200);
    expect(reply.json.found).toBe(true);
    expect(reply.json.path.map((n: { id: string }) => n.id)).toEqual([hub, spokes[0], far]);
    expect(reply.json.hops).toBe(2);
    const none = await call(given.url, 'POST', `${prime}/shortest-path`, { body: { from: far, to: hub } });
    expect(none.json).toEqual({ found: false, path: null, hops: null, message: 'No path found' });
  });

  it('when GET history, then {events: [{seq, ts, timestamp, type, payload}]} for the node and its edges', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/${spokes[1]}/history`);
    expect(reply.status).toBe(200);
    expect(reply.json.events.map((e: { type: string }) => e.type)).toEqual(['prime.node.created', 'prime.edge.created']);
    expect(Object.keys(reply.json.events[0]).sort()).toEqual(['payload', 'seq', 'timestamp', 'ts', 'type']);
    expect(reply.json.events[0].timestamp).toBe(new Date(reply.json.events[0].ts).toISOString());
  });
});

describe('vectors and recall', () => {
  it('when POST /vectors, then 201 {stored, id}; search finds it by vector and by id; DELETE removes it', async () => {
    const a = await givenNode('doc', { title: 'a' });
    const b = await givenNode('doc', { title: 'b' });
    const stored = await call(given.url, 'POST', `${prime}/vectors`, { body: { id: a, vector: [1, 0, 0], text: 'alpha' } });
    expect(stored.status).toBe(201);
    expect(stored.json).toEqual({ stored: true, id: a });
    await call(given.url, 'POST', `${prime}/vectors`, { body: { id: b, vector: [0.9, 0.1, 0], text: 'beta' } });
    await given.engine.whenIndexed();

    const byVector = await call(given.url, 'POST', `${prime}/vectors/search`, { body: { vector: [1, 0, 0], top_k: 2 } });
    expect(byVector.status).toBe(200);
    expect(byVector.json.results[0]).toEqual({ id: a, score: expect.closeTo(1, 5), text: 'alpha' });
    expect(byVector.json.results).toHaveLength(2);

    const byId = await call(given.url, 'POST', `${prime}/vectors/search`, { body: { id: a, top_k: 1 } });
    expect(byId.json.results.map((r: { id: string }) => r.id)).toEqual([b]);

    const recall = await call(given.url, 'POST', `${prime}/recall`, { body: { vector: [1, 0, 0], top_k: 2 } });
    expect(recall.status).toBe(200);
    expect(recall.json.results[0]).toMatchObject({ id: a, depth: 0, components: { similarity: expect.any(Number), proximity: 1, recency: expect.any(Number) } });
    expect(recall.json.results[0].node.id).toBe(a);

    expect((await call(given.url, 'DELETE', `${prime}/vectors/${b}`)).status).toBe(200);
    expect((await call(given.url, 'DELETE', `${prime}/vectors/${b}`)).status).toBe(404);
  });
});

describe('events', () => {
  it('when POST /api/v1/events with a JSON array, then {first_seq, last_seq} and the events applied', async () => {
    const reply = await call(given.url, 'POST', '/api/v1/events', {
      body: [
        { type: 'prime.node.created', payload: { id: 'node:ev:1', type: 'ev', properties: {} } },
        { type: 'prime.node.created', payload: { id: 'node:ev:2', type: 'ev', properties: {} } },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.json.last_seq - reply.json.first_seq).toBe(1);
    expect((await call(given.url, 'GET', `${prime}/nodes/node:ev:2`)).status).toBe(200);
  });

  it('when POST /api/v1/events with {events: [...]}, then accepted too', async () => {
    const reply = await call(given.url, 'POST', '/api/v1/events', { body: { events: [{ type: 'prime.node.created', payload: { id: 'node:ev:3', type: 'ev', properties: {} } }] } });
    expect(reply.status).toBe(200);
    expect(reply.json.first_seq).toBe(reply.json.last_seq);
  });

  it('when POST /api/v1/events as application/msgpack, then accepted', async () => {
    const packr = new Packr({ useRecords: false });
    const body = packr.pack([{ type: 'prime.node.created', payload: { id: 'node:ev:mp', type: 'ev', properties: { n: 1 } } }]);
    const reply = await call(given.url, 'POST', '/api/v1/events', { rawBody: body, headers: { 'content-type': 'application/msgpack' } });
    expect(reply.status).toBe(200);
    expect((await call(given.url, 'GET', `${prime}/nodes/node:ev:mp`)).json.properties).toEqual({ n: 1 });
  });

  it('given an invalid event in a batch, then 400 naming it and nothing is written', async () => {
    const before = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    const reply = await call(given.url, 'POST', '/api/v1/events', {
      body: [
        { type: 'prime.node.created', payload: { id: 'node:ev:ok', type: 'ev', properties: {} } },
        { type: 'prime.node.exploded', payload: { id: 'node:ev:bad' } },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toContain('prime.node.exploded');
    expect((await call(given.url, 'GET', `${prime}/stats`)).json.last_seq).toBe(before);
  });
});

describe('stats', () => {
  it('when GET /stats, then counts, last seq, WAL, memory, uptime and per-operation latency in µs', async () => {
    await givenNode('statistic');
    const reply = await call(given.url, 'GET', `${prime}/stats`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      total_nodes: expect.any(Number),
      total_edges: expect.any(Number),
      total_vectors: expect.any(Number),
      event_count: expect.any(Number),
      last_seq: expect.any(Number),
      nodes_by_type: expect.objectContaining({ statistic: 1 }),
      edges_by_relation: expect.any(Object),
      wal: expect.any(Object),
      memory: { rss_bytes: expect.any(Number), heap_used_bytes: expect.any(Number) },
      uptime_s: expect.any(Number),
    });
    const create = reply.json.latency_us['nodes.create'];
    expect(create.count).toBeGreaterThan(0);
    expect(create.p50).toBeGreaterThan(0);
    expect(create.p99).toBeGreaterThanOrEqual(create.p95);
    expect(create.p95).toBeGreaterThanOrEqual(create.p50);
  });

  it('given durability fsync, when nodes are written, then wal_fsync_ms times their fdatasyncs over the window since the previous stats read', async () => {
    const durable = await givenServer({ durability: 'fsync' });
    try {
      await call(durable.url, 'GET', `${prime}/stats`); // opens a fresh window
      for (let i = 0; i < 3; i++) expect((await call(durable.url, 'POST', `${prime}/nodes`, { body: { type: 'synced' } })).status).toBe(201);
      const window = (await call(durable.url, 'GET', `${prime}/stats`)).json.wal_fsync_ms;
      expect(window.count).toBeGreaterThanOrEqual(3);
      expect(window.p50).toBeGreaterThan(0);
      expect(window.max).toBeGreaterThanOrEqual(window.p99);
      expect((await call(durable.url, 'GET', `${prime}/stats`)).json.wal_fsync_ms).toEqual({ p50: 0, p99: 0, max: 0, count: 0 });
    } finally {
      await durable.close();
    }
  });
});

describe('time travel', () => {
  it('given a node updated after seq N, when GET with as_of=N, then the node as it was', async () => {
    const id = await givenNode('traveller', { place: 'home' });
    const seq = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    await call(given.url, 'PATCH', `${prime}/nodes/${id}`, { body: { properties: { place: 'away' } } });
    const past = await call(given.url, 'GET', `${prime}/nodes/${id}?as_of=${seq}`);
    expect(past.status).toBe(200);
    expect(past.json.properties).toEqual({ place: 'home' });
    expect((await call(given.url, 'GET', `${prime}/nodes/${id}`)).json.properties).toEqual({ place: 'away' });
  });

  it('given an edge added after seq N, when neighbors with as_of=N, then it is not there', async () => {
    const a = await givenNode('traveller');
    const b = await givenNode('traveller');
    const seq = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    await givenEdge(a, b, 'later');
    const past = await call(given.url, 'GET', `${prime}/nodes/${a}/neighbors?as_of=${seq}`);
    expect(past.status).toBe(200);
    expect(past.json.total).toBe(0);
  });

  it('when GET /diff?from&to, then 200 with what changed between the two points', async () => {
    const seq = (await call(given.url, 'GET', `${prime}/stats`)).json.last_seq;
    await givenNode('diffed');
    const reply = await call(given.url, 'GET', `${prime}/diff?from=${seq}&to=${seq + 1}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toBeTypeOf('object');
  });
});
