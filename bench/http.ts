// "How fast is mnemo over HTTP?" wrk on loopback, 10 and 50 connections, for
// GET /nodes/:id/neighbors and POST /vectors/search on mnemo's server, next to the floor
// (a bare uWebSockets.js /health, measured in the same run) and the neighbors route on
// node:http. Needs `wrk` on PATH (Debian: apt-get install wrk).
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
import { openEngine, type MnemoEngine } from '../src/index.js';
import { startHttpServer } from '../src/server/http.js';
import { fmt, hasFlag, machineLine, markdownTable, writeResult } from './support/report.js';
import { startBareUws, startNodeHttp } from './support/http-peers.js';

const run = promisify(execFile);

export const connectionCounts = [10, 50];
/** One wrk thread: the generator keeps to one core, leaving the other to the server. */
const wrkThreads = 1;
const hubDegree = 20;
const vectorDim = 64;
const topK = 10;

/** What a run measures; `--quick` picks the small settings. bench/run-all.ts and the bench's test pass their own. */
export interface HttpBenchOptions {
  quick: boolean;
  /** Seconds per wrk cell (default 5; quick 1). */
  durationS?: number;
  /** Nodes in the graph (default 20,000; quick 2,000). */
  graphNodes?: number;
  /** Vectors stored (default 10,000; quick 1,000). */
  vectorCount?: number;
}

interface Settings {
  quick: boolean;
  durationS: number;
  graphNodes: number;
  vectorCount: number;
}

function settingsOf(options: HttpBenchOptions): Settings {
  return {
    quick: options.quick,
    durationS: options.durationS ?? (options.quick ? 1 : 5),
    graphNodes: options.graphNodes ?? (options.quick ? 2_000 : 20_000),
    vectorCount: options.vectorCount ?? (options.quick ? 1_000 : 10_000),
  };
}

export interface HttpBenchReport {
  cells: Cell[];
  markdown: string;
  /** Neighbours in one GET /nodes/:id/neighbors answer from mnemo and from node:http: a checksum that is stable across runs. */
  probe: { mnemoNeighbors: number; nodeHttpNeighbors: number };
}

export interface Cell {
  target: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
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
function vectorAt(i: number): number[] {
  let state = (i + 1) * 2654435761;
  return Array.from({ length: vectorDim }, () => {
    state = (Math.imul(state ^ (state >>> 13), 1597334677) + 1) | 0;
    return (state >>> 8) / 16777216 - 0.5;
  });
}

async function seed(engine: MnemoEngine, { graphNodes, vectorCount }: Settings): Promise<string> {
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

async function wrk(durationS: number, target: string, url: string, connections: number, script?: string): Promise<Cell> {
  const args = [`-t${wrkThreads}`, `-c${connections}`, `-d${durationS}s`, '--latency', ...(script ? ['-s', script] : []), url];
  const { stdout } = await run('wrk', args);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`${target}: ${non2xx[1]} non-2xx responses\n${stdout}`);
  return {
    target,
    connections,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50Ms: latencyMs(stdout, '50%'),
    p99Ms: latencyMs(stdout, '99%'),
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN),
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

export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchReport> {
  const settings = settingsOf(options);
  requireWrk();
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-http-'));
  const engine = await openEngine({ dataDir, durability: 'none', vector: { dim: vectorDim } });
  const hub = await seed(engine, settings);
  const mnemo = await startHttpServer(engine, { port: 0 });
  const floor = await startBareUws();
  const nodeHttp = await startNodeHttp(engine);
  const script = join(dataDir, 'search.lua');
  const searchBody = JSON.stringify({ vector: vectorAt(424242), top_k: topK });
  await writeFile(script, `wrk.method = "POST"\nwrk.body = '${searchBody}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  const neighborsPath = `/api/v1/prime/nodes/${hub}/neighbors`;

  const cells: Cell[] = [];
  const { durationS } = settings;
  let probe: HttpBenchReport['probe'];
  try {
    probe = { mnemoNeighbors: await neighborsInAnswer(`${mnemo.url}${neighborsPath}`), nodeHttpNeighbors: await neighborsInAnswer(`${nodeHttp.url}${neighborsPath}`) };
    for (const connections of connectionCounts) {
      cells.push(await wrk(durationS, 'bare uWS GET /health (floor)', `${floor.url}/health`, connections));
      cells.push(await wrk(durationS, 'mnemo GET /nodes/:id/neighbors', `${mnemo.url}${neighborsPath}`, connections));
      cells.push(await wrk(durationS, 'node:http GET /nodes/:id/neighbors', `${nodeHttp.url}${neighborsPath}`, connections));
      cells.push(await wrk(durationS, `mnemo POST /vectors/search (top_k ${topK})`, `${mnemo.url}/api/v1/prime/vectors/search`, connections, script));
    }
  } finally {
    await mnemo.close();
    await floor.close();
    await nodeHttp.close();
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return { cells, markdown: report(cells, settings), probe };
}

function report(cells: Cell[], { quick, durationS, graphNodes, vectorCount }: Settings): string {
  const rows = cells.map((c) => [c.target, c.connections, fmt(c.requestsPerSecond, 0), fmt(c.p50Ms, 3), fmt(c.p99Ms, 3)]);
  const ratios = connectionCounts.map((connections) => {
    const at = (prefix: string) => cells.find((c) => c.connections === connections && c.target.startsWith(prefix))!.requestsPerSecond;
    const neighbors = at('mnemo GET');
    return `- ${connections} connections: neighbors = ${fmt(neighbors / at('bare uWS'), 2)}× the floor (target ≥ 0.7), ${fmt(neighbors / at('node:http'), 2)}× node:http (target ≥ 2)`;
  });
  const checksum = cells.reduce((sum, c) => sum + c.requests, 0);
  const markdown = [
    '# HTTP throughput and latency (wrk, loopback)',
    '',
    `Machine: ${machineLine()}. wrk ${wrkThreads} thread, ${durationS} s per cell${quick ? ' (--quick)' : ''}.`,
    `Data: ${graphNodes.toLocaleString('en-US')} nodes, the queried node has ${hubDegree} neighbours (one page); ${vectorCount.toLocaleString('en-US')} vectors of ${vectorDim} dimensions.`,
    'The load generator shares the machine: on 2 cores wrk takes one core and the server the other, so these are lower bounds for a dedicated server.',
    '',
    markdownTable(['target', 'connections', 'req/s', 'p50 ms', 'p99 ms'], rows),
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
