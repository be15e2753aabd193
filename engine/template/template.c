/* template.c: templates ("Gentile {{gender|F:signora|M:signore}} {{last_name|name}}") and the
 * binding of a whole scene.
 *
 * A template compiles into a list of parts: literal text, or a substitution (a field and a
 * chain of filters). Each filter is checked against the type of the value it receives while
 * compiling (a date into |euro, an enum choice that forgets a value, an unknown field...), so
 * rendering has no error path: it only formats. Rendering writes into one growable builder
 * and copies the result into the caller's arena once.
 */
#include "template_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTERS 16

/* The type of the value flowing through a filter chain: a field type, or text once a filter
 * has formatted it. */
#define V_TEXT ((int)CK_FIELD_TYPE_COUNT)

typedef enum filter_kind {
    F_NAME,
    F_UPPER,
    F_LOWER,
    F_DATE,
    F_WEEKDAY_DATE,
    F_EURO,
    F_NUMBER,
    F_PLURAL,
    F_LIST,
    F_COUNT,
    F_ORDINAL,
    F_WORDS,
    F_CHOICE,
} filter_kind;

/* The filter table: name, what it accepts (bit per input type), what it gives, and how to say
 * what it needs in a message. */
#define IN(t) (1u << (t))
static const struct filter_desc {
    const char *name;
    filter_kind kind;
    unsigned accepts;
    int gives;
    const char *needs;
} filters[] = {
    {"name", F_NAME, IN(CK_FIELD_STRING) | IN(CK_FIELD_ENUM) | IN(V_TEXT), V_TEXT, "text"},
    {"upper", F_UPPER, IN(CK_FIELD_STRING) | IN(CK_FIELD_ENUM) | IN(V_TEXT), V_TEXT, "text"},
    {"lower", F_LOWER, IN(CK_FIELD_STRING) | IN(CK_FIELD_ENUM) | IN(V_TEXT), V_TEXT, "text"},
    {"date", F_DATE, IN(CK_FIELD_DATE), V_TEXT, "a date"},
    {"weekday_date", F_WEEKDAY_DATE, IN(CK_FIELD_DATE), V_TEXT, "a date"},
    {"euro", F_EURO, IN(CK_FIELD_MONEY), V_TEXT, "money"},
    {"number", F_NUMBER, IN(CK_FIELD_INTEGER), V_TEXT, "an integer"},
    {"plural", F_PLURAL, IN(CK_FIELD_INTEGER) | IN(CK_FIELD_SET), V_TEXT, "an integer or a set"},
    {"list", F_LIST, IN(CK_FIELD_SET), V_TEXT, "a set"},
    {"count", F_COUNT, IN(CK_FIELD_SET), CK_FIELD_INTEGER, "a set"},
    {"ordinal", F_ORDINAL, IN(CK_FIELD_INTEGER), V_TEXT, "an integer"},
    {"words", F_WORDS, IN(CK_FIELD_INTEGER), V_TEXT, "an integer"},
};
#define CHOICE_ACCEPTS (IN(CK_FIELD_ENUM) | IN(CK_FIELD_BOOLEAN) | IN(CK_FIELD_INTEGER))

typedef struct tfilter {
    filter_kind kind;
    const char *a, *b; /* plural: singular and plural forms */
    /* choice: by enum index or boolean 0/1 (texts[k] NULL: use the default), or by integer
     * keys (keys/ktexts, nkeys) */
    const char **texts;
    int ntexts;
    int64_t *keys;
    const char **ktexts;
    int nkeys;
    const char *def; /* "*:" text, or NULL */
    int prep;        /* date: the preposition before it (tpl_it_date_prep_find), or -1 */
    int form;        /* ordinal, words: CK_IT_ALONE/MASC/FEM (":m", ":f") */
} tfilter;

typedef struct tpart {
    const char *lit; /* literal text, or NULL for a substitution */
    size_t lit_len;
    int field;
    tfilter *filters;
    int nfilters;
} tpart;

struct ck_template {
    const ck_scene *scene; /* for the field descriptions at render time (not owned) */
    tpart *parts;
    int nparts;
    uint64_t deps;
    bool speech; /* render the spoken forms (a speech line) */
};

/* ======================================================================================
 * Compiling
 * ====================================================================================== */

typedef struct tcomp {
    const ck_scene *scene;
    const char *src;
    ck_arena *arena;
    ck_error *err;
    bool speech;
    bool failed;
    tpart *parts;
    int nparts, cap;
} tcomp;

static void vtfail(tcomp *c, size_t off, const char *fmt, va_list ap)
{
    if (c->failed)
        return; /* the first error is the one worth reading */
    c->failed = true;
    if (c->err) {
        char msg[sizeof c->err->msg];
        vsnprintf(msg, sizeof msg, fmt, ap);
        ck_error_set(c->err, CK_ERR_PARSE, "", 0, tpl_col(c->src, off), "%s", msg);
    }
}

/* Records a compile error at byte offset `off`; returns NULL (tfail) or false (tfail_false)
 * so compile functions can report and return in one statement. */
static void *tfail(tcomp *c, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *tfail(tcomp *c, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtfail(c, off, fmt, ap);
    va_end(ap);
    return NULL;
}

static bool tfail_false(tcomp *c, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool tfail_false(tcomp *c, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtfail(c, off, fmt, ap);
    va_end(ap);
    return false;
}

static tpart *add_part(tcomp *c)
{
    if (c->nparts == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        tpart *parts = ck_arena_alloc(c->arena, (size_t)cap * sizeof *parts);
        if (!parts)
            return tfail(c, 0, "out of memory");
        if (c->nparts)
            memcpy(parts, c->parts, (size_t)c->nparts * sizeof *parts);
        c->parts = parts;
        c->cap = cap;
    }
    tpart *p = &c->parts[c->nparts++];
    memset(p, 0, sizeof *p);
    return p;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Trims spaces around [*s, *e) and moves *s forward accordingly. */
static void trim_span(const char *src, size_t *s, size_t *e)
{
    while (*s < *e && is_space(src[*s]))
        (*s)++;
    while (*e > *s && is_space(src[*e - 1]))
        (*e)--;
}

static bool span_is(const char *src, size_t s, size_t e, const char *word)
{
    return e - s == strlen(word) && memcmp(src + s, word, e - s) == 0;
}

static const char *type_words(int t)
{
    return t == V_TEXT ? "text" : tpl_type_phrase((ck_field_type)t);
}

/* Message for a filter that does not fit: name the field on the first filter, "the value"
 * after another filter has changed it. */
static bool type_mismatch(tcomp *c, size_t off, const char *filter, const char *needs,
                          const ck_field *f, int type, int index, const char *prev)
{
    if (index == 0)
        return tfail_false(c, off, "filter \"%s\" needs %s; %s is %s", filter, needs, f->name,
                           type_words(type));
    return tfail_false(c, off, "filter \"%s\" needs %s; after \"%s\" the value is %s", filter,
                       needs, prev, type_words(type));
}

static const char *arena_span(tcomp *c, size_t s, size_t e)
{
    const char *t = ck_arena_strndup(c->arena, c->src + s, e - s);
    if (!t)
        tfail(c, s, "out of memory");
    return t;
}

/* One choice arm's key for a boolean: 1, 0, or -1 when it is not a boolean word. */
static int bool_key(const char *src, size_t s, size_t e)
{
    if (span_is(src, s, e, "true") || span_is(src, s, e, "si") || span_is(src, s, e, "s\xC3\xAC"))
        return 1;
    if (span_is(src, s, e, "false") || span_is(src, s, e, "no"))
        return 0;
    return -1;
}

/* A choice: segments [seg_s[k], seg_e[k]) of the form KEY:text, all of them. */
static bool compile_choice(tcomp *c, tfilter *flt, const ck_field *f, int type, const size_t *seg_s,
                           const size_t *seg_e, int nseg)
{
    const char *src = c->src;
    char q[128], list[256];
    if (type == CK_FIELD_ENUM || type == CK_FIELD_BOOLEAN) {
        flt->ntexts = type == CK_FIELD_ENUM ? f->value_count : 2;
        flt->texts =
            ck_arena_alloc(c->arena, (size_t)(flt->ntexts ? flt->ntexts : 1) * sizeof *flt->texts);
        if (!flt->texts)
            return tfail_false(c, seg_s[0], "out of memory");
    } else {
        flt->keys = ck_arena_alloc(c->arena, (size_t)nseg * sizeof *flt->keys);
        flt->ktexts = ck_arena_alloc(c->arena, (size_t)nseg * sizeof *flt->ktexts);
        if (!flt->keys || !flt->ktexts)
            return tfail_false(c, seg_s[0], "out of memory");
    }
    for (int k = 0; k < nseg; k++) {
        size_t colon = seg_s[k];
        while (src[colon] != ':')
            colon++;
        size_t ks = seg_s[k], ke = colon;
        trim_span(src, &ks, &ke);
        const char *text = arena_span(c, colon + 1, seg_e[k]);
        if (!text)
            return false;
        if (ke == ks)
            return tfail_false(c, seg_s[k],
                               "a choice needs a value before ':' (F:text, or *:text)");
        if (span_is(src, ks, ke, "*")) {
            if (flt->def)
                return tfail_false(c, ks, "the default \"*\" is given twice");
            flt->def = text;
            continue;
        }
        int idx;
        if (type == CK_FIELD_ENUM) {
            idx = tpl_value_find(f, src + ks, ke - ks);
            if (idx < 0)
                return tfail_false(c, ks, "%s is not a value of enum field %s (%s)",
                                   tpl_quote(src + ks, ke - ks, q, sizeof q), f->name,
                                   tpl_values_list(f, list, sizeof list));
        } else if (type == CK_FIELD_BOOLEAN) {
            idx = bool_key(src, ks, ke);
            if (idx < 0)
                return tfail_false(c, ks, "%s is not a boolean choice (true/false or si/no)",
                                   tpl_quote(src + ks, ke - ks, q, sizeof q));
        } else {
            int64_t v = 0;
            size_t i = ks;
            bool neg = src[i] == '-';
            i += neg;
            bool digits = i < ke && ke - i <= 18;
            for (; digits && i < ke; i++) {
                digits = src[i] >= '0' && src[i] <= '9';
                v = v * 10 + (src[i] - '0');
            }
            if (!digits)
                return tfail_false(c, ks, "%s is not a number to choose on",
                                   tpl_quote(src + ks, ke - ks, q, sizeof q));
            v = neg ? -v : v;
            for (int j = 0; j < flt->nkeys; j++)
                if (flt->keys[j] == v)
                    return tfail_false(c, ks, "%lld is chosen twice", (long long)v);
            flt->keys[flt->nkeys] = v;
            flt->ktexts[flt->nkeys++] = text;
            continue;
        }
        if (flt->texts[idx])
            return tfail_false(c, ks, "%s is chosen twice",
                               tpl_quote(src + ks, ke - ks, q, sizeof q));
        flt->texts[idx] = text;
    }
    if (flt->def)
        return true;
    if (type == CK_FIELD_INTEGER)
        return tfail_false(c, seg_s[0],
                           "a choice on a number needs a \"*:\" default for the other "
                           "values");
    /* Every value must have a text: a new enum value must not render as nothing. */
    ck_strbuf miss;
    ck_strbuf_init_fixed(&miss, list, sizeof list);
    int nmiss = 0;
    for (int k = 0; k < flt->ntexts; k++) {
        if (flt->texts[k])
            continue;
        const char *v = type == CK_FIELD_BOOLEAN ? (k ? "true" : "false") : f->values[k];
        if (nmiss++)
            ck_strbuf_puts(&miss, ", ");
        ck_strbuf_puts(&miss, v ? v : "");
    }
    if (nmiss)
        return tfail_false(c, seg_s[0],
                           "the choice does not cover %s (add %s, or a \"*:\" default)", list,
                           nmiss == 1 ? "it" : "them");
    return true;
}

static const struct filter_desc *find_filter(const char *src, size_t s, size_t e)
{
    for (size_t k = 0; k < CK_ARRAY_LEN(filters); k++)
        if (span_is(src, s, e, filters[k].name))
            return &filters[k];
    return NULL;
}

/* The inside of {{ ... }}: src[s, e), with the "{{" at `open`. */
static bool compile_subst(tcomp *c, size_t open, size_t s, size_t e)
{
    const char *src = c->src;
    char q[128];
    /* Split on '|'. */
    size_t seg_s[MAX_FILTERS + 1], seg_e[MAX_FILTERS + 1];
    int nseg = 0;
    size_t start = s;
    for (size_t i = s; i <= e; i++) {
        if (i < e && src[i] != '|')
            continue;
        if (nseg == MAX_FILTERS + 1)
            return tfail_false(c, start, "too many filters (at most %d)", MAX_FILTERS);
        seg_s[nseg] = start;
        seg_e[nseg++] = i;
        start = i + 1;
    }
    /* The field. */
    size_t fs = seg_s[0], fe = seg_e[0];
    trim_span(src, &fs, &fe);
    if (fs == fe)
        return tfail_false(c, open, "expected a field name after \"{{\"");
    for (size_t i = fs; i < fe; i++) {
        char ch = src[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  (i > fs && ch >= '0' && ch <= '9');
        if (!ok)
            return tfail_false(c, open, "%s is not a field name",
                               tpl_quote(src + fs, fe - fs, q, sizeof q));
    }
    int fi = tpl_field_find(c->scene, src + fs, fe - fs);
    if (fi < 0) {
        const char *hint = tpl_suggest_field(c->scene, src + fs, fe - fs);
        /* Field errors point at the "{{" that opens the substitution, filter errors at the
         * filter: the two things an author looks for. */
        if (hint)
            return tfail_false(c, open, "unknown field \"%.*s\" (did you mean \"%s\"?)",
                               (int)(fe - fs), src + fs, hint);
        return tfail_false(c, open, "unknown field \"%.*s\"", (int)(fe - fs), src + fs);
    }
    const ck_field *f = &c->scene->fields[fi];
    tpart *part = add_part(c);
    if (!part)
        return false;
    part->field = fi;
    part->filters = ck_arena_alloc(c->arena, (size_t)nseg * sizeof *part->filters);
    if (!part->filters)
        return tfail_false(c, open, "out of memory");

    int type = (int)f->type;
    const char *prev = NULL;
    for (int k = 1; k < nseg;) {
        size_t ss = seg_s[k], se = seg_e[k];
        size_t colon = ss;
        while (colon < se && src[colon] != ':')
            colon++;
        size_t ks = ss, ke = colon;
        trim_span(src, &ks, &ke);
        tfilter *flt = &part->filters[part->nfilters];
        int index = part->nfilters;
        /* "date:del" is the date filter with a preposition, not a choice (a date takes no
         * choice). */
        bool date_prep = type == CK_FIELD_DATE && span_is(src, ks, ke, "date");
        bool form_arg = span_is(src, ks, ke, "ordinal") || span_is(src, ks, ke, "words");
        if (colon < se && !span_is(src, ks, ke, "plural") && !date_prep && !form_arg) {
            /* A choice: this segment and the KEY:text segments right after it. */
            int n = 1;
            while (k + n < nseg && memchr(src + seg_s[k + n], ':', seg_e[k + n] - seg_s[k + n])) {
                size_t ns = seg_s[k + n], ne = ns;
                while (src[ne] != ':')
                    ne++;
                trim_span(src, &ns, &ne);
                if (span_is(src, ns, ne, "plural"))
                    break;
                n++;
            }
            if (!(CHOICE_ACCEPTS & IN(type))) {
                if (index == 0)
                    return tfail_false(c, ss,
                                       "a choice (value:text) works on enum, boolean and "
                                       "integer values; %s is %s",
                                       f->name, type_words(type));
                return tfail_false(c, ss,
                                   "a choice (value:text) works on enum, boolean and integer "
                                   "values; after \"%s\" the value is %s",
                                   prev, type_words(type));
            }
            flt->kind = F_CHOICE;
            if (!compile_choice(c, flt, f, type, seg_s + k, seg_e + k, n))
                return false;
            type = V_TEXT;
            prev = "choice";
            part->nfilters++;
            k += n;
            continue;
        }
        const struct filter_desc *d = find_filter(src, ks, ke);
        if (!d) {
            const char *names[CK_ARRAY_LEN(filters)];
            for (size_t j = 0; j < CK_ARRAY_LEN(filters); j++)
                names[j] = filters[j].name;
            const char *hint = tpl_suggest(src + ks, ke - ks, names, CK_ARRAY_LEN(names));
            if (ke == ks)
                return tfail_false(c, ss, "empty filter after '|'");
            if (hint)
                return tfail_false(c, ks, "unknown filter \"%.*s\" (did you mean \"%s\"?)",
                                   (int)(ke - ks), src + ks, hint);
            return tfail_false(
                c, ks,
                "unknown filter \"%.*s\" (filters: name, upper, lower, date, date:del, "
                "weekday_date, euro, number, plural:one:many, ordinal, words, list, count, "
                "or value:text choices)",
                (int)(ke - ks), src + ks);
        }
        if (!(d->accepts & IN(type)))
            return type_mismatch(c, ks, d->name, d->needs, f, type, index, prev);
        if (c->speech && (d->kind == F_UPPER || d->kind == F_LOWER))
            return tfail_false(c, ks,
                               "filter \"%s\" only changes how text looks; a speech line "
                               "cannot use it (a voice does not say capitals)",
                               d->name);
        flt->kind = d->kind;
        if (d->kind == F_PLURAL) {
            /* plural:one:many */
            size_t c1 = colon < se ? colon + 1 : se, c2 = c1;
            while (c2 < se && src[c2] != ':')
                c2++;
            size_t as = c1, ae = c2, bs = c2 + 1, be = se;
            if (colon >= se || c2 >= se || memchr(src + bs, ':', be - bs))
                return tfail_false(c, ks, "plural takes two forms: plural:rata:rate");
            trim_span(src, &as, &ae);
            trim_span(src, &bs, &be);
            if (as == ae || bs == be)
                return tfail_false(c, ks, "plural takes two forms: plural:rata:rate");
            if (!(flt->a = arena_span(c, as, ae)) || !(flt->b = arena_span(c, bs, be)))
                return false;
        }
        flt->prep = -1;
        flt->form = CK_IT_ALONE;
        if (d->kind == F_ORDINAL || d->kind == F_WORDS) {
            /* ordinal:f "terza", words:m "ventun" (a noun follows), words:f "ventuna". */
            size_t ps = colon + 1, pe = se;
            if (colon < se) {
                trim_span(src, &ps, &pe);
                if (span_is(src, ps, pe, "f"))
                    flt->form = CK_IT_FEM;
                else if (span_is(src, ps, pe, "m"))
                    flt->form = d->kind == F_WORDS ? CK_IT_MASC : CK_IT_ALONE;
                else
                    return tfail_false(c, ks,
                                       "%s takes :m or :f (the gender of the noun after it: "
                                       "\"{{n|ordinal:f}} rata\")",
                                       d->name);
            }
        }
        if (d->kind == F_DATE && colon < se) {
            /* date:del: the articled preposition goes with the date, elided before 1, 8
             * and 11 ("dell'11 dicembre"). */
            size_t ps = colon + 1, pe = se;
            trim_span(src, &ps, &pe);
            flt->prep = tpl_it_date_prep_find(src + ps, pe - ps);
            if (flt->prep < 0)
                return tfail_false(c, ks,
                                   "date takes one preposition: date:il, date:del, date:dal, "
                                   "date:al, date:nel or date:sul (\"dell'11 dicembre\")");
        }
        type = d->gives;
        prev = d->name;
        part->nfilters++;
        k++;
    }
    return true;
}

/* Appends literal text as a part (the caller has already turned "{{{{" into "{{"). */
static bool add_literal(tcomp *c, const char *text, size_t n)
{
    if (!n)
        return true;
    tpart *p = add_part(c);
    if (!p)
        return false;
    p->lit = ck_arena_strndup(c->arena, text, n);
    p->lit_len = n;
    p->field = -1;
    if (!p->lit)
        return tfail_false(c, 0, "out of memory");
    return true;
}

static ck_template *compile(const ck_scene *scene, const char *src, ck_arena *arena, ck_error *err,
                            bool speech)
{
    tcomp c = {.scene = scene, .src = src ? src : "", .arena = arena, .err = err, .speech = speech};
    if (!scene || !arena)
        return tfail(&c, 0, "no scene to compile against");
    size_t len = strlen(c.src);
    if (!ck_utf8_valid(c.src, len)) {
        const char *s = c.src, *end = c.src + len;
        while (s < end) {
            const char *at = s;
            if (ck_utf8_next(&s, end) < 0)
                return tfail(&c, (size_t)(at - c.src), "not valid UTF-8");
        }
    }
    ck_strbuf lit = {0};
    size_t i = 0;
    while (i < len && !c.failed) {
        if (len - i >= 4 && memcmp(c.src + i, "{{{{", 4) == 0) {
            ck_strbuf_add(&lit, "{{", 2);
            i += 4;
            continue;
        }
        if (len - i >= 2 && c.src[i] == '{' && c.src[i + 1] == '{') {
            const char *close = strstr(c.src + i + 2, "}}");
            if (!close) {
                tfail(&c, i, "\"{{\" is not closed (missing \"}}\"; write {{{{ for a literal {{)");
                break;
            }
            if (!add_literal(&c, lit.s, lit.len))
                break;
            ck_strbuf_clear(&lit);
            size_t e = (size_t)(close - c.src);
            if (!compile_subst(&c, i, i + 2, e))
                break;
            i = e + 2;
            continue;
        }
        ck_strbuf_add(&lit, c.src + i, 1);
        i++;
    }
    if (!c.failed)
        add_literal(&c, lit.s, lit.len);
    bool oom = lit.failed;
    ck_strbuf_free(&lit);
    if (oom)
        tfail(&c, 0, "out of memory");
    if (c.failed)
        return NULL;
    ck_template *t = ck_arena_alloc(arena, sizeof *t);
    if (!t)
        return tfail(&c, 0, "out of memory");
    t->scene = scene;
    t->speech = speech;
    t->parts = c.parts;
    t->nparts = c.nparts;
    for (int k = 0; k < c.nparts; k++)
        if (!c.parts[k].lit)
            t->deps |= (uint64_t)1 << c.parts[k].field;
    return t;
}

ck_template *ck_template_compile(const ck_scene *scene, const char *src, ck_arena *arena,
                                 ck_error *err)
{
    return compile(scene, src, arena, err, false);
}

ck_template *ck_template_compile_speech(const ck_scene *scene, const char *src, ck_arena *arena,
                                        ck_error *err)
{
    return compile(scene, src, arena, err, true);
}

uint64_t ck_template_deps(const ck_template *t)
{
    return t ? t->deps : 0;
}

/* ======================================================================================
 * Rendering
 * ====================================================================================== */

static uint64_t set_mask(const ck_field *f)
{
    int n = f->value_count;
    return n >= 64 ? ~(uint64_t)0 : n <= 0 ? 0 : ((uint64_t)1 << n) - 1;
}

static int popcount(uint64_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static const char *label_of(const ck_field *f, int64_t k)
{
    if (k < 0 || k >= f->value_count || !f->values)
        return "";
    if (f->labels && f->labels[k])
        return f->labels[k];
    return f->values[k] ? f->values[k] : "";
}

/* "a", "a e b", "a, b e c": Italian joins the last item with "e" and no comma before it. */
static void put_list(ck_strbuf *sb, const ck_field *f, uint64_t set)
{
    set &= set_mask(f);
    int total = popcount(set), done = 0;
    for (int k = 0; k < f->value_count && k < 64; k++) {
        if (!((set >> k) & 1))
            continue;
        if (done)
            ck_strbuf_puts(sb, done == total - 1 ? " e " : ", ");
        ck_strbuf_puts(sb, label_of(f, k));
        done++;
    }
}

static void put_int(ck_strbuf *sb, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    ck_strbuf_add(sb, num, (size_t)n);
}

/* Default rendering of a typed value ({{field}} with no formatting filter). */
static void put_value(ck_strbuf *sb, const ck_field *f, int type, const ck_value *v, int64_t i,
                      uint64_t set, bool speech)
{
    if (speech && type == CK_FIELD_DATE) {
        tpl_it_date_spoken_sb(sb, (int32_t)i, false);
        return;
    }
    if (speech && type == CK_FIELD_MONEY) {
        tpl_it_money_spoken_sb(sb, i);
        return;
    }
    if (speech && type == CK_FIELD_INTEGER) {
        tpl_it_number_spoken_sb(sb, i);
        return;
    }
    switch (type) {
    case CK_FIELD_STRING:
        ck_strbuf_puts(sb, v->str ? v->str : "");
        break;
    case CK_FIELD_ENUM:
        ck_strbuf_puts(sb, label_of(f, i));
        break;
    case CK_FIELD_DATE:
        tpl_it_date_sb(sb, (int32_t)i, false);
        break;
    case CK_FIELD_MONEY:
        tpl_it_money_sb(sb, i);
        break;
    case CK_FIELD_INTEGER:
        put_int(sb, i);
        break;
    case CK_FIELD_BOOLEAN:
        ck_strbuf_puts(sb, i ? "s\xC3\xAC" : "no");
        break;
    case CK_FIELD_SET:
        put_list(sb, f, set);
        break;
    default:
        break;
    }
}

static const char *choose(const tfilter *flt, int64_t key)
{
    const char *text = NULL;
    if (flt->texts) {
        if (key >= 0 && key < flt->ntexts)
            text = flt->texts[key];
    } else {
        for (int j = 0; j < flt->nkeys && !text; j++)
            if (flt->keys[j] == key)
                text = flt->ktexts[j];
    }
    return text ? text : flt->def ? flt->def : "";
}

/* The noun's gender for a spoken "1 rata": feminine when the singular ends in -a or -à
 * ("una rata", "una mensilità"), else masculine ("un pagamento"). */
static bool noun_feminine(const char *noun)
{
    size_t n = strlen(noun);
    return (n >= 1 && (noun[n - 1] == 'a' || noun[n - 1] == 'A')) ||
           (n >= 2 && memcmp(noun + n - 2, "\xC3\xA0", 2) == 0);
}

static void render_subst(ck_strbuf *out, const tpart *part, const ck_record *rec,
                         const ck_scene *scene, bool speech)
{
    static const ck_value absent = {0};
    const ck_field *f = &scene->fields[part->field];
    const ck_value *v = rec && rec->values ? &rec->values[part->field] : &absent;
    /* An absent optional value renders as nothing, whatever the filters. */
    if (!v->present)
        return;
    int type = (int)f->type;
    int64_t i = v->i;
    uint64_t set = v->set;
    /* Text between filters ping-pongs between two builders. */
    ck_strbuf bufs[2] = {{0}, {0}};
    int cur = 0;
    const char *text = NULL; /* the text value when type == V_TEXT */
    size_t text_len = 0;
    for (int k = 0; k < part->nfilters; k++) {
        const tfilter *flt = &part->filters[k];
        ck_strbuf *dst = &bufs[cur ^ 1];
        ck_strbuf_clear(dst);
        const char *in = text;
        size_t in_len = text_len;
        if (type == CK_FIELD_STRING) {
            in = v->str ? v->str : "";
            in_len = strlen(in);
        } else if (type == CK_FIELD_ENUM && flt->kind != F_CHOICE) {
            in = label_of(f, i);
            in_len = strlen(in);
        }
        switch (flt->kind) {
        case F_NAME:
            tpl_it_name_case_sb(dst, in, in_len);
            break;
        case F_UPPER:
            tpl_it_upper_sb(dst, in, in_len);
            break;
        case F_LOWER:
            tpl_it_lower_sb(dst, in, in_len);
            break;
        case F_DATE:
            if (flt->prep >= 0 && speech)
                tpl_it_date_prep_spoken_sb(dst, (int32_t)i, flt->prep);
            else if (flt->prep >= 0)
                tpl_it_date_prep_sb(dst, (int32_t)i, flt->prep);
            else if (speech)
                tpl_it_date_spoken_sb(dst, (int32_t)i, false);
            else
                tpl_it_date_sb(dst, (int32_t)i, false);
            break;
        case F_WEEKDAY_DATE:
            if (speech)
                tpl_it_date_spoken_sb(dst, (int32_t)i, true);
            else
                tpl_it_date_sb(dst, (int32_t)i, true);
            break;
        case F_EURO:
            if (speech)
                tpl_it_money_spoken_sb(dst, i);
            else
                tpl_it_money_sb(dst, i);
            break;
        case F_NUMBER:
            if (speech)
                tpl_it_number_spoken_sb(dst, i);
            else
                tpl_it_number_sb(dst, i);
            break;
        case F_PLURAL: {
            int64_t n = type == CK_FIELD_SET ? popcount(set & set_mask(f)) : i;
            const char *noun = n == 1 || n == -1 ? flt->a : flt->b;
            if (speech && n == 1)
                ck_strbuf_puts(dst, noun_feminine(noun) ? "una" : "un");
            else if (speech)
                tpl_it_number_spoken_sb(dst, n);
            else
                tpl_it_number_sb(dst, n);
            ck_strbuf_add(dst, " ", 1);
            ck_strbuf_puts(dst, noun);
            break;
        }
        case F_ORDINAL:
            tpl_it_ordinal_sb(dst, i, flt->form == CK_IT_FEM);
            break;
        case F_WORDS:
            tpl_it_words_sb(dst, i, flt->form);
            break;
        case F_LIST:
            put_list(dst, f, set);
            break;
        case F_COUNT:
            i = popcount(set & set_mask(f));
            type = CK_FIELD_INTEGER;
            continue; /* no text yet */
        case F_CHOICE:
            ck_strbuf_puts(dst, choose(flt, i));
            break;
        }
        cur ^= 1;
        type = V_TEXT;
        text = bufs[cur].s ? bufs[cur].s : ""; /* NULL while a growable builder is empty */
        text_len = bufs[cur].len;
    }
    if (type == V_TEXT)
        ck_strbuf_add(out, text, text_len);
    else
        put_value(out, f, type, v, i, set, speech);
    ck_strbuf_free(&bufs[0]);
    ck_strbuf_free(&bufs[1]);
}

const char *ck_template_render(const ck_template *t, const ck_record *rec, ck_arena *arena)
{
    if (!t || !arena)
        return "";
    ck_strbuf out = {0};
    for (int k = 0; k < t->nparts; k++) {
        const tpart *part = &t->parts[k];
        if (part->lit)
            ck_strbuf_add(&out, part->lit, part->lit_len);
        else
            render_subst(&out, part, rec, t->scene, t->speech);
    }
    char *s = out.failed ? NULL : ck_arena_strndup(arena, out.s ? out.s : "", out.len);
    ck_strbuf_free(&out);
    /* "Cannot fail": without memory the text is empty rather than NULL. */
    return s ? s : "";
}

/* ======================================================================================
 * Binding
 * ====================================================================================== */

typedef struct binder {
    ck_binding *b;
    ck_diags *diags;
    bool ok;
} binder;

/* Reports a compile error at its place in scene.json: the string's position plus the column
 * inside it (exact when the JSON string has no escapes before the error). */
static void bind_error(binder *bd, const ck_src_text *st, const char *path, const ck_error *err)
{
    const ck_scene *sc = bd->b->scene;
    int line = st->pos.line > 0 ? st->pos.line : 0;
    int col = line && st->pos.col > 0 && err->col > 0 ? st->pos.col + err->col : 0;
    ck_diag_add(bd->diags, CK_SEV_ERROR, sc->file, line, col, "%s: %s", st->path ? st->path : path,
                err->msg);
    bd->ok = false;
}

static ck_template *bind_template_mode(binder *bd, const ck_src_text *st, const char *path,
                                       bool always, bool speech)
{
    if (!st->text && !always)
        return NULL;
    ck_error err = {0};
    ck_template *t = compile(bd->b->scene, st->text ? st->text : "", &bd->b->arena, &err, speech);
    if (!t)
        bind_error(bd, st, path, &err);
    return t;
}

static ck_template *bind_template(binder *bd, const ck_src_text *st, const char *path, bool always)
{
    return bind_template_mode(bd, st, path, always, false);
}

static ck_expr *bind_when(binder *bd, const ck_src_text *st, const char *path)
{
    if (!st->text)
        return NULL;
    ck_error err = {0};
    ck_expr *e = ck_expr_compile(bd->b->scene, st->text, &bd->b->arena, &err);
    if (!e)
        bind_error(bd, st, path, &err);
    return e;
}

static void *alloc_array(ck_binding *b, int n, size_t size)
{
    return ck_arena_alloc(&b->arena, (size_t)(n > 0 ? n : 1) * size);
}

ck_binding *ck_binding_create(const ck_scene *scene, ck_diags *diags)
{
    if (!scene)
        return NULL;
    ck_binding *b = calloc(1, sizeof *b);
    if (!b) {
        ck_diag_add(diags, CK_SEV_ERROR, scene->file, 0, 0, "out of memory");
        return NULL;
    }
    b->scene = scene;
    binder bd = {.b = b, .diags = diags, .ok = true};
    if (scene->field_count > CK_MAX_FIELDS) {
        ck_diag_add(diags, CK_SEV_ERROR, scene->file, 0, 0,
                    "the scene declares %d fields; at most %d are supported", scene->field_count,
                    CK_MAX_FIELDS);
        ck_binding_destroy(&b);
        return NULL;
    }
    int nl = scene->layer_count, nc = scene->cue_count, np = scene->caption_count;
    b->layer_text = alloc_array(b, nl, sizeof *b->layer_text);
    b->layer_when = alloc_array(b, nl, sizeof *b->layer_when);
    b->layer_deps = alloc_array(b, nl, sizeof *b->layer_deps);
    b->cue_title = alloc_array(b, nc, sizeof *b->cue_title);
    b->cue_body = alloc_array(b, nc, sizeof *b->cue_body);
    b->cue_label = alloc_array(b, nc, sizeof *b->cue_label);
    b->cue_when = alloc_array(b, nc, sizeof *b->cue_when);
    b->caption_text = alloc_array(b, np, sizeof *b->caption_text);
    int ns = scene->speech_line_count;
    b->speech_text = alloc_array(b, ns, sizeof *b->speech_text);
    b->speech_when = alloc_array(b, ns, sizeof *b->speech_when);
    b->speech_deps = alloc_array(b, ns, sizeof *b->speech_deps);
    if (!b->layer_text || !b->layer_when || !b->layer_deps || !b->cue_title || !b->cue_body ||
        !b->cue_label || !b->cue_when || !b->caption_text || !b->speech_text || !b->speech_when ||
        !b->speech_deps) {
        ck_diag_add(diags, CK_SEV_ERROR, scene->file, 0, 0, "out of memory");
        ck_binding_destroy(&b);
        return NULL;
    }
    char path[128];
    for (int i = 0; i < nl; i++) {
        const ck_layer *l = &scene->layers[i];
        if (l->type == CK_LAYER_TEXT) {
            snprintf(path, sizeof path, "layers[%d].text", i);
            /* Always compiled for text layers, so the timeline can render without a NULL
             * check: a missing text is the empty template. */
            b->layer_text[i] = bind_template(&bd, &l->text.text, path, true);
        }
        snprintf(path, sizeof path, "layers[%d].when", i);
        b->layer_when[i] = bind_when(&bd, &l->when, path);
    }
    for (int i = 0; i < nl; i++) {
        uint64_t deps = ck_template_deps(b->layer_text[i]) | ck_expr_deps(b->layer_when[i]);
        /* A parent's condition hides the whole subtree. The walk is bounded so that a
         * malformed parent cycle cannot loop forever. */
        int p = scene->layers[i].parent;
        for (int steps = 0; p >= 0 && p < nl && steps < nl; steps++) {
            deps |= ck_expr_deps(b->layer_when[p]);
            p = scene->layers[p].parent;
        }
        b->layer_deps[i] = deps;
    }
    for (int i = 0; i < nc; i++) {
        const ck_cue *cue = &scene->cues[i];
        snprintf(path, sizeof path, "cues[%d].title", i);
        b->cue_title[i] = bind_template(&bd, &cue->title, path, false);
        snprintf(path, sizeof path, "cues[%d].body", i);
        b->cue_body[i] = bind_template(&bd, &cue->body, path, false);
        snprintf(path, sizeof path, "cues[%d].label", i);
        b->cue_label[i] = bind_template(&bd, &cue->label, path, false);
        snprintf(path, sizeof path, "cues[%d].when", i);
        b->cue_when[i] = bind_when(&bd, &cue->when, path);
    }
    for (int i = 0; i < np; i++) {
        snprintf(path, sizeof path, "captions[%d].text", i);
        b->caption_text[i] = bind_template(&bd, &scene->captions[i].text, path, true);
    }
    for (int i = 0; i < ns; i++) {
        const ck_speech_line *l = &scene->speech_lines[i];
        snprintf(path, sizeof path, "%s.text", l->path);
        b->speech_text[i] = bind_template_mode(&bd, &l->text, path, true, true);
        snprintf(path, sizeof path, "%s.when", l->path);
        b->speech_when[i] = bind_when(&bd, &l->when, path);
        b->speech_deps[i] = ck_template_deps(b->speech_text[i]) | ck_expr_deps(b->speech_when[i]);
    }
    if (!bd.ok)
        ck_binding_destroy(&b);
    return b;
}

void ck_binding_destroy(ck_binding **b)
{
    if (!b || !*b)
        return;
    ck_arena_free(&(*b)->arena);
    free(*b);
    *b = NULL;
}
