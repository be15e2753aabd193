/* store_sqlite.c: the people store in one SQLite file (WAL), the embedded default. */
#include "store_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    Q_PUT,
    Q_GET,
    Q_PEEK,
    Q_EACH,
    Q_EXTEND,
    Q_REVOKE,
    Q_PURGE,
    Q_COUNT,
    Q_META_GET,
    Q_META_ADD,
    Q_SAMPLE,
    Q__N
};

static const char *const queries[Q__N] = {
    /* One statement, so two imports at once cannot both insert the same person. The handle
     * returned is the new one for a new person, the stored one otherwise. */
    [Q_PUT] = "INSERT INTO people(campaign, pid_hash, handle, expires, rev, sealed) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(campaign, pid_hash) DO UPDATE SET "
              "expires=max(expires, excluded.expires), rev=excluded.rev, sealed=excluded.sealed "
              "RETURNING handle",
    [Q_GET] = "SELECT expires, rev, sealed FROM people WHERE campaign=?1 AND handle=?2",
    [Q_PEEK] = "SELECT expires, rev FROM people WHERE campaign=?1 AND handle=?2",
    [Q_EACH] = "SELECT handle, expires, rev, sealed FROM people WHERE campaign=?1 ORDER BY rowid",
    [Q_EXTEND] = "UPDATE people SET expires=max(expires, ?3) WHERE campaign=?1 AND handle=?2",
    [Q_REVOKE] = "UPDATE people SET handle=?3, rev=?4 WHERE campaign=?1 AND pid_hash=?2",
    [Q_PURGE] = "DELETE FROM people WHERE expires < ?1",
    [Q_COUNT] = "SELECT count(*) FROM people WHERE campaign=?1",
    [Q_META_GET] = "SELECT value FROM ciak_meta WHERE name=?1",
    [Q_META_ADD] = "INSERT INTO ciak_meta(name, value) VALUES(?1, ?2) ON CONFLICT DO NOTHING",
    [Q_SAMPLE] = "SELECT sealed FROM people LIMIT 1",
};

/* Schema migrations, oldest first: migrations[i] takes a store from version i to i + 1. Never
 * edit one that has shipped; append. Version 1 uses IF NOT EXISTS because stores made before
 * versioning already hold its people table: they are adopted as they are. */
static const char *const migrations[] = {
    "CREATE TABLE IF NOT EXISTS people("
    "  campaign TEXT NOT NULL,"
    "  pid_hash BLOB NOT NULL,"
    "  handle BLOB NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  rev INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  PRIMARY KEY(campaign, pid_hash));"
    "CREATE UNIQUE INDEX IF NOT EXISTS people_handle ON people(campaign, handle);"
    "CREATE INDEX IF NOT EXISTS people_expires ON people(expires);"
    "CREATE TABLE IF NOT EXISTS ciak_meta(name TEXT PRIMARY KEY, value BLOB NOT NULL);",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == CK_STORE_SCHEMA_VERSION,
               "one migration per schema version");

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *q[Q__N];
    char path[1024]; /* for messages */
} sq;

static ck_status db_error(sq *s, ck_error *err, const char *what)
{
    return ck_error_set(err, CK_ERR_IO, s->path, 0, 0, "%s: %s", what, sqlite3_errmsg(s->db));
}

static void sq_close(void *db)
{
    sq *s = db;
    for (int i = 0; i < Q__N; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    free(s);
}

/* The schema version, 0 for a store from before versioning (or a new file). */
static ck_status read_version(sq *s, int *version, ck_error *err)
{
    sqlite3_stmt *q = NULL;
    *version = 0;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT version FROM ciak_schema WHERE part='" CK_STORE_SCHEMA_PART "'", -1, &q,
        NULL);
    if (rc != SQLITE_OK) {
        /* No ciak_schema table: a store from before versioning, or an empty file. */
        bool missing = strstr(sqlite3_errmsg(s->db), "no such table") != NULL;
        return missing ? CK_OK
                       : db_error(s, err, "cannot read the schema version (is it a ciak store?)");
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CK_OK
               : db_error(s, err, "cannot read the schema version");
}

static ck_status exec(sq *s, const char *sql, ck_error *err, const char *what)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? CK_OK : db_error(s, err, what);
}

/* Brings the schema to CK_STORE_SCHEMA_VERSION in one write transaction (another process
 * opening the same file waits on the write lock, then finds the work done). */
static ck_status migrate(sq *s, ck_error *err)
{
    int version;
    ck_status st = read_version(s, &version, err);
    if (st == CK_OK && version == CK_STORE_SCHEMA_VERSION)
        return CK_OK;
    if (st == CK_OK && version > CK_STORE_SCHEMA_VERSION)
        return store_newer_schema(err, s->path, version);
    if (st != CK_OK || (st = exec(s, "BEGIN IMMEDIATE", err, "cannot set up the store")) != CK_OK)
        return st;
    st = exec(s,
              "CREATE TABLE IF NOT EXISTS ciak_schema(part TEXT PRIMARY KEY,"
              " version INTEGER NOT NULL);"
              "INSERT INTO ciak_schema VALUES('" CK_STORE_SCHEMA_PART
              "', 0) ON CONFLICT DO NOTHING;",
              err, "cannot set up the store");
    if (st == CK_OK)
        st = read_version(s, &version, err);
    if (st == CK_OK && version > CK_STORE_SCHEMA_VERSION)
        st = store_newer_schema(err, s->path, version);
    for (int v = version; st == CK_OK && v < CK_STORE_SCHEMA_VERSION; v++)
        st = exec(s, migrations[v], err, "cannot upgrade the store's schema");
    if (st == CK_OK) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "UPDATE ciak_schema SET version=%d WHERE part='" CK_STORE_SCHEMA_PART "'",
                 CK_STORE_SCHEMA_VERSION);
        st = exec(s, sql, err, "cannot upgrade the store's schema");
    }
    if (st == CK_OK)
        return exec(s, "COMMIT", err, "cannot set up the store");
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* A read-only store is not upgraded: it must already be at this version. */
static ck_status check_readonly_version(sq *s, ck_error *err)
{
    int version;
    ck_status st = read_version(s, &version, err);
    if (st == CK_OK && version > CK_STORE_SCHEMA_VERSION)
        return store_newer_schema(err, s->path, version);
    if (st == CK_OK && version < CK_STORE_SCHEMA_VERSION)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, s->path, 0, 0,
                            "the store's schema is version %d, older than %d: open it once for "
                            "writing to upgrade it",
                            version, CK_STORE_SCHEMA_VERSION);
    return st;
}

void *store_sqlite_open(const char *path, const ck_store_params *p, ck_error *err)
{
    sq *s = calloc(1, sizeof *s);
    if (!s) {
        ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
        return NULL;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = p->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        db_error(s, err, "cannot open the store");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, p->busy_timeout_ms > 0 ? p->busy_timeout_ms : 5000);
    if (p->readonly) {
        if (check_readonly_version(s, err) != CK_OK)
            goto fail;
    } else if (exec(s,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "PRAGMA secure_delete=ON;",
                    err, "cannot set up the store (is it a ciak store?)") != CK_OK ||
               migrate(s, err) != CK_OK) {
        goto fail;
    }
    for (int i = 0; i < Q__N; i++)
        if (sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
            SQLITE_OK) {
            db_error(s, err, "cannot prepare a query (is it a ciak store?)");
            goto fail;
        }
    return s;
fail:
    sq_close(s);
    return NULL;
}

static sqlite3_stmt *q_start(sq *s, int which, const char *campaign)
{
    sqlite3_stmt *q = s->q[which];
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (campaign)
        sqlite3_bind_text(q, 1, campaign, -1, SQLITE_STATIC);
    return q;
}

static ck_status sq_tx(void *db, store_tx what, ck_error *err)
{
    static const char *const sql[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
    static const char *const msg[] = {"cannot start a transaction", "cannot commit",
                                      "cannot roll back"};
    return exec(db, sql[what], err, msg[what]);
}

/* Copies column `col` into a malloc'd blob. */
static ck_status copy_blob(sq *s, sqlite3_stmt *q, int col, uint8_t **out, size_t *len,
                           ck_error *err)
{
    *len = (size_t)sqlite3_column_bytes(q, col);
    *out = malloc(*len ? *len : 1);
    if (!*out)
        return ck_error_set(err, CK_ERR_NOMEM, s->path, 0, 0, "out of memory");
    if (*len)
        memcpy(*out, sqlite3_column_blob(q, col), *len);
    return CK_OK;
}

static ck_status sq_put(void *db, const char *campaign, const uint8_t *pid_hash,
                        const uint8_t *handle, int32_t expires, int64_t rev, const uint8_t *sealed,
                        size_t sealed_len, bool *created, ck_error *err)
{
    sq *s = db;
    sqlite3_stmt *q = q_start(s, Q_PUT, campaign);
    sqlite3_bind_blob(q, 2, pid_hash, CK_PID_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, expires);
    sqlite3_bind_int64(q, 5, rev);
    sqlite3_bind_blob(q, 6, sealed, (int)sealed_len, SQLITE_STATIC);
    ck_status st = CK_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *created = sqlite3_column_bytes(q, 0) == CK_HANDLE_BYTES &&
                   memcmp(sqlite3_column_blob(q, 0), handle, CK_HANDLE_BYTES) == 0;
        if (sqlite3_step(q) != SQLITE_DONE)
            st = db_error(s, err, "cannot write the store");
    } else {
        st = db_error(s, err, "cannot write the store");
    }
    sqlite3_reset(q);
    return st;
}

static ck_status sq_find(void *db, const char *campaign, const uint8_t *handle, int32_t *expires,
                         int64_t *rev, uint8_t **sealed, size_t *sealed_len, ck_error *err)
{
    sq *s = db;
    sqlite3_stmt *q = q_start(s, sealed ? Q_GET : Q_PEEK, campaign);
    sqlite3_bind_blob(q, 2, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    ck_status st = CK_OK;
    if (rc == SQLITE_ROW) {
        *expires = (int32_t)sqlite3_column_int64(q, 0);
        *rev = sqlite3_column_int64(q, 1);
        if (sealed)
            st = copy_blob(s, q, 2, sealed, sealed_len, err);
    } else if (rc == SQLITE_DONE) {
        st = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person");
    } else {
        st = db_error(s, err, "cannot read the store");
    }
    sqlite3_reset(q);
    return st;
}

static ck_status sq_each(void *db, const char *campaign, store_row_fn fn, void *user, ck_error *err)
{
    sq *s = db;
    sqlite3_stmt *q = q_start(s, Q_EACH, campaign);
    ck_status st = CK_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(q, 0) != CK_HANDLE_BYTES) {
            st = ck_error_set(err, CK_ERR_PARSE, s->path, 0, 0, "stored handle is malformed");
            break;
        }
        store_row row = {
            .handle = sqlite3_column_blob(q, 0),
            .expires = (int32_t)sqlite3_column_int64(q, 1),
            .rev = sqlite3_column_int64(q, 2),
            .sealed = sqlite3_column_blob(q, 3),
            .sealed_len = (size_t)sqlite3_column_bytes(q, 3),
        };
        if (!fn(user, &row))
            break;
    }
    if (st == CK_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = db_error(s, err, "cannot read the store");
    sqlite3_reset(q);
    return st;
}

/* Runs a prepared write whose parameters are bound; reports changes. */
static ck_status run_write(sq *s, sqlite3_stmt *q, int64_t *changes, ck_error *err)
{
    ck_status st = sqlite3_step(q) == SQLITE_DONE ? CK_OK : db_error(s, err, "cannot write");
    if (changes)
        *changes = sqlite3_changes(s->db);
    sqlite3_reset(q);
    return st;
}

static ck_status sq_extend(void *db, const char *campaign, const uint8_t *handle, int32_t expires,
                           ck_error *err)
{
    sqlite3_stmt *q = q_start(db, Q_EXTEND, campaign);
    sqlite3_bind_blob(q, 2, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, expires);
    return run_write(db, q, NULL, err);
}

static ck_status sq_revoke(void *db, const char *campaign, const uint8_t *pid_hash,
                           const uint8_t *handle, int64_t rev, int64_t *changed, ck_error *err)
{
    sqlite3_stmt *q = q_start(db, Q_REVOKE, campaign);
    sqlite3_bind_blob(q, 2, pid_hash, CK_PID_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, handle, CK_HANDLE_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, rev);
    return run_write(db, q, changed, err);
}

static ck_status sq_purge(void *db, int32_t today, int64_t *removed, ck_error *err)
{
    sqlite3_stmt *q = q_start(db, Q_PURGE, NULL);
    sqlite3_bind_int64(q, 1, today);
    return run_write(db, q, removed, err);
}

static ck_status sq_count(void *db, const char *campaign, int64_t *count, ck_error *err)
{
    sq *s = db;
    sqlite3_stmt *q = q_start(s, Q_COUNT, campaign);
    ck_status st = CK_OK;
    if (sqlite3_step(q) == SQLITE_ROW)
        *count = sqlite3_column_int64(q, 0);
    else
        st = db_error(s, err, "cannot read the store");
    sqlite3_reset(q);
    return st;
}

/* One blob from a one-column query (meta_get, sample). */
static ck_status one_blob(sq *s, sqlite3_stmt *q, uint8_t **out, size_t *len, ck_error *err)
{
    int rc = sqlite3_step(q);
    ck_status st;
    if (rc == SQLITE_ROW)
        st = copy_blob(s, q, 0, out, len, err);
    else if (rc == SQLITE_DONE)
        st = ck_error_set(err, CK_ERR_NOT_FOUND, s->path, 0, 0, "no such row");
    else
        st = db_error(s, err, "cannot read the store");
    sqlite3_reset(q);
    return st;
}

static ck_status sq_meta_get(void *db, const char *name, uint8_t **value, size_t *len,
                             ck_error *err)
{
    return one_blob(db, q_start(db, Q_META_GET, name), value, len, err);
}

static ck_status sq_meta_add(void *db, const char *name, const uint8_t *value, size_t len,
                             ck_error *err)
{
    sqlite3_stmt *q = q_start(db, Q_META_ADD, name);
    sqlite3_bind_blob(q, 2, value, (int)len, SQLITE_STATIC);
    return run_write(db, q, NULL, err);
}

static ck_status sq_sample(void *db, uint8_t **sealed, size_t *len, ck_error *err)
{
    return one_blob(db, q_start(db, Q_SAMPLE, NULL), sealed, len, err);
}

const store_backend store_sqlite_backend = {
    .name = "sqlite",
    .close = sq_close,
    .tx = sq_tx,
    .put = sq_put,
    .find = sq_find,
    .each = sq_each,
    .extend = sq_extend,
    .revoke = sq_revoke,
    .purge = sq_purge,
    .count = sq_count,
    .meta_get = sq_meta_get,
    .meta_add = sq_meta_add,
    .sample = sq_sample,
};
