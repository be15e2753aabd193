/* ck_preview.h: the preview window as the command line sees it (src/cli/cmd_preview.c parses
 * the options, this library opens the window). Only this header is needed without GLFW: a
 * build with -DCIAK_PREVIEW=OFF has the options and no window. */
#ifndef CK_PREVIEW_PUBLIC_H
#define CK_PREVIEW_PUBLIC_H

#include "ck_cli.h"

typedef struct ck_preview_opts {
    const char *dir, *screenshot;
    ck_cli_pick pick;
    double at;         /* -1: not given (play from the start) */
    double exit_after; /* 0: never */
    ck_cli_size size, window;
    bool overlays;
    const char *autoshot, *script, *shaders;
} ck_preview_opts;

/* Opens the window (or writes the screenshot) and runs until it is closed; returns the exit
 * status. */
int ck_preview_run(const ck_preview_opts *o);

#endif
