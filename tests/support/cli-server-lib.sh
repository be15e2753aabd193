# cli-server-lib.sh: sourced by the CLI tests that start `ciak serve` (tests/cli/server.sh,
# tests/cli/e2e.sh). Usage in a test: `source "$2/tests/support/cli-server-lib.sh" "$@"`.
# Sets CIAK and ROOT from the test's arguments, a temporary folder removed at exit, the pass
# and fail counters with ok/bad, and stop_server, which ends $server_pid (TERM, then KILL after
# 20 s) and runs at exit too.
CIAK=$1
ROOT=$2
pass=0
fail=0
tmp=$(mktemp -d)
server_pid=
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        for _ in $(seq 1 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    server_pid=
}
trap 'stop_server; [ -n "${CK_KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
