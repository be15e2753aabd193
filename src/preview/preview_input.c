/* preview_input.c: keys and mouse of the preview window (the list is in docs/preview.md and
 * on the H help panel, preview_view.c). */
#include "preview.h"

#include <GLFW/glfw3.h>

#include <math.h>
#include <stdio.h>

static pv_app *app_of(GLFWwindow *w)
{
    return glfwGetWindowUserPointer(w);
}

/* Next (dir > 0) or previous segment start from the playhead; the end counts as a boundary. */
static int64_t segment_boundary(const pv_app *a, int dir)
{
    const ck_segment_plan *p = &a->gen.plan;
    int64_t end = a->gen.cs.scene->frame_count - 1;
    if (dir > 0) {
        for (int i = 0; i < p->count; i++)
            if (p->items[i].first_frame > a->frame)
                return p->items[i].first_frame;
        return end;
    }
    for (int i = p->count - 1; i >= 0; i--)
        if (p->items[i].first_frame < a->frame)
            return p->items[i].first_frame;
    return 0;
}

static void switch_record(pv_app *a, long delta)
{
    long n = pv_gen_record_count(&a->gen);
    if (n == 0) {
        pv_set_status(a, "no records: run with --data FILE (or put samples.json by the scene)");
        return;
    }
    long r = ((a->gen.record + delta) % n + n) % n;
    pv_gen_set_record(&a->gen, r);
    a->need_render = true;
    pv_set_status(a, "record %ld/%ld: %s", r + 1, n, a->gen.cs.record->id);
}

static void screenshot(pv_app *a, bool window)
{
    char path[600];
    ck_error err = {0};
    const ck_scene *s = a->gen.cs.scene;
    snprintf(path, sizeof path, "%s-r%ld-%.3fs%s.png", s->id, a->gen.record < 0 ? 0 : a->gen.record,
             (double)a->frame / s->fps, window ? "-window" : "");
    if (pv_write_shot(a, path, window, &err) == CK_OK) {
        pv_set_status(a, "wrote %s", path);
        fprintf(stderr, "ciak preview: wrote %s\n", path);
    } else {
        char buf[1400];
        pv_set_status(a, "screenshot failed: %s", ck_error_format(&err, buf, sizeof buf));
    }
}

static void toggle_overlay(pv_app *a, unsigned bit, const char *name)
{
    a->overlays ^= bit;
    a->need_draw = true;
    pv_set_status(a, "%s %s", name, (a->overlays & bit) ? "on" : "off");
}

/* `action` is GLFW_PRESS or GLFW_REPEAT: toggles ignore repeats, moves repeat. */
static void handle_key(pv_app *a, int key, int action, int mods)
{
    bool shift = mods & GLFW_MOD_SHIFT;
    if (key == GLFW_KEY_ESCAPE || key == GLFW_KEY_Q) {
        glfwSetWindowShouldClose(a->win, GLFW_TRUE);
        return;
    }
    if (key == GLFW_KEY_R && action == GLFW_PRESS) {
        pv_set_status(a, "reloading");
        pv_reload(a);
        return;
    }
    if ((key == GLFW_KEY_H || key == GLFW_KEY_F1) && action == GLFW_PRESS) {
        toggle_overlay(a, PV_OV_HELP, "help");
        return;
    }
    if (!a->have_gen)
        return; /* nothing to move around in yet */
    if (action == GLFW_REPEAT && key != GLFW_KEY_LEFT && key != GLFW_KEY_RIGHT)
        return; /* held keys step frames; everything else acts once */
    int64_t fps = llround(a->gen.cs.scene->fps);
    switch (key) {
    case GLFW_KEY_SPACE:
        if (action == GLFW_PRESS)
            pv_set_playing(a, !a->playing);
        break;
    case GLFW_KEY_LEFT:
        pv_seek(a, a->frame - (shift ? fps : 1), false);
        break;
    case GLFW_KEY_RIGHT:
        pv_seek(a, a->frame + (shift ? fps : 1), false);
        break;
    case GLFW_KEY_PAGE_UP:
        pv_seek(a, segment_boundary(a, -1), a->playing);
        break;
    case GLFW_KEY_PAGE_DOWN:
        pv_seek(a, segment_boundary(a, +1), a->playing);
        break;
    case GLFW_KEY_HOME:
        pv_seek(a, 0, a->playing);
        break;
    case GLFW_KEY_END:
        pv_seek(a, a->gen.cs.scene->frame_count - 1, false);
        break;
    case GLFW_KEY_I:
    case GLFW_KEY_O: {
        /* A loop range needs both ends; the first key sets the other to the video's end. */
        int64_t n = a->gen.cs.scene->frame_count;
        if (a->loop_in < 0) {
            a->loop_in = 0;
            a->loop_out = n;
        }
        if (key == GLFW_KEY_I)
            a->loop_in = a->frame;
        else
            a->loop_out = a->frame + 1;
        if (a->loop_in >= a->loop_out) {
            if (key == GLFW_KEY_I)
                a->loop_out = n;
            else
                a->loop_in = 0;
        }
        a->looping = true;
        pv_set_status(a, "loop %.2f-%.2f s", (double)a->loop_in / a->gen.cs.scene->fps,
                      (double)a->loop_out / a->gen.cs.scene->fps);
        break;
    }
    case GLFW_KEY_L:
        if (action != GLFW_PRESS)
            break;
        a->looping = !a->looping;
        pv_set_status(a, "loop %s", a->looping ? "on" : "off");
        break;
    case GLFW_KEY_C:
        a->loop_in = a->loop_out = -1;
        pv_set_status(a, "loop range cleared");
        break;
    case GLFW_KEY_N:
        if (action == GLFW_PRESS)
            switch_record(a, +1);
        break;
    case GLFW_KEY_P:
        if (action == GLFW_PRESS)
            switch_record(a, -1);
        break;
    case GLFW_KEY_1:
        toggle_overlay(a, PV_OV_SAFE, "safe areas");
        break;
    case GLFW_KEY_2:
        toggle_overlay(a, PV_OV_STRIP, "timeline strip");
        break;
    case GLFW_KEY_3:
        toggle_overlay(a, PV_OV_CUES, "cue boxes");
        break;
    case GLFW_KEY_4:
        toggle_overlay(a, PV_OV_FITS, "text fit warnings");
        break;
    case GLFW_KEY_5:
        toggle_overlay(a, PV_OV_HUD, "HUD");
        break;
    case GLFW_KEY_S:
        if (action == GLFW_PRESS)
            screenshot(a, shift);
        break;
    default:
        break;
    }
}

static void on_key(GLFWwindow *w, int key, int scancode, int action, int mods)
{
    (void)scancode;
    if (action != GLFW_RELEASE)
        handle_key(app_of(w), key, action, mods);
}

void pv_input_key(pv_app *a, int key, int mods)
{
    handle_key(a, key, GLFW_PRESS, mods);
}

/* Cursor position (screen coordinates) -> framebuffer pixels, where the layout lives. */
static void cursor_fb(GLFWwindow *w, double *x, double *y)
{
    int ww, wh, fw, fh;
    glfwGetWindowSize(w, &ww, &wh);
    glfwGetFramebufferSize(w, &fw, &fh);
    glfwGetCursorPos(w, x, y);
    if (ww > 0 && wh > 0) {
        *x *= (double)fw / ww;
        *y *= (double)fh / wh;
    }
}

static void scrub_to(pv_app *a, double x)
{
    int fw, fh;
    glfwGetFramebufferSize(a->win, &fw, &fh);
    pv_view_state s = {.overlays = a->overlays, .ui_scale = a->ui_scale};
    const ck_scene *sc = a->gen.cs.scene;
    pv_layout l = pv_view_layout(fw, fh, sc->width, sc->height, &s);
    pv_seek(a, pv_view_frame_at(&l, sc->frame_count, x), false);
}

static void on_button(GLFWwindow *w, int button, int action, int mods)
{
    (void)mods;
    pv_app *a = app_of(w);
    if (button != GLFW_MOUSE_BUTTON_LEFT || !a->have_gen)
        return;
    double x, y;
    cursor_fb(w, &x, &y);
    if (action == GLFW_PRESS) {
        int fw, fh;
        glfwGetFramebufferSize(w, &fw, &fh);
        pv_view_state s = {.overlays = a->overlays, .ui_scale = a->ui_scale};
        pv_layout l = pv_view_layout(fw, fh, 16, 9, &s);
        if (l.sh == 0 || y < l.sy)
            return;
        a->scrubbing = true;
        a->scrub_resume = a->playing;
        scrub_to(a, x);
    } else if (action == GLFW_RELEASE && a->scrubbing) {
        a->scrubbing = false;
        if (a->scrub_resume)
            pv_set_playing(a, true);
    }
}

static void on_cursor(GLFWwindow *w, double sx, double sy)
{
    (void)sx;
    (void)sy;
    pv_app *a = app_of(w);
    if (!a->scrubbing)
        return;
    double x, y;
    cursor_fb(w, &x, &y);
    scrub_to(a, x);
}

static void on_resize(GLFWwindow *w, int width, int height)
{
    (void)width;
    (void)height;
    app_of(w)->need_draw = true;
}

static void on_scale(GLFWwindow *w, float xs, float ys)
{
    pv_app *a = app_of(w);
    a->ui_scale = fmaxf(1, fmaxf(xs, ys));
    a->need_draw = true;
}

static void on_refresh(GLFWwindow *w)
{
    app_of(w)->need_draw = true;
}

void pv_input_install(pv_app *a)
{
    glfwSetWindowUserPointer(a->win, a);
    glfwSetKeyCallback(a->win, on_key);
    glfwSetMouseButtonCallback(a->win, on_button);
    glfwSetCursorPosCallback(a->win, on_cursor);
    glfwSetFramebufferSizeCallback(a->win, on_resize);
    glfwSetWindowContentScaleCallback(a->win, on_scale);
    glfwSetWindowRefreshCallback(a->win, on_refresh);
}
