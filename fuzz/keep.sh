#!/usr/bin/env bash
# Keeps what a fuzz run found as regression data for the unit tests (FuzzRegression/FuzzCorpusTests):
#
#   fuzz/keep.sh TARGET [MAX_QUEUE]     (after fuzz/run.sh TARGET; MAX_QUEUE defaults to 120)
#
# Copies every crash and hang of fuzz/findings/TARGET into tests/Eddy.UnitTests/Http/FuzzCorpus/TARGET,
# and replaces the kept queue sample with afl-cmin's minimized queue (the smallest MAX_QUEUE files of
# it). Files are named by kind and content hash, so runs never overwrite each other's finds.
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: fuzz/keep.sh head|split|chunked|stream|connection|websocket [MAX_QUEUE]" >&2; exit 2; }
target=$1
max=${2:-120}
fuzz=$(cd "$(dirname "$0")" && pwd)
harness=$fuzz/.tools/build/Eddy.Fuzz.dll
findings=$fuzz/findings/$target/default
kept=$fuzz/../tests/Eddy.UnitTests/Http/FuzzCorpus/$target
[[ -d $findings/queue ]] || { echo "keep.sh: no findings for '$target': run fuzz/run.sh $target first" >&2; exit 1; }
[[ -f $harness ]] || { echo "keep.sh: no instrumented harness: run fuzz/run.sh $target first" >&2; exit 1; }
mkdir -p "$kept"

keep() { # KIND FILE
  cp "$2" "$kept/$1-$(sha1sum "$2" | cut -c1-12)"
}

found=0
for kind in crash hang; do
  for file in "$findings/${kind}es"/id:* "$findings/${kind}s"/id:*; do
    [[ -f $file ]] || continue
    keep "$kind" "$file"
    found=$((found + 1))
  done
done

echo "kept $found crash and hang inputs"

minimized=$(mktemp -d "$fuzz/.tools/cmin.XXXXXX")   # afl-cmin refuses to work in /tmp
trap 'rm -rf "$minimized"' EXIT
AFL_SKIP_BIN_CHECK=1 nice -n 19 afl-cmin -i "$findings/queue" -o "$minimized/queue" -t 5000 -m none \
  -- "$(command -v dotnet)" "$harness" "$target" >"$minimized/log" 2>&1 || { cat "$minimized/log" >&2; exit 1; }
rm -f "$kept"/queue-*
count=0
while read -r file; do
  keep queue "$minimized/queue/$file"
  count=$((count + 1))
done < <(ls -Sr "$minimized/queue" | head -n "$max")
echo "kept $count of $(ls "$minimized/queue" | wc -l) minimized queue inputs ($(ls "$findings/queue" | wc -l) in the queue)"
echo "$(ls "$kept" | wc -l) files, $(cat "$kept"/* | wc -c) bytes in $kept"
