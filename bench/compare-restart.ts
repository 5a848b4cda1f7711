// "How long until a restarted process answers again?" Time from open to the first neighbour answer:
// mnemo from its newest checkpoint plus a tail of later events, mnemo replaying the whole log (the
// checkpoints set aside), and better-sqlite3 opening its database file and running its first
// query. The same graph events for all; the OS page cache is warm for every subject alike.
// (bench/restart.ts measures mnemo's restart with vectors, compaction and time travel in depth.)
import { renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Engine, type EngineTuning } from '../src/engine/engine.js';
import type { EngineOptions } from '../src/index.js';
import { graphBatchesOfEvents, graphDegree } from './compare-neighbors.js';
import { SqliteGraph } from './peers/sqlite.js';
import { percentiles } from './support/report.js';
import { addChecksum, collectGarbage, countLabel, type QuestionOptions, type QuestionResult, type Row } from './support/question.js';

/** Events after the checkpoint: the default policy checkpoints every 100K events, so a real tail is 0–100K; 10K is typical. */
const tailEventsMax = 10_000;
/** Restarts per subject and size; the table gives the median (p50) and the slowest (as p99). */
const restartsPerSubject = 3;
const dataSeed = 13;
const probeNode = 'node:person:0';
/** No background work while measuring: checkpoints and compaction are triggered explicitly. */
const quiet: Partial<EngineOptions> & EngineTuning = { durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };

interface Restart {
  /** ms from open to the first neighbours answer, and that answer's size (the checksum). */
  ms: number;
  answer: number;
}

async function mnemoRestart(dataDir: string): Promise<Restart> {
  const started = performance.now();
  const db = await Engine.open({ dataDir, ...quiet });
  const answer = db.neighbors(probeNode, { direction: 'out' }).total;
  const ms = performance.now() - started;
  await db.close();
  return { ms, answer };
}

function sqliteRestart(path: string): Restart {
  const started = performance.now();
  const graph = new SqliteGraph(path, 'FULL');
  const answer = graph.neighbors(probeNode).length;
  const ms = performance.now() - started;
  graph.close();
  return { ms, answer };
}

/** mnemo's data dir: every event appended, a checkpoint written before the last `tail` of them. */
async function buildMnemo(dataDir: string, events: number, tail: number): Promise<void> {
  const db = await Engine.open({ dataDir, ...quiet });
  let written = 0;
  let checkpointed = false;
  for (const batch of graphBatchesOfEvents(events, dataSeed)) {
    if (!checkpointed && written + batch.length > events - tail) {
      await db.checkpoint();
      checkpointed = true;
    }
    await db.append(batch);
    written += batch.length;
  }
  if (!checkpointed) await db.checkpoint();
  await db.close();
}

function buildSqlite(path: string, events: number): void {
  const graph = new SqliteGraph(path, 'NORMAL');
  for (const batch of graphBatchesOfEvents(events, dataSeed, 10_000)) graph.append(batch);
  graph.close();
}

async function repeat(subject: string, role: Row['role'], events: number, once: () => Promise<Restart> | Restart): Promise<{ row: Row; checksum: number }> {
  const runs: Restart[] = [];
  for (let i = 0; i < restartsPerSubject; i++) {
    collectGarbage();
    runs.push(await once());
  }
  const p = percentiles(runs.map((r) => r.ms));
  const slowest = Math.max(...runs.map((r) => r.ms));
  return { row: { subject, role, size: events, p50: p.p50, p99: slowest, throughput: Number.NaN, note: `${restartsPerSubject} restarts; p99 column = slowest` }, checksum: runs.reduce((s, r) => s + r.answer, 0) };
}

export async function compareRestart(options: QuestionOptions): Promise<QuestionResult> {
  const rows: Row[] = [];
  let checksum = 0;
  for (const events of options.sizes) {
    const tail = Math.min(tailEventsMax, Math.floor(events / 10));
    const root = await mkdtemp(join(tmpdir(), 'mnemo-bench-restart-'));
    try {
      const dataDir = join(root, 'mnemo');
      const sqlitePath = join(root, 'graph.db');
      options.log(`restart: building ${countLabel(events)} events for mnemo and better-sqlite3`);
      await buildMnemo(dataDir, events, tail);
      buildSqlite(sqlitePath, events);
      options.log(`restart: timing restarts at ${countLabel(events)} events`);
      const measured = [await repeat(`mnemo, checkpoint + ${countLabel(tail)}-event tail`, 'mnemo', events, () => mnemoRestart(dataDir))];
      const checkpoints = join(dataDir, 'checkpoints');
      renameSync(checkpoints, `${checkpoints}.aside`);
      measured.push(await repeat('mnemo, full replay (no checkpoint)', 'peer', events, () => mnemoRestart(dataDir)));
      renameSync(`${checkpoints}.aside`, checkpoints);
      measured.push(await repeat('better-sqlite3, open + first query', 'peer', events, () => sqliteRestart(sqlitePath)));
      for (const m of measured) {
        rows.push(m.row);
        checksum = addChecksum(checksum, m.checksum);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return {
    id: 'restart',
    title: 'Restart to ready (open + first neighbours answer)',
    sizeUnit: 'events',
    latencyUnit: 'ms',
    compareBy: 'p50',
    throughputUnit: '',
    rows,
    settings: [
      `Data: graph events, nodes then ${graphDegree} out-edges each (≈1 node per ${1 + graphDegree} events), no vectors (vectors' restart cost is in bench/restart.ts). Ready = open resolved and one \`neighbors\` answer returned. ${restartsPerSubject} restarts per subject, warm OS page cache for all.`,
      `mnemo: \`Engine.open\` with background checkpoints and compaction off; the checkpoint was written ${countLabel(tailEventsMax)} events (or a tenth of the log, if smaller) before the end, so open loads it and replays that tail from the WAL. Full replay: the same data dir with its checkpoints moved aside.`,
      'better-sqlite3: the graph tables of the neighbours question (WAL mode, index on edges(source, target)); ready = `new Database(path)`, the pragmas, preparing the statements, and the first neighbours query. SQLite reads pages on demand, so its "restart" does no work in proportion to the data: this row is the floor a disk-resident store sets, not a like-for-like peer.',
    ],
    goals: restartGoals(rows),
    skipped: [],
    notes: [],
    checksum,
  };
}

function restartGoals(rows: readonly Row[]): QuestionResult['goals'] {
  const checkpointRows = rows.filter((r) => r.role === 'mnemo');
  const largest = checkpointRows.reduce((a, b) => (b.size > a.size ? b : a));
  const atGoalSize = largest.size >= 1_000_000;
  return [
    {
      text: 'restart with checkpoint ≤ 2 s at 1M events',
      met: atGoalSize ? largest.p99 <= 2000 : null,
      evidence: `${countLabel(largest.size)} events: median ${(largest.p50 / 1000).toFixed(2)} s, slowest ${(largest.p99 / 1000).toFixed(2)} s${atGoalSize ? '' : ' (this run did not reach 1M events)'}`,
    },
  ];
}
