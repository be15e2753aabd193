#include "ck_test.h"

int ck_test_passed, ck_test_failed;

int ck_test_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, ck_test_passed, ck_test_failed);
    return ck_test_failed ? 1 : 0;
}
