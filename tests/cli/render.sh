#!/usr/bin/env bash
# render.sh CIAK REPO_ROOT: `ciak render` on the small test scene (tests/data/render, 3 s) at
# 320x180: the HLS folder, reuse of shared segments across people, --mp4, --no-share, and bad
# input (missing data, unwritable output, unknown encoder falls back). Prints "N passed, N
# failed"; exits 77 when the generated assets or a Vulkan device are missing.
set -u
CIAK=$1 ROOT=$2
SCENE=$ROOT/tests/data/render DATA=$SCENE/people.json
[[ -f $ROOT/assets/generated/bg-blue.mp4 ]] || { echo "assets/generated missing"; exit 77; }
command -v ffprobe >/dev/null || { echo "ffprobe missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else ko "$1"; fi; }

out=$("$CIAK" render "$SCENE" --data "$DATA" -o "$T/a" --cache "$T/cache" --size 320x180 \
    --mp4 "$T/a.mp4" 2>&1)
rc=$?
if ((rc == 1)) && grep -q "Vulkan\|vulkan" <<<"$out"; then echo "no Vulkan device"; exit 77; fi
check "((rc == 0))"
check "grep -q '3 segments: 0 reused, 3 rendered (2 shared, 1 personal)' <<<\"\$out\""
check "[[ -f $T/a/index.m3u8 && -f $T/a/video.m3u8 && -f $T/a/subs.m3u8 && -f $T/a/captions.vtt ]]"
check "(( \$(ls $T/a/*.ts | wc -l) == 3 ))"
check "grep -q '#EXT-X-ENDLIST' $T/a/video.m3u8"
check "(( \$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 $T/a/index.m3u8 | head -1) == 90 ))"
check "(( \$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 $T/a.mp4) == 90 ))"
check "[[ -z \$(ffmpeg -nostdin -v error -i $T/a/index.m3u8 -f null - 2>&1) ]]"
# The master playlist declares what its segments measure (HLS: BANDWIDTH the peak segment
# bit rate, within 10 %; AVERAGE-BANDWIDTH), and no closed captions in the video.
peak=$(awk -v d="$T/a" '/^#EXTINF:/ { split($0, x, /[:,]/); dur = x[2]; next }
    /^[^#]/ { cmd = "stat -c %s " d "/" $0; cmd | getline sz; close(cmd)
              r = sz * 8 / dur; if (r > m) m = r }
    END { printf "%d", m }' "$T/a/video.m3u8")
bw=$(sed -n 's/.*[:,]BANDWIDTH=\([0-9]*\).*/\1/p' "$T/a/index.m3u8")
check "(( peak > 0 && bw * 10 >= peak * 9 && bw * 10 <= peak * 11 ))"
check "grep -q 'AVERAGE-BANDWIDTH=[0-9]' $T/a/index.m3u8 && grep -q 'CLOSED-CAPTIONS=NONE' $T/a/index.m3u8"
# no personal data in what ciak prints
check "! grep -qi 'maria\|T-1\|538' <<<\"\$out\""

# a second person reuses both shared segments
out=$("$CIAK" render "$SCENE" --data "$DATA" --record 1 -o "$T/b" --cache "$T/cache" \
    --size 320x180 2>&1)
check "(($? == 0))"
check "grep -q '3 segments: 2 reused, 1 rendered (0 shared, 1 personal)' <<<\"\$out\""
check "(( \$(ls $T/a/*.ts $T/b/*.ts | xargs -n1 basename | sort -u | wc -l) == 4 ))"

# --no-share renders everything; an unknown encoder falls back to libx264 with a log line
out=$("$CIAK" render "$SCENE" --data "$DATA" --id T-3 -o "$T/c" --cache "$T/cache" \
    --size 320x180 --no-share --encoder h264_nosuch 2>&1)
check "(($? == 0))"
check "grep -q '3 rendered (0 shared, 3 personal)' <<<\"\$out\""
check "grep -q 'h264_nosuch is unavailable.*falling back to libx264' <<<\"\$out\""
# same visible data as record 0: the same personal segment
check "cmp -s $T/c/\$(sed -n 8p $T/a/video.m3u8) $T/a/\$(sed -n 8p $T/a/video.m3u8)"

# bad input: clear errors, non-zero exit, nothing half-written
"$CIAK" render "$SCENE" -o "$T/d" >/dev/null 2>&1
check "(($? == 2))"
out=$("$CIAK" render "$SCENE" --data "$T/missing.json" -o "$T/d" --size 320x180 2>&1)
check "(($? == 1)) && grep -q 'missing.json' <<<\"\$out\""
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [[ $(id -u) != 0 ]]; then
    out=$("$CIAK" render "$SCENE" --data "$DATA" -o "$T/ro/x" --size 320x180 2>&1)
    check "(($? == 1)) && grep -q 'ro/x' <<<\"\$out\""
fi
out=$("$CIAK" render "$SCENE" --data "$DATA" -o /proc/ciak-out --size 320x180 \
    --cache "$T/cache" 2>&1)
check "(($? == 1)) && grep -q '/proc/ciak-out' <<<\"\$out\""
check "(( \$(find $T -name '*.tmp*' | wc -l) == 0 ))"

echo "$pass passed, $fail failed"
((fail == 0))
