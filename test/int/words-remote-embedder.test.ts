// The remote embedder against an OpenAI-compatible server this test starts on loopback.
import { afterEach, describe, expect, it } from 'vitest';

import { RemoteEmbedder, embedderFromSpec, isMnemoError } from '../../src/index.js';
import { embeddingsUrl } from '../../src/embed/remote.js';
import { conceptVector, startEmbeddingsServer, type EmbeddingsServer } from '../support/embeddings-server.js';
import { failure } from '../support/engine.js';

let server: EmbeddingsServer;
afterEach(async () => server?.close());

async function given(options: Partial<ConstructorParameters<typeof RemoteEmbedder>[0]> = {}): Promise<RemoteEmbedder> {
  server = await startEmbeddingsServer();
  return new RemoteEmbedder({ url: server.url, model: 'concepts', backoffMs: 1, ...options });
}

describe('remote embedder', () => {
  it('given 150 texts, when embedded, then they go in batches of 64 and come back in input order, whatever order the server answers in', async () => {
    const embedder = await given();
    const texts = Array.from({ length: 150 }, (_, i) => `car number ${i} dog ${i % 7}`);
    const vectors = await embedder.embed(texts);
    expect(server.requests.map((r) => r.input.length)).toEqual([64, 64, 22]);
    expect(vectors.map((v) => Array.from(v))).toEqual(texts.map((t) => Array.from(Float32Array.from(conceptVector(t)))));
    expect(embedder.dim).toBe(16);
    expect(server.requests[0]!.model).toBe('concepts');
  });

  it('given a key, when embedding, then it is sent as a bearer token and never appears in an error', async () => {
    const embedder = await given({ apiKey: 'sk-secret-123' });
    await embedder.embed(['car']);
    expect(server.requests[0]!.authorization).toBe('Bearer sk-secret-123');
    server.failNext('401');
    const error = await failure(embedder.embed(['car']));
    expect(isMnemoError(error, 'EMBEDDER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain('HTTP 401');
    expect(error.message).not.toContain('sk-secret-123');
    expect(embedder.describe()).not.toContain('sk-secret-123');
    // A 401 is the request's fault: not retried.
    expect(server.requests).toHaveLength(2);
  });

  it('given a 429 then a 500, when embedding, then it retries with backoff and succeeds on the third try', async () => {
    const embedder = await given();
    server.failNext('429', '500');
    const [vector] = await embedder.embed(['revenue forecast']);
    expect(Array.from(vector!)).toEqual(Array.from(Float32Array.from(conceptVector('revenue forecast'))));
    expect(server.requests).toHaveLength(3);
  });

  it('given a server that always answers 500, when embedding, then it fails after the retries with an error naming the embedder', async () => {
    const embedder = await given({ retries: 2 });
    server.failAlways('500');
    const error = await failure(embedder.embed(['car']));
    expect(isMnemoError(error, 'EMBEDDER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(`concepts at ${server.url}/v1/embeddings`);
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('after 3 tries');
    expect(server.requests).toHaveLength(3);
  });

  it('given a server that never answers, when embedding with a 150 ms timeout and no retries, then it fails in bounded time saying so', async () => {
    const embedder = await given({ timeoutMs: 150, retries: 0 });
    server.failAlways('hang');
    const started = Date.now();
    const error = await failure(embedder.embed(['car']));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.message).toContain('no answer within 150 ms');
  });

  it('given one request that hangs, when embedding with retries, then the timed-out try is retried and succeeds', async () => {
    const embedder = await given({ timeoutMs: 150 });
    server.failNext('hang');
    const [vector] = await embedder.embed(['dog']);
    expect(vector).toHaveLength(16);
    expect(server.requests).toHaveLength(2);
  });

  it('given nothing listening, when embedding, then the network error is named', async () => {
    const embedder = await given({ retries: 1 });
    await server.close();
    const error = await failure(embedder.embed(['car']));
    expect(error.message).toMatch(/request failed: ECONNREFUSED/);
  });

  it('given specs, when parsed, then URLs become remote embedders, local:DIR a local one, and anything else an error', () => {
    expect(embeddingsUrl('http://127.0.0.1:11434')).toBe('http://127.0.0.1:11434/v1/embeddings');
    expect(embeddingsUrl('http://h/v1')).toBe('http://h/v1/embeddings');
    expect(embeddingsUrl('https://h/v1/embeddings')).toBe('https://h/v1/embeddings');
    expect(embedderFromSpec('http://127.0.0.1:1', { model: 'm' })).toMatchObject({ model: 'm@http://127.0.0.1:1' });
    expect(embedderFromSpec('local:/models/all-MiniLM-L6-v2')).toMatchObject({ model: 'all-MiniLM-L6-v2' });
    expect(embedderFromSpec('ftp://x')).toBeInstanceOf(Error);
    expect(embedderFromSpec('local:')).toBeInstanceOf(Error);
  });
});

describe('local embedder without its runtime', () => {
  it('given the optional runtime package is absent, when a local model is warmed, then the error names the package and how to install it', async () => {
    const { LocalEmbedder } = await import('../../src/index.js');
    const { writeTinyModel } = await import('../support/tiny-onnx-model.js');
    const { tempDir } = await import('../support/engine.js');
    const dir = writeTinyModel(await tempDir());
    const error = await failure(new LocalEmbedder(dir, { runtimePackage: 'mnemo-absent-runtime' }).warm());
    expect(isMnemoError(error, 'EMBEDDER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(`embedder local:${dir} is unavailable: the optional package mnemo-absent-runtime is not installed`);
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install mnemo-absent-runtime');
  });

  it('given a folder that is not a model, when warmed, then the error says what the folder needs', async () => {
    const { LocalEmbedder } = await import('../../src/index.js');
    const { tempDir } = await import('../support/engine.js');
    const error = await failure(new LocalEmbedder(await tempDir()).warm());
    expect(error.message).toContain('the folder needs config.json, tokenizer.json and onnx/model.onnx');
  });
});
