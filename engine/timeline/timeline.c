/* timeline.c: (scene, record, frame) -> draw list. */
#include "ck_timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ck_timeline {
    const ck_scene *s;
    const ck_binding *b;
    const ck_fontset *fonts;
    bool *visible;     /* per layer: its condition and its groups' hold for the record */
    int *fit_of_layer; /* per layer: index into fits, or -1 */
    ck_text_fit *fits;
    size_t fit_count;
    int64_t *frame_first, *frame_end; /* per layer: active frames */
    ck_arena rec_arena;               /* rendered texts and layouts of the current record */
};

/* ---- easing ---- */

static float bezier_coord(float p1, float p2, float s)
{
    /* B(s) with P0 = 0, P3 = 1. */
    float is = 1 - s;
    return 3 * is * is * s * p1 + 3 * is * s * s * p2 + s * s * s;
}

static float bezier_slope(float p1, float p2, float s)
{
    float is = 1 - s;
    return 3 * is * is * p1 + 6 * is * s * (p2 - p1) + 3 * s * s * (1 - p2);
}

/* Solves x(s) = u for s (Newton, then bisection where the slope is flat), returns y(s). */
static float cubic_bezier(float x1, float y1, float x2, float y2, float u)
{
    float s = u;
    for (int i = 0; i < 8; i++) {
        float x = bezier_coord(x1, x2, s) - u;
        float dx = bezier_slope(x1, x2, s);
        if (fabsf(x) < 1e-6f)
            return bezier_coord(y1, y2, s);
        if (fabsf(dx) < 1e-6f)
            break;
        s -= x / dx;
        if (s < 0 || s > 1)
            break;
    }
    float lo = 0, hi = 1;
    s = u;
    for (int i = 0; i < 40; i++) {
        float x = bezier_coord(x1, x2, s);
        if (fabsf(x - u) < 1e-7f)
            break;
        if (x < u)
            lo = s;
        else
            hi = s;
        s = 0.5f * (lo + hi);
    }
    return bezier_coord(y1, y2, s);
}

float ck_ease_apply(const ck_ease *e, float u)
{
    if (u <= 0)
        return 0;
    if (u >= 1)
        return 1;
    switch (e->kind) {
    case CK_EASE_LINEAR:
        return u;
    case CK_EASE_IN: /* the CSS keywords */
        return cubic_bezier(0.42f, 0, 1, 1, u);
    case CK_EASE_OUT:
        return cubic_bezier(0, 0, 0.58f, 1, u);
    case CK_EASE_IN_OUT:
        return cubic_bezier(0.42f, 0, 0.58f, 1, u);
    case CK_EASE_BEZIER:
        return cubic_bezier(e->x1, e->y1, e->x2, e->y2, u);
    case CK_EASE_HOLD:
        return 0;
    }
    return u;
}

float ck_anim_value(const ck_scene *s, const ck_anim *a, double t)
{
    if (a->kf_count == 0)
        return a->value;
    const ck_keyframe *k = &s->keyframes[a->kf_first];
    uint32_t n = a->kf_count;
    if (t <= k[0].t)
        return k[0].v;
    if (t >= k[n - 1].t)
        return k[n - 1].v;
    uint32_t i = 0;
    while (i + 1 < n && k[i + 1].t <= t)
        i++;
    double span = k[i + 1].t - k[i].t;
    float u = (float)((t - k[i].t) / span);
    float e = ck_ease_apply(&k[i].ease, u);
    return k[i].v + (k[i + 1].v - k[i].v) * e;
}

/* ---- frames ---- */

static int64_t frame_at(double t, double fps)
{
    /* First frame whose time is >= t; the epsilon absorbs decimal times like 0.3 s. */
    return (int64_t)ceil(t * fps - 1e-6);
}

void ck_layer_frames(const ck_scene *s, int layer, int64_t *first, int64_t *end)
{
    int64_t f0 = 0, f1 = s->frame_count;
    for (int l = layer; l >= 0; l = s->layers[l].parent) {
        int64_t a = frame_at(s->layers[l].start, s->fps), b = frame_at(s->layers[l].end, s->fps);
        if (a > f0)
            f0 = a;
        if (b < f1)
            f1 = b;
    }
    *first = f0;
    *end = f1 > f0 ? f1 : f0;
}

/* ---- create / bind ---- */

ck_timeline *ck_timeline_create(const ck_scene *scene, const ck_binding *binding,
                                const ck_fontset *fonts, ck_error *err)
{
    ck_timeline *tl = calloc(1, sizeof *tl);
    int n = scene->layer_count;
    if (tl) {
        tl->visible = calloc((size_t)n + 1, sizeof *tl->visible);
        tl->fit_of_layer = calloc((size_t)n + 1, sizeof *tl->fit_of_layer);
        tl->frame_first = calloc((size_t)n + 1, sizeof(int64_t));
        tl->frame_end = calloc((size_t)n + 1, sizeof(int64_t));
    }
    if (!tl || !tl->visible || !tl->fit_of_layer || !tl->frame_first || !tl->frame_end) {
        ck_timeline_destroy(&tl);
        ck_error_set(err, CK_ERR_NOMEM, scene->file, 0, 0, "out of memory for the timeline");
        return NULL;
    }
    tl->s = scene;
    tl->b = binding;
    tl->fonts = fonts;
    for (int i = 0; i < n; i++) {
        ck_layer_frames(scene, i, &tl->frame_first[i], &tl->frame_end[i]);
        tl->fit_of_layer[i] = -1;
    }
    return tl;
}

void ck_timeline_destroy(ck_timeline **tlp)
{
    if (!tlp || !*tlp)
        return;
    ck_timeline *tl = *tlp;
    ck_arena_free(&tl->rec_arena);
    free(tl->visible);
    free(tl->fit_of_layer);
    free(tl->frame_first);
    free(tl->frame_end);
    free(tl);
    *tlp = NULL;
}

/* A layer's box in its parent's space once its animations have settled (at its end), as
 * drawn without scale or rotation: x, y less the anchor. */
static void settled_box(const ck_scene *s, const ck_layer *L, float r[4])
{
    double lt = L->end - L->start;
    r[0] = ck_anim_value(s, &L->anim[CK_PROP_X], lt) -
           ck_anim_value(s, &L->anim[CK_PROP_ANCHOR_X], lt) * L->width;
    r[1] = ck_anim_value(s, &L->anim[CK_PROP_Y], lt) -
           ck_anim_value(s, &L->anim[CK_PROP_ANCHOR_Y], lt) * L->height;
    r[2] = r[0] + L->width;
    r[3] = r[1] + L->height;
}

/* Whether point (x, y) lies inside the rounded rectangle r (x0, y0, x1, y1) of radius rad. */
static bool in_rounded(const float r[4], float rad, float x, float y)
{
    const float eps = 0.5f;
    if (x < r[0] - eps || x > r[2] + eps || y < r[1] - eps || y > r[3] + eps)
        return false;
    float cx = x < r[0] + rad ? r[0] + rad : x > r[2] - rad ? r[2] - rad : x;
    float cy = y < r[1] + rad ? r[1] + rad : y > r[3] - rad ? r[3] - rad : y;
    float dx = x - cx, dy = y - cy;
    return dx * dx + dy * dy <= (rad + eps) * (rad + eps);
}

/* A text drawn on a shape (a sibling shape under it, holding the text's centre) must stay
 * inside the shape's border: a label that wraps onto its pill's outline fits its own box and
 * still looks broken (issue 11: "Consulente digitale delle pensioni"). The nearest such shape
 * (the last drawn before the text) is the one it sits on. Returns the shape's layer index, or -1
 * when the text stays inside (or sits on no shape). */
static int text_leaves_shape(const ck_scene *s, int i, const ck_layout *lay)
{
    const ck_layer *T = &s->layers[i];
    if (lay->lines == 0 || lay->ink[2] <= lay->ink[0])
        return -1;
    float tb[4];
    settled_box(s, T, tb);
    /* The drawn pixels, not the line boxes: a lone "›" in a small circle is fine. */
    float x0 = tb[0] + lay->ink[0], y0 = tb[1] + lay->ink[1];
    float x1 = tb[0] + lay->ink[2], y1 = tb[1] + lay->ink[3];
    float mx = (x0 + x1) * 0.5f, my = (y0 + y1) * 0.5f;
    for (int k = i - 1; k >= 0; k--) {
        const ck_layer *S = &s->layers[k];
        if (S->parent != T->parent || S->type != CK_LAYER_SHAPE || S->end <= T->start ||
            S->start >= T->end)
            continue;
        float sb[4];
        settled_box(s, S, sb);
        if (!in_rounded(sb, 0, mx, my))
            continue;
        /* The inside: less the stroke and as much again of clear space (2 px at least), the
         * corners' radius shrunk by as much: ink touching the border reads as broken. */
        float sw = S->shape.stroke_width, rad = S->shape.radius;
        float inset = sw + (sw > 2 ? sw : 2);
        float half = (sb[2] - sb[0] < sb[3] - sb[1] ? sb[2] - sb[0] : sb[3] - sb[1]) * 0.5f;
        rad = rad > half ? half : rad;
        float in[4] = {sb[0] + inset, sb[1] + inset, sb[2] - inset, sb[3] - inset};
        float ir = rad > inset ? rad - inset : 0;
        bool inside = in_rounded(in, ir, x0, y0) && in_rounded(in, ir, x1, y0) &&
                      in_rounded(in, ir, x0, y1) && in_rounded(in, ir, x1, y1);
        return inside ? -1 : k;
    }
    return -1;
}

ck_status ck_timeline_set_record(ck_timeline *tl, const ck_record *rec, const char *file,
                                 ck_diags *diags)
{
    const ck_scene *s = tl->s;
    ck_arena_reset(&tl->rec_arena);
    tl->fit_count = 0;
    tl->fits = ck_arena_alloc(&tl->rec_arena, ((size_t)s->layer_count + 1) * sizeof *tl->fits);
    if (!tl->fits)
        return CK_ERR_NOMEM;
    ck_status status = CK_OK;
    int line = rec ? rec->line : 0;
    for (int i = 0; i < s->layer_count; i++) {
        const ck_layer *L = &s->layers[i];
        tl->fit_of_layer[i] = -1;
        bool vis = L->parent < 0 || tl->visible[L->parent];
        if (vis && tl->b->layer_when[i])
            vis = rec ? ck_expr_eval(tl->b->layer_when[i], rec) : false;
        /* Without a record only the shared parts are drawn. */
        if (!rec && tl->b->layer_deps[i])
            vis = false;
        tl->visible[i] = vis;
        if (!vis || L->type != CK_LAYER_TEXT)
            continue;
        const char *text = ck_template_render(tl->b->layer_text[i], rec, &tl->rec_arena);
        ck_layout_params p = {
            .text = text ? text : "",
            .font = L->text.font,
            .fallback_font = L->text.fallback_font,
            .size = L->text.size,
            .min_size = L->text.min_size,
            .line_height = L->text.line_height,
            .box_w = L->width,
            .box_h = L->height,
            .fit = L->text.fit,
            .max_lines = L->text.max_lines,
            .align = L->text.align,
            .valign = L->text.valign,
        };
        ck_text_fit *fit = &tl->fits[tl->fit_count];
        fit->layer = i;
        fit->text = p.text;
        ck_error err = {0};
        ck_status st = ck_text_layout(tl->fonts, &p, &tl->rec_arena, &fit->layout, &err);
        if (st != CK_OK) {
            ck_diag_add(diags, CK_SEV_ERROR, file, line, 0, "layer \"%s\": %s", L->id, err.msg);
            status = st;
            continue;
        }
        tl->fit_of_layer[i] = (int)tl->fit_count++;
        /* Messages name the layer and sizes, never the text: it may be personal data. */
        if (!fit->layout.fits)
            ck_diag_add(diags, CK_SEV_ERROR, file, line, 0,
                        "layer \"%s\": text (%zu characters) does not fit its %gx%g box even "
                        "at min_size %g px",
                        L->id, ck_utf8_len(p.text), (double)L->width, (double)L->height,
                        (double)(p.min_size > 0 ? p.min_size : p.size * 0.5f));
        /* Shared texts are checked once, without a record; rendering (no diags) skips it. */
        int shape = diags && fit->layout.fits && (!rec || tl->b->layer_deps[i])
                        ? text_leaves_shape(s, i, &fit->layout)
                        : -1;
        if (shape >= 0) {
            /* A shared text is the scene's to fix: its place in scene.json; a personal one is
             * the record's (a long name): the record's line, the layer's place named. */
            const ck_layer *S = &s->layers[shape];
            if (rec)
                ck_diag_add(diags, CK_SEV_ERROR, file, line, 0,
                            "layer \"%s\" (%s:%d:%d): text (%d line(s) at %g px) goes outside "
                            "the shape \"%s\" it sits on; widen the shape, or shorten or shrink "
                            "the text",
                            L->id, s->file, L->pos.line, L->pos.col, fit->layout.lines,
                            (double)fit->layout.size, S->id);
            else
                ck_diag_add(diags, CK_SEV_ERROR, s->file, L->pos.line, L->pos.col,
                            "layer \"%s\": text (%d line(s) at %g px) goes outside the shape "
                            "\"%s\" it sits on; widen the shape, or shorten or shrink the text",
                            L->id, fit->layout.lines, (double)fit->layout.size, S->id);
        }
        if (fit->layout.missing)
            ck_diag_add(diags, CK_SEV_ERROR, file, line, 0,
                        "layer \"%s\": %d character(s) that no font has (first U+%04X); add a "
                        "fallback_font that has them",
                        L->id, fit->layout.missing, (unsigned)fit->layout.first_missing);
    }
    return status;
}

const ck_text_fit *ck_timeline_fits(const ck_timeline *tl, size_t *count)
{
    *count = tl->fit_count;
    return tl->fits;
}

/* ---- evaluation ---- */

static ck_affine affine_mul(const ck_affine *p, const ck_affine *q)
{
    /* p * q: apply q first, then p. */
    return (ck_affine){
        p->a * q->a + p->c * q->b,           p->b * q->a + p->d * q->b,
        p->a * q->c + p->c * q->d,           p->b * q->c + p->d * q->d,
        p->a * q->tx + p->c * q->ty + p->tx, p->b * q->tx + p->d * q->ty + p->ty,
    };
}

static ck_affine layer_local(const ck_scene *s, const ck_layer *L, double lt)
{
    float v[CK_ANIM_PROP_COUNT];
    for (int k = 0; k < CK_ANIM_PROP_COUNT; k++)
        v[k] = ck_anim_value(s, &L->anim[k], lt);
    float sx = v[CK_PROP_SCALE] * v[CK_PROP_SCALE_X];
    float sy = v[CK_PROP_SCALE] * v[CK_PROP_SCALE_Y];
    double rad = (double)v[CK_PROP_ROTATION] * (M_PI / 180.0);
    float cs = (float)cos(rad), sn = (float)sin(rad);
    float ax = v[CK_PROP_ANCHOR_X] * L->width, ay = v[CK_PROP_ANCHOR_Y] * L->height;
    /* T(x, y) * R * S * T(-ax, -ay) */
    ck_affine m = {cs * sx, sn * sx, -sn * sy, cs * sy, 0, 0};
    m.tx = v[CK_PROP_X] - (m.a * ax + m.c * ay);
    m.ty = v[CK_PROP_Y] - (m.b * ax + m.d * ay);
    return m;
}

/* ---- one table entry per layer type (STYLE.md item 7) ----
 * `emit` fills the draw of a visible layer whose common part (layer, transform, box, opacity)
 * is already set, appending any glyphs to `out`; false: nothing to draw this frame. A group
 * has no `emit`: it only passes its transform and opacity on to its children. A new layer
 * type adds one entry here (the assert below fails to compile until it does). */
typedef struct layer_kind {
    bool (*emit)(const ck_timeline *tl, const ck_layer *L, int i, double lt, ck_draw *d,
                 ck_drawlist *out);
} layer_kind;

static bool emit_shape(const ck_timeline *tl, const ck_layer *L, int i, double lt, ck_draw *d,
                       ck_drawlist *out)
{
    (void)tl, (void)i, (void)lt, (void)out;
    d->kind = CK_DRAW_RECT;
    d->u.rect.p = L->shape;
    return true;
}

static bool emit_image(const ck_timeline *tl, const ck_layer *L, int i, double lt, ck_draw *d,
                       ck_drawlist *out)
{
    (void)tl, (void)i, (void)lt, (void)out;
    d->kind = CK_DRAW_IMAGE;
    d->u.image.asset = L->media.asset;
    return true;
}

static bool emit_video(const ck_timeline *tl, const ck_layer *L, int i, double lt, ck_draw *d,
                       ck_drawlist *out)
{
    (void)tl, (void)i, (void)out;
    d->kind = CK_DRAW_VIDEO;
    d->u.video.asset = L->media.asset;
    d->u.video.source_time = L->media.source_start + lt;
    d->u.video.loop = L->media.loop;
    return true;
}

/* The layer's fitted layout (bound once per record); nothing when it has no glyphs. */
static bool emit_text(const ck_timeline *tl, const ck_layer *L, int i, double lt, ck_draw *d,
                      ck_drawlist *out)
{
    (void)lt;
    int fi = tl->fit_of_layer[i];
    if (fi < 0)
        return false;
    const ck_layout *lay = &tl->fits[fi].layout;
    if (lay->glyph_count == 0)
        return false;
    d->kind = CK_DRAW_TEXT;
    d->u.text.glyph_first = (uint32_t)out->glyph_count;
    d->u.text.glyph_count = (uint32_t)lay->glyph_count;
    memcpy(out->glyphs + out->glyph_count, lay->glyphs, lay->glyph_count * sizeof *lay->glyphs);
    out->glyph_count += lay->glyph_count;
    d->u.text.size = lay->size;
    d->u.text.color = L->text.color;
    d->u.text.outline_width = L->text.outline_width;
    d->u.text.outline_color = L->text.outline_color;
    d->u.text.shadow_dx = L->text.shadow_dx;
    d->u.text.shadow_dy = L->text.shadow_dy;
    d->u.text.shadow_blur = L->text.shadow_blur;
    d->u.text.shadow_color = L->text.shadow_color;
    return true;
}

static const layer_kind layer_kinds[] = {
    [CK_LAYER_VIDEO] = {emit_video}, [CK_LAYER_IMAGE] = {emit_image}, [CK_LAYER_TEXT] = {emit_text},
    [CK_LAYER_SHAPE] = {emit_shape}, [CK_LAYER_GROUP] = {NULL},
};
_Static_assert(CK_ARRAY_LEN(layer_kinds) == CK_LAYER_TYPE_COUNT, "one entry per layer type");

ck_status ck_timeline_eval(ck_timeline *tl, int64_t frame, ck_arena *fa, ck_drawlist *out,
                           ck_error *err)
{
    const ck_scene *s = tl->s;
    memset(out, 0, sizeof *out);
    if (frame < 0 || frame >= s->frame_count)
        return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                            "frame %lld is outside the video (0 to %lld)", (long long)frame,
                            (long long)s->frame_count - 1);
    int n = s->layer_count;
    ck_affine *xf = ck_arena_alloc(fa, ((size_t)n + 1) * sizeof *xf);
    float *op = ck_arena_alloc(fa, ((size_t)n + 1) * sizeof *op);
    bool *on = ck_arena_alloc(fa, ((size_t)n + 1) * sizeof *on);
    size_t glyph_total = 0;
    for (size_t i = 0; i < tl->fit_count; i++)
        glyph_total += tl->fits[i].layout.glyph_count;
    out->items = ck_arena_alloc(fa, ((size_t)n + 1) * sizeof *out->items);
    out->glyphs = ck_arena_alloc(fa, (glyph_total + 1) * sizeof *out->glyphs);
    if (!xf || !op || !on || !out->items || !out->glyphs)
        return ck_error_set(err, CK_ERR_NOMEM, s->file, 0, 0, "out of memory for a frame");
    out->frame = frame;
    out->t = (double)frame / s->fps;
    out->width = s->width;
    out->height = s->height;
    out->background = s->background;

    for (int i = 0; i < n; i++) {
        const ck_layer *L = &s->layers[i];
        bool active = frame >= tl->frame_first[i] && frame < tl->frame_end[i];
        on[i] = false;
        if (!active)
            continue;
        /* The frame depends on a field whenever a layer reading it is on screen time-wise,
         * drawn or not: another person would see something else here. */
        out->deps |= tl->b->layer_deps[i];
        if (!tl->visible[i] || (L->parent >= 0 && !on[L->parent]))
            continue;
        double lt = out->t - L->start;
        ck_affine local = layer_local(s, L, lt);
        float o = ck_anim_value(s, &L->anim[CK_PROP_OPACITY], lt);
        o = o < 0 ? 0 : o > 1 ? 1 : o;
        if (L->parent >= 0) {
            xf[i] = affine_mul(&xf[L->parent], &local);
            op[i] = op[L->parent] * o;
        } else {
            xf[i] = local;
            op[i] = o;
        }
        on[i] = true;
        const layer_kind *kind =
            (unsigned)L->type < CK_LAYER_TYPE_COUNT ? &layer_kinds[L->type] : NULL;
        if (!kind || !kind->emit || op[i] <= 0)
            continue;
        ck_draw *d = &out->items[out->count];
        memset(d, 0, sizeof *d);
        d->layer = i;
        d->xf = xf[i];
        d->w = L->width;
        d->h = L->height;
        d->opacity = op[i];
        if (!kind->emit(tl, L, i, lt, d, out))
            continue;
        out->count++;
    }
    return CK_OK;
}

/* ---- JSON dump ---- */

static void jb_color(ck_strbuf *b, const char *name, ck_color c)
{
    ck_strbuf_printf(b, ", \"%s\": [%.4f, %.4f, %.4f, %.4f]", name, (double)c.r, (double)c.g,
                     (double)c.b, (double)c.a);
}

/* ---- one table entry per draw kind: its name and its own fields in the JSON dump ---- */
typedef struct draw_kind {
    const char *name;
    void (*json)(ck_strbuf *b, const ck_scene *s, const ck_drawlist *dl, const ck_draw *d);
} draw_kind;

static void json_rect(ck_strbuf *b, const ck_scene *s, const ck_drawlist *dl, const ck_draw *d)
{
    (void)s, (void)dl;
    ck_strbuf_printf(b, ", \"radius\": %.3f", (double)d->u.rect.p.radius);
    jb_color(b, "fill", d->u.rect.p.fill);
    if (d->u.rect.p.gradient) {
        jb_color(b, "fill2", d->u.rect.p.fill2);
        ck_strbuf_printf(b, ", \"gradient_angle\": %.3f", (double)d->u.rect.p.gradient_angle);
    }
    if (d->u.rect.p.stroke_width > 0) {
        jb_color(b, "stroke", d->u.rect.p.stroke);
        ck_strbuf_printf(b, ", \"stroke_width\": %.3f", (double)d->u.rect.p.stroke_width);
    }
}

static void json_image(ck_strbuf *b, const ck_scene *s, const ck_drawlist *dl, const ck_draw *d)
{
    (void)dl;
    ck_strbuf_printf(b, ", \"asset\": \"%s\"", s->assets[d->u.image.asset].id);
}

static void json_video(ck_strbuf *b, const ck_scene *s, const ck_drawlist *dl, const ck_draw *d)
{
    (void)dl;
    ck_strbuf_printf(b, ", \"asset\": \"%s\", \"source_time\": %.6f, \"loop\": %s",
                     s->assets[d->u.video.asset].id, d->u.video.source_time,
                     d->u.video.loop ? "true" : "false");
}

static void json_text(ck_strbuf *b, const ck_scene *s, const ck_drawlist *dl, const ck_draw *d)
{
    ck_strbuf_printf(b, ", \"size\": %.3f", (double)d->u.text.size);
    jb_color(b, "color", d->u.text.color);
    ck_strbuf_printf(b, ", \"glyphs\": [");
    for (uint32_t g = 0; g < d->u.text.glyph_count; g++) {
        const ck_glyph *gl = &dl->glyphs[d->u.text.glyph_first + g];
        ck_strbuf_printf(b, "%s[\"%s\", %u, %.3f, %.3f]", g ? ", " : "", s->assets[gl->font].id,
                         gl->glyph, (double)gl->x, (double)gl->y);
    }
    ck_strbuf_printf(b, "]");
}

static const draw_kind draw_kinds[] = {
    [CK_DRAW_RECT] = {"rect", json_rect},
    [CK_DRAW_IMAGE] = {"image", json_image},
    [CK_DRAW_VIDEO] = {"video", json_video},
    [CK_DRAW_TEXT] = {"text", json_text},
};
_Static_assert(CK_ARRAY_LEN(draw_kinds) == CK_DRAW_KIND_COUNT, "one entry per draw kind");

char *ck_drawlist_json(const ck_scene *s, const ck_drawlist *dl)
{
    ck_strbuf b = {0};
    ck_strbuf_printf(&b,
                     "{\"frame\": %lld, \"t\": %.6f, \"width\": %d, \"height\": %d, \"deps\": [",
                     (long long)dl->frame, dl->t, dl->width, dl->height);
    bool first = true;
    for (int f = 0; f < s->field_count; f++)
        if (dl->deps & (1ull << f)) {
            ck_strbuf_printf(&b, "%s\"%s\"", first ? "" : ", ", s->fields[f].name);
            first = false;
        }
    ck_strbuf_printf(&b, "]");
    jb_color(&b, "background", dl->background);
    ck_strbuf_printf(&b, ", \"draws\": [");
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *d = &dl->items[i];
        const draw_kind *k = &draw_kinds[d->kind];
        ck_strbuf_printf(
            &b,
            "%s\n  {\"kind\": \"%s\", \"layer\": \"%s\", \"xf\": [%.4f, %.4f, %.4f, %.4f, "
            "%.3f, %.3f], \"w\": %.3f, \"h\": %.3f, \"opacity\": %.4f",
            i ? "," : "", k->name, s->layers[d->layer].id, (double)d->xf.a, (double)d->xf.b,
            (double)d->xf.c, (double)d->xf.d, (double)d->xf.tx, (double)d->xf.ty, (double)d->w,
            (double)d->h, (double)d->opacity);
        k->json(&b, s, dl, d);
        ck_strbuf_printf(&b, "}");
    }
    ck_strbuf_printf(&b, "\n]}\n");
    return ck_strbuf_take(&b);
}
