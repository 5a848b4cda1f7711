// The least a client can do to call an MCP tool, over each transport: write one JSON-RPC request,
// read one answer, JSON.stringify and JSON.parse and nothing else. With the same least client on
// both sides, stdio against HTTP compares the servers' transports, not client libraries (the SDK's
// HTTP client goes through a fetch, and Node's alone costs more than a stdio round trip).

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface JsonRpcCaller {
  call(method: string, params: unknown): Promise<unknown>;
  close(): Promise<void>;
  /** The server's process, when the caller started it. */
  pid?: number;
}

/** Newline-delimited JSON-RPC to a child's stdin and from its stdout (MCP's stdio transport). */
export async function stdioCaller(command: string, args: readonly string[]): Promise<JsonRpcCaller> {
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const waiting = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
    if (typeof message.id === 'number') waiting.get(message.id)?.(message);
  });
  let nextId = 0;
  const call = (method: string, params: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (message) => {
        waiting.delete(id);
        if (message.error !== undefined) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result);
      });
      child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
  child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return {
    call,
    pid: child.pid,
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** POST /mcp over one keep-alive connection, one request in flight, each written in one piece. */
export async function httpCaller(url: string): Promise<JsonRpcCaller> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffered = Buffer.alloc(0);
  let answer: ((body: string) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const headEnd = buffered.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, headEnd).toString('latin1'))?.[1] ?? NaN);
    if (buffered.byteLength < headEnd + 4 + length) return;
    const body = buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
    buffered = buffered.subarray(headEnd + 4 + length);
    const resolve = answer;
    answer = undefined;
    resolve?.(body);
  });
  let nextId = 0;
  const call = (method: string, params: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params });
      answer = (text) => {
        const message = JSON.parse(text) as { result?: unknown; error?: unknown };
        if (message.error !== undefined) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result);
      };
      socket.write(`POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  return {
    call,
    close: async () => {
      socket.end();
    },
  };
}
