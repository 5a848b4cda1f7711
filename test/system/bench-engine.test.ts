// The engine and MCP benches run at tiny sizes in the suite, so they cannot rot: each completes
// and its result checksum (result sizes, not timings) is the same on every run.
import { describe, expect, it } from 'vitest';

import { runEngineBench, type EngineBenchOptions } from '../../bench/engine.js';
import { runMcpBench } from '../../bench/mcp.js';

const tiny: EngineBenchOptions = { graphSizes: [500], vectorCount: 200, vectorDim: 16, ingestEvents: 2_000, queries: 300 };

describe('benches at tiny size', () => {
  it('given tiny sizes, when the engine bench runs twice, then it completes with the same checksum', async () => {
    const first = await runEngineBench(tiny, () => {});
    const second = await runEngineBench(tiny, () => {});
    expect(first.markdown).toContain('mnemo `neighbors`');
    expect(first.markdown).toContain('recall@10');
    expect(first.markdown).toContain('floor: bare Maps');
    expect(second.checksum).toBe(first.checksum);
  });

  it('given tiny sizes, when the MCP bench runs twice (stdio child, HTTP, embedded), then it completes with the same checksum', async () => {
    const first = await runMcpBench({ calls: 20, textNodes: 500 });
    const second = await runMcpBench({ calls: 20, textNodes: 500 });
    expect(first.markdown).toContain('MCP stdio `prime_neighbors`');
    expect(second.checksum).toBe(first.checksum);
  });
});
