// Asking one peer. Each peer has its own keep-alive agent with at most peerSocketsMax sockets
// (a burst of queries queues instead of opening a connection each, and a slow peer cannot take
// every file descriptor), its circuit breaker, and a deadline per request: when it passes, the
// request is destroyed and the peer reported as 'timeout'.

import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { PeerConfig, PeerReport } from '../kernel/api.js';
import { peerResponseBytesMax, peerSocketsMax } from '../kernel/limits.js';
import { CircuitBreaker } from './circuit.js';
import type { PeerIdentity } from './identity.js';
import { signRequest } from './signing.js';
import { fromSnakeCase } from './wire.js';

/** A peer's answer: its report, and on success the decoded (camelCase) body. */
export interface PeerOutcome {
  report: PeerReport;
  body?: Record<string, unknown>;
}

/** Statuses by which a peer says "not you" (trust, exposure, peering switched off): it refused, it did not fail. */
const refusalStatuses = new Set([401, 403, 503]);

export class PeerClient {
  readonly name: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly bearer: string | undefined;
  readonly circuit = new CircuitBreaker();

  constructor(config: PeerConfig, ca: string | Uint8Array | undefined) {
    this.name = config.name;
    this.base = new URL(config.url);
    // A token in the URL (`http://KEY@host:port`) is sent as a bearer token, for a peer that also sets MNEMO_API_KEY.
    this.bearer = this.base.username === '' ? undefined : decodeURIComponent(this.base.username);
    this.base.username = '';
    this.base.password = '';
    const agentOptions = { keepAlive: true, maxSockets: peerSocketsMax, maxFreeSockets: peerSocketsMax, scheduling: 'lifo' as const };
    if (this.base.protocol === 'https:') {
      this.transport = https;
      this.agent = new https.Agent({ ...agentOptions, ...(ca === undefined ? {} : { ca: typeof ca === 'string' ? ca : Buffer.from(ca) }) });
    } else {
      this.transport = http;
      this.agent = new http.Agent(agentOptions);
    }
  }

  /** POSTs `body` to the peer's `path` (under its URL's path), signed, giving up after `deadlineMs`. Never rejects. */
  ask(path: string, body: unknown, deadlineMs: number, identity: PeerIdentity | undefined): Promise<PeerOutcome> {
    const started = performance.now();
    const admitted = this.circuit.admit(Date.now());
    if (admitted === 'open') {
      return Promise.resolve({
        report: { name: this.name, status: 'error', ms: 0, returned: 0, circuit: 'open', error: `skipped: failed repeatedly; next probe in ${this.circuit.retryInMs(Date.now())} ms` },
      });
    }
    const target = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const payload = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.length), accept: 'application/json' };
    if (identity !== undefined) Object.assign(headers, signRequest(identity, 'POST', target.pathname + target.search, payload));
    if (this.bearer !== undefined) headers.authorization = `Bearer ${this.bearer}`;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (status: PeerReport['status'], error?: string, answer?: Record<string, unknown>, returned = 0): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (status === 'ok') this.circuit.succeeded();
        else this.circuit.failed(Date.now());
        const report: PeerReport = { name: this.name, status, ms: Math.round((performance.now() - started) * 100) / 100, returned, circuit: admitted };
        if (error !== undefined) report.error = error;
        resolve(answer === undefined ? { report } : { report, body: answer });
      };
      const request = this.transport.request(target, { method: 'POST', agent: this.agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > peerResponseBytesMax) {
            settle('error', `answer larger than ${peerResponseBytesMax} bytes`);
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', (e) => settle('error', e.message));
        response.on('end', () => this.answered(response.statusCode ?? 0, Buffer.concat(chunks), settle));
      });
      const timer = setTimeout(() => {
        settle('timeout', `no answer within ${deadlineMs} ms`);
        request.destroy();
      }, deadlineMs);
      request.on('error', (e: NodeJS.ErrnoException) => settle(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code ?? e.message));
      request.end(payload);
    });
  }

  private answered(statusCode: number, bytes: Buffer, settle: (status: PeerReport['status'], error?: string, answer?: Record<string, unknown>, returned?: number) => void): void {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      settle('error', `HTTP ${statusCode}: the answer is not JSON`);
      return;
    }
    const message = typeof (json as { error?: unknown })?.error === 'string' ? `: ${(json as { error: string }).error}` : '';
    if (refusalStatuses.has(statusCode)) return settle('refused', `HTTP ${statusCode}${message}`);
    if (statusCode !== 200) return settle('error', `HTTP ${statusCode}${message}`);
    const answer = fromSnakeCase(json) as Record<string, unknown>;
    if (!Array.isArray(answer.results)) return settle('error', 'the answer has no results array');
    settle('ok', undefined, answer, answer.results.length);
  }

  close(): void {
    this.agent.destroy();
  }
}
