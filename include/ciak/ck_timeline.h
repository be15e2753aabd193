/* ck_timeline.h: a scene, one person's record and a frame number -> a draw list.
 *
 * Draw lists are the contract between the CPU side and the GPU (DESIGN.md, decision 1): a
 * flat, data-only list of draw commands in back-to-front order, each with its final
 * canvas transform and opacity (groups already folded in). The GPU executes them, tests
 * compare them, the segment digest hashes them.
 *
 * Usage: create a timeline once per scene; ck_timeline_set_record() renders the record's
 * templates and lays out its texts (once per person); ck_timeline_eval() then produces the
 * draw list of any frame cheaply, into a per-frame arena the caller resets.
 *
 * Evaluation is pure and deterministic: the same scene, record and frame always give the
 * same list, bit for bit. Thread safety: one timeline per thread.
 */
#ifndef CK_TIMELINE_H
#define CK_TIMELINE_H

#include "ck_template.h"
#include "ck_text.h"

/* 2-D affine transform from layer-local px to canvas px:
 *   X = a*x + c*y + tx,   Y = b*x + d*y + ty */
typedef struct ck_affine {
    float a, b, c, d, tx, ty;
} ck_affine;

typedef enum ck_draw_kind {
    CK_DRAW_RECT,  /* shape: rounded rectangle, solid or gradient fill, stroke */
    CK_DRAW_IMAGE, /* an image asset stretched over (0,0)-(w,h) */
    CK_DRAW_VIDEO, /* a frame of a video asset at source_time, over (0,0)-(w,h) */
    CK_DRAW_TEXT   /* glyphs [glyph_first, +glyph_count) of the list */
} ck_draw_kind;
/* How many kinds there are. Each module that handles draws keeps one table entry per kind
 * (timeline: JSON dump; segment: digest; gpu: checks and instances) and asserts its length
 * against this, so a new kind cannot be forgotten in one of them. */
#define CK_DRAW_KIND_COUNT (CK_DRAW_TEXT + 1)

typedef struct ck_draw {
    ck_draw_kind kind;
    int layer;     /* scene layer index */
    ck_affine xf;  /* layer-local px -> canvas px */
    float w, h;    /* layer box, local px */
    float opacity; /* 0..1, includes the parents' opacity */
    union {
        struct {
            ck_shape_props p;
        } rect;
        struct {
            int asset;
        } image;
        struct {
            int asset;
            double source_time; /* seconds into the source video */
            bool loop;          /* wrap source_time at the file's duration */
        } video;
        struct {
            uint32_t glyph_first, glyph_count;
            float size; /* px, after fitting */
            ck_color color;
            float outline_width;
            ck_color outline_color;
            float shadow_dx, shadow_dy, shadow_blur;
            ck_color shadow_color;
        } text;
    } u;
} ck_draw;

typedef struct ck_drawlist {
    int64_t frame;
    double t;          /* seconds */
    int width, height; /* canvas */
    ck_color background;
    ck_draw *items; /* in the frame arena */
    size_t count;
    ck_glyph *glyphs; /* all text draws' glyphs, in the frame arena */
    size_t glyph_count;
    uint64_t deps; /* fields this frame's drawing depends on (0 = shared) */
} ck_drawlist;

typedef struct ck_timeline ck_timeline;

/* The timeline keeps pointers to scene, binding and fonts: they must outlive it. */
ck_timeline *ck_timeline_create(const ck_scene *scene, const ck_binding *binding,
                                const ck_fontset *fonts, ck_error *err);
void ck_timeline_destroy(ck_timeline **tl);

/* A text layer's fit for the current record (for `ciak check` and the preview's warnings). */
typedef struct ck_text_fit {
    int layer;
    const char *text; /* rendered template */
    ck_layout layout;
} ck_text_fit;

/* Binds a record (NULL: a record with no values, for the shared parts). Renders templates and
 * lays out every text layer whose condition holds. Problems (text that does not fit even at
 * min_size, characters no font has) are reported to diags (may be NULL) as warnings naming
 * the layer; `file`/`line` name the record in those messages. */
ck_status ck_timeline_set_record(ck_timeline *tl, const ck_record *rec, const char *file,
                                 ck_diags *diags);
/* The fits computed by the last set_record, one per text layer shown for that record. */
const ck_text_fit *ck_timeline_fits(const ck_timeline *tl, size_t *count);

/* Evaluates frame `frame` (0 .. frame_count-1) into `out`, allocating in `frame_arena`. */
ck_status ck_timeline_eval(ck_timeline *tl, int64_t frame, ck_arena *frame_arena, ck_drawlist *out,
                           ck_error *err);

/* Frames [*first, *end) during which layer `layer` (and every group around it) is active.
 * A layer is active at frame f when start <= f / fps < end. */
void ck_layer_frames(const ck_scene *s, int layer, int64_t *first, int64_t *end);

/* Easing: maps progress u in [0,1] to eased progress. */
float ck_ease_apply(const ck_ease *e, float u);
/* An animatable property's value at `t` seconds after the layer's start. */
float ck_anim_value(const ck_scene *s, const ck_anim *a, double t);

/* The draw list as JSON (for tests, `ciak drawlist` and debugging); malloc'd string. */
char *ck_drawlist_json(const ck_scene *s, const ck_drawlist *dl);

#endif
