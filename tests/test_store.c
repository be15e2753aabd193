/* test_store.c: the people store, every test against both backends (SQLite in a temporary
 * folder; PostgreSQL on a throw-away server that tests/support/pg.sh starts and removes).
 * Records sealed at rest (no sample name or id in the file or the pg_dump), read back
 * identical, re-import updates and keeps the link handle, revoke draws a new handle, purge
 * removes closed windows, a wrong key file is refused at open, a newer schema is refused
 * naming both versions, nodes opening one store at once all succeed, a store from before
 * schema versioning is adopted, PostgreSQL restarts are survived, and records survive the JSON
 * round trip through the scene's validation. Without PostgreSQL installed this test fails
 * (scripts/install-deps.sh installs it). */
#include "ck_store.h"
#include "ck_test.h"
#include "ck_test_db.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One backend under test. */
typedef struct backend {
    const char *name;
    bool pg;
    char where[512]; /* SQLite path or PostgreSQL URL of the main store */
    char dir[256];   /* the temporary folder (PostgreSQL: the server's) */
} backend;

/* ---- helpers ---- */

/* A second store location of the same kind, named `name` (a fresh database or file). */
static void other_place(const backend *b, const char *name, char *out, size_t size)
{
    ck_test_db_place(b->pg, b->dir, b->where, name, out, size);
}

static bool raw_sql(const backend *b, const char *where, const char *sql)
{
    return ck_test_sql(b->pg, where, sql);
}

static char *stored_bytes(const backend *b, size_t *len)
{
    return ck_test_stored(b->pg, b->dir, b->where, len);
}

#define leaks ck_test_stored_has
#define sh    ck_test_sh

typedef struct seen {
    int count;
    char last_id[256];
} seen;

static bool count_each(void *user, const ck_person *p)
{
    seen *s = user;
    s->count++;
    snprintf(s->last_id, sizeof s->last_id, "%s", p->person_id);
    return true;
}

typedef struct grab {
    uint8_t h[CK_HANDLE_BYTES];
    bool got;
} grab;

static bool grab_first(void *u, const ck_person *p)
{
    grab *g = u;
    if (!g->got)
        memcpy(g->h, p->handle, CK_HANDLE_BYTES);
    g->got = true;
    return true;
}

/* ---- tests, each run on both backends ---- */

static void test_people(const backend *b, const ck_keyring *keys)
{
    ck_error err = {0};
    ck_store *st = ck_store_open(b->where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "%s: %s\n", b->name, err.msg);
        return;
    }
    CK_CHECK_STR(ck_store_backend_name(st), b->name);
    const char *json1 = "{\"id\":\"RSSMRA40A41H501X\",\"first_name\":\"Addolorata\"}";
    const char *json2 = "{\"id\":\"RSSMRA40A41H501X\",\"first_name\":\"Addolorata Maria\"}";
    int32_t today = ck_days_from_civil(2026, 3, 1);
    bool created = false;
    CK_CHECK(ck_store_begin(st, &err) == CK_OK);
    CK_CHECK(ck_store_put(st, "c1", "RSSMRA40A41H501X", json1, today + 5, &created, &err) == CK_OK);
    CK_CHECK(created);
    CK_CHECK(ck_store_put(st, "c1", "P-2", "{\"id\":\"P-2\"}", today - 1, &created, &err) == CK_OK);
    CK_CHECK(ck_store_put(st, "c2", "P-3", "{\"id\":\"P-3\"}", INT32_MAX, &created, &err) == CK_OK);
    CK_CHECK(ck_store_commit(st, &err) == CK_OK);

    seen s = {0};
    CK_CHECK(ck_store_each(st, "c1", count_each, &s, &err) == CK_OK && s.count == 2);
    CK_CHECK_STR(s.last_id, "P-2"); /* import order */
    int64_t n = 0;
    CK_CHECK(ck_store_count(st, "c1", &n, &err) == CK_OK && n == 2);
    uint8_t handle[CK_HANDLE_BYTES];
    grab first = {0};
    CK_CHECK(ck_store_each(st, "c1", grab_first, &first, &err) == CK_OK && first.got);
    memcpy(handle, first.h, sizeof handle);

    ck_person p;
    CK_CHECK(ck_store_get(st, "c1", handle, &p, &err) == CK_OK);
    CK_CHECK_STR(p.person_id, "RSSMRA40A41H501X");
    CK_CHECK_STR(p.record_json, json1);
    CK_CHECK(p.expires == today + 5);
    int64_t rev1 = p.rev;
    ck_person_clear(&p);
    CK_CHECK(ck_store_get(st, "c2", handle, &p, &err) == CK_ERR_NOT_FOUND);
    ck_person_clear(&p);

    /* Re-import: new data, same handle, new revision, the later last day kept. */
    CK_CHECK(ck_store_put(st, "c1", "RSSMRA40A41H501X", json2, today + 2, &created, &err) == CK_OK);
    CK_CHECK(!created);
    int64_t rev2 = 0;
    int32_t exp2 = 0;
    CK_CHECK(ck_store_peek(st, "c1", handle, &rev2, &exp2, &err) == CK_OK);
    CK_CHECK(rev2 != rev1 && exp2 == today + 5);
    CK_CHECK(ck_store_get(st, "c1", handle, &p, &err) == CK_OK);
    CK_CHECK_STR(p.record_json, json2);
    ck_person_clear(&p);
    CK_CHECK(ck_store_extend(st, "c1", handle, today + 30, &err) == CK_OK);
    CK_CHECK(ck_store_extend(st, "c1", handle, today + 1, &err) == CK_OK); /* never shrinks */
    CK_CHECK(ck_store_peek(st, "c1", handle, NULL, &exp2, &err) == CK_OK && exp2 == today + 30);

    /* Sealed at rest: neither the id nor the name is stored in clear. */
    size_t len = 0;
    char *bytes = stored_bytes(b, &len);
    CK_CHECK(bytes && !leaks(bytes, len, "RSSMRA40A41H501X") && !leaks(bytes, len, "Addolorata"));
    free(bytes);

    /* A wrong key file is refused at open (it could not unseal anyone). */
    ck_keyring other = *keys;
    other.data_key[0] ^= 1;
    ck_store *st2 = ck_store_open(b->where, &(ck_store_params){.keys = &other}, &err);
    CK_CHECK(st2 == NULL && err.status == CK_ERR_INVALID && strstr(err.msg, "key file"));
    ck_store_close(&st2);
    ck_keyring_wipe(&other);

    /* Revoke: the old handle is gone, the person is still there under a new one. */
    CK_CHECK(ck_store_revoke(st, "c1", "RSSMRA40A41H501X", &err) == CK_OK);
    CK_CHECK(ck_store_peek(st, "c1", handle, NULL, NULL, &err) == CK_ERR_NOT_FOUND);
    CK_CHECK(ck_store_count(st, "c1", &n, &err) == CK_OK && n == 2);
    CK_CHECK(ck_store_revoke(st, "c1", "nobody", &err) == CK_ERR_NOT_FOUND);

    /* Purge: only closed windows go. */
    int64_t removed = 0;
    CK_CHECK(ck_store_purge(st, today, &removed, &err) == CK_OK && removed == 1);
    CK_CHECK(ck_store_count(st, "c1", &n, &err) == CK_OK && n == 1);
    CK_CHECK(ck_store_purge(st, today + 31, &removed, &err) == CK_OK && removed == 1);
    CK_CHECK(ck_store_count(st, "c2", &n, &err) == CK_OK && n == 1); /* no window: kept */

    /* Rollback leaves nothing. */
    CK_CHECK(ck_store_begin(st, &err) == CK_OK);
    CK_CHECK(ck_store_put(st, "c3", "x", "{\"id\":\"x\"}", today, NULL, &err) == CK_OK);
    ck_store_rollback(st);
    CK_CHECK(ck_store_count(st, "c3", &n, &err) == CK_OK && n == 0);
    ck_store_close(&st);
}

/* The scene's sample people, imported as `ciak import` does: none of their ids or names may
 * be found in what the database holds (the pg_dump, or the SQLite file). */
static void test_samples_sealed(const backend *b, const ck_keyring *keys)
{
    ck_diags d = {0};
    ck_scene *scene = ck_scene_load(CK_SOURCE_DIR "/scenes/assegno-sociale", NULL, &d);
    ck_records *recs =
        scene ? ck_records_load(scene, CK_SOURCE_DIR "/scenes/assegno-sociale/samples.json", &d)
              : NULL;
    CK_CHECK(recs && recs->count > 3);
    ck_error err = {0};
    ck_store *st = ck_store_open(b->where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st != NULL);
    int fn = scene ? ck_scene_field(scene, "first_name") : -1;
    int ln = scene ? ck_scene_field(scene, "last_name") : -1;
    CK_CHECK(fn >= 0 && ln >= 0);
    for (size_t i = 0; st && recs && i < recs->count; i++) {
        char *json = ck_record_to_json(scene, &recs->items[i]);
        CK_CHECK(ck_store_put(st, "samples", recs->items[i].id, json, INT32_MAX, NULL, &err) ==
                 CK_OK);
        free(json);
    }
    ck_store_close(&st);
    size_t len = 0;
    char *bytes = stored_bytes(b, &len);
    CK_CHECK(bytes != NULL);
    int checked = 0;
    for (size_t i = 0; bytes && recs && fn >= 0 && ln >= 0 && i < recs->count; i++) {
        const ck_record *r = &recs->items[i];
        const char *clear[] = {r->id, r->values[fn].str, r->values[ln].str};
        for (int k = 0; k < 3; k++) {
            if (!clear[k] || strlen(clear[k]) < 6) /* too short to tell from chance */
                continue;
            checked++;
            if (leaks(bytes, len, clear[k])) {
                CK_CHECK(!"a sample's id or name is stored in clear");
                fprintf(stderr, "%s: sample %zu field %d in clear\n", b->name, i, k);
            }
        }
    }
    CK_CHECK(checked > 5);
    free(bytes);
    ck_records_destroy(&recs);
    ck_scene_destroy(&scene);
    ck_diags_free(&d);
}

/* A node that finds a schema newer than it knows refuses to start, naming both versions. */
static void test_newer_schema(const backend *b, const ck_keyring *keys)
{
    char sql[200], want[64];
    snprintf(sql, sizeof sql, "UPDATE ciak_schema SET version=%d WHERE part='people'",
             CK_STORE_SCHEMA_VERSION + 1);
    CK_CHECK(raw_sql(b, b->where, sql));
    ck_error err = {0};
    ck_store *st = ck_store_open(b->where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st == NULL && err.status == CK_ERR_UNSUPPORTED);
    snprintf(want, sizeof want, "version %d", CK_STORE_SCHEMA_VERSION + 1);
    CK_CHECK(strstr(err.msg, want) != NULL);
    snprintf(want, sizeof want, "version %d", CK_STORE_SCHEMA_VERSION);
    CK_CHECK(strstr(err.msg, want) != NULL);
    ck_store_close(&st);
    snprintf(sql, sizeof sql, "UPDATE ciak_schema SET version=%d WHERE part='people'",
             CK_STORE_SCHEMA_VERSION);
    CK_CHECK(raw_sql(b, b->where, sql));
    st = ck_store_open(b->where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st != NULL);
    ck_store_close(&st);
}

/* Nodes starting at once on a new store: all open (one migrates, the others wait and find it
 * done), and an import of the same person by all of them makes one person. */
#define RACERS 4
typedef struct racer {
    const char *where;
    const ck_keyring *keys;
    bool opened, created;
    ck_status put;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    ck_error err = {0};
    ck_store *st = ck_store_open(r->where, &(ck_store_params){.keys = r->keys}, &err);
    r->opened = st != NULL;
    if (!st)
        fprintf(stderr, "racer: %s\n", err.msg);
    if (st)
        r->put = ck_store_put(st, "race", "P-1", "{\"id\":\"P-1\"}", 100, &r->created, &err);
    ck_store_close(&st);
    return NULL;
}

static void test_concurrent_open(const backend *b, const ck_keyring *keys)
{
    char where[600];
    other_place(b, "ciak_race", where, sizeof where);
    racer r[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer){.where = where, .keys = keys};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    int opened = 0, created = 0, put_ok = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        opened += r[i].opened;
        created += r[i].created;
        put_ok += r[i].put == CK_OK;
    }
    CK_CHECK(opened == RACERS && put_ok == RACERS && created == 1);
    ck_error err = {0};
    ck_store *st = ck_store_open(where, &(ck_store_params){.keys = keys}, &err);
    int64_t n = 0;
    CK_CHECK(st && ck_store_count(st, "race", &n, &err) == CK_OK && n == 1);
    ck_store_close(&st);
}

/* ---- backend-specific ---- */

/* A data folder from before schema versioning (people table only) opens as it is, its people
 * readable; another key file is refused even so (checked against a person). */
static void test_sqlite_legacy(const backend *b, const ck_keyring *keys)
{
    char where[600];
    other_place(b, "legacy", where, sizeof where);
    ck_error err = {0};
    ck_store *st = ck_store_open(where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st && ck_store_put(st, "c", "P-9", "{\"id\":\"P-9\"}", 100, NULL, &err) == CK_OK);
    ck_store_close(&st);
    CK_CHECK(raw_sql(b, where, "DROP TABLE ciak_schema; DROP TABLE ciak_meta;"));
    ck_keyring other = *keys;
    other.data_key[5] ^= 0x80;
    st = ck_store_open(where, &(ck_store_params){.keys = &other}, &err);
    CK_CHECK(st == NULL && err.status == CK_ERR_INVALID);
    ck_keyring_wipe(&other);
    st = ck_store_open(where, &(ck_store_params){.keys = keys}, &err);
    seen s = {0};
    CK_CHECK(st && ck_store_each(st, "c", count_each, &s, &err) == CK_OK && s.count == 1);
    CK_CHECK_STR(s.last_id, "P-9");
    ck_store_close(&st);
    /* Now versioned: faking a newer version is refused. */
    CK_CHECK(raw_sql(b, where, "UPDATE ciak_schema SET version=version+1"));
    st = ck_store_open(where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st == NULL && err.status == CK_ERR_UNSUPPORTED);
    char path[700];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", where, sfx[i]);
        unlink(path);
    }
}

/* PostgreSQL stopped and started under an open store: calls fail as values while it is down,
 * and work again afterwards without reopening; a transaction cut by a restart fails until
 * rolled back and leaves nothing. */
static void test_pg_restart(const backend *b, const ck_keyring *keys)
{
    ck_error err = {0};
    ck_store *st = ck_store_open(b->where, &(ck_store_params){.keys = keys}, &err);
    CK_CHECK(st != NULL);
    if (!st)
        return;
    int64_t n = 0;
    CK_CHECK(ck_store_put(st, "r", "P-R", "{\"id\":\"P-R\"}", 100, NULL, &err) == CK_OK);
    CK_CHECK(sh(PG_SH " down %s", b->dir) == 0);
    CK_CHECK(ck_store_count(st, "r", &n, &err) == CK_ERR_IO);
    CK_CHECK(ck_store_count(st, "r", &n, &err) == CK_ERR_IO);
    CK_CHECK(sh(PG_SH " up %s", b->dir) == 0);
    CK_CHECK(ck_store_count(st, "r", &n, &err) == CK_OK && n == 1);

    /* A restart between calls: the next call reconnects and retries, the caller never knows. */
    CK_CHECK(sh(PG_SH " down %s", b->dir) == 0 && sh(PG_SH " up %s", b->dir) == 0);
    CK_CHECK(ck_store_put(st, "r", "P-S", "{\"id\":\"P-S\"}", 100, NULL, &err) == CK_OK);
    CK_CHECK(ck_store_count(st, "r", &n, &err) == CK_OK && n == 2);

    /* A restart inside a transaction. */
    CK_CHECK(ck_store_begin(st, &err) == CK_OK);
    CK_CHECK(ck_store_put(st, "tx", "P-T", "{\"id\":\"P-T\"}", 100, NULL, &err) == CK_OK);
    CK_CHECK(sh(PG_SH " down %s", b->dir) == 0 && sh(PG_SH " up %s", b->dir) == 0);
    CK_CHECK(ck_store_put(st, "tx", "P-U", "{\"id\":\"P-U\"}", 100, NULL, &err) == CK_ERR_IO);
    CK_CHECK(ck_store_put(st, "tx", "P-V", "{\"id\":\"P-V\"}", 100, NULL, &err) == CK_ERR_IO);
    CK_CHECK(ck_store_commit(st, &err) != CK_OK);
    ck_store_rollback(st);
    CK_CHECK(ck_store_count(st, "tx", &n, &err) == CK_OK && n == 0);
    CK_CHECK(ck_store_put(st, "tx", "P-W", "{\"id\":\"P-W\"}", 100, NULL, &err) == CK_OK);
    ck_store_close(&st);
}

/* A read-only open reads, and writes nothing. */
static void test_readonly(const backend *b, const ck_keyring *keys)
{
    ck_error err = {0};
    ck_store *st =
        ck_store_open(b->where, &(ck_store_params){.keys = keys, .readonly = true}, &err);
    CK_CHECK(st != NULL);
    int64_t n = 0;
    CK_CHECK(st && ck_store_count(st, "samples", &n, &err) == CK_OK && n > 3);
    CK_CHECK(st && ck_store_put(st, "ro", "P-1", "{\"id\":\"P-1\"}", 1, NULL, &err) != CK_OK);
    ck_store_close(&st);
    ck_keyring other = *keys;
    other.data_key[1] ^= 4;
    st = ck_store_open(b->where, &(ck_store_params){.keys = &other, .readonly = true}, &err);
    CK_CHECK(st == NULL && err.status == CK_ERR_INVALID);
    ck_keyring_wipe(&other);
}

static void run_all(const backend *b, const ck_keyring *keys)
{
    int before = ck_test_failed;
    test_people(b, keys);
    test_samples_sealed(b, keys);
    test_readonly(b, keys);
    test_newer_schema(b, keys);
    test_concurrent_open(b, keys);
    if (b->pg)
        test_pg_restart(b, keys);
    else
        test_sqlite_legacy(b, keys);
    fprintf(stderr, "test_store: %s: %s\n", b->name,
            ck_test_failed == before ? "all passed" : "FAILED");
}

static void test_json_roundtrip(void)
{
    ck_diags d = {0};
    ck_scene *s = ck_scene_load(CK_SOURCE_DIR "/scenes/assegno-sociale", NULL, &d);
    CK_CHECK(s != NULL);
    if (!s)
        return;
    ck_records *recs = ck_records_load(s, CK_SOURCE_DIR "/scenes/assegno-sociale/samples.json", &d);
    CK_CHECK(recs && recs->count > 3 && d.errors == 0);
    for (size_t i = 0; recs && i < recs->count; i++) {
        char *json = ck_record_to_json(s, &recs->items[i]);
        ck_diags d2 = {0};
        ck_records *back = ck_records_parse(s, json, strlen(json), "store", &d2);
        CK_CHECK(back && back->count == 1 && d2.errors == 0);
        if (back && back->count == 1) {
            const ck_record *a = &recs->items[i], *b = &back->items[0];
            CK_CHECK_STR(b->id, a->id);
            for (int f = 0; f < s->field_count; f++) {
                const ck_value *x = &a->values[f], *y = &b->values[f];
                bool same = x->present == y->present && x->i == y->i && x->set == y->set &&
                            ((!x->str && !y->str) || (x->str && y->str && !strcmp(x->str, y->str)));
                CK_CHECK(same);
            }
        }
        CK_CHECK(ck_record_last_day(s, &recs->items[i]) < INT32_MAX);
        ck_records_destroy(&back);
        ck_diags_free(&d2);
        free(json);
    }
    ck_records_destroy(&recs);
    ck_scene_destroy(&s);
    ck_diags_free(&d);
}

int main(void)
{
    backend lite = {.name = "sqlite"}, pg = {.name = "postgresql", .pg = true};
    snprintf(lite.dir, sizeof lite.dir, "/tmp/ck_test_store_XXXXXX");
    CK_CHECK(mkdtemp(lite.dir) != NULL);
    snprintf(lite.where, sizeof lite.where, "%s/ciak.db", lite.dir);
    char keys_path[300];
    snprintf(keys_path, sizeof keys_path, "%s/keys", lite.dir);
    ck_keyring keys;
    ck_error err = {0};
    CK_CHECK(ck_keyring_load(keys_path, true, &keys, &err) == CK_OK);

    /* Which strings name PostgreSQL. */
    CK_CHECK(ck_store_is_postgres("postgresql://u@h/db") && ck_store_is_postgres("postgres://h"));
    CK_CHECK(ck_store_is_postgres("host=db dbname=ciak") && ck_store_is_postgres("dbname = x"));
    CK_CHECK(!ck_store_is_postgres("/var/lib/ciak/ciak.db") && !ck_store_is_postgres("ciak.db"));
    CK_CHECK(!ck_store_is_postgres("hostel.db") && !ck_store_is_postgres(NULL));

    run_all(&lite, &keys);
    /* Not a database: an error, not a crash. */
    CK_CHECK(ck_store_open(keys_path, &(ck_store_params){.keys = &keys}, &err) == NULL);
    CK_CHECK(ck_store_open(lite.where, NULL, &err) == NULL);
    /* The data folder's default file. */
    ck_store *st = ck_store_open_at(lite.dir, NULL, &(ck_store_params){.keys = &keys}, &err);
    int64_t n = 0;
    CK_CHECK(st && ck_store_count(st, "samples", &n, &err) == CK_OK && n > 3);
    ck_store_close(&st);

    if (ck_test_pg_start(pg.dir, sizeof pg.dir, pg.where, sizeof pg.where)) {
        run_all(&pg, &keys);
        /* A server that is not there: an error naming PostgreSQL, and no password echoed. */
        st = ck_store_open("postgresql://ciak:s3cret@127.0.0.1:1/none",
                           &(ck_store_params){.keys = &keys}, &err);
        CK_CHECK(st == NULL && err.status == CK_ERR_IO && !strstr(err.msg, "s3cret") &&
                 !strstr(err.file, "s3cret"));
        /* --db wins over the data folder. */
        st = ck_store_open_at(lite.dir, pg.where, &(ck_store_params){.keys = &keys}, &err);
        CK_CHECK(st && !strcmp(ck_store_backend_name(st), "postgresql"));
        ck_store_close(&st);
    } else {
        CK_CHECK(!"PostgreSQL test server did not start (see pg.sh's message above)");
    }
    if (pg.dir[0])
        sh(PG_SH " clean %s", pg.dir);

    test_json_roundtrip();
    ck_keyring_wipe(&keys);
    sh("rm -rf %s", lite.dir);
    return ck_test_done("test_store");
}
