// The durable-ingest comparison at tiny size: mnemo, better-sqlite3, lmdb and the raw floor each
// store every event, and the checksum (what each store holds afterwards) repeats on a second run.
import { describe, expect, it } from 'vitest';
import { compareIngest } from '../../bench/compare-ingest.js';

const tiny = { sizes: [2_200], queries: 0, log: () => {} };

describe('compare-ingest (tiny)', () => {
  it('given 2,200 graph events in batches of 1000, when run twice, then every store took them all and the checksum repeats', async () => {
    const first = await compareIngest(tiny);
    const second = await compareIngest(tiny);
    expect(first.rows.map((r) => r.role)).toEqual(['mnemo', 'peer', 'peer', 'floor']);
    for (const row of first.rows) {
      expect(row.size).toBe(2_200);
      expect(row.throughput).toBeGreaterThan(0);
    }
    expect(first.checksum).toBe(4 * 2_200);
    expect(second.checksum).toBe(first.checksum);
  });
});
