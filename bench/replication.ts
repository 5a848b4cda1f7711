// `npm run bench:replication`: replicated mode on a three-server NATS JetStream cluster started
// here on loopback ports (all on this machine, with the engines: everything shares its cores).
// Three engines run in this one process, each with its own data dir and NATS connection, so
// publish-to-visible latency is read on one clock.
//
// Rows, all from the same run:
//  - ingest: batches of 1000 graph events (nodes, then edges between them), durability fsync:
//    local-only engine vs replicated engine (append resolved locally, and until the stream holds all);
//  - publish-to-visible: one node added on A, time until B's getNode sees it (p50/p99);
//  - catch-up: E (`mnemo serve` in its own process, as a user runs it) stopped while W writes 1M
//    events on a stream of their own; E restarted: events logged per second from its spawn until
//    it logged them all; beside it, the transport's floor: a bare JetStream pull consumer draining the same messages
//    (acked one by one, pulled 4 MiB at a time as mnemo's consumer does), nothing applied;
//  - heal: a fourth machine, D, runs as `mnemo serve` in a network namespace of its own (root and
//    iproute2; the cluster listens on the root end of its veth). Its link is cut while A and D
//    write, then restored: time from the link coming back until every digest matches. Without
//    root, D's only NATS server is killed and restarted instead (a server loss, not a partition:
//    the row says which).
// Counts are bounded (see the constants) so the whole run takes about a minute.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { openEngine, type Engine, type ReplicationStats } from '../src/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NatsCluster, type NatsServer } from './support/nats-cluster.js';
import { givenNamespace, type Namespace } from './support/netns.js';
import { Machine } from './support/replica-machine.js';
import { fmt, machineLine, markdownTable, percentiles } from './support/report.js';

const batchEvents = 1_000;
const ingestBatches = Number(process.env.MNEMO_BENCH_REPL_BATCHES ?? 100);
const latencySamples = Number(process.env.MNEMO_BENCH_REPL_SAMPLES ?? 300);
const catchUpEvents = Number(process.env.MNEMO_BENCH_REPL_CATCHUP ?? 1_000_000);
const healEventsPerSide = 2_000;
const settleTimeoutMs = 120_000;

const root = mkdtempSync(join(tmpdir(), 'mnemo-bench-repl-'));
let cluster: NatsCluster;
const open: Engine[] = [];
let ns: Namespace | undefined;
let d: Machine | undefined;
let e: Machine | undefined;

function graphBatch(prefix: string, batch: number): unknown[] {
  const nodes = batchEvents / 2;
  const ids = Array.from({ length: nodes }, (_, i) => `node:note:${prefix}-${batch}-${i}`);
  const events: unknown[] = ids.map((id, i) => ({ type: 'prime.node.created', payload: { id, type: 'note', properties: { i } } }));
  for (let i = 0; i < nodes; i++) events.push({ type: 'prime.edge.created', payload: { source: ids[i]!, target: ids[(i * 7 + 1) % nodes]!, relation: 'links' } });
  return events;
}

async function engineAt(name: string, servers: string[] | undefined, stream: string): Promise<Engine> {
  const engine = await openEngine({
    dataDir: join(root, name),
    durability: 'fsync',
    onWarning: () => {},
    ...(servers === undefined ? {} : { replication: { servers, origin: name, stream } }),
  });
  open.push(engine);
  return engine;
}

function replication(engine: Engine): ReplicationStats {
  return engine.replicationStats()!;
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + settleTimeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Converged: no backlog, the same number of events logged everywhere (each machine logs every
 * origin's events once), then the same content digest. The digest sorts every id, so it is asked
 * only once the cheap checks pass, not on every poll.
 */
const digestsMatch = (engines: readonly Engine[]) => () => allLoggedIn(engines)() && new Set(engines.map((e) => e.contentDigest())).size === 1;

/** No backlog and the same number of events logged everywhere: every event is on every machine. */
const allLoggedIn = (engines: readonly Engine[]) => () =>
  engines.every((e) => replication(e).publishBacklog === 0) && new Set(engines.map((e) => e.stats().lastSeq)).size === 1;

/** Ms a bare pull consumer takes to drain the last `messages` messages on `subject` from E's server: the catch-up's transport floor. */
async function drainFloorMs(urls: string[], stream: string, subject: string, messages: number): Promise<number> {
  const nc = await connect({ servers: [urls[2]!, urls[0]!] });
  try {
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.getMessage(stream, { last_by_subj: subject }))!.seq;
    const name = 'floor-drain';
    await jsm.consumers.add(stream, { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: last - messages + 1 });
    const start = performance.now();
    const consumer = await jetstream(nc).consumers.get(stream, name);
    const iterator = await consumer.consume({ max_bytes: 4 * 1024 * 1024, expires: 2_000 });
    let seen = 0;
    for await (const message of iterator) {
      message.ack();
      if (++seen === messages) break;
    }
    const ms = performance.now() - start;
    await jsm.consumers.delete(stream, name);
    return ms;
  } finally {
    await nc.close();
  }
}

/** A and D write while D's link is cut; ms from the link coming back until every digest matches. */
async function healAfterPartition(namespace: Namespace, a: Engine, b: Engine, c: Engine): Promise<string[]> {
  const link = (state: 'up' | 'down') => promisify(execFile)('ip', ['netns', 'exec', namespace.name, 'ip', 'link', 'set', namespace.peerDevice, state]);
  d = new Machine('d', join(root, 'd'), () => cluster.urls, ['--replication-stream', 'bench'], { name: namespace.name });
  await d.start();
  const machine = d;
  // Logged everywhere (nobody writing): every machine logs every origin's events once, so equal last seqs mean all are everywhere.
  const allLogged = async () => allLoggedIn([a, b, c])() && (await machine.lastSeq()) === a.stats().lastSeq;
  const digestsAgree = async () => (await machine.stats()).content_digest === a.contentDigest();
  await untilAsync('d to catch up before the cut', allLogged);
  // After the heal, every machine holds what it held before the cut plus both sides' writes.
  const expected = a.stats().lastSeq + 2 * healEventsPerSide;
  const healed = async () => [a, b, c].every((e) => e.stats().lastSeq === expected) && (await machine.lastSeq()) === expected;
  await link('down');
  await Promise.all([
    (async () => { for (let i = 0; i < healEventsPerSide / batchEvents; i++) await a.append(graphBatch('heal-a', i)); })(),
    (async () => { for (let i = 0; i < healEventsPerSide / batchEvents; i++) if ((await machine.append(graphBatch('heal-d', i))) !== 200) throw new Error('d refused a write while cut off'); })(),
  ]);
  // D notices within its ping interval (1 s, two missed) as a rule; a heal before it noticed is a partition too.
  await untilAsync('d to notice the cut', async () => !(await machine.stats()).replication.connected, 15_000).catch(() => {});
  const healStart = performance.now();
  await link('up');
  await untilAsync('every event logged everywhere after the heal', healed);
  const healMs = performance.now() - healStart;
  if (!digestsMatch([a, b, c])() || !(await digestsAgree())) {
    const counts = (e: Engine) => ({ nodes: e.stats().totalNodes, edges: e.stats().totalEdges, lastSeq: e.stats().lastSeq, digest: e.contentDigest().slice(0, 12), merge: e.replicationStats() });
    const ds = await machine.stats();
    throw new Error(`the machines logged the same events but their content differs: ${JSON.stringify({ a: counts(a), b: counts(b), c: counts(c), d: { nodes: ds.total_nodes, edges: ds.total_edges, digest: ds.content_digest.slice(0, 12), replication: ds.replication } })}`);
  }
  return ['converge after a partition heals', `${fmt(healMs / 1000)} s`, '', `D (its own process in a network namespace) cut off while A and D wrote ${healEventsPerSide.toLocaleString('en-US')} events each; from the link coming back until every event is logged everywhere (then the digests are checked equal); goal ≤ 2 s`];
}

/** Without root: B's only server killed while A and B write; ms from its restart until every digest matches. */
async function healAfterServerLoss(a: Engine, b: Engine, c: Engine): Promise<string[]> {
  const bServer = cluster.servers[1] as NatsServer;
  await cluster.kill(bServer);
  await Promise.all([
    (async () => { for (let i = 0; i < healEventsPerSide / batchEvents; i++) await a.append(graphBatch('heal-a', i)); })(),
    (async () => { for (let i = 0; i < healEventsPerSide / batchEvents; i++) await b.append(graphBatch('heal-b', i)); })(),
  ]);
  const healStart = performance.now();
  await cluster.restart(bServer);
  const restartedMs = performance.now() - healStart;
  await until('convergence after the restart', digestsMatch([a, b, c]));
  const healMs = performance.now() - healStart;
  return ['converge after its only NATS server returns (no root: no partition)', `${fmt(healMs / 1000)} s`, '', `B's only server down while A and B wrote ${healEventsPerSide.toLocaleString('en-US')} events each; from restart (server up in ${fmt(restartedMs)} ms); includes the server rejoining its cluster`];
}

async function untilAsync(what: string, done: () => Promise<boolean>, timeoutMs = settleTimeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ingest(engine: Engine, prefix: string): Promise<{ localMs: number; streamMs: number }> {
  const batches = Array.from({ length: ingestBatches }, (_, b) => graphBatch(prefix, b));
  const start = performance.now();
  for (const batch of batches) await engine.append(batch);
  const localMs = performance.now() - start;
  if (engine.replicationStats() !== undefined) await until('the publish backlog to drain', () => replication(engine).publishBacklog === 0);
  return { localMs, streamMs: performance.now() - start };
}

const loadAtStart = loadavg()[0]!;

async function main(): Promise<void> {
  // A real partition needs a network namespace (root); the cluster then listens where the namespace reaches it.
  if (process.getuid?.() === 0) ns = await givenNamespace(51).catch(() => undefined);
  cluster = await NatsCluster.start(3, ns?.hostAddress);
  const urls = cluster.urls;
  const rows: Array<Array<string | number>> = [];
  const events = ingestBatches * batchEvents;

  // ---- ingest ----
  // Warm-up (JIT, allocator) on a throwaway engine, so the first measured subject is not also the coldest.
  const warm = await engineAt('warm-up', undefined, '');
  for (let b = 0; b < Math.min(20, ingestBatches); b++) await warm.append(graphBatch('w', b));
  await warm.close();
  open.splice(open.indexOf(warm), 1);
  const local = await engineAt('local-only', undefined, '');
  const localRun = await ingest(local, 'l');
  const a = await engineAt('a', urls, 'bench');
  const b = await engineAt('b', [urls[1]!], 'bench');
  const c = await engineAt('c', [urls[2]!, urls[0]!], 'bench');
  const replicatedRun = await ingest(a, 'r');
  const localRate = events / (localRun.localMs / 1000);
  const replicatedRate = events / (replicatedRun.localMs / 1000);
  const streamRate = events / (replicatedRun.streamMs / 1000);
  rows.push(['ingest, local-only (floor)', `${fmt(localRate)} events/s`, '', `${events.toLocaleString('en-US')} events in batches of ${batchEvents}`]);
  rows.push(['ingest, replicated: appends resolved (local first)', `${fmt(replicatedRate)} events/s`, `${fmt(replicatedRate / localRate)}× local`, 'goal ≥ 0.5× local']);
  rows.push(['ingest, replicated: until the stream holds all', `${fmt(streamRate)} events/s`, `${fmt(streamRate / localRate)}× local`, '']);
  await until('b and c to converge after ingest', digestsMatch([a, b, c]));

  // ---- publish-to-visible ----
  // B and C took in A's ingest and now hold due checkpoints: written here, not during the samples.
  // (All three engines share this thread; run during the samples, the two checkpoints' ~0.5 s of
  // slices put 130–450 ms into the first few, and that is what a p99 of 300 samples then shows.)
  for (const engine of [a, b, c]) await engine.checkpoint();
  const samples: number[] = [];
  for (let i = 0; i < latencySamples; i++) {
    const id = `node:probe:${i}`;
    const start = performance.now();
    await a.addNode({ id, type: 'probe' });
    while (b.getNode(id) === null) await new Promise((r) => setImmediate(r));
    samples.push(performance.now() - start);
  }
  const latency = percentiles(samples);
  rows.push(['publish-to-visible (A appends, B reads)', `p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms`, '', `${latencySamples} single-node appends; goal p50 ≤ 5 ms, p99 ≤ 50 ms`]);

  // ---- catch-up ----
  // On a stream of its own: W (an engine here) writes while E, a machine of its own as a user runs
  // one (`mnemo serve` in its own process and heap), is away; E joined before and so has its
  // durable consumer. Timed from E's restart until it logged every event it missed.
  const writer = await engineAt('w', urls, 'catchup');
  const machine = new Machine('e', join(root, 'e'), () => [urls[2]!, urls[0]!], ['--replication-stream', 'catchup']);
  e = machine;
  await machine.start();
  await untilAsync('e to join the stream', async () => (await machine.stats()).replication.connected);
  await machine.stop();
  const offlineBatches = Math.ceil(catchUpEvents / batchEvents);
  for (let batch = 0; batch < offlineBatches; batch++) await writer.append(graphBatch('offline', batch));
  await until('w to publish', () => replication(writer).publishBacklog === 0);
  // The engines of this process write their due checkpoints now, not on E's cores during its catch-up.
  for (const engine of [a, b, c, writer]) await engine.checkpoint();
  const target = writer.stats().lastSeq;
  const catchUpStart = performance.now();
  await machine.start();
  const listenMs = performance.now() - catchUpStart;
  await untilAsync('e to catch up', async () => (await machine.lastSeq()) >= target, settleTimeoutMs * 3);
  const catchUpMs = performance.now() - catchUpStart;
  const catchUpRate = (offlineBatches * batchEvents) / (catchUpMs / 1000);
  const floorRate = (offlineBatches * batchEvents) / ((await drainFloorMs(urls, 'catchup', 'catchup.w', offlineBatches)) / 1000);
  await machine.stop();
  await writer.close();
  open.splice(open.indexOf(writer), 1);
  rows.push(['catch-up, transport floor (bare pull consumer, nothing applied)', `${fmt(floorRate)} events/s`, '', 'the same messages from the same server']);
  rows.push([
    'catch-up after offline (restart to all logged)',
    `${fmt(catchUpRate)} events/s`,
    `${fmt(catchUpRate / floorRate)}× floor`,
    `E (\`mnemo serve\`, its own process) missed ${(offlineBatches * batchEvents).toLocaleString('en-US')} events; timed from spawning it (listening after ${fmt(listenMs)} ms) until it logged them all; goal ≥ 100K events/s`,
  ]);

  // ---- heal ----
  rows.push(ns === undefined ? await healAfterServerLoss(a, b, c) : await healAfterPartition(ns, a, b, c));

  const table = markdownTable(['measure', 'result', 'vs local', 'note'], rows);
  const section = [
    '<!-- replication bench: generated by npm run bench:replication -->',
    '## Replication (NATS JetStream, three servers)',
    '',
    `Generated by \`npm run bench:replication\`. **Machine**: ${machineLine()}, load average ${loadAtStart.toFixed(1)} at start (shared with other work: absolute numbers drift); the three nats-server processes (Debian 2.9) and the three engines (one Node process) all ran on it, sharing its cores.`,
    '',
    table,
    '<!-- end replication bench -->',
  ].join('\n');
  console.log(section);
  const path = join(process.cwd(), 'BENCHMARKS.md');
  const current = readFileSync(path, 'utf8');
  const start = current.indexOf('<!-- replication bench');
  const end = current.indexOf('<!-- end replication bench -->');
  const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + '<!-- end replication bench -->'.length) : `${current.trimEnd()}\n\n${section}\n`;
  if (process.env.MNEMO_BENCH_REPL_WRITE !== '0') writeFileSync(path, next);
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const engine of open) await engine.close().catch(() => {});
    await d?.kill();
    await e?.kill();
    await cluster?.stop();
    await ns?.remove();
    rmSync(root, { recursive: true, force: true });
  });
