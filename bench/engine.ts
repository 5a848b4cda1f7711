// How fast is the engine? Neighbours, k-NN, recall, ingest and memory, each next to its floor
// or a peer measured in the same run. `npm run bench:engine [-- --quick]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import hnswlib from 'hnswlib-node';

import { openEngine, type Engine, type EngineOptions, type RawEvent } from '../src/index.js';
import { clusteredVectors } from './vector-index.js';
import { graphBatches, graphDegree as degree } from './compare-neighbors.js';
import { vectorIndexEfConstructionDefault, vectorIndexEfSearchDefault, vectorIndexMDefault } from '../projections/vector-index.js';
import { fmt, hasFlag, machineLine, markdownTable, percentiles, timeAlternatingUs, timeEachUs, writeResult, type Timed } from './support/report.js';
import { exactTopK, meanRecall } from './support/knn-truth.js';
import { seededRandom } from './support/random.js';

export interface EngineBenchOptions {
  /** Node counts for the neighbours table (degree 10 each). */
  graphSizes: number[];
  vectorCount: number;
  vectorDim: number;
  ingestEvents: number;
  queries: number;
}

export const fullSizes: EngineBenchOptions = { graphSizes: [100_000, 1_000_000], vectorCount: 100_000, vectorDim: 384, ingestEvents: 1_000_000, queries: 100_000 };
export const quickSizes: EngineBenchOptions = { graphSizes: [10_000, 100_000], vectorCount: 5_000, vectorDim: 384, ingestEvents: 100_000, queries: 20_000 };

const batchEvents = 1000;

async function withEngine<T>(options: Partial<EngineOptions>, body: (db: Engine) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-'));
  const db = await openEngine({ durability: 'none', onWarning: () => {}, ...options, dataDir });
  try {
    return await body(db);
  } finally {
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}


interface Row {
  question: string;
  size: string;
  subject: string;
  p50: string;
  p99: string;
  throughput: string;
  ratio: string;
}

/** JS heap plus ArrayBuffer memory (typed-array columns live outside the JS heap, and must count). */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** neighbors(id) returning 10 records, next to a bare Map<string, Set<string>> walk plus Map.get per neighbour. */
async function neighborsRows(nodes: number, queries: number): Promise<{ rows: Row[]; checksum: number; heapPerNode: number }> {
  return withEngine({}, async (db) => {
    const heapBefore = heapUsed();
    for (const batch of graphBatches(nodes, 7)) await db.append(batch);
    // A background checkpoint started during the load holds its serialised snapshot (~50 MB at 1M
    // nodes) until its writes finish, which a load that never yields to the event loop delays to
    // now: the state's size is what is left once it is done.
    while ((db.stats().checkpoint as { running: boolean }).running) await new Promise((resolve) => setTimeout(resolve, 50));
    const heapPerNode = (heapUsed() - heapBefore) / nodes;

    const floorAdj = new Map<string, Set<string>>();
    const floorNodes = new Map<string, object>();
    for (let i = 0; i < nodes; i++) {
      const id = `node:person:${i}`;
      floorNodes.set(id, db.getNode(id)!);
      floorAdj.set(id, new Set(db.neighbors(id, { direction: 'out' }).nodes.map((n) => n.id)));
    }
    const random = seededRandom(99);
    const ids = Array.from({ length: queries }, () => `node:person:${Math.floor(random() * nodes)}`);
    const floorWalk = (id: string) => {
      const out: object[] = [];
      for (const other of floorAdj.get(id)!) out.push(floorNodes.get(other)!);
      return out;
    };
    // Warm both paths so the JIT has compiled them before either is measured.
    for (let i = 0; i < 20_000; i++) {
      floorWalk(ids[i % ids.length]!);
      db.neighbors(ids[i % ids.length]!, { direction: 'out' });
    }
    const [floor, mnemo] = timeAlternatingUs(queries, [(i) => floorWalk(ids[i]!), (i) => db.neighbors(ids[i]!, { direction: 'out' }).nodes]) as [Timed, Timed];
    const f = percentiles(floor.samples);
    const m = percentiles(mnemo.samples);
    const size = `${nodes.toLocaleString('en-US')} nodes, degree ${degree}`;
    return {
      heapPerNode,
      checksum: floor.checksum + mnemo.checksum,
      rows: [
        { question: 'neighbors (depth 1, 10 records)', size, subject: 'mnemo `neighbors`', p50: fmt(m.p50), p99: fmt(m.p99), throughput: fmt(1e6 / m.mean), ratio: `${fmt(m.p50 / f.p50)}× floor (p50)` },
        { question: 'neighbors (depth 1, 10 records)', size, subject: 'floor: Map<string,Set> + Map.get', p50: fmt(f.p50), p99: fmt(f.p99), throughput: fmt(1e6 / f.mean), ratio: '1' },
      ],
    };
  });
}

/** similar k=10 and recall depth 1 on clustered vectors, next to bare hnswlib-node with the same parameters. */
async function vectorRows(count: number, dim: number, queries: number): Promise<{ rows: Row[]; checksum: number }> {
  // Queries are held out of the same clusters as the data: a second seed would draw other cluster centres.
  const all = clusteredVectors(count + 200, dim, 100, 11);
  const vectors = all.slice(0, count);
  const queryVectors = all.slice(count);
  return withEngine({}, async (db) => {
    const appendStarted = performance.now();
    for (let start = 0; start < count; start += batchEvents) {
      const batch: unknown[] = [];
      for (let i = start; i < Math.min(count, start + batchEvents); i++) {
        batch.push({ type: 'prime.node.created', payload: { id: `node:doc:${i}`, type: 'doc', properties: { i } } });
        batch.push({ type: 'prime.vector.stored', payload: { id: `node:doc:${i}`, vector: vectors[i]! } });
      }
      await db.append(batch);
    }
    const appendMs = performance.now() - appendStarted;
    await db.whenIndexed();
    const indexedMs = performance.now() - appendStarted;

    const bare = new hnswlib.HierarchicalNSW('cosine', dim);
    bare.initIndex(count, vectorIndexMDefault, vectorIndexEfConstructionDefault, 100);
    const point = new Array<number>(dim);
    const bareBuildStarted = performance.now();
    for (let i = 0; i < count; i++) {
      for (let d = 0; d < dim; d++) point[d] = vectors[i]![d]!;
      bare.addPoint(point, i);
    }
    const bareBuildMs = performance.now() - bareBuildStarted;
    bare.setEf(vectorIndexEfSearchDefault);
    const queryArrays = queryVectors.map((v) => Array.from(v));

    const exact = exactTopK(vectors, queryVectors, 10);
    const k = 10;
    for (let i = 0; i < 200; i++) {
      bare.searchKnn(queryArrays[i % 200]!, k);
      db.similar({ vector: queryVectors[i % 200]! }, { topK: k });
    }
    const [bareRun, mnemoRun] = timeAlternatingUs(queries, [(i) => bare.searchKnn(queryArrays[i % 200]!, k).neighbors, (i) => db.similar({ vector: queryVectors[i % 200]! }, { topK: k })]) as [Timed, Timed];
    const recallRun = timeEachUs(Math.min(queries, 5000), (i) => db.recall({ vector: queryVectors[i % 200]!, topK: k, depth: 1 }));
    const mnemoRecall10 = meanRecall(queryVectors.map((q) => db.similar({ vector: q }, { topK: k }).map((h) => Number(h.id.slice(9)))), exact);
    const bareRecall10 = meanRecall(queryArrays.map((q) => bare.searchKnn(q, k).neighbors), exact);
    const b = percentiles(bareRun.samples);
    const m = percentiles(mnemoRun.samples);
    const r = percentiles(recallRun.samples);
    const size = `${count.toLocaleString('en-US')} × ${dim}, 100 clusters`;
    return {
      checksum: bareRun.checksum + mnemoRun.checksum + recallRun.checksum,
      rows: [
        { question: 'k-NN k=10', size, subject: `mnemo \`similar\` (recall@10 ${fmt(mnemoRecall10, 3)})`, p50: fmt(m.p50), p99: fmt(m.p99), throughput: fmt(1e6 / m.mean), ratio: `${fmt(m.p50 / b.p50)}× bare (p50)` },
        { question: 'k-NN k=10', size, subject: `bare hnswlib-node searchKnn (recall@10 ${fmt(bareRecall10, 3)})`, p50: fmt(b.p50), p99: fmt(b.p99), throughput: fmt(1e6 / b.mean), ratio: '1' },
        { question: 'recall depth 1, topK 10', size, subject: 'mnemo `recall`', p50: fmt(r.p50), p99: fmt(r.p99), throughput: fmt(1e6 / r.mean), ratio: `${fmt(r.p50 / m.p50)}× similar (p50)` },
        { question: 'vector ingest', size, subject: 'append (node + vector events), durability none', p50: '', p99: '', throughput: `${fmt(count / (appendMs / 1000))} vectors/s`, ratio: '' },
        { question: 'vector ingest', size, subject: 'append → all HNSW-indexed (background)', p50: '', p99: '', throughput: `${fmt(count / (indexedMs / 1000))} vectors/s, ${fmt(indexedMs / 1000)} s in all`, ratio: `${fmt(indexedMs / bareBuildMs)}× bare build time` },
        { question: 'vector ingest', size, subject: `bare hnswlib-node addPoint loop (M ${vectorIndexMDefault}, efC ${vectorIndexEfConstructionDefault})`, p50: '', p99: '', throughput: `${fmt(count / (bareBuildMs / 1000))} vectors/s`, ratio: '1' },
      ],
    };
  });
}

/**
 * The floor under ingest: the least work the events imply, in bare Maps. A node's id is inserted;
 * an edge's two ends are looked up and its id checked and inserted. No validation, no log, no
 * adjacency lists. Returns events/s and a checksum of the handles it found.
 */
function mapFloor(batches: readonly RawEvent[][]): { eventsPerSecond: number; checksum: number } {
  const nodes = new Map<string, number>();
  const edges = new Map<string, number>();
  let checksum = 0;
  let total = 0;
  const started = performance.now();
  for (const batch of batches) {
    for (const event of batch) {
      if (event.type === 'prime.node.created') nodes.set(event.payload.id, nodes.size);
      else if (event.type === 'prime.edge.created') {
        const { id, source, target } = event.payload;
        const from = nodes.get(source);
        const to = nodes.get(target);
        if (from === undefined || to === undefined || edges.has(id)) throw new Error(`floor: bad edge ${id}`);
        edges.set(id, edges.size);
        checksum = (checksum + from + to) % 1_000_000_007;
      }
    }
    total += batch.length;
  }
  return { eventsPerSecond: total / ((performance.now() - started) / 1000), checksum };
}

/** Durable ingest of graph events through log and projections, batches of 1000, next to the Map floor. */
async function ingestRows(events: number): Promise<{ rows: Row[]; checksum: number }> {
  const rows: Row[] = [];
  const nodes = Math.max(1000, Math.floor(events / (degree + 1)));
  const batches = [...graphBatches(nodes, 5)];
  const total = batches.reduce((s, b) => s + b.length, 0);
  const size = `${total.toLocaleString('en-US')} node+edge events`;
  const floor = mapFloor(batches);
  let checksum = floor.checksum;
  for (const durability of ['fsync', 'interval'] as const) {
    for (const inFlight of [1, 4]) {
      await withEngine({ durability }, async (db) => {
        const latencies: number[] = [];
        const started = performance.now();
        let next = 0;
        const worker = async () => {
          while (next < batches.length) {
            const batch = batches[next++]!;
            const t = performance.now();
            await db.append(batch);
            latencies.push((performance.now() - t) * 1000);
          }
        };
        await Promise.all(Array.from({ length: inFlight }, worker));
        const seconds = (performance.now() - started) / 1000;
        const p = percentiles(latencies);
        checksum += db.stats().lastSeq;
        rows.push({
          question: 'durable ingest, batches of 1000',
          size,
          subject: `engine append, ${durability}, ${inFlight} in flight`,
          p50: fmt(p.p50),
          p99: fmt(p.p99),
          throughput: `${fmt(total / seconds)} events/s`,
          ratio: `${fmt(total / seconds / floor.eventsPerSecond)}× floor`,
        });
      });
    }
  }
  rows.push({ question: 'durable ingest, batches of 1000', size, subject: 'floor: bare Maps (node id set; edge: 2 gets, has, set)', p50: '', p99: '', throughput: `${fmt(floor.eventsPerSecond)} events/s`, ratio: '1' });
  return { rows, checksum };
}




export async function runEngineBench(sizes: EngineBenchOptions, log: (line: string) => void = console.log): Promise<{ markdown: string; checksum: number }> {
  const rows: Row[] = [];
  let checksum = 0;
  const memory: string[] = [];
  for (const nodes of sizes.graphSizes) {
    log(`neighbors at ${nodes} nodes…`);
    const result = await neighborsRows(nodes, sizes.queries);
    rows.push(...result.rows);
    checksum += result.checksum;
    memory.push(`${nodes.toLocaleString('en-US')} nodes × ${degree} edges: ${fmt(result.heapPerNode, 0)} bytes per node (JS heap + ArrayBuffers; nodes + edges, all projections, no vectors)`);
  }
  log(`vectors: ${sizes.vectorCount} × ${sizes.vectorDim}…`);
  const vector = await vectorRows(sizes.vectorCount, sizes.vectorDim, sizes.queries);
  rows.push(...vector.rows);
  checksum += vector.checksum;
  log(`ingest: ${sizes.ingestEvents} events…`);
  const ingest = await ingestRows(sizes.ingestEvents);
  rows.push(...ingest.rows);
  checksum += ingest.checksum;
  const table = markdownTable(
    ['question', 'data', 'subject', 'p50 µs', 'p99 µs', 'ops/s', 'ratio'],
    rows.map((r) => [r.question, r.size, r.subject, r.p50, r.p99, r.throughput, r.ratio]),
  );
  const markdown = `# Engine benchmark\n\nMachine: ${machineLine()}\n\n${table}\n\nMemory: ${memory.join('; ')}.\n\nChecksum: ${checksum}\n`;
  return { markdown, checksum };
}

async function main(): Promise<void> {
  const { markdown } = await runEngineBench(hasFlag('quick') ? quickSizes : fullSizes);
  console.log(markdown);
  if (!hasFlag('quick')) console.log(`written to ${writeResult('engine', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
