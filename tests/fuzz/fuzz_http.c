/* fuzz_http.c: one whole HTTP request through the real server: the input is written to a TCP
 * connection to a ck_server (no_render: pages, tokens, the store, analytics, the dashboard
 * login, shared segments) started once on a loopback port, and the answer read back. So
 * libmicrohttpd's parsing, the routing in http.c and viewer.c, token checks, cookies, the
 * events body and the admin pages all see the bytes.
 *
 * "@TOKEN@" in the input is replaced by a genuine link of a stored person, so the corpus
 * reaches what a valid link opens (player page, playlists, guide, events). */
#include "fuzz.h"

#include "ck_server.h"
#include "ck_store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CK_SOURCE_DIR
#define CK_SOURCE_DIR "."
#endif

static ck_server *server;
static int port;
static char token[CK_TOKEN_MAX];

static bool first_handle(void *user, const ck_person *p)
{
    memcpy(user, p->handle, CK_HANDLE_BYTES);
    return false;
}

/* A stored person and a genuine link for them. */
static void make_person(const char *dir)
{
    char path[512];
    ck_error err = {0};
    ck_keyring keys;
    snprintf(path, sizeof path, "%s/keys", dir);
    if (ck_keyring_load(path, false, &keys, &err) != CK_OK)
        abort();
    snprintf(path, sizeof path, "%s/ciak.db", dir);
    ck_store *st = ck_store_open(path, &(ck_store_params){.keys = &keys}, &err);
    int32_t today = ck_today();
    const char *rec = "{\"id\":\"AS-1\",\"first_name\":\"Maria\",\"last_name\":\"Rossi\","
                      "\"gender\":\"F\"}";
    ck_token_claims c = {.expires = today + 30};
    strcpy(c.campaign, "assegno-sociale");
    if (!st || ck_store_put(st, "assegno-sociale", "AS-1", rec, today + 30, NULL, &err) != CK_OK ||
        ck_store_each(st, "assegno-sociale", first_handle, c.handle, &err) != CK_OK ||
        ck_token_sign(&keys, &c, token) == 0)
        abort();
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/ck_fuzz_http_XXXXXX";
    if (!mkdtemp(dir))
        abort();
    static const char *const campaigns[] = {"assegno-sociale", NULL};
    ck_server_params p = {.listen = "127.0.0.1:0",
                          .data_dir = dir,
                          .scenes_dir = CK_SOURCE_DIR "/scenes",
                          .web_dir = CK_SOURCE_DIR "/web",
                          .campaigns = campaigns,
                          .no_render = true,
                          .fail_limit = 1 << 30, /* every input is a new "client" */
                          .per_ip_connections = 1024,
                          .timeout_s = 2,
                          .http_threads = 2};
    ck_log_set(NULL, NULL, CK_LOG_ERROR); /* one line per request would drown the fuzzer */
    ck_error err = {0};
    server = ck_server_create(&p, &err);
    if (!server) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        abort();
    }
    port = ck_server_port(server);
    make_person(dir);
    return 0;
}

/* The input with every "@TOKEN@" replaced (malloc'd). */
static char *expand(const uint8_t *data, size_t size, size_t *out_len)
{
    static const char mark[] = "@TOKEN@";
    size_t ml = sizeof mark - 1, tl = strlen(token), n = 0;
    char *out = malloc(size * (tl > ml ? tl : ml) / ml + tl + 1);
    if (!out)
        abort();
    for (size_t i = 0; i < size;) {
        if (i + ml <= size && memcmp(data + i, mark, ml) == 0) {
            memcpy(out + n, token, tl);
            n += tl;
            i += ml;
        } else {
            out[n++] = (char)data[i++];
        }
    }
    *out_len = n;
    return out;
}

/* True when `buf` holds a whole answer: headers and Content-Length bytes of body (none for
 * HEAD, 204 and 304). */
static bool answer_complete(const char *buf, size_t n, bool head)
{
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t hlen = (size_t)(end - buf) + 4;
    if (head || (n > 12 && (memcmp(buf + 9, "204", 3) == 0 || memcmp(buf + 9, "304", 3) == 0)))
        return true;
    for (const char *p = buf; p < end; p++) {
        if ((p == buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
            size_t body = strtoul(p + 15, NULL, 10);
            return n >= hlen + body;
        }
    }
    return false;
}

/* Reads the first answer. The connection may stay open after it (HTTP/1.1 keep-alive), so
 * a complete answer ends the read; otherwise the server closing it, or silence: 150 ms
 * before the answer starts (an incomplete request waits for the server's idle timeout, 2 s:
 * the server goes on with it after the input has moved on, which is fine), 100 ms once it
 * has (answers without a length). */
static void read_answer(int fd, bool head)
{
    static char buf[1 << 20];
    size_t n = 0;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int wait_ms = 150;
    while (n < sizeof buf - 1 && poll(&pf, 1, wait_ms) > 0) {
        ssize_t got = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (got <= 0)
            break;
        n += (size_t)got;
        if (answer_complete(buf, n, head))
            break;
        wait_ms = 100;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!server)
        LLVMFuzzerInitialize(NULL, NULL);
    size_t len;
    char *req = expand(data, size, &len);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        abort(); /* the server is gone: it crashed or stopped listening */
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server closed early (a bad request): fine */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    read_answer(fd, len >= 4 && memcmp(req, "HEAD", 4) == 0);
    close(fd);
    free(req);
    return 0;
}
