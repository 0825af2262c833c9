#!/usr/bin/env bash
# RSS of an HTTP server holding N idle keep-alive connections (issue 14 §4). Memory figures, unlike speed
# figures, can be taken on a busy machine. Bounded: the client gives up after 60 s, the server is killed at the end.
#
# Run it: bench/rss.sh [N] -- COMMAND…   COMMAND serves HTTP and prints "listening on http://HOST:PORT" first
#   bench/rss.sh 1024 -- src/Eddy.Cli/bin/Release/net10.0/eddy serve --port 0            (JIT)
#   bench/rss.sh 1024 -- /tmp/eddy-aot/eddy serve --port 0                              (Native AOT)
#   DOTNET_GCgen0size=0x4000000 bench/rss.sh 1024 -- …                                  (a runtime knob to compare)
# Prints VmRSS and VmHWM after start, and after N connections have each had one answer and sit idle.
set -euo pipefail
n=${1:-1024}
shift
[ "${1:-}" = "--" ] && shift
out=$(mktemp)
"$@" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
port=""
for _ in $(seq 1 300); do # up to 30 s for the banner
  port=$(grep -oE 'listening on https?://[^ ]*:[0-9]+' "$out" | grep -oE '[0-9]+$' | head -1 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$out" >&2; echo "no 'listening on' line" >&2; exit 1; }
ulimit -n $((n + 256)) 2>/dev/null || true
mem() { awk -v what="$1" '/^VmRSS|^VmHWM/ { printf "%s %s=%d KiB ", what, $1, $2 } END { print "" }' "/proc/$pid/status"; }
mem "started:"
python3 - "$port" "$n" "$pid" <<'PY'
import socket, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 60
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"Hello, World!" not in got:
        chunk = s.recv(4096)
        if not chunk or time.monotonic() > deadline:
            sys.exit("no answer")
        got += chunk
    conns.append(s)
time.sleep(1)  # let the server settle (timers, idle buffers released) before reading its memory
status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
print(f"{n} idle connections: VmRSS={status['VmRSS'].split()[0]} KiB VmHWM={status['VmHWM'].split()[0]} KiB")
for s in conns:
    s.close()
PY
