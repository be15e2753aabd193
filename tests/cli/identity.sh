#!/usr/bin/env bash
# identity.sh CIAK REPO_ROOT: one digest names one byte string, whoever renders it. The NASpI
# campaign at 320x180 through `ciak render` (a batch: every segment of two people, personal
# ones between shared ones), `ciak warm` (a batch of the shared segments only, other memory
# garbage: MALLOC_PERTURB_) and `ciak serve` (one segment at a time: the warm-up's shared
# segments, then each person's personal segments alone). Every shared segment and every
# personal segment with the same digest must have the same bytes (cmp). Before the fix 14 of
# 32 shared segments and some personal ones differed here (glyph atlas positions, x264's
# frame threads and B-frames). 320x180 is the smallest size that shows it and where libx264
# itself is exact: at 160 px wide it reads past its own buffers (valgrind), see
# docs/rendering.md. Prints "N passed, N failed"; exits 77 without assets or Vulkan.
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"
camp=naspi-accolta
scenes=$ROOT/scenes
samples=$scenes/$camp/samples.json
size=320x180
[[ -f $ROOT/assets/generated/DejaVuSans.ttf ]] || { echo "assets/generated missing"; exit 77; }
for tool in curl cmp; do
    command -v $tool >/dev/null || { echo "identity: $tool missing"; exit 1; }
done
if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "$scenes/$camp" --at 0 -o "$tmp/probe.png" \
    --size 64x36 >/dev/null 2>&1; then
    echo "identity: no Vulkan device, skipping"
    exit 77
fi
check() { # check DESCRIPTION -- command...
    local what=$1
    shift 2
    if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi
}
# same WHAT A_DIR B_DIR: every segment in A that B has too (same digest) has the same bytes.
same() {
    local n=0 differ=0 f
    for f in "$2"/*.ts; do
        [[ -f $3/${f##*/} ]] || continue
        n=$((n + 1))
        cmp -s "$f" "$3/${f##*/}" || differ=$((differ + 1))
    done
    echo "$1: $n segments compared, $differ differ"
    if ((n > 0 && differ == 0)); then ok; else bad "$1"; fi
}

# ---- ciak render: two people, everything in one batch each ----
for id in NA-0001 NA-0004; do
    "$CIAK" render "$scenes/$camp" --data "$samples" --id $id -o "$tmp/render-$id" \
        --cache "$tmp/render-cache" --size $size >"$tmp/render.log" 2>&1
    check "ciak render $id" -- test $? -eq 0
done
# The first person's run rendered every segment; the second reused the shared ones (9
# personal: 5-11 s and 13-25 s, where the picture or the voice says the person's data).
check "the second person reused the shared segments" -- grep -q "39 segments: 30 reused, 9 rendered" "$tmp/render.log"
shared_render=$tmp/render-cache/$camp/1

# ---- ciak warm: the shared segments alone, another heap ----
MALLOC_PERTURB_=165 "$CIAK" warm $camp --data-dir "$tmp/warm" --scenes "$scenes" --size $size \
    >"$tmp/warm.log" 2>&1
check "ciak warm" -- grep -q "32 shared segment(s) rendered" "$tmp/warm.log"
same "warm = render (shared)" "$tmp/warm/cache/shared/$camp/1" "$shared_render"

# ---- ciak serve: its warm-up, then each segment on request ----
data=$tmp/var
"$CIAK" import $camp "$samples" --data-dir "$data" --scenes "$scenes" >/dev/null 2>&1
"$CIAK" links $camp --base-url http://127.0.0.1:1 -o "$tmp/links.csv" --data-dir "$data" \
    --expires "$(date -u -d "+30 days" +%F)" \
    >/dev/null 2>&1
"$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$data" \
    --scenes "$scenes" --campaign $camp --size $size >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.2; done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
    echo "identity: the server did not start:"
    tail -20 "$tmp/server.log"
    exit 1
fi
base="http://127.0.0.1:$port"
for id in NA-0001 NA-0004; do
    url=$(grep "^$id," "$tmp/links.csv" | cut -d, -f2 | sed "s#http://127.0.0.1:1#$base#")
    mkdir -p "$tmp/serve-$id"
    curl -s -m 300 "$url/media.m3u8" >"$tmp/serve-$id/media.m3u8"
    all=1
    while read -r seg; do
        case $seg in
        /c/*) src=$base$seg ;;
        *) src=$url/$seg ;;
        esac
        name=${seg##*/}
        name=${name%%\?*}
        curl -s -f -m 300 -o "$tmp/serve-$id/$name" "$src" || all=0
    done < <(grep -v '^#' "$tmp/serve-$id/media.m3u8")
    check "server: every segment of $id" -- test $all -eq 1
    check "server $id: 39 segments" -- test "$(ls "$tmp/serve-$id"/*.ts | wc -l)" -eq 39
    # The server's playlist names the same digests as `ciak render`'s.
    check "server $id: same digests as render" -- test \
        "$(grep -v '^#' "$tmp/serve-$id/media.m3u8" | sed 's#.*/##; s#?.*##' | sort)" = \
        "$(grep -v '^#' "$tmp/render-$id/video.m3u8" | sort)"
    same "server = render ($id, shared and personal)" "$tmp/serve-$id" "$tmp/render-$id"
done
stop_server
same "server warm-up = warm (shared)" "$data/cache/shared/$camp/1" "$tmp/warm/cache/shared/$camp/1"

echo "identity: $pass passed, $fail failed"
((fail == 0))
