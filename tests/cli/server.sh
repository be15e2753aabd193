#!/usr/bin/env bash
# End to end against the real binary on loopback: import (all-or-nothing, --skip-bad), links
# and QR codes, serve, then the statuses of good, expired, tampered and revoked links, a
# playlist and segments decoded by ffprobe, two people sharing the shared segments, restart
# with a warm cache, an idle view dropped from memory and made again (--view-idle-s), kill -9
# during a render (then renders at --render-nice 5), and no name or person id in the server's log.
# Renders at 320x180 to stay fast; every wait is bounded; the server is stopped on exit.
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"
check() { # check DESCRIPTION -- command...
    local what=$1
    shift 2
    if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi
}

for tool in curl ffprobe; do
    command -v $tool >/dev/null || { echo "cli_server: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi
# The probe only asks whether a Vulkan device exists (leaks are the GPU tests' business).
if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "$ROOT/scenes/assegno-sociale" --at 0 \
    -o "$tmp/probe.png" --size 64x36 >/dev/null 2>&1; then
    echo "cli_server: no Vulkan device, skipping"
    exit 77
fi

camp=assegno-sociale
samples="$ROOT/scenes/$camp/samples.json"
data="$tmp/var"
today=$(date -u +%F)
later=$(date -u -d "+30 days" +%F)

# ---- import: all or nothing, every bad row by line, --skip-bad ----
cat >"$tmp/mixed.json" <<'EOF'
[
  {"id": "T-1", "first_name": "Anna", "last_name": "Rossi", "gender": "F", "decision_date": "2026-11-01", "first_payment_date": "2026-12-01", "amount": 53869, "deductions": 0, "net_amount": 53869},
  {"id": "T-2", "first_name": 12, "last_name": "Bianchi", "gender": "M", "decision_date": "2026-11-01", "first_payment_date": "2026-12-01", "amount": 53869, "deductions": 0, "net_amount": 53869},
  {"id": "T-3", "first_name": "Luca", "last_name": "Verdi", "gender": "X", "decision_date": "2026-11-01", "first_payment_date": "2026-12-01", "amount": 53869, "deductions": 0, "net_amount": 53869}
]
EOF
"$CIAK" import $camp "$tmp/mixed.json" --data-dir "$data" --scenes "$ROOT/scenes" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "mixed.json:3:" "$tmp/out" && grep -q "mixed.json:4:" "$tmp/out" &&
    grep -q "nothing imported" "$tmp/out"; then ok; else bad "import all-or-nothing (rc $rc)"; cat "$tmp/out"; fi
"$CIAK" links $camp --base-url http://x -o "$tmp/none.csv" --data-dir "$data" >/dev/null 2>&1
check "nothing stored after a failed import" -- test $? -ne 0
"$CIAK" import $camp "$tmp/mixed.json" --data-dir "$data" --scenes "$ROOT/scenes" --skip-bad \
    --rejects "$tmp/rejects.txt" >"$tmp/out" 2>&1
check "import --skip-bad" -- grep -q "imported 1 person" "$tmp/out"
check "rejects name lines 3 and 4" -- grep -q ":3:.*first_name" "$tmp/rejects.txt"
check "rejects line 4" -- grep -q ":4:.*gender" "$tmp/rejects.txt"
# Text that cannot fit its box is refused like `ciak check` refuses it.
long=$(printf 'Bartolomeo%.0s ' $(seq 1 30))
printf '[{"id": "T-9", "first_name": "%s", "last_name": "Rossi", "gender": "M", "decision_date": "2026-11-01", "first_payment_date": "2026-12-01", "amount": 53869, "deductions": 0, "net_amount": 53869}]' \
    "$long" >"$tmp/long.json"
"$CIAK" check "$ROOT/scenes/$camp" --data "$tmp/long.json" >/dev/null 2>&1
check_rc=$?
"$CIAK" import $camp "$tmp/long.json" --data-dir "$data" --scenes "$ROOT/scenes" >/dev/null 2>&1
check "import agrees with check on fit" -- test $? -eq $check_rc
garbage="$tmp/garbage.csv"
head -c 20000 /dev/urandom >"$garbage"
"$CIAK" import $camp "$garbage" --data-dir "$data" --scenes "$ROOT/scenes" >/dev/null 2>&1
check "garbage import exits 1" -- test $? -eq 1

# ---- the demo records, links and QR codes ----
"$CIAK" import $camp "$samples" --data-dir "$data" --scenes "$ROOT/scenes" >"$tmp/out" 2>&1
check "import samples" -- grep -q "imported" "$tmp/out"
"$CIAK" import $camp "$samples" --data-dir "$data" --scenes "$ROOT/scenes" >"$tmp/out" 2>&1
check "re-import updates" -- grep -q "0 new" "$tmp/out"
"$CIAK" links $camp --base-url http://127.0.0.1:1/ -o "$tmp/links.csv" --qr "$tmp/qr" \
    --expires "$later" --data-dir "$data" >/dev/null 2>&1
check "links" -- test "$(wc -l <"$tmp/links.csv")" -gt 5
check "QR PNG" -- cmp -n 8 "$tmp/qr/AS-0001.png" <(printf '\x89PNG\r\n\x1a\n')
check "QR SVG" -- grep -q "<svg" "$tmp/qr/AS-0001.svg"
"$CIAK" links $camp --base-url http://127.0.0.1:1 -o "$tmp/expired.csv" --expires 2020-01-01 \
    --data-dir "$data" >/dev/null 2>&1

# ---- serve ----
warm_flag=--no-warm
serve_extra=
start_server() {
    rm -f "$tmp/port"
    "$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$data" \
        --scenes "$ROOT/scenes" --campaign $camp --size 320x180 $warm_flag $serve_extra --access-log \
        >>"$tmp/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.2; done
    port=$(cat "$tmp/port" 2>/dev/null)
}
start_server
if [ -z "$port" ]; then
    echo "cli_server: the server did not start:"
    tail -20 "$tmp/server.log"
    exit 1
fi
base="http://127.0.0.1:$port"
url_of() { grep "^$1," "$2" | cut -d, -f2 | sed "s#http://127.0.0.1:1#$base#"; }
u1=$(url_of AS-0001 "$tmp/links.csv")
u2=$(url_of AS-0002 "$tmp/links.csv")
u3=$(url_of AS-0003 "$tmp/links.csv")
ux=$(url_of AS-0001 "$tmp/expired.csv")
code() { curl -s -o /dev/null -m 120 -w '%{http_code}' "$@"; }

check "player 200" -- test "$(code "$u1")" = 200
check "expired 410" -- test "$(code "$ux")" = 410
at=$((${#base} + 3 + 19))
flip=A
[ "${u1:$at:1}" = A ] && flip=B
tampered="${u1:0:$at}$flip${u1:$((at + 1))}"
check "tampered 404" -- test "$(code "$tampered")" = 404
check "healthz" -- test "$(code "$base/healthz")" = 200
# Keep-alive: two requests on one connection, no "Connection: close" (players and CDNs
# fetch segment after segment on one connection).
curl -sv "$base/healthz" "$base/healthz" >"$tmp/ka.txt" 2>&1
check "keep-alive: the second request reuses the connection" -- grep -q "Re-using existing connection" "$tmp/ka.txt"
check "keep-alive: no Connection: close" -- bash -c "! grep -qi '^< connection: close' '$tmp/ka.txt'"
# playlist URL FILE: like a player, asks again after Retry-After while a busy node (a loaded
# machine, a sanitizer build) turns a new viewer away with 503 (admission control).
playlist() {
    local c pause
    for _ in 1 2 3 4 5 6; do
        c=$(curl -s -m 120 -D "$2.h" -o "$2" -w '%{http_code}' "$1")
        [ "$c" = 503 ] || return 0
        pause=$(awk 'tolower($1) == "retry-after:" {print ($2 + 0 > 10 ? 10 : $2 + 0)}' "$2.h")
        sleep "${pause:-2}"
    done
}
playlist "$u1/index.m3u8" "$tmp/master.m3u8"
check "master playlist" -- grep -q "media.m3u8" "$tmp/master.m3u8"
playlist "$u1/media.m3u8" "$tmp/media1.m3u8"
playlist "$u2/media.m3u8" "$tmp/media2.m3u8"
check "media playlist complete" -- grep -q "#EXT-X-ENDLIST" "$tmp/media1.m3u8"
check "no person id in playlists" -- bash -c "! grep -q 'AS-000' '$tmp/master.m3u8' '$tmp/media1.m3u8'"
shared=$(grep '^/c/' "$tmp/media1.m3u8" | head -1)
personal=$(grep -v '^#' "$tmp/media1.m3u8" | grep -v '^/c/' | head -1)
check "two people share the shared segments" -- \
    test "$(grep '^/c/' "$tmp/media1.m3u8")" = "$(grep '^/c/' "$tmp/media2.m3u8")"
check "personal segments differ between people" -- \
    test "$(grep -v '^/c/' "$tmp/media1.m3u8")" != "$(grep -v '^/c/' "$tmp/media2.m3u8")"
curl -s -m 120 -o "$tmp/shared.ts" "$base$shared"
curl -s -m 120 -o "$tmp/personal.ts" "$u1/$personal"
check "shared segment decodes" -- bash -c "ffprobe -v error -show_entries stream=codec_name -of csv '$tmp/shared.ts' | grep -q h264"
check "personal segment decodes" -- bash -c "ffprobe -v error -show_entries stream=codec_name -of csv '$tmp/personal.ts' | grep -q h264"
check "shared is immutable" -- bash -c "curl -sI -m 60 '$base$shared' | grep -qi 'immutable'"
check "range" -- test "$(code -H 'Range: bytes=0-187' "$u1/$personal")" = 206
curl -s -m 60 "$u1/captions.vtt" >"$tmp/captions.vtt"
check "captions" -- grep -q "WEBVTT" "$tmp/captions.vtt"
# Concurrency: the same personal segment and a few others at once, one render each.
segs=$(grep -v '^#' "$tmp/media2.m3u8" | grep -v '^/c/' | head -3)
pids=()
for sgm in $segs $segs; do
    curl -s -m 300 -o "$tmp/c.$RANDOM.ts" -w '%{http_code}\n' "$u2/$sgm" >>"$tmp/conc" &
    pids+=($!)
done
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}" # a bare `wait` would wait for the server too
check "concurrent requests all 200" -- test "$(grep -c '^200$' "$tmp/conc")" -eq 6
# Look-ahead keeps rendering in the background, so count at most one render per digest.
rendered=$(curl -s "$base/metrics" | sed -n 's/^ciak_segments_rendered_total{kind="personal"} //p')
distinct=$(cat "$tmp/media1.m3u8" "$tmp/media2.m3u8" | grep -v '^#' | grep -v '^/c/' | sort -u | wc -l)
check "single flight: one render per personal segment" -- test "${rendered:-99}" -le "$distinct"
check "no render failures" -- bash -c "curl -s '$base/metrics' | grep -q '^ciak_render_failures_total 0'"
"$CIAK" revoke $camp AS-0003 --data-dir "$data" >/dev/null 2>&1
check "revoked 404" -- test "$(code "$u3")" = 404
check "metrics" -- bash -c "curl -s '$base/metrics' | grep -q 'ciak_http_requests_total{route=\"player\",status=\"200\"}'"

# ---- restart: the cache is warm ----
stop_server
start_server
check "restart" -- test -n "$port"
base="http://127.0.0.1:$port"
u1=$(url_of AS-0001 "$tmp/links.csv")
check "cached segment after restart" -- test "$(code "$u1/$personal")" = 200
rendered=$(curl -s "$base/metrics" | sed -n 's/^ciak_segments_rendered_total{kind="personal"} //p')
check "no re-render after restart" -- test "${rendered:-1}" -eq 0

# ---- a view nobody asks for leaves memory (--view-idle-s; the server's sweep, every second) ----
stop_server
serve_extra="--view-idle-s 1"
start_server
serve_extra=
base="http://127.0.0.1:$port"
u1=$(url_of AS-0001 "$tmp/links.csv")
metric() { curl -s -m 30 "$base/metrics" | sed -n "s/^$1 //p"; }
curl -s -m 60 "$u1/captions.vtt" >"$tmp/captions2.vtt"
check "view made" -- test "$(metric ciak_views_made_total)" = 1
for _ in $(seq 1 100); do [ "$(metric ciak_views_held)" = 0 ] && break; sleep 0.3; done
check "the idle view is dropped" -- test "$(metric ciak_views_held)" = 0 \
    -a "$(metric ciak_views_speech_bytes)" = 0 -a "$(metric ciak_views_dropped_total)" = 1
curl -s -m 60 "$u1/captions.vtt" >"$tmp/captions3.vtt"
check "made again, the same captions" -- test "$(metric ciak_views_made_total)" = 2 \
    -a -s "$tmp/captions3.vtt"
check "the same captions" -- cmp -s "$tmp/captions2.vtt" "$tmp/captions3.vtt"
check "the same captions as before" -- cmp -s "$tmp/captions.vtt" "$tmp/captions3.vtt"

# ---- kill -9 during a render: nothing partial is ever served ----
u4=$(url_of AS-0004 "$tmp/links.csv")
playlist "$u4/media.m3u8" "$tmp/media4.m3u8" # queues the look-ahead
sleep 1
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null
server_pid=
serve_extra="--render-nice 5" # renders at a lower priority still finish (below)
start_server
serve_extra=
base="http://127.0.0.1:$port"
check "no unfinished files after restart" -- \
    test -z "$(find "$data/cache" -name '*.tmp*' -o -name '*.ts' -size 0)"
u4=$(url_of AS-0004 "$tmp/links.csv")
allgood=1
for sgm in $(grep -v '^#' "$tmp/media4.m3u8" | grep -v '^/c/' | head -3); do
    c=$(curl -s -m 300 -o "$tmp/k.ts" -w '%{http_code}' "$u4/$sgm")
    if ! ffprobe -v error -show_entries stream=codec_name -of csv "$tmp/k.ts" 2>/dev/null |
        grep -q h264; then
        echo "segment after kill -9: HTTP $c"
        allgood=0
    fi
done
check "segments complete after kill -9" -- test $allgood -eq 1
# The render workers' own threads (named ck-render) at the nice value asked for: field 19 of
# each thread's stat. The server's other threads are not.
thread_nice() {
    for t in /proc/"$server_pid"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] && awk '{print $19}' "$t/stat"
    done | sort -u | tr '\n' ' '
}
check "render workers at nice 5" -- test "$(thread_nice ck-render)" = "5 "
check "the HTTP threads not niced" -- test "$(thread_nice MHD-worker)" = "0 "
check "said at start" -- grep -q "render workers: [0-9]*, at nice 5" "$tmp/server.log"
stop_server

# ---- warming in the background: the server listens and answers before it ends ----
# The servers above rendered shared segments (a draining server finishes its queue while its
# viewers are quiet): start from an empty shared cache so there is something to warm.
rm -rf "$data/cache/shared"
from=$(($(wc -l <"$tmp/server.log") + 1))
warm_flag=
start_server
warm_flag=--no-warm
base="http://127.0.0.1:$port"
curl -s -m 60 "$base/healthz" >"$tmp/health1"
check "healthz while warming" -- grep -q "^warm-up: running, [0-9]* of [0-9]* shared segments" "$tmp/health1"
for _ in $(seq 1 600); do
    tail -n +"$from" "$tmp/server.log" | grep -q "warming shared segments: \([0-9]*\) of \1$" && break
    sleep 0.5
done
tail -n +"$from" "$tmp/server.log" >"$tmp/warm.log"
# Line numbers: listening, then the healthz answer, then the last progress line.
l_listen=$(grep -n "listening on" "$tmp/warm.log" | head -1 | cut -d: -f1)
l_health=$(grep -n "healthz 200" "$tmp/warm.log" | head -1 | cut -d: -f1)
l_done=$(grep -n "warming shared segments: \([0-9]*\) of \1$" "$tmp/warm.log" | head -1 | cut -d: -f1)
check "warming ends (progress in the log)" -- test -n "$l_done"
check "listening before warming ends, healthz answered meanwhile" -- \
    test "${l_listen:-99999}" -lt "${l_health:-0}" -a "${l_health:-99999}" -lt "${l_done:-0}"
progress=$(grep -c "warming shared segments: [0-9]* of" "$tmp/warm.log")
check "progress without flooding (at most every tenth)" -- test "$progress" -le 12
check "healthz after warming" -- bash -c "curl -s -m 60 '$base/healthz' | grep -q '^warm-up: done'"
stop_server

# ---- nothing personal in the log ----
leak=0
for id in AS-0001 AS-0002 AS-0003 AS-0004; do grep -q "$id" "$tmp/server.log" && leak=1; done
for name in $(sed -n 's/.*"first_name": "\([^" ]*\).*/\1/p' "$samples" | head -8); do
    grep -qi -- "$name" "$tmp/server.log" && leak=1
done
grep -q "$(basename "$u1")" "$tmp/server.log" && leak=1
grep -v "listening on" "$tmp/server.log" | grep -q "127\.0\.0\.1" && leak=1
check "no names, ids, tokens or addresses in the log" -- test $leak -eq 0

echo "cli_server: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
