/* ck_cli.h: the `ciak` command's subcommands and the helpers they share.
 * Each command lives in src/cli/cmd_<name>.c (the benchmarks in bench/render and
 * bench/serve) and is listed in main.c. */
#ifndef CK_CLI_H
#define CK_CLI_H

#include "ck_segment.h"

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of every subcommand. */
enum { CK_EXIT_OK = 0, CK_EXIT_PROBLEMS = 1, CK_EXIT_USAGE = 2 };

/* ---- option tables (opts.c) ----
 * Every command is a ck_cli_cmd: its options struct, and one table per option group naming
 * each option, its argument, its help, its default and the function that parses a value into
 * the struct (the same idea as engine/scene/props.c and FFmpeg's AVOption). The table drives
 * parsing, `ciak COMMAND --help` and the README's command list (`ciak help --markdown`). */

typedef struct ck_opt ck_opt;

/* Parses `value` (NULL for a flag) into the field at `dst`. On a bad value writes why into
 * msg ("'12x' is not WIDTHxHEIGHT") and returns false. */
typedef bool (*ck_opt_parse_fn)(const ck_opt *o, const char *value, void *dst, char *msg,
                                size_t size);

enum {
    CK_OPT_REQUIRED = 1, /* an option that must be given (positionals are, unless OPTIONAL) */
    CK_OPT_OPTIONAL = 2, /* a positional that may be left out */
    CK_OPT_REPEAT = 4,   /* may be given several times (parse with ck_opt_list) */
};

struct ck_opt {
    const char *name; /* "--size"; a positional's placeholder ("SCENE_DIR"); NULL ends a table */
    const char *arg;  /* the value's placeholder ("WxH"); NULL: a flag, or a positional */
    const char *help; /* one line */
    const char *def;  /* default, parsed like a value given on the command line; NULL: none */
    ck_opt_parse_fn parse;
    size_t offset;     /* of the field in the group's struct */
    unsigned flags;    /* CK_OPT_* */
    long long lo, hi;  /* accepted range of ck_opt_int (both 0: any int) */
    const char *alias; /* a short name ("-o"), or NULL */
};

/* The parsers. Fields: ck_opt_str const char *; ck_opt_flag bool; ck_opt_int int within
 * [lo, hi]; ck_opt_seconds double >= 0; ck_opt_date int32_t days (YYYY-MM-DD); ck_opt_size
 * ck_cli_size (WxH, 1..8192 each); ck_opt_size_even the same, both even (video encoders);
 * ck_opt_list ck_cli_strs. */
bool ck_opt_str(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_flag(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_int(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_seconds(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_date(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_size(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_size_even(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);
bool ck_opt_list(const ck_opt *o, const char *value, void *dst, char *msg, size_t size);

typedef struct ck_cli_size {
    int w, h; /* 0 x 0: not given */
} ck_cli_size;

#define CK_CLI_STRS_MAX 64
typedef struct ck_cli_strs {
    const char *items[CK_CLI_STRS_MAX + 1]; /* NULL-terminated */
    int count;
} ck_cli_strs;

/* One table and where its struct sits in the command's options struct. */
typedef struct ck_opt_group {
    const ck_opt *opts;
    size_t offset;
} ck_opt_group;

typedef struct ck_cli_cmd {
    const char *name;         /* "render"; "bench render" for a command with a sub-command */
    const char *summary;      /* one line, for `ciak help` and the README */
    ck_opt_group groups[3];   /* groups[0] the command's own table; unused ones are {0} */
    size_t size;              /* of the options struct */
    void (*init)(void *opts); /* sets "not given" markers before the defaults; may be NULL */
    int (*run)(const void *opts);
} ck_cli_cmd;

/* Parses argv[1..] (argv[0] is the command) into `opts` (size cmd->size): zeroes it, runs
 * init, parses every default, then the command line. Returns CK_EXIT_OK, or CK_EXIT_USAGE
 * after printing "ciak CMD: --opt: 'value' is ..." and the usage line. *help is set (and
 * CK_EXIT_OK returned) when --help / -h was given. */
int ck_cli_parse(const ck_cli_cmd *cmd, int argc, char **argv, void *opts, bool *help);
/* `ciak CMD --help`: usage line, summary, one line per option with its default. */
void ck_cli_print_help(const ck_cli_cmd *cmd, FILE *f);
/* The usage line alone ("usage: ciak render SCENE_DIR --data FILE -o DIR [OPTIONS]"). */
void ck_cli_print_usage(const ck_cli_cmd *cmd, FILE *f);
/* The README's command list (markdown), generated from the tables. */
void ck_cli_print_markdown(const ck_cli_cmd *const *cmds, size_t n, FILE *f);
/* One line per accepted option: "COMMAND\tNAME\tARG\tALIAS" ("-": none), for tests. */
void ck_cli_print_option_list(const ck_cli_cmd *const *cmds, size_t n, FILE *f);
/* Prints "usage: ..." for a bad combination of options (the command's own checks) after
 * "ciak CMD: why"; returns CK_EXIT_USAGE. */
int ck_cli_usage_error(const ck_cli_cmd *cmd, const char *why);

/* ---- shared option groups ---- */

/* Where the server's data lives: every command that opens the store or the key file (serve,
 * import, links, revoke, purge, warm, keys, admin-password) takes this group, so a new way
 * to reach the data (a --db URL) is one more line in ck_cli_store_opts. */
typedef struct ck_cli_store {
    const char *data_dir; /* the cache, and the SQLite store and key file by default */
    const char *db;       /* PostgreSQL URL or libpq DSN (a cluster's shared state); NULL: SQLite */
    const char *keys;     /* the key file; NULL: <data_dir>/keys */
} ck_cli_store;
extern const ck_opt ck_cli_store_opts[];

/* The commands, each in its cmd_*.c (bench render and bench serve in bench/, main.c lists
 * them in order). Each returns the process exit status. */
extern const ck_cli_cmd ck_cli_cmd_render, ck_cli_cmd_bench_render, ck_cli_cmd_bench_serve,
    ck_cli_cmd_check, ck_cli_cmd_drawlist, ck_cli_cmd_schema, ck_cli_cmd_frame, ck_cli_cmd_serve,
    ck_cli_cmd_import, ck_cli_cmd_links, ck_cli_cmd_revoke, ck_cli_cmd_purge, ck_cli_cmd_warm,
    ck_cli_cmd_keys_rotate, ck_cli_cmd_keys_drop, ck_cli_cmd_admin_password, ck_cli_cmd_guide,
    ck_cli_cmd_preview;

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

/* The record picker: --data FILE, --record N, --id ID (the group ck_cli_pick_opts). */
typedef struct ck_cli_pick {
    const char *data;
    int record; /* 0-based */
    const char *id;
} ck_cli_pick;
extern const ck_opt ck_cli_pick_opts[];
extern const ck_opt ck_cli_pick_data_opts[]; /* the same with --data required */

/* Loads scene, binding, fonts, records and timeline, and binds the picked record. Prints
 * every problem; returns false on any error. */
bool ck_cli_scene_open(ck_cli_scene *cs, const char *scene_dir, const ck_cli_pick *pick);
void ck_cli_scene_close(ck_cli_scene *cs);

/* Opens the key file (--keys, or <data_dir>/keys) and the store (--db, or
 * <data_dir>/ciak.db), creating the folder and the key file when `create`; prints the reason
 * and returns false on failure (cmd_import.c). */
struct ck_keyring;
struct ck_store;
bool ck_cli_open_store(const ck_cli_store *where, bool create, struct ck_keyring *keys,
                       struct ck_store **st);
/* The key file's path: --keys, or <data_dir>/keys. */
void ck_cli_key_path(const ck_cli_store *where, char *path, size_t size);

#endif
