/* media_util.c: FFmpeg log routing, atomic file writes, folders. */
#include "ck_media.h"
#include "media_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set while this thread probes hardware that may well be missing (media_quiet). */
static _Thread_local int quiet;

void media_quiet(bool on)
{
    quiet += on ? 1 : -1;
}

static void av_log_to_ck(void *avcl, int level, const char *fmt, va_list vl)
{
    /* The callback replaces FFmpeg's level check too. */
    if (quiet > 0 || level > AV_LOG_WARNING || level > av_log_get_level())
        return;
    char line[1024];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (n)
        ck_log(level <= AV_LOG_ERROR ? CK_LOG_ERROR : CK_LOG_WARN, "ffmpeg: %s", line);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_once_fn(void)
{
    av_log_set_callback(av_log_to_ck);
}

void ck_media_init(void)
{
    pthread_once(&init_once, init_once_fn);
}

ck_status media_averr(ck_error *err, const char *file, int ret, const char *what)
{
    char msg[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(ret, msg, sizeof msg);
    return ck_error_set(err, CK_ERR_MEDIA, file, 0, 0, "%s: %s", what, msg);
}

/* Unique per process and call, so two writers of one path never share a temporary file. */
static _Atomic unsigned long tmp_seq;

char *media_tmp_path(const char *path)
{
    size_t n = strlen(path) + 32;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s.tmp%ld-%lu", path, (long)getpid(), (unsigned long)++tmp_seq);
    return t;
}

ck_status media_commit(const char *tmp, const char *path, ck_error *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot sync: %s", strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot rename into place: %s",
                            strerror(e));
    }
    return CK_OK;
}
