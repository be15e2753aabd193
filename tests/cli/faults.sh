#!/usr/bin/env bash
# faults.sh: storage faults under a running server, on a small tmpfs that holds its whole data
# folder (keys, SQLite, segment cache). In turn: the disk fills up while segments are written,
# space comes back, the disk fills up again with personal segments in the cache (they are
# evicted rather than the viewer refused), the cache turns read-only, the SQLite files turn
# read-only, and the cache folder is deleted under the server. Each time: the
# viewer gets 503 + Retry-After (never a broken stream or a 500), no partial segment is ever
# on disk or served, the operator gets one log line and a metric, and the server recovers by
# itself. Needs root to mount (CI runs as root; elsewhere it skips with 77). Renders the small
# test scene (tests/data/render, 3 s) at 320x180. Mounts are undone on every exit.
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"

disk="$tmp/disk"
mounted=
cleanup() {
    stop_server
    if [ -n "$mounted" ]; then
        [ -n "${ro_bind:-}" ] && umount "$data/cache" 2>/dev/null
        umount "$disk" 2>/dev/null || umount -l "$disk" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

for tool in curl ffprobe ffmpeg python3; do
    command -v $tool >/dev/null || { echo "cli_faults: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "cli_faults: mounting a small tmpfs needs root, skipping"
    exit 77
fi
mkdir -p "$disk"
if ! mount -t tmpfs -o size=8m,mode=0700 tmpfs "$disk"; then
    echo "cli_faults: root, but cannot mount a tmpfs"
    exit 1
fi
mounted=1
if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi
if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "$ROOT/tests/data/render" --at 0 \
    -o "$tmp/probe.png" --size 64x36 >/dev/null 2>&1; then
    echo "cli_faults: no Vulkan device, skipping"
    exit 77
fi

check() { # check DESCRIPTION -- command...
    local what=$1
    shift 2
    if "$@" >/dev/null 2>"$tmp/check.err"; then ok; else bad "$what"; cat "$tmp/check.err"; fi
}

# The test scene as a campaign folder named after its id, assets by absolute path.
camp=render-test
mkdir -p "$tmp/scenes/$camp"
sed "s#\.\./\.\./\.\./assets#$ROOT/assets#g" "$ROOT/tests/data/render/scene.json" \
    >"$tmp/scenes/$camp/scene.json"
python3 - "$tmp/people.json" <<'EOF'
import json, sys
names = ["Anna", "Bruno", "Carla", "Dario", "Elena", "Fabio"]
json.dump([{"id": f"F-{i}", "first_name": n, "amount": 1000 * (i + 1)}
           for i, n in enumerate(names)], open(sys.argv[1], "w"))
EOF
data="$disk/var"
"$CIAK" import $camp "$tmp/people.json" --data-dir "$data" --scenes "$tmp/scenes" \
    >"$tmp/out" 2>&1 || { echo "cli_faults: import failed"; cat "$tmp/out"; exit 1; }
"$CIAK" links $camp --base-url http://127.0.0.1:1/ -o "$tmp/links.csv" \
    --expires "$(date -u -d '+30 days' +%F)" --data-dir "$data" >/dev/null 2>&1 ||
    { echo "cli_faults: links failed"; exit 1; }

# "The SQLite file becomes read-only" (section 5): a tmpfs cannot be remounted read-only while
# the server holds its SQLite files open for writing, and root ignores file modes, so the
# server runs with tests/support/ro_fault.c preloaded: while $ro_flag exists, its writes to
# *.db files fail with EROFS, as after the kernel's errors=remount-ro.
ro_lib=$(dirname "$CIAK")/tests/libck_ro_fault.so
ro_flag=$tmp/sqlite-read-only
[ -f "$ro_lib" ] || { echo "cli_faults: $ro_lib missing (built with the tests)"; exit 1; }
preload=$ro_lib${LD_PRELOAD:+:$LD_PRELOAD}
# An ASan runtime must come first among preloaded libraries; it does when linked in.
LD_PRELOAD=$preload CIAK_RO_FAULT_FLAG=$ro_flag \
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
"$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$data" \
    --scenes "$tmp/scenes" --campaign $camp --size 320x180 --no-warm --workers 1 \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.2; done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
    echo "cli_faults: the server did not start:"
    tail -20 "$tmp/server.log"
    exit 1
fi
base="http://127.0.0.1:$port"
url_of() { grep "^$1," "$tmp/links.csv" | cut -d, -f2 | sed "s#http://127.0.0.1:1#$base#"; }

# get URL NAME: the body in $tmp/NAME, the head in $tmp/NAME.h; prints the status.
get() { curl -s -m 120 -D "$tmp/$2.h" -o "$tmp/$2" -w '%{http_code}' "$1"; }
retry_after() { grep -qi '^retry-after: [0-9]' "$tmp/$1.h"; }
# The personal segment's name in a person's media playlist, and the first shared one.
# A busy server (a sanitizer build on a loaded machine) may answer 503 + Retry-After while its
# render queue is late (admission control): like a player, ask again after the wait it gives.
personal_of() {
    for _ in 1 2 3 4 5; do
        [ "$(get "$1/media.m3u8" media)" = 503 ] || break
        local pause
        pause=$(awk 'tolower($1) == "retry-after:" {print ($2 + 0 > 10 ? 10 : $2 + 0)}' "$tmp/media.h")
        sleep "${pause:-2}"
    done
    grep -v '^#' "$tmp/media" | grep -v '^/c/' | head -1
}
shared_of() { grep '^/c/' "$tmp/media" | head -1; }
# A whole segment: decodes without an error and lasts a second.
whole() {
    [ -s "$1" ] && [ -z "$(ffmpeg -nostdin -v error -i "$1" -f null - 2>&1)" ] &&
        ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" |
        awk '{ exit !($1 > 0.9 && $1 < 1.2) }'
}
# Nothing half-written in the cache: no temporary file, every segment whole.
no_partial() {
    local f
    f=$(find "$data/cache" -name '*.tmp*' 2>/dev/null)
    [ -z "$f" ] || { echo "partial: $f" >&2; return 1; }
    while IFS= read -r f; do
        whole "$f" || { echo "not whole: $f" >&2; ffprobe -v error -show_entries format=duration "$f" >&2; return 1; }
    done < <(find "$data/cache" -name '*.ts' 2>/dev/null)
}
metric() { curl -s -m 30 "$base/metrics" | grep "^$1 " | awk '{print $2}'; }
log_count() { grep -c -- "$1" "$tmp/server.log"; }
# fill KB: leaves about KB kilobytes free on the tmpfs.
fill() {
    rm -f "$disk/filler"
    local avail
    avail=$(df -k --output=avail "$disk" | tail -1)
    [ "$avail" -gt "$1" ] && dd if=/dev/zero of="$disk/filler" bs=1k count=$((avail - $1)) 2>/dev/null
    true
}

u1=$(url_of F-0); u2=$(url_of F-1); u3=$(url_of F-2); u4=$(url_of F-3); u5=$(url_of F-4)

# ---- 1. the disk fills up while segments are written ----
fill 24
check "full disk: the player page still 200" -- test "$(get "$u1" page)" = 200
p1=$(personal_of "$u1")
sh1=$(shared_of)
check "full disk: the media playlist still 200 (made in memory)" -- test -n "$p1"
code=$(get "$u1/$p1" seg)
if [ "$code" = 503 ] && retry_after seg; then ok; else bad "full disk: personal segment $code, want 503 + Retry-After"; fi
code=$(get "$u1/$p1" seg)
check "full disk: again 503" -- test "$code" = 503
code=$(get "$base$sh1" seg)
if [ "$code" = 503 ] && retry_after seg; then ok; else bad "full disk: shared segment $code, want 503 + Retry-After"; fi
check "full disk: nothing partial on disk" -- no_partial
check "full disk: one log line for many failed writes" -- test "$(log_count 'storage fault (nospace) writing')" -eq 1
check "full disk: metric" -- test "$(metric 'ciak_storage_errors_total{kind="nospace"}')" -ge 3
check "full disk: no 500" -- bash -c "! curl -s '$base/metrics' | grep -q 'status=\"500\"'"

# ---- 2. space comes back: the server recovers by itself ----
rm -f "$disk/filler"
check "space back: personal segment 200" -- test "$(get "$u1/$p1" seg)" = 200
check "space back: the segment is whole" -- whole "$tmp/seg"
check "space back: shared segment 200" -- test "$(get "$base$sh1" seg)" = 200
check "space back: one recovery line" -- test "$(log_count 'storage fault (nospace) .* is over')" -eq 1

# ---- 3. full again with personal segments cached: they make room, the viewer is served ----
p2=$(personal_of "$u2")
check "cache: person 2's segment" -- test "$(get "$u2/$p2" seg)" = 200
p3=$(personal_of "$u3")
check "cache: person 3's segment" -- test "$(get "$u3/$p3" seg)" = 200
for s in $(grep '^/c/' "$tmp/media"); do get "$base$s" seg >/dev/null; done
before=$(find "$data/cache/personal" -name '*.ts' | wc -l)
fill 24
p4=$(personal_of "$u4")
check "full disk with a cache: person 4 served (200), not refused" -- test "$(get "$u4/$p4" seg)" = 200
check "full disk with a cache: the segment is whole" -- whole "$tmp/seg"
check "full disk with a cache: older personal segments evicted" -- \
    test "$(metric ciak_cache_evicted_for_space_total)" -ge 1
check "full disk with a cache: the oldest (person 1) went first" -- \
    test ! -e "$data/cache/personal/${p1:0:2}/$p1"
check "full disk with a cache: fewer files than before plus one" -- \
    test "$(find "$data/cache/personal" -name '*.ts' | wc -l)" -le "$before"
check "full disk with a cache: nothing partial" -- no_partial
rm -f "$disk/filler"

# ---- 4. the cache turns read-only (a read-only bind mount over it) ----
# (A tmpfs cannot be remounted read-only while the server holds its SQLite files open for
# writing, and SQLite keeps writing through descriptors it already holds: the cache, where
# every segment is a new file, is what a read-only file system stops.)
mount --bind "$data/cache" "$data/cache" && mount -o remount,ro,bind "$data/cache" && ro_bind=1
check "read-only: mounted" -- test -n "${ro_bind:-}"
check "read-only: a cached segment still 200" -- test "$(get "$u4/$p4" seg)" = 200
check "read-only: the player page still 200" -- test "$(get "$u5" page)" = 200
p5=$(personal_of "$u5")
code=$(get "$u5/$p5" seg)
if [ "$code" = 503 ] && retry_after seg; then ok; else bad "read-only: new segment $code, want 503 + Retry-After"; fi
check "read-only: the broken-stream page is the polite one" -- grep -q "Riprovi" "$tmp/seg"
get "$u5/$p5" seg >/dev/null
check "read-only: one log line" -- test "$(log_count 'storage fault (readonly) writing')" -eq 1
check "read-only: metric" -- test "$(metric 'ciak_storage_errors_total{kind="readonly"}')" -ge 2
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"events":[{"type":"play"}]}' "$u5/events")
check "read-only cache: events still stored (SQLite is elsewhere)" -- test "$code" = 204
umount "$data/cache" && ro_bind=
check "writable again: the new segment 200" -- test "$(get "$u5/$p5" seg)" = 200
check "writable again: whole" -- whole "$tmp/seg"
check "writable again: one recovery line" -- test "$(log_count 'storage fault (readonly) .* is over')" -eq 1

# ---- 5. the SQLite files turn read-only (people store and analytics) ----
rows() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' "$data/analytics.db"; }
post() { curl -s -m 30 -D "$tmp/$2.h" -o "$tmp/$2" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"events":[{"type":"play"}]}' "$1/events"; }
check "sqlite: an event stored before" -- test "$(post "$u3" ev)" = 204
events_before=$(rows)
ro_before=$(metric 'ciak_storage_errors_total{kind="readonly"}')
touch "$ro_flag"
code=$(post "$u4" ev)
if [ "$code" = 503 ] && retry_after ev; then ok; else bad "sqlite read-only: events $code, want 503 + Retry-After"; cat "$tmp/ev"; fi
check "sqlite read-only: no detail in the answer" -- bash -c "! grep -qi -e sqlite -e '\.db' -e '$data' '$tmp/ev'"
code=$(post "$u2" ev)
check "sqlite read-only: again 503" -- test "$code" = 503
check "sqlite read-only: the player page still 200 (the store is read)" -- test "$(get "$u1" page)" = 200
check "sqlite read-only: a segment still 200" -- test "$(get "$u4/$p4" seg)" = 200
check "sqlite read-only: whole" -- whole "$tmp/seg"
check "sqlite read-only: one log line" -- test "$(log_count 'storage fault (readonly) writing the database')" -eq 1
check "sqlite read-only: metric" -- \
    test "$(metric 'ciak_storage_errors_total{kind="readonly"}')" -ge $((ro_before + 2))
check "sqlite read-only: no 500" -- bash -c "! curl -s '$base/metrics' | grep -q 'status=\"500\"'"
rm -f "$ro_flag"
check "sqlite writable again: events 204" -- test "$(post "$u4" ev)" = 204
check "sqlite writable again: one recovery line" -- \
    test "$(log_count 'storage fault (readonly) in the database .* is over')" -eq 1
check "sqlite writable again: what was stored is there, plus the new batch only" -- \
    test "$(rows)" -eq $((events_before + 1))
check "sqlite writable again: the database is sound" -- \
    test "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma integrity_check").fetchone()[0])' "$data/analytics.db")" = ok
check "sqlite writable again: the people store too" -- \
    test "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma integrity_check").fetchone()[0])' "$data/ciak.db")" = ok
check "sqlite writable again: a new viewer plays" -- test "$(get "$u5" page)" = 200

# ---- 6. the cache folder is deleted under the running server ----
rm -rf "$data/cache"
check "cache deleted: a personal segment that was cached is made again (200)" -- \
    test "$(get "$u4/$p4" seg)" = 200
check "cache deleted: whole" -- whole "$tmp/seg"
check "cache deleted: a shared segment 200" -- test "$(get "$base$sh1" seg)" = 200
check "cache deleted: the folders are back" -- test -d "$data/cache/personal" -a -d "$data/cache/shared"
check "cache deleted: one log line" -- test "$(log_count 'storage fault (missing) writing')" -eq 1
check "cache deleted: metric" -- test "$(metric 'ciak_storage_errors_total{kind="missing"}')" -ge 1
check "cache deleted: nothing partial" -- no_partial

check "still healthy" -- test "$(get "$base/healthz" hz)" = 200
check "never a 500" -- bash -c "! curl -s '$base/metrics' | grep -q 'status=\"500\"'"
check "no name in the log" -- bash -c "! grep -q -e Anna -e Bruno -e Dario -e 'F-[0-9]' '$tmp/server.log'"

echo "cli_faults: $pass passed, $fail failed"
if [ $fail -gt 0 ]; then
    echo "--- server log (last 40 lines) ---"
    tail -40 "$tmp/server.log"
    exit 1
fi
