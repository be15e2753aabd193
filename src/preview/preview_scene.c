/* preview_scene.c: loading one generation of a scene for the preview, and watching its files.
 *
 * Mirrors ck_cli_scene_open, but keeps every problem in a ck_diags (the error overlay shows
 * them) instead of printing, and adds what only the preview needs: the segment plan, the GPU
 * scene and the list of files to watch. */
#include "preview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* scene.json, the records file and every asset: a change to any of them reloads. Video and
 * audio are watched too, harmlessly, so the list does not depend on what the GPU uses. */
#define MAX_SHADER_FILES 64

static bool make_watch_list(pv_gen *g, const pv_load_params *p)
{
    const ck_scene *s = g->cs.scene;
    int n = 2 + s->asset_count + (p->shaders ? MAX_SHADER_FILES : 0);
    g->watch = calloc((size_t)n, sizeof *g->watch);
    if (!g->watch)
        return false;
    g->watch[g->watch_count++] = dup_str(s->file);
    if (p->data)
        g->watch[g->watch_count++] = dup_str(p->data);
    for (int i = 0; i < s->asset_count; i++)
        g->watch[g->watch_count++] = dup_str(s->assets[i].path);
    if (p->shaders)
        g->watch_count +=
            pv_shaders_sources(p->shaders, g->watch + g->watch_count, MAX_SHADER_FILES);
    for (int i = 0; i < g->watch_count; i++)
        if (!g->watch[i])
            return false;
    return true;
}

bool pv_gen_load(pv_gen *g, ck_gpu *gpu, const pv_load_params *p, ck_diags *diags)
{
    memset(g, 0, sizeof *g);
    g->record = -1;
    ck_cli_scene *cs = &g->cs;
    ck_error err = {0};
    size_t errors0 = diags->errors;

    cs->scene = ck_scene_load(p->scene_dir, NULL, diags);
    if (!cs->scene)
        goto fail;
    cs->binding = ck_binding_create(cs->scene, diags);
    cs->fonts = ck_fontset_create(cs->scene, diags);
    if (!cs->binding || !cs->fonts)
        goto fail;
    if (p->data) {
        /* Records with errors are dropped by the parser; the preview still counts the file
         * as broken so the designer sees the message rather than a record going missing. */
        cs->records = ck_records_load(cs->scene, p->data, diags);
        if (!cs->records || diags->errors > errors0)
            goto fail;
        if (cs->records->count == 0) {
            ck_diag_add(diags, CK_SEV_ERROR, p->data, 0, 0, "no records");
            goto fail;
        }
    }
    cs->timeline = ck_timeline_create(cs->scene, cs->binding, cs->fonts, &err);
    if (!cs->timeline) {
        ck_diag_add_error(diags, &err);
        goto fail;
    }
    if (ck_segment_plan_make(cs->scene, cs->binding, &g->plan, &err) != CK_OK) {
        ck_diag_add_error(diags, &err);
        goto fail;
    }
    char *spv = NULL;
    if (p->shaders && !(spv = pv_shaders_compile(p->shaders, diags)))
        goto fail;
    ck_gpu_scene_params sp = {.width = p->width,
                              .height = p->height,
                              .outputs = CK_GPU_OUT_RGBA,
                              .frames_in_flight = 1,
                              .shader_dir = spv};
    g->gpu = ck_gpu_scene_create(gpu, cs->scene, cs->fonts, &sp, &err);
    if (spv) /* the pipelines are made: the SPIR-V files are no longer needed */
        pv_shaders_remove(spv);
    free(spv);
    if (!g->gpu) {
        ck_diag_add_error(diags, &err);
        goto fail;
    }
    g->videos = ck_video_set_create(cs->scene, &err);
    if (!g->videos) {
        ck_diag_add_error(diags, &err);
        goto fail;
    }
    if (!make_watch_list(g, p)) {
        ck_diag_add(diags, CK_SEV_ERROR, NULL, 0, 0, "out of memory");
        goto fail;
    }
    pv_gen_set_record(g, p->record);
    return true;
fail:
    if (diags->errors == errors0)
        ck_diag_add(diags, CK_SEV_ERROR, p->scene_dir, 0, 0, "cannot load the scene");
    pv_gen_free(g);
    return false;
}

void pv_gen_free(pv_gen *g)
{
    ck_video_set_destroy(&g->videos);
    ck_gpu_scene_destroy(&g->gpu);
    ck_segment_plan_free(&g->plan);
    ck_cli_scene_close(&g->cs);
    for (int i = 0; i < g->watch_count; i++)
        free(g->watch[i]);
    free(g->watch);
    memset(g, 0, sizeof *g);
    g->record = -1;
}

long pv_gen_record_count(const pv_gen *g)
{
    return g->cs.records ? (long)g->cs.records->count : 0;
}

void pv_gen_set_record(pv_gen *g, long index)
{
    long n = pv_gen_record_count(g);
    if (n == 0) {
        g->record = -1;
        g->cs.record = NULL;
    } else {
        g->record = index < 0 ? 0 : index >= n ? n - 1 : index;
        g->cs.record = &g->cs.records->items[g->record];
    }
    /* Fitting problems are the point of the preview's warning boxes, not a log line. */
    ck_timeline_set_record(g->cs.timeline, g->cs.record, g->cs.records ? g->cs.records->file : NULL,
                           NULL);
}

/* ---- change detection ---- */

pv_stamp pv_stamp_of(const char *path)
{
    struct stat st;
    pv_stamp s = {-1, -1, -1};
    if (stat(path, &st) == 0) {
        s.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        s.size = (int64_t)st.st_size;
        s.ino = (int64_t)st.st_ino;
    }
    return s;
}

void pv_watch_set(pv_watch *w, char **paths, int count)
{
    free(w->stamps);
    w->paths = paths;
    w->count = 0;
    w->stamps = calloc(count > 0 ? (size_t)count : 1, sizeof *w->stamps);
    if (!w->stamps)
        return; /* nothing watched: reloads only by key; not worth failing the window */
    w->count = count;
    for (int i = 0; i < count; i++)
        w->stamps[i] = pv_stamp_of(paths[i]);
}

bool pv_watch_changed(pv_watch *w)
{
    bool changed = false;
    for (int i = 0; i < w->count; i++) {
        pv_stamp s = pv_stamp_of(w->paths[i]);
        if (memcmp(&s, &w->stamps[i], sizeof s) != 0) {
            w->stamps[i] = s;
            changed = true;
        }
    }
    return changed;
}

void pv_watch_free(pv_watch *w)
{
    free(w->stamps);
    memset(w, 0, sizeof *w);
}
