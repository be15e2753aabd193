#!/bin/bash
# bench/serve/burst.sh: the server's peak memory at a burst of new viewers (issue 15).
#
#   bench/serve/burst.sh CIAK DATA_DIR [N] [SIZE]
#
# CIAK: the ciak binary; DATA_DIR: the `var` folder of a `ciak bench serve --keep` run (its
# people imported, its shared segments warmed; links.csv next to it). Copies DATA_DIR (so that
# every run starts with no personal segment cached), starts `ciak serve` on it (campaign
# assegno-sociale, SIZE default 1280x720, scenes from ./scenes: run it from the repository
# root), and lets N people (default 12, the ones on lines 150.. of links.csv, never played by
# the bench) arrive at once: each asks for its playlists, then for every segment in order as
# fast as the server gives them (a 503 from admission control or a slow render: asked again a
# moment later), so the N people's personal segments are all queued at once. Prints the
# server's peak RSS (VmHWM), its CPU seconds, and the load average before and after. No
# pacing: this is the memory at the worst burst, not a playback trial (`ciak bench serve`
# does those).
set -u
ciak=$1
data=$2
n=${3:-12}
size=${4:-1280x720}
links=$(dirname "$data")/links.csv
[ -x "$ciak" ] && [ -d "$data" ] && [ -f "$links" ] || {
    echo "usage: $0 CIAK DATA_DIR [N] [SIZE]   (DATA_DIR from ciak bench serve --keep)" >&2
    exit 2
}
work=$(mktemp -d /tmp/ciak-burst-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$data" "$work/var"
load0=$(cut -d' ' -f1 /proc/loadavg)
"$ciak" serve --listen 127.0.0.1:0 --port-file "$work/port" --data-dir "$work/var" \
    --scenes scenes --campaign assegno-sociale --size "$size" >"$work/log" 2>&1 &
server=$!
for _ in $(seq 300); do
    [ -s "$work/port" ] && break
    sleep 0.1
done
port=$(cat "$work/port" 2>/dev/null) || {
    echo "the server did not start: $(tail -3 "$work/log")" >&2
    kill $server
    exit 1
}
base="http://127.0.0.1:$port"

# GET until 200 (at most a few minutes); prints the last status.
get() {
    local code=000
    for _ in $(seq 600); do
        code=$(curl -s -o "$2" -w '%{http_code}' "$1")
        [ "$code" = 200 ] && break
        sleep 0.3
    done
    echo "$code"
}

viewer() {
    local path=${1#http://127.0.0.1:1} out=$2 seg url
    get "$base$path/index.m3u8" /dev/null >/dev/null
    get "$base$path/media.m3u8" "$out.m3u8" >/dev/null
    grep -v '^#' "$out.m3u8" | while read -r seg; do
        case $seg in
        /*) url=$base$seg ;;
        http*) url=$seg ;;
        *) url=$base$path/$seg ;;
        esac
        get "$url" /dev/null >>"$out.codes"
    done
}

t0=$(date +%s)
pids=""
for j in $(seq 0 $((n - 1))); do
    viewer "$(sed -n "$((j + 150))p" "$links" | cut -d, -f2)" "$work/v$j" &
    pids="$pids $!"
done
wait $pids
hwm=$(awk '/VmHWM/{print int($2 / 1024)}' /proc/$server/status)
cpu=$(awk '{print ($14 + $15) / 100}' /proc/$server/stat)
kill $server
wait $server 2>/dev/null
ok=$(cat "$work"/v*.codes | grep -c '^200$')
bad=$(cat "$work"/v*.codes | grep -vc '^200$')
echo "$n viewers at once, $size: segments $ok ok, $bad failed; server peak RSS (VmHWM) $hwm MB," \
    "CPU $cpu s, $(($(date +%s) - t0)) s; load $load0 -> $(cut -d' ' -f1 /proc/loadavg)"
