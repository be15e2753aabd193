/* bench_gpu.c: what one frame costs on the GPU side (draw list -> composited frame -> NV12 in
 * host memory, frames pipelined two in flight, the background video frame uploaded each
 * frame) against what libx264 takes to encode that same frame, at 720p and 1080p. Prints the
 * ratio gpu / x264: the compositor should cost at most a quarter of the encoder.
 *
 *   ciak_bench_gpu [--frames N] [--preset P] [--threads T] [--size WxH] [--outputs nv12|both]
 *                  [SCENE_DIR RECORDS_FILE]
 *   ciak_bench_gpu --psnr A.png B.png
 *
 * --size: one size instead of 1280x720 and 1920x1080 (width a multiple of 32 for the YUV
 * path). --outputs both: RGBA + NV12, i.e. the RGBA path (video_bg.comp, the render pass,
 * nv12.comp) and both frames read back, as `ciak frame` and the preview take it; default NV12
 * alone, the encoder's YUV path. The compositor's path (GPU or CPU) follows CIAK_GPU_PATH.
 * --psnr: PSNR (RGB, 8 bits) and the largest difference of two pictures of one size, for the
 * device run's frames against lavapipe's (bench/gpu/device-run.sh), where ffmpeg is absent.
 *
 * With a scene: its draw lists for the first record, from the first frame that depends on the
 * record, background video frames synthesised (decoding is the media module's cost). Without:
 * a synthetic demo-like frame: full-frame video, a card with a gradient and a stroke, a logo
 * image, a name with a shadow and a paragraph, moving each frame.
 * x264 (libx264 API): CRF 23, high profile, keyint 60, preset veryfast unless --preset,
 * threads auto unless --threads.
 */
#include "ck_gpu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <x264.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (every thread: on lavapipe the "GPU" is llvmpipe's threads).
 * Less disturbed than wall time by other jobs on a shared machine. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void quiet(void *user, ck_log_level level, const char *msg)
{
    (void)user;
    if (level <= CK_LOG_INFO)
        fprintf(stderr, "  %s\n", msg);
}

/* ---- the frames to draw ---- */
typedef struct source {
    ck_scene *scene; /* loaded scene, or &syn below */
    ck_scene syn;
    ck_asset syn_assets[3];
    ck_binding *binding;
    ck_fontset *fonts;
    ck_records *records;
    ck_timeline *tl;
    int64_t first;  /* first frame */
    ck_arena arena; /* per frame */
    /* synthetic */
    ck_layout name, para;
    ck_arena text_arena;
    ck_draw items[8];
    ck_glyph *glyphs;
    int video; /* video asset index, -1 none */
} source;

static char logo_path[256], font_path[512];

static bool source_synthetic(source *s)
{
    snprintf(font_path, sizeof font_path, "%s/assets/fonts/TitilliumWeb-Regular.ttf",
             CK_SOURCE_DIR);
    snprintf(logo_path, sizeof logo_path, "/tmp/ciak-bench-logo-%d.png", (int)getpid());
    uint8_t *px = malloc(256 * 256 * 4);
    for (int i = 0; i < 256 * 256; i++) {
        int x = i % 256, y = i / 256;
        px[i * 4] = (uint8_t)x;
        px[i * 4 + 1] = (uint8_t)y;
        px[i * 4 + 2] = 200;
        px[i * 4 + 3] =
            (uint8_t)((x - 128) * (x - 128) + (y - 128) * (y - 128) < 120 * 120 ? 255 : 0);
    }
    ck_error err;
    if (ck_image_write(logo_path, px, 256, 256, 4, 256 * 4, &err) != CK_OK) {
        free(px);
        fprintf(stderr, "%s\n", err.msg);
        return false;
    }
    free(px);
    s->syn_assets[0] = (ck_asset){.id = "regular", .kind = CK_ASSET_FONT, .path = font_path};
    s->syn_assets[1] = (ck_asset){.id = "logo", .kind = CK_ASSET_IMAGE, .path = logo_path};
    s->syn_assets[2] = (ck_asset){.id = "bg", .kind = CK_ASSET_VIDEO, .path = "bg.mp4"};
    s->syn = (ck_scene){.id = "synthetic",
                        .file = "synthetic",
                        .width = 1280,
                        .height = 720,
                        .fps = 30,
                        .duration = 60,
                        .frame_count = 1800,
                        .background = {0.04f, 0.24f, 0.57f, 1},
                        .assets = s->syn_assets,
                        .asset_count = 3,
                        .audio = -1};
    s->scene = &s->syn;
    s->video = 2;
    ck_diags d = {0};
    s->fonts = ck_fontset_create(s->scene, &d);
    ck_diags_free(&d);
    if (!s->fonts)
        return false;
    ck_layout_params lp = {.text = "Gentile signora Maria Addolorata D'Angelo,",
                           .font = 0,
                           .fallback_font = -1,
                           .size = 64,
                           .box_w = 1100,
                           .box_h = 100,
                           .fit = CK_FIT_SHRINK,
                           .align = CK_ALIGN_CENTER,
                           .valign = CK_ALIGN_CENTER};
    if (ck_text_layout(s->fonts, &lp, &s->text_arena, &s->name, &err) != CK_OK)
        return false;
    lp = (ck_layout_params){.text = "dal 1\xC2\xBA aprile 2025 ricevi 538,69 \xE2\x82\xAC al mese "
                                    "di assegno sociale, con la quattordicesima a luglio.",
                            .font = 0,
                            .fallback_font = -1,
                            .size = 40,
                            .box_w = 496,
                            .box_h = 236,
                            .fit = CK_FIT_WRAP,
                            .max_lines = 4};
    if (ck_text_layout(s->fonts, &lp, &s->text_arena, &s->para, &err) != CK_OK)
        return false;
    s->glyphs = calloc(s->name.glyph_count + s->para.glyph_count, sizeof *s->glyphs);
    memcpy(s->glyphs, s->name.glyphs, s->name.glyph_count * sizeof *s->glyphs);
    memcpy(s->glyphs + s->name.glyph_count, s->para.glyphs,
           s->para.glyph_count * sizeof *s->glyphs);
    return true;
}

static bool source_scene(source *s, const char *dir, const char *records)
{
    ck_diags d = {0};
    ck_error err = {0};
    ck_scene_params sp = {.skip_asset_check = true}; /* voice-over etc. are not needed */
    s->scene = ck_scene_load(dir, &sp, &d);
    if (s->scene)
        s->binding = ck_binding_create(s->scene, &d);
    if (s->binding)
        s->fonts = ck_fontset_create(s->scene, &d);
    if (s->fonts)
        s->records = ck_records_load(s->scene, records, &d);
    if (s->records && s->records->count)
        s->tl = ck_timeline_create(s->scene, s->binding, s->fonts, &err);
    for (size_t i = 0; i < d.count; i++)
        fprintf(stderr, "%s:%d: %s\n", d.items[i].file ? d.items[i].file : "", d.items[i].line,
                d.items[i].msg);
    ck_diags_free(&d);
    if (!s->tl || ck_timeline_set_record(s->tl, &s->records->items[0], records, NULL) != CK_OK)
        return false;
    s->video = -1;
    for (int i = 0; i < s->scene->asset_count; i++)
        if (s->scene->assets[i].kind == CK_ASSET_VIDEO && s->video < 0)
            s->video = i;
    for (int64_t f = 0; f < s->scene->frame_count; f += (int64_t)s->scene->fps) {
        ck_drawlist dl;
        ck_arena_reset(&s->arena);
        if (ck_timeline_eval(s->tl, f, &s->arena, &dl, &err) == CK_OK && dl.deps) {
            s->first = f;
            break;
        }
    }
    return true;
}

static bool source_frame(source *s, int i, ck_drawlist *dl)
{
    if (s->tl) {
        ck_error err;
        ck_arena_reset(&s->arena);
        int64_t f = (s->first + i) % s->scene->frame_count;
        return ck_timeline_eval(s->tl, f, &s->arena, dl, &err) == CK_OK;
    }
    ck_draw *it = s->items;
    memset(it, 0, sizeof s->items);
    ck_affine id = {1, 0, 0, 1, 0, 0};
    /* The background video, then a translucent gradient veil over it. */
    it[0] = (ck_draw){.kind = CK_DRAW_VIDEO, .xf = id, .w = 1280, .h = 720, .opacity = 1};
    it[0].u.video.asset = 2;
    it[5] = (ck_draw){.kind = CK_DRAW_RECT, .xf = id, .w = 1280, .h = 720, .opacity = 0.4f};
    it[5].u.rect.p = (ck_shape_props){.fill = {0.1f, 0.3f, 0.6f, 1},
                                      .gradient = true,
                                      .fill2 = {0.0f, 0.1f, 0.3f, 1},
                                      .gradient_angle = (float)(i % 360)};
    it[1] = (ck_draw){.kind = CK_DRAW_RECT,
                      .xf = {1, 0, 0, 1, 80.0f + (float)(i % 40), 300},
                      .w = 560,
                      .h = 300,
                      .opacity = 0.95f};
    it[1].u.rect.p = (ck_shape_props){
        .radius = 24, .fill = {1, 1, 1, 1}, .stroke = {0.04f, 0.24f, 0.57f, 1}, .stroke_width = 3};
    it[2] = (ck_draw){
        .kind = CK_DRAW_IMAGE, .xf = {1, 0, 0, 1, 1100, 40}, .w = 128, .h = 128, .opacity = 1};
    it[2].u.image.asset = 1;
    it[3] = (ck_draw){.kind = CK_DRAW_TEXT,
                      .xf = {1, 0, 0, 1, 90, 150},
                      .w = 1100,
                      .h = 100,
                      .opacity = (float)(i % 30) / 30.0f};
    it[3].u.text.glyph_first = 0;
    it[3].u.text.glyph_count = (uint32_t)s->name.glyph_count;
    it[3].u.text.size = s->name.size;
    it[3].u.text.color = (ck_color){1, 1, 1, 1};
    it[3].u.text.shadow_color = (ck_color){0, 0, 0, 0.5f};
    it[3].u.text.shadow_dx = it[3].u.text.shadow_dy = it[3].u.text.shadow_blur = 3;
    it[4] = (ck_draw){.kind = CK_DRAW_TEXT,
                      .xf = {1, 0, 0, 1, 112.0f + (float)(i % 40), 332},
                      .w = 496,
                      .h = 236,
                      .opacity = 1};
    it[4].u.text.glyph_first = (uint32_t)s->name.glyph_count;
    it[4].u.text.glyph_count = (uint32_t)s->para.glyph_count;
    it[4].u.text.size = s->para.size;
    it[4].u.text.color = (ck_color){0.04f, 0.24f, 0.57f, 1};
    *dl = (ck_drawlist){.frame = i,
                        .width = 1280,
                        .height = 720,
                        .background = s->scene->background,
                        .items = it,
                        .count = 6,
                        .glyphs = s->glyphs,
                        .glyph_count = s->name.glyph_count + s->para.glyph_count};
    return true;
}

/* ---- one size ---- */
typedef struct result {
    double gpu_ms, gpu_cpu_ms, x264_ms;
} result;

static unsigned outputs = CK_GPU_OUT_NV12;

static bool run(ck_gpu *gpu, source *src, int w, int h, int frames, const char *preset, int threads,
                result *res)
{
    ck_error err = {0};
    ck_gpu_scene_params sp = {.width = w, .height = h, .outputs = outputs};
    ck_gpu_stats st0, st1;
    ck_gpu_get_stats(gpu, &st0);
    ck_gpu_scene *sg = ck_gpu_scene_create(gpu, src->scene, src->fonts, &sp, &err);
    if (!sg) {
        fprintf(stderr, "scene: %s\n", err.msg);
        return false;
    }
    /* A background video frame at the output size, uploaded every frame as decoding would.
     * Planes taller than the frame, with the window scrolling 2 rows a frame: real motion
     * for the encoder (a still background would flatter x264), no CPU cost per frame. */
    int vw = w, vh = h, extra = 2 * 64;
    size_t ysz = (size_t)vw * (vh + extra), csz = (size_t)(vw / 2) * ((vh + extra) / 2);
    uint8_t *yuv = malloc(ysz + 2 * csz);
    uint32_t seed = 12345;
    for (size_t i = 0; i < ysz + 2 * csz; i++) {
        seed = seed * 1664525u + 1013904223u;
        size_t x = i < ysz ? i % (size_t)vw : (i - ysz) % (size_t)(vw / 2);
        uint8_t base = i < ysz ? (uint8_t)(40 + (x * 150) / (size_t)vw) : (uint8_t)(110 + x % 40);
        yuv[i] = (uint8_t)(base + (seed >> 28));
    }
    ck_gpu_video_frame vf = {
        src->video,          CK_GPU_PIX_YUV420P, vw, vh, {yuv, yuv + ysz, yuv + ysz + csz},
        {vw, vw / 2, vw / 2}};
    size_t frame_bytes = (size_t)w * h * 3 / 2;
    uint8_t *nv12 = malloc(frame_bytes * (size_t)frames);
    /* Touch every page before timing: first-touch faults of this 100-300 MB array are the
     * bench's own cost (about 2 ms a 720p frame on a VM), not the compositor's. Not 0, so
     * the compiler cannot turn malloc + memset into calloc. */
    memset(nv12, 0x80, frame_bytes * (size_t)frames);
    int got = 0;
    double t0 = 0, c0 = 0;
    for (int i = -10; i < frames; i++) { /* 10 warm-up frames (atlas, JIT) */
        if (i == 0) {
            while (ck_gpu_pending(sg) > 0) {
                ck_gpu_frame fr;
                ck_gpu_receive(sg, &fr, &err);
            }
            t0 = now_s();
            c0 = cpu_s();
        }
        int scroll = (i < 0 ? 0 : i) % 64;
        vf.planes[0] = yuv + (size_t)vw * (size_t)(2 * scroll);
        vf.planes[1] = yuv + ysz + (size_t)(vw / 2) * (size_t)scroll;
        vf.planes[2] = yuv + ysz + csz + (size_t)(vw / 2) * (size_t)scroll;
        ck_drawlist dl;
        if (!source_frame(src, i < 0 ? 0 : i, &dl)) {
            fprintf(stderr, "draw list %d failed\n", i);
            break;
        }
        if (ck_gpu_submit(sg, &dl, src->video >= 0 ? &vf : NULL, src->video >= 0 ? 1 : 0, &err) !=
            CK_OK) {
            fprintf(stderr, "submit: %s\n", err.msg);
            break;
        }
        while (ck_gpu_pending(sg) >= 2 || (i == frames - 1 && ck_gpu_pending(sg) > 0)) {
            ck_gpu_frame fr;
            if (ck_gpu_receive(sg, &fr, &err) != CK_OK)
                break;
            if (i >= 0 && got < frames) {
                uint8_t *dst = nv12 + frame_bytes * (size_t)got++;
                for (int y = 0; y < h; y++)
                    memcpy(dst + (size_t)y * w, fr.y + (size_t)y * fr.y_stride, (size_t)w);
                for (int y = 0; y < h / 2; y++)
                    memcpy(dst + (size_t)w * h + (size_t)y * w, fr.uv + (size_t)y * fr.uv_stride,
                           (size_t)w);
            }
        }
    }
    double gpu_s = now_s() - t0, gpu_cpu_s = cpu_s() - c0;
    ck_gpu_get_stats(gpu, &st1);
    printf("%4dx%-4d  %s path, %s: %llu of %llu frames in YUV, %.0f bytes read back a frame, "
           "%llu validation messages\n",
           w, h, ck_gpu_scene_path(sg) == CK_GPU_PATH_CPU ? "CPU" : "GPU",
           outputs == CK_GPU_OUT_NV12 ? "NV12 only" : "RGBA + NV12",
           (unsigned long long)(st1.yuv_frames - st0.yuv_frames),
           (unsigned long long)(st1.frames - st0.frames),
           (double)(st1.readback_bytes - st0.readback_bytes) /
               (double)(st1.frames - st0.frames ? st1.frames - st0.frames : 1),
           (unsigned long long)(st1.validation_messages - st0.validation_messages));
    ck_gpu_scene_destroy(&sg);
    free(yuv);

    /* x264 on the same frames (libx264 directly, as libavcodec would drive it). */
    x264_param_t xp;
    if (x264_param_default_preset(&xp, preset, NULL) < 0) {
        fprintf(stderr, "unknown x264 preset %s\n", preset);
        free(nv12);
        return false;
    }
    xp.i_width = w;
    xp.i_height = h;
    xp.i_csp = X264_CSP_NV12;
    xp.i_fps_num = 30;
    xp.i_fps_den = 1;
    xp.i_keyint_max = 60;
    xp.i_threads = threads; /* 0: auto */
    xp.rc.i_rc_method = X264_RC_CRF;
    xp.rc.f_rf_constant = 23;
    xp.i_log_level = X264_LOG_ERROR;
    x264_param_apply_profile(&xp, "high");
    x264_t *enc = x264_encoder_open(&xp);
    if (!enc) {
        fprintf(stderr, "cannot open libx264 (preset %s)\n", preset);
        free(nv12);
        return false;
    }
    x264_picture_t pic, pout;
    x264_picture_init(&pic);
    pic.img.i_csp = X264_CSP_NV12;
    pic.img.i_plane = 2;
    pic.img.i_stride[0] = pic.img.i_stride[1] = w;
    x264_nal_t *nals;
    int nnal;
    size_t bytes = 0;
    double t1 = now_s();
    for (int i = 0; i < got; i++) {
        pic.img.plane[0] = nv12 + frame_bytes * (size_t)i;
        pic.img.plane[1] = pic.img.plane[0] + (size_t)w * h;
        pic.i_pts = i;
        int n = x264_encoder_encode(enc, &nals, &nnal, &pic, &pout);
        if (n > 0)
            bytes += (size_t)n;
    }
    while (x264_encoder_delayed_frames(enc) > 0) {
        int n = x264_encoder_encode(enc, &nals, &nnal, NULL, &pout);
        if (n < 0)
            break;
        bytes += (size_t)n;
    }
    double x264_s = now_s() - t1;
    x264_encoder_close(enc);
    free(nv12);
    res->gpu_ms = gpu_s * 1000.0 / (got ? got : 1);
    res->gpu_cpu_ms = gpu_cpu_s * 1000.0 / (got ? got : 1);
    res->x264_ms = x264_s * 1000.0 / (got ? got : 1);
    printf("%4dx%-4d  %3d frames  gpu+nv12 %7.2f ms/frame (cpu %.2f)  x264 (%s, crf 23) %7.2f "
           "ms/frame  ratio gpu/x264 %.3f  (%zu kB)\n",
           w, h, got, res->gpu_ms, res->gpu_cpu_ms, preset, res->x264_ms,
           res->gpu_ms / res->x264_ms, bytes / 1024);
    return got == frames;
}

/* --psnr: 0 when both pictures load and have one size. */
static int psnr_main(const char *a, const char *b)
{
    ck_error err = {0};
    int wa = 0, ha = 0, wb = 0, hb = 0;
    uint8_t *pa = ck_image_read(a, &wa, &ha, &err);
    if (!pa) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint8_t *pb = ck_image_read(b, &wb, &hb, &err);
    if (!pb || wa != wb || ha != hb) {
        fprintf(stderr, "%s\n", pb ? "the pictures differ in size" : err.msg);
        free(pa);
        free(pb);
        return 1;
    }
    double se = 0;
    int max = 0;
    size_t n = 0;
    for (size_t i = 0; i < (size_t)wa * ha * 4; i++) {
        if (i % 4 == 3)
            continue; /* alpha: 255 on every composited frame */
        int e = abs((int)pa[i] - (int)pb[i]);
        max = e > max ? e : max;
        se += (double)e * e;
        n++;
    }
    double psnr = se > 0 ? 10.0 * log10(255.0 * 255.0 * (double)n / se) : 99.0;
    printf("psnr %.2f dB, max difference %d (RGB, %dx%d)\n", psnr, max, wa, ha);
    free(pa);
    free(pb);
    return 0;
}

int main(int argc, char **argv)
{
    int frames = 60, threads = 0, only_w = 0, only_h = 0;
    const char *preset = "veryfast", *dir = NULL, *records = NULL;
    if (argc == 4 && strcmp(argv[1], "--psnr") == 0)
        return psnr_main(argv[2], argv[3]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
            frames = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d", &only_w, &only_h) != 2 || only_w < 32 || only_h < 2 ||
                only_w % 2 || only_h % 2 || only_w > 8192 || only_h > 8192) {
                fprintf(stderr, "--size: WxH, even, at least 32x2\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--outputs") == 0 && i + 1 < argc) {
            const char *o = argv[++i];
            if (strcmp(o, "nv12") == 0)
                outputs = CK_GPU_OUT_NV12;
            else if (strcmp(o, "both") == 0)
                outputs = CK_GPU_OUT_NV12 | CK_GPU_OUT_RGBA;
            else {
                fprintf(stderr, "--outputs: nv12 or both\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc)
            preset = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!dir)
            dir = argv[i];
        else if (!records)
            records = argv[i];
        else {
            fprintf(stderr, "usage: ciak_bench_gpu [--frames N] [--preset P] [--threads T] "
                            "[--size WxH] [--outputs nv12|both] [SCENE_DIR RECORDS_FILE]\n");
            return 2;
        }
    }
    if (frames < 1 || frames > 1000 || (dir && !records)) {
        fprintf(stderr, "usage: ciak_bench_gpu [--frames N] [--preset P] [--threads T] "
                        "[--size WxH] [--outputs nv12|both] [SCENE_DIR RECORDS_FILE]\n");
        return 2;
    }
    ck_log_set(quiet, NULL, CK_LOG_INFO);
    ck_error err = {0};
    ck_gpu *gpu = ck_gpu_create(NULL, &err);
    if (!gpu) {
        fprintf(stderr, "no GPU: %s\n", err.msg);
        return 1;
    }
    source src;
    memset(&src, 0, sizeof src);
    bool ok = dir ? source_scene(&src, dir, records) : source_synthetic(&src);
    if (!ok) {
        fprintf(stderr, "cannot load the %s\n", dir ? "scene" : "synthetic frame");
        ck_gpu_destroy(&gpu);
        return 1;
    }
    printf("device: %s; frames: %s; %ld CPU cores\n", ck_gpu_device_name(gpu),
           dir ? dir : "synthetic demo-like", sysconf(_SC_NPROCESSORS_ONLN));
    result r720, r1080;
    if (only_w) {
        ok = run(gpu, &src, only_w, only_h, frames, preset, threads, &r720);
    } else {
        ok = run(gpu, &src, 1280, 720, frames, preset, threads, &r720);
        ok = run(gpu, &src, 1920, 1080, frames, preset, threads, &r1080) && ok;
    }
    ck_timeline_destroy(&src.tl);
    ck_records_destroy(&src.records);
    ck_fontset_destroy(&src.fonts);
    ck_binding_destroy(&src.binding);
    if (src.scene != &src.syn)
        ck_scene_destroy(&src.scene);
    ck_arena_free(&src.arena);
    ck_arena_free(&src.text_arena);
    free(src.glyphs);
    if (!dir)
        unlink(logo_path);
    ck_gpu_destroy(&gpu);
    return ok ? 0 : 1;
}
