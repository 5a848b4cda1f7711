// The recall-by-text benchmark at tiny size: every row is measured, and the checksum repeats.
import { describe, expect, it } from 'vitest';
import { runWordsBench } from '../../bench/words.js';

describe('bench words (tiny)', () => {
  it('given 300 notes and 30 questions, when run twice, then every row has numbers and the checksum repeats', async () => {
    const first = await runWordsBench({ nodes: 300, queries: 30 });
    const second = await runWordsBench({ nodes: 300, queries: 30 });
    expect(first.markdown).toContain('recall by text, warm answer cache');
    expect(first.markdown).not.toContain('NaN');
    expect(second.checksum).toBe(first.checksum);
  });
});
