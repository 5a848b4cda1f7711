// "How fast is a neighbours query over HTTP, next to what I would otherwise serve it with?"
// bench/http.ts does the measuring (wrk on loopback against mnemo's uWebSockets.js server, a bare
// uWebSockets.js floor and the same route on node:http); this file maps its cells onto the report.
import { execFileSync } from 'node:child_process';

import { runHttpBench, type HttpBenchOptions } from './http.js';
import { addChecksum, type QuestionOptions, type QuestionResult, type Row } from './support/question.js';

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    // wrk --version exits 1 after printing its version; only a missing binary means no wrk.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  return true;
}

function roleOf(target: string): Row['role'] {
  if (target.includes('floor')) return 'floor';
  return target.startsWith('mnemo') ? 'mnemo' : 'peer';
}

export async function compareHttp(options: Pick<QuestionOptions, 'log'> & HttpBenchOptions): Promise<QuestionResult> {
  const base: Omit<QuestionResult, 'rows' | 'goals' | 'checksum' | 'skipped' | 'notes'> = {
    id: 'http',
    title: 'HTTP neighbours over loopback (wrk)',
    sizeUnit: 'connections',
    latencyUnit: 'ms',
    compareBy: 'throughput',
    throughputUnit: 'req/s',
    settings: [
      'wrk, 1 thread, on the same 2-core machine as the server (the load generator takes one core, so these are lower bounds for a dedicated server). Route: GET /api/v1/prime/nodes/:id/neighbors for a node with 20 neighbours (one page).',
      'mnemo: its uWebSockets.js server (`startHttpServer`), durability none, full Prime response shape.',
      'floor: a bare uWebSockets.js app answering GET /health with a constant body (the network stack + uWS, none of our code).',
      'node:http: the same neighbours route over the same engine, written as a user would without uWS (keep-alive on).',
    ],
  };
  if (!hasWrk()) return { ...base, rows: [], goals: [], checksum: 0, skipped: ['wrk is not on PATH (Debian: apt-get install wrk); the HTTP question was not measured.'], notes: [] };
  options.log('http: wrk against mnemo, bare uWS and node:http');
  const report = await runHttpBench(options);
  const rows: Row[] = report.cells
    .filter((c) => !c.target.includes('/vectors/search'))
    .map((c) => ({ subject: c.target, role: roleOf(c.target), size: c.connections, p50: c.p50Ms, p99: c.p99Ms, throughput: c.requestsPerSecond }));
  const search = report.cells.filter((c) => c.target.includes('/vectors/search'));
  const notes = search.map((c) => `${c.target} at ${c.connections} connections: ${Math.round(c.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${c.p50Ms.toFixed(3)} ms, p99 ${c.p99Ms.toFixed(3)} ms.`);
  return {
    ...base,
    rows,
    goals: httpGoals(rows),
    skipped: [],
    notes,
    checksum: addChecksum(report.probe.mnemoNeighbors * 1000, report.probe.nodeHttpNeighbors),
  };
}

/** Issue 5's targets, restated here so the one report carries them. */
function httpGoals(rows: readonly Row[]): QuestionResult['goals'] {
  const sizes = [...new Set(rows.map((r) => r.size))];
  const ratio = (peerRole: Row['role'], size: number) => {
    const mnemo = rows.find((r) => r.size === size && r.role === 'mnemo')!;
    const other = rows.find((r) => r.size === size && r.role === peerRole)!;
    return mnemo.throughput / other.throughput;
  };
  const goal = (text: string, role: Row['role'], atLeast: number) => {
    const ratios = sizes.map((s) => ({ s, r: ratio(role, s) }));
    return { text, met: ratios.every((x) => x.r >= atLeast), evidence: ratios.map((x) => `${x.s} connections: ${x.r.toFixed(2)}×`).join(', ') };
  };
  return [goal('HTTP neighbours ≥ 0.7× the bare uWS floor (req/s)', 'floor', 0.7), goal('HTTP neighbours ≥ 2× node:http (req/s)', 'peer', 2)];
}
