/* ck_segment.h: the HLS segment plan of a scene, and which segments are personal.
 *
 * Segments are whole frame ranges. The plan comes from the scene: a short first segment
 * (fast start), then target-length ones, or the scene's explicit cuts; a last piece shorter
 * than half a target is merged into the one before it so no segment is a sliver.
 *
 * A segment is personal when any layer that reads a record field (its text, its `when`, or
 * a surrounding group's `when`) is active during it; otherwise it is shared: the same for
 * every viewer, rendered once per campaign version. This is a static property of the scene,
 * computed without any record (the segment digest of the render pipeline refines it).
 *
 * Ownership: the plan owns its items; free with ck_segment_plan_free. Thread safety: plain
 * data.
 */
#ifndef CK_SEGMENT_H
#define CK_SEGMENT_H

#include "ck_timeline.h"

typedef struct ck_segment {
    int index;
    int64_t first_frame, frame_count;
    double start, duration; /* seconds */
    uint64_t deps;          /* fields drawn in this segment (0 = shared) */
    bool personal;
    int first_layer; /* a layer that makes it personal, for messages; -1 if shared */
} ck_segment;

typedef struct ck_segment_plan {
    ck_segment *items;
    int count;
    double personal_seconds, total_seconds;
} ck_segment_plan;

ck_status ck_segment_plan_make(const ck_scene *s, const ck_binding *b, ck_segment_plan *out,
                               ck_error *err);
void ck_segment_plan_free(ck_segment_plan *plan);

#endif
