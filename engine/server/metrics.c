/* metrics.c: counters kept with atomics (no lock on the request path) and their Prometheus
 * text. Labels are routes and status codes only: never a token, person or address. */
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned status_slots[] = {200, 206, 304, 400, 404, 405, 410,
                                        413, 416, 429, 500, 503, 0 /* other */};
#define SLOT_COUNT (sizeof status_slots / sizeof status_slots[0])

/* Upper bounds of the render latency histogram, seconds. */
static const double hist_le[SRV_HIST_BUCKETS] = {0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 4, 8, 16};

static const char *const route_names[] = {
#define X(e, s) s,
    SRV_ROUTES(X)
#undef X
};

void srv_metrics_request(srv_metrics *m, srv_route r, unsigned status)
{
    size_t k = 0;
    while (k + 1 < SLOT_COUNT && status_slots[k] != status)
        k++;
    atomic_fetch_add(&m->requests[r][k], 1);
}

void srv_metrics_render(srv_metrics *m, double ms, bool shared, bool ok)
{
    if (!ok) {
        atomic_fetch_add(&m->render_failures, 1);
        return;
    }
    int b = 0;
    while (b < SRV_HIST_BUCKETS && ms / 1e3 > hist_le[b])
        b++;
    atomic_fetch_add(&m->render_hist[b], 1);
    atomic_fetch_add(&m->render_us_sum, (uint_fast64_t)(ms * 1e3));
    atomic_fetch_add(&m->render_count, 1);
    atomic_fetch_add(shared ? &m->rendered_shared : &m->rendered_personal, 1);
}

char *srv_metrics_text(const srv_metrics *m, const char *node)
{
    ck_strbuf o = {0};
    /* The node's name as a label (Prometheus escapes: backslash, quote, newline). */
    ck_strbuf_printf(&o, "# HELP ciak_node_info This node's name (X-Ciak-Node).\n"
                         "# TYPE ciak_node_info gauge\nciak_node_info{node=\"");
    for (const char *c = node; *c; c++) {
        if (*c == '\\' || *c == '"')
            ck_strbuf_printf(&o, "\\%c", *c);
        else if (*c == '\n')
            ck_strbuf_printf(&o, "\\n");
        else
            ck_strbuf_printf(&o, "%c", *c);
    }
    ck_strbuf_printf(&o, "\"} 1\n");
    ck_strbuf_printf(&o, "# HELP ciak_http_requests_total HTTP requests by route and status.\n"
                         "# TYPE ciak_http_requests_total counter\n");
    for (int r = 0; r < R__N; r++)
        for (size_t k = 0; k < SLOT_COUNT; k++) {
            uint64_t v = atomic_load(&m->requests[r][k]);
            if (!v)
                continue;
            char st[16];
            if (status_slots[k])
                snprintf(st, sizeof st, "%u", status_slots[k]);
            else
                snprintf(st, sizeof st, "other");
            ck_strbuf_printf(&o, "ciak_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                             route_names[r], st, (unsigned long long)v);
        }
    ck_strbuf_printf(&o, "# HELP ciak_render_seconds Time to render and encode one segment.\n"
                         "# TYPE ciak_render_seconds histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b <= SRV_HIST_BUCKETS; b++) {
        cum += atomic_load(&m->render_hist[b]);
        if (b < SRV_HIST_BUCKETS)
            ck_strbuf_printf(&o, "ciak_render_seconds_bucket{le=\"%g\"} %llu\n", hist_le[b],
                             (unsigned long long)cum);
        else
            ck_strbuf_printf(&o, "ciak_render_seconds_bucket{le=\"+Inf\"} %llu\n",
                             (unsigned long long)cum);
    }
    ck_strbuf_printf(&o, "ciak_render_seconds_sum %.6f\nciak_render_seconds_count %llu\n",
                     (double)atomic_load(&m->render_us_sum) / 1e6,
                     (unsigned long long)atomic_load(&m->render_count));
    uint64_t hits = atomic_load(&m->cache_hits), misses = atomic_load(&m->cache_misses);
    ck_strbuf_printf(
        &o,
        "# HELP ciak_render_queue_depth Render jobs waiting.\n"
        "# TYPE ciak_render_queue_depth gauge\nciak_render_queue_depth %d\n"
        "# HELP ciak_renders_in_progress Render jobs running.\n"
        "# TYPE ciak_renders_in_progress gauge\nciak_renders_in_progress %d\n"
        "# HELP ciak_segment_cache_hits_total Segment requests served from the cache.\n"
        "# TYPE ciak_segment_cache_hits_total counter\nciak_segment_cache_hits_total %llu\n"
        "# HELP ciak_segment_cache_misses_total Segment requests that waited for a render.\n"
        "# TYPE ciak_segment_cache_misses_total counter\nciak_segment_cache_misses_total %llu\n"
        "# HELP ciak_segment_cache_hit_ratio Hits over all segment requests.\n"
        "# TYPE ciak_segment_cache_hit_ratio gauge\nciak_segment_cache_hit_ratio %.4f\n"
        "# HELP ciak_segment_cache_bytes Bytes of personal segments on disk.\n"
        "# TYPE ciak_segment_cache_bytes gauge\nciak_segment_cache_bytes %lld\n",
        atomic_load(&m->queue_depth), atomic_load(&m->rendering), (unsigned long long)hits,
        (unsigned long long)misses, hits + misses ? (double)hits / (double)(hits + misses) : 0.0,
        (long long)atomic_load(&m->cache_bytes));
    ck_strbuf_printf(
        &o,
        "# HELP ciak_segments_rendered_total Segments rendered, by kind.\n"
        "# TYPE ciak_segments_rendered_total counter\n"
        "ciak_segments_rendered_total{kind=\"shared\"} %llu\n"
        "ciak_segments_rendered_total{kind=\"personal\"} %llu\n"
        "# HELP ciak_segments_reused_total Segment responses from a file already rendered.\n"
        "# TYPE ciak_segments_reused_total counter\nciak_segments_reused_total %llu\n"
        "# HELP ciak_render_failures_total Renders that failed.\n"
        "# TYPE ciak_render_failures_total counter\nciak_render_failures_total %llu\n"
        "# HELP ciak_views_made_total People's segment lists computed.\n"
        "# TYPE ciak_views_made_total counter\nciak_views_made_total %llu\n"
        "# HELP ciak_views_held People's views held in memory (digests, record, speech).\n"
        "# TYPE ciak_views_held gauge\nciak_views_held %lld\n"
        "# HELP ciak_views_bytes Bytes the views held in memory hold.\n"
        "# TYPE ciak_views_bytes gauge\nciak_views_bytes %lld\n"
        "# HELP ciak_views_speech_bytes Bytes of speech samples the views hold.\n"
        "# TYPE ciak_views_speech_bytes gauge\nciak_views_speech_bytes %lld\n"
        "# HELP ciak_views_dropped_total Views dropped from memory: idle, or over the cap.\n"
        "# TYPE ciak_views_dropped_total counter\nciak_views_dropped_total %llu\n"
        "# HELP ciak_people_purged_total People removed when their window closed.\n"
        "# TYPE ciak_people_purged_total counter\nciak_people_purged_total %llu\n"
        "# HELP ciak_encoder_info The video encoder in use.\n"
        "# TYPE ciak_encoder_info gauge\nciak_encoder_info{encoder=\"%s\"} 1\n",
        (unsigned long long)atomic_load(&m->rendered_shared),
        (unsigned long long)atomic_load(&m->rendered_personal),
        (unsigned long long)atomic_load(&m->reused),
        (unsigned long long)atomic_load(&m->render_failures),
        (unsigned long long)atomic_load(&m->views_made), (long long)atomic_load(&m->views_held),
        (long long)atomic_load(&m->views_bytes), (long long)atomic_load(&m->views_speech_bytes),
        (unsigned long long)atomic_load(&m->views_dropped),
        (unsigned long long)atomic_load(&m->purged), m->encoder[0] ? m->encoder : "none");
    /* Storage faults (cache.c): every kind is listed, at 0 too, so an alert can be written
     * before the first fault. */
    static const char *const kinds[] = {
#define X(e, str) str,
        SRV_STORAGE_KINDS(X)
#undef X
    };
    ck_strbuf_printf(&o, "# HELP ciak_storage_errors_total Failed writes to the cache's disk "
                         "or to the database, by kind (nospace, readonly, missing, io).\n"
                         "# TYPE ciak_storage_errors_total counter\n");
    for (int k = 0; k < SRV_ST__N; k++)
        ck_strbuf_printf(&o, "ciak_storage_errors_total{kind=\"%s\"} %llu\n", kinds[k],
                         (unsigned long long)atomic_load(&m->storage_errors[k]));
    ck_strbuf_printf(
        &o,
        "# HELP ciak_cache_evicted_for_space_total Personal segments removed to make room on a "
        "full disk.\n"
        "# TYPE ciak_cache_evicted_for_space_total counter\n"
        "ciak_cache_evicted_for_space_total %llu\n"
        "# HELP ciak_http_connections_refused_total Connections refused: over the per-address "
        "cap.\n"
        "# TYPE ciak_http_connections_refused_total counter\n"
        "ciak_http_connections_refused_total %llu\n",
        (unsigned long long)atomic_load(&m->evicted_for_space),
        (unsigned long long)atomic_load(&m->refused_conns));
    ck_strbuf_printf(
        &o,
        "# HELP ciak_admission_refused_total New viewers answered 503 + Retry-After: the "
        "render backlog could not be played in time, or the node was draining.\n"
        "# TYPE ciak_admission_refused_total counter\nciak_admission_refused_total %llu\n"
        "# HELP ciak_render_lateness_seconds How late the render backlog would end past its "
        "deadlines, played earliest deadline first at the measured render time.\n"
        "# TYPE ciak_render_lateness_seconds gauge\nciak_render_lateness_seconds %.3f\n"
        "# HELP ciak_draining 1 while the node drains (no new viewers).\n"
        "# TYPE ciak_draining gauge\nciak_draining %d\n"
        "# HELP ciak_store_unavailable_total Requests answered 503 because the store was "
        "unreachable.\n"
        "# TYPE ciak_store_unavailable_total counter\nciak_store_unavailable_total %llu\n",
        (unsigned long long)atomic_load(&m->admission_refused),
        (double)atomic_load(&m->late_us) / 1e6, atomic_load(&m->draining) ? 1 : 0,
        (unsigned long long)atomic_load(&m->store_unavailable));
    return ck_strbuf_take(&o);
}
