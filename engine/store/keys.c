/* keys.c: the key file. Text, one key per line, so an operator can see what is in it:
 *   data <64 hex digits>
 *   token <id> <64 hex digits>     (newest last; the newest signs, all verify)
 * Comments start with '#'. */
#include "ck_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char header[] =
    "# ciak key file: keep it secret (mode 0600) and backed up. Losing it makes every stored\n"
    "# record unreadable and every link invalid. `ciak keys rotate` adds a token key (the\n"
    "# newest signs links, all listed keys verify them); `ciak keys drop ID` removes one.\n";

static bool parse_hex_key(const char *hex, uint8_t *out)
{
    size_t len = 0;
    if (strlen(hex) != 2 * CK_KEY_BYTES)
        return false;
    return sodium_hex2bin(out, CK_KEY_BYTES, hex, 2 * CK_KEY_BYTES, NULL, &len, NULL) == 0 &&
           len == CK_KEY_BYTES;
}

static ck_status parse(const char *path, char *text, ck_keyring *k, ck_error *err)
{
    memset(k, 0, sizeof *k);
    bool have_data = false;
    int line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char kind[16], a[80], b[80];
        if (l[0] == '#' || l[0] == '\0')
            continue;
        int n = sscanf(l, "%15s %79s %79s", kind, a, b);
        if (n == 2 && strcmp(kind, "data") == 0 && parse_hex_key(a, k->data_key)) {
            have_data = true;
        } else if (n == 3 && strcmp(kind, "token") == 0 && k->token_count < CK_KEYRING_MAX) {
            char *end;
            unsigned long id = strtoul(a, &end, 10);
            /* Keys are listed oldest first; keep the newest at index 0. */
            memmove(&k->token_ids[1], &k->token_ids[0], sizeof k->token_ids[0] * k->token_count);
            memmove(&k->token_keys[1], &k->token_keys[0], sizeof k->token_keys[0] * k->token_count);
            if (*end || id == 0 || id > UINT32_MAX || !parse_hex_key(b, k->token_keys[0]))
                return ck_error_set(err, CK_ERR_PARSE, path, line, 0, "malformed token key");
            k->token_ids[0] = (uint32_t)id;
            k->token_count++;
        } else {
            return ck_error_set(err, CK_ERR_PARSE, path, line, 0,
                                "expected \"data HEX\" or \"token ID HEX\"");
        }
    }
    if (!have_data || k->token_count == 0)
        return ck_error_set(err, CK_ERR_PARSE, path, 0, 0,
                            "key file needs a data key and at least one token key");
    return CK_OK;
}

/* Writes the keyring to `path` atomically with mode 0600. The text is built on the stack and
 * wiped after, so no copy of a key is left in freed heap memory. */
static ck_status write_keys(const char *path, const ck_keyring *k, ck_error *err)
{
    char text[sizeof header + 80 + CK_KEYRING_MAX * 96], hex[2 * CK_KEY_BYTES + 1];
    ck_strbuf b;
    ck_strbuf_init_fixed(&b, text, sizeof text);
    ck_strbuf_puts(&b, header);
    ck_strbuf_printf(&b, "data %s\n", sodium_bin2hex(hex, sizeof hex, k->data_key, CK_KEY_BYTES));
    for (int i = k->token_count - 1; i >= 0; i--)
        ck_strbuf_printf(&b, "token %u %s\n", k->token_ids[i],
                         sodium_bin2hex(hex, sizeof hex, k->token_keys[i], CK_KEY_BYTES));
    sodium_memzero(hex, sizeof hex);
    ck_status st = b.failed ? ck_error_set(err, CK_ERR_LIMIT, path, 0, 0, "key file too long")
                            : ck_write_atomic(path, text, b.len, 0600, err);
    sodium_memzero(text, sizeof text);
    return st;
}

ck_status ck_keyring_load(const char *path, bool create, ck_keyring *out, ck_error *err)
{
    memset(out, 0, sizeof *out);
    if (sodium_init() < 0)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "libsodium failed to start");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || !create)
            return ck_error_set(err, CK_ERR_NOT_FOUND, path, 0, 0, "no key file: %s",
                                strerror(errno));
        randombytes_buf(out->data_key, CK_KEY_BYTES);
        randombytes_buf(out->token_keys[0], CK_KEY_BYTES);
        out->token_ids[0] = 1;
        out->token_count = 1;
        ck_status st = write_keys(path, out, err);
        if (st != CK_OK)
            ck_keyring_wipe(out);
        return st;
    }
    if (sb.st_mode & 077)
        return ck_error_set(err, CK_ERR_INVALID, path, 0, 0,
                            "key file is readable by others (mode %03o): chmod 600 it",
                            (unsigned)(sb.st_mode & 0777));
    char *text = NULL;
    size_t len = 0;
    ck_status st = ck_read_file(path, 64 * 1024, &text, &len, err);
    if (st != CK_OK)
        return st;
    st = parse(path, text, out, err);
    sodium_memzero(text, len);
    free(text);
    if (st != CK_OK)
        ck_keyring_wipe(out);
    return st;
}

ck_status ck_keyring_rotate(const char *path, uint32_t *new_id, ck_error *err)
{
    ck_keyring k;
    ck_status st = ck_keyring_load(path, false, &k, err);
    if (st != CK_OK)
        return st;
    if (k.token_count == CK_KEYRING_MAX) {
        ck_keyring_wipe(&k);
        return ck_error_set(err, CK_ERR_LIMIT, path, 0, 0,
                            "%d token keys already: drop an old one first", CK_KEYRING_MAX);
    }
    uint32_t id = 0;
    for (int i = 0; i < k.token_count; i++)
        id = k.token_ids[i] > id ? k.token_ids[i] : id;
    memmove(&k.token_ids[1], &k.token_ids[0], sizeof k.token_ids[0] * k.token_count);
    memmove(&k.token_keys[1], &k.token_keys[0], sizeof k.token_keys[0] * k.token_count);
    k.token_ids[0] = id + 1;
    randombytes_buf(k.token_keys[0], CK_KEY_BYTES);
    k.token_count++;
    st = write_keys(path, &k, err);
    if (st == CK_OK && new_id)
        *new_id = id + 1;
    ck_keyring_wipe(&k);
    return st;
}

ck_status ck_keyring_drop(const char *path, uint32_t id, ck_error *err)
{
    ck_keyring k;
    ck_status st = ck_keyring_load(path, false, &k, err);
    if (st != CK_OK)
        return st;
    int at = -1;
    for (int i = 0; i < k.token_count; i++)
        if (k.token_ids[i] == id)
            at = i;
    if (at < 0)
        st = ck_error_set(err, CK_ERR_NOT_FOUND, path, 0, 0, "no token key %u", id);
    else if (k.token_count == 1)
        st = ck_error_set(err, CK_ERR_INVALID, path, 0, 0,
                          "token key %u is the only one: rotate first", id);
    if (st == CK_OK) {
        int rest = k.token_count - at - 1;
        memmove(&k.token_ids[at], &k.token_ids[at + 1], sizeof k.token_ids[0] * rest);
        memmove(&k.token_keys[at], &k.token_keys[at + 1], sizeof k.token_keys[0] * rest);
        k.token_count--;
        st = write_keys(path, &k, err);
    }
    ck_keyring_wipe(&k);
    return st;
}

void ck_keyring_wipe(ck_keyring *k)
{
    sodium_memzero(k, sizeof *k);
}
