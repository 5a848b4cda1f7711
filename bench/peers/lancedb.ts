// LanceDB, the embedded columnar vector database. Loaded lazily so the comparison still runs where
// the package is not installed. At 100K rows its docs say a flat (exhaustive) search is fast enough
// without an index, and it is exact; an IVF-PQ index would trade recall for speed and take minutes to
// train, so the bench uses the flat search and says so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { KnnPeer } from './knn.js';

type LanceModule = typeof import('@lancedb/lancedb');
type LanceTable = Awaited<ReturnType<Awaited<ReturnType<LanceModule['connect']>>['createTable']>>;

export async function loadLancedb(): Promise<LanceModule | string> {
  try {
    return await import('@lancedb/lancedb');
  } catch (e) {
    return `@lancedb/lancedb could not be loaded here: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function lancedbPeer(lance: LanceModule): KnnPeer {
  let dir: string | undefined;
  let table: LanceTable | undefined;
  return {
    name: 'LanceDB (flat)',
    settings: 'LanceDB: a local table (id, vector), created in one call from all rows; vectorSearch with distanceType cosine and limit k, no ANN index (flat, exact scan, as its docs advise below ~100K rows). Version 0.31.0: the newest whose platform packages are all on the npm registry (later ones break `npm ci`); its apache-arrow peer range (≤ 18.1) is overridden to the project\'s 21.x, which it reads and writes correctly here.',
    exhaustive: true,
    async build(vectors) {
      dir = await mkdtemp(join(tmpdir(), 'mnemo-bench-lance-'));
      const db = await lance.connect(dir);
      table = await db.createTable('vectors', vectors.map((v, i) => ({ id: i, vector: Array.from(v) })));
    },
    async search(query, k) {
      const rows = (await table!.vectorSearch(query).distanceType('cosine').limit(k).select(['id', '_distance']).toArray()) as Array<{ id: number }>;
      return rows.map((r) => Number(r.id));
    },
    async close() {
      table?.close();
      table = undefined;
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
