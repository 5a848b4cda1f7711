// An embedder over any OpenAI-compatible `POST /v1/embeddings` endpoint (OpenAI, Ollama, vLLM,
// a fleet's own). Requests are batched, each bounded by a timeout, and retried with exponential
// backoff on 429, 5xx and network errors (a 4xx other than 429 is the request's fault: not retried).
// The bearer token is sent in a header and never appears in an error, a log line or describe().

import { setTimeout as sleep } from 'node:timers/promises';

import { mnemoError } from '../kernel/errors.js';
import { embedderBackoffMsBase, embedderBatchTextsMax, embedderRetriesMax, embedderRetryAfterMsMax, embedderTimeoutMsDefault } from '../kernel/limits.js';
import { batchesOf, checkAnswer, type Embedder } from './embedder.js';

export interface RemoteEmbedderOptions {
  /** The endpoint's base (`http://127.0.0.1:11434` for Ollama, or a hosted API's base URL) or the full `.../v1/embeddings` URL. */
  url: string;
  /** The `model` field sent; default `text-embedding-3-small`, OpenAI's smallest. */
  model?: string;
  /** Sent as `Authorization: Bearer <apiKey>` (the CLI reads MNEMO_EMBEDDER_KEY). */
  apiKey?: string;
  /** Default embedderTimeoutMsDefault (10 s) per request. */
  timeoutMs?: number;
  /** Default embedderRetriesMax (3). */
  retries?: number;
  /** Default embedderBackoffMsBase (200 ms): waits 200, 400, 800 ms between tries. */
  backoffMs?: number;
  /** Default embedderBatchTextsMax (64) texts a request. */
  batchTexts?: number;
}

const modelDefault = 'text-embedding-3-small';

/** The full embeddings URL for a base URL or a full one. */
export function embeddingsUrl(url: string): string {
  const parsed = new URL(url);
  if (!/\/embeddings\/?$/.test(parsed.pathname)) parsed.pathname = parsed.pathname.replace(/\/?(v1\/?)?$/, '') + '/v1/embeddings';
  return parsed.toString();
}

/** A failed try: whether another try could succeed, and why it failed. */
class TryFailure extends Error {
  constructor(
    readonly retryable: boolean,
    reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
  }
}

export class RemoteEmbedder implements Embedder {
  readonly model: string;
  private learnedDim = 0;
  private readonly endpoint: string;
  private readonly origin: string;

  constructor(private readonly options: RemoteEmbedderOptions) {
    this.endpoint = embeddingsUrl(options.url);
    this.origin = new URL(this.endpoint).origin;
    this.model = `${options.model ?? modelDefault}@${this.origin}`;
  }

  get dim(): number {
    return this.learnedDim;
  }

  describe(): string {
    return `${this.options.model ?? modelDefault} at ${this.endpoint}`;
  }

  async warm(): Promise<void> {
    await this.embed(['warm-up']);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (const batch of batchesOf(texts, this.options.batchTexts ?? embedderBatchTextsMax)) vectors.push(...(await this.embedBatch(batch)));
    if (vectors.length > 0) this.learnedDim = vectors[0]!.length;
    return vectors;
  }

  private async embedBatch(texts: string[]): Promise<Float32Array[]> {
    const retries = this.options.retries ?? embedderRetriesMax;
    const backoffMs = this.options.backoffMs ?? embedderBackoffMsBase;
    for (let attempt = 0; ; attempt++) {
      try {
        const vectors = await this.tryOnce(texts);
        checkAnswer(vectors, texts.length, this.describe());
        return vectors;
      } catch (e) {
        if (!(e instanceof TryFailure)) throw e;
        if (!e.retryable || attempt >= retries) {
          throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder: this.describe(), reason: `${e.message}${attempt > 0 ? ` (after ${attempt + 1} tries)` : ''}` });
        }
        await sleep(Math.max(backoffMs * 2 ** attempt, e.retryAfterMs ?? 0));
      }
    }
  }

  private async tryOnce(texts: string[]): Promise<Float32Array[]> {
    const timeoutMs = this.options.timeoutMs ?? embedderTimeoutMsDefault;
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.options.model ?? modelDefault, input: texts, encoding_format: 'float' }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = response.ok ? await response.json() : await response.text();
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new TryFailure(true, timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${networkReason(e)}`);
    }
    if (!response.ok) {
      const retryable = response.status === 429 || response.status >= 500;
      throw new TryFailure(retryable, `HTTP ${response.status}${snippet(body)}`, retryAfterMs(response.headers.get('retry-after')));
    }
    return vectorsOf(body);
  }
}

/** `{data: [{index, embedding}]}`, put back in input order (the API may answer out of order). */
function vectorsOf(body: unknown): Float32Array[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new TryFailure(false, "answer has no 'data' array");
  const vectors: Float32Array[] = new Array(data.length);
  data.forEach((row: { index?: unknown; embedding?: unknown }, i) => {
    const index = typeof row?.index === 'number' ? row.index : i;
    if (!Array.isArray(row?.embedding) || index < 0 || index >= data.length) throw new TryFailure(false, `answer's data[${i}] has no embedding array`);
    vectors[index] = Float32Array.from(row.embedding as number[]);
  });
  return vectors;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, embedderRetryAfterMsMax) : undefined;
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

/** The first characters of an error body, which usually say why (an unknown model, a bad key). */
function snippet(body: unknown): string {
  const text = typeof body === 'string' ? body.trim().slice(0, 200) : '';
  return text === '' ? '' : `: ${text}`;
}
