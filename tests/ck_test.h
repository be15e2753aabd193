/* ck_test.h: a minimal test harness. Each CK_CHECK failure prints file:line and the
 * expression, and marks the test failed; ck_test_done() prints "N passed, N failed" and
 * returns the exit status. */
#ifndef CK_TEST_H
#define CK_TEST_H

#include <stdio.h>
#include <string.h>

extern int ck_test_passed, ck_test_failed;

#define CK_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (cond) {                                                                                \
            ck_test_passed++;                                                                      \
        } else {                                                                                   \
            ck_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CK_CHECK_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *ck_a_ = (a), *ck_b_ = (b);                                                     \
        if (ck_a_ && ck_b_ && strcmp(ck_a_, ck_b_) == 0) {                                         \
            ck_test_passed++;                                                                      \
        } else {                                                                                   \
            ck_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\" (%s)\n", __FILE__, __LINE__,       \
                    ck_b_ ? ck_b_ : "(null)", ck_a_ ? ck_a_ : "(null)", #a);                       \
        }                                                                                          \
    } while (0)

#define CK_CHECK_NEAR(a, b, eps)                                                                   \
    do {                                                                                           \
        double ck_a_ = (a), ck_b_ = (b);                                                           \
        if (ck_a_ - ck_b_ <= (eps) && ck_b_ - ck_a_ <= (eps)) {                                    \
            ck_test_passed++;                                                                      \
        } else {                                                                                   \
            ck_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: expected %g, got %g (%s)\n", __FILE__, __LINE__, ck_b_, ck_a_, \
                    #a);                                                                           \
        }                                                                                          \
    } while (0)

/* Prints the summary and returns 0 when nothing failed. */
int ck_test_done(const char *name);

#endif
