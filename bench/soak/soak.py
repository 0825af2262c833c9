#!/usr/bin/env python3
"""bench/soak/soak.py - soak and flood scenarios against an HTTP/1.1 server it starts.

Each scenario starts a fresh server (`eddy serve --loops 1`, or the Kestrel peer), pinned with
taskset to one core, on 127.0.0.1; warms it up (a few thousand requests: tiered JIT), runs one
bounded attack beside a normal client, prints one line of figures and stops the server. The run
writes a Markdown table, eddy and Kestrel side by side, plus the raw figures as JSON.

Run it through bench/soak.sh (which builds both servers); `soak.py --help` lists the knobs.
Python 3 standard library only. Every loop is bounded in time; the driver is single-threaded
(epoll) except the latency probe, which is a separate process (no shared GIL, no inherited sockets).
"""

import argparse
import collections
import json
import os
import random
import re
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PLAINTEXT = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
LARGE_FILE = "soak-large.bin"


def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ /proc ----

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    """User + system CPU time of the process so far, all threads (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid):
    """What the process's descriptors point at: socket, pipe, anon_inode:[eventpoll], or a file path."""
    kinds = collections.Counter()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kinds[target.split(":[")[0] if ":[" in target else target] += 1
    return kinds


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def tcp_socket(local_port, remote_port):
    """One end of a TCP connection on 127.0.0.1, from /proc/net/tcp: (inode, bytes queued for sending,
    bytes received but not yet read by its owner), or None if no process holds it."""
    local = f"0100007F:{local_port:04X}"
    remote = f"0100007F:{remote_port:04X}"
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[1] == local and cols[2] == remote and cols[9] != "0":
                tx, rx = (int(x, 16) for x in cols[4].split(":"))
                return int(cols[9]), tx, rx
    return None


# ------------------------------------------------------------- responses ----

class ResponseParser:
    """Counts complete HTTP/1.1 responses in a byte stream (Content-Length or chunked bodies)."""

    def __init__(self):
        self.buf = bytearray()
        self.statuses = []

    def feed(self, data):
        self.buf += data
        while self._one():
            pass

    def _one(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        pos = end + 4
        if "chunked" in fields.get("transfer-encoding", "").lower():
            while True:
                eol = self.buf.find(b"\r\n", pos)
                if eol < 0:
                    return False
                size = int(bytes(self.buf[pos:eol]).split(b";")[0], 16)
                pos = eol + 2
                if size == 0:
                    trailers_end = self.buf.find(b"\r\n\r\n", pos - 2)
                    if trailers_end < 0:
                        return False
                    pos = trailers_end + 4
                    break
                if len(self.buf) < pos + size + 2:
                    return False
                pos += size + 2
        else:
            pos += int(fields.get("content-length", "0"))
            if len(self.buf) < pos:
                return False
        self.statuses.append(status)
        del self.buf[:pos]
        return True


def read_response(sock, parser, timeout):
    """Blocks until the parser has one more response; returns its status, or raises TimeoutError/EOFError."""
    want = len(parser.statuses) + 1
    deadline = time.monotonic() + timeout
    while len(parser.statuses) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no response")
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed before a response")
        parser.feed(data)
    return parser.statuses[want - 1]


def request_all(socks, request=PLAINTEXT, timeout=30.0):
    """Sends one request on every socket at once and waits (epoll) for the answers.
    Returns (answered, failed) counts; a socket that was closed or reset counts as failed."""
    ep = select.epoll()
    pending = {}
    failed = 0
    try:
        for s in socks:
            try:
                s.setblocking(False)
                s.send(request)
                ep.register(s.fileno(), select.EPOLLIN)
                pending[s.fileno()] = (s, ResponseParser())
            except OSError:
                failed += 1
        answered = 0
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for fd, _ in ep.poll(min(1.0, max(0.0, deadline - time.monotonic()))):
                s, parser = pending[fd]
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    parser.feed(data)
                    if not parser.statuses:
                        continue
                    answered += 1
                else:
                    failed += 1
                ep.unregister(fd)
                del pending[fd]
        return answered, failed + len(pending)
    finally:
        ep.close()


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def reset_close(sock):
    """Closes with SO_LINGER 0: the peer gets an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def open_answered(port, n, batch=200, timeout=30.0):
    """Opens n keep-alive connections in batches, one GET /plaintext each; returns (sockets, answered)."""
    socks, answered = [], 0
    for first in range(0, n, batch):
        group = [connect(port) for _ in range(min(batch, n - first))]
        ok, _ = request_all(group, timeout=timeout)
        answered += ok
        socks += group
    return socks, answered


def fresh_answered(port, n=10):
    """How many of n new connections, one after another, get a 200 to GET /plaintext within 5 s."""
    answered = 0
    for _ in range(n):
        try:
            with connect(port, timeout=5) as s:
                s.sendall(PLAINTEXT)
                answered += read_response(s, ResponseParser(), 5.0) == 200
        except (OSError, EOFError):
            pass
    return answered


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def percentiles_ms(samples):
    if not samples:
        return None
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
    return {"n": len(ordered), "p50": pick(0.50), "p99": pick(0.99), "max": ordered[-1] * 1000}


def fmt_latency(p):
    if p is None:
        return "no samples"
    return f"p50 {p['p50']:.2f} ms, p99 {p['p99']:.2f} ms, max {p['max']:.1f} ms ({p['n']} requests)"


# ----------------------------------------------------------------- probe ----

def probe_main(port, duration, interval):
    """The normal client (a child process): GET /plaintext on a keep-alive connection every
    `interval` s for `duration` s; prints the latencies and errors as JSON."""
    latencies, errors, sock, parser = [], 0, None, None
    end = time.monotonic() + duration
    due = time.monotonic()
    while due < end:
        time.sleep(max(0.0, due - time.monotonic()))
        due += interval
        try:
            if sock is None:
                sock, parser = connect(port), ResponseParser()
            started = time.perf_counter()
            sock.sendall(PLAINTEXT)
            status = read_response(sock, parser, 5.0)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors += 1
        except (OSError, EOFError):
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
    print(json.dumps({"latencies": latencies, "errors": errors}))


class Probe:
    running = []  # killed when a scenario ends, however it ends

    def __init__(self, port, duration, interval=0.1):
        self.duration = duration
        Probe.running.append(self)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--probe", str(port), str(duration), str(interval)],
            stdout=subprocess.PIPE, text=True)

    def result(self):
        try:
            out, _ = self.proc.communicate(timeout=self.duration + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            return {"latency": None, "errors": -1}
        data = json.loads(out)
        return {"latency": percentiles_ms(data["latencies"]), "errors": data["errors"]}

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def core_ticks(cpu):
    """(busy, total) clock ticks of one CPU so far, from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:9]]
                return v[0] + v[1] + v[2] + v[5] + v[6] + v[7], sum(v)
    raise RuntimeError(f"cpu{cpu} not in /proc/stat")


def fmt_probe(probe):
    errors = "probe hung" if probe["errors"] < 0 else f"{probe['errors']} failed"
    return f"normal client every 100 ms: {fmt_latency(probe['latency'])}, {errors}"


# ---------------------------------------------------------------- server ----

class StartError(Exception):
    pass


class Server:
    """One server process, pinned with taskset, optionally started under prlimit --nofile (soft and hard
    limit, so that eddy serve, which raises its soft limit to the hard one, keeps it)."""

    def __init__(self, cfg, kind, log_name, nofile=None, extra_args=(), env=None):
        self.cfg, self.kind, self.port, self.nofile = cfg, kind, cfg.port, nofile
        if kind == "eddy":
            cmd = [cfg.eddy, "serve", "--port", str(self.port), "--loops", "1", "--static", cfg.static_dir]
        else:
            cmd = [cfg.kestrel, str(self.port), cfg.static_dir]
        prefix = ["taskset", "-c", str(cfg.server_cpu)]
        if nofile:
            prefix += ["prlimit", f"--nofile={nofile}:{nofile}"]
        self.cmd = prefix + cmd + list(extra_args)
        self.log_path = os.path.join(cfg.raw_dir, f"server-{log_name}.log")
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def start(self):
        if port_in_use(self.port):
            raise StartError(f"port {self.port} is already in use")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        needle = f"127.0.0.1:{self.port}"
        for _ in range(300):
            if self.proc.poll() is not None:
                raise StartError(f"exited with {self.proc.returncode}: {self.log_tail()}")
            with open(self.log_path) as f:
                if needle in f.read():
                    self.pid = self.proc.pid
                    return self
            time.sleep(0.1)
        raise StartError("no 'listening' line within 30 s")

    def log_tail(self, lines=3):
        with open(self.log_path) as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])

    def log_lines(self, pattern):
        """The server's log lines that match a regular expression."""
        with open(self.log_path, errors="replace") as f:
            return [line.rstrip() for line in f if re.search(pattern, line)]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def warm_up(self, requests):
        """Tiered JIT: a few thousand keep-alive requests (and some /anything POSTs) before measuring."""
        sock, parser = connect(self.port), ResponseParser()
        post = b"POST /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
        for i in range(requests):
            sock.sendall(post if i % 20 == 0 else PLAINTEXT)
            read_response(sock, parser, 10.0)
        sock.close()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def port_in_use(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


# ------------------------------------------------------------- scenarios ----

def trickle(server, n, initial, stream, chunk, interval, duration):
    """n connections each send `initial`, then `chunk` bytes of `stream` every `interval` s, for up to
    `duration` s (start times spread over one interval). Returns what the server did to them."""
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(server.port))
        except OSError:
            break
    ep = select.epoll()
    state = {}
    t0 = time.monotonic()
    for i, s in enumerate(socks):
        s.setblocking(False)
        ep.register(s.fileno(), select.EPOLLIN)
        state[s.fileno()] = {"sock": s, "due": t0 + i * interval / len(socks), "sent": 0, "first": None,
                             "closed": None, "how": None, "parser": ResponseParser()}
    open_fds = set(state)
    end = t0 + duration

    def closed(st, how):
        st["closed"], st["how"] = time.monotonic(), how
        ep.unregister(st["sock"].fileno())
        open_fds.discard(st["sock"].fileno())

    while open_fds and time.monotonic() < end:
        now = time.monotonic()
        for fd in list(open_fds):
            st = state[fd]
            if st["due"] > now:
                continue
            st["due"] += interval
            head = b""
            if st["first"] is None:
                head, st["first"] = initial, now
            try:
                st["sent"] += max(0, st["sock"].send(head + stream[st["sent"]:st["sent"] + chunk]) - len(head))
            except BlockingIOError:
                pass
            except OSError:
                closed(st, "send failed")
        for fd, _ in ep.poll(0.02):
            st = state[fd]
            try:
                data = st["sock"].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                closed(st, "reset")
                continue
            if data:
                st["parser"].feed(data)
            else:
                closed(st, "closed")
    ep.close()
    result = {"connections": len(socks), "requested": n, "still_open": len(open_fds), "closed": 0,
              "close_after_s": None, "statuses": collections.Counter(), "how": collections.Counter()}
    after = []
    for st in state.values():
        for status in st["parser"].statuses:
            result["statuses"][status] += 1
        if st["closed"] is not None:
            result["how"][st["how"]] += 1
            after.append(st["closed"] - st["first"] if st["first"] else st["closed"] - t0)
    result["closed"] = len(after)
    if after:
        result["close_after_s"] = {"min": min(after), "median": statistics.median(after), "max": max(after)}
    close_all(socks)
    return result


def fmt_trickle(r, what):
    text = f"{r['closed']:,} of {r['connections']:,} {what} closed by the server"
    if r["close_after_s"]:
        c = r["close_after_s"]
        text += f" {c['min']:.1f}-{c['max']:.1f} s (median {c['median']:.1f} s) after their first byte"
    if r["statuses"]:
        text += " (answers: " + ", ".join(f"{k} x{v:,}" for k, v in sorted(r["statuses"].items())) + ")"
    text += f"; {r['still_open']:,} still open at the end"
    if r["connections"] < r["requested"]:
        text += f"; only {r['connections']:,} of {r['requested']:,} could connect"
    return text


def scenario_slowloris(cfg, server):
    probe = Probe(server.port, cfg.slowloris_seconds)
    stream = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    r = trickle(server, cfg.slowloris_conns, b"", stream, 1, cfg.slowloris_interval, cfg.slowloris_seconds)
    r["probe"] = probe.result()
    r["summary"] = (f"{cfg.slowloris_conns:,} connections trickling header bytes (1 byte / "
                    f"{cfg.slowloris_interval:g} s) for {cfg.slowloris_seconds} s: "
                    f"{fmt_trickle(r, 'slow ones')}; {fmt_probe(r['probe'])}")
    return r


def scenario_slowpost(cfg, server):
    probe = Probe(server.port, cfg.slowpost_seconds)
    length = 1_000_000
    head = (f"POST /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
    step = 0.1
    chunk = max(1, round(cfg.slowpost_rate * step))
    r = trickle(server, cfg.slowpost_conns, head, b"b" * length, chunk, step, cfg.slowpost_seconds)
    r["probe"] = probe.result()
    r["summary"] = (f"{cfg.slowpost_conns:,} POST bodies at {chunk / step:g} B/s for up to {cfg.slowpost_seconds} s: "
                    f"{fmt_trickle(r, 'slow posts')}; {fmt_probe(r['probe'])}")
    return r


def watch_connection(server, inode, seconds, sample=0.5):
    """Samples the server's RSS until `seconds` pass or 2 s after the server let go of the socket."""
    t0 = time.monotonic()
    peak, closed_at = rss_kib(server.pid), None
    while time.monotonic() - t0 < seconds and server.alive():
        peak = max(peak, rss_kib(server.pid))
        if closed_at is None and inode is not None and inode not in socket_inodes(server.pid):
            closed_at = time.monotonic() - t0
        if closed_at is not None and time.monotonic() - t0 > closed_at + 2:
            break
        time.sleep(sample)
    return peak, closed_at


def server_read(sent, inode, server_port, client_port):
    """What the server has read of the `sent` request bytes: sent minus what still waits in the client's
    send queue and in the server's receive queue (from /proc/net/tcp); (read, unread), or None once the
    server's end is gone."""
    server_end, client_end = tcp_socket(server_port, client_port), tcp_socket(client_port, server_port)
    if server_end is None or server_end[0] != inode or client_end is None:
        return None
    return sent - server_end[2] - client_end[1], server_end[2]


def slow_read_one(cfg, server, variant):
    base = rss_kib(server.pid)
    probe = Probe(server.port, cfg.slowread_seconds + 15)
    time.sleep(0.5)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # small, fixed (set before the handshake)
    sock.settimeout(5)
    sock.connect((HOST, server.port))
    client_port = sock.getsockname()[1]
    # The server-side socket, found before any byte is sent: a server with a write timeout may close it
    # while the client is still sending.
    inode = None
    for _ in range(20):
        found = tcp_socket(server.port, client_port)
        if found is not None:
            inode = found[0]
            break
        time.sleep(0.1)
    sent, peak, closed_at, last_read = 0, base, None, None
    t0 = time.monotonic()

    def server_let_go():
        return inode is not None and inode not in socket_inodes(server.pid)

    if variant == "large":
        sock.sendall(f"GET /static/{LARGE_FILE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sent = 1
    else:
        # Pipelined GET /plaintext, never reading, until the server stops taking them (send blocked
        # for 5 s), closes the connection, the byte budget is spent, or 30 s pass.
        sock.setblocking(False)
        batch = PLAINTEXT * 1000
        blocked_since = None
        while sent < cfg.slowread_pipeline_mb * 2**20 and time.monotonic() - t0 < 30:
            try:
                sent += sock.send(batch)
                blocked_since = None
            except BlockingIOError:
                blocked_since = blocked_since or time.monotonic()
                last_read = server_read(sent, inode, server.port, client_port) or last_read
                if server_let_go():
                    closed_at = time.monotonic() - t0
                    break
                if time.monotonic() - blocked_since > 5:
                    break
                select.select([], [sock], [], 0.1)
            except OSError:  # reset: the server closed it with requests unread
                if server_let_go():
                    closed_at = time.monotonic() - t0
                break
            peak = max(peak, rss_kib(server.pid))
    sending_s = time.monotonic() - t0
    if closed_at is None:
        watch_peak, closed_at = watch_connection(server, inode, cfg.slowread_seconds)
        peak = max(peak, watch_peak)
        if closed_at is not None:
            closed_at += sending_s  # from the connection's first request byte
    # Bytes left unread at the end mean the server stopped reading; if it closed the connection, the
    # last figures seen while it was open.
    last_read = server_read(sent, inode, server.port, client_port) or last_read
    read, unread = last_read if last_read is not None else (None, None)
    reset_close(sock)
    probe_result = probe.result()
    return {"variant": variant, "sent_bytes": sent, "rss_base_kib": base, "rss_peak_kib": peak,
            "closed_after_s": closed_at, "inode_found": inode is not None, "probe": probe_result, "unread_bytes": unread,
            "server_read_bytes": read,
            "sending_s": sending_s}


def scenario_slowread(cfg, server):
    results = [slow_read_one(cfg, server, "large"), slow_read_one(cfg, server, "pipelined")]
    parts = []
    for r in results:
        growth = (r["rss_peak_kib"] - r["rss_base_kib"]) / 1024
        what = (f"GET of a {cfg.large_mb} MB file, never read" if r["variant"] == "large"
                else f"pipelined GET /plaintext, never read: {r['sent_bytes'] / 2**20:.1f} MB sent"
                + ("" if r["server_read_bytes"] is None else
                   f", of which the server read {r['server_read_bytes'] / 2**20:.1f} MB"
                   + (f" and then stopped reading ({r['unread_bytes'] / 1024:,.0f} KiB left in its receive queue)"
                      if r["unread_bytes"] else " (all of it)")
                   + (" as last seen before the close" if r["closed_after_s"] is not None else "")))
        closed = ("its server-side socket was not found in /proc/net/tcp (not watched)" if not r["inode_found"] else
                  f"closed by the server {r['closed_after_s']:.1f} s after the first request byte" if r["closed_after_s"] is not None
                  else f"still open {r['sending_s'] + cfg.slowread_seconds:.0f} s after the first request byte")
        parts.append(f"{what}: server RSS +{growth:.1f} MiB at peak, {closed}; {fmt_probe(r['probe'])}")
    return {"runs": results, "summary": " / ".join(parts)}


def refusals(port, n):
    """n more connections, one after another, each sending GET /plaintext: what each got (200, closed,
    reset, or no answer). Stops at the first one left unanswered, which would wait in the backlog."""
    seen = collections.Counter()
    for _ in range(n):
        try:
            s = connect(port, timeout=2)
            s.sendall(PLAINTEXT)
            out = garbage_outcome(s, 2.0)
        except OSError as e:
            seen[f"connect/send failed ({e.__class__.__name__})"] += 1
            continue
        s.close()
        seen[out] += 1
        if out.startswith("no answer"):
            break
    return seen


def scenario_emfile(cfg, server):
    # The open-file limit was set before the server started (prlimit --nofile, see server_for), as an
    # operator's `ulimit -n` would be: eddy serve derives its default connection limit from it at start.
    nofile = server.nofile
    baseline = fd_count(server.pid)
    limit_line = server.log_lines(r"connection limit")
    conn_limit = None
    if limit_line:
        m = re.search(r"no connection limit|connection limit (\d+)", limit_line[0])
        conn_limit = m and (m.group(1) or "none")
    socks = []
    stuck = None
    outcome = "no limit reached"
    refused = False
    for _ in range(nofile + 200):
        try:
            s = connect(server.port, timeout=2)
        except OSError as e:
            outcome = f"connect failed ({e.__class__.__name__})"
            break
        parser = ResponseParser()
        try:
            s.sendall(PLAINTEXT)
            read_response(s, parser, 2.0)
            socks.append(s)
        except TimeoutError:
            stuck, outcome = s, "connection accepted by the kernel but not answered in 2 s (server out of fds)"
            break
        except (OSError, EOFError) as e:
            outcome = f"connection closed/reset without an answer ({e.__class__.__name__})"
            refused = True
            s.close()
            break
    held = len(socks)
    # Refused cleanly: the flood goes on, each refusal costing the server a descriptor for a moment.
    time.sleep(0.5)  # a reset may be the process dying: then there is nothing to flood
    flood = refusals(server.port, cfg.emfile_flood) if refused and server.alive() else None
    # Server CPU while the connections are held, sampled so that a server that dies midway still shows
    # how busy it was until then (an accept loop spinning on EMFILE is ~100% of a core).
    t0, cpu0 = time.monotonic(), (cpu_seconds(server.pid) if server.alive() else 0.0)
    cpu_pct, alive_for = None, 0.0
    while time.monotonic() - t0 < cfg.emfile_hold:
        time.sleep(0.5)
        try:
            used, alive_for = cpu_seconds(server.pid) - cpu0, time.monotonic() - t0
            cpu_pct = 100 * used / alive_for
        except (OSError, IndexError):
            break
        if not server.alive():
            break
    died_in_hold = not server.alive()
    existing, _ = request_all(socks, timeout=10) if server.alive() else (0, held)
    close_all(socks[: held // 2])
    time.sleep(1)
    fresh = fresh_answered(server.port)
    stuck_answered = None
    if stuck is not None:
        try:
            read_response(stuck, ResponseParser(), 3.0)
            stuck_answered = True
        except (OSError, EOFError):
            stuck_answered = False
        stuck.close()
    close_all(socks[held // 2:])
    survived = server.alive()
    emfile_logged = len(server.log_lines("EMFILE")) if server.kind == "eddy" else None
    summary = (f"fd limit {nofile} from start ({baseline} in use after warm-up"
               + ("" if conn_limit is None else f"; connection limit {conn_limit}") + f"): {held} connections answered, then {outcome}"
               + ("" if flood is None else f"; {cfg.emfile_flood} more: " + ", ".join(f"{k} x{v}" for k, v in sorted(flood.items())))
               + f"; server CPU while held {cfg.emfile_hold} s: "
               + ("n/a (died)" if cpu_pct is None else f"{cpu_pct:.0f}% of a core"
                  + (f" until it died {alive_for:.1f} s in" if died_in_hold else "")) + "; "
               f"second request on the held ones: {existing}/{held} answered; after closing {held // 2}: "
               f"{fresh}/10 new connections answered"
               + ("" if stuck_answered is None else f", the waiting one {'answered' if stuck_answered else 'not answered'}")
               + ("" if emfile_logged is None else f"; EMFILE in its log: {'yes' if emfile_logged else 'no'}")
               + f"; process {'survived' if survived else 'DIED: ' + server.log_tail(2)}")
    return {"nofile": nofile, "baseline_fds": baseline, "connection_limit": conn_limit, "held": held, "outcome": outcome,
            "flood": None if flood is None else dict(flood), "cpu_pct": cpu_pct, "existing_answered": existing,
            "fresh_answered": fresh, "stuck_answered": stuck_answered, "emfile_logged": emfile_logged,
            "survived": survived, "summary": summary}


def scenario_idle(cfg, server):
    time.sleep(cfg.settle)
    base = rss_kib(server.pid)
    levels, socks, rows = sorted(cfg.idle_levels), [], []
    for level in levels:
        more, answered = open_answered(server.port, level - len(socks))
        socks += more
        time.sleep(cfg.settle)
        rss = rss_kib(server.pid)
        rows.append({"connections": len(socks), "answered_new": answered, "opened_new": len(more),
                     "rss_kib": rss, "kib_per_conn": (rss - base) / len(socks)})
        log(f"  {server.kind} idle: {len(socks):,} connections, {answered:,}/{len(more):,} new answered, "
            f"RSS {rss / 1024:.1f} MiB ({(rss - base) / len(socks):.2f} KiB per connection)")
    again, failed = request_all(socks, timeout=60)
    close_all(socks)
    slope = ""
    if len(rows) >= 2:
        a, b = rows[-2], rows[-1]
        slope = f"; slope {a['connections']:,}->{b['connections']:,}: " \
                f"{(b['rss_kib'] - a['rss_kib']) / (b['connections'] - a['connections']):.2f} KiB per connection"
    summary = (f"RSS {base / 1024:.1f} MiB before; "
               + ", ".join(f"{r['connections']:,} idle keep-alive: +{(r['rss_kib'] - base) / 1024:.1f} MiB = "
                           f"{r['kib_per_conn']:.2f} KiB/conn" for r in rows)
               + slope
               + f"; first requests answered {sum(r['answered_new'] for r in rows):,}/{len(socks):,}"
               + f", a second request on every connection: {again:,}/{len(socks):,} answered")
    return {"base_kib": base, "levels": rows, "second_round": again, "second_failed": failed, "summary": summary}


def scenario_halfclose(cfg, server):
    post = b"POST /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
    counts = {}
    for name, request in (("GET /plaintext", PLAINTEXT), ("POST /anything", post)):
        answered = 0
        for _ in range(cfg.halfclose_rounds):
            s = connect(server.port)
            try:
                s.sendall(request)
                s.shutdown(socket.SHUT_WR)
                if read_response(s, ResponseParser(), 5.0) == 200:
                    answered += 1
            except (OSError, EOFError):
                pass
            finally:
                s.close()
        counts[name] = answered
    summary = "request then shutdown(SHUT_WR): " + ", ".join(
        f"{name} answered {n}/{cfg.halfclose_rounds}" for name, n in counts.items())
    return {"answered": counts, "rounds": cfg.halfclose_rounds, "summary": summary}


TLS_CLIENT_HELLO = (bytes.fromhex("160301002d0100002903 03".replace(" ", "")) + bytes(range(32))
                    + bytes.fromhex("000002002f0100"))


def garbage_outcome(sock, timeout=5.0):
    """What the server did after garbage: its answer's status, a close, a reset, or nothing."""
    parser = ResponseParser()
    try:
        return str(read_response(sock, parser, timeout))
    except EOFError:
        return "closed"
    except TimeoutError:
        return "no answer in 5 s"
    except OSError:
        return "reset"


def scenario_abrupt(cfg, server):
    time.sleep(1)
    fds_before, kinds_before = fd_count(server.pid), fd_kinds(server.pid)
    rng = random.Random(6)
    cases = {
        "RST mid-request": lambda s: (s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A"), "RST"),
        "RST mid-response": None,
        "TLS ClientHello": lambda s: (s.sendall(TLS_CLIENT_HELLO), None),
        "1 MB of 'A'": lambda s: (s.sendall(b"A" * 2**20), None),
        "64 KB random binary": lambda s: (s.sendall(rng.randbytes(65536)), None),
    }
    outcomes = {}
    for name, act in cases.items():
        seen = collections.Counter()
        for _ in range(cfg.abrupt_rounds):
            s = connect(server.port)
            try:
                if name == "RST mid-response":
                    s.sendall(f"GET /static/{LARGE_FILE} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                    got = 0
                    while got < 256 * 1024:
                        data = s.recv(65536)
                        if not data:
                            break
                        got += len(data)
                    reset_close(s)
                    seen["RST"] += 1
                    continue
                _, how = act(s)
                if how == "RST":
                    reset_close(s)
                    seen["RST"] += 1
                    continue
                seen[garbage_outcome(s)] += 1
            except OSError as e:
                seen[f"send failed ({e.__class__.__name__})"] += 1
            s.close()
        outcomes[name] = dict(seen)
    # Sockets must come back to the baseline; other new descriptors are listed (the runtime opens
    # assemblies and symbol files once, to format a logged exception's stack trace).
    fds_after, deadline = None, time.monotonic() + 10
    while server.alive() and time.monotonic() < deadline:
        fds_after = fd_count(server.pid)
        if fd_kinds(server.pid)["socket"] <= kinds_before["socket"]:
            break
        time.sleep(0.2)
    leftover = {}
    if server.alive():
        leftover = {os.path.basename(k): v for k, v in (fd_kinds(server.pid) - kinds_before).items()}
    # Log entries that mention an exception (not the exception's own type line or stack frames).
    with open(server.log_path, errors="replace") as f:
        logged = sum(1 for line in f if re.match(r"\S.*exception", line, re.I)
                     and not re.match(r"[\w.]+(Exception|Error):", line))
    ok = False
    if server.alive():
        try:
            s = connect(server.port)
            s.sendall(PLAINTEXT)
            ok = read_response(s, ResponseParser(), 5.0) == 200
            s.close()
        except (OSError, EOFError):
            pass
    summary = (f"{cfg.abrupt_rounds} of each: "
               + "; ".join(f"{name}: " + ", ".join(f"{k} x{v}" for k, v in sorted(o.items()))
                           for name, o in outcomes.items())
               + f". After: {'alive' if server.alive() else 'DEAD'}, GET /plaintext {'answered' if ok else 'NOT answered'}, "
               f"sockets {kinds_before['socket']} before -> {leftover.get('socket', 0) + kinds_before['socket']} after, "
               f"all fds {fds_before} -> {fds_after}"
               + ("" if not leftover else " (new: " + ", ".join(f"{k} x{v}" for k, v in leftover.items()) + ")")
               + f"; server log: {logged} exception entries")
    return {"outcomes": outcomes, "fds_before": fds_before, "fds_after": fds_after, "leftover": leftover,
            "logged_exceptions": logged,
            "alive": server.alive(),
            "answered_after": ok, "summary": summary}


def scenario_maxconn(cfg, server):
    limit = cfg.maxconn_limit
    socks, seen = [], collections.Counter()
    for _ in range(limit + cfg.maxconn_extra):
        try:
            s = connect(server.port, timeout=2)
            s.sendall(PLAINTEXT)
            out = garbage_outcome(s, 2.0)
        except OSError as e:
            seen[f"connect/send failed ({e.__class__.__name__})"] += 1
            continue
        seen["answered" if out == "200" else out] += 1
        if out == "200":
            socks.append(s)
        else:
            s.close()
    close_all(socks[: len(socks) // 2])
    time.sleep(1)
    fresh = fresh_answered(server.port)
    close_all(socks[len(socks) // 2:])
    summary = (f"limit {limit}, {limit + cfg.maxconn_extra} connections held open one after another: "
               + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items()))
               + f"; after closing {len(socks) // 2}: {fresh}/10 new connections answered; "
               f"process {'survived' if server.alive() else 'DIED'}")
    return {"outcomes": dict(seen), "fresh": fresh, "survived": server.alive(), "summary": summary}


def scenario_pipelinebad(cfg, server):
    """Valid requests and garbage in one write (and the same bytes in two writes): are the valid ones answered?"""
    valid = (PLAINTEXT * 2
             + b"POST /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
    garbage = {"garbage line": b"GARBAGE\r\n\r\n", "a bad header": b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon\r\n\r\n",
               "binary": bytes(random.Random(7).randbytes(200))}
    outcomes = {}
    for name, bad in garbage.items():
        for writes in (1, 2):
            seen = collections.Counter()
            for _ in range(cfg.pipelinebad_rounds):
                s = connect(server.port)
                parser = ResponseParser()
                try:
                    if writes == 1:
                        s.sendall(valid + bad)
                    else:
                        s.sendall(valid)
                        time.sleep(0.01)
                        s.sendall(bad)
                    s.shutdown(socket.SHUT_WR)
                    s.settimeout(5.0)
                    while True:
                        data = s.recv(65536)
                        if not data:
                            break
                        parser.feed(data)
                except OSError:
                    pass
                finally:
                    s.close()
                seen[" ".join(str(x) for x in parser.statuses) or "nothing"] += 1
            outcomes[f"{name}, {writes} write{'s' if writes > 1 else ''}"] = dict(seen)
    summary = "3 valid requests then bad bytes: " + "; ".join(
        f"{case}: " + ", ".join(f"[{k}] x{v}" for k, v in seen.items()) for case, seen in outcomes.items())
    return {"outcomes": outcomes, "summary": summary}


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def scenario_upload(cfg, server):
    """One streamed upload of UPLOAD_MIB MiB (chunked, size unknown up front) to /upload: answered right, and the
    server's peak RSS during it (VmHWM, reset first through /proc/PID/clear_refs)."""
    size = cfg.upload_mib * 2**20
    time.sleep(cfg.settle)
    before = rss_kib(server.pid)
    with open(f"/proc/{server.pid}/clear_refs", "w") as f:
        f.write("5")
    cpu0 = cpu_seconds(server.pid)
    start = time.monotonic()
    s = connect(server.port)
    answer = b""
    try:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + bytes(65536) + b"\r\n"
        for _ in range(size // 65536):
            s.sendall(chunk)
        s.sendall(b"0\r\n\r\n")
        s.settimeout(60)
        while True:
            data = s.recv(65536)
            if not data:
                break
            answer += data
    finally:
        s.close()
    seconds = time.monotonic() - start
    cpu = cpu_seconds(server.pid) - cpu0
    peak = peak_rss_kib(server.pid)
    body = answer.split(b"\r\n\r\n", 1)[-1]
    counted = re.search(rb'"bytes":\s*(\d+)', body)
    ok = answer.startswith(b"HTTP/1.1 200") and counted is not None and int(counted.group(1)) == size
    summary = (f"{cfg.upload_mib:,} MiB streamed (chunked) to POST /upload in {seconds:.1f} s "
               f"({cfg.upload_mib / seconds:,.0f} MiB/s), answered {'correctly' if ok else 'WRONGLY: ' + answer[:80].decode('latin-1')}; "
               f"server CPU {cpu:.2f} s; RSS {before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB during "
               f"(+{(peak - before) / 1024:.1f} MiB)")
    return {"ok": ok, "seconds": seconds, "cpu": cpu, "before_kib": before, "peak_kib": peak, "summary": summary}


SCENARIOS = {
    "slowloris": scenario_slowloris,
    "slowpost": scenario_slowpost,
    "slowread": scenario_slowread,
    "emfile": scenario_emfile,
    "idle": scenario_idle,
    "halfclose": scenario_halfclose,
    "abrupt": scenario_abrupt,
    "maxconn": scenario_maxconn,
    "pipelinebad": scenario_pipelinebad,
    "upload": scenario_upload,
}
PROBED = ("slowloris", "slowpost", "slowread")  # scenarios with a normal client beside the attack
DEFAULT_SCENARIOS = ["slowloris", "slowpost", "slowread", "emfile", "idle", "halfclose", "abrupt", "maxconn", "pipelinebad", "upload"]

TITLES = {
    "slowloris": "Slowloris: headers trickled past the 30 s request-headers timeout",
    "slowpost": "Slow POST: body under the minimum data rate (240 B/s after 5 s)",
    "slowread": "Slow read: a client that never reads its response",
    "emfile": "fd exhaustion (EMFILE): server under a low open-file limit",
    "idle": "Idle keep-alive connections: RSS per connection, every request answered",
    "halfclose": "Half-close after the request: is the answer still sent?",
    "abrupt": "Abrupt peers and garbage: server alive, fds back to baseline",
    "maxconn": "Connection limit: refused cleanly past MaxConnections",
    "pipelinebad": "Valid requests, then bad bytes: every valid one answered before the 4xx?",
    "upload": "A streamed 1 GiB upload: answered right, server memory bounded",
}


def reserve_column(reserve):
    """The column of eddy serve --fd-reserve N (0: no default connection limit, pure accept back-off)."""
    return "eddy, no reserve" if reserve == 0 else f"eddy, reserve {reserve}"


def columns(cfg):
    """The report's columns: each server, and beside eddy, when emfile runs, eddy with each of
    --emfile-eddy-reserves instead of its default descriptor reserve."""
    cols = []
    for s in cfg.servers:
        cols.append(s)
        if s == "eddy" and "emfile" in cfg.scenarios:
            cols += [reserve_column(r) for r in cfg.emfile_eddy_reserves]
    return cols


def descriptors_after_warm_up(cfg, kind):
    """The descriptors a server holds after start-up and warm-up, with no limit of its own (one extra
    start per server kind). The emfile scenario's limit is this plus --emfile-headroom, the same room
    for connections for each server (a .NET web host opens ~200 at start-up, eddy ~60)."""
    if kind not in cfg.baseline_fds:
        server = Server(cfg, kind, f"{kind}-emfile-calibration")
        try:
            server.start()
            server.warm_up(cfg.warmup)
            time.sleep(1)
            cfg.baseline_fds[kind] = fd_count(server.pid)
        finally:
            server.stop()
        log(f"{kind}: {cfg.baseline_fds[kind]} descriptors after warm-up with no limit")
    return cfg.baseline_fds[kind]


def server_for(cfg, column, scenario, log_name):
    kind = "kestrel" if column == "kestrel" else "eddy"
    nofile, extra, env = None, [], {}
    for reserve in cfg.emfile_eddy_reserves:
        if column == reserve_column(reserve):
            extra = ["--fd-reserve", str(reserve)]
    if scenario == "maxconn":
        if kind == "eddy":
            extra = cfg.eddy_maxconn_args.split()
        else:
            env = {"KESTREL_MAX_CONNECTIONS": str(cfg.maxconn_limit)}
    if scenario == "emfile":
        nofile = cfg.emfile_nofile or descriptors_after_warm_up(cfg, kind) + cfg.emfile_headroom
    return Server(cfg, kind, log_name, nofile=nofile, extra_args=extra, env=env)


def run_once(cfg, column, scenario, log_name):
    """One scenario on one fresh server: its figures, with a one-line summary."""
    started = time.monotonic()
    server = None
    try:
        server = server_for(cfg, column, scenario, log_name)
        server.start()
        server.warm_up(cfg.warmup)
        log(f"{column} {scenario}: started pid {server.pid} ({' '.join(server.cmd)}), warmed up "
            f"({cfg.warmup:,} requests), RSS {rss_kib(server.pid) / 1024:.1f} MiB")
        quiet = None
        if scenario in PROBED:
            # The normal client's latency with no attack, to compare with its latency under one.
            quiet = Probe(server.port, cfg.quiet_probe_seconds).result()
        busy0, total0 = core_ticks(cfg.server_cpu)
        cpu0 = cpu_seconds(server.pid)
        r = SCENARIOS[scenario](cfg, server)
        if quiet is not None:
            r["quiet_probe"] = quiet
            r["summary"] += f"; the same client before the attack: {fmt_latency(quiet['latency'])}"
        # Other processes on the server's core during the scenario (noise in the latencies).
        if server.alive():
            busy1, total1 = core_ticks(cfg.server_cpu)
            server_ticks = (cpu_seconds(server.pid) - cpu0) * CLK_TCK
            r["other_work_pct"] = max(0, round(100 * (busy1 - busy0 - server_ticks) / max(1, total1 - total0)))
            r["summary"] += f" [other work on CPU {cfg.server_cpu}: {r['other_work_pct']}%]"
    except StartError as e:
        r = {"summary": f"not run: the server did not start ({e})", "error": str(e)}
    except Exception as e:  # a scenario that fails is reported, the others still run
        r = {"summary": f"scenario failed: {e.__class__.__name__}: {e}", "error": repr(e)}
    finally:
        for probe in Probe.running:
            probe.kill()
        Probe.running.clear()
        if server is not None:
            server.stop()
    r["seconds"] = time.monotonic() - started
    r["command"] = " ".join(server.cmd) if server is not None else "none"
    return r


def run(cfg):
    results = {}
    for scenario in cfg.scenarios:
        for column in columns(cfg):
            if column not in cfg.servers and scenario != "emfile":
                continue  # the --fd-reserve variants only matter at descriptor exhaustion
            slug = column.replace(", ", "-").replace(" ", "-")
            # Whether a server survives fd exhaustion is a matter of chance (does the runtime need a
            # descriptor meanwhile?), so that scenario runs several times; the first run is detailed.
            n = cfg.emfile_runs if scenario == "emfile" else 1
            runs = [run_once(cfg, column, scenario, f"{slug}-{scenario}" + (f"-{i + 1}" if n > 1 else ""))
                    for i in range(n)]
            r = runs[0]
            if len(runs) > 1:
                r["runs"] = runs[1:]
                survived = sum(bool(x.get("survived")) for x in runs)
                r["summary"] += f"; over {len(runs)} runs (fresh servers): survived {survived}, died {len(runs) - survived}"
                r["seconds"] = sum(x["seconds"] for x in runs)
            results[scenario, column] = r
            print(f"{column} {scenario}: {r['summary']}", flush=True)
            time.sleep(1)  # let the sockets of the last scenario close
    return results


def write_report(cfg, results, elapsed):
    os.makedirs(os.path.dirname(cfg.report), exist_ok=True)
    lines = [f"# Soak and flood runs, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", ""]
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "none"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines += [f"- commit `{commit}`; {os.cpu_count()} CPUs ({cpu}); kernel {os.uname().release}",
              f"- each scenario on a fresh server pinned to CPU {cfg.server_cpu} (`eddy serve --loops 1`, or "
              f"bench/peers/KestrelMinimal), the driver on CPU {cfg.load_cpu}; {cfg.warmup:,} warm-up requests first",
              f"- total {elapsed / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f} "
              f"(\"other work on CPU {cfg.server_cpu}\" in each cell: the share of the server's core that went to "
              f"other processes during the scenario; ~0% on a quiet machine, latencies are noise when it is high)", ""]
    cols = columns(cfg)
    lines += ["| scenario | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for scenario in cfg.scenarios:
        cells = [results[scenario, k]["summary"].replace("|", "/") if (scenario, k) in results else "—" for k in cols]
        lines.append(f"| **{scenario}**: {TITLES[scenario]} | " + " | ".join(cells) + " |")
    lines += ["", "Server commands:", ""]
    for scenario in cfg.scenarios:
        for k in cols:
            if (scenario, k) in results:
                lines.append(f"- {scenario} {k}: `{results[scenario, k]['command']}` "
                             f"({results[scenario, k]['seconds']:.0f} s)")
    text = "\n".join(lines) + "\n"
    with open(cfg.report, "w") as f:
        f.write(text)
    with open(os.path.join(cfg.raw_dir, "results.json"), "w") as f:
        json.dump({f"{s} {k}": v for (s, k), v in results.items()}, f, indent=1, default=str)
    return text


def parse_args(argv):
    p = argparse.ArgumentParser(description="Soak and flood scenarios against eddy serve and the Kestrel peer.")
    p.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all)")
    p.add_argument("--servers", default="eddy,kestrel", help="comma-separated: eddy, kestrel")
    p.add_argument("--eddy", help="the eddy binary")
    p.add_argument("--kestrel", help="the KestrelMinimal binary")
    p.add_argument("--port", type=int, default=9231)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--load-cpu", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3000, help="warm-up requests per server start")
    p.add_argument("--settle", type=float, default=5.0, help="seconds to wait (GC settle) before reading RSS")
    p.add_argument("--quiet-probe-seconds", type=float, default=5.0,
                   help="the normal client's run before an attack (its latency with no attack)")
    p.add_argument("--slowloris-conns", type=int, default=1000)
    p.add_argument("--slowloris-seconds", type=int, default=40)
    p.add_argument("--slowloris-interval", type=float, default=2.0, help="seconds between trickled header bytes")
    p.add_argument("--slowpost-conns", type=int, default=100)
    p.add_argument("--slowpost-seconds", type=int, default=20)
    p.add_argument("--slowpost-rate", type=float, default=50.0, help="body bytes per second")
    p.add_argument("--slowread-seconds", type=int, default=30, help="how long the non-reading client is watched")
    p.add_argument("--slowread-pipeline-mb", type=int, default=64, help="most pipelined request bytes sent")
    p.add_argument("--large-mb", type=int, default=100, help="size of the file the slow reader requests")
    p.add_argument("--emfile-headroom", type=int, default=200,
                   help="the server's open-file limit, set before it starts: the descriptors it holds after "
                        "warm-up (measured on a first start with no limit) plus this")
    p.add_argument("--emfile-nofile", type=int, default=0,
                   help="an absolute open-file limit for every server instead (e.g. 256)")
    p.add_argument("--emfile-hold", type=int, default=10)
    p.add_argument("--emfile-eddy-reserves", default="0,128",
                   help="eddy also runs emfile with each of these --fd-reserve values, a column each ('' for none)")
    p.add_argument("--emfile-flood", type=int, default=50,
                   help="connections tried after the first refused one (a server that refuses cleanly)")
    p.add_argument("--emfile-runs", type=int, default=3, help="fresh servers per server kind (survival is by chance)")
    p.add_argument("--idle-levels", default="1000,5000,10000", help="cumulative connection counts")
    p.add_argument("--halfclose-rounds", type=int, default=20)
    p.add_argument("--abrupt-rounds", type=int, default=20)
    p.add_argument("--pipelinebad-rounds", type=int, default=20)
    p.add_argument("--upload-mib", type=int, default=1024, help="size of the streamed upload")
    p.add_argument("--maxconn-limit", type=int, default=100)
    p.add_argument("--maxconn-extra", type=int, default=50, help="connections opened past the limit")
    p.add_argument("--eddy-maxconn-args", default="--max-connections 100",
                   help="eddy serve arguments that set the connection limit")
    p.add_argument("--report", help="Markdown report path (default bench/results/soak-<date>.md)")
    cfg = p.parse_args(argv)
    cfg.servers = [s for s in cfg.servers.split(",") if s]
    cfg.baseline_fds = {}
    for s in cfg.servers:
        if s not in ("eddy", "kestrel"):
            p.error(f"unknown server '{s}' (use eddy, kestrel)")
        if not getattr(cfg, s) or not os.access(getattr(cfg, s), os.X_OK):
            p.error(f"--{s}: give the path of an executable {s} binary")
    cfg.scenarios = cfg.scenarios or DEFAULT_SCENARIOS
    for s in cfg.scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario '{s}' (use {', '.join(SCENARIOS)})")
    if cfg.emfile_runs < 1:
        p.error("--emfile-runs must be at least 1")
    try:
        cfg.emfile_eddy_reserves = [int(x) for x in cfg.emfile_eddy_reserves.split(",") if x]
    except ValueError:
        p.error("--emfile-eddy-reserves: comma-separated whole numbers")
    if any(r < 0 for r in cfg.emfile_eddy_reserves):
        p.error("--emfile-eddy-reserves: 0 or more each")
    if cfg.emfile_flood < 0:
        p.error("--emfile-flood must be 0 or more")
    try:
        cfg.idle_levels = [int(x) for x in cfg.idle_levels.split(",")]
    except ValueError:
        p.error("--idle-levels: comma-separated whole numbers")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")
    cfg.report = cfg.report or os.path.join(results_dir, f"soak-{stamp}.md")
    cfg.raw_dir = cfg.report[:-3] + "-raw" if cfg.report.endswith(".md") else cfg.report + "-raw"
    return cfg


def main(argv):
    if argv[:1] == ["--probe"]:
        probe_main(int(argv[1]), float(argv[2]), float(argv[3]))
        return 0
    cfg = parse_args(argv)
    # 10,000 connections need more descriptors, here and in the servers (which inherit the limit).
    want = max(65536, max(cfg.idle_levels) + 1000)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if "idle" in cfg.scenarios and limit < max(cfg.idle_levels) + 1000:
        sys.exit(f"soak.py: open-file limit {limit} is too low for {max(cfg.idle_levels):,} connections; run as root")
    os.sched_setaffinity(0, {cfg.load_cpu})
    os.makedirs(cfg.raw_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eddy-soak-") as static_dir:
        cfg.static_dir = static_dir
        with open(os.path.join(static_dir, LARGE_FILE), "wb") as f:
            f.truncate(cfg.large_mb * 2**20)  # sparse: zeros, no disk space
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        started = time.monotonic()
        results = run(cfg)
        print(write_report(cfg, results, time.monotonic() - started))
        log(f"report: {cfg.report} (raw: {cfg.raw_dir}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
