#!/usr/bin/env bash
# Builds the gateway with profile-guided optimisation and prints the binary's path.
#
#   bench/pgo.sh        # -> target/pgo/<host triple>/release/gateway
#
# 1. An instrumented release build of the gateway.
# 2. Training: a short `gateway-bench run` through it (MCP tools/call and REST GET through
#    ai-mcp-proxy, prometheus and file-log at 1 and 32 connections, then event streams); the
#    gateway writes its profile when it exits.
# 3. The release build again, optimised with that profile: on the benchmark's loads, about 12 %
#    more requests per second than without it (BENCHMARKS.md, History).
#
# The profile is merged with an llvm-profdata that reads the raw format of rustc's LLVM:
# rustup's llvm-tools when installed, else an llvm-NN on the machine, else the newest llvm-NN
# Debian offers (installed here). Exits non-zero when none reads it; bench/run.sh then
# measures the release build without a profile and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/tools.sh
bench_tools

target="${CARGO_TARGET_DIR:-$PWD/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
host="$(rustc -vV | sed -n 's/^host: //p')"
generate="$target/pgo-generate"
profiles="$generate/profiles"
merged="$generate/gateway.profdata"

echo "bench: pgo 1/3: instrumented build" >&2
cargo build --release --quiet -p gateway-bench
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$profiles" CARGO_TARGET_DIR="$generate" \
    cargo build --release --quiet -p gateway --target "$host"

echo "bench: pgo 2/3: training run" >&2
rm -rf "$profiles"
work="$(mktemp -d "${TMPDIR:-/tmp}/gateway-pgo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$target/release/gateway-bench" run --gateway "$generate/$host/release/gateway" \
    --nginx "$NGINX" --wrk "$WRK" --only load,streams --duration 2 --warmup 1 \
    --streams 200 --ttfe-runs 20 --out "$work/training.md" >/dev/null 2>"$work/training.err" ||
    { cat "$work/training.err" >&2; echo "bench: pgo: the training run failed" >&2; exit 1; }
ls "$profiles"/*.profraw >/dev/null 2>&1 ||
    { echo "bench: pgo: the training run left no profile in $profiles" >&2; exit 1; }

# Every llvm-profdata in reach, rustup's first, then by version, newest first; each program
# once (Debian's `llvm-profdata-NN` links to `/usr/lib/llvm-NN/bin/llvm-profdata`).
profdata_tools() {
    {
        ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata 2>/dev/null || true
        ls -d /usr/lib/llvm-*/bin/llvm-profdata 2>/dev/null | sort -t- -k2 -rn || true
        compgen -c llvm-profdata | sort -u | sort -t- -k3 -rn | while read -r t; do command -v "$t"; done
    } | while read -r t; do realpath -e "$t" 2>/dev/null || true; done | awk '!seen[$0]++'
}
merge() {
    local tool
    while read -r tool; do
        [ -n "$tool" ] || continue
        if "$tool" merge -o "$merged" "$profiles"/*.profraw 2>/dev/null; then
            echo "bench: pgo: profile merged by $tool" >&2
            return 0
        fi
    done < <(profdata_tools)
    return 1
}
if ! merge; then
    newest="$(apt-cache search --names-only '^llvm-[0-9]+$' 2>/dev/null | cut -d' ' -f1 | sort -t- -k2 -rn | head -1)"
    [ -n "$newest" ] && apt_install "$newest" || true
    merge || { echo "bench: pgo: no llvm-profdata here reads the profile rustc $(rustc -vV | sed -n 's/^LLVM version: //p') wrote" >&2; exit 1; }
fi

echo "bench: pgo 3/3: optimised build" >&2
# Named by its content: a new profile changes the flags, so cargo rebuilds with it.
profile="$generate/gateway-$(sha256sum "$merged" | cut -c1-16).profdata"
mv "$merged" "$profile"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$profile" CARGO_TARGET_DIR="$target/pgo" \
    cargo build --release --quiet -p gateway --target "$host"
echo "$target/pgo/$host/release/gateway"
