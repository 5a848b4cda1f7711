// One "machine" of a replicated test or benchmark: `mnemo serve --replicate ... --origin NAME` as a
// user runs it (the compiled CLI in its own process, its own data dir), written to and read over
// HTTP; optionally inside a network namespace, so its link can be cut.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

export interface ReplicationStatsWire {
  origin: string;
  connected: boolean;
  last_stream_seq_applied: number;
  publish_backlog: number;
  lag_ms: number;
  rejected: number;
  last_rejection: string | null;
  pending_nodes: number;
  republished: number;
  refused: string | null;
}

export class Machine {
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  url = '';
  output = '';

  /** `namespace`: run inside this network namespace (serving on its loopback, asked from inside it). */
  constructor(readonly origin: string, readonly dataDir: string, private readonly natsUrls: () => string[], private readonly flags: string[] = [], private readonly namespace?: { name: string }) {}

  async start(): Promise<void> {
    const serve = [cli, 'serve', '--data-dir', this.dataDir, '--durability', 'fsync', '--replicate', this.natsUrls().join(','), '--origin', this.origin, ...this.flags];
    const ns = this.namespace;
    const [command, args] = ns === undefined ? [process.execPath, [...serve, '--port', '0']] : ['ip', ['netns', 'exec', ns.name, process.execPath, ...serve, '--port', '3905']];
    const child = spawn(command, args, { env: { ...process.env, MNEMO_API_KEY: '' } });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let run = '';
    this.url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        run += chunk.toString();
        const match = /at (http:\/\/[\d.]+:\d+)/.exec(run);
        if (match) resolve(match[1]!);
      });
      child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      void this.exited.then((code) => reject(new Error(`${this.origin} exited with ${code} before listening:\n${this.output}`)));
    });
  }

  /** Appends a batch of raw events; returns the HTTP status. */
  async append(events: unknown[]): Promise<number> {
    return (await this.call('POST', '/api/v1/events', events)).status;
  }

  async stats(): Promise<{ content_digest: string; replication: ReplicationStatsWire; total_nodes: number; total_edges: number; total_vectors: number; event_count: number }> {
    return (await this.call('GET', '/api/v1/prime/stats')).json as never;
  }

  /** The last seq logged, from /metrics: unlike stats, it never computes the content digest (which sorts every id). */
  async lastSeq(): Promise<number> {
    const response = await this.call('GET', '/metrics');
    const match = /^mnemo_last_seq (\d+)$/m.exec(response.text);
    if (match === null) throw new Error(`${this.origin}: no mnemo_last_seq in /metrics (status ${response.status})`);
    return Number(match[1]);
  }

  /** One HTTP request; a machine in a namespace is asked from inside it (curl there), so it answers while its link is cut. */
  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (this.namespace === undefined) {
      const response = await fetch(`${this.url}${path}`, { method, ...(payload === undefined ? {} : { body: payload, headers: { 'content-type': 'application/json' } }) });
      const text = await response.text();
      return { status: response.status, json: parsed(text), text };
    }
    const args = ['netns', 'exec', this.namespace.name, 'curl', '-sS', '-X', method, '-w', '\n%{http_code}', `${this.url}${path}`];
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn('ip', payload === undefined ? args : [...args, '-H', 'content-type: application/json', '--data-binary', '@-'], { stdio: [payload === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'] });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl in ${this.namespace!.name} exited with ${code}`))));
      child.stdin?.on('error', reject); // curl gone before reading: its exit code says why
      child.stdin?.end(payload);
    });
    const cut = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, cut);
    return { status: Number(stdout.slice(cut + 1)), json: parsed(text), text };
  }

  async getNode(id: string): Promise<{ status: number; body: { properties?: Record<string, unknown> } }> {
    const response = await this.call('GET', `/api/v1/prime/nodes/${encodeURIComponent(id)}`);
    return { status: response.status, body: response.json as never };
  }

  async stop(): Promise<void> {
    if (this.child === undefined) return;
    this.child.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
  }

  async kill(): Promise<void> {
    if (this.child === undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Waits until every machine reports the same content digest and no publish backlog; returns the digest. */
export async function converged(machines: readonly Machine[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown[] = [];
  for (;;) {
    const stats = await Promise.all(machines.map((m) => m.stats()));
    last = stats.map((s) => ({ origin: s.replication?.origin, digest: s.content_digest, nodes: s.total_nodes, edges: s.total_edges, backlog: s.replication?.publish_backlog, applied: s.replication?.last_stream_seq_applied }));
    const digests = new Set(stats.map((s) => s.content_digest));
    if (digests.size === 1 && stats.every((s) => s.replication.publish_backlog === 0)) return stats[0]!.content_digest;
    if (Date.now() > deadline) throw new Error(`no convergence within ${timeoutMs} ms: ${JSON.stringify(last)}\n${machines.map((m) => `--- ${m.origin}\n${m.output.slice(-3000)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
