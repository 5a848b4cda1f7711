// Soak: `npm run soak -- --minutes N`. A server (bench/support/soak-server.ts) with background
// checkpoints and compaction takes sustained ingest and concurrent reads over HTTP for N minutes.
// Every sampleMs it records RSS, heap, event-loop lag, file counts and the window's latencies into
// a CSV and, at the end, an SVG chart; then it checks, after the warm-up:
//   RSS grows < 1% an hour (a least-squares line through the RSS floors, see rssFloors),
//   event-loop lag p99 < 20 ms (the worst window) and max < 100 ms (the longest delay), file counts
//   bounded (WAL segments, Parquet files and checkpoints stay under fixed bounds), and no 5xx.
//   Exit 1 when a check fails.
// Load is bounded and paced (events/s and reads/s below), not a throughput test.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { lineChart } from './support/chart.js';
import { compiledPath } from './support/compiled.js';
import { percentiles } from './support/report.js';

export interface SoakOptions {
  minutes: number;
  /** Where soak.csv and soak.svg go. */
  outDir: string;
  /** Events appended per second (batches of batchEvents), paced. */
  eventsPerSecond: number;
  /** Reads per second, spread over readers. */
  readsPerSecond: number;
  sampleMs: number;
  /** Background compaction (WAL segments to Parquet); off only to tell its memory apart from the rest. */
  compaction: boolean;
}

export const soakDefaults: SoakOptions = { minutes: 5, outDir: 'bench/results/soak', eventsPerSecond: 2_000, readsPerSecond: 500, sampleMs: 5_000, compaction: true };
const batchEvents = 100;
/** Live nodes held steady through the run. */
const population = 20_000;
/** Nodes deleted and created per batch (the rest of a batch updates live nodes). */
const churnPerBatch = 10;
const readers = 4;
const warmupFraction = 0.2;
/** RSS is judged by its floor in windows this long (see rssFloors). */
const floorWindowMinutes = 2;
const rssGrowthPerHourMax = 0.01;
const lagP99MsMax = 20;
/** The longest single delay allowed, checkpoints and compaction included (they run every minute or so under the full ingest). */
const lagMaxMsMax = 100;
const walSegmentsMax = 8;
const parquetFilesMax = 10_000;
const checkpointsMax = 3;

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  /** Memory outside the JS heap that V8 knows of (ArrayBuffers: the projections' typed columns, buffers). */
  externalMb: number;
  /** Anonymous resident memory (malloc, V8 heaps, buffers), from /proc/PID/status. */
  rssAnonMb: number;
  /** File-backed resident memory (code, mapped files). */
  rssFileMb: number;
  /** The server's OS threads (worker threads add theirs). */
  threads: number;
  /** The machine's one-minute load average (the soak shares its cores with whatever else runs). */
  load1: number;
  lagP99Ms: number;
  /** The window's longest event-loop delay. */
  lagMaxMs: number;
  /** The log's fdatasyncs in the window (`mnemo serve` commits inline: each holds the event loop): p99 and longest. */
  fsyncP99Ms: number;
  fsyncMaxMs: number;
  walSegments: number;
  parquetFiles: number;
  checkpoints: number;
  /** Compaction runs finished so far (a window where it moves held a run's end, and its start within a few seconds before). */
  compactionRuns: number;
  /** Checkpoints written so far by the server. */
  checkpointsWritten: number;
  events: number;
  writeP99Ms: number;
  readP99Ms: number;
  errors5xx: number;
  /** 503 OVERLOADED answers (load shedding, with Retry-After): counted, not failures. */
  shed503: number;
  /** Requests whose connection closed before an answer (a shed connection a client had already reused): sent again. */
  dropped: number;
}

export interface SoakResult {
  samples: Sample[];
  checks: Array<{ name: string; ok: boolean; value: string }>;
  ok: boolean;
}

export async function runSoak(options: SoakOptions, log: (line: string) => void = console.log): Promise<SoakResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-soak-'));
  const child = spawn(process.execPath, [compiledPath('bench/support/soak-server.js'), dataDir, String(4 * 1024 * 1024), String(50_000), options.compaction ? 'on' : 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /at (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`soak server exited with ${code}`)));
    });
    const window = { writes: [] as number[], reads: [] as number[], errors5xx: 0, shed: 0, dropped: 0 };
    // A steady state, so memory can be judged: a live population of `population` nodes, each batch
    // deleting the oldest few (their edges cascade), creating as many new ones linked to a live node,
    // and updating others. The log grows on disk; the live state does not.
    let lo = 0;
    let hi = 0;
    for (; hi < population; hi += 1_000) {
      const events = Array.from({ length: 1_000 }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:soak:${hi + i}`, type: 'soak', properties: { n: hi + i, name: `soak ${hi + i}` } } }));
      const response = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      if (response.status !== 200) throw new Error(`soak: the population load was refused with ${response.status}`);
    }
    let written = hi;
    // The run's minutes start once the population is in (its load takes seconds, more on a busy machine).
    const endAt = Date.now() + options.minutes * 60_000;
    const live = (): number => lo + Math.floor(Math.random() * (hi - lo));
    const writer = (async () => {
      const pauseMs = (1000 * batchEvents) / options.eventsPerSecond;
      while (Date.now() < endAt) {
        const started = performance.now();
        const events: unknown[] = [];
        for (let i = 0; i < churnPerBatch; i++) events.push({ type: 'prime.node.deleted', payload: { id: `node:soak:${lo + i}` } });
        const nextLo = lo + churnPerBatch;
        const pickLive = (top: number): number => nextLo + Math.floor(Math.random() * (top - nextLo));
        for (let i = 0; i < churnPerBatch; i++) {
          const n = hi + i;
          events.push({ type: 'prime.node.created', payload: { id: `node:soak:${n}`, type: 'soak', properties: { n, name: `soak ${n}` } } });
          events.push({ type: 'prime.edge.created', payload: { source: `node:soak:${n}`, target: `node:soak:${pickLive(hi)}`, relation: 'after' } });
        }
        while (events.length < batchEvents) events.push({ type: 'prime.node.updated', payload: { id: `node:soak:${pickLive(hi + churnPerBatch)}`, properties: { touched: Date.now() } } });
        const response = await fetchCounted(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) }, window);
        const body = response === null ? new ArrayBuffer(0) : await response.arrayBuffer();
        window.writes.push(performance.now() - started);
        if (response === null) continue; // the connection dropped: send the same batch again
        if (response.status === 200) {
          // Only an applied batch moves the live window (a shed one is sent again, as a client would).
          lo = nextLo;
          hi += churnPerBatch;
          written += events.length;
        } else if (response.status === 503) window.shed++;
        else if (response.status >= 500) window.errors5xx++;
        else throw new Error(`soak: a batch was refused with ${response.status}: ${Buffer.from(body).toString()}`);
        await sleep(Math.max(0, pauseMs - (performance.now() - started)));
      }
    })();
    const readLoop = async (reader: number): Promise<void> => {
      const pauseMs = (1000 * readers) / options.readsPerSecond;
      for (let i = 0; Date.now() < endAt; i++) {
        const started = performance.now();
        const n = live();
        const path = (i + reader) % 3 === 0 ? `/api/v1/prime/nodes/node:soak:${n}` : (i + reader) % 3 === 1 ? `/api/v1/prime/nodes/node:soak:${n}/neighbors` : '/health';
        const response = await fetchCounted(`${url}${path}`, {}, window);
        if (response === null) continue;
        await response.arrayBuffer();
        window.reads.push(performance.now() - started);
        if (response.status === 503) window.shed++;
        else if (response.status >= 500) window.errors5xx++;
        await sleep(Math.max(0, pauseMs - (performance.now() - started)));
      }
    };
    const reading = Promise.all(Array.from({ length: readers }, (_, r) => readLoop(r)));
    const samples: Sample[] = [];
    const startedAt = Date.now();
    while (Date.now() < endAt) {
      await sleep(Math.min(options.sampleMs, Math.max(0, endAt - Date.now())));
      const stats = (await (await fetch(`${url}/api/v1/prime/stats`)).json()) as Record<string, any>;
      samples.push({
        minute: (Date.now() - startedAt) / 60_000,
        rssMb: stats.memory.rss_bytes / 2 ** 20,
        heapMb: stats.memory.heap_used_bytes / 2 ** 20,
        externalMb: stats.memory.external_bytes / 2 ** 20,
        ...processStatus(child.pid!),
        load1: loadavg()[0]!,
        lagP99Ms: stats.event_loop_lag_ms.p99,
        lagMaxMs: stats.event_loop_lag_ms.max,
        fsyncP99Ms: stats.wal_fsync_ms.p99,
        fsyncMaxMs: stats.wal_fsync_ms.max,
        walSegments: stats.wal.segments,
        parquetFiles: stats.compaction.parquet_files,
        checkpoints: existsSync(join(dataDir, 'checkpoints')) ? readdirSync(join(dataDir, 'checkpoints')).length : 0,
        compactionRuns: stats.compaction.runs,
        checkpointsWritten: stats.checkpoint.written,
        events: stats.last_seq,
        writeP99Ms: window.writes.length > 0 ? percentiles(window.writes).p99 : 0,
        readP99Ms: window.reads.length > 0 ? percentiles(window.reads).p99 : 0,
        errors5xx: window.errors5xx,
        shed503: window.shed,
        dropped: window.dropped,
      });
      const s = samples[samples.length - 1]!;
      log(`soak ${s.minute.toFixed(2)} min: ${s.events} events, rss ${s.rssMb.toFixed(1)} MB, anon ${s.rssAnonMb.toFixed(1)} MB, threads ${s.threads}, load ${s.load1.toFixed(1)}, heap ${s.heapMb.toFixed(1)} MB, external ${s.externalMb.toFixed(1)} MB, lag p99 ${s.lagP99Ms} ms max ${s.lagMaxMs} ms, fsync p99 ${s.fsyncP99Ms} ms max ${s.fsyncMaxMs} ms, write p99 ${s.writeP99Ms.toFixed(1)} ms, read p99 ${s.readP99Ms.toFixed(1)} ms, files ${s.walSegments}/${s.parquetFiles}/${s.checkpoints}`);
      window.writes = [];
      window.reads = [];
      window.errors5xx = 0;
      window.shed = 0;
      window.dropped = 0;
    }
    await Promise.all([writer, reading]);
    const result = judge(samples);
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, 'soak.csv'), toCsv(samples));
    writeFileSync(join(options.outDir, 'soak.svg'), chart(samples));
    return result;
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function judge(samples: Sample[]): SoakResult {
  const after = samples.slice(Math.floor(samples.length * warmupFraction));
  const floors = rssFloors(after);
  const slope = slopeOf(floors.map((f) => f.minute / 60), floors.map((f) => f.rssMb)); // MB per hour
  const meanFloor = floors.reduce((a, f) => a + f.rssMb, 0) / Math.max(1, floors.length);
  const growth = meanFloor > 0 ? slope / meanFloor : 0;
  const worstLag = Math.max(0, ...after.map((s) => s.lagP99Ms));
  const longestLag = Math.max(0, ...after.map((s) => s.lagMaxMs));
  // The floor under the lag: an inline fdatasync holds the loop for as long as the disk takes.
  const overP99 = after.filter((s) => s.lagP99Ms >= lagP99MsMax);
  const overMax = after.filter((s) => s.lagMaxMs >= lagMaxMsMax);
  const fsyncFloor = `the log's fdatasync (on the loop) in the same windows: worst window p99 ${Math.max(0, ...after.map((s) => s.fsyncP99Ms))} ms, longest ${Math.max(0, ...after.map((s) => s.fsyncMaxMs))} ms`;
  const meanLoad = (after.reduce((a, s) => a + s.load1, 0) / Math.max(1, after.length)).toFixed(1);
  const maxWal = Math.max(0, ...samples.map((s) => s.walSegments));
  const maxParquet = Math.max(0, ...samples.map((s) => s.parquetFiles));
  const maxCheckpoints = Math.max(0, ...samples.map((s) => s.checkpoints));
  const errors = samples.reduce((n, s) => n + s.errors5xx, 0);
  const checks = [
    { name: `RSS growth after warm-up < ${rssGrowthPerHourMax * 100}%/hour`, ok: growth < rssGrowthPerHourMax, value: `${(growth * 100).toFixed(2)}%/hour (${slope.toFixed(1)} MB/hour through ${floors.length} ${floorWindowMinutes}-minute floors, mean ${meanFloor.toFixed(0)} MB)` },
    { name: `event-loop lag p99 < ${lagP99MsMax} ms`, ok: worstLag < lagP99MsMax, value: `worst window ${worstLag} ms, median window ${percentiles(after.map((s) => s.lagP99Ms)).p50} ms, ${after.length - overP99.length} of ${after.length} windows under; of those over, ${overP99.filter((s) => s.fsyncP99Ms >= lagP99MsMax).length} had an fdatasync p99 over it too; ${fsyncFloor}; load average ${meanLoad} on ${availableParallelism()} cores` },
    { name: `event-loop lag max < ${lagMaxMsMax} ms`, ok: longestLag < lagMaxMsMax, value: `longest ${longestLag} ms, median window's longest ${percentiles(after.map((s) => s.lagMaxMs)).p50} ms, ${after.length - overMax.length} of ${after.length} windows under; of those over, ${overMax.filter((s) => s.fsyncMaxMs >= lagMaxMsMax).length} held an fdatasync over it too; load average ${meanLoad}` },
    { name: 'file counts bounded', ok: maxWal <= walSegmentsMax && maxParquet <= parquetFilesMax && maxCheckpoints <= checkpointsMax, value: `max ${maxWal} WAL segments, ${maxParquet} Parquet files, ${maxCheckpoints} checkpoint dirs` },
    { name: 'no 5xx (but documented 503 shedding)', ok: errors === 0, value: `${errors} (and ${samples.reduce((n, s) => n + s.shed503, 0)} shed with 503, ${samples.reduce((n, s) => n + s.dropped, 0)} dropped connections retried)` },
  ];
  return { samples, checks, ok: checks.every((c) => c.ok) };
}

/**
 * The least RSS of each `floorWindowMinutes` window: what stays resident. A compaction run lifts RSS
 * by ~100 MB for some seconds (its worker thread's heap and buffers), so a slope through every
 * sample follows where the last spikes happened to fall; the floors do not.
 */
function rssFloors(samples: Sample[]): Array<{ minute: number; rssMb: number }> {
  const windows = new Map<number, Sample[]>();
  for (const s of samples) {
    const key = Math.floor(s.minute / floorWindowMinutes);
    windows.set(key, [...(windows.get(key) ?? []), s]);
  }
  return [...windows.values()].map((w) => w.reduce((a, b) => (b.rssMb < a.rssMb ? b : a))).map((s) => ({ minute: s.minute, rssMb: s.rssMb }));
}

/** Least-squares slope of y over x. */
function slopeOf(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i]! - mx) * (y[i]! - my);
    den += (x[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function toCsv(samples: Sample[]): string {
  const columns = Object.keys(samples[0] ?? { minute: 0 }) as Array<keyof Sample>;
  return [columns.join(','), ...samples.map((s) => columns.map((c) => String(s[c])).join(','))].join('\n') + '\n';
}

function chart(samples: Sample[]): string {
  const series = (name: string, pick: (s: Sample) => number) => ({ name, points: samples.map((s) => ({ x: s.minute, y: pick(s) })) });
  return lineChart({
    title: 'Soak: memory, event-loop lag and latency over time',
    xLabel: 'minutes',
    yLabel: 'MB / ms',
    series: [series('RSS (MB)', (s) => s.rssMb), series('heap used (MB)', (s) => s.heapMb), series('external (MB)', (s) => s.externalMb), series('event-loop lag p99 (ms)', (s) => s.lagP99Ms), series('event-loop lag max (ms)', (s) => s.lagMaxMs), series('fdatasync max (ms)', (s) => s.fsyncMaxMs), series('write p99 (ms)', (s) => s.writeP99Ms), series('read p99 (ms)', (s) => s.readP99Ms)],
  });
}

/** RssAnon, RssFile and Threads of process `pid` (Linux /proc; zeros elsewhere). */
function processStatus(pid: number): { rssAnonMb: number; rssFileMb: number; threads: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssAnonMb: 0, rssFileMb: 0, threads: 0 };
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { rssAnonMb: field('RssAnon') / 1024, rssFileMb: field('RssFile') / 1024, threads: field('Threads') };
}

/** fetch, but a connection closed under the request counts as dropped (null) instead of failing the run. */
async function fetchCounted(url: string, init: RequestInit, window: { dropped: number }): Promise<Response | null> {
  try {
    return await fetch(url, init);
  } catch {
    window.dropped++;
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string' }, out: { type: 'string' }, compaction: { type: 'string' } }, strict: true });
  const minutes = values.minutes === undefined ? soakDefaults.minutes : Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes: expected a positive number, got '${values.minutes}'`);
  const result = await runSoak({ ...soakDefaults, minutes, outDir: values.out ?? soakDefaults.outDir, compaction: values.compaction !== 'off' });
  for (const check of result.checks) console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.value}`);
  process.exitCode = result.ok ? 0 : 1;
}

if (process.argv[1]?.endsWith('soak.js')) await main();
