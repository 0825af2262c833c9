#!/usr/bin/env bash
#
# bench/echo.sh - TCP echo throughput: Eddy's echo servers beside plain .NET sockets, C epoll,
#                 Python asyncio and uvloop.
#
# WHAT IT MEASURES
#   Closed-loop echo throughput (messages/s) of three servers on the same
#   machine, reported as per-server medians and as ratios:
#     eddy      - `eddy echo --impl async --loops 1`    (socket awaitables)
#     protocol  - `eddy echo --impl protocol --loops 1` (transports and protocols)
#     streams   - `eddy echo --impl streams --loops 1`  (AsyncStreamReader/Writer)
#     dotnet    - bench/peers/DotnetSocketEcho  (plain Socket async/await server)
#     c         - bench/peers/c-echo            (single-threaded C epoll server,
#                                                "how close to the machine limit")
#     asyncio   - bench/peers/python/echo_server.py asyncio (protocol echo)
#     uvloop    - bench/peers/python/echo_server.py uvloop  (Debian python3-uvloop)
#   Each server is pinned to one core (SERVER_CPU, default 0); the load
#   generator, `eddy load tcp`, is pinned to another (LOAD_CPU, default 1).
#   Workloads:
#     A: 1024-byte messages  x 64 connections
#     B: 65536-byte messages x 16 connections
#   Every connection repeatedly sends one message and reads the full echo back.
#
#   Each .NET server is first warmed up under load for WARMUP seconds in total
#   (split evenly over the workloads) so tiered JIT/PGO has settled. Then, per
#   workload, ROUNDS rounds are run; every round runs each server once for
#   DURATION seconds, and the server order rotates from round to round so slow
#   drift (thermal, noisy neighbours) hits all servers equally.
#
#   Only 127.0.0.1 is used. Every load run is bounded in time. All servers are
#   killed when the script exits.
#
# HOW TO RUN
#   bench/echo.sh                          # full run, ~5 minutes
#   ROUNDS=5 DURATION=20 bench/echo.sh     # longer, steadier
#   WARMUP=5 ROUNDS=1 DURATION=3 bench/echo.sh   # quick smoke test
#   SERVERS="c dotnet" bench/echo.sh       # subset of servers
#   EDDY=/path/to/eddy bench/echo.sh       # use a prebuilt eddy, skip its build
#
#   Environment (defaults in brackets):
#     WARMUP [30]  ROUNDS [3]  DURATION [10]  SERVERS ["eddy dotnet c"]
#     (all servers: "eddy protocol streams dotnet c asyncio uvloop")
#     SERVER_CPU [0]  LOAD_CPU [1]
#     PORT_EDDY [9101]  PORT_DOTNET [9102]  PORT_C [9103]  PORT_PROTOCOL [9104]
#     PORT_STREAMS [9105]  PORT_ASYNCIO [9106]  PORT_UVLOOP [9107]
#     EDDY [build src/Eddy.Cli into bench/bin/eddy]
#
# OUTPUT
#   A Markdown table on stdout, also saved as bench/results/echo-<date>.md,
#   with the raw per-run JSON in bench/results/echo-<date>-raw/.
#   (bench/results/ and bench/bin/ are git-ignored.)
#
# REQUIRES
#   dotnet (SDK 10), gcc, make, taskset, python3, and at least 2 CPUs; for the
#   asyncio/uvloop peers, Debian's /usr/bin/python3 with python3-uvloop.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-"eddy dotnet c"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_EDDY=${PORT_EDDY:-9101}
PORT_DOTNET=${PORT_DOTNET:-9102}
PORT_C=${PORT_C:-9103}
PORT_PROTOCOL=${PORT_PROTOCOL:-9104}
PORT_STREAMS=${PORT_STREAMS:-9105}
PORT_ASYNCIO=${PORT_ASYNCIO:-9106}
PORT_UVLOOP=${PORT_UVLOOP:-9107}
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}

# Workloads: "name size connections"
WORKLOADS=(
  "A 1024 64"
  "B 65536 16"
)

BIN=$BENCH/bin                        # git-ignored (bin/)
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
REPORT=$RESULTS/echo-$STAMP.md
RAW=$RESULTS/echo-$STAMP-raw
RUNS_TSV=$RAW/runs.tsv                # workload size conns round server msgs/s errors

SCRIPT=echo.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ---------------------------------------------------------------- checks ----

for s in $SERVERS; do
  case $s in eddy|protocol|streams|dotnet|c|asyncio|uvloop) ;;
    *) die "unknown server '$s' in SERVERS (use eddy, protocol, streams, dotnet, c, asyncio, uvloop)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
for v in WARMUP ROUNDS DURATION; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number of seconds/rounds (got '${!v}')"
done
(( ROUNDS >= 1 && DURATION >= 1 )) || die "ROUNDS and DURATION must be >= 1"
for tool in taskset python3 make gcc dotnet; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
if (( $(nproc --all) < 2 )); then
  log "WARNING: fewer than 2 CPUs; server and load generator will share a core"
fi

port_of() {
  case $1 in
    eddy) echo "$PORT_EDDY";; dotnet) echo "$PORT_DOTNET";; c) echo "$PORT_C";;
    protocol) echo "$PORT_PROTOCOL";; streams) echo "$PORT_STREAMS";;
    asyncio) echo "$PORT_ASYNCIO";; uvloop) echo "$PORT_UVLOOP";;
  esac
}

# ----------------------------------------------------------------- build ----

log "building c-echo"
make -s -C "$BENCH/peers/c-echo" >&2
C_ECHO=$BENCH/peers/c-echo/echo-server

log "building DotnetSocketEcho (Release)"
dotnet build -c Release --nologo -v quiet "$BENCH/peers/DotnetSocketEcho" \
  -o "$BIN/dotnet-socket-echo" >&2
DOTNET_ECHO=$BIN/dotnet-socket-echo/DotnetSocketEcho

build_eddy

# --------------------------------------------------------------- servers ----

declare -A PID=()
mkdir -p "$RAW"

cleanup() {
  local rc=$?
  trap - INT TERM
  cleanup_servers
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_server() {
  local s=$1 port out
  port=$(port_of "$s")
  out=$RAW/server-$s.log
  if port_in_use "$port"; then
    die "port $port (for $s) is already in use; set PORT_${s^^}=<free port>"
  fi
  case $s in
    eddy)   taskset -c "$SERVER_CPU" "$EDDY" echo --impl async --loops 1 --port "$port" >"$out" 2>&1 & ;;
    protocol|streams)
            taskset -c "$SERVER_CPU" "$EDDY" echo --impl "$s" --loops 1 --port "$port" >"$out" 2>&1 & ;;
    asyncio|uvloop)
            taskset -c "$SERVER_CPU" "$PEER_PYTHON" "$BENCH/peers/python/echo_server.py" "$s" "$port" >"$out" 2>&1 & ;;
    dotnet) taskset -c "$SERVER_CPU" "$DOTNET_ECHO" "$port" >"$out" 2>&1 & ;;
    c)      taskset -c "$SERVER_CPU" "$C_ECHO" "$port" >"$out" 2>&1 & ;;
  esac
  PID[$s]=$!
  # Wait (up to 30 s) for the "... listening on 127.0.0.1:PORT" line.
  for _ in $(seq 300); do
    if grep -q "listening on 127.0.0.1:$port" "$out" 2>/dev/null; then
      log "started $s (pid ${PID[$s]}) on 127.0.0.1:$port, cpu $SERVER_CPU: $(head -n1 "$out")"
      return 0
    fi
    kill -0 "${PID[$s]}" 2>/dev/null || { cat "$out" >&2; die "$s exited during start-up"; }
    sleep 0.1
  done
  cat "$out" >&2
  die "$s did not report 'listening on 127.0.0.1:$port' within 30 s"
}

# ------------------------------------------------------------------ load ----

# run_load SERVER SIZE CONNS SECONDS JSON_FILE
#   -> sets MPS (messages/s) and ERRS (error count) from the JSON result.
# The load generator runs in the background and we `wait` for it, so that a
# SIGINT/SIGTERM to this script is handled at once rather than after the run.
LOAD_PID=
MPS=
ERRS=
CPU=

# Server CPU time (cpu_ticks, from lib.sh): per message it is a steadier figure than messages/s when the
# load generator is the bottleneck.
run_load() {
  local s=$1 size=$2 conns=$3 secs=$4 json=$5 port rc=0
  port=$(port_of "$s")
  rm -f "$json"
  local cpu0 cpu1
  cpu0=$(cpu_ticks "${PID[$s]}")
  # Hard upper bound on the run, in case the load generator hangs.
  timeout --kill-after=5 $((secs + 30)) \
    taskset -c "$LOAD_CPU" "$EDDY" load tcp "127.0.0.1:$port" \
      -c "$conns" --size "$size" -d "${secs}s" --json "$json" \
    >"$json.log" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  if (( rc != 0 )); then
    cat "$json.log" >&2
    die "load run against $s failed with exit code $rc (size=$size conns=$conns)"
  fi
  kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during a load run (see $RAW/server-$s.log)"
  cpu1=$(cpu_ticks "${PID[$s]}")
  python3 - "$json" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" >"$json.result" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
mps = d.get("messagesPerSecond")
if mps is None:
    mps = d["messages"] / d["seconds"]
if not d.get("messages"):
    sys.exit(f"{sys.argv[1]}: no messages were echoed")
cpu_us = int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / d["messages"]
print(f'{float(mps):.1f} {int(d.get("errors", 0))} {cpu_us:.3f}')
EOF
  read -r MPS ERRS CPU <"$json.result"
}

# ------------------------------------------------------------------ main ----

for s in $SERVERS; do start_server "$s"; done

# Warm-up: each .NET server gets WARMUP seconds of load in total, split over
# the workloads (A first, then B), so that tiered JIT and PGO have settled.
if (( WARMUP > 0 )); then
  per=$(( (WARMUP + ${#WORKLOADS[@]} - 1) / ${#WORKLOADS[@]} ))
  for s in $SERVERS; do
    [[ $s == c || $s == asyncio || $s == uvloop ]] && continue   # no JIT to warm
    for w in "${WORKLOADS[@]}"; do
      read -r name size conns <<<"$w"
      log "warm-up $s: workload $name (${size} B x ${conns} conns) for ${per}s"
      run_load "$s" "$size" "$conns" "$per" "$RAW/warmup-$s-$name.json"
    done
  done
fi

# Measurement: round-robin over the servers, rotating the start each round.
read -r -a ORDER <<<"$SERVERS"
n=${#ORDER[@]}
: >"$RUNS_TSV"
for w in "${WORKLOADS[@]}"; do
  read -r name size conns <<<"$w"
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
      s=${ORDER[$(( (i + r - 1) % n ))]}
      run_load "$s" "$size" "$conns" "$DURATION" "$RAW/$name-r$r-$s.json"
      log "workload $name round $r/$ROUNDS $s: $MPS msg/s, $ERRS errors, server CPU $CPU us/msg"
      (( ERRS == 0 )) || log "WARNING: $ERRS errors in workload $name round $r on $s"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$conns" "$r" "$s" "$MPS" "$ERRS" "$CPU" >>"$RUNS_TSV"
      sleep 1   # let the previous run's sockets close
    done
  done
done

# ---------------------------------------------------------------- report ----

mkdir -p "$RESULTS"
{
  echo "# Echo throughput, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\`$(
          [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo ' (dirty tree)')"
  echo "- machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  echo "- dotnet: $(dotnet --version)"
  echo "- servers pinned to CPU $SERVER_CPU, load generator (\`eddy load tcp\`) to CPU $LOAD_CPU"
  echo "- warm-up ${WARMUP}s per .NET server, ${ROUNDS} rounds x ${DURATION}s per server and workload, rotating order"
  echo
  python3 - "$RUNS_TSV" "$SERVERS" <<'EOF'
import statistics, sys
from collections import defaultdict

tsv, servers = sys.argv[1], sys.argv[2].split()
runs = defaultdict(list)          # (workload, server) -> [msgs/s]
errors = defaultdict(int)         # (workload, server) -> total errors
cpus = defaultdict(list)          # (workload, server) -> [server CPU us per message]
workloads = {}                    # name -> (size, conns), in order
for line in open(tsv):
    name, size, conns, rnd, server, mps, errs, cpu = line.rstrip("\n").split("\t")
    workloads.setdefault(name, (int(size), int(conns)))
    runs[name, server].append(float(mps))
    cpus[name, server].append(float(cpu))
    errors[name, server] += int(errs)

def med(w, s):
    return statistics.median(runs[w, s]) if runs[w, s] else None

def fmt(x):
    return "—" if x is None else f"{x:,.0f}"

def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}"

cols = [s for s in ("eddy", "protocol", "streams", "dotnet", "c", "asyncio", "uvloop") if s in servers]
eddys = [s for s in ("eddy", "protocol", "streams") if s in servers]
print("Median messages/s (higher is better); MiB/s is one direction.")
print()
print("| workload | " + " | ".join(f"{s} msg/s" for s in cols) + " |")
print("|---|" + "---:|" * len(cols))
for w, (size, conns) in workloads.items():
    print(f"| {w}: {size} B x {conns} conns | " + " | ".join(fmt(med(w, s)) for s in cols) + " |")
print()
peers = [p for p in ("c", "dotnet", "asyncio", "uvloop") if p in servers]
if eddys and peers:
    print("Ratios of the medians (Eddy server / peer):")
    print()
    print("| workload | " + " | ".join(f"{e}/{p}" for e in eddys for p in peers) + " |")
    print("|---|" + "---:|" * (len(eddys) * len(peers)))
    for w in workloads:
        print(f"| {w} | " + " | ".join(ratio(med(w, e), med(w, p)) for e in eddys for p in peers) + " |")
    print()
print("Server CPU time per message, median µs (lower is better; steady even when the load generator is the limit):")
print()
print("| workload | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for w in workloads:
    print(f"| {w} | " + " | ".join(f"{statistics.median(cpus[w, s]):.2f}" if cpus[w, s] else "—" for s in cols) + " |")
print()
print("MiB/s (one direction):")
print()
for w, (size, conns) in workloads.items():
    print(f"- {w}: " + ", ".join(f"{s} {med(w, s) * size / 2**20:,.1f}" for s in cols if med(w, s) is not None))
print()
print("All runs (msg/s, in round order):")
print()
for w in workloads:
    for s in cols:
        vals = ", ".join(f"{v:,.0f}" for v in runs[w, s])
        err = f"  **{errors[w, s]} errors**" if errors[w, s] else ""
        print(f"- {w} {s}: {vals}{err}")
EOF
} | tee "$REPORT"

log "report saved to ${REPORT#"$ROOT"/} (raw data in ${RAW#"$ROOT"/}/)"
