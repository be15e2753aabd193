/* cmd_serve.c: `ciak serve`: the stream server in the foreground until SIGINT or SIGTERM. */
#include "ck_cli.h"
#include "ck_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ck_server *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        ck_server_stop(running); /* only sets a flag */
}

typedef struct serve_opts {
    ck_server_params p;
    ck_cli_store store;
    ck_cli_strs campaigns;
    ck_cli_size size;
    int cache_mb;
    int views_mb;
    const char *port_file;
} serve_opts;

static const ck_opt serve_table[] = {
    {.name = "--listen",
     .arg = "HOST:PORT",
     .help = "where to listen (port 0: a free one)",
     .def = "127.0.0.1:8080",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, p.listen)},
    {.name = "--scenes",
     .arg = "DIR",
     .help = "one folder per campaign",
     .def = "scenes",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, p.scenes_dir)},
    {.name = "--campaign",
     .arg = "ID",
     .help = "serve only this campaign (default: every scene folder)",
     .parse = ck_opt_list,
     .offset = offsetof(serve_opts, campaigns),
     .flags = CK_OPT_REPEAT},
    {.name = "--workers",
     .arg = "N",
     .help = "render threads (default: cores / 4, at least 1)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, p.workers),
     .lo = 1,
     .hi = 64},
    {.name = "--render-nice",
     .arg = "N",
     .help = "run the render threads at nice N (1-19), so that new viewers' playlists come "
             "before renders due later; for a node of its own, not a box shared with other "
             "work (default: 0, not niced)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, p.render_nice),
     .lo = 0,
     .hi = 19},
    {.name = "--encoder",
     .arg = "NAME",
     .help = "FFmpeg video encoder (default: the best one that works)",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, p.encoder)},
    {.name = "--cache-mb",
     .arg = "N",
     .help = "cap on the personal segments' cache, in MiB (default: 10 GiB)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, cache_mb),
     .lo = 1,
     .hi = 1 << 30},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size, even (default: each scene's canvas)",
     .parse = ck_opt_size_even,
     .offset = offsetof(serve_opts, size)},
    {.name = "--no-warm",
     .help = "do not render the shared segments at start-up",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, p.no_warm)},
    {.name = "--cluster",
     .help = "a node behind nginx (deploy/nginx): shared segments only when asked for by URL, "
             "no warm-up (docs/deploy.md)",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, p.cluster)},
    {.name = "--node-name",
     .arg = "NAME",
     .help = "this node's name in the X-Ciak-Node header and the metrics (default: the host name)",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, p.node_name)},
    {.name = "--admit-late-ms",
     .arg = "N",
     .help = "turn new viewers away (503 + Retry-After) when the viewers already here would be "
             "served N milliseconds late (default: 1000)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, p.admit_late_ms),
     .lo = 1,
     .hi = 600000},
    {.name = "--drain-s",
     .arg = "N",
     .help = "on SIGTERM: no new viewers, finish what this node holds, for at most N seconds; "
             "a second SIGTERM stops at once (default: 60)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, p.drain_s),
     .lo = 1,
     .hi = 3600},
    {.name = "--view-idle-s",
     .arg = "N",
     .help = "drop a viewer's view (digests, record, speech) from memory after N seconds with "
             "no request; it is made again if they come back (default: 60)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, p.view_idle_s),
     .lo = 1,
     .hi = 86400},
    {.name = "--views-mb",
     .arg = "N",
     .help = "cap on the memory the views hold, in MiB: past it the least recently used idle "
             "ones go first (default: 256)",
     .parse = ck_opt_int,
     .offset = offsetof(serve_opts, views_mb),
     .lo = 1,
     .hi = 1 << 20},
    {.name = "--trusted-proxies",
     .arg = "LIST",
     .help = "reverse proxies (addresses or CIDR blocks, comma-separated) whose "
             "X-Forwarded-For names the client; not capped per address (default: none)",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, p.trusted_proxies)},
    {.name = "--no-render",
     .help = "no GPU or encoder: pages and cached segments only (tests)",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, p.no_render)},
    {.name = "--access-log",
     .help = "one line per request (route, status, token tag, ms)",
     .parse = ck_opt_flag,
     .offset = offsetof(serve_opts, p.access_log)},
    {.name = "--port-file",
     .arg = "FILE",
     .help = "write the port listened on to FILE (tests)",
     .parse = ck_opt_str,
     .offset = offsetof(serve_opts, port_file)},
    {0},
};

static int cmd_serve(const void *opts)
{
    const serve_opts *o = opts;
    ck_server_params p = o->p;
    const char *port_file = o->port_file;
    p.data_dir = o->store.data_dir;
    p.db_url = o->store.db;
    p.keys_path = o->store.keys;
    p.width = o->size.w;
    p.height = o->size.h;
    p.cache_bytes = (int64_t)o->cache_mb << 20;
    p.views_bytes = (int64_t)o->views_mb << 20;
    if (o->campaigns.count)
        p.campaigns = o->campaigns.items;
    ck_error err = {0};
    ck_server *s = ck_server_create(&p, &err);
    if (!s) {
        char buf[1400];
        fprintf(stderr, "ciak serve: %s\n", ck_error_format(&err, buf, sizeof buf));
        return CK_EXIT_PROBLEMS;
    }
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%d\n", ck_server_port(s));
            fclose(f);
        }
    }
    running = s;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    ck_server_run(s);
    running = NULL;
    ck_log(CK_LOG_INFO, "stopping");
    ck_server_destroy(&s);
    return CK_EXIT_OK;
}

const ck_cli_cmd ck_cli_cmd_serve = {
    "serve",
    "the stream server, in the foreground until Ctrl-C (docs/server.md)",
    {{serve_table, 0}, {ck_cli_store_opts, offsetof(serve_opts, store)}},
    sizeof(serve_opts),
    NULL,
    cmd_serve};
