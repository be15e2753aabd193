/* gpu_internal.h: what the files of engine/gpu share; not part of the public API. */
#ifndef CK_GPU_INTERNAL_H
#define CK_GPU_INTERNAL_H

#include <vulkan/vulkan.h>

#include "ck_gpu.h"

/* ---- stb wrappers (gpu_stb.c) ---- */
uint8_t *gpu_stb_decode(const uint8_t *buf, size_t len, int *w, int *h, const char **reason);
void gpu_stb_free(void *p);
int gpu_stb_write(const char *path, const uint8_t *px, int w, int h, int channels, size_t stride,
                  int jpeg);
typedef struct gpu_ttf gpu_ttf;
gpu_ttf *gpu_ttf_open(const uint8_t *data, size_t size, int *glyph_count, const char **reason);
void gpu_ttf_close(gpu_ttf *f);
uint8_t *gpu_ttf_sdf(gpu_ttf *f, int glyph, float em_px, int padding, float dist_scale, int *w,
                     int *h, int *xoff, int *yoff);
void gpu_ttf_sdf_free(uint8_t *p);

/* ---- the device ---- */
struct ck_gpu {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool pool; /* one-shot uploads at scene creation */
    bool lost;          /* VK_ERROR_DEVICE_LOST seen: every later call fails */
    /* Counters (ck_gpu_stats). validation_messages is written by the messenger callback. */
    uint64_t validation_messages;
    int64_t live_objects;
    uint64_t device_bytes;
    uint64_t frames;
    uint64_t yuv_frames;
    uint64_t host_bg_frames;
    uint64_t reused_tile_frames;
    uint64_t reused_tiles;
    uint64_t readback_bytes;
    uint64_t device_frames;
    bool validation_active; /* the layer is loaded and the messenger counts its messages */
    ck_gpu_path path;       /* the scenes' default: GPU or CPU (params, CIAK_GPU_PATH, type) */
    /* Device frames (ck_gpu_scene_params.device_frames): the extensions enabled, if any. */
    bool ext_memory_fd, ext_dma_buf;
    PFN_vkGetMemoryFdKHR get_memory_fd;
    int scenes; /* live ck_gpu_scene count */
    uint64_t code_released;
};

/* The compute pipelines, by index: nv12.comp, video_bg.comp's four variants (1 OPAQUE,
 * 2 OVERLAY), yuv_bg.comp, yuv_over.comp. */
enum { GPU_CP_NV12, GPU_CP_BG, GPU_CP_YUV_BG = GPU_CP_BG + 4, GPU_CP_YUV_OVER, GPU_CP_COUNT };
/* Makes compute pipeline `which` if it is not made yet (the CPU path makes them on first
 * use: a pipeline lavapipe compiles costs ~1.5 MB of heap, and most CPU-path scenes use none
 * of them, the host writing the background and blending the tiles). */
ck_status gpu_compute_pipe(ck_gpu_scene *sg, int which, ck_error *err);

/* On a CPU device, drops this process' pages of LLVM's code (see gpu_device.c); returns the
 * bytes of mappings released, 0 when there is nothing to do. */
size_t gpu_release_compiler_code(ck_gpu *gpu);

const char *gpu_vk_result_str(VkResult r);
/* Logs a failed Vulkan call and fills err; returns the ck_status (CK_ERR_GPU, CK_ERR_NOMEM). */
ck_status gpu_vk_fail(ck_gpu *gpu, ck_error *err, VkResult r, const char *call, const char *file,
                      int line);

/* The one checking macro: every Vulkan call that returns a VkResult goes through it. Needs
 * `gpu`, `err`, a ck_status `st` and an `error:` label in the calling function. */
#define VK_TRY(call)                                                                               \
    do {                                                                                           \
        VkResult vk_r_ = (call);                                                                   \
        if (vk_r_ != VK_SUCCESS) {                                                                 \
            st = gpu_vk_fail(gpu, err, vk_r_, #call, __FILE__, __LINE__);                          \
            goto error;                                                                            \
        }                                                                                          \
    } while (0)

/* Object accounting for the lifetime test: every create counts +1, every destroy -1. */
#define GPU_CREATED(gpu)   ((gpu)->live_objects++)
#define GPU_DESTROYED(gpu) ((gpu)->live_objects--)

/* A buffer with its own memory; host-visible ones stay mapped. */
typedef struct gpu_buffer {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size, alloc;
    void *map;
    bool coherent;
} gpu_buffer;

typedef struct gpu_image {
    VkImage image;
    VkDeviceMemory mem;
    VkImageView view;
    VkDeviceSize bytes;
    int width, height, levels;
    VkFormat format;
} gpu_image;

ck_status gpu_buffer_create(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage, bool host,
                            gpu_buffer *out, ck_error *err);
/* A device-local buffer whose memory can be exported as `handle` (one bit), with the
 * descriptor of it in *fd (the caller owns it). */
ck_status gpu_buffer_create_exported(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage,
                                     VkExternalMemoryHandleTypeFlagBits handle, gpu_buffer *out,
                                     int *fd, ck_error *err);
/* Whether a buffer with `usage` can be exported as `handle` on this device (0: no). */
bool gpu_export_supported(ck_gpu *gpu, VkBufferUsageFlags usage,
                          VkExternalMemoryHandleTypeFlagBits handle);
void gpu_buffer_destroy(ck_gpu *gpu, gpu_buffer *b);
ck_status gpu_image_create(ck_gpu *gpu, int w, int h, int levels, VkFormat format,
                           VkImageUsageFlags usage, gpu_image *out, ck_error *err);
void gpu_image_destroy(ck_gpu *gpu, gpu_image *im);

/* One-shot command buffer for uploads at scene creation: begin, record, submit and wait. */
ck_status gpu_oneshot_begin(ck_gpu *gpu, VkCommandBuffer *cb, ck_error *err);
ck_status gpu_oneshot_end(ck_gpu *gpu, VkCommandBuffer cb, ck_error *err);

/* A barrier on a whole buffer, no queue family transfer. */
VkBufferMemoryBarrier gpu_buffer_barrier(VkBuffer buf, VkAccessFlags src, VkAccessFlags dst);
/* Image layout transition for the whole image (all levels). */
void gpu_image_barrier(VkCommandBuffer cb, VkImage image, int levels, VkImageLayout from,
                       VkImageLayout to, VkAccessFlags src_access, VkAccessFlags dst_access,
                       VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage);

/* ---- the scene ---- */
#define GPU_ATLAS_SIZE 2048
/* The YUV path blends the items over the NV12 frame only in the tiles of this many output
 * px that they touch (yuv_over.comp's workgroup: 2 x 8 invocations of 32 x 2 px). */
#define GPU_TILE_W     64
#define GPU_TILE_H     16
#define GPU_MAX_SLOTS  9
#define GPU_TILE_BYTES (GPU_TILE_W * GPU_TILE_H * 4)

/* One glyph in the atlas (texels; offsets in atlas px from the origin, y down). */
typedef struct gpu_glyph {
    uint64_t key; /* font << 32 | glyph, +1 so 0 means empty */
    uint16_t x, y, w, h;
    int16_t xoff, yoff;
} gpu_glyph;

typedef struct gpu_font {
    gpu_ttf *ttf;
    uint8_t *owned; /* file bytes when read here (no fontset) */
    int glyph_count;
    bool warned; /* one warning for out-of-range glyph ids */
} gpu_font;

typedef struct gpu_texture {
    gpu_image img[3];    /* images and the atlas use img[0]; video Y, U, V */
    VkDescriptorSet set; /* set 1 */
    bool ready;          /* video: a frame has been uploaded */
    bool warned;         /* video: "no frame" logged */
} gpu_texture;

/* One frame in flight. */
typedef struct gpu_slot {
    VkCommandBuffer cb;
    VkFence fence;
    gpu_image color;
    VkFramebuffer fb;
    bool color_borrowed;      /* color and fb are slot 0's (the CPU path: see make_slot) */
    VkDescriptorSet inst_set; /* set 0: the instance buffer */
    VkDescriptorSet nv12_set; /* compute: colour image + nv12 buffer */
    VkDescriptorSet bg_set;   /* video_bg.comp: upload buffer + bg_rgba, as texel buffers */
    VkBufferView upload_view, bg_view; /* RGBA32UI views of upload and bg_rgba */
    /* The YUV path (sg->yuv_fast): yuv_bg.comp reads upload and writes nv12; yuv_over.comp
     * reads the overlays' box from bg_rgba and blends it into nv12 (RGBA32UI view nv12_view). */
    VkDescriptorSet yuv_bg_set, yuv_over_set;
    VkBufferView nv12_view;
    gpu_buffer inst;      /* host-visible instances */
    gpu_buffer upload;    /* host-visible staging (glyphs, video planes) */
    gpu_buffer rgba;      /* host-visible readback */
    gpu_buffer nv12;      /* written by the compute shaders: host-visible on the CPU path,
                             device-local on the GPU path (exported with device frames) */
    gpu_buffer nv12_host; /* GPU path without device frames: nv12 copied here, once */
    int nv12_fd;          /* device frames: the exported nv12's descriptor (-1: none) */
    gpu_buffer bg_rgba;   /* video_bg.comp output, copied to `color` (scenes with video); on
                             the YUV path, the items' tiles copied from `color` (4 KiB each,
                             packed), then the tile list */
    int64_t frame;
    /* host_bg: the tiles the host blends over nv12 when the frame is received (their list:
     * gpu_reuse.lists), and of those the ones rendered, packed in bg_rgba, that it first
     * copies into the tile store. */
    uint32_t host_tiles, host_rendered;
    enum { SLOT_FREE, SLOT_PENDING, SLOT_HELD } state;
} gpu_slot;

/* The graphics pipelines. The _OPAQUE ones blend nothing (the source replaces the target):
 * for items known to be opaque everywhere they draw, which spares a software rasteriser the
 * read of the target. */
enum {
    PIPE_RECT,        /* rect.frag */
    PIPE_IMAGE,       /* image.frag */
    PIPE_VIDEO,       /* video.frag */
    PIPE_TEXT,        /* text.frag */
    PIPE_FILL,        /* fill.frag: the inside of a rect */
    PIPE_FILL_OPAQUE, /* fill.frag, opaque solid fill */
    PIPE_VIDEO_OPAQUE,
    PIPE_COUNT
};

/* One draw of the frame: `count` instances from `first` with pipeline `pipe` (and texture
 * set `set`, if any). */
typedef struct gpu_draw_op {
    int pipe;
    VkDescriptorSet set;
    uint32_t first, count;
} gpu_draw_op;

/* Pending atlas upload (glyph bitmaps placed this frame). */
typedef struct gpu_glyph_upload {
    uint8_t *px; /* w*h bytes: the bitmap cache's, or malloc'd when `owned` */
    uint16_t x, y, w, h;
    bool owned;
} gpu_glyph_upload;

/* A glyph's SDF bitmap, kept while the atlas is reset per segment (ck_gpu_scene_reset_glyphs)
 * so that a glyph is rasterised once per scene, not once per segment. */
typedef struct gpu_sdf {
    uint64_t key; /* as gpu_glyph's; 0: empty slot */
    uint8_t *px;  /* NULL: nothing to draw (a space) */
    uint16_t w, h;
    int16_t xoff, yoff;
} gpu_sdf;

/* What of a 64x16 RGBA tile does not depend on the frame under it (gpu_host_tile_plan): per
 * pair of rows, spans of 2x2 blocks that are SOLID (opaque: their NV12 bytes made once, in y
 * and uv) or MIXED (blended each frame); transparent blocks are in no span. */
enum { GPU_SPAN_SOLID, GPU_SPAN_MIXED };
typedef struct gpu_tile_span {
    uint8_t kind, c0, c1; /* block columns c0 .. c1 - 1 */
} gpu_tile_span;
typedef struct gpu_tile_plan {
    uint8_t y[GPU_TILE_H][GPU_TILE_W];      /* SOLID blocks' luma */
    uint8_t uv[GPU_TILE_H / 2][GPU_TILE_W]; /* ... and CbCr */
    uint8_t nspans[GPU_TILE_H / 2];
    gpu_tile_span spans[GPU_TILE_H / 2][GPU_TILE_W / 2];
} gpu_tile_plan;

/* Tiles reused across frames, per tile (host_bg scenes only). A tile's pixels depend only on
 * the instances whose quads touch it (gpu_overlay_tiles' boxes), in draw order, with their
 * pipelines and texture sets, the push constants and, for text, the atlas' contents: a 128-bit
 * key of all that. A tile whose key is the one the store holds for it is not rendered again;
 * only the others are, inside the box of those (render area and scissor), copied out and put
 * into the store when the frame is received. Frames in flight: `key` says what the store will
 * hold once every submitted frame is received (receiving is in order), so a frame's clean
 * tiles are in the store when it is received, and nothing later has overwritten them. */
typedef struct gpu_reuse {
    bool off;             /* CIAK_GPU_TILE_REUSE=0: every tile rendered every frame */
    uint64_t atlas_gen;   /* bumped whenever glyph placements are forgotten (the atlas is reset);
                             uploads in between only fill atlas texels no placed glyph samples */
    uint64_t *key;        /* 2 per tile: what the store holds for it (0, 0: nothing reusable) */
    uint64_t *acc;        /* 2 per tile: this frame's key, being made */
    uint8_t *store;       /* GPU_TILE_BYTES per tile, by position: the pixels last rendered there */
    gpu_tile_plan *plans; /* per tile: the plan of its pixels in store (gpu_host_tile_plan) */
    uint32_t *lists;      /* per slot, 2 * tiles: the tiles blended, then the ones rendered */
} gpu_reuse;

/* yuv_bg.comp's constants (the first part of its push constants). */
typedef struct gpu_yuv_bg {
    float ky[4], kc[4], base[4], tcoef[4];
} gpu_yuv_bg;

/* A row's map of byte i: to_byte(a + b * (s * (i - off) + c)) (gpu_host.c). */
typedef struct gpu_row_coef {
    float a, b, s, off, c;
} gpu_row_coef;
/* The host's per-row tables (gpu_host.c), kept across frames while its constants hold. */
typedef struct gpu_host_tables {
    gpu_yuv_bg k;       /* the constants they were made for */
    int rows;           /* the frame's height; 0: none made */
    uint8_t *tables;    /* 256 bytes each: luma's, then chroma's (Cb, Cr pairs) */
    uint8_t *ident;     /* per table: it maps every byte to itself (for chroma: both of the pair) */
    gpu_row_coef *coef; /* per table: its factors (the AVX2 path computes with them) */
    uint32_t *row;      /* per luma row, then per chroma row: its table */
} gpu_host_tables;

struct ck_gpu_scene {
    ck_gpu *gpu;
    const ck_scene *scene;
    int width, height; /* output px */
    unsigned outputs;
    int in_flight;  /* max pending */
    int slot_count; /* in_flight + 1: one more slot is held by the last received frame */
    bool has_video; /* the scene has video assets: slots get video_bg.comp's resources */
    /* NV12 is the only output, the scene has video and the width is a multiple of 32: frames
     * whose bottom layer video_bg.comp could draw are composited in YUV instead (yuv_bg.comp,
     * then the other items through the render pass and yuv_over.comp, over their box only). */
    bool yuv_fast;
    /* yuv_fast on a CPU device: the host writes the background into the NV12 buffer itself
     * (gpu_host.c) instead of staging the planes for yuv_bg.comp, and blends the items' tiles
     * over it when the frame is received instead of yuv_over.comp (bg_rgba is mapped). */
    bool host_bg;
    bool cpu_path;         /* the CPU path (ck_gpu_path): shaders write host memory */
    ck_gpu_export exports; /* device frames handed over this way (NONE: read back) */

    VkRenderPass pass;      /* clears the colour target */
    VkRenderPass pass_load; /* keeps the video_bg.comp frame (compatible with `pass`) */
    VkDescriptorSetLayout inst_layout, tex_layout, nv12_layout, bg_layout;
    VkPipelineLayout layout, nv12_playout, bg_playout;
    VkPipeline pipes[PIPE_COUNT];
    VkPipeline nv12_pipe;
    VkPipeline bg_pipes[4]; /* video_bg.comp; index: 1 OPAQUE, 2 OVERLAY (its spec. constants) */
    VkPipeline yuv_bg_pipe, yuv_over_pipe; /* bg_layout and bg_playout too */
    /* The compute shaders' modules (nv12, video_bg, yuv_bg, yuv_over), kept for the pipelines
     * the CPU path makes on first use (gpu_compute_pipe). */
    VkShaderModule cmod[4];
    VkSampler sampler; /* linear, clamp, mipmapped */
    VkDescriptorPool dpool;
    VkCommandPool cpool;

    gpu_font *fonts;       /* by asset index; ttf NULL for non-fonts */
    gpu_texture *textures; /* by asset index: images and videos */
    gpu_texture atlas;
    gpu_glyph *glyphs; /* open-addressing table */
    size_t glyph_cap, glyph_used;
    int shelf_x, shelf_y, shelf_h; /* atlas packing */
    bool atlas_full_warned;
    bool atlas_dirty; /* glyphs were uploaded since the atlas was last cleared */
    bool atlas_clear; /* clear it before the next frame's uploads (after a reset) */
    gpu_sdf *sdfs;    /* open-addressing table; owns the bitmaps */
    size_t sdf_cap, sdf_used;
    gpu_glyph_upload *ups;
    size_t up_count, up_cap;

    gpu_slot slots[GPU_MAX_SLOTS];
    int64_t submitted, received; /* counters; slot = counter % slot_count */
    bool held;                   /* slots[(received-1) % n] holds the last received frame */

    size_t y_stride, uv_stride, nv12_bytes;

    /* The frame's draws, gathered before the render pass begins (its area is known only
     * then): per frame, grown on demand, freed with the scene. */
    gpu_draw_op *ops;
    size_t op_cap;
    /* The YUV path's tiles (yuv_fast only; made with the scene): which ones the frame's items
     * touch, their list (tx | ty << 16) and the copies of them out of the colour target. */
    int tiles_x, tiles_y;
    uint8_t *tile_mask;
    uint32_t *tile_list;
    VkBufferImageCopy *tile_copies;
    gpu_reuse reuse;
    gpu_host_tables host_tables; /* host_bg: gpu_host_yuv_bg's */
};

/* Mirrors struct ck_inst in shaders/common.glsl (std430: nine vec4). */
typedef struct gpu_inst {
    float xf[4];
    float tr[4];
    float rect[4];
    float uv[4];
    float c0[4], c1[4], c2[4];
    float p0[4];
    float p1[4];
} gpu_inst;

/* Whether an item draws anything: a skipped one costs nothing, while a software rasteriser
 * shades every pixel of a transparent full-frame shape (the demo scenes' "shade" layer). sx,
 * sy: canvas -> output scale. */
bool gpu_draw_visible(const ck_draw *d, float sx, float sy);
/* Premultiplied colour. */
void gpu_premul(float out[4], ck_color c);

/* ---- the bottom layer and the YUV path (gpu_bg.c); push: the frame's push constants
 * (output size, canvas -> output scale) ---- */
/* Whether video_bg.comp (or the YUV path) can draw item d from frame v: 1:1 on the whole
 * output, a width multiple of 32. */
bool gpu_bg_video_fits(const ck_draw *d, const ck_gpu_video_frame *v, const ck_gpu_scene *sg,
                       const float push[4]);
/* Whether shape d right above that video folds into its pass (a full-frame axis-aligned
 * fill, the demos' "shade"): its colours at t = 0 and 1 in cols, its gradient parameter
 * t = t0 + t1 x + t2 y in t. */
bool gpu_bg_overlay_fits(const ck_draw *d, const ck_gpu_scene *sg, const float push[4],
                         float cols[8], float t[3]);
/* The video asset whose background the host writes this frame (gpu_host.c), -1 for none;
 * tcoef: the folded shade's gradient (zeros when none). */
int gpu_host_bg_asset(const ck_gpu_scene *sg, const ck_drawlist *dl, size_t bottom,
                      const float tcoef[3], const float push[4]);
/* Lists in sg->tile_list the 64x16 tiles the n instances touch; *area: their box. */
uint32_t gpu_overlay_tiles(ck_gpu_scene *sg, const gpu_inst *insts, uint32_t n, const float push[4],
                           VkRect2D *area);
/* host_bg: which of the `tiles` tiles gpu_overlay_tiles listed must be rendered (gpu_reuse):
 * lists them (tile_list and tile_copies, packed for the copy into bg_rgba), sets *area to their
 * box and returns how many (0: the store has every one). Records slot sl's lists, and updates
 * the keys as if the frame were received. */
uint32_t gpu_overlay_dirty(ck_gpu_scene *sg, gpu_slot *sl, const struct gpu_inst *insts,
                           const gpu_draw_op *ops, size_t nops, const float push[4], uint32_t tiles,
                           VkRect2D *area);
/* After gpu_overlay_dirty: the draws trimmed to the instances that touch a tile rendered
 * (the others draw only in kept tiles, or in none: the render pass need not shade them), in
 * place; returns how many draws are left. */
size_t gpu_overlay_trim(ck_gpu_scene *sg, const gpu_slot *sl, const struct gpu_inst *insts,
                        gpu_draw_op *ops, size_t nops, const float push[4]);
/* A received host_bg frame: its rendered tiles (in bg_rgba) into the store, then the tiles it
 * covers blended from the store over its NV12. */
void gpu_overlay_received(ck_gpu_scene *sg, gpu_slot *sl);
/* Forgets the keys (a failed submit, whose rendered tiles never reach the store): the next
 * frame renders all its tiles. */
void gpu_overlay_forget(ck_gpu_scene *sg);
/* Whether the host can do yuv_bg.comp's work under a shade with gradient parameter t = t0 +
 * t1 x + t2 y: when it does not change along rows (its tables are per row). */
bool gpu_host_bg_fits(const float t[3], int width);
/* yuv_bg.comp's constants for the background colour bg, the video's opacity and the folded
 * shade (over: its colours at t = 0 and 1; tcoef: its gradient). */
gpu_yuv_bg gpu_yuv_bg_coef(const float bg[4], float opacity, const float over[8],
                           const float tcoef[4]);
/* Records yuv_bg.comp (the video's planes staged at staged_at in the upload buffer). */
void gpu_record_yuv_bg(ck_gpu_scene *sg, gpu_slot *sl, VkCommandBuffer cb, const gpu_yuv_bg *c,
                       const VkDeviceSize staged_at[3]);
/* Records the copy of the items' tiles and yuv_over.comp (on host_bg scenes, the copy only:
 * the host blends them when the frame is received). */
void gpu_record_yuv_over(ck_gpu_scene *sg, gpu_slot *sl, VkCommandBuffer cb, uint32_t tiles);
void gpu_host_tables_free(gpu_host_tables *tb);
/* The host's vector code, at most what the CPU has: 0 none (the tables, scalar arithmetic),
 * 1 AVX2 (the background's arithmetic, mixed overlay blocks), 2 also AVX-512 VBMI (the
 * background's tables looked up 64 bytes at a time); -1 (default) all the CPU has. */
void gpu_host_force_simd(int level);
/* yuv_bg.comp's work on the host (where gpu_host_bg_fits): the 1:1 background video v under
 * constants k into an NV12 frame (planes y_out and uv_out), through tables kept in tb (zero
 * at first; gpu_host_tables_free). False: out of memory, nothing written. */
bool gpu_host_yuv_bg(const gpu_yuv_bg *k, gpu_host_tables *tb, const ck_gpu_video_frame *v,
                     uint8_t *y_out, size_t y_stride, uint8_t *uv_out, size_t uv_stride);

/* The plan of `tile` (premultiplied RGBA, 64 px a row), whose part inside the frame is tw x th. */
void gpu_host_tile_plan(gpu_tile_plan *pl, const uint8_t *tile, int tw, int th);
/* yuv_over.comp's work on the host: the `count` 64x16 RGBA tiles (premultiplied) at the
 * positions in `list` (tx | ty << 16) blended over an NV12 frame of width x height; tile (tx,
 * ty)'s pixels are at store + (ty * tiles_x + tx) * GPU_TILE_BYTES, its plan (made from those
 * pixels) at plans[ty * tiles_x + tx]. */
void gpu_host_yuv_over(const uint8_t *store, const gpu_tile_plan *plans, int tiles_x,
                       const uint32_t *list, uint32_t count, int width, int height, uint8_t *y_out,
                       size_t y_stride, uint8_t *uv_out, size_t uv_stride);

/* Points a texture's descriptor set at its images (planes 1: img[0] thrice; 3: Y, U, V). */
void gpu_texture_write_set(ck_gpu_scene *sg, gpu_texture *t, int planes);
/* Points a slot's set 0 at its (possibly regrown) instance buffer. */
void gpu_slot_write_inst_set(ck_gpu_scene *sg, gpu_slot *sl);
/* (Re)makes the view of a slot's (possibly regrown) upload buffer and points its
 * video_bg.comp set at it and bg_rgba (and, on the YUV path, its yuv_bg.comp and
 * yuv_over.comp sets at upload, bg_rgba and nv12). */
ck_status gpu_slot_write_bg_set(ck_gpu_scene *sg, gpu_slot *sl, ck_error *err);

#endif
