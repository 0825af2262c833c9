#!/usr/bin/env python3
"""asyncio / uvloop protocol echo server: the Python peers of Eddy's echo benchmarks.

Usage: echo_server.py {asyncio|uvloop} PORT   (binds 127.0.0.1; run with Debian's /usr/bin/python3,
which has python3-uvloop). The protocol is the one uvloop's own benchmarks use: write back what arrives.
"""
import asyncio
import signal
import socket
import sys


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    # Flow control like Eddy's protocol echo: stop reading a client that does not read its echo.
    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoProtocol, "127.0.0.1", port, backlog=1024)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    print(f"{sys.argv[1]}-echo listening on 127.0.0.1:{port}", flush=True)
    await stop
    server.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("asyncio", "uvloop"):
        sys.exit("usage: echo_server.py {asyncio|uvloop} PORT")
    if sys.argv[1] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(int(sys.argv[2])))
