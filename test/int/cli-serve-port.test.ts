// Two `mnemo serve` processes on one port: the second must fail at once naming the port, never
// share it (SO_REUSEPORT would split requests between two different memories).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call } from '../support/http-server.js';
import { cleanEnv, cliPath, freePort, givenServe } from '../support/cli.js';

/** The second server must give up well within this, in ms; opening an empty data dir takes ~100 ms. */
const refusalWithinMs = 10_000;

let dirs: string[] = [];

beforeEach(async () => {
  dirs = [await mkdtemp(join(tmpdir(), 'mnemo-port-a-')), await mkdtemp(join(tmpdir(), 'mnemo-port-b-'))];
});

afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('mnemo serve: one server per port', () => {
  it('given a server on a port, when a second serve (another data dir) asks for the same port, then it exits 1 naming the port and the first keeps every request', async () => {
    // A fixed port, as users give one: the OS treats an ephemeral (port 0) bind differently.
    const first = await givenServe(['--data-dir', dirs[0]!, '--port', String(await freePort())]);
    try {
      const second = spawn(process.execPath, [cliPath, 'serve', '--data-dir', dirs[1]!, '--port', String(first.port)], { env: cleanEnv() });
      let stderr = '';
      second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          second.kill('SIGKILL');
          resolve(-1);
        }, refusalWithinMs);
        second.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code, stderr).toBe(1);
      expect(stderr).toContain(`port ${first.port}`);

      const created = await call(first.url, 'POST', '/api/v1/prime/nodes', { body: { type: 'keeper', id: 'node:keeper:1' } });
      expect(created.status).toBe(201);
      for (let i = 0; i < 20; i++) expect((await call(first.url, 'GET', '/api/v1/prime/nodes/node:keeper:1')).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});

describe('mnemo serve: stopped the moment it says it serves', () => {
  it('given a supervisor that sends SIGTERM as soon as it reads the serving line, then every time the server shuts down cleanly (exit 0), never killed by the signal', async () => {
    // Before the handlers were installed ahead of that line, about one stop in three died of the signal.
    for (let i = 0; i < 8; i++) {
      const served = await givenServe(['--data-dir', dirs[0]!, '--port', '0']);
      const code = await served.stop();
      expect(code, `run ${i}: signal ${served.child.signalCode}\n${served.output()}`).toBe(0);
    }
  });
});
