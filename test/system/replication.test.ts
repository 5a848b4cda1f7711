// Replication over a real three-server NATS JetStream cluster (nats-server from Debian) with three
// mnemo machines, each `mnemo serve --replicate` in its own process and data dir: concurrent,
// conflicting writes converge; servers and machines die and come back; the stream is deleted.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { Engine, openEngine } from '../../src/index.js';
import { NatsCluster } from '../support/nats-cluster.js';
import { converged, Machine } from '../support/replica-machine.js';

const convergeMs = 20_000;
let cluster: NatsCluster;
let root: string;
let machines: Machine[];
let stream: string;

beforeAll(async () => {
  cluster = await NatsCluster.start(3);
});

afterAll(async () => {
  await cluster?.stop();
});

beforeEach(async () => {
  await cluster.restartStopped();
  root = mkdtempSync(join(tmpdir(), 'mnemo-repl-'));
  // A fresh stream per test: each test names its own.
  stream = `s${Date.now().toString(36)}`;
  machines = ['laptop', 'desktop', 'buildbox'].map((origin, i) => new Machine(origin, join(root, origin), () => [cluster.urls[i]!, ...cluster.urls.filter((_, j) => j !== i)], ['--replication-stream', stream]));
});

afterEach(async () => {
  await Promise.all(machines.map((m) => m.kill()));
  rmSync(root, { recursive: true, force: true });
});

const node = (id: string, properties: Record<string, unknown> = {}) => ({ type: 'prime.node.created', payload: { id, type: 'note', properties } });
const update = (id: string, properties: Record<string, unknown>) => ({ type: 'prime.node.updated', payload: { id, properties } });
const edge = (id: string, source: string, target: string) => ({ type: 'prime.edge.created', payload: { id, source, target, relation: 'links' } });
const remove = (id: string) => ({ type: 'prime.node.deleted', payload: { id } });

async function untilTrue(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + convergeMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A JetStream manager on the cluster, for the test's own look at the stream. */
async function withManager<T>(work: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: cluster.urls.filter((_, i) => cluster.servers[i]!.process !== undefined) });
  try {
    return await work(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function streamLeader(): Promise<string> {
  for (;;) {
    const leader = await withManager(async (jsm) => (await jsm.streams.info(stream)).cluster?.leader).catch(() => undefined);
    if (leader !== undefined && leader !== '') return leader;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Each machine writes `batches` batches of its own nodes and edges, plus conflicting updates of shared nodes. */
async function writeConcurrently(batches: number, tag: string): Promise<void> {
  await Promise.all(
    machines.map(async (m) => {
      for (let b = 0; b < batches; b++) {
        const own = Array.from({ length: 20 }, (_, i) => `node:note:${m.origin}-${tag}-${b}-${i}`);
        const events = [...own.map((id) => node(id, { by: m.origin, b })), ...own.slice(1).map((id, i) => edge(`edge:${m.origin}-${tag}-${b}-${i}`, own[i]!, id))];
        expect(await m.append(events)).toBe(200);
        // Conflicts: everyone updates the same shared nodes' same keys.
        const status = await m.append([update('node:note:shared-a', { owner: m.origin, b }), update('node:note:shared-b', { owner: m.origin })]);
        expect([200, 400]).toContain(status); // 400 (an event names a node this machine has not yet seen) until the shared node's create arrives
      }
    }),
  );
}

describe('replication over a three-server JetStream cluster', () => {
  it('given three machines writing concurrently with conflicting updates and deletes, when they settle, then their content digests are identical and every write is there or overridden', async () => {
    await Promise.all(machines.map((m) => m.start()));
    expect(await machines[0]!.append([node('node:note:shared-a', { v: 0 }), node('node:note:shared-b', { v: 0 }), node('node:note:doomed')])).toBe(200);
    await converged(machines, convergeMs);

    await Promise.all([
      writeConcurrently(10, 'c'),
      machines[1]!.append([remove('node:note:doomed')]),
      machines[2]!.append([edge('edge:to-doomed', 'node:note:shared-a', 'node:note:doomed')]),
    ]);
    const digest = await converged(machines, convergeMs);

    for (const m of machines) {
      const stats = await m.stats();
      expect(stats.content_digest).toBe(digest);
      expect(stats.total_nodes).toBe(2 + 3 * 10 * 20);
      expect(stats.replication.rejected).toBe(0);
      // The delete won: the node and the edge to it are gone everywhere.
      expect((await m.getNode('node:note:doomed')).status).toBe(404);
    }
    const counts = await Promise.all(machines.map(async (m) => (await m.stats()).event_count));
    expect(new Set(counts).size).toBe(1);
    const owners = await Promise.all(machines.map(async (m) => (await m.getNode('node:note:shared-a')).body.properties?.['owner']));
    expect(new Set(owners).size).toBe(1);
  });

  it('given writes in flight, when the stream leader is killed and later restarted, then no acknowledged write is lost and the machines converge', async () => {
    await Promise.all(machines.map((m) => m.start()));
    expect(await machines[0]!.append([node('node:note:shared-a'), node('node:note:shared-b')])).toBe(200);
    await converged(machines, convergeMs);
    const leaderName = await streamLeader();
    const writing = writeConcurrently(12, 'l');
    await new Promise((r) => setTimeout(r, 300));
    const victim = cluster.servers.find((s) => s.name === leaderName)!;
    await cluster.kill(victim);
    await writing;
    const digest = await converged(machines, convergeMs);
    await cluster.restart(victim);
    expect(await converged(machines, convergeMs)).toBe(digest);
    for (const m of machines) expect((await m.stats()).total_nodes).toBe(2 + 3 * 12 * 20);
  });

  it('given a machine consuming from one server, when that server dies mid-write, then the machine resumes on another and converges, and once the server is back each machine keeps one consumer', async () => {
    await Promise.all(machines.map((m) => m.start()));
    expect(await machines[0]!.append([node('node:note:shared-a'), node('node:note:shared-b')])).toBe(200);
    await converged(machines, convergeMs);
    // Machine 0 connected to server 0 first (its URL list starts there).
    const writing = writeConcurrently(12, 'k');
    await new Promise((r) => setTimeout(r, 300));
    await cluster.kill(cluster.servers[0]!);
    await writing;
    try {
      await converged(machines, convergeMs);
      for (const m of machines) expect((await m.stats()).total_nodes).toBe(2 + 3 * 12 * 20);
    } finally {
      await cluster.restart(cluster.servers[0]!);
    }
    // Consumers replaced while the server was down are deleted once it answers again: none is left behind.
    await untilTrue(async () => {
      const names = await withManager(async (jsm) => {
        const found: string[] = [];
        for await (const info of jsm.consumers.list(stream)) found.push(info.name);
        return found;
      }).catch(() => []);
      return names.length === machines.length && machines.every((m) => names.some((name) => name.endsWith(`_${m.origin}`)));
    });
  });

  it('given a machine stopped while the others keep writing, when it restarts, then it catches up from its checkpoint and the stream, without applying anything twice', async () => {
    await Promise.all(machines.map((m) => m.start()));
    expect(await machines[0]!.append([node('node:note:shared-a'), node('node:note:shared-b')])).toBe(200);
    await writeConcurrently(3, 'before');
    await converged(machines, convergeMs);
    await machines[2]!.stop(); // SIGTERM: it checkpoints on the way out
    const others = machines.slice(0, 2);
    await Promise.all(
      others.map(async (m) => {
        for (let b = 0; b < 10; b++) expect(await m.append(Array.from({ length: 50 }, (_, i) => node(`node:note:${m.origin}-offline-${b}-${i}`)))).toBe(200);
      }),
    );
    await machines[2]!.start();
    await converged(machines, convergeMs);
    const stats = await machines[2]!.stats();
    expect(stats.total_nodes).toBe(2 + 3 * 3 * 20 + 2 * 10 * 50);
    expect(stats.replication.rejected).toBe(0);
    // Each machine logs every origin's events exactly once: a redelivery after the restart is not logged again.
    const counts = await Promise.all(machines.map(async (m) => (await m.stats()).event_count));
    expect(new Set(counts).size).toBe(1);
  });

  it('given all machines up, when the stream is deleted, then it is recreated and refilled from the machines\' logs and they still converge', async () => {
    await Promise.all(machines.map((m) => m.start()));
    expect(await machines[0]!.append([node('node:note:shared-a'), node('node:note:shared-b')])).toBe(200);
    await writeConcurrently(3, 'd1');
    const before = await converged(machines, convergeMs);
    await withManager((jsm) => jsm.streams.delete(stream));
    await writeConcurrently(3, 'd2');
    await converged(machines, convergeMs);
    // The recreated stream holds every origin's events again: a new machine catches up from it alone.
    const newcomer = new Machine('newcomer', join(root, 'newcomer'), () => cluster.urls, ['--replication-stream', stream]);
    machines.push(newcomer);
    await newcomer.start();
    const after = await converged(machines, convergeMs);
    expect(after).not.toBe(before);
    expect((await newcomer.stats()).total_nodes).toBe(2 + 3 * 6 * 20);
  });

  it('given data dirs wiped and restarted under the same origins, then a reader takes everything in again, a writer refuses to write or publish as its old origin (saying why), and under a new origin it converges with nothing lost', async () => {
    const [laptop, desktop, buildbox] = machines as [Machine, Machine, Machine];
    await Promise.all(machines.map((m) => m.start()));
    for (const m of [laptop, desktop]) for (let b = 0; b < 3; b++) expect(await m.append(Array.from({ length: 20 }, (_, i) => node(`node:note:${m.origin}-${b}-${i}`)))).toBe(200);
    await converged(machines, convergeMs);
    const everything = (await desktop.stats()).total_nodes;
    expect(everything).toBe(120);
    // Both lose their data dirs; their durable consumers (and laptop's events in the stream) remain.
    await Promise.all([laptop.stop(), buildbox.stop()]);
    for (const m of [laptop, buildbox]) rmSync(m.dataDir, { recursive: true, force: true });
    await Promise.all([laptop.start(), buildbox.start()]);
    // buildbox only ever read: its consumer's position is not trusted over its empty log.
    await untilTrue(async () => (await buildbox.stats()).total_nodes === everything);
    expect((await buildbox.stats()).replication.refused).toBeNull();
    expect(buildbox.output).toMatch(/lacks seq \d+'s events .* taking the stream in again from seq 1/);
    // laptop's new events would reuse the seqs, and so the message ids, of its events in the stream.
    await untilTrue(async () => (await laptop.stats()).replication.refused !== null);
    expect((await laptop.stats()).replication.refused).toMatch(/the stream holds an event of origin laptop .* restart with a new --origin/);
    const refused = await fetch(`${laptop.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([node('node:note:laptop-after-wipe')]) });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe('REPLICATION_REFUSED');
    expect(((await (await fetch(`${laptop.url}/health`)).json()) as { status: string }).status).toBe('degraded');
    expect((await desktop.getNode('node:note:laptop-after-wipe')).status).toBe(404);
    // Under a new origin, on the same data dir: laptop's old events come back to it from the stream, and its new ones go out.
    await laptop.stop();
    const renamed = new Machine('laptop-2', laptop.dataDir, () => cluster.urls, ['--replication-stream', stream]);
    machines.push(renamed);
    await renamed.start();
    expect(await renamed.append([node('node:note:laptop-2-after')])).toBe(200);
    await converged([renamed, desktop, buildbox], convergeMs);
    for (const m of [renamed, desktop, buildbox]) expect((await m.stats()).total_nodes).toBe(everything + 1);
  });

  it('given an engine closed as soon as it connected (its consumer still being made) on an idle stream, then the close returns', async () => {
    for (let round = 0; round < 3; round++) {
      const engine = await openEngine({ dataDir: join(root, `quick-${round}`), durability: 'none', onWarning: () => {}, replication: { servers: cluster.urls, origin: `quick${round}`, stream: `${stream}q${round}` } });
      while (!engine.replicationStats()!.connected) await new Promise((r) => setTimeout(r, 5));
      const closed = await Promise.race([engine.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      expect(closed).toBe(true);
    }
  });

  it('given a machine restarted far behind, while it catches up from the stream, then it writes no checkpoint until it has caught up (short of 16× due)', async () => {
    const replication = (origin: string) => ({ servers: cluster.urls, origin, stream: `${stream}c` });
    const writer = await openEngine({ dataDir: join(root, 'w'), durability: 'none', onWarning: () => {}, replication: replication('w') });
    const openE = async (): Promise<Engine> => {
      const engine = await Engine.open({ dataDir: join(root, 'e'), durability: 'none', onWarning: () => {}, replication: replication('e'), checkpointEveryEvents: 500, checkpointEveryMs: 0, backgroundCompaction: false });
      await engine.startReplication();
      return engine;
    };
    let e = await openE();
    while (!e.replicationStats()!.connected) await new Promise((r) => setTimeout(r, 10));
    await e.close();
    for (let b = 0; b < 6; b++) await writer.append(Array.from({ length: 1000 }, (_, i) => node(`node:note:far-${b}-${i}`)));
    while (writer.replicationStats()!.publishBacklog > 0) await new Promise((r) => setTimeout(r, 10));
    e = await openE();
    while (e.stats().lastSeq < 6000) await new Promise((r) => setTimeout(r, 10));
    await e.checkpoint(); // waits for any checkpoint in flight, then one at the end
    await e.close();
    await writer.close();
    // Due every 500 events: without the catch-up hold, one is taken at 4× due (2,000) mid catch-up.
    const written = readdirSync(join(root, 'e', 'checkpoints')).filter((name) => /^\d+$/.test(name)).map(Number);
    expect(written.length).toBeGreaterThan(0);
    expect(Math.min(...written)).toBe(6000);
  });

  it('given a message that does not decode and one whose event fails validation, when they arrive, then both are counted and reported and the events after them still apply', async () => {
    await Promise.all(machines.map((m) => m.start()));
    const nc = await connect({ servers: cluster.urls });
    try {
      const js = (await import('@nats-io/jetstream')).jetstream(nc);
      await machines[0]!.append([node('node:note:first')]);
      await converged(machines, convergeMs);
      await js.publish(`${stream}.mallory`, new Uint8Array([0xc1, 0xff, 0x00]));
      // A well-formed batch whose node has an invalid type.
      const { encodeEvents } = await import('../../src/kernel/event-codec.js');
      const bad = encodeEvents([{ type: 'prime.node.created', payload: { id: 'x', type: 'Not A Type!', properties: {} } }], Date.now(), { origin: 'mallory', hlcs: [Date.now().toString(16).padStart(12, '0') + '000000'] });
      await js.publish(`${stream}.mallory`, bad.payload);
    } finally {
      await nc.close();
    }
    expect(await machines[1]!.append([node('node:note:after')])).toBe(200);
    await converged(machines, convergeMs);
    for (const m of machines) {
      const stats = await m.stats();
      expect(stats.replication.rejected).toBe(2);
      expect(stats.replication.last_rejection).toMatch(/^stream seq \d+ from mallory: /);
      expect((await m.getNode('node:note:after')).status).toBe(200);
    }
    expect(machines[0]!.output).toMatch(/replication: refused stream seq \d+ from mallory/);
  });
});
