// The neighbours comparison at tiny size: mnemo, the Map floor, better-sqlite3 and graphology all
// answer, and the checksum of their answers is the same on a second run, so the bench cannot rot.
import { describe, expect, it } from 'vitest';
import { compareNeighbors } from '../../bench/compare-neighbors.js';

const tiny = { sizes: [300], queries: 200, log: () => {} };

describe('compare-neighbors (tiny)', () => {
  it('given 300 nodes of degree 10, when run twice, then every subject has a row and the checksum repeats', async () => {
    const first = await compareNeighbors(tiny);
    const second = await compareNeighbors(tiny);
    expect(first.rows.map((r) => r.subject)).toEqual(['mnemo `neighbors`', 'floor: Map<string, Set> + Map.get', 'better-sqlite3', 'graphology']);
    for (const row of first.rows) expect(row.p50).toBeGreaterThan(0);
    expect(first.checksum).toBeGreaterThan(0);
    expect(second.checksum).toBe(first.checksum);
    expect(first.goals.map((g) => typeof g.met)).toEqual(['boolean', 'boolean']);
  });
});
