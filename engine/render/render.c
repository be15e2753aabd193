/* render.c: the per-campaign renderer (ck_render.h): made from a scene folder (the scene, its
 * bindings, fonts, timeline, GPU scene, segment plan, encoder settings, background videos and
 * audio bed, the salt every digest starts from), and the people's views: the digest of each
 * of their segments. Rendering is render_batch.c's, playlists render_playlist.c's. */
#include "ck_media.h"
#include "render_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump when anything in the way segments are made changes (it is part of every digest). */
/* 3: no B-frames, glyphs placed per segment; 4: the compositor path in the salt */
#define SEGMENT_FORMAT "ciak-segment-4"
/* Personal audio's own version, hashed only into segments that carry personal speech (so
 * every other digest stays what it was): bump it when ck_audio_span's bytes change. */
#define SPEECH_FORMAT "speech-1"

/* The first error of `d` as a ck_error (the scene loader reports into diags). */
static ck_status diags_to_err(const ck_diags *d, ck_error *err, const char *fallback_file)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].sev == CK_SEV_ERROR)
            return ck_error_set(err, CK_ERR_INVALID, d->items[i].file, d->items[i].line,
                                d->items[i].col, "%s%s", d->items[i].msg,
                                d->errors > 1 ? " (and more: run `ciak check`)" : "");
    return ck_error_set(err, CK_ERR_INVALID, fallback_file, 0, 0, "cannot load the scene");
}

/* Frame rate as a fraction: integers, NTSC rates (n*1000/1001), else milli-frames. */
static void fps_rational(double fps, int *num, int *den)
{
    double r = round(fps);
    if (fabs(fps - r) < 1e-6) {
        *num = (int)r;
        *den = 1;
        return;
    }
    double ntsc = round(fps * 1.001);
    if (fabs(fps - ntsc * 1000.0 / 1001.0) < 1e-4) {
        *num = (int)ntsc * 1000;
        *den = 1001;
        return;
    }
    *num = (int)llround(fps * 1000);
    *den = 1000;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static bool segment_shared(const ck_render *r, int i)
{
    return r->shared[i];
}

/* Hashes a clip's identity: where it sounds and its samples (never its text). */
static void digest_clip(ck_digest *d, const ck_audio_clip *c)
{
    ck_digest_i64(d, llround(c->start_s * CK_AUDIO_RATE));
    ck_digest_i64(d, c->rate);
    ck_digest_i64(d, (int64_t)c->frames);
    ck_digest_i64(d, c->personal);
    if (c->pcm && c->frames)
        ck_digest_update(d, c->pcm, c->frames * sizeof *c->pcm);
}

/* Segment `index`'s audio packets: pts (48 kHz samples) in [*from, *to), whole AAC frames
 * picked by start time, so consecutive segments carry consecutive frames. */
void render_segment_samples(const ck_render *r, int index, int64_t *from, int64_t *to)
{
    const ck_segment *sg = &r->plan.items[index];
    double spf = (double)CK_AUDIO_RATE * r->enc.fps_den / r->enc.fps_num; /* samples/frame */
    *from = index == 0 ? INT64_MIN : (int64_t)llround(sg->first_frame * spf);
    *to = index == r->plan.count - 1 ? INT64_MAX
                                     : (int64_t)llround((sg->first_frame + sg->frame_count) * spf);
}

/* Does one of `sp`'s personal clips sound in segment `index`? */
bool render_speech_touches(const ck_render *r, const ck_render_speech *sp, int index)
{
    if (!sp || sp->failed || !r->bed)
        return false;
    int64_t from, to;
    render_segment_samples(r, index, &from, &to);
    for (int i = 0; i < sp->count; i++)
        if (ck_audio_clip_touches(&sp->clips[i], from, to))
            return true;
    return false;
}

/* The campaign's AAC track, encoded (or loaded from the cache) on first need. */
ck_status render_audio_ready(ck_render *r, ck_error *err)
{
    if (r->audio || !r->audio_src)
        return CK_OK;
    ck_audio_params ap = {.src = r->audio_src,
                          .cache_path = r->audio_cache,
                          .duration = r->scene->duration,
                          .channels = r->audio_channels};
    if (!(r->audio = ck_audio_create_ex(&ap, err)))
        return err->status ? err->status : CK_ERR_MEDIA;
    ck_audio_spans_in_order(r->audio, r->audio_in_order);
    return CK_OK;
}

/* The bed: the campaign's track (or silence, for a scene that speaks without one) with the
 * shared speech clips mixed in; its identity goes into the salt. Without clips a stereo
 * track is what it always was (same cache name, same salt, same bytes); a mono one (and
 * silence) is encoded mono, its cache named so ("-mono"). */
static ck_status audio_setup(ck_render *r, const ck_render_params *p, ck_strbuf *salt,
                             ck_error *err)
{
    const ck_scene *s = r->scene;
    char hex[CK_DIGEST_HEX], chex[CK_DIGEST_HEX] = "";
    long long ms = llround(s->duration * 1000);
    int nshared = 0;
    ck_digest d;
    ck_digest_init(&d);
    for (int i = 0; p->clips && i < p->clip_count; i++)
        if (!p->clips[i].personal) {
            digest_clip(&d, &p->clips[i]);
            nshared++;
        }
    ck_digest_final(&d, chex);
    r->samples = llround(s->duration * CK_AUDIO_RATE);
    if (s->audio >= 0) {
        const ck_asset *a = &s->assets[s->audio];
        if (ck_digest_file(a->path, hex, err) != CK_OK ||
            ck_audio_source_channels(a->path, &r->audio_channels, err) != CK_OK)
            return err->status;
        const char *mono = r->audio_channels == 1 ? "-mono" : "";
        r->audio_cache =
            nshared
                ? dup_printf("%s/audio-%.16s-%.16s-%lld%s.aac", r->shared_dir, hex, chex, ms, mono)
                : dup_printf("%s/audio-%.16s-%lld%s.aac", r->shared_dir, hex, ms, mono);
        r->audio_src = strdup(a->path);
        if (!r->audio_cache || !r->audio_src)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        ck_strbuf_printf(salt, "|audio %s aac-lc 48000 %d", hex, r->audio_channels);
    } else if (p->speech || nshared) {
        r->audio_channels = 1;
        r->audio_cache =
            dup_printf("%s/audio-silence-%.16s-%lld-mono.aac", r->shared_dir, chex, ms);
        if (!r->audio_cache)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        ck_strbuf_printf(salt, "|audio silence aac-lc 48000 1");
    } else {
        return CK_OK; /* a silent scene: no audio stream */
    }
    r->bed = true;
    if (nshared || !r->audio_src) {
        /* The clips are the caller's: mixed now, not on a deferred first render. */
        ck_strbuf_printf(salt, "|speech-bed %s", chex);
        ck_audio_params ap = {.src = r->audio_src,
                              .cache_path = r->audio_cache,
                              .duration = s->duration,
                              .clips = p->clips,
                              .clip_count = p->clip_count,
                              .channels = r->audio_channels};
        if (!(r->audio = ck_audio_create_ex(&ap, err)))
            return err->status ? err->status : CK_ERR_MEDIA;
        ck_audio_spans_in_order(r->audio, r->audio_in_order);
        return CK_OK;
    }
    /* Encoding the track takes seconds: with defer_audio it waits for the first render
     * unless the cache has it. */
    if (!p->defer_audio || ck_file_exists(r->audio_cache))
        return render_audio_ready(r, err);
    return CK_OK;
}

ck_render *ck_render_create(ck_gpu *gpu, const char *scene_dir, const ck_render_params *params,
                            ck_error *err)
{
    ck_render_params p = params ? *params : (ck_render_params){0};
    ck_render *r = calloc(1, sizeof *r);
    ck_diags d = {0};
    ck_strbuf salt = {0};
    char hex[CK_DIGEST_HEX];
    if (!r) {
        ck_error_set(err, CK_ERR_NOMEM, scene_dir, 0, 0, "out of memory");
        return NULL;
    }
    r->gpu = gpu;
    if (!(r->scene = ck_scene_load(scene_dir, NULL, &d)) ||
        !(r->binding = ck_binding_create(r->scene, &d)) ||
        !(r->fonts = ck_fontset_create(r->scene, &d))) {
        diags_to_err(&d, err, scene_dir);
        goto fail;
    }
    const ck_scene *s = r->scene;
    if (!(r->tl = ck_timeline_create(s, r->binding, r->fonts, err)))
        goto fail;
    if (ck_segment_plan_make(s, r->binding, &r->plan, err) != CK_OK)
        goto fail;
    /* A scene that speaks: its shared lines join the bed unless the caller brings clips. Its
     * personal lines leave the plan alone: each view marks the segments one person's clips
     * touch (personal_audio), so a person a `when` leaves silent keeps the shared ones. */
    if (s->speech_line_count > 0) {
        if (!p.clips) {
            if (render_speech_shared_make(s, &r->speech, err) != CK_OK)
                goto fail;
            p.clips = r->speech.clips;
            p.clip_count = (int)r->speech.count;
        }
        p.speech = true;
    }
    if ((p.width || p.height) && (p.width <= 0 || p.height <= 0 || (p.width & 1) ||
                                  (p.height & 1) || p.width > 8192 || p.height > 8192)) {
        ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                     "output size %dx%d: width and height must be even, 2..8192", p.width,
                     p.height);
        goto fail;
    }
    ck_gpu_scene_params gp = {.width = p.width,
                              .height = p.height,
                              .outputs = CK_GPU_OUT_NV12,
                              .frames_in_flight = FRAMES_IN_FLIGHT};
    if (!(r->sg = ck_gpu_scene_create(gpu, s, r->fonts, &gp, err)))
        goto fail;
    ck_gpu_scene_size(r->sg, &r->width, &r->height);

    /* Encoder: probed once per renderer; every segment uses the same settings. */
    r->enc.width = r->width;
    r->enc.height = r->height;
    fps_rational(s->fps, &r->enc.fps_num, &r->enc.fps_den);
    r->enc.quality = p.quality;
    r->enc.maxrate = p.maxrate;
    ck_enc_config_defaults(&r->enc);
    if (!(r->enc.encoder = ck_media_probe_encoder(p.encoder, &r->enc, err)))
        goto fail;

    /* Cache folder of the campaign version. */
    r->shared_dir =
        dup_printf("%s/%s/%d", p.cache_dir ? p.cache_dir : "var/cache", s->id, s->version);
    if (!r->shared_dir) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if (ck_mkdirs(r->shared_dir, CK_CACHE_DIR_MODE, err) != CK_OK)
        goto fail;

    /* Identity of everything a segment's bytes depend on besides its draw lists. */
    char fp[512];
    ck_enc_config_fingerprint(&r->enc, fp, sizeof fp);
    if (ck_digest_file(s->file, hex, err) != CK_OK)
        goto fail;
    ck_strbuf_printf(&salt, "%s|%s|%d|scene %s|out %dx%d|enc %s", SEGMENT_FORMAT, s->id, s->version,
                     hex, r->width, r->height, fp);
    /* The compositor: the GPU path (shaders into device memory) and the CPU path (the host
     * blends) may differ by a code value, and so may a real GPU and lavapipe on one path;
     * a digest names one byte string, so both are in it (docs/deploy.md, mixed fleets). */
    ck_strbuf_printf(&salt, "|comp %s-path %s-device",
                     ck_gpu_scene_path(r->sg) == CK_GPU_PATH_CPU ? "cpu" : "gpu",
                     ck_gpu_is_cpu(gpu) ? "cpu" : "gpu");
    if (!(r->videos = ck_video_set_create(s, err)))
        goto fail;
    ck_video_set_fit(r->videos, s->width, s->height, r->width, r->height);
    for (int i = 0; i < s->asset_count; i++) {
        const ck_asset *a = &s->assets[i];
        if (i == s->audio)
            continue; /* hashed below with its encoding */
        if (ck_digest_file(a->path, hex, err) != CK_OK)
            goto fail;
        ck_strbuf_printf(&salt, "|asset %s %s", a->id, hex);
    }
    r->audio_in_order = p.audio_in_order;
    if (audio_setup(r, &p, &salt, err) != CK_OK)
        goto fail;
    if (!(r->salt = ck_strbuf_take(&salt))) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }

    /* Shared segments' digests: the same for everybody, computed once. */
    int n = r->plan.count;
    r->shared = calloc((size_t)n, sizeof *r->shared);
    r->shared_digest = calloc((size_t)n, sizeof *r->shared_digest);
    if (!r->shared || !r->shared_digest) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if (ck_timeline_set_record(r->tl, NULL, NULL, NULL) != CK_OK) {
        ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0, "cannot bind an empty record");
        goto fail;
    }
    r->overlap_encoders = p.overlap_encoders;
    if (p.raw_video && !(r->raw_path = strdup(p.raw_video))) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    r->min_seg = 1e9;
    for (int i = 0; i < n; i++) {
        const ck_segment *sg = &r->plan.items[i];
        if (sg->duration < r->min_seg)
            r->min_seg = sg->duration;
        r->shared[i] = !sg->personal && !p.no_share;
        if (r->shared[i] && ck_segment_digest(r->tl, sg, r->salt, &r->frame_arena,
                                              r->shared_digest[i], err) != CK_OK)
            goto fail;
    }
    int shared = 0;
    for (int i = 0; i < n; i++)
        shared += r->shared[i];
    ck_log(CK_LOG_INFO, "render: %s v%d, %dx%d, %d segments (%d shared), encoder %s", s->id,
           s->version, r->width, r->height, n, shared, r->enc.encoder);
    ck_diags_free(&d);
    return r;
fail:
    ck_strbuf_free(&salt);
    ck_diags_free(&d);
    ck_render_destroy(&r);
    return NULL;
}

void ck_render_destroy(ck_render **pr)
{
    ck_render *r = pr ? *pr : NULL;
    if (!r)
        return;
    ck_gpu_scene_destroy(&r->sg);
    ck_video_set_destroy(&r->videos);
    ck_audio_destroy(&r->audio);
    render_speech_shared_free(&r->speech);
    ck_timeline_destroy(&r->tl);
    ck_segment_plan_free(&r->plan);
    ck_fontset_destroy(&r->fonts);
    ck_binding_destroy(&r->binding);
    ck_scene_destroy(&r->scene);
    ck_arena_free(&r->frame_arena);
    free(r->shared_dir);
    free(r->audio_src);
    free(r->audio_cache);
    if (r->raw)
        fclose(r->raw);
    free(r->raw_path);
    free(r->salt);
    free(r->shared);
    free(r->shared_digest);
    free(r);
    *pr = NULL;
}

const ck_scene *ck_render_scene(const ck_render *r)
{
    return r->scene;
}

const ck_segment_plan *ck_render_plan(const ck_render *r)
{
    return &r->plan;
}

const char *ck_render_encoder(const ck_render *r)
{
    return r->enc.encoder;
}

int ck_render_version(const ck_render *r)
{
    return r->scene->version;
}

const char *ck_render_campaign(const ck_render *r)
{
    return r->scene->id;
}

const char *ck_render_shared_dir(const ck_render *r)
{
    return r->shared_dir;
}

void ck_render_size(const ck_render *r, int *width, int *height)
{
    *width = r->width;
    *height = r->height;
}

char *ck_render_shared_path(const ck_render *r, const char *digest)
{
    return dup_printf("%s/%s.ts", r->shared_dir, digest);
}

/* The view of `rec` drawn with timeline `tl` in `arena` (the renderer's or a digester's). */
/* Digest of a segment with personal audio: its pictures' digest salted with the clips that
 * shape its audio (those within its span's pre- and post-roll), in order. */
static ck_status speech_digest(const ck_render *r, ck_timeline *tl, ck_arena *arena,
                               const ck_render_speech *sp, int index, char hex[CK_DIGEST_HEX],
                               ck_error *err)
{
    int64_t from, to;
    render_segment_samples(r, index, &from, &to);
    ck_digest d;
    char chex[CK_DIGEST_HEX];
    ck_digest_init(&d);
    ck_digest_str(&d, SPEECH_FORMAT);
    ck_digest_i64(&d, CK_AUDIO_PREROLL);
    ck_digest_i64(&d, CK_AUDIO_POSTROLL);
    ck_digest_i64(&d, CK_AUDIO_GUARD);
    for (int i = 0; i < sp->count; i++)
        if (ck_audio_clip_shapes(&sp->clips[i], r->samples, from, to))
            digest_clip(&d, &sp->clips[i]);
    ck_digest_final(&d, chex);
    char *salt = dup_printf("%s|%s %s", r->salt, SPEECH_FORMAT, chex);
    if (!salt)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    ck_status st = ck_segment_digest(tl, &r->plan.items[index], salt, arena, hex, err);
    free(salt);
    return st;
}

static ck_status view_make(const ck_render *r, ck_timeline *tl, ck_arena *arena,
                           const ck_record *rec, const ck_render_speech *speech,
                           ck_render_view *out, ck_error *err)
{
    if (speech && speech->failed)
        ck_log(CK_LOG_WARN,
               "render: %s: speech synthesis failed for a viewer: the shared audio plays "
               "instead",
               r->scene->id);
    else if (speech && speech->count > 0 && !r->bed)
        ck_log(CK_LOG_WARN,
               "render: %s: speech clips given, but the renderer has no audio bed "
               "(ck_render_params.speech): ignored",
               r->scene->id);
    memset(out, 0, sizeof *out);
    int n = r->plan.count;
    out->segs = calloc((size_t)n, sizeof *out->segs);
    if (!out->segs)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    out->count = n;
    ck_status st = ck_timeline_set_record(tl, rec, NULL, NULL);
    for (int i = 0; i < n && st == CK_OK; i++) {
        const ck_segment *sg = &r->plan.items[i];
        ck_render_seg *v = &out->segs[i];
        v->personal_audio = render_speech_touches(r, speech, i);
        v->shared = segment_shared(r, i) && !v->personal_audio;
        v->first_frame = sg->first_frame;
        v->frame_count = sg->frame_count;
        v->start = sg->start;
        v->duration = sg->duration;
        if (v->shared)
            memcpy(v->digest, r->shared_digest[i], CK_DIGEST_HEX);
        else if (v->personal_audio)
            st = speech_digest(r, tl, arena, speech, i, v->digest, err);
        else
            st = ck_segment_digest(tl, sg, r->salt, arena, v->digest, err);
    }
    if (st != CK_OK)
        ck_render_view_free(out);
    return st;
}

ck_status ck_render_view_make(ck_render *r, const ck_record *rec, ck_render_view *out,
                              ck_error *err)
{
    return view_make(r, r->tl, &r->frame_arena, rec, NULL, out, err);
}

ck_status ck_render_view_make_speech(ck_render *r, const ck_record *rec,
                                     const ck_render_speech *speech, ck_render_view *out,
                                     ck_error *err)
{
    return view_make(r, r->tl, &r->frame_arena, rec, speech, out, err);
}

struct ck_render_digester {
    const ck_render *r;
    ck_timeline *tl;
    ck_arena arena;
};

ck_render_digester *ck_render_digester_create(const ck_render *r, ck_error *err)
{
    ck_render_digester *d = calloc(1, sizeof *d);
    if (!d) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    d->r = r;
    if (!(d->tl = ck_timeline_create(r->scene, r->binding, r->fonts, err)))
        ck_render_digester_destroy(&d);
    return d;
}

void ck_render_digester_destroy(ck_render_digester **pd)
{
    ck_render_digester *d = pd ? *pd : NULL;
    if (!d)
        return;
    ck_timeline_destroy(&d->tl);
    ck_arena_free(&d->arena);
    free(d);
    *pd = NULL;
}

ck_status ck_render_digester_view(ck_render_digester *d, const ck_record *rec, ck_render_view *out,
                                  ck_error *err)
{
    return view_make(d->r, d->tl, &d->arena, rec, NULL, out, err);
}

ck_status ck_render_digester_view_speech(ck_render_digester *d, const ck_record *rec,
                                         const ck_render_speech *speech, ck_render_view *out,
                                         ck_error *err)
{
    return view_make(d->r, d->tl, &d->arena, rec, speech, out, err);
}

void ck_render_view_free(ck_render_view *v)
{
    if (!v)
        return;
    free(v->segs);
    v->segs = NULL;
    v->count = 0;
}

void ck_render_set_personal_threads(ck_render *r, int threads)
{
    /* x264's bytes depend on its thread count, and a personal segment's URL (its digest) is
     * known before anyone renders it: every segment uses the fixed count (r->enc.threads). */
    (void)r;
    (void)threads;
}
