/* token.c: signed link tokens (layout in ck_server.h). */
#include "ck_server.h"

#include <sodium.h>
#include <string.h>

#define MAC_BYTES 16
#define RAW_MAX   (2 + CK_CAMPAIGN_MAX + CK_HANDLE_BYTES + 4 + MAC_BYTES)

static bool campaign_ok(const char *c, size_t n)
{
    if (n == 0 || n > CK_CAMPAIGN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '-' ||
              c[i] == '_'))
            return false;
    return true;
}

static void mac(const uint8_t *key, const uint8_t *msg, size_t n, uint8_t out[MAC_BYTES])
{
    uint8_t full[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, CK_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, full);
    memcpy(out, full, MAC_BYTES);
}

size_t ck_token_sign(const ck_keyring *keys, const ck_token_claims *c, char out[CK_TOKEN_MAX])
{
    size_t cl = strnlen(c->campaign, sizeof c->campaign);
    if (!campaign_ok(c->campaign, cl) || sodium_init() < 0)
        return 0;
    uint8_t raw[RAW_MAX];
    size_t n = 0;
    raw[n++] = CK_TOKEN_VERSION;
    raw[n++] = (uint8_t)cl;
    memcpy(raw + n, c->campaign, cl);
    n += cl;
    memcpy(raw + n, c->handle, CK_HANDLE_BYTES);
    n += CK_HANDLE_BYTES;
    uint32_t e = (uint32_t)c->expires;
    raw[n++] = (uint8_t)(e >> 24);
    raw[n++] = (uint8_t)(e >> 16);
    raw[n++] = (uint8_t)(e >> 8);
    raw[n++] = (uint8_t)e;
    mac(keys->token_keys[0], raw, n, raw + n);
    n += MAC_BYTES;
    sodium_bin2base64(out, CK_TOKEN_MAX, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(out);
}

ck_token_result ck_token_verify(const ck_keyring *keys, const char *token, size_t len,
                                int32_t today, ck_token_claims *out)
{
    uint8_t raw[RAW_MAX], want[MAC_BYTES];
    size_t n = 0;
    if (len == 0 || len >= CK_TOKEN_MAX || sodium_init() < 0 ||
        sodium_base642bin(raw, sizeof raw, token, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return CK_TOKEN_BAD;
    /* Fixed layout checks first: they depend only on public lengths, not on secrets. */
    if (n < 2 || raw[0] != CK_TOKEN_VERSION ||
        n != 2 + (size_t)raw[1] + CK_HANDLE_BYTES + 4 + MAC_BYTES)
        return CK_TOKEN_BAD;
    size_t body = n - MAC_BYTES;
    int ok = 0;
    /* Every key is tried whatever the outcome, so timing does not say which one matched. */
    for (int k = 0; k < keys->token_count; k++) {
        mac(keys->token_keys[k], raw, body, want);
        ok |= sodium_memcmp(want, raw + body, MAC_BYTES) == 0;
    }
    if (!ok)
        return CK_TOKEN_BAD;
    size_t cl = raw[1];
    if (!campaign_ok((const char *)raw + 2, cl))
        return CK_TOKEN_BAD;
    memset(out, 0, sizeof *out);
    memcpy(out->campaign, raw + 2, cl);
    memcpy(out->handle, raw + 2 + cl, CK_HANDLE_BYTES);
    const uint8_t *e = raw + 2 + cl + CK_HANDLE_BYTES;
    out->expires = (int32_t)((uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 | (uint32_t)e[2] << 8 |
                             (uint32_t)e[3]);
    return today > out->expires ? CK_TOKEN_EXPIRED : CK_TOKEN_OK;
}

void ck_token_tag(const char *token, size_t len, char out[9])
{
    uint8_t h[4];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, len, NULL, 0);
    sodium_bin2hex(out, 9, h, sizeof h);
}
