/* espeak_helper.c: a small process that forks the children saying the lines
 * (ck_speech_helper_start, ck_speech.h).
 *
 * Every line is said in a child forked for it (espeak.c says why). Forked from a server that
 * has grown to ~250 MB, each fork copied its page tables and each child tore them down again:
 * half of the CPU a new viewer's view costs (perf: copy_page_range, unmap_page_range and the
 * faults around them, 0.16 s a view of assegno-sociale's three lines, bench/README.md,
 * "Speech forked from a small process"). So a server starts this helper first thing, while it
 * is small, and the helper does what espeak.c does in the parent: it looks the voices up (the
 * same calls in the same order, so the children inherit the same state and say the same
 * samples) and forks one child per line, which writes its reply straight into the pipe of the
 * thread that asked (the pipe's end comes with the request, SCM_RIGHTS). The helper is one
 * thread and handles one request at a time; a request is a fork (~1 ms here), so threads
 * asking at once still have their children running at once.
 *
 * Not in sanitizer builds, which spawn a fresh process per line instead (espeak.c). If the
 * helper is gone (killed), lines are forked by this process again, with one warning. */
#include "speech_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_MSG_MAX (64 * 1024) /* a request: header, voice, text (a longer line: no helper) */

enum { OP_HAS_VOICE = 1, OP_SAY = 2 };

typedef struct helper_req {
    int32_t op, wpm;
    uint32_t voice_len, text_len;
} helper_req;

typedef struct helper_ack {
    int32_t status;
    char msg[256];
} helper_ack;

static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER; /* one request at a time */
static atomic_int helper_fd = -1; /* this process's end of the socket; -1: no helper */
static pid_t helper_pid;

/* ---- in the helper ---- */

/* One request: its voice looked up (once per voice, as espeak.c's synth does), and for a line
 * a child forked to say it into `out`. */
static helper_ack handle(const helper_req *q, const char *voice, const char *text, int out)
{
    ck_error e = {0};
    ck_status st = q->op == OP_HAS_VOICE ? espeak_has_voice_here(voice, &e)
                                         : espeak_prepare_here(voice, &e);
    if (st == CK_OK && q->op == OP_SAY) {
        pid_t pid = fork();
        if (pid == 0)
            espeak_child_say(out, voice, q->wpm, text);
        if (pid < 0)
            st = ck_error_set(&e, CK_ERR_IO, "espeak-ng", 0, 0, "cannot fork: %s",
                              strerror(errno));
    }
    helper_ack a = {.status = st};
    if (st != CK_OK) /* espeak.c's own words (never the text) */
        memcpy(a.msg, e.msg, strnlen(e.msg, sizeof a.msg - 1));
    return a;
}

static _Noreturn void helper_main(int sock)
{
    prctl(PR_SET_NAME, "ciak-speech");
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel: their reply says it all */
    /* Ctrl-C and a stop are for the server, which drains; the helper leaves when its socket
     * closes (the server gone, whatever the way). */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    static char buf[HELPER_MSG_MAX + 1];
    for (;;) {
        int out = -1;
        char ctl[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {buf, HELPER_MSG_MAX};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                           .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the server is gone */
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(&out, CMSG_DATA(c), sizeof out);
        helper_req q;
        helper_ack a = {.status = CK_ERR_INVALID, .msg = "a malformed request"};
        if ((size_t)n >= sizeof q) {
            memcpy(&q, buf, sizeof q);
            size_t need = sizeof q + (size_t)q.voice_len + 1 + (size_t)q.text_len + 1;
            char *voice = buf + sizeof q, *text = voice + q.voice_len + 1;
            if (need == (size_t)n && voice[q.voice_len] == '\0' && text[q.text_len] == '\0' &&
                (q.op == OP_HAS_VOICE || (q.op == OP_SAY && out >= 0)))
                a = handle(&q, voice, text, out);
        }
        if (out >= 0)
            close(out);
        if (send(sock, &a, sizeof a, MSG_NOSIGNAL) != (ssize_t)sizeof a)
            break;
    }
    espeak_remove_flat_voices();
    _exit(0);
}

/* ---- in the server ---- */

/* Sanitizer builds spawn every line instead of forking it (espeak.c): no helper there. */
#if defined(__SANITIZE_ADDRESS__)
#define HELPER 0
#else
#define HELPER 1
#endif

ck_status ck_speech_helper_start(ck_error *err)
{
    if (!HELPER)
        return CK_OK;
    pthread_mutex_lock(&helper_lock);
    ck_status st = CK_OK;
    int sv[2];
    if (atomic_load(&helper_fd) >= 0) {
        /* running already */
    } else if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        st = ck_error_set(err, CK_ERR_IO, "espeak-ng", 0, 0, "cannot make a socket: %s",
                          strerror(errno));
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            close(sv[0]);
            helper_main(sv[1]);
        }
        close(sv[1]);
        if (pid < 0) {
            close(sv[0]);
            st = ck_error_set(err, CK_ERR_IO, "espeak-ng", 0, 0,
                              "cannot start the speech process: %s", strerror(errno));
        } else {
            helper_pid = pid;
            atomic_store(&helper_fd, sv[0]);
        }
    }
    pthread_mutex_unlock(&helper_lock);
    return st;
}

/* Sends a request (with `out`, the pipe the child writes to, or -1) and reads the helper's
 * answer; false when there is no helper, or it is gone (then never again: one warning). */
static bool ask(const helper_req *q, const char *voice, const char *text, int out,
                helper_ack *a)
{
    size_t n = sizeof *q + q->voice_len + 1 + q->text_len + 1;
    if (n > HELPER_MSG_MAX)
        return false; /* a line this long is forked here */
    char *buf = malloc(n);
    if (!buf)
        return false;
    memcpy(buf, q, sizeof *q);
    memcpy(buf + sizeof *q, voice, q->voice_len + 1);
    memcpy(buf + sizeof *q + q->voice_len + 1, text, q->text_len + 1);
    char ctl[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {buf, n};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (out >= 0) {
        m.msg_control = ctl;
        m.msg_controllen = sizeof ctl;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &out, sizeof out);
    }
    pthread_mutex_lock(&helper_lock);
    int fd = atomic_load(&helper_fd);
    bool ok = fd >= 0 && sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)n;
    while (ok) {
        ssize_t r = recv(fd, a, sizeof *a, 0);
        if (r < 0 && errno == EINTR)
            continue;
        ok = r == (ssize_t)sizeof *a;
        break;
    }
    if (!ok && fd >= 0) {
        ck_log(CK_LOG_WARN, "speech: the speech process is gone; lines are forked by the "
                            "server itself from now on (more CPU per new viewer)");
        atomic_store(&helper_fd, -1);
        close(fd);
        waitpid(helper_pid, NULL, WNOHANG);
    }
    pthread_mutex_unlock(&helper_lock);
    free(buf);
    return ok;
}

static helper_req request(int op, const char *voice, int wpm, const char *text)
{
    return (helper_req){.op = op,
                        .wpm = wpm,
                        .voice_len = (uint32_t)strlen(voice),
                        .text_len = (uint32_t)strlen(text)};
}

static ck_status answer(const helper_ack *a, ck_error *err)
{
    if (a->status == CK_OK)
        return CK_OK;
    return ck_error_set(err, (ck_status)a->status, "espeak-ng", 0, 0, "%.*s",
                        (int)sizeof a->msg, a->msg);
}

bool espeak_helper_has_voice(const char *voice, ck_status *st, ck_error *err)
{
    helper_req q = request(OP_HAS_VOICE, voice, 0, "");
    helper_ack a;
    if (!ask(&q, voice, "", -1, &a))
        return false;
    *st = answer(&a, err);
    return true;
}

bool espeak_helper_synth(const char *voice, int wpm, const char *text, float **pcm,
                         size_t *frames, int *rate, ck_status *st, ck_error *err)
{
    if (atomic_load(&helper_fd) < 0)
        return false;
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0)
        return false;
    helper_req q = request(OP_SAY, voice, wpm, text);
    helper_ack a;
    bool asked = ask(&q, voice, text, fd[1], &a);
    close(fd[1]); /* the child holds the write end now */
    if (asked && (*st = answer(&a, err)) == CK_OK)
        *st = espeak_read_reply(fd[0], pcm, frames, rate, err);
    close(fd[0]);
    return asked;
}
