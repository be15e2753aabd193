#!/usr/bin/env bash
# The one-machine cluster, for real: scripts/cluster.sh starts PostgreSQL (initdb in a temporary
# folder), nginx with deploy/nginx/nginx.conf and three `ciak serve --cluster` nodes on loopback
# ports; one campaign at 320x180 keeps it small. Then, through nginx:
#   - 30 new viewers at once: every answer 200, links spread over every node (X-Ciak-Node),
#     every shared segment rendered exactly once in the whole cluster;
#   - the node serving a viewer is killed with SIGKILL mid-video: the viewer still gets every
#     segment, byte-identical to `ciak render` of the same person, none partial;
#   - PostgreSQL stopped: requests answer 503 with Retry-After, then serve again by themselves;
#   - `ciak revoke` on the shared database: every node answers 404 for that link within 1 s;
#   - no sample name or id in the database dump; a node with another key file refuses to start;
#   - `cluster.sh down` leaves none of its processes running.
# Usage: cluster.sh CIAK_BINARY REPO_ROOT
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"
camp=naspi-accolta
scenes=$ROOT/scenes
size=320x180
[[ -f $ROOT/assets/generated/DejaVuSans.ttf ]] || { echo "assets/generated missing"; exit 77; }
for tool in curl cmp nginx python3; do
    command -v $tool >/dev/null || { echo "cluster: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
# Under ASan+UBSan (make test-asan) every node runs several times slower than the timeouts
# nginx.conf is sized for (a render behind a queue is given 60 s), so failovers that a real node
# would never need make the counts meaningless; the cluster runs in the normal build.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    echo "cluster: skipped under the sanitizers (runs in the normal build)"
    exit 77
fi
if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "$scenes/$camp" --at 0 -o "$tmp/probe.png" \
    --size 64x36 >/dev/null 2>&1; then
    echo "cluster: no Vulkan device, skipping"
    exit 77
fi
check() { # check DESCRIPTION -- command...
    local what=$1
    shift 2
    if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi
}

# A free base port with the three after it free too.
free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 60000)
    try:
        socks = []
        for q in range(p, p + 4):
            s = socket.socket(); s.bind(("127.0.0.1", q)); socks.append(s)
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
EOF
}

# nginx's workers (nobody, when we are root) must reach the cluster's folder.
chmod 755 "$tmp"
export CLUSTER_DIR=$tmp/cl CLUSTER_PORT=$(free_port) CLUSTER_CAMPAIGNS=$camp CLUSTER_SIZE=$size
export CIAK
cdir=$CLUSTER_DIR
base="http://127.0.0.1:$CLUSTER_PORT"
cluster_down() { bash "$ROOT/scripts/cluster.sh" down >/dev/null 2>&1; }
trap 'cluster_down; stop_server; rm -rf "$tmp"' EXIT

if ! bash "$ROOT/scripts/cluster.sh" up >"$tmp/links.txt" 2>"$tmp/up.log"; then
    bad "cluster.sh up"
    cat "$tmp/up.log"
    tail -20 "$cdir"/node*.log
    echo "cluster: $pass passed, $fail failed"
    exit 1
fi
ok
nsamples=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$scenes/$camp/samples.json")
check "up prints every link through nginx, one per line" -- \
    test "$(grep -c "^$base/v/" "$tmp/links.txt")" -eq "$nsamples"
db="postgresql://ciak@127.0.0.1:$(cat "$cdir/pg/port")/ciak_test"
dbargs=(--db "$db" --keys "$cdir/keys" --data-dir "$cdir/admin")

# 31 new people (the samples' data under new ids): 30 for the burst, one for the failover.
python3 - "$scenes/$camp/samples.json" "$tmp/people.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
out = []
for i in range(31):
    r = dict(s[i % len(s)])
    r["id"] = "NA-9%03d" % (i + 1)
    out.append(r)
json.dump(out, open(sys.argv[2], "w"), ensure_ascii=False)
EOF
"$CIAK" import $camp "$tmp/people.json" --scenes "$scenes" "${dbargs[@]}" >"$tmp/import.log" 2>&1
check "import the extra people" -- test $? -eq 0
"$CIAK" links $camp --base-url "$base" --expires "$(date -u -d '+30 days' +%F)" \
    -o "$tmp/links.csv" "${dbargs[@]}" >/dev/null 2>&1
check "links for the extra people" -- grep -q '^NA-9031,' "$tmp/links.csv"

# get OUT HEADERS URL: GET as a player does: a 503 is retried after its Retry-After (a full or
# draining node turns new viewers away; nginx has already tried the other nodes), 20 times at
# most. Prints the final status.
get() {
    local code tries=0 wait_s
    while :; do
        code=$(curl -s -m 120 -D "$2" -o "$1" -w '%{http_code}' "$3")
        [ "$code" = 503 ] && [ $tries -lt 20 ] || break
        tries=$((tries + 1))
        wait_s=$(grep -i '^Retry-After:' "$2" | tr -dc '0-9')
        sleep "${wait_s:-1}"
    done
    echo "$code"
}

# play URL DIR: the media playlist and every segment, in order, through nginx; writes
# DIR/codes (one status per request), DIR/nodes (X-Ciak-Node of /v/ answers), DIR/shared.
play() {
    local url=$1 d=$2 seg src name
    mkdir -p "$d"
    get "$d/master.m3u8" "$d/h" "$url/index.m3u8" >>"$d/codes"
    get "$d/media.m3u8" "$d/hm" "$url/media.m3u8" >>"$d/codes"
    grep -i '^X-Ciak-Node:' "$d/h" | tr -d '\r' | cut -d' ' -f2 >>"$d/nodes"
    while read -r seg; do
        case $seg in
        /c/*) src=$base$seg; echo "$seg" >>"$d/shared" ;;
        *) src=$url/$seg ;;
        esac
        name=${seg##*/}
        name=${name%%\?*}
        get "$d/$name" "$d/hs" "$src" >>"$d/codes"
    done < <(grep -v '^#' "$d/media.m3u8")
}

metric() { # metric PORT NAME-AND-LABELS
    curl -s "http://127.0.0.1:$1/metrics" | grep -F "$2" | grep -v '^#' | awk '{print $2}'
}

# ---- 30 new viewers at once ----
ppids=()
for i in $(seq 1 30); do
    id=$(printf 'NA-9%03d' "$i")
    url=$(grep "^$id," "$tmp/links.csv" | cut -d, -f2)
    play "$url" "$tmp/burst/$id" &
    ppids+=($!)
done
wait "${ppids[@]}"
check "burst: every segment answered 200" -- test \
    "$(cat "$tmp"/burst/*/codes | grep -vc '^200$')" -eq 0
check "burst: 30 viewers x (2 playlists + 39 segments)" -- test "$(cat "$tmp"/burst/*/codes | wc -l)" -eq 1230
refused=0
for i in 1 2 3; do
    n=$(metric $((CLUSTER_PORT + i)) 'ciak_admission_refused_total')
    refused=$((refused + ${n:-0}))
done
echo "cluster: burst: $refused new-viewer requests turned away by admission control (then retried)"
nodes_seen=$(cat "$tmp"/burst/*/nodes | sort -u | tr '\n' ' ')
echo "cluster: viewers served by: $nodes_seen"
check "burst: links reach every node (X-Ciak-Node)" -- test "$(cat "$tmp"/burst/*/nodes | sort -u | wc -l)" -eq 3
shared_rendered=0
for i in 1 2 3; do
    n=$(metric $((CLUSTER_PORT + i)) 'ciak_segments_rendered_total{kind="shared"}')
    shared_rendered=$((shared_rendered + ${n:-0}))
done
distinct=$(cat "$tmp"/burst/*/shared | sort -u | wc -l)
echo "cluster: $distinct distinct shared segments asked for, $shared_rendered rendered in the cluster"
check "burst: every shared segment rendered exactly once" -- test "$shared_rendered" -eq "$distinct"

# ---- SIGKILL the viewer's node mid-video ----
"$CIAK" render "$scenes/$camp" --data "$tmp/people.json" --id NA-9031 -o "$tmp/ref" \
    --cache "$tmp/ref-cache" --size $size >"$tmp/ref.log" 2>&1
check "reference render (one node's bytes)" -- test $? -eq 0
url=$(grep '^NA-9031,' "$tmp/links.csv" | cut -d, -f2)
d=$tmp/failover
mkdir -p "$d"
curl -s -m 120 -D "$d/h" -o "$d/master.m3u8" "$url/index.m3u8"
victim=$(grep -i '^X-Ciak-Node:' "$d/h" | tr -d '\r' | cut -d' ' -f2)
curl -s -m 120 -o "$d/media.m3u8" "$url/media.m3u8"
personal=0
killed=0
while read -r seg; do
    case $seg in
    /c/*) src=$base$seg ;;
    *) src=$url/$seg; personal=$((personal + 1)) ;;
    esac
    name=${seg##*/}
    name=${name%%\?*}
    get "$d/$name" "$d/hs" "$src" >>"$d/codes"
    if [ $personal -eq 2 ] && [ $killed -eq 0 ] && [ -f "$cdir/$victim.pid" ]; then
        kill -KILL "$(cat "$cdir/$victim.pid")"
        killed=1
    fi
done < <(grep -v '^#' "$d/media.m3u8")
check "failover: the viewer's node ($victim) was killed mid-video" -- test $killed -eq 1
check "failover: every segment answered 200" -- test "$(grep -vc '^200$' "$d/codes")" -eq 0
n=0
differ=0
for f in "$tmp"/ref/*.ts; do
    n=$((n + 1))
    cmp -s "$f" "$d/${f##*/}" || differ=$((differ + 1))
done
echo "cluster: failover: $n segments compared with a single-node render, $differ differ"
check "failover: 39 segments, byte-identical to a single-node render" -- test $n -eq 39 -a $differ -eq 0

# ---- PostgreSQL away for a few seconds ----
live=()
for i in 1 2 3; do
    [ "node$i" = "$victim" ] || live+=($((CLUSTER_PORT + i)))
done
url=$(grep '^NA-9001,' "$tmp/links.csv" | cut -d, -f2)
bash "$ROOT/tests/support/pg.sh" down "$cdir/pg"
curl -s -D "$tmp/h503" -o /dev/null "$url/index.m3u8"
check "database down: 503" -- grep -q '^HTTP/1.1 503' "$tmp/h503"
check "database down: Retry-After" -- grep -qi '^Retry-After:' "$tmp/h503"
bash "$ROOT/tests/support/pg.sh" up "$cdir/pg"
back=0
for _ in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/index.m3u8")" = 200 ] && { back=1; break; }
    sleep 0.2
done
check "database back: served again without a restart" -- test $back -eq 1
for p in "${live[@]}"; do
    check "database back: node on $p healthy" -- curl -sf "http://127.0.0.1:$p/healthz"
done

# ---- revoke on the shared database: every node answers 404 within a second ----
line=$(grep '^NA-9002,' "$tmp/links.csv")
tok=$(echo "$line" | cut -d, -f2 | sed 's#.*/v/##')
"$CIAK" revoke $camp NA-9002 "${dbargs[@]}" >/dev/null 2>&1
check "revoke" -- test $? -eq 0
sleep 1
for p in "${live[@]}"; do
    check "revoked: node on $p answers 404" -- test \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/v/$tok/index.m3u8")" = 404
done

# ---- analytics from every node in one dashboard (PostgreSQL), one login for all nodes ----
node_of() { head -1 "$tmp/burst/$1/nodes" 2>/dev/null; }
# Two burst viewers whose nodes are alive and differ (the failover killed one node).
pa=
pb=
for i in $(seq 3 30); do
    id=$(printf 'NA-9%03d' "$i")
    n=$(node_of "$id")
    [ -n "$n" ] && [ "$n" != "$victim" ] || continue
    if [ -z "$pa" ]; then
        pa=$id
    elif [ "$n" != "$(node_of "$pa")" ]; then
        pb=$id
        break
    fi
done
check "two viewers on two live nodes" -- test -n "$pb"
if [ -z "$pb" ]; then
    echo "cluster: burst viewers by node: $(cat "$tmp"/burst/*/nodes | sort | uniq -c | tr '\n' ' ')"
    pb=$pa
fi
for id in $pa $pb; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data '{"events":[{"type":"play"}]}' "$(grep "^$id," "$tmp/links.csv" | cut -d, -f2)/events")
    check "events of $id accepted (via $(node_of $id))" -- test "$code" = 204 -o "$code" = 200
done
na=$(node_of $pa); nb=$(node_of $pb)
porta=$((CLUSTER_PORT + ${na#node})); portb=$((CLUSTER_PORT + ${nb#node}))
curl -s -c "$tmp/cookies" -o /dev/null --data-urlencode "password=$(cat "$cdir/admin-password")" \
    "http://127.0.0.1:$porta/admin/login"
check "login on $na" -- grep -q ck_admin "$tmp/cookies"
# Secure cookie over plain http on loopback: send it by hand to the other node.
sid=$(awk '$6 == "ck_admin" {print $7}' "$tmp/cookies")
curl -s -H "Cookie: ck_admin=$sid" -o "$tmp/export.csv" "http://127.0.0.1:$portb/admin/export.csv"
plays=$(awk -F, '$3 == "play" {n += $6} END {print n + 0}' "$tmp/export.csv")
echo "cluster: dashboard on $nb after a login on $na: $plays viewer(s) played"
check "one dashboard: both nodes' viewers, read on another node with the same login" -- \
    test "$plays" -eq 2

# ---- nothing personal in the database ----
bash "$ROOT/tests/support/pg.sh" dump "$cdir/pg" >"$tmp/dump.sql"
check "database dump taken" -- test -s "$tmp/dump.sql"
leaks=$(python3 - "$scenes/$camp/samples.json" "$tmp/dump.sql" <<'EOF'
import json, sys
dump = open(sys.argv[2], encoding="utf-8", errors="replace").read()
found = []
for r in json.load(open(sys.argv[1])):
    for k in ("id", "name", "first_name", "last_name", "surname"):
        v = r.get(k)
        if isinstance(v, str) and len(v) > 3 and v in dump:
            found.append(k)
for i in range(1, 32):
    if "NA-9%03d" % i in dump:
        found.append("id")
print(len(found))
EOF
)
check "no sample name or id in the database dump" -- test "$leaks" -eq 0

# ---- a node with another key file refuses to start ----
"$CIAK" import $camp "$scenes/$camp/samples.json" --data-dir "$tmp/other" --scenes "$scenes" \
    >/dev/null 2>&1
"$CIAK" serve --listen 127.0.0.1:0 --db "$db" --keys "$tmp/other/keys" --data-dir "$tmp/other" \
    --scenes "$scenes" --campaign $camp --cluster --no-render >"$tmp/wrongkey.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do kill -0 $server_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $server_pid 2>/dev/null; then
    bad "a node with another key file started"
    stop_server
else
    wait $server_pid
    rc=$?
    server_pid=
    check "another key file: refused with a non-zero exit" -- test $rc -ne 0
    check "another key file: says why" -- grep -q "does not open the store" "$tmp/wrongkey.log"
fi

# ---- admission control and draining, on one more cluster node with a tight admission rule
# (a cluster node drains by serving its viewers until they are quiet; nginx has the others) ----
sport=$(free_port)
sbase="http://127.0.0.1:$sport"
"$CIAK" serve --listen "127.0.0.1:$sport" --db "$db" --keys "$cdir/keys" --data-dir "$tmp/solo" \
    --scenes "$scenes" --campaign $camp --size $size --workers 1 --no-warm --admit-late-ms 1 --drain-s 30 \
    --cluster --node-name solo >"$tmp/solo.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do curl -sf "$sbase/healthz" >/dev/null && break; sleep 0.2; done
link() { grep "^$1," "$tmp/links.csv" | cut -d, -f2 | sed "s#$base#$sbase#"; }
a_url=$(link NA-9003)
curl -s -o /dev/null "$a_url/index.m3u8"
curl -s -o "$tmp/a-media.m3u8" "$a_url/media.m3u8"
mapfile -t a_segs < <(grep -v '^#' "$tmp/a-media.m3u8")
seg_url() { case $1 in /c/*) echo "$sbase$1" ;; *) echo "$a_url/$1" ;; esac; }
check "admission: the first viewer's first segment" -- test \
    "$(curl -s -o /dev/null -w '%{http_code}' "$(seg_url "${a_segs[0]}")")" = 200
cpids=()
for i in 4 5 6 7 8 9 10; do
    id=$(printf 'NA-9%03d' "$i")
    curl -s -o /dev/null -D "$tmp/adm-$i.h" "$(link "$id")/index.m3u8" &
    cpids+=($!)
done
wait "${cpids[@]}"
refused=$(grep -l '^HTTP/1.1 503' "$tmp"/adm-*.h 2>/dev/null | wc -l)
echo "cluster: admission: $refused of 7 new viewers turned away"
check "admission: a new viewer is turned away when the backlog would be late" -- test "$refused" -ge 1
check "admission: with Retry-After" -- grep -qi '^Retry-After:' $(grep -l '^HTTP/1.1 503' "$tmp"/adm-*.h | head -1)
check "admission: counted in ciak_admission_refused_total" -- test \
    "$(curl -s "$sbase/metrics" | awk '/^ciak_admission_refused_total/ {print $2}')" -ge 1
check "admission: the viewer already here is still served" -- test \
    "$(curl -s -o /dev/null -w '%{http_code}' "$(seg_url "${a_segs[1]}")")" = 200
kill -TERM $server_pid
sleep 0.5
check "draining: /healthz answers 503" -- test \
    "$(curl -s -o /dev/null -w '%{http_code}' "$sbase/healthz")" = 503
check "draining: a new viewer gets 503" -- test \
    "$(curl -s -o /dev/null -w '%{http_code}' "$(link NA-9011)/index.m3u8")" = 503
# Its personal segments from this node (a request waits on their render); shared ones are not
# this draining node's to make: nginx asks their home node.
a_personal=$(printf '%s\n' "${a_segs[@]:2}" | grep -v '^/c/' | head -2)
codes=
for seg in $a_personal; do codes+=$(curl -s -o /dev/null -w '%{http_code}' "$(seg_url "$seg")"); done
check "draining: the viewer already here gets its next personal segments" -- test "$codes" = 200200
for _ in $(seq 1 300); do kill -0 $server_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $server_pid 2>/dev/null; then
    bad "draining: the node did not stop once its viewer went quiet"
    stop_server
else
    wait $server_pid
    check "draining: the node then exits 0" -- test $? -eq 0
    server_pid=
fi
check "draining: logged" -- grep -q 'drained' "$tmp/solo.log"

# ---- down stops everything it started ----
pids=$(cat "$cdir"/*.pid 2>/dev/null)
bash "$ROOT/scripts/cluster.sh" down >/dev/null 2>&1
left=0
for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
check "down: none of its processes left" -- test $left -eq 0
check "down: PostgreSQL stopped" -- test ! -f "$cdir/pg/data/postmaster.pid"

echo "cluster: $pass passed, $fail failed"
((fail == 0))
