/* template_internal.h: helpers shared by the files of the template module (not public).
 *
 * - Italian formatting into a string builder (italian.c; ck_strbuf from engine/core), so
 *   templates render without temporaries. Fixed builders stop at a code point boundary when
 *   the caller's buffer is full (the ck_it_* "truncated to fit" contract).
 * - Field lookup, "did you mean" suggestions and message helpers (record.c), used by records,
 *   conditions and templates alike so their messages read the same.
 */
#ifndef CK_TEMPLATE_INTERNAL_H
#define CK_TEMPLATE_INTERNAL_H

#include "ck_template.h"

/* ---- Italian formatting into a builder (italian.c) ---- */
void tpl_it_date_sb(ck_strbuf *sb, int32_t days, bool weekday);
/* The index of an articled preposition that may precede a date ("il", "del", "dal", "al",
 * "nel", "sul"), or -1; and the date after it, elided where Italian elides ("dell'11"). */
int tpl_it_date_prep_find(const char *prep, size_t n);
void tpl_it_date_prep_sb(ck_strbuf *sb, int32_t days, int prep);
void tpl_it_money_sb(ck_strbuf *sb, int64_t cents);
void tpl_it_number_sb(ck_strbuf *sb, int64_t n);
void tpl_it_name_case_sb(ck_strbuf *sb, const char *s, size_t n);
/* Spoken forms (what a speech line says and its captions show; see ck_template.h). */
void tpl_it_words_sb(ck_strbuf *sb, int64_t n, int form);
void tpl_it_ordinal_sb(ck_strbuf *sb, int64_t n, bool feminine);
void tpl_it_number_spoken_sb(ck_strbuf *sb, int64_t n);
void tpl_it_money_spoken_sb(ck_strbuf *sb, int64_t cents);
void tpl_it_date_spoken_sb(ck_strbuf *sb, int32_t days, bool weekday);
void tpl_it_date_prep_spoken_sb(ck_strbuf *sb, int32_t days, int prep);
/* Whole-text case mapping over Latin letters (ASCII, Latin-1 Supplement, Latin Extended-A);
 * other code points pass through unchanged, malformed bytes become U+FFFD. */
void tpl_it_upper_sb(ck_strbuf *sb, const char *s, size_t n);
void tpl_it_lower_sb(ck_strbuf *sb, const char *s, size_t n);
int32_t tpl_cp_lower(int32_t cp);
int32_t tpl_cp_upper(int32_t cp);

/* ---- fields and messages (record.c) ---- */
/* Index of the field named s[0..n), or -1. */
int tpl_field_find(const ck_scene *scene, const char *s, size_t n);
/* The closest of `words` to s[0..n) when it is close enough to be a likely typo, or NULL. */
const char *tpl_suggest(const char *s, size_t n, const char *const *words, size_t count);
/* Same over the scene's field names. */
const char *tpl_suggest_field(const ck_scene *scene, const char *s, size_t n);
/* Index of the enum/set value s[0..n) of f: exact match first, then ASCII case-insensitive
 * (the canonical spelling is what gets stored). -1 if none. */
int tpl_value_find(const ck_field *f, const char *s, size_t n);
/* "F, M" (the field's values, shortened past a few hundred bytes) into buf. */
const char *tpl_values_list(const ck_field *f, char *buf, size_t size);
/* A value quoted for a message: "..." with control characters shown as '?', shortened to
 * 40 code points. */
const char *tpl_quote(const char *s, size_t n, char *buf, size_t size);
/* 1-based column (in code points) of byte offset `off` in src. */
int tpl_col(const char *src, size_t off);
/* "a string", "an enum", "money"... for sentences like "gender is an enum". */
const char *tpl_type_phrase(ck_field_type t);

#endif
