/* cmd_check.c: `ciak check SCENE_DIR [--data RECORDS]`: validates a scene and, with --data,
 * every record (types, fit of every text box, glyphs), then prints the segment map. Problems
 * go to stderr as file:line:col: message; the summary and map go to stdout. */
#include "ck_cli.h"
#include "ck_render.h"
#include "ck_speech.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_deps(const ck_scene *s, uint64_t deps)
{
    bool first = true;
    for (int f = 0; f < s->field_count; f++)
        if (deps & (1ull << f)) {
            printf("%s%s", first ? "" : ", ", s->fields[f].name);
            first = false;
        }
}

static void print_segment_map(const ck_scene *s, const ck_segment_plan *plan)
{
    int personal = 0;
    for (int i = 0; i < plan->count; i++)
        personal += plan->items[i].personal;
    printf("segment map: %d segments", plan->count);
    if (s->cut_count)
        printf(" (explicit cuts)");
    else
        printf(" (first %g s, then %g s)", s->seg_first, s->seg_target);
    printf(": %d shared, %d personal; personal %.1f%% of %.1f s\n", plan->count - personal,
           personal,
           plan->total_seconds > 0 ? 100.0 * plan->personal_seconds / plan->total_seconds : 0.0,
           plan->total_seconds);
    printf("  ");
    for (int i = 0; i < plan->count; i++) {
        putchar(plan->items[i].personal ? 'P' : 's');
        if (i % 60 == 59 && i + 1 < plan->count)
            printf("\n  ");
    }
    printf("   (s shared, P personal)\n");
    for (int i = 0; i < plan->count; i++) {
        const ck_segment *sg = &plan->items[i];
        if (!sg->personal)
            continue;
        printf("  #%-3d %7.3f-%7.3f s  personal: ", sg->index, sg->start, sg->start + sg->duration);
        print_deps(s, sg->deps);
        if (sg->first_layer >= 0)
            printf(" (e.g. layer \"%s\")", s->layers[sg->first_layer].id);
        if (sg->speech)
            printf("%sa personal speech line", sg->first_layer >= 0 ? ", " : "");
        printf("\n");
    }
}

/* Lines of one hearing (a record, or NULL: the shared lines) that take longer to say than
 * the time they have. The record's problems name its line in the records file, not its
 * data. Returns the number of lines too long. */
static size_t check_speech_fit(const ck_scene *s, const ck_record *rec, const char *file,
                               ck_diags *d)
{
    ck_speech_clip *clips = NULL;
    size_t n = 0, bad = 0;
    ck_error err = {0};
    if (ck_speech_render_lines(s, rec, &clips, &n, &err) != CK_OK) {
        if (rec)
            ck_diag_add(d, CK_SEV_ERROR, file, rec->line, 0, "speech: %s", err.msg);
        else
            ck_diag_add(d, CK_SEV_ERROR, s->file, s->speech_pos.line, s->speech_pos.col,
                        "speech: %s", err.msg);
        return 1;
    }
    for (size_t k = 0; k < n; k++) {
        const ck_speech_line *l = &s->speech_lines[clips[k].line];
        if (rec && !clips[k].personal)
            continue; /* shared lines are checked once, without a record */
        double need = (double)clips[k].frames / clips[k].rate, have = l->end - l->start;
        if (need <= have + 1e-9)
            continue;
        bad++;
        bool next = clips[k].line + 1 < s->speech_line_count &&
                    l->end == s->speech_lines[clips[k].line + 1].start;
        const char *until = next ? "the next line" : l->end < s->duration ? "its end" : "the end";
        if (rec)
            ck_diag_add(d, CK_SEV_ERROR, file, rec->line, 0,
                        "%s.text (%s:%d:%d): takes %.1f s to say for this record; it has %.1f s "
                        "(until %s)",
                        l->path, s->file, l->text.pos.line, l->text.pos.col, need, have, until);
        else
            ck_diag_add(d, CK_SEV_ERROR, s->file, l->text.pos.line, l->text.pos.col,
                        "%s.text: takes %.1f s to say; it has %.1f s (until %s)", l->path, need,
                        have, until);
    }
    ck_speech_clips_free(&clips, n);
    return bad;
}

/* The voice exists, and the shared lines fit. */
static bool check_speech(const ck_scene *s, ck_diags *d)
{
    if (s->speech_line_count == 0)
        return false;
    ck_error err = {0};
    if (ck_speech_voice_check(s->speech_voice, &err) != CK_OK) {
        ck_diag_add(d, CK_SEV_ERROR, s->file, s->speech_pos.line, s->speech_pos.col,
                    "speech.voice: %s", err.msg);
        return false;
    }
    check_speech_fit(s, NULL, s->file, d);
    return true;
}

/* Binds every record and reports boxes that overflow, glyphs no font has and (speech: the
 * voice exists) personal lines too long to say in their time. */
static size_t check_records(ck_cli_scene *cs, const char *file, bool speech, ck_diags *d)
{
    size_t shrunk = 0, wrapped = 0;
    for (size_t r = 0; r < cs->records->count; r++) {
        ck_timeline_set_record(cs->timeline, &cs->records->items[r], file, d);
        if (speech)
            check_speech_fit(cs->scene, &cs->records->items[r], file, d);
        size_t n;
        const ck_text_fit *fits = ck_timeline_fits(cs->timeline, &n);
        for (size_t k = 0; k < n; k++) {
            shrunk += fits[k].layout.shrunk;
            wrapped += fits[k].layout.wrapped;
        }
    }
    printf("%s: %zu record(s); text boxes shrunk %zu time(s), wrapped %zu time(s)\n", file,
           cs->records->count, shrunk, wrapped);
    return shrunk;
}

typedef struct check_opts {
    const char *dir, *data;
} check_opts;

static const ck_opt check_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scene folder (scene.json and its assets)",
     .parse = ck_opt_str,
     .offset = offsetof(check_opts, dir)},
    {.name = "--data",
     .arg = "FILE",
     .help = "records to check as well (JSON or CSV): types, fit, glyphs, speech length",
     .parse = ck_opt_str,
     .offset = offsetof(check_opts, data)},
    {0},
};

static int cmd_check(const void *opts)
{
    const check_opts *o = opts;
    const char *dir = o->dir, *data = o->data;
    ck_diags d = {.max = 500};
    ck_cli_scene cs = {0};
    ck_segment_plan plan = {0};
    ck_error err = {0};
    int rc = CK_EXIT_PROBLEMS;

    cs.scene = ck_scene_load(dir, NULL, &d);
    if (!cs.scene)
        goto done;
    cs.binding = ck_binding_create(cs.scene, &d);
    cs.fonts = ck_fontset_create(cs.scene, &d);
    /* Every asset decodes and lasts, before a link goes out (issue 14). */
    ck_render_verify_assets(
        cs.scene,
        &(ck_render_verify_params){.binding = cs.binding, .fonts = cs.fonts, .fonts_loaded = true},
        &d);
    if (!cs.binding || !cs.fonts)
        goto done;
    cs.timeline = ck_timeline_create(cs.scene, cs.binding, cs.fonts, &err);
    if (!cs.timeline) {
        ck_diag_add_error(&d, &err);
        goto done;
    }
    /* The shared parts: every text that reads no field, laid out once. */
    ck_timeline_set_record(cs.timeline, NULL, cs.scene->file, &d);
    const ck_scene *s = cs.scene;
    printf("%s: \"%s\" v%d, %g s, %dx%d at %g fps, %d layers, %d fields, %d cues, %d captions\n",
           s->file, s->title ? s->title : "", s->version, s->duration, s->width, s->height, s->fps,
           s->layer_count, s->field_count, s->cue_count, s->caption_count);
    bool speech = check_speech(s, &d);
    if (data) {
        cs.records = ck_records_load(s, data, &d);
        if (cs.records)
            check_records(&cs, data, speech, &d);
    }
    if (ck_segment_plan_make(s, cs.binding, &plan, &err) != CK_OK) {
        ck_diag_add_error(&d, &err);
        goto done;
    }
    /* A personal speech line's audio differs per person wherever it may sound (the server
     * decides per person from the line actually said; the map shows where it may). */
    for (int k = 0; k < s->speech_line_count; k++)
        if (cs.binding->speech_deps[k])
            ck_segment_plan_mark_speech(&plan, s->speech_lines[k].start, s->speech_lines[k].end,
                                        CK_AUDIO_GUARD / (double)CK_AUDIO_RATE);
    print_segment_map(s, &plan);
    if (d.errors == 0)
        rc = CK_EXIT_OK;
done:
    fflush(stdout);
    ck_cli_print_diags(&d);
    if (d.errors || d.warnings)
        fprintf(stderr, "%s: %zu error(s), %zu warning(s)\n", dir, d.errors, d.warnings);
    ck_segment_plan_free(&plan);
    ck_cli_scene_close(&cs);
    ck_diags_free(&d);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_check = {
    "check",
    "validates a scene (and records); problems as file:line:col, then the segment map",
    {{check_table, 0}},
    sizeof(check_opts),
    NULL,
    cmd_check};
