// Bare hnswlib-node, the floor for mnemo's `similar`: the same library mnemo's vector projection
// wraps, built with the same M / efConstruction / efSearch / seed, queried with plain number[]
// (the only input hnswlib-node takes) and no engine around it.
import hnswlib from 'hnswlib-node';

import { vectorIndexEfConstructionDefault, vectorIndexEfSearchDefault, vectorIndexMDefault } from '../../projections/vector-index.js';
import type { KnnPeer } from './knn.js';

/** hnswlib's default seed, the one mnemo's projection also passes. */
const randomSeed = 100;

export function bareHnswlib(dim: number): KnnPeer {
  let index: hnswlib.HierarchicalNSW | undefined;
  const point = new Array<number>(dim).fill(0);
  const fill = (v: Float32Array): number[] => {
    for (let d = 0; d < dim; d++) point[d] = v[d]!;
    return point;
  };
  return {
    name: 'bare hnswlib-node (floor)',
    settings: `bare hnswlib-node: cosine, M ${vectorIndexMDefault}, efConstruction ${vectorIndexEfConstructionDefault}, ef ${vectorIndexEfSearchDefault}, seed ${randomSeed}: exactly mnemo's projection settings, so the gap is the engine's own cost.`,
    exhaustive: false,
    async build(vectors) {
      index = new hnswlib.HierarchicalNSW('cosine', dim);
      index.initIndex(vectors.length, vectorIndexMDefault, vectorIndexEfConstructionDefault, randomSeed);
      index.setEf(vectorIndexEfSearchDefault);
      vectors.forEach((v, i) => index!.addPoint(fill(v), i));
    },
    search(query, k) {
      return index!.searchKnn(fill(query), k).neighbors;
    },
    async close() {
      index = undefined;
    },
  };
}
