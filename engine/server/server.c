/* server.c: start-up, campaigns, people's views, the jobs the render workers run, the daily
 * purge, and `ciak warm`. */
#include "server_internal.h"
#include "ck_speech.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define VIEW_BUCKETS 4096
#define VIEW_MAX     8192 /* views kept in memory; older idle ones are dropped */
/* How long a view nobody asks for is kept (ck_server_params.view_idle_s). A player asks for a
 * segment every few seconds while it plays and stops once its buffer is full (hls.js: 30 s
 * ahead), so a minute of quiet is a viewer who paused or left: one who comes back pays the
 * view again once (its lines said again, ~0.14 s of CPU at 2 MB of memory saved), never once
 * per segment. Views by the bytes they hold: 256 MiB is ~120 people with speech (~2.1 MB
 * each on assegno-sociale), above what a node takes in a minute and a half of arrivals
 * (docs/server.md, "Memory"); past it a busy node re-says lines instead of growing. */
#define VIEW_IDLE_S   60
#define VIEW_BYTES    ((int64_t)256 << 20)
#define VIEW_SWEEP_MS 1000.0     /* srv_view_get sweeps at most this often (unless over a cap) */
#define RECORD_BYTES  (64 << 10) /* a parsed record's arena: its first block (ck_arena) */

/* ---- params ---- */
static void resolve_params(ck_server *s, const ck_server_params *in)
{
    s->p = in ? *in : (ck_server_params){0};
    snprintf(s->listen, sizeof s->listen, "%s", s->p.listen ? s->p.listen : "127.0.0.1:8080");
    snprintf(s->data_dir, sizeof s->data_dir, "%s", s->p.data_dir ? s->p.data_dir : "var");
    snprintf(s->scenes_dir, sizeof s->scenes_dir, "%s",
             s->p.scenes_dir ? s->p.scenes_dir : "scenes");
    if (s->p.node_name && s->p.node_name[0])
        snprintf(s->node, sizeof s->node, "%s", s->p.node_name);
    else if (gethostname(s->node, sizeof s->node) != 0 || !s->node[0])
        snprintf(s->node, sizeof s->node, "ciak");
    s->node[sizeof s->node - 1] = '\0';
    if (s->p.cluster)
        s->p.no_warm = true;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (s->p.workers <= 0)
        s->p.workers = cores >= 8 ? (int)(cores / 4) : 1;
    if (s->p.http_threads <= 0)
        s->p.http_threads = 4;
    if (s->p.cache_bytes <= 0)
        s->p.cache_bytes = (int64_t)10 << 30;
    if (s->p.timeout_s <= 0)
        s->p.timeout_s = 15;
    if (s->p.per_ip_connections <= 0)
        s->p.per_ip_connections = 16;
    if (s->p.max_connections <= 0)
        s->p.max_connections = 1024;
    if (s->p.fail_limit <= 0)
        s->p.fail_limit = 200;
    if (s->p.fail_prefix_limit <= 0)
        s->p.fail_prefix_limit = 1000;
    if (s->p.fail_global_limit <= 0)
        s->p.fail_global_limit = 10000;
    if (s->p.personal_ttl_days <= 0)
        s->p.personal_ttl_days = 7;
    if (s->p.fail_window_s <= 0)
        s->p.fail_window_s = 600;
    if (s->p.admit_late_ms == 0)
        s->p.admit_late_ms = 1000;
    if (s->p.drain_s == 0)
        s->p.drain_s = 60;
    if (s->p.drain_idle_s <= 0)
        s->p.drain_idle_s = 3;
    if (s->p.view_idle_s <= 0)
        s->p.view_idle_s = VIEW_IDLE_S;
    if (s->p.views_bytes <= 0)
        s->p.views_bytes = VIEW_BYTES;
    s->workers = s->p.no_render ? 0 : s->p.workers;
}

/* ---- campaigns ---- */
int srv_campaign_find(const ck_server *s, const char *id)
{
    for (int i = 0; i < s->campaign_count; i++)
        if (strcmp(s->campaigns[i].id, id) == 0)
            return i;
    return -1;
}

/* Folder names under scenes_dir that hold a scene.json, sorted; NULL-terminated. */
static char **list_campaigns(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = calloc(65, sizeof *names);
    int n = 0;
    struct dirent *de;
    while (names && n < 64 && (de = readdir(d))) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/scene.json", dir, de->d_name);
        if (de->d_name[0] != '.' && ck_file_exists(path))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    return names;
}

/* Every asset of the campaign checked before it serves (ck_render_verify_assets): each
 * problem is logged, the first one is `err`. */
static bool srv_verify_campaign(const char *dir, ck_error *err)
{
    ck_diags d = {.max = 50};
    bool ok = ck_render_verify_dir(dir, &d) == CK_OK;
    for (size_t i = 0; i < d.count; i++) {
        const ck_diag *g = &d.items[i];
        if (i == 0)
            ck_error_set(err, CK_ERR_MEDIA, g->file, g->line, g->col, "%s", g->msg);
        ck_log(CK_LOG_ERROR, "%s:%d:%d: %s", g->file ? g->file : dir, g->line, g->col, g->msg);
    }
    ck_diags_free(&d);
    return ok;
}

static bool load_campaign(ck_server *s, const char *name, ck_error *err)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", s->scenes_dir, name);
    int c = s->campaign_count;
    srv_campaign *cp = &s->campaigns[c];
    memset(cp, 0, sizeof *cp);
    if (!srv_verify_campaign(dir, err)) /* its assets would fail in front of a viewer */
        return false;
    if (s->p.no_render) {
        ck_diags d = {.max = 20};
        cp->own_scene = ck_scene_load(dir, NULL, &d);
        if (!cp->own_scene && d.count)
            ck_error_set(err, CK_ERR_PARSE, d.items[0].file, d.items[0].line, d.items[0].col, "%s",
                         d.items[0].msg);
        else if (!cp->own_scene)
            ck_error_set(err, CK_ERR_PARSE, dir, 0, 0, "cannot load the scene");
        ck_diags_free(&d);
        if (!cp->own_scene)
            return false;
        cp->scene = cp->own_scene;
    } else {
        ck_render_params rp = {.cache_dir = srv_cache_shared_root(s->cache),
                               .encoder = s->p.encoder,
                               .width = s->p.width,
                               .height = s->p.height,
                               .defer_audio = true}; /* listen first, encode when warming */
        bool ok = true;
        for (int w = 0; ok && w < s->workers; w++)
            ok = (s->renderers[w][c] = ck_render_create(s->gpus[w], dir, &rp, err)) != NULL;
        ok = ok && ck_render_view_make(s->renderers[0][c], NULL, &cp->shared, err) == CK_OK;
        ok = ok && (cp->digester = ck_render_digester_create(s->renderers[0][c], err)) != NULL;
        if (!ok) {
            ck_render_view_free(&cp->shared);
            for (int w = 0; w < s->workers; w++)
                ck_render_destroy(&s->renderers[w][c]);
            return false;
        }
        cp->scene = ck_render_scene(s->renderers[0][c]);
        snprintf(s->metrics.encoder, sizeof s->metrics.encoder, "%s",
                 ck_render_encoder(s->renderers[0][c]));
    }
    if (strlen(cp->scene->id) > CK_CAMPAIGN_MAX || srv_campaign_find(s, cp->scene->id) >= 0) {
        ck_error_set(err, CK_ERR_INVALID, dir, 0, 0, "campaign id too long or loaded twice");
        ck_render_view_free(&cp->shared);
        ck_render_digester_destroy(&cp->digester);
        ck_scene_destroy(&cp->own_scene);
        for (int w = 0; w < s->workers; w++)
            ck_render_destroy(&s->renderers[w][c]);
        return false;
    }
    pthread_mutex_init(&cp->digest_lock, NULL);
    snprintf(cp->id, sizeof cp->id, "%s", cp->scene->id);
    cp->version = cp->scene->version;
    /* Spoken lines are captioned too (captions = speech). */
    cp->has_captions = cp->scene->caption_count > 0 || cp->scene->speech_line_count > 0;
    snprintf(cp->shared_url, sizeof cp->shared_url, "/c/%s/%d/{digest}.ts", cp->id, cp->version);
    s->campaign_count++;
    int shared = 0;
    for (int i = 0; i < cp->shared.count; i++) {
        shared += cp->shared.segs[i].shared;
        if (cp->shared.segs[i].duration > cp->target_s)
            cp->target_s = cp->shared.segs[i].duration;
    }
    cp->target_s = ceil(cp->target_s - 1e-9);
    ck_log(CK_LOG_INFO, "campaign %s v%d: %d shared segment(s)", cp->id, cp->version, shared);
    return true;
}

static ck_status load_campaigns(ck_server *s, ck_error *err)
{
    char **found = NULL;
    const char *const *names = s->p.campaigns;
    if (!names) {
        found = list_campaigns(s->scenes_dir);
        names = (const char *const *)found;
    }
    int n = 0;
    while (names && names[n])
        n++;
    ck_status st = CK_OK;
    s->campaigns = calloc((size_t)(n ? n : 1), sizeof *s->campaigns);
    s->gpus = calloc((size_t)(s->workers ? s->workers : 1), sizeof *s->gpus);
    s->renderers = calloc((size_t)(s->workers ? s->workers : 1), sizeof *s->renderers);
    if (!s->campaigns || !s->gpus || !s->renderers) {
        st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (int w = 0; w < s->workers; w++) {
        s->renderers[w] = calloc((size_t)(n ? n : 1), sizeof **s->renderers);
        s->gpus[w] = s->renderers[w] ? ck_gpu_create(NULL, err) : NULL;
        if (!s->gpus[w]) {
            st = err->status ? err->status : CK_ERR_NOMEM;
            goto done;
        }
    }
    for (int i = 0; i < n; i++) {
        ck_error e = {0};
        if (!load_campaign(s, names[i], &e)) {
            char buf[1400];
            ck_log(CK_LOG_ERROR, "campaign %s not loaded: %s", names[i],
                   ck_error_format(&e, buf, sizeof buf));
            /* /healthz is public: which campaign and what kind of fault, no paths. */
            ck_strbuf_printf(&s->not_serving, "not serving %s: %s (details in the log)\n", names[i],
                             e.status == CK_ERR_MEDIA ? "an asset fails its checks"
                                                      : "the campaign does not load");
            if (s->p.campaigns) { /* asked for by name: that is an error */
                *err = e;
                st = e.status ? e.status : CK_ERR_INVALID;
                goto done;
            }
        }
    }
    if (s->campaign_count == 0)
        st = ck_error_set(err, CK_ERR_NOT_FOUND, s->scenes_dir, 0, 0, "no campaign loaded");
done:
    for (int i = 0; found && found[i]; i++)
        free(found[i]);
    free(found);
    return st;
}

/* ---- views ---- */
static size_t view_bucket(int campaign, const uint8_t *handle)
{
    uint64_t h = (uint64_t)campaign * 1099511628211ull;
    for (int i = 0; i < CK_HANDLE_BYTES; i++)
        h = (h ^ handle[i]) * 1099511628211ull;
    return (size_t)(h % VIEW_BUCKETS);
}

/* The views' gauges in /metrics; view lock held. */
static void view_gauges(ck_server *s, int64_t speech_delta)
{
    atomic_store(&s->metrics.views_held, (int_fast64_t)s->view_count);
    atomic_store(&s->metrics.views_bytes, (int_fast64_t)s->view_bytes);
    atomic_fetch_add(&s->metrics.views_speech_bytes, (int_fast64_t)speech_delta);
}

/* What a made view holds: its digests, its record and its speech clips. */
static void view_count_bytes(srv_view *v)
{
    v->speech_bytes = (int64_t)ck_render_speech_bytes(&v->speech);
    v->bytes = (int64_t)sizeof *v + v->speech_bytes +
               (int64_t)v->view.count * (int64_t)sizeof *v->view.segs +
               (v->recs ? RECORD_BYTES : 0);
}

/* View lock held (ck_server_destroy: alone). */
static void view_free(ck_server *s, srv_view *v)
{
    s->view_bytes -= v->bytes;
    view_gauges(s, -v->speech_bytes);
    pthread_mutex_destroy(&v->make_lock);
    ck_render_view_free(&v->view);
    ck_render_speech_free(&v->speech);
    ck_records_destroy(&v->recs);
    sodium_memzero(v, sizeof *v);
    free(v);
}

/* Removes from the table (the view lives on while referenced); view lock held. */
static void view_detach(ck_server *s, srv_view *v)
{
    srv_view **pp = &s->view_table[view_bucket(v->campaign, v->handle)];
    while (*pp && *pp != v)
        pp = &(*pp)->next;
    if (!*pp)
        return; /* not in the table (any more): no reference of its to drop */
    *pp = v->next;
    s->view_count--;
    v->next = NULL;
    v->refs--; /* the table's reference */
    if (v->refs == 0)
        view_free(s, v);
    else
        view_gauges(s, 0);
}

void srv_view_forget(ck_server *s, srv_view *v)
{
    pthread_mutex_lock(&s->view_lock);
    view_detach(s, v);
    pthread_mutex_unlock(&s->view_lock);
}

static int by_last_used(const void *a, const void *b)
{
    double x = (*(srv_view *const *)a)->last_used, y = (*(srv_view *const *)b)->last_used;
    return (x > y) - (x < y);
}

/* srv_view_sweep with the view lock held. */
static int view_sweep_locked(ck_server *s, double now)
{
    s->view_swept = now;
    /* Only views nobody holds: refs == 1 is the table's own reference, so no request is
     * being answered from it and no queued or running render reads its record or clips. */
    size_t n = 0;
    for (size_t b = 0; b < VIEW_BUCKETS; b++)
        for (srv_view *v = s->view_table[b]; v; v = v->next)
            n += v->refs == 1;
    srv_view **idle = n ? malloc(n * sizeof *idle) : NULL;
    if (!idle)
        return 0;
    size_t k = 0;
    for (size_t b = 0; b < VIEW_BUCKETS; b++)
        for (srv_view *v = s->view_table[b]; v; v = v->next)
            if (v->refs == 1)
                idle[k++] = v;
    qsort(idle, n, sizeof *idle, by_last_used); /* least recently used first */
    double idle_ms = s->p.view_idle_s * 1e3;
    int dropped = 0;
    for (size_t i = 0; i < n; i++) {
        bool over = s->view_bytes > s->p.views_bytes || s->view_count > VIEW_MAX;
        if (!over && now - idle[i]->last_used < idle_ms)
            break; /* the rest were used more recently still */
        view_detach(s, idle[i]);
        dropped++;
    }
    free(idle);
    atomic_fetch_add(&s->metrics.views_dropped, (uint_fast64_t)dropped);
    return dropped;
}

int srv_view_sweep(ck_server *s)
{
    pthread_mutex_lock(&s->view_lock);
    int dropped = view_sweep_locked(s, srv_now_ms());
    pthread_mutex_unlock(&s->view_lock);
    return dropped;
}

srv_view *srv_view_get(ck_server *s, int campaign, const uint8_t *handle, int64_t rev, bool *fresh)
{
    *fresh = false;
    double now = srv_now_ms();
    pthread_mutex_lock(&s->view_lock);
    size_t b = view_bucket(campaign, handle);
    for (srv_view *v = s->view_table[b]; v; v = v->next)
        if (v->campaign == campaign && memcmp(v->handle, handle, CK_HANDLE_BYTES) == 0) {
            if (v->rev == rev && !v->failed) {
                v->refs++;
                v->last_used = now;
                pthread_mutex_unlock(&s->view_lock);
                return v;
            }
            view_detach(s, v); /* re-imported, or failed: make it again */
            break;
        }
    if (s->view_count >= VIEW_MAX || s->view_bytes > s->p.views_bytes ||
        now - s->view_swept >= VIEW_SWEEP_MS)
        view_sweep_locked(s, now);
    srv_view *v = calloc(1, sizeof *v);
    if (v && pthread_mutex_init(&v->make_lock, NULL) != 0) {
        free(v);
        v = NULL;
    }
    if (v) {
        v->campaign = campaign;
        atomic_init(&v->last_asked, -1);
        memcpy(v->handle, handle, CK_HANDLE_BYTES);
        v->rev = rev;
        v->refs = 2; /* the table's and the caller's */
        v->last_used = now;
        v->next = s->view_table[b];
        s->view_table[b] = v;
        s->view_count++;
        view_gauges(s, 0);
        *fresh = true;
    }
    pthread_mutex_unlock(&s->view_lock);
    return v;
}

void srv_view_ref(ck_server *s, srv_view *v)
{
    pthread_mutex_lock(&s->view_lock);
    v->refs++;
    pthread_mutex_unlock(&s->view_lock);
}

void srv_view_unref(ck_server *s, srv_view *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&s->view_lock);
    if (--v->refs == 0)
        view_free(s, v);
    pthread_mutex_unlock(&s->view_lock);
}

/* ---- jobs ---- */
bool srv_make_view(ck_server *s, srv_view *v)
{
    srv_campaign *cp = &s->campaigns[v->campaign];
    /* The view's own lock, held throughout: a second request for the same person finds the
     * view ready instead of making it twice. Not the campaign's digest lock: the person's
     * speech lines are said before it is taken, so a burst of new viewers says their lines at
     * the same time instead of one viewer after another. Order: make_lock, digest_lock,
     * view_lock. */
    pthread_mutex_lock(&v->make_lock);
    pthread_mutex_lock(&s->view_lock);
    bool done = v->ready, failed = v->failed;
    pthread_mutex_unlock(&s->view_lock);
    if (done || failed) {
        pthread_mutex_unlock(&v->make_lock);
        return done;
    }
    ck_person p;
    ck_error err = {0};
    ck_render_view view = {0};
    ck_records *recs = NULL;
    bool ok = false;
    if (ck_store_get(s->store, cp->id, v->handle, &p, &err) != CK_OK) {
        if (err.status != CK_ERR_NOT_FOUND)
            srv_store_failed(s);
        goto done;
    }
    ck_diags d = {.max = 4};
    recs = ck_records_parse(cp->scene, p.record_json, strlen(p.record_json), "store", &d);
    ck_diags_free(&d);
    ck_person_clear(&p);
    if (!recs || recs->count != 1) {
        /* The record was valid at import: the scene changed its fields since. */
        ck_log(CK_LOG_WARN,
               "campaign %s: a stored record no longer fits the scene; "
               "re-import the campaign",
               cp->id);
        goto done;
    }
    /* The person's speech lines, synthesised once for the view and all their segments (the
     * digests depend on them). A failure leaves the shared audio, never the view. */
    ck_render_speech_make(cp->scene, &recs->items[0], &v->speech);
    /* The digester is single-threaded. */
    pthread_mutex_lock(&cp->digest_lock);
    ck_status dst =
        ck_render_digester_view_speech(cp->digester, &recs->items[0], &v->speech, &view, &err);
    pthread_mutex_unlock(&cp->digest_lock);
    if (dst != CK_OK) {
        char buf[1400];
        ck_log(CK_LOG_ERROR, "campaign %s: view: %s", cp->id,
               ck_error_format(&err, buf, sizeof buf));
        goto done;
    }
    ok = true;
    atomic_fetch_add(&s->metrics.views_made, 1);
done:
    pthread_mutex_lock(&s->view_lock);
    if (ok) {
        v->view = view;
        v->recs = recs;
        v->ready = true;
    } else {
        v->failed = true;
        ck_records_destroy(&recs);
        ck_render_speech_free(&v->speech); /* not kept for a view that failed */
    }
    view_count_bytes(v);
    s->view_bytes += v->bytes;
    view_gauges(s, v->speech_bytes);
    if (s->view_bytes > s->p.views_bytes) /* this one is held: older idle ones go */
        view_sweep_locked(s, srv_now_ms());
    pthread_mutex_unlock(&s->view_lock);
    pthread_mutex_unlock(&v->make_lock);
    return ok;
}

/* A segment of `cp` exists with `bytes` over `seconds`: raises the campaign's peak. Short
 * segments are left out, as HLS leaves them out of the peak (ck_render_measure). */
void srv_seen_rate(srv_campaign *cp, int64_t bytes, double seconds)
{
    if (bytes <= 0 || seconds < 0.5 * cp->target_s || seconds <= 0)
        return;
    int_fast64_t bps = (int_fast64_t)ceil((double)bytes * 8 / seconds);
    int_fast64_t old = atomic_load(&cp->peak_bps);
    while (bps > old && !atomic_compare_exchange_weak(&cp->peak_bps, &old, bps))
        ;
}

void srv_segment_job(ck_server *s, int c, const ck_render_seg *seg, int i, srv_view *v, srv_job *j)
{
    memset(j, 0, sizeof *j);
    j->campaign = c;
    j->index = i;
    j->shared = seg->shared;
    snprintf(j->key, sizeof j->key, "%c:%s", seg->shared ? 's' : 'p', seg->digest);
    if (seg->shared) {
        /* The renderer's layout (ck_render_shared_path), without an allocation per request. */
        snprintf(j->path, sizeof j->path, "%s/%s/%d/%s.ts", srv_cache_shared_root(s->cache),
                 s->campaigns[c].id, s->campaigns[c].version, seg->digest);
    } else {
        srv_cache_personal_path(s->cache, seg->digest, j->path, sizeof j->path);
        j->view = v;
    }
}

/* Fills the job for segment `i`; false when its file is already there. */
static bool missing_segment_job(ck_server *s, int c, const ck_render_seg *seg, int i, srv_view *v,
                                srv_job *j)
{
    srv_segment_job(s, c, seg, i, v, j);
    return access(j->path, F_OK) != 0;
}

void srv_lookahead(ck_server *s, srv_view *v)
{
    double now = srv_now_ms(), unset = 0;
    /* The first playlist request starts the person's playback clock (waiting requests use
     * it to tell a player buffering ahead from one that needs the segment now). */
    atomic_compare_exchange_strong(&v->play_ms, &unset, now);
    for (int i = 0; i < v->view.count; i++) {
        srv_job j;
        /* In a cluster a shared segment has one home node, which renders it when nginx asks. */
        if (s->p.cluster && v->view.segs[i].shared)
            continue;
        if (!missing_segment_job(s, v->campaign, &v->view.segs[i], i, v, &j))
            continue;
        j.deadline = now + v->view.segs[i].start * 1e3;
        srv_queue_push(s->queue, &j, NULL, NULL);
    }
}

/* The player asked for personal segment `index` of `v`: the furthest it asked for moves on. */
void srv_view_asked(srv_view *v, int index)
{
    int last = atomic_load(&v->last_asked);
    while (index > last && !atomic_compare_exchange_weak(&v->last_asked, &last, index))
        ;
}

/* How soon a request that is not the player's next segment (a seek) is served: within about
 * a segment's length. */
#define WAIT_SLACK_MS 2000.0
/* How late a request in order may be due: a player that sought forward within a shared
 * stretch (whose requests name no view) is ahead of the person's clock without a seek seen. */
#define WAIT_AHEAD_MS 10000.0

/* Whether asking for personal segment `index` is the player going on in order: it asked for
 * none of the view's personal segments after the furthest one it asked for before (the
 * shared ones in between come from /c/, which names no view). */
static bool in_order(const srv_view *v, int index)
{
    int last = atomic_load(&v->last_asked);
    if (index < last)
        return false;
    for (int k = last + 1; k < index; k++)
        if (!v->view.segs[k].shared)
            return false;
    return true;
}

/* A player asking in order (buffering ahead, hls.js up to 30 s) gets a segment by when the
 * person's playback reaches it (look-ahead clock), within WAIT_AHEAD_MS: asked for 18 s early,
 * a segment must not pass another viewer's due in 2 s (it did when every waiting request was
 * due within 2 s: in a burst of 10 new viewers the first ones' later segments went before the
 * last ones' second segment, which came late). One asked for out of order is a seek: due at
 * once (within WAIT_SLACK_MS), and the person's clock moves to it, so the segments after it
 * are due from there. Without a clock (shared segment URL, no playlist yet) it is due now. */
double srv_wait_deadline(srv_view *v, int index, double seg_start_s, double now)
{
    double play = v ? atomic_load(&v->play_ms) : 0;
    if (play <= 0)
        return now;
    double due = play + seg_start_s * 1e3, within = WAIT_AHEAD_MS;
    if (in_order(v, index)) {
        srv_view_asked(v, index);
    } else { /* the player is there now: its clock, and what comes in order, from there */
        atomic_store(&v->play_ms, now - seg_start_s * 1e3);
        atomic_store(&v->last_asked, index);
        within = WAIT_SLACK_MS;
    }
    return due < now + within ? due : now + within;
}

/* Before a person's segments exist, the master playlist declares the campaign's measured
 * peak (shared segments, and personal ones rendered so far for anyone) times this margin,
 * capped at the encoder's VBV bound: personal segments show other text over the same
 * pictures, and the first person seen may not be the most expensive one. */
#define PEAK_MARGIN 1.25

void srv_master_rates(ck_server *s, const srv_view *v, ck_render_rates *out)
{
    srv_campaign *cp = &s->campaigns[v->campaign];
    int n = v->view.count, found = 0;
    char(*paths)[1024] = calloc((size_t)n + 1, sizeof *paths);
    const char **pp = calloc((size_t)n + 1, sizeof *pp);
    memset(out, 0, sizeof *out);
    if (paths && pp) {
        for (int i = 0; i < n; i++) {
            srv_job j;
            srv_segment_job(s, v->campaign, &v->view.segs[i], i, NULL, &j);
            memcpy(paths[i], j.path, sizeof paths[i]);
            pp[i] = paths[i];
        }
        found = ck_render_measure(&v->view, pp, out);
    }
    free(paths);
    free(pp);
    if (found == n && n > 0)
        return; /* every segment exists: the exact rates */
    int64_t seen = atomic_load(&cp->peak_bps);
    if (out->peak > seen)
        seen = out->peak;
    int64_t bound = ck_render_peak_bound(s->renderers[0][v->campaign]);
    int64_t est = (int64_t)ceil((double)seen * PEAK_MARGIN);
    out->peak = seen > 0 && est < bound ? est : bound;
}

bool srv_warming(const ck_server *s, int *done, int *total)
{
    int d = 0, t = 0;
    for (int c = 0; c < s->campaign_count; c++) {
        d += atomic_load(&s->campaigns[c].warm_done);
        t += atomic_load(&s->campaigns[c].warm_total);
    }
    if (done)
        *done = d;
    if (total)
        *total = t;
    return d < t;
}

void srv_warm_done(ck_server *s, int campaign, bool ok)
{
    srv_campaign *cp = &s->campaigns[campaign];
    int total = atomic_load(&cp->warm_total);
    int failed = ok ? atomic_load(&cp->warm_failed) : atomic_fetch_add(&cp->warm_failed, 1) + 1;
    int done = atomic_fetch_add(&cp->warm_done, 1) + 1;
    /* Every tenth and the last: progress without flooding the log. */
    if (total > 0 && (done == total || done * 10 / total != (done - 1) * 10 / total)) {
        if (failed)
            ck_log(CK_LOG_WARN, "campaign %s: warming shared segments: %d of %d (%d failed)",
                   cp->id, done, total, failed);
        else
            ck_log(CK_LOG_INFO, "campaign %s: warming shared segments: %d of %d", cp->id, done,
                   total);
    }
}

/* Queues the shared segments missing from the cache behind everything a viewer needs, and
 * takes the measured rate of those already there. Runs once the server listens. */
static void warm(ck_server *s)
{
    for (int c = 0; c < s->campaign_count; c++) {
        srv_campaign *cp = &s->campaigns[c];
        const ck_render_view *sv = &cp->shared;
        srv_job *jobs = calloc((size_t)sv->count + 1, sizeof *jobs);
        int n = 0;
        for (int i = 0; jobs && i < sv->count; i++) {
            if (!sv->segs[i].shared)
                continue;
            srv_job *j = &jobs[n];
            struct stat sb;
            if (missing_segment_job(s, c, &sv->segs[i], i, NULL, j)) {
                j->deadline = SRV_WARM_DEADLINE + i; /* after everything a viewer needs */
                j->warm = true;
                n++;
            } else if (stat(j->path, &sb) == 0) {
                srv_seen_rate(cp, sb.st_size, sv->segs[i].duration);
            }
        }
        if (s->p.no_warm || !s->queue)
            n = 0;
        atomic_store(&cp->warm_total, n);
        if (n > 0)
            ck_log(CK_LOG_INFO, "campaign %s: warming shared segments: 0 of %d, in the background",
                   cp->id, n);
        for (int k = 0; k < n; k++)
            if (!srv_queue_push(s->queue, &jobs[k], NULL, NULL))
                srv_warm_done(s, c, false);
        free(jobs);
    }
}

/* ---- admission control, the store circuit ---- */
/* Retry-After for a refused viewer: the node is this far behind beyond its tolerance, so it
 * needs about that long to catch up; within [RETRY_MIN_S, RETRY_MAX_S]. A draining node
 * will not take them back: nginx tries another node at once, a browser in a while. */
#define RETRY_MIN_S      2
#define RETRY_MAX_S      60
#define RETRY_DRAINING_S 5
/* After a failed store call, requests answer 503 at once for this long instead of queueing
 * behind the store's lock for a reconnection that is likely to fail too. */
#define STORE_RETRY_MS 1000.0

double srv_lateness(ck_server *s)
{
    double late = 0;
    srv_queue_lateness(s->queue, srv_now_ms(), s->p.admit_render_ms, &late);
    atomic_store(&s->metrics.late_us, (int_fast64_t)(late * 1e3));
    return late;
}

int srv_admit(ck_server *s, bool start)
{
    if (atomic_load(&s->metrics.draining)) {
        atomic_fetch_add(&s->metrics.admission_refused, 1);
        return RETRY_DRAINING_S;
    }
    if (!start || !s->queue || s->p.admit_late_ms < 0)
        return 0;
    double over = srv_lateness(s) - s->p.admit_late_ms;
    if (over <= 0)
        return 0;
    atomic_fetch_add(&s->metrics.admission_refused, 1);
    double wait = ceil(over / 1e3);
    return wait < RETRY_MIN_S ? RETRY_MIN_S : wait > RETRY_MAX_S ? RETRY_MAX_S : (int)wait;
}

bool srv_store_up(ck_server *s)
{
    if (srv_now_ms() >= (double)atomic_load(&s->store_retry))
        return true;
    atomic_fetch_add(&s->metrics.store_unavailable, 1);
    return false;
}

void srv_store_failed(ck_server *s)
{
    atomic_store(&s->store_retry, (int_fast64_t)(srv_now_ms() + STORE_RETRY_MS));
    atomic_fetch_add(&s->metrics.store_unavailable, 1);
}

/* ---- database write faults ---- */
/* What the operator must do: from the database's message, else (SQLite's "disk I/O error"
 * hides errno) from its files' state, as the kernel reports it now. */
static srv_storage_kind db_fault_kind(const ck_server *s, const char *why)
{
    if (strstr(why, strerror(EROFS)) || strstr(why, strerror(EACCES)) ||
        strstr(why, strerror(EPERM)) || strstr(why, "readonly database"))
        return SRV_ST_READONLY;
    if (strstr(why, strerror(ENOSPC)) || strstr(why, strerror(EDQUOT)) ||
        strstr(why, "database or disk is full"))
        return SRV_ST_NOSPACE;
    if (s->p.db_url)
        return SRV_ST_IO;
    struct statvfs v;
    if (statvfs(s->data_dir, &v) == 0 && (v.f_flag & ST_RDONLY))
        return SRV_ST_READONLY;
    static const char *const files[] = {"analytics.db", "ciak.db"};
    char path[700];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s->data_dir, files[i]);
        if (access(path, W_OK) != 0 && (errno == EROFS || errno == EACCES || errno == EPERM))
            return SRV_ST_READONLY;
    }
    if (statvfs(s->data_dir, &v) == 0 && (int64_t)v.f_bavail * (int64_t)v.f_frsize < (64 << 10))
        return SRV_ST_NOSPACE;
    return SRV_ST_IO;
}

void srv_db_fault(ck_server *s, const char *what, const char *why)
{
    srv_storage_kind kind = db_fault_kind(s, why);
    atomic_fetch_add(&s->metrics.storage_errors[kind], 1);
    double now = ck_now_s();
    pthread_mutex_lock(&s->db_fault_lock);
    bool first = s->db_fault != kind, again = !first && now - s->db_fault_logged >= SRV_FAULT_LOG_S;
    if (first) {
        s->db_fault = kind;
        s->db_fault_count = 0;
    }
    int64_t count = ++s->db_fault_count;
    if (first || again)
        s->db_fault_logged = now;
    pthread_mutex_unlock(&s->db_fault_lock);
    const char *where = s->p.db_url ? "PostgreSQL" : s->data_dir;
    if (first)
        ck_log(CK_LOG_ERROR,
               "storage fault (%s) writing the database (%s) in %s: %s; %s are answered 503 + "
               "Retry-After until then (%s)",
               srv_storage_kind_name(kind), what, where,
               kind == SRV_ST_READONLY  ? "its files are read-only: make them writable again"
               : kind == SRV_ST_NOSPACE ? "its disk is full: free space on it"
                                        : "an input/output error: check it and its disk",
               what, why);
    else if (again)
        ck_log(CK_LOG_ERROR, "storage fault (%s) in the database goes on: %lld failed writes (%s)",
               srv_storage_kind_name(kind), (long long)count, why);
}

void srv_db_wrote(ck_server *s, const char *what)
{
    pthread_mutex_lock(&s->db_fault_lock);
    srv_storage_kind was = s->db_fault;
    int64_t count = s->db_fault_count;
    s->db_fault = SRV_ST_NONE;
    s->db_fault_count = 0;
    pthread_mutex_unlock(&s->db_fault_lock);
    if (was != SRV_ST_NONE)
        ck_log(CK_LOG_INFO,
               "storage fault (%s) in the database of %s is over: %s are stored again (%lld "
               "failed writes)",
               srv_storage_kind_name(was), s->p.db_url ? "PostgreSQL" : s->data_dir, what,
               (long long)count);
}

/* ---- life cycle ---- */
static void purge(ck_server *s)
{
    int64_t removed = 0;
    ck_error err = {0};
    if (ck_store_purge(s->store, ck_today(), &removed, &err) != CK_OK) {
        char buf[1400];
        ck_log(CK_LOG_ERROR, "purge: %s", ck_error_format(&err, buf, sizeof buf));
        return;
    }
    atomic_fetch_add(&s->metrics.purged, (uint_fast64_t)removed);
    int old = srv_cache_expire(s->cache, (int64_t)s->p.personal_ttl_days * 86400);
    if (old)
        ck_log(CK_LOG_INFO, "purge: %d personal segment(s) unused for %d days removed", old,
               s->p.personal_ttl_days);
    if (removed)
        ck_log(CK_LOG_INFO, "purge: %lld person(s) past their availability window removed",
               (long long)removed);
}

ck_server *ck_server_create(const ck_server_params *params, ck_error *err)
{
    ck_server *s = calloc(1, sizeof *s);
    if (!s) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    resolve_params(s, params);
    /* While this process is small: new viewers' lines are forked from there (ck_speech.h). */
    ck_error herr = {0};
    if (ck_speech_helper_start(&herr) != CK_OK) {
        char buf[1400];
        ck_log(CK_LOG_WARN, "speech: %s; lines are forked by the server itself",
               ck_error_format(&herr, buf, sizeof buf));
    }
    pthread_mutex_init(&s->view_lock, NULL);
    pthread_mutex_init(&s->db_fault_lock, NULL);
    s->db_fault = SRV_ST_NONE;
    char path[1100];
    if (ck_mkdirs(s->data_dir, 0700, err) != CK_OK) /* people's data: owner only */
        goto fail;
    /* A cluster's nodes share one key file made by the operator (`ciak keys`): a node never
     * invents its own next to a shared database. */
    if (s->p.keys_path)
        snprintf(path, sizeof path, "%s", s->p.keys_path);
    else
        snprintf(path, sizeof path, "%s/keys", s->data_dir);
    if (ck_keyring_load(path, !s->p.db_url && !s->p.keys_path, &s->keys, err) != CK_OK)
        goto fail;
    s->store =
        ck_store_open_at(s->data_dir, s->p.db_url, &(ck_store_params){.keys = &s->keys}, err);
    if (!s->store)
        goto fail;
    snprintf(path, sizeof path, "%s/cache", s->data_dir);
    s->guard = srv_guard_create(&(srv_guard_params){.addr_limit = s->p.fail_limit,
                                                    .prefix_limit = s->p.fail_prefix_limit,
                                                    .global_limit = s->p.fail_global_limit,
                                                    .window_s = s->p.fail_window_s});
    /* Passwords can be guessed, unlike links: 20 wrong ones per address per 5 minutes. */
    s->login_guard = srv_guard_create(&(srv_guard_params){.addr_limit = 20, .window_s = 300});
    s->view_table = calloc(VIEW_BUCKETS, sizeof *s->view_table);
    if (!s->guard || !s->login_guard || !s->view_table) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    s->cache = srv_cache_create(path, s->p.cache_bytes, &s->metrics, err);
    if (!s->cache || load_campaigns(s, err) != CK_OK)
        goto fail;
    if (s->workers > 0) {
        s->queue = srv_queue_create(s, s->workers, srv_run_job, &s->metrics);
        if (!s->queue) {
            ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "cannot start the render workers");
            goto fail;
        }
        if (s->p.render_nice > 0)
            ck_log(CK_LOG_INFO, "render workers: %d, at nice %d", s->workers, s->p.render_nice);
        if (!(s->makers = srv_makers_create(s, SRV_MAKERS))) {
            ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "cannot start the threads making views");
            goto fail;
        }
    }
    purge(s);
    if (srv_viewer_open(s, err) != CK_OK || srv_http_start(s, err) != CK_OK)
        goto fail;
    /* Listening first: a viewer is served (rendering on demand) while warming goes on. */
    warm(s);
    return s;
fail:
    ck_server_destroy(&s);
    return NULL;
}

int ck_server_port(const ck_server *s)
{
    return s->port;
}

void ck_server_stop(ck_server *s)
{
    atomic_fetch_add(&s->stops, 1);
}

bool srv_view_exists(ck_server *s, int campaign, const uint8_t *handle)
{
    bool found = false;
    pthread_mutex_lock(&s->view_lock);
    for (srv_view *v = s->view_table[view_bucket(campaign, handle)]; v && !found; v = v->next)
        found = v->campaign == campaign && memcmp(v->handle, handle, CK_HANDLE_BYTES) == 0;
    pthread_mutex_unlock(&s->view_lock);
    return found;
}

void ck_server_run(ck_server *s)
{
    int32_t purged_day = ck_today();
    for (int tick = 0; atomic_load(&s->stops) == 0; tick++) {
        usleep(100 * 1000);
        if (tick % 10 == 0) /* views idle long enough go even when no new viewer comes */
            srv_view_sweep(s);
        if (ck_today() != purged_day) { /* the daily purge, just after midnight UTC */
            purged_day = ck_today();
            purge(s);
        }
    }
    ck_server_drain(s);
}

bool ck_server_drain(ck_server *s)
{
    if (s->p.drain_s < 0)
        return false; /* asked to stop at once */
    atomic_store(&s->metrics.draining, true);
    /* Only what a request waits on is rendered from now on: a viewer still watching asks for
     * its next segments (and gets them), the rest of the look-ahead and the warm-up go. */
    int dropped = srv_queue_drop_idle(s->queue);
    ck_log(CK_LOG_INFO,
           "draining: no new viewers; %d render(s) held, %d answer(s) in flight, %d queued "
           "render(s) dropped (at most %d s)",
           srv_queue_held(s->queue), atomic_load(&s->inflight), dropped, s->p.drain_s);
    double t0 = srv_now_ms(), limit = t0 + s->p.drain_s * 1e3;
    /* Viewers quiet this long have what they need (or left): their queued look-ahead is not
     * waited for, another node renders on demand whatever they still ask for. */
    double idle_ms = s->p.drain_idle_s * 1e3;
    int held = 0, inflight = 0;
    bool watching = true;
    while (srv_now_ms() < limit && atomic_load(&s->stops) < 2) {
        srv_queue_drop_idle(s->queue); /* look-ahead of a playlist asked for meanwhile */
        held = srv_queue_held(s->queue);
        inflight = atomic_load(&s->inflight);
        watching = srv_now_ms() - (double)atomic_load(&s->watched) < idle_ms;
        if (held == 0 && inflight == 0 && !watching) {
            ck_log(CK_LOG_INFO, "drained in %.1f s", (srv_now_ms() - t0) / 1e3);
            return true;
        }
        usleep(20 * 1000);
    }
    ck_log(CK_LOG_WARN, "drain cut short: %d render(s) held, %d answer(s) in flight%s", held,
           inflight, watching ? ", viewers still watching" : "");
    return false;
}

void ck_server_destroy(ck_server **ps)
{
    ck_server *s = *ps;
    if (!s)
        return;
    if (s->queue)
        srv_queue_fail_all(s->queue); /* resumes every waiting request */
    srv_makers_destroy(&s->makers);   /* the same for those waiting for their view */
    srv_http_stop(s);
    srv_queue_destroy(&s->queue);
    srv_viewer_close(s);
    if (s->view_table) {
        for (size_t b = 0; b < VIEW_BUCKETS; b++)
            while (s->view_table[b])
                view_detach(s, s->view_table[b]);
        free(s->view_table);
    }
    for (int c = 0; c < s->campaign_count; c++) {
        ck_render_view_free(&s->campaigns[c].shared);
        ck_render_digester_destroy(&s->campaigns[c].digester);
        pthread_mutex_destroy(&s->campaigns[c].digest_lock);
        ck_scene_destroy(&s->campaigns[c].own_scene);
    }
    for (int w = 0; s->renderers && w < s->workers; w++) {
        for (int c = 0; s->renderers[w] && c < s->campaign_count; c++)
            ck_render_destroy(&s->renderers[w][c]);
        free(s->renderers[w]);
        ck_gpu_destroy(&s->gpus[w]);
    }
    free(s->renderers);
    free(s->gpus);
    free(s->campaigns);
    ck_strbuf_free(&s->not_serving);
    srv_cache_destroy(&s->cache);
    srv_guard_destroy(&s->guard);
    srv_guard_destroy(&s->login_guard);
    ck_store_close(&s->store);
    ck_keyring_wipe(&s->keys);
    pthread_mutex_destroy(&s->view_lock);
    pthread_mutex_destroy(&s->db_fault_lock);
    free(s);
    *ps = NULL;
}

/* ---- ciak warm ---- */
ck_status ck_server_warm(const ck_server_params *params, const char *campaign, int *rendered,
                         ck_error *err)
{
    ck_server_params p = params ? *params : (ck_server_params){0};
    char dir[1100], cache[1100], shared_root[1200];
    snprintf(dir, sizeof dir, "%s/%s", p.scenes_dir ? p.scenes_dir : "scenes", campaign);
    snprintf(cache, sizeof cache, "%s/cache", p.data_dir ? p.data_dir : "var");
    snprintf(shared_root, sizeof shared_root, "%s/shared", cache);
    if (rendered)
        *rendered = 0;
    ck_status st = ck_mkdirs(shared_root, CK_CACHE_DIR_MODE, err);
    if (st != CK_OK)
        return st;
    ck_gpu *gpu = ck_gpu_create(NULL, err);
    if (!gpu)
        return err->status ? err->status : CK_ERR_GPU;
    ck_render *r = ck_render_create(
        gpu, dir,
        &(ck_render_params){
            .cache_dir = shared_root, .encoder = p.encoder, .width = p.width, .height = p.height},
        err);
    ck_render_view v = {0};
    ck_render_job *jobs = NULL;
    int n = 0;
    st = r ? ck_render_view_make(r, NULL, &v, err) : (err->status ? err->status : CK_ERR_GPU);
    if (st == CK_OK && !(jobs = calloc((size_t)v.count + 1, sizeof *jobs)))
        st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (st == CK_OK)
        st = ck_mkdirs(ck_render_shared_dir(r), CK_CACHE_DIR_MODE, err);
    /* The shared segments not in the cache yet, rendered as one pipelined batch. */
    for (int i = 0; st == CK_OK && i < v.count; i++) {
        if (!v.segs[i].shared)
            continue;
        char *path = ck_render_shared_path(r, v.segs[i].digest);
        if (!path)
            st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        else if (access(path, F_OK) == 0)
            free(path);
        else
            jobs[n++] = (ck_render_job){.index = i, .path = path};
    }
    if (st == CK_OK && n > 0 &&
        (st = ck_render_segments(r, NULL, jobs, n, NULL, NULL, err)) == CK_OK && rendered)
        *rendered = n;
    for (int j = 0; j < n; j++)
        free((char *)jobs[j].path);
    free(jobs);
    ck_render_view_free(&v);
    ck_render_destroy(&r);
    ck_gpu_destroy(&gpu);
    return st;
}
