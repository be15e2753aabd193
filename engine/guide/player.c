/* player.c: the player page for one person (see ck_guide.h). Everything personal is rendered
 * here, on the server; web/player.js only reads times and ids from data attributes, so the
 * page works the same with native HLS and with hls.js, and without a JSON blob to parse.
 * Without JavaScript the page still shows the video (native HLS), chapters, services and the
 * PDF link. Italian, polite form ("lei"), as INPS writes to its users.
 * The page's own text names nobody (the server keeps names out of its pages, so a page kept
 * in a browser's cache or history shows none); the name is in the video, its captions and the
 * PDF, which the viewer asks for. */
#include "ck_timeline.h"
#include "guide_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_time(ck_strbuf *b, double s)
{
    char t[32];
    int sec = (int)(s + 0.5);
    snprintf(t, sizeof t, "%d:%02d", sec / 60, sec % 60);
    ck_strbuf_puts(b, t);
}

static void put_num(ck_strbuf *b, double v)
{
    char t[32];
    snprintf(t, sizeof t, "%.2f", v);
    ck_strbuf_puts(b, t);
}

/* Element ids come from scene ids ([a-z0-9_-]): safe in attributes as they are. */
static void put_attr(ck_strbuf *b, const char *name, const char *value)
{
    ck_strbuf_puts(b, " ");
    ck_strbuf_puts(b, name);
    ck_strbuf_puts(b, "=\"");
    ck_strbuf_html(b, value);
    ck_strbuf_puts(b, "\"");
}

/* Where the video draws a service button: the scene's top-level layer "btn-<cue id>" (the
 * campaigns' convention), in percent of the canvas (left, top, width, height), once its
 * entrance animation is over. False when the scene draws no such layer. */
static bool button_rect(const ck_scene *s, const char *cue_id, double r[4])
{
    char id[160];
    snprintf(id, sizeof id, "btn-%s", cue_id);
    for (int i = 0; i < s->layer_count; i++) {
        const ck_layer *l = &s->layers[i];
        if (l->parent != -1 || !l->id || strcmp(l->id, id) != 0 || s->width <= 0 || s->height <= 0)
            continue;
        double t = l->end - l->start, v[CK_ANIM_PROP_COUNT];
        for (int p = 0; p < CK_ANIM_PROP_COUNT; p++)
            v[p] = ck_anim_value(s, &l->anim[p], t);
        double w = l->width * v[CK_PROP_SCALE] * v[CK_PROP_SCALE_X];
        double h = l->height * v[CK_PROP_SCALE] * v[CK_PROP_SCALE_Y];
        if (w <= 0 || h <= 0)
            return false;
        r[0] = (v[CK_PROP_X] - v[CK_PROP_ANCHOR_X] * w) * 100.0 / s->width;
        r[1] = (v[CK_PROP_Y] - v[CK_PROP_ANCHOR_Y] * h) * 100.0 / s->height;
        r[2] = w * 100.0 / s->width;
        r[3] = h * 100.0 / s->height;
        return true;
    }
    return false;
}

/* Service buttons the video draws become links over the picture, where they are drawn and
 * while they are: "Tocchi un pulsante" then works on the picture itself. Positions are data
 * attributes (the page's CSP allows no inline style); player.js places and shows them. */
static void put_hotspots(ck_strbuf *b, const ck_scene *s, const ck_guide_cue *cues, int n)
{
    ck_strbuf_puts(b, "<div class=\"hotspots\" id=\"hotspots\">\n");
    for (int i = 0; i < n; i++) {
        const ck_guide_cue *c = &cues[i];
        double r[4];
        if (c->kind != CK_CUE_BUTTON || !c->url || !button_rect(s, c->id, r))
            continue;
        ck_strbuf_puts(b, "<a class=\"hot\" hidden target=\"_blank\" rel=\"noopener noreferrer\"");
        put_attr(b, "href", c->url);
        put_attr(b, "data-service", c->id);
        const char *names[] = {"data-start", "data-end", "data-x", "data-y", "data-w", "data-h"};
        const double vals[] = {c->start, c->end, r[0], r[1], r[2], r[3]};
        for (int k = 0; k < 6; k++) {
            ck_strbuf_puts(b, " ");
            ck_strbuf_puts(b, names[k]);
            ck_strbuf_puts(b, "=\"");
            put_num(b, vals[k]);
            ck_strbuf_puts(b, "\"");
        }
        ck_strbuf_puts(b, "><span class=\"sr-only\">");
        ck_strbuf_html(b, c->label);
        ck_strbuf_puts(b, " (pulsante nel video, si apre in una nuova scheda)</span></a>\n");
    }
    ck_strbuf_puts(b, "</div>\n");
}

char *ck_guide_player_html(const ck_guide *g, const ck_record *rec, const char *token,
                           bool captions)
{
    const ck_scene *s = g->scene;
    ck_arena arena = {0};
    ck_strbuf b = {0};
    ck_guide_cue *cues = NULL;
    int n = ck_guide_cues(g, rec, &arena, &cues);
    const char *title = s->title ? s->title : "La sua video-guida INPS";
    char base[256];
    snprintf(base, sizeof base, "/v/%s", token);

    ck_strbuf_puts(&b, "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<meta name=\"robots\" content=\"noindex\">\n"
                       "<meta name=\"referrer\" content=\"no-referrer\">\n"
                       "<link rel=\"stylesheet\" href=\"/static/player.css\">\n"
                       "<script src=\"/static/player.js\" defer></script>\n<title>");
    ck_strbuf_html(&b, title);
    ck_strbuf_puts(&b, "</title>\n</head>\n<body>\n<header class=\"top\">\n"
                       "<p class=\"brand\"><span class=\"logo\">INPS</span> "
                       "<span>La sua video-guida personale</span></p>\n</header>\n"
                       "<main id=\"main\">\n<h1>");
    ck_strbuf_html(&b, title);
    ck_strbuf_puts(&b, "</h1>\n");
    const char *greeting = g->salute ? ck_template_render(g->salute, rec, &arena) : NULL;
    ck_strbuf_puts(&b, "<p class=\"greeting\">");
    ck_strbuf_html(&b, greeting && greeting[0] ? greeting : "Gentile utente,");
    ck_strbuf_puts(&b, " questo video è stato preparato per lei. "
                       "Lo avvii quando vuole con il pulsante «Avvia la video-guida».</p>\n");

    /* The player. */
    ck_strbuf_puts(&b, "<div class=\"player\" id=\"player\"");
    char url[300];
    snprintf(url, sizeof url, "%s/media.m3u8", base);
    put_attr(&b, "data-media", url);
    snprintf(url, sizeof url, "%s/events", base);
    put_attr(&b, "data-events", url);
    put_attr(&b, "data-hls", "/static/hls.light.min.js");
    /* The stage is what "Schermo intero" shows: the frame (video, start button, the drawn
     * buttons' links), the captions and the overlay (pop-up offers, the way out of full
     * screen), so nothing is lost in full screen.
     * "Avvia" comes first in the page's tab order, before the video's own controls. */
    ck_strbuf_puts(&b, ">\n<div class=\"stage\" id=\"stage\">\n<div class=\"frame\" id=\"frame\">\n"
                       "<button type=\"button\" class=\"bigplay\" id=\"bigplay\">"
                       "<span class=\"icon\" aria-hidden=\"true\">▶</span> Avvia la video-guida"
                       "</button>\n<video id=\"video\" playsinline preload=\"auto\" controls "
                       "controlslist=\"nofullscreen\"");
    /* No src: player.js picks native HLS or hls.js. Without JS: see <noscript>. */
    ck_strbuf_puts(&b, " aria-label=\"Video-guida\">\n");
    if (captions) {
        snprintf(url, sizeof url, "%s/captions.vtt", base);
        ck_strbuf_puts(&b, "<track kind=\"captions\" srclang=\"it\" label=\"Italiano\" default");
        put_attr(&b, "src", url);
        ck_strbuf_puts(&b, ">\n");
    }
    ck_strbuf_puts(&b, "</video>\n");
    put_hotspots(&b, s, cues, n);
    ck_strbuf_puts(&b, "</div>\n");
    /* Captions drawn by player.js below the picture, so they hide nothing the scene draws (its
     * text on a phone, its buttons at the end); the text track stays their source. */
    if (captions)
        ck_strbuf_puts(&b, "<div class=\"capbox\" id=\"capbox\" aria-hidden=\"true\" hidden>"
                           "</div>\n");
    ck_strbuf_puts(&b, "<div class=\"overlay\" id=\"overlay\">\n");
    /* Pop-ups: a button appears while the scene says; the dialog pauses the video. Over the
     * picture on wide screens and in full screen, under it on a phone. */
    int pops = 0;
    for (int i = 0; i < n; i++)
        pops += cues[i].kind == CK_CUE_POPUP;
    if (pops) {
        ck_strbuf_puts(&b, "<section class=\"popups\" aria-label=\"Approfondimenti\">\n"
                           "<ul id=\"popups\" aria-live=\"polite\">\n");
        for (int i = 0; i < n; i++) {
            const ck_guide_cue *c = &cues[i];
            if (c->kind != CK_CUE_POPUP)
                continue;
            ck_strbuf_puts(&b, "<li class=\"cue\" data-start=\"");
            put_num(&b, c->start);
            ck_strbuf_puts(&b, "\" data-end=\"");
            put_num(&b, c->end);
            ck_strbuf_puts(
                &b, "\"><button type=\"button\" class=\"open-pop\" aria-haspopup=\"dialog\"");
            put_attr(&b, "data-pop", c->id);
            ck_strbuf_puts(&b, "><span class=\"icon\" aria-hidden=\"true\">i</span> "
                               "Approfondimento: ");
            ck_strbuf_html(&b, c->title);
            ck_strbuf_puts(&b, "</button></li>\n");
        }
        ck_strbuf_puts(&b, "</ul>\n</section>\n");
    }
    ck_strbuf_puts(&b, "<button type=\"button\" class=\"fsexit\" id=\"fsexit\">Esci dallo schermo "
                       "intero</button>\n</div>\n</div>\n"
                       "<noscript><p>Per vedere il video attivi JavaScript nel browser, oppure "
                       "<a");
    snprintf(url, sizeof url, "%s/index.m3u8", base);
    put_attr(&b, "href", url);
    ck_strbuf_puts(&b,
                   ">apra il video direttamente</a>.</p></noscript>\n"
                   "<p id=\"status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n");
    for (int i = 0; i < n; i++) {
        const ck_guide_cue *c = &cues[i];
        if (c->kind != CK_CUE_POPUP)
            continue;
        ck_strbuf_puts(&b, "<dialog class=\"pop\"");
        snprintf(url, sizeof url, "pop-%s", c->id);
        put_attr(&b, "id", url);
        snprintf(url, sizeof url, "pop-%s-t", c->id);
        put_attr(&b, "aria-labelledby", url);
        ck_strbuf_puts(&b, ">\n<h2");
        put_attr(&b, "id", url);
        ck_strbuf_puts(&b, ">");
        ck_strbuf_html(&b, c->title);
        ck_strbuf_puts(&b, "</h2>\n<p>");
        ck_strbuf_html(&b, c->body);
        ck_strbuf_puts(&b, "</p>\n<form method=\"dialog\"><button class=\"close\">Chiudi e "
                           "torna al video</button></form>\n</dialog>\n");
    }
    ck_strbuf_puts(&b, "<div class=\"controls\" role=\"group\" aria-label=\"Comandi del video\">\n"
                       "<button type=\"button\" id=\"play\" class=\"ctl\">Riproduci</button>\n"
                       "<button type=\"button\" id=\"back\" class=\"ctl\">Indietro di 10 secondi"
                       "</button>\n"
                       "<button type=\"button\" id=\"fs\" class=\"ctl\" hidden>Schermo intero"
                       "</button>\n");
    if (captions)
        ck_strbuf_puts(&b,
                       "<button type=\"button\" id=\"cc\" class=\"ctl\" aria-pressed=\"true\">"
                       "Sottotitoli</button>\n"
                       "<label class=\"ctl size\">Testo dei sottotitoli\n<select id=\"ccsize\">"
                       "<option value=\"m\">normale</option><option value=\"l\" selected>grande"
                       "</option><option value=\"xl\">molto grande</option></select></label>\n");
    ck_strbuf_puts(&b, "</div>\n");

    ck_strbuf_puts(&b, "</div>\n");

    /* Chapters. */
    int chapters = 0;
    for (int i = 0; i < n; i++)
        chapters += cues[i].kind == CK_CUE_CHAPTER;
    if (chapters) {
        ck_strbuf_puts(&b, "<nav class=\"chapters\" aria-labelledby=\"chapters-h\">\n"
                           "<h2 id=\"chapters-h\">Capitoli</h2>\n<ol id=\"chapters\">\n");
        for (int i = 0; i < n; i++) {
            const ck_guide_cue *c = &cues[i];
            if (c->kind != CK_CUE_CHAPTER)
                continue;
            ck_strbuf_puts(&b, "<li><button type=\"button\" class=\"chapter\" data-t=\"");
            put_num(&b, c->start);
            ck_strbuf_puts(&b, "\"><span class=\"ct\">");
            ck_strbuf_html(&b, c->title);
            ck_strbuf_puts(&b, "</span> <span class=\"time\"><span class=\"sr-only\">dal minuto "
                               "</span>");
            put_time(&b, c->start);
            ck_strbuf_puts(&b, "</span></button></li>\n");
        }
        ck_strbuf_puts(&b, "</ol>\n</nav>\n");
    }

    /* The end screen: services, rating. Revealed by player.js when the scene's first service
     * button starts, or at the end; shown as is without JavaScript. */
    double first_button = s->duration;
    for (int i = 0; i < n; i++)
        if (cues[i].kind == CK_CUE_BUTTON && cues[i].start < first_button)
            first_button = cues[i].start;
    ck_strbuf_puts(&b, "<section class=\"endscreen\" id=\"fine\" aria-labelledby=\"fine-h\" "
                       "data-start=\"");
    put_num(&b, first_button);
    ck_strbuf_puts(&b, "\">\n<h2 id=\"fine-h\" tabindex=\"-1\">I servizi online per lei</h2>\n");
    ck_strbuf_puts(&b, "<p>Ogni pulsante apre il servizio sul sito dell'INPS in una nuova scheda. "
                       "Per accedere servono SPID, CIE o CNS.</p>\n<ul class=\"services\">\n");
    for (int i = 0; i < n; i++) {
        const ck_guide_cue *c = &cues[i];
        if (c->kind != CK_CUE_BUTTON || !c->url)
            continue;
        ck_strbuf_puts(&b, "<li><a class=\"service\" target=\"_blank\" "
                           "rel=\"noopener noreferrer\"");
        put_attr(&b, "href", c->url);
        put_attr(&b, "data-service", c->id);
        ck_strbuf_puts(&b, ">");
        ck_strbuf_html(&b, c->label);
        ck_strbuf_puts(&b,
                       "<span class=\"sr-only\"> (si apre in una nuova scheda)</span></a></li>\n");
    }
    ck_strbuf_puts(&b, "</ul>\n");
    ck_strbuf_puts(
        &b, "<form class=\"rating\" id=\"rating\">\n<fieldset>\n<legend>Quanto Le è stata "
            "utile questa video-guida?</legend>\n<p class=\"hint\" id=\"rating-hint\">Scelga "
            "un voto da 1 (per niente) a 5 (moltissimo).</p>\n<div class=\"stars\">\n");
    /* Answers to "Quanto?", as the hint says them. */
    static const char *const words[5] = {"per niente", "poco", "abbastanza", "molto", "moltissimo"};
    for (int v = 1; v <= 5; v++) {
        char row[512];
        snprintf(row, sizeof row,
                 "<input type=\"radio\" name=\"voto\" id=\"voto-%d\" value=\"%d\" "
                 "aria-describedby=\"rating-hint\"><label for=\"voto-%d\"><span "
                 "class=\"n\">%d</span> <span class=\"w\">%s</span></label>\n",
                 v, v, v, v, words[v - 1]);
        ck_strbuf_puts(&b, row);
    }
    ck_strbuf_puts(
        &b,
        "</div>\n<button type=\"submit\" class=\"send\">Invii la valutazione</button>\n"
        "<p id=\"rating-done\" class=\"thanks\" role=\"status\" tabindex=\"-1\"></p>\n</fieldset>\n"
        "</form>\n</section>\n");

    /* The PDF guide. */
    ck_strbuf_puts(&b,
                   "<section class=\"pdf\" aria-labelledby=\"pdf-h\">\n<h2 id=\"pdf-h\">La sua "
                   "guida da conservare</h2>\n<p>Date, importi, obblighi, collegamenti ai "
                   "servizi, consigli per la salute e per difendersi dalle truffe, in un file "
                   "PDF da conservare sul telefono o da stampare.</p>\n<p><a class=\"download\" "
                   "id=\"guide\" download=\"guida-inps.pdf\"");
    snprintf(url, sizeof url, "%s/guida.pdf", base);
    put_attr(&b, "href", url);
    ck_strbuf_puts(&b,
                   ">Scarichi la guida in PDF</a></p>\n</section>\n</main>\n"
                   "<footer class=\"help\">\n<p>Serve aiuto? Chiami il Contact Center INPS: "
                   "<a href=\"tel:803164\">803 164</a> (gratuito da rete fissa) oppure "
                   "<a href=\"tel:+3906164164\">06 164 164</a> (da cellulare).</p>\n"
                   "<p>L'INPS non le chiederà mai dati personali, codici o denaro per telefono, "
                   "e-mail o SMS.</p>\n</footer>\n</body>\n</html>\n");
    ck_arena_free(&arena);
    return ck_strbuf_take(&b);
}
