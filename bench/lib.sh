# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run).
#
# The sourcing script sets, before sourcing: SCRIPT (its name, for log lines), ROOT (the repository),
# BIN (where to build eddy), RAW (its folder of raw output; children_ticks writes a scratch file there);
# and uses: the associative array PID (server name -> pid) and LOAD_PID (the load generator in flight),
# which cleanup_servers stops.

log() { printf '[%s %s] %s\n' "$SCRIPT" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

# build_eddy: sets EDDY to the eddy command — $EDDY if given, else a Release build into $BIN/eddy.
build_eddy() {
  if [[ -n ${EDDY:-} ]]; then
    log "using prebuilt eddy: $EDDY"
  else
    log "building Eddy.Cli (Release)"
    dotnet build -c Release --nologo -v quiet "$ROOT/src/Eddy.Cli" -o "$BIN/eddy" >&2
    EDDY=$BIN/eddy/eddy
  fi
  [[ -x $EDDY ]] || die "eddy binary not found or not executable: $EDDY"
}

# cleanup_servers: the EXIT trap's work. Stops the load generator in flight, then every server
# (continued first, in case it was stopped with SIGSTOP): SIGTERM, up to 5 s to exit, then SIGKILL.
cleanup_servers() {
  local s
  if [[ -n ${LOAD_PID:-} ]]; then
    kill -TERM "$LOAD_PID" 2>/dev/null || true   # timeout forwards it to the tool
    wait "$LOAD_PID" 2>/dev/null || true
  fi
  for s in "${!PID[@]}"; do
    kill -CONT "${PID[$s]}" 2>/dev/null || true
    kill -TERM "${PID[$s]}" 2>/dev/null || true
  done
  for s in "${!PID[@]}"; do
    for _ in $(seq 50); do kill -0 "${PID[$s]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${PID[$s]}" 2>/dev/null || true
    wait "${PID[$s]}" 2>/dev/null || true
  done
}

# cpu_ticks PID: a process's CPU time so far (user + system, all threads, in clock ticks): /proc/PID/stat
# fields 14 and 15.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# core_ticks CPU: busy and total clock ticks of one CPU so far, from its line in /proc/stat
# (user nice system idle iowait irq softirq steal ...): "busy total".
core_ticks() {
  awk -v cpu="cpu$1" '$1 == cpu { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

# children_ticks: CPU ticks of this shell's finished children (a load generator, once reaped) -> KIDS,
# from the builtin `times`, which must run in this shell (not in a $(...) subshell).
KIDS=0
children_ticks() {
  local user sys
  times >"$RAW/times.txt"
  { read -r _; read -r user sys; } <"$RAW/times.txt"     # line 2: children "XmY.YYYs XmY.YYYs"
  KIDS=$(awk -v u="$user" -v s="$sys" -v hz="$(getconf CLK_TCK)" '
    function sec(t, a) { split(t, a, /[ms]/); return a[1] * 60 + a[2] }
    BEGIN { printf "%d\n", (sec(u) + sec(s)) * hz + 0.5 }')
}

# check_whole_numbers VAR...: dies unless each named variable holds a whole number.
check_whole_numbers() {
  local v
  for v in "$@"; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
  done
}

# warn_if_cores_shared: a warning when the server and the load generator cannot each have a core
# (uses SERVER_CPU and LOAD_CPU).
warn_if_cores_shared() {
  if (( $(nproc --all) < 2 )); then
    log "WARNING: fewer than 2 CPUs; the servers and the load generator will share a core"
  elif (( SERVER_CPU == LOAD_CPU )); then
    log "WARNING: SERVER_CPU == LOAD_CPU; the servers and the load generator will share a core"
  fi
}

# stop_servers_on_exit: on exit, and on SIGINT/SIGTERM (exit codes 130/143), cleanup_servers.
stop_servers_on_exit() {
  trap 'rc=$?; trap - INT TERM; cleanup_servers; exit "$rc"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# report_facts: the report's lines on what was measured where: the commit (and whether the tree was
# dirty) and the machine.
report_facts() {
  echo "- commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)\`$(
          [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] && echo ' (dirty tree)')"
  echo "- machine: $(nproc --all) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
}

# check_ports_free SERVER...: dies if the port of a server (from the script's port_of) is taken.
check_ports_free() {
  local s port
  for s in "$@"; do
    port=$(port_of "$s")
    port_in_use "$port" && die "port $port (for $s) is already in use; set PORT_${s^^}=<free port>"
  done
  return 0
}

# wait_until_listening SERVER PORT LOG: waits up to 30 s for 127.0.0.1:PORT to accept connections; dies,
# showing the server's LOG, if the server (PID[SERVER]) exits first or the time runs out.
wait_until_listening() {
  local s=$1 port=$2 out=$3
  for _ in $(seq 300); do
    port_in_use "$port" && return 0
    kill -0 "${PID[$s]}" 2>/dev/null || { cat "$out" >&2; die "$s exited during start-up"; }
    sleep 0.1
  done
  cat "$out" >&2
  die "$s did not listen on 127.0.0.1:$port within 30 s"
}

# wrk_against SERVER SECONDS OUTFILE URL [WRK-ARG...]: `wrk -t1 -c CONNS` on LOAD_CPU against URL for SECONDS
# (bounded by `timeout`), output in OUTFILE. Dies if wrk fails or reports socket errors or non-2xx answers, or if the
# server (PID[SERVER]) died. Sets RPS (requests/s), REQS (requests done) and TICKS (the server's CPU ticks over the run).
RPS='' REQS='' TICKS=''
wrk_against() {
  local s=$1 secs=$2 out=$3 url=$4 rc=0 t0
  shift 4
  t0=$(cpu_ticks "${PID[$s]}")
  timeout --kill-after=5 $((secs + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c "$CONNS" -d "${secs}s" "$@" "$url" >"$out" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  (( rc == 0 )) || { cat "$out" >&2; die "wrk against $s failed with exit code $rc"; }
  kill -0 "${PID[$s]}" 2>/dev/null || die "$s died during a run (see $RAW/server-$s.log)"
  TICKS=$(( $(cpu_ticks "${PID[$s]}") - t0 ))
  grep -q 'Non-2xx\|Socket errors' "$out" && { cat "$out" >&2; die "wrk saw errors against $s"; }
  RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  REQS=$(awk '/requests in/ { print $1 }' "$out")
  [[ -n $RPS && -n $REQS ]] || die "no requests figure in $out"
}

# rate_against SERVER OUTFILE URL: `eddy load http --loops 1 -c CONNS -R RATE -d RATE_SECONDS` on LOAD_CPU against
# URL, a fixed rate well below saturation (where CPU per request is stable), its JSON report in OUTFILE. Dies if it
# fails or counts errors, non-2xx answers or no requests. Sets REQS and TICKS (the server's CPU ticks over the run).
rate_against() {
  local s=$1 out=$2 url=$3 rc=0 t0
  t0=$(cpu_ticks "${PID[$s]}")
  timeout --kill-after=5 $((RATE_SECONDS + 30)) taskset -c "$LOAD_CPU" "$EDDY" load http --loops 1 -c "$CONNS" \
    -R "$RATE" -d "${RATE_SECONDS}s" -q --json "$out" "$url" &
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  (( rc == 0 )) || die "eddy load http against $s failed with exit code $rc"
  TICKS=$(( $(cpu_ticks "${PID[$s]}") - t0 ))
  REQS=$(python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["errors"] or r["non2xx"] or not r["requests"]:
    sys.exit(f"{r['errors']} errors, {r['non2xx']} non-2xx, {r['requests']} requests")
print(r["requests"])
PY
) || die "the fixed-rate run against $s did not count (see $out)"
}

# per_unit TICKS UNITS SCALE: CPU seconds (from clock ticks) × SCALE / UNITS, e.g. `per_unit "$TICKS" "$REQS" 1e6`
# for µs per request.
per_unit() { awk -v t="$1" -v n="$2" -v k="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz * k / n }'; }
