/* test_store.c: the people store: records sealed at rest (no name or id in the file), read
 * back identical, re-import updates and keeps the link handle, revoke draws a new handle,
 * purge removes closed windows, a wrong key cannot read, and records survive the JSON round
 * trip through the scene's validation. */
#include "ck_store.h"
#include "ck_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* True when `needle` occurs in the file's bytes (database and its WAL). */
static bool file_has(const char *path, const char *needle)
{
    char *buf = NULL;
    size_t len = 0;
    ck_error err = {0};
    if (ck_read_file(path, 0, &buf, &len, &err) != CK_OK)
        return false;
    bool found = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
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
    char dir[] = "/tmp/ck_test_store_XXXXXX", keys_path[256], db[256], wal[300];
    CK_CHECK(mkdtemp(dir) != NULL);
    snprintf(keys_path, sizeof keys_path, "%s/keys", dir);
    snprintf(db, sizeof db, "%s/ciak.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", db);
    ck_keyring keys;
    ck_error err = {0};
    CK_CHECK(ck_keyring_load(keys_path, true, &keys, &err) == CK_OK);
    ck_store *st = ck_store_open(db, &(ck_store_params){.keys = &keys}, &err);
    CK_CHECK(st != NULL);
    if (!st)
        return ck_test_done("test_store");

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

    /* Find the handle, read back. */
    seen s = {0};
    CK_CHECK(ck_store_each(st, "c1", count_each, &s, &err) == CK_OK && s.count == 2);
    int64_t n = 0;
    CK_CHECK(ck_store_count(st, "c1", &n, &err) == CK_OK && n == 2);
    /* The first person's handle: each() runs in import order. */
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

    /* Sealed at rest: neither the id nor the name is in the files. */
    CK_CHECK(!file_has(db, "RSSMRA40A41H501X") && !file_has(wal, "RSSMRA40A41H501X"));
    CK_CHECK(!file_has(db, "Addolorata") && !file_has(wal, "Addolorata"));

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

    /* A wrong key cannot read. */
    ck_keyring other = keys;
    other.data_key[0] ^= 1;
    ck_store *st2 = ck_store_open(db, &(ck_store_params){.keys = &other}, &err);
    CK_CHECK(st2 != NULL);
    if (st2) {
        CK_CHECK(ck_store_get(st2, "c1", handle, &p, &err) == CK_ERR_INVALID);
        ck_person_clear(&p);
        ck_store_close(&st2);
    }

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

    /* Not a database: an error, not a crash. */
    CK_CHECK(ck_store_open(keys_path, &(ck_store_params){.keys = &keys}, &err) == NULL);
    CK_CHECK(ck_store_open(db, NULL, &err) == NULL);

    test_json_roundtrip();
    ck_keyring_wipe(&keys);
    unlink(db);
    unlink(wal);
    char shm[300];
    snprintf(shm, sizeof shm, "%s-shm", db);
    unlink(shm);
    unlink(keys_path);
    rmdir(dir);
    return ck_test_done("test_store");
}
