/* ck_gpu.h: the Vulkan compositor. Executes a frame's draw list (ck_timeline.h) and returns
 * the composited frame as NV12 (BT.709 limited range, for the encoder) and/or RGBA (PNGs).
 *
 * Three objects:
 *   ck_gpu        the Vulkan instance and device (one per process is plenty). Headless: no
 *                 window system. Prefers a discrete GPU, falls back to any Vulkan 1.2 device,
 *                 Mesa's lavapipe included. CIAK_VK_DEVICE=<index|name substring> picks one.
 *   ck_gpu_scene  everything one scene needs, made once: pipelines, the glyph atlas (signed
 *                 distance fields rasterised with stb_truetype on first use of each glyph),
 *                 image textures (stb_image, premultiplied alpha, mipmapped), video textures
 *                 (YUV planes the caller uploads), and a ring of frame slots (command buffer,
 *                 fence, instance buffer, upload buffer, colour target, host-visible readback
 *                 buffers) so several frames are in flight and the CPU never waits on an
 *                 idle GPU.
 *   ck_gpu_frame  a finished frame: pointers into a slot's mapped readback buffers.
 *
 * Colour: all blending is premultiplied alpha (ONE, ONE_MINUS_SRC_ALPHA) in the 8-bit,
 * gamma-encoded (non-linear) RGB of the output, as browsers and most video compositors do.
 * Scene colours are straight alpha and premultiplied here. NV12 is BT.709, limited range
 * (Y 16..235, CbCr 16..240), chroma averaged over each 2x2 block (centre siting).
 *
 * Video: a CK_DRAW_VIDEO item shows the last frame uploaded for its asset (through the
 * `videos` argument of ck_gpu_submit, YUV 4:2:0 planes, BT.709 limited range, converted on
 * the GPU). Decoding is the media module's job. A video asset with no frame
 * uploaded yet draws nothing (the layers below show through) and logs one warning per asset.
 *
 * Text: glyph ids are the font's glyph indices (ck_text.h); glyph positions are box-local
 * baseline origins; `size` is the em size in px (as HarfBuzz shapes it). A glyph index the
 * font does not have is drawn as .notdef with one logged warning. Outline widths and shadow
 * blur are limited by the atlas' distance range (CK_GPU_SDF_RANGE px at the atlas size,
 * scaled with the text size): a 48 px line can have an outline up to about 8 px.
 *
 * Errors: every call that can fail returns NULL or a ck_status and fills a ck_error; nothing
 * aborts. Every Vulkan call goes through one checking macro that logs the call, the VkResult
 * name and file:line. After VK_ERROR_DEVICE_LOST every call fails with CK_ERR_GPU.
 *
 * Thread safety: a ck_gpu and its scenes belong to one thread at a time.
 */
#ifndef CK_GPU_H
#define CK_GPU_H

#include "ck_timeline.h"

/* Glyph atlas: SDFs rasterised at this em size (px) with this distance range (px). */
#define CK_GPU_SDF_SIZE  48
#define CK_GPU_SDF_RANGE 8

typedef struct ck_gpu ck_gpu;
typedef struct ck_gpu_scene ck_gpu_scene;

/* ---- device ---- */

/* Which of the two ways of working a device takes. A real GPU does every pass in shaders,
 * into device memory, and the frame leaves it once (NV12, one copy into host memory). On a CPU
 * device (lavapipe) "device memory" is host memory and the shaders run on the host's cores:
 * shaders write the host-visible buffers directly, and the host itself writes the YUV path's
 * background and blends its tiles (gpu_host.c). CI runs both on lavapipe (test_gpu) so
 * neither can rot; CIAK_GPU_PATH=gpu|cpu forces one for any ciak program. */
typedef enum ck_gpu_path {
    CK_GPU_PATH_AUTO, /* by the device type (params: then env CIAK_GPU_PATH) */
    CK_GPU_PATH_GPU,  /* what a real GPU takes */
    CK_GPU_PATH_CPU   /* what a CPU device takes */
} ck_gpu_path;

/* Zero means default. */
typedef struct ck_gpu_params {
    const char *device; /* index ("0") or case-insensitive name substring; NULL: env
                           CIAK_VK_DEVICE, else the best device (discrete first) */
    bool validation;    /* enable VK_LAYER_KHRONOS_validation (also env CIAK_VK_VALIDATION=1);
                           every message it prints is logged and counted (ck_gpu_stats) */
    ck_gpu_path path;   /* AUTO: env CIAK_GPU_PATH ("gpu", "cpu"), else by the device type */
} ck_gpu_params;

/* Creates the instance and device and logs which device it chose. NULL on failure (no
 * Vulkan, no 1.2 device, no device matching CIAK_VK_DEVICE), with the reason in err. */
ck_gpu *ck_gpu_create(const ck_gpu_params *params, ck_error *err);
/* Waits for the device to go idle and frees everything. Every ck_gpu_scene must be destroyed
 * first. NULL-safe, clears the pointer. */
void ck_gpu_destroy(ck_gpu **gpu);

/* The chosen device's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
const char *ck_gpu_device_name(const ck_gpu *gpu);
/* Whether it is a CPU implementation (lavapipe): shaders run on the host's cores. */
bool ck_gpu_is_cpu(const ck_gpu *gpu);
/* The path scenes take by default (CK_GPU_PATH_GPU or CK_GPU_PATH_CPU, never AUTO). */
ck_gpu_path ck_gpu_default_path(const ck_gpu *gpu);

typedef struct ck_gpu_stats {
    uint64_t validation_messages; /* warnings and errors from the validation layer */
    int64_t live_objects;         /* Vulkan objects created by ciak and not yet destroyed */
    uint64_t device_bytes;        /* device memory allocated by ciak */
    uint64_t frames;              /* frames submitted, all scenes */
    uint64_t yuv_frames;     /* of those, composited in YUV (NV12-only scenes over a 1:1 video) */
    uint64_t host_bg_frames; /* of those, the background written by the host (CPU devices) */
    uint64_t reused_tile_frames; /* of those, every tile the items touch kept from an earlier
                                    frame (they drew the same there): no render pass (CPU path) */
    uint64_t reused_tiles;   /* tiles kept from an earlier frame instead of rendered (CPU path) */
    uint64_t readback_bytes; /* copied from device memory into host memory for the host to read
                                (GPU path: a frame's NV12 once, the RGBA frame when asked) */
    uint64_t device_frames;  /* frames handed over in device memory (ck_gpu_frame.device_fd) */
    uint64_t code_released;  /* bytes of LLVM's code (lavapipe's shader compiler) unmapped after
                                pipelines were compiled, counted per release (CPU devices) */
    bool validation_active;  /* the validation layer is loaded and its messages are counted */
} ck_gpu_stats;
void ck_gpu_get_stats(const ck_gpu *gpu, ck_gpu_stats *out);

/* ---- per scene ---- */

enum {
    CK_GPU_OUT_RGBA = 1, /* 8-bit RGBA, alpha 255 where the background is opaque */
    CK_GPU_OUT_NV12 = 2  /* Y plane then interleaved CbCr plane; needs even width and height */
};

/* How device frames are handed over (ck_gpu_scene_params.device_frames). */
typedef enum ck_gpu_export {
    CK_GPU_EXPORT_NONE,      /* frames come back to host memory (ck_gpu_frame.y, uv) */
    CK_GPU_EXPORT_OPAQUE_FD, /* VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD: CUDA imports it
                                (cuImportExternalMemory), NVENC encodes from CUDA memory */
    CK_GPU_EXPORT_DMA_BUF    /* a Linux DMA-BUF: VAAPI (DRM PRIME), V4L2, another GPU API */
} ck_gpu_export;

/* Zero means default. */
typedef struct ck_gpu_scene_params {
    int width, height;      /* output size in px (0: the canvas size). The canvas is scaled to it
                               (goldens render 1280x720 scenes at 320x180). */
    unsigned outputs;       /* CK_GPU_OUT_* bits (0: both). NV12 alone (the encoder's case) lets
                               frames over a 1:1 background video be composited in YUV, about
                               twice as cheap on lavapipe, within 1-2 codes of the RGBA path */
    int frames_in_flight;   /* frames submitted and not yet received (0: 2; 1..8) */
    bool shader_background; /* YUV path: the background always by yuv_bg.comp; else a CPU
                               device has the host write it (gpu_host.c), same arithmetic */
    const char *shader_dir; /* NULL: the SPIR-V built into the binary. Else a folder holding
                               "<source>.spv" for every name of ck_gpu_shader_sources(),
                               loaded instead (the preview's live shader reload). */
    ck_gpu_path path;       /* AUTO: the device's (ck_gpu_default_path) */
    ck_gpu_export device_frames; /* NV12 for an encoder on this GPU (NVENC through CUDA, VAAPI):
                                    keep the frames in device memory and hand them over as a
                                    file descriptor instead of reading them back. Taken only
                                    on the GPU path, NV12-only scenes, and where the device
                                    can export that handle type (VK_KHR_external_memory_fd,
                                    VK_EXT_external_memory_dma_buf) and env CIAK_GPU_EXPORT is
                                    not "0"; otherwise the frames come back to host memory as
                                    always (ck_gpu_scene_exports says which). */
} ck_gpu_scene_params;

/* The shader sources in shaders/ that the compositor uses ("quad.vert", "rect.frag", ...);
 * a static list. */
const char *const *ck_gpu_shader_sources(size_t *count);

/* Makes a scene's GPU resources: loads and uploads every image asset, loads every font asset
 * (the bytes come from `fonts` when it has the font, else from the asset's file; `fonts` may
 * be NULL). The scene and fonts must outlive the ck_gpu_scene. Errors name the asset: a
 * missing or corrupt image or font, an image larger than the device allows. */
ck_gpu_scene *ck_gpu_scene_create(ck_gpu *gpu, const ck_scene *scene, const ck_fontset *fonts,
                                  const ck_gpu_scene_params *params, ck_error *err);
/* Waits for the scene's frames to finish and frees it. NULL-safe, clears the pointer. */
void ck_gpu_scene_destroy(ck_gpu_scene **sg);

/* What the scene ended up with: its path (GPU or CPU) and how its NV12 frames leave it
 * (CK_GPU_EXPORT_NONE when device frames were not asked for or not possible: the fallback). */
ck_gpu_path ck_gpu_scene_path(const ck_gpu_scene *sg);
ck_gpu_export ck_gpu_scene_exports(const ck_gpu_scene *sg);

/* Output size actually used (after defaults). */
void ck_gpu_scene_size(const ck_gpu_scene *sg, int *width, int *height);
/* Forgets where glyphs sit in the atlas: the next frames rasterise and place them again, from
 * the atlas' corner, in the order they use them. A glyph's position changes its filtered
 * samples by float rounding (a code value here and there), so a renderer that must give the
 * same bytes for the same frames whatever it drew before (every HLS segment) calls this at
 * the start of each one. Safe with frames in flight (their reads are ordered before the next
 * upload); also frees the atlas of glyphs no longer used. */
void ck_gpu_scene_reset_glyphs(ck_gpu_scene *sg);

/* ---- video frames ---- */
typedef enum ck_gpu_pixfmt {
    CK_GPU_PIX_YUV420P, /* planes Y, U, V (U and V at half width and height) */
    CK_GPU_PIX_NV12,    /* planes Y, interleaved UV */
    CK_GPU_PIX_COUNT
} ck_gpu_pixfmt;

/* One decoded frame of a video asset. The bytes are copied during ck_gpu_submit. */
typedef struct ck_gpu_video_frame {
    int asset; /* scene asset index (a video asset) */
    ck_gpu_pixfmt format;
    int width, height; /* even, at most the device's image size limit */
    const uint8_t *planes[3];
    int strides[3]; /* bytes per row of each plane */
} ck_gpu_video_frame;

/* ---- rendering ---- */

/* A finished frame. The pointers stay valid until the next ck_gpu_receive on this scene (or
 * its destruction). Planes not requested in ck_gpu_scene_params.outputs are NULL. */
typedef struct ck_gpu_frame {
    int64_t frame; /* the draw list's frame number */
    int width, height;
    const uint8_t *rgba; /* width*4 bytes per row, rgba_stride apart */
    size_t rgba_stride;
    const uint8_t *y, *uv; /* NV12: height rows of y_stride, height/2 rows of uv_stride; NULL
                              when the frame stays on the device (device_fd) */
    size_t y_stride, uv_stride;
    /* The frame in device memory (ck_gpu_scene_exports() != NONE), else -1: the NV12 planes
     * at device_offset (Y) and device_offset + y_stride * height (CbCr) of the memory
     * object behind device_fd, device_size bytes. The scene owns the descriptor (one per
     * frame slot, the same for every frame of that slot, valid until the scene is
     * destroyed): dup() it for an importer that takes ownership (CUDA does). The contents are
     * complete when ck_gpu_receive returns and stay until the next receive. */
    int device_fd;
    uint64_t device_offset, device_size;
} ck_gpu_frame;

/* Records and submits one frame: uploads `videos` (may be NULL when count is 0) and any
 * glyph not yet in the atlas, draws `dl` back to front over its background, converts to the
 * outputs. Returns without waiting for the GPU. CK_ERR_LIMIT when frames_in_flight frames
 * are already waiting to be received. Draw items naming unknown assets or fonts fail with
 * CK_ERR_INVALID before anything is submitted. */
ck_status ck_gpu_submit(ck_gpu_scene *sg, const ck_drawlist *dl, const ck_gpu_video_frame *videos,
                        size_t video_count, ck_error *err);
/* Waits for the oldest submitted frame and returns it. CK_ERR_USAGE when none is pending. */
ck_status ck_gpu_receive(ck_gpu_scene *sg, ck_gpu_frame *out, ck_error *err);
/* Frames submitted and not yet received. */
int ck_gpu_pending(const ck_gpu_scene *sg);

/* Submit + receive, for one-off frames (`ciak frame`, tests). CK_ERR_USAGE if frames are
 * pending (receive them first). */
ck_status ck_gpu_render(ck_gpu_scene *sg, const ck_drawlist *dl, const ck_gpu_video_frame *videos,
                        size_t video_count, ck_gpu_frame *out, ck_error *err);

/* ---- image files (stb_image / stb_image_write, linked once here) ---- */

/* Writes 8-bit pixels (channels 1..4, `stride` bytes per row) as PNG, or JPEG (quality 90)
 * when the path ends in .jpg/.jpeg. */
ck_status ck_image_write(const char *path, const uint8_t *px, int width, int height, int channels,
                         size_t stride, ck_error *err);
/* Reads a PNG/JPEG file as 8-bit RGBA (straight alpha), malloc'd; free() it. */
uint8_t *ck_image_read(const char *path, int *width, int *height, ck_error *err);

#endif
