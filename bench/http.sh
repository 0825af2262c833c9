#!/usr/bin/env bash
#
# bench/http.sh - HTTP/1.1 server throughput: `eddy serve` beside ASP.NET Core (Kestrel, minimal
#                 API) and minimal C epoll and io_uring responders, TechEmpower-style plaintext and json.
#
# WHAT IT MEASURES
#   Requests/s, latency (p50, p99), server CPU time per request and peak RSS of
#   four HTTP servers on the same machine, side by side in one run:
#     eddy     - `eddy serve --port PORT --loops 1` (Eddy's HTTP server, one loop)
#     eddy-uring - the same with EDDY_IO=uring: io_uring for the loop's wait,
#                receives and sends (issue 17's backend; not in the default set)
#     kestrel  - bench/peers/KestrelMinimal: ASP.NET Core minimal API as in
#                TechEmpower's "aspnetcore minimal" entry (Server GC, TieredPGO:
#                the `dotnet new web` defaults)
#     c        - bench/peers/c-http: single-threaded C epoll responder with
#                canned responses ("the machine's limit"); "c-http" is accepted
#                as another name for it in SERVERS
#     c-uring  - bench/peers/c-uring: the same responses from a single-threaded
#                C io_uring responder (multishot accept and recv, provided
#                buffer ring, DEFER_TASKRUN; liburing-dev), the gate of issue 17
#   Every server answers GET /plaintext (200, "Hello, World!", text/plain) and
#   GET /json (200, {"message":"Hello, World!"}, application/json); the script
#   checks both with curl before measuring, and that a request with
#   "Connection: close" is answered with "Connection: close" and the connection
#   closed by the server.
#
#   Each server is pinned to one core (SERVER_CPU, default 0) and the load
#   generator, wrk with one thread, to another (LOAD_CPU, default 1):
#     taskset -c LOAD_CPU wrk -t1 -c CONNS -d DURATIONs --latency http://127.0.0.1:PORT/PATH
#   Workloads:
#     plaintext     GET /plaintext, keep-alive, 64 connections
#     pipelined     GET /plaintext, 16 requests pipelined per write
#                   (wrk -s bench/wrk/pipeline.lua -- 16), 64 connections
#     json          GET /json, keep-alive, 64 connections
#     plaintext-1k  GET /plaintext, keep-alive, 1,024 connections
#     short-lived   GET /plaintext with `Connection: close` (wrk -H), 64
#                   connections: every request is a new TCP connection, which
#                   the server closes after its response (accept, read, write,
#                   close per request)
#   SCENARIOS selects workloads by name (default: all of them).
#
#   Each .NET server is first warmed up under load for WARMUP seconds in total
#   (split evenly over the workloads) so tiered JIT/PGO has settled. Then, per
#   workload, ROUNDS rounds are run; every round runs each server once for
#   DURATION seconds, and the server order rotates from round to round so slow
#   drift (thermal, noisy neighbours) hits all servers equally. Medians are
#   reported, with the ratios eddy/c, eddy/kestrel, kestrel/c and c-uring/c;
#   with c and c-uring both in the run, the report ends with the gate of
#   issue 17 (c-uring's CPU per request <= 0.9x c's in at least two of
#   plaintext, pipelined, plaintext-1k and short-lived).
#
#   Server CPU time per request = (utime + stime from /proc/PID/stat after the
#   run - before) / requests completed: the server's real cost even when the
#   one-core load generator is the bottleneck. Peak RSS = VmHWM from
#   /proc/PID/status at the end of the script (the peak over the whole run,
#   1,024-connection workload included).
#
#   Other work: this machine is shared, so for every run the script also
#   measures how much of each pinned core went to anything but the server
#   (server core, from /proc/stat minus the server's CPU time) or wrk (load
#   core, minus wrk's CPU time). Both are ~0% on a quiet machine. A run in
#   which either reaches NOISE_LIMIT% is repeated after RETRY_PAUSE seconds, up
#   to RETRIES times, and the cleanest attempt is kept; runs that stayed noisy
#   are marked in the report.
#
#   Fixed rate (not with TLS=1): at saturation wrk, not the server, is often the limit, and CPU shares are
#   noisy. So the script ends with RATE_ROUNDS rounds (server order rotating) of each keep-alive workload of
#   RATE_SCENARIOS (of those run) at a fixed RATE requests/s over its connections, well below every server's
#   saturation:
#     taskset -c LOAD_CPU eddy load http --loops 1 -c CONNS -R RATE -d RATE_SECONDSs URL
#   and reports each server's CPU time / requests answered (median), the steadier measure of cost.
#
#   Only 127.0.0.1 is used. The ports are checked free first. Every wrk run is
#   bounded (wrk -d, plus `timeout` with a 30 s margin). All servers are killed
#   when the script exits. The open-file limit is raised (ulimit -n 65536, or
#   the hard limit if lower) before the servers start, for the 1,024-connection
#   workload.
#
# HTTPS (TLS=1)
#   The same measurement over TLS (issue 13): eddy (`eddy serve --tls-cert/--tls-key`), kestrel
#   (KestrelMinimal with KESTREL_TLS_CERT/KESTREL_TLS_KEY: ListenOptions.UseHttps) and nginx
#   (Debian's, bench/peers/nginx/nginx-tls.conf.in: one worker, `listen … ssl`), all with one
#   certificate the script makes (openssl, ECDSA P-256, CN/SAN localhost and 127.0.0.1) and wrk
#   speaking TLS (OpenSSL; it never resumes a session). Workloads:
#     keepalive     GET /plaintext over 64 kept-alive TLS connections
#     handshakes    GET /plaintext with `Connection: close`, 64 connections: every request is a
#                   new TCP connection and a full TLS handshake (handshakes/s = requests/s)
#   After the rounds, each server's memory per idle TLS connection: a Python client opens 1,000
#   connections (handshake and one request each) and holds them, the server's VmRSS is read, then
#   1,000 more, and VmRSS again: (second - first) / 1,000 is the cost of one more idle connection,
#   free of one-time costs (JIT, pools) that the first thousand may pay.
#
# HOW TO RUN
#   bench/http.sh                                   # full run, ~14 minutes (4 servers, 5 workloads)
#   TLS=1 bench/http.sh                             # HTTPS: eddy, kestrel, nginx, ~6 minutes
#   WARMUP=5 ROUNDS=1 DURATION=3 bench/http.sh      # quick smoke test
#   SERVERS="kestrel c" bench/http.sh               # subset of servers
#   SERVERS="c c-uring" SCENARIOS="plaintext pipelined plaintext-1k short-lived" \
#     bench/http.sh                                 # the io_uring gate (issue 17), ~5 minutes
#   EDDY=/path/to/eddy bench/http.sh                # use a prebuilt eddy, skip its build
#
#   Environment (defaults in brackets):
#     WARMUP [30]  ROUNDS [3]  DURATION [10]  SERVERS ["eddy kestrel c c-uring"; TLS=1: "eddy kestrel nginx"]
#     SCENARIOS [all: "plaintext pipelined json plaintext-1k short-lived"; TLS=1: "keepalive handshakes"]
#     TLS [0]  PORT_NGINX [9204]  IDLE_CONNS [1000] (TLS=1: idle connections for the memory figure)
#     SERVER_CPU [0]  LOAD_CPU [1]
#     PORT_EDDY [9201]  PORT_KESTREL [9202]  PORT_C [9203]  PORT_C_URING [9205]
#     NOISE_LIMIT [5]  RETRIES [2]  RETRY_PAUSE [10]   (see "other work" above)
#     RATE [30000]  RATE_SECONDS [10]  RATE_ROUNDS [3] (the fixed-rate pass below; 0 rounds skips it)
#     RATE_SCENARIOS ["plaintext json plaintext-1k"] (the keep-alive workloads the fixed-rate pass covers)
#     EDDY [build src/Eddy.Cli into bench/bin/eddy]
#
# OUTPUT
#   Markdown tables on stdout, also saved as bench/results/http-<date>.md, with
#   the raw wrk output and server logs in bench/results/http-<date>-raw/.
#   (bench/results/ and bench/bin/ are git-ignored.)
#
# REQUIRES
#   dotnet (SDK 10 with the ASP.NET Core shared framework), gcc, make, wrk,
#   curl, taskset, python3, and at least 2 CPUs; for c-uring liburing-dev
#   (apt-get install -y liburing-dev) and a kernel that allows io_uring
#   (bench/peers/c-uring/c-uring --probe says what is missing); for TLS=1 also
#   openssl and nginx.
#
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
TLS=${TLS:-0}
if [[ $TLS == 1 ]]; then SERVERS=${SERVERS:-"eddy kestrel nginx"}; else SERVERS=${SERVERS:-"eddy kestrel c c-uring"}; fi
SERVERS=$(for s in $SERVERS; do [[ $s == c-http ]] && echo c || echo "$s"; done | xargs)   # c-http: the name of c's folder
IDLE_CONNS=${IDLE_CONNS:-1000}
RATE=${RATE:-30000}
RATE_SECONDS=${RATE_SECONDS:-10}
RATE_ROUNDS=${RATE_ROUNDS:-3}
RATE_SCENARIOS=${RATE_SCENARIOS:-"plaintext json plaintext-1k"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT_EDDY=${PORT_EDDY:-9201}
PORT_KESTREL=${PORT_KESTREL:-9202}
PORT_C=${PORT_C:-9203}
PORT_NGINX=${PORT_NGINX:-9204}
PORT_C_URING=${PORT_C_URING:-9205}
PORT_EDDY_URING=${PORT_EDDY_URING:-9206}
NOISE_LIMIT=${NOISE_LIMIT:-5}
RETRIES=${RETRIES:-2}
RETRY_PAUSE=${RETRY_PAUSE:-10}
PIPELINE_LUA=$BENCH/wrk/pipeline.lua

# Workloads: "name path connections pipeline-depth" (depth 0: `Connection: close`, a new connection per request)
if [[ $TLS == 1 ]]; then
  WORKLOADS=(
    "keepalive /plaintext 64 1"
    "handshakes /plaintext 64 0"
  )
  SCHEME=https
else
  WORKLOADS=(
    "plaintext /plaintext 64 1"
    "pipelined /plaintext 64 16"
    "json /json 64 1"
    "plaintext-1k /plaintext 1024 1"
    "short-lived /plaintext 64 0"
  )
  SCHEME=http
fi
# RATE_SCENARIOS: keep-alive workloads (pipeline depth 1) only; -R paces one request at a time per connection.
if [[ $TLS != 1 ]]; then
  keepalive=$(printf '%s\n' "${WORKLOADS[@]}" | awk '$4 == 1 { printf "%s ", $1 }')
  for name in $RATE_SCENARIOS; do
    [[ " $keepalive" == *" $name "* ]] ||
      { echo "http.sh: '$name' in RATE_SCENARIOS is not a keep-alive workload (use: ${keepalive% })" >&2; exit 1; }
  done
fi
# SCENARIOS: only the workloads named (in the order above).
if [[ -n ${SCENARIOS:-} ]]; then
  selected=()
  for w in "${WORKLOADS[@]}"; do
    [[ " $SCENARIOS " == *" ${w%% *} "* ]] && selected+=("$w")
  done
  for name in $SCENARIOS; do
    printf '%s\n' "${WORKLOADS[@]}" | grep -q "^$name " ||
      { echo "http.sh: unknown workload '$name' in SCENARIOS (use: $(printf '%s ' "${WORKLOADS[@]%% *}"))" >&2; exit 1; }
  done
  WORKLOADS=("${selected[@]}")
fi

BIN=$BENCH/bin                        # git-ignored (bin/)
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH/results
KIND=$([[ $TLS == 1 ]] && echo https || echo http)
REPORT=$RESULTS/$KIND-$STAMP.md
RAW=$RESULTS/$KIND-$STAMP-raw
RUNS_TSV=$RAW/runs.tsv    # workload path conns depth round server rps requests p50us p99us non2xx sockerr cpu_us other% other_load% attempts
RSS_TSV=$RAW/rss.tsv      # server VmHWM_kB VmRSS_kB

SCRIPT=http.sh
# shellcheck source=bench/lib.sh
source "$BENCH/lib.sh"

# ---------------------------------------------------------------- checks ----

for s in $SERVERS; do
  case $s in eddy|eddy-uring|kestrel|c|c-uring|nginx) ;;
    *) die "unknown server '$s' in SERVERS (use eddy, eddy-uring, kestrel, c, c-uring, nginx)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
for v in WARMUP ROUNDS DURATION RATE RATE_SECONDS RATE_ROUNDS SERVER_CPU LOAD_CPU PORT_EDDY PORT_KESTREL PORT_C PORT_C_URING PORT_NGINX NOISE_LIMIT RETRIES RETRY_PAUSE IDLE_CONNS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
(( ROUNDS >= 1 && DURATION >= 1 )) || die "ROUNDS and DURATION must be >= 1"
for tool in taskset python3 make gcc dotnet wrk curl timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
[[ -f $PIPELINE_LUA ]] || die "missing $PIPELINE_LUA"
if [[ $TLS == 1 ]]; then
  command -v openssl >/dev/null || die "'openssl' not found (apt-get install -y openssl)"
fi
if [[ " $SERVERS " == *" c-uring "* ]]; then
  [[ -f /usr/include/liburing.h ]] || die "c-uring needs liburing (apt-get install -y liburing-dev), or leave it out of SERVERS"
fi
if [[ " $SERVERS " == *" nginx "* ]]; then
  command -v nginx >/dev/null || die "'nginx' not found (apt-get install -y nginx-light)"
fi
if (( $(nproc --all) < 2 )); then
  log "WARNING: fewer than 2 CPUs; server and load generator will share a core"
elif (( SERVER_CPU == LOAD_CPU )); then
  log "WARNING: SERVER_CPU == LOAD_CPU; server and load generator will share a core"
fi

# 1,024 connections need more than the usual 1,024 descriptors, in wrk and in
# the servers (which inherit the limit): raise it before anything starts.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4096 )) || die "open-file limit is $(ulimit -n); need >= 4096 for 1,024 connections"
log "open-file limit: $(ulimit -n)"

has() { [[ " $SERVERS " == *" $1 "* ]]; }

port_of() {
  case $1 in
    eddy) echo "$PORT_EDDY";; kestrel) echo "$PORT_KESTREL";; c) echo "$PORT_C";; nginx) echo "$PORT_NGINX";;
    c-uring) echo "$PORT_C_URING";; eddy-uring) echo "$PORT_EDDY_URING";;
  esac
}

# port_var SERVER: the name of the variable that sets its port (PORT_C_URING for c-uring).
port_var() { local v=${1^^}; echo "PORT_${v//-/_}"; }

# Fail early, before the builds, if a port is taken.
for s in $SERVERS; do
  port=$(port_of "$s")
  if port_in_use "$port"; then
    die "port $port (for $s) is already in use; set $(port_var "$s")=<free port>"
  fi
done

# ----------------------------------------------------------------- build ----

if has c; then
  log "building c-http"
  make -s -C "$BENCH/peers/c-http" >&2
fi
C_HTTP=$BENCH/peers/c-http/c-http

if has c-uring; then
  log "building c-uring"
  make -s -C "$BENCH/peers/c-uring" >&2
  # Multishot accept and recv, provided buffer rings, DEFER_TASKRUN: each checked by using it.
  URING_PROBE=$("$BENCH/peers/c-uring/c-uring" --probe 2>&1) ||
    { echo "$URING_PROBE" >&2; die "this kernel lacks what c-uring needs (see above); leave c-uring out of SERVERS"; }
  log "$(tail -n1 <<<"$URING_PROBE")"
fi
C_URING=$BENCH/peers/c-uring/c-uring

if has kestrel; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" \
    -o "$BIN/kestrel-minimal" >&2
fi
KESTREL=$BIN/kestrel-minimal/KestrelMinimal

if has eddy || has eddy-uring || { [[ $TLS != 1 ]] && (( RATE_ROUNDS > 0 )); }; then
  build_eddy # also the fixed-rate pass's load generator
fi

# --------------------------------------------------------------- servers ----

declare -A PID=()
LOAD_PID=
mkdir -p "$RAW"

# One certificate for every server (TLS=1): ECDSA P-256, self-signed, for localhost and 127.0.0.1.
CERT=$RAW/tls/cert.pem
KEY=$RAW/tls/key.pem
CURL_TLS=()
if [[ $TLS == 1 ]]; then
  mkdir -p "$RAW/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$KEY" -out "$CERT" 2>"$RAW/tls/openssl.log" ||
    die "openssl could not make the certificate (see $RAW/tls/openssl.log)"
  CURL_TLS=(--cacert "$CERT")
  log "certificate: $CERT (ECDSA P-256, self-signed)"
fi

cleanup() {
  local rc=$?
  trap - INT TERM
  cleanup_servers
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# check_server SERVER: GET /plaintext and /json must answer 200 with the expected bodies.
check_server() {
  local s=$1 port path want code body
  port=$(port_of "$s")
  for path in /plaintext /json; do
    case $path in
      /plaintext) want='Hello, World!';;
      /json)      want='{"message":"Hello, World!"}';;
    esac
    code=$(curl -s --max-time 5 "${CURL_TLS[@]}" -D "$RAW/headers-$s${path//\//-}.txt" -o "$RAW/body-$s${path//\//-}.txt" \
      -w '%{http_code}' "$SCHEME://127.0.0.1:$port$path") || die "$s: GET $path failed (curl exit $?)"
    body=$(cat "$RAW/body-$s${path//\//-}.txt")
    [[ $code == 200 ]] || die "$s: GET $path answered $code, expected 200"
    [[ $body == "$want" ]] || die "$s: GET $path body is '$body', expected '$want'"
  done
  log "$s answers /plaintext and /json correctly"
  check_close "$s"
}

# check_close SERVER: a request with "Connection: close" (the short-lived and handshakes workloads)
# gets its answer with "Connection: close", and then the server closes the connection (within 5 s):
# wrk opens a new connection only when the response says close, and counts an error when the
# server closes without saying so.
check_close() {
  local s=$1
  python3 - "$(port_of "$s")" "$([[ $TLS == 1 ]] && echo "$CERT")" >"$RAW/close-$s.txt" 2>&1 <<'EOF' ||
import socket, ssl, sys
port, cert = int(sys.argv[1]), sys.argv[2]
conn = socket.create_connection(("127.0.0.1", port), timeout=5)
if cert:
    conn = ssl.create_default_context(cafile=cert).wrap_socket(conn, server_hostname="localhost")
conn.sendall(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
data = b""
try:
    while chunk := conn.recv(65536):
        data += chunk
except socket.timeout:
    sys.exit(f"the server did not close within 5 s after answering: {data!r}")
except (ConnectionResetError, ssl.SSLEOFError):
    pass  # closed with a reset or without close_notify: still closed
head, _, body = data.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
print(head.decode(errors="replace"))
if not lines[0].startswith(b"HTTP/1.1 200"):
    sys.exit(f"status line {lines[0]!r}")
if not any(l.lower().replace(b" ", b"") == b"connection:close" for l in lines[1:]):
    sys.exit("no 'Connection: close' header in the response")
if body != b"Hello, World!":
    sys.exit(f"body {body!r}")
EOF
    { cat "$RAW/close-$s.txt" >&2; die "$s: a 'Connection: close' request was not answered and closed"; }
  log "$s answers 'Connection: close' with 'Connection: close' and closes"
}

start_server() {
  local s=$1 port out
  port=$(port_of "$s")
  out=$RAW/server-$s.log
  port_in_use "$port" && die "port $port (for $s) is already in use; set $(port_var "$s")=<free port>"
  local tls_args=()
  [[ $TLS == 1 ]] && tls_args=(--tls-cert "$CERT" --tls-key "$KEY")
  case $s in
    eddy)    taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 "${tls_args[@]}" >"$out" 2>&1 & ;;
    eddy-uring) EDDY_IO=uring taskset -c "$SERVER_CPU" "$EDDY" serve --port "$port" --loops 1 "${tls_args[@]}" >"$out" 2>&1 & ;;
    kestrel) if [[ $TLS == 1 ]]; then
               KESTREL_TLS_CERT=$CERT KESTREL_TLS_KEY=$KEY taskset -c "$SERVER_CPU" "$KESTREL" "$port" >"$out" 2>&1 &
             else
               taskset -c "$SERVER_CPU" "$KESTREL" "$port" >"$out" 2>&1 &
             fi ;;
    c)       taskset -c "$SERVER_CPU" "$C_HTTP" "$port" >"$out" 2>&1 & ;;
    c-uring) taskset -c "$SERVER_CPU" "$C_URING" "$port" >"$out" 2>&1 & ;;
    nginx)   mkdir -p "$RAW/nginx/tmp"
             sed -e "s|@PORT@|$port|g" -e "s|@CERT@|$CERT|g" -e "s|@KEY@|$KEY|g" \
               "$BENCH/peers/nginx/nginx-$([[ $TLS == 1 ]] && echo tls.conf.in || echo conf.in)" >"$RAW/nginx/nginx.conf"
             taskset -c "$SERVER_CPU" nginx -p "$RAW/nginx" -c "$RAW/nginx/nginx.conf" >"$out" 2>&1 & ;;
  esac
  PID[$s]=$!
  # Wait (up to 30 s) for a start-up line naming 127.0.0.1:PORT
  # (e.g. "... listening on http://127.0.0.1:PORT"); nginx prints none: wait for its port.
  for _ in $(seq 300); do
    if grep -Eq "127\.0\.0\.1:$port([^0-9]|\$)" "$out" 2>/dev/null || { [[ $s == nginx ]] && port_in_use "$port"; }; then
      log "started $s (pid ${PID[$s]}) on 127.0.0.1:$port, cpu $SERVER_CPU: $(head -n1 "$out")"
      if [[ $s == eddy-uring ]] && grep -q "io_uring is not available" "$out"; then
        die "eddy-uring fell back to epoll: $(grep "io_uring is not available" "$out")"
      fi
      check_server "$s"
      return 0
    fi
    kill -0 "${PID[$s]}" 2>/dev/null || { cat "$out" >&2; die "$s exited during start-up"; }
    sleep 0.1
  done
  cat "$out" >&2
  die "$s did not print a line with '127.0.0.1:$port' within 30 s"
}

# ------------------------------------------------------------------ load ----

# run_wrk SERVER PATH CONNS DEPTH SECONDS OUTFILE
#   -> sets RPS REQS P50 P99 NON2XX SOCKERR CPU from wrk's output and /proc, and
#      OTHER / OTHER_LOAD: the share (%) of the server's core / the load
#      generator's core that went to anything but the server / wrk during the
#      run (another process on a pinned core; ~0 on a quiet machine).
# wrk runs in the background and we `wait` for it, so that a SIGINT/SIGTERM to
# this script is handled at once rather than after the run.
RPS='' REQS='' P50='' P99='' NON2XX='' SOCKERR='' CPU='' OTHER='' OTHER_LOAD=''
# (cpu_ticks, core_ticks and children_ticks, for the CPU figures, are in lib.sh.)
run_wrk() {
  local s=$1 path=$2 conns=$3 depth=$4 secs=$5 out=$6 port rc=0 cpu0 cpu1 busy0 total0 busy1 total1
  local lbusy0 ltotal0 lbusy1 ltotal1 kids0 kids1
  port=$(port_of "$s")
  local args=(-t1 -c "$conns" -d "${secs}s" --latency)
  local tail=()
  if (( depth == 0 )); then
    args+=(-H "Connection: close")
  elif (( depth > 1 )); then
    args+=(-s "$PIPELINE_LUA")
    tail=(-- "$depth")
  fi
  children_ticks; kids0=$KIDS
  read -r busy0 total0 < <(core_ticks "$SERVER_CPU")
  read -r lbusy0 ltotal0 < <(core_ticks "$LOAD_CPU")
  cpu0=$(cpu_ticks "${PID[$s]}")
  # Hard upper bound on the run, in case wrk hangs.
  timeout --kill-after=5 $((secs + 30)) \
    taskset -c "$LOAD_CPU" wrk "${args[@]}" "$SCHEME://127.0.0.1:$port$path" "${tail[@]}" \
    >"$out" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during a wrk run (see $RAW/server-$s.log)"
  cpu1=$(cpu_ticks "${PID[$s]}")
  read -r busy1 total1 < <(core_ticks "$SERVER_CPU")
  read -r lbusy1 ltotal1 < <(core_ticks "$LOAD_CPU")
  children_ticks; kids1=$KIDS
  OTHER=$(( total1 > total0 ? (100 * (busy1 - busy0 - (cpu1 - cpu0))) / (total1 - total0) : 0 ))
  (( OTHER >= 0 )) || OTHER=0
  OTHER_LOAD=$(( ltotal1 > ltotal0 ? (100 * (lbusy1 - lbusy0 - (kids1 - kids0))) / (ltotal1 - ltotal0) : 0 ))
  (( OTHER_LOAD >= 0 )) || OTHER_LOAD=0
  if (( rc != 0 )); then
    cat "$out" >&2
    die "wrk against $s failed with exit code $rc (path=$path conns=$conns depth=$depth)"
  fi
  python3 - "$out" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" >"$out.result" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def num(pattern, default=None):
    m = re.search(pattern, text, re.M)
    if m is None:
        if default is None:
            sys.exit(f"{sys.argv[1]}: no match for {pattern!r} in wrk output")
        return default
    return m.groups()
unit_us = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}
def pct(p):
    # "     99%    1.23ms"; wrk prints 0.00us for percentiles it could not compute.
    v, u = num(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$")
    return float(v) * unit_us[u]
(reqs,) = num(r"^\s*(\d+) requests in ")
(rps,) = num(r"^Requests/sec:\s+([\d.]+)")
(non2xx,) = num(r"Non-2xx or 3xx responses: (\d+)", ("0",))
sock = num(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0", "0", "0", "0"))
reqs = int(reqs)
if reqs == 0:
    sys.exit(f"{sys.argv[1]}: wrk completed no requests")
cpu_us = int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / reqs
print(f"{float(rps):.1f} {reqs} {pct(50):.1f} {pct(99):.1f} {int(non2xx)} {sum(map(int, sock))} {cpu_us:.3f}")
EOF
  read -r RPS REQS P50 P99 NON2XX SOCKERR CPU <"$out.result"
}

# ------------------------------------------------------------------ main ----

for s in $SERVERS; do start_server "$s"; done

# Warm-up: each .NET server gets WARMUP seconds of load in total, split over
# the workloads, so that tiered JIT and PGO have settled on every code path.
if (( WARMUP > 0 )); then
  per=$(( (WARMUP + ${#WORKLOADS[@]} - 1) / ${#WORKLOADS[@]} ))
  for s in $SERVERS; do
    [[ $s == c || $s == c-uring || $s == nginx ]] && continue   # no JIT to warm
    for w in "${WORKLOADS[@]}"; do
      read -r name path conns depth <<<"$w"
      log "warm-up $s: $name ($path x $conns conns, depth $depth) for ${per}s"
      run_wrk "$s" "$path" "$conns" "$depth" "$per" "$RAW/warmup-$s-$name.txt"
      sleep 1
    done
  done
fi

# Measurement: round-robin over the servers, rotating the start each round.
read -r -a ORDER <<<"$SERVERS"
n=${#ORDER[@]}
: >"$RUNS_TSV"
for w in "${WORKLOADS[@]}"; do
  read -r name path conns depth <<<"$w"
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do
      s=${ORDER[$(( (i + r - 1) % n ))]}
      # A run during which another process took NOISE_LIMIT% or more of either
      # pinned core is repeated (up to RETRIES times); the cleanest attempt is kept.
      best='' best_noise=101 tries=0
      for ((a = 1; a <= RETRIES + 1; a++)); do
        tries=$a
        if (( a > 1 )); then
          log "re-running $name round $r on $s in ${RETRY_PAUSE}s (attempt $a of $((RETRIES + 1)))"
          sleep "$RETRY_PAUSE"
        fi
        run_wrk "$s" "$path" "$conns" "$depth" "$DURATION" "$RAW/$name-r$r-$s-a$a.txt"
        log "$name round $r/$ROUNDS $s: $RPS req/s, p50 ${P50}us, p99 ${P99}us, server CPU $CPU us/req," \
            "other work on the server/load cores $OTHER%/$OTHER_LOAD%"
        (( NON2XX == 0 && SOCKERR == 0 )) ||
          log "WARNING: $name round $r on $s: $NON2XX non-2xx responses, $SOCKERR socket errors"
        noise=$(( OTHER > OTHER_LOAD ? OTHER : OTHER_LOAD ))
        if (( noise < best_noise )); then
          best_noise=$noise
          best=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$name" "$path" \
            "$conns" "$depth" "$r" "$s" "$RPS" "$REQS" "$P50" "$P99" "$NON2XX" "$SOCKERR" "$CPU" "$OTHER" \
            "$OTHER_LOAD")
        fi
        sleep 1   # let the previous run's sockets close
        (( noise < NOISE_LIMIT )) && break
        log "WARNING: $name round $r on $s: other processes took $OTHER% of CPU $SERVER_CPU" \
            "and $OTHER_LOAD% of CPU $LOAD_CPU; this run is suspect"
      done
      printf '%s\t%s\n' "$best" "$tries" >>"$RUNS_TSV"
    done
  done
done

# Fixed rate: CPU per request at RATE requests/s, well below saturation (see "Fixed rate" above), for each
# keep-alive workload of RATE_SCENARIOS that this run has.
RATE_TSV=$RAW/rate.tsv    # workload round server cpu_us_per_request
: >"$RATE_TSV"
if [[ $TLS != 1 ]] && (( RATE_ROUNDS > 0 )); then
  for w in "${WORKLOADS[@]}"; do
    read -r name path conns depth <<<"$w"
    [[ $depth == 1 && " $RATE_SCENARIOS " == *" $name "* ]] || continue
    CONNS=$conns # rate_against's connections
    for ((r = 1; r <= RATE_ROUNDS; r++)); do
      for ((i = 0; i < n; i++)); do
        s=${ORDER[$(( (i + r - 1) % n ))]}
        rate_against "$s" "$RAW/rate-$name-r$r-$s.json" "http://127.0.0.1:$(port_of "$s")$path"
        CPU=$(per_unit "$TICKS" "$REQS" 1e6)
        log "fixed rate $name round $r/$RATE_ROUNDS $s: $CPU us of server CPU per request at $RATE/s"
        printf '%s\t%s\t%s\t%s\n' "$name" "$r" "$s" "$CPU" >>"$RATE_TSV"
        sleep 1
      done
    done
  done
fi

# Peak resident memory of each server over the whole run.
: >"$RSS_TSV"
for s in $SERVERS; do
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[$s]}/status")
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PID[$s]}/status")
  printf '%s\t%s\t%s\n' "$s" "$hwm" "$rss" >>"$RSS_TSV"
done

# Memory for idle TLS connections (TLS=1): each server's VmRSS while IDLE_CONNS, then 2 x IDLE_CONNS
# connections that completed a handshake and one request are held open (then closed).
IDLE_TSV=$RAW/idle.tsv    # server before_kB first_kB second_kB connections-per-step
: >"$IDLE_TSV"
if [[ $TLS == 1 ]] && (( IDLE_CONNS > 0 )); then
  for s in $SERVERS; do
    log "idle memory $s: holding $IDLE_CONNS TLS connections"
    timeout 120 taskset -c "$LOAD_CPU" python3 - "$s" "${PID[$s]}" "$(port_of "$s")" "$IDLE_CONNS" "$CERT" >>"$IDLE_TSV" <<'EOF' ||
import socket, ssl, sys, time
server, pid, port, count, cert = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def rss_kb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
context = ssl.create_default_context(cafile=cert)
held = []
def open_more():
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port))
        conn = context.wrap_socket(raw, server_hostname="localhost")
        conn.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while not answer.endswith(b"Hello, World!"):
            chunk = conn.recv(4096)
            if not chunk:
                sys.exit("the server closed a connection")
            answer += chunk
        held.append(conn)
    time.sleep(1)  # let the server settle after the last answer before its RSS is read
    return rss_kb()
before = rss_kb()
first = open_more()
second = open_more()
print(f"{server}\t{before}\t{first}\t{second}\t{count}")
for conn in held:
    conn.close()
EOF
      die "idle-connection memory run failed for $s"
    sleep 2
  done
fi

# ---------------------------------------------------------------- report ----

mkdir -p "$RESULTS"
{
  echo "# HTTP$([[ $TLS == 1 ]] && echo S) throughput, $(date '+%Y-%m-%d %H:%M:%S %Z')"
  echo
  echo "- commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\`$(
          [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo ' (dirty tree)')"
  echo "- machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  echo "- dotnet: $(dotnet --version); wrk: $(wrk -v 2>&1 | head -n1 | awk '{ print $2 }')"
  echo "- servers pinned to CPU $SERVER_CPU, load generator (\`wrk -t1\`) to CPU $LOAD_CPU; open-file limit $(ulimit -n)"
  echo "- warm-up ${WARMUP}s per .NET server, ${ROUNDS} rounds x ${DURATION}s per server and workload, rotating order"
  echo "- a run with ${NOISE_LIMIT}% or more of other work on a pinned core is repeated up to ${RETRIES} times (cleanest kept)"
  echo
  python3 - "$RUNS_TSV" "$RSS_TSV" "$SERVERS" "$RAW" "$NOISE_LIMIT" "$IDLE_TSV" "$RATE_TSV" "$RATE" "$RATE_SECONDS" <<'EOF'
import statistics, sys
from collections import defaultdict

tsv, rss_tsv, servers, raw, limit, idle_tsv = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], int(sys.argv[5]), sys.argv[6]
rate_tsv, rate, rate_seconds = sys.argv[7], int(sys.argv[8]), sys.argv[9]
rps = defaultdict(list)     # (workload, server) -> [req/s]
p50 = defaultdict(list)     # (workload, server) -> [us]
p99 = defaultdict(list)
cpu = defaultdict(list)     # (workload, server) -> [server CPU us per request]
non2xx = defaultdict(int)
sockerr = defaultdict(int)
other = defaultdict(list)   # (workload, server) -> [% of the server's core used by other processes]
other_load = defaultdict(list)  # the same for the load generator's core
reruns = 0
workloads = {}              # name -> (path, conns, depth), in order
for line in open(tsv):
    (name, path, conns, depth, rnd, server, r, reqs, l50, l99, n2, se, c, o, ol, att) = line.rstrip("\n").split("\t")
    workloads.setdefault(name, (path, int(conns), int(depth)))
    rps[name, server].append(float(r))
    p50[name, server].append(float(l50))
    p99[name, server].append(float(l99))
    cpu[name, server].append(float(c))
    non2xx[name, server] += int(n2)
    sockerr[name, server] += int(se)
    other[name, server].append(int(o))
    other_load[name, server].append(int(ol))
    reruns += int(att) - 1

def med(d, w, s):
    return statistics.median(d[w, s]) if d[w, s] else None

def label(w):
    path, conns, depth = workloads[w]
    pipe = f", pipelined x{depth}" if depth > 1 else ", Connection: close (a new connection each)" if depth == 0 else ""
    return f"{w}: GET {path}{pipe}, {conns:,} conns"

def ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"

def lat(us):
    if us is None or us <= 0:
        return "n/a"
    return f"{us:,.0f} µs" if us < 1000 else f"{us / 1000:,.2f} ms"

cols = [s for s in ("eddy", "eddy-uring", "kestrel", "c", "c-uring", "nginx") if s in servers]
pairs = [(a, b) for a, b in (("eddy", "c"), ("eddy-uring", "c"), ("eddy-uring", "eddy"), ("eddy", "kestrel"), ("kestrel", "c"), ("c-uring", "c"), ("eddy", "c-uring"),
                             ("eddy", "nginx"), ("kestrel", "nginx"))
         if a in servers and b in servers]

print("| server | what |")
print("|---|---|")
what = {
    "eddy": "`eddy serve --loops 1` (Eddy's HTTP server, one event loop)",
    "eddy-uring": "the same with `EDDY_IO=uring`: io_uring for the wait, receives (multishot, provided buffers), sends and accepts (`IoUringSelector`)",
    "kestrel": "`bench/peers/KestrelMinimal`: ASP.NET Core minimal API on Kestrel (Server GC, TieredPGO; the `dotnet new web` defaults)",
    "c": "`bench/peers/c-http`: single-threaded C epoll responder, canned responses (the machine's limit)",
    "c-uring": "`bench/peers/c-uring`: the same responses from a single-threaded C io_uring responder (multishot accept "
               "and recv, provided buffer ring, DEFER_TASKRUN)",
    "nginx": "Debian's nginx, one worker, `bench/peers/nginx/` config (TLS=1: `listen … ssl`, OpenSSL)",
}
for s in cols:
    print(f"| {s} | {what[s]} |")
print()
print("Median requests/s (higher is better):")
print()
print("| workload | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for w in workloads:
    print(f"| {label(w)} | " + " | ".join(
        "—" if med(rps, w, s) is None else f"{med(rps, w, s):,.0f}" for s in cols) + " |")
print()
if pairs:
    print("Ratios of the medians, requests/s (higher is better for the first server):")
    print()
    print("| workload | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")
    print("|---|" + "---:|" * len(pairs))
    for w in workloads:
        print(f"| {w} | " + " | ".join(ratio(med(rps, w, a), med(rps, w, b)) for a, b in pairs) + " |")
    print()
print("Server CPU time per request, median µs (lower is better; steady even when the one-core load generator is the limit):")
print()
print("| workload | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for w in workloads:
    print(f"| {w} | " + " | ".join(
        "—" if med(cpu, w, s) is None else f"{med(cpu, w, s):.2f}" for s in cols) + " |")
print()
if pairs:
    print("Ratios of the medians, server CPU per request (lower is better for the first server):")
    print()
    print("| workload | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")
    print("|---|" + "---:|" * len(pairs))
    for w in workloads:
        print(f"| {w} | " + " | ".join(ratio(med(cpu, w, a), med(cpu, w, b)) for a, b in pairs) + " |")
    print()
print("Latency, median of the runs' p50 / p99 (wrk; pipelined: one sample per batch of requests,")
print("and wrk prints 0 for percentiles it cannot compute there, shown as n/a):")
print()
print("| workload | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for w in workloads:
    print(f"| {w} | " + " | ".join(f"{lat(med(p50, w, s))} / {lat(med(p99, w, s))}" for s in cols) + " |")
print()
print("Errors, summed over the rounds (non-2xx responses / socket errors):")
print()
print("| workload | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
for w in workloads:
    print(f"| {w} | " + " | ".join(f"{non2xx[w, s]} / {sockerr[w, s]}" for s in cols) + " |")
print()
rss = {}
for line in open(rss_tsv):
    s, hwm, cur = line.rstrip("\n").split("\t")
    rss[s] = (int(hwm), int(cur))
print("Memory (VmHWM: peak resident set over the whole script, warm-up and 1,024 connections included):")
print()
print("| | " + " | ".join(cols) + " |")
print("|---|" + "---:|" * len(cols))
print("| peak RSS, MiB | " + " | ".join(f"{rss[s][0] / 1024:,.1f}" if s in rss else "—" for s in cols) + " |")
print("| RSS at the end, MiB | " + " | ".join(f"{rss[s][1] / 1024:,.1f}" if s in rss else "—" for s in cols) + " |")
print()
idle = [line.rstrip("\n").split("\t") for line in open(idle_tsv) if line.strip()]
if idle:
    print("Memory for idle TLS connections (VmRSS with none, N and 2N connections held, each after a handshake and one request;")
    print("per connection = (RSS at 2N - RSS at N) / N, free of one-time costs):")
    print()
    print("| server | N | RSS, none held, MiB | RSS, N held, MiB | RSS, 2N held, MiB | per idle connection, KiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for s, before, first, second, count in idle:
        before, first, second, count = int(before), int(first), int(second), int(count)
        print(f"| {s} | {count:,} | {before / 1024:,.1f} | {first / 1024:,.1f} | {second / 1024:,.1f} | {(second - first) / count:,.1f} |")
    print()
print("Response headers (Date omitted), as checked with curl before the runs:")
print()
for s in cols:
    for path in ("plaintext", "json"):
        try:
            lines = open(f"{raw}/headers-{s}-{path}.txt").read().splitlines()
        except OSError:
            continue
        heads = [l for l in lines[1:] if l and not l.lower().startswith("date:")]
        print(f"- {s} /{path}: `{lines[0]}`; " + "; ".join(f"`{h}`" for h in heads))
print()
allother = [o for v in other.values() for o in v]
allother_load = [o for v in other_load.values() for o in v]
print(f"Other work on the pinned cores during the runs (share of the core's time not spent in the server, "
      f"resp. in wrk): server core median {statistics.median(allother)}%, max {max(allother)}%; "
      f"load core median {statistics.median(allother_load)}%, max {max(allother_load)}%. "
      "Both are ~0 on a quiet machine; a run marked below shared a core with another process and is suspect. "
      f"{reruns} run(s) were repeated because of other work; the cleanest attempt is kept.")
print()
gate = [w for w in ("plaintext", "pipelined", "plaintext-1k", "short-lived") if w in workloads]
if "c" in servers and "c-uring" in servers and gate:
    below = [w for w in gate if med(cpu, w, "c-uring") is not None and med(cpu, w, "c")
             and med(cpu, w, "c-uring") / med(cpu, w, "c") <= 0.9]
    print("Gate of issue 17 (io_uring): c-uring's server CPU per request at most 0.9x c's in at least two of "
          "plaintext, pipelined, plaintext-1k and short-lived: "
          + ", ".join(f"{w} {ratio(med(cpu, w, 'c-uring'), med(cpu, w, 'c'))}" for w in gate)
          + f" -> {len(below)} of {len(gate)} at or below 0.9"
          + (" (passes)" if len(below) >= 2 else " (does not pass)" if len(gate) == 4 else
             " (not all four workloads were run)") + ".")
    print()
rate_runs = defaultdict(list)   # (workload, server) -> [µs of CPU per request at the fixed rate]
for line in open(rate_tsv):
    w, rnd, server, c = line.rstrip("\n").split("\t")
    rate_runs[w, server].append(float(c))
rate_workloads = [w for w in workloads if any((w, s) in rate_runs for s in cols)]
if rate_workloads:
    print(f"Server CPU per request at a fixed {rate:,} requests/s ({rate_seconds} s per run, `eddy load http -R` with the "
          "workload's connections, rotating order), µs:")
    print()
    print("| workload | server | runs | median |" + (" / c |" if "c" in cols else ""))
    print("|---|---|---|---:|" + ("---:|" if "c" in cols else ""))
    for w in rate_workloads:
        for s in cols:
            if (w, s) in rate_runs:
                m = statistics.median(rate_runs[w, s])
                vs_c = f" {m / statistics.median(rate_runs[w, 'c']):.2f} |" if (w, "c") in rate_runs else ""
                print(f"| {w} | {s} | {', '.join(f'{v:.2f}' for v in rate_runs[w, s])} | {m:.2f} |{vs_c}")
    print()
print("All runs (requests/s, in round order):")
print()
for w in workloads:
    for s in cols:
        vals = ", ".join(f"{v:,.0f}" + (f" (other work {o}% / {ol}%)" if o >= limit or ol >= limit else "")
                         for v, o, ol in zip(rps[w, s], other[w, s], other_load[w, s]))
        bad = f"  **{non2xx[w, s]} non-2xx, {sockerr[w, s]} socket errors**" if non2xx[w, s] or sockerr[w, s] else ""
        print(f"- {w} {s}: {vals}{bad}")
EOF
} | tee "$REPORT"

log "report saved to ${REPORT#"$ROOT"/} (raw data in ${RAW#"$ROOT"/}/)"
