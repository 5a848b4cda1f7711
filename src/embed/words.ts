// Words: text in where a vector goes. Given an embedder, a query text becomes a vector (through an
// LRU of query embeddings keyed by model and text), recall fuses that vector's hits with BM25's,
// and whole answers are cached under their arguments and the engine's last seq: any write moves
// the seq, so a cached answer is never older than the last write. When the embedder fails, text
// recall still answers from BM25 alone and says `degraded: true`.

import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';

import type { RecallHit, RecallOptions, SimilarHit, TextSimilarQuery, WordsAnswer } from '../kernel/api.js';
import { isMnemoError, mnemoError } from '../kernel/errors.js';
import { answerCacheTtlMs, answersCachedMax, embedTextCharsMax, queryEmbeddingsCachedMax } from '../kernel/limits.js';
import type { Embedder } from './embedder.js';

/** The engine reads Words builds on. */
export interface WordsReads {
  recall(options: RecallOptions): RecallHit[];
  similar(query: { id: string } | { vector: number[] | Float32Array }, options?: { topK?: number; type?: string }): SimilarHit[];
  lastSeq(): number;
}

class HitRate {
  hits = 0;
  misses = 0;
  toJSON(): { hits: number; misses: number; hitRate: number } {
    const total = this.hits + this.misses;
    return { hits: this.hits, misses: this.misses, hitRate: total === 0 ? 0 : this.hits / total };
  }
}

export class Words {
  private readonly queryVectors = new LRUCache<string, Float32Array>({ max: queryEmbeddingsCachedMax });
  private readonly answers = new LRUCache<string, WordsAnswer<unknown>>({ max: answersCachedMax, ttl: answerCacheTtlMs });
  /** The seq the cached answers were computed at; a different seq empties the cache. */
  private answersSeq = -1;
  private readonly queryRate = new HitRate();
  private readonly answerRate = new HitRate();
  private degradedAnswers = 0;
  private embedderFailures = 0;
  private embedderCalls = 0;
  private embedderMsTotal = 0;

  constructor(
    private readonly reads: WordsReads,
    readonly embedder: Embedder | undefined,
  ) {}

  /** The vector of a text to store (not cached: a stored text is rarely asked again as a query). */
  async vectorOfStoredText(text: string): Promise<Float32Array> {
    const embedder = this.embedder!;
    checkText(text, 'text');
    const [vector] = await this.timed(() => embedder.embed([text]));
    return vector!;
  }

  /** Recall from `text` and/or `vector`; with an embedder and no vector, the text's vector is added (fused with BM25). */
  async recall(options: RecallOptions): Promise<WordsAnswer<RecallHit>> {
    return this.cachedAnswer(answerKey('recall', options), async () => {
      const plain = options.text === undefined || options.vector !== undefined || this.embedder === undefined;
      if (plain) return { results: this.reads.recall(options), degraded: false, embedMs: 0, cached: false };
      const embedded = await this.queryVector(options.text!, 'text');
      if (embedded instanceof Error) {
        this.degradedAnswers++;
        return { results: this.reads.recall(options), degraded: true, embedMs: 0, cached: false };
      }
      return { results: this.reads.recall({ ...options, vector: embedded.vector }), degraded: false, embedMs: embedded.ms, cached: false };
    });
  }

  /** Nearest stored vectors to an id's vector, a vector, or a text's vector (needs an embedder; an embedder that fails is a 503, never a made-up score). */
  async similar(query: TextSimilarQuery, options: { topK?: number; type?: string } = {}): Promise<WordsAnswer<SimilarHit>> {
    if (query.text === undefined) {
      const results = this.reads.similar(query.id !== undefined ? { id: query.id } : { vector: query.vector! }, options);
      return { results, degraded: false, embedMs: 0, cached: false };
    }
    if (this.embedder === undefined) throw mnemoError('EMBEDDER_MISSING', { field: 'text' });
    const key = answerKey('similar', { text: query.text, ...options });
    return this.cachedAnswer(key, async () => {
      const embedded = await this.queryVector(query.text!, 'text');
      if (embedded instanceof Error) throw embedded;
      return { results: this.reads.similar({ vector: embedded.vector }, options), degraded: false, embedMs: embedded.ms, cached: false };
    });
  }

  stats(): Record<string, unknown> {
    return {
      embedder: this.embedder === undefined ? null : { model: this.embedder.model, dim: this.embedder.dim, calls: this.embedderCalls, failures: this.embedderFailures, msTotal: this.embedderMsTotal },
      queryEmbeddingCache: { ...this.queryRate.toJSON(), size: this.queryVectors.size },
      answerCache: { ...this.answerRate.toJSON(), size: this.answers.size },
      degradedAnswers: this.degradedAnswers,
    };
  }

  /**
   * A cached answer at the current seq, or a fresh one (cached unless degraded: a degraded answer
   * must not outlive the embedder's recovery).
   */
  private async cachedAnswer<T>(key: string, compute: () => Promise<WordsAnswer<T>>): Promise<WordsAnswer<T>> {
    const seq = this.reads.lastSeq();
    if (seq !== this.answersSeq) {
      this.answers.clear();
      this.answersSeq = seq;
    }
    const known = this.answers.get(key) as WordsAnswer<T> | undefined;
    if (known !== undefined) {
      this.answerRate.hits++;
      return { ...known, results: known.results.slice(), embedMs: 0, cached: true };
    }
    this.answerRate.misses++;
    const answer = await compute();
    // A write while the embedder was answering moved the seq: this answer may predate it.
    if (!answer.degraded && this.reads.lastSeq() === seq && this.answersSeq === seq) this.answers.set(key, answer);
    return answer;
  }

  /** The text's vector from the LRU or the embedder; an Error (EMBEDDER_UNAVAILABLE) when the embedder fails. */
  private async queryVector(text: string, field: string): Promise<{ vector: Float32Array; ms: number } | Error> {
    checkText(text, field);
    const embedder = this.embedder!;
    const key = `${embedder.model}\u0000${text}`;
    const known = this.queryVectors.get(key);
    if (known !== undefined) {
      this.queryRate.hits++;
      return { vector: known, ms: 0 };
    }
    this.queryRate.misses++;
    const started = performance.now();
    try {
      const [vector] = await this.timed(() => embedder.embed([text]));
      this.queryVectors.set(key, vector!);
      return { vector: vector!, ms: performance.now() - started };
    } catch (e) {
      if (!isMnemoError(e, 'EMBEDDER_UNAVAILABLE')) throw e;
      return e;
    }
  }

  private async timed<T>(call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.embedderCalls++;
    try {
      return await call();
    } catch (e) {
      this.embedderFailures++;
      if (isMnemoError(e)) throw e;
      throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder: this.embedder!.describe(), reason: e instanceof Error ? e.message : String(e) });
    } finally {
      this.embedderMsTotal += performance.now() - started;
    }
  }
}

function checkText(text: string, field: string): void {
  if (typeof text !== 'string' || text.trim() === '') throw mnemoError('VALIDATION_FAILED', { field, reason: 'expected a non-empty string' });
  if (text.length > embedTextCharsMax) throw mnemoError('VALIDATION_FAILED', { field, reason: `has ${text.length} characters; the limit is ${embedTextCharsMax}` });
}

/** Arguments as a key; a vector's float32 bytes in base64 rather than its decimal text. */
function answerKey(kind: string, args: object): string {
  return JSON.stringify([kind, args], (_k, v: unknown) =>
    v instanceof Float32Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : v,
  );
}
