/* scene.c: scene.json -> ck_scene, driven by the property table (props.c).
 *
 * jansson parses the text (syntax errors come with line and column); jsonpos.c then maps
 * every value to its position, so semantic errors point at the value at fault too. The
 * parser collects every problem it finds instead of stopping at the first, so a designer
 * sees them all at once.
 */
#include "scene_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

/* ---- top-level sections ---- */

static bool parse_fields(parser *P, const json_t *jf)
{
    static const char *const kinds[] = {"field", NULL};
    size_t n = json_object_size(jf);
    if (n > 64) {
        scene_perr(P, jf, NULL, "fields: %zu fields declared, at most 64 are supported", n);
        return false;
    }
    ck_field *fields = ck_arena_alloc(&P->s->arena, (n ? n : 1) * sizeof *fields);
    bool ok = true;
    int count = 0;
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)jf, name, v)
    {
        char path[160];
        snprintf(path, sizeof path, "fields.%.100s", name);
        ck_field *f = &fields[count++];
        f->name = ck_arena_strdup(&P->s->arena, name);
        f->min = 1, f->max = 0;
        f->pos = scene_pos_of(P, v, jf);
        bool name_ok = (name[0] >= 'a' && name[0] <= 'z') && strlen(name) <= 64;
        for (const char *c = name; *c; c++)
            name_ok &= (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
        if (!name_ok) {
            scene_perr(P, v, jf, "%s: field names are lower-case letters, digits and '_'", path);
            ok = false;
        } else if (strcmp(name, "id") == 0) {
            scene_perr(P, v, jf, "%s: \"id\" is implicit in every record and cannot be declared",
                       path);
            ok = false;
        }
        if (!scene_parse_props(P, v, kinds, f, path)) {
            ok = false;
            continue;
        }
        json_t *jmin = json_object_get(v, "min"), *jmax = json_object_get(v, "max");
        if (jmin || jmax) {
            if (f->type != CK_FIELD_INTEGER && f->type != CK_FIELD_MONEY) {
                scene_perr(P, jmin ? jmin : jmax, v, "%s: min and max apply to integer and money",
                           path);
                ok = false;
            }
            f->min = jmin ? json_integer_value(jmin) : INT64_MIN;
            f->max = jmax ? json_integer_value(jmax) : INT64_MAX;
            if (f->min > f->max) {
                scene_perr(P, jmin ? jmin : jmax, v, "%s: min is larger than max", path);
                ok = false;
            }
        }
        json_t *jv = json_object_get(v, "values");
        bool wants_values = f->type == CK_FIELD_ENUM || f->type == CK_FIELD_SET;
        if (wants_values && !jv) {
            scene_perr(P, v, jf, "%s: an %s field needs \"values\"", path,
                       f->type == CK_FIELD_ENUM ? "enum" : "set");
            ok = false;
        } else if (!wants_values && jv) {
            scene_perr(P, jv, v, "%s.values: only enum and set fields have values", path);
            ok = false;
        } else if (jv) {
            size_t nv = json_is_array(jv) ? json_array_size(jv) : json_object_size(jv);
            if (nv == 0 || nv > 64) {
                scene_perr(P, jv, v, "%s.values: between 1 and 64 values needed", path);
                ok = false;
                continue;
            }
            f->values = ck_arena_alloc(&P->s->arena, nv * sizeof *f->values);
            f->labels = ck_arena_alloc(&P->s->arena, nv * sizeof *f->labels);
            size_t k = 0;
            if (json_is_array(jv)) {
                size_t idx;
                json_t *it;
                json_array_foreach(jv, idx, it)
                {
                    if (!json_is_string(it) || !*json_string_value(it)) {
                        scene_perr(P, it, jv, "%s.values[%zu]: expected a non-empty string", path,
                                   idx);
                        ok = false;
                        continue;
                    }
                    f->values[k] = ck_arena_strdup(&P->s->arena, json_string_value(it));
                    f->labels[k] = f->values[k];
                    k++;
                }
            } else {
                const char *vname;
                json_t *label;
                json_object_foreach(jv, vname, label)
                {
                    if (!json_is_string(label)) {
                        scene_perr(P, label, jv, "%s.values.%s: the label must be a string", path,
                                   vname);
                        ok = false;
                        continue;
                    }
                    f->values[k] = ck_arena_strdup(&P->s->arena, vname);
                    f->labels[k++] = ck_arena_strdup(&P->s->arena, json_string_value(label));
                }
            }
            f->value_count = (int)k;
            for (size_t a = 0; a < k; a++)
                for (size_t b = a + 1; b < k; b++)
                    if (strcmp(f->values[a], f->values[b]) == 0) {
                        scene_perr(P, jv, v, "%s.values: \"%s\" is listed twice", path,
                                   f->values[a]);
                        ok = false;
                    }
        }
    }
    P->s->fields = fields;
    P->s->field_count = count;
    return ok;
}

static bool parse_assets(parser *P, const json_t *ja)
{
    static const char *const kinds[] = {"asset", NULL};
    size_t n = json_object_size(ja);
    ck_asset *assets = ck_arena_alloc(&P->s->arena, (n ? n : 1) * sizeof *assets);
    bool ok = true;
    int count = 0;
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)ja, id, v)
    {
        char path[160];
        snprintf(path, sizeof path, "assets.%.100s", id);
        ck_asset *a = &assets[count];
        a->id = ck_arena_strdup(&P->s->arena, id);
        a->pos = scene_pos_of(P, v, ja);
        if (!scene_valid_id(id)) {
            scene_perr(P, v, ja, "%s: \"%s\" is not a valid asset id", path, id);
            ok = false;
        }
        if (!scene_parse_props(P, v, kinds, a, path)) {
            ok = false;
            continue;
        }
        char full[4096];
        ck_path_join(full, sizeof full, P->s->dir, a->rel_path);
        a->path = ck_arena_strdup(&P->s->arena, full);
        if (!P->params->skip_asset_check && !ck_file_exists(full)) {
            bool generated = strstr(a->rel_path, "assets/generated/") != NULL;
            scene_perr(P, json_object_get(v, "path"), v, "%s: file not found: %s%s", path, full,
                       generated ? " (it is made by scripts/make-assets.sh)" : "");
            ok = false;
        }
        count++;
    }
    P->s->assets = assets;
    P->s->asset_count = count;
    return ok;
}

static bool parse_layer(parser *P, const json_t *jl, int parent, double pstart, double pend,
                        const char *path);

static bool parse_layer_list(parser *P, const json_t *arr, int parent, double pstart, double pend,
                             const char *path)
{
    bool ok = true;
    size_t i;
    json_t *jl;
    json_array_foreach(arr, i, jl)
    {
        const char *lpath = ck_arena_printf(&P->s->arena, "%s[%zu]", path, i);
        ok &= parse_layer(P, jl, parent, pstart, pend, lpath);
    }
    return ok;
}

static bool parse_layer(parser *P, const json_t *jl, int parent, double pstart, double pend,
                        const char *path)
{
    if (!json_is_object(jl)) {
        scene_perr(P, jl, NULL, "%s: expected a layer object, got %s", path,
                   scene_json_type_name(jl));
        return false;
    }
    if (P->depth >= MAX_DEPTH) {
        scene_perr(P, jl, NULL, "%s: groups nested more than %d deep", path, MAX_DEPTH);
        return false;
    }
    json_t *jt = json_object_get(jl, "type");
    const char *tname = json_string_value(jt);
    int type = tname ? scene_enum_index("video|image|text|shape|group", tname) : -1;
    if (type < 0) {
        if (!jt)
            scene_perr(P, jl, NULL, "%s: missing required property \"type\"", path);
        else
            scene_perr(P, jt, jl,
                       "%s.type: expected one of video, image, text, shape, group, got %s%s%s",
                       path, tname ? "\"" : "", tname ? tname : scene_json_type_name(jt),
                       tname ? "\"" : "");
        return false;
    }
    int index = P->layers.count;
    ck_layer *L = scene_vec_push(&P->layers);
    if (!L)
        return false;
    const char *kinds[] = {"layer", ck_layer_type_str((ck_layer_type)type), NULL};
    ck_layer tmp = {0};
    bool ok = scene_parse_props(P, jl, kinds, &tmp, path);
    tmp.parent = parent;
    tmp.pos = scene_pos_of(P, jl, NULL);
    tmp.path = path;
    json_t *js = json_object_get(jl, "start"), *je = json_object_get(jl, "end");
    tmp.start = js && json_is_number(js) ? json_number_value(js) : pstart;
    tmp.end = je && json_is_number(je) ? json_number_value(je) : pend;
    if (ok && tmp.end <= tmp.start) {
        scene_perr(P, je ? je : jl, jl, "%s: end (%g) must come after start (%g)", path, tmp.end,
                   tmp.start);
        ok = false;
    }
    if (ok && tmp.end > P->s->duration + 1e-9) {
        scene_pwarn(P, je ? je : jl, jl, "%s: ends at %g s, after the video's end (%g s)", path,
                    tmp.end, P->s->duration);
    }
    if (type == CK_LAYER_VIDEO) {
        if (tmp.width <= 0)
            tmp.width = (float)P->s->width;
        if (tmp.height <= 0)
            tmp.height = (float)P->s->height;
    }
    if ((type == CK_LAYER_SHAPE || type == CK_LAYER_IMAGE) && (tmp.width <= 0 || tmp.height <= 0)) {
        scene_perr(P, jl, NULL, "%s: a %s layer needs a width and a height", path, tname);
        ok = false;
    }
    if (type == CK_LAYER_TEXT && tmp.text.fit != CK_FIT_NONE && tmp.width <= 0) {
        scene_perr(P, jl, NULL, "%s: fit \"%s\" needs a box: set width (and height)", path,
                   tmp.text.fit == CK_FIT_SHRINK ? "shrink" : "wrap");
        ok = false;
    }
    if (type == CK_LAYER_TEXT && tmp.text.min_size > tmp.text.size) {
        scene_perr(P, json_object_get(jl, "min_size"), jl,
                   "%s.min_size: %g is larger than size (%g)", path, (double)tmp.text.min_size,
                   (double)tmp.text.size);
        ok = false;
    }
    if (type == CK_LAYER_SHAPE) {
        json_t *jf2 = json_object_get(jl, "fill2");
        if (jf2 && json_is_string(jf2) &&
            scene_parse_color(json_string_value(jf2), &tmp.shape.fill2))
            tmp.shape.gradient = true;
    }
    if (type != CK_LAYER_TEXT)
        tmp.text.font = tmp.text.fallback_font = -1;
    if (type != CK_LAYER_IMAGE && type != CK_LAYER_VIDEO)
        tmp.media.asset = -1;
    for (int i = 0; i < P->layers.count - 1; i++) {
        const ck_layer *o = &((ck_layer *)P->layers.items)[i];
        if (tmp.id && o->id && strcmp(o->id, tmp.id) == 0) {
            scene_perr(P, json_object_get(jl, "id"), jl, "%s.id: \"%s\" is already used by %s",
                       path, tmp.id, o->path);
            ok = false;
        }
    }
    /* vec_push may move the array: copy in now, before children are pushed. */
    L = &((ck_layer *)P->layers.items)[index];
    *L = tmp;
    json_t *jc = json_object_get(jl, "children");
    if (jc && json_is_array(jc)) {
        P->depth++;
        ok &= parse_layer_list(P, jc, index, tmp.start, tmp.end,
                               ck_arena_printf(&P->s->arena, "%s.children", path));
        P->depth--;
    }
    return ok;
}

static bool parse_cues(parser *P, const json_t *arr)
{
    static const char *const kinds[] = {"cue", NULL};
    bool ok = true;
    size_t i;
    json_t *jc;
    json_array_foreach(arr, i, jc)
    {
        const char *path = ck_arena_printf(&P->s->arena, "interactive[%zu]", i);
        ck_cue *c = scene_vec_push(&P->cues);
        if (!c)
            return false;
        c->path = path;
        c->pos = scene_pos_of(P, jc, arr);
        if (!scene_parse_props(P, jc, kinds, c, path)) {
            ok = false;
            continue;
        }
        json_t *je = json_object_get(jc, "end");
        c->end =
            je ? json_number_value(je) : (c->kind == CK_CUE_CHAPTER ? c->start : P->s->duration);
        static const char *const need[][2] = {{"title", "body"}, {"label", "url"}, {"title", NULL}};
        for (int k = 0; k < 2; k++) {
            const char *prop = need[c->kind][k];
            if (prop && !json_object_get(jc, prop)) {
                scene_perr(P, jc, arr, "%s: a %s needs \"%s\"", path,
                           c->kind == CK_CUE_POPUP    ? "popup"
                           : c->kind == CK_CUE_BUTTON ? "button"
                                                      : "chapter",
                           prop);
                ok = false;
            }
        }
        if (c->kind != CK_CUE_CHAPTER && c->end <= c->start) {
            scene_perr(P, je ? je : jc, jc, "%s: end (%g) must come after start (%g)", path, c->end,
                       c->start);
            ok = false;
        }
        if (c->start >= P->s->duration) {
            scene_perr(P, json_object_get(jc, "start"), jc, "%s: starts after the video's end",
                       path);
            ok = false;
        }
        for (int k = 0; k < P->cues.count - 1; k++)
            if (c->id && ((ck_cue *)P->cues.items)[k].id &&
                strcmp(((ck_cue *)P->cues.items)[k].id, c->id) == 0) {
                scene_perr(P, json_object_get(jc, "id"), jc, "%s.id: \"%s\" is used twice", path,
                           c->id);
                ok = false;
            }
    }
    return ok;
}

static bool parse_captions(parser *P, const json_t *arr)
{
    static const char *const kinds[] = {"caption", NULL};
    bool ok = true;
    double prev_end = 0;
    size_t i;
    json_t *jc;
    json_array_foreach(arr, i, jc)
    {
        const char *path = ck_arena_printf(&P->s->arena, "captions[%zu]", i);
        ck_caption *c = scene_vec_push(&P->captions);
        if (!c)
            return false;
        c->pos = scene_pos_of(P, jc, arr);
        if (!scene_parse_props(P, jc, kinds, c, path)) {
            ok = false;
            continue;
        }
        if (c->end <= c->start) {
            scene_perr(P, jc, arr, "%s: end (%g) must come after start (%g)", path, c->end,
                       c->start);
            ok = false;
        } else if (c->start < prev_end - 1e-9) {
            scene_perr(P, json_object_get(jc, "start"), jc,
                       "%s: starts at %g s, before the previous caption ends (%g s)", path,
                       c->start, prev_end);
            ok = false;
        } else if (c->end > P->s->duration + 1e-9) {
            scene_perr(P, json_object_get(jc, "end"), jc, "%s: ends after the video's end (%g s)",
                       path, P->s->duration);
            ok = false;
        }
        prev_end = c->end;
    }
    return ok;
}

/* The speech track: voice and rate from the table, then the lines in time order. Each line
 * has until the next one starts (or the video ends): `ciak check` synthesises every line for
 * every record and fails one that needs longer. */
static bool parse_speech(parser *P, const json_t *js)
{
    static const char *const kinds[] = {"speech", NULL};
    static const char *const line_kinds[] = {"speech_line", NULL};
    ck_scene *s = P->s;
    s->speech_pos = scene_pos_of(P, js, NULL);
    if (!scene_parse_props(P, js, kinds, s, "speech"))
        return false;
    const json_t *arr = json_object_get(js, "lines");
    size_t n = json_array_size(arr);
    s->speech_lines = ck_arena_alloc(&s->arena, (n ? n : 1) * sizeof *s->speech_lines);
    if (!s->speech_lines)
        return false;
    memset(s->speech_lines, 0, (n ? n : 1) * sizeof *s->speech_lines);
    bool ok = true;
    size_t i;
    json_t *jl;
    json_array_foreach(arr, i, jl)
    {
        ck_speech_line *l = &s->speech_lines[s->speech_line_count++];
        l->path = ck_arena_printf(&s->arena, "speech.lines[%zu]", i);
        l->pos = scene_pos_of(P, jl, arr);
        if (!scene_parse_props(P, jl, line_kinds, l, l->path)) {
            ok = false;
            continue;
        }
        if (l->start >= s->duration) {
            scene_perr(P, json_object_get(jl, "start"), jl,
                       "%s.start: %g s is not before the video's end (%g s)", l->path, l->start,
                       s->duration);
            ok = false;
        } else if (i > 0 && l->start <= s->speech_lines[i - 1].start) {
            scene_perr(P, json_object_get(jl, "start"), jl,
                       "%s.start: lines go in time order; %g s is not after the previous line "
                       "(%g s)",
                       l->path, l->start, s->speech_lines[i - 1].start);
            ok = false;
        }
    }
    for (int k = 0; k < s->speech_line_count; k++) {
        ck_speech_line *l = &s->speech_lines[k];
        double limit = k + 1 < s->speech_line_count ? s->speech_lines[k + 1].start : s->duration;
        const json_t *jl2 = json_array_get(arr, (size_t)k), *jend = json_object_get(jl2, "end");
        l->end = json_is_number(jend) ? json_number_value(jend) : limit;
        if (json_is_number(jend) && (l->end <= l->start || l->end > limit + 1e-9)) {
            scene_perr(P, jend, jl2,
                       "%s.end: %g s must be after its start (%g s) and no later "
                       "than %s (%g s)",
                       l->path, l->end, l->start,
                       k + 1 < s->speech_line_count ? "the next line's start" : "the video's end",
                       limit);
            ok = false;
        }
    }
    return ok;
}

static bool parse_availability(parser *P, const json_t *ja)
{
    static const char *const kinds[] = {"availability", NULL};
    ck_availability *av = &P->s->availability;
    if (!scene_parse_props(P, ja, kinds, av, "availability"))
        return false;
    json_t *days = json_object_get(ja, "days_after"), *field = json_object_get(ja, "field"),
           *until = json_object_get(ja, "until");
    if (until && (days || field)) {
        scene_perr(P, ja, NULL,
                   "availability: use either \"until\" or \"days_after\" with \"field\"");
        return false;
    }
    if (until) {
        av->kind = CK_AVAIL_UNTIL;
        ck_parse_date(json_string_value(until), &av->until);
        return true;
    }
    if (!days || !field) {
        scene_perr(P, ja, NULL,
                   "availability: \"days_after\" needs \"field\" (a date field), or use \"until\"");
        return false;
    }
    av->kind = CK_AVAIL_DAYS_AFTER;
    av->field = ck_scene_field(P->s, json_string_value(field));
    if (av->field < 0 || P->s->fields[av->field].type != CK_FIELD_DATE) {
        scene_perr(P, field, ja, "availability.field: \"%s\" is not a date field of this scene",
                   json_string_value(field));
        return false;
    }
    return true;
}

static bool parse_cuts(parser *P, const json_t *arr)
{
    size_t n = json_array_size(arr);
    P->s->cuts = ck_arena_alloc(&P->s->arena, (n ? n : 1) * sizeof(double));
    double prev = 0;
    bool ok = true;
    size_t i;
    json_t *jv;
    json_array_foreach(arr, i, jv)
    {
        double t = json_number_value(jv);
        if (!json_is_number(jv) || t <= prev || t >= P->s->duration) {
            scene_perr(P, jv, arr,
                       "segments.cuts[%zu]: cut times must be numbers that increase, inside "
                       "(0, %g)",
                       i, P->s->duration);
            ok = false;
            continue;
        }
        P->s->cuts[P->s->cut_count++] = t;
        prev = t;
    }
    return ok;
}

static void *finish_vec(parser *P, vec *v, int *count)
{
    *count = v->count;
    void *out = ck_arena_alloc(&P->s->arena, (v->count ? (size_t)v->count : 1) * v->size);
    if (out && v->count)
        memcpy(out, v->items, (size_t)v->count * v->size);
    free(v->items);
    v->items = NULL;
    return out;
}

static const char *const scene_kinds[] = {"scene", NULL};
static const char *const canvas_kinds[] = {"canvas", NULL};
static const char *const segment_kinds[] = {"segments", NULL};

static bool parse_scene(parser *P, const json_t *root)
{
    ck_scene *s = P->s;
    s->seg_first = 1;
    s->seg_target = 2;
    s->fps = 30;
    s->audio = -1;
    if (!scene_parse_props(P, root, scene_kinds, s, ""))
        return false;
    bool ok = true;
    ok &= scene_parse_props(P, json_object_get(root, "canvas"), canvas_kinds, s, "canvas");
    if (!ok)
        return false;
    if (s->width % 2 || s->height % 2) {
        scene_perr(P, json_object_get(root, "canvas"), root,
                   "canvas: width and height must be even (4:2:0 video), got %dx%d", s->width,
                   s->height);
        ok = false;
    }
    s->frame_count = (int64_t)llround(s->duration * s->fps);
    json_t *jseg = json_object_get(root, "segments");
    if (jseg && scene_parse_props(P, jseg, segment_kinds, s, "segments")) {
        json_t *jcuts = json_object_get(jseg, "cuts");
        if (jcuts)
            ok &= parse_cuts(P, jcuts);
    } else if (jseg) {
        ok = false;
    }
    json_t *jf = json_object_get(root, "fields");
    if (jf)
        ok &= parse_fields(P, jf);
    json_t *ja = json_object_get(root, "assets");
    if (ja)
        ok &= parse_assets(P, ja);
    json_t *jaudio = json_object_get(root, "audio");
    if (jaudio) {
        int a = scene_find_asset(P, json_string_value(jaudio));
        if (a < 0 || s->assets[a].kind != CK_ASSET_AUDIO) {
            scene_perr(P, jaudio, root, "audio: \"%s\" is not an audio asset in \"assets\"",
                       json_string_value(jaudio));
            ok = false;
        }
        s->audio = a;
    }
    ok &= parse_layer_list(P, json_object_get(root, "layers"), -1, 0, s->duration, "layers");
    json_t *jcues = json_object_get(root, "interactive");
    if (jcues)
        ok &= parse_cues(P, jcues);
    json_t *jcap = json_object_get(root, "captions");
    if (jcap)
        ok &= parse_captions(P, jcap);
    json_t *jspeech = json_object_get(root, "speech");
    if (jspeech)
        ok &= parse_speech(P, jspeech);
    json_t *jav = json_object_get(root, "availability");
    if (jav)
        ok &= parse_availability(P, jav);
    return ok;
}

ck_scene *ck_scene_load_buffer(const char *json, size_t len, const char *file, const char *dir,
                               const ck_scene_params *params, ck_diags *diags)
{
    static const ck_scene_params defaults = {0};
    ck_scene *s = calloc(1, sizeof *s);
    if (!s) {
        ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0, "out of memory");
        return NULL;
    }
    s->file = ck_arena_strdup(&s->arena, file);
    s->dir = ck_arena_strdup(&s->arena, dir ? dir : ".");
    size_t errors_before = diags ? diags->errors : 0;
    ck_diags local = {0};
    ck_diags *d = diags ? diags : &local;

    if (memchr(json, 0, len)) {
        ck_diag_add(d, CK_SEV_ERROR, file, 0, 0,
                    "not a text file (it contains NUL bytes); scene.json must be UTF-8 JSON");
        goto error;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ck_diag_add(d, CK_SEV_ERROR, file, jerr.line > 0 ? jerr.line : 0,
                    jerr.column > 0 ? jerr.column : 0, "invalid JSON: %s", jerr.text);
        goto error;
    }
    parser P = {.s = s, .d = d, .file = s->file, .params = params ? params : &defaults};
    P.layers.size = sizeof(ck_layer);
    P.keyframes.size = sizeof(ck_keyframe);
    P.cues.size = sizeof(ck_cue);
    P.captions.size = sizeof(ck_caption);
    P.jp = scene_jsonpos_build(json, len, root);
    bool ok = parse_scene(&P, root);
    s->layers = finish_vec(&P, &P.layers, &s->layer_count);
    s->keyframes = finish_vec(&P, &P.keyframes, &s->keyframe_count);
    s->cues = finish_vec(&P, &P.cues, &s->cue_count);
    s->captions = finish_vec(&P, &P.captions, &s->caption_count);
    scene_jsonpos_destroy(&P.jp);
    json_decref(root);
    if (!ok || d->errors > errors_before)
        goto error;
    ck_diags_free(&local);
    return s;
error:
    ck_diags_free(&local);
    ck_scene_destroy(&s);
    return NULL;
}

ck_scene *ck_scene_load(const char *dir, const ck_scene_params *params, ck_diags *diags)
{
    char file[4096], sdir[4096];
    size_t n = strlen(dir);
    if (n > 5 && strcmp(dir + n - 5, ".json") == 0) {
        snprintf(file, sizeof file, "%s", dir);
        snprintf(sdir, sizeof sdir, "%s", dir);
        char *slash = strrchr(sdir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(sdir, sizeof sdir, ".");
    } else {
        snprintf(sdir, sizeof sdir, "%s", dir);
        while (strlen(sdir) > 1 && sdir[strlen(sdir) - 1] == '/')
            sdir[strlen(sdir) - 1] = 0;
        ck_path_join(file, sizeof file, sdir, "scene.json");
    }
    char *buf;
    size_t len;
    ck_error err;
    if (ck_read_file(file, 16u << 20, &buf, &len, &err) != CK_OK) {
        ck_diag_add_error(diags, &err);
        return NULL;
    }
    ck_scene *s = ck_scene_load_buffer(buf, len, file, sdir, params, diags);
    free(buf);
    return s;
}

void ck_scene_destroy(ck_scene **sp)
{
    if (!sp || !*sp)
        return;
    ck_arena_free(&(*sp)->arena);
    free(*sp);
    *sp = NULL;
}

int ck_scene_field(const ck_scene *s, const char *name)
{
    for (int i = 0; i < s->field_count; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return i;
    return -1;
}

int ck_scene_asset(const ck_scene *s, const char *id)
{
    for (int i = 0; i < s->asset_count; i++)
        if (strcmp(s->assets[i].id, id) == 0)
            return i;
    return -1;
}

int ck_scene_layer(const ck_scene *s, const char *id)
{
    for (int i = 0; i < s->layer_count; i++)
        if (s->layers[i].id && strcmp(s->layers[i].id, id) == 0)
            return i;
    return -1;
}

const char *ck_field_type_str(ck_field_type t)
{
    static const char *const names[] = {
#define CK_X_NAME(name, text) text,
        CK_FIELD_TYPE_LIST(CK_X_NAME)
#undef CK_X_NAME
    };
    return (unsigned)t < CK_ARRAY_LEN(names) ? names[t] : "?";
}

const char *ck_layer_type_str(ck_layer_type t)
{
    static const char *const names[] = {"video", "image", "text", "shape", "group"};
    return (unsigned)t < CK_ARRAY_LEN(names) ? names[t] : "?";
}
