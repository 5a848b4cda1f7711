// The vector projection over real hnswlib-node: given stored/deleted vector events, when
// searched (before and after background indexing, and after a save/load), then the answers.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';

import { clusteredVectors } from '../../bench/vector-index.js';
import { isMnemoError } from '../../src/kernel/errors.js';
import type { Properties, StoredEvent } from '../../src/kernel/events.js';
import { VectorIndex } from '../../projections/vector-index.js';

let seq = 0;
function stored(id: string, vector: number[] | Float32Array, text?: string, metadata?: Properties): StoredEvent {
  const payload: { id: string; vector: number[] | Float32Array; text?: string; metadata?: Properties } = { id, vector };
  if (text !== undefined) payload.text = text;
  if (metadata !== undefined) payload.metadata = metadata;
  return { seq: ++seq, ts: 0, type: 'prime.vector.stored', payload };
}
function deleted(id: string): StoredEvent {
  return { seq: ++seq, ts: 0, type: 'prime.vector.deleted', payload: { id } };
}

/** Indexes everything pending, in the slices the engine's background loop would use. */
function indexAll(index: VectorIndex): void {
  while (index.pendingCount > 0) index.indexPending(5);
}

/** A small, well-separated set: unit axes and their neighbours in 4-d. */
function givenAxes(index: VectorIndex): void {
  index.apply(stored('x', [1, 0, 0, 0], 'the x axis', { kind: 'axis' }));
  index.apply(stored('y', [0, 1, 0, 0]));
  index.apply(stored('z', [0, 0, 1, 0]));
  index.apply(stored('xy', [1, 1, 0, 0]));
  index.apply(stored('near-x', [0.9, 0.1, 0, 0]));
}

function exactTop(data: Map<string, Float32Array>, query: Float32Array, k: number): string[] {
  const cos = (a: Float32Array, b: Float32Array): number => {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += (a[i] as number) * (b[i] as number);
      na += (a[i] as number) ** 2;
      nb += (b[i] as number) ** 2;
    }
    return dot / Math.sqrt(na * nb);
  };
  return [...data.entries()]
    .map(([id, v]) => ({ id, score: cos(query, v) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.id);
}

describe('vector-index: store, replace, delete', () => {
  it('given a stored vector, then it is live with its text and metadata, and the dim is fixed by it', () => {
    const index = new VectorIndex();
    index.apply(stored('a', [1, 2, 3], 'hello', { tag: 'x' }));
    expect(index.dim).toBe(3);
    expect(index.has('a')).toBe(true);
    expect(index.count).toBe(1);
    expect(index.pendingCount).toBe(1);
    const got = index.get('a');
    expect(Array.from(got?.vector ?? [])).toEqual([1, 2, 3]);
    expect(got?.text).toBe('hello');
    expect(got?.metadata).toEqual({ tag: 'x' });
  });

  it('given an indexed vector, when it is replaced, then only the new vector is found, before and after indexing', () => {
    const index = new VectorIndex();
    givenAxes(index);
    indexAll(index);
    index.apply(stored('x', [0, 0, 0, 1], 'moved'));
    expect(index.count).toBe(5);
    expect(index.pendingCount).toBe(1);
    expect(index.get('x')?.text).toBe('moved');
    expect(index.get('x')?.metadata).toBeUndefined();
    const before = index.search([0, 0, 0, 1], 1);
    indexAll(index);
    const after = index.search([0, 0, 0, 1], 1);
    // A hit carries the text stored with its vector: the replacement's, pending or indexed.
    expect(before).toEqual([{ id: 'x', score: expect.closeTo(1, 5), text: 'moved' }]);
    expect(after).toEqual([{ id: 'x', score: expect.closeTo(1, 5), text: 'moved' }]);
    expect(index.search([1, 0, 0, 0], 5).map((h) => h.id)).not.toContain(undefined);
    expect(index.search([1, 0, 0, 0], 1)[0]?.id).toBe('near-x');
  });

  it('given pending and indexed vectors, when they are deleted, then neither is ever returned', () => {
    const index = new VectorIndex();
    givenAxes(index);
    index.indexPending(0); // indexes exactly one: 'x'
    expect(index.pendingCount).toBe(4);
    index.apply(deleted('x')); // indexed
    index.apply(deleted('near-x')); // still pending
    index.apply(deleted('nothing-there')); // a no-op
    expect(index.has('x')).toBe(false);
    expect(index.count).toBe(3);
    expect(index.pendingCount).toBe(3);
    const ids = (): string[] => index.search([1, 0, 0, 0], 10).map((h) => h.id);
    expect(ids().sort()).toEqual(['xy', 'y', 'z']);
    indexAll(index);
    expect(ids().sort()).toEqual(['xy', 'y', 'z']);
  });

  it('given a node deletion, then the vector with the node id goes too (the cascade)', () => {
    const index = new VectorIndex();
    index.apply(stored('node:doc:1', [1, 0]));
    index.apply({ seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: 'node:doc:1' } });
    expect(index.has('node:doc:1')).toBe(false);
  });

  it('given other event types, then they are ignored', () => {
    const index = new VectorIndex();
    index.apply({ seq: ++seq, ts: 0, type: 'prime.node.created', payload: { id: 'n', type: 't', properties: {} } });
    expect(index.count).toBe(0);
    expect(index.dim).toBeUndefined();
    expect(index.search([1, 2], 5)).toEqual([]);
  });

  it('given a configured dim, when a query has another dim, then it is a validation error', () => {
    const index = new VectorIndex({ dim: 3 });
    index.apply(stored('a', [1, 2, 3]));
    expect(index.dim).toBe(3);
    try {
      index.search([1, 2], 1);
      expect.unreachable();
    } catch (e) {
      expect(isMnemoError(e, 'VALIDATION_FAILED')).toBe(true);
    }
  });
});

describe('vector-index: search', () => {
  it('given a small set, when searched by vector, then the exact nearest comes first with score 1 - cosine distance', () => {
    const index = new VectorIndex();
    givenAxes(index);
    indexAll(index);
    const hits = index.search(new Float32Array([1, 0.05, 0, 0]), 3);
    expect(hits.map((h) => h.id)).toEqual(['x', 'near-x', 'xy']);
    expect(hits[0]?.score).toBeCloseTo(1 / Math.sqrt(1 + 0.05 ** 2), 5);
    expect(hits[2]?.score).toBeCloseTo(1.05 / (Math.sqrt(2) * Math.sqrt(1 + 0.05 ** 2)), 5);
  });

  it('given vectors never indexed, then every one is its own nearest neighbour at once, and still after indexing', () => {
    const data = clusteredVectors(300, 16, 5, 11);
    const index = new VectorIndex({ initialCapacity: 64 });
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    expect(index.pendingCount).toBe(300);
    const selfHits = (): number => data.filter((v, i) => index.search(v, 1)[0]?.id === `v${i}`).length;
    expect(selfHits()).toBe(300);
    index.indexPending(0); // one indexed, the rest pending: the two halves of a search merge
    expect(selfHits()).toBe(300);
    indexAll(index);
    expect(index.pendingCount).toBe(0);
    expect(selfHits()).toBe(300);
  });

  it('given an accept filter, then only accepted ids are returned, k of them while enough exist, each once', () => {
    const data = clusteredVectors(2000, 16, 4, 5);
    const index = new VectorIndex();
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    indexAll(index);
    // 1 in 200 ids accepted (10 in all): too rare for the widened retries, so hnswlib's filter callback answers.
    const rare = (id: string): boolean => Number(id.slice(1)) % 200 === 0;
    const query = data[7] as Float32Array;
    const hits = index.search(query, 10, rare);
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => rare(h.id))).toBe(true);
    const accepted = new Map([...data.entries()].filter(([i]) => i % 200 === 0).map(([i, v]) => [`v${i}`, v]));
    expect(hits.map((h) => h.id)).toEqual(exactTop(accepted, query, 10));
    // Excluding the query's own id, as similar({ id }) does.
    const others = index.search(query, 5, (id) => id !== 'v7');
    expect(others.map((h) => h.id)).not.toContain('v7');
    expect(others).toHaveLength(5);
    // 1 in 20 accepted: found by widening the search (k + slack, then x8), with no duplicates.
    const some = index.search(query, 10, (id) => Number(id.slice(1)) % 20 === 0);
    expect(new Set(some.map((h) => h.id)).size).toBe(10);
    expect(some.every((h) => Number(h.id.slice(1)) % 20 === 0)).toBe(true);
  });

  it('given a zero vector, then search does not crash and scores it 0 against anything', () => {
    const index = new VectorIndex();
    index.apply(stored('zero', [0, 0, 0]));
    index.apply(stored('one', [1, 0, 0]));
    expect(index.search([1, 0, 0], 2)).toEqual([{ id: 'one', score: 1 }, { id: 'zero', score: 0 }]);
    indexAll(index);
    const hits = index.search([1, 0, 0], 2);
    expect(hits[1]).toEqual({ id: 'zero', score: expect.closeTo(0, 6) });
    expect(index.search([0, 0, 0], 2).map((h) => h.score)).toEqual([expect.closeTo(0, 6), expect.closeTo(0, 6)]);
  });

  it('given more vectors than the initial capacity, then capacity grows without losing any', () => {
    const data = clusteredVectors(500, 8, 3, 3);
    const index = new VectorIndex({ initialCapacity: 16 });
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    indexAll(index);
    expect(index.count).toBe(500);
    expect(index.graphCapacity).toBe(512);
    expect(data.every((v, i) => index.search(v, 1)[0]?.id === `v${i}`)).toBe(true);
  });

  it('given churn (replace every vector many times), then deleted slots are reused and capacity stays at the live count', () => {
    const data = clusteredVectors(100, 8, 3, 4);
    const index = new VectorIndex({ initialCapacity: 128 });
    for (let round = 0; round < 20; round++) {
      data.forEach((v, i) => index.apply(stored(`v${i}`, v.map((x) => x + round * 0.001))));
      indexAll(index);
    }
    expect(index.count).toBe(100);
    // 2000 stores, and the graph never grew past its 128 slots: replaced labels are reused.
    expect(index.graphCapacity).toBe(128);
    expect(data.every((v, i) => index.search(v, 1)[0]?.id === `v${i}`)).toBe(true);
    expect(index.search(data[0] as Float32Array, 100)).toHaveLength(100);
  });

  it('given 5K clustered 64-d vectors, then recall@10 against brute force is at least 0.95', () => {
    const all = clusteredVectors(5100, 64, 50, 2024);
    const data = all.slice(0, 5000);
    const queries = all.slice(5000);
    const index = new VectorIndex();
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    indexAll(index);
    const byId = new Map(data.map((v, i) => [`v${i}`, v]));
    let hits = 0;
    for (const q of queries) {
      const exact = new Set(exactTop(byId, q, 10));
      hits += index.search(q, 10).filter((h) => exact.has(h.id)).length;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('vector-index: digest, save, load', () => {
  it('given the same vectors applied in another order and indexed at other times, then the digests are equal', () => {
    const a = new VectorIndex();
    const b = new VectorIndex();
    a.apply(stored('p', [1, 2], 't', { b: 1, a: [1, { y: 2, x: 1 }] }));
    a.apply(stored('q', [3, 4]));
    indexAll(a);
    b.apply(stored('q', [3, 4]));
    b.apply(stored('p', [1, 2], 't', { a: [1, { x: 1, y: 2 }], b: 1 }));
    expect(a.digest()).toBe(b.digest());
    b.apply(stored('q', [3, 5]));
    expect(a.digest()).not.toBe(b.digest());
  });

  it('given indexed, pending and deleted vectors, when saved and loaded, then searches and digest are identical and nothing is re-inserted', async () => {
    const data = clusteredVectors(1500, 32, 10, 9);
    const index = new VectorIndex({ initialCapacity: 256 });
    data.forEach((v, i) => index.apply(stored(`v${i}`, v, `text ${i}`, { i })));
    while (index.pendingCount > 200) index.indexPending(0);
    for (let i = 0; i < 1500; i += 7) index.apply(deleted(`v${i}`));
    index.apply(stored('v1', data[2] as Float32Array, 'replaced'));

    const bytes = await index.save();
    const copy = new VectorIndex();
    await copy.load(bytes);

    expect(copy.pendingCount).toBe(index.pendingCount);
    expect(copy.count).toBe(index.count);
    expect(copy.dim).toBe(32);
    expect(copy.digest()).toBe(index.digest());
    expect(copy.get('v1')).toEqual(index.get('v1'));
    for (const q of data.slice(0, 50)) expect(copy.search(q, 10)).toEqual(index.search(q, 10));

    // Both keep working the same way afterwards: same slots, same queue.
    indexAll(index);
    indexAll(copy);
    for (const q of data.slice(50, 80)) expect(copy.search(q, 10)).toEqual(index.search(q, 10));
  });

  it('given a search and deletes while a save is writing, then the saved state is the one at save time', async () => {
    const data = clusteredVectors(200, 8, 2, 1);
    const index = new VectorIndex();
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    indexAll(index);
    const digestAtSave = index.digest();
    const saving = index.save();
    index.apply(deleted('v0'));
    expect(index.indexPending(5)).toBe(0); // the graph is not written while hnswlib streams it
    expect(index.search(data[0] as Float32Array, 1)[0]?.id).not.toBe('v0');
    const copy = new VectorIndex();
    await copy.load(await saving);
    expect(copy.digest()).toBe(digestAtSave);
    expect(copy.search(data[0] as Float32Array, 1)[0]?.id).toBe('v0');
    expect(index.search(data[0] as Float32Array, 1)[0]?.id).not.toBe('v0');
  });

  it('given an empty index, when saved and loaded, then it is still empty and accepts a first vector', async () => {
    const copy = new VectorIndex();
    await copy.load(await new VectorIndex().save());
    expect(copy.count).toBe(0);
    copy.apply(stored('a', [1, 0]));
    indexAll(copy);
    expect(copy.search([1, 0], 1)[0]?.id).toBe('a');
  });

  it('given saved bytes at an odd offset of a larger buffer, when loaded, then the vectors are the same', async () => {
    const data = clusteredVectors(300, 16, 3, 4);
    const index = new VectorIndex();
    data.forEach((v, i) => index.apply(stored(`v${i}`, v)));
    while (index.pendingCount > 100) index.indexPending(0);
    const bytes = await index.save();
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const copy = new VectorIndex();
    await copy.load(shifted.subarray(3));
    expect(copy.digest()).toBe(index.digest());
    for (const q of data.slice(0, 20)) expect(copy.search(q, 5)).toEqual(index.search(q, 5));
  });

  it('given a state saved in format 1 (one msgpack map), when loaded, then it is the same index', async () => {
    const data = clusteredVectors(50, 8, 2, 5);
    const live = new VectorIndex();
    data.forEach((v, i) => live.apply(stored(`v${String(i).padStart(2, '0')}`, v, i % 2 === 0 ? `text ${i}` : undefined)));
    const ids = data.map((_, i) => `v${String(i).padStart(2, '0')}`);
    const vectors = new Float32Array(data.length * 8);
    data.forEach((v, i) => vectors.set(v, i * 8));
    const formatOne = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false }).pack({
      version: 1, dim: 8, space: 'cosine', m: 16, efConstruction: 100, nextLabel: 0, ids,
      labels: ids.map(() => -1), texts: ids.map((_, i) => (i % 2 === 0 ? `text ${i}` : null)), metadata: ids.map(() => null),
      vectors: new Uint8Array(vectors.buffer), pending: ids, freeLabels: [], hnsw: null,
    });
    const copy = new VectorIndex();
    await copy.load(formatOne);
    expect(copy.digest()).toBe(live.digest());
    expect(copy.get('v02')).toEqual(live.get('v02'));
    indexAll(copy);
    indexAll(live);
    for (const q of data.slice(0, 10)) expect(copy.search(q, 5)).toEqual(live.search(q, 5));
  });

  it('given damaged bytes, when loaded, then it is a CHECKPOINT_CORRUPT error', async () => {
    const index = new VectorIndex();
    index.apply(stored('a', [1, 0]));
    indexAll(index);
    const bytes = await index.save();
    const cases: Array<[string, Uint8Array]> = [
      ['garbage', new Uint8Array([1, 2, 3])],
      ['truncated', bytes.subarray(0, bytes.length - 10)],
    ];
    for (const [, damaged] of cases) {
      await expect(new VectorIndex().load(damaged)).rejects.toSatisfy((e: unknown) => isMnemoError(e, 'CHECKPOINT_CORRUPT'));
    }
  });
});

describe('vector-index: recall at its defaults, and ef per query', () => {
  /** Mean recall@10 over `queries` against an exact scan. */
  function recallAt(index: VectorIndex, data: Map<string, Float32Array>, queries: Float32Array[], ef?: number): number {
    let found = 0;
    for (const query of queries) {
      const truth = new Set(exactTop(data, query, 10));
      found += index.search(query, 10, undefined, ef).filter((hit) => truth.has(hit.id)).length;
    }
    return found / (10 * queries.length);
  }

  function givenIndexed(vectors: Float32Array[]): { index: VectorIndex; data: Map<string, Float32Array> } {
    const index = new VectorIndex({ space: 'cosine' });
    const data = new Map<string, Float32Array>();
    vectors.forEach((v, i) => {
      data.set(`v${i}`, v);
      index.apply(stored(`v${i}`, v));
    });
    indexAll(index);
    return { index, data };
  }

  it('given 32-d tight clusters (a shape the defaults were not tuned on), when searched at the defaults, then recall@10 is at least 0.95', () => {
    const all = clusteredVectors(5_100, 32, 50, 3, 0.15);
    const { index, data } = givenIndexed(all.slice(0, 5_000));
    expect(recallAt(index, data, all.slice(5_000))).toBeGreaterThanOrEqual(0.95);
  });

  it('given 64-d uniform noise (hard for HNSW), when ef is raised per query, then recall rises, and the index default is left as it was', () => {
    let state = 5;
    const random = (): number => ((state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296) * 2 - 1;
    const all = Array.from({ length: 4_050 }, () => Float32Array.from({ length: 64 }, random));
    const { index, data } = givenIndexed(all.slice(0, 4_000));
    const queries = all.slice(4_000);
    const atDefault = recallAt(index, data, queries);
    const narrow = recallAt(index, data, queries, 10);
    const wide = recallAt(index, data, queries, 1_000);
    expect(narrow).toBeLessThan(wide);
    expect(wide).toBeGreaterThanOrEqual(atDefault);
    expect(wide).toBeGreaterThan(0.95);
    expect(recallAt(index, data, queries)).toBe(atDefault);
  });
});
