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

#define FRAME_USAGE                                                                                \
    "usage: ciak frame SCENE_DIR --at SECONDS -o FRAME.png [--data FILE] "                         \
    "[--record N | --id ID] [--size WxH]\n"

int ck_cmd_frame(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    double at = -1;
    int width = 0, height = 0;
    ck_cli_pick pick = {.record = -1};
    for (int i = 1; i < argc; i++) {
        int r = ck_cli_pick_arg(&pick, argc, argv, &i);
        if (r < 0)
            return CK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (!ck_cli_parse_seconds(argv[++i], &at)) {
                fprintf(stderr, "ciak frame: --at needs seconds, got \"%s\"\n", argv[i]);
                return CK_EXIT_USAGE;
            }
        } else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
                   i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            char tail = 0;
            if (sscanf(argv[++i], "%dx%d%c", &width, &height, &tail) != 2 || width <= 0 ||
                height <= 0 || width > 8192 || height > 8192) {
                fprintf(stderr, "ciak frame: --size needs WIDTHxHEIGHT, got \"%s\"\n", argv[i]);
                return CK_EXIT_USAGE;
            }
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "ciak frame: unexpected argument \"%s\"\n", argv[i]);
            fputs(FRAME_USAGE, stderr);
            return CK_EXIT_USAGE;
        }
    }
    if (!dir || at < 0 || !out) {
        fputs(FRAME_USAGE, stderr);
        return CK_EXIT_USAGE;
    }

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
