/* fuzz_events.c: the analytics events body (POST /api/events) through ck_analytics_ingest,
 * into a database in a temporary folder. */
#include "fuzz.h"

#include "ck_analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ck_analytics *an;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/ck_fuzz_events_XXXXXX";
    char path[256];
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/analytics.db", dir);
    ck_error err = {0};
    an = ck_analytics_open(path, &(ck_analytics_params){.rate_events = 1 << 30}, &err);
    if (!an) {
        fprintf(stderr, "fuzz_events: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!an)
        LLVMFuzzerInitialize(NULL, NULL);
    static const char *const popups[] = {"requisiti", "importo"};
    static const char *const buttons[] = {"myinps", "contatti"};
    ck_an_allowed allowed = {.popups = popups,
                             .popup_count = 2,
                             .buttons = buttons,
                             .button_count = 2,
                             .duration_s = 88};
    /* The viewer: a few tokens, so the per-viewer rules (one rating a day) are exercised. */
    char token[8];
    snprintf(token, sizeof token, "t%u", size ? data[0] % 4u : 0u);
    ck_analytics_ingest(an, "assegno-sociale", token, strlen(token), (const char *)data, size,
                        &allowed, 20000, 1000.0);
    return 0;
}
