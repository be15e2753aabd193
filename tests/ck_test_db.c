/* ck_test_db.c: see ck_test_db.h. */
#include "ck_test_db.h"
#include "ck_base.h"
#include "ck_test.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ck_test_sh(const char *fmt, const char *arg)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, arg);
    return system(cmd);
}

bool ck_test_pg_start(char *dir, size_t dir_size, char *url, size_t url_size)
{
    snprintf(dir, dir_size, "/tmp/ck_test_pg_XXXXXX");
    if (!mkdtemp(dir))
        return false;
    char cmd[600];
    /* Our pid: pg.sh's watchdog removes the server even if this test crashes. */
    snprintf(cmd, sizeof cmd, PG_SH " start %s %ld", dir, (long)getpid());
    FILE *f = popen(cmd, "r");
    bool ok = f && fgets(url, (int)url_size, f) != NULL;
    ok = f && pclose(f) == 0 && ok;
    url[strcspn(url, "\n")] = '\0';
    return ok && strncmp(url, "postgresql://", 13) == 0;
}

void ck_test_db_place(bool pg, const char *dir, const char *url, const char *name, char *out,
                      size_t size)
{
    if (!pg) {
        snprintf(out, size, "%s/%s.db", dir, name);
        return;
    }
    const char *slash = strrchr(url, '/');
    snprintf(out, size, "%.*s/%s", (int)(slash - url), url, name);
    PGconn *c = PQconnectdb(url);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(c, sql);
    CK_CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

bool ck_test_sql(bool pg, const char *where, const char *sql)
{
    if (pg) {
        PGconn *c = PQconnectdb(where);
        PGresult *r = PQexec(c, sql);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "raw_sql: %s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return ok;
    }
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(where, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/* Appends n bytes to *all (*len grows; one spare byte kept). */
static void append(char **all, size_t *len, const char *p, size_t n)
{
    *all = realloc(*all, *len + n + 1);
    memcpy(*all + *len, p, n);
    *len += n;
}

char *ck_test_stored(bool pg, const char *pg_dir, const char *path, size_t *len)
{
    char *all = NULL;
    *len = 0;
    if (pg) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, PG_SH " dump %s", pg_dir);
        FILE *f = popen(cmd, "r");
        char chunk[65536];
        size_t n;
        while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
            append(&all, len, chunk, n);
        CK_CHECK(f && pclose(f) == 0 && *len > 0);
        return all;
    }
    const char *suffix[] = {"", "-wal"};
    for (int i = 0; i < 2; i++) {
        char file[700], *buf = NULL;
        size_t n = 0;
        snprintf(file, sizeof file, "%s%s", path, suffix[i]);
        if (ck_read_file(file, 0, &buf, &n, NULL) != CK_OK)
            continue;
        append(&all, len, buf, n);
        free(buf);
    }
    return all;
}

bool ck_test_stored_has(const char *bytes, size_t len, const char *needle)
{
    char hex[600];
    sodium_bin2hex(hex, sizeof hex, (const unsigned char *)needle, strlen(needle));
    return bytes &&
           (memmem(bytes, len, needle, strlen(needle)) || memmem(bytes, len, hex, strlen(hex)));
}
