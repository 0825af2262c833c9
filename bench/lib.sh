# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run).
#
# The sourcing script sets, before sourcing: SCRIPT (its name, for log lines), ROOT (the repository),
# BIN (where to build eddy); and uses: the associative array PID (server name -> pid) and LOAD_PID (the
# load generator in flight), which cleanup_servers stops.

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
