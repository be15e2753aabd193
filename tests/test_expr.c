/* test_expr.c: `when` conditions: evaluation (operators, precedence, absent values) and every
 * kind of compile error with its column. */
#include "ck_expr.h"
#include "ck_test.h"
#include "ck_test_fields.h"

#include <stdlib.h>

static ck_value vals[NF];
static ck_record rec = {.id = "p1", .values = vals, .line = 1};
static ck_arena arena;

static void set_enum(int f, int k)
{
    vals[f] = (ck_value){.present = true, .i = k, .str = fields[f].values[k]};
}

static void set_int(int f, int64_t v)
{
    vals[f] = (ck_value){.present = true, .i = v};
}

static void default_record(void)
{
    memset(vals, 0, sizeof vals);
    vals[F_FIRST] = (ck_value){.present = true, .str = "Maria"};
    set_enum(F_GENDER, 0);
    set_int(F_DATE, ck_days_from_civil(2025, 4, 1));
    set_int(F_AMOUNT, 53869);
    set_int(F_INST, 3);
    set_int(F_MARRIED, 1);
    vals[F_BENEFITS] = (ck_value){.present = true, .set = 1u << 2}; /* assegno */
    set_enum(F_REGION, 1);                                          /* Molise */
}

/* Compiles `src` (which must compile) and evaluates it against the current record. */
static int eval(const char *src)
{
    ck_error err = {0};
    ck_expr *e = ck_expr_compile(&scene, src, &arena, &err);
    if (!e) {
        fprintf(stderr, "unexpected compile error in %s: col %d: %s\n", src, err.col, err.msg);
        return -1;
    }
    return ck_expr_eval(e, &rec) ? 1 : 0;
}

#define IS_TRUE(src)  CK_CHECK(eval(src) == 1)
#define IS_FALSE(src) CK_CHECK(eval(src) == 0)

static void compile_error(const char *src, int col, const char *part)
{
    ck_error err = {0};
    ck_expr *e = ck_expr_compile(&scene, src, &arena, &err);
    CK_CHECK(e == NULL);
    if (e)
        fprintf(stderr, "  condition compiled but should not: %s\n", src);
    bool ok = err.col == col && strstr(err.msg, part) != NULL && err.line == 0;
    CK_CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s\n  got col %d \"%s\", expected col %d with \"%s\"\n", src, err.col,
                err.msg, col, part);
}

static void test_eval(void)
{
    default_record();
    IS_TRUE("gender == \"F\"");
    IS_FALSE("gender == \"M\"");
    IS_TRUE("gender != \"M\"");
    IS_TRUE("gender == \"f\""); /* enum values match without regard to ASCII case */
    IS_TRUE("first_name == \"Maria\"");
    IS_FALSE("first_name == \"maria\""); /* strings are exact */
    IS_TRUE("first_name != \"Anna\"");
    IS_TRUE("benefits has \"assegno\"");
    IS_FALSE("benefits has \"quattordicesima\"");
    IS_TRUE("region in [\"Lazio\", \"Molise\"]");
    IS_FALSE("region in [\"Lazio\", \"Campania\"]");
    IS_TRUE("region in [\"Molise\"]");
    IS_TRUE("first_name in [\"Anna\", \"Maria\"]");
    IS_TRUE("payment_date >= 2025-01-01");
    IS_TRUE("payment_date == 2025-04-01");
    IS_FALSE("payment_date > 2025-04-01");
    IS_TRUE("payment_date <= 2025-04-01");
    IS_TRUE("payment_date < 2025-04-02");
    IS_TRUE("payment_date != 2024-02-29");
    IS_TRUE("payment_date in [2025-03-01, 2025-04-01]");
    IS_TRUE("amount > 50000");
    IS_FALSE("amount > 53869");
    IS_TRUE("amount >= 53869");
    IS_TRUE("amount == 53869");
    IS_TRUE("amount > -100");
    IS_TRUE("installments in [1, 2, 3]");
    IS_FALSE("installments < 3");
    IS_TRUE("is_married");
    IS_TRUE("is_married == true");
    IS_FALSE("is_married == false");
    IS_TRUE("is_married != false");
    IS_TRUE("true");
    IS_FALSE("false");
    IS_FALSE("not is_married");
    IS_TRUE("not not is_married");
    /* Precedence: not > and > or. */
    IS_TRUE("gender == \"M\" and amount > 0 or is_married"); /* (F and T) or T */
    IS_FALSE("gender == \"M\" and (amount > 0 or is_married)");
    IS_TRUE("is_married or gender == \"M\" and false"); /* T or (F and F) */
    IS_FALSE("(is_married or gender == \"M\") and false");
    IS_FALSE("not is_married and gender == \"F\""); /* (not T) and T */
    IS_TRUE("not (is_married and gender == \"M\")");
    IS_TRUE("not (gender == \"F\" and benefits has \"quattordicesima\") or amount < 0");
    IS_TRUE("((((is_married))))");
    IS_TRUE("gender==\"F\"and(amount>0)"); /* spacing is free around punctuation */
    IS_TRUE("  gender == \"F\"\n  and region == \"Molise\"  ");
    /* Escapes in strings. */
    vals[F_FIRST].str = "Ma\"ria\\";
    IS_TRUE("first_name == \"Ma\\\"ria\\\\\"");

    /* Absent optional values: comparisons are false, != is true. */
    vals[F_REGION].present = false;
    vals[F_MARRIED].present = false;
    vals[F_BENEFITS].present = false;
    vals[F_INST].present = false;
    IS_FALSE("region == \"Molise\"");
    IS_TRUE("region != \"Molise\"");
    IS_FALSE("region in [\"Lazio\", \"Molise\", \"Campania\"]");
    IS_TRUE("not (region == \"Molise\")");
    IS_FALSE("is_married");
    IS_FALSE("is_married == false");
    IS_TRUE("not is_married");
    IS_FALSE("benefits has \"assegno\"");
    IS_FALSE("installments < 100");
    IS_FALSE("installments >= 0");
    IS_TRUE("installments != 0");
    IS_TRUE("region != \"Lazio\" and not is_married");

    /* NULL record: everything absent. NULL condition: always true. */
    ck_error err;
    ck_expr *e = ck_expr_compile(&scene, "region != \"Lazio\"", &arena, &err);
    CK_CHECK(e && ck_expr_eval(e, NULL));
    CK_CHECK(ck_expr_eval(NULL, &rec));
    CK_CHECK(ck_expr_deps(NULL) == 0);
}

static void test_deps(void)
{
    ck_error err;
    ck_expr *e = ck_expr_compile(
        &scene, "gender == \"F\" and (benefits has \"assegno\" or not is_married)", &arena, &err);
    CK_CHECK(e && ck_expr_deps(e) == ((1u << F_GENDER) | (1u << F_BENEFITS) | (1u << F_MARRIED)));
    e = ck_expr_compile(&scene, "true or false", &arena, &err);
    CK_CHECK(e && ck_expr_deps(e) == 0);
    e = ck_expr_compile(&scene, "region in [\"Lazio\"]", &arena, &err);
    CK_CHECK(e && ck_expr_deps(e) == (1u << F_REGION));
}

static void test_errors(void)
{
    compile_error("gendr == \"F\"", 1, "unknown field \"gendr\" (did you mean \"gender\"?)");
    compile_error("is_married and nome == \"x\"", 16, "unknown field \"nome\"");
    compile_error("gender == \"X\"", 11, "\"X\" is not a value of enum field gender (F, M)");
    compile_error("region in [\"Lazio\", \"Roma\"]", 21,
                  "\"Roma\" is not a value of enum field region (Lazio, Molise, Campania)");
    compile_error("benefits has \"tredicesima\"", 14,
                  "\"tredicesima\" is not a value of set field benefits (quattordicesima, "
                  "maggiorazione, assegno)");
    compile_error("(gender == \"F\"", 15, "expected ')'");
    compile_error("(gender == \"F\" is_married", 16, "expected ')' to close the '(' at column 1");
    compile_error("gender == \"F\")", 14, "unmatched ')'");
    compile_error("gender == \"F\" is_married", 15,
                  "unexpected \"is_married\" after a complete "
                  "condition");
    compile_error("", 1, "empty condition");
    compile_error("   ", 1, "empty condition");
    compile_error("is_married and", 15, "expected a condition");
    compile_error("not", 4, "expected a condition");
    compile_error("is_married && true", 12, "write \"and\" instead of \"&&\"");
    compile_error("is_married || true", 12, "write \"or\" instead of \"||\"");
    compile_error("!is_married", 1, "write \"not\" instead of \"!\"");
    compile_error("gender = \"F\"", 8, "write \"==\" to compare");
    compile_error("gender == 'F'", 11, "double quotes");
    compile_error("gender == F", 11, "text values take double quotes: \"F\"");
    compile_error("gender == \xE2\x80\x9C"
                  "F\xE2\x80\x9D",
                  11, "straight double quotes");
    compile_error("first_name == \"Maria", 15, "unterminated string");
    compile_error("payment_date >= 2025-02-30", 17, "2025-02-30 is not a real date");
    compile_error("payment_date >= 2025-2-3", 17, "is not a date in the form YYYY-MM-DD");
    compile_error("payment_date >= \"2025-01-01\"", 17, "write dates without quotes: 2025-01-01");
    compile_error("payment_date >= 20250101", 17, "payment_date is a date: compare it with a date");
    compile_error("amount > \"500\"", 10, "amount is money: compare it with a number of cents");
    compile_error("amount > 500.50", 10, "numbers are whole");
    compile_error("amount > 5x", 10, "cannot run into letters");
    compile_error("amount > 1234567890123456789", 10, "number too large");
    compile_error("installments == true", 17,
                  "installments is an integer: compare it with a "
                  "number");
    compile_error("first_name == 3", 15, "first_name is a string: compare it with text");
    compile_error("is_married == \"si\"", 15,
                  "is_married is a boolean: compare it with true or "
                  "false");
    compile_error("gender < \"F\"", 8, "\"<\" does not work on enum field gender (use == or !=)");
    compile_error("first_name >= \"A\"", 12, "does not work on string field first_name");
    compile_error("gender has \"F\"", 8, "\"has\" works on set fields; gender is an enum");
    compile_error("benefits == \"assegno\"", 10, "benefits is a set: test it with has");
    compile_error("benefits in [\"assegno\"]", 10, "benefits is a set: test it with has");
    compile_error("benefits", 1, "benefits is a set, not a boolean");
    compile_error("amount", 1, "amount is money, not a boolean: compare it (amount > 0)");
    compile_error("gender and is_married", 1, "gender is an enum, not a boolean");
    compile_error("benefits has assegno", 14, "expected a value in double quotes after \"has\"");
    compile_error("region in \"Lazio\"", 11, "expected '[' after \"in\"");
    compile_error("region in []", 12, "the list after \"in\" is empty");
    compile_error("region in [\"Lazio\" \"Molise\"]", 20, "expected ',' or ']'");
    compile_error("region in [\"Lazio\",", 20, "expected a value, then ']'");
    compile_error("amount >", 9, "expected a value after \">\"");
    compile_error("\"F\" == gender", 1, "expected a field name before the value");
    compile_error("== 3", 1, "expected a field name");
    compile_error("AND", 1, "keywords are lower case: \"and\"");
    compile_error("Not is_married", 1, "keywords are lower case: \"not\"");
    compile_error("is_married and gender == \"F\" @", 30, "unexpected character '@'");
    compile_error("is_married \xC3\xA8", 12, "unexpected character U+00E8");
    compile_error("caff\xC3\xA8 == 1", 5, "unexpected character U+00E8");
    compile_error("is_married \xFF", 12, "not valid UTF-8");

    /* Too deep: an error, not a stack overflow. */
    char deep[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        deep[n++] = '(';
    memcpy(deep + n, "is_married", 10);
    n += 10;
    for (int i = 0; i < 1000; i++)
        deep[n++] = ')';
    deep[n] = 0;
    compile_error(deep, 65, "nested too deeply");
    n = 0;
    for (int i = 0; i < 500; i++) {
        memcpy(deep + n, "not ", 4);
        n += 4;
    }
    memcpy(deep + n, "is_married", 11);
    compile_error(deep, 257, "nested too deeply");
    /* Deep but allowed. */
    default_record();
    IS_TRUE("not not not not not not not not not not is_married");
}

static void test_garbage(void)
{
    static const char alphabet[] = "()[],\"\\ =!<>-0123456789abdefghimnorstu_FMA";
    char src[128];
    unsigned seed = 777;
    default_record();
    for (int round = 0; round < 30000; round++) {
        int n = (int)(seed % 80);
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            src[i] = round % 3 == 0 ? (char)(1 + (seed >> 16) % 255)
                                    : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        src[n] = 0;
        seed = seed * 1103515245u + 12345u;
        ck_error err = {0};
        ck_expr *e = ck_expr_compile(&scene, src, &arena, &err);
        if (e)
            (void)ck_expr_eval(e, &rec);
        else
            CK_CHECK(err.msg[0] != 0 && err.col >= 1 && err.col <= n + 1);
        if (round % 1000 == 0)
            ck_arena_reset(&arena);
    }
    ck_error err = {0};
    CK_CHECK(ck_expr_compile(&scene, NULL, &arena, &err) == NULL && err.col == 1);
}

int main(void)
{
    make_scene();
    test_eval();
    test_deps();
    test_errors();
    test_garbage();
    ck_arena_free(&arena);
    return ck_test_done("test_expr");
}
