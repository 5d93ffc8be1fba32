#!/usr/bin/env bash
# tools/fuzz/run.sh <trace|heap-ops> <seconds> [findings-dir]
# Fuzzes one target of GoAlloc.Cli.FuzzTargets with AFL++ (Debian package afl++, installed with
# apt-get when afl-fuzz is missing) through SharpFuzz 2.3.0: builds tools/fuzz/FuzzHarness into a
# scratch folder, instruments alloc.dll, GoAlloc.Reference.dll and GoAlloc.Optimized.dll with the
# sharpfuzz dotnet tool (dotnet-tools.json), and runs afl-fuzz for <seconds> from the seed corpus
# tools/fuzz/corpus/<target>. Findings go to [findings-dir] (default TestResults/fuzz/<target>).
# Exit: 0 no crash and no hang, 1 crashes or hangs saved (each one: reproduce with
#   dotnet <out>/goalloc-fuzz.dll <target> <findings>/default/crashes/<file>
# and turn it into a regression test in tests/Unit/Cli/FuzzRegressionTests.cs), 2 bad usage.
set -euo pipefail
usage() { echo "usage: tools/fuzz/run.sh <trace|heap-ops> <seconds> [findings-dir]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
target=$1; seconds=$2
[[ $target == trace || $target == heap-ops ]] || usage
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage
root=$(cd "$(dirname "$0")/../.." && pwd)
findings=${3:-$root/TestResults/fuzz/$target}
out=$root/TestResults/fuzz/bin

if ! command -v afl-fuzz >/dev/null; then
    echo "fuzz: installing afl++ (apt-get)" >&2
    sudo_cmd=""; [[ $(id -u) -eq 0 ]] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq >&2 && $sudo_cmd apt-get install -y -qq afl++ >&2
fi
cd "$root"
dotnet tool restore >/dev/null
rm -rf "$out"
dotnet build tools/fuzz/FuzzHarness -c Release -o "$out" >/dev/null
for dll in alloc.dll GoAlloc.Reference.dll GoAlloc.Optimized.dll; do
    dotnet sharpfuzz "$out/$dll" >/dev/null
done

mkdir -p "$findings"
export AFL_SKIP_BIN_CHECK=1          # the target is `dotnet`, not an instrumented binary
export AFL_NO_UI=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_SKIP_CPUFREQ=1
export AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000  # the .NET runtime starts slowly
echo "fuzz: $target for $seconds s, corpus tools/fuzz/corpus/$target, findings $findings" >&2
afl-fuzz -i "tools/fuzz/corpus/$target" -o "$findings" -V "$seconds" -m none -t 20000 \
    -- dotnet "$out/goalloc-fuzz.dll" "$target" >"$findings/afl.log" 2>&1 || {
    echo "fuzz: afl-fuzz failed; the end of its log:" >&2; tail -30 "$findings/afl.log" >&2; exit 1; }

stats=$findings/default/fuzzer_stats
execs=$(awk -F': *' '$1 ~ /^execs_done/ {print $2}' "$stats")
paths=$(awk -F': *' '$1 ~ /^corpus_count/ {print $2}' "$stats")
crashes=$(find "$findings/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$findings/default/hangs" -type f -name 'id:*' | wc -l)
echo "fuzz $target: $seconds s, $execs executions, corpus $paths, $crashes crashes, $hangs hangs"
[[ $crashes -eq 0 && $hangs -eq 0 ]] || exit 1
