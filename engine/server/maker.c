/* maker.c: people's views made on threads of their own, off the HTTP threads.
 *
 * A new viewer's first playlist needs their view: the record read and decrypted, their lines
 * said (~0.1 s of CPU, more under load), their digests. Made on the HTTP thread that got the
 * request, it held that thread, and libmicrohttpd keeps a connection on the thread that
 * accepted it: when a burst of new viewers arrived, the threads that took two connections made
 * the second viewer's view after the first's, so the views came ~110-150 ms apart instead of at
 * once (bench/README.md, "New viewers' views off the HTTP threads"). Now the request is
 * suspended (MHD_suspend_connection), the view made here, and the request resumed to answer
 * from it; the HTTP threads only ever wait for a lock. Several requests for one person's view
 * each come here; srv_make_view's own lock makes it once. */
#include "server_internal.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct make_task {
    srv_view *view; /* a reference of the task's own */
    srv_waiter *waiter;
    struct make_task *next;
} make_task;

struct srv_makers {
    ck_server *s;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    make_task *head, *tail;
    bool stopping;
    pthread_t *threads;
    int nthreads;
};

/* Resumes the task's request (ok: its view is ready) and frees the task (lock held). */
static void task_end(srv_makers *m, make_task *t, bool ok)
{
    t->waiter->done = true;
    t->waiter->ok = ok;
    MHD_resume_connection(t->waiter->conn);
    srv_view_unref(m->s, t->view);
    free(t);
}

static void *maker_main(void *arg)
{
    srv_makers *m = arg;
    pthread_setname_np(pthread_self(), "ck-view");
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->head && !m->stopping)
            pthread_cond_wait(&m->wake, &m->mu);
        if (!m->head)
            break; /* stopping, and nothing left */
        make_task *t = m->head;
        if (!(m->head = t->next))
            m->tail = NULL;
        pthread_mutex_unlock(&m->mu);
        bool ok = srv_make_view(m->s, t->view);
        pthread_mutex_lock(&m->mu);
        task_end(m, t, ok);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

srv_makers *srv_makers_create(ck_server *s, int threads)
{
    srv_makers *m = calloc(1, sizeof *m);
    if (!m || !(m->threads = calloc((size_t)threads, sizeof *m->threads))) {
        free(m);
        return NULL;
    }
    m->s = s;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->wake, NULL);
    for (; m->nthreads < threads; m->nthreads++)
        if (pthread_create(&m->threads[m->nthreads], NULL, maker_main, m) != 0)
            break;
    if (m->nthreads == 0) {
        srv_makers_destroy(&m);
        return NULL;
    }
    return m;
}

bool srv_makers_push(srv_makers *m, srv_view *v, srv_waiter *w, void (*suspend)(srv_waiter *))
{
    make_task *t = calloc(1, sizeof *t);
    if (!t)
        return false;
    pthread_mutex_lock(&m->mu);
    if (m->stopping) {
        pthread_mutex_unlock(&m->mu);
        free(t);
        return false;
    }
    srv_view_ref(m->s, v);
    *t = (make_task){.view = v, .waiter = w};
    w->done = w->ok = false;
    if (m->tail)
        m->tail->next = t;
    else
        m->head = t;
    m->tail = t;
    suspend(w); /* under the lock: no maker can resume it before */
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->mu);
    return true;
}

void srv_makers_destroy(srv_makers **pm)
{
    srv_makers *m = pm ? *pm : NULL;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    /* What no maker took yet fails at once (503): the server is stopping. */
    for (make_task *t = m->head, *n; t; t = n) {
        n = t->next;
        task_end(m, t, false);
    }
    m->head = m->tail = NULL;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < m->nthreads; i++)
        pthread_join(m->threads[i], NULL); /* the views being made finish and resume theirs */
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->mu);
    free(m->threads);
    free(m);
    *pm = NULL;
}
