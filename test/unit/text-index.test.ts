// Given documents, when searched with BM25, then scores match the formula computed by hand.
import { describe, expect, it } from 'vitest';

import type { StoredEvent } from '../../src/kernel/events.js';
import { NodeState } from '../../projections/node-state.js';
import { postingChunkDocs, TextIndex, tokenize } from '../../projections/text-index.js';
import { joinedBytes } from '../../projections/saved-runs.js';

/** A text index over its own node state, fed every event in engine order (node state first). */
class Indexed {
  readonly nodes = new NodeState();
  readonly text = new TextIndex(
    (id) => this.nodes.get(id)?.properties,
    () => this.nodes.ids(),
  );
  apply(event: StoredEvent): void {
    this.nodes.apply(event);
    this.text.apply(event);
  }
  search(query: string, topK: number, accept?: (id: string) => boolean): ReturnType<TextIndex['search']> {
    return this.text.search(query, topK, accept);
  }
}

let seq = 0;
const node = (id: string, properties: Record<string, unknown>): StoredEvent =>
  ({ seq: ++seq, ts: 0, type: 'prime.node.created', payload: { id, type: 'doc', properties } }) as StoredEvent;
const update = (id: string, properties: Record<string, unknown>): StoredEvent =>
  ({ seq: ++seq, ts: 0, type: 'prime.node.updated', payload: { id, properties } }) as StoredEvent;

describe('tokenize', () => {
  it('lower-cases and splits on Unicode word boundaries', () => {
    expect(tokenize('Write-ahead LOG, Ünïcode 東京 v2.1')).toEqual(['write', 'ahead', 'log', 'ünïcode', '東京', 'v2', '1']);
  });
});

describe('BM25', () => {
  it('given three documents, when searching "apple", then the scores equal the hand-computed BM25 values', () => {
    const index = new Indexed();
    index.apply(node('d1', { text: 'apple banana' }));
    index.apply(node('d2', { text: 'apple apple cherry' }));
    index.apply(node('d3', { text: 'durian' }));
    // N = 3, average length 2, df(apple) = 2 → idf = ln(1 + 1.5/2.5) = ln 1.6.
    // d1: tf 1, length 2 → 1·2.2 / (1 + 1.2·1) = 1.
    // d2: tf 2, length 3 → 2·2.2 / (2 + 1.2·(0.25 + 0.75·1.5)) = 4.4 / 3.65.
    const idf = Math.log(1.6);
    const hits = index.search('apple', 10);
    expect(hits.map((h) => h.id)).toEqual(['d2', 'd1']);
    expect(hits[0]!.score).toBeCloseTo(idf * (4.4 / 3.65), 10);
    expect(hits[1]!.score).toBeCloseTo(idf, 10);
  });

  it('given an update and a delete, then the index follows, and a vector text is searchable under its id', () => {
    const index = new Indexed();
    index.apply(node('n1', { title: 'graph databases', nested: { note: 'adjacency lists' } }));
    expect(index.search('adjacency', 5).map((h) => h.id)).toEqual(['n1']);
    index.apply(update('n1', { nested: null }));
    expect(index.search('adjacency', 5)).toEqual([]);
    expect(index.search('graph', 5).map((h) => h.id)).toEqual(['n1']);
    index.apply({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: 'n1', vector: new Float32Array([1]), text: 'vector search' } } as StoredEvent);
    expect(index.search('vector', 5).map((h) => h.id)).toEqual(['n1']);
    index.apply({ seq: ++seq, ts: 0, type: 'prime.vector.deleted', payload: { id: 'n1' } } as StoredEvent);
    index.apply({ seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: 'n1' } } as StoredEvent);
    expect(index.text.count).toBe(0);
    expect(index.search('graph', 5)).toEqual([]);
  });

  it('given documents of a single term each, when they change, repeat, are deleted and saved, then every search follows', async () => {
    const index = new Indexed();
    index.apply(node('s1', { name: 'Ada' }));
    index.apply(node('s2', { name: 'ada' }));
    index.apply(node('s3', { name: 'Ada Ada' }));
    expect(index.search('ada', 5).map((h) => h.id)).toEqual(['s3', 's1', 's2']);
    index.apply(update('s1', { name: 'Grace' }));
    expect(index.search('ada', 5).map((h) => h.id).sort()).toEqual(['s2', 's3']);
    expect(index.search('grace', 5).map((h) => h.id)).toEqual(['s1']);
    index.apply(update('s1', { name: 'Grace Hopper' }));
    index.apply(update('s1', { name: 'hopper' }));
    expect(index.search('grace', 5)).toEqual([]);
    expect(index.search('hopper', 5).map((h) => h.id)).toEqual(['s1']);
    index.apply({ seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: 's2' } } as StoredEvent);
    expect(index.search('ada', 5).map((h) => h.id)).toEqual(['s3']);
    const copy = new TextIndex((id) => index.nodes.get(id)?.properties, () => index.nodes.ids());
    await copy.load(joinedBytes(await index.text.save()));
    expect(copy.digest()).toBe(index.text.digest());
    expect(copy.search('hopper', 5)).toEqual(index.search('hopper', 5));
    expect(copy.search('ada', 5)).toEqual(index.search('ada', 5));
  });

  it('given a saved index, when loaded, then the digest and answers are the same', async () => {
    const index = new Indexed();
    index.apply(node('a', { t: 'one two two' }));
    index.apply(node('b', { t: 'two three' }));
    const copy = new Indexed();
    await copy.text.load(joinedBytes(await index.text.save()));
    expect(copy.text.digest()).toBe(index.text.digest());
    expect(copy.search('two', 5)).toEqual(index.search('two', 5));
  });

  it('given many matches, when topK is small, then the hits are exactly the best of a full ranking, ties by id', () => {
    const index = new Indexed();
    for (let i = 0; i < 300; i++) index.apply(node(`d${String(i).padStart(3, '0')}`, { t: `common ${'rare '.repeat(i % 7)}filler${i % 5}` }));
    const all = index.search('common rare', 300);
    expect(all).toHaveLength(300);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.score > b.score || (a.score === b.score && a.id < b.id)).toBe(true);
    }
    expect(index.search('common rare', 7)).toEqual(all.slice(0, 7));
    expect(index.search('common rare', 7, (id) => id.endsWith('1'))).toEqual(all.filter((h) => h.id.endsWith('1')).slice(0, 7));
  });
});

describe('a term in more documents than one posting Map holds', () => {
  it('given a term in 2.5 Maps\' worth of documents, when every document of the first Map and some of the others lose it, then df, scores and hits are as if counted afresh, also after save and load', async () => {
    const count = Math.floor(postingChunkDocs * 2.5);
    const index = new Indexed();
    for (let i = 0; i < count; i++) index.apply(node(`d${i}`, { t: 'common' }));
    // The first Map's documents all lose the term (it goes), and every seventh of the rest.
    const keeps = (i: number): boolean => i >= postingChunkDocs && i % 7 !== 0;
    for (let i = 0; i < count; i++) if (!keeps(i)) index.apply(update(`d${i}`, { t: `other${i}` }));
    // And a few re-gain it: they go to the newest Map.
    for (let i = 0; i < 700; i += 7) index.apply(update(`d${i}`, { t: 'common' }));
    const holding = [...Array(count).keys()].filter((i) => keeps(i) || (i < 700 && i % 7 === 0)).map((i) => `d${i}`);
    // Every document has one term, tf 1: each score is the idf, and ties go by id.
    const n = count;
    const idf = Math.log(1 + (n - holding.length + 0.5) / (holding.length + 0.5));
    const hits = index.search('common', 20);
    expect(hits.map((h) => h.id)).toEqual([...holding].sort().slice(0, 20));
    for (const hit of hits) expect(hit.score).toBeCloseTo(idf, 10);
    expect(index.search('common', count).length).toBe(holding.length);
    const restored = new Indexed();
    await restored.nodes.load(joinedBytes(await index.nodes.save()));
    await restored.text.load(joinedBytes(await index.text.save()));
    expect(restored.text.digest()).toBe(index.text.digest());
    expect(restored.search('common', 20)).toEqual(hits);
  });
});

describe('restoring a checkpoint in slices', () => {
  it('given events that arrive while a loaded index is still posting its documents, then it ends equal to the index built live', async () => {
    const live = new Indexed();
    const docs = 60;
    for (let i = 0; i < docs; i++) live.apply(node(`n${i}`, { name: `name${i} shared`, note: i % 3 === 0 ? 'apple pie' : 'banana' }));
    for (let i = 0; i < docs; i += 4) live.apply({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: `n${i}`, vector: new Float32Array([1]), text: `vectortext${i}` } } as StoredEvent);

    const restored = new Indexed();
    await restored.nodes.load(joinedBytes(await live.nodes.save()));
    await restored.text.load(joinedBytes(await live.text.save()));
    expect(restored.text.restoringPending).toBe(true);

    // Later events touch documents already posted, not yet posted, and new ones, between slices.
    const later: StoredEvent[] = [];
    for (let i = 0; i < docs; i += 5) later.push(update(`n${i}`, { note: `cherry ${i}` }));
    for (let i = 2; i < docs; i += 8) later.push({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: `n${i}`, vector: new Float32Array([1]), text: `fresh${i}` } } as StoredEvent);
    for (let i = 0; i < docs; i += 12) later.push({ seq: ++seq, ts: 0, type: 'prime.vector.deleted', payload: { id: `n${i}` } } as StoredEvent);
    for (let i = 7; i < docs; i += 9) later.push({ seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: `n${i}` } } as StoredEvent);
    for (let i = 0; i < 5; i++) later.push(node(`new${i}`, { name: `newcomer ${i}` }));
    later.forEach((event, i) => {
      live.apply(event);
      restored.apply(event);
      if (i % 4 === 0) restored.text.restoreSome(5);
    });

    expect(restored.text.restoringPending).toBe(true);
    expect(restored.text.restoreSome(1_000)).toBe(false);
    expect(restored.text.digest()).toBe(live.text.digest());
    for (const query of ['apple', 'cherry', 'vectortext0', 'vectortext4', 'fresh2', 'newcomer', 'shared']) expect(restored.search(query, 100)).toEqual(live.search(query, 100));
  });

  it('given a deferred replay from empty, when indexed in slices with events arriving between them, then it ends equal to the index built live', () => {
    const live = new Indexed();
    const replayed = new Indexed();
    const history: StoredEvent[] = [];
    for (let i = 0; i < 40; i++) history.push(node(`r${i}`, { name: `name${i}`, note: i % 3 === 0 ? 'apple pie' : 'banana' }));
    for (let i = 0; i < 40; i += 4) history.push({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: `r${i}`, vector: new Float32Array([1]), text: `vectortext${i}` } } as StoredEvent);
    for (let i = 0; i < 40; i += 5) history.push(update(`r${i}`, { note: `cherry ${i}` }));
    for (let i = 0; i < 40; i += 12) history.push({ seq: ++seq, ts: 0, type: 'prime.vector.deleted', payload: { id: `r${i}` } } as StoredEvent);
    for (let i = 7; i < 40; i += 9) history.push({ seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: `r${i}` } } as StoredEvent);
    history.push({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: 'textonly', text: 'lonely words' } } as StoredEvent);
    for (const event of history) live.apply(event);
    replayed.text.replayDeferred(() => history.forEach((event) => replayed.apply(event)));
    expect(replayed.text.restoringPending).toBe(true);

    // After open: events touch documents indexed already, not yet, and new ones, between slices.
    const later: StoredEvent[] = [update('r1', { note: 'durian' }), update('r38', { note: 'durian' }), node('late', { name: 'latecomer' })];
    later.push({ seq: ++seq, ts: 0, type: 'prime.vector.stored', payload: { id: 'r2', vector: new Float32Array([1]), text: 'fresh2' } } as StoredEvent);
    later.push(update('r4', { note: 'elderberry' }), { seq: ++seq, ts: 0, type: 'prime.node.deleted', payload: { id: 'r3' } } as StoredEvent);
    for (const event of later) {
      replayed.text.restoreSome(10);
      live.apply(event);
      replayed.apply(event);
    }
    while (replayed.text.restoreSome(10));
    expect(replayed.text.restoringPending).toBe(false);
    expect(replayed.text.digest()).toBe(live.text.digest());
    for (const query of ['apple', 'cherry', 'durian', 'vectortext4', 'vectortext0', 'fresh2', 'latecomer', 'lonely', 'elderberry']) expect(replayed.search(query, 100)).toEqual(live.search(query, 100));
  });

  it('given a loaded index, when searched before any slice ran, then it posts everything first and answers in full', async () => {
    const live = new Indexed();
    for (let i = 0; i < 20; i++) live.apply(node(`d${i}`, { t: `word${i % 4} common` }));
    const restored = new Indexed();
    await restored.nodes.load(joinedBytes(await live.nodes.save()));
    await restored.text.load(joinedBytes(await live.text.save()));
    expect(restored.search('common', 50)).toEqual(live.search('common', 50));
    expect(restored.text.restoringPending).toBe(false);
  });
});
