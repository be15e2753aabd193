/* test_record.c: records from JSON (object, array) and CSV (comma, semicolon, BOM, quotes),
 * every validation message with its line, and garbage input that must not crash. */
#include "ck_record.h"
#include "ck_test.h"
#include "ck_test_fields.h"

#include <stdlib.h>
#include <unistd.h>

static ck_records *parse(const char *text, const char *file, ck_diags *d)
{
    return ck_records_parse(&scene, text, strlen(text), file, d);
}

static void dump(const ck_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "    [%s] %s:%d:%d: %s\n",
                d->items[i].sev == CK_SEV_ERROR ? "error" : "warning",
                d->items[i].file ? d->items[i].file : "-", d->items[i].line, d->items[i].col,
                d->items[i].msg);
}

/* Exactly this message (severity, file, line, col 0) is in the list. */
static bool has_diag(const ck_diags *d, ck_severity sev, const char *file, int line,
                     const char *msg)
{
    for (size_t i = 0; i < d->count; i++) {
        const ck_diag *g = &d->items[i];
        if (g->sev == sev && g->line == line && g->col == 0 && strcmp(g->msg, msg) == 0 &&
            ((!file && !g->file) || (file && g->file && strcmp(file, g->file) == 0)))
            return true;
    }
    fprintf(stderr, "  missing diagnostic line %d: %s\n  have:\n", line, msg);
    dump(d);
    return false;
}

#define ERR(d, line, msg)  CK_CHECK(has_diag((d), CK_SEV_ERROR, "people.json", (line), (msg)))
#define WARN(d, line, msg) CK_CHECK(has_diag((d), CK_SEV_WARNING, "people.json", (line), (msg)))

#define FN    "\"first_name\": \"Maria\""
#define LN    "\"last_name\": \"Rossi\""
#define GE    "\"gender\": \"F\""
#define PD    "\"payment_date\": \"2025-04-01\""
#define VALID FN ", " LN ", " GE ", " PD

static void test_json_object(void)
{
    ck_diags d = {0};
    ck_records *r =
        parse("\n\n  {\"id\": \" p1 \", \"first_name\": \"  Maria \", "
              "\"last_name\": \"D'Angelo\", \"gender\": \"F\", "
              "\"payment_date\": \"2025-04-01\", \"amount\": 53869, "
              "\"installments\": 3, \"is_married\": true, "
              "\"benefits\": [\"assegno\", \"quattordicesima\"], \"region\": \"lazio\"}\n",
              "people.json", &d);
    CK_CHECK(r && r->count == 1 && d.count == 0);
    if (r && r->count == 1) {
        const ck_record *x = &r->items[0];
        CK_CHECK_STR(r->file, "people.json");
        CK_CHECK_STR(x->id, "p1");
        CK_CHECK(x->line == 3);
        CK_CHECK_STR(x->values[F_FIRST].str, "Maria");
        CK_CHECK_STR(x->values[F_LAST].str, "D'Angelo");
        CK_CHECK(x->values[F_GENDER].present && x->values[F_GENDER].i == 0);
        CK_CHECK_STR(x->values[F_GENDER].str, "F");
        CK_CHECK(x->values[F_DATE].i == ck_days_from_civil(2025, 4, 1));
        CK_CHECK(x->values[F_AMOUNT].i == 53869);
        CK_CHECK(x->values[F_INST].present && x->values[F_INST].i == 3);
        CK_CHECK(x->values[F_MARRIED].present && x->values[F_MARRIED].i == 1);
        CK_CHECK(x->values[F_BENEFITS].present && x->values[F_BENEFITS].set == 5);
        CK_CHECK_STR(x->values[F_REGION].str, "Lazio"); /* canonical spelling */
        CK_CHECK(x->values[F_REGION].i == 0);
        CK_CHECK(ck_records_find(r, "p1") == 0);
        CK_CHECK(ck_records_find(r, "p2") == -1);
        CK_CHECK(ck_records_find(r, NULL) == -1);
    }
    CK_CHECK(ck_records_find(NULL, "p1") == -1);
    ck_records_destroy(&r);
    CK_CHECK(r == NULL);
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* Optional fields left out, or null, are absent. */
    r = parse("{\"id\": \"p1\", " VALID
              ", \"amount\": 0, \"region\": null, \"installments\": \"\"}",
              "people.json", &d);
    CK_CHECK(r && r->count == 1 && d.count == 0);
    if (r && r->count == 1) {
        CK_CHECK(!r->items[0].values[F_REGION].present);
        CK_CHECK(!r->items[0].values[F_INST].present);
        CK_CHECK(!r->items[0].values[F_BENEFITS].present);
        CK_CHECK(!r->items[0].values[F_MARRIED].present);
        CK_CHECK(r->items[0].values[F_AMOUNT].present && r->items[0].values[F_AMOUNT].i == 0);
    }
    ck_records_destroy(&r);
    ck_diags_free(&d);
}

static void test_json_array(void)
{
    char big[53];
    memset(big, 'A', 52);
    big[52] = 0;
    char text[8192];
    snprintf(text, sizeof text,
             "[\n"                                                /* 1 */
             "  {\"id\": \"a\", " VALID ", \"amount\": 53869},\n" /* 2 */
             "  {\"id\": \"b\", " LN ", " GE ", " PD ", \"amount\": 1, "
             "\"first_name\": \"%s\"},\n" /* 3 */
             "  {\"id\": \"c\", " FN ", " LN ", " PD ", \"amount\": 1, \"gender\": \"X\"},\n"
             "  {\"id\": \"d\", " FN ", " LN ", " GE ", \"amount\": 1, "
             "\"payment_date\": \"2025-02-30\"},\n"                                      /* 5 */
             "  {" VALID ", \"amount\": 1},\n"                                           /* 6 */
             "  {\"id\": \"f\", " VALID "},\n"                                           /* 7 */
             "  {\"id\": \"a\", " VALID ", \"amount\": 2},\n"                            /* 8 */
             "  {\"id\": \"g\", " VALID ", \"amount\": 3, \"xyz\": 1, \"gendre\": 2},\n" /* 9 */
             "  {\"id\": \"h\", " VALID ", \"amount\": 4, \"xyz\": 2},\n"                /* 10 */
             "  {\"id\": \"i\", " FN ", " GE ", " PD ", \"amount\": 5, "
             "\"last_name\": \"Ro\\u0007ssi\"},\n"                 /* 11 */
             "  {\"id\": \"j\", " VALID ", \"amount\": 538.69},\n" /* 12 */
             "  {\"id\": \"k\", " VALID ", \"amount\": \"1.234,56\", \"installments\": \"12\", "
             "\"is_married\": \"s\xC3\xAC\", \"benefits\": \"assegno|maggiorazione\"},\n"
             "  {\"id\": \"l\", " VALID ", \"amount\": 200000000},\n" /* 14 */
             "  {\"id\": \"m\", " VALID ", \"amount\": 1, \"installments\": 2.5},\n"
             "  {\"id\": \"n\", " VALID ", \"amount\": 1, \"is_married\": \"forse\"},\n"
             "  {\"id\": \"o\", " VALID ", \"amount\": 1, "
             "\"benefits\": [\"assegno\", \"tredicesima\"]},\n" /* 17 */
             "  {\"id\": \"p\", " FN ", " GE ", " PD ", \"amount\": 1, "
             "\"last_name\": {\"x\": [1, [2]]}},\n"                              /* 18 */
             "  {\"id\": \"q\", " VALID ", \"amount\": 1, \"benefits\": [1]},\n" /* 19 */
             "  42,\n"                                                           /* 20 */
             "  {\"id\": \"r\", " FN ", " LN ", " PD ", \"amount\": 1, \"gender\": null},\n"
             "  {\"id\": \"s\", " VALID ", \"amount\": 1, \"region\": \"Roma\"},\n" /* 22 */
             "  {\"id\": \"t\", " FN ", " LN ", " GE ", \"amount\": 1, "
             "\"payment_date\": \"01/04/2025\"},\n"                                 /* 23 */
             "  {\"id\": \"u\", " VALID ", \"amount\": 1, \"installments\": -1},\n" /* 24 */
             "  {\"id\": \"v\", " VALID ", \"amount\": \"abc\"},\n"
             "  {\"id\": \"{[\\\"x\\\\\", " VALID ", \"amount\": 6},\n" /* 26 */
             "  {\"id\": 77, " VALID ", \"amount\": 7, \"is_married\": 0},\n"
             "  {\"id\": \"\", " VALID ", \"amount\": 1},\n" /* 28 */
             "  {\"id\": [1], " VALID ", \"amount\": 1},\n"
             "  {\"id\": \"w\", " FN ", " LN ", " GE ", \"amount\": 1, "
             "\"payment_date\": \"1899-12-31\"},\n" /* 30 */
             "  {\"id\": \"x\", " VALID ", \"amount\": 1, \"is_married\": \"yes\"}, "
             "{\"id\": \"y\", " VALID ", \"amount\": true}\n" /* 31 */
             "]\n",
             big);
    ck_diags d = {0};
    ck_records *r = parse(text, "people.json", &d);
    CK_CHECK(r != NULL);
    ERR(&d, 3, "first_name: longer than 40 characters (52)");
    ERR(&d, 4, "gender: \"X\" is not one of F, M");
    ERR(&d, 5, "payment_date: \"2025-02-30\" is not a real date (YYYY-MM-DD)");
    ERR(&d, 6, "id: missing");
    ERR(&d, 7, "amount: required field missing");
    ERR(&d, 8, "id: the same id as the record on line 2");
    WARN(&d, 9, "unknown field \"xyz\" (not used by this scene)");
    WARN(&d, 9, "unknown field \"gendre\" (not used by this scene; did you mean \"gender\"?)");
    ERR(&d, 11, "last_name: contains a control character (U+0007)");
    ERR(&d, 12,
        "amount: 538.69 has decimals; write cents as an integer (53869) or euros as "
        "text (\"538,69\")");
    ERR(&d, 14, "amount: more than the maximum 1.000.000,00\xC2\xA0\xE2\x82\xAC");
    ERR(&d, 15, "installments: expected an integer, got a number with decimals");
    ERR(&d, 16, "is_married: \"forse\" is not a boolean (true, false, si, no, 1, 0)");
    ERR(&d, 17,
        "benefits: \"tredicesima\" is not one of quattordicesima, maggiorazione, "
        "assegno");
    ERR(&d, 18, "last_name: expected text, got an object");
    ERR(&d, 19, "benefits: expected a list of text values, found an integer");
    ERR(&d, 20, "expected an object {...} for each record, got an integer");
    ERR(&d, 21, "gender: required field missing");
    ERR(&d, 22, "region: \"Roma\" is not one of Lazio, Molise, Campania");
    ERR(&d, 23, "payment_date: \"01/04/2025\" is not a date in the form YYYY-MM-DD");
    ERR(&d, 24, "installments: less than the minimum 0");
    ERR(&d, 25, "amount: \"abc\" is not an amount (cents as digits: 53869, or euros: \"538,69\")");
    ERR(&d, 28, "id: missing");
    ERR(&d, 29, "id: expected text, got a list");
    ERR(&d, 30, "payment_date: \"1899-12-31\" is before 1900");
    ERR(&d, 31, "is_married: \"yes\" is not a boolean (true, false, si, no, 1, 0)");
    ERR(&d, 31, "amount: expected an amount, got a boolean");
    /* The stray key is reported once per file, not per record. */
    size_t xyz = 0;
    for (size_t i = 0; i < d.count; i++)
        xyz += strstr(d.items[i].msg, "\"xyz\"") != NULL;
    CK_CHECK(xyz == 1);
    CK_CHECK(d.warnings == 2);
    CK_CHECK(d.errors == 25);
    if (d.errors != 25)
        dump(&d);
    /* Valid: a, g, h, k, the id with brackets and quotes, 77. Records with errors are out. */
    CK_CHECK(r && r->count == 6);
    if (r && r->count == 6) {
        CK_CHECK_STR(r->items[0].id, "a");
        CK_CHECK(r->items[0].line == 2);
        CK_CHECK(r->items[0].values[F_AMOUNT].i == 53869); /* the first "a" is kept */
        CK_CHECK_STR(r->items[1].id, "g");
        CK_CHECK(r->items[1].line == 9);
        CK_CHECK_STR(r->items[2].id, "h");
        const ck_record *k = &r->items[3];
        CK_CHECK_STR(k->id, "k");
        CK_CHECK(k->line == 13);
        CK_CHECK(k->values[F_AMOUNT].i == 123456);
        CK_CHECK(k->values[F_INST].i == 12);
        CK_CHECK(k->values[F_MARRIED].i == 1);
        CK_CHECK(k->values[F_BENEFITS].set == 6);
        CK_CHECK_STR(r->items[4].id, "{[\"x\\");
        CK_CHECK(r->items[4].line == 26);
        CK_CHECK_STR(r->items[5].id, "77");
        CK_CHECK(r->items[5].line == 27);
        CK_CHECK(r->items[5].values[F_MARRIED].present && r->items[5].values[F_MARRIED].i == 0);
        CK_CHECK(ck_records_find(r, "77") == 5);
        CK_CHECK(ck_records_find(r, "b") == -1);
    }
    ck_records_destroy(&r);
    ck_diags_free(&d);
}

static void test_money_text(void)
{
    static const struct {
        const char *text;
        int64_t cents; /* -1: must be rejected */
    } cases[] = {
        {"53869", 53869},
        {"538.69", 53869},
        {"538,69", 53869},
        {"1.234,56", 123456},
        {"1,234.56", 123456},
        {"1.234", 123400},
        {"1.234.567", 123456700},
        {"1.234.567,8", 123456780},
        {"12,5", 1250},
        {"0,05", 5},
        {"+7", 7},
        {"1234,00", 123400},
        {"1,2,3", -1},
        {"1.23.456", -1},
        {"12.34.56", -1},
        {"538,699", 53869900}, /* one comma, three digits: thousands */
        {"5,", -1},
        {",5", -1},
        {"1.234,5,6", -1},
        {"1,234,56", -1},
        {"12 €", -1},
        {"dodici", -1},
        {"1.234.56", -1},
        {"99999999999999999999", -1},
    };
    fields[F_AMOUNT].max = 1; /* unbounded for this test */
    fields[F_AMOUNT].min = 2;
    for (size_t i = 0; i < CK_ARRAY_LEN(cases); i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"id\": \"p\", " VALID ", \"amount\": \"%s\"}",
                 cases[i].text);
        ck_diags d = {0};
        ck_records *r = parse(text, "people.json", &d);
        bool ok = cases[i].cents < 0
                      ? r && r->count == 0 && d.errors == 1
                      : r && r->count == 1 && r->items[0].values[F_AMOUNT].i == cases[i].cents;
        CK_CHECK(ok);
        if (!ok) {
            fprintf(stderr, "  amount \"%s\"\n", cases[i].text);
            dump(&d);
        }
        ck_records_destroy(&r);
        ck_diags_free(&d);
    }
    fields[F_AMOUNT].min = 0;
    fields[F_AMOUNT].max = 100000000;
}

static void test_csv(void)
{
    ck_diags d = {0};
    const char *csv =
        "id,first_name,last_name,gender,payment_date,amount,installments,is_married,benefits,"
        "region\n"
        "p1,Maria,\"D'Angelo, detta \"\"Mim\xC3\xAC\"\"\",F,2025-04-01,\"538,69\",3,s\xC3\xAC,"
        "assegno|quattordicesima,Lazio\n"
        "p2,  Anna  ,Rossi,m,2025-04-02,53869,,no,,\n"
        "\n"
        "p3,Anna,Rossi,F,2025-04-02,1,,0,\"maggiorazione ; assegno\",\n";
    ck_records *r = parse(csv, "people.json", &d);
    CK_CHECK(r && r->count == 3 && d.count == 0);
    if (r && r->count == 3) {
        const ck_record *a = &r->items[0], *b = &r->items[1], *c = &r->items[2];
        CK_CHECK(a->line == 2 && b->line == 3 && c->line == 5);
        CK_CHECK_STR(a->values[F_LAST].str, "D'Angelo, detta \"Mim\xC3\xAC\"");
        CK_CHECK(a->values[F_AMOUNT].i == 53869);
        CK_CHECK(a->values[F_MARRIED].i == 1);
        CK_CHECK(a->values[F_BENEFITS].set == 5);
        CK_CHECK_STR(b->values[F_FIRST].str, "Anna");
        CK_CHECK_STR(b->values[F_GENDER].str, "M");
        CK_CHECK(b->values[F_AMOUNT].i == 53869);
        CK_CHECK(!b->values[F_INST].present);
        CK_CHECK(b->values[F_MARRIED].present && b->values[F_MARRIED].i == 0);
        CK_CHECK(b->values[F_BENEFITS].present && b->values[F_BENEFITS].set == 0);
        CK_CHECK(!b->values[F_REGION].present);
        CK_CHECK(c->values[F_BENEFITS].set == 6);
    }
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* Semicolons (Italian Excel), BOM, CRLF, a quoted cell across lines (a newline is a
     * control character in a name: that record fails, and line numbers stay right after it). */
    csv = "\xEF\xBB\xBFid;first_name;last_name;gender;payment_date;amount;note\r\n"
          "p1;Maria;\"Rossi;Bianchi\";F;2025-04-01;1.234,56;x\r\n"
          "p2;Anna;\"Verdi\r\nNeri\";F;2025-04-01;12;\r\n"
          "p3;\"Anna\";Verdi;F;2025-04-01;1.000;\r\n";
    r = parse(csv, "people.json", &d);
    CK_CHECK(r && r->count == 2);
    WARN(&d, 1, "unknown field \"note\" (not used by this scene)");
    ERR(&d, 3, "last_name: contains a control character (U+000D)");
    CK_CHECK(d.count == 2);
    if (r && r->count == 2) {
        CK_CHECK_STR(r->items[0].values[F_LAST].str, "Rossi;Bianchi");
        CK_CHECK(r->items[0].values[F_AMOUNT].i == 123456);
        CK_CHECK_STR(r->items[1].id, "p3");
        CK_CHECK(r->items[1].line == 5);
        CK_CHECK(r->items[1].values[F_AMOUNT].i == 100000);
    }
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* Row-level errors. */
    csv = "id,first_name,last_name,gender,payment_date,amount,gendr\n" /* 1 */
          "p1,Maria,Rossi,F,2025-04-01,1\n"                            /* 2: 6 cells */
          "p2,Maria,Rossi,F,2025-04-01,1,,,\n"                         /* 3: trailing empties */
          "p3,Maria,Rossi,F,2025-04-01,1,x,y\n"                        /* 4: extra cell */
          "p4,\"Maria\"x,Rossi,F,2025-04-01,1,\n"                      /* 5 */
          "p5,Nicol\xF2,Rossi,F,2025-04-01,1,\n"                       /* 6: Latin-1 */
          ",Maria,Rossi,F,2025-04-01,1,\n"                             /* 7 */
          "p7,Maria,Rossi,F,2025-04-01,,\n"                            /* 8 */
          "p2,Maria,Rossi,F,2025-04-01,1,\n"                           /* 9: p2 again */
          "p9,\"Maria,Rossi,F,2025-04-01,1,\n";                        /* 10: never closed */
    r = parse(csv, "people.json", &d);
    CK_CHECK(r && r->count == 1 && r->items[0].line == 3);
    WARN(&d, 1, "unknown field \"gendr\" (not used by this scene; did you mean \"gender\"?)");
    ERR(&d, 2, "row has 6 cells, the header has 7");
    ERR(&d, 4, "row has 8 cells, the header has 7");
    ERR(&d, 5,
        "unexpected text after a closing quote (write \"\" for a quote inside a quoted "
        "cell)");
    ERR(&d, 6, "first_name: not valid UTF-8 (save the file as UTF-8)");
    ERR(&d, 7, "id: missing");
    ERR(&d, 8, "amount: required field missing");
    ERR(&d, 10, "a quoted cell is not closed (missing '\"')");
    ERR(&d, 9, "id: the same id as the record on line 3");
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* Header problems make the whole file unusable. */
    r = parse("name,amount\nMaria,1\n", "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1);
    ERR(&d, 1,
        "header: no \"id\" column (the first row must name the columns: "
        "id,first_name...)");
    WARN(&d, 1, "unknown field \"name\" (not used by this scene)");
    ck_diags_free(&d);
    r = parse("id,first_name\np1,Maria\n", "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 4);
    ERR(&d, 1, "last_name: required field missing (no such column in the header)");
    ERR(&d, 1, "amount: required field missing (no such column in the header)");
    ck_diags_free(&d);
    r = parse("id,first_name,last_name,gender,payment_date,amount,amount\np1\n", "people.json", &d);
    CK_CHECK(r == NULL);
    ERR(&d, 1, "header: column \"amount\" appears twice");
    ck_diags_free(&d);
    r = parse("\n\nid,first_name,last_name,gender,payment_date,amount\n\n\n", "people.json", &d);
    CK_CHECK(r == NULL && d.count == 1);
    ERR(&d, 0, "no records");
    ck_diags_free(&d);
    /* Blank lines before the header are skipped; the header line is still right. */
    r = parse("\n\nid,first_name,last_name,gender,payment_date,amount,x\n"
              "p1,Maria,Rossi,F,2025-04-01,1,\n",
              "people.json", &d);
    CK_CHECK(r && r->count == 1 && r->items[0].line == 4);
    WARN(&d, 3, "unknown field \"x\" (not used by this scene)");
    ck_records_destroy(&r);
    ck_diags_free(&d);
    /* A lone id column with a one-field scene. */
    int saved = scene.field_count;
    scene.field_count = 1;
    fields[F_FIRST].required = false;
    r = parse("id\r\nx\r\ny", "people.json", &d);
    CK_CHECK(r && r->count == 2 && d.count == 0);
    if (r && r->count == 2)
        CK_CHECK(!r->items[1].values[0].present && r->items[1].line == 3);
    ck_records_destroy(&r);
    ck_diags_free(&d);
    fields[F_FIRST].required = true;
    scene.field_count = saved;
}

static void test_garbage(void)
{
    ck_diags d = {0};
    /* Empty in all its forms: one error, "no records". */
    static const char *const empties[] = {"",   "   \n\t\r\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n",
                                          "[]", " [ ] "};
    for (size_t i = 0; i < CK_ARRAY_LEN(empties); i++) {
        ck_records *r = parse(empties[i], "people.json", &d);
        CK_CHECK(r == NULL && d.count == 1);
        ERR(&d, 0, "no records");
        ck_diags_free(&d);
    }
    CK_CHECK(ck_records_parse(&scene, NULL, 0, "people.json", &d) == NULL && d.count == 1);
    ck_diags_free(&d);

    /* Broken JSON: one error with jansson's position. */
    ck_records *r = parse("[\n  {\"id\": \"a\",\n", "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1 && d.count == 1);
    CK_CHECK(d.count && strncmp(d.items[0].msg, "not valid JSON: ", 16) == 0 &&
             d.items[0].line == 3);
    ck_diags_free(&d);
    r = parse("{\"id\": \"a\", \"id\": \"b\"}", "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1);
    CK_CHECK(d.count && strstr(d.items[0].msg, "duplicate") != NULL);
    ck_diags_free(&d);
    r = parse("[1, 2, \"x\", null, [], true]", "people.json", &d);
    CK_CHECK(r && r->count == 0 && d.errors == 6);
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* Deep nesting: jansson stops at its depth limit; our line scanner has no recursion. */
    size_t n = 200000;
    char *deep = malloc(2 * n + 64);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = 0;
    r = parse(deep, "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1);
    ck_diags_free(&d);
    /* Nested junk inside a record value. */
    size_t k = (size_t)snprintf(deep, 64, "{\"id\": \"p\", \"first_name\": ");
    memset(deep + k, '[', 1000);
    memset(deep + k + 1000, ']', 1000);
    strcpy(deep + k + 2000, "}");
    r = parse(deep, "people.json", &d);
    CK_CHECK(r && r->count == 0);
    ERR(&d, 1, "first_name: expected text, got a list");
    ck_records_destroy(&r);
    ck_diags_free(&d);
    free(deep);

    /* Binary data (with NUL bytes): unusable. */
    unsigned char bin[4096];
    unsigned seed = 99;
    for (size_t i = 0; i < sizeof bin; i++) {
        seed = seed * 1103515245u + 12345u;
        bin[i] = (unsigned char)(seed >> 16);
    }
    bin[10] = 0;
    r = ck_records_parse(&scene, (const char *)bin, sizeof bin, "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1);
    ck_diags_free(&d);

    /* Random bytes and random CSV/JSON-ish text: no crash, no leak (ASan), and a result or a
     * reason. The diags cap keeps the report short. */
    static const char alphabet[] = "{}[],;:\"\\\n\r |idfrstnamegF0123456789-.\xC3\xAC\xFF";
    char *buf = malloc(4096);
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(seed % 4000);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = round % 2 ? (char)(1 + (seed >> 16) % 255)
                               : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        /* Every fourth round starts like a real header or array, to get past the first check. */
        if (round % 4 == 1 && len > 60)
            memcpy(buf, "id,first_name,last_name,gender,payment_date,amount\n", 51);
        if (round % 4 == 3 && len > 10)
            memcpy(buf, "[{\"id\": 1}", 10);
        seed = seed * 1103515245u + 12345u;
        ck_diags g = {.max = 20};
        r = ck_records_parse(&scene, buf, len, "people.json", &g);
        CK_CHECK(r != NULL || g.errors > 0);
        if (r) {
            for (size_t i = 0; i < r->count; i++)
                CK_CHECK(r->items[i].id != NULL);
        }
        ck_records_destroy(&r);
        CK_CHECK(g.count <= 20);
        ck_diags_free(&g);
    }
    free(buf);

    /* A scene that cannot hold records. */
    int saved = scene.field_count;
    scene.field_count = CK_MAX_FIELDS + 1;
    r = parse("{\"id\": \"x\"}", "people.json", &d);
    CK_CHECK(r == NULL && d.errors == 1);
    scene.field_count = saved;
    ck_diags_free(&d);
}

/* Values shown on screen: no template delimiters, no invisible control or direction
 * characters, and a name has at least one letter (issue 14). JSON: the record's line; CSV:
 * the row's line. */
static void test_shown_values(void)
{
    const char *json = "[\n"
                       "  {\"id\": \"a\", \"first_name\": \"{{gender}}\", " LN ", " GE ", " PD
                       ", \"amount\": 1},\n" /* 2 */
                       "  {\"id\": \"b\", \"first_name\": \"Maria}}\", " LN ", " GE ", " PD
                       ", \"amount\": 1},\n" /* 3 */
                       "  {\"id\": \"c\", " FN ", \"last_name\": \"12345\", " GE ", " PD
                       ", \"amount\": 1},\n" /* 4 */
                       "  {\"id\": \"d\", " FN ", \"last_name\": \"- . '\", " GE ", " PD
                       ", \"amount\": 1},\n" /* 5 */
                       "  {\"id\": \"e\", " FN ", \"last_name\": \"Ros\\u202Esi\", " GE ", " PD
                       ", \"amount\": 1},\n" /* 6 */
                       "  {\"id\": \"f\", " FN ", \"last_name\": \"Ros\\u200Bsi\", " GE ", " PD
                       ", \"amount\": 1},\n" /* 7 */
                       "  {\"id\": \"g\", \"first_name\": \"Nicol\xC3\xB2\", "
                       "\"last_name\": \"D'Angelo-\xC3\x89mile { }\", " GE ", " PD
                       ", \"amount\": 1},\n" /* 8: fine */
                       "  {\"id\": \"h\", \"first_name\": \"\xE2\x82\xAC\xE2\x80\x94\", " LN ", " GE
                       ", " PD ", \"amount\": 1},\n" /* 9 */
                       "  {\"id\": \"i\", \"first_name\": \"\xCE\x91\xCE\xBD\xCE\xBD\xCE\xB1\", " LN
                       ", " GE ", " PD ", \"amount\": 1},\n" /* 10: Greek, fine */
                       "  {\"id\": \"j\", \"first_name\": \"\xCC\x81\xCC\x80\", " LN ", " GE ", " PD
                       ", \"amount\": 1}\n" /* 11: combining accents alone */
                       "]\n";
    ck_diags d = {0};
    ck_records *r = parse(json, "people.json", &d);
    CK_CHECK(r && r->count == 2);
    ERR(&d, 2,
        "first_name: contains \"{{\", a template delimiter: a value is shown as written, never "
        "as a template");
    ERR(&d, 3,
        "first_name: contains \"}}\", a template delimiter: a value is shown as written, never "
        "as a template");
    ERR(&d, 4, "last_name: has no letter; a name needs at least one");
    ERR(&d, 5, "last_name: has no letter; a name needs at least one");
    ERR(&d, 6, "last_name: contains a control character (U+202E)");
    ERR(&d, 7, "last_name: contains a control character (U+200B)");
    ERR(&d, 9, "first_name: has no letter; a name needs at least one");
    ERR(&d, 11, "first_name: has no letter; a name needs at least one");
    CK_CHECK(d.count == 8);
    if (r && r->count == 2)
        CK_CHECK_STR(r->items[0].values[F_LAST].str, "D'Angelo-\xC3\x89mile { }");
    ck_records_destroy(&r);
    ck_diags_free(&d);

    /* A record over many lines: the message names the line of the field at fault (a nested
     * key of the same name, or one inside a string, does not count). */
    json = "[\n"
           "  {\n"
           "    \"id\": \"k\",\n"
           "    \"note\": {\"last_name\": \"x\"}, \"x\": \"\\\"last_name\\\": \",\n" /* 4 */
           "    \"first_name\": \"Maria\",\n"
           "    \"gender\": \"F\", \"payment_date\": \"2025-04-01\",\n"
           "    \"last_name\": \"{{first_name}}\",\n" /* 7 */
           "    \"amount\": 1\n"
           "  },\n"
           "  {\"id\": \"l\", " FN ",\n"                   /* 10 */
           "   \"last_name\": \"0000\", " GE ", " PD "}\n" /* 11 */
           "]\n";
    r = parse(json, "people.json", &d);
    CK_CHECK(r && r->count == 0);
    ERR(&d, 7,
        "last_name: contains \"{{\", a template delimiter: a value is shown as written, never "
        "as a template");
    ERR(&d, 11, "last_name: has no letter; a name needs at least one");
    ERR(&d, 10, "amount: required field missing");
    ck_records_destroy(&r);
    ck_diags_free(&d);

    const char *csv = "id,first_name,last_name,gender,payment_date,amount\n"
                      "p1,Maria,Rossi,F,2025-04-01,1\n"
                      "p2,\"{{first_name|upper}}\",Rossi,F,2025-04-01,1\n" /* 3 */
                      "p3,Maria,007,F,2025-04-01,1\n"                      /* 4 */
                      "p4,Maria,Bianchi,F,2025-04-01,1\n";
    r = parse(csv, "people.json", &d);
    CK_CHECK(r && r->count == 2);
    ERR(&d, 3,
        "first_name: contains \"{{\", a template delimiter: a value is shown as written, never "
        "as a template");
    ERR(&d, 4, "last_name: has no letter; a name needs at least one");
    CK_CHECK(d.count == 2);
    ck_records_destroy(&r);
    ck_diags_free(&d);
}

static void test_many(void)
{
    /* 20 000 rows: the id hash must find the one duplicate at the end. */
    size_t cap = 20001 * 64 + 256, len = 0;
    char *buf = malloc(cap);
    len += (size_t)snprintf(buf + len, cap - len,
                            "id;first_name;last_name;gender;payment_date;amount\n");
    for (int i = 0; i < 20000; i++)
        len += (size_t)snprintf(buf + len, cap - len, "id%05d;Maria;Rossi;F;2025-04-01;%d\n", i, i);
    len += (size_t)snprintf(buf + len, cap - len, "id12345;Anna;Bianchi;F;2025-04-01;1\n");
    ck_diags d = {0};
    ck_records *r = ck_records_parse(&scene, buf, len, "people.csv", &d);
    CK_CHECK(r && r->count == 20000);
    CK_CHECK(d.errors == 1);
    CK_CHECK(has_diag(&d, CK_SEV_ERROR, "people.csv", 20002,
                      "id: the same id as the record on line 12347"));
    CK_CHECK(ck_records_find(r, "id19999") == 19999);
    if (r && r->count == 20000)
        CK_CHECK(r->items[19999].values[F_AMOUNT].i == 19999);
    ck_records_destroy(&r);
    ck_diags_free(&d);
    free(buf);
}

static void test_load(void)
{
    char path[] = "/tmp/ck_test_record_XXXXXX";
    int fd = mkstemp(path);
    CK_CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "[{\"id\": \"p1\", " VALID ", \"amount\": 1}]";
    CK_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    ck_diags d = {0};
    ck_records *r = ck_records_load(&scene, path, &d);
    CK_CHECK(r && r->count == 1 && d.count == 0);
    if (r)
        CK_CHECK_STR(r->file, path);
    ck_records_destroy(&r);
    unlink(path);
    r = ck_records_load(&scene, path, &d);
    CK_CHECK(r == NULL && d.errors == 1);
    CK_CHECK(d.count && d.items[0].file && strcmp(d.items[0].file, path) == 0);
    ck_diags_free(&d);
}

int main(void)
{
    make_scene();
    fields[F_INST].max = 1000; /* this test's bound */
    test_json_object();
    test_json_array();
    test_money_text();
    test_csv();
    test_garbage();
    test_shown_values();
    test_many();
    test_load();
    return ck_test_done("test_record");
}
