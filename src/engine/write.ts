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
import { encodeEvents } from '../kernel/event-codec.js';
import { prepareBatch, type RawEvent, type StateView, type StoredEvent } from '../kernel/events.js';
import { batchBytesMax, eventBytesMax } from '../kernel/limits.js';

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
    const { wal, registry, nodes } = this.deps;
    try {
      const events = prepareBatch(input, this.deps.view, this.deps.prepareOptions);
      const firstSeq = wal.lastSeq + 1;
      const ts = Date.now();
      const payload = encodeChecked(events, ts);
      let durable: Promise<void>;
      try {
        durable = wal.append(firstSeq, events.length, payload);
      } catch (e) {
        throw this.fail(e);
      }
      let vectorStored = false;
      for (let i = 0; i < events.length; i++) {
        const { type, payload } = events[i]!;
        registry.apply({ seq: firstSeq + i, ts, type, payload } as StoredEvent);
        vectorStored ||= type === 'prime.vector.stored';
      }
      this.deps.onApplied(ts, vectorStored);
      return { events, firstSeq, durable };
    } finally {
      nodes.forgetRemembered();
    }
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
function encodeChecked(events: readonly RawEvent[], ts: number): Uint8Array {
  const { payload, largestEventBytes, largestEventIndex } = encodeEvents(events, ts);
  if (payload.byteLength > batchBytesMax) {
    throw mnemoError('BATCH_TOO_LARGE', { size: payload.byteLength, max: batchBytesMax, unit: 'bytes encoded' });
  }
  if (largestEventBytes > eventBytesMax) throw mnemoError('EVENT_TOO_LARGE', { bytes: largestEventBytes, max: eventBytesMax, index: largestEventIndex });
  return payload;
}
