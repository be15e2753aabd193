/* parse.c: the generic half of the scene parser: every property is checked against its
 * row of the property table (type, range, enum values, asset kind), defaults are applied, and
 * values are stored at the row's offset. scene.c walks the sections of scene.json with these.
 */
#include "scene_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *scene_vec_push(vec *v)
{
    if (v->count == v->cap) {
        int cap = v->cap ? v->cap * 2 : 16;
        void *items = realloc(v->items, (size_t)cap * v->size);
        if (!items)
            return NULL;
        v->items = items;
        v->cap = cap;
    }
    void *p = (char *)v->items + (size_t)v->count * v->size;
    memset(p, 0, v->size);
    v->count++;
    return p;
}

ck_srcpos scene_pos_of(parser *P, const json_t *v, const json_t *parent)
{
    /* jansson shares one object for each of true, false and null, so their positions are
     * not their own: point at the containing object instead. */
    if (!v || json_is_boolean(v) || json_is_null(v))
        return scene_jsonpos_get(P->jp, parent);
    return scene_jsonpos_get(P->jp, v);
}

void scene_perr(parser *P, const json_t *v, const json_t *parent, const char *fmt, ...)
{
    ck_srcpos pos = scene_pos_of(P, v, parent);
    va_list ap;
    va_start(ap, fmt);
    ck_diag_addv(P->d, CK_SEV_ERROR, P->file, pos.line, pos.col, fmt, ap);
    va_end(ap);
}

void scene_pwarn(parser *P, const json_t *v, const json_t *parent, const char *fmt, ...)
{
    ck_srcpos pos = scene_pos_of(P, v, parent);
    va_list ap;
    va_start(ap, fmt);
    ck_diag_addv(P->d, CK_SEV_WARNING, P->file, pos.line, pos.col, fmt, ap);
    va_end(ap);
}

const char *scene_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* Edit distance, for "did you mean" hints. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int sub = prev + (a[i - 1] != b[j - 1]);
            int del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    return row[lb];
}

static const char *suggest_prop(const char *const *kinds, const char *name)
{
    size_t n;
    const ck_prop_desc *rows = ck_scene_props(&n);
    const char *best = NULL;
    int bestd = 3;
    for (size_t i = 0; i < n; i++)
        for (const char *const *k = kinds; *k; k++)
            if (strcmp(rows[i].obj, *k) == 0) {
                int dd = edit_distance(name, rows[i].name);
                if (dd < bestd)
                    bestd = dd, best = rows[i].name;
            }
    return best;
}

static const ck_prop_desc *find_row(const char *const *kinds, const char *name)
{
    for (const char *const *k = kinds; *k; k++) {
        const ck_prop_desc *r = scene_props_find(*k, name);
        if (r)
            return r;
    }
    return NULL;
}

bool scene_valid_id(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

static const char *path_join(parser *P, const char *path, const char *name)
{
    return path && *path ? ck_arena_printf(&P->s->arena, "%s.%s", path, name)
                         : ck_arena_strdup(&P->s->arena, name);
}

int scene_find_asset(parser *P, const char *id)
{
    for (int i = 0; i < P->s->asset_count; i++)
        if (strcmp(P->s->assets[i].id, id) == 0)
            return i;
    return -1;
}

static ck_asset_kind expected_asset_kind(const ck_prop_desc *r)
{
    if (strcmp(r->obj, "image") == 0)
        return CK_ASSET_IMAGE;
    if (strcmp(r->obj, "video") == 0)
        return CK_ASSET_VIDEO;
    if (strcmp(r->name, "audio") == 0)
        return CK_ASSET_AUDIO;
    return CK_ASSET_FONT;
}

static const char *const asset_kind_names[] = {"font", "image", "video", "audio"};

bool scene_parse_ease(const char *s, ck_ease *e)
{
    static const char *const names[] = {"linear", "ease-in", "ease-out", "ease-in-out"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *e = (ck_ease){.kind = (ck_ease_kind)i};
            return true;
        }
    if (strcmp(s, "hold") == 0) {
        *e = (ck_ease){.kind = CK_EASE_HOLD};
        return true;
    }
    float x1, y1, x2, y2;
    int used = 0;
    if (sscanf(s, " cubic-bezier ( %f , %f , %f , %f )%n", &x1, &y1, &x2, &y2, &used) == 4 &&
        s[used] == 0) {
        /* As in CSS, the x control points must stay in [0, 1] so time runs forwards. */
        if (x1 < 0 || x1 > 1 || x2 < 0 || x2 > 1 || !isfinite(y1) || !isfinite(y2))
            return false;
        *e = (ck_ease){CK_EASE_BEZIER, x1, y1, x2, y2};
        return true;
    }
    return false;
}

static bool parse_keyframes(parser *P, const json_t *arr, const ck_prop_desc *r, ck_anim *out,
                            const char *path);

/* Validates one value against its row and stores it into `base` (when the row has a store). */
static bool store_value(parser *P, const ck_prop_desc *r, const json_t *v, const json_t *obj,
                        void *base, const char *path)
{
    char *dst = (char *)base + r->offset;
    switch (r->type) {
    case CK_PT_NUMBER:
    case CK_PT_INTEGER: {
        if (r->type == CK_PT_INTEGER ? !json_is_integer(v) : !json_is_number(v)) {
            scene_perr(P, v, obj, "%s: expected %s, got %s", path,
                       r->type == CK_PT_INTEGER ? "an integer" : "a number",
                       scene_json_type_name(v));
            return false;
        }
        double x = json_number_value(v);
        if (!isfinite(x) || (r->min <= r->max && (x < r->min || x > r->max))) {
            scene_perr(P, v, obj, "%s: %g is out of range (%g to %g)", path, x, r->min, r->max);
            return false;
        }
        if (r->store == CK_ST_F32)
            *(float *)dst = (float)x;
        else if (r->store == CK_ST_F64)
            *(double *)dst = x;
        else if (r->store == CK_ST_I32)
            *(int *)dst = (int)x;
        return true;
    }
    case CK_PT_BOOL:
        if (!json_is_boolean(v)) {
            scene_perr(P, v, obj, "%s: expected true or false, got %s", path,
                       scene_json_type_name(v));
            return false;
        }
        if (r->store == CK_ST_BOOL)
            *(bool *)dst = json_is_true(v);
        return true;
    case CK_PT_ANIM:
        if (json_is_number(v)) {
            double x = json_number_value(v);
            if (r->min <= r->max && (x < r->min || x > r->max)) {
                scene_perr(P, v, obj, "%s: %g is out of range (%g to %g)", path, x, r->min, r->max);
                return false;
            }
            ((ck_anim *)dst)->value = (float)x;
            ((ck_anim *)dst)->kf_count = 0;
            return true;
        }
        if (json_is_array(v))
            return parse_keyframes(P, v, r, (ck_anim *)dst, path);
        scene_perr(P, v, obj, "%s: expected a number or a list of keyframes, got %s", path,
                   scene_json_type_name(v));
        return false;
    case CK_PT_OBJECT:
        if (!json_is_object(v)) {
            scene_perr(P, v, obj, "%s: expected an object, got %s", path, scene_json_type_name(v));
            return false;
        }
        return true;
    case CK_PT_ARRAY:
        /* Field values may also be an object: value -> Italian label. */
        if (!json_is_array(v) && !(json_is_object(v) && strcmp(r->item, "string") == 0)) {
            scene_perr(P, v, obj, "%s: expected an array, got %s", path, scene_json_type_name(v));
            return false;
        }
        return true;
    default:
        break;
    }
    /* Everything else is a string. */
    if (!json_is_string(v)) {
        scene_perr(P, v, obj, "%s: expected a string, got %s", path, scene_json_type_name(v));
        return false;
    }
    const char *str = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(str) != len) {
        scene_perr(P, v, obj, "%s: the string contains a NUL character", path);
        return false;
    }
    switch (r->type) {
    case CK_PT_ID:
        if (!scene_valid_id(str)) {
            scene_perr(P, v, obj,
                       "%s: \"%s\" is not a valid id (lower-case letters, digits, '-' and '_', "
                       "at most 64)",
                       path, str);
            return false;
        }
        break;
    case CK_PT_COLOR: {
        ck_color c;
        if (!scene_parse_color(str, &c)) {
            scene_perr(P, v, obj, "%s: \"%s\" is not a colour (#rrggbb or #rrggbbaa)", path, str);
            return false;
        }
        if (r->store == CK_ST_COLOR)
            *(ck_color *)dst = c;
        return true;
    }
    case CK_PT_ENUM: {
        int idx = scene_enum_index(r->enum_values, str);
        if (idx < 0) {
            scene_perr(P, v, obj, "%s: \"%s\" is not one of %s", path, str, r->enum_values);
            return false;
        }
        if (r->store == CK_ST_ENUM)
            *(int *)dst = idx;
        return true;
    }
    case CK_PT_DATE: {
        int32_t days;
        if (!ck_parse_date(str, &days)) {
            scene_perr(P, v, obj, "%s: \"%s\" is not a date (YYYY-MM-DD)", path, str);
            return false;
        }
        break;
    }
    case CK_PT_URL:
        if (strncmp(str, "https://", 8) != 0 || len < 12 || strpbrk(str, " \t\r\n\"<>")) {
            scene_perr(P, v, obj, "%s: \"%s\" is not an https:// address", path, str);
            return false;
        }
        break;
    case CK_PT_EASE: {
        ck_ease e;
        if (!scene_parse_ease(str, &e)) {
            scene_perr(P, v, obj,
                       "%s: unknown easing \"%s\" (linear, ease-in, ease-out, ease-in-out, hold, "
                       "cubic-bezier(x1, y1, x2, y2) with x in 0..1)",
                       path, str);
            return false;
        }
        break;
    }
    case CK_PT_ASSET: {
        if (r->store == CK_ST_NONE)
            break; /* resolved by the caller once the assets are known (scene.audio) */
        int idx = scene_find_asset(P, str);
        ck_asset_kind want = expected_asset_kind(r);
        if (idx < 0) {
            scene_perr(P, v, obj, "%s: no asset with id \"%s\" in \"assets\"", path, str);
            return false;
        }
        if (P->s->assets[idx].kind != want) {
            scene_perr(P, v, obj, "%s: asset \"%s\" is a %s, a %s is needed here", path, str,
                       asset_kind_names[P->s->assets[idx].kind], asset_kind_names[want]);
            return false;
        }
        if (r->store == CK_ST_ASSET)
            *(int *)dst = idx;
        return true;
    }
    case CK_PT_TEMPLATE:
    case CK_PT_CONDITION:
        if (!ck_utf8_valid(str, len)) {
            scene_perr(P, v, obj, "%s: not valid UTF-8 text", path);
            return false;
        }
        if (r->type == CK_PT_CONDITION && len == 0) {
            scene_perr(P, v, obj, "%s: empty condition", path);
            return false;
        }
        break;
    default:
        if (!ck_utf8_valid(str, len)) {
            scene_perr(P, v, obj, "%s: not valid UTF-8 text", path);
            return false;
        }
        break;
    }
    if (r->store == CK_ST_STR) {
        *(const char **)dst = ck_arena_strdup(&P->s->arena, str);
    } else if (r->store == CK_ST_SRC) {
        ck_src_text *t = (ck_src_text *)dst;
        t->text = ck_arena_strdup(&P->s->arena, str);
        t->pos = scene_pos_of(P, v, obj);
        t->path = ck_arena_strdup(&P->s->arena, path);
    }
    return true;
}

/* Applies the defaults of every stored row of `kinds` to `base`. */
static void apply_defaults(const char *const *kinds, void *base)
{
    size_t n;
    const ck_prop_desc *rows = ck_scene_props(&n);
    for (size_t i = 0; i < n; i++) {
        const ck_prop_desc *r = &rows[i];
        bool mine = false;
        for (const char *const *k = kinds; *k; k++)
            mine |= strcmp(r->obj, *k) == 0;
        if (!mine || r->store == CK_ST_NONE)
            continue;
        char *dst = (char *)base + r->offset;
        switch (r->store) {
        case CK_ST_F32:
            if (!isnan(r->def))
                *(float *)dst = (float)r->def;
            break;
        case CK_ST_F64:
            if (!isnan(r->def))
                *(double *)dst = r->def;
            break;
        case CK_ST_I32:
            if (!isnan(r->def))
                *(int *)dst = (int)r->def;
            break;
        case CK_ST_BOOL:
            if (!isnan(r->def))
                *(bool *)dst = r->def != 0;
            break;
        case CK_ST_COLOR:
            if (r->def_str)
                scene_parse_color(r->def_str, (ck_color *)dst);
            break;
        case CK_ST_ENUM:
            *(int *)dst = r->def_str ? scene_enum_index(r->enum_values, r->def_str) : 0;
            break;
        case CK_ST_ANIM:
            ((ck_anim *)dst)->value = (float)r->def;
            break;
        case CK_ST_ASSET:
            *(int *)dst = -1;
            break;
        case CK_ST_STR:
            if (r->def_str)
                *(const char **)dst = r->def_str; /* static storage, lives forever */
            break;
        default:
            break;
        }
    }
}

/* Checks every key of `obj` against the rows of `kinds`, stores the stored ones into `base`
 * and reports missing required properties. Returns false on any error. */
bool scene_parse_props(parser *P, const json_t *obj, const char *const *kinds, void *base,
                       const char *path)
{
    if (!json_is_object(obj)) {
        scene_perr(P, obj, NULL, "%s: expected an object, got %s", *path ? path : "scene",
                   scene_json_type_name(obj));
        return false;
    }
    apply_defaults(kinds, base);
    bool ok = true;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const ck_prop_desc *r = find_row(kinds, key);
        const char *sub = path_join(P, path, key);
        if (!r) {
            const char *hint = suggest_prop(kinds, key);
            if (hint)
                scene_perr(P, v, obj, "%s: unknown property \"%s\" (did you mean \"%s\"?)",
                           *path ? path : "scene", key, hint);
            else
                scene_perr(P, v, obj, "%s: unknown property \"%s\"", *path ? path : "scene", key);
            ok = false;
            continue;
        }
        ok &= store_value(P, r, v, obj, base, sub);
    }
    size_t n;
    const ck_prop_desc *rows = ck_scene_props(&n);
    for (size_t i = 0; i < n; i++)
        for (const char *const *k = kinds; *k; k++)
            if (rows[i].required && strcmp(rows[i].obj, *k) == 0 &&
                !json_object_get(obj, rows[i].name)) {
                scene_perr(P, obj, NULL, "%s: missing required property \"%s\"",
                           *path ? path : "scene", rows[i].name);
                ok = false;
            }
    return ok;
}

static bool parse_keyframes(parser *P, const json_t *arr, const ck_prop_desc *r, ck_anim *out,
                            const char *path)
{
    static const char *const kinds[] = {"keyframe", NULL};
    if (json_array_size(arr) == 0) {
        scene_perr(P, arr, NULL, "%s: a keyframe list needs at least one keyframe", path);
        return false;
    }
    bool ok = true;
    uint32_t first = (uint32_t)P->keyframes.count;
    double prev_t = -1;
    size_t i;
    json_t *jk;
    json_array_foreach(arr, i, jk)
    {
        const char *kpath = ck_arena_printf(&P->s->arena, "%s[%zu]", path, i);
        ck_keyframe *kf = scene_vec_push(&P->keyframes);
        if (!kf)
            return false;
        if (!scene_parse_props(P, jk, kinds, kf, kpath)) {
            ok = false;
            continue;
        }
        json_t *je = json_object_get(jk, "ease");
        if (je)
            scene_parse_ease(json_string_value(je), &kf->ease);
        if (r->min <= r->max && (kf->v < r->min || kf->v > r->max)) {
            scene_perr(P, json_object_get(jk, "v"), jk, "%s.v: %g is out of range (%g to %g)",
                       kpath, (double)kf->v, r->min, r->max);
            ok = false;
        }
        if (kf->t <= prev_t) {
            scene_perr(P, json_object_get(jk, "t"), jk,
                       "%s.t: keyframe times must increase (%g comes after %g)", kpath, kf->t,
                       prev_t);
            ok = false;
        }
        prev_t = kf->t;
    }
    out->kf_first = first;
    out->kf_count = (uint32_t)json_array_size(arr);
    out->value = P->keyframes.count > (int)first ? ((ck_keyframe *)P->keyframes.items)[first].v : 0;
    return ok;
}
