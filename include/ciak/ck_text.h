/* ck_text.h: fonts, shaping and text layout, on the CPU, with HarfBuzz.
 *
 * A ck_fontset holds the scene's fonts (loaded once per scene), indexed by the scene's
 * asset index, so a glyph names its font by asset index. Layout shapes UTF-8 text with
 * HarfBuzz (kerning, ligatures, accents such as "Nicolò", apostrophes such as "D'Angelo"),
 * falls back per character to the fallback font for code points the main font lacks, breaks
 * lines at spaces, and fits the text to its box:
 *   CK_FIT_NONE    one line per '\n', never resized (may overflow: fits = false)
 *   CK_FIT_SHRINK  one line per '\n', scaled down until it fits, not below min_size
 *   CK_FIT_WRAP    wrapped at spaces to at most max_lines, then scaled down to min_size
 * Glyph positions are in box-local pixels: x from the box's left edge to the glyph origin,
 * y from the box's top edge to the baseline (y grows downwards, like the canvas).
 *
 * Glyph ids are the font's own glyph indices (what stb_truetype calls glyph index), so the
 * GPU side can rasterise the same glyph from the same file.
 *
 * Ownership: layouts are written into the caller's arena. Thread safety: a fontset may be
 * used for layout from one thread at a time (HarfBuzz buffers are per call, fonts shared).
 */
#ifndef CK_TEXT_H
#define CK_TEXT_H

#include "ck_scene.h"

typedef struct ck_font ck_font;

ck_font *ck_font_load(const char *path, ck_error *err);
void ck_font_destroy(ck_font **font);
/* True if the font maps code point `cp` to a glyph. */
bool ck_font_has(const ck_font *font, uint32_t cp);
/* Font file bytes (for the GPU rasteriser) and size. */
const unsigned char *ck_font_data(const ck_font *font, size_t *size);
/* Font metrics at `size_px`: ascender (positive), descender (negative), line gap. */
void ck_font_metrics(const ck_font *font, float size_px, float *ascender, float *descender,
                     float *line_gap);

/* The fonts of a scene, by asset index (NULL for assets that are not fonts). */
typedef struct ck_fontset {
    ck_font **fonts;
    int count;
} ck_fontset;

/* Loads every font asset of the scene. Errors (missing or corrupt file) name the asset. */
ck_fontset *ck_fontset_create(const ck_scene *scene, ck_diags *diags);
void ck_fontset_destroy(ck_fontset **fs);

typedef struct ck_glyph {
    uint32_t glyph;   /* glyph index in its font */
    int32_t font;     /* asset index of the font */
    float x, y;       /* box-local px: origin on the baseline */
    uint32_t cluster; /* byte offset of the source character in the text */
} ck_glyph;

typedef struct ck_layout_params {
    const char *text;   /* UTF-8; '\n' forces a line break */
    int font;           /* asset index */
    int fallback_font;  /* asset index, -1 = none */
    float size;         /* px */
    float min_size;     /* px (0 = size * 0.5) */
    float line_height;  /* multiple of size (0 = 1.2) */
    float box_w, box_h; /* px; 0 = unbounded in that direction */
    ck_fit fit;
    int max_lines; /* wrap (0 = 2) */
    ck_align align, valign;
} ck_layout_params;

typedef struct ck_layout {
    ck_glyph *glyphs; /* in the caller's arena */
    size_t glyph_count;
    float size; /* font size actually used, px */
    int lines;
    float width, height;    /* extent of the laid-out text, px: the widest line, and from the
                               first line's ascender to the last line's descender */
    float left, top;        /* box-local px of that extent's top-left corner (by align, valign;
                               negative or past the box when the text overflows it) */
    float ink[4];           /* box-local px of the glyphs' drawn pixels: x0, y0, x1, y1 (all 0
                               when nothing is drawn) */
    bool fits;              /* false: overflows its box even at min_size */
    bool shrunk;            /* size < requested size */
    bool wrapped;           /* more lines than explicit '\n' would give */
    int missing;            /* characters no font has (drawn as the main font's .notdef) */
    uint32_t first_missing; /* the first such code point */
} ck_layout;

/* Lays out `p->text`. Fails only for invalid parameters (bad font index, invalid UTF-8). */
ck_status ck_text_layout(const ck_fontset *fs, const ck_layout_params *p, ck_arena *arena,
                         ck_layout *out, ck_error *err);

#endif
