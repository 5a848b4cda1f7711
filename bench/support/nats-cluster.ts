// A three-server NATS JetStream cluster on local ports, for tests: each server its own process,
// store directory and config file; servers can be killed and restarted one by one. Clients connect
// on loopback, or on another local address (the root end of a test's network namespace veth, so a
// machine inside the namespace can reach the cluster); the servers talk to each other on loopback.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectSocket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { join } from 'node:path';

export interface NatsServer {
  name: string;
  port: number;
  clusterPort: number;
  url: string;
  process: ChildProcess | undefined;
  /** The tail of what the server last printed (for an error when it fails to start). */
  output: string;
}

/**
 * A port below Linux's ephemeral range (32768 and up) that binds now on `host` and on loopback. Not
 * an ephemeral one: a killed server's port would be free for any client socket to take as its
 * source port, and the server's restart on it would fail.
 */
async function freePort(host: string, taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    if ((await bindable(host, port)) && (host === '127.0.0.1' || (await bindable('127.0.0.1', port)))) {
      taken.add(port);
      return port;
    }
  }
}

function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Until the server's port accepts a connection; fails at once, with the server's own words, if it exits first. */
async function untilListening(host: string, server: NatsServer, timeoutMs = 20_000): Promise<void> {
  const { port } = server;
  const child = server.process!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectSocket(port, host);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server on port ${port} exited (${child.exitCode ?? child.signalCode}) before it opened: ${server.output}`);
    if (Date.now() > deadline) throw new Error(`nats-server on port ${port} did not open within ${timeoutMs} ms: ${server.output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class NatsCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'mnemo-nats-'));
  readonly servers: NatsServer[] = [];

  private constructor(private readonly host: string) {}

  /** `host`: the local address clients connect to (loopback unless given). */
  static async start(size = 3, host = '127.0.0.1'): Promise<NatsCluster> {
    const cluster = new NatsCluster(host);
    const taken = new Set<number>();
    for (let i = 0; i < size; i++) {
      const port = await freePort(host, taken);
      const clusterPort = await freePort('127.0.0.1', taken);
      cluster.servers.push({ name: `n${i + 1}`, port, clusterPort, url: `nats://${host}:${port}`, process: undefined, output: '' });
    }
    for (const server of cluster.servers) cluster.spawn(server);
    try {
      await Promise.all(cluster.servers.map((s) => untilListening(host, s)));
      await cluster.untilJetStreamReady(20_000);
    } catch (e) {
      await cluster.stop(); // the caller never gets the cluster to stop: do it here
      throw e;
    }
    return cluster;
  }

  /** Until the cluster has formed: a stream with one copy per server can be placed. */
  private async untilJetStreamReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const nc = await connectNats({ servers: this.urls });
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      for (;;) {
        try {
          await jsm.streams.add({ name: 'ready-probe', subjects: ['ready-probe'], num_replicas: this.servers.length });
          await jsm.streams.delete('ready-probe');
          return;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`JetStream cluster not ready within ${timeoutMs} ms: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }

  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  private spawn(server: NatsServer): void {
    const routes = this.servers.filter((s) => s !== server).map((s) => `nats-route://127.0.0.1:${s.clusterPort}`);
    const config = join(this.dir, `${server.name}.conf`);
    writeFileSync(
      config,
      [
        `server_name: ${server.name}`,
        `listen: ${this.host}:${server.port}`,
        `jetstream { store_dir: "${join(this.dir, server.name)}" }`,
        `cluster { name: mnemo-test, listen: 127.0.0.1:${server.clusterPort}, routes: [${routes.join(', ')}] }`,
      ].join('\n'),
    );
    server.output = '';
    const child = spawn('nats-server', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => (server.output = (server.output + chunk.toString()).slice(-2_000)));
    server.process = child;
  }

  /** Kills one server (SIGKILL: no goodbye to the cluster). */
  async kill(server: NatsServer): Promise<void> {
    const child = server.process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    server.process = undefined;
  }

  async restart(server: NatsServer): Promise<void> {
    this.spawn(server);
    await untilListening(this.host, server);
  }

  /**
   * Restarts every server a test killed and left down (one that failed before its own restart),
   * then waits until JetStream can place a stream on all of them again: the next test starts on a
   * whole cluster instead of failing for its predecessor.
   */
  async restartStopped(): Promise<void> {
    const stopped = this.servers.filter((s) => s.process === undefined || s.process.exitCode !== null);
    if (stopped.length === 0) return;
    for (const server of stopped) await this.restart(server);
    await this.untilJetStreamReady(20_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => this.kill(s)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
