// Property: for random valid event streams (with deletes and cascades), the projections after a
// full replay equal the projections built live — compared by each projection's canonical digest.
import { describe, expect, it } from 'vitest';

import { openEngine } from '../../src/index.js';
import { givenEngine, tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

describe('replay equals live', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`given random history seed ${seed}, when the engine is reopened, then every projection digest matches`, async () => {
      const dataDir = await tempDir();
      const live = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
      await randomHistory(live, seed, 400);
      await live.whenIndexed();
      const liveDigests = live.digests();
      const liveStats = live.stats();
      await live.close();
      const replayed = await givenEngine({ dataDir });
      expect(replayed.digests()).toEqual(liveDigests);
      expect(replayed.stats()).toMatchObject({
        totalNodes: liveStats.totalNodes,
        totalEdges: liveStats.totalEdges,
        totalVectors: liveStats.totalVectors,
        lastSeq: liveStats.lastSeq,
      });
    });
  }
});
