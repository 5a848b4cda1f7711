// The CLI's conventions, run as a user runs them (compiled build, child processes): version and
// help do nothing else, unknown flags and bad values exit 2 naming them, every flag has a
// MNEMO_* variable, and read-only commands never create a data dir.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openEngine } from '../../src/index.js';
import { commands } from '../../src/cli/commands.js';
import { freePort, givenServe, mnemo } from '../support/cli.js';
import { call } from '../support/http-server.js';
import { rawExchange } from '../support/http-raw.js';

let root: string;
/** A data dir holding one node, closed. */
let dataDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mnemo-cli-args-'));
  dataDir = join(root, 'store');
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  await db.addNode({ type: 'person', id: 'node:person:ada' });
  await db.close();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file and directory under dir, as relative paths: to see that a command changed nothing. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('mnemo --version and help', () => {
  it.each([['--version'], ['-v'], ['version']])('given %s, then it prints the version and exits 0', (flag) => {
    const run = mnemo([flag]);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it.each([['help'], ['--help'], ['-h']])('given %s, then it lists every command and exits 0', (flag) => {
    const run = mnemo([flag]);
    expect(run.status).toBe(0);
    for (const command of commands) expect(run.stdout).toContain(command.name);
  });

  it('given help serve, then it prints serve\'s flags', () => {
    const run = mnemo(['help', 'serve']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--port PORT');
  });

  it.each(commands.map((c) => [c.name]))('given %s --help on a data dir, then it prints every flag with its variable, exits 0 and changes nothing', (name) => {
    const before = tree(dataDir);
    const run = mnemo([name, '--help', '--data-dir', dataDir]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`usage: mnemo ${name}`);
    for (const flag of commands.find((c) => c.name === name)!.flags) {
      expect(run.stdout).toContain(`--${flag.name}`);
      expect(run.stdout).toContain(flag.env);
    }
    expect(tree(dataDir)).toEqual(before);
  });

  it('given stats --help and a data dir that does not exist, then none is created', () => {
    const missing = join(root, 'never-made');
    expect(mnemo(['stats', '--help', '--data-dir', missing]).status).toBe(0);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('mnemo: bad usage exits 2 naming what is wrong', () => {
  it.each([
    [['serve', '--prot', '41002'], "'--prot'"],
    [['mcp', '--durability', 'bogus'], "--durability: expected one of fsync, interval, none, got 'bogus'"],
    [['serve', '--port', '70000'], "--port: expected a port 0..65535, got '70000'"],
    [['serve', '--port'], "'--port <value>' argument missing"],
    [['checkpoint', 'now'], "unexpected argument 'now'"],
    [['import'], 'missing FILE'],
    [['export', '--format', 'csv'], "--format: expected one of jsonl, parquet, arrow, got 'csv'"],
    [['export'], '--format is required'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('given mnemo %j, then exit 2 and stderr says %s', (args, message) => {
    const run = mnemo(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('given a bad value in a MNEMO_* variable, then exit 2 naming the variable', () => {
    const run = mnemo(['serve', '--data-dir', join(root, 'unused')], { MNEMO_PORT: 'abc' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("MNEMO_PORT: expected a port 0..65535, got 'abc'");
    expect(existsSync(join(root, 'unused'))).toBe(false);
  });
});

describe('mnemo: read-only commands on a missing data dir', () => {
  it.each([['stats'], ['verify'], ['export']])('given %s on a data dir that does not exist, then it says so, exits 1 and creates nothing', (name) => {
    const missing = join(root, `missing-${name}`);
    const run = mnemo([name, '--data-dir', missing, ...(name === 'export' ? ['--format', 'jsonl'] : [])]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no data dir at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe('mnemo: flags from the environment', () => {
  it('given MNEMO_DATA_DIR, MNEMO_PORT and MNEMO_ALLOWED_HOSTS, when serve runs without flags, then it serves that data dir on that port for those names', async () => {
    const port = await freePort();
    const serving = await givenServe([], { MNEMO_DATA_DIR: dataDir, MNEMO_PORT: String(port), MNEMO_ALLOWED_HOSTS: 'memory.example, other.example' });
    try {
      expect(serving.port).toBe(port);
      expect((await call(serving.url, 'GET', '/api/v1/prime/nodes/node:person:ada')).status).toBe(200);
      const request = (host: string) => `GET /api/v1/prime/nodes/node:person:ada HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
      expect((await rawExchange(port, request('other.example'))).status).toBe(200);
      expect((await rawExchange(port, request('stranger.example'))).status).toBe(403);
    } finally {
      expect(await serving.stop()).toBe(0);
    }
  });

  it('given a flag and its variable, then the flag wins', () => {
    const run = mnemo(['stats', '--data-dir', dataDir], { MNEMO_DATA_DIR: join(root, 'elsewhere') });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
  });
});

describe('mnemo: every flag is documented', () => {
  it('given the command table, then docs/operations.md names every flag and its variable', () => {
    const operations = readFileSync('docs/operations.md', 'utf8');
    for (const flag of commands.flatMap((c) => c.flags)) {
      expect(operations, flag.name).toContain(`--${flag.name}`);
      expect(operations, flag.env).toContain(flag.env);
    }
  });
});
