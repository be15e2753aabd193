/* render_internal.h: what render.c and render_speech.c share (not part of ck_render.h). */
#ifndef CK_RENDER_INTERNAL_H
#define CK_RENDER_INTERNAL_H

#include "ck_render.h"
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

/* A batch's frames encoded on a thread of their own (render_encode.c). The render thread
 * pushes each frame it receives (copied into a free picture; waits while all are queued);
 * the thread calls fn(ctx, job, picture, last, err) for each, in order: open the job's
 * segment at its first frame, encode, end it at its last. After fn's first failure later
 * frames are dropped and push returns that failure. */
typedef struct render_encq render_encq;
typedef ck_status (*render_encq_fn)(void *ctx, int job, ck_ts_picture *pic, bool last,
                                    ck_error *err);

render_encq *render_encq_create(int width, int height, render_encq_fn fn, void *ctx, ck_error *err);
ck_status render_encq_push(render_encq *q, int job, bool last, const uint8_t *y, size_t y_stride,
                           const uint8_t *uv, size_t uv_stride, ck_error *err);
/* Waits until every pushed frame is encoded (or, with `cancel`, drops those not started),
 * stops the thread and frees the queue: fn's first failure, if any (none when cancelled). */
ck_status render_encq_finish(render_encq **q, bool cancel, ck_error *err);

#endif
