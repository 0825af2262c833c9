#!/usr/bin/env bash
#
# bench/metrics.sh - what metrics cost: requests/s of `eddy serve` with no listener on its meters and with
#                    one (--metrics: every Eddy instrument, exported through prometheus-net).
#
# WHAT IT MEASURES
#   Two servers, started once and both pinned to SERVER_CPU (only one is under load at a time):
#     off  - eddy serve --loops 1                (instruments disabled: Enabled is false, nothing is measured)
#     on   - eddy serve --loops 1 --metrics      (every instrument enabled and recorded)
#   wrk, one thread pinned to LOAD_CPU, drives GET /plaintext over CONNS keep-alive connections:
#     taskset -c LOAD_CPU wrk -t1 -c CONNS -d DURATIONs http://127.0.0.1:PORT/plaintext
#   Both servers are warmed up first (WARMUP seconds each). Then ROUNDS rounds, each running off and on once,
#   the order alternating from round to round (off-on, on-off, ...) so drift hits both alike. Reported: every
#   run's requests/s, the medians, and on/off (the target is >= 0.97: metrics cost at most 3 %). The "on"
#   server is scraped once (/metrics) at the end, to show its request count matches what wrk sent.
#   Then the cost in CPU, which equal requests/s can hide when wrk is the limit: RATE_ROUNDS rounds (alternating
#   as above) of `eddy load http --loops 1 -c CONNS -R RATE -d RATE_SECONDS` on LOAD_CPU, a fixed rate well below
#   saturation, and each server's CPU time (utime+stime from /proc/PID/stat) / requests answered: on/off of the
#   medians (a listener's cost per request; 0 RATE_ROUNDS skips it).
#
# HOW TO RUN
#   bench/metrics.sh                                   # ~2 minutes: WARMUP 10, ROUNDS 5, DURATION 10
#   WARMUP=1 ROUNDS=2 DURATION=2 bench/metrics.sh      # correctness check only (figures meaningless)
#   EDDY=/path/to/eddy bench/metrics.sh                # a prebuilt eddy (e.g. the AOT binary)
#   Environment [defaults]: WARMUP [10] ROUNDS [5] DURATION [10] CONNS [64] SERVER_CPU [0] LOAD_CPU [1]
#                           PORT_OFF [9211] PORT_ON [9212] RATE [20000] RATE_SECONDS [20] RATE_ROUNDS [4]
#
# OUTPUT
#   A Markdown table on stdout, also saved as bench/results/metrics-<date>.md, with wrk's raw output in
#   bench/results/metrics-<date>-raw/. Only 127.0.0.1 is used; every wrk run is bounded (wrk -d, plus
#   `timeout`); the servers are stopped when the script exits.
#
# REQUIRES
#   dotnet (SDK 10), wrk, curl, taskset, python3, and 2 CPUs.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
WARMUP=${WARMUP:-10}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_OFF=${PORT_OFF:-9211}
PORT_ON=${PORT_ON:-9212}
RATE=${RATE:-20000}
RATE_SECONDS=${RATE_SECONDS:-20}
RATE_ROUNDS=${RATE_ROUNDS:-4}

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
REPORT=$RESULTS/metrics-$STAMP.md
RAW=$RESULTS/metrics-$STAMP-raw
SCRIPT=metrics.sh
declare -A PID=()
LOAD_PID=
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

check_whole_numbers WARMUP ROUNDS DURATION CONNS SERVER_CPU LOAD_CPU PORT_OFF PORT_ON RATE RATE_SECONDS RATE_ROUNDS
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 )) || die "ROUNDS, DURATION and CONNS must be >= 1"
for tool in taskset python3 dotnet wrk curl timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
warn_if_cores_shared

port_of() { case $1 in off) echo "$PORT_OFF";; on) echo "$PORT_ON";; esac; }

mkdir -p "$RAW"
stop_servers_on_exit
check_ports_free off on
build_eddy

start_server() { # start_server off|on
  local s=$1 port extra=()
  port=$(port_of "$s")
  [[ $s == on ]] && extra=(--metrics)
  taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 "${extra[@]}" >"$RAW/server-$s.log" 2>&1 &
  PID[$s]=$!
  wait_until_listening "$s" "$port" "$RAW/server-$s.log"
  curl -sf "http://127.0.0.1:$port/plaintext" | grep -q 'Hello, World!' || die "$s does not answer /plaintext"
}

run_wrk() { # run_wrk off|on SECONDS OUTFILE -> RPS
  wrk_against "$1" "$2" "$3" "http://127.0.0.1:$(port_of "$1")/plaintext"
}

for s in off on; do start_server "$s"; done
curl -sf "http://127.0.0.1:$PORT_ON/metrics" | grep -q '^# TYPE eddy_http_http_server_request_duration histogram' \
  || die "the 'on' server does not export http.server.request.duration at /metrics"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_OFF/metrics" | grep -q 404 \
  || die "the 'off' server answers /metrics: it would not be the no-listener case"

if (( WARMUP > 0 )); then
  for s in off on; do
    log "warm-up: $s, ${WARMUP}s"
    run_wrk "$s" "$WARMUP" "$RAW/warmup-$s.txt"
  done
fi

declare -A RUNS=([off]="" [on]="")
for ((r = 1; r <= ROUNDS; r++)); do
  order=(off on)
  (( r % 2 == 0 )) && order=(on off)
  for s in "${order[@]}"; do
    run_wrk "$s" "$DURATION" "$RAW/round$r-$s.txt"
    RUNS[$s]="${RUNS[$s]} $RPS"
    log "round $r/$ROUNDS, metrics $s: $RPS requests/s"
  done
done

CPU_PER_REQ=''
run_rate() { # run_rate off|on OUTFILE -> CPU_PER_REQ (µs of server CPU per request at RATE requests/s)
  rate_against "$1" "$2" "http://127.0.0.1:$(port_of "$1")/plaintext"
  CPU_PER_REQ=$(per_unit "$TICKS" "$REQS" 1e6)
}

declare -A CPU_RUNS=([off]="" [on]="")
for ((r = 1; r <= RATE_ROUNDS; r++)); do
  order=(off on)
  (( r % 2 == 0 )) && order=(on off)
  for s in "${order[@]}"; do
    run_rate "$s" "$RAW/rate$r-$s.json"
    CPU_RUNS[$s]="${CPU_RUNS[$s]} $CPU_PER_REQ"
    log "fixed rate $r/$RATE_ROUNDS, metrics $s: $CPU_PER_REQ µs CPU per request at $RATE/s"
  done
done

SCRAPE=$RAW/metrics-on.txt
curl -sf "http://127.0.0.1:$PORT_ON/metrics" >"$SCRAPE" || die "cannot scrape the 'on' server"
COUNT=$(awk '/^eddy_http_http_server_request_duration_count\{.*http_route="\/plaintext"/ { n += $2 } END { print n + 0 }' "$SCRAPE")

{
  echo "# Metrics on vs off: eddy serve --loops 1, GET /plaintext, $CONNS connections"
  echo
  report_facts
  echo "- runs: $ROUNDS rounds of ${DURATION}s each, alternating order, after ${WARMUP}s warm-up per server;" \
       "server on CPU $SERVER_CPU, wrk -t1 on CPU $LOAD_CPU"
  echo
  python3 - "${RUNS[off]}" "${RUNS[on]}" "$COUNT" <<'PY'
import statistics, sys
off, on = ([float(x) for x in a.split()] for a in sys.argv[1:3])
m_off, m_on = statistics.median(off), statistics.median(on)
print("| metrics | runs (requests/s) | median requests/s |")
print("|---|---|---:|")
print(f"| off (no listener) | {', '.join(f'{x:,.0f}' for x in off)} | {m_off:,.0f} |")
print(f"| on (--metrics) | {', '.join(f'{x:,.0f}' for x in on)} | {m_on:,.0f} |")
print(f"\non/off: {m_on / m_off:.3f} (target >= 0.970); the 'on' server's /metrics counted {int(float(sys.argv[3])):,} /plaintext requests")
PY
  if (( RATE_ROUNDS > 0 )); then
    echo
    python3 - "${CPU_RUNS[off]}" "${CPU_RUNS[on]}" "$RATE" "$RATE_SECONDS" <<'PY'
import statistics, sys
off, on = ([float(x) for x in a.split()] for a in sys.argv[1:3])
print(f"Server CPU per request at a fixed {int(sys.argv[3]):,} requests/s ({sys.argv[4]} s per run, eddy load http -R):\n")
print("| metrics | runs (µs CPU per request) | median |")
print("|---|---|---:|")
print(f"| off | {', '.join(f'{x:.2f}' for x in off)} | {statistics.median(off):.2f} |")
print(f"| on | {', '.join(f'{x:.2f}' for x in on)} | {statistics.median(on):.2f} |")
print(f"\nCPU per request on/off: {statistics.median(on) / statistics.median(off):.3f}")
PY
  fi
} | tee "$REPORT"
log "report: $REPORT"
