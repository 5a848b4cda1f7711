// `npm start` as a user stops it: SIGTERM to the npm process must reach the server, which then
// shuts down cleanly and frees both the port and the data dir lock.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, isAlive, servingOf } from '../support/cli.js';
import { call } from '../support/http-server.js';

/** How long the server may take to stop after the signal, in ms (a checkpoint of one node is quick). */
const stopWithinMs = 15_000;

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mnemo-npm-start-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function until(condition: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('npm start', () => {
  it('given npm start serving, when SIGTERM goes to the npm process, then the server stops: its process ends and the lock is released', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent', '--', '--data-dir', dataDir, '--port', String(port)], { env: cleanEnv() });
    const serving = await servingOf(npm);
    const serverPid = Number(readFileSync(join(dataDir, 'wal', 'LOCK'), 'utf8'));
    let serverKilled = false;
    try {
      expect((await call(serving.url, 'POST', '/api/v1/prime/nodes', { body: { type: 'keeper', id: 'node:keeper:1' } })).status).toBe(201);

      npm.kill('SIGTERM');
      await serving.exited;
      expect(await until(() => !isAlive(serverPid), stopWithinMs), `server pid ${serverPid} still running after npm exited`).toBe(true);
      expect(existsSync(join(dataDir, 'wal', 'LOCK'))).toBe(false);
    } finally {
      if (isAlive(serverPid)) {
        serverKilled = true;
        process.kill(serverPid, 'SIGKILL');
      }
    }
    expect(serverKilled).toBe(false);
  });
});
