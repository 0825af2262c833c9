#!/usr/bin/env bash
# Start-up and footprint, eddy (JIT and Native AOT) beside the C responder and Kestrel (issue 14, "What must be
# shown"): start to first response, RSS idle and at 1,024 keep-alive connections, time to 95 % of the steady
# requests/s, and server CPU per request at a fixed rate well below saturation.
#
# Method, per server (each pinned to SERVER_CPU, the load to LOAD_CPU): TRIALS starts, each from exec to the first
# complete GET /plaintext (polled every millisecond), median reported; the last start goes on: VmRSS right after the
# first response, then with 1,024 connections held (each answered once, 1 s to settle); then RAMP seconds of
# back-to-back 1-second `wrk -t1 -c64` runs (the steady rate is the median of the last 10 windows; the ramp time is
# the end of the first window at >= 95 % of it, counted from the first response, so it includes the ~1-2 s the
# 1,024 connections took); then `eddy load http -R RATE` for RATE_SECONDS, server CPU (utime+stime, /proc) / requests.
# No warm-up: start-up is what is measured. bench/startup.py does one server; this script builds, runs and reports.
#
# Run it:
#   bench/startup.sh                                   # ~6 minutes: 4 servers
#   SERVERS="c eddy-aot" TRIALS=3 RAMP=12 RATE_SECONDS=5 bench/startup.sh    # a quick check of the script
# Settings (environment): SERVERS ["c eddy eddy-aot kestrel"]  TRIALS [5]  RAMP [40]  RATE [20000]
#   RATE_SECONDS [20]  SERVER_CPU [0]  LOAD_CPU [1]  PORT [9231]  EDDY (a prebuilt JIT eddy)  EDDY_AOT (a prebuilt AOT eddy)
# Needs: wrk, taskset, python3, make, gcc, dotnet (the AOT build needs clang or gcc and zlib1g-dev as the SDK says).
# Output: a Markdown table on stdout, saved with the raw JSON in bench/results/startup-<date>.md / -raw/.
set -euo pipefail

SCRIPT=startup.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BIN=$BENCH/bin
SERVERS=${SERVERS:-"c eddy eddy-aot kestrel"}
TRIALS=${TRIALS:-5}
RAMP=${RAMP:-40}
RATE=${RATE:-20000}
RATE_SECONDS=${RATE_SECONDS:-20}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-9231}
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=$BENCH/results/startup-$STAMP-raw
REPORT=$BENCH/results/startup-$STAMP.md
# shellcheck source=lib.sh
source "$BENCH/lib.sh"
check_whole_numbers TRIALS RAMP RATE RATE_SECONDS SERVER_CPU LOAD_CPU PORT
(( RAMP >= 12 )) || die "RAMP must be at least 12 seconds (the steady rate is the median of the last 10 windows)"
for tool in wrk taskset python3 make gcc dotnet; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
port_in_use "$PORT" && die "port $PORT is in use; set PORT=<free port>"
mkdir -p "$RAW"
declare -A PID=()
LOAD_PID=
trap cleanup_servers EXIT

has() { [[ " $SERVERS " == *" $1 "* ]]; }
has c && { log "building c-http"; make -s -C "$BENCH/peers/c-http" >&2; }
if has kestrel; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2
fi
build_eddy   # the JIT build, also the fixed-rate load generator
if has eddy-aot; then
  if [[ -z ${EDDY_AOT:-} ]]; then
    log "publishing eddy with Native AOT"
    dotnet publish -c Release --nologo -v quiet -r linux-x64 -p:PublishAot=true "$ROOT/src/Eddy.Cli" -o "$BIN/eddy-aot" >&2
    EDDY_AOT=$BIN/eddy-aot/eddy
  fi
  [[ -x $EDDY_AOT ]] || die "no AOT eddy at $EDDY_AOT"
fi

command_of() {
  case $1 in
    c)        echo "$BENCH/peers/c-http/c-http $PORT" ;;
    eddy)     echo "$EDDY serve --port $PORT --loops 1" ;;
    eddy-aot) echo "$EDDY_AOT serve --port $PORT --loops 1" ;;
    kestrel)  echo "$BIN/kestrel-minimal/KestrelMinimal $PORT" ;;
    *)        die "unknown server '$1' (c, eddy, eddy-aot, kestrel)" ;;
  esac
}

for s in $SERVERS; do
  log "$s: $TRIALS starts, footprint, ${RAMP} s ramp, ${RATE_SECONDS} s at $RATE req/s"
  # shellcheck disable=SC2046 # the command is split into words on purpose
  timeout $((TRIALS * 70 + RAMP + RATE_SECONDS + 120)) python3 "$BENCH/startup.py" "$s" "$PORT" "$TRIALS" "$RAMP" "$RATE" \
    "$RATE_SECONDS" "$LOAD_CPU" "$EDDY" -- taskset -c "$SERVER_CPU" $(command_of "$s") >"$RAW/$s.json"
done

python3 - "$RAW" "$SERVERS" "$(git -C "$ROOT" rev-parse --short HEAD)" "$RATE" <<'PY' | tee "$REPORT"
import json, statistics, sys
raw, servers, commit, rate = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
rows = {s: json.load(open(f"{raw}/{s}.json")) for s in servers}
print(f"# Start-up and footprint (commit `{commit}`)\n")
print(f"| server | start to first response (median) | RSS idle | RSS at 1,024 connections | 95 % of steady after | steady req/s | CPU µs/request at {rate}/s |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s, r in rows.items():
    print(f"| {s} | {statistics.median(r['start_ms']):.1f} ms | {r['rss_idle_kib'] / 1024:.1f} MiB | {r['rss_1k_kib'] / 1024:.1f} MiB | "
          f"{r['ramp95_s']:.1f} s | {r['steady_rps']:,} | {r['cpu_us_per_req']:.2f} |")
print()
for s, r in rows.items():
    print(f"- {s}: starts (ms) {', '.join(str(x) for x in r['start_ms'])}; ramp windows (s: req/s) "
          + ", ".join(f"{t:.0f}: {v:,.0f}" for t, v in r["ramp"][:8]) + " …")
if "c" in rows:
    c = rows["c"]
    for s in ("eddy", "eddy-aot"):
        if s in rows:
            print(f"- {s}/c start: {statistics.median(rows[s]['start_ms']) / statistics.median(c['start_ms']):.2f}×")
if "eddy" in rows and "eddy-aot" in rows:
    print(f"- eddy-aot/eddy CPU per request: {rows['eddy-aot']['cpu_us_per_req'] / rows['eddy']['cpu_us_per_req']:.2f}×")
PY
log "report: $REPORT (raw: $RAW)"
