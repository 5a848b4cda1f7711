// The WAL ingest benchmark at tiny size: it runs end to end and its checksum (a sum of
// the payload crcs it wrote) is stable, so the benchmark cannot silently rot.
import { describe, expect, it } from 'vitest';
import { runWalBench } from '../../bench/wal-ingest.js';

describe('WAL ingest benchmark (tiny)', () => {
  it('given 3 batches per cell, when run twice, then every cell reports events and the checksum is the same', async () => {
    const first = await runWalBench({ quick: true, batchesPerCell: 3 });
    const second = await runWalBench({ quick: true, batchesPerCell: 3 });
    expect(first.results.length).toBe(16);
    for (const r of first.results) expect(r.events).toBe(3 * r.batchEvents);
    expect(first.checksum).toBe(second.checksum);
    expect(first.checksum).not.toBe(0);
    expect(first.markdown).toContain('| wal fsync | 1000 |');
  });
});
