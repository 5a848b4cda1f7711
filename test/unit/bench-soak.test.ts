// The soak in the suite, tiny: it runs, samples, writes its CSV and chart, and judges every check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { runSoak } from '../../bench/soak.js';
import { tempDir } from '../support/engine.js';

describe('soak (tiny)', () => {
  it('given 6 seconds of paced ingest and reads, then it samples every second, writes soak.csv and soak.svg, and reports every check with no 5xx', async () => {
    const outDir = await tempDir('mnemo-soak-out-');
    const result = await runSoak({ minutes: 0.1, outDir, eventsPerSecond: 1_000, readsPerSecond: 200, sampleMs: 1_000, compaction: true }, () => {});
    expect(result.samples.length).toBeGreaterThanOrEqual(4);
    expect(result.samples[result.samples.length - 1]!.events).toBeGreaterThan(result.samples[0]!.events);
    expect(result.checks.map((c) => c.name)).toEqual(['RSS growth after warm-up < 1%/hour', 'event-loop lag p99 < 20 ms', 'event-loop lag max < 100 ms', 'file counts bounded', 'no 5xx (but documented 503 shedding)']);
    expect(result.checks.find((c) => c.name.startsWith('no 5xx'))!.ok).toBe(true);
    const csv = readFileSync(join(outDir, 'soak.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('minute,rssMb,heapMb,externalMb,rssAnonMb,rssFileMb,threads,load1,lagP99Ms,lagMaxMs,fsyncP99Ms,fsyncMaxMs,walSegments,parquetFiles,checkpoints,compactionRuns,checkpointsWritten,events,writeP99Ms,readP99Ms,errors5xx,shed503,dropped');
    expect(csv.length).toBe(result.samples.length + 1);
    // The soak server commits inline with durability fsync: every window with writes timed its fdatasyncs.
    expect(result.samples.filter((s) => s.fsyncMaxMs > 0).length).toBeGreaterThanOrEqual(result.samples.length - 1);
    expect(existsSync(join(outDir, 'soak.svg'))).toBe(true);
  });
});
