/* analytics_internal.h: what analytics.c and views.c share (not part of the public API). */
#ifndef CK_ANALYTICS_INTERNAL_H
#define CK_ANALYTICS_INTERNAL_H

#include "ck_analytics.h"

#include <jansson.h>
#include <sqlite3.h>

/* A played range of the video, in milliseconds, start < end. */
typedef struct an_range {
    int32_t start_ms, end_ms;
} an_range;

/* The most ranges one view can take in one batch, with what it already holds. */
#define AN_RANGES_WORK (CK_AN_VIEW_RANGES + CK_AN_MAX_BATCH * CK_AN_MAX_RANGES)

/* How much of the video a view has seen, as SQL over a `views` row: the report and the CSV
 * use these and nothing else (see ck_an_report). */
#define AN_SEEN_SQL(pct) "(watched_ms * 100 >= duration_ms * " #pct ")"
#define AN_COMPLETE_SQL  "(duration_ms - watched_ms <= MAX(1000, duration_ms / 50))"

/* Parses a `ranges` value: 1..CK_AN_MAX_RANGES pairs [start_s, end_s] of finite numbers,
 * 0 <= start < end <= duration_s + CK_AN_DURATION_SLACK_S, ascending, not overlapping.
 * Writes them clipped to the duration (a pair wholly past it is dropped) to out, *n the count.
 * False: the body is refused. */
bool an_ranges_parse(const json_t *v, double duration_s, an_range *out, int *n);

/* Adds `r` (n ranges, any order) to the view (campaign, day, viewer): the union with what it
 * holds, at most CK_AN_VIEW_RANGES kept (the shortest dropped: never more than was played).
 * Runs inside the caller's transaction, under the caller's lock. */
bool an_view_add(sqlite3 *db, const char *campaign, int32_t day, const uint8_t *viewer,
                 size_t viewer_len, an_range *r, int n, int32_t duration_ms);

#endif
