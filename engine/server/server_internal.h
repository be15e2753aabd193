/* server_internal.h: what the files of engine/server share. Not a public header.
 *
 *   util.c     clocks, small checks
 *   metrics.c  counters and the Prometheus text
 *   guard.c    failures per client address (429)
 *   cache.c    the on-disk segment cache: clean-up after a crash, LRU of personal segments
 *   queue.c    the render queue and its workers (look-ahead, urgent jobs, single flight)
 *   http.c     libmicrohttpd, routes, responses
 *   server.c   campaigns, views, start-up, the daily purge, `ciak warm`
 */
#ifndef CK_SERVER_INTERNAL_H
#define CK_SERVER_INTERNAL_H

#include "ck_render.h"
#include "ck_server.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- util.c ---- */
double srv_now_ms(void); /* monotonic */
/* True when s is n lowercase hex digits. */
bool srv_is_hex(const char *s, size_t n);

/* ---- metrics.c ---- */
#define SRV_ROUTES(X)                                                                              \
    X(R_PLAYER, "player")                                                                          \
    X(R_MASTER, "master")                                                                          \
    X(R_MEDIA, "media")                                                                            \
    X(R_SUBS, "subtitles")                                                                         \
    X(R_VTT, "captions")                                                                           \
    X(R_PERSONAL, "personal_segment")                                                              \
    X(R_SHARED, "shared_segment")                                                                  \
    X(R_HEALTHZ, "healthz")                                                                        \
    X(R_METRICS, "metrics")                                                                        \
    X(R_GUIDE, "guide_pdf")                                                                        \
    X(R_EVENTS, "events")                                                                          \
    X(R_STATIC, "static")                                                                          \
    X(R_ADMIN, "admin")                                                                            \
    X(R_OTHER, "other")

typedef enum srv_route {
#define X(e, s) e,
    SRV_ROUTES(X)
#undef X
        R__N
} srv_route;

/* Storage faults, by what the operator must do about them (docs/server.md, "Faults"). */
#define SRV_STORAGE_KINDS(X)                                                                       \
    X(SRV_ST_NOSPACE, "nospace")   /* the disk is full: free space (the cache evicts first) */     \
    X(SRV_ST_READONLY, "readonly") /* the file system or a file turned read-only */                \
    X(SRV_ST_MISSING, "missing")   /* the cache folder was removed (recreated at once) */          \
    X(SRV_ST_IO, "io")             /* an I/O error: the disk itself */

typedef enum srv_storage_kind {
    SRV_ST_NONE = -1, /* not a storage fault */
#define X(e, s) e,
    SRV_STORAGE_KINDS(X)
#undef X
        SRV_ST__N
} srv_storage_kind;

#define SRV_HIST_BUCKETS 10
typedef struct srv_metrics {
    atomic_uint_fast64_t requests[R__N][16]; /* by status slot (metrics.c) */
    atomic_uint_fast64_t render_hist[SRV_HIST_BUCKETS + 1];
    atomic_uint_fast64_t render_us_sum, render_count;
    atomic_uint_fast64_t cache_hits, cache_misses;
    atomic_uint_fast64_t rendered_shared, rendered_personal, render_failures;
    atomic_uint_fast64_t reused; /* segments served from the cache */
    atomic_uint_fast64_t views_made, purged;
    atomic_uint_fast64_t admission_refused; /* new viewers answered 503: backlog or draining */
    atomic_int queue_depth, rendering;
    atomic_int_fast64_t cache_bytes;
    atomic_uint_fast64_t storage_errors[SRV_ST__N]; /* by srv_storage_kind */
    atomic_uint_fast64_t evicted_for_space;         /* personal segments removed for room */
    atomic_uint_fast64_t refused_conns;             /* over the per-address cap (http.c) */
    atomic_uint_fast64_t store_unavailable;         /* requests answered 503: the store was away */
    atomic_int_fast64_t late_us;                    /* the backlog's lateness at the last look */
    /* People's views in the table and the bytes they hold (server.c, under its view lock). */
    atomic_int_fast64_t views_held, views_bytes, views_speech_bytes;
    atomic_uint_fast64_t views_dropped; /* idle or over the byte cap */
    atomic_bool draining;               /* no new viewers (ck_server_drain) */
    char encoder[32];
} srv_metrics;

void srv_metrics_request(srv_metrics *m, srv_route r, unsigned status);
void srv_metrics_render(srv_metrics *m, double ms, bool shared, bool ok);
/* The Prometheus text exposition (malloc'd). */
char *srv_metrics_text(const srv_metrics *m, const char *node);

/* ---- guard.c ---- */
typedef struct srv_guard srv_guard;
/* Failures allowed per window before 429; 0: that budget is not kept. */
typedef struct srv_guard_params {
    int addr_limit;   /* per address (IPv6: per /64) */
    int prefix_limit; /* per IPv4 /24 or IPv6 /56 */
    int global_limit; /* the whole server */
    int window_s;     /* fixed windows; 0: 600 */
} srv_guard_params;
srv_guard *srv_guard_create(const srv_guard_params *p);
void srv_guard_destroy(srv_guard **g);
/* Seconds to wait before the address's next failure is looked at (0: go on); the longest
 * of its address's, its prefix's and the global budget's. `addr` is a struct sockaddr
 * (NULL or another family: the global budget only). */
int srv_guard_blocked(srv_guard *g, const void *addr);
/* One failure against the address, its prefix and the global budget. */
void srv_guard_fail(srv_guard *g, const void *addr);

/* ---- cache.c ---- */
typedef struct srv_cache srv_cache;
/* `root` holds shared/<campaign>/<version>/ and personal/<xx>/. Removes unfinished files
 * (anything not named <digest>.ts) and indexes the personal segments by modification time. */
srv_cache *srv_cache_create(const char *root, int64_t cap_bytes, srv_metrics *m, ck_error *err);
void srv_cache_destroy(srv_cache **c);
const char *srv_cache_shared_root(const srv_cache *c);
/* Path of a personal segment (buffer of at least 1024 bytes). */
void srv_cache_personal_path(const srv_cache *c, const char *digest, char *out, size_t size);
/* A served or newly written personal segment: moves it to the LRU's head, and evicts the
 * least recently used ones over the cap (`size` < 0: only a touch). */
void srv_cache_touch(srv_cache *c, const char *digest, int64_t size);
/* Deletes personal segments not written or served for `max_age_s`: they show people's data,
 * so they should not outlive the need for them by much. Returns the count removed. */
int srv_cache_expire(srv_cache *c, int64_t max_age_s);

/* Storage faults. A render writes a temporary file and renames it (never half a segment);
 * these make the folders it needs and keep the viewer's answer a 503 while the disk is full,
 * read-only or gone, with one log line per fault (not one per request) and a metric.
 *
 * Before a segment is written to `path`: recreates the cache's folders if they were removed
 * (one "missing" fault), makes the segment's folder, and when the file system has less free
 * space than a few segments, evicts the least recently used personal segments. False when
 * the folder cannot be made (reported). */
bool srv_cache_prepare(srv_cache *c, const char *path, ck_error *err);
/* Whether a failed write of `path` was a storage fault, and which: the error's system message,
 * else the state of the cache's file system. */
srv_storage_kind srv_cache_classify(srv_cache *c, const char *path, const ck_error *err);
/* Evicts least recently used personal segments until at least `need` bytes (0: a few
 * segments' worth) are free on the cache's file system; true when it removed any. */
bool srv_cache_make_room(srv_cache *c, int64_t need);
/* Counts a fault and logs it, once per fault until a write succeeds again (then once more,
 * as repeated: at most every SRV_FAULT_LOG_S seconds). `what` names the failed write. */
void srv_cache_report(srv_cache *c, srv_storage_kind kind, const char *what, const ck_error *err);
/* A segment was written: ends a fault (one "recovered" line). */
void srv_cache_wrote(srv_cache *c, int64_t bytes);
/* True while a storage fault has not been followed by a good write. */
bool srv_cache_faulty(srv_cache *c);
#define SRV_FAULT_LOG_S 300
/* "nospace", "readonly", ... (the metric's label). */
const char *srv_storage_kind_name(srv_storage_kind kind);

/* ---- views and campaigns (server.c) ---- */
typedef struct srv_campaign {
    char id[CK_CAMPAIGN_MAX + 1];
    int version;
    const ck_scene *scene; /* the renderer's, or own_scene */
    ck_scene *own_scene;   /* no_render only */
    ck_render_view shared; /* digests of the shared parts (empty with no_render) */
    bool has_captions;
    char shared_url[CK_CAMPAIGN_MAX + 48]; /* "/c/<id>/<version>/{digest}.ts" */
    /* Views are made on request threads, never behind a render: one digester per campaign,
     * used under digest_lock (~10 ms a view; the person's speech lines, ~0.1 s, are said
     * before it is taken, several viewers' at once). */
    ck_render_digester *digester;
    pthread_mutex_t digest_lock;
    /* The largest bit rate seen of one of its segments lasting at least half the target
     * duration (target_s), shared or personal: the master playlist's estimate before a
     * person's segments exist (srv_master_rates). */
    atomic_int_fast64_t peak_bps;
    double target_s;
    /* Warm-up: shared segments missing at start-up, and how many of them are done. */
    atomic_int warm_total, warm_done, warm_failed;
} srv_campaign;

/* One person's stream, made by a render worker and shared by that person's requests. */
typedef struct srv_view {
    int campaign;
    uint8_t handle[CK_HANDLE_BYTES];
    int64_t rev;
    ck_records *recs; /* the one decrypted record (owned) */
    /* The person's speech clips for the view and its personal segments (zero: none, the
     * shared audio; failed: synthesis failed, the shared audio, logged). Whoever fills it
     * (speech synthesis when the view is made) owns the clips and frees them with the view. */
    ck_render_speech speech;
    ck_render_view view;
    int refs; /* under the server's view lock; 1: only the table's (nobody uses it) */
    int64_t bytes, speech_bytes; /* counted in the server's totals while it lives */
    bool ready, failed;
    /* Held while the view is made (srv_make_view), so a second request for the same person
     * waits and finds it ready; views of different people are made at the same time. */
    pthread_mutex_t make_lock;
    double last_used;
    _Atomic double play_ms; /* when the look-ahead first ran (playlist request), moved by a
                               seek (srv_wait_deadline); 0: not yet */
    atomic_int last_asked;  /* the furthest segment the player asked for (-1: none) */
    struct srv_view *next;
} srv_view;

/* ---- queue.c ---- */
/* An HTTP request waiting for a job (lives in the request's state). */
typedef struct srv_waiter {
    struct MHD_Connection *conn;
    bool done, ok;
    struct srv_waiter *next;
} srv_waiter;

/* One segment to render (views are made by maker.c's threads, not queued here). */
typedef struct srv_job {
    int campaign, index;
    char key[96];    /* single-flight key: "s:" or "p:" and the segment's digest */
    char path[1024]; /* where it goes */
    bool shared;
    bool warm;       /* start-up warming: counted in the campaign's progress when done */
    srv_view *view;  /* a reference: the record to render (personal segments) */
    double deadline; /* ms on srv_now_ms's clock; smaller runs first */
    bool running;
    int worker;     /* running: on which worker */
    double started; /* when it started running (srv_now_ms) */
    int backlog;    /* when it started: other jobs due within SRV_BACKLOG_MS (queue.c) */
    srv_waiter *waiters;
} srv_job;

/* Jobs due this soon count as a job's backlog when it starts (logged with its render). */
#define SRV_BACKLOG_MS 4000.0

typedef struct srv_queue srv_queue;
typedef struct ck_server ck_server;
/* Executes a job on worker `w` (0-based), and maybe more it takes with srv_queue_next; ends
 * each with srv_queue_done (or srv_queue_return) before it returns. */
typedef void (*srv_run_fn)(ck_server *s, int worker, srv_job *job);

srv_queue *srv_queue_create(ck_server *s, int workers, srv_run_fn run, srv_metrics *m);
/* Stops the workers (running jobs finish, queued ones fail), joins them. */
void srv_queue_destroy(srv_queue **q);
/* Queues a job unless one with the same key is queued or running, in which case the earlier
 * deadline wins. When `waiter` is given it is attached and `suspend(waiter)` is called under
 * the queue's lock, so the job cannot finish in between. `*job` is copied. Takes a new
 * reference to job->view (via s). Returns false when the queue is full or stopping. */
bool srv_queue_push(srv_queue *q, const srv_job *job, srv_waiter *waiter,
                    void (*suspend)(srv_waiter *));
/* For a worker's run function: the earliest job not running, taken for `worker` (running
 * from now), unless there is none or `accept(ctx, job)` (under the queue's lock: quick) turns
 * it down: NULL. */
srv_job *srv_queue_next(srv_queue *q, int worker, bool (*accept)(void *ctx, const srv_job *j),
                        void *ctx);
/* A running job ended: its waiters are resumed (`ok` tells them whether its file is there), a
 * warming job counts, and the job is gone. */
void srv_queue_done(srv_queue *q, srv_job *j, bool ok);
/* A running job goes back to the queue, not run (shutting down: it fails instead). */
void srv_queue_return(srv_queue *q, srv_job *j);
/* Fails every queued job and resumes its waiters (shutdown). */
void srv_queue_fail_all(srv_queue *q);
/* Warm-up jobs' deadlines: this and later (after everything a viewer needs). */
#define SRV_WARM_DEADLINE 1e15
/* A render of `ms` finished: feeds the moving average admission control plays the queue at. */
void srv_queue_rendered(srv_queue *q, bool shared, double ms);
/* How late, in ms, the latest of the queued and running jobs (warm-up aside) would be if the
 * workers took them earliest deadline first from `now`, each render taking `fixed_ms` (0: the
 * measured average; before any render has finished, the longest one running so far). False,
 * with *late_ms 0, when there is nothing to go by (nothing measured, nothing running). */
bool srv_queue_lateness(srv_queue *q, double now, double fixed_ms, double *late_ms);
/* Jobs someone holds: running, or with a request waiting on them. */
int srv_queue_held(srv_queue *q);
/* Drops the queued jobs nobody waits for, warm-up and look-ahead (draining: the workers then
 * render only what a request waits on); returns how many. */
int srv_queue_drop_idle(srv_queue *q);

/* ---- maker.c: views made off the HTTP threads ---- */
typedef struct srv_makers srv_makers;
srv_makers *srv_makers_create(ck_server *s, int threads);
/* Makes `v` (srv_make_view) on a maker thread for the request waiting in `w`: `suspend(w)` is
 * called under the makers' lock, and the request resumed once the view is made (w->ok: it is
 * ready) or has failed. Takes its own reference to `v`. False when stopping or out of memory
 * (nothing suspended). */
bool srv_makers_push(srv_makers *m, srv_view *v, srv_waiter *w, void (*suspend)(srv_waiter *));
/* Fails the requests still waiting for a maker, lets the views being made finish (their
 * requests resumed), joins the threads. Before the HTTP daemon stops. */
void srv_makers_destroy(srv_makers **m);
/* Maker threads: enough to make a burst's views at once; each mostly waits for the children
 * saying its lines. */
#define SRV_MAKERS 8

/* ---- server.c, for queue.c and http.c ---- */
struct ck_server {
    ck_server_params p;
    char listen[128], data_dir[512], scenes_dir[512];
    char node[64]; /* X-Ciak-Node */
    ck_keyring keys;
    ck_store *store;
    srv_metrics metrics;
    srv_guard *guard;       /* bad links (http.c asks only once a link proved bad) */
    srv_guard *login_guard; /* wrong admin passwords, per address */
    srv_cache *cache;
    srv_queue *queue;
    srv_makers *makers; /* people's views made off the HTTP threads (maker.c) */
    srv_campaign *campaigns;
    int campaign_count;
    /* Per worker: a GPU context and a renderer per campaign (renderers[w][c]). */
    int workers;
    ck_gpu **gpus;
    ck_render ***renderers;
    /* Views by (campaign, handle). */
    pthread_mutex_t view_lock;
    srv_view **view_table;
    size_t view_buckets, view_count;
    int64_t view_bytes; /* what every live view holds (view_count_bytes), under view_lock */
    double view_swept;  /* srv_now_ms of the last srv_view_sweep */
    struct MHD_Daemon *http;
    int port;
    atomic_int stops;                /* ck_server_stop calls: 1 drains, 2 stops at once */
    atomic_int inflight;             /* requests between their first byte and their answer */
    atomic_int_fast64_t watched;     /* ms clock: a viewer served here last asked for a
                                        playlist or a segment (a drain waits for quiet) */
    atomic_int_fast64_t store_retry; /* ms clock: the store failed, do not try before this */
    struct srv_viewer *viewer;       /* viewer.c */
    ck_strbuf not_serving;           /* "not serving <campaign>: <why>\n" per campaign that
                                        failed to load (its assets, its scene): /healthz says it */
    struct srv_net *net;             /* http.c: trusted proxies, connections per address */
    /* A failed write to the database (its SQLite files turned read-only, its disk full):
     * logged once like the cache's faults (srv_db_fault). Under db_fault_lock. */
    pthread_mutex_t db_fault_lock;
    srv_storage_kind db_fault;
    int64_t db_fault_count;
    double db_fault_logged;
};

/* A write to the database failed (`what`: "events"; `why`: the database's message): counted
 * in ciak_storage_errors_total by kind, logged once per fault (then at most every
 * SRV_FAULT_LOG_S as going on). The caller answers 503 + Retry-After. */
void srv_db_fault(ck_server *s, const char *what, const char *why);
/* A write to the database worked: ends a fault (one "is over" line). */
void srv_db_wrote(ck_server *s, const char *what);

int srv_campaign_find(const ck_server *s, const char *id);
/* The person's current view (reference taken), or a new not-ready one with `*fresh` set.
 * NULL when out of memory. */
srv_view *srv_view_get(ck_server *s, int campaign, const uint8_t *handle, int64_t rev, bool *fresh);
/* Takes `v` out of the table (if there still): the next request for the person makes a new
 * one. For a new viewer turned away after its view was made. */
void srv_view_forget(ck_server *s, srv_view *v);
/* The player asked for personal segment `index` of `v` (served, or waited for). */
void srv_view_asked(srv_view *v, int index);
/* When a request waiting for segment `index` (starting at `seg_start_s` in the video) of `v`
 * is due (srv_now_ms's clock): by the person's playback clock when the player asks in order,
 * at once for a seek (the clock then moves to it) or without a clock. Notes the request. */
double srv_wait_deadline(srv_view *v, int index, double seg_start_s, double now);
/* Whether this node already holds the person's view (a viewer it is serving). */
bool srv_view_exists(ck_server *s, int campaign, const uint8_t *handle);
void srv_view_unref(ck_server *s, srv_view *v);
void srv_view_ref(ck_server *s, srv_view *v);
/* Drops the views nobody uses (only the table refers to them) that have been idle for
 * p.view_idle_s, then, while the views hold more than p.views_bytes (or number more than
 * VIEW_MAX), the least recently used of the others. Returns how many went. ck_server_run
 * calls it every second and srv_view_get when it adds a view. */
int srv_view_sweep(ck_server *s);
/* A worker's run function (worker.c): the job, and after it, without draining the renderer,
 * the next ones due of the same campaign. */
void srv_run_job(ck_server *s, int worker, srv_job *job);
/* A segment of campaign `cp` exists with `bytes` over `seconds`: raises the campaign's peak
 * (the master playlist's BANDWIDTH). */
void srv_seen_rate(srv_campaign *cp, int64_t bytes, double seconds);
/* A warming job finished (queue.c, after srv_run_job): progress in the log. */
void srv_warm_done(ck_server *s, int campaign, bool ok);
/* True while start-up warming has shared segments left to render. */
bool srv_warming(const ck_server *s, int *done, int *total);
/* What the person's master playlist declares: the measured rates when every segment of the
 * view is in the cache, else an estimate (docs/server.md, "Stream labels"). */
void srv_master_rates(ck_server *s, const srv_view *v, ck_render_rates *out);
/* Fills `j` for segment `i` of campaign `c` (output path, single-flight key; `v` is kept for
 * personal segments). The file may already exist. */
void srv_segment_job(ck_server *s, int c, const ck_render_seg *seg, int i, srv_view *v, srv_job *j);
/* Makes the person's view (segment digests) if it is not ready yet, on the calling thread.
 * False when the record cannot be read or the view cannot be made (logged, no personal data). */
bool srv_make_view(ck_server *s, srv_view *v);
/* Queues the person's segments missing from the cache, in playback order. */
void srv_lookahead(ck_server *s, srv_view *v);
/* Admission control for a link this node is not serving yet (or a shared segment not
 * rendered yet): 0 to serve it, else the seconds for Retry-After (the refusal is counted).
 * `start`: a new viewer's start (player page, playlists), which a late backlog refuses;
 * anything else is refused only while draining. */
int srv_admit(ck_server *s, bool start);
/* The backlog's lateness in ms (0: on time, or nothing measured yet). */
double srv_lateness(ck_server *s);
/* The store circuit: false while a recent failure says it is away (answer 503 without
 * waiting on it); srv_store_failed after a call failed for another reason than not found. */
bool srv_store_up(ck_server *s);
void srv_store_failed(ck_server *s);

/* ---- http.c ---- */
ck_status srv_http_start(ck_server *s, ck_error *err);
void srv_http_stop(ck_server *s);
/* True when a decoded request path is one the routes may see: ASCII, printable, no "..",
 * no backslash, no "//", no '%' left (http.c decodes only unreserved characters, so an
 * encoded '/', '.', NUL or byte above 0x7f stays encoded and is refused). */
bool srv_url_safe(const char *url);

/* ---- the viewer experience and the dashboard (viewer.c) ---- */
typedef struct srv_viewer srv_viewer;
#define SRV_REPLY_HEADERS 3
/* An answer built by viewer.c and sent by http.c. `body` is malloc'd (http.c frees it); a
 * status with no body (404, 503) gets http.c's page. */
typedef struct srv_reply {
    unsigned status;
    char *body;
    size_t len;
    const char *ctype, *cache, *csp;
    const char *hdr_name[SRV_REPLY_HEADERS];
    char hdr_value[SRV_REPLY_HEADERS][200];
    int hdrs;
    bool login_failed; /* a wrong admin password: a strike for the address (guard) */
} srv_reply;

/* What viewer.c needs of a request that is not a /v/ one. */
typedef struct srv_request {
    const char *url;
    bool post;
    const char *cookie, *origin, *host, *fetch_site; /* headers; NULL when absent */
    const char *campaign;                            /* ?c= */
    const char *body;
    size_t body_len;
} srv_request;

/* Per-campaign guides, the analytics database (<data-dir>/analytics.db, or db_url's
 * PostgreSQL) and the admin credential (<data-dir>/admin, or db_url's; missing: the dashboard
 * is off). */
ck_status srv_viewer_open(ck_server *s, ck_error *err);
void srv_viewer_close(ck_server *s);
/* /v/<token>/{"", guida.pdf, events} after http.c verified the token: false when `what` is
 * none of them. */
bool srv_viewer_token_route(ck_server *s, int c, const uint8_t *handle, const char *token,
                            size_t tlen, const char *what, const char *body, size_t body_len,
                            bool post, srv_reply *out);
/* /static/..., /admin...: false when the URL is not one of them. */
bool srv_viewer_route(ck_server *s, const srv_request *q, srv_reply *out);

/* ---- pages (pages.c) ---- */
/* Static pages in Italian, styled like the player page (which comes from engine/guide, via
 * viewer.c): 410, 404, 429, 503 and 500. */
extern const char srv_page_gone[], srv_page_not_found[], srv_page_too_many[], srv_page_error[],
    srv_page_internal[];
/* 503 for a new viewer while the node is full or draining: it reloads itself. */
extern const char srv_page_busy[];
/* The 410 page naming the link's last day (malloc'd; NULL: out of memory or no such day). */
char *srv_page_gone_until(int32_t last_day);
/* /favicon.ico: a 32x32 icon drawn on first use (static; thread-safe). */
const uint8_t *srv_favicon(size_t *len);

#endif
