// Checkpoints: every projection's saved state at one seq, so a restart replays only later events.
//
// On disk: `<dataDir>/checkpoints/<seq, 20 digits>/` holding one `<projection name>.bin` per
// projection (the bytes its save() returned) and `manifest.json`:
//   { format, seq, createdAt, files: [{ name, file, bytes, crc32 }], checksum }
// where checksum is the crc32 of the manifest's JSON without it. CRC-32 (zlib's, native) finds
// the damage a disk does and reads 324 MB in 94 ms where sha256 took 233 ms (restart at 1M
// events). A checkpoint is built in `<seq>.tmp/`, every file fsynced, the directory fsynced,
// renamed to `<seq>/`, and the parent fsynced: a crash leaves either the whole checkpoint or a
// `.tmp` directory that is ignored and removed. Reading checks the manifest checksum, the format, and every file's length and crc32
// before any projection sees a byte.

import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { nodeFiles, type FileLayer } from '../storage/files.js';
import { mnemoError } from '../kernel/errors.js';
import { writeBehindBytes } from '../kernel/limits.js';
import type { SavedBytes } from '../../projections/saved-runs.js';

export const checkpointsDirName = 'checkpoints';
/**
 * Format of the manifest, the layout and the projections' saved state; bump on any change. An
 * older checkpoint is reported and not used (open falls back to a full replay, which writes a
 * new one): 2 made adjacency columnar and the text index save terms instead of properties; 3 added
 * the type index and the deletion tallies; 4 packs node properties in chunks; 5 writes adjacency's
 * and node state's columns as runs after a packed head (projections/saved-runs.ts); 6 the text
 * index's chunks too.
 */
export const checkpointFormatVersion = 6;
/** Checkpoints kept after a new one is written: the newest, and one to fall back to if it is damaged. */
export const checkpointsKept = 2;
/**
 * Default periodic policy: a checkpoint after this many events since the last one, or after this
 * many ms of activity (at least one event) since the last one, whichever comes first.
 */
export const checkpointIntervalEventsDefault = 100_000;
export const checkpointIntervalMsDefault = 5 * 60_000;
/**
 * A checkpoint writes the whole state, so checkpoints at a fixed event interval cost O(n²) over a
 * history of n events: ingesting 1M graph events with one every 100K wrote ten ever larger
 * checkpoints and cut durable ingest from ~109K to ~63K events/s (bench/results/engine.md, first
 * run). Spacing them by at least a quarter of the history already covered keeps the total
 * checkpoint work linear (≤ ~5× the final state) and the replayed tail ≤ 25% of the history.
 */
export const checkpointGrowthRatio = 0.25;

/** A due checkpoint waits for appends to pause this long (checked by the 1 s background poll)… */
export const checkpointQuietMs = 1_000;
/** …unless the events since the last one reach this many times what was due: then it runs anyway. */
export const checkpointHoldFactor = 4;
/**
 * …and while a replica catches up from its stream, until it reaches this many (or the catch-up
 * ends and appends pause). A checkpoint serialises the whole state on this thread: in a catch-up
 * of 1M events it held checkpoints at 400K and 800K, about a quarter of the catch-up's time.
 * After a crash mid catch-up the replay is then at most this many times due (1.6M events at the
 * default, ~8 s here), and the rest comes from the stream again.
 */
export const checkpointCatchUpHoldFactor = 16;
/** After a background checkpoint fails (a full disk, say), the next try waits this long: one log line per try, not one a second. */
export const checkpointRetryMs = 5_000;

/** Events after the last checkpoint (at `checkpointSeq`) before the next one is due. */
export function checkpointDueAfterEvents(everyEvents: number, checkpointSeq: number): number {
  return Math.max(everyEvents, Math.floor(checkpointSeq * checkpointGrowthRatio));
}

const manifestFile = 'manifest.json';
const tempSuffix = '.tmp';
const seqDigits = 20;

interface ManifestFile {
  name: string;
  file: string;
  bytes: number;
  crc32: number;
  /** A file a projection wrote into the directory itself (see Projection.save); checked, not read into `parts`. */
  sidecar?: true;
}

interface ManifestBody {
  format: number;
  seq: number;
  createdAt: number;
  files: ManifestFile[];
}

export interface CheckpointEntry {
  seq: number;
  dir: string;
}

export interface LoadedCheckpoint extends CheckpointEntry {
  createdAt: number;
  /** Projection name → the bytes its save() returned. */
  parts: Map<string, Uint8Array>;
}

export interface WrittenCheckpoint extends CheckpointEntry {
  bytes: number;
  ms: number;
}

function checksumOf(bytes: Uint8Array | string): number {
  return crc32(bytes);
}

function runsOf(saved: SavedBytes): readonly Uint8Array[] {
  return saved instanceof Uint8Array ? [saved] : saved;
}

function checkpointDirName(seq: number): string {
  return String(seq).padStart(seqDigits, '0');
}

/** Finished checkpoints, newest first. */
export function listCheckpoints(root: string, files: FileLayer = nodeFiles): CheckpointEntry[] {
  if (!files.exists(root)) return [];
  const entries: CheckpointEntry[] = [];
  for (const name of files.list(root)) {
    if (!/^\d{20}$/.test(name)) continue;
    entries.push({ seq: Number(name), dir: join(root, name) });
  }
  return entries.sort((a, b) => b.seq - a.seq);
}

/**
 * Writes `saved` (its runs one after another) to a new file on the thread pool (a part can be
 * hundreds of MB: the event loop keeps serving appends and reads), fdatasyncing every
 * writeBehindBytes so the log's own fsyncs never queue behind the whole part (see
 * writeBehindBytes). Returns the file's length and crc32.
 */
async function writeFileDurably(path: string, saved: SavedBytes, files: FileLayer): Promise<{ bytes: number; crc32: number }> {
  const handle = files.createNew(path);
  let at = 0;
  let checksum = 0;
  try {
    let step: Uint8Array[] = [];
    let stepBytes = 0;
    const writeStep = async (): Promise<void> => {
      await files.writeAsync(handle, step, at);
      await files.fdatasync(handle);
      at += stepBytes;
      step = [];
      stepBytes = 0;
    };
    for (const run of runsOf(saved)) {
      for (let from = 0; from < run.byteLength; ) {
        const piece = run.subarray(from, from + writeBehindBytes - stepBytes);
        // A piece at a time, between writes: a whole 10 MB run's crc32 held the event loop ~4 ms.
        checksum = crc32(piece, checksum);
        step.push(piece);
        stepBytes += piece.byteLength;
        from += piece.byteLength;
        if (stepBytes === writeBehindBytes) await writeStep();
      }
    }
    if (stepBytes > 0 || at === 0) await writeStep();
  } finally {
    files.close(handle);
  }
  return { bytes: at, crc32: checksum };
}

/**
 * Creates the empty `<seq>.tmp/` directory a checkpoint at `seq` is built in (projections may write
 * sidecar files into it while saving), or returns null when a checkpoint at `seq` already exists.
 * Synchronous, so a caller can take every projection's snapshot at one seq with no await between.
 */
export function prepareCheckpointDir(root: string, seq: number, files: FileLayer = nodeFiles): string | null {
  files.mkdirp(root);
  const finalDir = join(root, checkpointDirName(seq));
  if (files.exists(finalDir)) return null;
  const tempDir = finalDir + tempSuffix;
  files.removeTree(tempDir);
  files.mkdirp(tempDir);
  return tempDir;
}

/**
 * Finishes the checkpoint at `seq` begun by prepareCheckpointDir (`tempDir` null: it already
 * exists): writes `parts` (projection name → saved bytes), adopts every other file a projection
 * wrote into the directory as a sidecar (fsynced and checksummed), writes the manifest, fsyncs and
 * renames; then prunes to checkpointsKept.
 */
export async function writeCheckpoint(
  root: string,
  seq: number,
  parts: ReadonlyArray<{ name: string; bytes: SavedBytes }>,
  tempDir: string | null,
  files: FileLayer = nodeFiles,
): Promise<WrittenCheckpoint> {
  const started = performance.now();
  const finalDir = join(root, checkpointDirName(seq));
  let total = 0;
  if (tempDir !== null) {
    const entries: ManifestFile[] = [];
    for (const file of files.list(tempDir)) {
      const path = join(tempDir, file);
      const handle = files.openExisting(path);
      try {
        await files.fdatasync(handle);
      } finally {
        files.close(handle);
      }
      const bytes = files.readFile(path);
      entries.push({ name: file, file, bytes: bytes.byteLength, crc32: checksumOf(bytes), sidecar: true });
      total += bytes.byteLength;
    }
    for (const { name, bytes } of parts) {
      const file = `${name}.bin`;
      const written = await writeFileDurably(join(tempDir, file), bytes, files);
      entries.push({ name, file, ...written });
      total += written.bytes;
    }
    const body: ManifestBody = { format: checkpointFormatVersion, seq, createdAt: Date.now(), files: entries };
    const manifest = JSON.stringify({ ...body, checksum: checksumOf(JSON.stringify(body)) }, null, 1);
    // Written last: a directory whose manifest is whole holds every part it lists, fsynced.
    await writeFileDurably(join(tempDir, manifestFile), Buffer.from(manifest), files);
    files.fsyncDir(tempDir);
    files.rename(tempDir, finalDir);
    files.fsyncDir(root);
  }
  pruneCheckpoints(root, checkpointsKept, files);
  return { seq, dir: finalDir, bytes: total, ms: performance.now() - started };
}

/** Keeps the `keep` newest checkpoints; removes older ones and any unfinished `.tmp` directory. */
export function pruneCheckpoints(root: string, keep: number, files: FileLayer = nodeFiles): void {
  if (!files.exists(root)) return;
  for (const name of files.list(root)) if (name.endsWith(tempSuffix)) files.removeTree(join(root, name));
  for (const old of listCheckpoints(root, files).slice(keep)) files.removeTree(old.dir);
}

function corrupt(dir: string, reason: string): never {
  throw mnemoError('CHECKPOINT_CORRUPT', { file: dir, reason });
}

function readManifest(dir: string, files: FileLayer): ManifestBody {
  const path = join(dir, manifestFile);
  let parsed: ManifestBody & { checksum?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(files.readFile(path)).toString('utf8')) as ManifestBody & { checksum?: unknown };
  } catch (e) {
    corrupt(dir, `${manifestFile} is missing or not JSON: ${(e as Error).message}`);
  }
  const { checksum, ...body } = parsed;
  if (typeof checksum !== 'number' || checksumOf(JSON.stringify(body)) !== checksum) corrupt(dir, `${manifestFile} fails its checksum`);
  if (body.format !== checkpointFormatVersion) corrupt(dir, `format ${String(body.format)} is not supported (expected ${checkpointFormatVersion})`);
  if (!Number.isSafeInteger(body.seq) || join(dir, '..', checkpointDirName(body.seq)) !== dir) corrupt(dir, `manifest seq ${String(body.seq)} does not match the directory name`);
  if (!Array.isArray(body.files)) corrupt(dir, 'manifest lists no files');
  return body;
}

/** Reads and checks a whole checkpoint (manifest checksum, format, every file's length and crc32). Throws CHECKPOINT_CORRUPT. */
export function readCheckpoint(dir: string, files: FileLayer = nodeFiles): LoadedCheckpoint {
  const manifest = readManifest(dir, files);
  return { seq: manifest.seq, dir, createdAt: manifest.createdAt, parts: readParts(dir, manifest.files, files) };
}

/** Only the named projections' files of a checkpoint (time travel needs node state and adjacency, not the vector index), each checked. */
export function readCheckpointParts(dir: string, names: readonly string[], optional: readonly string[] = [], files: FileLayer = nodeFiles): Map<string, Uint8Array> {
  const manifest = readManifest(dir, files);
  const wanted = manifest.files.filter((f) => names.includes(f.name));
  if (wanted.length !== names.length) corrupt(dir, `lacks one of ${names.join(', ')}`);
  wanted.push(...manifest.files.filter((f) => optional.includes(f.name)));
  return readParts(dir, wanted, files);
}

function readParts(dir: string, entries: readonly ManifestFile[], files: FileLayer): Map<string, Uint8Array> {
  const parts = new Map<string, Uint8Array>();
  for (const entry of entries) {
    const path = join(dir, entry.file);
    let bytes: Uint8Array;
    try {
      bytes = files.readFile(path);
    } catch (e) {
      corrupt(dir, `${entry.file} cannot be read: ${(e as Error).message}`);
    }
    if (bytes.byteLength !== entry.bytes) corrupt(dir, `${entry.file} has ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`);
    if (checksumOf(bytes) !== entry.crc32) corrupt(dir, `${entry.file} fails its crc32`);
    if (entry.sidecar !== true) parts.set(entry.name, bytes);
  }
  return parts;
}

export interface CheckpointVerifyResult {
  ok: boolean;
  checkpoints: Array<{ seq: number; dir: string; ok: boolean; reason?: string }>;
}

/** For `mnemo verify`: reads every checkpoint whole. */
export function verifyCheckpoints(root: string, files: FileLayer = nodeFiles): CheckpointVerifyResult {
  const checkpoints = listCheckpoints(root, files).map(({ seq, dir }) => {
    try {
      readCheckpoint(dir, files);
      return { seq, dir, ok: true };
    } catch (e) {
      return { seq, dir, ok: false, reason: (e as Error).message };
    }
  });
  return { ok: checkpoints.every((c) => c.ok), checkpoints };
}
