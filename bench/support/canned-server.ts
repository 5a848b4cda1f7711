// The floor under an MCP call over HTTP: a child process that answers every POST with the same
// bytes (argv[2], a JSON-RPC answer mnemo gave) through the same HTTP library mnemo serves with,
// doing no other work. A client's round trip to it is what that client's HTTP costs alone.
// Prints its URL on stdout once it listens.
import uWS from 'uWebSockets.js';

const answer = Buffer.from(process.argv[2] ?? '{}');

uWS
  .App()
  .post('/*', (res) => {
    res.onAborted(() => {});
    res.onData((_chunk, isLast) => {
      if (isLast) res.cork(() => res.writeHeader('Content-Type', 'application/json').end(answer));
    });
  })
  .listen('127.0.0.1', 0, (socket) => {
    if (socket === false) process.exit(1);
    console.log(`http://127.0.0.1:${uWS.us_socket_local_port(socket as unknown as uWS.us_socket)}`);
  });
