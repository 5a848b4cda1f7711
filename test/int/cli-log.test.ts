// `mnemo serve --log-level`: at debug one JSON line per answered request on stderr, naming method,
// path, operation, status and duration, and never the body, the query string or the API key; at
// info no request lines at all.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { givenServe } from '../support/cli.js';
import { call } from '../support/http-server.js';

const apiKey = 'key-that-must-not-be-logged';
const secret = 'body-text-that-must-not-be-logged';
const querySecret = 'query-text-that-must-not-be-logged';
const auth = { authorization: `Bearer ${apiKey}` };

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mnemo-log-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Three requests: a write with a body, a read with a query string, a miss. */
async function whenRequested(url: string): Promise<void> {
  const prime = '/api/v1/prime';
  expect((await call(url, 'POST', `${prime}/nodes`, { body: { type: 'person', id: 'node:person:ada', properties: { note: secret } }, headers: auth })).status).toBe(201);
  expect((await call(url, 'GET', `${prime}/nodes/node:person:ada/neighbors?relation=${querySecret}`, { headers: auth })).status).toBe(200);
  expect((await call(url, 'GET', `${prime}/nodes/node:person:nobody`, { headers: auth })).status).toBe(404);
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('mnemo serve --log-level', () => {
  it('given debug, when three requests are answered, then stderr has one JSON line each, without body, query or key', async () => {
    const serving = await givenServe(['--data-dir', dataDir, '--port', '0', '--log-level', 'debug'], { MNEMO_API_KEY: apiKey });
    await whenRequested(serving.url);
    expect(await serving.stop()).toBe(0);

    const requests = jsonLines(serving.output()).filter((line) => line.msg === 'request');
    expect(requests.map((r) => [r.method, r.operation, r.status])).toEqual([
      ['POST', 'nodes.create', 201],
      ['GET', 'nodes.neighbors', 200],
      ['GET', 'nodes.get', 404],
    ]);
    expect(requests[1]).toMatchObject({ level: 'debug', path: '/api/v1/prime/nodes/node:person:ada/neighbors', remote: '127.0.0.1', duration_ms: expect.any(Number), response_bytes: expect.any(Number) });
    for (const forbidden of [apiKey, secret, querySecret]) expect(serving.output()).not.toContain(forbidden);
  });

  it('given the default level (info), when requests are answered, then no request line is logged', async () => {
    const serving = await givenServe(['--data-dir', dataDir, '--port', '0'], { MNEMO_API_KEY: apiKey });
    await whenRequested(serving.url);
    expect(await serving.stop()).toBe(0);
    expect(jsonLines(serving.output()).filter((line) => line.msg === 'request')).toEqual([]);
  });

  it('given MNEMO_LOG_LEVEL=debug, then request lines are logged as with the flag', async () => {
    const serving = await givenServe(['--data-dir', dataDir, '--port', '0'], { MNEMO_API_KEY: apiKey, MNEMO_LOG_LEVEL: 'debug' });
    await whenRequested(serving.url);
    expect(await serving.stop()).toBe(0);
    expect(jsonLines(serving.output()).filter((line) => line.msg === 'request')).toHaveLength(3);
  });
});
