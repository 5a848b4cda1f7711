// Shared benchmark plumbing: latency percentiles, the machine line, markdown tables, result files.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Percentiles {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

/** Percentiles of samples (any unit); sorts a copy. */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const sum = sorted.reduce((s, x) => s + x, 0);
  return { p50: at(0.5), p99: at(0.99), mean: sum / Math.max(1, sorted.length), count: sorted.length };
}

/** Per-call times in µs, and a checksum of the results. */
export interface Timed {
  samples: number[];
  checksum: number;
}

/** Times `op` once per call, `count` calls, in microseconds each. */
export function timeEachUs(count: number, op: (i: number) => unknown): Timed {
  const samples = new Array<number>(count);
  let checksum = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const result = op(i);
    samples[i] = (performance.now() - started) * 1000;
    checksum = (checksum + checksumOf(result)) % 1_000_000_007;
  }
  return { samples, checksum };
}

/**
 * Times each of `ops` `count` calls, in ten alternating blocks (a's first tenth, b's, a's second…),
 * so that noise on this shared machine falls on every subject alike instead of on whichever ran
 * during it. Call i of every op gets the same i.
 */
export function timeAlternatingUs(count: number, ops: ReadonlyArray<(i: number) => unknown>): Timed[] {
  const results = ops.map((): Timed => ({ samples: [], checksum: 0 }));
  const block = Math.max(1, Math.ceil(count / 10));
  for (let start = 0; start < count; start += block) {
    const calls = Math.min(block, count - start);
    ops.forEach((op, k) => {
      const run = timeEachUs(calls, (i) => op(start + i));
      for (const sample of run.samples) results[k]!.samples.push(sample);
      results[k]!.checksum = (results[k]!.checksum + run.checksum) % 1_000_000_007;
    });
  }
  return results;
}

/** The item with the highest `score`, the first of equals: a subject's best round (other work on a shared machine only slows a round down). */
export function bestBy<T>(items: readonly T[], score: (item: T) => number): T {
  return items.reduce((best, item) => (score(item) > score(best) ? item : best));
}

/** A cheap fingerprint of a result so the work cannot be optimised away and stays comparable across runs. */
export function checksumOf(result: unknown): number {
  if (result === null || result === undefined) return 0;
  if (typeof result === 'number') return Math.round(result * 1000) % 1_000_000_007;
  if (typeof result === 'string') return result.length;
  if (Array.isArray(result)) return result.length;
  if (typeof result === 'object' && 'length' in result) return Number((result as { length: number }).length);
  if (typeof result === 'object' && 'total' in result) return Number((result as { total: number }).total);
  return 1;
}

export function machineLine(): string {
  const cpu = cpus();
  return `${cpu.length} cores, ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function fmt(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

/** bench/ in the source tree: beside src/ in the nearest ancestor that has both (this file runs from dist/bench/support, bench/dist/bench/support or the source). */
function sourceBenchDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'src')) && existsSync(join(dir, 'bench', 'results'))) return join(dir, 'bench');
  }
  throw new Error('bench: cannot find the source tree (no src/ beside bench/results/ above this file)');
}

const benchDir = sourceBenchDir();

/** Writes `bench/results/<name>.md` in the source tree. */
export function writeResult(name: string, markdown: string): string {
  const path = join(benchDir, 'results', `${name}.md`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, markdown);
  return path;
}

export function hasFlag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
