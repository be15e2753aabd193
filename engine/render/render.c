/* render.c: the per-campaign renderer (ck_render.h).
 *
 * Per segment: draw lists from the timeline -> background video frames from the decoders ->
 * ck_gpu_submit (several frames in flight, so the GPU composites frame n while the CPU
 * decodes frame n+1), on a compositing thread of the batch's own -> NV12 -> the encoder, on
 * the caller's thread, working on earlier frames meanwhile (render_encode.c) -> MPEG-TS with
 * the segment's share of the campaign's AAC packets, or, where one of the person's speech
 * clips sounds, the bed mixed with them and encoded for that segment (ck_audio_span). */
#include "ck_media.h"
#include "render_internal.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FRAMES_IN_FLIGHT 3
/* Bump when anything in the way segments are made changes (it is part of every digest). */
/* 3: no B-frames, glyphs placed per segment; 4: the compositor path in the salt */
#define SEGMENT_FORMAT "ciak-segment-4"
/* Personal audio's own version, hashed only into segments that carry personal speech (so
 * every other digest stays what it was): bump it when ck_audio_span's bytes change. */
#define SPEECH_FORMAT "speech-1"

struct ck_render {
    ck_gpu *gpu;
    ck_scene *scene;
    ck_binding *binding;
    ck_fontset *fonts;
    ck_timeline *tl;
    ck_gpu_scene *sg;
    int width, height;
    ck_segment_plan plan;
    ck_enc_config enc;
    ck_video_set *videos;          /* the scene's background videos */
    ck_audio *audio;               /* NULL: silent scene, or not encoded yet (audio_src set) */
    bool bed;                      /* there is an audio bed (a track, or speech: silence) */
    int64_t samples;               /* the bed's length, 48 kHz */
    char *audio_src, *audio_cache; /* encoded on the first render when not in the cache yet */
    char *shared_dir;
    char *salt;                           /* scene, assets, size, encoder settings, audio */
    char (*shared_digest)[CK_DIGEST_HEX]; /* per segment, valid where shared[i] */
    bool *shared;
    double min_seg;
    bool overlap_encoders; /* ck_render_params': a batch's encoders drain on the finisher */
    bool audio_in_order;   /* ck_render_params': the bed drops the blocks behind a span */
    ck_arena frame_arena;
    render_speech_shared speech; /* the scene's lines that read no field, synthesised once */
};

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
static void segment_samples(const ck_render *r, int index, int64_t *from, int64_t *to)
{
    const ck_segment *sg = &r->plan.items[index];
    double spf = (double)CK_AUDIO_RATE * r->enc.fps_den / r->enc.fps_num; /* samples/frame */
    *from = index == 0 ? INT64_MIN : (int64_t)llround(sg->first_frame * spf);
    *to = index == r->plan.count - 1 ? INT64_MAX
                                     : (int64_t)llround((sg->first_frame + sg->frame_count) * spf);
}

/* Does one of `sp`'s personal clips sound in segment `index`? */
static bool speech_touches(const ck_render *r, const ck_render_speech *sp, int index)
{
    if (!sp || sp->failed || !r->bed)
        return false;
    int64_t from, to;
    segment_samples(r, index, &from, &to);
    for (int i = 0; i < sp->count; i++)
        if (ck_audio_clip_touches(&sp->clips[i], from, to))
            return true;
    return false;
}

/* The campaign's AAC track, encoded (or loaded from the cache) on first need. */
static ck_status audio_ready(ck_render *r, ck_error *err)
{
    if (r->audio || !r->audio_src)
        return CK_OK;
    if (!(r->audio = ck_audio_create(r->audio_src, r->audio_cache, r->scene->duration, err)))
        return err->status ? err->status : CK_ERR_MEDIA;
    ck_audio_spans_in_order(r->audio, r->audio_in_order);
    return CK_OK;
}

/* The bed: the campaign's track (or silence, for a scene that speaks without one) with the
 * shared speech clips mixed in; its identity goes into the salt. Without clips this is the
 * track as it always was (same cache name, same salt, same bytes). */
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
        if (ck_digest_file(a->path, hex, err) != CK_OK)
            return err->status;
        r->audio_cache =
            nshared ? dup_printf("%s/audio-%.16s-%.16s-%lld.aac", r->shared_dir, hex, chex, ms)
                    : dup_printf("%s/audio-%.16s-%lld.aac", r->shared_dir, hex, ms);
        r->audio_src = strdup(a->path);
        if (!r->audio_cache || !r->audio_src)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        ck_strbuf_printf(salt, "|audio %s aac-lc 48000 2", hex);
    } else if (p->speech || nshared) {
        r->audio_cache = dup_printf("%s/audio-silence-%.16s-%lld.aac", r->shared_dir, chex, ms);
        if (!r->audio_cache)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        ck_strbuf_printf(salt, "|audio silence aac-lc 48000 2");
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
                              .clip_count = p->clip_count};
        if (!(r->audio = ck_audio_create_ex(&ap, err)))
            return err->status ? err->status : CK_ERR_MEDIA;
        ck_audio_spans_in_order(r->audio, r->audio_in_order);
        return CK_OK;
    }
    /* Encoding the track takes seconds: with defer_audio it waits for the first render
     * unless the cache has it. */
    if (!p->defer_audio || ck_file_exists(r->audio_cache))
        return audio_ready(r, err);
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
    segment_samples(r, index, &from, &to);
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
        v->personal_audio = speech_touches(r, speech, i);
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

/* A stream's jobs live in a ring of this many slots. Job j's slot is free again once job j
 * + STREAM_SLOTS is handed out: by then every frame of jobs up to j + 7 has been encoded, since
 * at most 3 frames are on the GPU and ENCQ_PICTURES (4) queued, plus the one being encoded, and
 * a job has at least one frame. */
#define STREAM_SLOTS 16

typedef struct batch {
    ck_render *r;
    ck_render_job *jobs;        /* a batch: the caller's; a stream: STREAM_SLOTS, a ring */
    int njobs;                  /* a batch's job count (a stream: 0) */
    const ck_render_feed *feed; /* a stream's jobs come from here, one at a time */
    ck_ts_finisher *fin;        /* NULL: finish on the caller's thread (a single segment) */
    render_encq *encq;          /* compositing thread -> caller's thread (render_encode.c) */
    int recv_job;           /* the job of the oldest frame on the GPU (frames come back in order) */
    double *started, *done; /* per slot */
    ck_ts_writer **ws;      /* per slot, from its job's first frame encoded until handed over */
    void (*progress)(void *ctx, int done);
    void *progress_ctx;
    ck_status comp_status; /* the compositing thread's outcome */
    ck_error comp_err;
} batch;

/* Where job `j` (the j-th of the batch or stream) is kept. */
static int slot(const batch *b, int j)
{
    return b->feed ? j % STREAM_SLOTS : j;
}

/* Opens segment `index`'s writer at `path` with its audio: the bed's packets, or the bed
 * mixed with the person's clips. */
static ck_ts_writer *segment_writer(ck_render *r, const ck_render_speech *speech, int index,
                                    const char *path, ck_error *err)
{
    ck_ts_params tp = {
        .enc = &r->enc, .first_frame = r->plan.items[index].first_frame, .audio = r->audio};
    segment_samples(r, index, &tp.audio_from, &tp.audio_to);
    ck_audio *span = NULL;
    if (r->audio && speech_touches(r, speech, index)) {
        if (!(span = ck_audio_span(r->audio, speech->clips, speech->count, tp.audio_from,
                                   tp.audio_to, err)))
            return NULL;
        tp.audio = span;
    }
    ck_ts_writer *w = ck_ts_writer_create(path, &tp, err); /* copies the packets */
    ck_audio_destroy(&span);
    return w;
}

/* On the caller's thread: encodes job `j`'s next frame. A segment's writer opens at its first
 * frame, after the previous segment's encoder has written its last frames and closed: one
 * libx264 session is alive at a time (~46 MB each at 720p), while the compositing thread works
 * ahead. After the last frame the file is finished (by the finisher thread when there is
 * one). */
static ck_status encode_one(batch *b, int j, ck_ts_picture *pic, bool last, ck_error *err)
{
    int k = slot(b, j);
    ck_render_job *job = &b->jobs[k];
    if (!b->ws[k] && !(b->ws[k] = segment_writer(b->r, job->speech, job->index, job->path, err)))
        return err->status ? err->status : CK_ERR_MEDIA;
    ck_ts_writer *w = b->ws[k];
    ck_status st = ck_ts_writer_put(w, pic, err);
    if (st != CK_OK || !last)
        return st;
    /* The segment's last frame. Finishing frees the writer, whether it succeeds or not. */
    b->ws[k] = NULL;
    int64_t *bytes = &job->stats.bytes;
    if (!b->fin) {
        st = ck_ts_writer_finish(&w, bytes, err);
        b->done[k] = ck_now_s();
        return st;
    }
    /* Unless told to overlap them, the encoder drains here, so that the next one opens in
     * the memory this one frees; the finisher writes the trailer and commits. */
    if (!b->r->overlap_encoders && (st = ck_ts_writer_end_video(w, err)) != CK_OK) {
        ck_ts_writer_destroy(&w);
        return st;
    }
    return ck_ts_finisher_add(b->fin, w, bytes, &b->done[k], err);
}

/* Receives the oldest frame from the GPU and queues a copy of it for the encoder. */
static ck_status receive_one(batch *b, ck_error *err)
{
    ck_gpu_frame fr;
    ck_status st = ck_gpu_receive(b->r->sg, &fr, err);
    if (st != CK_OK)
        return st;
    int j = b->recv_job;
    const ck_segment *sg = &b->r->plan.items[b->jobs[slot(b, j)].index];
    bool last = fr.frame == sg->first_frame + sg->frame_count - 1;
    if (last)
        b->recv_job++;
    return render_encq_push(b->encq, j, last, fr.y, fr.y_stride, fr.uv, fr.uv_stride, err);
}

/* Composites job `j`'s frames. The GPU is not drained at the end: the next segment's first
 * frames are submitted while this one's last frames are received. */
static ck_status render_job(batch *b, int j, ck_error *err)
{
    ck_render *r = b->r;
    ck_render_job *job = &b->jobs[slot(b, j)];
    const ck_segment *sg = &r->plan.items[job->index];
    b->started[slot(b, j)] = ck_now_s();
    /* Shared segments are drawn without the record: the same frames for everybody. */
    if (ck_timeline_set_record(r->tl, sg->personal ? job->rec : NULL, NULL, NULL) != CK_OK)
        return ck_error_set(err, CK_ERR_INVALID, r->scene->file, 0, 0, "cannot bind the record");
    job->stats.threads = r->enc.threads;
    job->stats.frames = sg->frame_count;
    job->stats.encoder = r->enc.encoder;
    /* The glyphs' places in the atlas follow this segment's draw lists only, so its pixels do
     * not depend on what this renderer drew before (ck_gpu_scene_reset_glyphs). */
    ck_gpu_scene_reset_glyphs(r->sg);
    ck_gpu_video_frame videos[CK_VIDEO_SET_MAX];
    ck_status st = CK_OK;
    int64_t end = sg->first_frame + sg->frame_count;
    for (int64_t f = sg->first_frame; f < end && st == CK_OK; f++) {
        ck_arena_reset(&r->frame_arena);
        ck_drawlist dl;
        size_t nv = 0;
        if ((st = ck_timeline_eval(r->tl, f, &r->frame_arena, &dl, err)) != CK_OK ||
            (st = ck_video_set_frames(r->videos, &dl, videos, &nv, err)) != CK_OK)
            break;
        if (ck_gpu_pending(r->sg) >= FRAMES_IN_FLIGHT && (st = receive_one(b, err)) != CK_OK)
            break;
        st = ck_gpu_submit(r->sg, &dl, videos, nv, err);
    }
    return st;
}

/* Whether there is a job `j`: a batch's next, or what the stream's feed hands out now (a
 * feed's index out of the plan stops the stream with *st set). */
static bool next_job(batch *b, int j, ck_status *st, ck_error *err)
{
    if (!b->feed)
        return j < b->njobs;
    ck_render_job *job = &b->jobs[slot(b, j)];
    memset(job, 0, sizeof *job);
    if (!b->feed->next(b->feed->ctx, job))
        return false;
    if (job->index < 0 || job->index >= b->r->plan.count) {
        *st = ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "segment %d out of range (0..%d)",
                           job->index, b->r->plan.count - 1);
        return false;
    }
    return true;
}

/* The compositing thread: every job's frames, then what is still on the GPU; closes the
 * queue whatever happens, so that the caller's encoding loop ends. */
static void *composite_main(void *arg)
{
    batch *b = arg;
    ck_render *r = b->r;
    pthread_setname_np(pthread_self(), "ck-composite"); /* for top -H and perf */
    ck_status st = CK_OK;
    for (int j = 0; st == CK_OK && next_job(b, j, &st, &b->comp_err); j++)
        st = render_job(b, j, &b->comp_err);
    while (st == CK_OK && ck_gpu_pending(r->sg) > 0)
        st = receive_one(b, &b->comp_err);
    /* After a failure, abandon the GPU's frames in flight. */
    while (st != CK_OK && ck_gpu_pending(r->sg) > 0) {
        ck_gpu_frame fr;
        ck_error e2;
        if (ck_gpu_receive(r->sg, &fr, &e2) != CK_OK)
            break;
    }
    b->comp_status = st;
    render_encq_close(b->encq);
    return NULL;
}

/* On the caller's thread: encodes what the compositing thread queues, in order, until it is
 * done or encoding fails. */
static ck_status encode_all(batch *b, ck_error *err)
{
    int j;
    bool last;
    ck_ts_picture *pic;
    while (render_encq_pop(b->encq, &j, &last, &pic)) {
        ck_status st = encode_one(b, j, pic, last, err);
        render_encq_release(b->encq, pic);
        if (st != CK_OK) {
            render_encq_fail(b->encq, err);
            return st;
        }
        if (last && b->feed) { /* a stream finishes here: its file is in place */
            ck_render_job *job = &b->jobs[slot(b, j)];
            job->stats.seconds = b->done[slot(b, j)] - b->started[slot(b, j)];
            b->feed->done(b->feed->ctx, job);
        } else if (last && b->progress)
            b->progress(b->progress_ctx, j + 1);
    }
    return CK_OK;
}

ck_status ck_render_segments(ck_render *r, const ck_record *rec, ck_render_job *jobs, int n,
                             void (*progress)(void *ctx, int done), void *ctx, ck_error *err)
{
    return ck_render_segments_speech(r, rec, NULL, jobs, n, progress, ctx, err);
}

/* Runs a batch or a stream (b->jobs, b->njobs or b->feed set): composited on a thread of its
 * own, encoded here, finished by the finisher thread when there is one. */
static ck_status run_batch(batch *b, int slots, ck_error *err)
{
    ck_status st = audio_ready(b->r, err);
    if (st != CK_OK)
        return st;
    b->started = calloc((size_t)slots + 1, sizeof *b->started);
    b->done = calloc((size_t)slots + 1, sizeof *b->done);
    b->ws = calloc((size_t)slots + 1, sizeof *b->ws);
    pthread_t comp;
    if (!b->started || !b->done || !b->ws)
        st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    else if (b->njobs > 1 && !(b->fin = ck_ts_finisher_create(err)))
        st = err->status ? err->status : CK_ERR_NOMEM;
    else if (!(b->encq = render_encq_create(b->r->width, b->r->height, err)))
        st = err->status ? err->status : CK_ERR_NOMEM;
    else if (pthread_create(&comp, NULL, composite_main, b) != 0)
        st = ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "cannot start a thread to composite");
    else {
        /* Composited there, encoded here (render_encode.c says why this way round). */
        st = encode_all(b, err);
        pthread_join(comp, NULL);
        if (st == CK_OK && b->comp_status != CK_OK) {
            st = b->comp_status;
            if (err)
                *err = b->comp_err;
        }
    }
    if (st == CK_OK && b->fin)
        st = ck_ts_finisher_wait(b->fin, err);
    /* After a failure: the segments waiting to be finished are abandoned, then those whose
     * last frame was not encoded (nothing is left at their paths). */
    ck_ts_finisher_destroy(&b->fin);
    render_encq_destroy(&b->encq);
    for (int k = 0; k < slots && b->ws; k++)
        ck_ts_writer_destroy(&b->ws[k]);
    for (int j = 0; j < b->njobs && st == CK_OK; j++)
        b->jobs[j].stats.seconds = b->done[j] - b->started[j];
    free(b->started);
    free(b->done);
    free(b->ws);
    return st;
}

ck_status ck_render_segments_speech(ck_render *r, const ck_record *rec,
                                    const ck_render_speech *speech, ck_render_job *jobs, int n,
                                    void (*progress)(void *ctx, int done), void *ctx, ck_error *err)
{
    for (int j = 0; j < n; j++) {
        if (jobs[j].index < 0 || jobs[j].index >= r->plan.count)
            return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "segment %d out of range (0..%d)",
                                jobs[j].index, r->plan.count - 1);
        memset(&jobs[j].stats, 0, sizeof jobs[j].stats);
        jobs[j].rec = rec;
        jobs[j].speech = speech;
    }
    batch b = {.r = r, .jobs = jobs, .njobs = n, .progress = progress, .progress_ctx = ctx};
    return run_batch(&b, n, err);
}

ck_status ck_render_stream(ck_render *r, const ck_render_feed *feed, ck_error *err)
{
    ck_render_job ring[STREAM_SLOTS];
    batch b = {.r = r, .jobs = ring, .feed = feed};
    return run_batch(&b, STREAM_SLOTS, err);
}

ck_status ck_render_segment(ck_render *r, const ck_record *rec, int index, const char *path,
                            ck_render_stats *stats, ck_error *err)
{
    return ck_render_segment_speech(r, rec, NULL, index, path, stats, err);
}

/* Segment `index` is personal only by `speech` (its pictures are a shared segment's): its
 * video can be copied from the shared file (render_remux.c). */
static bool audio_only_personal(const ck_render *r, const ck_render_speech *speech, int index)
{
    return index >= 0 && index < r->plan.count && r->shared[index] && r->audio &&
           speech_touches(r, speech, index);
}

/* Segment `index` for a person whose clips sound over shared pictures: the shared segment's
 * video packets muxed with the person's audio span. Only when the shared file is there: this
 * renderer does not make shared segments behind its caller's back (a server counts them, and a
 * cluster renders each exactly once); without it the segment is encoded (same bytes). */
static ck_status remux_segment(ck_render *r, const ck_render_speech *speech, int index,
                               const char *path, ck_render_stats *stats, ck_error *err)
{
    char *shared = ck_render_shared_path(r, r->shared_digest[index]);
    if (!shared)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    ck_status st = CK_OK;
    if (!ck_file_exists(shared))
        st = ck_error_set(err, CK_ERR_NOT_FOUND, shared, 0, 0,
                          "the shared segment is not rendered yet");
    if (st == CK_OK) {
        ck_ts_params tp = {.enc = &r->enc, .first_frame = r->plan.items[index].first_frame};
        segment_samples(r, index, &tp.audio_from, &tp.audio_to);
        st = render_remux_segment(shared, path, &tp, r->audio, speech->clips, speech->count, stats,
                                  err);
    }
    free(shared);
    return st;
}

bool ck_render_copies(const ck_render *r, const ck_render_speech *speech, int index)
{
    if (!audio_only_personal(r, speech, index))
        return false;
    char *shared = ck_render_shared_path(r, r->shared_digest[index]);
    bool there = shared && ck_file_exists(shared);
    free(shared);
    return there;
}

ck_status ck_render_segment_speech(ck_render *r, const ck_record *rec,
                                   const ck_render_speech *speech, int index, const char *path,
                                   ck_render_stats *stats, ck_error *err)
{
    if (audio_ready(r, err) != CK_OK)
        return err->status;
    if (audio_only_personal(r, speech, index)) {
        ck_error e = {0};
        if (remux_segment(r, speech, index, path, stats, &e) == CK_OK)
            return CK_OK;
        /* Not rendered yet, or unreadable, its folder gone...: encode it (same bytes). */
        if (e.status != CK_ERR_NOT_FOUND) {
            char buf[1400];
            ck_log(CK_LOG_WARN, "render: %s: segment %d from the shared video: %s; encoding it",
                   r->scene->id, index, ck_error_format(&e, buf, sizeof buf));
        }
    }
    ck_render_job job = {.index = index, .path = path};
    ck_status st = ck_render_segments_speech(r, rec, speech, &job, 1, NULL, NULL, err);
    if (st == CK_OK && stats)
        *stats = job.stats;
    return st;
}

/* ---- playlists ---- */
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

/* AAC-LC stereo at the encoder's bit rate (media_audio.c), for the bound below: the track
 * itself may not be encoded yet, and playlists never touch the renderer's mutable state. */
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
