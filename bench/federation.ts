// "What does asking another machine cost, and does the wire lose anything?" A peer (`mnemo
// serve` in a network namespace of its own, over a veth pair, verifying signatures) holds N
// memories of known text; this process asks it 30 warm text recalls per store size through a
// federated recall, and runs the same recalls on a local copy of the same memories, alternating,
// in the same run. Recall@1/@3/@10 over the wire must be 1.00 (each query names one memory's
// unique word): anything less means the wire dropped, truncated or reordered results. One row
// adds a 10 ms ± 2 ms netem delay on the veth, a stand-in for a mesh VPN hop; its overhead over
// local should be about one round trip (the floor: GET /health over the same link) plus < 2 ms.
// Needs root, iproute2 and tc (Debian: iproute2).
//
//   npm run bench:federation            sizes 10, 100, 500, 10,000 and the netem row, 30 queries each
//   npm run bench:federation -- --quick sizes 10 and 100 and the netem row, 10 queries each

import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadIdentity } from '../src/admin.js';
import { openEngine, type MnemoEngine } from '../src/index.js';
import { givenNamespace, serveInNamespace, type Namespace } from './support/netns.js';
import { startDelayRelay, type DelayRelay } from './support/delay-relay.js';
import { fmt, hasFlag, machineLine, markdownTable, writeResult } from './support/report.js';

const run = promisify(execFile);

export interface FederationBenchOptions {
  sizes: number[];
  /** Measured queries per row (after `warmQueries`). */
  queries: number;
  /** The store size of the netem row; undefined: no netem row. */
  netemSize?: number;
}

const warmQueries = 5;
const topK = 10;
/** The bench measures cost, not deadlines: a generous one keeps every answer complete. */
const benchDeadlineMs = 10_000;
const netemDelay = ['delay', '10ms', '2ms'];
const delayMs = 10;
const jitterMs = 2;

export interface Row {
  size: number;
  link: string;
  recallAt1: number;
  recallAt3: number;
  recallAt10: number;
  localP50: number;
  localP95: number;
  federatedP50: number;
  federatedP95: number;
  floorP50: number;
}

/** The text of memory `i`: shared words (so BM25 has to rank) and one word only it has. */
function memoryText(i: number): string {
  return `decision about the project memory ${uniqueWord(i)} recorded during the review`;
}

function uniqueWord(i: number): string {
  return `mem${i.toString(36)}word`;
}

function memoryId(i: number): string {
  return `node:memory:m${i}`;
}

async function populate(engine: MnemoEngine, size: number): Promise<void> {
  const batch = 5_000;
  for (let start = 0; start < size; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(size, start + batch); i++) {
      events.push({ type: 'prime.node.created', payload: { id: memoryId(i), type: 'memory', properties: { text: memoryText(i) } } });
    }
    await engine.append(events);
  }
}

function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** One GET /health round trip over a keep-alive connection, ms. */
function healthRoundTrip(agent: http.Agent, url: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/health`, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - started));
      })
      .on('error', reject);
  });
}

interface RowInput {
  size: number;
  link: string;
  queries: number;
  namespace: Namespace;
  askerKey: string;
  /** The asker, for the URL it should reach the peer at (the peer's address, or a delaying relay). */
  asker: (url: string) => Promise<MnemoEngine>;
  /** Through a userspace delay relay instead of straight to the namespace. */
  relayed: boolean;
  dirs: string[];
}

async function measureRow(input: RowInput): Promise<Row> {
  const peerDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-peer-'));
  const twinDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-twin-'));
  input.dirs.push(peerDir, twinDir);
  const seed = await openEngine({ dataDir: peerDir, durability: 'none', onWarning: () => {} });
  await populate(seed, input.size);
  await seed.close();
  const twin = await openEngine({ dataDir: twinDir, durability: 'none', onWarning: () => {} });
  await populate(twin, input.size);
  const peer = await serveInNamespace(input.namespace, peerDir, [], { MNEMO_PEER_ENABLED: '1', MNEMO_PEER_TRUST: input.askerKey, MNEMO_API_KEY: '' });
  let relay: DelayRelay | undefined;
  let url = peer.url;
  if (input.relayed) {
    relay = await startDelayRelay({ host: input.namespace.address, port: Number(new URL(peer.url).port) }, delayMs, jitterMs);
    url = `http://127.0.0.1:${relay.port}`;
  }
  const asker = await input.asker(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const target = (q: number) => (q * 7919) % input.size;
    const ask = (q: number) => asker.recall({ text: uniqueWord(target(q)), topK, depth: 0, peers: ['peer'], deadlineMs: benchDeadlineMs });
    for (let q = 0; q < warmQueries; q++) {
      twin.recall({ text: uniqueWord(target(q)), topK, depth: 0 });
      await ask(q);
      await healthRoundTrip(agent, url);
    }
    const local: number[] = [];
    const federated: number[] = [];
    const floor: number[] = [];
    const found = { at1: 0, at3: 0, at10: 0 };
    for (let q = 0; q < input.queries; q++) {
      let started = performance.now();
      twin.recall({ text: uniqueWord(target(q)), topK, depth: 0 });
      local.push(performance.now() - started);
      started = performance.now();
      const answer = await ask(q);
      federated.push(performance.now() - started);
      floor.push(await healthRoundTrip(agent, url));
      if (answer.degraded || answer.peers[0]?.status !== 'ok') throw new Error(`peer did not answer: ${JSON.stringify(answer.peers)}`);
      const rank = answer.results.findIndex((r) => r.origin === 'peer' && r.id === memoryId(target(q)));
      if (rank === 0) found.at1++;
      if (rank >= 0 && rank < 3) found.at3++;
      if (rank >= 0 && rank < 10) found.at10++;
    }
    return {
      size: input.size,
      link: input.link,
      recallAt1: found.at1 / input.queries,
      recallAt3: found.at3 / input.queries,
      recallAt10: found.at10 / input.queries,
      localP50: quantile(local, 0.5),
      localP95: quantile(local, 0.95),
      federatedP50: quantile(federated, 0.5),
      federatedP95: quantile(federated, 0.95),
      floorP50: quantile(floor, 0.5),
    };
  } finally {
    agent.destroy();
    await relay?.close();
    await twin.close();
    await peer.stop();
  }
}

export async function runFederationBench(options: FederationBenchOptions): Promise<Row[]> {
  const namespace = await givenNamespace(7);
  const dirs: string[] = [];
  const askerDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-asker-'));
  dirs.push(askerDir);
  const askerKey = loadIdentity(askerDir).publicKey;
  let asker: { url: string; engine: MnemoEngine } | undefined;
  const askerOf = async (url: string): Promise<MnemoEngine> => {
    // One asker per peer URL: its keep-alive connections are re-made when a row's server restarts.
    if (asker?.url === url) return asker.engine;
    await asker?.engine.close();
    asker = { url, engine: await openEngine({ dataDir: askerDir, durability: 'none', onWarning: () => {}, federation: { origin: 'asker', peers: [{ name: 'peer', url }] } }) };
    return asker.engine;
  };
  const rows: Row[] = [];
  const base = { queries: options.queries, namespace, askerKey, asker: askerOf, dirs };
  try {
    for (const size of options.sizes) rows.push(await measureRow({ ...base, size, link: 'veth', relayed: false }));
    if (options.netemSize !== undefined) {
      const netem = await run('tc', ['qdisc', 'add', 'dev', namespace.hostDevice, 'root', 'netem', ...netemDelay]).then(
        () => true,
        (e: { stderr?: string }) => {
          console.error(`tc netem unavailable (${(e.stderr ?? '').trim()}); delaying in a userspace relay instead`);
          return false;
        },
      );
      try {
        const link = netem ? `veth + netem ${delayMs} ms ± ${jitterMs} ms` : `veth + relay ${delayMs} ms ± ${jitterMs} ms (no netem in this kernel)`;
        rows.push(await measureRow({ ...base, size: options.netemSize, link, relayed: !netem }));
      } finally {
        if (netem) await run('tc', ['qdisc', 'del', 'dev', namespace.hostDevice, 'root']).catch(() => {});
      }
    }
  } finally {
    await asker?.engine.close();
    await namespace.remove();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

export function reportOf(rows: readonly Row[], queries: number): string {
  const table = markdownTable(
    ['memories on the peer', 'link', 'recall@1', 'recall@3', 'recall@10', 'local p50 ms', 'local p95 ms', 'federated p50 ms', 'federated p95 ms', 'floor RTT p50 ms', 'overhead p50 ms', 'overhead − RTT ms'],
    rows.map((r) => [
      r.size.toLocaleString('en-US'),
      r.link,
      fmt(r.recallAt1),
      fmt(r.recallAt3),
      fmt(r.recallAt10),
      fmt(r.localP50, 3),
      fmt(r.localP95, 3),
      fmt(r.federatedP50, 3),
      fmt(r.federatedP95, 3),
      fmt(r.floorP50, 3),
      fmt(r.federatedP50 - r.localP50, 3),
      fmt(r.federatedP50 - r.localP50 - r.floorP50, 3),
    ]),
  );
  return [
    '## Federated recall across a veth pair',
    '',
    `Machine: ${machineLine()}. ${queries} warm text recalls (top_k ${topK}, depth 0) per row, each naming one memory's unique word; local and federated alternate in the same run.`,
    '',
    table,
    '',
    '- peer: `mnemo serve` in its own network namespace, verifying signatures (MNEMO_PEER_TRUST); the asker signs every request and keeps its connection alive.',
    "- local: the same recall, in process, on a copy of the same memories. federated: the asker's `recall({ peers: ['peer'] })`, in process, with no memory of its own: wire, signing, the peer's route and merging.",
    "- floor RTT: GET /health to the peer over its own keep-alive connection, measured between the federated queries. overhead − RTT is what federation adds beyond the network round trip.",
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench:federation needs root (network namespaces, tc)');
    process.exitCode = 1;
    return;
  }
  const quick = hasFlag('quick');
  const options: FederationBenchOptions = quick ? { sizes: [10, 100], queries: 10, netemSize: 100 } : { sizes: [10, 100, 500, 10_000], queries: 30, netemSize: 500 };
  const rows = await runFederationBench(options);
  const markdown = reportOf(rows, options.queries);
  console.log(markdown);
  console.log(`wrote ${writeResult('federation', markdown)}`);
  const lossy = rows.filter((r) => r.recallAt1 < 1 || r.recallAt3 < 1 || r.recallAt10 < 1);
  if (lossy.length > 0) {
    console.error(`recall over the wire below 1.00 in ${lossy.length} row(s): the wire lost or reordered results`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
