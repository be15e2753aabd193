/* verify.c: every asset of a scene checked before a link goes out (ck_render_verify_assets).
 *
 * `ciak check`, `ciak import` and the server's start-up run this, so a corrupt or short file
 * is found by the operator, not by a viewer waiting for a segment. Each problem is one
 * diagnostic at the asset's declaration in scene.json (line:col) naming the file:
 *   video  opens, decodes its first frame and its last one (a file cut short decodes less
 *          than its header says), and lasts as long as every layer that shows it without
 *          `loop` (source_start + the layer's length); keyframes more than a second apart
 *          are a warning (segments would decode frames they do not show);
 *   image  decodes fully (stb_image reads every pixel before it returns);
 *   font   parses, and holds every character of the scene's fixed texts and of the Italian
 *          alphabet (accented capitals included) -- or the layer's fallback font does;
 *   audio  decodes from start to end and lasts the scene's duration.
 * Video and audio are probed here with libavformat/libavcodec directly, not through
 * ck_video_decoder: that decoder holds its last good frame when a file ends early (right
 * while rendering, wrong for a check), and it would hide how far a cut file decodes. */
#include "ck_render.h"
#include "ck_media.h"
#include "ck_template.h"
#include "ck_text.h"

#include <libavcodec/avcodec.h>
#include <ctype.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- video and audio ---- */

typedef struct media_probe {
    double start;     /* first frame's time, s (stream time, start_time subtracted) */
    double decoded;   /* seconds that decode: last frame's time + its length */
    double announced; /* what the container says, s (0: unknown) */
    double fps;       /* video only */
    char why[256];    /* the failure, for the message */
} media_probe;

typedef struct av_state {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    bool eof;
} av_state;

static void av_state_free(av_state *a)
{
    avcodec_free_context(&a->dec);
    avformat_close_input(&a->fmt);
    av_packet_free(&a->pkt);
    av_frame_free(&a->frame);
}

static bool av_fail(media_probe *p, int ret, const char *what)
{
    char e[128];
    av_strerror(ret, e, sizeof e);
    snprintf(p->why, sizeof p->why, "%s (%s)", what, e);
    return false;
}

/* Opens `path` and a software decoder for its best stream of `type`. */
static bool av_open(av_state *a, const char *path, enum AVMediaType type, media_probe *p)
{
    const char *kind = type == AVMEDIA_TYPE_VIDEO ? "video" : "audio";
    int ret = avformat_open_input(&a->fmt, path, NULL, NULL);
    if (ret < 0)
        return av_fail(p, ret, "cannot open it: not a media file FFmpeg reads");
    if ((ret = avformat_find_stream_info(a->fmt, NULL)) < 0)
        return av_fail(p, ret, "cannot read its streams");
    const AVCodec *codec = NULL;
    a->stream = av_find_best_stream(a->fmt, type, -1, -1, &codec, 0);
    if (a->stream < 0 || !codec) {
        snprintf(p->why, sizeof p->why, "it has no decodable %s stream", kind);
        return false;
    }
    AVStream *st = a->fmt->streams[a->stream];
    if (!(a->dec = avcodec_alloc_context3(codec)) || !(a->pkt = av_packet_alloc()) ||
        !(a->frame = av_frame_alloc()) || avcodec_parameters_to_context(a->dec, st->codecpar) < 0) {
        snprintf(p->why, sizeof p->why, "out of memory");
        return false;
    }
    if ((ret = avcodec_open2(a->dec, codec, NULL)) < 0)
        return av_fail(p, ret, "cannot open its decoder");
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        p->announced = (double)st->duration * av_q2d(st->time_base);
    else if (a->fmt->duration > 0)
        p->announced = (double)a->fmt->duration / AV_TIME_BASE;
    return true;
}

/* The next decoded frame into a->frame: 0, AVERROR_EOF at the end, or a decoding error. */
static int av_next(av_state *a)
{
    for (;;) {
        int ret = avcodec_receive_frame(a->dec, a->frame);
        if (ret != AVERROR(EAGAIN))
            return ret;
        if (a->eof)
            return AVERROR_EOF;
        ret = av_read_frame(a->fmt, a->pkt);
        if (ret == AVERROR_EOF) {
            a->eof = true;
            avcodec_send_packet(a->dec, NULL);
            continue;
        }
        if (ret < 0)
            return ret;
        if (a->pkt->stream_index == a->stream)
            ret = avcodec_send_packet(a->dec, a->pkt);
        av_packet_unref(a->pkt);
        /* A damaged packet is reported by the frames that fail to come, not here: the
         * decoder conceals what it can, as it would while rendering. */
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA)
            return ret;
    }
}

/* Seconds of the current frame on the stream's clock, NAN when it has no timestamp. */
static double frame_time(const av_state *a)
{
    int64_t pts = a->frame->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = a->frame->pts;
    if (pts == AV_NOPTS_VALUE)
        return NAN;
    return (double)pts * av_q2d(a->fmt->streams[a->stream]->time_base);
}

/* Decodes the first frame, then the last group of pictures: the last frame's time tells how
 * much of the file really decodes. */
static bool probe_video(const char *path, media_probe *p)
{
    av_state a = {0};
    bool ok = false;
    if (!av_open(&a, path, AVMEDIA_TYPE_VIDEO, p))
        goto done;
    AVStream *st = a.fmt->streams[a.stream];
    AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    p->fps = fr.num && fr.den ? av_q2d(fr) : 0;
    if (!(p->fps > 0 && p->fps < 1000)) {
        snprintf(p->why, sizeof p->why, "it has no usable frame rate");
        goto done;
    }
    int ret = av_next(&a);
    if (ret < 0) {
        av_fail(p, ret, "its first frame does not decode");
        goto done;
    }
    p->start = frame_time(&a);
    if (isnan(p->start))
        p->start = 0;
    double last = p->start;
    /* Seek to the keyframe before the announced end and decode to the end of the file. */
    if (p->announced > 0) {
        int64_t ts = (int64_t)((p->start + p->announced) / av_q2d(st->time_base));
        if (av_seek_frame(a.fmt, a.stream, ts, AVSEEK_FLAG_BACKWARD) >= 0) {
            avcodec_flush_buffers(a.dec);
            a.eof = false;
        }
    }
    int frames = 0;
    while ((ret = av_next(&a)) == 0) {
        double t = frame_time(&a);
        if (!isnan(t) && t > last)
            last = t;
        frames++;
    }
    if (ret != AVERROR_EOF && frames == 0) {
        av_fail(p, ret, "its last frames do not decode");
        goto done;
    }
    p->decoded = last - p->start + 1.0 / p->fps;
    ok = true;
done:
    av_state_free(&a);
    return ok;
}

/* Decodes the whole track: what matters is the samples that really come out. */
static bool probe_audio(const char *path, media_probe *p)
{
    av_state a = {0};
    bool ok = false;
    if (!av_open(&a, path, AVMEDIA_TYPE_AUDIO, p))
        goto done;
    int64_t samples = 0;
    int rate = a.dec->sample_rate, ret;
    while ((ret = av_next(&a)) == 0) {
        samples += a.frame->nb_samples;
        if (a.frame->sample_rate > 0)
            rate = a.frame->sample_rate;
    }
    if (ret != AVERROR_EOF || samples == 0 || rate <= 0) {
        if (ret == AVERROR_EOF)
            snprintf(p->why, sizeof p->why, "no sound decodes from it");
        else
            av_fail(p, ret, "it does not decode to the end");
        goto done;
    }
    p->decoded = (double)samples / rate;
    ok = true;
done:
    av_state_free(&a);
    return ok;
}

static void asset_diag(const ck_scene *s, const ck_asset *a, ck_diags *d, ck_severity sev,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* One message per problem: scene.json:line:col: assets.<id>: "<file>": what is wrong. */
static void asset_diag(const ck_scene *s, const ck_asset *a, ck_diags *d, ck_severity sev,
                       const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ck_diag_add(d, sev, s->file, a->pos.line, a->pos.col, "assets.%s: \"%s\": %s", a->id,
                a->path ? a->path : "", msg);
}
#define asset_error(s, a, d, ...) asset_diag(s, a, d, CK_SEV_ERROR, __VA_ARGS__)

/* The longest a renderer may decode to reach a frame: the longest stretch from a keyframe to
 * the next (or to the end: a looped video's last one), s; 0 when it cannot tell. Packets
 * only: nothing is decoded. */
static double keyframe_gap(const char *path)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    double gap = 0, key = NAN, end = 0;
    int si = -1;
    if (pkt && avformat_open_input(&fmt, path, NULL, NULL) >= 0 &&
        avformat_find_stream_info(fmt, NULL) >= 0)
        si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    double tb = si >= 0 ? av_q2d(fmt->streams[si]->time_base) : 0;
    while (si >= 0 && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == si && pkt->pts != AV_NOPTS_VALUE) {
            double t = (double)pkt->pts * tb, z = t + (double)pkt->duration * tb;
            end = z > end ? z : end;
            if ((pkt->flags & AV_PKT_FLAG_KEY) && !isnan(key) && t - key > gap)
                gap = t - key;
            if (pkt->flags & AV_PKT_FLAG_KEY)
                key = t;
        }
        av_packet_unref(pkt);
    }
    if (!isnan(key) && end - key > gap)
        gap = end - key;
    av_packet_free(&pkt);
    avformat_close_input(&fmt);
    return gap;
}

static void verify_video(const ck_scene *s, int ai, ck_diags *d)
{
    const ck_asset *a = &s->assets[ai];
    media_probe p = {0};
    if (!probe_video(a->path, &p)) {
        asset_error(s, a, d, "corrupt video: %s", p.why);
        return;
    }
    double frame = 1.0 / p.fps;
    /* Allow one frame and a little timestamp jitter between the header and the frames. */
    if (p.announced > 0 && p.decoded + 2 * frame < p.announced) {
        asset_error(s, a, d,
                    "corrupt or cut short: frames decode up to %.2f s of the %.2f s its header "
                    "announces",
                    p.decoded, p.announced);
        return;
    }
    /* Each personal segment's renderer seeks to its first frame: it decodes from the keyframe
     * before it (bench/README.md: the decoding was a third of libx264's cost in a burst). */
    double gap = keyframe_gap(a->path);
    if (gap > 1.0 + frame / 2)
        asset_diag(s, a, d, CK_SEV_WARNING,
                   "keyframes up to %.1f s apart: a segment starting between two of them is "
                   "decoded from the one before; re-encode it with one every second "
                   "(ffmpeg -g %.0f -keyint_min %.0f -sc_threshold 0)",
                   gap, p.fps, p.fps);
    for (int i = 0; i < s->layer_count; i++) {
        const ck_layer *L = &s->layers[i];
        if (L->type != CK_LAYER_VIDEO || L->media.asset != ai || L->media.loop)
            continue;
        double need = L->media.source_start + (L->end - L->start);
        if (need > p.decoded + frame * 0.5)
            asset_error(s, a, d,
                        "the video lasts %.2f s but layer \"%s\" (line %d) shows it up to %.2f s; "
                        "use a longer video or set \"loop\": true on the layer",
                        p.decoded, L->id, L->pos.line, need);
    }
}

static void verify_audio(const ck_scene *s, int ai, ck_diags *d)
{
    const ck_asset *a = &s->assets[ai];
    media_probe p = {0};
    if (!probe_audio(a->path, &p)) {
        asset_error(s, a, d, "corrupt audio: %s", p.why);
        return;
    }
    if (p.announced > 0 && p.decoded + 0.1 < p.announced) {
        asset_error(s, a, d,
                    "corrupt or cut short: sound decodes up to %.2f s of the %.2f s its header "
                    "announces",
                    p.decoded, p.announced);
        return;
    }
    /* The track is cut or padded to the scene's length when encoded; one that ends well
     * before the scene is a voice-over cut short (a missing last sentence), not a choice. */
    if (s->audio == ai && p.decoded + 0.5 < s->duration)
        asset_error(s, a, d,
                    "the audio lasts %.2f s but the scene lasts %.2f s; use the complete track "
                    "or shorten the scene",
                    p.decoded, s->duration);
}

static void verify_image(const ck_scene *s, int ai, ck_diags *d)
{
    const ck_asset *a = &s->assets[ai];
    ck_error err = {0};
    int w = 0, h = 0;
    uint8_t *px = ck_image_read(a->path, &w, &h, &err);
    if (!px)
        asset_error(s, a, d, "corrupt image: %s", err.msg[0] ? err.msg : "it does not decode");
    free(px);
}

/* ---- fonts ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The font file is whole: every table its directory lists lies inside the file. HarfBuzz and
 * stb_truetype open a font cut short without a word (its directory is at the start), and the
 * rasteriser would then read glyph outlines past the end of the data. */
static void verify_font_file(const ck_scene *s, int ai, ck_diags *d)
{
    const ck_asset *a = &s->assets[ai];
    char *buf = NULL;
    size_t n = 0;
    ck_error err = {0};
    if (ck_read_file(a->path, 0, &buf, &n, &err) != CK_OK)
        return; /* missing or unreadable: the scene loader and the font loader say so */
    const unsigned char *u = (const unsigned char *)buf;
    size_t base = 0;
    if (n >= 16 && memcmp(u, "ttcf", 4) == 0) /* a collection: its first font */
        base = be32(u + 12);
    if (base > n || n - base < 12) {
        asset_error(s, a, d, "corrupt font: too short for a font file");
        free(buf);
        return;
    }
    unsigned tables = (unsigned)u[base + 4] << 8 | u[base + 5];
    if (tables == 0 || (n - base - 12) / 16 < tables) {
        asset_error(s, a, d, "corrupt font: its table directory is cut short");
        free(buf);
        return;
    }
    for (unsigned i = 0; i < tables; i++) {
        const unsigned char *rec = u + base + 12 + 16 * i;
        uint64_t off = be32(rec + 8), len = be32(rec + 12);
        if (off + len > n) {
            asset_error(s, a, d,
                        "corrupt font: table '%c%c%c%c' runs past the end of the file (%llu of "
                        "%llu bytes there): the file is cut short",
                        isprint(rec[0]) ? rec[0] : '?', isprint(rec[1]) ? rec[1] : '?',
                        isprint(rec[2]) ? rec[2] : '?', isprint(rec[3]) ? rec[3] : '?',
                        (unsigned long long)(off < n ? n - off : 0), (unsigned long long)len);
            break;
        }
    }
    free(buf);
}

/* What every font pair of a text layer must show: names and words in Italian. */
static const char italian_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "ÀÈÉÌÒÙàèéìòù0123456789.,;:!?'-()";

#define MISSING_MAX 12

typedef struct missing_set {
    uint32_t cp[MISSING_MAX];
    int count, more;
} missing_set;

static void missing_add(missing_set *m, uint32_t cp)
{
    for (int i = 0; i < m->count; i++)
        if (m->cp[i] == cp)
            return;
    if (m->count < MISSING_MAX)
        m->cp[m->count++] = cp;
    else
        m->more++;
}

/* "'à' (U+00E0), 'È' (U+00C8)" */
static void missing_text(const missing_set *m, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < m->count && n < size; i++) {
        uint32_t c = m->cp[i];
        char u[5] = {0};
        if (c < 0x80) {
            u[0] = (char)c;
        } else if (c < 0x800) {
            u[0] = (char)(0xC0 | (c >> 6));
            u[1] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            u[0] = (char)(0xE0 | (c >> 12));
            u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[2] = (char)(0x80 | (c & 0x3F));
        } else {
            u[0] = (char)(0xF0 | (c >> 18));
            u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[3] = (char)(0x80 | (c & 0x3F));
        }
        n += (size_t)snprintf(buf + n, size - n, "%s'%s' (U+%04X)", i ? ", " : "", u, c);
    }
    if (m->more && n < size)
        snprintf(buf + n, size - n, " and %d more", m->more);
}

static bool pair_has(const ck_fontset *fs, int font, int fallback, uint32_t cp)
{
    if (font >= 0 && font < fs->count && fs->fonts[font] && ck_font_has(fs->fonts[font], cp))
        return true;
    return fallback >= 0 && fallback < fs->count && fs->fonts[fallback] &&
           ck_font_has(fs->fonts[fallback], cp);
}

/* Characters of `text` that neither font of the pair has (controls and spaces aside: line
 * breaks and spaces are layout, not glyphs). */
static void missing_in(const ck_fontset *fs, int font, int fallback, const char *text,
                       missing_set *m)
{
    const char *p = text, *end = text + strlen(text);
    while (p < end) {
        int32_t cp = ck_utf8_next(&p, end);
        if (cp <= 0x20 || cp == 0x7F || cp == 0xA0 || cp == 0x202F)
            continue;
        if (!pair_has(fs, font, fallback, (uint32_t)cp))
            missing_add(m, (uint32_t)cp);
    }
}

static const char *font_names(const ck_scene *s, int font, int fallback, char *buf, size_t size)
{
    if (fallback >= 0)
        snprintf(buf, size, "nor its fallback \"%s\" (assets.%s)", s->assets[fallback].path,
                 s->assets[fallback].id);
    else
        snprintf(buf, size, "and the layer has no fallback font");
    (void)font;
    return buf;
}

static void verify_glyphs(const ck_scene *s, const ck_binding *b, const ck_fontset *fs, ck_diags *d)
{
    char list[512], names[600];
    ck_arena arena = {0};
    for (int i = 0; i < s->layer_count; i++) {
        const ck_layer *L = &s->layers[i];
        if (L->type != CK_LAYER_TEXT || L->text.font < 0 || L->text.font >= s->asset_count)
            continue;
        int f = L->text.font, fb = L->text.fallback_font;
        /* The alphabet once per font pair: the first layer that uses the pair reports it. */
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = s->layers[j].type == CK_LAYER_TEXT && s->layers[j].text.font == f &&
                   s->layers[j].text.fallback_font == fb;
        if (!seen) {
            missing_set m = {0};
            missing_in(fs, f, fb, italian_alphabet, &m);
            if (m.count) {
                missing_text(&m, list, sizeof list);
                asset_error(s, &s->assets[f], d,
                            "the font lacks characters of the Italian alphabet, %s: %s "
                            "(layer \"%s\" uses it); use a font with accented letters",
                            font_names(s, f, fb, names, sizeof names), list, L->id);
            }
        }
        /* A fixed text (one that reads no field) is the same for everybody: check it all. */
        const ck_template *t = b ? b->layer_text[i] : NULL;
        if (!t || ck_template_deps(t) != 0)
            continue;
        const char *text = ck_template_render(t, NULL, &arena);
        missing_set m = {0};
        missing_in(fs, f, fb, text ? text : "", &m);
        if (m.count) {
            missing_text(&m, list, sizeof list);
            asset_error(s, &s->assets[f], d,
                        "the font lacks characters that layer \"%s\" (line %d) shows, %s: %s",
                        L->id, L->pos.line, font_names(s, f, fb, names, sizeof names), list);
        }
        ck_arena_reset(&arena);
    }
    ck_arena_free(&arena);
}

/* ---- the whole scene ---- */

ck_status ck_render_verify_assets(const ck_scene *s, const ck_render_verify_params *params,
                                  ck_diags *diags)
{
    ck_render_verify_params p = params ? *params : (ck_render_verify_params){0};
    size_t errors = diags->errors;
    ck_media_init();
    for (int i = 0; i < s->asset_count; i++) {
        switch (s->assets[i].kind) {
        case CK_ASSET_VIDEO:
            verify_video(s, i, diags);
            break;
        case CK_ASSET_IMAGE:
            verify_image(s, i, diags);
            break;
        case CK_ASSET_AUDIO:
            verify_audio(s, i, diags);
            break;
        case CK_ASSET_FONT:
            verify_font_file(s, i, diags); /* its glyphs below, as a set */
            break;
        }
    }
    /* Fonts: the caller's (already loaded and reported), or loaded here, reporting those that
     * do not parse. The binding only tells which texts are fixed; its errors are the
     * caller's to report, so a scratch list takes them. */
    ck_fontset *own_fonts = NULL;
    ck_binding *own_binding = NULL;
    const ck_fontset *fs = p.fonts;
    if (!p.fonts_loaded)
        fs = own_fonts = ck_fontset_create(s, diags);
    const ck_binding *b = p.binding;
    if (!b) {
        ck_diags scratch = {.max = 1};
        b = own_binding = ck_binding_create(s, &scratch);
        ck_diags_free(&scratch);
    }
    if (fs)
        verify_glyphs(s, b, fs, diags);
    ck_binding_destroy(&own_binding);
    ck_fontset_destroy(&own_fonts);
    return diags->errors > errors ? CK_ERR_MEDIA : CK_OK;
}

ck_status ck_render_verify_dir(const char *scene_dir, ck_diags *diags)
{
    ck_scene *s = ck_scene_load(scene_dir, NULL, diags);
    if (!s)
        return CK_ERR_PARSE;
    ck_status st = ck_render_verify_assets(s, NULL, diags);
    ck_scene_destroy(&s);
    return st;
}
