/* cmd_guide.c: `ciak guide`: writes a person's PDF guide (and, with --html, the player page)
 * from a scene folder and a records file, without the server: for designers and tests. */
#include "ck_cli.h"
#include "ck_guide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool write_all(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

typedef struct guide_opts {
    const char *dir, *out, *html;
    int32_t date;  /* days since 1970-01-01; 0: today */
    int32_t until; /* the link's last day; 0: the record's window */
    ck_cli_pick pick;
} guide_opts;

static const ck_opt guide_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder",
     .parse = ck_opt_str,
     .offset = offsetof(guide_opts, dir)},
    {.name = "--output",
     .arg = "GUIDE.pdf",
     .help = "the PDF guide to write",
     .parse = ck_opt_str,
     .offset = offsetof(guide_opts, out),
     .alias = "-o"},
    {.name = "--html",
     .arg = "PAGE.html",
     .help = "the player page to write as well (or instead)",
     .parse = ck_opt_str,
     .offset = offsetof(guide_opts, html)},
    {.name = "--date",
     .arg = "YYYY-MM-DD",
     .help = "the day the guide is printed (default: today)",
     .parse = ck_opt_date,
     .offset = offsetof(guide_opts, date)},
    {.name = "--until",
     .arg = "YYYY-MM-DD",
     .help =
         "the link's last day, as `ciak links --expires` gave it (default: the record's window)",
     .parse = ck_opt_date,
     .offset = offsetof(guide_opts, until)},
    {0},
};

static int cmd_guide(const void *opts)
{
    const guide_opts *o = opts;
    const ck_cli_pick pick = o->pick;
    const char *scene_dir = o->dir, *out = o->out, *html = o->html;
    if (!out && !html)
        return ck_cli_usage_error(&ck_cli_cmd_guide, "needs -o GUIDE.pdf or --html PAGE.html");
    /* The link's last day as the letter's link states it (`ciak links --expires`); without
     * it, the record's window from the scene, which is what `ciak import` gives a new link. */
    ck_guide_pdf_params pp = {.today = o->date, .link_last_day = o->until};
    ck_diags d = {.max = 50};
    ck_scene *scene = ck_scene_load(scene_dir, NULL, &d);
    ck_records *recs = scene ? ck_records_load(scene, pick.data, &d) : NULL;
    int status = CK_EXIT_PROBLEMS;
    ck_guide *g = NULL;
    if (!scene || !recs || d.errors) {
        ck_cli_print_diags(&d);
        goto done;
    }
    long idx = pick.id ? ck_records_find(recs, pick.id) : (pick.record < 0 ? 0 : pick.record);
    if (idx < 0 || (size_t)idx >= recs->count) {
        fprintf(stderr, "ciak guide: no such record in %s\n", pick.data);
        goto done;
    }
    ck_error err = {0};
    char msg[1400];
    g = ck_guide_create(scene, &err);
    if (!g) {
        fprintf(stderr, "%s\n", ck_error_format(&err, msg, sizeof msg));
        goto done;
    }
    const ck_record *rec = &recs->items[idx];
    if (out) {
        char *pdf = NULL;
        size_t len = 0;
        if (ck_guide_pdf(g, rec, &pp, &pdf, &len, &err) != CK_OK) {
            fprintf(stderr, "%s\n", ck_error_format(&err, msg, sizeof msg));
            goto done;
        }
        bool ok = write_all(out, pdf, len);
        free(pdf);
        if (!ok) {
            fprintf(stderr, "ciak guide: cannot write %s\n", out);
            goto done;
        }
    }
    if (html) {
        char *page = ck_guide_player_html(g, rec, "TOKEN", scene->caption_count > 0);
        bool ok = page && write_all(html, page, strlen(page));
        free(page);
        if (!ok) {
            fprintf(stderr, "ciak guide: cannot write %s\n", html);
            goto done;
        }
    }
    status = CK_EXIT_OK;
done:
    ck_guide_destroy(&g);
    ck_records_destroy(&recs);
    ck_scene_destroy(&scene);
    ck_diags_free(&d);
    return status;
}

const ck_cli_cmd ck_cli_cmd_guide = {
    "guide",
    "writes a person's PDF guide (and the player page) without the server",
    {{guide_table, 0}, {ck_cli_pick_data_opts, offsetof(guide_opts, pick)}},
    sizeof(guide_opts),
    NULL,
    cmd_guide};
