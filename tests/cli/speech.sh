#!/usr/bin/env bash
# Personal speech through the real server (issue 16): assegno-sociale's voice-over is silent
# from 17.3 s to 27.6 s except for the person's own lines, so the segment at 18 s must carry
# sound (ffmpeg volumedetect), differ per person, and its captions must be the spoken words;
# a segment no personal line touches (40 s) is one shared URL for everybody.
set -u
source "$2/tests/support/cli-lib.sh" "$@"
camp=assegno-sociale
command -v ffmpeg >/dev/null || { echo "speech: ffmpeg missing"; exit 1; }
need_campaign speech $camp
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

"$CIAK" import $camp scenes/$camp/samples.json --data-dir "$tmp/var" --scenes scenes \
    >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
"$CIAK" links $camp --base-url http://127.0.0.1 -o "$tmp/links.csv" \
    --expires "$(date -u -d '+30 days' +%F)" --data-dir "$tmp/var" >/dev/null 2>&1 || exit 1
"$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$tmp/var" \
    --scenes scenes --campaign $camp --size 160x90 --no-warm >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
[ -n "$port" ] || { echo "FAIL: server did not start"; tail "$tmp/server.log"; exit 1; }

# segment URL of person N (line N+1 of links.csv) at scene time T
seg_at() {
    local link
    link=$(sed -n "$(($1 + 1))p" "$tmp/links.csv" | cut -d, -f2 | sed "s#^http://127.0.0.1#http://127.0.0.1:$port#")
    curl -sf "$link/media.m3u8" | awk -v t0="$2" '
        /^#EXTINF:/ { split($0, a, /[:,]/); d = a[2]; next }
        /^[^#]/ { if (t <= t0 && t + d > t0) print $0; t += d }' |
        sed "s#^/#http://127.0.0.1:$port/#; t; s#^#$link/#"
}
mean_db() { ffmpeg -hide_banner -i "$1" -af volumedetect -f null - 2>&1 | sed -n 's/.*mean_volume: \(-*[0-9.]*\) dB.*/\1/p'; }

a18=$(seg_at 1 18) b18=$(seg_at 2 18)
curl -sf -o "$tmp/a18.ts" "$a18" && curl -sf -o "$tmp/b18.ts" "$b18" || bad "segments at 18 s"
db=$(mean_db "$tmp/a18.ts")
if awk -v d="${db:--99}" 'BEGIN { exit !(d > -40) }'; then ok; else
    bad "the person's line at 18 s is silent (mean volume ${db:-?} dB)"
fi
if [ "$a18" != "$b18" ] && ! cmp -s "$tmp/a18.ts" "$tmp/b18.ts"; then ok; else
    bad "two people got the same segment at 18 s"
fi
[ "$(seg_at 1 40)" = "$(seg_at 2 40)" ] && [[ "$(seg_at 1 40)" == */c/* ]] && ok ||
    bad "the segment at 40 s is not one shared URL"
link=$(sed -n 2p "$tmp/links.csv" | cut -d, -f2 | sed "s#^http://127.0.0.1#http://127.0.0.1:$port#")
vtt=$(curl -sf "$link/captions.vtt")
grep -q "^Il primo pagamento sarà .* 20[0-9][0-9]\.$" <<<"$vtt" && ok || bad "captions: no spoken first payment line"
grep -q "euro" <<<"$vtt" && ! grep -q "€" <<<"$(grep -A1 '00:00:21' <<<"$vtt")" && ok ||
    bad "captions: the amount is not in its spoken form"
# No personal text in the server's log.
name=$(sed -n 's/.*"last_name": "\([^"]*\)".*/\1/p' scenes/$camp/samples.json | head -1)
grep -qF "$name" "$tmp/server.log" && bad "the server's log names a person" || ok
echo "speech: $pass passed, $fail failed"
[ $fail -eq 0 ]
