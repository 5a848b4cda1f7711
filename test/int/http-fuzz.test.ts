// Seeded fuzzing over loopback: ≥ 10,000 malformed requests (bad JSON, bad msgpack, deep
// nesting, huge numbers, bad UTF-8, wrong types, bad query strings, bad events, lying
// Content-Length). Every one is invalid by construction, so every answer must be a 4xx:
// no 5xx, the process alive, /health still 200.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { RawConnection, rawExchange } from '../support/http-raw.js';
import { seededRandom } from '../../bench/support/random.js';

const seed = 0x6d6e656d; // 'mnem'
/** 10,000 in CI; MNEMO_FUZZ_REQUESTS=100000 for the long run. */
const requestsTotal = Number(process.env.MNEMO_FUZZ_REQUESTS ?? 10_000);
const connections = 8;
const lyingRequests = 200;
const shedRetriesMax = 50;
const prime = '/api/v1/prime';


interface Malformed {
  kind: string;
  method: string;
  path: string;
  contentType?: string;
  body?: Uint8Array;
}

const packr = new Packr({ useRecords: false });
const jsonRoutes = [`${prime}/nodes`, `${prime}/edges`, `${prime}/vectors`, `${prime}/vectors/search`, `${prime}/recall`, `${prime}/shortest-path`, '/api/v1/events'];
const validBodies: Record<string, unknown> = {
  [`${prime}/nodes`]: { type: 'fuzz', properties: { a: 1, b: 'two', c: [1, 2, { d: null }] } },
  [`${prime}/edges`]: { source: 'node:fuzz:a', target: 'node:fuzz:b', relation: 'r', weight: 0.5 },
  [`${prime}/vectors`]: { id: 'node:fuzz:a', vector: [0.1, 0.2, 0.3], text: 'héllo' },
  [`${prime}/vectors/search`]: { vector: [0.1, 0.2, 0.3], top_k: 3 },
  [`${prime}/recall`]: { text: 'hello', top_k: 3 },
  [`${prime}/shortest-path`]: { from: 'node:fuzz:a', to: 'node:fuzz:b' },
  '/api/v1/events': [{ type: 'prime.node.created', payload: { id: 'node:fuzz:x', type: 'fuzz', properties: {} } }],
};
/** Required string fields per route: a wrong type in any of them is a 400. */
const requiredStrings: Record<string, string[]> = {
  [`${prime}/nodes`]: ['type'],
  [`${prime}/edges`]: ['source', 'target', 'relation'],
  [`${prime}/vectors`]: ['id'],
  [`${prime}/shortest-path`]: ['from', 'to'],
};
const wrongValues: unknown[] = [0, -1, 1e308, true, false, null, [], ['x'], {}, { id: 'x' }, ''];
const badQueries = [
  'limit=abc', 'limit=0', 'limit=-5', 'limit=1e999', 'limit=99999999999999999999', 'limit=1.5', 'offset=-1', 'offset=x',
  'depth=0', 'depth=99', 'depth=%00', 'direction=up', 'direction=', 'as_of=never', 'as_of=2024-13-45T99:99', 'as_of=-3',
];

function generator(random: () => number): () => Malformed {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number): number => Math.floor(random() * max);
  const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');
  const kinds: Array<() => Malformed> = [
    // A strict prefix of a JSON object or array is never valid JSON.
    () => {
      const path = pick(jsonRoutes);
      const full = JSON.stringify(validBodies[path]);
      return { kind: 'truncated-json', method: 'POST', path, contentType: 'application/json', body: text(full.slice(0, 1 + int(full.length - 1))) };
    },
    () => {
      const path = pick(jsonRoutes);
      const noise = Array.from({ length: 1 + int(64) }, () => String.fromCharCode(33 + int(94))).join('');
      return { kind: 'garbage-json', method: 'POST', path, contentType: 'application/json', body: text(`{${noise}`) };
    },
    () => {
      const bytes = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
      return { kind: 'garbage-msgpack', method: 'POST', path: '/api/v1/events', contentType: 'application/msgpack', body: bytes };
    },
    () => {
      const full = packr.pack(validBodies['/api/v1/events']);
      return { kind: 'truncated-msgpack', method: 'POST', path: '/api/v1/events', contentType: 'application/msgpack', body: full.subarray(0, int(full.length)) };
    },
    () => {
      const depth = 30 + int(20_000);
      const body = Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
      return { kind: 'deep-msgpack', method: 'POST', path: '/api/v1/events', contentType: 'application/msgpack', body };
    },
    () => {
      const depth = 30 + int(20_000);
      const body = random() < 0.5 ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      return { kind: 'deep-json', method: 'POST', path: pick(jsonRoutes), contentType: 'application/json', body: text(body) };
    },
    () => {
      const depth = 17 + int(6);
      let properties: unknown = 1;
      for (let i = 0; i < depth; i++) properties = { p: properties };
      const body = [{ type: 'prime.node.created', payload: { id: `node:deep:${int(1e9)}`, type: 'deep', properties } }];
      return { kind: 'deep-properties', method: 'POST', path: '/api/v1/events', contentType: 'application/json', body: text(JSON.stringify(body)) };
    },
    () => {
      const huge = pick(['1e999', '-1e999', '123456789012345678901234567890e400']);
      const bodies = [
        `{"type":"fuzz","properties":{"n":${huge}}}`,
        `{"vector":[0.1,${huge},0.3],"top_k":3}`,
        `{"vector":[0.1,0.2,0.3],"top_k":${huge}}`,
        `[{"type":"prime.vector.stored","payload":{"id":"node:fuzz:a","vector":[${huge},1,1]}}]`,
      ];
      const i = int(bodies.length);
      const path = [`${prime}/nodes`, `${prime}/vectors/search`, `${prime}/vectors/search`, '/api/v1/events'][i]!;
      return { kind: 'huge-number', method: 'POST', path, contentType: 'application/json', body: text(bodies[i]!) };
    },
    () => {
      const bad = pick([[0xff], [0xc0, 0xaf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3]]);
      const body = Buffer.concat([text('{"type":"'), Buffer.from(bad), text('"}')]);
      return { kind: 'bad-utf8', method: 'POST', path: pick(jsonRoutes.slice(0, 6)), contentType: 'application/json', body };
    },
    () => {
      const path = pick(Object.keys(requiredStrings));
      const body = structuredClone(validBodies[path]) as Record<string, unknown>;
      body[pick(requiredStrings[path]!)] = pick(wrongValues);
      return { kind: 'wrong-type', method: 'POST', path, contentType: 'application/json', body: text(JSON.stringify(body)) };
    },
    () => {
      const body = pick<unknown>([42, 'x', null, true, { events: 'no' }, { events: {} }, [1], [null], [[]], [{ type: 'prime.node.created' }], [{ type: 'nope', payload: {} }], [{ type: 'prime.node.created', payload: 7 }], [{ type: 'prime.node.created', payload: { type: 'BAD TYPE!' } }], [{ type: 'prime.edge.created', payload: { source: 'node:none:1', target: 'node:none:2', relation: 'r' } }], [{ type: 'prime.node.updated', payload: { id: 'node:none:1', properties: {} } }], [{ type: 'prime.node.created', payload: { id: 'node:x:1', type: 'x', properties: { ['__proto__']: 1 } } }]]);
      const raw = JSON.stringify(body).replace('"__proto__"', '"__proto__"');
      return { kind: 'bad-events', method: 'POST', path: '/api/v1/events', contentType: 'application/json', body: text(raw) };
    },
    () => ({ kind: 'bad-query', method: 'GET', path: `${prime}/nodes/node:fuzz:a/neighbors?${pick(badQueries)}` }),
    () => ({ kind: 'bad-path', method: pick(['GET', 'DELETE', 'PATCH']), path: pick([`${prime}/nodes/%E0%A4%A`, `${prime}/nodes/%ZZ`, `${prime}/edges/%`, '/api/v2/nope', `${prime}/nodes`]) }),
  ];
  return () => pick(kinds)();
}

function requestBytes(request: Malformed): Buffer {
  const body = request.body ?? new Uint8Array(0);
  const head =
    `${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (request.contentType !== undefined ? `Content-Type: ${request.contentType}\r\n` : '') +
    `Content-Length: ${body.byteLength}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

let given: GivenServer;

beforeAll(async () => {
  given = await givenServer();
  // Real nodes for the routes that look them up, so the fuzz reaches past "not found".
  await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'fuzz', id: 'node:fuzz:a' } });
  await call(given.url, 'POST', `${prime}/nodes`, { body: { type: 'fuzz', id: 'node:fuzz:b' } });
  await call(given.url, 'POST', `${prime}/vectors`, { body: { id: 'node:fuzz:a', vector: [0.1, 0.2, 0.3] } });
});

afterAll(async () => {
  await given.close();
});

describe('fuzz', () => {
  it(`given ${requestsTotal} seeded malformed requests, then every answer is a 4xx and the server stays healthy`, async () => {
    const lastSeqBefore = given.engine.stats().lastSeq;
    const next = generator(seededRandom(seed));
    const requests = Array.from({ length: requestsTotal }, next);
    const byKind = new Map<string, Map<string, number>>();
    const unexpected: string[] = [];
    let shed = 0;
    const lanes = Array.from({ length: connections }, async (_, lane) => {
      const connection = new RawConnection(given.server.port);
      for (let i = lane; i < requests.length; i += connections) {
        const request = requests[i]!;
        // Shedding is documented (503 OVERLOADED, Retry-After, the connection closed): on a busy
        // shared machine one event-loop turn can pass its time budget. A client retries; so does this.
        let reply = await connection.send(requestBytes(request));
        for (let retry = 0; retry < shedRetriesMax && reply.status === 503 && reply.body.includes('OVERLOADED'); retry++) {
          shed++;
          await new Promise((r) => setTimeout(r, 20));
          reply = await connection.send(requestBytes(request));
        }
        const status = reply.status === null ? 'closed' : String(reply.status);
        const counts = byKind.get(request.kind) ?? new Map<string, number>();
        counts.set(status, (counts.get(status) ?? 0) + 1);
        byKind.set(request.kind, counts);
        if (reply.status === null || reply.status < 400 || reply.status >= 500) {
          unexpected.push(`#${i} ${request.kind} ${request.method} ${request.path} → ${status} ${reply.body.slice(0, 200)}`);
        }
      }
      connection.close();
    });
    await Promise.all(lanes);
    const summary = Object.fromEntries([...byKind].map(([kind, counts]) => [kind, Object.fromEntries(counts)]));
    expect(unexpected, JSON.stringify({ summary, shed })).toEqual([]);
    expect([...byKind.values()].reduce((n, counts) => n + [...counts.values()].reduce((a, b) => a + b, 0), 0)).toBe(requestsTotal);
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
    // Every request was refused: nothing was written.
    expect(given.engine.stats().lastSeq).toBe(lastSeqBefore);
  });

  it(`given ${lyingRequests} requests whose Content-Length lies, then no 5xx and the server stays healthy`, async () => {
    const random = seededRandom(seed + 1);
    const statuses: Array<number | null> = [];
    for (let i = 0; i < lyingRequests; i++) {
      const body = '{"type":"liar","properties":{}}';
      const declared = random() < 0.5 ? body.length + 1 + Math.floor(random() * 1000) : Math.floor(random() * body.length);
      const bytes = `POST ${prime}/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${body}`;
      // A longer claim leaves the server waiting for bytes that never come: the client gives up after 50 ms and hangs up.
      const reply = await rawExchange(given.server.port, bytes, 50);
      statuses.push(reply.status);
    }
    expect(statuses.filter((s) => s !== null && s >= 500)).toEqual([]);
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
    await expect.poll(() => given.server.inFlight).toBe(0);
  });
});
