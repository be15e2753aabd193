/* fuzz_token.c: link tokens. Any string through ck_token_verify (never OK unless genuine);
 * and claims made from the input, signed and verified again, must come back equal. */
#include "fuzz.h"

#include "ck_server.h"
#include "ck_store.h"

#include <stdlib.h>
#include <string.h>

static ck_keyring keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Fixed keys: the corpus stays meaningful from run to run. */
    memset(keys.data_key, 1, sizeof keys.data_key);
    keys.token_count = 2;
    keys.token_ids[0] = 7;
    keys.token_ids[1] = 3;
    memset(keys.token_keys[0], 2, CK_KEY_BYTES);
    memset(keys.token_keys[1], 3, CK_KEY_BYTES);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys.token_count == 0)
        LLVMFuzzerInitialize(NULL, NULL);
    ck_token_claims c;
    ck_token_verify(&keys, (const char *)data, size, 20000, &c);
    char tag[9];
    ck_token_tag((const char *)data, size, tag);

    /* Round trip: handle and expiry from the first 16 bytes, the campaign from the rest. */
    if (size < 16)
        return 0;
    ck_token_claims in = {0}, out = {0};
    memcpy(in.handle, data, CK_HANDLE_BYTES);
    memcpy(&in.expires, data + CK_HANDLE_BYTES, sizeof in.expires);
    size_t n = size - 16 < CK_CAMPAIGN_MAX ? size - 16 : CK_CAMPAIGN_MAX;
    memcpy(in.campaign, data + 16, n);
    in.campaign[n] = 0;
    char tok[CK_TOKEN_MAX];
    size_t len = ck_token_sign(&keys, &in, tok);
    if (len == 0)
        return 0; /* claims that cannot be signed (campaign not [a-z0-9_-]) */
    if (len >= CK_TOKEN_MAX || strlen(tok) != len)
        abort();
    ck_token_result r = ck_token_verify(&keys, tok, len, in.expires, &out);
    if (r != CK_TOKEN_OK || strcmp(in.campaign, out.campaign) != 0 ||
        memcmp(in.handle, out.handle, CK_HANDLE_BYTES) != 0 || in.expires != out.expires)
        abort();
    return 0;
}
