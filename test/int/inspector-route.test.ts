// The web inspector's files as the server sends them: the page fresh every time, the hashed
// assets cached for good, `/` and `/graph.html` redirected to /ui, a clear 503 when the files
// were never built, and nothing of it for a caller on another machine. (`npm test` builds the
// files before running this; the page itself is tested in a browser under test/system.)

import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectorRoutes } from '../../src/server/inspector.js';
import { call, givenServer, type GivenServer } from '../support/http-server.js';

const builtDir = join(process.cwd(), 'dist', 'ui');

describe('the inspector from loopback', () => {
  let given: GivenServer;
  beforeAll(async () => {
    given = await givenServer({ extraRoutes: inspectorRoutes(builtDir) });
  });
  afterAll(async () => {
    await given.close();
  });

  it('when /ui is asked for, then the page comes with no-cache, a same-origin content policy, and names hashed assets', async () => {
    const page = await call(given.url, 'GET', '/ui');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.text).toMatch(/src="\/ui\/assets\/main-[A-Z0-9]{8}\.js"/);
    expect(page.text).toMatch(/href="\/ui\/assets\/main-[A-Z0-9]{8}\.css"/);
  });

  it('when a hashed asset is asked for, then it is sent immutable for a year with its content type', async () => {
    const page = await call(given.url, 'GET', '/ui');
    const assets = [...page.text.matchAll(/\/ui\/assets\/[^"]+/g)].map((m) => m[0]);
    expect(assets.length).toBe(2);
    for (const path of assets) {
      const asset = await call(given.url, 'GET', path);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-type')).toBe(path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(asset.text.length).toBeGreaterThan(1000);
    }
  });

  it('when an asset the build did not write is asked for, then 404, and no path leads outside the assets', async () => {
    for (const path of ['/ui/assets/main-NOPE.js', '/ui/assets/..%2Findex.html', '/ui/assets/%2E%2E%2F%2E%2E%2Fpackage.json']) {
      const reply = await call(given.url, 'GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.json.code).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('when / or Prime\'s /graph.html is asked for, then a redirect to /ui', async () => {
    for (const path of ['/', '/graph.html']) {
      const reply = await fetch(`${given.url}${path}`, { redirect: 'manual' });
      expect(reply.status, path).toBe(302);
      expect(reply.headers.get('location')).toBe('/ui');
    }
  });
});

describe('the inspector with MNEMO_API_KEY set', () => {
  let given: GivenServer;
  beforeAll(async () => {
    given = await givenServer({ extraRoutes: inspectorRoutes(builtDir) });
    process.env.MNEMO_API_KEY = 'inspector-key';
  });
  afterAll(async () => {
    delete process.env.MNEMO_API_KEY;
    await given.close();
  });

  it('when the page and its assets are asked for without the key, then they are served (they hold no data), and the API still wants the key', async () => {
    const page = await call(given.url, 'GET', '/ui');
    expect(page.status).toBe(200);
    for (const path of [...page.text.matchAll(/\/ui\/assets\/[^"]+/g)].map((m) => m[0])) expect((await call(given.url, 'GET', path)).status, path).toBe(200);
    expect((await fetch(`${given.url}/`, { redirect: 'manual' })).status).toBe(302);
    expect((await call(given.url, 'GET', '/api/v1/prime/stats')).status).toBe(401);
    expect((await call(given.url, 'GET', '/api/v1/prime/stats', { headers: { authorization: 'Bearer inspector-key' } })).status).toBe(200);
  });
});

describe('the inspector never built', () => {
  it('when /ui is asked for, then 503 saying which command builds it', async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), 'mnemo-no-ui-'));
    const given = await givenServer({ extraRoutes: inspectorRoutes(emptyDir) });
    try {
      const reply = await call(given.url, 'GET', '/ui');
      expect(reply.status).toBe(503);
      expect(reply.json.code).toBe('INSPECTOR_NOT_BUILT');
      expect(reply.json.error).toContain('npm run build');
    } finally {
      await given.close();
      await rm(emptyDir, { recursive: true, force: true });
    }
  });
});

describe('the inspector from another machine', () => {
  // A connection from one of this machine's own non-loopback addresses to itself arrives from
  // that address, so the server sees a caller that is not loopback.
  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
  let given: GivenServer;
  beforeAll(async () => {
    expect(address, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    given = await givenServer({ host: address!, extraRoutes: inspectorRoutes(builtDir) });
  });
  afterAll(async () => {
    await given.close();
  });

  it('when /ui, an asset or a redirect is asked for, then 403; /health still answers', async () => {
    const page = await call(`http://${address}:${given.server.port}`, 'GET', '/ui');
    expect(page.status).toBe(403);
    expect(page.json.error).toContain('loopback callers only');
    for (const path of ['/ui/assets/main-AAAAAAAA.js', '/', '/graph.html']) {
      expect((await fetch(`http://${address}:${given.server.port}${path}`, { redirect: 'manual' })).status, path).toBe(403);
    }
    expect((await call(`http://${address}:${given.server.port}`, 'GET', '/health')).status).toBe(200);
  });
});
