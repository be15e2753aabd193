/* layout.c: shaping with HarfBuzz, per-character font fallback, line breaking and fitting.
 *
 * The text is shaped once, at no particular size: HarfBuzz fonts are scaled to units per em,
 * and every advance and offset is kept in em (font units / upem, as double). Layout at a
 * size is then a multiplication, so fitting can try many sizes without shaping again, and
 * the result depends only on the inputs (no hinting, no rounding to a pixel grid).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_internal.h"

/* Longer text is certainly a mistake (a record field pasted whole); refuse it early. */
#define CK_TEXT_MAX_BYTES (1u << 20)
/* Slack when comparing px extents with the box, so a size computed as box_w / width is not
 * refused for the last bit of rounding. */
#define CK_FIT_EPS_PX 1e-4
/* Binary search steps for CK_FIT_WRAP: 32 halvings of (size - min_size) is far below what a
 * float size can represent. */
#define CK_FIT_STEPS   32
#define CK_SIZE_MAX_PX 100000.0

/* One shaped glyph, size-independent. */
typedef struct shaped {
    uint32_t glyph;
    int32_t font;     /* asset index */
    uint32_t cluster; /* byte offset in the text */
    double adv;       /* em */
    double dx, dy;    /* em, HarfBuzz offsets (y up) */
    bool space;       /* a break opportunity (U+0020) */
} shaped;

/* Glyph range of one paragraph (text between '\n'). */
typedef struct para {
    size_t first, end;
} para;

typedef struct line {
    size_t first, end; /* glyphs, trailing spaces excluded */
    double width;      /* em */
} line;

typedef struct shaping {
    shaped *g;
    size_t count, cap;
    para *paras;
    size_t para_count;
    int missing;
    uint32_t first_missing;
} shaping;

typedef struct lay {
    const shaping *sh;
    double asc, desc, lh; /* em: main font's ascender (> 0), descender (< 0), line advance */
    double box_w, box_h;  /* px, 0 = unbounded */
    bool wrap;
    size_t max_lines; /* wrap only: explicit '\n' lines always allowed */
    line *lines;      /* capacity: glyph count + paragraph count */
    size_t nlines;
    double maxw; /* em, widest line */
} lay;

/* ---- shaping ---- */

/* Characters that modify the one before them (combining accents, ZWJ, variation selectors). */
static bool attaches(uint32_t cp)
{
    switch (hb_unicode_general_category(hb_unicode_funcs_get_default(), cp)) {
    case HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK:
    case HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK:
    case HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK:
    case HB_UNICODE_GENERAL_CATEGORY_FORMAT:
        return true;
    default:
        return false;
    }
}

/* The fallback rule: the main font if it has the character, else the fallback font if it
 * has it, else the main font (its .notdef, counted as missing). A mark stays with the font of
 * the character it modifies when that font can show it (directly or composed, e.g. "o" +
 * U+0300 -> "ò"), so one accented letter is never split across two fonts. */
static int pick_font(const ck_fontset *fs, int main_font, int fallback, uint32_t cp,
                     uint32_t prev_cp, int prev_font)
{
    const ck_font *mf = fs->fonts[main_font];
    const ck_font *ff = fallback >= 0 ? fs->fonts[fallback] : NULL;
    if (prev_font >= 0 && attaches(cp)) {
        const ck_font *pf = fs->fonts[prev_font];
        hb_codepoint_t composed = 0;
        if (ck_font_has(pf, cp) ||
            (hb_unicode_compose(hb_unicode_funcs_get_default(), prev_cp, cp, &composed) &&
             ck_font_has(pf, composed)) ||
            (!ck_font_has(mf, cp) && !ck_font_has(ff, cp)))
            return prev_font;
    }
    if (ck_font_has(mf, cp))
        return main_font;
    if (ff && ck_font_has(ff, cp))
        return fallback;
    return main_font;
}

static ck_status shaping_reserve(shaping *sh, size_t extra)
{
    if (sh->count + extra <= sh->cap)
        return CK_OK;
    size_t cap = sh->cap ? sh->cap : 64;
    while (cap < sh->count + extra)
        cap *= 2;
    shaped *g = realloc(sh->g, cap * sizeof *g);
    if (!g)
        return CK_ERR_NOMEM;
    sh->g = g;
    sh->cap = cap;
    return CK_OK;
}

/* Shapes text[start, end) with one font and appends the glyphs. The whole text is given to
 * HarfBuzz as context, so clusters are byte offsets into it. */
static ck_status shape_run(const ck_fontset *fs, int font, hb_buffer_t *buf, const char *text,
                           size_t len, size_t start, size_t end, shaping *sh)
{
    const ck_font *f = fs->fonts[font];

    hb_buffer_clear_contents(buf);
    hb_buffer_set_direction(buf, HB_DIRECTION_LTR);
    hb_buffer_set_language(buf, hb_language_from_string("it", -1));
    hb_buffer_add_utf8(buf, text, (int)len, (unsigned int)start, (int)(end - start));
    /* The run's own script (Greek, Cyrillic from the fallback font); Latin when it has only
     * common characters (digits, punctuation, spaces). */
    hb_buffer_guess_segment_properties(buf);
    hb_script_t script = hb_buffer_get_script(buf);
    if (script == HB_SCRIPT_INVALID || script == HB_SCRIPT_COMMON ||
        script == HB_SCRIPT_INHERITED || script == HB_SCRIPT_UNKNOWN)
        hb_buffer_set_script(buf, HB_SCRIPT_LATIN);
    hb_shape(f->hb, buf, NULL, 0);
    if (!hb_buffer_allocation_successful(buf))
        return CK_ERR_NOMEM;

    unsigned int n = 0;
    const hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &n);
    const hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(buf, NULL);
    if (shaping_reserve(sh, n) != CK_OK)
        return CK_ERR_NOMEM;

    double upem = (double)f->upem;
    uint32_t last_missing_cluster = 0;
    bool had_missing = false;
    for (unsigned int i = 0; i < n; i++) {
        shaped *g = &sh->g[sh->count++];
        g->glyph = info[i].codepoint;
        g->font = font;
        g->cluster = info[i].cluster;
        g->adv = pos[i].x_advance / upem;
        g->dx = pos[i].x_offset / upem;
        g->dy = pos[i].y_offset / upem;
        g->space = g->cluster < len && text[g->cluster] == ' ';
        /* .notdef after shaping is a character no font could show; a cluster is counted
         * once even when it makes several .notdef glyphs. */
        if (g->glyph == 0 && !(had_missing && g->cluster == last_missing_cluster)) {
            had_missing = true;
            last_missing_cluster = g->cluster;
            if (sh->missing++ == 0) {
                const char *s = text + g->cluster;
                int32_t cp = ck_utf8_next(&s, text + len);
                sh->first_missing = cp >= 0 ? (uint32_t)cp : 0xFFFDu;
            }
        }
    }
    return CK_OK;
}

/* Shapes every paragraph of `text` (already validated, controls turned into spaces). */
static ck_status shape_text(const ck_fontset *fs, int main_font, int fallback, const char *text,
                            size_t len, shaping *sh)
{
    ck_status st = CK_OK;
    hb_buffer_t *buf = NULL;

    if (len == 0)
        return CK_OK; /* no paragraphs, no lines */
    size_t paras = 1;
    for (size_t i = 0; i < len; i++)
        paras += text[i] == '\n';
    sh->paras = calloc(paras, sizeof *sh->paras);
    buf = hb_buffer_create();
    if (!sh->paras || !hb_buffer_allocation_successful(buf)) {
        st = CK_ERR_NOMEM;
        goto error;
    }

    size_t ps = 0;
    for (size_t k = 0; k < paras; k++) {
        const char *nl = memchr(text + ps, '\n', len - ps);
        size_t pe = nl ? (size_t)(nl - text) : len;
        para *pa = &sh->paras[sh->para_count++];
        pa->first = sh->count;

        /* Split the paragraph into runs of one font each and shape them in order. */
        const char *s = text + ps, *end = text + pe;
        size_t run_start = ps;
        int run_font = -1;
        uint32_t prev_cp = 0;
        while (s < end) {
            size_t at = (size_t)(s - text);
            int32_t cp = ck_utf8_next(&s, end);
            uint32_t c = cp >= 0 ? (uint32_t)cp : 0xFFFDu;
            int font = pick_font(fs, main_font, fallback, c, prev_cp, run_font);
            if (run_font >= 0 && font != run_font) {
                st = shape_run(fs, run_font, buf, text, len, run_start, at, sh);
                if (st != CK_OK)
                    goto error;
                run_start = at;
            }
            run_font = font;
            prev_cp = c;
        }
        if (run_font >= 0) {
            st = shape_run(fs, run_font, buf, text, len, run_start, pe, sh);
            if (st != CK_OK)
                goto error;
        }
        pa->end = sh->count;
        ps = pe + 1;
    }

error:
    hb_buffer_destroy(buf);
    return st;
}

/* ---- line breaking and fitting ---- */

static void emit_line(lay *L, size_t first, size_t end, double width)
{
    line *ln = &L->lines[L->nlines++];
    ln->first = first;
    ln->end = end;
    ln->width = width;
    if (width > L->maxw)
        L->maxw = width;
}

/* Breaks every paragraph into lines at `size` px: greedy, at spaces, only when wrapping and
 * the box has a width. A word wider than the box stays whole on its own line (fitting then
 * shrinks the text). Spaces at a wrap point are dropped; trailing spaces never count. */
static void lay_break(lay *L, double size)
{
    const shaping *sh = L->sh;
    bool wrap = L->wrap && L->box_w > 0;
    L->nlines = 0;
    L->maxw = 0;
    for (size_t k = 0; k < sh->para_count; k++) {
        const para *pa = &sh->paras[k];
        size_t i = pa->first, line_start = pa->first, content_end = pa->first;
        double pen = 0, line_w = 0;
        bool has_word = false;
        while (i < pa->end) {
            bool sp = sh->g[i].space;
            size_t j = i;
            double w = 0;
            while (j < pa->end && sh->g[j].space == sp)
                w += sh->g[j++].adv;
            if (!sp) {
                if (wrap && has_word && (pen + w) * size > L->box_w + CK_FIT_EPS_PX) {
                    emit_line(L, line_start, content_end, line_w);
                    line_start = i;
                    pen = 0;
                }
                pen += w;
                line_w = pen;
                content_end = j;
                has_word = true;
            } else {
                pen += w;
            }
            i = j;
        }
        emit_line(L, line_start, has_word ? content_end : line_start, line_w);
    }
}

/* Height of the text block in em: first baseline at the ascender, last line down to the
 * descender, line_height between baselines. */
static double lay_height(const lay *L)
{
    return L->nlines ? L->asc - L->desc + (double)(L->nlines - 1) * L->lh : 0.0;
}

static bool lay_fits(const lay *L, double size)
{
    if (L->wrap && L->nlines > L->max_lines)
        return false;
    if (L->box_w > 0 && L->maxw * size > L->box_w + CK_FIT_EPS_PX)
        return false;
    if (L->box_h > 0 && lay_height(L) * size > L->box_h + CK_FIT_EPS_PX)
        return false;
    return true;
}

static bool lay_try(lay *L, double size)
{
    lay_break(L, size);
    return lay_fits(L, size);
}

/* Picks the size for the fit mode and leaves L broken into lines at that size. */
static double lay_fit(lay *L, ck_fit fit, double size, double min_size, bool *fits)
{
    double s = size;
    switch (fit) {
    case CK_FIT_NONE:
        break;
    case CK_FIT_SHRINK: {
        /* Without wrapping the extents are linear in the size: solve for it directly. */
        lay_break(L, size);
        double h = lay_height(L);
        if (L->box_w > 0 && L->maxw > 0 && L->box_w / L->maxw < s)
            s = L->box_w / L->maxw;
        if (L->box_h > 0 && h > 0 && L->box_h / h < s)
            s = L->box_h / h;
        if (s < min_size)
            s = min_size;
        break;
    }
    case CK_FIT_WRAP:
        /* Fitting is monotonic in the size (a smaller size wraps into no more lines, each no
         * wider relative to the box), so a binary search finds the largest size that fits;
         * the same inputs always take the same steps. */
        if (lay_try(L, size))
            break;
        if (!lay_try(L, min_size)) {
            s = min_size;
            break;
        }
        double lo = min_size, hi = size;
        for (int k = 0; k < CK_FIT_STEPS; k++) {
            double mid = lo + (hi - lo) * 0.5;
            if (lay_try(L, mid))
                lo = mid;
            else
                hi = mid;
        }
        /* Report a size a float can hold exactly, never above one that fits. */
        float f = (float)lo;
        if ((double)f > lo)
            f = nextafterf(f, 0.0f);
        s = f;
        break;
    }
    s = (double)(float)s;
    *fits = lay_try(L, s);
    return s;
}

/* ---- the public entry point ---- */

static bool bad_float(float v)
{
    return !isfinite(v) || v < 0;
}

ck_status ck_text_layout(const ck_fontset *fs, const ck_layout_params *p, ck_arena *arena,
                         ck_layout *out, ck_error *err)
{
    ck_status st = CK_OK;
    char *text = NULL;
    shaping sh = {0};
    lay L = {0};

    if (out)
        memset(out, 0, sizeof *out);
    if (!fs || !p || !arena || !out)
        return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "text layout: missing argument");
    if (p->font < 0 || p->font >= fs->count || !fs->fonts[p->font])
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: asset %d is not a loaded font", p->font);
    int fallback = p->fallback_font;
    if (fallback != -1 && (fallback < 0 || fallback >= fs->count || !fs->fonts[fallback]))
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: fallback asset %d is not a loaded font", fallback);
    if (fallback == p->font)
        fallback = -1;
    if (!isfinite(p->size) || p->size <= 0 || p->size > CK_SIZE_MAX_PX)
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: size %g px is out of range (0, %g]", (double)p->size,
                            CK_SIZE_MAX_PX);
    if (bad_float(p->min_size) || bad_float(p->line_height) || bad_float(p->box_w) ||
        bad_float(p->box_h))
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: min_size, line_height and box must be >= 0");
    if (p->max_lines < 0 || (unsigned)p->fit > (unsigned)CK_FIT_WRAP ||
        (unsigned)p->align > (unsigned)CK_ALIGN_END || (unsigned)p->valign > (unsigned)CK_ALIGN_END)
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: invalid fit, alignment or max_lines");

    const char *src = p->text ? p->text : "";
    size_t len = strlen(src);
    if (len > CK_TEXT_MAX_BYTES)
        return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0,
                            "text layout: text is %zu bytes, limit %u", len, CK_TEXT_MAX_BYTES);
    if (!ck_utf8_valid(src, len)) {
        const char *s = src;
        while (s < src + len) {
            const char *at = s;
            if (ck_utf8_next(&s, src + len) < 0) {
                s = at;
                break;
            }
        }
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "text layout: invalid UTF-8 in text at byte %zu", (size_t)(s - src));
    }

    /* Control characters (tabs, a '\r' before '\n') have no glyph in most fonts: lay them
     * out as spaces rather than as .notdef boxes. Same length, so clusters still index the
     * caller's text. */
    text = malloc(len + 1);
    if (!text) {
        st = CK_ERR_NOMEM;
        goto error;
    }
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)src[i];
        text[i] = (c < 0x20 && c != '\n' && c != 0) || c == 0x7F ? ' ' : (char)c;
    }

    st = shape_text(fs, p->font, fallback, text, len, &sh);
    if (st != CK_OK)
        goto error;

    const ck_font *mf = fs->fonts[p->font];
    double size = p->size;
    double min_size = p->min_size > 0 ? p->min_size : size * 0.5;
    if (min_size > size)
        min_size = size;
    L.sh = &sh;
    L.asc = mf->ascender / (double)mf->upem;
    L.desc = mf->descender / (double)mf->upem;
    L.lh = p->line_height > 0 ? p->line_height : 1.2;
    L.box_w = p->box_w;
    L.box_h = p->box_h;
    L.wrap = p->fit == CK_FIT_WRAP;
    /* max_lines limits wrapping; lines the text asks for with '\n' are always honoured,
     * since no size could remove them. */
    L.max_lines = p->max_lines > 0 ? (size_t)p->max_lines : 2;
    if (L.max_lines < sh.para_count)
        L.max_lines = sh.para_count;
    L.lines = malloc((sh.count + sh.para_count + 1) * sizeof *L.lines);
    if (!L.lines) {
        st = CK_ERR_NOMEM;
        goto error;
    }

    bool fits = true;
    double s = lay_fit(&L, p->fit, size, min_size, &fits);

    /* Place the lines. */
    size_t count = 0;
    for (size_t k = 0; k < L.nlines; k++)
        count += L.lines[k].end - L.lines[k].first;
    ck_glyph *glyphs = NULL;
    if (count) {
        glyphs = ck_arena_alloc(arena, count * sizeof *glyphs);
        if (!glyphs) {
            st = CK_ERR_NOMEM;
            goto error;
        }
    }
    double width = L.maxw * s, height = lay_height(&L) * s;
    double ref_w = L.box_w > 0 ? L.box_w : width;
    double top = 0;
    if (L.box_h > 0 && p->valign == CK_ALIGN_CENTER)
        top = (L.box_h - height) * 0.5;
    else if (L.box_h > 0 && p->valign == CK_ALIGN_END)
        top = L.box_h - height;
    size_t n = 0;
    /* Ink: the union of the glyphs' drawn extents (HarfBuzz, font units), box-local px. */
    double ink[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (size_t k = 0; k < L.nlines; k++) {
        const line *ln = &L.lines[k];
        double lw = ln->width * s;
        double x0 = 0;
        if (p->align == CK_ALIGN_CENTER)
            x0 = (ref_w - lw) * 0.5;
        else if (p->align == CK_ALIGN_END)
            x0 = ref_w - lw;
        double baseline = top + (L.asc + (double)k * L.lh) * s;
        double pen = 0;
        for (size_t i = ln->first; i < ln->end; i++) {
            const shaped *g = &sh.g[i];
            ck_glyph *o = &glyphs[n++];
            o->glyph = g->glyph;
            o->font = g->font;
            o->x = (float)(x0 + (pen + g->dx) * s);
            o->y = (float)(baseline - g->dy * s);
            o->cluster = g->cluster;
            pen += g->adv;
            const ck_font *gf = fs->fonts[g->font];
            hb_glyph_extents_t ge;
            if (gf && hb_font_get_glyph_extents(gf->hb, g->glyph, &ge) && ge.width && ge.height) {
                double u = s / gf->upem;
                double gx0 = o->x + ge.x_bearing * u, gx1 = gx0 + ge.width * u;
                double gy0 = o->y - ge.y_bearing * u, gy1 = gy0 - ge.height * u;
                ink[0] = fmin(ink[0], fmin(gx0, gx1));
                ink[2] = fmax(ink[2], fmax(gx0, gx1));
                ink[1] = fmin(ink[1], fmin(gy0, gy1));
                ink[3] = fmax(ink[3], fmax(gy0, gy1));
            }
        }
    }

    out->glyphs = glyphs;
    out->glyph_count = count;
    out->size = (float)s;
    out->lines = (int)L.nlines;
    out->width = (float)width;
    out->height = (float)height;
    out->left = (float)(p->align == CK_ALIGN_CENTER ? (ref_w - width) * 0.5
                        : p->align == CK_ALIGN_END  ? ref_w - width
                                                    : 0.0);
    out->top = (float)top;
    bool inked = ink[0] <= ink[2];
    for (int k = 0; k < 4; k++)
        out->ink[k] = inked ? (float)ink[k] : 0.0f;
    out->fits = fits;
    out->shrunk = s < size;
    out->wrapped = L.nlines > sh.para_count;
    out->missing = sh.missing;
    out->first_missing = sh.first_missing;

error:
    if (st == CK_ERR_NOMEM)
        ck_error_set(err, st, NULL, 0, 0, "text layout: out of memory");
    free(L.lines);
    free(sh.g);
    free(sh.paras);
    free(text);
    return st;
}
