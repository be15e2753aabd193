/* font.c: loading fonts with HarfBuzz (no FreeType) and the scene's font set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text_internal.h"

/* OpenType allows 16..16384 units per em; anything else is a broken head table. */
#define CK_UPEM_MIN 16
#define CK_UPEM_MAX 16384

/* Opens `path` as a font. On failure writes a short reason (no path) into `reason` and
 * returns NULL, so callers can phrase the message for their context (a plain load, or a
 * scene asset). */
static ck_font *font_open(const char *path, char *reason, size_t reason_size)
{
    ck_font *f = NULL;
    struct stat st;

    /* HarfBuzz only says "failed": probe the file first to give a useful reason. */
    if (!path || !path[0]) {
        snprintf(reason, reason_size, "empty path");
        return NULL;
    }
    if (stat(path, &st) != 0) {
        snprintf(reason, reason_size, "%s", strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(reason, reason_size, "not a regular file");
        return NULL;
    }

    f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(reason, reason_size, "out of memory");
        return NULL;
    }
    f->blob = hb_blob_create_from_file_or_fail(path);
    if (!f->blob) {
        snprintf(reason, reason_size, "cannot read the file");
        goto error;
    }
    if (hb_blob_get_length(f->blob) == 0) {
        snprintf(reason, reason_size, "empty file");
        goto error;
    }
    /* hb_face_create never fails: on garbage it gives an empty face with no glyphs, which
     * is how a file that is not a font shows up. */
    f->face = hb_face_create(f->blob, 0);
    if (hb_face_get_glyph_count(f->face) == 0) {
        snprintf(reason, reason_size, "not a font file (no glyphs)");
        goto error;
    }
    f->upem = hb_face_get_upem(f->face);
    if (f->upem < CK_UPEM_MIN || f->upem > CK_UPEM_MAX) {
        snprintf(reason, reason_size, "invalid units per em (%u)", f->upem);
        goto error;
    }
    /* Built-in OpenType functions (the default) at a scale of one unit per font unit. */
    f->hb = hb_font_create(f->face);
    hb_font_set_scale(f->hb, (int)f->upem, (int)f->upem);
    hb_font_make_immutable(f->hb);

    hb_font_extents_t ext;
    if (hb_font_get_h_extents(f->hb, &ext) && ext.ascender > 0) {
        f->ascender = ext.ascender;
        f->descender = ext.descender < 0 ? ext.descender : 0;
        f->line_gap = ext.line_gap > 0 ? ext.line_gap : 0;
    } else {
        /* No usable hhea/OS2 metrics: the usual 80/20 split keeps layout sane. */
        f->ascender = (int32_t)(f->upem * 4 / 5);
        f->descender = -(int32_t)(f->upem / 5);
        f->line_gap = 0;
    }
    return f;

error:
    ck_font_destroy(&f);
    return NULL;
}

ck_font *ck_font_load(const char *path, ck_error *err)
{
    char reason[256];
    ck_font *f = font_open(path, reason, sizeof reason);
    if (!f)
        ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot load font \"%s\": %s", path ? path : "",
                     reason);
    return f;
}

void ck_font_destroy(ck_font **font)
{
    if (!font || !*font)
        return;
    ck_font *f = *font;
    hb_font_destroy(f->hb);
    hb_face_destroy(f->face);
    hb_blob_destroy(f->blob);
    free(f);
    *font = NULL;
}

bool ck_font_has(const ck_font *font, uint32_t cp)
{
    hb_codepoint_t g = 0;
    return font && hb_font_get_nominal_glyph(font->hb, cp, &g) && g != 0;
}

const unsigned char *ck_font_data(const ck_font *font, size_t *size)
{
    unsigned int len = 0;
    const char *data = font ? hb_blob_get_data(font->blob, &len) : NULL;
    if (size)
        *size = data ? len : 0;
    return (const unsigned char *)data;
}

void ck_font_metrics(const ck_font *font, float size_px, float *ascender, float *descender,
                     float *line_gap)
{
    float k = font ? size_px / (float)font->upem : 0.0f;
    if (ascender)
        *ascender = font ? (float)font->ascender * k : 0.0f;
    if (descender)
        *descender = font ? (float)font->descender * k : 0.0f;
    if (line_gap)
        *line_gap = font ? (float)font->line_gap * k : 0.0f;
}

/* ---- the scene's fonts ---- */

ck_fontset *ck_fontset_create(const ck_scene *scene, ck_diags *diags)
{
    if (!scene)
        return NULL;
    ck_fontset *fs = calloc(1, sizeof *fs);
    if (!fs)
        goto nomem;
    if (scene->asset_count > 0) {
        fs->fonts = calloc((size_t)scene->asset_count, sizeof *fs->fonts);
        if (!fs->fonts)
            goto nomem;
    }
    fs->count = scene->asset_count;

    /* Report every font that fails, not just the first, as `ciak check` lists them all. */
    bool failed = false;
    for (int i = 0; i < scene->asset_count; i++) {
        const ck_asset *a = &scene->assets[i];
        if (a->kind != CK_ASSET_FONT)
            continue;
        char reason[256];
        fs->fonts[i] = font_open(a->path, reason, sizeof reason);
        if (!fs->fonts[i]) {
            ck_diag_add(diags, CK_SEV_ERROR, scene->file, a->pos.line, a->pos.col,
                        "assets.%s: cannot load font \"%s\": %s", a->id ? a->id : "?",
                        a->path ? a->path : "", reason);
            failed = true;
        }
    }
    if (failed)
        ck_fontset_destroy(&fs);
    return fs;

nomem:
    ck_diag_add(diags, CK_SEV_ERROR, scene->file, 0, 0, "out of memory loading fonts");
    ck_fontset_destroy(&fs);
    return NULL;
}

void ck_fontset_destroy(ck_fontset **fs)
{
    if (!fs || !*fs)
        return;
    for (int i = 0; i < (*fs)->count; i++)
        ck_font_destroy(&(*fs)->fonts[i]);
    free((*fs)->fonts);
    free(*fs);
    *fs = NULL;
}
