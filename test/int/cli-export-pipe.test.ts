// `mnemo export --format jsonl | head -2`: head closes the pipe after two lines; the export must
// end quietly (exit 0, nothing on stderr but its summary) and release the data dir's lock.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openEngine } from '../../src/index.js';
import { cleanEnv, cliPath, mnemo } from '../support/cli.js';

/** Far more than a pipe's 64 KiB buffer, so the export is still writing when head leaves. */
const nodeCount = 20_000;

let root: string;
let dataDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mnemo-export-pipe-'));
  dataDir = join(root, 'store');
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  const events = Array.from({ length: nodeCount }, (_, i) => ({ type: 'prime.node.created', payload: { id: `node:note:${i}`, type: 'note', properties: { title: `note number ${i}` } } }));
  for (let i = 0; i < events.length; i += 1_000) await db.append(events.slice(i, i + 1_000));
  await db.close();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('mnemo export into a pipe that closes', () => {
  it('given head -2 on its stdout, then export prints two lines, exits 0 without an error and leaves no lock', () => {
    const stderrFile = join(root, 'stderr.txt');
    const script = `"${process.execPath}" "${cliPath}" export --format jsonl --data-dir "${dataDir}" 2>"${stderrFile}" | head -2; echo "exit=\${PIPESTATUS[0]}"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
    const lines = run.stdout.trim().split('\n');
    const stderr = readFileSync(stderrFile, 'utf8');

    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ seq: 1, type: 'prime.node.created' });
    expect(lines[2], stderr).toBe('exit=0');
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(existsSync(join(dataDir, 'wal', 'LOCK'))).toBe(false);

    // and the data dir opens for a writer at once
    expect(mnemo(['checkpoint', '--data-dir', dataDir]).status).toBe(0);
  });

  it('given a reader that stops reading (the pipe full), when SIGINT arrives, then export stops, exits 130 and leaves no lock', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [cliPath, 'export', '--format', 'jsonl', '--data-dir', dataDir], { env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Read nothing: once the first chunk is there the export soon blocks on a full pipe.
    await new Promise<void>((resolve) => child.stdout.once('readable', () => resolve()));
    child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const code = await exited;
    child.stdout.destroy();

    expect(code, stderr).toBe(130);
    expect(stderr).toContain('SIGINT: stopping');
    expect(existsSync(join(dataDir, 'wal', 'LOCK'))).toBe(false);
  });
});
