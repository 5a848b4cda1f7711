// The memory index's budget: for any budget, the markdown's estimated tokens stay within it, the
// biggest domains and links come first, and what does not fit is counted, not silently lost.
import { describe, expect, it } from 'vitest';

import { estimateTokens, renderMemoryIndex, renderPromptContext, type MemoryOverview } from '../../src/query/memory-index.js';
import type { RecallHit } from '../../src/index.js';

function overview(domains: number, linksPerDomain: number): MemoryOverview {
  return {
    seq: 12_345,
    totalNodes: domains * 100,
    totalEdges: domains * linksPerDomain * 10,
    domains: Array.from({ length: domains }, (_, i) => ({
      domain: `domain_${i}`,
      nodes: 1_000 - i,
      types: new Map([[`domain_${i}`, 900 - i], [`sub_${i}`, 100]]),
      examples: [`Example name number ${i} with a few more words`, `Another ${i}`, `Third example of ${i}`],
    })),
    links: Array.from({ length: domains * linksPerDomain }, (_, i) => ({ from: `domain_${i % domains}`, to: `domain_${(i + 1) % domains}`, relation: `relation_${i % 7}`, count: 5_000 - i })),
  };
}

describe('memory index budget', () => {
  it.each([50, 80, 120, 200, 500, 1_000, 4_000])('given 60 domains and 300 links, when rendered within %i tokens, then the estimate stays within it and both sections show', (budget) => {
    const index = renderMemoryIndex(overview(60, 5), budget);
    expect(index.tokens).toBeLessThanOrEqual(budget);
    expect(estimateTokens(index.markdown) + index.markdown.split('\n').length).toBeLessThanOrEqual(budget);
    // Four characters a token is the usual rule for English under BPE tokenizers; the estimate is stricter.
    expect(index.markdown.length / 4).toBeLessThanOrEqual(budget);
    expect(index.truncated).toBe(true);
    if (budget >= 120) {
      expect(index.markdown).toContain('- domain_0 (1000 nodes; types: domain_0 900, sub_0 100)');
      expect(index.markdown).toContain('- domain_0 -[relation_0]-> domain_1: 5000');
      expect(index.markdown).toMatch(/- … \d+ more links$/);
    }
  });

  it('given a small memory, when rendered with room to spare, then nothing is left out', () => {
    const index = renderMemoryIndex(overview(3, 1), 1_000);
    expect(index.truncated).toBe(false);
    expect(index.markdown.split('\n')).toHaveLength(1 + 1 + 3 + 1 + 3);
  });

  it('given an empty memory, when rendered, then it says so in one line', () => {
    const index = renderMemoryIndex({ seq: 0, totalNodes: 0, totalEdges: 0, domains: [], links: [] }, 100);
    expect(index.markdown).toBe('# Memory index (seq 0: 0 nodes, 0 edges, 0 domains)');
  });

  it('given many long hits, when the prompt context is rendered, then the budget holds and the best hits come first', () => {
    const hits: RecallHit[] = Array.from({ length: 50 }, (_, i) => ({
      id: `node:note:${i}`,
      node: { id: `node:note:${i}`, type: 'note', domain: 'note', properties: { name: `Note ${i}`, body: 'words '.repeat(100) }, createdAt: 0, updatedAt: 0, version: 1 },
      score: 1 - i / 100,
      depth: i % 2,
      components: { similarity: 1, proximity: 1, recency: 1 },
      retrieval: ['lexical'],
    }));
    for (const budget of [100, 300, 1_000, 3_000]) {
      const context = renderPromptContext(overview(10, 2), 'what about notes', hits, false, budget);
      expect(context.tokens).toBeLessThanOrEqual(budget);
      expect(estimateTokens(context.markdown)).toBeLessThanOrEqual(budget);
      expect(context.hits.map((h) => h.id)).toEqual(hits.slice(0, context.hits.length).map((h) => h.id));
    }
    expect(renderPromptContext(overview(10, 2), 'q', hits, false, 3_000).hits.length).toBeGreaterThan(5);
  });

  it('given text, when tokens are estimated, then words count by length, digits by threes and punctuation one each', () => {
    expect(estimateTokens('a bb cccc ddddd')).toBe(1 + 1 + 1 + 2);
    expect(estimateTokens('12345 -[x]->')).toBe(2 + 1 + 1 + 1 + 1 + 1 + 1);
    expect(estimateTokens('')).toBe(0);
  });
});
