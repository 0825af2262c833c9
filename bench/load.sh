#!/usr/bin/env bash
#
# bench/load.sh - the load generators side by side: `eddy load http` beside wrk (Debian), against the
#                 same servers, with the same connections and the same core pinning.
#
# WHAT IT MEASURES
#   1. Throughput (closed loop): requests/s of each load generator against each server, as fast as
#      the server answers, and the ratio eddy load / wrk:
#        wrk   - taskset -c LOAD_CPU wrk -t1 -c CONNS -d DURATIONs --latency URL
#        eddy  - taskset -c LOAD_CPU eddy load http --loops 1 -c CONNS -d DURATIONs URL
#      Both use one thread on one core. ROUNDS rounds; within a round each server gets both tools,
#      and the order (wrk first / eddy first) alternates from round to round, so drift on this shared
#      machine hits both equally. Medians are reported.
#   2. Latency at a fixed rate: `eddy load http -R RATE` (wrk2's method: latency from each request's
#      scheduled send time, which corrects for coordinated omission) — p50/p99 corrected and
#      uncorrected (from each actual write, as a tool without the correction measures). Debian's wrk
#      has no -R (that is wrk2, not packaged), so wrk's own figures are closed-loop: its p50/p99 from
#      the throughput runs are listed beside them, and BENCHMARKS.md explains the difference.
#
#   3. A stalled server: nginx is stopped (SIGSTOP) for STALL_MS in the middle of a DURATION run,
#      once under wrk, once under `eddy load http` (closed loop), once under `eddy load http -R RATE`.
#      The closed-loop tools stop sending while the server stalls, so only the requests already in
#      flight (one per connection) see the stall; at a constant rate every request scheduled during it
#      waits, and the corrected percentiles show it (coordinated omission, measured).
#
#   The servers, each pinned to SERVER_CPU, answer GET /plaintext with a fixed 13-byte body:
#     nginx - Debian's nginx, one process (bench/peers/nginx/nginx.conf.in: worker_processes 1,
#             no master, `return 200 "Hello, World!"`)
#     eddy  - `eddy serve --loops 1`, warmed up under load for WARMUP seconds first (tiered JIT)
#
#   Only 127.0.0.1 is used; the ports are checked free first. Every run is bounded (-d, plus
#   `timeout` with a 30 s margin). The servers are killed when the script exits.
#
# HOW TO RUN
#   bench/load.sh                                 # full run, about 5 minutes
#   WARMUP=5 ROUNDS=1 DURATION=3 bench/load.sh    # quick smoke test
#   SERVERS=nginx bench/load.sh                   # one server
#   EDDY=/path/to/eddy bench/load.sh              # use a prebuilt eddy, skip its build
#
#   Environment (defaults in brackets):
#     WARMUP [30]  ROUNDS [3]  DURATION [10]  CONNS [64]  RATE [10000]  SERVERS ["nginx eddy"]
#     STALL_MS [500] (0: skip part 3; part 3 needs nginx in SERVERS)
#     SERVER_CPU [0]  LOAD_CPU [1]  PORT_NGINX [9401]  PORT_EDDY [9402]
#     EDDY [build src/Eddy.Cli into bench/bin/eddy]
#
# OUTPUT
#   Markdown tables on stdout, also saved as bench/results/load-<date>.md, with every run's raw
#   output (wrk text, eddy JSON) in bench/results/load-<date>-raw/. (bench/results/ and bench/bin/
#   are git-ignored.)
#
# REQUIRES
#   dotnet (SDK 10), nginx, wrk, curl, taskset, timeout, python3, and at least 2 CPUs.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
RATE=${RATE:-10000}
SERVERS=${SERVERS:-"nginx eddy"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_NGINX=${PORT_NGINX:-9401}
PORT_EDDY=${PORT_EDDY:-9402}
STALL_MS=${STALL_MS:-500}

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
REPORT=$RESULTS/load-$STAMP.md
RAW=$RESULTS/load-$STAMP-raw
RUNS_TSV=$RAW/runs.tsv    # kind server tool round rps p50us p99us errors [uncorrected_p50us uncorrected_p99us]
STALL_TSV=$RAW/stall.tsv  # tool rps p50us p99us p999us maxus (p999 empty for wrk, which does not print it)

SCRIPT=load.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ---------------------------------------------------------------- checks ----

for s in $SERVERS; do
  case $s in nginx|eddy) ;; *) die "unknown server '$s' in SERVERS (use nginx, eddy)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
for v in WARMUP ROUNDS DURATION CONNS RATE SERVER_CPU LOAD_CPU PORT_NGINX PORT_EDDY STALL_MS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 && RATE >= 1 )) || die "ROUNDS, DURATION, CONNS and RATE must be >= 1"
for tool in taskset timeout python3 dotnet nginx wrk curl pgrep getconf; do
  command -v "$tool" >/dev/null || die "'$tool' not found (Debian: apt-get install nginx wrk curl util-linux coreutils python3)"
done
if (( $(nproc --all) < 2 )); then
  log "WARNING: fewer than 2 CPUs; servers and load generators will share a core"
elif (( SERVER_CPU == LOAD_CPU )); then
  log "WARNING: SERVER_CPU == LOAD_CPU; servers and load generators will share a core"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

port_of() { case $1 in nginx) echo "$PORT_NGINX";; eddy) echo "$PORT_EDDY";; esac; }

for s in $SERVERS; do
  port=$(port_of "$s")
  port_in_use "$port" && die "port $port (for $s) is already in use; set PORT_${s^^}=<free port>"
done

# ----------------------------------------------------------------- build ----

build_eddy

# --------------------------------------------------------------- servers ----

declare -A PID=()
LOAD_PID=
mkdir -p "$RAW"

cleanup() {
  local rc=$?
  trap - INT TERM
  [[ -n ${STALL_PID:-} ]] && { kill "$STALL_PID" 2>/dev/null || true; }
  cleanup_servers
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_server() {
  local s=$1 port out body
  port=$(port_of "$s")
  out=$RAW/server-$s.log
  case $s in
    nginx)
      mkdir -p "$RAW/nginx/tmp"
      sed "s/@PORT@/$port/" "$BENCH/peers/nginx/nginx.conf.in" >"$RAW/nginx/nginx.conf"
      taskset -c "$SERVER_CPU" nginx -p "$RAW/nginx/" -c "$RAW/nginx/nginx.conf" >"$out" 2>&1 &
      ;;
    eddy)
      taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 >"$out" 2>&1 &
      ;;
  esac
  PID[$s]=$!
  for _ in $(seq 300); do
    if port_in_use "$port"; then
      body=$(curl -s --max-time 5 "http://127.0.0.1:$port/plaintext") || die "$s: GET /plaintext failed"
      [[ $body == 'Hello, World!' ]] || die "$s: GET /plaintext answered '$body', expected 'Hello, World!'"
      log "started $s (pid ${PID[$s]}) on 127.0.0.1:$port, cpu $SERVER_CPU"
      return 0
    fi
    kill -0 "${PID[$s]}" 2>/dev/null || { cat "$out" >&2; die "$s exited during start-up"; }
    sleep 0.1
  done
  cat "$out" >&2
  die "$s did not listen on 127.0.0.1:$port within 30 s"
}

# ------------------------------------------------------------------ runs ----

# bounded CMD...: runs CMD pinned to LOAD_CPU in the background with a hard time limit, and waits
# (so that SIGINT to this script is handled at once).
# When CPU_OUT is set (and DURATION >= 6), also samples the tool's CPU time from 3 s into the run to
# 2 s before its end, into CPU_OUT: "ticks_before ticks_after seconds_before seconds_after".
bounded() {
  local rc=0 sampler=
  timeout --kill-after=5 $((DURATION + 30)) taskset -c "$LOAD_CPU" "$@" &
  LOAD_PID=$!
  if [[ -n ${CPU_OUT:-} ]] && (( DURATION >= 6 )); then
    sample_cpu "$LOAD_PID" "$CPU_OUT" &
    sampler=$!
  fi
  wait "$LOAD_PID" || rc=$?
  if [[ -n $sampler ]]; then wait "$sampler" 2>/dev/null || true; fi
  LOAD_PID=
  return "$rc"
}

# sample_cpu TIMEOUT_PID OUT: the tool is the child of `timeout` (taskset execs into it). Its CPU time
# (utime + stime, /proc/PID/stat fields 14 and 15) over the middle of the run excludes start-up and
# eddy load's warm-up, so "CPU per request" is the steady-state cost of each tool.
sample_cpu() {
  local tool c0 c1 t0 t1
  sleep 1
  tool=$(pgrep -P "$1" | head -n1) || return 0
  [[ -n $tool ]] || return 0
  sleep 2
  c0=$(awk '{ print $14 + $15 }' "/proc/$tool/stat" 2>/dev/null) || return 0
  t0=$(date +%s.%N)
  sleep $((DURATION - 5))
  c1=$(awk '{ print $14 + $15 }' "/proc/$tool/stat" 2>/dev/null) || return 0
  t1=$(date +%s.%N)
  echo "$c0 $c1 $t0 $t1" >"$2"
}

# cpu_per_request CPU_FILE RPS -> microseconds of the tool's CPU time per request (or "" without a sample)
cpu_per_request() {
  [[ -s $1 ]] || { echo ""; return; }
  awk -v rps="$2" -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($2 - $1) / hz * 1e6 / (rps * ($4 - $3)) }' "$1"
}

# run_wrk SERVER OUT -> "rps p50us p99us errors"
run_wrk() {
  local port
  port=$(port_of "$1")
  bounded wrk -t1 -c "$CONNS" -d "${DURATION}s" --latency "http://127.0.0.1:$port/plaintext" >"$2" 2>&1 \
    || { cat "$2" >&2; die "wrk against $1 failed"; }
  python3 - "$2" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
unit_us = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}
def pct(p):
    v, u = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
    return float(v) * unit_us[u]
rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M).group(1))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx.group(1)) if non2xx else 0)
print(f"{rps:.1f} {pct(50):.1f} {pct(99):.1f} {errors}")
EOF
}

# run_eddy SERVER OUT [-R RATE] -> "rps p50us p99us errors [uncorrected_p50us uncorrected_p99us]"
run_eddy() {
  local s=$1 out=$2 port
  shift 2
  port=$(port_of "$s")
  bounded "$EDDY" load http --loops 1 -c "$CONNS" -d "${DURATION}s" --json "$out" --quiet "$@" \
    "http://127.0.0.1:$port/plaintext" >"$out.log" 2>&1 || { cat "$out.log" >&2; die "eddy load against $s failed"; }
  python3 - "$out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
errors = r["errors"] + r["non2xx"]
line = f'{r["requestsPerSecond"]:.1f} {r["latencyUs"]["p50"]} {r["latencyUs"]["p99"]} {errors}'
if r.get("uncorrectedLatencyUs"):
    line += f' {r["uncorrectedLatencyUs"]["p50"]} {r["uncorrectedLatencyUs"]["p99"]}'
print(line)
EOF
}

# ------------------------------------------------------------------ main ----

for s in $SERVERS; do start_server "$s"; done

if [[ " $SERVERS " == *" eddy "* ]] && (( WARMUP > 0 )); then
  log "warm-up: eddy serve under wrk for ${WARMUP}s (tiered JIT and PGO)"
  bounded wrk -t1 -c "$CONNS" -d "${WARMUP}s" "http://127.0.0.1:$PORT_EDDY/plaintext" >"$RAW/warmup.txt" 2>&1 \
    || die "warm-up failed"
fi

: >"$RUNS_TSV"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in $SERVERS; do
    if (( r % 2 == 1 )); then tools="wrk eddy"; else tools="eddy wrk"; fi
    for t in $tools; do
      CPU_OUT=$RAW/throughput-$s-$t-r$r.cpu
      if [[ $t == wrk ]]; then
        read -r rps p50 p99 errors < <(run_wrk "$s" "$RAW/throughput-$s-$t-r$r.txt")
      else
        read -r rps p50 p99 errors < <(run_eddy "$s" "$RAW/throughput-$s-$t-r$r.json")
      fi
      cpu=$(cpu_per_request "$CPU_OUT" "$rps")
      CPU_OUT=
      log "round $r/$ROUNDS $s, $t: $rps req/s, p50 ${p50}us, p99 ${p99}us, $errors errors, ${cpu:-?} us CPU/request"
      printf 'throughput\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$r" "$rps" "$p50" "$p99" "$errors" "${cpu:-nan}" >>"$RUNS_TSV"
      sleep 1 # let the previous run's sockets close
    done
  done
done

for s in $SERVERS; do
  read -r rps p50 p99 errors up50 up99 < <(run_eddy "$s" "$RAW/rate-$s.json" -R "$RATE")
  log "fixed rate $RATE req/s, $s: $rps req/s, p50 ${p50}us, p99 ${p99}us (uncorrected ${up50}us / ${up99}us), $errors errors"
  printf 'rate\t%s\teddy\t1\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$rps" "$p50" "$p99" "$errors" "$up50" "$up99" >>"$RUNS_TSV"
  sleep 1
done

# stall_after SERVER SECONDS: in the background, stop the server for STALL_MS after SECONDS, then continue it.
STALL_PID=
stall_after() {
  local pid=${PID[$1]}
  ( sleep "$2"; kill -STOP "$pid"; sleep "$(awk -v ms="$STALL_MS" 'BEGIN { print ms / 1000 }')"; kill -CONT "$pid" ) &
  STALL_PID=$!
}

if (( STALL_MS > 0 )) && [[ " $SERVERS " == *" nginx "* ]]; then
  : >"$STALL_TSV"
  half=$(( DURATION / 2 ))
  for t in wrk eddy eddy-rate; do
    stall_after nginx "$half"
    out=$RAW/stall-$t
    case $t in
      wrk) run_wrk nginx "$out.txt" >/dev/null ;;
      eddy) run_eddy nginx "$out.json" >/dev/null ;;
      eddy-rate) run_eddy nginx "$out.json" -R "$RATE" >/dev/null ;;
    esac
    wait "$STALL_PID" || true
    STALL_PID=
    python3 - "$t" "$out" >>"$STALL_TSV" <<'EOF'
import json, re, sys
tool, out = sys.argv[1], sys.argv[2]
if tool == "wrk":
    text = open(out + ".txt").read()
    unit_us = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}
    def us(v, u): return float(v) * unit_us[u]
    def pct(p): return us(*re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups())
    m = re.search(r"^\s+Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m)", text, re.M)
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M).group(1))
    print(f"wrk\t{rps:.1f}\t{pct(50):.0f}\t{pct(99):.0f}\t\t{us(*m.groups()):.0f}")
else:
    r = json.load(open(out + ".json"))
    rows = [("", r["latencyUs"])]
    if r.get("uncorrectedLatencyUs"):
        rows = [(" corrected", r["latencyUs"]), (" uncorrected", r["uncorrectedLatencyUs"])]
    for label, l in rows:
        print(f"{tool}{label}\t{r['requestsPerSecond']:.1f}\t{l['p50']}\t{l['p99']}\t{l['p999']}\t{l['max']}")
EOF
    log "stall run ($t): $(tail -n1 "$STALL_TSV" | tr '\t' ' ')"
    sleep 1
  done
fi

# ---------------------------------------------------------------- report ----

mkdir -p "$RESULTS"
{
  echo "# eddy load http beside wrk, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\`$(
          [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo ' (dirty tree)')"
  echo "- machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- dotnet $(dotnet --version); $(wrk -v 2>&1 | head -n1 | awk '{ print "wrk", $2 }'); $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "- servers on CPU $SERVER_CPU, load generators on CPU $LOAD_CPU (one thread each); $CONNS connections, GET /plaintext"
  echo "- ${ROUNDS} rounds x ${DURATION}s per tool and server, tool order alternating; eddy serve warmed ${WARMUP}s"
  echo
  STALL_MS=$STALL_MS python3 - "$RUNS_TSV" "$SERVERS" "$RATE" <<'EOF'
import statistics, sys
from collections import defaultdict
tsv, servers, rate = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
runs = defaultdict(list)   # (kind, server, tool) -> [(rps, p50, p99, errors, up50, up99)]
for line in open(tsv):
    f = line.rstrip("\n").split("\t")
    kind, server, tool = f[0], f[1], f[2]
    vals = [float(x) for x in f[4:]]
    runs[kind, server, tool].append(vals)
def med(kind, s, t, i):
    v = [r[i] for r in runs[kind, s, t]]
    return statistics.median(v) if v else None
def lat(us):
    return "—" if us is None else (f"{us:,.0f} µs" if us < 1000 else f"{us / 1000:,.2f} ms")
print("Throughput, closed loop (median requests/s; higher is better):")
print()
print("| server | wrk -t1 | eddy load --loops 1 | eddy / wrk | runs (wrk; eddy) |")
print("|---|---:|---:|---:|---|")
for s in servers:
    w, e = med("throughput", s, "wrk", 0), med("throughput", s, "eddy", 0)
    ratio = f"**{e / w:.2f}**" if w and e else "—"
    wr = ", ".join(f"{r[0]:,.0f}" for r in runs["throughput", s, "wrk"])
    er = ", ".join(f"{r[0]:,.0f}" for r in runs["throughput", s, "eddy"])
    print(f"| {s} | {w:,.0f} | {e:,.0f} | {ratio} | {wr}; {er} |")
print()
import math
def cpu(s, t):
    v = [r[4] for r in runs["throughput", s, t] if len(r) > 4 and not math.isnan(r[4])]
    return statistics.median(v) if v else None
if any(cpu(s, t) is not None for s in servers for t in ("wrk", "eddy")):
    print("Load generator CPU time per request, median µs (its own CPU from /proc/PID/stat over the middle of")
    print("each run, start-up and warm-up excluded; lower is better; the cost that limits a tool on its one core):")
    print()
    print("| server | wrk -t1 | eddy load --loops 1 | eddy / wrk |")
    print("|---|---:|---:|---:|")
    for s in servers:
        w, e = cpu(s, "wrk"), cpu(s, "eddy")
        f = lambda v: "—" if v is None else f"{v:.2f}"
        print(f"| {s} | {f(w)} | {f(e)} | {'—' if not w or e is None else f'{e / w:.2f}'} |")
    print()
print("Latency in those closed-loop runs (median of the runs' p50 / p99):")
print()
print("| server | wrk | eddy load |")
print("|---|---:|---:|")
for s in servers:
    print(f"| {s} | {lat(med('throughput', s, 'wrk', 1))} / {lat(med('throughput', s, 'wrk', 2))} "
          f"| {lat(med('throughput', s, 'eddy', 1))} / {lat(med('throughput', s, 'eddy', 2))} |")
print()
print(f"Fixed rate, `eddy load http -R {rate}` (p50 / p99; corrected = from each request's scheduled time, as wrk2 reports;")
print("uncorrected = from each actual write):")
print()
print("| server | achieved req/s | corrected p50 / p99 | uncorrected p50 / p99 |")
print("|---|---:|---:|---:|")
for s in servers:
    r = runs["rate", s, "eddy"]
    if r:
        rps, p50, p99, err, up50, up99 = r[0]
        print(f"| {s} | {rps:,.0f} | {lat(p50)} / {lat(p99)} | {lat(up50)} / {lat(up99)} |")
print()
errors = {k: sum(r[3] for r in v) for k, v in runs.items()}
bad = {k: v for k, v in errors.items() if v}
import os
stall = os.path.join(os.path.dirname(tsv), "stall.tsv")
if os.path.exists(stall) and os.path.getsize(stall):
    print(f"nginx stopped (SIGSTOP) for {os.environ.get('STALL_MS', '500')} ms in the middle of the run:")
    print()
    print("| load generator | requests/s | p50 | p99 | p99.9 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    names = {"wrk": "wrk -t1 (closed loop)", "eddy": "eddy load (closed loop)",
             "eddy-rate corrected": f"eddy load -R {rate}, corrected (as wrk2)",
             "eddy-rate uncorrected": f"eddy load -R {rate}, uncorrected"}
    for line in open(stall):
        tool, rps, p50, p99, p999, mx = line.rstrip("\n").split("\t")
        f = lambda v: "n/a" if v == "" else lat(float(v))
        print(f"| {names.get(tool, tool)} | {float(rps):,.0f} | {f(p50)} | {f(p99)} | {f(p999)} | {f(mx)} |")
    print()
print("Errors (socket errors + non-2xx): " + ("none." if not bad else ", ".join(f"{k[1]} {k[2]} {k[0]}: {int(v)}" for k, v in bad.items())))
EOF
} | tee "$REPORT"

log "report saved to ${REPORT#"$ROOT"/} (raw data in ${RAW#"$ROOT"/}/)"
