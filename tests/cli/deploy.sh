#!/usr/bin/env bash
# deploy/: the shipped nginx configuration and the Kubernetes manifests, offline.
#  1. deploy/tools/validate.js: every YAML file lints, each overlay builds as kustomize would
#     and every object validates against the Kubernetes / KEDA schemas and the cross-checks;
#     then copies of deploy/ broken on purpose, one way each, must each be refused, and
#     set-max-nodes.sh must keep the fleet size in agreement.
#  2. `nginx -t` on deploy/nginx/nginx.conf as shipped (local includes), and on a copy with a
#     generated upstream list, which is then run for real in front of three stand-in nodes
#     (deploy/tools/fake-node.js): one link stays on one node, links spread over the nodes,
#     personal answers are never cached, a shared segment asked 10 times at once reaches a
#     node once and is then a cache HIT, a killed node's links fail over, /metrics is closed,
#     and no token reaches nginx's access log.
# Usage: deploy.sh CIAK_BINARY REPO_ROOT (the binary is not needed). Every wait is bounded.
set -u
ROOT=$2
TOOLS=$ROOT/deploy/tools
fail=0
ok() { :; }
bad() {
    echo "FAIL: $*"
    fail=1
}

for tool in node npm nginx curl flock; do
    command -v $tool >/dev/null || { echo "cli_deploy: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
tmp=$(mktemp -d /tmp/ciak-deploy-test.XXXXXX)
# Copies of deploy/ leave out the npm packages and an operator's real secret files.
notar="--exclude=node_modules --exclude=deploy/k8s/base/secrets/keys --exclude=deploy/k8s/base/secrets/db.env"
# Started as root (CI), nginx's workers run as `nobody`, which must reach the cache folder.
chmod 755 "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- npm packages of deploy/tools (pinned by its package-lock.json) ----
if [ ! -f "$TOOLS/node_modules/.package-lock.json" ] ||
    [ "$TOOLS/package-lock.json" -nt "$TOOLS/node_modules/.package-lock.json" ]; then
    (cd "$TOOLS" && flock "$TOOLS/package.json" timeout 300 npm ci --no-audit --no-fund) \
        >"$tmp/npm.log" 2>&1 || { echo "FAIL: npm ci in deploy/tools"; tail -5 "$tmp/npm.log"; exit 1; }
fi

# ---- 1. the manifests ----
if node "$TOOLS/validate.js" --deploy "$ROOT/deploy" >"$tmp/validate.log" 2>&1; then ok; else
    bad "validate.js refuses the shipped deploy/"
    cat "$tmp/validate.log"
fi

# Each breakage on its own copy of deploy/ (FILE relative to it, changed by a sed expression);
# validate.js must refuse each one, with the expected words in its report.
broken() { # broken WHAT FILE SED_EXPR EXPECTED_TEXT
    local what=$1 file=$2 expr=$3 expect=$4 d=$tmp/broken
    rm -rf "$d" && mkdir -p "$d"
    (cd "$ROOT" && tar -c $notar deploy) | tar -x -C "$d"
    sed -i "$expr" "$d/deploy/$file"
    if cmp -s "$ROOT/deploy/$file" "$d/deploy/$file"; then
        bad "breaking '$what' changed nothing in $file (stale test?)"
        return
    fi
    if node "$TOOLS/validate.js" --deploy "$d/deploy" >"$tmp/broken.log" 2>&1; then
        bad "validate.js accepts a deploy/ with $what"
    elif ! grep -qF -- "$expect" "$tmp/broken.log"; then
        bad "validate.js refuses $what without saying '$expect':"
        cat "$tmp/broken.log"
    fi
}
broken "a duplicate key" k8s/base/ciak-statefulset.yaml \
    's/^  replicas: 2$/  replicas: 2\n  replicas: 3/' "Map keys must be unique"
broken "a port as a string" k8s/base/ciak-statefulset.yaml \
    's/containerPort: 8080/containerPort: "8080"/' "must be integer"
broken "a misspelt volume in a mount" k8s/base/ciak-statefulset.yaml \
    '0,/- name: cache$/s//- name: caches/' "no volume caches"
broken "an undefined \$(VAR) in the args" k8s/overlays/cpu/node.yaml \
    's/name: CIAK_WORKERS/name: CIAK_WORKER/' 'CIAK_WORKERS'
broken "a GPU overlay without Vulkan" k8s/overlays/gpu/node.yaml \
    's/value: graphics,video,utility/value: compute,utility/' "lacks graphics"
broken "more replicas than upstreams" k8s/base/scaledobject.yaml \
    's/maxReplicaCount: 8/maxReplicaCount: 9/' "must agree"
broken "a KEDA threshold as a number" k8s/base/scaledobject.yaml \
    's/threshold: "4"/threshold: 4/' "must be string"
broken "a generator file outside its folder" nginx/kustomization.yaml \
    's#nginx.conf$#../k8s/base/kustomization.yaml#' "outside the kustomization"
broken "a kustomize feature the builder lacks" k8s/overlays/cpu/kustomization.yaml \
    's/^resources:/namePrefix: x-\nresources:/' "unsupported field namePrefix"
broken "a patch for nothing" k8s/overlays/gpu/node.yaml \
    's/^  name: ciak$/  name: ciak-gpu/' "matches 0 resources"

# set-max-nodes.sh: at 8 it writes the shipped files back unchanged; at 12 the build agrees.
d=$tmp/resized
mkdir -p "$d" && (cd "$ROOT" && tar -c $notar deploy) | tar -x -C "$d"
bash "$TOOLS/set-max-nodes.sh" 8 "$d/deploy" >/dev/null
diff -r -q -x node_modules -x keys -x db.env "$ROOT/deploy" "$d/deploy" >/dev/null ||
    bad "set-max-nodes.sh 8 does not give back the shipped files"
bash "$TOOLS/set-max-nodes.sh" 12 "$d/deploy" >/dev/null
if node "$TOOLS/validate.js" --deploy "$d/deploy" >"$tmp/resized.log" 2>&1 &&
    grep -q "14 Service" "$tmp/resized.log"; then ok; else
    bad "set-max-nodes.sh 12 gives a build that does not validate"
    cat "$tmp/resized.log"
fi

# ---- 2. nginx ----
# As shipped, with its own listen.conf and upstreams.conf (the one-machine cluster's).
mkdir -p "$tmp/shipped"
if nginx -t -q -p "$tmp/shipped/" -c "$ROOT/deploy/nginx/nginx.conf" -e stderr >"$tmp/nginx-t.log" 2>&1; then ok; else
    bad "nginx -t on deploy/nginx/nginx.conf"
    cat "$tmp/nginx-t.log"
fi

# The same nginx.conf with a generated upstream list, run for real.
conf=$tmp/nginx-conf prefix=$tmp/nginx-prefix
mkdir -p "$conf" "$prefix"
cp "$ROOT/deploy/nginx/nginx.conf" "$conf/"
: >"$conf/upstreams.conf"
for n in a b c; do
    node "$TOOLS/fake-node.js" "node-$n" "$tmp/port-$n" &
    pids+=($!)
    eval "pid_$n=$!"
done
for n in a b c; do
    for _ in $(seq 50); do [ -s "$tmp/port-$n" ] && break; sleep 0.1; done
    [ -s "$tmp/port-$n" ] || { echo "FAIL: fake node $n did not start"; exit 1; }
    eval "port_$n=$(cat "$tmp/port-$n")"
    echo "server 127.0.0.1:$(cat "$tmp/port-$n") max_fails=3 fail_timeout=5s;" >>"$conf/upstreams.conf"
done
ngport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
echo "listen 127.0.0.1:$ngport;" >"$conf/listen.conf"
if ! nginx -t -q -p "$prefix/" -c "$conf/nginx.conf" -e stderr >"$tmp/nginx-t2.log" 2>&1; then
    bad "nginx -t with a generated upstream list"
    cat "$tmp/nginx-t2.log"
    exit 1
fi
nginx -p "$prefix/" -c "$conf/nginx.conf" -e stderr >"$tmp/access.log" 2>"$tmp/error.log" &
pids+=($!)
base=http://127.0.0.1:$ngport
for _ in $(seq 50); do curl -fs "$base/nginx-healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$base/nginx-healthz" >/dev/null || { echo "FAIL: nginx did not start"; cat "$tmp/error.log"; exit 1; }

hdr() { # hdr NAME URL [curl options...]: the value of one response header
    local name=$1 url=$2
    shift 2
    curl -s -o /dev/null -D - "$@" "$url" | tr -d '\r' | awk -v h="$(tr 'A-Z' 'a-z' <<<"$name"):" \
        'tolower($1) == h { print $2 }'
}

# One link, one node; links spread over the nodes; never cached.
tokens=()
for i in $(seq 1 24); do tokens+=("tok${i}AbCdEfGhIjKlMnOpQrStUvWxYz_-$i"); done
declare -A node_of
for t in "${tokens[@]}"; do
    n1=$(hdr X-Ciak-Node "$base/v/$t")
    n2=$(hdr X-Ciak-Node "$base/v/$t/index.m3u8")
    n3=$(hdr X-Ciak-Node "$base/v/$t/0123abcd.ts")
    [ -n "$n1" ] && [ "$n1" = "$n2" ] && [ "$n1" = "$n3" ] || bad "link $t went to '$n1', '$n2', '$n3'"
    node_of[$t]=$n1
done
distinct=$(printf '%s\n' "${node_of[@]}" | sort -u | wc -l)
[ "$distinct" -ge 2 ] || bad "24 links all went to one node"
t=${tokens[0]}
[ "$(hdr X-Cache-Status "$base/v/$t/0123abcd.ts")" = BYPASS ] || bad "a personal segment's X-Cache-Status is not BYPASS"
port_var=port_${node_of[$t]#node-}
count=$(curl -s "127.0.0.1:${!port_var}/__count?path=/v/$t/0123abcd.ts")
[ "$count" = 2 ] || bad "a personal segment asked twice reached its node $count times (cached?)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"e":"play"}' "$base/v/$t/events")
[ "$code" = 204 ] || bad "POST /v/<token>/events answered $code"

# A shared segment asked 10 times at once: one request reaches a node, then it is a HIT.
seg=/c/assegno-sociale/3/0123456789abcdef.ts
for i in $(seq 10); do curl -s -o "$tmp/seg.$i" -w '%{http_code}\n' "$base$seg" >"$tmp/code.$i" & done
wait_curl=0
for i in $(seq 10); do
    for _ in $(seq 100); do [ -s "$tmp/code.$i" ] && break; sleep 0.1; done
    [ "$(cat "$tmp/code.$i")" = 200 ] || wait_curl=1
done
[ "$wait_curl" = 0 ] || bad "10 concurrent requests for a shared segment did not all answer 200"
total=0
for n in a b c; do
    p=port_$n
    total=$((total + $(curl -s "127.0.0.1:${!p}/__count?path=$seg")))
done
[ "$total" = 1 ] || bad "a shared segment asked 10 times at once reached the nodes $total times"
[ "$(hdr X-Cache-Status "$base$seg")" = HIT ] || bad "a shared segment is not a cache HIT the second time"

# Closed and restricted routes.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics")" = 404 ] || bad "/metrics is reachable through nginx"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/admin/")" = 200 ] || bad "/admin/ from loopback is not proxied"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] || bad "/healthz is not proxied"

# Failover: the node of link t dies; the link's next request is answered by another node.
victim=${node_of[$t]#node-}
pv=pid_$victim
kill -9 "${!pv}" 2>/dev/null
wait "${!pv}" 2>/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v/$t/0123abcd.ts")
n=$(hdr X-Ciak-Node "$base/v/$t/0123abcd.ts")
[ "$code" = 200 ] && [ -n "$n" ] && [ "$n" != "node-$victim" ] ||
    bad "after node-$victim died, link $t answered $code from '$n'"

# The access log names the node but holds no token.
[ -s "$tmp/access.log" ] || bad "nginx wrote no access log"
for t in "${tokens[@]}"; do
    if grep -qF "$t" "$tmp/access.log" "$tmp/error.log"; then
        bad "a token is in nginx's logs"
        break
    fi
done
grep -q ' GET /v/-/0123abcd.ts 200 .*node=127.0.0.1:' "$tmp/access.log" ||
    bad "the access log does not show /v/-/<rest> with the node"

if [ "$fail" -ne 0 ]; then
    echo "--- validate.log"; cat "$tmp/validate.log"
    echo "--- nginx access log (last 5)"; tail -5 "$tmp/access.log"
    exit 1
fi
cat "$tmp/validate.log"
echo "cli_deploy: ok"
