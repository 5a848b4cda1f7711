// The engine with an embedder: text stored as vectors, text queries by meaning, caches that never
// serve an answer older than the last write, BM25 with `degraded` when the embedder is down.
import { afterEach, describe, expect, it } from 'vitest';

import { RemoteEmbedder, isMnemoError, type Engine } from '../../src/index.js';
import { givenEngine, tempDir, failure } from '../support/engine.js';
import { startEmbeddingsServer, type EmbeddingsServer } from '../support/embeddings-server.js';

let server: EmbeddingsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function givenEmbedder(model = 'concepts'): Promise<RemoteEmbedder> {
  server ??= await startEmbeddingsServer();
  return new RemoteEmbedder({ url: server!.url, model, backoffMs: 1, retries: 1, timeoutMs: 1_000 });
}

/** Three memories; the car one shares no word with "fix my automobile". */
async function givenMemories(db: Engine): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [key, text] of Object.entries({ car: 'the mechanic at the garage will repair the sedan', dog: 'walk the puppy after lunch', money: 'quarterly revenue outlook' })) {
    const { nodeId } = await db.addNode({ type: 'note', properties: { text } });
    await db.embed({ id: nodeId, text });
    ids[key] = nodeId;
  }
  await db.whenIndexed();
  return ids;
}

describe('words: text queries with an embedder', () => {
  it('given a memory that shares no word with the question, when recalled by text, then the embedder finds it by meaning and BM25 alone does not', async () => {
    server = await startEmbeddingsServer();
    const plain = await givenEngine();
    const plainIds = await givenMemories(plain);
    expect((await plain.recallText({ text: 'fix my automobile', depth: 0 })).results.map((h) => h.id)).not.toContain(plainIds.car);

    const db = await givenEngine({ embed: await givenEmbedder() });
    const ids = await givenMemories(db);
    const answer = await db.recallText({ text: 'fix my automobile', depth: 0, topK: 3 });
    expect(answer.degraded).toBe(false);
    expect(answer.results[0]).toMatchObject({ id: ids.car, retrieval: ['semantic'] });
    const similar = await db.similarText({ text: 'a hound' }, { topK: 1 });
    expect(similar.results[0]).toMatchObject({ id: ids.dog, text: 'walk the puppy after lunch' });
  });

  it('given no embedder, when similar is asked by text, then it is a clear error, not a made-up score', async () => {
    const db = await givenEngine();
    const error = await failure(db.similarText({ text: 'car' }));
    expect(isMnemoError(error, 'EMBEDDER_MISSING')).toBe(true);
  });

  it('given an embedder that fails at start, when the engine opens, then the open fails naming the embedder', async () => {
    server = await startEmbeddingsServer();
    server.failAlways('500');
    const error = await failure(givenEngine({ embed: await givenEmbedder() }));
    expect(isMnemoError(error, 'EMBEDDER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(`concepts at ${server!.url}/v1/embeddings`);
  });

  it('given a data dir made with one model, when opened with another, then the open fails instead of mixing vectors', async () => {
    const dataDir = await tempDir();
    const first = await givenEngine({ dataDir, embed: await givenEmbedder('concepts') });
    await first.close();
    const error = await failure(givenEngine({ dataDir, embed: await givenEmbedder('other-model') }));
    expect(isMnemoError(error, 'EMBEDDER_MISMATCH')).toBe(true);
    expect(error.message).toContain("'concepts@");
    expect(error.message).toContain("'other-model@");
    // The same model opens again.
    await (await givenEngine({ dataDir, embed: await givenEmbedder('concepts') })).close();
  });

  it('given vectors of another dimension, when opened with an embedder, then the open fails', async () => {
    const dataDir = await tempDir();
    const first = await givenEngine({ dataDir });
    await first.embed({ id: 'v', vector: [1, 2, 3] });
    await first.close();
    const error = await failure(givenEngine({ dataDir, embed: await givenEmbedder() }));
    expect(error.message).toContain('of dimension 3');
  });

  it('given the embedder goes down, when recalled by text, then BM25 answers with degraded true, and the next answer after recovery is whole', async () => {
    const db = await givenEngine({ embed: await givenEmbedder() });
    const ids = await givenMemories(db);
    server!.failAlways('500');
    const down = await db.recallText({ text: 'revenue', depth: 0 });
    expect(down.degraded).toBe(true);
    expect(down.results[0]).toMatchObject({ id: ids.money, retrieval: ['lexical'] });
    expect(isMnemoError(await failure(db.embed({ id: ids.car, text: 'car' })), 'EMBEDDER_UNAVAILABLE')).toBe(true);
    server!.failAlways(undefined);
    const up = await db.recallText({ text: 'revenue', depth: 0 });
    expect(up).toMatchObject({ degraded: false, cached: false });
    expect(up.results[0]!.retrieval.sort()).toEqual(['lexical', 'semantic']);
    expect(db.stats().words).toMatchObject({ degradedAnswers: 1 });
  });
});

describe('words: caches', () => {
  it('given a repeated question, when asked again, then the answer and the query embedding come from cache; a write makes the next answer fresh', async () => {
    const db = await givenEngine({ embed: await givenEmbedder() });
    await givenMemories(db);
    const calls = () => server!.requests.length;

    const first = await db.recallText({ text: 'dinner', depth: 0 });
    const afterFirst = calls();
    const second = await db.recallText({ text: 'dinner', depth: 0 });
    expect(second.cached).toBe(true);
    expect(second.results).toEqual(first.results);
    expect(calls()).toBe(afterFirst);

    // A write moves the seq: the next answer is computed again (and sees the write); the query's embedding is still reused.
    const { nodeId } = await db.addNode({ type: 'note', properties: { text: 'a restaurant meal' } });
    await db.embed({ id: nodeId, text: 'a restaurant meal' });
    await db.whenIndexed();
    const embedsBefore = calls();
    const third = await db.recallText({ text: 'dinner', depth: 0 });
    expect(third.cached).toBe(false);
    expect(third.results[0]!.id).toBe(nodeId);
    expect(calls()).toBe(embedsBefore);

    const words = db.stats().words as { queryEmbeddingCache: { hits: number; misses: number; hitRate: number }; answerCache: { hits: number; misses: number } };
    expect(words.queryEmbeddingCache).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5 });
    expect(words.answerCache).toMatchObject({ hits: 1, misses: 2 });
  });

  it('given interleaved writes and reads, when every read is compared with an uncached recall at that moment, then none is stale', async () => {
    const db = await givenEngine({ embed: await givenEmbedder() });
    await givenMemories(db);
    const questions = ['dinner', 'my car', 'revenue', 'a dog'];
    const texts = ['lunch with the team', 'drive to the garage', 'profit projection', 'the puppy sleeps', 'flight to Rome'];
    for (let round = 0; round < 10; round++) {
      for (const text of [...questions, ...questions]) {
        const answer = await db.recallText({ text, depth: 1, topK: 5 });
        // The answer's ids must equal a fresh computation at the current seq (scores differ only by recency's clock).
        const fresh = await freshRecall(db, text);
        expect(answer.results.map((h) => h.id)).toEqual(fresh);
      }
      const { nodeId } = await db.addNode({ type: 'note', properties: { text: texts[round % texts.length]! } });
      await db.embed({ id: nodeId, text: texts[round % texts.length]! });
      if (round % 3 === 0) await db.deleteNode(nodeId);
      await db.whenIndexed();
    }
    // Each question's second asking in a round was served from cache; every first was fresh.
    expect(db.stats().words).toMatchObject({ answerCache: { hits: 40, misses: 40 } });
  });
});

/** recall computed now, bypassing the answer cache: the text's vector (from the embedder) and the text, as recallText does. */
async function freshRecall(db: Engine, text: string): Promise<string[]> {
  const [vector] = await db.embedder!.embed([text]);
  return db.recall({ text, vector: vector!, depth: 1, topK: 5 }).map((h) => h.id);
}
