// The restart comparison at tiny size: mnemo from a checkpoint, mnemo by full replay and
// better-sqlite3 all come back with the same first answer, and the checksum repeats.
import { describe, expect, it } from 'vitest';
import { compareRestart } from '../../bench/compare-restart.js';

const tiny = { sizes: [2_000], queries: 0, log: () => {} };

describe('compare-restart (tiny)', () => {
  it('given 2,000 graph events, when restarted three ways twice over, then each answers and the checksum repeats', async () => {
    const first = await compareRestart(tiny);
    const second = await compareRestart(tiny);
    expect(first.rows.map((r) => r.subject)).toEqual(['mnemo, checkpoint + 200-event tail', 'mnemo, full replay (no checkpoint)', 'better-sqlite3, open + first query']);
    for (const row of first.rows) expect(row.p50).toBeGreaterThan(0);
    expect(first.checksum).toBeGreaterThan(0);
    expect(second.checksum).toBe(first.checksum);
    expect(first.goals[0]!.met).toBeNull(); // 2,000 events is below the goal's 1M
  });
});
