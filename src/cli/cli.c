/* cli.c: helpers shared by the subcommands. */
#include "ck_cli.h"

#include <errno.h>
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

bool ck_cli_parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v != v)
        return false;
    *out = v;
    return true;
}

int ck_cli_pick_arg(ck_cli_pick *pick, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    bool data = strcmp(a, "--data") == 0, rec = strcmp(a, "--record") == 0,
         id = strcmp(a, "--id") == 0;
    if (!data && !rec && !id)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "ciak: %s needs a value\n", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (data) {
        pick->data = v;
    } else if (id) {
        pick->id = v;
    } else {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < 0) {
            fprintf(stderr, "ciak: --record needs a record number (0, 1, ...), got \"%s\"\n", v);
            return -1;
        }
        pick->record = n;
    }
    return 1;
}

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
        long idx = pick->record >= 0 ? pick->record : 0;
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
    } else if (pick && (pick->id || pick->record >= 0)) {
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
