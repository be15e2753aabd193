/* test_token.c: link tokens: sign and verify, every tampered byte rejected, expiry, key
 * rotation (old links keep working until their key is dropped), garbage never accepted. */
#include "ck_server.h"
#include "ck_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ck_token_claims claims(int32_t expires)
{
    ck_token_claims c = {.expires = expires};
    strcpy(c.campaign, "assegno-sociale");
    for (int i = 0; i < CK_HANDLE_BYTES; i++)
        c.handle[i] = (uint8_t)(i * 37 + 1);
    return c;
}

int main(void)
{
    char dir[] = "/tmp/ck_test_token_XXXXXX", path[256];
    CK_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/keys", dir);
    ck_keyring keys;
    ck_error err = {0};
    CK_CHECK(ck_keyring_load(path, true, &keys, &err) == CK_OK);
    int32_t today = ck_days_from_civil(2026, 3, 1);

    /* Round trip. */
    ck_token_claims c = claims(today + 10), out;
    char tok[CK_TOKEN_MAX];
    size_t n = ck_token_sign(&keys, &c, tok);
    CK_CHECK(n > 0 && n == strlen(tok));
    CK_CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n);
    CK_CHECK(ck_token_verify(&keys, tok, n, today, &out) == CK_TOKEN_OK);
    CK_CHECK_STR(out.campaign, "assegno-sociale");
    CK_CHECK(memcmp(out.handle, c.handle, CK_HANDLE_BYTES) == 0);
    CK_CHECK(out.expires == today + 10);

    /* Expiry: the last day is still valid, the day after answers "expired". */
    CK_CHECK(ck_token_verify(&keys, tok, n, today + 10, &out) == CK_TOKEN_OK);
    CK_CHECK(ck_token_verify(&keys, tok, n, today + 11, &out) == CK_TOKEN_EXPIRED);

    /* Every character changed: rejected (the last character may only carry padding bits). */
    int accepted = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        char t[CK_TOKEN_MAX];
        memcpy(t, tok, n + 1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        accepted += ck_token_verify(&keys, t, n, today, &out) != CK_TOKEN_BAD;
    }
    CK_CHECK(accepted == 0);
    /* Truncated, extended, empty, garbage. */
    CK_CHECK(ck_token_verify(&keys, tok, n - 1, today, &out) == CK_TOKEN_BAD);
    char longer[CK_TOKEN_MAX + 8];
    snprintf(longer, sizeof longer, "%sAA", tok);
    CK_CHECK(ck_token_verify(&keys, longer, strlen(longer), today, &out) == CK_TOKEN_BAD);
    CK_CHECK(ck_token_verify(&keys, "", 0, today, &out) == CK_TOKEN_BAD);
    CK_CHECK(ck_token_verify(&keys, "%00%2e%2e/..", 12, today, &out) == CK_TOKEN_BAD);
    srand(7);
    int garbage_ok = 0;
    for (int k = 0; k < 2000; k++) {
        char g[CK_TOKEN_MAX];
        size_t len = 1 + (size_t)rand() % (CK_TOKEN_MAX - 1);
        for (size_t i = 0; i < len; i++)
            g[i] = (char)(1 + rand() % 255);
        garbage_ok += ck_token_verify(&keys, g, len, today, &out) != CK_TOKEN_BAD;
    }
    CK_CHECK(garbage_ok == 0);

    /* Claims that cannot be signed. */
    ck_token_claims bad = claims(today);
    strcpy(bad.campaign, "Assegno Sociale");
    CK_CHECK(ck_token_sign(&keys, &bad, tok) == 0);
    n = ck_token_sign(&keys, &c, tok);

    /* Another key file: its tokens are strangers. */
    char path2[300];
    snprintf(path2, sizeof path2, "%s/keys2", dir);
    ck_keyring other;
    CK_CHECK(ck_keyring_load(path2, true, &other, &err) == CK_OK);
    CK_CHECK(ck_token_verify(&other, tok, n, today, &out) == CK_TOKEN_BAD);

    /* Rotation: a new key signs, the old one still verifies until dropped. */
    uint32_t id = 0;
    CK_CHECK(ck_keyring_rotate(path, &id, &err) == CK_OK && id == 2);
    ck_keyring rotated;
    CK_CHECK(ck_keyring_load(path, false, &rotated, &err) == CK_OK);
    CK_CHECK(rotated.token_count == 2 && rotated.token_ids[0] == 2);
    CK_CHECK(memcmp(rotated.data_key, keys.data_key, CK_KEY_BYTES) == 0);
    CK_CHECK(ck_token_verify(&rotated, tok, n, today, &out) == CK_TOKEN_OK);
    char tok2[CK_TOKEN_MAX];
    size_t n2 = ck_token_sign(&rotated, &c, tok2);
    CK_CHECK(strcmp(tok, tok2) != 0);
    CK_CHECK(ck_token_verify(&keys, tok2, n2, today, &out) == CK_TOKEN_BAD); /* old ring */
    CK_CHECK(ck_keyring_drop(path, 1, &err) == CK_OK);
    CK_CHECK(ck_keyring_drop(path, 2, &err) == CK_ERR_INVALID); /* the last one stays */
    CK_CHECK(ck_keyring_drop(path, 9, &err) == CK_ERR_NOT_FOUND);
    ck_keyring dropped;
    CK_CHECK(ck_keyring_load(path, false, &dropped, &err) == CK_OK);
    CK_CHECK(ck_token_verify(&dropped, tok, n, today, &out) == CK_TOKEN_BAD);
    CK_CHECK(ck_token_verify(&dropped, tok2, n2, today, &out) == CK_TOKEN_OK);

    /* The key file is private, and a readable one is refused. */
    struct stat sb;
    CK_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    chmod(path, 0644);
    CK_CHECK(ck_keyring_load(path, false, &dropped, &err) == CK_ERR_INVALID);
    CK_CHECK(ck_keyring_load("/nonexistent/keys", false, &dropped, &err) == CK_ERR_NOT_FOUND);

    /* Tags for logs: short, stable, not the token. */
    char tag[9], tag2[9];
    ck_token_tag(tok, n, tag);
    ck_token_tag(tok, n, tag2);
    CK_CHECK(strlen(tag) == 8 && strcmp(tag, tag2) == 0 && !strstr(tok, tag));

    unlink(path);
    unlink(path2);
    rmdir(dir);
    return ck_test_done("test_token");
}
