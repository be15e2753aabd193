#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS [TARGET...]: fuzzes each target (all by default) for SECONDS with
# libFuzzer, starting from its seed corpus (tests/fuzz/corpus/<target>) and the regressions.
# New inputs go to BUILD_DIR/fuzz-corpus/<target> (not committed). A crash is copied into
# tests/fuzz/regressions/<target>/ (so `make test` replays it once fixed) and fails the run.
# Prints each target's executions and what it found.
set -u
BUILD=$1
SECONDS_PER=${2:-60}
shift 2 || shift $#
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(scene template when records_json records_csv token events http)
status=0
for t in "${targets[@]}"; do
    bin="$BUILD/tests/fuzz_$t"
    work="$BUILD/fuzz-corpus/$t"
    art="$BUILD/fuzz-artifacts/$t"
    mkdir -p "$work" "$art"
    opts=(-max_total_time="$SECONDS_PER" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1
          -artifact_prefix="$art/")
    # The server answers on its own threads: a request's memory may be freed after the
    # answer is read, which libFuzzer's per-input leak check would take for a leak.
    [ "$t" = http ] && opts+=(-detect_leaks=0)
    [ -f "$ROOT/tests/fuzz/$t.dict" ] && opts+=(-dict="$ROOT/tests/fuzz/$t.dict")
    echo "== fuzz_$t: ${SECONDS_PER} s"
    ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" "${opts[@]}" "$work" "$ROOT/tests/fuzz/corpus/$t" "$ROOT/tests/fuzz/regressions/$t" \
        >"$BUILD/fuzz-$t.log" 2>&1
    rc=$?
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$BUILD/fuzz-$t.log" |
        sed 's/^/   /'
    found=0
    for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
        [ -e "$f" ] || continue
        cp "$f" "$ROOT/tests/fuzz/regressions/$t/"
        echo "   FOUND: $(basename "$f") -> tests/fuzz/regressions/$t/ (see $BUILD/fuzz-$t.log)"
        found=1
    done
    if [ $rc -ne 0 ] || [ $found -ne 0 ]; then
        grep -m5 -E "ERROR|SUMMARY|runtime error" "$BUILD/fuzz-$t.log" | sed 's/^/   /'
        status=1
    fi
done
exit $status
