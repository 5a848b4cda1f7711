// Node state: given node events, when a node is read, then its record reflects every change.
import { describe, expect, it } from 'vitest';
import type { RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { NodeState } from '../../projections/node-state.js';
import { joinedBytes } from '../../projections/saved-runs.js';

/** Gives raw events the envelope the engine would (seq 1.., ts 1000 + seq) and applies them. */
function given(events: RawEvent[], state = new NodeState(), firstSeq = 1): NodeState {
  events.forEach((event, i) => state.apply({ ...event, seq: firstSeq + i, ts: 1000 + firstSeq + i } as StoredEvent));
  return state;
}
const created = (id: string, type: string, properties: Record<string, unknown> = {}): RawEvent =>
  ({ type: 'prime.node.created', payload: { id, type, properties } }) as RawEvent;
const updated = (id: string, properties: Record<string, unknown>): RawEvent => ({ type: 'prime.node.updated', payload: { id, properties } }) as RawEvent;
const deleted = (id: string): RawEvent => ({ type: 'prime.node.deleted', payload: { id } });

describe('NodeState', () => {
  it('given a created node, when read, then the record carries type, domain, timestamps and version', () => {
    const state = given([created('a', 'person', { name: 'Ada' })]);
    expect(state.get('a')).toEqual({ id: 'a', type: 'person', domain: 'person', properties: { name: 'Ada' }, createdAt: 1001, updatedAt: 1001, version: 1 });
    expect(state.has('a')).toBe(true);
    expect(state.has('b')).toBe(false);
    expect(state.get('b')).toBeUndefined();
  });

  it('given properties.domain, when read, then it is the domain; an empty one falls back to the type', () => {
    const state = given([created('a', 'person', { domain: 'work' }), created('b', 'person', { domain: '' }), created('c', 'person', { domain: 7 })]);
    expect(state.get('a')!.domain).toBe('work');
    expect(state.get('b')!.domain).toBe('person');
    expect(state.get('c')!.domain).toBe('person');
  });

  it('given an update, when read, then properties are shallow-merged, null keys removed, and version/updatedAt advance', () => {
    const state = given([created('a', 'person', { name: 'Ada', age: 36, tags: ['x'] }), created('b', 'place'), updated('a', { age: 37, tags: null, city: 'London' })]);
    expect(state.get('a')).toEqual({
      id: 'a', type: 'person', domain: 'person', properties: { name: 'Ada', age: 37, city: 'London' }, createdAt: 1001, updatedAt: 1003, version: 3,
    });
    expect(Object.keys(state.get('a')!.properties)).toEqual(['name', 'age', 'city']);
  });

  it('given a record read before an update, when the update applies, then the old record is an unchanged snapshot', () => {
    const state = given([created('a', 'person', { n: 1 })]);
    const before = state.get('a')!;
    given([updated('a', { n: 2 })], state, 2);
    expect(before.properties).toEqual({ n: 1 });
    expect(state.get('a')!.properties).toEqual({ n: 2 });
  });

  it('given domain changes by update, when read, then the domain follows properties.domain and falls back to the type on null', () => {
    const state = given([created('a', 'person'), updated('a', { domain: 'work' })]);
    expect(state.get('a')!.domain).toBe('work');
    given([updated('a', { other: 1 })], state, 3);
    expect(state.get('a')!.domain).toBe('work');
    given([updated('a', { domain: null })], state, 4);
    expect(state.get('a')!.domain).toBe('person');
    expect(state.get('a')!.properties).toEqual({ other: 1 });
  });

  it('given creates and deletes, when counted, then only live nodes count, by type, in creation order', () => {
    const state = given([created('a', 'person'), created('b', 'person'), created('c', 'place'), deleted('a'), created('d', 'event'), deleted('d')]);
    expect(state.count).toBe(2);
    expect(state.countsByType()).toEqual({ person: 1, place: 1 });
    expect([...state.ids()]).toEqual(['b', 'c']);
    expect(state.get('a')).toBeUndefined();
  });

  it('given ids looked up (and remembered) before and after they are created and deleted, then each lookup sees the change', () => {
    const state = new NodeState();
    expect([state.rememberHandleOf('a'), state.rememberHandleOf('b')]).toEqual([-1, -1]);
    given([created('a', 'person')], state);
    expect(state.rememberHandleOf('a')).toBeGreaterThanOrEqual(0);
    expect(state.handleOf('b')).toBe(-1);
    given([created('b', 'person')], state, 2);
    expect(state.has('b')).toBe(true);
    const b = state.rememberHandleOf('b');
    given([deleted('b')], state, 3);
    expect(state.has('b')).toBe(false);
    expect(state.handleOf('b')).toBe(-1);
    given([created('c', 'place')], state, 4);
    expect(state.rememberHandleOf('c')).toBe(b); // the freed handle, reused
    expect(state.get('c')!.type).toBe('place');
    expect(state.has('b')).toBe(false);
    state.forgetRemembered();
    expect([state.handleOf('a'), state.handleOf('b'), state.handleOf('c')]).toEqual([0, -1, b]);
  });

  it('given remembered ids that end alike (one cache slot), when looked up in turn, then each id gets its own handle', () => {
    const ids = ['x-0000-tail', 'y-1111-tail', 'z-2222-tail'];
    const state = given(ids.map((id) => created(id, 'person')));
    const handles = ids.map((id) => state.handleOf(id));
    expect(new Set(handles).size).toBe(3);
    for (let round = 0; round < 2; round++) expect(ids.map((id) => state.rememberHandleOf(id))).toEqual(handles);
    expect(ids.map((id) => state.handleOf(id))).toEqual(handles);
    expect(state.rememberHandleOf('w-3333-tail')).toBe(-1);
    given([deleted('y-1111-tail')], state, 4);
    expect(ids.map((id) => state.handleOf(id))).toEqual([handles[0], -1, handles[2]]);
    state.forgetRemembered();
    expect(ids.map((id) => state.handleOf(id))).toEqual([handles[0], -1, handles[2]]);
  });

  it('given thousands of nodes (columns grown many times), when read and reloaded, then every node has its own type, domain and stamps', async () => {
    const count = 5_000;
    const state = given(Array.from({ length: count }, (_, i) => created(`n${i}`, `t${i % 300}`, i % 7 === 0 ? { domain: `d${i % 5}` } : {})));
    given([updated('n4999', { x: 1 })], state, count + 1);
    const copy = new NodeState();
    await copy.load(joinedBytes(await state.save()));
    for (const nodes of [state, copy]) {
      for (let i = 0; i < count; i++) {
        const version = i === count - 1 ? count + 1 : i + 1;
        expect(nodes.get(`n${i}`)).toMatchObject({ type: `t${i % 300}`, domain: i % 7 === 0 ? `d${i % 5}` : `t${i % 300}`, createdAt: 1001 + i, updatedAt: 1000 + version, version });
      }
    }
  });

  it('given a node deleted and recreated, when read, then it is the new node', () => {
    const state = given([created('a', 'person', { v: 1 }), deleted('a'), created('a', 'place')]);
    expect(state.get('a')).toMatchObject({ type: 'place', properties: {}, createdAt: 1003, version: 3 });
  });

  it('given a saved state, when loaded into a fresh instance, then the digest and every record are equal', async () => {
    const state = given([created('a', 'person', { nested: { deep: [1, { x: null }] } }), created('b', 'place', { domain: 'geo' }), updated('a', { k: 'v' }), created('c', 'person'), deleted('c')]);
    const copy = new NodeState();
    await copy.load(joinedBytes(await state.save()));
    expect(copy.digest()).toBe(state.digest());
    expect([...copy.ids()]).toEqual([...state.ids()]);
    for (const id of state.ids()) expect(copy.get(id)).toEqual(state.get(id));
    expect(copy.countsByType()).toEqual(state.countsByType());
  });

  it('given the same nodes inserted in another order with keys in another order, when digested, then the digests are equal', () => {
    const one = new NodeState();
    one.apply({ ...created('a', 'person', { x: 1, y: { p: 1, q: 2 } }), seq: 1, ts: 10 } as StoredEvent);
    one.apply({ ...created('b', 'person'), seq: 2, ts: 20 } as StoredEvent);
    const two = new NodeState();
    two.apply({ ...created('b', 'person'), seq: 2, ts: 20 } as StoredEvent);
    two.apply({ ...created('a', 'person', { y: { q: 2, p: 1 }, x: 1 }), seq: 1, ts: 10 } as StoredEvent);
    expect(two.digest()).toBe(one.digest());
    expect(given([created('a', 'person', { x: 2 })]).digest()).not.toBe(given([created('a', 'person', { x: 1 })]).digest());
  });
});
