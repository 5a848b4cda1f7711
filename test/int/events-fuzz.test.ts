// Structure-aware fuzzing: batches for POST /api/v1/events that look valid (a small id space,
// creates, updates, deletes, edges, vectors), with one field made wrong, ids duplicated across a
// batch, deletes of what the same batch creates, edges to what it deletes. Whatever the server
// answers, it must be 200 (and then the log grew) or a 4xx (and then nothing changed at all:
// same last seq, same digests); never a 5xx. Then the MCP tools get seeded bad arguments over
// the real client: every call answers (a result or a tool error), none crashes the server.
// MNEMO_FUZZ_REQUESTS scales both (10,000 batches and 1,000 tool calls in CI).

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Engine } from '../../src/admin.js';
import { seededRandom } from '../../bench/support/random.js';
import { call, givenServer, type GivenServer } from '../support/http-server.js';

const scale = Number(process.env.MNEMO_FUZZ_REQUESTS ?? 10_000) / 10_000;
const batches = Math.round(10_000 * scale);
const toolCalls = Math.round(1_000 * scale);
const seed = 0x65766e74; // 'evnt'

let given: GivenServer;

beforeAll(async () => {
  given = await givenServer();
});

afterAll(async () => {
  await given.close();
});

function batchGenerator(random: () => number): () => unknown[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number): number => Math.floor(random() * max);
  const nodeId = (): string => `node:f:${int(40)}`;
  const edgeId = (): string => `edge:${int(60)}`;
  const valid: Array<() => { type: string; payload: Record<string, unknown> }> = [
    () => ({ type: 'prime.node.created', payload: { id: nodeId(), type: pick(['f', 'g']), properties: { n: int(9), name: pick(['ada', 'bob', 'cy']) } } }),
    () => ({ type: 'prime.node.updated', payload: { id: nodeId(), properties: { n: int(9), gone: null } } }),
    () => ({ type: 'prime.node.deleted', payload: { id: nodeId() } }),
    () => ({ type: 'prime.edge.created', payload: { id: edgeId(), source: nodeId(), target: nodeId(), relation: pick(['knows', 'wrote']), weight: random() } }),
    () => ({ type: 'prime.edge.deleted', payload: { id: edgeId() } }),
    () => ({ type: 'prime.vector.stored', payload: { id: nodeId(), vector: [random(), random(), random()], text: pick(['alpha', 'beta']) } }),
    () => ({ type: 'prime.vector.deleted', payload: { id: nodeId() } }),
  ];
  const wrongValues: unknown[] = [null, 0, -1, '', 'x'.repeat(200), [], {}, true, 1e308, 'BAD TYPE', [1, 2], { __proto__: null }];
  const breakOne = (event: { type: string; payload: Record<string, unknown> }): unknown => {
    const fields = ['type', ...Object.keys(event.payload).map((k) => `payload.${k}`), 'payload.extra', 'payload'];
    const field = pick(fields);
    const broken = structuredClone(event) as { type: unknown; payload: Record<string, unknown> | unknown };
    if (field === 'type') broken.type = pick(['prime.node.made', '', 7, null]);
    else if (field === 'payload') broken.payload = pick(wrongValues);
    else (broken.payload as Record<string, unknown>)[field.slice('payload.'.length)] = pick(wrongValues);
    return broken;
  };
  return () => {
    const events: unknown[] = Array.from({ length: 1 + int(4) }, () => pick(valid)());
    const mutation = int(4);
    if (mutation === 0) events[int(events.length)] = breakOne(events[int(events.length)] as never);
    if (mutation === 1) events.push(structuredClone(events[int(events.length)])); // the same id twice in one batch
    if (mutation === 2) {
      // Create then delete (or delete then link) within the batch.
      const id = nodeId();
      events.push({ type: 'prime.node.created', payload: { id, type: 'f', properties: {} } });
      events.push(pick([{ type: 'prime.node.deleted', payload: { id } }, { type: 'prime.edge.created', payload: { id: edgeId(), source: id, target: nodeId(), relation: 'r' } }]));
    }
    return events;
  };
}

describe('structure-aware fuzz of POST /api/v1/events', () => {
  it(`given ${batches} seeded near-valid batches, then each is applied whole (200) or refused with a 4xx that changed nothing; never a 5xx`, async () => {
    const engine = given.engine as Engine;
    const next = batchGenerator(seededRandom(seed));
    const statuses = new Map<number, number>();
    for (let i = 0; i < batches; i++) {
      const events = next();
      const before = engine.stats().lastSeq;
      const digestsBefore = i % 50 === 0 ? engine.digests() : null;
      const reply = await call(given.url, 'POST', '/api/v1/events', { body: events });
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      expect(reply.status, `batch ${i}: ${JSON.stringify(events)} → ${JSON.stringify(reply.json)}`).toBeLessThan(500);
      if (reply.status === 200) {
        expect(reply.json.first_seq).toBe(before + 1);
        expect(reply.json.last_seq).toBeGreaterThanOrEqual(before + events.length);
      } else {
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(typeof reply.json.code).toBe('string');
        expect(engine.stats().lastSeq).toBe(before);
        if (digestsBefore !== null) expect(engine.digests()).toEqual(digestsBefore);
      }
    }
    console.log(`events fuzz: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
  });
});

describe('fuzz of the MCP tools', () => {
  it(`given ${toolCalls} seeded tool calls with bad arguments over the real MCP client, then every call answers and the server stays healthy`, async () => {
    const client = new Client({ name: 'mnemo-fuzz', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${given.url}/mcp`)));
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      const random = seededRandom(seed + 1);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const values: unknown[] = [null, -1, 0, 1e308, '', 'node:f:1', 'x'.repeat(300), [], [0.1, 0.2, 0.3], {}, { a: { b: 1 } }, true, 'prime.node.created'];
      const keys = ['id', 'node_id', 'type', 'node_type', 'properties', 'source', 'target', 'relation', 'vector', 'text', 'top_k', 'depth', 'limit', 'offset', 'from', 'to', 'as_of', 'entity_id', 'direction', 'bogus'];
      let errors = 0;
      for (let i = 0; i < toolCalls; i++) {
        const args = Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(keys), pick(values)]));
        try {
          const result = await client.callTool({ name: pick(tools), arguments: args });
          if (result.isError === true) errors++;
        } catch (e) {
          // A JSON-RPC error (invalid params) is an answer too; a dead transport is not.
          expect(String(e)).toMatch(/MCP error|Invalid|invalid/);
          errors++;
        }
      }
      expect(errors).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
  });
});
