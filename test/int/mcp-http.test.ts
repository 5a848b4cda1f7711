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

  describe('one MCP server answers every POST', () => {
    const post = async (message: unknown): Promise<{ status: number; json: any; text: string }> => {
      const reply = await fetch(`${given.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      const text = await reply.text();
      return { status: reply.status, text, json: text === '' ? undefined : JSON.parse(text) };
    };
    const neighborsOf = (id: number, nodeId: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'prime_neighbors', arguments: { node_id: nodeId } } });
    const addNode = (id: number, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'prime_add_node', arguments: { type: 'person', id: `node:person:${name}`, properties: { name } } } });

    it('given two clients sending the same request id at once, when answered, then each gets its own answer under its own id', async () => {
      await post(addNode(1, 'ann'));
      await post(addNode(1, 'bob'));
      const names = ['ann', 'bob', 'ann', 'bob', 'ann', 'bob'];
      const replies = await Promise.all(names.map((name) => post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'prime_as_of', arguments: { node_id: `node:person:${name}`, as_of: 1_000_000 } } })));
      replies.forEach((reply, i) => {
        expect(reply.status).toBe(200);
        expect(reply.json.id).toBe(7);
        expect(JSON.parse(reply.json.result.content[0].text).node.properties.name).toBe(names[i]);
      });
    });

    it('given a batch of two requests and a notification, then an array of the two answers under their ids', async () => {
      const reply = await post([neighborsOf(11, 'node:person:ann'), { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 'twelve', method: 'tools/list' }]);
      expect(reply.status).toBe(200);
      expect(reply.json.map((m: { id: unknown }) => m.id)).toEqual([11, 'twelve']);
      expect(reply.json[1].result.tools.length).toBeGreaterThan(0);
    });

    it('given a cancellation naming an id another POST has in flight, then that POST is still answered', async () => {
      const [answer, cancel] = await Promise.all([post(neighborsOf(0, 'node:person:ann')), post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0 } })]);
      expect(answer.status).toBe(200);
      expect(answer.json.id).toBe(0);
      expect(cancel.status).toBe(202);
    });

    it('given messages the SDK transport refuses, then the same answers: -32700 for a non-JSON-RPC message, -32600 for two initializes or a batch over 100', async () => {
      const notRpc = await post({ hello: 'world' });
      expect([notRpc.status, notRpc.json.error.code]).toEqual([400, -32700]);
      const initialize = { jsonrpc: '2.0', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
      const twoInitializes = await post([{ ...initialize, id: 1 }, { ...initialize, id: 2 }]);
      expect([twoInitializes.status, twoInitializes.json.error.code]).toEqual([400, -32600]);
      const tooMany = await post(Array.from({ length: 101 }, (_, i) => neighborsOf(i, 'node:person:ann')));
      expect([tooMany.status, tooMany.json.error.code]).toEqual([400, -32600]);
      const hundred = await post(Array.from({ length: 100 }, (_, i) => neighborsOf(i, 'node:person:ann')));
      expect(hundred.status).toBe(200);
      expect(hundred.json.length).toBe(100);
    });
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
