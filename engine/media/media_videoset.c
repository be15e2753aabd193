/* media_videoset.c: a decoder per video asset, and the frames each draw list shows. */
#include "ck_media.h"

#include <stdlib.h>

struct ck_video_set {
    const ck_scene *scene;
    ck_video_decoder **decoders; /* per asset index; NULL for assets that are not videos */
};

ck_video_set *ck_video_set_create(const ck_scene *scene, ck_error *err)
{
    ck_video_set *vs = calloc(1, sizeof *vs);
    if (vs)
        vs->decoders =
            calloc((size_t)(scene->asset_count > 0 ? scene->asset_count : 1), sizeof *vs->decoders);
    if (!vs || !vs->decoders) {
        free(vs);
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    vs->scene = scene;
    for (int i = 0; i < scene->asset_count; i++) {
        const ck_asset *a = &scene->assets[i];
        if (a->kind == CK_ASSET_VIDEO && !(vs->decoders[i] = ck_video_decoder_open(a->path, err))) {
            ck_video_set_destroy(&vs);
            return NULL;
        }
    }
    return vs;
}

void ck_video_set_destroy(ck_video_set **pvs)
{
    ck_video_set *vs = pvs ? *pvs : NULL;
    if (!vs)
        return;
    for (int i = 0; i < vs->scene->asset_count; i++)
        ck_video_decoder_destroy(&vs->decoders[i]);
    free(vs->decoders);
    free(vs);
    *pvs = NULL;
}

void ck_video_set_fit(ck_video_set *vs, int canvas_w, int canvas_h, int out_w, int out_h)
{
    for (int i = 0; i < vs->scene->asset_count; i++) {
        int w, h;
        if (!vs->decoders[i])
            continue;
        ck_video_decoder_size(vs->decoders[i], &w, &h);
        if (w == canvas_w && h == canvas_h && (out_w != w || out_h != h))
            ck_video_decoder_set_size(vs->decoders[i], out_w, out_h);
    }
}

ck_status ck_video_set_frames(ck_video_set *vs, const ck_drawlist *dl,
                              ck_gpu_video_frame out[CK_VIDEO_SET_MAX], size_t *count,
                              ck_error *err)
{
    size_t n = 0;
    *count = 0;
    for (size_t i = 0; i < dl->count; i++) {
        const ck_draw *it = &dl->items[i];
        if (it->kind != CK_DRAW_VIDEO)
            continue;
        int a = it->u.video.asset;
        if (a < 0 || a >= vs->scene->asset_count || !vs->decoders[a])
            continue;
        bool seen = false;
        for (size_t k = 0; k < n; k++)
            seen |= out[k].asset == a;
        if (seen)
            continue;
        if (n == CK_VIDEO_SET_MAX)
            return ck_error_set(err, CK_ERR_LIMIT, vs->scene->file, 0, 0,
                                "more than %d different videos drawn in one frame",
                                CK_VIDEO_SET_MAX);
        out[n].asset = a;
        ck_status st = ck_video_decoder_frame_at(vs->decoders[a], it->u.video.source_time,
                                                 it->u.video.loop, &out[n], err);
        if (st != CK_OK)
            return st;
        n++;
    }
    *count = n;
    return CK_OK;
}
