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
ck_jsonpos *ck_jsonpos_build(const char *text, size_t len, json_t *root);
void ck_jsonpos_destroy(ck_jsonpos **jp);
/* Position of a value (line 0 when unknown). */
ck_srcpos ck_jsonpos_get(const ck_jsonpos *jp, const json_t *v);

/* Rows of the property table for one object kind, e.g. "layer" or "text". */
const ck_prop_desc *ck_props_find(const char *obj, const char *name);
/* Splits an enum_values list; returns the index of `value`, or -1. */
int ck_enum_index(const char *list, const char *value);
/* Parses "#rrggbb" / "#rrggbbaa". */
bool ck_parse_color(const char *s, ck_color *c);

#endif
