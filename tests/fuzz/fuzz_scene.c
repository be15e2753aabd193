/* fuzz_scene.c: scene.json through the parser and validator, then (when it loads) every
 * template and `when` of it through the binding, and the segment plan. */
#include "fuzz.h"

#include "ck_segment.h"
#include "ck_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ck_diags d = {.max = 200};
    /* Assets are not opened: the parser and validator are under test, not the files. */
    ck_scene *s = ck_scene_load_buffer((const char *)data, size, "fuzz/scene.json", "/nonexistent",
                                       &(ck_scene_params){.skip_asset_check = true}, &d);
    if (s) {
        ck_binding *b = ck_binding_create(s, &d);
        if (b) {
            ck_segment_plan plan = {0};
            ck_error err = {0};
            ck_segment_plan_make(s, b, &plan, &err);
            ck_segment_plan_free(&plan);
        }
        ck_binding_destroy(&b);
    }
    ck_scene_destroy(&s);
    ck_diags_free(&d);
    return 0;
}
