// Bad input over HTTP: every case is a 4xx naming what was wrong, never a 500, and the
// server keeps serving afterwards.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { rawExchange, rawHangUp } from '../support/http-raw.js';

const prime = '/api/v1/prime';
let given: GivenServer;
let nodeId: string;

beforeAll(async () => {
  given = await givenServer();
  nodeId = (await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'person' } })).json.node_id;
});

afterAll(async () => {
  await given.close();
});

describe('query parameters', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['limit=abc', 'limit', /^limit: expected an integer 1\.\.500, got 'abc'$/],
    ['limit=0', 'limit', /expected an integer 1\.\.500, got '0'/],
    ['limit=501', 'limit', /got '501'/],
    ['limit=99999999999999999999', 'limit', /expected an integer/],
    ['offset=-1', 'offset', /^offset: expected an integer 0\.\./],
    ['depth=9', 'depth', /^depth: expected an integer 1\.\.8/],
    ['direction=sideways', 'direction', /^direction: expected 'out', 'in' or 'both', got 'sideways'$/],
    ['as_of=yesterday', 'as_of', /^as_of: expected a seq or an ISO-8601 time, got 'yesterday'$/],
  ];
  for (const [query, field, message] of cases) {
    it(`when neighbors?${query}, then 400 naming ${field}`, async () => {
      const reply = await call(given.url, 'GET', `${prime}/nodes/${nodeId}/neighbors?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.json.code).toBe('VALIDATION_FAILED');
      expect(reply.json.error).toMatch(message);
    });
  }

  it('when search has no type, then 400 naming type', async () => {
    const reply = await call(given.url, 'GET', `${prime}/search`);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^type: /);
  });

  it('when a path parameter has broken percent-encoding, then 400', async () => {
    const reply = await call(given.url, 'GET', `${prime}/nodes/%E0%A4%A`);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^id: invalid percent-encoding/);
  });
});

describe('bodies', () => {
  it('when the JSON is malformed, then 400 saying so', async () => {
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { rawBody: '{"type": "person",' });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^body: is not valid JSON/);
  });

  it('when the body is not UTF-8, then 400 saying so', async () => {
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { rawBody: Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('body: is not valid UTF-8');
  });

  it('when the body is UTF-8 with a byte-order mark, then the mark is skipped and the body read', async () => {
    const json = Buffer.from(JSON.stringify({ type: 'person', properties: { name: 'Zoë' } }));
    const reply = await call(given.url, 'POST', `${prime}/nodes`, { rawBody: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]) });
    expect(reply.status).toBe(201);
    const node = await call(given.url, 'GET', `${prime}/nodes/${encodeURIComponent(reply.json.node_id as string)}`);
    expect(node.json.properties).toEqual({ name: 'Zoë' });
  });

  it('when the body is missing or not an object, then 400', async () => {
    for (const rawBody of ['', '[]', '42', 'null']) {
      const reply = await call(given.url, 'POST', `${prime}/nodes`, { rawBody });
      expect(reply.status).toBe(400);
      expect(reply.json.error).toMatch(/^body: expected a JSON object/);
    }
  });

  const wrongTypes: Array<[string, unknown, RegExp]> = [
    [`${prime}/nodes`, { type: 5 }, /^type: expected a non-empty string, got number 5$/],
    [`${prime}/nodes`, { type: 'person', properties: [] }, /^properties: expected an object, got an array$/],
    [`${prime}/edges`, { source: 'a', target: 'b' }, /^relation: expected a non-empty string, got nothing$/],
    [`${prime}/edges`, { source: 'a', target: 'b', relation: 'r', weight: 'heavy' }, /^weight: expected a finite number/],
    [`${prime}/vectors`, { id: 'x', vector: [1, 'two'] }, /^vector\[1\]: expected a finite number/],
    [`${prime}/vectors/search`, { vector: [1, 0, 0], top_k: 0 }, /^top_k: expected an integer 1\.\.1000, got number 0$/],
    [`${prime}/vectors/search`, { vector: [1, 'two', 0] }, /^vector\[1\]: expected a finite number, got string 'two'$/],
    [`${prime}/vectors/search`, { vector: [1, null, 0] }, /^vector\[1\]: expected a finite number, got null$/],
    [`${prime}/vectors/search`, { vector: [] }, /^vector: expected a non-empty array of numbers, got an empty one$/],
    [`${prime}/vectors/search`, { vector: 'near ada' }, /^vector: expected a non-empty array of numbers, got string 'near ada'$/],
    [`${prime}/vectors/search`, { vector: new Array(4097).fill(0) }, /^vector: has 4097 dimensions; the limit is 4096$/],
    [`${prime}/vectors/search`, { top_k: 3 }, /^vector: give exactly one of 'vector', 'id' or 'text'$/],
    [`${prime}/recall`, { top_k: 3 }, /^vector: give 'vector' or 'text'/],
    [`${prime}/shortest-path`, { from: 'a' }, /^to: expected a non-empty string, got nothing$/],
    ['/api/v1/events', { nope: true }, /^body: expected an array of events/],
  ];
  for (const [path, body, message] of wrongTypes) {
    it(`when POST ${path} with ${JSON.stringify(body)}, then 400 naming the field`, async () => {
      const reply = await call(given.url, 'POST', path, { body });
      expect(reply.status).toBe(400);
      expect(reply.json.error).toMatch(message);
    });
  }

  it('when a search vector holds 1e999 (JSON for Infinity), then 400 naming the component', async () => {
    const reply = await call(given.url, 'POST', `${prime}/vectors/search`, { rawBody: '{"vector": [0.5, 1e999, 0]}' });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('vector[1]: expected a finite number, got number Infinity');
  });

  it('when an edge names a node that does not exist, then 400 naming the field and the node', async () => {
    const reply = await call(given.url, 'POST', `${prime}/edges`, { body: { source: nodeId, target: 'node:ghost:1', relation: 'haunts' } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe("target: node 'node:ghost:1' does not exist");
  });

  it('when the msgpack is malformed, then 400 saying so', async () => {
    const reply = await call(given.url, 'POST', '/api/v1/events', { rawBody: Uint8Array.from([0x92, 0xc1, 0xdd]), headers: { 'content-type': 'application/msgpack' } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^body: is not valid msgpack/);
  });

  it('when JSON nests deeper than the limit, then 400 before it reaches the engine', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const reply = await call(given.url, 'POST', '/api/v1/events', { rawBody: deep });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/^body: nested deeper than/);
  });
});

describe('size caps', () => {
  it('given a Content-Length over 1 MiB on /nodes and a client that stops sending, then 413 once it goes quiet', async () => {
    const reply = await rawExchange(given.server.port, `POST ${prime}/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n{"type":`);
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).code).toBe('BODY_TOO_LARGE');
  });

  it('given a chunked body that grows past 1 MiB, then 413', async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 6; i++) yield chunk;
    };
    const response = await fetch(`${given.url}${prime}/nodes`, { method: 'POST', body: ReadableStream.from(chunks()), duplex: 'half' } as RequestInit).catch(() => null);
    // The server drains the rest of the body before it answers 413 and closes, so fetch reads the answer.
    expect(response?.status).toBe(413);
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
  });

  it('given 2 MiB of events (under the 16 MiB events cap), then the events route reads it all', async () => {
    const events = Array.from({ length: 2000 }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:bulk:${i}`, type: 'bulk', properties: { pad: 'x'.repeat(1000) } } }));
    const reply = await call(given.url, 'POST', '/api/v1/events', { body: events });
    expect(reply.status).toBe(200);
    expect(reply.json.last_seq - reply.json.first_seq).toBe(1999);
  });

  it('given a Content-Length over 16 MiB on /events, then 413', async () => {
    const reply = await rawExchange(given.server.port, `POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${17 * 1024 * 1024}\r\n\r\n[`);
    expect(reply.status).toBe(413);
  });
});

describe('routes and clients', () => {
  it('when the route is unknown, then 404 JSON naming method and path', async () => {
    const reply = await call(given.url, 'PUT', '/api/v1/prime/teapot');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ error: 'no route for PUT /api/v1/prime/teapot', code: 'ROUTE_NOT_FOUND' });
  });

  it('given clients that hang up mid-body or right after a write, then the server carries on', async () => {
    for (let i = 0; i < 20; i++) {
      await rawHangUp(given.server.port, `POST ${prime}/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"type":"pe`);
      await rawHangUp(given.server.port, `POST ${prime}/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 17\r\n\r\n{"type":"hangup"}`);
    }
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
    await expect.poll(() => given.server.inFlight).toBe(0);
  });

  it('given a rate limit, when a client exceeds it, then 429 with Retry-After', async () => {
    const limited = await givenServer({ rateLimit: { perSecond: 1, burst: 3, exemptLoopback: false } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(limited.url, 'GET', `${prime}/stats`)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses[4]).toBe(429);
      const reply = await call(limited.url, 'GET', `${prime}/stats`);
      expect(reply.json.code).toBe('RATE_LIMITED');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }
  });
});
