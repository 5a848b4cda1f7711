// Given/when helpers for HTTP tests: a real engine in a temp data dir behind a real server
// on an ephemeral loopback port, and a small fetch wrapper that returns status, headers and
// the parsed JSON body.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine, type Durability, type EmbedOption, type MnemoEngine, type ReplicationOptions } from '../../src/index.js';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/server/http.js';
import { mcpRoutes } from '../../src/mcp/route.js';
import { packageVersion } from '../../src/kernel/version.js';

export interface GivenServer {
  engine: MnemoEngine;
  server: HttpServer;
  /** `http://127.0.0.1:<port>` (or the host given). */
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function givenServer(options: HttpServerOptions & { durability?: Durability; embed?: EmbedOption; replication?: ReplicationOptions } = {}): Promise<GivenServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-http-'));
  const engine = await openEngine({ dataDir, durability: options.durability ?? 'none', onWarning: () => {}, ...(options.embed ? { embed: options.embed } : {}), ...(options.replication ? { replication: options.replication } : {}) });
  // As `mnemo serve` composes them: the HTTP routes with MCP mounted at POST /mcp.
  const server = await startHttpServer(engine, { host: '127.0.0.1', port: 0, extraRoutes: mcpRoutes(packageVersion()), ...options });
  return {
    engine,
    server,
    url: server.url,
    dataDir,
    close: async () => {
      await server.close();
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when the body is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests index into arbitrary response shapes
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** When `method path` is called with `options`, the reply. */
export async function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | Uint8Array | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
