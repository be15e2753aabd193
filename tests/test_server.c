/* test_server.c: the server's routes over real HTTP on 127.0.0.1 (a free port), with a small
 * client on raw sockets so every byte sent is under the test's control. The main server runs
 * in this process without a renderer (no_render): pages, tokens, the store, cached segments,
 * Range, HEAD, limits, rate limiting and metrics; rendering is tested end to end by
 * tests/cli/server.sh. Cluster nodes (issue 13): two rendering nodes at 320x180 (a shared
 * segment asked for at once renders once per node, admission control, the drain; skipped
 * without a Vulkan device), and two nodes on one PostgreSQL (a revocation holds on both at
 * once; the database stopped under them answers 503, then they serve again by themselves).
 * People's views in memory (issue 15): dropped when idle or over the byte cap, never while
 * held, made again with the same playlist and segment bytes (a rendering node, skipped
 * without a Vulkan device).
 * Every socket has a receive timeout, so the test cannot hang. */
#include "ck_server.h"
#include "ck_template.h"
#include "ck_test.h"
#include "server_internal.h" /* the cache is tested directly too */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct resp {
    int status; /* 0: connection closed without an answer */
    char head[8192];
    char *body;
    size_t body_len;
} resp;

/* The server the client speaks to (per thread: the cluster tests ask two nodes at once). */
static _Thread_local int port;
/* How long the client waits for an answer: longer where an answer waits for a render. */
static int wait_s = 5;
/* The client's address: all of 127.0.0.0/8 is loopback on Linux, so the test can speak from
 * many addresses and prefixes (NULL: 127.0.0.1). */
static const char *client_addr;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = wait_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (client_addr) {
        struct sockaddr_in from = {.sin_family = AF_INET};
        inet_pton(AF_INET, client_addr, &from.sin_addr);
        if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads a whole response (the server closes: every request says Connection: close). */
static void read_resp(int fd, resp *r)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    ssize_t k;
    while (buf && (k = recv(fd, buf + n, cap - n, 0)) > 0) {
        n += (size_t)k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    memset(r, 0, sizeof *r);
    if (!buf)
        return;
    buf[n] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (n > 12 && strncmp(buf, "HTTP/1.1 ", 9) == 0 && end) {
        r->status = atoi(buf + 9);
        size_t hl = (size_t)(end - buf) + 2;
        memcpy(r->head, buf, hl < sizeof r->head ? hl : sizeof r->head - 1);
        r->body_len = n - (size_t)(end + 4 - buf);
        r->body = malloc(r->body_len + 1);
        memcpy(r->body, end + 4, r->body_len);
        r->body[r->body_len] = '\0';
    }
    free(buf);
}

static void request(const char *method, const char *path, const char *extra, resp *r)
{
    memset(r, 0, sizeof *r);
    int fd = dial();
    if (fd < 0)
        return;
    char req[4096];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n",
                     method, path, extra ? extra : "");
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n)
        read_resp(fd, r);
    close(fd);
}

static void get(const char *path, resp *r)
{
    request("GET", path, NULL, r);
}

/* Header value (copied into a static buffer), or NULL. */
static const char *header(const resp *r, const char *name)
{
    static char val[512];
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r");
            snprintf(val, sizeof val, "%.*s", (int)k, v);
            return val;
        }
    return NULL;
}

static void done(resp *r)
{
    free(r->body);
    r->body = NULL;
}

static bool contains(const resp *r, const char *s)
{
    return (r->body && strstr(r->body, s)) || strstr(r->head, s);
}

/* A token for the person `handle` of assegno-sociale. */
static void token_for(const ck_keyring *k, const uint8_t *handle, int32_t expires, char *out)
{
    ck_token_claims c = {.expires = expires};
    strcpy(c.campaign, "assegno-sociale");
    memcpy(c.handle, handle, CK_HANDLE_BYTES);
    ck_token_sign(k, &c, out);
}

typedef struct grab {
    uint8_t h[4][CK_HANDLE_BYTES];
    int n;
} grab;

static bool grab_handles(void *u, const ck_person *p)
{
    grab *g = u;
    if (g->n < 4)
        memcpy(g->h[g->n++], p->handle, CK_HANDLE_BYTES);
    return true;
}

static void write_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < n; i++)
        fputc('x', f);
    if (f)
        fclose(f);
}

/* A styled Italian error page: the INPS header, what to do next, the contact centre's
 * numbers as tel: links, the favicon; nothing of the person. */
static bool inps_page(const char *html)
{
    return html && strstr(html, "lang=\"it\"") && strstr(html, "class=\"top\"") &&
           strstr(html, ">INPS<") && strstr(html, "#0b3d91") && strstr(html, "Cosa può fare") &&
           strstr(html, "href=\"tel:803164\"") && strstr(html, "href=\"tel:+3906164164\"") &&
           strstr(html, "href=\"/favicon.ico\"") && strstr(html, "MyINPS") &&
           !strstr(html, "Addolorata") && !strstr(html, "AS-900");
}

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s = {.sin_family = AF_INET};
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

/* The guard's three budgets, directly: address (IPv6 /64), prefix (/24, /56), global. */
static void test_guard(void)
{
    srv_guard *g = srv_guard_create(&(srv_guard_params){
        .addr_limit = 3, .prefix_limit = 5, .global_limit = 12, .window_s = 60});
    CK_CHECK(g != NULL);
    if (!g)
        return;
    struct sockaddr_in a1 = v4("10.1.1.1"), a2 = v4("10.1.1.2"), b1 = v4("10.1.2.1");
    for (int i = 0; i < 3; i++)
        srv_guard_fail(g, &a1);
    CK_CHECK(srv_guard_blocked(g, &a1) > 0 && srv_guard_blocked(g, &a1) <= 60);
    CK_CHECK(srv_guard_blocked(g, &a2) == 0); /* same /24, the prefix still has room */
    srv_guard_fail(g, &a2);
    srv_guard_fail(g, &a2);                   /* the /24 has 5 now */
    CK_CHECK(srv_guard_blocked(g, &a2) > 0);  /* by the prefix, not its own 2 */
    CK_CHECK(srv_guard_blocked(g, &b1) == 0); /* another /24 */
    /* IPv4 mapped into IPv6 is the same address. */
    struct sockaddr_in6 m1 = v6("::ffff:10.1.1.1"), m9 = v6("::ffff:10.9.9.9");
    CK_CHECK(srv_guard_blocked(g, &m1) > 0 && srv_guard_blocked(g, &m9) == 0);
    /* IPv6: one /64 is one address; a /56 is one prefix. */
    struct sockaddr_in6 h1 = v6("2001:db8:0:100::1"), h2 = v6("2001:db8:0:100::2"),
                        n1 = v6("2001:db8:0:1ff::1"), far = v6("2001:db8:1::1");
    for (int i = 0; i < 3; i++)
        srv_guard_fail(g, &h1);
    CK_CHECK(srv_guard_blocked(g, &h2) > 0);  /* same /64 */
    CK_CHECK(srv_guard_blocked(g, &n1) == 0); /* same /56, another /64 */
    srv_guard_fail(g, &n1);
    srv_guard_fail(g, &n1);
    CK_CHECK(srv_guard_blocked(g, &far) == 0);
    /* 12 in all (3 + 2 + 3 + 2 + 2 more from other networks): every address waits. */
    struct sockaddr_in c1 = v4("10.3.0.1"), c2 = v4("10.4.0.1"), fresh = v4("10.5.0.1");
    srv_guard_fail(g, &c1);
    CK_CHECK(srv_guard_blocked(g, &fresh) == 0);
    srv_guard_fail(g, &c2);
    CK_CHECK(srv_guard_blocked(g, &fresh) > 0 && srv_guard_blocked(g, &far) > 0);
    CK_CHECK(srv_guard_blocked(g, NULL) > 0);
    srv_guard_destroy(&g);
    CK_CHECK(g == NULL);
}

/* QR codes: a valid PNG of the documented size and an SVG with the same module grid. */
static void test_qr(const char *dir)
{
    char png[600], svg[600], vb[64];
    snprintf(png, sizeof png, "%s/qr.png", dir);
    snprintf(svg, sizeof svg, "%s/qr.svg", dir);
    int modules = 0;
    ck_error err = {0};
    const char *url = "https://video.example.it/v/AQ9hc3NlZ25vLXNvY2lhbGXHYkPQ-c7QkcUhhhoAAFFSEvr2"
                      "s7abIuakOXY4gg-uIQ";
    CK_CHECK(ck_qr_write(url, png, svg, NULL, &modules, &err) == CK_OK);
    CK_CHECK(modules == 41); /* version 6 at level M, as docs/server.md says */
    char *b = NULL;
    size_t n = 0;
    CK_CHECK(ck_read_file(png, 0, &b, &n, &err) == CK_OK && n > 33);
    if (b && n > 33) {
        const uint8_t *u = (const uint8_t *)b;
        CK_CHECK(memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0);
        uint32_t w = (uint32_t)u[16] << 24 | (uint32_t)u[17] << 16 | (uint32_t)u[18] << 8 | u[19];
        CK_CHECK(w == (uint32_t)(modules + 8) * 10 && u[24] == 1 && u[25] == 0);
    }
    free(b);
    CK_CHECK(ck_read_file(svg, 0, &b, &n, &err) == CK_OK);
    snprintf(vb, sizeof vb, "viewBox=\"0 0 %d %d\"", modules + 8, modules + 8);
    CK_CHECK(b && strstr(b, vb) && strstr(b, "</svg>"));
    free(b);
    char huge[4000];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CK_CHECK(ck_qr_write(huge, png, NULL, NULL, NULL, &err) != CK_OK);
}

/* The segment cache: crash leftovers removed, LRU eviction over the cap, expiry by age. */
static void test_cache(const char *dir)
{
    char root[600], path[1200], cmd[1400];
    snprintf(root, sizeof root, "%s/cachetest", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/personal/aa %s/shared/c/1", root, root);
    CK_CHECK(system(cmd) == 0);
    const char *d1 = "aa00000000000000000000000000000000000000000000000000000000000001",
               *d2 = "aa00000000000000000000000000000000000000000000000000000000000002",
               *d3 = "aa00000000000000000000000000000000000000000000000000000000000003";
    snprintf(path, sizeof path, "%s/personal/aa/%s.ts", root, d1);
    write_bytes(path, 100);
    snprintf(path, sizeof path, "%s/personal/aa/%s.ts.tmp123-4", root, d2);
    write_bytes(path, 50); /* a render killed mid-way */
    snprintf(path, sizeof path, "%s/shared/c/1/%s.ts", root, d3);
    write_bytes(path, 0); /* empty: never complete */
    srv_metrics m;
    memset(&m, 0, sizeof m);
    ck_error err = {0};
    srv_cache *c = srv_cache_create(root, 250, &m, &err);
    CK_CHECK(c != NULL);
    if (!c)
        return;
    CK_CHECK(!ck_file_exists(path));
    snprintf(path, sizeof path, "%s/personal/aa/%s.ts.tmp123-4", root, d2);
    CK_CHECK(!ck_file_exists(path));
    CK_CHECK(atomic_load(&m.cache_bytes) == 100);
    /* d2 and d3 arrive (150 + 100 bytes): d1, the least recently used, goes. */
    srv_cache_personal_path(c, d2, path, sizeof path);
    write_bytes(path, 100);
    srv_cache_touch(c, d2, 100);
    srv_cache_touch(c, d1, -1); /* d1 served: now d2 is the oldest */
    srv_cache_personal_path(c, d3, path, sizeof path);
    write_bytes(path, 100);
    srv_cache_touch(c, d3, 100);
    srv_cache_personal_path(c, d2, path, sizeof path);
    CK_CHECK(!ck_file_exists(path));
    srv_cache_personal_path(c, d1, path, sizeof path);
    CK_CHECK(ck_file_exists(path));
    CK_CHECK(atomic_load(&m.cache_bytes) == 200);
    CK_CHECK(srv_cache_expire(c, 3600) == 0);
    CK_CHECK(srv_cache_expire(c, -10) == 2 && atomic_load(&m.cache_bytes) == 0);
    CK_CHECK(!ck_file_exists(path));
    srv_cache_destroy(&c);
}

/* ---- admission control's rule, on the queue alone ---- */
static atomic_bool release_jobs;

static srv_queue *test_queue;

/* A render that lasts until the test says so. */
static void held_run(ck_server *s, int worker, srv_job *job)
{
    (void)s;
    (void)worker;
    while (!atomic_load(&release_jobs))
        usleep(1000);
    srv_queue_done(test_queue, job, true);
}

static void push_job(srv_queue *q, const char *key, double deadline)
{
    srv_job j;
    memset(&j, 0, sizeof j);
    snprintf(j.key, sizeof j.key, "%s", key);
    j.deadline = deadline;
    CK_CHECK(srv_queue_push(q, &j, NULL, NULL));
}

/* One worker busy with the job due now; queued: one due 100 ms from now, one due in 5 s, and
 * warm-up. Played earliest deadline first at 1 s a render, the job due at +100 ms ends at
 * +2 s: 1.9 s late (plus however long after `now` the first one started). At the measured
 * 500 ms: 0.9 s. Warm-up never counts. */
static void test_lateness(void)
{
    srv_metrics m;
    memset(&m, 0, sizeof m);
    atomic_store(&release_jobs, false);
    srv_queue *q = test_queue = srv_queue_create(NULL, 1, held_run, &m);
    CK_CHECK(q != NULL);
    if (!q)
        return;
    double now = srv_now_ms(), late = -1;
    CK_CHECK(!srv_queue_lateness(q, now, 0, &late) && late == 0); /* nothing to go by */
    push_job(q, "due-now", now);
    push_job(q, "due-in-5s", now + 5000);
    push_job(q, "due-in-100ms", now + 100);
    push_job(q, "warm", SRV_WARM_DEADLINE);
    for (int k = 0; k < 2000 && atomic_load(&m.rendering) == 0; k++)
        usleep(1000);
    /* Held (what a drain waits for): the running job only; nobody waits on the others. */
    CK_CHECK(atomic_load(&m.rendering) == 1 && srv_queue_held(q) == 1);
    double drift = srv_now_ms() - now; /* the first job started within this */
    CK_CHECK(srv_queue_lateness(q, now, 1000, &late));
    CK_CHECK(late >= 1900 && late <= 1900 + drift);
    srv_queue_rendered(q, false, 500);
    CK_CHECK(srv_queue_lateness(q, now, 0, &late));
    CK_CHECK(late >= 900 && late <= 900 + drift);
    /* A draining node drops what nobody waits for (warm-up, look-ahead), not the running job. */
    CK_CHECK(srv_queue_drop_idle(q) == 3 && srv_queue_drop_idle(q) == 0);
    CK_CHECK(atomic_load(&m.queue_depth) == 0 && srv_queue_held(q) == 1);
    atomic_store(&release_jobs, true);
    srv_queue_destroy(&q);
}

/* A worker streaming (worker.c): after the job it was given it takes the queue's earliest
 * while its run function accepts it (here: keys of the same letter, as a renderer takes jobs
 * of its own campaign), and stops at the first it does not accept rather than skip ahead:
 * earliest deadline first holds across streams. */
static char stream_order[64];

static bool same_letter(void *ctx, const srv_job *j)
{
    return j->key[0] == *(const char *)ctx;
}

static void stream_run(ck_server *s, int worker, srv_job *job)
{
    (void)s;
    while (!atomic_load(&release_jobs))
        usleep(1000);
    char letter = job->key[0];
    srv_job *held[8];
    int n = 0;
    for (srv_job *j = job; j && n < 8;
         j = srv_queue_next(test_queue, worker, same_letter, &letter)) {
        held[n++] = j;
        strncat(stream_order, j->key, sizeof stream_order - strlen(stream_order) - 2);
        strcat(stream_order, n == 1 ? "+" : " ");
    }
    strcat(stream_order, "|");
    for (int i = 0; i < n; i++)
        srv_queue_done(test_queue, held[i], true);
}

/* When a waiting request is due: in order by the person's playback clock (within 10 s: a
 * player buffering ahead must not pass another viewer's segment due sooner), out of order (a
 * seek) within 2 s, the clock moving to it. Personal segments 3, 4 and 9-13, 2 s each. */
static void test_wait_deadline(void)
{
    ck_render_seg segs[15] = {0};
    for (int i = 0; i < 15; i++)
        segs[i].shared = !(i == 3 || i == 4 || (i >= 9 && i <= 13));
    srv_view v = {.view = {.segs = segs, .count = 15}};
    atomic_init(&v.last_asked, -1);
    double t = 1e6;
    CK_CHECK(srv_wait_deadline(&v, 3, 6, t) == t); /* no playlist yet: no clock, now */
    atomic_store(&v.play_ms, t);                   /* the first playlist, at t */
    CK_CHECK(srv_wait_deadline(&v, 3, 6, t + 100) == t + 6000);
    CK_CHECK(srv_wait_deadline(&v, 4, 8, t + 200) == t + 8000);
    /* 9 after 4 is in order (5-8 are shared): by the clock, but within 10 s of now */
    CK_CHECK(srv_wait_deadline(&v, 9, 18, t + 300) == t + 10300);
    CK_CHECK(srv_wait_deadline(&v, 9, 18, t + 9000) == t + 18000); /* asked again, later */
    CK_CHECK(atomic_load(&v.play_ms) == t);
    /* 13 after 9 skips 10-12: a seek, due within 2 s, and the clock moves to it */
    CK_CHECK(srv_wait_deadline(&v, 13, 26, t + 9500) == t + 11500);
    CK_CHECK(atomic_load(&v.play_ms) == t + 9500 - 26000);
    CK_CHECK(atomic_load(&v.last_asked) == 13);
    /* back to 10: out of order too (by the clock it was due at t + 3.5 s: at once); the clock
     * follows, and what comes after it is in order again */
    CK_CHECK(srv_wait_deadline(&v, 10, 20, t + 10000) == t + 3500);
    CK_CHECK(atomic_load(&v.play_ms) == t + 10000 - 20000);
    CK_CHECK(srv_wait_deadline(&v, 10, 20, t + 10100) == t + 10000); /* retried: in order */
    CK_CHECK(srv_wait_deadline(&v, 11, 22, t + 10200) == t + 12000);
    CK_CHECK(atomic_load(&v.last_asked) == 11);
}

static void test_stream_order(void)
{
    srv_metrics m;
    memset(&m, 0, sizeof m);
    stream_order[0] = '\0';
    atomic_store(&release_jobs, false);
    srv_queue *q = test_queue = srv_queue_create(NULL, 1, stream_run, &m);
    CK_CHECK(q != NULL);
    if (!q)
        return;
    double now = srv_now_ms();
    push_job(q, "a1", now + 10);
    for (int k = 0; k < 2000 && atomic_load(&m.rendering) == 0; k++)
        usleep(1000); /* the worker holds a1 */
    push_job(q, "a3", now + 300);
    push_job(q, "a2", now + 200);
    push_job(q, "b1", now + 400);
    push_job(q, "a4", now + 500);
    atomic_store(&release_jobs, true);
    for (int k = 0; k < 5000 && (atomic_load(&m.rendering) || atomic_load(&m.queue_depth)); k++)
        usleep(1000);
    CK_CHECK_STR(stream_order, "a1+a2 a3 |b1+|a4+|");
    CK_CHECK(atomic_load(&m.rendering) == 0 && atomic_load(&m.queue_depth) == 0);
    srv_queue_destroy(&q);
}

/* ---- cluster nodes ---- */
/* The value of metric `name` (with its labels) on the server `port` speaks to; -1: absent. */
static double metric(const char *name)
{
    resp r;
    get("/metrics", &r);
    char needle[200];
    snprintf(needle, sizeof needle, "\n%s ", name);
    const char *at = r.body ? strstr(r.body, needle) : NULL;
    double v = at ? strtod(at + strlen(needle), NULL) : -1;
    done(&r);
    return v;
}

static bool node_is(const resp *r, const char *name)
{
    const char *n = header(r, "X-Ciak-Node");
    return n && strcmp(n, name) == 0;
}

typedef struct find_person {
    const char *id;
    uint8_t handle[CK_HANDLE_BYTES];
    bool found;
} find_person;

static bool find_handle(void *u, const ck_person *p)
{
    find_person *f = u;
    if (strcmp(p->person_id, f->id) != 0)
        return true;
    memcpy(f->handle, p->handle, CK_HANDLE_BYTES);
    f->found = true;
    return false;
}

/* A person of assegno-sociale with every field the scene needs; `name` makes their personal
 * segments their own. Returns the link's token. */
static void person_link(ck_store *st, const ck_keyring *keys, const char *id, const char *name,
                        char tok[CK_TOKEN_MAX])
{
    char rec[512];
    snprintf(rec, sizeof rec,
             "{\"id\":\"%s\",\"first_name\":\"%s\",\"last_name\":\"Lo Russo\",\"gender\":\"M\","
             "\"decision_date\":\"2025-02-05\",\"first_payment_date\":\"2025-03-03\","
             "\"amount\":21240,\"deductions\":0,\"net_amount\":21240,\"arrears\":0}",
             id, name);
    ck_error err = {0};
    int32_t today = ck_today();
    CK_CHECK(ck_store_put(st, "assegno-sociale", id, rec, today + 30, NULL, &err) == CK_OK);
    find_person fp = {.id = id};
    CK_CHECK(ck_store_each(st, "assegno-sociale", find_handle, &fp, &err) == CK_OK && fp.found);
    token_for(keys, fp.handle, today + 30, tok);
}

/* Fetches every personal segment of the person's media playlist; true when each is a whole
 * MPEG-TS file (200, sync bytes every 188). `*count` gets how many. */
static bool personal_segments(const char *tok, int *count)
{
    char url[512];
    snprintf(url, sizeof url, "/v/%s/media.m3u8", tok);
    resp pl;
    get(url, &pl);
    bool ok = pl.status == 200 && pl.body;
    *count = 0;
    for (char *line = pl.body ? strtok(pl.body, "\n") : NULL; ok && line;
         line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '/')
            continue; /* tags, shared segments */
        resp r;
        snprintf(url, sizeof url, "/v/%s/%s", tok, line);
        get(url, &r);
        ok = r.status == 200 && r.body_len >= 188 && r.body_len % 188 == 0 &&
             (uint8_t)r.body[0] == 0x47 && (uint8_t)r.body[188] == 0x47;
        done(&r);
        (*count)++;
    }
    done(&pl);
    return ok && *count > 0;
}

typedef struct fetch {
    int port;
    char path[300];
    resp r;
} fetch;

static void *fetch_main(void *arg)
{
    fetch *f = arg;
    port = f->port;
    get(f->path, &f->r);
    return NULL;
}

static void *run_main(void *arg)
{
    ck_server_run(arg);
    return NULL;
}

/* Two nodes asked for one shared segment by URL at once, three viewers each, neither having
 * warmed it: each node renders it once (single flight), and both give the same bytes. */
static void test_shared_once(ck_server *a, ck_server *b)
{
    const srv_campaign *cp = &a->campaigns[0];
    int seg = 0;
    while (seg < cp->shared.count && !cp->shared.segs[seg].shared)
        seg++;
    CK_CHECK(seg < cp->shared.count);
    if (seg >= cp->shared.count)
        return;
    fetch f[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        memset(&f[i], 0, sizeof f[i]);
        f[i].port = ck_server_port(i < 3 ? a : b);
        snprintf(f[i].path, sizeof f[i].path, "/c/%s/%d/%s.ts", cp->id, cp->version,
                 cp->shared.segs[seg].digest);
        pthread_create(&th[i], NULL, fetch_main, &f[i]);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) {
        CK_CHECK(f[i].r.status == 200 && f[i].r.body_len > 188 && (uint8_t)f[i].r.body[0] == 0x47);
        CK_CHECK(node_is(&f[i].r, i < 3 ? "n1" : "n2"));
        CK_CHECK(f[i].r.body_len == f[0].r.body_len &&
                 memcmp(f[i].r.body, f[0].r.body, f[0].r.body_len) == 0);
    }
    for (int i = 0; i < 6; i++)
        done(&f[i].r);
    const char *shared = "ciak_segments_rendered_total{kind=\"shared\"}";
    port = ck_server_port(a);
    CK_CHECK(metric(shared) == 1);
    port = ck_server_port(b);
    CK_CHECK(metric(shared) == 1);
}

/* Admission control on a node that assumes a minute per render: the first viewer's backlog
 * cannot be played in time, so the next new viewer is refused (503, Retry-After, the page
 * that reloads itself) while the first one gets every segment; once the backlog is done, the
 * new viewer is taken. Then the drain: after ck_server_stop, /healthz says draining (503),
 * a new viewer is refused, the viewer already watching gets every segment, and
 * ck_server_run returns with nothing held. */
static void test_admission_drain(ck_server *a, const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/keys", dir);
    ck_keyring keys;
    ck_error err = {0};
    CK_CHECK(ck_keyring_load(path, false, &keys, &err) == CK_OK);
    ck_store *st = ck_store_open_at(dir, NULL, &(ck_store_params){.keys = &keys}, &err);
    CK_CHECK(st != NULL);
    if (!st)
        return;
    char t1[CK_TOKEN_MAX], t2[CK_TOKEN_MAX], t3[CK_TOKEN_MAX], url[512];
    person_link(st, &keys, "AS-9101", "Pierluigi", t1);
    person_link(st, &keys, "AS-9102", "Bartolomeo", t2);
    person_link(st, &keys, "AS-9103", "Massimiliano", t3);
    port = ck_server_port(a);
    resp r;
    snprintf(url, sizeof url, "/v/%s/index.m3u8", t1);
    get(url, &r);
    CK_CHECK(r.status == 200 && node_is(&r, "n1")); /* nothing queued: taken */
    done(&r);
    snprintf(url, sizeof url, "/v/%s/index.m3u8", t2);
    get(url, &r);
    CK_CHECK(r.status == 503 && header(&r, "Retry-After") && atoi(header(&r, "Retry-After")) > 0);
    CK_CHECK(node_is(&r, "n1"));
    done(&r);
    snprintf(url, sizeof url, "/v/%s", t2);
    get(url, &r);
    CK_CHECK(r.status == 503 && header(&r, "Retry-After") && inps_page(r.body) &&
             contains(&r, "Molte richieste") && contains(&r, "http-equiv=\"refresh\""));
    done(&r);
    CK_CHECK(metric("ciak_admission_refused_total") == 2);
    CK_CHECK(metric("ciak_render_lateness_seconds") > 3);
    int n1 = 0, n2 = 0;
    CK_CHECK(personal_segments(t1, &n1)); /* the viewer already watching is served */
    snprintf(url, sizeof url, "/v/%s/index.m3u8", t2);
    get(url, &r);
    CK_CHECK(r.status == 200); /* the backlog is done: a new viewer is taken again */
    done(&r);
    CK_CHECK(metric("ciak_admission_refused_total") == 2);

    /* The drain, as SIGTERM starts it in `ciak serve`. */
    pthread_t th;
    CK_CHECK(pthread_create(&th, NULL, run_main, a) == 0);
    ck_server_stop(a);
    bool draining = false;
    for (int k = 0; k < 400 && !draining; k++) {
        get("/healthz", &r);
        draining = r.status == 503 && contains(&r, "draining") && header(&r, "Retry-After");
        done(&r);
        if (!draining)
            usleep(10 * 1000);
    }
    CK_CHECK(draining);
    get("/livez", &r); /* alive all the same: a liveness probe must not restart it */
    CK_CHECK(r.status == 200);
    done(&r);
    snprintf(url, sizeof url, "/v/%s", t3);
    get(url, &r);
    CK_CHECK(r.status == 503 && header(&r, "Retry-After") && contains(&r, "Molte richieste"));
    done(&r);
    snprintf(url, sizeof url, "/v/%s/index.m3u8", t3);
    get(url, &r);
    CK_CHECK(r.status == 503);
    done(&r);
    CK_CHECK(personal_segments(t2, &n2)); /* already watching: served to the end */
    CK_CHECK(n1 > 0 && n2 == n1);
    CK_CHECK(metric("ciak_admission_refused_total") == 4);
    CK_CHECK(metric("ciak_draining") == 1);
    pthread_join(th, NULL); /* the drain ended: ck_server_run returned */
    CK_CHECK(srv_queue_held(a->queue) == 0);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
}

static ck_server *render_node(const char *dir, const char *name)
{
    static const char *campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .data_dir = dir,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .campaigns = campaigns,
                          .cluster = true,
                          .node_name = name,
                          /* Both nodes' bytes are compared: libx264 0.164 reads past its
                           * own buffers at tiny sizes (docs/rendering.md), so at
                           * 64x36 they matched by luck (they differed in a full run). */
                          .width = 320,
                          .height = 180,
                          .workers = 1,
                          .http_threads = 4,
                          .admit_render_ms = 60000,
                          .drain_idle_s = 1};
    ck_error err = {0};
    ck_server *s = ck_server_create(&p, &err);
    if (!s) {
        char buf[1400];
        fprintf(stderr, "render node: %s\n", ck_error_format(&err, buf, sizeof buf));
    }
    return s;
}

/* Two rendering cluster nodes, each with its own data folder (as two machines). */
static void test_render_nodes(const char *dir)
{
    char d1[700], d2[700];
    snprintf(d1, sizeof d1, "%s/n1", dir);
    snprintf(d2, sizeof d2, "%s/n2", dir);
    ck_server *a = render_node(d1, "n1");
    if (!a) { /* no Vulkan device here: cli/cluster.sh skips likewise */
        fprintf(stderr, "test_server: no renderer, rendering cluster nodes not tested\n");
        return;
    }
    ck_server *b = render_node(d2, "n2");
    CK_CHECK(b != NULL);
    wait_s = 300; /* answers wait for renders */
    if (b)
        test_shared_once(a, b);
    ck_server_destroy(&b);
    test_admission_drain(a, d1);
    ck_server_destroy(&a);
    wait_s = 5;
}

/* ---- people's views in memory (issue 15) ---- */
/* The person `id`'s handle and revision in the store. */
static void person_handle(ck_store *st, const char *id, uint8_t handle[CK_HANDLE_BYTES],
                          int64_t *rev)
{
    ck_error err = {0};
    find_person fp = {.id = id};
    CK_CHECK(ck_store_each(st, "assegno-sociale", find_handle, &fp, &err) == CK_OK && fp.found);
    memcpy(handle, fp.handle, CK_HANDLE_BYTES);
    CK_CHECK(ck_store_peek(st, "assegno-sociale", handle, rev, NULL, &err) == CK_OK);
}

/* Asks for `what` of the link `tok` (200 expected); the body is kept in *r. */
static void get_person(const char *tok, const char *what, resp *r)
{
    char url[512];
    snprintf(url, sizeof url, "/v/%s/%s", tok, what);
    get(url, r);
    CK_CHECK(r->status == 200);
}

/* Until no render is queued or running (the look-ahead's jobs hold their view). */
static void wait_renders(ck_server *s)
{
    for (int k = 0;
         k < 3000 && (metric("ciak_render_queue_depth") != 0 ||
                      metric("ciak_renders_in_progress") != 0 || srv_queue_held(s->queue) != 0);
         k++)
        usleep(10 * 1000);
}

/* A running server's view limits (views_bytes 0: unchanged), under its view lock as the
 * sweep reads them. */
static void set_view_limits(ck_server *s, int idle_s, int64_t bytes)
{
    pthread_mutex_lock(&s->view_lock);
    s->p.view_idle_s = idle_s;
    if (bytes)
        s->p.views_bytes = bytes;
    pthread_mutex_unlock(&s->view_lock);
}

#define MAX_PERSONAL 64
/* The person's personal segments: their names (from the media playlist) and bytes. */
typedef struct personal_set {
    char name[MAX_PERSONAL][80];
    resp seg[MAX_PERSONAL];
    int n;
} personal_set;

static void fetch_personal(const char *tok, const resp *playlist, personal_set *ps)
{
    char *copy = strdup(playlist->body ? playlist->body : "");
    ps->n = 0;
    for (char *line = strtok(copy, "\n"); line && ps->n < MAX_PERSONAL; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '/')
            continue; /* tags, shared segments */
        snprintf(ps->name[ps->n], sizeof ps->name[ps->n], "%s", line);
        get_person(tok, line, &ps->seg[ps->n]);
        ps->n++;
    }
    free(copy);
}

/* Views nobody uses leave memory after the idle time, a view someone holds stays, a view made
 * again gives the same playlist and the same segment bytes (its lines said again), and past
 * the byte cap the least recently used idle view goes first. */
static void test_views(const char *dir)
{
    static const char *campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .data_dir = dir,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .campaigns = campaigns,
                          .no_warm = true,
                          .node_name = "views",
                          /* Byte for byte from a view made again: libx264 0.164 reads
                           * past its own buffers below ~320 px (engine/render/README.md). */
                          .width = 320,
                          .height = 180,
                          .workers = 1,
                          .http_threads = 4,
                          .admit_late_ms = -1,
                          .view_idle_s = 3600}; /* 1 s once the views are made: below */
    ck_error err = {0};
    ck_server *s = ck_server_create(&p, &err);
    if (!s) { /* no Vulkan device here: as test_render_nodes */
        fprintf(stderr, "test_server: no renderer, views not tested\n");
        return;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/keys", dir);
    ck_keyring keys;
    CK_CHECK(ck_keyring_load(path, false, &keys, &err) == CK_OK);
    ck_store *st = ck_store_open_at(dir, NULL, &(ck_store_params){.keys = &keys}, &err);
    CK_CHECK(st != NULL);
    if (!st) {
        ck_server_destroy(&s);
        return;
    }
    char t1[CK_TOKEN_MAX], t2[CK_TOKEN_MAX], t3[CK_TOKEN_MAX];
    person_link(st, &keys, "AS-9201", "Ermenegildo", t1);
    person_link(st, &keys, "AS-9202", "Gualtiero", t2);
    person_link(st, &keys, "AS-9203", "Sigismondo", t3);
    uint8_t h2[CK_HANDLE_BYTES], h3[CK_HANDLE_BYTES];
    int64_t rev2 = 0, rev3 = 0;
    person_handle(st, "AS-9202", h2, &rev2);
    person_handle(st, "AS-9203", h3, &rev3);
    port = ck_server_port(s);
    wait_s = 300; /* answers wait for renders */

    /* Three viewers: one plays every personal segment, two only make their views. */
    resp pl1, r;
    get_person(t1, "media.m3u8", &pl1);
    personal_set *before = calloc(1, sizeof *before), *after = calloc(1, sizeof *after);
    CK_CHECK(before && after);
    if (!before || !after)
        goto out;
    fetch_personal(t1, &pl1, before);
    CK_CHECK(before->n > 0);
    get_person(t2, "captions.vtt", &r);
    done(&r);
    get_person(t3, "captions.vtt", &r);
    done(&r);
    CK_CHECK(metric("ciak_views_held") == 3);
    double speech = metric("ciak_views_speech_bytes"); /* every campaign speaks */
    CK_CHECK(speech > 3 * 100e3 && metric("ciak_views_bytes") > speech);
    CK_CHECK(metric("ciak_views_dropped_total") == 0);

    /* The third viewer's view is in use (as a request or a queued render holds it). */
    bool fresh = true;
    srv_view *held = srv_view_get(s, 0, h3, rev3, &fresh);
    CK_CHECK(held && !fresh && held->ready);
    wait_renders(s);
    /* Short from here: set while the views were made, a slow build (sanitizers) would see
     * them go between two requests. */
    set_view_limits(s, 1, 0);
    usleep(1100 * 1000); /* past view_idle_s */
    CK_CHECK(srv_view_sweep(s) == 2);
    CK_CHECK(metric("ciak_views_held") == 1 && metric("ciak_views_dropped_total") == 2);
    CK_CHECK(metric("ciak_views_speech_bytes") > 100e3 &&
             metric("ciak_views_speech_bytes") < speech);
    CK_CHECK(srv_view_exists(s, 0, h3) && !srv_view_exists(s, 0, h2));
    srv_view_unref(s, held);
    usleep(1100 * 1000);
    CK_CHECK(srv_view_sweep(s) == 1);
    CK_CHECK(metric("ciak_views_held") == 0 && metric("ciak_views_bytes") == 0 &&
             metric("ciak_views_speech_bytes") == 0);
    set_view_limits(s, 3600, 0);

    /* Made again, with the first viewer's segments gone from the cache: the same playlist,
     * and the same bytes rendered from the lines said again. */
    for (int i = 0; i < before->n; i++) {
        char digest[80], file[1024];
        snprintf(digest, sizeof digest, "%.*s", CK_RENDER_DIGEST_HEX - 1, before->name[i]);
        srv_cache_personal_path(s->cache, digest, file, sizeof file);
        CK_CHECK(unlink(file) == 0);
    }
    double made = metric("ciak_views_made_total");
    resp pl2;
    get_person(t1, "media.m3u8", &pl2);
    CK_CHECK(metric("ciak_views_made_total") == made + 1);
    CK_CHECK(pl1.body && pl2.body && strcmp(pl1.body, pl2.body) == 0);
    fetch_personal(t1, &pl2, after);
    CK_CHECK(after->n == before->n);
    for (int i = 0; i < before->n && i < after->n; i++)
        CK_CHECK(after->seg[i].body_len == before->seg[i].body_len &&
                 memcmp(after->seg[i].body, before->seg[i].body, before->seg[i].body_len) == 0);
    done(&pl2);
    wait_renders(s);

    /* The byte cap: over it, the least recently used idle view goes at once, never the one
     * being made. */
    set_view_limits(s, 3600, 1);
    get_person(t2, "captions.vtt", &r);
    done(&r);
    CK_CHECK(srv_view_exists(s, 0, h2) && metric("ciak_views_held") == 1);
    get_person(t3, "captions.vtt", &r);
    done(&r);
    CK_CHECK(srv_view_exists(s, 0, h3) && !srv_view_exists(s, 0, h2));
    CK_CHECK(metric("ciak_views_held") == 1);
out:
    for (int i = 0; before && i < before->n; i++)
        done(&before->seg[i]);
    for (int i = 0; after && i < after->n; i++)
        done(&after->seg[i]);
    free(before);
    free(after);
    done(&pl1);
    wait_s = 5;
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    ck_server_destroy(&s);
}

#define PG_SH "bash " CK_SOURCE_DIR "/tests/support/pg.sh"

static int shf(const char *fmt, const char *arg)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, fmt, arg);
    return system(cmd);
}

/* Two nodes on one PostgreSQL, without a renderer: a revocation made through the store holds
 * on both nodes at once (no node caches a person); the database stopped under them answers
 * 503 with Retry-After and no crash, and once it is back both serve again by themselves. */
static void test_pg_nodes(const char *dir)
{
    char pgdir[700], url[200] = "", cmd[800];
    /* Its own folder in /tmp: PostgreSQL runs as nobody when we are root, and the test's
     * folder is private. */
    snprintf(pgdir, sizeof pgdir, "/tmp/ck_test_server_pg_XXXXXX");
    if (!mkdtemp(pgdir)) {
        CK_CHECK(!"mkdtemp");
        return;
    }
    snprintf(cmd, sizeof cmd, PG_SH " start %s %ld", pgdir, (long)getpid());
    FILE *f = popen(cmd, "r");
    bool ok = f && fgets(url, sizeof url, f) != NULL;
    ok = f && pclose(f) == 0 && ok;
    url[strcspn(url, "\n")] = '\0';
    CK_CHECK(ok && strncmp(url, "postgresql://", 13) == 0);
    if (!ok) {
        fprintf(stderr, "test_server: PostgreSQL test server did not start (pg.sh above)\n");
        return;
    }
    char keys_path[800], d1[700], d2[700], tok[CK_TOKEN_MAX], tok2[CK_TOKEN_MAX], path[600];
    snprintf(keys_path, sizeof keys_path, "%s/keys", dir); /* the main server's */
    snprintf(d1, sizeof d1, "%s/pg1", dir);
    snprintf(d2, sizeof d2, "%s/pg2", dir);
    ck_keyring keys;
    ck_error err = {0};
    CK_CHECK(ck_keyring_load(keys_path, false, &keys, &err) == CK_OK);
    ck_store *st = ck_store_open_at(dir, url, &(ck_store_params){.keys = &keys}, &err);
    CK_CHECK(st != NULL);
    const char *campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .db_url = url,
                          .keys_path = keys_path,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .campaigns = campaigns,
                          .no_render = true,
                          .http_threads = 2};
    p.data_dir = d1;
    p.node_name = "pg1";
    ck_server *a = st ? ck_server_create(&p, &err) : NULL;
    p.data_dir = d2;
    p.node_name = "pg2";
    ck_server *b = a ? ck_server_create(&p, &err) : NULL;
    CK_CHECK(a && b);
    if (a && b) {
        person_link(st, &keys, "AS-9201", "Pierluigi", tok);
        person_link(st, &keys, "AS-9202", "Bartolomeo", tok2);
        ck_server *nodes[2] = {a, b};
        resp r;
        for (int i = 0; i < 2; i++) {
            port = ck_server_port(nodes[i]);
            snprintf(path, sizeof path, "/v/%s", tok2);
            get(path, &r);
            CK_CHECK(r.status == 200 && node_is(&r, i ? "pg2" : "pg1"));
            done(&r);
        }
        /* `ciak revoke` on any node is this: every node answers 404 from the next request. */
        CK_CHECK(ck_store_revoke(st, "assegno-sociale", "AS-9202", &err) == CK_OK);
        for (int i = 0; i < 2; i++) {
            port = ck_server_port(nodes[i]);
            get(path, &r);
            CK_CHECK(r.status == 404);
            done(&r);
        }
        /* The database away: 503 with Retry-After on both, twice (the second without waiting
         * on the store), and the nodes stay up. */
        CK_CHECK(shf(PG_SH " down %s", pgdir) == 0);
        snprintf(path, sizeof path, "/v/%s", tok);
        for (int i = 0; i < 2; i++) {
            port = ck_server_port(nodes[i]);
            for (int k = 0; k < 2; k++) {
                get(path, &r);
                CK_CHECK(r.status == 503 && header(&r, "Retry-After") && inps_page(r.body));
                done(&r);
            }
            get("/healthz", &r);
            CK_CHECK(r.status == 200);
            done(&r);
            CK_CHECK(metric("ciak_store_unavailable_total") >= 2);
        }
        /* Back: each node reconnects on its own and serves the link again. */
        CK_CHECK(shf(PG_SH " up %s", pgdir) == 0);
        for (int i = 0; i < 2; i++) {
            port = ck_server_port(nodes[i]);
            int status = 0;
            for (int k = 0; k < 300 && status != 200; k++) {
                get(path, &r);
                status = r.status;
                done(&r);
                if (status != 200)
                    usleep(50 * 1000);
            }
            CK_CHECK(status == 200);
        }
    }
    ck_server_destroy(&a);
    ck_server_destroy(&b);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    shf(PG_SH " clean %s", pgdir);
}

/* Paths the routes may see: nothing that climbs, nothing still encoded. */
static void test_url_safe(void)
{
    static const char *const good[] = {
        "/", "/healthz", "/v/abc-_~/index.m3u8", "/static/player.js", "/c/x/1/ab.ts", "/admin/"};
    static const char *const bad[] = {"",
                                      "healthz",
                                      "/static/../keys",
                                      "/static/..",
                                      "/v/t/..",
                                      "/static/%2e%2e/keys",
                                      "/static/..%2fkeys",
                                      "/static/%252e%252e/x",
                                      "/static/player.js%00.png",
                                      "/static/..\\keys",
                                      "/static/%c0%ae%c0%ae/keys",
                                      "/static//etc/passwd",
                                      "/static/\xc3\xa0",
                                      "/static/a b",
                                      "/static/\x01"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CK_CHECK(srv_url_safe(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CK_CHECK(!srv_url_safe(bad[i]));
}

/* Every route, every trick: never a file outside the data folder, never a 200 (but for the
 * one encoded unreserved character, which is the same path). */
static void test_path_tricks(void)
{
    static const char *const routes[] = {"/v/", "/c/", "/static/", "/admin/", "/"};
    static const char *const tricks[] = {"..%2f..%2f..%2fetc%2fpasswd",
                                         "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                                         "%2e%2e%2f%2e%2e%2fkeys",
                                         "%252e%252e%252fkeys",
                                         "..%5c..%5ckeys",
                                         "..\\..\\keys",
                                         "%c0%ae%c0%ae/%c0%ae%c0%ae/keys",
                                         "%e0%80%ae%e0%80%ae/keys",
                                         "player.js%00.png",
                                         "keys%00",
                                         "../../../../etc/passwd",
                                         "..;/keys",
                                         "%2fetc%2fpasswd",
                                         "/etc/passwd",
                                         "%u002e%u002e/keys",
                                         "....//....//keys"};
    resp r;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        for (size_t k = 0; k < sizeof tricks / sizeof tricks[0]; k++) {
            char url[300];
            snprintf(url, sizeof url, "%s%s", routes[i], tricks[k]);
            get(url, &r);
            CK_CHECK(r.status == 404 || r.status == 400);
            CK_CHECK(!contains(&r, "root:") && !contains(&r, "ck_admin"));
            done(&r);
        }
    get("/static/player%2ejs", &r); /* '.' encoded is still '.' */
    CK_CHECK(r.status == 200);
    done(&r);
}

/* Behind a trusted proxy: the proxy is not capped per address, and X-Forwarded-For names the
 * client for the bad-link guard; from any other peer the header is ignored. */
static void test_proxies(const char *dir)
{
    const char *campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .data_dir = dir,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .campaigns = campaigns,
                          .no_render = true,
                          .fail_limit = 3,
                          .fail_prefix_limit = 1000,
                          .fail_global_limit = 1000,
                          .timeout_s = 5,
                          .per_ip_connections = 4,
                          .trusted_proxies = "10.0.0.0/8, 127.0.0.1,::1",
                          .http_threads = 2};
    ck_error err = {0};
    ck_server_params wrong = p;
    wrong.trusted_proxies = "127.0.0.1/33";
    CK_CHECK(ck_server_create(&wrong, &err) == NULL && strstr(err.msg, "trusted-proxies"));
    wrong.trusted_proxies = "nginx";
    CK_CHECK(ck_server_create(&wrong, &err) == NULL && strstr(err.msg, "\"nginx\""));
    ck_server *s = ck_server_create(&p, &err);
    CK_CHECK(s != NULL);
    if (!s)
        return;
    int saved = port;
    port = ck_server_port(s);
    resp r;
    /* The proxy (127.0.0.1) holds 10 idle connections, over the cap of 4: still served. */
    int fds[10];
    for (int i = 0; i < 10; i++)
        fds[i] = dial();
    usleep(100 * 1000);
    get("/healthz", &r);
    CK_CHECK(r.status == 200);
    done(&r);
    for (int i = 0; i < 10; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    /* Another peer is capped at 4. */
    client_addr = "127.0.0.2";
    for (int i = 0; i < 4; i++)
        fds[i] = dial();
    usleep(100 * 1000);
    fds[4] = dial();
    char b[64];
    CK_CHECK(fds[4] < 0 || recv(fds[4], b, sizeof b, 0) <= 0);
    for (int i = 0; i < 5; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    usleep(100 * 1000);
    /* Through the proxy: client 203.0.113.7 reaches its limit (3), 198.51.100.9 does not. */
    client_addr = NULL;
    int n404 = 0;
    for (int k = 0; k < 3; k++) {
        request("GET", "/v/not-a-token", "X-Forwarded-For: 203.0.113.7\r\n", &r);
        n404 += r.status == 404;
        done(&r);
    }
    CK_CHECK(n404 == 3);
    /* A forged entry left of the real one changes nothing; a trusted hop right of it neither. */
    request("GET", "/v/not-a-token", "X-Forwarded-For: 198.51.100.1, 203.0.113.7, 10.1.2.3\r\n",
            &r);
    CK_CHECK(r.status == 429 && header(&r, "Retry-After"));
    done(&r);
    request("GET", "/v/not-a-token", "X-Forwarded-For: 198.51.100.9\r\n", &r);
    CK_CHECK(r.status == 404);
    done(&r);
    /* An untrusted peer cannot choose its address with the header. */
    client_addr = "127.0.0.3";
    int n429 = 0;
    for (int k = 0; k < 5; k++) {
        char h[80];
        snprintf(h, sizeof h, "X-Forwarded-For: 192.0.2.%d\r\n", k + 1);
        request("GET", "/v/not-a-token", h, &r);
        n429 += r.status == 429;
        done(&r);
    }
    CK_CHECK(n429 == 2);
    client_addr = NULL;
    get("/metrics", &r);
    CK_CHECK(contains(&r, "ciak_http_connections_refused_total 1") &&
             contains(&r, "ciak_storage_errors_total{kind=\"nospace\"} 0"));
    done(&r);
    port = saved;
    ck_server_destroy(&s);
}

int main(void)
{
    char dir[] = "/tmp/ck_test_server_XXXXXX", path[1024];
    CK_CHECK(mkdtemp(dir) != NULL);
    const char *campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .data_dir = dir,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .campaigns = campaigns,
                          .no_render = true,
                          .fail_limit = 6,
                          .fail_prefix_limit = 15,
                          .fail_global_limit = 1000,
                          .fail_window_s = 60,
                          .timeout_s = 1,
                          .per_ip_connections = 8,
                          .http_threads = 2,
                          .node_name = "node-a"};
    ck_error err = {0};
    ck_server *s = ck_server_create(&p, &err);
    if (!s) {
        char buf[1400];
        fprintf(stderr, "server: %s\n", ck_error_format(&err, buf, sizeof buf));
        CK_CHECK(s != NULL);
        return ck_test_done("test_server");
    }
    port = ck_server_port(s);
    CK_CHECK(port > 0);

    /* The key file was made on first run, private. */
    struct stat sb;
    snprintf(path, sizeof path, "%s/keys", dir);
    CK_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);

    /* People, as `ciak import` stores them (a second connection: WAL lets both in). */
    ck_keyring keys;
    CK_CHECK(ck_keyring_load(path, false, &keys, &err) == CK_OK);
    snprintf(path, sizeof path, "%s/ciak.db", dir);
    ck_store *st = ck_store_open(path, &(ck_store_params){.keys = &keys}, &err);
    CK_CHECK(st != NULL);
    int32_t today = ck_today();
    const char *rec = "{\"id\":\"AS-9001\",\"first_name\":\"Addolorata\"}";
    CK_CHECK(ck_store_put(st, "assegno-sociale", "AS-9001", rec, today + 30, NULL, &err) == CK_OK);
    CK_CHECK(ck_store_put(st, "assegno-sociale", "AS-9002", rec, today + 30, NULL, &err) == CK_OK);
    grab g = {0};
    CK_CHECK(ck_store_each(st, "assegno-sociale", grab_handles, &g, &err) == CK_OK && g.n == 2);
    char tok[CK_TOKEN_MAX], expired[CK_TOKEN_MAX], tok2[CK_TOKEN_MAX], url[512];
    token_for(&keys, g.h[0], today + 30, tok);
    token_for(&keys, g.h[0], today - 1, expired);
    token_for(&keys, g.h[1], today + 30, tok2);
    resp r;

    /* Health, and the warm-up's state (none without a renderer). */
    get("/healthz", &r);
    CK_CHECK(r.status == 200 && r.body && strncmp(r.body, "ok\n", 3) == 0 &&
             strstr(r.body, "warm-up: off"));
    CK_CHECK(node_is(&r, "node-a")); /* every answer names its node */
    done(&r);
    get("/nothing", &r);
    CK_CHECK(r.status == 404 && node_is(&r, "node-a"));
    done(&r);

    /* The favicon: every page's browser asks for it. */
    get("/favicon.ico", &r);
    CK_CHECK(r.status == 200 && header(&r, "Content-Type") &&
             strcmp(header(&r, "Content-Type"), "image/x-icon") == 0);
    CK_CHECK(r.body_len > 22 && r.body && memcmp(r.body, "\0\0\1\0\1\0", 6) == 0 &&
             (uint8_t)r.body[6] == 32);
    done(&r);
    /* 500 cannot be provoked from outside: its page is checked as it is. */
    CK_CHECK(inps_page(srv_page_internal) && inps_page(srv_page_error) &&
             inps_page(srv_page_busy) && inps_page(srv_page_gone) && inps_page(srv_page_too_many) &&
             inps_page(srv_page_not_found));
    /* No admin password set: /admin/ says how to set one (not the viewer's "link non valido"). */
    get("/admin/", &r);
    CK_CHECK(r.status == 404 && contains(&r, "ciak admin-password --data-dir") &&
             contains(&r, "Il cruscotto non") && !contains(&r, "non valido"));
    done(&r);

    /* The player page: 200, HTML, the playlist URL, nothing personal, no Referer leaks. */
    snprintf(url, sizeof url, "/v/%s", tok);
    get(url, &r);
    CK_CHECK(r.status == 200);
    CK_CHECK(header(&r, "Content-Type") && strstr(header(&r, "Content-Type"), "text/html"));
    CK_CHECK(contains(&r, "index.m3u8") && !contains(&r, "AS-9001") && !contains(&r, "Addolorata"));
    CK_CHECK(header(&r, "Referrer-Policy") &&
             strcmp(header(&r, "Referrer-Policy"), "no-referrer") == 0);
    done(&r);
    request("HEAD", url, NULL, &r);
    CK_CHECK(r.status == 200 && r.body_len == 0 && header(&r, "Content-Length"));
    done(&r);

    /* Expired: 410, a polite Italian page pointing to MyINPS. */
    snprintf(url, sizeof url, "/v/%s", expired);
    get(url, &r);
    CK_CHECK(r.status == 410 && inps_page(r.body));
    {
        char day[64], want[80];
        ck_it_date(day, sizeof day, today - 1);
        snprintf(want, sizeof want, " %s;", day); /* "fino al 5 gennaio 2027;" */
        CK_CHECK(contains(&r, want) && contains(&r, "fino al"));
    }
    done(&r);
    snprintf(url, sizeof url, "/v/%s/index.m3u8", expired);
    get(url, &r);
    CK_CHECK(r.status == 410);
    done(&r);

    /* Without a renderer the stream answers 503 (and the person is not counted as bad). */
    snprintf(url, sizeof url, "/v/%s/index.m3u8", tok);
    get(url, &r);
    CK_CHECK(r.status == 503 && header(&r, "Retry-After") && inps_page(r.body));
    done(&r);

    /* A cached shared segment: no token, immutable, Range, HEAD, ETag. */
    const char *digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char seg_dir[600], seg_path[800], seg_url[300];
    snprintf(seg_dir, sizeof seg_dir, "%s/cache/shared/assegno-sociale/1", dir);
    snprintf(seg_path, sizeof seg_path, "%s/%s.ts", seg_dir, digest);
    snprintf(seg_url, sizeof seg_url, "/c/assegno-sociale/1/%s.ts", digest);
    snprintf(path, sizeof path, "mkdir -p %s", seg_dir);
    CK_CHECK(system(path) == 0);
    FILE *f = fopen(seg_path, "wb");
    for (int i = 0; f && i < 1000; i++)
        fputc(i % 251, f);
    if (f)
        fclose(f);
    get(seg_url, &r);
    CK_CHECK(r.status == 200 && r.body_len == 1000 && (uint8_t)r.body[300] == 300 % 251);
    CK_CHECK(header(&r, "Content-Type") && strcmp(header(&r, "Content-Type"), "video/mp2t") == 0);
    CK_CHECK(header(&r, "Cache-Control") &&
             strcmp(header(&r, "Cache-Control"), "public, max-age=31536000, immutable") == 0);
    CK_CHECK(header(&r, "Content-Length") && strcmp(header(&r, "Content-Length"), "1000") == 0);
    done(&r);
    request("GET", seg_url, "Range: bytes=10-19\r\n", &r);
    CK_CHECK(r.status == 206 && r.body_len == 10 && (uint8_t)r.body[0] == 10);
    CK_CHECK(header(&r, "Content-Range") &&
             strcmp(header(&r, "Content-Range"), "bytes 10-19/1000") == 0);
    done(&r);
    request("GET", seg_url, "Range: bytes=-5\r\n", &r);
    CK_CHECK(r.status == 206 && r.body_len == 5 && (uint8_t)r.body[0] == 995 % 251);
    done(&r);
    request("GET", seg_url, "Range: bytes=990-\r\n", &r);
    CK_CHECK(r.status == 206 && r.body_len == 10);
    done(&r);
    request("GET", seg_url, "Range: bytes=2000-\r\n", &r);
    CK_CHECK(r.status == 416 && header(&r, "Content-Range") &&
             strcmp(header(&r, "Content-Range"), "bytes */1000") == 0);
    done(&r);
    request("GET", seg_url, "Range: bytes=0-1,5-6\r\n", &r); /* several: the whole file */
    CK_CHECK(r.status == 200 && r.body_len == 1000);
    done(&r);
    request("HEAD", seg_url, NULL, &r);
    CK_CHECK(r.status == 200 && r.body_len == 0 && header(&r, "Content-Length") &&
             strcmp(header(&r, "Content-Length"), "1000") == 0);
    done(&r);
    char inm[100];
    snprintf(inm, sizeof inm, "If-None-Match: \"%s\"\r\n", digest);
    request("GET", seg_url, inm, &r);
    CK_CHECK(r.status == 304 && r.body_len == 0);
    done(&r);
    get("/c/assegno-sociale/1/ffff.ts", &r);
    CK_CHECK(r.status == 404);
    done(&r);
    get("/c/../../etc/passwd", &r);
    CK_CHECK(r.status == 404);
    done(&r);

    /* Methods, bodies, oversized headers. */
    request("POST", "/healthz", "Content-Length: 0\r\n", &r);
    CK_CHECK(r.status == 405 && header(&r, "Allow"));
    done(&r);
    request("GET", "/healthz", "Content-Length: 5\r\n", &r);
    CK_CHECK(r.status == 413);
    done(&r);
    {
        int fd = dial();
        char big[40 * 1024];
        int n = snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ");
        memset(big + n, 'a', sizeof big - (size_t)n - 8);
        memcpy(big + sizeof big - 8, "\r\n\r\n\0\0\0\0", 8);
        send(fd, big, sizeof big - 4, MSG_NOSIGNAL);
        read_resp(fd, &r);
        CK_CHECK(r.status == 0 || r.status == 413 || r.status == 431);
        close(fd);
        done(&r);
    }
    get("/nothing/here", &r);
    CK_CHECK(r.status == 404 && inps_page(r.body));
    done(&r);

    /* Garbage requests never hurt the server. */
    srand(11);
    for (int k = 0; k < 20; k++) {
        int fd = dial();
        char junk[512];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)(rand() % 256);
        send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        read_resp(fd, &r);
        done(&r);
        close(fd);
    }
    get("/healthz", &r);
    CK_CHECK(r.status == 200);
    done(&r);

    /* A slow client is dropped after the idle timeout (1 s here). */
    {
        int fd = dial();
        send(fd, "GET /hea", 8, MSG_NOSIGNAL);
        double t0 = (double)time(NULL);
        char b[64];
        ssize_t k = recv(fd, b, sizeof b, 0); /* returns when the server closes */
        CK_CHECK(k <= 0 && (double)time(NULL) - t0 <= 4);
        close(fd);
    }

    /* Per-address connection cap: the ninth idle connection is refused at once. */
    {
        int fds[9];
        for (int i = 0; i < 8; i++)
            fds[i] = dial();
        usleep(100 * 1000);
        fds[8] = dial();
        char b[64];
        ssize_t k = fds[8] >= 0 ? recv(fds[8], b, sizeof b, 0) : 0;
        CK_CHECK(k <= 0);
        for (int i = 0; i < 9; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        usleep(100 * 1000);
    }

    /* Revoked: 404, like a tampered or unknown link. */
    CK_CHECK(ck_store_revoke(st, "assegno-sociale", "AS-9002", &err) == CK_OK);
    snprintf(url, sizeof url, "/v/%s", tok2);
    get(url, &r);
    CK_CHECK(r.status == 404);
    done(&r);
    /* Tampered: 404 with the same page. */
    char bad[CK_TOKEN_MAX];
    snprintf(bad, sizeof bad, "%s", tok);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    snprintf(url, sizeof url, "/v/%s", bad);
    get(url, &r);
    CK_CHECK(r.status == 404 && contains(&r, "Pagina non trovata"));
    done(&r);
    /* Unknown campaign, signed correctly: 404. */
    ck_token_claims other = {.expires = today + 3};
    strcpy(other.campaign, "nessuna");
    char tok3[CK_TOKEN_MAX];
    ck_token_sign(&keys, &other, tok3);
    snprintf(url, sizeof url, "/v/%s/index.m3u8", tok3);
    get(url, &r);
    CK_CHECK(r.status == 404);
    done(&r);

    /* Three failures so far; three more reach this address's limit (6), then bad links
     * answer 429. 30 in all from one address: a valid link from it is still served (a care
     * home or a carrier's NAT puts many people behind one address). */
    int n404 = 0, n429 = 0;
    for (int k = 0; k < 30; k++) {
        get("/v/not-a-token", &r);
        n404 += r.status == 404;
        n429 += r.status == 429 && header(&r, "Retry-After") && inps_page(r.body) &&
                contains(&r, "Troppi tentativi");
        done(&r);
    }
    CK_CHECK(n404 == 3 && n429 == 27);
    snprintf(url, sizeof url, "/v/%s", tok);
    get(url, &r);
    CK_CHECK(r.status == 200);
    done(&r);
    /* Many addresses of one /24 (127.0.1.x): each under its own limit, together over the
     * prefix's (15). Then a new address there gets 429 for a bad link and 200 for a valid
     * one; another /24 is untouched. */
    char from[32];
    int prefix404 = 0;
    for (int a = 1; a <= 5; a++)
        for (int k = 0; k < 3; k++) {
            snprintf(from, sizeof from, "127.0.1.%d", a);
            client_addr = from;
            get("/v/not-a-token", &r);
            prefix404 += r.status == 404;
            done(&r);
        }
    CK_CHECK(prefix404 == 15);
    client_addr = "127.0.1.99";
    get("/v/not-a-token", &r);
    CK_CHECK(r.status == 429 && header(&r, "Retry-After"));
    done(&r);
    get(url, &r);
    CK_CHECK(r.status == 200);
    done(&r);
    client_addr = "127.0.2.1";
    get("/v/not-a-token", &r);
    CK_CHECK(r.status == 404);
    done(&r);
    client_addr = NULL;
    get("/healthz", &r); /* not a link: still served */
    CK_CHECK(r.status == 200);
    done(&r);
    get(seg_url, &r);
    CK_CHECK(r.status == 200);
    done(&r);

    /* Metrics: Prometheus text by route and status, and nothing personal. */
    get("/metrics", &r);
    CK_CHECK(r.status == 200 && header(&r, "Content-Type") &&
             strstr(header(&r, "Content-Type"), "text/plain"));
    CK_CHECK(contains(&r, "ciak_http_requests_total{route=\"player\",status=\"200\"}"));
    CK_CHECK(contains(&r, "ciak_http_requests_total{route=\"player\",status=\"429\"} 28"));
    CK_CHECK(contains(&r, "ciak_http_requests_total{route=\"shared_segment\",status=\"206\"} 3"));
    CK_CHECK(contains(&r, "ciak_render_seconds_bucket{le=\"+Inf\"}"));
    CK_CHECK(contains(&r, "ciak_segment_cache_hit_ratio"));
    CK_CHECK(contains(&r, "ciak_render_queue_depth"));
    CK_CHECK(contains(&r, "ciak_encoder_info"));
    CK_CHECK(contains(&r, "\nciak_node_info{node=\"node-a\"} 1\n"));
    CK_CHECK(contains(&r, "\nciak_admission_refused_total 0\n"));
    CK_CHECK(contains(&r, "\nciak_draining 0\n"));
    CK_CHECK(!contains(&r, "AS-900") && !contains(&r, tok) && !contains(&r, "127.0.0.1"));
    done(&r);

    test_url_safe();
    test_path_tricks();
    test_guard();
    test_lateness();
    test_wait_deadline();
    test_stream_order();
    test_qr(dir);
    test_cache(dir);

    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    ck_server_stop(s);
    ck_server_destroy(&s);
    test_proxies(dir);
    test_pg_nodes(dir);
    test_render_nodes(dir);
    snprintf(path, sizeof path, "%s/views", dir);
    test_views(path);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CK_CHECK(system(path) == 0);
    return ck_test_done("test_server");
}
