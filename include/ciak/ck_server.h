/* ck_server.h: the stream server behind the QR code and the MyINPS / app links.
 *
 * Three parts, each usable alone:
 *   tokens   the opaque, signed reference a link carries (ck_token_*);
 *   QR codes one PNG and one SVG per link (ck_qr_write);
 *   server   HTTP (libmicrohttpd, thread pool), routes, the render queue with look-ahead and
 *            single flight, the segment cache, rate limiting and metrics (ck_server_*).
 *
 * Token: base64url (no padding) of
 *   version (1 byte, 1) | campaign length (1) | campaign | handle (12) | expires (4, big
 *   endian, days since 1970-01-01, last valid day, UTC) | HMAC-SHA256 of all before, first 16
 * The handle is the store's random reference to the person (ck_store.h), not the INPS id: a
 * link in a proxy log reveals no identifier. Verification computes the MAC under every key of
 * the keyring and compares in constant time; a bad MAC, a malformed token and an unknown
 * campaign are all the same answer (404), so nothing is learnt from trying.
 *
 * Personal data: the server never logs, counts or shows names, person ids, tokens or client
 * addresses; a request is named in logs by ck_token_tag (8 hex digits of a hash).
 * Thread safety: tokens and QR are pure functions; a ck_server is driven by one thread
 * (create, run, destroy) while its own threads serve requests and render.
 */
#ifndef CK_SERVER_H
#define CK_SERVER_H

#include "ck_store.h"

/* ---- tokens ---- */
#define CK_TOKEN_VERSION 1
#define CK_TOKEN_MAX     160 /* characters, with the NUL */
#define CK_CAMPAIGN_MAX  64

typedef struct ck_token_claims {
    char campaign[CK_CAMPAIGN_MAX + 1];
    uint8_t handle[CK_HANDLE_BYTES];
    int32_t expires; /* last valid day, days since 1970-01-01 (UTC) */
} ck_token_claims;

typedef enum ck_token_result {
    CK_TOKEN_OK,
    CK_TOKEN_BAD,    /* malformed, tampered, unknown key: answer 404 */
    CK_TOKEN_EXPIRED /* genuine but past its last day: answer 410 */
} ck_token_result;

/* Signs with the keyring's newest token key. Returns the token's length, 0 when the claims do
 * not fit (campaign too long or not [a-z0-9_-]). */
size_t ck_token_sign(const ck_keyring *keys, const ck_token_claims *c, char out[CK_TOKEN_MAX]);
/* Verifies `token` (any string) against every key; fills `out` when OK or EXPIRED. */
ck_token_result ck_token_verify(const ck_keyring *keys, const char *token, size_t len,
                                int32_t today, ck_token_claims *out);
/* A short, non-reversible name for a token in logs: 8 hex digits. */
void ck_token_tag(const char *token, size_t len, char out[9]);

/* ---- QR codes ---- */
/* Zero means default. */
typedef struct ck_qr_params {
    int module_px; /* PNG pixels per module; 0 = 10 (300 dpi prints it at 0.85 mm/module) */
    int quiet;     /* quiet zone in modules; 0 = 4 (the standard's minimum) */
} ck_qr_params;

/* Encodes `text` (byte mode, error correction M) and writes a 1-bit greyscale PNG and/or an
 * SVG (either path may be NULL), each written atomically. `*modules` (may be NULL) gets the
 * symbol's width in modules without the quiet zone. */
ck_status ck_qr_write(const char *text, const char *png_path, const char *svg_path,
                      const ck_qr_params *params, int *modules, ck_error *err);

/* ---- server ---- */
typedef struct ck_server ck_server;

/* Zero means default. */
typedef struct ck_server_params {
    const char *listen;           /* "HOST:PORT"; NULL: "127.0.0.1:8080"; port 0 picks a free one */
    const char *data_dir;         /* keys, store, cache; NULL: "var" */
    const char *db_url;           /* PostgreSQL URL or libpq DSN for the shared state (people,
                                     revocations, analytics, admin); NULL: SQLite in data_dir */
    const char *keys_path;        /* the key file; NULL: <data_dir>/keys */
    const char *scenes_dir;       /* one folder per campaign; NULL: "scenes" */
    const char *web_dir;          /* player and dashboard assets, hls.js in node_modules;
                                     NULL: "web" */
    const char *const *campaigns; /* NULL-terminated ids to load; NULL: every scene folder */
    bool no_render;               /* load scenes without GPU or encoder: pages, tokens, cached
                                     segments and metrics work; views and renders answer 503
                                     (tests) */
    bool no_warm;                 /* do not render shared segments at start-up */
    bool cluster;                 /* a node behind nginx (deploy/nginx): shared segments are
                                     rendered only when asked for by their /c/ URL, which nginx
                                     sends to one home node per segment (consistent hash), never
                                     by warm-up or by a viewer's look-ahead, so the cluster
                                     renders each once; implies no_warm */
    const char *node_name;        /* sent as X-Ciak-Node on every answer; NULL: the host name */
    int drain_s;                  /* on the first stop (SIGTERM): take no new viewers (503),
                                     finish the renders running and serve the viewers already
                                     watching until they go quiet, for at most this long;
                                     0: 60; negative: stop at once (ck_server_drain) */
    int admit_late_ms;            /* a new viewer is answered 503 + Retry-After when the jobs
                                     of the viewers already here would finish this late (in
                                     deadline order at the measured render time; docs/server.md,
                                     "Admission control"); 0: 1000; negative: never */
    const char *encoder;          /* see ck_render_params; NULL: probe */
    int width, height;            /* output size; 0: the scene's canvas (tests use small ones) */
    int workers;                  /* render threads, each with its own GPU context; 0: cores / 4,
                                     at least 1 */
    int http_threads;             /* 0: 4 */
    int render_nice;              /* 0: none; 1..19: the render workers' threads run at this nice
                                     value, so that new viewers' views and playlists (their
                                     lines said) come before renders due later. For a node of
                                     its own: on a shared box a niced render loses the cores to
                                     every other process (docs/server.md, "Render priority") */
    int64_t cache_bytes;          /* cap on personal segments (LRU); 0: 10 GiB */
    int personal_ttl_days;        /* personal segments unused this long are deleted by the
                                     daily purge (they show people's data); 0: 7 */
    int timeout_s;                /* idle connection timeout; 0: 15 */
    int per_ip_connections;       /* open connections per client address; 0: 16. Not applied
                                     to a trusted proxy, which carries many clients */
    const char *trusted_proxies;  /* comma-separated addresses or CIDR blocks of reverse
                                     proxies (nginx) whose X-Forwarded-For names the client
                                     for the bad-link guard and the login guard; NULL: none,
                                     every peer is the client (docs/server.md, "Faults and
                                     limits") */
    int max_connections;          /* 0: 1024 */
    /* Bad links per window before a bad link answers 429 instead of 404 (a valid link is
     * always served): per address, per IPv4 /24 or IPv6 /56, and in all (docs/server.md). */
    int fail_limit;        /* per address; 0: 200 */
    int fail_prefix_limit; /* 0: 1000 */
    int fail_global_limit; /* 0: 10000 */
    int fail_window_s;     /* 0: 600 */
    bool access_log;       /* one INFO line per request (route, status, token tag, ms) */
    int admit_render_ms;   /* render time per segment admission control assumes; 0: measured
                              (a moving average of this node's renders) */
    int drain_idle_s;      /* a drain waits until no viewer it serves asked for a playlist or
                              segment this long (still watching); 0: 3 */
    /* People's views (their segment digests, record and speech clips, ~2 MB each with
     * speech) are kept between their requests and dropped when nobody uses them: no request
     * for view_idle_s, or, while all views hold more than views_bytes, the least recently
     * used ones first. A dropped view is made again on its next request (same digests, same
     * bytes; its lines said again, ~0.14 s of CPU). A view a request or a queued render holds
     * is never dropped. docs/server.md, "Memory". */
    int view_idle_s;     /* 0: 60 */
    int64_t views_bytes; /* 0: 256 MiB */
} ck_server_params;

/* Loads keys (creating the key file on first run), the store, every campaign (renderer,
 * shared view), cleans the cache of unfinished files, starts the render workers, listens,
 * and then queues the warming of the shared segments missing from the cache (rendered in the
 * background behind viewers; progress in the log, state in /healthz). NULL on failure with
 * err set. */
ck_server *ck_server_create(const ck_server_params *params, ck_error *err);
/* The port it listens on (useful with port 0). */
int ck_server_port(const ck_server *s);
/* Blocks until ck_server_stop() (from a signal handler: it only sets a flag), drains
 * (ck_server_drain) and then returns; meanwhile runs the daily purge. */
void ck_server_run(ck_server *s);
/* The first call ends ck_server_run's wait and starts its drain; a second one (a second
 * Ctrl-C) ends the drain at once. Async-signal-safe. */
void ck_server_stop(ck_server *s);
/* Drains the node before it stops: new viewers (links this node is not serving yet) answer
 * 503 with Retry-After and /healthz answers 503 "draining", so nginx and Kubernetes send them
 * elsewhere; queued renders nobody waits on (warm-up, look-ahead) are dropped, so only what a
 * request waits for is rendered; viewers already watching keep being served until no render
 * runs, no answer is in flight and none of them asked for a playlist or segment for
 * drain_idle_s (they have what they need), at most drain_s (or until a second
 * ck_server_stop). True when everything finished; false at once with drain_s < 0. */
bool ck_server_drain(ck_server *s);
/* Stops listening, fails waiting requests, joins every thread, frees everything. */
void ck_server_destroy(ck_server **s);

/* Renders every shared segment of `campaign` into the cache (what the server does at
 * start-up), without serving. `*rendered` (may be NULL) counts new files. */
ck_status ck_server_warm(const ck_server_params *params, const char *campaign, int *rendered,
                         ck_error *err);

#endif
