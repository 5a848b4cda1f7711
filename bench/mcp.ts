// How much does MCP cost an agent? `prime_neighbors` over MCP stdio (`mnemo mcp`) and MCP HTTP
// (`mnemo serve`), each server in a child process as an agent runs it, next to the same read over the
// plain HTTP route and embedded, in one run with the cases taking turns; and searchText on 100K short nodes.
// `npm run bench:mcp [-- --quick]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { openEngine, type Engine } from '../src/index.js';
import { fmt, hasFlag, machineLine, markdownTable, percentiles, timeEachUs, writeResult } from './support/report.js';
import { seededRandom } from './support/random.js';
import { compiledPath } from './support/compiled.js';
import { httpCaller, stdioCaller } from './support/json-rpc-clients.js';
import { nodeHttpFetch } from './support/node-http-fetch.js';

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

/**
 * Times every case `calls` times in ten alternating blocks (a's first tenth, b's, …), so noise on a
 * shared machine falls on every case alike; µs per call.
 */
async function timeAlternatingAsync(calls: number, ops: ReadonlyArray<(i: number) => Promise<unknown>>): Promise<number[][]> {
  const samples = ops.map((): number[] => []);
  const block = Math.max(1, Math.ceil(calls / 10));
  for (let startAt = 0; startAt < calls; startAt += block) {
    for (let k = 0; k < ops.length; k++) {
      for (let i = startAt; i < Math.min(calls, startAt + block); i++) {
        const started = performance.now();
        await ops[k]!(i);
        samples[k]!.push((performance.now() - started) * 1000);
      }
    }
  }
  return samples;
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
  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [compiledPath('src/cli/main.js'), 'mcp', '--data-dir', dirs[0]!, '--durability', 'none'], stderr: 'ignore' }));
  const serve = await serveChild(dirs[1]!);
  const http = new Client({ name: 'bench', version: '1' });
  await http.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), { fetch: fetchWithOwnSignal }));
  const httpOverNodeHttp = new Client({ name: 'bench', version: '1' });
  await httpOverNodeHttp.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), { fetch: nodeHttpFetch }));
  const leastStdio = await stdioCaller(process.execPath, [compiledPath('src/cli/main.js'), 'mcp', '--data-dir', dirs[3]!, '--durability', 'none']);
  const leastHttp = await httpCaller(serve.url);
  const hub = (i: number) => hubs[i % hubs.length]!;
  const neighborsCall = (i: number) => ({ name: 'prime_neighbors', arguments: { node_id: hub(i) } });
  const rows: string[][] = [];
  try {
    const cases: Array<[string, (i: number) => Promise<unknown>]> = [
      ['MCP stdio `prime_neighbors`', (i) => stdio.callTool({ name: 'prime_neighbors', arguments: { node_id: hub(i) } })],
      ['MCP streamable HTTP `prime_neighbors` (client on Node fetch)', (i) => http.callTool({ name: 'prime_neighbors', arguments: { node_id: hub(i) } })],
      ['MCP streamable HTTP `prime_neighbors` (client on node:http)', (i) => httpOverNodeHttp.callTool({ name: 'prime_neighbors', arguments: { node_id: hub(i) } })],
      ['MCP stdio, least client (one JSON line each way)', (i) => leastStdio.call('tools/call', neighborsCall(i))],
      ['MCP streamable HTTP, least client (one keep-alive POST)', (i) => leastHttp.call('tools/call', neighborsCall(i))],
      ['HTTP `GET /nodes/:id/neighbors`', (i) => fetch(`${serve.url}/api/v1/prime/nodes/${encodeURIComponent(hub(i))}/neighbors`).then((r) => r.text())],
      ['embedded `neighbors`', async (i) => embedded.neighbors(hub(i))],
    ];
    await timeAlternatingAsync(Math.min(200, calls), cases.map(([, op]) => op));
    const results = (await timeAlternatingAsync(calls, cases.map(([, op]) => op))).map((samples) => percentiles(samples));
    const stdioP = results[0]!;
    const embeddedP = results.at(-1)!;
    cases.forEach(([name], k) => {
      const p = results[k]!;
      rows.push(['prime_neighbors (10 neighbours)', name, fmt(p.p50), fmt(p.p99), `${fmt(p.p50 / embeddedP.p50)}× embedded, ${fmt(p.p50 / stdioP.p50)}× stdio`]);
    });
  } finally {
    await stdio.close();
    await http.close();
    await httpOverNodeHttp.close();
    await leastStdio.close();
    await leastHttp.close();
    await stopChild(serve.child);
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
  rows.push(...text.rows);
  const table = markdownTable(['question', 'subject', 'p50 µs', 'p99 µs', 'ratio'], rows);
  return { markdown: `# MCP and text search benchmark\n\nMachine: ${machineLine()}\n\n${table}\n\nChecksum: ${text.checksum}\n`, checksum: text.checksum };
}

async function main(): Promise<void> {
  const quick = hasFlag('quick');
  const { markdown } = await runMcpBench(quick ? { calls: 200, textNodes: 10_000 } : { calls: 1000, textNodes: 100_000 });
  console.log(markdown);
  if (!quick) console.log(`written to ${writeResult('mcp', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
