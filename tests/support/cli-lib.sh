# cli-lib.sh: sourced by the CLI tests that start no server of the shared kind
# (tests/cli/speech.sh, bench-render.sh, bench-serve.sh) as `source "$2/tests/support/cli-lib.sh"
# "$@"`: sets CIAK and ROOT from the test's arguments and goes to ROOT; gives the pass and fail
# counters with ok/bad, and need_campaign.
CIAK=$1
ROOT=$2
cd "$ROOT" || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# need_campaign NAME CAMPAIGN: exits 77 (ctest: skipped), saying so as NAME, when the
# campaign's generated assets are missing or no Vulkan device can draw its first frame.
need_campaign() {
    [[ -f assets/generated/$2-voice.m4a ]] || { echo "$1: assets/generated missing"; exit 77; }
    local probe=/tmp/$1-probe.$$.png
    if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "scenes/$2" --at 0 -o "$probe" \
        --size 64x36 >/dev/null 2>&1; then
        echo "$1: no Vulkan device, skipping"
        exit 77
    fi
    rm -f "$probe"
}
