#!/usr/bin/env bash
# `ciak bench render --speech` on a scene that speaks (issue 16, item 5), small: assegno-sociale
# at 160x90, its first 8 s. The FFmpeg peer must speak the person's lines too: its segment
# where the first line sounds (5.2 s, where the campaign's voice-over is silent) carries sound
# that the non-speaking peer's same segment lacks (ffmpeg volumedetect), the lines it says
# are the words ciak says, and both "+1 person" lines (without and with speech) are printed.
set -u
source "$2/tests/support/cli-lib.sh" "$@"
camp=assegno-sociale
for tool in ffmpeg espeak-ng; do
    command -v $tool >/dev/null || { echo "bench-render: $tool missing"; exit 1; }
done
need_campaign bench-render $camp
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$CIAK" bench render scenes/$camp --size 160x90 --seconds 8 --speech --out "$tmp" \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/out" "$tmp/err"; exit 1; }
grep -q "+1 person .* vs peer .* cheaper" "$tmp/out" && ok || bad "the +1 person line is missing"
grep -q "+1 person without speech .* | peer .* cheaper" "$tmp/out" && ok ||
    bad "the +1 person line without speech is missing"
grep -q "+1 person with speech .* | speaking peer .* cheaper" "$tmp/out" && ok ||
    bad "the +1 person line with speech is missing"

peer=$tmp/bench/peer speaking=$tmp/bench/peer-speech
# The peer said the lines that start in the first 8 s (5.2 s: "Gentile signora/signor ...").
nlines=$(wc -l <"$speaking/lines.txt")
[[ $nlines -eq 1 ]] && ok || bad "the peer says $nlines lines in 8 s, not 1"
grep -q "^5.200 " "$speaking/lines.txt" && ok || bad "the peer's line does not start at 5.2 s"
grep -q "^Gentile signor" "$speaking/line0.txt" && ok || bad "the peer's line is not ciak's words"
[[ -s $speaking/line0.wav ]] && ok || bad "espeak-ng made no samples"

# volume (mean dB) of segment N of a peer's output
mean_db() {
    ffmpeg -nostdin -v info -i "$1/seg00$2.ts" -vn -af volumedetect -f null - 2>&1 |
        sed -n 's/.*mean_volume: \(-\?[0-9.]*\) dB.*/\1/p'
}
# 6-8 s: the line sounds, the voice-over is silent.
with=$(mean_db "$speaking" 3)
without=$(mean_db "$peer" 3)
echo "peer's 6-8 s: mean $without dB without speech, $with dB with"
awk -v a="$with" 'BEGIN { exit !(a != "" && a > -50) }' && ok ||
    bad "the speaking peer is silent where its line sounds ($with dB)"
awk -v a="$with" -v b="$without" 'BEGIN { exit !(a != "" && b != "" && a > b + 20) }' && ok ||
    bad "the speaking peer's line adds no sound ($without -> $with dB)"
# Before the line, the two peers sound the same (the bed, mixed at unity gain).
b0=$(mean_db "$peer" 0) s0=$(mean_db "$speaking" 0)
awk -v a="$s0" -v b="$b0" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 0.5 && d > -0.5) }' &&
    ok || bad "the speaking peer changed the bed's level before the line ($b0 -> $s0 dB)"

echo "bench-render: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
