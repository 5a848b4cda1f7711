// Which HNSW defaults hold recall@10 ≥ 0.95 on data they were not tuned on? Bare hnswlib-node
// (cosine, M 16) built with efConstruction 100 and 200 over several shapes of data — the engine
// bench's clusters, a lower-dimensional set with tighter clusters, many small clusters, uniform
// noise — and searched at several ef, each against an exact scan. `npm run bench:knn-defaults`.

import hnswlib from 'hnswlib-node';

import { exactTopK, recallOfQuery } from './support/knn-truth.js';
import { seededRandom } from './support/random.js';
import { percentiles } from './support/report.js';
import { clusteredVectors } from './vector-index.js';

export interface Shape {
  name: string;
  dim: number;
  make(count: number, seed: number): Float32Array[];
}

export const shapes: Shape[] = [
  { name: '384-d, 100 clusters, spread 0.5 (the engine bench)', dim: 384, make: (n, seed) => clusteredVectors(n, 384, 100, seed, 0.5) },
  { name: '32-d, 50 tight clusters, spread 0.15', dim: 32, make: (n, seed) => clusteredVectors(n, 32, 50, seed, 0.15) },
  { name: '64-d, 1,000 clusters, spread 0.3', dim: 64, make: (n, seed) => clusteredVectors(n, 64, 1_000, seed, 0.3) },
  { name: '16-d uniform noise', dim: 16, make: (n, seed) => uniformVectors(n, 16, seed) },
  // Not a shape embeddings take (their intrinsic dimension is far lower), but the hardest case:
  // measured for the ceiling, not held to the 0.95 goal (see docs/architecture.md, k-NN defaults).
  { name: '128-d uniform noise', dim: 128, make: (n, seed) => uniformVectors(n, 128, seed) },
];

function uniformVectors(n: number, dim: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => random() * 2 - 1));
}

export interface KnnDefaultsOptions {
  count: number;
  queries: number;
  efConstructions: number[];
  efs: number[];
}

export interface KnnDefaultsRow {
  shape: string;
  efConstruction: number;
  ef: number;
  recall: number;
  p50Us: number;
  p99Us: number;
  buildSeconds: number;
}

const k = 10;
const m = 16;
const seed = 7;

export function runKnnDefaults(options: KnnDefaultsOptions, log: (line: string) => void = console.log, only?: (shape: Shape) => boolean): KnnDefaultsRow[] {
  const rows: KnnDefaultsRow[] = [];
  for (const shape of shapes.filter(only ?? (() => true))) {
    const all = shape.make(options.count + options.queries, seed);
    const vectors = all.slice(0, options.count);
    const queries = all.slice(options.count);
    const truth = exactTopK(vectors, queries, k);
    for (const efConstruction of options.efConstructions) {
      const started = performance.now();
      const index = new hnswlib.HierarchicalNSW('cosine', shape.dim);
      index.initIndex(vectors.length, m, efConstruction, 100);
      vectors.forEach((v, i) => index.addPoint(Array.from(v), i));
      const buildSeconds = (performance.now() - started) / 1000;
      const asArrays = queries.map((q) => Array.from(q));
      for (const ef of options.efs) {
        index.setEf(ef);
        const times: number[] = [];
        let recall = 0;
        asArrays.forEach((q, i) => {
          const t = performance.now();
          const found = index.searchKnn(q, k).neighbors;
          times.push((performance.now() - t) * 1000);
          recall += recallOfQuery(found, truth[i]!);
        });
        const { p50, p99 } = percentiles(times);
        const row = { shape: shape.name, efConstruction, ef, recall: recall / queries.length, p50Us: p50, p99Us: p99, buildSeconds };
        rows.push(row);
        log(`${shape.name} | efC ${efConstruction} | ef ${ef} | recall@10 ${row.recall.toFixed(3)} | p50 ${p50.toFixed(1)} µs | build ${buildSeconds.toFixed(1)} s`);
      }
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith('knn-defaults.js')) {
  const quick = process.argv.includes('--quick');
  runKnnDefaults({ count: quick ? 5_000 : 50_000, queries: 200, efConstructions: [100, 200], efs: [64, 96, 128, 200] });
}
