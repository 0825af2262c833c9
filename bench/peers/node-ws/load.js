// node-ws load: a second, independent WebSocket load generator for bench/ws.sh's cross-check of
// `eddy load ws` (one scenario): C connections, each sending an S-byte binary message and waiting
// for its echo, closed loop, for D seconds. Prints one JSON line: {"messages":N,"seconds":T,
// "messagesPerSecond":R,"errors":E}. Bounded: it exits after D seconds plus a 10 s grace at most.
//
//   usage: node load.js URL CONNECTIONS SIZE SECONDS
'use strict';

const WebSocket = require(process.env.NODE_WS || '/usr/share/nodejs/ws');

const [url, connections, size, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
if (!url || !(connections >= 1) || !(size >= 1) || !(seconds > 0)) {
  console.error('usage: node load.js URL CONNECTIONS SIZE SECONDS');
  process.exit(2);
}
const payload = Buffer.alloc(size, 0x61);
let messages = 0;
let errors = 0;
let open = 0;
let started = 0n;
let stopping = false;
const sockets = [];

function finish() {
  if (stopping) return;
  stopping = true;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ messages, seconds: elapsed, messagesPerSecond: messages / elapsed, errors }));
  for (const s of sockets) s.terminate();
  process.exit(messages > 0 ? 0 : 1);
}

for (let i = 0; i < connections; i++) {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(socket);
  socket.on('open', () => {
    if (++open === connections) {
      // Every connection is open: the clock starts and every one sends its first message.
      started = process.hrtime.bigint();
      setTimeout(finish, seconds * 1000);
      for (const s of sockets) s.send(payload, { binary: true });
    }
  });
  socket.on('message', (data) => {
    if (stopping) return;
    if (data.length === size) messages++; else errors++;
    socket.send(payload, { binary: true });
  });
  socket.on('error', () => { errors++; });
}
setTimeout(() => { errors += connections - open; finish(); }, (seconds + 10) * 1000).unref();
