#!/usr/bin/env bash
# Drives the real `ciak preview` window under a private Xvfb (lavapipe renders, the window
# presents through its own Vulkan swapchain):
#   - --screenshot equals `ciak frame` for the same scene, record and time (golden tolerance:
#     PSNR >= 40 dB, ffmpeg's psnr filter), and --overlays gives the window instead;
#   - live reload: editing a temporary copy of a scene reloads it, a broken edit shows the
#     error (file:line:col) while the last good version stays and the process keeps running,
#     and fixing it reloads again;
#   - transport by --script: N switches the record, PageDown jumps to the next segment;
#   - usage errors and broken scenes fail cleanly.
# Exit 77 (skip) only when Xvfb is not installed or ciak was built without the window
# (-DCIAK_PREVIEW=OFF). Bounded: every wait has a deadline.
set -u
CIAK=$1
ROOT=$2
pass=0
fail=0
tmp=$(mktemp -d)
xvfb_pid=
bg_pid=
cleanup() {
    [ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() {
    echo "FAIL: $*"
    fail=$((fail + 1))
}

# A build without the window (cmake -DCIAK_PREVIEW=OFF) says so, exit 1, and keeps the
# options: a usage error is still a usage error. Nothing else here can run: skip.
"$CIAK" preview "$tmp/no-scene" --at 1 --screenshot "$tmp/x.png" >"$tmp/built" 2>&1
if [ $? -eq 1 ] && grep -q "built without the preview window" "$tmp/built"; then
    "$CIAK" preview >/dev/null 2>&1
    [ $? -eq 2 ] || { echo "FAIL: ciak preview without a scene should be a usage error"; exit 1; }
    echo "cli_preview: this ciak has no preview window (-DCIAK_PREVIEW=OFF): skipped"
    exit 77
fi
if ! command -v Xvfb >/dev/null 2>&1; then
    echo "cli_preview: Xvfb not installed (scripts/install-deps.sh installs it): skipped"
    exit 77
fi
if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi
# Under ASan (make test-asan) LSAN_OPTIONS carries tests/lsan.supp (Mesa's lazily freed
# memory); the preview pins the Vulkan driver so those suppressions can match (preview.c).
# Reference frames come from `ciak frame`, whose own leak checks belong to its tests.
ref_frame() {
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$CIAK" frame "$@" 2>"$tmp/ref.log"
    local last=$#
    local out=${!last}
    if [ ! -s "$out" ]; then
        bad "reference frame $out not written:"
        sed 's/^/    /' "$tmp/ref.log" | tail -5
    fi
}

# A private X server: -displayfd picks a free display and says which once it is ready, so
# parallel test runs cannot collide (xvfb-run -a can).
exec 3>"$tmp/display"
Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 3>&-
for _ in $(seq 100); do
    [ -s "$tmp/display" ] && break
    sleep 0.1
done
if [ ! -s "$tmp/display" ]; then
    echo "FAIL: Xvfb did not start:"
    sed 's/^/    /' "$tmp/xvfb.log"
    exit 1
fi
export DISPLAY=":$(head -n1 "$tmp/display")"

# psnr A.png B.png -> average PSNR in dB ("inf" when identical), empty on failure.
psnr() {
    ffmpeg -hide_banner -nostdin -i "$1" -i "$2" -lavfi psnr -f null - 2>&1 |
        sed -n 's/.*PSNR.* average:\([^ ]*\).*/\1/p' | tail -n1
}
# same A B LABEL: PSNR >= 40 dB (the goldens' tolerance).
same() {
    local p
    p=$(psnr "$1" "$2")
    if [ "$p" = inf ] || awk -v p="$p" 'BEGIN { exit !(p != "" && p + 0 >= 40) }'; then
        ok
    else
        bad "$3: PSNR ${p:-?} dB < 40 ($1 vs $2)"
    fi
}
# differ A B LABEL: PSNR < 40 dB.
differ() {
    local p
    p=$(psnr "$1" "$2")
    if [ -n "$p" ] && [ "$p" != inf ] && awk -v p="$p" 'BEGIN { exit !(p + 0 < 40) }'; then
        ok
    else
        bad "$3: images should differ (PSNR ${p:-?})"
    fi
}
# expect STATUS PATTERN -- command...
expect() {
    local want=$1 pattern=$2
    shift 3
    timeout 60 "$@" >"$tmp/out" 2>&1
    local got=$?
    if [ "$got" -ne "$want" ] || ! grep -qE -- "$pattern" "$tmp/out"; then
        bad "$* -> exit $got (want $want), output:"
        sed 's/^/    /' "$tmp/out" | head -20
        echo "    (expected /$pattern/)"
    else
        ok
    fi
}
# wait_for FILE: up to 30 s.
wait_for() {
    for _ in $(seq 300); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

scene="$ROOT/scenes/assegno-sociale"
data="$scene/samples.json"

# ---- --screenshot equals `ciak frame` ----
ref_frame "$scene" --data "$data" --record 1 --at 7 -o "$tmp/frame.png"
expect 0 "wrote .*1280x720" -- "$CIAK" preview "$scene" --data "$data" --record 1 --at 7 \
    --screenshot "$tmp/shot.png"
same "$tmp/shot.png" "$tmp/frame.png" "screenshot vs frame (assegno-sociale, record 1, 3 s)"
# SCENE_DIR/samples.json is the default data; --size is passed to the compositor as in frame.
other="$ROOT/scenes/naspi-accolta"
ref_frame "$other" --data "$other/samples.json" --at 12.5 --size 640x360 -o "$tmp/frame2.png"
expect 0 "wrote .*640x360" -- "$CIAK" preview "$other" --at 12.5 --size 640x360 \
    --screenshot "$tmp/shot2.png"
same "$tmp/shot2.png" "$tmp/frame2.png" "screenshot vs frame (naspi-accolta, default data, 12.5 s)"
# --overlays: the window as shown (here 800x600, the picture letterboxed), not the frame.
expect 0 "wrote .*800x600" -- "$CIAK" preview "$scene" --at 7 --window 800x600 --overlays \
    --screenshot "$tmp/window.png"

# ---- usage and input errors ----
expect 2 "usage" -- "$CIAK" preview
expect 2 "usage" -- "$CIAK" preview "$scene" --screenshot "$tmp/x.png"
expect 2 "past the end" -- "$CIAK" preview "$scene" --at 9999 --screenshot "$tmp/x.png"
expect 1 "no scene" -- "$CIAK" preview "$tmp/does-not-exist" --at 1 --screenshot "$tmp/x.png"
mkdir -p "$tmp/broken"
sed "s#\.\./\.\./assets#$ROOT/assets#g; 0,/{{first_name|name}}/s/{{first_name|name}}/{{nome|name}}/" \
    "$scene/scene.json" >"$tmp/broken/scene.json"
expect 1 "scene.json:[0-9]+:[0-9]+: error: .*unknown field \"nome\"" -- \
    "$CIAK" preview "$tmp/broken" --at 1 --screenshot "$tmp/x.png"

# ---- live reload ----
live="$tmp/live"
mkdir -p "$live"
sed "s#\.\./\.\./assets#$ROOT/assets#g" "$scene/scene.json" >"$live/scene.json"
cp "$data" "$live/samples.json"
shots="$tmp/shots"
timeout 90 "$CIAK" preview "$live" --record 1 --at 7 --autoshot "$shots" --exit-after 80 \
    >"$tmp/live.log" 2>&1 &
bg_pid=$!
if wait_for "$shots/001.txt" && grep -q '^ok' "$shots/001.txt"; then
    ok
    same "$shots/001.png" "$tmp/frame.png" "live: first load vs frame"
else
    bad "live: no first autoshot"
fi

# An edit: the greeting changes for both genders.
sleep 0.2
sed -i 's/Gentile signora/Cara signora/; s/Gentile signor}}/Caro signor}}/' "$live/scene.json"
if wait_for "$shots/002.txt" && grep -q '^ok' "$shots/002.txt"; then
    ok
    ref_frame "$live" --data "$live/samples.json" --record 1 --at 7 -o "$tmp/frame1.png"
    same "$shots/002.png" "$tmp/frame1.png" "live: reloaded frame vs frame of the edited scene"
    differ "$shots/002.png" "$shots/001.png" "live: the edit shows"
else
    bad "live: no reload after the edit"
fi

# A broken edit: the error names file:line:col, the last good frame stays, the process lives.
cp "$live/scene.json" "$tmp/good.json"
sed -i '0,/{{first_name|name}}/s/{{first_name|name}}/{{nome|name}}/' "$live/scene.json"
if wait_for "$shots/003.txt" && grep -q '^error' "$shots/003.txt"; then
    ok
    if grep -qE 'scene.json:[0-9]+:[0-9]+: error: .*unknown field "nome"' "$shots/003.txt"; then
        ok
    else
        bad "live: error text without file:line:col: $(cat "$shots/003.txt")"
    fi
    same "$shots/003.png" "$shots/002.png" "live: last good version kept"
    differ "$shots/003-window.png" "$shots/002-window.png" "live: error overlay drawn"
else
    bad "live: no error after a broken edit"
fi
sleep 0.5
if kill -0 "$bg_pid" 2>/dev/null; then ok; else bad "live: preview died on a broken scene"; fi

# The fix reloads again.
cp "$tmp/good.json" "$live/scene.json"
touch "$live/scene.json"
if wait_for "$shots/004.txt" && grep -q '^ok' "$shots/004.txt"; then
    ok
    same "$shots/004.png" "$tmp/frame1.png" "live: fixed scene vs frame"
else
    bad "live: no reload after the fix"
fi
# SIGTERM ends it cleanly (exit 0; under ASan this also checks the teardown for leaks).
kill -TERM "$bg_pid"
wait "$bg_pid"
st=$?
bg_pid=
if [ "$st" -eq 0 ]; then ok; else
    bad "live: exit status $st after SIGTERM"
    sed 's/^/    /' "$tmp/live.log" | tail -20
fi

# ---- live shader reload (--shaders) ----
# A copy of shaders/: the preview compiles it with glslang; a shader edit shows, a shader
# with an error names its file:line and keeps the last good picture.
sh="$tmp/shaders"
mkdir -p "$sh"
cp "$ROOT"/shaders/*.vert "$ROOT"/shaders/*.frag "$ROOT"/shaders/*.comp "$ROOT"/shaders/*.glsl "$sh/"
sshots="$tmp/sshots"
timeout 90 "$CIAK" preview "$scene" --data "$data" --record 1 --at 7 --shaders "$sh" \
    --autoshot "$sshots" --exit-after 80 >"$tmp/shaders.log" 2>&1 &
bg_pid=$!
if wait_for "$sshots/001.txt" && grep -q '^ok' "$sshots/001.txt"; then
    ok
    same "$sshots/001.png" "$tmp/frame.png" "shaders: compiled from source vs frame"
else
    bad "shaders: no first autoshot: $(cat "$sshots/001.txt" 2>/dev/null)"
fi
# Text drawn in pure red: the picture changes.
sleep 0.2
sed -i 's/    o_color = v_c0 \* (cov \* v_p0.y);/    o_color = vec4(1.0, 0.0, 0.0, 1.0) * (cov * v_p0.y);/' "$sh/text.frag"
if grep -q 'vec4(1.0, 0.0, 0.0, 1.0)' "$sh/text.frag" && wait_for "$sshots/002.txt" &&
    grep -q '^ok' "$sshots/002.txt"; then
    ok
    differ "$sshots/002.png" "$sshots/001.png" "shaders: the shader edit shows"
else
    bad "shaders: no reload after a shader edit"
fi
echo 'this is not GLSL' >>"$sh/rect.frag"
if wait_for "$sshots/003.txt" && grep -qE 'rect.frag:[0-9]+: error' "$sshots/003.txt"; then
    ok
    same "$sshots/003.png" "$sshots/002.png" "shaders: last good version kept"
else
    bad "shaders: no file:line error for a broken shader: $(cat "$sshots/003.txt" 2>/dev/null)"
fi
kill -TERM "$bg_pid"
wait "$bg_pid"
bg_pid=

# ---- transport, by script ----
cat >"$tmp/script" <<'EOF'
# seconds action
0.2 n
0.4 shot
0.6 pagedown
0.8 shot
1.0 size 900x700
1.3 shot
1.5 quit
EOF
expect 0 "" -- "$CIAK" preview "$scene" --at 7 --script "$tmp/script" --autoshot "$tmp/tshots" \
    --exit-after 50
ref_frame "$scene" --data "$data" --record 1 --at 9 -o "$tmp/frame9.png"
if [ -f "$tmp/tshots/003.txt" ]; then
    ok
    same "$tmp/tshots/002.png" "$tmp/frame.png" "script: N shows record 1"
    if grep -q '^frame 270$' "$tmp/tshots/003.txt"; then ok; else
        bad "script: PageDown from 7 s should land on the segment at 9 s (frame 270): $(cat "$tmp/tshots/003.txt")"
    fi
    same "$tmp/tshots/003.png" "$tmp/frame9.png" "script: frame after PageDown"
    # A resized window keeps drawing (the swapchain follows) at the new size.
    size=$(python3 -c 'import struct, sys; print("%dx%d" % struct.unpack(">II", open(sys.argv[1], "rb").read(24)[16:24]))' \
        "$tmp/tshots/004-window.png" 2>/dev/null)
    if [ "$size" = 900x700 ]; then ok; else bad "script: window after resize is ${size:-?}, not 900x700"; fi
else
    bad "script: shots missing: $(ls "$tmp/tshots" 2>&1)"
fi

echo "cli_preview: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
