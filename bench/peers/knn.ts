// The contract every k-NN peer implements for bench/compare-knn.ts: build from the same vectors
// (vector i has label i), then answer k nearest labels for a query vector by cosine.

export interface KnnPeer {
  name: string;
  /** The settings used and why, for BENCHMARKS.md. */
  settings: string;
  /** Brute-force peers are slow per query; the bench times fewer of their queries. */
  exhaustive: boolean;
  build(vectors: readonly Float32Array[]): Promise<void>;
  search(query: Float32Array, k: number): number[] | Promise<number[]>;
  close(): Promise<void>;
}
