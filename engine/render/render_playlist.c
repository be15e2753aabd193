/* render_playlist.c: a view's HLS playlists, its captions and the rates they declare
 * (ck_render.h). */
#include "render_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void add_url(ck_strbuf *b, const char *tpl, const ck_render_seg *sg, int index)
{
    for (const char *p = tpl; *p;) {
        if (strncmp(p, "{digest}", 8) == 0) {
            ck_strbuf_printf(b, "%s", sg->digest);
            p += 8;
        } else if (strncmp(p, "{index}", 7) == 0) {
            ck_strbuf_printf(b, "%d", index);
            p += 7;
        } else {
            ck_strbuf_printf(b, "%c", *p++);
        }
    }
    ck_strbuf_printf(b, "\n");
}

char *ck_render_media_playlist(const ck_render *r, const ck_render_view *view,
                               const ck_playlist_params *params)
{
    ck_playlist_params p = params ? *params : (ck_playlist_params){0};
    const char *shared = p.shared_url ? p.shared_url : "{digest}.ts";
    const char *personal = p.personal_url ? p.personal_url : "{digest}.ts";
    double maxd = 0;
    for (int i = 0; i < view->count; i++)
        if (view->segs[i].duration > maxd)
            maxd = view->segs[i].duration;
    ck_strbuf b = {0};
    ck_strbuf_printf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n",
                     (int)ceil(maxd - 1e-9));
    ck_strbuf_printf(
        &b, "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    (void)r;
    for (int i = 0; i < view->count; i++) {
        const ck_render_seg *sg = &view->segs[i];
        ck_strbuf_printf(&b, "#EXTINF:%.6f,\n", sg->duration);
        add_url(&b, sg->shared ? shared : personal, sg, i);
    }
    ck_strbuf_printf(&b, "#EXT-X-ENDLIST\n");
    return ck_strbuf_take(&b);
}

/* AAC-LC at the encoder's bit rate, mono or stereo (media_audio.c), for the bound below: the
 * track itself may not be encoded yet, and playlists never touch the renderer's mutable
 * state. */
#define AUDIO_BITRATE_BOUND 128000

int64_t ck_render_peak_bound(const ck_render *r)
{
    int64_t abr = r->bed ? AUDIO_BITRATE_BOUND : 0;
    return ck_enc_config_peak_bitrate(&r->enc, r->min_seg, abr);
}

int ck_render_measure(const ck_render_view *view, const char *const *paths, ck_render_rates *out)
{
    memset(out, 0, sizeof *out);
    int n = view->count, found = 0;
    double *bits = calloc((size_t)n + 1, sizeof *bits), maxd = 0, total_bits = 0, total_s = 0;
    if (!bits)
        return 0;
    for (int i = 0; i < n; i++) {
        struct stat sb;
        bits[i] = -1;
        if (paths[i] && stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
            bits[i] = (double)sb.st_size * 8;
            total_bits += bits[i];
            total_s += view->segs[i].duration;
            found++;
        }
        if (view->segs[i].duration > maxd)
            maxd = view->segs[i].duration;
    }
    /* The peak segment bit rate as HLS defines it (RFC 8216bis, Apple's validator): the
     * largest bit rate of a contiguous set of segments lasting 0.5 to 1.5 target durations
     * (a short segment alone, mostly its IDR frame, does not count); without such a set,
     * the largest single segment's. Where every segment lasts at least half the target,
     * this is simply the largest bytes * 8 / duration of one segment. */
    double target = ceil(maxd - 1e-9), peak = 0, single = 0;
    for (int i = 0; i < n; i++) {
        if (bits[i] < 0)
            continue;
        double b = 0, d = 0, rate = bits[i] / view->segs[i].duration;
        single = rate > single ? rate : single;
        for (int j = i; j < n && bits[j] >= 0; j++) {
            b += bits[j];
            d += view->segs[j].duration;
            if (d > 1.5 * target + 1e-9)
                break;
            if (d >= 0.5 * target - 1e-9 && b / d > peak)
                peak = b / d;
        }
    }
    out->peak = (int64_t)ceil(peak > 0 ? peak : single);
    out->average = total_s > 0 ? (int64_t)ceil(total_bits / total_s) : 0;
    free(bits);
    return found;
}

char *ck_render_master_playlist(const ck_render *r, const char *media_uri, const char *subs_uri,
                                const ck_render_rates *rates)
{
    char codecs[32];
    ck_enc_config_codecs(&r->enc, codecs, sizeof codecs);
    bool audio = r->bed;
    int64_t bw = rates && rates->peak > 0 ? rates->peak : ck_render_peak_bound(r);
    ck_strbuf b = {0};
    ck_strbuf_printf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (subs_uri)
        ck_strbuf_printf(
            &b,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Italiano\",LANGUAGE=\"it\","
            "DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI=\"%s\"\n",
            subs_uri);
    ck_strbuf_printf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%lld", (long long)bw);
    if (rates && rates->average > 0)
        ck_strbuf_printf(&b, ",AVERAGE-BANDWIDTH=%lld",
                         (long long)(rates->average < bw ? rates->average : bw));
    /* No CEA-608/708 captions in the video: without CLOSED-CAPTIONS=NONE, iOS lists an
     * "Unknown CC" track next to the WebVTT rendition. */
    ck_strbuf_printf(&b, ",CODECS=\"%s%s\",RESOLUTION=%dx%d,FRAME-RATE=%.3f,CLOSED-CAPTIONS=NONE",
                     codecs, audio ? ",mp4a.40.2" : "", r->width, r->height,
                     (double)r->enc.fps_num / r->enc.fps_den);
    if (subs_uri)
        ck_strbuf_printf(&b, ",SUBTITLES=\"subs\"");
    ck_strbuf_printf(&b, "\n%s\n", media_uri);
    return ck_strbuf_take(&b);
}

char *ck_render_subs_playlist(const ck_render *r, const char *vtt_uri)
{
    double dur = (double)r->scene->frame_count / r->scene->fps;
    ck_strbuf b = {0};
    ck_strbuf_printf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n",
                     (int)ceil(dur - 1e-9));
    ck_strbuf_printf(&b, "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    ck_strbuf_printf(&b, "#EXTINF:%.6f,\n%s\n#EXT-X-ENDLIST\n", dur, vtt_uri);
    return ck_strbuf_take(&b);
}

static void vtt_time(ck_strbuf *b, double t)
{
    int64_t ms = llround(t * 1000);
    ck_strbuf_printf(b, "%02lld:%02lld:%02lld.%03lld", (long long)(ms / 3600000),
                     (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60),
                     (long long)(ms % 1000));
}

/* One WebVTT cue: escape markup; no blank line inside a cue. */
static void vtt_cue(ck_strbuf *b, int n, double start, double end, const char *text)
{
    ck_strbuf_printf(b, "\n%d\n", n);
    vtt_time(b, start);
    ck_strbuf_printf(b, " --> ");
    vtt_time(b, end);
    ck_strbuf_printf(b, "\n");
    bool nl = false;
    for (const char *p = text; *p; p++) {
        if (*p == '&')
            ck_strbuf_printf(b, "&amp;");
        else if (*p == '<')
            ck_strbuf_printf(b, "&lt;");
        else if (*p == '>')
            ck_strbuf_printf(b, "&gt;");
        else if (*p == '\n') {
            if (!nl)
                ck_strbuf_printf(b, "\n");
            nl = true;
            continue;
        } else if (*p != '\r')
            ck_strbuf_printf(b, "%c", *p);
        nl = false;
    }
    ck_strbuf_printf(b, "\n");
}

char *ck_render_webvtt(const ck_render *r, const ck_record *rec)
{
    const ck_scene *s = r->scene;
    ck_arena a = {0};
    ck_strbuf b = {0};
    /* Segments' video starts at MPEG-TS time 1.4 s (the muxer adds twice its 0.7 s delay):
     * captions' time 0 is there. test_render checks the two agree. */
    ck_strbuf_printf(&b, "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n");
    /* The scene's captions and the speech lines, merged in time order. A speech line's cue
     * is the text the voice says (the same rendering, so captions = speech) and lasts the
     * time the line has (until the next line or the end). */
    int cue = 0, ci = 0, si = 0;
    const ck_binding *bd = r->binding;
    while (ci < s->caption_count || si < s->speech_line_count) {
        bool take_caption =
            si >= s->speech_line_count ||
            (ci < s->caption_count && s->captions[ci].start <= s->speech_lines[si].start);
        double start, end;
        const char *text;
        if (take_caption) {
            const ck_caption *c = &s->captions[ci];
            text = bd->caption_text[ci] ? ck_template_render(bd->caption_text[ci], rec, &a)
                                        : c->text.text;
            start = c->start, end = c->end;
            ci++;
        } else {
            const ck_speech_line *l = &s->speech_lines[si];
            bool said = !bd->speech_when[si] || ck_expr_eval(bd->speech_when[si], rec);
            text = said ? ck_template_render(bd->speech_text[si], rec, &a) : NULL;
            start = l->start, end = l->end;
            si++;
        }
        if (text && *text)
            vtt_cue(&b, ++cue, start, end, text);
    }
    ck_arena_free(&a);
    return ck_strbuf_take(&b);
}
