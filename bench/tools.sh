# Sourced by bench/run.sh and bench/pgo.sh: installs with apt-get what the benchmark needs and
# the machine lacks (root or sudo), then sets NGINX and WRK to the programs' paths.

have() { command -v "$1" >/dev/null 2>&1; }
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

# apt_install PACKAGE...: quietly, refreshing the package lists once when the first try fails.
apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bench: installing $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q "$@" >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}

bench_tools() {
    local missing=()
    have wrk || missing+=(wrk)
    [ -n "$(nginx_bin)" ] || missing+=(nginx-light)
    have taskset || missing+=(util-linux)
    have valgrind || missing+=(valgrind)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    NGINX="$(nginx_bin)"
    [ -n "$NGINX" ] || { echo "bench: nginx not found" >&2; return 1; }
    WRK="$(command -v wrk)" || { echo "bench: wrk not found" >&2; return 1; }
}
