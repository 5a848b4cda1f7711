// The federation flags as a user runs them (the compiled CLI in child processes): `mnemo
// identity`, `mnemo serve --peer NAME=URL --origin NAME` and MNEMO_PEERS, `--tls-cert/--tls-key`.

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../src/admin.js';
import { call } from '../support/http-server.js';
import { givenCertificateAuthority, givenMemory, type Authority } from '../support/federation.js';
import { openEngine } from '../../src/index.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const run = promisify(execFile);
const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

async function dir(): Promise<string> {
  const made = await mkdtemp(join(tmpdir(), 'mnemo-cli-fed-'));
  dirs.push(made);
  return made;
}

/** `mnemo serve` on a free port with `flags` and `env`, resolved with its URL once it serves. */
function serve(dataDir: string, flags: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--port', '0', '--durability', 'none', ...flags], { env: { ...process.env, MNEMO_API_KEY: '', ...env } });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (https?:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
}

let authority: Authority;
beforeAll(async () => {
  authority = await givenCertificateAuthority();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await authority?.close();
});

describe('mnemo identity', () => {
  it('given a new data dir, when run twice, then it prints the same 43-character public key the data dir signs with', async () => {
    const dataDir = await dir();
    const first = (await run(process.execPath, [cli, 'identity', '--data-dir', dataDir])).stdout.trim();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await run(process.execPath, [cli, 'identity', '--data-dir', dataDir])).stdout.trim()).toBe(first);
    expect(loadIdentity(dataDir).publicKey).toBe(first);
  });
});

describe('mnemo serve with peers', () => {
  it('given a peer over HTTPS (--tls-cert/--tls-key) trusting the asker, and the asker started with --peer, --peer-ca, --origin and MNEMO_PEERS, when it recalls with peers, then both peers are asked and results carry their names', async () => {
    const peerDir = await dir();
    const seed = await openEngine({ dataDir: peerDir, durability: 'none', onWarning: () => {} });
    await givenMemory(seed, 'peer', 'lovelace');
    await seed.close();
    const askerDir = await dir();
    const askerKey = (await run(process.execPath, [cli, 'identity', '--data-dir', askerDir])).stdout.trim();
    const peerUrl = await serve(peerDir, ['--tls-cert', authority.certFile, '--tls-key', authority.keyFile], { MNEMO_PEER_ENABLED: '1', MNEMO_PEER_TRUST: askerKey, MNEMO_PEER_DOMAINS: 'project' });
    expect(peerUrl).toMatch(/^https:/);
    const askerUrl = await serve(askerDir, ['--peer', `secure=${peerUrl}`, '--peer-ca', authority.caFile, '--origin', 'laptop'], { MNEMO_PEERS: `again=${peerUrl}` });
    const reply = await call(askerUrl, 'POST', '/api/v1/prime/recall', { body: { text: 'lovelace', peers: true, deadline_ms: 3000 } });
    expect(reply.status).toBe(200);
    expect(reply.json.peers.map((p: { name: string; status: string }) => `${p.name}:${p.status}`)).toEqual(['secure:ok', 'again:ok']);
    expect(reply.json.results.every((r: { node: { domain: string } }) => r.node.domain === 'project')).toBe(true);
  });

  it('given a bad federation flag, then serve exits 2 naming it', async () => {
    for (const [flags, named] of [
      [['--tls-cert', authority.certFile], '--tls-cert and --tls-key'],
      [['--peer', 'nourl'], '--peer'],
      [['--peer-ca', '/nonexistent/ca.pem'], '--peer-ca'],
      [['--peer', 'bad name=http://127.0.0.1:1'], '--peer'],
      [['--peer', 'ftp=ftp://127.0.0.1:1'], '--peer'],
    ] as const) {
      const dataDir = await dir();
      const result = await run(process.execPath, [cli, 'serve', '--data-dir', dataDir, '--port', '0', ...flags]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr, flags.join(' ')).toContain(named);
    }
  });
});
