#!/usr/bin/env bash
# pg.sh: a throw-away PostgreSQL server for the tests (tests/test_store.c runs it).
#   pg.sh start DIR [PID]   initdb in DIR/data, start on 127.0.0.1 at a free port (socket in DIR),
#                           create database ciak_test, print its URL. With PID, a watchdog stops
#                           the server and removes DIR once that process is gone (a test that
#                           crashes leaves nothing running).
#   pg.sh down DIR          stop the server, keep its data (a database restart, as seen by a node)
#   pg.sh up DIR            start it again on the same port
#   pg.sh dump DIR          pg_dump of ciak_test on stdout
#   pg.sh clean DIR         stop the server and remove DIR
# initdb and postgres refuse to run as root: as root, they run as `nobody`, owning DIR.
# Needs the Debian package `postgresql` (scripts/install-deps.sh); without it, says so and fails.
set -euo pipefail

cmd=${1:?usage: pg.sh start|down|up|dump|clean DIR [PID]}
dir=${2:?usage: pg.sh start|down|up|dump|clean DIR [PID]}
bin=${CIAK_PG_BIN:-}
if [ -z "$bin" ]; then
    for b in /usr/lib/postgresql/*/bin; do [ -x "$b/initdb" ] && bin=$b; done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "pg.sh: no PostgreSQL server found (initdb, pg_ctl under /usr/lib/postgresql/*/bin):" \
        "install the package postgresql (scripts/install-deps.sh)" >&2
    exit 1
fi

# Runs a server-side program as an unprivileged user when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

port() { cat "$dir/port"; }

server_up() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-h 127.0.0.1 -p $1 -k $dir -F" start >/dev/null
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U ciak --auth=trust --no-locale -E UTF8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: try random ones until the server binds (another test may hold one).
    started=
    for _ in $(seq 1 20); do
        p=$((20000 + RANDOM % 40000))
        if server_up "$p" 2>/dev/null; then
            started=$p
            break
        fi
    done
    if [ -z "$started" ]; then
        echo "pg.sh: PostgreSQL did not start; its log:" >&2
        cat "$dir/log" >&2 || true
        exit 1
    fi
    echo "$started" >"$dir/port"
    "$bin/createdb" -h 127.0.0.1 -p "$started" -U ciak ciak_test
    if [ -n "${3:-}" ]; then
        # Detached, with no stdio of ours, so the caller's popen() sees EOF now.
        setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; bash "$2" clean "$3"' \
            _ "$3" "$0" "$dir" </dev/null >/dev/null 2>&1 &
    fi
    echo "postgresql://ciak@127.0.0.1:$started/ciak_test"
    ;;
down)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
up)
    server_up "$(port)"
    ;;
dump)
    "$bin/pg_dump" -h 127.0.0.1 -p "$(port)" -U ciak ciak_test
    ;;
clean)
    if [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "pg.sh: unknown command $cmd" >&2
    exit 1
    ;;
esac
