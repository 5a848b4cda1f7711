// The HTTP server: uWebSockets.js routes over the public engine API (docs/http.md).
// Each request goes: admit (Host/Origin, exposure, rate limit, auth) → read the
// body if the route takes one → parse → run → serialize, with the three phases reported in
// Server-Timing and the whole recorded in a per-operation latency histogram.
//
// uWebSockets.js rules this file keeps: the request object is stack-allocated, so every
// header and parameter is read before the handler returns; a response that is not sent
// before the handler returns registers onAborted first and is never touched after an
// abort; every write is inside res.cork().

import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { monitorEventLoopDelay, performance, type Histogram } from 'node:perf_hooks';
import { MnemoError, isMnemoError, limits, type MnemoEngine } from '../index.js';
import { PeerRequestVerifier, peerView, signatureHeader, type SignedRequest } from '../admin.js';
import { checkApiKey } from './auth.js';
import { bodyFormatOf, decodeBody, readBody } from './body.js';
import { ExposureCheck, isLoopbackAddress, isLoopbackBytes, type Refusal } from './exposure.js';
import { LatencyRecorder, type LatencyHistogram } from './latency.js';
import { LoadShedder } from './load-shedder.js';
import { ServerMetrics, type OperationCounts } from './metrics.js';
import { stderrLog, type ServerLog } from './log.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { RawResult, snakeJsonInto } from '../kernel/wire.js';
import { TimedResult } from '../kernel/timed.js';
import { routes, type Route, type RouteContext, type RouteRequest } from './routes.js';

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
  /** Request lines and internal errors; default: internal errors to stderr, no request lines. */
  log?: ServerLog;
  /** Serve HTTPS with this PEM certificate (chain) and key (`--tls-cert`, `--tls-key`). */
  tls?: { certFile: string; keyFile: string };
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (https with TLS), for printing. */
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
  302: '302 Found',
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
  /** The route's latency histogram and Prometheus counts, found once per route. */
  latency: LatencyHistogram;
  counts: OperationCounts;
  startMs: number;
  parseMs: number;
  queryMs: number;
  aborted: boolean;
  done: boolean;
  /** True once the exchange outlives its handler (counted in inFlight, onAborted registered). */
  async: boolean;
  /** Read from the request only when the log wants request lines (the request object dies with the handler). */
  method?: string;
  path?: string;
  remote?: string;
  /** Served under /peer/: read-only, limited to the shared domains. */
  peer: boolean;
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
  private readonly app: TemplatedApp;
  private readonly scheme: 'http' | 'https';
  /** Checks signatures on /peer/* when MNEMO_PEER_TRUST is set; holds the nonces seen. */
  private readonly peerVerifier = new PeerRequestVerifier();
  private listenSocket: us_listen_socket | null = null;
  private readonly latency = new LatencyRecorder();
  private readonly metrics: ServerMetrics;
  private readonly log: ServerLog;
  private readonly limiter: RateLimiter;
  private readonly shedder = new LoadShedder();
  /** Event-loop delay, sampled every 10 ms; reported and reset by each stats read (a window since the last one). */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly exposure: ExposureCheck;
  private readonly context: RouteContext;
  private readonly startedMs = Date.now();
  private requests = 0;
  private active = 0;
  /**
   * True when the listener is bound to a loopback address: the kernel delivers such a socket only
   * connections from this machine, so every caller is loopback and its address is not read. Reading
   * it costs a native call and an ArrayBuffer a request (1.4–4.9 µs measured under wrk, a third of
   * a node read's server time); this uWebSockets.js build has no per-connection hook to read it once.
   */
  private everyCallerLocal = false;
  private idleWaiters: Array<() => void> = [];

  constructor(engine: MnemoEngine, options: HttpServerOptions) {
    this.scheme = options.tls === undefined ? 'http' : 'https';
    this.app = options.tls === undefined ? uWS.App() : uWS.SSLApp({ cert_file_name: options.tls.certFile, key_file_name: options.tls.keyFile });
    this.limiter = new RateLimiter(options.rateLimit);
    this.loopDelay.enable();
    this.exposure = new ExposureCheck({ allowedHosts: new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase())) });
    this.context = { engine, serverStats: () => this.serverStats() };
    this.metrics = new ServerMetrics(() => engine.stats(), () => this.active);
    this.log = options.log ?? stderrLog;
    for (const route of [...routes, ...(options.extraRoutes ?? [])]) {
      this.app[route.method](route.pattern, this.handlerFor(route));
      if (route.peer === true) this.app[route.method](`/peer${route.pattern}`, this.handlerFor(route));
    }
    this.app.get('/health', this.handlerFor(healthRoute));
    this.app.get('/metrics', this.handlerFor(this.metricsRoute()));
    this.app.any('/*', this.handlerFor(notFoundRoute));
  }

  get url(): string {
    return `${this.scheme}://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get inFlight(): number {
    return this.active;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // Exclusive: uWebSockets.js otherwise sets SO_REUSEPORT, and a second server on the same
      // port (another data dir) would start and take half the connections.
      listenExclusive(this.app, host, port, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen on port ${port} of ${host}: the port is in use (another mnemo serve?) or ${host} is not an address of this machine; choose another with --port or MNEMO_PORT`));
          return;
        }
        this.listenSocket = socket;
        this.host = host;
        this.everyCallerLocal = isLoopbackAddress(host);
        this.port = uWS.us_socket_local_port(socket as unknown as uWS.us_socket);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.loopDelay.disable();
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
    // A response sent from inside uWebSockets.js's own callback (an inline-commit write whose body
    // just arrived) sits in its cork buffer until that callback returns: let it reach the socket.
    await new Promise((resolve) => setImmediate(resolve));
    // Keep-alive connections would otherwise hold the process open. The binary has close();
    // this republish's type declarations predate it.
    (this.app as TemplatedApp & { close(): void }).close();
  }

  // ---- request flow ----

  private handlerFor(route: Route): (res: HttpResponse, req: HttpRequest) => void {
    const paramCount = (route.pattern.match(/\/:/g) ?? []).length;
    const latency = this.latency.histogramFor(route.operation);
    const counts = this.metrics.countsFor(route.operation);
    return (res, req) => {
      const exchange: Exchange = { res, operation: route.operation, latency, counts, startMs: performance.now(), parseMs: 0, queryMs: 0, aborted: false, done: false, async: false, peer: false };
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
    const { res } = exchange;
    // The address in binary: the loopback test needs no text; only a rate-limited caller's key and a request line do.
    const loopback = this.everyCallerLocal || isLoopbackBytes(new Uint8Array(res.getRemoteAddress()));
    if (this.log.requests) {
      exchange.method = req.getMethod().toUpperCase();
      exchange.path = url;
      exchange.remote = remoteAddressOf(res);
    }
    const refusal =
      this.exposure.check({ loopback, url, host: req.getHeader('host'), origin: req.getHeader('origin') }) ??
      (url === '/health'
        ? null
        : ((this.limiter.applies(loopback) ? this.limiter.take(remoteAddressOf(res), Date.now()) : null) ?? checkApiKey(url, (name) => req.getHeader(name))));
    if (refusal !== null) {
      this.refuse(exchange, refusal);
      return;
    }
    const overload = url === '/health' ? null : this.shedder.admit(this.active, exchange.startMs);
    if (overload !== null) {
      this.refuse(exchange, overload, true);
      return;
    }
    exchange.peer = url.startsWith('/peer/');
    if (route === notFoundRoute) {
      this.refuse(exchange, new MnemoError('ROUTE_NOT_FOUND', { method: req.getMethod().toUpperCase(), path: url }));
      return;
    }
    // This uWebSockets.js build answers undefined, not '', when there is no query string.
    const rawQuery: string = req.getQuery() ?? '';
    const signed = url.startsWith('/peer/') ? signedRequestOf(req, url, rawQuery) : undefined;
    const params: string[] = [];
    for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i));
    // Most reads have no query string; skip building a URLSearchParams for them.
    const query = rawQuery === '' ? emptyQuery : new URLSearchParams(rawQuery);
    if (route.body === undefined) {
      if (this.refusedSignature(exchange, signed, emptyBody)) return;
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
      if (this.refusedSignature(exchange, signed, result.bytes)) return;
      try {
        const started = performance.now();
        // A 'raw' route (MCP) parses its own body, to answer a malformed one in its own protocol.
        const body = route.body === 'raw' ? result.bytes : decodeBody(result.bytes, format);
        exchange.parseMs += performance.now() - started;
        this.execute(exchange, route, { params, query, body });
      } catch (e) {
        this.fail(exchange, e);
      }
    });
  }

  /** True (and answered 401) when MNEMO_PEER_TRUST is set and `signed` is not a valid fresh signature of this request. */
  private refusedSignature(exchange: Exchange, signed: SignedRequest | undefined, body: Uint8Array): boolean {
    if (signed === undefined) return false;
    const refusal = this.peerVerifier.verify(signed, body);
    if (refusal === null) return false;
    this.refuse(exchange, refusal);
    return true;
  }

  /** Parse, run, and send; a promise from run (a write) is awaited with the exchange kept alive. */
  private execute(exchange: Exchange, route: Route, request: RouteRequest): void {
    const parseStarted = performance.now();
    const input = route.parse(request);
    const runStarted = performance.now();
    exchange.parseMs += runStarted - parseStarted;
    // /peer/* answers from the engine as peers may see it (shared domains only, no fan-out).
    const context = exchange.peer ? { ...this.context, engine: peerView(this.context.engine) } : this.context;
    const result = route.run(context, input);
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
      this.write(exchange, value.status, value.contentType, value.body, 0, value.headers);
      return;
    }
    const started = performance.now();
    // Straight into the response buffer as UTF-8 (a string only past its size), sent before anything else writes there.
    const body = snakeJsonInto(value, responseScratch);
    this.write(exchange, route.created === true ? 201 : 200, jsonContentType, body, performance.now() - started);
  }

  private refuse(exchange: Exchange, refusal: Refusal, closeConnection = false): void {
    const headers = isMnemoError(refusal, 'RATE_LIMITED') || isMnemoError(refusal, 'OVERLOADED') ? { 'Retry-After': String(Math.ceil(refusal.details.retryAfterMs / 1000)) } : undefined;
    this.write(exchange, refusal.status, jsonContentType, errorJson(refusal), 0, headers, closeConnection);
  }

  /** A MnemoError is the caller's condition (its own status); anything else is a bug: 500, logged, process alive. */
  private fail(exchange: Exchange, e: unknown): void {
    if (isMnemoError(e)) {
      // A full disk is probed every second (the engine resumes writes by itself): say when to retry.
      this.write(exchange, e.status, jsonContentType, errorJson(e), 0, isMnemoError(e, 'DISK_FULL') ? { 'Retry-After': '1' } : undefined);
      return;
    }
    this.log.internalError(exchange.operation, e);
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
    let timing = `parse;dur=${millisText(exchange.parseMs)}, query;dur=${millisText(exchange.queryMs)}, serialize;dur=${millisText(serializeMs)}`;
    if (exchange.hops !== undefined) for (const name in exchange.hops) timing += `, ${name};dur=${millisText(exchange.hops[name]!)}`;
    const { res } = exchange;
    // Inside its handler a response is corked already (uWebSockets.js corks around the handler);
    // an answer after it (a body read, a write's promise) corks its own writes.
    if (exchange.async) res.cork(() => writeResponse(res, status, contentType, timing, body, headers, closeConnection));
    else writeResponse(res, status, contentType, timing, body, headers, closeConnection);
    const elapsedMs = performance.now() - exchange.startMs;
    exchange.latency.record(elapsedMs * 1000);
    exchange.counts.observe(status, elapsedMs / 1000);
    if (this.log.requests) {
      const responseBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      this.log.request({ method: exchange.method ?? '', path: exchange.path ?? '', operation: exchange.operation, status, durationMs: elapsedMs, remote: exchange.remote ?? '', responseBytes });
    }
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
      http: { requests: this.requests, inFlight: this.active, shed: this.shedder.shedTotal },
      eventLoopLagMs: this.eventLoopLag(),
      walFsyncMs: this.walFsyncs(),
      latencyUs: this.latency.summaries(),
    };
  }

  /** Event-loop delay since the previous stats read, then a new window. monitorEventLoopDelay includes its own 10 ms sampling period. */
  private eventLoopLag(): HistogramWindow {
    return takeWindow(this.loopDelay, 10);
  }

  /** How long the log's fdatasyncs took since the previous stats read, then a new window. */
  private walFsyncs(): HistogramWindow {
    return takeWindow(this.context.engine.walFsyncDurations, 0);
  }

  private metricsRoute(): Route {
    return {
      method: 'get',
      pattern: '/metrics',
      operation: 'metrics',
      parse: () => undefined,
      run: async () => new RawResult(this.metrics.contentType, await this.metrics.render()),
    };
  }
}

/**
 * A JSON answer is written into this as UTF-8 (snakeJsonInto), and another text body up to a third
 * of its size is encoded into it before the write. uWebSockets.js copies what it is given, so the
 * buffer serves every response; handed a string, it allocates a buffer for the UTF-8 on each write,
 * which cost 3.5–6.5 µs on a 6 KB answer against 0.4 µs for encoding here.
 */
const responseScratch = Buffer.allocUnsafeSlow(64 * 1024);

/** Status, headers and body onto the socket; called inside res.cork(). */
function writeResponse(res: HttpResponse, status: number, contentType: string, timing: string, body: string | Uint8Array, headers: Record<string, string> | undefined, closeConnection: boolean): void {
  res.writeStatus(statusLines[status] ?? `${status} Status`);
  res.writeHeader('Content-Type', contentType);
  res.writeHeader('Server-Timing', timing);
  if (headers !== undefined) for (const name in headers) res.writeHeader(name, headers[name]!);
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (typeof body === 'string' && body.length * 3 <= responseScratch.byteLength) {
    res.end(responseScratch.subarray(0, responseScratch.write(body)), closeConnection);
  } else {
    res.end(body, closeConnection);
  }
}

/**
 * `ms.toFixed(3)` for Server-Timing, by integer arithmetic: toFixed is a runtime call, three of
 * them took 0.27 µs a request against 0.11 µs for this. Outside 0..1e6 ms it defers to toFixed.
 */
export function millisText(ms: number): string {
  if (!(ms >= 0 && ms < 1e6)) return ms.toFixed(3);
  const micros = Math.round(ms * 1000);
  const fraction = micros % 1000;
  return `${(micros - fraction) / 1000}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}

/** uWebSockets.js's LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. */
const listenExclusivePort = 1;

type ListenCallback = (socket: us_listen_socket | false) => void;

/** `app.listen(host, port, options, cb)`: the binary takes it; this republish's type declarations lack the overload. */
function listenExclusive(app: TemplatedApp, host: string, port: number, callback: ListenCallback): void {
  (app as unknown as { listen(host: string, port: number, options: number, cb: ListenCallback): void }).listen(host, port, listenExclusivePort, callback);
}

interface HistogramWindow {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** p50, p99 and max of a histogram of ns, in ms less `offsetMs` (two decimals), and its count; then resets it. */
function takeWindow(h: Histogram, offsetMs: number): HistogramWindow {
  const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - offsetMs) * 100) / 100);
  const window = h.count === 0 ? { p50: 0, p99: 0, max: 0, count: 0 } : { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), count: h.count };
  h.reset();
  return window;
}

const emptyQuery = new URLSearchParams();

/** The peer's address as text (IPv6 fully expanded, as uWebSockets.js gives it). */
function remoteAddressOf(res: HttpResponse): string {
  return Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
}
const emptyBody = new Uint8Array(0);

/** A /peer/* request's signature headers, read while the request object is valid. */
function signedRequestOf(req: HttpRequest, url: string, rawQuery: string): SignedRequest {
  return {
    method: req.getMethod(),
    path: rawQuery === '' ? url : `${url}?${rawQuery}`,
    key: req.getHeader(signatureHeader.key),
    timestamp: req.getHeader(signatureHeader.timestamp),
    nonce: req.getHeader(signatureHeader.nonce),
    signature: req.getHeader(signatureHeader.signature),
  };
}

function errorJson(e: MnemoError): string {
  return JSON.stringify({ error: e.message, code: e.code });
}

const healthRoute: Route = {
  method: 'get',
  pattern: '/health',
  operation: 'health',
  parse: () => undefined,
  run: ({ engine }) => engine.health(),
};

/** Every unmatched method and path: admitted like any route, then a JSON 404 naming what was asked for. */
const notFoundRoute: Route = {
  method: 'get',
  pattern: '/*',
  operation: 'not_found',
  parse: () => undefined,
  run: () => undefined,
};
