// Federation on loopback: real servers, each with its own data dir and identity.
// Given a peer sharing some domains, when /peer/* is asked, then unshared nodes do not exist;
// given signing trust, then only fresh requests signed by a listed key are answered; given peers
// that are dead, silent or refusing, then a federated query is degraded, never an error.

import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity, signRequest } from '../../src/admin.js';
import { openEngine } from '../../src/index.js';
import { call } from '../support/http-server.js';
import { givenCertificateAuthority, givenMachine, givenMemory, memoryIds, type Authority, type Machine } from '../support/federation.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const prime = '/api/v1/prime';
const peerPrime = `/peer${prime}`;
/** Room for the event loop to be descheduled on a loaded shared machine (measured: up to ~600 ms at load 18 on 2 cores). */
const schedulingMarginMs = 1500;

afterEach(() => {
  delete process.env.MNEMO_PEER_DOMAINS;
  delete process.env.MNEMO_PEER_TRUST;
});
afterAll(() => {
  delete process.env.MNEMO_PEER_ENABLED;
});

describe('given a peer sharing only the project domain (MNEMO_PEER_DOMAINS=project)', () => {
  let peer: Machine;
  let ids: ReturnType<typeof memoryIds>;
  const unshared = () => [ids.diary, ids.loose, 'secretname', 'secretdiary', 'secretvectortext', 'loosevectortext', 'personal', 'mentions', 'wrote'];

  beforeAll(async () => {
    process.env.MNEMO_PEER_ENABLED = '1';
    peer = await givenMachine();
    ids = await givenMemory(peer.engine, 'b');
  });
  afterAll(async () => {
    await peer?.close();
  });

  /** The reply to a /peer/* call, checked to reveal nothing unshared. */
  async function peerCall(method: string, path: string, body?: unknown) {
    const reply = await call(peer.url, method, `${peerPrime}${path}`, body === undefined ? {} : { body });
    for (const secret of unshared()) expect(reply.text, `${method} ${path} reveals '${secret}'`).not.toContain(secret);
    return reply;
  }

  it('when every peer route is asked about shared nodes, then each answers without a trace of the unshared ones', async () => {
    process.env.MNEMO_PEER_DOMAINS = 'project';
    expect((await peerCall('GET', `/nodes/${encodeURIComponent(ids.ada)}`)).status).toBe(200);

    const neighbors = await peerCall('GET', `/nodes/${encodeURIComponent(ids.ada)}/neighbors?direction=both`);
    expect(neighbors.json.nodes.map((n: { id: string }) => n.id)).toEqual([ids.engine]);
    expect(neighbors.json.total).toBe(1);
    // `far` is two hops away only through the diary: a walk must not pass through an unshared node.
    const deep = await peerCall('GET', `/nodes/${encodeURIComponent(ids.ada)}/neighbors?depth=3`);
    expect(deep.json.nodes.map((n: { id: string }) => n.id)).toEqual([ids.engine]);

    const subgraph = await peerCall('GET', `/nodes/${encodeURIComponent(ids.ada)}/subgraph?depth=3`);
    expect(subgraph.json.nodes.map((n: { id: string }) => n.id).sort()).toEqual([ids.ada, ids.engine].sort());
    expect(subgraph.json.edges).toHaveLength(1);

    const search = await peerCall('GET', '/search?type=project');
    expect(search.json.total).toBe(3);
    expect((await peerCall('GET', '/search?type=personal')).json).toMatchObject({ nodes: [], total: 0 });

    const similar = await peerCall('POST', '/vectors/search', { vector: [1, 0, 0], top_k: 10 });
    expect(similar.json.results.map((r: { id: string }) => r.id)).toEqual([ids.ada, ids.engine]);
    expect((await peerCall('POST', '/vectors/search', { id: ids.ada, top_k: 10 })).json.results.map((r: { id: string }) => r.id)).toEqual([ids.engine]);

    const byVector = await peerCall('POST', '/recall', { vector: [1, 0, 0], depth: 3, top_k: 10 });
    expect(byVector.json.results.map((r: { id: string }) => r.id).sort()).toEqual([ids.ada, ids.engine].sort());
    const byText = await peerCall('POST', '/recall', { text: 'ada secretdiary', depth: 3, top_k: 10 });
    expect(byText.json.results.map((r: { id: string }) => r.id).sort()).toEqual([ids.ada, ids.engine].sort());
    const withDeadline = await peerCall('POST', '/recall', { text: 'ada', depth: 3, top_k: 10, deadline_ms: 1000 });
    expect(withDeadline.json).toMatchObject({ peers: [], degraded: false });

    const stats = await peerCall('GET', '/stats');
    expect(stats.json).toMatchObject({ total_nodes: 3, total_edges: 1, total_vectors: 2, nodes_by_type: { project: 3 }, edges_by_relation: { built: 1 }, shared_domains: ['project'] });
  });

  it('when a peer route names an unshared node, then it answers exactly as for an id never used', async () => {
    process.env.MNEMO_PEER_DOMAINS = 'project';
    const never = 'node:personal:b-never';
    for (const [method, path, body] of [
      ['GET', (id: string) => `/nodes/${encodeURIComponent(id)}`, undefined],
      ['GET', (id: string) => `/nodes/${encodeURIComponent(id)}/neighbors`, undefined],
      ['GET', (id: string) => `/nodes/${encodeURIComponent(id)}/subgraph`, undefined],
      ['POST', () => '/vectors/search', (id: string) => ({ id, top_k: 3 })],
    ] as const) {
      const hidden = await call(peer.url, method, `${peerPrime}${path(ids.diary)}`, body === undefined ? {} : { body: body(ids.diary) });
      const missing = await call(peer.url, method, `${peerPrime}${path(never)}`, body === undefined ? {} : { body: body(never) });
      expect(hidden.status, path(ids.diary)).toBe(404);
      expect(hidden.text.replaceAll(ids.diary, 'ID')).toBe(missing.text.replaceAll(never, 'ID'));
    }
  });

  it('when the variable changes, then the next request sees the new sharing (read per request); unset shares everything', async () => {
    process.env.MNEMO_PEER_DOMAINS = 'project,personal';
    expect((await call(peer.url, 'GET', `${peerPrime}/nodes/${encodeURIComponent(ids.diary)}`)).status).toBe(200);
    process.env.MNEMO_PEER_DOMAINS = '';
    expect((await call(peer.url, 'GET', `${peerPrime}/search?type=project`)).json.total).toBe(0);
    delete process.env.MNEMO_PEER_DOMAINS;
    expect((await call(peer.url, 'GET', `${peerPrime}/nodes/${encodeURIComponent(ids.diary)}`)).status).toBe(200);
  });

  it('when a peer route is asked to fan out to its own peers, then 400', async () => {
    const reply = await call(peer.url, 'POST', `${peerPrime}/recall`, { body: { text: 'ada', peers: true } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/peers/);
  });
});

describe('given a laptop with peers: a build box, a dead port, a silent server', () => {
  let laptop: Machine;
  let build: Machine;
  let silent: Server;
  let silentPort: number;
  let deadPort: number;
  let laptopKey: string;

  beforeAll(async () => {
    process.env.MNEMO_PEER_ENABLED = '1';
    build = await givenMachine();
    await givenMemory(build.engine, 'build', 'babbage');
    // A server that accepts connections and never answers.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    // A port nothing listens on: bind one, note it, close it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    laptop = await givenMachine({
      federation: {
        origin: 'laptop',
        peers: [
          { name: 'build', url: build.url },
          { name: 'dead', url: `http://127.0.0.1:${deadPort}` },
          { name: 'silent', url: `http://127.0.0.1:${silentPort}` },
        ],
      },
    });
    await givenMemory(laptop.engine, 'laptop', 'ada');
    laptopKey = loadIdentity(laptop.dataDir).publicKey;
  });
  afterAll(async () => {
    await laptop?.close();
    await build?.close();
    silent?.closeAllConnections();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  });

  it('when recall asks the build box, then results from both machines come merged, each marked with its origin', async () => {
    const reply = await call(laptop.url, 'POST', `${prime}/recall`, { body: { vector: [1, 0, 0], top_k: 4, depth: 0, peers: ['build'] } });
    expect(reply.status).toBe(200);
    expect(reply.json.degraded).toBe(false);
    expect(reply.json.peers).toEqual([expect.objectContaining({ name: 'build', status: 'ok', returned: 4, circuit: 'closed' })]);
    expect(reply.json.results.map((r: { origin: string; id: string }) => `${r.origin}:${r.id}`).slice(0, 2)).toEqual([
      `laptop:${memoryIds('laptop').ada}`,
      `build:${memoryIds('build').ada}`,
    ]);
    expect(reply.json.results).toHaveLength(4);
    expect(reply.json.results[0]).toMatchObject({ node: { properties: { name: 'ada analytical engine' } }, components: expect.any(Object) });
    expect(reply.json.results[1]).toMatchObject({ node: { properties: { name: 'babbage analytical engine' } } });
  });

  it('when vector search asks every peer, then the dead peer is refused, the silent one times out at the deadline, and the answer is degraded with the build box results', async () => {
    const started = performance.now();
    const reply = await call(laptop.url, 'POST', `${prime}/vectors/search`, { body: { vector: [1, 0, 0], top_k: 3, peers: true, deadline_ms: 300 } });
    const ms = performance.now() - started;
    expect(reply.status).toBe(200);
    // The deadline plus a margin for a 2-core machine shared with other test files: far below the
    // seconds a connect to a silent peer would otherwise hang.
    expect(ms).toBeLessThan(300 + schedulingMarginMs);
    expect(reply.json.degraded).toBe(true);
    const byName = Object.fromEntries(reply.json.peers.map((p: { name: string }) => [p.name, p]));
    expect(byName.build).toMatchObject({ status: 'ok', returned: 3 });
    expect(byName.dead).toMatchObject({ status: 'refused', returned: 0 });
    expect(byName.silent).toMatchObject({ status: 'timeout', returned: 0 });
    expect(byName.silent.ms).toBeGreaterThanOrEqual(250);
    expect(new Set(reply.json.results.map((r: { origin: string }) => r.origin))).toEqual(new Set(['laptop', 'build']));
  });

  it('when a peer keeps failing, then after three failures it is skipped with its circuit open, costing nothing', async () => {
    // The previous test failed `dead` once; two more open its circuit.
    for (let i = 0; i < 2; i++) await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'ada', peers: ['dead'] } });
    const reply = await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'ada', peers: ['dead'] } });
    expect(reply.json.peers[0]).toMatchObject({ name: 'dead', status: 'error', circuit: 'open', ms: 0 });
    expect(reply.json.peers[0].error).toMatch(/next probe/);
    expect(reply.json.degraded).toBe(true);
    expect(reply.json.results.length).toBeGreaterThan(0);
  });

  it('when a query names a peer that is not configured, then 400 naming it', async () => {
    const reply = await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'ada', peers: ['nas'] } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatch(/peers\[0\].*nas/);
  });

  it('given MNEMO_PEER_TRUST on the build box: unsigned, wrong key, stale and replayed requests are 401, a signed one 200, and the laptop (listed) is answered', async () => {
    const mallorysDir = await mkdtemp(join(tmpdir(), 'mnemo-mallory-'));
    const mallory = loadIdentity(mallorysDir);
    process.env.MNEMO_PEER_TRUST = laptopKey;
    const path = `${peerPrime}/recall`;
    const body = JSON.stringify({ text: 'babbage', top_k: 2 });
    const bytes = new TextEncoder().encode(body);
    const laptopIdentity = loadIdentity(laptop.dataDir);
    const send = (headers: Record<string, string>) => call(build.url, 'POST', path, { rawBody: body, headers: { 'content-type': 'application/json', ...headers } });
    expect((await send({})).status).toBe(401);
    expect((await send(signRequest(mallory, 'POST', path, bytes))).status).toBe(401);
    expect((await send(signRequest(laptopIdentity, 'POST', path, bytes, Date.now() - 61_000))).status).toBe(401);
    const valid = signRequest(laptopIdentity, 'POST', path, bytes);
    const first = await send(valid);
    expect(first.status, first.text).toBe(200);
    expect(first.json.results.length).toBeGreaterThan(0);
    const replay = await send(valid);
    expect(replay.status).toBe(401);
    expect(replay.json.error).toMatch(/replayed/);
    // GET routes are signed too (empty body); the query string is part of what is signed.
    const statsPath = `${peerPrime}/search?type=project`;
    expect((await call(build.url, 'GET', statsPath, { headers: signRequest(laptopIdentity, 'GET', statsPath, new Uint8Array()) })).status).toBe(200);
    expect((await call(build.url, 'GET', `${statsPath}&limit=1`, { headers: signRequest(laptopIdentity, 'GET', statsPath, new Uint8Array()) })).status).toBe(401);

    const federated = await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'babbage', peers: ['build'] } });
    expect(federated.json.peers[0]).toMatchObject({ name: 'build', status: 'ok' });
    process.env.MNEMO_PEER_TRUST = mallory.publicKey;
    const refused = await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'babbage', peers: ['build'] } });
    expect(refused.json.peers[0]).toMatchObject({ name: 'build', status: 'refused' });
    expect(refused.json.peers[0].error).toMatch(/401/);
    expect(refused.json.degraded).toBe(true);
    await rm(mallorysDir, { recursive: true, force: true });
  });

  it('given the build box shares only project, when the laptop recalls from it, then no personal node comes back', async () => {
    process.env.MNEMO_PEER_DOMAINS = 'project';
    const reply = await call(laptop.url, 'POST', `${prime}/recall`, { body: { text: 'babbage secretdiary', depth: 3, top_k: 20, peers: ['build'] } });
    const fromBuild = reply.json.results.filter((r: { origin: string }) => r.origin === 'build');
    expect(fromBuild.length).toBeGreaterThan(0);
    expect(fromBuild.every((r: { node: { domain: string } }) => r.node.domain === 'project')).toBe(true);
    // The laptop's own private nodes are its own: local results are not filtered.
    expect(reply.json.results.some((r: { origin: string; id: string }) => r.origin === 'laptop' && r.id === memoryIds('laptop').diary)).toBe(true);
  });

  it('embedded: recall with peers is async and federated; without peers it stays synchronous', async () => {
    const federated = await laptop.engine.recall({ text: 'babbage', peers: ['build'], deadlineMs: 2000 });
    expect(federated.peers[0]).toMatchObject({ name: 'build', status: 'ok' });
    expect(federated.results.some((r) => r.origin === 'build')).toBe(true);
    const local = laptop.engine.recall({ text: 'ada' });
    expect(Array.isArray(local)).toBe(true);
  });

  it('MCP: prime_recall takes peers', async () => {
    const reply = await call(laptop.url, 'POST', '/mcp', {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'prime_recall', arguments: { text: 'babbage', peers: ['build'], deadline_ms: 2000 } } },
      headers: { accept: 'application/json, text/event-stream' },
    });
    expect(reply.status).toBe(200);
    // The tool's answer is JSON text inside the JSON-RPC result, so its quotes arrive escaped.
    expect(reply.text).toContain('\\"origin\\":\\"build\\"');
    expect(reply.text).toContain('\\"status\\":\\"ok\\"');
  });
});

describe('given an engine whose recall has far more work than its deadline', () => {
  it('when recall runs with deadline_ms 1, then it answers promptly with what it gathered, degraded', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-deadline-'));
    const engine = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    try {
      const events: unknown[] = [{ type: 'prime.node.created', payload: { id: 'node:hub:h', type: 'hub' } }];
      for (let i = 0; i < 4000; i++) {
        events.push({ type: 'prime.node.created', payload: { id: `node:leaf:${i}`, type: 'leaf' } });
        events.push({ type: 'prime.edge.created', payload: { source: 'node:hub:h', target: `node:leaf:${i}`, relation: 'has' } });
        if (i < 2000) events.push({ type: 'prime.vector.stored', payload: { id: `node:leaf:${i}`, vector: [1, i / 2000, 0] } });
      }
      for (let i = 0; i < events.length; i += 5000) await engine.append(events.slice(i, i + 5000));
      await engine.whenIndexed();
      const started = performance.now();
      const answer = await engine.recall({ vector: [1, 0, 0], topK: 1000, depth: 2, peers: [], deadlineMs: 1 });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(answer.degraded).toBe(true);
      expect(answer.results.length).toBeGreaterThan(0);
      const unhurried = await engine.recall({ vector: [1, 0, 0], topK: 10, depth: 0, peers: [], deadlineMs: 5000 });
      expect(unhurried.degraded).toBe(false);
    } finally {
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('given a graph whose walks take far longer than their deadline (a hub, 30 mids, 30,000 leaves)', () => {
  let machine: Machine;
  beforeAll(async () => {
    machine = await givenMachine();
    const events: unknown[] = [{ type: 'prime.node.created', payload: { id: 'node:hub:h', type: 'hub' } }];
    for (let m = 0; m < 30; m++) {
      events.push({ type: 'prime.node.created', payload: { id: `node:mid:${m}`, type: 'mid' } });
      events.push({ type: 'prime.edge.created', payload: { source: 'node:hub:h', target: `node:mid:${m}`, relation: 'has' } });
      for (let l = 0; l < 1000; l++) {
        events.push({ type: 'prime.node.created', payload: { id: `node:leaf:${m}-${l}`, type: 'leaf' } });
        events.push({ type: 'prime.edge.created', payload: { source: `node:mid:${m}`, target: `node:leaf:${m}-${l}`, relation: 'has' } });
      }
    }
    for (let i = 0; i < events.length; i += 10_000) await machine.engine.append(events.slice(i, i + 10_000));
  });
  afterAll(async () => {
    await machine?.close();
  });

  it('when neighbours (depth 2) and the subgraph are asked with deadline_ms 1, then each answers what it reached, degraded; with room, complete', async () => {
    const hub = encodeURIComponent('node:hub:h');
    const cut = await call(machine.url, 'GET', `${prime}/nodes/${hub}/neighbors?depth=2&limit=500&deadline_ms=1`);
    expect(cut.status).toBe(200);
    expect(cut.json.degraded).toBe(true);
    expect(cut.json.total).toBeLessThan(30_030);
    const whole = await call(machine.url, 'GET', `${prime}/nodes/${hub}/neighbors?depth=2&limit=500&deadline_ms=60000`);
    expect(whole.json).toMatchObject({ degraded: false, total: 30_030 });
    const plain = await call(machine.url, 'GET', `${prime}/nodes/${hub}/neighbors?depth=2&limit=1`);
    expect(plain.json.degraded).toBeUndefined();

    const subgraph = await call(machine.url, 'GET', `${prime}/nodes/${hub}/subgraph?depth=2&deadline_ms=1`);
    expect(subgraph.json.degraded).toBe(true);
    expect(subgraph.json.nodes.length).toBeLessThan(30_031);
    expect((await call(machine.url, 'GET', `${prime}/nodes/${hub}/neighbors?deadline_ms=0`)).status).toBe(400);
  });
});

describe('TLS', () => {
  let authority: Authority;
  let secure: Machine;
  let laptop: Machine;
  let trusting: Machine;

  beforeAll(async () => {
    process.env.MNEMO_PEER_ENABLED = '1';
    authority = await givenCertificateAuthority();
    secure = await givenMachine({ tls: { certFile: authority.certFile, keyFile: authority.keyFile } });
    await givenMemory(secure.engine, 'secure', 'lovelace');
    const url = secure.url.replace('127.0.0.1', '127.0.0.1');
    trusting = await givenMachine({ federation: { origin: 'laptop', peers: [{ name: 'secure', url }], ca: authority.ca } });
    laptop = await givenMachine({ federation: { origin: 'laptop', peers: [{ name: 'secure', url }] } });
  });
  afterAll(async () => {
    await trusting?.close();
    await laptop?.close();
    await secure?.close();
    await authority?.close();
  });

  it('given a server with --tls-cert/--tls-key, when a peer with the private CA asks over https, then it is answered; without the CA, then the peer is an error, never trusted', async () => {
    expect(secure.url).toMatch(/^https:/);
    const ok = await trusting.engine.recall({ text: 'lovelace', peers: true, deadlineMs: 2000 });
    expect(ok.peers[0]).toMatchObject({ name: 'secure', status: 'ok' });
    expect(ok.results.some((r) => r.origin === 'secure')).toBe(true);
    const untrusted = await laptop.engine.recall({ text: 'lovelace', peers: true, deadlineMs: 2000 });
    expect(untrusted.peers[0]).toMatchObject({ name: 'secure', status: 'error' });
    expect(untrusted.degraded).toBe(true);
  });
});
