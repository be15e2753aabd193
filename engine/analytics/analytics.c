/* analytics.c: validating, storing and counting the player's events (see ck_analytics.h). */
#include "analytics_internal.h"
#include "ck_store.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_BYTES   32
#define VIEWER_BYTES 8
#define RATE_SLOTS   4096 /* viewers tracked by the rate limiter at once */
#define RATE_PROBE   16

typedef struct rate_slot {
    uint8_t key[VIEWER_BYTES];
    bool used;
    double window_start;
    int count;
} rate_slot;

struct ck_analytics {
    an_db *db;
    pthread_mutex_t lock;
    int rate_events;
    double rate_window_s;
    int32_t salt_day;
    uint8_t salt[SALT_BYTES];
    rate_slot *rate;
    char failure[256]; /* why the last batch was not stored (ck_analytics_last_failure) */
};

static const char *const event_names[] = {
#define CK_X_NAME(e, name, doc) name,
    CK_AN_EVENT_LIST(CK_X_NAME)
#undef CK_X_NAME
};

const char *ck_an_event_name(ck_an_event e)
{
    return (unsigned)e < CK_EV__COUNT ? event_names[e] : "?";
}

/* Migrations, oldest first: migrations[i] takes the tables from version i to i + 1 (row
 * 'analytics' of ciak_schema). Never edit one that has shipped; append, and raise
 * AN_SCHEMA_VERSION. SQLite's version 1 uses IF NOT EXISTS, so a file from before versioning is
 * adopted as it is. One rating per link and day is a unique index, so nodes storing ratings at
 * once cannot make two (a file from before kept the later one already; this keeps it). */
#define AN_SCHEMA_VERSION 1
static const char *const lite_migrations[] = {
    "CREATE TABLE IF NOT EXISTS events(campaign TEXT NOT NULL, day INTEGER NOT NULL,"
    " type TEXT NOT NULL, item TEXT NOT NULL DEFAULT '', value INTEGER NOT NULL DEFAULT 0,"
    " viewer BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_cd ON events(campaign, day, type);"
    /* One row per view (a link on a day): the union of the ranges it played (views.c). */
    "CREATE TABLE IF NOT EXISTS views(campaign TEXT NOT NULL, day INTEGER NOT NULL,"
    " viewer BLOB NOT NULL, duration_ms INTEGER NOT NULL, watched_ms INTEGER NOT NULL,"
    " ranges BLOB NOT NULL, PRIMARY KEY(campaign, day, viewer));"
    /* The day's salt: one row at most; deleted when the day changes. */
    "CREATE TABLE IF NOT EXISTS salt(day INTEGER PRIMARY KEY, bytes BLOB NOT NULL);"
    "DELETE FROM events WHERE type = 'rating' AND rowid NOT IN (SELECT MAX(rowid) FROM events"
    " WHERE type = 'rating' GROUP BY campaign, day, viewer);"
    "CREATE UNIQUE INDEX IF NOT EXISTS events_rating ON events(campaign, day, viewer)"
    " WHERE type = 'rating';",
};
static const char *const pg_migrations[] = {
    "CREATE TABLE events(campaign text NOT NULL, day integer NOT NULL, type text NOT NULL,"
    " item text NOT NULL DEFAULT '', value integer NOT NULL DEFAULT 0, viewer bytea NOT NULL);"
    "CREATE INDEX events_cd ON events(campaign, day, type);"
    "CREATE UNIQUE INDEX events_rating ON events(campaign, day, viewer) WHERE type = 'rating';"
    "CREATE TABLE views(campaign text NOT NULL, day integer NOT NULL, viewer bytea NOT NULL,"
    " duration_ms integer NOT NULL, watched_ms integer NOT NULL, ranges bytea NOT NULL,"
    " PRIMARY KEY(campaign, day, viewer));"
    "CREATE TABLE salt(day integer PRIMARY KEY, bytes bytea NOT NULL);",
};
_Static_assert(sizeof lite_migrations / sizeof lite_migrations[0] == AN_SCHEMA_VERSION &&
                   sizeof pg_migrations / sizeof pg_migrations[0] == AN_SCHEMA_VERSION,
               "one migration per schema version and database");

static ck_status db_error(ck_analytics *a, ck_error *err, const char *what)
{
    return ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "analytics: %s: %s", what,
                        a && a->db ? an_db_error(a->db) : "cannot open");
}

ck_analytics *ck_analytics_open(const char *where, const ck_analytics_params *params, ck_error *err)
{
    if (sodium_init() < 0) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0, "analytics: libsodium failed to start");
        return NULL;
    }
    ck_analytics *a = calloc(1, sizeof *a);
    if (!a) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "analytics: out of memory");
        return NULL;
    }
    a->rate_events = params && params->rate_events > 0 ? params->rate_events : 120;
    a->rate_window_s = params && params->rate_window_s > 0 ? params->rate_window_s : 600;
    a->salt_day = -1;
    a->rate = calloc(RATE_SLOTS, sizeof *a->rate);
    pthread_mutex_init(&a->lock, NULL);
    if (!a->rate) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "analytics: out of memory");
        goto error;
    }
    if (!(a->db = an_db_open(where, err)))
        goto error;
    if (an_db_migrate(a->db, "analytics", an_db_is_pg(a->db) ? pg_migrations : lite_migrations,
                      AN_SCHEMA_VERSION, err) != CK_OK)
        goto error;
    return a;
error:
    ck_analytics_close(&a);
    return NULL;
}

ck_analytics *ck_analytics_open_at(const char *data_dir, const char *db,
                                   const ck_analytics_params *params, ck_error *err)
{
    if (ck_store_is_postgres(db))
        return ck_analytics_open(db, params, err);
    char path[4096];
    if (!data_dir ||
        (size_t)snprintf(path, sizeof path, "%s/analytics.db", data_dir) >= sizeof path) {
        ck_error_set(err, CK_ERR_USAGE, NULL, 0, 0,
                     "analytics: needs a data folder or a PostgreSQL database");
        return NULL;
    }
    return ck_analytics_open(path, params, err);
}

void ck_analytics_close(ck_analytics **ap)
{
    ck_analytics *a = ap ? *ap : NULL;
    if (!a)
        return;
    an_db_close(&a->db);
    pthread_mutex_destroy(&a->lock);
    sodium_memzero(a->salt, sizeof a->salt);
    free(a->rate);
    free(a);
    *ap = NULL;
}

/* ---- the day's salt (under the lock) ---- */
/* Every node must hash a token with the same salt, or one link counts as a viewer per node:
 * a node offers a fresh salt and keeps whichever was stored first (insert-if-absent). Only
 * older days go, so a node whose clock is a little behind never deletes today's. */
static bool salt_for(ck_analytics *a, int32_t today)
{
    if (a->salt_day == today)
        return true;
    uint8_t fresh[SALT_BYTES];
    randombytes_buf(fresh, sizeof fresh);
    const an_arg day[] = {AN_I(today), AN_B(fresh, sizeof fresh)};
    an_rows r;
    bool ok =
        an_exec(a->db, "DELETE FROM salt WHERE day < ?1", day, 1, NULL) &&
        an_exec(a->db, "INSERT INTO salt(day, bytes) VALUES(?1, ?2) ON CONFLICT(day) DO NOTHING",
                day, 2, NULL) &&
        an_query(a->db, &r, "SELECT bytes FROM salt WHERE day = ?1", day, 1);
    sodium_memzero(fresh, sizeof fresh);
    if (!ok)
        return false;
    size_t len = 0;
    const uint8_t *b = an_next(&r) ? an_blob(&r, 0, &len) : NULL;
    ok = b && len == SALT_BYTES;
    if (ok)
        memcpy(a->salt, b, SALT_BYTES);
    an_end(&r);
    if (!ok)
        return false;
    /* A new day: the rate limiter's keys belong to the old salt. */
    memset(a->rate, 0, RATE_SLOTS * sizeof *a->rate);
    a->salt_day = today;
    return true;
}

/* ---- rate limit (under the lock) ---- */
static bool rate_take(ck_analytics *a, const uint8_t key[VIEWER_BYTES], int n, double now_s)
{
    uint32_t h;
    memcpy(&h, key, sizeof h);
    rate_slot *victim = NULL;
    for (int i = 0; i < RATE_PROBE; i++) {
        rate_slot *s = &a->rate[(h + (uint32_t)i) % RATE_SLOTS];
        if (s->used && memcmp(s->key, key, VIEWER_BYTES) == 0) {
            if (now_s - s->window_start >= a->rate_window_s) {
                s->window_start = now_s;
                s->count = 0;
            }
            if (s->count + n > a->rate_events)
                return false;
            s->count += n;
            return true;
        }
        if (!s->used || now_s - s->window_start >= a->rate_window_s) {
            if (!victim || victim->used)
                victim = s;
        } else if (!victim || (victim->used && s->window_start < victim->window_start)) {
            victim = s;
        }
    }
    /* Full neighbourhood: the oldest window makes room (bounded memory over fairness). */
    memcpy(victim->key, key, VIEWER_BYTES);
    victim->used = true;
    victim->window_start = now_s;
    victim->count = n;
    return n <= a->rate_events;
}

/* ---- validation ---- */
typedef struct parsed_event {
    ck_an_event type;
    char item[CK_AN_ID_MAX + 1];
    int64_t value;
    an_range ranges[CK_AN_MAX_RANGES]; /* watched */
    int range_count;
} parsed_event;

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CK_AN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool in_list(const char *id, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], id) == 0)
            return true;
    return false;
}

static bool parse_event(json_t *o, const ck_an_allowed *allowed, parsed_event *out)
{
    if (!json_is_object(o))
        return false;
    /* Only known keys: a client sending more is not ours. */
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "id") != 0 && strcmp(key, "value") != 0 &&
            strcmp(key, "ranges") != 0)
            return false;
    }
    json_t *jt = json_object_get(o, "type"), *jid = json_object_get(o, "id"),
           *jv = json_object_get(o, "value"), *jr = json_object_get(o, "ranges");
    if (!json_is_string(jt))
        return false;
    const char *t = json_string_value(jt);
    int type = -1;
    for (int i = 0; i < CK_EV__COUNT; i++)
        if (strcmp(t, event_names[i]) == 0)
            type = i;
    if (type < 0)
        return false;
    out->type = (ck_an_event)type;
    out->item[0] = '\0';
    out->value = 0;
    out->range_count = 0;
    if ((type == CK_EV_WATCHED) != (jr != NULL) || (jr && jv))
        return false;
    if (jr &&
        !an_ranges_parse(jr, allowed ? allowed->duration_s : 0, out->ranges, &out->range_count))
        return false;
    if (jv && !json_is_integer(jv))
        return false;
    int64_t value = jv ? (int64_t)json_integer_value(jv) : 0;
    bool wants_id = type == CK_EV_POPUP || type == CK_EV_BUTTON || type == CK_EV_ERROR;
    if (wants_id != (jid != NULL))
        return false;
    if (jid) {
        if (!json_is_string(jid) || !valid_id(json_string_value(jid)))
            return false;
        snprintf(out->item, sizeof out->item, "%s", json_string_value(jid));
    }
    switch (out->type) {
    case CK_EV_RATING:
        if (value < 1 || value > 5)
            return false;
        break;
    case CK_EV_CAPTIONS:
        if (value != 0 && value != 1)
            return false;
        break;
    case CK_EV_STALL:
    case CK_EV_STARTUP:
        if (!jv || value < 0 || value > 600000)
            return false;
        break;
    case CK_EV_POPUP:
        if (value != 0 || !allowed || !in_list(out->item, allowed->popups, allowed->popup_count))
            return false;
        break;
    case CK_EV_BUTTON:
        if (value != 0 || !allowed || !in_list(out->item, allowed->buttons, allowed->button_count))
            return false;
        break;
    default:
        if (value != 0)
            return false;
        break;
    }
    out->value = value;
    return true;
}

/* One event row. A rating replaces the viewer's earlier rating of the day (the unique index
 * events_rating), so that a link rates once a day and the later rating counts. */
static bool insert_event(an_db *db, const char *campaign, int32_t today, const uint8_t *viewer,
                         const parsed_event *e)
{
    const an_arg args[] = {AN_T(campaign), AN_I(today),    AN_T(event_names[e->type]),
                           AN_T(e->item),  AN_I(e->value), AN_B(viewer, VIEWER_BYTES)};
    return an_exec(db,
                   "INSERT INTO events(campaign, day, type, item, value, viewer) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(campaign, day, viewer) "
                   "WHERE type = 'rating' DO UPDATE SET value = excluded.value",
                   args, 6, NULL);
}

/* Stores a validated batch in one transaction (under the lock): `watched` ranges go to the
 * view's row, everything else to events. */
static bool store_batch(ck_analytics *a, const char *campaign, int32_t today, const uint8_t *viewer,
                        const parsed_event *ev, size_t n, int32_t duration_ms)
{
    an_range played[CK_AN_MAX_BATCH * CK_AN_MAX_RANGES];
    int nplayed = 0;
    bool ok = an_tx(a->db, AN_BEGIN);
    for (size_t i = 0; ok && i < n; i++) {
        if (ev[i].type == CK_EV_WATCHED) {
            memcpy(played + nplayed, ev[i].ranges, (size_t)ev[i].range_count * sizeof *played);
            nplayed += ev[i].range_count;
        } else {
            ok = insert_event(a->db, campaign, today, viewer, &ev[i]);
        }
    }
    ok = ok &&
         an_view_add(a->db, campaign, today, viewer, VIEWER_BYTES, played, nplayed, duration_ms);
    ok = ok && an_tx(a->db, AN_COMMIT);
    if (!ok) {
        /* Not logged here: the caller answers and logs a storage fault once, not per batch. */
        snprintf(a->failure, sizeof a->failure, "cannot store events: %s", an_db_error(a->db));
        an_tx(a->db, AN_ROLLBACK);
    }
    return ok;
}

ck_an_result ck_analytics_ingest(ck_analytics *a, const char *campaign, const char *token,
                                 size_t token_len, const char *body, size_t len,
                                 const ck_an_allowed *allowed, int32_t today, double now_s)
{
    if (len > CK_AN_MAX_BODY)
        return CK_AN_TOO_LARGE;
    if (!body || len == 0 || !campaign || !valid_id(campaign))
        return CK_AN_BAD;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return CK_AN_BAD;
    json_t *list = json_is_object(root) && json_object_size(root) == 1
                       ? json_object_get(root, "events")
                       : NULL;
    ck_an_result res = CK_AN_BAD;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    if (n > CK_AN_MAX_BATCH) {
        json_decref(root);
        return CK_AN_TOO_LARGE;
    }
    parsed_event ev[CK_AN_MAX_BATCH];
    if (n == 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if (!parse_event(json_array_get(list, i), allowed, &ev[i]))
            goto done;

    pthread_mutex_lock(&a->lock);
    uint8_t viewer[VIEWER_BYTES];
    if (!salt_for(a, today)) {
        snprintf(a->failure, sizeof a->failure, "cannot make the day's salt: %s",
                 an_db_error(a->db));
        pthread_mutex_unlock(&a->lock);
        res = CK_AN_FAILED;
        goto done;
    }
    crypto_generichash(viewer, sizeof viewer, (const uint8_t *)token, token_len, a->salt,
                       SALT_BYTES);
    if (!rate_take(a, viewer, (int)n, now_s)) {
        pthread_mutex_unlock(&a->lock);
        res = CK_AN_LIMITED;
        goto done;
    }
    bool ok = store_batch(a, campaign, today, viewer, ev, n,
                          allowed ? (int32_t)llround(allowed->duration_s * 1000.0) : 0);
    pthread_mutex_unlock(&a->lock);
    res = ok ? CK_AN_STORED : CK_AN_FAILED;
done:
    json_decref(root);
    return res;
}

void ck_analytics_last_failure(ck_analytics *a, char *buf, size_t size)
{
    pthread_mutex_lock(&a->lock);
    snprintf(buf, size, "%s", a->failure[0] ? a->failure : "no failure");
    pthread_mutex_unlock(&a->lock);
}

/* ---- reports ---- */
/* Runs `sql` with (campaign, from, to) bound as ?1 ?2 ?3 and `extra` (if any) as ?4. */
static bool q3(ck_analytics *a, an_rows *r, const char *sql, const char *campaign, int32_t from,
               int32_t to, const an_arg *extra)
{
    const an_arg args[] = {AN_T(campaign), AN_I(from), AN_I(to), extra ? *extra : AN_I(0)};
    return an_query(a->db, r, sql, args, extra ? 4 : 3);
}

static bool one_int(ck_analytics *a, const char *sql, const char *campaign, int32_t from,
                    int32_t to, int64_t *out)
{
    an_rows r;
    if (!q3(a, &r, sql, campaign, from, to, NULL))
        return false;
    *out = an_next(&r) ? an_int(&r, 0) : 0;
    return an_end(&r);
}

#define WHERE " WHERE campaign = ?1 AND day BETWEEN ?2 AND ?3"

static bool counts_by_item(ck_analytics *a, const char *type, const char *campaign, int32_t from,
                           int32_t to, ck_an_count *out, int *count)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT item, COUNT(*) FROM events" WHERE " AND type = '%s' GROUP BY item "
             "ORDER BY 2 DESC, 1 LIMIT %d",
             type, CK_AN_MAX_ITEMS);
    an_rows r;
    if (!q3(a, &r, sql, campaign, from, to, NULL))
        return false;
    *count = 0;
    while (an_next(&r) && *count < CK_AN_MAX_ITEMS) {
        const char *id = an_text(&r, 0);
        snprintf(out[*count].id, sizeof out[*count].id, "%s", id ? id : "");
        out[*count].count = an_int(&r, 1);
        (*count)++;
    }
    return an_end(&r);
}

static double percentile(ck_analytics *a, const char *campaign, int32_t from, int32_t to, int64_t n,
                         double p)
{
    if (n <= 0)
        return 0;
    int64_t rank = (int64_t)ceil(p * (double)n) - 1; /* nearest rank */
    if (rank < 0)
        rank = 0;
    an_rows r;
    const an_arg offset = AN_I(rank);
    if (!q3(a, &r,
            "SELECT value FROM events" WHERE " AND type = 'startup' ORDER BY value LIMIT 1 "
            "OFFSET ?4",
            campaign, from, to, &offset))
        return 0;
    double v = an_next(&r) ? an_double(&r, 0) : 0;
    an_end(&r);
    return v;
}

/* Runs `sql` (campaign, from, to bound) whose rows are (day, c1, .. cn) into col[day][k]. */
static bool per_day(ck_analytics *a, const char *sql, const char *campaign, int32_t from,
                    int32_t to, int64_t col[][4])
{
    an_rows r;
    if (!q3(a, &r, sql, campaign, from, to, NULL))
        return false;
    int n = an_cols(&r) - 1;
    while (an_next(&r)) {
        int64_t d = an_int(&r, 0) - from;
        for (int k = 0; d >= 0 && d <= to - from && k < n && k < 4; k++)
            col[d][k] = an_int(&r, k + 1);
    }
    return an_end(&r);
}

/* The daily rows, and the headline figures as their sums: one computation, so the daily table
 * and the figures above it agree. A viewer is a key seen that day in events or views. */
static bool daily(ck_analytics *a, const char *campaign, int32_t from, int32_t to,
                  ck_an_report *out)
{
    int64_t viewers[CK_AN_MAX_DAYS][4] = {{0}}, plays[CK_AN_MAX_DAYS][4] = {{0}},
            seen[CK_AN_MAX_DAYS][4] = {{0}};
    bool ok =
        per_day(a,
                "SELECT day, COUNT(*) FROM (SELECT day, viewer FROM events" WHERE
                " UNION SELECT day, viewer FROM views" WHERE ") AS seen GROUP BY day",
                campaign, from, to, viewers) &&
        per_day(a, "SELECT day, COUNT(*) FROM events" WHERE " AND type = 'play' GROUP BY day",
                campaign, from, to, plays) &&
        per_day(
            a,
            "SELECT day, " AN_COUNT_IF(AN_SEEN_SQL(25)) ", " AN_COUNT_IF(AN_SEEN_SQL(
                50)) ", " AN_COUNT_IF(AN_SEEN_SQL(75)) ", " AN_COUNT_IF(AN_COMPLETE_SQL) " FROM "
                                                                                         "view"
                                                                                         "s" WHERE
                                                                                         " GROUP "
                                                                                         "BY day",
            campaign, from, to, seen);
    out->day_count = to - from + 1 > 0 ? to - from + 1 : 0;
    for (int d = 0; d < out->day_count; d++) {
        ck_an_day *day = &out->days[d];
        *day = (ck_an_day){from + d, viewers[d][0], plays[d][0], seen[d][3]};
        out->viewers += day->viewers;
        out->plays += day->plays;
        for (int k = 0; k < 4; k++)
            out->funnel[k] += seen[d][k];
    }
    return ok;
}

static bool ratings(ck_analytics *a, const char *campaign, int32_t from, int32_t to,
                    ck_an_report *out)
{
    an_rows r;
    if (!q3(a, &r, "SELECT value, COUNT(*) FROM events" WHERE " AND type = 'rating' GROUP BY value",
            campaign, from, to, NULL))
        return false;
    int64_t n = 0, sum = 0;
    while (an_next(&r)) {
        int64_t v = an_int(&r, 0), c = an_int(&r, 1);
        if (v >= 1 && v <= 5) {
            out->ratings[v - 1] = c;
            n += c;
            sum += v * c;
        }
    }
    out->rating_avg = n ? (double)sum / (double)n : 0;
    return an_end(&r);
}

ck_status ck_analytics_report(ck_analytics *a, const char *campaign, int32_t from, int32_t to,
                              ck_an_report *out, ck_error *err)
{
    int64_t links = out->links;
    memset(out, 0, sizeof *out);
    out->links = links;
    snprintf(out->campaign, sizeof out->campaign, "%s", campaign);
    if (to - from + 1 > CK_AN_MAX_DAYS)
        from = to - CK_AN_MAX_DAYS + 1;
    pthread_mutex_lock(&a->lock);
    bool ok = daily(a, campaign, from, to, out) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'stall'", campaign, from,
                      to, &out->stalls) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'error'", campaign, from,
                      to, &out->errors) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'guide'", campaign, from,
                      to, &out->guides) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'captions' AND value = 1",
                      campaign, from, to, &out->caption_on) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'captions' AND value = 0",
                      campaign, from, to, &out->caption_off) &&
              one_int(a, "SELECT COUNT(*) FROM events" WHERE " AND type = 'startup'", campaign,
                      from, to, &out->startup_count);
    ok = ok && counts_by_item(a, "popup", campaign, from, to, out->popups, &out->popup_count) &&
         counts_by_item(a, "button", campaign, from, to, out->buttons, &out->button_count) &&
         ratings(a, campaign, from, to, out);
    if (ok) {
        out->startup_p50_ms = percentile(a, campaign, from, to, out->startup_count, 0.50);
        out->startup_p90_ms = percentile(a, campaign, from, to, out->startup_count, 0.90);
        out->startup_p99_ms = percentile(a, campaign, from, to, out->startup_count, 0.99);
    }
    ck_status s = ok ? CK_OK : db_error(a, err, "report");
    pthread_mutex_unlock(&a->lock);
    return s;
}

ck_status ck_analytics_campaigns(ck_analytics *a, char ***list, int *count, ck_error *err)
{
    *list = NULL;
    *count = 0;
    char **l = calloc(256, sizeof *l);
    if (!l)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "analytics: out of memory");
    pthread_mutex_lock(&a->lock);
    an_rows r;
    int n = 0;
    bool ok =
        an_query(a->db, &r, "SELECT DISTINCT campaign FROM events ORDER BY 1 LIMIT 256", NULL, 0);
    while (ok && an_next(&r) && n < 256) {
        const char *c = an_text(&r, 0);
        if (c && (l[n] = strdup(c)) != NULL)
            n++;
    }
    ok = ok && an_end(&r);
    ck_status s = ok ? CK_OK : db_error(a, err, "campaigns");
    pthread_mutex_unlock(&a->lock);
    if (s != CK_OK) {
        ck_analytics_free_list(l, n);
        return s;
    }
    *list = l;
    *count = n;
    return CK_OK;
}

void ck_analytics_free_list(char **list, int count)
{
    for (int i = 0; list && i < count; i++)
        free(list[i]);
    free(list);
}

/* ?1 is the campaign or NULL (every campaign); the CAST gives PostgreSQL its type where it
 * cannot guess one (`$1 IS NULL`). */
#define CSV_CAMPAIGN " WHERE CAST(?1 AS TEXT) IS NULL OR campaign = CAST(?1 AS TEXT) "

char *ck_analytics_csv(ck_analytics *a, const char *campaign, ck_error *err)
{
    ck_strbuf b = {0};
    ck_strbuf_puts(&b, "campaign,day,type,item,events,viewers,value_sum\n");
    pthread_mutex_lock(&a->lock);
    an_rows r;
    const an_arg args[] = {campaign ? AN_T(campaign) : (an_arg){.kind = AN_NULL}};
    bool ok = an_query(
        a->db, &r,
        "SELECT campaign, day, type, item, COUNT(*), COUNT(DISTINCT viewer), SUM(value) "
        "FROM events" CSV_CAMPAIGN "GROUP BY campaign, day, type, item UNION ALL "
        "SELECT campaign, day, 'watched', CASE WHEN " AN_COMPLETE_SQL
        " THEN '100' WHEN " AN_SEEN_SQL(75) " THEN '75' WHEN " AN_SEEN_SQL(
            50) " THEN '50' WHEN " AN_SEEN_SQL(25) " THEN '25' ELSE '0' END, "
                                                   "COUNT(*), COUNT(*), SUM(watched_ms) / 1000 "
                                                   "FROM views" CSV_CAMPAIGN "GROUP BY 1, 2, 4 "
                                                   "ORDER BY 1, 2, 3, 4",
        args, 1);
    while (ok && an_next(&r)) {
        int y, m, d;
        ck_civil_from_days((int32_t)an_int(&r, 1), &y, &m, &d);
        const char *c = an_text(&r, 0), *type = an_text(&r, 2), *item = an_text(&r, 3);
        /* Campaign, type and item are [a-z0-9_-] by construction: no quoting needed. */
        ck_strbuf_printf(&b, "%s,%04d-%02d-%02d,%s,%s,%lld,%lld,%lld\n", c ? c : "", y, m, d,
                         type ? type : "", item ? item : "", (long long)an_int(&r, 4),
                         (long long)an_int(&r, 5), (long long)an_int(&r, 6));
    }
    ok = ok && an_end(&r);
    if (!ok)
        db_error(a, err, "export");
    pthread_mutex_unlock(&a->lock);
    if (!ok) {
        ck_strbuf_free(&b);
        return NULL;
    }
    char *csv = ck_strbuf_take(&b);
    if (!csv)
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "analytics: out of memory");
    return csv;
}

int64_t ck_analytics_event_count(ck_analytics *a)
{
    int64_t n = 0;
    pthread_mutex_lock(&a->lock);
    an_rows r;
    if (an_query(a->db, &r, "SELECT COUNT(*) FROM events", NULL, 0)) {
        if (an_next(&r))
            n = an_int(&r, 0);
        an_end(&r);
    }
    pthread_mutex_unlock(&a->lock);
    return n;
}
