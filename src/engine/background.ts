// Background work: the checkpoint policy (by events, by time, held while appends keep coming) and
// one-at-a-time checkpoint runs, and the compaction poll. The event trigger is checked after each
// append; the timer checks the rest.

import { join } from 'node:path';

import type { Wal } from '../../wal/wal.js';
import type { ProjectionRegistry } from '../../projections/registry.js';
import {
  checkpointDueAfterEvents,
  checkpointCatchUpHoldFactor,
  checkpointHoldFactor,
  checkpointIntervalEventsDefault,
  checkpointIntervalMsDefault,
  checkpointQuietMs,
  checkpointRetryMs,
  checkpointsDirName,
  prepareCheckpointDir,
  writeCheckpoint,
  type WrittenCheckpoint,
} from './checkpoint.js';
import { compactionPollMs, type Compactor } from './compaction.js';
import type { CheckpointResult } from '../kernel/api.js';
import { nodeFiles, type FileLayer } from '../storage/files.js';

/** Engine options beyond the public EngineOptions: the checkpoint policy and storage knobs. */
export interface EngineTuning {
  /** Checkpoint after this many events since the last checkpoint; default checkpointIntervalEventsDefault (100K). 0 turns the event trigger off. */
  checkpointEveryEvents?: number;
  /** Checkpoint after this many ms since the last one if any event arrived; default checkpointIntervalMsDefault (5 min). 0 turns the timer off. */
  checkpointEveryMs?: number;
  /** Compact sealed segments to Parquet in the background; default true. compact() works either way. */
  backgroundCompaction?: boolean;
  /** WAL segment size before rotation; default segmentBytesMax (64 MiB). Small values are for tests and benchmarks. */
  segmentBytesMax?: number;
  /**
   * The file layer the WAL and compaction write through; default the real disk. Tests pass a layer
   * that stops the process at a chosen step (compaction then runs on the calling thread: a layer
   * cannot cross into a worker).
   */
  files?: FileLayer;
}

export interface CheckpointStats {
  seq: number;
  ageMs: number | null;
  eventsSince: number;
  written: number;
  lastMs: number | null;
  lastBytes: number | null;
  running: boolean;
}

export interface BackgroundDeps {
  dataDir: string;
  wal: Wal;
  registry: ProjectionRegistry;
  compactor: Compactor;
  tuning: EngineTuning;
  /** Whether the log is fsynced at all (a checkpoint must never be ahead of the durable log). */
  syncsToDisk: boolean;
  /** False once the engine is closed or its writes failed: nothing more is started. */
  active: () => boolean;
  /** Called by the timer while writes are refused: tries to resume them (see WritePath.tryRecover). */
  recover: () => void;
  /** Whether a replica is catching up from its stream (more received batches are known to be waiting). */
  catchingUp: () => boolean;
  warn: (message: string) => void;
}

export class Background {
  private readonly deps: BackgroundDeps;
  private readonly everyEvents: number;
  private readonly everyMs: number;
  private readonly compacting: boolean;
  private checkpointSeq = 0;
  private lastCheckpointAt = Date.now();
  private lastAppendAt = 0;
  private lastCheckpoint: WrittenCheckpoint | null = null;
  private checkpointsWritten = 0;
  private checkpointing: Promise<CheckpointResult> | null = null;
  /** No background checkpoint before this time (ms since the epoch): set by a failed one. */
  private checkpointRetryAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(deps: BackgroundDeps) {
    this.deps = deps;
    this.everyEvents = deps.tuning.checkpointEveryEvents ?? checkpointIntervalEventsDefault;
    this.everyMs = deps.tuning.checkpointEveryMs ?? checkpointIntervalMsDefault;
    this.compacting = deps.tuning.backgroundCompaction ?? true;
  }

  /** The state was loaded from the checkpoint at `seq`, written at `createdAt`. */
  loadedCheckpoint(seq: number, createdAt: number): void {
    this.checkpointSeq = seq;
    this.lastCheckpointAt = createdAt;
  }

  /** The periodic checkpoint (by time) and compaction poll. */
  start(): void {
    this.timer = setInterval(() => {
      this.deps.recover();
      if (!this.deps.active()) return;
      const now = Date.now();
      if (this.everyMs > 0 && this.deps.wal.lastSeq > this.checkpointSeq && now - this.lastCheckpointAt >= this.everyMs) this.checkpointInBackground();
      if (this.checkpointBacklog() >= 1 && now - this.lastAppendAt >= checkpointQuietMs && !this.deps.catchingUp()) this.checkpointInBackground();
      if (this.compacting) this.deps.compactor.kick();
    }, compactionPollMs);
    this.timer.unref(); // background work must not keep a process alive
    if (this.compacting) this.deps.compactor.kick();
  }

  /**
   * After each append: hold a due checkpoint while appends keep coming (the timer takes it once
   * writes pause), unless the tail has grown far past due: a checkpoint serialises every projection
   * on this thread (the big ones in slices, between which appends run), and during a bulk load it
   * cost ~36% of durable ingest (113K → 72K events/s) when it ran in one piece. A replica
   * catching up from its stream holds it further (checkpointCatchUpHoldFactor).
   */
  appended(ts: number): void {
    this.lastAppendAt = ts;
    const backlog = this.checkpointBacklog();
    if (backlog >= checkpointHoldFactor && (backlog >= checkpointCatchUpHoldFactor || !this.deps.catchingUp())) this.checkpointInBackground();
  }

  /** Events since the last checkpoint, in units of what the event trigger says is due (0 when that trigger is off). */
  private checkpointBacklog(): number {
    if (this.everyEvents <= 0) return 0;
    return (this.deps.wal.lastSeq - this.checkpointSeq) / checkpointDueAfterEvents(this.everyEvents, this.checkpointSeq);
  }

  private checkpointInBackground(): void {
    if (this.checkpointing !== null || Date.now() < this.checkpointRetryAt) return;
    const seq = this.deps.wal.lastSeq;
    this.checkpoint().catch((e: unknown) => {
      this.checkpointRetryAt = Date.now() + checkpointRetryMs;
      this.deps.warn(`background checkpoint at seq ${seq} failed: ${(e as Error).message}; its partial files were removed, the log still holds every event, and it is retried in ${checkpointRetryMs / 1000} s`);
    });
  }

  /**
   * Writes a checkpoint at the current last seq (one at a time: a call during another waits for it,
   * then writes again if events arrived meanwhile). Returns the checkpoint written or already there.
   */
  async checkpoint(): Promise<CheckpointResult> {
    while (this.checkpointing !== null) {
      const previous = await this.checkpointing.catch(() => null);
      if (previous !== null && previous.seq === this.deps.wal.lastSeq) return previous;
    }
    const run = this.writeCheckpointNow().finally(() => {
      if (this.checkpointing === run) this.checkpointing = null;
    });
    this.checkpointing = run;
    return run;
  }

  private async writeCheckpointNow(): Promise<CheckpointResult> {
    const { wal, registry } = this.deps;
    const seq = wal.lastSeq;
    // One consistent seq: every save() snapshots its state synchronously before its first await
    // (copies, where it then encodes in slices), and no append can run between these calls
    // (appends apply synchronously too). The vector index holds graph writes back while hnswlib
    // writes its file, so its bytes match its snapshot.
    const root = join(this.deps.dataDir, checkpointsDirName);
    const files = this.deps.tuning.files ?? nodeFiles;
    const dir = prepareCheckpointDir(root, seq, files);
    let written: WrittenCheckpoint;
    try {
      const saving = registry.all().map((p) => ({ name: p.name, bytes: p.save(dir ?? undefined) }));
      const parts = await Promise.all(saving.map(async ({ name, bytes }) => ({ name, bytes: await bytes })));
      // A checkpoint must never be ahead of the durable log: after a crash it would hold lost events.
      if (this.deps.syncsToDisk) await wal.flush();
      written = await writeCheckpoint(root, seq, parts, dir, files);
    } catch (e) {
      // A failed checkpoint (a full disk, say) leaves nothing behind: its `.tmp` directory goes now,
      // not at the next checkpoint, so the space it took is free for the log.
      if (dir !== null) {
        try {
          files.removeTree(dir);
        } catch (cleanup) {
          this.deps.warn(`could not remove ${dir} after a failed checkpoint: ${(cleanup as Error).message} (the next checkpoint removes it)`);
        }
      }
      throw e;
    }
    if (seq > this.checkpointSeq) {
      this.checkpointSeq = seq;
      this.lastCheckpointAt = Date.now();
    }
    this.lastCheckpoint = written;
    this.checkpointsWritten++;
    return { seq: written.seq, dir: written.dir, bytes: written.bytes, ms: written.ms };
  }

  stats(): CheckpointStats {
    return {
      seq: this.checkpointSeq,
      ageMs: this.checkpointSeq > 0 ? Date.now() - this.lastCheckpointAt : null,
      eventsSince: this.deps.wal.lastSeq - this.checkpointSeq,
      written: this.checkpointsWritten,
      lastMs: this.lastCheckpoint?.ms ?? null,
      lastBytes: this.lastCheckpoint?.bytes ?? null,
      running: this.checkpointing !== null,
    };
  }

  /** Stops the timer and waits for a checkpoint in progress. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.checkpointing !== null) await this.checkpointing.catch(() => {});
  }
}
