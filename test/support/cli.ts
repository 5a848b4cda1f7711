// Given/when helpers for the CLI as a user runs it: the compiled `mnemo` (dist/src/cli/main.js,
// built by `npx tsc -p tsconfig.json` first) in a real child process.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

export const cliPath = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

/** The environment a test runs the CLI in: no MNEMO_* variable leaks in from the shell that started the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('MNEMO_')) env[name] = value;
  return { ...env, ...extra };
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mnemo ...args` to completion. */
export function mnemo(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): CliRun {
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: timeoutMs, env: cleanEnv(env) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface Serving {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Given `mnemo serve ...flags`, resolved once it prints the URL it serves at; rejected if it exits first. */
export function givenServe(flags: readonly string[], env: Record<string, string> = {}): Promise<Serving> {
  const child = spawn(process.execPath, [cliPath, 'serve', ...flags], { env: cleanEnv(env) });
  return servingOf(child);
}

/** Waits for a child that runs a server to print `at http://host:port`. */
export function servingOf(child: ChildProcessWithoutNullStreams): Promise<Serving> {
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (match) resolve({ child, url: match[1]!, port: Number(match[2]), output: () => output, exited, stop });
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${output}`)));
  });
}

/** Whether a process with this pid is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port free on 127.0.0.1 right now (the OS picks it; the listener is closed before returning). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
