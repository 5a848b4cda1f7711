// How much does MCP cost an agent? `prime_neighbors` over MCP stdio and MCP HTTP, next to the same
// read over the plain HTTP route and embedded, in one run; and searchText on 100K short nodes.
// `npm run bench:mcp [-- --quick]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { openEngine, type Engine } from '../src/index.js';
import { startHttpServer } from '../src/server/http.js';
import { mcpRoutes } from '../src/mcp/route.js';
import { packageVersion } from '../src/kernel/version.js';
import { fmt, hasFlag, machineLine, markdownTable, percentiles, timeEachUs, writeResult } from './support/report.js';
import { seededRandom } from './support/random.js';
import { compiledPath } from './support/compiled.js';

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

async function timeAsync(count: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op(i);
    samples.push((performance.now() - started) * 1000);
  }
  return samples;
}

async function neighborsRoundTrips(calls: number): Promise<string[][]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-mcp-'));
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  const hubs = await seedGraph(db, 100);
  await db.close();
  // The stdio server owns the data dir while it runs; the HTTP server and embedded engine open a copy of the same history.
  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [compiledPath('src/cli/main.js'), 'mcp', '--data-dir', dataDir, '--durability', 'none'], stderr: 'ignore' }));
  const dataDir2 = await mkdtemp(join(tmpdir(), 'mnemo-bench-mcp-'));
  const db2 = await openEngine({ dataDir: dataDir2, durability: 'none', onWarning: () => {} });
  await seedGraph(db2, 100);
  const server = await startHttpServer(db2, { host: '127.0.0.1', port: 0, extraRoutes: mcpRoutes(packageVersion()) });
  const http = new Client({ name: 'bench', version: '1' });
  await http.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  const hub = (i: number) => hubs[i % hubs.length]!;
  const rows: string[][] = [];
  try {
    const cases: Array<[string, (i: number) => Promise<unknown>]> = [
      ['MCP stdio `prime_neighbors`', (i) => stdio.callTool({ name: 'prime_neighbors', arguments: { node_id: hub(i) } })],
      ['MCP streamable HTTP `prime_neighbors`', (i) => http.callTool({ name: 'prime_neighbors', arguments: { node_id: hub(i) } })],
      ['HTTP `GET /nodes/:id/neighbors`', (i) => fetch(`${server.url}/api/v1/prime/nodes/${encodeURIComponent(hub(i))}/neighbors`).then((r) => r.text())],
      ['embedded `neighbors`', async (i) => db2.neighbors(hub(i))],
    ];
    const results = [];
    for (const [name, op] of cases) {
      await timeAsync(Math.min(200, calls), op);
      results.push([name, percentiles(await timeAsync(calls, op))] as const);
    }
    const embedded = results.at(-1)![1];
    for (const [name, p] of results) rows.push(['prime_neighbors (10 neighbours)', name, fmt(p.p50), fmt(p.p99), `${fmt(p.p50 / embedded.p50)}× embedded`]);
  } finally {
    await stdio.close();
    await http.close();
    await server.close();
    await db2.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(dataDir2, { recursive: true, force: true });
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
