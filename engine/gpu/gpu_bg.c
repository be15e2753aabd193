/* gpu_bg.c: the bottom layer. Which frames have their background video drawn by
 * video_bg.comp or composited in YUV (the YUV path), the shade folded into it, and the YUV
 * path's passes: yuv_bg.comp (or the host, gpu_host.c), the items' tiles, yuv_over.comp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"

/* Whether video_bg.comp can draw item d from frame v: a frame exactly the output's size mapped
 * 1:1 onto the whole output (no rotation, flip or scaling), its width a multiple of 32 (whole
 * 16-byte texels per chroma row). Anything else goes through video.frag. */
bool gpu_bg_video_fits(const ck_draw *d, const ck_gpu_video_frame *v, const ck_gpu_scene *sg,
                       const float push[4])
{
    const float eps = 1e-3f; /* px */
    if (v->width != sg->width || v->height != sg->height || sg->width % 32 || d->xf.b != 0 ||
        d->xf.c != 0)
        return false;
    float x0 = d->xf.tx * push[2], y0 = d->xf.ty * push[3];
    float x1 = (d->xf.a * d->w + d->xf.tx) * push[2], y1 = (d->xf.d * d->h + d->xf.ty) * push[3];
    return fabsf(x0) < eps && fabsf(y0) < eps && fabsf(x1 - (float)sg->width) < eps &&
           fabsf(y1 - (float)sg->height) < eps;
}

/* Whether an item above `bottom` shows video `asset` (samples that video's textures). */
static bool video_drawn_above(const ck_drawlist *dl, size_t bottom, int asset, const float push[4])
{
    for (size_t i = bottom + 1; i < dl->count; i++)
        if (dl->items[i].kind == CK_DRAW_VIDEO && dl->items[i].u.video.asset == asset &&
            gpu_draw_visible(&dl->items[i], push[2], push[3]))
            return true;
    return false;
}

/* The video asset whose background the host writes this frame (gpu_host.c), -1 for none: on
 * a CPU device, when no item above shows the same video and the shade folded into it (tcoef,
 * zeros when none) does not change along rows (others stay with yuv_bg.comp). */
int gpu_host_bg_asset(const ck_gpu_scene *sg, const ck_drawlist *dl, size_t bottom,
                      const float tcoef[3], const float push[4])
{
    if (!sg->host_bg || bottom >= dl->count)
        return -1;
    int asset = dl->items[bottom].u.video.asset;
    if (video_drawn_above(dl, bottom, asset, push) || !gpu_host_bg_fits(tcoef, sg->width))
        return -1;
    return asset;
}

/* Whether shape d, right above a video_bg.comp video, can be folded into that pass: no stroke,
 * square corners, axis-aligned, covering the whole output so its coverage is 1 on every
 * pixel (the demos' full-frame gradient "shade"). Fills in its[0..1] the colours at t = 0 and
 * 1 (premultiplied, times the opacity) and in t[0..2] t = clamp(t0 + t1 x + t2 y) at output
 * pixel (x, y), rect.frag's gradient parameter. */
bool gpu_bg_overlay_fits(const ck_draw *d, const ck_gpu_scene *sg, const float push[4],
                         float cols[8], float t[3])
{
    const ck_shape_props *p = &d->u.rect.p;
    if (d->kind != CK_DRAW_RECT || p->radius > 0 || (p->stroke_width > 0 && p->stroke.a > 0) ||
        d->xf.b != 0 || d->xf.c != 0 || !(d->xf.a > 0) || !(d->xf.d > 0))
        return false;
    double sx = push[2], sy = push[3];
    if (d->xf.tx * sx > 0 || d->xf.ty * sy > 0 || (d->xf.a * d->w + d->xf.tx) * sx < sg->width ||
        (d->xf.d * d->h + d->xf.ty) * sy < sg->height)
        return false;
    gpu_premul(cols, p->fill);
    gpu_premul(cols + 4, p->gradient ? p->fill2 : p->fill);
    for (int i = 0; i < 8; i++)
        cols[i] *= d->opacity;
    t[0] = t[1] = t[2] = 0;
    if (p->gradient) {
        double a = p->gradient_angle * M_PI / 180.0, dx = cos(a), dy = sin(a);
        double ext = fmax(fabs(d->w * dx) + fabs(d->h * dy), 1e-6);
        t[1] = (float)(dx / (ext * d->xf.a * sx));
        t[2] = (float)(dy / (ext * d->xf.d * sy));
        t[0] = (float)(0.5 + ((0.5 / sx - d->xf.tx) / d->xf.a - d->w * 0.5) * dx / ext +
                       ((0.5 / sy - d->xf.ty) / d->xf.d - d->h * 0.5) * dy / ext);
    }
    return true;
}

/* The tiles instance `in`'s quad touches (its bounding box, one px of margin around): false
 * when it is off the output. */
static bool inst_tiles(const ck_gpu_scene *sg, const gpu_inst *in, const float push[4], int *tx0,
                       int *ty0, int *tx1, int *ty1)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (int c = 0; c < 4; c++) {
        float lx = in->rect[(c & 1) * 2], ly = in->rect[1 + (c >> 1) * 2];
        float x = (in->xf[0] * lx + in->xf[2] * ly + in->tr[0]) * push[2];
        float y = (in->xf[1] * lx + in->xf[3] * ly + in->tr[1]) * push[3];
        x0 = fminf(x0, x);
        y0 = fminf(y0, y);
        x1 = fmaxf(x1, x);
        y1 = fmaxf(y1, y);
    }
    if (!(x0 <= x1 && y0 <= y1)) { /* NaN: a broken transform, mark everything */
        x0 = y0 = 0;
        x1 = (float)sg->width;
        y1 = (float)sg->height;
    }
    /* Clamped in float first: the bounds may be far beyond int's range. */
    float fx0 = fmaxf(x0 - 1, 0), fy0 = fmaxf(y0 - 1, 0);
    float fx1 = fminf(x1 + 1, (float)sg->width), fy1 = fminf(y1 + 1, (float)sg->height);
    if (!(fx1 > fx0 && fy1 > fy0))
        return false;
    *tx0 = (int)fx0 / GPU_TILE_W;
    *ty0 = (int)fy0 / GPU_TILE_H;
    *tx1 = ((int)ceilf(fx1) - 1) / GPU_TILE_W;
    *ty1 = ((int)ceilf(fy1) - 1) / GPU_TILE_H;
    return true;
}

/* The copy of tile (tx, ty) out of the colour target into bg_rgba's k-th place. */
static VkBufferImageCopy tile_copy(const ck_gpu_scene *sg, uint32_t k, int tx, int ty)
{
    int x = tx * GPU_TILE_W, y = ty * GPU_TILE_H;
    return (VkBufferImageCopy){
        .bufferOffset = (VkDeviceSize)k * GPU_TILE_BYTES,
        .bufferRowLength = GPU_TILE_W,
        .bufferImageHeight = GPU_TILE_H,
        .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
        .imageOffset = {x, y, 0},
        .imageExtent = {(uint32_t)(sg->width - x < GPU_TILE_W ? sg->width - x : GPU_TILE_W),
                        (uint32_t)(sg->height - y < GPU_TILE_H ? sg->height - y : GPU_TILE_H), 1},
    };
}

/* A box of tiles, grown one tile at a time (empty: x1 < 0). */
typedef struct tile_box {
    int x0, y0, x1, y1;
} tile_box;

static tile_box box_empty(const ck_gpu_scene *sg)
{
    return (tile_box){sg->tiles_x, sg->tiles_y, -1, -1};
}

static void box_add(tile_box *b, int tx, int ty)
{
    b->x0 = tx < b->x0 ? tx : b->x0;
    b->y0 = ty < b->y0 ? ty : b->y0;
    b->x1 = tx > b->x1 ? tx : b->x1;
    b->y1 = ty > b->y1 ? ty : b->y1;
}

/* The render pass' area: the box of tiles, clipped to the output. */
static VkRect2D tiles_area(const ck_gpu_scene *sg, const tile_box *b)
{
    int x1 = (b->x1 + 1) * GPU_TILE_W, y1 = (b->y1 + 1) * GPU_TILE_H;
    x1 = x1 < sg->width ? x1 : sg->width;
    y1 = y1 < sg->height ? y1 : sg->height;
    return (VkRect2D){{b->x0 * GPU_TILE_W, b->y0 * GPU_TILE_H},
                      {(uint32_t)(x1 - b->x0 * GPU_TILE_W), (uint32_t)(y1 - b->y0 * GPU_TILE_H)}};
}

/* Marks the YUV path's tiles that the instances' quads touch (inst_tiles) and lists them in
 * sg->tile_list; `area` becomes the box of those tiles, clipped to the output (the render
 * pass' area). Returns how many, 0 when every quad is off the output. */
uint32_t gpu_overlay_tiles(ck_gpu_scene *sg, const gpu_inst *insts, uint32_t n, const float push[4],
                           VkRect2D *area)
{
    memset(sg->tile_mask, 0, (size_t)sg->tiles_x * sg->tiles_y);
    for (uint32_t i = 0; i < n; i++) {
        int tx0, ty0, tx1, ty1;
        if (!inst_tiles(sg, &insts[i], push, &tx0, &ty0, &tx1, &ty1))
            continue; /* off the output */
        for (int ty = ty0; ty <= ty1; ty++)
            memset(sg->tile_mask + (size_t)ty * sg->tiles_x + tx0, 1, (size_t)(tx1 - tx0 + 1));
    }
    uint32_t count = 0;
    tile_box box = box_empty(sg);
    for (int ty = 0; ty < sg->tiles_y; ty++)
        for (int tx = 0; tx < sg->tiles_x; tx++) {
            if (!sg->tile_mask[(size_t)ty * sg->tiles_x + tx])
                continue;
            sg->tile_list[count] = (uint32_t)tx | (uint32_t)ty << 16;
            sg->tile_copies[count] = tile_copy(sg, count, tx, ty);
            count++;
            box_add(&box, tx, ty);
        }
    if (count)
        *area = tiles_area(sg, &box);
    return count;
}

/* yuv_bg.comp's constants for the 1:1 background video at `opacity` over the background
 * colour bg, under the folded shape (over: its colours at t = 0 and 1, zero when none; tcoef:
 * its gradient). */
gpu_yuv_bg gpu_yuv_bg_coef(const float bg[4], float opacity, const float over[8],
                           const float tcoef[4])
{
    /* In YCbCr code values less (16, 128, 128): the background times what of it shows
     * through the video, and the shape's M f = k0 + k1 t and 1 - f.a = a0 + a1 t (t its
     * gradient parameter: f = over0 + (over1 - over0) t). */
    const float kr = 0.2126f, kg = 0.7152f, kb = 0.0722f;
    float k = 1 - opacity, l = kr * bg[0] + kg * bg[1] + kb * bg[2];
    float d[4], l0 = kr * over[0] + kg * over[1] + kb * over[2];
    for (int i = 0; i < 4; i++)
        d[i] = over[4 + i] - over[i];
    float ld = kr * d[0] + kg * d[1] + kb * d[2];
    return (gpu_yuv_bg){
        {219 * l0, 219 * ld, 1 - over[3], -d[3]},
        {224 * (over[2] - l0) / 1.8556f, 224 * (d[2] - ld) / 1.8556f,
         224 * (over[0] - l0) / 1.5748f, 224 * (d[0] - ld) / 1.5748f},
        {k * 219 * l, k * 224 * (bg[2] - l) / 1.8556f, k * 224 * (bg[0] - l) / 1.5748f, opacity},
        {tcoef[0], tcoef[1], tcoef[2], tcoef[3]}};
}

/* yuv_bg.comp: the background (yuv_bg_coef's) straight into the NV12 buffer. */
void gpu_record_yuv_bg(ck_gpu_scene *sg, gpu_slot *sl, VkCommandBuffer cb, const gpu_yuv_bg *c,
                       const VkDeviceSize staged_at[3])
{
    struct {
        float ky[4], kc[4], base[4];
        uint32_t y_off, u_off, v_off;
        int32_t width, height;
        uint32_t uv_off;
        float pad[2];
        float tcoef[4];
    } yp = {{c->ky[0], c->ky[1], c->ky[2], c->ky[3]},
            {c->kc[0], c->kc[1], c->kc[2], c->kc[3]},
            {c->base[0], c->base[1], c->base[2], c->base[3]},
            (uint32_t)(staged_at[0] / 16),
            (uint32_t)(staged_at[1] / 16),
            (uint32_t)(staged_at[2] / 16),
            sg->width,
            sg->height,
            (uint32_t)(sg->y_stride * (size_t)sg->height / 16),
            {0, 0},
            {c->tcoef[0], c->tcoef[1], c->tcoef[2], c->tcoef[3]}};
    /* Earlier frames in this slot are done with the NV12 buffer (compute, host) and bg_rgba
     * (yuv_over.comp reads it, the copy below writes it). */
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask =
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         1, &mb, 0, NULL, 0, NULL);
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->yuv_bg_pipe);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->bg_playout, 0, 1,
                            &sl->yuv_bg_set, 0, NULL);
    vkCmdPushConstants(cb, sg->bg_playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof yp, &yp);
    vkCmdDispatch(cb, ((uint32_t)sg->width / 32 + 7) / 8, ((uint32_t)sg->height / 2 + 7) / 8, 1);
}

/* yuv_over.comp: the tiles of the colour target (cleared to transparent, then drawn on by the
 * render pass) that the items touch are copied to bg_rgba, packed, with their list after them,
 * and blended over the NV12 buffer, one workgroup per tile; on a host_bg scene only the tiles
 * rendered (gpu_overlay_dirty's `tiles`) are copied, and the host blends them when the frame
 * is received instead. */
void gpu_record_yuv_over(ck_gpu_scene *sg, gpu_slot *sl, VkCommandBuffer cb, uint32_t tiles)
{
    vkCmdCopyImageToBuffer(cb, sl->color.image, VK_IMAGE_LAYOUT_GENERAL, sl->bg_rgba.buf, tiles,
                           sg->tile_copies);
    if (sg->host_bg) {
        /* The lists are gpu_reuse's, in host memory (gpu_overlay_dirty). */
        VkBufferMemoryBarrier hb = gpu_buffer_barrier(sl->bg_rgba.buf, VK_ACCESS_TRANSFER_WRITE_BIT,
                                                      VK_ACCESS_HOST_READ_BIT);
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                             NULL, 1, &hb, 0, NULL);
        return;
    }
    VkDeviceSize list_at = (VkDeviceSize)sg->tiles_x * sg->tiles_y * GPU_TILE_BYTES;
    vkCmdUpdateBuffer(cb, sl->bg_rgba.buf, list_at, tiles * sizeof *sg->tile_list, sg->tile_list);
    VkBufferMemoryBarrier b[2] = {
        gpu_buffer_barrier(sl->bg_rgba.buf, VK_ACCESS_TRANSFER_WRITE_BIT,
                           VK_ACCESS_SHADER_READ_BIT),
        /* yuv_bg.comp's frame, read and rewritten. */
        gpu_buffer_barrier(sl->nv12.buf, VK_ACCESS_SHADER_WRITE_BIT,
                           VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT),
    };
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0, NULL, 2, b, 0, NULL);
    struct {
        int32_t width, height;
        uint32_t uv_off, list_off;
    } op = {sg->width, sg->height, (uint32_t)(sg->y_stride * (size_t)sg->height / 16),
            (uint32_t)(list_at / 16)};
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->yuv_over_pipe);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, sg->bg_playout, 0, 1,
                            &sl->yuv_over_set, 0, NULL);
    vkCmdPushConstants(cb, sg->bg_playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof op, &op);
    vkCmdDispatch(cb, tiles, 1, 1);
}

/* ---- tiles reused across frames (host_bg scenes, gpu_reuse) ---- */
static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t rotl64(uint64_t v, int r)
{
    return v << r | v >> (64 - r);
}

/* An instance's 128-bit key: its bytes (the same bytes draw the same pixels: the shaders read
 * nothing else per instance) and salt (the pipeline, the texture set, the atlas' generation),
 * in two lanes of different arithmetic. */
static void inst_key(const gpu_inst *in, uint64_t salt, uint64_t out[2])
{
    uint64_t w[sizeof *in / 8];
    memcpy(w, in, sizeof w);
    uint64_t a = salt ^ 0x9e3779b97f4a7c15ull, b = mix64(salt + 0x632be59bd9b4e019ull);
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        a = rotl64(a ^ w[i], 27) * 0x100000001b3ull;
        b = (b + w[i]) * 0xbf58476d1ce4e5b9ull;
        b ^= b >> 31;
    }
    out[0] = mix64(a);
    out[1] = mix64(b ^ (uint64_t)sizeof w);
}

/* Folds the instance's key into the tiles it touches, in draw order; a video's tiles are never
 * kept (the texture changes every frame): tile_mask 2. */
static void fold_inst(ck_gpu_scene *sg, const gpu_inst *in, const gpu_draw_op *op,
                      const float push[4])
{
    int tx0, ty0, tx1, ty1;
    if (!inst_tiles(sg, in, push, &tx0, &ty0, &tx1, &ty1))
        return;
    bool video = op->pipe == PIPE_VIDEO || op->pipe == PIPE_VIDEO_OPAQUE;
    uint64_t salt = (uint64_t)op->pipe << 56 ^ (uint64_t)(uintptr_t)op->set * 0x9e3779b97f4a7c15ull;
    if (op->pipe == PIPE_TEXT)
        salt ^= mix64(sg->reuse.atlas_gen + 1);
    uint64_t k[2];
    inst_key(in, salt, k);
    for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++) {
            size_t t = (size_t)ty * sg->tiles_x + tx;
            uint64_t *acc = sg->reuse.acc + 2 * t;
            acc[0] = mix64(acc[0] ^ k[0]);
            acc[1] = rotl64(acc[1], 31) * 0x94d049bb133111ebull ^ k[1];
            if (video)
                sg->tile_mask[t] = 2;
        }
}

uint32_t gpu_overlay_dirty(ck_gpu_scene *sg, gpu_slot *sl, const gpu_inst *insts,
                           const gpu_draw_op *ops, size_t nops, const float push[4], uint32_t tiles,
                           VkRect2D *area)
{
    gpu_reuse *r = &sg->reuse;
    size_t all = (size_t)sg->tiles_x * sg->tiles_y;
    uint32_t *blend = r->lists + (size_t)(sl - sg->slots) * 2 * all, *rendered = blend + all;
    uint64_t seed[2];
    inst_key(&(gpu_inst){.xf = {push[0], push[1], push[2], push[3]}}, 0, seed);
    for (uint32_t i = 0; i < tiles; i++) {
        size_t t = (size_t)(sg->tile_list[i] >> 16) * sg->tiles_x + (sg->tile_list[i] & 0xffffu);
        r->acc[2 * t] = seed[0];
        r->acc[2 * t + 1] = seed[1];
    }
    for (size_t o = 0; o < nops; o++)
        for (uint32_t i = 0; i < ops[o].count; i++)
            fold_inst(sg, &insts[ops[o].first + i], &ops[o], push);
    memcpy(blend, sg->tile_list, tiles * sizeof *blend);
    uint32_t n = 0;
    tile_box box = box_empty(sg);
    for (uint32_t i = 0; i < tiles; i++) {
        int tx = (int)(blend[i] & 0xffffu), ty = (int)(blend[i] >> 16);
        size_t t = (size_t)ty * sg->tiles_x + tx;
        uint64_t *key = r->key + 2 * t, *acc = r->acc + 2 * t;
        /* Key (0, 0) is "nothing kept": a real key that happens to be it is merely not reused. */
        bool keep = !r->off && sg->tile_mask[t] == 1 && (acc[0] | acc[1]);
        if (keep && key[0] == acc[0] && key[1] == acc[1])
            continue; /* the store has it */
        key[0] = keep ? acc[0] : 0;
        key[1] = keep ? acc[1] : 0;
        rendered[n] = blend[i];
        sg->tile_copies[n] = tile_copy(sg, n, tx, ty);
        n++;
        box_add(&box, tx, ty);
    }
    if (n)
        *area = tiles_area(sg, &box);
    sl->host_tiles = tiles;
    sl->host_rendered = n;
    return n;
}

/* Whether instance `in` touches a tile marked rendered (tile_mask 4) in the box of tiles. */
static bool touches_rendered(const ck_gpu_scene *sg, const gpu_inst *in, const float push[4])
{
    int tx0, ty0, tx1, ty1;
    if (!inst_tiles(sg, in, push, &tx0, &ty0, &tx1, &ty1))
        return false;
    for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++)
            if (sg->tile_mask[(size_t)ty * sg->tiles_x + tx] & 4)
                return true;
    return false;
}

size_t gpu_overlay_trim(ck_gpu_scene *sg, const gpu_slot *sl, const gpu_inst *insts,
                        gpu_draw_op *ops, size_t nops, const float push[4])
{
    size_t all = (size_t)sg->tiles_x * sg->tiles_y;
    const uint32_t *rendered = sg->reuse.lists + (size_t)(sl - sg->slots) * 2 * all + all;
    for (uint32_t i = 0; i < sl->host_rendered; i++)
        sg->tile_mask[(size_t)(rendered[i] >> 16) * sg->tiles_x + (rendered[i] & 0xffffu)] |= 4;
    size_t n = 0;
    for (size_t o = 0; o < nops; o++) {
        uint32_t first = ops[o].first, end = first + ops[o].count;
        while (first < end && !touches_rendered(sg, &insts[first], push))
            first++;
        while (end > first && !touches_rendered(sg, &insts[end - 1], push))
            end--;
        if (first == end)
            continue; /* draws nothing in a tile that is rendered */
        ops[n] = ops[o];
        ops[n].first = first;
        ops[n].count = end - first;
        n++;
    }
    return n;
}

void gpu_overlay_received(ck_gpu_scene *sg, gpu_slot *sl)
{
    gpu_reuse *r = &sg->reuse;
    size_t all = (size_t)sg->tiles_x * sg->tiles_y;
    const uint32_t *blend = r->lists + (size_t)(sl - sg->slots) * 2 * all, *rendered = blend + all;
    const uint8_t *src = sl->bg_rgba.map;
    for (uint32_t i = 0; i < sl->host_rendered; i++) {
        int tx = (int)(rendered[i] & 0xffffu), ty = (int)(rendered[i] >> 16);
        size_t t = (size_t)ty * sg->tiles_x + (size_t)tx;
        uint8_t *px = r->store + t * GPU_TILE_BYTES;
        memcpy(px, src + (size_t)i * GPU_TILE_BYTES, GPU_TILE_BYTES);
        int tw = sg->width - tx * GPU_TILE_W, th = sg->height - ty * GPU_TILE_H;
        gpu_host_tile_plan(&r->plans[t], px, tw < GPU_TILE_W ? tw : GPU_TILE_W,
                           th < GPU_TILE_H ? th : GPU_TILE_H);
    }
    uint8_t *nv = sl->nv12.map;
    gpu_host_yuv_over(r->store, r->plans, sg->tiles_x, blend, sl->host_tiles, sg->width, sg->height,
                      nv, sg->y_stride, nv + sg->y_stride * (size_t)sg->height, sg->uv_stride);
    sl->host_tiles = sl->host_rendered = 0;
}

void gpu_overlay_forget(ck_gpu_scene *sg)
{
    if (sg->reuse.key)
        memset(sg->reuse.key, 0, (size_t)sg->tiles_x * sg->tiles_y * 2 * sizeof *sg->reuse.key);
}
