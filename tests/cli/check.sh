#!/usr/bin/env bash
# Drives the real `ciak check` on the demo campaigns and on broken input: problems are
# printed as file:line:col, the exit status is non-zero, and nothing crashes.
set -u
CIAK=$1
ROOT=$2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() { # expect STATUS PATTERN -- command...
    local want=$1 pattern=$2
    shift 3
    "$@" >"$tmp/out" 2>&1
    local got=$?
    if [ "$got" -ne "$want" ] || ! grep -qE -- "$pattern" "$tmp/out"; then
        echo "FAIL: $* -> exit $got (want $want), output:"
        sed 's/^/    /' "$tmp/out" | head -20
        echo "    (expected /$pattern/)"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
pass=0

if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi

# Every demo campaign passes with its samples (every person's lines fit their windows) and
# prints a segment map; and every one speaks the person's data (issue 16).
for dir in "$ROOT"/scenes/*/; do
    expect 0 "segment map: [0-9]+ segments" -- "$CIAK" check "$dir" --data "$dir/samples.json"
    grep -q "a personal speech line" "$tmp/out" && pass=$((pass + 1)) ||
        { echo "FAIL: $dir: no personal speech line in the segment map"; fail=$((fail + 1)); }
done

scene="$ROOT/scenes/assegno-sociale"
# Broken JSON: file:line:col and exit 1.
mkdir -p "$tmp/broken"
cp "$scene/scene.json" "$tmp/broken/scene.json"
sed -i '0,/"duration"/s/"duration"/"duration" "oops"/' "$tmp/broken/scene.json"
sed -i "s#\.\./\.\./assets#$ROOT/assets#g" "$tmp/broken/scene.json"
expect 1 "scene.json:[0-9]+:[0-9]+: error: invalid JSON" -- "$CIAK" check "$tmp/broken"

# An unknown template field names file:line:col and the field.
mkdir -p "$tmp/tpl"
sed "s#\.\./\.\./assets#$ROOT/assets#g; 0,/{{first_name|name}}/s/{{first_name|name}}/{{nome|name}}/" \
    "$scene/scene.json" >"$tmp/tpl/scene.json"
expect 1 "scene.json:[0-9]+:[0-9]+: error: .*unknown field \"nome\"" -- "$CIAK" check "$tmp/tpl"

# Text that wraps outside the shape it sits on (issue 11: the pill "Consulente digitale delle
# pensioni" at 77 s wrapped onto its own border): the layer's file:line:col, exit 1.
mkdir -p "$tmp/pill"
sed "s#\.\./\.\./assets#$ROOT/assets#g
     /\"id\": \"btn-consulente-digitale-label\"/,/\"line_height\"/ {
         s/\"y\": 6,/\"y\": -2.5,/; s/\"height\": 80,/\"height\": 97,/; s/\"min_size\": 30,/\"min_size\": 36,/ }" \
    "$scene/scene.json" >"$tmp/pill/scene.json"
expect 1 "scene.json:[0-9]+:[0-9]+: error: layer \"btn-consulente-digitale-label\": text \(2 line\(s\) at 38 px\) goes outside the shape \"btn-consulente-digitale-box\"" \
    -- "$CIAK" check "$tmp/pill"
# A personal text whose descenders cross its card's border ("giugno" in the first payment's
# date): the record's line, and the layer's place in scene.json.
mkdir -p "$tmp/card"
sed "s#\.\./\.\./assets#$ROOT/assets#g
     /\"id\": \"payment-date-value\"/,/\"height\"/ s/\"y\": 54,/\"y\": 62,/" \
    "$scene/scene.json" >"$tmp/card/scene.json"
expect 1 "samples.json:[0-9]+: error: layer \"payment-date-value\" \(.*scene.json:[0-9]+:[0-9]+\): .*goes outside the shape \"payment-date-box\"" \
    -- "$CIAK" check "$tmp/card" --data "$scene/samples.json"

# Speech (issue 16): a voice espeak-ng lacks names the speech object's place; a personal line
# too long for the time it has fails for the record whose name makes it so (AS-0001's four
# first names), naming the records file's line and the line's place in scene.json; a filter a
# voice cannot say is a template error at its column.
mkdir -p "$tmp/voice" "$tmp/long" "$tmp/upper"
# The demo scene's own speech track goes first: each case brings one of its own.
sed '/^  "speech": {/,/^  },/d' "$scene/scene.json" >"$tmp/nospeech.json"
sed "s#\.\./\.\./assets#$ROOT/assets#g
     s#^  \"duration\": 88,#  \"duration\": 88,\n  \"speech\": {\"voice\": \"xx-nessuna\", \"lines\": [{\"start\": 1, \"text\": \"Buongiorno.\"}]},#" \
    "$tmp/nospeech.json" >"$tmp/voice/scene.json"
expect 1 "scene.json:8:[0-9]+: error: speech.voice: espeak-ng has no voice \"xx-nessuna\"" \
    -- "$CIAK" check "$tmp/voice"
sed "s#\.\./\.\./assets#$ROOT/assets#g
     s#^  \"duration\": 88,#  \"duration\": 88,\n  \"speech\": {\"lines\": [{\"start\": 1, \"text\": \"Buongiorno {{first_name|name}}.\"}, {\"start\": 3.7, \"text\": \"Ecco.\"}]},#" \
    "$tmp/nospeech.json" >"$tmp/long/scene.json"
expect 1 "samples.json:2: error: speech.lines\[0\].text \(.*scene.json:8:[0-9]+\): takes [0-9.]+ s to say for this record; it has 2.7 s \(until the next line\)" \
    -- "$CIAK" check "$tmp/long" --data "$scene/samples.json"
if grep -q "samples.json:3:" "$tmp/out"; then
    echo "FAIL: a short name was reported too long"; fail=$((fail + 1))
fi
sed "s#\.\./\.\./assets#$ROOT/assets#g
     s#^  \"duration\": 88,#  \"duration\": 88,\n  \"speech\": {\"lines\": [{\"start\": 1, \"text\": \"Gentile {{last_name|upper}}.\"}]},#" \
    "$tmp/nospeech.json" >"$tmp/upper/scene.json"
expect 1 "scene.json:8:[0-9]+: error: speech.lines\[0\].text: filter \"upper\" only changes how text looks" \
    -- "$CIAK" check "$tmp/upper"

# A bad record: file:line: field: message.
printf '[{"id": "x1", "first_name": 12}]' >"$tmp/bad.json"
expect 1 "bad.json:1: error: .*first_name" -- "$CIAK" check "$scene" --data "$tmp/bad.json"

# Garbage never crashes (exit 1, not a signal).
mkdir -p "$tmp/garbage"
head -c 4096 /dev/urandom >"$tmp/garbage/scene.json"
expect 1 "error" -- "$CIAK" check "$tmp/garbage"
: >"$tmp/empty.json"
expect 1 "error" -- "$CIAK" check "$scene" --data "$tmp/empty.json"
head -c 100000 /dev/urandom >"$tmp/garbage.csv"
expect 1 "error" -- "$CIAK" check "$scene" --data "$tmp/garbage.csv"
expect 1 "error" -- "$CIAK" check "$tmp/does-not-exist"

# Usage errors exit 2.
expect 2 "usage" -- "$CIAK" check
expect 2 "unknown command" -- "$CIAK" frobnicate

# The draw list of a personal moment carries the record's dependencies.
expect 0 "\"deps\": \[\"" -- "$CIAK" drawlist "$scene" --data "$scene/samples.json" --record 1 --at 6

echo "cli_check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
