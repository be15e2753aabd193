/* test_timeline.c: easing, keyframes, conditions, transforms, fit and timing edges of the
 * draw lists, and the segment plan / map. */
#include "ck_segment.h"
#include "ck_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *scene_json =
    "{\"format\": 1, \"id\": \"t\", \"duration\": 10,\n"
    " \"canvas\": {\"width\": 640, \"height\": 360, \"fps\": 25, \"background\": \"#102030\"},\n"
    " \"segments\": {\"first\": 1, \"target\": 2},\n"
    " \"fields\": {\"first_name\": {\"type\": \"string\", \"max_length\": 80},\n"
    "            \"gender\": {\"type\": \"enum\", \"values\": [\"F\", \"M\"]}},\n"
    " \"assets\": {\"regular\": {\"type\": \"font\", \"path\": \"TitilliumWeb-Regular.ttf\"}},\n"
    " \"layers\": [\n"
    "  {\"id\": \"bar\", \"type\": \"shape\", \"width\": 100, \"height\": 20, \"x\": 320, \"y\": "
    "180,\n"
    "   \"anchor_x\": 0.5, \"anchor_y\": 0.5, \"rotation\": 90, \"opacity\": 0.5},\n"
    "  {\"id\": \"fade\", \"type\": \"shape\", \"width\": 10, \"height\": 10, \"start\": 1, "
    "\"end\": 3,\n"
    "   \"x\": [{\"t\": 0, \"v\": 0, \"ease\": \"ease-in\"}, {\"t\": 1, \"v\": 100, \"ease\": "
    "\"hold\"}, {\"t\": 1.5, \"v\": 200}]},\n"
    "  {\"id\": \"title\", \"type\": \"text\", \"text\": \"Benvenuti\", \"font\": \"regular\", "
    "\"size\": 40,\n"
    "   \"start\": 0, \"end\": 10, \"y\": 40},\n"
    "  {\"id\": \"g\", \"type\": \"group\", \"start\": 2, \"end\": 6, \"x\": 10, \"y\": 20, "
    "\"opacity\": 0.5,\n"
    "   \"when\": \"gender == \\\"F\\\"\", \"children\": [\n"
    "    {\"id\": \"name\", \"type\": \"text\", \"text\": \"Gentile signora {{first_name}}\",\n"
    "     \"font\": \"regular\", \"size\": 40, \"min_size\": 24, \"fit\": \"shrink\", \"width\": "
    "600,\n"
    "     \"height\": 70, \"opacity\": 0.5}\n"
    "  ]}\n"
    " ]}\n";

static const char *records_json =
    "[{\"id\": \"a\", \"first_name\": \"Anna\", \"gender\": \"F\"},\n"
    " {\"id\": \"b\", \"first_name\": \"Mario\", \"gender\": \"M\"},\n"
    " {\"id\": \"c\", \"first_name\": \"Maria Addolorata Concetta Immacolata\", \"gender\": "
    "\"F\"},\n"
    " {\"id\": \"d\", \"first_name\": \"Maria Addolorata Concetta Immacolata Filomena Assunta "
    "Benedetta\", \"gender\": \"F\"}]";

typedef struct fixture {
    ck_scene *s;
    ck_binding *b;
    ck_fontset *fs;
    ck_records *r;
    ck_timeline *tl;
} fixture;

static bool setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    ck_diags d = {0};
    f->s = ck_scene_load_buffer(scene_json, strlen(scene_json), "t.json",
                                CK_SOURCE_DIR "/assets/fonts", NULL, &d);
    if (f->s)
        f->b = ck_binding_create(f->s, &d);
    if (f->b)
        f->fs = ck_fontset_create(f->s, &d);
    if (f->fs)
        f->r = ck_records_parse(f->s, records_json, strlen(records_json), "r.json", &d);
    ck_error err = {0};
    if (f->r)
        f->tl = ck_timeline_create(f->s, f->b, f->fs, &err);
    for (size_t i = 0; i < d.count; i++)
        fprintf(stderr, "%d:%d: %s\n", d.items[i].line, d.items[i].col, d.items[i].msg);
    ck_diags_free(&d);
    return f->tl != NULL && f->r->count == 4;
}

static void teardown(fixture *f)
{
    ck_timeline_destroy(&f->tl);
    ck_records_destroy(&f->r);
    ck_fontset_destroy(&f->fs);
    ck_binding_destroy(&f->b);
    ck_scene_destroy(&f->s);
}

static const ck_draw *find_draw(const ck_drawlist *dl, const ck_scene *s, const char *id)
{
    for (size_t i = 0; i < dl->count; i++)
        if (strcmp(s->layers[dl->items[i].layer].id, id) == 0)
            return &dl->items[i];
    return NULL;
}

static void test_easing(void)
{
    ck_ease lin = {CK_EASE_LINEAR, 0, 0, 0, 0}, in = {CK_EASE_IN, 0, 0, 0, 0},
            out = {CK_EASE_OUT, 0, 0, 0, 0}, io = {CK_EASE_IN_OUT, 0, 0, 0, 0},
            hold = {CK_EASE_HOLD, 0, 0, 0, 0}, bz = {CK_EASE_BEZIER, 0.25f, 0.25f, 0.75f, 0.75f},
            css_ease = {CK_EASE_BEZIER, 0.25f, 0.1f, 0.25f, 1.0f};
    CK_CHECK_NEAR(ck_ease_apply(&lin, 0.3f), 0.3, 1e-6);
    CK_CHECK_NEAR(ck_ease_apply(&in, 0.5f), 0.3153, 2e-3); /* CSS reference values */
    CK_CHECK_NEAR(ck_ease_apply(&out, 0.5f), 0.6847, 2e-3);
    CK_CHECK_NEAR(ck_ease_apply(&io, 0.5f), 0.5, 1e-4);
    CK_CHECK_NEAR(ck_ease_apply(&css_ease, 0.5f), 0.8024, 2e-3);
    CK_CHECK_NEAR(ck_ease_apply(&bz, 0.37f), 0.37, 1e-4); /* a straight curve is linear */
    CK_CHECK_NEAR(ck_ease_apply(&hold, 0.99f), 0, 0);
    CK_CHECK_NEAR(ck_ease_apply(&in, -1), 0, 0);
    CK_CHECK_NEAR(ck_ease_apply(&in, 2), 1, 0);
    /* Monotonic for the CSS curves. */
    float prev = 0;
    bool mono = true;
    for (int i = 1; i <= 100; i++) {
        float v = ck_ease_apply(&io, (float)i / 100);
        mono &= v >= prev;
        prev = v;
    }
    CK_CHECK(mono);
}

static void test_keyframes_and_timing(fixture *f)
{
    const ck_layer *fade = &f->s->layers[ck_scene_layer(f->s, "fade")];
    const ck_anim *x = &fade->anim[CK_PROP_X];
    CK_CHECK_NEAR(ck_anim_value(f->s, x, -1), 0, 0);        /* held before */
    CK_CHECK_NEAR(ck_anim_value(f->s, x, 0.5), 31.53, 0.3); /* ease-in at half */
    CK_CHECK_NEAR(ck_anim_value(f->s, x, 1.2), 100, 0);     /* hold */
    CK_CHECK_NEAR(ck_anim_value(f->s, x, 1.5), 200, 0);
    CK_CHECK_NEAR(ck_anim_value(f->s, x, 9), 200, 0); /* held after */

    int64_t a, z;
    ck_layer_frames(f->s, ck_scene_layer(f->s, "name"), &a, &z);
    CK_CHECK(a == 50 && z == 150); /* 2 s .. 6 s at 25 fps: end excluded */

    ck_arena fa = {0};
    ck_drawlist dl;
    ck_error err;
    ck_timeline_set_record(f->tl, &f->r->items[0], "r.json", NULL);
    CK_CHECK(ck_timeline_eval(f->tl, 49, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") == NULL);
    CK_CHECK(dl.deps == 0);
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 50, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") != NULL);
    CK_CHECK(dl.deps == 3); /* first_name (text) and gender (group's when) */
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 149, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") != NULL);
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 150, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") == NULL);
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 250, &fa, &dl, &err) == CK_ERR_INVALID);
    CK_CHECK(ck_timeline_eval(f->tl, -1, &fa, &dl, &err) == CK_ERR_INVALID);
    ck_arena_free(&fa);
}

static void test_transform_and_opacity(fixture *f)
{
    ck_arena fa = {0};
    ck_drawlist dl;
    ck_error err;
    ck_timeline_set_record(f->tl, &f->r->items[0], "r.json", NULL);
    CK_CHECK(ck_timeline_eval(f->tl, 75, &fa, &dl, &err) == CK_OK);
    CK_CHECK(dl.width == 640 && dl.height == 360);
    CK_CHECK_NEAR(dl.background.r, 0x10 / 255.0, 1e-6);
    /* bar: 100x20 centred at (320,180), rotated 90 degrees clockwise. */
    const ck_draw *bar = find_draw(&dl, f->s, "bar");
    CK_CHECK(bar && bar->kind == CK_DRAW_RECT);
    if (bar) {
        const ck_affine *m = &bar->xf;
        /* local (0,0) -> canvas (330, 130); local (100,20) -> (310, 230) */
        CK_CHECK_NEAR(m->tx, 330, 1e-3);
        CK_CHECK_NEAR(m->ty, 130, 1e-3);
        CK_CHECK_NEAR(m->a * 100 + m->c * 20 + m->tx, 310, 1e-3);
        CK_CHECK_NEAR(m->b * 100 + m->d * 20 + m->ty, 230, 1e-3);
        CK_CHECK_NEAR(bar->opacity, 0.5, 1e-6);
    }
    /* name: in a group translated by (10,20), opacities 0.5 * 0.5. */
    const ck_draw *name = find_draw(&dl, f->s, "name");
    CK_CHECK(name && name->kind == CK_DRAW_TEXT);
    if (name) {
        CK_CHECK_NEAR(name->xf.tx, 10, 1e-4);
        CK_CHECK_NEAR(name->xf.ty, 20, 1e-4);
        CK_CHECK_NEAR(name->opacity, 0.25, 1e-6);
        CK_CHECK(name->u.text.glyph_count == strlen("Gentile signora Anna"));
        CK_CHECK_NEAR(name->u.text.size, 40, 0);
        /* Draw order: back to front, as in the scene. */
        CK_CHECK(bar < name);
    }
    ck_arena_free(&fa);
}

static void test_conditions_and_fit(fixture *f)
{
    ck_arena fa = {0};
    ck_drawlist dl;
    ck_error err;
    ck_diags d = {0};
    /* A man does not see the group, but the frame still depends on the data. */
    ck_timeline_set_record(f->tl, &f->r->items[1], "r.json", &d);
    CK_CHECK(ck_timeline_eval(f->tl, 75, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") == NULL);
    CK_CHECK(find_draw(&dl, f->s, "title") != NULL);
    CK_CHECK(dl.deps == 3);
    /* A long name shrinks to fit, within min_size. */
    ck_timeline_set_record(f->tl, &f->r->items[2], "r.json", &d);
    CK_CHECK(d.errors == 0);
    size_t n;
    const ck_text_fit *fits = ck_timeline_fits(f->tl, &n);
    CK_CHECK(n == 2);
    const ck_text_fit *nf = n == 2 ? &fits[1] : NULL;
    CK_CHECK(nf && nf->layout.shrunk && nf->layout.fits);
    CK_CHECK(nf && nf->layout.size < 40 && nf->layout.size >= 24);
    CK_CHECK(nf && nf->layout.width <= 600 + 0.01);
    /* Too long even at min_size: an error naming the layer and the record's line, not the
     * text itself (it is personal data). */
    ck_timeline_set_record(f->tl, &f->r->items[3], "r.json", &d);
    CK_CHECK(d.errors == 1);
    CK_CHECK(d.count == 1 && strstr(d.items[0].msg, "layer \"name\"") &&
             strstr(d.items[0].msg, "does not fit") && !strstr(d.items[0].msg, "Addolorata"));
    CK_CHECK(d.count == 1 && d.items[0].line == 4);
    ck_diags_free(&d);
    /* Without a record only shared layers are drawn. */
    ck_timeline_set_record(f->tl, NULL, NULL, NULL);
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 75, &fa, &dl, &err) == CK_OK);
    CK_CHECK(find_draw(&dl, f->s, "name") == NULL && find_draw(&dl, f->s, "title") != NULL);
    ck_arena_free(&fa);
}

static void test_determinism(fixture *f)
{
    ck_arena fa = {0};
    ck_drawlist dl;
    ck_error err;
    ck_timeline_set_record(f->tl, &f->r->items[2], "r.json", NULL);
    CK_CHECK(ck_timeline_eval(f->tl, 60, &fa, &dl, &err) == CK_OK);
    char *a = ck_drawlist_json(f->s, &dl);
    ck_timeline_set_record(f->tl, &f->r->items[1], "r.json", NULL);
    ck_timeline_set_record(f->tl, &f->r->items[2], "r.json", NULL);
    ck_arena_reset(&fa);
    CK_CHECK(ck_timeline_eval(f->tl, 60, &fa, &dl, &err) == CK_OK);
    char *b = ck_drawlist_json(f->s, &dl);
    CK_CHECK(a && b && strcmp(a, b) == 0);
    CK_CHECK(a && strstr(a, "\"deps\": [\"first_name\", \"gender\"]"));
    free(a);
    free(b);
    ck_arena_free(&fa);
}

static void test_segments(fixture *f)
{
    ck_segment_plan plan;
    ck_error err;
    CK_CHECK(ck_segment_plan_make(f->s, f->b, &plan, &err) == CK_OK);
    /* 10 s: 1 s, then 2 s pieces: 1,2,2,2,2 and a 1 s tail kept (>= half a target). */
    CK_CHECK(plan.count == 6);
    if (plan.count == 6) {
        CK_CHECK(plan.items[0].first_frame == 0 && plan.items[0].frame_count == 25);
        CK_CHECK(plan.items[1].first_frame == 25 && plan.items[1].frame_count == 50);
        CK_CHECK(plan.items[5].first_frame == 225 && plan.items[5].frame_count == 25);
        /* The group is on from 2 s to 6 s: segments 1 (1-3 s), 2 (3-5 s), 3 (5-7 s). */
        CK_CHECK(!plan.items[0].personal && plan.items[1].personal && plan.items[2].personal &&
                 plan.items[3].personal && !plan.items[4].personal && !plan.items[5].personal);
        CK_CHECK(plan.items[1].deps == 3);
        CK_CHECK_NEAR(plan.personal_seconds, 6, 1e-9);
        CK_CHECK_NEAR(plan.total_seconds, 10, 1e-9);
    }
    /* A personal speech line over 7.5-8.2 s (segment 4, 7-9 s, shared by its pictures) makes
     * it personal, and only it; one ending 0.05 s before 9 s reaches segment 5 through the
     * guard (0.0853 s). */
    ck_segment_plan_mark_speech(&plan, 7.5, 8.2, 4096.0 / 48000);
    CK_CHECK(plan.count == 6 && plan.items[4].personal && plan.items[4].speech &&
             plan.items[4].first_layer < 0 && !plan.items[5].personal && !plan.items[0].speech &&
             !plan.items[1].speech);
    CK_CHECK_NEAR(plan.personal_seconds, 8, 1e-9);
    ck_segment_plan_mark_speech(&plan, 8.5, 8.95, 4096.0 / 48000);
    CK_CHECK(plan.count == 6 && plan.items[5].personal && plan.items[5].speech);
    int64_t frames = 0;
    for (int i = 0; i < plan.count; i++)
        frames += plan.items[i].frame_count;
    CK_CHECK(frames == f->s->frame_count);
    ck_segment_plan_free(&plan);

    /* A short tail merges into the previous segment; explicit cuts replace the plan. */
    ck_scene s2 = *f->s;
    s2.frame_count = 240; /* 9.6 s: 1,2,2,2,2.6 */
    CK_CHECK(ck_segment_plan_make(&s2, f->b, &plan, &err) == CK_OK);
    CK_CHECK(plan.count == 5 && plan.items[4].frame_count == 65);
    ck_segment_plan_free(&plan);
    double cuts[] = {0.5, 4, 4.01, 8};
    s2.frame_count = 250;
    s2.cuts = cuts;
    s2.cut_count = 4;
    CK_CHECK(ck_segment_plan_make(&s2, f->b, &plan, &err) == CK_OK);
    CK_CHECK(plan.count == 4);
    if (plan.count == 4)
        CK_CHECK(plan.items[1].first_frame == 13 && plan.items[2].first_frame == 100 &&
                 plan.items[3].first_frame == 200);
    ck_segment_plan_free(&plan);
}

int main(void)
{
    test_easing();
    fixture f;
    bool ok = setup(&f);
    CK_CHECK(ok);
    if (ok) {
        test_keyframes_and_timing(&f);
        test_transform_and_opacity(&f);
        test_conditions_and_fit(&f);
        test_determinism(&f);
        test_segments(&f);
    }
    teardown(&f);
    return ck_test_done("test_timeline");
}
