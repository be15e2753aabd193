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

/* The ranges a view holds, appended to r (at most CK_AN_VIEW_RANGES); false on a database
 * error. */
static bool view_load(sqlite3 *db, const char *campaign, int32_t day, const uint8_t *viewer,
                      size_t viewer_len, an_range *r, int *n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT ranges FROM views WHERE campaign = ? AND day = ? AND viewer = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, day);
    sqlite3_bind_blob(st, 3, viewer, (int)viewer_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const uint8_t *b = sqlite3_column_blob(st, 0);
        int pairs = sqlite3_column_bytes(st, 0) / 8;
        for (int i = 0; b && i < pairs && i < CK_AN_VIEW_RANGES; i++) {
            an_range x = {get32(b + 8 * i), get32(b + 8 * i + 4)};
            if (x.start_ms >= 0 && x.end_ms > x.start_ms)
                r[(*n)++] = x;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool an_view_add(sqlite3 *db, const char *campaign, int32_t day, const uint8_t *viewer,
                 size_t viewer_len, an_range *add, int add_count, int32_t duration_ms)
{
    an_range r[AN_RANGES_WORK];
    int n = 0;
    if (add_count <= 0)
        return true;
    if (add_count > AN_RANGES_WORK - CK_AN_VIEW_RANGES ||
        !view_load(db, campaign, day, viewer, viewer_len, r, &n))
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
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO views(campaign, day, viewer, duration_ms, "
                           "watched_ms, ranges) VALUES(?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, campaign, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, day);
    sqlite3_bind_blob(st, 3, viewer, (int)viewer_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, duration_ms);
    sqlite3_bind_int64(st, 5, watched);
    sqlite3_bind_blob(st, 6, blob, 8 * n, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}
