/* cli.c: helpers shared by the subcommands. */
#include "ck_cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sev_names[] = {"error", "warning", "note"};

void ck_cli_print_diags(const ck_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const ck_diag *g = &d->items[i];
        if (g->file && g->line > 0 && g->col > 0)
            fprintf(stderr, "%s:%d:%d: %s: %s\n", g->file, g->line, g->col, sev_names[g->sev],
                    g->msg);
        else if (g->file && g->line > 0)
            fprintf(stderr, "%s:%d: %s: %s\n", g->file, g->line, sev_names[g->sev], g->msg);
        else if (g->file)
            fprintf(stderr, "%s: %s: %s\n", g->file, sev_names[g->sev], g->msg);
        else
            fprintf(stderr, "%s: %s\n", sev_names[g->sev], g->msg);
    }
    if (d->dropped)
        fprintf(stderr, "... and %zu more problem(s) not shown\n", d->dropped);
}

const ck_opt ck_cli_pick_opts[] = {
    {.name = "--data",
     .arg = "FILE",
     .help = "records: one JSON object, a JSON array, or CSV with a header row",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_pick, data)},
    {.name = "--record",
     .arg = "N",
     .help = "which record of FILE, numbered from 0",
     .def = "0",
     .parse = ck_opt_int,
     .offset = offsetof(ck_cli_pick, record),
     .hi = INT32_MAX},
    {.name = "--id",
     .arg = "ID",
     .help = "the record with this id (instead of --record)",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_pick, id)},
    {0},
};

const ck_opt ck_cli_pick_data_opts[] = {
    {.name = "--data",
     .arg = "FILE",
     .help = "records: one JSON object, a JSON array, or CSV with a header row",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_pick, data),
     .flags = CK_OPT_REQUIRED},
    {.name = "--record",
     .arg = "N",
     .help = "which record of FILE, numbered from 0",
     .def = "0",
     .parse = ck_opt_int,
     .offset = offsetof(ck_cli_pick, record),
     .hi = INT32_MAX},
    {.name = "--id",
     .arg = "ID",
     .help = "the record with this id (instead of --record)",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_pick, id)},
    {0},
};

const ck_opt ck_cli_store_opts[] = {
    {.name = "--data-dir",
     .arg = "DIR",
     .help = "the store, the token keys and the cache",
     .def = "var",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_store, data_dir)},
    {.name = "--db",
     .arg = "URL",
     .help = "PostgreSQL (postgresql://... or a libpq DSN; the password in PGPASSWORD) for "
             "the people, their revocations and expiry extensions, shared by a cluster's nodes; "
             "default: SQLite in the data folder",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_store, db)},
    {.name = "--keys",
     .arg = "FILE",
     .help = "the key file (tokens and sealing; one file shared by every node, never in the "
             "database); default: DIR/keys",
     .parse = ck_opt_str,
     .offset = offsetof(ck_cli_store, keys)},
    {0},
};

bool ck_cli_scene_open(ck_cli_scene *cs, const char *scene_dir, const ck_cli_pick *pick)
{
    memset(cs, 0, sizeof *cs);
    ck_diags d = {0};
    ck_error err = {0};
    bool ok = false;
    cs->scene = ck_scene_load(scene_dir, NULL, &d);
    if (!cs->scene)
        goto done;
    cs->binding = ck_binding_create(cs->scene, &d);
    cs->fonts = ck_fontset_create(cs->scene, &d);
    if (!cs->binding || !cs->fonts)
        goto done;
    if (pick && pick->data) {
        cs->records = ck_records_load(cs->scene, pick->data, &d);
        if (!cs->records || d.errors)
            goto done;
        long idx = pick->record;
        if (pick->id) {
            idx = ck_records_find(cs->records, pick->id);
            if (idx < 0) {
                /* The id is what the operator typed; it is fine to echo it back to them. */
                fprintf(stderr, "%s: no record with id \"%s\"\n", pick->data, pick->id);
                goto done;
            }
        } else if ((size_t)idx >= cs->records->count) {
            fprintf(stderr, "%s: --record %ld is out of range (%zu record(s), numbered from 0)\n",
                    pick->data, idx, cs->records->count);
            goto done;
        }
        cs->record = &cs->records->items[idx];
    } else if (pick && (pick->id || pick->record > 0)) {
        fprintf(stderr, "ciak: --record and --id need --data FILE\n");
        goto done;
    }
    cs->timeline = ck_timeline_create(cs->scene, cs->binding, cs->fonts, &err);
    if (!cs->timeline) {
        ck_diag_add_error(&d, &err);
        goto done;
    }
    ck_timeline_set_record(cs->timeline, cs->record, pick ? pick->data : NULL, &d);
    ok = d.errors == 0;
done:
    ck_cli_print_diags(&d);
    ck_diags_free(&d);
    if (!ok)
        ck_cli_scene_close(cs);
    return ok;
}

void ck_cli_scene_close(ck_cli_scene *cs)
{
    ck_timeline_destroy(&cs->timeline);
    ck_records_destroy(&cs->records);
    ck_fontset_destroy(&cs->fonts);
    ck_binding_destroy(&cs->binding);
    ck_scene_destroy(&cs->scene);
    cs->record = NULL;
}
