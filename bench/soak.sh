#!/usr/bin/env bash
#
# bench/soak.sh - soak and flood runs: `eddy serve` beside ASP.NET Core (Kestrel) under slow,
#                 abrupt and too many clients. The figures behind RELIABILITY.md.
#
# WHAT IT DOES
#   Builds `eddy serve` and bench/peers/KestrelMinimal (Release), then runs bench/soak/soak.py,
#   which, for each scenario and each server, starts a fresh server pinned to SERVER_CPU on
#   127.0.0.1 (`eddy serve --loops 1`, or KestrelMinimal), warms it up with 3,000 requests, runs
#   the scenario from LOAD_CPU, prints one line of figures and stops the server:
#     slowloris  1,000 connections trickle header bytes (1 byte / 2 s) for 40 s while a normal
#                client sends GET /plaintext every 100 ms: when were the slow ones closed, and
#                the normal client's p50/p99/max
#     slowpost   100 POST /anything bodies at 50 B/s: when were they closed, with what answer
#     slowread   a client that never reads (a 100 MB static file; ~8 MB+ of pipelined
#                GET /plaintext): server RSS growth, whether/when the server closes it
#     emfile     the server started under an open-file limit of (its fds after warm-up, measured
#                on a first start with no limit, + 200), as `ulimit -n` would: connections
#                until one is refused or not answered (eddy's default connection limit, the
#                descriptor limit minus --fd-reserve 64, refuses them before EMFILE; then 50 more
#                are tried), server CPU while held 10 s (spinning shows as ~100%), existing
#                connections still served, new ones accepted after half are closed, did the
#                process survive; run on 3 fresh servers each, since surviving true EMFILE is
#                partly chance (see RELIABILITY.md). Eddy also as "eddy, no reserve"
#                (--fd-reserve 0: no default limit, so the accept back-off at EMFILE is measured)
#                and "eddy, reserve 128" (a reserve above the ~64 descriptors eddy holds itself)
#     idle       1,000 / 5,000 / 10,000 idle keep-alive connections, one request each:
#                RSS per connection, then a second request on every connection
#     halfclose  request then shutdown(SHUT_WR): is the answer still sent?
#     abrupt     RST mid-request and mid-response, a TLS ClientHello, 1 MB of 'A', random
#                binary: server alive, its sockets back to the baseline
#     maxconn    the connection limit (100) and 150 clients: refused cleanly past it?
#                (eddy: EDDY_MAXCONN_ARGS, default `--max-connections 100`; Kestrel:
#                Limits.MaxConcurrentConnections through KESTREL_MAX_CONNECTIONS)
#   Everything is bounded: each scenario has a fixed duration (the whole default run is
#   about 8.5 minutes for both servers), every socket operation a timeout, and the servers are
#   stopped (SIGTERM, then SIGKILL after 5 s) after each scenario and when the script exits.
#
# HOW TO RUN (as root: 10,000 connections need `ulimit -n` above 11,000, raised by the driver)
#   bench/soak.sh                         # every scenario, eddy and kestrel
#   bench/soak.sh slowloris halfclose     # some scenarios
#   SERVERS=eddy bench/soak.sh idle       # one server
#   EDDY=/path/to/eddy bench/soak.sh      # a prebuilt eddy (skips its build)
#   SOAK_ARGS="--slowloris-seconds 20 --idle-levels 1000,2000" bench/soak.sh   # other knobs
#   SOAK_ARGS="--emfile-runs 1 --emfile-eddy-reserves 0" bench/soak.sh emfile
#   (bench/soak/soak.py --help lists them all)
#
#   Environment: SERVERS ["eddy kestrel"]  SERVER_CPU [0]  LOAD_CPU [1]  PORT [9231]
#                EDDY_MAXCONN_ARGS ["--max-connections 100"]  EDDY  SOAK_ARGS
#
# OUTPUT
#   One line per scenario and server on stdout; a Markdown table (scenarios x servers) in
#   bench/results/soak-<date>.md, with server logs and results.json in
#   bench/results/soak-<date>-raw/ (git-ignored).
#
# REQUIRES
#   dotnet (SDK 10 with the ASP.NET Core shared framework), python3 (>= 3.9, standard library
#   only), taskset, and 2 CPUs.
#
set -euo pipefail

SCRIPT=soak.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BIN=$BENCH/bin
# shellcheck source=lib.sh
source "$BENCH/lib.sh"   # log, die, build_eddy
SERVERS=${SERVERS:-"eddy kestrel"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-9231}
EDDY_MAXCONN_ARGS=${EDDY_MAXCONN_ARGS:-"--max-connections 100"}

for tool in dotnet python3 taskset; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
for s in $SERVERS; do
  case $s in eddy|kestrel) ;; *) die "unknown server '$s' in SERVERS (use eddy, kestrel)";; esac
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"
(( $(nproc --all) >= 2 )) || log "WARNING: fewer than 2 CPUs; server and driver will share a core"

args=(--servers "${SERVERS// /,}" --server-cpu "$SERVER_CPU" --load-cpu "$LOAD_CPU" --port "$PORT"
      --eddy-maxconn-args "$EDDY_MAXCONN_ARGS")

if [[ " $SERVERS " == *" kestrel "* ]]; then
  log "building KestrelMinimal (Release)"
  dotnet build -c Release --nologo -v quiet "$BENCH/peers/KestrelMinimal" -o "$BIN/kestrel-minimal" >&2
  args+=(--kestrel "$BIN/kestrel-minimal/KestrelMinimal")
fi
if [[ " $SERVERS " == *" eddy "* ]]; then
  build_eddy
  args+=(--eddy "$EDDY")
fi

# shellcheck disable=SC2086  # SOAK_ARGS is a list of options on purpose
exec python3 "$BENCH/soak/soak.py" "${args[@]}" ${SOAK_ARGS:-} "$@"
