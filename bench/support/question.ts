// The shape every compare-* bench returns, so bench/run-all.ts can write one JSON file and one
// BENCHMARKS.md from all of them: rows of (subject, data size, p50, p99, throughput), the settings
// each peer ran with and why, the goals with met / not met, and a checksum of the work done.

export type Role = 'mnemo' | 'peer' | 'floor';

export interface Row {
  subject: string;
  role: Role;
  /** Data size in the question's `sizeUnit` (nodes, vectors, events, connections). */
  size: number;
  /** Latency percentiles in the question's `latencyUnit`; NaN when the row has none. */
  p50: number;
  p99: number;
  /** Operations (or events) per second; NaN when not measured. */
  throughput: number;
  /** Anything a reader needs beside the numbers, e.g. "recall@10 0.982". */
  note?: string;
}

export interface Goal {
  text: string;
  /** null when the run did not measure what the goal needs (e.g. a quick run below the goal's size). */
  met: boolean | null;
  evidence: string;
}

export interface QuestionResult {
  id: string;
  title: string;
  sizeUnit: string;
  latencyUnit: 'µs' | 'ms';
  /** Which number the "mnemo ×" column and the chart compare. */
  compareBy: 'p50' | 'throughput';
  throughputUnit: string;
  rows: Row[];
  /** Each peer's settings and why they are the ones its docs recommend. */
  settings: string[];
  goals: Goal[];
  /** Peers that could not run here, with the reason. */
  skipped: string[];
  notes: string[];
  /** Deterministic for fixed sizes: the same data and queries give the same checksum on every run. */
  checksum: number;
}

export interface QuestionOptions {
  sizes: number[];
  /** Timed operations per subject and size (latency questions). */
  queries: number;
  log: (line: string) => void;
}

/** Adds a value to a running checksum modulo a large prime, so sums of counts stay exact integers. */
export function addChecksum(sum: number, value: number): number {
  return (sum + Math.round(value)) % 1_000_000_007;
}

export function countLabel(n: number): string {
  return n.toLocaleString('en-US');
}

/** Times an operation that may return a promise (Orama, LanceDB), `count` calls, µs each. */
export async function timeEachAsyncUs(count: number, op: (i: number) => unknown): Promise<{ samples: number[] }> {
  const samples = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op(i);
    samples[i] = (performance.now() - started) * 1000;
  }
  return { samples };
}


/** Frees what the previous subject left behind, so one subject's garbage is not the next one's pause. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
