/* test_gpu_host.c: the host's share of the YUV path on CPU devices (engine/gpu/gpu_host.c)
 * gives exactly the bytes of its plain arithmetic, whatever cheap path it takes.
 *
 * Shared segments must be byte-identical whoever renders them, so the tables reused across
 * rows, the copy for tables that map every byte to itself, the SSE2 table fill and the
 * tables for uniform translucent overlay blocks may not change one byte. The reference here is
 * the arithmetic as gpu_host.c had it before those paths (one evaluation per sample, clamp
 * first), run on frames and overlays that take every path: no shade, solid and gradient
 * shades, opacity below 1, NV12 and YUV420P video, transparent, opaque, translucent uniform
 * and mixed overlay blocks. No device needed. */
#include "../engine/gpu/gpu_internal.h"
#include "ck_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reference: gpu_host.c's arithmetic, sample by sample ---- */
static uint8_t ref_byte(float v)
{
    v += 0.5f;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static float ref_param(const gpu_yuv_bg *k, int y)
{
    float t = k->tcoef[0] + k->tcoef[2] * (float)y;
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

static uint8_t ref_luma(const gpu_yuv_bg *k, float t, uint8_t y)
{
    float v = k->base[3] * ((float)y - 16.0f) + k->base[0];
    return ref_byte(16.0f + k->ky[0] + k->ky[1] * t + (k->ky[2] + k->ky[3] * t) * v);
}

static uint8_t ref_chroma(const gpu_yuv_bg *k, float t, int c, uint8_t s)
{
    float keep = k->ky[2] + k->ky[3] * t;
    float v = k->base[3] * ((float)s - 128.0f) + k->base[1 + c];
    return ref_byte(128.0f + k->kc[2 * c] + k->kc[2 * c + 1] * t + keep * v);
}

static void ref_bg(const gpu_yuv_bg *k, const ck_gpu_video_frame *v, uint8_t *y_out,
                   size_t y_stride, uint8_t *uv_out, size_t uv_stride)
{
    for (int y = 0; y < v->height; y++)
        for (int x = 0; x < v->width; x++)
            y_out[y_stride * y + x] =
                ref_luma(k, ref_param(k, y), v->planes[0][(size_t)v->strides[0] * y + x]);
    bool nv12 = v->format == CK_GPU_PIX_NV12;
    for (int y = 0; y < v->height / 2; y++) {
        float t = 0.5f * (ref_param(k, 2 * y) + ref_param(k, 2 * y + 1));
        for (int x = 0; x < v->width / 2; x++) {
            const uint8_t *u = v->planes[1] + (size_t)v->strides[1] * y;
            uint8_t su = nv12 ? u[2 * x] : u[x];
            uint8_t sv = nv12 ? u[2 * x + 1] : v->planes[2][(size_t)v->strides[2] * y + x];
            uv_out[uv_stride * y + 2 * x] = ref_chroma(k, t, 0, su);
            uv_out[uv_stride * y + 2 * x + 1] = ref_chroma(k, t, 1, sv);
        }
    }
}

#define KY_R   (219.0f * 0.2126f / 255.0f)
#define KY_G   (219.0f * 0.7152f / 255.0f)
#define KY_B   (219.0f * 0.0722f / 255.0f)
#define INV255 (1.0f / 255.0f)

static void ref_over_luma(const uint8_t *o, uint8_t *y)
{
    float keep = 1.0f - (float)o[3] * INV255;
    *y = ref_byte(16.0f + KY_R * o[0] + KY_G * o[1] + KY_B * o[2] + keep * ((float)*y - 16.0f));
}

static void ref_over_chroma(const uint8_t *o0, const uint8_t *o1, uint8_t *uv)
{
    const float q = 0.25f * INV255;
    float r = q * (float)(o0[0] + o0[4] + o1[0] + o1[4]);
    float g = q * (float)(o0[1] + o0[5] + o1[1] + o1[5]);
    float b = q * (float)(o0[2] + o0[6] + o1[2] + o1[6]);
    float keep = 1.0f - q * (float)(o0[3] + o0[7] + o1[3] + o1[7]);
    float l = 0.2126f * r + 0.7152f * g + 0.0722f * b;
    uv[0] = ref_byte(128.0f + (224.0f / 1.8556f) * (b - l) + keep * ((float)uv[0] - 128.0f));
    uv[1] = ref_byte(128.0f + (224.0f / 1.5748f) * (r - l) + keep * ((float)uv[1] - 128.0f));
}

/* Every block blended (transparent ones too: "over" a transparent pixel keeps the byte). */
static void ref_over(const uint8_t *tiles, const uint32_t *list, uint32_t count, int width,
                     int height, uint8_t *y_out, size_t y_stride, uint8_t *uv_out, size_t uv_stride)
{
    const size_t row = GPU_TILE_W * 4;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *tile = tiles + (size_t)i * GPU_TILE_W * GPU_TILE_H * 4;
        int x0 = (int)(list[i] & 0xffffu) * GPU_TILE_W, y0 = (int)(list[i] >> 16) * GPU_TILE_H;
        for (int r = 0; r + 1 < GPU_TILE_H && y0 + r + 1 < height; r += 2)
            for (int c = 0; c + 1 < GPU_TILE_W && x0 + c + 1 < width; c += 2) {
                const uint8_t *a = tile + row * r + 4 * c, *b = a + row;
                uint8_t *ya = y_out + y_stride * (size_t)(y0 + r) + x0 + c, *yb = ya + y_stride;
                ref_over_luma(a, ya);
                ref_over_luma(a + 4, ya + 1);
                ref_over_luma(b, yb);
                ref_over_luma(b + 4, yb + 1);
                ref_over_chroma(a, b, uv_out + uv_stride * (size_t)((y0 + r) / 2) + x0 + c);
            }
    }
}

/* ---- inputs ---- */
static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

/* A frame with smooth areas, noise and the extremes (0, 255: the clamps). */
static void fill_plane(uint8_t *p, size_t n, int phase)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r = next();
        p[i] = (i / 97) % 7 == 0 ? (uint8_t)((r & 1) ? 255 : 0)
                                 : (uint8_t)((i + (size_t)phase) % 256 + (r % 9) - 4);
    }
}

static int count_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}

static gpu_yuv_bg coef(float opacity, const float bg[4], const float over[8], float t0, float t2)
{
    float tcoef[4] = {t0, 0, t2, 0};
    return gpu_yuv_bg_coef(bg, opacity, over, tcoef);
}

static void test_background(void)
{
    enum { W = 200, H = 64 }; /* rows of 12.5 and 6.25 AVX2 turns: the tails too */
    static uint8_t y[W * H], u[W * H / 4], v[W * H / 4], uvi[W * H / 2];
    static uint8_t out_y[W * H], out_uv[W * H / 2], ref_y[W * H], ref_uv[W * H / 2];
    fill_plane(y, sizeof y, 3);
    fill_plane(u, sizeof u, 70);
    fill_plane(v, sizeof v, 140);
    for (int i = 0; i < W * H / 4; i++) {
        uvi[2 * i] = u[i];
        uvi[2 * i + 1] = v[i];
    }
    const float black[4] = {0, 0, 0, 1}, blue[4] = {0.02f, 0.22f, 0.29f, 1};
    const float none[8] = {0}, solid[8] = {0, 0, 0, 0.35f, 0, 0, 0, 0.35f};
    const float grad[8] = {0, 0, 0, 0, 0, 0, 0, 0.35f};
    const float tint[8] = {0.1f, 0.2f, 0.5f, 0.6f, 0.4f, 0.1f, 0.0f, 0.2f};
    struct {
        const char *what;
        gpu_yuv_bg k;
    } cases[] = {
        {"video alone (tables map bytes to themselves)", coef(1, black, none, 0, 0)},
        {"video at 0.6 over a colour", coef(0.6f, blue, none, 0, 0)},
        {"solid shade", coef(1, black, solid, 0, 0)},
        {"vertical gradient shade", coef(1, blue, grad, 0, 1.0f / (H - 1))},
        {"gradient clamped at both ends", coef(0.8f, blue, tint, -0.3f, 1.7f / (H - 1))},
        {"steep gradient (a table per row)", coef(0.9f, black, tint, 0.0f, 0.37f)},
    };
    /* The tables are kept from call to call: each case's second call (NV12) reuses the first's,
     * and each new case must make its own. */
    gpu_host_tables tables = {0};
    /* Through the tables and, where the CPU has them, AVX2's arithmetic and AVX-512 VBMI's
     * lookups (rows of 3.1 and 1.6 turns of 64 bytes: the masked tails). */
    static const char *const simd_name[] = {"", ", AVX2", ", AVX-512 VBMI"};
    for (int simd = 0; simd < 3; simd++)
        for (size_t c = 0; c < CK_ARRAY_LEN(cases); c++)
            for (int nv12 = 0; nv12 < 2; nv12++) {
                gpu_host_force_simd(simd);
                ck_gpu_video_frame f = {.asset = 0, .width = W, .height = H};
                f.format = nv12 ? CK_GPU_PIX_NV12 : CK_GPU_PIX_YUV420P;
                f.planes[0] = y;
                f.strides[0] = W;
                f.planes[1] = nv12 ? uvi : u;
                f.strides[1] = nv12 ? W : W / 2;
                f.planes[2] = nv12 ? NULL : v;
                f.strides[2] = nv12 ? 0 : W / 2;
                memset(out_y, 0xa5, sizeof out_y);
                memset(out_uv, 0xa5, sizeof out_uv);
                CK_CHECK(gpu_host_yuv_bg(&cases[c].k, &tables, &f, out_y, W, out_uv, W));
                ref_bg(&cases[c].k, &f, ref_y, W, ref_uv, W);
                int dy = count_diff(out_y, ref_y, sizeof ref_y);
                int duv = count_diff(out_uv, ref_uv, sizeof ref_uv);
                if (dy || duv)
                    printf("  background, %s, %s%s: %d luma and %d chroma bytes differ\n",
                           cases[c].what, nv12 ? "NV12" : "YUV420P", simd_name[simd], dy, duv);
                CK_CHECK(dy == 0 && duv == 0);
            }
    gpu_host_tables_free(&tables);
    gpu_host_force_simd(-1);
}

/* Premultiplied RGBA: channels at most alpha. */
static void put(uint8_t *p, uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
    p[0] = r < a ? r : a;
    p[1] = g < a ? g : a;
    p[2] = b < a ? b : a;
    p[3] = a;
}

static void test_overlay(void)
{
    enum { W = 200, H = 50, TX = 4, TY = 4, N = TX * TY }; /* the last tiles are cut */
    static uint8_t tiles[N * GPU_TILE_W * GPU_TILE_H * 4];
    uint32_t list[N];
    /* Tile contents by kind: 0 transparent with a glyph edge, 1 one translucent colour (a
     * box's inside: the tables), 2 two translucent colours in alternating runs, 3 opaque
     * blocks, 4 noise, 5 a translucent box with soft edges and text on it (opaque runs of 1 to
     * 13 blocks: solid spans of many lengths), 6 uniform opaque rows over transparent ones
     * (whole pairs of rows planned at once), 7 glyph edges: short runs of translucent blocks
     * between transparent and opaque ones (AVX2 blends four blocks a turn past a span's end:
     * each block must still be blended once). */
    for (int i = 0; i < N; i++) {
        list[i] = (uint32_t)(i % TX) | (uint32_t)(i / TX) << 16;
        uint8_t *t = tiles + (size_t)i * GPU_TILE_W * GPU_TILE_H * 4;
        for (int py = 0; py < GPU_TILE_H; py++)
            for (int pxl = 0; pxl < GPU_TILE_W; pxl++) {
                uint8_t *p = t + 4 * (py * GPU_TILE_W + pxl);
                uint32_t r = next();
                switch (i % 8) {
                case 0:
                    if (pxl > 40)
                        put(p, 255, 255, 255, (uint8_t)(pxl * 4));
                    else
                        memset(p, 0, 4);
                    break;
                case 1:
                    put(p, 4, 24, 57, 153);
                    break;
                case 2:
                    if ((pxl / 30) % 2)
                        put(p, 4, 24, 57, 153);
                    else
                        put(p, 40, 40, 0, 90);
                    break;
                case 3:
                    put(p, (uint8_t)(pxl < 32 ? 255 : 11), 210, 0, 255);
                    break;
                case 4:
                    put(p, (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 4));
                    break;
                case 7: {
                    int k = (pxl / 2 + py / 2) % 7;
                    if (k == 2 || k >= 5)
                        memset(p, 0, 4);
                    else if (k == 4)
                        put(p, 250, 250, 250, 255);
                    else
                        put(p, 255, 255, 255, (uint8_t)(60 + 40 * k + py));
                    break;
                }
                case 6: /* an opaque card's inside over rows 0-7, nothing below */
                    if (py < 8)
                        put(p, 200, 30, 90, 255);
                    else
                        memset(p, 0, 4);
                    break;
                default:
                    if (py < 3 || pxl < 3)
                        put(p, 2, 12, 28, (uint8_t)(50 * (py < pxl ? py : pxl)));
                    else if (pxl > 20 && pxl < 14 + 5 * (py / 2) && py > 4)
                        put(p, 255, 255, 255, 255);
                    else
                        put(p, 4, 24, 57, 153);
                    break;
                }
            }
    }
    static gpu_tile_plan plans[N];
    static uint8_t y[W * H], uv[W * H / 2], ry[W * H], ruv[W * H / 2];
    /* Rounds 0-2 through the scalar arithmetic and tables, 3-5 with AVX2 where the CPU has it:
     * the plans' solid blocks and the mixed blocks four at a time, the rest scalar. */
    for (int round = 0; round < 6; round++) {
        gpu_host_force_simd(round < 3 ? 0 : -1);
        /* Each tile's plan, for its part inside the frame. */
        for (int i = 0; round % 3 == 0 && i < N; i++) {
            int tw = W - (i % TX) * GPU_TILE_W, th = H - (i / TX) * GPU_TILE_H;
            gpu_host_tile_plan(&plans[i], tiles + (size_t)i * GPU_TILE_BYTES,
                               tw < GPU_TILE_W ? tw : GPU_TILE_W,
                               th < GPU_TILE_H ? th : GPU_TILE_H);
        }
        fill_plane(y, sizeof y, 11 * round);
        fill_plane(uv, sizeof uv, 5 + round);
        memcpy(ry, y, sizeof y);
        memcpy(ruv, uv, sizeof uv);
        gpu_host_yuv_over(tiles, plans, TX, list, N, W, H, y, W, uv, W); /* by position */
        ref_over(tiles, list, N, W, H, ry, W, ruv, W);
        int dy = count_diff(y, ry, sizeof y), duv = count_diff(uv, ruv, sizeof uv);
        if (dy || duv)
            printf("  overlay, round %d: %d luma and %d chroma bytes differ\n", round, dy, duv);
        CK_CHECK(dy == 0 && duv == 0);
    }
    gpu_host_force_simd(-1);
}

int main(void)
{
    test_background();
    test_overlay();
    return ck_test_done("test_gpu_host");
}
