// One power-cut suite for every writer that goes through the FileLayer: the WAL, checkpoints,
// compaction and export. Each runs on the simulated disk, and power fails at its Nth file
// operation, for every N the writer makes (and each way the unsynced tail can be damaged). On the
// disk that is left, what was acknowledged or published must be whole, and nothing half-written
// may be taken for data. A new FileLayer user adds a writer here and gets the sweep.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { openWal, type Wal } from '../../wal/wal.js';
import { lockFileName } from '../../wal/lock.js';
import type { FileHandle, FileLayer } from '../../src/storage/files.js';
import { encodeEvents, eventFromLog } from '../../src/kernel/event-codec.js';
import type { RawEvent, StoredEvent } from '../../src/kernel/events.js';
import { listCheckpoints, prepareCheckpointDir, readCheckpoint, writeCheckpoint } from '../../src/engine/checkpoint.js';
import { compactSegment, recoverParquetDir } from '../../src/engine/compaction.js';
import { exportParquetFile } from '../../src/admin.js';
import { readParquetEvents } from '../../src/parquet/reader.js';
import { SimFiles, seededRandom, type CutVariant } from '../support/sim-files.js';

const variants: CutVariant[] = ['drop', 'zero', 'garble'];
const walDir = '/data/wal';
const forget = [join(walDir, lockFileName)];

class PowerCut extends Error {}

/**
 * The simulated disk, with power failing at operation number `cutAt` (1-based; every operation
 * counts, reads included): the disk left behind is kept, and that operation and every later one throw.
 */
class CuttingFiles implements FileLayer {
  ops = 0;
  after: SimFiles | null = null;

  constructor(
    private readonly sim: SimFiles,
    private readonly cutAt: number,
    private readonly variant: CutVariant,
    private readonly random: () => number,
  ) {}

  private step(): void {
    if (this.after !== null) throw new PowerCut('the power is off');
    this.ops++;
    if (this.ops === this.cutAt) {
      this.cutNow();
      throw new PowerCut(`power cut at operation ${this.ops}`);
    }
  }

  /** The power fails now (also after a writer finished: what it published must survive that). */
  cutNow(): SimFiles {
    this.after = this.sim.powerCut(this.random, this.variant, forget).disk;
    return this.after;
  }

  mkdirp = (dir: string) => (this.step(), this.sim.mkdirp(dir));
  list = (dir: string) => (this.step(), this.sim.list(dir));
  exists = (path: string) => (this.step(), this.sim.exists(path));
  createNew = (path: string) => (this.step(), this.sim.createNew(path));
  openExisting = (path: string) => (this.step(), this.sim.openExisting(path));
  write = (handle: FileHandle, chunks: readonly Uint8Array[], position: number) => (this.step(), this.sim.write(handle, chunks, position));
  writeAsync = (handle: FileHandle, chunks: readonly Uint8Array[], position: number) => (this.step(), this.sim.writeAsync(handle, chunks, position));
  truncate = (handle: FileHandle, bytes: number) => (this.step(), this.sim.truncate(handle, bytes));
  fdatasync = (handle: FileHandle) => (this.step(), this.sim.fdatasync(handle));
  fdatasyncSync = (handle: FileHandle) => (this.step(), this.sim.fdatasyncSync(handle));
  close = (handle: FileHandle) => this.sim.close(handle); // closing loses nothing and must not fail a cleanup
  size = (path: string) => (this.step(), this.sim.size(path));
  readFile = (path: string) => (this.step(), this.sim.readFile(path));
  writeFileExclusive = (path: string, data: Uint8Array) => (this.step(), this.sim.writeFileExclusive(path, data));
  rename = (from: string, to: string) => (this.step(), this.sim.rename(from, to));
  unlink = (path: string) => (this.step(), this.sim.unlink(path));
  removeTree = (path: string) => (this.step(), this.sim.removeTree(path));
  fsyncDir = (dir: string) => (this.step(), this.sim.fsyncDir(dir));
}

/** A writer under test: `run` works on `files` (whose power may fail), `check` judges the disk left. */
interface Writer<T> {
  name: string;
  /** The disk before the run (already durable). */
  given: () => Promise<SimFiles>;
  /** Resolves with what was acknowledged; rejects when the power fails. `ack` records acknowledgements made before that. */
  run: (files: FileLayer, ack: (value: T) => void) => Promise<void>;
  check: (disk: SimFiles, acked: T | undefined) => Promise<void>;
}

function events(count: number, seed: number): RawEvent[] {
  const random = seededRandom(seed);
  const out: RawEvent[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `node:doc:${i}`;
    out.push(i % 3 === 0 ? { type: 'prime.vector.stored', payload: { id: `node:doc:${i - 1}`, vector: Float32Array.from([random(), random(), random()]), text: `t${i}` } } : { type: 'prime.node.created', payload: { id, type: 'doc', properties: { i, name: `doc ${i}` } } });
  }
  return out;
}

/** Appends `raw` in batches of `batch` to a WAL on `files`; returns the stored events as a replay gives them. */
async function appendAll(wal: Wal, raw: RawEvent[], batch: number, ack?: (lastSeq: number) => void): Promise<void> {
  for (let i = 0; i < raw.length; i += batch) {
    const slice = raw.slice(i, i + batch);
    const firstSeq = wal.lastSeq + 1;
    await wal.append(firstSeq, slice.length, encodeEvents(slice, 1_700_000_000_000 + firstSeq).payload);
    ack?.(firstSeq + slice.length - 1);
  }
}

function replayed(wal: Wal): StoredEvent[] {
  return [...wal.replay(1)].map(({ seq, event }) => eventFromLog(seq, event));
}

async function walWith(disk: SimFiles, raw: RawEvent[], segmentBytesMax: number): Promise<StoredEvent[]> {
  const wal = await openWal({ dir: walDir, durability: 'fsync', files: disk, segmentBytesMax });
  await appendAll(wal, raw, 4);
  await wal.rotate();
  const stored = replayed(wal);
  await wal.close();
  return stored;
}

function sameEvents(actual: StoredEvent[], expected: StoredEvent[]): void {
  const text = (list: StoredEvent[]) => list.map((e) => JSON.stringify(e, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v)));
  expect(text(actual)).toEqual(text(expected));
}

const walWriter: Writer<number> = {
  name: 'WAL append',
  given: async () => new SimFiles(),
  run: async (files, ack) => {
    const wal = await openWal({ dir: walDir, durability: 'fsync', files, segmentBytesMax: 600 });
    await appendAll(wal, events(24, 1), 3, ack);
    await wal.close();
  },
  check: async (disk, acked) => {
    const wal = await openWal({ dir: walDir, durability: 'fsync', files: disk, segmentBytesMax: 600 });
    const stored = replayed(wal);
    expect(stored.length).toBeGreaterThanOrEqual(acked ?? 0);
    // Whatever is there is a prefix of what was written, in whole batches: nothing torn is replayed.
    expect(stored.length % 3).toBe(0);
    const expected = events(24, 1).slice(0, stored.length);
    expect(stored.map((e) => [e.type, e.payload.id])).toEqual(expected.map((e) => [e.type, e.payload.id]));
    await wal.close();
  },
};

const checkpointRoot = '/data/checkpoints';
const parts = (seq: number) => [
  { name: 'node-state', bytes: Uint8Array.from({ length: 3000 }, (_, i) => (i * seq) & 0xff) },
  { name: 'adjacency', bytes: Uint8Array.from({ length: 500 }, (_, i) => (i + seq) & 0xff) },
];

const checkpointWriter: Writer<number> = {
  name: 'checkpoint',
  given: async () => {
    const disk = new SimFiles();
    await writeCheckpoint(checkpointRoot, 5, parts(5), prepareCheckpointDir(checkpointRoot, 5, disk), disk);
    return disk;
  },
  run: async (files, ack) => {
    const written = await writeCheckpoint(checkpointRoot, 9, parts(9), prepareCheckpointDir(checkpointRoot, 9, files), files);
    ack(written.seq);
  },
  check: async (disk, acked) => {
    const listed = listCheckpoints(checkpointRoot, disk);
    // Every checkpoint a reader would use is whole; the older one survives a cut during the new one.
    for (const { dir, seq } of listed) expect(readCheckpoint(dir, disk).parts.get('node-state')).toEqual(parts(seq)[0]!.bytes);
    expect(listed.map((c) => c.seq)).toContain(5);
    if (acked !== undefined) expect(listed.map((c) => c.seq)).toContain(9);
  },
};

const parquetDir = '/data/parquet';
let compactionInput: StoredEvent[] = [];

const compactionWriter: Writer<string> = {
  name: 'compaction',
  given: async () => {
    const disk = new SimFiles();
    compactionInput = await walWith(disk, events(30, 2), 700);
    disk.mkdirp(parquetDir);
    return disk;
  },
  run: async (files, ack) => {
    const wal = await openWal({ dir: walDir, durability: 'fsync', files, segmentBytesMax: 700 });
    try {
      const segment = wal.sealedSegments()[0]!;
      const done = await compactSegment({ segmentPath: segment.path, segmentBytes: segment.bytes, firstSeq: segment.firstSeq, lastSeq: segment.lastSeq, parquetDir }, files);
      await wal.removeSegment(segment.path);
      ack(done.path);
    } finally {
      await wal.close().catch(() => {});
    }
  },
  check: async (disk, acked) => {
    const wal = await openWal({ dir: walDir, durability: 'fsync', files: disk, segmentBytesMax: 700 });
    const kept = recoverParquetDir(parquetDir, wal.firstSeq, () => {}, disk).files;
    // Every event exactly once, from Parquet then the WAL: no orphan or duplicate is read.
    const fromParquet = kept.flatMap((f) => readParquetEvents(f.path, disk));
    sameEvents([...fromParquet, ...replayed(wal)], compactionInput);
    if (acked !== undefined) expect(kept.map((f) => f.path)).toContain(acked);
    expect(disk.list(parquetDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await wal.close();
  },
};

const exportPath = '/data/out/events.parquet';
const exported = events(40, 3).map((e, i) => ({ seq: i + 1, ts: 1_700_000_000_000 + i, ...e }) as StoredEvent);

const exportWriter: Writer<number> = {
  name: 'export',
  given: async () => {
    const disk = new SimFiles();
    disk.mkdirp('/data/out');
    return disk;
  },
  run: async (files, ack) => ack(exportParquetFile(exported, exportPath, files)),
  check: async (disk, acked) => {
    // Published means whole; before that the path holds nothing (a temp file is not the export).
    if (disk.exists(exportPath)) sameEvents(readParquetEvents(exportPath, disk), exported);
    if (acked !== undefined) expect(disk.exists(exportPath)).toBe(true);
  },
};

async function sweep<T>(writer: Writer<T>): Promise<number> {
  let cases = 0;
  for (let cutAt = 1; ; cutAt++) {
    let finished = false;
    for (const variant of variants) {
      const files = new CuttingFiles(await writer.given(), cutAt, variant, seededRandom(cutAt * 7 + variants.indexOf(variant)));
      let acked: T | undefined;
      try {
        await writer.run(files, (value) => (acked = value));
      } catch (e) {
        if (files.after === null) throw e;
      }
      // The writer made fewer than cutAt operations: every point has been cut; last, a cut after it finished.
      if (files.after === null) {
        finished = true;
        files.cutNow();
      }
      cases++;
      try {
        await writer.check(files.after, acked);
      } catch (e) {
        throw new Error(`${writer.name}: power cut at operation ${cutAt} (${variant}): ${(e as Error).message}`, { cause: e });
      }
    }
    if (finished) return cases;
  }
}

describe('every FileLayer writer survives a power cut at each of its operations', () => {
  for (const writer of [walWriter, checkpointWriter, compactionWriter, exportWriter] as Writer<unknown>[]) {
    it(`given ${writer.name} on the simulated disk, when the power fails at any operation, then what was acknowledged is whole and nothing half-written is read`, async () => {
      const cases = await sweep(writer);
      expect(cases).toBeGreaterThan(variants.length * 3);
    }, 120_000);
  }
});
