/* cmd_render.c: `ciak render SCENE_DIR --data RECORD.json -o OUT_DIR [--record N | --id ID]
 * [--mp4 FILE] [--no-share] [--encoder NAME] [--cache DIR] [--size WxH] [--overlap-encoders]`
 * writes one person's
 * complete HLS folder: master playlist (index.m3u8), media playlist (video.m3u8), captions
 * (subs.m3u8 + captions.vtt) and the segments, named by digest. Shared segments are rendered
 * once into the campaign cache (var/cache/<campaign>/<version>/ by default) and linked into
 * the folder; personal ones are rendered into the folder (and reused when a segment with the
 * same digest is already there). */
#include "ck_cli.h"
#include "ck_media.h"
#include "ck_render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Puts `src` at `dst`: a hard link when they share a file system, else an atomic copy. */
static ck_status link_or_copy(const char *src, const char *dst, ck_error *err)
{
    unlink(dst);
    if (link(src, dst) == 0)
        return CK_OK;
    char *buf = NULL;
    size_t len = 0;
    ck_status st = ck_read_file(src, 1u << 30, &buf, &len, err);
    if (st == CK_OK)
        st = ck_write_atomic(dst, buf, len, 0644, err);
    free(buf);
    return st;
}

typedef struct progress_ctx {
    int total;
    bool tty;
} progress_ctx;

/* The progress bar on a TTY, as segments' frames are composited. */
static void progress(void *ctx, int done)
{
    const progress_ctx *pc = ctx;
    int total = pc->total;
    if (!pc->tty)
        return;
    int width = 30, fill = total ? done * width / total : width;
    fprintf(stderr, "\r[%.*s%*s] %d/%d segments", fill, "##############################",
            width - fill, "", done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static bool write_text(const char *dir, const char *name, char *text, ck_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    bool ok = text && ck_write_atomic(path, text, strlen(text), 0644, err) == CK_OK;
    if (!text)
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
    free(text);
    return ok;
}

typedef struct render_opts {
    const char *dir, *out, *mp4, *encoder, *cache;
    bool no_share, overlap_encoders;
    ck_cli_size size;
    ck_cli_pick pick;
} render_opts;

static const ck_opt render_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder",
     .parse = ck_opt_str,
     .offset = offsetof(render_opts, dir)},
    {.name = "--output",
     .arg = "OUT_DIR",
     .help = "the HLS folder to write (index.m3u8, segments, captions)",
     .parse = ck_opt_str,
     .offset = offsetof(render_opts, out),
     .flags = CK_OPT_REQUIRED,
     .alias = "-o"},
    {.name = "--mp4",
     .arg = "FILE",
     .help = "the segments joined into one MP4 as well",
     .parse = ck_opt_str,
     .offset = offsetof(render_opts, mp4)},
    {.name = "--no-share",
     .help = "render every segment, shared ones too (no cache)",
     .parse = ck_opt_flag,
     .offset = offsetof(render_opts, no_share)},
    {.name = "--overlap-encoders",
     .help = "encode the next segment while the last one drains: faster with a free core, one "
             "more encoder in memory (~46 MB at 720p); the same bytes",
     .parse = ck_opt_flag,
     .offset = offsetof(render_opts, overlap_encoders)},
    {.name = "--encoder",
     .arg = "NAME",
     .help = "FFmpeg video encoder (default: the best one that works)",
     .parse = ck_opt_str,
     .offset = offsetof(render_opts, encoder)},
    {.name = "--cache",
     .arg = "DIR",
     .help = "the shared segments' cache (default: var/cache/CAMPAIGN/VERSION)",
     .parse = ck_opt_str,
     .offset = offsetof(render_opts, cache)},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size, even (default: the scene's canvas)",
     .parse = ck_opt_size_even,
     .offset = offsetof(render_opts, size)},
    {0},
};

static int cmd_render(const void *opts)
{
    const render_opts *o = opts;
    const char *dir = o->dir, *out = o->out, *mp4 = o->mp4, *encoder = o->encoder,
               *cache = o->cache;
    bool no_share = o->no_share;
    int width = o->size.w, height = o->size.h;
    const ck_cli_pick pick = o->pick;

    int rc = CK_EXIT_PROBLEMS;
    ck_error err = {0};
    char ebuf[1400];
    ck_gpu *gpu = NULL;
    ck_render *r = NULL;
    ck_records *recs = NULL;
    ck_render_view view = {0};
    ck_render_speech speech = {0};
    char **files = NULL, **cache_files = NULL;
    ck_render_job *jobs = NULL;
    ck_diags d = {0};
    double t0 = ck_now_s();

    if (!(gpu = ck_gpu_create(NULL, &err)))
        goto fail;
    ck_render_params rp = {.cache_dir = cache,
                           .encoder = encoder,
                           .width = width,
                           .height = height,
                           .no_share = no_share,
                           .overlap_encoders = o->overlap_encoders,
                           .audio_in_order = true};
    if (!(r = ck_render_create(gpu, dir, &rp, &err)))
        goto fail;
    recs = ck_records_load(ck_render_scene(r), pick.data, &d);
    ck_cli_print_diags(&d);
    if (!recs || d.errors)
        goto done;
    long idx = pick.record;
    if (pick.id) {
        idx = ck_records_find(recs, pick.id);
        if (idx < 0) {
            fprintf(stderr, "%s: no record with id \"%s\"\n", pick.data, pick.id);
            goto done;
        }
    } else if ((size_t)idx >= recs->count) {
        fprintf(stderr, "%s: --record %ld is out of range (%zu record(s), numbered from 0)\n",
                pick.data, idx, recs->count);
        goto done;
    }
    const ck_record *rec = &recs->items[idx];
    if (ck_mkdirs(out, 0777, &err) != CK_OK)
        goto fail;
    /* The person's speech lines (none when the scene has no speech track). */
    ck_render_speech_make(ck_render_scene(r), rec, &speech);
    if (ck_render_view_make_speech(r, rec, &speech, &view, &err) != CK_OK)
        goto fail;

    bool tty = isatty(2);
    int reused = 0, rendered_shared = 0, rendered_personal = 0, njobs = 0;
    int64_t frames = 0;
    files = calloc((size_t)view.count, sizeof *files);
    cache_files = calloc((size_t)view.count, sizeof *cache_files);
    jobs = calloc((size_t)view.count + 1, sizeof *jobs);
    if (!files || !cache_files || !jobs) {
        ck_error_set(&err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    /* What to render: shared segments not in the campaign cache yet (they go there and are
     * linked into OUT_DIR), personal ones not already in OUT_DIR. */
    for (int i = 0; i < view.count; i++) {
        const ck_render_seg *sg = &view.segs[i];
        char dst[4096];
        snprintf(dst, sizeof dst, "%s/%s.ts", out, sg->digest);
        if (!(files[i] = strdup(dst)) ||
            (sg->shared && !(cache_files[i] = ck_render_shared_path(r, sg->digest)))) {
            ck_error_set(&err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
            goto fail;
        }
        const char *path = sg->shared ? cache_files[i] : files[i];
        if (ck_file_exists(path) && (sg->shared || !no_share)) {
            reused++;
            continue;
        }
        jobs[njobs++] = (ck_render_job){.index = i, .path = path};
        if (sg->shared)
            rendered_shared++;
        else
            rendered_personal++;
    }
    progress_ctx pc = {njobs, tty && njobs > 0}; /* no bar when everything is reused */
    progress(&pc, 0);
    if (ck_render_segments_speech(r, rec, &speech, jobs, njobs, progress, &pc, &err) != CK_OK)
        goto fail;
    for (int j = 0; j < njobs; j++)
        frames += jobs[j].stats.frames;
    for (int i = 0; i < view.count; i++)
        if (cache_files[i] && link_or_copy(cache_files[i], files[i], &err) != CK_OK)
            goto fail;

    const ck_scene *scene = ck_render_scene(r);
    bool subs = scene->caption_count > 0 || scene->speech_line_count > 0; /* captions = speech */
    ck_render_rates rates; /* every segment exists now: declare what they measure */
    ck_render_measure(&view, (const char *const *)files, &rates);
    if (!write_text(out, "video.m3u8", ck_render_media_playlist(r, &view, NULL), &err) ||
        !write_text(out, "index.m3u8",
                    ck_render_master_playlist(r, "video.m3u8", subs ? "subs.m3u8" : NULL, &rates),
                    &err) ||
        (subs && (!write_text(out, "subs.m3u8", ck_render_subs_playlist(r, "captions.vtt"), &err) ||
                  !write_text(out, "captions.vtt", ck_render_webvtt(r, rec), &err))))
        goto fail;
    if (mp4 && ck_media_ts_to_mp4((const char *const *)files, view.count, mp4, &err) != CK_OK)
        goto fail;

    double secs = ck_now_s() - t0;
    int w, h;
    ck_render_size(r, &w, &h);
    fprintf(stderr,
            "ciak render: %d segments: %d reused, %d rendered (%d shared, %d personal); "
            "%lld frames in %.1f s (%.1f fps), %dx%d, encoder %s -> %s/index.m3u8%s%s\n",
            view.count, reused, rendered_shared + rendered_personal, rendered_shared,
            rendered_personal, (long long)frames, secs, secs > 0 ? frames / secs : 0.0, w, h,
            ck_render_encoder(r), out, mp4 ? ", " : "", mp4 ? mp4 : "");
    rc = CK_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "ciak render: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
done:
    for (int i = 0; files && i < view.count; i++)
        free(files[i]);
    for (int i = 0; cache_files && i < view.count; i++)
        free(cache_files[i]);
    free(files);
    free(cache_files);
    free(jobs);
    ck_render_view_free(&view);
    ck_render_speech_free(&speech);
    ck_records_destroy(&recs);
    ck_diags_free(&d);
    ck_render_destroy(&r);
    ck_gpu_destroy(&gpu);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_render = {
    "render",
    "renders one person's complete HLS folder (and MP4), sharing segments through a cache",
    {{render_table, 0}, {ck_cli_pick_data_opts, offsetof(render_opts, pick)}},
    sizeof(render_opts),
    NULL,
    cmd_render};
