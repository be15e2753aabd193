/* media_enc.c: H.264 encoders (probed at run time), the MPEG-TS segment writer and the MP4
 * remux.
 *
 * One encoder session per segment: its first frame is an IDR, so every segment starts clean
 * whatever segment was encoded before it (in this process or another one). Timestamps come
 * from the absolute frame number, so separately made segments splice into one stream.
 * libx264 is deterministic for fixed settings and thread count, and nothing written depends on
 * the clock: the same frames give the same bytes. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ck_media_encoders[] = {"h264_nvenc", "h264_vaapi", "libx264", NULL};

/* The longest GOP an encoder session may make: segments are shorter, so the only keyframe of a
 * segment is its first frame. */
#define MAX_GOP 600
/* From this height up libx264 encodes two slices per picture on two threads. */
#define SLICED_FROM_LINES 720
/* MPEG-TS mux delay (as the ffmpeg command uses): PTS = 0.7 s + media time. */

void ck_enc_config_defaults(ck_enc_config *c)
{
    if (c->fps_num <= 0 || c->fps_den <= 0) {
        c->fps_num = 30;
        c->fps_den = 1;
    }
    if (c->quality <= 0)
        c->quality = 23;
    if (c->maxrate <= 0)
        c->maxrate = (int64_t)llround(3000000.0 * c->width * c->height / (1280.0 * 720.0));
    if (c->maxrate < 200000)
        c->maxrate = 200000;
    if (c->bufsize <= 0)
        c->bufsize = c->maxrate;
    /* Never frame threads: they plan VBV from the estimated sizes of the frames other
     * threads are still encoding, so their bytes depend on timing (a 2 s segment came out in
     * two encodes in one run of `ciak warm` in three). Sliced threads are exact (each thread
     * encodes its own rows of every picture): from 720 lines up two slices, which let the
     * encoding thread use the core the compositor leaves idle (a 720p segment in a burst of
     * 12 new viewers: 259-313 ms against 287-395, bytes +2 %); smaller pictures one thread,
     * where the encoder is not what binds and slices cost 15 % more bytes. The count is a
     * function of the size alone, so every node makes the same bytes (bench/README.md). */
    if (c->threads <= 0)
        c->threads = c->height >= SLICED_FROM_LINES ? 2 : 1;
    if (!c->preset)
        c->preset = "veryfast";
}

/* H.264 level for the size and rate (Table A-1: frame size and macroblock rate). */
static int h264_level(const ck_enc_config *c)
{
    static const struct {
        int level;
        long fs, mbps;
    } t[] = {{30, 1620, 40500},  {31, 3600, 108000},  {32, 5120, 216000},  {40, 8192, 245760},
             {42, 8704, 522240}, {50, 22080, 589824}, {51, 36864, 983040}, {52, 36864, 2073600}};
    long fs = (long)((c->width + 15) / 16) * ((c->height + 15) / 16);
    double mbps = fs * (double)c->fps_num / c->fps_den;
    for (size_t i = 0; i < CK_ARRAY_LEN(t); i++)
        if (fs <= t[i].fs && mbps <= t[i].mbps)
            return t[i].level;
    return 52;
}

void ck_enc_config_codecs(const ck_enc_config *c, char *buf, size_t size)
{
    snprintf(buf, size, "avc1.6400%02x", h264_level(c));
}

void ck_enc_config_fingerprint(const ck_enc_config *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s %dx%d %d/%d q%d max%lld buf%lld t%d p%s gop%d %s", c->encoder,
             LIBAVCODEC_IDENT, c->width, c->height, c->fps_num, c->fps_den, c->quality,
             (long long)c->maxrate, (long long)c->bufsize, c->threads, c->preset, MAX_GOP,
             LIBAVFORMAT_IDENT);
}

int64_t ck_enc_config_peak_bitrate(const ck_enc_config *c, double min_seconds,
                                   int64_t audio_bitrate)
{
    if (min_seconds <= 0)
        min_seconds = 1;
    /* A segment may spend the VBV buffer on top of maxrate; MPEG-TS adds about 8 %. */
    double video = (double)c->maxrate + (double)c->bufsize / min_seconds;
    return (int64_t)llround((video + (double)audio_bitrate) * 1.08);
}

/* ---- one encoder session ---- */
typedef struct enc_session {
    AVCodecContext *ctx;
    AVBufferRef *hw_device; /* vaapi */
    AVFrame *hw_frame;
} enc_session;

static void enc_close(enc_session *s)
{
    avcodec_free_context(&s->ctx);
    av_frame_free(&s->hw_frame);
    av_buffer_unref(&s->hw_device);
}

static ck_status enc_open(enc_session *s, const ck_enc_config *c, bool quiet, ck_error *err)
{
    memset(s, 0, sizeof *s);
    const AVCodec *codec = avcodec_find_encoder_by_name(c->encoder);
    if (!codec)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                            "encoder %s is not in this FFmpeg build", c->encoder);
    AVCodecContext *x = s->ctx = avcodec_alloc_context3(codec);
    if (!x)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    x->width = c->width;
    x->height = c->height;
    x->time_base = (AVRational){c->fps_den, c->fps_num};
    x->framerate = (AVRational){c->fps_num, c->fps_den};
    x->sample_aspect_ratio = (AVRational){1, 1};
    x->pix_fmt = AV_PIX_FMT_NV12;
    x->gop_size = MAX_GOP;
    x->keyint_min = MAX_GOP;
    /* No B-frames: with them libx264 0.164's MB-tree reads heap memory it never wrote on some
     * content (its bytes changed with MALLOC_PERTURB_ and with whatever ran before in the
     * process), so one digest named several encodes. Costs ~12 % more bytes at the same
     * PSNR (naspi-accolta, 320x180); tests/cli/identity.sh checks the bytes. */
    x->max_b_frames = 0;
    x->rc_max_rate = c->maxrate;
    x->rc_buffer_size = (int)c->bufsize;
    x->profile = FF_PROFILE_H264_HIGH;
    x->level = h264_level(c);
    x->flags |= AV_CODEC_FLAG_CLOSED_GOP | AV_CODEC_FLAG_BITEXACT;
    x->thread_count = c->threads;
    x->thread_type = FF_THREAD_SLICE; /* more than one thread: slices, never frames */
    /* BT.709 limited range, as the compositor writes it. */
    x->color_range = AVCOL_RANGE_MPEG;
    x->colorspace = AVCOL_SPC_BT709;
    x->color_primaries = AVCOL_PRI_BT709;
    x->color_trc = AVCOL_TRC_BT709;
    AVDictionary *o = NULL;
    char q[16];
    snprintf(q, sizeof q, "%d", c->quality);
    if (strcmp(c->encoder, "libx264") == 0) {
        av_dict_set(&o, "preset", c->preset, 0);
        av_dict_set(&o, "crf", q, 0);
        av_dict_set(&o, "profile", "high", 0);
        /* No scene-cut keyframes, closed GOPs, access unit delimiters for MPEG-TS. */
        av_dict_set(&o, "x264-params", "scenecut=0:open-gop=0:aud=1:force-cfr=1", 0);
    } else if (strcmp(c->encoder, "h264_nvenc") == 0) {
        av_dict_set(&o, "preset", "p4", 0);
        av_dict_set(&o, "rc", "vbr", 0);
        av_dict_set(&o, "cq", q, 0);
        av_dict_set(&o, "profile", "high", 0);
        av_dict_set(&o, "no-scenecut", "1", 0);
        av_dict_set(&o, "strict_gop", "1", 0);
        av_dict_set(&o, "forced-idr", "1", 0);
        av_dict_set(&o, "aud", "1", 0);
        x->bit_rate = c->maxrate / 2;
    } else if (strcmp(c->encoder, "h264_vaapi") == 0) {
        int ret = av_hwdevice_ctx_create(&s->hw_device, AV_HWDEVICE_TYPE_VAAPI, NULL, NULL, 0);
        if (ret < 0) {
            av_dict_free(&o);
            enc_close(s);
            return media_averr(err, NULL, ret, "no VAAPI device");
        }
        AVBufferRef *frames = av_hwframe_ctx_alloc(s->hw_device);
        if (!frames) {
            av_dict_free(&o);
            enc_close(s);
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        }
        AVHWFramesContext *fc = (AVHWFramesContext *)frames->data;
        fc->format = AV_PIX_FMT_VAAPI;
        fc->sw_format = AV_PIX_FMT_NV12;
        fc->width = c->width;
        fc->height = c->height;
        fc->initial_pool_size = 8;
        if ((ret = av_hwframe_ctx_init(frames)) < 0) {
            av_buffer_unref(&frames);
            av_dict_free(&o);
            enc_close(s);
            return media_averr(err, NULL, ret, "cannot make VAAPI frames");
        }
        x->hw_frames_ctx = frames;
        x->pix_fmt = AV_PIX_FMT_VAAPI;
        x->bit_rate = c->maxrate / 2;
        x->global_quality = c->quality;
        av_dict_set(&o, "rc_mode", "QVBR", 0);
        av_dict_set(&o, "aud", "1", 0);
    }
    int ret = avcodec_open2(x, codec, &o);
    av_dict_free(&o);
    if (ret < 0) {
        enc_close(s);
        if (quiet)
            return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "cannot open %s", c->encoder);
        return media_averr(err, NULL, ret, c->encoder);
    }
    return CK_OK;
}

const char *ck_media_probe_encoder(const char *want, const ck_enc_config *cfg, ck_error *err)
{
    ck_media_init();
    const char *order[8];
    int n = 0;
    if (want)
        order[n++] = want;
    for (int i = 0; ck_media_encoders[i]; i++)
        if (!want || strcmp(want, ck_media_encoders[i]) != 0)
            order[n++] = ck_media_encoders[i];
    bool want_known = false;
    for (int i = 0; want && ck_media_encoders[i]; i++)
        want_known |= strcmp(want, ck_media_encoders[i]) == 0;
    for (int i = 0; i < n; i++) {
        ck_enc_config c = *cfg;
        c.encoder = order[i];
        ck_enc_config_defaults(&c);
        enc_session s;
        /* Hardware probes fail routinely (no GPU, no driver): keep FFmpeg quiet meanwhile. */
        if (i < n - 1)
            media_quiet(true);
        ck_error e = {0};
        ck_status st = (want && i == 0 && !want_known)
                           ? ck_error_set(&e, CK_ERR_UNSUPPORTED, NULL, 0, 0, "unknown encoder")
                           : enc_open(&s, &c, true, &e);
        if (i < n - 1)
            media_quiet(false);
        if (st == CK_OK) {
            enc_close(&s);
            if (want && i > 0)
                ck_log(CK_LOG_WARN, "encoder %s is unavailable (%s); falling back to %s", want,
                       e.msg[0] ? e.msg : "cannot open it", order[i]);
            ck_log(CK_LOG_INFO, "encoder: %s", order[i]);
            for (int k = 0; ck_media_encoders[k]; k++)
                if (strcmp(ck_media_encoders[k], order[i]) == 0)
                    return ck_media_encoders[k];
            return NULL; /* unreachable: only known names open */
        }
        if (want && i == 0)
            ck_log(CK_LOG_WARN, "encoder %s is unavailable: %s", want, e.msg);
    }
    ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                 "no H.264 encoder opens (tried h264_nvenc, h264_vaapi, libx264)");
    return NULL;
}

/* ---- segment writer ---- */
struct ck_ts_writer {
    char *path, *tmp;
    ck_enc_config cfg;
    enc_session enc;
    AVFormatContext *oc;
    AVStream *vst, *ast;
    ck_ts_picture *pic; /* ck_ts_writer_frame's copy */
    AVPacket *pkt;
    int64_t next_pts; /* absolute frame number of the next frame */
};

static ck_status drain(ck_ts_writer *w, ck_error *err)
{
    int ret;
    while ((ret = avcodec_receive_packet(w->enc.ctx, w->pkt)) >= 0) {
        av_packet_rescale_ts(w->pkt, w->enc.ctx->time_base, w->vst->time_base);
        w->pkt->stream_index = w->vst->index;
        ret = av_interleaved_write_frame(w->oc, w->pkt);
        if (ret < 0)
            return media_averr(err, w->path, ret, "cannot write the segment");
    }
    if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
        return media_averr(err, w->path, ret, "encoding failed");
    return CK_OK;
}

ck_ts_writer *ck_ts_writer_create(const char *path, const ck_ts_params *p, ck_error *err)
{
    ck_media_init();
    ck_ts_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || !(w->tmp = media_tmp_path(path)) ||
        !(w->pkt = av_packet_alloc())) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    w->cfg = *p->enc;
    ck_enc_config_defaults(&w->cfg);
    w->next_pts = p->first_frame;
    if (enc_open(&w->enc, &w->cfg, false, err) != CK_OK)
        goto fail;
    if (media_ts_muxer(&w->oc, path, err) != CK_OK)
        goto fail;
    if (!(w->vst = avformat_new_stream(w->oc, NULL)) ||
        avcodec_parameters_from_context(w->vst->codecpar, w->enc.ctx) < 0 ||
        (p->audio && !(w->ast = media_ts_audio_stream(w->oc, ck_audio_channels(p->audio))))) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        goto fail;
    }
    w->vst->time_base = w->enc.ctx->time_base;
    w->vst->avg_frame_rate = w->enc.ctx->framerate;
    if (media_ts_header(w->oc, w->tmp, path, err) != CK_OK ||
        media_ts_audio_packets(w->oc, w->ast, w->pkt, p, path, err) != CK_OK)
        goto fail;
    return w;
fail:
    ck_ts_writer_destroy(&w);
    return NULL;
}

/* ---- pictures ---- */
struct ck_ts_picture {
    AVFrame *frame;
    int width, height;
};

ck_ts_picture *ck_ts_picture_create(int width, int height, ck_error *err)
{
    ck_ts_picture *p = calloc(1, sizeof *p);
    if (!p || !(p->frame = av_frame_alloc())) {
        free(p);
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    p->width = width;
    p->height = height;
    return p;
}

void ck_ts_picture_destroy(ck_ts_picture **pp)
{
    if (!pp || !*pp)
        return;
    av_frame_free(&(*pp)->frame);
    free(*pp);
    *pp = NULL;
}

/* The encoder's input: a reference-counted copy of the frame whose every byte, row padding
 * included, was written here. avcodec would copy an unreferenced frame into a buffer whose
 * padding nobody writes, and what libx264 makes of a frame must not depend on such bytes. A
 * buffer the encoder still holds a reference to is left to it and a new one is made. */
ck_status ck_ts_picture_fill(ck_ts_picture *p, const uint8_t *y, size_t y_stride, const uint8_t *uv,
                             size_t uv_stride, ck_error *err)
{
    AVFrame *f = p->frame;
    if (!f->buf[0] || !av_frame_is_writable(f)) {
        av_frame_unref(f);
        f->format = AV_PIX_FMT_NV12;
        f->width = p->width;
        f->height = p->height;
        int ret = av_frame_get_buffer(f, 0);
        if (ret < 0)
            return media_averr(err, NULL, ret, "cannot allocate a frame");
        for (int i = 0; i < AV_NUM_DATA_POINTERS && f->buf[i]; i++)
            memset(f->buf[i]->data, 0, f->buf[i]->size);
    }
    av_image_copy_plane(f->data[0], f->linesize[0], y, (int)y_stride, p->width, p->height);
    av_image_copy_plane(f->data[1], f->linesize[1], uv, (int)uv_stride, p->width, p->height / 2);
    return CK_OK;
}

ck_status ck_ts_picture_write_nv12(const ck_ts_picture *p, FILE *f, const char *what, ck_error *err)
{
    const AVFrame *fr = p->frame;
    if (!fr->buf[0])
        return ck_error_set(err, CK_ERR_INVALID, what, 0, 0, "an empty picture");
    for (int plane = 0; plane < 2; plane++)
        for (int y = 0; y < (plane ? p->height / 2 : p->height); y++)
            if (fwrite(fr->data[plane] + (size_t)y * (size_t)fr->linesize[plane], 1,
                       (size_t)p->width, f) != (size_t)p->width)
                return ck_error_set(err, CK_ERR_IO, what, 0, 0, "cannot write a raw picture: %s",
                                    strerror(errno));
    return CK_OK;
}

ck_status ck_ts_writer_put(ck_ts_writer *w, ck_ts_picture *p, ck_error *err)
{
    if (!w->enc.ctx)
        return ck_error_set(err, CK_ERR_INVALID, w->path, 0, 0,
                            "a frame after the end of the segment's video");
    if (p->width != w->cfg.width || p->height != w->cfg.height)
        return ck_error_set(err, CK_ERR_INVALID, w->path, 0, 0,
                            "a %dx%d picture for a %dx%d segment", p->width, p->height,
                            w->cfg.width, w->cfg.height);
    AVFrame *f = p->frame;
    f->pts = w->next_pts++;
    f->pict_type = AV_PICTURE_TYPE_NONE;
    f->color_range = AVCOL_RANGE_MPEG;
    f->colorspace = AVCOL_SPC_BT709;
    AVFrame *send = f;
    if (w->enc.ctx->hw_frames_ctx) {
        if (!w->enc.hw_frame && !(w->enc.hw_frame = av_frame_alloc()))
            return ck_error_set(err, CK_ERR_NOMEM, w->path, 0, 0, "out of memory");
        av_frame_unref(w->enc.hw_frame);
        int ret = av_hwframe_get_buffer(w->enc.ctx->hw_frames_ctx, w->enc.hw_frame, 0);
        if (ret >= 0)
            ret = av_hwframe_transfer_data(w->enc.hw_frame, f, 0);
        if (ret < 0)
            return media_averr(err, w->path, ret, "cannot upload the frame to VAAPI");
        w->enc.hw_frame->pts = f->pts;
        send = w->enc.hw_frame;
    }
    int ret = avcodec_send_frame(w->enc.ctx, send); /* takes its own reference */
    if (ret < 0)
        return media_averr(err, w->path, ret, "encoding failed");
    return drain(w, err);
}

ck_status ck_ts_writer_frame(ck_ts_writer *w, const uint8_t *y, size_t y_stride, const uint8_t *uv,
                             size_t uv_stride, ck_error *err)
{
    if (!w->pic && !(w->pic = ck_ts_picture_create(w->cfg.width, w->cfg.height, err)))
        return err->status;
    ck_status st = ck_ts_picture_fill(w->pic, y, y_stride, uv, uv_stride, err);
    return st == CK_OK ? ck_ts_writer_put(w, w->pic, err) : st;
}

ck_status ck_ts_writer_end_video(ck_ts_writer *w, ck_error *err)
{
    if (!w->enc.ctx)
        return CK_OK; /* ended already */
    int ret = avcodec_send_frame(w->enc.ctx, NULL);
    ck_status st = ret < 0 ? media_averr(err, w->path, ret, "encoding failed") : CK_OK;
    if (st == CK_OK)
        st = drain(w, err);
    /* The session's frames (~46 MB at 720p with libx264) go now, not when the file is
     * committed: the next segment's session can open in the same memory. */
    enc_close(&w->enc);
    ck_ts_picture_destroy(&w->pic);
    return st;
}

ck_status ck_ts_writer_finish(ck_ts_writer **pw, int64_t *bytes, ck_error *err)
{
    ck_ts_writer *w = *pw;
    int ret;
    ck_status st = ck_ts_writer_end_video(w, err);
    if (st == CK_OK && (ret = av_write_trailer(w->oc)) < 0)
        st = media_averr(err, w->path, ret, "cannot finish the segment");
    if (st == CK_OK) {
        avio_flush(w->oc->pb);
        if (w->oc->pb->error < 0)
            st = media_averr(err, w->path, w->oc->pb->error, "cannot write the segment");
        ret = avio_closep(&w->oc->pb);
        if (st == CK_OK && ret < 0)
            st = media_averr(err, w->path, ret, "cannot write the segment");
    }
    if (st == CK_OK) {
        struct stat sb;
        if (bytes)
            *bytes = stat(w->tmp, &sb) == 0 ? (int64_t)sb.st_size : 0;
        st = media_commit(w->tmp, w->path, err);
    }
    ck_ts_writer_destroy(pw);
    return st;
}

void ck_ts_writer_destroy(ck_ts_writer **pw)
{
    ck_ts_writer *w = pw ? *pw : NULL;
    if (!w)
        return;
    if (w->oc) {
        if (w->oc->pb)
            avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
    }
    if (w->tmp)
        unlink(w->tmp); /* gone already after a successful rename */
    enc_close(&w->enc);
    ck_ts_picture_destroy(&w->pic);
    av_packet_free(&w->pkt);
    free(w->path);
    free(w->tmp);
    free(w);
    *pw = NULL;
}

/* ---- MP4 ---- */
ck_status ck_media_ts_to_mp4(const char *const *inputs, int count, const char *out, ck_error *err)
{
    ck_media_init();
    ck_status st = CK_OK;
    AVFormatContext *oc = NULL, *ic = NULL;
    AVPacket *pkt = av_packet_alloc();
    char *tmp = media_tmp_path(out);
    int ret;
    if (!pkt || !tmp || count <= 0) {
        st = ck_error_set(err, count <= 0 ? CK_ERR_INVALID : CK_ERR_NOMEM, out, 0, 0,
                          count <= 0 ? "no segments" : "out of memory");
        goto done;
    }
    if ((ret = avformat_alloc_output_context2(&oc, NULL, "mp4", NULL)) < 0) {
        st = media_averr(err, out, ret, "cannot make an MP4 muxer");
        goto done;
    }
    oc->flags |= AVFMT_FLAG_BITEXACT;
    /* faststart reopens the file by name to move the index to the front. */
    if (!(oc->url = av_strdup(tmp))) {
        st = ck_error_set(err, CK_ERR_NOMEM, out, 0, 0, "out of memory");
        goto done;
    }
    int nstreams = 0;
    for (int i = 0; i < count; i++) {
        if ((ret = avformat_open_input(&ic, inputs[i], NULL, NULL)) < 0 ||
            (ret = avformat_find_stream_info(ic, NULL)) < 0) {
            st = media_averr(err, inputs[i], ret, "cannot read segment");
            goto done;
        }
        if (i == 0) {
            for (unsigned s = 0; s < ic->nb_streams; s++) {
                AVStream *os = avformat_new_stream(oc, NULL);
                if (!os || avcodec_parameters_copy(os->codecpar, ic->streams[s]->codecpar) < 0) {
                    st = ck_error_set(err, CK_ERR_NOMEM, out, 0, 0, "out of memory");
                    goto done;
                }
                os->codecpar->codec_tag = 0;
                os->time_base = ic->streams[s]->time_base;
            }
            nstreams = (int)ic->nb_streams;
            if ((ret = avio_open(&oc->pb, tmp, AVIO_FLAG_WRITE)) < 0) {
                st = media_averr(err, out, ret, "cannot write");
                goto done;
            }
            AVDictionary *o = NULL;
            av_dict_set(&o, "movflags", "+faststart", 0);
            ret = avformat_write_header(oc, &o);
            av_dict_free(&o);
            if (ret < 0) {
                st = media_averr(err, out, ret, "cannot write the MP4 header");
                goto done;
            }
        } else if ((int)ic->nb_streams != nstreams) {
            st = ck_error_set(err, CK_ERR_MEDIA, inputs[i], 0, 0,
                              "segment has %u streams, the first had %d", ic->nb_streams, nstreams);
            goto done;
        }
        while ((ret = av_read_frame(ic, pkt)) >= 0) {
            int s = pkt->stream_index;
            av_packet_rescale_ts(pkt, ic->streams[s]->time_base, oc->streams[s]->time_base);
            pkt->pos = -1;
            if ((ret = av_interleaved_write_frame(oc, pkt)) < 0) {
                st = media_averr(err, out, ret, "cannot write");
                goto done;
            }
        }
        avformat_close_input(&ic);
    }
    if ((ret = av_write_trailer(oc)) < 0) {
        st = media_averr(err, out, ret, "cannot finish the MP4");
        goto done;
    }
    avio_closep(&oc->pb);
    st = media_commit(tmp, out, err);
done:
    avformat_close_input(&ic);
    if (oc) {
        if (oc->pb)
            avio_closep(&oc->pb);
        avformat_free_context(oc);
    }
    if (st != CK_OK && tmp)
        unlink(tmp);
    av_packet_free(&pkt);
    free(tmp);
    return st;
}
