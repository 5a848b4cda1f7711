// Cross-domain index: given graph events, when a domain pair is paged, then the edges whose ends lie in
// those two domains. Also the property test for all four graph projections: a seeded random stream,
// applied live, replayed from scratch, and resumed from a mid-stream checkpoint, gives equal digests.
import { describe, expect, it } from 'vitest';
import { isMnemoError } from '../../src/kernel/errors.js';
import { prepareBatch, type StateView, type StoredEvent } from '../../src/kernel/events.js';
import { Adjacency } from '../../projections/adjacency.js';
import { CrossDomainIndex } from '../../projections/cross-domain.js';
import { DomainIndex } from '../../projections/domain-index.js';
import { NodeState } from '../../projections/node-state.js';
import type { Projection } from '../../projections/projection.js';
import { seededRandom } from '../../bench/support/random.js';
import { joinedBytes } from '../../projections/saved-runs.js';

/** The four graph projections composed as the engine composes them, in its registration order. */
class Graph implements StateView {
  readonly nodes = new NodeState();
  readonly adjacency: Adjacency;
  readonly domains: DomainIndex;
  readonly cross: CrossDomainIndex;
  readonly vectors = new Set<string>();
  readonly log: StoredEvent[] = [];
  private dim: number | undefined;

  constructor() {
    this.adjacency = new Adjacency(this.nodes);
    this.domains = new DomainIndex(this.nodes);
    this.cross = new CrossDomainIndex(this.nodes, (nodeId) => this.adjacency.edgesOf(nodeId));
  }

  get projections(): Projection[] {
    return [this.domains, this.cross, this.adjacency, this.nodes];
  }

  hasNode(id: string): boolean { return this.nodes.has(id); }
  nodeType(id: string): string | undefined { return this.nodes.get(id)?.type; }
  hasEdge(id: string): boolean { return this.adjacency.hasEdge(id); }
  edgeIdsOf(nodeId: string): Iterable<string> { return this.adjacency.edgeIdsOf(nodeId); }
  hasVector(id: string): boolean { return this.vectors.has(id); }
  vectorDim(): number | undefined { return this.dim; }

  /** Validates a raw batch and applies it, as engine.append does; returns the stored events. */
  append(batch: unknown[]): StoredEvent[] {
    const stored = prepareBatch(batch, this).map((event) => ({ ...event, seq: this.log.length + 1, ts: 5000 + this.log.length }) as StoredEvent);
    for (const event of stored) {
      this.log.push(event);
      this.apply(event);
    }
    return stored;
  }

  apply(event: StoredEvent): void {
    for (const projection of this.projections) projection.apply(event);
    if (event.type === 'prime.vector.stored') {
      this.vectors.add(event.payload.id);
      this.dim = event.payload.vector.length;
    } else if (event.type === 'prime.vector.deleted') this.vectors.delete(event.payload.id);
  }

  digests(): string[] {
    return this.projections.map((p) => `${p.name}:${p.digest()}`);
  }

  async checkpointInto(other: Graph): Promise<void> {
    // Node state first, as the engine loads it: the others intern node ids against it.
    const order = [3, 0, 1, 2];
    for (const i of order) await other.projections[i]!.load(joinedBytes(await this.projections[i]!.save()));
    for (const id of this.vectors) other.vectors.add(id);
    other.dim = this.dim;
    other.log.push(...this.log);
  }
}

const node = (id: string, type: string, properties: Record<string, unknown> = {}): unknown => ({ type: 'prime.node.created', payload: { id, type, properties } });
const update = (id: string, properties: Record<string, unknown>): unknown => ({ type: 'prime.node.updated', payload: { id, properties } });
const link = (id: string, source: string, target: string, relation = 'r'): unknown => ({ type: 'prime.edge.created', payload: { id, source, target, relation } });
const remove = (kind: 'node' | 'edge', id: string): unknown => ({ type: `prime.${kind}.deleted`, payload: { id } });
const pageIds = (graph: Graph, a: string, b: string): string[] => graph.cross.page(a, b, 0, 1000).edges.map((e) => e.id).sort();

describe('CrossDomainIndex', () => {
  it('given edges within and across domains, when a pair is paged, then only cross edges, in either direction and either argument order', () => {
    const graph = new Graph();
    graph.append([node('p1', 'person'), node('p2', 'person'), node('c', 'city'), link('same', 'p1', 'p2'), link('to', 'p1', 'c', 'lives_in'), link('from', 'c', 'p2', 'hosts')]);
    expect(graph.cross.page('person', 'city', 0, 10)).toEqual({
      edges: [{ id: 'to', source: 'p1', target: 'c', relation: 'lives_in' }, { id: 'from', source: 'c', target: 'p2', relation: 'hosts' }],
      total: 2,
    });
    expect(graph.cross.page('city', 'person', 1, 10)).toEqual({ edges: [{ id: 'from', source: 'c', target: 'p2', relation: 'hosts' }], total: 2 });
    expect(graph.cross.page('person', 'person', 0, 10)).toEqual({ edges: [], total: 0 });
    expect(graph.cross.page('person', 'nowhere', 0, 10)).toEqual({ edges: [], total: 0 });
    expect(graph.cross.count).toBe(2);
    expect(JSON.parse(JSON.stringify(graph.cross.page('person', 'city', 0, 1).edges))).toEqual([{ id: 'to', source: 'p1', target: 'c', relation: 'lives_in' }]);
  });

  it('given parallel cross edges and a self-loop, when paged, then both parallels count and the loop never does', () => {
    const graph = new Graph();
    graph.append([node('a', 'x'), node('b', 'y'), link('p1', 'a', 'b'), link('p2', 'a', 'b'), link('loop', 'a', 'a')]);
    expect(pageIds(graph, 'x', 'y')).toEqual(['p1', 'p2']);
    graph.append([remove('edge', 'p1')]);
    expect(pageIds(graph, 'x', 'y')).toEqual(['p2']);
  });

  it('given a node whose domain changes, when paged, then its edges are re-keyed to the new pairs', () => {
    const graph = new Graph();
    graph.append([node('a', 'x'), node('b', 'y'), node('c', 'z'), link('ab', 'a', 'b'), link('ca', 'c', 'a'), link('loop', 'a', 'a')]);
    expect(pageIds(graph, 'x', 'y')).toEqual(['ab']);
    expect(pageIds(graph, 'x', 'z')).toEqual(['ca']);

    graph.append([update('a', { domain: 'y' })]); // a joins b's domain: ab is no longer cross, ca moves to (y, z)
    expect(pageIds(graph, 'x', 'y')).toEqual([]);
    expect(pageIds(graph, 'x', 'z')).toEqual([]);
    expect(pageIds(graph, 'y', 'z')).toEqual(['ca']);

    graph.append([update('a', { domain: 'w' })]); // a moves to a fresh domain: both edges cross again
    expect(pageIds(graph, 'w', 'y')).toEqual(['ab']);
    expect(pageIds(graph, 'w', 'z')).toEqual(['ca']);
    expect(pageIds(graph, 'y', 'z')).toEqual([]);

    graph.append([update('a', { domain: null })]); // back to its type
    expect(pageIds(graph, 'x', 'y')).toEqual(['ab']);
    expect(pageIds(graph, 'x', 'z')).toEqual(['ca']);
    expect(graph.cross.count).toBe(2);
  });

  it('given a node with cross edges, when it is deleted, then the cascade removes them from every index', () => {
    const graph = new Graph();
    graph.append([node('a', 'x'), node('b', 'y'), node('c', 'y'), link('ab', 'a', 'b'), link('ca', 'c', 'a'), link('bc', 'b', 'c')]);
    graph.append([remove('node', 'a')]);
    expect(graph.cross.page('x', 'y', 0, 10)).toEqual({ edges: [], total: 0 });
    expect(graph.cross.count).toBe(0);
    expect(graph.adjacency.count).toBe(1);
    expect(graph.domains.page('x', 0, 10)).toEqual({ ids: [], total: 0 });
    expect(graph.nodes.has('a')).toBe(false);
  });

  it('given a saved index, when loaded, then digest and page order are equal, and later re-keys agree', async () => {
    const graph = new Graph();
    graph.append([node('a', 'x'), node('b', 'y'), node('c', 'z'), link('1', 'a', 'b'), link('2', 'b', 'c'), link('3', 'c', 'a'), link('4', 'a', 'b')]);
    const copy = new Graph();
    await graph.checkpointInto(copy);
    expect(copy.cross.digest()).toBe(graph.cross.digest());
    expect(copy.cross.page('x', 'y', 0, 10)).toEqual(graph.cross.page('x', 'y', 0, 10));
    for (const g of [graph, copy]) g.append([update('b', { domain: 'z' })]);
    expect(copy.digests()).toEqual(graph.digests());
    expect(pageIds(copy, 'x', 'z')).toEqual(['1', '3', '4']);
  });
});


/**
 * A random raw batch over a small id space, so updates, deletes, parallels and loops are frequent. Ids
 * are mostly drawn from live state so most batches are valid; the rest exercise rejection (nothing applied).
 */
function randomBatch(random: () => number, graph: Graph): unknown[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const liveNodes = [...graph.nodes.ids()];
  const nodeId = (): string => (liveNodes.length > 0 && random() < 0.9 ? pick(liveNodes) : `n${Math.floor(random() * 40)}`);
  const edgeId = (): string => `e${Math.floor(random() * 80)}`;
  const batch: unknown[] = [];
  const size = 1 + Math.floor(random() * 4);
  for (let i = 0; i < size; i++) {
    const roll = random();
    if (roll < 0.25) batch.push(node(`n${Math.floor(random() * 40)}`, pick(['person', 'place', 'thing']), random() < 0.3 ? { domain: pick(['work', 'home']) } : { v: i }));
    else if (roll < 0.45) batch.push(update(nodeId(), pick([{ domain: 'work' }, { domain: 'home' }, { domain: null }, { k: random() }, { domain: '' }])));
    else if (roll < 0.52) batch.push(remove('node', nodeId()));
    else if (roll < 0.85) batch.push(link(edgeId(), nodeId(), nodeId(), pick(['r', 's'])));
    else if (roll < 0.93) batch.push(remove('edge', edgeId()));
    else batch.push({ type: 'prime.vector.stored', payload: { id: nodeId(), vector: [random(), random()] } });
  }
  return batch;
}

/** The cross-domain answer computed the slow way, from node-state and adjacency. */
function bruteForceCross(graph: Graph): Map<string, string[]> {
  const pairs = new Map<string, string[]>();
  for (const nodeId of graph.nodes.ids()) {
    for (const edge of graph.adjacency.out(nodeId)) {
      const [a, b] = [graph.nodes.get(edge.source)!.domain, graph.nodes.get(edge.target)!.domain].sort() as [string, string];
      if (a === b) continue;
      const key = `${a}|${b}`;
      pairs.set(key, [...(pairs.get(key) ?? []), edge.id].sort());
    }
  }
  return pairs;
}

describe('the graph projections under a seeded random stream', () => {
  it.each([1, 2, 3, 42])('given seed %i, when applied live, replayed, and resumed from a checkpoint, then every digest and cross-domain answer agrees', async (seed) => {
    const random = seededRandom(seed);
    const live = new Graph();
    const resumed = new Graph();
    let accepted = 0;
    for (let round = 0; round < 600; round++) {
      let stored: StoredEvent[] = [];
      try {
        stored = live.append(randomBatch(random, live));
        accepted++;
      } catch (e) {
        if (!isMnemoError(e)) throw e;
      }
      if (round === 300) await live.checkpointInto(resumed);
      else if (round > 300) for (const event of stored) resumed.apply(event);
    }
    expect(accepted).toBeGreaterThan(150);

    const replayed = new Graph();
    for (const event of live.log) replayed.apply(event);
    expect(replayed.digests()).toEqual(live.digests());
    expect(resumed.digests()).toEqual(live.digests());

    const expected = bruteForceCross(live);
    let total = 0;
    for (const [key, ids] of expected) {
      const [a, b] = key.split('|') as [string, string];
      expect(pageIds(live, a, b)).toEqual(ids);
      expect(pageIds(resumed, b, a)).toEqual(ids);
      total += ids.length;
    }
    expect(live.cross.count).toBe(total);
    for (const domain of live.domains.domains()) {
      const members = [...live.nodes.ids()].filter((id) => live.nodes.get(id)!.domain === domain);
      expect(live.domains.page(domain, 0, 1000).ids.sort()).toEqual(members.sort());
    }
  });
});
