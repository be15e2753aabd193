/* bench_load.c: the measurements of `ciak bench serve` against a running server.
 *
 *   ttfs     new people one after another on a warm server: the client's time from the
 *            master playlist request to the last byte of segment 0 (master, media playlist,
 *            segment 0 on one fresh connection, as a player does);
 *   viewers  K new people at once, each a thread playing at playback pace: playback starts
 *            when segment 0 has arrived (t0), segment i is due at t0 + its start time and is
 *            requested when the previous one has arrived but not more than `buffer_s` ahead
 *            of its due time (a player's forward buffer). K doubles until a segment is late,
 *            then bisects; the server's peak RSS is sampled during each trial;
 *   wrk      `wrk` on one cached shared segment (full GETs, then If-None-Match answers).
 *
 * Every person is used once: a person seen before has their view and segments cached. */
#include "bench_serve.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_playlist(bench_conn *c, const bench_link *link, bench_seg *segs, int max)
{
    char path[400];
    bench_resp r;
    snprintf(path, sizeof path, "%s/index.m3u8", link->path);
    if (!bench_get(c, path, false, false, &r) || r.status != 200)
        return -1;
    snprintf(path, sizeof path, "%s/media.m3u8", link->path);
    if (!bench_get(c, path, false, true, &r) || r.status != 200 || !r.body) {
        free(r.body);
        return -1;
    }
    int n = 0;
    double t = 0, dur = -1;
    for (char *line = strtok(r.body, "\r\n"); line && n < max; line = strtok(NULL, "\r\n")) {
        if (strncmp(line, "#EXTINF:", 8) == 0) {
            dur = strtod(line + 8, NULL);
        } else if (line[0] != '#' && dur >= 0) {
            const char *uri = line;
            if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) {
                const char *slash = strchr(strstr(uri, "//") + 2, '/');
                uri = slash ? slash : "/";
            }
            bench_seg *s = &segs[n++];
            if (uri[0] == '/')
                snprintf(s->path, sizeof s->path, "%s", uri);
            else
                snprintf(s->path, sizeof s->path, "%s/%s", link->path, uri);
            s->shared = strncmp(s->path, "/c/", 3) == 0;
            s->start_s = t;
            s->dur_s = dur;
            t += dur;
            dur = -1;
        }
    }
    free(r.body);
    return n;
}

double bench_metric_sum(const bench_ctx *b, const char *name)
{
    if (b->node_count == 0)
        return bench_metric(b->port, name);
    double sum = -1;
    for (int i = 0; i < b->node_count; i++) {
        double v = bench_metric(b->node_ports[i], name);
        if (v >= 0)
            sum = sum < 0 ? v : sum + v;
    }
    return sum;
}

bool bench_wait_idle(const bench_ctx *b, double max_s)
{
    double end = ck_now_s() + max_s;
    do {
        double q = bench_metric_sum(b, "ciak_render_queue_depth");
        double run = bench_metric_sum(b, "ciak_renders_in_progress");
        if (q == 0 && run == 0)
            return true;
        usleep(50 * 1000);
    } while (ck_now_s() < end);
    return false;
}

double bench_rss_sum(const bench_ctx *b)
{
    if (b->node_count == 0)
        return bench_rss_mb(b->server);
    double sum = 0;
    for (int i = 0; i < b->node_count; i++) {
        double v = bench_rss_mb(b->node_pids[i]);
        sum += v > 0 ? v : 0;
    }
    return sum;
}

double bench_rss_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double mb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            mb = strtod(line + 6, NULL) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

/* ---- time to first segment ---- */
static const char *last_part(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

bool bench_ttfs(bench_ctx *b, int people, bench_results *r)
{
    double *ms = calloc((size_t)people, sizeof *ms);
    char(*seg0)[80] = calloc((size_t)people, sizeof *seg0);
    bench_seg *segs = calloc(BENCH_MAX_SEGS, sizeof *segs);
    int n = 0, personal = 0, busy = 0;
    for (int i = 0; ms && seg0 && segs && i < people && b->next_link < b->link_count; i++) {
        /* The previous person's look-ahead renders their personal segments; a new person
         * arriving meanwhile waits for the segment in progress, which is measured by the
         * viewers trial. Here: the fast path of a warm, otherwise idle server. */
        if (!bench_wait_idle(b, 120))
            busy++;
        const bench_link *link = &b->links[b->next_link++];
        bench_conn c;
        bench_conn_init(&c, b->port, 0);
        double t0 = ck_now_s();
        int count = bench_playlist(&c, link, segs, BENCH_MAX_SEGS);
        bench_resp resp = {0};
        bool ok = count > 0 && bench_get(&c, segs[0].path, false, false, &resp) &&
                  resp.status == 200 && resp.bytes > 0;
        double t1 = ck_now_s();
        bench_conn_close(&c);
        if (!ok) {
            fprintf(stderr, "ciak bench: time to first segment: person %d failed (HTTP %d)\n", i,
                    resp.status);
            continue;
        }
        ms[n] = (t1 - t0) * 1e3;
        snprintf(seg0[n], sizeof seg0[n], "%.79s", last_part(segs[0].path));
        personal += !segs[0].shared;
        if (!b->wrk_seg[0])
            for (int k = 0; k < count; k++)
                if (segs[k].shared) {
                    snprintf(b->wrk_seg, sizeof b->wrk_seg, "%s", segs[k].path);
                    break;
                }
        n++;
    }
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(seg0[i], seg0[j]) == 0;
        distinct += !seen;
    }
    r->ttfs_n = n;
    r->seg0_personal = personal;
    r->seg0_distinct = distinct;
    if (n > 0) {
        r->ttfs_p50_ms = bench_quantile(ms, n, 0.50);
        r->ttfs_p95_ms = bench_quantile(ms, n, 0.95);
        r->ttfs_max_ms = ms[n - 1];
    }
    if (busy)
        fprintf(stderr, "ciak bench: the server was still rendering before %d of them\n", busy);
    free(ms);
    free(seg0);
    free(segs);
    return n > 0;
}

/* ---- viewers at playback pace ---- */

void *bench_viewer_main(void *arg)
{
    bench_viewer *v = arg;
    bench_seg *segs = v->segs;
    bench_conn c;
    bench_conn_init(&c, v->b->port, v->source);
    c.timeout_s = 120;
    bench_sleep_until(v->start_at);
    double t_req = ck_now_s();
    int n = segs && v->seg_ms ? bench_playlist(&c, v->link, segs, BENCH_MAX_SEGS) : -1;
    bench_resp r = {0};
    double t_seg = ck_now_s();
    if (n <= 0 || !bench_get(&c, segs[0].path, false, false, &r) || r.status != 200) {
        v->failed = true;
        v->fail_status = c.last_status;
        goto out;
    }
    double t0 = ck_now_s();
    v->startup_ms = (t0 - t_req) * 1e3;
    v->seg_ms[0] = (t0 - t_seg) * 1e3;
    v->segments = 1;
    /* By default through the last personal segment: the rest are shared, already cached,
     * and arrive in milliseconds, so playing them only makes the trial longer. */
    double play_s = v->b->play_s;
    for (int i = n - 1; v->b->play_s <= 0 && i >= 0; i--)
        if (!segs[i].shared) {
            play_s = segs[i].start_s + 1e-3;
            break;
        }
    for (int i = 1; i < n; i++) {
        if (play_s > 0 && segs[i].start_s >= play_s)
            break;
        double due = t0 + segs[i].start_s;
        bench_sleep_until(due - v->b->buffer_s);
        t_seg = ck_now_s();
        if (!bench_get(&c, segs[i].path, false, false, &r) || r.status != 200) {
            v->failed = true;
            v->fail_status = c.last_status;
            break;
        }
        v->seg_ms[i] = (ck_now_s() - t_seg) * 1e3;
        double late = ck_now_s() - due;
        if (late > 0) {
            v->late++;
            atomic_fetch_add(&v->late_at[i], 1);
            if (late * 1e3 > v->late_max_ms)
                v->late_max_ms = late * 1e3;
        }
        v->segments++;
    }
out:
    bench_conn_close(&c);
    atomic_fetch_add(v->done, 1);
    return NULL;
}

typedef struct trial {
    bool ran, pass;
    int late, failed;
    double late_max_ms, startup_p50_ms, startup_max_ms, rss_mb;
} trial;

/* Adds a viewer's segment times to b->seg_ms and its shared segments to b->shared_seen
 * (distinct paths). Out of memory: what fits is kept. */
static void record_viewer(bench_ctx *b, const bench_viewer *v)
{
    for (int i = 0; i < v->segments; i++) {
        if (b->seg_n == b->seg_cap) {
            int cap = b->seg_cap ? b->seg_cap * 2 : 1024;
            double *m = realloc(b->seg_ms, (size_t)cap * sizeof *m);
            if (!m)
                return;
            b->seg_ms = m;
            b->seg_cap = cap;
        }
        b->seg_ms[b->seg_n++] = v->seg_ms[i];
        if (!v->segs[i].shared)
            continue;
        bool seen = false;
        for (int j = 0; j < b->shared_n && !seen; j++)
            seen = strcmp(b->shared_seen[j], v->segs[i].path) == 0;
        if (seen)
            continue;
        if (b->shared_n == b->shared_cap) {
            int cap = b->shared_cap ? b->shared_cap * 2 : 128;
            char(*p)[320] = realloc(b->shared_seen, (size_t)cap * sizeof *p);
            if (!p)
                return;
            b->shared_seen = p;
            b->shared_cap = cap;
        }
        snprintf(b->shared_seen[b->shared_n++], sizeof *b->shared_seen, "%s", v->segs[i].path);
    }
}

int bench_viewers_play(bench_ctx *b, bench_viewer *vs, int k, const double *start_at,
                       atomic_int *late_at, int poll_ms, double *rss_peak)
{
    pthread_t *th = calloc((size_t)k + 1, sizeof *th);
    atomic_int done = 0;
    int started = 0;
    for (int i = 0; th && i < k; i++) {
        vs[i] = (bench_viewer){.b = b,
                               .link = &b->links[b->next_link++],
                               .source = bench_viewer_source(i),
                               .start_at = start_at[i],
                               .late_at = late_at,
                               .done = &done,
                               .segs = calloc(BENCH_MAX_SEGS, sizeof(bench_seg)),
                               .seg_ms = calloc(BENCH_MAX_SEGS, sizeof(double))};
        if (pthread_create(&th[i], NULL, bench_viewer_main, &vs[i]) != 0)
            break;
        started++;
    }
    while (atomic_load(&done) < started) {
        double rss = bench_rss_sum(b);
        if (rss > *rss_peak)
            *rss_peak = rss;
        usleep((useconds_t)poll_ms * 1000);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    return started;
}

void bench_viewers_free(bench_viewer *vs, int k)
{
    for (int i = 0; vs && i < k; i++) {
        free(vs[i].segs);
        free(vs[i].seg_ms);
    }
    free(vs);
}

static trial run_trial(bench_ctx *b, int k)
{
    trial t = {0};
    if (b->next_link + k > b->link_count) {
        fprintf(stderr, "ciak bench: %d viewers need %d more people (--people)\n", k,
                b->next_link + k - b->link_count);
        return t;
    }
    if (!bench_wait_idle(b, 300))
        fprintf(stderr, "ciak bench: the server was still rendering after 300 s\n");
    bench_viewer *vs = calloc((size_t)k, sizeof *vs);
    double *startup = calloc((size_t)k, sizeof *startup), *at = calloc((size_t)k, sizeof *at);
    atomic_int *late_at = calloc(BENCH_MAX_SEGS, sizeof *late_at);
    if (!vs || !startup || !at || !late_at)
        goto out;
    double sum0 = bench_metric_sum(b, "ciak_render_seconds_sum");
    double cnt0 = bench_metric_sum(b, "ciak_render_seconds_count");
    double start = ck_now_s() + 0.2;
    for (int i = 0; i < k; i++)
        at[i] = start; /* all at once */
    int started = bench_viewers_play(b, vs, k, at, late_at, 100, &t.rss_mb);
    int ns = 0;
    for (int i = 0; i < started; i++) {
        t.late += vs[i].late;
        t.failed += vs[i].failed;
        if (vs[i].late_max_ms > t.late_max_ms)
            t.late_max_ms = vs[i].late_max_ms;
        if (!vs[i].failed)
            startup[ns++] = vs[i].startup_ms;
    }
    t.failed += k - started;
    for (int i = 0; b->record && i < started; i++)
        record_viewer(b, &vs[i]);
    t.startup_max_ms = ns ? bench_quantile(startup, ns, 1.0) : 0;
    t.startup_p50_ms = bench_quantile(startup, ns, 0.5);
    double renders = bench_metric_sum(b, "ciak_render_seconds_count") - cnt0;
    double render_ms =
        renders > 0 ? (bench_metric_sum(b, "ciak_render_seconds_sum") - sum0) * 1e3 / renders : 0;
    t.ran = true;
    t.pass = t.late == 0 && t.failed == 0 && t.startup_max_ms <= b->startup_max_s * 1e3;
    printf("  %3d viewer(s): %s  late segments %d (worst %.0f ms), failed %d, startup p50 %.0f "
           "max %.0f ms, server RSS peak %.0f MB, %.0f renders of %.0f ms\n",
           k, t.pass ? "ok  " : "LATE", t.late, t.late_max_ms, t.failed, t.startup_p50_ms,
           t.startup_max_ms, t.rss_mb, renders, render_ms);
    if (t.failed) { /* how: 503 is admission control turning a viewer away */
        int st[8] = {0}, n[8] = {0}, nst = 0;
        for (int i = 0; i < started; i++) {
            if (!vs[i].failed)
                continue;
            int x = 0;
            while (x < nst && st[x] != vs[i].fail_status)
                x++;
            if (x == nst && nst < 8)
                st[nst++] = vs[i].fail_status;
            if (x < nst)
                n[x]++;
        }
        printf("                 failed:");
        for (int x = 0; x < nst; x++) {
            if (st[x])
                printf(" HTTP %d x%d", st[x], n[x]);
            else /* a transport error or a timeout */
                printf(" no answer x%d", n[x]);
        }
        if (k > started)
            printf(" not started x%d", k - started);
        printf("\n");
    }
    if (t.late) { /* which segments were late, and for how many viewers */
        printf("                 late:");
        for (int i = 0; i < BENCH_MAX_SEGS; i++)
            if (atomic_load(&late_at[i]))
                printf(" #%d x%d", i, atomic_load(&late_at[i]));
        printf("\n");
    }
    fflush(stdout);
out:
    bench_viewers_free(vs, k);
    free(late_at);
    free(startup);
    free(at);
    return t;
}

static void keep(bench_results *r, int k, const trial *t)
{
    if (t->pass) {
        r->viewers_ok = k;
        r->viewers_rss_mb = t->rss_mb;
        r->viewers_startup_p50_ms = t->startup_p50_ms;
        r->viewers_startup_max_ms = t->startup_max_ms;
    } else if (r->viewers_fail < 0 || k < r->viewers_fail) {
        r->viewers_fail = k;
        r->fail_late = t->late;
        r->fail_late_max_ms = t->late_max_ms;
        r->fail_rss_mb = t->rss_mb;
    }
}

int bench_trial(bench_ctx *b, int k)
{
    trial t = run_trial(b, k);
    return !t.ran ? -1 : t.pass ? 0 : t.late + t.failed > 0 ? t.late + t.failed : 1;
}

bool bench_cost_trial(bench_ctx *b, int k, bench_cost *c)
{
    *c = (bench_cost){.viewers = k, .per_viewer = -1, .per_personal = -1};
    bench_wait_idle(b, 300);
    double cpu0 = bench_server_cpu(b);
    double pers0 = bench_metric_sum(b, "ciak_segments_rendered_total{kind=\"personal\"}");
    double shr0 = bench_metric_sum(b, "ciak_segments_rendered_total{kind=\"shared\"}");
    if (cpu0 < 0 || bench_trial(b, k) < 0)
        return false;
    /* The look-ahead renders the trial started: their CPU and their count, both. */
    bench_wait_idle(b, 300);
    c->cpu_s = bench_server_cpu(b) - cpu0;
    c->personal = bench_metric_sum(b, "ciak_segments_rendered_total{kind=\"personal\"}") - pers0;
    c->shared = bench_metric_sum(b, "ciak_segments_rendered_total{kind=\"shared\"}") - shr0;
    c->per_viewer = c->cpu_s / k;
    c->per_personal = c->personal > 0 ? c->cpu_s / c->personal : -1;
    c->ran = cpu0 >= 0 && c->cpu_s >= 0;
    return c->ran;
}

bool bench_viewers(bench_ctx *b, bench_results *r)
{
    r->viewers_ok = 0;
    r->viewers_fail = -1;
    int lo = 0, hi = -1;
    for (int k = b->min_viewers > 1 ? b->min_viewers : 1; k <= b->max_viewers; k *= 2) {
        trial t = run_trial(b, k);
        if (!t.ran)
            break;
        keep(r, k, &t);
        if (!t.pass) {
            hi = k;
            break;
        }
        lo = k;
    }
    /* Bisect between the last good count and the first late one, at most 3 more trials
     * (none when one count alone was asked for). */
    bool alone = b->min_viewers == b->max_viewers;
    for (int step = 0; !alone && hi > 0 && hi - lo > 1 && step < 3; step++) {
        int k = (lo + hi) / 2;
        trial t = run_trial(b, k);
        if (!t.ran)
            break;
        keep(r, k, &t);
        if (t.pass)
            lo = k;
        else
            hi = k;
    }
    return true;
}

/* ---- wrk ---- */
/* Runs wrk and parses "Requests/sec:" and "Transfer/sec:"; false when wrk cannot run. */
static bool run_wrk(const bench_ctx *b, const char *header, double *rps, double *mbps)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%.0fs --latency %s%s%s 'http://127.0.0.1:%d%s' 2>&1",
             16, b->wrk_s, header ? "-H '" : "", header ? header : "", header ? "'" : "", b->port,
             b->wrk_path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char line[512];
    *rps = -1;
    *mbps = -1;
    while (fgets(line, sizeof line, p)) {
        double v;
        char unit[8] = "";
        if (sscanf(line, "Requests/sec: %lf", &v) == 1)
            *rps = v;
        else if (sscanf(line, "Transfer/sec: %lf%7s", &v, unit) == 2)
            *mbps = unit[0] == 'G' ? v * 1024 : unit[0] == 'K' ? v / 1024 : v;
    }
    return pclose(p) == 0 && *rps >= 0;
}

bool bench_wrk(bench_ctx *b, bench_results *r)
{
    if (!b->wrk_seg[0]) {
        fprintf(stderr, "ciak bench: no shared segment found for wrk\n");
        return false;
    }
    if (system("command -v wrk >/dev/null 2>&1") != 0) {
        fprintf(stderr, "ciak bench: wrk missing (scripts/install-deps.sh installs it)\n");
        return false;
    }
    b->wrk_path = b->wrk_seg;
    bench_wait_idle(b, 300);
    double mbps;
    if (!run_wrk(b, NULL, &r->wrk_rps, &r->wrk_mbps))
        return false;
    /* The digest is the ETag: a revalidation measures the request path without the bytes. */
    char etag[200];
    const char *base = strrchr(b->wrk_seg, '/') + 1;
    snprintf(etag, sizeof etag, "If-None-Match: \"%.*s\"", (int)(strcspn(base, ".")), base);
    run_wrk(b, etag, &r->wrk_304_rps, &mbps);
    /* The floor of the HTTP layer itself: libmicrohttpd answering a constant. */
    b->wrk_path = "/healthz";
    run_wrk(b, NULL, &r->wrk_healthz_rps, &mbps);
    return true;
}
