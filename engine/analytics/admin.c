/* admin.c: the dashboard's credential and sessions (see ck_analytics.h): a file and memory on
 * one node, PostgreSQL rows for a fleet. */
#include "analytics_internal.h"
#include "ck_store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESSIONS      64
#define SESSION_BYTES 32
#define SESSION_S     (8 * 3600.0)
#define SESSION_PG    "interval '8 hours'" /* SESSION_S, by the database's clock */
#define COOKIE_NAME   "ck_admin="

/* PostgreSQL tables, versioned as row 'admin' of ciak_schema (append, never edit). */
#define ADMIN_SCHEMA_VERSION 1
static const char *const pg_migrations[] = {
    "CREATE TABLE ciak_admin(name text PRIMARY KEY, credential text NOT NULL);"
    "CREATE TABLE ciak_admin_sessions(id_hash bytea PRIMARY KEY, expires timestamptz NOT NULL);"
    "CREATE INDEX ciak_admin_sessions_expires ON ciak_admin_sessions(expires);",
};
_Static_assert(sizeof pg_migrations / sizeof pg_migrations[0] == ADMIN_SCHEMA_VERSION,
               "one migration per schema version");

typedef struct session {
    uint8_t id[SESSION_BYTES];
    double expires; /* 0: free */
} session;

struct ck_admin {
    bool is_token;
    char pwhash[crypto_pwhash_STRBYTES];
    uint8_t token_sha[crypto_hash_sha256_BYTES];
    pthread_mutex_t lock;
    session sessions[SESSIONS]; /* one node */
    an_db *db;                  /* a fleet: credential and sessions in PostgreSQL */
};

/* A ck_admin from a credential line (`text`, len bytes, wiped here); `where` names it in
 * errors. */
static ck_admin *admin_parse(char *text, size_t len, const char *where, ck_error *err)
{
    ck_admin *a = calloc(1, sizeof *a);
    if (!a) {
        sodium_memzero(text, len);
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
    if (!ok) {
        ck_error_set(err, CK_ERR_PARSE, where, 1, 1,
                     "expected \"password $argon2id$...\" or \"token-sha256 <64 hex digits>\"");
        ck_admin_destroy(&a);
    }
    return a;
}

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
    ck_admin *a = admin_parse(text, len, path, err);
    free(text);
    return a;
}

/* The PostgreSQL database with the admin tables at their version. */
static an_db *admin_db(const char *db, ck_error *err)
{
    if (sodium_init() < 0) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "admin: libsodium failed to start");
        return NULL;
    }
    an_db *d = an_db_open(db, err);
    if (d && an_db_migrate(d, "admin", pg_migrations, ADMIN_SCHEMA_VERSION, err) != CK_OK)
        an_db_close(&d);
    return d;
}

ck_admin *ck_admin_open_at(const char *data_dir, const char *db, ck_error *err)
{
    if (!ck_store_is_postgres(db)) {
        char path[4096];
        if (!data_dir || (size_t)snprintf(path, sizeof path, "%s/admin", data_dir) >= sizeof path) {
            ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "admin: needs a data folder");
            return NULL;
        }
        return ck_admin_create(path, err);
    }
    an_db *d = admin_db(db, err);
    if (!d)
        return NULL;
    an_rows r;
    char *line = NULL;
    if (!an_query(d, &r, "SELECT credential FROM ciak_admin WHERE name = 'admin'", NULL, 0)) {
        ck_error_set(err, CK_ERR_IO, "postgresql", 0, 0, "admin: %s", an_db_error(d));
    } else {
        const char *t = an_next(&r) ? an_text(&r, 0) : NULL;
        if (t && !(line = strdup(t)))
            ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "admin: out of memory");
        else if (!t)
            ck_error_set(err, CK_ERR_NOT_FOUND, "postgresql", 0, 0,
                         "no admin credential in the database: the dashboard is off "
                         "(turn it on with `ciak admin-password --db URL`)");
        an_end(&r);
    }
    ck_admin *a = line ? admin_parse(line, strlen(line), "postgresql: ciak_admin", err) : NULL;
    free(line);
    if (a)
        a->db = d;
    else
        an_db_close(&d);
    return a;
}

/* <path> written whole or not at all, mode 0600, ending with a newline. */
static ck_status write_private(const char *path, const char *line, ck_error *err)
{
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n')
        return ck_write_atomic(path, line, len, 0600, err);
    char *text = malloc(len + 2);
    if (!text)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    memcpy(text, line, len);
    memcpy(text + len, "\n", 2);
    ck_status st = ck_write_atomic(path, text, len + 1, 0600, err);
    free(text);
    return st;
}

ck_status ck_admin_save(const char *data_dir, const char *db, const char *line, ck_error *err)
{
    if (!ck_store_is_postgres(db)) {
        char path[4096];
        if (!data_dir || (size_t)snprintf(path, sizeof path, "%s/admin", data_dir) >= sizeof path)
            return ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "admin: needs a data folder");
        return write_private(path, line, err);
    }
    an_db *d = admin_db(db, err);
    if (!d)
        return err->status;
    char text[512];
    snprintf(text, sizeof text, "%s", line);
    text[strcspn(text, "\r\n")] = '\0';
    const an_arg cred[] = {AN_T(text)};
    /* A new password ends every session, on every node. */
    bool ok = an_tx(d, AN_BEGIN) &&
              an_exec(d,
                      "INSERT INTO ciak_admin(name, credential) VALUES('admin', ?1) "
                      "ON CONFLICT(name) DO UPDATE SET credential = excluded.credential",
                      cred, 1, NULL) &&
              an_exec(d, "DELETE FROM ciak_admin_sessions", NULL, 0, NULL) && an_tx(d, AN_COMMIT);
    ck_status s = ok ? CK_OK
                     : ck_error_set(err, CK_ERR_IO, "postgresql", 0, 0,
                                    "admin: cannot store the credential: %s", an_db_error(d));
    if (!ok)
        an_tx(d, AN_ROLLBACK);
    sodium_memzero(text, sizeof text);
    an_db_close(&d);
    return s;
}

void ck_admin_destroy(ck_admin **ap)
{
    ck_admin *a = ap ? *ap : NULL;
    if (!a)
        return;
    an_db_close(&a->db);
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

/* A session row is found by the SHA-256 of its id: a database dump gives no cookie. */
static bool session_pg(ck_admin *a, const char *sql, const uint8_t id[SESSION_BYTES], bool *found)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, id, SESSION_BYTES);
    const an_arg args[] = {AN_B(h, sizeof h)};
    an_rows r;
    pthread_mutex_lock(&a->lock);
    bool ok = found ? an_query(a->db, &r, sql, args, 1) : an_exec(a->db, sql, args, 1, NULL);
    if (ok && found) {
        *found = an_next(&r);
        ok = an_end(&r);
    }
    if (!ok)
        ck_log(CK_LOG_ERROR, "admin: sessions: %s", an_db_error(a->db));
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void ck_admin_session_new(ck_admin *a, double now_s, char out[65])
{
    session s;
    randombytes_buf(s.id, sizeof s.id);
    s.expires = now_s + SESSION_S;
    sodium_bin2hex(out, 65, s.id, sizeof s.id);
    if (a->db) {
        /* Expired rows go first: the table holds live sessions only. */
        pthread_mutex_lock(&a->lock);
        an_exec(a->db, "DELETE FROM ciak_admin_sessions WHERE expires < now()", NULL, 0, NULL);
        pthread_mutex_unlock(&a->lock);
        session_pg(a,
                   "INSERT INTO ciak_admin_sessions(id_hash, expires) "
                   "VALUES(?1, now() + " SESSION_PG ")",
                   s.id, NULL);
        sodium_memzero(&s, sizeof s);
        return;
    }
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
    if (a->db) {
        return session_pg(a,
                          "SELECT 1 FROM ciak_admin_sessions WHERE id_hash = ?1 "
                          "AND expires > now()",
                          id, &ok) &&
               ok;
    }
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
    if (a->db) {
        session_pg(a, "DELETE FROM ciak_admin_sessions WHERE id_hash = ?1", id, NULL);
        return;
    }
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
