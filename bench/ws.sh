#!/usr/bin/env bash
#
# bench/ws.sh - WebSocket echo throughput and memory per idle connection: `eddy serve`'s /ws/echo
#               beside ASP.NET Core (Kestrel, UseWebSockets) and Node.js `ws` (issue 15).
#
# WHAT IT MEASURES
#   Echo messages/s, latency (p50, p99) and server CPU time per message of three servers:
#     eddy     - `eddy serve --port PORT --loops 1`, path /ws/echo
#     kestrel  - bench/peers/KestrelMinimal, path /ws: UseWebSockets and the ASP.NET Core docs'
#                ReceiveAsync/SendAsync echo loop (Server GC, TieredPGO: the defaults)
#     node     - bench/peers/node-ws/echo.js: Node.js with Debian's node-ws (/usr/share/nodejs/ws)
#   Load: `eddy load ws` (Eddy's own client), closed loop, binary messages, 64 connections:
#     small     32-byte messages
#     small-p8  32-byte messages, 8 in flight per connection (--pipeline 8): at 32 bytes the one-core
#               load generator is the limit with one in flight, so this shows what the servers can do
#     large     16 KiB messages
#   The server is pinned to SERVER_CPU (default 0), the load generator to LOAD_CPU (default 1).
#   The .NET servers are first warmed up under load for WARMUP seconds (split over the workloads).
#   Then, per workload, ROUNDS rounds; each round runs every server once for DURATION seconds, the
#   order rotating from round to round (A/B alternation), and the medians are reported with the
#   ratios eddy/kestrel and eddy/node. Server CPU per message = (utime + stime from
#   /proc/PID/stat after - before) / messages echoed.
#
#   Cross-check: once, for the small workload against eddy, the same echo measured by a second,
#   independent load tool (bench/peers/node-ws/load.js, Node's ws client), for DURATION seconds;
#   the report shows both figures side by side (the two tools differ, so expect the same order of
#   magnitude rather than the same number).
#
#   Idle memory: for eddy and kestrel, IDLE_CONNS (10,000) WebSocket connections are opened
#   (`eddy load ws --idle`) and held; the server's VmRSS is read before (after the warm-up) and
#   while they are held: (held - before) / IDLE_CONNS is the memory per idle connection.
#
#   Only 127.0.0.1. Ports are checked free first. Every load run is bounded (its own -d plus
#   `timeout` with a margin). All servers are stopped when the script exits. The open-file limit is
#   raised (ulimit -n 65536, or the hard limit) for the idle connections.
#
# HOW TO RUN
#   bench/ws.sh                                   # full run, ~8 minutes
#   DURATION=2 WARMUP=1 ROUNDS=1 IDLE_CONNS=200 bench/ws.sh   # quick check of the script
#   SERVERS="eddy node" bench/ws.sh               # a subset
#   EDDY=/path/to/eddy bench/ws.sh                # a prebuilt eddy
#
#   Environment (defaults in brackets):
#     WARMUP [30]  ROUNDS [3]  DURATION [10]  SERVERS ["eddy kestrel node"]  IDLE_CONNS [10000]
#     CONNS [64]  SERVER_CPU [0]  LOAD_CPU [1]  PORT_EDDY [9211]  PORT_KESTREL [9212]  PORT_NODE [9213]
#     NODE_WS [/usr/share/nodejs/ws]  EDDY [build src/Eddy.Cli into bench/bin/eddy]
#
# OUTPUT
#   Markdown tables on stdout, also saved as bench/results/ws-<date>.md, with the raw JSON of every
#   run and the server logs in bench/results/ws-<date>-raw/.
#
# REQUIRES
#   dotnet (SDK 10 with the ASP.NET Core shared framework), node with node-ws
#   (apt-get install -y node-ws), taskset, timeout, python3, and at least 2 CPUs.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-"eddy kestrel node"}
IDLE_CONNS=${IDLE_CONNS:-10000}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_EDDY=${PORT_EDDY:-9211}
PORT_KESTREL=${PORT_KESTREL:-9212}
PORT_NODE=${PORT_NODE:-9213}
export NODE_WS=${NODE_WS:-/usr/share/nodejs/ws}

# Workloads: "name size pipeline"
WORKLOADS=("small 32 1" "small-p8 32 8" "large 16384 1")

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
REPORT=$RESULTS/ws-$STAMP.md
RAW=$RESULTS/ws-$STAMP-raw
RUNS_TSV=$RAW/runs.tsv    # workload round server msgs_per_s messages p50us p99us errors cpu_us_per_msg

SCRIPT=ws.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ---------------------------------------------------------------- checks ----

for s in $SERVERS; do
  case $s in eddy|kestrel|node) ;; *) die "unknown server '$s' in SERVERS (use eddy, kestrel, node)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
check_whole_numbers WARMUP ROUNDS DURATION IDLE_CONNS CONNS SERVER_CPU LOAD_CPU PORT_EDDY PORT_KESTREL PORT_NODE
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 )) || die "ROUNDS, DURATION and CONNS must be >= 1"
for tool in taskset python3 dotnet timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
has() { [[ " $SERVERS " == *" $1 "* ]]; }
if has node || has eddy; then   # eddy: the cross-check's load client is node's
  command -v node >/dev/null || die "'node' not found (apt-get install -y nodejs)"
  [[ -f $NODE_WS/index.js ]] || die "node-ws not found at $NODE_WS (apt-get install -y node-ws)"
fi
warn_if_cores_shared
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= IDLE_CONNS + 1024 )) || die "open-file limit is $(ulimit -n); need >= $((IDLE_CONNS + 1024)) for IDLE_CONNS=$IDLE_CONNS"
log "open-file limit: $(ulimit -n)"

port_of() {
  case $1 in eddy) echo "$PORT_EDDY";; kestrel) echo "$PORT_KESTREL";; node) echo "$PORT_NODE";; esac
}
path_of() {
  case $1 in eddy) echo /ws/echo;; kestrel) echo /ws;; node) echo /;; esac
}
url_of() { echo "ws://127.0.0.1:$(port_of "$1")$(path_of "$1")"; }

# shellcheck disable=SC2086
check_ports_free $SERVERS

# ----------------------------------------------------------------- build ----

build_eddy
if has kestrel; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2
fi
KESTREL=$BIN/kestrel-minimal/KestrelMinimal

# --------------------------------------------------------------- servers ----

declare -A PID=()
LOAD_PID=
mkdir -p "$RAW"
printf 'workload\tround\tserver\tmsgs_per_s\tmessages\tp50us\tp99us\terrors\tcpu_us_per_msg\n' >"$RUNS_TSV"
stop_servers_on_exit

start_server() {
  local s=$1 port out
  port=$(port_of "$s")
  out=$RAW/server-$s.log
  case $s in
    eddy)    taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 >"$out" 2>&1 & ;;
    kestrel) taskset -c "$SERVER_CPU" "$KESTREL" "$port" >"$out" 2>&1 & ;;
    node)    taskset -c "$SERVER_CPU" node "$BENCH/peers/node-ws/echo.js" "$port" >"$out" 2>&1 & ;;
  esac
  PID[$s]=$!
  wait_until_listening "$s" "$port" "$out"
  # A correct echo first: 100 messages of each size, no error.
  local size
  for size in 32 16384; do
    timeout 30 taskset -c "$LOAD_CPU" "$EDDY" load ws "$(url_of "$s")" -c 2 --size "$size" -n 100 -d 10s -q \
      --json "$RAW/check-$s-$size.json" >&2 || die "$s: the echo check with $size-byte messages failed"
  done
  log "started $s (pid ${PID[$s]}) on 127.0.0.1:$port, cpu $SERVER_CPU; its echo checks out"
}

# json_field FILE EXPR: a figure from a JSON report (python3: EXPR over `r`).
json_field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

# run_load SERVER SIZE PIPELINE SECONDS JSON: one closed-loop run of `eddy load ws`, bounded; sets CPU_US (server CPU per message, µs).
CPU_US=''
run_load() {
  local s=$1 size=$2 pipe=$3 secs=$4 json=$5 cpu0 cpu1 rc=0 messages
  cpu0=$(cpu_ticks "${PID[$s]}")
  timeout --kill-after=5 $((secs + 30)) taskset -c "$LOAD_CPU" "$EDDY" load ws "$(url_of "$s")" \
    -c "$CONNS" --size "$size" --pipeline "$pipe" -d "${secs}s" --loops 1 -q --json "$json" &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  cpu1=$(cpu_ticks "${PID[$s]}")
  (( rc == 0 )) || die "$s: eddy load ws exited with $rc (see $json)"
  messages=$(json_field "$json" 'r["messages"]')
  CPU_US=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$messages" 'BEGIN { printf "%.2f", (n > 0 ? t / hz * 1e6 / n : 0) }')
}

for s in $SERVERS; do start_server "$s"; done

# ---------------------------------------------------------------- warm-up ----

for s in $SERVERS; do
  [[ $s == node ]] && continue   # no JIT tiers to settle
  per=$(( WARMUP / ${#WORKLOADS[@]} )); (( per >= 1 )) || per=1
  for w in "${WORKLOADS[@]}"; do
    read -r name size pipe <<<"$w"
    log "warming $s: $name for ${per}s"
    run_load "$s" "$size" "$pipe" "$per" "$RAW/warmup-$s-$name.json"
  done
done

# ------------------------------------------------------------------ rounds ----

read -r -a order <<<"$SERVERS"
for w in "${WORKLOADS[@]}"; do
  read -r name size pipe <<<"$w"
  for round in $(seq "$ROUNDS"); do
    for i in "${!order[@]}"; do
      s=${order[$(( (i + round - 1) % ${#order[@]} ))]}   # rotate the order every round
      json=$RAW/$name-$round-$s.json
      run_load "$s" "$size" "$pipe" "$DURATION" "$json"
      read -r mps messages p50 p99 errors < <(json_field "$json" \
        '"%.0f %d %d %d %d" % (r["messagesPerSecond"], r["messages"], r["latencyUs"]["p50"], r["latencyUs"]["p99"], r["errors"])')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$s" "$mps" "$messages" "$p50" "$p99" "$errors" "$CPU_US" >>"$RUNS_TSV"
      log "$name round $round $s: $mps msg/s, p50 ${p50} µs, p99 ${p99} µs, $errors errors, $CPU_US µs CPU/msg"
    done
  done
done

# ------------------------------------------------------------ cross-check ----

CROSS=''
if has eddy; then
  log "cross-check: node-ws load client against eddy, 32-byte messages, ${DURATION}s"
  timeout --kill-after=5 $((DURATION + 30)) taskset -c "$LOAD_CPU" node "$BENCH/peers/node-ws/load.js" \
    "$(url_of eddy)" "$CONNS" 32 "$DURATION" >"$RAW/cross-node-load.json" &
  LOAD_PID=$!
  wait "$LOAD_PID" || die "the node-ws load client failed (see $RAW/cross-node-load.json)"
  LOAD_PID=
  CROSS=$(json_field "$RAW/cross-node-load.json" '"%.0f msg/s, %d errors" % (r["messagesPerSecond"], r["errors"])')
fi

# ------------------------------------------------------------- idle memory ----

declare -A IDLE_KB=()
for s in $SERVERS; do
  [[ $s == node ]] && continue
  before=$(awk '/^VmRSS/ { print $2 }' "/proc/${PID[$s]}/status")
  hold=$(( 30 + IDLE_CONNS / 500 ))   # long enough to open them all and read the memory
  out=$RAW/idle-$s.txt
  timeout --kill-after=5 $((hold + 60)) taskset -c "$LOAD_CPU" "$EDDY" load ws "$(url_of "$s")" \
    -c "$IDLE_CONNS" --idle -d "${hold}s" --timeout 30s >"$out" 2>&1 &
  LOAD_PID=$!
  for _ in $(seq $((hold * 10))); do
    grep -q '^connected' "$out" 2>/dev/null && break
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sleep 0.1
  done
  opened=$(awk '/^connected/ { gsub(",", "", $2); print $2 }' "$out")
  [[ -n $opened ]] || die "$s: the idle connections did not open (see $out)"
  held=$(awk '/^VmRSS/ { print $2 }' "/proc/${PID[$s]}/status")
  kill -TERM "$LOAD_PID" 2>/dev/null || true   # timeout forwards it: eddy load ws closes them and exits
  wait "$LOAD_PID" 2>/dev/null || true
  LOAD_PID=
  (( opened == IDLE_CONNS )) || log "WARNING: $s: only $opened of $IDLE_CONNS idle connections opened"
  IDLE_KB[$s]=$(awk -v a="$before" -v b="$held" -v n="$opened" 'BEGIN { printf "%.2f", (n > 0 ? (b - a) / n : 0) }')
  log "$s: VmRSS $before kB -> $held kB with $opened idle connections: ${IDLE_KB[$s]} kB each"
done

# ------------------------------------------------------------------ report ----

{
  echo "# WebSocket echo: eddy, kestrel, node-ws ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  report_facts
  echo "- load: eddy load ws, $CONNS connections, binary messages, closed loop, ${DURATION} s per run, $ROUNDS round(s), warm-up ${WARMUP} s; server on cpu $SERVER_CPU, load on cpu $LOAD_CPU"
  echo
  echo "| workload | server | msg/s (median) | p50 µs | p99 µs | CPU µs/msg | errors |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  python3 - "$RUNS_TSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for w in dict.fromkeys(r["workload"] for r in rows):
    for s in dict.fromkeys(r["server"] for r in rows):
        rs = [r for r in rows if r["workload"] == w and r["server"] == s]
        if not rs:
            continue
        m = lambda k: statistics.median(float(r[k]) for r in rs)
        med[(w, s)] = m("msgs_per_s")
        print(f"| {w} | {s} | {m('msgs_per_s'):,.0f} | {m('p50us'):,.0f} | {m('p99us'):,.0f} | {m('cpu_us_per_msg'):.2f} | {sum(int(r['errors']) for r in rs)} |")
print()
for w in dict.fromkeys(r["workload"] for r in rows):
    for peer in ("kestrel", "node"):
        if (w, "eddy") in med and (w, peer) in med and med[(w, peer)] > 0:
            print(f"- {w}: eddy/{peer} = {med[(w, 'eddy')] / med[(w, peer)]:.2f}×")
PY
  echo
  [[ -n $CROSS ]] && echo "- cross-check (small, eddy, node-ws load client): $CROSS"
  for s in "${!IDLE_KB[@]}"; do
    echo "- idle: $s, $IDLE_CONNS connections: ${IDLE_KB[$s]} kB of RSS per connection"
  done
} | tee "$REPORT"
log "report: $REPORT (raw: $RAW)"
