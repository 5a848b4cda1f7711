// Given stored vectors, when similar/recall run, then every acknowledged vector is searchable and deleted ones never return.
import { describe, expect, it } from 'vitest';

import { isMnemoError } from '../../src/index.js';
import { givenEngine } from '../support/engine.js';

describe('similar', () => {
  it('given vectors just stored (not yet indexed), when searched, then they are found at once', async () => {
    const db = await givenEngine();
    for (const [id, vector] of [['a', [1, 0, 0]], ['b', [0.9, 0.1, 0]], ['c', [0, 0, 1]]] as const) {
      await db.addNode({ id: `node:doc:${id}`, type: 'doc', properties: {} });
      await db.embed({ id: `node:doc:${id}`, vector: [...vector], text: `text ${id}` });
    }
    const hits = db.similar({ vector: [1, 0, 0] }, { topK: 2 });
    expect(hits.map((h) => h.id)).toEqual(['node:doc:a', 'node:doc:b']);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(hits[0]!.text).toBe('text a');
    await db.whenIndexed();
    expect(db.stats().vectorsPending).toBe(0);
    expect(db.similar({ vector: [1, 0, 0] }, { topK: 2 }).map((h) => h.id)).toEqual(['node:doc:a', 'node:doc:b']);
  });

  it('given a search by id, then the query node itself is excluded; a type filter applies', async () => {
    const db = await givenEngine();
    await db.append([
      { type: 'prime.node.created', payload: { id: 'node:doc:a', type: 'doc', properties: {} } },
      { type: 'prime.node.created', payload: { id: 'node:img:b', type: 'img', properties: {} } },
      { type: 'prime.node.created', payload: { id: 'node:doc:c', type: 'doc', properties: {} } },
      { type: 'prime.vector.stored', payload: { id: 'node:doc:a', vector: [1, 0] } },
      { type: 'prime.vector.stored', payload: { id: 'node:img:b', vector: [1, 0.01] } },
      { type: 'prime.vector.stored', payload: { id: 'node:doc:c', vector: [0, 1] } },
    ]);
    expect(db.similar({ id: 'node:doc:a' }, { topK: 5 }).map((h) => h.id)).toEqual(['node:img:b', 'node:doc:c']);
    expect(db.similar({ id: 'node:doc:a' }, { topK: 5, type: 'doc' }).map((h) => h.id)).toEqual(['node:doc:c']);
  });

  it('given deleted vectors and nodes, when searched before and after indexing, then they never return', async () => {
    const db = await givenEngine();
    const events = [];
    for (let i = 0; i < 50; i++) {
      events.push({ type: 'prime.node.created', payload: { id: `node:d:${i}`, type: 'd', properties: {} } });
      events.push({ type: 'prime.vector.stored', payload: { id: `node:d:${i}`, vector: [1, i / 50, 0] } });
    }
    await db.append(events);
    await db.deleteNode('node:d:0');
    await db.deleteVector('node:d:1');
    const check = () => {
      const ids = db.similar({ vector: [1, 0, 0] }, { topK: 50 }).map((h) => h.id);
      expect(ids).not.toContain('node:d:0');
      expect(ids).not.toContain('node:d:1');
      expect(ids).toHaveLength(48);
      const recalled = db.recall({ vector: [1, 0, 0], topK: 50 }).map((h) => h.id);
      expect(recalled).not.toContain('node:d:0');
      expect(recalled).not.toContain('node:d:1');
    };
    check();
    await db.whenIndexed();
    check();
    await db.deleteNode('node:d:2');
    expect(db.similar({ vector: [1, 0, 0] }, { topK: 50 }).map((h) => h.id)).not.toContain('node:d:2');
  });

  it('given a wrong dimension, then a VALIDATION_FAILED naming the field, nothing written', async () => {
    const db = await givenEngine();
    await db.embed({ id: 'v1', vector: [1, 2, 3] });
    const before = db.stats().lastSeq;
    await expect(db.embed({ id: 'v2', vector: [1, 2] })).rejects.toThrow(/vector.*3 dimensions/);
    await expect(db.embed({ id: 'v3', vector: [1, Number.NaN, 2] })).rejects.toSatisfy((e) => isMnemoError(e));
    expect(db.stats().lastSeq).toBe(before);
    expect(() => db.similar({ vector: [1, 2] })).toThrow(/3 dimensions/);
  });
});

describe('recall', () => {
  it('given a vector hit linked to a node without a vector, then the neighbour is recalled one hop out with its components', async () => {
    const db = await givenEngine();
    const doc = (await db.addNode({ type: 'doc', properties: { title: 'HNSW notes' } })).nodeId;
    const author = (await db.addNode({ type: 'person', properties: { name: 'Ada' } })).nodeId;
    const far = (await db.addNode({ type: 'doc', properties: { title: 'unrelated' } })).nodeId;
    await db.addEdge({ source: author, target: doc, relation: 'wrote' });
    await db.embed({ id: doc, vector: [1, 0, 0] });
    await db.embed({ id: far, vector: [0, 1, 0] });
    const hits = db.recall({ vector: [1, 0, 0], topK: 3 });
    expect(hits[0]).toMatchObject({ id: doc, depth: 0, components: { proximity: 1 } });
    expect(hits[0]!.components.similarity).toBeCloseTo(1, 5);
    const ada = hits.find((h) => h.id === author)!;
    expect(ada).toMatchObject({ depth: 1, node: { id: author } });
    expect(ada.components.proximity).toBeCloseTo(0.5, 10);
    expect(ada.components.similarity).toBe(0);
    expect(ada.components.recency).toBeGreaterThan(0.99);
    expect(ada.score).toBeCloseTo(0.3 * 0.5 + 0.2 * ada.components.recency, 10);
  });

  it('given text and no vector, then seeds come from string properties', async () => {
    const db = await givenEngine();
    const doc = (await db.addNode({ type: 'doc', properties: { title: 'Write-ahead logging in practice' } })).nodeId;
    await db.addNode({ type: 'doc', properties: { title: 'Gardening' } });
    const hits = db.recall({ text: 'write-ahead', topK: 5 });
    expect(hits.map((h) => h.id)).toEqual([doc]);
  });

  it('given text only, when a node is one hop from a lexical hit, then it is recalled through the graph', async () => {
    const db = await givenEngine();
    const note = (await db.addNode({ type: 'note', properties: { body: 'the write-ahead log uses group commit' } })).nodeId;
    const person = (await db.addNode({ type: 'person', properties: { name: 'Jim' } })).nodeId;
    await db.addNode({ type: 'note', properties: { body: 'unrelated gardening' } });
    await db.addEdge({ source: person, target: note, relation: 'wrote' });
    const hits = db.recall({ text: 'group commit', topK: 5 });
    expect(hits.map((h) => [h.id, h.depth, h.retrieval])).toEqual([
      [note, 0, ['lexical']],
      [person, 1, ['graph']],
    ]);
    expect(hits[0]!.components.similarity).toBe(1);
  });

  it('given text and a vector, then seeds are fused by reciprocal rank (k = 60) and say which retrievers found them', async () => {
    const db = await givenEngine();
    // "both" is 2nd lexically and 1st semantically; "lex" is 1st lexically only; "sem" is 2nd semantically only.
    await db.append([
      { type: 'prime.node.created', payload: { id: 'node:d:lex', type: 'd', properties: { t: 'alpha alpha alpha' } } },
      { type: 'prime.node.created', payload: { id: 'node:d:both', type: 'd', properties: { t: 'alpha beta gamma delta' } } },
      { type: 'prime.node.created', payload: { id: 'node:d:sem', type: 'd', properties: { t: 'omega' } } },
      { type: 'prime.vector.stored', payload: { id: 'node:d:both', vector: [1, 0] } },
      { type: 'prime.vector.stored', payload: { id: 'node:d:sem', vector: [0.8, 0.6] } },
      { type: 'prime.vector.stored', payload: { id: 'node:d:lex', vector: [-1, 0] } },
    ]);
    const hits = db.recall({ text: 'alpha', vector: [1, 0], topK: 1, depth: 0 });
    // topK 1 → 2 seeds from each retriever. both: 1/62 + 1/61; lex: 1/61; sem: 1/62.
    const all = db.recall({ text: 'alpha', vector: [1, 0], topK: 3, depth: 0 });
    expect(all.map((h) => [h.id, h.retrieval])).toEqual([
      ['node:d:both', ['lexical', 'semantic']],
      ['node:d:lex', ['lexical', 'semantic']],
      ['node:d:sem', ['semantic']],
    ]);
    expect(hits[0]!.id).toBe('node:d:both');
    expect(hits[0]!.components.similarity).toBeCloseTo((1 / 62 + 1 / 61) / (2 / 61), 10);
  });
});

describe('embedding text', () => {
  it('given no embedder, when text alone is embedded, then the text is searchable by BM25 and no vector is made up', async () => {
    const db = await givenEngine();
    const { nodeId } = await db.addNode({ type: 'note', properties: {} });
    await db.embed({ id: nodeId, text: 'quarterly revenue forecast' });
    expect(db.stats().totalVectors).toBe(0);
    expect(db.searchText('revenue').map((h) => h.id)).toEqual([nodeId]);
    expect(db.recall({ text: 'forecast' })[0]).toMatchObject({ id: nodeId, retrieval: ['lexical'] });
  });

  it('given an embedder, when text alone is embedded, then the vector it returns is stored and searchable', async () => {
    const calls: string[][] = [];
    const db = await givenEngine({
      embed: async (texts) => {
        calls.push(texts);
        return texts.map((t) => Float32Array.from([t.length, 1, 0]));
      },
    });
    await db.embed({ id: 'doc:1', text: 'four' });
    // The embedder is warmed once at open, then asked for the stored text.
    expect(calls).toEqual([['warm-up'], ['four']]);
    expect(db.stats().totalVectors).toBe(1);
    expect(db.similar({ vector: [4, 1, 0] }, { topK: 1 })[0]!.id).toBe('doc:1');
  });
});
