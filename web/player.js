// player.js: the ciak video-guide player. Plain modern JavaScript, no framework.
//
// The page (engine/guide/player.c) carries everything personal already rendered by the server:
// the pop-ups this person may open, the chapters, the service buttons. This script only plays
// the stream, shows and hides cues by time, and sends anonymous events.
//
// Playback: native HLS where the browser has it (Safari, iOS, recent Chromium), else hls.js
// (built into ciak, loaded only when needed: 390 KB matter on a weak connection). Nothing
// starts with sound on its own: the viewer presses "Avvia". A playback that failed says so,
// and what to do; it is never shown as "starting".
// Layout: the stage (video, the links over the buttons the video draws, pop-up offers) is what
// "Schermo intero" shows; on a phone the captions are drawn below the picture, not over it.
// Events: batched and sent with navigator.sendBeacon to /v/<token>/events (see
// docs/analytics.md); no name, token or address is in them (the URL carries the token, and the
// server keeps only a salted daily hash of it). Watched time is reported as the ranges played.
'use strict';

(() => {
  const root = document.getElementById('player');
  const video = document.getElementById('video');
  if (!root || !video) return;
  document.documentElement.classList.add('js');

  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const bigplay = $('bigplay');
  const playBtn = $('play');
  const eventsUrl = root.dataset.events;
  const t0 = performance.now();

  // ---- events ----
  const queue = [];
  let flushTimer = 0;
  // The server takes at most 32 events and 4096 bytes per POST (413 otherwise).
  const BATCH_EVENTS = 16;
  const BATCH_BYTES = 3800;
  function flush() {
    clearTimeout(flushTimer);
    flushTimer = 0;
    while (queue.length) {
      const batch = [queue.shift()];
      while (queue.length && batch.length < BATCH_EVENTS &&
        JSON.stringify({ events: batch.concat([queue[0]]) }).length <= BATCH_BYTES) {
        batch.push(queue.shift());
      }
      const body = JSON.stringify({ events: batch });
      let sent = false;
      try {
        sent = navigator.sendBeacon &&
          navigator.sendBeacon(eventsUrl, new Blob([body], { type: 'text/plain' }));
      } catch (e) { sent = false; }
      if (!sent) {
        fetch(eventsUrl, { method: 'POST', body, keepalive: true, credentials: 'omit',
          headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
      }
    }
  }
  function track(type, extra, now) {
    const ev = Object.assign({ type }, extra || {});
    queue.push(ev);
    if (now) flush();
    else if (!flushTimer) flushTimer = setTimeout(flush, 3000);
  }
  window.ciakTrack = track; // for the browser tests only: reads nothing back

  // Watched time: the ranges the video actually played (video.played), never the positions
  // it reached, so a seek to the end counts only what was played. The whole list is sent
  // each time and the server keeps the union per link and day: re-sending adds nothing.
  // Seconds to a tenth, rounded inwards (never more than was played); at most 16 ranges
  // per event (the server's limit), more go in further events.
  const MAX_RANGES = 16;
  let reportedS = 0;
  function playedRanges() {
    const out = [];
    const p = video.played;
    for (let i = 0; p && i < p.length; i++) {
      const s = Math.ceil(p.start(i) * 10) / 10;
      const e = Math.floor(p.end(i) * 10) / 10;
      if (e > s) out.push([s, e]);
    }
    return out;
  }
  function reportWatched(now) {
    const ranges = playedRanges();
    const total = ranges.reduce((sum, r) => sum + r[1] - r[0], 0);
    if (total > reportedS) {
      reportedS = total;
      for (let i = 0; i < ranges.length; i += MAX_RANGES) {
        track('watched', { ranges: ranges.slice(i, i + MAX_RANGES) });
      }
    }
    if (now) flush();
  }
  // While playing: every 10 s of newly played time (a closed tab may never say goodbye).
  video.addEventListener('timeupdate', () => {
    if (playedRanges().reduce((sum, r) => sum + r[1] - r[0], 0) >= reportedS + 10) {
      reportWatched(false);
    }
  });
  video.addEventListener('pause', () => reportWatched(false));
  video.addEventListener('ended', () => reportWatched(true));
  addEventListener('pagehide', () => reportWatched(true));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') reportWatched(true);
  });

  const say = (text) => { if (status) status.textContent = text; };
  const LOADING = 'Caricamento in corso…';
  const PREPARING = 'Il video si sta preparando: parte tra pochi secondi.';

  // ---- the stream ----
  const src = root.dataset.media;
  let hls = null;
  let attached = false;
  let failed = false;
  const native = video.canPlayType('application/vnd.apple.mpegurl') !== '';

  const FAILED = 'Non riusciamo a riprodurre il video in questo momento. Ricarichi la pagina ' +
    'tra qualche minuto; intanto può scaricare la guida in PDF più sotto. Se il problema ' +
    'resta, chiami il Contact Center INPS al numero 803 164.';
  let failMessage = '';
  function fail(code, message) {
    if (failed) return;
    failed = true;
    failMessage = message || FAILED;
    root.dataset.failed = code; // for the browser tests: the page says it failed
    track('error', { id: code }, true);
    say(failMessage);
  }

  function attach() {
    if (attached) return Promise.resolve();
    attached = true;
    if (native) {
      video.src = src;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const s = document.createElement('script');
      s.src = root.dataset.hls;
      s.onload = () => {
        if (!window.Hls || !window.Hls.isSupported()) {
          fail('unsupported', 'Il suo browser non riesce a riprodurre questo video. Provi con ' +
            'un altro browser aggiornato (Chrome, Edge, Firefox, Safari) o dall\'app INPS ' +
            'Mobile; intanto può scaricare la guida in PDF più sotto.');
          resolve();
          return;
        }
        // Small buffers ahead: the stream is being made while it plays.
        hls = new window.Hls({ maxBufferLength: 20, backBufferLength: 30, enableWorker: true,
          startPosition: 0, manifestLoadingMaxRetry: 6, levelLoadingMaxRetry: 6,
          fragLoadingMaxRetry: 8 });
        let recoveries = 0;
        hls.on(window.Hls.Events.ERROR, (ev, data) => {
          if (!data.fatal) return;
          if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR && recoveries++ < 2) {
            hls.recoverMediaError();
          } else {
            fail(data.type === window.Hls.ErrorTypes.NETWORK_ERROR ? 'network' : 'media');
          }
        });
        hls.loadSource(src);
        hls.attachMedia(video);
        resolve();
      };
      s.onerror = () => {
        fail('player_load', 'Non riusciamo a caricare il lettore video. Controlli la ' +
          'connessione e ricarichi la pagina; intanto può scaricare la guida in PDF più sotto. ' +
          'Se il problema resta, chiami il Contact Center INPS al numero 803 164.');
        resolve();
      };
      document.head.appendChild(s);
    });
  }
  // Start loading at once, so the first segment is rendered while the viewer reads the page.
  attach();

  // With hls.js its own errors decide (a media error is retried first); a source that cannot
  // be played at all (code 4) fails either way.
  video.addEventListener('error', () => {
    const code = video.error ? video.error.code : 0;
    if (!hls || code === 4) fail(code === 2 ? 'network' : 'media');
  });

  // ---- start-up time: from the press of "Avvia" to the first frame shown ----
  let pressed = 0;
  let started = false;
  function firstFrame() {
    if (started || !pressed) return;
    started = true;
    const ms = Math.round(performance.now() - pressed);
    root.dataset.startupMs = String(ms);
    root.dataset.firstFrameMs = String(Math.round(performance.now())); // since navigation
    track('startup', { value: Math.min(ms, 600000) }, true);
    say('');
  }
  video.addEventListener('playing', () => {
    if (started) return;
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(firstFrame);
    else firstFrame();
  });

  // Stalls: time spent waiting after the start.
  let waitingSince = 0;
  video.addEventListener('waiting', () => {
    if (started && !waitingSince) waitingSince = performance.now();
    if (started) say('Caricamento in corso…');
  });
  const endWait = () => {
    if (!waitingSince) return;
    const ms = Math.round(performance.now() - waitingSince);
    waitingSince = 0;
    say('');
    if (ms >= 250) track('stall', { value: Math.min(ms, 600000) });
  };
  video.addEventListener('playing', endWait);
  video.addEventListener('seeked', () => { waitingSince = 0; });
  // "Caricamento in corso…" leaves the screen and the live region as soon as the video goes
  // on, after a seek too (where no stall was counted, so endWait above keeps it).
  const loaded = () => {
    if (status && status.textContent === LOADING && !video.seeking && video.readyState >= 3) {
      say('');
    }
  };
  ['playing', 'seeked', 'canplay', 'timeupdate'].forEach((e) => video.addEventListener(e, loaded));

  function start() {
    // Keyboard focus on "Avvia" moves to "Pausa", next to it, not to the top of the page.
    const fromBig = document.activeElement === bigplay;
    if (!pressed) {
      pressed = performance.now();
      track('play', null, true);
      if (!failed) say(PREPARING);
    }
    if (failed) say(failMessage);
    else {
      // Still nothing after half a minute: say so, rather than "starting" for ever.
      setTimeout(() => {
        if (!started && !failed && status && status.textContent === PREPARING) {
          say('Il video tarda a partire. Controlli la connessione; se non parte, ricarichi ' +
            'la pagina.');
        }
      }, 30000);
    }
    bigplay.hidden = true;
    if (fromBig) playBtn.focus();
    attach().then(() => {
      const p = video.play();
      if (p && p.catch) p.catch(() => {});
    });
  }
  bigplay.addEventListener('click', start);
  video.addEventListener('play', () => {
    if (!pressed) start();
    bigplay.hidden = true;
    playBtn.textContent = 'Pausa';
  });
  video.addEventListener('pause', () => {
    playBtn.textContent = 'Riproduci';
    waitingSince = 0;
    say('');
  });
  playBtn.addEventListener('click', () => {
    if (video.paused) start();
    else video.pause();
  });
  $('back').addEventListener('click', () => {
    video.currentTime = Math.max(0, video.currentTime - 10);
  });

  // ---- captions: on by default, size control ----
  const cc = $('cc');
  const ccsize = $('ccsize');
  function track0() {
    return video.textTracks && video.textTracks.length ? video.textTracks[0] : null;
  }
  // The browser would draw the captions over the picture and hide what the scene draws there
  // (its text on a phone, its service buttons at the end): the track is kept 'hidden' (its
  // cues still change) and they are written in the caption box below the picture instead;
  // the browser draws them only in an iPhone's own full screen, where the box is not seen.
  const capbox = $('capbox');
  const stage = $('stage');
  const isFull = () => !!(document.fullscreenElement || document.webkitFullscreenElement);
  let videoFull = false;
  const boxed = () => !!capbox && !videoFull;
  function drawCaptions() {
    if (!capbox) return;
    const t = track0();
    const on = cc && cc.getAttribute('aria-pressed') === 'true';
    capbox.hidden = !(on && boxed());
    if (capbox.hidden || !t) return;
    const cues = t.activeCues ? Array.from(t.activeCues) : [];
    capbox.textContent = cues.map((c) => c.text.replace(/<[^>]*>/g, '')).join('\n');
  }
  function setCaptions(on, report) {
    const t = track0();
    if (t) t.mode = on ? (boxed() ? 'hidden' : 'showing') : 'hidden';
    if (cc) {
      cc.setAttribute('aria-pressed', on ? 'true' : 'false');
      cc.textContent = on ? 'Sottotitoli attivi' : 'Sottotitoli spenti';
    }
    if (report) track('captions', { value: on ? 1 : 0 });
    drawCaptions();
  }
  const t0track = track0();
  if (t0track) t0track.addEventListener('cuechange', drawCaptions);
  if (video.textTracks) {
    video.textTracks.addEventListener('addtrack', (e) => {
      if (e.track) e.track.addEventListener('cuechange', drawCaptions);
    });
  }
  const relayout = () => {
    if (cc) setCaptions(cc.getAttribute('aria-pressed') === 'true', false);
  };
  video.addEventListener('webkitbeginfullscreen', () => { videoFull = true; relayout(); });
  video.addEventListener('webkitendfullscreen', () => { videoFull = false; relayout(); });
  if (cc) {
    setCaptions(true, false);
    if (video.textTracks) {
      video.textTracks.addEventListener('addtrack', () => {
        setCaptions(cc.getAttribute('aria-pressed') === 'true', false);
      });
    }
    cc.addEventListener('click', () => {
      setCaptions(cc.getAttribute('aria-pressed') !== 'true', true);
    });
  }
  if (ccsize) {
    const apply = () => { root.dataset.ccsize = ccsize.value; };
    apply();
    ccsize.addEventListener('change', apply);
  }

  // ---- full screen: the stage, so the pop-up offers and the drawn buttons' links come along --
  const fsBtn = $('fs');
  if (fsBtn && stage) {
    const canStage = !!(stage.requestFullscreen || stage.webkitRequestFullscreen);
    fsBtn.hidden = !(canStage || video.webkitEnterFullscreen);
    const enter = () => {
      if (stage.requestFullscreen) return stage.requestFullscreen();
      if (stage.webkitRequestFullscreen) return stage.webkitRequestFullscreen();
      return video.webkitEnterFullscreen(); // an iPhone puts only the video itself full screen
    };
    const leave = () => (document.exitFullscreen ? document.exitFullscreen()
      : document.webkitExitFullscreen());
    const quiet = (p) => { if (p && p.catch) p.catch(() => {}); };
    fsBtn.addEventListener('click', () => quiet(enter()));
    const fsExit = $('fsexit');
    if (fsExit) fsExit.addEventListener('click', () => quiet(leave()));
    const changed = () => {
      const el = document.fullscreenElement || document.webkitFullscreenElement;
      // The video's own full screen (a double click on it) would leave the offers behind.
      if (el === video && canStage) {
        quiet(Promise.resolve(leave()).then(enter));
        return;
      }
      const full = !!el && el === stage;
      stage.classList.toggle('full', full);
      if (!full && document.activeElement === document.body) fsBtn.focus();
    };
    document.addEventListener('fullscreenchange', changed);
    document.addEventListener('webkitfullscreenchange', changed);
  }

  // ---- the buttons the video draws: links over the picture while it shows them ----
  const hots = Array.from(document.querySelectorAll('#hotspots .hot'));
  hots.forEach((a) => {
    const d = a.dataset;
    a.style.left = d.x + '%';
    a.style.top = d.y + '%';
    a.style.width = d.w + '%';
    a.style.height = d.h + '%';
    a.addEventListener('click', () => track('button', { id: d.service }, true));
  });
  function showHots() {
    const t = video.currentTime;
    for (const a of hots) {
      const on = t >= parseFloat(a.dataset.start) && t <= parseFloat(a.dataset.end);
      if (a.hidden === on) a.hidden = !on;
    }
  }
  ['timeupdate', 'seeked', 'ended'].forEach((e) => video.addEventListener(e, showHots));

  // ---- pop-ups: offered while the scene says; opening one pauses the video ----
  const popItems = Array.from(document.querySelectorAll('#popups .cue'));
  let opener = null;
  let resumeAfter = false;
  document.querySelectorAll('.open-pop').forEach((btn) => {
    btn.addEventListener('click', () => {
      const dlg = $('pop-' + btn.dataset.pop);
      if (!dlg) return;
      opener = btn;
      resumeAfter = !video.paused;
      video.pause();
      dlg.showModal();
      track('popup', { id: btn.dataset.pop }, true);
    });
  });
  document.querySelectorAll('dialog.pop').forEach((dlg) => {
    dlg.addEventListener('close', () => {
      if (opener) opener.focus();
      opener = null;
      if (resumeAfter) video.play().catch(() => {});
      resumeAfter = false;
    });
  });

  // ---- chapters ----
  const chapters = Array.from(document.querySelectorAll('.chapter'));
  chapters.forEach((b) => {
    b.addEventListener('click', () => {
      video.currentTime = parseFloat(b.dataset.t) || 0;
      if (video.paused) start();
    });
  });

  // ---- end screen: services, rating ----
  const fine = $('fine');
  const fineStart = fine ? parseFloat(fine.dataset.start) : Infinity;
  if (fine) fine.classList.add('later');
  function showEnd(focus) {
    if (!fine) return;
    const was = fine.classList.contains('later');
    fine.classList.remove('later');
    if (focus && !isFull()) {
      const h = $('fine-h');
      if (h) h.focus();
    } else if (was) {
      say('Tocchi un pulsante nel video per aprire un servizio online; li trova anche ' +
        'nell\'elenco «I servizi online per lei».');
    }
  }
  document.querySelectorAll('.service').forEach((a) => {
    a.addEventListener('click', () => track('button', { id: a.dataset.service }, true));
  });
  const guide = $('guide');
  if (guide) guide.addEventListener('click', () => track('guide', null, true));

  const form = $('rating');
  if (form) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = form.querySelector('input[name="voto"]:checked');
      const done = $('rating-done');
      if (!v) {
        done.textContent = 'Scelga prima un voto da 1 a 5.';
        return;
      }
      track('rating', { value: parseInt(v.value, 10) }, true);
      form.querySelectorAll('input, button').forEach((el) => { el.disabled = true; });
      done.textContent = 'Grazie per la sua valutazione.';
    });
    // After sending, focus goes to the thanks: the control it was on is disabled now, and the
    // browser would drop focus to the top of the page.
    form.addEventListener('submit', () => {
      const a = document.activeElement;
      const done = $('rating-done');
      if (done && done.textContent && (!a || a === document.body || a.disabled)) done.focus();
    });
  }

  // ---- time-driven updates ----
  video.addEventListener('timeupdate', () => {
    const t = video.currentTime;
    for (const li of popItems) {
      const on = t >= parseFloat(li.dataset.start) && t < parseFloat(li.dataset.end);
      li.classList.toggle('on', on);
    }
    let cur = null;
    for (const b of chapters) if (t + 0.05 >= parseFloat(b.dataset.t)) cur = b;
    for (const b of chapters) {
      if (b === cur) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    if (t >= fineStart) showEnd(false);
  });
  video.addEventListener('ended', () => {
    showEnd(true);
  });
})();
