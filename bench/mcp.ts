// How much does MCP cost an agent? `prime_neighbors` over MCP stdio (`mnemo mcp`) and MCP HTTP
// (`mnemo serve`), each server in a child process as an agent runs it, next to the same read over the
// plain HTTP route and embedded, and each HTTP client's floor (a POST of the same bytes to a server that
// only answers them), in one run with the cases taking turns; and searchText on 100K short nodes.
// `npm run bench:mcp [-- --quick]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { openEngine, type Engine } from '../src/index.js';
import { mcpFetch } from '../src/mcp/client-fetch.js';
import { fmt, hasFlag, machineLine, markdownTable, percentiles, timeEachUs, writeResult } from './support/report.js';
import { seededRandom } from './support/random.js';
import { compiledPath } from './support/compiled.js';
import { httpCaller, stdioCaller } from './support/json-rpc-clients.js';

const words = ['memory', 'graph', 'vector', 'agent', 'index', 'log', 'commit', 'query', 'recall', 'node', 'edge', 'segment', 'parquet', 'checkpoint', 'latency', 'fsync'];

export interface McpBenchOptions {
  calls: number;
  textNodes: number;
}

/** A small graph: `hubs` nodes with 10 neighbours each. */
async function seedGraph(db: Engine, hubs: number): Promise<string[]> {
  const events: unknown[] = [];
  for (let i = 0; i < hubs * 11; i++) events.push({ type: 'prime.node.created', payload: { id: `node:n:${i}`, type: 'n', properties: { name: `n${i}` } } });
  for (let h = 0; h < hubs; h++) {
    for (let d = 1; d <= 10; d++) events.push({ type: 'prime.edge.created', payload: { id: `edge:${h}:${d}`, source: `node:n:${h}`, target: `node:n:${hubs + h * 10 + d - 1}`, relation: 'r' } });
  }
  for (let i = 0; i < events.length; i += 1000) await db.append(events.slice(i, i + 1000));
  return Array.from({ length: hubs }, (_, h) => `node:n:${h}`);
}

/**
 * The SDK's HTTP client transport hands one AbortSignal to every fetch, and undici takes its listener
 * off that signal only when the request is garbage-collected: listeners pile up (Node warns past
 * 1,500) and each fetch pays for the pile, so the round trip grew with the number of calls made
 * (p50 4.8 ms after a few thousand). This fetch gives each request a signal of its own, tied to the
 * transport's while the request runs: what an MCP client should do (docs/mcp.md).
 */
export const fetchWithOwnSignal = async (url: string | URL, init: RequestInit = {}): Promise<Response> => {
  const outer = init.signal;
  const own = new AbortController();
  const abort = (): void => own.abort(outer?.reason);
  outer?.addEventListener('abort', abort, { once: true });
  try {
    return await fetch(url, { ...init, signal: own.signal });
  } finally {
    outer?.removeEventListener('abort', abort);
  }
};

/** `mnemo serve` in a child process on a free port, resolved with its URL once it serves. */
function serveChild(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [compiledPath('src/cli/main.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--durability', 'none'], { env: { ...process.env, MNEMO_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve({ url: match[1]!, child });
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => reject(new Error(`mnemo serve exited with ${code}:\n${output}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** CPU time a process has used so far, µs, over all its threads (Linux); NaN where /proc cannot tell. */
function processCpuUs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    let ns = 0;
    // schedstat's first field is nanoseconds on a CPU, per thread: finer than stat's 10 ms ticks.
    for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1000;
  } catch {
    return Number.NaN;
  }
}

interface Case {
  name: string;
  op: (i: number) => Promise<unknown>;
  /** The process that answers, when it is not this one. */
  serverPid?: number;
}

interface CaseTimes {
  samples: number[];
  clientCpuUs: number;
  serverCpuUs: number;
}

/**
 * Times every case `calls` times in ten alternating blocks (a's first tenth, b's, …), so noise on a
 * shared machine falls on every case alike; µs per call, and the CPU each side spent in the case's blocks.
 */
async function timeAlternatingAsync(calls: number, cases: readonly Case[]): Promise<CaseTimes[]> {
  const times = cases.map((): CaseTimes => ({ samples: [], clientCpuUs: 0, serverCpuUs: 0 }));
  const block = Math.max(1, Math.ceil(calls / 10));
  for (let startAt = 0; startAt < calls; startAt += block) {
    for (let k = 0; k < cases.length; k++) {
      const { op, serverPid } = cases[k]!;
      const clientBefore = process.cpuUsage();
      const serverBefore = processCpuUs(serverPid);
      for (let i = startAt; i < Math.min(calls, startAt + block); i++) {
        const started = performance.now();
        await op(i);
        times[k]!.samples.push((performance.now() - started) * 1000);
      }
      const client = process.cpuUsage(clientBefore);
      times[k]!.clientCpuUs += client.user + client.system;
      times[k]!.serverCpuUs += processCpuUs(serverPid) - serverBefore;
    }
  }
  return times;
}

/** The floor server (bench/support/canned-server.ts) in a child process, answering every POST with `answer`. */
function cannedChild(answer: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [compiledPath('bench/support/canned-server.js'), answer], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ url: chunk.toString().trim(), child }));
    child.once('exit', (code) => reject(new Error(`canned server exited with ${code}`)));
  });
}

async function neighborsRoundTrips(calls: number): Promise<string[][]> {
  // Four copies of the same history: two stdio servers (`mnemo mcp`: one for the SDK's client, one
  // for the least client) and the HTTP server (`mnemo serve`) each own one in a child process, as an
  // agent runs them; the embedded engine reads the fourth.
  const dirs = await Promise.all([0, 1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'mnemo-bench-mcp-'))));
  let hubs: string[] = [];
  for (const dataDir of [dirs[0]!, dirs[1]!, dirs[3]!]) {
    const seeded = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    hubs = await seedGraph(seeded, 100);
    await seeded.close();
  }
  const embedded = await openEngine({ dataDir: dirs[2]!, durability: 'none', onWarning: () => {} });
  await seedGraph(embedded, 100);
  const stdioTransport = new StdioClientTransport({ command: process.execPath, args: [compiledPath('src/cli/main.js'), 'mcp', '--data-dir', dirs[0]!, '--durability', 'none'], stderr: 'ignore' });
  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(stdioTransport);
  const serve = await serveChild(dirs[1]!);
  const mcpUrl = new URL(`${serve.url}/mcp`);
  const http = new Client({ name: 'bench', version: '1' });
  await http.connect(new StreamableHTTPClientTransport(mcpUrl, { fetch: fetchWithOwnSignal }));
  const httpOnMcpFetch = new Client({ name: 'bench', version: '1' });
  await httpOnMcpFetch.connect(new StreamableHTTPClientTransport(mcpUrl, { fetch: mcpFetch }));
  const leastStdio = await stdioCaller(process.execPath, [compiledPath('src/cli/main.js'), 'mcp', '--data-dir', dirs[3]!, '--durability', 'none']);
  const leastHttp = await httpCaller(serve.url);
  const hub = (i: number) => hubs[i % hubs.length]!;
  const neighborsCall = (i: number) => ({ name: 'prime_neighbors', arguments: { node_id: hub(i) } });
  // The floor answers every POST with the bytes mnemo answered for one hub, to the same request bytes the SDK sends.
  const requestBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: neighborsCall(0) });
  const postHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const answer = await (await fetch(mcpUrl, { method: 'POST', headers: postHeaders, body: requestBody })).text();
  const canned = await cannedChild(answer);
  const postToFloor = (fetcher: (url: string, init: RequestInit) => Promise<Response>) => async () => (await fetcher(canned.url, { method: 'POST', headers: postHeaders, body: requestBody })).json();
  const rows: string[][] = [];
  try {
    const cases: Case[] = [
      { name: 'MCP stdio `prime_neighbors`', op: (i) => stdio.callTool(neighborsCall(i)), serverPid: stdioTransport.pid ?? undefined },
      { name: 'MCP streamable HTTP `prime_neighbors` (client on Node fetch)', op: (i) => http.callTool(neighborsCall(i)), serverPid: serve.child.pid },
      { name: 'MCP streamable HTTP `prime_neighbors` (client on `mcpFetch`)', op: (i) => httpOnMcpFetch.callTool(neighborsCall(i)), serverPid: serve.child.pid },
      { name: 'MCP stdio, least client (one JSON line each way)', op: (i) => leastStdio.call('tools/call', neighborsCall(i)), serverPid: leastStdio.pid },
      { name: 'MCP streamable HTTP, least client (one keep-alive POST)', op: (i) => leastHttp.call('tools/call', neighborsCall(i)), serverPid: serve.child.pid },
      { name: 'floor: Node fetch POST of the same bytes to a server that only answers them', op: postToFloor(fetch), serverPid: canned.child.pid },
      { name: 'floor: `mcpFetch` POST of the same bytes to that server', op: postToFloor(mcpFetch), serverPid: canned.child.pid },
      { name: 'HTTP `GET /nodes/:id/neighbors`', op: (i) => fetch(`${serve.url}/api/v1/prime/nodes/${encodeURIComponent(hub(i))}/neighbors`).then((r) => r.text()), serverPid: serve.child.pid },
      { name: 'embedded `neighbors`', op: async (i) => embedded.neighbors(hub(i)) },
    ];
    await timeAlternatingAsync(Math.min(200, calls), cases);
    const results = await timeAlternatingAsync(calls, cases);
    const stdioP = percentiles(results[0]!.samples);
    const embeddedP = percentiles(results.at(-1)!.samples);
    cases.forEach(({ name }, k) => {
      const { samples, clientCpuUs, serverCpuUs } = results[k]!;
      const p = percentiles(samples);
      const perCall = (us: number) => (Number.isNaN(us) ? '' : fmt(us / samples.length, 0));
      rows.push(['prime_neighbors (10 neighbours)', name, fmt(p.p50), fmt(p.p99), `${fmt(p.p50 / embeddedP.p50)}× embedded, ${fmt(p.p50 / stdioP.p50)}× stdio`, perCall(clientCpuUs), perCall(serverCpuUs)]);
    });
  } finally {
    await stdio.close();
    await http.close();
    await httpOnMcpFetch.close();
    await leastStdio.close();
    await leastHttp.close();
    await stopChild(serve.child);
    await stopChild(canned.child);
    await embedded.close();
    for (const dataDir of dirs) await rm(dataDir, { recursive: true, force: true });
  }
  return rows;
}

async function searchTextRows(nodes: number, calls: number): Promise<{ rows: string[][]; checksum: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-text-'));
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  try {
    const random = seededRandom(7);
    const pick = () => words[Math.floor(random() * words.length)]!;
    for (let start = 0; start < nodes; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(nodes, start + 1000); i++) {
        batch.push({ type: 'prime.node.created', payload: { id: `node:note:${i}`, type: 'note', properties: { title: `${pick()} ${pick()} ${i}`, body: `${pick()} ${pick()} ${pick()} ${pick()}` } } });
      }
      await db.append(batch);
    }
    const queries = Array.from({ length: 100 }, () => `${pick()} ${pick()}`);
    timeEachUs(200, (i) => db.searchText(queries[i % 100]!, { topK: 10 }));
    const run = timeEachUs(calls, (i) => db.searchText(queries[i % 100]!, { topK: 10 }));
    const p = percentiles(run.samples);
    return { rows: [[`searchText topK 10, ${nodes.toLocaleString('en-US')} nodes`, 'mnemo BM25 `searchText` (2-word query)', fmt(p.p50), fmt(p.p99), '']], checksum: run.checksum };
  } finally {
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runMcpBench(options: McpBenchOptions): Promise<{ markdown: string; checksum: number }> {
  const rows = await neighborsRoundTrips(options.calls);
  const text = await searchTextRows(options.textNodes, Math.min(options.calls, 2000));
  rows.push(...text.rows.map((row) => [...row, '', '']));
  const table = markdownTable(['question', 'subject', 'p50 µs', 'p99 µs', 'ratio', 'client CPU µs/call', 'server CPU µs/call'], rows);
  return { markdown: `# MCP and text search benchmark\n\nMachine: ${machineLine()}\n\n${table}\n\nChecksum: ${text.checksum}\n`, checksum: text.checksum };
}

async function main(): Promise<void> {
  const quick = hasFlag('quick');
  const { markdown } = await runMcpBench(quick ? { calls: 200, textNodes: 10_000 } : { calls: 1000, textNodes: 100_000 });
  console.log(markdown);
  if (!quick) console.log(`written to ${writeResult('mcp', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
