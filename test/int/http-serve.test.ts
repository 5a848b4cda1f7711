// `mnemo serve` as a user runs it (the compiled CLI in a child process): it prints its URL
// once ready, answers, and on SIGTERM lets an in-flight write finish, then exits 0 with
// every acknowledged write on disk.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import uWS from 'uWebSockets.js';
import { call } from '../support/http-server.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mnemo-serve-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface Serving {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Given `mnemo serve` on a free port, resolved once it prints the URL it serves at. */
function givenServe(...flags: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--port', '0', ...flags], { env: { ...process.env, MNEMO_API_KEY: '' } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (match) resolve({ child, url: match[1]!, port: Number(match[2]), output: () => output, exited });
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${output}`)));
  });
}

describe('mnemo serve', () => {
  it('given 20 MiB sent by fetch to /nodes and 17 MiB to /events, then fetch reads a 413 naming the cap (never a reset)', async () => {
    const serving = await givenServe();
    try {
      for (const [path, mib] of [['/api/v1/prime/nodes', 20], ['/api/v1/events', 17]] as const) {
        for (let attempt = 0; attempt < 3; attempt++) {
          const response = await fetch(`${serving.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(mib * 1024 * 1024) });
          expect(response.status).toBe(413);
          expect(((await response.json()) as { code: string }).code).toBe('BODY_TOO_LARGE');
        }
      }
    } finally {
      serving.child.kill('SIGTERM');
      await serving.exited;
    }
  });

  it('given durability fsync, when writes and a read are pipelined on one connection, then every request gets its answer, in order', async () => {
    const serving = await givenServe('--durability', 'fsync');
    try {
      const post = (id: string): string => {
        const body = JSON.stringify({ type: 'person', id, properties: { name: id } });
        return `POST /api/v1/prime/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      };
      const get = 'GET /api/v1/prime/nodes/node:person:p1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      const replies = await pipelined(serving.port, post('node:person:p1') + post('node:person:p2') + get, 3);
      expect(replies).toEqual([201, 201, 200]);
    } finally {
      serving.child.kill('SIGTERM');
      await serving.exited;
    }
  });

  it('given a bare uWebSockets.js handler that answers after a timer (as after a group commit), when two requests are pipelined, then it closes the connection answering neither: why mnemo serve commits inline', async () => {
    const app = uWS.App();
    app.get('/*', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      setTimeout(() => {
        if (!aborted) res.cork(() => res.end('{}'));
      }, 20);
    });
    const listening = await new Promise<uWS.us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (socket) => (socket === false ? reject(new Error('listen failed')) : resolve(socket))));
    const port = uWS.us_socket_local_port(listening as unknown as uWS.us_socket);
    try {
      const get = 'GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
      expect(await pipelined(port, get, 1)).toEqual([200]); // one at a time, the late answer comes
      expect(await pipelined(port, get + get, 2)).toEqual([]); // pipelined behind it, nothing comes
    } finally {
      uWS.us_listen_socket_close(listening);
      (app as uWS.TemplatedApp & { close(): void }).close();
    }
  });

  it('given a write, when SIGTERM, then it exits 0 and a restart serves the write', async () => {
    const first = await givenServe('--durability', 'fsync');
    const created = await call(first.url, 'POST', '/api/v1/prime/nodes', { body: { type: 'keeper', id: 'node:keeper:1' } });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('stopped');

    const second = await givenServe();
    try {
      expect((await call(second.url, 'GET', '/api/v1/prime/nodes/node:keeper:1')).status).toBe(200);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  });

  it('given a request whose body is still arriving, when SIGTERM, then it is answered before the process exits', async () => {
    const serving = await givenServe('--durability', 'fsync');
    const body = JSON.stringify([{ type: 'prime.node.created', payload: { id: 'node:late:1', type: 'late', properties: {} } }]);
    const socket = connect({ host: '127.0.0.1', port: serving.port });
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.write(`POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    serving.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.write(body.slice(10));
    expect(await serving.exited).toBe(0);
    socket.destroy();
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response).toContain('"first_seq":1');

    const again = await givenServe();
    try {
      expect((await call(again.url, 'GET', '/api/v1/prime/nodes/node:late:1')).status).toBe(200);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('given a bad flag, then it exits 2 naming the flag', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--durability', 'sometimes']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--durability');
  });
});

/** Sends `bytes` in one write on one connection and collects the status lines of `expected` answers (or fewer, if the server closes). */
function pipelined(port: number, bytes: string, expected: number): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const statuses = (): number[] => [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(statuses());
    };
    const timer = setTimeout(done, 5_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (statuses().length >= expected && received.endsWith('}')) done();
    });
    socket.on('close', done);
    socket.write(bytes);
  });
}
