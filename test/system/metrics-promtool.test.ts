// Prometheus's own linter on a live server's /metrics: `promtool check metrics` (Debian package
// `prometheus`) must find nothing to say.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenServe, type Serving } from '../support/cli.js';
import { call } from '../support/http-server.js';

let dataDir: string;
let serving: Serving;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mnemo-promtool-'));
  serving = await givenServe(['--data-dir', dataDir, '--port', '0']);
});

afterAll(async () => {
  await serving.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('GET /metrics under promtool', () => {
  it('given a served data dir with writes, reads and a miss, when promtool checks /metrics, then it passes without a lint', async () => {
    const prime = '/api/v1/prime';
    expect((await call(serving.url, 'POST', `${prime}/nodes`, { body: { type: 'person', id: 'node:person:ada' } })).status).toBe(201);
    expect((await call(serving.url, 'POST', `${prime}/vectors`, { body: { id: 'node:person:ada', vector: [0.1, 0.2, 0.3] } })).status).toBeLessThan(300);
    expect((await call(serving.url, 'GET', `${prime}/nodes/node:person:ada`)).status).toBe(200);
    expect((await call(serving.url, 'GET', `${prime}/nodes/node:person:nobody`)).status).toBe(404);
    const metrics = await call(serving.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics.text, encoding: 'utf8' });
    expect(check.error, 'promtool is in Debian package prometheus').toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
