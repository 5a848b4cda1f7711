// "How fast is a neighbours query over HTTP, next to what I would otherwise serve it with?"
// bench/http.ts does the measuring (wrk on loopback against mnemo's uWebSockets.js server, a bare
// uWebSockets.js floor and the same route on node:http); this file maps its cells onto the report.
import { execFileSync } from 'node:child_process';

import { ceilingOf, cellOf, connectionCounts, hnswFloorName, routeNames, runHttpBench, settingsOf, type HttpBenchOptions, type HttpBenchReport } from './http.js';
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
  const { durationS, rounds } = settingsOf(options);
  const base: Omit<QuestionResult, 'rows' | 'goals' | 'checksum' | 'skipped' | 'notes'> = {
    id: 'http',
    title: 'HTTP neighbours over loopback (wrk)',
    sizeUnit: 'connections',
    latencyUnit: 'ms',
    compareBy: 'throughput',
    throughputUnit: 'req/s',
    settings: [
      `wrk, 1 thread, on the same 2-core machine as the server (the load generator takes one core, so these are lower bounds for a dedicated server). Route: GET /api/v1/prime/nodes/:id/neighbors for a node with 20 neighbours (one page). Every cell runs ${durationS} s once a round, each floor right before its mnemo cell, for ${rounds} round${rounds === 1 ? '' : 's'}; a cell is its best round by req/s (with that round's p50, p99 and CPU): other work on a shared machine only slows a cell down.`,
      'mnemo: its uWebSockets.js server (`startHttpServer`), durability none, full Prime response shape.',
      "floor: a bare uWebSockets.js app answering each route with the exact bytes mnemo answered it with (status, Content-Type, Server-Timing and body, captured from mnemo in the same run): the network stack + uWS, none of our code. For search, a second floor also runs the same HNSW query (bare hnswlib searchKnn, same vectors and parameters) before sending the same bytes.",
      'node:http: the same neighbours route over the same engine, written as a user would without uWS (keep-alive on).',
    ],
  };
  if (!hasWrk()) return { ...base, rows: [], goals: [], checksum: 0, skipped: ['wrk is not on PATH (Debian: apt-get install wrk); the HTTP question was not measured.'], notes: [] };
  options.log('http: wrk against mnemo, the same-bytes bare uWS floor and node:http');
  const report = await runHttpBench(options);
  const neighborsRoute = routeNames[1];
  const rows: Row[] = report.cells
    .filter((c) => c.target.includes(neighborsRoute))
    .map((c) => ({ subject: c.target, role: roleOf(c.target), size: c.connections, p50: c.p50Ms, p99: c.p99Ms, throughput: c.requestsPerSecond }));
  const others = report.cells.filter((c) => !c.target.includes(neighborsRoute));
  const notes = others.map((c) => `${c.target} at ${c.connections} connections: ${Math.round(c.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${c.p50Ms.toFixed(3)} ms, p99 ${c.p99Ms.toFixed(3)} ms.`);
  for (const connections of connectionCounts) {
    const search = cellOf(report.cells, 'mnemo', routeNames[2], connections);
    notes.push(`Search at ${connections} connections: HNSW (engine.similar in process, p50 ${report.hnswUs.toFixed(1)} µs; bare hnswlib searchKnn ${report.bareHnswUs.toFixed(1)} µs) is ${Math.round((100 * report.hnswUs) / search.cpuUsPerRequest)}% of mnemo's ${search.cpuUsPerRequest.toFixed(1)} µs CPU per request.`);
  }
  notes.push(
    `Ceilings (in each goal's evidence): the ratio by CPU per request mnemo would reach if its HTTP glue (admission, routing, Server-Timing, metrics) cost nothing: the floor's CPU per request plus the route's own work, timed in process (the query serialized into bytes as the server does it; for search also the body's JSON.parse, less the bare HNSW query the search floor runs too): ${routeNames.map((route, i) => `${route} ${report.routeWorkUs[i]!.toFixed(1)} µs`).join(', ')}.`,
  );
  return {
    ...base,
    rows,
    goals: httpGoals(report, rows),
    skipped: [],
    notes,
    checksum: addChecksum(report.probe.mnemoNeighbors * 1000, report.probe.nodeHttpNeighbors),
  };
}

/** Issue 21's targets (each route ≥ 0.7× its same-bytes floor, with the ceiling its own work leaves) and issue 5's (≥ 2× node:http), restated here so the one report carries them. */
function httpGoals({ cells, routeWorkUs, bareHnswUs }: HttpBenchReport, rows: readonly Row[]): QuestionResult['goals'] {
  const floorGoal = (route: string, text: string, floorName: string, workUs: number, floorWorkUs: number): QuestionResult['goals'][number] => {
    const ratios = connectionCounts.map((connections) => {
      const floor = cellOf(cells, floorName, route, connections);
      return { connections, r: cellOf(cells, 'mnemo', route, connections).requestsPerSecond / floor.requestsPerSecond, ceiling: ceilingOf(floor, workUs, floorWorkUs) };
    });
    return {
      text,
      met: ratios.every((x) => x.r >= 0.7),
      evidence: ratios.map((x) => `${x.connections} connections: ${x.r.toFixed(2)}× (ceiling ${x.ceiling.toFixed(2)}×)`).join(', '),
    };
  };
  const floorGoals = routeNames.map((route, i) => floorGoal(route, `HTTP ${route} ≥ 0.7× a bare uWS server sending the same bytes (req/s)`, 'bare uWS', routeWorkUs[i]!, 0));
  const searchRoute = routeNames[2];
  floorGoals.push(floorGoal(searchRoute, `HTTP ${searchRoute} ≥ 0.7× a bare uWS server running the same hnswlib query and sending the same bytes (req/s)`, hnswFloorName, routeWorkUs[2]!, bareHnswUs));
  const sizes = [...new Set(rows.map((r) => r.size))];
  const ratios = sizes.map((s) => ({ s, r: rows.find((r) => r.size === s && r.role === 'mnemo')!.throughput / rows.find((r) => r.size === s && r.role === 'peer')!.throughput }));
  return [...floorGoals, { text: 'HTTP neighbours ≥ 2× node:http (req/s)', met: ratios.every((x) => x.r >= 2), evidence: ratios.map((x) => `${x.s} connections: ${x.r.toFixed(2)}×`).join(', ') }];
}
