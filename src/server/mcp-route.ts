// POST /mcp: MCP's streamable HTTP transport on the same port, loopback only (the exposure rules
// apply to it like every other route, Origin included). The body was already read, capped and
// parsed by the server; the SDK transport gets it as `parsedBody` with the headers it requires.

import { handleMcpRequest } from '../mcp/http.js';
import { RawResult, type Route } from './routes.js';

export function mcpRoute(version: string): Route {
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
