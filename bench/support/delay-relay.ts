// A TCP relay that delays every byte going toward the target by `delayMs ± jitterMs` (uniform),
// in order: a stand-in for `tc qdisc ... netem delay` on kernels built without sch_netem. Like
// netem on one side of a link, only one direction is delayed, so a round trip grows by one delay.

import net from 'node:net';

export interface DelayRelay {
  port: number;
  close(): Promise<void>;
}

export function startDelayRelay(target: { host: string; port: number }, delayMs: number, jitterMs: number): Promise<DelayRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    // Later chunks never overtake earlier ones: a TCP stream is in order whatever the jitter.
    let releaseAtMs = 0;
    client.on('data', (chunk) => {
      const at = Math.max(releaseAtMs, Date.now() + delayMs + (Math.random() * 2 - 1) * jitterMs);
      releaseAtMs = at;
      setTimeout(() => upstream.write(chunk), at - Date.now());
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
