/* admin.c: the dashboard's credential and sessions (see ck_analytics.h). */
#include "ck_analytics.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SESSIONS      64
#define SESSION_BYTES 32
#define SESSION_S     (8 * 3600.0)
#define COOKIE_NAME   "ck_admin="

typedef struct session {
    uint8_t id[SESSION_BYTES];
    double expires; /* 0: free */
} session;

struct ck_admin {
    bool is_token;
    char pwhash[crypto_pwhash_STRBYTES];
    uint8_t token_sha[crypto_hash_sha256_BYTES];
    pthread_mutex_t lock;
    session sessions[SESSIONS];
};

ck_admin *ck_admin_create(const char *path, ck_error *err)
{
    if (sodium_init() < 0) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "admin: libsodium failed to start");
        return NULL;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        ck_error_set(err, CK_ERR_NOT_FOUND, path, 0, 0,
                     "no admin credential: the dashboard is off "
                     "(turn it on with `ciak admin-password --data-dir DIR`)");
        return NULL;
    }
    if (sb.st_mode & 077) {
        ck_error_set(err, CK_ERR_INVALID, path, 0, 0,
                     "readable by group or others: refused (chmod 600)");
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    if (ck_read_file(path, 4096, &text, &len, err) != CK_OK)
        return NULL;
    ck_admin *a = calloc(1, sizeof *a);
    if (!a) {
        free(text);
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "admin: out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    char *v = NULL;
    bool ok = false;
    while (len && isspace((unsigned char)text[len - 1]))
        text[--len] = '\0';
    if (strncmp(text, "password ", 9) == 0) {
        v = text + 9;
        ok = strlen(v) < sizeof a->pwhash && strncmp(v, "$argon2", 7) == 0;
        if (ok)
            snprintf(a->pwhash, sizeof a->pwhash, "%s", v);
    } else if (strncmp(text, "token-sha256 ", 13) == 0) {
        v = text + 13;
        size_t bin_len = 0;
        ok = strlen(v) == 2 * sizeof a->token_sha &&
             sodium_hex2bin(a->token_sha, sizeof a->token_sha, v, strlen(v), NULL, &bin_len,
                            NULL) == 0 &&
             bin_len == sizeof a->token_sha;
        a->is_token = true;
    }
    sodium_memzero(text, len);
    free(text);
    if (!ok) {
        ck_error_set(err, CK_ERR_PARSE, path, 1, 1,
                     "expected \"password $argon2id$...\" or \"token-sha256 <64 hex digits>\"");
        ck_admin_destroy(&a);
        return NULL;
    }
    return a;
}

void ck_admin_destroy(ck_admin **ap)
{
    ck_admin *a = ap ? *ap : NULL;
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    sodium_memzero(a, sizeof *a);
    free(a);
    *ap = NULL;
}

bool ck_admin_check(ck_admin *a, const char *secret, size_t len)
{
    if (!a || !secret || len == 0 || len > 256)
        return false;
    if (a->is_token) {
        if (len < 20)
            return false;
        uint8_t h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const uint8_t *)secret, len);
        return sodium_memcmp(h, a->token_sha, sizeof h) == 0;
    }
    return crypto_pwhash_str_verify(a->pwhash, secret, len) == 0;
}

void ck_admin_session_new(ck_admin *a, double now_s, char out[65])
{
    session s;
    randombytes_buf(s.id, sizeof s.id);
    s.expires = now_s + SESSION_S;
    sodium_bin2hex(out, 65, s.id, sizeof s.id);
    pthread_mutex_lock(&a->lock);
    session *slot = &a->sessions[0];
    for (int i = 0; i < SESSIONS; i++) {
        if (a->sessions[i].expires < now_s) {
            slot = &a->sessions[i];
            break;
        }
        if (a->sessions[i].expires < slot->expires)
            slot = &a->sessions[i]; /* full: the oldest one goes */
    }
    *slot = s;
    pthread_mutex_unlock(&a->lock);
}

/* The session id in a Cookie header, or false. */
static bool cookie_id(const char *header, uint8_t id[SESSION_BYTES])
{
    if (!header)
        return false;
    for (const char *p = header; (p = strstr(p, COOKIE_NAME)) != NULL; p++) {
        if (p != header && p[-1] != ' ' && p[-1] != ';')
            continue;
        const char *v = p + strlen(COOKIE_NAME);
        size_t n = strcspn(v, "; ");
        size_t got = 0;
        if (n == 2 * SESSION_BYTES &&
            sodium_hex2bin(id, SESSION_BYTES, v, n, NULL, &got, NULL) == 0 && got == SESSION_BYTES)
            return true;
    }
    return false;
}

bool ck_admin_session_ok(ck_admin *a, const char *cookie_header, double now_s)
{
    uint8_t id[SESSION_BYTES];
    if (!a || !cookie_id(cookie_header, id))
        return false;
    bool ok = false;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < SESSIONS; i++)
        if (a->sessions[i].expires >= now_s &&
            sodium_memcmp(a->sessions[i].id, id, SESSION_BYTES) == 0)
            ok = true;
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void ck_admin_session_end(ck_admin *a, const char *cookie_header)
{
    uint8_t id[SESSION_BYTES];
    if (!a || !cookie_id(cookie_header, id))
        return;
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < SESSIONS; i++)
        if (sodium_memcmp(a->sessions[i].id, id, SESSION_BYTES) == 0)
            memset(&a->sessions[i], 0, sizeof a->sessions[i]);
    pthread_mutex_unlock(&a->lock);
}

ck_status ck_admin_hash_password(const char *password, char *out, size_t size, ck_error *err)
{
    char h[crypto_pwhash_STRBYTES];
    if (sodium_init() < 0 || strlen(password) < 12)
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "admin password: at least 12 characters");
    if (crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "admin password: out of memory");
    if ((size_t)snprintf(out, size, "password %s\n", h) >= size)
        return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0, "admin password: buffer too small");
    return CK_OK;
}
