/* bench_http.c: the HTTP client of `ciak bench serve`: blocking sockets, HTTP/1.1 keep-alive,
 * bodies delimited by Content-Length (every answer of ciak's server has one). Small on
 * purpose: a client that costs little CPU leaves the two cores to the server being measured. */
#include "bench_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void bench_sleep_until(double t_s)
{
    double d = t_s - ck_now_s();
    if (d <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *v, int n, double q)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)(q * n + 0.999999) - 1; /* nearest rank */
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

void bench_conn_init(bench_conn *c, int port, int source)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->port = port;
    c->source = source;
}

void bench_conn_close(bench_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static bool conn_open(bench_conn *c)
{
    bench_conn_close(c);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    double t = c->timeout_s > 0 ? c->timeout_s : 60;
    struct timeval tv = {.tv_sec = (time_t)t, .tv_usec = (suseconds_t)((t - (time_t)t) * 1e6)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->source > 0) {
        struct sockaddr_in src = {.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)c->source)};
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            close(fd);
            return false;
        }
    }
    struct sockaddr_in dst = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)c->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return false;
    }
    c->fd = fd;
    return true;
}

/* Reads more into c->buf; false on EOF, error or timeout. */
static bool fill(bench_conn *c)
{
    if (c->len == sizeof c->buf)
        return false; /* a header block larger than the buffer: not ciak's */
    ssize_t n;
    do
        n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    c->len += (size_t)n;
    return true;
}

static void consume(bench_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* One request/response on an open connection; false on a transport problem. */
static bool exchange(bench_conn *c, const char *path, bool head, bool keep_body, bench_resp *r)
{
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                     head ? "HEAD" : "GET", path);
    if (n <= 0 || (size_t)n >= sizeof req)
        return false;
    for (int sent = 0; sent < n;) {
        ssize_t k = send(c->fd, req + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (k <= 0)
            return false;
        sent += (int)k;
    }
    char *end;
    while (!(c->len >= 4 && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))))
        if (!fill(c))
            return false;
    size_t hlen = (size_t)(end - c->buf) + 4;
    end[2] = '\0'; /* the header block, for sscanf and strcasestr */
    int status = 0;
    if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
        return false;
    int64_t clen = -1;
    bool close_after = false;
    for (char *line = strstr(c->buf, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            clen = strtoll(line + 17, NULL, 10);
        else if (strncasecmp(line + 2, "Connection: close", 17) == 0)
            close_after = true;
    }
    consume(c, hlen);
    if (head || status == 304 || status == 204)
        clen = 0;
    if (clen < 0)
        return false; /* chunked or close-delimited: ciak never answers so */
    char *body = keep_body ? malloc((size_t)clen + 1) : NULL;
    if (keep_body && !body)
        return false;
    int64_t got = 0;
    while (got < clen) {
        if (c->len == 0 && !fill(c)) {
            free(body);
            return false;
        }
        size_t take = c->len < (size_t)(clen - got) ? c->len : (size_t)(clen - got);
        if (body)
            memcpy(body + got, c->buf, take);
        consume(c, take);
        got += (int64_t)take;
    }
    if (body)
        body[got] = '\0';
    r->status = status;
    r->bytes = got;
    r->body = body;
    if (close_after)
        bench_conn_close(c);
    return true;
}

bool bench_get(bench_conn *c, const char *path, bool head, bool keep_body, bench_resp *r)
{
    *r = (bench_resp){0};
    /* A kept-alive connection the server closed (idle timeout) fails on first use: one retry
     * on a fresh connection. */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = c->fd >= 0;
        if (!reused && !conn_open(c))
            return false;
        if (exchange(c, path, head, keep_body, r)) {
            c->last_status = r->status;
            return true;
        }
        c->last_status = 0;
        bench_conn_close(c);
        if (!reused)
            return false;
    }
    return false;
}

double bench_metric(int port, const char *name)
{
    bench_conn c;
    bench_conn_init(&c, port, 0);
    c.timeout_s = 10;
    bench_resp r;
    double v = -1;
    if (bench_get(&c, "/metrics", false, true, &r) && r.status == 200 && r.body) {
        size_t n = strlen(name);
        for (char *line = r.body; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
            if (strncmp(line, name, n) == 0 && line[n] == ' ') {
                v = strtod(line + n + 1, NULL);
                break;
            }
    }
    free(r.body);
    bench_conn_close(&c);
    return v;
}
