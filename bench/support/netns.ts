// Other machines on this one: network namespaces joined to the root namespace by veth pairs,
// each with a /29 of its own (root .1, the namespace .2, .3 to .6 held by nobody: an address that
// never answers), and mnemo servers run inside them as child processes. Needs root and iproute2.
// Used by the federation system tests and benchmark.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export interface Namespace {
  name: string;
  /** The root namespace's end of the veth. */
  hostDevice: string;
  /** The namespace's end. */
  peerDevice: string;
  hostAddress: string;
  address: string;
  /** In the namespace's subnet, held by nobody: packets to it are never answered. */
  silentAddress: string;
  remove(): Promise<void>;
}

/** A namespace with a veth pair to this one; `index` keeps several apart (0..63). */
export async function givenNamespace(index: number): Promise<Namespace> {
  const suffix = `${process.pid.toString(36)}${randomInt(0, 1296).toString(36)}`.slice(-5) + index.toString(36);
  const name = `mnemo-fed-${suffix}`;
  const hostDevice = `mfh${suffix}`;
  const peerDevice = `mfp${suffix}`;
  const subnet = `10.${233 + (index >> 5)}.${randomInt(0, 256)}.${(index & 31) * 8}`;
  const base = subnet.split('.').map(Number) as [number, number, number, number];
  const at = (n: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3] + n}`;
  const hostAddress = at(1);
  const address = at(2);
  await ip('netns', 'add', name);
  await ip('link', 'add', hostDevice, 'type', 'veth', 'peer', 'name', peerDevice);
  await ip('link', 'set', peerDevice, 'netns', name);
  await ip('addr', 'add', `${hostAddress}/29`, 'dev', hostDevice);
  await ip('link', 'set', hostDevice, 'up');
  await ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/29`, 'dev', peerDevice);
  await ip('netns', 'exec', name, 'ip', 'link', 'set', peerDevice, 'up');
  await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  return {
    name,
    hostDevice,
    peerDevice,
    hostAddress,
    address,
    silentAddress: at(3),
    remove: async () => {
      await ip('link', 'del', hostDevice).catch(() => {});
      await ip('netns', 'del', name).catch(() => {});
    },
  };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const serverStartMsMax = 30_000;

/** `mnemo serve` inside `namespace`, bound to its address; resolves once it serves. */
export function serveInNamespace(namespace: Namespace, dataDir: string, flags: string[], env: Record<string, string>): Promise<ServerProcess> {
  const port = 3905;
  const child = spawn('ip', ['netns', 'exec', namespace.name, process.execPath, cli, 'serve', '--data-dir', dataDir, '--host', namespace.address, '--port', String(port), '--durability', 'none', ...flags], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`mnemo serve in ${namespace.name} did not start within ${serverStartMsMax} ms:\n${output}`));
    }, serverStartMsMax);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving .* at (https?:\/\/\S+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, stop });
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mnemo serve in ${namespace.name} exited with ${code}:\n${output}`));
    });
  });
}
