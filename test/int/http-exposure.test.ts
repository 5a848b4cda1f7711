// Exposure (SPEC.md): loopback reaches everything; another machine reaches /health and,
// while MNEMO_PEER_ENABLED=1, the read-only /peer/* mirror; Host/Origin checks against DNS
// rebinding; MNEMO_API_KEY bearer auth. "Another machine" is real: a network namespace
// joined to this one by a veth pair, with the client run inside it.

import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../src/server/exposure.js';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { rawExchange } from '../support/http-raw.js';

const run = promisify(execFile);
const prime = '/api/v1/prime';

afterEach(() => {
  delete process.env.MNEMO_PEER_ENABLED;
  delete process.env.MNEMO_API_KEY;
});

describe('loopback addresses', () => {
  const table: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['0000:0000:0000:0000:0000:0000:0000:0001', true],
    ['::ffff:127.0.0.1', true],
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', true],
    ['0000:0000:0000:0000:0000:ffff:0a00:0001', false],
    ['::ffff:10.0.0.1', false],
    ['10.231.0.2', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['fe80::1', false],
    ['', false],
    ['localhost', false],
  ];
  for (const [address, loopback] of table) {
    it(`${address || '(empty)'} is ${loopback ? '' : 'not '}loopback`, () => {
      expect(isLoopbackAddress(address)).toBe(loopback);
    });
  }
});

describe('from loopback', () => {
  let given: GivenServer;
  beforeAll(async () => {
    given = await givenServer({ allowedHosts: ['mnemo.internal'] });
  });
  afterAll(async () => {
    await given.close();
  });

  // fetch will not send a Host of our choosing, so these go over a raw socket.
  function withHost(path: string, host: string): Promise<{ status: number | null; body: string }> {
    return rawExchange(given.server.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  }

  it('when Host is an IP literal, localhost or an allowed name, then served', async () => {
    for (const host of ['127.0.0.1:1', 'localhost', 'LOCALHOST:3905', '[::1]:3905', '10.1.2.3', 'mnemo.internal:3905']) {
      expect((await withHost(`${prime}/stats`, host)).status, host).toBe(200);
    }
  });

  it('when Host is any other name (DNS rebinding), then 403 on every route, /health included', async () => {
    for (const path of [`${prime}/stats`, '/health', '/nowhere']) {
      const reply = await withHost(path, 'attacker.example:3905');
      expect(reply.status, path).toBe(403);
      expect(JSON.parse(reply.body).code).toBe('FORBIDDEN');
    }
  });

  it('when a browser Origin is loopback or allowed, then served; any other Origin, 403', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1', 'http://[::1]:8080', 'https://mnemo.internal']) {
      expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { origin } })).status, origin).toBe(200);
    }
    for (const origin of ['https://evil.example', 'http://10.0.0.5', 'null']) {
      expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { origin } })).status, origin).toBe(403);
    }
  });

  it('given MNEMO_PEER_ENABLED unset, when /peer/*, then 503 naming the variable; set, then the read mirror answers', async () => {
    const off = await call(given.url, 'GET', `/peer${prime}/stats`);
    expect(off.status).toBe(503);
    expect(off.json.error).toContain('MNEMO_PEER_ENABLED');
    process.env.MNEMO_PEER_ENABLED = '1';
    expect((await call(given.url, 'GET', `/peer${prime}/stats`)).status).toBe(200);
    // Writes are not mirrored.
    expect((await call(given.url, 'POST', `/peer${prime}/nodes`, { body: { type: 'x' } })).status).toBe(404);
    expect((await call(given.url, 'GET', `/peer${prime}/nodes/x/history`)).status).toBe(404);
  });

  it('given MNEMO_API_KEY, then every route but /health needs the bearer token (401), read per request', async () => {
    process.env.MNEMO_API_KEY = 's3cret-key';
    expect((await call(given.url, 'GET', '/health')).status).toBe(200);
    const none = await call(given.url, 'GET', `${prime}/stats`);
    expect(none.status).toBe(401);
    expect(none.json.code).toBe('UNAUTHORIZED');
    expect(none.text).not.toContain('s3cret');
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { authorization: 'Bearer s3cret-key-and-more' } })).status).toBe(401);
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { authorization: 's3cret-key' } })).status).toBe(401);
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { authorization: 'Bearer s3cret-key' } })).status).toBe(200);
    expect((await call(given.url, 'GET', '/metrics', { headers: { authorization: 'Bearer s3cret-key' } })).status).toBe(200);
    delete process.env.MNEMO_API_KEY;
    expect((await call(given.url, 'GET', `${prime}/stats`)).status).toBe(200);
  });

  it('given a server on ::1, when called over IPv6 loopback, then served', async () => {
    const v6 = await givenServer({ host: '::1' });
    try {
      expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      expect((await call(v6.url, 'GET', `${prime}/stats`)).status).toBe(200);
    } finally {
      await v6.close();
    }
  });
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
