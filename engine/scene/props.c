/* props.c: the property table of scene.json, and the JSON Schema and Markdown made from it.
 *
 * Each row names the object it belongs to, the JSON key, its type, default, range and doc,
 * and where the parser stores it. The parser (scene.c) validates and stores every scalar
 * property from these rows; nested objects and arrays are listed here too (for the schema and
 * the docs) and handled by the parser's own code (store = CK_ST_NONE).
 */
#include "scene_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODEF             NAN
#define OFF(type, member) offsetof(type, member)
/* No numeric range: min > max means unbounded. */
#define NOMIN 1
#define NOMAX 0

/* One row of the table (see ck_prop_desc for the columns). */
#define ROW(obj, name, type, req, def, defs, min, max, enums, item, doc, st, off)                  \
    {                                                                                              \
        obj, name, type, req, def, defs, min, max, enums, item, doc, st, off                       \
    }

static const ck_prop_desc props[] = {
    /* ---- scene ---- */
    ROW("scene", "format", CK_PT_INTEGER, true, NODEF, NULL, 1, 1, NULL, NULL,
        "Scene format version; must be 1.", CK_ST_NONE, 0),
    ROW("scene", "id", CK_PT_ID, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Campaign id: lower-case letters, digits and '-'; used in URLs and cache paths.", CK_ST_STR,
        OFF(ck_scene, id)),
    ROW("scene", "title", CK_PT_STRING, false, NODEF, "", NOMIN, NOMAX, NULL, NULL,
        "Title shown to viewers (player page, PDF guide).", CK_ST_STR, OFF(ck_scene, title)),
    ROW("scene", "version", CK_PT_INTEGER, false, 1, NULL, 1, 1000000, NULL, NULL,
        "Campaign version; bump it to render every shared segment anew.", CK_ST_I32,
        OFF(ck_scene, version)),
    ROW("scene", "canvas", CK_PT_OBJECT, true, NODEF, NULL, NOMIN, NOMAX, NULL, "canvas",
        "Frame size, frame rate and background colour.", CK_ST_NONE, 0),
    ROW("scene", "duration", CK_PT_NUMBER, true, NODEF, NULL, 0.5, 3600, NULL, NULL,
        "Length of the video in seconds.", CK_ST_F64, OFF(ck_scene, duration)),
    ROW("scene", "segments", CK_PT_OBJECT, false, NODEF, NULL, NOMIN, NOMAX, NULL, "segments",
        "HLS segment plan.", CK_ST_NONE, 0),
    ROW("scene", "fields", CK_PT_OBJECT, false, NODEF, NULL, NOMIN, NOMAX, NULL, "field",
        "Fields a record must provide, by name (at most 64).", CK_ST_NONE, 0),
    ROW("scene", "assets", CK_PT_OBJECT, false, NODEF, NULL, NOMIN, NOMAX, NULL, "asset",
        "Fonts, images, video and audio, by id.", CK_ST_NONE, 0),
    ROW("scene", "audio", CK_PT_ASSET, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Audio asset played under the whole video (voice-over and music).", CK_ST_NONE, 0),
    ROW("scene", "layers", CK_PT_ARRAY, true, NODEF, NULL, NOMIN, NOMAX, NULL, "layer",
        "Layers, drawn back to front.", CK_ST_NONE, 0),
    ROW("scene", "interactive", CK_PT_ARRAY, false, NODEF, NULL, NOMIN, NOMAX, NULL, "cue",
        "Interactive cues: pop-ups, buttons, chapters.", CK_ST_NONE, 0),
    ROW("scene", "captions", CK_PT_ARRAY, false, NODEF, NULL, NOMIN, NOMAX, NULL, "caption",
        "Timed, templated caption sentences.", CK_ST_NONE, 0),
    ROW("scene", "speech", CK_PT_OBJECT, false, NODEF, NULL, NOMIN, NOMAX, NULL, "speech",
        "Speech track: timed, templated lines a synthesiser says over the audio (their "
        "captions are generated from the same text).",
        CK_ST_NONE, 0),
    ROW("scene", "availability", CK_PT_OBJECT, false, NODEF, NULL, NOMIN, NOMAX, NULL,
        "availability", "How long links to this campaign stay valid.", CK_ST_NONE, 0),

    /* ---- canvas ---- */
    ROW("canvas", "width", CK_PT_INTEGER, true, NODEF, NULL, 16, 7680, NULL, NULL,
        "Frame width in pixels (even).", CK_ST_I32, OFF(ck_scene, width)),
    ROW("canvas", "height", CK_PT_INTEGER, true, NODEF, NULL, 16, 4320, NULL, NULL,
        "Frame height in pixels (even).", CK_ST_I32, OFF(ck_scene, height)),
    ROW("canvas", "fps", CK_PT_NUMBER, false, 30, NULL, 1, 120, NULL, NULL, "Frames per second.",
        CK_ST_F64, OFF(ck_scene, fps)),
    ROW("canvas", "background", CK_PT_COLOR, false, NODEF, "#000000", NOMIN, NOMAX, NULL, NULL,
        "Colour behind every layer.", CK_ST_COLOR, OFF(ck_scene, background)),

    /* ---- segments ---- */
    ROW("segments", "first", CK_PT_NUMBER, false, 1, NULL, 0.1, 10, NULL, NULL,
        "Length of the first segment in seconds; short so playback starts at once.", CK_ST_F64,
        OFF(ck_scene, seg_first)),
    ROW("segments", "target", CK_PT_NUMBER, false, 2, NULL, 0.5, 20, NULL, NULL,
        "Length of the later segments in seconds.", CK_ST_F64, OFF(ck_scene, seg_target)),
    ROW("segments", "cuts", CK_PT_ARRAY, false, NODEF, NULL, NOMIN, NOMAX, NULL, "number",
        "Explicit cut times in seconds (increasing); replaces first/target.", CK_ST_NONE, 0),

    /* ---- fields ---- */
    ROW("field", "type", CK_PT_ENUM, true, NODEF, NULL, NOMIN, NOMAX,
        "string|enum|date|money|integer|boolean|set", NULL, "Type of the value.", CK_ST_ENUM,
        OFF(ck_field, type)),
    ROW("field", "required", CK_PT_BOOL, false, 1, NULL, NOMIN, NOMAX, NULL, NULL,
        "Whether every record must have a value.", CK_ST_BOOL, OFF(ck_field, required)),
    ROW("field", "max_length", CK_PT_INTEGER, false, 200, NULL, 1, 10000, NULL, NULL,
        "string: maximum length in characters.", CK_ST_I32, OFF(ck_field, max_length)),
    ROW("field", "min", CK_PT_INTEGER, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "integer, money (cents): smallest allowed value.", CK_ST_NONE, 0),
    ROW("field", "max", CK_PT_INTEGER, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "integer, money (cents): largest allowed value.", CK_ST_NONE, 0),
    ROW("field", "values", CK_PT_ARRAY, false, NODEF, NULL, NOMIN, NOMAX, NULL, "string",
        "enum, set: allowed values, as an array or an object value -> Italian label.", CK_ST_NONE,
        0),
    ROW("field", "description", CK_PT_STRING, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "What the field holds, for people preparing the data.", CK_ST_STR,
        OFF(ck_field, description)),

    /* ---- assets ---- */
    ROW("asset", "type", CK_PT_ENUM, true, NODEF, NULL, NOMIN, NOMAX, "font|image|video|audio",
        NULL, "Kind of asset.", CK_ST_ENUM, OFF(ck_asset, kind)),
    ROW("asset", "path", CK_PT_STRING, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "File path, relative to the scene folder.", CK_ST_STR, OFF(ck_asset, rel_path)),

    /* ---- layers: common ---- */
    ROW("layer", "id", CK_PT_ID, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Layer id, unique in the scene.", CK_ST_STR, OFF(ck_layer, id)),
    ROW("layer", "type", CK_PT_ENUM, true, NODEF, NULL, NOMIN, NOMAX,
        "video|image|text|shape|group", NULL, "Kind of layer.", CK_ST_ENUM, OFF(ck_layer, type)),
    ROW("layer", "start", CK_PT_NUMBER, false, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the layer appears, seconds (default: its group's start, or 0).", CK_ST_NONE, 0),
    ROW("layer", "end", CK_PT_NUMBER, false, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the layer disappears, seconds (default: its group's end, or the duration).",
        CK_ST_NONE, 0),
    ROW("layer", "x", CK_PT_ANIM, false, 0, NULL, -100000, 100000, NULL, NULL,
        "Horizontal position of the anchor point, px in the parent's space.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_X),
    ROW("layer", "y", CK_PT_ANIM, false, 0, NULL, -100000, 100000, NULL, NULL,
        "Vertical position of the anchor point, px in the parent's space.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_Y),
    ROW("layer", "anchor_x", CK_PT_ANIM, false, 0, NULL, -10, 10, NULL, NULL,
        "Anchor point as a fraction of the width (0 left, 0.5 centre, 1 right).", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_ANCHOR_X),
    ROW("layer", "anchor_y", CK_PT_ANIM, false, 0, NULL, -10, 10, NULL, NULL,
        "Anchor point as a fraction of the height (0 top, 0.5 centre, 1 bottom).", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_ANCHOR_Y),
    ROW("layer", "scale", CK_PT_ANIM, false, 1, NULL, 0, 100, NULL, NULL,
        "Uniform scale around the anchor point.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_SCALE),
    ROW("layer", "scale_x", CK_PT_ANIM, false, 1, NULL, 0, 100, NULL, NULL,
        "Horizontal scale, multiplied with scale.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_SCALE_X),
    ROW("layer", "scale_y", CK_PT_ANIM, false, 1, NULL, 0, 100, NULL, NULL,
        "Vertical scale, multiplied with scale.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_SCALE_Y),
    ROW("layer", "rotation", CK_PT_ANIM, false, 0, NULL, -36000, 36000, NULL, NULL,
        "Rotation around the anchor point, degrees clockwise.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_ROTATION),
    ROW("layer", "opacity", CK_PT_ANIM, false, 1, NULL, 0, 1, NULL, NULL,
        "Opacity 0..1, multiplied down groups.", CK_ST_ANIM,
        OFF(ck_layer, anim) + sizeof(ck_anim) * CK_PROP_OPACITY),
    ROW("layer", "width", CK_PT_NUMBER, false, 0, NULL, 0, 100000, NULL, NULL,
        "Width of the layer's box, px (video: default canvas width).", CK_ST_F32,
        OFF(ck_layer, width)),
    ROW("layer", "height", CK_PT_NUMBER, false, 0, NULL, 0, 100000, NULL, NULL,
        "Height of the layer's box, px (video: default canvas height).", CK_ST_F32,
        OFF(ck_layer, height)),
    ROW("layer", "when", CK_PT_CONDITION, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Condition over the record; the layer and its children are drawn only when it holds.",
        CK_ST_SRC, OFF(ck_layer, when)),

    /* ---- text layers ---- */
    ROW("text", "text", CK_PT_TEMPLATE, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "The text, a template such as \"Gentile {{first_name|name}}\".", CK_ST_SRC,
        OFF(ck_layer, text.text)),
    ROW("text", "font", CK_PT_ASSET, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL, "Font asset id.",
        CK_ST_ASSET, OFF(ck_layer, text.font)),
    ROW("text", "fallback_font", CK_PT_ASSET, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Font asset id used for characters the font lacks.", CK_ST_ASSET,
        OFF(ck_layer, text.fallback_font)),
    ROW("text", "size", CK_PT_NUMBER, false, 48, NULL, 4, 1000, NULL, NULL, "Font size, px.",
        CK_ST_F32, OFF(ck_layer, text.size)),
    ROW("text", "min_size", CK_PT_NUMBER, false, 0, NULL, 0, 1000, NULL, NULL,
        "Smallest size when shrinking to fit, px (0: half of size).", CK_ST_F32,
        OFF(ck_layer, text.min_size)),
    ROW("text", "color", CK_PT_COLOR, false, NODEF, "#ffffff", NOMIN, NOMAX, NULL, NULL,
        "Text colour.", CK_ST_COLOR, OFF(ck_layer, text.color)),
    ROW("text", "align", CK_PT_ENUM, false, NODEF, "left", NOMIN, NOMAX, "left|center|right", NULL,
        "Horizontal alignment in the box.", CK_ST_ENUM, OFF(ck_layer, text.align)),
    ROW("text", "valign", CK_PT_ENUM, false, NODEF, "top", NOMIN, NOMAX, "top|middle|bottom", NULL,
        "Vertical alignment in the box.", CK_ST_ENUM, OFF(ck_layer, text.valign)),
    ROW("text", "line_height", CK_PT_NUMBER, false, 1.2, NULL, 0.5, 4, NULL, NULL,
        "Distance between baselines, as a multiple of the size.", CK_ST_F32,
        OFF(ck_layer, text.line_height)),
    ROW("text", "fit", CK_PT_ENUM, false, NODEF, "none", NOMIN, NOMAX, "none|shrink|wrap", NULL,
        "How text is fitted to its box.", CK_ST_ENUM, OFF(ck_layer, text.fit)),
    ROW("text", "max_lines", CK_PT_INTEGER, false, 2, NULL, 1, 50, NULL, NULL,
        "wrap: most lines before shrinking.", CK_ST_I32, OFF(ck_layer, text.max_lines)),
    ROW("text", "outline_width", CK_PT_NUMBER, false, 0, NULL, 0, 50, NULL, NULL,
        "Outline width, px (0: none).", CK_ST_F32, OFF(ck_layer, text.outline_width)),
    ROW("text", "outline_color", CK_PT_COLOR, false, NODEF, "#000000", NOMIN, NOMAX, NULL, NULL,
        "Outline colour.", CK_ST_COLOR, OFF(ck_layer, text.outline_color)),
    ROW("text", "shadow_color", CK_PT_COLOR, false, NODEF, "#00000000", NOMIN, NOMAX, NULL, NULL,
        "Drop shadow colour (transparent: none).", CK_ST_COLOR, OFF(ck_layer, text.shadow_color)),
    ROW("text", "shadow_dx", CK_PT_NUMBER, false, 2, NULL, -100, 100, NULL, NULL,
        "Drop shadow offset to the right, px.", CK_ST_F32, OFF(ck_layer, text.shadow_dx)),
    ROW("text", "shadow_dy", CK_PT_NUMBER, false, 2, NULL, -100, 100, NULL, NULL,
        "Drop shadow offset downwards, px.", CK_ST_F32, OFF(ck_layer, text.shadow_dy)),
    ROW("text", "shadow_blur", CK_PT_NUMBER, false, 2, NULL, 0, 50, NULL, NULL,
        "Drop shadow softness, px.", CK_ST_F32, OFF(ck_layer, text.shadow_blur)),

    /* ---- shape layers ---- */
    ROW("shape", "radius", CK_PT_NUMBER, false, 0, NULL, 0, 10000, NULL, NULL, "Corner radius, px.",
        CK_ST_F32, OFF(ck_layer, shape.radius)),
    ROW("shape", "fill", CK_PT_COLOR, false, NODEF, "#ffffff", NOMIN, NOMAX, NULL, NULL,
        "Fill colour (gradient start).", CK_ST_COLOR, OFF(ck_layer, shape.fill)),
    ROW("shape", "fill2", CK_PT_COLOR, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Gradient end colour; present = linear gradient.", CK_ST_NONE, 0),
    ROW("shape", "gradient_angle", CK_PT_NUMBER, false, 0, NULL, -360, 360, NULL, NULL,
        "Gradient direction, degrees (0 left to right, 90 top to bottom).", CK_ST_F32,
        OFF(ck_layer, shape.gradient_angle)),
    ROW("shape", "stroke", CK_PT_COLOR, false, NODEF, "#00000000", NOMIN, NOMAX, NULL, NULL,
        "Stroke colour.", CK_ST_COLOR, OFF(ck_layer, shape.stroke)),
    ROW("shape", "stroke_width", CK_PT_NUMBER, false, 0, NULL, 0, 1000, NULL, NULL,
        "Stroke width, px, inside the box.", CK_ST_F32, OFF(ck_layer, shape.stroke_width)),

    /* ---- image and video layers ---- */
    ROW("image", "asset", CK_PT_ASSET, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Image asset id.", CK_ST_ASSET, OFF(ck_layer, media.asset)),
    ROW("video", "asset", CK_PT_ASSET, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Video asset id.", CK_ST_ASSET, OFF(ck_layer, media.asset)),
    ROW("video", "source_start", CK_PT_NUMBER, false, 0, NULL, 0, 36000, NULL, NULL,
        "Seconds into the video file at the layer's start.", CK_ST_F64,
        OFF(ck_layer, media.source_start)),
    ROW("video", "loop", CK_PT_BOOL, false, 0, NULL, NOMIN, NOMAX, NULL, NULL,
        "Loop the video file when the layer outlasts it.", CK_ST_BOOL, OFF(ck_layer, media.loop)),

    /* ---- group layers ---- */
    ROW("group", "children", CK_PT_ARRAY, false, NODEF, NULL, NOMIN, NOMAX, NULL, "layer",
        "Layers inside the group, drawn in order, in the group's space.", CK_ST_NONE, 0),

    /* ---- keyframes ---- */
    ROW("keyframe", "t", CK_PT_NUMBER, true, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time after the layer's start, seconds.", CK_ST_F64, OFF(ck_keyframe, t)),
    ROW("keyframe", "v", CK_PT_NUMBER, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Value at that time.", CK_ST_F32, OFF(ck_keyframe, v)),
    ROW("keyframe", "ease", CK_PT_EASE, false, NODEF, "linear", NOMIN, NOMAX,
        "linear|ease-in|ease-out|ease-in-out|hold|cubic-bezier(x1, y1, x2, y2)", NULL,
        "Easing from this keyframe to the next.", CK_ST_NONE, 0),

    /* ---- interactive cues ---- */
    ROW("cue", "id", CK_PT_ID, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Cue id, unique in the scene (analytics count opens and clicks per id).", CK_ST_STR,
        OFF(ck_cue, id)),
    ROW("cue", "type", CK_PT_ENUM, true, NODEF, NULL, NOMIN, NOMAX, "popup|button|chapter", NULL,
        "Kind of cue.", CK_ST_ENUM, OFF(ck_cue, kind)),
    ROW("cue", "start", CK_PT_NUMBER, true, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the cue appears, seconds.", CK_ST_F64, OFF(ck_cue, start)),
    ROW("cue", "end", CK_PT_NUMBER, false, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the cue disappears, seconds (popup, button; default: the end of the video).",
        CK_ST_NONE, 0),
    ROW("cue", "title", CK_PT_TEMPLATE, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "popup, chapter: title (template).", CK_ST_SRC, OFF(ck_cue, title)),
    ROW("cue", "body", CK_PT_TEMPLATE, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "popup: body text (template).", CK_ST_SRC, OFF(ck_cue, body)),
    ROW("cue", "label", CK_PT_TEMPLATE, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "button: label (template).", CK_ST_SRC, OFF(ck_cue, label)),
    ROW("cue", "url", CK_PT_URL, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "button: https address of the online service.", CK_ST_STR, OFF(ck_cue, url)),
    ROW("cue", "when", CK_PT_CONDITION, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Condition over the record; the cue is offered only when it holds.", CK_ST_SRC,
        OFF(ck_cue, when)),

    /* ---- captions ---- */
    ROW("caption", "start", CK_PT_NUMBER, true, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the caption appears, seconds.", CK_ST_F64, OFF(ck_caption, start)),
    ROW("caption", "end", CK_PT_NUMBER, true, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the caption disappears, seconds.", CK_ST_F64, OFF(ck_caption, end)),
    ROW("caption", "text", CK_PT_TEMPLATE, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Caption text (template).", CK_ST_SRC, OFF(ck_caption, text)),

    /* ---- speech ---- */
    ROW("speech", "voice", CK_PT_STRING, false, NODEF, "it", NOMIN, NOMAX, NULL, NULL,
        "Synthesiser voice (espeak-ng name, e.g. \"it\"); `ciak check` fails when it is not "
        "installed.",
        CK_ST_STR, OFF(ck_scene, speech_voice)),
    ROW("speech", "rate", CK_PT_INTEGER, false, 160, NULL, 80, 450, NULL, NULL,
        "Speaking rate, words per minute.", CK_ST_I32, OFF(ck_scene, speech_rate)),
    ROW("speech", "lines", CK_PT_ARRAY, true, NODEF, NULL, NOMIN, NOMAX, NULL, "speech_line",
        "Lines in time order; each has until the next line's start (or the end) to be said.",
        CK_ST_NONE, 0),
    ROW("speech_line", "start", CK_PT_NUMBER, true, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the voice starts the line, seconds.", CK_ST_F64, OFF(ck_speech_line, start)),
    ROW("speech_line", "end", CK_PT_NUMBER, false, NODEF, NULL, 0, 36000, NULL, NULL,
        "Time the line must be said by, seconds (default: the next line's start, or the end; "
        "set it to fit a pause of the audio bed).",
        CK_ST_NONE, 0),
    ROW("speech_line", "text", CK_PT_TEMPLATE, true, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "What is said (template; filters give spoken forms: {{amount|euro}} -> \"538 euro e "
        "69 centesimi\").",
        CK_ST_SRC, OFF(ck_speech_line, text)),
    ROW("speech_line", "when", CK_PT_CONDITION, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Condition over the record; the line is said only when it holds.", CK_ST_SRC,
        OFF(ck_speech_line, when)),

    /* ---- availability ---- */
    ROW("availability", "days_after", CK_PT_INTEGER, false, NODEF, NULL, 1, 3660, NULL, NULL,
        "Links stay valid this many days after the date in `field`.", CK_ST_I32,
        OFF(ck_availability, days)),
    ROW("availability", "field", CK_PT_STRING, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Name of a date field (with days_after).", CK_ST_NONE, 0),
    ROW("availability", "until", CK_PT_DATE, false, NODEF, NULL, NOMIN, NOMAX, NULL, NULL,
        "Links stay valid until this day, included (YYYY-MM-DD).", CK_ST_NONE, 0),
};

const ck_prop_desc *ck_scene_props(size_t *count)
{
    *count = CK_ARRAY_LEN(props);
    return props;
}

const ck_prop_desc *scene_props_find(const char *obj, const char *name)
{
    for (size_t i = 0; i < CK_ARRAY_LEN(props); i++)
        if (strcmp(props[i].obj, obj) == 0 && strcmp(props[i].name, name) == 0)
            return &props[i];
    return NULL;
}

int scene_enum_index(const char *list, const char *value)
{
    size_t vlen = strlen(value);
    int idx = 0;
    for (const char *p = list; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vlen && strncmp(p, value, n) == 0)
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

bool scene_parse_color(const char *s, ck_color *c)
{
    size_t n = strlen(s);
    if (s[0] != '#' || (n != 7 && n != 9))
        return false;
    float v[4] = {0, 0, 0, 1};
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        int hi = ck_hex_digit((unsigned char)s[1 + 2 * i]),
            lo = ck_hex_digit((unsigned char)s[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        v[i] = (float)(hi * 16 + lo) / 255.0f;
    }
    *c = (ck_color){v[0], v[1], v[2], v[3]};
    return true;
}

/* ---- JSON Schema ---- */

/* The objects of the format, in the order the docs list them. */
static const char *const objects[] = {"scene",       "canvas",      "segments", "field",   "asset",
                                      "layer",       "text",        "shape",    "image",   "video",
                                      "group",       "keyframe",    "cue",      "caption", "speech",
                                      "speech_line", "availability"};
static const char *const layer_types[] = {"text", "shape", "image", "video", "group"};

static bool is_layer_part(const char *obj)
{
    for (size_t i = 0; i < CK_ARRAY_LEN(layer_types); i++)
        if (strcmp(obj, layer_types[i]) == 0)
            return true;
    return false;
}

static json_t *enum_array(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        if (!bar)
            break;
        p = bar + 1;
    }
    return a;
}

static json_t *ref_to(const char *obj)
{
    char buf[96];
    snprintf(buf, sizeof buf, "#/$defs/%s", obj);
    return json_pack("{s:s}", "$ref", buf);
}

static json_t *prop_schema(const ck_prop_desc *p)
{
    json_t *s = json_object();
    bool ranged = p->min <= p->max;
    switch (p->type) {
    case CK_PT_NUMBER:
    case CK_PT_INTEGER:
        json_object_set_new(s, "type", json_string(p->type == CK_PT_NUMBER ? "number" : "integer"));
        if (ranged) {
            json_object_set_new(s, "minimum", json_real(p->min));
            json_object_set_new(s, "maximum", json_real(p->max));
        }
        break;
    case CK_PT_BOOL:
        json_object_set_new(s, "type", json_string("boolean"));
        break;
    case CK_PT_ID:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "pattern", json_string("^[a-z0-9][a-z0-9_-]*$"));
        break;
    case CK_PT_COLOR:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "pattern", json_string("^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"));
        break;
    case CK_PT_ENUM:
        json_object_set_new(s, "enum", enum_array(p->enum_values));
        break;
    case CK_PT_DATE:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "pattern", json_string("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"));
        break;
    case CK_PT_URL:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "pattern", json_string("^https://"));
        break;
    case CK_PT_EASE:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(
            s, "pattern",
            json_string("^(linear|ease-in|ease-out|ease-in-out|hold|cubic-bezier\\(.*\\))$"));
        break;
    case CK_PT_ANIM:
        json_object_set_new(s, "oneOf",
                            json_pack("[{s:s, s:f, s:f}, {s:s, s:o, s:i}]", "type", "number",
                                      "minimum", p->min, "maximum", p->max, "type", "array",
                                      "items", ref_to("keyframe"), "minItems", 1));
        break;
    case CK_PT_OBJECT:
        if (strcmp(p->item, "field") == 0 || strcmp(p->item, "asset") == 0)
            json_object_set_new(s, "type", json_string("object")),
                json_object_set_new(s, "additionalProperties", ref_to(p->item));
        else
            json_decref(s), s = ref_to(p->item);
        break;
    case CK_PT_ARRAY:
        json_object_set_new(s, "type", json_string("array"));
        if (strcmp(p->item, "number") == 0)
            json_object_set_new(s, "items", json_pack("{s:s}", "type", "number"));
        else if (strcmp(p->item, "string") == 0)
            /* field values: an array of strings or an object value -> label */
            json_decref(s), s = json_pack("{s:[{s:s,s:{s:s}},{s:s,s:{s:s}}]}", "oneOf", "type",
                                          "array", "items", "type", "string", "type", "object",
                                          "additionalProperties", "type", "string");
        else
            json_object_set_new(s, "items", ref_to(p->item));
        break;
    default: /* strings, templates, conditions, asset ids */
        json_object_set_new(s, "type", json_string("string"));
        break;
    }
    if (json_is_object(s) && !json_object_get(s, "$ref")) {
        json_object_set_new(s, "description", json_string(p->doc));
        if (p->def_str)
            json_object_set_new(s, "default", json_string(p->def_str));
        else if (!isnan(p->def) && p->type == CK_PT_BOOL)
            json_object_set_new(s, "default", json_boolean(p->def != 0));
        else if (!isnan(p->def) && p->type != CK_PT_OBJECT && p->type != CK_PT_ARRAY)
            json_object_set_new(s, "default", json_real(p->def));
    }
    return s;
}

static void add_rows(json_t *properties, json_t *required, const char *obj)
{
    for (size_t i = 0; i < CK_ARRAY_LEN(props); i++) {
        if (strcmp(props[i].obj, obj) != 0)
            continue;
        json_object_set_new(properties, props[i].name, prop_schema(&props[i]));
        if (required && props[i].required)
            json_array_append_new(required, json_string(props[i].name));
    }
}

char *ck_scene_schema_json(void)
{
    json_t *defs = json_object();
    for (size_t o = 0; o < CK_ARRAY_LEN(objects); o++) {
        const char *obj = objects[o];
        if (is_layer_part(obj))
            continue; /* folded into "layer" below */
        json_t *def = json_object(), *properties = json_object(), *required = json_array();
        json_object_set_new(def, "type", json_string("object"));
        add_rows(properties, required, obj);
        if (strcmp(obj, "layer") == 0) {
            /* A layer accepts the common rows plus its type's rows. */
            json_t *all_of = json_array();
            for (size_t t = 0; t < CK_ARRAY_LEN(layer_types); t++) {
                json_t *req = json_array();
                add_rows(properties, req, layer_types[t]);
                json_t *rule = json_pack("{s:{s:{s:{s:s}}}, s:{s:o}}", "if", "properties", "type",
                                         "const", layer_types[t], "then", "required", req);
                json_array_append_new(all_of, rule);
            }
            json_object_set_new(def, "allOf", all_of);
        }
        json_object_set_new(def, "properties", properties);
        if (json_array_size(required))
            json_object_set_new(def, "required", required);
        else
            json_decref(required);
        json_object_set_new(def, "additionalProperties", json_false());
        json_object_set_new(defs, obj, def);
    }
    json_t *scene = json_object_get(defs, "scene");
    json_t *root =
        json_pack("{s:s, s:s, s:s}", "$schema", "https://json-schema.org/draft/2020-12/schema",
                  "$id", "https://ciak.example/scene.schema.json", "title", "ciak scene format v1");
    json_object_update(root, scene);
    json_object_del(defs, "scene");
    json_object_set_new(root, "$defs", defs);
    char *out = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (!out)
        return NULL;
    /* json_dumps has no trailing newline; files in the repo end with one. */
    size_t n = strlen(out);
    char *withnl = realloc(out, n + 2);
    if (!withnl) {
        free(out);
        return NULL;
    }
    withnl[n] = '\n';
    withnl[n + 1] = 0;
    return withnl;
}

/* ---- Markdown ---- */

static const char *type_name(const ck_prop_desc *p)
{
    switch (p->type) {
    case CK_PT_NUMBER:
        return "number";
    case CK_PT_INTEGER:
        return "integer";
    case CK_PT_BOOL:
        return "boolean";
    case CK_PT_STRING:
        return "string";
    case CK_PT_ID:
        return "id";
    case CK_PT_COLOR:
        return "colour";
    case CK_PT_ENUM:
        return "enum";
    case CK_PT_TEMPLATE:
        return "template";
    case CK_PT_CONDITION:
        return "condition";
    case CK_PT_ASSET:
        return "asset id";
    case CK_PT_DATE:
        return "date";
    case CK_PT_URL:
        return "URL";
    case CK_PT_ANIM:
        return "number or keyframes";
    case CK_PT_EASE:
        return "easing";
    case CK_PT_OBJECT:
        return "object";
    case CK_PT_ARRAY:
        return "array";
    }
    return "?";
}

char *ck_scene_props_markdown(void)
{
    ck_strbuf b = {0};
    for (size_t o = 0; o < CK_ARRAY_LEN(objects); o++) {
        const char *obj = objects[o];
        ck_strbuf_printf(&b, "\n### `%s`%s\n\n", obj, is_layer_part(obj) ? " layers" : "");
        ck_strbuf_printf(&b, "| property | type | required | default | range / values | "
                             "description |\n|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < CK_ARRAY_LEN(props); i++) {
            const ck_prop_desc *p = &props[i];
            if (strcmp(p->obj, obj) != 0)
                continue;
            char def[64] = "", range[160] = "";
            if (p->def_str)
                snprintf(def, sizeof def, "`%s`", p->def_str);
            else if (!isnan(p->def) && p->type == CK_PT_BOOL)
                snprintf(def, sizeof def, "`%s`", p->def != 0 ? "true" : "false");
            else if (!isnan(p->def) && p->type != CK_PT_OBJECT && p->type != CK_PT_ARRAY)
                snprintf(def, sizeof def, "`%g`", p->def);
            if (p->enum_values) {
                size_t k = 0;
                for (const char *c = p->enum_values; *c && k + 8 < sizeof range; c++) {
                    if (*c == '|') {
                        memcpy(range + k, "`, `", 4);
                        k += 4;
                    } else {
                        range[k++] = *c;
                    }
                }
                range[k] = 0;
                memmove(range + 1, range, k + 1);
                range[0] = '`';
                range[k + 1] = '`';
                range[k + 2] = 0;
            } else if (p->min <= p->max) {
                snprintf(range, sizeof range, "%g – %g", p->min, p->max);
            }
            ck_strbuf_printf(&b, "| `%s` | %s%s%s | %s | %s | %s | %s |\n", p->name, type_name(p),
                             p->item ? " of " : "", p->item ? p->item : "",
                             p->required ? "yes" : "", def, range, p->doc);
        }
    }
    return ck_strbuf_take(&b);
}
