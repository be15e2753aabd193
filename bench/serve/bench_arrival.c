/* bench_arrival.c: the sustained arrival rate of `ciak bench serve --arrivals`.
 *
 * "Viewers at once" (bench_load.c) is a burst; a campaign's evening after a notification is a
 * stream of people opening their link at random moments. Here new viewers arrive as a Poisson
 * process (exponential gaps) at R per minute for `arrival_s` seconds, each playing at playback
 * pace like the burst's viewers. A rate holds when no segment was late, none failed and every
 * start-up was within the limit. Rates are tried in the order given and the run stops at the
 * first that does not hold. The gaps come from a fixed seed, so two runs (an old and a new
 * binary) see the same arrivals. The server's CPU time over the trial (from the first arrival
 * until it is idle again) divided by the viewers is the cost of one viewer at that rate. */
#include "bench_serve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bench_viewer_source(int i)
{
    return 256 * (1 + i / 250) + 1 + i % 250;
}

double bench_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces and ends at the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    long long cut, cst;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ut,
                     &st, &cut, &cst) != 4)
        return -1;
    /* Its children that ended count too: a speech line is said in a child process of its own
     * (engine/speech/README.md). */
    return (double)(ut + st + (unsigned long long)(cut + cst)) / (double)sysconf(_SC_CLK_TCK);
}

double bench_server_cpu(const bench_ctx *b)
{
    if (b->node_count == 0)
        return bench_cpu_s(b->server);
    double sum = 0;
    for (int i = 0; i < b->node_count; i++) {
        double c = bench_cpu_s(b->node_pids[i]);
        if (c < 0)
            return -1;
        sum += c;
    }
    return sum;
}

/* The next exponential gap (seconds) at `per_min` arrivals a minute, from a 64-bit LCG. */
static double next_gap(uint64_t *state, double per_min)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = ((double)(*state >> 11) + 0.5) / 9007199254740992.0; /* (0,1) */
    return -log(u) * 60.0 / per_min;
}

typedef struct arrival_trial {
    bool ran, pass;
    int viewers, late, failed, refused; /* refused: failed with 503 (admission control) */
    double late_max_ms, startup_p50_ms, startup_max_ms, rss_mb, cpu_s;
} arrival_trial;

/* Arrival times for `rate` over `seconds` from `t0`; returns the count (at most `max`). */
static int plan_arrivals(double rate, double seconds, double t0, double *at, int max)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(rate * 1000);
    int n = 0;
    for (double t = next_gap(&seed, rate); t < seconds && n < max; t += next_gap(&seed, rate))
        at[n++] = t0 + t;
    return n;
}

static void summarise(arrival_trial *t, bench_viewer *vs, int started, int k)
{
    double *startup = calloc((size_t)k + 1, sizeof *startup);
    int ns = 0;
    for (int i = 0; i < started; i++) {
        t->late += vs[i].late;
        t->failed += vs[i].failed;
        t->refused += vs[i].failed && vs[i].fail_status == 503;
        if (vs[i].late_max_ms > t->late_max_ms)
            t->late_max_ms = vs[i].late_max_ms;
        if (!vs[i].failed && startup)
            startup[ns++] = vs[i].startup_ms;
    }
    t->failed += k - started;
    t->startup_max_ms = ns ? bench_quantile(startup, ns, 1.0) : 0;
    t->startup_p50_ms = bench_quantile(startup, ns, 0.5);
    free(startup);
}

static arrival_trial run_rate(bench_ctx *b, double rate)
{
    arrival_trial t = {0};
    int max = b->link_count - b->next_link;
    double *at = calloc((size_t)max + 1, sizeof *at);
    bench_viewer *vs = calloc((size_t)max + 1, sizeof *vs);
    atomic_int *late_at = calloc(BENCH_MAX_SEGS, sizeof *late_at);
    if (!at || !vs || !late_at)
        goto out;
    if (!bench_wait_idle(b, 300))
        fprintf(stderr, "ciak bench: the server was still rendering after 300 s\n");
    double start = ck_now_s() + 0.2;
    int k = plan_arrivals(rate, b->arrival_s, start, at, max + 1);
    if (k > max) {
        fprintf(stderr,
                "ciak bench: %.1f viewers a minute for %.0f s need more people "
                "(--people: %d left)\n",
                rate, b->arrival_s, max);
        goto out;
    }
    double cpu0 = bench_server_cpu(b);
    int started = bench_viewers_play(b, vs, k, at, late_at, 200, &t.rss_mb);
    bench_wait_idle(b, 300); /* the renders these viewers caused, look-ahead included */
    double cpu1 = bench_server_cpu(b);
    summarise(&t, vs, started, k);
    t.viewers = k;
    t.cpu_s = cpu0 >= 0 && cpu1 >= 0 && k > 0 ? (cpu1 - cpu0) / k : -1;
    t.ran = true;
    t.pass = k > 0 && t.late == 0 && t.failed == 0 && t.startup_max_ms <= b->startup_max_s * 1e3;
    printf("  %5.1f/min: %s  %d viewers in %.0f s, late segments %d (worst %.0f ms), failed %d "
           "(%d refused with 503), startup p50 %.0f max %.0f ms, server CPU %.2f s per viewer, RSS "
           "peak %.0f MB\n",
           rate,
           t.pass   ? "ok  "
           : t.late ? "LATE"
                    : "FAIL",
           k, b->arrival_s, t.late, t.late_max_ms, t.failed, t.refused, t.startup_p50_ms,
           t.startup_max_ms, t.cpu_s, t.rss_mb);
    fflush(stdout);
out:
    bench_viewers_free(vs, max + 1);
    free(at);
    free(late_at);
    return t;
}

bool bench_arrivals(bench_ctx *b, bench_results *r)
{
    r->arrival_ok = r->arrival_fail = r->arrival_cpu_s = r->arrival_rss_mb = -1;
    for (int i = 0; i < b->arrival_count; i++) {
        arrival_trial t = run_rate(b, b->arrival_rates[i]);
        if (!t.ran)
            return false;
        if (!t.pass) {
            r->arrival_fail = b->arrival_rates[i];
            break;
        }
        r->arrival_ok = b->arrival_rates[i];
        r->arrival_cpu_s = t.cpu_s;
        r->arrival_rss_mb = t.rss_mb;
    }
    return true;
}
