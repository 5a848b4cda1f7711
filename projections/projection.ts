// The contract every projection keeps. Projections import only the kernel (src/kernel/) and never
// each other's state directly: registry.ts builds them and hands each the readers it declares.

import type { RawEvent, StoredEvent } from '../src/kernel/events.js';
import type { SavedBytes } from './saved-runs.js';

export interface Projection {
  /** Unique name: the key of this projection's file in a checkpoint and its row in stats. */
  readonly name: string;
  /** Applies one logged event. Synchronous and allocation-light; the event is already validated and durable-or-in-flight. */
  apply(event: StoredEvent): void;
  /** A canonical hash of the logical state: equal states give equal digests whatever order of Map insertion produced them is irrelevant only if the order is itself part of the state. */
  digest(): string;
  /**
   * Serialises the whole state for a checkpoint. `dir`, when given, is the checkpoint directory
   * being written: a projection may also write files named `<its name>.*` there (a native library's
   * own file), which the checkpoint checksums and keeps with the bytes. Everything it saves is
   * read (or copied) before its first await: the checkpoint takes every projection's save at one
   * seq, and appends may run while a save awaits (projections/columns.ts: nextTurn). The bytes may
   * come as runs (saved-runs.ts), which the checkpoint writes one after another into one file.
   */
  save(dir?: string): Promise<SavedBytes>;
  /** Replaces the whole state with one saved by `save` (its runs joined); `dir` is the checkpoint directory holding any files it wrote there. */
  load(bytes: Uint8Array, dir?: string): Promise<void>;
}

/**
 * A projection that comes before the others for events carrying an `hlc` (replicated mode): it
 * merges the event into its own state and returns the events the other projections apply
 * instead, literally. It is built outside projections/ (the merge rules live with replication)
 * and handed to the registry.
 */
export interface EventExpander extends Projection {
  expand(event: StoredEvent & { hlc: string; origin: string }): readonly RawEvent[];
  /** A checkpoint without this projection's part (written before it existed) loads it empty. */
  readonly optionalInCheckpoint: true;
}
