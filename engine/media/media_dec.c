/* media_dec.c: background video decoding with libavcodec.
 *
 * The compositor asks for "the frame at source time t" once per output frame, almost always
 * the next frame or the same one; a loop wraps back to the start. Decoding is sequential and
 * seeks (to the keyframe before the target, then decoding forward) only when the time goes
 * back or jumps far ahead. Seeking and decoding forward from a keyframe gives the same pixels
 * as decoding sequentially, so a segment's frames do not depend on what was rendered before:
 * shared segments are byte-identical whatever the render order. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
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
    /* Conversion for sources that are not 4:2:0 with even size. */
    struct SwsContext *sws;
    AVFrame *conv;
};

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

/* Decodes the next frame into d->tmp. Returns 0, AVERROR_EOF at the end, or an error. */
static int decode_next(ck_video_decoder *d)
{
    for (;;) {
        int ret = avcodec_receive_frame(d->dec, d->tmp);
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
        if (d->pkt->stream_index == d->stream)
            ret = avcodec_send_packet(d->dec, d->pkt);
        av_packet_unref(d->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN))
            return ret;
    }
}

static int seek_to(ck_video_decoder *d, int64_t idx)
{
    int64_t ts = d->start_pts +
                 av_rescale_q((int64_t)llround(idx * 1000000.0 / d->fps), AV_TIME_BASE_Q, d->tb);
    int ret = av_seek_frame(d->fmt, d->stream, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0)
        ret = av_seek_frame(d->fmt, d->stream, d->start_pts, AVSEEK_FLAG_BACKWARD);
    avcodec_flush_buffers(d->dec);
    d->eof = false;
    d->cur_idx = -1;
    return ret;
}

/* Brings d->cur to frame `idx` (or the last frame when the file ends first). */
static ck_status advance_to(ck_video_decoder *d, int64_t idx, ck_error *err)
{
    if (d->cur_idx == idx)
        return CK_OK;
    if (d->cur_idx < 0 || idx < d->cur_idx || idx > d->cur_idx + SEEK_AHEAD_FRAMES) {
        int ret = seek_to(d, idx);
        if (ret < 0)
            return ck_media_averr(err, d->path, ret, "seek failed");
    }
    while (d->cur_idx < idx) {
        int ret = decode_next(d);
        if (ret == AVERROR_EOF) {
            if (d->cur_idx >= 0)
                return CK_OK; /* hold the last frame */
            return ck_error_set(err, CK_ERR_MEDIA, d->path, 0, 0, "no frame decodes at frame %lld",
                                (long long)idx);
        }
        if (ret < 0)
            return ck_media_averr(err, d->path, ret, "decoding failed");
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

ck_video_decoder *ck_video_decoder_open(const char *path, ck_error *err)
{
    ck_media_init();
    ck_video_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        return NULL;
    }
    d->cur_idx = -1;
    d->path = strdup(path);
    d->cur = av_frame_alloc();
    d->tmp = av_frame_alloc();
    d->conv = av_frame_alloc();
    d->pkt = av_packet_alloc();
    if (!d->path || !d->cur || !d->tmp || !d->conv || !d->pkt) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    int ret = avformat_open_input(&d->fmt, path, NULL, NULL);
    if (ret < 0) {
        ck_media_averr(err, path, ret, "cannot open video");
        goto fail;
    }
    if ((ret = avformat_find_stream_info(d->fmt, NULL)) < 0) {
        ck_media_averr(err, path, ret, "cannot read video");
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
    if (!(d->dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(d->dec, st->codecpar) < 0) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    /* Slice threads only: frame threads would add latency to every seek. */
    d->dec->thread_count = 2;
    d->dec->thread_type = FF_THREAD_SLICE;
    if ((ret = avcodec_open2(d->dec, codec, NULL)) < 0) {
        ck_media_averr(err, path, ret, "cannot open the video decoder");
        goto fail;
    }
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
    avcodec_free_context(&d->dec);
    avformat_close_input(&d->fmt);
    av_frame_free(&d->cur);
    av_frame_free(&d->tmp);
    av_frame_free(&d->conv);
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

ck_status ck_video_decoder_frame_at(ck_video_decoder *d, double t, bool loop,
                                    ck_gpu_video_frame *out, ck_error *err)
{
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
    bool direct = (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P ||
                   f->format == AV_PIX_FMT_NV12) &&
                  !(f->width & 1) && !(f->height & 1);
    if (!direct) {
        int w = f->width & ~1, h = f->height & ~1;
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
    }
    out->format = f->format == AV_PIX_FMT_NV12 ? CK_GPU_PIX_NV12 : CK_GPU_PIX_YUV420P;
    out->width = f->width;
    out->height = f->height;
    for (int i = 0; i < 3; i++) {
        out->planes[i] = f->data[i];
        out->strides[i] = f->linesize[i];
    }
    return CK_OK;
}
