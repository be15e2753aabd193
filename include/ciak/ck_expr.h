/* ck_expr.h: `when` conditions, a small expression language over a record's fields.
 *
 *   gender == "F"                       equality (strings, enums, numbers, dates, booleans)
 *   gender != "M"
 *   benefits has "quattordicesima"      a set holds a value
 *   region in ["Lazio", "Molise"]       value is one of a list
 *   decision_date >= 2025-01-01         dates compare with date literals (no quotes)
 *   amount > 50000                      money in cents, integers
 *   is_married                          a boolean field alone
 *   not (a and b) or c                  `and`, `or`, `not`, parentheses
 *
 * Compiled once against a scene's fields: an unknown field, a value not in an enum/set, a
 * comparison between incompatible types, or a syntax error is a compile error with the
 * 1-based column inside the expression. Evaluation never fails. An absent optional value
 * makes every comparison on it false (and `!=` true).
 *
 * Ownership: compiled expressions live in the arena passed at compile time.
 * Thread safety: evaluation is read-only.
 */
#ifndef CK_EXPR_H
#define CK_EXPR_H

#include "ck_record.h"

typedef struct ck_expr ck_expr;

/* Compiles `src`. On error returns NULL and sets err (line 0, col = column in src). */
ck_expr *ck_expr_compile(const ck_scene *scene, const char *src, ck_arena *arena, ck_error *err);
bool ck_expr_eval(const ck_expr *e, const ck_record *rec);
/* Bit i set: the result depends on field i. */
uint64_t ck_expr_deps(const ck_expr *e);

#endif
