// Where a request's time goes inside mnemo's HTTP server: the server runs under wrk with V8's
// sampling profiler on, and every sample is charged to the hop of the innermost frame that names
// one (admission, parsing and validation, the engine, serialization, the response write, timing and
// metrics), divided by the requests wrk completed. Time outside JavaScript (uWS parsing requests,
// the kernel's sockets, waiting for wrk) is not sampled as a hop: compare hops, not totals.
//
//   npm run bench:http-profile   (5 s per route, 10 connections)
//
// On a machine shared with other work the µs move with its load; run before/after back to back.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { openEngine } from '../src/index.js';
import { startHttpServer } from '../src/server/http.js';
import { requireWrk, seed, topK, vectorAt, vectorDim, wrk } from './http.js';
import { fmt, hasFlag, machineLine, markdownTable, writeResult } from './support/report.js';

/** Hops in the order a request meets them; a frame is charged to the first hop whose test it passes, innermost frame first. */
const hops: ReadonlyArray<[string, (name: string, url: string) => boolean]> = [
  ['admission (address, exposure, rate limit, auth, shedder)', (name, url) => /server\/(exposure|auth|rate-limit|load-shedder)\.js$/.test(url) || /^getRemoteAddress|^getHeader$/.test(name)],
  ['timing and metrics (Server-Timing, histograms)', (name, url) => /server\/(latency|metrics)\.js$/.test(url) || url.includes('prom-client')],
  ['parsing and validation (params, query, body, zod)', (name, url) => /server\/(body|input)\.js$/.test(url) || url.includes('/zod/') || /kernel\/requests\.js$/.test(url) || (/server\/routes\.js$/.test(url) && /^(parse|queryOf|bodyOf|id|withoutUndefined|directionOf)$/.test(name))],
  ['serialization (snake_case JSON)', (_name, url) => /kernel\/(wire|prime-wire)\.js$/.test(url)],
  ['engine (the query itself)', (name, url) => /\/(engine|query|projections|kernel|storage)\//.test(url) || (url === '' && name === 'distance')],
  ['response write (uWS cork, headers, send)', (name, url) => (url === '' && /^(cork|end|writeHeader|writeStatus|collect)$/.test(name)) || (/server\/http\.js$/.test(url) && name === 'writeResponse')],
  ['garbage collection', (name) => name === '(garbage collector)'],
  ['server glue (the rest of src/server)', (_name, url) => /server\/(http|routes)\.js$/.test(url)],
];

interface HopTable {
  route: string;
  requests: number;
  requestsPerSecond: number;
  /** µs per request for each hop, in `hops` order. */
  us: number[];
}

function charge(profile: Profiler.Profile, requests: number): number[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hopOf = new Map<number, number>();
  const resolve = (id: number): number => {
    const known = hopOf.get(id);
    if (known !== undefined) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    let hop = hops.findIndex(([, test]) => test(functionName, url));
    if (hop < 0) hop = parent.has(id) ? resolve(parent.get(id)!) : -1;
    hopOf.set(id, hop);
    return hop;
  };
  const us = hops.map(() => 0);
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => {
    const hop = resolve(id);
    if (hop >= 0) us[hop]! += deltas[i] ?? 0;
  });
  return us.map((total) => total / requests);
}

export async function runHttpProfile(durationS: number): Promise<{ tables: HopTable[]; markdown: string }> {
  requireWrk();
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-http-profile-'));
  const engine = await openEngine({ dataDir, durability: 'none', vector: { dim: vectorDim } });
  const hub = await seed(engine, { graphNodes: 20_000, vectorCount: 10_000 });
  const server = await startHttpServer(engine, { port: 0 });
  const script = join(dataDir, 'search.lua');
  await writeFile(script, `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ vector: vectorAt(424242), top_k: topK })}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  const prime = '/api/v1/prime';
  const routes: Array<[string, string, string?]> = [
    ['GET /nodes/:id', `${prime}/nodes/${hub}`],
    ['GET /nodes/:id/neighbors', `${prime}/nodes/${hub}/neighbors`],
    [`POST /vectors/search (top_k ${topK})`, `${prime}/vectors/search`, script],
  ];
  const session = new Session();
  session.connect();
  const tables: HopTable[] = [];
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 50 });
    for (const [route, path, lua] of routes) {
      await session.post('Profiler.start');
      const cell = await wrk(durationS, route, `${server.url}${path}`, 10, lua);
      const { profile } = await session.post('Profiler.stop');
      tables.push({ route, requests: cell.requests, requestsPerSecond: cell.requestsPerSecond, us: charge(profile, cell.requests) });
    }
  } finally {
    session.disconnect();
    await server.close();
    await engine.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const header = ['hop (µs per request)', ...tables.map((t) => t.route)];
  const rows = hops.map(([name], i) => [name, ...tables.map((t) => fmt(t.us[i]!, 2))]);
  rows.push(['**sum of hops**', ...tables.map((t) => `**${fmt(t.us.reduce((a, b) => a + b, 0), 2)}**`)]);
  rows.push(['req/s during the profile', ...tables.map((t) => fmt(t.requestsPerSecond, 0))]);
  const markdown = [
    '# HTTP request path, per hop (V8 sampling profiler under wrk)',
    '',
    `Machine: ${machineLine()}. wrk 1 thread, 10 connections, ${durationS} s per route, 50 µs sampling. 20,000 nodes, the hub has 20 neighbours; 10,000 vectors of ${vectorDim} dimensions.`,
    'Each sample is charged to the innermost frame that names a hop; time outside JavaScript (uWS reading requests, the kernel) is not a hop.',
    '',
    markdownTable(header, rows),
    '',
  ].join('\n');
  return { tables, markdown };
}

async function main(): Promise<void> {
  const { markdown } = await runHttpProfile(hasFlag('quick') ? 1 : 5);
  console.log(markdown);
  if (!hasFlag('quick')) console.log(`wrote ${writeResult('http-profile', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
