#!/usr/bin/env bash
# The option tables (src/cli/ck_cli.h) against the real binary: every option a command
# accepts (`ciak help --options`, straight from the tables) is listed by its `--help`, is
# accepted on a command line (`ciak help --try` parses without running), every option its
# `--help` lists is one it accepts; unknown options and bad values are refused with exit 2,
# naming the option and the value; and the README's command list is `ciak help --markdown`.
set -u
CIAK=$1
ROOT=$2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# A value each placeholder accepts.
sample() {
    case $1 in
    WxH) echo 640x360 ;;
    SECONDS | S) echo 1.5 ;;
    N | ID) echo 1 ;; # --id ID is any string; keys drop's ID is a key number
    PER_MIN) echo 6,12 ;;
    YYYY-MM-DD) echo 2027-01-05 ;;
    HOST:PORT) echo 127.0.0.1:0 ;;
    URL) echo https://example.org ;;
    *) echo "x$RANDOM" ;;
    esac
}

# The shortest command line CMD accepts: its positionals and required options, from the first
# line of its --help ("usage: ciak links CAMPAIGN --base-url URL -o links.csv [OPTIONS]").
minimal() {
    local cmd=$1 words line opt=
    read -r -a words <<<"$("$CIAK" $cmd --help | head -1)"
    line=()
    for w in "${words[@]:2+$(wc -w <<<"$cmd")}"; do
        case $w in
        \[*) ;;
        -*) opt=$w; line+=("$w") ;;
        *) if [ -n "$opt" ]; then line+=("$(sample "$w")"); opt=; else line+=("$(sample "$w")"); fi ;;
        esac
    done
    [ ${#line[@]} -eq 0 ] || printf '%s\n' "${line[@]}"
}

"$CIAK" help --options >"$tmp/options" || bad "ciak help --options"
[ "$(wc -l <"$tmp/options")" -gt 40 ] || bad "ciak help --options lists too few options"
cut -f1 "$tmp/options" | sort -u >"$tmp/commands"
while read -r cmd; do
    "$CIAK" $cmd --help >"$tmp/help" 2>&1 || bad "ciak $cmd --help exits $?"
    mapfile -t base < <(minimal "$cmd")
    if "$CIAK" help --try $cmd "${base[@]}" >/dev/null 2>"$tmp/err"; then ok; else
        bad "ciak $cmd ${base[*]}: the usage line's own command line is refused: $(cat "$tmp/err")"
    fi
    # Every option in the table: in --help, and accepted with a value of its kind.
    while IFS=$'\t' read -r c name arg alias; do
        [ "$c" = "$cmd" ] || continue
        if [ "$alias" = - ] && grep -qE -- "^  $name( |$)" "$tmp/help" ||
            grep -qE -- "^  $alias, $name( |$)" "$tmp/help"; then ok; else
            bad "ciak $cmd --help does not list $name"
        fi
        args=("$name")
        [ "$arg" = - ] || args+=("$(sample "$arg")")
        # a required option is already in the base line: try it alone in its place
        rest=()
        skip=0
        for w in "${base[@]}"; do
            if [ $skip = 1 ]; then skip=0; continue; fi
            if [ "$w" = "$name" ] || [ "$w" = "$alias" ]; then skip=1; continue; fi
            rest+=("$w")
        done
        if "$CIAK" help --try $cmd "${rest[@]}" "${args[@]}" >/dev/null 2>"$tmp/err"; then ok; else
            bad "ciak $cmd ${rest[*]} ${args[*]} refused: $(cat "$tmp/err")"
        fi
    done <"$tmp/options"
    # Every option --help lists is one the command accepts (the table is the only list).
    grep -oE -- '^  (-[a-z], )?--[a-z0-9-]+' "$tmp/help" | sed -E 's/^  (-[a-z], )?//' |
        grep -vx -- --help | while read -r name; do
        grep -qP "^\Q$cmd\E\t\Q$name\E\t" "$tmp/options" || echo "$name"
    done >"$tmp/extra"
    if [ -s "$tmp/extra" ]; then bad "ciak $cmd --help lists options it does not accept: $(cat "$tmp/extra")"; else ok; fi
    # An option no command has is refused.
    "$CIAK" help --try $cmd "${base[@]}" --no-such-option >/dev/null 2>&1
    if [ $? -eq 2 ]; then ok; else bad "ciak $cmd accepts --no-such-option"; fi
done <"$tmp/commands"
[ "$(wc -l <"$tmp/commands")" -ge 18 ] || bad "fewer commands than expected: $(tr '\n' ' ' <"$tmp/commands")"

# Bad values: exit 2, naming the option and the value.
expect_usage() { # expect_usage PATTERN -- command...
    local pattern=$1
    shift 2
    "$@" >"$tmp/out" 2>&1
    local rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$pattern" "$tmp/out"; then ok; else
        bad "$* -> exit $rc, want 2 and \"$pattern\": $(head -3 "$tmp/out")"
    fi
}
expect_usage "ciak render: --size: '12x' is not WIDTHxHEIGHT" -- \
    "$CIAK" render scenes/x --data d.json -o out --size 12x
expect_usage "--size: '641x360' is not even" -- "$CIAK" serve --size 641x360
expect_usage "--size: '9000x10' is larger than 8192x8192" -- "$CIAK" frame s --at 1 -o f.png --size 9000x10
expect_usage "--workers: '0' is not a whole number from 1 to 64" -- "$CIAK" serve --workers 0
expect_usage "--expires: '2027-13-01' is not a date YYYY-MM-DD" -- \
    "$CIAK" links c --base-url https://x -o l.csv --expires 2027-13-01
expect_usage "--at: 'soon' is not a number of seconds" -- "$CIAK" drawlist s --at soon
expect_usage "--record: '-1' is not a whole number" -- "$CIAK" frame s --at 1 -o f.png --record -1
expect_usage "--at: needs a value" -- "$CIAK" drawlist s --at
expect_usage 'unknown option "--bogus"' -- "$CIAK" import c f.csv --bogus
expect_usage 'unexpected argument "three"' -- "$CIAK" revoke one two three
expect_usage "SCENE_DIR is missing" -- "$CIAK" check
expect_usage "--base-url URL is missing" -- "$CIAK" links c -o l.csv
expect_usage "--data-dir: given twice" -- "$CIAK" purge --data-dir a --data-dir b
expect_usage "usage: ciak keys drop ID" -- "$CIAK" keys
"$CIAK" render --help | grep -qF -- "--data FILE" && ok || bad "render --help: the shared --data"
"$CIAK" serve --help | grep -qF -- "--data-dir DIR" && ok || bad "serve --help: the shared --data-dir"

# The README's command list is generated (scripts/gen-docs.sh) and up to date.
begin='<!-- generated by `ciak help --markdown`; do not edit by hand -->'
end='<!-- end of the generated command list -->'
awk -v b="$begin" -v e="$end" '$0 == e {p = 0} p {print} $0 == b {p = 1}' "$ROOT/README.md" >"$tmp/readme"
"$CIAK" help --markdown >"$tmp/markdown"
if [ -s "$tmp/readme" ] && cmp -s "$tmp/readme" "$tmp/markdown"; then ok; else
    bad "README.md's command list is stale: run scripts/gen-docs.sh"
    diff "$tmp/readme" "$tmp/markdown" | head -10
fi

echo "cli_options: $pass passed, $fail failed"
[ $fail -eq 0 ]
