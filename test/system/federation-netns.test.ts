// Federation between machines: peers are `mnemo serve` processes in network namespaces of their
// own, reached over veth pairs; the laptop is this process. Needs root, iproute2 and openssl
// (npm run test:system).
//
// Given a build box sharing `project` and a NAS sharing `decision` over HTTPS, both trusting only
// the laptop's key, a dead peer (nothing listening) and a black-holed one (an address nobody
// holds), when the laptop recalls from all, then it gets both boxes' shared memories and is
// degraded within the deadline plus a margin; and the exposure rules still hold from outside.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity, signRequest } from '../../src/admin.js';
import { openEngine, type MnemoEngine } from '../../src/index.js';
import { givenNamespace, serveInNamespace, type Namespace, type ServerProcess } from '../../bench/support/netns.js';
import { givenCertificateAuthority, givenMemory, memoryIds, type Authority } from '../support/federation.js';

const prime = '/api/v1/prime';
const deadlineMs = 250;
/** Scheduling on a shared 2-core machine (up to ~600 ms seen under load): generous, but far below a connect timeout. */
const marginMs = 1000;

describe('federation across network namespaces', () => {
  let buildNs: Namespace;
  let nasNs: Namespace;
  let build: ServerProcess;
  let nas: ServerProcess;
  let authority: Authority;
  let laptop: MnemoEngine;
  const dirs: string[] = [];

  async function dir(name: string): Promise<string> {
    const made = await mkdtemp(join(tmpdir(), `mnemo-${name}-`));
    dirs.push(made);
    return made;
  }

  /** A data dir with the standard memory under `prefix`, closed again so a server can open it. */
  async function populated(prefix: string, words: string): Promise<string> {
    const dataDir = await dir(prefix);
    const engine = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
    await givenMemory(engine, prefix, words);
    await engine.append([{ type: 'prime.node.created', payload: { id: `node:decision:${prefix}-choice`, type: 'decision', properties: { name: `${words} chose msgpack` } } }]);
    await engine.embed({ id: `node:decision:${prefix}-choice`, vector: [0.9, 0.1, 0.1], text: `${words} decision` });
    await engine.close();
    return dataDir;
  }

  beforeAll(async () => {
    buildNs = await givenNamespace(1);
    nasNs = await givenNamespace(2);
    authority = await givenCertificateAuthority(nasNs.address);
    const laptopDir = await dir('laptop');
    const laptopKey = loadIdentity(laptopDir).publicKey;
    const trust = { MNEMO_PEER_ENABLED: '1', MNEMO_PEER_TRUST: laptopKey, MNEMO_API_KEY: '' };
    build = await serveInNamespace(buildNs, await populated('build', 'babbage'), [], { ...trust, MNEMO_PEER_DOMAINS: 'project' });
    nas = await serveInNamespace(nasNs, await populated('nas', 'hopper'), ['--tls-cert', authority.certFile, '--tls-key', authority.keyFile], { ...trust, MNEMO_PEER_DOMAINS: 'decision' });
    laptop = await openEngine({
      dataDir: laptopDir,
      durability: 'none',
      onWarning: () => {},
      federation: {
        origin: 'laptop',
        ca: authority.ca,
        peers: [
          { name: 'build', url: build.url },
          { name: 'nas', url: nas.url },
          { name: 'dead', url: `http://${buildNs.address}:3999` },
          { name: 'hole', url: `http://${nasNs.silentAddress}:3905` },
        ],
      },
    });
    await givenMemory(laptop, 'laptop', 'ada');
  });

  afterAll(async () => {
    await laptop?.close();
    await build?.stop();
    await nas?.stop();
    await buildNs?.remove();
    await nasNs?.remove();
    await authority?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('when the laptop recalls from the two live peers, then each contributes only its shared domain, signed and (to the NAS) over TLS', async () => {
    const answer = await laptop.recall({ vector: [1, 0, 0], depth: 3, topK: 30, peers: ['build', 'nas'], deadlineMs: 2000 });
    expect(answer.peers.map((p) => [p.name, p.status])).toEqual([
      ['build', 'ok'],
      ['nas', 'ok'],
    ]);
    expect(answer.degraded).toBe(false);
    const domainsFrom = (origin: string) => new Set(answer.results.filter((r) => r.origin === origin).map((r) => r.node?.domain));
    expect(domainsFrom('build')).toEqual(new Set(['project']));
    expect(domainsFrom('nas')).toEqual(new Set(['decision']));
    // The laptop's own memory is all its own, the vector stored under no node included.
    expect(domainsFrom('laptop')).toEqual(new Set(['project', 'personal', undefined]));
    expect(answer.results.some((r) => r.origin === 'build' && r.id === memoryIds('build').far)).toBe(false);
  });

  it('when the laptop also asks a dead and a black-holed peer, then the answer is degraded within the deadline plus a margin, with the live peers results', async () => {
    for (let round = 0; round < 2; round++) {
      const started = performance.now();
      const answer = await laptop.recall({ text: 'babbage hopper ada', topK: 10, peers: true, deadlineMs });
      const ms = performance.now() - started;
      expect(ms).toBeLessThan(deadlineMs + marginMs);
      expect(answer.degraded).toBe(true);
      const status = Object.fromEntries(answer.peers.map((p) => [p.name, p.status]));
      expect(status).toEqual({ build: 'ok', nas: 'ok', dead: 'refused', hole: 'timeout' });
      expect(new Set(answer.results.map((r) => r.origin))).toEqual(new Set(['laptop', 'build', 'nas']));
    }
  });

  it('when vector search fans out, then the same holds', async () => {
    const started = performance.now();
    const answer = await laptop.similar({ vector: [1, 0, 0] }, { topK: 5, peers: true, deadlineMs });
    expect(performance.now() - started).toBeLessThan(deadlineMs + marginMs);
    expect(answer.degraded).toBe(true);
    expect(answer.results.some((r) => r.origin === 'build')).toBe(true);
    expect(answer.results.some((r) => r.origin === 'nas')).toBe(true);
  });

  it('from the laptop (another machine to them): /health 200, the API 403, /peer/* unsigned 401 and signed 200', async () => {
    const key = loadIdentity(dirs[0]!);
    const get = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;
    expect(await get(`${build.url}/health`)).toBe(200);
    expect(await get(`${build.url}${prime}/stats`)).toBe(403);
    expect(await get(`${build.url}/metrics`)).toBe(403);
    expect(await get(`${build.url}/peer${prime}/stats`)).toBe(401);
    const path = `/peer${prime}/stats`;
    expect(await get(`${build.url}${path}`, signRequest(key, 'GET', path, new Uint8Array()))).toBe(200);
    const post = await fetch(`${build.url}/peer${prime}/nodes`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(404);
  });
});
