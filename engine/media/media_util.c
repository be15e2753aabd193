/* media_util.c: FFmpeg log routing, atomic file writes, folders. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>

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

/* ---- the MPEG-TS muxer ---- */
#define MUX_DELAY_US 700000 /* video starts at TS time 1.4 s = 126000 (media README) */

ck_status media_ts_muxer(AVFormatContext **oc, const char *path, ck_error *err)
{
    int ret = avformat_alloc_output_context2(oc, NULL, "mpegts", NULL);
    if (ret < 0 || !*oc)
        return media_averr(err, path, ret, "cannot make an MPEG-TS muxer");
    (*oc)->flags |= AVFMT_FLAG_BITEXACT;
    (*oc)->max_delay = MUX_DELAY_US;
    /* Timestamps are absolute on purpose: never shift a segment to start at zero. */
    (*oc)->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    return CK_OK;
}

AVStream *media_ts_audio_stream(AVFormatContext *oc, int channels)
{
    AVStream *ast = avformat_new_stream(oc, NULL);
    if (!ast)
        return NULL;
    AVCodecParameters *ap = ast->codecpar;
    ap->codec_type = AVMEDIA_TYPE_AUDIO;
    ap->codec_id = AV_CODEC_ID_AAC;
    ap->profile = FF_PROFILE_AAC_LOW;
    ap->sample_rate = CK_AUDIO_RATE;
    ap->frame_size = CK_AUDIO_FRAME;
    av_channel_layout_default(&ap->ch_layout, channels);
    ast->time_base = (AVRational){1, CK_AUDIO_RATE};
    return ast;
}

ck_status media_ts_header(AVFormatContext *oc, const char *tmp, const char *path, ck_error *err)
{
    int ret = avio_open(&oc->pb, tmp, AVIO_FLAG_WRITE);
    if (ret < 0)
        return media_averr(err, path, ret, "cannot write the segment");
    AVDictionary *mo = NULL;
    av_dict_set(&mo, "mpegts_flags", "+initial_discontinuity", 0);
    ret = avformat_write_header(oc, &mo);
    av_dict_free(&mo);
    return ret < 0 ? media_averr(err, path, ret, "cannot write the segment header") : CK_OK;
}

ck_status media_ts_audio_packets(AVFormatContext *oc, AVStream *ast, AVPacket *pkt,
                                 const ck_ts_params *p, const char *path, ck_error *err)
{
    for (int i = 0; p->audio && i < ck_audio_packet_count(p->audio); i++) {
        const uint8_t *data;
        int size;
        int64_t pts;
        ck_audio_packet(p->audio, i, &data, &size, &pts);
        if (pts < p->audio_from || pts >= p->audio_to)
            continue;
        if (av_new_packet(pkt, size) < 0)
            return ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        memcpy(pkt->data, data, (size_t)size);
        pkt->pts = pkt->dts = av_rescale_q(pts, (AVRational){1, CK_AUDIO_RATE}, ast->time_base);
        pkt->duration =
            av_rescale_q(CK_AUDIO_FRAME, (AVRational){1, CK_AUDIO_RATE}, ast->time_base);
        pkt->stream_index = ast->index;
        pkt->flags |= AV_PKT_FLAG_KEY;
        int ret = av_interleaved_write_frame(oc, pkt);
        if (ret < 0)
            return media_averr(err, path, ret, "cannot write audio");
    }
    return CK_OK;
}
