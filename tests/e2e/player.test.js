// player.test.js: the viewer experience in a real browser (Debian chromium driven by
// playwright-core), against a running `ciak serve` started by tests/cli/e2e.sh.
//
// Environment: CIAK_BASE (http://127.0.0.1:PORT), CIAK_LINKS (links.csv), CIAK_EXPIRED (a link
// past its last day), CIAK_ADMIN (the admin token), CIAK_ARTIFACTS (screenshots, report).
// Prints one line per check and "N passed, N failed"; exits 1 on any failure. Every wait is
// bounded; the whole run is capped by a watchdog.
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawnSync } = require('child_process');
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

const BASE = process.env.CIAK_BASE;
const LINKS = process.env.CIAK_LINKS;
const EXPIRED = process.env.CIAK_EXPIRED;
const ADMIN = process.env.CIAK_ADMIN;
const OUT = process.env.CIAK_ARTIFACTS || path.join(os.tmpdir(), 'ciak-artifacts');
const WATCHDOG_MS = 240000;
// From opening the link to the first frame (sanitizer builds get a looser one from e2e.sh).
const BUDGET_MS = Number(process.env.CIAK_STARTUP_BUDGET_MS || 5000);

let passed = 0;
let failed = 0;
const report = {};
function check(what, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail !== undefined ? ` (${detail})` : ''}`);
}

function links() {
  const rows = fs.readFileSync(LINKS, 'utf8').trim().split('\n').slice(1);
  const byId = {};
  for (const r of rows) {
    const [id, url] = r.split(',');
    byId[id] = url.replace(/^https?:\/\/[^/]+/, BASE);
  }
  return byId;
}

async function axe(page, what) {
  const res = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  check(`axe-core: no WCAG 2.1 AA violations on ${what}`, v.length === 0, v.join('; ') || undefined);
}

const shot = (page, name) => page.screenshot({ path: path.join(OUT, name), fullPage: true });

async function waitTime(page, t, ms) {
  await page.waitForFunction((tt) => document.getElementById('video').currentTime > tt, t,
    { timeout: ms, polling: 100 });
}

// A box on screen: inside the viewport (a full-screen stage fills it).
async function inView(page, sel) {
  return page.evaluate((q) => {
    const el = document.querySelector(q);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 &&
      r.bottom <= innerHeight && r.right <= innerWidth;
  }, sel);
}

// Clicks where the video draws something, given in canvas pixels (1280x720).
async function clickCanvas(page, x, y) {
  const r = await page.evaluate(() => {
    const b = document.getElementById('video').getBoundingClientRect();
    return { x: b.left, y: b.top, w: b.width, h: b.height };
  });
  await page.mouse.click(r.x + x / 1280 * r.w, r.y + y / 720 * r.h);
}

async function seek(page, t) {
  await page.evaluate((tt) => { document.getElementById('video').currentTime = tt; }, t);
  await waitTime(page, t - 0.5, 30000);
}

// RED-0002 (signor Lo Russo, letter of 4 December 2022): the greeting line of the scene's
// speech track, as the voice says it (scenes/red-sollecito/scene.json, speech.lines[0]).
const GREETING_0002 = 'Gentile signor Lo Russo, questo video accompagna la lettera del 4 dicembre 2022.';

// The mean volume (dB, ffmpeg volumedetect) of the audio the player gets at scene time `t`:
// the page's own playlist (the player's data-media) -> the segment playing at t, fetched as the player fetches it, decoded from 0.3 s into it to its
// end (a personal line starts 0.2 s into the segment at 5 s).
async function spokenVolume(page, t) {
  const url = await page.evaluate(async (tt) => {
    const abs = (u, base) => new URL(u, base).href;
    // The player's source is a master playlist (its first variant) or a media playlist.
    let media = abs(document.getElementById('player').dataset.media, location.href);
    let list = await (await fetch(media)).text();
    if (!list.includes('#EXTINF:')) {
      media = abs(list.split('\n').find((l) => l && !l.startsWith('#')), media);
      list = await (await fetch(media)).text();
    }
    let at = 0;
    let dur = 0;
    for (const l of list.split('\n')) {
      if (l.startsWith('#EXTINF:')) dur = parseFloat(l.slice(8));
      else if (l && !l.startsWith('#')) {
        if (at <= tt && tt < at + dur) return abs(l, media);
        at += dur;
      }
    }
    return null;
  }, t);
  if (!url) return { db: -Infinity, detail: `no segment at ${t} s in the playlist` };
  const res = await page.request.get(url);
  const file = path.join(os.tmpdir(), `ciak-e2e-${process.pid}.ts`);
  fs.writeFileSync(file, await res.body());
  const ff = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-vn', '-af',
    'asetpts=PTS-STARTPTS,atrim=start=0.3,volumedetect', '-f', 'null', '-'],
  { encoding: 'utf8', timeout: 30000 });
  fs.rmSync(file, { force: true });
  const mean = /mean_volume: (-?[0-9.]+) dB/.exec(ff.stderr || '');
  const db = mean ? Number(mean[1]) : -Infinity;
  return { db, detail: `${res.status()}, mean volume ${mean ? mean[1] : '?'} dB` };
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const L = links();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ciak-chromium-'));
  // A fresh profile (Playwright passes it to chromium as --user-data-dir), deleted at the end.
  const phone = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium',
    timeout: 30000,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    locale: 'it-IT',
  });
  const desk = phone; // one context: pages switch to the desktop size below
  try {
    // Nothing leaves the machine: the INPS service links answer from here.
    await phone.route(/^https:\/\/www\.inps\.it\//, (r) => r.fulfill({ status: 200,
      contentType: 'text/html', body: '<!doctype html><title>INPS</title>' }));

    // ---- a person holding the quattordicesima (RED-0002) ----
    const page = await phone.newPage();
    await page.goto(L['RED-0002'], { waitUntil: 'load', timeout: 20000 });
    check('player page opens', await page.locator('#bigplay').isVisible());
    check('no autoplay: video paused before the press',
      await page.evaluate(() => document.getElementById('video').paused));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check('no horizontal scrolling at 390 px', width <= 390, width);
    await shot(page, 'player-phone.png');
    await axe(page, 'the player');
    check('pop-up of the person\'s benefit is on the page',
      await page.locator('#pop-redditi-quattordicesima').count() === 1);
    check('no pop-up of a benefit the person does not hold',
      await page.locator('#pop-redditi-integrazione-minimo, #pop-redditi-generale').count() === 0);

    // Keyboard: "Avvia" is the first stop; pressing it leaves focus on the player's controls.
    await page.keyboard.press('Tab');
    const firstStop = await page.evaluate(() => document.activeElement.id);
    if (firstStop !== 'bigplay') await page.keyboard.press('Tab');
    check('"Avvia" is the first or second Tab stop', await page.evaluate(() => document.activeElement.id) === 'bigplay', firstStop);
    await page.keyboard.press('Enter');
    await waitTime(page, 0.3, 60000);
    check('after "Avvia" focus stays in the player (not the top of the page)',
      await page.evaluate(() => document.activeElement.id === 'play'),
      await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
    check('rating asked in the polite form', /Quanto Le è stata utile/.test(await page.locator('#rating legend').textContent()));
    const startup = await page.evaluate(() => Number(document.getElementById('player').dataset.startupMs || 0));
    report.startup_native_or_default_ms = startup;
    report.engine = await page.evaluate(() => (document.getElementById('video').src.startsWith('blob:') ? 'hls.js' : 'native HLS'));
    check('video starts: first frame reported', startup > 0, `${startup} ms, ${report.engine}`);
    const t1 = await page.evaluate(() => document.getElementById('video').currentTime);
    await page.waitForTimeout(1500);
    const t2 = await page.evaluate(() => document.getElementById('video').currentTime);
    check('currentTime advances', t2 > t1 + 0.5, `${t1.toFixed(2)} -> ${t2.toFixed(2)}`);

    // Captions: on by default, they carry the person's name, and on a phone they are drawn
    // below the picture, never over the text the video draws.
    await waitTime(page, 5.4, 30000);
    await page.selectOption('#ccsize', 'xl');
    await page.waitForFunction(() => document.getElementById('capbox').textContent.length > 0, null, { timeout: 5000 }).catch(() => {});
    const cap = await page.evaluate(() => {
      const box = document.getElementById('capbox');
      const v = document.getElementById('video').getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return { on: !box.hidden, text: box.textContent, overlap: b.top < v.bottom - 0.5 && b.bottom > v.top,
        video: `${Math.round(v.top)}-${Math.round(v.bottom)}`, box: `${Math.round(b.top)}-${Math.round(b.bottom)}`,
        videoWidth: Math.round(v.width) };
    });
    check('captions showing by default', cap.on, cap.text);
    check('captions show the person\'s name', /Lo Russo/.test(cap.text), cap.text);
    // The voice says the greeting (issue 16): the caption on screen is the line spoken, in its
    // spoken form (the letter's date as said), and the segment that carries the line sounds.
    check('caption on screen = the personal line spoken', cap.text === GREETING_0002, cap.text);
    const loud = await spokenVolume(page, 6);
    check('the segment with the person\'s line is not silent', loud.db > -40, loud.detail);
    check('phone: captions (largest size) do not cover the video', !cap.overlap, `video ${cap.video}, captions ${cap.box}`);
    check('phone: the video takes the whole width', cap.videoWidth === 390, cap.videoWidth);
    await shot(page, 'captions-phone.png');
    await page.locator('#cc').click();
    check('caption toggle turns them off', await page.evaluate(() => document.getElementById('capbox').hidden));
    await page.locator('#cc').click();

    // Pop-up: offered at its time; opening pauses the video; closing returns focus.
    await seek(page, 38);
    await waitTime(page, 39, 30000);
    const st = await page.evaluate(() => document.getElementById('status').textContent);
    check('after a seek, "Caricamento in corso…" is gone once the video plays', !/Caricamento/.test(st), st);
    const opener = page.locator('button[data-pop="redditi-quattordicesima"]');
    await opener.waitFor({ state: 'visible', timeout: 10000 });
    check('pop-up offered at its time', await opener.isVisible());
    await opener.click();
    const dlg = page.locator('#pop-redditi-quattordicesima');
    await dlg.waitFor({ state: 'visible', timeout: 5000 });
    check('opening the pop-up pauses the video', await page.evaluate(() => document.getElementById('video').paused));
    await shot(page, 'popup-phone.png');
    await axe(page, 'the open pop-up');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'hidden', timeout: 5000 });
    check('closing the pop-up returns focus to its button',
      await page.evaluate(() => document.activeElement && document.activeElement.dataset.pop === 'redditi-quattordicesima'));

    // End screen: services and rating.
    await seek(page, 90);
    await page.locator('#fine').waitFor({ state: 'visible', timeout: 10000 });
    // The buttons the video draws open their service where they are drawn (btn-cedolino:
    // centred on 348,362 of the 1280x720 canvas), and are links a keyboard reaches.
    await page.locator('#video').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('video').pause());
    const [drawn] = await Promise.all([
      phone.waitForEvent('page', { timeout: 10000 }),
      clickCanvas(page, 348, 362),
    ]);
    await drawn.waitForLoadState('load', { timeout: 10000 }).catch(() => {});
    check('tapping a button drawn in the video opens its service', /cedolino-della-pensione/.test(drawn.url()), drawn.url());
    await drawn.close();
    check('the drawn buttons are keyboard links', await page.evaluate(() => {
      const a = document.querySelector('#hotspots a[data-service="contact-center"]');
      return !!a && !a.hidden && a.tabIndex === 0 && /Contact Center/.test(a.textContent);
    }));
    const [tab] = await Promise.all([
      phone.waitForEvent('page', { timeout: 10000 }),
      page.locator('#fine a[data-service="red-precompilato"]').click(),
    ]);
    await tab.waitForLoadState('load', { timeout: 10000 }).catch(() => {});
    check('service button opens the INPS service', /red-precompilato/.test(tab.url()), tab.url());
    await tab.close();
    await page.locator('label[for="voto-5"]').click();
    await page.locator('#rating button[type="submit"]').click();
    check('rating thanks the viewer', /Grazie/.test(await page.locator('#rating-done').textContent()));
    check('after sending the rating, focus is on the thanks',
      await page.evaluate(() => document.activeElement && document.activeElement.id === 'rating-done'));
    await page.evaluate(() => { const v = document.getElementById('video'); if (v.paused) v.play(); });
    await page.waitForFunction(() => document.getElementById('video').ended, null, { timeout: 40000, polling: 200 })
      .catch(() => {});
    check('video plays to the end', await page.evaluate(() => document.getElementById('video').ended));
    check('end screen heading focused at the end', await page.evaluate(() => document.activeElement && document.activeElement.id === 'fine-h'));
    await shot(page, 'endscreen-phone.png');
    const pdf = await page.request.get(L['RED-0002'] + '/guida.pdf');
    check('PDF guide downloads', pdf.status() === 200 && (await pdf.body()).subarray(0, 5).toString() === '%PDF-');
    await page.close();

    // ---- cold start: open a link and press play at once (nothing of theirs rendered yet) ----
    const cold = await phone.newPage();
    await cold.goto(L['RED-0006'], { waitUntil: 'load', timeout: 20000 });
    await cold.locator('#bigplay').click();
    await waitTime(cold, 0.1, 60000);
    report.cold = await cold.evaluate(() => ({ press_to_first_frame_ms: Number(document.getElementById('player').dataset.startupMs),
      navigation_to_first_frame_ms: Number(document.getElementById('player').dataset.firstFrameMs) }));
    check(`cold start: first frame within the ${BUDGET_MS} ms budget`, report.cold.navigation_to_first_frame_ms > 0 &&
      report.cold.navigation_to_first_frame_ms < BUDGET_MS, `${report.cold.navigation_to_first_frame_ms} ms from opening the link, ${report.cold.press_to_first_frame_ms} ms from the press`);
    await cold.close();

    // ---- a person holding no income-linked benefit (RED-0001) ----
    const other = await phone.newPage();
    await other.goto(L['RED-0001'], { waitUntil: 'load', timeout: 20000 });
    check('other person: no quattordicesima pop-up',
      await other.locator('#pop-redditi-quattordicesima').count() === 0);
    check('other person: the general pop-up instead',
      await other.locator('#pop-redditi-generale').count() === 1);
    check('no name on the page (it is in the video, captions and PDF)',
      !/Pierluigi|Addolorata|RED-000/.test(await other.content()));
    await other.close();

    // ---- hls.js (as on browsers without native HLS), a laptop (1366x768), full screen ----
    const hp = await desk.newPage();
    await hp.setViewportSize({ width: 1366, height: 768 });
    await hp.addInitScript(() => {
      const orig = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (t) {
        return /mpegurl/i.test(t) ? '' : orig.call(this, t);
      };
    });
    await hp.goto(L['RED-0003'], { waitUntil: 'load', timeout: 20000 });
    await shot(hp, 'player-desktop.png');
    await hp.locator('#bigplay').click();
    await waitTime(hp, 0.3, 60000);
    const st2 = await hp.evaluate(() => Number(document.getElementById('player').dataset.startupMs || 0));
    report.startup_hlsjs_ms = st2;
    check('hls.js from ciak plays', await hp.evaluate(() => document.getElementById('video').src.startsWith('blob:')), `${st2} ms to first frame`);
    const h1 = await hp.evaluate(() => document.getElementById('video').currentTime);
    await waitTime(hp, h1 + 0.5, 20000).catch(() => {});
    const h2 = await hp.evaluate(() => document.getElementById('video').currentTime);
    check('hls.js: currentTime advances', h2 > h1 + 0.5, `${h1.toFixed(2)} -> ${h2.toFixed(2)}`);
    await seek(hp, 40);
    await hp.locator('.cue.on .open-pop').first().waitFor({ state: 'visible', timeout: 10000 });
    check('laptop: the pop-up offer is on screen when it appears', await inView(hp, '.cue.on .open-pop'));
    await seek(hp, 88);
    await hp.locator('#hotspots .hot:not([hidden])').first().waitFor({ state: 'visible', timeout: 10000 });
    await hp.evaluate(() => document.getElementById('video').pause());
    check('laptop: the drawn service buttons are links on screen', await inView(hp, '#hotspots .hot:not([hidden])'));
    check('laptop: the list of services is on screen', await inView(hp, '#fine .service'));
    await shot(hp, 'endscreen-laptop.png');
    await axe(hp, 'the player at the end, laptop');
    await hp.locator('#fs').click();
    await hp.waitForFunction(() => document.fullscreenElement && document.fullscreenElement.id === 'stage', null, { timeout: 5000 }).catch(() => {});
    check('full screen shows the stage (video and what lies on it)', await hp.evaluate(() => !!document.fullscreenElement && document.fullscreenElement.id === 'stage'));
    await hp.waitForTimeout(300); // the full-screen layout settles
    check('full screen: the pop-up offer is on screen', await inView(hp, '.cue.on .open-pop'));
    check('full screen: the drawn service buttons are links on screen', await inView(hp, '#hotspots .hot:not([hidden])'));
    check('full screen: the way out is on screen', await inView(hp, '#fsexit'));
    await hp.screenshot({ path: path.join(OUT, 'fullscreen-laptop.png') });
    await hp.locator('#fsexit').click();
    await hp.waitForFunction(() => !document.fullscreenElement, null, { timeout: 5000 }).catch(() => {});
    check('full screen: "Esci" leaves it', await hp.evaluate(() => !document.fullscreenElement));
    await hp.close();

    // ---- playback that fails is said to fail, never "starting" ----
    const bad = await desk.newPage();
    await bad.addInitScript(() => {
      const orig = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (t) {
        return /mpegurl/i.test(t) ? '' : orig.call(this, t);
      };
    });
    await bad.route(/\/static\/hls\.light\.min\.js$/, (r) => r.fulfill({ status: 404, body: 'not found' }));
    await bad.goto(L['RED-0005'], { waitUntil: 'load', timeout: 20000 });
    await bad.locator('#bigplay').click();
    await bad.waitForFunction(() => document.getElementById('status').textContent.length > 0, null, { timeout: 10000 }).catch(() => {});
    const said = await bad.evaluate(() => document.getElementById('status').textContent);
    check('without the player script the page says it failed, and what to do',
      /Non riusciamo/.test(said) && /ricarichi/i.test(said) && !/si sta preparando/.test(said), said);
    await bad.close();

    // ---- the expired link ----
    const ex = await desk.newPage();
    await ex.setViewportSize({ width: 1280, height: 800 });
    const resp = await ex.goto(EXPIRED, { waitUntil: 'load', timeout: 20000 });
    check('expired link answers 410', resp.status() === 410, resp.status());
    await axe(ex, 'the expired-link page');
    await ex.close();

    // ---- forged, malformed and oversized events: refused, nothing stored ----
    const ev = L['RED-0004'] + '/events';
    const forged = L['RED-0004'].replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) + '/events';
    const posts = [
      [forged, '{"events":[{"type":"play"}]}', 404, 'forged token'],
      [ev, 'not json', 400, 'malformed'],
      [ev, '{"events":[{"type":"popup","id":"redditi-quattordicesima"}]}', 400, 'a pop-up this person never had'],
      [ev, '{"events":[{"type":"rating","value":9}]}', 400, 'rating out of range'],
      [ev, JSON.stringify({ events: [{ type: 'play' }], pad: 'x'.repeat(5000) }), 413, 'oversized'],
    ];
    const api = desk.request;
    for (const [u, body, want, what] of posts) {
      const r = await api.post(u, { data: body, headers: { 'Content-Type': 'text/plain' } });
      check(`event post refused: ${what}`, r.status() === want, r.status());
    }

    // ---- dashboard ----
    const dash = await desk.newPage();
    await dash.setViewportSize({ width: 1280, height: 900 });
    await dash.goto(BASE + '/admin/', { waitUntil: 'load', timeout: 20000 });
    await axe(dash, 'the dashboard login');
    await dash.fill('#password', 'wrong-password-000000');
    await Promise.all([dash.waitForNavigation({ timeout: 10000 }), dash.locator('button[type="submit"]').click()]);
    check('wrong password refused', /non corretta/.test(await dash.content()));
    await dash.fill('#password', ADMIN);
    await Promise.all([dash.waitForNavigation({ timeout: 10000 }), dash.locator('button[type="submit"]').click()]);
    await dash.waitForSelector('svg.chart', { timeout: 10000 });
    const cookie = (await desk.cookies()).find((c) => c.name === 'ck_admin');
    check('session cookie HttpOnly; Secure; SameSite=Strict',
      cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict');
    const html = await dash.content();
    const num = async (sel) => Number((await dash.locator(sel).first().textContent()).replace(/\D/g, '') || 0);
    check('dashboard: links issued', await num('#links') >= 20);
    check('dashboard: views', await num('#plays') >= 2);
    const row = async (sel) => (await dash.locator(sel).textContent()) || '';
    check('dashboard: the campaign by its title', /Dichiarazione RED/.test(await row('h2')));
    check('dashboard: pop-up opened counted, by its title',
      await num('#popup-redditi-quattordicesima .num') === 1 &&
      /Quattordicesima: quali redditi/.test(await row('#popup-redditi-quattordicesima')));
    check('dashboard: service click counted, by its title',
      await num('#service-red-precompilato .num') === 1 &&
      /RED precompilato/.test(await row('#service-red-precompilato')));
    check('dashboard: no raw cue id shown', !/<code>/.test(html));
    check('dashboard: rating counted', await num('#rating-5') === 1);
    // The phone viewer skipped from 38 s to 90 s: reaching the end by a seek is no complete view.
    check('dashboard: a seek to the end is no complete view', await num('#funnel-100') === 0);
    const lead = (id) => Number(((html.match(new RegExp(`id="${id}">([0-9.]+)`)) || [])[1] || 'NaN').replace(/\./g, ''));
    check('dashboard: headline and daily table agree (complete views)',
      lead('complete') === lead('daily-complete'), `${lead('complete')} vs ${lead('daily-complete')}`);
    await shot(dash, 'dashboard-desktop.png');
    await axe(dash, 'the dashboard');
    const { status: csvStatus, text } = await dash.evaluate(async () => {
      const r = await fetch('/admin/export.csv?c=red-sollecito');
      return { status: r.status, text: await r.text() };
    });
    check('CSV export', csvStatus === 200 && text.startsWith('campaign,day,type,item,events,viewers,value_sum'));
    check('CSV: nothing from the refused posts', !/,rating,,\d+,\d+,9\n/.test(text) &&
      (text.match(/,popup,redditi-quattordicesima,(\d+),/) || [])[1] === '1');
    fs.writeFileSync(path.join(OUT, 'analytics.csv'), text);
    await dash.close();
  } finally {
    await phone.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(OUT, 'report.json'), JSON.stringify(report, null, 2));
  console.log(`startup: ${JSON.stringify(report)}`);
}

const dog = setTimeout(() => {
  console.log('FAIL watchdog: the browser test ran too long');
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, WATCHDOG_MS);
main().catch((e) => { check('browser test ran', false, e && e.message ? e.message.split('\n')[0] : e); })
  .finally(() => {
    clearTimeout(dog);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
