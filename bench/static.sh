#!/usr/bin/env bash
#
# bench/static.sh - static files beside nginx and Kestrel (issue 16): GET /static/file-1m.bin, a file of SIZE_KIB
#                   (1 MiB) of random bytes, over kept-alive connections, no compression asked.
#
# WHAT IT MEASURES
#   eddy    - eddy serve --loops 1 --static DIR           (StaticFiles: sendfile(2) on plain TCP)
#   nginx   - Debian's nginx, one worker, sendfile on, tcp_nopush on (bench/peers/nginx/nginx-static.conf.in)
#   kestrel - bench/peers/KestrelMinimal PORT DIR         (ASP.NET Core's UseStaticFiles)
#   Each pinned to SERVER_CPU, the load on LOAD_CPU. Each is warmed up first (WARMUP seconds), then:
#   1. saturation: ROUNDS rounds rotating the order, wrk -t1 -c CONNS for DURATION s: requests/s (= MiB/s for
#      1 MiB) and server CPU (utime+stime from /proc/PID/stat) per MiB sent;
#   2. a fixed rate well below saturation (where CPU shares are stable): RATE_ROUNDS rounds of
#      `eddy load http --loops 1 -c CONNS -R RATE -d RATE_SECONDS`: server CPU per MiB.
#   Medians, and eddy's ratios to nginx and to Kestrel. Before measuring, each server's body is checked
#   byte for byte against the file.
#
# HOW TO RUN
#   bench/static.sh                                            # ~5 minutes
#   WARMUP=1 ROUNDS=1 DURATION=2 RATE_ROUNDS=1 RATE_SECONDS=2 bench/static.sh   # a check that the script works
#   Environment [defaults]: WARMUP [30] ROUNDS [3] DURATION [10] CONNS [16] SIZE_KIB [1024] RATE [500]
#     RATE_SECONDS [10] RATE_ROUNDS [3] SERVER_CPU [0] LOAD_CPU [1] PORT_EDDY [9251] PORT_NGINX [9252]
#     PORT_KESTREL [9253] EDDY (a prebuilt eddy)
#
# OUTPUT
#   A Markdown table on stdout, also bench/results/static-<date>.md; raw output in bench/results/static-<date>-raw/.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
SIZE_KIB=${SIZE_KIB:-1024}
RATE=${RATE:-500}
RATE_SECONDS=${RATE_SECONDS:-10}
RATE_ROUNDS=${RATE_ROUNDS:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_EDDY=${PORT_EDDY:-9251}
PORT_NGINX=${PORT_NGINX:-9252}
PORT_KESTREL=${PORT_KESTREL:-9253}

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
REPORT=$BENCH/results/static-$STAMP.md
RAW=$BENCH/results/static-$STAMP-raw
SCRIPT=static.sh
SERVERS=(eddy nginx kestrel)
declare -A PID=()
LOAD_PID=
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

check_whole_numbers WARMUP ROUNDS DURATION CONNS SIZE_KIB RATE RATE_SECONDS RATE_ROUNDS SERVER_CPU LOAD_CPU PORT_EDDY PORT_NGINX PORT_KESTREL
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 && SIZE_KIB >= 1 && RATE >= 1 && RATE_SECONDS >= 1 )) ||
  die "ROUNDS, DURATION, CONNS, SIZE_KIB, RATE and RATE_SECONDS must be >= 1"
for tool in taskset python3 dotnet wrk curl timeout nginx cmp; do
  command -v "$tool" >/dev/null || die "'$tool' not found${tool/nginx/ (apt-get install -y nginx-light)}"
done
warn_if_cores_shared

port_of() { case $1 in eddy) echo "$PORT_EDDY";; nginx) echo "$PORT_NGINX";; kestrel) echo "$PORT_KESTREL";; esac; }

FILES=$RAW/files
FILE=file-1m.bin
mkdir -p "$FILES" "$RAW/nginx/tmp"
head -c $((SIZE_KIB * 1024)) /dev/urandom >"$FILES/$FILE"
MIB=$(awk -v k="$SIZE_KIB" 'BEGIN { print k / 1024 }')
stop_servers_on_exit
check_ports_free "${SERVERS[@]}"
build_eddy
log "building KestrelMinimal (Release)"
dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2

url_of() { echo "http://127.0.0.1:$(port_of "$1")/static/$FILE"; }

start_server() { # start_server eddy|nginx|kestrel
  local s=$1 port
  port=$(port_of "$s")
  case $s in
    eddy)    taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 --static "$FILES" >"$RAW/server-$s.log" 2>&1 & ;;
    nginx)   sed -e "s|@PORT@|$port|g" -e "s|@ROOT@|$FILES|g" "$BENCH/peers/nginx/nginx-static.conf.in" >"$RAW/nginx/nginx.conf"
             taskset -c "$SERVER_CPU" nginx -p "$RAW/nginx" -c "$RAW/nginx/nginx.conf" >"$RAW/server-$s.log" 2>&1 & ;;
    kestrel) taskset -c "$SERVER_CPU" "$BIN/kestrel-minimal/KestrelMinimal" "$port" "$FILES" >"$RAW/server-$s.log" 2>&1 & ;;
  esac
  PID[$s]=$!
  wait_until_listening "$s" "$port" "$RAW/server-$s.log"
  curl -sf -o "$RAW/body-$s.bin" "$(url_of "$s")" || die "$s: GET $(url_of "$s") failed"
  cmp -s "$RAW/body-$s.bin" "$FILES/$FILE" || die "$s answered a body that is not the file"
}

CPU=''
run_wrk() { # run_wrk SERVER SECONDS OUTFILE -> RPS, CPU (ms of server CPU per MiB sent)
  wrk_against "$1" "$2" "$3" "$(url_of "$1")"
  CPU=$(per_unit "$TICKS" "$(awk -v n="$REQS" -v m="$MIB" 'BEGIN { print n * m }')" 1e3)
}

run_rate() { # run_rate SERVER OUTFILE -> CPU (ms of server CPU per MiB at RATE requests/s)
  rate_against "$1" "$2" "$(url_of "$1")"
  CPU=$(per_unit "$TICKS" "$(awk -v n="$REQS" -v m="$MIB" 'BEGIN { print n * m }')" 1e3)
}

for s in "${SERVERS[@]}"; do start_server "$s"; done
if (( WARMUP > 0 )); then
  for s in "${SERVERS[@]}"; do
    log "warm-up: $s, ${WARMUP}s"
    run_wrk "$s" "$WARMUP" "$RAW/warmup-$s.txt"
  done
fi

declare -A RUNS=() CPUS=() RATE_CPUS=()
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${SERVERS[@]:r % 3}" "${SERVERS[@]:0:r % 3}")   # rotate: each server goes first once in three rounds
  for s in "${order[@]}"; do
    run_wrk "$s" "$DURATION" "$RAW/round$r-$s.txt"
    RUNS[$s]="${RUNS[$s]:-} $RPS"
    CPUS[$s]="${CPUS[$s]:-} $CPU"
    log "round $r/$ROUNDS, $s: $RPS requests/s, $CPU ms CPU per MiB"
  done
done
for ((r = 1; r <= RATE_ROUNDS; r++)); do
  order=("${SERVERS[@]:r % 3}" "${SERVERS[@]:0:r % 3}")
  for s in "${order[@]}"; do
    run_rate "$s" "$RAW/rate$r-$s.json"
    RATE_CPUS[$s]="${RATE_CPUS[$s]:-} $CPU"
    log "fixed rate $r/$RATE_ROUNDS, $s: $CPU ms CPU per MiB at $RATE requests/s"
  done
done

{
  echo "# Static file: GET of a ${SIZE_KIB} KiB file, $CONNS kept-alive connections, no compression"
  echo
  report_facts
  echo "- saturation: $ROUNDS rounds of ${DURATION}s (wrk -t1), rotating the order, after ${WARMUP}s warm-up per server;" \
       "fixed rate: $RATE_ROUNDS rounds of ${RATE_SECONDS}s at $RATE requests/s (eddy load http); server on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
  echo
  python3 - "$MIB" "${RUNS[eddy]}" "${RUNS[nginx]}" "${RUNS[kestrel]}" "${CPUS[eddy]}" "${CPUS[nginx]}" "${CPUS[kestrel]}" \
    "${RATE_CPUS[eddy]:-}" "${RATE_CPUS[nginx]:-}" "${RATE_CPUS[kestrel]:-}" <<'PY'
import statistics, sys
mib = float(sys.argv[1])
runs, cpus, rate = ([[float(x) for x in a.split()] for a in sys.argv[i:i + 3]] for i in (2, 5, 8))
names = ["eddy", "nginx", "kestrel"]
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("| server | runs (requests/s) | median requests/s | MiB/s | CPU ms/MiB at saturation | CPU ms/MiB at a fixed rate |")
print("|---|---|---:|---:|---:|---:|")
for n, r, c, f in zip(names, runs, cpus, rate):
    print(f"| {n} | {', '.join(f'{x:,.0f}' for x in r)} | {med(r):,.0f} | {med(r) * mib:,.0f} | {med(c):.3f} | {med(f):.3f} |")
e, g, k = (med(r) for r in runs)
ef, gf, kf = (med(f) for f in rate)
print(f"\neddy/nginx requests/s: {e / g:.2f}× (target ≥ 0.9×); eddy/kestrel: {e / k:.2f}× (target ≥ 2×)")
print(f"CPU per MiB at the fixed rate: eddy/nginx {ef / gf:.2f}×, eddy/kestrel {ef / kf:.2f}×")
PY
} | tee "$REPORT"
log "report: $REPORT"
