// A data dir remembers the embedder that made its vectors (model and dimension, in
// `<dataDir>/embedder.json`), so a process started with another model fails at open instead of
// mixing two models' vectors in one index, where every similarity across them would be noise.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { mnemoError } from '../kernel/errors.js';
import { replaceAtomically } from '../storage/atomic.js';
import type { Embedder } from './embedder.js';

export const embedderFileName = 'embedder.json';

interface RememberedEmbedder {
  model: string;
  dim: number;
}

function label(e: RememberedEmbedder): string {
  return `'${e.model}' (${e.dim}-d)`;
}

/**
 * Checks a warmed embedder against what the data dir remembers (or, for a dir from before, the
 * dimension of the vectors it holds), then remembers it. A bare embed function (`custom`) is
 * checked by dimension only: it has no name to remember.
 */
export function rememberEmbedder(dataDir: string, embedder: Embedder, storedVectorDim: number | null): void {
  const file = join(dataDir, embedderFileName);
  const given: RememberedEmbedder = { model: embedder.model, dim: embedder.dim };
  const remembered = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RememberedEmbedder) : undefined;
  if (remembered !== undefined && given.model !== 'custom' && (remembered.model !== given.model || remembered.dim !== given.dim)) {
    throw mnemoError('EMBEDDER_MISMATCH', { dir: dataDir, remembered: label(remembered), given: label(given) });
  }
  if (storedVectorDim !== null && storedVectorDim !== given.dim) {
    throw mnemoError('EMBEDDER_MISMATCH', { dir: dataDir, remembered: `of dimension ${storedVectorDim}`, given: label(given) });
  }
  if (remembered === undefined && given.model !== 'custom') replaceAtomically(file, [Buffer.from(JSON.stringify(given) + '\n')]);
}
