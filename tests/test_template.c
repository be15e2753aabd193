/* test_template.c: Italian formatting, templates (every filter, every compile error) and the
 * binding of a hand-built scene. */
#include "ck_template.h"
#include "ck_test.h"
#include "ck_test_fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static ck_value vals[NF];
static ck_record rec = {.id = "p1", .values = vals, .line = 1};
static ck_arena arena;

static void set_str(int f, const char *s)
{
    vals[f] = (ck_value){.present = true, .str = s};
}

static void set_enum(int f, int k)
{
    vals[f] = (ck_value){.present = true, .i = k, .str = fields[f].values[k]};
}

static void set_int(int f, int64_t v)
{
    vals[f] = (ck_value){.present = true, .i = v};
}

static void set_date(int f, int y, int m, int d)
{
    vals[f] = (ck_value){.present = true, .i = ck_days_from_civil(y, m, d)};
}

static void set_set(int f, uint64_t bits)
{
    vals[f] = (ck_value){.present = true, .set = bits};
}

static void default_record(void)
{
    memset(vals, 0, sizeof vals);
    set_str(F_FIRST, "MARIA");
    set_str(F_LAST, "D'ANGELO");
    set_enum(F_GENDER, 0);
    set_date(F_DATE, 2025, 4, 1);
    set_int(F_AMOUNT, 53869);
    set_int(F_INST, 3);
    set_int(F_MARRIED, 1);
    set_set(F_BENEFITS, 7);
    /* region absent */
}

static const char *render(const char *src)
{
    ck_error err = {0};
    ck_template *t = ck_template_compile(&scene, src, &arena, &err);
    if (!t) {
        fprintf(stderr, "unexpected compile error in %s: col %d: %s\n", src, err.col, err.msg);
        return NULL;
    }
    return ck_template_render(t, &rec, &arena);
}

/* Compiling `src` must fail at column `col` with a message containing `part`. */
static void compile_error(const char *src, int col, const char *part)
{
    ck_error err = {0};
    ck_template *t = ck_template_compile(&scene, src, &arena, &err);
    CK_CHECK(t == NULL);
    if (t)
        fprintf(stderr, "  template compiled but should not: %s\n", src);
    bool ok = err.col == col && strstr(err.msg, part) != NULL && err.line == 0;
    CK_CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s\n  got col %d \"%s\", expected col %d with \"%s\"\n", src, err.col,
                err.msg, col, part);
}

/* ---- Italian formatting ---- */

static void test_dates(void)
{
    char buf[64];
    int32_t d = ck_days_from_civil(2025, 4, 1);
    CK_CHECK(ck_it_date(buf, sizeof buf, d) == strlen("1 aprile 2025"));
    CK_CHECK_STR(buf, "1 aprile 2025");
    ck_it_weekday_date(buf, sizeof buf, d);
    CK_CHECK_STR(buf, "marted\xC3\xAC 1 aprile 2025");
    ck_it_weekday_date(buf, sizeof buf, ck_days_from_civil(2024, 2, 29));
    CK_CHECK_STR(buf, "gioved\xC3\xAC 29 febbraio 2024");
    ck_it_weekday_date(buf, sizeof buf, ck_days_from_civil(1999, 12, 31));
    CK_CHECK_STR(buf, "venerd\xC3\xAC 31 dicembre 1999");
    ck_it_date(buf, sizeof buf, ck_days_from_civil(1970, 1, 1));
    CK_CHECK_STR(buf, "1 gennaio 1970");

    /* Every weekday: 2025-01-06 was a Monday. */
    static const char *const wd[] = {"luned\xC3\xAC",  "marted\xC3\xAC", "mercoled\xC3\xAC",
                                     "gioved\xC3\xAC", "venerd\xC3\xAC", "sabato",
                                     "domenica"};
    for (int i = 0; i < 7; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s %d gennaio 2025", wd[i], 6 + i);
        ck_it_weekday_date(buf, sizeof buf, ck_days_from_civil(2025, 1, 6 + i));
        CK_CHECK_STR(buf, want);
    }
    /* Every month, and days without a leading zero. */
    static const char *const months[] = {"gennaio",   "febbraio", "marzo",    "aprile",
                                         "maggio",    "giugno",   "luglio",   "agosto",
                                         "settembre", "ottobre",  "novembre", "dicembre"};
    for (int m = 1; m <= 12; m++) {
        char want[64];
        snprintf(want, sizeof want, "9 %s 2030", months[m - 1]);
        ck_it_date(buf, sizeof buf, ck_days_from_civil(2030, m, 9));
        CK_CHECK_STR(buf, want);
    }
    /* Truncation keeps whole characters. */
    size_t n = ck_it_weekday_date(buf, 7, d); /* "martedì" is 8 bytes: "ì" does not fit */
    CK_CHECK(n == 6);
    CK_CHECK_STR(buf, "marted");
    CK_CHECK(ck_it_date(buf, 0, d) == 0);
    /* After an articled preposition: elided before 1, 8 and 11, which are read with a vowel. */
    CK_CHECK(ck_it_date_prep(buf, sizeof buf, "del", ck_days_from_civil(2025, 12, 11)) > 0);
    CK_CHECK_STR(buf, "dell'11 dicembre 2025");
    ck_it_date_prep(buf, sizeof buf, "del", ck_days_from_civil(2025, 3, 8));
    CK_CHECK_STR(buf, "dell'8 marzo 2025");
    ck_it_date_prep(buf, sizeof buf, "dal", ck_days_from_civil(2025, 4, 1));
    CK_CHECK_STR(buf, "dall'1 aprile 2025");
    ck_it_date_prep(buf, sizeof buf, "il", ck_days_from_civil(2025, 4, 1));
    CK_CHECK_STR(buf, "l'1 aprile 2025");
    ck_it_date_prep(buf, sizeof buf, "al", ck_days_from_civil(2025, 4, 8));
    CK_CHECK_STR(buf, "all'8 aprile 2025");
    ck_it_date_prep(buf, sizeof buf, "nel", ck_days_from_civil(2025, 4, 11));
    CK_CHECK_STR(buf, "nell'11 aprile 2025");
    ck_it_date_prep(buf, sizeof buf, "sul", ck_days_from_civil(2025, 4, 11));
    CK_CHECK_STR(buf, "sull'11 aprile 2025");
    static const int plain[] = {2, 3, 10, 12, 18, 21, 28, 31};
    for (size_t i = 0; i < CK_ARRAY_LEN(plain); i++) {
        char want[64];
        snprintf(want, sizeof want, "del %d gennaio 2026", plain[i]);
        ck_it_date_prep(buf, sizeof buf, "del", ck_days_from_civil(2026, 1, plain[i]));
        CK_CHECK_STR(buf, want);
    }
    CK_CHECK(ck_it_date_prep(buf, sizeof buf, "della", d) == 0); /* not a date's preposition */
    CK_CHECK(ck_it_date_prep(buf, sizeof buf, NULL, d) == 0);
    /* Out of range: nothing, no crash. */
    CK_CHECK(ck_it_date(buf, sizeof buf, INT32_MAX) == 0);
    CK_CHECK(ck_it_date(buf, sizeof buf, INT32_MIN) == 0);
}

static void test_money(void)
{
    char buf[64];
    static const struct {
        int64_t cents;
        const char *want;
    } cases[] = {
        {0, "0,00\xC2\xA0\xE2\x82\xAC"},
        {5, "0,05\xC2\xA0\xE2\x82\xAC"},
        {100, "1,00\xC2\xA0\xE2\x82\xAC"},
        {53869, "538,69\xC2\xA0\xE2\x82\xAC"},
        {123456, "1.234,56\xC2\xA0\xE2\x82\xAC"},
        {-1250, "-12,50\xC2\xA0\xE2\x82\xAC"},
        {-5, "-0,05\xC2\xA0\xE2\x82\xAC"},
        {100000000, "1.000.000,00\xC2\xA0\xE2\x82\xAC"},
        {123456789012, "1.234.567.890,12\xC2\xA0\xE2\x82\xAC"},
        {INT64_MAX, "92.233.720.368.547.758,07\xC2\xA0\xE2\x82\xAC"},
        {INT64_MIN, "-92.233.720.368.547.758,08\xC2\xA0\xE2\x82\xAC"},
    };
    for (size_t i = 0; i < CK_ARRAY_LEN(cases); i++) {
        size_t n = ck_it_money(buf, sizeof buf, cases[i].cents);
        CK_CHECK_STR(buf, cases[i].want);
        CK_CHECK(n == strlen(cases[i].want));
    }
    /* The no-break space is U+00A0, right before the euro sign. */
    ck_it_money(buf, sizeof buf, 100);
    CK_CHECK(memcmp(buf + 4, "\xC2\xA0\xE2\x82\xAC", 5) == 0);
    /* Truncation never splits the NBSP or the euro sign. */
    CK_CHECK(ck_it_money(buf, 8, 123456) == 7);
    CK_CHECK_STR(buf, "1.234,5");
    CK_CHECK(ck_it_money(buf, 10, 123456) == 8);
    CK_CHECK_STR(buf, "1.234,56");
    CK_CHECK(ck_it_money(buf, 13, 123456) == 10);
    CK_CHECK_STR(buf, "1.234,56\xC2\xA0");

    static const struct {
        int64_t n;
        const char *want;
    } nums[] = {{0, "0"},
                {7, "7"},
                {999, "999"},
                {1000, "1.000"},
                {1234, "1.234"},
                {-1234, "-1.234"},
                {1234567, "1.234.567"},
                {INT64_MIN, "-9.223.372.036.854.775.808"}};
    for (size_t i = 0; i < CK_ARRAY_LEN(nums); i++) {
        ck_it_number(buf, sizeof buf, nums[i].n);
        CK_CHECK_STR(buf, nums[i].want);
    }
}

static void name_case(const char *in, const char *want)
{
    char buf[256];
    size_t n = ck_it_name_case(buf, sizeof buf, in);
    CK_CHECK_STR(buf, want);
    CK_CHECK(n == strlen(want));
}

static void test_names(void)
{
    name_case("MARIA D'ANGELO", "Maria D'Angelo");
    name_case("DE LUCA", "De Luca");
    name_case("DELL'ACQUA", "Dell'Acqua");
    name_case("NICOLO'", "Nicol\xC3\xB2");
    name_case("FELICITA'", "Felicit\xC3\xA0");
    name_case("NICOLO' ROSSI", "Nicol\xC3\xB2 Rossi");
    name_case("NICOLO\xE2\x80\x99", "Nicol\xC3\xB2"); /* typographic apostrophe */
    name_case("Nicol\xC3\xB2", "Nicol\xC3\xB2");
    name_case("NICOL\xC3\x92", "Nicol\xC3\xB2"); /* NICOLÒ */
    name_case("ANNA MARIA", "Anna Maria");
    name_case("LO RUSSO", "Lo Russo");
    /* One apostrophe in everything a viewer reads: the typographic one becomes ' (captions
     * mixed D’Amico with l'indennità). */
    name_case("D\xE2\x80\x99"
              "AMICO",
              "D'Amico"); /* D’AMICO */
    name_case("D\xC2\xB4"
              "ANGELO",
              "D'Angelo"); /* D´ANGELO */
    name_case("DI GIOVANNI DELLA ROCCA", "Di Giovanni Della Rocca");
    name_case("E'", "\xC3\x88"); /* È */
    name_case("MOSE' NOE'", "Mos\xC3\xA8 No\xC3\xA8");
    name_case("DE' MEDICI", "De' Medici"); /* elided article, not an accent */
    name_case("maria-grazia", "Maria-Grazia");
    name_case("  anna \t  maria  ", "Anna Maria");
    name_case("\xC3\x89MILE ZOL\xC3\x80", "\xC3\x89mile Zol\xC3\xA0"); /* ÉMILE ZOLÀ */
    name_case("\xC5\x81UKASZ \xC5\xBBU\xC5\x81"
              "AWSKI",
              "\xC5\x81ukasz \xC5\xBBu\xC5\x82"
              "awski");                                                /* ŁUKASZ ŻUŁAWSKI */
    name_case("\xC3\x98RSTED \xC3\x85SE", "\xC3\x98rsted \xC3\x85se"); /* ØRSTED ÅSE */
    name_case("McDonald", "McDonald");                                 /* mixed case is kept */
    name_case("SANT'ANNA", "Sant'Anna");
    name_case("", "");
    name_case("'", "'");
    name_case("\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD"); /* malformed bytes: U+FFFD */
    /* Truncation keeps valid UTF-8. */
    char buf[8];
    CK_CHECK(ck_it_name_case(buf, sizeof buf, "NICOLO'") == 7);
    CK_CHECK_STR(buf, "Nicol\xC3\xB2");
    CK_CHECK(ck_it_name_case(buf, 7, "NICOLO'") == 5);
    CK_CHECK_STR(buf, "Nicol");
    CK_CHECK(ck_it_name_case(buf, sizeof buf, NULL) == 0);
}

/* ---- templates ---- */

static void test_filters(void)
{
    default_record();
    CK_CHECK_STR(render("Hello"), "Hello");
    CK_CHECK_STR(render(""), "");
    CK_CHECK_STR(render("{{first_name}}"), "MARIA");
    CK_CHECK_STR(render("{{ first_name | name }}"), "Maria");
    CK_CHECK_STR(render("Gentile {{gender|F:signora|M:signore}} {{first_name|name}} "
                        "{{last_name|name}},"),
                 "Gentile signora Maria D'Angelo,");
    CK_CHECK_STR(render("{{last_name|name|upper}}"), "D'ANGELO");
    CK_CHECK_STR(render("{{last_name|lower}}"), "d'angelo");
    CK_CHECK_STR(render("{{gender|upper}}"), "FEMMINA"); /* enum text is its label */
    CK_CHECK_STR(render("{{gender}}"), "femmina");
    CK_CHECK_STR(render("{{payment_date|date}}"), "1 aprile 2025");
    CK_CHECK_STR(render("{{payment_date|weekday_date}}"), "marted\xC3\xAC 1 aprile 2025");
    CK_CHECK_STR(render("{{payment_date}}"), "1 aprile 2025");
    CK_CHECK_STR(render("{{payment_date|date|upper}}"), "1 APRILE 2025");
    CK_CHECK_STR(render("la lettera {{payment_date|date:del}}"), "la lettera dell'1 aprile 2025");
    CK_CHECK_STR(render("{{payment_date|date: dal }}"), "dall'1 aprile 2025");
    set_date(F_DATE, 2025, 12, 11);
    CK_CHECK_STR(render("{{payment_date|date:del}}"), "dell'11 dicembre 2025");
    set_date(F_DATE, 2025, 12, 12);
    CK_CHECK_STR(render("{{payment_date|date:del}}"), "del 12 dicembre 2025");
    CK_CHECK_STR(render("{{payment_date|date:il|upper}}"), "IL 12 DICEMBRE 2025");
    set_date(F_DATE, 2025, 4, 1);
    CK_CHECK_STR(render("{{amount|euro}}"), "538,69\xC2\xA0\xE2\x82\xAC");
    CK_CHECK_STR(render("{{amount}}"), "538,69\xC2\xA0\xE2\x82\xAC");
    CK_CHECK_STR(render("{{installments}}"), "3");
    CK_CHECK_STR(render("{{installments|plural:rata:rate}}"), "3 rate");
    CK_CHECK_STR(render("{{installments|plural: rata : rate }}"), "3 rate");
    CK_CHECK_STR(render("{{is_married}}"), "s\xC3\xAC");
    CK_CHECK_STR(render("{{is_married|true:sposata|false:nubile}}"), "sposata");
    CK_CHECK_STR(render("{{is_married|s\xC3\xAC:s|no:n}}"), "s");
    CK_CHECK_STR(render("{{is_married|no:n|*:altro}}"), "altro");
    CK_CHECK_STR(render("{{benefits|list}}"),
                 "quattordicesima, maggiorazione sociale e assegno al nucleo");
    CK_CHECK_STR(render("{{benefits}}"),
                 "quattordicesima, maggiorazione sociale e assegno al nucleo");
    CK_CHECK_STR(render("{{benefits|count}}"), "3");
    CK_CHECK_STR(render("{{benefits|plural:prestazione:prestazioni}}"), "3 prestazioni");
    CK_CHECK_STR(render("{{benefits|count|0:nessuna|1:una|*:varie}}"), "varie");
    CK_CHECK_STR(render("{{benefits|count|plural:voce:voci}}"), "3 voci");
    CK_CHECK_STR(render("{{gender|F:Gentile signora|M:Gentile signore|upper}}"), "GENTILE SIGNORA");
    CK_CHECK_STR(render("{{gender|M:o|*:a}}"), "a");
    CK_CHECK_STR(render("Car{{gender|F:a|M:o}} {{first_name|name}}"), "Cara Maria");
    /* Choice texts are literal, spaces and colons included. */
    CK_CHECK_STR(render("{{gender|F: ore 10:30 |M:x}}"), " ore 10:30 ");
    CK_CHECK_STR(render("a {{{{b}} c"), "a {{b}} c");
    CK_CHECK_STR(render("{{{{"), "{{");
    CK_CHECK_STR(render("}} and { alone"), "}} and { alone");

    /* Sets of one and two; the empty set. */
    set_set(F_BENEFITS, 1);
    CK_CHECK_STR(render("{{benefits|list}}"), "quattordicesima");
    CK_CHECK_STR(render("{{benefits|plural:prestazione:prestazioni}}"), "1 prestazione");
    CK_CHECK_STR(render("{{benefits|count|0:nessuna|1:una|*:varie}}"), "una");
    set_set(F_BENEFITS, 6);
    CK_CHECK_STR(render("{{benefits|list}}"), "maggiorazione sociale e assegno al nucleo");
    set_set(F_BENEFITS, 0);
    CK_CHECK_STR(render("[{{benefits|list}}]"), "[]");
    CK_CHECK_STR(render("{{benefits|count}}"), "0");
    CK_CHECK_STR(render("{{benefits|count|0:nessuna|1:una|*:varie}}"), "nessuna");
    /* Labels fall back to the values. */
    fields[F_BENEFITS].labels = NULL;
    set_set(F_BENEFITS, 5);
    CK_CHECK_STR(render("{{benefits|list}}"), "quattordicesima e assegno");
    fields[F_BENEFITS].labels = benefit_labels;

    /* Numbers. */
    set_int(F_INST, 1);
    CK_CHECK_STR(render("{{installments|plural:rata:rate}}"), "1 rata");
    set_int(F_INST, 0);
    CK_CHECK_STR(render("{{installments|plural:rata:rate}}"), "0 rate");
    set_int(F_INST, 1234);
    CK_CHECK_STR(render("{{installments|number}}"), "1.234");
    CK_CHECK_STR(render("{{installments|plural:rata:rate}}"), "1.234 rate");
    CK_CHECK_STR(render("{{installments|1234:tante|*:poche}}"), "tante");
    set_int(F_AMOUNT, -1250);
    CK_CHECK_STR(render("{{amount|euro}}"), "-12,50\xC2\xA0\xE2\x82\xAC");
    set_int(F_MARRIED, 0);
    CK_CHECK_STR(render("{{is_married|true:sposata|false:nubile}}"), "nubile");
    CK_CHECK_STR(render("{{is_married}}"), "no");
    set_enum(F_GENDER, 1);
    CK_CHECK_STR(render("Gentile {{gender|F:signora|M:signore}}"), "Gentile signore");

    /* Unicode names through the filters. */
    set_str(F_FIRST, "NICOLO'");
    set_str(F_LAST, "D\xE2\x80\x99"
                    "AMICO");
    CK_CHECK_STR(render("{{first_name|name}} {{last_name|name}}"), "Nicol\xC3\xB2 D'Amico");
    set_str(F_FIRST, "Nicol\xC3\xB2");
    CK_CHECK_STR(render("{{first_name|upper}}"), "NICOL\xC3\x92");
    CK_CHECK_STR(render("{{first_name|upper|lower}}"), "nicol\xC3\xB2");

    /* Absent optional values render as nothing, whatever the filters. */
    CK_CHECK_STR(render("[{{region}}]"), "[]");
    CK_CHECK_STR(render("[{{region|upper}}]"), "[]");
    CK_CHECK_STR(render("[{{region|Lazio:a|*:b}}]"), "[]");
    vals[F_BENEFITS].present = false;
    CK_CHECK_STR(render("[{{benefits|list}}]"), "[]");
    vals[F_INST].present = false;
    CK_CHECK_STR(render("[{{installments|plural:rata:rate}}]"), "[]");
    set_enum(F_REGION, 1);
    CK_CHECK_STR(render("{{region}} {{region|upper}}"), "Molise MOLISE");

    /* A long value renders whole (the builder grows past its inline buffer). */
    char longname[600];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    set_str(F_FIRST, longname);
    const char *r = render("{{first_name|name}}");
    CK_CHECK(r && strlen(r) == 599 && r[0] == 'A' && r[1] == 'a' && r[598] == 'a');

    /* NULL template and NULL record do not crash. */
    CK_CHECK_STR(ck_template_render(NULL, &rec, &arena), "");
    ck_error err;
    ck_template *t = ck_template_compile(&scene, "[{{first_name}}]", &arena, &err);
    CK_CHECK_STR(ck_template_render(t, NULL, &arena), "[]");
}

static void test_deps(void)
{
    ck_error err;
    ck_template *t =
        ck_template_compile(&scene, "Ciao {{gender|F:a|M:o}} {{last_name|name}}", &arena, &err);
    CK_CHECK(t && ck_template_deps(t) == ((1u << F_GENDER) | (1u << F_LAST)));
    t = ck_template_compile(&scene, "Uguale per tutti {{{{", &arena, &err);
    CK_CHECK(t && ck_template_deps(t) == 0);
    CK_CHECK(ck_template_deps(NULL) == 0);
}

static void test_compile_errors(void)
{
    compile_error("Ciao {{nome}}", 6, "unknown field \"nome\"");
    compile_error("Ciao {{first_nam}}", 6,
                  "unknown field \"first_nam\" (did you mean "
                  "\"first_name\"?)");
    /* Columns count characters, not bytes. */
    compile_error("Caff\xC3\xA8 {{nome}}", 7, "unknown field");
    compile_error("{{first_name|nam}}", 14, "unknown filter \"nam\" (did you mean \"name\"?)");
    compile_error("{{first_name|bold}}", 14, "unknown filter \"bold\"");
    compile_error("{{first_name||name}}", 14, "empty filter");
    compile_error("{{amount|date}}", 10, "filter \"date\" needs a date; amount is money");
    compile_error("{{payment_date|euro}}", 16,
                  "filter \"euro\" needs money; payment_date is a date");
    compile_error("{{payment_date|date|euro}}", 21,
                  "filter \"euro\" needs money; after \"date\" the value is text");
    compile_error("{{first_name|number}}", 14, "filter \"number\" needs an integer");
    compile_error("{{first_name|list}}", 14, "filter \"list\" needs a set");
    compile_error("{{gender|count}}", 10, "filter \"count\" needs a set");
    compile_error("{{amount|upper}}", 10, "filter \"upper\" needs text; amount is money");
    compile_error("{{installments|weekday_date}}", 16, "needs a date");
    compile_error("{{payment_date|date:della}}", 16, "date takes one preposition: date:il");
    compile_error("{{payment_date|date:}}", 16, "date takes one preposition");
    compile_error("{{gender|F:signora}}", 10,
                  "the choice does not cover M (add it, or a \"*:\" default)");
    compile_error("{{region|Lazio:a}}", 10, "does not cover Molise, Campania (add them");
    compile_error("{{gender|X:a|F:b|M:c}}", 10, "\"X\" is not a value of enum field gender (F, M)");
    compile_error("{{gender|F:a|F:b|M:c}}", 14, "\"F\" is chosen twice");
    compile_error("{{gender|F:a|M:b|*:c|*:d}}", 22, "default \"*\" is given twice");
    compile_error("{{gender|:a|M:b}}", 10, "needs a value before ':'");
    compile_error("{{first_name|A:b}}", 14,
                  "a choice (value:text) works on enum, boolean and integer values; first_name "
                  "is a string");
    compile_error("{{gender|F:a|M:b|upper|F:c}}", 24,
                  "a choice (value:text) works on enum, boolean and integer values; after "
                  "\"upper\" the value is text");
    compile_error(
        "{{benefits|count|0:a|*:b|plural:x:y}}", 26,
        "filter \"plural\" needs an integer or a set; after \"choice\" the value is text");
    compile_error("{{is_married|true:sposata}}", 14, "does not cover false");
    compile_error("{{is_married|forse:x|*:y}}", 14, "\"forse\" is not a boolean choice");
    compile_error("{{installments|1:uno|2:due}}", 16, "needs a \"*:\" default");
    compile_error("{{installments|1:uno|1:due|*:x}}", 22, "1 is chosen twice");
    compile_error("{{installments|x:uno|*:x}}", 16, "\"x\" is not a number");
    compile_error("{{installments|plural:rata}}", 16, "plural takes two forms");
    compile_error("{{installments|plural}}", 16, "plural takes two forms");
    compile_error("{{installments|plural:a:b:c}}", 16, "plural takes two forms");
    compile_error("{{installments|plural::rate}}", 16, "plural takes two forms");
    compile_error("{{first_name|plural:a:b}}", 14, "filter \"plural\" needs an integer or a set");
    compile_error("Ciao {{first_name", 6, "\"{{\" is not closed");
    compile_error("{{}}", 1, "expected a field name");
    compile_error("x {{ | name}}", 3, "expected a field name");
    compile_error("{{first name}}", 1, "\"first name\" is not a field name");
    compile_error("{{a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r}}", 37, "too many filters");
    compile_error("ok \xFF", 4, "not valid UTF-8");
    /* Unknown field beats later problems; the first error is the one reported. */
    compile_error("{{nome}} {{cognome}}", 1, "\"nome\"");
}

static void test_garbage(void)
{
    /* Random bytes and random template-ish text never crash the compiler. */
    static const char alphabet[] = "{}|:*_ abcdefgijlmnoprstuFM0123456789'\"\\";
    char src[128];
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        int n = (int)(seed % 100);
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            src[i] = round % 2 ? (char)(1 + (seed >> 16) % 255)
                               : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        src[n] = 0;
        seed = seed * 1103515245u + 12345u;
        ck_error err = {0};
        ck_template *t = ck_template_compile(&scene, src, &arena, &err);
        if (t)
            (void)ck_template_render(t, &rec, &arena);
        else
            CK_CHECK(err.msg[0] != 0 && err.col >= 1);
        if (round % 1000 == 0)
            ck_arena_reset(&arena);
    }
}

/* ---- binding ---- */

static void test_binding(void)
{
    default_record();
    ck_layer layers[5];
    memset(layers, 0, sizeof layers);
    /* 0: a group shown to women; 1: a text inside it, shown to the married; 2: a text for
     * everybody; 3: an image with no condition; 4: a text under 1's group chain. */
    layers[0] = (ck_layer){.id = "group", .type = CK_LAYER_GROUP, .parent = -1};
    layers[0].when = (ck_src_text){"gender == \"F\"", {5, 20}, "layers[0].when"};
    layers[1] = (ck_layer){.id = "greeting", .type = CK_LAYER_TEXT, .parent = 0};
    layers[1].text.text = (ck_src_text){"Cara {{first_name|name}}", {8, 20}, "layers[1].text"};
    layers[1].when = (ck_src_text){"is_married", {9, 20}, "layers[1].when"};
    layers[2] = (ck_layer){.id = "title", .type = CK_LAYER_TEXT, .parent = -1};
    layers[2].text.text = (ck_src_text){"La tua pensione", {12, 20}, "layers[2].text"};
    layers[3] = (ck_layer){.id = "logo", .type = CK_LAYER_IMAGE, .parent = -1};
    layers[4] = (ck_layer){.id = "amount", .type = CK_LAYER_TEXT, .parent = 1};
    layers[4].text.text = (ck_src_text){"{{amount|euro}}", {14, 20}, "layers[4].text"};
    ck_cue cues[1];
    memset(cues, 0, sizeof cues);
    cues[0].kind = CK_CUE_POPUP;
    cues[0].title = (ck_src_text){"Pagamento del {{payment_date|date}}", {20, 18}, NULL};
    cues[0].body = (ck_src_text){"{{benefits|list}}", {21, 18}, NULL};
    cues[0].when = (ck_src_text){"amount > 0", {22, 18}, NULL};
    ck_caption caps[1];
    memset(caps, 0, sizeof caps);
    caps[0].text = (ck_src_text){"{{gender|F:Gentile signora|M:Gentile signore}}", {30, 15}, NULL};
    scene.layers = layers;
    scene.layer_count = 5;
    scene.cues = cues;
    scene.cue_count = 1;
    scene.captions = caps;
    scene.caption_count = 1;

    ck_diags diags = {0};
    ck_binding *b = ck_binding_create(&scene, &diags);
    CK_CHECK(b != NULL);
    CK_CHECK(diags.errors == 0);
    if (b) {
        CK_CHECK(b->layer_text[0] == NULL && b->layer_text[3] == NULL);
        CK_CHECK(b->layer_text[1] && b->layer_text[2] && b->layer_text[4]);
        CK_CHECK(b->layer_when[0] && b->layer_when[1] && !b->layer_when[2]);
        CK_CHECK(b->layer_deps[0] == (1u << F_GENDER));
        CK_CHECK(b->layer_deps[1] == ((1u << F_GENDER) | (1u << F_MARRIED) | (1u << F_FIRST)));
        CK_CHECK(b->layer_deps[2] == 0);
        CK_CHECK(b->layer_deps[3] == 0);
        CK_CHECK(b->layer_deps[4] == ((1u << F_GENDER) | (1u << F_MARRIED) | (1u << F_AMOUNT)));
        CK_CHECK_STR(ck_template_render(b->layer_text[1], &rec, &arena), "Cara Maria");
        CK_CHECK(ck_expr_eval(b->layer_when[0], &rec));
        CK_CHECK_STR(ck_template_render(b->cue_title[0], &rec, &arena),
                     "Pagamento del 1 aprile 2025");
        CK_CHECK(b->cue_label[0] == NULL);
        CK_CHECK(ck_expr_eval(b->cue_when[0], &rec));
        CK_CHECK_STR(ck_template_render(b->caption_text[0], &rec, &arena), "Gentile signora");
    }
    ck_binding_destroy(&b);
    CK_CHECK(b == NULL);
    ck_binding_destroy(&b); /* NULL-safe */

    /* Errors: every one is reported at its place in scene.json, and the binding fails. */
    layers[2].text.text = (ck_src_text){"Ciao {{nome}}", {12, 20}, "layers[2].text"};
    layers[3].when = (ck_src_text){"gendr == \"F\"", {13, 9}, "layers[3].when"};
    cues[0].body = (ck_src_text){"{{amount|date}}", {21, 18}, NULL};
    caps[0].text = (ck_src_text){"{{gender|F:x}}", {30, 15}, NULL};
    b = ck_binding_create(&scene, &diags);
    CK_CHECK(b == NULL);
    CK_CHECK(diags.errors == 4);
    if (diags.count == 4) {
        ck_diag *d = diags.items;
        CK_CHECK_STR(d[0].file, "scene.json");
        CK_CHECK(d[0].line == 12 && d[0].col == 26);
        CK_CHECK_STR(d[0].msg, "layers[2].text: unknown field \"nome\"");
        CK_CHECK(d[1].line == 13 && d[1].col == 10);
        CK_CHECK_STR(d[1].msg, "layers[3].when: unknown field \"gendr\" (did you mean "
                               "\"gender\"?)");
        CK_CHECK(d[2].line == 21 && d[2].col == 18 + 10);
        CK_CHECK_STR(d[2].msg, "cues[0].body: filter \"date\" needs a date; amount is money");
        CK_CHECK(d[3].line == 30 && d[3].col == 15 + 10);
        CK_CHECK(strncmp(d[3].msg, "captions[0].text: the choice does not cover M", 45) == 0);
    }
    ck_diags_free(&diags);

    /* A parent cycle (a malformed scene) cannot hang the dependency walk. */
    layers[2].text.text = (ck_src_text){"x", {12, 20}, NULL};
    layers[3].when = (ck_src_text){0};
    cues[0].body = (ck_src_text){0};
    caps[0].text = (ck_src_text){0};
    layers[0].parent = 4;
    b = ck_binding_create(&scene, &diags);
    CK_CHECK(b != NULL);
    if (b)
        CK_CHECK(b->caption_text[0] && b->cue_body[0] == NULL);
    ck_binding_destroy(&b);
    ck_diags_free(&diags);
    layers[0].parent = -1;

    /* Too many fields. */
    int saved = scene.field_count;
    scene.field_count = CK_MAX_FIELDS + 1;
    b = ck_binding_create(&scene, &diags);
    CK_CHECK(b == NULL && diags.errors == 1);
    ck_diags_free(&diags);
    scene.field_count = saved;
    scene.layers = NULL;
    scene.layer_count = scene.cue_count = scene.caption_count = 0;
    CK_CHECK(ck_binding_create(NULL, &diags) == NULL);
}

/* ---- the demo scenes' texts, as a viewer reads them ---- */

/* Whether `word` occurs in `s` as a whole word (case-insensitive for ASCII). */
static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = s; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        bool start = p == s || !(isalnum((unsigned char)p[-1]) || (unsigned char)p[-1] >= 0x80 ||
                                 p[-1] == '\'');
        bool end = !(isalnum((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80);
        if (start && end)
            return true;
    }
    return false;
}

/* What a polite Italian text for the viewer must not say: a "tu" form (the viewer is "Lei"),
 * "signore"/"dottore" before a name (a title truncates: "signor Nicolò"), a preposition
 * not elided before 1, 8, 11 ("del 11 dicembre": "dell'11 dicembre"), and a typographic
 * apostrophe beside the straight one every other text uses. `next` is the text drawn right
 * after it (the name under a greeting), or NULL. */
static void check_viewer_text(const char *where, const char *t, const char *next)
{
    static const char *const tu[] = {"ti",     "tuo",  "tua",   "tuoi",   "tue",
                                     "puoi",   "devi", "vuoi",  "hai",    "scopri",
                                     "clicca", "vai",  "entra", "accedi", "te"};
    for (size_t i = 0; i < CK_ARRAY_LEN(tu); i++)
        if (has_word(t, tu[i])) {
            CK_CHECK(!"a tu form");
            fprintf(stderr, "  %s: \"%s\" addresses the viewer with tu (\"%s\")\n", where, t,
                    tu[i]);
        }
    static const char *const titles[] = {"signore", "dottore", "professore", "ingegnere"};
    for (size_t i = 0; i < CK_ARRAY_LEN(titles); i++) {
        size_t n = strlen(titles[i]);
        for (const char *p = strstr(t, titles[i]); p; p = strstr(p + 1, titles[i])) {
            bool before_name = (p[n] == ' ' && isupper((unsigned char)p[n + 1])) ||
                               (p[n] == '\0' && next && next[0]);
            if (before_name) {
                CK_CHECK(!"a full title before a name");
                fprintf(stderr, "  %s: \"%s\" (+ \"%s\"): \"%s\" before a name truncates\n", where,
                        t, next ? next : "", titles[i]);
            }
        }
    }
    /* One apostrophe: the scenes write ' ("l'indennità"); a name typed with ’ (D’Amico in the
     * samples) must come out the same way, or one caption mixes the two. */
    if (strstr(t, "\xE2\x80\x99")) {
        CK_CHECK(!"a typographic apostrophe");
        fprintf(stderr, "  %s: \"%s\" mixes ’ with the ' of the other texts\n", where, t);
    }
    static const char *const preps[] = {" il ", " del ", " dal ", " al ", " nel ", " sul "};
    static const char *const days[] = {"1 ", "8 ", "11 "};
    for (size_t i = 0; i < CK_ARRAY_LEN(preps); i++)
        for (size_t k = 0; k < CK_ARRAY_LEN(days); k++) {
            char bad[32];
            snprintf(bad, sizeof bad, "%s%s", preps[i], days[k]);
            if (strstr(t, bad)) {
                CK_CHECK(!"a preposition not elided");
                fprintf(stderr, "  %s: \"%s\": \"%s\" wants the elided form\n", where, t, bad);
            }
        }
}

/* A speech line says money, dates and numbers as a voice reads them: no euro sign, no
 * thousands dot or decimal comma between digits, no elided "dell'1". */
static bool spoken_ok(const char *t)
{
    bool bad = strstr(t, "\xE2\x82\xAC") != NULL || strstr(t, "'1 ") || strstr(t, "'8 ") ||
               strstr(t, "'11 ");
    for (const char *p = t; *p && p[1] && p[2]; p++)
        bad |= isdigit((unsigned char)p[0]) && (p[1] == '.' || p[1] == ',') &&
               isdigit((unsigned char)p[2]);
    return !bad;
}

static void check_spoken_text(const char *where, const char *t)
{
    CK_CHECK(spoken_ok(t));
    if (!spoken_ok(t))
        fprintf(stderr, "  %s: \"%s\" has a written form a voice would misread\n", where, t);
}

/* Every text of every demo scene, rendered for every sample person (and for both genders):
 * the layers, captions, cues and speech lines a viewer sees and hears. */
static void test_scene_texts(void)
{
    static const char *const campaigns[] = {"assegno-sociale", "naspi-accolta", "neopensionato",
                                            "red-sollecito"};
    bool red_spid = false, red_letter = false;
    for (size_t c = 0; c < CK_ARRAY_LEN(campaigns); c++) {
        char dir[1024], data[1100];
        snprintf(dir, sizeof dir, "%s/scenes/%s", CK_SOURCE_DIR, campaigns[c]);
        snprintf(data, sizeof data, "%s/samples.json", dir);
        ck_diags d = {.max = 20};
        ck_scene *sc = ck_scene_load(dir, NULL, &d);
        ck_records *recs = sc ? ck_records_load(sc, data, &d) : NULL;
        ck_binding *b = sc ? ck_binding_create(sc, &d) : NULL;
        CK_CHECK(sc && recs && b && d.errors == 0);
        ck_diags_free(&d);
        int gender = sc ? ck_scene_field(sc, "gender") : -1;
        for (size_t r = 0; b && recs && r < recs->count; r++) {
            ck_record *rec1 = &recs->items[r];
            for (int flip = 0; flip < 2; flip++) {
                if (flip && gender >= 0) /* the other gender, same person */
                    rec1->values[gender].i = 1 - rec1->values[gender].i;
                char where[128];
                const char *prev = NULL, *prev_where = NULL;
                for (int i = 0; i < sc->layer_count; i++) {
                    if (!b->layer_text[i])
                        continue;
                    const char *t = ck_template_render(b->layer_text[i], rec1, &arena);
                    red_letter |= strstr(t, "lettera dell'1 dicembre 2022") != NULL;
                    if (prev) /* the text drawn before: a greeting over the name */
                        check_viewer_text(prev_where, prev, t);
                    snprintf(where, sizeof where, "%s layer %d", campaigns[c], i);
                    prev = t;
                    prev_where = ck_arena_printf(&arena, "%s", where);
                }
                if (prev)
                    check_viewer_text(prev_where, prev, NULL);
                for (int i = 0; i < sc->caption_count; i++) {
                    const char *t = ck_template_render(b->caption_text[i], rec1, &arena);
                    snprintf(where, sizeof where, "%s caption %d", campaigns[c], i);
                    check_viewer_text(where, t, NULL);
                    red_spid |= strstr(t, "entri con SPID") != NULL;
                }
                for (int i = 0; i < sc->speech_line_count; i++) {
                    /* What the voice says (and its captions show): polite Italian, and
                     * spoken forms only. */
                    if (b->speech_when[i] && !ck_expr_eval(b->speech_when[i], rec1))
                        continue;
                    const char *t = ck_template_render(b->speech_text[i], rec1, &arena);
                    snprintf(where, sizeof where, "%s speech line %d", campaigns[c], i);
                    check_viewer_text(where, t, NULL);
                    check_spoken_text(where, t);
                }
                for (int i = 0; i < sc->cue_count; i++) {
                    ck_template *const *ts[] = {b->cue_title, b->cue_body, b->cue_label};
                    for (size_t k = 0; k < CK_ARRAY_LEN(ts); k++) {
                        if (!ts[k][i])
                            continue;
                        snprintf(where, sizeof where, "%s cue %d", campaigns[c], i);
                        check_viewer_text(where, ck_template_render(ts[k][i], rec1, &arena), NULL);
                    }
                }
            }
        }
        ck_binding_destroy(&b);
        ck_records_destroy(&recs);
        ck_scene_destroy(&sc);
    }
    CK_CHECK(red_spid);   /* "Online, con il servizio RED precompilato: entri con SPID" */
    CK_CHECK(red_letter); /* RED-0001's letter is of 1 December 2022 */
}

/* ---- spoken forms (speech lines and their captions) ---- */

static const char *render_speech(const char *src)
{
    ck_error err = {0};
    ck_template *t = ck_template_compile_speech(&scene, src, &arena, &err);
    if (!t) {
        fprintf(stderr, "unexpected compile error in %s: col %d: %s\n", src, err.col, err.msg);
        return NULL;
    }
    return ck_template_render(t, &rec, &arena);
}

static void test_spoken(void)
{
    char buf[256];
    static const struct {
        int64_t n;
        int form;
        const char *want;
    } words[] = {
        {0, CK_IT_ALONE, "zero"},
        {1, CK_IT_ALONE, "uno"},
        {1, CK_IT_MASC, "un"},
        {1, CK_IT_FEM, "una"},
        {3, CK_IT_ALONE, "tre"},
        {13, CK_IT_ALONE, "tredici"},
        {17, CK_IT_ALONE, "diciassette"},
        {20, CK_IT_ALONE, "venti"},
        {21, CK_IT_ALONE, "ventuno"},
        {21, CK_IT_MASC, "ventun"},
        {21, CK_IT_FEM, "ventuna"},
        {23, CK_IT_ALONE, "ventitr\xC3\xA9"},
        {28, CK_IT_ALONE, "ventotto"},
        {38, CK_IT_ALONE, "trentotto"},
        {99, CK_IT_ALONE, "novantanove"},
        {100, CK_IT_ALONE, "cento"},
        {103, CK_IT_ALONE, "centotr\xC3\xA9"},
        {108, CK_IT_ALONE, "centootto"},
        {180, CK_IT_ALONE, "centottanta"},
        {538, CK_IT_ALONE, "cinquecentotrentotto"},
        {1000, CK_IT_ALONE, "mille"},
        {1001, CK_IT_ALONE, "milleuno"},
        {2000, CK_IT_ALONE, "duemila"},
        {2538, CK_IT_ALONE, "duemilacinquecentotrentotto"},
        {21000, CK_IT_ALONE, "ventunmila"},
        {100000, CK_IT_ALONE, "centomila"},
        {1000000, CK_IT_ALONE, "un milione"},
        {1200000, CK_IT_ALONE, "un milione duecentomila"},
        {2000000, CK_IT_ALONE, "due milioni"},
        {21000000, CK_IT_ALONE, "ventun milioni"},
        {1000000000, CK_IT_ALONE, "un miliardo"},
        {-5, CK_IT_ALONE, "meno cinque"},
    };
    for (size_t i = 0; i < CK_ARRAY_LEN(words); i++) {
        ck_it_words(buf, sizeof buf, words[i].n, words[i].form);
        CK_CHECK_STR(buf, words[i].want);
    }
    static const struct {
        int64_t n;
        bool fem;
        const char *want;
    } ords[] = {
        {1, false, "primo"},           {1, true, "prima"},
        {2, false, "secondo"},         {3, true, "terza"},
        {10, false, "decimo"},         {11, false, "undicesimo"},
        {14, true, "quattordicesima"}, {20, false, "ventesimo"},
        {21, false, "ventunesimo"},    {23, false, "ventitreesimo"},
        {26, false, "ventiseiesimo"},  {28, true, "ventottesima"},
        {100, false, "centesimo"},     {1000, false, "millesimo"},
        {2000, false, "duemillesimo"},
    };
    for (size_t i = 0; i < CK_ARRAY_LEN(ords); i++) {
        ck_it_ordinal(buf, sizeof buf, ords[i].n, ords[i].fem);
        CK_CHECK_STR(buf, ords[i].want);
    }
    static const struct {
        int64_t cents;
        const char *want;
    } money[] = {
        {53869, "538 euro e 69 centesimi"},
        {100, "un euro"},
        {101, "un euro e un centesimo"},
        {1, "un centesimo"},
        {69, "69 centesimi"},
        {0, "zero euro"},
        {53800, "538 euro"},
        {2100, "21 euro"},
        {100000, "mille euro"},
        {200000, "duemila euro"},
        {200050, "duemila euro e 50 centesimi"},
        {123456, "1234 euro e 56 centesimi"},
        {2500000, "venticinquemila euro"},
        {100000000, "un milione di euro"},
        {300000000, "tre milioni di euro"},
        {120000000, "un milione duecentomila euro"},
        {-1250, "meno 12 euro e 50 centesimi"},
    };
    for (size_t i = 0; i < CK_ARRAY_LEN(money); i++) {
        ck_it_money_spoken(buf, sizeof buf, money[i].cents);
        CK_CHECK_STR(buf, money[i].want);
    }
    ck_it_date_spoken(buf, sizeof buf, ck_days_from_civil(2025, 2, 3), true);
    CK_CHECK_STR(buf, "luned\xC3\xAC 3 febbraio 2025");
    ck_it_date_spoken(buf, sizeof buf, ck_days_from_civil(2025, 3, 1), true);
    CK_CHECK_STR(buf, "sabato primo marzo 2025");
    ck_it_date_spoken(buf, sizeof buf, ck_days_from_civil(2025, 3, 1), false);
    CK_CHECK_STR(buf, "primo marzo 2025");
    ck_it_date_spoken(buf, sizeof buf, ck_days_from_civil(2025, 12, 31), false);
    CK_CHECK_STR(buf, "31 dicembre 2025");
    ck_it_date_prep_spoken(buf, sizeof buf, "del", ck_days_from_civil(2025, 3, 1));
    CK_CHECK_STR(buf, "del primo marzo 2025");
    ck_it_date_prep_spoken(buf, sizeof buf, "dal", ck_days_from_civil(2025, 3, 8));
    CK_CHECK_STR(buf, "dall'otto marzo 2025");
    ck_it_date_prep_spoken(buf, sizeof buf, "il", ck_days_from_civil(2025, 12, 11));
    CK_CHECK_STR(buf, "l'undici dicembre 2025");
    ck_it_date_prep_spoken(buf, sizeof buf, "al", ck_days_from_civil(2025, 12, 12));
    CK_CHECK_STR(buf, "al 12 dicembre 2025");

    /* The same filters in a speech line say the spoken form; in a layer, the written one. */
    default_record();
    CK_CHECK_STR(render_speech("Il primo pagamento sar\xC3\xA0 {{payment_date|weekday_date}}, "
                               "di {{amount|euro}}."),
                 "Il primo pagamento sar\xC3\xA0 marted\xC3\xAC primo aprile 2025, di 538 euro "
                 "e 69 centesimi.");
    CK_CHECK_STR(render("{{amount|euro}}"), "538,69\xC2\xA0\xE2\x82\xAC");
    CK_CHECK_STR(render_speech("{{amount}}"), "538 euro e 69 centesimi");
    CK_CHECK_STR(render_speech("{{payment_date}}"), "primo aprile 2025");
    CK_CHECK_STR(render_speech("{{payment_date|date:dal}}"), "dal primo aprile 2025");
    CK_CHECK_STR(render_speech("{{installments|plural:rata:rate}}"), "3 rate");
    set_int(F_INST, 1);
    CK_CHECK_STR(render_speech("{{installments|plural:rata:rate}}"), "una rata");
    CK_CHECK_STR(render_speech("{{installments|plural:pagamento:pagamenti}}"), "un pagamento");
    CK_CHECK_STR(render("{{installments|plural:rata:rate}}"), "1 rata");
    set_int(F_INST, 12345);
    CK_CHECK_STR(render_speech("{{installments|number}}"), "12345");
    CK_CHECK_STR(render("{{installments|number}}"), "12.345");
    set_int(F_INST, 3);
    CK_CHECK_STR(render_speech("la {{installments|ordinal:f}} rata"), "la terza rata");
    CK_CHECK_STR(render("il {{installments|ordinal}} mese"), "il terzo mese");
    CK_CHECK_STR(render_speech("{{installments|words:f}} rate"), "tre rate");
    /* Gender agreement with the person: a choice on the gender field. */
    CK_CHECK_STR(render_speech("{{gender|F:Gentile signora|M:Gentile signore}} "
                               "{{first_name|name}}, Lei \xC3\xA8 stat{{gender|F:a|M:o}} "
                               "ammess{{gender|F:a|M:o}}."),
                 "Gentile signora Maria, Lei \xC3\xA8 stata ammessa.");
    set_enum(F_GENDER, 1);
    CK_CHECK_STR(render_speech("Lei \xC3\xA8 stat{{gender|F:a|M:o}} ammess{{gender|F:a|M:o}}."),
                 "Lei \xC3\xA8 stato ammesso.");
    default_record();
    /* The written forms are what the demo check (check_spoken_text) refuses in speech. */
    CK_CHECK(!spoken_ok(render("{{amount|euro}}")));
    CK_CHECK(!spoken_ok(render("la lettera {{payment_date|date:del}}")));
    CK_CHECK(spoken_ok(render_speech("{{amount|euro}}, {{payment_date|date:del}}")));
    /* What a voice cannot say is a compile error in a speech line. */
    ck_error err = {0};
    CK_CHECK(!ck_template_compile_speech(&scene, "{{last_name|upper}}", &arena, &err));
    CK_CHECK(err.col == 13 && strstr(err.msg, "speech line"));
    CK_CHECK(!ck_template_compile_speech(&scene, "{{amount|eur}}", &arena, &err));
    CK_CHECK(strstr(err.msg, "unknown filter \"eur\"") != NULL);
    compile_error("{{installments|ordinal:x}}", 16, "ordinal takes :m or :f");
    compile_error("{{amount|ordinal}}", 10, "filter \"ordinal\" needs an integer");
}

int main(void)
{
    make_scene();
    test_dates();
    test_money();
    test_names();
    test_filters();
    test_spoken();
    test_deps();
    test_compile_errors();
    test_garbage();
    test_binding();
    test_scene_texts();
    ck_arena_free(&arena);
    return ck_test_done("test_template");
}
