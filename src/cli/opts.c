/* opts.c: the option tables' engine: parsing, `--help`, the README's command list, and the
 * value parsers every command shares (one --size, one date, one int with a range). */
#include "ck_cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64 /* options and positionals of one command, all groups together */

/* ---- value parsers ---- */

bool ck_opt_str(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    if (!*value) {
        snprintf(msg, size, "needs a value, got ''");
        return false;
    }
    *(const char **)dst = value;
    return true;
}

bool ck_opt_flag(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o, (void)value, (void)msg, (void)size;
    *(bool *)dst = true;
    return true;
}

bool ck_opt_int(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    long long lo = o->lo, hi = o->hi;
    if (lo == 0 && hi == 0)
        lo = INT32_MIN, hi = INT32_MAX;
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi) {
        snprintf(msg, size, "'%s' is not a whole number from %lld to %lld", value, lo, hi);
        return false;
    }
    *(int *)dst = (int)v;
    return true;
}

bool ck_opt_seconds(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(v) || v < 0) {
        snprintf(msg, size, "'%s' is not a number of seconds (12, 12.5)", value);
        return false;
    }
    *(double *)dst = v;
    return true;
}

bool ck_opt_date(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    if (!ck_parse_date(value, dst)) {
        snprintf(msg, size, "'%s' is not a date YYYY-MM-DD", value);
        return false;
    }
    return true;
}

static bool parse_size(const char *value, bool even, void *dst, char *msg, size_t size)
{
    int w = 0, h = 0;
    char tail = 0;
    if (sscanf(value, "%dx%d%c", &w, &h, &tail) != 2 || w <= 0 || h <= 0) {
        snprintf(msg, size, "'%s' is not WIDTHxHEIGHT", value);
        return false;
    }
    if (w > 8192 || h > 8192) {
        snprintf(msg, size, "'%s' is larger than 8192x8192", value);
        return false;
    }
    if (even && ((w & 1) || (h & 1))) {
        snprintf(msg, size, "'%s' is not even (the video encoder needs even sizes)", value);
        return false;
    }
    *(ck_cli_size *)dst = (ck_cli_size){w, h};
    return true;
}

bool ck_opt_size(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    return parse_size(value, false, dst, msg, size);
}

bool ck_opt_size_even(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    return parse_size(value, true, dst, msg, size);
}

bool ck_opt_list(const ck_opt *o, const char *value, void *dst, char *msg, size_t size)
{
    (void)o;
    ck_cli_strs *l = dst;
    if (l->count >= CK_CLI_STRS_MAX) {
        snprintf(msg, size, "given more than %d times", CK_CLI_STRS_MAX);
        return false;
    }
    l->items[l->count++] = value;
    return true;
}

/* ---- the tables of one command ---- */

typedef struct opt_ref {
    const ck_opt *o;
    size_t offset; /* of the field in the command's options struct */
} opt_ref;

static bool positional(const ck_opt *o)
{
    return o->name[0] != '-';
}

/* Every option of the command, groups in order, the command's own first. */
static int collect(const ck_cli_cmd *cmd, opt_ref *out)
{
    int n = 0;
    for (size_t g = 0; g < CK_ARRAY_LEN(cmd->groups); g++)
        for (const ck_opt *o = cmd->groups[g].opts; o && o->name && n < MAX_OPTS; o++)
            out[n++] = (opt_ref){o, cmd->groups[g].offset + o->offset};
    return n;
}

void ck_cli_print_usage(const ck_cli_cmd *cmd, FILE *f)
{
    opt_ref refs[MAX_OPTS];
    int n = collect(cmd, refs);
    bool more = false;
    fprintf(f, "usage: ciak %s", cmd->name);
    for (int i = 0; i < n; i++) {
        const ck_opt *o = refs[i].o;
        if (positional(o))
            fprintf(f, (o->flags & CK_OPT_OPTIONAL) ? " [%s%s]" : " %s%s", o->name,
                    (o->flags & CK_OPT_REPEAT) ? "..." : "");
        else if (o->flags & CK_OPT_REQUIRED)
            fprintf(f, " %s %s", o->alias ? o->alias : o->name, o->arg);
        else
            more = true;
    }
    fprintf(f, "%s\n", more ? " [OPTIONS]" : "");
}

void ck_cli_print_help(const ck_cli_cmd *cmd, FILE *f)
{
    opt_ref refs[MAX_OPTS];
    int n = collect(cmd, refs);
    ck_cli_print_usage(cmd, f);
    fprintf(f, "%s\n\n", cmd->summary);
    for (int i = 0; i <= n; i++) {
        const ck_opt *o = i < n ? refs[i].o : NULL;
        char left[96];
        if (!o)
            snprintf(left, sizeof left, "-h, --help");
        else if (positional(o))
            snprintf(left, sizeof left, "%s", o->name);
        else
            snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "",
                     o->alias ? ", " : "", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-24s %s", left, o ? o->help : "prints this help");
        if (o && o->def)
            fprintf(f, " (default: %s)", o->def);
        if (o && (o->flags & CK_OPT_REQUIRED))
            fprintf(f, " (required)");
        if (o && !positional(o) && (o->flags & CK_OPT_REPEAT))
            fprintf(f, " (repeatable)");
        fputc('\n', f);
    }
}

int ck_cli_usage_error(const ck_cli_cmd *cmd, const char *why)
{
    fprintf(stderr, "ciak %s: %s\n", cmd->name, why);
    ck_cli_print_usage(cmd, stderr);
    fprintf(stderr, "Run `ciak %s --help` for every option.\n", cmd->name);
    return CK_EXIT_USAGE;
}

static int bad_value(const ck_cli_cmd *cmd, const ck_opt *o, const char *msg)
{
    char why[1200];
    snprintf(why, sizeof why, "%s: %s", o->name, msg);
    return ck_cli_usage_error(cmd, why);
}

/* The index of option `a` (its name or alias), -1 when the command has none such. */
static int find(const opt_ref *refs, int n, const char *a)
{
    for (int i = 0; i < n; i++) {
        const ck_opt *o = refs[i].o;
        if (!positional(o) && (strcmp(a, o->name) == 0 || (o->alias && strcmp(a, o->alias) == 0)))
            return i;
    }
    return -1;
}

int ck_cli_parse(const ck_cli_cmd *cmd, int argc, char **argv, void *opts, bool *help)
{
    opt_ref refs[MAX_OPTS];
    int n = collect(cmd, refs);
    bool given[MAX_OPTS] = {0};
    char msg[1100];
    *help = false;
    memset(opts, 0, cmd->size);
    if (cmd->init)
        cmd->init(opts);
    for (int i = 0; i < n; i++)
        if (refs[i].o->def && !refs[i].o->parse(refs[i].o, refs[i].o->def,
                                                (char *)opts + refs[i].offset, msg, sizeof msg))
            return bad_value(cmd, refs[i].o, msg); /* a table's mistake: tests catch it */
    int next_pos = 0;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = true;
            return CK_EXIT_OK;
        }
        int idx;
        if (arg[0] == '-' && arg[1]) {
            if ((idx = find(refs, n, arg)) < 0) {
                snprintf(msg, sizeof msg, "unknown option \"%s\"", arg);
                return ck_cli_usage_error(cmd, msg);
            }
        } else {
            while (next_pos < n &&
                   (!positional(refs[next_pos].o) ||
                    (given[next_pos] && !(refs[next_pos].o->flags & CK_OPT_REPEAT))))
                next_pos++;
            if (next_pos >= n) {
                snprintf(msg, sizeof msg, "unexpected argument \"%s\"", arg);
                return ck_cli_usage_error(cmd, msg);
            }
            idx = next_pos;
        }
        const ck_opt *o = refs[idx].o;
        size_t offset = refs[idx].offset;
        if (given[idx] && !(o->flags & CK_OPT_REPEAT) && !positional(o)) {
            snprintf(msg, sizeof msg, "given twice");
            return bad_value(cmd, o, msg);
        }
        given[idx] = true;
        const char *value = arg;
        if (!positional(o)) {
            value = NULL;
            if (o->arg) {
                if (a + 1 >= argc) {
                    snprintf(msg, sizeof msg, "needs a value (%s)", o->arg);
                    return bad_value(cmd, o, msg);
                }
                value = argv[++a];
            }
        }
        if (!o->parse(o, value, (char *)opts + offset, msg, sizeof msg))
            return bad_value(cmd, o, msg);
    }
    for (int i = 0; i < n; i++) {
        const ck_opt *o = refs[i].o;
        bool needed = positional(o) ? !(o->flags & CK_OPT_OPTIONAL) : (o->flags & CK_OPT_REQUIRED);
        if (needed && !given[i]) {
            snprintf(msg, sizeof msg, "%s%s%s is missing", o->alias ? o->alias : o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
            return ck_cli_usage_error(cmd, msg);
        }
    }
    return CK_EXIT_OK;
}

/* ---- generated lists ---- */

static void markdown_row(const ck_cli_cmd *cmd, FILE *f)
{
    opt_ref refs[MAX_OPTS];
    int n = collect(cmd, refs);
    fprintf(f, "| `ciak %s", cmd->name);
    for (int i = 0; i < n; i++) {
        const ck_opt *o = refs[i].o;
        if (positional(o))
            fprintf(f, (o->flags & CK_OPT_OPTIONAL) ? " [%s%s]" : " %s%s", o->name,
                    (o->flags & CK_OPT_REPEAT) ? "..." : "");
        else if (o->flags & CK_OPT_REQUIRED)
            fprintf(f, " %s %s", o->alias ? o->alias : o->name, o->arg);
    }
    fprintf(f, "` | %s", cmd->summary);
    bool first = true;
    for (int i = 0; i < n; i++) {
        const ck_opt *o = refs[i].o;
        if (positional(o) || (o->flags & CK_OPT_REQUIRED))
            continue;
        fprintf(f, "%s`%s%s%s`", first ? "<br>options: " : ", ", o->name, o->arg ? " " : "",
                o->arg ? o->arg : "");
        first = false;
    }
    fprintf(f, " |\n");
}

void ck_cli_print_markdown(const ck_cli_cmd *const *cmds, size_t n, FILE *f)
{
    fprintf(f, "| command | what it does |\n|---|---|\n");
    for (size_t i = 0; i < n; i++)
        markdown_row(cmds[i], f);
}

void ck_cli_print_option_list(const ck_cli_cmd *const *cmds, size_t n, FILE *f)
{
    for (size_t c = 0; c < n; c++) {
        opt_ref refs[MAX_OPTS];
        int k = collect(cmds[c], refs);
        for (int i = 0; i < k; i++)
            if (!positional(refs[i].o))
                fprintf(f, "%s\t%s\t%s\t%s\n", cmds[c]->name, refs[i].o->name,
                        refs[i].o->arg ? refs[i].o->arg : "-",
                        refs[i].o->alias ? refs[i].o->alias : "-");
    }
}
