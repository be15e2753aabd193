/* scene_internal.h: private to engine/scene. */
#ifndef CK_SCENE_INTERNAL_H
#define CK_SCENE_INTERNAL_H

#include "ck_scene.h"

#include <jansson.h>

/* How the parser stores a property's value into its struct. */
enum ck_store {
    CK_ST_NONE, /* custom code handles it */
    CK_ST_F32,
    CK_ST_F64,
    CK_ST_I32,
    CK_ST_BOOL,
    CK_ST_STR,   /* const char *, in the scene arena */
    CK_ST_COLOR, /* ck_color */
    CK_ST_ENUM,  /* int: index into enum_values */
    CK_ST_ANIM,  /* ck_anim */
    CK_ST_SRC,   /* ck_src_text */
    CK_ST_ASSET  /* int: asset index (resolved after assets are known) */
};

/* ---- JSON positions: jansson gives none for values, so we scan the text once ---- */
typedef struct ck_jsonpos ck_jsonpos;

/* Builds the map value -> (line, col) by walking `text` alongside the parsed `root`. */
ck_jsonpos *scene_jsonpos_build(const char *text, size_t len, json_t *root);
void scene_jsonpos_destroy(ck_jsonpos **jp);
/* Position of a value (line 0 when unknown). */
ck_srcpos scene_jsonpos_get(const ck_jsonpos *jp, const json_t *v);

/* Rows of the property table for one object kind, e.g. "layer" or "text". */
const ck_prop_desc *scene_props_find(const char *obj, const char *name);
/* Splits an enum_values list; returns the index of `value`, or -1. */
int scene_enum_index(const char *list, const char *value);
/* Parses "#rrggbb" / "#rrggbbaa". */
bool scene_parse_color(const char *s, ck_color *c);

/* ---- the parser's shared state and helpers (parse.c, used by scene.c) ---- */
/* Growable array of fixed-size items, copied into the scene arena at the end. */
typedef struct vec {
    void *items;
    int count, cap;
    size_t size;
} vec;

typedef struct parser {
    ck_scene *s;
    ck_diags *d;
    const char *file;
    ck_jsonpos *jp;
    const ck_scene_params *params;
    vec layers, keyframes, cues, captions;
    int depth;
} parser;

/* Appends a zeroed item; NULL when out of memory. */
void *scene_vec_push(vec *v);
/* Position of a value for messages (true/false/null: the containing object's). */
ck_srcpos scene_pos_of(parser *P, const json_t *v, const json_t *parent);
void scene_perr(parser *P, const json_t *v, const json_t *parent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void scene_pwarn(parser *P, const json_t *v, const json_t *parent, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "an object", "a string", ... for messages. */
const char *scene_json_type_name(const json_t *v);
/* Ids: lower-case letters, digits, '-' and '_', at most 64. */
bool scene_valid_id(const char *s);
/* Index of an asset already parsed, or -1. */
int scene_find_asset(parser *P, const char *id);
bool scene_parse_ease(const char *s, ck_ease *e);
/* Checks every key of `obj` against the rows of `kinds` (NULL-terminated), applies defaults,
 * stores values into `base`, reports missing required ones. False on any error. */
bool scene_parse_props(parser *P, const json_t *obj, const char *const *kinds, void *base,
                       const char *path);

#endif
