/* worker.c: what a render worker does with the jobs the queue gives it (queue.c).
 *
 * A job is one segment. Rendered one call at a time, every segment started with the encoder
 * waiting for its first composited frames and ended with the compositing thread idle while
 * libx264 drained its last ones: at 720p a worker made 143 frames a second where `ciak render`
 * makes 203 (bench/README.md). So a worker streams: as the renderer starts compositing a job
 * it asks for the next one (ck_render_stream's feed; one job ahead, so that the next one's
 * audio is made meanwhile: engine/render/render_audio.c), which is the queue's earliest
 * deadline as before, for whichever person, as long as it is of the same campaign
 * (one renderer per campaign and worker) and is to be encoded. A job whose video is only
 * copied (ck_render_copies), or one of another campaign, ends the stream and runs after it.
 * Each job ends (its waiters resumed) as soon as its file is in place, not when the stream
 * ends. A failure ends the stream: the job it hit is rendered again alone (render_one: its
 * storage faults are classified, reported, and out of space retried once), and the jobs handed
 * out after it go back to the queue. */
#include "server_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Jobs handed to a stream and not yet done: at most the renderer's ring (16) in theory, 4 in
 * practice (frames in flight and queued for the encoder span at most three segments, and the
 * next job is taken as one starts). */
#define STREAM_HELD 32

typedef struct stream {
    ck_server *s;
    int worker, campaign;
    ck_render *r;
    srv_job *first;             /* the job the queue gave the worker: handed out first */
    /* held and nheld: appended by the feed's next (compositing thread), taken by its done
     * (worker's thread), read by streamable under the queue's lock: under `mu`. */
    pthread_mutex_t mu;
    srv_job *held[STREAM_HELD]; /* handed out, not done, oldest first */
    int nheld;
    double last_end; /* when the previous job ended (or the stream began), srv_now_ms */
} stream;

static const ck_record *job_record(const srv_job *j)
{
    return j->shared || !j->view ? NULL : &j->view->recs->items[0];
}

static const ck_render_speech *job_speech(const srv_job *j)
{
    return j->shared || !j->view ? NULL : &j->view->speech;
}

/* A segment rendered in `ms`: the metrics, the moving average admission control plays the
 * queue at, the cache's accounts, the campaign's peak rate, the debug line. */
static void rendered(ck_server *s, const srv_job *j, const ck_render_stats *stats, double ms)
{
    ck_render *r = s->renderers[j->worker][j->campaign];
    srv_metrics_render(&s->metrics, ms, j->shared, true);
    srv_queue_rendered(s->queue, j->shared, ms);
    srv_cache_wrote(s->cache, stats->bytes);
    if (!j->shared)
        srv_cache_touch(s->cache, j->key + 2, stats->bytes);
    const ck_segment *sg = &ck_render_plan(r)->items[j->index];
    srv_seen_rate(&s->campaigns[j->campaign], stats->bytes, sg->duration);
    ck_log(CK_LOG_DEBUG, "campaign %s: %s segment %d in %.0f ms (%d encoder threads, %d due soon)",
           s->campaigns[j->campaign].id, j->shared ? "shared" : "personal", j->index, ms,
           stats->threads, j->backlog);
}

/* One segment, alone (ck_render_segment_speech: encoded, or its video copied). */
static bool render_one(ck_server *s, srv_job *j)
{
    if (access(j->path, F_OK) == 0)
        return true; /* made by an earlier job or another process */
    ck_error err = {0};
    if (!srv_cache_prepare(s->cache, j->path, &err)) /* folders, room; faults reported */
        return false;
    ck_render *r = s->renderers[j->worker][j->campaign];
    ck_render_stats stats = {0};
    double t0 = srv_now_ms();
    ck_status st =
        ck_render_segment_speech(r, job_record(j), job_speech(j), j->index, j->path, &stats, &err);
    srv_storage_kind fault =
        st == CK_OK ? SRV_ST_NONE : srv_cache_classify(s->cache, j->path, &err);
    /* Out of space: the oldest personal segments go, then one more try (cache.c). */
    if (fault == SRV_ST_NOSPACE && srv_cache_make_room(s->cache, 0) &&
        (st = ck_render_segment_speech(r, job_record(j), job_speech(j), j->index, j->path, &stats,
                                       &err)) != CK_OK)
        fault = srv_cache_classify(s->cache, j->path, &err);
    double ms = srv_now_ms() - t0;
    if (st == CK_OK) {
        rendered(s, j, &stats, ms);
        return true;
    }
    srv_metrics_render(&s->metrics, ms, j->shared, false);
    if (fault != SRV_ST_NONE) { /* one line per fault, not per segment */
        srv_cache_report(s->cache, fault, j->shared ? "a shared segment" : "a personal segment",
                         &err);
        return false;
    }
    char buf[1400];
    ck_log(CK_LOG_ERROR, "campaign %s: segment %d: %s", s->campaigns[j->campaign].id, j->index,
           ck_error_format(&err, buf, sizeof buf));
    return false;
}

/* Whether the stream can take `j` next (under the queue's lock): the same renderer, and it
 * is encoded (a copy is a few milliseconds on its own). */
static bool streamable(void *ctx, const srv_job *j)
{
    stream *st = ctx;
    pthread_mutex_lock(&st->mu);
    bool room = st->nheld < STREAM_HELD;
    pthread_mutex_unlock(&st->mu);
    return j->campaign == st->campaign && room &&
           !ck_render_copies(st->r, job_speech(j), j->index);
}

/* The feed's next: the worker's first job, then the queue's earliest while streamable. A job
 * whose file is there already ends at once; one whose folder cannot be made fails at once
 * (srv_cache_prepare reported why). On the compositing thread. */
static bool feed_next(void *ctx, ck_render_job *out)
{
    stream *st = ctx;
    for (;;) {
        srv_job *j = st->first;
        st->first = NULL;
        if (!j && !(j = srv_queue_next(st->s->queue, st->worker, streamable, st)))
            return false;
        ck_error err = {0};
        bool there = access(j->path, F_OK) == 0;
        if (there || !srv_cache_prepare(st->s->cache, j->path, &err)) {
            srv_queue_done(st->s->queue, j, there);
            continue;
        }
        pthread_mutex_lock(&st->mu);
        st->held[st->nheld++] = j;
        pthread_mutex_unlock(&st->mu);
        *out = (ck_render_job){.index = j->index,
                               .path = j->path,
                               .rec = job_record(j),
                               .speech = job_speech(j),
                               .tag = j};
        return true;
    }
}

/* The feed's done: the oldest job handed out has its file (on the worker's thread). Its render
 * time is the time since the previous one ended: what each costs when they follow each other. */
static void feed_done(void *ctx, const ck_render_job *job)
{
    stream *st = ctx;
    srv_job *j = job->tag;
    pthread_mutex_lock(&st->mu);
    if (st->nheld > 0 && st->held[0] == j)
        memmove(st->held, st->held + 1, (size_t)--st->nheld * sizeof *st->held);
    pthread_mutex_unlock(&st->mu);
    double now = srv_now_ms();
    double ms = now - (st->last_end > j->started ? st->last_end : j->started);
    st->last_end = now;
    rendered(st->s, j, &job->stats, ms);
    srv_queue_done(st->s->queue, j, true);
}

void srv_run_job(ck_server *s, int worker, srv_job *j)
{
    ck_render *r = s->renderers[worker][j->campaign];
    if (access(j->path, F_OK) == 0 || ck_render_copies(r, job_speech(j), j->index)) {
        srv_queue_done(s->queue, j, render_one(s, j));
        return;
    }
    stream st = {.s = s,
                 .worker = worker,
                 .campaign = j->campaign,
                 .r = r,
                 .first = j,
                 .last_end = srv_now_ms()};
    pthread_mutex_init(&st.mu, NULL);
    ck_render_feed feed = {.next = feed_next, .done = feed_done, .ctx = &st};
    ck_error err = {0};
    ck_status rs = ck_render_stream(r, &feed, &err);
    pthread_mutex_destroy(&st.mu); /* the stream's threads are gone */
    /* Failed before its first frame (the audio bed could not be written, say): the job
     * alone, which says why. */
    if (st.first)
        srv_queue_done(s->queue, st.first, render_one(s, st.first));
    if (rs == CK_OK || st.nheld == 0)
        return;
    /* The job the failure hit, alone; the ones after it, back to the queue. */
    srv_queue_done(s->queue, st.held[0], render_one(s, st.held[0]));
    for (int i = 1; i < st.nheld; i++)
        srv_queue_return(s->queue, st.held[i]);
}
