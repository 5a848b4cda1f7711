// Compaction: sealed WAL segments become Parquet files in <dataDir>/parquet/ (the format is
// src/parquet/format.ts), off the main thread. This file holds recovery of the Parquet directory at
// open, the compaction of one segment, the Compactor that drives the worker process, and verify.
//
// Every file operation goes through a FileLayer (src/storage/files.ts), so the power-loss tests run
// this code over a simulated disk, and the crash tests wrap the layer to stop the process at a step.

import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nodeFiles, setAside, type FileLayer } from '../storage/files.js';
import { publishAtomically, removeLeftover, replaceAtomically, tempSuffix } from '../storage/atomic.js';
import { segmentEvents, type Wal } from '../../wal/wal.js';
import { assert, isMnemoError, mnemoError } from '../kernel/errors.js';
import { compiledModule } from '../kernel/compiled.js';
import { eventFromLog } from '../kernel/event-codec.js';
import type { CompactionStats } from '../kernel/api.js';
import { listOrNone, listParquetFiles, parquetFileName, type ParquetFileInfo } from '../parquet/format.js';
import { writeEventsParquet } from '../parquet/writer.js';
import { readParquetEvents, verifyParquetRange, verifyParquetRangeHere } from '../parquet/reader.js';
import { lostSeqsFile, pastLost, readLostSeqs, recordLostSeqs, seqRange, type LostSeqs } from './lost-seqs.js';

export { parquetDirName, listParquetFiles, type ParquetFileInfo } from '../parquet/format.js';

/** The compactor's counters, kept beside the files so that stats() after a restart still counts earlier runs. */
const statsFile = 'compaction.json';

function removeIfThere(path: string, files: FileLayer): boolean {
  try {
    files.unlink(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Recovery of the Parquet directory at open, given the first seq the WAL still holds.
 * - A `*.tmp` file is an orphan of a compaction that crashed before its rename: removed (its
 *   segment was never deleted, so its events are still in the WAL).
 * - A Parquet file whose range reaches into the WAL is a duplicate left by a crash between the
 *   rename and the segment's deletion: the segment wins (it was never deleted, so it is whole) and
 *   the Parquet file is removed; the next compaction writes it again. A damaged file there costs
 *   nothing: its events come back from the WAL.
 * - With `repair`, every other file is read whole (verifyParquetRange); a damaged one is set aside
 *   (`<name>.damaged-<ms>`, never deleted) and its seqs recorded as lost (lost-seqs.ts), as is a
 *   hole in the chain (a missing file).
 * - What remains must chain from seq 1 to the WAL's first seq, holes only where recorded as lost,
 *   or open refuses (PARQUET_CORRUPT, naming the file and the seqs, and pointing at --repair): a
 *   missing file means lost events, never silently.
 */
export function recoverParquetDir(
  dir: string,
  walFirstSeq: number,
  warn: (message: string) => void,
  files: FileLayer = nodeFiles,
  repair = false,
): { files: ParquetFileInfo[]; lost: LostSeqs[] } {
  files.mkdirp(dir);
  let removed = 0;
  for (const file of files.list(dir)) {
    if (!file.endsWith(tempSuffix)) continue;
    files.unlink(join(dir, file));
    removed++;
    warn(`removed ${join(dir, file)}, left by a compaction that did not finish (its events are still in the WAL)`);
  }
  let kept: ParquetFileInfo[] = [];
  for (const info of listParquetFiles(dir, files)) {
    if (info.lastSeq >= walFirstSeq) {
      files.unlink(info.path);
      removed++;
      warn(`removed ${info.path}: seqs ${info.firstSeq}..${info.lastSeq} are still in a WAL segment (a compaction stopped before deleting it)`);
    } else {
      kept.push(info);
    }
  }
  if (removed > 0) files.fsyncDir(dir);
  const newlyLost: LostSeqs[] = [];
  if (repair) {
    kept = kept.filter((info) => {
      try {
        verifyParquetRange(info.path, info.firstSeq, info.lastSeq, files);
        return true;
      } catch (e) {
        const reason = damageOf(e);
        const movedTo = setAside(info.path, files);
        if (movedTo instanceof Error) throw movedTo;
        newlyLost.push({ firstSeq: info.firstSeq, lastSeq: info.lastSeq, file: info.path, movedTo, reason, at: Date.now() });
        return false;
      }
    });
  }
  let lost = readLostSeqs(dir, files);
  const holes = (): Array<{ firstSeq: number; lastSeq: number; before: string }> => {
    const found = [];
    const known = [...lost, ...newlyLost].sort((a, b) => a.firstSeq - b.firstSeq);
    let next = pastLost(1, known);
    for (const info of kept) {
      if (info.firstSeq < next) throw mnemoError('PARQUET_CORRUPT', { file: info.path, reason: `starts at seq ${info.firstSeq}, but seqs up to ${next - 1} are held by the files before it or recorded as lost in ${lostSeqsFile}` });
      if (info.firstSeq > next) found.push({ firstSeq: next, lastSeq: info.firstSeq - 1, before: info.path });
      next = pastLost(info.lastSeq + 1, known);
    }
    if (next < walFirstSeq) found.push({ firstSeq: next, lastSeq: walFirstSeq - 1, before: 'the WAL' });
    return found;
  };
  for (const hole of holes()) {
    const seqs = seqRange(hole.firstSeq, hole.lastSeq);
    if (!repair) {
      throw mnemoError('PARQUET_CORRUPT', { file: dir, reason: `events ${seqs} (before ${hole.before}) are in neither Parquet nor the WAL` });
    }
    newlyLost.push({ firstSeq: hole.firstSeq, lastSeq: hole.lastSeq, file: dir, movedTo: null, reason: `no Parquet file holds seqs ${seqs}`, at: Date.now() });
  }
  if (newlyLost.length > 0) {
    lost = recordLostSeqs(dir, newlyLost, files);
    for (const l of newlyLost) {
      const what = l.movedTo === null ? `${l.reason} (missing)` : `repair moved ${l.file} aside to ${l.movedTo}: ${l.reason}`;
      warn(`${what}; events ${seqRange(l.firstSeq, l.lastSeq)} are lost (their WAL segment was deleted after compaction), recorded in ${join(dir, lostSeqsFile)}`);
    }
  }
  return { files: kept, lost };
}

/** What is wrong with a file that failed to read: the reason alone when the error names the file already. */
function damageOf(e: unknown): string {
  return isMnemoError(e, 'PARQUET_CORRUPT') ? e.details.reason : (e as Error).message;
}

/** What every open-time Parquet refusal ends with: the way forward. */
export const repairHint = ". Restore it from a backup, or start with --repair ('mnemo serve --repair' or 'mnemo verify --repair') to set it aside and go on without those events";

// ---- one segment → one Parquet file (runs in the worker) ----

export interface SegmentJob {
  segmentPath: string;
  segmentBytes: number;
  firstSeq: number;
  lastSeq: number;
  parquetDir: string;
}

/**
 * Writes one sealed segment's events to `<parquetDir>/<first>-<last>.parquet`: a temp file,
 * published atomically (fsync, rename, directory fsync), then read back whole (every column, the
 * content checksum, the seq range). Only after this returns may the caller delete the segment.
 * `engineAlive` is asked just before the publish: a worker process whose engine died stops there,
 * so it cannot publish into a data dir a restarted engine is already recovering.
 */
export async function compactSegment(job: SegmentJob, files: FileLayer = nodeFiles, engineAlive: () => boolean = () => true): Promise<ParquetFileInfo> {
  const file = parquetFileName(job.firstSeq, job.lastSeq);
  const path = join(job.parquetDir, file);
  const temp = path + tempSuffix;
  removeIfThere(temp, files);
  const segment = { path: job.segmentPath, bytes: job.segmentBytes, firstSeq: job.firstSeq, lastSeq: job.lastSeq };
  const events = (function* () {
    for (const { seq, event } of segmentEvents(segment, files)) yield eventFromLog(seq, event);
  })();
  let published = false;
  try {
    const written = writeEventsParquet(temp, events, files);
    if (!engineAlive()) throw new Error(`the engine that started the compaction of ${job.segmentPath} is gone`);
    publishAtomically(temp, path, files);
    published = true;
    assert(written.firstSeq === job.firstSeq && written.lastSeq === job.lastSeq, `segment ${job.segmentPath} holds seqs ${written.firstSeq}..${written.lastSeq}, expected ${job.firstSeq}..${job.lastSeq}`);
    await verifyParquetRangeHere(path, job.firstSeq, job.lastSeq, files);
    return { file, path, firstSeq: job.firstSeq, lastSeq: job.lastSeq, bytes: files.size(path) };
  } catch (e) {
    // A failed run (a full disk, say) leaves nothing behind: the segment still holds every event.
    removeLeftover(temp, files);
    if (published) removeLeftover(path, files);
    throw e;
  }
}


/** How often the engine looks for sealed segments to compact, in ms. A segment seals every 64 MiB, so a second is plenty. */
export const compactionPollMs = 1_000;
/** After a failed run (a full disk, say), the poll waits this long before the next try, so a disk that stays full costs one log line per try, not one a second. */
export const compactionRetryMs = 5_000;

type WorkerReply = { ok: true; done: ParquetFileInfo } | { ok: false; error: string };

/**
 * Compacts sealed segments, oldest first, one at a time, in a child process (compaction-worker.ts)
 * so that the event loop (appends, reads) keeps its latency. After the worker has verified a file,
 * the engine adds it to the catalog and only then deletes the segment: at every instant each event
 * is in the WAL, in Parquet, or in both.
 */
export class Compactor {
  readonly files: ParquetFileInfo[];
  private readonly wal: Wal;
  private readonly parquetDir: string;
  private readonly warn: (message: string) => void;
  private running: Promise<void> | null = null;
  private worker: ChildProcess | null = null;
  private closing = false;
  private runs = 0;
  private segmentsCompacted = 0;
  private lastRunMs: number | null = null;
  private lastError: string | null = null;
  /** No background run before this time (ms since the epoch): set by a failed run. */
  private retryAt = 0;

  private readonly disk: FileLayer;

  /**
   * `disk` is the FileLayer every step writes through. On the real disk a segment is compacted in a
   * child process; on any other layer (a test's simulated or crash-injecting disk, which cannot cross
   * into a worker) the same steps run on this thread.
   */
  constructor(wal: Wal, parquetDir: string, files: ParquetFileInfo[], warn: (message: string) => void, disk: FileLayer = nodeFiles) {
    this.wal = wal;
    this.parquetDir = parquetDir;
    this.files = files;
    this.warn = warn;
    this.disk = disk;
    const saved = readSavedStats(join(parquetDir, statsFile), disk);
    // A data dir compacted before the counters were kept: every file is one segment, from at least one run.
    this.runs = saved?.runs ?? (files.length > 0 ? 1 : 0);
    this.segmentsCompacted = saved?.segmentsCompacted ?? files.length;
  }

  /** The first seq not in Parquet. */
  get parquetEndSeq(): number {
    return (this.files[this.files.length - 1]?.lastSeq ?? 0) + 1;
  }

  /** Starts a background run if sealed segments wait and none is running. A failure is warned, and retried by a kick compactionRetryMs later. */
  kick(): void {
    if (this.running !== null || this.closing || Date.now() < this.retryAt || this.wal.sealedSegments().length === 0) return;
    this.start().then(
      () => {
        this.lastError = null;
      },
      (e: unknown) => {
        if (this.closing) return; // the worker was stopped by close(): not a failure (see close)
        this.lastError = (e as Error).message;
        this.retryAt = Date.now() + compactionRetryMs;
        this.warn(`compaction failed: ${this.lastError}; its partial file was removed, the segment stays in the WAL (nothing is lost), and it is retried in ${compactionRetryMs / 1000} s`);
      },
    );
  }

  /** Compacts every sealed segment there is now (after any run in progress) and resolves when done. */
  async compactAll(): Promise<void> {
    while (this.running !== null) await this.running.catch(() => {});
    if (this.wal.sealedSegments().length > 0) await this.start();
  }

  private start(): Promise<void> {
    const run = this.run().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async run(): Promise<void> {
    const started = performance.now();
    try {
      for (;;) {
        const segment = this.wal.sealedSegments()[0];
        if (segment === undefined || this.closing) break;
        const job: SegmentJob = { segmentPath: segment.path, segmentBytes: segment.bytes, firstSeq: segment.firstSeq, lastSeq: segment.lastSeq, parquetDir: this.parquetDir };
        const done = await this.compactInWorker(job);
        if (this.closing) break; // the file stays; recovery at the next open sorts out the duplicate
        this.files.push(done);
        await this.wal.removeSegment(segment.path);
        this.segmentsCompacted++;
      }
    } finally {
      // A worker a run, a process, not a thread: what it used goes back to the OS when it exits. A
      // worker thread's freed memory stayed in its glibc arena (the soak's RSS floors 210–226 MB
      // against ~150 MB without compaction); one kept across runs held its heap too (230–430 MB).
      this.stopWorker();
      this.runs++;
      this.lastRunMs = performance.now() - started;
      this.saveStats();
    }
  }

  private compactInWorker(job: SegmentJob): Promise<ParquetFileInfo> {
    const url = this.disk === nodeFiles ? compiledModule(new URL('./compaction-worker.js', import.meta.url)) : null;
    if (url === null) return compactSegment(job, this.disk); // see the constructor: same steps, this thread
    // execArgv empty: the engine's own flags (a profiler, a test runner's loader) are not the worker's.
    if (this.worker === null) {
      this.worker = fork(fileURLToPath(url), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // Between jobs nothing else listens: an error there (a failed kill) must not be unhandled. In a job, onError reports it.
      this.worker.on('error', () => {});
    }
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        cleanup();
        if (reply.ok) resolve(reply.done);
        else reject(new Error(reply.error));
      };
      const onError = (e: Error) => {
        cleanup();
        if (this.worker === worker) this.stopWorker();
        reject(e);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        if (this.worker === worker) this.worker = null;
        reject(new Error(`compaction worker exited with ${signal ?? `code ${code}`}`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.send(job);
    });
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) worker.kill('SIGKILL');
  }

  /** Best effort: the counters are statistics, and a failure to save them must not fail the run. */
  private saveStats(): void {
    try {
      const body = JSON.stringify({ runs: this.runs, segmentsCompacted: this.segmentsCompacted });
      replaceAtomically(join(this.parquetDir, statsFile), [Buffer.from(body)], this.disk);
    } catch (e) {
      this.warn(`could not save compaction counters: ${(e as Error).message}`);
    }
  }

  stats(): CompactionStats {
    return {
      parquetFiles: this.files.length,
      parquetRows: this.files.reduce((sum, f) => sum + f.lastSeq - f.firstSeq + 1, 0),
      parquetBytes: this.files.reduce((sum, f) => sum + f.bytes, 0),
      running: this.running !== null,
      runs: this.runs,
      segmentsCompacted: this.segmentsCompacted,
      lastRunMs: this.lastRunMs,
      lastError: this.lastError,
    };
  }

  /** Stops after the segment in progress (its worker is killed; a half-written temp file is an orphan the next open removes). */
  async close(): Promise<void> {
    this.closing = true;
    this.stopWorker();
    if (this.running !== null) await this.running.catch(() => {});
  }
}

function readSavedStats(path: string, files: FileLayer): { runs: number; segmentsCompacted: number } | null {
  try {
    const saved = JSON.parse(Buffer.from(files.readFile(path)).toString('utf8')) as { runs?: unknown; segmentsCompacted?: unknown };
    if (Number.isSafeInteger(saved.runs) && Number.isSafeInteger(saved.segmentsCompacted)) return { runs: saved.runs as number, segmentsCompacted: saved.segmentsCompacted as number };
  } catch {
    // absent (never compacted, or compacted by an older version) or unreadable: derived instead
  }
  return null;
}

// ---- verify (mnemo verify) ----

export interface ParquetVerifyResult {
  ok: boolean;
  files: number;
  rows: number;
  /** The last seq Parquet accounts for (held, or recorded as lost); 0 when none. */
  lastSeq: number;
  problems: Array<{ file: string; reason: string }>;
  /** `.tmp` files of a compaction that did not finish: harmless (their events are still in the WAL), and open removes them. */
  orphans: string[];
  /** Seqs an earlier repair gave up (lost-seqs.ts): known, not new damage. */
  lost: LostSeqs[];
}

/**
 * Reads every Parquet file whole: footer, every column, every payload, seq range against the name,
 * and the chain between files (holes allowed only where a repair recorded the seqs as lost).
 */
export function verifyParquetDir(dir: string, files: FileLayer = nodeFiles): ParquetVerifyResult {
  const result: ParquetVerifyResult = { ok: true, files: 0, rows: 0, lastSeq: 0, problems: [], orphans: [], lost: [] };
  try {
    result.lost = readLostSeqs(dir, files);
  } catch (e) {
    result.problems.push({ file: join(dir, lostSeqsFile), reason: (e as Error).message });
  }
  let next = pastLost(1, result.lost);
  for (const info of listParquetFiles(dir, files)) {
    result.files++;
    if (info.firstSeq !== next) result.problems.push({ file: info.path, reason: `starts at seq ${info.firstSeq}, but the files before it (and the seqs recorded as lost) end at seq ${next - 1}` });
    next = pastLost(info.lastSeq + 1, result.lost);
    try {
      const events = readParquetEvents(info.path, files);
      result.rows += events.length;
      const first = events[0]?.seq;
      const last = events[events.length - 1]?.seq;
      if (first !== info.firstSeq || last !== info.lastSeq) result.problems.push({ file: info.path, reason: `holds seqs ${first}..${last}, its name says ${info.firstSeq}..${info.lastSeq}` });
    } catch (e) {
      result.problems.push({ file: info.path, reason: damageOf(e) });
    }
  }
  result.lastSeq = next - 1;
  for (const file of listOrNone(dir, files)) if (file.endsWith(tempSuffix)) result.orphans.push(join(dir, file));
  result.ok = result.problems.length === 0;
  return result;
}
