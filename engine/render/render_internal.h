/* render_internal.h: what the renderer's files share (not part of ck_render.h). */
#ifndef CK_RENDER_INTERNAL_H
#define CK_RENDER_INTERNAL_H

#include "ck_render.h"
#include "ck_media.h"
#include "ck_speech.h"

/* The lines of a speaking scene that are the same for everybody, synthesised once for a
 * renderer: the clips (owned, free with render_speech_shared_free) to mix into its bed. A
 * scene without speech gives nothing. */
typedef struct render_speech_shared {
    ck_speech_clip *owned; /* what engine/speech made: the samples and texts */
    size_t count;
    ck_audio_clip *clips; /* the same, as media mixes them */
} render_speech_shared;

ck_status render_speech_shared_make(const ck_scene *s, render_speech_shared *out, ck_error *err);

void render_speech_shared_free(render_speech_shared *sh);

/* The queue between a batch's compositing thread (the producer) and its encoding on the
 * caller's thread (the consumer) (render_encode.c). The producer pushes each frame it
 * receives from the GPU (copied into a free picture; waits while all are queued) and closes
 * the queue when done; the consumer pops them in order, encodes each and releases its picture.
 * A consumer that fails says so (render_encq_fail): what is queued is dropped and every later
 * push returns that failure. */
typedef struct render_encq render_encq;

render_encq *render_encq_create(int width, int height, ck_error *err);
void render_encq_destroy(render_encq **q);
ck_status render_encq_push(render_encq *q, int job, bool last, const uint8_t *y, size_t y_stride,
                           const uint8_t *uv, size_t uv_stride, ck_error *err);
void render_encq_close(render_encq *q);
/* The oldest queued frame; false once the queue is closed and empty. */
bool render_encq_pop(render_encq *q, int *job, bool *last, ck_ts_picture **pic);
void render_encq_release(render_encq *q, ck_ts_picture *pic);
void render_encq_fail(render_encq *q, const ck_error *err);

/* A segment whose pictures are the shared segment's at `shared_path` (an existing, complete
 * file) and whose audio is `bed` mixed with `clips` over tp's span: the shared video packets
 * copied and muxed with that audio (render_remux.c), the same bytes as encoding the pictures
 * again. stats (may be NULL) says encoder "copy", 0 frames encoded. */
ck_status render_remux_segment(const char *shared_path, const char *path, const ck_ts_params *tp,
                               ck_audio *bed, const ck_audio_clip *clips, int count,
                               ck_render_stats *stats, ck_error *err);

/* Frames on the GPU at once: the GPU composites frame n while the CPU prepares frame n+1. */
#define FRAMES_IN_FLIGHT 3

/* The per-campaign renderer (render.c makes it; render_batch.c renders with it,
 * render_playlist.c describes what it renders). */
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
    int audio_channels;            /* the bed's: 1 (a mono track, silence) or 2 */
    int64_t samples;               /* the bed's length, 48 kHz */
    char *audio_src, *audio_cache; /* encoded on the first render when not in the cache yet */
    char *shared_dir;
    char *salt;                           /* scene, assets, size, encoder settings, audio */
    char (*shared_digest)[CK_DIGEST_HEX]; /* per segment, valid where shared[i] */
    bool *shared;
    double min_seg;
    bool overlap_encoders; /* ck_render_params': a batch's encoders drain on the finisher */
    bool audio_in_order;   /* ck_render_params': the bed drops the blocks behind a span */
    char *raw_path;        /* ck_render_params' raw_video (benchmarks), or NULL */
    FILE *raw;             /* opened at the first picture encoded */
    ck_arena frame_arena;
    render_speech_shared speech; /* the scene's lines that read no field, synthesised once */
};

/* Segment `index`'s span of the audio bed, in 48 kHz samples. */
void render_segment_samples(const ck_render *r, int index, int64_t *from, int64_t *to);
/* Whether one of `sp`'s personal clips sounds within segment `index`. */
bool render_speech_touches(const ck_render *r, const ck_render_speech *sp, int index);
/* The campaign's audio bed encoded (once, into the cache) before the first segment. */
ck_status render_audio_ready(ck_render *r, ck_error *err);

/* render_audio.c: the person's audio of a batch's segments (ck_audio_span), made on a thread
 * of its own from when the compositing thread knows a job until the encoding thread opens its
 * writer. One slot per job slot of the batch. */
typedef struct render_spans render_spans;
render_spans *render_spans_create(ck_render *r, int slots, ck_error *err);
/* Slot `slot` is now segment `index` of the person with `speech` (NULL: none): its audio is
 * made on the thread when one of their clips sounds in it, else the bed's packets will do. */
void render_spans_ask(render_spans *s, int slot, const ck_render_speech *speech, int index);
/* The slot's audio once made (*out NULL: the bed's), the caller's to destroy; or why not. */
ck_status render_spans_take(render_spans *s, int slot, ck_audio **out, ck_error *err);
/* Stops the thread; what was asked and not taken is dropped. */
void render_spans_destroy(render_spans **s);

#endif
