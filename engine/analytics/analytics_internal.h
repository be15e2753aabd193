/* analytics_internal.h: what analytics.c, views.c, admin.c and db.c share (not part of the
 * public API). */
#ifndef CK_ANALYTICS_INTERNAL_H
#define CK_ANALYTICS_INTERNAL_H

#include "ck_analytics.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

/* ---- db.c: one SQL text for SQLite and PostgreSQL ----
 * Analytics and admin write their SQL once: placeholders are numbered, `?1`, `?2` ... (SQLite's
 * form; PostgreSQL is given `$1`, `$2` ...), upserts are `ON CONFLICT` (both speak it), and the
 * few real differences (migrations, row locks) are chosen with an_db_is_pg. PostgreSQL sends
 * numbers and names as text and bytes as binary parameters; results come back as text (bytea
 * as hex, decoded here). A PostgreSQL connection found broken is reset once and the statement
 * retried, unless a transaction was open: then its statements fail until AN_ROLLBACK (a later
 * statement never runs outside the transaction the caller believes in). Messages never hold
 * the connection string (it may carry a password), nor a DETAIL line (it may quote a row).
 * Not thread safe: each owner (ck_analytics, ck_admin) calls under its own mutex. */
typedef struct an_db an_db;

typedef enum an_kind { AN_NULL, AN_INT, AN_TEXT, AN_BLOB } an_kind;
typedef struct an_arg {
    an_kind kind;
    int64_t i;
    const void *p; /* text (NUL-terminated) or bytes */
    size_t n;      /* bytes */
} an_arg;
#define AN_I(x)          ((an_arg){.kind = AN_INT, .i = (x)})
#define AN_T(s)          ((an_arg){.kind = AN_TEXT, .p = (s)})
#define AN_B(bytes, len) ((an_arg){.kind = AN_BLOB, .p = (bytes), .n = (len)})
#define AN_MAX_ARGS      8
#define AN_BLOB_MAX      1024 /* the largest bytea read back (a view's ranges: 512) */

/* The rows of one query; lives on the caller's stack between an_query and an_end. */
typedef struct an_rows {
    an_db *db;
    sqlite3_stmt *st;
    PGresult *res;
    int row, rows; /* PostgreSQL: the current row, how many */
    bool failed;
    uint8_t blob[AN_BLOB_MAX];
} an_rows;

/* `where`: a PostgreSQL URL or keyword DSN (as ck_store_is_postgres says) or a SQLite path
 * (created; WAL, secure_delete). NULL with err set. */
an_db *an_db_open(const char *where, ck_error *err);
void an_db_close(an_db **db);
bool an_db_is_pg(const an_db *db);
/* The last error, for logs (never the connection string). */
const char *an_db_error(const an_db *db);
/* Brings `part`'s tables (a row of ciak_schema) to `version` by running migrations[found ..
 * version - 1] in one transaction (PostgreSQL: under the advisory lock the people store takes
 * too, so nodes and parts starting at once take turns). A newer version is refused, naming
 * both. */
ck_status an_db_migrate(an_db *db, const char *part, const char *const *migrations, int version,
                        ck_error *err);
/* A statement without rows (n args; with none, `sql` may hold several statements).
 * `*changed` (may be NULL) gets the rows it changed. */
bool an_exec(an_db *db, const char *sql, const an_arg *args, int n, int64_t *changed);
/* A query; false (nothing to end) on failure. */
bool an_query(an_db *db, an_rows *r, const char *sql, const an_arg *args, int n);
bool an_next(an_rows *r);
int an_cols(const an_rows *r);
int64_t an_int(const an_rows *r, int col);
double an_double(const an_rows *r, int col);
const char *an_text(const an_rows *r, int col);           /* NULL for SQL NULL */
const uint8_t *an_blob(an_rows *r, int col, size_t *len); /* NULL: NULL, or over AN_BLOB_MAX */
/* Frees the rows; false when stepping them failed. */
bool an_end(an_rows *r);
typedef enum an_tx_op { AN_BEGIN, AN_COMMIT, AN_ROLLBACK } an_tx_op;
/* AN_BEGIN takes the write lock at once on SQLite (BEGIN IMMEDIATE); AN_COMMIT of a failed
 * transaction is false (nothing was written). */
bool an_tx(an_db *db, an_tx_op op);

/* ---- views.c ---- */
/* A played range of the video, in milliseconds, start < end. */
typedef struct an_range {
    int32_t start_ms, end_ms;
} an_range;

/* The most ranges one view can take in one batch, with what it already holds. */
#define AN_RANGES_WORK (CK_AN_VIEW_RANGES + CK_AN_MAX_BATCH * CK_AN_MAX_RANGES)

/* How much of the video a view has seen, as SQL conditions over a `views` row: the report and
 * the CSV use these and nothing else (see ck_an_report). Complete: what was not played is at
 * most max(1 s, 2 % of the duration), written without MAX() so both databases read it. */
#define AN_SEEN_SQL(pct) "(watched_ms * 100 >= duration_ms * " #pct ")"
#define AN_COMPLETE_SQL                                                                            \
    "(duration_ms - watched_ms <= 1000 OR duration_ms - watched_ms <= duration_ms / 50)"
/* 1 when the condition holds, else 0 (PostgreSQL does not add booleans). */
#define AN_COUNT_IF(cond) "SUM(CASE WHEN " cond " THEN 1 ELSE 0 END)"

/* Parses a `ranges` value: 1..CK_AN_MAX_RANGES pairs [start_s, end_s] of finite numbers,
 * 0 <= start < end <= duration_s + CK_AN_DURATION_SLACK_S, ascending, not overlapping.
 * Writes them clipped to the duration (a pair wholly past it is dropped) to out, *n the count.
 * False: the body is refused. */
bool an_ranges_parse(const json_t *v, double duration_s, an_range *out, int *n);

/* Adds `r` (n ranges, any order) to the view (campaign, day, viewer): the union with what it
 * holds, at most CK_AN_VIEW_RANGES kept (the shortest dropped: never more than was played).
 * Runs inside the caller's transaction, under the caller's lock; the view's row is locked
 * until that transaction ends, so nodes adding to one view at once take turns. */
bool an_view_add(an_db *db, const char *campaign, int32_t day, const uint8_t *viewer,
                 size_t viewer_len, an_range *r, int n, int32_t duration_ms);

#endif
