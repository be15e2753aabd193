/* store.c: what every backend shares: sealing (libsodium secretbox), the keyed hash of person
 * ids, handles and revisions, the key check at open, and the mutex that serialises calls. The
 * backends (store_sqlite.c, store_pg.c) only move the resulting bytes. */
#include "store_internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The canary sealed in ciak_meta: a store opened with another key file cannot unseal it. */
#define KEY_CHECK_NAME "key_check"
#define KEY_CHECK_ID   "ciak key check"

struct ck_store {
    const store_backend *be;
    void *db;
    pthread_mutex_t lock;
    uint8_t key[CK_KEY_BYTES];      /* secretbox key */
    uint8_t hash_key[CK_KEY_BYTES]; /* pid_hash key, derived from the data key */
};

/* libpq keywords a keyword DSN ("host=db dbname=ciak") may start with. */
static const char *const pg_keywords[] = {
    "host",     "hostaddr",         "port",    "dbname",          "user",
    "password", "passfile",         "service", "connect_timeout", "sslmode",
    "options",  "application_name",
};

bool ck_store_is_postgres(const char *where)
{
    if (!where)
        return false;
    if (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0)
        return true;
    for (size_t i = 0; i < sizeof pg_keywords / sizeof pg_keywords[0]; i++) {
        size_t n = strlen(pg_keywords[i]);
        if (strncmp(where, pg_keywords[i], n) == 0) {
            const char *p = where + n;
            while (*p == ' ')
                p++;
            if (*p == '=')
                return true;
        }
    }
    return false;
}

ck_status store_newer_schema(ck_error *err, const char *where, int found)
{
    return ck_error_set(err, CK_ERR_UNSUPPORTED, where, 0, 0,
                        "the store's schema is version %d, newer than the version %d this ciak "
                        "knows: another node was upgraded; upgrade ciak here before starting it",
                        found, CK_STORE_SCHEMA_VERSION);
}

static void pid_hash(const ck_store *st, const char *person_id, uint8_t out[CK_PID_HASH_BYTES])
{
    crypto_generichash(out, CK_PID_HASH_BYTES, (const uint8_t *)person_id, strlen(person_id),
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

/* True when `box` opens with this store's key (and, for the canary, is the canary). */
static bool opens(const ck_store *st, const uint8_t *box, size_t len, const char *want_id)
{
    ck_person p = {0};
    ck_error e = {0};
    bool ok =
        unseal(st, box, len, &p, &e) == CK_OK && (!want_id || strcmp(p.person_id, want_id) == 0);
    ck_person_clear(&p);
    return ok;
}

static ck_status wrong_key(ck_error *err)
{
    return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                        "this key file does not open the store: its people were sealed with "
                        "another data key (use the key file the store was made with)");
}

/* A node with another key file must refuse to start rather than answer every viewer with an
 * error. The store keeps a sealed canary; a store from before the canary (or a new one) is
 * checked against one of its people, then gets the canary. Of nodes starting at once with
 * different keys, the first canary written stays and the others refuse. */
static ck_status check_key(ck_store *st, bool readonly, ck_error *err)
{
    uint8_t *box = NULL;
    size_t len = 0;
    ck_status s = st->be->meta_get(st->db, KEY_CHECK_NAME, &box, &len, err);
    if (s == CK_ERR_NOT_FOUND) {
        s = st->be->sample(st->db, &box, &len, err);
        if (s == CK_OK) {
            s = opens(st, box, len, NULL) ? CK_OK : wrong_key(err);
            free(box);
            box = NULL;
        } else if (s == CK_ERR_NOT_FOUND) {
            s = CK_OK;
        }
        if (s != CK_OK || readonly)
            return s;
        uint8_t *canary = seal(st, KEY_CHECK_ID, "{}", &len);
        if (!canary)
            return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        s = st->be->meta_add(st->db, KEY_CHECK_NAME, canary, len, err);
        free(canary);
        if (s == CK_OK)
            s = st->be->meta_get(st->db, KEY_CHECK_NAME, &box, &len, err);
    }
    if (s == CK_OK && !opens(st, box, len, KEY_CHECK_ID))
        s = wrong_key(err);
    free(box);
    return s;
}

ck_store *ck_store_open(const char *where, const ck_store_params *params, ck_error *err)
{
    if (!where || !params || !params->keys) {
        ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0,
                     "store needs a place (path or PostgreSQL URL) and the key file's keys");
        return NULL;
    }
    if (sodium_init() < 0) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "libsodium failed to start");
        return NULL;
    }
    ck_store *st = calloc(1, sizeof *st);
    if (!st) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->lock, NULL);
    /* Two keys from one: sealing and hashing never share key material. */
    crypto_kdf_derive_from_key(st->key, CK_KEY_BYTES, 1, "ciakdata", params->keys->data_key);
    crypto_kdf_derive_from_key(st->hash_key, CK_KEY_BYTES, 2, "ciakdata", params->keys->data_key);
    if (ck_store_is_postgres(where)) {
        st->be = &store_pg_backend;
        st->db = store_pg_open(where, params, err);
    } else {
        st->be = &store_sqlite_backend;
        st->db = store_sqlite_open(where, params, err);
    }
    if (!st->db || check_key(st, params->readonly, err) != CK_OK)
        ck_store_close(&st);
    return st;
}

ck_store *ck_store_open_at(const char *data_dir, const char *db, const ck_store_params *params,
                           ck_error *err)
{
    if (db && *db)
        return ck_store_open(db, params, err);
    if (!data_dir) {
        ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0, "store needs a data folder or a database");
        return NULL;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/ciak.db", data_dir) >= sizeof path) {
        ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0, "data folder path too long");
        return NULL;
    }
    return ck_store_open(path, params, err);
}

const char *ck_store_backend_name(const ck_store *st)
{
    return st->be->name;
}

void ck_store_close(ck_store **pst)
{
    ck_store *st = *pst;
    if (!st)
        return;
    if (st->db)
        st->be->close(st->db);
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

static ck_status run_tx(ck_store *st, store_tx what, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->tx(st->db, what, err);
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_begin(ck_store *st, ck_error *err)
{
    return run_tx(st, CK_TX_BEGIN, err);
}

ck_status ck_store_commit(ck_store *st, ck_error *err)
{
    return run_tx(st, CK_TX_COMMIT, err);
}

void ck_store_rollback(ck_store *st)
{
    ck_error ignored = {0};
    run_tx(st, CK_TX_ROLLBACK, &ignored);
}

ck_status ck_store_put(ck_store *st, const char *campaign, const char *person_id,
                       const char *record_json, int32_t expires, bool *created, ck_error *err)
{
    uint8_t h[CK_PID_HASH_BYTES], handle[CK_HANDLE_BYTES];
    pid_hash(st, person_id, h);
    randombytes_buf(handle, sizeof handle); /* used only when the person is new */
    size_t blen;
    uint8_t *box = seal(st, person_id, record_json, &blen);
    if (!box)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    bool made = false;
    pthread_mutex_lock(&st->lock);
    ck_status s =
        st->be->put(st->db, campaign, h, handle, expires, new_rev(), box, blen, &made, err);
    pthread_mutex_unlock(&st->lock);
    free(box);
    if (created)
        *created = made;
    return s;
}

ck_status ck_store_get(ck_store *st, const char *campaign, const uint8_t *handle, ck_person *out,
                       ck_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *box = NULL;
    size_t len = 0;
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->find(st->db, campaign, handle, &out->expires, &out->rev, &box, &len, err);
    pthread_mutex_unlock(&st->lock);
    if (s == CK_OK) {
        memcpy(out->handle, handle, CK_HANDLE_BYTES);
        s = unseal(st, box, len, out, err);
    }
    free(box);
    return s;
}

ck_status ck_store_peek(ck_store *st, const char *campaign, const uint8_t *handle, int64_t *rev,
                        int32_t *expires, ck_error *err)
{
    int64_t r = 0;
    int32_t e = 0;
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->find(st->db, campaign, handle, &e, &r, NULL, NULL, err);
    pthread_mutex_unlock(&st->lock);
    if (s == CK_OK && rev)
        *rev = r;
    if (s == CK_OK && expires)
        *expires = e;
    return s;
}

typedef struct each_ctx {
    ck_store *st;
    ck_store_each_fn fn;
    void *user;
    ck_status status;
    ck_error *err;
} each_ctx;

static bool each_row(void *user, const store_row *row)
{
    each_ctx *c = user;
    ck_person p = {0};
    memcpy(p.handle, row->handle, CK_HANDLE_BYTES);
    p.expires = row->expires;
    p.rev = row->rev;
    c->status = unseal(c->st, row->sealed, row->sealed_len, &p, c->err);
    bool go_on = c->status == CK_OK && c->fn(c->user, &p);
    ck_person_clear(&p);
    return go_on;
}

ck_status ck_store_each(ck_store *st, const char *campaign, ck_store_each_fn fn, void *user,
                        ck_error *err)
{
    each_ctx c = {st, fn, user, CK_OK, err};
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->each(st->db, campaign, each_row, &c, err);
    pthread_mutex_unlock(&st->lock);
    return s != CK_OK ? s : c.status;
}

ck_status ck_store_extend(ck_store *st, const char *campaign, const uint8_t *handle,
                          int32_t expires, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->extend(st->db, campaign, handle, expires, err);
    pthread_mutex_unlock(&st->lock);
    return s;
}

ck_status ck_store_revoke(ck_store *st, const char *campaign, const char *person_id, ck_error *err)
{
    uint8_t h[CK_PID_HASH_BYTES], handle[CK_HANDLE_BYTES];
    pid_hash(st, person_id, h);
    randombytes_buf(handle, sizeof handle);
    int64_t changed = 0;
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->revoke(st->db, campaign, h, handle, new_rev(), &changed, err);
    pthread_mutex_unlock(&st->lock);
    if (s == CK_OK && changed == 0)
        s = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person in this campaign");
    return s;
}

ck_status ck_store_purge(ck_store *st, int32_t today, int64_t *removed, ck_error *err)
{
    int64_t n = 0;
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->purge(st->db, today, &n, err);
    pthread_mutex_unlock(&st->lock);
    if (removed)
        *removed = n;
    return s;
}

ck_status ck_store_count(ck_store *st, const char *campaign, int64_t *count, ck_error *err)
{
    pthread_mutex_lock(&st->lock);
    ck_status s = st->be->count(st->db, campaign, count, err);
    pthread_mutex_unlock(&st->lock);
    return s;
}

int32_t ck_today(void)
{
    return (int32_t)(time(NULL) / 86400);
}
