#!/usr/bin/env bash
# Coverage-guided fuzzing of the HTTP request parser and the body decoders with AFL++ and SharpFuzz.
#
#   fuzz/run.sh TARGET [MINUTES]     TARGET: head | split | chunked | stream | connection | websocket | multipart   (default 10 minutes)
#
# Installs what is missing (afl++ from apt, the sharpfuzz tool into fuzz/.tools), builds the harness,
# instruments Eddy.dll, and runs afl-fuzz for MINUTES, niced. Findings go to fuzz/findings/TARGET
# (crashes/, hangs/, queue/); a second run of the same target resumes from them. Replay a file with
#   dotnet fuzz/.tools/build/Eddy.Fuzz.dll TARGET FILE...
# and keep what it finds in tests/Eddy.UnitTests/Http/FuzzCorpus/TARGET (see fuzz/README.md).
set -euo pipefail

usage() { echo "usage: fuzz/run.sh head|split|chunked|stream|connection|websocket|multipart [MINUTES]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
target=$1
minutes=${2:-10}
case $target in head|split|chunked|stream|connection|websocket|multipart) ;; *) echo "run.sh: unknown target '$target'" >&2; usage ;; esac
[[ $minutes =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: MINUTES must be a positive whole number, not '$minutes'" >&2; usage; }

fuzz=$(cd "$(dirname "$0")" && pwd)
tools=$fuzz/.tools
build=$tools/build

if ! command -v afl-fuzz >/dev/null; then
  echo "run.sh: installing afl++" >&2
  apt-get update -qq && apt-get install -y -qq afl++ >/dev/null
fi
if [[ ! -x $tools/sharpfuzz ]]; then
  dotnet tool install --tool-path "$tools" SharpFuzz.CommandLine --version 2.3.0
fi

# A fresh build each time: sharpfuzz rewrites Eddy.dll in place and refuses one instrumented already.
rm -rf "$build"
dotnet build "$fuzz/Eddy.Fuzz/Eddy.Fuzz.csproj" -c Release -o "$build" -v quiet -nologo
"$tools/sharpfuzz" "$build/Eddy.dll"

findings=$fuzz/findings/$target
mkdir -p "$findings"
# The .NET runtime is not an instrumented binary (SKIP_BIN_CHECK); this machine's CPU governor and
# core_pattern are not ours to change; the machine is shared, so no core pinning and nice 19.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1
[[ -t 1 ]] || export AFL_NO_UI=1
status=0
# The dictionary holds HTTP tokens; WebSocket frames are binary and need none.
dictionary=(-x "$fuzz/http.dict")
[[ $target != websocket ]] || dictionary=()
nice -n 19 afl-fuzz -i "$fuzz/corpus/$target" -o "$findings" "${dictionary[@]}" -t 5000 -m none -V $((minutes * 60)) \
  -- "$(command -v dotnet)" "$build/Eddy.Fuzz.dll" "$target" || status=$?

stats=$findings/default/fuzzer_stats
if [[ -f $stats ]]; then
  grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats"
fi
exit $status
