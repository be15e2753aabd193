/* cmd_serve.c: `ciak serve`: the stream server in the foreground until SIGINT or SIGTERM. */
#include "ck_cli.h"
#include "ck_server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: ciak serve [--listen 127.0.0.1:8080] [--data-dir ./var] [--scenes ./scenes]\n"
    "                  [--campaign ID]... [--workers N] [--encoder NAME] [--cache-mb N]\n"
    "                  [--size WxH] [--no-warm] [--no-render] [--access-log]\n"
    "                  [--port-file FILE]\n";

static ck_server *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        ck_server_stop(running); /* only sets a flag */
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int ck_cmd_serve(int argc, char **argv)
{
    ck_server_params p = {0};
    const char *campaigns[65] = {0}, *port_file = NULL;
    int ncamp = 0;
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool val = i + 1 < argc;
        if (strcmp(a, "--listen") == 0 && val)
            p.listen = argv[++i];
        else if (strcmp(a, "--data-dir") == 0 && val)
            p.data_dir = argv[++i];
        else if (strcmp(a, "--scenes") == 0 && val)
            p.scenes_dir = argv[++i];
        else if (strcmp(a, "--campaign") == 0 && val && ncamp < 64)
            campaigns[ncamp++] = argv[++i];
        else if (strcmp(a, "--encoder") == 0 && val)
            p.encoder = argv[++i];
        else if (strcmp(a, "--port-file") == 0 && val)
            port_file = argv[++i];
        else if (strcmp(a, "--workers") == 0 && val && parse_int(argv[i + 1], 1, 64, &v) && ++i)
            p.workers = (int)v;
        else if (strcmp(a, "--cache-mb") == 0 && val && parse_int(argv[i + 1], 1, 1L << 30, &v) &&
                 ++i)
            p.cache_bytes = (int64_t)v << 20;
        else if (strcmp(a, "--size") == 0 && val &&
                 sscanf(argv[i + 1], "%dx%d", &p.width, &p.height) == 2 && p.width > 0 &&
                 p.height > 0 && ++i)
            ;
        else if (strcmp(a, "--no-warm") == 0)
            p.no_warm = true;
        else if (strcmp(a, "--no-render") == 0)
            p.no_render = true;
        else if (strcmp(a, "--access-log") == 0)
            p.access_log = true;
        else {
            fprintf(stderr, "ciak serve: unexpected or malformed argument \"%s\"\n%s", a,
                    usage_text);
            return CK_EXIT_USAGE;
        }
    }
    if (ncamp)
        p.campaigns = campaigns;
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
