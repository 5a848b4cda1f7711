// One suite every projection of the registry gets for free: over a generated history (creates,
// updates, deletes with cascades, edges, vectors), each projection (with what it reads) is applied,
// digested, saved, loaded into a fresh registry and digested again; a checkpoint taken midway and
// rolled forward equals a replay of everything; and a replay equals the live engine's state.
// Declaring a new projection in projections/registry.ts adds it here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProjectionRegistry, projectionDeclarations, type ProjectionName } from '../../projections/registry.js';
import type { Projection } from '../../projections/projection.js';
import { saveSliceRows } from '../../projections/columns.js';
import type { StoredEvent } from '../../src/kernel/events.js';
import { Engine } from '../../src/engine/engine.js';
import { randomHistory } from '../support/history.js';
import { joinedBytes } from '../../projections/saved-runs.js';

const vector = { dim: 4 };
let history: StoredEvent[] = [];
let live: Record<string, string> = {};
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mnemo-compliance-'));
  const db = await Engine.open({ dataDir: join(dir, 'data'), durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {}, vector });
  await randomHistory(db, 77, 600);
  await db.whenIndexed();
  history = [...db.events(1)];
  live = db.digests();
  await db.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function replay(name: ProjectionName, events: readonly StoredEvent[], registry = new ProjectionRegistry({ vector }, [name])): ProjectionRegistry {
  for (const event of events) registry.apply(event);
  return registry;
}

/** Saves every projection of `registry` into a checkpoint-like directory, loads them into a fresh registry (in load order), and returns it. */
async function saveAndLoad(name: ProjectionName, registry: ProjectionRegistry, label: string): Promise<ProjectionRegistry> {
  const checkpointDir = await mkdtemp(join(dir, `${label}-`));
  const saved = new Map<string, Uint8Array>();
  for (const projection of registry.all()) saved.set(projection.name, joinedBytes(await projection.save(checkpointDir)));
  const fresh = new ProjectionRegistry({ vector }, [name]);
  for (const projection of fresh.loadOrder) await projection.load(saved.get(projection.name)!, checkpointDir);
  return fresh;
}

function digestOf(registry: ProjectionRegistry, name: ProjectionName): string {
  return (registry.byName[name] as Projection).digest();
}

describe('every registered projection', () => {
  it('given the generated history, then it holds every kind of event', () => {
    const types = new Set(history.map((e) => e.type));
    expect([...types].sort()).toEqual(['prime.edge.created', 'prime.edge.deleted', 'prime.node.created', 'prime.node.deleted', 'prime.node.updated', 'prime.vector.deleted', 'prime.vector.stored']);
  });

  for (const { name } of projectionDeclarations) {
    describe(name, () => {
      it('given the history applied, when saved and loaded into a fresh registry, then its digest is unchanged', async () => {
        const applied = replay(name, history);
        const before = digestOf(applied, name);
        const loaded = await saveAndLoad(name, applied, `${name}-whole`);
        expect(digestOf(loaded, name)).toBe(before);
      });

      it('given a checkpoint taken midway, when loaded and the rest applied, then its digest equals a replay of everything', async () => {
        const half = Math.floor(history.length / 2);
        const loaded = await saveAndLoad(name, replay(name, history.slice(0, half)), `${name}-half`);
        expect(digestOf(replay(name, history.slice(half), loaded), name)).toBe(digestOf(replay(name, history), name));
      });

      it('given a replay of the history, then its digest equals the live engine that wrote it', () => {
        expect(digestOf(replay(name, history), name)).toBe(live[name]);
      });
    });
  }
});

/** A graph with more edges than one save slice, every one across two domains (persons to projects), and events that change every part a save reads (handles freed and reused, a relation released, a domain emptied). */
function bulkGraph(): { bulk: StoredEvent[]; changes: StoredEvent[] } {
  let seq = 0;
  const event = (type: StoredEvent['type'], payload: unknown): StoredEvent => ({ seq: ++seq, ts: 1_700_000_000_000 + seq, type, payload }) as StoredEvent;
  const nodes = 2_000;
  const bulk: StoredEvent[] = [];
  for (let i = 0; i < nodes; i++) bulk.push(event('prime.node.created', { id: `node:${i}`, type: i % 2 === 0 ? 'person' : 'project', properties: { name: `n${i}` } }));
  for (let e = 0; e < saveSliceRows + 5_000; e++) {
    const relation = e % 1_000 === 7 ? 'rare' : e % 2 === 0 ? 'knows' : 'cites';
    bulk.push(event('prime.edge.created', { id: `edge:${e}`, source: `node:${2 * (e % 1_000)}`, target: `node:${2 * ((e * 7) % 1_000) + 1}`, relation, weight: e % 5 === 0 ? 0.5 : 1, properties: e % 997 === 0 ? { note: `e${e}` } : {} }));
  }
  const changes: StoredEvent[] = [];
  for (let e = 7; e < saveSliceRows + 5_000; e += 1_000) changes.push(event('prime.edge.deleted', { id: `edge:${e}` })); // every 'rare' edge: the relation is released
  for (let e = 0; e < 3_000; e += 3) if (e % 1_000 !== 7) changes.push(event('prime.edge.deleted', { id: `edge:${e}` }));
  for (let e = 0; e < 2_000; e++) changes.push(event('prime.edge.created', { id: `edge:new:${e}`, source: `node:${e}`, target: `node:${(e + 1) % nodes}`, relation: 'newer', weight: 1, properties: {} }));
  for (let i = 0; i < 500; i++) changes.push(event('prime.node.updated', { id: `node:${i}`, properties: { name: `renamed${i}`, domain: 'moved' } }));
  return { bulk, changes };
}

describe('a save in progress', () => {
  it('given more rows than one slice, when events change the projections while the saves yield, then each returns the bytes of the state it started at', async () => {
    const { bulk, changes } = bulkGraph();
    const registry = new ProjectionRegistry({ vector });
    for (const event of bulk) registry.apply(event);
    const before = new Map<string, Uint8Array>();
    for (const projection of registry.all()) before.set(projection.name, joinedBytes(await projection.save(await mkdtemp(join(dir, 'before-')))));
    const racingDir = await mkdtemp(join(dir, 'racing-'));
    const pending = registry.all().map((projection) => ({ name: projection.name, bytes: projection.save(racingDir) }));
    // The saves have taken their snapshots and yielded; every change lands before their slices run.
    for (const event of changes) registry.apply(event);
    for (const { name, bytes } of pending) expect(Buffer.compare(joinedBytes(await bytes), before.get(name)!), name).toBe(0);
    // And the changes did land: a save now differs where they touched.
    expect(Buffer.compare(joinedBytes(await registry.byName.adjacency.save()), before.get('adjacency')!)).not.toBe(0);
  });
});
