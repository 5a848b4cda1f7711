// The write path: validate the whole batch against the current state (src/kernel/events.ts), stamp
// the envelope (seq, ts), encode it as one WAL record, write it to the OS synchronously, apply it to
// every projection, then wait for the durability the caller asked for. Because everything up to
// the WAL write is synchronous, concurrent appends cannot interleave between validation and apply,
// and a later batch always validates against the effects of every earlier one.
//
// Applying before the fsync completes means a read may briefly see a write that is not yet
// durable. If that fsync then fails, the engine stops accepting writes (WAL_IO), the way
// PostgreSQL panics on a failed fsync: retrying an fsync can silently lose data.

import type { Wal } from '../../wal/wal.js';
import type { NodeState } from '../../projections/node-state.js';
import type { ProjectionRegistry } from '../../projections/registry.js';
import { mnemoError } from '../kernel/errors.js';
import { encodeEvents, type BatchStamps } from '../kernel/event-codec.js';
import { prepareBatch, type RawEvent, type StateView, type StoredEvent } from '../kernel/events.js';
import { batchBytesMax, eventBytesMax } from '../kernel/limits.js';
import type { HybridClock } from '../replication/hlc.js';
import type { ReplicaMerge } from '../replication/merge.js';

/** Replicated mode: this machine's origin name and clock, and the merge state received events are checked against. */
export interface ReplicaStamping {
  origin: string;
  clock: HybridClock;
  merge: ReplicaMerge;
  /** Called with each local batch as logged (its first seq and WAL payload: the message to publish). */
  onLocalBatch: (firstSeq: number, count: number, payload: Uint8Array) => void;
  /** Why local writes are refused (replication found this log is not the one its origin's events in the stream came from), or null. */
  refused: () => string | null;
}

export interface LoggedBatch {
  /** The events as logged (ids generated, cascades expanded). */
  events: RawEvent[];
  firstSeq: number;
  /** Resolves once the record is as durable as the durability mode promises. */
  durable: Promise<void>;
}

export interface WritePathDeps {
  wal: Wal;
  registry: ProjectionRegistry;
  nodes: NodeState;
  view: StateView;
  /** A configured `vector.dim` binds the first vector too. */
  prepareOptions: { dimDefault?: number };
  isClosed: () => boolean;
  /** Called after a batch is applied, with its ts and whether it stored a vector. */
  onApplied: (ts: number, vectorStored: boolean) => void;
  /** Set in replicated mode. */
  replica?: ReplicaStamping;
}

export class WritePath {
  /** Set when a WAL write or fsync failed: the projections may hold events the log does not. */
  private failure: Error | null = null;

  constructor(private readonly deps: WritePathDeps) {}

  /** Throws ENGINE_CLOSED, or the failure that stopped writes. */
  assertWritable(): void {
    if (this.deps.isClosed()) throw mnemoError('ENGINE_CLOSED', {});
    if (this.failure) throw this.failure;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Why writes are refused now, or null. */
  get failureReason(): string | null {
    return this.failure?.message ?? null;
  }

  /**
   * After a failure: writes resume only if the log says it is whole and the disk takes data again
   * (a write refused on a full disk, nothing applied). Returns whether writes are accepted now.
   */
  tryRecover(): boolean {
    if (this.failure === null) return true;
    if (!this.deps.wal.tryRecover()) return false;
    this.failure = null;
    return true;
  }

  /**
   * Validates, logs and applies a batch, all synchronously (so no other append comes between), and
   * returns the events as logged and the promise of their durability. Whatever node-state
   * remembered for the batch is forgotten however this ends.
   */
  logAndApply(input: unknown): LoggedBatch {
    this.assertWritable();
    const refused = this.deps.replica?.refused() ?? null;
    if (refused !== null) throw mnemoError('REPLICATION_REFUSED', { reason: refused });
    const { wal, registry, nodes } = this.deps;
    try {
      const events = prepareBatch(input, this.deps.view, this.deps.prepareOptions);
      const replica = this.deps.replica;
      const stamps = replica === undefined ? undefined : { origin: replica.origin, hlcs: events.map(() => replica.clock.tick()) };
      const logged = this.logPrepared(events, stamps);
      if (replica !== undefined) replica.onLocalBatch(logged.firstSeq, events.length, logged.payload);
      return { events, firstSeq: logged.firstSeq, durable: logged.durable };
    } finally {
      nodes.forgetRemembered();
    }
  }

  /**
   * Logs and applies events received from another origin (replicated mode), each already carrying
   * its `hlc`: checked for shape and limits (not for existence: that is the merge's question), those
   * already merged skipped. Returns undefined when nothing was new. Throws VALIDATION_FAILED (or
   * another MnemoError) for a batch that may not be logged; nothing is written then.
   */
  logReceived(origin: string, received: ReadonlyArray<RawEvent & { hlc: string }>): (LoggedBatch & { skipped: number }) | undefined {
    this.assertWritable();
    const replica = this.deps.replica;
    if (replica === undefined) throw mnemoError('VALIDATION_FAILED', { field: 'replication', reason: 'this engine is not in replicated mode' });
    let skipped = 0;
    while (skipped < received.length && replica.merge.seen(origin, received[skipped]!.hlc)) skipped++;
    if (skipped === received.length) return undefined;
    const fresh = received.slice(skipped);
    try {
      // prepareBatch reads each event's type and payload only (and copies the payload it keeps).
      const events = prepareBatch(fresh, this.deps.view, { ...this.deps.prepareOptions, received: true });
      const hlcs = fresh.map((event) => event.hlc);
      replica.clock.receive(hlcs[hlcs.length - 1]!);
      // Group commit whatever the engine's mode: inline commit is for HTTP requests pipelined on one
      // connection; the consumer keeps many received batches in flight, and an fsync on this
      // thread for each one was ~9% of a catch-up.
      const logged = this.logPrepared(events, { origin, hlcs }, 'group');
      return { events, firstSeq: logged.firstSeq, durable: logged.durable, skipped };
    } finally {
      this.deps.nodes.forgetRemembered();
    }
  }

  private logPrepared(events: RawEvent[], stamps: BatchStamps | undefined, commit?: 'group'): { firstSeq: number; durable: Promise<void>; payload: Uint8Array } {
    const { wal, registry } = this.deps;
    const firstSeq = wal.lastSeq + 1;
    const ts = Date.now();
    const payload = encodeChecked(events, ts, stamps);
    let durable: Promise<void>;
    try {
      durable = wal.append(firstSeq, events.length, payload, commit);
    } catch (e) {
      throw this.fail(e);
    }
    let vectorStored = false;
    for (let i = 0; i < events.length; i++) {
      const { type, payload } = events[i]!;
      const event = { seq: firstSeq + i, ts, type, payload } as StoredEvent;
      if (stamps !== undefined) {
        event.hlc = stamps.hlcs[i]!;
        event.origin = stamps.origin;
      }
      registry.apply(event);
      vectorStored ||= type === 'prime.vector.stored';
    }
    this.deps.onApplied(ts, vectorStored);
    return { firstSeq, durable, payload };
  }

  /** Waits for a batch's durability; a failure stops every later write. */
  async durable(written: Promise<void>): Promise<void> {
    try {
      await written;
    } catch (e) {
      throw this.fail(e);
    }
  }

  private fail(e: unknown): Error {
    this.failure ??= e instanceof Error ? e : new Error(String(e));
    return this.failure;
  }
}

/** The batch's WAL payload, within the byte limits for a batch and for one event. */
function encodeChecked(events: readonly RawEvent[], ts: number, stamps: BatchStamps | undefined): Uint8Array {
  const { payload, largestEventBytes, largestEventIndex } = encodeEvents(events, ts, stamps);
  if (payload.byteLength > batchBytesMax) {
    throw mnemoError('BATCH_TOO_LARGE', { size: payload.byteLength, max: batchBytesMax, unit: 'bytes encoded' });
  }
  if (largestEventBytes > eventBytesMax) throw mnemoError('EVENT_TOO_LARGE', { bytes: largestEventBytes, max: eventBytesMax, index: largestEventIndex });
  return payload;
}
