/* preview.h: `ciak preview`, the designers' window. Private to src/preview/.
 *
 * Shape (docs/preview.md has the user's side):
 *   preview.c          the command: options, the main loop, transport and input
 *   preview_scene.c    one loaded "generation" of a scene (scene, binding, fonts, records,
 *                      timeline, segment plan, GPU scene) and the file watcher for live reload
 *   preview_view.c     the window's picture on the CPU: the composited frame letterboxed and
 *                      scaled, then the overlays (safe areas, timeline strip, cue boxes, text
 *                      fit warnings, HUD, error panel) drawn with a tiny bitmap font
 *   preview_present.c  a small Vulkan presenter: its own instance with GLFW's surface
 *                      extensions, a swapchain, and a buffer-to-image copy per frame
 *
 * Frames come from the same ck_gpu compositor and draw lists as `ciak frame`, headless, so
 * they are the same pixels; the overlays are drawn on a copy, at window resolution, and never
 * touch the frame a screenshot writes. GLFW stays in src/preview (STYLE.md); ck_preview.h is
 * what the command line sees.
 */
#ifndef CK_PREVIEW_H
#define CK_PREVIEW_H

#include "ck_cli.h"
#include "ck_preview.h"
#include "ck_gpu.h"
#include "ck_media.h"

/* ---- one loaded version of the scene (preview_scene.c) ---- */

/* Everything needed to draw the scene for any record and frame. Made whole or not at all, so
 * a failed reload leaves the previous generation untouched. */
typedef struct pv_gen {
    ck_cli_scene cs;      /* scene, binding, fonts, records (may be NULL), timeline */
    ck_segment_plan plan; /* segments, shared or personal */
    ck_gpu_scene *gpu;    /* the compositor's resources for this scene */
    ck_video_set *videos; /* decoders of the background videos */
    long record;          /* index into cs.records, or -1 without records */
    char **watch;         /* files whose change triggers a reload (malloc'd strings) */
    int watch_count;
} pv_gen;

typedef struct pv_load_params {
    const char *scene_dir;
    const char *data;    /* records file, or NULL */
    long record;         /* wanted record (clamped to the records there are) */
    int width, height;   /* compositor output size (0: canvas) */
    const char *shaders; /* GLSL folder compiled and watched (--shaders), or NULL: built-in */
} pv_load_params;

/* ---- live shader reload (preview_shaders.c) ---- */
/* Compiles every compositor shader in `src` into a new temporary folder (returned, malloc'd);
 * NULL with file:line diagnostics on a compile error. */
char *pv_shaders_compile(const char *src, ck_diags *diags);
/* Removes a folder made by pv_shaders_compile. */
void pv_shaders_remove(const char *dir);
/* Paths of every file in `src` (malloc'd into out[0 .. return)), for the watch list. */
int pv_shaders_sources(const char *src, char **out, int max);

/* Loads a generation. On failure returns false with every problem in `diags` (file:line:col
 * where known) and `g` zeroed. */
bool pv_gen_load(pv_gen *g, ck_gpu *gpu, const pv_load_params *p, ck_diags *diags);
void pv_gen_free(pv_gen *g);
/* Binds record `index` (clamped); recomputes the text fits. */
void pv_gen_set_record(pv_gen *g, long index);
long pv_gen_record_count(const pv_gen *g);

/* A file's identity for change detection: mtime, size and inode (editors that save by
 * renaming change the inode, not always the mtime's second). */
typedef struct pv_stamp {
    int64_t mtime_ns, size, ino;
} pv_stamp;
pv_stamp pv_stamp_of(const char *path);

/* The stamps of a watch list (scene.json, the records file and every asset file). */
typedef struct pv_watch {
    char **paths; /* borrowed from a pv_gen or the load params */
    pv_stamp *stamps;
    int count;
} pv_watch;
void pv_watch_set(pv_watch *w, char **paths, int count);
/* True when any file changed since the last call (or pv_watch_set). */
bool pv_watch_changed(pv_watch *w);
void pv_watch_free(pv_watch *w);

/* ---- the window's picture (preview_view.c) ---- */

/* An RGBA8 image on the CPU. */
typedef struct pv_image {
    uint8_t *px;
    int w, h;
} pv_image;

bool pv_image_resize(pv_image *im, int w, int h);
void pv_image_free(pv_image *im);

/* ---- CPU drawing primitives (preview_draw.c); everything clips to the image ---- */
typedef struct pv_rgba {
    uint8_t r, g, b, a; /* straight alpha; drawn "over" the opaque image */
} pv_rgba;

void pv_fill(pv_image *im, int x, int y, int w, int h, pv_rgba c);
void pv_frame_rect(pv_image *im, int x, int y, int w, int h, int t, pv_rgba c);
void pv_line(pv_image *im, float x0, float y0, float x1, float y1, float t, pv_rgba c);
/* The bitmap font (stb_easy_font, ASCII): `scale` px per font unit; a line is 12 units.
 * UTF-8 is folded to ASCII (accents dropped, euro as EUR) since the font has nothing else. */
int pv_text(pv_image *im, int x, int y, int scale, const char *utf8, pv_rgba c);
int pv_text_width(const char *utf8, int scale);
/* Text on a translucent box sized to it, `pad` px around; returns the box width. */
int pv_label(pv_image *im, int x, int y, int scale, const char *utf8, pv_rgba fg, pv_rgba bg);
/* Copies `src` (RGBA, sw x sh, `stride` bytes per row) scaled into the rectangle; an exact
 * 1:1 copy when the sizes match, bilinear otherwise. */
void pv_blit_scaled(pv_image *dst, int dx, int dy, int dw, int dh, const uint8_t *src, int sw,
                    int sh, size_t stride);

enum {
    PV_OV_SAFE = 1 << 0,  /* title and action safe areas */
    PV_OV_STRIP = 1 << 1, /* timeline strip: segments, playhead, loop, chapters */
    PV_OV_CUES = 1 << 2,  /* interactive cue boxes */
    PV_OV_FITS = 1 << 3,  /* text boxes that shrank, wrapped or overflow */
    PV_OV_HUD = 1 << 4,   /* time, frame, segment, record */
    PV_OV_HELP = 1 << 5,  /* key help */
    PV_OV_DEFAULT = PV_OV_SAFE | PV_OV_STRIP | PV_OV_CUES | PV_OV_FITS | PV_OV_HUD
};

/* What the view shows; filled by the main loop. */
typedef struct pv_view_state {
    const pv_gen *gen;         /* NULL before the first good load */
    const ck_drawlist *dl;     /* the current frame's draw list (for box outlines), or NULL */
    const ck_gpu_frame *frame; /* the composited frame, or NULL */
    int64_t frame_index;
    bool playing, looping;
    int64_t loop_in, loop_out; /* frames; loop_out exclusive; -1: not set */
    unsigned overlays;
    float ui_scale;    /* HiDPI: 1 on ordinary screens, 2 on 2x */
    const char *error; /* reload error text (lines), or NULL */
    double render_ms;
    const char *status; /* one transient line (e.g. "wrote shot.png"), or NULL */
} pv_view_state;

/* Where the video sits in the window and where the strip is (window px). */
typedef struct pv_layout {
    int vx, vy, vw, vh; /* video viewport */
    int hy, hh;         /* HUD rows under the video (hh 0 when hidden) */
    int sx, sy, sw, sh; /* timeline strip (sh 0 when hidden) */
    int bar_x, bar_w;   /* the strip's time bar */
} pv_layout;

pv_layout pv_view_layout(int win_w, int win_h, int canvas_w, int canvas_h, const pv_view_state *s);
/* Draws the whole window picture into `out` (sized to the window already). */
void pv_view_draw(pv_image *out, const pv_view_state *s);
/* The frame at the playhead for a window x inside the strip's bar. */
int64_t pv_view_frame_at(const pv_layout *l, int64_t frame_count, double x);

/* ---- the application (preview.c: setup and loop; preview_input.c: keys, mouse) ---- */
typedef struct pv_present pv_present;
typedef struct GLFWwindow GLFWwindow;

typedef struct pv_app {
    pv_load_params load;
    const char *id; /* --id: picks the first record once */
    GLFWwindow *win;
    pv_present *present;
    ck_gpu *gpu;
    pv_gen gen; /* the last good version */
    bool have_gen;
    pv_watch watch;
    char *fallback_watch[2]; /* scene.json and records before any good load */
    char *error;             /* text of the last failed reload (malloc'd), NULL when good */
    double next_retry;       /* while broken, retry this often: a fix may be a new file */

    /* transport */
    int64_t frame;
    bool playing;
    double play_wall0; /* glfwGetTime() when play started */
    int64_t play_frame0;
    bool looping;
    int64_t loop_in, loop_out; /* -1: whole video */
    bool scrubbing, scrub_resume;

    /* what is on screen */
    ck_arena frame_arena;
    ck_drawlist dl;
    ck_gpu_frame shot; /* valid while have_shot; pointers into gen.gpu */
    bool have_shot;
    bool need_render, need_draw;
    double render_ms;
    unsigned overlays;
    float ui_scale;
    pv_image window;
    char status[300];
    double status_until;

    /* test hooks */
    struct pv_script_event *script; /* --script: timed actions */
    int script_count, script_next;
    double script_t0;
    const char *autoshot_dir;
    int autoshot_count;
    bool autoshot_pending;
    double exit_at; /* glfwGetTime() deadline, 0: none */
} pv_app;

double pv_now(void);
/* Moves the playhead (clamped; pauses playback unless `keep_playing`). */
void pv_seek(pv_app *a, int64_t frame, bool keep_playing);
void pv_set_playing(pv_app *a, bool on);
void pv_set_status(pv_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reloads the scene now (keeping the last good version on failure). */
void pv_reload(pv_app *a);
/* Writes the composited frame (`window` false: the same pixels as `ciak frame`) or the whole
 * window picture to `path`. */
ck_status pv_write_shot(pv_app *a, const char *path, bool window, ck_error *err);
void pv_input_install(pv_app *a);
/* A key press, as from the keyboard (GLFW_KEY_*, GLFW_MOD_* bits). */
void pv_input_key(pv_app *a, int key, int mods);

/* Test hook, --script FILE: one action per line, "SECONDS ACTION", seconds counted from the
 * first frame on screen. ACTION is a key ("space", "n", "shift+right", "pagedown", ...),
 * "shot" (an --autoshot of what is on screen now), "size WxH" (resize the window) or "quit".
 * '#' starts a comment. */
typedef struct pv_script_event {
    double t;
    int key, mods; /* PV_CMD_KEY; PV_CMD_SIZE: width, height */
    enum { PV_CMD_KEY, PV_CMD_SHOT, PV_CMD_SIZE, PV_CMD_QUIT } cmd;
} pv_script_event;
/* Reads the script; false (message printed) when a line is malformed. */
bool pv_script_load(pv_app *a, const char *path);
/* Fires the actions that are due. */
void pv_script_run(pv_app *a);

/* ---- the presenter (preview_present.c) ---- */
/* Its own VkInstance (with GLFW's surface extensions), device, surface and swapchain. */
pv_present *pv_present_create(GLFWwindow *win, ck_error *err);
/* Copies `im` (RGBA, the size of the framebuffer) into the next swapchain image and presents
 * it. Recreates the swapchain when the window changed size; skips while minimised. */
ck_status pv_present_frame(pv_present *p, const pv_image *im, ck_error *err);
void pv_present_destroy(pv_present **p);

#endif
