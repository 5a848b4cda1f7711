// The peers the HTTP benchmark measures mnemo against, in the same run:
// - the floor: a bare uWebSockets.js server answering each measured route with the exact bytes
//   mnemo answered it with (status, Content-Type, Server-Timing and body captured from mnemo
//   first), reading a POST's body before it answers: the network stack plus uWS and nothing of ours;
// - node:http serving the same neighbors route, written the way a user would without uWS.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import uWS from 'uWebSockets.js';
import type { MnemoEngine } from '../../src/index.js';
import { toSnakeCase } from '../../src/kernel/wire.js';

export interface Peer {
  url: string;
  close(): Promise<void>;
}

/** One response as mnemo sent it, for the floor to send back byte for byte. */
export interface CapturedAnswer {
  method: 'get' | 'post';
  /** A uWS route pattern, e.g. `/api/v1/prime/nodes/:id`. */
  pattern: string;
  status: string;
  contentType: string;
  serverTiming: string;
  body: Buffer;
  /** Work done before each answer, e.g. the HNSW query a search floor runs (its result dropped). */
  work?: () => unknown;
}

/** Captures what `url` answers (method, headers and body as given) as the floor should repeat it. */
export async function captureAnswer(method: 'get' | 'post', pattern: string, url: string, init: RequestInit = {}): Promise<CapturedAnswer> {
  const response = await fetch(url, { ...init, method: method.toUpperCase() });
  if (response.status !== 200) throw new Error(`capture ${url}: status ${response.status}: ${await response.text()}`);
  return {
    method,
    pattern,
    status: `${response.status} ${response.statusText}`,
    contentType: response.headers.get('content-type') ?? '',
    serverTiming: response.headers.get('server-timing') ?? '',
    body: Buffer.from(await response.arrayBuffer()),
  };
}

export function startBareUws(answers: readonly CapturedAnswer[]): Promise<Peer> {
  const app = uWS.App();
  for (const answer of answers) {
    const send = (res: uWS.HttpResponse): void => {
      answer.work?.();
      res.cork(() => {
        res.writeStatus(answer.status).writeHeader('Content-Type', answer.contentType).writeHeader('Server-Timing', answer.serverTiming).end(answer.body);
      });
    };
    if (answer.method === 'get') {
      app.get(answer.pattern, (res) => send(res));
    } else {
      app.post(answer.pattern, (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        // The body is read to its end (and dropped) before answering, as any POST handler must.
        res.onData((_chunk, isLast) => {
          if (isLast && !aborted) send(res);
        });
      });
    }
  }
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (socket === false) return reject(new Error('bare uWS: cannot listen'));
      const port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: async () => {
          uWS.us_listen_socket_close(socket);
          (app as uWS.TemplatedApp & { close(): void }).close();
        },
      });
    });
  });
}

const neighborsPath = /^\/api\/v1\/prime\/nodes\/([^/]+)\/neighbors$/;

export function startNodeHttp(engine: MnemoEngine): Promise<Peer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = neighborsPath.exec(url.pathname);
    if (req.method !== 'GET' || match === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    try {
      const limit = url.searchParams.get('limit');
      const page = engine.neighbors(decodeURIComponent(match[1]!), limit === null ? {} : { limit: Number(limit) });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(toSnakeCase(page)));
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
    }
  });
  // Same keep-alive behaviour as uWS for a fair comparison under wrk's persistent connections.
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
