/* views.c: watched time as the union of the ranges a view actually played (see
 * ck_analytics.h). Positions reached say nothing (a seek to the end reaches 100 %); ranges
 * played do, and their union cannot grow by reporting the same seconds twice. */
#include "analytics_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool an_ranges_parse(const json_t *v, double duration_s, an_range *out, int *n)
{
    *n = 0;
    size_t count = json_is_array(v) ? json_array_size(v) : 0;
    if (count == 0 || count > CK_AN_MAX_RANGES || !(duration_s > 0))
        return false;
    double prev_end = 0, limit = duration_s + CK_AN_DURATION_SLACK_S;
    for (size_t i = 0; i < count; i++) {
        const json_t *pair = json_array_get(v, i);
        if (!json_is_array(pair) || json_array_size(pair) != 2 ||
            !json_is_number(json_array_get(pair, 0)) || !json_is_number(json_array_get(pair, 1)))
            return false;
        double s = json_number_value(json_array_get(pair, 0)),
               e = json_number_value(json_array_get(pair, 1));
        if (!isfinite(s) || !isfinite(e) || s < prev_end || s < 0 || e <= s || e > limit)
            return false;
        prev_end = e;
        if (s >= duration_s)
            continue; /* inside the slack only: nothing of the video */
        out[*n].start_ms = (int32_t)llround(s * 1000.0);
        out[*n].end_ms = (int32_t)llround(fmin(e, duration_s) * 1000.0);
        if (out[*n].end_ms > out[*n].start_ms)
            (*n)++;
    }
    return true;
}

static int by_start(const void *pa, const void *pb)
{
    const an_range *a = pa, *b = pb;
    return (a->start_ms > b->start_ms) - (a->start_ms < b->start_ms);
}

/* Sorts and merges overlapping or touching ranges; returns the new count. */
static int ranges_union(an_range *r, int n)
{
    if (n <= 1)
        return n;
    qsort(r, (size_t)n, sizeof *r, by_start);
    int w = 0;
    for (int i = 1; i < n; i++) {
        if (r[i].start_ms <= r[w].end_ms) {
            if (r[i].end_ms > r[w].end_ms)
                r[w].end_ms = r[i].end_ms;
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

/* Drops the shortest ranges until `max` remain: a view that seeks a thousand times keeps a
 * bounded row, and what it keeps was all played. */
static int ranges_cap(an_range *r, int n, int max)
{
    while (n > max) {
        int shortest = 0;
        for (int i = 1; i < n; i++)
            if (r[i].end_ms - r[i].start_ms < r[shortest].end_ms - r[shortest].start_ms)
                shortest = i;
        memmove(&r[shortest], &r[shortest + 1], (size_t)(n - shortest - 1) * sizeof *r);
        n--;
    }
    return n;
}

/* The stored form: little-endian int32 pairs, so a database moves between machines. */
static void put32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static int32_t get32(const uint8_t *p)
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++)
        u |= (uint32_t)p[i] << (8 * i);
    return (int32_t)u;
}

/* The view's row, made empty first if it is new, then read under a row lock (PostgreSQL:
 * FOR UPDATE; SQLite: the caller's BEGIN IMMEDIATE already holds the file): a node adding to
 * the same view at the same moment waits, then reads what this one stored, so no range played
 * is lost. Appends its ranges to r (at most CK_AN_VIEW_RANGES); false on a database error. */
static bool view_load(an_db *db, const an_arg *key, int32_t duration_ms, an_range *r, int *n)
{
    static const uint8_t none[1];
    const an_arg fresh[] = {key[0], key[1], key[2], AN_I(duration_ms), AN_B(none, 0)};
    an_rows q;
    if (!an_exec(db,
                 "INSERT INTO views(campaign, day, viewer, duration_ms, watched_ms, ranges) "
                 "VALUES(?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT(campaign, day, viewer) DO NOTHING",
                 fresh, 5, NULL) ||
        !an_query(db, &q,
                  an_db_is_pg(db) ? "SELECT ranges FROM views WHERE campaign = ?1 AND day = ?2 "
                                    "AND viewer = ?3 FOR UPDATE"
                                  : "SELECT ranges FROM views WHERE campaign = ?1 AND day = ?2 "
                                    "AND viewer = ?3",
                  key, 3))
        return false;
    if (an_next(&q)) {
        size_t len = 0;
        const uint8_t *b = an_blob(&q, 0, &len);
        int pairs = (int)(len / 8);
        for (int i = 0; b && i < pairs && i < CK_AN_VIEW_RANGES; i++) {
            an_range x = {get32(b + 8 * i), get32(b + 8 * i + 4)};
            if (x.start_ms >= 0 && x.end_ms > x.start_ms)
                r[(*n)++] = x;
        }
    }
    return an_end(&q);
}

bool an_view_add(an_db *db, const char *campaign, int32_t day, const uint8_t *viewer,
                 size_t viewer_len, an_range *add, int add_count, int32_t duration_ms)
{
    an_range r[AN_RANGES_WORK];
    int n = 0;
    if (add_count <= 0)
        return true;
    const an_arg key[] = {AN_T(campaign), AN_I(day), AN_B(viewer, viewer_len)};
    if (add_count > AN_RANGES_WORK - CK_AN_VIEW_RANGES || !view_load(db, key, duration_ms, r, &n))
        return false;
    for (int i = 0; i < n; i++) /* a scene made shorter since: clip what was stored */
        r[i].end_ms = r[i].end_ms < duration_ms ? r[i].end_ms : duration_ms;
    memcpy(r + n, add, (size_t)add_count * sizeof *r);
    n += add_count;
    int w = 0;
    for (int i = 0; i < n; i++)
        if (r[i].end_ms > r[i].start_ms)
            r[w++] = r[i];
    n = ranges_cap(r, ranges_union(r, w), CK_AN_VIEW_RANGES);
    int64_t watched = 0;
    uint8_t blob[CK_AN_VIEW_RANGES * 8];
    for (int i = 0; i < n; i++) {
        watched += r[i].end_ms - r[i].start_ms;
        put32(blob + 8 * i, r[i].start_ms);
        put32(blob + 8 * i + 4, r[i].end_ms);
    }
    const an_arg set[] = {
        key[0], key[1], key[2], AN_I(duration_ms), AN_I(watched), AN_B(blob, (size_t)(8 * n))};
    return an_exec(db,
                   "UPDATE views SET duration_ms = ?4, watched_ms = ?5, ranges = ?6 "
                   "WHERE campaign = ?1 AND day = ?2 AND viewer = ?3",
                   set, 6, NULL);
}
