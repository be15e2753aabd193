/* cmd_import.c: `ciak import CAMPAIGN FILE`: validates every row with the checks of
 * `ciak check` (types, values, text that must fit its box) and stores the people, encrypted.
 * All or nothing by default, naming every bad row by line; --skip-bad stores the good rows and
 * writes the problems of the others to a rejects file. Re-importing a person updates them. */
#include "ck_cli.h"
#include "ck_render.h"
#include "ck_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ck_cli_key_path(const ck_cli_store *where, char *path, size_t size)
{
    if (where->keys)
        snprintf(path, size, "%s", where->keys);
    else
        snprintf(path, size, "%s/keys", where->data_dir);
}

bool ck_cli_open_store(const ck_cli_store *where, bool create, ck_keyring *keys, ck_store **st)
{
    char path[1100];
    ck_error err = {0};
    char buf[1400];
    if (create && ck_mkdirs(where->data_dir, 0700, &err) != CK_OK) { /* people's data */
        fprintf(stderr, "%s\n", ck_error_format(&err, buf, sizeof buf));
        return false;
    }
    ck_cli_key_path(where, path, sizeof path);
    if (ck_keyring_load(path, create, keys, &err) != CK_OK) {
        fprintf(stderr, "%s\n", ck_error_format(&err, buf, sizeof buf));
        return false;
    }
    *st = ck_store_open_at(where->data_dir, where->db, &(ck_store_params){.keys = keys}, &err);
    if (!*st) {
        fprintf(stderr, "%s\n", ck_error_format(&err, buf, sizeof buf));
        ck_keyring_wipe(keys);
        return false;
    }
    return true;
}

/* Lines of `file` that have an error (sorted set in a plain array). */
static bool line_bad(const int *lines, size_t n, int line)
{
    for (size_t i = 0; i < n; i++)
        if (lines[i] == line)
            return true;
    return false;
}

static size_t bad_lines(const ck_diags *d, const char *file, int **out)
{
    size_t n = 0;
    int *lines = calloc(d->count ? d->count : 1, sizeof *lines);
    for (size_t i = 0; lines && i < d->count; i++) {
        const ck_diag *g = &d->items[i];
        if (g->sev == CK_SEV_ERROR && g->file && strcmp(g->file, file) == 0 && g->line > 0 &&
            !line_bad(lines, n, g->line))
            lines[n++] = g->line;
    }
    *out = lines;
    return n;
}

static bool write_rejects(const char *path, const ck_diags *d, size_t bad)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f,
            "# %zu row(s) not imported; fix them in the source file and import it again\n"
            "# (rows already imported are updated, not duplicated)\n",
            bad);
    for (size_t i = 0; i < d->count; i++) {
        const ck_diag *g = &d->items[i];
        if (g->sev == CK_SEV_ERROR)
            fprintf(f, "%s:%d: %s\n", g->file ? g->file : "", g->line, g->msg);
    }
    return fclose(f) == 0;
}

typedef struct import_opts {
    const char *campaign, *file, *scenes, *rejects;
    bool skip_bad;
    ck_cli_store store;
} import_opts;

static const ck_opt import_table[] = {
    {.name = "CAMPAIGN",
     .help = "the campaign (a folder of --scenes)",
     .parse = ck_opt_str,
     .offset = offsetof(import_opts, campaign)},
    {.name = "FILE",
     .help = "the people: CSV with a header row, or JSON",
     .parse = ck_opt_str,
     .offset = offsetof(import_opts, file)},
    {.name = "--scenes",
     .arg = "DIR",
     .help = "one folder per campaign",
     .def = "scenes",
     .parse = ck_opt_str,
     .offset = offsetof(import_opts, scenes)},
    {.name = "--skip-bad",
     .help = "store the good rows, write the bad ones' problems to the rejects",
     .parse = ck_opt_flag,
     .offset = offsetof(import_opts, skip_bad)},
    {.name = "--rejects",
     .arg = "FILE",
     .help = "where --skip-bad writes them (default: FILE.rejects.txt)",
     .parse = ck_opt_str,
     .offset = offsetof(import_opts, rejects)},
    {0},
};

static int cmd_import(const void *opts)
{
    const import_opts *o = opts;
    const char *campaign = o->campaign, *file = o->file, *scenes = o->scenes, *rejects = o->rejects;
    bool skip_bad = o->skip_bad;
    char dir[1100], rej_path[1100];
    snprintf(dir, sizeof dir, "%s/%s", scenes, campaign);
    ck_cli_scene cs = {0};
    if (!ck_cli_scene_open(&cs, dir, NULL))
        return CK_EXIT_PROBLEMS;
    const ck_scene *s = cs.scene;
    int rc = CK_EXIT_PROBLEMS;
    ck_diags d = {0}; /* every bad row is reported: no cap */
    ck_keyring keys = {0};
    ck_store *st = NULL;
    int *bad = NULL;
    /* No person is stored for a campaign whose assets would fail in front of them. */
    ck_render_verify_params vp = {.binding = cs.binding, .fonts = cs.fonts, .fonts_loaded = true};
    if (ck_render_verify_assets(s, &vp, &d) != CK_OK) {
        fprintf(stderr, "%s: the campaign's assets fail the checks: nothing imported\n", dir);
        goto done;
    }
    cs.records = ck_records_load(s, file, &d);
    if (!cs.records)
        goto done;
    /* The fit of every text box, as `ciak check` does it. */
    for (size_t r = 0; r < cs.records->count; r++)
        ck_timeline_set_record(cs.timeline, &cs.records->items[r], file, &d);
    size_t nbad = bad_lines(&d, file, &bad);
    if (d.errors && !skip_bad) {
        ck_cli_print_diags(&d);
        fprintf(stderr,
                "%s: %zu bad row(s), %zu error(s): nothing imported (fix them, or import the "
                "good rows with --skip-bad)\n",
                file, nbad, d.errors);
        goto done;
    }
    if (!ck_cli_open_store(&o->store, true, &keys, &st))
        goto done;
    ck_error err = {0};
    size_t created = 0, updated = 0, closed = 0, stored = 0;
    int32_t today = ck_today();
    if (ck_store_begin(st, &err) != CK_OK)
        goto store_error;
    for (size_t r = 0; r < cs.records->count; r++) {
        const ck_record *rec = &cs.records->items[r];
        if (line_bad(bad, nbad, rec->line))
            continue;
        char *json = ck_record_to_json(s, rec);
        int32_t last = ck_record_last_day(s, rec);
        bool isnew = false;
        ck_status sst = json ? ck_store_put(st, s->id, rec->id, json, last, &isnew, &err)
                             : ck_error_set(&err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        free(json);
        if (sst != CK_OK) {
            ck_store_rollback(st);
            goto store_error;
        }
        stored++;
        created += isnew;
        updated += !isnew;
        closed += last < today;
    }
    if (ck_store_commit(st, &err) != CK_OK)
        goto store_error;
    printf("%s: imported %zu person(s) into %s (%zu new, %zu updated)", file, stored, s->id,
           created, updated);
    if (nbad)
        printf(", %zu bad row(s) skipped", nbad);
    printf("\n");
    if (closed)
        printf("%s: %zu person(s) already past the availability window: the next purge removes "
               "them unless `ciak links --expires` re-issues their links\n",
               file, closed);
    if (nbad) {
        if (!rejects) {
            snprintf(rej_path, sizeof rej_path, "%s.rejects.txt", file);
            rejects = rej_path;
        }
        if (!write_rejects(rejects, &d, nbad))
            fprintf(stderr, "%s: cannot write the rejects\n", rejects);
        else
            printf("%s: the %zu rejected row(s) and why\n", rejects, nbad);
        ck_cli_print_diags(&d);
    }
    rc = CK_EXIT_OK;
    goto done;
store_error : {
    char buf[1400];
    fprintf(stderr, "ciak import: %s (nothing imported)\n", ck_error_format(&err, buf, sizeof buf));
}
done:
    if (rc != CK_EXIT_OK && !cs.records)
        ck_cli_print_diags(&d);
    free(bad);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    ck_diags_free(&d);
    ck_cli_scene_close(&cs);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_import = {
    "import",
    "checks every row as `ciak check` does and stores the people, encrypted (all or nothing)",
    {{import_table, 0}, {ck_cli_store_opts, offsetof(import_opts, store)}},
    sizeof(import_opts),
    NULL,
    cmd_import};
