/* expr.c: `when` conditions. A hand-written lexer and recursive-descent parser turn the
 * source into a small tree, type-checked against the scene's fields while parsing so that
 * every mistake is reported at compile time with its column; evaluation is then a plain
 * tree walk that cannot fail.
 *
 * Grammar (lowest precedence first):
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | primary
 *   primary := "(" or ")" | "true" | "false"
 *            | FIELD                           (boolean fields)
 *            | FIELD ("=="|"!="|"<"|"<="|">"|">=") literal
 *            | FIELD "has" STRING              (set fields)
 *            | FIELD "in" "[" literal ("," literal)* "]"
 *   literal := STRING | NUMBER | DATE | "true" | "false"
 */
#include "template_internal.h"

#include <stdio.h>
#include <string.h>

/* Nesting of parentheses and `not`: deep enough for any real condition, shallow enough that
 * the recursion cannot exhaust the stack on hostile input. */
#define MAX_DEPTH 64

typedef enum tok_kind {
    T_END,
    T_IDENT,
    T_STRING,
    T_NUMBER,
    T_DATE,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NOT,
    T_HAS,
    T_IN,
    T_TRUE,
    T_FALSE,
} tok_kind;

typedef struct token {
    tok_kind kind;
    size_t off, len; /* where in the source */
    int64_t num;     /* T_NUMBER; T_DATE: days */
    const char *str; /* T_STRING: the unescaped text (arena) */
    size_t str_len;
} token;

typedef enum node_kind { E_CONST, E_BOOL, E_AND, E_OR, E_NOT, E_CMP, E_HAS, E_IN } node_kind;

struct ck_expr {
    node_kind kind;
    int field;
    tok_kind op;          /* E_CMP */
    int64_t v;            /* E_CMP: number, days, enum index, 0/1; E_HAS: bit; E_CONST: 0/1 */
    const char *s;        /* E_CMP on string fields */
    const ck_expr *a, *b; /* operands */
    int n;                /* E_IN */
    int64_t *ivals;
    const char **svals;
    uint64_t deps;
};

typedef struct parser {
    const ck_scene *scene;
    const char *src;
    size_t len, pos;
    token tok;
    ck_arena *arena;
    ck_error *err;
    bool failed;
    int depth;
} parser;

static void vfail(parser *p, size_t off, const char *fmt, va_list ap)
{
    if (p->failed)
        return; /* the first error is the one worth reading */
    p->failed = true;
    if (p->err) {
        char msg[sizeof p->err->msg];
        vsnprintf(msg, sizeof msg, fmt, ap);
        ck_error_set(p->err, CK_ERR_PARSE, "", 0, tpl_col(p->src, off), "%s", msg);
    }
}

/* Records a compile error at byte offset `off`; returns NULL (fail) or false (fail_false) so
 * parse functions can report and return in one statement. */
static void *fail(parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail(parser *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, off, fmt, ap);
    va_end(ap);
    return NULL;
}

static bool fail_false(parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_false(parser *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, off, fmt, ap);
    va_end(ap);
    return false;
}

static const char *tok_text(parser *p, const token *t, char *buf, size_t size)
{
    if (t->kind == T_END)
        return "the end of the condition";
    return tpl_quote(p->src + t->off, t->len, buf, size);
}

/* ---- lexer ---- */

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool lex_word(parser *p, size_t start)
{
    static const struct {
        const char *word;
        tok_kind kind;
    } keywords[] = {
        {"and", T_AND}, {"or", T_OR},     {"not", T_NOT},     {"has", T_HAS},
        {"in", T_IN},   {"true", T_TRUE}, {"false", T_FALSE},
    };
    const char *s = p->src;
    size_t i = start;
    while (i < p->len && is_ident_char(s[i]))
        i++;
    if (i < p->len && (unsigned char)s[i] >= 0x80) {
        /* "caffè": say so at the accented letter, not "unknown field caff". */
        const char *q = s + i;
        int32_t cp = ck_utf8_next(&q, s + p->len);
        fail(p, i, "unexpected character U+%04X (field names use ASCII letters, digits and _)",
             (unsigned)cp);
        return false;
    }
    p->tok = (token){.kind = T_IDENT, .off = start, .len = i - start};
    for (size_t k = 0; k < CK_ARRAY_LEN(keywords); k++)
        if (strlen(keywords[k].word) == i - start &&
            memcmp(keywords[k].word, s + start, i - start) == 0)
            p->tok.kind = keywords[k].kind;
    p->pos = i;
    return true;
}

static bool lex_number(parser *p, size_t start)
{
    const char *s = p->src;
    size_t i = start;
    bool neg = s[i] == '-';
    if (neg)
        i++;
    size_t digits_start = i;
    while (i < p->len && is_digit(s[i]))
        i++;
    /* YYYY-MM-DD, unquoted. */
    if (!neg && i - digits_start == 4 && i + 1 < p->len && s[i] == '-' && is_digit(s[i + 1])) {
        size_t j = start;
        while (j < p->len && (is_digit(s[j]) || s[j] == '-'))
            j++;
        char d[16];
        int32_t days;
        if (j - start != 10) {
            fail(p, start, "%.*s is not a date in the form YYYY-MM-DD", (int)(j - start),
                 s + start);
            return false;
        }
        memcpy(d, s + start, 10);
        d[10] = 0;
        if (!ck_parse_date(d, &days)) {
            fail(p, start, "%s is not a real date (YYYY-MM-DD)", d);
            return false;
        }
        p->tok = (token){.kind = T_DATE, .off = start, .len = 10, .num = days};
        p->pos = j;
        return true;
    }
    if (i < p->len && (s[i] == '.' || s[i] == ',') && i + 1 < p->len && is_digit(s[i + 1])) {
        fail(p, start,
             "numbers are whole: money is compared in cents (50000 for 500,00 \xE2\x82\xAC)");
        return false;
    }
    if (i < p->len && is_ident_start(s[i])) {
        fail(p, start, "a number cannot run into letters here");
        return false;
    }
    if (i - digits_start > 18) {
        fail(p, start, "number too large");
        return false;
    }
    int64_t v = 0;
    for (size_t k = digits_start; k < i; k++)
        v = v * 10 + (s[k] - '0');
    p->tok = (token){.kind = T_NUMBER, .off = start, .len = i - start, .num = neg ? -v : v};
    p->pos = i;
    return true;
}

static bool lex_string(parser *p, size_t start)
{
    const char *s = p->src;
    size_t i = start + 1;
    char *out = ck_arena_alloc(p->arena, p->len - start);
    if (!out) {
        fail(p, start, "out of memory");
        return false;
    }
    size_t n = 0;
    for (;;) {
        if (i >= p->len) {
            fail(p, start, "unterminated string (missing closing '\"')");
            return false;
        }
        char c = s[i++];
        if (c == '"')
            break;
        if (c == '\\' && i < p->len && (s[i] == '"' || s[i] == '\\'))
            c = s[i++];
        out[n++] = c;
    }
    out[n] = 0;
    p->tok = (token){.kind = T_STRING, .off = start, .len = i - start, .str = out, .str_len = n};
    p->pos = i;
    return true;
}

/* Reads the next token into p->tok; false (with the error set) on a bad character. */
static bool next(parser *p)
{
    const char *s = p->src;
    size_t i = p->pos;
    while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    if (i >= p->len) {
        p->tok = (token){.kind = T_END, .off = i};
        p->pos = i;
        return true;
    }
    char c = s[i];
    char c1 = i + 1 < p->len ? s[i + 1] : 0;
    if (is_ident_start(c))
        return lex_word(p, i);
    if (is_digit(c) || (c == '-' && is_digit(c1)))
        return lex_number(p, i);
    if (c == '"')
        return lex_string(p, i);
    static const struct {
        const char *op;
        tok_kind kind;
    } ops[] = {
        {"==", T_EQ},    {"!=", T_NE},    {"<=", T_LE},    {">=", T_GE},
        {"<", T_LT},     {">", T_GT},     {"(", T_LPAREN}, {")", T_RPAREN},
        {"[", T_LBRACK}, {"]", T_RBRACK}, {",", T_COMMA},
    };
    for (size_t k = 0; k < CK_ARRAY_LEN(ops); k++) {
        size_t n = strlen(ops[k].op);
        if (i + n <= p->len && memcmp(s + i, ops[k].op, n) == 0) {
            p->tok = (token){.kind = ops[k].kind, .off = i, .len = n};
            p->pos = i + n;
            return true;
        }
    }
    /* Habits from other languages get a pointed message rather than "unexpected '&'". */
    if (c == '&' && c1 == '&')
        return fail_false(p, i, "write \"and\" instead of \"&&\"");
    if (c == '|' && c1 == '|')
        return fail_false(p, i, "write \"or\" instead of \"||\"");
    if (c == '!')
        return fail_false(p, i, "write \"not\" instead of \"!\"");
    if (c == '=')
        return fail_false(p, i, "write \"==\" to compare");
    if (c == '\'')
        return fail_false(p, i, "text values take double quotes: \"...\"");
    const char *q = s + i;
    int32_t cp = ck_utf8_next(&q, s + p->len);
    if (cp == 0x201C || cp == 0x201D)
        return fail_false(p, i, "use straight double quotes \"...\", not typographic ones");
    if (cp < 0)
        return fail_false(p, i, "not valid UTF-8");
    if (cp >= 0x20 && cp < 0x7F)
        return fail_false(p, i, "unexpected character '%c'", (char)cp);
    return fail_false(p, i, "unexpected character U+%04X", (unsigned)cp);
}

/* ---- parser ---- */

static ck_expr *node(parser *p, node_kind kind)
{
    ck_expr *e = ck_arena_alloc(p->arena, sizeof *e);
    if (!e)
        return fail(p, p->tok.off, "out of memory");
    e->kind = kind;
    return e;
}

static ck_expr *parse_or(parser *p);

static bool is_cmp(tok_kind k)
{
    return k == T_EQ || k == T_NE || k == T_LT || k == T_LE || k == T_GT || k == T_GE;
}

/* Checks literal token t against field f and returns its value: a number (money, integer),
 * days (date), index (enum), 0/1 (boolean), or the text (string fields) in *sv. */
static bool literal(parser *p, const ck_field *f, const token *t, int64_t *iv, const char **sv)
{
    char list[256], q[128];
    const char *name = f->name;
    switch (f->type) {
    case CK_FIELD_STRING:
    case CK_FIELD_ENUM:
        if (t->kind == T_IDENT)
            return fail_false(p, t->off, "text values take double quotes: \"%.*s\"", (int)t->len,
                              p->src + t->off);
        if (t->kind != T_STRING)
            return fail_false(p, t->off, "%s is %s: compare it with text in double quotes, not %s",
                              name, tpl_type_phrase(f->type), tok_text(p, t, q, sizeof q));
        if (f->type == CK_FIELD_STRING) {
            *sv = t->str;
            return true;
        }
        *iv = tpl_value_find(f, t->str, t->str_len);
        if (*iv < 0)
            return fail_false(p, t->off, "%s is not a value of enum field %s (%s)",
                              tpl_quote(t->str, t->str_len, q, sizeof q), name,
                              tpl_values_list(f, list, sizeof list));
        return true;
    case CK_FIELD_DATE:
        if (t->kind == T_STRING) {
            int32_t d;
            if (t->str_len == 10 && ck_parse_date(t->str, &d))
                return fail_false(p, t->off, "write dates without quotes: %s", t->str);
        }
        if (t->kind != T_DATE)
            return fail_false(p, t->off,
                              "%s is a date: compare it with a date like 2025-01-31, not %s", name,
                              tok_text(p, t, q, sizeof q));
        *iv = t->num;
        return true;
    case CK_FIELD_MONEY:
    case CK_FIELD_INTEGER:
        if (t->kind != T_NUMBER)
            return fail_false(
                p, t->off, "%s is %s: compare it with a number%s, not %s", name,
                tpl_type_phrase(f->type),
                f->type == CK_FIELD_MONEY ? " of cents (50000 for 500,00 \xE2\x82\xAC)" : "",
                tok_text(p, t, q, sizeof q));
        *iv = t->num;
        return true;
    case CK_FIELD_BOOLEAN:
        if (t->kind != T_TRUE && t->kind != T_FALSE)
            return fail_false(p, t->off, "%s is a boolean: compare it with true or false, not %s",
                              name, tok_text(p, t, q, sizeof q));
        *iv = t->kind == T_TRUE;
        return true;
    default:
        return fail_false(p, t->off, "%s is %s: it cannot be compared with a value", name,
                          tpl_type_phrase(f->type));
    }
}

/* FIELD followed by an operator, or alone (boolean). p->tok is the field. */
static ck_expr *parse_field(parser *p)
{
    char q[128], list[256];
    token ft = p->tok;
    int fi = tpl_field_find(p->scene, p->src + ft.off, ft.len);
    if (fi < 0) {
        const char *hint = tpl_suggest_field(p->scene, p->src + ft.off, ft.len);
        static const char *const words[] = {"and", "or", "not", "has", "in", "true", "false"};
        const char *kw = tpl_suggest(p->src + ft.off, ft.len, words, CK_ARRAY_LEN(words));
        bool kw_case = kw && strlen(kw) == ft.len;
        for (size_t k = 0; kw_case && k < ft.len; k++)
            kw_case = (p->src[ft.off + k] | 0x20) == kw[k];
        if (hint)
            return fail(p, ft.off, "unknown field \"%.*s\" (did you mean \"%s\"?)", (int)ft.len,
                        p->src + ft.off, hint);
        if (kw_case)
            return fail(p, ft.off, "unknown field \"%.*s\" (keywords are lower case: \"%s\")",
                        (int)ft.len, p->src + ft.off, kw);
        return fail(p, ft.off, "unknown field \"%.*s\"", (int)ft.len, p->src + ft.off);
    }
    const ck_field *f = &p->scene->fields[fi];
    if (!next(p))
        return NULL;
    token op = p->tok;
    ck_expr *e;
    if (is_cmp(op.kind)) {
        if (f->type == CK_FIELD_SET)
            return fail(p, op.off, "%s is a set: test it with has (%s has \"...\")", f->name,
                        f->name);
        bool ordered =
            f->type == CK_FIELD_DATE || f->type == CK_FIELD_MONEY || f->type == CK_FIELD_INTEGER;
        if (!ordered && op.kind != T_EQ && op.kind != T_NE)
            return fail(p, op.off, "%s does not work on %s field %s (use == or !=)",
                        tok_text(p, &op, q, sizeof q), ck_field_type_str(f->type), f->name);
        if (!next(p))
            return NULL;
        if (!(e = node(p, E_CMP)))
            return NULL;
        e->op = op.kind;
        if (p->tok.kind == T_END)
            return fail(p, p->tok.off, "expected a value after %s", tok_text(p, &op, q, sizeof q));
        if (!literal(p, f, &p->tok, &e->v, &e->s))
            return NULL;
        if (!next(p))
            return NULL;
    } else if (op.kind == T_HAS) {
        if (f->type != CK_FIELD_SET)
            return fail(p, op.off, "\"has\" works on set fields; %s is %s (use == or in)", f->name,
                        tpl_type_phrase(f->type));
        if (!next(p))
            return NULL;
        token v = p->tok;
        if (v.kind != T_STRING)
            return fail(p, v.off, "expected a value in double quotes after \"has\", not %s",
                        tok_text(p, &v, q, sizeof q));
        int k = tpl_value_find(f, v.str, v.str_len);
        if (k < 0)
            return fail(p, v.off, "%s is not a value of set field %s (%s)",
                        tpl_quote(v.str, v.str_len, q, sizeof q), f->name,
                        tpl_values_list(f, list, sizeof list));
        if (!(e = node(p, E_HAS)))
            return NULL;
        e->v = k;
        if (!next(p))
            return NULL;
    } else if (op.kind == T_IN) {
        if (f->type == CK_FIELD_SET)
            return fail(p, op.off, "%s is a set: test it with has (%s has \"...\")", f->name,
                        f->name);
        if (!next(p))
            return NULL;
        if (p->tok.kind != T_LBRACK)
            return fail(p, p->tok.off, "expected '[' after \"in\" (%s in [\"a\", \"b\"])", f->name);
        if (!(e = node(p, E_IN)))
            return NULL;
        /* At most one value per remaining byte: a bound for the arrays without a second pass. */
        size_t cap = (p->len - p->pos) / 2 + 1;
        e->ivals = ck_arena_alloc(p->arena, cap * sizeof *e->ivals);
        e->svals = ck_arena_alloc(p->arena, cap * sizeof *e->svals);
        if (!e->ivals || !e->svals)
            return fail(p, op.off, "out of memory");
        for (;;) {
            if (!next(p))
                return NULL;
            if (p->tok.kind == T_RBRACK && e->n == 0)
                return fail(p, p->tok.off, "the list after \"in\" is empty");
            if (p->tok.kind == T_END)
                return fail(p, p->tok.off, "expected a value, then ']'");
            if ((size_t)e->n == cap)
                return fail(p, p->tok.off, "too many values");
            if (!literal(p, f, &p->tok, &e->ivals[e->n], &e->svals[e->n]))
                return NULL;
            e->n++;
            if (!next(p))
                return NULL;
            if (p->tok.kind == T_RBRACK)
                break;
            if (p->tok.kind != T_COMMA)
                return fail(p, p->tok.off, "expected ',' or ']' in the list, not %s",
                            tok_text(p, &p->tok, q, sizeof q));
        }
        if (!next(p))
            return NULL;
    } else {
        if (f->type != CK_FIELD_BOOLEAN) {
            static const char *const example[] = {
                [CK_FIELD_STRING] = "== \"...\"",  [CK_FIELD_ENUM] = "== \"...\"",
                [CK_FIELD_DATE] = ">= 2025-01-01", [CK_FIELD_MONEY] = "> 0",
                [CK_FIELD_INTEGER] = "> 0",
            };
            if (f->type == CK_FIELD_SET)
                return fail(p, ft.off,
                            "%s is a set, not a boolean: test it with has (%s has "
                            "\"...\")",
                            f->name, f->name);
            return fail(p, ft.off, "%s is %s, not a boolean: compare it (%s %s)", f->name,
                        tpl_type_phrase(f->type), f->name,
                        (unsigned)f->type < CK_ARRAY_LEN(example) && example[f->type]
                            ? example[f->type]
                            : "== ...");
        }
        if (!(e = node(p, E_BOOL)))
            return NULL;
    }
    e->field = fi;
    e->deps = (uint64_t)1 << fi;
    return e;
}

static ck_expr *parse_primary(parser *p)
{
    char q[128];
    token t = p->tok;
    switch (t.kind) {
    case T_LPAREN: {
        if (++p->depth > MAX_DEPTH)
            return fail(p, t.off, "condition nested too deeply");
        if (!next(p))
            return NULL;
        ck_expr *e = parse_or(p);
        if (!e)
            return NULL;
        if (p->tok.kind != T_RPAREN)
            return fail(p, p->tok.off, "expected ')' to close the '(' at column %d, not %s",
                        tpl_col(p->src, t.off), tok_text(p, &p->tok, q, sizeof q));
        p->depth--;
        if (!next(p))
            return NULL;
        return e;
    }
    case T_TRUE:
    case T_FALSE: {
        ck_expr *e = node(p, E_CONST);
        if (!e)
            return NULL;
        e->v = t.kind == T_TRUE;
        if (!next(p))
            return NULL;
        return e;
    }
    case T_IDENT:
        return parse_field(p);
    case T_STRING:
    case T_NUMBER:
    case T_DATE:
        return fail(p, t.off, "expected a field name before the value (field == value)");
    case T_END:
        return fail(p, t.off, "expected a condition, found the end");
    default:
        return fail(p, t.off, "expected a field name, not %s", tok_text(p, &t, q, sizeof q));
    }
}

static ck_expr *parse_not(parser *p)
{
    if (p->tok.kind != T_NOT)
        return parse_primary(p);
    size_t off = p->tok.off;
    if (++p->depth > MAX_DEPTH)
        return fail(p, off, "condition nested too deeply");
    if (!next(p))
        return NULL;
    ck_expr *a = parse_not(p);
    p->depth--;
    if (!a)
        return NULL;
    ck_expr *e = node(p, E_NOT);
    if (!e)
        return NULL;
    e->a = a;
    e->deps = a->deps;
    return e;
}

static ck_expr *parse_binary(parser *p, tok_kind op, node_kind kind, ck_expr *(*operand)(parser *))
{
    ck_expr *a = operand(p);
    while (a && p->tok.kind == op) {
        if (!next(p))
            return NULL;
        ck_expr *b = operand(p);
        if (!b)
            return NULL;
        ck_expr *e = node(p, kind);
        if (!e)
            return NULL;
        e->a = a;
        e->b = b;
        e->deps = a->deps | b->deps;
        a = e;
    }
    return a;
}

static ck_expr *parse_and(parser *p)
{
    return parse_binary(p, T_AND, E_AND, parse_not);
}

static ck_expr *parse_or(parser *p)
{
    return parse_binary(p, T_OR, E_OR, parse_and);
}

ck_expr *ck_expr_compile(const ck_scene *scene, const char *src, ck_arena *arena, ck_error *err)
{
    parser p = {.scene = scene, .src = src ? src : "", .arena = arena, .err = err};
    p.len = strlen(p.src);
    if (!scene || !arena)
        return fail(&p, 0, "no scene to compile against");
    if (!ck_utf8_valid(p.src, p.len)) {
        const char *s = p.src, *end = p.src + p.len;
        while (s < end) {
            const char *at = s;
            if (ck_utf8_next(&s, end) < 0)
                return fail(&p, (size_t)(at - p.src), "not valid UTF-8");
        }
    }
    if (!next(&p))
        return NULL;
    if (p.tok.kind == T_END)
        return fail(&p, 0, "empty condition");
    ck_expr *e = parse_or(&p);
    if (!e)
        return NULL;
    if (p.tok.kind != T_END) {
        char q[128];
        if (p.tok.kind == T_RPAREN)
            return fail(&p, p.tok.off, "unmatched ')'");
        return fail(&p, p.tok.off, "unexpected %s after a complete condition (missing and/or?)",
                    tok_text(&p, &p.tok, q, sizeof q));
    }
    return e;
}

/* ---- evaluation ---- */

static const ck_value *value_of(const ck_record *rec, int field)
{
    static const ck_value absent = {0};
    return rec && rec->values ? &rec->values[field] : &absent;
}

static bool compare(tok_kind op, int64_t x, int64_t y)
{
    switch (op) {
    case T_EQ:
        return x == y;
    case T_NE:
        return x != y;
    case T_LT:
        return x < y;
    case T_LE:
        return x <= y;
    case T_GT:
        return x > y;
    case T_GE:
        return x >= y;
    default:
        return false;
    }
}

static bool eval(const ck_expr *e, const ck_record *rec)
{
    const ck_value *v;
    switch (e->kind) {
    case E_CONST:
        return e->v != 0;
    case E_AND:
        return eval(e->a, rec) && eval(e->b, rec);
    case E_OR:
        return eval(e->a, rec) || eval(e->b, rec);
    case E_NOT:
        return !eval(e->a, rec);
    case E_BOOL:
        v = value_of(rec, e->field);
        return v->present && v->i != 0;
    case E_HAS:
        v = value_of(rec, e->field);
        return v->present && ((v->set >> e->v) & 1);
    case E_CMP:
        v = value_of(rec, e->field);
        /* Absent: every comparison is false, so `!=` is true ("not F" holds for nobody's F). */
        if (!v->present)
            return e->op == T_NE;
        if (e->s) {
            bool eq = v->str && strcmp(v->str, e->s) == 0;
            return e->op == T_EQ ? eq : !eq;
        }
        return compare(e->op, v->i, e->v);
    case E_IN:
        v = value_of(rec, e->field);
        if (!v->present)
            return false;
        for (int k = 0; k < e->n; k++) {
            if (e->svals[k] ? v->str && strcmp(v->str, e->svals[k]) == 0 : v->i == e->ivals[k])
                return true;
        }
        return false;
    }
    return false;
}

bool ck_expr_eval(const ck_expr *e, const ck_record *rec)
{
    return e ? eval(e, rec) : true;
}

uint64_t ck_expr_deps(const ck_expr *e)
{
    return e ? e->deps : 0;
}
