/* cmd_drawlist.c: `ciak drawlist SCENE_DIR --at SECONDS [--data FILE] [--record N | --id ID]`
 * prints the draw list of one frame as JSON: what the GPU will draw, for designers and tests. */
#include "ck_cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct drawlist_opts {
    const char *dir;
    double at;
    ck_cli_pick pick;
} drawlist_opts;

static const ck_opt drawlist_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder",
     .parse = ck_opt_str,
     .offset = offsetof(drawlist_opts, dir)},
    {.name = "--at",
     .arg = "SECONDS",
     .help = "the moment of the frame",
     .parse = ck_opt_seconds,
     .offset = offsetof(drawlist_opts, at),
     .flags = CK_OPT_REQUIRED},
    {0},
};

static int cmd_drawlist(const void *opts)
{
    const drawlist_opts *o = opts;
    const char *dir = o->dir;
    double at = o->at;
    const ck_cli_pick pick = o->pick;
    ck_cli_scene cs;
    if (!ck_cli_scene_open(&cs, dir, &pick))
        return CK_EXIT_PROBLEMS;
    int64_t frame = llround(at * cs.scene->fps);
    if (frame >= cs.scene->frame_count) {
        fprintf(stderr, "ciak drawlist: --at %g is past the end of the video (%g s)\n", at,
                cs.scene->duration);
        ck_cli_scene_close(&cs);
        return CK_EXIT_USAGE;
    }
    ck_arena fa = {0};
    ck_drawlist dl;
    ck_error err = {0};
    int rc = CK_EXIT_OK;
    if (ck_timeline_eval(cs.timeline, frame, &fa, &dl, &err) != CK_OK) {
        char buf[1400];
        fprintf(stderr, "%s\n", ck_error_format(&err, buf, sizeof buf));
        rc = CK_EXIT_PROBLEMS;
    } else {
        char *json = ck_drawlist_json(cs.scene, &dl);
        if (json)
            fputs(json, stdout);
        free(json);
    }
    ck_arena_free(&fa);
    ck_cli_scene_close(&cs);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_drawlist = {
    "drawlist",
    "prints one frame's draw list as JSON: what the GPU will draw",
    {{drawlist_table, 0}, {ck_cli_pick_opts, offsetof(drawlist_opts, pick)}},
    sizeof(drawlist_opts),
    NULL,
    cmd_drawlist};
