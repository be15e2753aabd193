/* main.c: the `ciak` command: dispatches to a subcommand. */
#include "ck_cli.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} command;

static const command commands[] = {
    {"render", ck_cmd_render,
     "render SCENE_DIR --data FILE -o OUT_DIR [--record N | --id ID] [--mp4 FILE] [--no-share] "
     "[--encoder NAME] [--cache DIR] [--size WxH]"},
    {"bench", ck_cmd_bench,
     "bench render [SCENE_DIR...] [--size WxH] [--seconds S] [--out DIR] | bench serve [--campaign "
     "C] [--size WxH] [--keep]"},
    {"check", ck_cmd_check, "check SCENE_DIR [--data RECORDS.json|.csv]"},
    {"drawlist", ck_cmd_drawlist,
     "drawlist SCENE_DIR --at SECONDS [--data FILE] [--record N | --id ID]"},
    {"schema", ck_cmd_schema, "schema [--markdown]"},
    {"frame", ck_cmd_frame,
     "frame SCENE_DIR --at SECONDS -o FRAME.png [--data FILE] [--record N | --id ID] [--size WxH]"},
    /* the stream server (engine/server, engine/store) */
    {"serve", ck_cmd_serve,
     "serve [--listen 127.0.0.1:8080] [--data-dir ./var] [--scenes ./scenes]"},
    {"import", ck_cmd_import, "import CAMPAIGN FILE.csv|FILE.json [--data-dir DIR] [--skip-bad]"},
    {"links", ck_cmd_links,
     "links CAMPAIGN --base-url URL -o links.csv [--qr DIR] [--expires YYYY-MM-DD]"},
    {"revoke", ck_cmd_revoke, "revoke CAMPAIGN PERSON_ID [--data-dir DIR]"},
    {"purge", ck_cmd_purge, "purge [--data-dir DIR]"},
    {"warm", ck_cmd_warm, "warm CAMPAIGN [--data-dir DIR] [--scenes DIR]"},
    {"keys", ck_cmd_keys, "keys rotate | drop ID [--data-dir DIR]"},
    {"admin-password", ck_cmd_admin_password,
     "admin-password [--data-dir DIR]  (password on stdin)"},
    {"guide", ck_cmd_guide,
     "guide SCENE_DIR --data FILE [--record N | --id ID] -o GUIDE.pdf [--html PAGE.html]"},
    {"preview", ck_cmd_preview,
     "preview SCENE_DIR [--data FILE] [--record N | --id ID] [--at SECONDS] [--screenshot FILE]"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ciak COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++)
        fprintf(f, "  ciak %s\n", commands[i].usage);
    fprintf(f, "\nRun `ciak COMMAND --help` for a command's options.\n");
}

/* Every segment is its own encoder session (segments must not depend on each other), and
 * libx264 allocates and frees tens of MB per session. With glibc's defaults those blocks are
 * mmap()ed or trimmed off the heap at every close and faulted in, zeroed, at the next open:
 * 13 % of a 720p render's CPU time on the 2-core box (sys 5.9 s -> 1.6 s, 89 -> 109 fps,
 * bench/README.md). Keep them in the heap for the next session instead: blocks up to 32 MB
 * come from the heap, and free memory at its top goes back only past 256 MB. */
static void keep_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CK_EXIT_USAGE : CK_EXIT_OK;
    }
    for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            for (int a = 2; a < argc; a++)
                if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                    printf("usage: ciak %s\n", commands[i].usage);
                    return CK_EXIT_OK;
                }
            return commands[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "ciak: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return CK_EXIT_USAGE;
}
