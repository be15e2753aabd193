/* cmd_preview.c: `ciak preview`'s options. The window itself is src/preview (GLFW), built
 * unless -DCIAK_PREVIEW=OFF; without it the command says so and how to get it. */
#include "ck_cli.h"
#include "ck_preview.h"

#include <stdio.h>

static void preview_init(void *opts)
{
    ((ck_preview_opts *)opts)->at = -1;
}

static const ck_opt preview_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder (or its .json); its samples.json is the default --data",
     .parse = ck_opt_str,
     .offset = offsetof(ck_preview_opts, dir)},
    {.name = "--at",
     .arg = "SECONDS",
     .help = "start paused at this moment (default: play from the start)",
     .parse = ck_opt_seconds,
     .offset = offsetof(ck_preview_opts, at)},
    {.name = "--size",
     .arg = "WxH",
     .help = "compositor output size (default: the scene's canvas)",
     .parse = ck_opt_size,
     .offset = offsetof(ck_preview_opts, size)},
    {.name = "--window",
     .arg = "WxH",
     .help = "window size (default: fits the screen)",
     .parse = ck_opt_size,
     .offset = offsetof(ck_preview_opts, window)},
    {.name = "--screenshot",
     .arg = "FILE",
     .help = "write the frame at --at to FILE and exit",
     .parse = ck_opt_str,
     .offset = offsetof(ck_preview_opts, screenshot)},
    {.name = "--overlays",
     .help = "the screenshot shows the window, overlays included",
     .parse = ck_opt_flag,
     .offset = offsetof(ck_preview_opts, overlays)},
    {.name = "--shaders",
     .arg = "DIR",
     .help = "compile and watch the compositor's GLSL from DIR",
     .parse = ck_opt_str,
     .offset = offsetof(ck_preview_opts, shaders)},
    {.name = "--autoshot",
     .arg = "DIR",
     .help = "after every reload, a screenshot and a report in DIR",
     .parse = ck_opt_str,
     .offset = offsetof(ck_preview_opts, autoshot)},
    {.name = "--script",
     .arg = "FILE",
     .help = "keys and waits to play, one per line (docs/preview.md)",
     .parse = ck_opt_str,
     .offset = offsetof(ck_preview_opts, script)},
    {.name = "--exit-after",
     .arg = "SECONDS",
     .help = "close the window after this long",
     .parse = ck_opt_seconds,
     .offset = offsetof(ck_preview_opts, exit_after)},
    {0},
};

static int cmd_preview(const void *opts)
{
    const ck_preview_opts *o = opts;
    if (o->screenshot && o->at < 0)
        return ck_cli_usage_error(&ck_cli_cmd_preview, "--screenshot needs --at SECONDS");
    if (o->overlays && !o->screenshot)
        return ck_cli_usage_error(&ck_cli_cmd_preview, "--overlays needs --screenshot FILE");
#ifdef CIAK_HAVE_PREVIEW
    return ck_preview_run(o);
#else
    fprintf(stderr, "ciak preview: this ciak was built without the preview window "
                    "(-DCIAK_PREVIEW=OFF); build it with -DCIAK_PREVIEW=ON, which needs GLFW "
                    "(libglfw3-dev)\n");
    return CK_EXIT_PROBLEMS;
#endif
}

const ck_cli_cmd ck_cli_cmd_preview = {
    "preview",
    "the designers' window: transport, live reload, overlays (docs/preview.md)",
    {{preview_table, 0}, {ck_cli_pick_opts, offsetof(ck_preview_opts, pick)}},
    sizeof(ck_preview_opts),
    preview_init,
    cmd_preview};
