#!/usr/bin/env bash
# cluster.sh: a one-machine ciak cluster, started from the real engines: PostgreSQL (initdb in a
# folder, pg_ctl, a loopback port), nginx (deploy/nginx/nginx.conf, as shipped) and three
# `ciak serve` nodes on loopback ports sharing one key file and the database.
#
#   scripts/cluster.sh up     start everything, import every demo campaign's people once,
#                             print every link (through nginx), one per line, on stdout
#   scripts/cluster.sh down   stop what `up` started (nodes, nginx, PostgreSQL) and nothing else
#   scripts/cluster.sh status which of its processes are running
#
# Settings (environment): CLUSTER_DIR (default var/cluster: data, logs, pid files),
# CLUSTER_PORT (nginx's port, default 8080; the nodes listen on the next three),
# CLUSTER_NODES (default 3), CLUSTER_CAMPAIGNS (default: every folder of scenes/),
# CLUSTER_SIZE (output size, e.g. 320x180; default: the scenes' canvas),
# CLUSTER_WORKERS (each node's render threads; default: its own),
# CLUSTER_SCENES (the campaigns' folder, default scenes/), CLUSTER_PEOPLE (a people file
# imported instead of each campaign's samples.json, bad records skipped: `ciak bench serve
# --nodes` gives its synthetic people so), CIAK (default build/ciak).
# Progress goes to stderr; stdout has only the links.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${CLUSTER_DIR:-var/cluster}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
port=${CLUSTER_PORT:-8080}
nodes=${CLUSTER_NODES:-3}
ciak=${CIAK:-$root/build/ciak}
pg="$root/tests/support/pg.sh"
scenes=${CLUSTER_SCENES:-$root/scenes}
say() { echo "cluster: $*" >&2; }

campaigns() {
    if [ -n "${CLUSTER_CAMPAIGNS:-}" ]; then
        echo "$CLUSTER_CAMPAIGNS"
    else
        for s in "$scenes"/*/scene.json; do basename "$(dirname "$s")"; done
    fi
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Waits (at most $2 seconds) until URL $1 answers 200.
wait_http() {
    for _ in $(seq 1 $(($2 * 5))); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ] && return 0
        sleep 0.2
    done
    return 1
}

db_url() { echo "postgresql://ciak@127.0.0.1:$(cat "$dir/pg/port")/ciak_test"; }

start_db() {
    if [ -f "$dir/pg/port" ] && [ -d "$dir/pg/data" ]; then
        bash "$pg" up "$dir/pg" 2>/dev/null || true # already running is fine
    else
        rm -rf "$dir/pg"
        bash "$pg" start "$dir/pg" >/dev/null
    fi
    say "PostgreSQL on 127.0.0.1:$(cat "$dir/pg/port") ($dir/pg)"
}

start_node() {
    local i=$1 p=$((port + i))
    local extra=()
    [ -n "${CLUSTER_SIZE:-}" ] && extra+=(--size "$CLUSTER_SIZE")
    [ -n "${CLUSTER_WORKERS:-}" ] && extra+=(--workers "$CLUSTER_WORKERS")
    for c in $(campaigns); do extra+=(--campaign "$c"); done
    mkdir -p "$dir/node$i"
    # --cluster: nginx routes each shared segment to one home node (consistent hash on its
    # URL), which renders it on first request; warming every node would render it N times.
    setsid "$ciak" serve --listen "127.0.0.1:$p" --db "$(db_url)" --keys "$dir/keys" \
        --data-dir "$dir/node$i" --scenes "$scenes" --cluster --node-name "node$i" \
        --trusted-proxies 127.0.0.1 \
        "${extra[@]}" \
        </dev/null >"$dir/node$i.log" 2>&1 &
    echo $! >"$dir/node$i.pid"
}

start_nginx() {
    local conf="$dir/nginx/conf"
    mkdir -p "$conf" "$dir/nginx/logs"
    cp "$root/deploy/nginx/nginx.conf" "$conf/nginx.conf"
    echo "listen 127.0.0.1:$port;" >"$conf/listen.conf"
    : >"$conf/upstreams.conf"
    for i in $(seq 1 "$nodes"); do
        echo "server 127.0.0.1:$((port + i)) max_fails=3 fail_timeout=5s;" >>"$conf/upstreams.conf"
    done
    # As root, nginx's workers run as nobody: they must reach the prefix.
    chmod 755 "$dir" "$dir/nginx" "$conf"
    setsid nginx -p "$dir/nginx/" -c "$conf/nginx.conf" -e stderr \
        </dev/null >"$dir/nginx.log" 2>&1 &
    echo $! >"$dir/nginx.pid"
}

up() {
    command -v nginx >/dev/null || { say "nginx missing (scripts/install-deps.sh)"; exit 1; }
    [ -x "$ciak" ] || { say "$ciak missing: run make build"; exit 1; }
    for f in "$dir"/node*.pid "$dir/nginx.pid"; do
        if alive "$f"; then say "already running ($f): scripts/cluster.sh down first"; exit 1; fi
    done
    start_db
    local url until
    url=$(db_url)
    until=$(date -u -d '+30 days' +%F)
    # The people, imported once into the shared database; the key file is made by the first
    # import and shared by every node (in Kubernetes: a Secret).
    local people skip=()
    [ -n "${CLUSTER_PEOPLE:-}" ] && skip=(--skip-bad --rejects "$dir/rejects.txt")
    for c in $(campaigns); do
        people=${CLUSTER_PEOPLE:-$scenes/$c/samples.json}
        "$ciak" import "$c" "$people" --scenes "$scenes" --db "$url" \
            --keys "$dir/keys" --data-dir "$dir/admin" "${skip[@]}" 2>&1 |
            grep -v 'availability window' >&2 || true
        # Before any node starts: a node's start-up purge removes people whose last day has
        # passed, and the demo samples' windows are in the past.
        "$ciak" links "$c" --base-url "http://127.0.0.1:$port" --expires "$until" \
            -o "$dir/links-$c.csv" --db "$url" --keys "$dir/keys" --data-dir "$dir/admin" >&2
    done
    # The dashboard's login, in the database (every node accepts it): made once, kept in
    # $dir/admin-password (0600) and printed at every `up`.
    if [ ! -s "$dir/admin-password" ]; then
        (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/admin-password")
        "$ciak" admin-password --db "$url" --keys "$dir/keys" --data-dir "$dir/admin" \
            <"$dir/admin-password" >/dev/null
    fi
    for i in $(seq 1 "$nodes"); do start_node "$i"; done
    start_nginx
    for i in $(seq 1 "$nodes"); do
        if ! wait_http "http://127.0.0.1:$((port + i))/healthz" 120; then
            say "node$i did not start; its log:"
            tail -20 "$dir/node$i.log" >&2
            exit 1
        fi
    done
    wait_http "http://127.0.0.1:$port/nginx-healthz" 20 || {
        say "nginx did not start; its log:"
        cat "$dir/nginx.log" >&2
        exit 1
    }
    say "nginx on http://127.0.0.1:$port, nodes on ports $((port + 1))-$((port + nodes))"
    say "dashboard: http://127.0.0.1:$port/admin/ password: $(cat "$dir/admin-password")"
    for c in $(campaigns); do tail -n +2 "$dir/links-$c.csv" | cut -d, -f2; done
}

stop_pid() {
    local f=$1
    if alive "$f"; then
        local pid
        pid=$(cat "$f")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

down() {
    for f in "$dir"/node*.pid; do [ -e "$f" ] && stop_pid "$f"; done
    [ -e "$dir/nginx.pid" ] && stop_pid "$dir/nginx.pid"
    if [ -d "$dir/pg/data" ]; then bash "$pg" down "$dir/pg" 2>/dev/null || true; fi
    say "stopped (data kept in $dir)"
}

status() {
    for f in "$dir"/node*.pid "$dir/nginx.pid"; do
        [ -e "$f" ] || continue
        if alive "$f"; then echo "$(basename "$f" .pid): running"; else echo "$(basename "$f" .pid): stopped"; fi
    done
}

case $cmd in
up) up ;;
down) down ;;
status) status ;;
*)
    echo "usage: scripts/cluster.sh up|down|status (settings: see the top of the script)" >&2
    exit 2
    ;;
esac
