// Orama, the in-process JavaScript search engine: a `vector[dim]` schema field, documents added
// with insertMultiple (its batch API), and `mode: 'vector'` search, which scans every stored vector
// (a brute-force cosine scan: Orama has no approximate index).
import { create, insertMultiple, search } from '@orama/orama';

import type { KnnPeer } from './knn.js';

/**
 * Orama drops hits below a cosine `similarity` threshold (default 0.8) before sorting. On the
 * benchmark's clustered data the true top 10 sit near 0.8, so 0.5 keeps them all (recall@10 is
 * reported) while sparing Orama a sort of every unrelated document.
 */
const similarityThreshold = 0.5;
/** insertMultiple's batch size (Orama's default is 1000). */
const insertBatch = 1000;

export function oramaPeer(dim: number): KnnPeer {
  type Db = Awaited<ReturnType<typeof makeDb>>;
  const makeDb = () => create({ schema: { embedding: `vector[${dim}]` } as const });
  let db: Db | undefined;
  return {
    name: 'Orama (brute force)',
    settings: `Orama: schema { embedding: 'vector[${dim}]' }, insertMultiple in batches of ${insertBatch}, search mode 'vector' with similarity ≥ ${similarityThreshold} (its default 0.8 would cut true neighbours here) and limit k; Orama scans every vector on each query.`,
    exhaustive: true,
    async build(vectors) {
      db = await makeDb();
      const docs = vectors.map((v, i) => ({ id: String(i), embedding: Array.from(v) }));
      await insertMultiple(db, docs, insertBatch);
    },
    async search(query, k) {
      const result = await search(db!, { mode: 'vector', vector: { value: query, property: 'embedding' }, similarity: similarityThreshold, limit: k, includeVectors: false });
      return result.hits.map((hit) => Number(hit.id));
    },
    async close() {
      db = undefined;
    },
  };
}
