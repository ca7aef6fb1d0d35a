#!/usr/bin/env bash
# Benchmarks the gateway against the marketplace mock served directly and against nginx, on
# loopback, and writes BENCHMARKS.md at the repository top. Takes about twelve minutes, half
# of it building.
#
#   bench/run.sh                       # everything, default settings
#   bench/run.sh --duration 3          # shorter load points (any `gateway-bench run` option)
#   PGO=0 bench/run.sh                 # the release build without a profile (see bench/pgo.sh)
#   GATEWAY_BIN=/path/to/gateway bench/run.sh --out /tmp/other.md   # measure another build
#
# Installs wrk and nginx-light with apt-get when they are missing (root or sudo), builds the
# gateway with profile-guided optimisation (bench/pgo.sh; the plain release build when that
# fails), then hands over to `gateway-bench run`.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/tools.sh
bench_tools

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet -p gateway-bench
# The gateway measured: GATEWAY_BIN as given, else the profile-guided build, else (PGO=0, or
# that build failed) the plain release build, built only then.
gateway=""
build="release build"
if [ -n "${GATEWAY_BIN:-}" ]; then
    gateway="$GATEWAY_BIN"
    build="given as GATEWAY_BIN"
elif [ "${PGO:-1}" != 0 ]; then
    if gateway="$(bench/pgo.sh)"; then
        build="release build, profile-guided by bench/pgo.sh"
    else
        echo "bench: profile-guided build failed; measuring the release build without a profile" >&2
        gateway=""
        build="release build; the profile-guided build failed, see bench/pgo.sh"
    fi
fi
if [ -z "$gateway" ]; then
    cargo build --release --quiet -p gateway
    gateway="$target/release/gateway"
fi
# Private copies: a concurrent build into the same target directory cannot swap them mid-run.
bin="$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench-bin.XXXXXX")"
trap 'rm -rf "$bin"' EXIT
cp "$target/release/gateway-bench" "$bin/"
cp "$gateway" "$bin/gateway"

# 1,000 streams through the gateway need about 4,000 descriptors across the processes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

"$bin/gateway-bench" run --gateway "$bin/gateway" --nginx "$NGINX" --wrk "$WRK" --build "$build" "$@"
