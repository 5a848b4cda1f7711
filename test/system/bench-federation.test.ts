// The federation benchmark at tiny sizes, so it cannot rot: a peer in a network namespace, a few
// queries per row, the delayed row included; the wire must not lose a result.

import { describe, expect, it } from 'vitest';
import { reportOf, runFederationBench } from '../../bench/federation.js';

describe('bench:federation', () => {
  it('given 10 and 50 memories on a peer, when the bench runs, then recall over the wire is 1.00 in every row and the report names each', async () => {
    const rows = await runFederationBench({ sizes: [10, 50], queries: 4, netemSize: 10 });
    expect(rows.map((r) => r.size)).toEqual([10, 50, 10]);
    for (const row of rows) {
      expect([row.recallAt1, row.recallAt3, row.recallAt10]).toEqual([1, 1, 1]);
      expect(row.federatedP50).toBeGreaterThan(0);
    }
    // The delayed row pays at least the delay minus its jitter.
    expect(rows[2]!.federatedP50).toBeGreaterThan(8);
    expect(reportOf(rows, 4)).toContain('| 50 | veth |');
  });
});
