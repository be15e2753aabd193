/* fuzz_when.c: the `when` condition compiler against the demo scene's fields, and evaluation
 * of what compiles for an empty record. */
#include "fuzz.h"

#include "ck_expr.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ck_scene *scene = ck_fuzz_scene();
    char *src = ck_fuzz_cstr(data, size);
    ck_arena arena = {0};
    ck_error err = {0};
    ck_expr *e = ck_expr_compile(scene, src, &arena, &err);
    if (e)
        ck_expr_eval(e, NULL);
    ck_arena_free(&arena);
    free(src);
    return 0;
}
