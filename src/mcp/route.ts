// POST /mcp: MCP's streamable HTTP transport, mounted on the HTTP server's port by whoever composes
// the two (the CLI); MCP itself knows nothing of the server, loopback only (the exposure rules
// apply to it like every other route, Origin included). The body was already read, capped and
// parsed by the server; the SDK transport gets it as `parsedBody` with the headers it requires.

import type { MnemoEngine } from '../index.js';
import { RawResult } from '../kernel/wire.js';
import { handleMcpRequest } from './http.js';

/** The shape of a route the HTTP server mounts through its `extraRoutes` option. */
export interface McpRoute {
  method: 'post';
  pattern: string;
  operation: string;
  body: 'json';
  parse(request: { body: unknown }): unknown;
  run(context: { engine: MnemoEngine }, body: unknown): Promise<RawResult>;
}

/** POST /mcp, for the HTTP server's `extraRoutes`. */
export function mcpRoute(version: string): McpRoute {
  return {
    method: 'post',
    pattern: '/mcp',
    operation: 'mcp',
    body: 'json',
    parse: (request) => request.body,
    run: async (context, body) => {
      const request = new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
        body: JSON.stringify(body ?? null),
      });
      const response = await handleMcpRequest(context.engine, version, request);
      const text = await response.text();
      return new RawResult(response.headers.get('content-type') ?? 'application/json', text, response.status);
    },
  };
}

/**
 * GET /mcp: this server is stateless and opens no server-to-client stream, so, as MCP's streamable
 * HTTP transport lets a server do, it answers 405 (clients then use POST alone).
 */
export function mcpGetRoute(): { method: 'get'; pattern: string; operation: string; parse(): undefined; run(): RawResult } {
  return {
    method: 'get',
    pattern: '/mcp',
    operation: 'mcp',
    parse: () => undefined,
    run: () => new RawResult('application/json', JSON.stringify({ error: 'GET /mcp: this server opens no event stream; send JSON-RPC with POST /mcp', code: 'METHOD_NOT_ALLOWED' }), 405),
  };
}

/** Both MCP routes, for the HTTP server's `extraRoutes`. */
export function mcpRoutes(version: string): [McpRoute, ReturnType<typeof mcpGetRoute>] {
  return [mcpRoute(version), mcpGetRoute()];
}
