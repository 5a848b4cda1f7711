// Ground truth for k-NN benches: the exact cosine top k by brute force, and recall@k against it.

function normalised(v: Float32Array): Float32Array {
  let sum = 0;
  for (let d = 0; d < v.length; d++) sum += v[d]! * v[d]!;
  const n = Math.sqrt(sum) || 1;
  return v.map((x) => x / n);
}

/** Exact cosine top-k indices into `vectors` for each query, by a full scan over normalised copies. */
export function exactTopK(vectors: readonly Float32Array[], queries: readonly Float32Array[], k: number): number[][] {
  const unit = vectors.map(normalised);
  return queries.map((query) => {
    const q = normalised(query);
    // Keep the k best in a small sorted list: a full sort of n scores per query dominated the run.
    const best: Array<{ index: number; score: number }> = [];
    for (let index = 0; index < unit.length; index++) {
      const v = unit[index]!;
      let dot = 0;
      for (let d = 0; d < v.length; d++) dot += v[d]! * q[d]!;
      if (best.length === k && dot <= best[k - 1]!.score) continue;
      let at = best.length;
      while (at > 0 && dot > best[at - 1]!.score) at--;
      best.splice(at, 0, { index, score: dot });
      if (best.length > k) best.pop();
    }
    return best.map((b) => b.index);
  });
}

/** Share of the true top k that one query's answer found. */
export function recallOfQuery(found: readonly number[], truth: readonly number[]): number {
  const want = new Set(truth);
  return found.filter((index) => want.has(index)).length / truth.length;
}

/** Mean recall over queries. */
export function meanRecall(found: readonly (readonly number[])[], truth: readonly (readonly number[])[]): number {
  return found.reduce((sum, ids, q) => sum + recallOfQuery(ids, truth[q]!), 0) / found.length;
}
