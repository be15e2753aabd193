/* main.c: the `ciak` command: dispatches to a subcommand. */
#include "ck_cli.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every command, in the order `ciak help` and the README list them. Each names its options
 * in its own table (ck_cli.h). */
static const ck_cli_cmd *const commands[] = {
    &ck_cli_cmd_check,
    &ck_cli_cmd_frame,
    &ck_cli_cmd_render,
    &ck_cli_cmd_preview,
    &ck_cli_cmd_guide,
    &ck_cli_cmd_drawlist,
    &ck_cli_cmd_schema,
    /* the stream server (engine/server, engine/store) */
    &ck_cli_cmd_import,
    &ck_cli_cmd_links,
    &ck_cli_cmd_serve,
    &ck_cli_cmd_revoke,
    &ck_cli_cmd_purge,
    &ck_cli_cmd_warm,
    &ck_cli_cmd_keys_rotate,
    &ck_cli_cmd_keys_drop,
    &ck_cli_cmd_admin_password,
    /* the benchmarks (bench/) */
    &ck_cli_cmd_bench_render,
    &ck_cli_cmd_bench_serve,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ciak COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun `ciak COMMAND --help` for a command's options, `ciak help --markdown` for "
               "the README's list.\n");
}

/* Does `name` ("keys drop") start argv? Returns how many words it takes, 0 when it does not. */
static int match(const char *name, int argc, char **argv)
{
    const char *space = strchr(name, ' ');
    size_t len = space ? (size_t)(space - name) : strlen(name);
    if (strncmp(argv[0], name, len) != 0 || argv[0][len])
        return 0;
    if (!space)
        return 1;
    return argc > 1 && strcmp(argv[1], space + 1) == 0 ? 2 : 0;
}

static int run(const ck_cli_cmd *cmd, int argc, char **argv)
{
    void *opts = calloc(1, cmd->size);
    if (!opts) {
        fprintf(stderr, "ciak: out of memory\n");
        return CK_EXIT_PROBLEMS;
    }
    bool help;
    int rc = ck_cli_parse(cmd, argc, argv, opts, &help);
    if (help)
        ck_cli_print_help(cmd, stdout);
    else if (rc == CK_EXIT_OK)
        rc = cmd->run(opts);
    free(opts);
    return rc;
}

/* `ciak help [--markdown | --options | --try COMMAND ARGS...]`. --try parses a command line
 * as COMMAND would and prints what it understood, without running it (tests/cli/options.sh). */
static int help(int argc, char **argv)
{
    if (argc == 1) {
        usage(stdout);
        return CK_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
        ck_cli_print_markdown(commands, CK_ARRAY_LEN(commands), stdout);
        return CK_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--options") == 0) {
        ck_cli_print_option_list(commands, CK_ARRAY_LEN(commands), stdout);
        return CK_EXIT_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "--try") == 0) {
        for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++) {
            int words = match(commands[i]->name, argc - 2, argv + 2);
            if (!words)
                continue;
            void *opts = calloc(1, commands[i]->size);
            bool h;
            int rc = opts ? ck_cli_parse(commands[i], argc - 2 - (words - 1),
                                         argv + 2 + (words - 1), opts, &h)
                          : CK_EXIT_PROBLEMS;
            free(opts);
            if (rc == CK_EXIT_OK)
                printf("ciak %s: the command line is accepted\n", commands[i]->name);
            return rc;
        }
    }
    for (size_t i = 0; argc >= 2 && i < CK_ARRAY_LEN(commands); i++)
        if (match(commands[i]->name, argc - 1, argv + 1)) {
            ck_cli_print_help(commands[i], stdout);
            return CK_EXIT_OK;
        }
    fprintf(stderr,
            "usage: ciak help [COMMAND | --markdown | --options | --try COMMAND ARGS...]\n");
    return CK_EXIT_USAGE;
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
    /* And few heaps: glibc gives threads up to 8 per core, and a server's threads (views made
     * on 8 of their own, each render's audio thread, HTTP, workers) each left memory in its
     * own: 299 MB of RSS at 8 new 720p viewers, 264 MB with 2 heaps, renders as fast
     * (bench/README.md, "A burst of new viewers, tenth session"). One per core, two at
     * least; MALLOC_ARENA_MAX still decides when set. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!getenv("MALLOC_ARENA_MAX"))
        mallopt(M_ARENA_MAX, cores > 2 ? (int)cores : 2);
}

int main(int argc, char **argv)
{
    keep_freed_memory();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CK_EXIT_USAGE : CK_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0)
        return help(argc - 1, argv + 1);
    bool family = false; /* "bench" or "keys" without (or with an unknown) sub-command */
    for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++) {
        int words = match(commands[i]->name, argc - 1, argv + 1);
        if (words)
            return run(commands[i], argc - words, argv + words);
        size_t len = strcspn(commands[i]->name, " ");
        family |= commands[i]->name[len] && strncmp(argv[1], commands[i]->name, len) == 0 &&
                  !argv[1][len];
    }
    if (family) {
        bool asked = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
        FILE *f = asked ? stdout : stderr;
        for (size_t i = 0; i < CK_ARRAY_LEN(commands); i++)
            if (strncmp(commands[i]->name, argv[1], strlen(argv[1])) == 0 &&
                commands[i]->name[strlen(argv[1])] == ' ')
                ck_cli_print_usage(commands[i], f);
        return asked ? CK_EXIT_OK : CK_EXIT_USAGE;
    }
    fprintf(stderr, "ciak: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return CK_EXIT_USAGE;
}
