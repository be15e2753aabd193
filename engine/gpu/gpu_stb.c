/* gpu_stb.c: the one place stb_image, stb_image_write and stb_truetype are compiled. Their
 * implementations are static to this file (no symbol clashes with other modules) and built
 * with warnings off (third-party code, see cmake/gpu.cmake); the rest of ciak uses the small
 * wrappers below. */
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#include <stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>

#include "gpu_internal.h"

uint8_t *gpu_stb_decode(const uint8_t *buf, size_t len, int *w, int *h, const char **reason)
{
    int n = 0;
    if (len > (size_t)0x7fffffff) {
        *reason = "file too large";
        return NULL;
    }
    /* Check the size before decoding, so a huge header cannot make a huge allocation. */
    if (!stbi_info_from_memory(buf, (int)len, w, h, &n)) {
        *reason = stbi_failure_reason();
        return NULL;
    }
    if (*w <= 0 || *h <= 0 || *w > 16384 || *h > 16384) {
        *reason = "image larger than 16384 px";
        return NULL;
    }
    uint8_t *px = stbi_load_from_memory(buf, (int)len, w, h, &n, 4);
    if (!px)
        *reason = stbi_failure_reason();
    return px;
}

void gpu_stb_free(void *p)
{
    stbi_image_free(p);
}

int gpu_stb_write(const char *path, const uint8_t *px, int w, int h, int channels, size_t stride,
                  int jpeg)
{
    if (jpeg) {
        /* stbi_write_jpg has no stride: pack the rows when they are padded. */
        size_t row = (size_t)w * (size_t)channels;
        if (stride == row)
            return stbi_write_jpg(path, w, h, channels, px, 90);
        uint8_t *tmp = malloc(row * (size_t)h);
        if (!tmp)
            return 0;
        for (int y = 0; y < h; y++)
            memcpy(tmp + row * (size_t)y, px + stride * (size_t)y, row);
        int ok = stbi_write_jpg(path, w, h, channels, tmp, 90);
        free(tmp);
        return ok;
    }
    return stbi_write_png(path, w, h, channels, px, (int)stride);
}

/* ---- fonts ---- */
struct gpu_ttf {
    stbtt_fontinfo info;
};

gpu_ttf *gpu_ttf_open(const uint8_t *data, size_t size, int *glyph_count, const char **reason)
{
    /* stb_truetype trusts the table directory: check every table lies inside the file
     * first, so a truncated or corrupt font is an error instead of a wild read. */
    if (size < 12 || size > (size_t)0x7fffffff) {
        *reason = "not a font file (too small)";
        return NULL;
    }
    uint32_t tag =
        (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    if (tag != 0x00010000u && tag != 0x4f54544fu /* OTTO */ && tag != 0x74727565u /* true */) {
        *reason = "not a TrueType/OpenType font (bad signature)";
        return NULL;
    }
    unsigned ntables = (unsigned)data[4] << 8 | data[5];
    if (ntables == 0 || 12 + 16 * (size_t)ntables > size) {
        *reason = "corrupt font (table directory)";
        return NULL;
    }
    for (unsigned i = 0; i < ntables; i++) {
        const uint8_t *t = data + 12 + 16 * i;
        uint64_t off = (uint64_t)t[8] << 24 | (uint64_t)t[9] << 16 | (uint64_t)t[10] << 8 | t[11];
        uint64_t len = (uint64_t)t[12] << 24 | (uint64_t)t[13] << 16 | (uint64_t)t[14] << 8 | t[15];
        if (off + len > size) {
            *reason = "corrupt font (a table lies outside the file)";
            return NULL;
        }
    }
    gpu_ttf *f = calloc(1, sizeof *f);
    if (!f) {
        *reason = "out of memory";
        return NULL;
    }
    if (!stbtt_InitFont(&f->info, data, 0) || f->info.numGlyphs <= 0) {
        free(f);
        *reason = "corrupt font (missing tables)";
        return NULL;
    }
    *glyph_count = f->info.numGlyphs;
    return f;
}

void gpu_ttf_close(gpu_ttf *f)
{
    free(f);
}

uint8_t *gpu_ttf_sdf(gpu_ttf *f, int glyph, float em_px, int padding, float dist_scale, int *w,
                     int *h, int *xoff, int *yoff)
{
    float scale = stbtt_ScaleForMappingEmToPixels(&f->info, em_px);
    *w = *h = *xoff = *yoff = 0;
    return stbtt_GetGlyphSDF(&f->info, scale, glyph, padding, 128, dist_scale, w, h, xoff, yoff);
}

void gpu_ttf_sdf_free(uint8_t *p)
{
    stbtt_FreeSDF(p, NULL);
}
