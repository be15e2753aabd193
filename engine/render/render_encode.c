/* render_encode.c: a batch's frames encoded on a thread of their own (render_internal.h).
 *
 * libx264 is most of a render's CPU time and runs on one thread (one thread per session keeps
 * the bytes the same whoever encodes: engine/render/README.md). Encoding on the render thread
 * made everything else wait for it: the host's background and blending, the timeline, the
 * GPU's submissions. Here the render thread copies each frame it receives into one of a few
 * pictures and queues it; this thread opens each segment's writer at its first frame (after
 * the previous one's session closed: still one libx264 session alive at a time), encodes, and
 * ends the segment at its last. The render thread then composites the next frames while the
 * encoder works, and the encoder's drain at a segment's end overlaps compositing too. Frames
 * are encoded in the order they were received, by the same calls: the same bytes. */
#include "render_internal.h"

#include <pthread.h>
#include <stdlib.h>

/* Pictures between the render thread and the encoder (~1.4 MB each at 720p). With 2 the
 * encoder waited for frames 0.35-0.39 s of a 20 s plain scene at 720p on a loaded 2-core
 * box, with 6 0.10-0.26 s for +10-20 MB of peak RSS: 4 is between. */
#define ENCQ_PICTURES 4

typedef struct encq_msg {
    int job;
    bool last;
    ck_ts_picture *pic;
} encq_msg;

struct render_encq {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    render_encq_fn fn;
    void *ctx;
    ck_ts_picture *pics[ENCQ_PICTURES];
    ck_ts_picture *idle[ENCQ_PICTURES]; /* pictures the render thread may fill */
    int nidle;
    encq_msg ring[ENCQ_PICTURES]; /* filled, waiting to be encoded, oldest at head */
    int head, count;
    bool stop;   /* leave once the ring is empty */
    bool cancel; /* drop what is queued instead */
    bool failed; /* err holds the first failure; later pictures are dropped */
    ck_error err;
};

static void *encq_main(void *arg)
{
    render_encq *q = arg;
    pthread_setname_np(pthread_self(), "ck-encode"); /* for top -H and perf */
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->count == 0 && !q->stop)
            pthread_cond_wait(&q->changed, &q->mu);
        if (q->count == 0)
            break;
        encq_msg m = q->ring[q->head];
        q->head = (q->head + 1) % ENCQ_PICTURES;
        q->count--;
        bool skip = q->failed || q->cancel;
        pthread_mutex_unlock(&q->mu);

        ck_error e;
        ck_status st = skip ? CK_OK : q->fn(q->ctx, m.job, m.pic, m.last, &e);

        pthread_mutex_lock(&q->mu);
        if (st != CK_OK && !q->failed) {
            q->failed = true;
            q->err = e;
        }
        q->idle[q->nidle++] = m.pic;
        pthread_cond_broadcast(&q->changed);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void encq_free(render_encq *q)
{
    for (int i = 0; i < ENCQ_PICTURES; i++)
        ck_ts_picture_destroy(&q->pics[i]);
    pthread_cond_destroy(&q->changed);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

render_encq *render_encq_create(int width, int height, render_encq_fn fn, void *ctx, ck_error *err)
{
    render_encq *q = calloc(1, sizeof *q);
    if (!q) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->changed, NULL);
    q->fn = fn;
    q->ctx = ctx;
    for (int i = 0; i < ENCQ_PICTURES; i++) {
        if (!(q->pics[i] = ck_ts_picture_create(width, height, err))) {
            encq_free(q);
            return NULL;
        }
        q->idle[q->nidle++] = q->pics[i];
    }
    if (pthread_create(&q->thread, NULL, encq_main, q) != 0) {
        encq_free(q);
        ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "cannot start a thread to encode segments");
        return NULL;
    }
    return q;
}

/* The first failure of the encoder's thread, copied out; mu held. */
static ck_status encq_failure(render_encq *q, ck_error *err)
{
    if (err)
        *err = q->err;
    return q->err.status ? q->err.status : CK_ERR_MEDIA;
}

ck_status render_encq_push(render_encq *q, int job, bool last, const uint8_t *y, size_t y_stride,
                           const uint8_t *uv, size_t uv_stride, ck_error *err)
{
    pthread_mutex_lock(&q->mu);
    while (q->nidle == 0 && !q->failed)
        pthread_cond_wait(&q->changed, &q->mu);
    if (q->failed) {
        ck_status st = encq_failure(q, err);
        pthread_mutex_unlock(&q->mu);
        return st;
    }
    ck_ts_picture *pic = q->idle[--q->nidle];
    pthread_mutex_unlock(&q->mu);

    /* Filled outside the lock: the encoder's thread never touches an idle picture. */
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

ck_status render_encq_finish(render_encq **pq, bool cancel, ck_error *err)
{
    render_encq *q = *pq;
    if (!q)
        return CK_OK;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    q->cancel = cancel;
    pthread_cond_broadcast(&q->changed);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    ck_status st = q->failed && !cancel ? encq_failure(q, err) : CK_OK;
    encq_free(q);
    *pq = NULL;
    return st;
}
