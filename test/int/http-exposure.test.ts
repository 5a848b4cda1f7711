// Exposure: loopback reaches everything; Host/Origin checks against DNS rebinding; MNEMO_API_KEY
// bearer auth; the /peer/* switch. The same rules seen from another machine are in
// test/system/http-exposure-netns.test.ts.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackBytes } from '../../src/server/exposure.js';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { rawExchange } from '../support/http-raw.js';

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

describe('loopback addresses in binary, as uWebSockets.js reports them', () => {
  const v6 = (...tail: number[]): number[] => [...new Array<number>(16 - tail.length).fill(0), ...tail];
  const table: Array<[string, number[], boolean]> = [
    ['127.0.0.1', [127, 0, 0, 1], true],
    ['127.255.0.9', [127, 255, 0, 9], true],
    ['10.231.0.2', [10, 231, 0, 2], false],
    ['128.0.0.1', [128, 0, 0, 1], false],
    ['::1', v6(1), true],
    ['::ffff:127.0.0.1', v6(0xff, 0xff, 127, 0, 0, 1), true],
    ['::ffff:10.0.0.1', v6(0xff, 0xff, 10, 0, 0, 1), false],
    ['::2', v6(2), false],
    ['::1:0:0:1 (not ::1)', v6(1, 0, 0, 0, 0, 0, 0, 1), false],
    ['fe80::1', [0xfe, 0x80, ...v6(1).slice(2)], false],
    ['(empty)', [], false],
  ];
  for (const [name, bytes, loopback] of table) {
    it(`${name} is ${loopback ? '' : 'not '}loopback`, () => {
      expect(isLoopbackBytes(Uint8Array.from(bytes))).toBe(loopback);
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
    // As Prime's clients send it: a bare Authorization, or X-API-Key.
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { authorization: 's3cret-key' } })).status).toBe(200);
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { 'x-api-key': 's3cret-key' } })).status).toBe(200);
    expect((await call(given.url, 'GET', `${prime}/stats`, { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
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
