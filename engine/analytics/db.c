/* db.c: the SQL calls of analytics and admin, on SQLite or PostgreSQL (see
 * analytics_internal.h for the contract). */
#include "analytics_internal.h"
#include "ck_store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock key the people store takes for its migrations (engine/store/store_pg.c):
 * one key, so the parts of a database starting at once never create ciak_schema together. */
#define MIGRATION_LOCK "1667850603"
#define SQL_MAX        2048

struct an_db {
    sqlite3 *lite;
    PGconn *pg;
    bool in_tx;      /* PostgreSQL: between BEGIN and COMMIT/ROLLBACK */
    bool tx_broken;  /* the connection broke inside that transaction */
    char label[256]; /* "postgresql:db@host:port" or the SQLite path: never a password */
    char msg[256];   /* the last error */
};

static void note(an_db *db, const char *m)
{
    snprintf(db->msg, sizeof db->msg, "%s", m && *m ? m : "unknown error");
    db->msg[strcspn(db->msg, "\n")] = '\0'; /* DETAIL and HINT lines may quote a row */
}

/* SQLite's message, and the system's when a system call failed: "disk I/O error" alone does
 * not tell a full disk from a read-only one. */
static void note_lite(an_db *db)
{
    int e = sqlite3_system_errno(db->lite);
    char m[256];
    if (e)
        snprintf(m, sizeof m, "%s (%s)", sqlite3_errmsg(db->lite), strerror(e));
    else
        snprintf(m, sizeof m, "%s", sqlite3_errmsg(db->lite));
    note(db, m);
}

static void note_pg(an_db *db, const PGresult *r)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    note(db, m ? m : PQerrorMessage(db->pg));
}

/* libpq prints notices ("relation already exists, skipping") on stderr; a library does not. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

an_db *an_db_open(const char *where, ck_error *err)
{
    an_db *db = calloc(1, sizeof *db);
    if (!db || !where) {
        free(db);
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    if (ck_store_is_postgres(where)) {
        /* Defaults first: values in the caller's connection string override them. */
        const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *const vals[] = {"10", "ciak", where, NULL};
        db->pg = PQconnectdbParams(keys, vals, 1);
        snprintf(db->label, sizeof db->label, "postgresql");
        if (!db->pg || PQstatus(db->pg) != CONNECTION_OK) {
            note(db, db->pg ? PQerrorMessage(db->pg) : "out of memory");
            ck_error_set(err, CK_ERR_IO, db->label, 0, 0, "cannot connect to PostgreSQL: %s",
                         db->msg);
            an_db_close(&db);
            return NULL;
        }
        PQsetNoticeProcessor(db->pg, quiet, NULL);
        snprintf(db->label, sizeof db->label, "postgresql:%s@%s:%s", PQdb(db->pg), PQhost(db->pg),
                 PQport(db->pg));
        return db;
    }
    snprintf(db->label, sizeof db->label, "%s", where);
    if (sqlite3_open_v2(where, &db->lite,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db->lite, 5000) != SQLITE_OK ||
        sqlite3_exec(db->lite, "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        note(db, db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
        ck_error_set(err, CK_ERR_IO, where, 0, 0, "cannot open the database: %s", db->msg);
        an_db_close(&db);
        return NULL;
    }
    return db;
}

void an_db_close(an_db **pdb)
{
    an_db *db = pdb ? *pdb : NULL;
    if (!db)
        return;
    if (db->pg)
        PQfinish(db->pg);
    sqlite3_close(db->lite);
    free(db);
    *pdb = NULL;
}

bool an_db_is_pg(const an_db *db)
{
    return db->pg != NULL;
}

const char *an_db_error(const an_db *db)
{
    return db->msg;
}

/* ---- PostgreSQL ---- */
static bool pg_reset(an_db *db)
{
    PQreset(db->pg);
    if (PQstatus(db->pg) == CONNECTION_OK)
        return true;
    note(db, PQerrorMessage(db->pg));
    return false;
}

/* Runs `sql` (?n placeholders) with `args`; the result (caller PQclear's it) or NULL. */
static PGresult *pg_run(an_db *db, const char *sql, const an_arg *args, int n)
{
    char q[SQL_MAX], num[AN_MAX_ARGS][24];
    const char *v[AN_MAX_ARGS];
    int len[AN_MAX_ARGS], fmt[AN_MAX_ARGS];
    size_t k = strlen(sql);
    if (k >= sizeof q || n > AN_MAX_ARGS) {
        note(db, "statement too long");
        return NULL;
    }
    for (size_t i = 0; i <= k; i++)
        q[i] = sql[i] == '?' ? '$' : sql[i];
    for (int i = 0; i < n; i++) {
        len[i] = fmt[i] = 0;
        v[i] = args[i].p;
        if (args[i].kind == AN_INT) {
            snprintf(num[i], sizeof num[i], "%lld", (long long)args[i].i);
            v[i] = num[i];
        } else if (args[i].kind == AN_BLOB) {
            len[i] = (int)args[i].n;
            fmt[i] = 1;
        } else if (args[i].kind == AN_NULL) {
            v[i] = NULL;
        }
    }
    if (db->tx_broken) {
        note(db, "the connection to PostgreSQL broke during this transaction");
        return NULL;
    }
    if (PQstatus(db->pg) == CONNECTION_BAD && !pg_reset(db))
        return NULL; /* a previous call left it broken */
    for (int attempt = 0;; attempt++) {
        PGresult *r = n ? PQexecParams(db->pg, q, n, NULL, v, len, fmt, 0) : PQexec(db->pg, q);
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
            return r;
        note_pg(db, r);
        PQclear(r);
        if (attempt > 0 || PQstatus(db->pg) != CONNECTION_BAD)
            return NULL;
        db->tx_broken = db->in_tx; /* its work is gone with the old session */
        if (!pg_reset(db))
            return NULL;
        if (db->tx_broken) {
            note(db, "the connection to PostgreSQL broke during this transaction");
            return NULL;
        }
    }
}

/* ---- SQLite ---- */
static sqlite3_stmt *lite_prepare(an_db *db, const char *sql, const an_arg *args, int n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK) {
        note_lite(db);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        int rc = SQLITE_OK;
        switch (args[i].kind) {
        case AN_INT:
            rc = sqlite3_bind_int64(st, i + 1, args[i].i);
            break;
        case AN_TEXT:
            rc = sqlite3_bind_text(st, i + 1, args[i].p, -1, SQLITE_STATIC);
            break;
        case AN_BLOB:
            rc = sqlite3_bind_blob(st, i + 1, args[i].p, (int)args[i].n, SQLITE_STATIC);
            break;
        case AN_NULL:
            rc = sqlite3_bind_null(st, i + 1);
            break;
        }
        if (rc != SQLITE_OK) {
            note_lite(db);
            sqlite3_finalize(st);
            return NULL;
        }
    }
    return st;
}

/* ---- both ---- */
bool an_exec(an_db *db, const char *sql, const an_arg *args, int n, int64_t *changed)
{
    if (db->pg) {
        PGresult *r = pg_run(db, sql, args, n);
        if (r && changed)
            *changed = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        return r != NULL;
    }
    if (n == 0 && !changed) {
        if (sqlite3_exec(db->lite, sql, NULL, NULL, NULL) == SQLITE_OK)
            return true;
        note_lite(db);
        return false;
    }
    sqlite3_stmt *st = lite_prepare(db, sql, args, n);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st && rc != SQLITE_DONE && rc != SQLITE_ROW)
        note_lite(db);
    sqlite3_finalize(st);
    if (changed)
        *changed = sqlite3_changes(db->lite);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

bool an_query(an_db *db, an_rows *r, const char *sql, const an_arg *args, int n)
{
    r->db = db;
    r->st = NULL;
    r->res = NULL;
    r->row = -1;
    r->rows = 0;
    r->failed = false;
    if (db->pg) {
        r->res = pg_run(db, sql, args, n);
        r->rows = r->res ? PQntuples(r->res) : 0;
        return r->res != NULL;
    }
    r->st = lite_prepare(db, sql, args, n);
    return r->st != NULL;
}

bool an_next(an_rows *r)
{
    if (r->res)
        return ++r->row < r->rows;
    if (!r->st || r->failed)
        return false;
    int rc = sqlite3_step(r->st);
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE) {
        r->failed = true;
        note_lite(r->db);
    }
    return false;
}

int an_cols(const an_rows *r)
{
    return r->res ? PQnfields(r->res) : sqlite3_column_count(r->st);
}

const char *an_text(const an_rows *r, int col)
{
    if (r->res)
        return PQgetisnull(r->res, r->row, col) ? NULL : PQgetvalue(r->res, r->row, col);
    return (const char *)sqlite3_column_text(r->st, col);
}

int64_t an_int(const an_rows *r, int col)
{
    if (!r->res)
        return sqlite3_column_int64(r->st, col);
    const char *t = an_text(r, col);
    return t ? strtoll(t, NULL, 10) : 0; /* a numeric's decimals are cut, as SQLite divides */
}

double an_double(const an_rows *r, int col)
{
    if (!r->res)
        return sqlite3_column_double(r->st, col);
    const char *t = an_text(r, col);
    return t ? strtod(t, NULL) : 0;
}

const uint8_t *an_blob(an_rows *r, int col, size_t *len)
{
    *len = 0;
    if (!r->res) {
        const uint8_t *b = sqlite3_column_blob(r->st, col);
        *len = (size_t)sqlite3_column_bytes(r->st, col);
        return b ? b : (const uint8_t *)"";
    }
    /* bytea as text: "\x" and two hex digits a byte. */
    const char *t = an_text(r, col);
    if (!t || strncmp(t, "\\x", 2) != 0 ||
        sodium_hex2bin(r->blob, sizeof r->blob, t + 2, strlen(t + 2), NULL, len, NULL) != 0)
        return NULL;
    return r->blob;
}

bool an_end(an_rows *r)
{
    PQclear(r->res);
    sqlite3_finalize(r->st);
    r->res = NULL;
    r->st = NULL;
    return !r->failed;
}

bool an_tx(an_db *db, an_tx_op op)
{
    if (!db->pg) {
        static const char *const sql[] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
        return an_exec(db, sql[op], NULL, 0, NULL);
    }
    PGresult *r = NULL;
    bool ok = true;
    switch (op) {
    case AN_BEGIN:
        ok = (r = pg_run(db, "BEGIN", NULL, 0)) != NULL;
        db->in_tx = ok;
        break;
    case AN_COMMIT:
        r = pg_run(db, "COMMIT", NULL, 0);
        /* A COMMIT of a failed transaction answers ROLLBACK: nothing was written. */
        ok = r && strcmp(PQcmdStatus(r), "ROLLBACK") != 0;
        db->in_tx = db->tx_broken = false;
        break;
    case AN_ROLLBACK:
        db->in_tx = db->tx_broken = false; /* its work is gone either way */
        if (PQstatus(db->pg) == CONNECTION_OK)
            r = pg_run(db, "ROLLBACK", NULL, 0);
        break;
    }
    PQclear(r);
    return ok;
}

ck_status an_db_migrate(an_db *db, const char *part, const char *const *migrations, int version,
                        ck_error *err)
{
    const an_arg p[] = {AN_T(part)};
    bool ok = an_tx(db, AN_BEGIN) &&
              (!db->pg ||
               an_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", NULL, 0, NULL)) &&
              an_exec(db,
                      "CREATE TABLE IF NOT EXISTS ciak_schema(part TEXT PRIMARY KEY,"
                      " version INTEGER NOT NULL)",
                      NULL, 0, NULL) &&
              an_exec(db,
                      "INSERT INTO ciak_schema(part, version) VALUES(?1, 0) ON CONFLICT DO "
                      "NOTHING",
                      p, 1, NULL);
    int found = -1;
    an_rows r;
    if (ok && an_query(db, &r, "SELECT version FROM ciak_schema WHERE part = ?1", p, 1)) {
        if (an_next(&r))
            found = (int)an_int(&r, 0);
        an_end(&r);
    }
    ck_status s = CK_OK;
    if (found < 0)
        s = ck_error_set(err, CK_ERR_IO, db->label, 0, 0, "cannot set up the %s tables: %s", part,
                         db->msg);
    else if (found > version)
        s = ck_error_set(err, CK_ERR_UNSUPPORTED, db->label, 0, 0,
                         "the %s schema is version %d, newer than the version %d this ciak "
                         "knows: another node was upgraded; upgrade ciak here before starting it",
                         part, found, version);
    for (int v = found; s == CK_OK && v < version; v++)
        if (!an_exec(db, migrations[v], NULL, 0, NULL))
            s = ck_error_set(err, CK_ERR_IO, db->label, 0, 0,
                             "cannot upgrade the %s schema to version %d: %s", part, v + 1,
                             db->msg);
    const an_arg set[] = {AN_I(version), AN_T(part)};
    if (s == CK_OK && found < version &&
        !an_exec(db, "UPDATE ciak_schema SET version = ?1 WHERE part = ?2", set, 2, NULL))
        s = ck_error_set(err, CK_ERR_IO, db->label, 0, 0, "cannot record the %s schema: %s", part,
                         db->msg);
    if (s == CK_OK && !an_tx(db, AN_COMMIT))
        s = ck_error_set(err, CK_ERR_IO, db->label, 0, 0, "cannot set up the %s tables: %s", part,
                         db->msg);
    if (s != CK_OK)
        an_tx(db, AN_ROLLBACK);
    return s;
}
