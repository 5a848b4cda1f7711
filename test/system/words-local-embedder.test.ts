// The local ONNX embedder for real, with no network: a tiny model folder this test builds (laid out
// as all-MiniLM-L6-v2's is) loaded by @huggingface/transformers through the code path `--embedder
// local:DIR` takes. `.ci/run` installs the optional runtime before this suite.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';

import { embedderFromSpec, isMnemoError, LocalEmbedder } from '../../src/index.js';
import { givenEngine, tempDir, failure } from '../support/engine.js';
import { tinyDim, tinyExpected, writeTinyModel } from '../support/tiny-onnx-model.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function givenModel(): Promise<{ dir: string; embedder: LocalEmbedder }> {
  const dir = writeTinyModel(await tempDir());
  const embedder = embedderFromSpec(`local:${dir}`);
  if (!(embedder instanceof LocalEmbedder)) throw new Error('expected a local embedder');
  closers.push(async () => embedder.close());
  return { dir, embedder };
}

describe('local ONNX embedder', () => {
  it('given a model folder, when texts are embedded, then each vector is the mean-pooled, normalised embedding the model defines', async () => {
    const { embedder } = await givenModel();
    await embedder.warm();
    expect(embedder.dim).toBe(tinyDim);
    expect(embedder.model).toBe('tiny-MiniLM');
    const texts = ['car automobile', 'The DOG and a puppy', 'fix my automobile', 'zebra'];
    const vectors = await embedder.embed(texts);
    vectors.forEach((vector, i) => {
      const expected = tinyExpected(texts[i]!);
      expect(vector).toHaveLength(tinyDim);
      vector.forEach((x, j) => expect(x).toBeCloseTo(expected[j]!, 5));
    });
  });

  it('given remote models are disabled, when the folder lacks its weights, then warm-up fails naming the folder instead of downloading', async () => {
    const { dir } = await givenModel();
    rmSync(join(dir, 'onnx'), { recursive: true });
    const error = await failure(new LocalEmbedder(dir).warm());
    expect(isMnemoError(error, 'EMBEDDER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(`embedder local:${dir} is unavailable: the model did not load`);
    const runtime = (await import('@huggingface/transformers' as string)) as { env: { allowRemoteModels: boolean } };
    expect(runtime.env.allowRemoteModels).toBe(false);
  });

  it('given an engine with the local embedder, when a memory sharing no word with the question is recalled, then it is found by meaning', async () => {
    const { dir, embedder } = await givenModel();
    const db = await givenEngine({ dataDir: join(dir, '..', 'data'), embed: embedder });
    for (const [id, text] of [['garage', 'the mechanic will repair the sedan'], ['walk', 'walk the puppy after lunch'], ['money', 'quarterly revenue outlook']] as const) {
      await db.addNode({ id, type: 'note', properties: { text } });
      await db.embed({ id, text });
    }
    await db.whenIndexed();
    const answer = await db.recallText({ text: 'fix my automobile', depth: 0, topK: 1 });
    expect(answer.results[0]).toMatchObject({ id: 'garage', retrieval: ['semantic'] });
    expect(db.recall({ text: 'fix my automobile', depth: 0 }).map((h) => h.id)).not.toContain('garage');
  });

  it('given 2,000 short texts, when embedded in batches, then the throughput is reported', async () => {
    const { embedder } = await givenModel();
    await embedder.warm();
    const texts = Array.from({ length: 2_000 }, (_, i) => `the car ${i % 10} and the dog drive to dinner number ${i}`);
    const started = performance.now();
    const vectors = await embedder.embed(texts);
    const seconds = (performance.now() - started) / 1000;
    expect(vectors).toHaveLength(2_000);
    console.log(`local tiny model: ${Math.round(texts.length / seconds)} texts/s (${texts.length} texts, batches of 64, checksum ${vectors.reduce((s, v) => s + v[0]!, 0).toFixed(3)})`);
  });

  it('given mnemo serve --embedder local:DIR, when it starts, then the model is warmed before the port opens and recall answers by meaning', async () => {
    const { dir } = await givenModel();
    const dataDir = join(dir, '..', 'served');
    const child = spawn(process.execPath, [resolve('dist/src/cli/main.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--durability', 'none', '--embedder', `local:${dir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /at (http:\/\/[^ ]+) \(.*embedder local:.*tiny-MiniLM \(16-d, warmed\)\)/.exec(out);
          if (match) resolveUrl(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await post('/api/v1/prime/nodes', { id: 'garage', type: 'note', properties: { text: 'the mechanic will repair the sedan' } });
      expect((await post('/api/v1/prime/vectors', { id: 'garage', text: 'the mechanic will repair the sedan' })).status).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
      const reply = await post('/api/v1/prime/recall', { text: 'fix my automobile', depth: 0 });
      expect(reply.headers.get('server-timing')).toContain('embed;dur=');
      expect(await reply.json()).toMatchObject({ results: [{ id: 'garage', retrieval: ['semantic'] }] });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
