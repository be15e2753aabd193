/* italian.c: Italian formatting of dates, money, numbers and names into a string builder
 * (ck_strbuf, engine/core).
 *
 * Conventions (see README.md): CLDR it-IT for numbers and money ("1.234,56 €", no-break space
 * before the sign, minus in front: "-12,50 €"); dates written out ("1 aprile 2025", day
 * without a leading zero, month and weekday in lower case as Italian does); names in title
 * case with the registry's "vowel + apostrophe" turned into an accented vowel.
 */
#include "template_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers and money ---- */

/* Writes v with a dot every three digits ("1.234.567"): CLDR it-IT groups from 4 digits on
 * (minimumGroupingDigits 1), unlike es-ES which leaves "1234" alone. */
static void put_grouped(ck_strbuf *sb, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char out[32];
    int k = 0;
    for (int i = n - 1; i >= 0; i--) {
        out[k++] = digits[i];
        if (i > 0 && i % 3 == 0)
            out[k++] = '.';
    }
    ck_strbuf_add(sb, out, (size_t)k);
}

/* |v| without overflow for INT64_MIN. */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

void tpl_it_number_sb(ck_strbuf *sb, int64_t n)
{
    if (n < 0)
        ck_strbuf_add(sb, "-", 1);
    put_grouped(sb, magnitude(n));
}

void tpl_it_money_sb(ck_strbuf *sb, int64_t cents)
{
    uint64_t m = magnitude(cents);
    if (cents < 0)
        ck_strbuf_add(sb, "-", 1);
    put_grouped(sb, m / 100);
    char dec[3] = {',', (char)('0' + m % 100 / 10), (char)('0' + m % 10)};
    ck_strbuf_add(sb, dec, 3);
    /* U+00A0 keeps the amount and the sign on one line when text wraps. */
    ck_strbuf_puts(sb, "\xC2\xA0\xE2\x82\xAC");
}

/* ---- dates ---- */

static const char *const month_names[12] = {
    "gennaio", "febbraio", "marzo",     "aprile",  "maggio",   "giugno",
    "luglio",  "agosto",   "settembre", "ottobre", "novembre", "dicembre",
};

/* Monday first, as ck_weekday counts. */
static const char *const weekday_names[7] = {
    "luned\xC3\xAC",  "marted\xC3\xAC", "mercoled\xC3\xAC", "gioved\xC3\xAC",
    "venerd\xC3\xAC", "sabato",         "domenica",
};

void tpl_it_date_sb(ck_strbuf *sb, int32_t days, bool weekday)
{
    /* Years 1..9999 only: the civil-date arithmetic would overflow far outside, and no
     * record holds such a date (ck_parse_date accepts 1900 on). */
    if (days < -719162 || days > 2932896)
        return;
    int y, m, d;
    ck_civil_from_days(days, &y, &m, &d);
    if (weekday) {
        ck_strbuf_puts(sb, weekday_names[ck_weekday(days)]);
        ck_strbuf_add(sb, " ", 1);
    }
    char num[16];
    int n = 0;
    if (d >= 10)
        num[n++] = (char)('0' + d / 10);
    num[n++] = (char)('0' + d % 10);
    num[n++] = ' ';
    ck_strbuf_add(sb, num, (size_t)n);
    ck_strbuf_puts(sb, month_names[m - 1]);
    ck_strbuf_add(sb, " ", 1);
    /* The year is never grouped: "2025", not "2.025". */
    n = 0;
    char rev[8];
    int r = 0;
    do {
        rev[r++] = (char)('0' + y % 10);
        y /= 10;
    } while (y && r < 8);
    while (r)
        num[n++] = rev[--r];
    ck_strbuf_add(sb, num, (size_t)n);
}

/* The articled prepositions that can stand before a day of the month, and their elided
 * forms: a day read with a vowel sound (1 "uno", 8 "otto", 11 "undici") takes the
 * apostrophe, "dell'11 dicembre", "all'8 marzo", "l'1 aprile"; every other day keeps the
 * full form, "del 12 dicembre". */
static const struct {
    const char *full, *elided;
} date_preps[] = {
    {"il", "l'"},   {"del", "dell'"}, {"dal", "dall'"},
    {"al", "all'"}, {"nel", "nell'"}, {"sul", "sull'"},
};

int tpl_it_date_prep_find(const char *prep, size_t n)
{
    for (size_t i = 0; prep && i < CK_ARRAY_LEN(date_preps); i++)
        if (strlen(date_preps[i].full) == n && memcmp(date_preps[i].full, prep, n) == 0)
            return (int)i;
    return -1;
}

void tpl_it_date_prep_sb(ck_strbuf *sb, int32_t days, int prep)
{
    if (days < -719162 || days > 2932896 || prep < 0 || prep >= (int)CK_ARRAY_LEN(date_preps))
        return;
    int y, m, d;
    ck_civil_from_days(days, &y, &m, &d);
    if (d == 1 || d == 8 || d == 11) {
        ck_strbuf_puts(sb, date_preps[prep].elided);
    } else {
        ck_strbuf_puts(sb, date_preps[prep].full);
        ck_strbuf_add(sb, " ", 1);
    }
    tpl_it_date_sb(sb, days, false);
}

/* ---- case mapping over Latin letters ---- */

int32_t tpl_cp_lower(int32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c < 0x100 || c > 0x17F)
        return c;
    /* Latin Extended-A pairs upper/lower, with the parity flipping at U+0139 and U+0179. */
    if (c == 0x130)
        return 'i';
    if (c == 0x178)
        return 0xFF;
    if (c <= 0x137 || (c >= 0x14A && c <= 0x177))
        return (c & 1) ? c : c + 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c + 1 : c;
    return c;
}

int32_t tpl_cp_upper(int32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7)
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    if (c < 0x100 || c > 0x17F)
        return c;
    if (c == 0x131)
        return 'I';
    if (c == 0x130)
        return c;
    if (c <= 0x137 || (c >= 0x14A && c <= 0x177))
        return (c & 1) ? c - 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c : c - 1;
    return c;
}

static void map_case(ck_strbuf *sb, const char *s, size_t n, bool upper)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        int32_t cp = ck_utf8_next(&p, end);
        if (cp < 0)
            cp = 0xFFFD;
        ck_strbuf_put_cp(sb, upper ? tpl_cp_upper(cp) : tpl_cp_lower(cp));
    }
}

void tpl_it_upper_sb(ck_strbuf *sb, const char *s, size_t n)
{
    map_case(sb, s, n, true);
}

void tpl_it_lower_sb(ck_strbuf *sb, const char *s, size_t n)
{
    map_case(sb, s, n, false);
}

/* ---- names ---- */

static bool is_space(int32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x2007 || c == 0x202F ||
           c == 0x3000 || (c >= 0x2000 && c <= 0x200A);
}

static bool is_apostrophe(int32_t c)
{
    /* ' and ’ as the task asks, plus ` and ´ that registry exports use for the accent. */
    return c == '\'' || c == 0x2019 || c == '`' || c == 0xB4;
}

/* Letters that make up a word. Everything from U+00C0 on counts, except the two Latin-1
 * signs and the punctuation blocks, so names in other scripts pass through as words (their
 * case is left alone: tpl_cp_lower/upper only map Latin). */
static bool is_letter(int32_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    if (c < 0xC0 || c == 0xD7 || c == 0xF7)
        return false;
    if (c >= 0x2000 && c <= 0x2BFF) /* punctuation, symbols, arrows... */
        return false;
    if (c == 0xFFFD || c == 0x3000)
        return false;
    return true;
}

static int32_t grave_vowel(int32_t c)
{
    switch (c) {
    case 'a':
        return 0xE0;
    case 'e':
        return 0xE8;
    case 'i':
        return 0xEC;
    case 'o':
        return 0xF2;
    case 'u':
        return 0xF9;
    default:
        return 0;
    }
}

static int32_t peek_cp(const char *p, const char *end, const char **next)
{
    int32_t cp = ck_utf8_next(&p, end);
    if (next)
        *next = p;
    return cp < 0 ? 0xFFFD : cp;
}

/* Title case, word by word. A word is a run of letters; apostrophes, hyphens and spaces
 * separate words, so "D'ANGELO" -> "D'Angelo", "DELL'ACQUA" -> "Dell'Acqua" and particles
 * (De, Di, Lo, Della) are capitalised like any word, which is how Italian registries and
 * INPS letters write surnames. A word already in mixed case ("McDonald") is kept as written:
 * only all-upper or all-lower words are recased. A word that ends in vowel + apostrophe
 * before a non-letter is the registry's way of writing a final accent ("NICOLO'", "FELICITA'")
 * and becomes the accented vowel (grave: à è ì ò ù, as Italian names take). Any other
 * apostrophe (', ’, ` or ´) is written as ' ("D’AMICO" -> "D'Amico"). Runs of whitespace
 * become one space and the ends are trimmed. */
void tpl_it_name_case_sb(ck_strbuf *sb, const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    bool pending_space = false, any = false;
    while (p < end) {
        const char *q;
        int32_t cp = peek_cp(p, end, &q);
        if (is_space(cp)) {
            pending_space = any;
            p = q;
            continue;
        }
        if (pending_space)
            ck_strbuf_add(sb, " ", 1);
        pending_space = false;
        any = true;
        if (!is_letter(cp)) {
            /* One apostrophe, the one every text of ours writes ("l'INPS", "dell'11"): a
             * name typed with ’ would otherwise sit beside l'indennità in the same caption. */
            ck_strbuf_put_cp(sb, is_apostrophe(cp) ? '\'' : cp);
            p = q;
            continue;
        }
        /* Find the word and look at it once before writing it. */
        const char *wend = p, *last = p;
        int letters = 0;
        bool upper_after_first = false, has_lower = false;
        while (wend < end) {
            const char *nx;
            int32_t c = peek_cp(wend, end, &nx);
            if (!is_letter(c))
                break;
            if (letters > 0 && tpl_cp_lower(c) != c)
                upper_after_first = true;
            if (tpl_cp_upper(c) != c)
                has_lower = true;
            last = wend;
            wend = nx;
            letters++;
        }
        bool mixed = upper_after_first && has_lower;
        /* Registry accent: vowel + apostrophe + (end or non-letter). */
        const char *after = wend;
        bool accent = false;
        if (wend < end) {
            const char *nx;
            int32_t a = peek_cp(wend, end, &nx);
            if (is_apostrophe(a) && grave_vowel(tpl_cp_lower(peek_cp(last, end, NULL)))) {
                bool word_follows = nx < end && is_letter(peek_cp(nx, end, NULL));
                /* "de'" (de' Medici) is an elided article, not an accent. */
                bool de = letters == 2 && tpl_cp_lower(peek_cp(p, end, NULL)) == 'd' &&
                          tpl_cp_lower(peek_cp(last, end, NULL)) == 'e';
                if (!word_follows && !de) {
                    accent = true;
                    after = nx;
                }
            }
        }
        int i = 0;
        for (const char *w = p; w < wend; i++) {
            int32_t c = peek_cp(w, end, &w);
            bool first = i == 0;
            int32_t out;
            if (mixed)
                out = first ? tpl_cp_upper(c) : c;
            else
                out = first ? tpl_cp_upper(c) : tpl_cp_lower(c);
            if (accent && i == letters - 1) {
                int32_t g = grave_vowel(tpl_cp_lower(c));
                out = first ? tpl_cp_upper(g) : g;
            }
            ck_strbuf_put_cp(sb, out);
        }
        p = after;
    }
}

/* ---- public wrappers ---- */

size_t ck_it_date(char *buf, size_t size, int32_t days)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_date_sb(&sb, days, false);
    return sb.len;
}

size_t ck_it_date_prep(char *buf, size_t size, const char *prep, int32_t days)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_date_prep_sb(&sb, days, tpl_it_date_prep_find(prep, prep ? strlen(prep) : 0));
    return sb.len;
}

size_t ck_it_weekday_date(char *buf, size_t size, int32_t days)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_date_sb(&sb, days, true);
    return sb.len;
}

size_t ck_it_money(char *buf, size_t size, int64_t cents)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_money_sb(&sb, cents);
    return sb.len;
}

size_t ck_it_number(char *buf, size_t size, int64_t n)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_number_sb(&sb, n);
    return sb.len;
}

size_t ck_it_name_case(char *buf, size_t size, const char *name)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    if (name)
        tpl_it_name_case_sb(&sb, name, strlen(name));
    return sb.len;
}

/* ---- spoken forms ----
 * What a speech line says, and what its captions show (captions = speech). Numbers stay in
 * digits where every Italian synthesiser reads them right and a caption reads best ("538
 * euro"), and become words where the digits would be said wrong or Italian grammar changes
 * the word: 1 before a noun ("un euro", "un centesimo"), the first of the month ("sabato
 * primo marzo"), whole thousands and millions of euro ("mille euro", "duemila euro", "un
 * milione di euro"), and the elided days ("dell'otto marzo"). No thousands dot: a synthesiser
 * reads "1.234" as "uno punto duecento...". */

static const char *const units_words[20] = {
    "zero",        "uno",      "due",    "tre",         "quattro",  "cinque",     "sei",
    "sette",       "otto",     "nove",   "dieci",       "undici",   "dodici",     "tredici",
    "quattordici", "quindici", "sedici", "diciassette", "diciotto", "diciannove",
};

static const char *const tens_words[10] = {
    "",          "",         "venti",    "trenta",  "quaranta",
    "cinquanta", "sessanta", "settanta", "ottanta", "novanta",
};

/* 0 < n < 100. "ventuno", "ventotto": the ten drops its vowel before uno and otto. */
static void put_below100(ck_strbuf *sb, int n)
{
    if (n < 20) {
        ck_strbuf_puts(sb, units_words[n]);
        return;
    }
    const char *t = tens_words[n / 10];
    int u = n % 10;
    size_t tl = strlen(t);
    ck_strbuf_add(sb, t, u == 1 || u == 8 ? tl - 1 : tl);
    if (u)
        ck_strbuf_puts(sb, units_words[u]);
}

/* 0 < n < 1000. "cento", "duecento", "centottanta" (cento elides before ottanta). */
static void put_below1000(ck_strbuf *sb, int n)
{
    int h = n / 100, r = n % 100;
    if (h) {
        if (h > 1)
            ck_strbuf_puts(sb, units_words[h]);
        ck_strbuf_puts(sb, r >= 80 && r < 90 ? "cent" : "cento");
    }
    if (r)
        put_below100(sb, r);
}

/* Replaces a final "uno" by "un" (masculine noun after) or "una" (feminine). */
static void agree_uno(ck_strbuf *sb, int form)
{
    if (form == CK_IT_ALONE || sb->len < 3 || memcmp(sb->s + sb->len - 3, "uno", 3) != 0)
        return;
    if (form == CK_IT_MASC) {
        sb->s[--sb->len] = 0;
    } else {
        sb->s[sb->len - 1] = 'a';
    }
}

void tpl_it_words_sb(ck_strbuf *out, int64_t n, int form)
{
    uint64_t m = magnitude(n);
    ck_strbuf sb;
    sb = (ck_strbuf){0};
    if (n < 0)
        ck_strbuf_puts(&sb, "meno ");
    if (m == 0)
        ck_strbuf_puts(&sb, "zero");
    static const struct {
        uint64_t unit;
        const char *one, *many;
    } bigs[] = {
        {1000000000000000000ull, "un trilione", "trilioni"},
        {1000000000000000ull, "un biliardo", "biliardi"},
        {1000000000000ull, "un bilione", "bilioni"},
        {1000000000ull, "un miliardo", "miliardi"},
        {1000000ull, "un milione", "milioni"},
    };
    bool any = false;
    for (size_t k = 0; k < CK_ARRAY_LEN(bigs); k++) {
        uint64_t g = m / bigs[k].unit % 1000;
        if (k == 0)
            g = m / bigs[k].unit;
        if (!g)
            continue;
        if (any)
            ck_strbuf_add(&sb, " ", 1);
        if (g == 1) {
            ck_strbuf_puts(&sb, bigs[k].one);
        } else {
            put_below1000(&sb, (int)g);
            agree_uno(&sb, CK_IT_MASC); /* "ventun milioni" */
            ck_strbuf_add(&sb, " ", 1);
            ck_strbuf_puts(&sb, bigs[k].many);
        }
        any = true;
    }
    int th = (int)(m / 1000 % 1000), rest = (int)(m % 1000);
    if ((th || rest) && any)
        ck_strbuf_add(&sb, " ", 1);
    if (th == 1) {
        ck_strbuf_puts(&sb, "mille");
    } else if (th) {
        put_below1000(&sb, th);
        agree_uno(&sb, CK_IT_MASC); /* "ventunmila" */
        ck_strbuf_puts(&sb, "mila");
    }
    if (rest) {
        put_below1000(&sb, rest);
        /* "ventitré", "centotré": a compound ending in tre takes the accent. */
        if (rest % 10 == 3 && rest % 100 != 13 && m != 3) {
            sb.s[--sb.len] = 0;
            ck_strbuf_puts(&sb, "\xC3\xA9");
        }
        agree_uno(&sb, form);
    }
    ck_strbuf_add(out, sb.s, sb.len);
    ck_strbuf_free(&sb);
}

static bool ends_with(const ck_strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    return sb->len >= n && memcmp(sb->s + sb->len - n, s, n) == 0;
}

static void drop_tail(ck_strbuf *sb, size_t n)
{
    sb->len = sb->len >= n ? sb->len - n : 0;
    if (sb->cap)
        sb->s[sb->len] = 0;
}

void tpl_it_ordinal_sb(ck_strbuf *out, int64_t n, bool feminine)
{
    static const char *const first[11] = {"",       "primo",  "secondo", "terzo",
                                          "quarto", "quinto", "sesto",   "settimo",
                                          "ottavo", "nono",   "decimo"};
    ck_strbuf sb;
    sb = (ck_strbuf){0};
    if (n >= 1 && n <= 10) {
        ck_strbuf_puts(&sb, first[n]);
    } else if (n <= 0) {
        /* No ordinal for zero or less: say the number. */
        tpl_it_words_sb(&sb, n, CK_IT_ALONE);
    } else {
        /* The cardinal loses its last vowel and takes -esimo ("undicesimo", "ventesimo",
         * "ventunesimo"), except a final tre or sei, which keep it ("ventitreesimo",
         * "ventiseiesimo"), and mille/mila, which become "millesimo". */
        tpl_it_words_sb(&sb, n, CK_IT_ALONE);
        if (ends_with(&sb, "tr\xC3\xA9")) {
            drop_tail(&sb, 2);
            ck_strbuf_puts(&sb, "e");
        } else if (ends_with(&sb, "mille") || ends_with(&sb, "mila")) {
            drop_tail(&sb, ends_with(&sb, "mille") ? 5 : 4);
            ck_strbuf_puts(&sb, "mill");
        } else if (!ends_with(&sb, "sei")) {
            drop_tail(&sb, 1);
        }
        ck_strbuf_puts(&sb, "esimo");
    }
    if (feminine && n >= 1 && ends_with(&sb, "o"))
        sb.s[sb.len - 1] = 'a';
    ck_strbuf_add(out, sb.s, sb.len);
    ck_strbuf_free(&sb);
}

static void put_digits(ck_strbuf *sb, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    ck_strbuf_add(sb, num, (size_t)n);
}

void tpl_it_number_spoken_sb(ck_strbuf *sb, int64_t n)
{
    if (n < 0)
        ck_strbuf_puts(sb, "meno ");
    put_digits(sb, magnitude(n));
}

void tpl_it_money_spoken_sb(ck_strbuf *sb, int64_t cents)
{
    uint64_t m = magnitude(cents), e = m / 100, c = m % 100;
    if (cents < 0)
        ck_strbuf_puts(sb, "meno ");
    if (e == 0 && c == 0) {
        ck_strbuf_puts(sb, "zero euro");
        return;
    }
    if (e) {
        if (e == 1) {
            ck_strbuf_puts(sb, "un euro");
        } else if (e % 1000000 == 0) {
            tpl_it_words_sb(sb, (int64_t)e, CK_IT_MASC); /* "un milione di euro" */
            ck_strbuf_puts(sb, " di euro");
        } else if (e % 1000 == 0) {
            tpl_it_words_sb(sb, (int64_t)e, CK_IT_MASC); /* "mille euro", "duemila euro" */
            ck_strbuf_puts(sb, " euro");
        } else {
            put_digits(sb, e);
            ck_strbuf_puts(sb, " euro");
        }
    }
    if (c) {
        if (e)
            ck_strbuf_puts(sb, " e ");
        if (c == 1) {
            ck_strbuf_puts(sb, "un centesimo");
        } else {
            put_digits(sb, c);
            ck_strbuf_puts(sb, " centesimi");
        }
    }
}

/* The day of the month as said: "primo" for the first (Italians say "sabato primo marzo"),
 * digits otherwise. */
static void put_spoken_day(ck_strbuf *sb, int d)
{
    if (d == 1)
        ck_strbuf_puts(sb, "primo");
    else
        put_digits(sb, (uint64_t)d);
}

static void put_month_year(ck_strbuf *sb, int m, int y)
{
    ck_strbuf_add(sb, " ", 1);
    ck_strbuf_puts(sb, month_names[m - 1]);
    ck_strbuf_add(sb, " ", 1);
    put_digits(sb, (uint64_t)y);
}

void tpl_it_date_spoken_sb(ck_strbuf *sb, int32_t days, bool weekday)
{
    if (days < -719162 || days > 2932896)
        return;
    int y, m, d;
    ck_civil_from_days(days, &y, &m, &d);
    if (weekday) {
        ck_strbuf_puts(sb, weekday_names[ck_weekday(days)]);
        ck_strbuf_add(sb, " ", 1);
    }
    put_spoken_day(sb, d);
    put_month_year(sb, m, y);
}

void tpl_it_date_prep_spoken_sb(ck_strbuf *sb, int32_t days, int prep)
{
    if (days < -719162 || days > 2932896 || prep < 0 || prep >= (int)CK_ARRAY_LEN(date_preps))
        return;
    int y, m, d;
    ck_civil_from_days(days, &y, &m, &d);
    /* "del primo marzo" (no elision before primo), "dell'otto marzo", "dell'undici marzo":
     * the elided days in words, so no engine reads "dell'8" letter by letter. */
    if (d == 8 || d == 11) {
        ck_strbuf_puts(sb, date_preps[prep].elided);
        ck_strbuf_puts(sb, units_words[d]);
    } else {
        ck_strbuf_puts(sb, date_preps[prep].full);
        ck_strbuf_add(sb, " ", 1);
        put_spoken_day(sb, d);
    }
    put_month_year(sb, m, y);
}

size_t ck_it_words(char *buf, size_t size, int64_t n, int form)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_words_sb(&sb, n, form);
    return sb.len;
}

size_t ck_it_ordinal(char *buf, size_t size, int64_t n, bool feminine)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_ordinal_sb(&sb, n, feminine);
    return sb.len;
}

size_t ck_it_money_spoken(char *buf, size_t size, int64_t cents)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_money_spoken_sb(&sb, cents);
    return sb.len;
}

size_t ck_it_date_spoken(char *buf, size_t size, int32_t days, bool weekday)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_date_spoken_sb(&sb, days, weekday);
    return sb.len;
}

size_t ck_it_date_prep_spoken(char *buf, size_t size, const char *prep, int32_t days)
{
    ck_strbuf sb;
    ck_strbuf_init_fixed(&sb, buf, size);
    tpl_it_date_prep_spoken_sb(&sb, days, tpl_it_date_prep_find(prep, prep ? strlen(prep) : 0));
    return sb.len;
}
