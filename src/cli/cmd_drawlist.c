/* cmd_drawlist.c: `ciak drawlist SCENE_DIR --at SECONDS [--data FILE] [--record N | --id ID]`
 * prints the draw list of one frame as JSON: what the GPU will draw, for designers and tests. */
#include "ck_cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ck_cmd_drawlist(int argc, char **argv)
{
    const char *dir = NULL;
    double at = -1;
    ck_cli_pick pick = {.record = -1};
    for (int i = 1; i < argc; i++) {
        int r = ck_cli_pick_arg(&pick, argc, argv, &i);
        if (r < 0)
            return CK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            if (!ck_cli_parse_seconds(argv[++i], &at)) {
                fprintf(stderr, "ciak drawlist: --at needs seconds, got \"%s\"\n", argv[i]);
                return CK_EXIT_USAGE;
            }
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "ciak drawlist: unexpected argument \"%s\"\n", argv[i]);
            return CK_EXIT_USAGE;
        }
    }
    if (!dir || at < 0) {
        fprintf(stderr, "usage: ciak drawlist SCENE_DIR --at SECONDS [--data FILE] "
                        "[--record N | --id ID]\n");
        return CK_EXIT_USAGE;
    }
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
