// Given/when/then helpers for engine tests: a fresh data dir per test, removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

import { openEngine, type Engine, type EngineOptions } from '../../src/index.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

export async function tempDir(prefix = 'mnemo-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An engine on a fresh data dir (durability 'none' unless asked), closed after the test. */
export async function givenEngine(options: Partial<EngineOptions> = {}): Promise<Engine> {
  const dataDir = options.dataDir ?? (await tempDir());
  const engine = await openEngine({ durability: 'none', onWarning: () => {}, ...options, dataDir });
  cleanups.push(() => engine.close());
  return engine;
}

/** The error `promise` rejects with; fails the test if it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

export { seededRandom } from '../../bench/support/random.js';
