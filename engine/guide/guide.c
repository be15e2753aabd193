/* guide.c: ck_guide: the scene's bindings and the campaign's guide texts, compiled once; the
 * cues one person sees. */
#include "guide_internal.h"

#include <stdlib.h>
#include <string.h>

/* Compiles one text; a failure is logged (campaign and reason, never data) and skipped. */
static bool compile_text(ck_guide *g, const char *text, const char *when, const char *label,
                         guide_text *out)
{
    ck_error err = {0};
    memset(out, 0, sizeof *out);
    out->tpl = ck_template_compile(g->scene, text, &g->arena, &err);
    if (out->tpl && when)
        out->when = ck_expr_compile(g->scene, when, &g->arena, &err);
    if (!out->tpl || (when && !out->when)) {
        ck_log(CK_LOG_WARN, "guide %s: text left out (%s): %s", g->scene->id,
               label ? label : "paragraph", err.msg);
        return false;
    }
    out->label = label;
    return true;
}

const char *guide_text_render(const guide_text *t, const ck_record *rec, ck_arena *arena)
{
    if (!t->tpl || (t->when && !ck_expr_eval(t->when, rec)))
        return NULL;
    const char *s = ck_template_render(t->tpl, rec, arena);
    return s && s[0] ? s : NULL;
}

int32_t guide_last_day(const ck_scene *scene, const ck_record *rec)
{
    const ck_availability *av = &scene->availability;
    if (av->kind == CK_AVAIL_UNTIL)
        return av->until;
    if (av->kind == CK_AVAIL_DAYS_AFTER && rec && av->field >= 0 &&
        av->field < scene->field_count && rec->values[av->field].present)
        return (int32_t)rec->values[av->field].i + av->days;
    return -1;
}

ck_guide *ck_guide_create(const ck_scene *scene, ck_error *err)
{
    ck_guide *g = calloc(1, sizeof *g);
    if (!g) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "guide: out of memory");
        return NULL;
    }
    g->scene = scene;
    ck_diags d = {.max = 20};
    g->binding = ck_binding_create(scene, &d);
    if (!g->binding) {
        ck_error_set(err, CK_ERR_INVALID, scene->file, d.count ? d.items[0].line : 0,
                     d.count ? d.items[0].col : 0, "%s",
                     d.count ? d.items[0].msg : "the scene's templates do not compile");
        ck_diags_free(&d);
        ck_guide_destroy(&g);
        return NULL;
    }
    ck_diags_free(&d);

    const guide_campaign_src *c = guide_campaign_find(scene->id);
    g->topic = c ? c->topic : (scene->title ? scene->title : "La sua video-guida");
    g->deadline_label = c ? c->deadline_label : NULL;
    g->title = c && c->title ? c->title : "La sua guida personale";
    g->popups_title = c && c->popups_title ? c->popups_title : "Da sapere";
    guide_text t;
    if (compile_text(g, guide_greeting, NULL, "greeting", &t))
        g->greeting = t.tpl;
    if (compile_text(g, guide_salute, NULL, "salute", &t))
        g->salute = t.tpl;
    if (c && c->intro && compile_text(g, c->intro, NULL, "intro", &t))
        g->intro = t.tpl;
    if (c) {
        for (int i = 0; i < GUIDE_MAX_FACTS && c->facts[i].label; i++)
            if (compile_text(g, c->facts[i].value, c->facts[i].when, c->facts[i].label,
                             &g->facts[g->fact_count]))
                g->fact_count++;
        for (int i = 0; i < GUIDE_MAX_ITEMS && c->duties[i].text; i++)
            if (compile_text(g, c->duties[i].text, c->duties[i].when, NULL,
                             &g->duties[g->duty_count]))
                g->duty_count++;
        g->duties_title = c->duties_title;
    } else {
        /* Generic guide: every date and money field, labelled by its description. */
        for (int i = 0; i < scene->field_count && g->fact_count < GUIDE_MAX_FACTS; i++) {
            const ck_field *f = &scene->fields[i];
            if (f->type != CK_FIELD_DATE && f->type != CK_FIELD_MONEY)
                continue;
            const char *src = ck_arena_printf(&g->arena, "{{%s}}", f->name);
            const char *label = f->description ? f->description : f->name;
            if (src && compile_text(g, src, NULL, label, &g->facts[g->fact_count]))
                g->fact_count++;
        }
        for (int i = 0; guide_generic_duties[i].text && g->duty_count < GUIDE_MAX_ITEMS; i++)
            if (compile_text(g, guide_generic_duties[i].text, guide_generic_duties[i].when, NULL,
                             &g->duties[g->duty_count]))
                g->duty_count++;
        g->duties_title = "Cosa ricordare";
    }
    return g;
}

void ck_guide_destroy(ck_guide **gp)
{
    ck_guide *g = gp ? *gp : NULL;
    if (!g)
        return;
    ck_binding_destroy(&g->binding);
    ck_arena_free(&g->arena);
    free(g);
    *gp = NULL;
}

const ck_scene *ck_guide_scene(const ck_guide *g)
{
    return g->scene;
}

int ck_guide_cues(const ck_guide *g, const ck_record *rec, ck_arena *arena, ck_guide_cue **out)
{
    const ck_scene *s = g->scene;
    const ck_binding *b = g->binding;
    *out = NULL;
    if (s->cue_count == 0)
        return 0;
    ck_guide_cue *cues = ck_arena_alloc(arena, (size_t)s->cue_count * sizeof *cues);
    if (!cues)
        return 0;
    int n = 0;
    for (int i = 0; i < s->cue_count; i++) {
        const ck_cue *c = &s->cues[i];
        /* The condition is decided here, on the server: a cue for a benefit this person does
         * not hold never reaches the page. */
        if (b->cue_when[i] && !ck_expr_eval(b->cue_when[i], rec))
            continue;
        ck_guide_cue *o = &cues[n++];
        o->id = c->id;
        o->kind = c->kind;
        o->start = c->start;
        o->end = c->end;
        o->url = c->url;
        o->title = b->cue_title[i] ? ck_template_render(b->cue_title[i], rec, arena) : NULL;
        o->body = b->cue_body[i] ? ck_template_render(b->cue_body[i], rec, arena) : NULL;
        o->label = b->cue_label[i] ? ck_template_render(b->cue_label[i], rec, arena) : NULL;
    }
    *out = cues;
    return n;
}
