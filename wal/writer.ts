// The write side: frames go to the OS synchronously (apply-before-fsync), and
// fdatasync runs as a group commit — at most one in flight; every append that
// arrives meanwhile is covered by the next one.
import { join } from 'node:path';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { assert, mnemoError, type MnemoError } from '../src/kernel/errors.js';
import { batchBytesMax, batchEventsMax, walProbeBytes } from '../src/kernel/limits.js';
import type { FileHandle, FileLayer } from '../src/storage/files.js';
import { encodeHeader } from './record.js';
import type { SegmentInfo } from './reader.js';
import { segmentName } from './segment.js';

export type Durability = 'fsync' | 'interval' | 'none';

export interface WriterOptions {
  files: FileLayer;
  dir: string;
  durability: Durability;
  fsyncIntervalMs: number;
  segmentBytesMax: number;
  commit: 'group' | 'inline';
}

interface Waiter {
  /** Resolved once every seq up to this one is durable. */
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface ActiveSegment extends SegmentInfo {
  handle: FileHandle;
}

export class WalWriter {
  private readonly files: FileLayer;
  private readonly options: WriterOptions;
  private readonly sealed: SegmentInfo[];
  private active: ActiveSegment;
  private durableSeq: number;
  private readonly waiters: Waiter[] = [];
  /** The fdatasync in flight, if any, and the handle it runs on. */
  private syncing: { promise: Promise<void>; handle: FileHandle } | null = null;
  /** Handles of sealed segments whose close waits for the fsync in flight on them. */
  private readonly retired: FileHandle[] = [];
  private failure: MnemoError<'WAL_IO' | 'DISK_FULL'> | null = null;
  /** The failure was a write whose partial frame was cut off again: the log is whole, and writes may resume once the disk takes data. */
  private recoverable = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout | null = null;
  fsyncs = 0;
  lastFsyncAt: number | null = null;
  /** How long each fdatasync of the log took, in ns (inline: on the event loop; group: issued to done). The HTTP server reads and resets it per stats read. */
  readonly fsyncDurations: RecordableHistogram = createHistogram();

  /** `segments` come from recovery, oldest first; the last one (if any) becomes the active segment. */
  constructor(options: WriterOptions, segments: readonly SegmentInfo[], nextSeq: number) {
    this.options = options;
    this.files = options.files;
    const last = segments[segments.length - 1];
    this.sealed = segments.slice(0, -1).map((s) => ({ ...s }));
    this.active = last === undefined ? this.createSegment(nextSeq) : { ...last, handle: this.files.openExisting(last.path) };
    // What recovery read back may still sit only in the page cache (the previous process
    // was killed before its fsync); make it durable before anything is built on it.
    if (last !== undefined && options.durability !== 'none') this.files.fdatasyncSync(this.active.handle);
    this.durableSeq = nextSeq - 1;
    if (options.durability === 'interval') {
      this.timer = setInterval(() => this.requestSync(), options.fsyncIntervalMs);
      this.timer.unref(); // a pending interval fsync must not keep the process alive
    }
  }

  get lastSeq(): number {
    return this.active.lastSeq;
  }

  /**
   * Writes the frame before returning; the promise resolves when it is durable per the durability
   * mode. Anything that stops the frame from being written (closed, an earlier failure, a batch
   * over the limits, a failed write or rotation) throws here, synchronously, so a caller that
   * applies after this returns never applies a batch the log does not hold.
   */
  append(firstSeq: number, count: number, payload: Uint8Array, commit: 'group' | 'inline' = this.options.commit): Promise<void> {
    this.checkOpen();
    if (payload.length > batchBytesMax) throw mnemoError('BATCH_TOO_LARGE', { size: payload.length, max: batchBytesMax, unit: 'bytes' });
    if (count > batchEventsMax) throw mnemoError('BATCH_TOO_LARGE', { size: count, max: batchEventsMax, unit: 'events' });
    assert(Number.isSafeInteger(count) && count >= 1, `append of ${count} events`);
    assert(payload.length >= 1, 'append of an empty payload');
    assert(firstSeq === this.lastSeq + 1, `append at seq ${firstSeq}, but the log ends at seq ${this.lastSeq}`);
    this.writeFrame(firstSeq, count, payload);
    if (this.options.durability !== 'fsync') return Promise.resolve();
    if (commit === 'inline') return this.syncInline();
    return this.waitDurable(this.lastSeq);
  }

  private writeFrame(firstSeq: number, count: number, payload: Uint8Array): void {
    const header = encodeHeader(firstSeq, count, payload);
    const frameBytes = header.length + payload.length;
    if (this.active.bytes > 0 && this.active.bytes + frameBytes > this.options.segmentBytesMax) this.rotateNow();
    const start = this.active.bytes;
    try {
      this.files.write(this.active.handle, [header, payload], start);
    } catch (e) {
      // Cut a partial frame off so the file ends on a whole record; if even that fails, recovery will see a torn tail.
      let cut = false;
      try {
        this.files.truncate(this.active.handle, start);
        cut = true;
      } catch {
        // the failure below is what the caller needs to see
      }
      // Recoverable only if no earlier append was still waiting for its fsync (fail() rejects those).
      const quiet = this.waiters.length === 0 && this.syncing === null;
      const failure = this.fail('write', e);
      this.recoverable = cut && quiet;
      throw failure;
    }
    this.active.bytes += frameBytes;
    this.active.lastSeq = firstSeq + count - 1;
  }

  /** Resolves once seq is durable; starts an fsync unless one is in flight (that one's completion starts the next). */
  private waitDurable(seq: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.requestSync();
    });
  }

  /** fdatasync now, on this thread: covers every frame written so far. A failure stops the log, as in requestSync. */
  private syncInline(): Promise<void> {
    const target = this.lastSeq;
    const startedMs = performance.now();
    try {
      this.files.fdatasyncSync(this.active.handle);
    } catch (e) {
      return Promise.reject(this.fail('fdatasync', e));
    }
    this.recordFsync(startedMs);
    this.fsyncs++;
    this.lastFsyncAt = Date.now();
    this.markDurable(target);
    return Promise.resolve();
  }

  private requestSync(): void {
    if (this.syncing !== null || this.failure !== null || this.durableSeq >= this.lastSeq) return;
    const target = this.lastSeq;
    const handle = this.active.handle;
    const startedMs = performance.now();
    const promise = this.files.fdatasync(handle).then(
      () => {
        this.recordFsync(startedMs);
        this.synced(target);
      },
      (e: unknown) => {
        this.syncing = null;
        this.closeRetired();
        this.fail('fdatasync', e);
      },
    );
    this.syncing = { promise, handle };
  }

  private recordFsync(startedMs: number): void {
    this.fsyncDurations.record(Math.max(1, Math.round((performance.now() - startedMs) * 1e6)));
  }

  private synced(target: number): void {
    this.syncing = null;
    this.closeRetired();
    this.fsyncs++;
    this.lastFsyncAt = Date.now();
    this.markDurable(target);
    if (this.waiters.length > 0) this.requestSync();
  }

  private markDurable(seq: number): void {
    if (seq > this.durableSeq) this.durableSeq = seq;
    while (this.waiters.length > 0 && this.waiters[0]!.seq <= this.durableSeq) this.waiters.shift()!.resolve();
  }

  /**
   * Never retry a failed fsync (PostgreSQL's lesson: the kernel may have dropped the
   * dirty pages and a second fsync would "succeed"). The log stops accepting appends.
   */
  private fail(op: string, e: unknown): MnemoError<'WAL_IO' | 'DISK_FULL'> {
    if (this.failure === null || this.recoverable) {
      this.recoverable = false;
      const details = { op, reason: e instanceof Error ? e.message : String(e) };
      this.failure = (e as NodeJS.ErrnoException).code === 'ENOSPC' ? mnemoError('DISK_FULL', details, { cause: e }) : mnemoError('WAL_IO', details, { cause: e });
    }
    const failure = this.failure;
    for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
    return failure;
  }

  /**
   * After a failed write whose partial frame was cut off (a full disk, typically), probes whether
   * the disk takes data again: writes walProbeBytes to a temp file in the log's dir, fsyncs and
   * removes it. On success the log accepts appends again and this returns true. A failed fsync is
   * never recoverable (the kernel may have dropped the pages it could not write).
   */
  tryRecover(): boolean {
    if (this.failure === null) return true;
    if (!this.recoverable || this.closed) return false;
    const probe = join(this.options.dir, 'probe.tmp');
    try {
      try {
        this.files.unlink(probe);
      } catch {
        // not there: the usual case
      }
      const handle = this.files.createNew(probe);
      try {
        this.files.write(handle, [new Uint8Array(walProbeBytes)], 0);
        this.files.fdatasyncSync(handle);
      } finally {
        this.files.close(handle);
        this.files.unlink(probe);
      }
    } catch {
      return false;
    }
    this.failure = null;
    this.recoverable = false;
    return true;
  }

  private createSegment(firstSeq: number): ActiveSegment {
    const file = segmentName(firstSeq);
    const path = join(this.options.dir, file);
    const handle = this.files.createNew(path);
    if (this.options.durability !== 'none') {
      this.files.fdatasyncSync(handle);
      this.files.fsyncDir(this.options.dir);
    }
    return { file, path, firstSeq, lastSeq: firstSeq - 1, bytes: 0, handle };
  }

  /**
   * Seals the active segment (fsync, synchronously: a few ms once per segment) and
   * starts the next. Synchronous so that an append can rotate and still write
   * before it returns.
   */
  private rotateNow(): void {
    if (this.active.bytes === 0) return;
    const old = this.active;
    try {
      if (this.options.durability !== 'none') this.files.fdatasyncSync(old.handle);
      this.active = this.createSegment(old.lastSeq + 1);
    } catch (e) {
      throw this.fail('rotate', e);
    }
    if (this.options.durability !== 'none') this.markDurable(old.lastSeq);
    this.sealed.push({ file: old.file, path: old.path, firstSeq: old.firstSeq, lastSeq: old.lastSeq, bytes: old.bytes });
    this.retire(old.handle);
  }

  private retire(handle: FileHandle): void {
    if (this.syncing?.handle === handle) this.retired.push(handle);
    else this.files.close(handle);
  }

  private closeRetired(): void {
    for (const handle of this.retired.splice(0)) this.files.close(handle);
  }

  async rotate(): Promise<void> {
    this.checkOpen();
    this.rotateNow();
  }

  /** Resolves once everything written so far is durable (an fsync now, in every mode). */
  flush(): Promise<void> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.waitDurable(this.lastSeq);
  }

  private checkOpen(): void {
    if (this.closed) throw mnemoError('WAL_CLOSED', {});
    if (this.failure !== null) throw this.failure;
  }

  sealedSegments(): SegmentInfo[] {
    return this.sealed.map((s) => ({ ...s }));
  }

  allSegments(): SegmentInfo[] {
    const { handle: _handle, ...active } = this.active;
    return [...this.sealedSegments(), active];
  }

  /** Forgets a sealed segment (compaction has its events); the caller removes the file. */
  dropSealed(path: string): SegmentInfo {
    const index = this.sealed.findIndex((s) => s.path === path);
    assert(index >= 0, `removeSegment of ${path}, which is not a sealed segment`);
    return this.sealed.splice(index, 1)[0]!;
  }

  stats(): { segments: number; bytes: number; durability: string; lastFsyncAt: number | null; fsyncs: number } {
    const bytes = this.sealed.reduce((sum, s) => sum + s.bytes, this.active.bytes);
    return { segments: this.sealed.length + 1, bytes, durability: this.options.durability, lastFsyncAt: this.lastFsyncAt, fsyncs: this.fsyncs };
  }

  /** Flushes (unless durability is 'none'), waits for the fsync in flight, closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    try {
      if (this.options.durability !== 'none' && this.failure === null) await this.waitDurable(this.lastSeq);
    } finally {
      if (this.syncing !== null) await this.syncing.promise;
      this.closeRetired();
      this.files.close(this.active.handle);
    }
  }
}
