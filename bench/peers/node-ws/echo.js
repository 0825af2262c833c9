// node-ws echo: the Node.js `ws` library (Debian's node-ws, /usr/share/nodejs/ws) as a WebSocket
// echo server, the peer for bench/ws.sh beside `eddy serve`'s /ws/echo and Kestrel's /ws.
//
//   usage: node echo.js PORT
//
// Listens on 127.0.0.1:PORT (any path); every message goes back with its type, as eddy's and
// Kestrel's echoes do. No permessage-deflate (ws offers it only when asked; eddy load ws does not
// ask), no keep-alive pings. Prints "node-ws listening on ws://127.0.0.1:PORT" once listening.
// Exits on SIGTERM/SIGINT.
'use strict';

const WebSocket = require(process.env.NODE_WS || '/usr/share/nodejs/ws');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node echo.js PORT');
  process.exit(2);
}

const server = new WebSocket.WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 32 * 1024 * 1024 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => socket.terminate());
});
server.on('listening', () => console.log(`node-ws listening on ws://127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
