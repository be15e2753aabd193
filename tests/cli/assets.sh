#!/usr/bin/env bash
# Asset verification (issue 14): `ciak check` and `ciak import` refuse a scene whose video,
# image, font or audio would fail in front of a viewer, naming scene.json:line:col of the
# asset's declaration and the file. Each broken asset is tried alone in a small scene.
set -u
CIAK=$1
ROOT=$2
fail=0
pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "$tmp"
GEN="$ROOT/assets/generated"

if [ ! -f "$GEN/bg-blue.mp4" ] || [ ! -f "$GEN/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi

expect() { # expect STATUS PATTERN -- command...
    local want=$1 pattern=$2
    shift 3
    "$@" >"$tmp/out" 2>&1
    local got=$?
    # A sanitizer's report also exits 1: never a pass.
    if [ "$got" -ne "$want" ] || ! grep -qE -- "$pattern" "$tmp/out" ||
        grep -qE "Sanitizer|runtime error" "$tmp/out"; then
        echo "FAIL: $* -> exit $got (want $want), output:"
        sed 's/^/    /' "$tmp/out" | head -20
        echo "    (expected /$pattern/)"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

# scene DIR VIDEO IMAGE FONT AUDIO [TEXT] [LOOP]: a 3 s scene with one asset of each kind.
# The video asset is declared on line 8, the image on 9, the font on 10, the audio on 11.
scene() {
    local dir=$1 video=$2 image=$3 font=$4 audio=$5 text=${6:-Buongiorno} loop=${7:-false}
    mkdir -p "$dir"
    cat >"$dir/scene.json" <<EOF
{
  "format": 1, "id": "prova", "title": "Prova", "version": 1,
  "canvas": {"width": 320, "height": 240, "fps": 30},
  "duration": 3,
  "fields": {"first_name": {"type": "string"}},
  "assets": {
    "fallback": {"type": "font", "path": "$GEN/DejaVuSans.ttf"},
    "bg": {"type": "video", "path": "$video"},
    "icon": {"type": "image", "path": "$image"},
    "font": {"type": "font", "path": "$font"},
    "voice": {"type": "audio", "path": "$audio"}
  },
  "audio": "voice",
  "layers": [
    {"id": "bg", "type": "video", "start": 0, "end": 3, "asset": "bg", "width": 320,
     "height": 240, "loop": $loop},
    {"id": "icon", "type": "image", "start": 0, "end": 3, "asset": "icon", "width": 32,
     "height": 32},
    {"id": "hello", "type": "text", "start": 0, "end": 3, "text": "$text", "font": "font",
     "size": 20, "width": 300, "height": 40},
    {"id": "name", "type": "text", "start": 0, "end": 3, "text": "{{first_name}}",
     "font": "font", "fallback_font": "fallback", "size": 20, "y": 50, "width": 300,
     "height": 40}
  ]
}
EOF
}

# Good assets: a 4 s video (longer than its 3 s layer), the demo icon, font and voice.
ffmpeg -v error -f lavfi -i color=c=blue:s=320x240:r=30 -t 4 -c:v libx264 -pix_fmt yuv420p \
    "$tmp/good.mp4" || exit 1
ffmpeg -v error -f lavfi -i color=c=red:s=320x240:r=30 -t 1 -c:v libx264 -pix_fmt yuv420p \
    "$tmp/short.mp4" || exit 1
good_img="$GEN/assegno-sociale-icon.png"
good_font="$ROOT/assets/fonts/TitilliumWeb-Regular.ttf"
good_audio="$GEN/assegno-sociale-voice.m4a"

scene "$tmp/ok" "$tmp/good.mp4" "$good_img" "$good_font" "$good_audio"
expect 0 "segment map" -- "$CIAK" check "$tmp/ok"
# Its one keyframe (x264's default interval is 250 frames) makes every segment decode from
# the start: a warning with the fix, not an error. With a keyframe every second: none.
expect 0 "scene.json:8:[0-9]+: warning: assets.bg: \"$tmp/good.mp4\": keyframes up to 4.0 s apart.*ffmpeg -g 30 -keyint_min 30" -- \
    "$CIAK" check "$tmp/ok"
ffmpeg -v error -f lavfi -i color=c=blue:s=320x240:r=30 -t 4 -c:v libx264 -pix_fmt yuv420p \
    -g 30 -keyint_min 30 -sc_threshold 0 "$tmp/keyed.mp4" || exit 1
scene "$tmp/keyed" "$tmp/keyed.mp4" "$good_img" "$good_font" "$good_audio"
expect 0 "segment map" -- "$CIAK" check "$tmp/keyed"
if grep -q "keyframes" "$tmp/out"; then
    echo "FAIL: a keyframe every second still warned:"
    sed 's/^/    /' "$tmp/out" | head -5
    fail=$((fail + 1))
fi

# A video that is an `ftyp` box and then garbage.
{
    printf '\000\000\000\030ftypisom\000\000\002\000isomiso2'
    head -c 8192 /dev/urandom
} >"$tmp/corrupt.mp4"
scene "$tmp/video" "$tmp/corrupt.mp4" "$good_img" "$good_font" "$good_audio"
expect 1 "scene.json:8:[0-9]+: error: assets.bg: \"$tmp/corrupt.mp4\": corrupt video" -- \
    "$CIAK" check "$tmp/video"

# A PNG signature and then garbage.
{
    printf '\211PNG\r\n\032\n'
    head -c 4096 /dev/urandom
} >"$tmp/corrupt.png"
scene "$tmp/image" "$tmp/good.mp4" "$tmp/corrupt.png" "$good_font" "$good_audio"
expect 1 "scene.json:9:[0-9]+: error: assets.icon: \"$tmp/corrupt.png\": corrupt image" -- \
    "$CIAK" check "$tmp/image"

# A PNG cut in half: the header is fine, the pixels are not all there.
n=$(stat -c %s "$good_img")
head -c $((n / 2)) "$good_img" >"$tmp/half.png"
scene "$tmp/halfimg" "$tmp/good.mp4" "$tmp/half.png" "$good_font" "$good_audio"
expect 1 "scene.json:9:[0-9]+: error: assets.icon: \"$tmp/half.png\": corrupt image" -- \
    "$CIAK" check "$tmp/halfimg"

# A video shorter than the layer that shows it (no loop) ...
scene "$tmp/short" "$tmp/short.mp4" "$good_img" "$good_font" "$good_audio"
expect 1 "scene.json:8:[0-9]+: error: assets.bg: \"$tmp/short.mp4\": the video lasts 1.00 s but layer \"bg\" .* up to 3.00 s" -- \
    "$CIAK" check "$tmp/short"
# ... is fine when the layer loops it.
scene "$tmp/shortloop" "$tmp/short.mp4" "$good_img" "$good_font" "$good_audio" Buongiorno true
expect 0 "segment map" -- "$CIAK" check "$tmp/shortloop"

# A video cut in half by a failed copy: its header still announces 4 s.
n=$(stat -c %s "$tmp/good.mp4")
ffmpeg -v error -i "$tmp/good.mp4" -c copy -movflags +faststart "$tmp/fast.mp4" || exit 1
head -c $((n / 2)) "$tmp/fast.mp4" >"$tmp/cut.mp4"
scene "$tmp/cut" "$tmp/cut.mp4" "$good_img" "$good_font" "$good_audio" Buongiorno true
expect 1 "scene.json:8:[0-9]+: error: assets.bg: \"$tmp/cut.mp4\": (corrupt or cut short|corrupt video)" -- \
    "$CIAK" check "$tmp/cut"

# A font missing a glyph of a fixed text, with no fallback on that layer.
scene "$tmp/glyph" "$tmp/good.mp4" "$good_img" "$good_font" "$good_audio" "Buongiorno 漢"
expect 1 "scene.json:10:[0-9]+: error: assets.font: \"$good_font\": the font lacks characters that layer \"hello\" .*U\\+6F22" -- \
    "$CIAK" check "$tmp/glyph"

# A font that is not a font.
head -c 2048 /dev/urandom >"$tmp/bad.ttf"
scene "$tmp/font" "$tmp/good.mp4" "$good_img" "$tmp/bad.ttf" "$good_audio"
expect 1 "scene.json:10:[0-9]+: error: assets.font: .*bad.ttf" -- "$CIAK" check "$tmp/font"

# A font cut short: its table directory is whole, its glyph outlines are not.
n=$(stat -c %s "$good_font")
head -c $((n * 9 / 10)) "$good_font" >"$tmp/cut.ttf"
scene "$tmp/cutfont" "$tmp/good.mp4" "$good_img" "$tmp/cut.ttf" "$good_audio"
expect 1 "scene.json:10:[0-9]+: error: assets.font: \"$tmp/cut.ttf\": corrupt font: table '....' runs past the end of the file" -- \
    "$CIAK" check "$tmp/cutfont"

# Audio that is garbage, and audio shorter than the scene.
head -c 4096 /dev/urandom >"$tmp/bad.m4a"
scene "$tmp/audio" "$tmp/good.mp4" "$good_img" "$good_font" "$tmp/bad.m4a"
expect 1 "scene.json:11:[0-9]+: error: assets.voice: \"$tmp/bad.m4a\": corrupt audio" -- \
    "$CIAK" check "$tmp/audio"
ffmpeg -v error -f lavfi -i sine=frequency=440:duration=1 -c:a aac "$tmp/short.m4a" || exit 1
scene "$tmp/shortaudio" "$tmp/good.mp4" "$good_img" "$good_font" "$tmp/short.m4a"
expect 1 "scene.json:11:[0-9]+: error: assets.voice: \"$tmp/short.m4a\": the audio lasts 1\\.[0-9]+ s but the scene lasts 3\\.00 s" -- \
    "$CIAK" check "$tmp/shortaudio"

# Every problem at once: a scene with a corrupt video and a corrupt image reports both.
scene "$tmp/both" "$tmp/corrupt.mp4" "$tmp/corrupt.png" "$good_font" "$good_audio"
expect 1 "scene.json:9:[0-9]+: error: assets.icon" -- "$CIAK" check "$tmp/both"
expect 1 "scene.json:8:[0-9]+: error: assets.bg" -- "$CIAK" check "$tmp/both"

# `ciak import` refuses the campaign and stores nobody.
mkdir -p "$tmp/scenes"
cp -r "$tmp/video" "$tmp/scenes/prova"
printf '[{"id": "p1", "first_name": "Maria"}]\n' >"$tmp/people.json"
expect 1 "scene.json:8:[0-9]+: error: assets.bg: .*corrupt video" -- \
    "$CIAK" import prova "$tmp/people.json" --scenes "$tmp/scenes" --data-dir "$tmp/data"
if [ -e "$tmp/data/ciak.db" ]; then
    echo "FAIL: import with a corrupt video created a store"
    fail=$((fail + 1))
fi
rm -rf "$tmp/scenes/prova"
cp -r "$tmp/ok" "$tmp/scenes/prova"
expect 0 "imported 1 person" -- \
    "$CIAK" import prova "$tmp/people.json" --scenes "$tmp/scenes" --data-dir "$tmp/data"

# `ciak serve`: the campaign with a corrupt video is not served, the good one is, and
# /healthz names the one left out.
rm -rf "$tmp/scenes" && mkdir -p "$tmp/scenes"
cp -r "$tmp/ok" "$tmp/scenes/prova"
cp -r "$tmp/video" "$tmp/scenes/rotto"
sed -i 's/"id": "prova"/"id": "rotto"/' "$tmp/scenes/rotto/scene.json"
"$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$tmp/data" \
    --scenes "$tmp/scenes" --size 320x240 --no-warm >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do [ -s "$tmp/port" ] && break; sleep 0.2; done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
    echo "FAIL: the server did not start with one good campaign:"
    tail -20 "$tmp/server.log"
    fail=$((fail + 1))
else
    expect 0 "not serving rotto: an asset fails its checks" -- \
        curl -sf "http://127.0.0.1:$port/healthz"
    expect 0 "rotto/scene.json:8:[0-9]+: assets.bg: .*corrupt video" -- cat "$tmp/server.log"
    expect 0 "campaign prova v1" -- cat "$tmp/server.log"
fi
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null

echo "assets: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
