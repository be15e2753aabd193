/* media_finish.c: finishing segments in the background (ck_ts_finisher, ck_media.h).
 *
 * Finishing a segment flushes its encoder (the last frames of libx264's lookahead and frame
 * threads), writes the trailer, fsyncs and renames: tens of milliseconds in which the render
 * thread used to wait while the GPU sat idle. Handed to this thread, the next segment's frames
 * are composited and encoded meanwhile. */
#include "ck_media.h"

#include <pthread.h>
#include <stdlib.h>

#define FINISH_QUEUE 2 /* writers waiting; one more may be finishing */

typedef struct finish_msg {
    ck_ts_writer *w;
    int64_t *bytes;
    double *done;
} finish_msg;

struct ck_ts_finisher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    finish_msg ring[FINISH_QUEUE];
    int head, count;
    bool busy;   /* the thread is finishing one */
    bool stop;   /* leave once the ring is empty */
    bool cancel; /* abandon what is queued instead */
    bool failed; /* err holds the first failure */
    ck_error err;
};

static void *finisher_main(void *arg)
{
    ck_ts_finisher *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (f->count == 0 && !f->stop)
            pthread_cond_wait(&f->changed, &f->mu);
        if (f->count == 0)
            break;
        finish_msg m = f->ring[f->head];
        f->head = (f->head + 1) % FINISH_QUEUE;
        f->count--;
        bool skip = f->failed || f->cancel;
        f->busy = true;
        pthread_mutex_unlock(&f->mu);

        ck_error e;
        ck_status st = CK_OK;
        if (skip)
            ck_ts_writer_destroy(&m.w);
        else
            st = ck_ts_writer_finish(&m.w, m.bytes, &e);
        if (m.done)
            *m.done = ck_now_s();

        pthread_mutex_lock(&f->mu);
        if (st != CK_OK && !f->failed) {
            f->failed = true;
            f->err = e;
        }
        f->busy = false;
        pthread_cond_broadcast(&f->changed);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

ck_ts_finisher *ck_ts_finisher_create(ck_error *err)
{
    ck_ts_finisher *f = calloc(1, sizeof *f);
    if (!f) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->changed, NULL);
    if (pthread_create(&f->thread, NULL, finisher_main, f) != 0) {
        pthread_cond_destroy(&f->changed);
        pthread_mutex_destroy(&f->mu);
        free(f);
        ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "cannot start a thread to finish segments");
        return NULL;
    }
    return f;
}

ck_status ck_ts_finisher_add(ck_ts_finisher *f, ck_ts_writer *w, int64_t *bytes, double *done,
                             ck_error *err)
{
    pthread_mutex_lock(&f->mu);
    while (f->count == FINISH_QUEUE && !f->failed)
        pthread_cond_wait(&f->changed, &f->mu);
    if (f->failed) {
        if (err)
            *err = f->err;
        ck_status st = f->err.status;
        pthread_mutex_unlock(&f->mu);
        ck_ts_writer_destroy(&w);
        return st;
    }
    f->ring[(f->head + f->count) % FINISH_QUEUE] = (finish_msg){w, bytes, done};
    f->count++;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->mu);
    return CK_OK;
}

ck_status ck_ts_finisher_wait(ck_ts_finisher *f, ck_error *err)
{
    pthread_mutex_lock(&f->mu);
    while (f->count > 0 || f->busy)
        pthread_cond_wait(&f->changed, &f->mu);
    ck_status st = CK_OK;
    if (f->failed) {
        st = f->err.status;
        if (err)
            *err = f->err;
    }
    pthread_mutex_unlock(&f->mu);
    return st;
}

void ck_ts_finisher_destroy(ck_ts_finisher **pf)
{
    ck_ts_finisher *f = pf ? *pf : NULL;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->cancel = f->stop = true;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->mu);
    free(f);
    *pf = NULL;
}
