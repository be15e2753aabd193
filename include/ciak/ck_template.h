/* ck_template.h: data binding. Templates with Italian formatting, and the binding of a whole
 * scene (every template and condition compiled once against the scene's fields).
 *
 * Template syntax: literal text with {{field}} or {{field|filter|filter...}} substitutions.
 *   {{first_name}}                      the value as is
 *   {{first_name|name}}                 name casing: "MARIA D'ANGELO" -> "Maria D'Angelo",
 *                                       "DE LUCA" -> "De Luca", "NICOLO'" -> "Nicolò"
 *   {{gender|F:Gentile signora|M:Gentile signore}}
 *                                       choice by value (enum, boolean true/false, or set
 *                                       member count 0/1/other via `plural`)
 *   {{payment_date|date}}               "1 aprile 2025"
 *   {{payment_date|weekday_date}}       "martedì 1 aprile 2025"
 *   {{amount|euro}}                     "1.234,56 €" (CLDR it-IT: dot thousands, comma
 *                                       decimals, non-breaking space, sign after)
 *   {{count|number}}                    "1.234"
 *   {{count|plural:rata:rate}}          "1 rata", "3 rate"
 *   {{benefits|list}}                   set as an Italian list of labels: "a, b e c"
 *   {{benefits|count}}                  number of values held
 *   {{x|upper}} {{x|lower}}
 *   {{{{ writes a literal "{{".
 * Unknown fields, unknown filters and filters that do not fit the field's type are compile
 * errors, never text on screen. Rendering a compiled template cannot fail.
 * Without a formatting filter a value renders in its natural Italian form: enum -> its label
 * (or value), date -> |date, money -> |euro, boolean -> "sì"/"no", set -> |list, integer ->
 * plain digits. An absent optional value renders as "" whatever the filters. A choice must
 * cover every enum value (or boolean true/false, also written si/no) or give a `*:` default;
 * choice texts are literal (spaces kept; no `|` or `}}` inside). engine/template/README.md
 * has the details.
 *
 * Ownership: compiled templates and rendered strings live in the arena passed in; a compiled
 * template refers to the scene it was compiled against, which must outlive it.
 * Thread safety: compile once, render from any thread with its own arena.
 */
#ifndef CK_TEMPLATE_H
#define CK_TEMPLATE_H

#include "ck_expr.h"

typedef struct ck_template ck_template;

/* Compiles `src`. On error returns NULL and sets err (line 0, col = column in src). */
ck_template *ck_template_compile(const ck_scene *scene, const char *src, ck_arena *arena,
                                 ck_error *err);
/* Same, for a speech line: the same filters say their spoken forms (|euro "538 euro e 69
 * centesimi", |date and |weekday_date "sabato primo marzo 2025", |number without the
 * thousands dot, |plural "una rata"), and |upper, |lower are errors (a voice has no case). */
ck_template *ck_template_compile_speech(const ck_scene *scene, const char *src, ck_arena *arena,
                                        ck_error *err);
/* Renders for one record into a NUL-terminated string allocated in `arena`. */
const char *ck_template_render(const ck_template *t, const ck_record *rec, ck_arena *arena);
/* Bit i set: the output depends on field i. 0: the same text for everybody. */
uint64_t ck_template_deps(const ck_template *t);

/* ---- Italian formatting (public for tests and the server) ---- */
/* Each writes a NUL-terminated string into buf and returns its length (truncated to fit). */
size_t ck_it_date(char *buf, size_t size, int32_t days);         /* "1 aprile 2025" */
size_t ck_it_weekday_date(char *buf, size_t size, int32_t days); /* "martedì 1 aprile 2025" */
/* The date after an articled preposition ("il", "del", "dal", "al", "nel", "sul"), elided
 * before 1, 8 and 11: "dell'11 dicembre 2025", "del 12 dicembre 2025". Empty for another
 * preposition. */
size_t ck_it_date_prep(char *buf, size_t size, const char *prep, int32_t days);
size_t ck_it_money(char *buf, size_t size, int64_t cents); /* "1.234,56 €" */
size_t ck_it_number(char *buf, size_t size, int64_t n);    /* "1.234" */
size_t ck_it_name_case(char *buf, size_t size, const char *name);

/* ---- spoken forms: what a speech line says (and its captions show) ----
 * Digits stay digits where a synthesiser reads them right ("538 euro e 69 centesimi"), with
 * no thousands dot; words where Italian changes the word: "un euro", "un centesimo", "mille
 * euro", "duemila euro", "un milione di euro", "sabato primo marzo 2025", "dell'otto marzo".
 * 0 cents are not said; a negative amount starts with "meno". */
enum { CK_IT_ALONE, CK_IT_MASC, CK_IT_FEM }; /* what follows a number: nothing, a noun */
/* Cardinal in words: "duemilacinquecentotrentotto"; form MASC/FEM agrees a final uno with a
 * noun after it: "ventun", "ventuna". */
size_t ck_it_words(char *buf, size_t size, int64_t n, int form);
/* "primo", "terza", "undicesimo", "ventitreesimo", "millesimo". */
size_t ck_it_ordinal(char *buf, size_t size, int64_t n, bool feminine);
size_t ck_it_money_spoken(char *buf, size_t size, int64_t cents);
size_t ck_it_date_spoken(char *buf, size_t size, int32_t days, bool weekday);
/* "del primo marzo 2025", "dell'otto marzo 2025", "al 3 marzo 2025". */
size_t ck_it_date_prep_spoken(char *buf, size_t size, const char *prep, int32_t days);

/* ---- the binding of a scene ---- */
typedef struct ck_binding {
    const ck_scene *scene;
    /* Per layer (scene->layer_count entries). */
    ck_template **layer_text; /* text layers: the compiled text; NULL otherwise */
    ck_expr **layer_when;     /* NULL: always shown */
    uint64_t *layer_deps;     /* fields that decide what the layer draws: its text, its own
                                 `when`, and its ancestors' `when` */
    /* Per cue. */
    ck_template **cue_title, **cue_body, **cue_label;
    ck_expr **cue_when;
    /* Per caption. */
    ck_template **caption_text;
    /* Per speech line (scene->speech_line_count): the text compiled in speech mode (spoken
     * forms), its `when`, and the fields that decide what is said (text and when). */
    ck_template **speech_text;
    ck_expr **speech_when;
    uint64_t *speech_deps;
    ck_arena arena;
} ck_binding;

/* Compiles every template and condition of the scene. Errors go to diags with the scene
 * file's line and column of the offending character. NULL when any fails. */
ck_binding *ck_binding_create(const ck_scene *scene, ck_diags *diags);
void ck_binding_destroy(ck_binding **b);

#endif
