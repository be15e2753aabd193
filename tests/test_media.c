/* test_media.c: the media module and the segment digests without the GPU: digests, the video
 * decoder (loop wrap and seeks give the same frames as sequential decoding), the campaign
 * audio (packet count, cache round trip), personal audio spliced into the shared track
 * (decoded and compared with the same mix encoded in one piece), encoder probing and
 * fallback, and one MPEG-TS segment of synthetic frames read back by ffprobe. */
#include "ck_media.h"
#include "ck_segment.h"
#include "ck_test.h"

#include <libavcodec/avcodec.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BG    CK_SOURCE_DIR "/assets/generated/bg-blue.mp4"
#define VOICE CK_SOURCE_DIR "/assets/generated/assegno-sociale-voice.m4a"

static bool fell_back;
static char decode_line[700];
static void capture(void *user, ck_log_level level, const char *msg)
{
    (void)user;
    (void)level;
    if (strstr(msg, "falling back to libx264"))
        fell_back = true;
    if (strncmp(msg, "video decode: ", 14) == 0)
        snprintf(decode_line, sizeof decode_line, "%s", msg);
}

static uint64_t frame_sum(const ck_gpu_video_frame *f)
{
    uint64_t h = 1469598103934665603ull;
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x += 7)
            h = (h ^ f->planes[0][(size_t)y * f->strides[0] + x]) * 1099511628211ull;
    return h;
}

static void test_digest(void)
{
    char a[CK_DIGEST_HEX], b[CK_DIGEST_HEX];
    ck_digest d;
    ck_digest_init(&d);
    ck_digest_str(&d, "ab");
    ck_digest_str(&d, "c");
    ck_digest_final(&d, a);
    ck_digest_init(&d);
    ck_digest_str(&d, "a");
    ck_digest_str(&d, "bc");
    ck_digest_final(&d, b);
    CK_CHECK(strlen(a) == 64 && strcmp(a, b) != 0);

    /* Equal draw lists hash equal whatever the struct padding holds; any drawn field counts. */
    ck_draw items[2];
    memset(items, 0xAB, sizeof items);
    for (int i = 0; i < 2; i++) {
        items[i].kind = CK_DRAW_RECT;
        items[i].layer = 0;
        items[i].xf = (ck_affine){1, 0, 0, 1, 10, 20};
        items[i].w = 100;
        items[i].h = 50;
        items[i].opacity = 1;
        memset(&items[i].u, 0, sizeof items[i].u);
        items[i].u.rect.p.fill = (ck_color){1, 0, 0, 1};
    }
    ck_drawlist dl = {.frame = 3, .width = 64, .height = 36, .items = &items[0], .count = 1};
    ck_drawlist dl2 = dl;
    dl2.items = &items[1];
    dl2.deps = 5; /* not drawn: does not count */
    ck_digest_init(&d);
    ck_digest_drawlist(&d, &dl);
    ck_digest_final(&d, a);
    ck_digest_init(&d);
    ck_digest_drawlist(&d, &dl2);
    ck_digest_final(&d, b);
    CK_CHECK_STR(a, b);
    items[1].u.rect.p.fill.g = 0.5f;
    ck_digest_init(&d);
    ck_digest_drawlist(&d, &dl2);
    ck_digest_final(&d, b);
    CK_CHECK(strcmp(a, b) != 0);

    ck_error err;
    CK_CHECK(ck_digest_file("/nonexistent/file", a, &err) == CK_ERR_IO);
    CK_CHECK(strstr(err.file, "/nonexistent/file") != NULL);
}

static double luma_mean(const ck_gpu_video_frame *f)
{
    double sum = 0;
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            sum += f->planes[0][(size_t)f->strides[0] * y + x];
    return sum / ((double)f->width * f->height);
}

/* Decoding ahead (media_dec.c): the same frames with it and without, across the loop point,
 * seeks back and forward and a frame asked for twice; sequential frames come from it. seq:
 * test_decoder's frames from 9.0 s. */
static void test_decoder_ahead(const uint64_t seq[40])
{
    ck_error err;
    ck_video_decoder *on = ck_video_decoder_open(BG, &err), *off = ck_video_decoder_open(BG, &err);
    CK_CHECK(on && off);
    if (!on || !off) {
        ck_video_decoder_destroy(&on);
        ck_video_decoder_destroy(&off);
        return;
    }
    ck_video_decoder_set_ahead(off, false);
    int64_t hits0 = ck_video_decoder_ahead_hits(on);
    const int order[] = {0, 1, 2, 3, 3, 4, 20, 21, 22, 35, 36, 5, 6, 29, 30, 31, 32, 10, 11};
    int same = 0, known = 0;
    for (size_t k = 0; k < CK_ARRAY_LEN(order); k++) {
        ck_gpu_video_frame a, b;
        double t = 9.0 + order[k] / 30.0;
        CK_CHECK(ck_video_decoder_frame_at(on, t, true, &a, &err) == CK_OK);
        uint64_t sa = frame_sum(&a);
        CK_CHECK(ck_video_decoder_frame_at(off, t, true, &b, &err) == CK_OK);
        same += sa == frame_sum(&b);
        known += sa == seq[order[k]];
    }
    int n = (int)CK_ARRAY_LEN(order);
    CK_CHECK(same == n && known == n);
    /* At least the 12 frames that follow the one asked for before were decoded ahead: 1, 2,
     * 3, 4, 21, 22, 36, 6, 30 (frame 0 again, after the loop point's seek), 31, 32, 11. */
    CK_CHECK(ck_video_decoder_ahead_hits(on) - hits0 >= 12);
    CK_CHECK(ck_video_decoder_ahead_hits(off) == 0);
    ck_video_decoder_destroy(&on);
    ck_video_decoder_destroy(&off);
}

/* Seeks back to where segments start (the server renders many viewers' same moments one
 * after another): the non-reference pictures on the way from the keyframe are not decoded
 * (media_dec.c), and every frame asked for is still the one sequential decoding gives, the
 * frames after it too. */
static void test_decoder_skip(void)
{
    ck_error err;
    ck_video_decoder *seq = ck_video_decoder_open(BG, &err), *d = ck_video_decoder_open(BG, &err);
    CK_CHECK(seq && d);
    if (!seq || !d) {
        ck_video_decoder_destroy(&seq);
        ck_video_decoder_destroy(&d);
        return;
    }
    enum { N = 300 };
    static uint64_t sum[N];
    ck_gpu_video_frame f;
    for (int i = 0; i < N; i++) {
        CK_CHECK(ck_video_decoder_frame_at(seq, i / 30.0, false, &f, &err) == CK_OK);
        sum[i] = frame_sum(&f);
    }
    int64_t decoded, skipped;
    ck_video_decoder_counts(seq, &decoded, &skipped);
    CK_CHECK(decoded >= N && skipped == 0); /* sequential: nothing to skip */
    /* Starts of 2 s segments over a 10 s loop (1 s first segment), frames around the
     * keyframes (0, 106, 183) and the last one; each followed by 8 frames played on. */
    const int starts[] = {150, 210, 270, 30, 90, 150, 105, 106, 107, 182, 184, 299, 291, 0, 150};
    int same = 0, n = 0;
    for (size_t k = 0; k < CK_ARRAY_LEN(starts); k++)
        for (int i = starts[k]; i < starts[k] + 9 && i < N; i++) {
            CK_CHECK(ck_video_decoder_frame_at(d, i / 30.0, false, &f, &err) == CK_OK);
            same += frame_sum(&f) == sum[i];
            n++;
        }
    CK_CHECK(same == n);
    ck_video_decoder_counts(d, &decoded, &skipped);
    fprintf(stderr, "decoder: %d frames asked after seeks, %lld decoded, %lld skipped\n", n,
            (long long)decoded, (long long)skipped);
    /* 914 frames decoded here when every picture on the way is decoded; bg-blue.mp4 has 137
     * non-reference pictures in 300. */
    CK_CHECK(skipped > 0 && decoded <= 700);
    ck_video_decoder_destroy(&seq);
    ck_video_decoder_destroy(&d);
}

static void test_decoder(void)
{
    ck_error err;
    ck_video_decoder *d = ck_video_decoder_open(BG, &err);
    CK_CHECK(d != NULL);
    if (!d)
        return;
    CK_CHECK(ck_video_decoder_frames(d) == 300);
    CK_CHECK_NEAR(ck_video_decoder_duration(d), 10.0, 1e-6);
    ck_gpu_video_frame f;
    uint64_t seq[40];
    /* sequential from 9.0 s, across the loop point */
    for (int i = 0; i < 40; i++) {
        CK_CHECK(ck_video_decoder_frame_at(d, 9.0 + i / 30.0, true, &f, &err) == CK_OK);
        seq[i] = frame_sum(&f);
    }
    CK_CHECK(f.width == 1280 && f.height == 720);
    /* random access (seeks back and forward) gives the same frames */
    const int order[] = {35, 2, 31, 30, 0, 29, 15};
    for (size_t k = 0; k < CK_ARRAY_LEN(order); k++) {
        CK_CHECK(ck_video_decoder_frame_at(d, 9.0 + order[k] / 30.0, true, &f, &err) == CK_OK);
        CK_CHECK(frame_sum(&f) == seq[order[k]]);
    }
    /* the loop wraps: 10 s is frame 0 again; without loop the last frame holds */
    CK_CHECK(ck_video_decoder_frame_at(d, 0, true, &f, &err) == CK_OK);
    uint64_t f0 = frame_sum(&f);
    CK_CHECK(seq[30] == f0);
    CK_CHECK(ck_video_decoder_frame_at(d, 25.0, false, &f, &err) == CK_OK);
    CK_CHECK(frame_sum(&f) == seq[29]);
    /* Scaled by the decoder (a 1280x720 canvas rendered at 1920x1080): the same picture at the
     * new size, the mean luma within a code; the same frame twice gives the same bytes; back
     * to the source's size, the source's bytes. */
    int sw, sh;
    ck_video_decoder_size(d, &sw, &sh);
    CK_CHECK(sw == 1280 && sh == 720);
    double mean0 = luma_mean(&f);
    ck_video_decoder_set_size(d, 1920, 1080);
    CK_CHECK(ck_video_decoder_frame_at(d, 25.0, false, &f, &err) == CK_OK);
    CK_CHECK(f.width == 1920 && f.height == 1080 && f.format == CK_GPU_PIX_YUV420P);
    CK_CHECK_NEAR(luma_mean(&f), mean0, 1.0);
    uint64_t big = frame_sum(&f);
    CK_CHECK(ck_video_decoder_frame_at(d, 25.0, false, &f, &err) == CK_OK);
    CK_CHECK(frame_sum(&f) == big);
    ck_video_decoder_set_size(d, 0, 0);
    CK_CHECK(ck_video_decoder_frame_at(d, 25.0, false, &f, &err) == CK_OK);
    CK_CHECK(f.width == 1280 && frame_sum(&f) == seq[29]);
    ck_video_decoder_destroy(&d);
    CK_CHECK(d == NULL);
    test_decoder_ahead(seq);
    test_decoder_skip();

    CK_CHECK(ck_video_decoder_open("/nonexistent/bg.mp4", &err) == NULL);
    CK_CHECK(strstr(err.file, "bg.mp4") != NULL);
}

/* Hardware decoding where a device exists (CUDA, VAAPI), software otherwise: the same pixels
 * either way (H.264 decoding is exact), one log line saying which and why. */
static void test_hwdec(void)
{
    ck_error err;
    ck_log_set(capture, NULL, CK_LOG_DEBUG);
    setenv("CIAK_HWDEC", "none", 1);
    ck_video_decoder *sw = ck_video_decoder_open(BG, &err);
    CK_CHECK(sw != NULL);
    CK_CHECK_STR(decode_line, "video decode: software (CIAK_HWDEC=none)");
    setenv("CIAK_HWDEC", "quantum", 1);
    ck_video_decoder *bogus = ck_video_decoder_open(BG, &err);
    CK_CHECK(bogus != NULL); /* a wrong setting never stops the video: software, and why */
    CK_CHECK(strstr(decode_line, "CIAK_HWDEC=quantum is not one of cuda, vaapi, none") != NULL);
    unsetenv("CIAK_HWDEC");
    ck_video_decoder *aut = ck_video_decoder_open(BG, &err);
    CK_CHECK(aut != NULL);
    printf("  %s\n", decode_line);
    CK_CHECK(strncmp(decode_line, "video decode: ", 14) == 0);
    ck_log_set(NULL, NULL, CK_LOG_WARN);
    const double at[] = {0, 1.0 / 30, 4.5, 9.9, 2.0};
    for (size_t k = 0; sw && aut && k < CK_ARRAY_LEN(at); k++) {
        ck_gpu_video_frame a, b;
        CK_CHECK(ck_video_decoder_frame_at(sw, at[k], true, &a, &err) == CK_OK);
        uint64_t sa = frame_sum(&a);
        CK_CHECK(ck_video_decoder_frame_at(aut, at[k], true, &b, &err) == CK_OK);
        CK_CHECK(frame_sum(&b) == sa); /* luma; a device's NV12 chroma is laid out otherwise */
    }
    ck_video_decoder_destroy(&sw);
    ck_video_decoder_destroy(&bogus);
    ck_video_decoder_destroy(&aut);
}

/* ---- personal audio spliced into the shared track ---- */
#define SPLICE_SECONDS 6.0
#define SPLICE_SAMPLES 288000

/* Decodes a run of ADTS packets with FFmpeg's AAC decoder: left + right (mono: twice the
 * channel, the same level), one float a sample (sample i is time i - 1024: the priming frame
 * decodes too). */
static float *decode_adts(const uint8_t *const *data, const int *size, int n, int64_t *len)
{
    const AVCodec *c = avcodec_find_decoder(AV_CODEC_ID_AAC);
    AVCodecContext *dec = c ? avcodec_alloc_context3(c) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    float *out = malloc(((size_t)n + 2) * 1024 * sizeof *out);
    *len = 0;
    if (!dec || !pkt || !fr || !out || avcodec_open2(dec, c, NULL) < 0) {
        free(out);
        out = NULL;
        n = 0;
    }
    for (int i = 0; i <= n; i++) {
        if (i < n) {
            av_new_packet(pkt, size[i]);
            memcpy(pkt->data, data[i], (size_t)size[i]);
        }
        int ret = avcodec_send_packet(dec, i < n ? pkt : NULL);
        av_packet_unref(pkt);
        while (ret >= 0 && avcodec_receive_frame(dec, fr) >= 0) {
            bool mono = fr->ch_layout.nb_channels == 1;
            const float *l = (const float *)fr->data[0], *r = (const float *)fr->data[mono ? 0 : 1];
            for (int k = 0; k < fr->nb_samples && *len < ((int64_t)n + 2) * 1024; k++)
                out[(*len)++] = l[k] + r[k];
            av_frame_unref(fr);
        }
    }
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    return out;
}

/* The packets of `parts` (one ck_audio per segment, its packets in [from[i], from[i+1]))
 * back to back, decoded. */
static float *decode_parts(ck_audio *const *parts, const int64_t *from, int nseg, int64_t *len)
{
    const uint8_t *data[400];
    int size[400], n = 0;
    for (int s = 0; s < nseg; s++)
        for (int i = 0; i < ck_audio_packet_count(parts[s]) && n < 400; i++) {
            int64_t pts;
            ck_audio_packet(parts[s], i, &data[n], &size[n], &pts);
            int64_t lo = s == 0 ? INT64_MIN : from[s], hi = s == nseg - 1 ? INT64_MAX : from[s + 1];
            if (pts >= lo && pts < hi)
                n++;
        }
    return decode_adts(data, size, n, len);
}

/* The largest high-pass energy (second difference, mean over 16 samples) in x[a, a+n). A
 * click is a step or a kink: a few samples far above what speech or music puts there. */
static double hp_peak(const float *x, int64_t a, int n)
{
    double peak = 0;
    for (int64_t w = a; w + 16 <= a + n; w += 4) {
        double e = 0;
        for (int64_t i = w; i < w + 16; i++) {
            double d = x[i + 1] - 2.0 * x[i] + x[i - 1];
            e += d * d;
        }
        peak = e / 16 > peak ? e / 16 : peak;
    }
    return peak;
}

static double rms_diff(const float *x, const float *y, int64_t a, int64_t n)
{
    double e = 0;
    for (int64_t i = a; i < a + n; i++)
        e += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
    return sqrt(e / (double)n);
}

static double rms(const float *x, int64_t a, int64_t n)
{
    double e = 0;
    for (int64_t i = a; i < a + n; i++)
        e += (double)x[i] * x[i];
    return sqrt(e / (double)n);
}

/* Whether two audio objects hold the same packets (bytes and pts). */
static bool same_packets(const ck_audio *a, const ck_audio *b)
{
    if (!a || !b || ck_audio_packet_count(a) != ck_audio_packet_count(b))
        return false;
    for (int i = 0; i < ck_audio_packet_count(a); i++) {
        const uint8_t *pa, *pb;
        int sa, sb;
        int64_t ta, tb;
        ck_audio_packet(a, i, &pa, &sa, &ta);
        ck_audio_packet(b, i, &pb, &sb, &tb);
        if (sa != sb || ta != tb || memcmp(pa, pb, (size_t)sa) != 0)
            return false;
    }
    return true;
}

/* A span over the whole scene, no personal clip, against the bed itself: the same packets
 * from pts 0 on (the span keeps no priming packet). */
static bool whole_bed_same(ck_audio *bed)
{
    ck_error err = {0};
    ck_audio *whole = ck_audio_span(bed, NULL, 0, 0, INT64_MAX, &err);
    int n = whole ? ck_audio_packet_count(whole) : -1;
    bool same = whole && n == ck_audio_packet_count(bed) - 1 && n > 40;
    for (int i = 0; same && i < n; i++) {
        const uint8_t *pa, *pb;
        int sa, sb;
        int64_t ta, tb;
        ck_audio_packet(whole, i, &pa, &sa, &ta);
        ck_audio_packet(bed, i + 1, &pb, &sb, &tb);
        same = sa == sb && ta == tb && memcmp(pa, pb, (size_t)sa) == 0;
    }
    ck_audio_destroy(&whole);
    return same;
}

/* A 44.1 kHz 16-bit WAV of `seconds` of a sweep and noise: stereo (one in each channel), or
 * mono (their sum). */
static bool write_wav_44k(const char *path, double seconds, int channels)
{
    uint32_t n = (uint32_t)(seconds * 44100), bytes = n * 2 * (uint32_t)channels, seed = 7;
    uint8_t h[44] = "RIFF....WAVEfmt ";
    uint32_t block = 2 * (uint32_t)channels;
    uint32_t v[] = {
        36 + bytes,      16, 0x00000001 | (uint32_t)channels << 16, 44100, 44100 * block,
        block | 16 << 16};
    memcpy(h + 4, &v[0], 4);
    memcpy(h + 16, &v[1], 20);
    memcpy(h + 36, "data", 4);
    memcpy(h + 40, &bytes, 4);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(h, 1, 44, f) == 44;
    for (uint32_t i = 0; ok && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double t = (double)i / 44100.0;
        int16_t s[2] = {(int16_t)(8000 * sin(2 * 3.14159265 * (200 + 300 * t) * t)),
                        (int16_t)((int32_t)(seed >> 16) / 8 - 4096)};
        if (channels == 1)
            s[0] = (int16_t)(s[0] / 2 + s[1] / 2);
        ok = fwrite(s, 2, (size_t)channels, f) == (size_t)channels;
    }
    return f && fclose(f) == 0 && ok;
}

static void test_splice(const char *dir)
{
    ck_error err = {0};
    /* Synthetic clips: a 660 Hz tone at 44.1 kHz (resampled) with sharp edges, and a noise
     * burst at 48 kHz; the segments: [0,1) s shared, [1,3) personal, [3,5) shared, [5,6)
     * personal (the last). */
    float *tone = malloc(44100 * sizeof *tone), *noise = malloc(24000 * sizeof *noise);
    uint32_t seed = 12345;
    for (int i = 0; i < 44100; i++)
        tone[i] = 0.3f * sinf(2.0f * 3.14159265f * 660.0f * (float)i / 44100.0f);
    for (int i = 0; i < 24000; i++) {
        seed = seed * 1664525u + 1013904223u;
        noise[i] = 0.2f * ((float)(seed >> 8) / 8388608.0f - 1.0f);
    }
    ck_audio_clip clips[2] = {
        {.start_s = 1.4, .pcm = tone, .frames = 44100, .rate = 44100, .text = "x", .personal = 1},
        {.start_s = 5.3, .pcm = noise, .frames = 24000, .rate = 48000, .text = "y", .personal = 1},
    };
    const int64_t from[4] = {INT64_MIN, 48000, 144000, 240000};
    const int64_t to[4] = {48000, 144000, 240000, INT64_MAX};
    const bool want_personal[4] = {false, true, false, true};
    for (int s = 0; s < 4; s++) {
        bool touched = ck_audio_clip_touches(&clips[0], from[s], to[s]) ||
                       ck_audio_clip_touches(&clips[1], from[s], to[s]);
        CK_CHECK(touched == want_personal[s]);
    }
    /* A clip ending just before a segment, within the guard: that segment is touched too. */
    ck_audio_clip near = {
        .start_s = 0.5, .pcm = noise, .frames = 23000, .rate = 48000, .personal = 1};
    CK_CHECK(ck_audio_clip_touches(&near, 48000, 144000));
    near.personal = 0; /* a shared clip never makes a segment personal */
    CK_CHECK(!ck_audio_clip_touches(&near, 0, 48000));

    ck_audio *parts[4] = {NULL}, *again = NULL;
    /* The bed: the voice track plus a shared clip, a steady 220 Hz hum over the whole scene,
     * so every boundary falls on sound (a seam shows on a steady tone). */
    float *hum = malloc(SPLICE_SAMPLES * sizeof *hum);
    for (int i = 0; i < SPLICE_SAMPLES; i++)
        hum[i] = 0.1f * sinf(2.0f * 3.14159265f * 220.0f * (float)i / 48000.0f);
    ck_audio_clip bed_clip = {.pcm = hum, .frames = SPLICE_SAMPLES, .rate = 48000};
    ck_audio_params bp = {
        .src = VOICE, .duration = SPLICE_SECONDS, .clips = &bed_clip, .clip_count = 1};
    ck_audio *bed = ck_audio_create_ex(&bp, &err);
    /* The reference: the same clips mixed into the bed and encoded in one piece. */
    ck_audio_clip as_shared[3] = {clips[0], clips[1], bed_clip};
    as_shared[0].personal = as_shared[1].personal = 0;
    ck_audio_params rp = {
        .src = VOICE, .duration = SPLICE_SECONDS, .clips = as_shared, .clip_count = 3};
    ck_audio *ref = ck_audio_create_ex(&rp, &err);
    CK_CHECK(bed && ref);
    if (!bed || !ref)
        goto out;
    parts[0] = parts[2] = bed;
    for (int s = 1; s < 4; s += 2) {
        parts[s] = ck_audio_span(bed, clips, 2, from[s], to[s], &err);
        CK_CHECK(parts[s] != NULL);
    }
    /* Deterministic: the same span again gives the same bytes. */
    again = ck_audio_span(bed, clips, 2, from[1], to[1], &err);
    CK_CHECK(again && parts[1] && ck_audio_packet_count(again) == ck_audio_packet_count(parts[1]));
    for (int i = 0; again && parts[1] && i < ck_audio_packet_count(again); i++) {
        const uint8_t *pa, *pb;
        int sa, sb;
        int64_t ta, tb;
        ck_audio_packet(again, i, &pa, &sa, &ta);
        ck_audio_packet(parts[1], i, &pb, &sb, &tb);
        CK_CHECK(sa == sb && ta == tb && memcmp(pa, pb, (size_t)sa) == 0);
        CK_CHECK(ta % 1024 == 0 && ta >= from[1] && ta < to[1]); /* the shared grid */
    }
    /* The bed keeps only the blocks spans needed: a fresh bed asked for the last span first,
     * then an earlier one (decoded again from the track's start), then the last again (kept),
     * gives the bytes of the spans made in order. */
    {
        ck_audio *bed2 = ck_audio_create_ex(&bp, &err);
        ck_audio *late = bed2 ? ck_audio_span(bed2, clips, 2, from[3], to[3], &err) : NULL;
        ck_audio *early = bed2 ? ck_audio_span(bed2, clips, 2, from[1], to[1], &err) : NULL;
        ck_audio *late2 = bed2 ? ck_audio_span(bed2, clips, 2, from[3], to[3], &err) : NULL;
        CK_CHECK(late && early && late2);
        CK_CHECK(same_packets(late, parts[3]) && same_packets(late2, parts[3]));
        CK_CHECK(same_packets(early, parts[1]));
        ck_audio_destroy(&late);
        ck_audio_destroy(&early);
        ck_audio_destroy(&late2);
        ck_audio_destroy(&bed2);
    }
    /* The bed is encoded a block at a time (two blocks of PCM in memory); a span over the
     * whole scene with no personal clip decodes every block first, then encodes them (what the
     * bed did before): the same packets. With the 48 kHz voice, and with a 44.1 kHz track
     * (resampled: a decoded frame's samples straddle the blocks' ends) that is longer than
     * the scene (cut) or shorter (padded with silence). */
    CK_CHECK(whole_bed_same(bed));
    {
        char wav[1024];
        snprintf(wav, sizeof wav, "%s/tone-44k.wav", dir);
        CK_CHECK(write_wav_44k(wav, 3.3, 2));
        for (int k = 0; k < 2; k++) {
            ck_audio_params wp = {
                .src = wav, .duration = k ? 4.0 : 2.9, .clips = &bed_clip, .clip_count = 1};
            ck_audio *wb = ck_audio_create_ex(&wp, &err);
            CK_CHECK(wb && whole_bed_same(wb));
            ck_audio_destroy(&wb);
        }
        /* Spans one after the other on one bed (its reader goes on where the last stopped,
         * through a block it left half-decoded; in order: the blocks behind dropped), then an
         * earlier one again (decoded from the start), against each made on a fresh bed. */
        ck_audio_params wp = {.src = wav, .duration = 3.2, .clips = &bed_clip, .clip_count = 1};
        const int64_t lo[5] = {20000, 70000, 71000, 120000, 30000};
        for (int in_order = 0; in_order < 2; in_order++) {
            ck_audio *wb = ck_audio_create_ex(&wp, &err);
            if (wb)
                ck_audio_spans_in_order(wb, in_order);
            for (int k = 0; wb && k < 5; k++) {
                ck_audio *fresh = ck_audio_create_ex(&wp, &err);
                ck_audio *want =
                    fresh ? ck_audio_span(fresh, clips, 2, lo[k], lo[k] + 40000, &err) : NULL;
                ck_audio *got = ck_audio_span(wb, clips, 2, lo[k], lo[k] + 40000, &err);
                CK_CHECK(want && got && same_packets(want, got));
                ck_audio_destroy(&want);
                ck_audio_destroy(&got);
                ck_audio_destroy(&fresh);
            }
            CK_CHECK(wb != NULL);
            ck_audio_destroy(&wb);
        }
    }
    /* A bad clip is an error naming it by index, never by what it says. */
    {
        ck_audio_clip bad = {.start_s = 1.2,
                             .pcm = tone,
                             .frames = 100,
                             .rate = 0,
                             .text = "Mario Rossi",
                             .personal = 1};
        ck_audio *none = ck_audio_span(bed, &bad, 1, from[1], to[1], &err);
        CK_CHECK(none == NULL && strstr(err.msg, "speech clip 0") && !strstr(err.msg, "Mario"));
        ck_audio_destroy(&none);
    }
    if (!parts[1] || !parts[3])
        goto out;
    int64_t ns, nr, nb;
    ck_audio *one[1] = {ref}, *bare[1] = {bed};
    const int64_t zero[1] = {0};
    float *sp = decode_parts(parts, from, 4, &ns), *rf = decode_parts(one, zero, 1, &nr),
          *bd = decode_parts(bare, zero, 1, &nb);
    /* Same number of samples: no AAC frame repeated or dropped. */
    CK_CHECK(sp && rf && bd && ns == nr && nr == nb && ns >= SPLICE_SAMPLES + 1024);
    if (!sp || !rf || !bd || ns != nr) {
        free(sp);
        free(rf);
        free(bd);
        goto out;
    }
    /* Sample offset 0: the cross-correlation of the spliced and the one-piece decode, over
     * the personal spans, peaks at lag 0. */
    {
        int best = 99;
        double bestc = -1e30;
        for (int lag = -64; lag <= 64; lag++) {
            double c = 0;
            for (int64_t i = 48000 + 1024; i < 144000 + 1024; i++)
                c += (double)sp[i + lag] * rf[i];
            if (c > bestc) {
                bestc = c;
                best = lag;
            }
        }
        fprintf(stderr, "splice: cross-correlation peak at lag %d\n", best);
        CK_CHECK(best == 0);
    }
    /* Before the first personal span's first packet the bytes are the bed's: exact. */
    CK_CHECK(memcmp(sp, bd, (size_t)(48000 - 1024) * sizeof *sp) == 0);
    /* The error at each boundary (a window of two AAC frames around it) against the one-piece
     * encode, next to the error the two encodings of the same mix differ by anyway inside the
     * personal span (the coding noise), and the signal's level. */
    const int64_t bounds[3] = {48000, 144000, 240000};
    double inner = rms_diff(sp, rf, 80000 + 1024, 40000);
    double level = rms(rf, 48000 + 1024, 96000);
    fprintf(stderr, "splice: signal rms %.5f, coding difference inside the span %.6f\n", level,
            inner);
    for (int k = 0; k < 3; k++) {
        int64_t at = bounds[k] + 1024; /* decoded index of time bounds[k] */
        double e = rms_diff(sp, rf, at - 2048, 4096);
        double hs = hp_peak(sp, at - 1024, 2048), hr = hp_peak(rf, at - 1024, 2048);
        fprintf(stderr,
                "splice: boundary %.1f s: error rms %.6f (%.1f dB under the signal), "
                "high-pass energy %.3g (one piece: %.3g)\n",
                bounds[k] / 48000.0, e, 20 * log10(level / (e > 0 ? e : 1e-12)), hs, hr);
        /* Bound: the seam is no worse than the coding noise itself, and at least 40 dB
         * under the signal. */
        CK_CHECK(e <= 2.0 * inner + 1e-6);
        CK_CHECK(e <= level * 0.01);
        /* Click detector: no high-pass spike at the seam that the one-piece mix lacks. */
        CK_CHECK(hs <= 1.5 * hr);
        /* ... and the detector does see a click: a 0.1 step at the seam (voice masks less). */
        for (int64_t i = at; i < at + 4096; i++)
            sp[i] += 0.1f;
        CK_CHECK(hp_peak(sp, at - 1024, 2048) > 1.5 * hr);
        for (int64_t i = at; i < at + 4096; i++)
            sp[i] -= 0.1f;
    }
    /* The personal span really carries the clip: the tone is there, the bed alone lacks it. */
    CK_CHECK(rms_diff(sp, bd, 72000 + 1024, 40000) > 0.1);
    free(sp);
    free(rf);
    free(bd);
out:
    ck_audio_destroy(&again);
    ck_audio_destroy(&parts[1]);
    ck_audio_destroy(&parts[3]);
    ck_audio_destroy(&bed);
    ck_audio_destroy(&ref);
    free(tone);
    free(noise);
    free(hum);
}

static void test_audio(const char *dir)
{
    char cache[1024];
    snprintf(cache, sizeof cache, "%s/voice.aac", dir);
    unlink(cache);
    ck_error err;
    ck_audio *a = ck_audio_create(VOICE, cache, 2.0, &err);
    CK_CHECK(a != NULL);
    if (!a)
        return;
    int n = ck_audio_packet_count(a);
    CK_CHECK(n >= 2 * 48000 / 1024 + 1 && n <= 2 * 48000 / 1024 + 3);
    CK_CHECK(ck_file_exists(cache));
    ck_audio *b = ck_audio_create("/nonexistent/voice.m4a", cache, 2.0, &err);
    CK_CHECK(b != NULL); /* from the cache: the source is not read again */
    if (b) {
        CK_CHECK(ck_audio_packet_count(b) == n);
        for (int i = 0; i < n; i++) {
            const uint8_t *pa, *pb;
            int sa, sb;
            int64_t ta, tb;
            ck_audio_packet(a, i, &pa, &sa, &ta);
            ck_audio_packet(b, i, &pb, &sb, &tb);
            CK_CHECK(sa == sb && ta == tb && memcmp(pa, pb, (size_t)sa) == 0);
            if (i == 0)
                CK_CHECK(ta == -1024);
        }
    }
    ck_audio_destroy(&a);
    ck_audio_destroy(&b);
    CK_CHECK(ck_audio_create("/nonexistent/voice.m4a", NULL, 2.0, &err) == NULL);
    CK_CHECK(strstr(err.file, "voice.m4a") != NULL);
}

/* The channel configuration of packet i's ADTS header. */
static int packet_channels(const ck_audio *a, int i)
{
    const uint8_t *d;
    int size;
    int64_t pts;
    ck_audio_packet(a, i, &d, &size, &pts);
    return size > 7 ? ((d[2] & 1) << 2) | (d[3] >> 6) : -1;
}

/* A mono track (and silence) is encoded mono, a stereo one stereo (at the same bit rate); a
 * cache with other channels than asked is encoded again; a span has its bed's channels. */
static void test_audio_channels(const char *dir)
{
    char mono[1024], stereo[1024], cache[1024];
    snprintf(mono, sizeof mono, "%s/sweep-mono.wav", dir);
    snprintf(stereo, sizeof stereo, "%s/sweep-stereo.wav", dir);
    snprintf(cache, sizeof cache, "%s/channels.aac", dir);
    CK_CHECK(write_wav_44k(mono, 2.5, 1) && write_wav_44k(stereo, 2.5, 2));
    ck_error err = {0};
    int ch = 0;
    CK_CHECK(ck_audio_source_channels(mono, &ch, &err) == CK_OK && ch == 1);
    CK_CHECK(ck_audio_source_channels(stereo, &ch, &err) == CK_OK && ch == 2);
    CK_CHECK(ck_audio_source_channels(NULL, &ch, &err) == CK_OK && ch == 1);
    CK_CHECK(ck_audio_source_channels("/nonexistent/x.wav", &ch, &err) == CK_ERR_NOT_FOUND &&
             strstr(err.file, "x.wav"));
    float tone[4800];
    for (int i = 0; i < 4800; i++)
        tone[i] = 0.3f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / 48000.0f);
    ck_audio_clip clip = {
        .start_s = 1.0, .pcm = tone, .frames = 4800, .rate = 48000, .personal = 1};
    const char *src[3] = {mono, stereo, NULL};
    const int want[3] = {1, 2, 1};
    int64_t rate[3] = {0};
    for (int k = 0; k < 3; k++) {
        unlink(cache);
        ck_audio_params p = {.src = src[k], .cache_path = cache, .duration = 2.0};
        ck_audio *a = ck_audio_create_ex(&p, &err);
        ck_audio *span = a ? ck_audio_span(a, &clip, 1, 48000 - 4096, 96000, &err) : NULL;
        CK_CHECK(a && span);
        if (!a || !span) {
            ck_audio_destroy(&a);
            continue;
        }
        CK_CHECK(ck_audio_channels(a) == want[k] && ck_audio_channels(span) == want[k]);
        CK_CHECK(packet_channels(a, 1) == want[k] && packet_channels(span, 0) == want[k]);
        rate[k] = ck_audio_bitrate(a);
        /* Decodes: the tone is in the span (both channels of a stereo bed). */
        int64_t n = 0;
        const int64_t from[2] = {0, 48000 - 4096};
        ck_audio *parts[2] = {a, span};
        float *pcm = decode_parts(parts, from, 2, &n);
        CK_CHECK(pcm && n > 96000 && rms(pcm, 48000 + 1024, 4800) > 0.2);
        free(pcm);
        ck_audio_destroy(&span);
        ck_audio_destroy(&a);
        /* From the cache: its own channels when none are asked for; other channels than
         * asked: encoded again (and the cache rewritten). */
        p.src = "/nonexistent/voice.wav";
        ck_audio *c = ck_audio_create_ex(&p, &err);
        CK_CHECK(c && ck_audio_channels(c) == want[k]);
        ck_audio_destroy(&c);
        if (src[k]) {
            p.src = src[k];
            p.channels = 3 - want[k];
            c = ck_audio_create_ex(&p, &err);
            CK_CHECK(c && ck_audio_channels(c) == 3 - want[k] &&
                     packet_channels(c, 1) == 3 - want[k]);
            ck_audio_destroy(&c);
            p.channels = 0;
            p.src = NULL;
            c = ck_audio_create_ex(&p, &err); /* the rewritten cache */
            CK_CHECK(c && ck_audio_channels(c) == 3 - want[k]);
            ck_audio_destroy(&c);
        }
    }
    fprintf(stderr, "audio: mono %lld bit/s, stereo %lld bit/s\n", (long long)rate[0],
            (long long)rate[1]);
    CK_CHECK(rate[0] > 100000 && rate[1] > 100000);
    unlink(mono);
    unlink(stereo);
    unlink(cache);
}

/* Whether two files hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
    ck_error err;
    size_t na = 0, nb = 0;
    char *da = NULL, *db = NULL;
    bool same = ck_read_file(a, 1 << 24, &da, &na, &err) == CK_OK &&
                ck_read_file(b, 1 << 24, &db, &nb, &err) == CK_OK && na > 0 && na == nb &&
                memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

static void test_encode(const char *dir)
{
    ck_error err;
    ck_enc_config cfg = {.width = 160, .height = 90};
    ck_log_set(capture, NULL, CK_LOG_DEBUG);
    const char *name = ck_media_probe_encoder("h264_nosuch", &cfg, &err);
    ck_log_set(NULL, NULL, CK_LOG_WARN);
    CK_CHECK(name && strcmp(name, "libx264") == 0);
    CK_CHECK(fell_back);
    cfg.encoder = "libx264";
    ck_enc_config_defaults(&cfg);
    char codecs[32];
    ck_enc_config_codecs(&cfg, codecs, sizeof codecs);
    CK_CHECK_STR(codecs, "avc1.64001e");

    char path[1024];
    snprintf(path, sizeof path, "%s/synthetic.ts", dir);
    ck_ts_params p = {.enc = &cfg, .first_frame = 30};
    uint8_t y[160 * 90], uv[160 * 45];
    unlink(path); /* from an earlier run */
    char ended[1100] = "";
    for (int pass = 0; pass < 3; pass++) {
        ck_ts_writer *w = ck_ts_writer_create(path, &p, &err);
        CK_CHECK(w != NULL);
        for (int f = 0; w && f < 10; f++) {
            for (size_t i = 0; i < sizeof y; i++)
                y[i] = (uint8_t)(16 + (i + f * 3) % 200);
            memset(uv, 128, sizeof uv);
            CK_CHECK(ck_ts_writer_frame(w, y, 160, uv, 160, &err) == CK_OK);
        }
        if (pass == 0) {
            ck_ts_writer_destroy(&w); /* abandoned: nothing at path */
            CK_CHECK(!ck_file_exists(path));
        } else if (pass == 1) {
            /* The video ended first (the encoder closed): finishing then writes the file,
             * with the same bytes as finishing at once (pass 2); no frame may follow. */
            CK_CHECK(w && ck_ts_writer_end_video(w, &err) == CK_OK);
            CK_CHECK(w && ck_ts_writer_end_video(w, &err) == CK_OK); /* again: nothing */
            CK_CHECK(w && ck_ts_writer_frame(w, y, 160, uv, 160, &err) == CK_ERR_INVALID);
            int64_t bytes = 0;
            CK_CHECK(w && ck_ts_writer_finish(&w, &bytes, &err) == CK_OK);
            CK_CHECK(bytes > 0 && ck_file_exists(path));
            snprintf(ended, sizeof ended, "%s/synthetic-ended.ts", dir);
            CK_CHECK(rename(path, ended) == 0);
        } else {
            int64_t bytes = 0;
            CK_CHECK(w && ck_ts_writer_finish(&w, &bytes, &err) == CK_OK);
            CK_CHECK(bytes > 0 && ck_file_exists(path));
            CK_CHECK(same_bytes(path, ended));
        }
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams v -show_entries packet=pts,flags -of csv=p=0 "
             "'%s' | head -1",
             path);
    FILE *pp = popen(cmd, "r");
    char line[128] = "";
    if (pp) {
        if (!fgets(line, sizeof line, pp))
            line[0] = 0;
        pclose(pp);
    }
    /* frame 30 at 30 fps = 1 s, plus the 1.4 s mux delay; first packet a keyframe */
    CK_CHECK(strncmp(line, "216000,K", 8) == 0);
}

/* A 2 s segment of moving synthetic frames (a gradient sliding, a box crossing) at cfg's size,
 * read from rows `stride` apart whose padding holds `junk`. */
static ck_status encode_moving(const char *path, const ck_enc_config *cfg, size_t stride,
                               uint8_t junk, ck_error *err)
{
    int w = cfg->width, h = cfg->height;
    uint8_t *y = malloc(stride * (size_t)h), *uv = malloc(stride * (size_t)h / 2);
    ck_ts_params p = {.enc = cfg, .first_frame = 0};
    ck_ts_writer *tw = y && uv ? ck_ts_writer_create(path, &p, err) : NULL;
    ck_status st = tw ? CK_OK : CK_ERR_MEDIA;
    for (int f = 0; tw && st == CK_OK && f < 60; f++) {
        memset(y, junk, stride * (size_t)h);
        memset(uv, junk, stride * (size_t)h / 2);
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                bool box = c >= f * 4 && c < f * 4 + 64 && r >= 40 && r < 120;
                y[stride * (size_t)r + (size_t)c] =
                    box ? 235 : (uint8_t)(16 + (c + r + f * 5) % 200);
            }
        for (int r = 0; r < h / 2; r++)
            for (int c = 0; c < w; c++)
                uv[stride * (size_t)r + (size_t)c] = (uint8_t)(128 + ((c / 2 + f) % 40) - 20);
        st = ck_ts_writer_frame(tw, y, stride, uv, stride, err);
    }
    if (tw && st == CK_OK)
        st = ck_ts_writer_finish(&tw, NULL, err);
    ck_ts_writer_destroy(&tw);
    free(y);
    free(uv);
    return st;
}

/* How many slice headers `path`'s video has (ffmpeg's trace_headers), -1 if unknown. */
static int count_slices(const char *path)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v trace -nostdin -i '%s' -map 0:v -c copy -bsf:v trace_headers -f null - "
             "2>&1 | grep -c 'first_mb_in_slice'",
             path);
    FILE *pp = popen(cmd, "r");
    int n = -1;
    if (pp) {
        if (fscanf(pp, "%d", &n) != 1)
            n = -1;
        pclose(pp);
    }
    return n;
}

/* Same frames, same bytes, at w x h with the default thread count: never libx264's frame
 * threads (they plan VBV from the sizes of frames still being encoded: timing), one thread
 * below 720 lines and two slices from there up, no B-frames (with them its MB-tree read
 * memory it never wrote), and nothing of the caller's row padding or of the heap's old
 * contents in the output. A segment's digest names its bytes (tests/cli/identity.sh). */
static void exact_pair(const char *dir, int w, int h, int threads)
{
    ck_error err;
    ck_enc_config cfg = {.width = w, .height = h, .encoder = "libx264"};
    ck_enc_config_defaults(&cfg);
    CK_CHECK(cfg.threads == threads);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/exact-%d-a.ts", dir, h);
    snprintf(b, sizeof b, "%s/exact-%d-b.ts", dir, h);
    CK_CHECK(encode_moving(a, &cfg, (size_t)w, 0, &err) == CK_OK);
    /* Dirty the heap the next encoder's buffers come from. */
    for (int i = 0; i < 8; i++) {
        size_t n = (size_t)1 << (16 + i);
        void *junk = malloc(n);
        if (junk)
            memset(junk, 0xa5 + i, n);
        free(junk);
    }
    CK_CHECK(encode_moving(b, &cfg, (size_t)w + 32, 0x5a, &err) == CK_OK);
    size_t na = 0, nb = 0;
    char *da = NULL, *db = NULL;
    CK_CHECK(ck_read_file(a, 1 << 24, &da, &na, &err) == CK_OK);
    CK_CHECK(ck_read_file(b, 1 << 24, &db, &nb, &err) == CK_OK);
    CK_CHECK(da && db && na > 0 && na == nb && memcmp(da, db, na) == 0);
    free(da);
    free(db);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams v -show_entries frame=pict_type -of csv=p=0 '%s' "
             "| sort | uniq -c | tr -s ' \\n' ' '",
             a);
    FILE *pp = popen(cmd, "r");
    char line[128] = "";
    if (pp) {
        if (!fgets(line, sizeof line, pp))
            line[0] = 0;
        pclose(pp);
    }
    int slices = count_slices(a);
    fprintf(stderr, "exact encode %dx%d: picture types %s, %d slices in 60 pictures\n", w, h, line,
            slices);
    CK_CHECK(strstr(line, "P") != NULL && strstr(line, "B") == NULL);
    CK_CHECK(slices == 60 * threads);
}

static void test_encode_exact(const char *dir)
{
    exact_pair(dir, 320, 180, 1);
    exact_pair(dir, 1280, 720, 2);
}

int main(void)
{
    test_digest();
    if (!ck_file_exists(BG) || !ck_file_exists(VOICE)) {
        fprintf(stderr, "test_media: assets/generated missing (scripts/make-assets.sh): only "
                        "the digest tests ran\n");
        ck_test_done("test_media");
        return 77;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/media-test", CK_BUILD_DIR);
    ck_error err;
    CK_CHECK(ck_mkdirs(dir, 0777, &err) == CK_OK);
    test_decoder();
    test_hwdec();
    test_audio(dir);
    test_audio_channels(dir);
    test_splice(dir);
    test_encode(dir);
    test_encode_exact(dir);
    return ck_test_done("test_media");
}
