// Checkpoints: state after checkpoint + tail replay equals state after a full replay; every kind of
// damage to a checkpoint is detected, reported, and falls back (older checkpoint or full replay).
import { appendFileSync, copyFileSync, existsSync, mkdirSync, renameSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { isMnemoError, openEngine } from '../../src/index.js';
import { verifyWal } from '../../wal/wal.js';
import { Engine } from '../../src/engine/engine.js';
import { tempDir } from '../support/engine.js';
import { randomHistory } from '../support/history.js';

const quiet = { durability: 'none' as const, checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false };

async function open(dataDir: string, warnings: string[] = []): Promise<Engine> {
  return Engine.open({ dataDir, ...quiet, onWarning: (m) => warnings.push(m) });
}

/** The checkpoint directories (none before the first checkpoint creates `checkpoints/`). */
function checkpointDirs(dataDir: string): string[] {
  const root = join(dataDir, 'checkpoints');
  return existsSync(root) ? readdirSync(root).filter((n) => /^\d{20}$/.test(n)).sort() : [];
}

/** Given a data dir with two checkpoints (after 150 and 300 steps) and a tail after them, and the digests a full replay gives. */
async function givenTwoCheckpoints(): Promise<{ dataDir: string; digests: Record<string, string>; lastSeq: number }> {
  const dataDir = await tempDir();
  const db = await open(dataDir);
  await randomHistory(db, 7, 150);
  await db.checkpoint();
  await randomHistory(db, 8, 150);
  await db.whenIndexed();
  await db.checkpoint();
  await randomHistory(db, 9, 60);
  await db.whenIndexed();
  const lastSeq = db.stats().lastSeq;
  await db.close();
  // The reference: a full replay with no checkpoint at all.
  const copy = await tempDir();
  const walFiles = readdirSync(join(dataDir, 'wal')).filter((f) => f.endsWith('.wal'));
  mkdirSync(join(copy, 'wal'));
  for (const f of walFiles) copyFileSync(join(dataDir, 'wal', f), join(copy, 'wal', f));
  const full = await open(copy);
  const digests = full.digests();
  await full.close();
  return { dataDir, digests, lastSeq };
}

describe('checkpoint + tail replay', () => {
  it('given history, checkpoints and a tail, when reopened, then the digests equal a full replay and no warning is given', async () => {
    const { dataDir, digests, lastSeq } = await givenTwoCheckpoints();
    const warnings: string[] = [];
    const db = await open(dataDir, warnings);
    expect(db.digests()).toEqual(digests);
    expect(db.stats().lastSeq).toBe(lastSeq);
    expect(db.stats().checkpoint).toMatchObject({ seq: expect.any(Number) });
    expect((db.stats().checkpoint as { seq: number }).seq).toBeLessThan(lastSeq);
    expect(warnings).toEqual([]);
    await db.close();
  });

  it('given three checkpoints written, then only the newest two are kept', async () => {
    const dataDir = await tempDir();
    const db = await open(dataDir);
    for (let i = 0; i < 3; i++) {
      await db.addNode({ type: 'doc', properties: { i } });
      await db.checkpoint();
    }
    expect(checkpointDirs(dataDir)).toEqual([String(2).padStart(20, '0'), String(3).padStart(20, '0')]);
    await db.close();
  });

  it('given a checkpoint with no events since, when checkpointing again, then it is reused', async () => {
    const dataDir = await tempDir();
    const db = await open(dataDir);
    await db.addNode({ type: 'doc' });
    const first = await db.checkpoint();
    const second = await db.checkpoint();
    expect(second.seq).toBe(first.seq);
    expect(checkpointDirs(dataDir)).toHaveLength(1);
    await db.close();
  });

  it('given appends racing a checkpoint, then the checkpoint holds exactly the state at its seq', async () => {
    const dataDir = await tempDir();
    const db = await open(dataDir);
    await randomHistory(db, 3, 100);
    const pending = db.checkpoint();
    const more = randomHistory(db, 4, 50); // runs while the checkpoint's files are written
    const written = await pending;
    await more;
    await db.whenIndexed();
    const live = db.digests();
    await db.close();
    const reopened = await open(dataDir);
    expect((reopened.stats().checkpoint as { seq: number }).seq).toBe(written.seq);
    expect(reopened.digests()).toEqual(live);
    await reopened.close();
  });
});

type Damage = { name: string; damage: (dir: string) => void; expectWarning: RegExp };

const newestFile = (dir: string, suffix: string) => join(dir, readdirSync(dir).find((f) => f.endsWith(suffix))!);

/** Flips the `mask` bits of the byte at `fraction` of the file's length. */
function flipBit(path: string, fraction: number, mask: number): void {
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length * fraction)]! ^= mask;
  writeFileSync(path, bytes);
}

const damages: Damage[] = [
  { name: 'a missing projection file', damage: (dir) => rmSync(newestFile(dir, 'node-state.bin')), expectWarning: /node-state\.bin cannot be read/ },
  { name: 'a truncated projection file', damage: (dir) => truncateSync(newestFile(dir, 'adjacency.bin'), 10), expectWarning: /adjacency\.bin has 10 bytes/ },
  { name: 'one flipped bit in the vector index', damage: (dir) => flipBit(newestFile(dir, 'vector-index.bin'), 1 / 2, 0x10), expectWarning: /vector-index\.bin fails its crc32/ },
  {
    name: "one flipped bit in hnswlib's own index file (the vector index's sidecar)",
    damage: (dir) => flipBit(newestFile(dir, 'vector-index.hnsw'), 1 / 3, 0x01),
    expectWarning: /vector-index\.hnsw fails its crc32/,
  },
  { name: 'a missing sidecar', damage: (dir) => rmSync(newestFile(dir, 'vector-index.hnsw')), expectWarning: /vector-index\.hnsw cannot be read/ },
  { name: 'extra bytes appended', damage: (dir) => appendFileSync(newestFile(dir, 'domain-index.bin'), 'x'), expectWarning: /domain-index\.bin has \d+ bytes/ },
  { name: 'a missing manifest', damage: (dir) => rmSync(join(dir, 'manifest.json')), expectWarning: /manifest\.json is missing/ },
  {
    name: 'an edited manifest',
    damage: (dir) => {
      const path = join(dir, 'manifest.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { files: Array<{ bytes: number }> };
      manifest.files[0]!.bytes += 1; // the old checksum stays
      writeFileSync(path, JSON.stringify(manifest));
    },
    expectWarning: /fails its checksum/,
  },
  {
    name: 'a future format version (checksum recomputed)',
    damage: (dir) => {
      const path = join(dir, 'manifest.json');
      const { checksum: _checksum, ...body } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      const next = { ...body, format: 99 };
      writeFileSync(path, JSON.stringify({ ...next, checksum: crc32(JSON.stringify(next)) }));
    },
    expectWarning: /format 99 is not supported/,
  },
];

describe('damaged checkpoints fall back', () => {
  for (const { name, damage, expectWarning } of damages) {
    it(`given ${name} in the newest checkpoint, when opened, then it warns, uses the older one, and the state equals a full replay`, async () => {
      const { dataDir, digests } = await givenTwoCheckpoints();
      const [older, newest] = checkpointDirs(dataDir);
      damage(join(dataDir, 'checkpoints', newest!));
      const warnings: string[] = [];
      const db = await open(dataDir, warnings);
      expect(warnings.join('\n')).toMatch(expectWarning);
      expect((db.stats().checkpoint as { seq: number }).seq).toBe(Number(older));
      expect(db.digests()).toEqual(digests);
      await db.close();
    });
  }

  it('given both checkpoints damaged, when opened, then it warns twice and replays everything', async () => {
    const { dataDir, digests } = await givenTwoCheckpoints();
    for (const dir of checkpointDirs(dataDir)) rmSync(newestFile(join(dataDir, 'checkpoints', dir), 'adjacency.bin'));
    const warnings: string[] = [];
    const db = await open(dataDir, warnings);
    expect(warnings.filter((w) => /falling back/.test(w))).toHaveLength(2);
    expect((db.stats().checkpoint as { seq: number }).seq).toBe(0);
    expect(db.digests()).toEqual(digests);
    await db.close();
  });

  it('given a checkpoint past the end of the log (its tail was lost), when opened, then it is not used', async () => {
    const dataDir = await tempDir();
    const db = await open(dataDir);
    await randomHistory(db, 5, 40);
    await db.checkpoint();
    const digests = db.digests();
    await db.close();
    const dirs = checkpointDirs(dataDir);
    const ahead = join(dataDir, 'checkpoints', String(10_000).padStart(20, '0'));
    renameSync(join(dataDir, 'checkpoints', dirs[0]!), ahead);
    const warnings: string[] = [];
    const reopened = await open(dataDir, warnings);
    expect(warnings.join('\n')).toMatch(/past the end of the log/);
    expect(reopened.digests()).toEqual(digests);
    await reopened.close();
  });
});

describe('periodic checkpoints', () => {
  it('given checkpointEveryEvents 50 and appends that never pause, then a checkpoint is held until 4× due and then written', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, durability: 'none', checkpointEveryEvents: 50, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} });
    for (let i = 0; i < 199; i++) await db.addNode({ type: 'doc', properties: { i } });
    expect((db.stats().checkpoint as { written: number; running: boolean }).running).toBe(false);
    expect(checkpointDirs(dataDir)).toEqual([]);
    await db.addNode({ type: 'doc', properties: { i: 199 } });
    await db.close(); // waits for the checkpoint in flight
    expect(checkpointDirs(dataDir).map(Number)).toEqual([200]);
    const reopened = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    expect(reopened.stats().totalNodes).toBe(200);
    await reopened.close();
  });

  it('given a due checkpoint, when appends pause for a second, then the background poll writes it', async () => {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, durability: 'none', checkpointEveryEvents: 50, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} });
    for (let i = 0; i < 60; i++) await db.addNode({ type: 'doc', properties: { i } });
    const deadline = Date.now() + 10_000;
    while ((db.stats().checkpoint as { seq: number }).seq < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await db.close();
    expect(checkpointDirs(dataDir).map(Number)).toEqual([60]);
  });
});

describe('the log a checkpoint covers', () => {
  /** Opening `dataDir` fails with WAL_CORRUPT naming `file`. */
  async function expectRefusedAtOpen(dataDir: string, file: string): Promise<void> {
    const error = await open(dataDir).then(
      (db) => db.close().then(() => null),
      (e: unknown) => e,
    );
    expect(isMnemoError(error, 'WAL_CORRUPT'), String(error)).toBe(true);
    expect((error as { details: { file: string } }).details.file).toBe(file);
  }

  /** A data dir whose log is many small segments, with a checkpoint after 200 steps and 80 more steps after it. */
  async function givenSegmentedLog(): Promise<{ dataDir: string; digests: Record<string, string>; covered: string; after: string }> {
    const dataDir = await tempDir();
    const db = await Engine.open({ dataDir, ...quiet, segmentBytesMax: 4096 });
    await randomHistory(db, 21, 200);
    await db.whenIndexed();
    await db.checkpoint();
    const checkpointSeq = db.stats().lastSeq;
    await randomHistory(db, 22, 80);
    await db.whenIndexed();
    const digests = db.digests();
    await db.close();
    const walDir = join(dataDir, 'wal');
    const segments = readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort();
    const firstSeqs = segments.map((name) => Number.parseInt(name, 10));
    // The first two segments lie wholly before the checkpoint; a later sealed one wholly after it.
    expect(firstSeqs[2]! - 1).toBeLessThanOrEqual(checkpointSeq);
    const afterAt = firstSeqs.findIndex((first, i) => i + 1 < segments.length - 1 && first > checkpointSeq);
    expect(afterAt).toBeGreaterThan(2);
    return { dataDir, digests, covered: join(walDir, segments[0]!), after: join(walDir, segments[afterAt]!) };
  }

  it('given a flipped bit in a sealed segment the checkpoint covers, when opened, then the state is whole, verify reports the damage, and open refuses once it must read that segment', async () => {
    const { dataDir, digests, covered } = await givenSegmentedLog();
    flipBit(covered, 1 / 2, 0x04);

    const warnings: string[] = [];
    const db = await open(dataDir, warnings);
    expect(db.digests()).toEqual(digests);
    expect(warnings).toEqual([]);
    await db.close();
    const verified = await verifyWal(join(dataDir, 'wal'));
    expect(verified.ok).toBe(false);
    expect(verified.problems[0]).toMatchObject({ file: covered });

    // Without the checkpoint, open must replay the damaged segment.
    for (const dir of checkpointDirs(dataDir)) rmSync(join(dataDir, 'checkpoints', dir), { recursive: true });
    await expectRefusedAtOpen(dataDir, covered);
  });

  it('given a sealed segment after the checkpoint cut short, when opened, then it is refused naming the file', async () => {
    const { dataDir, after } = await givenSegmentedLog();
    truncateSync(after, readFileSync(after).length - 3);
    await expectRefusedAtOpen(dataDir, after);
  });

  it('given a covered sealed segment missing from the log, when opened and the history read, then the state is whole and the read reports the hole naming the segment before it', async () => {
    const { dataDir, digests, covered } = await givenSegmentedLog();
    const walDir = join(dataDir, 'wal');
    rmSync(join(walDir, readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort()[1]!));
    const db = await open(dataDir);
    expect(db.digests()).toEqual(digests);
    // history reads the whole log: the first segment does not reach the seq the third starts at.
    let error: unknown = null;
    try {
      db.history('node:any');
    } catch (e) {
      error = e;
    }
    expect(isMnemoError(error, 'WAL_CORRUPT'), String(error)).toBe(true);
    expect((error as { details: { file: string; reason: string } }).details).toMatchObject({ file: covered, reason: expect.stringMatching(/ends at seq \d+, but the log expects it to reach seq \d+/) });
    await db.close();
  });
});
