/* digest.c: segment digests. BLAKE2b-256 (libsodium's generichash) over a canonical encoding
 * of the draw lists: every field that changes pixels, in a fixed order, little-endian, floats
 * by bit pattern. Struct bytes are never hashed as a block, so padding and fields that do not
 * draw anything (dependency masks, glyph clusters) cannot make equal frames differ. */
#include "ck_segment.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((ck_digest *)0)->opaque),
               "ck_digest too small for libsodium's state");

static crypto_generichash_state *state(ck_digest *d)
{
    return (crypto_generichash_state *)(void *)d->opaque;
}

void ck_digest_init(ck_digest *d)
{
    /* Picks the fastest BLAKE2b code for this CPU; idempotent and thread-safe after the first
     * call (every implementation gives the same result). */
    if (sodium_init() < 0)
        ck_log(CK_LOG_DEBUG, "libsodium: init failed, using the portable BLAKE2b");
    crypto_generichash_init(state(d), NULL, 0, CK_DIGEST_BYTES);
}

void ck_digest_update(ck_digest *d, const void *data, size_t len)
{
    if (len)
        crypto_generichash_update(state(d), data, len);
}

void ck_digest_i64(ck_digest *d, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    ck_digest_update(d, b, sizeof b);
}

void ck_digest_str(ck_digest *d, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    ck_digest_i64(d, (int64_t)n);
    ck_digest_update(d, s, n);
}

static void h_f32(ck_digest *d, float f)
{
    uint32_t u;
    if (f == 0.0f)
        f = 0.0f; /* -0 and +0 draw the same */
    memcpy(&u, &f, sizeof u);
    ck_digest_i64(d, u);
}

static void h_f64(ck_digest *d, double f)
{
    int64_t u;
    if (f == 0.0)
        f = 0.0;
    memcpy(&u, &f, sizeof u);
    ck_digest_i64(d, u);
}

static void h_color(ck_digest *d, ck_color c)
{
    h_f32(d, c.r);
    h_f32(d, c.g);
    h_f32(d, c.b);
    h_f32(d, c.a);
}

/* ---- one entry per draw kind: what of its own fields a segment's bytes depend on ---- */
typedef void (*digest_draw_fn)(ck_digest *d, const ck_drawlist *dl, const ck_draw *it);

static void digest_rect(ck_digest *d, const ck_drawlist *dl, const ck_draw *it)
{
    (void)dl;
    const ck_shape_props *p = &it->u.rect.p;
    h_f32(d, p->radius);
    h_color(d, p->fill);
    ck_digest_i64(d, p->gradient);
    h_color(d, p->fill2);
    h_f32(d, p->gradient_angle);
    h_color(d, p->stroke);
    h_f32(d, p->stroke_width);
}

static void digest_image(ck_digest *d, const ck_drawlist *dl, const ck_draw *it)
{
    (void)dl;
    ck_digest_i64(d, it->u.image.asset);
}

static void digest_video(ck_digest *d, const ck_drawlist *dl, const ck_draw *it)
{
    (void)dl;
    ck_digest_i64(d, it->u.video.asset);
    h_f64(d, it->u.video.source_time);
    ck_digest_i64(d, it->u.video.loop);
}

static void digest_text(ck_digest *d, const ck_drawlist *dl, const ck_draw *it)
{
    const __typeof__(it->u.text) *t = &it->u.text;
    h_f32(d, t->size);
    h_color(d, t->color);
    h_f32(d, t->outline_width);
    h_color(d, t->outline_color);
    h_f32(d, t->shadow_dx);
    h_f32(d, t->shadow_dy);
    h_f32(d, t->shadow_blur);
    h_color(d, t->shadow_color);
    ck_digest_i64(d, t->glyph_count);
    for (uint32_t g = 0; g < t->glyph_count && t->glyph_first + g < dl->glyph_count; g++) {
        const ck_glyph *gl = &dl->glyphs[t->glyph_first + g];
        ck_digest_i64(d, gl->glyph);
        ck_digest_i64(d, gl->font);
        h_f32(d, gl->x);
        h_f32(d, gl->y);
    }
}

static const digest_draw_fn digest_kinds[] = {
    [CK_DRAW_RECT] = digest_rect,
    [CK_DRAW_IMAGE] = digest_image,
    [CK_DRAW_VIDEO] = digest_video,
    [CK_DRAW_TEXT] = digest_text,
};
_Static_assert(CK_ARRAY_LEN(digest_kinds) == CK_DRAW_KIND_COUNT, "one entry per draw kind");

void ck_digest_drawlist(ck_digest *d, const ck_drawlist *dl)
{
    ck_digest_i64(d, dl->frame);
    ck_digest_i64(d, dl->width);
    ck_digest_i64(d, dl->height);
    h_color(d, dl->background);
    ck_digest_i64(d, (int64_t)dl->count);
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *it = &dl->items[i];
        ck_digest_i64(d, it->kind);
        const float xf[6] = {it->xf.a, it->xf.b, it->xf.c, it->xf.d, it->xf.tx, it->xf.ty};
        for (int k = 0; k < 6; k++)
            h_f32(d, xf[k]);
        h_f32(d, it->w);
        h_f32(d, it->h);
        h_f32(d, it->opacity);
        if ((unsigned)it->kind < CK_DRAW_KIND_COUNT)
            digest_kinds[it->kind](d, dl, it);
    }
}

void ck_digest_final(ck_digest *d, char hex[CK_DIGEST_HEX])
{
    unsigned char out[CK_DIGEST_BYTES];
    crypto_generichash_final(state(d), out, sizeof out);
    sodium_bin2hex(hex, CK_DIGEST_HEX, out, sizeof out);
}

ck_status ck_digest_file(const char *path, char hex[CK_DIGEST_HEX], ck_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    ck_digest d;
    ck_digest_init(&d);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ck_digest_update(&d, buf, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad)
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "read error");
    ck_digest_final(&d, hex);
    return CK_OK;
}

ck_status ck_segment_digest(ck_timeline *tl, const ck_segment *seg, const char *salt,
                            ck_arena *frame_arena, char hex[CK_DIGEST_HEX], ck_error *err)
{
    ck_digest d;
    ck_digest_init(&d);
    ck_digest_str(&d, salt);
    ck_digest_i64(&d, seg->first_frame);
    ck_digest_i64(&d, seg->frame_count);
    for (int64_t f = seg->first_frame; f < seg->first_frame + seg->frame_count; f++) {
        ck_arena_reset(frame_arena);
        ck_drawlist dl;
        ck_status st = ck_timeline_eval(tl, f, frame_arena, &dl, err);
        if (st != CK_OK)
            return st;
        ck_digest_drawlist(&d, &dl);
    }
    ck_digest_final(&d, hex);
    return CK_OK;
}
