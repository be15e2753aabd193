/* fuzz_template.c: the template compiler against the demo scene's fields, and rendering of
 * what compiles for an empty record and a full one. */
#include "fuzz.h"

#include "ck_record.h"
#include "ck_template.h"

#include <stdlib.h>
#include <string.h>

static const char sample[] =
    "{\"id\": \"AS-1\", \"first_name\": \"MARIA D'ANGELO\", \"last_name\": \"De Luca\", "
    "\"gender\": \"F\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ck_scene *scene = ck_fuzz_scene();
    static ck_records *recs;
    if (!recs) { /* whatever it holds (it may lack required fields): rendering must cope */
        ck_diags d = {0};
        recs = ck_records_parse(scene, sample, strlen(sample), "sample.json", &d);
        ck_diags_free(&d);
    }
    char *src = ck_fuzz_cstr(data, size);
    ck_arena arena = {0};
    ck_error err = {0};
    ck_template *t = ck_template_compile(scene, src, &arena, &err);
    if (t) {
        ck_template_render(t, NULL, &arena);
        if (recs && recs->count)
            ck_template_render(t, &recs->items[0], &arena);
        ck_template_deps(t);
    }
    ck_arena_free(&arena);
    free(src);
    return 0;
}
