/* ck_scene.h: a campaign's scene graph, parsed from scene.json and validated.
 *
 * The scene is flat, data-only arrays referring to each other by index (layers, keyframes,
 * fields, assets, cues, captions). A property table (ck_scene_props) describes every JSON
 * property once: name, type, default, range, whether it can be keyframed, and its doc. That
 * table drives the parser and validator here, and the JSON Schema and the docs that
 * `ciak schema` writes, so the three cannot disagree.
 *
 * This module knows nothing of records: templates and `when` conditions are kept as source
 * text with their position in scene.json; the template module compiles them against the
 * scene's fields (see ck_template.h).
 *
 * Ownership: everything hangs off one arena inside ck_scene; ck_scene_destroy frees it all.
 * Units: times in seconds (double), positions and sizes in canvas pixels, angles in degrees,
 * colours as straight (non-premultiplied) RGBA in 0..1, money in euro cents.
 * Thread safety: a loaded scene is immutable and may be read from any number of threads.
 */
#ifndef CK_SCENE_H
#define CK_SCENE_H

#include "ck_base.h"

#define CK_SCENE_FORMAT_VERSION 1

/* Where in scene.json something came from, for error messages. */
typedef struct ck_srcpos {
    int line, col;
} ck_srcpos;

/* A template or condition as written in scene.json. */
typedef struct ck_src_text {
    const char *text; /* NULL when absent */
    ck_srcpos pos;    /* position of the JSON string */
    const char *path; /* JSON path, e.g. "layers[3].text" */
} ck_src_text;

typedef struct ck_color {
    float r, g, b, a;
} ck_color;

/* ---- fields: what a record must provide ---- */
#define CK_FIELD_TYPE_LIST(X)                                                                      \
    X(CK_FIELD_STRING, "string")                                                                   \
    X(CK_FIELD_ENUM, "enum")                                                                       \
    X(CK_FIELD_DATE, "date")                                                                       \
    X(CK_FIELD_MONEY, "money")                                                                     \
    X(CK_FIELD_INTEGER, "integer")                                                                 \
    X(CK_FIELD_BOOLEAN, "boolean")                                                                 \
    X(CK_FIELD_SET, "set")

typedef enum ck_field_type {
#define CK_X_ENUM(name, text) name,
    CK_FIELD_TYPE_LIST(CK_X_ENUM)
#undef CK_X_ENUM
        CK_FIELD_TYPE_COUNT
} ck_field_type;
const char *ck_field_type_str(ck_field_type t);

typedef struct ck_field {
    const char *name;
    ck_field_type type;
    bool required;       /* default true */
    int max_length;      /* strings: max code points (0 = 200) */
    int64_t min, max;    /* integers and money (cents): range; min > max means unbounded */
    const char **values; /* enum and set: allowed values */
    const char **labels; /* enum and set: Italian label per value (used by `|list`) */
    int value_count;
    const char *description;
    ck_srcpos pos;
} ck_field;

/* ---- assets ---- */
typedef enum ck_asset_kind {
    CK_ASSET_FONT,
    CK_ASSET_IMAGE,
    CK_ASSET_VIDEO,
    CK_ASSET_AUDIO
} ck_asset_kind;

typedef struct ck_asset {
    const char *id;
    ck_asset_kind kind;
    const char *path;     /* resolved against the scene folder */
    const char *rel_path; /* as written */
    ck_srcpos pos;
} ck_asset;

/* ---- animation ---- */
typedef enum ck_ease_kind {
    CK_EASE_LINEAR,
    CK_EASE_IN,
    CK_EASE_OUT,
    CK_EASE_IN_OUT,
    CK_EASE_BEZIER, /* cubic-bezier(x1, y1, x2, y2), as in CSS */
    CK_EASE_HOLD    /* jump at the next keyframe */
} ck_ease_kind;

typedef struct ck_ease {
    ck_ease_kind kind;
    float x1, y1, x2, y2; /* CK_EASE_BEZIER only */
} ck_ease;

/* A keyframe: time relative to the layer's start, the value, and the easing used from this
 * keyframe to the next. */
typedef struct ck_keyframe {
    double t;
    float v;
    ck_ease ease;
} ck_keyframe;

/* An animatable number: `value` when kf_count == 0, else keyframes[kf_first .. +kf_count)
 * of the scene (sorted by time; held before the first and after the last). */
typedef struct ck_anim {
    float value;
    uint32_t kf_first, kf_count;
} ck_anim;

/* ---- layers ---- */
typedef enum ck_layer_type {
    CK_LAYER_VIDEO,
    CK_LAYER_IMAGE,
    CK_LAYER_TEXT,
    CK_LAYER_SHAPE,
    CK_LAYER_GROUP,
    CK_LAYER_TYPE_COUNT
} ck_layer_type;
const char *ck_layer_type_str(ck_layer_type t);

typedef enum ck_align { CK_ALIGN_START, CK_ALIGN_CENTER, CK_ALIGN_END } ck_align;
typedef enum ck_fit { CK_FIT_NONE, CK_FIT_SHRINK, CK_FIT_WRAP } ck_fit;

/* The animatable properties every layer has, in one fixed order (ck_layer.anim[]). */
typedef enum ck_anim_prop {
    CK_PROP_X,
    CK_PROP_Y,
    CK_PROP_ANCHOR_X,
    CK_PROP_ANCHOR_Y,
    CK_PROP_SCALE,
    CK_PROP_SCALE_X,
    CK_PROP_SCALE_Y,
    CK_PROP_ROTATION,
    CK_PROP_OPACITY,
    CK_ANIM_PROP_COUNT
} ck_anim_prop;

typedef struct ck_text_props {
    ck_src_text text;  /* template */
    int font;          /* asset index */
    int fallback_font; /* asset index, -1 = none */
    float size;        /* px */
    float min_size;    /* px, shrink limit */
    ck_color color;
    ck_align align;    /* horizontal */
    ck_align valign;   /* vertical, inside the box */
    float line_height; /* multiple of size */
    ck_fit fit;
    int max_lines;       /* wrap: at most this many lines, then shrink */
    float outline_width; /* px, 0 = none */
    ck_color outline_color;
    float shadow_dx, shadow_dy, shadow_blur; /* px */
    ck_color shadow_color;                   /* a == 0: no shadow */
} ck_text_props;

typedef struct ck_shape_props {
    float radius;
    ck_color fill;
    bool gradient; /* fill -> fill2 along gradient_angle */
    ck_color fill2;
    float gradient_angle; /* degrees, 0 = left to right, 90 = top to bottom */
    ck_color stroke;
    float stroke_width;
} ck_shape_props;

typedef struct ck_media_props {
    int asset;           /* image or video asset index */
    double source_start; /* video: source time at the layer's start */
    bool loop;           /* video: loop the source */
} ck_media_props;

typedef struct ck_layer {
    const char *id; /* unique, e.g. "greeting" */
    ck_layer_type type;
    int parent;          /* group layer index, -1 = top level */
    double start, end;   /* seconds on the scene clock; end > start */
    float width, height; /* layer box in px (text box, shape, image/video size) */
    ck_anim anim[CK_ANIM_PROP_COUNT];
    ck_src_text when; /* condition; text == NULL: always */
    ck_text_props text;
    ck_shape_props shape;
    ck_media_props media;
    ck_srcpos pos;
    const char *path; /* JSON path, e.g. "layers[3]" */
} ck_layer;

/* ---- interactive cues, captions ---- */
typedef enum ck_cue_kind { CK_CUE_POPUP, CK_CUE_BUTTON, CK_CUE_CHAPTER } ck_cue_kind;

typedef struct ck_cue {
    const char *id;
    ck_cue_kind kind;
    double start, end; /* chapter: end == start */
    ck_src_text title; /* template (popup, chapter) */
    ck_src_text body;  /* template (popup) */
    ck_src_text label; /* template (button) */
    const char *url;   /* button */
    ck_src_text when;
    ck_srcpos pos;
    const char *path;
} ck_cue;

typedef struct ck_caption {
    double start, end;
    ck_src_text text; /* template */
    ck_srcpos pos;
} ck_caption;

/* ---- speech: timed, templated lines a synthesiser says (engine/speech) ---- */
typedef struct ck_speech_line {
    double start;     /* seconds on the scene clock */
    double end;       /* "end", else the next line's start or the scene's end: the time
                         the line has to be said */
    ck_src_text text; /* template, compiled in speech mode (spoken forms) */
    ck_src_text when; /* condition; text == NULL: always */
    ck_srcpos pos;
    const char *path; /* "speech.lines[2]" */
} ck_speech_line;

/* ---- availability ---- */
typedef enum ck_avail_kind { CK_AVAIL_NONE, CK_AVAIL_DAYS_AFTER, CK_AVAIL_UNTIL } ck_avail_kind;

typedef struct ck_availability {
    ck_avail_kind kind;
    int days;      /* DAYS_AFTER */
    int field;     /* DAYS_AFTER: index of a date field */
    int32_t until; /* UNTIL: days since 1970-01-01, last day included */
} ck_availability;

/* ---- the scene ---- */
typedef struct ck_scene {
    const char *dir;  /* scene folder */
    const char *file; /* path of scene.json */
    const char *id;   /* campaign id, e.g. "assegno-sociale" */
    const char *title;
    int version; /* campaign version: bump to invalidate shared segments */
    int width, height;
    double fps;      /* frames per second */
    double duration; /* seconds */
    int64_t frame_count;

    double seg_first, seg_target; /* segment plan, seconds */
    double *cuts;                 /* explicit cut times (sorted, inside (0, duration)) */
    int cut_count;

    ck_color background;

    ck_field *fields;
    int field_count;
    ck_asset *assets;
    int asset_count;
    ck_layer *layers;
    int layer_count;
    ck_keyframe *keyframes;
    int keyframe_count;
    ck_cue *cues;
    int cue_count;
    ck_caption *captions;
    int caption_count;
    ck_availability availability;
    int audio; /* audio asset index, -1 = silent */

    /* Speech track (speech_line_count 0: none). */
    const char *speech_voice; /* synthesiser voice, e.g. "it" (checked by `ciak check`) */
    int speech_rate;          /* words per minute */
    ck_srcpos speech_pos;     /* of the "speech" object, for messages about the voice */
    ck_speech_line *speech_lines;
    int speech_line_count;

    ck_arena arena; /* owns everything above */
} ck_scene;

/* Parameters for loading; zero means default. */
typedef struct ck_scene_params {
    bool skip_asset_check; /* do not require asset files to exist (schema tests) */
} ck_scene_params;

/* Loads `dir`/scene.json (or `dir` itself when it names a .json file). Every problem found is
 * appended to `diags` (file:line:col: message). Returns the scene, or NULL when it has any
 * error. */
ck_scene *ck_scene_load(const char *dir, const ck_scene_params *params, ck_diags *diags);
/* Same, from a buffer; `file` names it in messages, `dir` resolves asset paths. */
ck_scene *ck_scene_load_buffer(const char *json, size_t len, const char *file, const char *dir,
                               const ck_scene_params *params, ck_diags *diags);
void ck_scene_destroy(ck_scene **scene);

/* Index of a field / asset / layer by name, or -1. */
int ck_scene_field(const ck_scene *s, const char *name);
int ck_scene_asset(const ck_scene *s, const char *id);
int ck_scene_layer(const ck_scene *s, const char *id);

/* ---- the property table (drives parser, validator, schema, docs) ---- */
typedef enum ck_ptype {
    CK_PT_NUMBER, /* double */
    CK_PT_INTEGER,
    CK_PT_BOOL,
    CK_PT_STRING,
    CK_PT_ID,        /* identifier: [a-z0-9_-]+ */
    CK_PT_COLOR,     /* "#rrggbb", "#rrggbbaa" */
    CK_PT_ENUM,      /* one of enum_values ("a|b|c") */
    CK_PT_TEMPLATE,  /* string with {{...}} */
    CK_PT_CONDITION, /* `when` expression */
    CK_PT_ASSET,     /* id of an asset of the right kind */
    CK_PT_DATE,      /* "YYYY-MM-DD" */
    CK_PT_URL,       /* https:// URL */
    CK_PT_ANIM,      /* number, or array of keyframes */
    CK_PT_EASE,      /* easing name or "cubic-bezier(x1, y1, x2, y2)" */
    CK_PT_OBJECT,    /* nested object, described by rows with obj == name */
    CK_PT_ARRAY      /* array of objects (item rows under `item`) or numbers */
} ck_ptype;

typedef struct ck_prop_desc {
    const char *obj;  /* which object it belongs to: "scene", "canvas", "layer", "text", ... */
    const char *name; /* JSON key */
    ck_ptype type;
    bool required;
    double def;              /* default for numbers / bools; NaN = none */
    const char *def_str;     /* default for strings, enums, colours; NULL = none */
    double min, max;         /* numeric range (inclusive); min > max = unbounded */
    const char *enum_values; /* "linear|ease-in|..." */
    const char *item;        /* CK_PT_OBJECT / CK_PT_ARRAY: object name of the items */
    const char *doc;         /* one sentence for the docs and the schema */
    /* Where the parser stores the value (CK_ST_NONE: handled by the object's own code). */
    int store;     /* ck_store, private to the parser */
    size_t offset; /* into the object's struct */
} ck_prop_desc;

/* The whole table, and its length. */
const ck_prop_desc *ck_scene_props(size_t *count);

/* Writes the JSON Schema (draft 2020-12) of scene.json, generated from the table, into a
 * malloc'd string. */
char *ck_scene_schema_json(void);
/* Writes the reference section of docs/scene-format.md (Markdown tables), from the table. */
char *ck_scene_props_markdown(void);

#endif
