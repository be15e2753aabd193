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

int ck_cmd_guide(int argc, char **argv)
{
    ck_cli_pick pick = {.record = -1};
    const char *scene_dir = NULL, *out = NULL, *html = NULL, *date = NULL;
    for (int i = 1; i < argc; i++) {
        int r = ck_cli_pick_arg(&pick, argc, argv, &i);
        if (r < 0)
            return CK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
            html = argv[++i];
        else if (strcmp(argv[i], "--date") == 0 && i + 1 < argc)
            date = argv[++i];
        else if (argv[i][0] != '-' && !scene_dir)
            scene_dir = argv[i];
        else {
            fprintf(stderr, "ciak guide: unexpected argument \"%s\"\n", argv[i]);
            return CK_EXIT_USAGE;
        }
    }
    if (!scene_dir || !pick.data || (!out && !html)) {
        fprintf(stderr, "usage: ciak guide SCENE_DIR --data FILE [--record N | --id ID] "
                        "-o GUIDE.pdf [--html PAGE.html] [--date YYYY-MM-DD]\n");
        return CK_EXIT_USAGE;
    }
    ck_guide_pdf_params pp = {0};
    if (date && !ck_parse_date(date, &pp.today)) {
        fprintf(stderr, "ciak guide: --date wants YYYY-MM-DD, got \"%s\"\n", date);
        return CK_EXIT_USAGE;
    }
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
