#!/usr/bin/env bash
# `ciak bench serve --nodes 2` works end to end, small: naspi-accolta at 160x90, viewers play
# 4 s, at most 2 at once. It starts scripts/cluster.sh (PostgreSQL, nginx, nodes) for 1 and
# then 2 nodes; the report must hold both columns, a CPU time per personal segment for each,
# every shared segment rendered once across the cluster, a p95 segment latency; nothing of
# the clusters is left running; no link in the output. No timing is asserted (the box is
# shared). Usage: bench-nodes.sh CIAK_BINARY REPO_ROOT
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"
[[ -f $ROOT/assets/generated/DejaVuSans.ttf ]] || { echo "assets/generated missing"; exit 77; }
for tool in curl nginx; do
    command -v $tool >/dev/null || { echo "bench-nodes: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
# As tests/cli/cluster.sh: under the sanitizers the nodes are far slower than nginx's timeouts.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    echo "bench-nodes: skipped under the sanitizers (runs in the normal build)"
    exit 77
fi
if ! "$CIAK" frame "$ROOT/scenes/naspi-accolta" --at 0 -o "$tmp/probe.png" --size 64x36 \
    >/dev/null 2>&1; then
    echo "bench-nodes: no Vulkan device, skipping"
    exit 77
fi

# An option out of range is a usage error, before anything starts.
"$CIAK" bench serve --nodes 99 >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "--nodes 99: want exit 2"

cd "$ROOT" || exit 1
timeout 800 "$CIAK" bench serve --nodes 2 --campaign naspi-accolta --size 160x90 --people 12 \
    --max-viewers 2 --play 4 --workers 1 --keep >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
[ $rc -eq 0 ] && ok || { bad "bench exit $rc"; cat "$tmp/err"; }
row() { grep -F -- "$1" "$tmp/out" | head -1; }
header=$(row "measure")
[[ $header == *"1 node"*"2 nodes"* ]] && ok || bad "no column per node count: $header"
r=$(row "CPU s per personal segment")
[[ $r =~ segment[^0-9]*[0-9]+\.[0-9]+\ +[0-9]+\.[0-9]+ ]] && ok || bad "CPU per personal segment: $r"
for v in $(sed -E 's/.*\(sum of nodes\) *//' <<<"$r"); do
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' && ok || bad "CPU per personal segment not > 0: $v"
done
r=$(row "shared segments rendered / distinct asked")
[ "$(grep -o ' once' <<<"$r" | wc -l)" -eq 2 ] && ok || bad "shared not rendered once: $r"
[[ $r =~ asked\ +([0-9]+)\ /\ ([0-9]+) ]] && [ "${BASH_REMATCH[2]}" -gt 0 ] && ok ||
    bad "no shared segment asked: $r"
r=$(row "segment latency through nginx, p95")
[ "$(grep -oE '[0-9]+ ms' <<<"$r" | wc -l)" -eq 2 ] && ok || bad "p95 latency: $r"
r=$(row "new viewers at once without a late segment")
[ "$(grep -oE '[0-9]+ \(' <<<"$r" | wc -l)" -eq 2 ] && ok || bad "viewers: $r"
grep -q '/v/' "$tmp/out" "$tmp/err" && bad "a link in the output" || ok

# Nothing of the two clusters left running (cluster.sh down stopped nodes, nginx, PostgreSQL).
kept=$(sed -n 's/^ciak bench: kept //p' "$tmp/err")
if [ -n "$kept" ] && [ -d "$kept" ]; then
    pgrep -f -- "$kept" >/dev/null && bad "processes of $kept still running" || ok
    ls "$kept"/n1/node1.log "$kept"/n2/node2.log >/dev/null 2>&1 && ok || bad "no node logs in $kept"
    rm -rf "$kept"
else
    bad "--keep did not say where"
fi

echo "cli_bench-nodes: $pass passed, $fail failed"
[ $fail -eq 0 ]
