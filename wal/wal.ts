// The write-ahead log's facade: the only module the engine imports from wal/.
// Bytes in, bytes out: events are opaque objects here.
//
// On disk: `<dir>/LOCK` (the writer's pid) and segment files named by their first
// seq (`00000000000000000001.wal`), each a run of records (see record.ts), one record
// per batch. Torn tail vs corruption: see segment.ts (classifyBadRecord) and reader.ts (recover).
import { dirname } from 'node:path';
import type { RecordableHistogram } from 'node:perf_hooks';
import { assert } from '../src/kernel/errors.js';
import { fsyncIntervalMsDefault, segmentBytesMax as segmentBytesMaxDefault } from '../src/kernel/limits.js';
import { nodeFiles, type FileLayer } from '../src/storage/files.js';
import { acquireLock, type WalLock } from './lock.js';
import { readSegmentEvents, recover, verifyWal, type RecoveryReport, type SegmentInfo, type VerifyResult } from './reader.js';
import { WalWriter, type Durability } from './writer.js';

export type { FileLayer, FileHandle } from '../src/storage/files.js';
export { nodeFiles } from '../src/storage/files.js';
export type { RecoveryReport, VerifyResult, Durability };
export { verifyWal };

/** The events of one sealed segment file, read without opening the log (compaction's worker thread). */
export function segmentEvents(segment: Pick<SegmentInfo, 'path' | 'bytes' | 'firstSeq' | 'lastSeq'>, files: FileLayer = nodeFiles): Generator<{ seq: number; event: unknown }> {
  return readSegmentEvents(files, segment, 1);
}

export interface WalOptions {
  dir: string;
  durability: Durability;
  /** `interval` mode: fsync period in ms; default fsyncIntervalMsDefault (100). */
  fsyncIntervalMs?: number;
  /** `fsync` mode: 'group' (default, fsync on the thread pool, shared by concurrent appends) or 'inline' (fsync before append returns). */
  commit?: 'group' | 'inline';
  /** Rotate once the active segment would pass this many bytes; default segmentBytesMax (64 MiB). Small values are for tests. */
  segmentBytesMax?: number;
  /** Move damaged segments aside instead of refusing to open. */
  repair?: boolean;
  /** Defaults to the real disk (node:fs). */
  files?: FileLayer;
  /** The seq a checkpoint holds: sealed segments ending at or before it are not read at open (see recover). */
  coveredThrough?: number;
}

/** Opens (creating if needed) the log in `options.dir`: takes the lock, then recovers. Throws WAL_LOCKED or WAL_CORRUPT. */
export async function openWal(options: WalOptions): Promise<Wal> {
  const files = options.files ?? nodeFiles;
  files.mkdirp(options.dir);
  const lock = acquireLock(files, options.dir);
  try {
    const recovered = recover(files, options.dir, options.repair === true, options.coveredThrough);
    const writer = new WalWriter(
      {
        files,
        dir: options.dir,
        durability: options.durability,
        fsyncIntervalMs: options.fsyncIntervalMs ?? fsyncIntervalMsDefault,
        commit: options.commit ?? 'group',
        segmentBytesMax: options.segmentBytesMax ?? segmentBytesMaxDefault,
      },
      recovered.segments,
      recovered.nextSeq,
    );
    return new Wal(files, writer, lock, recovered.report);
  } catch (e) {
    lock.release();
    throw e;
  }
}

export class Wal {
  readonly recovery: RecoveryReport;
  private readonly files: FileLayer;
  private readonly writer: WalWriter;
  private readonly lock: WalLock;
  private closed = false;

  constructor(files: FileLayer, writer: WalWriter, lock: WalLock, recovery: RecoveryReport) {
    this.files = files;
    this.writer = writer;
    this.lock = lock;
    this.recovery = recovery;
  }

  get lastSeq(): number {
    return this.writer.lastSeq;
  }

  /** The first seq the log holds (its oldest segment's), or the next seq when it holds none. */
  get firstSeq(): number {
    return this.writer.allSegments()[0]?.firstSeq ?? this.writer.lastSeq + 1;
  }

  /**
   * Appends one record holding `count` events starting at `firstSeq` (must be lastSeq + 1).
   * The record is written to the OS before this returns, so the caller may apply the
   * events at once; the promise resolves when it is durable per the durability mode.
   * Throws (synchronously, nothing written) BATCH_TOO_LARGE, WAL_CLOSED or WAL_IO; the
   * promise rejects with WAL_IO when the fsync fails. `commit` overrides the log's own commit
   * mode for this append (durability 'fsync' only).
   */
  append(firstSeq: number, count: number, payload: Uint8Array, commit?: 'group' | 'inline'): Promise<void> {
    return this.writer.append(firstSeq, count, payload, commit);
  }

  /** Every event with seq >= fromSeq, in order, over all segments present. */
  *replay(fromSeq = 1): Generator<{ seq: number; event: unknown }> {
    for (const segment of this.writer.allSegments()) {
      if (segment.lastSeq < fromSeq) continue;
      yield* readSegmentEvents(this.files, segment, fromSeq);
    }
  }

  async rotate(): Promise<void> {
    await this.writer.rotate();
  }

  sealedSegments(): Array<{ file: string; path: string; firstSeq: number; lastSeq: number; bytes: number }> {
    return this.writer.sealedSegments();
  }

  /** Deletes a sealed segment whose events compaction has made durable elsewhere. */
  async removeSegment(path: string): Promise<void> {
    const segment = this.writer.dropSealed(path);
    this.files.unlink(segment.path);
    this.files.fsyncDir(dirname(segment.path));
  }

  /** After a write failed (its partial frame cut off), whether the disk takes data again; true when appends may resume. See WalWriter.tryRecover. */
  tryRecover(): boolean {
    return this.writer.tryRecover();
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Each fdatasync's duration in ns: see WalWriter.fsyncDurations. */
  get fsyncDurations(): RecordableHistogram {
    return this.writer.fsyncDurations;
  }

  stats(): { segments: number; bytes: number; durability: string; lastFsyncAt: number | null; fsyncs: number } {
    return this.writer.stats();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.close();
    } finally {
      this.lock.release();
    }
  }
}
