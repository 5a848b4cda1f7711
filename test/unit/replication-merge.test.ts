// Merge rules, as a property: given random histories of concurrent events from three origins
// (creates, conflicting updates, deletes, edges to deleted nodes, re-creates, vectors), when they
// arrive in many random orders (each origin's events in its own order, as a stream delivers them,
// sometimes redelivered), then every order gives the same content, and that content is what the
// rules say, computed here from the event set alone by an independent oracle. The merged events
// run through the real projections, so any effect they cannot apply literally fails loudly.
import { describe, expect, it } from 'vitest';

import { ProjectionRegistry } from '../../projections/registry.js';
import type { JsonValue, Properties, RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { contentDigest } from '../../src/replication/content-digest.js';
import { HybridClock, stampOf } from '../../src/replication/hlc.js';
import { ReplicaMerge, type ReplicatedEvent } from '../../src/replication/merge.js';
import { seededRandom } from '../../bench/support/random.js';
import { joinedBytes } from '../../projections/saved-runs.js';

const origins = ['alpha', 'beta', 'gamma'] as const;
const nodeIds = ['n0', 'n1', 'n2', 'n3', 'n4'];
const edgeIds = ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'];
const vectorIds = [...nodeIds, 'free'];
const keys = ['k0', 'k1', 'k2'];
const historiesCount = 60;
const ordersPerHistory = 12;
const eventsPerOrigin = 25;


const pick = <T,>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function randomProperties(random: () => number, allowNull: boolean): Properties {
  const props: Properties = {};
  for (const key of keys) {
    const roll = random();
    if (roll < 0.4) continue;
    props[key] = allowNull && roll > 0.85 ? null : Math.floor(random() * 5);
  }
  return props;
}

function randomEvent(random: () => number): RawEvent {
  const roll = random();
  if (roll < 0.2) return { type: 'prime.node.created', payload: { id: pick(random, nodeIds), type: pick(random, ['person', 'place']), properties: randomProperties(random, false) } };
  if (roll < 0.45) return { type: 'prime.node.updated', payload: { id: pick(random, nodeIds), properties: randomProperties(random, true) } };
  if (roll < 0.55) return { type: 'prime.node.deleted', payload: { id: pick(random, nodeIds) } };
  if (roll < 0.72) {
    return {
      type: 'prime.edge.created',
      payload: { id: pick(random, edgeIds), source: pick(random, nodeIds), target: pick(random, nodeIds), relation: pick(random, ['knows', 'near']), weight: 1 + Math.floor(random() * 3), properties: {} },
    };
  }
  if (roll < 0.8) return { type: 'prime.edge.deleted', payload: { id: pick(random, edgeIds) } };
  if (roll < 0.93) return { type: 'prime.vector.stored', payload: { id: pick(random, vectorIds), vector: Float32Array.from([random(), random(), 1]), text: `t${Math.floor(random() * 9)}` } };
  return { type: 'prime.vector.deleted', payload: { id: pick(random, vectorIds) } };
}

/**
 * Three origins writing concurrently: each has its own skewed clock, and now and then it has seen
 * another origin's latest event (so its clock moves past it), as a machine does when the stream
 * delivers in between its writes.
 */
function randomHistory(random: () => number): ReplicatedEvent[][] {
  const clocks = origins.map((_, i) => {
    let wall = 1_700_000_000_000 + i * Math.floor(random() * 40);
    return new HybridClock(() => (wall += Math.floor(random() * 3)));
  });
  const streams: ReplicatedEvent[][] = origins.map(() => []);
  for (let round = 0; round < eventsPerOrigin; round++) {
    origins.forEach((origin, i) => {
      if (random() < 0.3) {
        const other = streams[Math.floor(random() * origins.length)]!;
        const last = other[other.length - 1];
        if (last !== undefined) clocks[i]!.receive(last.hlc);
      }
      const event = randomEvent(random);
      streams[i]!.push({ ...event, seq: 0, ts: 0, origin, hlc: clocks[i]!.tick() } as ReplicatedEvent);
    });
  }
  return streams;
}

/** A random interleaving of the origins' streams, each kept in order; sometimes a prefix of one is delivered again. */
function randomArrival(random: () => number, streams: ReplicatedEvent[][]): ReplicatedEvent[] {
  const next = streams.map(() => 0);
  const arrival: ReplicatedEvent[] = [];
  for (;;) {
    const open = streams.map((s, i) => i).filter((i) => next[i]! < streams[i]!.length);
    if (open.length === 0) return arrival;
    const i = pick(random, open);
    const stream = streams[i]!;
    if (random() < 0.05 && next[i]! > 0) {
      const from = Math.floor(random() * next[i]!);
      arrival.push(...stream.slice(from, next[i]!));
    }
    arrival.push(stream[next[i]!++]!);
  }
}

function newRegistry(): ProjectionRegistry {
  return new ProjectionRegistry({ expander: () => new ReplicaMerge() });
}

function applyAll(registry: ProjectionRegistry, events: readonly ReplicatedEvent[], firstSeq = 1): void {
  events.forEach((event, i) => registry.apply({ ...event, seq: firstSeq + i, ts: 1000 } as StoredEvent));
}

function digestOf(registry: ProjectionRegistry): string {
  const p = registry.byName;
  return contentDigest({ nodes: p['node-state'], adjacency: p.adjacency, vectors: p['vector-index'] });
}

// ---- the oracle: the rules, as a function of the event set alone ----

interface Expected {
  nodes: Record<string, { type: string; properties: Properties }>;
  edges: Record<string, { source: string; target: string; relation: string; weight: number }>;
  vectors: Record<string, number[]>;
}

function expectedContent(streams: ReplicatedEvent[][]): Expected {
  const events = streams.flat().map((e) => ({ e, stamp: stampOf(e.hlc, e.origin) }));
  const newest = <T,>(items: T[], stampOfItem: (item: T) => string): T | undefined =>
    items.reduce<T | undefined>((best, item) => (best === undefined || stampOfItem(item) > stampOfItem(best) ? item : best), undefined);
  const tomb = (id: string): string => newest(events.filter(({ e }) => e.type === 'prime.node.deleted' && e.payload.id === id), (x) => x.stamp)?.stamp ?? '';
  const create = (id: string) => newest(events.filter(({ e }) => e.type === 'prime.node.created' && e.payload.id === id), (x) => x.stamp);
  const alive = (id: string): boolean => {
    const c = create(id);
    return c !== undefined && c.stamp > tomb(id);
  };
  const known = (id: string): boolean => events.some(({ e }) => (e.type === 'prime.node.created' || e.type === 'prime.node.deleted') && e.payload.id === id);

  const expected: Expected = { nodes: {}, edges: {}, vectors: {} };
  for (const id of nodeIds) {
    if (!alive(id)) continue;
    const writes = new Map<string, { value: JsonValue; stamp: string }>();
    for (const { e, stamp } of events) {
      if ((e.type !== 'prime.node.created' && e.type !== 'prime.node.updated') || e.payload.id !== id || stamp <= tomb(id)) continue;
      for (const [key, value] of Object.entries(e.payload.properties)) {
        const current = writes.get(key);
        if (current === undefined || stamp > current.stamp) writes.set(key, { value, stamp });
      }
    }
    const properties: Properties = {};
    for (const [key, { value }] of writes) if (value !== null) properties[key] = value;
    const c = create(id)!.e as ReplicatedEvent & { type: 'prime.node.created' };
    expected.nodes[id] = { type: c.payload.type, properties };
  }
  for (const id of edgeIds) {
    const c = newest(events.filter(({ e }) => e.type === 'prime.edge.created' && e.payload.id === id), (x) => x.stamp);
    const d = newest(events.filter(({ e }) => e.type === 'prime.edge.deleted' && e.payload.id === id), (x) => x.stamp);
    if (c === undefined || (d !== undefined && d.stamp >= c.stamp)) continue;
    const p = (c.e as ReplicatedEvent & { type: 'prime.edge.created' }).payload;
    if (!alive(p.source) || !alive(p.target) || c.stamp <= tomb(p.source) || c.stamp <= tomb(p.target)) continue;
    expected.edges[id] = { source: p.source, target: p.target, relation: p.relation, weight: p.weight ?? 1 };
  }
  for (const id of vectorIds) {
    const w = newest(events.filter(({ e }) => (e.type === 'prime.vector.stored' || e.type === 'prime.vector.deleted') && e.payload.id === id), (x) => x.stamp);
    if (w === undefined || w.e.type !== 'prime.vector.stored') continue;
    if (known(id) && !(alive(id) && w.stamp > tomb(id))) continue;
    expected.vectors[id] = Array.from(w.e.payload.vector as Float32Array);
  }
  return expected;
}

function actualContent(registry: ProjectionRegistry): Expected {
  const p = registry.byName;
  const actual: Expected = { nodes: {}, edges: {}, vectors: {} };
  for (const id of p['node-state'].ids()) {
    const node = p['node-state'].get(id)!;
    actual.nodes[id] = { type: node.type, properties: { ...node.properties } };
  }
  for (const id of nodeIds) {
    for (const edge of p.adjacency.edgesOf(id)) actual.edges[edge.id] = { source: edge.source, target: edge.target, relation: edge.relation, weight: edge.weight };
  }
  for (const id of p['vector-index'].ids()) actual.vectors[id] = Array.from(p['vector-index'].get(id)!.vector);
  return actual;
}

describe('replication merge rules', () => {
  it('given random concurrent histories from three origins, when applied in many arrival orders, then every order converges to the content the rules give', () => {
    let nonTrivial = 0;
    for (let seed = 1; seed <= historiesCount; seed++) {
      const random = seededRandom(seed);
      const streams = randomHistory(random);
      const expected = expectedContent(streams);
      let first: string | undefined;
      for (let order = 0; order < ordersPerHistory; order++) {
        const registry = newRegistry();
        applyAll(registry, randomArrival(random, streams));
        const digest = digestOf(registry);
        first ??= digest;
        expect({ seed, order, digest }).toEqual({ seed, order, digest: first });
        if (order === 0) expect({ seed, content: actualContent(registry) }).toEqual({ seed, content: expected });
      }
      if (Object.keys(expected.nodes).length > 0 && Object.keys(expected.edges).length > 0) nonTrivial++;
    }
    // The histories must exercise something: most end with live nodes joined by live edges.
    expect(nonTrivial).toBeGreaterThan(historiesCount / 2);
  });

  it('given a history half applied, when its state is checkpointed and loaded into fresh projections and the rest applied, then the content is the same as without the checkpoint', async () => {
    for (let seed = 100; seed < 120; seed++) {
      const random = seededRandom(seed);
      const arrival = randomArrival(random, randomHistory(random));
      const cut = Math.floor(random() * arrival.length);
      const straight = newRegistry();
      applyAll(straight, arrival);

      const before = newRegistry();
      applyAll(before, arrival.slice(0, cut));
      const parts = await Promise.all(before.all().map(async (p) => [p.name, joinedBytes(await p.save())] as const));
      const after = newRegistry();
      for (const projection of after.loadOrder) await projection.load(parts.find(([name]) => name === projection.name)![1]);
      applyAll(after, arrival.slice(cut), cut + 1);

      expect({ seed, digest: digestOf(after) }).toEqual({ seed, digest: digestOf(straight) });
      expect(after.expander!.digest()).toBe(straight.expander!.digest());
    }
  });

  it('given a save of the merge state in progress, when events arrive between its slices, then it holds the state as of its start', async () => {
    for (let seed = 200; seed < 230; seed++) {
      const random = seededRandom(seed);
      const arrival = randomArrival(random, randomHistory(random));
      const cut = Math.floor(random() * arrival.length);
      const atCut = newRegistry();
      applyAll(atCut, arrival.slice(0, cut));

      const during = newRegistry();
      applyAll(during, arrival.slice(0, cut));
      const merge = during.expander as ReplicaMerge;
      merge.saveSliceRows = 1; // a turn of the event loop after every record
      const saving = merge.save();
      for (let i = cut; i < arrival.length; i++) {
        applyAll(during, [arrival[i]!], i + 1);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const loaded = new ReplicaMerge();
      await loaded.load(await saving);

      expect({ seed, digest: loaded.digest() }).toEqual({ seed, digest: atCut.expander!.digest() });
      // And the state kept going meanwhile: the engine that saved ends where one that never saved does.
      const straight = newRegistry();
      applyAll(straight, arrival);
      expect({ seed, digest: merge.digest() }).toEqual({ seed, digest: straight.expander!.digest() });
    }
  });

  it('given a merge state saved in format 2 (stamps as text), when loaded, then it is refused as CHECKPOINT_CORRUPT (the engine then replays)', async () => {
    const { Packr } = await import('msgpackr');
    const formatTwo = new Packr({ useRecords: false }).pack([2, [['alpha', '0000000000010000000']], 0, 0]);
    await expect(new ReplicaMerge().load(formatTwo)).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT', message: expect.stringMatching(/format 2, expected 3/) });
  });

  it('given a conflicting update and a delete, when they arrive in either order, then the delete wins and a later re-create starts clean', () => {
    const at = (wall: number, origin: string, event: RawEvent): ReplicatedEvent => ({ ...event, seq: 0, ts: 0, origin, hlc: wall.toString(16).padStart(12, '0') + '000000' }) as ReplicatedEvent;
    const create = at(10, 'alpha', { type: 'prime.node.created', payload: { id: 'n', type: 'person', properties: { name: 'Ada' } } });
    const update = at(12, 'beta', { type: 'prime.node.updated', payload: { id: 'n', properties: { name: 'Grace' } } });
    const remove = at(11, 'gamma', { type: 'prime.node.deleted', payload: { id: 'n' } });
    for (const order of [[create, update, remove], [create, remove, update], [remove, update, create]]) {
      const registry = newRegistry();
      applyAll(registry, order);
      // The update (12) is newer than the delete (11), but the node has no create newer than the tombstone: it stays deleted.
      expect(registry.byName['node-state'].get('n')).toBeUndefined();
    }
    const recreate = at(13, 'alpha', { type: 'prime.node.created', payload: { id: 'n', type: 'person', properties: { age: 3 } } });
    const registry = newRegistry();
    applyAll(registry, [recreate, update, remove, create]);
    // Re-created at 13: the name written at 12 (after the tombstone at 11) still counts; 'Ada' (10) does not.
    expect(registry.byName['node-state'].get('n')!.properties).toEqual({ name: 'Grace', age: 3 });
  });

  it('given the documented conflict (concurrent updates, a delete, an update and an edge after it, a re-create), when it arrives in every order, then name is the re-create\'s, city the post-delete update\'s, and the edge stands', () => {
    const at = (wall: number, origin: string, event: RawEvent): ReplicatedEvent => ({ ...event, seq: 0, ts: 0, origin, hlc: wall.toString(16).padStart(12, '0') + '000000' }) as ReplicatedEvent;
    const setup = [
      at(50, 'laptop', { type: 'prime.node.created', payload: { id: 'n', type: 'person', properties: { name: 'Ada', city: 'London' } } }),
      at(51, 'laptop', { type: 'prime.node.created', payload: { id: 'm', type: 'person', properties: {} } }),
    ];
    const conflict = [
      at(100, 'laptop', { type: 'prime.node.updated', payload: { id: 'n', properties: { name: 'Ada Lovelace' } } }),
      at(101, 'desktop', { type: 'prime.node.updated', payload: { id: 'n', properties: { name: 'A. Lovelace', city: null } } }),
      at(102, 'buildbox', { type: 'prime.node.deleted', payload: { id: 'n' } }),
      at(103, 'laptop', { type: 'prime.node.updated', payload: { id: 'n', properties: { city: 'Paris' } } }),
      at(103, 'laptop', { type: 'prime.edge.created', payload: { id: 'e', source: 'n', target: 'm', relation: 'knows', weight: 1, properties: {} } }),
      at(104, 'desktop', { type: 'prime.node.created', payload: { id: 'n', type: 'person', properties: { name: 'Countess' } } }),
    ];
    // Laptop's two events at 103 share a clock here only to match the table; give the edge the next counter.
    conflict[4] = { ...conflict[4]!, hlc: conflict[4]!.hlc.slice(0, 12) + '000001' };
    const permutations = (items: ReplicatedEvent[]): ReplicatedEvent[][] =>
      items.length <= 1 ? [items] : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
    let orders = 0;
    for (const order of permutations(conflict)) {
      // Keep each origin's own events in its order, as the stream delivers them.
      if (order.some((e, i) => order.slice(i + 1).some((later) => later.origin === e.origin && later.hlc < e.hlc))) continue;
      const registry = newRegistry();
      applyAll(registry, [...setup, ...order]);
      expect(registry.byName['node-state'].get('n')!.properties).toEqual({ name: 'Countess', city: 'Paris' });
      expect(registry.byName.adjacency.getEdge('e')).toMatchObject({ source: 'n', target: 'm' });
      orders++;
    }
    expect(orders).toBe(60); // 6! orders, with laptop's three and desktop's two events each in their own order
  });
});
