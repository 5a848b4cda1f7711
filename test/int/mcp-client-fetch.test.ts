// Given mcpFetch (the fetch mnemo ships for the SDK's streamable-HTTP client transport), when the
// SDK's Client speaks to POST /mcp through it, then every tool answers; and against a plain
// node:http server, it hands over what the SDK reads the way a fetch does.
import { getEventListeners } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mcpFetch } from '../../src/mcp/client-fetch.js';
import { givenServer, type GivenServer } from '../support/http-server.js';
import { exerciseTools } from '../support/mcp-tour.js';

describe('MCP over streamable HTTP through mcpFetch', () => {
  let given: GivenServer;
  let client: Client;

  beforeAll(async () => {
    given = await givenServer();
    client = new Client({ name: 'mnemo-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${given.url}/mcp`), { fetch: mcpFetch }));
  });

  afterAll(async () => {
    await client?.close();
    await given?.close();
  });

  it('given the SDK client on mcpFetch, when an agent calls every tool, then each answers', async () => {
    await exerciseTools(client);
  });

  it('given a POST /mcp with a request, then the answer is one JSON body with its length (no event stream, no chunks, no session)', async () => {
    const reply = await mcpFetch(`${given.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    const text = await reply.text();
    expect(reply.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(reply.headers.get('transfer-encoding')).toBeNull();
    expect(reply.headers.get('mcp-session-id')).toBeNull();
    expect(JSON.parse(text).id).toBe(3);
  });
});

describe('mcpFetch against a plain HTTP server', () => {
  let server: Server;
  let base: string;
  /** Each test's handler for the next request. */
  let handle: (path: string, res: ServerResponse, body: string) => void = () => {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => handle(req.url ?? '', res, `${req.method} ${req.headers['content-type'] ?? ''} ${req.headers['content-length'] ?? ''} ${body}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('given a JSON answer, then status, headers (repeated ones too), text, json and body read as fetch reads them', async () => {
    let seen = '';
    handle = (_path, res, request) => {
      seen = request;
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"é":1}');
    };
    const reply = await mcpFetch(`${base}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ü":2}' });
    expect(seen).toBe('POST application/json 8 {"ü":2}');
    expect([reply.status, reply.ok, reply.headers.get('set-cookie')]).toEqual([201, true, 'a=1, b=2']);
    expect(await reply.json()).toEqual({ é: 1 });
    expect(await reply.clone().text()).toBe('{"é":1}');
    expect(await new Response(reply.body).text()).toBe('{"é":1}');
  });

  it('given a 202, then an empty body; a 204, none; given a redirect, then it is returned with its Location, not followed', async () => {
    handle = (path, res) => (path === '/accepted' ? res.writeHead(202).end() : path === '/none' ? res.writeHead(204).end() : res.writeHead(307, { location: '/elsewhere' }).end());
    const accepted = await mcpFetch(`${base}/accepted`, { method: 'POST', body: '{}' });
    expect([accepted.status, await accepted.text()]).toEqual([202, '']);
    await accepted.body?.cancel();
    expect((await mcpFetch(`${base}/none`, { method: 'POST', body: '{}' })).body).toBeNull();
    const moved = await mcpFetch(`${base}/moved`, { method: 'POST', body: '{}', redirect: 'manual' });
    expect([moved.status, moved.headers.get('location')]).toEqual([307, '/elsewhere']);
  });

  it('given an event stream, then the Response comes with the first bytes and streams the rest as they are sent', async () => {
    let finish: () => void = () => {};
    handle = (_path, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    };
    const reply = await mcpFetch(`${base}/events`, { headers: { accept: 'text/event-stream' } });
    const reader = reply.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe('data: one\n\n');
    finish();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
    expect(rest).toBe('data: two\n\n');
  });

  it('given one signal for every call (as the SDK gives), then no abort listener outlives its call, and aborting fails the call in flight', async () => {
    handle = (path, res) => {
      if (path !== '/hang') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    };
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) await (await mcpFetch(`${base}/ok`, { method: 'POST', body: '{}', signal: controller.signal })).json();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const hanging = mcpFetch(`${base}/hang`, { method: 'POST', body: '{}', signal: controller.signal });
    controller.abort(new Error('closed by the client'));
    await expect(hanging).rejects.toThrow('closed by the client');
    await expect(mcpFetch(`${base}/ok`, { signal: controller.signal })).rejects.toThrow('closed by the client');
  });

  it('given a body that is neither text nor bytes, then it is refused before anything is sent', async () => {
    await expect(mcpFetch(`${base}/ok`, { method: 'POST', body: new URLSearchParams('a=1') })).rejects.toThrow(TypeError);
  });
});
