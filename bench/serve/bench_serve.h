/* bench_serve.h: internals of `ciak bench serve`, shared by bench/serve/bench_*.c.
 *
 *   bench_serve.c   options, the temporary data folder, the server child process, the table
 *   bench_people.c  synthetic people made from a campaign's samples (all different)
 *   bench_http.c    a tiny blocking HTTP/1.1 client (keep-alive, Content-Length only)
 *   bench_load.c    the measurements: time to first segment, viewers at playback pace, wrk
 *   bench_nodes.c   `--nodes N`: the viewers trial through nginx on 1..N cluster nodes
 *
 * Nothing here prints a token, a person id or a name: links are read from links.csv into
 * memory and only counts and timings leave. Everything talks to 127.0.0.1. */
#ifndef CK_BENCH_SERVE_H
#define CK_BENCH_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "ck_base.h" /* ck_now_s, the clock of every timing here */

/* ---- small helpers (bench_http.c) ---- */
void bench_sleep_until(double t_s);
/* Sorts `v` (n values) and returns the q-quantile (0..1), nearest rank; 0 when n is 0. */
double bench_quantile(double *v, int n, double q);

/* ---- HTTP client (bench_http.c) ---- */
/* One connection to 127.0.0.1:port from the source address 127.0.x.y (`source` = x*256+y, 0:
 * the kernel's choice). The server caps connections per address, so each simulated viewer
 * comes from its own loopback address, as distinct people do. */
typedef struct bench_conn {
    int fd; /* -1: not connected; bench_get connects (and reconnects once) on its own */
    int port;
    int source;
    double timeout_s; /* per request; 0: 60 */
    char buf[16384];
    size_t len;      /* bytes in buf not yet consumed */
    int last_status; /* the last answer's HTTP status; 0 after a transport error */
} bench_conn;

typedef struct bench_resp {
    int status;    /* HTTP status; 0 on a transport error */
    int64_t bytes; /* body bytes received */
    char *body;    /* NUL-terminated body when asked for (free()); NULL otherwise */
} bench_resp;

void bench_conn_init(bench_conn *c, int port, int source);
void bench_conn_close(bench_conn *c);
/* GET `path` (starting with '/'); `head` sends HEAD. Reads the whole answer; keeps the body
 * only when `keep_body`. Returns false on a transport error or timeout (status 0). */
bool bench_get(bench_conn *c, const char *path, bool head, bool keep_body, bench_resp *r);

/* A number from the server's /metrics (`name` is the whole series name); -1 when absent. */
double bench_metric(int port, const char *name);

/* In a forked child: stdout and stderr appended to `log` (0600), stdin from /dev/null when
 * `no_stdin` (bench_serve.c). */
void bench_child_log(const char *log, bool no_stdin);

/* ---- synthetic people (bench_people.c) ---- */
/* Writes `n` people to `out_path` (a JSON array) made from the sample records in
 * `samples_path`: each takes every text field from a different sample (mixed-radix over the
 * samples, so no two people are alike in their first two text fields), numbers and dates from
 * one sample, and a new id. Returns false with a message printed on failure. */
bool bench_people_write(const char *samples_path, int n, const char *out_path);

/* ---- the run ---- */
typedef struct bench_link {
    char path[200]; /* "/v/<token>": the only place a token lives; never printed */
} bench_link;

/* One segment of a person's media playlist. */
typedef struct bench_seg {
    char path[320]; /* absolute path on the server */
    double start_s, dur_s;
    bool shared;
} bench_seg;

/* Fetches `link`'s master and media playlists on `c` and parses the media playlist into
 * `segs` (at most `max`); returns the count, -1 on failure. */
int bench_playlist(bench_conn *c, const bench_link *link, bench_seg *segs, int max);

#define BENCH_MAX_NODES 8

typedef struct bench_ctx {
    int port;     /* the server's, or nginx's with --nodes */
    pid_t server; /* the `ciak serve` child, for its RSS (0 with --nodes) */
    /* --nodes: the cluster nodes behind nginx, asked directly for /metrics (nginx closes it)
     * and read in /proc for RSS; 0 nodes: `port` is the one server. */
    int node_count;
    int node_ports[BENCH_MAX_NODES];
    pid_t node_pids[BENCH_MAX_NODES];
    /* With `record`, the viewers trials keep every segment's time from request to last byte
     * and the distinct shared segments asked for (malloc'd; the caller frees them). */
    bool record;
    double *seg_ms;
    int seg_n, seg_cap;
    char (*shared_seen)[320];
    int shared_n, shared_cap;
    const bench_link *links;
    int link_count;
    int next_link; /* people are used once each: a person seen before is cached */
    double play_s; /* how much of each video a viewer plays; 0: through the last personal
                     segment */
    double buffer_s;
    double startup_max_s;
    int min_viewers; /* the first count tried (0: 1) */
    int max_viewers;
    double wrk_s;
    const double *arrival_rates; /* new viewers per minute, tried in order (bench_arrival.c) */
    int arrival_count;
    double arrival_s;     /* how long each rate lasts */
    const char *wrk_path; /* a shared segment's path, found by the first measurement */
    char wrk_seg[320];
} bench_ctx;

/* Results, all -1 when not measured. */
typedef struct bench_results {
    int ttfs_n;
    double ttfs_p50_ms, ttfs_p95_ms, ttfs_max_ms;
    int seg0_personal, seg0_distinct; /* people whose segment 0 is personal; distinct ones */
    int viewers_ok;                   /* the largest count with no late segment */
    int viewers_fail;                 /* the smallest count tried that had one; -1: none */
    double viewers_rss_mb;            /* peak RSS of the server at viewers_ok */
    double viewers_startup_p50_ms, viewers_startup_max_ms;
    double fail_late_max_ms, fail_rss_mb; /* at viewers_fail */
    int fail_late;
    double wrk_rps, wrk_mbps, wrk_304_rps, wrk_healthz_rps;
    double arrival_ok;     /* the highest rate (per minute) held with no late segment; -1 */
    double arrival_fail;   /* the lowest rate tried that had one; -1: none */
    double arrival_cpu_s;  /* the server's CPU seconds per viewer at arrival_ok */
    double arrival_rss_mb; /* the server's peak RSS at arrival_ok */
} bench_results;

/* One simulated viewer (bench_load.c), a thread running bench_viewer_main: at `start_at` it
 * fetches the playlists and segment 0 (start-up), then plays at playback pace: segment i is due
 * at t0 + its start and asked for when the previous one has arrived, at most `buffer_s` ahead
 * of its due time; one arriving after its due time is late. Plays `play_s` seconds, or through
 * the last personal segment when that is 0. */
#define BENCH_MAX_SEGS 256
typedef struct bench_viewer {
    const bench_ctx *b;
    const bench_link *link;
    int source; /* loopback source address (bench_viewer_source) */
    double start_at;
    /* results */
    bool failed;
    int fail_status; /* the HTTP status that failed it; 0: transport error or timeout */
    int segments, late;
    atomic_int *late_at; /* per segment index, shared by a trial's viewers */
    double startup_ms, late_max_ms;
    atomic_int *done;
    /* segments 0 .. segments-1 were fetched: their paths and request-to-last-byte times
     * (BENCH_MAX_SEGS each, malloc'd by the caller, read and freed after the join) */
    bench_seg *segs;
    double *seg_ms;
} bench_viewer;
void *bench_viewer_main(void *arg);
/* Plays `k` new people at once or over time: viewer i starts at start_at[i] (each its own
 * loopback address, bench_viewer_source), late segments counted in late_at; samples the
 * server's RSS (summed over nodes) every `poll_ms` into *rss_peak until every viewer is done,
 * and joins them. Returns how many started (the rest count as failed). Free vs with
 * bench_viewers_free. */
int bench_viewers_play(bench_ctx *b, bench_viewer *vs, int k, const double *start_at,
                       atomic_int *late_at, int poll_ms, double *rss_peak);
void bench_viewers_free(bench_viewer *vs, int k);
/* The loopback source (bench_conn) of the i-th viewer of a run: 127.0.x.y, y in 1..250. */
int bench_viewer_source(int i);
/* User + system CPU seconds of a process (all its threads) and of its children that ended (the
 * server says each speech line in a child), -1 when it is gone. */
double bench_cpu_s(pid_t pid);
/* The server's CPU seconds (bench_cpu_s), or the nodes' summed; -1 when unknown. */
double bench_server_cpu(const bench_ctx *b);

/* bench_load.c. Each returns false when the measurement could not run (reason printed). */
bool bench_ttfs(bench_ctx *b, int people, bench_results *r);
bool bench_viewers(bench_ctx *b, bench_results *r);
/* One viewers trial of `k` viewers: 0 when it passed, the late segments plus failed viewers
 * (at least 1) when not, -1 when it could not run (too few people). */
int bench_trial(bench_ctx *b, int k);
bool bench_wrk(bench_ctx *b, bench_results *r);
/* The cost trial: `k` new viewers at once on an idle server (or nodes), the server's CPU
 * seconds from their start until it is idle again (the look-ahead renders they started
 * included) and the segments rendered meanwhile, per viewer and per personal segment. */
typedef struct bench_cost {
    bool ran;
    int viewers;
    double cpu_s, personal, shared;  /* CPU seconds; segments rendered */
    double per_viewer, per_personal; /* CPU seconds; -1 when none */
} bench_cost;
bool bench_cost_trial(bench_ctx *b, int k, bench_cost *c);
/* bench_arrival.c: the sustained arrival rate (Poisson arrivals at each of b->arrival_rates). */
bool bench_arrivals(bench_ctx *b, bench_results *r);
/* Waits until the server (every node) renders nothing (queue empty, no render running), at
 * most `max_s`; returns false on timeout. */
bool bench_wait_idle(const bench_ctx *b, double max_s);
/* A /metrics number of the server, or its sum over the nodes; -1 when absent anywhere. */
double bench_metric_sum(const bench_ctx *b, const char *name);
/* The child's resident set in MB (VmRSS from /proc), -1 when unknown. */
double bench_rss_mb(pid_t pid);
/* The server's RSS, or the sum over the nodes. */
double bench_rss_sum(const bench_ctx *b);

/* bench_serve.c: the link paths ("/v/<token>") of a links.csv; returns the count. */
int bench_read_links(const char *path, bench_link **out);

/* bench_nodes.c: `ciak bench serve --nodes N`. `o` holds the options bench_serve.c parsed. */
typedef struct bench_nodes_opts {
    const char *campaign, *scenes, *script, *self;
    const char *size; /* "WxH" or NULL */
    int workers, people, nodes, max_viewers, cost_viewers;
    double play_s, buffer_s, startup_max_s;
    bool keep;
} bench_nodes_opts;
int bench_nodes_run(const bench_nodes_opts *o);

#endif
