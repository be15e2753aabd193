/* ck_test_db.h: the storage tests' shared harness (test_store, test_analytics): a throw-away
 * PostgreSQL server (tests/support/pg.sh), SQL behind a module's back, and what a database
 * stores as bytes, to look for personal data in clear. */
#ifndef CK_TEST_DB_H
#define CK_TEST_DB_H

#include <stdbool.h>
#include <stddef.h>

#define PG_SH "bash " CK_SOURCE_DIR "/tests/support/pg.sh"

/* system() of `fmt` with one %s. */
int ck_test_sh(const char *fmt, const char *arg);
/* Starts the PostgreSQL server in a new /tmp folder (`dir`) and writes its test database's URL;
 * false (with pg.sh's message on stderr) when it cannot. pg.sh's watchdog removes it when this
 * process ends, even by a crash. */
bool ck_test_pg_start(char *dir, size_t dir_size, char *url, size_t url_size);
/* Another location of the same kind named `name`: <dir>/<name>.db, or a new database next to
 * `url` (created; one check). */
void ck_test_db_place(bool pg, const char *dir, const char *url, const char *name, char *out,
                      size_t size);
/* Runs `sql` on the SQLite file or PostgreSQL URL `where`. */
bool ck_test_sql(bool pg, const char *where, const char *sql);
/* Everything stored, as bytes (malloc'd): the SQLite file `path` and its WAL, or the pg_dump of
 * the server in `pg_dir` (one check). */
char *ck_test_stored(bool pg, const char *pg_dir, const char *path, size_t *len);
/* True when `needle` is in `bytes` in clear, or as the hex pg_dump writes for bytea. */
bool ck_test_stored_has(const char *bytes, size_t len, const char *needle);

#endif
