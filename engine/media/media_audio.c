/* media_audio.c: the campaign's audio, encoded to AAC once.
 *
 * The whole track is decoded, resampled to 48 kHz stereo, cut or padded with silence to the
 * scene's exact duration and encoded by FFmpeg's AAC encoder in one pass, so the packets run
 * without a gap from the first segment to the last; segments only pick the packets of their
 * time span. Packet i has pts i * 1024 - 1024 (the encoder's priming frame comes first).
 * The packets are cached as an ADTS file (each packet with its 7-byte header, which is also
 * what MPEG-TS carries), so later renders of the campaign never encode audio again. */
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

#define AUDIO_BITRATE 128000
#define ADTS_HEADER   7

struct ck_audio {
    uint8_t *data; /* ADTS frames back to back */
    size_t size, cap;
    int *offsets; /* packet i starts at data + offsets[i] */
    int count, offcap;
    int64_t bitrate;
};

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
        /* ADTS: MPEG-4 AAC LC, 48 kHz (index 3), 2 channels, no CRC. */
        int len = n + ADTS_HEADER;
        h[0] = 0xFF;
        h[1] = 0xF1;
        h[2] = (uint8_t)((1 << 6) | (3 << 2) | (2 >> 2));
        h[3] = (uint8_t)(((2 & 3) << 6) | ((len >> 11) & 3));
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

/* Parses a cached ADTS file; false when it is not what we expect (then we encode again). */
static bool load_cache(ck_audio *a, const char *path, int64_t samples)
{
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
        if (h[0] != 0xFF || (h[1] & 0xF6) != 0xF0 || flen <= ADTS_HEADER ||
            pos + (size_t)flen > len) {
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
        return false;
    }
    return true;
}

static ck_status encode_frame(ck_audio *a, AVCodecContext *enc, AVFrame *f, AVPacket *pkt,
                              const char *src, ck_error *err)
{
    int ret = avcodec_send_frame(enc, f);
    if (ret < 0)
        return ck_media_averr(err, src, ret, "AAC encoding failed");
    while ((ret = avcodec_receive_packet(enc, pkt)) >= 0) {
        int64_t want = (int64_t)a->count * CK_AUDIO_FRAME - CK_AUDIO_FRAME;
        if (pkt->pts != want) {
            av_packet_unref(pkt);
            return ck_error_set(err, CK_ERR_MEDIA, src, 0, 0,
                                "AAC encoder gave pts %lld, expected %lld", (long long)pkt->pts,
                                (long long)want);
        }
        ck_status st = push_packet(a, pkt->data, pkt->size, true);
        av_packet_unref(pkt);
        if (st != CK_OK)
            return ck_error_set(err, st, src, 0, 0, "out of memory");
    }
    if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
        return ck_media_averr(err, src, ret, "AAC encoding failed");
    return CK_OK;
}

static ck_status encode(ck_audio *a, const char *src, int64_t samples, ck_error *err)
{
    ck_status st = CK_OK;
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL, *enc = NULL;
    SwrContext *swr = NULL;
    AVAudioFifo *fifo = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *in = av_frame_alloc(), *out = av_frame_alloc();
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    int ret;
    if (!pkt || !in || !out) {
        st = ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
        goto done;
    }
    if ((ret = avformat_open_input(&fmt, src, NULL, NULL)) < 0 ||
        (ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        st = ck_media_averr(err, src, ret, "cannot open audio");
        goto done;
    }
    const AVCodec *dcodec = NULL;
    int si = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &dcodec, 0);
    if (si < 0 || !dcodec) {
        st = ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "no decodable audio stream");
        goto done;
    }
    dec = avcodec_alloc_context3(dcodec);
    if (!dec || avcodec_parameters_to_context(dec, fmt->streams[si]->codecpar) < 0 ||
        (ret = avcodec_open2(dec, dcodec, NULL)) < 0) {
        st = ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "cannot open the audio decoder");
        goto done;
    }
    const AVCodec *ecodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!ecodec || !(enc = avcodec_alloc_context3(ecodec))) {
        st = ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "no AAC encoder");
        goto done;
    }
    enc->sample_rate = CK_AUDIO_RATE;
    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    av_channel_layout_copy(&enc->ch_layout, &stereo);
    enc->bit_rate = AUDIO_BITRATE;
    enc->time_base = (AVRational){1, CK_AUDIO_RATE};
    enc->flags |= AV_CODEC_FLAG_BITEXACT;
    if ((ret = avcodec_open2(enc, ecodec, NULL)) < 0) {
        st = ck_media_averr(err, src, ret, "cannot open the AAC encoder");
        goto done;
    }
    if (enc->frame_size != CK_AUDIO_FRAME || enc->initial_padding != CK_AUDIO_FRAME) {
        st = ck_error_set(err, CK_ERR_MEDIA, src, 0, 0, "unexpected AAC framing");
        goto done;
    }
    if ((ret = swr_alloc_set_opts2(&swr, &stereo, AV_SAMPLE_FMT_FLTP, CK_AUDIO_RATE,
                                   &dec->ch_layout, dec->sample_fmt, dec->sample_rate, 0, NULL)) <
            0 ||
        (ret = swr_init(swr)) < 0) {
        st = ck_media_averr(err, src, ret, "cannot resample audio");
        goto done;
    }
    fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, 1 << 16);
    if (!fifo) {
        st = ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
        goto done;
    }
    /* Decode and resample everything into the FIFO (a few MB for a few minutes). */
    bool flushing = false;
    for (;;) {
        ret = avcodec_receive_frame(dec, in);
        if (ret == AVERROR(EAGAIN) && !flushing) {
            ret = av_read_frame(fmt, pkt);
            if (ret == AVERROR_EOF) {
                flushing = true;
                avcodec_send_packet(dec, NULL);
            } else if (ret < 0) {
                st = ck_media_averr(err, src, ret, "cannot read audio");
                goto done;
            } else {
                if (pkt->stream_index == si && (ret = avcodec_send_packet(dec, pkt)) < 0 &&
                    ret != AVERROR(EAGAIN)) {
                    av_packet_unref(pkt);
                    st = ck_media_averr(err, src, ret, "audio decoding failed");
                    goto done;
                }
                av_packet_unref(pkt);
            }
            continue;
        }
        if (ret == AVERROR_EOF || (ret == AVERROR(EAGAIN) && flushing))
            break;
        if (ret < 0) {
            st = ck_media_averr(err, src, ret, "audio decoding failed");
            goto done;
        }
        int cap = swr_get_out_samples(swr, in->nb_samples);
        uint8_t *planes[2] = {0};
        if (av_samples_alloc(planes, NULL, 2, cap, AV_SAMPLE_FMT_FLTP, 0) < 0) {
            st = ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
            goto done;
        }
        int n = swr_convert(swr, planes, cap, (const uint8_t **)in->extended_data, in->nb_samples);
        if (n > 0)
            av_audio_fifo_write(fifo, (void **)planes, n);
        av_freep(&planes[0]);
        av_frame_unref(in);
    }
    {
        /* Drain the resampler. */
        uint8_t *planes[2] = {0};
        if (av_samples_alloc(planes, NULL, 2, 4096, AV_SAMPLE_FMT_FLTP, 0) >= 0) {
            int n = swr_convert(swr, planes, 4096, NULL, 0);
            if (n > 0)
                av_audio_fifo_write(fifo, (void **)planes, n);
            av_freep(&planes[0]);
        }
    }
    /* Encode exactly `samples` samples: the track, cut or padded with silence. */
    for (int64_t done_s = 0; done_s < samples; done_s += CK_AUDIO_FRAME) {
        int n = (int)(samples - done_s < CK_AUDIO_FRAME ? samples - done_s : CK_AUDIO_FRAME);
        out->nb_samples = n;
        out->format = AV_SAMPLE_FMT_FLTP;
        av_channel_layout_copy(&out->ch_layout, &stereo);
        out->sample_rate = CK_AUDIO_RATE;
        if (av_frame_get_buffer(out, 0) < 0) {
            st = ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
            goto done;
        }
        int got = av_audio_fifo_read(fifo, (void **)out->data, n);
        if (got < 0)
            got = 0;
        for (int c = 0; c < 2; c++)
            memset(out->data[c] + (size_t)got * sizeof(float), 0,
                   (size_t)(n - got) * sizeof(float));
        out->pts = done_s;
        st = encode_frame(a, enc, out, pkt, src, err);
        av_frame_unref(out);
        if (st != CK_OK)
            goto done;
    }
    st = encode_frame(a, enc, NULL, pkt, src, err);
    if (st == CK_OK && a->count != expected_packets(samples))
        ck_log(CK_LOG_DEBUG, "audio: %d AAC packets for %lld samples", a->count,
               (long long)samples);
done:
    av_audio_fifo_free(fifo);
    swr_free(&swr);
    avcodec_free_context(&enc);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    av_frame_free(&in);
    av_frame_free(&out);
    av_packet_free(&pkt);
    return st;
}

ck_audio *ck_audio_create(const char *src, const char *cache_path, double duration, ck_error *err)
{
    ck_media_init();
    ck_audio *a = calloc(1, sizeof *a);
    if (!a) {
        ck_error_set(err, CK_ERR_NOMEM, src, 0, 0, "out of memory");
        return NULL;
    }
    int64_t samples = llround(duration * CK_AUDIO_RATE);
    if (samples <= 0) {
        ck_error_set(err, CK_ERR_INVALID, src, 0, 0, "audio duration must be positive");
        goto fail;
    }
    if (!(cache_path && load_cache(a, cache_path, samples))) {
        if (!ck_file_exists(src)) {
            ck_error_set(err, CK_ERR_NOT_FOUND, src, 0, 0, "audio file not found");
            goto fail;
        }
        if (encode(a, src, samples, err) != CK_OK)
            goto fail;
        if (cache_path && ck_write_atomic(cache_path, a->data, a->size, 0644, err) != CK_OK)
            goto fail;
    }
    a->bitrate = (int64_t)llround(a->size * 8.0 / duration);
    return a;
fail:
    ck_audio_destroy(&a);
    return NULL;
}

void ck_audio_destroy(ck_audio **pa)
{
    ck_audio *a = pa ? *pa : NULL;
    if (!a)
        return;
    free(a->data);
    free(a->offsets);
    free(a);
    *pa = NULL;
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
    *pts = (int64_t)i * CK_AUDIO_FRAME - CK_AUDIO_FRAME;
}
