/* cmd_schema.c: `ciak schema [--markdown]` prints the JSON Schema of scene.json, or the
 * property reference of docs/scene-format.md, both generated from the property table. */
#include "ck_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ck_cmd_schema(int argc, char **argv)
{
    bool markdown = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0) {
            markdown = true;
        } else {
            fprintf(stderr, "ciak schema: unknown option \"%s\"\n", argv[i]);
            return CK_EXIT_USAGE;
        }
    }
    char *out = markdown ? ck_scene_props_markdown() : ck_scene_schema_json();
    if (!out) {
        fprintf(stderr, "ciak schema: out of memory\n");
        return CK_EXIT_PROBLEMS;
    }
    fputs(out, stdout);
    free(out);
    return CK_EXIT_OK;
}
