#!/usr/bin/env bash
#
# bench/tutorial.sh - the tutorial's claim, measured: the tutorial's Go client (N concurrent clients,
# each connects, sends "hello", reads the reply, closes) against every step of the echo server.
#
# For each `eddy echo --impl X` (blocking, selector, loop, async, protocol, streams) it runs
#   eddy load tcp 127.0.0.1:PORT -c 20   --rounds 5                 one-shot clients
#   eddy load tcp 127.0.0.1:PORT -c 1000 --rounds 5                 one-shot clients
#   eddy load tcp 127.0.0.1:PORT -c 20   -d 3s --timeout 1s         20 clients that stay connected
# with the server pinned to CPU 0 and the load generator to CPU 1 (one loop each), after one
# unmeasured 1000 x 5 run that lets the .NET servers compile their hot paths, and prints a Markdown
# table of answers, failures, time and latency percentiles. Everything is on 127.0.0.1 and bounded
# (the load generator's own timeout per operation).
#
# Run: bench/tutorial.sh            (about a minute; EDDY=/path/to/eddy skips the build)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-9120}
IMPLS=${IMPLS:-"blocking selector loop async protocol streams"}
ROUNDS=${ROUNDS:-5}
OUT=$(mktemp -d)
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

if [[ -z ${EDDY:-} ]]; then
  dotnet build -c Release --nologo -v quiet "$ROOT/src/Eddy.Cli" -o "$ROOT/bench/bin/eddy" >&2
  EDDY=$ROOT/bench/bin/eddy/eddy
fi

SCENARIOS=("-c 20 --rounds $ROUNDS" "-c 1000 --rounds $ROUNDS" "-c 20 -d 3s --timeout 1s")

echo "| --impl | clients | answered | failed | time | answers/s | p50 | p99 | max |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for impl in $IMPLS; do
  loops=()
  [[ $impl == async || $impl == protocol || $impl == streams ]] && loops=(--loops 1)
  taskset -c 0 "$EDDY" echo --impl "$impl" "${loops[@]}" --port "$PORT" >"$OUT/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do grep -q "listening" "$OUT/server.log" && break; sleep 0.1; done
  taskset -c 1 "$EDDY" load tcp "127.0.0.1:$PORT" -c 1000 --rounds "$ROUNDS" --loops 1 --quiet || true # warm-up
  for i in "${!SCENARIOS[@]}"; do
    json=$OUT/$impl-$i.json
    read -r -a args <<<"${SCENARIOS[$i]}"
    taskset -c 1 "$EDDY" load tcp "127.0.0.1:$PORT" "${args[@]}" --loops 1 --json "$json" --quiet || true
    python3 - "$json" "$impl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
lat = d["latencyUs"]
ms = lambda us: f"{us / 1000:,.1f} ms"
who = (f"{d['connections']} × {d['rounds']} rounds" if d["mode"] == "one-shot"
       else f"{d['connections']} connected, {d['seconds']:.0f} s")
print(f"| {sys.argv[2]} | {who} | {d['messages']:,} | {d['errors']:,} | "
      f"{d['seconds']:.2f} s | {d['messages'] / d['seconds']:,.0f} | {ms(lat['p50'])} | {ms(lat['p99'])} | {ms(lat['max'])} |")
PY
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done
