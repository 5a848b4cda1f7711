// MCP over streamable HTTP, stateless: each POST /mcp carries complete JSON-RPC messages and gets
// a JSON answer. The SDK's web-standard transport does the protocol; the HTTP server adapts its
// request to a `Request` and writes the `Response` back.

import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

import type { MnemoEngine } from '../index.js';
import { createMcpServer } from './tools.js';

export async function handleMcpRequest(engine: MnemoEngine, version: string, request: Request): Promise<Response> {
  // Stateless mode needs a fresh server and transport per request; building one costs ~0.1 ms.
  const server = createMcpServer(engine, version);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    void server.close();
  }
}
