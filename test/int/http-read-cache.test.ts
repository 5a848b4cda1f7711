// Node JSON is cached per node version (and written from cached bytes): given nodes read through
// GET /nodes/:id, neighbours and vector search, when a node is updated, re-embedded or deleted, then
// the very next read of every route shows the change.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, givenServer, type GivenServer } from '../support/http-server.js';

const prime = '/api/v1/prime';
let given: GivenServer;

beforeAll(async () => {
  given = await givenServer();
});

afterAll(async () => {
  await given.close();
});

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const reply = await call(given.url, 'POST', `${prime}${path}`, { body });
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return reply.json;
}

interface Row {
  id: string;
  version: number;
  properties: Record<string, unknown>;
}

async function neighborsOf(id: string): Promise<Row[]> {
  const reply = await call(given.url, 'GET', `${prime}/nodes/${id}/neighbors`);
  expect(reply.status).toBe(200);
  return reply.json.nodes as Row[];
}

async function nearest(vector: number[]): Promise<Array<{ id: string; score: number; text: string | null }>> {
  const reply = await call(given.url, 'POST', `${prime}/vectors/search`, { body: { vector, top_k: 3 } });
  expect(reply.status).toBe(200);
  return reply.json.results as Array<{ id: string; score: number; text: string | null }>;
}

describe('reads after writes', () => {
  it('given a hub and two neighbours read once, when one is updated and the other deleted, then node, neighbours and search show it at once', async () => {
    const hub = (await post('/nodes', { type: 'person', properties: { name: 'hub' } })).node_id as string;
    const ada = (await post('/nodes', { type: 'person', properties: { name: 'Ada' } })).node_id as string;
    // No properties: the shared empty object, whose JSON is not cached.
    const bob = (await post('/nodes', { type: 'person' })).node_id as string;
    await post('/edges', { source: hub, target: ada, relation: 'knows' });
    await post('/edges', { source: hub, target: bob, relation: 'knows' });
    await post('/vectors', { id: ada, vector: [1, 0, 0], text: 'first text' });
    await post('/vectors', { id: bob, vector: [0, 1, 0] });

    // Read everything once, so every cache holds the first versions.
    expect((await call(given.url, 'GET', `${prime}/nodes/${ada}`)).json.properties).toEqual({ name: 'Ada' });
    const before = await neighborsOf(hub);
    expect(before.map((n) => n.properties)).toEqual([{ name: 'Ada' }, {}]);
    expect((await nearest([1, 0, 0]))[0]).toMatchObject({ id: ada, text: 'first text' });

    const patched = await call(given.url, 'PATCH', `${prime}/nodes/${ada}`, { body: { properties: { name: 'Ada L.' } } });
    expect(patched.status).toBe(200);
    const bobPatched = await call(given.url, 'PATCH', `${prime}/nodes/${bob}`, { body: { properties: { name: 'Bob' } } });
    expect(bobPatched.status).toBe(200);

    const node = (await call(given.url, 'GET', `${prime}/nodes/${ada}`)).json;
    expect(node).toMatchObject({ properties: { name: 'Ada L.' }, version: patched.json.version });
    const after = await neighborsOf(hub);
    expect(after.map((n) => [n.id, n.properties, n.version])).toEqual([
      [ada, { name: 'Ada L.' }, patched.json.version],
      [bob, { name: 'Bob' }, bobPatched.json.version],
    ]);
    for (let i = 0; i < 2; i++) expect(after[i]!.version).toBeGreaterThan(before[i]!.version);

    // Re-embedded with another text: search shows the new text.
    await post('/vectors', { id: ada, vector: [1, 0, 0], text: 'second text' });
    expect((await nearest([1, 0, 0]))[0]).toMatchObject({ id: ada, text: 'second text' });

    const deleted = await call(given.url, 'DELETE', `${prime}/nodes/${bob}`);
    expect(deleted.status).toBe(200);
    expect((await call(given.url, 'GET', `${prime}/nodes/${bob}`)).status).toBe(404);
    expect((await neighborsOf(hub)).map((n) => n.id)).toEqual([ada]);
    expect((await nearest([0, 1, 0])).map((hit) => hit.id)).not.toContain(bob);
  });
});
