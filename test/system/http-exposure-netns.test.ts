// Exposure from another machine: a network namespace joined to this one by a veth pair, with the
// client run inside it (needs root and iproute2: npm run test:system).

import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { rawExchange } from '../support/http-raw.js';

const run = promisify(execFile);
const prime = '/api/v1/prime';

afterEach(() => {
  delete process.env.MNEMO_PEER_ENABLED;
  delete process.env.MNEMO_API_KEY;
});
describe('from another machine (a network namespace over a veth pair)', () => {
  // Addresses of our own on a /30 that exists only between this namespace and the one we create.
  const subnet = randomInt(0, 256);
  const suffix = `${process.pid.toString(36)}${randomInt(0, 1296).toString(36)}`.slice(-6);
  const namespace = `mnemo-test-${suffix}`;
  const hostSide = `mth${suffix}`;
  const peerSide = `mtp${suffix}`;
  const hostAddress = `10.231.${subnet}.1`;
  const peerAddress = `10.231.${subnet}.2`;
  let given: GivenServer;

  async function ip(...args: string[]): Promise<void> {
    await run('ip', args);
  }

  /** Runs curl inside the namespace; returns the status code. */
  async function fromPeer(method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
    const args = ['netns', 'exec', namespace, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-X', method];
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
    if (method === 'POST') args.push('-H', 'content-type: application/json', '--data', '{"vector":[1,0,0],"top_k":1}');
    args.push(`http://${hostAddress}:${given.server.port}${path}`);
    const { stdout } = await run('ip', args);
    return Number(stdout);
  }

  beforeAll(async () => {
    await ip('netns', 'add', namespace);
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', peerSide);
    await ip('link', 'set', peerSide, 'netns', namespace);
    await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
    await ip('link', 'set', hostSide, 'up');
    await ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerSide);
    await ip('netns', 'exec', namespace, 'ip', 'link', 'set', peerSide, 'up');
    // Bound to our veth address only, so nothing outside this test can reach it.
    given = await givenServer({ host: hostAddress });
  });

  afterAll(async () => {
    await given?.close();
    await ip('link', 'del', hostSide).catch(() => {});
    await ip('netns', 'del', namespace).catch(() => {});
  });

  it('when a peer calls /health, then 200', async () => {
    expect(await fromPeer('GET', '/health')).toBe(200);
  });

  it('when a peer calls the API, /metrics or an unknown route, then 403', async () => {
    for (const path of [`${prime}/stats`, '/metrics', '/api/v1/events', '/nowhere']) {
      expect(await fromPeer('GET', path), path).toBe(403);
    }
    expect(await fromPeer('POST', `${prime}/vectors/search`)).toBe(403);
  });

  it('given MNEMO_PEER_ENABLED unset, when a peer calls /peer/*, then 503; set to 1, then 200 on read routes only', async () => {
    expect(await fromPeer('GET', `/peer${prime}/stats`)).toBe(503);
    process.env.MNEMO_PEER_ENABLED = '1';
    expect(await fromPeer('GET', `/peer${prime}/stats`)).toBe(200);
    expect(await fromPeer('GET', `/peer${prime}/search?type=none`)).toBe(200);
    expect(await fromPeer('GET', `/peer${prime}/nodes/node:x:none`)).toBe(404);
    expect(await fromPeer('DELETE', `/peer${prime}/nodes/node:x:none`)).toBe(404);
    process.env.MNEMO_PEER_ENABLED = '0';
    expect(await fromPeer('GET', `/peer${prime}/stats`)).toBe(503);
  });

  it('given MNEMO_API_KEY and peering on, then a peer needs the token too', async () => {
    process.env.MNEMO_PEER_ENABLED = '1';
    process.env.MNEMO_API_KEY = 'peer-key';
    expect(await fromPeer('GET', `/peer${prime}/stats`)).toBe(401);
    expect(await fromPeer('GET', `/peer${prime}/stats`, { authorization: 'Bearer peer-key' })).toBe(200);
    expect(await fromPeer('GET', '/health')).toBe(200);
  });

  it('when a peer sends a Host name that is not allowed, then 403 even on /health', async () => {
    expect(await fromPeer('GET', '/health', { host: 'rebind.example' })).toBe(403);
  });
});
