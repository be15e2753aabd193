/* media_dec.c: background video decoding with libavcodec.
 *
 * The compositor asks for "the frame at source time t" once per output frame, almost always
 * the next frame or the same one; a loop wraps back to the start. Decoding is sequential and
 * seeks (to the keyframe before the target, then decoding forward) only when the time goes
 * back or jumps far ahead. Seeking and decoding forward from a keyframe gives the same pixels
 * as decoding sequentially, so a segment's frames do not depend on what was rendered before:
 * shared segments are byte-identical whatever the render order.
 *
 * Hardware decoding: CUDA (NVDEC), then VAAPI, tried when a decoder opens (CIAK_HWDEC=none,
 * cuda or vaapi to choose); H.264 decoding is bit-exact, so the pixels are the same as in
 * software. Frames are copied to system memory (NV12) only for the frame asked for. With no
 * device, or when the codec or size is not supported there, decoding stays in software (one
 * log line per process says which was used and why).
 *
 * Decoding a frame ahead: once a frame is handed out, a thread of the decoder's own makes the
 * decoding call that would come next (decode_next, exactly as the next request would make it,
 * into a frame of its own), while the caller composites and encodes; the next request waits
 * for it and takes that frame first. The calls and their order are those of decoding without
 * it, so the frames are the same (test_media compares); a seek drops the frame ahead. The
 * background's decoding (a quarter of libx264's cost at 720p, single-sliced sources decode on
 * one thread) then runs beside the encoder instead of before it. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Decode forward instead of seeking when the target is at most this many frames ahead. */
#define SEEK_AHEAD_FRAMES 48

struct ck_video_decoder {
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    AVRational tb;     /* stream time base */
    int64_t start_pts; /* first frame's pts */
    double fps;
    int64_t frames;  /* frame count */
    AVFrame *cur;    /* the last decoded frame */
    int64_t cur_idx; /* its frame index, -1 = none */
    AVFrame *tmp;
    AVPacket *pkt;
    bool eof;
    /* Conversion for sources that are not 4:2:0 with even size, or to out_w x out_h. */
    struct SwsContext *sws;
    AVFrame *conv;
    int out_w, out_h; /* 0: the source's size */
    int64_t conv_idx; /* the frame conv holds, -1: none */
    /* Hardware decoding: the device's pixel format (AV_PIX_FMT_NONE: software) and the frame
     * copied back to system memory. */
    enum AVPixelFormat hw_fmt;
    const char *hw_name;
    AVFrame *sw;
    /* Decoding ahead (above). The worker owns fmt, dec, pkt, eof and `ahead` while `busy`;
     * everyone else waits for !busy before touching them. */
    bool ahead_on;      /* look ahead at all (ck_video_decoder_set_ahead) */
    bool ahead_ready;   /* `ahead` holds the next decode_next result (ahead_ret) */
    int ahead_ret;      /* its return value: 0, AVERROR_EOF or an error */
    AVFrame *ahead;     /* its frame when ahead_ret is 0 */
    int64_t ahead_hits; /* requests served from it */
    /* What decoding cost, logged when the decoder goes (debug level): frames decoded (ahead
     * included), distinct frames handed out, seeks. Decoded / asked well above 1 means the
     * decoder is sent back often (a server rendering many viewers' same moments). */
    int64_t decoded, asked, seeks;
    /* While walking from a seek's keyframe to its target: frames before this index that no
     * other frame refers to (non-reference pictures) are not decoded at all (-1: decode
     * everything). Set and cleared on the caller's thread, with nothing decoded ahead. */
    int64_t skip_before;
    int64_t skipped; /* packets sent with skipping on (for tests and measurements) */
    bool thread_up, busy, quit;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* ---- hardware decoding ---- */

static const enum AVHWDeviceType hw_order[] = {AV_HWDEVICE_TYPE_CUDA, AV_HWDEVICE_TYPE_VAAPI};

static enum AVPixelFormat pick_format(AVCodecContext *c, const enum AVPixelFormat *offered)
{
    const ck_video_decoder *d = c->opaque;
    for (const enum AVPixelFormat *p = offered; *p != AV_PIX_FMT_NONE; p++)
        if (*p == d->hw_fmt)
            return *p;
    /* The device cannot take this stream (profile, size): the first software format. */
    for (const enum AVPixelFormat *p = offered; *p != AV_PIX_FMT_NONE; p++) {
        const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(*p);
        if (desc && !(desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
            return *p;
    }
    return AV_PIX_FMT_NONE;
}

/* Attaches the first hardware device that opens and can decode `codec` to d->dec. Writes
 * what happened into `why` (for the log line). */
static void hw_attach(ck_video_decoder *d, const AVCodec *codec, char *why, size_t size)
{
    const char *want = getenv("CIAK_HWDEC");
    why[0] = 0;
    if (want && strcmp(want, "none") == 0) {
        snprintf(why, size, "CIAK_HWDEC=none");
        return;
    }
    size_t n = 0;
    for (size_t k = 0; k < sizeof hw_order / sizeof hw_order[0]; k++) {
        enum AVHWDeviceType type = hw_order[k];
        const char *name = av_hwdevice_get_type_name(type);
        if (want && *want && strcmp(want, "auto") != 0 && strcmp(want, name) != 0)
            continue;
        enum AVPixelFormat fmt = AV_PIX_FMT_NONE;
        for (int i = 0;; i++) {
            const AVCodecHWConfig *cfg = avcodec_get_hw_config(codec, i);
            if (!cfg)
                break;
            if ((cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) &&
                cfg->device_type == type) {
                fmt = cfg->pix_fmt;
                break;
            }
        }
        /* A device type that failed once fails again: not probed per decoder. */
        static _Atomic int failed[sizeof hw_order / sizeof hw_order[0]]; /* the error, 0: none */
        AVBufferRef *dev = NULL;
        int ret = fmt == AV_PIX_FMT_NONE ? AVERROR(ENOSYS) : atomic_load(&failed[k]);
        if (ret == 0) {
            media_quiet(true);
            ret = av_hwdevice_ctx_create(&dev, type, NULL, NULL, 0);
            media_quiet(false);
            if (ret < 0)
                atomic_store(&failed[k], ret);
        }
        if (ret < 0) {
            char e[128];
            av_strerror(ret, e, sizeof e);
            if (n < size)
                n += (size_t)snprintf(why + n, size - n, "%s%s: %s%s", n ? "; " : "", name,
                                      fmt == AV_PIX_FMT_NONE ? "not for this codec"
                                                             : "no usable device: ",
                                      fmt == AV_PIX_FMT_NONE ? "" : e);
            continue;
        }
        d->dec->hw_device_ctx = dev;
        d->dec->opaque = d;
        d->dec->get_format = pick_format;
        d->hw_fmt = fmt;
        d->hw_name = name;
        return;
    }
    if (want && *want && strcmp(want, "auto") != 0 && !n)
        snprintf(why, size, "CIAK_HWDEC=%s is not one of cuda, vaapi, none", want);
}

/* One line per process and outcome (not per decoder: a server opens many): which decoding
 * the background videos use, and why not the hardware. */
static void hw_report(const ck_video_decoder *d, const char *why)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char last[600];
    char line[600];
    if (d->hw_name)
        snprintf(line, sizeof line, "video decode: hardware (%s)", d->hw_name);
    else
        snprintf(line, sizeof line, "video decode: software%s%s%s", why[0] ? " (" : "", why,
                 why[0] ? ")" : "");
    pthread_mutex_lock(&lock);
    bool news = strcmp(line, last) != 0;
    if (news)
        snprintf(last, sizeof last, "%s", line);
    pthread_mutex_unlock(&lock);
    if (news)
        ck_log(CK_LOG_INFO, "%s", line);
}

static int64_t frame_index(const ck_video_decoder *d, const AVFrame *f)
{
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = f->pts;
    if (pts == AV_NOPTS_VALUE)
        return d->cur_idx + 1;
    double s = (double)(pts - d->start_pts) * av_q2d(d->tb);
    return (int64_t)floor(s * d->fps + 0.5);
}

/* May the picture in `pkt` be left undecoded if no other picture refers to it? Only on the
 * walk to a seek's target, and only before it: such a picture is never shown (the walk keeps
 * the frames from the target on), and one that is not a reference changes no other frame, so
 * the target and every frame after it decode to the same pixels (test_media compares). */
static bool skippable(const ck_video_decoder *d, const AVPacket *pkt)
{
    if (d->skip_before < 0 || pkt->pts == AV_NOPTS_VALUE)
        return false;
    double s = (double)(pkt->pts - d->start_pts) * av_q2d(d->tb);
    return (int64_t)floor(s * d->fps + 0.5) < d->skip_before;
}

/* Decodes the next frame into `into`. Returns 0, AVERROR_EOF at the end, or an error. */
static int decode_into(ck_video_decoder *d, AVFrame *into)
{
    for (;;) {
        int ret = avcodec_receive_frame(d->dec, into);
        d->decoded += ret == 0; /* one thread at a time owns the decoder (busy) */
        if (ret != AVERROR(EAGAIN))
            return ret;
        if (d->eof)
            return AVERROR_EOF;
        ret = av_read_frame(d->fmt, d->pkt);
        if (ret == AVERROR_EOF) {
            d->eof = true;
            avcodec_send_packet(d->dec, NULL);
            continue;
        }
        if (ret < 0)
            return ret;
        if (d->pkt->stream_index == d->stream) {
            /* The decoder decodes what it is sent now (slice threads only), under this
             * packet's setting. */
            bool skip = skippable(d, d->pkt);
            d->dec->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
            d->skipped += skip;
            ret = avcodec_send_packet(d->dec, d->pkt);
        }
        av_packet_unref(d->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN))
            return ret;
    }
}

/* ---- decoding ahead ---- */
static void *ahead_main(void *arg)
{
    ck_video_decoder *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->busy && !d->quit)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->quit)
            break;
        pthread_mutex_unlock(&d->mu);
        int ret = decode_into(d, d->ahead); /* the state is the worker's while busy */
        pthread_mutex_lock(&d->mu);
        d->ahead_ret = ret;
        d->ahead_ready = true;
        d->busy = false;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Waits until the worker is done with the decoder's state. */
static void ahead_wait(ck_video_decoder *d)
{
    if (!d->thread_up)
        return;
    pthread_mutex_lock(&d->mu);
    while (d->busy)
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
}

/* Drops the frame ahead (a seek: the decoder is flushed and goes elsewhere). */
static void ahead_drop(ck_video_decoder *d)
{
    ahead_wait(d);
    if (d->ahead_ready)
        av_frame_unref(d->ahead);
    d->ahead_ready = false;
}

/* Starts decoding the next frame on the worker (started on first use; without it, nothing
 * is decoded ahead). */
static void ahead_start(ck_video_decoder *d)
{
    ahead_wait(d);
    if (!d->ahead_on || d->ahead_ready || d->eof || !d->ahead)
        return;
    if (!d->thread_up) {
        if (pthread_mutex_init(&d->mu, NULL) != 0)
            return;
        if (pthread_cond_init(&d->cv, NULL) != 0) {
            pthread_mutex_destroy(&d->mu);
            return;
        }
        if (pthread_create(&d->thread, NULL, ahead_main, d) != 0) {
            pthread_cond_destroy(&d->cv);
            pthread_mutex_destroy(&d->mu);
            d->ahead_on = false;
            return;
        }
        d->thread_up = true;
    }
    pthread_mutex_lock(&d->mu);
    d->busy = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* The next decoded frame into d->tmp: the one decoded ahead if there is one, else decoded
 * now. Same return values as decode_into. */
static int decode_next(ck_video_decoder *d)
{
    ahead_wait(d);
    if (!d->ahead_ready)
        return decode_into(d, d->tmp);
    d->ahead_ready = false;
    if (d->ahead_ret == 0) {
        av_frame_unref(d->tmp);
        av_frame_move_ref(d->tmp, d->ahead);
        d->ahead_hits++;
    }
    return d->ahead_ret;
}

static int seek_to(ck_video_decoder *d, int64_t idx)
{
    ahead_drop(d);
    int64_t ts = d->start_pts +
                 av_rescale_q((int64_t)llround(idx * 1000000.0 / d->fps), AV_TIME_BASE_Q, d->tb);
    int ret = av_seek_frame(d->fmt, d->stream, ts, AVSEEK_FLAG_BACKWARD);
    d->seeks++;
    if (ret < 0)
        ret = av_seek_frame(d->fmt, d->stream, d->start_pts, AVSEEK_FLAG_BACKWARD);
    avcodec_flush_buffers(d->dec);
    d->eof = false;
    d->cur_idx = -1;
    return ret;
}

static ck_status walk_to(ck_video_decoder *d, int64_t idx, ck_error *err);

/* Brings d->cur to frame `idx` (or the last frame when the file ends first). */
static ck_status advance_to(ck_video_decoder *d, int64_t idx, ck_error *err)
{
    if (d->cur_idx == idx)
        return CK_OK;
    d->asked++;
    if (d->cur_idx < 0 || idx < d->cur_idx || idx > d->cur_idx + SEEK_AHEAD_FRAMES) {
        int ret = seek_to(d, idx);
        if (ret < 0)
            return media_averr(err, d->path, ret, "seek failed");
        d->skip_before = idx; /* nothing is decoded ahead after a seek (ahead_drop) */
    }
    ck_status st = walk_to(d, idx, err);
    if (d->skip_before >= 0 && (st != CK_OK || d->cur_idx < idx)) {
        /* The file ended (or failed) before the target: the frame to hold is the last one,
         * which may have been skipped. Walk again decoding everything (a file cut short). */
        d->skip_before = -1;
        int ret = seek_to(d, idx);
        st = ret < 0 ? media_averr(err, d->path, ret, "seek failed") : walk_to(d, idx, err);
    }
    d->skip_before = -1;
    return st;
}

/* Decodes forward until d->cur is frame `idx`, or past it, or the file's last frame. */
static ck_status walk_to(ck_video_decoder *d, int64_t idx, ck_error *err)
{
    while (d->cur_idx < idx) {
        int ret = decode_next(d);
        if (ret == AVERROR_EOF) {
            if (d->cur_idx >= 0)
                return CK_OK; /* hold the last frame */
            return ck_error_set(err, CK_ERR_MEDIA, d->path, 0, 0, "no frame decodes at frame %lld",
                                (long long)idx);
        }
        if (ret < 0)
            return media_averr(err, d->path, ret, "decoding failed");
        int64_t fi = frame_index(d, d->tmp);
        /* Keep frames up to the target; a frame past it (timestamp gaps) also ends the walk. */
        av_frame_unref(d->cur);
        av_frame_move_ref(d->cur, d->tmp);
        d->cur_idx = fi;
        if (fi > idx)
            break;
    }
    return CK_OK;
}

/* A decoder context for the stream in d->dec (not opened yet); false when out of memory. */
static bool new_context(ck_video_decoder *d, const AVCodec *codec, const AVStream *st)
{
    if (!(d->dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(d->dec, st->codecpar) < 0)
        return false;
    /* Slice threads only: frame threads would add latency to every seek. */
    d->dec->thread_count = 2;
    d->dec->thread_type = FF_THREAD_SLICE;
    return true;
}

ck_video_decoder *ck_video_decoder_open(const char *path, ck_error *err)
{
    ck_media_init();
    ck_video_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        return NULL;
    }
    d->cur_idx = d->conv_idx = d->skip_before = -1;
    d->hw_fmt = AV_PIX_FMT_NONE;
    d->path = strdup(path);
    d->cur = av_frame_alloc();
    d->tmp = av_frame_alloc();
    d->ahead = av_frame_alloc(); /* NULL: no decoding ahead */
    d->ahead_on = true;
    d->conv = av_frame_alloc();
    d->sw = av_frame_alloc();
    d->pkt = av_packet_alloc();
    if (!d->path || !d->cur || !d->tmp || !d->conv || !d->sw || !d->pkt) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    int ret = avformat_open_input(&d->fmt, path, NULL, NULL);
    if (ret < 0) {
        media_averr(err, path, ret, "cannot open video");
        goto fail;
    }
    if ((ret = avformat_find_stream_info(d->fmt, NULL)) < 0) {
        media_averr(err, path, ret, "cannot read video");
        goto fail;
    }
    const AVCodec *codec = NULL;
    d->stream = av_find_best_stream(d->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (d->stream < 0 || !codec) {
        ck_error_set(err, CK_ERR_MEDIA, path, 0, 0, "no decodable video stream");
        goto fail;
    }
    AVStream *st = d->fmt->streams[d->stream];
    d->tb = st->time_base;
    d->start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    d->fps = fr.num && fr.den ? av_q2d(fr) : 0;
    if (!(d->fps > 0 && d->fps < 1000)) {
        ck_error_set(err, CK_ERR_MEDIA, path, 0, 0, "video has no usable frame rate");
        goto fail;
    }
    double dur = st->duration != AV_NOPTS_VALUE ? st->duration * av_q2d(st->time_base)
                                                : d->fmt->duration / (double)AV_TIME_BASE;
    d->frames = st->nb_frames > 0 ? st->nb_frames : (int64_t)llround(dur * d->fps);
    if (d->frames <= 0) {
        ck_error_set(err, CK_ERR_MEDIA, path, 0, 0, "video has no frames");
        goto fail;
    }
    if (!new_context(d, codec, st)) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    char why[512];
    hw_attach(d, codec, why, sizeof why);
    if ((ret = avcodec_open2(d->dec, codec, NULL)) < 0 && d->hw_name) {
        /* The device took the context but not the stream: software from scratch. */
        snprintf(why, sizeof why, "%s: cannot open the decoder there", d->hw_name);
        avcodec_free_context(&d->dec);
        d->hw_name = NULL;
        d->hw_fmt = AV_PIX_FMT_NONE;
        if (!new_context(d, codec, st)) {
            ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
            goto fail;
        }
        ret = avcodec_open2(d->dec, codec, NULL);
    }
    if (ret < 0) {
        media_averr(err, path, ret, "cannot open the video decoder");
        goto fail;
    }
    hw_report(d, why);
    ck_gpu_video_frame probe;
    if (ck_video_decoder_frame_at(d, 0, false, &probe, err) != CK_OK)
        goto fail;
    return d;
fail:
    ck_video_decoder_destroy(&d);
    return NULL;
}

void ck_video_decoder_destroy(ck_video_decoder **pd)
{
    ck_video_decoder *d = pd ? *pd : NULL;
    if (!d)
        return;
    if (d->thread_up) {
        ahead_wait(d);
        pthread_mutex_lock(&d->mu);
        d->quit = true;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
    }
    if (d->asked > 0) {
        const char *name = strrchr(d->path, '/');
        ck_log(CK_LOG_DEBUG,
               "video decode: %s: %lld frames decoded for %lld asked (%.2f per frame), %lld seeks",
               name ? name + 1 : d->path, (long long)d->decoded, (long long)d->asked,
               (double)d->decoded / (double)d->asked, (long long)d->seeks);
    }
    av_frame_free(&d->ahead);
    avcodec_free_context(&d->dec);
    avformat_close_input(&d->fmt);
    av_frame_free(&d->cur);
    av_frame_free(&d->tmp);
    av_frame_free(&d->conv);
    av_frame_free(&d->sw);
    av_packet_free(&d->pkt);
    sws_freeContext(d->sws);
    free(d->path);
    free(d);
    *pd = NULL;
}

double ck_video_decoder_duration(const ck_video_decoder *d)
{
    return (double)d->frames / d->fps;
}

int64_t ck_video_decoder_frames(const ck_video_decoder *d)
{
    return d->frames;
}

void ck_video_decoder_size(const ck_video_decoder *d, int *width, int *height)
{
    const AVCodecParameters *cp = d->fmt->streams[d->stream]->codecpar;
    *width = cp->width;
    *height = cp->height;
}

void ck_video_decoder_set_size(ck_video_decoder *d, int width, int height)
{
    d->out_w = width > 0 && height > 0 ? width & ~1 : 0;
    d->out_h = width > 0 && height > 0 ? height & ~1 : 0;
    d->conv_idx = -1;
}

ck_status ck_video_decoder_frame_at(ck_video_decoder *d, double t, bool loop,
                                    ck_gpu_video_frame *out, ck_error *err)
{
    ahead_wait(d); /* the decoder's state is this thread's again */
    if (!(t >= 0))
        t = 0;
    /* The small epsilon keeps t = n / fps on frame n despite rounding. */
    int64_t idx = (int64_t)floor(t * d->fps + 1e-6);
    if (loop)
        idx %= d->frames;
    else if (idx >= d->frames)
        idx = d->frames - 1;
    ck_status st = advance_to(d, idx, err);
    if (st != CK_OK)
        return st;
    AVFrame *f = d->cur;
    if (d->hw_fmt != AV_PIX_FMT_NONE && f->format == d->hw_fmt) {
        /* Copied back once per frame asked for (NV12 from both CUDA and VAAPI). */
        av_frame_unref(d->sw);
        int ret = av_hwframe_transfer_data(d->sw, f, 0);
        if (ret < 0)
            return media_averr(err, d->path, ret, "cannot copy a decoded frame from the device");
        f = d->sw;
    }
    bool sized = !d->out_w || (f->width == d->out_w && f->height == d->out_h);
    bool direct = (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P ||
                   f->format == AV_PIX_FMT_NV12) &&
                  !(f->width & 1) && !(f->height & 1) && sized;
    if (!direct && d->conv_idx == idx) {
        f = d->conv; /* held: converted already */
    } else if (!direct) {
        int w = d->out_w ? d->out_w : f->width & ~1, h = d->out_w ? d->out_h : f->height & ~1;
        if (w < 2 || h < 2)
            return ck_error_set(err, CK_ERR_MEDIA, d->path, 0, 0, "video frame too small");
        d->sws = sws_getCachedContext(d->sws, f->width, f->height, f->format, w, h,
                                      AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (!d->sws)
            return ck_error_set(err, CK_ERR_MEDIA, d->path, 0, 0, "cannot convert pixel format %d",
                                f->format);
        if (d->conv->width != w || d->conv->height != h) {
            av_frame_unref(d->conv);
            d->conv->format = AV_PIX_FMT_YUV420P;
            d->conv->width = w;
            d->conv->height = h;
            if (av_frame_get_buffer(d->conv, 0) < 0)
                return ck_error_set(err, CK_ERR_NOMEM, d->path, 0, 0, "out of memory");
        }
        sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, d->conv->data,
                  d->conv->linesize);
        f = d->conv;
        d->conv_idx = idx;
    }
    ahead_start(d); /* the next frame, while the caller works on this one */
    out->format = f->format == AV_PIX_FMT_NV12 ? CK_GPU_PIX_NV12 : CK_GPU_PIX_YUV420P;
    out->width = f->width;
    out->height = f->height;
    for (int i = 0; i < 3; i++) {
        out->planes[i] = f->data[i];
        out->strides[i] = f->linesize[i];
    }
    return CK_OK;
}

void ck_video_decoder_set_ahead(ck_video_decoder *d, bool on)
{
    ahead_drop(d);
    d->ahead_on = on && d->ahead;
}

int64_t ck_video_decoder_ahead_hits(const ck_video_decoder *d)
{
    return d->ahead_hits;
}

void ck_video_decoder_counts(const ck_video_decoder *d, int64_t *decoded, int64_t *skipped)
{
    *decoded = d->decoded;
    *skipped = d->skipped;
}
