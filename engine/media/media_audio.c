/* media_audio.c: the campaign's audio, encoded to AAC once, and personal spans spliced in.
 *
 * The whole track is decoded, resampled to 48 kHz (mono for a mono track or silence, else
 * stereo: see AUDIO_BITRATE), cut or padded with silence to the scene's exact duration, mixed
 * with the shared speech clips, and encoded by FFmpeg's AAC encoder in one pass (a 0.68 s
 * block at a time: the track's PCM is never whole in memory), so the packets run without a gap
 * from the first segment to the last; segments only pick the packets of their time span.
 * Packet i has pts i * 1024 - 1024 (the encoder's priming frame comes first). The packets are
 * cached as an ADTS file (each packet with its 7-byte header, which is also what MPEG-TS
 * carries), so later renders of the campaign never encode audio again.
 *
 * A personal span (ck_audio_span) is the same bed mixed with one person's clips, encoded from
 * a few frames before the span to a few after, on the same 1024-sample grid, keeping only the
 * span's packets: the decoder's overlap-add at a boundary then joins two encodings of the
 * same samples (no clip sounds within CK_AUDIO_GUARD of a shared boundary), so the seam is
 * as good as any other frame (docs/rendering.md has the measurements). The bed's PCM that
 * spans mix into is kept only in the 0.68 s blocks they needed (a campaign's personal lines
 * sit at a few fixed times), not whole: 34 MB for a 88 s scene, per renderer. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Stereo or mono alike. A voice-over is mono, and encoding it as two equal channels cost the
 * AAC encoder twice the work for the same sound; mono, it has the whole rate (test_media's
 * splice test: two encodings of the voice differ by 0.004 rms mono at 128 kbit/s, 0.008 as
 * stereo at 128, 0.039 mono at 64). */
#define AUDIO_BITRATE 128000
#define ADTS_HEADER   7
/* The bed's PCM is kept in blocks of this many samples (0.68 s): a whole number of AAC frames,
 * so that an encoded frame, which starts on the frame grid, lies in one block. */
#define BED_BLOCK (32 * CK_AUDIO_FRAME)

struct ck_audio {
    uint8_t *data; /* ADTS frames back to back */
    size_t size, cap;
    int *offsets; /* packet i starts at data + offsets[i] */
    int count, offcap;
    int64_t bitrate;
    int channels; /* 1 or 2 */
    int64_t pts0; /* pts of packet 0: -1024 for a whole track */
    /* What a personal span needs (none in a span): the bed as planar PCM in blocks of
     * BED_BLOCK samples (block[2 * b + channel], NULL until needed; mono: channel 0 only), decoded
     * from `src` and mixed with the shared clips when a span first needs them, then kept. A
     * campaign's personal spans fall near its few personal lines, so a handful of blocks stay
     * instead of the whole bed (384 kB per second of scene). */
    float **block;
    /* The track's decoding, kept open where the last fill stopped so that a span past it
     * decodes on instead of from the start (NULL: none). Its block `partial` (-1: none) holds
     * the decoded samples up to rd->pos only, not yet mixed: complete once decoding passes
     * its end. */
    struct pcm_reader *rd;
    int64_t partial;
    bool in_order;   /* ck_audio_spans_in_order: blocks before a span are dropped */
    int64_t samples; /* the scene's duration in samples */
    char *src;       /* NULL: a silent bed */
    struct clip48 *shared;
    int nshared;
};

/* A clip at 48 kHz, placed in samples. */
typedef struct clip48 {
    int64_t start, n;
    float *pcm; /* malloc'd */
} clip48;

/* The channel configuration an ADTS header gives (0: not one of ours). */
static int adts_channels(const uint8_t *h)
{
    return ((h[2] & 1) << 2) | (h[3] >> 6);
}

static ck_status push_packet(ck_audio *a, const uint8_t *raw, int n, bool with_header)
{
    size_t need = (size_t)n + (with_header ? ADTS_HEADER : 0);
    if (a->size + need > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1 << 16;
        while (cap < a->size + need)
            cap *= 2;
        uint8_t *p = realloc(a->data, cap);
        if (!p)
            return CK_ERR_NOMEM;
        a->data = p;
        a->cap = cap;
    }
    if (a->count == a->offcap) {
        int cap = a->offcap ? a->offcap * 2 : 1024;
        int *o = realloc(a->offsets, (size_t)cap * sizeof *o);
        if (!o)
            return CK_ERR_NOMEM;
        a->offsets = o;
        a->offcap = cap;
    }
    a->offsets[a->count++] = (int)a->size;
    uint8_t *h = a->data + a->size;
    if (with_header) {
        /* ADTS: MPEG-4 AAC LC, 48 kHz (index 3), 1 or 2 channels, no CRC. */
        int len = n + ADTS_HEADER;
        h[0] = 0xFF;
        h[1] = 0xF1;
        h[2] = (uint8_t)((1 << 6) | (3 << 2) | (a->channels >> 2));
        h[3] = (uint8_t)(((a->channels & 3) << 6) | ((len >> 11) & 3));
        h[4] = (uint8_t)((len >> 3) & 0xFF);
        h[5] = (uint8_t)(((len & 7) << 5) | 0x1F);
        h[6] = 0xFC;
        h += ADTS_HEADER;
    }
    memcpy(h, raw, (size_t)n);
    a->size += need;
    return CK_OK;
}

static int64_t expected_packets(int64_t samples)
{
    /* Priming frame + ceil(samples / 1024) frames + the encoder's final flush frame. */
    return 1 + (samples + CK_AUDIO_FRAME - 1) / CK_AUDIO_FRAME;
}

/* Parses a cached ADTS file; false when it is not what we expect (then we encode again). With
 * a->channels 0 the file's own (1 or 2) are taken. */
static bool load_cache(ck_audio *a, const char *path, int64_t samples)
{
    int want_channels = a->channels;
    char *buf = NULL;
    size_t len = 0;
    ck_error e;
    if (!ck_file_exists(path) || ck_read_file(path, 0, &buf, &len, &e) != CK_OK)
        return false;
    size_t pos = 0;
    bool ok = true;
    while (ok && pos + ADTS_HEADER <= len) {
        const uint8_t *h = (const uint8_t *)buf + pos;
        int flen = ((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5);
        if (!a->channels && (adts_channels(h) == 1 || adts_channels(h) == 2))
            a->channels = adts_channels(h);
        if (h[0] != 0xFF || (h[1] & 0xF6) != 0xF0 || flen <= ADTS_HEADER ||
            pos + (size_t)flen > len || adts_channels(h) != a->channels) {
            ok = false;
            break;
        }
        ok = push_packet(a, h, flen, false) == CK_OK;
        pos += (size_t)flen;
    }
    free(buf);
    int64_t want = expected_packets(samples);
    if (!ok || pos != len || a->count < want - 1 || a->count > want + 1) {
        a->size = 0;
        a->count = 0;
        a->channels = want_channels;
        return false;
    }
    return true;
}

static void clips_free(clip48 *c, int n)
{
    for (int i = 0; c && i < n; i++)
        free(c[i].pcm);
    free(c);
}

static ck_status clip_resample(const ck_audio_clip *c, clip48 *out, const char *what, ck_error *err)
{
    SwrContext *swr = NULL;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int64_t cap = av_rescale_rnd((int64_t)c->frames, CK_AUDIO_RATE, c->rate, AV_ROUND_UP) + 256;
    out->pcm = malloc((size_t)cap * sizeof(float));
    int ret = swr_alloc_set_opts2(&swr, &mono, AV_SAMPLE_FMT_FLT, CK_AUDIO_RATE, &mono,
                                  AV_SAMPLE_FMT_FLT, c->rate, 0, NULL);
    if (!out->pcm || ret < 0 || (ret = swr_init(swr)) < 0) {
        swr_free(&swr);
        return media_averr(err, what, ret < 0 ? ret : AVERROR(ENOMEM),
                           "cannot resample a speech clip");
    }
    uint8_t *o = (uint8_t *)out->pcm;
    const uint8_t *in = (const uint8_t *)c->pcm;
    int got = swr_convert(swr, &o, (int)cap, &in, (int)c->frames);
    int64_t n = got > 0 ? got : 0;
    o = (uint8_t *)(out->pcm + n);
    got = swr_convert(swr, &o, (int)(cap - n), NULL, 0); /* drain */
    n += got > 0 ? got : 0;
    swr_free(&swr);
    out->n = n;
    return CK_OK;
}

/* The clips with personal == `personal`, at 48 kHz. Errors name the clip by index (never its
 * text: it may say a name or an amount). */
static ck_status clips_prepare(const ck_audio_clip *clips, int n, int personal, clip48 **out,
                               int *count, const char *what, ck_error *err)
{
    *out = NULL;
    *count = 0;
    if (n <= 0)
        return CK_OK;
    clip48 *c = calloc((size_t)n, sizeof *c);
    if (!c)
        return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    int m = 0;
    for (int i = 0; i < n; i++) {
        const ck_audio_clip *in = &clips[i];
        if (!!in->personal != !!personal)
            continue;
        if (!(in->start_s >= 0) || in->rate <= 0 || (!in->pcm && in->frames > 0)) {
            clips_free(c, m);
            return ck_error_set(err, CK_ERR_INVALID, what, 0, 0,
                                "speech clip %d: start %.3f s, rate %d Hz: not a valid clip", i,
                                in->start_s, in->rate);
        }
        clip48 *o = &c[m];
        o->start = llround(in->start_s * CK_AUDIO_RATE);
        if (in->rate == CK_AUDIO_RATE) {
            o->n = (int64_t)in->frames;
            o->pcm = malloc((in->frames ? in->frames : 1) * sizeof(float));
            if (o->pcm && in->frames)
                memcpy(o->pcm, in->pcm, in->frames * sizeof(float));
        } else if (clip_resample(in, o, what, err) != CK_OK) {
            clips_free(c, m + 1);
            return err->status;
        }
        if (!o->pcm) {
            clips_free(c, m + 1);
            return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        }
        m++;
    }
    *out = c;
    *count = m;
    return CK_OK;
}

/* Adds the clips' samples in [t, t + n) to every channel. */
static void mix_clips(float *dst[2], int channels, int64_t t, int n, const clip48 *c, int count)
{
    for (int i = 0; i < count; i++) {
        int64_t a = c[i].start > t ? c[i].start : t;
        int64_t z = c[i].start + c[i].n < t + n ? c[i].start + c[i].n : t + n;
        for (int64_t s = a; s < z; s++) {
            float v = c[i].pcm[s - c[i].start];
            dst[0][s - t] += v;
            if (channels > 1)
                dst[1][s - t] += v;
        }
    }
}

static int64_t block_len(const ck_audio *a, int64_t b)
{
    int64_t n = a->samples - b * BED_BLOCK;
    return n < BED_BLOCK ? n : BED_BLOCK;
}

/* Copies decoded samples [pos, pos + n) into the blocks being filled (fill[b]). */
static void store_blocks(ck_audio *a, const bool *fill, int64_t pos, int n, float *const out[2])
{
    for (int64_t t = pos; t < pos + n;) {
        int64_t b = t / BED_BLOCK, off = t - b * BED_BLOCK;
        int64_t k = BED_BLOCK - off < pos + n - t ? BED_BLOCK - off : pos + n - t;
        for (int c = 0; fill[b] && c < a->channels; c++)
            memcpy(a->block[2 * b + c] + off, out[c] + (t - pos), (size_t)k * sizeof(float));
        t += k;
    }
}

/* The track decoded in order, resampled to 48 kHz with the bed's channels: what one decoding
 * keeps from one call of reader_run to the next. */
typedef struct pcm_reader {
    const char *src;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    SwrContext *swr;
    AVPacket *pkt;
    AVFrame *in;
    float *out[2]; /* the bed's channels */
    int out_cap, si;
    int64_t pos; /* samples decoded so far */
    bool flushing, drained;
} pcm_reader;

static void reader_close(pcm_reader *rd)
{
    free(rd->out[0]);
    free(rd->out[1]);
    swr_free(&rd->swr);
    avcodec_free_context(&rd->dec);
    avformat_close_input(&rd->fmt);
    av_frame_free(&rd->in);
    av_packet_free(&rd->pkt);
    memset(rd, 0, sizeof *rd);
}

/* Opens `src` for decoding (its decoder in rd->dec); the resampler is reader_open's. */
static ck_status reader_open_input(pcm_reader *rd, const char *src, ck_error *err)
{
    int ret;
    memset(rd, 0, sizeof *rd);
    rd->src = src;
    rd->pkt = av_packet_alloc();
    rd->in = av_frame_alloc();
    if (!rd->pkt || !rd->in)
        return ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
    if ((ret = avformat_open_input(&rd->fmt, src, NULL, NULL)) < 0 ||
        (ret = avformat_find_stream_info(rd->fmt, NULL)) < 0)
        return media_averr(err, src, ret, "cannot open audio");
    const AVCodec *dcodec = NULL;
    rd->si = av_find_best_stream(rd->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &dcodec, 0);
    if (rd->si < 0 || !dcodec)
        return ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "no decodable audio stream");
    rd->dec = avcodec_alloc_context3(dcodec);
    if (!rd->dec ||
        avcodec_parameters_to_context(rd->dec, rd->fmt->streams[rd->si]->codecpar) < 0 ||
        (ret = avcodec_open2(rd->dec, dcodec, NULL)) < 0)
        return ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "cannot open the audio decoder");
    return CK_OK;
}

/* The track `src` decoded to `channels` (1 or 2) at 48 kHz. */
static ck_status reader_open(pcm_reader *rd, const char *src, int channels, ck_error *err)
{
    ck_status st = reader_open_input(rd, src, err);
    if (st != CK_OK)
        return st;
    AVChannelLayout out;
    av_channel_layout_default(&out, channels);
    int ret;
    if ((ret = swr_alloc_set_opts2(&rd->swr, &out, AV_SAMPLE_FMT_FLTP, CK_AUDIO_RATE,
                                   &rd->dec->ch_layout, rd->dec->sample_fmt, rd->dec->sample_rate,
                                   0, NULL)) < 0 ||
        (ret = swr_init(rd->swr)) < 0)
        return media_averr(err, src, ret, "cannot resample audio");
    return CK_OK;
}

/* Feeds the decoder its next packet (or, at the end, the flush); 1: a packet went in. */
static int reader_feed(pcm_reader *rd, ck_error *err)
{
    int ret = av_read_frame(rd->fmt, rd->pkt);
    if (ret == AVERROR_EOF) {
        rd->flushing = true;
        avcodec_send_packet(rd->dec, NULL);
        return 1;
    }
    if (ret < 0) {
        media_averr(err, rd->src, ret, "cannot read audio");
        return -1;
    }
    if (rd->pkt->stream_index == rd->si && (ret = avcodec_send_packet(rd->dec, rd->pkt)) < 0 &&
        ret != AVERROR(EAGAIN)) {
        av_packet_unref(rd->pkt);
        media_averr(err, rd->src, ret, "audio decoding failed");
        return -1;
    }
    av_packet_unref(rd->pkt);
    return 1;
}

/* Decodes on until sample `stop` (or the track's end), storing what falls in the blocks being
 * filled (the rest of the bed stays zero: silence past the track's end). The decoder and
 * resampler run the same whether this is one call or many, so every sample is the same
 * whichever blocks are kept and however the decoding is cut into calls. */
static ck_status reader_run(ck_audio *a, pcm_reader *rd, const bool *fill, int64_t stop,
                            ck_error *err)
{
    int64_t samples = a->samples;
    while (!rd->drained && rd->pos < stop) {
        int ret = avcodec_receive_frame(rd->dec, rd->in);
        if (ret == AVERROR(EAGAIN) && !rd->flushing) {
            if (reader_feed(rd, err) < 0)
                return err->status;
            continue;
        }
        bool end = ret == AVERROR_EOF || (ret == AVERROR(EAGAIN) && rd->flushing);
        if (ret < 0 && !end)
            return media_averr(err, rd->src, ret, "audio decoding failed");
        /* Resample (the resampler is drained once the input ends), then keep what the blocks
         * being filled hold. */
        int cap = swr_get_out_samples(rd->swr, end ? 0 : rd->in->nb_samples);
        if (cap > samples - rd->pos)
            cap = (int)(samples - rd->pos);
        if (cap > rd->out_cap) {
            for (int c = 0; c < a->channels; c++) {
                float *o = realloc(rd->out[c], (size_t)cap * sizeof(float));
                if (!o) {
                    av_frame_unref(rd->in);
                    return ck_error_set(err, CK_ERR_NOMEM, rd->src, 0, 0, "out of memory");
                }
                rd->out[c] = o;
            }
            rd->out_cap = cap;
        }
        uint8_t *planes[2] = {(uint8_t *)rd->out[0], (uint8_t *)rd->out[1]};
        int n = end ? swr_convert(rd->swr, planes, cap, NULL, 0)
                    : swr_convert(rd->swr, planes, cap, (const uint8_t **)rd->in->extended_data,
                                  rd->in->nb_samples);
        if (n > 0) {
            store_blocks(a, fill, rd->pos, n, rd->out);
            rd->pos += n;
        }
        av_frame_unref(rd->in);
        rd->drained = end;
    }
    return CK_OK;
}

static ck_status open_aac(AVCodecContext **out, int channels, const char *what, ck_error *err)
{
    const AVCodec *ecodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    AVCodecContext *enc = ecodec ? avcodec_alloc_context3(ecodec) : NULL;
    *out = enc;
    if (!enc)
        return ck_error_set(err, CK_ERR_MEDIA, what, 0, 0, "no AAC encoder");
    enc->sample_rate = CK_AUDIO_RATE;
    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    av_channel_layout_default(&enc->ch_layout, channels);
    enc->bit_rate = AUDIO_BITRATE;
    enc->time_base = (AVRational){1, CK_AUDIO_RATE};
    enc->flags |= AV_CODEC_FLAG_BITEXACT;
    int ret = avcodec_open2(enc, ecodec, NULL);
    if (ret < 0)
        return media_averr(err, what, ret, "cannot open the AAC encoder");
    if (enc->frame_size != CK_AUDIO_FRAME || enc->initial_padding != CK_AUDIO_FRAME)
        return ck_error_set(err, CK_ERR_MEDIA, what, 0, 0, "unexpected AAC framing");
    return CK_OK;
}

/* One encoding pass over samples [from, to) of the bed plus `clips`. */
typedef struct span {
    const ck_audio *bed; /* its blocks over [from, to) are there */
    int64_t samples;
    const clip48 *clips;
    int nclips;
    int64_t from, to;           /* encoded: from is on the 1024 grid */
    int64_t keep_from, keep_to; /* packets kept: pts in [keep_from, keep_to) */
    int64_t next_pts;           /* the pts the encoder's next packet must have */
} span;

static ck_status receive_packets(ck_audio *a, span *sp, AVCodecContext *enc, AVPacket *pkt,
                                 const char *what, ck_error *err)
{
    int ret;
    while ((ret = avcodec_receive_packet(enc, pkt)) >= 0) {
        int64_t want = sp->next_pts;
        sp->next_pts += CK_AUDIO_FRAME;
        if (pkt->pts != want) {
            av_packet_unref(pkt);
            return ck_error_set(err, CK_ERR_MEDIA, what, 0, 0,
                                "AAC encoder gave pts %lld, expected %lld", (long long)pkt->pts,
                                (long long)want);
        }
        ck_status st = CK_OK;
        if (want >= sp->keep_from && want < sp->keep_to) {
            if (a->count == 0)
                a->pts0 = want;
            st = push_packet(a, pkt->data, pkt->size, true);
        }
        av_packet_unref(pkt);
        if (st != CK_OK)
            return ck_error_set(err, st, what, 0, 0, "out of memory");
    }
    if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
        return media_averr(err, what, ret, "AAC encoding failed");
    return CK_OK;
}

/* One AAC encoder fed frame by frame (encode_span in one go, the whole bed a block at a
 * time). */
typedef struct aac_pass {
    AVCodecContext *enc;
    AVPacket *pkt;
    AVFrame *out;
} aac_pass;

static void pass_close(aac_pass *ps)
{
    avcodec_free_context(&ps->enc);
    av_frame_free(&ps->out);
    av_packet_free(&ps->pkt);
}

static ck_status pass_open(aac_pass *ps, span *sp, const char *what, ck_error *err)
{
    memset(ps, 0, sizeof *ps);
    ps->pkt = av_packet_alloc();
    ps->out = av_frame_alloc();
    if (!ps->pkt || !ps->out)
        return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    sp->next_pts = sp->from - CK_AUDIO_FRAME; /* the priming frame */
    return open_aac(&ps->enc, sp->bed->channels, what, err);
}

/* Encodes the frames of [t0, t1): t0 on the frame grid, t1 on it too or the span's end. */
static ck_status pass_frames(ck_audio *a, span *sp, aac_pass *ps, int64_t t0, int64_t t1,
                             const char *what, ck_error *err)
{
    int channels = sp->bed->channels;
    AVFrame *out = ps->out;
    for (int64_t t = t0; t < t1; t += CK_AUDIO_FRAME) {
        int n = (int)(t1 - t < CK_AUDIO_FRAME ? t1 - t : CK_AUDIO_FRAME);
        out->nb_samples = n;
        out->format = AV_SAMPLE_FMT_FLTP;
        av_channel_layout_default(&out->ch_layout, channels);
        out->sample_rate = CK_AUDIO_RATE;
        if (av_frame_get_buffer(out, 0) < 0)
            return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        float *dst[2] = {(float *)out->data[0], channels > 1 ? (float *)out->data[1] : NULL};
        int64_t b = t / BED_BLOCK; /* t is on the frame grid: [t, t + n) is in block b */
        for (int c = 0; c < channels; c++)
            memcpy(dst[c], sp->bed->block[2 * b + c] + (t - b * BED_BLOCK),
                   (size_t)n * sizeof(float));
        mix_clips(dst, channels, t, n, sp->clips, sp->nclips);
        out->pts = t;
        int ret = avcodec_send_frame(ps->enc, out);
        av_frame_unref(out);
        if (ret < 0)
            return media_averr(err, what, ret, "AAC encoding failed");
        ck_status st = receive_packets(a, sp, ps->enc, ps->pkt, what, err);
        if (st != CK_OK)
            return st;
    }
    return CK_OK;
}

static ck_status pass_flush(ck_audio *a, span *sp, aac_pass *ps, const char *what, ck_error *err)
{
    int ret = avcodec_send_frame(ps->enc, NULL);
    if (ret < 0)
        return media_averr(err, what, ret, "AAC encoding failed");
    return receive_packets(a, sp, ps->enc, ps->pkt, what, err);
}

static ck_status encode_span(ck_audio *a, span *sp, const char *what, ck_error *err)
{
    aac_pass ps;
    ck_status st = pass_open(&ps, sp, what, err);
    if (st == CK_OK)
        st = pass_frames(a, sp, &ps, sp->from, sp->to, what, err);
    if (st == CK_OK)
        st = pass_flush(a, sp, &ps, what, err);
    pass_close(&ps);
    return st;
}

/* Block b of the bed, zeroed, marked as being filled. */
static ck_status block_alloc(ck_audio *a, int64_t b, bool *fill, const char *what, ck_error *err)
{
    fill[b] = true;
    for (int c = 0; c < a->channels; c++)
        if (!(a->block[2 * b + c] = calloc((size_t)block_len(a, b), sizeof(float))))
            return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    return CK_OK;
}

static void block_free(ck_audio *a, int64_t b, bool *fill)
{
    if (fill)
        fill[b] = false;
    for (int c = 0; c < 2; c++) {
        free(a->block[2 * b + c]);
        a->block[2 * b + c] = NULL;
    }
}

/* The shared clips are mixed into a decoded block, as a span mixes the personal ones. */
static void mix_shared(ck_audio *a, int64_t b)
{
    for (int64_t t = b * BED_BLOCK; t < b * BED_BLOCK + block_len(a, b); t += CK_AUDIO_FRAME) {
        int n = (int)(a->samples - t < CK_AUDIO_FRAME ? a->samples - t : CK_AUDIO_FRAME);
        float *dst[2] = {a->block[2 * b] + (t - b * BED_BLOCK),
                         a->channels > 1 ? a->block[2 * b + 1] + (t - b * BED_BLOCK) : NULL};
        mix_clips(dst, a->channels, t, n, a->shared, a->nshared);
    }
}

/* The bed's blocks over samples [from, to) as PCM: the track (or silence) with the shared
 * clips mixed in. Missing blocks are decoded by the kept reader when it has not passed them
 * (the blocks in between are skipped, not kept), else by a new one from the track's start (an
 * AAC frame depends on the ones before, so decoding from the middle would change samples).
 * The block after the last one asked for takes what the last resampled frame holds past it,
 * so the reader can go on from there next time. */
static ck_status bed_fill(ck_audio *a, int64_t from, int64_t to, ck_error *err)
{
    const char *what = a->src ? a->src : "audio";
    int64_t nb = (a->samples + BED_BLOCK - 1) / BED_BLOCK;
    if (!a->block && !(a->block = calloc((size_t)nb * 2, sizeof *a->block)))
        return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    from = from < 0 ? 0 : from;
    to = to > a->samples ? a->samples : to;
    int64_t first = -1, last = -1; /* the blocks to complete */
    for (int64_t b = from / BED_BLOCK; b * BED_BLOCK < to; b++)
        if (!a->block[2 * b] || b == a->partial) {
            first = first < 0 ? b : first;
            last = b;
        }
    if (a->in_order) /* the blocks before this span are not asked for again */
        for (int64_t b = 0; b < from / BED_BLOCK; b++)
            if (a->block[2 * b] && b != a->partial)
                block_free(a, b, NULL);
    if (first < 0)
        return CK_OK;
    bool *fill = calloc((size_t)nb, sizeof *fill);
    if (!fill)
        return ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    ck_status st = CK_OK;
    /* Go on with the kept reader when it is at or before the first block asked for, or in it
     * (the partial one); a partial block it will not complete now goes. */
    bool resume = a->rd && (first == a->partial || a->rd->pos <= first * BED_BLOCK);
    if (a->partial >= 0 && a->partial != first) {
        block_free(a, a->partial, NULL);
        a->partial = -1;
    }
    if (a->src && !resume) {
        if (!a->rd && !(a->rd = calloc(1, sizeof *a->rd)))
            st = ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        else
            reader_close(a->rd);
        if (st == CK_OK)
            st = reader_open(a->rd, a->src, a->channels, err);
    }
    int64_t upto = last + 2 < nb ? last + 2 : nb; /* last + 1 takes the overflow */
    for (int64_t b = first; b < upto && st == CK_OK; b++) {
        if (b == a->partial)
            fill[b] = true; /* its samples so far stay */
        else if (!a->block[2 * b])
            st = block_alloc(a, b, fill, what, err);
    }
    int64_t stop = last * BED_BLOCK + block_len(a, last);
    if (st == CK_OK && a->src)
        st = reader_run(a, a->rd, fill, stop, err);
    bool drained = !a->src || (st == CK_OK && a->rd->drained);
    for (int64_t b = first; b < upto && st == CK_OK; b++) {
        bool complete = b <= last || drained;
        if (fill[b] && complete)
            mix_shared(a, b);
        if (fill[b] && !complete)
            a->partial = b;
        else if (b == a->partial)
            a->partial = -1;
    }
    if (st != CK_OK) { /* half-made blocks go, and the reader with them */
        for (int64_t b = 0; b < nb; b++)
            if (fill[b])
                block_free(a, b, fill);
        a->partial = -1;
        if (a->rd)
            reader_close(a->rd);
        free(a->rd);
        a->rd = NULL;
    }
    free(fill);
    return st;
}

void ck_audio_spans_in_order(ck_audio *bed, bool on)
{
    bed->in_order = on;
}

/* The whole bed encoded in one pass, a block at a time: block b is decoded (with b + 1 taking
 * what the last resampled frame holds past it), mixed, encoded and freed before b + 1, so two
 * blocks are in memory instead of the whole track's PCM (29 MB for 76 s). The same decoding,
 * mixing and frames, in the same order, as decoding every block first: the same packets. */
static ck_status encode_bed(ck_audio *a, span *sp, const char *what, ck_error *err)
{
    int64_t nb = (a->samples + BED_BLOCK - 1) / BED_BLOCK;
    bool *fill = calloc((size_t)nb, sizeof *fill);
    a->block = calloc((size_t)nb * 2, sizeof *a->block);
    pcm_reader rd = {0};
    aac_pass ps = {0};
    ck_status st =
        fill && a->block ? CK_OK : ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
    if (st == CK_OK && a->src)
        st = reader_open(&rd, a->src, a->channels, err);
    if (st == CK_OK)
        st = pass_open(&ps, sp, what, err);
    for (int64_t b = 0; b < nb && st == CK_OK; b++) {
        for (int64_t k = b; k < b + 2 && k < nb && st == CK_OK; k++)
            if (!a->block[2 * k])
                st = block_alloc(a, k, fill, what, err);
        int64_t end = b * BED_BLOCK + block_len(a, b);
        if (st == CK_OK && a->src)
            st = reader_run(a, &rd, fill, end, err);
        if (st != CK_OK)
            break;
        mix_shared(a, b);
        st = pass_frames(a, sp, &ps, b * BED_BLOCK, end, what, err);
        block_free(a, b, fill);
    }
    if (st == CK_OK)
        st = pass_flush(a, sp, &ps, what, err);
    pass_close(&ps);
    reader_close(&rd);
    free(fill);
    return st;
}

static void bed_release(ck_audio *a)
{
    int64_t nb = (a->samples + BED_BLOCK - 1) / BED_BLOCK;
    for (int64_t i = 0; a->block && i < nb * 2; i++)
        free(a->block[i]);
    free(a->block);
    a->block = NULL;
    a->partial = -1;
    if (a->rd)
        reader_close(a->rd);
    free(a->rd);
    a->rd = NULL;
}

ck_status ck_audio_source_channels(const char *src, int *channels, ck_error *err)
{
    ck_media_init();
    *channels = 1; /* silence */
    if (!src)
        return CK_OK;
    if (!ck_file_exists(src))
        return ck_error_set(err, CK_ERR_NOT_FOUND, src, 0, 0, "audio file not found");
    pcm_reader rd;
    ck_status st = reader_open_input(&rd, src, err);
    if (st == CK_OK)
        *channels = rd.dec->ch_layout.nb_channels == 1 ? 1 : 2;
    reader_close(&rd);
    return st;
}

ck_audio *ck_audio_create_ex(const ck_audio_params *p, ck_error *err)
{
    ck_media_init();
    const char *what = p->src ? p->src : "audio";
    ck_audio *a = calloc(1, sizeof *a);
    if (!a) {
        ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        return NULL;
    }
    a->pts0 = -CK_AUDIO_FRAME;
    a->partial = -1;
    a->samples = llround(p->duration * CK_AUDIO_RATE);
    if (!(a->samples > 0)) {
        ck_error_set(err, CK_ERR_INVALID, what, 0, 0, "audio duration must be positive");
        goto fail;
    }
    if (p->src && !(a->src = strdup(p->src))) {
        ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        goto fail;
    }
    a->channels = p->channels == 1 || p->channels == 2 ? p->channels : 0;
    if (clips_prepare(p->clips, p->clip_count, 0, &a->shared, &a->nshared, what, err) != CK_OK)
        goto fail;
    if (p->cache_path && load_cache(a, p->cache_path, a->samples))
        goto ok;
    if (!a->channels && ck_audio_source_channels(p->src, &a->channels, err) != CK_OK)
        goto fail;
    if (p->src && !ck_file_exists(p->src)) {
        ck_error_set(err, CK_ERR_NOT_FOUND, p->src, 0, 0, "audio file not found");
        goto fail;
    }
    span sp = {.bed = a,
               .samples = a->samples,
               .from = 0,
               .to = a->samples,
               .keep_from = INT64_MIN,
               .keep_to = INT64_MAX};
    ck_status est = encode_bed(a, &sp, what, err);
    /* Most campaigns never need the PCM again: a personal span decodes it afresh. */
    bed_release(a);
    if (est != CK_OK)
        goto fail;
    if (a->count != expected_packets(a->samples))
        ck_log(CK_LOG_DEBUG, "audio: %d AAC packets for %lld samples", a->count,
               (long long)a->samples);
    if (p->cache_path && ck_write_atomic(p->cache_path, a->data, a->size, 0644, err) != CK_OK)
        goto fail;
ok:
    a->bitrate = (int64_t)llround(a->size * 8.0 / p->duration);
    return a;
fail:
    ck_audio_destroy(&a);
    return NULL;
}

ck_audio *ck_audio_create(const char *src, const char *cache_path, double duration, ck_error *err)
{
    if (!src) {
        ck_media_init();
        ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "no audio file");
        return NULL;
    }
    ck_audio_params p = {.src = src, .cache_path = cache_path, .duration = duration};
    return ck_audio_create_ex(&p, err);
}

/* The grid-aligned window a span of [from, to) is encoded over (see ck_audio_span). */
static void span_window(int64_t samples, int64_t from, int64_t to, int64_t *lo, int64_t *hi)
{
    int64_t f = from < 0 ? 0 : (from + CK_AUDIO_FRAME - 1) / CK_AUDIO_FRAME * CK_AUDIO_FRAME;
    int64_t z = to >= samples ? samples
                              : (to + CK_AUDIO_FRAME - 1) / CK_AUDIO_FRAME * CK_AUDIO_FRAME +
                                    CK_AUDIO_POSTROLL;
    f -= CK_AUDIO_PREROLL;
    *lo = f < 0 ? 0 : f;
    *hi = z > samples ? samples : z;
}

bool ck_audio_clip_touches(const ck_audio_clip *c, int64_t from, int64_t to)
{
    if (!c->personal || c->frames == 0 || !(c->start_s >= 0) || c->rate <= 0)
        return false;
    int64_t a = llround(c->start_s * CK_AUDIO_RATE);
    int64_t z = a + av_rescale_rnd((int64_t)c->frames, CK_AUDIO_RATE, c->rate, AV_ROUND_UP);
    int64_t lo = from < 0 ? INT64_MIN : from - CK_AUDIO_GUARD;
    int64_t hi = to > INT64_MAX - CK_AUDIO_GUARD ? INT64_MAX : to + CK_AUDIO_GUARD;
    return a < hi && z > lo;
}

bool ck_audio_clip_shapes(const ck_audio_clip *c, int64_t samples, int64_t from, int64_t to)
{
    if (!c->personal || c->frames == 0 || !(c->start_s >= 0) || c->rate <= 0)
        return false;
    int64_t lo, hi;
    span_window(samples, from, to, &lo, &hi);
    int64_t a = llround(c->start_s * CK_AUDIO_RATE);
    int64_t z = a + av_rescale_rnd((int64_t)c->frames, CK_AUDIO_RATE, c->rate, AV_ROUND_UP);
    return a < hi && z > lo;
}

ck_audio *ck_audio_span(ck_audio *bed, const ck_audio_clip *clips, int count, int64_t from,
                        int64_t to, ck_error *err)
{
    const char *what = bed->src ? bed->src : "audio";
    ck_audio *a = calloc(1, sizeof *a);
    clip48 *mine = NULL;
    int n = 0;
    if (!a) {
        ck_error_set(err, CK_ERR_NOMEM, what, 0, 0, "out of memory");
        return NULL;
    }
    a->samples = bed->samples;
    a->channels = bed->channels;
    a->partial = -1;
    span sp = {.bed = bed, .samples = bed->samples, .keep_from = from, .keep_to = to};
    span_window(bed->samples, from, to, &sp.from, &sp.to);
    if (clips_prepare(clips, count, 1, &mine, &n, what, err) != CK_OK ||
        bed_fill(bed, sp.from, sp.to, err) != CK_OK)
        goto fail;
    sp.clips = mine;
    sp.nclips = n;
    if (encode_span(a, &sp, what, err) != CK_OK)
        goto fail;
    a->bitrate = bed->bitrate;
    clips_free(mine, n);
    return a;
fail:
    clips_free(mine, n);
    ck_audio_destroy(&a);
    return NULL;
}

void ck_audio_destroy(ck_audio **pa)
{
    ck_audio *a = pa ? *pa : NULL;
    if (!a)
        return;
    bed_release(a);
    clips_free(a->shared, a->nshared);
    free(a->src);
    free(a->data);
    free(a->offsets);
    free(a);
    *pa = NULL;
}

int ck_audio_channels(const ck_audio *a)
{
    return a->channels;
}

int64_t ck_audio_bitrate(const ck_audio *a)
{
    return a->bitrate;
}

int ck_audio_packet_count(const ck_audio *a)
{
    return a->count;
}

void ck_audio_packet(const ck_audio *a, int i, const uint8_t **data, int *size, int64_t *pts)
{
    size_t start = (size_t)a->offsets[i];
    size_t end = i + 1 < a->count ? (size_t)a->offsets[i + 1] : a->size;
    *data = a->data + start;
    *size = (int)(end - start);
    *pts = a->pts0 + (int64_t)i * CK_AUDIO_FRAME;
}
