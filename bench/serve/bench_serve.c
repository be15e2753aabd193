/* bench_serve.c: `ciak bench serve`: the stream server measured from outside, as viewers see
 * it (issue 5's benchmark).
 *
 * It prepares a temporary data folder (synthetic people made from a campaign's samples,
 * imported; links issued; shared segments warmed with `ciak warm`), starts the real
 * `ciak serve` as a child process on 127.0.0.1 with a free port, runs the measurements of
 * bench_load.c with its own HTTP client, prints goal and measured value side by side, stops
 * the server and deletes the folder. Every wait is bounded; nothing leaves loopback; no token,
 * id or name is printed (the child's output goes to a log file in the temporary folder). */
#include "bench_serve.h"
#include "ck_cli.h"

#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Paths here are a short temporary folder plus a file name. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

typedef struct rate_list {
    int n;
    double v[16];
} rate_list;

typedef struct serve_opts {
    const char *campaign, *scenes, *script;
    ck_cli_size size;
    int workers, render_nice, people, ttfs, min_viewers, max_viewers, nodes, cost_viewers;
    double play_s, buffer_s, startup_max_s, wrk_s, arrival_s;
    rate_list arrivals;
    bool keep, speech;
} serve_opts;

/* "6,12,18": new viewers per minute, each > 0 and at most 600, in the order to try. */
static bool parse_rates(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    rate_list *l = dst;
    l->n = 0;
    for (const char *p = value; *p;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0 && v <= 600) || (*end && *end != ',') || l->n == 16) {
            snprintf(msg, size, "%s: '%s' is not a list of up to 16 rates per minute (0 to 600)",
                     o->name, value);
            return false;
        }
        l->v[l->n++] = v;
        p = *end ? end + 1 : end;
    }
    if (l->n == 0) {
        snprintf(msg, size, "%s: no rate given", o->name);
        return false;
    }
    return true;
}

static const ck_opt serve_table[] = {
    {.name = "--campaign",
     .arg = "C",
     .help = "the campaign served",
     .def = "assegno-sociale",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, campaign)},
    {.name = "--scenes",
     .arg = "DIR",
     .help = "one folder per campaign",
     .def = "scenes",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, scenes)},
    {.name = "--people",
     .arg = "N",
     .help = "people imported (made from the campaign's samples)",
     .def = "200",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, people),
     .lo = 1,
     .hi = 1000000},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size, even (default: the scene's canvas)",
     .parse = ck_opt_size_even,
     .offset = offsetof(serve_opts, size)},
    {.name = "--workers",
     .arg = "N",
     .help = "the server's render threads (default: its own)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, workers),
     .lo = 1,
     .hi = 64},
    {.name = "--render-nice",
     .arg = "N",
     .help = "the server's --render-nice (render threads at nice N; 0: not niced)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, render_nice),
     .lo = 0,
     .hi = 19},
    {.name = "--ttfs",
     .arg = "N",
     .help = "new people timed to their first segment (0: one)",
     .def = "10",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, ttfs),
     .hi = 100000},
    {.name = "--max-viewers",
     .arg = "N",
     .help = "the most new viewers at once tried (0: none)",
     .def = "32",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, max_viewers),
     .hi = 249},
    {.name = "--min-viewers",
     .arg = "N",
     .help = "the first count of new viewers at once tried: it doubles from there up to "
             "--max-viewers, then bisects (N = --max-viewers: that count alone)",
     .def = "1",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, min_viewers),
     .lo = 1,
     .hi = 249},
    {.name = "--play",
     .arg = "SECONDS",
     .help = "how much of each video the viewers play (0: all)",
     .parse = ck_opt_seconds,
     .offset = offsetof(serve_opts, play_s)},
    {.name = "--buffer",
     .arg = "SECONDS",
     .help = "a viewer's buffer: a segment later than this is late",
     .def = "30",
     .parse = ck_opt_seconds,
     .offset = offsetof(serve_opts, buffer_s)},
    {.name = "--startup-max",
     .arg = "SECONDS",
     .help = "the most a viewer may wait for the first segment",
     .def = "1",
     .parse = ck_opt_seconds,
     .offset = offsetof(serve_opts, startup_max_s)},
    {.name = "--wrk-seconds",
     .arg = "SECONDS",
     .help = "how long wrk hammers a cached segment (0: skip)",
     .def = "10",
     .parse = ck_opt_seconds,
     .offset = offsetof(serve_opts, wrk_s)},
    {.name = "--nodes",
     .arg = "N",
     .help = "instead: 1, 2, .. N `ciak serve --cluster` nodes on one PostgreSQL behind nginx "
             "(--cluster-script), the viewers trial through nginx on each, side by side",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, nodes),
     .hi = BENCH_MAX_NODES},
    {.name = "--cost-viewers",
     .arg = "N",
     .help = "with --nodes or --speech: the viewers at once of the cost trial (CPU per viewer "
             "and per personal segment; with --nodes also p95 latency, the same for every node "
             "count)",
     .def = "4",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, cost_viewers),
     .lo = 1,
     .hi = 249},
    {.name = "--cluster-script",
     .arg = "FILE",
     .help = "the one-machine cluster that --nodes starts and stops",
     .def = "scripts/cluster.sh",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, script)},
    {.name = "--arrivals",
     .arg = "PER_MIN",
     .help = "sustained arrival rates tried in order, new viewers per minute arriving at "
             "random (e.g. 6,12,18; people are added as they need)",
     .parse = parse_rates,
     .offset = offsetof(serve_opts, arrivals)},
    {.name = "--arrival-seconds",
     .arg = "SECONDS",
     .help = "how long each arrival rate lasts",
     .def = "300",
     .parse = ck_opt_seconds,
     .offset = offsetof(serve_opts, arrival_s)},
    {.name = "--speech",
     .help = "adds a cost trial (server CPU per viewer and per personal segment) on the "
             "campaign as it is and on a copy without its speech block, side by side",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, speech)},
    {.name = "--keep",
     .help = "keep the temporary folder (logs, store) and say where",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, keep)},
    {0},
};

void bench_child_log(const char *log, bool no_stdin)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    int devnull = no_stdin ? open("/dev/null", O_RDONLY) : -1;
    if (devnull >= 0)
        dup2(devnull, 0);
}

/* Runs `ciak ARGS...` (this very binary) with its output appended to `log`; returns its exit
 * status, -1 when it could not run. */
static int run_ciak(const char *self, const char *log, char *const args[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        bench_child_log(log, true);
        execv(self, args);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Starts `ciak serve` in the background; 0 on failure. */
static pid_t start_ciak(const char *self, const char *log, char *const args[])
{
    pid_t pid = fork();
    if (pid == 0) {
        /* An interrupted benchmark must not leave a server behind. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        bench_child_log(log, false);
        execv(self, args);
        _exit(127);
    }
    return pid > 0 ? pid : 0;
}

/* SIGTERM, up to 20 s for a clean exit, then SIGKILL. */
static void stop_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int bench_read_links(const char *path, bench_link **out)
{
    FILE *f = fopen(path, "r");
    int n = 0, cap = 0;
    bench_link *links = NULL;
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *v = strstr(line, "/v/");
        if (!v)
            continue;
        v[strcspn(v, ",\r\n")] = '\0';
        if (strlen(v) >= sizeof links->path)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            bench_link *nl = realloc(links, (size_t)cap * sizeof *links);
            if (!nl)
                break;
            links = nl;
        }
        snprintf(links[n++].path, sizeof links->path, "%s", v);
    }
    if (f)
        fclose(f);
    *out = links;
    return n;
}

static void load_avg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l1 = -1;
    if (f && fscanf(f, "%lf", &l1) != 1)
        l1 = -1;
    if (f)
        fclose(f);
    snprintf(buf, n, "%.1f", l1);
}

static void print_table(const serve_opts *o, const bench_results *r)
{
    char v[64];
    printf("\n%-46s %-16s %s\n", "measure", "goal", "measured");
    snprintf(v, sizeof v, "%.0f ms", r->ttfs_p50_ms);
    printf("%-46s %-16s %s\n", "time to first segment, new person, p50", "<= 150 ms",
           r->ttfs_n > 0 ? v : "-");
    snprintf(v, sizeof v, "%.0f ms (max %.0f, n=%d)", r->ttfs_p95_ms, r->ttfs_max_ms, r->ttfs_n);
    printf("%-46s %-16s %s\n", "time to first segment, new person, p95", "<= 300 ms",
           r->ttfs_n > 0 ? v : "-");
    if (r->viewers_fail >= 0)
        snprintf(v, sizeof v, "%d (at %d: %d late, worst %.0f ms)", r->viewers_ok, r->viewers_fail,
                 r->fail_late, r->fail_late_max_ms);
    else
        snprintf(v, sizeof v, "%d (none late up to --max-viewers %d)", r->viewers_ok,
                 o->max_viewers);
    printf("%-46s %-16s %s\n", "new viewers at once at playback pace", ">= 16",
           o->max_viewers > 0 ? v : "-");
    if (r->viewers_ok > 0)
        snprintf(v, sizeof v, "%.0f MB", r->viewers_rss_mb);
    else if (r->viewers_fail > 0) /* none passed: the RSS of the smallest load tried */
        snprintf(v, sizeof v, "- (%.0f MB at %d)", r->fail_rss_mb, r->viewers_fail);
    else
        snprintf(v, sizeof v, "-");
    printf("%-46s %-16s %s\n", "server RSS at that load (peak)", "<= 400 MB", v);
    if (o->arrivals.n > 0) {
        char what[64];
        snprintf(what, sizeof what, "arrivals held for %.0f s, no late segment", o->arrival_s);
        if (r->arrival_ok > 0 && r->arrival_fail > 0)
            snprintf(v, sizeof v, "%.1f/min (at %.1f/min: late)", r->arrival_ok, r->arrival_fail);
        else if (r->arrival_ok > 0)
            snprintf(v, sizeof v, "%.1f/min (none late up to the last rate)", r->arrival_ok);
        else
            snprintf(v, sizeof v, "none (at %.1f/min: late)", r->arrival_fail);
        printf("%-46s %-16s %s\n", what, "-", r->arrival_fail > 0 || r->arrival_ok > 0 ? v : "-");
        snprintf(v, sizeof v, "%.2f s (RSS peak %.0f MB)", r->arrival_cpu_s, r->arrival_rss_mb);
        printf("%-46s %-16s %s\n", "  server CPU per viewer at that rate", "-",
               r->arrival_ok > 0 ? v : "-");
    }
    snprintf(v, sizeof v, "%.0f req/s (%.0f MB/s)", r->wrk_rps, r->wrk_mbps);
    printf("%-46s %-16s %s\n", "cached shared segment, wrk 16 conn", ">= 20000 req/s",
           r->wrk_rps >= 0 ? v : "-");
    snprintf(v, sizeof v, "%.0f req/s", r->wrk_304_rps);
    printf("%-46s %-16s %s\n", "  the same, If-None-Match (304, no body)", "-",
           r->wrk_304_rps >= 0 ? v : "-");
    snprintf(v, sizeof v, "%.0f req/s", r->wrk_healthz_rps);
    printf("%-46s %-16s %s\n", "  GET /healthz (the HTTP layer alone)", "-",
           r->wrk_healthz_rps >= 0 ? v : "-");
}

/* One server under test: its temporary folder (data, log, people, links) and the child. */
typedef struct serve_run {
    char dir[128], log[160];
    pid_t server;
    int port;
    bench_link *links;
    int nlinks;
    double t_import, t_warm, t_start;
} serve_run;

/* In run->dir: `people` people made from the campaign's samples, imported, links issued,
 * shared segments warmed, and `ciak serve` started on a free loopback port, with the campaign
 * folders of `scenes`. Each step's output goes to the log, not the terminal (import's rejects
 * would name people). */
static bool serve_up(const serve_opts *o, const char *self, const char *scenes, int people_n,
                     serve_run *run)
{
    /* The server and `ciak warm` get --size and --workers as they were given. */
    char size_arg[32] = "", workers_arg[16] = "", nice_arg[16] = "";
    char *size = NULL;
    if (o->size.w) {
        snprintf(size_arg, sizeof size_arg, "%dx%d", o->size.w, o->size.h);
        size = size_arg;
    }
    snprintf(workers_arg, sizeof workers_arg, "%d", o->workers);
    snprintf(nice_arg, sizeof nice_arg, "%d", o->render_nice);
    char data[160], people[160], rejects[160], links_csv[160], port_file[160];
    char samples[1200], expires[16];
    snprintf(run->log, sizeof run->log, "%s/ciak.log", run->dir);
    snprintf(data, sizeof data, "%s/var", run->dir);
    snprintf(people, sizeof people, "%s/people.json", run->dir);
    snprintf(rejects, sizeof rejects, "%s/rejects.txt", run->dir);
    snprintf(links_csv, sizeof links_csv, "%s/links.csv", run->dir);
    snprintf(port_file, sizeof port_file, "%s/port", run->dir);
    snprintf(samples, sizeof samples, "%s/%s/samples.json", scenes, o->campaign);
    time_t later = time(NULL) + 30 * 86400;
    strftime(expires, sizeof expires, "%Y-%m-%d", gmtime(&later));
    double t0 = ck_now_s();
    if (!bench_people_write(samples, people_n, people))
        return false;
    char *imp[] = {(char *)self, "import",   (char *)o->campaign, people,       "--data-dir",
                   data,         "--scenes", (char *)scenes,      "--skip-bad", "--rejects",
                   rejects,      NULL};
    char *lnk[] = {(char *)self, "links",   (char *)o->campaign, "--base-url", "http://127.0.0.1:1",
                   "-o",         links_csv, "--expires",         expires,      "--data-dir",
                   data,         NULL};
    char *wrm[] = {(char *)self, "warm",         (char *)o->campaign,    "--data-dir", data,
                   "--scenes",   (char *)scenes, size ? "--size" : NULL, size,         NULL};
    if (run_ciak(self, run->log, imp) > 1 || run_ciak(self, run->log, lnk) != 0) {
        fprintf(stderr, "ciak bench: import or links failed (see %s with --keep)\n", run->log);
        return false;
    }
    run->nlinks = bench_read_links(links_csv, &run->links);
    run->t_import = ck_now_s() - t0;
    t0 = ck_now_s();
    if (run_ciak(self, run->log, wrm) != 0) {
        fprintf(stderr, "ciak bench: ciak warm failed (see %s with --keep)\n", run->log);
        return false;
    }
    run->t_warm = ck_now_s() - t0;

    /* The server, as in production but on a free loopback port. */
    char *srv[24] = {(char *)self,  "serve",        "--listen",   "127.0.0.1:0",
                     "--port-file", port_file,      "--data-dir", data,
                     "--scenes",    (char *)scenes, "--campaign", (char *)o->campaign};
    int na = 12;
    if (size) {
        srv[na++] = "--size";
        srv[na++] = size_arg;
    }
    if (o->workers) {
        srv[na++] = "--workers";
        srv[na++] = workers_arg;
    }
    if (o->render_nice) {
        srv[na++] = "--render-nice";
        srv[na++] = nice_arg;
    }
    srv[na] = NULL;
    t0 = ck_now_s();
    if (!(run->server = start_ciak(self, run->log, srv)))
        return false;
    while (!run->port && ck_now_s() - t0 < 120 && waitpid(run->server, NULL, WNOHANG) == 0) {
        FILE *f = fopen(port_file, "r");
        if (f && fscanf(f, "%d", &run->port) != 1)
            run->port = 0;
        if (f)
            fclose(f);
        usleep(50 * 1000);
    }
    if (!run->port) {
        fprintf(stderr, "ciak bench: the server did not start (see %s with --keep)\n", run->log);
        return false;
    }
    run->t_start = ck_now_s() - t0;
    return true;
}

static void serve_down(serve_run *run)
{
    stop_child(run->server);
    run->server = 0;
    free(run->links);
    run->links = NULL;
}

/* Does the campaign's scene.json have a speech block? -1 when it cannot be read. */
static int scene_speaks(const char *scenes, const char *campaign)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/scene.json", scenes, campaign);
    json_t *root = json_load_file(path, 0, NULL);
    int speaks = root ? json_object_get(root, "speech") != NULL : -1;
    json_decref(root);
    return speaks;
}

/* The campaign's folder copied into dst/<campaign>/ with no speech block in its scene.json (a
 * bench-only scene: the server has no option to stop speaking), its asset paths made absolute
 * so they still name the originals. */
static bool copy_without_speech(const serve_opts *o, const char *dst)
{
    char src[1200], real[PATH_MAX], path[1200], cmd[2600];
    snprintf(src, sizeof src, "%s/%s", o->scenes, o->campaign);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp -r '%s' '%s/'", dst, src, dst);
    snprintf(path, sizeof path, "%s/scene.json", src);
    json_t *root = realpath(src, real) && system(cmd) == 0 ? json_load_file(path, 0, NULL) : NULL;
    if (!root) {
        fprintf(stderr, "ciak bench: cannot copy %s without its speech\n", src);
        return false;
    }
    json_object_del(root, "speech");
    const char *id;
    json_t *asset;
    json_object_foreach(json_object_get(root, "assets"), id, asset)
    {
        const char *rel = json_string_value(json_object_get(asset, "path"));
        if (rel && rel[0] != '/') {
            char abs[PATH_MAX + 1200];
            snprintf(abs, sizeof abs, "%s/%s", real, rel);
            json_object_set_new(asset, "path", json_string(abs));
        }
    }
    snprintf(path, sizeof path, "%s/%s/scene.json", dst, o->campaign);
    bool ok = json_dump_file(root, path, JSON_INDENT(2)) == 0;
    json_decref(root);
    if (!ok)
        fprintf(stderr, "ciak bench: cannot write %s\n", path);
    return ok;
}

/* One person, not counted, asks for each of their personal segments in turn: what a server
 * does once for everybody (the campaign's bed decoded for mixing personal audio, then kept)
 * is then not in the cost trial. */
static void warm_person(bench_ctx *b)
{
    bench_seg *segs = calloc(BENCH_MAX_SEGS, sizeof *segs);
    bench_conn c;
    bench_conn_init(&c, b->port, 0);
    int n = segs && b->next_link < b->link_count
                ? bench_playlist(&c, &b->links[b->next_link++], segs, BENCH_MAX_SEGS)
                : 0;
    for (int i = 0; i < n; i++) {
        bench_resp r = {0};
        if (!segs[i].shared && !bench_get(&c, segs[i].path, false, false, &r))
            break;
    }
    bench_conn_close(&c);
    free(segs);
}

/* The cost trial on a server that just started: one person warms it up, then the next
 * `--cost-viewers` people (the same in each run) are the trial. */
static void cost_trial(const serve_opts *o, bench_ctx *b, const char *what, bench_cost *c)
{
    warm_person(b);
    printf("cost trial, %s, %d new viewer(s) at once:\n", what, o->cost_viewers);
    if (!bench_cost_trial(b, o->cost_viewers, c))
        fprintf(stderr, "ciak bench: the cost trial %s did not run\n", what);
    fflush(stdout);
}

/* The two cost trials side by side: [0] the campaign as it is, [1] without its speech. */
static void print_cost(const bench_cost *c, int speaks)
{
    char v[2][64];
    printf("\n%-46s %-18s %s\n", "cost trial (server CPU, speech children in)",
           speaks == 1 ? "speaking" : "as it is", "no speech block");
    for (int i = 0; i < 2; i++)
        snprintf(v[i], sizeof v[i], c[i].ran ? "%.2f" : "-", c[i].per_viewer);
    printf("%-46s %-18s %s\n", "  CPU s per viewer", v[0], v[1]);
    for (int i = 0; i < 2; i++)
        snprintf(v[i], sizeof v[i], c[i].ran && c[i].per_personal >= 0 ? "%.3f" : "-",
                 c[i].per_personal);
    printf("%-46s %-18s %s\n", "  CPU s per personal segment", v[0], v[1]);
    for (int i = 0; i < 2; i++)
        snprintf(v[i], sizeof v[i], c[i].ran ? "%.0f, %.0f" : "-", c[i].personal, c[i].shared);
    printf("%-46s %-18s %s\n", "  segments rendered: personal, shared", v[0], v[1]);
    if (c[0].ran && c[1].ran && c[1].per_viewer > 0)
        printf("speech adds %+.0f %% CPU per viewer (%d viewers, the same people in both runs)%s\n",
               100.0 * (c[0].per_viewer / c[1].per_viewer - 1), c[0].viewers,
               speaks == 1 ? "" : "; the campaign has no speech block: both runs are alike");
}

/* The measurements of one server (`b`): the cost trial first (with --speech), then time to
 * first segment, viewers at once, arrivals, wrk. */
static void measure(const serve_opts *o, bench_ctx *b, bench_results *r, bench_cost *cost)
{
    memset(r, 0, sizeof *r);
    r->viewers_ok = -1;
    r->viewers_fail = -1;
    r->viewers_rss_mb = r->wrk_rps = r->wrk_mbps = r->wrk_304_rps = r->wrk_healthz_rps = -1;
    if (o->speech)
        cost_trial(o, b, "the campaign as it is", cost);
    if (o->ttfs > 0 || o->max_viewers == 0) {
        bench_ttfs(b, o->ttfs > 0 ? o->ttfs : 1, r);
        printf("time to first segment: %d people, segment 0 personal for %d (%d distinct)\n",
               r->ttfs_n, r->seg0_personal, r->seg0_distinct);
    }
    if (o->max_viewers > 0) {
        char play[40] = "through the last personal segment";
        if (o->play_s > 0)
            snprintf(play, sizeof play, "the first %.0f s", o->play_s);
        printf("viewers at playback pace (play %s, buffer %.0f s, startup <= %.1f s):\n", play,
               o->buffer_s, o->startup_max_s);
        bench_viewers(b, r);
    }
    if (o->arrivals.n > 0) {
        printf("viewers arriving at random for %.0f s per rate (buffer %.0f s, startup <= %.1f "
               "s):\n",
               o->arrival_s, o->buffer_s, o->startup_max_s);
        bench_arrivals(b, r);
    }
    if (o->wrk_s > 0)
        bench_wrk(b, r);
}

/* --speech both: a second server on the copy without speech, the cost trial alone. */
static bool measure_without_speech(const serve_opts *o, const char *self, const char *tmp,
                                   const char *scenes, bench_cost *cost)
{
    serve_run q = {0};
    snprintf(q.dir, sizeof q.dir, "%s/nospeech", tmp);
    bool ok = mkdir(q.dir, 0700) == 0 && serve_up(o, self, scenes, 1 + o->cost_viewers, &q);
    if (ok) {
        bench_ctx b = {.port = q.port,
                       .server = q.server,
                       .links = q.links,
                       .link_count = q.nlinks,
                       .play_s = o->play_s,
                       .buffer_s = o->buffer_s,
                       .startup_max_s = o->startup_max_s};
        bench_wait_idle(&b, 300);
        printf("the same campaign without its speech block: server up in %.1f s\n", q.t_start);
        cost_trial(o, &b, "no speech", cost);
    }
    serve_down(&q);
    return ok;
}

static int cmd_bench_serve(const void *opts)
{
    const serve_opts o = *(const serve_opts *)opts;
    char self[PATH_MAX];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0) {
        fprintf(stderr, "ciak bench: cannot find the ciak binary\n");
        return CK_EXIT_PROBLEMS;
    }
    self[sn] = '\0';
    if (o.max_viewers > 0 && o.min_viewers > o.max_viewers) {
        fprintf(stderr, "ciak bench serve: --min-viewers %d is above --max-viewers %d\n",
                o.min_viewers, o.max_viewers);
        return CK_EXIT_USAGE;
    }
    if (o.nodes > 0) {
        char size_arg[32];
        snprintf(size_arg, sizeof size_arg, "%dx%d", o.size.w, o.size.h);
        bench_nodes_opts no = {.campaign = o.campaign,
                               .scenes = o.scenes,
                               .script = o.script,
                               .self = self,
                               .size = o.size.w ? size_arg : NULL,
                               .workers = o.workers,
                               .people = o.people,
                               .nodes = o.nodes,
                               .max_viewers = o.max_viewers,
                               .cost_viewers = o.cost_viewers,
                               .play_s = o.play_s,
                               .buffer_s = o.buffer_s,
                               .startup_max_s = o.startup_max_s,
                               .keep = o.keep};
        return bench_nodes_run(&no) ? CK_EXIT_PROBLEMS : CK_EXIT_OK;
    }
    char tmp[] = "/tmp/ciak-bench-serve-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "ciak bench: cannot make a temporary folder: %s\n", strerror(errno));
        return CK_EXIT_PROBLEMS;
    }
    int rc = CK_EXIT_PROBLEMS;
    serve_run run = {0};
    bench_cost cost[2] = {0};
    char load0[16], load1[16], quiet[160];
    load_avg(load0, sizeof load0);
    snprintf(run.dir, sizeof run.dir, "%s", tmp);
    snprintf(quiet, sizeof quiet, "%s/nospeech-scenes", tmp);
    int speaks = scene_speaks(o.scenes, o.campaign);
    if (o.speech && !copy_without_speech(&o, quiet))
        goto done;

    /* Enough people for every trial (each viewer is a new person), with a margin for the
     * randomness of the arrivals. */
    int people_n = o.people;
    int need = o.ttfs + 2 * o.max_viewers + (o.speech ? 1 + o.cost_viewers : 0);
    for (int i = 0; i < o.arrivals.n; i++)
        need += (int)(o.arrivals.v[i] * o.arrival_s / 60.0 * 1.3) + 20;
    if (need > people_n)
        people_n = need;
    if (!serve_up(&o, self, o.scenes, people_n, &run))
        goto done;
    bench_ctx b = {.port = run.port,
                   .server = run.server,
                   .links = run.links,
                   .link_count = run.nlinks,
                   .play_s = o.play_s,
                   .buffer_s = o.buffer_s,
                   .startup_max_s = o.startup_max_s,
                   .min_viewers = o.min_viewers,
                   .max_viewers = o.max_viewers,
                   .wrk_s = o.wrk_s,
                   .arrival_rates = o.arrivals.v,
                   .arrival_count = o.arrivals.n,
                   .arrival_s = o.arrival_s};
    bench_wait_idle(&b, 300); /* its own start-up warm finds everything cached */
    char size_arg[32] = "canvas size";
    if (o.size.w)
        snprintf(size_arg, sizeof size_arg, "%dx%d", o.size.w, o.size.h);
    printf("ciak bench serve: %s %s, %d people with links (import %.1f s, warm %.1f s), "
           "server up in %.1f s, RSS idle %.0f MB, load %s\n",
           o.campaign, size_arg, run.nlinks, run.t_import, run.t_warm, run.t_start,
           bench_rss_mb(run.server), load0);
    fflush(stdout);
    bench_results r;
    measure(&o, &b, &r, &cost[0]);
    serve_down(&run);
    if (o.speech && !measure_without_speech(&o, self, tmp, quiet, &cost[1]))
        goto done;
    load_avg(load1, sizeof load1);
    print_table(&o, &r);
    if (o.speech)
        print_cost(cost, speaks);
    printf("(load average %s at start, %s at end, %ld cores)\n", load0, load1,
           sysconf(_SC_NPROCESSORS_ONLN));
    rc = CK_EXIT_OK;
done:
    serve_down(&run);
    if (o.keep) {
        fprintf(stderr, "ciak bench: kept %s\n", tmp);
    } else {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "ciak bench: could not remove %s\n", tmp);
    }
    return rc;
}

const ck_cli_cmd ck_cli_cmd_bench_serve = {
    "bench serve",
    "the stream server seen from HTTP clients: first segments, viewers at once, arrivals, wrk; "
    "with --nodes, 1..N cluster nodes behind nginx (bench/)",
    {{serve_table, 0}},
    sizeof(serve_opts),
    NULL,
    cmd_bench_serve};
