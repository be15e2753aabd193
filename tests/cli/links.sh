#!/usr/bin/env bash
# `ciak links` never writes links born expired: the demo campaigns' sample dates are in the
# past, so without --expires their links would answer 410 at once and the server's start-up
# purge would delete those people. It refuses (exit 1), saying how many and the way out
# (--expires), and writes nothing; with --expires it writes them. Needs no GPU.
set -u
CIAK=$1
ROOT=$2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi
camp=assegno-sociale
data=$tmp/var
"$CIAK" import $camp "$ROOT/scenes/$camp/samples.json" --data-dir "$data" --scenes "$ROOT/scenes" \
    >"$tmp/import" 2>&1 || { echo "cli_links: import failed:"; cat "$tmp/import"; exit 1; }
people=$(grep -oE 'imported [0-9]+' "$tmp/import" | grep -oE '[0-9]+')
closed=$(grep -oE '[0-9]+ person\(s\) already past' "$tmp/import" | grep -oE '^[0-9]+')
[ -n "$closed" ] && [ "$closed" -gt 0 ] && ok || bad "the samples should be past their window: $(cat "$tmp/import")"

"$CIAK" links $camp --base-url https://example.org -o "$tmp/links.csv" --data-dir "$data" \
    >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -qF "$closed of $people person(s)" "$tmp/out" &&
    grep -qF "born expired" "$tmp/out" && grep -qF -- "--expires YYYY-MM-DD" "$tmp/out"; then ok; else
    bad "links without --expires: exit $rc, want 1 naming $closed of $people and --expires: $(cat "$tmp/out")"
fi
[ ! -e "$tmp/links.csv" ] && ok || bad "links without --expires wrote $tmp/links.csv"

later=$(date -u -d '+30 days' +%F)
"$CIAK" links $camp --base-url https://example.org -o "$tmp/links.csv" --expires "$later" \
    --data-dir "$data" >"$tmp/out" 2>&1 && ok || bad "links --expires $later: $(cat "$tmp/out")"
if [ "$(tail -n +2 "$tmp/links.csv" | wc -l)" -eq "$people" ] &&
    ! tail -n +2 "$tmp/links.csv" | cut -d, -f3 | grep -qvx "$later"; then ok; else
    bad "every link should last until $later"
fi
# Re-issued, the people's data is kept until then: links without --expires are fine now.
"$CIAK" links $camp --base-url https://example.org -o "$tmp/again.csv" --data-dir "$data" \
    >"$tmp/out" 2>&1 && ok || bad "links after a re-issue: $(cat "$tmp/out")"
# A past --expires stays possible on purpose (tests make links that answer 410 this way).
"$CIAK" links $camp --base-url https://example.org -o "$tmp/old.csv" --expires 2020-01-01 \
    --data-dir "$data" >/dev/null 2>&1 && ok || bad "links --expires 2020-01-01"

echo "cli_links: $pass passed, $fail failed"
[ $fail -eq 0 ]
