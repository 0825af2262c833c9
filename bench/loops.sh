#!/usr/bin/env bash
#
# bench/loops.sh - what one loop per core buys: `eddy echo --impl protocol` with --loops 1 and with
# --loops 2, nothing pinned, the load generator (`eddy load tcp --loops 2`) sharing the same 2 cores.
# Alternating rounds, medians; servers warmed up first. 127.0.0.1 only, every run bounded in time.
#
# Run: bench/loops.sh        (about 2 minutes; WARMUP, ROUNDS, DURATION, IMPL, EDDY may be set)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WARMUP=${WARMUP:-30}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
IMPL=${IMPL:-protocol}
OUT=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

if [[ -z ${EDDY:-} ]]; then
  dotnet build -c Release --nologo -v quiet "$ROOT/src/Eddy.Cli" -o "$ROOT/bench/bin/eddy" >&2
  EDDY=$ROOT/bench/bin/eddy/eddy
fi

declare -A PORT=([1]=9131 [2]=9132)
for n in 1 2; do
  "$EDDY" echo --impl "$IMPL" --loops "$n" --port "${PORT[$n]}" >"$OUT/server-$n.log" 2>&1 &
  PIDS+=($!)
done
sleep 1

load() { # load LOOPS SECONDS -> messages/s
  "$EDDY" load tcp "127.0.0.1:${PORT[$1]}" -c 64 --size 1024 -d "${2}s" --loops 2 --json "$OUT/run.json" --quiet
  python3 -c "import json; print(round(json.load(open('$OUT/run.json'))['messagesPerSecond']))"
}

for n in 1 2; do load "$n" "$WARMUP" >/dev/null; done
declare -A RESULTS=([1]="" [2]="")
for ((r = 1; r <= ROUNDS; r++)); do
  for n in 1 2; do
    mps=$(load "$n" "$DURATION")
    RESULTS[$n]="${RESULTS[$n]} $mps"
    echo "round $r, server --loops $n: $mps msg/s" >&2
  done
done

python3 - "${RESULTS[1]}" "${RESULTS[2]}" "$IMPL" <<'PY'
import statistics, sys
one, two = ([int(x) for x in a.split()] for a in sys.argv[1:3])
m1, m2 = statistics.median(one), statistics.median(two)
print(f"| server (--impl {sys.argv[3]}) | runs (msg/s) | median msg/s |")
print("|---|---|---:|")
print(f"| --loops 1 | {', '.join(f'{x:,}' for x in one)} | {m1:,.0f} |")
print(f"| --loops 2 | {', '.join(f'{x:,}' for x in two)} | {m2:,.0f} |")
print(f"\n2 loops / 1 loop: {m2 / m1:.2f}x (1 KiB x 64 connections; load generator with 2 loops on the same 2 cores)")
PY
