/* fuzz_common.c: helpers shared by the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include "ck_scene.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CK_SOURCE_DIR
#define CK_SOURCE_DIR "."
#endif

const ck_scene *ck_fuzz_scene(void)
{
    static ck_scene *scene;
    if (!scene) {
        ck_diags d = {0};
        scene = ck_scene_load(CK_SOURCE_DIR "/scenes/assegno-sociale",
                              &(ck_scene_params){.skip_asset_check = true}, &d);
        ck_diags_free(&d);
        if (!scene) {
            fprintf(stderr, "fuzz: cannot load the demo scene from %s\n", CK_SOURCE_DIR);
            abort();
        }
    }
    return scene;
}

char *ck_fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    return s;
}
