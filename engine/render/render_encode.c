/* render_encode.c: the queue between a batch's compositing and its encoding
 * (render_internal.h).
 *
 * libx264 is most of a render's CPU time and runs on one thread (one thread per session keeps
 * the bytes the same whoever encodes: engine/render/README.md). Encoding on the thread that
 * composites made everything else wait for it: the timeline, the host's background and
 * blending, the GPU's submissions. So a batch composites on a thread of its own, which copies
 * each frame it receives from the GPU into one of a few pictures and queues it, while the
 * caller's thread takes them in order, opens each segment's writer at its first frame (after
 * the previous one's session closed: still one libx264 session alive at a time), encodes, and
 * ends the segment at its last: the same calls in the same order, the same bytes.
 *
 * Why the caller encodes and not the new thread: a 720p libx264 session allocates ~46 MB,
 * freed at the segment's end and allocated again by the next. On the caller's thread this
 * stays in the malloc arena it always used; on a thread of its own it went to a new arena,
 * whose 64 MB heaps fragmented (67 MB of heap for one session, +18-38 MB of peak RSS on
 * bench/scenes/plain). */
#include "render_internal.h"

#include <pthread.h>
#include <stdlib.h>

/* Pictures between compositing and encoding (~1.4 MB each at 720p). With 2 the encoder
 * waited for frames 0.35-0.39 s of a 20 s plain scene at 720p on a loaded 2-core box, with 6
 * 0.10-0.26 s for +10-20 MB of peak RSS: 4 is between. */
#define ENCQ_PICTURES 4

typedef struct encq_msg {
    int job;
    bool last;
    ck_ts_picture *pic;
} encq_msg;

struct render_encq {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    ck_ts_picture *pics[ENCQ_PICTURES];
    ck_ts_picture *idle[ENCQ_PICTURES]; /* pictures the producer may fill */
    int nidle;
    encq_msg ring[ENCQ_PICTURES]; /* filled, waiting to be encoded, oldest at head */
    int head, count;
    bool closed;          /* the producer pushes no more */
    bool consumer_failed; /* the consumer stopped: later pushes fail with err */
    ck_error err;
};

render_encq *render_encq_create(int width, int height, ck_error *err)
{
    render_encq *q = calloc(1, sizeof *q);
    if (!q) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
    for (int i = 0; i < ENCQ_PICTURES; i++) {
        if (!(q->pics[i] = ck_ts_picture_create(width, height, err))) {
            render_encq_destroy(&q);
            return NULL;
        }
        q->idle[q->nidle++] = q->pics[i];
    }
    return q;
}

void render_encq_destroy(render_encq **pq)
{
    render_encq *q = *pq;
    if (!q)
        return;
    for (int i = 0; i < ENCQ_PICTURES; i++)
        ck_ts_picture_destroy(&q->pics[i]);
    pthread_cond_destroy(&q->changed);
    pthread_mutex_destroy(&q->mu);
    free(q);
    *pq = NULL;
}

ck_status render_encq_push(render_encq *q, int job, bool last, const uint8_t *y, size_t y_stride,
                           const uint8_t *uv, size_t uv_stride, ck_error *err)
{
    pthread_mutex_lock(&q->mu);
    while (q->nidle == 0 && !q->consumer_failed)
        pthread_cond_wait(&q->changed, &q->mu);
    if (q->consumer_failed) {
        if (err)
            *err = q->err;
        ck_status st = q->err.status ? q->err.status : CK_ERR_MEDIA;
        pthread_mutex_unlock(&q->mu);
        return st;
    }
    ck_ts_picture *pic = q->idle[--q->nidle];
    pthread_mutex_unlock(&q->mu);

    /* Filled outside the lock: the consumer never touches an idle picture. */
    ck_status st = ck_ts_picture_fill(pic, y, y_stride, uv, uv_stride, err);

    pthread_mutex_lock(&q->mu);
    if (st != CK_OK)
        q->idle[q->nidle++] = pic;
    else {
        q->ring[(q->head + q->count) % ENCQ_PICTURES] = (encq_msg){job, last, pic};
        q->count++;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->mu);
    return st;
}

void render_encq_close(render_encq *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

bool render_encq_pop(render_encq *q, int *job, bool *last, ck_ts_picture **pic)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->changed, &q->mu);
    bool got = q->count > 0;
    if (got) {
        encq_msg m = q->ring[q->head];
        q->head = (q->head + 1) % ENCQ_PICTURES;
        q->count--;
        *job = m.job;
        *last = m.last;
        *pic = m.pic;
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

void render_encq_release(render_encq *q, ck_ts_picture *pic)
{
    pthread_mutex_lock(&q->mu);
    q->idle[q->nidle++] = pic;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}

void render_encq_fail(render_encq *q, const ck_error *err)
{
    pthread_mutex_lock(&q->mu);
    if (!q->consumer_failed) {
        q->consumer_failed = true;
        q->err = *err;
    }
    /* What is queued will not be encoded: its pictures are free again. */
    while (q->count > 0) {
        q->idle[q->nidle++] = q->ring[q->head].pic;
        q->head = (q->head + 1) % ENCQ_PICTURES;
        q->count--;
    }
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
}
