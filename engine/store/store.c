/* store.c: people in SQLite (WAL), each record sealed with libsodium secretbox. */
#include "ck_store.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PID_HASH_BYTES 16

enum {
    Q_PUT_FIND,
    Q_INSERT,
    Q_UPDATE,
    Q_GET,
    Q_PEEK,
    Q_EACH,
    Q_EXTEND,
    Q_REVOKE,
    Q_PURGE,
    Q_COUNT,
    Q__N
};

static const char *const queries[Q__N] = {
    [Q_PUT_FIND] = "SELECT expires FROM people WHERE campaign=?1 AND pid_hash=?2",
    [Q_INSERT] = "INSERT INTO people(campaign, pid_hash, handle, expires, rev, sealed) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_UPDATE] =
        "UPDATE people SET expires=?3, rev=?4, sealed=?5 WHERE campaign=?1 AND pid_hash=?2",
    [Q_GET] = "SELECT expires, rev, sealed FROM people WHERE campaign=?1 AND handle=?2",
    [Q_PEEK] = "SELECT expires, rev FROM people WHERE campaign=?1 AND handle=?2",
    [Q_EACH] = "SELECT handle, expires, rev, sealed FROM people WHERE campaign=?1 ORDER BY rowid",
    [Q_EXTEND] = "UPDATE people SET expires=max(expires, ?3) WHERE campaign=?1 AND handle=?2",
    [Q_REVOKE] = "UPDATE people SET handle=?3, rev=?4 WHERE campaign=?1 AND pid_hash=?2",
    [Q_PURGE] = "DELETE FROM people WHERE expires < ?1",
    [Q_COUNT] = "SELECT count(*) FROM people WHERE campaign=?1",
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA secure_delete=ON;"
    "CREATE TABLE IF NOT EXISTS people("
    "  campaign TEXT NOT NULL,"
    "  pid_hash BLOB NOT NULL,"
    "  handle BLOB NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  PRIMARY KEY(campaign, pid_hash));"
    "CREATE UNIQUE INDEX IF NOT EXISTS people_handle ON people(campaign, handle);"
    "CREATE INDEX IF NOT EXISTS people_expires ON people(expires);";

struct ck_store {
    sqlite3 *db;
    sqlite3_stmt *q[Q__N];
    pthread_mutex_t lock;
    uint8_t key[CK_KEY_BYTES];      /* secretbox key */
    uint8_t hash_key[CK_KEY_BYTES]; /* pid_hash key, derived from the data key */
    const char *path;
};

static ck_status db_error(ck_store *st, ck_error *err, const char *what)
{
    return ck_error_set(err, CK_ERR_IO, st->path, 0, 0, "%s: %s", what, sqlite3_errmsg(st->db));
}

ck_store *ck_store_open(const char *path, const ck_store_params *params, ck_error *err)
{
    if (!params || !params->keys) {
        ck_error_set(err, CK_ERR_USAGE, path, 0, 0, "store needs the key file's keys");
        return NULL;
    }
    if (sodium_init() < 0) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "libsodium failed to start");
        return NULL;
    }
    ck_store *st = calloc(1, sizeof *st);
    if (!st) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        return NULL;
    }
    st->path = path;
    pthread_mutex_init(&st->lock, NULL);
    /* Two keys from one: sealing and hashing never share key material. */
    crypto_kdf_derive_from_key(st->key, CK_KEY_BYTES, 1, "ciakdata", params->keys->data_key);
    crypto_kdf_derive_from_key(st->hash_key, CK_KEY_BYTES, 2, "ciakdata", params->keys->data_key);
    int flags =
        params->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        db_error(st, err, "cannot open the store");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, params->busy_timeout_ms > 0 ? params->busy_timeout_ms : 5000);
    if (!params->readonly && sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        db_error(st, err, "cannot set up the store");
        goto fail;
    }
    for (int i = 0; i < Q__N; i++)
        if (sqlite3_prepare_v3(st->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &st->q[i],
                               NULL) != SQLITE_OK) {
            db_error(st, err, "cannot prepare a query (is it a ciak store?)");
            goto fail;
        }
    st->path = NULL; /* the caller's string may not outlive this call */
    return st;
fail:
    st->path = NULL;
    ck_store_close(&st);
    return NULL;
}

void ck_store_close(ck_store **pst)
{
    ck_store *st = *pst;
    if (!st)
        return;
    for (int i = 0; i < Q__N; i++)
        sqlite3_finalize(st->q[i]);
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    sodium_memzero(st, sizeof *st);
    free(st);
    *pst = NULL;
}

void ck_person_clear(ck_person *p)
{
    if (p->record_json) {
        sodium_memzero(p->record_json, strlen(p->record_json));
        free(p->record_json);
    }
    sodium_memzero(p, sizeof *p);
}

static sqlite3_stmt *q_start(ck_store *st, int which, const char *campaign)
{
    sqlite3_stmt *q = st->q[which];
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (campaign)
        sqlite3_bind_text(q, 1, campaign, -1, SQLITE_STATIC);
    return q;
}

static void pid_hash(const ck_store *st, const char *person_id, uint8_t out[PID_HASH_BYTES])
{
    crypto_generichash(out, PID_HASH_BYTES, (const uint8_t *)person_id, strlen(person_id),
                       st->hash_key, sizeof st->hash_key);
}

static int64_t new_rev(void)
{
    int64_t r;
    randombytes_buf(&r, sizeof r);
    return r & INT64_MAX;
}

/* Plain text: the person id, a NUL, then the record JSON (the id is in the JSON too, but
 * having it first lets `each` fill person_id without a JSON parse). */
static uint8_t *seal(const ck_store *st, const char *person_id, const char *json, size_t *out_len)
{
    size_t il = strlen(person_id) + 1, jl = strlen(json);
    size_t plen = il + jl, clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plen;
    uint8_t *plain = malloc(plen), *box = malloc(clen);
    if (!plain || !box) {
        free(plain);
        free(box);
        return NULL;
    }
    memcpy(plain, person_id, il);
    memcpy(plain + il, json, jl);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, plen, box, st->key);
    sodium_memzero(plain, plen);
    free(plain);
    *out_len = clen;
    return box;
}

static ck_status unseal(const ck_store *st, const void *box, size_t len, ck_person *p,
                        ck_error *err)
{
    if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 1)
        return ck_error_set(err, CK_ERR_PARSE, NULL, 0, 0, "stored record is truncated");
    size_t plen = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *plain = malloc(plen + 1);
    if (!plain)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    const uint8_t *b = box;
    if (crypto_secretbox_open_easy((uint8_t *)plain, b + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, b, st->key) != 0) {
        free(plain);
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "stored record does not decrypt (wrong key file?)");
    }
    plain[plen] = '\0';
    size_t il = strnlen(plain, plen);
    if (il >= plen || il >= sizeof p->person_id) {
        sodium_memzero(plain, plen);
        free(plain);
        return ck_error_set(err, CK_ERR_PARSE, NULL, 0, 0, "stored record is malformed");
    }
    memcpy(p->person_id, plain, il + 1);
    p->record_json = strdup(plain + il + 1);
    sodium_memzero(plain, plen);
    free(plain);
    return p->record_json ? CK_OK : ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
}

ck_status ck_store_begin(ck_store *st, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    ck_status s = rc == SQLITE_OK ? CK_OK : db_error(st, err, "cannot start a transaction");
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_commit(ck_store *st, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    ck_status s = rc == SQLITE_OK ? CK_OK : db_error(st, err, "cannot commit");
    pthread_mutex_unlock(&st->lock);
    return s;
}

void ck_store_rollback(ck_store *st)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&st->lock);
}

ck_status ck_store_put(ck_store *st, const char *campaign, const char *person_id,
                       const char *record_json, int32_t expires, bool *created, ck_error *err)
{
    uint8_t h[PID_HASH_BYTES];
    pid_hash(st, person_id, h);
    size_t blen;
    uint8_t *box = seal(st, person_id, record_json, &blen);
    if (!box)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    ck_status s = CK_OK;
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_PUT_FIND, campaign);
    sqlite3_bind_blob(q, 2, h, sizeof h, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        int32_t old = (int32_t)sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        q = q_start(st, Q_UPDATE, campaign);
        sqlite3_bind_blob(q, 2, h, sizeof h, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, old > expires ? old : expires);
        sqlite3_bind_int64(q, 4, new_rev());
        sqlite3_bind_blob(q, 5, box, (int)blen, SQLITE_STATIC);
        if (created)
            *created = false;
    } else if (rc == SQLITE_DONE) {
        uint8_t handle[CK_HANDLE_BYTES];
        randombytes_buf(handle, sizeof handle);
        q = q_start(st, Q_INSERT, campaign);
        sqlite3_bind_blob(q, 2, h, sizeof h, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, handle, sizeof handle, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, expires);
        sqlite3_bind_int64(q, 5, new_rev());
        sqlite3_bind_blob(q, 6, box, (int)blen, SQLITE_STATIC);
        if (created)
            *created = true;
    } else {
        s = db_error(st, err, "cannot read the store");
        q = NULL;
    }
    if (q && sqlite3_step(q) != SQLITE_DONE)
        s = db_error(st, err, "cannot write the store");
    if (q)
        sqlite3_reset(q);
    pthread_mutex_unlock(&st->lock);
    free(box);
    return s;
}

ck_status ck_store_get(ck_store *st, const char *campaign, const uint8_t *handle, ck_person *out,
                       ck_error *err)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_GET, campaign);
    sqlite3_bind_blob(q, 2, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    ck_status s;
    if (rc == SQLITE_ROW) {
        out->expires = (int32_t)sqlite3_column_int64(q, 0);
        out->rev = sqlite3_column_int64(q, 1);
        memcpy(out->handle, handle, CK_HANDLE_BYTES);
        s = unseal(st, sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), out, err);
    } else if (rc == SQLITE_DONE) {
        s = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person");
    } else {
        s = db_error(st, err, "cannot read the store");
    }
    sqlite3_reset(q);
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_peek(ck_store *st, const char *campaign, const uint8_t *handle, int64_t *rev,
                        int32_t *expires, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_PEEK, campaign);
    sqlite3_bind_blob(q, 2, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    ck_status s = CK_OK;
    if (rc == SQLITE_ROW) {
        if (expires)
            *expires = (int32_t)sqlite3_column_int64(q, 0);
        if (rev)
            *rev = sqlite3_column_int64(q, 1);
    } else if (rc == SQLITE_DONE) {
        s = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person");
    } else {
        s = db_error(st, err, "cannot read the store");
    }
    sqlite3_reset(q);
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_each(ck_store *st, const char *campaign, ck_store_each_fn fn, void *user,
                        ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_EACH, campaign);
    ck_status s = CK_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ck_person p = {0};
        if (sqlite3_column_bytes(q, 0) != CK_HANDLE_BYTES) {
            s = ck_error_set(err, CK_ERR_PARSE, NULL, 0, 0, "stored handle is malformed");
            break;
        }
        memcpy(p.handle, sqlite3_column_blob(q, 0), CK_HANDLE_BYTES);
        p.expires = (int32_t)sqlite3_column_int64(q, 1);
        p.rev = sqlite3_column_int64(q, 2);
        s = unseal(st, sqlite3_column_blob(q, 3), (size_t)sqlite3_column_bytes(q, 3), &p, err);
        bool go_on = s == CK_OK && fn(user, &p);
        ck_person_clear(&p);
        if (!go_on)
            break;
    }
    if (s == CK_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        s = db_error(st, err, "cannot read the store");
    sqlite3_reset(q);
    pthread_mutex_unlock(&st->lock);
    return s;
}

/* Runs a prepared write whose parameters are bound; reports changes. */
static ck_status run_write(ck_store *st, sqlite3_stmt *q, int *changes, ck_error *err)
{
    ck_status s = sqlite3_step(q) == SQLITE_DONE ? CK_OK : db_error(st, err, "cannot write");
    if (changes)
        *changes = sqlite3_changes(st->db);
    sqlite3_reset(q);
    return s;
}

ck_status ck_store_extend(ck_store *st, const char *campaign, const uint8_t *handle,
                          int32_t expires, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_EXTEND, campaign);
    sqlite3_bind_blob(q, 2, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, expires);
    ck_status s = run_write(st, q, NULL, err);
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_revoke(ck_store *st, const char *campaign, const char *person_id, ck_error *err)
{
    uint8_t h[PID_HASH_BYTES], handle[CK_HANDLE_BYTES];
    pid_hash(st, person_id, h);
    randombytes_buf(handle, sizeof handle);
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_REVOKE, campaign);
    sqlite3_bind_blob(q, 2, h, sizeof h, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, handle, sizeof handle, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, new_rev());
    int changes = 0;
    ck_status s = run_write(st, q, &changes, err);
    pthread_mutex_unlock(&st->lock);
    if (s == CK_OK && changes == 0)
        s = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person in this campaign");
    return s;
}

ck_status ck_store_purge(ck_store *st, int32_t today, int64_t *removed, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_PURGE, NULL);
    sqlite3_bind_int64(q, 1, today);
    int changes = 0;
    ck_status s = run_write(st, q, &changes, err);
    pthread_mutex_unlock(&st->lock);
    if (removed)
        *removed = changes;
    return s;
}

ck_status ck_store_count(ck_store *st, const char *campaign, int64_t *count, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *q = q_start(st, Q_COUNT, campaign);
    ck_status s = CK_OK;
    if (sqlite3_step(q) == SQLITE_ROW)
        *count = sqlite3_column_int64(q, 0);
    else
        s = db_error(st, err, "cannot read the store");
    sqlite3_reset(q);
    pthread_mutex_unlock(&st->lock);
    return s;
}

int32_t ck_today(void)
{
    return (int32_t)(time(NULL) / 86400);
}
