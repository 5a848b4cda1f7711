// The restart benchmark at tiny size, so it cannot rot: it builds, checkpoints, restarts both ways,
// compacts, time-travels and rebuilds from Parquet, and checks the states it restored match.
import { describe, expect, it } from 'vitest';

import { runRestartBench, tinySizes } from '../../bench/restart.js';

describe('bench/restart.ts', () => {
  it('given the tiny sizes, when run, then every phase completes and reports its numbers', async () => {
    const results = await runRestartBench(tinySizes);
    expect(results.events).toBe(tinySizes.events);
    expect(results.vectorsPendingAfterCheckpointOpen).toBe(0);
    expect(results.parquetBytes).toBeGreaterThan(0);
    expect(results.neighborsDuringCompaction.count).toBeGreaterThan(0);
    expect(results.checksum).toBeGreaterThan(0);
    expect(results.resolveIdsEventsPerSecond).toBeGreaterThan(0);
  });
});
