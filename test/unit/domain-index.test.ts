// Domain index: given node events, when a domain is paged, then its live nodes in insertion order.
import { describe, expect, it } from 'vitest';
import type { RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { DomainIndex } from '../../projections/domain-index.js';
import { NodeState } from '../../projections/node-state.js';
import { joinedBytes } from '../../projections/saved-runs.js';

/** Each index's node state: the index reads domains there, as in the engine. */
const nodeStates = new WeakMap<DomainIndex, NodeState>();
function fresh(): DomainIndex {
  const nodes = new NodeState();
  const index = new DomainIndex(nodes);
  nodeStates.set(index, nodes);
  return index;
}
/** Applies events in engine order: the index first (it must see a node as it was), then node state. */
function given(events: RawEvent[], index = fresh()): DomainIndex {
  events.forEach((event, i) => {
    const stored = { ...event, seq: i + 1, ts: 1000 + i } as StoredEvent;
    index.apply(stored);
    nodeStates.get(index)!.apply(stored);
  });
  return index;
}
const created = (id: string, type: string, properties: Record<string, unknown> = {}): RawEvent =>
  ({ type: 'prime.node.created', payload: { id, type, properties } }) as RawEvent;
const updated = (id: string, properties: Record<string, unknown>): RawEvent => ({ type: 'prime.node.updated', payload: { id, properties } }) as RawEvent;
const deleted = (id: string): RawEvent => ({ type: 'prime.node.deleted', payload: { id } });

describe('DomainIndex', () => {
  it('given nodes of two types, when a domain is paged, then its ids come in insertion order with the total', () => {
    const index = given([created('p1', 'person'), created('x', 'place'), created('p2', 'person'), created('p3', 'person')]);
    expect(index.page('person', 0, 10)).toEqual({ ids: ['p1', 'p2', 'p3'], total: 3 });
    expect(index.page('person', 1, 1)).toEqual({ ids: ['p2'], total: 3 });
    expect(index.page('person', 3, 10)).toEqual({ ids: [], total: 3 });
    expect(index.page('nothing', 0, 10)).toEqual({ ids: [], total: 0 });
    expect(index.domains()).toEqual(['person', 'place']);
    expect(index.size('person')).toBe(3);
  });

  it('given properties.domain, when paged, then the node is under that domain, not its type', () => {
    const index = given([created('a', 'person', { domain: 'work' }), created('b', 'person')]);
    expect(index.page('work', 0, 10)).toEqual({ ids: ['a'], total: 1 });
    expect(index.page('person', 0, 10)).toEqual({ ids: ['b'], total: 1 });
  });

  it('given a domain change by update, when paged, then the node moved to the end of its new domain', () => {
    const index = given([created('a', 'person'), created('w', 'person', { domain: 'work' }), created('b', 'person'), updated('a', { domain: 'work' })]);
    expect(index.page('work', 0, 10)).toEqual({ ids: ['w', 'a'], total: 2 });
    expect(index.page('person', 0, 10)).toEqual({ ids: ['b'], total: 1 });
  });

  it('given an update that does not touch domain, when paged, then the node keeps its place', () => {
    const index = given([created('a', 'person'), created('b', 'person'), updated('a', { name: 'x' }), updated('a', { domain: 'person' })]);
    expect(index.page('person', 0, 10).ids).toEqual(['a', 'b']);
  });

  it('given domain set to null or empty, when paged, then the node is back under its type', () => {
    const index = given([created('a', 'person', { domain: 'work' }), created('b', 'person', { domain: 'work' }), updated('a', { domain: null }), updated('b', { domain: '' })]);
    expect(index.page('person', 0, 10).ids).toEqual(['a', 'b']);
    expect(index.domains()).toEqual(['person']);
  });

  it('given deleted nodes, when paged, then they are gone and an emptied domain disappears', () => {
    const index = given([created('a', 'person'), created('b', 'place'), deleted('b'), deleted('a'), created('c', 'event')]);
    expect(index.domains()).toEqual(['event']);
    expect(index.page('person', 0, 10)).toEqual({ ids: [], total: 0 });
  });

  it('given a saved state, when loaded, then digest and page order are equal', async () => {
    const index = given([created('a', 'person'), created('b', 'person'), created('c', 'place', { domain: 'geo' }), updated('a', { domain: 'geo' }), created('d', 'person'), deleted('b')]);
    const copy = fresh();
    await nodeStates.get(copy)!.load(joinedBytes(await nodeStates.get(index)!.save()));
    await copy.load(joinedBytes(await index.save()));
    expect(copy.digest()).toBe(index.digest());
    for (const domain of index.domains()) expect(copy.page(domain, 0, 100)).toEqual(index.page(domain, 0, 100));
    expect(copy.domains().sort()).toEqual(index.domains().sort());
    // The loaded copy keeps answering updates like the original.
    given([updated('d', { domain: 'geo' })], copy);
    given([updated('d', { domain: 'geo' })], index);
    expect(copy.page('geo', 0, 10)).toEqual(index.page('geo', 0, 10));
  });

  it('given the same membership reached in different orders, when digested, then the digests are equal', () => {
    const one = given([created('a', 'person'), created('b', 'person')]);
    const two = given([created('b', 'person'), created('a', 'person', { domain: 'x' }), updated('a', { domain: null })]);
    expect(two.digest()).toBe(one.digest());
    expect(given([created('a', 'person')]).digest()).not.toBe(one.digest());
  });
});
