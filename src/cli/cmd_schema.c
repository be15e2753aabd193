/* cmd_schema.c: `ciak schema [--markdown]` prints the JSON Schema of scene.json, or the
 * property reference of docs/scene-format.md, both generated from the property table. */
#include "ck_cli.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct schema_opts {
    bool markdown;
} schema_opts;

static const ck_opt schema_table[] = {
    {.name = "--markdown",
     .help = "the property reference of docs/scene-format.md instead",
     .parse = ck_opt_flag,
     .offset = offsetof(schema_opts, markdown)},
    {0},
};

static int cmd_schema(const void *opts)
{
    bool markdown = ((const schema_opts *)opts)->markdown;
    char *out = markdown ? ck_scene_props_markdown() : ck_scene_schema_json();
    if (!out) {
        fprintf(stderr, "ciak schema: out of memory\n");
        return CK_EXIT_PROBLEMS;
    }
    fputs(out, stdout);
    free(out);
    return CK_EXIT_OK;
}

const ck_cli_cmd ck_cli_cmd_schema = {
    "schema",
    "prints the JSON Schema of scene.json (docs/scene.schema.json)",
    {{schema_table, 0}},
    sizeof(schema_opts),
    NULL,
    cmd_schema};
