// neighborsJson answers from node state's per-version cache of each node's wire JSON. Given a hub
// whose neighbours' JSON is cached, when neighbours are updated, deleted, created again (a reused
// handle), read as of an earlier seq, through a peer's view, or after a restart (replay, then a
// checkpoint), then the cached answer is always the JSON of the records neighbors builds afresh.
import { describe, expect, it } from 'vitest';

import { openEngine, type Engine, type NeighborsOptions } from '../../src/index.js';
import { toSnakeJson, type JsonBytes } from '../../src/kernel/wire.js';
import { givenEngine, seededRandom, tempDir } from '../support/engine.js';

function rowsJson(rows: readonly JsonBytes[]): string {
  return `[${rows.map((row) => Buffer.from(row.bytes).toString('utf8')).join(',')}]`;
}

function byId(json: string): Array<{ id: string }> {
  return (JSON.parse(json) as Array<{ id: string }>).sort((a, b) => a.id.localeCompare(b.id));
}

/** The cached answer and the fresh one, as JSON text, beside the rest of the page. */
function bothWays(engine: Pick<Engine, 'neighbors' | 'neighborsJson'>, id: string, options: NeighborsOptions = {}): { cached: string; fresh: string } {
  const cached = engine.neighborsJson(id, options);
  const fresh = engine.neighbors(id, options);
  expect({ ...cached, nodes: undefined }).toEqual({ ...fresh, nodes: undefined });
  return { cached: rowsJson(cached.nodes), fresh: toSnakeJson(fresh.nodes) };
}

const hub = 'node:t:hub';
const neighbourIds = Array.from({ length: 12 }, (_, i) => `node:t:${i}`);

async function givenHub(engine: Engine): Promise<void> {
  await engine.addNode({ id: hub, type: 'person', properties: { name: 'hub' } });
  for (const [i, id] of neighbourIds.entries()) {
    // Every third without properties: nodes sharing the empty properties object.
    await engine.addNode({ id, type: i % 2 ? 'person' : 'project', properties: i % 3 === 0 ? {} : { name: `n${i}`, rank: i } });
    await engine.addEdge({ source: hub, target: id, relation: i % 2 ? 'knows' : 'works_on' });
  }
}

describe('neighbours as cached JSON', () => {
  it('given cached rows, when random updates, deletes and re-creations follow, then every read equals the fresh records', async () => {
    const engine = await givenEngine();
    await givenHub(engine);
    const random = seededRandom(21);
    const seqs: number[] = [];
    for (let step = 0; step < 150; step++) {
      const { cached, fresh } = bothWays(engine, hub);
      expect(cached).toBe(fresh);
      const id = neighbourIds[Math.floor(random() * neighbourIds.length)]!;
      const roll = random();
      if (engine.getNode(id) === null) {
        // Created again (it takes a freed handle, whose old JSON must not show) and linked back.
        await engine.addNode({ id, type: roll < 0.5 ? 'person' : 'project', properties: { name: `again ${step}`, domain: roll < 0.3 ? 'other' : 'team' } });
        await engine.addEdge({ source: id, target: hub, relation: 'knows' });
      } else if (roll < 0.7) {
        // Updates that change properties, remove them, or move the node to another domain.
        await engine.updateNode(id, roll < 0.3 ? { name: `step ${step}` } : roll < 0.5 ? { name: null, rank: null } : { domain: `d${step % 3}` });
      } else {
        await engine.deleteNode(id);
      }
      seqs.push(engine.stats().lastSeq);
    }
    // Time travel answers from a historical node state, with its own cache.
    for (const asOf of [seqs[10]!, seqs[70]!, seqs[140]!]) {
      const { cached, fresh } = bothWays(engine, hub, { asOf });
      expect(cached).toBe(fresh);
    }
    // Pages, filters and depth 2 (not cached: the rows carry their depth).
    for (const options of [{ limit: 3, offset: 2 }, { relation: 'knows' }, { direction: 'out' as const }, { depth: 2 }, { offset: 40 }]) {
      const { cached, fresh } = bothWays(engine, hub, options);
      expect(cached).toBe(fresh);
    }
    // A peer's view hides other domains' nodes from the cached rows too.
    const shared = engine.shared(['team', 'person']);
    const { cached, fresh } = bothWays(shared, hub);
    expect(cached).toBe(fresh);
  });

  it('given cached rows, when the engine restarts by replay and then from a checkpoint, then the rows are the records as they are', async () => {
    const dataDir = await tempDir();
    const first = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    await givenHub(first);
    const before = bothWays(first, hub);
    await first.updateNode(neighbourIds[1]!, { name: 'renamed' });
    await first.deleteNode(neighbourIds[2]!);
    await first.addNode({ id: neighbourIds[2]!, type: 'person', properties: { name: 'back' } });
    await first.addEdge({ source: hub, target: neighbourIds[2]!, relation: 'knows' });
    const live = bothWays(first, hub);
    expect(live.cached).toBe(live.fresh);
    expect(live.cached).not.toBe(before.cached);
    await first.close();

    const replayed = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    expect(bothWays(replayed, hub)).toEqual(live);
    await replayed.checkpoint();
    await replayed.updateNode(neighbourIds[3]!, { name: 'after the checkpoint' });
    const beforeRestore = bothWays(replayed, hub);
    await replayed.close();

    const restored = await givenEngine({ dataDir });
    const after = bothWays(restored, hub);
    expect(after.cached).toBe(after.fresh);
    // A restored adjacency may list a node's edges in another order: the same rows, by id.
    expect(byId(after.cached)).toEqual(byId(beforeRestore.cached));
    expect(beforeRestore.cached).toBe(beforeRestore.fresh);
  });
});
