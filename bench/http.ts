// "How fast is mnemo over HTTP?" wrk on loopback, 10 and 50 connections, for GET /nodes/:id,
// GET /nodes/:id/neighbors and POST /vectors/search on mnemo's server, each next to its floor (a
// bare uWebSockets.js server sending the very bytes mnemo sent for that route, in the same run),
// and the neighbors route on node:http. Needs `wrk` on PATH (Debian: apt-get install wrk).
//
//   npm run bench:http            5 s per cell
//   npm run bench:http -- --quick 1 s per cell (CI smoke)
//
// On a 2-core machine wrk takes one core and the server the other; the ratios to the floor
// are what carry over to other machines, not the absolute numbers.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import hnswlib from 'hnswlib-node';
import { openEngine, type MnemoEngine } from '../src/index.js';
import { vectorIndexEfConstructionDefault, vectorIndexEfSearchDefault, vectorIndexMDefault } from '../projections/vector-index.js';
import { pageLimitMax } from '../src/kernel/limits.js';
import { similarRows } from '../src/kernel/prime-wire.js';
import { snakeJsonInto } from '../src/kernel/wire.js';
import { startHttpServer } from '../src/server/http.js';
import { bestBy, fmt, hasFlag, machineLine, markdownTable, percentiles, timeAlternatingUs, writeResult } from './support/report.js';
import { captureAnswer, startBareUws, startNodeHttp } from './support/http-peers.js';

const run = promisify(execFile);

export const connectionCounts = [10, 50];
/** One wrk thread: the generator keeps to one core, leaving the other to the server. */
const wrkThreads = 1;
const hubDegree = 20;
export const vectorDim = 64;
export const topK = 10;

/** What a run measures; `--quick` picks the small settings. bench/run-all.ts and the bench's test pass their own. */
export interface HttpBenchOptions {
  quick: boolean;
  /** Seconds per wrk cell (default 5; quick 1). */
  durationS?: number;
  /** Rounds of every cell; each cell reports its best round by req/s (default 3; quick 1). */
  rounds?: number;
  /** Nodes in the graph (default 20,000; quick 2,000). */
  graphNodes?: number;
  /** Vectors stored (default 10,000; quick 1,000). */
  vectorCount?: number;
}

export interface Settings {
  quick: boolean;
  durationS: number;
  rounds: number;
  graphNodes: number;
  vectorCount: number;
}

export function settingsOf(options: HttpBenchOptions): Settings {
  return {
    quick: options.quick,
    durationS: options.durationS ?? (options.quick ? 1 : 5),
    rounds: options.rounds ?? (options.quick ? 1 : 3),
    graphNodes: options.graphNodes ?? (options.quick ? 2_000 : 20_000),
    vectorCount: options.vectorCount ?? (options.quick ? 1_000 : 10_000),
  };
}

export interface HttpBenchReport {
  cells: Cell[];
  markdown: string;
  /** Neighbours in one GET /nodes/:id/neighbors answer from mnemo and from node:http: a checksum that is stable across runs. */
  probe: { mnemoNeighbors: number; nodeHttpNeighbors: number };
  /** engine.similar on the search cells' query, in process: p50 µs. */
  hnswUs: number;
  /** Bare hnswlib searchKnn (same vectors, same parameters) on the same query, timed alternately with engine.similar: p50 µs. */
  bareHnswUs: number;
  /**
   * Each route's own work in process, p50 µs, in routeNames order: the engine's answer serialized
   * into bytes as the server does it (for search also the body's JSON.parse). The floor sends the
   * same bytes without doing it, so no HTTP glue, however cheap, gets mnemo past ceilingOf.
   */
  routeWorkUs: number[];
}

/**
 * The best ratio to the floor mnemo could reach by CPU per request if its HTTP glue cost nothing:
 * the floor's CPU per request plus the route's own work (less the work the floor does too, the
 * HNSW query of the search floor).
 */
export function ceilingOf(floor: Cell, routeWorkUs: number, floorWorkUs = 0): number {
  return floor.cpuUsPerRequest / (floor.cpuUsPerRequest - floorWorkUs + routeWorkUs);
}

export interface Cell {
  target: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers that were not 2xx (the load shedder's 503s when the machine stalls the server). */
  non2xx: number;
  /**
   * CPU time this process (every server here runs in it, one serving at a time) spent per request
   * during the cell, µs: on a shared machine, steadier than req/s, which other processes' load moves.
   */
  cpuUsPerRequest: number;
}

export function requireWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    // wrk --version exits 1 after printing; only a missing binary is fatal.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('bench:http needs wrk on PATH (Debian/Ubuntu: apt-get install wrk)');
      process.exit(2);
    }
  }
}

/** A seeded pseudo-random vector, so every run searches the same data. */
export function vectorAt(i: number): number[] {
  let state = (i + 1) * 2654435761;
  return Array.from({ length: vectorDim }, () => {
    state = (Math.imul(state ^ (state >>> 13), 1597334677) + 1) | 0;
    return (state >>> 8) / 16777216 - 0.5;
  });
}

export async function seed(engine: MnemoEngine, { graphNodes, vectorCount }: Pick<Settings, 'graphNodes' | 'vectorCount'>): Promise<string> {
  const batch: unknown[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length > 0) await engine.append(batch.splice(0));
  };
  for (let i = 0; i < graphNodes; i++) {
    batch.push({ type: 'prime.node.created', payload: { id: `node:bench:${i}`, type: i % 2 ? 'person' : 'project', properties: { name: `n${i}`, rank: i } } });
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  for (let i = 0; i < graphNodes; i++) {
    for (let k = 1; k <= (i === 0 ? hubDegree : 3); k++) {
      batch.push({ type: 'prime.edge.created', payload: { id: `edge:bench:${i}:${k}`, source: `node:bench:${i}`, target: `node:bench:${(i + k * 7) % graphNodes}`, relation: 'knows' } });
      if (batch.length >= 5_000) await flush();
    }
  }
  await flush();
  for (let i = 0; i < vectorCount; i++) {
    batch.push({ type: 'prime.vector.stored', payload: { id: `node:bench:${i % graphNodes}`, vector: vectorAt(i) } });
    if (batch.length >= 2_000) await flush();
  }
  await flush();
  await engine.whenIndexed();
  return 'node:bench:0';
}

/**
 * A bare hnswlib index over the vectors seed() stores, built with the engine's parameters (M, efConstruction,
 * ef, seed 100, cosine): the HNSW query of the search floor and of the in-process comparison.
 */
export function bareIndex(vectorCount: number): hnswlib.HierarchicalNSW {
  const index = new hnswlib.HierarchicalNSW('cosine', vectorDim);
  index.initIndex(vectorCount, vectorIndexMDefault, vectorIndexEfConstructionDefault, 100);
  for (let i = 0; i < vectorCount; i++) index.addPoint(vectorAt(i), i);
  index.setEf(vectorIndexEfSearchDefault);
  return index;
}

export async function wrk(durationS: number, target: string, url: string, connections: number, script?: string): Promise<Cell> {
  const args = [`-t${wrkThreads}`, `-c${connections}`, `-d${durationS}s`, '--latency', ...(script ? ['-s', script] : []), url];
  const cpuBefore = process.cpuUsage();
  const { stdout } = await run('wrk', args);
  const cpu = process.cpuUsage(cpuBefore);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  // A few 503s are the load shedder doing its job when this shared machine stalls the server past a
  // turn's budget (100 ms); more than 1 in 1,000 means something else is wrong.
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  if (non2xx > requests / 1000) throw new Error(`${target}: ${non2xx} non-2xx responses\n${stdout}`);
  return {
    target,
    connections,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50Ms: latencyMs(stdout, '50%'),
    p99Ms: latencyMs(stdout, '99%'),
    requests,
    non2xx,
    cpuUsPerRequest: (cpu.user + cpu.system) / requests,
  };
}

function latencyMs(stdout: string, percentile: string): number {
  const match = new RegExp(`^\\s+${percentile}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

async function neighborsInAnswer(url: string): Promise<number> {
  const body = (await (await fetch(url)).json()) as { nodes: unknown[] };
  return body.nodes.length;
}

/** The routes measured, each against the floor sending mnemo's very bytes for it. */
export const routeNames = ['GET /nodes/:id', 'GET /nodes/:id/neighbors', `POST /vectors/search (top_k ${topK})`] as const;
/** The search floor that also runs the HNSW query: its cells' `who` for cellOf. */
export const hnswFloorName = 'bare uWS + hnswlib searchKnn';

export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchReport> {
  const settings = settingsOf(options);
  requireWrk();
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-http-'));
  const engine = await openEngine({ dataDir, durability: 'none', vector: { dim: vectorDim } });
  const hub = await seed(engine, settings);
  const mnemo = await startHttpServer(engine, { port: 0 });
  const nodeHttp = await startNodeHttp(engine);
  const script = join(dataDir, 'search.lua');
  const queryVector = vectorAt(424242);
  const searchBody = JSON.stringify({ vector: queryVector, top_k: topK });
  await writeFile(script, `wrk.method = "POST"\nwrk.body = '${searchBody}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  const prime = '/api/v1/prime';
  const nodePath = `${prime}/nodes/${hub}`;
  const neighborsPath = `${nodePath}/neighbors`;
  const searchPath = `${prime}/vectors/search`;
  // The floor answers each route with the bytes mnemo answered it with.
  const searchAnswer = await captureAnswer('post', searchPath, `${mnemo.url}${searchPath}`, { body: searchBody, headers: { 'content-type': 'application/json' } });
  const floor = await startBareUws([
    await captureAnswer('get', `${prime}/nodes/:id`, `${mnemo.url}${nodePath}`),
    await captureAnswer('get', `${prime}/nodes/:id/neighbors`, `${mnemo.url}${neighborsPath}`),
    searchAnswer,
  ]);
  // No server answers a search without running one: this floor also runs the same HNSW query (bare
  // hnswlib, the query vector parsed once ahead) before sending the same bytes.
  const bare = bareIndex(settings.vectorCount);
  const hnswFloor = await startBareUws([{ ...searchAnswer, work: () => bare.searchKnn(queryVector, topK) }]);

  const cells: Cell[] = [];
  const { durationS } = settings;
  let probe: HttpBenchReport['probe'];
  let hnswUs: number;
  let bareHnswUs: number;
  let routeWorkUs: number[];
  try {
    probe = { mnemoNeighbors: await neighborsInAnswer(`${mnemo.url}${neighborsPath}`), nodeHttpNeighbors: await neighborsInAnswer(`${nodeHttp.url}${neighborsPath}`) };
    const [getName, neighborsName, searchName] = routeNames;
    // Every cell runs once a round, each route's floor right before mnemo's cell, so machine noise
    // falls on both alike; a cell then reports its best round by req/s (other work on a shared
    // machine only ever slows a cell down).
    const rounds: Cell[][] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const cellsOfRound: Cell[] = [];
      for (const connections of connectionCounts) {
        cellsOfRound.push(await wrk(durationS, `bare uWS ${getName} (floor)`, `${floor.url}${nodePath}`, connections));
        cellsOfRound.push(await wrk(durationS, `mnemo ${getName}`, `${mnemo.url}${nodePath}`, connections));
        cellsOfRound.push(await wrk(durationS, `bare uWS ${neighborsName} (floor)`, `${floor.url}${neighborsPath}`, connections));
        cellsOfRound.push(await wrk(durationS, `mnemo ${neighborsName}`, `${mnemo.url}${neighborsPath}`, connections));
        cellsOfRound.push(await wrk(durationS, `node:http ${neighborsName}`, `${nodeHttp.url}${neighborsPath}`, connections));
        cellsOfRound.push(await wrk(durationS, `bare uWS ${searchName} (floor)`, `${floor.url}${searchPath}`, connections, script));
        cellsOfRound.push(await wrk(durationS, `${hnswFloorName} ${searchName} (floor)`, `${hnswFloor.url}${searchPath}`, connections, script));
        cellsOfRound.push(await wrk(durationS, `mnemo ${searchName}`, `${mnemo.url}${searchPath}`, connections, script));
      }
      rounds.push(cellsOfRound);
    }
    cells.push(...rounds[0]!.map((_, i) => bestBy(rounds.map((cellsOfRound) => cellsOfRound[i]!), (cell) => cell.requestsPerSecond)));
    // The HNSW search alone, in process, on the same query: its share of mnemo's time per request,
    // next to bare hnswlib's searchKnn on the same data, and each route's own work (taking turns,
    // so noise falls on all alike).
    const calls = settings.quick ? 200 : 5000;
    const scratch = Buffer.allocUnsafe(1 << 16);
    const subjects = [
      () => engine.similar({ vector: queryVector }, { topK }),
      () => bare.searchKnn(queryVector, topK),
      () => snakeJsonInto(engine.getNode(hub), scratch),
      () => snakeJsonInto(engine.neighborsJson(hub, { limit: pageLimitMax }), scratch),
      () => snakeJsonInto({ results: similarRows(engine.similar({ vector: (JSON.parse(searchBody) as { vector: number[] }).vector }, { topK })) }, scratch),
    ];
    timeAlternatingUs(calls, subjects);
    const [similar, bareKnn, ...work] = timeAlternatingUs(calls, subjects).map((timed) => percentiles(timed.samples).p50);
    hnswUs = similar!;
    bareHnswUs = bareKnn!;
    routeWorkUs = work;
  } finally {
    await mnemo.close();
    await floor.close();
    await hnswFloor.close();
    await nodeHttp.close();
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return { cells, markdown: report(cells, settings, hnswUs, bareHnswUs, routeWorkUs), probe, hnswUs, bareHnswUs, routeWorkUs };
}

/** A cell of one run: `who` is 'mnemo', 'bare uWS' or 'node:http'. */
export function cellOf(cells: readonly Cell[], who: string, route: string, connections: number): Cell {
  const cell = cells.find((c) => c.connections === connections && c.target.startsWith(`${who} ${route}`));
  if (cell === undefined) throw new Error(`no cell for ${who} ${route} at ${connections} connections`);
  return cell;
}

/** The server's time per request when it is the bottleneck (one thread): 1 / throughput, in µs. */
export function usPerRequest(cell: Cell): number {
  return 1e6 / cell.requestsPerSecond;
}

function report(cells: Cell[], { quick, durationS, rounds, graphNodes, vectorCount }: Settings, hnswUs: number, bareHnswUs: number, routeWorkUs: readonly number[]): string {
  const rows = cells.map((c) => [c.target, c.connections, fmt(c.requestsPerSecond, 0), fmt(c.p50Ms, 3), fmt(c.p99Ms, 3), fmt(c.cpuUsPerRequest, 1), c.non2xx]);
  const ratios = connectionCounts.flatMap((connections) => {
    const lines = routeNames.map((route, i) => {
      const mnemo = cellOf(cells, 'mnemo', route, connections);
      const floor = cellOf(cells, 'bare uWS', route, connections);
      return `- ${connections} connections, ${route}: ${fmt(mnemo.requestsPerSecond / floor.requestsPerSecond, 2)}× the same-bytes floor's req/s (target ≥ 0.7), ${fmt(floor.cpuUsPerRequest / mnemo.cpuUsPerRequest, 2)}× by CPU per request (${fmt(mnemo.cpuUsPerRequest, 1)} vs ${fmt(floor.cpuUsPerRequest, 1)} µs); ceiling ${fmt(ceilingOf(floor, routeWorkUs[i]!), 2)}× (the route's own work ${fmt(routeWorkUs[i]!, 1)} µs); p50 ${fmt(mnemo.p50Ms, 3)} vs ${fmt(floor.p50Ms, 3)} ms, p99 ${fmt(mnemo.p99Ms, 3)} vs ${fmt(floor.p99Ms, 3)} ms`;
    });
    const neighbors = cellOf(cells, 'mnemo', routeNames[1], connections);
    lines.push(`- ${connections} connections: neighbors ${fmt(neighbors.requestsPerSecond / cellOf(cells, 'node:http', routeNames[1], connections).requestsPerSecond, 2)}× node:http (target ≥ 2)`);
    const search = cellOf(cells, 'mnemo', routeNames[2], connections);
    const hnswFloor = cellOf(cells, hnswFloorName, routeNames[2], connections);
    lines.push(`- ${connections} connections, search: ${fmt(search.requestsPerSecond / hnswFloor.requestsPerSecond, 2)}× the floor that also runs the same HNSW query (req/s; target ≥ 0.7), ${fmt(hnswFloor.cpuUsPerRequest / search.cpuUsPerRequest, 2)}× by CPU per request (${fmt(search.cpuUsPerRequest, 1)} vs ${fmt(hnswFloor.cpuUsPerRequest, 1)} µs); ceiling ${fmt(ceilingOf(hnswFloor, routeWorkUs[2]!, bareHnswUs), 2)}×; p50 ${fmt(search.p50Ms, 3)} vs ${fmt(hnswFloor.p50Ms, 3)} ms, p99 ${fmt(search.p99Ms, 3)} vs ${fmt(hnswFloor.p99Ms, 3)} ms`);
    lines.push(`- ${connections} connections, search: HNSW (engine.similar in process, p50 ${fmt(hnswUs, 1)} µs; bare hnswlib searchKnn ${fmt(bareHnswUs, 1)} µs) is ${fmt((100 * hnswUs) / search.cpuUsPerRequest, 0)}% of mnemo's ${fmt(search.cpuUsPerRequest, 1)} µs CPU per request (${fmt((100 * hnswUs) / usPerRequest(search), 0)}% of its ${fmt(usPerRequest(search), 1)} µs wall per request)`);
    return lines;
  });
  const checksum = cells.reduce((sum, c) => sum + c.requests, 0);
  const markdown = [
    '# HTTP throughput and latency (wrk, loopback)',
    '',
    `Machine: ${machineLine()}. wrk ${wrkThreads} thread, ${durationS} s per cell${quick ? ' (--quick)' : ''}; each cell is its best of ${rounds} round${rounds === 1 ? '' : 's'} by req/s (every cell runs once a round).`,
    `Data: ${graphNodes.toLocaleString('en-US')} nodes, the queried node has ${hubDegree} neighbours (one page); ${vectorCount.toLocaleString('en-US')} vectors of ${vectorDim} dimensions.`,
    "The floor is a bare uWebSockets.js server answering each route with the bytes mnemo answered it with (status, Content-Type, Server-Timing, body), captured from mnemo in the same run; it reads a POST's body before answering.",
    `For search, a second floor also runs the same HNSW query before answering: bare hnswlib searchKnn (k ${topK}) on an index of the same vectors built with the engine's parameters (M ${vectorIndexMDefault}, efConstruction ${vectorIndexEfConstructionDefault}, ef ${vectorIndexEfSearchDefault}), the query vector parsed once ahead.`,
    'The load generator shares the machine: on 2 cores wrk takes one core and the server the other, so these are lower bounds for a dedicated server.',
    "Server CPU µs/request is this process's CPU time (user + system, every thread) over the cell divided by the requests served: the servers take turns in one process, so it is each one's own cost, steadier than req/s on a shared machine.",
    '',
    markdownTable(['target', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/request', 'non-2xx'], rows),
    '',
    ...ratios,
    '',
    `checksum (requests served): ${checksum}`,
    '',
  ].join('\n');
  return markdown;
}

async function main(): Promise<void> {
  const quick = hasFlag('quick');
  const { markdown } = await runHttpBench({ quick });
  console.log(markdown);
  if (!quick) console.log(`wrote ${writeResult('http', markdown)}`);
}

// Run only as a script (`node dist/bench/http.js`), not when bench/run-all.ts imports runHttpBench.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
