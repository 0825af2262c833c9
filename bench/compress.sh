#!/usr/bin/env bash
#
# bench/compress.sh - response compression beside Kestrel's (issue 16): GET /json/list (100 messages, ~3.3 KB of
#                     JSON serialized per request) with `Accept-Encoding: gzip`, both servers compressing with gzip at
#                     CompressionLevel.Fastest.
#
# WHAT IT MEASURES
#   eddy    - eddy serve --loops 1                         (app.UseResponseCompression in the demo)
#   kestrel - bench/peers/KestrelMinimal, KESTREL_COMPRESSION=1 (ASP.NET Core's UseResponseCompression, gzip provider)
#   Each pinned to SERVER_CPU; wrk -t1 -c CONNS -H 'Accept-Encoding: gzip' on LOAD_CPU. Both are warmed up first
#   (WARMUP seconds each), then ROUNDS rounds alternating the order; reported: requests/s and server CPU per request
#   (utime+stime from /proc/PID/stat over the run / requests) per run, medians, eddy/kestrel. Before measuring, each
#   server's answer is checked: Content-Encoding: gzip, and it decodes to the same JSON as the other's.
#
# HOW TO RUN
#   bench/compress.sh                                   # ~3 minutes: WARMUP 30, ROUNDS 3, DURATION 10
#   WARMUP=1 ROUNDS=1 DURATION=2 bench/compress.sh      # a check that the script works (figures meaningless)
#   Environment [defaults]: WARMUP [30] ROUNDS [3] DURATION [10] CONNS [64] SERVER_CPU [0] LOAD_CPU [1]
#                           PORT_EDDY [9241] PORT_KESTREL [9242] EDDY (a prebuilt eddy)
#
# OUTPUT
#   A Markdown table on stdout, also bench/results/compress-<date>.md, wrk's output in bench/results/compress-<date>-raw/.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_EDDY=${PORT_EDDY:-9241}
PORT_KESTREL=${PORT_KESTREL:-9242}

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
REPORT=$BENCH/results/compress-$STAMP.md
RAW=$BENCH/results/compress-$STAMP-raw
SCRIPT=compress.sh
declare -A PID=()
LOAD_PID=
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

check_whole_numbers WARMUP ROUNDS DURATION CONNS SERVER_CPU LOAD_CPU PORT_EDDY PORT_KESTREL
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 )) || die "ROUNDS, DURATION and CONNS must be >= 1"
for tool in taskset python3 dotnet wrk curl timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
warn_if_cores_shared

port_of() { case $1 in eddy) echo "$PORT_EDDY";; kestrel) echo "$PORT_KESTREL";; esac; }

mkdir -p "$RAW"
stop_servers_on_exit
check_ports_free eddy kestrel
build_eddy
log "building KestrelMinimal (Release)"
dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2

start_server() { # start_server eddy|kestrel
  local s=$1 port
  port=$(port_of "$s")
  case $s in
    eddy)    taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 >"$RAW/server-$s.log" 2>&1 & ;;
    kestrel) KESTREL_COMPRESSION=1 taskset -c "$SERVER_CPU" "$BIN/kestrel-minimal/KestrelMinimal" "$port" >"$RAW/server-$s.log" 2>&1 & ;;
  esac
  PID[$s]=$!
  wait_until_listening "$s" "$port" "$RAW/server-$s.log"
  local encoding
  encoding=$(curl -sf -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/json/list" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" { print $2 }')
  [[ $encoding == gzip ]] || die "$s does not answer /json/list with Content-Encoding: gzip (got '$encoding')"
  curl -sf --compressed "http://127.0.0.1:$port/json/list" >"$RAW/body-$s.json" || die "$s: /json/list failed"
}

CPU=''
run_wrk() { # run_wrk eddy|kestrel SECONDS OUTFILE -> RPS, CPU (µs per request)
  wrk_against "$1" "$2" "$3" "http://127.0.0.1:$(port_of "$1")/json/list" -H 'Accept-Encoding: gzip'
  CPU=$(per_unit "$TICKS" "$REQS" 1e6)
}

for s in eddy kestrel; do start_server "$s"; done
python3 - "$RAW/body-eddy.json" "$RAW/body-kestrel.json" <<'PY' || die "the two servers' /json/list differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY

if (( WARMUP > 0 )); then
  for s in eddy kestrel; do
    log "warm-up: $s, ${WARMUP}s"
    run_wrk "$s" "$WARMUP" "$RAW/warmup-$s.txt"
  done
fi

declare -A RUNS=([eddy]="" [kestrel]="") CPUS=([eddy]="" [kestrel]="")
for ((r = 1; r <= ROUNDS; r++)); do
  order=(eddy kestrel)
  (( r % 2 == 0 )) && order=(kestrel eddy)
  for s in "${order[@]}"; do
    run_wrk "$s" "$DURATION" "$RAW/round$r-$s.txt"
    RUNS[$s]="${RUNS[$s]} $RPS"
    CPUS[$s]="${CPUS[$s]} $CPU"
    log "round $r/$ROUNDS, $s: $RPS requests/s, $CPU µs CPU per request"
  done
done

{
  echo "# Response compression: GET /json/list with Accept-Encoding: gzip, $CONNS connections"
  echo
  report_facts
  echo "- runs: $ROUNDS rounds of ${DURATION}s, alternating, after ${WARMUP}s warm-up per server; server on CPU $SERVER_CPU, wrk -t1 on CPU $LOAD_CPU"
  echo
  python3 - "${RUNS[eddy]}" "${RUNS[kestrel]}" "${CPUS[eddy]}" "${CPUS[kestrel]}" <<'PY'
import statistics, sys
e, k, ec, kc = ([float(x) for x in a.split()] for a in sys.argv[1:5])
print("| server | runs (requests/s) | median requests/s | CPU µs/request (median) |")
print("|---|---|---:|---:|")
print(f"| eddy | {', '.join(f'{x:,.0f}' for x in e)} | {statistics.median(e):,.0f} | {statistics.median(ec):.2f} |")
print(f"| kestrel | {', '.join(f'{x:,.0f}' for x in k)} | {statistics.median(k):,.0f} | {statistics.median(kc):.2f} |")
print(f"\neddy/kestrel requests/s: {statistics.median(e) / statistics.median(k):.2f}× (target ≥ 1.5×); CPU per request: {statistics.median(ec) / statistics.median(kc):.2f}×")
PY
} | tee "$REPORT"
log "report: $REPORT"
