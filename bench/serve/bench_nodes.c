/* bench_nodes.c: `ciak bench serve --nodes N`: the viewers trial of `ciak bench serve` driven
 * through nginx in front of 1, 2, .. N `ciak serve --cluster` nodes on one PostgreSQL, each
 * cluster started and stopped by the one-machine cluster script (scripts/cluster.sh, the same
 * PostgreSQL, nginx configuration and node command line as `make cluster`), and the results
 * side by side (issue 13's benchmark).
 *
 * Per N, on a fresh cluster (its own folder: database, nginx cache, node caches, so nothing
 * is cached from the N before): the synthetic people imported, every node warmed, the viewers
 * search of `ciak bench serve` (new viewers at once at playback pace, doubling then bisecting
 * until one is late: the most served without a late segment), then one trial of the same
 * --cost-viewers viewers for every N, on which are measured
 *   - CPU seconds per personal segment: user + system time of the node processes (from
 *     /proc/PID/stat) over that trial, divided by the personal segments they rendered
 *     (look-ahead included: both are read once every node is idle again);
 *   - p95 of every segment's time from request to last byte, through nginx;
 * and, over the whole run, shared segments rendered, summed over the nodes, against the
 * distinct shared segments the viewers asked for: equal when each was rendered once across
 * the cluster.
 * On one machine the nodes share its cores: more nodes add no capacity there, so the figures
 * that say whether the cluster works are the CPU per personal segment (its ratio to one node)
 * and "shared rendered once"; the viewers column mostly shows the box, not the design.
 * Nothing printed names a person or a token; the script's and nodes' logs stay in the
 * temporary folder (--keep keeps it). */
#include "bench_serve.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Paths here are a short temporary folder plus a file name. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

typedef struct node_row {
    bool ran;
    int viewers_ok, viewers_fail;
    double cpu_s, personal, cpu_per_personal;
    double shared_rendered;
    int shared_asked;
    double seg_p95_ms, rss_mb;
    int segments;
} node_row;

/* `bash SCRIPT CMD` with the cluster's settings in its environment, output appended to
 * `log`; its exit status, -1 when it could not run. */
static int run_script(const bench_nodes_opts *o, const char *dir, int port, int nodes,
                      const char *people, const char *scenes, const char *script, const char *cmd,
                      const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        bench_child_log(log, true);
        char num[16];
        setenv("CLUSTER_DIR", dir, 1);
        snprintf(num, sizeof num, "%d", port);
        setenv("CLUSTER_PORT", num, 1);
        snprintf(num, sizeof num, "%d", nodes);
        setenv("CLUSTER_NODES", num, 1);
        setenv("CLUSTER_CAMPAIGNS", o->campaign, 1);
        setenv("CLUSTER_PEOPLE", people, 1);
        setenv("CLUSTER_SCENES", scenes, 1);
        setenv("CIAK", o->self, 1);
        if (o->size)
            setenv("CLUSTER_SIZE", o->size, 1);
        if (o->workers) {
            snprintf(num, sizeof num, "%d", o->workers);
            setenv("CLUSTER_WORKERS", num, 1);
        }
        execl("/bin/bash", "bash", script, cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A loopback port p with p .. p+count all free (nginx on p, the nodes after it). */
static int free_ports(int count)
{
    for (int tries = 0; tries < 50; tries++) {
        int base = 20000 + (int)(((unsigned)getpid() * 7919u + (unsigned)tries * 104729u) % 30000u);
        bool ok = true;
        for (int i = 0; ok && i <= count; i++) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)(base + i)),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return base;
    }
    return 0;
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (f && fscanf(f, "%d", &pid) != 1)
        pid = 0;
    if (f)
        fclose(f);
    return (pid_t)pid;
}

/* Warms every node as `ciak bench serve`'s `ciak warm` warms its one server: a node's first
 * render encodes the campaign's audio track and builds its pipelines (seconds), which a node
 * in service has long done. One person per node, asked of that node directly, up to their
 * first personal segment; shared segments are left to the trials, so each is rendered by its
 * home node when nginx first asks. Those people are not used again. */
static void warm_nodes(bench_ctx *b)
{
    bench_seg *segs = calloc(256, sizeof *segs);
    for (int i = 0; segs && i < b->node_count && b->next_link < b->link_count; i++) {
        bench_conn c;
        bench_conn_init(&c, b->node_ports[i], 0);
        c.timeout_s = 120;
        int n = bench_playlist(&c, &b->links[b->next_link++], segs, 256);
        bench_resp r = {0};
        for (int k = 0; k < n; k++)
            if (!segs[k].shared) {
                if (!bench_get(&c, segs[k].path, false, false, &r) || r.status != 200)
                    fprintf(stderr, "ciak bench: warming node %d: HTTP %d\n", i + 1, r.status);
                break;
            }
        bench_conn_close(&c);
    }
    free(segs);
    bench_wait_idle(b, 300);
}

/* One N: cluster up, warm-up, trials, measures, cluster down. */
static bool run_one(const bench_nodes_opts *o, const char *tmp, const char *people,
                    const char *scenes, const char *script, int n, node_row *row)
{
    char dir[256], log[256], links_csv[512], pidf[512];
    snprintf(dir, sizeof dir, "%s/n%d", tmp, n);
    snprintf(log, sizeof log, "%s/n%d.log", tmp, n);
    int port = free_ports(n);
    if (!port) {
        fprintf(stderr, "ciak bench: no free loopback ports for %d node(s)\n", n);
        return false;
    }
    double t0 = ck_now_s();
    bool ok = false;
    bench_link *links = NULL;
    bench_ctx b = {0};
    if (run_script(o, dir, port, n, people, scenes, script, "up", log) != 0) {
        fprintf(stderr, "ciak bench: %s up failed for %d node(s) (see %s with --keep)\n", script, n,
                log);
        goto down;
    }
    snprintf(links_csv, sizeof links_csv, "%s/links-%s.csv", dir, o->campaign);
    int nlinks = bench_read_links(links_csv, &links);
    b = (bench_ctx){.port = port,
                    .links = links,
                    .link_count = nlinks,
                    .node_count = n,
                    .play_s = o->play_s,
                    .buffer_s = o->buffer_s,
                    .startup_max_s = o->startup_max_s,
                    .max_viewers = o->max_viewers,
                    .record = true};
    for (int i = 0; i < n; i++) {
        snprintf(pidf, sizeof pidf, "%s/node%d.pid", dir, i + 1);
        b.node_ports[i] = port + i + 1;
        b.node_pids[i] = read_pid(pidf);
    }
    bench_wait_idle(&b, 300);
    double t_up = ck_now_s() - t0;
    t0 = ck_now_s();
    warm_nodes(&b);
    printf("\n%d node(s): %d people with links, cluster up in %.1f s, nodes warmed in %.1f s, "
           "nginx on port %d\n",
           n, nlinks, t_up, ck_now_s() - t0, port);
    fflush(stdout);
    bench_results r;
    memset(&r, 0, sizeof r);
    r.viewers_ok = -1;
    r.viewers_fail = -1;
    r.viewers_rss_mb = -1;
    bench_viewers(&b, &r);
    /* The cost trial: the same load for every N, on idle nodes. */
    b.seg_n = 0;
    printf("  cost trial, %d viewer(s) at once:\n", o->cost_viewers);
    bench_cost cost;
    if (!bench_cost_trial(&b, o->cost_viewers, &cost))
        goto down;
    row->cpu_s = cost.cpu_s;
    row->personal = cost.personal;
    row->cpu_per_personal = cost.per_personal;
    row->shared_rendered = bench_metric_sum(&b, "ciak_segments_rendered_total{kind=\"shared\"}");
    row->shared_asked = b.shared_n;
    row->segments = b.seg_n;
    row->seg_p95_ms = b.seg_n ? bench_quantile(b.seg_ms, b.seg_n, 0.95) : -1;
    row->viewers_ok = r.viewers_ok;
    row->viewers_fail = r.viewers_fail;
    row->rss_mb = r.viewers_rss_mb;
    row->ran = true;
    ok = true;
down:
    if (run_script(o, dir, port, n, people, scenes, script, "down", log) != 0)
        fprintf(stderr, "ciak bench: %s down failed (see %s with --keep)\n", script, log);
    free(links);
    free(b.seg_ms);
    free(b.shared_seen);
    return ok;
}

static void print_rows(const bench_nodes_opts *o, const node_row *rows)
{
    char v[64];
    printf("\n%-46s", "measure");
    for (int n = 1; n <= o->nodes; n++) {
        snprintf(v, sizeof v, "%d node%s", n, n > 1 ? "s" : "");
        printf(" %-14s", v);
    }
    printf("\n%-46s", "new viewers at once without a late segment");
    for (int n = 0; n < o->nodes; n++) {
        if (!rows[n].ran)
            snprintf(v, sizeof v, "-");
        else if (rows[n].viewers_fail >= 0)
            snprintf(v, sizeof v, "%d (%d late)", rows[n].viewers_ok, rows[n].viewers_fail);
        else
            snprintf(v, sizeof v, "%d (all)", rows[n].viewers_ok);
        printf(" %-14s", v);
    }
    printf("\n-- measured on the same trial for every node count, %d viewer(s) at once --",
           o->cost_viewers);
    printf("\n%-46s", "CPU s per personal segment (sum of nodes)");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%.3f", rows[n].cpu_per_personal);
        printf(" %-14s", rows[n].ran && rows[n].cpu_per_personal >= 0 ? v : "-");
    }
    printf("\n%-46s", "  ratio to one node");
    for (int n = 0; n < o->nodes; n++) {
        bool have = rows[n].ran && rows[0].ran && rows[n].cpu_per_personal > 0 &&
                    rows[0].cpu_per_personal > 0;
        snprintf(v, sizeof v, "%.2f",
                 have ? rows[n].cpu_per_personal / rows[0].cpu_per_personal : 0);
        printf(" %-14s", have ? v : "-");
    }
    printf("\n%-46s", "  personal segments rendered, CPU s");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%.0f, %.1f s", rows[n].personal, rows[n].cpu_s);
        printf(" %-14s", rows[n].ran ? v : "-");
    }
    printf("\n%-46s", "segment latency through nginx, p95");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%.0f ms", rows[n].seg_p95_ms);
        printf(" %-14s", rows[n].ran && rows[n].segments > 0 ? v : "-");
    }
    printf("\n%-46s", "  segments fetched");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%d", rows[n].segments);
        printf(" %-14s", rows[n].ran ? v : "-");
    }
    printf("\n-- over the whole run --");
    printf("\n%-46s", "shared segments rendered / distinct asked");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%.0f / %d%s", rows[n].shared_rendered, rows[n].shared_asked,
                 rows[n].shared_rendered == rows[n].shared_asked ? " once" : " NOT ONCE");
        printf(" %-14s", rows[n].ran ? v : "-");
    }
    printf("\n%-46s", "nodes' RSS at the best load (sum, peak)");
    for (int n = 0; n < o->nodes; n++) {
        snprintf(v, sizeof v, "%.0f MB", rows[n].rss_mb);
        printf(" %-14s", rows[n].ran && rows[n].rss_mb >= 0 ? v : "-");
    }
    printf("\n(%ld cores shared by every node, nginx and PostgreSQL: on one machine more nodes "
           "add no capacity; compare CPU per personal segment and shared-once, not viewers)\n",
           sysconf(_SC_NPROCESSORS_ONLN));
}

int bench_nodes_run(const bench_nodes_opts *o)
{
    char scenes[PATH_MAX], script[PATH_MAX], samples[PATH_MAX + 64];
    if (!realpath(o->scenes, scenes) || !realpath(o->script, script)) {
        fprintf(stderr,
                "ciak bench: %s or %s: %s (run from the repository's root, or give "
                "--scenes and --cluster-script)\n",
                o->scenes, o->script, strerror(errno));
        return 1;
    }
    char tmp[] = "/tmp/ciak-bench-nodes-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "ciak bench: cannot make a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    /* Started as root, nginx's workers and PostgreSQL run as nobody: they must reach their
     * folders under this one. Only synthetic people and logs without names live here. */
    chmod(tmp, 0755);
    int rc = 1;
    node_row rows[BENCH_MAX_NODES];
    memset(rows, 0, sizeof rows);
    char people[256];
    snprintf(people, sizeof people, "%s/people.json", tmp);
    snprintf(samples, sizeof samples, "%s/%s/samples.json", scenes, o->campaign);
    if (!bench_people_write(samples, o->people, people))
        goto done;
    char play[40] = "through the last personal segment";
    if (o->play_s > 0)
        snprintf(play, sizeof play, "the first %.0f s", o->play_s);
    printf("ciak bench serve --nodes %d: %s %s, %d people; per node count a fresh cluster "
           "(%s); viewers play %s, buffer %.0f s, startup <= %.1f s\n",
           o->nodes, o->campaign, o->size ? o->size : "canvas size", o->people, o->script, play,
           o->buffer_s, o->startup_max_s);
    fflush(stdout);
    rc = 0;
    for (int n = 1; n <= o->nodes; n++)
        if (!run_one(o, tmp, people, scenes, script, n, &rows[n - 1]))
            rc = 1;
    print_rows(o, rows);
done:
    if (o->keep) {
        fprintf(stderr, "ciak bench: kept %s\n", tmp);
    } else {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "ciak bench: could not remove %s\n", tmp);
    }
    return rc;
}
