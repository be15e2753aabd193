/* preview_view.c: the window's picture: the composited frame, letterboxed to keep the
 * scene's aspect ratio, and the designer's overlays around and on top of it.
 *
 * Everything here is in window (framebuffer) pixels; `ui` is the HiDPI factor so the strip,
 * the HUD and the labels keep their physical size on a 2x screen. */
#include "preview.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const pv_rgba C_WINDOW = {22, 23, 27, 255};
static const pv_rgba C_STRIP = {34, 36, 42, 255};
static const pv_rgba C_SHARED = {78, 118, 170, 255};
static const pv_rgba C_PERSONAL = {232, 142, 40, 255};
static const pv_rgba C_PLAYHEAD = {255, 255, 255, 255};
static const pv_rgba C_TEXT = {235, 235, 240, 255};
static const pv_rgba C_DIM = {150, 154, 166, 255};
static const pv_rgba C_PANEL = {0, 0, 0, 170};
static const pv_rgba C_OVERFLOW = {255, 56, 56, 255};
static const pv_rgba C_SHRUNK = {255, 150, 0, 255};
static const pv_rgba C_WRAPPED = {255, 222, 0, 255};
static const pv_rgba C_CUE = {170, 120, 255, 255};
static const pv_rgba C_ERROR_BG = {120, 14, 20, 225};

static int ui_px(const pv_view_state *s, int px)
{
    int v = (int)lroundf((float)px * (s->ui_scale > 0 ? s->ui_scale : 1));
    return v > 0 ? v : 1;
}

/* The bitmap font is 7 px high per unit; 2 units reads well on a 1x screen. */
static int text_scale(const pv_view_state *s)
{
    return ui_px(s, 2);
}

/* The window, top to bottom: the video (letterboxed), the HUD rows, the timeline strip.
 * The HUD sits under the picture rather than on it so nothing the designer judges is hidden. */
pv_layout pv_view_layout(int win_w, int win_h, int canvas_w, int canvas_h, const pv_view_state *s)
{
    pv_layout l = {0};
    l.sh = (s->overlays & PV_OV_STRIP) ? ui_px(s, 64) : 0;
    l.hh = (s->overlays & PV_OV_HUD) ? ui_px(s, 48) : 0;
    if (l.sh + l.hh > win_h / 2)
        l.sh = l.hh = 0; /* a tiny window shows the picture only */
    int area_h = win_h - l.sh - l.hh;
    if (canvas_w <= 0 || canvas_h <= 0) {
        canvas_w = 16;
        canvas_h = 9;
    }
    /* Fit the canvas into the area, keeping its aspect ratio. */
    if ((int64_t)win_w * canvas_h > (int64_t)area_h * canvas_w) {
        l.vh = area_h;
        l.vw = (int)((int64_t)area_h * canvas_w / canvas_h);
    } else {
        l.vw = win_w;
        l.vh = (int)((int64_t)win_w * canvas_h / canvas_w);
    }
    l.vx = (win_w - l.vw) / 2;
    l.vy = (area_h - l.vh) / 2;
    l.hy = area_h;
    l.sx = 0;
    l.sy = area_h + l.hh;
    l.sw = win_w;
    l.bar_x = ui_px(s, 10);
    l.bar_w = win_w - 2 * l.bar_x;
    if (l.bar_w < 1)
        l.bar_w = 1;
    return l;
}

int64_t pv_view_frame_at(const pv_layout *l, int64_t frame_count, double x)
{
    double u = (x - l->bar_x) / l->bar_w;
    int64_t f = (int64_t)floor(u * (double)frame_count);
    return f < 0 ? 0 : f >= frame_count ? frame_count - 1 : f;
}

static const ck_scene *scene_of(const pv_view_state *s)
{
    return s->gen ? s->gen->cs.scene : NULL;
}

static const ck_segment *segment_at(const pv_gen *g, int64_t frame)
{
    for (int i = 0; i < g->plan.count; i++) {
        const ck_segment *sg = &g->plan.items[i];
        if (frame >= sg->first_frame && frame < sg->first_frame + sg->frame_count)
            return sg;
    }
    return NULL;
}

static bool cue_shown(const pv_gen *g, int i)
{
    const ck_expr *w = g->cs.binding->cue_when[i];
    return !w || ck_expr_eval(w, g->cs.record);
}

/* ---- overlays on the video ---- */

static void draw_safe_areas(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    /* SMPTE ST 2046-1: action safe 93 %, title safe 90 % of the picture. */
    static const struct {
        float margin;
        pv_rgba c;
        const char *name;
    } areas[] = {{0.035f, {120, 220, 255, 150}, "action safe"},
                 {0.05f, {255, 240, 120, 150}, "title safe"}};
    for (size_t i = 0; i < CK_ARRAY_LEN(areas); i++) {
        int mx = (int)lroundf(l->vw * areas[i].margin), my = (int)lroundf(l->vh * areas[i].margin);
        pv_frame_rect(im, l->vx + mx, l->vy + my, l->vw - 2 * mx, l->vh - 2 * my, ui_px(s, 1),
                      areas[i].c);
        int ts = ui_px(s, 1);
        pv_text(im, l->vx + l->vw - mx - pv_text_width(areas[i].name, ts) - ui_px(s, 3),
                l->vy + l->vh - my - ui_px(s, 10), ts, areas[i].name, areas[i].c);
    }
}

static void draw_fits(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    const ck_scene *sc = scene_of(s);
    size_t nfit = 0;
    const ck_text_fit *fits = ck_timeline_fits(s->gen->cs.timeline, &nfit);
    float k = (float)l->vw / (float)sc->width;
    for (size_t i = 0; i < s->dl->count; i++) {
        const ck_draw *d = &s->dl->items[i];
        if (d->kind != CK_DRAW_TEXT)
            continue;
        const ck_text_fit *f = NULL;
        for (size_t j = 0; j < nfit && !f; j++)
            if (fits[j].layer == d->layer)
                f = &fits[j];
        if (!f || (f->layout.fits && !f->layout.shrunk && !f->layout.wrapped))
            continue;
        pv_rgba c = !f->layout.fits ? C_OVERFLOW : f->layout.shrunk ? C_SHRUNK : C_WRAPPED;
        /* The layer box's corners through its transform, then canvas -> window. */
        const ck_affine *a = &d->xf;
        float cx[4] = {0, d->w, d->w, 0}, cy[4] = {0, 0, d->h, d->h}, wx[4], wy[4];
        for (int q = 0; q < 4; q++) {
            wx[q] = l->vx + (a->a * cx[q] + a->c * cy[q] + a->tx) * k;
            wy[q] = l->vy + (a->b * cx[q] + a->d * cy[q] + a->ty) * k;
        }
        for (int q = 0; q < 4; q++)
            pv_line(im, wx[q], wy[q], wx[(q + 1) % 4], wy[(q + 1) % 4], (float)ui_px(s, 2), c);
        char msg[160];
        const ck_text_props *tp = &sc->layers[d->layer].text;
        if (!f->layout.fits)
            snprintf(msg, sizeof msg, "%s: overflows at %.0f px", sc->layers[d->layer].id,
                     f->layout.size);
        else if (f->layout.shrunk)
            snprintf(msg, sizeof msg, "%s: shrunk %.0f -> %.0f px%s", sc->layers[d->layer].id,
                     tp->size, f->layout.size, f->layout.wrapped ? ", wrapped" : "");
        else
            snprintf(msg, sizeof msg, "%s: wrapped to %d lines", sc->layers[d->layer].id,
                     f->layout.lines);
        int ly = (int)fminf(fminf(wy[0], wy[1]), fminf(wy[2], wy[3])) - ui_px(s, 16);
        int lx = (int)fminf(fminf(wx[0], wx[1]), fminf(wx[2], wx[3]));
        pv_label(im, lx, ly < l->vy ? l->vy : ly, text_scale(s), msg, (pv_rgba){0, 0, 0, 255}, c);
    }
}

/* Cues are drawn where the web player puts them (popups top right, buttons bottom right,
 * stacked): an approximation of the page, to see what overlaps the video when. */
static void draw_cues(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    const pv_gen *g = s->gen;
    const ck_scene *sc = g->cs.scene;
    double t = (double)s->frame_index / sc->fps;
    ck_arena ar = {0};
    int ts = text_scale(s), margin = (int)(l->vw * 0.035f), pad = ui_px(s, 8);
    int popup_y = l->vy + margin + ui_px(s, 40), button_y = l->vy + l->vh - margin;
    for (int i = 0; i < sc->cue_count; i++) {
        const ck_cue *c = &sc->cues[i];
        if (c->kind == CK_CUE_CHAPTER || t < c->start || t >= c->end || !cue_shown(g, i))
            continue;
        if (c->kind == CK_CUE_POPUP) {
            const ck_template *tt = g->cs.binding->cue_title[i], *tb = g->cs.binding->cue_body[i];
            const char *title = tt ? ck_template_render(tt, g->cs.record, &ar) : "";
            const char *body = tb ? ck_template_render(tb, g->cs.record, &ar) : "";
            int w = (int)(l->vw * 0.34f), h = ui_px(s, 62);
            int x = l->vx + l->vw - margin - w;
            pv_fill(im, x, popup_y, w, h, (pv_rgba){255, 255, 255, 215});
            pv_frame_rect(im, x, popup_y, w, h, ui_px(s, 2), C_CUE);
            pv_text(im, x + pad, popup_y + pad, ts, title, (pv_rgba){20, 20, 60, 255});
            pv_text(im, x + pad, popup_y + pad + ui_px(s, 22), ui_px(s, 1) + 1, body,
                    (pv_rgba){40, 40, 40, 255});
            pv_text(im, x + pad, popup_y + h - ui_px(s, 12), ui_px(s, 1), c->id, C_CUE);
            popup_y += h + ui_px(s, 6);
        } else {
            const ck_template *tl = g->cs.binding->cue_label[i];
            const char *label = tl ? ck_template_render(tl, g->cs.record, &ar) : c->id;
            int w = pv_text_width(label, ts) + 2 * pad, h = ui_px(s, 30);
            button_y -= h;
            int x = l->vx + l->vw - margin - w;
            pv_fill(im, x, button_y, w, h, (pv_rgba){0, 102, 204, 150});
            pv_frame_rect(im, x, button_y, w, h, ui_px(s, 2), C_CUE);
            pv_text(im, x + pad, button_y + (h - 7 * ts) / 2, ts, label, C_TEXT);
            button_y -= ui_px(s, 6);
        }
    }
    ck_arena_free(&ar);
}

/* Draws `text` at *x in colour c and moves *x past it (and a gap). */
static void span(pv_image *im, int *x, int y, int ts, const char *text, pv_rgba c)
{
    *x += pv_text(im, *x, y, ts, text, c) + 14 * ts;
}

static void draw_hud(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    const pv_gen *g = s->gen;
    const ck_scene *sc = g->cs.scene;
    int ts = text_scale(s), lh = ui_px(s, 20);
    int y0 = l->hy + ui_px(s, 6), y1 = y0 + lh, x;
    char buf[400];
    pv_fill(im, 0, l->hy, im->w, l->hh, C_STRIP);
    pv_fill(im, 0, l->hy, im->w, ui_px(s, 1), (pv_rgba){60, 63, 72, 255});

    /* Row 1: where we are. */
    x = l->bar_x;
    double t = (double)s->frame_index / sc->fps;
    snprintf(buf, sizeof buf, "%s v%d", sc->id, sc->version);
    span(im, &x, y0, ts, buf, C_DIM);
    span(im, &x, y0, ts, s->playing ? "PLAY " : "PAUSE", s->playing ? C_TEXT : C_WRAPPED);
    snprintf(buf, sizeof buf, "%7.3f / %.3f s   frame %lld / %lld", t, sc->duration,
             (long long)s->frame_index, (long long)sc->frame_count - 1);
    span(im, &x, y0, ts, buf, C_TEXT);
    if (s->looping && s->loop_in >= 0)
        snprintf(buf, sizeof buf, "loop %.2f-%.2f s", (double)s->loop_in / sc->fps,
                 (double)s->loop_out / sc->fps);
    else
        snprintf(buf, sizeof buf, "%s", s->looping ? "loop all" : "");
    span(im, &x, y0, ts, buf, (pv_rgba){120, 255, 140, 255});
    snprintf(buf, sizeof buf, "render %.0f ms", s->render_ms);
    int rx = l->bar_x + l->bar_w - pv_text_width(buf, ts);
    if (rx >= x) /* narrow windows drop it rather than overprint */
        pv_text(im, rx, y0, ts, buf, C_DIM);

    /* Row 2: what is personal here, whose data, and how its texts fit. */
    x = l->bar_x;
    const ck_segment *seg = segment_at(g, s->frame_index);
    if (seg) {
        snprintf(buf, sizeof buf, "segment %d/%d  %.2f-%.2f s", seg->index + 1, g->plan.count,
                 seg->start, seg->start + seg->duration);
        span(im, &x, y1, ts, buf, C_TEXT);
        if (seg->personal)
            snprintf(buf, sizeof buf, "PERSONAL (%s)",
                     seg->first_layer >= 0 ? sc->layers[seg->first_layer].id : "?");
        span(im, &x, y1, ts, seg->personal ? buf : "shared", seg->personal ? C_PERSONAL : C_SHARED);
    }
    if (g->record >= 0)
        snprintf(buf, sizeof buf, "record %ld/%ld  %s", g->record + 1, pv_gen_record_count(g),
                 g->cs.record->id);
    else
        snprintf(buf, sizeof buf, "no records (shared parts only)");
    span(im, &x, y1, ts, buf, C_TEXT);
    size_t nfit = 0;
    const ck_text_fit *fits = ck_timeline_fits(g->cs.timeline, &nfit);
    int over = 0, shrunk = 0, wrapped = 0;
    for (size_t i = 0; i < nfit; i++) {
        over += !fits[i].layout.fits;
        shrunk += fits[i].layout.fits && fits[i].layout.shrunk;
        wrapped += fits[i].layout.fits && !fits[i].layout.shrunk && fits[i].layout.wrapped;
    }
    snprintf(buf, sizeof buf, "texts: %d overflow, %d shrunk, %d wrapped", over, shrunk, wrapped);
    span(im, &x, y1, ts, buf, over ? C_OVERFLOW : shrunk ? C_SHRUNK : wrapped ? C_WRAPPED : C_DIM);
}

/* ---- the timeline strip ---- */

static int bar_x(const pv_layout *l, double frame, int64_t frame_count)
{
    return l->bar_x + (int)lround(frame / (double)frame_count * l->bar_w);
}

static void draw_strip(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    pv_fill(im, l->sx, l->sy, l->sw, l->sh, C_STRIP);
    if (!s->gen)
        return;
    const pv_gen *g = s->gen;
    const ck_scene *sc = g->cs.scene;
    int64_t fc = sc->frame_count;
    int y = l->sy + ui_px(s, 6), segh = ui_px(s, 18), gap = ui_px(s, 1);
    for (int i = 0; i < g->plan.count; i++) {
        const ck_segment *sg = &g->plan.items[i];
        int x0 = bar_x(l, (double)sg->first_frame, fc);
        int x1 = bar_x(l, (double)(sg->first_frame + sg->frame_count), fc);
        pv_fill(im, x0, y, x1 - x0 - gap, segh, sg->personal ? C_PERSONAL : C_SHARED);
    }
    /* Popup and button cue ranges under the segments; chapters as ticks with titles. */
    int cy = y + segh + ui_px(s, 3), ts1 = ui_px(s, 1);
    ck_arena ar = {0};
    for (int i = 0; i < sc->cue_count; i++) {
        const ck_cue *c = &sc->cues[i];
        if (!cue_shown(g, i))
            continue;
        int x0 = bar_x(l, c->start * sc->fps, fc);
        if (c->kind == CK_CUE_CHAPTER) {
            pv_fill(im, x0, cy, ui_px(s, 2), ui_px(s, 16), C_TEXT);
            const ck_template *tt = g->cs.binding->cue_title[i];
            const char *title = tt ? ck_template_render(tt, g->cs.record, &ar) : c->id;
            /* The title only where it fits before the next chapter. */
            double next = sc->duration;
            for (int j = 0; j < sc->cue_count; j++)
                if (sc->cues[j].kind == CK_CUE_CHAPTER && sc->cues[j].start > c->start &&
                    sc->cues[j].start < next && cue_shown(g, j))
                    next = sc->cues[j].start;
            int room = bar_x(l, next * sc->fps, fc) - x0 - ui_px(s, 8);
            if (pv_text_width(title, ts1) <= room)
                pv_text(im, x0 + ui_px(s, 4), cy + ui_px(s, 6), ts1, title, C_DIM);
        } else {
            int x1 = bar_x(l, c->end * sc->fps, fc);
            pv_fill(im, x0, cy, x1 - x0 > 1 ? x1 - x0 : 1, ui_px(s, 4), C_CUE);
        }
    }
    ck_arena_free(&ar);
    if (s->loop_in >= 0 && s->loop_out > s->loop_in) {
        int x0 = bar_x(l, (double)s->loop_in, fc), x1 = bar_x(l, (double)s->loop_out, fc);
        pv_fill(im, x0, l->sy + ui_px(s, 2), x1 - x0, l->sh - ui_px(s, 4),
                (pv_rgba){255, 255, 255, s->looping ? 60 : 25});
        pv_fill(im, x0, l->sy, ui_px(s, 2), l->sh, (pv_rgba){120, 255, 140, 255});
        pv_fill(im, x1 - ui_px(s, 2), l->sy, ui_px(s, 2), l->sh, (pv_rgba){120, 255, 140, 255});
    }
    /* Time ticks every 10 s (every 1 s for short scenes). */
    double step = sc->duration > 30 ? 10 : 1;
    int ty = l->sy + l->sh - ui_px(s, 12);
    for (double t = 0; t < sc->duration; t += step) {
        char lab[32];
        snprintf(lab, sizeof lab, "%gs", t);
        int x = bar_x(l, t * sc->fps, fc);
        pv_fill(im, x, ty - ui_px(s, 4), ts1, ui_px(s, 3), C_DIM);
        pv_text(im, x + ui_px(s, 2), ty, ts1, lab, C_DIM);
    }
    int px = bar_x(l, (double)s->frame_index + 0.5, fc);
    pv_fill(im, px - ui_px(s, 1), l->sy, ui_px(s, 2), l->sh, C_PLAYHEAD);
    pv_fill(im, px - ui_px(s, 5), l->sy, ui_px(s, 10), ui_px(s, 4), C_PLAYHEAD);
}

/* ---- panels ---- */

static void draw_error(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    int ts = text_scale(s), lh = ui_px(s, 20), pad = ui_px(s, 10);
    const char *title = s->gen ? "scene has errors: showing the last good version"
                               : "scene has errors: nothing to show yet";
    int lines = 1;
    for (const char *p = s->error; *p; p++)
        lines += *p == '\n';
    if (lines > 12)
        lines = 12;
    int h = (lines + 1) * lh + 2 * pad;
    int x = l->vx, w = l->vw, y = l->vy + l->vh - h;
    if (y < 0)
        y = 0;
    pv_fill(im, x, y, w, h, C_ERROR_BG);
    pv_text(im, x + pad, y + pad, ts, title, (pv_rgba){255, 220, 120, 255});
    const char *p = s->error;
    for (int i = 0; i < lines && *p; i++) {
        char buf[512];
        size_t n = strcspn(p, "\n");
        size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
        memcpy(buf, p, k);
        buf[k] = 0;
        pv_text(im, x + pad, y + pad + (i + 1) * lh, ts, buf, C_TEXT);
        p += n + (p[n] == '\n');
    }
}

/* Key and what it does, drawn in two columns (the bitmap font is proportional). */
static const char *const help_lines[][2] = {
    {"space", "play / pause"},
    {"left / right", "one frame back / forward (with shift: one second)"},
    {"page up / down", "previous / next segment boundary"},
    {"home / end", "start / end"},
    {"drag the strip", "scrub"},
    {"I / O", "loop in / out at the playhead"},
    {"L / C", "loop on or off / clear the loop range"},
    {"N / P", "next / previous record"},
    {"1 2 3 4 5", "safe areas, strip, cue boxes, text fit warnings, HUD"},
    {"S / shift+S", "screenshot: the frame (as `ciak frame`) / the window"},
    {"R", "reload now (files are watched anyway)"},
    {"H or F1", "this help"},
    {"Q or Esc", "quit"},
};

static void draw_help(pv_image *im, const pv_layout *l, const pv_view_state *s)
{
    int ts = text_scale(s), lh = ui_px(s, 20), pad = ui_px(s, 12);
    int n = (int)CK_ARRAY_LEN(help_lines), kw = 0, dw = 0;
    for (int i = 0; i < n; i++) {
        int a = pv_text_width(help_lines[i][0], ts), b = pv_text_width(help_lines[i][1], ts);
        kw = a > kw ? a : kw;
        dw = b > dw ? b : dw;
    }
    int w = kw + dw + 3 * pad, h = n * lh + 2 * pad;
    int x = l->vx + (l->vw - w) / 2, y = l->vy + (l->vh - h) / 2;
    pv_fill(im, x, y, w, h, (pv_rgba){0, 0, 0, 230});
    for (int i = 0; i < n; i++) {
        pv_text(im, x + pad, y + pad + i * lh, ts, help_lines[i][0], C_WRAPPED);
        pv_text(im, x + 2 * pad + kw, y + pad + i * lh, ts, help_lines[i][1], C_TEXT);
    }
}

void pv_view_draw(pv_image *out, const pv_view_state *s)
{
    const ck_scene *sc = scene_of(s);
    pv_layout l = pv_view_layout(out->w, out->h, sc ? sc->width : 16, sc ? sc->height : 9, s);
    pv_fill(out, 0, 0, out->w, out->h, C_WINDOW);
    if (s->frame)
        pv_blit_scaled(out, l.vx, l.vy, l.vw, l.vh, s->frame->rgba, s->frame->width,
                       s->frame->height, s->frame->rgba_stride);
    if (sc && s->frame) {
        if (s->overlays & PV_OV_SAFE)
            draw_safe_areas(out, &l, s);
        if ((s->overlays & PV_OV_FITS) && s->dl)
            draw_fits(out, &l, s);
        if (s->overlays & PV_OV_CUES)
            draw_cues(out, &l, s);
    }
    if (l.hh > 0) {
        if (sc)
            draw_hud(out, &l, s);
        else
            pv_fill(out, 0, l.hy, out->w, l.hh, C_STRIP);
    }
    if (l.sh > 0)
        draw_strip(out, &l, s);
    if (s->error)
        draw_error(out, &l, s);
    if (s->overlays & PV_OV_HELP)
        draw_help(out, &l, s);
    if (s->status) {
        int ts = text_scale(s);
        pv_label(out, l.vx + ui_px(s, 6), l.vy + l.vh - ui_px(s, 30), ts, s->status, C_TEXT,
                 C_PANEL);
    }
}
