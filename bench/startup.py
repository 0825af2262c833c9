#!/usr/bin/env python3
"""One server's start-up and footprint figures, for bench/startup.sh (issue 14).

usage: startup.py NAME PORT TRIALS RAMP RATE RATE_SECONDS LOAD_CPU EDDY_LOAD -- COMMAND...

COMMAND starts the server (already pinned with taskset by the caller) on 127.0.0.1:PORT and must answer
GET /plaintext with "Hello, World!". Prints one JSON object:
  start_ms     - per trial: from exec to the first complete response (polled every 1 ms), then the server stops
  rss_idle_kib - VmRSS right after the first response (last trial)
  rss_1k_kib   - VmRSS with 1,024 keep-alive connections held, each answered once
  ramp         - per window: [seconds since the first response at the window's end, requests/s], from
                 back-to-back 1-second wrk runs (64 connections) for RAMP seconds
  ramp95_s     - end of the first window at >= 95 % of the steady rate (median of the last 10 windows)
  cpu_us_per_req - server CPU time / requests at RATE requests/s for RATE_SECONDS (eddy load http -R), after the ramp
Every wait is bounded; the server is stopped (SIGTERM, then SIGKILL) in every outcome.
"""
import json, os, re, signal, socket, statistics, subprocess, sys, time

name, port, trials, ramp, rate, rate_seconds, load_cpu, eddy_load = sys.argv[1:9]
port, trials, ramp, rate, rate_seconds = int(port), int(trials), int(ramp), int(rate), int(rate_seconds)
assert sys.argv[9] == "--"
command = sys.argv[10:]
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message):
    print(f"[startup.py {time.strftime('%H:%M:%S')}] {name}: {message}", file=sys.stderr, flush=True)


def first_response(process, deadline):
    """Polls until GET /plaintext is answered; returns the monotonic time of the answer."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited during start-up with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(REQUEST)
                got = b""
                while b"Hello, World!" not in got:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                if b"Hello, World!" in got:
                    return time.monotonic()
        except (ConnectionRefusedError, ConnectionResetError):
            pass
        time.sleep(0.001)
    sys.exit(f"{name} did not answer within 60 s")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15 of the line)


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def start():
    t0 = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, t0


result = {"server": name, "start_ms": []}
for trial in range(trials):
    process, t0 = start()
    try:
        t1 = first_response(process, t0 + 60)
        result["start_ms"].append(round((t1 - t0) * 1000, 1))
        if trial < trials - 1:
            continue
        # The last trial goes on: footprint, ramp, fixed-rate CPU.
        result["rss_idle_kib"] = rss_kib(process.pid)
        held = []
        for _ in range(1024):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(REQUEST)
            got = b""
            while b"Hello, World!" not in got:
                chunk = s.recv(4096)
                if not chunk:
                    sys.exit(f"{name} closed a held connection")
                got += chunk
            held.append(s)
        time.sleep(1)  # settle before reading memory (as bench/rss.sh)
        result["rss_1k_kib"] = rss_kib(process.pid)
        for s in held:
            s.close()
        # The ramp counts from the first response; the 1,024 connections took some of it, said in the report.
        windows = []
        end = time.monotonic() + ramp
        while time.monotonic() < end:
            out = subprocess.run(["timeout", "10", "taskset", "-c", load_cpu, "wrk", "-t1", "-c64", "-d1s",
                                  f"http://127.0.0.1:{port}/plaintext"], capture_output=True, text=True).stdout
            m = re.search(r"Requests/sec:\s+([\d.]+)", out)
            windows.append([round(time.monotonic() - t1, 2), float(m.group(1)) if m else 0.0])
        result["ramp"] = windows
        steady = statistics.median(r for _, r in windows[-10:])
        result["steady_rps"] = round(steady)
        result["ramp95_s"] = next(t for t, r in windows if r >= 0.95 * steady)
        # CPU per request at a fixed rate well below saturation: stable where saturation shares are not.
        ticks0 = cpu_ticks(process.pid)
        load = subprocess.run(["timeout", str(rate_seconds + 30), "taskset", "-c", load_cpu, eddy_load, "load", "http",
                               "--loops", "1", "-c", "64", "-R", str(rate), "-d", f"{rate_seconds}s", "-q", "--json", f"/tmp/startup-{name}-{os.getpid()}.json",
                               f"http://127.0.0.1:{port}/plaintext"], capture_output=True, text=True)
        ticks1 = cpu_ticks(process.pid)
        if load.returncode != 0:
            sys.exit(f"eddy load http failed: {load.stderr}")
        with open(f"/tmp/startup-{name}-{os.getpid()}.json") as f:
            figures = json.load(f)
        os.remove(f"/tmp/startup-{name}-{os.getpid()}.json")
        requests = figures["requests"]
        if figures["errors"] or figures["non2xx"]:
            sys.exit(f"{name}: {figures['errors']} errors, {figures['non2xx']} non-2xx answers at the fixed rate")
        result["rate"] = rate
        result["rate_requests"] = requests
        result["cpu_us_per_req"] = round((ticks1 - ticks0) / CLK_TCK * 1e6 / requests, 2) if requests else None
    finally:
        stop(process)
log(f"start {statistics.median(result['start_ms'])} ms (median of {trials}), RSS idle {result.get('rss_idle_kib')} KiB, "
    f"at 1,024 {result.get('rss_1k_kib')} KiB, 95 % of {result.get('steady_rps')} req/s after {result.get('ramp95_s')} s, "
    f"{result.get('cpu_us_per_req')} µs CPU/request at {rate}/s")
print(json.dumps(result))
