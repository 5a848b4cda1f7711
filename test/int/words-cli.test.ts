// The CLI around words, as real child processes on the compiled build: `mnemo setup`, `mnemo serve
// --embedder`, and `mnemo mcp` on a data dir another process holds.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { givenEngine, tempDir } from '../support/engine.js';
import { startEmbeddingsServer, type EmbeddingsServer } from '../support/embeddings-server.js';

const main = resolve('dist/src/cli/main.js');

function mnemo(cwd: string, env: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, MNEMO_DATA_DIR: '', ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** As `mnemo`, without blocking this process's event loop (the embeddings server it talks to runs here). */
function mnemoAsync(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], { cwd, env: { ...process.env, MNEMO_DATA_DIR: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolveRun) =>
    child.once('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, stdout, stderr });
    }),
  );
}

let embeddings: EmbeddingsServer | undefined;
afterEach(async () => {
  await embeddings?.close();
  embeddings = undefined;
});

describe('mnemo setup', () => {
  it('given a .mcp.json with another server, when setup runs twice, then mnemo is added with absolute paths, the other kept, and the second run changes nothing', async () => {
    const cwd = await tempDir();
    const dataDir = await tempDir();
    const file = join(cwd, '.mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { other: { command: 'other-server', args: [] } } }));
    const first = mnemo(cwd, {}, 'setup', '--data-dir', dataDir, '--embedder', 'http://127.0.0.1:11434', '--embedder-model', 'nomic-embed-text');
    expect(first.status, first.stderr).toBe(0);
    const config = JSON.parse(readFileSync(file, 'utf8'));
    expect(config.mcpServers.other).toEqual({ command: 'other-server', args: [] });
    expect(config.mcpServers.mnemo).toEqual({
      command: process.execPath,
      args: [main, 'mcp', '--data-dir', dataDir, '--embedder', 'http://127.0.0.1:11434', '--embedder-model', 'nomic-embed-text'],
    });
    expect(first.stdout).toContain('[mcp_servers.mnemo]');
    const before = readFileSync(file, 'utf8');
    const second = mnemo(cwd, {}, 'setup', '--data-dir', dataDir, '--embedder', 'http://127.0.0.1:11434', '--embedder-model', 'nomic-embed-text');
    expect(second.stdout).toMatch(/^unchanged /);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('given a .mcp.json that is not JSON, when setup runs, then it refuses and leaves the file alone', async () => {
    const cwd = await tempDir();
    writeFileSync(join(cwd, '.mcp.json'), '{ not json');
    const run = mnemo(cwd, {}, 'setup');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('is not valid JSON');
    expect(readFileSync(join(cwd, '.mcp.json'), 'utf8')).toBe('{ not json');
  });
});

describe('mnemo mcp and serve with words', () => {
  it('given a data dir another process holds, when mnemo mcp starts, then stderr says so and names the way out', async () => {
    const dataDir = await tempDir();
    await givenEngine({ dataDir });
    const run = mnemo(dataDir, {}, 'mcp', '--data-dir', dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`the data dir ${dataDir} is held by another process (pid ${process.pid})`);
    expect(run.stderr).toContain('/mcp');
  });

  it('given an embedder that does not answer, when mnemo serve starts, then it fails before the port opens, naming the embedder', async () => {
    embeddings = await startEmbeddingsServer();
    embeddings.failAlways('401');
    const dataDir = await tempDir();
    const run = await mnemoAsync(dataDir, { MNEMO_EMBEDDER_KEY: 'sk-never-shown' }, 'serve', '--data-dir', dataDir, '--port', '0', '--embedder', embeddings.url, '--embedder-model', 'concepts');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`embedder concepts at ${embeddings.url}/v1/embeddings is unavailable: HTTP 401`);
    expect(run.stdout + run.stderr).not.toContain('sk-never-shown');
    expect(embeddings.requests[0]!.authorization).toBe('Bearer sk-never-shown');
  });

  it('given bad embedder flags, when serve starts, then exit 2 names the flag', async () => {
    const dataDir = await tempDir();
    expect(mnemo(dataDir, {}, 'serve', '--data-dir', dataDir, '--embedder', 'ftp://x')).toMatchObject({ status: 2, stderr: expect.stringContaining('--embedder: expected an http(s) URL or local:DIR') });
    expect(mnemo(dataDir, {}, 'serve', '--data-dir', dataDir, '--embedder-model', 'm')).toMatchObject({ status: 2, stderr: expect.stringContaining('--embedder-model needs --embedder') });
  });

  it('given a working embedder, when mnemo serve runs, then the warmed server answers recall in words', async () => {
    embeddings = await startEmbeddingsServer();
    const dataDir = await tempDir();
    const child = spawn(process.execPath, [main, 'serve', '--data-dir', dataDir, '--port', '0', '--durability', 'none', '--embedder', embeddings.url, '--embedder-model', 'concepts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /at (http:\/\/[^ ]+) \(.*embedder concepts at .* \(16-d, warmed\)\)/.exec(out);
          if (match) resolveUrl(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      // Warmed before the port opened.
      expect(embeddings.requests[0]!.input).toEqual(['warm-up']);
      const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await post('/api/v1/prime/nodes', { id: 'n1', type: 'note', properties: { text: 'the puppy sleeps' } });
      await post('/api/v1/prime/vectors', { id: 'n1', text: 'the puppy sleeps' });
      await new Promise((r) => setTimeout(r, 200));
      const reply = await post('/api/v1/prime/recall', { text: 'my dog', depth: 0 });
      expect(reply.headers.get('server-timing')).toContain('embed;dur=');
      expect(await reply.json()).toMatchObject({ results: [{ id: 'n1', retrieval: ['semantic'] }] });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
