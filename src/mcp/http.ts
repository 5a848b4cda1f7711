// MCP over streamable HTTP, stateless: each POST /mcp carries complete JSON-RPC messages and gets
// a JSON answer. The SDK's web-standard transport does the protocol; the HTTP server adapts its
// request to a `Request` and writes the `Response` back.
//
// Stateless mode needs a fresh transport per request. Idle servers are kept in a small pool and
// reconnected (a closed server accepts a new transport) rather than built per request.

import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

import type { MnemoEngine } from '../index.js';
import { createMcpServer } from './tools.js';

/** Idle servers kept per engine; more concurrent requests than this build extra servers that are dropped after use. */
const idleServersMax = 8;

const idleServers = new WeakMap<MnemoEngine, Server[]>();

export async function handleMcpRequest(engine: MnemoEngine, version: string, request: Request): Promise<Response> {
  let idle = idleServers.get(engine);
  if (idle === undefined) idleServers.set(engine, (idle = []));
  const server = idle.pop() ?? createMcpServer(engine, version);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
    if (idle.length < idleServersMax) idle.push(server);
  }
}
