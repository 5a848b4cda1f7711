// The HTTP server: uWebSockets.js routes over the public engine API (SPEC.md, HTTP and
// Exposure). Each request goes: admit (Host/Origin, exposure, rate limit, auth) → read the
// body if the route takes one → parse → run → serialize, with the three phases reported in
// Server-Timing and the whole recorded in a per-operation latency histogram.
//
// uWebSockets.js rules this file keeps: the request object is stack-allocated, so every
// header and parameter is read before the handler returns; a response that is not sent
// before the handler returns registers onAborted first and is never touched after an
// abort; every write is inside res.cork().

import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { performance } from 'node:perf_hooks';
import { MnemoError, isMnemoError, limits, type MnemoEngine } from '../index.js';
import { checkApiKey } from './auth.js';
import { bodyFormatOf, decodeBody, readBody } from './body.js';
import { checkExposure, type Refusal } from './exposure.js';
import { LatencyRecorder } from './latency.js';
import { metricsContentType, renderMetrics } from './metrics.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { RawResult } from '../kernel/wire.js';
import { TimedResult } from '../kernel/timed.js';
import { routes, type Route, type RouteContext, type RouteRequest } from './routes.js';
import { toSnakeJson } from '../kernel/wire.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1: only this machine can connect unless the owner binds wider. */
  host?: string;
  /** Default 3905; 0 picks a free port (tests). */
  port?: number;
  /** Names accepted in Host and Origin besides IP literals and localhost (`--allowed-host`). */
  allowedHosts?: readonly string[];
  rateLimit?: RateLimitOptions;
  /** More routes (the CLI mounts MCP's POST /mcp here), served with the same admission, timing and error handling. */
  extraRoutes?: readonly Route[];
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for printing. */
  readonly url: string;
  /** Requests being served now (bodies arriving or writes awaiting durability). */
  readonly inFlight: number;
  /**
   * Stops accepting, lets in-flight requests finish (up to httpShutdownGraceMs), then closes
   * every connection. Does not close the engine.
   */
  close(): Promise<void>;
}

export const defaultHost = '127.0.0.1';
export const defaultPort = 3905;

const statusLines: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  406: '406 Not Acceptable',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

const jsonContentType = 'application/json';

/** One request being served: its response handle, timings, and whether the client left. */
interface Exchange {
  res: HttpResponse;
  operation: string;
  startMs: number;
  parseMs: number;
  queryMs: number;
  aborted: boolean;
  done: boolean;
  /** True once the exchange outlives its handler (counted in inFlight, onAborted registered). */
  async: boolean;
  /** Hops a route measured inside its query (Server-Timing), e.g. the embedder's `embed`. */
  hops?: Readonly<Record<string, number>>;
}

export async function startHttpServer(engine: MnemoEngine, options: HttpServerOptions = {}): Promise<HttpServer> {
  const server = new MnemoHttpServer(engine, options);
  await server.listen(options.host ?? defaultHost, options.port ?? defaultPort);
  return server;
}

class MnemoHttpServer implements HttpServer {
  host = defaultHost;
  port = 0;
  private readonly app: TemplatedApp = uWS.App();
  private listenSocket: us_listen_socket | null = null;
  private readonly latency = new LatencyRecorder();
  private readonly limiter: RateLimiter;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly context: RouteContext;
  private readonly startedMs = Date.now();
  private requests = 0;
  private active = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(engine: MnemoEngine, options: HttpServerOptions) {
    this.limiter = new RateLimiter(options.rateLimit);
    this.allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.context = { engine, serverStats: () => this.serverStats() };
    for (const route of [...routes, ...(options.extraRoutes ?? [])]) {
      this.app[route.method](route.pattern, this.handlerFor(route));
      if (route.peer === true) this.app[route.method](`/peer${route.pattern}`, this.handlerFor(route));
    }
    this.app.get('/health', this.handlerFor(healthRoute));
    this.app.get('/metrics', this.handlerFor(this.metricsRoute()));
    this.app.any('/*', this.handlerFor(notFoundRoute));
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get inFlight(): number {
    return this.active;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen on ${host}:${port} (address in use, or not an address of this machine)`));
          return;
        }
        this.listenSocket = socket;
        this.host = host;
        this.port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.listenSocket !== null) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    if (this.active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, limits.httpShutdownGraceMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Keep-alive connections would otherwise hold the process open. The binary has close();
    // this republish's type declarations predate it.
    (this.app as TemplatedApp & { close(): void }).close();
  }

  // ---- request flow ----

  private handlerFor(route: Route): (res: HttpResponse, req: HttpRequest) => void {
    const paramCount = (route.pattern.match(/\/:/g) ?? []).length;
    return (res, req) => {
      const exchange: Exchange = { res, operation: route.operation, startMs: performance.now(), parseMs: 0, queryMs: 0, aborted: false, done: false, async: false };
      this.requests++;
      try {
        this.admitAndServe(exchange, route, req, paramCount);
      } catch (e) {
        this.fail(exchange, e);
      }
    };
  }

  private admitAndServe(exchange: Exchange, route: Route, req: HttpRequest, paramCount: number): void {
    const url = req.getUrl();
    const remoteAddress = Buffer.from(exchange.res.getRemoteAddressAsText()).toString('latin1');
    const refusal =
      checkExposure({ remoteAddress, url, host: req.getHeader('host'), origin: req.getHeader('origin') }, { allowedHosts: this.allowedHosts }) ??
      (url === '/health' ? null : (this.limiter.take(remoteAddress, Date.now()) ?? checkApiKey(url, req.getHeader('authorization'))));
    if (refusal !== null) {
      this.refuse(exchange, refusal);
      return;
    }
    if (route === notFoundRoute) {
      this.refuse(exchange, new MnemoError('ROUTE_NOT_FOUND', { method: req.getMethod().toUpperCase(), path: url }));
      return;
    }
    const params: string[] = [];
    for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i));
    const rawQuery = req.getQuery();
    // Most reads have no query string; skip building a URLSearchParams for them.
    const query = rawQuery === '' ? emptyQuery : new URLSearchParams(rawQuery);
    if (route.body === undefined) {
      this.execute(exchange, route, { params, query, body: undefined });
      return;
    }
    const isEvents = route.body === 'events';
    const format = bodyFormatOf(req.getHeader('content-type'), isEvents);
    const capBytes = isEvents ? limits.httpEventsBodyBytesMax : limits.httpBodyBytesMax;
    this.goAsync(exchange);
    readBody(exchange.res, req.getHeader('content-length'), capBytes, (result) => {
      if (exchange.aborted) return;
      if (!result.ok) {
        // The rest of the body is unread; closing the connection is the only way to be rid of it.
        this.refuse(exchange, result.refusal, true);
        return;
      }
      try {
        const started = performance.now();
        const body = decodeBody(result.bytes, format);
        exchange.parseMs += performance.now() - started;
        this.execute(exchange, route, { params, query, body });
      } catch (e) {
        this.fail(exchange, e);
      }
    });
  }

  /** Parse, run, and send; a promise from run (a write) is awaited with the exchange kept alive. */
  private execute(exchange: Exchange, route: Route, request: RouteRequest): void {
    const parseStarted = performance.now();
    const input = route.parse(request);
    const runStarted = performance.now();
    exchange.parseMs += runStarted - parseStarted;
    const result = route.run(this.context, input);
    if (!(result instanceof Promise)) {
      exchange.queryMs = performance.now() - runStarted;
      this.sendResult(exchange, route, result);
      return;
    }
    this.goAsync(exchange);
    result.then(
      (value: unknown) => {
        exchange.queryMs = performance.now() - runStarted;
        this.sendResult(exchange, route, value);
      },
      (e: unknown) => {
        exchange.queryMs = performance.now() - runStarted;
        this.fail(exchange, e);
      },
    );
  }

  /** Registers onAborted (once) and counts the exchange as in flight until it ends. */
  private goAsync(exchange: Exchange): void {
    if (exchange.async) return;
    exchange.async = true;
    this.active++;
    exchange.res.onAborted(() => {
      exchange.aborted = true;
      this.finish(exchange);
    });
  }

  private sendResult(exchange: Exchange, route: Route, value: unknown): void {
    if (value instanceof TimedResult) {
      exchange.hops = value.hops;
      value = value.value;
    }
    if (value instanceof RawResult) {
      this.write(exchange, value.status, value.contentType, value.body, 0);
      return;
    }
    const started = performance.now();
    const body = toSnakeJson(value);
    this.write(exchange, route.created === true ? 201 : 200, jsonContentType, body, performance.now() - started);
  }

  private refuse(exchange: Exchange, refusal: Refusal, closeConnection = false): void {
    const headers = isMnemoError(refusal, 'RATE_LIMITED') ? { 'Retry-After': String(Math.ceil(refusal.details.retryAfterMs / 1000)) } : undefined;
    this.write(exchange, refusal.status, jsonContentType, errorJson(refusal), 0, headers, closeConnection);
  }

  /** A MnemoError is the caller's condition (its own status); anything else is a bug: 500, logged, process alive. */
  private fail(exchange: Exchange, e: unknown): void {
    if (isMnemoError(e)) {
      this.write(exchange, e.status, jsonContentType, errorJson(e), 0);
      return;
    }
    console.error(`mnemo: internal error serving ${exchange.operation}:`, e);
    this.write(exchange, 500, jsonContentType, JSON.stringify({ error: 'internal error; see the server log', code: 'INTERNAL' }), 0);
  }

  private write(
    exchange: Exchange,
    status: number,
    contentType: string,
    body: string | Uint8Array,
    serializeMs: number,
    headers?: Record<string, string>,
    closeConnection = false,
  ): void {
    if (exchange.aborted || exchange.done) return;
    exchange.done = true;
    const extraHops = Object.entries(exchange.hops ?? {}).map(([name, ms]) => `, ${name};dur=${ms.toFixed(3)}`).join('');
    const timing = `parse;dur=${exchange.parseMs.toFixed(3)}, query;dur=${exchange.queryMs.toFixed(3)}, serialize;dur=${serializeMs.toFixed(3)}${extraHops}`;
    const { res } = exchange;
    res.cork(() => {
      res.writeStatus(statusLines[status] ?? `${status} Status`);
      res.writeHeader('Content-Type', contentType);
      res.writeHeader('Server-Timing', timing);
      if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
      res.end(body, closeConnection);
    });
    this.latency.record(exchange.operation, (performance.now() - exchange.startMs) * 1000);
    this.finish(exchange);
  }

  private finish(exchange: Exchange): void {
    if (!exchange.async) return;
    exchange.async = false;
    this.active--;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  // ---- server-owned routes and stats ----

  private serverStats(): Record<string, unknown> {
    const memory = process.memoryUsage();
    return {
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal, externalBytes: memory.external },
      uptimeS: Math.round((Date.now() - this.startedMs) / 1000),
      http: { requests: this.requests, inFlight: this.active },
      latencyUs: this.latency.summaries(),
    };
  }

  private metricsRoute(): Route {
    return {
      method: 'get',
      pattern: '/metrics',
      operation: 'metrics',
      parse: () => undefined,
      run: ({ engine }) => {
        const stats = { ...engine.stats(), ...this.serverStats() };
        delete stats.latencyUs; // exported as histograms instead
        return new RawResult(metricsContentType, renderMetrics(stats, this.latency));
      },
    };
  }
}

const emptyQuery = new URLSearchParams();

function errorJson(e: MnemoError): string {
  return JSON.stringify({ error: e.message, code: e.code });
}

const healthRoute: Route = {
  method: 'get',
  pattern: '/health',
  operation: 'health',
  parse: () => undefined,
  run: () => ({ status: 'ok' }),
};

/** Every unmatched method and path: admitted like any route, then a JSON 404 naming what was asked for. */
const notFoundRoute: Route = {
  method: 'get',
  pattern: '/*',
  operation: 'not_found',
  parse: () => undefined,
  run: () => undefined,
};
