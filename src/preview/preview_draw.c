/* preview_draw.c: the few CPU drawing primitives the preview's overlays need.
 *
 * Overlays are drawn on the CPU, on a copy of the frame at window resolution, because they
 * are a handful of rectangles and short strings: a second pipeline on the GPU would cost
 * more code than it saves time, and the compositor's frame stays untouched for screenshots. */
#include "preview.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_easy_font.h>

bool pv_image_resize(pv_image *im, int w, int h)
{
    if (im->w == w && im->h == h && im->px)
        return true;
    uint8_t *px = realloc(im->px, (size_t)(w > 0 ? w : 1) * (h > 0 ? h : 1) * 4);
    if (!px)
        return false;
    im->px = px;
    im->w = w;
    im->h = h;
    return true;
}

void pv_image_free(pv_image *im)
{
    free(im->px);
    memset(im, 0, sizeof *im);
}

static inline void blend(uint8_t *d, pv_rgba c)
{
    if (c.a == 255) {
        d[0] = c.r;
        d[1] = c.g;
        d[2] = c.b;
    } else {
        unsigned a = c.a, na = 255 - a;
        d[0] = (uint8_t)((c.r * a + d[0] * na + 127) / 255);
        d[1] = (uint8_t)((c.g * a + d[1] * na + 127) / 255);
        d[2] = (uint8_t)((c.b * a + d[2] * na + 127) / 255);
    }
    d[3] = 255;
}

void pv_fill(pv_image *im, int x, int y, int w, int h, pv_rgba c)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > im->w ? im->w : x + w, y1 = y + h > im->h ? im->h : y + h;
    if (c.a == 0)
        return;
    for (int yy = y0; yy < y1; yy++) {
        uint8_t *d = im->px + ((size_t)yy * im->w + x0) * 4;
        for (int xx = x0; xx < x1; xx++, d += 4)
            blend(d, c);
    }
}

void pv_frame_rect(pv_image *im, int x, int y, int w, int h, int t, pv_rgba c)
{
    if (w <= 2 * t || h <= 2 * t) {
        pv_fill(im, x, y, w, h, c);
        return;
    }
    pv_fill(im, x, y, w, t, c);
    pv_fill(im, x, y + h - t, w, t, c);
    pv_fill(im, x, y + t, t, h - 2 * t, c);
    pv_fill(im, x + w - t, y + t, t, h - 2 * t, c);
}

/* A thick line as a run of small squares: crude, but only box outlines of rotated layers use
 * it and they are a few hundred px long. */
void pv_line(pv_image *im, float x0, float y0, float x1, float y1, float t, pv_rgba c)
{
    float dx = x1 - x0, dy = y1 - y0;
    float len = sqrtf(dx * dx + dy * dy);
    int steps = (int)ceilf(len) + 1;
    if (steps > 100000)
        return; /* a degenerate transform: not worth drawing */
    int it = (int)ceilf(t);
    if (fabsf(dx) < 0.5f || fabsf(dy) < 0.5f) { /* axis-aligned: one exact rectangle */
        int xa = (int)lroundf(fminf(x0, x1) - t / 2), ya = (int)lroundf(fminf(y0, y1) - t / 2);
        pv_fill(im, xa, ya, (int)lroundf(fabsf(dx)) + it, (int)lroundf(fabsf(dy)) + it, c);
        return;
    }
    /* Squares overlap along the line, so a translucent colour would blend unevenly:
     * slanted lines are drawn opaque. */
    c.a = 255;
    for (int i = 0; i < steps; i++) {
        float u = steps > 1 ? (float)i / (float)(steps - 1) : 0;
        int px = (int)lroundf(x0 + dx * u - t / 2), py = (int)lroundf(y0 + dy * u - t / 2);
        pv_fill(im, px, py, it, it, c);
    }
}

/* Folds UTF-8 to the printable ASCII stb_easy_font has. */
static void fold_ascii(const char *s, char *out, size_t size)
{
    static const char latin1[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTs"  /* U+00C0..U+00DF */
                                 "aaaaaaaceeeeiiiidnooooo/ouuuuyty"; /* U+00E0..U+00FF */
    size_t n = 0;
    const char *end = s + strlen(s);
    while (s < end && n + 4 < size) {
        int32_t cp = ck_utf8_next(&s, end);
        const char *rep = NULL;
        char one[2] = {0, 0};
        if (cp >= 32 && cp < 127)
            one[0] = (char)cp;
        else if (cp >= 0xC0 && cp <= 0xFF)
            one[0] = latin1[cp - 0xC0];
        else if (cp == 0x20AC)
            rep = "EUR";
        else if (cp == 0x2018 || cp == 0x2019)
            one[0] = '\'';
        else if (cp == 0x201C || cp == 0x201D || cp == 0xAB || cp == 0xBB)
            one[0] = '"';
        else if (cp == 0xA0 || cp == 0x202F || cp == '\t')
            one[0] = ' ';
        else if (cp == 0x2013 || cp == 0x2014)
            one[0] = '-';
        else
            one[0] = '?';
        if (!rep)
            rep = one;
        for (; *rep && n + 1 < size; rep++)
            out[n++] = *rep;
    }
    out[n] = 0;
}

int pv_text_width(const char *utf8, int scale)
{
    char buf[1024];
    fold_ascii(utf8, buf, sizeof buf);
    return stb_easy_font_width(buf) * scale;
}

int pv_text(pv_image *im, int x, int y, int scale, const char *utf8, pv_rgba c)
{
    char buf[1024];
    fold_ascii(utf8, buf, sizeof buf);
    /* 64 bytes per quad; a character is at most ~10 quads. */
    static float quads[1024 * 10 * 16];
    int n = stb_easy_font_print(0, 0, buf, NULL, quads, (int)sizeof quads);
    for (int q = 0; q < n; q++) {
        const float *v = quads + q * 16; /* 4 vertices of x, y, z, colour */
        float qx0 = v[0], qy0 = v[1], qx1 = v[8], qy1 = v[9];
        int x0 = x + (int)lroundf(qx0 * scale), y0 = y + (int)lroundf(qy0 * scale);
        int x1 = x + (int)lroundf(qx1 * scale), y1 = y + (int)lroundf(qy1 * scale);
        pv_fill(im, x0, y0, x1 - x0, y1 - y0, c);
    }
    return stb_easy_font_width(buf) * scale;
}

int pv_label(pv_image *im, int x, int y, int scale, const char *utf8, pv_rgba fg, pv_rgba bg)
{
    int pad = 2 * scale;
    int w = pv_text_width(utf8, scale) + 2 * pad;
    pv_fill(im, x, y, w, 10 * scale + 2 * pad, bg);
    pv_text(im, x + pad, y + pad + scale, scale, utf8, fg);
    return w;
}

void pv_blit_scaled(pv_image *dst, int dx, int dy, int dw, int dh, const uint8_t *src, int sw,
                    int sh, size_t stride)
{
    if (dw <= 0 || dh <= 0 || sw <= 0 || sh <= 0)
        return;
    if (dw == sw && dh == sh) { /* the compositor's pixels, untouched */
        for (int y = 0; y < dh; y++) {
            int yy = dy + y;
            if (yy < 0 || yy >= dst->h)
                continue;
            int x0 = dx < 0 ? -dx : 0, x1 = dx + dw > dst->w ? dst->w - dx : dw;
            if (x1 > x0)
                memcpy(dst->px + ((size_t)yy * dst->w + dx + x0) * 4,
                       src + (size_t)y * stride + (size_t)x0 * 4, (size_t)(x1 - x0) * 4);
        }
        return;
    }
    /* Bilinear, sampling at pixel centres; 16.16 fixed point weights. */
    float fx = (float)sw / dw, fy = (float)sh / dh;
    for (int y = 0; y < dh; y++) {
        int yy = dy + y;
        if (yy < 0 || yy >= dst->h)
            continue;
        float sy = (y + 0.5f) * fy - 0.5f;
        if (sy < 0)
            sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < sh ? y0 + 1 : y0;
        unsigned wy = (unsigned)((sy - y0) * 256);
        const uint8_t *r0 = src + (size_t)y0 * stride, *r1 = src + (size_t)y1 * stride;
        uint8_t *d = dst->px + (size_t)yy * dst->w * 4;
        for (int x = 0; x < dw; x++) {
            int xx = dx + x;
            if (xx < 0 || xx >= dst->w)
                continue;
            float sx = (x + 0.5f) * fx - 0.5f;
            if (sx < 0)
                sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < sw ? x0 + 1 : x0;
            unsigned wx = (unsigned)((sx - x0) * 256);
            for (int c = 0; c < 3; c++) {
                unsigned top = r0[x0 * 4 + c] * (256 - wx) + r0[x1 * 4 + c] * wx;
                unsigned bot = r1[x0 * 4 + c] * (256 - wx) + r1[x1 * 4 + c] * wx;
                d[xx * 4 + c] = (uint8_t)((top * (256 - wy) + bot * wy + 32768) >> 16);
            }
            d[xx * 4 + 3] = 255;
        }
    }
}
