// Given the HTTP server, when the SDK's Client speaks streamable HTTP to POST /mcp, then every tool answers.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { givenServer, type GivenServer } from '../support/http-server.js';
import { exerciseTools } from '../support/mcp-tour.js';

describe('MCP over streamable HTTP', () => {
  let given: GivenServer;
  let client: Client;

  beforeAll(async () => {
    given = await givenServer();
    client = new Client({ name: 'mnemo-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${given.url}/mcp`)));
  });

  afterAll(async () => {
    await client?.close();
    await given?.close();
  });

  it('given a running server, when an agent calls every tool over HTTP, then each answers', async () => {
    await exerciseTools(client);
  });

  it('given a browser Origin that is not loopback, then /mcp is refused', async () => {
    const reply = await fetch(`${given.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(reply.status).toBe(403);
  });
});
