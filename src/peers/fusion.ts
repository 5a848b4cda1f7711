// Merging per-machine rankings. Scores from different machines are not comparable (each
// normalises BM25 by its own best hit, each has its own recency clock), ranks are: reciprocal rank
// fusion gives each result Σ 1/(k + rank) over the rankings that hold it. A result with the same
// id on several machines (a memory both hold) is one result, credited by each.

/** Cormack et al.'s constant: damps the head of each ranking so one machine's first hit does not drown the others. */
export const rrfK = 60;

export interface Ranking<T extends { id: string; score: number }> {
  origin: string;
  /** Best first. */
  results: readonly T[];
}

export type Fused<T> = T & { origin: string; rrf: number };

/** The `limit` best results over every ranking, best first; ties go to the higher own score, then to the earlier ranking (local first), then by id. */
export function fuseRankings<T extends { id: string; score: number }>(rankings: ReadonlyArray<Ranking<T>>, limit: number): Array<Fused<T>> {
  const fused = new Map<string, { row: Fused<T>; order: number }>();
  rankings.forEach((ranking, order) => {
    ranking.results.forEach((result, rank) => {
      const credit = 1 / (rrfK + rank + 1);
      const known = fused.get(result.id);
      if (known === undefined) {
        fused.set(result.id, { row: { ...result, origin: ranking.origin, rrf: credit }, order });
        return;
      }
      known.row.rrf += credit;
    });
  });
  return [...fused.values()]
    .sort((a, b) => b.row.rrf - a.row.rrf || b.row.score - a.row.score || a.order - b.order || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0))
    .slice(0, limit)
    .map((entry) => entry.row);
}
