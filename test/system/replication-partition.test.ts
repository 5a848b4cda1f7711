// A network partition: one machine's `mnemo serve` runs in a network namespace of its own, joined to
// this one by a veth pair, and reaches the three-server NATS cluster over it. The link is cut (the
// namespace's end set down) while every machine writes, and restored. Needs root and iproute2.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { givenNamespace, type Namespace } from '../../bench/support/netns.js';
import { NatsCluster } from '../support/nats-cluster.js';
import { converged, Machine } from '../support/replica-machine.js';

const run = promisify(execFile);
const convergeMs = 20_000;
let ns: Namespace;
let cluster: NatsCluster;
let root: string;
let machines: Machine[];

beforeAll(async () => {
  ns = await givenNamespace(41);
  // Clients connect on the root end of the veth: reachable from the namespace and from here.
  cluster = await NatsCluster.start(3, ns.hostAddress);
  root = mkdtempSync(join(tmpdir(), 'mnemo-partition-'));
  const urls = (i: number) => () => [cluster.urls[i]!, ...cluster.urls.filter((_, j) => j !== i)];
  machines = [
    new Machine('laptop', join(root, 'laptop'), urls(0), ['--replication-stream', 'partition'], { name: ns.name }),
    new Machine('desktop', join(root, 'desktop'), urls(1), ['--replication-stream', 'partition']),
    new Machine('buildbox', join(root, 'buildbox'), urls(2), ['--replication-stream', 'partition']),
  ];
  await Promise.all(machines.map((m) => m.start()));
});

afterAll(async () => {
  await Promise.all((machines ?? []).map((m) => m.kill()));
  await cluster?.stop();
  await ns?.remove();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

const link = (state: 'up' | 'down') => run('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'set', ns.peerDevice, state]);
const node = (id: string, properties: Record<string, unknown> = {}) => ({ type: 'prime.node.created', payload: { id, type: 'note', properties } });
const update = (id: string, properties: Record<string, unknown>) => ({ type: 'prime.node.updated', payload: { id, properties } });
const edge = (id: string, source: string, target: string) => ({ type: 'prime.edge.created', payload: { id, source, target, relation: 'links' } });

async function writeBatches(m: Machine, batches: number, tag: string): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const own = Array.from({ length: 20 }, (_, i) => `node:note:${m.origin}-${tag}-${b}-${i}`);
    expect(await m.append([...own.map((id) => node(id, { b })), ...own.slice(1).map((id, i) => edge(`edge:${m.origin}-${tag}-${b}-${i}`, own[i]!, id))])).toBe(200);
    expect(await m.append([update('node:note:shared', { owner: m.origin, b })])).toBe(200);
  }
}

describe('replication through a network partition', () => {
  it('given one machine cut off while every machine writes, when the link is restored, then its offline writes appear everywhere and the digests converge', async () => {
    const [laptop, desktop, buildbox] = machines as [Machine, Machine, Machine];
    expect(await desktop.append([node('node:note:shared', { v: 0 })])).toBe(200);
    await converged(machines, convergeMs);

    await link('down');
    // Everyone writes while cut off: the laptop locally (its appends still succeed), the others through the stream.
    await Promise.all(machines.map((m) => writeBatches(m, 5, 'cut')));
    // The laptop notices within its ping interval (1 s, two missed).
    let cutOff = await laptop.stats();
    for (const deadline = Date.now() + 10_000; cutOff.replication.connected && Date.now() < deadline; cutOff = await laptop.stats()) await new Promise((r) => setTimeout(r, 200));
    expect(cutOff.replication.connected).toBe(false);
    expect(cutOff.replication.publish_backlog).toBeGreaterThan(0);
    expect(cutOff.total_nodes).toBe(1 + 100); // its own, none of the others'
    const others = await converged([desktop, buildbox], convergeMs);
    expect(others).not.toBe(cutOff.content_digest);

    await link('up');
    const healStart = performance.now();
    const digest = await converged(machines, convergeMs);
    console.log(`partition healed: converged ${Math.round(performance.now() - healStart)} ms after the link came back`);
    for (const m of machines) {
      const stats = await m.stats();
      expect(stats.content_digest).toBe(digest);
      expect(stats.total_nodes).toBe(1 + 3 * 100);
      expect(stats.replication.rejected).toBe(0);
    }
    // The laptop's offline writes are on the others, and theirs on the laptop.
    expect((await desktop.getNode('node:note:laptop-cut-4-19')).status).toBe(200);
    expect((await buildbox.getNode('node:note:laptop-cut-0-0')).status).toBe(200);
    expect((await laptop.getNode('node:note:buildbox-cut-4-19')).status).toBe(200);
    const owners = await Promise.all(machines.map(async (m) => (await m.getNode('node:note:shared')).body.properties?.['owner']));
    expect(new Set(owners).size).toBe(1);
  });
});
