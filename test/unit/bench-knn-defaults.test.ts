// The k-NN defaults bench in the suite, tiny: every shape, both build settings, every ef, a recall in [0, 1].
import { describe, expect, it } from 'vitest';

import { runKnnDefaults, shapes } from '../../bench/knn-defaults.js';

describe('k-NN defaults bench (tiny)', () => {
  it('given 300 vectors of each shape, then each shape x efConstruction x ef has a row with recall in [0, 1], and wider ef never finds less on the clustered sets', () => {
    const rows = runKnnDefaults({ count: 300, queries: 20, efConstructions: [100, 200], efs: [10, 64] }, () => {});
    expect(rows.length).toBe(shapes.length * 2 * 2);
    for (const row of rows) expect(row.recall).toBeGreaterThanOrEqual(0);
    for (const row of rows) expect(row.recall).toBeLessThanOrEqual(1);
    expect(rows.filter((r) => r.shape.includes('clusters') && r.ef === 64).every((r) => r.recall >= 0.95)).toBe(true);
  });
});
