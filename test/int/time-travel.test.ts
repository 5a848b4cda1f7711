// Time travel: for random histories (spanning Parquet, a checkpoint and the WAL), the asOf answer
// at seq k equals the live answer of an engine that was given only events 1..k. Plus ISO times,
// history over Parquet + WAL, and diff.
import { describe, expect, it } from 'vitest';

import type { NodeRecord, StoredEvent } from '../../src/index.js';
import { Engine } from '../../src/engine/engine.js';
import { tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

const quiet = { durability: 'none' as const, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };

/** Timestamps differ between two engines given the same events; everything else must not. */
function withoutTimes(node: NodeRecord | null): unknown {
  if (node === null) return null;
  const { createdAt: _c, updatedAt: _u, ...rest } = node;
  return rest;
}

function neighborIds(db: Engine, id: string, options: Record<string, unknown>): string[] {
  return db.neighbors(id, { limit: 500, ...options }).nodes.map((n) => `${n.id}@${(n as { depth?: number }).depth ?? 1}`).sort();
}

/** An engine given exactly events 1..k (raw type and payload, in order, so the seqs match). */
async function engineWithPrefix(events: StoredEvent[], k: number): Promise<Engine> {
  const db = await Engine.open({ dataDir: await tempDir(), ...quiet });
  for (let i = 0; i < k; i += 200) {
    await db.append(events.slice(i, Math.min(k, i + 200)).map((e) => ({ type: e.type, payload: e.payload })));
  }
  expect(db.stats().lastSeq).toBe(k);
  return db;
}

describe('asOf equals an engine replayed to that seq', () => {
  for (const seed of [21, 22, 23]) {
    it(`given random history seed ${seed} (part in Parquet, a checkpoint, the rest in the WAL), then getNode and neighbors asOf k match`, async () => {
      const dataDir = await tempDir();
      let db = await Engine.open({ dataDir, ...quiet, segmentBytesMax: 4096 });
      await randomHistory(db, seed, 150);
      await db.compact();
      await randomHistory(db, seed + 100, 100);
      await db.checkpoint();
      await randomHistory(db, seed + 200, 100);
      await db.close();
      db = await Engine.open({ dataDir, ...quiet });
      const events = [...db.events(1)];
      const lastSeq = db.stats().lastSeq;
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      const ids = [...new Set(events.filter((e) => e.type.startsWith('prime.node.')).map((e) => e.payload.id))];
      const points = [0, 1, 37, 90, 151, 180, 222, 260, 300, lastSeq - 1, lastSeq].filter((k) => k >= 0 && k <= lastSeq);
      for (const k of points) {
        const reference = await engineWithPrefix(events, k);
        for (const id of ids) {
          expect(withoutTimes(db.getNode(id, { asOf: k })), `getNode ${id} asOf ${k}`).toEqual(withoutTimes(reference.getNode(id)));
          if (reference.getNode(id) === null) continue;
          for (const options of [{}, { direction: 'out' }, { depth: 2 }, { relation: 'knows', direction: 'in' }]) {
            expect(neighborIds(db, id, { ...options, asOf: k }), `neighbors ${id} asOf ${k}`).toEqual(neighborIds(reference, id, options));
          }
        }
        await reference.close();
      }
      await db.close();
    });
  }
});

describe('asOf forms', () => {
  it('given an update 20 ms after a create, when asked as of an ISO time between them, then the node is as created', async () => {
    const db = await Engine.open({ dataDir: await tempDir(), ...quiet });
    const { nodeId } = await db.addNode({ type: 'doc', properties: { v: 1 } });
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date(Date.now() - 10).toISOString();
    await db.updateNode(nodeId, { v: 2 });
    expect(db.getNode(nodeId, { asOf: between })?.properties).toEqual({ v: 1 });
    expect(db.getNode(nodeId, { asOf: '2000-01-01T00:00:00Z' })).toBeNull();
    expect(db.getNode(nodeId, { asOf: new Date(Date.now() + 60_000).toISOString() })?.properties).toEqual({ v: 2 });
    expect(db.getNode(nodeId, { asOf: 1 })?.properties).toEqual({ v: 1 });
    expect(db.getNode(nodeId, { asOf: 99 })?.properties).toEqual({ v: 2 }); // past the end: the live state
    expect(() => db.getNode(nodeId, { asOf: 'yesterday' })).toThrow(/asOf/);
    expect(() => db.getNode(nodeId, { asOf: -1 })).toThrow(/asOf/);
    await db.close();
  });

  it('given a node that did not exist yet, when neighbors asOf is asked, then NODE_NOT_FOUND', async () => {
    const db = await Engine.open({ dataDir: await tempDir(), ...quiet });
    await db.addNode({ type: 'doc' });
    const { nodeId } = await db.addNode({ type: 'doc' });
    expect(() => db.neighbors(nodeId, { asOf: 1 })).toThrow(/does not exist/);
    await db.close();
  });
});

describe('history and diff', () => {
  it('given events on both sides of a compaction, then history lists every event that touched the node, in order', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet });
    const { nodeId: a } = await db.addNode({ type: 'person', properties: { name: 'a' } });
    const { nodeId: b } = await db.addNode({ type: 'person' });
    const { edgeId } = await db.addEdge({ source: a, target: b, relation: 'knows' });
    await db.compact();
    await db.updateNode(a, { name: 'a2' });
    await db.deleteEdge(edgeId);
    await db.close();
    const reopened = await Engine.open({ dataDir, ...quiet });
    expect(reopened.history(a).map((e) => [e.seq, e.type])).toEqual([
      [1, 'prime.node.created'],
      [3, 'prime.edge.created'],
      [4, 'prime.node.updated'],
      [5, 'prime.edge.deleted'],
    ]);
    expect(reopened.history(b).map((e) => e.seq)).toEqual([2, 3, 5]);
    await reopened.close();
  });

  it('given adds, updates and deletes between two points, then diff names them', async () => {
    const db = await Engine.open({ dataDir: await tempDir(), ...quiet });
    const { nodeId: kept } = await db.addNode({ type: 'doc' });
    const { nodeId: changed } = await db.addNode({ type: 'doc' });
    const { nodeId: removed } = await db.addNode({ type: 'doc' });
    const { edgeId: oldEdge } = await db.addEdge({ source: kept, target: removed, relation: 'r' });
    const from = db.stats().lastSeq;
    await db.updateNode(changed, { x: 1 });
    await db.deleteNode(removed); // cascades to oldEdge
    const { nodeId: added } = await db.addNode({ type: 'doc' });
    const { edgeId: newEdge } = await db.addEdge({ source: kept, target: added, relation: 'r' });
    const result = db.diff(from, db.stats().lastSeq);
    expect(result.nodes).toEqual({ added: [added], updated: [changed], deleted: [removed] });
    expect(result.edges).toEqual({ added: [newEdge], deleted: [oldEdge] });
    expect(db.diff(0, from).nodes.added).toEqual([kept, changed, removed].sort());
    expect(() => db.diff(from, 1)).toThrow(/after to/);
    await db.close();
  });
});
