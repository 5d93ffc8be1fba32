#!/usr/bin/env bash
# record-trace.sh: records a Go allocation trace in GoAlloc's extended format (each tracealloc line
# ends with " p=<P id> noscan=<bool>", tiny sub-allocations are traced with their own size).
# Installs Debian's golang-go (Go 1.19) if it is missing, copies its GOROOT to a scratch folder,
# applies go1.19-tracealloc-p-noscan.patch (runtime/malloc.go and runtime/mprof.go), builds the Go
# program with that toolchain, runs it with GODEBUG=allocfreetrace=1, keeps only the trace lines and
# writes them gzipped. Mirrors Go's runtime/mprof.go tracealloc/tracefree/tracegc (the printers).
#
#   tools/record/record-trace.sh [-o out.trace.gz] [--gogc N] [--procs N] [package-or-folder] [-- args...]
#
# package-or-folder: a package path inside GOROOT/src (default cmd/gofmt) or a folder holding a
# main package (built in module mode only if it has a go.mod; no network is needed for GOROOT
# packages). args: the program's arguments (default for gofmt: -l on go/ast and go/parser).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="trace.gz"; gogc=5; procs=2; pkg="cmd/gofmt"; args=(); have_args=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -o|--out) out="$2"; shift 2 ;;
    --gogc) gogc="$2"; shift 2 ;;
    --procs) procs="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    --) shift; args=("$@"); have_args=1; break ;;
    -*) echo "record-trace: unknown option $1" >&2; exit 2 ;;
    *) pkg="$1"; shift ;;
  esac
done
[[ "$gogc" =~ ^[0-9]+$ ]] || { echo "record-trace: --gogc must be a number" >&2; exit 2; }
[[ "$procs" =~ ^[1-9][0-9]*$ ]] || { echo "record-trace: --procs must be a positive number" >&2; exit 2; }

if ! command -v go >/dev/null 2>&1 || ! go version | grep -q 'go1\.19'; then
  if [[ -x /usr/lib/go-1.19/bin/go ]]; then :; else
    echo "record-trace: installing golang-go (Go 1.19) with apt-get" >&2
    sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq golang-go >&2
  fi
fi
system_go="$(command -v go || true)"
[[ -x /usr/lib/go-1.19/bin/go ]] && system_go=/usr/lib/go-1.19/bin/go
goroot="$("$system_go" env GOROOT)"
"$system_go" version | grep -q 'go1\.19' || { echo "record-trace: need Go 1.19 (allocfreetrace is gone after 1.21; the patch is for 1.19), found $("$system_go" version)" >&2; exit 2; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/goalloc-record.XXXXXX")"
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
echo "record-trace: copying $goroot to $scratch/goroot" >&2
cp -rL "$goroot" "$scratch/goroot"
chmod -R u+w "$scratch/goroot"
patch -s -p1 -d "$scratch/goroot" < "$here/go1.19-tracealloc-p-noscan.patch"

export GOROOT="$scratch/goroot" GOPATH="$scratch/gopath" GOCACHE="$scratch/cache" GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local
go="$GOROOT/bin/go"
if [[ -d "$pkg" ]]; then
  src="$(cd "$pkg" && pwd)"
  if [[ -f "$src/go.mod" ]]; then (cd "$src" && "$go" build -o "$scratch/prog" .)
  else (cd "$src" && GO111MODULE=off "$go" build -o "$scratch/prog" .); fi
else
  (cd "$GOROOT/src" && "$go" build -o "$scratch/prog" "$pkg")
fi
if [[ $have_args -eq 0 && "$pkg" == "cmd/gofmt" ]]; then
  args=(-l "$GOROOT/src/go/ast" "$GOROOT/src/go/parser")
fi

echo "record-trace: running $pkg with GOGC=$gogc GOMAXPROCS=$procs GODEBUG=allocfreetrace=1" >&2
set +o pipefail
GOGC="$gogc" GOMAXPROCS="$procs" GODEBUG=allocfreetrace=1 "$scratch/prog" "${args[@]}" 2>&1 >/dev/null \
  | grep -aE '^trace(alloc|free|gc)\(' | gzip -9 > "$out"
set -o pipefail
lines=$(gzip -dc "$out" | wc -l)
[[ $lines -gt 0 ]] || { echo "record-trace: the program printed no trace lines" >&2; exit 1; }
echo "record-trace: wrote $out ($lines events, $(stat -c %s "$out") bytes)" >&2
