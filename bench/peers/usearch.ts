// USearch (unum-cloud), a native HNSW with SIMD distance kernels. Set up as its README shows:
// one Index with the metric, connectivity and expansion factors, vectors added in one batch call
// (it parallelises the build across cores), single-threaded queries to compare per-query latency.
import { createRequire } from 'node:module';

import type usearchModule from 'usearch';

import { vectorIndexEfConstructionDefault, vectorIndexEfSearchDefault, vectorIndexMDefault } from '../../projections/vector-index.js';
import type { KnnPeer } from './knn.js';

// usearch 2.x's ESM entry cannot find its own native build (its directory walk recurses until the
// stack overflows), while the CommonJS entry loads the prebuilt addon fine.
const { Index, MetricKind, ScalarKind } = createRequire(import.meta.url)('usearch') as typeof usearchModule;

/** One thread per query: mnemo answers on the event loop, one query at a time. */
const searchThreads = 1;

export function usearchPeer(dim: number): KnnPeer {
  let index: InstanceType<typeof Index> | undefined;
  return {
    name: 'usearch',
    settings: `usearch: metric cos, f32, connectivity ${vectorIndexMDefault}, expansion_add ${vectorIndexEfConstructionDefault}, expansion_search ${vectorIndexEfSearchDefault} (the same graph parameters as mnemo's HNSW, so recall is comparable); batch add on all cores (its recommended bulk path), ${searchThreads} thread per query.`,
    exhaustive: false,
    async build(vectors) {
      index = new Index({
        dimensions: dim,
        metric: MetricKind.Cos,
        quantization: ScalarKind.F32,
        connectivity: vectorIndexMDefault,
        expansion_add: vectorIndexEfConstructionDefault,
        expansion_search: vectorIndexEfSearchDefault,
        multi: false,
      });
      const flat = new Float32Array(vectors.length * dim);
      vectors.forEach((v, i) => flat.set(v, i * dim));
      const keys = BigUint64Array.from(vectors, (_, i) => BigInt(i));
      index.add(keys, flat, 0);
    },
    search(query, k) {
      const found = index!.search(query, k, searchThreads);
      return Array.from(found.keys, (key) => Number(key));
    },
    async close() {
      index = undefined;
    },
  };
}
