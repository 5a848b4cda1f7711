// Drives HNSW insertion off the append path. Inserting one 384-d vector costs ~0.5–1.3 ms, so the
// indexer works in slices of `vectorIndexSliceMs` and yields to the event loop between them
// (setImmediate lets pending I/O and timers run), keeping stalls under 10 ms.

import { vectorIndexSliceMs, type VectorIndex } from '../../projections/vector-index.js';

/** While a checkpoint is saving the index, inserts are held; poll again after this long instead of spinning. */
const heldRetryMs = 5;

export class BackgroundIndexer {
  private scheduled = false;
  private stopped = false;
  private waiters: Array<() => void> = [];
  private indexedTotal = 0;
  private busyMs = 0;

  constructor(private readonly vectors: VectorIndex) {}

  /** Starts (or keeps) the loop running while vectors wait to be indexed. */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    if (this.vectors.pendingCount === 0) {
      this.releaseWaiters();
      return;
    }
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  private kickLater(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setTimeout(() => this.slice(), heldRetryMs);
  }

  whenIdle(): Promise<void> {
    if (this.vectors.pendingCount === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  /** Vectors indexed per second of indexing work, over the life of this engine. */
  get ratePerSecond(): number {
    return this.busyMs === 0 ? 0 : Math.round((this.indexedTotal * 1000) / this.busyMs);
  }

  stop(): void {
    this.stopped = true;
    this.releaseWaiters();
  }

  private slice(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const started = performance.now();
    const indexed = this.vectors.indexPending(vectorIndexSliceMs);
    this.indexedTotal += indexed;
    this.busyMs += performance.now() - started;
    if (indexed === 0 && this.vectors.pendingCount > 0) this.kickLater();
    else this.kick();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
