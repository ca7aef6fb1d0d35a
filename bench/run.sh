#!/usr/bin/env bash
# Benchmarks the gateway against the marketplace mock served directly and against nginx, on
# loopback, and writes BENCHMARKS.md at the repository top. Takes about six minutes.
#
#   bench/run.sh                       # everything, default settings
#   bench/run.sh --duration 3          # shorter load points (any `gateway-bench run` option)
#   GATEWAY_BIN=/path/to/gateway bench/run.sh --out /tmp/other.md   # measure another build
#
# Installs wrk and nginx-light with apt-get when they are missing (root or sudo), builds the
# release binaries, then hands over to `gateway-bench run`.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1; }
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

missing=()
have wrk || missing+=(wrk)
[ -n "$(nginx_bin)" ] || missing+=(nginx-light)
have taskset || missing+=(util-linux)
have valgrind || missing+=(valgrind)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
fi
NGINX="$(nginx_bin)"
[ -n "$NGINX" ] || { echo "bench: nginx not found" >&2; exit 1; }
have wrk || { echo "bench: wrk not found" >&2; exit 1; }

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet -p gateway -p gateway-bench
# Private copies: a concurrent build into the same target directory cannot swap them mid-run.
bin="$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench-bin.XXXXXX")"
trap 'rm -rf "$bin"' EXIT
cp "$target/release/gateway-bench" "$bin/"
cp "${GATEWAY_BIN:-$target/release/gateway}" "$bin/gateway"

# 1,000 streams through the gateway need about 4,000 descriptors across the processes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

"$bin/gateway-bench" run --gateway "$bin/gateway" --nginx "$NGINX" --wrk "$(command -v wrk)" "$@"
