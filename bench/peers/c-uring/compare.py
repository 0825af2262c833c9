#!/usr/bin/env python3
"""compare.py - c-uring must answer exactly what c-http answers, byte for byte.

    python3 bench/peers/c-uring/compare.py      (builds c-http, c-uring and c-uring-test with make first)

Starts both responders on free 127.0.0.1 ports, sends each the same request scenarios (single and
pipelined requests, requests split across writes, "Connection: close", EOF from the client, a head
too large, a burst that fills the socket buffers while the client does not read, 1,024 connections),
collects every byte each server sends until it closes or has sent the expected answers, and compares
the two with the Date header's value masked (the servers' clocks may straddle a second). Also checks
the answers against what canned_http.h promises, so the two cannot agree on something wrong. Then
the slow paths of c-uring alone: partial sends and an empty buffer ring (the unread burst and 1,024
connections against c-uring-test, built with a 4 KiB send buffer per connection and 16 receive
buffers; its exit counters must show partial sends and ENOBUFS) and EMFILE (c-uring with 48
descriptors, 80 connections: accepting pauses without spinning and resumes as connections close).
Every wait is bounded (a scenario fails after 10 s). Exit status 0 when all scenarios pass.
"""
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.dirname(HERE)
TIMEOUT = 10.0

PLAIN = b"Hello, World!"
JSON = b'{"message":"Hello, World!"}'


def req(path="/plaintext", *headers):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode()


def expected(body, closes=False):
    """The response canned_http.h builds, Date masked."""
    ctype = b"application/json" if body == JSON else b"text/plain"
    return (b"HTTP/1.1 200 OK\r\n" + (b"Connection: close\r\n" if closes else b"") +
            b"Content-Length: %d\r\nContent-Type: %s\r\nDate: *\r\nServer: c\r\n\r\n" % (len(body), ctype) + body)


def mask(data):
    return re.sub(rb"Date: [^\r]*\r\n", b"Date: *\r\n", data)


def count_responses(data):
    """Complete responses at the start of data."""
    n, pos = 0, 0
    while True:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return n
        m = re.search(rb"Content-Length: (\d+)", data[pos:end])
        length = int(m.group(1)) if m else 0
        if len(data) < end + 4 + length:
            return n
        n, pos = n + 1, end + 4 + length


def exchange(port, writes, want=None, shut_wr=False, read_after_writes=True):
    """Sends each element of writes (bytes) in its own send; reads until the server closes (want None)
    or until `want` complete responses arrived. Returns (bytes, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    deadline = time.monotonic() + TIMEOUT
    data = b""
    try:
        for w in writes:
            s.sendall(w)
        if shut_wr:
            s.shutdown(socket.SHUT_WR)
        while True:
            if want is not None and count_responses(data) >= want:
                return data, False
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return data, True
            except socket.timeout:
                raise AssertionError(f"timed out with {count_responses(data)} responses, {len(data)} bytes")
            if not chunk:
                return data, True
            data += chunk
    finally:
        s.close()


def still_open(port_writes_want):
    """After `want` responses the connection must still answer one more request."""
    port, writes, want = port_writes_want
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    data = b""
    try:
        for w in writes:
            s.sendall(w)
        while count_responses(data) < want:
            chunk = s.recv(65536)
            if not chunk:
                return False, data
            data += chunk
        s.sendall(req())
        while count_responses(data) < want + 1:
            chunk = s.recv(65536)
            if not chunk:
                return False, data
            data += chunk
        return True, data
    finally:
        s.close()


def many_connections(port, n=1024):
    """n connections at once, each with one request, all answered; returns the masked answers joined."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(n)]
    try:
        for s in socks:
            s.sendall(req())
        out = []
        for s in socks:
            data = b""
            while count_responses(data) < 1:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            out.append(mask(data))
        return b"".join(out)
    finally:
        for s in socks:
            s.close()


def unread_burst(port, count=20000):
    """count pipelined requests written while nothing is read (the server's sends fill the socket
    buffers and go partial, its input piles up), then everything read: all answers, in order."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    payload = b"".join(req("/json" if i % 3 == 0 else "/plaintext") for i in range(count))
    s.setblocking(False)
    data, sent = b"", 0
    deadline = time.monotonic() + TIMEOUT
    try:
        # Write as far as the kernel takes it without reading; then alternate, so the test ends.
        while sent < len(payload) or count_responses(data) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"unread burst: {count_responses(data)} of {count} answers")
            if sent < len(payload):
                try:
                    sent += s.send(payload[sent:sent + 65536])
                    continue
                except BlockingIOError:
                    pass
            try:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            except BlockingIOError:
                socket_wait(s, sent < len(payload))
        return data
    finally:
        s.close()


def socket_wait(s, writing):
    select.select([s], [s] if writing else [], [], 1.0)


SCENARIOS = [
    # name, function(port) -> bytes, expected masked bytes or None (compare only)
    ("one request, keep-alive", lambda p: still_open((p, [req()], 1))[1],
     expected(PLAIN) * 2),
    ("json and query paths", lambda p: exchange(p, [req("/json") + req("/json?a=1") + req("/jsonx") + req("/")], want=4)[0],
     expected(JSON) * 2 + expected(PLAIN) * 2),
    ("16 pipelined in one write", lambda p: exchange(p, [req() * 16], want=16)[0], expected(PLAIN) * 16),
    ("a request split byte by byte", lambda p: exchange(p, [bytes([b]) for b in req("/json")], want=1)[0],
     expected(JSON)),
    ("pipelined, split mid-request", lambda p: exchange(p, [req() + req("/json")[:10], req("/json")[10:] + req()], want=3)[0],
     expected(PLAIN) + expected(JSON) + expected(PLAIN)),
    ("Connection: close", lambda p: exchange(p, [req("/plaintext", "Connection: close")]),
     None),
    ("connection: Keep-Alive, CLOSE", lambda p: exchange(p, [req("/json", "connection: Keep-Alive, CLOSE")]),
     None),
    ("Connection: keep-alive (stays open)", lambda p: still_open((p, [req("/plaintext", "Connection: keep-alive")], 1))[1],
     expected(PLAIN) * 2),
    ("X-Connection: close is not Connection", lambda p: still_open((p, [req("/plaintext", "X-Connection: close")], 1))[1],
     expected(PLAIN) * 2),
    ("pipelined with close in the middle", lambda p: exchange(p, [req() + req("/json", "Connection: close") + req()]),
     None),
    ("client EOF after a request", lambda p: exchange(p, [req("/json")], shut_wr=True), None),
    ("head of 9,000 bytes", lambda p: exchange(p, [req("/plaintext", "X-Pad: " + "a" * 9000)]), None),
    ("answers before a head too large", lambda p: exchange(p, [req() * 2 + req("/json", "X-Pad: " + "a" * 9000)]), None),
    ("head of 8,100 bytes is answered", lambda p: exchange(p, [req("/json", "X-Pad: " + "a" * 8100)], want=1)[0],
     expected(JSON)),
]

CLOSE_EXPECT = {
    "Connection: close": (expected(PLAIN, closes=True), True),
    "connection: Keep-Alive, CLOSE": (expected(JSON, closes=True), True),
    "pipelined with close in the middle": (expected(PLAIN) + expected(JSON, closes=True), True),
    "client EOF after a request": (expected(JSON), True),
    "head of 9,000 bytes": (b"", True),
    "answers before a head too large": (expected(PLAIN) * 2, True),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, nofile=None):
    port = free_port()
    limit = None if nofile is None else (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile)))
    proc = subprocess.Popen([binary, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
    line = proc.stdout.readline().decode()
    if f"127.0.0.1:{port}" not in line:
        proc.kill()
        raise SystemExit(f"{binary} did not start: {line!r} {proc.stderr.read().decode()!r}")
    return proc, port


def stop(proc):
    """SIGTERM; returns (exit code, stderr)."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err.decode()


def counter(stderr, name):
    m = re.search(rf"{name} (\d+)", stderr)
    return int(m.group(1)) if m else -1


def run_scenario(name, fn, port):
    if name in CLOSE_EXPECT:
        data, closed = fn(port)
        return mask(data), closed
    return mask(fn(port)), None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emfile(binary, nofile=48, conns=80):
    """c-uring with `nofile` descriptors: `conns` connections each send a request. Those accepted are
    answered; accepting then pauses (EMFILE) without spinning; closing the answered connections lets
    the rest in, and every connection is answered."""
    proc, port = start(binary, nofile)
    problems = []
    socks = []
    try:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(conns)]
        for s in socks:
            s.sendall(req())
            s.setblocking(False)
        answered = [b""] * conns
        cpu0 = cpu_seconds(proc.pid)
        # One second to answer what it can accept: proving that the others wait needs a time window.
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ready, _, _ = select.select([s for i, s in enumerate(socks) if count_responses(answered[i]) < 1], [], [],
                                        max(0.0, end - time.monotonic()))
            for s in ready:
                i = socks.index(s)
                answered[i] += s.recv(4096)
        cpu = cpu_seconds(proc.pid) - cpu0
        first = [i for i in range(conns) if count_responses(answered[i]) == 1]
        if not 0 < len(first) < conns:
            problems.append(f"{len(first)} of {conns} answered with {nofile} descriptors (expected some, not all)")
        if cpu > 0.3:
            problems.append(f"the server used {cpu:.2f} s of CPU in 1 s while accepting was paused (spinning?)")
        for i in first:
            socks[i].close()
        rest = [i for i in range(conns) if i not in first]
        deadline = time.monotonic() + TIMEOUT
        while rest and time.monotonic() < deadline:
            ready, _, _ = select.select([socks[i] for i in rest], [], [], max(0.0, deadline - time.monotonic()))
            for s in ready:
                i = socks.index(s)
                answered[i] += s.recv(4096)
            rest = [i for i in rest if count_responses(answered[i]) < 1]
        if rest:
            problems.append(f"{len(rest)} connections never answered after the first {len(first)} closed")
        if any(mask(a) != expected(PLAIN) for a in answered):
            problems.append("an answer differs from the canned response")
    finally:
        for s in socks:
            s.close()
        rc, err = stop(proc)
    if rc != 0:
        problems.append(f"exit code {rc}: {err}")
    if counter(err, "accept pauses") < 1 or "Too many open files" not in err:
        problems.append(f"no EMFILE pause reported: {err.strip()!r}")
    return problems, err


def main():
    c_http = os.path.join(PEERS, "c-http", "c-http")
    c_uring = os.path.join(HERE, "c-uring")
    c_uring_test = os.path.join(HERE, "c-uring-test")
    subprocess.run(["make", "-s", "-C", os.path.join(PEERS, "c-http")], check=True)
    subprocess.run(["make", "-s", "-C", HERE, "c-uring", "c-uring-test"], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    servers = [start(c_http), start(c_uring)]
    results = []
    reference_burst = b""
    try:
        tests = list(SCENARIOS)
        tests.append(("1,024 connections", many_connections, expected(PLAIN) * 1024))
        tests.append(("20,000 pipelined, unread", lambda p: mask(unread_burst(p)), None))
        for name, fn, want in tests:
            try:
                (a, a_closed), (b, b_closed) = [run_scenario(name, fn, port) for _, port in servers]
                problems = []
                if a != b:
                    problems.append(f"c-http and c-uring differ: {len(a)} vs {len(b)} bytes; first difference at "
                                    f"{next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))}")
                if want is not None and a != want:
                    problems.append(f"c-http's answer is not the expected one ({len(a)} vs {len(want)} bytes)")
                if name in CLOSE_EXPECT:
                    cwant, closes = CLOSE_EXPECT[name]
                    if a != cwant or b != cwant:
                        problems.append(f"expected {cwant[:80]!r}..., got {a[:80]!r}... / {b[:80]!r}...")
                    if a_closed != closes or b_closed != closes:
                        problems.append(f"closed by the server: c-http {a_closed}, c-uring {b_closed}, expected {closes}")
                if name.startswith("20,000"):
                    reference_burst = a
                    if count_responses(a) != 20000 or count_responses(b) != 20000:
                        problems.append(f"answers: c-http {count_responses(a)}, c-uring {count_responses(b)}, "
                                        "expected 20000")
            except (AssertionError, OSError) as e:
                problems = [f"{type(e).__name__}: {e}"]
            results.append((name, problems))
    finally:
        for proc, _ in servers:
            rc, err = stop(proc)
            name = os.path.basename(proc.args[0])
            results.append((f"{name} exits 0 on SIGTERM", [] if rc == 0 else [f"exit code {rc}: {err}"]))
            if err.strip():
                print(f"     {name} said: {err.strip()}")

    # The slow paths: the burst against 4 KiB send buffers (partial sends), 1,024 connections
    # against 16 receive buffers (ENOBUFS).
    proc, port = start(c_uring_test)
    problems = []
    try:
        got = mask(unread_burst(port))
        if got != reference_burst:
            problems.append(f"burst: {count_responses(got)} answers, differing from c-http's")
        if many_connections(port) != expected(PLAIN) * 1024:
            problems.append("1,024 connections: an answer is missing or wrong")
    except (AssertionError, OSError) as e:
        problems.append(f"{type(e).__name__}: {e}")
    rc, err = stop(proc)
    if rc != 0:
        problems.append(f"exit code {rc}")
    if counter(err, "partial sends") < 1:
        problems.append(f"no partial send happened: {err.strip()!r}")
    if counter(err, "ENOBUFS") < 1:
        problems.append(f"the buffer ring never ran empty: {err.strip()!r}")
    results.append(("c-uring-test (4 KiB send buffers, 16 receive buffers): 20,000 pipelined unread, "
                    "1,024 connections", problems))
    print(f"     c-uring-test said: {err.strip()}")

    problems, err = emfile(c_uring)
    results.append(("EMFILE: 80 connections, 48 descriptors (c-uring)", problems))
    print(f"     c-uring (EMFILE) said: {err.strip()}")

    for name, problems in results:
        print(("FAIL " if problems else "ok   ") + name + "".join("\n       " + p for p in problems))
    failed = sum(1 for _, p in results if p)
    print(f"{len(results) - failed} of {len(results)} checks pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
