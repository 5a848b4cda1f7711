// Given events, when a graph query runs, then the answer a user relies on.
import { describe, expect, it } from 'vitest';

import { isMnemoError } from '../../src/index.js';
import { givenEngine } from '../support/engine.js';

async function givenPeopleAndProjects() {
  const db = await givenEngine();
  const alice = (await db.addNode({ type: 'person', properties: { name: 'Alice' } })).nodeId;
  const bob = (await db.addNode({ type: 'person', properties: { name: 'Bob' } })).nodeId;
  const carol = (await db.addNode({ type: 'person', properties: { name: 'Carol' } })).nodeId;
  const mnemo = (await db.addNode({ type: 'project', properties: { name: 'mnemo' } })).nodeId;
  const e1 = (await db.addEdge({ source: alice, target: bob, relation: 'knows' })).edgeId;
  const e2 = (await db.addEdge({ source: bob, target: carol, relation: 'knows' })).edgeId;
  const e3 = (await db.addEdge({ source: alice, target: mnemo, relation: 'works_on', weight: 0.5 })).edgeId;
  const e4 = (await db.addEdge({ source: carol, target: alice, relation: 'mentors' })).edgeId;
  return { db, alice, bob, carol, mnemo, edges: { e1, e2, e3, e4 } };
}

describe('nodes', () => {
  it('given a created node, when read, then it has the SPEC shape and generated id', async () => {
    const db = await givenEngine();
    const before = Date.now();
    const { nodeId } = await db.addNode({ type: 'person', properties: { name: 'Alice', domain: 'team' } });
    expect(nodeId).toMatch(/^node:person:[0-9a-f-]{36}$/);
    const node = db.getNode(nodeId)!;
    expect(node).toMatchObject({ id: nodeId, type: 'person', domain: 'team', properties: { name: 'Alice', domain: 'team' }, version: 1 });
    expect(node.createdAt).toBeGreaterThanOrEqual(before);
    expect(node.updatedAt).toBe(node.createdAt);
  });

  it('given a node, when updated with a null key, then properties merge shallowly and the key is removed', async () => {
    const db = await givenEngine();
    const { nodeId } = await db.addNode({ type: 'person', properties: { name: 'A', age: 3, tags: ['x'] } });
    await db.updateNode(nodeId, { age: null, city: 'Oslo' });
    expect(db.getNode(nodeId)!.properties).toEqual({ name: 'A', tags: ['x'], city: 'Oslo' });
    expect(db.getNode(nodeId)!.version).toBe(2);
  });

  it('given no such node, when read, then null; when updated, then NODE_NOT_FOUND', async () => {
    const db = await givenEngine();
    expect(db.getNode('node:x:nope')).toBeNull();
    await expect(db.updateNode('node:x:nope', { a: 1 })).rejects.toSatisfy((e) => isMnemoError(e, 'NODE_NOT_FOUND'));
  });
});

describe('neighbors', () => {
  it('given a small graph, when neighbours of a node are asked both ways, then each appears once and the start never', async () => {
    const { db, alice, bob, carol, mnemo } = await givenPeopleAndProjects();
    const page = db.neighbors(alice);
    expect(page.nodes.map((n) => n.id).sort()).toEqual([bob, carol, mnemo].sort());
    expect(page).toMatchObject({ total: 3, returned: 3, offset: 0 });
    expect(page.nextOffset).toBeUndefined();
  });

  it('given direction and relation filters, then only matching edges count', async () => {
    const { db, alice, bob, carol, mnemo } = await givenPeopleAndProjects();
    expect(db.neighbors(alice, { direction: 'out' }).nodes.map((n) => n.id)).toEqual([bob, mnemo]);
    expect(db.neighbors(alice, { direction: 'in' }).nodes.map((n) => n.id)).toEqual([carol]);
    expect(db.neighbors(alice, { relation: 'works_on' }).nodes.map((n) => n.id)).toEqual([mnemo]);
  });

  it('given depth 2, then BFS reaches two hops and each node carries its depth', async () => {
    const { db, alice, bob, carol } = await givenPeopleAndProjects();
    const page = db.neighbors(bob, { depth: 2, direction: 'out' });
    expect(page.nodes.map((n) => [n.id, n.depth])).toEqual([
      [carol, 1],
      [alice, 2],
    ]);
  });

  it('given 120 neighbours, when paged by 50, then totals, offsets and nextOffset add up', async () => {
    const db = await givenEngine();
    const hub = (await db.addNode({ type: 'hub', properties: {} })).nodeId;
    const events = [];
    for (let i = 0; i < 120; i++) events.push({ type: 'prime.node.created', payload: { id: `node:leaf:${i}`, type: 'leaf', properties: { i } } });
    for (let i = 0; i < 120; i++) events.push({ type: 'prime.edge.created', payload: { id: `edge:${i}`, source: hub, target: `node:leaf:${i}`, relation: 'has' } });
    await db.append(events);
    const seen: string[] = [];
    let offset: number | undefined = 0;
    const pages = [];
    while (offset !== undefined) {
      const page = db.neighbors(hub, { limit: 50, offset });
      pages.push([page.returned, page.total, page.nextOffset]);
      seen.push(...page.nodes.map((n) => n.id));
      offset = page.nextOffset;
    }
    expect(pages).toEqual([
      [50, 120, 50],
      [50, 120, 100],
      [20, 120, undefined],
    ]);
    expect(new Set(seen).size).toBe(120);
  });

  it('given parallel edges and a self-loop, then the neighbour appears once and the node itself never', async () => {
    const db = await givenEngine();
    const a = (await db.addNode({ type: 't', properties: {} })).nodeId;
    const b = (await db.addNode({ type: 't', properties: {} })).nodeId;
    await db.addEdge({ source: a, target: b, relation: 'r' });
    await db.addEdge({ source: a, target: b, relation: 'r' });
    await db.addEdge({ source: a, target: a, relation: 'r' });
    expect(db.neighbors(a).nodes.map((n) => n.id)).toEqual([b]);
  });

  it('given bad options, then a VALIDATION_FAILED naming the option', async () => {
    const { db, alice } = await givenPeopleAndProjects();
    expect(() => db.neighbors(alice, { limit: 501 })).toThrow(/limit: expected an integer 1\.\.500/);
    expect(() => db.neighbors(alice, { direction: 'up' as 'in' })).toThrow(/direction/);
    expect(() => db.neighbors('node:x:none')).toThrow(/does not exist/);
  });
});

describe('delete cascades', () => {
  it('given a node with edges both ways and a vector, when deleted, then edges, vector, domain and cross-domain entries go too', async () => {
    const { db, alice, bob, carol, mnemo, edges } = await givenPeopleAndProjects();
    await db.embed({ id: alice, vector: [1, 0, 0] });
    expect(db.crossDomain('person', 'project').total).toBe(1);
    await db.deleteNode(alice);
    expect(db.getNode(alice)).toBeNull();
    for (const id of [edges.e1, edges.e3, edges.e4]) expect(db.getEdge(id)).toBeNull();
    expect(db.getEdge(edges.e2)).not.toBeNull();
    expect(db.neighbors(bob).nodes.map((n) => n.id)).toEqual([carol]);
    expect(db.neighbors(mnemo).total).toBe(0);
    expect(db.search({ type: 'person' }).nodes.map((n) => n.id)).toEqual([bob, carol]);
    expect(db.crossDomain('person', 'project').total).toBe(0);
    expect(db.stats()).toMatchObject({ totalNodes: 3, totalEdges: 1, totalVectors: 0 });
  });

  it('given a cascade, then it is in the log as events, so history shows it', async () => {
    const { db, alice, edges } = await givenPeopleAndProjects();
    await db.deleteNode(alice);
    const types = db.history(alice).map((e) => e.type);
    expect(types[0]).toBe('prime.node.created');
    expect(types.at(-1)).toBe('prime.node.deleted');
    expect(db.history(edges.e1).map((e) => e.type)).toEqual(['prime.edge.created', 'prime.edge.deleted']);
  });
});

describe('paths, subgraphs, search, cross-domain', () => {
  it('given a chain, when the shortest path is asked, then the nodes from start to end; none → null', async () => {
    const { db, alice, bob, carol, mnemo } = await givenPeopleAndProjects();
    expect(db.shortestPath(alice, carol)!.map((n) => n.id)).toEqual([alice, bob, carol]);
    expect(db.shortestPath(mnemo, alice)).toBeNull();
    expect(db.shortestPath(mnemo, alice, { direction: 'in' })!.map((n) => n.id)).toEqual([mnemo, alice]);
    expect(db.shortestPath(alice, carol, { relation: 'works_on' })).toBeNull();
    expect(db.shortestPath(alice, alice)!.map((n) => n.id)).toEqual([alice]);
  });

  it('given a graph, when a subgraph of depth 1 is asked, then the nodes within one hop and the edges among them', async () => {
    const { db, bob, alice, carol, edges } = await givenPeopleAndProjects();
    const sub = db.subgraph(bob, { depth: 1 });
    expect(sub.nodes.map((n) => n.id).sort()).toEqual([alice, bob, carol].sort());
    expect(sub.edges.map((e) => e.id).sort()).toEqual([edges.e1, edges.e2, edges.e4].sort());
  });

  it('given nodes in domains, then search pages a domain and crossDomain finds edges either way', async () => {
    const { db, alice, mnemo, edges } = await givenPeopleAndProjects();
    const page = db.search({ type: 'person', limit: 2 });
    expect(page).toMatchObject({ total: 3, returned: 2, nextOffset: 2 });
    const cross = db.crossDomain('project', 'person');
    expect(cross.edges).toEqual([{ id: edges.e3, source: alice, target: mnemo, relation: 'works_on' }]);
    await db.updateNode(mnemo, { domain: 'person' });
    expect(db.crossDomain('project', 'person').total).toBe(0);
    expect(db.search({ type: 'person' }).total).toBe(4);
  });
});

describe('atomic batches and bad input', () => {
  it('given a batch with one bad event, then nothing of it is applied or logged', async () => {
    const db = await givenEngine();
    await expect(
      db.append([
        { type: 'prime.node.created', payload: { id: 'node:t:1', type: 't', properties: {} } },
        { type: 'prime.edge.created', payload: { id: 'edge:1', source: 'node:t:1', target: 'node:t:missing', relation: 'r' } },
      ]),
    ).rejects.toThrow(/target/);
    expect(db.getNode('node:t:1')).toBeNull();
    expect(db.stats().lastSeq).toBe(0);
  });

  it('given an event over 1 MiB, then EVENT_TOO_LARGE and nothing written', async () => {
    const db = await givenEngine();
    await expect(db.addNode({ type: 't', properties: { blob: 'x'.repeat(1.1 * 1024 * 1024) } })).rejects.toSatisfy((e) => isMnemoError(e, 'EVENT_TOO_LARGE'));
    expect(db.stats().lastSeq).toBe(0);
  });
});
