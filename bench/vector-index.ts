// How fast does the vector index build and answer, and how close to bare hnswlib-node is it?
//
// Builds the VectorIndex projection over clustered vectors in background-loop-sized slices
// (measuring throughput and the longest slice, i.e. the worst event-loop stall), then times
// k=10 searches and their recall@10 against exact brute force, side by side with bare
// hnswlib-node built with the same M / efConstruction / seed in the same process.
//
//   npx tsc -p tsconfig.json && node dist/bench/vector-index.js [--quick] [--n N] [--ef 32,64,100]
//   --quick: 10K vectors instead of 100K. Writes bench/results/vector-index.md unless --no-write.

import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import hnswlib from 'hnswlib-node';
import {
  VectorIndex,
  vectorIndexEfConstructionDefault,
  vectorIndexEfSearchDefault,
  vectorIndexMDefault,
  vectorIndexSliceMs,
} from '../projections/vector-index.js';
import type { StoredEvent } from '../src/kernel/events.js';
import { seededRandom } from './support/random.js';
import { exactTopK, meanRecall } from './support/knn-truth.js';

export { seededRandom };

function gaussian(random: () => number): number {
  // Box-Muller; 1 - random() keeps log's argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Spread of points around their cluster centre, relative to the centres' spread (unit per dimension). */
const clusterSpreadDefault = 0.5;

/**
 * `n` vectors of `dim` around `clusters` gaussian centres (centres ~ N(0, 1) per dimension,
 * points = centre + N(0, clusterSpread^2), spread 0.5 by default), cluster chosen uniformly. Seeded and deterministic.
 */
export function clusteredVectors(n: number, dim: number, clusters: number, seed: number, clusterSpread = clusterSpreadDefault): Float32Array[] {
  const random = seededRandom(seed);
  const centres: Float32Array[] = [];
  for (let c = 0; c < clusters; c++) centres.push(Float32Array.from({ length: dim }, () => gaussian(random)));
  const vectors: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const centre = centres[Math.floor(random() * clusters)] as Float32Array;
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) v[d] = (centre[d] as number) + clusterSpread * gaussian(random);
    vectors.push(v);
  }
  return vectors;
}


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function storedEvent(seq: number, id: string, vector: Float32Array): StoredEvent {
  return { seq, ts: 0, type: 'prime.vector.stored', payload: { id, vector } };
}

export interface BenchOptions {
  n: number;
  dim: number;
  clusters: number;
  queries: number;
  k: number;
  efs: number[];
  m: number;
  efConstruction: number;
}

export interface BuildRow {
  what: string;
  vectorsPerSec: number;
  maxStallMs: number;
  p99Ms: number;
  /** The same in process CPU time: what our code cost, without the preemption a shared box adds to wall time. */
  maxCpuMs: number;
  p99CpuMs: number;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export interface SearchRow {
  efSearch: number;
  recall: number;
  bareRecall: number;
  p50Us: number;
  p99Us: number;
  bareP50Us: number;
  bareP99Us: number;
}

export interface BenchResult {
  options: BenchOptions;
  applyPerSec: number;
  build: BuildRow[];
  search: SearchRow[];
  saveMs: number;
  loadMs: number;
  savedMiB: number;
  pendingScanMs: number;
  fillUs: number;
  arrayFromUs: number;
  checksum: string;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Builds the projection from events in `vectorIndexSliceMs` slices, as the engine's background loop would. */
function buildProjection(data: Float32Array[], options: BenchOptions): { index: VectorIndex; applyPerSec: number; row: BuildRow } {
  const index = new VectorIndex({ m: options.m, efConstruction: options.efConstruction });
  const applyStart = performance.now();
  data.forEach((v, i) => index.apply(storedEvent(i + 1, `v${i}`, v)));
  const applyPerSec = data.length / ((performance.now() - applyStart) / 1000);
  const slices: number[] = [];
  const cpuSlices: number[] = [];
  const start = performance.now();
  while (index.pendingCount > 0) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    index.indexPending(vectorIndexSliceMs);
    cpuSlices.push(cpuMs(cpu));
    slices.push(performance.now() - t);
    if (slices.length % 2000 === 0) log(`  projection: ${data.length - index.pendingCount} indexed`);
  }
  const seconds = (performance.now() - start) / 1000;
  slices.sort((a, b) => a - b);
  cpuSlices.sort((a, b) => a - b);
  const row: BuildRow = {
    what: `VectorIndex.indexPending(${vectorIndexSliceMs} ms slices)`,
    vectorsPerSec: data.length / seconds,
    maxStallMs: slices[slices.length - 1] ?? 0,
    p99Ms: percentile(slices, 99),
    maxCpuMs: cpuSlices[cpuSlices.length - 1] ?? 0,
    p99CpuMs: percentile(cpuSlices, 99),
  };
  return { index, applyPerSec, row };
}

/** Bare hnswlib-node with the same parameters, timing every addPoint: the single-insert worst case. */
function buildBare(data: Float32Array[], options: BenchOptions): { bare: InstanceType<typeof hnswlib.HierarchicalNSW>; row: BuildRow } {
  const bare = new hnswlib.HierarchicalNSW('cosine', options.dim);
  bare.initIndex(data.length, options.m, options.efConstruction, 100, false);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let elapsed = 0;
  data.forEach((v, i) => {
    const point = Array.from(v);
    const t = performance.now();
    const cpu = process.cpuUsage();
    bare.addPoint(point, i);
    cpuTimes.push(cpuMs(cpu));
    const wall = performance.now() - t;
    times.push(wall);
    elapsed += wall;
    if (i % 20000 === 0 && i > 0) log(`  bare: ${i} indexed`);
  });
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  return {
    bare,
    row: {
      what: 'bare hnswlib addPoint (one insert)',
      vectorsPerSec: data.length / (elapsed / 1000),
      maxStallMs: times[times.length - 1] ?? 0,
      p99Ms: percentile(times, 99),
      maxCpuMs: cpuTimes[cpuTimes.length - 1] ?? 0,
      p99CpuMs: percentile(cpuTimes, 99),
    },
  };
}


/** Times ours and bare alternately per query so machine noise hits both alike. */
function searchRow(index: VectorIndex, bare: InstanceType<typeof hnswlib.HierarchicalNSW>, queries: Float32Array[], truth: number[][], ef: number, k: number, hash: ReturnType<typeof createHash>): SearchRow {
  bare.setEf(ef);
  const bareQueries = queries.map((q) => Array.from(q));
  const ours: number[] = [];
  const theirs: number[] = [];
  const oursFound: number[][] = [];
  const bareFound: number[][] = [];
  const rounds = 5;
  for (let round = 0; round < rounds; round++) {
    queries.forEach((q, i) => {
      let t = performance.now();
      const hits = index.search(q, k);
      ours.push(performance.now() - t);
      t = performance.now();
      const result = bare.searchKnn(bareQueries[i] as number[], k);
      theirs.push(performance.now() - t);
      if (round === 0) {
        oursFound.push(hits.map((h) => Number(h.id.slice(1))));
        bareFound.push(result.neighbors);
        hash.update(hits.map((h) => h.id).join(','));
      }
    });
  }
  ours.sort((a, b) => a - b);
  theirs.sort((a, b) => a - b);
  return {
    efSearch: ef,
    recall: meanRecall(oursFound.map((ids) => ids.slice(0, k)), truth),
    bareRecall: meanRecall(bareFound.map((ids) => ids.slice(0, k)), truth),
    p50Us: percentile(ours, 50) * 1000,
    p99Us: percentile(ours, 99) * 1000,
    bareP50Us: percentile(theirs, 50) * 1000,
    bareP99Us: percentile(theirs, 99) * 1000,
  };
}

/** The scratch-buffer choice in VectorIndex.fillScratch: filling one number[] vs Array.from per call. */
function conversionCost(dim: number): { fillUs: number; arrayFromUs: number } {
  const v = clusteredVectors(1, dim, 1, 7)[0] as Float32Array;
  const scratch = new Array<number>(dim).fill(0);
  const calls = 200_000;
  let sink = 0;
  let t = performance.now();
  for (let c = 0; c < calls; c++) {
    for (let i = 0; i < dim; i++) scratch[i] = v[i] as number;
    sink += scratch[c % dim] as number;
  }
  const fillUs = ((performance.now() - t) * 1000) / calls;
  t = performance.now();
  for (let c = 0; c < calls; c++) sink += Array.from(v)[c % dim] as number;
  const arrayFromUs = ((performance.now() - t) * 1000) / calls;
  if (sink === 0.5) log('');
  return { fillUs, arrayFromUs };
}

/** Exact scan cost when everything is still pending (right after a bulk import, before indexing). */
function pendingScanMs(data: Float32Array[], queries: Float32Array[], k: number): number {
  const index = new VectorIndex();
  data.forEach((v, i) => index.apply(storedEvent(i + 1, `v${i}`, v)));
  const times: number[] = [];
  for (const q of queries.slice(0, 20)) {
    const t = performance.now();
    index.search(q, k);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}

export async function runVectorIndexBench(options: BenchOptions): Promise<BenchResult> {
  const hash = createHash('sha256');
  log(`generating ${options.n} x ${options.dim} in ${options.clusters} clusters`);
  // Queries are held-out points of the same distribution: near real neighbours, never a stored copy.
  const all = clusteredVectors(options.n + options.queries, options.dim, options.clusters, 42);
  const data = all.slice(0, options.n);
  const queries = all.slice(options.n);
  log('exact top-k by brute force');
  const truth = exactTopK(data, queries, options.k);
  const { fillUs, arrayFromUs } = conversionCost(options.dim);
  log('building VectorIndex');
  const { index, applyPerSec, row: projectionRow } = buildProjection(data, options);
  log('building bare hnswlib');
  const { bare, row: bareRow } = buildBare(data, options);
  let t = performance.now();
  const saved = await index.save();
  const saveMs = performance.now() - t;
  const search: SearchRow[] = [];
  let loadMs = 0;
  for (const ef of options.efs) {
    const copy = new VectorIndex({ efSearch: ef });
    t = performance.now();
    await copy.load(saved);
    loadMs = performance.now() - t;
    if (copy.pendingCount !== 0) throw new Error('load re-queued vectors');
    search.push(searchRow(copy, bare, queries, truth, ef, options.k, hash));
    log(`  ef ${ef}: recall ${search[search.length - 1]?.recall}`);
  }
  const scanMs = pendingScanMs(data.slice(0, Math.min(data.length, 10_000)), queries, options.k);
  return {
    options,
    applyPerSec,
    build: [projectionRow, bareRow],
    search,
    saveMs,
    loadMs,
    savedMiB: saved.byteLength / 2 ** 20,
    pendingScanMs: scanMs,
    fillUs,
    arrayFromUs,
    checksum: hash.digest('hex').slice(0, 16),
  };
}

function formatTable(r: BenchResult): string {
  const o = r.options;
  const cpu = cpus()[0]?.model ?? 'unknown';
  const lines = [
    `# Vector index: ${o.n.toLocaleString('en')} x ${o.dim} clustered vectors (${o.clusters} gaussian clusters, seed 42)`,
    '',
    `Machine: ${cpus().length} cores, ${cpu}, Node ${process.version}; shared with other jobs, so read ratios against the bare column of the same run.`,
    `Parameters: M=${o.m}, efConstruction=${o.efConstruction}, cosine, k=${o.k}, ${o.queries} queries (held-out points of the same clusters) x 5 rounds, recall@${o.k} vs exact brute force.`,
    `Run: \`npx tsc -p tsconfig.json && node dist/bench/vector-index.js${o.n === 10_000 ? ' --quick' : ''}\`. Result checksum ${r.checksum}.`,
    '',
    '## Indexing',
    '',
    '| what | vectors/s | max stall wall (ms) | p99 wall (ms) | max CPU (ms) | p99 CPU (ms) |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.build.map(
      (b) =>
        `| ${b.what} | ${Math.round(b.vectorsPerSec).toLocaleString('en')} | ${b.maxStallMs.toFixed(2)} | ${b.p99Ms.toFixed(2)} | ${b.maxCpuMs.toFixed(2)} | ${b.p99CpuMs.toFixed(2)} |`,
    ),
    '',
    `apply (record + enqueue, the append-path cost): ${Math.round(r.applyPerSec).toLocaleString('en')} events/s.`,
    `Stall = one indexPending call for the projection (budget ${vectorIndexSliceMs} ms, so stall ≈ budget + one insert, + a resizeIndex when capacity doubles), one addPoint for bare. Wall time includes preemption by other jobs on this shared box; CPU time (process.cpuUsage, all threads) is the work itself.`,
    '',
    '## Search (k=10)',
    '',
    '| efSearch | recall@10 | bare recall@10 | p50 (µs) | bare p50 (µs) | p50 ratio | p99 (µs) | bare p99 (µs) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.search.map(
      (s) =>
        `| ${s.efSearch} | ${s.recall.toFixed(4)} | ${s.bareRecall.toFixed(4)} | ${s.p50Us.toFixed(0)} | ${s.bareP50Us.toFixed(0)} | ${(s.p50Us / s.bareP50Us).toFixed(2)} | ${s.p99Us.toFixed(0)} | ${s.bareP99Us.toFixed(0)} |`,
    ),
    '',
    '## Other costs',
    '',
    `- save (graph + maps, msgpack): ${r.saveMs.toFixed(0)} ms, ${r.savedMiB.toFixed(1)} MiB; load (readIndex, no re-insert): ${r.loadMs.toFixed(0)} ms.`,
    `- search while ${Math.min(o.n, 10_000).toLocaleString('en')} vectors are all still pending (exact scan): p50 ${r.pendingScanMs.toFixed(2)} ms.`,
    `- query/insert conversion at dim ${o.dim}: filling the reused number[] ${r.fillUs.toFixed(2)} µs vs Array.from ${r.arrayFromUs.toFixed(2)} µs per call.`,
    '',
  ];
  return lines.join('\n');
}

function parseArgs(argv: string[]): { options: BenchOptions; write: boolean } {
  const flag = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const n = Number(flag('--n') ?? (quick ? 10_000 : 100_000));
  const efs = (flag('--ef') ?? `16,32,48,${vectorIndexEfSearchDefault},100,128`).split(',').map(Number);
  return {
    write: !argv.includes('--no-write'),
    options: {
      n,
      dim: Number(flag('--dim') ?? 384),
      clusters: 100,
      queries: 200,
      k: 10,
      efs: [...new Set(efs)].sort((a, b) => a - b),
      m: Number(flag('--m') ?? vectorIndexMDefault),
      efConstruction: Number(flag('--efc') ?? vectorIndexEfConstructionDefault),
    },
  };
}

async function main(): Promise<void> {
  const { options, write } = parseArgs(process.argv.slice(2));
  const result = await runVectorIndexBench(options);
  const table = formatTable(result);
  process.stdout.write(table);
  if (write) {
    mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../../bench/results/vector-index.md', import.meta.url), table);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
