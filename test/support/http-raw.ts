// A raw HTTP/1.1 client over node:net, for what fetch will not send: lying Content-Length,
// bytes that are not UTF-8, clients that hang up mid-body. Responses are parsed just enough
// to read the status and a Content-Length body.

import { connect, type Socket } from 'node:net';

export interface RawReply {
  /** The status code, or null when the server closed the connection without answering. */
  status: number | null;
  body: string;
}

/** Sends `bytes` on a fresh connection and reads one response (or the close). */
export function rawExchange(port: number, bytes: Uint8Array | string, timeoutMs = 5_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const reader = new ResponseReader();
    const timer = setTimeout(() => finish({ status: null, body: 'timeout' }), timeoutMs);
    let settled = false;
    function finish(reply: RawReply): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    }
    socket.on('data', (chunk) => {
      const reply = reader.push(chunk);
      if (reply !== null) finish(reply);
    });
    socket.on('error', () => finish({ status: null, body: '' }));
    socket.on('close', () => finish({ status: null, body: '' }));
    socket.write(bytes);
  });
}

/** Sends the first part of a request and hangs up: the server must not crash or leak the exchange. */
export function rawHangUp(port: number, bytes: Uint8Array | string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(bytes, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', () => resolve());
  });
}

/** A keep-alive connection that sends one request at a time; reconnects when the server closes it. */
export class RawConnection {
  private socket: Socket | null = null;
  private reader = new ResponseReader();
  private pending: ((reply: RawReply) => void) | null = null;

  constructor(private readonly port: number) {}

  send(bytes: Uint8Array | string): Promise<RawReply> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socketOrConnect().write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private socketOrConnect(): Socket {
    if (this.socket !== null) return this.socket;
    const socket = connect({ host: '127.0.0.1', port: this.port });
    this.reader = new ResponseReader();
    socket.on('data', (chunk) => {
      const reply = this.reader.push(chunk);
      if (reply !== null) this.settle(reply);
    });
    const closed = (): void => {
      if (this.socket === socket) this.socket = null;
      this.settle({ status: null, body: '' });
    };
    socket.on('close', closed);
    socket.on('error', closed);
    this.socket = socket;
    return socket;
  }

  private settle(reply: RawReply): void {
    const pending = this.pending;
    this.pending = null;
    pending?.(reply);
  }
}

/** Accumulates bytes until one whole response (head plus Content-Length body) has arrived. */
class ResponseReader {
  private buffered = Buffer.alloc(0);

  push(chunk: Buffer): RawReply | null {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const head = this.buffered.subarray(0, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffered.length < headEnd + 4 + length) return null;
    const body = this.buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
    this.buffered = this.buffered.subarray(headEnd + 4 + length);
    return { status: Number.isNaN(status) ? null : status, body };
  }
}
