#!/usr/bin/env bash
# `ciak bench serve --speech` (issue 16, item 5), small: assegno-sociale at 160x90, one viewer
# playing 6 s per cost trial. The cost trial runs on the campaign as it is and again on a copy
# whose scene.json has no speech block (asset paths made absolute, so it still renders), and the
# table shows both side by side. No timing is asserted: only that both trials ran.
set -u
source "$2/tests/support/cli-lib.sh" "$@"
camp=assegno-sociale
need_campaign bench-serve $camp
tmp=$(mktemp -d)
kept=
trap 'rm -rf "$tmp" ${kept:+"$kept"}' EXIT

timeout 600 "$CIAK" bench serve --campaign $camp --size 160x90 --people 4 --ttfs 1 \
    --max-viewers 0 --wrk-seconds 0 --cost-viewers 1 --play 6 --speech --keep \
    >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/out" "$tmp/err"; exit 1; }
kept=$(sed -n 's/^ciak bench: kept \(.*\)$/\1/p' "$tmp/err")
[[ -d $kept ]] || { bad "no kept folder named"; cat "$tmp/err"; }

grep -q "cost trial, the campaign as it is, 1 new viewer" "$tmp/out" && ok ||
    bad "no cost trial on the campaign as it is"
grep -q "cost trial, no speech, 1 new viewer" "$tmp/out" && ok ||
    bad "no cost trial without speech"
grep -qE "^cost trial \(server CPU.*speaking +no speech block" "$tmp/out" && ok ||
    bad "the cost table's heading is missing"
grep -qE "^  CPU s per viewer +[0-9.]+ +[0-9.]+$" "$tmp/out" && ok ||
    bad "CPU per viewer is not measured in both runs"
grep -qE "^  CPU s per personal segment +[0-9.]+ +[0-9.]+$" "$tmp/out" && ok ||
    bad "CPU per personal segment is not measured in both runs"
grep -q "^speech adds [-+][0-9]* % CPU per viewer" "$tmp/out" && ok || bad "no speech share line"

# The copy: no speech block, absolute asset paths, the samples beside it.
copy=$kept/nospeech-scenes/$camp
if [[ -f $copy/scene.json ]]; then
    ok
    grep -q '"speech"' "$copy/scene.json" && bad "the copy still speaks" || ok
    grep -q '"path": "/' "$copy/scene.json" && ok || bad "the copy's asset paths are not absolute"
    grep -q '"path": "\.\.' "$copy/scene.json" && bad "the copy kept a relative asset path" || ok
    [[ -f $copy/samples.json ]] && ok || bad "the copy has no samples.json"
else
    bad "no copy without speech in $kept"
fi
# --min-viewers N --max-viewers N: that count alone, one trial; a minimum above the maximum is
# refused before anything starts.
timeout 300 "$CIAK" bench serve --campaign $camp --size 160x90 --people 4 --ttfs 0 \
    --min-viewers 2 --max-viewers 2 --wrk-seconds 0 --play 2 >"$tmp/one" 2>&1 ||
    { bad "--min-viewers 2 --max-viewers 2 failed"; cat "$tmp/one"; }
[[ $(grep -cE "^ +[0-9]+ viewer\(s\):" "$tmp/one") -eq 1 ]] && grep -qE "^ +2 viewer\(s\):" "$tmp/one" &&
    ok || { bad "not one trial of 2 viewers"; cat "$tmp/one"; }
"$CIAK" bench serve --min-viewers 3 --max-viewers 2 >"$tmp/usage" 2>&1
[[ $? -eq 2 ]] && grep -q "min-viewers 3 is above --max-viewers 2" "$tmp/usage" && ok ||
    { bad "--min-viewers above --max-viewers was not refused"; cat "$tmp/usage"; }
# Nothing personal on the terminal: no link token.
grep -q "/v/" "$tmp/out" "$tmp/err" && bad "a link was printed" || ok

echo "bench-serve: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
