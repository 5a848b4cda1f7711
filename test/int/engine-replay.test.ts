// Property: for random valid event streams (with deletes and cascades), the projections after a
// full replay equal the projections built live — compared by each projection's canonical digest.
import { describe, expect, it } from 'vitest';

import { openEngine, type Engine } from '../../src/index.js';
import { givenEngine, seededRandom, tempDir } from '../support/engine.js';

async function randomHistory(db: Engine, seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
  const nodes: string[] = [];
  const edges: string[] = [];
  const vectors = new Set<string>();
  const types = ['person', 'doc', 'topic'];
  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.3 || nodes.length < 2) {
      const { nodeId } = await db.addNode({ type: pick(types)!, properties: { n: step, ...(random() < 0.2 ? { domain: 'shared' } : {}) } });
      nodes.push(nodeId);
    } else if (roll < 0.55) {
      const { edgeId } = await db.addEdge({ source: pick(nodes)!, target: pick(nodes)!, relation: pick(['knows', 'cites'])! });
      edges.push(edgeId);
    } else if (roll < 0.65) {
      await db.updateNode(pick(nodes)!, random() < 0.5 ? { domain: pick(['shared', null])! } : { n: step, extra: null });
    } else if (roll < 0.8) {
      const id = pick(nodes)!;
      await db.embed({ id, vector: [random(), random(), random(), random()], text: `t${step}` });
      vectors.add(id);
    } else if (roll < 0.88) {
      const id = nodes.splice(Math.floor(random() * nodes.length), 1)[0]!;
      await db.deleteNode(id);
      vectors.delete(id);
    } else if (roll < 0.95 && edges.length > 0) {
      const id = edges.splice(Math.floor(random() * edges.length), 1)[0]!;
      if (db.getEdge(id)) await db.deleteEdge(id);
    } else {
      const id = pick([...vectors]);
      if (id !== undefined) {
        await db.deleteVector(id);
        vectors.delete(id);
      }
    }
  }
}

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
