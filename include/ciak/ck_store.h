/* ck_store.h: the people store and the server's key file.
 *
 * Key file (ck_keyring): one small text file, created on first use with mode 0600, holding
 *   - the data key: encrypts every person's record at rest (libsodium secretbox) and keys the
 *     hash that finds a person by id without storing the id in clear;
 *   - one or more token keys (id + 32 bytes): the newest signs links, every key listed verifies
 *     them, so a rotation keeps old links working until the old key is dropped.
 * Rotating and dropping rewrite the file atomically (temporary file, fsync, rename).
 *
 * Store (ck_store): one of two backends behind the same calls. SQLite in WAL mode (the embedded
 * default: one file in the data folder; the server reads while `ciak import` writes), or
 * PostgreSQL (several nodes share one database). Both see only ciphertext and keyed hashes; the
 * key file stays a file, never in the database. One row per (campaign, person):
 *   pid_hash  keyed BLAKE2b of the person id: the lookup key for re-import and revoke;
 *   handle    12 random bytes, the only person reference a link carries (so a link seen in a
 *             proxy log reveals no INPS identifier); revoking draws a new one, killing old links;
 *   expires   last day (days since 1970-01-01, UTC) the person's video may be watched: the end
 *             of the scene's availability window, pushed later by a re-issue with
 *             `ciak links --expires`; `ck_store_purge` deletes rows past it;
 *   rev       changes on every update, so a server holding a decoded record notices re-imports;
 *   sealed    secretbox(nonce, record as JSON): the person id and every field.
 * Deleted rows are overwritten (SQLite: secure_delete; PostgreSQL: by VACUUM, in time).
 * The schema carries a version (table ciak_schema); opening migrates an older store in one
 * transaction and refuses a newer one, naming both versions. A sealed canary (table ciak_meta)
 * makes a store opened with another key file fail at open, not at the first viewer.
 *
 * Errors: every call returns ck_status and fills a ck_error; messages never contain a person
 * id or field value. PostgreSQL: a call that finds the connection broken (a database restart)
 * reconnects once and retries; outside a transaction the caller never notices, inside one the
 * call fails (CK_ERR_IO) until ck_store_rollback. Thread safety: a ck_store serialises its calls
 * with a mutex, so one store may be shared by threads; a ck_keyring is immutable once opened.
 */
#ifndef CK_STORE_H
#define CK_STORE_H

#include "ck_record.h"

#define CK_KEY_BYTES    32
#define CK_HANDLE_BYTES 12
#define CK_KEYRING_MAX  16 /* token keys kept at once */

/* ---- key file ---- */
typedef struct ck_keyring {
    uint8_t data_key[CK_KEY_BYTES];
    int token_count;                    /* >= 1 */
    uint32_t token_ids[CK_KEYRING_MAX]; /* [0] is the newest (signs) */
    uint8_t token_keys[CK_KEYRING_MAX][CK_KEY_BYTES];
} ck_keyring;

/* Reads the key file at `path`; when it does not exist and `create` is set, makes one (mode
 * 0600, fresh random keys). Refuses a file readable by group or others. */
ck_status ck_keyring_load(const char *path, bool create, ck_keyring *out, ck_error *err);
/* Adds a new token key (it signs from now on); `*new_id` gets its id. */
ck_status ck_keyring_rotate(const char *path, uint32_t *new_id, ck_error *err);
/* Removes token key `id` (links signed with it stop verifying). The last key cannot go. */
ck_status ck_keyring_drop(const char *path, uint32_t id, ck_error *err);
/* Overwrites the keys in memory. */
void ck_keyring_wipe(ck_keyring *k);

/* ---- store ---- */
typedef struct ck_store ck_store;

/* The schema version this ciak reads and writes (both backends). */
#define CK_STORE_SCHEMA_VERSION 1

/* Zero means default. */
typedef struct ck_store_params {
    const ck_keyring *keys; /* required; only its data key is kept (copied) */
    bool readonly;          /* no schema upgrade, no writes (SQLite; PostgreSQL sessions too) */
    int busy_timeout_ms;    /* SQLite: waiting for another process's write; 0 = 5000 */
} ck_store_params;

/* Opens the store at `where`, a PostgreSQL connection string or else a SQLite path:
 *   "postgresql://user@host:port/db?sslmode=require" or "postgres://..." (libpq URL), or a
 *   libpq keyword string starting with a keyword ("host=db dbname=ciak ...") -> PostgreSQL;
 *   anything else -> the SQLite file at that path, created if needed (unless readonly).
 * Sets up or upgrades the schema (refusing a newer one) and checks the key: a store sealed
 * with another data key is refused (CK_ERR_INVALID). Messages never repeat the connection
 * string (it may hold a password). */
ck_store *ck_store_open(const char *where, const ck_store_params *params, ck_error *err);
/* A node's store: `db` when set (as for ck_store_open: what `--db` gives), else the SQLite file
 * `<data_dir>/ciak.db` (the default with `--data-dir`). */
ck_store *ck_store_open_at(const char *data_dir, const char *db, const ck_store_params *params,
                           ck_error *err);
/* True when `where` names a PostgreSQL database rather than a SQLite file. */
bool ck_store_is_postgres(const char *where);
/* "sqlite" or "postgresql". */
const char *ck_store_backend_name(const ck_store *st);
void ck_store_close(ck_store **st);

/* One person as stored. `record_json` is malloc'd (free with ck_person_clear). */
typedef struct ck_person {
    char person_id[256];
    uint8_t handle[CK_HANDLE_BYTES];
    int32_t expires;
    int64_t rev;
    char *record_json; /* {"id": ..., field: value, ...}: ck_records_parse reads it back */
} ck_person;
void ck_person_clear(ck_person *p);

/* Transactions: an import is one (all or nothing, and fast). */
ck_status ck_store_begin(ck_store *st, ck_error *err);
ck_status ck_store_commit(ck_store *st, ck_error *err);
void ck_store_rollback(ck_store *st);

/* Inserts or updates a person. An update keeps the handle (links already sent stay valid) and
 * keeps `expires` when it is later than the new one (a re-issue is not undone). `*created`
 * (may be NULL) tells which. */
ck_status ck_store_put(ck_store *st, const char *campaign, const char *person_id,
                       const char *record_json, int32_t expires, bool *created, ck_error *err);
/* Finds and decrypts the person behind a link's handle. CK_ERR_NOT_FOUND when none. */
ck_status ck_store_get(ck_store *st, const char *campaign, const uint8_t *handle, ck_person *out,
                       ck_error *err);
/* Only the revision and expiry of a handle: the cheap check made on every request. */
ck_status ck_store_peek(ck_store *st, const char *campaign, const uint8_t *handle, int64_t *rev,
                        int32_t *expires, ck_error *err);
/* Calls fn for every person of `campaign` (decrypted), in import order; fn returns false to
 * stop. Do not call other store functions from fn. */
typedef bool (*ck_store_each_fn)(void *user, const ck_person *p);
ck_status ck_store_each(ck_store *st, const char *campaign, ck_store_each_fn fn, void *user,
                        ck_error *err);
/* Pushes a person's last day to `expires` if that is later (a re-issue of the link). */
ck_status ck_store_extend(ck_store *st, const char *campaign, const uint8_t *handle,
                          int32_t expires, ck_error *err);
/* Draws a new handle for the person: every link issued so far answers 404. */
ck_status ck_store_revoke(ck_store *st, const char *campaign, const char *person_id, ck_error *err);
/* Deletes every person whose last day is before `today`; `*removed` gets the count. */
ck_status ck_store_purge(ck_store *st, int32_t today, int64_t *removed, ck_error *err);
ck_status ck_store_count(ck_store *st, const char *campaign, int64_t *count, ck_error *err);

/* ---- records as stored ---- */
/* The record as a JSON object in the input format of ck_record.h (enum values, ISO dates,
 * money in cents, sets as arrays), so ck_records_parse reads back the same values. */
char *ck_record_to_json(const ck_scene *scene, const ck_record *rec);
/* The last day a record may be watched under the scene's availability window (INT32_MAX when
 * the scene has none). */
int32_t ck_record_last_day(const ck_scene *scene, const ck_record *rec);
/* Today in days since 1970-01-01 (UTC). */
int32_t ck_today(void);

#endif
