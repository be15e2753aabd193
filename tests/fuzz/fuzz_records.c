/* fuzz_records.c: records files (JSON or CSV, told apart by their content) against the demo
 * scene. Built twice, as fuzz_records_json and fuzz_records_csv: the same parser, seeded
 * with JSON or with CSV files, so each corpus explores its own format. */
#include "fuzz.h"

#include "ck_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ck_diags d = {.max = 100};
    ck_records *r = ck_records_parse(ck_fuzz_scene(), (const char *)data, size, "fuzz/records", &d);
    if (r && r->count)
        ck_records_find(r, r->items[0].id);
    ck_records_destroy(&r);
    ck_diags_free(&d);
    return 0;
}
