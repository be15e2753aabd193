/* render_audio.c: the person's audio of a batch's segments, made ahead on a thread of its own
 * (render_internal.h).
 *
 * A segment one of the person's clips sounds in carries the bed mixed with the clips,
 * AAC-encoded for that segment (ck_audio_span): 60-100 ms at 720p, a quarter of what libx264
 * spends on the segment's pictures. Made when the encoding thread opened the segment's writer,
 * it held up that thread, the one a render waits for; made on the compositing thread before
 * the segment's frames, it held up the frames, and the encoder, four pictures ahead, waited
 * ~100 ms a segment all the same (bench/README.md, "The person's audio off the encoder"). So
 * the compositing thread asks for a job's audio as soon as it knows the job, one job ahead of
 * its frames, and this thread makes it meanwhile; the encoding thread takes it when the job's
 * first picture comes. Same calls, same packets: the same bytes. */
#include "render_internal.h"

#include <pthread.h>
#include <stdlib.h>

typedef enum { SPAN_IDLE, SPAN_ASKED, SPAN_MADE } span_state;

typedef struct span_slot {
    span_state state;
    const ck_render_speech *speech;
    int index;
    ck_audio *audio; /* NULL once made: the bed's packets do */
    ck_status status;
    ck_error err;
} span_slot;

struct render_spans {
    ck_render *r;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    span_slot *slots;
    int nslots;
    int *asked; /* slots asked for, in order: a ring */
    int head, count;
    bool stop;
};

/* A slot's audio, on this file's thread (nothing held). */
static void make_span(render_spans *s, span_slot *sl)
{
    ck_render *r = s->r;
    int64_t from, to;
    render_segment_samples(r, sl->index, &from, &to);
    const ck_render_speech *sp = sl->speech;
    ck_error e = {0};
    ck_audio *a = ck_audio_span(r->audio, sp->clips, sp->count, from, to, &e);
    pthread_mutex_lock(&s->mu);
    sl->audio = a;
    sl->status = a ? CK_OK : (e.status ? e.status : CK_ERR_MEDIA);
    sl->err = e;
    sl->state = SPAN_MADE;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mu);
}

static void *spans_main(void *arg)
{
    render_spans *s = arg;
    pthread_setname_np(pthread_self(), "ck-audio");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->count && !s->stop)
            pthread_cond_wait(&s->changed, &s->mu);
        if (s->stop)
            break;
        span_slot *sl = &s->slots[s->asked[s->head]];
        s->head = (s->head + 1) % s->nslots;
        s->count--;
        pthread_mutex_unlock(&s->mu);
        make_span(s, sl);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

render_spans *render_spans_create(ck_render *r, int slots, ck_error *err)
{
    render_spans *s = calloc(1, sizeof *s);
    if (s) {
        s->slots = calloc((size_t)slots, sizeof *s->slots);
        s->asked = calloc((size_t)slots, sizeof *s->asked);
    }
    if (!s || !s->slots || !s->asked) {
        if (s) {
            free(s->slots);
            free(s->asked);
        }
        free(s);
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    s->r = r;
    s->nslots = slots;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->changed, NULL);
    if (pthread_create(&s->thread, NULL, spans_main, s) != 0) {
        pthread_cond_destroy(&s->changed);
        pthread_mutex_destroy(&s->mu);
        free(s->slots);
        free(s->asked);
        free(s);
        ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "cannot start a thread for the audio");
        return NULL;
    }
    return s;
}

void render_spans_ask(render_spans *s, int slot, const ck_render_speech *speech, int index)
{
    bool touches = s->r->audio && render_speech_touches(s->r, speech, index);
    pthread_mutex_lock(&s->mu);
    span_slot *sl = &s->slots[slot];
    ck_audio_destroy(&sl->audio); /* not taken: its job never reached the encoder */
    *sl = (span_slot){.state = touches ? SPAN_ASKED : SPAN_MADE, .speech = speech, .index = index};
    if (touches) {
        s->asked[(s->head + s->count) % s->nslots] = slot;
        s->count++;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->mu);
}

ck_status render_spans_take(render_spans *s, int slot, ck_audio **out, ck_error *err)
{
    pthread_mutex_lock(&s->mu);
    span_slot *sl = &s->slots[slot];
    while (sl->state == SPAN_ASKED)
        pthread_cond_wait(&s->changed, &s->mu);
    bool asked = sl->state == SPAN_MADE;
    ck_status st = asked ? sl->status : CK_ERR_INVALID;
    if (asked && st != CK_OK && err)
        *err = sl->err;
    *out = sl->audio;
    sl->audio = NULL;
    sl->state = SPAN_IDLE;
    pthread_mutex_unlock(&s->mu);
    if (!asked) /* a caller's bug */
        ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "a segment's audio taken, never asked for");
    return st;
}

void render_spans_destroy(render_spans **ps)
{
    render_spans *s = ps ? *ps : NULL;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true; /* what is still asked is abandoned: its jobs were not encoded */
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    for (int k = 0; k < s->nslots; k++)
        ck_audio_destroy(&s->slots[k].audio);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->mu);
    free(s->slots);
    free(s->asked);
    free(s);
    *ps = NULL;
}
