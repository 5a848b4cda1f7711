// seq ↔ time: maps an ISO time to the last seq at or before it, for `asOf` reads by time.

import { Packr } from 'msgpackr';
import { checkpointCheck } from '../src/kernel/errors.js';
import type { StoredEvent } from '../src/kernel/events.js';
import type { Projection } from './projection.js';

const seqTimeCodec = new Packr({ useRecords: false, moreTypes: false });


/**
 * Maps an ISO time to the last seq at or before it. Kept as runs: a new entry only when the
 * running maximum of ts grows, so a bulk load (one ts per batch) costs one entry per batch. Using
 * the running maximum makes "state at time T" a prefix of the log even if the clock stepped back:
 * the events up to the first one stamped after T.
 * A projection so that checkpoints carry it and a restart need not scan the log.
 */
export class SeqTimeIndex implements Projection {
  readonly name = 'seq-time';
  private seqs: number[] = [];
  private times: number[] = [];
  private lastSeq = 0;

  apply(event: StoredEvent): void {
    this.lastSeq = event.seq;
    const top = this.times[this.times.length - 1];
    if (top !== undefined && event.ts <= top) return;
    this.seqs.push(event.seq);
    this.times.push(event.ts);
  }

  /** The last seq whose event (and every earlier one) was stamped at or before `ms`; 0 if none. */
  seqAt(ms: number): number {
    let lo = 0;
    let hi = this.times.length; // first run with time > ms
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= ms) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.times.length) return this.lastSeq;
    return this.seqs[lo]! - 1;
  }

  digest(): string {
    return `${this.lastSeq}:${this.seqs.length}:${this.seqs[this.seqs.length - 1] ?? 0}:${this.times[this.times.length - 1] ?? 0}`;
  }

  async save(): Promise<Uint8Array> {
    return seqTimeCodec.pack({ format: 1, lastSeq: this.lastSeq, seqs: this.seqs, times: this.times });
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = seqTimeCodec.unpack(bytes) as { format: number; lastSeq: number; seqs: number[]; times: number[] };
    checkpointCheck(saved.format === 1 && Array.isArray(saved.seqs) && saved.seqs.length === saved.times.length, 'seq-time', 'seq-time checkpoint format');
    this.lastSeq = saved.lastSeq;
    this.seqs = saved.seqs;
    this.times = saved.times;
  }
}
