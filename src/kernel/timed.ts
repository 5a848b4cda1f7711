// A route's answer with extra Server-Timing hops measured inside the query (the embedder's time,
// as `embed`), so a client sees where a text query's time went.

export class TimedResult {
  constructor(
    readonly value: unknown,
    /** Hop name to milliseconds, reported after parse and query. */
    readonly hops: Readonly<Record<string, number>>,
  ) {}
}
