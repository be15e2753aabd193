/* gpu_host.c: the YUV path's background written by the host, for CPU devices.
 *
 * On a CPU Vulkan device (lavapipe) "device memory" is host memory and shaders run on the same
 * cores as everything else, through a JIT whose per-lane image accesses cost more than the
 * arithmetic. yuv_bg.comp's job there (one affine map per sample, 1.4 MB a 720p frame) is done
 * better by the render thread while it would otherwise copy the planes into the upload
 * buffer: the background goes straight from the decoded planes into the slot's NV12 buffer,
 * and yuv_over.comp blends the items over it as before. A real GPU keeps yuv_bg.comp.
 *
 * Same arithmetic as yuv_bg.comp (its comment has the derivation), in float, for shades that
 * do not change along a row (vertical gradients, solid shades, none: every demo frame), where
 * every byte value of a row maps the same way: a 256-entry table per row replaces the
 * arithmetic per sample. Other shades stay with yuv_bg.comp.
 *
 * Cheap paths, all giving the same bytes as the plain arithmetic (tests/test_gpu_host.c
 * compares them with a copy of it): a row whose parameter is the previous row's reuses its
 * table (no shade, or a solid one: one table a frame); a table that maps every byte to itself
 * (the video at full opacity, no shade) is a copy (chroma interleaved with SSE2 from YUV420P);
 * tables are filled four entries at a time with SSE2 where the compiler has it (the same float
 * operations in the same order per lane), and kept across frames while the constants hold (a
 * table per row for a gradient shade was ~1.2 M instructions a 720p frame); the lookups are
 * unrolled eight a turn (the loop's own instructions were as many as the lookups'), made 64 at
 * a time with AVX-512 VBMI where the CPU has it, or replaced by AVX2's arithmetic. The tiles'
 * plans and their mixed blocks go four blocks at a time with AVX2 (below). */
#include "gpu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Rounded and clamped to a byte. Written as max, then min (maxss, minss: no branches, which
 * cost more than the arithmetic); the same result as clamping first for every number. */
static inline uint8_t to_byte(float v)
{
    v += 0.5f;
    v = v > 0.0f ? v : 0.0f;
    v = v < 255.0f ? v : 255.0f;
    return (uint8_t)(int)v;
}

static inline float clamp01(float t)
{
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

/* The gradient parameter of row y (constant along it). */
static float row_param(const gpu_yuv_bg *k, int y)
{
    return clamp01(k->tcoef[0] + k->tcoef[2] * (float)y);
}

/* Per sample, with t the row's parameter and v the video's code value (yuv_bg.comp):
 *   luma    16 + ky0 + ky1 t + (ky2 + ky3 t) (base3 (v - 16) + base0)
 *   chroma  128 + kc[2c] + kc[2c + 1] t + (ky2 + ky3 t) (base3 (v - 128) + base[1 + c])
 * (c: 0 Cb from U, 1 Cr from V), rounded and clamped to a byte, evaluated left to right. */

bool gpu_host_bg_fits(const float t[3], int width)
{
    return fabsf(t[1]) * (float)width < 1e-6f;
}

/* table[i] = to_byte(a + b * (s * (i - off) + c)) for every byte i: luma or chroma above
 * with their per-row factors (a, b) computed once, the same float operations per entry. */
static void fill_table(uint8_t table[256], const gpu_row_coef *k)
{
    float a = k->a, b = k->b, s = k->s, off = k->off, c = k->c;
    int i = 0;
#ifdef __SSE2__
    const __m128 va = _mm_set1_ps(a), vb = _mm_set1_ps(b), vs = _mm_set1_ps(s);
    const __m128 voff = _mm_set1_ps(off), vc = _mm_set1_ps(c), half = _mm_set1_ps(0.5f);
    const __m128 lo = _mm_setzero_ps(), hi = _mm_set1_ps(255.0f);
    __m128 vi = _mm_setr_ps(0, 1, 2, 3);
    const __m128 four = _mm_set1_ps(4.0f);
    for (; i < 256; i += 4) {
        __m128 v = _mm_add_ps(_mm_mul_ps(vs, _mm_sub_ps(vi, voff)), vc);
        __m128 r = _mm_add_ps(_mm_add_ps(va, _mm_mul_ps(vb, v)), half);
        r = _mm_min_ps(_mm_max_ps(r, lo), hi);
        __m128i q = _mm_cvttps_epi32(r);
        q = _mm_packs_epi32(q, q);
        q = _mm_packus_epi16(q, q);
        uint32_t w = (uint32_t)_mm_cvtsi128_si32(q);
        memcpy(table + i, &w, 4);
        vi = _mm_add_ps(vi, four);
    }
#endif
    for (; i < 256; i++)
        table[i] = to_byte(a + b * (s * ((float)i - off) + c));
}

/* Luma's factors for row parameter t. */
static gpu_row_coef luma_coef(const gpu_yuv_bg *k, float t)
{
    return (gpu_row_coef){16.0f + k->ky[0] + k->ky[1] * t, k->ky[2] + k->ky[3] * t, k->base[3],
                          16.0f, k->base[0]};
}

/* Chroma c's factors for parameter t. */
static gpu_row_coef chroma_coef(const gpu_yuv_bg *k, float t, int c)
{
    return (gpu_row_coef){128.0f + k->kc[2 * c] + k->kc[2 * c + 1] * t, k->ky[2] + k->ky[3] * t,
                          k->base[3], 128.0f, k->base[1 + c]};
}

static bool is_identity(const uint8_t table[256])
{
    for (int i = 0; i < 256; i++)
        if (table[i] != i)
            return false;
    return true;
}

static void map_row(uint8_t *dst, const uint8_t *src, int n, const uint8_t table[256],
                    bool identity)
{
    if (identity) {
        memcpy(dst, src, (size_t)n);
        return;
    }
    /* Eight lookups a turn, each stored as it is made (a load, a load, a store): the loop's
     * own increment and test were as many instructions as the lookups, and gathering the
     * bytes into one word costs two more per byte. */
    int x = 0;
    for (; x + 8 <= n; x += 8) {
        dst[x] = table[src[x]];
        dst[x + 1] = table[src[x + 1]];
        dst[x + 2] = table[src[x + 2]];
        dst[x + 3] = table[src[x + 3]];
        dst[x + 4] = table[src[x + 4]];
        dst[x + 5] = table[src[x + 5]];
        dst[x + 6] = table[src[x + 6]];
        dst[x + 7] = table[src[x + 7]];
    }
    for (; x < n; x++)
        dst[x] = table[src[x]];
}

/* dst = t0[u[0]] t1[v[0]] t0[u[s]] t1[v[s]] ...: n CbCr pairs from chroma samples s bytes
 * apart (NV12: u, v interleaved, s = 2; YUV420P: two planes, s = 1), unrolled as map_row. */
static void map_chroma(uint8_t *dst, const uint8_t *u, const uint8_t *v, int s, int n,
                       const uint8_t t0[256], const uint8_t t1[256])
{
    int x = 0;
    for (; x + 4 <= n; x += 4) {
        const uint8_t *pu = u + s * x, *pv = v + s * x;
        uint8_t *d = dst + 2 * x;
        d[0] = t0[pu[0]];
        d[1] = t1[pv[0]];
        d[2] = t0[pu[s]];
        d[3] = t1[pv[s]];
        d[4] = t0[pu[2 * s]];
        d[5] = t1[pv[2 * s]];
        d[6] = t0[pu[3 * s]];
        d[7] = t1[pv[3 * s]];
    }
    for (; x < n; x++) {
        dst[2 * x] = t0[u[s * x]];
        dst[2 * x + 1] = t1[v[s * x]];
    }
}

/* dst = u0 v0 u1 v1 ...: YUV420P chroma rows as NV12's, where the tables change nothing. */
static void interleave(uint8_t *dst, const uint8_t *u, const uint8_t *v, int n)
{
    int x = 0;
#ifdef __SSE2__
    for (; x + 16 <= n; x += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(u + x));
        __m128i b = _mm_loadu_si128((const __m128i *)(v + x));
        _mm_storeu_si128((__m128i *)(dst + 2 * x), _mm_unpacklo_epi8(a, b));
        _mm_storeu_si128((__m128i *)(dst + 2 * x + 16), _mm_unpackhi_epi8(a, b));
    }
#endif
    for (; x < n; x++) {
        dst[2 * x] = u[x];
        dst[2 * x + 1] = v[x];
    }
}

/* ---- the same arithmetic, eight samples at a time (AVX2, where the CPU has it) ----
 * Each lane does fill_table's float operations in its order (no fused multiply-add: the
 * "avx2" target alone does not allow the compiler to contract them), so every byte is the
 * table's; the lookups it replaces were three instructions a sample, this is under two. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HOST_AVX2 1
#include <immintrin.h>

typedef struct avx_coef {
    __m256 a, b, s, off, c;
    bool exact; /* s is 1 and c is 0: s * (i - off) + c is i - off, exactly */
} avx_coef;

__attribute__((target("avx2"))) static avx_coef avx_coef_of(const gpu_row_coef *k0,
                                                            const gpu_row_coef *k1)
{
    /* k0 in the even lanes, k1 in the odd (CbCr pairs); k0 == k1 for luma. */
    return (avx_coef){
        _mm256_setr_ps(k0->a, k1->a, k0->a, k1->a, k0->a, k1->a, k0->a, k1->a),
        _mm256_setr_ps(k0->b, k1->b, k0->b, k1->b, k0->b, k1->b, k0->b, k1->b),
        _mm256_setr_ps(k0->s, k1->s, k0->s, k1->s, k0->s, k1->s, k0->s, k1->s),
        _mm256_setr_ps(k0->off, k1->off, k0->off, k1->off, k0->off, k1->off, k0->off, k1->off),
        _mm256_setr_ps(k0->c, k1->c, k0->c, k1->c, k0->c, k1->c, k0->c, k1->c),
        k0->s == 1.0f && k1->s == 1.0f && k0->c == 0.0f && k1->c == 0.0f};
}

/* Eight samples (bytes, as int32 lanes) through the coefficients. */
__attribute__((target("avx2"))) static inline __m256i avx_map8(__m256i i, const avx_coef *k)
{
    __m256 v = _mm256_sub_ps(_mm256_cvtepi32_ps(i), k->off);
    if (!k->exact)
        v = _mm256_add_ps(_mm256_mul_ps(k->s, v), k->c);
    __m256 r = _mm256_add_ps(_mm256_add_ps(k->a, _mm256_mul_ps(k->b, v)), _mm256_set1_ps(0.5f));
    r = _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    return _mm256_cvttps_epi32(r);
}

/* Sixteen bytes at src through the coefficients, into dst. */
__attribute__((target("avx2"))) static inline void avx_map16(uint8_t *dst, const uint8_t *src,
                                                             const avx_coef *k)
{
    __m128i b = _mm_loadu_si128((const __m128i *)src);
    __m256i q0 = avx_map8(_mm256_cvtepu8_epi32(b), k);
    __m256i q1 = avx_map8(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), k);
    /* packs works per 128-bit half: 0-3 8-11 4-7 12-15, put back in order. */
    __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xd8);
    __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
    _mm_storeu_si128((__m128i *)dst, _mm_packus_epi16(lo, hi));
}

/* n bytes: src through k0 (even bytes) and k1 (odd bytes) into dst; false when there is no
 * AVX2 (the caller uses the tables). n even. */
__attribute__((target("avx2"))) static void avx_map(uint8_t *dst, const uint8_t *src, int n,
                                                    const gpu_row_coef *k0, const gpu_row_coef *k1,
                                                    const uint8_t *t0, const uint8_t *t1)
{
    avx_coef k = avx_coef_of(k0, k1);
    int x = 0;
    for (; x + 16 <= n; x += 16)
        avx_map16(dst + x, src + x, &k);
    for (; x < n; x += 2) {
        dst[x] = t0[src[x]];
        dst[x + 1] = t1[src[x + 1]];
    }
}

/* YUV420P chroma: n samples of u through k0 and of v through k1, interleaved into dst. */
__attribute__((target("avx2"))) static void
avx_map_planar(uint8_t *dst, const uint8_t *u, const uint8_t *v, int n, const gpu_row_coef *k0,
               const gpu_row_coef *k1, const uint8_t *t0, const uint8_t *t1)
{
    avx_coef ku = avx_coef_of(k0, k0), kv = avx_coef_of(k1, k1);
    int x = 0;
    for (; x + 16 <= n; x += 16) {
        uint8_t mu[16], mv[16];
        avx_map16(mu, u + x, &ku);
        avx_map16(mv, v + x, &kv);
        __m128i a = _mm_loadu_si128((const __m128i *)mu), b = _mm_loadu_si128((const __m128i *)mv);
        _mm_storeu_si128((__m128i *)(dst + 2 * x), _mm_unpacklo_epi8(a, b));
        _mm_storeu_si128((__m128i *)(dst + 2 * x + 16), _mm_unpackhi_epi8(a, b));
    }
    for (; x < n; x++) {
        dst[2 * x] = t0[u[x]];
        dst[2 * x + 1] = t1[v[x]];
    }
}
#endif

/* ---- the tables looked up 64 bytes at a time (AVX-512 VBMI, where the CPU has it) ----
 * vpermt2b picks bytes out of two 64-byte registers by the low 7 bits of each index: two of
 * them cover a 256-entry table and the index's top bit picks between their answers. About
 * five instructions for 64 samples, against AVX2's two per sample; the bytes are the tables'
 * by construction. */
#ifdef HOST_AVX2
#define HOST_VBMI   1
#define VBMI_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

typedef struct vbmi_table {
    __m512i q[4]; /* entries 0-63, 64-127, 128-191, 192-255 */
} vbmi_table;

VBMI_TARGET static inline vbmi_table vbmi_table_of(const uint8_t t[256])
{
    return (vbmi_table){{_mm512_loadu_si512(t), _mm512_loadu_si512(t + 64),
                         _mm512_loadu_si512(t + 128), _mm512_loadu_si512(t + 192)}};
}

VBMI_TARGET static inline __m512i vbmi_lookup(const vbmi_table *t, __m512i i)
{
    __m512i lo = _mm512_permutex2var_epi8(t->q[0], i, t->q[1]);
    __m512i hi = _mm512_permutex2var_epi8(t->q[2], i, t->q[3]);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(i), lo, hi);
}

/* The first n (< 64) bytes: masked loads and stores touch nothing past them. */
static inline uint64_t vbmi_first(int n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* n bytes: src through t0 (even bytes) and t1 (odd bytes) into dst; t0 == t1 for luma. */
VBMI_TARGET static void vbmi_map(uint8_t *dst, const uint8_t *src, int n, const uint8_t *t0,
                                 const uint8_t *t1)
{
    vbmi_table a = vbmi_table_of(t0), b = vbmi_table_of(t1);
    bool two = t0 != t1;
    const __mmask64 odd = 0xaaaaaaaaaaaaaaaaull;
    for (int x = 0; x < n; x += 64) {
        __mmask64 m = vbmi_first(n - x);
        __m512i i = _mm512_maskz_loadu_epi8(m, src + x), r = vbmi_lookup(&a, i);
        if (two)
            r = _mm512_mask_blend_epi8(odd, r, vbmi_lookup(&b, i));
        _mm512_mask_storeu_epi8(dst + x, m, r);
    }
}

/* YUV420P chroma: n samples of u through t0 and of v through t1, interleaved into dst. */
VBMI_TARGET static void vbmi_map_planar(uint8_t *dst, const uint8_t *u, const uint8_t *v, int n,
                                        const uint8_t *t0, const uint8_t *t1)
{
    vbmi_table a = vbmi_table_of(t0), b = vbmi_table_of(t1);
    /* Byte j of the interleaved pairs: u's j/2 (even j) or v's (64 + j/2); the high half adds
     * 32. */
    static const uint8_t lo[64] = {0,  64, 1,  65, 2,  66, 3,  67, 4,  68, 5,  69, 6,  70, 7,  71,
                                   8,  72, 9,  73, 10, 74, 11, 75, 12, 76, 13, 77, 14, 78, 15, 79,
                                   16, 80, 17, 81, 18, 82, 19, 83, 20, 84, 21, 85, 22, 86, 23, 87,
                                   24, 88, 25, 89, 26, 90, 27, 91, 28, 92, 29, 93, 30, 94, 31, 95};
    __m512i ilo = _mm512_loadu_si512(lo), ihi = _mm512_add_epi8(ilo, _mm512_set1_epi8(32));
    for (int x = 0; x < n; x += 64) {
        int k = n - x < 64 ? n - x : 64;
        __mmask64 m = vbmi_first(k);
        __m512i mu = vbmi_lookup(&a, _mm512_maskz_loadu_epi8(m, u + x));
        __m512i mv = vbmi_lookup(&b, _mm512_maskz_loadu_epi8(m, v + x));
        _mm512_mask_storeu_epi8(dst + 2 * x, vbmi_first(2 * k),
                                _mm512_permutex2var_epi8(mu, ilo, mv));
        if (k > 32)
            _mm512_mask_storeu_epi8(dst + 2 * x + 64, vbmi_first(2 * k - 64),
                                    _mm512_permutex2var_epi8(mu, ihi, mv));
    }
}
#endif

/* Which vector code the host uses: 0 none (the tables, scalar), 1 AVX2, 2 AVX2 and AVX-512
 * VBMI's lookups; at most what the CPU has. */
static int simd_cap = -1;

void gpu_host_force_simd(int level)
{
    simd_cap = level;
}

/* What the CPU has, asked once: 0, 1 (AVX2) or 2 (AVX2 and AVX-512 F, BW, VBMI). */
static int cpu_simd(void)
{
#ifdef HOST_AVX2
    static int have = -1;
    if (have < 0)
        have = !__builtin_cpu_supports("avx2") ? 0
               : __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vbmi")
                   ? 2
                   : 1;
    return have;
#else
    return 0;
#endif
}

static int host_simd(void)
{
    int have = cpu_simd();
    return simd_cap >= 0 && simd_cap < have ? simd_cap : have;
}

static bool host_avx2(void)
{
    return host_simd() >= 1;
}

/* Every row's tables for constants k (tb->rows rows): a row whose parameter is the previous
 * row's shares its tables; luma's first, then chroma's (two a row) for the 2x2 blocks. */
static void make_row_tables(gpu_host_tables *tb, const gpu_yuv_bg *k)
{
    int h = tb->rows, ch = h / 2;
    size_t n = 0;
    float last = NAN; /* the parameter the last table was made for (NaN equals nothing) */
    for (int y = 0; y < h; y++) {
        float t = row_param(k, y);
        if (t != last) {
            tb->coef[n] = luma_coef(k, t);
            fill_table(tb->tables + 256 * n, &tb->coef[n]);
            tb->ident[n] = is_identity(tb->tables + 256 * n);
            n++;
            last = t;
        }
        tb->row[y] = (uint32_t)(n - 1);
    }
    last = NAN;
    for (int y = 0; y < ch; y++) {
        /* The mean of the 2x2 block's parameters: its two rows'. */
        float t = 0.5f * (row_param(k, 2 * y) + row_param(k, 2 * y + 1));
        if (t != last) {
            tb->coef[n] = chroma_coef(k, t, 0);
            tb->coef[n + 1] = chroma_coef(k, t, 1);
            fill_table(tb->tables + 256 * n, &tb->coef[n]);
            fill_table(tb->tables + 256 * (n + 1), &tb->coef[n + 1]);
            tb->ident[n] =
                is_identity(tb->tables + 256 * n) && is_identity(tb->tables + 256 * (n + 1));
            n += 2;
            last = t;
        }
        tb->row[h + y] = (uint32_t)(n - 2);
    }
    tb->k = *k;
}

/* The tables for constants k over h rows: tb's, made again only when k or h changed. */
static bool row_tables(gpu_host_tables *tb, const gpu_yuv_bg *k, int h)
{
    if (tb->rows == h && memcmp(&tb->k, k, sizeof *k) == 0)
        return true;
    if (tb->rows != h) {
        gpu_host_tables_free(tb);
        /* At most one luma table a row and two chroma tables a 2x2 block row. */
        size_t most = (size_t)h + 2 * (size_t)(h / 2);
        tb->tables = malloc(most * 256);
        tb->ident = malloc(most);
        tb->coef = malloc(most * sizeof *tb->coef);
        tb->row = malloc(((size_t)h + (size_t)(h / 2)) * sizeof *tb->row);
        if (!tb->tables || !tb->ident || !tb->coef || !tb->row) {
            gpu_host_tables_free(tb);
            return false;
        }
        tb->rows = h;
    }
    make_row_tables(tb, k);
    return true;
}

void gpu_host_tables_free(gpu_host_tables *tb)
{
    free(tb->tables);
    free(tb->ident);
    free(tb->coef);
    free(tb->row);
    *tb = (gpu_host_tables){0};
}

bool gpu_host_yuv_bg(const gpu_yuv_bg *k, gpu_host_tables *tb, const ck_gpu_video_frame *v,
                     uint8_t *y_out, size_t y_stride, uint8_t *uv_out, size_t uv_stride)
{
    int w = v->width, h = v->height, cw = w / 2, ch = h / 2;
    if (!row_tables(tb, k, h))
        return false;
    int simd = host_simd();
    bool avx2 = simd >= 1;
    for (int y = 0; y < h; y++) {
        uint32_t t = tb->row[y];
        uint8_t *dst = y_out + y_stride * y;
        const uint8_t *src = v->planes[0] + (size_t)v->strides[0] * y;
        const uint8_t *table = tb->tables + 256 * (size_t)t;
#ifdef HOST_VBMI
        if (simd >= 2 && !tb->ident[t]) {
            vbmi_map(dst, src, w, table, table);
            continue;
        }
#endif
#ifdef HOST_AVX2
        if (avx2 && !tb->ident[t] && w % 2 == 0) {
            avx_map(dst, src, w, &tb->coef[t], &tb->coef[t], table, table);
            continue;
        }
#endif
        map_row(dst, src, w, table, tb->ident[t]);
    }
    bool nv12 = v->format == CK_GPU_PIX_NV12;
    int step = nv12 ? 2 : 1;
    for (int y = 0; y < ch; y++) {
        const uint8_t *u = v->planes[1] + (size_t)v->strides[1] * y;
        const uint8_t *vv = nv12 ? u + 1 : v->planes[2] + (size_t)v->strides[2] * y;
        uint8_t *dst = uv_out + uv_stride * y;
        uint32_t t = tb->row[h + y];
        if (tb->ident[t] && nv12) {
            memcpy(dst, u, (size_t)w);
            continue;
        }
        if (tb->ident[t]) {
            interleave(dst, u, vv, cw);
            continue;
        }
        const uint8_t *t0 = tb->tables + 256 * (size_t)t;
#ifdef HOST_VBMI
        if (simd >= 2 && nv12) {
            vbmi_map(dst, u, 2 * cw, t0, t0 + 256);
            continue;
        }
        if (simd >= 2) {
            vbmi_map_planar(dst, u, vv, cw, t0, t0 + 256);
            continue;
        }
#endif
#ifdef HOST_AVX2
        if (avx2 && nv12) {
            avx_map(dst, u, w, &tb->coef[t], &tb->coef[t + 1], t0, t0 + 256);
            continue;
        }
        if (avx2) {
            avx_map_planar(dst, u, vv, cw, &tb->coef[t], &tb->coef[t + 1], t0, t0 + 256);
            continue;
        }
#endif
        map_chroma(dst, u, vv, step, cw, t0, t0 + 256);
    }
    return true;
}

/* ---- yuv_over.comp on the host ---- */
/* Its arithmetic, in float: the premultiplied overlay colour c (bytes / 255) over the frame,
 * luma per pixel, chroma from the 2x2 mean. A fully transparent overlay pixel (all bytes 0,
 * most of a tile) leaves the frame exactly as it is in the shader too, so it is skipped. */
/* Per byte of the overlay: 219 K / 255 for luma, 1 / 255 for alpha (multiplications: a
 * division per sample was most of the cost). */
#define KY_R   (219.0f * 0.2126f / 255.0f)
#define KY_G   (219.0f * 0.7152f / 255.0f)
#define KY_B   (219.0f * 0.0722f / 255.0f)
#define INV255 (1.0f / 255.0f)

static inline void over_luma(const uint8_t *o, uint8_t *y)
{
    float keep = 1.0f - (float)o[3] * INV255;
    *y = to_byte(16.0f + KY_R * o[0] + KY_G * o[1] + KY_B * o[2] + keep * ((float)*y - 16.0f));
}

/* o0, o1: the block's two rows of overlay pixels (two each); uv: its CbCr pair. */
static inline void over_chroma(const uint8_t *o0, const uint8_t *o1, uint8_t *uv)
{
    const float q = 0.25f * INV255; /* the mean of four bytes, as a fraction */
    float r = q * (float)(o0[0] + o0[4] + o1[0] + o1[4]);
    float g = q * (float)(o0[1] + o0[5] + o1[1] + o1[5]);
    float b = q * (float)(o0[2] + o0[6] + o1[2] + o1[6]);
    float keep = 1.0f - q * (float)(o0[3] + o0[7] + o1[3] + o1[7]);
    float l = 0.2126f * r + 0.7152f * g + 0.0722f * b;
    uv[0] = to_byte(128.0f + (224.0f / 1.8556f) * (b - l) + keep * ((float)uv[0] - 128.0f));
    uv[1] = to_byte(128.0f + (224.0f / 1.5748f) * (r - l) + keep * ((float)uv[1] - 128.0f));
}

static inline uint32_t px(const uint8_t *o)
{
    uint32_t v;
    memcpy(&v, o, 4);
    return v;
}

/* A translucent colour's tables (the inside of a translucent box, of a glyph while it fades):
 * what over_luma and over_chroma make of every byte under it, made once the colour has filled
 * RUN_FOR_TABLES uniform 2x2 blocks in a row (768 evaluations, against ~6 a block). */
#define RUN_FOR_TABLES 24
typedef struct over_tables {
    uint32_t colour;    /* the tables' colour; 0 (transparent, never looked up): none */
    uint32_t candidate; /* the last uniform translucent colour, and how many blocks in a row */
    int run;
    uint8_t y[256], u[256], v[256];
} over_tables;

/* o: a row of two pixels of the block's one colour. */
static void make_tables(over_tables *t, const uint8_t *o)
{
    for (int i = 0; i < 256; i++) {
        uint8_t y = (uint8_t)i, uv[2] = {(uint8_t)i, (uint8_t)i};
        over_luma(o, &y);
        over_chroma(o, o, uv);
        t->y[i] = y;
        t->u[i] = uv[0];
        t->v[i] = uv[1];
    }
    t->colour = px(o);
}

/* A uniform translucent block through the tables, when they are (or now become) its colour's:
 * false leaves it to the arithmetic. */
static bool over_by_tables(over_tables *t, const uint8_t *a, uint8_t *ya, uint8_t *yb, uint8_t *uv)
{
    uint32_t p = px(a);
    if (p != t->colour) {
        if (p != t->candidate) {
            t->candidate = p;
            t->run = 0;
        }
        if (++t->run < RUN_FOR_TABLES)
            return false;
        make_tables(t, a);
    }
    ya[0] = t->y[ya[0]];
    ya[1] = t->y[ya[1]];
    yb[0] = t->y[yb[0]];
    yb[1] = t->y[yb[1]];
    uv[0] = t->u[uv[0]];
    uv[1] = t->v[uv[1]];
    return true;
}

#ifdef HOST_AVX2
/* ---- mixed blocks four at a time (AVX2, where the CPU has it) ----
 * A glyph's edge, a shadow, a translucent box: blocks the plan could not make once. Each lane
 * does over_luma's or over_chroma's float operations in their order (no fused multiply-add:
 * the "avx2" target does not allow the compiler to contract them), so every byte is theirs.
 * Transparent pixels need no skipping: over a pixel whose bytes are all 0 both give the byte
 * under it back exactly (keep is 1, the colour terms 0, and 16 + (v - 16) is v in float). */

/* The four channels of eight pixels (premultiplied RGBA) as int32 lanes. */
typedef struct avx_px8 {
    __m256i r, g, b, a;
} avx_px8;

__attribute__((target("avx2"))) static inline avx_px8 avx_load_px8(const uint8_t *o)
{
    __m256i p = _mm256_loadu_si256((const __m256i *)o), m = _mm256_set1_epi32(0xff);
    return (avx_px8){_mm256_and_si256(p, m), _mm256_and_si256(_mm256_srli_epi32(p, 8), m),
                     _mm256_and_si256(_mm256_srli_epi32(p, 16), m), _mm256_srli_epi32(p, 24)};
}

/* to_byte on eight lanes, stored as eight bytes. */
__attribute__((target("avx2"))) static inline void avx_store_bytes8(uint8_t *dst, __m256 v)
{
    v = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
    __m256i q = _mm256_cvttps_epi32(v);
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    _mm_storel_epi64((__m128i *)dst, _mm_packus_epi16(w, w));
}

/* Eight bytes at p as float lanes. */
__attribute__((target("avx2"))) static inline __m256 avx_bytes8(const uint8_t *p)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

/* over_luma on eight pixels of a row. */
__attribute__((target("avx2"))) static inline void avx_over_luma8(const avx_px8 *o, uint8_t *y)
{
    __m256 keep = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                _mm256_mul_ps(_mm256_cvtepi32_ps(o->a), _mm256_set1_ps(INV255)));
    __m256 v = _mm256_add_ps(_mm256_set1_ps(16.0f),
                             _mm256_mul_ps(_mm256_set1_ps(KY_R), _mm256_cvtepi32_ps(o->r)));
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(KY_G), _mm256_cvtepi32_ps(o->g)));
    v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_set1_ps(KY_B), _mm256_cvtepi32_ps(o->b)));
    __m256 d = _mm256_sub_ps(avx_bytes8(y), _mm256_set1_ps(16.0f));
    avx_store_bytes8(y, _mm256_add_ps(v, _mm256_mul_ps(keep, d)));
}

/* x, y: per pixel column (eight); the sums of its pairs, [x01 x23 x45 x67 y01 y23 y45 y67]
 * (hadd works per 128-bit half: put the 64-bit quarters back in order). */
__attribute__((target("avx2"))) static inline __m256i avx_pair_sums(__m256i x, __m256i y)
{
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(x, y), 0xd8);
}

/* over_chroma on four 2x2 blocks: rows a and b of eight pixels, four CbCr pairs at uv. */
__attribute__((target("avx2"))) static inline void avx_over_chroma4(const avx_px8 *a,
                                                                    const avx_px8 *b, uint8_t *uv)
{
    const __m128 q = _mm_set1_ps(0.25f * INV255);
    __m256i rg = avx_pair_sums(_mm256_add_epi32(a->r, b->r), _mm256_add_epi32(a->g, b->g));
    __m256i ba = avx_pair_sums(_mm256_add_epi32(a->b, b->b), _mm256_add_epi32(a->a, b->a));
    __m128 r = _mm_mul_ps(q, _mm_cvtepi32_ps(_mm256_castsi256_si128(rg)));
    __m128 g = _mm_mul_ps(q, _mm_cvtepi32_ps(_mm256_extracti128_si256(rg, 1)));
    __m128 bl = _mm_mul_ps(q, _mm_cvtepi32_ps(_mm256_castsi256_si128(ba)));
    __m128 keep = _mm_sub_ps(_mm_set1_ps(1.0f),
                             _mm_mul_ps(q, _mm_cvtepi32_ps(_mm256_extracti128_si256(ba, 1))));
    __m128 l = _mm_add_ps(
        _mm_add_ps(_mm_mul_ps(_mm_set1_ps(0.2126f), r), _mm_mul_ps(_mm_set1_ps(0.7152f), g)),
        _mm_mul_ps(_mm_set1_ps(0.0722f), bl));
    /* Cb in the even lanes (from b - l), Cr in the odd (from r - l), as uv interleaves them. */
    __m256 d = _mm256_set_m128(_mm_sub_ps(_mm_unpackhi_ps(bl, r), _mm_unpackhi_ps(l, l)),
                               _mm_sub_ps(_mm_unpacklo_ps(bl, r), _mm_unpacklo_ps(l, l)));
    __m256 k = _mm256_set_m128(_mm_unpackhi_ps(keep, keep), _mm_unpacklo_ps(keep, keep));
    const float cb = 224.0f / 1.8556f, cr = 224.0f / 1.5748f;
    __m256 c = _mm256_setr_ps(cb, cr, cb, cr, cb, cr, cb, cr);
    __m256 v = _mm256_add_ps(_mm256_set1_ps(128.0f), _mm256_mul_ps(c, d));
    __m256 s = _mm256_sub_ps(avx_bytes8(uv), _mm256_set1_ps(128.0f));
    avx_store_bytes8(uv, _mm256_add_ps(v, _mm256_mul_ps(k, s)));
}

/* Four blocks: eight pixels of rows o0 and o1 over ya, yb and their four CbCr pairs. */
__attribute__((target("avx2"))) static void avx_over_blocks4(const uint8_t *o0, const uint8_t *o1,
                                                             uint8_t *ya, uint8_t *yb, uint8_t *uv)
{
    avx_px8 a = avx_load_px8(o0), b = avx_load_px8(o1);
    avx_over_luma8(&a, ya);
    avx_over_luma8(&b, yb);
    avx_over_chroma4(&a, &b, uv);
}

/* over_luma's and over_chroma's keep factor under opaque pixels, 1 - 255 / 255 and
 * 1 - 1020 / 1020 in float (the same expressions, evaluated by the compiler in float as the
 * code does at run time): both are exactly 0, so an opaque block adds +-0 to its colour
 * terms over any frame, and its bytes over 0s are its bytes over everything. */
static const bool opaque_keeps_nothing =
    1.0f - 255.0f * INV255 == 0.0f && 1.0f - 0.25f * INV255 * 1020.0f == 0.0f;

/* solid_block on the four blocks of eight pixels at o0 (row a) and o1 (row b), four at a time:
 * bit i of the result set where block i is solid. Each block's bytes over a frame of 0s go to
 * ya, yb (two each) and uv (its pair), solid or not, as solid_block's do. */
__attribute__((target("avx2"))) static unsigned avx_solid4(const uint8_t *o0, const uint8_t *o1,
                                                           uint8_t *ya, uint8_t *yb, uint8_t *uv)
{
    memset(ya, 0, 8);
    memset(yb, 0, 8);
    memset(uv, 0, 8);
    avx_over_blocks4(o0, o1, ya, yb, uv);
    unsigned opaque = 0;
    for (int i = 0; i < 4; i++) {
        const uint8_t *a = o0 + 8 * i, *b = o1 + 8 * i;
        if ((a[3] & a[7] & b[3] & b[7]) == 255)
            opaque |= 1u << i;
    }
    if (opaque_keeps_nothing || !opaque)
        return opaque;
    /* Otherwise solid_block's test: the same bytes over 255s. */
    uint8_t hi[3][8];
    memset(hi, 255, sizeof hi);
    avx_over_blocks4(o0, o1, hi[0], hi[1], hi[2]);
    unsigned solid = 0;
    for (int i = 0; i < 4; i++) {
        int k = 2 * i;
        if ((opaque >> i & 1) && memcmp(ya + k, hi[0] + k, 2) == 0 &&
            memcmp(yb + k, hi[1] + k, 2) == 0 && memcmp(uv + k, hi[2] + k, 2) == 0)
            solid |= 1u << i;
    }
    return solid;
}
#endif

/* ---- tile plans: what of a kept tile does not depend on the frame under it ---- */
/* A 2x2 block whose four pixels are opaque writes the same bytes over any frame: over_luma's
 * and over_chroma's "keep" factor is 0 or so small that the result rounds the same; checked
 * on the extremes (0 and 255 under every sample: the arithmetic is monotonic in the sample,
 * so equal bytes there are equal bytes for all). Its bytes are then made once per rendered
 * tile, and copied each frame. */
static bool solid_block(const uint8_t *a, const uint8_t *b, uint8_t y[4], uint8_t uv[2])
{
    if ((a[3] & a[7] & b[3] & b[7]) != 255)
        return false;
    uint8_t lo[6] = {0, 0, 0, 0, 0, 0}, hi[6] = {255, 255, 255, 255, 255, 255};
    const uint8_t *p[4] = {a, a + 4, b, b + 4};
    for (int i = 0; i < 4; i++) {
        over_luma(p[i], lo + i);
        over_luma(p[i], hi + i);
    }
    over_chroma(a, b, lo + 4);
    over_chroma(a, b, hi + 4);
    if (memcmp(lo, hi, 6) != 0)
        return false;
    memcpy(y, lo, 4);
    memcpy(uv, lo + 4, 2);
    return true;
}

/* Appends block column c of kind k to row pair r's spans, joining it to the last span when
 * that is of the same kind and ends at c. */
static void add_span(gpu_tile_plan *pl, int r, int k, int c)
{
    int n = pl->nspans[r];
    if (n && pl->spans[r][n - 1].kind == k && pl->spans[r][n - 1].c1 == c) {
        pl->spans[r][n - 1].c1 = (uint8_t)(c + 1);
        return;
    }
    pl->spans[r][n] = (gpu_tile_span){(uint8_t)k, (uint8_t)c, (uint8_t)(c + 1)};
    pl->nspans[r] = (uint8_t)(n + 1);
}

/* A pair of rows of one colour (a card's inside: most of its tiles) in one go: a single span,
 * its bytes filled at once. False when the rows are not uniform (the caller goes by block).
 * memo: the last uniform colour's verdict and bytes, updated. */
static bool plan_uniform_rows(gpu_tile_plan *pl, int r, const uint8_t *o0, const uint8_t *o1,
                              int tw, uint32_t *memo, bool *memo_solid, uint8_t memo_y[4],
                              uint8_t memo_uv[2])
{
    uint32_t p = px(o0);
    for (int c = 1; c < tw; c++)
        if (px(o0 + 4 * c) != p)
            return false;
    if (memcmp(o0, o1, (size_t)tw * 4) != 0)
        return false;
    if (p == 0)
        return true; /* transparent: no span */
    if (p != *memo) {
        uint8_t by[4], uv[2];
        *memo_solid = solid_block(o0, o1, by, uv);
        *memo = p;
        memcpy(memo_y, by, 4);
        memcpy(memo_uv, uv, 2);
    }
    if (*memo_solid) {
        /* One colour: the four luma bytes of its blocks are the same. */
        memset(pl->y[r], memo_y[0], (size_t)tw);
        memset(pl->y[r + 1], memo_y[0], (size_t)tw);
        for (int c = 0; c < tw; c += 2)
            memcpy(&pl->uv[r / 2][c], memo_uv, 2);
    }
    pl->spans[r / 2][0] =
        (gpu_tile_span){*memo_solid ? GPU_SPAN_SOLID : GPU_SPAN_MIXED, 0, (uint8_t)(tw / 2)};
    pl->nspans[r / 2] = 1;
    return true;
}

void gpu_host_tile_plan(gpu_tile_plan *pl, const uint8_t *tile, int tw, int th)
{
    const size_t row = GPU_TILE_W * 4;
    uint32_t memo = 0; /* a uniform block's colour and its verdict (0: transparent, none) */
    bool memo_solid = false;
    uint8_t memo_y[4] = {0}, memo_uv[2] = {0};
    bool avx2 = host_avx2();
    memset(pl->nspans, 0, sizeof pl->nspans);
    for (int r = 0; r + 1 < th; r += 2) {
        const uint8_t *o0 = tile + row * r, *o1 = o0 + row;
        if (plan_uniform_rows(pl, r, o0, o1, tw, &memo, &memo_solid, memo_y, memo_uv))
            continue;
        int c = 0;
#ifdef HOST_AVX2
        /* Four blocks at a time (avx_solid4; solid_block made a glyph's edge block by block,
         * 150 instructions each). */
        for (; avx2 && c + 8 <= tw; c += 8) {
            const uint8_t *a = o0 + 4 * c, *b = o1 + 4 * c;
            unsigned solid = 0;
            /* Skipped when no block's upper row is opaque: none can be solid. */
            if ((a[3] & a[7]) == 255 || (a[11] & a[15]) == 255 || (a[19] & a[23]) == 255 ||
                (a[27] & a[31]) == 255)
                solid = avx_solid4(a, b, &pl->y[r][c], &pl->y[r + 1][c], &pl->uv[r / 2][c]);
            for (int i = 0; i < 4; i++) {
                const uint8_t *ai = a + 8 * i, *bi = b + 8 * i;
                if ((px(ai) | px(ai + 4) | px(bi) | px(bi + 4)) == 0)
                    continue;
                add_span(pl, r / 2, (solid >> i) & 1 ? GPU_SPAN_SOLID : GPU_SPAN_MIXED, c / 2 + i);
            }
        }
#endif
        for (; c + 1 < tw; c += 2) {
            const uint8_t *a = o0 + 4 * c, *b = o1 + 4 * c;
            uint32_t pa = px(a), pb = px(a + 4), pc = px(b), pd = px(b + 4);
            if ((pa | pb | pc | pd) == 0)
                continue; /* transparent: the frame stays as it is */
            bool uniform = pa == pb && pa == pc && pa == pd, solid;
            uint8_t *y = &pl->y[r][c], *uv = &pl->uv[r / 2][c];
            if (uniform && pa == memo) {
                solid = memo_solid;
                memcpy(y, memo_y, 2);
                memcpy(y + GPU_TILE_W, memo_y + 2, 2);
                memcpy(uv, memo_uv, 2);
            } else {
                uint8_t by[4];
                solid = solid_block(a, b, by, uv);
                memcpy(y, by, 2);
                memcpy(y + GPU_TILE_W, by + 2, 2);
                if (uniform) {
                    memo = pa;
                    memo_solid = solid;
                    memcpy(memo_y, by, 4);
                    memcpy(memo_uv, uv, 2);
                }
            }
            add_span(pl, r / 2, solid ? GPU_SPAN_SOLID : GPU_SPAN_MIXED, c / 2);
        }
    }
}

/* The blocks of a MIXED span (block columns c0..c1 of row pair o0, o1 over rows ya, yb and
 * chroma row uv): transparent pixels skipped, uniform translucent blocks through the tables,
 * the rest by the arithmetic. */
static void over_mixed(over_tables *tables, const uint8_t *o0, const uint8_t *o1, uint8_t *ya,
                       uint8_t *yb, uint8_t *uv, int c0, int c1)
{
    for (int c = 2 * c0; c < 2 * c1; c += 2) {
        const uint8_t *a = o0 + 4 * c, *b = o1 + 4 * c;
        uint32_t pa = px(a), pb = px(a + 4), pc = px(b), pd = px(b + 4);
        if ((pa | pb | pc | pd) == 0)
            continue;
        bool uniform = pa == pb && pa == pc && pa == pd;
        if (uniform && over_by_tables(tables, a, ya + c, yb + c, uv + c))
            continue;
        if (pa)
            over_luma(a, ya + c);
        if (pb)
            over_luma(a + 4, ya + c + 1);
        if (pc)
            over_luma(b, yb + c);
        if (pd)
            over_luma(b + 4, yb + c + 1);
        over_chroma(a, b, uv + c);
    }
}

/* The MIXED span sp (block columns c0..c1) of a row pair whose first `done` block columns
 * were blended already; returns how many are now. With AVX2, four blocks a turn from c0 on,
 * past c1 too, as long as the turn stays inside the nb block columns of the tile that lie in
 * the frame: the blocks it blends beyond the span are transparent (the arithmetic gives the
 * bytes under them back), solid (it gives their plan's bytes, whatever is under them: the
 * span's copy writes the same, before or after) or the next MIXED span's, which then starts
 * where this stopped; so every block is blended once. The rest of the span block by block. */
static int over_span(over_tables *tables, const uint8_t *o0, const uint8_t *o1, uint8_t *ya,
                     uint8_t *yb, uint8_t *uv, const gpu_tile_span *sp, int done, int nb, bool avx2)
{
    int c = sp->c0 > done ? sp->c0 : done;
#ifdef HOST_AVX2
    if (avx2)
        for (; c < sp->c1 && c + 4 <= nb; c += 4)
            avx_over_blocks4(o0 + 8 * c, o1 + 8 * c, ya + 2 * c, yb + 2 * c, uv + 2 * c);
#else
    (void)avx2;
    (void)nb;
#endif
    if (c >= sp->c1)
        return c;
    over_mixed(tables, o0, o1, ya, yb, uv, c, sp->c1);
    return sp->c1;
}

void gpu_host_yuv_over(const uint8_t *store, const gpu_tile_plan *plans, int tiles_x,
                       const uint32_t *list, uint32_t count, int width, int height, uint8_t *y_out,
                       size_t y_stride, uint8_t *uv_out, size_t uv_stride)
{
    const size_t row = GPU_TILE_W * 4;
    over_tables tables = {0};
    bool avx2 = host_avx2();
    for (uint32_t i = 0; i < count; i++) {
        int tx = (int)(list[i] & 0xffffu), ty = (int)(list[i] >> 16);
        size_t t = (size_t)ty * (size_t)tiles_x + (size_t)tx;
        const uint8_t *tile = store + t * GPU_TILE_BYTES;
        const gpu_tile_plan *pl = &plans[t];
        int x0 = tx * GPU_TILE_W, y0 = ty * GPU_TILE_H;
        int th = height - y0 < GPU_TILE_H ? height - y0 : GPU_TILE_H;
        int tw = width - x0 < GPU_TILE_W ? width - x0 : GPU_TILE_W;
        for (int r = 0; r + 1 < th; r += 2) {
            const uint8_t *o0 = tile + row * r, *o1 = o0 + row;
            uint8_t *ya = y_out + y_stride * (size_t)(y0 + r) + x0, *yb = ya + y_stride;
            uint8_t *uv = uv_out + uv_stride * (size_t)((y0 + r) / 2) + x0;
            int done = 0; /* block columns blended so far */
            for (int s = 0; s < pl->nspans[r / 2]; s++) {
                const gpu_tile_span *sp = &pl->spans[r / 2][s];
                if (sp->kind == GPU_SPAN_MIXED) {
                    done = over_span(&tables, o0, o1, ya, yb, uv, sp, done, tw / 2, avx2);
                    continue;
                }
                size_t at = 2 * (size_t)sp->c0, n = 2 * (size_t)(sp->c1 - sp->c0);
                memcpy(ya + at, &pl->y[r][at], n);
                memcpy(yb + at, &pl->y[r + 1][at], n);
                memcpy(uv + at, &pl->uv[r / 2][at], n);
            }
        }
    }
}
