/* viewer.c: the routes of the viewer experience and the dashboard, kept apart from http.c:
 *
 *   GET  /v/<token>              the player page (engine/guide), this person's cues only
 *   GET  /v/<token>/guida.pdf    the personalised PDF guide
 *   POST /v/<token>/events       anonymous events (engine/analytics): 204, 400, 413, 429
 *   GET  /static/<file>          player and dashboard assets from web/ (checked at start-up),
 *                                hls.js built into the binary (served by ciak, no CDN)
 *   GET  /admin/                 dashboard, or the login form; POST /admin/login, /admin/logout
 *   GET  /admin/export.csv[?c=]  CSV export
 *
 * http.c verifies the token (guard, 404, 410, revoked) before any /v/ route reaches here and
 * sends the srv_reply built here. */
#include "ck_analytics.h"
#include "ck_guide.h"
#include "server_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct srv_viewer {
    ck_guide **guides; /* per campaign */
    ck_analytics *analytics;
    ck_admin *admin; /* NULL: no credential, /admin answers 404 */
    char web_dir[512];
};

static ck_status check_assets(const srv_viewer *v, ck_error *err);

ck_status srv_viewer_open(ck_server *s, ck_error *err)
{
    srv_viewer *v = calloc(1, sizeof *v);
    if (!v)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    s->viewer = v;
    snprintf(v->web_dir, sizeof v->web_dir, "%s", s->p.web_dir ? s->p.web_dir : "web");
    if (check_assets(v, err) != CK_OK)
        return err->status;
    v->guides = calloc((size_t)(s->campaign_count > 0 ? s->campaign_count : 1), sizeof *v->guides);
    if (!v->guides)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    for (int c = 0; c < s->campaign_count; c++)
        if (!(v->guides[c] = ck_guide_create(s->campaigns[c].scene, err)))
            return err->status;
    /* With db_url, the fleet's PostgreSQL: every node's events in one report, and a login on
     * one node valid on all. */
    v->analytics = ck_analytics_open_at(s->data_dir, s->p.db_url, NULL, err);
    if (!v->analytics)
        return err->status;
    ck_error aerr = {0};
    v->admin = ck_admin_open_at(s->data_dir, s->p.db_url, &aerr);
    if (!v->admin && aerr.status == CK_ERR_UNSUPPORTED && s->p.db_url) {
        *err = aerr; /* admin tables newer than this node knows: upgrade it before starting */
        return err->status;
    }
    if (!v->admin) {
        char buf[1400];
        ck_log(CK_LOG_INFO, "dashboard off: %s", ck_error_format(&aerr, buf, sizeof buf));
    }
    return CK_OK;
}

void srv_viewer_close(ck_server *s)
{
    srv_viewer *v = s->viewer;
    if (!v)
        return;
    for (int c = 0; v->guides && c < s->campaign_count; c++)
        ck_guide_destroy(&v->guides[c]);
    free(v->guides);
    ck_analytics_close(&v->analytics);
    ck_admin_destroy(&v->admin);
    free(v);
    s->viewer = NULL;
}

/* ---- replies ---- */
static void reply(srv_reply *o, unsigned status, char *body, size_t len, const char *ctype)
{
    o->status = status;
    o->body = body;
    o->len = body ? len : 0;
    o->ctype = ctype;
}

static void reply_text(srv_reply *o, unsigned status, const char *text)
{
    reply(o, status, strdup(text), strlen(text), "text/plain; charset=utf-8");
}

static void header(srv_reply *o, const char *name, const char *value)
{
    if (o->hdrs >= SRV_REPLY_HEADERS)
        return;
    o->hdr_name[o->hdrs] = name;
    snprintf(o->hdr_value[o->hdrs], sizeof o->hdr_value[o->hdrs], "%s", value);
    o->hdrs++;
}

static const char csp_player[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
static const char csp_admin[] = "default-src 'self'; script-src 'none'; style-src 'self'; "
                                "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                                "form-action 'self'";

/* ---- the person's record (decrypted for this request only) ---- */
/* `*expires`: the stored last day (the purge deletes the person after it). */
static ck_records *person(ck_server *s, int c, const uint8_t *handle, int32_t *expires)
{
    ck_person p;
    ck_error err = {0};
    if (ck_store_get(s->store, s->campaigns[c].id, handle, &p, &err) != CK_OK)
        return NULL;
    *expires = p.expires;
    ck_diags d = {.max = 4};
    ck_records *recs =
        ck_records_parse(s->campaigns[c].scene, p.record_json, strlen(p.record_json), "store", &d);
    ck_diags_free(&d);
    ck_person_clear(&p);
    if (recs && recs->count != 1)
        ck_records_destroy(&recs);
    return recs;
}

bool srv_viewer_token_route(ck_server *s, int c, const uint8_t *handle, const char *token,
                            size_t tlen, const char *what, const char *body, size_t body_len,
                            bool post, srv_reply *o)
{
    srv_viewer *v = s->viewer;
    bool page = what[0] == '\0', pdf = strcmp(what, "guida.pdf") == 0,
         events = strcmp(what, "events") == 0;
    if (!page && !pdf && !events)
        return false;
    if (post != events) {
        reply_text(o, 405, "method not allowed\n");
        header(o, "Allow", events ? "POST" : "GET, HEAD");
        return true;
    }
    if (events && body_len > CK_AN_MAX_BODY) {
        reply_text(o, 413, "too large\n");
        return true;
    }
    int32_t stored_until = INT32_MAX;
    ck_records *recs = person(s, c, handle, &stored_until);
    /* A stored record that no longer fits the scene (changed since the import) still gets the
     * page, as for a person with no values: cues without data, the help text. */
    const ck_scene *scene = s->campaigns[c].scene;
    ck_value *none = recs || !page ? NULL : calloc((size_t)scene->field_count + 1, sizeof *none);
    ck_record empty = {.id = "", .values = none};
    if (!recs && !none) {
        o->status = 503; /* http.c sends its page */
        return true;
    }
    const ck_record *rec = recs ? &recs->items[0] : &empty;
    char tok[CK_TOKEN_MAX];
    snprintf(tok, sizeof tok, "%.*s", (int)tlen, token);
    if (page) {
        char *html = ck_guide_player_html(v->guides[c], rec, tok, s->campaigns[c].has_captions);
        reply(o, html ? 200 : 503, html, html ? strlen(html) : 0, "text/html; charset=utf-8");
        o->csp = csp_player;
        o->cache = "no-store";
    } else if (pdf) {
        char *data = NULL;
        size_t len = 0;
        ck_error err = {0};
        /* The PDF states the link's real last day: the token's (http.c has verified it; read
         * again here for its expiry), or the stored one when the purge comes first. */
        ck_token_claims claims;
        ck_guide_pdf_params pp = {.link_last_day = stored_until};
        if (ck_token_verify(&s->keys, token, tlen, ck_today(), &claims) == CK_TOKEN_OK &&
            claims.expires < stored_until)
            pp.link_last_day = claims.expires;
        if (ck_guide_pdf(v->guides[c], rec, &pp, &data, &len, &err) == CK_OK) {
            reply(o, 200, data, len, "application/pdf");
            header(o, "Content-Disposition", "attachment; filename=\"guida-inps.pdf\"");
            o->cache = "private, no-store";
        } else {
            char buf[1400];
            ck_log(CK_LOG_ERROR, "guide: %s", ck_error_format(&err, buf, sizeof buf));
            o->status = 503;
        }
    } else {
        /* The ids this person may report: the pop-ups and buttons their page was given. */
        ck_arena arena = {0};
        ck_guide_cue *cues = NULL;
        int n = ck_guide_cues(v->guides[c], rec, &arena, &cues), np = 0, nb = 0;
        const char **pop = ck_arena_alloc(&arena, sizeof *pop * (size_t)(n + 1)),
                   **btn = ck_arena_alloc(&arena, sizeof *btn * (size_t)(n + 1));
        for (int i = 0; pop && btn && i < n; i++) {
            if (cues[i].kind == CK_CUE_POPUP)
                pop[np++] = cues[i].id;
            else if (cues[i].kind == CK_CUE_BUTTON)
                btn[nb++] = cues[i].id;
        }
        ck_an_allowed allowed = {pop, np, btn, nb, scene->duration};
        ck_an_result r = ck_analytics_ingest(v->analytics, s->campaigns[c].id, token, tlen, body,
                                             body_len, &allowed, ck_today(), srv_now_ms() / 1000.0);
        ck_arena_free(&arena);
        static const unsigned codes[] = {[CK_AN_STORED] = 204,
                                         [CK_AN_BAD] = 400,
                                         [CK_AN_TOO_LARGE] = 413,
                                         [CK_AN_LIMITED] = 429,
                                         [CK_AN_FAILED] = 503};
        if (r == CK_AN_STORED) {
            srv_db_wrote(s, "events");
            reply(o, 204, NULL, 0, NULL);
        } else if (r == CK_AN_FAILED) {
            /* The database cannot be written (read-only, full, away): the player may send
             * the batch again later; the operator gets one line and the metric. */
            char why[256];
            ck_analytics_last_failure(v->analytics, why, sizeof why);
            srv_db_fault(s, "events", why);
            reply_text(o, 503, "Servizio momentaneamente non disponibile: riprovi tra poco.\n");
            header(o, "Retry-After", "30");
            o->cache = "no-store";
        } else if (r == CK_AN_LIMITED) {
            reply_text(o, 429, "too many events\n");
            header(o, "Retry-After", "600");
        } else
            reply_text(o, codes[r], r == CK_AN_TOO_LARGE ? "too large\n" : "bad events\n");
    }
    ck_records_destroy(&recs);
    free(none);
    return true;
}

/* ---- static assets: a fixed list, nothing else is reachable ---- */
/* hls.js, the player's only way to play where a browser has no native HLS (Firefox), is part
 * of the binary: cmake/viewer.cmake gets it with npm at build time, so a running server always
 * has it. The assembler takes the file in; ck_hls_js_end is followed by one zero byte. */
#ifndef CIAK_HLS_JS_PATH
#error "CIAK_HLS_JS_PATH: the path of hls.light.min.js (cmake/viewer.cmake sets it)"
#endif
__asm__(".section .rodata\n"
        ".balign 16\n"
        "ck_hls_js:\n"
        ".incbin \"" CIAK_HLS_JS_PATH "\"\n"
        "ck_hls_js_end:\n"
        ".byte 0\n"
        ".previous\n");
extern const char ck_hls_js[], ck_hls_js_end[];

static const struct {
    const char *name, *path, *ctype; /* path NULL: built in (hls.js) */
} assets[] = {
    {"player.js", "player.js", "text/javascript; charset=utf-8"},
    {"player.css", "player.css", "text/css; charset=utf-8"},
    {"dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
    {"hls.light.min.js", NULL, "text/javascript; charset=utf-8"},
};

/* The files of web/ are read from disk (edited without a rebuild); a server that would answer
 * 404 for the player's own script refuses to start instead, naming the folder. */
static ck_status check_assets(const srv_viewer *v, ck_error *err)
{
    for (size_t i = 0; i < CK_ARRAY_LEN(assets); i++) {
        if (!assets[i].path)
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", v->web_dir, assets[i].path);
        FILE *f = fopen(path, "rb");
        if (!f)
            return ck_error_set(err, CK_ERR_NOT_FOUND, path, 0, 0,
                                "the player's file is missing: ciak serve reads web/ from the "
                                "folder it starts in (start it from the ciak repository)");
        fclose(f);
    }
    return CK_OK;
}

static void serve_static(srv_viewer *v, const char *name, srv_reply *o)
{
    for (size_t i = 0; i < CK_ARRAY_LEN(assets); i++) {
        if (strcmp(name, assets[i].name) != 0)
            continue;
        char path[1200], *data = NULL;
        size_t len = 0;
        if (!assets[i].path) {
            len = (size_t)(ck_hls_js_end - ck_hls_js);
            if (!(data = malloc(len)))
                break;
            memcpy(data, ck_hls_js, len);
        } else {
            snprintf(path, sizeof path, "%s/%s", v->web_dir, assets[i].path);
            if (ck_read_file(path, 4 << 20, &data, &len, NULL) != CK_OK)
                break;
        }
        reply(o, 200, data, len, assets[i].ctype);
        o->cache = "public, max-age=3600";
        return;
    }
    reply_text(o, 404, "not found\n");
}

/* ---- admin ---- */
/* Decodes one application/x-www-form-urlencoded value into out. */
static bool form_value(const char *body, size_t len, const char *key, char *out, size_t size)
{
    size_t k = strlen(key);
    for (size_t i = 0; body && i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > k && memcmp(body + i, key, k) == 0 && body[i + k] == '=') {
            size_t w = 0;
            for (size_t j = i + k + 1; j < end && w + 1 < size; j++) {
                char ch = body[j];
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && j + 2 < end &&
                           ck_hex_digit((unsigned char)body[j + 1]) >= 0 &&
                           ck_hex_digit((unsigned char)body[j + 2]) >= 0) {
                    ch = (char)(ck_hex_digit((unsigned char)body[j + 1]) * 16 +
                                ck_hex_digit((unsigned char)body[j + 2]));
                    j += 2;
                }
                out[w++] = ch;
            }
            out[w] = '\0';
            return true;
        }
        i = end + 1;
    }
    return false;
}

static const char page_no_admin[] =
    "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Cruscotto non attivo</title></head><body><main>"
    "<h1>Il cruscotto non \xc3\xa8 ancora attivo</h1>"
    "<p>Nessuna password di amministrazione \xc3\xa8 stata impostata su questo server.</p>"
    "<p>Per attivare il cruscotto, esegua sul server, con la cartella dei dati usata da "
    "<code>ciak serve</code>:</p>"
    "<pre>ciak admin-password --data-dir CARTELLA_DEI_DATI</pre>"
    "<p>digiti una password di almeno 12 caratteri e riavvii il server. Poi torni a questa "
    "pagina per accedere.</p>"
    "</main></body></html>\n";

static void see_other(srv_reply *o, const char *where)
{
    reply_text(o, 303, "see other\n");
    header(o, "Location", where);
}

/* A cue's title for the dashboard: the scene's text when it is plain, its id when it is a
 * template (a title with {{...}} could carry a person's data; the dashboard has no person). */
static const char *plain(const ck_src_text *t)
{
    return t->text && !strstr(t->text, "{{") ? t->text : NULL;
}

/* What the dashboard calls a campaign and its pop-ups and services (the analytics module
 * knows no scenes); labels in `arena`. */
static void dashboard_names(const ck_scene *sc, ck_arena *arena, ck_an_names *out)
{
    ck_an_label *l = ck_arena_alloc(arena, sizeof *l * (size_t)(sc->cue_count + 1));
    *out = (ck_an_names){.campaign = sc->title, .cues = l};
    for (int i = 0; l && i < sc->cue_count; i++) {
        const ck_cue *c = &sc->cues[i];
        const char *title = c->kind == CK_CUE_POPUP    ? plain(&c->title)
                            : c->kind == CK_CUE_BUTTON ? plain(&c->label)
                                                       : NULL;
        if (title)
            l[out->cue_count++] = (ck_an_label){c->id, title};
    }
}

static void dashboard(ck_server *s, const char *campaign, srv_reply *o)
{
    srv_viewer *v = s->viewer;
    int n = s->campaign_count, sel = 0;
    ck_an_report *reps = calloc((size_t)(n > 0 ? n : 1), sizeof *reps);
    ck_an_names *names = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
    ck_arena arena = {0};
    if (!reps || !names) {
        free(reps);
        free(names);
        o->status = 503;
        return;
    }
    int32_t today = ck_today();
    for (int c = 0; c < n; c++) {
        ck_error err = {0};
        ck_store_count(s->store, s->campaigns[c].id, &reps[c].links, &err);
        if (ck_analytics_report(v->analytics, s->campaigns[c].id, today - 29, today, &reps[c],
                                &err) != CK_OK) {
            char buf[1400];
            ck_log(CK_LOG_ERROR, "dashboard: %s", ck_error_format(&err, buf, sizeof buf));
        }
        if (campaign && strcmp(campaign, s->campaigns[c].id) == 0)
            sel = c;
        dashboard_names(s->campaigns[c].scene, &arena, &names[c]);
    }
    char *html = ck_dashboard_html(reps, names, n, sel);
    ck_arena_free(&arena);
    free(names);
    free(reps);
    reply(o, html ? 200 : 503, html, html ? strlen(html) : 0, "text/html; charset=utf-8");
    o->csp = csp_admin;
    o->cache = "no-store";
}

/* A POST must come from our own pages: SameSite=Strict already keeps the cookie from other
 * sites; this refuses the login form posted from elsewhere too. Our pages send no Referer, so
 * browsers send "Origin: null": Sec-Fetch-Site decides where it exists. */
static bool same_origin(const srv_request *q)
{
    if (q->fetch_site)
        return strcmp(q->fetch_site, "same-origin") == 0;
    if (!q->origin || strcmp(q->origin, "null") == 0)
        return true; /* old browsers: the SameSite cookie is the protection */
    const char *o = strstr(q->origin, "://");
    return o && q->host && strcmp(o + 3, q->host) == 0;
}

bool srv_viewer_route(ck_server *s, const srv_request *q, srv_reply *o)
{
    srv_viewer *v = s->viewer;
    const char *url = q->url;
    if (strncmp(url, "/static/", 8) == 0) {
        if (q->post)
            reply_text(o, 405, "method not allowed\n");
        else
            serve_static(v, url + 8, o);
        return true;
    }
    if (strcmp(url, "/admin") == 0) {
        see_other(o, "/admin/");
        return true;
    }
    if (strncmp(url, "/admin/", 7) != 0)
        return false;
    const char *what = url + 7;
    if (!v->admin) {
        /* The operator's first visit: say how to turn the dashboard on, not "link non
         * valido" (no path or other detail of the server is shown). */
        reply(o, 404, strdup(page_no_admin), strlen(page_no_admin), "text/html; charset=utf-8");
        o->csp = csp_admin;
        return true;
    }
    double now = srv_now_ms() / 1000.0;
    bool logged = ck_admin_session_ok(v->admin, q->cookie, now);
    if (strcmp(what, "login") == 0 && q->post) {
        char pw[300] = "";
        if (!same_origin(q)) {
            reply_text(o, 403, "forbidden\n");
            return true;
        }
        form_value(q->body, q->body_len, "password", pw, sizeof pw);
        if (ck_admin_check(v->admin, pw, strlen(pw))) {
            char sid[65], cookie[200];
            ck_admin_session_new(v->admin, now, sid);
            snprintf(cookie, sizeof cookie,
                     "ck_admin=%s; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=28800",
                     sid);
            see_other(o, "/admin/");
            header(o, "Set-Cookie", cookie);
        } else {
            o->login_failed = true; /* http.c counts a strike for the address */
            char *html = ck_dashboard_login_html(true);
            reply(o, 401, html, html ? strlen(html) : 0, "text/html; charset=utf-8");
            o->csp = csp_admin;
        }
        memset(pw, 0, sizeof pw);
        return true;
    }
    if (strcmp(what, "logout") == 0 && q->post) {
        if (same_origin(q))
            ck_admin_session_end(v->admin, q->cookie);
        see_other(o, "/admin/");
        header(o, "Set-Cookie",
               "ck_admin=; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
        return true;
    }
    if (q->post) {
        reply_text(o, 405, "method not allowed\n");
        return true;
    }
    if (!logged) {
        if (what[0] != '\0') {
            see_other(o, "/admin/");
            return true;
        }
        char *html = ck_dashboard_login_html(false);
        reply(o, 200, html, html ? strlen(html) : 0, "text/html; charset=utf-8");
        o->csp = csp_admin;
        return true;
    }
    if (what[0] == '\0') {
        dashboard(s, q->campaign, o);
        return true;
    }
    if (strcmp(what, "export.csv") == 0) {
        ck_error err = {0};
        const char *c = q->campaign && srv_campaign_find(s, q->campaign) >= 0 ? q->campaign : NULL;
        char *csv = ck_analytics_csv(v->analytics, c, &err);
        reply(o, csv ? 200 : 503, csv, csv ? strlen(csv) : 0, "text/csv; charset=utf-8");
        header(o, "Content-Disposition", "attachment; filename=\"ciak-analytics.csv\"");
        return true;
    }
    o->status = 404;
    return true;
}
