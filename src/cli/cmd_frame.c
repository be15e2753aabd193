/* cmd_frame.c: `ciak frame SCENE_DIR --data RECORD.json --at SECONDS -o frame.png
 * [--record N | --id ID] [--size WxH]` renders one composited frame on the GPU and writes it
 * as an RGB PNG (or JPEG when the name ends in .jpg): the quickest way to see a person's
 * video at a moment without encoding anything. */
#include "ck_cli.h"
#include "ck_gpu.h"
#include "ck_media.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct frame_opts {
    const char *dir, *out;
    double at;
    ck_cli_size size;
    ck_cli_pick pick;
} frame_opts;

static const ck_opt frame_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder",
     .parse = ck_opt_str,
     .offset = offsetof(frame_opts, dir)},
    {.name = "--at",
     .arg = "SECONDS",
     .help = "the moment of the frame",
     .parse = ck_opt_seconds,
     .offset = offsetof(frame_opts, at),
     .flags = CK_OPT_REQUIRED},
    {.name = "--output",
     .arg = "FRAME.png",
     .help = "the picture to write (.png, or .jpg for JPEG)",
     .parse = ck_opt_str,
     .offset = offsetof(frame_opts, out),
     .flags = CK_OPT_REQUIRED,
     .alias = "-o"},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size (default: the scene's canvas)",
     .parse = ck_opt_size,
     .offset = offsetof(frame_opts, size)},
    {0},
};

static int cmd_frame(const void *opts)
{
    const frame_opts *o = opts;
    const char *dir = o->dir, *out = o->out;
    double at = o->at;
    int width = o->size.w, height = o->size.h;
    const ck_cli_pick pick = o->pick;

    ck_cli_scene cs;
    if (!ck_cli_scene_open(&cs, dir, &pick))
        return CK_EXIT_PROBLEMS;
    int rc = CK_EXIT_PROBLEMS;
    ck_arena fa = {0};
    ck_error err = {0};
    ck_gpu *gpu = NULL;
    ck_gpu_scene *sg = NULL;
    ck_video_set *videos = NULL;
    uint8_t *rgb = NULL;
    char buf[1400];

    int64_t frame = llround(at * cs.scene->fps);
    if (frame >= cs.scene->frame_count) {
        fprintf(stderr, "ciak frame: --at %g is past the end of the video (%g s)\n", at,
                cs.scene->duration);
        rc = CK_EXIT_USAGE;
        goto done;
    }
    ck_drawlist dl;
    if (ck_timeline_eval(cs.timeline, frame, &fa, &dl, &err) != CK_OK)
        goto fail;
    if (!(gpu = ck_gpu_create(NULL, &err)))
        goto fail;
    ck_gpu_scene_params sp = {
        .width = width, .height = height, .outputs = CK_GPU_OUT_RGBA, .frames_in_flight = 1};
    if (!(sg = ck_gpu_scene_create(gpu, cs.scene, cs.fonts, &sp, &err)))
        goto fail;
    if (!(videos = ck_video_set_create(cs.scene, &err)))
        goto fail;
    ck_gpu_video_frame vf[CK_VIDEO_SET_MAX];
    size_t nv;
    if (ck_video_set_frames(videos, &dl, vf, &nv, &err) != CK_OK)
        goto fail;
    ck_gpu_frame fr;
    if (ck_gpu_render(sg, &dl, vf, nv, &fr, &err) != CK_OK)
        goto fail;
    rgb = malloc((size_t)fr.width * fr.height * 3);
    if (!rgb) {
        ck_error_set(&err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    for (int y = 0; y < fr.height; y++)
        for (int x = 0; x < fr.width; x++)
            memcpy(rgb + ((size_t)y * fr.width + x) * 3,
                   fr.rgba + (size_t)y * fr.rgba_stride + (size_t)x * 4, 3);
    if (ck_image_write(out, rgb, fr.width, fr.height, 3, (size_t)fr.width * 3, &err) != CK_OK)
        goto fail;
    fprintf(stderr, "ciak frame: wrote %s (%dx%d, frame %lld at %.3f s)\n", out, fr.width,
            fr.height, (long long)frame, (double)frame / cs.scene->fps);
    rc = CK_EXIT_OK;
    goto done;

fail:
    fprintf(stderr, "ciak frame: %s\n", ck_error_format(&err, buf, sizeof buf));
done:
    free(rgb);
    ck_video_set_destroy(&videos);
    ck_gpu_scene_destroy(&sg);
    ck_gpu_destroy(&gpu);
    ck_arena_free(&fa);
    ck_cli_scene_close(&cs);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_frame = {
    "frame",
    "renders one composited frame on the GPU to a PNG (or JPEG)",
    {{frame_table, 0}, {ck_cli_pick_opts, offsetof(frame_opts, pick)}},
    sizeof(frame_opts),
    NULL,
    cmd_frame};
