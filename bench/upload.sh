#!/usr/bin/env bash
#
# bench/upload.sh - request bodies streamed in: `eddy serve`'s POST /upload beside Kestrel doing the
#                   same, 64 connections each POSTing 1 MiB bodies (issue 11).
#
# WHAT IT MEASURES
#   Requests/s, server CPU time per request and the server's peak RSS while clients upload bodies
#   that the server reads to the end as they arrive, counts, and does not keep:
#     eddy     - `eddy serve --port PORT --loops 1` at POST /upload (answers {"bytes": N})
#     kestrel  - bench/peers/KestrelMinimal at POST /upload: reads Request.Body to its end in 64 KiB
#                reads, answers {"bytes":N} (ASP.NET Core minimal API, Server GC, TieredPGO: the
#                `dotnet new web` defaults, as in bench/http.sh)
#   The load generator is `eddy load http`, one loop, streaming the body from a mapped file:
#     taskset -c LOAD_CPU eddy load http --loops 1 -c CONNS -m POST --body @FILE -d DURATIONs URL
#   Two passes:
#     1. closed loop (each connection sends its next body once the last is answered): requests/s
#        and MiB/s of body, server CPU per request, peak RSS during the run.
#     2. fixed rate, `-R RATE` (well below either server's capacity): the same work at the same pace
#        for both, so the CPU per request is a steady figure whatever the throughput; latency p50/p99
#        counted from each request's scheduled time.
#   The body is BODY_BYTES random bytes in a file (bench/results/upload-<date>-raw/body.bin).
#
#   MULTIPART=1 (issue 16): each body is instead a multipart/form-data form holding one file of
#   BODY_BYTES random bytes (default 10 MiB, 16 connections); each server reads it part by part and
#   answers each file's size and SHA-256, hashed as it streams in and never kept:
#     eddy     - POST /anything (ReadMultipartAsync; the answer also echoes the request, httpbin-style)
#     kestrel  - POST /multipart (MultipartReader from Microsoft.AspNetCore.WebUtilities)
#   The check before measuring then expects files[0].size = BODY_BYTES and the file's SHA-256.
#
#   Server CPU per request = (utime + stime from /proc/PID/stat after the run - before) / responses:
#   the server is idle outside the load's run (its own warm-up uses a responder inside the load
#   process). Peak RSS = VmHWM from /proc/PID/status, reset before each run (writing 5 to
#   /proc/PID/clear_refs), so each run reports its own peak; the idle RSS before the first run is
#   reported beside it. Load core busy = the load generator's CPU time / wall time: near 100% means
#   the one-core load generator, not the server, set the pace of the closed-loop pass.
#
#   Pinning and order, as the other scripts: each server on SERVER_CPU (taskset), the load on
#   LOAD_CPU; each server warmed WARMUP seconds under the same upload load first (tiered JIT); then
#   ROUNDS rounds, each running every server once per pass, the order alternating from round to
#   round; medians reported. Other work on the pinned cores during each run (the share of the
#   server's core not spent in the server, of the load core not spent in the load generator) is
#   measured and a run at NOISE_LIMIT% or more is marked; interrupts and softirqs are counted apart
#   (loopback TCP does much of its receive work there, charged to no process).
#
#   Before measuring, each server is checked with curl: POST the body, expect 200 and a JSON answer
#   whose "bytes" is the body's size. An `eddy serve` without the /upload route (404) stops the
#   script with a message saying so; run SERVERS=kestrel meanwhile.
#
#   Only 127.0.0.1 is used; the ports are checked free first. Every run is bounded (-d, plus
#   `timeout` with a 30 s margin); the servers are stopped when the script exits.
#
# HOW TO RUN
#   bench/upload.sh                                      # full run, about 5 minutes (2 servers)
#   WARMUP=5 ROUNDS=1 DURATION=3 bench/upload.sh         # quick smoke test
#   SERVERS=kestrel bench/upload.sh                      # one server
#   EDDY=/path/to/eddy bench/upload.sh                   # a prebuilt eddy (serve and load), no build
#   EDDY_PATH='/upload?sha256=1' bench/upload.sh         # eddy hashing what it counts
#   MULTIPART=1 bench/upload.sh                          # a 10 MiB file in a multipart form (issue 16)
#   MULTIPART=1 WARMUP=1 ROUNDS=1 DURATION=2 bench/upload.sh   # its smoke test
#
#   Environment (defaults in brackets):
#     MULTIPART [0]; with MULTIPART=1 the defaults of CONNS, BODY_BYTES, RATE and the paths change as noted
#     WARMUP [30]  ROUNDS [3]  DURATION [10]  CONNS [64; 16]  BODY_BYTES [1048576; 10485760]  RATE [200; 20]
#       (neither server limits the body on /upload: eddy sets MaxBodySize = null, Kestrel its feature)
#     SERVERS ["eddy kestrel"]  SERVER_CPU [0]  LOAD_CPU [1]  NOISE_LIMIT [5]
#     PORT_EDDY [9501]  PORT_KESTREL [9502]  EDDY_PATH [/upload; /anything]  KESTREL_PATH [/upload; /multipart]
#     EDDY_SERVE_ARGS [""] (more arguments for `eddy serve`)
#     EDDY [build src/Eddy.Cli into bench/bin/eddy]
#
# OUTPUT
#   Markdown tables on stdout, also saved as bench/results/upload-<date>.md, with every run's JSON
#   (eddy load --json) and the server logs in bench/results/upload-<date>-raw/. (bench/results/ and
#   bench/bin/ are git-ignored.)
#
# REQUIRES
#   dotnet (SDK 10 with the ASP.NET Core shared framework), curl, taskset, timeout, python3, and at
#   least 2 CPUs.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

MULTIPART=${MULTIPART:-0}
[[ $MULTIPART == 0 || $MULTIPART == 1 ]] || { echo "upload.sh: MULTIPART must be 0 or 1, not '$MULTIPART'" >&2; exit 2; }
WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
if (( MULTIPART )); then
  CONNS=${CONNS:-16}
  BODY_BYTES=${BODY_BYTES:-10485760}
  RATE=${RATE:-20}
  EDDY_PATH=${EDDY_PATH:-/anything}
  KESTREL_PATH=${KESTREL_PATH:-/multipart}
  BOUNDARY=eddy-bench-7Hq2xK9
  CONTENT_TYPE="multipart/form-data; boundary=$BOUNDARY"
else
  CONNS=${CONNS:-64}
  BODY_BYTES=${BODY_BYTES:-1048576}
  RATE=${RATE:-200}
  CONTENT_TYPE=application/octet-stream
fi
SERVERS=${SERVERS:-"eddy kestrel"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
NOISE_LIMIT=${NOISE_LIMIT:-5}
PORT_EDDY=${PORT_EDDY:-9501}
PORT_KESTREL=${PORT_KESTREL:-9502}
EDDY_PATH=${EDDY_PATH:-/upload}
KESTREL_PATH=${KESTREL_PATH:-/upload}
EDDY_SERVE_ARGS=${EDDY_SERVE_ARGS:-}

BIN=$BENCH/bin
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
NAME=upload; (( MULTIPART )) && NAME=upload-multipart  # (a failing (( )) must not end the script under set -e)
REPORT=$RESULTS/$NAME-$STAMP.md
RAW=$RESULTS/$NAME-$STAMP-raw
RUNS_TSV=$RAW/runs.tsv   # pass round server rps responses errors non2xx p50us p99us cpu_us load_busy% peak_kB other% other_load% irq% irq_load%
IDLE_TSV=$RAW/idle.tsv   # server VmRSS_kB before the first measured run
BODY=$RAW/body.bin

SCRIPT=upload.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ---------------------------------------------------------------- checks ----

for s in $SERVERS; do
  case $s in eddy|kestrel) ;; *) die "unknown server '$s' in SERVERS (use eddy, kestrel)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
check_whole_numbers WARMUP ROUNDS DURATION CONNS BODY_BYTES RATE SERVER_CPU LOAD_CPU NOISE_LIMIT PORT_EDDY PORT_KESTREL
(( ROUNDS >= 1 && DURATION >= 1 && CONNS >= 1 && BODY_BYTES >= 1 && RATE >= 1 )) ||
  die "ROUNDS, DURATION, CONNS, BODY_BYTES and RATE must be >= 1"
[[ $EDDY_PATH == /* && $KESTREL_PATH == /* ]] || die "EDDY_PATH and KESTREL_PATH must start with /"
for tool in taskset timeout python3 dotnet curl getconf; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
warn_if_cores_shared

port_of() { case $1 in eddy) echo "$PORT_EDDY";; kestrel) echo "$PORT_KESTREL";; esac; }
url_of() { case $1 in eddy) echo "http://127.0.0.1:$PORT_EDDY$EDDY_PATH";; kestrel) echo "http://127.0.0.1:$PORT_KESTREL$KESTREL_PATH";; esac; }

# shellcheck disable=SC2086 # a list of names
check_ports_free $SERVERS

# ----------------------------------------------------------------- build ----

build_eddy   # the load generator, and the eddy server
if [[ " $SERVERS " == *" kestrel "* ]]; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2
fi
KESTREL=$BIN/kestrel-minimal/KestrelMinimal

mkdir -p "$RAW"
if (( MULTIPART )); then
  # One file field in a multipart/form-data form, as a browser or `curl -F file=@...` sends it.
  head -c "$BODY_BYTES" /dev/urandom >"$RAW/file.bin"
  FILE_SHA256=$(sha256sum "$RAW/file.bin" | cut -d' ' -f1)
  {
    printf -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\n' "$BOUNDARY"
    printf 'Content-Type: application/octet-stream\r\n\r\n'
    cat "$RAW/file.bin"
    printf -- '\r\n--%s--\r\n' "$BOUNDARY"
  } >"$BODY"
  rm "$RAW/file.bin"
else
  head -c "$BODY_BYTES" /dev/urandom >"$BODY"
fi

# --------------------------------------------------------------- servers ----

declare -A PID=()
LOAD_PID=
stop_servers_on_exit

# check_upload SERVER: POST the body once; expect 200 and {"bytes": BODY_BYTES}.
check_upload() {
  local s=$1 code answer
  code=$(curl -s --max-time 30 -o "$RAW/check-$s.txt" -w '%{http_code}' --data-binary "@$BODY" \
    -H "Content-Type: $CONTENT_TYPE" -H 'Expect:' "$(url_of "$s")") || die "$s: POST $(url_of "$s") failed (curl exit $?)"
  answer=$(head -c 300 "$RAW/check-$s.txt")
  if [[ $code == 404 ]]; then
    die "$s: POST $(url_of "$s") answered 404: this server has no upload route (eddy serve gains POST /upload" \
        "with streaming request bodies, issue 11). Run SERVERS=kestrel, or EDDY=<an eddy that has it>."
  fi
  [[ $code == 200 ]] || die "$s: POST $(url_of "$s") answered $code, expected 200: $answer"
  if (( MULTIPART )); then
    python3 - "$RAW/check-$s.txt" "$BODY_BYTES" "$FILE_SHA256" <<'EOF' || die "$s: POST $(url_of "$s") answered '$answer', expected one file of $BODY_BYTES bytes, SHA-256 $FILE_SHA256"
import json, sys
files = json.load(open(sys.argv[1])).get("files") or [{}]
sys.exit(0 if files[0].get("size") == int(sys.argv[2]) and files[0].get("sha256") == sys.argv[3] else 1)
EOF
  else
    python3 - "$RAW/check-$s.txt" "$BODY_BYTES" <<'EOF' || die "$s: POST $(url_of "$s") answered '$answer', expected {\"bytes\": $BODY_BYTES}"
import json, sys
sys.exit(0 if json.load(open(sys.argv[1])).get("bytes") == int(sys.argv[2]) else 1)
EOF
  fi
  log "$s counts a $BODY_BYTES-byte upload correctly: $answer"
}

start_server() {
  local s=$1 port out
  port=$(port_of "$s")
  out=$RAW/server-$s.log
  case $s in
    # shellcheck disable=SC2086 # EDDY_SERVE_ARGS is a list of arguments
    eddy)    taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 $EDDY_SERVE_ARGS >"$out" 2>&1 & ;;
    kestrel) taskset -c "$SERVER_CPU" "$KESTREL" "$port" >"$out" 2>&1 & ;;
  esac
  PID[$s]=$!
  wait_until_listening "$s" "$port" "$out"
  log "started $s (pid ${PID[$s]}) on 127.0.0.1:$port, cpu $SERVER_CPU"
  check_upload "$s"
}

# ------------------------------------------------------------------ runs ----

# irq_ticks CPU: the clock ticks one CPU has spent in interrupts and softirqs so far (/proc/stat columns
# irq, softirq). Loopback TCP does much of its receive work in softirqs, charged to no process: with 1 MiB
# bodies that is a real share of a core even on a quiet machine, so it is reported apart from other work.
irq_ticks() { awk -v cpu="cpu$1" '$1 == cpu { print $7 + $8 }' /proc/stat; }

# run_load SERVER SECONDS JSON [ARGS...]: one bounded `eddy load http` run of uploads against SERVER,
# pinned to LOAD_CPU, with the server's CPU time, its peak RSS (VmHWM, reset first), and what else ran on
# both pinned cores measured around it -> sets CPU_TICKS PEAK_KB LOAD_TICKS WALL OTHER OTHER_LOAD (% of
# the core: other processes) IRQ IRQ_LOAD (% of the core: interrupts and softirqs).
CPU_TICKS='' PEAK_KB='' LOAD_TICKS='' WALL='' OTHER='' OTHER_LOAD='' IRQ='' IRQ_LOAD=''
run_load() {
  local s=$1 secs=$2 json=$3 rc=0 cpu0 busy0 total0 lbusy0 ltotal0 kids0 t0 busy1 total1 lbusy1 ltotal1
  local irq0 lirq0 irq1 lirq1
  shift 3
  echo 5 >"/proc/${PID[$s]}/clear_refs" 2>/dev/null || log "WARNING: cannot reset $s's VmHWM; its peak RSS covers the script so far"
  children_ticks; kids0=$KIDS
  read -r busy0 total0 < <(core_ticks "$SERVER_CPU")
  read -r lbusy0 ltotal0 < <(core_ticks "$LOAD_CPU")
  irq0=$(irq_ticks "$SERVER_CPU"); lirq0=$(irq_ticks "$LOAD_CPU")
  cpu0=$(cpu_ticks "${PID[$s]}")
  t0=$(date +%s.%N)
  timeout --kill-after=5 $((secs + 30)) taskset -c "$LOAD_CPU" "$EDDY" load http --loops 1 -c "$CONNS" \
    -d "${secs}s" -m POST -H "Content-Type: $CONTENT_TYPE" --body "@$BODY" --json "$json" --quiet "$@" \
    "$(url_of "$s")" >"$json.log" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  WALL=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { print t1 - t0 }')
  kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during a run (see $RAW/server-$s.log)"
  CPU_TICKS=$(( $(cpu_ticks "${PID[$s]}") - cpu0 ))
  PEAK_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[$s]}/status")
  read -r busy1 total1 < <(core_ticks "$SERVER_CPU")
  read -r lbusy1 ltotal1 < <(core_ticks "$LOAD_CPU")
  irq1=$(irq_ticks "$SERVER_CPU"); lirq1=$(irq_ticks "$LOAD_CPU")
  children_ticks; LOAD_TICKS=$(( KIDS - kids0 ))
  IRQ=$(( total1 > total0 ? 100 * (irq1 - irq0) / (total1 - total0) : 0 ))
  IRQ_LOAD=$(( ltotal1 > ltotal0 ? 100 * (lirq1 - lirq0) / (ltotal1 - ltotal0) : 0 ))
  OTHER=$(( total1 > total0 ? 100 * (busy1 - busy0 - CPU_TICKS - (irq1 - irq0)) / (total1 - total0) : 0 ))
  (( OTHER >= 0 )) || OTHER=0
  OTHER_LOAD=$(( ltotal1 > ltotal0 ? 100 * (lbusy1 - lbusy0 - LOAD_TICKS - (lirq1 - lirq0)) / (ltotal1 - ltotal0) : 0 ))
  (( OTHER_LOAD >= 0 )) || OTHER_LOAD=0
  (( rc == 0 )) || { cat "$json.log" >&2; die "eddy load against $s failed with exit code $rc"; }
}

# measure PASS ROUND SERVER [ARGS...]: a measured run, appended to RUNS_TSV and logged.
measure() {
  local pass=$1 round=$2 s=$3 json row rps n errors non2xx p50 p99 cpu busy
  shift 3
  json=$RAW/$pass-r$round-$s.json
  run_load "$s" "$DURATION" "$json" "$@"
  row=$(python3 - "$json" "$CPU_TICKS" "$(getconf CLK_TCK)" "$LOAD_TICKS" "$WALL" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ticks, hz, load_ticks, wall = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
n = r["requests"]
cpu_us = ticks / hz * 1e6 / n if n else 0
print(f'{r["requestsPerSecond"]:.1f}\t{n}\t{r["errors"]}\t{r["non2xx"]}\t{r["latencyUs"]["p50"]}\t{r["latencyUs"]["p99"]}'
      f'\t{cpu_us:.1f}\t{100 * load_ticks / hz / wall:.0f}')
EOF
)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pass" "$round" "$s" "$row" "$PEAK_KB" "$OTHER" "$OTHER_LOAD" "$IRQ" "$IRQ_LOAD" >>"$RUNS_TSV"
  IFS=$'\t' read -r rps n errors non2xx p50 p99 cpu busy <<<"$row"
  log "$pass round $round/$ROUNDS $s: $rps req/s ($n responses, $errors errors, $non2xx non-2xx)," \
      "server CPU $cpu us/req, peak RSS $((PEAK_KB / 1024)) MiB, p50 ${p50}us p99 ${p99}us," \
      "load core busy $busy%, other processes on the server/load cores $OTHER%/$OTHER_LOAD%," \
      "interrupts and softirqs $IRQ%/$IRQ_LOAD%"
  (( errors == 0 && non2xx == 0 )) || log "WARNING: $pass round $round on $s: $errors errors, $non2xx non-2xx responses"
}

# ------------------------------------------------------------------ main ----

for s in $SERVERS; do start_server "$s"; done

if (( WARMUP > 0 )); then
  for s in $SERVERS; do
    log "warm-up $s: uploads of $BODY_BYTES bytes on $CONNS connections for ${WARMUP}s (tiered JIT and PGO)"
    run_load "$s" "$WARMUP" "$RAW/warmup-$s.json"
    sleep 1
  done
fi

: >"$IDLE_TSV"
for s in $SERVERS; do
  printf '%s\t%s\n' "$s" "$(awk '/^VmRSS:/ { print $2 }' "/proc/${PID[$s]}/status")" >>"$IDLE_TSV"
done

read -r -a ORDER <<<"$SERVERS"
n=${#ORDER[@]}
: >"$RUNS_TSV"
for pass in closed rate; do
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
      s=${ORDER[$(( (i + r - 1) % n ))]}   # the first server alternates from round to round
      if [[ $pass == closed ]]; then measure "$pass" "$r" "$s"; else measure "$pass" "$r" "$s" -R "$RATE"; fi
      sleep 1   # let the previous run's sockets close
    done
  done
done

# ---------------------------------------------------------------- report ----

mkdir -p "$RESULTS"
{
  echo "# Uploads$( (( MULTIPART )) && echo ", multipart/form-data"), $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  report_facts
  echo "- dotnet: $(dotnet --version)"
  echo "- servers pinned to CPU $SERVER_CPU, load generator (\`eddy load http --loops 1\`) to CPU $LOAD_CPU"
  if (( MULTIPART )); then
    echo "- $CONNS connections, each POSTing a multipart/form-data form holding one $BODY_BYTES-byte file ($(stat -c %s "$BODY")-byte bodies, a mapped file, streamed); the fixed-rate pass at $RATE req/s"
  else
    echo "- $CONNS connections, each POSTing $BODY_BYTES-byte bodies (a mapped file, streamed); the fixed-rate pass at $RATE req/s"
  fi
  echo "- warm-up ${WARMUP}s per server, ${ROUNDS} rounds x ${DURATION}s per server and pass, alternating order"
  echo
  python3 - "$RUNS_TSV" "$IDLE_TSV" "$SERVERS" "$BODY_BYTES" "$NOISE_LIMIT" "$(url_of eddy)" "$(url_of kestrel)" "$MULTIPART" <<'EOF'
import statistics, sys
from collections import defaultdict

tsv, idle_tsv, servers, body, limit = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4]), int(sys.argv[5])
urls = {"eddy": sys.argv[6], "kestrel": sys.argv[7]}
multipart = sys.argv[8] == "1"
cols = [s for s in ("eddy", "kestrel") if s in servers]
runs = defaultdict(list)   # (pass, server) -> [dict]
for line in open(tsv):
    p, rnd, s, rps, n, err, n2, p50, p99, cpu, busy, peak, o, ol, irq, irql = line.rstrip("\n").split("\t")
    runs[p, s].append(dict(rps=float(rps), n=int(n), err=int(err), n2=int(n2), p50=int(p50), p99=int(p99),
                           cpu=float(cpu), busy=int(busy), peak=int(peak), other=int(o), other_load=int(ol),
                           irq=int(irq), irq_load=int(irql)))
idle = {}
for line in open(idle_tsv):
    s, kb = line.split()
    idle[s] = int(kb)

def med(p, s, k):
    v = [r[k] for r in runs[p, s]]
    return statistics.median(v) if v else None

def lat(us):
    return "—" if us is None else (f"{us:,.0f} µs" if us < 1000 else f"{us / 1000:,.2f} ms")

def ratio(p, k):
    a, b = med(p, "eddy", k), med(p, "kestrel", k)
    return None if a is None or b is None or b == 0 else a / b

print("| server | URL | what |")
print("|---|---|---|")
what = {
    "eddy": "`eddy serve --loops 1`: POST /anything reads the form part by part (ReadMultipartAsync), hashes each file as it streams in",
    "kestrel": "`bench/peers/KestrelMinimal`: POST /multipart reads the form with MultipartReader, hashes each file as it streams in",
} if multipart else {
    "eddy": "`eddy serve --loops 1`: POST /upload reads the body as it streams in, counts it, keeps none of it",
    "kestrel": "`bench/peers/KestrelMinimal`: POST /upload reads `Request.Body` to its end (64 KiB reads), counts it",
}
for s in cols:
    print(f"| {s} | `{urls[s]}` | {what[s]} |")
print()
both = len(cols) == 2
mib = lambda v: v * body / 2**20
for p, title in (("closed", "Closed loop: as fast as each server answers"),
                 ("rate", "Fixed rate: the same pace for both")):
    print(f"### {title}")
    print()
    print("| | " + " | ".join(cols) + (" | eddy / kestrel |" if both else " |"))
    print("|---|" + "---:|" * (len(cols) + both))
    # label, key, how a median is shown, whether the eddy / kestrel ratio is shown
    rows = [
        ("requests/s", "rps", lambda v: f"{v:,.0f}", True),
        ("body MiB/s", "rps", lambda v: f"{mib(v):,.0f}", False),
        ("server CPU per request, µs", "cpu", lambda v: f"{v:,.1f}", True),
        ("server peak RSS during the run, MiB", "peak", lambda v: f"{v / 1024:,.1f}", True),
        ("latency p50", "p50", lat, False),
        ("latency p99", "p99", lat, False),
        ("load core busy, %", "busy", lambda v: f"{v:.0f}", False),
    ]
    for label, k, show, with_ratio in rows:
        vals = ["—" if med(p, s, k) is None else show(med(p, s, k)) for s in cols]
        r = ratio(p, k) if with_ratio else None
        extra = (f" | {r:.2f}" if r is not None else " | ") if both else ""
        print(f"| {label} | " + " | ".join(vals) + extra + " |")
    print()
if both and med("closed", "eddy", "rps") and med("closed", "kestrel", "rps"):
    rps, rss = ratio("closed", "rps"), ratio("closed", "peak")
    if multipart:
        met = "met" if rps >= 1.2 else "not met"
        print(f"Target of issue 16 (eddy >= 1.2x Kestrel's requests/s for a 10 MiB multipart upload, RSS bounded, closed loop): {met} "
              f"({rps:.2f}x the requests/s, {rss:.2f}x the peak RSS).")
    else:
        met = "met" if rps >= 1.2 and rss < 0.5 else "not met"
        print(f"Target of issue 11 (eddy >= 1.2x Kestrel's requests/s at under half its peak RSS, closed loop): {met} "
              f"({rps:.2f}x the requests/s, {rss:.2f}x the peak RSS).")
    print()
print("Peak RSS is VmHWM, reset before each run: the run's own peak (median over the rounds). RSS when idle,")
print("after the warm-up and before the first measured run: " +
      ", ".join(f"{s} {idle[s] / 1024:,.1f} MiB" for s in cols if s in idle) + ".")
print("CPU per request: the server's utime + stime over the run / responses. Latency in the closed loop is from")
print("each request's first byte written to its answer (the whole upload); at a fixed rate, from its scheduled time.")
print("Load core busy (the load generator's CPU time over the run's wall time, its start-up and 0.6 s warm-up included)")
print("near 100% means the one-core load generator, not the server, set the closed-loop pace. In the ratio column,")
print("higher is better for requests/s, lower for CPU per request and RSS.")
print()
print("All runs (requests/s; server CPU µs/request; peak RSS MiB; errors, non-2xx; other processes on the server / load")
print(f"cores; interrupts and softirqs on them). A run with {limit}% or more of other processes on a pinned core is marked noisy.")
print()
for p in ("closed", "rate"):
    for s in cols:
        items = []
        for r in runs[p, s]:
            flag = " **noisy**" if r["other"] >= limit or r["other_load"] >= limit else ""
            items.append(f'{r["rps"]:,.0f}; {r["cpu"]:.1f}; {r["peak"] / 1024:,.1f}; {r["err"]}, {r["n2"]}; '
                         f'{r["other"]}%/{r["other_load"]}%; {r["irq"]}%/{r["irq_load"]}%{flag}')
        print(f"- {p} {s}: " + " — ".join(items))
EOF
} | tee "$REPORT"

log "report saved to ${REPORT#"$ROOT"/} (raw data in ${RAW#"$ROOT"/}/)"
