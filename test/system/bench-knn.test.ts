// The k-NN comparison at tiny size: mnemo and every vector peer build, answer k = 10 with a recall
// figure, and the checksum (ground truth and answer sizes) is the same on a second run.
import { describe, expect, it } from 'vitest';
import { compareKnn } from '../../bench/compare-knn.js';

const tiny = { sizes: [400], queries: 50, dim: 16, log: () => {} };

describe('compare-knn (tiny)', () => {
  it('given 400 clustered 16-d vectors, when run twice, then every peer reports recall and the checksum repeats', async () => {
    const first = await compareKnn(tiny);
    const second = await compareKnn(tiny);
    const subjects = first.rows.map((r) => r.subject);
    expect(subjects.slice(0, 4)).toEqual(['mnemo `similar`', 'bare hnswlib-node (floor)', 'usearch', 'Orama (brute force)']);
    expect(subjects.length).toBe(4 + (first.skipped.length === 0 ? 1 : 0));
    for (const row of first.rows) expect(row.note).toMatch(/recall@10 (0\.[89]\d\d|1\.000)/);
    // mnemo and the library it wraps take turns, so their ratio (the goal) is not one slow spell's.
    expect(first.rows[0]!.note).toContain('timed taking turns with bare hnswlib-node (floor)');
    expect(first.rows[1]!.note).toContain('timed taking turns with mnemo `similar`');
    expect(first.checksum).toBeGreaterThan(0);
    expect(second.checksum).toBe(first.checksum);
  });
});
