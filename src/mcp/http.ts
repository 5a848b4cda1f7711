// MCP over streamable HTTP, stateless: each POST /mcp carries complete JSON-RPC messages and gets
// a JSON answer, with no sessions and no server-sent events.
//
// One MCP server per engine answers every POST, connected once to an in-process transport that
// carries each request in and its response out. The SDK's own web-standard transport needs a fresh
// transport (and a connect/close of the server) per request in stateless mode, because two clients'
// request ids may be equal; it also wraps each POST in a web Request and its answer in a Response,
// read back through web streams. That cost ~1 ms a call (prime_neighbors over HTTP took 4× stdio's
// time). Here the id problem is solved by renaming: each request goes in under an id of the
// transport's own, and its response comes back under the client's. What the SDK's transport checks
// is checked the same way, with the same answers: every message against the JSON-RPC schema,
// the batch size, one initialize per POST; a POST of notifications only is a 202.

import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  JSONRPCMessageSchema,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

import type { MnemoEngine } from '../index.js';
import { createMcpServer } from './tools.js';

/** The most messages one POST may carry (the SDK's transport refuses more with the same answer). */
const batchMessagesMax = 100;

/** An HTTP answer: a status and a JSON body, or no body (202). */
export interface McpAnswer {
  status: number;
  body: string | undefined;
}

/**
 * The server side of an in-process transport: requests are handed to the MCP server under ids of
 * its own, so concurrent clients' equal ids never meet, and each response resolves its caller.
 */
class RenamingTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  private nextId = 0;
  private readonly waiting = new Map<number, { clientId: RequestId; resolve(message: JSONRPCMessage): void }>();

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.onclose?.();
  }

  /**
   * The server's output. Responses go to their caller under the client's id. Notifications and
   * requests from the server have no way to the client in a stateless JSON answer and are dropped,
   * as the SDK's JSON response mode drops them.
   */
  async send(message: JSONRPCMessage): Promise<void> {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) return;
    const waiter = this.waiting.get(message.id as number);
    if (waiter === undefined) return;
    this.waiting.delete(message.id as number);
    waiter.resolve({ ...message, id: waiter.clientId });
  }

  /** Hands a client's request to the server; resolves with its response under the client's id. */
  request(message: JSONRPCRequest): Promise<JSONRPCMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { clientId: message.id, resolve });
      this.onmessage?.({ ...message, id });
    });
  }

  /**
   * Hands a client's notification to the server. A cancellation names a request by the client's id,
   * which here may stand for another client's request, so it is dropped: a stateless POST's
   * requests are answered within that POST, and nothing of one POST outlives it to be cancelled.
   * Responses from the client answer requests this server never sends, and are dropped too.
   */
  deliver(message: JSONRPCMessage): void {
    if (isJSONRPCNotification(message) && message.method !== 'notifications/cancelled') this.onmessage?.(message);
  }
}

/** Each engine's server, connected once; the promise is kept so that concurrent first POSTs share one. */
const connected = new WeakMap<MnemoEngine, Promise<RenamingTransport>>();

function connectionFor(engine: MnemoEngine, version: string): Promise<RenamingTransport> {
  let connection = connected.get(engine);
  if (connection === undefined) {
    const server: Server = createMcpServer(engine, version);
    const transport = new RenamingTransport();
    connection = server.connect(transport).then(() => transport);
    connected.set(engine, connection);
  }
  return connection;
}

function jsonRpcError(status: number, code: number, message: string): McpAnswer {
  return { status, body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }) };
}

/** Answers one POST /mcp whose body is `body` (parsed JSON: one message or a batch). */
export async function handleMcpMessages(engine: MnemoEngine, version: string, body: unknown): Promise<McpAnswer> {
  if (Array.isArray(body) && body.length > batchMessagesMax) return jsonRpcError(400, -32600, `Invalid Request: Batch must not exceed ${batchMessagesMax} messages`);
  const parsed = (Array.isArray(body) ? body : [body]).map((message) => JSONRPCMessageSchema.safeParse(message));
  if (!parsed.every((p) => p.success)) return jsonRpcError(400, -32700, 'Parse error: Invalid JSON-RPC message');
  const messages = parsed.map((p) => p.data as JSONRPCMessage);
  if (messages.some(isInitializeRequest) && messages.length > 1) return jsonRpcError(400, -32600, 'Invalid Request: Only one initialization request is allowed');
  const transport = await connectionFor(engine, version);
  const answers: Array<Promise<JSONRPCMessage>> = [];
  for (const message of messages) {
    if (isJSONRPCRequest(message)) answers.push(transport.request(message));
    else transport.deliver(message);
  }
  if (answers.length === 0) return { status: 202, body: undefined };
  const responses = await Promise.all(answers);
  return { status: 200, body: JSON.stringify(responses.length === 1 ? responses[0] : responses) };
}
