// Repair, as an operator meets it: real Parquet files written by compaction, damaged on disk, and
// the compiled `mnemo` CLI in child processes (`npx tsc -p tsconfig.json` first). Without --repair
// a damaged or missing file stops the start with a message that names it and the way forward; with
// --repair the file is set aside, the seqs it held are named as lost (and recorded, so later starts
// need nothing), and the events that survive are served.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { openTunedEngine } from '../../src/admin.js';
import { isMnemoError } from '../../src/index.js';
import { givenServe, mnemo } from '../support/cli.js';
import { tempDir } from '../support/engine.js';

const quiet = { durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} } as const;
const batches = 12;
const perBatch = 40;

interface Given {
  dataDir: string;
  lastSeq: number;
  /** The Parquet files compaction wrote, by first seq. */
  files: Array<{ path: string; firstSeq: number; lastSeq: number }>;
}

/**
 * A data dir whose every event is in Parquet (several files: small segments), no checkpoint. Each
 * batch creates `perBatch` nodes and updates the first node of the batch before, so events after a
 * lost file depend on events in it.
 */
async function givenCompactedDataDir(keepWalCopy?: string): Promise<Given> {
  const dataDir = await tempDir();
  const db = await openTunedEngine({ dataDir, ...quiet, segmentBytesMax: 8 * 1024 });
  for (let b = 0; b < batches; b++) {
    const events: unknown[] = Array.from({ length: perBatch }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:doc:${b}-${i}`, type: 'doc', properties: { b, i } } }));
    if (b > 0) events.push({ type: 'prime.node.updated', payload: { id: `node:doc:${b - 1}-0`, properties: { touched: b } } });
    await db.append(events);
  }
  const lastSeq = db.stats().lastSeq;
  if (keepWalCopy !== undefined) {
    await db.close();
    cpSync(join(dataDir, 'wal'), keepWalCopy, { recursive: true });
    const again = await openTunedEngine({ dataDir, ...quiet, segmentBytesMax: 8 * 1024 });
    await again.compact();
    await again.close();
  } else {
    await db.compact();
    await db.close();
  }
  const parquetDir = join(dataDir, 'parquet');
  const files = readdirSync(parquetDir)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => ({ path: join(parquetDir, f), firstSeq: Number(f.slice(0, 20)), lastSeq: Number(f.slice(21, 41)) }));
  return { dataDir, lastSeq, files };
}

/** Flips bytes in the middle of a file (inside its column data, past the header). */
function damage(path: string): void {
  const bytes = readFileSync(path);
  for (let at = Math.floor(bytes.length / 3); at < Math.floor(bytes.length / 3) + 16; at++) bytes[at]! ^= 0xa5;
  writeFileSync(path, bytes);
}

/** Every node the history creates, with the seq of its creation (batch 0: perBatch creates; each later batch: perBatch creates, then an update). */
function allNodes(): Array<{ id: string; seq: number }> {
  const out = [];
  for (let b = 0; b < batches; b++) {
    const start = b === 0 ? 1 : perBatch + (perBatch + 1) * (b - 1) + 1;
    for (let i = 0; i < perBatch; i++) out.push({ id: `node:doc:${b}-${i}`, seq: start + i });
  }
  return out;
}

/** The state a plain open finds: last seq, node count, and which of the history's nodes exist. */
async function stateOf(dataDir: string): Promise<{ lastSeq: number; nodes: number; ids: Set<string>; asOfIds: Set<string> }> {
  const db = await openTunedEngine({ dataDir, ...quiet });
  try {
    const ids = new Set<string>();
    const asOfIds = new Set<string>();
    // A historical state (rebuilt from seq 1, past the lost seqs) just before the last event.
    const asOf = db.stats().lastSeq - 1;
    for (const { id } of allNodes()) {
      if (db.getNode(id) !== null) ids.add(id);
      if (db.getNode(id, { asOf }) !== null) asOfIds.add(id);
    }
    return { lastSeq: db.stats().lastSeq, nodes: db.stats().totalNodes, ids, asOfIds };
  } finally {
    await db.close();
  }
}

describe('a damaged Parquet file', () => {
  it('given a compacted data dir with flipped bytes in a middle Parquet file, when served without --repair, then the start fails naming the file and --repair; with --repair it starts, names the lost seqs, and serves the rest', async () => {
    const { dataDir, lastSeq, files } = await givenCompactedDataDir();
    expect(files.length).toBeGreaterThanOrEqual(3);
    const victim = files[1]!;
    damage(victim.path);

    const refused = mnemo(['serve', '--data-dir', dataDir, '--port', '0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(victim.path);
    expect(refused.stderr).toContain('--repair');

    const served = await givenServe(['--data-dir', dataDir, '--port', '0', '--repair']);
    try {
      expect(served.output()).toContain(`repair moved ${victim.path} aside`);
      expect(served.output()).toContain(`events ${victim.firstSeq}..${victim.lastSeq} are lost`);
      // An update after the lost seqs of a node created in them cannot apply: left out, and said so.
      expect(served.output()).toMatch(/\d+ later event\(s\) that needed them were left out of the state/);
      const stats = (await (await fetch(`${served.url}/api/v1/prime/stats`)).json()) as { last_seq: number; total_nodes: number };
      expect(stats.last_seq).toBe(lastSeq);
      const kept = await fetch(`${served.url}/api/v1/prime/nodes/${encodeURIComponent('node:doc:0-1')}`);
      expect(kept.status).toBe(200);
    } finally {
      expect(await served.stop()).toBe(0);
    }
    // The file is set aside, never deleted; the lost range is recorded, so a plain start needs nothing more.
    expect(existsSync(victim.path)).toBe(false);
    expect(readdirSync(join(dataDir, 'parquet')).some((f) => f.startsWith(`${victim.path.split('/').pop()!}.damaged-`))).toBe(true);
    const state = await stateOf(dataDir);
    expect(state.lastSeq).toBe(lastSeq);
    // Every node created outside the lost seqs is there; one created inside is not.
    const lostNodes = allNodes().filter((n) => n.seq >= victim.firstSeq && n.seq <= victim.lastSeq);
    expect(lostNodes.length).toBeGreaterThan(0);
    for (const { id } of lostNodes) expect(state.ids.has(id)).toBe(false);
    for (const { id, seq } of allNodes()) if (seq < victim.firstSeq || seq > victim.lastSeq) expect(state.ids.has(id)).toBe(true);
    expect(state.ids.has(`node:doc:${batches - 1}-${perBatch - 1}`)).toBe(true);
    expect(state.ids.has('node:doc:0-0')).toBe(true);
    expect(state.nodes).toBe(batches * perBatch - lostNodes.length);
    // Time travel crosses the lost seqs the same way (the last event is an update: no node differs).
    expect(state.asOfIds).toEqual(state.ids);
  });

  it('given the same damage, when `mnemo verify` runs, then it names the file and the flag; `mnemo verify --repair` repairs, names the lost seqs and exits 0, and a later verify reports them as known', async () => {
    const { dataDir, files } = await givenCompactedDataDir();
    const victim = files[files.length - 1]!;
    damage(victim.path);

    const found = mnemo(['verify', '--data-dir', dataDir]);
    expect(found.status).toBe(1);
    expect(found.stdout).toContain(`damaged: ${victim.path}`);
    expect(found.stdout).toContain('mnemo verify --repair');

    const repaired = mnemo(['verify', '--data-dir', dataDir, '--repair']);
    expect(repaired.status, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`repair moved ${victim.path} aside`);
    expect(repaired.stdout).toContain(`events ${victim.firstSeq}..${victim.lastSeq} are lost`);
    expect(repaired.stdout).toMatch(/checking again:[\s\S]*lost: seqs \d+\.\.\d+[\s\S]*\nok\n/);

    const later = mnemo(['verify', '--data-dir', dataDir]);
    expect(later.status, later.stdout).toBe(0);
    expect(later.stdout).toContain(`lost: seqs ${victim.firstSeq}..${victim.lastSeq}`);
  });

  it('given a Parquet file that is missing, when opened, then it refuses naming the seqs and --repair; with repair the seqs are recorded as lost', async () => {
    const { dataDir, lastSeq, files } = await givenCompactedDataDir();
    const victim = files[1]!;
    rmSync(victim.path);
    const refused = await openTunedEngine({ dataDir, ...quiet }).catch((e: unknown) => e);
    expect(isMnemoError(refused, 'PARQUET_CORRUPT')).toBe(true);
    expect((refused as Error).message).toContain(`events ${victim.firstSeq}..${victim.lastSeq}`);
    expect((refused as Error).message).toContain('--repair');

    const warnings: string[] = [];
    const db = await openTunedEngine({ dataDir, ...quiet, repair: true, onWarning: (m) => warnings.push(m) });
    expect(db.stats().lastSeq).toBe(lastSeq);
    await db.close();
    expect(warnings.join('\n')).toContain(`events ${victim.firstSeq}..${victim.lastSeq} are lost`);
    expect((await stateOf(dataDir)).lastSeq).toBe(lastSeq);
  });

  it('given a damaged Parquet file whose WAL segment still exists (a compaction stopped before deleting it), when opened without repair, then nothing is lost: its events come from the WAL', async () => {
    const walCopy = join(await tempDir(), 'wal');
    const { dataDir, lastSeq, files } = await givenCompactedDataDir(walCopy);
    // The segments come back, as after a crash between the Parquet rename and the segment's deletion.
    rmSync(join(dataDir, 'wal'), { recursive: true });
    cpSync(walCopy, join(dataDir, 'wal'), { recursive: true });
    const victim = files[0]!;
    damage(victim.path);
    const warnings: string[] = [];
    const db = await openTunedEngine({ dataDir, ...quiet, onWarning: (m) => warnings.push(m) });
    expect(db.stats()).toMatchObject({ lastSeq, totalNodes: batches * perBatch });
    await db.close();
    expect(warnings.join('\n')).toContain(`removed ${victim.path}`);
  });
});

describe('a leftover of an interrupted compaction', () => {
  it('given an orphaned .tmp beside the Parquet files, when `mnemo verify --repair` runs, then it is called a leftover (not damage), removed, and verify exits 0', async () => {
    const { dataDir, files } = await givenCompactedDataDir();
    const orphan = `${files[0]!.path.replace(/\.parquet$/, '')}-again.parquet.tmp`;
    writeFileSync(orphan, 'half a file');
    const run = mnemo(['verify', '--data-dir', dataDir, '--repair']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`leftover: ${orphan}`);
    expect(run.stdout).not.toContain('damaged');
    expect(existsSync(orphan)).toBe(false);
  });
});

describe('a damaged WAL segment', () => {
  it('given flipped bytes in a middle WAL segment, when served, then the error names --repair; `mnemo verify` says the same; `mnemo verify --repair` sets it and the later segments aside and exits 0; the server then starts', async () => {
    const dataDir = await tempDir();
    const db = await openTunedEngine({ dataDir, ...quiet, segmentBytesMax: 8 * 1024 });
    for (let b = 0; b < batches; b++) await db.append(Array.from({ length: perBatch }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:doc:${b}-${i}`, type: 'doc', properties: { b, i } } })));
    await db.close();
    const walDir = join(dataDir, 'wal');
    const segments = readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort();
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const victim = join(walDir, segments[1]!);
    damage(victim);

    const refused = mnemo(['serve', '--data-dir', dataDir, '--port', '0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(victim);
    expect(refused.stderr).toContain("'mnemo serve --repair'");
    const found = mnemo(['verify', '--data-dir', dataDir]);
    expect(found.status).toBe(1);
    expect(found.stdout).toContain(`damaged: ${victim}`);
    expect(found.stdout).toContain('mnemo verify --repair');

    const repaired = mnemo(['verify', '--data-dir', dataDir, '--repair']);
    expect(repaired.status, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`repair moved ${victim} aside`);
    expect(repaired.stdout).toMatch(/events from seq \d+ on were lost/);
    const served = await givenServe(['--data-dir', dataDir, '--port', '0']);
    const code = await served.stop();
    expect(code, `${served.child.signalCode}\n${served.output()}`).toBe(0);
  });
});
