// /mcp: MCP's streamable HTTP transport, mounted on the HTTP server's port by whoever composes the
// two (the CLI); MCP itself knows nothing of the server, and the exposure rules apply to it like
// every other route, Origin included. The server reads and caps the body and hands over its bytes
// undecoded, so a malformed one is answered in JSON-RPC (a -32700 parse error), as a JSON-RPC
// client expects, not with an HTTP 400. Prime's clients send `initialize` without params; the SDK
// requires them, so defaults are filled in. GET /mcp (a server-sent event stream in stateful MCP)
// has nothing to stream in this stateless server: 405.
//
// The MCP machinery (the SDK, its zod and ajv schemas) is loaded at the first POST /mcp, not when
// the server starts: importing it was ~0.35 s of CPU, half of `mnemo serve`'s start.

import type { MnemoEngine } from '../index.js';
import { RawResult } from '../kernel/wire.js';

let machinery: Promise<[typeof import('./http.js'), typeof import('@modelcontextprotocol/sdk/types.js')]> | undefined;

function loadMachinery(): Promise<[typeof import('./http.js'), typeof import('@modelcontextprotocol/sdk/types.js')]> {
  machinery ??= Promise.all([import('./http.js'), import('@modelcontextprotocol/sdk/types.js')]);
  return machinery;
}

/** The shape of a route the HTTP server mounts through its `extraRoutes` option. */
export interface McpRoute {
  method: 'post' | 'get';
  pattern: string;
  operation: string;
  body?: 'raw';
  parse(request: { body: unknown }): unknown;
  run(context: { engine: MnemoEngine }, input: unknown): Promise<RawResult> | RawResult;
}

const jsonRpcContentType = 'application/json';

/** A JSON-RPC error answer with no id (the request could not be read far enough to have one). */
function jsonRpcError(code: number, message: string, status = 200): RawResult {
  return new RawResult(jsonRpcContentType, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), status);
}

/** The body as JSON, or the parse error's message. */
function parsed(bytes: unknown): { ok: true; message: unknown } | { ok: false; reason: string } {
  const text = bytes instanceof Uint8Array ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '';
  try {
    return { ok: true, message: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/** `initialize` as Prime's clients send it (no params) made whole, for the SDK. */
function withInitializeDefaults(message: unknown, protocolVersion: string): unknown {
  if (Array.isArray(message)) return message.map((item) => withInitializeDefaults(item, protocolVersion));
  if (typeof message !== 'object' || message === null) return message;
  const request = message as { method?: unknown; params?: unknown };
  if (request.method !== 'initialize' || request.params !== undefined) return message;
  return { ...request, params: { protocolVersion, capabilities: {}, clientInfo: { name: 'unnamed-client', version: '0' } } };
}

/** POST /mcp and GET /mcp, for the HTTP server's `extraRoutes`. */
export function mcpRoutes(version: string): McpRoute[] {
  return [
    {
      method: 'post',
      pattern: '/mcp',
      operation: 'mcp',
      body: 'raw',
      parse: (request) => request.body,
      run: async (context, bytes) => {
        const body = parsed(bytes);
        if (!body.ok) return jsonRpcError(-32700, `Parse error: ${body.reason}`);
        const [{ handleMcpMessages }, { LATEST_PROTOCOL_VERSION }] = await loadMachinery();
        const answer = await handleMcpMessages(context.engine, version, withInitializeDefaults(body.message, LATEST_PROTOCOL_VERSION) ?? null);
        return new RawResult(jsonRpcContentType, answer.body ?? '', answer.status);
      },
    },
    {
      method: 'get',
      pattern: '/mcp',
      operation: 'mcp',
      parse: () => undefined,
      run: () => jsonRpcError(-32000, 'Method not allowed: this MCP server is stateless; POST JSON-RPC messages to /mcp', 405),
    },
  ];
}
