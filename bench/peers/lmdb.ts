// lmdb-js, the memory-mapped key-value store, used the way its README recommends for writes:
// one `transaction()` per batch (an atomic, batched commit on its write thread) and its default
// durability, where the commit promise resolves once the data is flushed to disk. We also await
// `db.flushed` so the acknowledgement is unambiguously after the sync, as mnemo's `fsync` mode is.
import { open, type RootDatabase } from 'lmdb';

import type { RawEvent } from '../../src/index.js';

export class LmdbStore {
  private readonly db: RootDatabase<unknown, string>;

  constructor(path: string) {
    // Default options on purpose: msgpack values (lmdb-js's default encoding), sync commits
    // (noSync false), overlappingSync on (its default on Linux).
    this.db = open<unknown, string>({ path });
  }

  /** Nodes and edges keyed by id, the whole batch in one durable commit. */
  async append(events: readonly RawEvent[]): Promise<void> {
    await this.db.transaction(() => {
      for (const event of events) {
        const payload = event.payload as { id: string };
        void this.db.put(payload.id, payload);
      }
    });
    await this.db.flushed;
  }

  count(): number {
    return this.db.getCount();
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
