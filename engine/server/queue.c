/* queue.c: the render queue.
 *
 * Jobs run earliest deadline first. Look-ahead jobs carry the time their segment will be
 * played (the person's first playlist request + the segment's start), so several viewers'
 * segments interleave by when each is needed; a request that is waiting moves its job to when
 * that person's playback reaches it, at the latest a segment's length from now (http.c), so a
 * player buffering ahead does not pass another viewer's first segment; warming jobs come
 * last. One job per key (the output path, or the view's identity): a second request
 * for the same thing attaches to the first (single flight) and may only move its deadline
 * earlier. The queue is a plain array scanned linearly: it holds at most a few thousand jobs
 * and each scan costs far less than one render.
 *
 * Admission control (srv_queue_lateness, docs/server.md "Admission control"): the queue is
 * played forward at the node's measured render time, earliest deadline first on every worker,
 * and the latest any job would end past its deadline is how far behind the node is. */
#include "server_internal.h"

#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define QUEUE_MAX 8192
#define QUEUE_RESERVE                                                                              \
    1024 /* slots only a waiting request may take: look-ahead cannot crowd                         \
            out a viewer who is waiting now */

typedef struct worker {
    srv_queue *q;
    int index;
    pthread_t thread;
} worker;

struct srv_queue {
    ck_server *s;
    srv_run_fn run;
    srv_metrics *metrics;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    srv_job **jobs; /* queued and running */
    int count;
    bool stopping;
    worker *workers;
    int worker_count;
    /* Moving averages of one render's wall time, shared [1] and personal [0] (0: none yet). */
    double render_ms[2];
};

/* A new render's weight in the moving average: about the last eight renders count. */
#define RENDER_EWMA 0.125

/* Resumes every waiter of a finished job (queue lock held). */
static void finish(srv_job *j, bool ok)
{
    for (srv_waiter *w = j->waiters, *n; w; w = n) {
        n = w->next;
        w->done = true;
        w->ok = ok;
        w->next = NULL;
        MHD_resume_connection(w->conn);
    }
    j->waiters = NULL;
}

static void drop(srv_queue *q, int i)
{
    srv_job *j = q->jobs[i];
    q->jobs[i] = q->jobs[--q->count];
    if (j->view)
        srv_view_unref(q->s, j->view);
    free(j);
}

/* The earliest job not running, marked running, or NULL when there is none or `accept` (may
 * be NULL) turns it down. Queue lock held. */
static srv_job *take(srv_queue *q, int wi, bool (*accept)(void *ctx, const srv_job *j), void *ctx)
{
    int best = -1, due = 0;
    double soon = srv_now_ms() + SRV_BACKLOG_MS;
    for (int i = 0; i < q->count; i++) {
        const srv_job *c = q->jobs[i];
        due += c->deadline <= soon;
        if (!c->running && (best < 0 || c->deadline < q->jobs[best]->deadline))
            best = i;
    }
    if (best < 0 || q->stopping || (accept && !accept(ctx, q->jobs[best])))
        return NULL;
    srv_job *j = q->jobs[best];
    j->running = true;
    j->worker = wi;
    j->started = srv_now_ms();
    j->backlog = due - (j->deadline <= soon);    /* the others */
    atomic_fetch_add(&q->metrics->rendering, 1); /* first: never both 0 in between */
    atomic_fetch_sub(&q->metrics->queue_depth, 1);
    return j;
}

/* Drops job `j`, wherever it is in the list (queue lock held). */
static void drop_job(srv_queue *q, const srv_job *j)
{
    for (int i = 0; i < q->count; i++)
        if (q->jobs[i] == j) {
            drop(q, i);
            return;
        }
}

/* The worker's thread, and the compositing and finishing threads its renders start (they
 * inherit it), at the operator's nice value (ck_server_params.render_nice). */
static void worker_nice(const srv_queue *q)
{
    int nice = q->s ? q->s->p.render_nice : 0; /* tests run a queue without a server */
    if (nice > 0 && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) != 0)
        ck_log(CK_LOG_WARN, "render worker: cannot set nice %d: %s", nice, strerror(errno));
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    srv_queue *q = w->q;
    pthread_setname_np(pthread_self(), "ck-render"); /* for top -H, perf and the tests */
    worker_nice(q);
    pthread_mutex_lock(&q->lock);
    while (!q->stopping) {
        srv_job *j = take(q, w->index, NULL, NULL);
        if (!j) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        pthread_mutex_unlock(&q->lock);
        q->run(q->s, w->index, j); /* ends every job it runs with srv_queue_done */
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

srv_job *srv_queue_next(srv_queue *q, int wi, bool (*accept)(void *ctx, const srv_job *j),
                        void *ctx)
{
    pthread_mutex_lock(&q->lock);
    srv_job *j = take(q, wi, accept, ctx);
    pthread_mutex_unlock(&q->lock);
    return j;
}

void srv_queue_done(srv_queue *q, srv_job *j, bool ok)
{
    pthread_mutex_lock(&q->lock);
    atomic_fetch_sub(&q->metrics->rendering, 1);
    finish(j, ok);
    if (j->warm) /* read under the lock: a warming push may have merged into it */
        srv_warm_done(q->s, j->campaign, ok);
    drop_job(q, j);
    pthread_mutex_unlock(&q->lock);
}

void srv_queue_return(srv_queue *q, srv_job *j)
{
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        /* Shutting down: it fails like the queued ones did. */
        atomic_fetch_sub(&q->metrics->rendering, 1);
        finish(j, false);
        drop_job(q, j);
    } else {
        j->running = false;
        atomic_fetch_add(&q->metrics->queue_depth, 1); /* first: never both 0 in between */
        atomic_fetch_sub(&q->metrics->rendering, 1);
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
}

srv_queue *srv_queue_create(ck_server *s, int workers, srv_run_fn run, srv_metrics *m)
{
    srv_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->s = s;
    q->run = run;
    q->metrics = m;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    q->jobs = calloc(QUEUE_MAX, sizeof *q->jobs);
    q->workers = calloc((size_t)workers, sizeof *q->workers);
    if (!q->jobs || !q->workers) {
        srv_queue_destroy(&q);
        return NULL;
    }
    for (int i = 0; i < workers; i++) {
        q->workers[i] = (worker){.q = q, .index = i};
        if (pthread_create(&q->workers[i].thread, NULL, worker_main, &q->workers[i]) != 0)
            break;
        q->worker_count++;
    }
    if (q->worker_count == 0)
        srv_queue_destroy(&q);
    return q;
}

void srv_queue_fail_all(srv_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    for (int i = q->count - 1; i >= 0; i--) {
        finish(q->jobs[i], false);
        if (!q->jobs[i]->running) {
            drop(q, i);
            atomic_fetch_sub(&q->metrics->queue_depth, 1);
        }
    }
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

void srv_queue_destroy(srv_queue **pq)
{
    srv_queue *q = *pq;
    if (!q)
        return;
    srv_queue_fail_all(q);
    for (int i = 0; i < q->worker_count; i++)
        pthread_join(q->workers[i].thread, NULL);
    /* Jobs still listed were running when the workers stopped; they are finished now. */
    while (q->count > 0)
        drop(q, q->count - 1);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    free(q->jobs);
    free(q->workers);
    free(q);
    *pq = NULL;
}

bool srv_queue_push(srv_queue *q, const srv_job *job, srv_waiter *waiter,
                    void (*suspend)(srv_waiter *))
{
    pthread_mutex_lock(&q->lock);
    srv_job *j = NULL;
    for (int i = 0; i < q->count; i++)
        if (strcmp(q->jobs[i]->key, job->key) == 0) {
            j = q->jobs[i];
            break;
        }
    if (!j) {
        /* The last QUEUE_RESERVE places are kept for requests someone is waiting on. */
        int limit = waiter ? QUEUE_MAX : QUEUE_MAX - QUEUE_RESERVE;
        if (q->stopping || q->count >= limit || !(j = malloc(sizeof *j))) {
            pthread_mutex_unlock(&q->lock);
            return false;
        }
        *j = *job;
        j->running = false;
        j->waiters = NULL;
        if (j->view)
            srv_view_ref(q->s, j->view);
        q->jobs[q->count++] = j;
        atomic_fetch_add(&q->metrics->queue_depth, 1);
        pthread_cond_signal(&q->wake);
    } else {
        if (job->deadline < j->deadline)
            j->deadline = job->deadline;
        j->warm |= job->warm; /* warming found it queued by a viewer: still counts */
    }
    if (waiter) {
        waiter->done = false;
        waiter->next = j->waiters;
        j->waiters = waiter;
        suspend(waiter);
    }
    pthread_mutex_unlock(&q->lock);
    return true;
}

void srv_queue_rendered(srv_queue *q, bool shared, double ms)
{
    if (!q || !(ms > 0))
        return;
    pthread_mutex_lock(&q->lock);
    double *avg = &q->render_ms[shared ? 1 : 0];
    *avg = *avg > 0 ? *avg + RENDER_EWMA * (ms - *avg) : ms;
    pthread_mutex_unlock(&q->lock);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Render time assumed for one job (queue lock held): the fixed estimate, else the measured
 * average of its kind, else of the other kind, else (nothing measured yet: a cold node) the
 * longest a render now running has taken so far, which the real time is at least. */
static double job_ms(const srv_queue *q, bool shared, double fixed_ms, double cold_ms)
{
    if (fixed_ms > 0)
        return fixed_ms;
    double own = q->render_ms[shared ? 1 : 0], other = q->render_ms[shared ? 0 : 1];
    return own > 0 ? own : other > 0 ? other : cold_ms;
}

/* The workers' clocks: when each is free (a running job ends after its estimate, and not
 * before now; a worker streaming several jobs is free when the last of them ends: each was
 * handed out as the one before it was composited, and the estimate is the time between two
 * renders' ends), and the worst lateness of the running jobs. Queue lock held. */
static double running_lateness(const srv_queue *q, double now, double fixed_ms, double cold_ms,
                               double *free_at)
{
    double late = -INFINITY;
    for (int i = 0; i < q->worker_count; i++)
        free_at[i] = now;
    for (int i = 0; i < q->count; i++) {
        const srv_job *j = q->jobs[i];
        if (!j->running || j->worker < 0 || j->worker >= q->worker_count)
            continue;
        double end = j->started + job_ms(q, j->shared, fixed_ms, cold_ms);
        end = end > now ? end : now;
        if (end > free_at[j->worker])
            free_at[j->worker] = end;
        if (end - j->deadline > late)
            late = end - j->deadline;
    }
    return late;
}

bool srv_queue_lateness(srv_queue *q, double now, double fixed_ms, double *late_ms)
{
    *late_ms = 0;
    if (!q)
        return false;
    pthread_mutex_lock(&q->lock);
    double cold = 0;
    for (int i = 0; i < q->count; i++)
        if (q->jobs[i]->running && now - q->jobs[i]->started > cold)
            cold = now - q->jobs[i]->started;
    bool known = job_ms(q, false, fixed_ms, cold) > 0;
    double *free_at = calloc((size_t)q->worker_count, sizeof *free_at);
    /* Queued jobs' deadlines and their render times, in deadline order. */
    double(*due)[2] = calloc((size_t)q->count + 1, sizeof *due);
    if (!known || !free_at || !due) {
        pthread_mutex_unlock(&q->lock);
        free(free_at);
        free(due);
        return false;
    }
    double late = running_lateness(q, now, fixed_ms, cold, free_at);
    int n = 0;
    for (int i = 0; i < q->count; i++)
        if (!q->jobs[i]->running && q->jobs[i]->deadline < SRV_WARM_DEADLINE) {
            due[n][0] = q->jobs[i]->deadline;
            due[n][1] = job_ms(q, q->jobs[i]->shared, fixed_ms, cold);
            n++;
        }
    pthread_mutex_unlock(&q->lock);
    qsort(due, (size_t)n, sizeof *due, cmp_double); /* by deadline (the first double) */
    for (int k = 0; k < n; k++) {
        int w = 0; /* the worker free first takes the next job */
        for (int i = 1; i < q->worker_count; i++)
            if (free_at[i] < free_at[w])
                w = i;
        free_at[w] += due[k][1];
        if (free_at[w] - due[k][0] > late)
            late = free_at[w] - due[k][0];
    }
    free(free_at);
    free(due);
    *late_ms = late > 0 ? late : 0;
    return true;
}

int srv_queue_held(srv_queue *q)
{
    if (!q)
        return 0;
    int n = 0;
    pthread_mutex_lock(&q->lock);
    for (int i = 0; i < q->count; i++)
        n += q->jobs[i]->running || q->jobs[i]->waiters;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int srv_queue_drop_idle(srv_queue *q)
{
    if (!q)
        return 0;
    int n = 0;
    pthread_mutex_lock(&q->lock);
    for (int i = q->count - 1; i >= 0; i--)
        if (!q->jobs[i]->running && !q->jobs[i]->waiters) {
            drop(q, i);
            atomic_fetch_sub(&q->metrics->queue_depth, 1);
            n++;
        }
    pthread_mutex_unlock(&q->lock);
    return n;
}
