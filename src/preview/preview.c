/* preview.c: `ciak preview SCENE_DIR [--data FILE] [--record N | --id ID] ...`, the designers'
 * window: the scene through the same compositor and draw lists as `ciak frame`, with a
 * transport, live reload and overlays. docs/preview.md describes it; preview.h lays out the
 * files. Its options are parsed in src/cli/cmd_preview.c. */
#include "preview.h"

#include <GLFW/glfw3.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often files are checked for changes, and how often a broken scene is retried even
 * without a change to a known file (the fix may be a file the broken scene names). */
#define WATCH_PERIOD_S 0.25
#define RETRY_PERIOD_S 1.5

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
    (void)sig;
    quit_signal = 1;
}

double pv_now(void)
{
    return glfwGetTime();
}

void pv_set_status(pv_app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->status, sizeof a->status, fmt, ap);
    va_end(ap);
    a->status_until = pv_now() + 3;
    a->need_draw = true;
}

static int64_t frame_count(const pv_app *a)
{
    return a->have_gen ? a->gen.cs.scene->frame_count : 1;
}

void pv_seek(pv_app *a, int64_t frame, bool keep_playing)
{
    int64_t n = frame_count(a);
    frame = frame < 0 ? 0 : frame >= n ? n - 1 : frame;
    if (!keep_playing)
        a->playing = false;
    if (frame != a->frame)
        a->need_render = true;
    a->frame = frame;
    a->play_frame0 = frame;
    a->play_wall0 = pv_now();
    a->need_draw = true;
}

void pv_set_playing(pv_app *a, bool on)
{
    if (on && !a->looping && a->frame >= frame_count(a) - 1)
        pv_seek(a, 0, true); /* play at the end starts over */
    a->playing = on;
    a->play_frame0 = a->frame;
    a->play_wall0 = pv_now();
    a->need_draw = true;
}

/* The frame the clock says, wrapping inside the loop range. */
static void advance(pv_app *a)
{
    double fps = a->gen.cs.scene->fps;
    int64_t n = frame_count(a);
    int64_t f = a->play_frame0 + (int64_t)floor((pv_now() - a->play_wall0) * fps);
    int64_t in = a->loop_in >= 0 ? a->loop_in : 0, out = a->loop_in >= 0 ? a->loop_out : n;
    if (a->looping && f >= out) {
        a->play_frame0 = in;
        a->play_wall0 = pv_now();
        f = in;
    } else if (f >= n) {
        f = n - 1;
        a->playing = false;
    }
    if (f != a->frame) {
        a->frame = f;
        a->need_render = true;
    }
    a->need_draw = true;
}

static void render(pv_app *a)
{
    a->need_render = false;
    a->need_draw = true;
    a->have_shot = false;
    if (!a->have_gen)
        return;
    ck_error err = {0};
    char buf[1400];
    ck_arena_reset(&a->frame_arena);
    double t0 = pv_now();
    ck_gpu_video_frame vf[CK_VIDEO_SET_MAX];
    size_t nv = 0;
    if (ck_timeline_eval(a->gen.cs.timeline, a->frame, &a->frame_arena, &a->dl, &err) != CK_OK ||
        ck_video_set_frames(a->gen.videos, &a->dl, vf, &nv, &err) != CK_OK ||
        ck_gpu_render(a->gen.gpu, &a->dl, vf, nv, &a->shot, &err) != CK_OK) {
        memset(&a->dl, 0, sizeof a->dl);
        fprintf(stderr, "ciak preview: frame %lld: %s\n", (long long)a->frame,
                ck_error_format(&err, buf, sizeof buf));
        pv_set_status(a, "render failed: %s", buf);
        return;
    }
    a->render_ms = (pv_now() - t0) * 1000;
    a->have_shot = true;
}

/* ---- reload ---- */

static char *diags_text(const ck_diags *d)
{
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = 0;
    int shown = 0;
    for (size_t i = 0; i < d->count && shown < 12; i++) {
        const ck_diag *g = &d->items[i];
        if (d->errors && g->sev != CK_SEV_ERROR)
            continue;
        char line[1200];
        if (g->file && g->line > 0 && g->col > 0)
            snprintf(line, sizeof line, "%s:%d:%d: error: %s", g->file, g->line, g->col, g->msg);
        else if (g->file && g->line > 0)
            snprintf(line, sizeof line, "%s:%d: error: %s", g->file, g->line, g->msg);
        else
            snprintf(line, sizeof line, "%s%serror: %s", g->file ? g->file : "",
                     g->file ? ": " : "", g->msg);
        size_t k = strlen(line);
        if (n + k + 2 > cap)
            break;
        memcpy(s + n, line, k);
        n += k;
        s[n++] = '\n';
        s[n] = 0;
        shown++;
    }
    if (n && s[n - 1] == '\n')
        s[n - 1] = 0;
    return s;
}

void pv_reload(pv_app *a)
{
    pv_gen ng;
    ck_diags d = {.max = 64};
    pv_load_params p = a->load;
    if (a->have_gen)
        p.record = a->gen.record;
    bool ok = pv_gen_load(&ng, a->gpu, &p, &d);
    if (ok) {
        if (a->have_gen) {
            a->have_shot = false; /* its pointers die with the old GPU scene */
            pv_gen_free(&a->gen);
        }
        a->gen = ng;
        a->have_gen = true;
        pv_watch_set(&a->watch, a->gen.watch, a->gen.watch_count);
        /* --id applies once, to the first good load; unknown, it stays set for the caller. */
        long i = a->id && a->gen.cs.records ? ck_records_find(a->gen.cs.records, a->id) : -1;
        if (i >= 0) {
            pv_gen_set_record(&a->gen, i);
            a->id = NULL;
        }
        if (a->error)
            fprintf(stderr, "ciak preview: %s: reloaded, errors fixed\n", a->gen.cs.scene->file);
        free(a->error);
        a->error = NULL;
        int64_t n = frame_count(a);
        if (a->loop_out > n)
            a->loop_in = a->loop_out = -1;
        pv_seek(a, a->frame, a->playing);
        a->need_render = true;
        a->autoshot_pending = true;
    } else {
        char *text = diags_text(&d);
        bool same = a->error && text && strcmp(a->error, text) == 0;
        if (!same) {
            ck_cli_print_diags(&d);
            fprintf(stderr, "ciak preview: %s\n",
                    a->have_gen ? "keeping the last good version" : "waiting for a fix");
            free(a->error);
            a->error = text;
            a->autoshot_pending = true;
        } else {
            free(text);
        }
        a->next_retry = pv_now() + RETRY_PERIOD_S;
    }
    ck_diags_free(&d);
    a->need_draw = true;
}

/* ---- output ---- */

ck_status pv_write_shot(pv_app *a, const char *path, bool window, ck_error *err)
{
    const uint8_t *src = window ? a->window.px : a->shot.rgba;
    int w = window ? a->window.w : a->shot.width, h = window ? a->window.h : a->shot.height;
    size_t stride = window ? (size_t)a->window.w * 4 : a->shot.rgba_stride;
    if (!window && !a->have_shot)
        return ck_error_set(err, CK_ERR_USAGE, path, 0, 0, "no frame to write");
    /* RGB like `ciak frame`: the frame is opaque and the goldens compare RGB. */
    uint8_t *rgb = malloc((size_t)w * h * 3 + 1);
    if (!rgb)
        return ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(rgb + ((size_t)y * w + x) * 3, src + (size_t)y * stride + (size_t)x * 4, 3);
    ck_status s = ck_image_write(path, rgb, w, h, 3, (size_t)w * 3, err);
    free(rgb);
    return s;
}

/* Test hook: after each (re)load, the frame, the window and a status file, each written under
 * a temporary name and renamed, so a test never reads half a file. */
static void write_autoshot(pv_app *a)
{
    a->autoshot_pending = false;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    ck_error err = {0};
    int n = ++a->autoshot_count;
    snprintf(path, sizeof path, "%s/%03d.png", a->autoshot_dir, n);
    snprintf(tmp, sizeof tmp, "%s/tmp-%03d.png", a->autoshot_dir, n);
    if (a->have_shot && pv_write_shot(a, tmp, false, &err) == CK_OK)
        rename(tmp, path);
    snprintf(path, sizeof path, "%s/%03d-window.png", a->autoshot_dir, n);
    if (pv_write_shot(a, tmp, true, &err) == CK_OK)
        rename(tmp, path);
    snprintf(path, sizeof path, "%s/%03d.txt", a->autoshot_dir, n);
    snprintf(tmp, sizeof tmp, "%s/tmp-%03d.txt", a->autoshot_dir, n);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fprintf(f, "%s\nframe %lld\n%s\n", a->error ? "error" : "ok", (long long)a->frame,
                a->error ? a->error : "");
        fclose(f);
        rename(tmp, path);
    }
}

static void draw(pv_app *a)
{
    a->need_draw = false;
    int w, h;
    glfwGetFramebufferSize(a->win, &w, &h);
    if (w <= 0 || h <= 0 || !pv_image_resize(&a->window, w, h))
        return;
    pv_view_state s = {.gen = a->have_gen ? &a->gen : NULL,
                       .dl = a->have_shot ? &a->dl : NULL,
                       .frame = a->have_shot ? &a->shot : NULL,
                       .frame_index = a->frame,
                       .playing = a->playing,
                       .looping = a->looping,
                       .loop_in = a->loop_in,
                       .loop_out = a->loop_out,
                       .overlays = a->overlays,
                       .ui_scale = a->ui_scale,
                       .error = a->error,
                       .render_ms = a->render_ms,
                       .status = a->status[0] && pv_now() < a->status_until ? a->status : NULL};
    pv_view_draw(&a->window, &s);
}

/* ---- setup ---- */

/* Paths the scene lives in: scene.json (or the .json named) and the default records file. */
static bool scene_paths(const char *dir, char *json, char *samples, size_t size)
{
    size_t n = strlen(dir);
    if (n > 5 && strcmp(dir + n - 5, ".json") == 0) {
        snprintf(json, size, "%s", dir);
        char *slash = strrchr(json, '/');
        if (slash)
            snprintf(samples, size, "%.*s/samples.json", (int)(slash - json), json);
        else
            snprintf(samples, size, "samples.json");
    } else {
        ck_path_join(json, size, dir, "scene.json");
        ck_path_join(samples, size, dir, "samples.json");
    }
    return ck_file_exists(json);
}

static void initial_window_size(const pv_app *a, const ck_preview_opts *o, int *w, int *h)
{
    if (o->window.w > 0) {
        *w = o->window.w;
        *h = o->window.h;
        return;
    }
    int cw = a->have_gen ? a->gen.cs.scene->width : 1280;
    int ch = a->have_gen ? a->gen.cs.scene->height : 720;
    /* The canvas at 1:1 (pixel-exact) when it fits the screen, else scaled to 85 % of it;
     * the HUD's and the strip's 112 px go below. */
    int sw = 1920, sh = 1080;
    GLFWmonitor *m = glfwGetPrimaryMonitor();
    const GLFWvidmode *mode = m ? glfwGetVideoMode(m) : NULL;
    if (mode) {
        sw = mode->width;
        sh = mode->height;
    }
    double k = fmin(1.0, fmin(0.85 * sw / cw, (0.85 * sh - 112) / ch));
    *w = (int)(cw * k);
    *h = (int)(ch * k) + 112;
}

static void on_glfw_error(int code, const char *msg)
{
    fprintf(stderr, "ciak preview: GLFW error %d: %s\n", code, msg);
}

static void app_free(pv_app *a)
{
    pv_present_destroy(&a->present);
    if (a->win)
        glfwDestroyWindow(a->win);
    a->win = NULL;
    if (a->have_gen)
        pv_gen_free(&a->gen);
    a->have_gen = false;
    ck_gpu_destroy(&a->gpu);
    pv_watch_free(&a->watch);
    for (int i = 0; i < 2; i++)
        free(a->fallback_watch[i]);
    free(a->error);
    free(a->script);
    ck_arena_free(&a->frame_arena);
    pv_image_free(&a->window);
}

static int run_loop(pv_app *a, const ck_preview_opts *o)
{
    ck_error err = {0};
    char buf[1400];
    double next_watch = 0;
    bool settling = false;
    a->script_t0 = pv_now();
    while (!glfwWindowShouldClose(a->win) && !quit_signal) {
        double now = pv_now();
        if (a->script_next < a->script_count)
            pv_script_run(a);
        if (a->exit_at > 0 && now >= a->exit_at)
            break;
        if (now >= next_watch) {
            next_watch = now + WATCH_PERIOD_S;
            /* A change reloads once the files have stood still for a whole watch period, so
             * an editor caught mid-write (truncated, then filled) never shows a false error. */
            bool changed = pv_watch_changed(&a->watch);
            if (changed)
                settling = true;
            else if (settling || (a->error && now >= a->next_retry)) {
                settling = false;
                pv_reload(a);
            }
        }
        if (a->playing && a->have_gen && !a->scrubbing)
            advance(a);
        if (a->need_render)
            render(a);
        if (a->status[0] && now >= a->status_until) {
            a->status[0] = 0;
            a->need_draw = true;
        }
        if (a->need_draw) {
            draw(a);
            if (pv_present_frame(a->present, &a->window, &err) != CK_OK) {
                fprintf(stderr, "ciak preview: %s\n", ck_error_format(&err, buf, sizeof buf));
                return CK_EXIT_PROBLEMS;
            }
            if (a->autoshot_pending && a->autoshot_dir)
                write_autoshot(a);
        }
        if (a->playing && a->have_gen) {
            /* Sleep until the next frame is due (events still wake us). */
            double fps = a->gen.cs.scene->fps;
            double due = a->play_wall0 + (double)(a->frame - a->play_frame0 + 1) / fps;
            double wait = due - pv_now();
            if (wait > 0.0005)
                glfwWaitEventsTimeout(wait);
            else
                glfwPollEvents();
        } else {
            glfwWaitEventsTimeout(a->script_next < a->script_count ? 0.01 : 0.1);
        }
    }
    (void)o;
    return CK_EXIT_OK;
}

/* --screenshot: one frame, through the window, then out. */
static int run_screenshot(pv_app *a, const ck_preview_opts *o)
{
    ck_error err = {0};
    char buf[1400];
    render(a);
    if (!a->have_shot)
        return CK_EXIT_PROBLEMS;
    draw(a);
    if (pv_present_frame(a->present, &a->window, &err) != CK_OK ||
        pv_write_shot(a, o->screenshot, o->overlays, &err) != CK_OK) {
        fprintf(stderr, "ciak preview: %s\n", ck_error_format(&err, buf, sizeof buf));
        return CK_EXIT_PROBLEMS;
    }
    fprintf(stderr, "ciak preview: wrote %s (%dx%d, frame %lld at %.3f s)\n", o->screenshot,
            o->overlays ? a->window.w : a->shot.width, o->overlays ? a->window.h : a->shot.height,
            (long long)a->frame, (double)a->frame / a->gen.cs.scene->fps);
    return CK_EXIT_OK;
}

int ck_preview_run(const ck_preview_opts *opts)
{
    ck_preview_opts o = *opts;
    int rc;
    char json[PATH_MAX], samples[PATH_MAX];
    if (!scene_paths(o.dir, json, samples, sizeof json)) {
        fprintf(stderr, "%s: error: no scene here (cannot read %s)\n", o.dir, json);
        return CK_EXIT_PROBLEMS;
    }
    if (!o.pick.data && ck_file_exists(samples))
        o.pick.data = samples;
    if (!o.pick.data && (o.pick.record > 0 || o.pick.id)) {
        fprintf(stderr, "ciak: --record and --id need --data FILE\n");
        return CK_EXIT_USAGE;
    }
    if (o.autoshot && mkdir(o.autoshot, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "ciak preview: cannot create %s: %s\n", o.autoshot, strerror(errno));
        return CK_EXIT_PROBLEMS;
    }

    pv_app a = {.load = {.scene_dir = o.dir,
                         .data = o.pick.data,
                         .record = o.pick.record,
                         .width = o.size.w,
                         .height = o.size.h,
                         .shaders = o.shaders},
                .id = o.pick.id,
                .loop_in = -1,
                .loop_out = -1,
                .overlays = PV_OV_DEFAULT,
                .ui_scale = 1,
                .autoshot_dir = o.autoshot};
    ck_error err = {0};
    char buf[1400];
    rc = CK_EXIT_PROBLEMS;
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) {
        fprintf(stderr, "ciak preview: cannot open a window (no display? try xvfb-run)\n");
        return CK_EXIT_PROBLEMS;
    }
    if (!glfwVulkanSupported()) {
        fprintf(stderr, "ciak preview: GLFW finds no Vulkan loader\n");
        goto done;
    }
    if (!(a.gpu = ck_gpu_create(NULL, &err))) {
        fprintf(stderr, "ciak preview: %s\n", ck_error_format(&err, buf, sizeof buf));
        goto done;
    }
    a.fallback_watch[0] = strdup(json);
    a.fallback_watch[1] = strdup(o.pick.data ? o.pick.data : json);
    if (!a.fallback_watch[0] || !a.fallback_watch[1])
        goto done;
    pv_watch_set(&a.watch, a.fallback_watch, 2);
    pv_reload(&a);
    if (a.have_gen && a.id) {
        fprintf(stderr, "%s: no record with id \"%s\"\n", o.pick.data, a.id);
        goto done;
    }
    if (!a.have_gen && o.screenshot)
        goto done; /* the problems are printed already */
    if (a.have_gen && a.load.record >= pv_gen_record_count(&a.gen) && o.pick.record > 0) {
        fprintf(stderr, "%s: --record %ld is out of range (%ld record(s), numbered from 0)\n",
                o.pick.data, (long)o.pick.record, pv_gen_record_count(&a.gen));
        rc = CK_EXIT_USAGE;
        goto done;
    }
    if (o.at >= 0) {
        int64_t f = a.have_gen ? llround(o.at * a.gen.cs.scene->fps) : 0;
        if (a.have_gen && f >= a.gen.cs.scene->frame_count) {
            fprintf(stderr, "ciak preview: --at %g is past the end of the video (%g s)\n", o.at,
                    a.gen.cs.scene->duration);
            rc = CK_EXIT_USAGE;
            goto done;
        }
        a.frame = f;
    }

    int ww, wh;
    initial_window_size(&a, &o, &ww, &wh);
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
    char title[300];
    snprintf(title, sizeof title, "ciak preview: %s", o.dir);
    if (!(a.win = glfwCreateWindow(ww, wh, title, NULL, NULL))) {
        fprintf(stderr, "ciak preview: cannot create the window\n");
        goto done;
    }
    float xs = 1, ys = 1;
    glfwGetWindowContentScale(a.win, &xs, &ys);
    a.ui_scale = fmaxf(1, fmaxf(xs, ys));
    if (!(a.present = pv_present_create(a.win, &err))) {
        fprintf(stderr, "ciak preview: %s\n", ck_error_format(&err, buf, sizeof buf));
        goto done;
    }
    if (o.screenshot) {
        rc = run_screenshot(&a, &o);
        goto done;
    }
    if (o.script && !pv_script_load(&a, o.script)) {
        rc = CK_EXIT_USAGE;
        goto done;
    }
    pv_input_install(&a);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (o.exit_after > 0)
        a.exit_at = pv_now() + o.exit_after;
    /* --at opens paused on that moment; otherwise it plays from the start. */
    pv_set_playing(&a, o.at < 0 && a.have_gen);
    a.need_render = true;
    rc = run_loop(&a, &o);
done:
    app_free(&a);
    glfwTerminate();
    return rc;
}
