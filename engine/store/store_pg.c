/* store_pg.c: the people store in PostgreSQL (libpq), shared by several nodes.
 *
 * Every write is one statement (an upsert, a conditional update), so nodes writing at once
 * need no locks of their own; an import is one transaction. Parameters are sent and results
 * read in binary where they are bytes, so sealed records and hashes never pass through text.
 * A connection found broken (the server restarted) is reset once and the call retried, unless
 * a transaction was open: its work is gone, so its calls fail until the caller rolls back. */
#include "store_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_xact_lock key serialising schema migrations across nodes ("ciak" in ASCII). */
#define MIGRATION_LOCK "1667850603"
/* Rows fetched per round trip by `each` (keyset pages: no cursor to lose on a reconnect). */
#define EACH_PAGE "500"

enum {
    P_PUT,
    P_GET,
    P_PEEK,
    P_EACH,
    P_EXTEND,
    P_REVOKE,
    P_PURGE,
    P_COUNT,
    P_META_GET,
    P_META_ADD,
    P_SAMPLE,
    P__N
};

static const char *const queries[P__N] = {
    /* The handle returned is the new one for a new person, the stored one otherwise. */
    [P_PUT] = "INSERT INTO people(campaign, pid_hash, handle, expires, rev, sealed) "
              "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(campaign, pid_hash) DO UPDATE SET "
              "expires=greatest(people.expires, excluded.expires), rev=excluded.rev, "
              "sealed=excluded.sealed RETURNING handle",
    [P_GET] = "SELECT expires, rev, sealed FROM people WHERE campaign=$1 AND handle=$2",
    [P_PEEK] = "SELECT expires, rev FROM people WHERE campaign=$1 AND handle=$2",
    [P_EACH] = "SELECT seq, handle, expires, rev, sealed FROM people WHERE campaign=$1 AND "
               "seq > $2 ORDER BY seq LIMIT " EACH_PAGE,
    [P_EXTEND] = "UPDATE people SET expires=greatest(expires, $3) WHERE campaign=$1 AND handle=$2",
    [P_REVOKE] = "UPDATE people SET handle=$3, rev=$4 WHERE campaign=$1 AND pid_hash=$2",
    [P_PURGE] = "DELETE FROM people WHERE expires < $1",
    [P_COUNT] = "SELECT count(*) FROM people WHERE campaign=$1",
    [P_META_GET] = "SELECT value FROM ciak_meta WHERE name=$1",
    [P_META_ADD] = "INSERT INTO ciak_meta(name, value) VALUES($1, $2) ON CONFLICT DO NOTHING",
    [P_SAMPLE] = "SELECT sealed FROM people LIMIT 1",
};

/* Schema migrations, oldest first: migrations[i] takes the store from version i to i + 1.
 * Never edit one that has shipped; append. `seq` gives `each` the import order. */
static const char *const migrations[] = {
    "CREATE TABLE people("
    "  seq bigserial NOT NULL,"
    "  campaign text NOT NULL,"
    "  pid_hash bytea NOT NULL,"
    "  handle bytea NOT NULL,"
    "  expires integer NOT NULL,"
    "  rev bigint NOT NULL,"
    "  sealed bytea NOT NULL,"
    "  PRIMARY KEY(campaign, pid_hash));"
    "CREATE UNIQUE INDEX people_handle ON people(campaign, handle);"
    "CREATE INDEX people_expires ON people(expires);"
    "CREATE INDEX people_seq ON people(campaign, seq);"
    "CREATE TABLE ciak_meta(name text PRIMARY KEY, value bytea NOT NULL);",
};
_Static_assert(sizeof migrations / sizeof migrations[0] == CK_STORE_SCHEMA_VERSION,
               "one migration per schema version");

typedef struct pg {
    PGconn *conn;
    bool readonly;
    bool in_tx;      /* between BEGIN and COMMIT/ROLLBACK */
    bool tx_broken;  /* the connection broke inside that transaction */
    char label[256]; /* "postgresql:db@host:port" for messages: never the connection string */
} pg;

/* Parameters of one statement: text for numbers and names, binary for bytes. */
typedef struct pg_args {
    int n;
    const char *v[6];
    int len[6], fmt[6];
    char num[6][24];
} pg_args;

static void arg_text(pg_args *a, const char *s)
{
    a->v[a->n] = s;
    a->len[a->n] = 0;
    a->fmt[a->n++] = 0;
}

static void arg_int(pg_args *a, int64_t x)
{
    snprintf(a->num[a->n], sizeof a->num[0], "%lld", (long long)x);
    arg_text(a, a->num[a->n]);
}

static void arg_bytes(pg_args *a, const uint8_t *b, size_t n)
{
    a->v[a->n] = (const char *)b;
    a->len[a->n] = (int)n;
    a->fmt[a->n++] = 1;
}

/* Binary result columns (network byte order). */
static int64_t col_int(const PGresult *r, int row, int col)
{
    const unsigned char *b = (const unsigned char *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < n && i < 8; i++)
        v = v << 8 | b[i];
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

static ck_status pg_error(pg *p, const PGresult *r, ck_error *err, const char *what)
{
    /* The primary message only: DETAIL lines may quote a row's values. */
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char buf[400];
    snprintf(buf, sizeof buf, "%s", m ? m : PQerrorMessage(p->conn));
    buf[strcspn(buf, "\n")] = '\0'; /* the first line: DETAIL and HINT lines may quote data */
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
    return ck_error_set(err, CK_ERR_IO, p->label, 0, 0, "%s: %s", what, n ? buf : "unknown error");
}

/* libpq prints notices ("relation already exists, skipping") to stderr by default; a library
 * does not. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static bool exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType t = PQresultStatus(r);
    PQclear(r);
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
}

/* What a fresh session needs: prepared statements, read-only mode when asked. */
static ck_status session_setup(pg *p, ck_error *err)
{
    if (p->readonly && !exec_ok(p->conn, "SET default_transaction_read_only = on"))
        return pg_error(p, NULL, err, "cannot set up the session");
    for (int i = 0; i < P__N; i++) {
        char name[16];
        snprintf(name, sizeof name, "ck_%d", i);
        PGresult *r = PQprepare(p->conn, name, queries[i], 0, NULL);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        ck_status s =
            ok ? CK_OK : pg_error(p, r, err, "cannot prepare a query (is it a ciak store?)");
        PQclear(r);
        if (!ok)
            return s;
    }
    return CK_OK;
}

static ck_status reconnect(pg *p, ck_error *err)
{
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK)
        return pg_error(p, NULL, err, "cannot reach PostgreSQL");
    return session_setup(p, err);
}

/* Runs prepared statement `which` (or the plain command `sql` when which < 0). A connection
 * found broken is reset once: a call outside a transaction is then retried; inside one, the
 * transaction is lost and its calls fail until rollback. The caller PQclear's *out. */
static ck_status run(pg *p, int which, const char *sql, const pg_args *a, PGresult **out,
                     ck_error *err)
{
    *out = NULL;
    if (p->tx_broken)
        return ck_error_set(err, CK_ERR_IO, p->label, 0, 0,
                            "the connection to PostgreSQL broke during this transaction");
    if (PQstatus(p->conn) == CONNECTION_BAD) {
        ck_status s = reconnect(p, err); /* a previous call left it broken */
        if (s != CK_OK)
            return s;
    }
    for (int attempt = 0;; attempt++) {
        PGresult *r;
        if (which >= 0) {
            char name[16];
            snprintf(name, sizeof name, "ck_%d", which);
            r = PQexecPrepared(p->conn, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                               a ? a->fmt : NULL, 1);
        } else {
            r = PQexec(p->conn, sql);
        }
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
            *out = r;
            return CK_OK;
        }
        ck_status s = pg_error(p, r, err, "PostgreSQL refused the query");
        PQclear(r);
        if (attempt > 0 || PQstatus(p->conn) != CONNECTION_BAD)
            return s;
        bool lost_tx = p->in_tx;
        s = reconnect(p, err);
        if (lost_tx) {
            p->tx_broken = true;
            return s != CK_OK ? s
                              : ck_error_set(err, CK_ERR_IO, p->label, 0, 0,
                                             "the connection to PostgreSQL broke during this "
                                             "transaction");
        }
        if (s != CK_OK)
            return s;
    }
}

/* Runs a statement whose result is not needed; `*changed` (may be NULL) gets its row count. */
static ck_status run_write(pg *p, int which, const pg_args *a, int64_t *changed, ck_error *err)
{
    PGresult *r;
    ck_status s = run(p, which, NULL, a, &r, err);
    if (s == CK_OK && changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return s;
}

static void pg_close(void *db)
{
    pg *p = db;
    PQfinish(p->conn);
    free(p);
}

/* Reads this part's schema version (0 when ciak_schema has no row for it). Text result. */
static ck_status read_version(pg *p, int *version, ck_error *err)
{
    PGresult *r =
        PQexec(p->conn, "SELECT version FROM ciak_schema WHERE part='" CK_STORE_SCHEMA_PART "'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        ck_status s = pg_error(p, r, err, "cannot read the schema version");
        PQclear(r);
        return s;
    }
    *version = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return CK_OK;
}

/* Brings the schema to CK_STORE_SCHEMA_VERSION in one transaction. The advisory lock makes
 * nodes starting at once take turns: the first migrates, the others find the work done (even
 * CREATE TABLE IF NOT EXISTS can fail when two sessions run it at the same moment). */
static ck_status migrate(pg *p, ck_error *err)
{
    if (!exec_ok(p->conn, "BEGIN") ||
        !exec_ok(p->conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")") ||
        !exec_ok(p->conn, "CREATE TABLE IF NOT EXISTS ciak_schema(part text PRIMARY KEY,"
                          " version integer NOT NULL);"
                          "INSERT INTO ciak_schema VALUES('" CK_STORE_SCHEMA_PART "', 0)"
                          " ON CONFLICT DO NOTHING")) {
        ck_status s = pg_error(p, NULL, err, "cannot set up the store");
        exec_ok(p->conn, "ROLLBACK");
        return s;
    }
    int version = 0;
    ck_status s = read_version(p, &version, err);
    if (s == CK_OK && version > CK_STORE_SCHEMA_VERSION)
        s = store_newer_schema(err, p->label, version);
    for (int v = version; s == CK_OK && v < CK_STORE_SCHEMA_VERSION; v++)
        if (!exec_ok(p->conn, migrations[v]))
            s = pg_error(p, NULL, err, "cannot upgrade the store's schema");
    if (s == CK_OK && version < CK_STORE_SCHEMA_VERSION) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "UPDATE ciak_schema SET version=%d WHERE part='" CK_STORE_SCHEMA_PART "'",
                 CK_STORE_SCHEMA_VERSION);
        if (!exec_ok(p->conn, sql))
            s = pg_error(p, NULL, err, "cannot upgrade the store's schema");
    }
    if (s == CK_OK && !exec_ok(p->conn, "COMMIT"))
        s = pg_error(p, NULL, err, "cannot set up the store");
    if (s != CK_OK)
        exec_ok(p->conn, "ROLLBACK");
    return s;
}

static ck_status check_readonly_version(pg *p, ck_error *err)
{
    int version = 0;
    ck_status s = read_version(p, &version, err);
    if (s == CK_OK && version > CK_STORE_SCHEMA_VERSION)
        return store_newer_schema(err, p->label, version);
    if (s == CK_OK && version < CK_STORE_SCHEMA_VERSION)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, p->label, 0, 0,
                            "the store's schema is version %d, older than %d: open it once for "
                            "writing to upgrade it",
                            version, CK_STORE_SCHEMA_VERSION);
    return s;
}

void *store_pg_open(const char *conninfo, const ck_store_params *params, ck_error *err)
{
    pg *p = calloc(1, sizeof *p);
    if (!p) {
        ck_error_set(err, CK_ERR_NOMEM, "postgresql", 0, 0, "out of memory");
        return NULL;
    }
    p->readonly = params->readonly;
    /* Defaults first: values in the caller's connection string override them. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"10", "ciak", conninfo, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    snprintf(p->label, sizeof p->label, "postgresql");
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        if (p->conn)
            pg_error(p, NULL, err, "cannot connect to PostgreSQL");
        else
            ck_error_set(err, CK_ERR_NOMEM, p->label, 0, 0, "out of memory");
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    snprintf(p->label, sizeof p->label, "postgresql:%s@%s:%s", PQdb(p->conn), PQhost(p->conn),
             PQport(p->conn));
    ck_status s = p->readonly ? check_readonly_version(p, err) : migrate(p, err);
    if (s == CK_OK)
        s = session_setup(p, err);
    if (s != CK_OK)
        goto fail;
    return p;
fail:
    pg_close(p);
    return NULL;
}

static ck_status pg_tx(void *db, store_tx what, ck_error *err)
{
    pg *p = db;
    PGresult *r = NULL;
    ck_status s = CK_OK;
    switch (what) {
    case CK_TX_BEGIN:
        s = run(p, -1, "BEGIN", NULL, &r, err);
        p->in_tx = s == CK_OK;
        break;
    case CK_TX_COMMIT:
        s = run(p, -1, "COMMIT", NULL, &r, err);
        /* A COMMIT of a failed transaction answers ROLLBACK: nothing was written. */
        if (s == CK_OK && strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
            s = ck_error_set(err, CK_ERR_IO, p->label, 0, 0,
                             "cannot commit: the transaction had failed, nothing was written");
        p->in_tx = p->tx_broken = false;
        break;
    case CK_TX_ROLLBACK:
        p->tx_broken = false; /* its work is gone either way */
        p->in_tx = false;
        if (PQstatus(p->conn) == CONNECTION_OK)
            s = run(p, -1, "ROLLBACK", NULL, &r, err);
        break;
    }
    PQclear(r);
    return s;
}

static ck_status pg_put(void *db, const char *campaign, const uint8_t *pid_hash,
                        const uint8_t *handle, int32_t expires, int64_t rev, const uint8_t *sealed,
                        size_t sealed_len, bool *created, ck_error *err)
{
    pg *p = db;
    pg_args a = {0};
    arg_text(&a, campaign);
    arg_bytes(&a, pid_hash, CK_PID_HASH_BYTES);
    arg_bytes(&a, handle, CK_HANDLE_BYTES);
    arg_int(&a, expires);
    arg_int(&a, rev);
    arg_bytes(&a, sealed, sealed_len);
    PGresult *r;
    ck_status s = run(p, P_PUT, NULL, &a, &r, err);
    if (s == CK_OK)
        *created = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == CK_HANDLE_BYTES &&
                   memcmp(PQgetvalue(r, 0, 0), handle, CK_HANDLE_BYTES) == 0;
    PQclear(r);
    return s;
}

/* Copies a bytea cell into a malloc'd blob. */
static ck_status copy_blob(pg *p, const PGresult *r, int row, int col, uint8_t **out, size_t *len,
                           ck_error *err)
{
    *len = (size_t)PQgetlength(r, row, col);
    *out = malloc(*len ? *len : 1);
    if (!*out)
        return ck_error_set(err, CK_ERR_NOMEM, p->label, 0, 0, "out of memory");
    memcpy(*out, PQgetvalue(r, row, col), *len);
    return CK_OK;
}

static ck_status pg_find(void *db, const char *campaign, const uint8_t *handle, int32_t *expires,
                         int64_t *rev, uint8_t **sealed, size_t *sealed_len, ck_error *err)
{
    pg *p = db;
    pg_args a = {0};
    arg_text(&a, campaign);
    arg_bytes(&a, handle, CK_HANDLE_BYTES);
    PGresult *r;
    ck_status s = run(p, sealed ? P_GET : P_PEEK, NULL, &a, &r, err);
    if (s == CK_OK && PQntuples(r) == 0)
        s = ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no such person");
    if (s == CK_OK) {
        *expires = (int32_t)col_int(r, 0, 0);
        *rev = col_int(r, 0, 1);
        if (sealed)
            s = copy_blob(p, r, 0, 2, sealed, sealed_len, err);
    }
    PQclear(r);
    return s;
}

static ck_status pg_each(void *db, const char *campaign, store_row_fn fn, void *user, ck_error *err)
{
    pg *p = db;
    int64_t after = 0; /* bigserial starts at 1 */
    for (;;) {
        pg_args a = {0};
        arg_text(&a, campaign);
        arg_int(&a, after);
        PGresult *r;
        ck_status s = run(p, P_EACH, NULL, &a, &r, err);
        if (s != CK_OK)
            return s;
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            if (PQgetlength(r, i, 1) != CK_HANDLE_BYTES) {
                PQclear(r);
                return ck_error_set(err, CK_ERR_PARSE, p->label, 0, 0,
                                    "stored handle is malformed");
            }
            after = col_int(r, i, 0);
            store_row row = {
                .handle = (const uint8_t *)PQgetvalue(r, i, 1),
                .expires = (int32_t)col_int(r, i, 2),
                .rev = col_int(r, i, 3),
                .sealed = (const uint8_t *)PQgetvalue(r, i, 4),
                .sealed_len = (size_t)PQgetlength(r, i, 4),
            };
            if (!fn(user, &row)) {
                PQclear(r);
                return CK_OK;
            }
        }
        PQclear(r);
        if (n < atoi(EACH_PAGE))
            return CK_OK;
    }
}

static ck_status pg_extend(void *db, const char *campaign, const uint8_t *handle, int32_t expires,
                           ck_error *err)
{
    pg_args a = {0};
    arg_text(&a, campaign);
    arg_bytes(&a, handle, CK_HANDLE_BYTES);
    arg_int(&a, expires);
    return run_write(db, P_EXTEND, &a, NULL, err);
}

static ck_status pg_revoke(void *db, const char *campaign, const uint8_t *pid_hash,
                           const uint8_t *handle, int64_t rev, int64_t *changed, ck_error *err)
{
    pg_args a = {0};
    arg_text(&a, campaign);
    arg_bytes(&a, pid_hash, CK_PID_HASH_BYTES);
    arg_bytes(&a, handle, CK_HANDLE_BYTES);
    arg_int(&a, rev);
    return run_write(db, P_REVOKE, &a, changed, err);
}

static ck_status pg_purge(void *db, int32_t today, int64_t *removed, ck_error *err)
{
    pg_args a = {0};
    arg_int(&a, today);
    return run_write(db, P_PURGE, &a, removed, err);
}

static ck_status pg_count(void *db, const char *campaign, int64_t *count, ck_error *err)
{
    pg_args a = {0};
    arg_text(&a, campaign);
    PGresult *r;
    ck_status s = run(db, P_COUNT, NULL, &a, &r, err);
    if (s == CK_OK)
        *count = col_int(r, 0, 0);
    PQclear(r);
    return s;
}

/* One bytea from a one-column query (meta_get, sample). */
static ck_status one_blob(pg *p, int which, const pg_args *a, uint8_t **out, size_t *len,
                          ck_error *err)
{
    PGresult *r;
    ck_status s = run(p, which, NULL, a, &r, err);
    if (s == CK_OK && PQntuples(r) == 0)
        s = ck_error_set(err, CK_ERR_NOT_FOUND, p->label, 0, 0, "no such row");
    if (s == CK_OK)
        s = copy_blob(p, r, 0, 0, out, len, err);
    PQclear(r);
    return s;
}

static ck_status pg_meta_get(void *db, const char *name, uint8_t **value, size_t *len,
                             ck_error *err)
{
    pg_args a = {0};
    arg_text(&a, name);
    return one_blob(db, P_META_GET, &a, value, len, err);
}

static ck_status pg_meta_add(void *db, const char *name, const uint8_t *value, size_t len,
                             ck_error *err)
{
    pg_args a = {0};
    arg_text(&a, name);
    arg_bytes(&a, value, len);
    return run_write(db, P_META_ADD, &a, NULL, err);
}

static ck_status pg_sample(void *db, uint8_t **sealed, size_t *len, ck_error *err)
{
    return one_blob(db, P_SAMPLE, NULL, sealed, len, err);
}

const store_backend store_pg_backend = {
    .name = "postgresql",
    .close = pg_close,
    .tx = pg_tx,
    .put = pg_put,
    .find = pg_find,
    .each = pg_each,
    .extend = pg_extend,
    .revoke = pg_revoke,
    .purge = pg_purge,
    .count = pg_count,
    .meta_get = pg_meta_get,
    .meta_add = pg_meta_add,
    .sample = pg_sample,
};
