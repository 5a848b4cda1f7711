// "How fast is k-NN, and how good are its answers, next to what I would otherwise use?" mnemo's
// `similar` (k = 10) beside bare hnswlib-node (the floor: the library mnemo wraps), usearch, Orama's
// brute-force vector search and LanceDB, on the same clustered vectors and the same queries, with
// recall@10 against an exact cosine scan.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openEngine } from '../src/index.js';
import { vectorIndexEfConstructionDefault, vectorIndexEfSearchDefault, vectorIndexMDefault } from '../projections/vector-index.js';
import { bareHnswlib } from './peers/hnswlib.js';
import type { KnnPeer } from './peers/knn.js';
import { lancedbPeer, loadLancedb } from './peers/lancedb.js';
import { oramaPeer } from './peers/orama.js';
import { usearchPeer } from './peers/usearch.js';
import { clusteredVectors } from './vector-index.js';
import { percentiles } from './support/report.js';
import { addChecksum, collectGarbage, countLabel, timeEachAsyncUs, type QuestionOptions, type QuestionResult, type Row } from './support/question.js';
import { exactTopK, recallOfQuery } from './support/knn-truth.js';

export const knnK = 10;
const clusters = 100;
const vectorSeed = 11;
/** Distinct query vectors, drawn from the same clusters as the data and held out of it. */
const distinctQueries = 200;
/** Brute-force peers scan every vector per query: at most this many timed queries (and a tenth of the others') keeps them to seconds. */
const exhaustiveQueriesMax = 200;
/** Queries scored for recall@10 on brute-force peers (exact but for Orama's threshold, so fewer suffice). */
const exhaustiveRecallQueries = 50;
const warmupQueries = 200;
/** Vectors per append when loading mnemo (node + vector events: 2 events per vector). */
const loadBatchVectors = 500;

interface Dataset {
  vectors: Float32Array[];
  queries: Float32Array[];
  truth: number[][];
}

function dataset(count: number, dim: number): Dataset {
  const all = clusteredVectors(count + distinctQueries, dim, clusters, vectorSeed);
  const vectors = all.slice(0, count);
  const queries = all.slice(count);
  return { vectors, queries, truth: exactTopK(vectors, queries, knnK) };
}




/** mnemo behind the same KnnPeer contract: vectors appended as events, indexed in the background, then searched. */
function mnemoPeer(): KnnPeer & { indexSeconds(): number } {
  let dataDir: string | undefined;
  let db: Awaited<ReturnType<typeof openEngine>> | undefined;
  let indexSeconds = Number.NaN;
  return {
    name: 'mnemo `similar`',
    settings: `mnemo: \`similar({ vector }, { topK: 10 })\` after \`whenIndexed()\`; vectors stored as \`prime.vector.stored\` events on doc nodes (durability none), HNSW M ${vectorIndexMDefault}, efConstruction ${vectorIndexEfConstructionDefault}, ef ${vectorIndexEfSearchDefault} (its defaults).`,
    exhaustive: false,
    indexSeconds: () => indexSeconds,
    async build(vectors) {
      dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-knn-'));
      db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
      const started = performance.now();
      for (let start = 0; start < vectors.length; start += loadBatchVectors) {
        const batch: unknown[] = [];
        for (let i = start; i < Math.min(vectors.length, start + loadBatchVectors); i++) {
          batch.push({ type: 'prime.node.created', payload: { id: `node:doc:${i}`, type: 'doc', properties: {} } });
          batch.push({ type: 'prime.vector.stored', payload: { id: `node:doc:${i}`, vector: vectors[i]! } });
        }
        await db.append(batch);
      }
      await db.whenIndexed();
      indexSeconds = (performance.now() - started) / 1000;
    },
    search(query, k) {
      return db!.similar({ vector: query }, { topK: k }).map((hit) => Number(hit.id.slice('node:doc:'.length)));
    },
    async close() {
      await db?.close();
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Timed queries go in this many blocks per subject: subjects measured together take turns block by block. */
const turnBlocks = 10;

/**
 * Builds every peer of `group`, then times their queries taking turns (a tenth of the queries each,
 * in turn), so a shared machine's slow spell falls on all of them alike, then scores recall and
 * closes them. A group of one is timed alone.
 */
async function measureTogether(group: readonly KnnPeer[], data: Dataset, queries: number): Promise<Array<{ row: Row; checksum: number }>> {
  const built: Array<{ peer: KnnPeer; buildSeconds: number; timed: number; samples: number[]; checksum: number }> = [];
  try {
    for (const peer of group) {
      const entry = { peer, buildSeconds: 0, timed: peer.exhaustive ? Math.min(exhaustiveQueriesMax, Math.ceil(queries / 10)) : queries, samples: [] as number[], checksum: 0 };
      built.push(entry); // closed in the finally below even if its build fails
      const started = performance.now();
      await peer.build(data.vectors);
      entry.buildSeconds = (performance.now() - started) / 1000;
    }
    for (const b of built) for (let i = 0; i < Math.min(warmupQueries, b.timed); i++) await b.peer.search(data.queries[i % distinctQueries]!, knnK);
    for (let block = 0; block < turnBlocks; block++) {
      for (const b of built) {
        const from = Math.floor((block * b.timed) / turnBlocks);
        const to = Math.floor(((block + 1) * b.timed) / turnBlocks);
        const run = await timeEachAsyncUs(to - from, async (i) => {
          const found = await b.peer.search(data.queries[(from + i) % distinctQueries]!, knnK);
          b.checksum = addChecksum(b.checksum, found.length);
        });
        b.samples.push(...run.samples);
      }
    }
    const results: Array<{ row: Row; checksum: number }> = [];
    for (const b of built) {
      const recallQueries = b.peer.exhaustive ? exhaustiveRecallQueries : distinctQueries;
      let recall = 0;
      for (let q = 0; q < recallQueries; q++) recall += recallOfQuery(await b.peer.search(data.queries[q]!, knnK), data.truth[q]!);
      recall /= recallQueries;
      const p = percentiles(b.samples);
      const role: Row['role'] = b.peer.name.includes('floor') ? 'floor' : b.peer.name.startsWith('mnemo') ? 'mnemo' : 'peer';
      const turns = group.length > 1 ? `; timed taking turns with ${group.filter((other) => other !== b.peer).map((other) => other.name).join(', ')}` : '';
      results.push({
        row: { subject: b.peer.name, role, size: data.vectors.length, p50: p.p50, p99: p.p99, throughput: 1e6 / p.mean, note: `recall@10 ${recall.toFixed(3)}; built in ${b.buildSeconds.toFixed(1)} s; ${b.timed} timed queries${turns}` },
        checksum: b.checksum,
      });
    }
    return results;
  } finally {
    for (const b of built) await b.peer.close();
  }
}

export async function compareKnn(options: QuestionOptions & { dim: number }): Promise<QuestionResult> {
  const lance = await loadLancedb();
  const skipped = typeof lance === 'string' ? [lance] : [];
  const rows: Row[] = [];
  let checksum = 0;
  const settings: string[] = [];
  for (const count of options.sizes) {
    options.log(`k-NN: ${countLabel(count)} × ${options.dim} vectors, ground truth…`);
    const data = dataset(count, options.dim);
    for (const truth of data.truth) checksum = addChecksum(checksum, truth.reduce((s, label) => s + label, 0));
    // mnemo and the library it wraps are timed taking turns: the goal is their ratio.
    const groups: KnnPeer[][] = [[mnemoPeer(), bareHnswlib(options.dim)], [usearchPeer(options.dim)], [oramaPeer(options.dim)]];
    if (typeof lance !== 'string') groups.push([lancedbPeer(lance)]);
    for (const group of groups) {
      options.log(`k-NN: ${group.map((peer) => peer.name).join(' and ')} at ${countLabel(count)} vectors`);
      for (const measured of await measureTogether(group, data, options.queries)) {
        rows.push(measured.row);
        checksum = addChecksum(checksum, measured.checksum);
      }
      for (const peer of group) if (!settings.includes(peer.settings)) settings.push(peer.settings);
      collectGarbage();
    }
  }
  settings.unshift(`Data: N vectors of ${options.dim} dimensions around ${clusters} gaussian centres (seeded; spread 0.5 of the centres'), ${distinctQueries} held-out query vectors from the same clusters, cycled; recall@10 against an exact cosine scan over all N (all ${distinctQueries} queries for the HNSW subjects, the first ${exhaustiveRecallQueries} for the brute-force ones).`);
  return {
    id: 'knn',
    title: `k-NN, k = ${knnK}, ${options.dim}-dimensional clustered vectors`,
    sizeUnit: 'vectors',
    latencyUnit: 'µs',
    compareBy: 'p50',
    throughputUnit: 'queries/s',
    rows,
    settings,
    goals: knnGoals(rows),
    skipped,
    notes: ['Build times are wall time on this (shared) machine; mnemo\'s includes appending the events and background indexing to completion; usearch builds on all cores.'],
    checksum,
  };
}

function recallOf(row: Row): number {
  return Number(/recall@10 ([\d.]+)/.exec(row.note ?? '')?.[1] ?? Number.NaN);
}

function knnGoals(rows: readonly Row[]): QuestionResult['goals'] {
  const size = Math.max(...rows.map((r) => r.size));
  const at = (prefix: string) => rows.find((r) => r.size === size && r.subject.startsWith(prefix));
  const mnemo = at('mnemo')!;
  const bare = at('bare hnswlib')!;
  const orama = at('Orama');
  const overBare = mnemo.p50 / bare.p50;
  const recallGap = recallOf(bare) - recallOf(mnemo);
  const goals: QuestionResult['goals'] = [
    {
      text: 'k-NN p50 within 1.15× of bare hnswlib-node at equal recall',
      met: overBare <= 1.15 && recallGap <= 0.01,
      evidence: `${countLabel(size)} vectors: mnemo p50 = ${overBare.toFixed(2)}× bare; recall@10 ${recallOf(mnemo).toFixed(3)} vs ${recallOf(bare).toFixed(3)}`,
    },
  ];
  if (orama !== undefined) {
    const ratio = orama.p50 / mnemo.p50;
    goals.push({ text: 'k-NN p50 ≥ 20× faster than Orama\'s brute force', met: ratio >= 20, evidence: `${countLabel(size)} vectors: ${ratio.toFixed(1)}×` });
  }
  return goals;
}
