// The one interface every text embedder meets: a model name, a dimension, and texts in, vectors
// out. The engine, the caches and the surfaces see only this; remote.ts and local.ts implement it.

import type { EmbedOption, Embedder } from '../kernel/api.js';
import { mnemoError } from '../kernel/errors.js';

export type { Embedder, EmbedOption };

/** Wraps the older bare-function form so everything downstream sees one interface. */
export function asEmbedder(option: EmbedOption): Embedder {
  if (typeof option !== 'function') return option;
  let dim = 0;
  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    const made = await option([...texts]);
    const vectors = made.map((v) => (v instanceof Float32Array ? v : Float32Array.from(v)));
    checkAnswer(vectors, texts.length, 'custom embed function');
    dim = vectors[0]?.length ?? dim;
    return vectors;
  };
  return {
    model: 'custom',
    get dim() {
      return dim;
    },
    embed,
    warm: async () => {
      await embed(['warm-up']);
    },
    describe: () => 'custom embed function',
  };
}

/** An embedder's answer must have one finite, non-empty vector per text, all of one length. */
export function checkAnswer(vectors: readonly Float32Array[], expected: number, embedder: string): void {
  const reason =
    vectors.length !== expected
      ? `answered ${vectors.length} vectors for ${expected} texts`
      : vectors.some((v) => v.length === 0 || v.length !== vectors[0]!.length)
        ? 'answered vectors of differing or zero length'
        : vectors.some((v) => v.some((x) => !Number.isFinite(x)))
          ? 'answered a vector with a non-finite value'
          : undefined;
  if (reason !== undefined) throw mnemoError('EMBEDDER_UNAVAILABLE', { embedder, reason });
}

/** Splits `texts` into request-sized batches. */
export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
