/* http.c: libmicrohttpd (thread pool) and the routes.
 *
 *   GET /v/<token>                 player page
 *   GET /v/<token>/index.m3u8      master playlist (queues the look-ahead)
 *   GET /v/<token>/media.m3u8      media playlist: the whole VOD list, ENDLIST
 *   GET /v/<token>/subs.m3u8       captions playlist;  /v/<token>/captions.vtt  the captions
 *   GET /v/<token>/<digest>.ts     a personal segment
 *   GET /c/<campaign>/<version>/<digest>.ts   a shared segment (no token: nothing personal)
 *   GET /healthz (and whether warming runs; 503 "draining" while draining), /livez (200
 *       while the process answers), /metrics, /favicon.ico
 *   viewer.c: GET /v/<token>/guida.pdf, POST /v/<token>/events, GET /static/<asset>,
 *             /admin/ (dashboard, POST /admin/login and /admin/logout, export.csv)
 *
 * A request whose segment or view is not ready is suspended (MHD_suspend_connection) and
 * attached to the render job; the worker resumes it, and the handler runs again and finds the
 * file. So a waiting viewer holds no HTTP thread. Limits: header memory, total connections
 * and the idle timeout are libmicrohttpd options; connections per client address are counted
 * here (a trusted reverse proxy carries many clients, so it is not capped, and its
 * X-Forwarded-For names the client for the guards); only GET and HEAD exist, plus the three
 * POSTs above with bodies up to 4 KiB (more: 413); any other body is refused (413).
 *
 * Paths: only unreserved characters are percent-decoded (no route needs any other), and a
 * path with '..', a backslash, '//', a control or non-ASCII byte or a '%' left is a 404
 * before any route sees it: no encoding trick reaches a file (docs/server.md, "Faults and
 * limits"). */
#include "ck_analytics.h"
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_MEMORY (32 * 1024)
#define MAX_WAITS     3 /* a request waits for at most this many jobs (view, then segment) */

typedef struct req {
    srv_waiter w;
    const char *node; /* X-Ciak-Node: the server's node name */
    int waits;
    bool new_viewer; /* admitted as a new viewer here (srv_admit), its view not made yet */
    srv_view *view;
    srv_route route;
    unsigned status;
    double t0;
    char tag[9];
    /* A POST's body (events, admin login): at most BODY_MAX bytes, else 413. */
    bool post, body_over;
    char *body;
    size_t body_len;
} req;

#define BODY_MAX CK_AN_MAX_BODY

/* ---- client addresses: trusted proxies, connections per address ---- */
#define MAX_PROXIES 32
#define CONN_SLOTS  4096 /* open addresses counted; a power of two */

typedef struct proxy_net {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;
} proxy_net;

typedef struct conn_slot {
    uint8_t addr[16]; /* IPv4 as its mapped IPv6 form */
    int count;        /* open connections; 0: free */
} conn_slot;

struct srv_net {
    proxy_net proxies[MAX_PROXIES];
    int proxy_count;
    pthread_mutex_t lock;
    conn_slot slots[CONN_SLOTS];
};

/* An address as 16 bytes (IPv4 mapped into IPv6); false for another family. */
static bool addr16(const struct sockaddr *sa, uint8_t out[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr, 16);
        return true;
    }
    return false;
}

/* Parses "a.b.c.d[/n],x:y::z[/n],..." into `net`. */
static ck_status parse_proxies(struct srv_net *net, const char *list, ck_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (net->proxy_count == MAX_PROXIES)
            return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0,
                                "--trusted-proxies: at most %d entries", MAX_PROXIES);
        proxy_net *p = &net->proxies[net->proxy_count];
        char *slash = strchr(t, '/');
        if (slash)
            *slash = '\0';
        uint8_t a[16];
        struct in_addr v4;
        int max;
        if (inet_pton(AF_INET, t, &v4) == 1) {
            static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            memcpy(a, mapped, 12);
            memcpy(a + 12, &v4, 4);
            max = 32;
        } else if (inet_pton(AF_INET6, t, a) == 1) {
            max = 128;
        } else {
            return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0,
                                "--trusted-proxies: \"%s\" is not an IP address or CIDR block", t);
        }
        char *end = NULL;
        long bits = slash ? strtol(slash + 1, &end, 10) : max;
        if (slash && (end == slash + 1 || *end || bits < 0 || bits > max))
            return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0,
                                "--trusted-proxies: \"%s/%s\": the prefix length must be 0 to %d",
                                t, slash + 1, max);
        memcpy(p->addr, a, 16);
        p->bits = (int)bits + (128 - max); /* IPv4 blocks count the mapped prefix */
        net->proxy_count++;
    }
    return CK_OK;
}

static bool trusted16(const struct srv_net *net, const uint8_t a[16])
{
    for (int i = 0; i < net->proxy_count; i++) {
        const proxy_net *p = &net->proxies[i];
        int full = p->bits / 8, rest = p->bits % 8;
        if (memcmp(a, p->addr, (size_t)full) != 0)
            continue;
        if (rest && ((a[full] ^ p->addr[full]) & (0xff << (8 - rest)) & 0xff))
            continue;
        return true;
    }
    return false;
}

static bool trusted(const struct srv_net *net, const struct sockaddr *sa)
{
    uint8_t a[16];
    return net->proxy_count > 0 && addr16(sa, a) && trusted16(net, a);
}

/* The client of a request: the peer, or, when the peer is a trusted proxy, the right-most
 * address of X-Forwarded-For that is not a trusted proxy (each proxy appends the address it
 * was called from, so entries left of it may be forged by the client; right of it they are
 * not). No usable header: the peer. `out` holds the address when it is not the peer's. */
static const struct sockaddr *client_of(const ck_server *s, struct MHD_Connection *conn,
                                        struct sockaddr_in6 *out)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *peer = ci ? ci->client_addr : NULL;
    if (!peer || !s->net || !trusted(s->net, peer))
        return peer;
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff)
        return peer;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", xff);
    for (;;) {
        char *comma = strrchr(buf, ','), *t = comma ? comma + 1 : buf;
        while (*t == ' ' || *t == '\t')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            t[--n] = '\0';
        memset(out, 0, sizeof *out);
        out->sin6_family = AF_INET6;
        struct in_addr v4;
        uint8_t *b = out->sin6_addr.s6_addr;
        if (inet_pton(AF_INET, t, &v4) == 1) {
            b[10] = b[11] = 0xff;
            memcpy(b + 12, &v4, 4);
        } else if (inet_pton(AF_INET6, t, b) != 1) {
            return peer; /* not an address: the nearest proxy's word is all we have */
        }
        if (!trusted16(s->net, b) || !comma)
            return (const struct sockaddr *)out;
        *comma = '\0';
    }
}

/* Connections per address. The accept policy refuses early (before libmicrohttpd makes the
 * connection), but it runs on whichever pool thread accepted, before the count is raised on
 * start: two threads may both see 15. So the count raised on start decides, under the lock:
 * a connection past the cap is shut down there (libmicrohttpd then reads its end and closes
 * it). Counted on start and close; never for a trusted proxy. */
static conn_slot *slot_of(struct srv_net *net, const uint8_t a[16], bool create)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211ull;
    conn_slot *free_slot = NULL;
    for (int i = 0; i < 64; i++) {
        conn_slot *c = &net->slots[(h + (uint64_t)i) & (CONN_SLOTS - 1)];
        if (c->count > 0 && memcmp(c->addr, a, 16) == 0)
            return c;
        if (c->count == 0 && !free_slot)
            free_slot = c;
    }
    if (create && free_slot)
        memcpy(free_slot->addr, a, 16);
    return create ? free_slot : NULL;
}

static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)len;
    ck_server *s = cls;
    uint8_t a[16];
    if (!addr16(addr, a) || trusted(s->net, addr))
        return MHD_YES;
    pthread_mutex_lock(&s->net->lock);
    conn_slot *c = slot_of(s->net, a, false);
    bool full = c && c->count >= s->p.per_ip_connections;
    pthread_mutex_unlock(&s->net->lock);
    if (full)
        atomic_fetch_add(&s->metrics.refused_conns, 1);
    return full ? MHD_NO : MHD_YES;
}

/* A connection that got past the accept policy over its address's cap: counted as refused
 * and shut down; libmicrohttpd sees its end at once and closes it (no request is read). */
static void refuse_started(ck_server *s, struct MHD_Connection *conn)
{
    atomic_fetch_add(&s->metrics.refused_conns, 1);
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fd)
        shutdown(fd->connect_fd, SHUT_RDWR);
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    ck_server *s = cls;
    uint8_t a[16];
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (!ci || !addr16(ci->client_addr, a) || trusted(s->net, ci->client_addr))
            return;
        pthread_mutex_lock(&s->net->lock);
        conn_slot *c = slot_of(s->net, a, true);
        bool over = c && c->count >= s->p.per_ip_connections;
        if (c &&
            !over) { /* a full table (4096 busy addresses) counts nothing: the global cap holds */
            c->count++;
            *socket_context = c;
        }
        pthread_mutex_unlock(&s->net->lock);
        if (over)
            refuse_started(s, conn);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        pthread_mutex_lock(&s->net->lock);
        ((conn_slot *)*socket_context)->count--;
        pthread_mutex_unlock(&s->net->lock);
        *socket_context = NULL;
    }
}

/* ---- paths ---- */
static bool unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* libmicrohttpd's unescape callback (paths and query values): decodes %XX only where it
 * stands for an unreserved character; everything else stays encoded, so it can match no
 * route and srv_url_safe refuses it (an encoded '/', NUL, backslash or UTF-8 byte). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    char *w = uri;
    for (const char *r = uri; *r;) {
        int hi = r[0] == '%' ? ck_hex_digit((unsigned char)r[1]) : -1,
            lo = hi >= 0 ? ck_hex_digit((unsigned char)r[2]) : -1;
        if (lo >= 0 && unreserved(hi * 16 + lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - uri);
}

bool srv_url_safe(const char *url)
{
    if (!url || url[0] != '/')
        return false;
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x21 || c > 0x7e || c == '%' || c == '\\')
            return false;
        if (c == '/' && p[1] == '/')
            return false;
        if (c == '.' && p[1] == '.')
            return false;
    }
    return true;
}

static const char ct_html[] = "text/html; charset=utf-8",
                  ct_m3u8[] = "application/vnd.apple.mpegurl", ct_ts[] = "video/mp2t",
                  ct_text[] = "text/plain; charset=utf-8";

/* ---- responses ---- */
static enum MHD_Result queue(struct MHD_Connection *conn, req *r, unsigned status,
                             struct MHD_Response *resp, const char *ctype, const char *cache)
{
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* The token is in the URL: never send it to another site as a Referer. */
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Which node answered: failovers and routing are visible to operators and tests. */
    MHD_add_response_header(resp, "X-Ciak-Node", r->node);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    return ret;
}

/* The server's own pages: an inline style, the favicon, nothing else. */
static const char page_csp[] = "default-src 'self'; style-src 'unsafe-inline'; img-src 'self'";

static enum MHD_Result send_static(struct MHD_Connection *conn, req *r, unsigned status,
                                   const char *body, const char *ctype)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp && ctype == ct_html)
        MHD_add_response_header(resp, "Content-Security-Policy", page_csp);
    return queue(conn, r, status, resp, ctype, NULL);
}

/* Takes ownership of `body` (malloc'd; NULL: 500). */
static enum MHD_Result send_owned(struct MHD_Connection *conn, req *r, char *body,
                                  const char *ctype, const char *cache)
{
    if (!body)
        return send_static(conn, r, MHD_HTTP_INTERNAL_SERVER_ERROR, srv_page_internal, ct_html);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(body);
    return queue(conn, r, MHD_HTTP_OK, resp, ctype, cache);
}

/* One of pages.c's pages with a Retry-After (seconds). */
static enum MHD_Result send_retry(struct MHD_Connection *conn, req *r, unsigned status,
                                  const char *page, int retry_s)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%d", retry_s > 0 ? retry_s : 1);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(page), (void *)page, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        MHD_add_response_header(resp, "Content-Security-Policy", page_csp);
    }
    return queue(conn, r, status, resp, ct_html, NULL);
}

static enum MHD_Result unavailable(struct MHD_Connection *conn, req *r)
{
    return send_retry(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE, srv_page_error, 5);
}

/* A new viewer refused by admission control or a drain (srv_admit): nginx tries another node,
 * a browser shows the page, which reloads itself. */
static enum MHD_Result busy(struct MHD_Connection *conn, req *r, int retry_s)
{
    return send_retry(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE, srv_page_busy, retry_s);
}

/* 410 for a genuine link past its last day, naming that day. */
static enum MHD_Result gone(struct MHD_Connection *conn, req *r, int32_t last_day)
{
    char *page = srv_page_gone_until(last_day);
    if (!page)
        return send_static(conn, r, MHD_HTTP_GONE, srv_page_gone, ct_html);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(page);
    else
        MHD_add_response_header(resp, "Content-Security-Policy", page_csp);
    return queue(conn, r, MHD_HTTP_GONE, resp, ct_html, NULL);
}

/* Parses a single "bytes=a-b" range against `size`. 0: no (usable) range, 1: range, -1:
 * unsatisfiable. Multiple ranges are answered with the whole file, as RFC 9110 allows. */
static int parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') { /* suffix: the last N bytes */
        errno = 0;
        long long n = strtoll(p + 1, &end, 10);
        if (errno || *end || end == p + 1 || n < 0)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    errno = 0;
    long long a = strtoll(p, &end, 10);
    if (errno || end == p || *end != '-' || a < 0)
        return 0;
    p = end + 1;
    long long b = size - 1;
    if (*p) {
        b = strtoll(p, &end, 10);
        if (errno || *end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

/* Serves a complete cached file, honouring Range and If-None-Match (the digest is the ETag).
 * Returns MHD_NO... never for a missing file: *missing is set instead. */
static enum MHD_Result send_file(struct MHD_Connection *conn, req *r, const char *path,
                                 const char *digest, const char *cache, bool *missing)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    *missing = false;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        *missing = true;
        return MHD_YES;
    }
    char etag[80];
    snprintf(etag, sizeof etag, "\"%.64s\"", digest);
    const char *inm =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strcmp(inm, etag) == 0) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        return queue(conn, r, MHD_HTTP_NOT_MODIFIED, resp, NULL, cache);
    }
    int64_t size = sb.st_size, from = 0, to = size - 1;
    int range =
        parse_range(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE), size,
                    &from, &to);
    char cr[96];
    if (range < 0) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        snprintf(cr, sizeof cr, "bytes */%lld", (long long)size);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        return queue(conn, r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, ct_text, cache);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_fd_at_offset64((uint64_t)(to - from + 1), fd, (uint64_t)from);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (range > 0) {
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)from, (long long)to,
                 (long long)size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    }
    return queue(conn, r, range > 0 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp, ct_ts, cache);
}

/* Sends what viewer.c built (a bodiless 404 or 503 gets the usual page). */
static enum MHD_Result send_reply(struct MHD_Connection *conn, req *r, srv_reply *o)
{
    if (!o->body && o->status == MHD_HTTP_NOT_FOUND)
        return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
    if (!o->body && o->status != MHD_HTTP_NO_CONTENT)
        return unavailable(conn, r);
    struct MHD_Response *resp =
        o->body ? MHD_create_response_from_buffer(o->len, o->body, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(o->body);
        return MHD_NO;
    }
    if (o->csp)
        MHD_add_response_header(resp, "Content-Security-Policy", o->csp);
    for (int i = 0; i < o->hdrs; i++)
        MHD_add_response_header(resp, o->hdr_name[i], o->hdr_value[i]);
    /* A 503 is temporary (a database or disk that is away): say when to try again. */
    if (o->status == MHD_HTTP_SERVICE_UNAVAILABLE &&
        !MHD_get_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    return queue(conn, r, o->status, resp, o->ctype, o->cache);
}

/* ---- waiting for a job ---- */
static void do_suspend(srv_waiter *w)
{
    MHD_suspend_connection(w->conn);
}

/* The request is about to wait (for a render or its view); false once it has waited enough. */
static bool may_wait(struct MHD_Connection *conn, req *r)
{
    if (r->waits >= MAX_WAITS)
        return false;
    r->waits++;
    r->w.conn = conn;
    return true;
}

/* Queues `job` with this request waiting on it, due as srv_wait_deadline says. */
static enum MHD_Result wait_for(ck_server *s, struct MHD_Connection *conn, req *r, srv_job *job,
                                srv_view *v, int index, double seg_start_s)
{
    if (!s->queue || !may_wait(conn, r))
        return unavailable(conn, r);
    job->deadline = srv_wait_deadline(v, index, seg_start_s, srv_now_ms());
    if (!srv_queue_push(s->queue, job, &r->w, do_suspend))
        return unavailable(conn, r);
    return MHD_YES;
}

/* Suspends the request until its view is made (maker.c); answered when resumed. */
static enum MHD_Result wait_for_view(ck_server *s, struct MHD_Connection *conn, req *r)
{
    if (!s->makers || !may_wait(conn, r))
        return unavailable(conn, r);
    if (!srv_makers_push(s->makers, r->view, &r->w, do_suspend)) {
        r->w.conn = NULL;
        return unavailable(conn, r);
    }
    return MHD_YES;
}

/* ---- segments ---- */
static enum MHD_Result serve_segment(ck_server *s, struct MHD_Connection *conn, req *r, int c,
                                     const ck_render_seg *seg, int index, srv_view *v)
{
    srv_job job;
    srv_segment_job(s, c, seg, index, v, &job);
    const char *cache = seg->shared ? "public, max-age=31536000, immutable"
                                    : "private, max-age=31536000, immutable";
    bool missing;
    enum MHD_Result ret = send_file(conn, r, job.path, seg->digest, cache, &missing);
    if (!missing) {
        if (r->waits == 0) {
            atomic_fetch_add(&s->metrics.cache_hits, 1);
            atomic_fetch_add(&s->metrics.reused, 1);
        }
        if (!seg->shared)
            srv_cache_touch(s->cache, seg->digest, -1);
        if (v)
            srv_view_asked(v, index);
        return ret;
    }
    if (r->waits == 0)
        atomic_fetch_add(&s->metrics.cache_misses, 1);
    return wait_for(s, conn, r, &job, v, index, seg->start);
}

/* /c/<campaign>/<version>/<digest>.ts */
static enum MHD_Result route_shared(ck_server *s, struct MHD_Connection *conn, req *r,
                                    const char *rest)
{
    char campaign[CK_CAMPAIGN_MAX + 1], digest[CK_RENDER_DIGEST_HEX];
    int version = 0, n = 0;
    r->route = R_SHARED;
    if (sscanf(rest, "%64[a-z0-9_-]/%9d/%64[0-9a-f].ts%n", campaign, &version, digest, &n) != 3 ||
        rest[n] != '\0' || strlen(digest) != CK_RENDER_DIGEST_HEX - 1)
        return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
    /* A viewer playing its shared segments is watching too: a drain waits for quiet (with
     * only personal requests counted, a viewer between two personal stretches looked gone). */
    atomic_store(&s->watched, (int_fast64_t)srv_now_ms());
    int c = srv_campaign_find(s, campaign);
    if (c >= 0 && version == s->campaigns[c].version) {
        const ck_render_view *sv = &s->campaigns[c].shared;
        for (int i = 0; i < sv->count; i++) {
            if (!sv->segs[i].shared || strcmp(sv->segs[i].digest, digest) != 0)
                continue;
            /* Draining: a segment not rendered yet is made by another node (nginx's next). */
            srv_job job;
            srv_segment_job(s, c, &sv->segs[i], i, NULL, &job);
            int wait = access(job.path, F_OK) != 0 ? srv_admit(s, false) : 0;
            if (wait > 0)
                return busy(conn, r, wait);
            return serve_segment(s, conn, r, c, &sv->segs[i], i, NULL);
        }
    }
    /* Not part of a loaded campaign version (an older one, say): serve it if it is on disk. */
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/%d/%s.ts", srv_cache_shared_root(s->cache), campaign,
             version, digest);
    bool missing;
    enum MHD_Result ret =
        send_file(conn, r, path, digest, "public, max-age=31536000, immutable", &missing);
    if (missing)
        return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
    return ret;
}

/* ---- token routes ---- */
static enum MHD_Result too_many(struct MHD_Connection *conn, req *r, int wait_s)
{
    return send_retry(conn, r, MHD_HTTP_TOO_MANY_REQUESTS, srv_page_too_many, wait_s);
}

/* A bad link (malformed, tampered, unknown, revoked: one answer for all): 404, or 429 once
 * its address, its network or the whole server sent too many. Only bad links are slowed: a
 * valid link from the same address never gets here. */
static enum MHD_Result not_found_guarded(ck_server *s, struct MHD_Connection *conn, req *r,
                                         const void *addr)
{
    int wait_s = srv_guard_blocked(s->guard, addr);
    srv_guard_fail(s->guard, addr);
    if (wait_s > 0)
        return too_many(conn, r, wait_s);
    return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
}

static enum MHD_Result route_token(ck_server *s, struct MHD_Connection *conn, req *r,
                                   const char *rest)
{
    struct sockaddr_in6 fwd;
    const void *addr = client_of(s, conn, &fwd);
    const char *slash = strchr(rest, '/');
    size_t tlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *what = slash ? slash + 1 : "";
    ck_token_tag(rest, tlen, r->tag);

    if (what[0] == '\0')
        r->route = R_PLAYER;
    else if (strcmp(what, "index.m3u8") == 0)
        r->route = R_MASTER;
    else if (strcmp(what, "media.m3u8") == 0)
        r->route = R_MEDIA;
    else if (strcmp(what, "subs.m3u8") == 0)
        r->route = R_SUBS;
    else if (strcmp(what, "captions.vtt") == 0)
        r->route = R_VTT;
    else if (strcmp(what, "guida.pdf") == 0)
        r->route = R_GUIDE;
    else if (strcmp(what, "events") == 0)
        r->route = R_EVENTS;
    else
        r->route = R_PERSONAL;

    ck_token_claims claims;
    ck_token_result tr = ck_token_verify(&s->keys, rest, tlen, ck_today(), &claims);
    if (tr == CK_TOKEN_BAD)
        return not_found_guarded(s, conn, r, addr);
    if (tr == CK_TOKEN_EXPIRED)
        return gone(conn, r, claims.expires);
    int c = srv_campaign_find(s, claims.campaign);
    int64_t rev = 0;
    ck_error err = {0};
    if (c < 0)
        return not_found_guarded(s, conn, r, addr);
    /* Every request asks the store (no cache), so a revocation made on any node holds on
     * every node at once. A store that is away answers 503, never a guess. */
    if (!srv_store_up(s))
        return unavailable(conn, r);
    ck_status st = ck_store_peek(s->store, claims.campaign, claims.handle, &rev, NULL, &err);
    if (st == CK_ERR_NOT_FOUND)
        return not_found_guarded(s, conn, r, addr); /* revoked or purged */
    if (st != CK_OK) {
        srv_store_failed(s);
        return unavailable(conn, r);
    }
    const srv_campaign *cp = &s->campaigns[c];
    /* Admission: the page or a playlist of a link this node is not serving yet is a new viewer
     * here (docs/server.md). Its segments are not refused (but while draining): nginx counts
     * every 503 against the node, and a viewer another node took may still ask this one. */
    if (!r->view && !srv_view_exists(s, c, claims.handle)) {
        bool start = r->route == R_PLAYER || r->route == R_MASTER || r->route == R_MEDIA;
        int wait = srv_admit(s, start);
        if (wait > 0)
            return busy(conn, r, wait);
        r->new_viewer = start;
        if (r->route == R_PLAYER && s->queue) {
            /* Admitted: its playlists, which follow the page, are no new viewer's. */
            bool fresh;
            srv_view_unref(s, srv_view_get(s, c, claims.handle, rev, &fresh));
        }
    }
    if (r->route == R_MASTER || r->route == R_MEDIA || r->route == R_PERSONAL)
        atomic_store(&s->watched, (int_fast64_t)srv_now_ms()); /* a drain waits for quiet */
    /* The page, the PDF guide and the events need only the record, never a render. */
    srv_reply rep = {0};
    if (srv_viewer_token_route(s, c, claims.handle, rest, tlen, what, r->body, r->body_len, r->post,
                               &rep))
        return send_reply(conn, r, &rep);
    if (!s->queue) /* no_render */
        return unavailable(conn, r);

    /* Everything else needs the person's view. */
    if (!r->view) {
        bool fresh;
        r->view = srv_view_get(s, c, claims.handle, rev, &fresh);
        if (!r->view)
            return unavailable(conn, r);
    }
    pthread_mutex_lock(&s->view_lock);
    bool ready = r->view->ready, failed = r->view->failed;
    pthread_mutex_unlock(&s->view_lock);
    if (failed)
        return unavailable(conn, r);
    if (!ready) /* made on a maker thread: this one is free meanwhile (maker.c) */
        return wait_for_view(s, conn, r);
    if (r->new_viewer && r->waits > 0) {
        /* Asked again with its view made: new viewers arriving together were all admitted
         * before any had queued its renders; now those that came first have. */
        r->new_viewer = false;
        int wait = srv_admit(s, true);
        if (wait > 0) {
            srv_view_forget(s, r->view); /* its retry is a new viewer again */
            return busy(conn, r, wait);
        }
    }
    srv_view *v = r->view;
    const ck_render *rd = s->renderers[0][c];
    const char *pl_cache = "private, no-cache";
    switch (r->route) {
    case R_MASTER: {
        srv_lookahead(s, v);
        ck_render_rates rates;
        srv_master_rates(s, v, &rates);
        return send_owned(conn, r,
                          ck_render_master_playlist(rd, "media.m3u8",
                                                    cp->has_captions ? "subs.m3u8" : NULL, &rates),
                          ct_m3u8, pl_cache);
    }
    case R_MEDIA: {
        srv_lookahead(s, v);
        ck_playlist_params pp = {.shared_url = cp->shared_url, .personal_url = "{digest}.ts"};
        return send_owned(conn, r, ck_render_media_playlist(rd, &v->view, &pp), ct_m3u8, pl_cache);
    }
    case R_SUBS:
        if (!cp->has_captions)
            break;
        return send_owned(conn, r, ck_render_subs_playlist(rd, "captions.vtt"), ct_m3u8, pl_cache);
    case R_VTT:
        if (!cp->has_captions)
            break;
        return send_owned(conn, r, ck_render_webvtt(rd, &v->recs->items[0]),
                          "text/vtt; charset=utf-8", "private, no-cache");
    default: {
        size_t n = strlen(what);
        if (n != CK_RENDER_DIGEST_HEX - 1 + 3 || strcmp(what + n - 3, ".ts") != 0)
            break;
        for (int i = 0; i < v->view.count; i++)
            if (strncmp(v->view.segs[i].digest, what, CK_RENDER_DIGEST_HEX - 1) == 0)
                return serve_segment(s, conn, r, c, &v->view.segs[i], i, v);
        break;
    }
    }
    return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
}

/* "ok", and whether start-up warming is still rendering shared segments (the server serves
 * meanwhile, rendering on demand what a viewer needs first); "draining" while it drains. */
static char *healthz_text(const ck_server *s)
{
    int done = 0, total = 0;
    bool running = srv_warming(s, &done, &total);
    char buf[160];
    if (atomic_load(&s->metrics.draining))
        snprintf(buf, sizeof buf, "draining\n");
    else if (!s->queue || s->p.no_warm)
        snprintf(buf, sizeof buf, "ok\nwarm-up: off\n");
    else if (running)
        snprintf(buf, sizeof buf, "ok\nwarm-up: running, %d of %d shared segments\n", done, total);
    else
        snprintf(buf, sizeof buf, "ok\nwarm-up: done, %d shared segments rendered\n", total);
    /* Campaigns that failed at start-up (others keep serving), one line each. */
    size_t n = strlen(buf), extra = s->not_serving.len;
    char *out = malloc(n + extra + 1);
    if (out) {
        memcpy(out, buf, n);
        if (extra)
            memcpy(out + n, s->not_serving.s, extra);
        out[n + extra] = '\0';
    }
    return out;
}

/* ---- the handler ---- */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    ck_server *s = cls;
    req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->t0 = srv_now_ms();
        r->route = R_OTHER;
        r->node = s->node;
        *req_cls = r;
        atomic_fetch_add(&s->inflight, 1); /* a drain waits for it (completed) */
        /* Only three POSTs exist, each with a small body; every other body is refused before
         * it is read. */
        size_t ulen = strlen(url);
        r->post =
            strcmp(method, MHD_HTTP_METHOD_POST) == 0 &&
            ((strncmp(url, "/v/", 3) == 0 && ulen > 10 && strcmp(url + ulen - 7, "/events") == 0) ||
             strcmp(url, "/admin/login") == 0 || strcmp(url, "/admin/logout") == 0);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        bool chunked =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (r->post) {
            if (cl && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > BODY_MAX))
                return send_static(conn, r, MHD_HTTP_CONTENT_TOO_LARGE, "request too large\n",
                                   ct_text);
        } else if ((cl && strcmp(cl, "0") != 0) || chunked) {
            return send_static(conn, r, MHD_HTTP_CONTENT_TOO_LARGE, "request body not allowed\n",
                               ct_text);
        }
        /* Answered on the next call, once MHD has the whole request: a response queued on
         * the first call makes libmicrohttpd close the connection after it (no keep-alive). */
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (r->post && !r->status) {
            size_t n = *upload_size;
            if (r->body_len + n > BODY_MAX) {
                r->body_over = true;
            } else {
                char *nb = realloc(r->body, r->body_len + n + 1);
                if (!nb)
                    return MHD_NO;
                memcpy(nb + r->body_len, upload, n);
                r->body = nb;
                r->body_len += n;
                nb[r->body_len] = '\0';
            }
        }
        *upload_size = 0; /* consumed, or already answered 413: discard */
        return MHD_YES;
    }
    if (r->body_over)
        return send_static(conn, r, MHD_HTTP_CONTENT_TOO_LARGE, "request too large\n", ct_text);
    if (r->w.conn && !r->w.done)
        return MHD_YES; /* still suspended (should not be called) */
    if (r->w.conn && !r->w.ok) {
        r->w.conn = NULL;
        return unavailable(conn, r);
    }
    r->w.conn = NULL;
    if (!r->post && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            19, (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return queue(conn, r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, ct_text, NULL);
    }
    if (!srv_url_safe(url)) /* '..', encoded '/', NUL, backslash...: no route has them */
        return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
    if (strncmp(url, "/v/", 3) == 0)
        return route_token(s, conn, r, url + 3);
    if (strncmp(url, "/static/", 8) == 0 || strncmp(url, "/admin", 6) == 0) {
        r->route = url[1] == 's' ? R_STATIC : R_ADMIN;
        srv_request q = {
            .url = url,
            .post = r->post,
            .cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
            .origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin"),
            .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
            .fetch_site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-Fetch-Site"),
            .campaign = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "c"),
            .body = r->body,
            .body_len = r->body_len};
        struct sockaddr_in6 fwd;
        const void *addr = client_of(s, conn, &fwd);
        int wait_s = r->route == R_ADMIN ? srv_guard_blocked(s->login_guard, addr) : 0;
        if (wait_s > 0)
            return too_many(conn, r, wait_s);
        srv_reply rep = {0};
        if (srv_viewer_route(s, &q, &rep)) {
            if (rep.login_failed)
                srv_guard_fail(s->login_guard, addr);
            return send_reply(conn, r, &rep);
        }
    }
    if (strncmp(url, "/c/", 3) == 0)
        return route_shared(s, conn, r, url + 3);
    if (strcmp(url, "/healthz") == 0) {
        r->route = R_HEALTHZ;
        /* Draining: not ready, so Kubernetes and nginx send nothing new here. */
        if (atomic_load(&s->metrics.draining)) {
            char *text = healthz_text(s);
            struct MHD_Response *resp =
                text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
                     : NULL;
            if (!resp)
                free(text);
            else
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "30");
            return queue(conn, r, MHD_HTTP_SERVICE_UNAVAILABLE, resp, ct_text, "no-store");
        }
        return send_owned(conn, r, healthz_text(s), ct_text, "no-store");
    }
    if (strcmp(url, "/livez") == 0) {
        /* Alive: answered by the HTTP threads whatever else holds, draining included (a
         * liveness probe on /healthz would restart a draining node). */
        r->route = R_HEALTHZ;
        return send_static(conn, r, MHD_HTTP_OK, "ok\n", ct_text);
    }
    if (strcmp(url, "/favicon.ico") == 0) {
        size_t len;
        const uint8_t *ico = srv_favicon(&len);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(len, (void *)ico, MHD_RESPMEM_PERSISTENT);
        r->route = R_STATIC;
        return queue(conn, r, MHD_HTTP_OK, resp, "image/x-icon", "public, max-age=604800");
    }
    if (strcmp(url, "/metrics") == 0) {
        r->route = R_METRICS;
        srv_lateness(s); /* the gauge, as of now */
        return send_owned(conn, r, srv_metrics_text(&s->metrics, s->node),
                          "text/plain; version=0.0.4; charset=utf-8", "no-store");
    }
    return send_static(conn, r, MHD_HTTP_NOT_FOUND, srv_page_not_found, ct_html);
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    ck_server *s = cls;
    req *r = *req_cls;
    if (!r)
        return;
    static const char *const names[] = {
#define X(e, str) str,
        SRV_ROUTES(X)
#undef X
    };
    if (r->status) {
        srv_metrics_request(&s->metrics, r->route, r->status);
        if (s->p.access_log)
            ck_log(CK_LOG_INFO, "%s %u %.1f ms%s%s", names[r->route], r->status,
                   srv_now_ms() - r->t0, r->tag[0] ? " link " : "", r->tag);
    }
    srv_view_unref(s, r->view);
    free(r->body);
    free(r);
    *req_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* libmicrohttpd's own messages (bind failures, resource limits) go to the one logger at
 * debug level: they may name client addresses. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    ck_log(CK_LOG_DEBUG, "http: %s", buf);
}

ck_status srv_http_start(ck_server *s, ck_error *err)
{
    char host[128];
    snprintf(host, sizeof host, "%s", s->listen);
    char *colon = strrchr(host, ':');
    if (!colon)
        return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "--listen wants HOST:PORT, got \"%s\"",
                            s->listen);
    *colon = '\0';
    const char *port = colon + 1, *h = host;
    if (h[0] == '[') { /* [::1]:8080 */
        h++;
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *ai = NULL;
    if (getaddrinfo(h[0] ? h : NULL, port, &hints, &ai) != 0 || !ai)
        return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "cannot resolve --listen \"%s\"",
                            s->listen);
    if (!s->net) {
        s->net = calloc(1, sizeof *s->net);
        if (!s->net) {
            freeaddrinfo(ai);
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        }
        pthread_mutex_init(&s->net->lock, NULL);
        if (parse_proxies(s->net, s->p.trusted_proxies, err) != CK_OK) {
            freeaddrinfo(ai);
            return err->status;
        }
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The per-address cap is ours (accept_policy), not libmicrohttpd's, which would cap a
     * reverse proxy like any client. Idle and slow clients: the timeout closes a connection
     * silent that long; each costs a socket and HEADER_MEMORY at most, the event loop (epoll)
     * does not wait for any, and max_connections bounds them all. */
    s->http = MHD_start_daemon(
        flags, 0, accept_policy, s, handler, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->p.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->p.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->p.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        completed, s, MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->http)
        return ck_error_set(err, CK_ERR_IO, NULL, 0, 0,
                            "cannot listen on %s (in use, or not an address of this machine)",
                            s->listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->http, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    ck_log(CK_LOG_INFO, "listening on %s (port %d), %d render worker(s), encoder %s", s->listen,
           s->port, s->workers, s->metrics.encoder[0] ? s->metrics.encoder : "none");
    return CK_OK;
}

void srv_http_stop(ck_server *s)
{
    if (s->http)
        MHD_stop_daemon(s->http);
    s->http = NULL;
    if (s->net) {
        pthread_mutex_destroy(&s->net->lock);
        free(s->net);
        s->net = NULL;
    }
}
