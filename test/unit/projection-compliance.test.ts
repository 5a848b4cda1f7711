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
import type { StoredEvent } from '../../src/kernel/events.js';
import { Engine } from '../../src/engine/engine.js';
import { randomHistory } from '../support/history.js';

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
  for (const projection of registry.all()) saved.set(projection.name, await projection.save(checkpointDir));
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
