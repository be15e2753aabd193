/* store_internal.h: what store.c shares with the backends (store_sqlite.c, store_pg.c).
 *
 * store.c owns the keys: it seals records, hashes person ids, draws handles and revisions,
 * checks the key at open, and serialises calls with the store's mutex. A backend only moves
 * bytes between those calls and its database: it never sees a key, a person id or a record in
 * clear, and it is never called by two threads at once. */
#ifndef CK_STORE_INTERNAL_H
#define CK_STORE_INTERNAL_H

#include "ck_store.h"

#define CK_PID_HASH_BYTES 16
/* The row of ciak_schema that versions the people store (other parts may version their own
 * tables in the same ciak_schema table under another name). */
#define CK_STORE_SCHEMA_PART "people"

/* One stored row as a backend hands it over; the pointers live until the callback returns. */
typedef struct store_row {
    const uint8_t *handle; /* CK_HANDLE_BYTES */
    int32_t expires;
    int64_t rev;
    const uint8_t *sealed;
    size_t sealed_len;
} store_row;

/* Returns false to stop. */
typedef bool (*store_row_fn)(void *user, const store_row *row);

typedef enum store_tx { CK_TX_BEGIN, CK_TX_COMMIT, CK_TX_ROLLBACK } store_tx;

/* A backend: a small table of functions over its connection `db`. Every function returns
 * ck_status and fills err (never with a person's data). Blobs returned through `uint8_t **`
 * are malloc'd; the caller frees them. */
typedef struct store_backend {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(void *db);
    ck_status (*tx)(void *db, store_tx what, ck_error *err);
    /* Inserts (with `handle`) or updates (keeping the stored handle, and the later of the two
     * expiry days) the row of (campaign, pid_hash), in one atomic statement. */
    ck_status (*put)(void *db, const char *campaign, const uint8_t *pid_hash, const uint8_t *handle,
                     int32_t expires, int64_t rev, const uint8_t *sealed, size_t sealed_len,
                     bool *created, ck_error *err);
    /* The row behind a handle; `sealed` NULL reads only expires and rev. CK_ERR_NOT_FOUND. */
    ck_status (*find)(void *db, const char *campaign, const uint8_t *handle, int32_t *expires,
                      int64_t *rev, uint8_t **sealed, size_t *sealed_len, ck_error *err);
    /* Every row of a campaign in import order. */
    ck_status (*each)(void *db, const char *campaign, store_row_fn fn, void *user, ck_error *err);
    ck_status (*extend)(void *db, const char *campaign, const uint8_t *handle, int32_t expires,
                        ck_error *err);
    /* Sets a new handle and rev on the row of (campaign, pid_hash); `*changed` 0 or 1. */
    ck_status (*revoke)(void *db, const char *campaign, const uint8_t *pid_hash,
                        const uint8_t *handle, int64_t rev, int64_t *changed, ck_error *err);
    ck_status (*purge)(void *db, int32_t today, int64_t *removed, ck_error *err);
    ck_status (*count)(void *db, const char *campaign, int64_t *count, ck_error *err);
    /* ciak_meta: small named blobs (the key check). `meta_add` keeps a value already there, so
     * of several nodes starting at once the first one's value stays. */
    ck_status (*meta_get)(void *db, const char *name, uint8_t **value, size_t *len, ck_error *err);
    ck_status (*meta_add)(void *db, const char *name, const uint8_t *value, size_t len,
                          ck_error *err);
    /* The sealed blob of any one person (CK_ERR_NOT_FOUND when the store is empty). */
    ck_status (*sample)(void *db, uint8_t **sealed, size_t *len, ck_error *err);
} store_backend;

/* Open a backend's connection and bring its schema to CK_STORE_SCHEMA_VERSION (refusing a
 * newer one). NULL and err on failure. */
void *store_sqlite_open(const char *path, const ck_store_params *p, ck_error *err);
void *store_pg_open(const char *conninfo, const ck_store_params *p, ck_error *err);
extern const store_backend store_sqlite_backend, store_pg_backend;

/* The message of a store whose schema is newer than this program (both backends say it the
 * same way). */
ck_status store_newer_schema(ck_error *err, const char *where, int found);

#endif
