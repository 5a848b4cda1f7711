// One stats shape: `mnemo stats` prints what GET /api/v1/prime/stats answers for the same data
// dir (snake_case, same nesting, same counts); the server adds only its own (memory, uptime,
// requests, latency).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openEngine } from '../../src/index.js';
import { givenServe, mnemo } from '../support/cli.js';
import { call } from '../support/http-server.js';

let root: string;
let dataDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mnemo-stats-shape-'));
  dataDir = join(root, 'store');
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  await db.addNode({ type: 'person', id: 'node:person:ada' });
  await db.addNode({ type: 'note', id: 'node:note:1' });
  await db.addEdge({ source: 'node:person:ada', target: 'node:note:1', relation: 'wrote' });
  await db.close();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every key path (`wal.segments`) of a JSON value, leaving the caller's own names under the count maps. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  if (prefix === 'nodes_by_type' || prefix === 'edges_by_relation') return [prefix];
  return Object.entries(value).flatMap(([key, child]) => keyPaths(child, prefix === '' ? key : `${prefix}.${key}`));
}

describe('stats: one shape on the CLI and over HTTP', () => {
  it('given a data dir, when read by mnemo stats and by a server, then the CLI keys are snake_case and each is in the HTTP answer with the same value', async () => {
    const run = mnemo(['stats', '--data-dir', dataDir]);
    expect(run.status, run.stderr).toBe(0);
    const cli = JSON.parse(run.stdout) as Record<string, unknown>;

    const serving = await givenServe(['--data-dir', dataDir, '--port', '0']);
    let http: Record<string, unknown>;
    try {
      http = (await call(serving.url, 'GET', '/api/v1/prime/stats')).json as Record<string, unknown>;
    } finally {
      expect(await serving.stop()).toBe(0);
    }

    const paths = keyPaths(cli);
    expect(paths.filter((p) => /[A-Z]/.test(p))).toEqual([]);
    expect(paths.filter((p) => !keyPaths(http).includes(p))).toEqual([]);
    expect(cli).toMatchObject({ total_nodes: 2, total_edges: 1, nodes_by_type: { person: 1, note: 1 }, edges_by_relation: { wrote: 1 } });
    for (const key of ['total_nodes', 'total_edges', 'last_seq', 'nodes_by_type', 'edges_by_relation']) expect(http[key], key).toEqual(cli[key]);
  });
});
