/* ck_cli.h: the `ciak` command's subcommands and the helpers they share.
 * Each subcommand lives in src/cmd_<name>.c and is listed in main.c's table. */
#ifndef CK_CLI_H
#define CK_CLI_H

#include "ck_segment.h"

/* Exit statuses of every subcommand. */
enum { CK_EXIT_OK = 0, CK_EXIT_PROBLEMS = 1, CK_EXIT_USAGE = 2 };

/* Each returns the process exit status. argv[0] is the subcommand's name. */
int ck_cmd_check(int argc, char **argv);
int ck_cmd_schema(int argc, char **argv);
int ck_cmd_drawlist(int argc, char **argv);
int ck_cmd_frame(int argc, char **argv);
/* the stream server: cmd_serve.c, cmd_import.c, cmd_links.c, cmd_admin.c */
int ck_cmd_serve(int argc, char **argv);
int ck_cmd_import(int argc, char **argv);
int ck_cmd_links(int argc, char **argv);
int ck_cmd_revoke(int argc, char **argv);
int ck_cmd_purge(int argc, char **argv);
int ck_cmd_warm(int argc, char **argv);
int ck_cmd_keys(int argc, char **argv);
int ck_cmd_admin_password(int argc, char **argv);
int ck_cmd_render(int argc, char **argv);
int ck_cmd_bench(int argc, char **argv);
int ck_cmd_preview(int argc, char **argv);
int ck_cmd_guide(int argc, char **argv); /* cmd_guide.c: the PDF guide and player page */

/* ---- shared helpers (cli.c) ---- */

/* Prints diagnostics as "file:line:col: error: message", one per line, to stderr. */
void ck_cli_print_diags(const ck_diags *d);

/* Everything a command needs to evaluate a scene for one person. */
typedef struct ck_cli_scene {
    ck_scene *scene;
    ck_binding *binding;
    ck_fontset *fonts;
    ck_records *records;     /* NULL without --data */
    const ck_record *record; /* the chosen one, or NULL */
    ck_timeline *timeline;
} ck_cli_scene;

/* Options of the record picker: --data FILE, --record N, --id ID. */
typedef struct ck_cli_pick {
    const char *data;
    long record; /* -1: not given */
    const char *id;
} ck_cli_pick;

/* If argv[*i] is one of --data/--record/--id, consumes it (and its value) and returns 1;
 * returns -1 on a missing or bad value (message printed), 0 otherwise. */
int ck_cli_pick_arg(ck_cli_pick *pick, int argc, char **argv, int *i);

/* Loads scene, binding, fonts, records and timeline, and binds the picked record. Prints
 * every problem; returns false on any error. */
bool ck_cli_scene_open(ck_cli_scene *cs, const char *scene_dir, const ck_cli_pick *pick);
void ck_cli_scene_close(ck_cli_scene *cs);

/* Opens <data_dir>/keys and <data_dir>/ciak.db (creating the folder and the key file when
 * `create`); prints the reason and returns false on failure (cmd_import.c). */
struct ck_keyring;
struct ck_store;
bool ck_cli_open_store(const char *data_dir, bool create, struct ck_keyring *keys,
                       struct ck_store **st);
/* mkdir -p with `mode` for the folders it makes; false (errno set) on failure. */
bool ck_cli_mkdirs(const char *dir, int mode);

/* Parses a non-negative number of seconds ("12", "12.5"); false when malformed. */
bool ck_cli_parse_seconds(const char *s, double *out);

#endif
