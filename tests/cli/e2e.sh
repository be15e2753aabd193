#!/usr/bin/env bash
# The viewer experience end to end: the personalised PDF guide (pdftotext, pdfinfo: the
# person's name, tagged, Italian, one working https link per service), then a real browser
# (Debian chromium driven by playwright-core, tests/e2e/player.test.js) against `ciak serve`
# on 127.0.0.1 with a random port: player, captions, the person's spoken line (its caption is
# the text said, its segment's audio is not silent: ffmpeg volumedetect), pop-ups per person,
# services, rating, events, dashboard, axe-core WCAG 2.1 AA, refused event posts; finally the
# analytics database holds no name, person id, token or address. Screenshots go to
# tests/artifacts/ (ignored). Every wait is bounded; the server is stopped on exit.
# Usage: e2e.sh CIAK_BINARY REPO_ROOT
set -u
# shellcheck source=../support/cli-server-lib.sh
source "$2/tests/support/cli-server-lib.sh" "$@"
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

for tool in pdftotext pdfinfo node ffmpeg; do
    command -v $tool >/dev/null || { echo "cli_e2e: $tool missing (scripts/install-deps.sh)"; exit 1; }
done
camp=red-sollecito
scene="$ROOT/scenes/$camp"
samples="$scene/samples.json"

# ---- the PDF guide: no server, no GPU ----
if "$CIAK" guide "$scene" --data "$samples" --id RED-0007 -o "$tmp/guida.pdf" >"$tmp/out" 2>&1; then
    ok
else
    bad "ciak guide"; cat "$tmp/out"
fi
pdftotext -layout "$tmp/guida.pdf" "$tmp/guida.txt" 2>/dev/null
if grep -q "Gian Luca Di Stefano" "$tmp/guida.txt"; then ok; else bad "PDF: the person's name"; fi
if grep -q "quattordicesima e" "$tmp/guida.txt" && grep -q "28 febbraio 2023" "$tmp/guida.txt"; then
    ok
else
    bad "PDF: the person's benefits and deadline"
fi
if grep -q "truffa" "$tmp/guida.txt" && grep -qi "salute" "$tmp/guida.txt"; then ok; else bad "PDF: fraud and health sections"; fi
# Without --until the link's last day is the record's window (what `ciak import` gives it).
if grep -q "Ultimo giorno per vedere la *28 febbraio 2023" "$tmp/guida.txt"; then ok; else bad "PDF: the link's last day, by default the window"; fi
# RED holds no amounts: the guide promises none; it gives the pop-ups' texts this person sees
# (quattordicesima, integrazione al minimo), not a pointer to windows in the video.
if grep -q "importi" "$tmp/guida.txt"; then bad "PDF: RED promises amounts it does not show"; else ok; fi
if grep -q "Quattordicesima: quali redditi dichiarare" "$tmp/guida.txt" &&
    grep -q "Integrazione al minimo: quali redditi" "$tmp/guida.txt" &&
    ! grep -q "Maggiorazione sociale: quali" "$tmp/guida.txt" &&
    ! grep -qi "approfondimenti\|finestre informative" "$tmp/guida.txt"; then
    ok
else
    bad "PDF: the pop-ups' texts for this person"
fi
"$CIAK" guide "$scene" --data "$samples" --id RED-0007 --until 2027-01-05 -o "$tmp/until.pdf" >/dev/null 2>&1
if pdftotext -layout "$tmp/until.pdf" - 2>/dev/null | grep -q "Ultimo giorno per vedere la *5 gennaio 2027"; then
    ok
else
    bad "ciak guide --until: the link's last day"
fi
# (No page ends with a lone heading: tests/test_guide.c, every sample at several sizes.)

if grep -q "{{" "$tmp/guida.txt"; then bad "PDF: a raw template"; else ok; fi
pdfinfo "$tmp/guida.pdf" >"$tmp/info" 2>&1
if grep -q "^Tagged: *yes" "$tmp/info" && grep -q "^Page size:.*(A4)" "$tmp/info" &&
    grep -q "^Title: *La sua guida al modello RED" "$tmp/info"; then ok; else bad "PDF: tagged, A4, title"; cat "$tmp/info"; fi
if grep -aq "/Lang (it-IT)" "$tmp/guida.pdf"; then ok; else bad "PDF: /Lang it-IT"; fi
# Working links: exactly the scene's service URLs, https, each a link annotation.
pdfinfo -url "$tmp/guida.pdf" 2>/dev/null | awk 'NR > 1 {print $3}' | sort >"$tmp/urls"
grep -o '"url": "[^"]*"' "$scene/scene.json" | cut -d'"' -f4 | sort >"$tmp/want"
if [ -s "$tmp/urls" ] && cmp -s "$tmp/urls" "$tmp/want" && ! grep -qv '^https://' "$tmp/urls"; then
    ok
else
    bad "PDF: one https link per service"; diff "$tmp/urls" "$tmp/want"
fi

# ---- the browser part needs chromium, the npm packages and a Vulkan device ----
if [ ! -x /usr/bin/chromium ]; then
    echo "cli_e2e: /usr/bin/chromium missing (scripts/install-deps.sh)"
    finish
fi
web="$ROOT/web"
if [ ! -f "$web/node_modules/.package-lock.json" ] ||
    [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    (cd "$web" && timeout 300 npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1) ||
        { bad "npm ci in web/"; tail -5 "$tmp/npm.log"; finish; }
fi
if [ ! -f "$ROOT/assets/generated/DejaVuSans.ttf" ]; then
    echo "demo assets missing: run scripts/make-assets.sh (make test does)"
    exit 1
fi
if ! ASAN_OPTIONS=detect_leaks=0 "$CIAK" frame "$scene" --at 0 -o "$tmp/probe.png" \
    --size 64x36 >/dev/null 2>&1; then
    echo "cli_e2e: no Vulkan device, skipping the browser part"
    [ "$fail" -eq 0 ] && exit 77
    finish
fi

data="$tmp/var"
later=$(date -u -d "+30 days" +%F)
"$CIAK" import $camp "$samples" --data-dir "$data" --scenes "$ROOT/scenes" >"$tmp/out" 2>&1 || { bad "import"; cat "$tmp/out"; finish; }
"$CIAK" links $camp --base-url http://127.0.0.1 -o "$tmp/links.csv" --expires "$later" \
    --data-dir "$data" >/dev/null 2>&1 || { bad "links"; finish; }
# Links past their last day (the store keeps the later date: these answer 410).
"$CIAK" links $camp --base-url http://127.0.0.1 -o "$tmp/expired.csv" --expires 2023-01-01 \
    --data-dir "$data" >/dev/null 2>&1 || { bad "expired links"; finish; }
# The dashboard's credential, made the way an operator makes it.
admin=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$admin" | "$CIAK" admin-password --data-dir "$data" >/dev/null

"$CIAK" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --data-dir "$data" \
    --scenes "$ROOT/scenes" --campaign $camp --size 320x180 --no-warm >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    [ -s "$tmp/port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
    bad "server did not start"; tail -20 "$tmp/server.log"; finish
fi
base="http://127.0.0.1:$port"
expired=$(sed -n 2p "$tmp/expired.csv" | cut -d, -f2 | sed "s#^http://127.0.0.1#$base#")
# The server's PDF states the link's own last day ($later), not the scene's window (2023).
months=(gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre)
later_it="$(date -u -d "$later" +%-d) ${months[$(($(date -u -d "$later" +%-m) - 1))]} $(date -u -d "$later" +%Y)"
first=$(sed -n 2p "$tmp/links.csv" | cut -d, -f2 | sed "s#^http://127.0.0.1#$base#")
if curl -sf -o "$tmp/served.pdf" "$first/guida.pdf" &&
    pdftotext -layout "$tmp/served.pdf" - 2>/dev/null | grep -q "Ultimo giorno per vedere la *$later_it"; then
    ok
else
    bad "served PDF: the link's last day ($later_it)"
fi
arts="$ROOT/tests/artifacts"
mkdir -p "$arts" && printf '*\n' >"$arts/.gitignore"
# Sanitizer builds render several times slower: a looser start-up budget there.
budget=5000
if grep -aq "__asan_init" "$CIAK" 2>/dev/null; then budget=30000; fi

NODE_PATH="$web/node_modules" CIAK_BASE="$base" CIAK_LINKS="$tmp/links.csv" \
    CIAK_EXPIRED="$expired" CIAK_ADMIN="$admin" CIAK_ARTIFACTS="$arts" \
    CIAK_STARTUP_BUDGET_MS=$budget \
    timeout 260 node "$ROOT/tests/e2e/player.test.js" >"$tmp/browser.log" 2>&1
rc=$?
cat "$tmp/browser.log"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/browser.log" | tail -1)
bp=${line%% passed*}
bf=${line#*passed, }
bf=${bf%% failed*}
pass=$((pass + ${bp:-0}))
fail=$((fail + ${bf:-0}))
if [ $rc -ne 0 ] && [ "${bf:-0}" -eq 0 ]; then bad "browser test exited $rc"; fi
stop_server

# ---- the analytics database: no name, person id, token or address ----
db="$data/analytics.db"
if [ -s "$db" ]; then ok; else bad "analytics database exists"; fi
{
    grep -o '"first_name": "[^"]*"' "$samples" | cut -d'"' -f4
    grep -o '"last_name": "[^"]*"' "$samples" | cut -d'"' -f4
    echo "RED-00"
    cut -d, -f2 "$tmp/links.csv" "$tmp/expired.csv" | sed -n 's#.*/v/##p'
    echo "127.0.0.1"
    echo "HeadlessChrome"
} | grep -v '^$' >"$tmp/secrets"
if cat "$db"* | grep -a -F -q -f "$tmp/secrets"; then
    bad "analytics database holds personal data"
else
    ok
fi
grep -v -e '^127.0.0.1$' -e '^HeadlessChrome$' "$tmp/secrets" >"$tmp/secrets-log"
if grep -q -F -f "$tmp/secrets-log" "$tmp/server.log" 2>/dev/null; then
    bad "server log holds personal data"
else
    ok
fi
finish
