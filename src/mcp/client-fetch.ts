// A fetch for the MCP SDK's streamable-HTTP client transport, for clients in Node that call mnemo's
// /mcp (`new StreamableHTTPClientTransport(url, { fetch: mcpFetch })`; docs/mcp.md). The SDK's
// client calls fetch once a call and reads the answer with `response.json()`. Node's own fetch
// (undici) spends ~0.9 ms of CPU on one POST here, even to a server that does nothing: a
// prime_neighbors call through it takes 2.35–2.66× a call over stdio (bench:mcp), when the server's
// part over HTTP is smaller than over stdio. This one goes through node:http with keep-alive
// connections and hands a JSON answer over as text already read, without the web stream a Response
// body is (building a Response around a body and reading it back cost 45–70 µs a call): 1.33–1.57×
// stdio. A server-sent event stream is handed over as a stream, as it arrives.
//
// What it does not do: follow redirects (the SDK asks for `redirect: 'manual'` and follows those
// within the origin itself; a 3xx is returned as it is) or send bodies other than text and bytes
// (the SDK sends JSON text).

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** One pool per scheme; idle connections are kept for the next call (an MCP client calls again and again). */
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/** Statuses whose Response must have no body. */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

/**
 * A Response whose body was read in full before it was made: `json()` and `text()` answer from the
 * text; `body` builds a stream of it only if someone asks for one.
 */
class ReadResponse extends Response {
  readonly #text: string;
  #stream: Response['body'] | undefined;

  constructor(text: string, init: ResponseInit) {
    super(null, init);
    this.#text = text;
  }

  override async text(): Promise<string> {
    return this.#text;
  }

  override async json(): Promise<unknown> {
    return JSON.parse(this.#text);
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = Buffer.from(this.#text, 'utf8');
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  override get body(): Response['body'] {
    this.#stream ??= new Response(this.#text).body;
    return this.#stream;
  }

  override clone(): Response {
    return new ReadResponse(this.#text, { status: this.status, statusText: this.statusText, headers: this.headers });
  }
}

/** The answer's headers as name-value pairs, repeated ones each once (the Response builds its Headers from them). */
function headerPairsOf(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

function requestHeadersOf(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  // The SDK hands a Headers: read it as it is rather than copy it first.
  (init instanceof Headers ? init : new Headers(init)).forEach((value, name) => (headers[name] = value));
  return headers;
}

function bodyBytesOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new TypeError('mcpFetch sends text or bytes only');
}

/** The answer as a Response: an event stream as it arrives, anything else once read in full. */
function answer(incoming: IncomingMessage, resolve: (response: Response) => void, reject: (e: unknown) => void): void {
  const status = incoming.statusCode ?? 0;
  const init = { status, statusText: incoming.statusMessage, headers: headerPairsOf(incoming.rawHeaders) };
  if (nullBodyStatuses.has(status)) {
    incoming.resume();
    resolve(new Response(null, init));
    return;
  }
  if ((incoming.headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream')) {
    resolve(new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, init));
    return;
  }
  let text = '';
  incoming.setEncoding('utf8');
  incoming.on('data', (chunk: string) => (text += chunk));
  incoming.on('error', reject);
  incoming.on('end', () => resolve(new ReadResponse(text, init)));
}

/** `fetch` for MCP's streamable-HTTP client transport over node:http (see the top of this file). */
export function mcpFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let body: string | Uint8Array | undefined;
  try {
    body = bodyBytesOf(init.body);
  } catch (e) {
    return Promise.reject(e);
  }
  const headers = requestHeadersOf(init.headers);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const https = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const outgoing = (https ? httpsRequest : httpRequest)(target, { method: init.method ?? 'GET', headers, agent: https ? httpsAgent : httpAgent }, (incoming) =>
      answer(incoming, resolve, reject),
    );
    // One listener per request, removed when the request ends: the SDK hands one signal to every call.
    const abort = (): void => {
      outgoing.destroy(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
    outgoing.on('close', () => signal?.removeEventListener('abort', abort));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
