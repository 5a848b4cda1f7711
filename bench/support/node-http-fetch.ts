// A fetch for MCP's HTTP client transport over node:http with a keep-alive agent. Node's built-in
// fetch (undici) costs ~0.3 ms a GET and ~0.6 ms a POST on this machine before the server sees a
// byte, more than a whole stdio round trip; node:http's client costs a fraction. The MCP bench gives
// the SDK's client this fetch so that stdio and HTTP compare transports, not HTTP client libraries.
// Each request also gets its own abort listener, removed when it ends (see fetchWithOwnSignal in bench/mcp.ts).

import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true });

export function nodeHttpFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
  if (init.body !== undefined && init.body !== null && body === undefined) return Promise.reject(new Error('nodeHttpFetch: only string bodies'));
  if (body !== undefined) headers['content-length'] = String(body.byteLength);
  return new Promise((resolve, reject) => {
    const outgoing = request(target, { method: init.method ?? 'GET', headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        const status = incoming.statusCode ?? 0;
        const payload = status === 202 || status === 204 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, headers: responseHeaders }));
      });
    });
    const abort = (): void => {
      outgoing.destroy(new Error('aborted'));
    };
    init.signal?.addEventListener('abort', abort, { once: true });
    outgoing.on('close', () => init.signal?.removeEventListener('abort', abort));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
