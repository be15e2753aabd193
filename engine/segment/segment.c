/* segment.c: the segment plan and the static shared/personal map. */
#include "ck_segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ck_status push(ck_segment_plan *p, int *cap, int64_t f0, int64_t f1)
{
    if (p->count == *cap) {
        int ncap = *cap ? *cap * 2 : 32;
        ck_segment *items = realloc(p->items, (size_t)ncap * sizeof *items);
        if (!items)
            return CK_ERR_NOMEM;
        p->items = items;
        *cap = ncap;
    }
    ck_segment *sg = &p->items[p->count];
    memset(sg, 0, sizeof *sg);
    sg->index = p->count++;
    sg->first_frame = f0;
    sg->frame_count = f1 - f0;
    sg->first_layer = -1;
    return CK_OK;
}

ck_status ck_segment_plan_make(const ck_scene *s, const ck_binding *b, ck_segment_plan *out,
                               ck_error *err)
{
    memset(out, 0, sizeof *out);
    int cap = 0;
    int64_t total = s->frame_count;
    ck_status st = CK_OK;
    if (total <= 0)
        return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0, "the video has no frames");
    if (s->cut_count > 0) {
        int64_t prev = 0;
        for (int i = 0; i < s->cut_count && st == CK_OK; i++) {
            int64_t f = llround(s->cuts[i] * s->fps);
            if (f <= prev || f >= total)
                continue; /* two cuts on one frame */
            st = push(out, &cap, prev, f);
            prev = f;
        }
        if (st == CK_OK)
            st = push(out, &cap, prev, total);
    } else {
        int64_t first = llround(s->seg_first * s->fps);
        int64_t target = llround(s->seg_target * s->fps);
        if (first < 1)
            first = 1;
        if (target < 1)
            target = 1;
        int64_t f0 = 0, f1 = first < total ? first : total;
        while (st == CK_OK && f0 < total) {
            /* Merge a short tail into this segment rather than leave a sliver. */
            if (total - f1 < target / 2)
                f1 = total;
            st = push(out, &cap, f0, f1);
            f0 = f1;
            f1 = f0 + target < total ? f0 + target : total;
        }
    }
    if (st != CK_OK) {
        ck_segment_plan_free(out);
        return ck_error_set(err, st, s->file, 0, 0, "out of memory for the segment plan");
    }
    for (int i = 0; i < out->count; i++) {
        ck_segment *sg = &out->items[i];
        sg->start = (double)sg->first_frame / s->fps;
        sg->duration = (double)sg->frame_count / s->fps;
        int64_t a = sg->first_frame, z = sg->first_frame + sg->frame_count;
        for (int l = 0; l < s->layer_count; l++) {
            if (!b->layer_deps[l])
                continue;
            int64_t f0, f1;
            ck_layer_frames(s, l, &f0, &f1);
            if (f0 < z && f1 > a) {
                sg->deps |= b->layer_deps[l];
                if (sg->first_layer < 0)
                    sg->first_layer = l;
            }
        }
        sg->personal = sg->deps != 0;
        out->total_seconds += sg->duration;
        if (sg->personal)
            out->personal_seconds += sg->duration;
    }
    return CK_OK;
}

void ck_segment_plan_free(ck_segment_plan *plan)
{
    if (!plan)
        return;
    free(plan->items);
    memset(plan, 0, sizeof *plan);
}

void ck_segment_plan_mark_speech(ck_segment_plan *plan, double start_s, double end_s,
                                 double guard_s)
{
    for (int i = 0; i < plan->count; i++) {
        ck_segment *sg = &plan->items[i];
        /* The first segment has nothing before it, the last nothing after. */
        bool first = i == 0, last = i == plan->count - 1;
        if (end_s > start_s && (last || start_s - guard_s < sg->start + sg->duration) &&
            (first || end_s + guard_s > sg->start)) {
            if (!sg->personal)
                plan->personal_seconds += sg->duration;
            sg->personal = sg->speech = true;
        }
    }
}
