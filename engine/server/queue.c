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
 * and each scan costs far less than one render. */
#include "server_internal.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

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
};

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

static void *worker_main(void *arg)
{
    worker *w = arg;
    srv_queue *q = w->q;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        /* One scan: the earliest job not running, and how many jobs are due soon. */
        int best = -1, due = 0;
        double soon = ck_srv_now_ms() + SRV_BACKLOG_MS;
        for (int i = 0; i < q->count; i++) {
            const srv_job *c = q->jobs[i];
            due += c->deadline <= soon;
            if (!c->running && (best < 0 || c->deadline < q->jobs[best]->deadline))
                best = i;
        }
        if (q->stopping)
            break;
        if (best < 0) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        srv_job *j = q->jobs[best];
        j->running = true;
        j->backlog = due - (j->deadline <= soon); /* the others */
        atomic_fetch_sub(&q->metrics->queue_depth, 1);
        atomic_fetch_add(&q->metrics->rendering, 1);
        pthread_mutex_unlock(&q->lock);
        bool ok = q->run(q->s, w->index, j);
        pthread_mutex_lock(&q->lock);
        atomic_fetch_sub(&q->metrics->rendering, 1);
        finish(j, ok);
        if (j->warm) /* read under the lock: a warming push may have merged into it */
            srv_warm_done(q->s, j->campaign, ok);
        for (int i = 0; i < q->count; i++)
            if (q->jobs[i] == j) {
                drop(q, i);
                break;
            }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double srv_queue_lateness_ms(srv_queue *q, double now_ms, double job_ms, int workers, int *jobs)
{
    *jobs = 0;
    pthread_mutex_lock(&q->lock);
    double *d = malloc(((size_t)q->count + 1) * sizeof *d);
    int n = 0;
    for (int i = 0; d && i < q->count; i++)
        if (!q->jobs[i]->warm)
            d[n++] = q->jobs[i]->deadline;
    pthread_mutex_unlock(&q->lock);
    if (!d)
        return 0;
    qsort(d, (size_t)n, sizeof *d, cmp_double);
    double worst = -1e300;
    for (int k = 0; k < n; k++) {
        /* Job k (0-based, deadline order) finishes after ceil((k+1)/workers) job times. */
        double finish = now_ms + job_ms * (double)(k / (workers > 0 ? workers : 1) + 1);
        if (finish - d[k] > worst)
            worst = finish - d[k];
    }
    free(d);
    *jobs = n;
    return n ? worst : -1e300;
}
