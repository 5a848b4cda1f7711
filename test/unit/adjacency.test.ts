// Adjacency: given edge events, when a node's edges are read, then out/in lists and counts match.
import { describe, expect, it } from 'vitest';
import type { RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { Adjacency } from '../../projections/adjacency.js';
import { NodeState } from '../../projections/node-state.js';
import { joinedBytes } from '../../projections/saved-runs.js';

/** Each adjacency's node state (whose handles it uses), and a seq counter. */
const nodeStates = new WeakMap<Adjacency, { nodes: NodeState; seq: number }>();
function fresh(): Adjacency {
  const nodes = new NodeState();
  const adjacency = new Adjacency(nodes);
  nodeStates.set(adjacency, { nodes, seq: 0 });
  return adjacency;
}
/**
 * Applies events in engine order (adjacency, then node state), first creating any node an event
 * names that does not exist yet, as a valid log would have.
 */
function given(events: RawEvent[], adjacency = fresh()): Adjacency {
  const state = nodeStates.get(adjacency)!;
  const apply = (event: RawEvent): void => {
    const stored = { ...event, seq: ++state.seq, ts: 1000 + state.seq } as StoredEvent;
    adjacency.apply(stored);
    state.nodes.apply(stored);
  };
  for (const event of events) {
    const p = event.payload as { id: string; source?: string; target?: string };
    const named = event.type === 'prime.edge.created' ? [p.source!, p.target!] : event.type === 'prime.node.deleted' ? [p.id] : [];
    for (const id of named) if (!state.nodes.has(id)) apply({ type: 'prime.node.created', payload: { id, type: 'thing', properties: {} } } as RawEvent);
    apply(event);
  }
  return adjacency;
}
const edge = (id: string, source: string, target: string, relation = 'knows', extra: { weight?: number; properties?: Record<string, unknown> } = {}): RawEvent =>
  ({ type: 'prime.edge.created', payload: { id, source, target, relation, ...extra } }) as RawEvent;
const unlink = (id: string): RawEvent => ({ type: 'prime.edge.deleted', payload: { id } });
const nodeDeleted = (id: string): RawEvent => ({ type: 'prime.node.deleted', payload: { id } });
const ids = (edges: readonly { id: string }[]): string[] => edges.map((e) => e.id).sort();

describe('Adjacency', () => {
  it('given an edge, when read, then it is in the source out list and target in list with defaults filled', () => {
    const adjacency = given([edge('e1', 'a', 'b')]);
    const expected = { id: 'e1', source: 'a', target: 'b', relation: 'knows', weight: 1, properties: {} };
    expect(adjacency.getEdge('e1')).toEqual(expected);
    expect(adjacency.out('a')).toEqual([expected]);
    expect(adjacency.in('b')).toEqual([expected]);
    expect(adjacency.out('b')).toEqual([]);
    expect(adjacency.in('a')).toEqual([]);
    expect(JSON.parse(JSON.stringify(adjacency.getEdge('e1')))).toEqual(expected); // no internal fields leak
  });

  it('given weight and properties, when read, then they are kept', () => {
    const adjacency = given([edge('e1', 'a', 'b', 'likes', { weight: 0.25, properties: { since: 2020 } })]);
    expect(adjacency.getEdge('e1')).toMatchObject({ weight: 0.25, properties: { since: 2020 } });
  });

  it('given edges of weight 1 and then one weighted, when read, saved and loaded, then every edge has its weight', async () => {
    const events = Array.from({ length: 100 }, (_, i) => edge(`w${i}`, `n${i % 7}`, `n${(i * 3) % 11}`));
    const adjacency = given([...events, edge('heavy', 'a', 'b', 'knows', { weight: 2.5 }), edge('after', 'b', 'a'), edge('light', 'a', 'c', 'knows', { weight: -0.5 })]);
    expect(adjacency.getEdge('w0')!.weight).toBe(1);
    expect(adjacency.getEdge('w99')!.weight).toBe(1);
    expect(adjacency.getEdge('heavy')!.weight).toBe(2.5);
    expect(adjacency.getEdge('after')!.weight).toBe(1);
    expect(adjacency.getEdge('light')!.weight).toBe(-0.5);
    for (const source of [adjacency, given(events)]) {
      const copy = fresh();
      await nodeStates.get(copy)!.nodes.load(joinedBytes(await nodeStates.get(source)!.nodes.save()));
      await copy.load(joinedBytes(await source.save()));
      expect(copy.digest()).toBe(source.digest());
      for (const id of ['w0', 'w57', 'heavy', 'after', 'light']) expect(copy.getEdge(id)).toEqual(source.getEdge(id));
    }
  });


  it('given more relations than one byte and then two bytes can number, when read, filtered, saved and loaded, then every edge keeps its relation', async () => {
    // 70,000 relations: the relation column widens from one byte to two, then to four.
    const relations = 70_000;
    const events = Array.from({ length: relations }, (_, i) => edge(`r${i}`, `n${i % 13}`, `n${(i * 7) % 17}`, `rel${i}`));
    const adjacency = given([...events, unlink('r3'), edge('again', 'n1', 'n2', 'rel0')]);
    for (const i of [0, 1, 255, 256, 300, 65_535, 65_536, relations - 1]) expect(adjacency.getEdge(`r${i}`)!.relation).toBe(`rel${i}`);
    expect(adjacency.getEdge('r3')).toBeUndefined();
    const handleOf = (id: string) => nodeStates.get(adjacency)!.nodes.handleOf(id);
    const nodes = nodeStates.get(adjacency)!.nodes;
    expect(adjacency.adjacentHandles(handleOf('n1'), 'rel0', 'out').map((h) => nodes.idAt(h))).toEqual(['n2']);
    expect(adjacency.adjacentHandles(handleOf(`n${(relations - 1) % 13}`), `rel${relations - 1}`, 'out').map((h) => nodes.idAt(h))).toEqual([`n${((relations - 1) * 7) % 17}`]);
    const copy = fresh();
    await nodeStates.get(copy)!.nodes.load(joinedBytes(await nodes.save()));
    await copy.load(joinedBytes(await adjacency.save()));
    expect(copy.digest()).toBe(adjacency.digest());
    expect(copy.getEdge('r65536')!.relation).toBe('rel65536');
    expect(copy.countsByRelation()['rel0']).toBe(2);
  });
  it('given parallel edges (same pair, same relation), when read, then both are there and deleting one keeps the other', () => {
    const adjacency = given([edge('p1', 'a', 'b'), edge('p2', 'a', 'b'), unlink('p1')]);
    expect(ids(adjacency.out('a'))).toEqual(['p2']);
    expect(ids(adjacency.in('b'))).toEqual(['p2']);
    expect(adjacency.countsByRelation()).toEqual({ knows: 1 });
  });

  it('given a self-loop, when read, then it is once in out, once in in, and once in edgeIdsOf', () => {
    const adjacency = given([edge('loop', 'a', 'a'), edge('e', 'a', 'b'), edge('f', 'c', 'a')]);
    expect(ids(adjacency.out('a'))).toEqual(['e', 'loop']);
    expect(ids(adjacency.in('a'))).toEqual(['f', 'loop']);
    expect(adjacency.edgeIdsOf('a').sort()).toEqual(['e', 'f', 'loop']);
    expect(ids(adjacency.edgesOf('a'))).toEqual(['e', 'f', 'loop']);
    given([unlink('loop')], adjacency);
    expect(ids(adjacency.out('a'))).toEqual(['e']);
    expect(ids(adjacency.in('a'))).toEqual(['f']);
  });

  it('given edges of several relations, when counted, then counts are per relation of live edges', () => {
    const adjacency = given([edge('1', 'a', 'b', 'knows'), edge('2', 'b', 'c', 'knows'), edge('3', 'a', 'c', 'likes'), unlink('3')]);
    expect(adjacency.count).toBe(2);
    expect(adjacency.countsByRelation()).toEqual({ knows: 2 });
    expect(adjacency.hasEdge('3')).toBe(false);
    expect(adjacency.getEdge('3')).toBeUndefined();
  });

  it('given a hub with many edges, when they are deleted in a scrambled order, then every list stays exact', () => {
    const events: RawEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(i % 2 === 0 ? edge(`e${i}`, 'hub', `n${i % 7}`) : edge(`e${i}`, `n${i % 5}`, 'hub'));
    const adjacency = given(events);
    const order = Array.from({ length: 300 }, (_, i) => (i * 7919) % 300);
    for (const [step, i] of order.entries()) {
      given([unlink(`e${i}`)], adjacency);
      if (step % 50 === 0) {
        const remaining = new Set(order.slice(step + 1).map((k) => `e${k}`));
        expect(adjacency.edgeIdsOf('hub').sort()).toEqual([...remaining].sort());
      }
    }
    expect(adjacency.out('hub')).toEqual([]);
    expect(adjacency.in('hub')).toEqual([]);
    expect(adjacency.count).toBe(0);
  });

  it('given a node whose edges were cascaded away, when the node is deleted, then its lists are gone', () => {
    const adjacency = given([edge('e', 'a', 'b'), unlink('e'), nodeDeleted('a'), nodeDeleted('b'), nodeDeleted('never-linked')]);
    expect(adjacency.edgeIdsOf('a')).toEqual([]);
    expect(adjacency.out('a')).toEqual([]);
  });

  it('given a node deleted with live edges (no cascade), when applied, then it fails loudly as a bug', () => {
    const adjacency = given([edge('e', 'a', 'b')]);
    expect(() => given([nodeDeleted('a')], adjacency)).toThrow(/assertion failed/);
  });

  it('given a saved state, when loaded, then digest, edges and lists are equal', async () => {
    const adjacency = given([edge('1', 'a', 'b', 'knows', { weight: 2, properties: { x: [1] } }), edge('2', 'a', 'a'), edge('3', 'b', 'a', 'likes'), edge('4', 'a', 'b'), unlink('1')]);
    const copy = fresh();
    await nodeStates.get(copy)!.nodes.load(joinedBytes(await nodeStates.get(adjacency)!.nodes.save()));
    await copy.load(joinedBytes(await adjacency.save()));
    expect(copy.digest()).toBe(adjacency.digest());
    for (const node of ['a', 'b']) {
      expect(ids(copy.out(node))).toEqual(ids(adjacency.out(node)));
      expect(ids(copy.in(node))).toEqual(ids(adjacency.in(node)));
    }
    expect(copy.getEdge('3')).toEqual(adjacency.getEdge('3'));
    expect(copy.countsByRelation()).toEqual(adjacency.countsByRelation());
  });

  it('given a relation whose last edge was deleted, when saved and loaded, then only held relations are named and every edge keeps its own', async () => {
    // 'likes' is released (its handle freed) between 'knows' and 'cites': the save numbers relations afresh.
    const adjacency = given([edge('1', 'a', 'b', 'knows'), edge('2', 'a', 'b', 'likes'), edge('3', 'b', 'a', 'cites'), unlink('2')]);
    const copy = fresh();
    await nodeStates.get(copy)!.nodes.load(joinedBytes(await nodeStates.get(adjacency)!.nodes.save()));
    await copy.load(joinedBytes(await adjacency.save()));
    expect(copy.countsByRelation()).toEqual({ knows: 1, cites: 1 });
    expect(copy.getEdge('1')?.relation).toBe('knows');
    expect(copy.getEdge('3')?.relation).toBe('cites');
    expect(copy.digest()).toBe(adjacency.digest());
    given([edge('4', 'a', 'b', 'likes')], copy);
    expect(copy.countsByRelation()).toEqual({ knows: 1, cites: 1, likes: 1 });
  });

  it('given the same edges created in a different order, when digested, then the digests are equal', () => {
    const one = given([edge('1', 'a', 'b'), edge('2', 'b', 'c'), edge('3', 'c', 'a')]);
    const two = given([edge('3', 'c', 'a'), edge('x', 'a', 'c'), edge('2', 'b', 'c'), edge('1', 'a', 'b'), unlink('x')]);
    expect(two.digest()).toBe(one.digest());
  });

  it('given 150,000 edges among 70,000 nodes arriving with a turn of the event loop between batches (long columns then grow ahead, a slice a turn) and once in a burst mid-growth, when read, then every edge is as it would be without the turns, also after save and load', async () => {
    const events: RawEvent[] = [];
    let x = 1;
    const next = (n: number): number => ((x = (x * 48271) % 2147483647), x % n);
    for (let i = 0; i < 150_000; i++) {
      events.push(edge(`e${i}`, `n${next(70_000)}`, `n${next(70_000)}`, i % 3 === 0 ? 'likes' : 'knows', i % 5 === 0 ? { weight: 0.5 } : {}));
      if (i % 7 === 0 && i > 0) events.push(unlink(`e${next(i)}`));
    }
    const deleted = new Set<string>();
    const unique = events.filter((e) => e.type !== 'prime.edge.deleted' || (!deleted.has((e.payload as { id: string }).id) && deleted.add((e.payload as { id: string }).id)));
    const withoutTurns = given(unique);
    const withTurns = fresh();
    const columnsOf = (a: Adjacency): { sources: Int32Array; targets: Int32Array } => a as unknown as { sources: Int32Array; targets: Int32Array };
    let grewAhead = 0;
    let burstsMidGrowth = 0;
    for (let from = 0; from < unique.length; ) {
      const before = columnsOf(withTurns).targets.length; // grown first ahead of need (sources last)
      await new Promise((resolve) => setImmediate(resolve)); // a turn: one growth step
      if (columnsOf(withTurns).targets.length > before) grewAhead++;
      // Once, mid-growth (some columns grown, some not): a burst with no turn, past the old length.
      const midGrowth = columnsOf(withTurns).sources.length !== columnsOf(withTurns).targets.length;
      const count = midGrowth && burstsMidGrowth++ === 0 ? columnsOf(withTurns).targets.length : 1000;
      given(unique.slice(from, from + count), withTurns);
      from += count;
    }
    expect(grewAhead).toBeGreaterThan(0);
    expect(burstsMidGrowth).toBeGreaterThan(0);
    expect(withTurns.digest()).toBe(withoutTurns.digest());
    for (let i = 0; i < 150_000; i += 997) expect(withTurns.getEdge(`e${i}`)).toEqual(withoutTurns.getEdge(`e${i}`));
    for (let n = 0; n < 70_000; n += 1_999) expect(ids(withTurns.out(`n${n}`))).toEqual(ids(withoutTurns.out(`n${n}`)));
    const copy = fresh();
    await nodeStates.get(copy)!.nodes.load(joinedBytes(await nodeStates.get(withTurns)!.nodes.save()));
    await copy.load(joinedBytes(await withTurns.save()));
    expect(copy.digest()).toBe(withoutTurns.digest());
  });
});
