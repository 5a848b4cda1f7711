// An embedder over a local ONNX sentence-embedding model folder (all-MiniLM-L6-v2's layout:
// config.json, tokenizer.json, onnx/model.onnx), run in-process by @huggingface/transformers with
// remote models disabled: nothing is downloaded, ever. The runtime (~475 MB with onnxruntime for
// every platform) is an optional peer dependency, imported only when a local embedder is opened.

import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

import { mnemoError } from '../kernel/errors.js';
import { embedderBatchTextsMax } from '../kernel/limits.js';
import { batchesOf, checkAnswer, type Embedder } from './embedder.js';

export const localRuntimePackage = '@huggingface/transformers';

/** The slice of @huggingface/transformers this file uses. */
interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };
  pipeline(task: 'feature-extraction', model: string, options: Record<string, unknown>): Promise<FeatureExtractor>;
}
type FeatureExtractor = ((texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>) & {
  dispose?: () => Promise<void>;
};

async function importRuntime(dir: string, specifier: string): Promise<TransformersModule> {
  try {
    // A variable specifier keeps TypeScript from requiring the optional package at build time.
    return (await import(specifier)) as TransformersModule;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ERR_MODULE_NOT_FOUND'
        ? `the optional package ${specifier} is not installed; install it with: ONNXRUNTIME_NODE_INSTALL=skip npm install ${specifier}`
        : `${specifier} failed to load: ${e instanceof Error ? e.message : String(e)}`;
    throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder: dir, reason });
  }
}

export class LocalEmbedder implements Embedder {
  readonly model: string;
  private learnedDim = 0;
  private extractor: FeatureExtractor | undefined;
  private readonly dir: string;

  /** `runtimePackage`: the package to import instead of @huggingface/transformers (tests name a missing one). */
  constructor(
    dir: string,
    private readonly options: { runtimePackage?: string } = {},
  ) {
    this.dir = resolve(dir);
    // The folder's name is the model's (all-MiniLM-L6-v2): what the data dir remembers.
    this.model = basename(this.dir);
  }

  get dim(): number {
    return this.learnedDim;
  }

  describe(): string {
    return `local:${this.dir}`;
  }

  async warm(): Promise<void> {
    if (!existsSync(resolve(this.dir, 'config.json')) || !existsSync(resolve(this.dir, 'tokenizer.json'))) {
      throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder: this.describe(), reason: 'the folder needs config.json, tokenizer.json and onnx/model.onnx (a sentence-embedding model exported to ONNX)' });
    }
    const runtime = await importRuntime(this.describe(), this.options.runtimePackage ?? localRuntimePackage);
    runtime.env.allowRemoteModels = false;
    runtime.env.allowLocalModels = true;
    runtime.env.localModelPath = dirname(this.dir) + '/';
    try {
      this.extractor = await runtime.pipeline('feature-extraction', basename(this.dir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    } catch (e) {
      throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder: this.describe(), reason: `the model did not load: ${e instanceof Error ? e.message : String(e)}` });
    }
    await this.embed(['warm-up']);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.extractor === undefined) await this.warm();
    const vectors: Float32Array[] = [];
    for (const batch of batchesOf(texts, embedderBatchTextsMax)) {
      const output = await this.extractor!(batch, { pooling: 'mean', normalize: true });
      const dim = output.dims[output.dims.length - 1]!;
      for (let i = 0; i < batch.length; i++) vectors.push(output.data.slice(i * dim, (i + 1) * dim));
    }
    checkAnswer(vectors, texts.length, this.describe());
    if (vectors.length > 0) this.learnedDim = vectors[0]!.length;
    return vectors;
  }

  /** Frees the ONNX session; idempotent, and a later embed loads the model again. */
  async close(): Promise<void> {
    const extractor = this.extractor;
    this.extractor = undefined;
    await extractor?.dispose?.();
  }
}
