# cli-lib.sh: sourced by the CLI tests that start no server of the shared kind
# (tests/cli/speech.sh, bench-render.sh, bench-serve.sh), after they set CIAK and cd to the root:
# `source tests/support/cli-lib.sh`. Gives the pass and fail counters with ok/bad, and
# need_vulkan.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# need_vulkan NAME CAMPAIGN: exits 77 (ctest: skipped) when no Vulkan device can draw the
# campaign's first frame, saying so as NAME.
need_vulkan() {
    local probe=/tmp/$1-probe.$$.png
    if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "scenes/$2" --at 0 -o "$probe" \
        --size 64x36 >/dev/null 2>&1; then
        echo "$1: no Vulkan device, skipping"
        exit 77
    fi
    rm -f "$probe"
}
