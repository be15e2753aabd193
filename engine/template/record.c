/* record.c: loading and validating records (JSON or CSV) against a scene's fields, plus the
 * lookup and message helpers the rest of the template module shares.
 *
 * Validation happens here, once, at import: a record that passes is safe to render (every
 * string valid UTF-8 without control characters, every enum value canonical, every date
 * real). Each problem becomes one diagnostic "field: what is wrong" on the record's line, and
 * a record with any error is left out, so a file with one bad row still imports the rest.
 */
#include "template_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX_BYTES       200
#define DEFAULT_MAX_LENGTH 200
#define MAX_COLUMNS        1024
#define MAX_UNKNOWN_KEYS   64
#define RECORDS_FILE_LIMIT ((size_t)256 << 20)

/* ======================================================================================
 * Shared helpers (declared in template_internal.h)
 * ====================================================================================== */

const char *tpl_type_phrase(ck_field_type t)
{
    switch (t) {
    case CK_FIELD_STRING:
        return "a string";
    case CK_FIELD_ENUM:
        return "an enum";
    case CK_FIELD_DATE:
        return "a date";
    case CK_FIELD_MONEY:
        return "money";
    case CK_FIELD_INTEGER:
        return "an integer";
    case CK_FIELD_BOOLEAN:
        return "a boolean";
    case CK_FIELD_SET:
        return "a set";
    default:
        return "of an unknown type";
    }
}

int tpl_field_find(const ck_scene *scene, const char *s, size_t n)
{
    for (int i = 0; i < scene->field_count; i++) {
        const char *name = scene->fields[i].name;
        if (name && strlen(name) == n && memcmp(name, s, n) == 0)
            return i;
    }
    return -1;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ascii_ieq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Levenshtein distance, case-insensitive, on bytes; long words are not typos worth
 * suggesting, so anything past 64 bytes counts as far. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > 64 || bn > 64)
        return 1000;
    size_t row[65], prev[65];
    for (size_t j = 0; j <= bn; j++)
        prev[j] = j;
    for (size_t i = 1; i <= an; i++) {
        row[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t cost =
                ascii_lower((unsigned char)a[i - 1]) != ascii_lower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
        }
        memcpy(prev, row, (bn + 1) * sizeof row[0]);
    }
    return prev[bn];
}

static void suggest_step(const char *s, size_t n, const char *word, const char **best,
                         size_t *best_d)
{
    if (!word)
        return;
    size_t wn = strlen(word);
    size_t d = edit_distance(s, n, word, wn);
    /* Close enough to be a typo: one edit for short words, two for medium, three for long,
     * and never a "suggestion" that shares almost nothing with the input. */
    size_t limit = n <= 3 ? 1 : n <= 8 ? 2 : 3;
    if (d <= limit && d < wn && d < *best_d) {
        *best = word;
        *best_d = d;
    }
}

const char *tpl_suggest(const char *s, size_t n, const char *const *words, size_t count)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < count; i++)
        suggest_step(s, n, words[i], &best, &best_d);
    return best;
}

const char *tpl_suggest_field(const ck_scene *scene, const char *s, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int i = 0; i < scene->field_count; i++)
        suggest_step(s, n, scene->fields[i].name, &best, &best_d);
    return best;
}

int tpl_value_find(const ck_field *f, const char *s, size_t n)
{
    if (!f->values)
        return -1;
    for (int i = 0; i < f->value_count; i++)
        if (f->values[i] && strlen(f->values[i]) == n && memcmp(f->values[i], s, n) == 0)
            return i;
    for (int i = 0; i < f->value_count; i++)
        if (f->values[i] && ascii_ieq(f->values[i], strlen(f->values[i]), s, n))
            return i;
    return -1;
}

const char *tpl_values_list(const ck_field *f, char *buf, size_t size)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    for (int i = 0; f->values && i < f->value_count; i++) {
        const char *v = f->values[i] ? f->values[i] : "";
        if (sb.len + strlen(v) + 8 > size) {
            ck_strbuf_puts(&sb, ", ...");
            break;
        }
        if (i)
            ck_strbuf_puts(&sb, ", ");
        ck_strbuf_puts(&sb, v);
    }
    return buf;
}

const char *tpl_quote(const char *s, size_t n, char *buf, size_t size)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size > 8 ? size - 8 : size);
    ck_strbuf_add(&sb, "\"", 1);
    const char *p = s, *end = s + n;
    int count = 0;
    while (p < end) {
        if (count == 40) {
            ck_strbuf_puts(&sb, "\xE2\x80\xA6"); /* … */
            break;
        }
        int32_t cp = ck_utf8_next(&p, end);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            cp = '?';
        ck_strbuf_put_cp(&sb, cp);
        count++;
    }
    /* The closing quote always fits: the builder above was given 8 bytes less. */
    size_t len = sb.len;
    if (size >= 2) {
        if (len + 2 > size)
            len = size - 2;
        buf[len++] = '"';
        buf[len] = 0;
    }
    return buf;
}

int tpl_col(const char *src, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off && src[i]; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

/* ======================================================================================
 * Records
 * ====================================================================================== */

typedef struct id_slot {
    const char *id; /* NULL: empty */
    int line;
} id_slot;

typedef struct rparse {
    const ck_scene *scene;
    ck_diags *diags;
    const char *file;
    ck_records *recs;
    int line;        /* line of the record (JSON: of the field) being read, for messages */
    const char *src; /* JSON: the text, and where the record being read starts in it */
    size_t src_len, rec_off;
    bool bad;         /* the record being read has an error */
    ck_record *items; /* valid records so far (malloc'd; moved into the arena at the end) */
    size_t count, cap;
    id_slot *ids; /* every id seen (valid record or not), to report duplicates */
    size_t id_count, id_cap;
    const char *unknown[MAX_UNKNOWN_KEYS]; /* unknown JSON keys already reported */
    size_t unknown_count;
} rparse;

static void rec_error(rparse *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_error(rparse *rp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_diag_addv(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0, fmt, ap);
    va_end(ap);
    rp->bad = true;
}

static void rec_warn(rparse *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_warn(rparse *rp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_diag_addv(rp->diags, CK_SEV_WARNING, rp->file, rp->line, 0, fmt, ap);
    va_end(ap);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_blank((*s)[*n - 1]))
        (*n)--;
}

static void warn_unknown(rparse *rp, const char *name, size_t n)
{
    char q[128];
    const char *hint = tpl_suggest_field(rp->scene, name, n);
    tpl_quote(name, n, q, sizeof q);
    if (hint)
        rec_warn(rp, "unknown field %s (not used by this scene; did you mean \"%s\"?)", q, hint);
    else
        rec_warn(rp, "unknown field %s (not used by this scene)", q);
}

/* Invisible formatting characters: zero-width ones, line/paragraph separators, direction
 * overrides and isolates, the BOM inside text. On screen they reorder or hide what a name
 * says (a right-to-left override turns "Rossi" around), so a record may not carry them. */
static bool is_format_char(int32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB);
}

/* Text a record may hold: valid UTF-8, no NUL, no C0/C1 control characters (they have no
 * business in a name, and a stray newline or escape would reach the screen). */
static bool check_text(rparse *rp, const char *what, const char *s, size_t n)
{
    if (memchr(s, 0, n)) {
        rec_error(rp, "%s: contains a NUL byte", what);
        return false;
    }
    if (!ck_utf8_valid(s, n)) {
        rec_error(rp, "%s: not valid UTF-8 (save the file as UTF-8)", what);
        return false;
    }
    const char *p = s, *end = s + n;
    while (p < end) {
        int32_t cp = ck_utf8_next(&p, end);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || is_format_char(cp)) {
            rec_error(rp, "%s: contains a control character (U+%04X)", what, (unsigned)cp);
            return false;
        }
    }
    return true;
}

/* Writes a value of field f for messages: money as euros, others as digits. */
static const char *num_text(const ck_field *f, int64_t v, char *buf, size_t size)
{
    if (f->type == CK_FIELD_MONEY)
        ck_it_money(buf, size, v);
    else
        snprintf(buf, size, "%lld", (long long)v);
    return buf;
}

static bool check_range(rparse *rp, const ck_field *f, int64_t v)
{
    if (f->min > f->max)
        return true;
    /* The value itself is not repeated: amounts are personal data, and these reports end up
     * in operators' terminals and import logs. */
    char b[64];
    if (v < f->min) {
        rec_error(rp, "%s: less than the minimum %s", f->name, num_text(f, f->min, b, sizeof b));
        return false;
    }
    if (v > f->max) {
        rec_error(rp, "%s: more than the maximum %s", f->name, num_text(f, f->max, b, sizeof b));
        return false;
    }
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Optional sign and 1..18 digits (so the value cannot overflow int64). */
static bool parse_int_text(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 18)
        return false;
    int64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* Digits with optional thousands separators `sep` (groups of three after the first). */
static bool parse_grouped(const char *s, size_t n, char sep, int64_t *out)
{
    int64_t v = 0;
    size_t group = 0, digits = 0;
    bool grouped = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == sep) {
            if (group == 0 || group > 3 || (grouped && group != 3))
                return false;
            grouped = true;
            group = 0;
            continue;
        }
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
        group++;
        if (++digits > 13) /* ten thousand billion euros is not a benefit */
            return false;
    }
    if (group == 0 || (grouped && group != 3))
        return false;
    *out = v;
    return true;
}

/* Money as text: digits alone are cents (like a JSON integer); with a separator they are
 * euros: "538.69", "538,69", "1.234,56", "1,234.56", "1.234" (a thousands dot: three
 * digits after a single separator cannot be cents). */
static bool parse_money_text(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || !is_digit(s[i]))
        return false;
    int ndot = 0, ncomma = 0;
    size_t last = 0;
    for (size_t j = i; j < n; j++) {
        if (is_digit(s[j]))
            continue;
        if (s[j] == '.')
            ndot++;
        else if (s[j] == ',')
            ncomma++;
        else
            return false;
        last = j;
    }
    if (!ndot && !ncomma)
        return parse_int_text(s, n, out);
    char dec = 0;
    size_t after = n - last - 1;
    if (ndot && ncomma) {
        dec = s[last];
        if ((dec == '.' ? ndot : ncomma) != 1 || after < 1 || after > 2)
            return false;
    } else if ((ndot + ncomma) == 1 && after >= 1 && after <= 2) {
        dec = s[last];
    }
    int64_t euros, cents = 0;
    size_t int_end = dec ? last : n;
    char thousands = dec ? (dec == '.' ? ',' : '.') : (ndot ? '.' : ',');
    if (!parse_grouped(s + i, int_end - i, thousands, &euros))
        return false;
    if (dec) {
        for (size_t j = last + 1; j < n; j++)
            if (!is_digit(s[j]))
                return false;
        cents = (s[last + 1] - '0') * 10 + (after == 2 ? s[last + 2] - '0' : 0);
    }
    int64_t v = euros * 100 + cents;
    *out = neg ? -v : v;
    return true;
}

static bool parse_bool_text(const char *s, size_t n, bool *out)
{
    static const char *const yes[] = {"true", "1", "si"}, *const no[] = {"false", "0", "no"};
    for (size_t i = 0; i < 3; i++) {
        if (ascii_ieq(s, n, yes[i], strlen(yes[i]))) {
            *out = true;
            return true;
        }
        if (ascii_ieq(s, n, no[i], strlen(no[i]))) {
            *out = false;
            return true;
        }
    }
    /* "sì" / "SÌ" / "Sì": the accented form is the correct spelling. */
    const unsigned char *u = (const unsigned char *)s;
    if (n == 3 && ascii_lower(u[0]) == 's' && u[1] == 0xC3 && (u[2] == 0xAC || u[2] == 0x8C)) {
        *out = true;
        return true;
    }
    return false;
}

/* Sets the set bits from one value name; false (with a message) when it is not a value. */
static bool set_add(rparse *rp, const ck_field *f, const char *s, size_t n, uint64_t *set)
{
    int k = tpl_value_find(f, s, n);
    if (k < 0) {
        char q[128], list[256];
        rec_error(rp, "%s: %s is not one of %s", f->name, tpl_quote(s, n, q, sizeof q),
                  tpl_values_list(f, list, sizeof list));
        return false;
    }
    *set |= (uint64_t)1 << k;
    return true;
}

/* One value from text (a CSV cell or a JSON string), already trimmed and not empty.
 * Fills `out` and returns true, or reports and returns false. */
/* A letter of any script: ASCII, Latin-1 and Latin Extended (not the signs x and /), and
 * everything past the general punctuation and symbol blocks' start is taken as a letter of
 * another script, except the symbol and punctuation blocks themselves. */
static bool is_letter(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7)
        return false;
    if (cp >= 0x2B0 && cp <= 0x36F) /* modifier letters, combining accents alone */
        return false;
    if (cp >= 0x2000 && cp <= 0x2BFF) /* punctuation, currency, arrows, maths, shapes */
        return false;
    if ((cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE6F) ||
        (cp >= 0xFF00 && cp <= 0xFF20) || cp >= 0x1F000) /* CJK punctuation, forms, emoji */
        return false;
    return true;
}

/* A field that holds a person's name (first_name, last_name, nome, cognome, ...): shown as
 * a name, so it must have at least one letter ("123" or "--" is a data entry error). */
static bool is_name_field(const ck_field *f)
{
    return strstr(f->name, "name") || strstr(f->name, "nome");
}

/* What a string value must not be, since it is shown on screen as is. */
static bool check_shown(rparse *rp, const ck_field *f, const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((s[i] == '{' && s[i + 1] == '{') || (s[i] == '}' && s[i + 1] == '}')) {
            rec_error(rp,
                      "%s: contains \"%c%c\", a template delimiter: a value is shown as "
                      "written, never as a template",
                      f->name, s[i], s[i + 1]);
            return false;
        }
    if (is_name_field(f)) {
        bool letter = false;
        const char *p = s, *end = s + n;
        while (p < end && !letter)
            letter = is_letter(ck_utf8_next(&p, end));
        if (!letter) {
            rec_error(rp, "%s: has no letter; a name needs at least one", f->name);
            return false;
        }
    }
    return true;
}

static bool value_from_text(rparse *rp, const ck_field *f, const char *s, size_t n, ck_value *out)
{
    char q[128], list[256];
    if (!check_text(rp, f->name, s, n))
        return false;
    switch (f->type) {
    case CK_FIELD_STRING: {
        size_t max = f->max_length > 0 ? (size_t)f->max_length : DEFAULT_MAX_LENGTH;
        size_t cps = 0;
        for (size_t i = 0; i < n; i++)
            cps += ((unsigned char)s[i] & 0xC0) != 0x80;
        if (cps > max) {
            rec_error(rp, "%s: longer than %zu characters (%zu)", f->name, max, cps);
            return false;
        }
        if (!check_shown(rp, f, s, n))
            return false;
        out->str = ck_arena_strndup(&rp->recs->arena, s, n);
        break;
    }
    case CK_FIELD_ENUM: {
        int k = tpl_value_find(f, s, n);
        if (k < 0) {
            rec_error(rp, "%s: %s is not one of %s", f->name, tpl_quote(s, n, q, sizeof q),
                      tpl_values_list(f, list, sizeof list));
            return false;
        }
        out->i = k;
        out->str = f->values[k];
        break;
    }
    case CK_FIELD_DATE: {
        char d[11];
        int32_t days;
        bool shape = n == 10 && s[4] == '-' && s[7] == '-';
        for (size_t i = 0; shape && i < 10; i++)
            shape = i == 4 || i == 7 || is_digit(s[i]);
        if (!shape) {
            rec_error(rp, "%s: %s is not a date in the form YYYY-MM-DD", f->name,
                      tpl_quote(s, n, q, sizeof q));
            return false;
        }
        memcpy(d, s, 10);
        d[10] = 0;
        if (!ck_parse_date(d, &days)) {
            if (memcmp(d, "1900", 4) < 0)
                rec_error(rp, "%s: \"%s\" is before 1900", f->name, d);
            else
                rec_error(rp, "%s: \"%s\" is not a real date (YYYY-MM-DD)", f->name, d);
            return false;
        }
        out->i = days;
        break;
    }
    case CK_FIELD_MONEY:
        if (!parse_money_text(s, n, &out->i)) {
            rec_error(rp, "%s: %s is not an amount (cents as digits: 53869, or euros: \"538,69\")",
                      f->name, tpl_quote(s, n, q, sizeof q));
            return false;
        }
        if (!check_range(rp, f, out->i))
            return false;
        break;
    case CK_FIELD_INTEGER:
        if (!parse_int_text(s, n, &out->i)) {
            rec_error(rp, "%s: %s is not an integer", f->name, tpl_quote(s, n, q, sizeof q));
            return false;
        }
        if (!check_range(rp, f, out->i))
            return false;
        break;
    case CK_FIELD_BOOLEAN: {
        bool b;
        if (!parse_bool_text(s, n, &b)) {
            rec_error(rp, "%s: %s is not a boolean (true, false, si, no, 1, 0)", f->name,
                      tpl_quote(s, n, q, sizeof q));
            return false;
        }
        out->i = b;
        break;
    }
    case CK_FIELD_SET: {
        /* "a|b" or "a;b" (';' needs quoting in a ';'-separated file, '|' never does). */
        uint64_t set = 0;
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i < n && s[i] != '|' && s[i] != ';')
                continue;
            const char *part = s + start;
            size_t pn = i - start;
            trim(&part, &pn);
            if (pn && !set_add(rp, f, part, pn, &set))
                return false;
            start = i + 1;
        }
        out->set = set;
        break;
    }
    default:
        rec_error(rp, "%s: the scene gives this field an unknown type", f->name);
        return false;
    }
    out->present = true;
    return true;
}

static const char *json_phrase(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "text";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with decimals";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

enum { VAL_ERROR = -1, VAL_ABSENT = 0, VAL_PRESENT = 1 };

/* One value from JSON. null and empty text mean "absent". */
static int value_from_json(rparse *rp, const ck_field *f, json_t *v, ck_value *out)
{
    if (!v || json_is_null(v))
        return VAL_ABSENT;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        trim(&s, &n);
        if (n == 0)
            return VAL_ABSENT;
        return value_from_text(rp, f, s, n, out) ? VAL_PRESENT : VAL_ERROR;
    }
    switch (f->type) {
    case CK_FIELD_MONEY:
    case CK_FIELD_INTEGER:
        if (json_is_integer(v)) {
            out->i = json_integer_value(v);
            if (!check_range(rp, f, out->i))
                return VAL_ERROR;
            out->present = true;
            return VAL_PRESENT;
        }
        if (json_is_real(v) && f->type == CK_FIELD_MONEY) {
            /* 538.69 could be euros or a float rounding of cents: ask for an exact form. */
            rec_error(rp,
                      "%s: %g has decimals; write cents as an integer (53869) or euros as "
                      "text (\"538,69\")",
                      f->name, json_real_value(v));
            return VAL_ERROR;
        }
        break;
    case CK_FIELD_BOOLEAN:
        if (json_is_boolean(v) ||
            (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))) {
            out->i = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1);
            out->present = true;
            return VAL_PRESENT;
        }
        break;
    case CK_FIELD_SET:
        if (json_is_array(v)) {
            uint64_t set = 0;
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if (!json_is_string(item)) {
                    rec_error(rp, "%s: expected a list of text values, found %s", f->name,
                              json_phrase(item));
                    return VAL_ERROR;
                }
                const char *s = json_string_value(item);
                size_t n = json_string_length(item);
                trim(&s, &n);
                if (!check_text(rp, f->name, s, n))
                    return VAL_ERROR;
                if (n && !set_add(rp, f, s, n, &set))
                    return VAL_ERROR;
            }
            out->set = set;
            out->present = true;
            return VAL_PRESENT;
        }
        break;
    default:
        break;
    }
    static const char *const want[] = {
        [CK_FIELD_STRING] = "text",          [CK_FIELD_ENUM] = "text",
        [CK_FIELD_DATE] = "a date as text",  [CK_FIELD_MONEY] = "an amount",
        [CK_FIELD_INTEGER] = "an integer",   [CK_FIELD_BOOLEAN] = "true or false",
        [CK_FIELD_SET] = "a list of values",
    };
    rec_error(rp, "%s: expected %s, got %s", f->name,
              (unsigned)f->type < CK_ARRAY_LEN(want) ? want[f->type] : "a value", json_phrase(v));
    return VAL_ERROR;
}

/* Checks an id and copies it into the arena; NULL (with a message) when unusable. */
static const char *take_id(rparse *rp, const char *s, size_t n)
{
    trim(&s, &n);
    if (n == 0) {
        rec_error(rp, "id: missing");
        return NULL;
    }
    if (!check_text(rp, "id", s, n))
        return NULL;
    if (n > ID_MAX_BYTES) {
        rec_error(rp, "id: longer than %d bytes (%zu)", ID_MAX_BYTES, n);
        return NULL;
    }
    return ck_arena_strndup(&rp->recs->arena, s, n);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Records `id` as seen on rp->line; returns the line of an earlier record with the same id,
 * or 0. (If memory runs out, duplicates are no longer detected; the import still works.) */
static int id_seen(rparse *rp, const char *id)
{
    if (rp->id_count * 2 >= rp->id_cap) {
        size_t cap = rp->id_cap ? rp->id_cap * 2 : 256;
        id_slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return 0;
        for (size_t i = 0; i < rp->id_cap; i++) {
            if (!rp->ids[i].id)
                continue;
            size_t k = hash_str(rp->ids[i].id) & (cap - 1);
            while (slots[k].id)
                k = (k + 1) & (cap - 1);
            slots[k] = rp->ids[i];
        }
        free(rp->ids);
        rp->ids = slots;
        rp->id_cap = cap;
    }
    size_t k = hash_str(id) & (rp->id_cap - 1);
    while (rp->ids[k].id) {
        if (strcmp(rp->ids[k].id, id) == 0)
            return rp->ids[k].line;
        k = (k + 1) & (rp->id_cap - 1);
    }
    rp->ids[k].id = id;
    rp->ids[k].line = rp->line;
    rp->id_count++;
    return 0;
}

/* Ends a record: checks its id is new and keeps it when nothing was wrong. */
static void finish_record(rparse *rp, const char *id, ck_value *values)
{
    if (id) {
        int first = id_seen(rp, id);
        /* Person ids are personal data: name the lines, not the id. */
        if (first)
            rec_error(rp, "id: the same id as the record on line %d", first);
    }
    if (rp->bad || !id || !values)
        return;
    if (rp->count == rp->cap) {
        size_t cap = rp->cap ? rp->cap * 2 : 64;
        ck_record *items = realloc(rp->items, cap * sizeof *items);
        if (!items) {
            rec_error(rp, "out of memory");
            return;
        }
        rp->items = items;
        rp->cap = cap;
    }
    rp->items[rp->count++] = (ck_record){.id = id, .values = values, .line = rp->line};
}

static ck_value *new_values(rparse *rp)
{
    size_t n = rp->scene->field_count > 0 ? (size_t)rp->scene->field_count : 1;
    return ck_arena_alloc(&rp->recs->arena, n * sizeof(ck_value));
}

static void missing(rparse *rp, const ck_field *f)
{
    if (f->required)
        rec_error(rp, "%s: required field missing", f->name);
}

/* ---- JSON ---- */

/* Line of each element of the top-level array. jansson keeps no positions for values, so
 * the text is scanned here: strings (with escapes) are skipped, depth is tracked, and the
 * first character of each element at depth 1 gives its line. The input has already parsed,
 * so the scanner can be this simple. Returns a malloc'd array (NULL on OOM). */
static int *json_element_lines(const char *s, size_t n, size_t count, size_t *offs)
{
    int *lines = calloc(count ? count : 1, sizeof *lines);
    if (!lines)
        return NULL;
    size_t k = 0;
    int line = 1, depth = 0;
    bool in_str = false, esc = false, expect = false;
    for (size_t i = 0; i < n && k < count; i++) {
        char c = s[i];
        if (c == '\n')
            line++;
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (depth == 1 && expect && !is_blank(c) && c != ']') {
            offs[k] = i;
            lines[k++] = line;
            expect = false;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            depth++;
            if (depth == 1 && c == '[')
                expect = true;
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect = true;
        }
    }
    return lines;
}

/* The line of key `name` in the record's object (which starts at rp->rec_off on line
 * `line`), so that a message points at the field of a record written over many lines;
 * `line` when not found (an escaped key, a record that is not an object). */
static int json_key_line(const rparse *rp, const char *name, int line)
{
    const char *s = rp->src;
    size_t n = rp->src_len, nl = strlen(name), i = rp->rec_off;
    if (!s)
        return line;
    while (i < n && s[i] != '{')
        line += s[i++] == '\n';
    int depth = 0;
    bool key = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            line++;
        } else if (c == '"') {
            size_t start = ++i;
            while (i < n && s[i] != '"') {
                line += s[i] == '\n';
                i += s[i] == '\\' ? 2 : 1;
            }
            if (i >= n)
                break;
            if (depth == 1 && key && i - start == nl && memcmp(s + start, name, nl) == 0)
                return line;
            key = false;
        } else if (c == '{' || c == '[') {
            depth++;
            key = depth == 1;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                break;
        } else if (c == ',' && depth == 1) {
            key = true;
        }
    }
    return line;
}

static void json_record(rparse *rp, json_t *obj, int line)
{
    rp->line = line;
    rp->bad = false;
    if (!json_is_object(obj)) {
        rec_error(rp, "expected an object {...} for each record, got %s", json_phrase(obj));
        return;
    }
    ck_value *values = new_values(rp);
    if (!values) {
        rec_error(rp, "out of memory");
        return;
    }
    const char *id = NULL;
    json_t *jid = json_object_get(obj, "id");
    if (!jid || json_is_null(jid)) {
        rec_error(rp, "id: missing");
    } else if (json_is_string(jid)) {
        id = take_id(rp, json_string_value(jid), json_string_length(jid));
    } else if (json_is_integer(jid)) {
        id = ck_arena_printf(&rp->recs->arena, "%lld", (long long)json_integer_value(jid));
    } else {
        rec_error(rp, "id: expected text, got %s", json_phrase(jid));
    }
    for (int i = 0; i < rp->scene->field_count; i++) {
        const ck_field *f = &rp->scene->fields[i];
        json_t *v = json_object_get(obj, f->name);
        rp->line = v ? json_key_line(rp, f->name, line) : line;
        int r = value_from_json(rp, f, v, &values[i]);
        rp->line = line;
        if (r == VAL_ABSENT)
            missing(rp, f);
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t kn = strlen(key);
        if (strcmp(key, "id") == 0 || tpl_field_find(rp->scene, key, kn) >= 0)
            continue;
        /* Once per file: the same stray key on 10 000 records is one problem. */
        bool seen = false;
        for (size_t u = 0; u < rp->unknown_count && !seen; u++)
            seen = strcmp(rp->unknown[u], key) == 0;
        if (seen || rp->unknown_count == MAX_UNKNOWN_KEYS)
            continue;
        rp->unknown[rp->unknown_count++] = ck_arena_strdup(&rp->recs->arena, key);
        warn_unknown(rp, key, kn);
    }
    finish_record(rp, id, values);
}

static bool parse_json(rparse *rp, const char *s, size_t n)
{
    json_error_t je;
    json_t *root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, je.line > 0 ? je.line : 0,
                    je.column > 0 ? je.column : 0, "not valid JSON: %s", je.text);
        return false;
    }
    bool ok = true;
    rp->src = s;
    rp->src_len = n;
    if (json_is_object(root)) {
        int line = 1;
        for (size_t i = 0; i < n && s[i] != '{'; i++)
            line += s[i] == '\n';
        rp->rec_off = 0;
        json_record(rp, root, line);
    } else if (json_array_size(root) == 0) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, 0, 0, "no records");
        ok = false;
    } else {
        size_t count = json_array_size(root);
        size_t *offs = calloc(count, sizeof *offs);
        int *lines = offs ? json_element_lines(s, n, count, offs) : NULL;
        for (size_t i = 0; i < count; i++) {
            /* Without the positions (out of memory), messages name line 0, never a wrong one. */
            rp->src = lines ? s : NULL;
            rp->rec_off = offs ? offs[i] : 0;
            json_record(rp, json_array_get(root, i), lines ? lines[i] : 0);
        }
        free(lines);
        free(offs);
    }
    json_decref(root);
    return ok;
}

/* ---- CSV ---- */

typedef struct csv_cell {
    size_t off, len; /* in the scratch buffer (NUL-terminated there) */
    bool quoted;
} csv_cell;

typedef struct csv_reader {
    const char *p, *end;
    char sep;
    int line;     /* line of the cursor */
    int row_line; /* line where the last row started */
    char *scratch;
    size_t slen, scap;
    csv_cell *cells;
    int ncells, ccap;
    bool oom;
} csv_reader;

static void csv_put(csv_reader *r, char c)
{
    if (r->slen == r->scap) {
        size_t cap = r->scap ? r->scap * 2 : 1024;
        char *nb = realloc(r->scratch, cap);
        if (!nb) {
            r->oom = true;
            return;
        }
        r->scratch = nb;
        r->scap = cap;
    }
    r->scratch[r->slen++] = c;
}

static void csv_skip_line(csv_reader *r)
{
    while (r->p < r->end && *r->p != '\n')
        r->p++;
    if (r->p < r->end)
        r->p++;
    r->line++;
}

/* Reads one row (RFC 4180: quoted cells may hold separators, "" and newlines; CRLF, LF or
 * CR end a row). Returns 1 for a row, 0 at the end, -1 for a broken row (*why says how;
 * the reader has moved past it). */
static int csv_row(csv_reader *r, const char **why)
{
    r->ncells = 0;
    r->slen = 0;
    if (r->p >= r->end)
        return 0;
    r->row_line = r->line;
    for (;;) {
        if (r->ncells == MAX_COLUMNS) {
            *why = "too many columns (more than 1024)";
            csv_skip_line(r);
            return -1;
        }
        size_t start = r->slen;
        bool quoted = false;
        const char *t = r->p;
        while (t < r->end && (*t == ' ' || *t == '\t'))
            t++;
        if (t < r->end && *t == '"') {
            quoted = true;
            r->p = t + 1;
            for (;;) {
                if (r->p >= r->end) {
                    *why = "a quoted cell is not closed (missing '\"')";
                    return -1;
                }
                char c = *r->p++;
                if (c == '"') {
                    if (r->p < r->end && *r->p == '"') {
                        csv_put(r, '"');
                        r->p++;
                        continue;
                    }
                    break;
                }
                if (c == '\n')
                    r->line++;
                csv_put(r, c);
            }
            while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
                r->p++;
            if (r->p < r->end && *r->p != r->sep && *r->p != '\r' && *r->p != '\n') {
                *why = "unexpected text after a closing quote (write \"\" for a quote inside "
                       "a quoted cell)";
                csv_skip_line(r);
                return -1;
            }
        } else {
            while (r->p < r->end && *r->p != r->sep && *r->p != '\r' && *r->p != '\n')
                csv_put(r, *r->p++);
        }
        csv_put(r, 0);
        if (r->oom) {
            *why = "out of memory";
            r->p = r->end;
            return -1;
        }
        if (r->ncells == r->ccap) {
            int cap = r->ccap ? r->ccap * 2 : 32;
            csv_cell *cells = realloc(r->cells, (size_t)cap * sizeof *cells);
            if (!cells) {
                *why = "out of memory";
                r->p = r->end;
                return -1;
            }
            r->cells = cells;
            r->ccap = cap;
        }
        r->cells[r->ncells++] = (csv_cell){start, r->slen - 1 - start, quoted};
        if (r->p < r->end && *r->p == r->sep) {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n')
            r->p++;
        r->line++;
        return 1;
    }
}

/* The separator is whichever of ',' and ';' the header uses more (outside quotes): Italian
 * Excel writes ';' because ',' is the decimal mark. */
static char csv_detect_sep(const char *s, size_t n)
{
    int commas = 0, semis = 0;
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"')
            q = !q;
        else if (!q && (c == '\n' || c == '\r'))
            break;
        else if (!q && c == ',')
            commas++;
        else if (!q && c == ';')
            semis++;
    }
    return semis > commas ? ';' : ',';
}

enum { COL_IGNORE = -2, COL_ID = -1 };

static bool parse_csv(rparse *rp, const char *s, size_t n)
{
    csv_reader r = {.p = s, .end = s + n, .line = 1, .sep = csv_detect_sep(s, n)};
    const ck_scene *sc = rp->scene;
    int *map = NULL;
    bool ok = false;
    const char *why = NULL;
    int ncols = 0;

    /* Header. Blank lines before it are skipped. */
    int rc;
    do {
        rc = csv_row(&r, &why);
    } while (rc == 1 && r.ncells == 1 && r.cells[0].len == 0 && !r.cells[0].quoted);
    rp->line = r.row_line;
    if (rc == 0) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, 0, 0, "no records");
        goto done;
    }
    if (rc < 0) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0, "header: %s", why);
        goto done;
    }
    ncols = r.ncells;
    map = malloc((size_t)ncols * sizeof *map);
    bool *have = calloc(sc->field_count > 0 ? (size_t)sc->field_count : 1, sizeof *have);
    if (!map || !have) {
        free(have);
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, 0, 0, "out of memory");
        goto done;
    }
    bool have_id = false, header_ok = true;
    for (int k = 0; k < ncols; k++) {
        const char *name = r.scratch + r.cells[k].off;
        size_t len = r.cells[k].len;
        trim(&name, &len);
        map[k] = COL_IGNORE;
        if (!ck_utf8_valid(name, len)) {
            ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0,
                        "header: column %d is not valid UTF-8 (is this a CSV file in UTF-8?)",
                        k + 1);
            header_ok = false;
            break;
        }
        if (len == 0) {
            rec_warn(rp, "column %d has no name in the header (ignored)", k + 1);
            continue;
        }
        bool is_id = len == 2 && memcmp(name, "id", 2) == 0;
        int fi = is_id ? COL_ID : tpl_field_find(sc, name, len);
        if (!is_id && fi < 0) {
            warn_unknown(rp, name, len);
            continue;
        }
        bool dup = fi == COL_ID ? have_id : have[fi];
        if (dup) {
            char q[128];
            ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0,
                        "header: column %s appears twice", tpl_quote(name, len, q, sizeof q));
            header_ok = false;
            continue;
        }
        if (fi == COL_ID)
            have_id = true;
        else
            have[fi] = true;
        map[k] = fi;
    }
    if (header_ok && !have_id) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0,
                    "header: no \"id\" column (the first row must name the columns: id,%s...)",
                    sc->field_count ? sc->fields[0].name : "");
        header_ok = false;
    }
    /* A required column that is missing would fail every row: say it once, here. */
    bool columns_ok = header_ok;
    for (int i = 0; columns_ok && i < sc->field_count; i++) {
        if (!have[i] && sc->fields[i].required) {
            ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, rp->line, 0,
                        "%s: required field missing (no such column in the header)",
                        sc->fields[i].name);
            header_ok = false;
        }
    }
    free(have);
    if (!header_ok)
        goto done;

    size_t rows = 0;
    while ((rc = csv_row(&r, &why)) != 0) {
        rp->line = r.row_line;
        rp->bad = false;
        if (rc < 0) {
            rec_error(rp, "%s", why);
            rows++;
            continue;
        }
        if (r.ncells == 1 && r.cells[0].len == 0 && !r.cells[0].quoted)
            continue; /* blank line */
        rows++;
        int extra = 0;
        for (int k = ncols; k < r.ncells; k++) {
            const char *c = r.scratch + r.cells[k].off;
            size_t len = r.cells[k].len;
            trim(&c, &len);
            extra += len > 0;
        }
        if (r.ncells < ncols || extra) {
            /* Trailing empty cells (a separator at the end of each line) are harmless. */
            rec_error(rp, "row has %d cells, the header has %d", r.ncells, ncols);
            continue;
        }
        ck_value *values = new_values(rp);
        if (!values) {
            rec_error(rp, "out of memory");
            continue;
        }
        const char *id = NULL;
        for (int k = 0; k < ncols; k++) {
            if (map[k] == COL_IGNORE)
                continue;
            const char *c = r.scratch + r.cells[k].off;
            size_t len = r.cells[k].len;
            trim(&c, &len);
            if (map[k] == COL_ID) {
                id = take_id(rp, c, len);
                continue;
            }
            const ck_field *f = &sc->fields[map[k]];
            if (len == 0) {
                if (f->type == CK_FIELD_SET)
                    values[map[k]].present = true; /* an empty cell is the empty set */
                else
                    missing(rp, f);
                continue;
            }
            value_from_text(rp, f, c, len, &values[map[k]]);
        }
        finish_record(rp, id, values);
    }
    if (rows == 0) {
        ck_diag_add(rp->diags, CK_SEV_ERROR, rp->file, 0, 0, "no records");
        goto done;
    }
    ok = true;
done:
    free(map);
    free(r.scratch);
    free(r.cells);
    return ok;
}

/* ---- entry points ---- */

static bool scene_fits(const ck_scene *scene, ck_diags *diags, const char *file)
{
    if (scene->field_count > CK_MAX_FIELDS) {
        ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0,
                    "the scene declares %d fields; records support at most %d", scene->field_count,
                    CK_MAX_FIELDS);
        return false;
    }
    for (int i = 0; i < scene->field_count; i++) {
        const ck_field *f = &scene->fields[i];
        if (!f->name || ((f->type == CK_FIELD_SET || f->type == CK_FIELD_ENUM) &&
                         (f->value_count > CK_MAX_SET_VALUES || (f->value_count && !f->values)))) {
            ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0,
                        "field %d of the scene cannot hold records (no name, or more than %d "
                        "values)",
                        i + 1, CK_MAX_SET_VALUES);
            return false;
        }
    }
    return true;
}

ck_records *ck_records_parse(const ck_scene *scene, const char *buf, size_t len, const char *file,
                             ck_diags *diags)
{
    if (!scene || (!buf && len))
        return NULL;
    if (!scene_fits(scene, diags, file))
        return NULL;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    size_t first = 0;
    while (first < len && is_blank(buf[first]))
        first++;
    if (first == len) {
        ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0, "no records");
        return NULL;
    }
    if (memchr(buf, 0, len)) {
        ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0,
                    "not a JSON or CSV file: it contains NUL bytes (binary, or UTF-16?)");
        return NULL;
    }
    ck_records *recs = calloc(1, sizeof *recs);
    if (!recs) {
        ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0, "out of memory");
        return NULL;
    }
    recs->file = file ? ck_arena_strdup(&recs->arena, file) : NULL;
    rparse rp = {.scene = scene, .diags = diags, .file = file, .recs = recs};
    bool ok;
    if (buf[first] == '{' || buf[first] == '[')
        ok = parse_json(&rp, buf, len);
    else
        ok = parse_csv(&rp, buf, len);
    if (ok && rp.count) {
        recs->items = ck_arena_alloc(&recs->arena, rp.count * sizeof *recs->items);
        if (recs->items) {
            memcpy(recs->items, rp.items, rp.count * sizeof *recs->items);
            recs->count = rp.count;
        } else {
            ck_diag_add(diags, CK_SEV_ERROR, file, 0, 0, "out of memory");
            ok = false;
        }
    }
    free(rp.items);
    free(rp.ids);
    if (!ok)
        ck_records_destroy(&recs);
    return recs;
}

ck_records *ck_records_load(const ck_scene *scene, const char *path, ck_diags *diags)
{
    char *buf;
    size_t len;
    ck_error err;
    if (ck_read_file(path, RECORDS_FILE_LIMIT, &buf, &len, &err) != CK_OK) {
        ck_diag_add_error(diags, &err);
        return NULL;
    }
    ck_records *recs = ck_records_parse(scene, buf, len, path, diags);
    free(buf);
    return recs;
}

void ck_records_destroy(ck_records **recs)
{
    if (!recs || !*recs)
        return;
    ck_arena_free(&(*recs)->arena);
    free(*recs);
    *recs = NULL;
}

/* A linear scan: record files are looked up a handful of times per command (the server reads
 * people from the store, not from here), so an index would cost more than it saves. */
long ck_records_find(const ck_records *recs, const char *id)
{
    if (!recs || !id)
        return -1;
    for (size_t i = 0; i < recs->count; i++)
        if (strcmp(recs->items[i].id, id) == 0)
            return (long)i;
    return -1;
}
