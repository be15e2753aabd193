/* gpu_render.c: one frame: draw list -> instances -> render pass -> NV12 compute -> readback.
 *
 * Per frame, everything lives in the frame's slot: the instance buffer (one 144-byte
 * gpu_inst per quad), the upload buffer (glyph bitmaps and video planes staged this frame),
 * the colour target and the readback buffers. A slot is reused only once its frame has been
 * received and released, so the CPU writes a slot while the GPU works on the others. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"

#define SDF_DIST_SCALE (128.0f / (float)CK_GPU_SDF_RANGE)

void gpu_premul(float out[4], ck_color c)
{
    out[0] = c.r * c.a;
    out[1] = c.g * c.a;
    out[2] = c.b * c.a;
    out[3] = c.a;
}

static float px_scale(const ck_affine *xf, float sx, float sy)
{
    return sqrtf(fabsf(xf->a * xf->d - xf->b * xf->c) * sx * sy);
}

static void inst_base(gpu_inst *in, const ck_draw *d)
{
    memset(in, 0, sizeof *in);
    in->xf[0] = d->xf.a;
    in->xf[1] = d->xf.b;
    in->xf[2] = d->xf.c;
    in->xf[3] = d->xf.d;
    in->tr[0] = d->xf.tx;
    in->tr[1] = d->xf.ty;
    in->tr[2] = d->w;
    in->tr[3] = d->h;
    in->rect[2] = d->w;
    in->rect[3] = d->h;
    in->uv[2] = 1;
    in->uv[3] = 1;
}

/* Whether an item draws anything: a skipped one costs nothing, while a software rasteriser
 * shades every pixel of a transparent full-frame shape (the demo scenes' "shade" layer). */
bool gpu_draw_visible(const ck_draw *d, float sx, float sy)
{
    if (!(d->opacity > 0) || !(px_scale(&d->xf, sx, sy) > 1e-6f))
        return false;
    if (d->kind == CK_DRAW_RECT) {
        const ck_shape_props *p = &d->u.rect.p;
        return p->fill.a > 0 || (p->gradient && p->fill2.a > 0) ||
               (p->stroke_width > 0 && p->stroke.a > 0);
    }
    return true;
}

/* ---- glyph cache ---- */
static uint64_t glyph_key(int font, uint32_t glyph)
{
    return ((uint64_t)(uint32_t)font << 32 | glyph) + 1;
}

static gpu_glyph *glyph_find(ck_gpu_scene *sg, uint64_t key, bool *found)
{
    size_t mask = sg->glyph_cap - 1;
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & mask;
    while (sg->glyphs[i].key && sg->glyphs[i].key != key)
        i = (i + 1) & mask;
    *found = sg->glyphs[i].key == key;
    return &sg->glyphs[i];
}

static void glyph_cache_clear(ck_gpu_scene *sg)
{
    memset(sg->glyphs, 0, sg->glyph_cap * sizeof *sg->glyphs);
    sg->glyph_used = 0;
    sg->shelf_x = sg->shelf_y = sg->shelf_h = 0;
    /* Glyphs get placed again: a text instance may sample other texels with the same uv. */
    sg->reuse.atlas_gen++;
    for (size_t i = 0; i < sg->up_count; i++)
        if (sg->ups[i].owned)
            gpu_ttf_sdf_free(sg->ups[i].px);
    sg->up_count = 0;
}

void ck_gpu_scene_reset_glyphs(ck_gpu_scene *sg)
{
    if (!sg)
        return;
    glyph_cache_clear(sg);
    /* The 1 px gaps between glyphs must read 0 again, as in a new atlas, not what an earlier
     * glyph left there. */
    sg->atlas_clear = sg->atlas_dirty;
}

/* Glyph `glyph` of font `f`'s SDF bitmap (NULL when it draws nothing), rasterised on first
 * use and kept in the bitmap cache. When the cache is half full the bitmap is not kept:
 * *owned then says the caller frees it. */
static uint8_t *glyph_sdf(ck_gpu_scene *sg, gpu_font *f, uint64_t key, uint32_t glyph, int *w,
                          int *h, int *xoff, int *yoff, bool *owned)
{
    size_t mask = sg->sdf_cap - 1;
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & mask;
    while (sg->sdfs[i].key && sg->sdfs[i].key != key)
        i = (i + 1) & mask;
    gpu_sdf *e = &sg->sdfs[i];
    *owned = false;
    if (e->key == key) {
        *w = e->w;
        *h = e->h;
        *xoff = e->xoff;
        *yoff = e->yoff;
        return e->px;
    }
    *w = *h = *xoff = *yoff = 0;
    uint8_t *px = gpu_ttf_sdf(f->ttf, (int)glyph, (float)CK_GPU_SDF_SIZE, CK_GPU_SDF_RANGE,
                              SDF_DIST_SCALE, w, h, xoff, yoff);
    if (px && (*w <= 0 || *h <= 0)) {
        gpu_ttf_sdf_free(px);
        px = NULL;
    }
    if (sg->sdf_used * 2 >= sg->sdf_cap || *w > UINT16_MAX || *h > UINT16_MAX ||
        *xoff < INT16_MIN || *xoff > INT16_MAX || *yoff < INT16_MIN || *yoff > INT16_MAX) {
        *owned = px != NULL;
        return px;
    }
    *e = (gpu_sdf){.key = key,
                   .px = px,
                   .w = (uint16_t)*w,
                   .h = (uint16_t)*h,
                   .xoff = (int16_t)*xoff,
                   .yoff = (int16_t)*yoff};
    sg->sdf_used++;
    return px;
}

/* The atlas entry of a glyph, rasterising it (queued for upload) on first use. NULL when it
 * cannot be had (atlas full): the glyph is skipped, with one warning. */
static const gpu_glyph *glyph_get(ck_gpu_scene *sg, int font, uint32_t glyph, ck_error *err,
                                  ck_status *st)
{
    gpu_font *f = &sg->fonts[font];
    if (glyph >= (uint32_t)f->glyph_count) {
        if (!f->warned)
            ck_log(CK_LOG_WARN, "gpu: font asset \"%s\" has no glyph %u: drawing .notdef",
                   sg->scene->assets[font].id, glyph);
        f->warned = true;
        glyph = 0;
    }
    uint64_t key = glyph_key(font, glyph);
    bool found;
    gpu_glyph *g = glyph_find(sg, key, &found);
    if (found)
        return g;
    if (sg->glyph_used * 2 >= sg->glyph_cap) {
        if (!sg->atlas_full_warned)
            ck_log(CK_LOG_WARN, "gpu: glyph cache full (%zu glyphs): skipping new glyphs",
                   sg->glyph_used);
        sg->atlas_full_warned = true;
        return NULL;
    }
    int w = 0, h = 0, xoff = 0, yoff = 0;
    bool owned;
    uint8_t *px = glyph_sdf(sg, f, key, glyph, &w, &h, &xoff, &yoff, &owned);
    gpu_glyph e = {.key = key};
    if (px && w > 0 && h > 0) {
        /* Shelf packing with a 1 px gap so bilinear filtering never reads a neighbour. */
        if (sg->shelf_x + w + 1 > GPU_ATLAS_SIZE) {
            sg->shelf_x = 0;
            sg->shelf_y += sg->shelf_h + 1;
            sg->shelf_h = 0;
        }
        if (sg->shelf_y + h + 1 > GPU_ATLAS_SIZE || w >= GPU_ATLAS_SIZE) {
            if (owned)
                gpu_ttf_sdf_free(px);
            if (!sg->atlas_full_warned)
                ck_log(CK_LOG_WARN, "gpu: glyph atlas full: skipping new glyphs");
            sg->atlas_full_warned = true;
            return NULL;
        }
        if (sg->up_count == sg->up_cap) {
            size_t cap = sg->up_cap ? sg->up_cap * 2 : 64;
            gpu_glyph_upload *ups = realloc(sg->ups, cap * sizeof *ups);
            if (!ups) {
                if (owned)
                    gpu_ttf_sdf_free(px);
                *st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
                return NULL;
            }
            sg->ups = ups;
            sg->up_cap = cap;
        }
        e.x = (uint16_t)(sg->shelf_x + 1);
        e.y = (uint16_t)(sg->shelf_y + 1);
        e.w = (uint16_t)w;
        e.h = (uint16_t)h;
        e.xoff = (int16_t)xoff;
        e.yoff = (int16_t)yoff;
        sg->ups[sg->up_count++] = (gpu_glyph_upload){px, e.x, e.y, e.w, e.h, owned};
        sg->shelf_x += w + 1;
        if (h > sg->shelf_h)
            sg->shelf_h = h;
    }
    /* Empty glyphs (spaces) are cached too, with w = h = 0. */
    *g = e;
    sg->glyph_used++;
    return g;
}

/* ---- buffers that grow ---- */
static ck_status ensure_buffer(ck_gpu *gpu, gpu_buffer *b, VkDeviceSize need,
                               VkBufferUsageFlags usage, ck_error *err)
{
    if (b->buf && b->size >= need)
        return CK_OK;
    VkDeviceSize size = b->size ? b->size : 64 * 1024;
    while (size < need)
        size *= 2;
    gpu_buffer_destroy(gpu, b);
    return gpu_buffer_create(gpu, size, usage, true, b, err);
}

/* Draw kinds are handled by two switches here (check_input, pass_items), not a table: both
 * need the frame's state, and a table would only move the cases apart. This keeps a new kind
 * from compiling until both are taught it. */
_Static_assert(CK_DRAW_KIND_COUNT == 4, "check_input and pass_items handle 4 draw kinds");

/* ---- checks before anything is recorded ---- */
static ck_status check_input(ck_gpu_scene *sg, const ck_drawlist *dl,
                             const ck_gpu_video_frame *videos, size_t video_count, ck_error *err)
{
    const ck_scene *s = sg->scene;
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *d = &dl->items[i];
        const char *layer = d->layer >= 0 && d->layer < s->layer_count && s->layers[d->layer].id
                                ? s->layers[d->layer].id
                                : "?";
        switch (d->kind) {
        case CK_DRAW_RECT:
            break;
        case CK_DRAW_IMAGE:
            if (d->u.image.asset < 0 || d->u.image.asset >= s->asset_count ||
                s->assets[d->u.image.asset].kind != CK_ASSET_IMAGE)
                return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                                    "draw %zu (layer \"%s\"): asset %d is not an image", i, layer,
                                    d->u.image.asset);
            break;
        case CK_DRAW_VIDEO:
            if (d->u.video.asset < 0 || d->u.video.asset >= s->asset_count ||
                s->assets[d->u.video.asset].kind != CK_ASSET_VIDEO)
                return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                                    "draw %zu (layer \"%s\"): asset %d is not a video", i, layer,
                                    d->u.video.asset);
            break;
        case CK_DRAW_TEXT:
            if ((size_t)d->u.text.glyph_first + d->u.text.glyph_count > dl->glyph_count)
                return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                                    "draw %zu (layer \"%s\"): glyphs %u+%u outside the list's %zu",
                                    i, layer, d->u.text.glyph_first, d->u.text.glyph_count,
                                    dl->glyph_count);
            for (uint32_t k = 0; k < d->u.text.glyph_count; k++) {
                int f = dl->glyphs[d->u.text.glyph_first + k].font;
                if (f < 0 || f >= s->asset_count || !sg->fonts[f].ttf)
                    return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                                        "draw %zu (layer \"%s\"): glyph font %d is not a font", i,
                                        layer, f);
            }
            break;
        default:
            return ck_error_set(err, CK_ERR_INVALID, s->file, 0, 0,
                                "draw %zu (layer \"%s\"): unknown kind %d", i, layer, (int)d->kind);
        }
    }
    for (size_t i = 0; i < video_count; i++) {
        const ck_gpu_video_frame *v = &videos[i];
        if (v->asset < 0 || v->asset >= s->asset_count ||
            s->assets[v->asset].kind != CK_ASSET_VIDEO)
            return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                                "video frame %zu: asset %d is not a video", i, v->asset);
        const char *id = s->assets[v->asset].id;
        if ((unsigned)v->format >= CK_GPU_PIX_COUNT)
            return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                                "video asset \"%s\": unsupported pixel format %d (YUV420P and "
                                "NV12 only)",
                                id, (int)v->format);
        if (v->width <= 0 || v->height <= 0 || v->width % 2 || v->height % 2 ||
            (uint32_t)v->width > sg->gpu->props.limits.maxImageDimension2D ||
            (uint32_t)v->height > sg->gpu->props.limits.maxImageDimension2D)
            return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                                "video asset \"%s\": unsupported frame size %dx%d (even, >0)", id,
                                v->width, v->height);
        int planes = v->format == CK_GPU_PIX_NV12 ? 2 : 3;
        for (int p = 0; p < planes; p++) {
            int row = p == 0 ? v->width : v->format == CK_GPU_PIX_NV12 ? v->width : v->width / 2;
            if (!v->planes[p] || v->strides[p] < row)
                return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                                    "video asset \"%s\": plane %d missing or stride %d < %d", id, p,
                                    v->strides[p], row);
        }
    }
    return CK_OK;
}

/* (Re)creates a video asset's Y, U, V textures for frames of w x h. */
static ck_status video_textures(ck_gpu_scene *sg, gpu_texture *t, int w, int h, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    if (t->img[0].image && t->img[0].width == w && t->img[0].height == h)
        return CK_OK;
    if (t->img[0].image) {
        /* A new size (rare): the old images may be in use by frames in flight. */
        VK_TRY(vkQueueWaitIdle(gpu->queue));
        for (int i = 0; i < 3; i++)
            gpu_image_destroy(gpu, &t->img[i]);
    }
    t->ready = false;
    for (int i = 0; i < 3; i++) {
        int pw = i ? w / 2 : w, ph = i ? h / 2 : h;
        if ((st = gpu_image_create(gpu, pw, ph, 1, VK_FORMAT_R8_UNORM,
                                   VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                   &t->img[i], err)))
            return st;
    }
    gpu_texture_write_set(sg, t, 3);
    return CK_OK;
error:
    return st;
}

/* Copies a plane into the upload buffer at `off`, tightly packed; NV12's UV plane is split
 * into U (dst) and V (dst2). */
static void stage_plane(uint8_t *dst, uint8_t *dst2, const uint8_t *src, int stride, int w, int h,
                        bool split)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)stride * y;
        if (!split) {
            memcpy(dst + (size_t)w * y, row, (size_t)w);
        } else {
            uint8_t *u = dst + (size_t)w * y, *v = dst2 + (size_t)w * y;
            for (int x = 0; x < w; x++) {
                u[x] = row[2 * x];
                v[x] = row[2 * x + 1];
            }
        }
    }
}

static int text_passes(const ck_draw *d, bool pass_on[3])
{
    pass_on[2] = d->u.text.shadow_color.a > 0;                                 /* shadow */
    pass_on[1] = d->u.text.outline_width > 0 && d->u.text.outline_color.a > 0; /* outline */
    pass_on[0] = d->u.text.color.a > 0;                                        /* fill */
    return pass_on[0] + pass_on[1] + pass_on[2];
}

/* ---- one frame, pass by pass ----
 * ck_gpu_submit runs the passes below in order over one gpu_frame (libplacebo's
 * pl_render_image -> pass_* is the model). Each pass reads what the earlier ones decided and
 * records into the slot's command buffer; none waits on the GPU. */
typedef struct gpu_frame {
    ck_gpu_scene *sg;
    gpu_slot *sl;
    const ck_drawlist *dl;
    const ck_gpu_video_frame *videos;
    size_t video_count;
    VkCommandBuffer cb;
    VkClearValue clear; /* the background, premultiplied */
    float push[4];      /* output size, canvas -> output scale */
    size_t inst_count;  /* instances this frame may need (upper bound) */
    size_t up_bytes;    /* staged this frame: glyph bitmaps, then video planes */
    size_t video_base;  /* where the video planes start in the upload buffer */
    size_t bottom;      /* the bottom video item (dl->count: none, or drawn as any item) */
    size_t over;        /* the shape folded into the bottom video's pass (dl->count: none) */
    float over_cols[8]; /* its colours at t = 0 and 1 */
    float tcoef[4];     /* its gradient: t = t0 + t1 x + t2 y */
    int host_asset;     /* the video asset whose background the host writes, -1: none */
    const ck_gpu_video_frame *staged; /* the bottom video's frame, NULL when none */
    VkDeviceSize staged_at[3];        /* where its planes are staged */
    bool yuv;                         /* composited in YUV (yuv_bg.comp, yuv_over.comp) */
    uint32_t ni;                      /* instances written */
    size_t nops;                      /* draws gathered for the render pass */
    uint32_t tiles;                   /* YUV path: the tiles the items touch */
    uint32_t rendered;                /* ... of those, rendered (the others: gpu_reuse's store) */
    bool reused;                      /* none rendered: no render pass */
} gpu_frame;

/* 1. Glyphs: make sure every one is in the atlas (new ones queued in sg->ups). Counts the
 * instances on the way. */
static ck_status pass_glyphs(gpu_frame *f, ck_error *err)
{
    ck_status st = CK_OK;
    const ck_drawlist *dl = f->dl;
    f->inst_count = 0;
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *d = &dl->items[i];
        if (d->kind != CK_DRAW_TEXT) {
            f->inst_count += d->kind == CK_DRAW_RECT ? 5 : 1; /* a split rect: middle + 4 bands */
            continue;
        }
        bool on[3];
        int passes = text_passes(d, on);
        for (uint32_t k = 0; k < d->u.text.glyph_count; k++) {
            const ck_glyph *g = &dl->glyphs[d->u.text.glyph_first + k];
            if (!glyph_get(f->sg, g->font, g->glyph, err, &st) && st)
                return st;
        }
        f->inst_count += (size_t)passes * d->u.text.glyph_count;
    }
    return CK_OK;
}

/* 2. Room: the slot's upload and instance buffers, the draw list's ops, video textures. */
static ck_status pass_buffers(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    ck_gpu *gpu = sg->gpu;
    gpu_slot *sl = f->sl;
    ck_status st = CK_OK;
    size_t up_bytes = 0;
    for (size_t i = 0; i < sg->up_count; i++)
        up_bytes += (size_t)sg->ups[i].w * sg->ups[i].h;
    up_bytes = (up_bytes + 15) & ~(size_t)15;
    f->video_base = up_bytes;
    for (size_t i = 0; i < f->video_count; i++)
        up_bytes += (size_t)f->videos[i].width * f->videos[i].height * 3 / 2 + 32;
    f->up_bytes = up_bytes;
    if (up_bytes) {
        /* Regrown: a new buffer (whose handle may well equal the freed one's). */
        VkDeviceSize old = sl->upload.size;
        if ((st = ensure_buffer(gpu, &sl->upload, up_bytes,
                                VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT, /* video_bg.comp */
                                err)))
            return st;
        if (sl->upload.size != old && sl->bg_set && (st = gpu_slot_write_bg_set(sg, sl, err)))
            return st;
    }
    VkDeviceSize inst_bytes = (VkDeviceSize)(f->inst_count ? f->inst_count : 1) * sizeof(gpu_inst);
    if (sl->inst.size < inst_bytes) {
        if ((st = ensure_buffer(gpu, &sl->inst, inst_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                                err)))
            return st;
        gpu_slot_write_inst_set(sg, sl);
    }
    size_t count = f->dl->count;
    if (sg->op_cap < count * 2) {
        /* At most two draws per item: a split rect's bands, then its middle. */
        gpu_draw_op *ops = realloc(sg->ops, count * 2 * sizeof *ops);
        if (!ops)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        sg->ops = ops;
        sg->op_cap = count * 2;
    }
    for (size_t i = 0; i < f->video_count; i++) {
        const ck_gpu_video_frame *v = &f->videos[i];
        if ((st = video_textures(sg, &sg->textures[v->asset], v->width, v->height, err)))
            return st;
    }
    return CK_OK;
}

/* The frame's constants and its bottom item: the first that draws anything, kept only when
 * it is a video (a candidate for video_bg.comp or the YUV path). */
static void frame_bottom(gpu_frame *f)
{
    const ck_drawlist *dl = f->dl;
    ck_gpu_scene *sg = f->sg;
    ck_color bg = dl->background;
    f->clear = (VkClearValue){.color = {{bg.r * bg.a, bg.g * bg.a, bg.b * bg.a, bg.a}}};
    int canvas_w = dl->width > 0 ? dl->width : sg->scene->width;
    int canvas_h = dl->height > 0 ? dl->height : sg->scene->height;
    f->push[0] = (float)sg->width;
    f->push[1] = (float)sg->height;
    f->push[2] = (float)sg->width / (float)canvas_w;
    f->push[3] = (float)sg->height / (float)canvas_h;
    size_t bottom = 0;
    while (bottom < dl->count && !gpu_draw_visible(&dl->items[bottom], f->push[2], f->push[3]))
        bottom++;
    if (bottom < dl->count && (dl->items[bottom].kind != CK_DRAW_VIDEO || !sg->has_video))
        bottom = dl->count;
    f->bottom = bottom;
}

/* Glyph bitmaps placed this frame: staged, copied into the atlas (cleared first after a
 * reset). */
static ck_status pass_atlas(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    VkCommandBuffer cb = f->cb;
    if (!sg->up_count && !sg->atlas_clear)
        return CK_OK;
    uint8_t *up = f->sl->upload.map;
    VkBufferImageCopy *regions = calloc(sg->up_count + 1, sizeof *regions);
    if (!regions)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    size_t off = 0;
    for (size_t i = 0; i < sg->up_count; i++) {
        gpu_glyph_upload *u = &sg->ups[i];
        memcpy(up + off, u->px, (size_t)u->w * u->h);
        regions[i] = (VkBufferImageCopy){
            .bufferOffset = off,
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .imageOffset = {u->x, u->y, 0},
            .imageExtent = {u->w, u->h, 1},
        };
        off += (size_t)u->w * u->h;
    }
    VkImage atlas = sg->atlas.img[0].image;
    gpu_image_barrier(cb, atlas, 1, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_ACCESS_SHADER_READ_BIT,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT);
    if (sg->atlas_clear) {
        /* ~4 MB once per segment; ordered after earlier frames' reads by the barrier. */
        VkClearColorValue zero = {{0, 0, 0, 0}};
        VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        vkCmdClearColorImage(cb, atlas, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &zero, 1, &range);
        if (sg->up_count) {
            VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                  .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                  .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT};
            vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 0, 1, &mb, 0, NULL, 0, NULL);
        }
        sg->atlas_clear = false;
        sg->atlas_dirty = false;
    }
    if (sg->up_count) {
        vkCmdCopyBufferToImage(cb, f->sl->upload.buf, atlas, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                               (uint32_t)sg->up_count, regions);
        sg->atlas_dirty = true;
    }
    gpu_image_barrier(cb, atlas, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                      VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
    free(regions);
    for (size_t i = 0; i < sg->up_count; i++)
        if (sg->ups[i].owned)
            gpu_ttf_sdf_free(sg->ups[i].px);
    sg->up_count = 0;
    return CK_OK;
}

/* The shape right above a bottom video, folded into its pass when it fits (the demos'
 * full-frame shade): its colours and gradient, zeros when none; and whether the host writes
 * the background (needs no staging). */
static void frame_over(gpu_frame *f)
{
    const ck_drawlist *dl = f->dl;
    f->over = dl->count;
    memset(f->over_cols, 0, sizeof f->over_cols);
    memset(f->tcoef, 0, sizeof f->tcoef);
    if (f->bottom < dl->count) {
        size_t over = f->bottom + 1;
        while (over < dl->count && !gpu_draw_visible(&dl->items[over], f->push[2], f->push[3]))
            over++;
        if (over < dl->count &&
            !gpu_bg_overlay_fits(&dl->items[over], f->sg, f->push, f->over_cols, f->tcoef))
            over = dl->count;
        f->over = over;
    }
    f->host_asset = gpu_host_bg_asset(f->sg, dl, f->bottom, f->tcoef, f->push);
}

/* Records the copy of a staged video frame's planes (at offs) into its asset's textures. */
static void upload_video(gpu_frame *f, gpu_texture *t, const VkDeviceSize offs[3], int w, int h)
{
    VkCommandBuffer cb = f->cb;
    for (int p = 0; p < 3; p++) {
        VkImage im = t->img[p].image;
        gpu_image_barrier(cb, im, 1,
                          t->ready ? VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL
                                   : VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                          t->ready ? VK_ACCESS_SHADER_READ_BIT : 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
        VkBufferImageCopy r = {
            .bufferOffset = offs[p],
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .imageExtent = {(uint32_t)(p ? w / 2 : w), (uint32_t)(p ? h / 2 : h), 1},
        };
        vkCmdCopyBufferToImage(cb, f->sl->upload.buf, im, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                               &r);
        gpu_image_barrier(cb, im, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                          VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
    }
    t->ready = true;
}

/* Video planes: staged and copied into their textures, and where this frame's planes of the
 * bottom video are staged (the last frame given for an asset wins, as its copy is recorded
 * last): video_bg.comp and yuv_bg.comp read them there. The frame the host writes as the
 * background is not staged at all. */
static ck_status pass_videos(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    ck_gpu *gpu = sg->gpu;
    gpu_slot *sl = f->sl;
    const ck_drawlist *dl = f->dl;
    ck_status st = CK_OK;
    uint8_t *up = sl->upload.map;
    f->staged = NULL;
    memset(f->staged_at, 0, sizeof f->staged_at);
    size_t off = f->video_base;
    for (size_t i = 0; i < f->video_count; i++) {
        const ck_gpu_video_frame *v = &f->videos[i];
        int w = v->width, h = v->height, cw = w / 2, chh = h / 2;
        /* Each plane at a multiple of 16 bytes: video_bg.comp reads 16-byte texels. */
        VkDeviceSize offs[3] = {off, off + (size_t)w * h,
                                (off + (size_t)w * h + (size_t)cw * chh + 15) & ~(size_t)15};
        if (v->asset == f->host_asset && gpu_bg_video_fits(&dl->items[f->bottom], v, sg, f->push)) {
            f->staged = v; /* written by the host in pass_background, from the decoded planes */
            continue;
        }
        uint8_t *py = up + offs[0], *pu = up + offs[1], *pv = up + offs[2];
        stage_plane(py, NULL, v->planes[0], v->strides[0], w, h, false);
        if (v->format == CK_GPU_PIX_NV12) {
            stage_plane(pu, pv, v->planes[1], v->strides[1], cw, chh, true);
        } else {
            stage_plane(pu, NULL, v->planes[1], v->strides[1], cw, chh, false);
            stage_plane(pv, NULL, v->planes[2], v->strides[2], cw, chh, false);
        }
        if (f->bottom < dl->count && dl->items[f->bottom].u.video.asset == v->asset) {
            f->staged = v;
            memcpy(f->staged_at, offs, sizeof offs);
        }
        upload_video(f, &sg->textures[v->asset], offs, w, h);
        off = (offs[2] + (size_t)cw * chh + 15) & ~(size_t)15;
    }
    if (f->up_bytes && !sl->upload.coherent) {
        VkMappedMemoryRange r = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, sl->upload.mem, 0,
                                 VK_WHOLE_SIZE};
        VK_TRY(vkFlushMappedMemoryRanges(gpu->device, 1, &r));
    }
    return CK_OK;
error:
    return st;
}

/* video_bg.comp's push constants (shaders/video_bg.comp, yuv_bg.comp). */
typedef struct gpu_bg_push {
    float bg[4];
    uint32_t y_off, u_off, v_off;
    int32_t width, height;
    float opacity, pad[2];
    float over[8], tcoef[4];
} gpu_bg_push;

/* video_bg.comp: the bottom video over the background (and the folded shade) into bg_rgba,
 * copied into the colour target, which the render pass then loads instead of clearing. */
static ck_status record_video_bg(gpu_frame *f, const gpu_bg_push *bp, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    gpu_slot *sl = f->sl;
    VkCommandBuffer cb = f->cb;
    int variant = (bp->opacity >= 1) | (f->over < f->dl->count) << 1;
    ck_status st = gpu_compute_pipe(sg, GPU_CP_BG + variant, err);
    if (st != CK_OK)
        return st;
    /* The last frame in this slot is done with bg_rgba (copy) and the colour target
     * (NV12 compute, RGBA copy): an execution dependency is enough. */
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         0, 0, NULL, 0, NULL, 0, NULL);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->bg_pipes[variant]);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->bg_playout, 0, 1, &sl->bg_set,
                            0, NULL);
    vkCmdPushConstants(cb, sg->bg_playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *bp, bp);
    vkCmdDispatch(cb, ((uint32_t)sg->width / 32 + 7) / 8, ((uint32_t)sg->height / 2 + 7) / 8, 1);
    VkBufferMemoryBarrier bb = gpu_buffer_barrier(sl->bg_rgba.buf, VK_ACCESS_SHADER_WRITE_BIT,
                                                  VK_ACCESS_TRANSFER_READ_BIT);
    VkImageMemoryBarrier ib = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = 0,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        .newLayout = VK_IMAGE_LAYOUT_GENERAL,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = sl->color.image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 1, &bb, 1, &ib);
    VkBufferImageCopy r = {
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageExtent = {(uint32_t)sg->width, (uint32_t)sg->height, 1},
    };
    vkCmdCopyBufferToImage(cb, sl->bg_rgba.buf, sl->color.image, VK_IMAGE_LAYOUT_GENERAL, 1, &r);
    return CK_OK;
}

/* 3. The bottom layer: a video frame uploaded this frame, exactly the output's size and
 * placed 1:1, is converted over the background by video_bg.comp (or, on the YUV path,
 * straight to NV12 by yuv_bg.comp or the host); anything else is drawn by the render pass
 * like any other item. */
static ck_status pass_background(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    ck_gpu *gpu = sg->gpu;
    gpu_slot *sl = f->sl;
    const ck_drawlist *dl = f->dl;
    ck_status st = CK_OK;
    if (f->staged && !gpu_bg_video_fits(&dl->items[f->bottom], f->staged, sg, f->push))
        f->staged = NULL;
    if (!f->staged) {
        f->over = dl->count;   /* no video_bg.comp pass to fold a shape into */
        f->bottom = dl->count; /* drawn by the render pass like any other item */
        f->yuv = false;
        return CK_OK;
    }
    const float *c = f->clear.color.float32;
    gpu_bg_push bp = {{c[0], c[1], c[2], c[3]},
                      (uint32_t)(f->staged_at[0] / 16),
                      (uint32_t)(f->staged_at[1] / 16),
                      (uint32_t)(f->staged_at[2] / 16),
                      sg->width,
                      sg->height,
                      1,
                      {0, 0},
                      {0},
                      {0}};
    const ck_draw *d = &dl->items[f->bottom];
    bp.opacity = d->opacity < 1 ? d->opacity : 1;
    memcpy(bp.over, f->over_cols, sizeof bp.over);
    memcpy(bp.tcoef, f->tcoef, sizeof bp.tcoef);
    f->yuv = sg->yuv_fast;
    if (!f->yuv)
        return record_video_bg(f, &bp, err);
    gpu_yuv_bg k = gpu_yuv_bg_coef(c, bp.opacity, bp.over, bp.tcoef);
    if (f->staged->asset != f->host_asset) {
        if ((st = gpu_compute_pipe(sg, GPU_CP_YUV_BG, err)) != CK_OK)
            return st;
        gpu_record_yuv_bg(sg, sl, f->cb, &k, f->staged_at);
        return CK_OK;
    }
    uint8_t *nv = sl->nv12.map;
    if (!gpu_host_yuv_bg(&k, &sg->host_tables, f->staged, nv, sg->y_stride,
                         nv + sg->y_stride * (size_t)sg->height, sg->uv_stride))
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (!sl->nv12.coherent) {
        VkMappedMemoryRange r = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, sl->nv12.mem, 0,
                                 VK_WHOLE_SIZE};
        VK_TRY(vkFlushMappedMemoryRanges(gpu->device, 1, &r));
    }
    return CK_OK;
error:
    return st;
}

/* ---- 4. the other items: their instances, and the draws to record once the render pass'
 * area is known. Each returns the pipeline, writes instances from insts[f->ni] on and
 * says in *drawn how many at the end it already gathered a draw for itself. ---- */
static int items_rect(gpu_frame *f, const ck_draw *d, float s, gpu_inst *insts, uint32_t *drawn)
{
    const ck_shape_props *p = &d->u.rect.p;
    uint32_t first = f->ni;
    gpu_inst *in = &insts[f->ni++];
    inst_base(in, d);
    float pad = 2.0f / s; /* room for the antialiased edge */
    in->rect[0] = -pad;
    in->rect[1] = -pad;
    in->rect[2] = d->w + pad;
    in->rect[3] = d->h + pad;
    gpu_premul(in->c0, p->fill);
    gpu_premul(in->c1, p->gradient ? p->fill2 : p->fill);
    if (p->stroke_width > 0)
        gpu_premul(in->c2, p->stroke);
    in->p0[0] = p->radius;
    in->p0[1] = p->stroke_width > 0 ? p->stroke_width : 0;
    in->p0[2] = p->gradient ? 1.0f : 0.0f;
    in->p0[3] = d->opacity;
    float a = p->gradient_angle * (float)M_PI / 180.0f;
    in->p1[0] = cosf(a);
    in->p1[1] = sinf(a);
    /* Axis-aligned (so the pieces' shared edges rasterise without gaps or overlaps), large
     * shapes: the middle, where coverage is exactly 1 and the stroke does not reach, goes to
     * fill.frag; rect.frag draws four bands around it. m keeps 1/2 output px more than
     * rect.frag's coverage ramp needs. */
    float r = fminf(fmaxf(p->radius, 0), fminf(d->w, d->h) * 0.5f);
    float m = fmaxf(r, in->p0[1] + 1.0f / s);
    if (d->xf.b != 0 || d->xf.c != 0 || !((d->w - 2 * m) * s >= 8) || !((d->h - 2 * m) * s >= 8))
        return PIPE_RECT;
    const float bands[4][4] = {
        {-pad, -pad, d->w + pad, m},              /* top */
        {-pad, d->h - m, d->w + pad, d->h + pad}, /* bottom */
        {-pad, m, m, d->h - m},                   /* left */
        {d->w - m, m, d->w + pad, d->h - m},      /* right */
    };
    for (int b = 0; b < 4; b++) {
        insts[f->ni] = *in;
        memcpy(insts[f->ni++].rect, bands[b], sizeof bands[b]);
    }
    memcpy(in->rect, (float[4]){m, m, d->w - m, d->h - m}, sizeof in->rect);
    f->sg->ops[f->nops++] = (gpu_draw_op){PIPE_RECT, VK_NULL_HANDLE, first + 1, 4};
    /* The middle, alone: solid or gradient between opaque colours, fully opaque layer:
     * nothing below shows through, no blending needed. */
    bool opaque = p->fill.a >= 1 && (!p->gradient || p->fill2.a >= 1) && d->opacity >= 1;
    *drawn = 4;
    return opaque ? PIPE_FILL_OPAQUE : PIPE_FILL;
}

/* A text item's glyph quads, in up to three passes (shadow, outline, fill). */
static void items_text(gpu_frame *f, const ck_draw *d, float s, gpu_inst *insts)
{
    ck_gpu_scene *sg = f->sg;
    const ck_drawlist *dl = f->dl;
    bool on[3];
    text_passes(d, on);
    float k = d->u.text.size / (float)CK_GPU_SDF_SIZE;
    const float inv = 1.0f / GPU_ATLAS_SIZE;
    for (int pass = 2; pass >= 0; pass--) {
        if (!on[pass])
            continue;
        ck_color c = pass == 0   ? d->u.text.color
                     : pass == 1 ? d->u.text.outline_color
                                 : d->u.text.shadow_color;
        float dx = pass == 2 ? d->u.text.shadow_dx : 0;
        float dy = pass == 2 ? d->u.text.shadow_dy : 0;
        /* Each bitmap is the glyph's box plus CK_GPU_SDF_RANGE atlas px of distance field on
         * every side, but a pass' coverage is exactly 0 beyond half an output px (fill), the
         * outline width (outline) or half the blur (shadow) outside the outline: trim the
         * quad to that, plus 1.5 atlas px for the bilinear footprint. Text quads shrink to
         * about half. */
        float reach = pass == 0   ? 0.5f / s
                      : pass == 1 ? d->u.text.outline_width + 0.5f / s
                                  : 0.5f * fmaxf(d->u.text.shadow_blur, 1.0f / s);
        float trim = (float)CK_GPU_SDF_RANGE - (reach / k + 1.5f);
        if (!(trim > 0))
            trim = 0;
        for (uint32_t g = 0; g < d->u.text.glyph_count; g++) {
            const ck_glyph *gl = &dl->glyphs[d->u.text.glyph_first + g];
            uint32_t id = gl->glyph < (uint32_t)sg->fonts[gl->font].glyph_count ? gl->glyph : 0;
            bool found;
            const gpu_glyph *e = glyph_find(sg, glyph_key(gl->font, id), &found);
            if (!found || e->w == 0)
                continue;
            gpu_inst *in = &insts[f->ni++];
            inst_base(in, d);
            in->rect[0] = gl->x + (float)e->xoff * k + dx;
            in->rect[1] = gl->y + (float)e->yoff * k + dy;
            in->rect[2] = in->rect[0] + (float)e->w * k;
            in->rect[3] = in->rect[1] + (float)e->h * k;
            in->uv[0] = (float)e->x * inv;
            in->uv[1] = (float)e->y * inv;
            in->uv[2] = (float)(e->x + e->w) * inv;
            in->uv[3] = (float)(e->y + e->h) * inv;
            if (trim > 0) {
                for (int j = 0; j < 2; j++) {
                    in->rect[j] += trim * k;
                    in->rect[j + 2] -= trim * k;
                    in->uv[j] += trim * inv;
                    in->uv[j + 2] -= trim * inv;
                }
            }
            gpu_premul(in->c0, c);
            in->p0[0] = (float)pass;
            in->p0[1] = d->opacity;
            in->p1[0] = k;
            in->p1[1] = d->u.text.outline_width;
            in->p1[2] = d->u.text.shadow_blur;
            in->p1[3] = SDF_DIST_SCALE;
        }
    }
}

static void pass_items(gpu_frame *f)
{
    ck_gpu_scene *sg = f->sg;
    const ck_drawlist *dl = f->dl;
    gpu_inst *insts = f->sl->inst.map;
    f->ni = 0;
    f->nops = 0;
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *d = &dl->items[i];
        if (i == f->bottom || i == f->over || !gpu_draw_visible(d, f->push[2], f->push[3]))
            continue; /* drawn by video_bg.comp, transparent or collapsed to nothing */
        float s = px_scale(&d->xf, f->push[2], f->push[3]);
        int pipe;
        VkDescriptorSet set = VK_NULL_HANDLE;
        uint32_t first = f->ni, drawn = 0; /* drawn: instances at the end already drawn */
        switch (d->kind) {
        case CK_DRAW_RECT:
            pipe = items_rect(f, d, s, insts, &drawn);
            break;
        case CK_DRAW_IMAGE: {
            gpu_inst *in = &insts[f->ni++];
            inst_base(in, d);
            in->p0[3] = d->opacity;
            pipe = PIPE_IMAGE;
            set = sg->textures[d->u.image.asset].set;
            break;
        }
        case CK_DRAW_VIDEO: {
            gpu_texture *t = &sg->textures[d->u.video.asset];
            if (!t->ready) {
                if (!t->warned)
                    ck_log(CK_LOG_WARN, "gpu: video asset \"%s\" has no frame uploaded: not drawn",
                           sg->scene->assets[d->u.video.asset].id);
                t->warned = true;
                continue;
            }
            gpu_inst *in = &insts[f->ni++];
            inst_base(in, d);
            in->p0[3] = d->opacity;
            /* Video is opaque: at full opacity it replaces what is below, no blending. */
            pipe = d->opacity >= 1 ? PIPE_VIDEO_OPAQUE : PIPE_VIDEO;
            set = t->set;
            break;
        }
        case CK_DRAW_TEXT:
        default:
            items_text(f, d, s, insts);
            pipe = PIPE_TEXT;
            set = sg->atlas.set;
            break;
        }
        if (f->ni - first > drawn)
            sg->ops[f->nops++] = (gpu_draw_op){pipe, set, first, f->ni - first - drawn};
    }
}

/* 5. The render pass: over the whole output, or on the YUV path over the box of the tiles
 * the items touch only, cleared to transparent, and not at all when nothing is drawn. */
static ck_status pass_render(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    ck_gpu *gpu = sg->gpu;
    gpu_slot *sl = f->sl;
    VkCommandBuffer cb = f->cb;
    ck_status st = CK_OK;
    VkRect2D area = {{0, 0}, {(uint32_t)sg->width, (uint32_t)sg->height}};
    f->tiles = f->yuv ? gpu_overlay_tiles(sg, sl->inst.map, f->ni, f->push, &area) : 0;
    if (f->yuv && !f->tiles)
        f->nops = 0; /* nothing reaches the output */
    f->rendered = f->tiles;
    if (f->yuv && f->nops && sg->host_bg) {
        f->rendered =
            gpu_overlay_dirty(sg, sl, sl->inst.map, sg->ops, f->nops, f->push, f->tiles, &area);
        f->reused = f->rendered == 0;
        if (!f->reused)
            f->nops = gpu_overlay_trim(sg, sl, sl->inst.map, sg->ops, f->nops, f->push);
    }
    /* (Tiles to render and no draw left would still be cleared: transparent, as drawn.) */
    if ((!f->yuv || f->nops || f->rendered) && !f->reused) {
        VkClearValue none = {.color = {{0, 0, 0, 0}}};
        VkRenderPassBeginInfo rbi = {
            .sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO,
            .renderPass = f->staged && !f->yuv ? sg->pass_load : sg->pass,
            .framebuffer = sl->fb,
            .renderArea = area,
            .clearValueCount = 1,
            .pClearValues = f->yuv ? &none : &f->clear,
        };
        vkCmdBeginRenderPass(cb, &rbi, VK_SUBPASS_CONTENTS_INLINE);
        vkCmdSetScissor(cb, 0, 1, &area);
        vkCmdPushConstants(cb, sg->layout, VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof f->push, f->push);
        vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, sg->layout, 0, 1,
                                &sl->inst_set, 0, NULL);
        int bound = -1;
        for (size_t i = 0; i < f->nops; i++) {
            const gpu_draw_op *op = &sg->ops[i];
            if (op->pipe != bound) {
                vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, sg->pipes[op->pipe]);
                bound = op->pipe;
            }
            if (op->set)
                vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_GRAPHICS, sg->layout, 1, 1,
                                        &op->set, 0, NULL);
            vkCmdDraw(cb, 4, op->count, 0, op->first);
        }
        vkCmdEndRenderPass(cb);
    }
    if (!sl->inst.coherent) {
        VkMappedMemoryRange r = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, sl->inst.mem, 0,
                                 VK_WHOLE_SIZE};
        VK_TRY(vkFlushMappedMemoryRanges(gpu->device, 1, &r));
    }
    return CK_OK;
error:
    return st;
}

/* Device frames: the exported NV12 buffer is the encoder's between frames. Its ownership
 * goes to VK_QUEUE_FAMILY_EXTERNAL after each frame (release) and comes back before the
 * shaders write it again (acquire; the contents need not survive: every frame writes it
 * whole). */
static void nv12_external(gpu_frame *f, bool acquire)
{
    ck_gpu *gpu = f->sg->gpu;
    VkBufferMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = acquire ? 0 : VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = acquire ? VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT : 0,
        .srcQueueFamilyIndex = acquire ? VK_QUEUE_FAMILY_EXTERNAL : gpu->queue_family,
        .dstQueueFamilyIndex = acquire ? gpu->queue_family : VK_QUEUE_FAMILY_EXTERNAL,
        .buffer = f->sl->nv12.buf,
        .size = VK_WHOLE_SIZE,
    };
    vkCmdPipelineBarrier(
        f->cb, acquire ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT : VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
        acquire ? VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT : VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0,
        NULL, 1, &b, 0, NULL);
}

/* The NV12 frame leaves the GPU once. The CPU path: the shaders wrote host memory, made
 * visible to the host. The GPU path: one copy from device memory into the host-visible
 * buffer, or none when the frame stays on the device for the encoder. */
static void nv12_readback(gpu_frame *f)
{
    ck_gpu_scene *sg = f->sg;
    gpu_slot *sl = f->sl;
    VkCommandBuffer cb = f->cb;
    if (sg->exports) {
        nv12_external(f, false);
        return;
    }
    if (!sl->nv12_host.buf) {
        VkBufferMemoryBarrier b =
            gpu_buffer_barrier(sl->nv12.buf, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT);
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                             0, 0, NULL, 1, &b, 0, NULL);
        return;
    }
    VkBufferMemoryBarrier b =
        gpu_buffer_barrier(sl->nv12.buf, VK_ACCESS_SHADER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 0, NULL, 1, &b, 0, NULL);
    VkBufferCopy r = {0, 0, sg->nv12_bytes};
    vkCmdCopyBuffer(cb, sl->nv12.buf, sl->nv12_host.buf, 1, &r);
    b = gpu_buffer_barrier(sl->nv12_host.buf, VK_ACCESS_TRANSFER_WRITE_BIT,
                           VK_ACCESS_HOST_READ_BIT);
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL,
                         1, &b, 0, NULL);
    sg->gpu->readback_bytes += sg->nv12_bytes;
}

/* 6. Outputs: NV12 (yuv_over.comp on the YUV path, else nv12.comp from the colour target) and
 * RGBA (a copy of the colour target), made visible to the host. */
static ck_status pass_outputs(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    gpu_slot *sl = f->sl;
    VkCommandBuffer cb = f->cb;
    ck_status st = CK_OK;
    if (!f->reused && f->yuv && f->rendered && !sg->host_bg)
        st = gpu_compute_pipe(sg, GPU_CP_YUV_OVER, err);
    else if (!f->reused && !f->yuv && (sg->outputs & CK_GPU_OUT_NV12))
        st = gpu_compute_pipe(sg, GPU_CP_NV12, err);
    if (st != CK_OK)
        return st;
    if (f->reused) {
        /* Every tile is in gpu_reuse's store: blended from there when received. */
    } else if (f->yuv && f->rendered) {
        gpu_record_yuv_over(sg, sl, cb, f->rendered);
    } else if (f->yuv) {
        /* NV12 is already complete. */
    } else if (sg->outputs & CK_GPU_OUT_NV12) {
        vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->nv12_pipe);
        vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->nv12_playout, 0, 1,
                                &sl->nv12_set, 0, NULL);
        uint32_t pc[5] = {(uint32_t)sg->width, (uint32_t)sg->height, (uint32_t)sg->y_stride,
                          (uint32_t)(sg->y_stride * (size_t)sg->height), (uint32_t)sg->uv_stride};
        vkCmdPushConstants(cb, sg->nv12_playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc, pc);
        uint32_t gx = ((uint32_t)sg->width / 4 + 7) / 8, gy = ((uint32_t)sg->height / 2 + 7) / 8;
        vkCmdDispatch(cb, gx ? gx : 1, gy ? gy : 1, 1);
    }
    if (sg->outputs & CK_GPU_OUT_NV12)
        nv12_readback(f);
    if (sg->outputs & CK_GPU_OUT_RGBA) {
        VkBufferImageCopy r = {
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .imageExtent = {(uint32_t)sg->width, (uint32_t)sg->height, 1},
        };
        vkCmdCopyImageToBuffer(cb, sl->color.image, VK_IMAGE_LAYOUT_GENERAL, sl->rgba.buf, 1, &r);
        VkBufferMemoryBarrier b =
            gpu_buffer_barrier(sl->rgba.buf, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT);
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                             NULL, 1, &b, 0, NULL);
        sg->gpu->readback_bytes += (uint64_t)sg->width * sg->height * 4;
    }
    return CK_OK;
}

/* Checks the arguments and finds the frame's slot; nothing is changed on failure. */
static ck_status frame_begin(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    const ck_drawlist *dl = f->dl;
    if (!sg || !dl || (f->video_count && !f->videos) || (dl->count && !dl->items) ||
        (dl->glyph_count && !dl->glyphs))
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "ck_gpu_submit: invalid arguments");
    if (sg->gpu->lost)
        return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "the Vulkan device was lost");
    if (ck_gpu_pending(sg) >= sg->in_flight)
        return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0,
                            "%d frames already in flight: receive one first", sg->in_flight);
    ck_status st = check_input(sg, dl, f->videos, f->video_count, err);
    if (st)
        return st;
    f->sl = &sg->slots[sg->submitted % sg->slot_count];
    if (f->sl->state != SLOT_FREE)
        return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "internal: frame slot still in use");
    f->sl->host_tiles = f->sl->host_rendered = 0;
    f->cb = f->sl->cb;
    return CK_OK;
}

/* Ends the command buffer and submits it: the slot is pending until received. */
static ck_status frame_submit(gpu_frame *f, ck_error *err)
{
    ck_gpu_scene *sg = f->sg;
    ck_gpu *gpu = sg->gpu;
    gpu_slot *sl = f->sl;
    ck_status st = CK_OK;
    VK_TRY(vkEndCommandBuffer(f->cb));
    VK_TRY(vkResetFences(gpu->device, 1, &sl->fence));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &f->cb,
    };
    VK_TRY(vkQueueSubmit(gpu->queue, 1, &si, sl->fence));
    sl->state = SLOT_PENDING;
    sl->frame = f->dl->frame;
    sg->submitted++;
    gpu->frames++;
    gpu->yuv_frames += f->yuv;
    gpu->host_bg_frames += f->yuv && f->staged->asset == f->host_asset;
    gpu->reused_tile_frames += f->reused;
    gpu->reused_tiles += sl->host_tiles - sl->host_rendered;
    return CK_OK;
error:
    return st;
}

ck_status ck_gpu_submit(ck_gpu_scene *sg, const ck_drawlist *dl, const ck_gpu_video_frame *videos,
                        size_t video_count, ck_error *err)
{
    gpu_frame f = {.sg = sg, .dl = dl, .videos = videos, .video_count = video_count};
    ck_status st = frame_begin(&f, err);
    if (st)
        return st;
    ck_gpu *gpu = sg->gpu;
    if ((st = pass_glyphs(&f, err)) || (st = pass_buffers(&f, err)))
        goto fail;
    VK_TRY(vkResetCommandBuffer(f.cb, 0));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_TRY(vkBeginCommandBuffer(f.cb, &bi));
    if (sg->exports)
        nv12_external(&f, true);
    frame_bottom(&f);
    if ((st = pass_atlas(&f, err)))
        goto fail;
    frame_over(&f);
    if ((st = pass_videos(&f, err)) || (st = pass_background(&f, err)))
        goto fail;
    pass_items(&f);
    if ((st = pass_render(&f, err)))
        goto fail;
    if ((st = pass_outputs(&f, err)) || (st = frame_submit(&f, err)))
        goto fail;
    return CK_OK;

error:
fail:
    /* Glyphs rasterised for this frame never reached the atlas: forget the whole cache so
     * they are made again (the atlas' old contents stay valid, just unused), into an atlas
     * cleared first, as a reset's would be (this frame's clear may not have run). */
    glyph_cache_clear(sg);
    sg->atlas_clear = true;
    gpu_overlay_forget(sg);
    return st;
}

int ck_gpu_pending(const ck_gpu_scene *sg)
{
    return sg ? (int)(sg->submitted - sg->received) : 0;
}

ck_status ck_gpu_receive(ck_gpu_scene *sg, ck_gpu_frame *out, ck_error *err)
{
    if (!sg || !out)
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "ck_gpu_receive: invalid arguments");
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    memset(out, 0, sizeof *out);
    out->device_fd = -1;
    if (ck_gpu_pending(sg) <= 0)
        return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "no frame in flight to receive");
    if (gpu->lost)
        return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "the Vulkan device was lost");
    gpu_slot *sl = &sg->slots[sg->received % sg->slot_count];
    /* A frame takes milliseconds; a minute means the device is gone. */
    VK_TRY(vkWaitForFences(gpu->device, 1, &sl->fence, VK_TRUE, 60ull * 1000 * 1000 * 1000));
    /* The previously received frame's slot can be reused now. */
    if (sg->received > 0) {
        gpu_slot *prev = &sg->slots[(sg->received - 1) % sg->slot_count];
        if (prev->state == SLOT_HELD)
            prev->state = SLOT_FREE;
    }
    sg->received++;
    sl->state = SLOT_HELD;
    /* lavapipe compiles what a scene draws on its first frames (pipelines, variants per render
     * state), and a variant now and then later (a server's worker met one mid-burst): LLVM's
     * code is unmapped after frames 1 to 4 and every 8th (gpu_device.c; one madvise call, a
     * few microseconds when nothing came back). */
    if ((sg->received & 7) == 0 || sg->received <= 4)
        gpu_release_compiler_code(gpu);
    /* The NV12 the host reads: the CPU path's own buffer, or the GPU path's copy. */
    const gpu_buffer *nv12 = sl->nv12_host.map ? &sl->nv12_host : &sl->nv12;
    VkMappedMemoryRange r[2];
    uint32_t nr = 0;
    if (sl->rgba.map && !sl->rgba.coherent)
        r[nr++] = (VkMappedMemoryRange){VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, sl->rgba.mem,
                                        0, VK_WHOLE_SIZE};
    if (nv12->map && !nv12->coherent)
        r[nr++] = (VkMappedMemoryRange){VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, nv12->mem, 0,
                                        VK_WHOLE_SIZE};
    if (nr)
        VK_TRY(vkInvalidateMappedMemoryRanges(gpu->device, nr, r));
    if (sl->host_tiles) {
        if (sl->host_rendered && !sl->bg_rgba.coherent) {
            VkMappedMemoryRange br = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, sl->bg_rgba.mem,
                                      0, VK_WHOLE_SIZE};
            VK_TRY(vkInvalidateMappedMemoryRanges(gpu->device, 1, &br));
        }
        gpu_overlay_received(sg, sl);
    }
    out->frame = sl->frame;
    out->width = sg->width;
    out->height = sg->height;
    if (sl->rgba.map) {
        out->rgba = sl->rgba.map;
        out->rgba_stride = (size_t)sg->width * 4;
    }
    out->device_fd = -1;
    if (sg->outputs & CK_GPU_OUT_NV12) {
        out->y_stride = sg->y_stride;
        out->uv_stride = sg->uv_stride;
    }
    if (nv12->map) {
        out->y = nv12->map;
        out->uv = out->y + sg->y_stride * (size_t)sg->height;
    } else if (sg->exports) {
        out->device_fd = sl->nv12_fd;
        out->device_offset = 0;
        out->device_size = sg->nv12_bytes;
        gpu->device_frames++;
    }
    return CK_OK;
error:
    if (st == CK_ERR_GPU && !gpu->lost) {
        /* A timeout: treat the device as lost rather than hand out half a frame. */
        gpu->lost = true;
    }
    return st;
}

ck_status ck_gpu_render(ck_gpu_scene *sg, const ck_drawlist *dl, const ck_gpu_video_frame *videos,
                        size_t video_count, ck_gpu_frame *out, ck_error *err)
{
    if (ck_gpu_pending(sg) > 0)
        return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0,
                            "ck_gpu_render: %d frame(s) pending, receive them first",
                            ck_gpu_pending(sg));
    ck_status st = ck_gpu_submit(sg, dl, videos, video_count, err);
    if (st)
        return st;
    return ck_gpu_receive(sg, out, err);
}
