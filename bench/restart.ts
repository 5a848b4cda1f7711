// How fast does mnemo restart, and what does compaction cost? Time to ready from a fresh checkpoint
// plus a 10K-event tail, and from a full replay; replay speed next to the floor measured in the
// same run (decoding the same WAL records with msgpackr alone); Parquet write throughput and size;
// neighbors p99 while compaction runs; time travel and history over Parquet.
// `npm run bench:restart [-- --quick]` (1M events / 100K vectors; quick: 100K / 10K).
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Unpackr } from 'msgpackr';

import { Engine, type EngineTuning } from '../src/engine/engine.js';
import type { EngineOptions } from '../src/kernel/api.js';
import { readHeader, headerBytes } from '../wal/record.js';
import { IdTable } from '../projections/id-table.js';
import { eventFromLog } from '../src/kernel/event-codec.js';
import type { StoredEvent } from '../src/kernel/events.js';
import { checksumOf, fmt, hasFlag, machineLine, markdownTable, percentiles, writeResult } from './support/report.js';
import { seededRandom } from './support/random.js';
import { compiledPath } from './support/compiled.js';

export interface RestartBenchOptions {
  events: number;
  vectors: number;
  dim: number;
  tail: number;
  /** neighbors calls per latency sample window. */
  neighborsPerTick: number;
}

export const fullSizes: RestartBenchOptions = { events: 1_000_000, vectors: 100_000, dim: 384, tail: 10_000, neighborsPerTick: 50 };
export const quickSizes: RestartBenchOptions = { events: 100_000, vectors: 10_000, dim: 384, tail: 10_000, neighborsPerTick: 50 };
export const tinySizes: RestartBenchOptions = { events: 3_000, vectors: 300, dim: 16, tail: 500, neighborsPerTick: 10 };

const batchEvents = 1000;
/** Restarts from the checkpoint timed, each in a fresh process: one sample swung 1.9–2.3 s between runs. */
const restartsTimed = 3;

export interface RestartResults {
  events: number;
  buildSeconds: number;
  checkpointSeconds: number;
  checkpointBytes: number;
  /** The median of `restartsTimed` restarts, and the fastest and slowest. */
  readyWithCheckpointSeconds: number;
  readyWithCheckpointRangeSeconds: [number, number];
  /** The same, from the child process's start (Node and module loading included). */
  readyWithCheckpointProcessSeconds: number;
  vectorsPendingAfterCheckpointOpen: number;
  fullReplaySeconds: number;
  fullReplayEventsPerSecond: number;
  decodeFloorEventsPerSecond: number;
  /** Decoding plus only registering and resolving ids (decodeAndResolveIds). */
  resolveIdsEventsPerSecond: number;
  walBytes: number;
  compactSeconds: number;
  parquetRowsPerSecond: number;
  parquetBytes: number;
  neighborsIdle: { p50: number; p99: number; count: number };
  neighborsDuringCompaction: { p50: number; p99: number; count: number };
  rebuildFromParquetSeconds: number;
  rebuildFromParquetEventsPerSecond: number;
  asOfFirstMs: number;
  asOfNearbyMs: number;
  historyMs: number;
  checksum: number;
}


/** Nodes, edges between earlier nodes, updates, and `vectors` vectors spread evenly: `count` events from seq `start`. */
export function* eventBatches(count: number, vectors: number, dim: number, state: { nodes: number; vectors: number; seed: number }): Generator<unknown[]> {
  const random = seededRandom(state.seed++);
  const vectorEvery = vectors > 0 ? Math.max(1, Math.floor(count / vectors)) : Number.POSITIVE_INFINITY;
  let batch: unknown[] = [];
  for (let i = 0; i < count; i++) {
    if (i % vectorEvery === vectorEvery - 1 && state.vectors < vectors && state.nodes > 0) {
      const vector = new Float32Array(dim);
      for (let d = 0; d < dim; d++) vector[d] = random() - 0.5;
      batch.push({ type: 'prime.vector.stored', payload: { id: `node:doc:${state.vectors % state.nodes}`, vector } });
      state.vectors++;
    } else if (state.nodes < 2 || random() < 0.5) {
      batch.push({ type: 'prime.node.created', payload: { id: `node:doc:${state.nodes}`, type: state.nodes % 10 === 0 ? 'topic' : 'doc', properties: { n: state.nodes, title: `document ${state.nodes}` } } });
      state.nodes++;
    } else if (random() < 0.8) {
      const source = Math.floor(random() * state.nodes);
      const target = Math.floor(random() * state.nodes);
      batch.push({ type: 'prime.edge.created', payload: { id: `edge:${i}:${state.seed}`, source: `node:doc:${source}`, target: `node:doc:${target}`, relation: random() < 0.5 ? 'cites' : 'about' } });
    } else {
      batch.push({ type: 'prime.node.updated', payload: { id: `node:doc:${Math.floor(random() * state.nodes)}`, properties: { touched: i } } });
    }
    if (batch.length === batchEvents) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export const quiet: Partial<EngineOptions> & EngineTuning = { durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };

interface ChildOpen {
  seconds: number;
  uptimeSeconds: number;
  vectorsPending: number;
  lastSeq: number;
  digests: Record<string, string>;
}

export interface BuildResult {
  build: { seconds: number };
  checkpoint: { seconds: number; bytes: number };
  digests: Record<string, string>;
  state: { nodes: number; vectors: number; seed: number };
}

/** Builds `options.events` events into `dataDir` with a checkpoint before the last `tail` of them; what the build child runs. */
export async function buildRestartData(dataDir: string, options: RestartBenchOptions): Promise<BuildResult> {
  const state = { nodes: 0, vectors: 0, seed: 1 };
  const db = await Engine.open({ dataDir, ...quiet });
  const build = await timed(async () => {
    for (const batch of eventBatches(options.events - options.tail, options.vectors, options.dim, state)) await db.append(batch);
    await db.whenIndexed();
  });
  const checkpoint = await timed(() => db.checkpoint());
  for (const batch of eventBatches(options.tail, 0, options.dim, state)) await db.append(batch);
  const digests = db.digests();
  await db.close();
  return { build: { seconds: build.seconds }, checkpoint: { seconds: checkpoint.seconds, bytes: checkpoint.value.bytes }, digests, state };
}

/**
 * Runs bench/support/restart-child.ts in a fresh Node process. Building and each restart run in
 * their own process, as in real life: a restart measured inside the process that built the data
 * (its heap and the machine's memory full of it) read its files ~2x slower.
 */
function runChild<T>(args: string[]): T {
  const output = execFileSync(process.execPath, ['--max-old-space-size=16384', compiledPath('bench/support/restart-child.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1)!) as T;
}

async function timed<T>(body: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await body();
  return { value, seconds: (performance.now() - started) / 1000 };
}

function dirBytes(dir: string, suffix: string): number {
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/**
 * The floor: the same WAL records decoded with msgpackr alone (no checksum, no validation, no
 * projections), each event handed to `apply` if given (made an event object from the log's
 * positional form first, as replay does).
 */
function decodeFloor(walDir: string, apply?: (event: StoredEvent) => void): { events: number; seconds: number } {
  const unpackr = new Unpackr({ useRecords: true, moreTypes: true, mapsAsObjects: true }); // as the WAL decodes
  const buffers = readdirSync(walDir).filter((f) => f.endsWith('.wal')).sort().map((f) => readFileSync(join(walDir, f)));
  const started = performance.now();
  let events = 0;
  for (const buf of buffers) {
    for (let offset = 0; offset + headerBytes <= buf.length; ) {
      const header = readHeader(buf, offset);
      const decoded = unpackr.unpack(buf.subarray(offset + headerBytes, offset + headerBytes + header.payloadBytes)) as unknown[];
      if (apply !== undefined) for (let i = 0; i < decoded.length; i++) apply(eventFromLog(header.firstSeq + i, decoded[i]));
      events += decoded.length;
      offset += headerBytes + header.payloadBytes;
    }
  }
  return { events, seconds: (performance.now() - started) / 1000 };
}

/**
 * The least any replay of these events must do besides decoding: register each new node and edge
 * id and resolve the ids an event names (in IdTables, mnemo's fastest id → handle table). No
 * record, list, index or vector is built. Next to the floor it bounds what replay can reach.
 */
function decodeAndResolveIds(walDir: string): { events: number; seconds: number } {
  const nodes = new IdTable();
  const edges = new IdTable();
  let unknown = 0;
  const result = decodeFloor(walDir, (event) => {
    switch (event.type) {
      case 'prime.node.created':
        nodes.add(event.payload.id);
        return;
      case 'prime.node.updated':
        if (nodes.get(event.payload.id) < 0) unknown++;
        return;
      case 'prime.edge.created':
        if (nodes.get(event.payload.source) < 0 || nodes.get(event.payload.target) < 0) unknown++;
        edges.add(event.payload.id);
        return;
      default:
        return;
    }
  });
  if (unknown > 0) throw new Error(`${unknown} events name an id that no earlier event created`);
  return result;
}

/** neighbors latency samples (µs) taken on the event loop, one window per tick, until `until` resolves. */
async function sampleNeighbors(db: Engine, nodes: number, perTick: number, until: Promise<unknown>): Promise<number[]> {
  const random = seededRandom(99);
  const samples: number[] = [];
  let done = false;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    for (let i = 0; i < perTick; i++) {
      const id = `node:doc:${Math.floor(random() * nodes)}`;
      const started = performance.now();
      db.neighbors(id);
      samples.push((performance.now() - started) * 1000);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return samples;
}

export async function runRestartBench(options: RestartBenchOptions, log: (line: string) => void = () => {}): Promise<RestartResults> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-restart-'));
  try {
    log(`building ${options.events} events (${options.vectors} vectors of ${options.dim} dims; a child process that then exits)`);
    const built = runChild<BuildResult>(['build', dataDir, JSON.stringify(options)]);
    const { build, checkpoint, digests, state } = built;
    const walDir = join(dataDir, 'wal');
    const walBytes = dirBytes(walDir, '.wal');

    log(`ready with a checkpoint + tail (${restartsTimed} fresh processes, one after another)`);
    const restarts: ChildOpen[] = [];
    for (let i = 0; i < restartsTimed; i++) {
      const opened = runChild<ChildOpen>(['open', dataDir]);
      if (JSON.stringify(opened.digests) !== JSON.stringify(digests)) throw new Error('state after checkpoint + tail differs from the live state');
      restarts.push(opened);
    }
    restarts.sort((a, b) => a.seconds - b.seconds);
    const withCheckpoint = restarts[Math.floor(restarts.length / 2)]!;
    const vectorsPending = Math.max(...restarts.map((r) => r.vectorsPending));

    log('full replay (checkpoints set aside; a fresh process)');
    const checkpoints = join(dataDir, 'checkpoints');
    renameSync(checkpoints, `${checkpoints}.aside`);
    const full = runChild<ChildOpen>(['open', dataDir]);
    const lastSeq = full.lastSeq;
    renameSync(`${checkpoints}.aside`, checkpoints);
    const floor = decodeFloor(walDir);
    const idsOnly = decodeAndResolveIds(walDir);

    log('compaction, with neighbors sampled meanwhile');
    const db = await Engine.open({ dataDir, ...quiet });
    const idle = await sampleNeighbors(db, state.nodes, options.neighborsPerTick, new Promise((resolve) => setTimeout(resolve, 500)));
    const compacting = timed(() => db.compact());
    const during = await sampleNeighbors(db, state.nodes, options.neighborsPerTick, compacting);
    const compact = await compacting;
    const parquetBytes = dirBytes(join(dataDir, 'parquet'), '.parquet');

    log('time travel and history over Parquet');
    const middle = Math.floor(lastSeq / 2);
    const asOfFirst = await timed(async () => db.getNode('node:doc:1', { asOf: middle }));
    const asOfNearby = await timed(async () => db.getNode('node:doc:1', { asOf: middle + 1000 }));
    const history = await timed(async () => db.history('node:doc:1'));
    await db.close();

    log('full rebuild from Parquet (checkpoints set aside)');
    renameSync(checkpoints, `${checkpoints}.aside`);
    const rebuild = await timed(() => Engine.open({ dataDir, ...quiet }));
    if (JSON.stringify(rebuild.value.digests()) !== JSON.stringify(digests)) throw new Error('state rebuilt from Parquet differs from the live state');
    await rebuild.value.close();

    return {
      events: lastSeq,
      buildSeconds: build.seconds,
      checkpointSeconds: checkpoint.seconds,
      checkpointBytes: checkpoint.bytes,
      readyWithCheckpointSeconds: withCheckpoint.seconds,
      readyWithCheckpointRangeSeconds: [restarts[0]!.seconds, restarts[restarts.length - 1]!.seconds],
      readyWithCheckpointProcessSeconds: withCheckpoint.uptimeSeconds,
      vectorsPendingAfterCheckpointOpen: vectorsPending,
      fullReplaySeconds: full.seconds,
      fullReplayEventsPerSecond: lastSeq / full.seconds,
      decodeFloorEventsPerSecond: floor.events / floor.seconds,
      resolveIdsEventsPerSecond: idsOnly.events / idsOnly.seconds,
      walBytes,
      compactSeconds: compact.seconds,
      parquetRowsPerSecond: lastSeq / compact.seconds,
      parquetBytes,
      neighborsIdle: percentiles(idle),
      neighborsDuringCompaction: percentiles(during),
      rebuildFromParquetSeconds: rebuild.seconds,
      rebuildFromParquetEventsPerSecond: lastSeq / rebuild.seconds,
      asOfFirstMs: asOfFirst.seconds * 1000,
      asOfNearbyMs: asOfNearby.seconds * 1000,
      historyMs: history.seconds * 1000,
      checksum: (checksumOf(history.value) + lastSeq + (asOfFirst.value?.version ?? 0)) % 1_000_000_007,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function report(r: RestartResults, options: RestartBenchOptions): string {
  const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
  const rows: Array<[string, string, string]> = [
    ['ready: checkpoint + 10K-event tail (fresh process)', `${fmt(r.readyWithCheckpointSeconds)} s`, `median of ${restartsTimed} (${fmt(r.readyWithCheckpointRangeSeconds[0])}–${fmt(r.readyWithCheckpointRangeSeconds[1])} s); target ≤ 2 s; ${fmt(r.readyWithCheckpointProcessSeconds)} s from process start; vectors pending after open: ${r.vectorsPendingAfterCheckpointOpen} (no HNSW rebuild)`],
    ['ready: full replay from the WAL (fresh process)', `${fmt(r.fullReplaySeconds)} s`, `${fmt(r.fullReplayEventsPerSecond)} events/s`],
    ['decode floor (msgpackr alone, same records)', `${fmt(r.decodeFloorEventsPerSecond)} events/s`, `replay = ${fmt(r.fullReplayEventsPerSecond / r.decodeFloorEventsPerSecond)}x the floor (target ≥ 0.5x)`],
    ['decode + register and resolve ids only (no projection)', `${fmt(r.resolveIdsEventsPerSecond)} events/s`, `${fmt(r.resolveIdsEventsPerSecond / r.decodeFloorEventsPerSecond)}x the floor: the most any replay of these events could reach`],
    ['ready: full rebuild from Parquet', `${fmt(r.rebuildFromParquetSeconds)} s`, `${fmt(r.rebuildFromParquetEventsPerSecond)} events/s`],
    ['checkpoint write', `${fmt(r.checkpointSeconds)} s`, mib(r.checkpointBytes)],
    ['compact() all segments to Parquet', `${fmt(r.compactSeconds)} s`, `${fmt(r.parquetRowsPerSecond)} rows/s (worker thread)`],
    ['size: WAL vs Parquet', `${mib(r.walBytes)} → ${mib(r.parquetBytes)}`, `${fmt(r.parquetBytes / r.walBytes)}x`],
    ['neighbors p50 / p99, idle', `${fmt(r.neighborsIdle.p50)} / ${fmt(r.neighborsIdle.p99)} µs`, `${r.neighborsIdle.count} calls`],
    ['neighbors p50 / p99, during compaction', `${fmt(r.neighborsDuringCompaction.p50)} / ${fmt(r.neighborsDuringCompaction.p99)} µs`, `${r.neighborsDuringCompaction.count} calls`],
    ['getNode asOf mid-history (cold)', `${fmt(r.asOfFirstMs)} ms`, 'from scratch over Parquet (no checkpoint that early)'],
    ['getNode asOf +1000 seqs (cached state rolled forward)', `${fmt(r.asOfNearbyMs)} ms`, ''],
    ['history(id) over Parquet + WAL', `${fmt(r.historyMs)} ms`, 'scan; payloads decoded only for matching rows'],
  ];
  return [
    `# Restart, compaction and time travel (${fmt(r.events)} events, ${options.vectors} vectors x ${options.dim})`,
    '',
    machineLine(),
    '',
    markdownTable(['what', 'measured', 'note'], rows),
    '',
    `Data built in ${fmt(r.buildSeconds)} s (durability none, batches of ${batchEvents}). Checksum ${r.checksum}.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = hasFlag('quick') ? quickSizes : fullSizes;
  const results = await runRestartBench(options, (line) => console.error(`restart: ${line}`));
  const markdown = report(results, options);
  console.log(markdown);
  if (!hasFlag('quick')) console.error(`wrote ${writeResult('restart', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
