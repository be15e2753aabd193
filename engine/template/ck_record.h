/* ck_record.h: one person's data, validated against a scene's fields.
 *
 * A records file holds one record (a JSON object), many (a JSON array of objects), or CSV
 * with a header row (comma or semicolon separated, RFC 4180 quoting, UTF-8, optional BOM).
 * Every record has an `id` (the person's opaque identifier) plus the scene's fields.
 * Values are checked here, once, at load/import time: types, enum and set values, string
 * length, integer/money ranges, real calendar dates, required fields. Problems go to a
 * ck_diags as "file:line: field: message" (JSON: the line of the field's key, or of the
 * object for a problem of the whole record; CSV: the line of the row).
 *
 * Input formats per field type (JSON / CSV cell):
 *   string   JSON string / text
 *   enum     JSON string / text, one of the field's values
 *   date     "YYYY-MM-DD"
 *   money    integer euro cents (53869) or a decimal string ("538.69", "538,69", "1.234,56");
 *            digits alone, in JSON text or CSV, are cents too
 *   integer  JSON integer / digits
 *   boolean  true/false / "true", "false", "1", "0", "si", "sì", "no"
 *   set      JSON array of strings / values separated by '|' or ';' (empty cell = empty set)
 *
 * Empty text (and JSON null) means "absent": an error for a required field. An empty set
 * cell is the empty set. Unknown keys/columns are warnings, reported once per file.
 *
 * Ownership: a ck_records owns all its strings in its arena. Thread safety: immutable once
 * loaded.
 */
#ifndef CK_RECORD_H
#define CK_RECORD_H

#include "ck_scene.h"

/* A scene may declare at most this many fields (dependency sets are 64-bit masks). */
#define CK_MAX_FIELDS 64
/* Sets are bit masks over the field's values. */
#define CK_MAX_SET_VALUES 64

typedef struct ck_value {
    bool present;      /* false: the record has no value (optional field) */
    const char *str;   /* string and enum: the text (enum: the canonical value) */
    int64_t i;         /* integer; money in cents; date in days since 1970-01-01; boolean 0/1;
                          enum: index of the value */
    uint64_t set;      /* set: bit k = the field's value k is held */
} ck_value;

typedef struct ck_record {
    const char *id;
    ck_value *values;  /* scene->field_count entries, in field order */
    int line;          /* line in the source file (1-based), for messages */
} ck_record;

typedef struct ck_records {
    const char *file;
    ck_record *items;
    size_t count;
    ck_arena arena;
} ck_records;

/* Parses records for `scene` from a buffer (JSON or CSV, detected from the content).
 * Every problem goes to `diags`; records with errors are left out of the result, so the
 * returned set holds only valid records. Returns NULL only when the whole input is unusable
 * (not JSON/CSV, no header, ...), with the reason in diags. */
ck_records *ck_records_parse(const ck_scene *scene, const char *buf, size_t len,
                             const char *file, ck_diags *diags);
/* Reads `path` and parses it (limit 256 MiB). */
ck_records *ck_records_load(const ck_scene *scene, const char *path, ck_diags *diags);
void ck_records_destroy(ck_records **recs);

/* Index of the record with this id, or -1. */
long ck_records_find(const ck_records *recs, const char *id);

#endif
