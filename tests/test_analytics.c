/* test_analytics.c: events are validated whole (malformed, oversized, unknown type or id,
 * out-of-range values: nothing stored), rate-limited per viewer, counted by day with a salted
 * viewer key that changes with the day (the old salt deleted), never storing the token; the
 * report, CSV export and dashboard HTML agree; the admin credential and sessions.
 * Storage tests run against both backends: SQLite in a temporary folder, and PostgreSQL on a
 * throw-away server (tests/support/pg.sh), where two handles stand for two nodes: their events
 * make one report, a view played on both is one view, a login on one is valid on the other;
 * schemas are versioned (a newer one refused), a restart is survived, and the pg_dump holds no
 * token or session id. Without PostgreSQL installed this test fails and says so. */
#include "ck_analytics.h"
#include "ck_test.h"
#include "ck_test_db.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const popups[] = {"redditi-quattordicesima"};
static const char *const buttons[] = {"red-precompilato", "cedolino"};
static const ck_an_allowed allowed = {popups, 1, buttons, 2, 94.0};
static const char TOKEN_A[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAABtokenA";
static const char TOKEN_B[] = "AQ1yZWQtc29sbGVjaXRvBBBBBBBBBBBBBBBBBBBtokenB";

/* One backend under test. */
typedef struct backend {
    const char *name;
    bool pg;
    char dir[256]; /* the temporary folder (PostgreSQL: the server's) */
    char url[512]; /* PostgreSQL: the test database ciak_test */
} backend;

static ck_an_result post_to(ck_analytics *a, const char *campaign, const char *token,
                            const char *body, int32_t day)
{
    return ck_analytics_ingest(a, campaign, token, strlen(token), body, strlen(body), &allowed, day,
                               1000.0);
}

static ck_an_result post(ck_analytics *a, const char *token, const char *body, int32_t day)
{
    return post_to(a, "red-sollecito", token, body, day);
}

/* Where a test keeps its analytics: its own SQLite file, or a database of the PostgreSQL
 * server (`name` NULL: ciak_test, the one the final pg_dump reads). */
static void place(const backend *b, const char *name, char *out, size_t size)
{
    if (b->pg && !name)
        snprintf(out, size, "%s", b->url);
    else
        ck_test_db_place(b->pg, b->dir, b->url, name ? name : "analytics", out, size);
}

static bool raw_sql(const backend *b, const char *where, const char *sql)
{
    return ck_test_sql(b->pg, where, sql);
}

static char *stored_bytes(const backend *b, const char *where, size_t *len)
{
    return ck_test_stored(b->pg, b->dir, where, len);
}

#define stored_has ck_test_stored_has
#define sh         ck_test_sh

static void test_ingest(const backend *b, const char *where)
{
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(where, &(ck_analytics_params){.rate_events = 40}, &err);
    CK_CHECK(a != NULL);
    if (!a)
        return;
    const int32_t day = ck_days_from_civil(2026, 11, 20);
    CK_CHECK(post(a, TOKEN_A,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"startup\",\"value\":850},"
                  "{\"type\":\"watched\",\"ranges\":[[0,30.5]]},"
                  "{\"type\":\"watched\",\"ranges\":[[20,50]]},"
                  "{\"type\":\"popup\",\"id\":\"redditi-quattordicesima\"},"
                  "{\"type\":\"button\",\"id\":\"red-precompilato\"},"
                  "{\"type\":\"rating\",\"value\":5},{\"type\":\"captions\",\"value\":0}]}",
                  day) == CK_AN_STORED);
    CK_CHECK(ck_analytics_event_count(a) == 6); /* + one view: watched time is not an event */

    /* Rejected whole: nothing of the batch is stored. */
    static const char *const bad[] = {
        "",
        "not json",
        "{\"events\":[]}",
        "{\"events\":{}}",
        "[{\"type\":\"play\"}]",
        "{\"events\":[{\"type\":\"play\"}],\"token\":\"x\"}",
        "{\"events\":[{\"type\":\"play\"},{\"type\":\"hack\"}]}",
        "{\"events\":[{\"type\":\"play\",\"ua\":\"Mozilla\"}]}",
        "{\"events\":[{\"type\":\"rating\",\"value\":6}]}",
        "{\"events\":[{\"type\":\"rating\",\"value\":\"5\"}]}",
        "{\"events\":[{\"type\":\"progress\",\"value\":100}]}", /* positions say nothing */
        "{\"events\":[{\"type\":\"watched\"}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,10]],\"value\":100}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,10]],\"value\":0}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,10]],\"id\":\"x\"}]}",
        "{\"events\":[{\"type\":\"play\",\"ranges\":[[0,10]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":{\"0\":10}}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[0,10]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,10,20]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[\"0\",\"10\"]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,null]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[-1,10]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[10,10]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[10,5]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,95.5]]}]}", /* past 94 s + 1 */
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,1e300]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,1e999]]}]}",
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[20,30],[0,10]]}]}", /* unsorted */
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,30],[20,40]]}]}", /* overlap */
        "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,1],[2,3],[4,5],[6,7],[8,9],"
        "[10,11],[12,13],[14,15],[16,17],[18,19],[20,21],[22,23],[24,25],[26,27],[28,29],"
        "[30,31],[32,33]]}]}", /* 17 ranges */
        "{\"events\":[{\"type\":\"play\"},{\"type\":\"watched\",\"ranges\":[[0,99]]}]}",
        "{\"events\":[{\"type\":\"startup\",\"value\":-1}]}",
        "{\"events\":[{\"type\":\"startup\"}]}",
        "{\"events\":[{\"type\":\"popup\",\"id\":\"redditi-integrazione-minimo\"}]}",
        "{\"events\":[{\"type\":\"popup\"}]}",
        "{\"events\":[{\"type\":\"button\",\"id\":\"https://evil.example\"}]}",
        "{\"events\":[{\"type\":\"play\",\"id\":\"x\"}]}",
        "{\"events\":[{\"type\":\"error\",\"id\":\"Maria Rossi\"}]}",
        "{\"events\":[{\"type\":\"play\"},{\"type\":\"play\"}],\"events\":[]}",
    };
    for (size_t i = 0; i < CK_ARRAY_LEN(bad); i++) {
        ck_an_result r = post(a, TOKEN_A, bad[i], day);
        if (r != CK_AN_BAD)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CK_CHECK(r == CK_AN_BAD);
    }
    CK_CHECK(ck_analytics_event_count(a) == 6);

    /* Oversized: body over the limit, or too many events. */
    char *big = malloc(CK_AN_MAX_BODY + 64);
    snprintf(big, CK_AN_MAX_BODY + 64, "{\"events\":[{\"type\":\"play\"}%*s]}", CK_AN_MAX_BODY, "");
    CK_CHECK(post(a, TOKEN_A, big, day) == CK_AN_TOO_LARGE);
    free(big);
    char many[2048] = "{\"events\":[";
    for (int i = 0; i < CK_AN_MAX_BATCH + 1; i++)
        strcat(many, i ? ",{\"type\":\"play\"}" : "{\"type\":\"play\"}");
    strcat(many, "]}");
    CK_CHECK(post(a, TOKEN_A, many, day) == CK_AN_TOO_LARGE);
    CK_CHECK(ck_analytics_event_count(a) == 6);

    /* A second viewer, and the first one again on the next day (a new salt). */
    CK_CHECK(post(a, TOKEN_B,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"startup\",\"value\":1500},"
                  "{\"type\":\"watched\",\"ranges\":[[0,10],[10,47.2]]},"
                  "{\"type\":\"watched\",\"ranges\":[[40.1,93.9]]},"
                  "{\"type\":\"rating\",\"value\":4},{\"type\":\"button\",\"id\":\"cedolino\"}]}",
                  day) == CK_AN_STORED);

    /* Rate limit: 40 events per window for one viewer (TOKEN_B has sent 6). */
    char thirty[2048] = "{\"events\":[";
    for (int i = 0; i < 32; i++)
        strcat(thirty, i ? ",{\"type\":\"guide\"}" : "{\"type\":\"guide\"}");
    strcat(thirty, "]}");
    CK_CHECK(post(a, TOKEN_B, thirty, day) == CK_AN_STORED); /* 38 */
    int64_t before = ck_analytics_event_count(a);
    CK_CHECK(post(a, TOKEN_B,
                  "{\"events\":[{\"type\":\"guide\"},{\"type\":\"guide\"},"
                  "{\"type\":\"guide\"}]}",
                  day) == CK_AN_LIMITED); /* 41 > 40: refused whole */
    CK_CHECK(ck_analytics_event_count(a) == before);
    CK_CHECK(post(a, TOKEN_A, "{\"events\":[{\"type\":\"guide\"}]}", day) == CK_AN_STORED);

    CK_CHECK(post(a, TOKEN_A,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"startup\",\"value\":"
                  "500},{\"type\":\"error\",\"id\":\"network\"}]}",
                  day + 1) == CK_AN_STORED);

    /* Report. */
    ck_an_report rep = {.links = 20};
    CK_CHECK(ck_analytics_report(a, "red-sollecito", day - 6, day + 1, &rep, &err) == CK_OK);
    CK_CHECK(rep.links == 20);
    CK_CHECK(rep.viewers == 3); /* A and B on day, A again on day + 1 (a new key) */
    CK_CHECK(rep.funnel[0] == 2 && rep.funnel[1] == 2 && rep.funnel[2] == 1 && rep.funnel[3] == 1);
    CK_CHECK(rep.ratings[4] == 1 && rep.ratings[3] == 1);
    CK_CHECK_NEAR(rep.rating_avg, 4.5, 1e-9);
    CK_CHECK(rep.popup_count == 1 && rep.popups[0].count == 1 &&
             strcmp(rep.popups[0].id, "redditi-quattordicesima") == 0);
    CK_CHECK(rep.button_count == 2);
    CK_CHECK(rep.startup_count == 3);
    CK_CHECK_NEAR(rep.startup_p50_ms, 850, 1e-9);
    CK_CHECK_NEAR(rep.startup_p90_ms, 1500, 1e-9);
    CK_CHECK(rep.errors == 1 && rep.caption_off == 1 && rep.guides == 33);
    CK_CHECK(rep.day_count == 8 && rep.days[6].viewers == 2 && rep.days[6].completions == 1 &&
             rep.days[7].viewers == 1);
    CK_CHECK(rep.plays == 3 && rep.days[6].plays == 2 && rep.days[7].plays == 1);

    char **camps = NULL;
    int nc = 0;
    CK_CHECK(ck_analytics_campaigns(a, &camps, &nc, &err) == CK_OK && nc == 1 &&
             strcmp(camps[0], "red-sollecito") == 0);
    ck_analytics_free_list(camps, nc);

    char *csv = ck_analytics_csv(a, NULL, &err);
    CK_CHECK(csv && strncmp(csv, "campaign,day,type,item,events,viewers,value_sum\n", 48) == 0);
    CK_CHECK(csv && strstr(csv, "red-sollecito,2026-11-20,popup,redditi-quattordicesima,1,1,0"));
    /* Watched time: A played 0-50 s (twice reported, overlapping), B all but 0.1 s. */
    CK_CHECK(csv && strstr(csv, "red-sollecito,2026-11-20,watched,50,1,1,50\n"));
    CK_CHECK(csv && strstr(csv, "red-sollecito,2026-11-20,watched,100,1,1,93\n"));
    free(csv);

    char *html = ck_dashboard_html(&rep, NULL, 1, 0);
    CK_CHECK(html && strstr(html, "<svg class=\"chart\"") && strstr(html, "lang=\"it\""));
    CK_CHECK(html && strstr(html, "id=\"rating\">4,5<"));
    /* No names given: the ids, as they are. */
    CK_CHECK(html && strstr(html, "<tr id=\"popup-redditi-quattordicesima\"><td>"
                                  "redditi-quattordicesima</td>"));
    free(html);
    html = ck_dashboard_login_html(true);
    CK_CHECK(html && strstr(html, "type=\"password\"") && strstr(html, "role=\"alert\""));
    free(html);

    ck_analytics_close(&a);
    CK_CHECK(a == NULL);
    /* The database never holds a token. */
    size_t len = 0;
    char *bytes = stored_bytes(b, where, &len);
    CK_CHECK(stored_has(bytes, len, "red-sollecito")); /* the check can see what is stored */
    CK_CHECK(!stored_has(bytes, len, "token") && !stored_has(bytes, len, TOKEN_A) &&
             !stored_has(bytes, len, TOKEN_B));
    free(bytes);
}

/* The number after `key` in `html` (Italian thousands dots skipped), or -1. */
static long html_num(const char *html, const char *key)
{
    const char *p = html ? strstr(html, key) : NULL;
    if (!p)
        return -1;
    long v = 0;
    for (p += strlen(key); (*p >= '0' && *p <= '9') || *p == '.'; p++)
        if (*p != '.')
            v = v * 10 + (*p - '0');
    return v;
}

/* Watched time counts ranges played, not positions reached; one rating per link and day, the
 * later one; the headline figures are the sums of the daily rows. */
static void test_watched(const char *where)
{
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(where, NULL, &err);
    CK_CHECK(a != NULL);
    if (!a)
        return;
    const int32_t day = ck_days_from_civil(2026, 12, 6);
    static const char T1[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAAAseek01";
    static const char T2[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAAArepeat";
    static const char T3[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAAAreload";
    static const char T4[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAAAseeker";

    /* T1 presses play and seeks to the end: 2 s at the start, the last 2 s. Nothing reached. */
    CK_CHECK(post(a, T1,
                  "{\"events\":[{\"type\":\"play\"},"
                  "{\"type\":\"watched\",\"ranges\":[[0,2],[92,94]]}]}",
                  day) == CK_AN_STORED);
    /* A range into the slack past the end is accepted and clipped. */
    CK_CHECK(post(a, T1, "{\"events\":[{\"type\":\"watched\",\"ranges\":[[93,94.8]]}]}", day) ==
             CK_AN_STORED);
    ck_an_report rep = {0};
    CK_CHECK(ck_analytics_report(a, "red-sollecito", day, day, &rep, &err) == CK_OK);
    CK_CHECK(rep.viewers == 1 && rep.plays == 1);
    CK_CHECK(rep.funnel[0] == 0 && rep.funnel[3] == 0 && rep.days[0].completions == 0);

    /* T2 reports the same 30 s three times (as a player re-sending video.played would): 32 %,
     * not 96 %. */
    for (int i = 0; i < 3; i++)
        CK_CHECK(post(a, T2, "{\"events\":[{\"type\":\"watched\",\"ranges\":[[0,30]]}]}", day) ==
                 CK_AN_STORED);
    /* T3 watches the first half, reloads the page and watches the rest: one complete view. */
    CK_CHECK(post(a, T3,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"watched\",\"ranges\":[[0,50]]}]}",
                  day) == CK_AN_STORED);
    CK_CHECK(post(a, T3,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"watched\",\"ranges\":[[45,94]]}]}",
                  day) == CK_AN_STORED);
    /* T3 plays it all again the same day: still one complete view (the table used to count
     * each time the end was reached, the headline each viewer: 4 against 3). */
    CK_CHECK(post(a, T3,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"watched\",\"ranges\":[[0,94]]}]}",
                  day) == CK_AN_STORED);
    /* T4 seeks more than a view keeps (5 x 16 one-second ranges, 80 > 64): bounded, and never
     * more than was played (80 s played at most, 64 kept: 75 % not reached). */
    for (int b = 0; b < 5; b++) {
        char body[1024];
        int k = snprintf(body, sizeof body, "{\"events\":[{\"type\":\"watched\",\"ranges\":[");
        for (int i = 0; i < 16; i++) {
            double s = (b * 16 + i) * 1.1;
            k += snprintf(body + k, sizeof body - (size_t)k, "%s[%.1f,%.1f]", i ? "," : "", s,
                          s + 1.0);
        }
        snprintf(body + k, sizeof body - (size_t)k, "]}]}");
        CK_CHECK(post(a, T4, body, day) == CK_AN_STORED);
    }
    CK_CHECK(ck_analytics_report(a, "red-sollecito", day, day, &rep, &err) == CK_OK);
    CK_CHECK(rep.viewers == 4 && rep.plays == 4);
    CK_CHECK(rep.funnel[0] == 3 && rep.funnel[1] == 2 && rep.funnel[2] == 1 && rep.funnel[3] == 1);

    /* Ratings: T2 rates 2 then 5 (a reload), T3 3 then 4 in one batch; T2 again the next day
     * (a new day's key: counted). */
    CK_CHECK(post(a, T2, "{\"events\":[{\"type\":\"rating\",\"value\":2}]}", day) == CK_AN_STORED);
    CK_CHECK(post(a, T2, "{\"events\":[{\"type\":\"rating\",\"value\":5}]}", day) == CK_AN_STORED);
    CK_CHECK(post(a, T3,
                  "{\"events\":[{\"type\":\"rating\",\"value\":3},"
                  "{\"type\":\"rating\",\"value\":4}]}",
                  day) == CK_AN_STORED);
    CK_CHECK(post(a, T2, "{\"events\":[{\"type\":\"rating\",\"value\":1}]}", day + 1) ==
             CK_AN_STORED);
    CK_CHECK(ck_analytics_report(a, "red-sollecito", day, day, &rep, &err) == CK_OK);
    CK_CHECK(rep.ratings[0] == 0 && rep.ratings[1] == 0 && rep.ratings[2] == 0 &&
             rep.ratings[3] == 1 && rep.ratings[4] == 1);
    CK_CHECK_NEAR(rep.rating_avg, 4.5, 1e-9);
    CK_CHECK(ck_analytics_report(a, "red-sollecito", day - 2, day + 1, &rep, &err) == CK_OK);
    CK_CHECK(rep.ratings[0] == 1 && rep.ratings[3] == 1 && rep.ratings[4] == 1);

    /* The headline is the sum of the daily table, in the report and on the page. */
    int64_t v = 0, p = 0, c = 0;
    for (int i = 0; i < rep.day_count; i++) {
        v += rep.days[i].viewers;
        p += rep.days[i].plays;
        c += rep.days[i].completions;
        CK_CHECK(rep.days[i].completions <= rep.days[i].viewers);
    }
    CK_CHECK(rep.viewers == v && rep.plays == p && rep.funnel[3] == c);
    CK_CHECK(rep.viewers == 5 && rep.funnel[3] == 1); /* T2 on day + 1 is a viewer there */
    char *html = ck_dashboard_html(&rep, NULL, 1, 0);
    CK_CHECK(html_num(html, "id=\"complete\">") == 1 &&
             html_num(html, "id=\"daily-complete\">") == 1);
    CK_CHECK(html_num(html, "id=\"funnel-100\">") == 1 && html_num(html, "id=\"viewers\">") == 5);
    free(html);
    ck_analytics_close(&a);
}

/* The dashboard calls campaigns, pop-ups and services by the titles the caller passes; the
 * chart draws complete views over, and inside, the viewers' bars. */
static void test_dashboard_names(void)
{
    ck_an_report r[2] = {{.campaign = "red-sollecito",
                          .links = 10,
                          .viewers = 3,
                          .plays = 4,
                          .funnel = {3, 2, 1, 1},
                          .popup_count = 1,
                          .button_count = 2,
                          .day_count = 2},
                         {.campaign = "naspi-accolta"}};
    snprintf(r[0].popups[0].id, sizeof r[0].popups[0].id, "redditi-quattordicesima");
    r[0].popups[0].count = 2;
    snprintf(r[0].buttons[0].id, sizeof r[0].buttons[0].id, "red-precompilato");
    r[0].buttons[0].count = 1;
    snprintf(r[0].buttons[1].id, sizeof r[0].buttons[1].id, "contact-center");
    r[0].buttons[1].count = 1;
    r[0].ratings[4] = 1;
    r[0].rating_avg = 5;
    r[0].startup_count = 1;
    r[0].days[0] = (ck_an_day){100, 1, 1, 0};
    r[0].days[1] = (ck_an_day){101, 2, 3, 1};
    static const ck_an_label cues[] = {
        {"redditi-quattordicesima", "Quattordicesima: quali redditi dichiarare"},
        {"red-precompilato", "RED <precompilato> & co"},
    };
    const ck_an_names names[2] = {{"Dichiarazione RED: il promemoria per lei", cues, 2},
                                  {NULL, NULL, 0}};
    char *html = ck_dashboard_html(r, names, 2, 0);
    CK_CHECK(html != NULL);
    if (!html)
        return;
    CK_CHECK(strstr(html, "<h2>Campagna «Dichiarazione RED: il promemoria per lei»</h2>"));
    CK_CHECK(strstr(html, "aria-current=\"page\">Dichiarazione RED: il promemoria per lei</a>"));
    CK_CHECK(strstr(html, "?c=naspi-accolta\">naspi-accolta</a>")); /* no title: the id */
    CK_CHECK(strstr(html, "<tr id=\"popup-redditi-quattordicesima\"><td>Quattordicesima: quali "
                          "redditi dichiarare</td><td class=\"num\">2</td>"));
    CK_CHECK(strstr(html, "<tr id=\"service-red-precompilato\"><td>RED &lt;precompilato&gt; "
                          "&amp; co</td>"));
    CK_CHECK(strstr(html, "<tr id=\"service-contact-center\"><td>contact-center</td>"));
    CK_CHECK(!strstr(html, "<code>redditi-quattordicesima"));
    CK_CHECK(strstr(html, "«Quanto Le è stata utile questa video-guida?»"));
    CK_CHECK(!strstr(html, "Quanto ti "));
    CK_CHECK(strstr(html, "su 5, 1 valutazione<") && strstr(html, "mediana, 1 misura<"));
    /* Day 101: the complete bar comes after (over) the viewers bar and is no taller. */
    const char *last = NULL;
    for (const char *q = html; (q = strstr(q, "<rect class=\"viewers\"")) != NULL; q++)
        last = q;
    const char *done = strstr(html, "<rect class=\"complete\"");
    CK_CHECK(last && done && done > last && !strstr(done + 1, "<rect class=\"complete\""));
    double hv = 0, hc = 0;
    CK_CHECK(last && sscanf(strstr(last, "height=\""), "height=\"%lf", &hv) == 1);
    CK_CHECK(done && sscanf(strstr(done, "height=\""), "height=\"%lf", &hc) == 1);
    CK_CHECK(hc > 0 && hc <= hv);
    CK_CHECK(!strstr(html, "polyline"));
    free(html);
}

static void test_admin(const char *dir)
{
    char path[1024], line[256], hex[65];
    const char secret[] = "un-token-lungo-e-casuale-per-i-test";
    uint8_t h[32];
    CK_CHECK(sodium_init() >= 0);
    crypto_hash_sha256(h, (const uint8_t *)secret, strlen(secret));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(path, sizeof path, "%s/admin", dir);
    snprintf(line, sizeof line, "token-sha256 %s\n", hex);
    FILE *f = fopen(path, "w");
    fputs(line, f);
    fclose(f);
    ck_error err = {0};
    chmod(path, 0644);
    ck_admin *ad = ck_admin_create(path, &err);
    CK_CHECK(ad == NULL && err.status == CK_ERR_INVALID); /* readable by others: refused */
    chmod(path, 0600);
    ad = ck_admin_create(path, &err);
    CK_CHECK(ad != NULL);
    if (!ad)
        return;
    CK_CHECK(ck_admin_check(ad, secret, strlen(secret)));
    CK_CHECK(!ck_admin_check(ad, "sbagliato-sbagliato-sbagliato", 28));
    CK_CHECK(!ck_admin_check(ad, "", 0));
    char sid[65], cookie[128];
    ck_admin_session_new(ad, 100.0, sid);
    CK_CHECK(strlen(sid) == 64);
    snprintf(cookie, sizeof cookie, "lang=it; ck_admin=%s", sid);
    CK_CHECK(ck_admin_session_ok(ad, cookie, 200.0));
    CK_CHECK(!ck_admin_session_ok(ad, cookie, 100.0 + 9 * 3600)); /* expired */
    CK_CHECK(!ck_admin_session_ok(ad, "ck_admin=00", 200.0));
    CK_CHECK(!ck_admin_session_ok(ad, NULL, 200.0));
    ck_admin_session_end(ad, cookie);
    CK_CHECK(!ck_admin_session_ok(ad, cookie, 200.0));
    ck_admin_destroy(&ad);

    /* A password line made by ck_admin_hash_password. */
    char pw[256];
    CK_CHECK(ck_admin_hash_password("corta", pw, sizeof pw, &err) != CK_OK);
    CK_CHECK(ck_admin_hash_password("una password abbastanza lunga", pw, sizeof pw, &err) == CK_OK);
    f = fopen(path, "w");
    fputs(pw, f);
    fclose(f);
    ad = ck_admin_create(path, &err);
    CK_CHECK(ad != NULL);
    CK_CHECK(ck_admin_check(ad, "una password abbastanza lunga", 29));
    CK_CHECK(!ck_admin_check(ad, "una password abbastanza lungA", 29));
    ck_admin_destroy(&ad);
    f = fopen(path, "w");
    fputs("password hunter2\n", f);
    fclose(f);
    CK_CHECK(ck_admin_create(path, &err) == NULL && err.status == CK_ERR_PARSE);
}

/* ck_admin_save and ck_admin_open_at on one node: the file, mode 0600. */
static void test_admin_file(const char *dir)
{
    char line[256], path[600];
    ck_error err = {0};
    CK_CHECK(ck_admin_hash_password("una password per il nodo", line, sizeof line, &err) == CK_OK);
    CK_CHECK(ck_admin_save(dir, NULL, line, &err) == CK_OK);
    snprintf(path, sizeof path, "%s/admin", dir);
    struct stat sb;
    CK_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    ck_admin *ad = ck_admin_open_at(dir, NULL, &err);
    CK_CHECK(ad && ck_admin_check(ad, "una password per il nodo", 24));
    ck_admin_destroy(&ad);
    /* A SQLite path as `db` names the people store: the admin stays in the folder. */
    ad = ck_admin_open_at(dir, "/nowhere/ciak.db", &err);
    CK_CHECK(ad != NULL);
    ck_admin_destroy(&ad);
}

/* Two nodes (two handles on one database): one link's events through both make one viewer
 * and one view (the day's salt is shared, the view's ranges unite), the later rating counts
 * whichever node took it, and either node reports all of it. */
static void test_nodes(const char *where)
{
    ck_error err = {0};
    ck_analytics *n1 = ck_analytics_open(where, NULL, &err);
    ck_analytics *n2 = ck_analytics_open(where, NULL, &err);
    CK_CHECK(n1 && n2);
    if (!n1 || !n2) {
        ck_analytics_close(&n1);
        ck_analytics_close(&n2);
        return;
    }
    const int32_t day = ck_days_from_civil(2026, 12, 1);
    static const char T1[] = "AQ1uYXNwaS1hY2NvbHRhAAAAAAAAAAAAAAAAAAAnode01";
    static const char T2[] = "AQ1uYXNwaS1hY2NvbHRhAAAAAAAAAAAAAAAAAAAnode02";
    const char *c = "naspi-accolta";
    CK_CHECK(
        post_to(n1, c, T1,
                "{\"events\":[{\"type\":\"play\"},{\"type\":\"watched\",\"ranges\":[[0,50]]}]}",
                day) == CK_AN_STORED);
    CK_CHECK(post_to(n2, c, T1,
                     "{\"events\":[{\"type\":\"watched\",\"ranges\":[[45,94]]},"
                     "{\"type\":\"rating\",\"value\":2}]}",
                     day) == CK_AN_STORED);
    CK_CHECK(post_to(n1, c, T1, "{\"events\":[{\"type\":\"rating\",\"value\":5}]}", day) ==
             CK_AN_STORED);
    CK_CHECK(post_to(n2, c, T2, "{\"events\":[{\"type\":\"play\"}]}", day) == CK_AN_STORED);
    ck_an_report r1 = {0}, r2 = {0};
    CK_CHECK(ck_analytics_report(n1, c, day, day, &r1, &err) == CK_OK);
    CK_CHECK(ck_analytics_report(n2, c, day, day, &r2, &err) == CK_OK);
    CK_CHECK(r1.viewers == 2 && r1.plays == 2);
    CK_CHECK(r1.funnel[0] == 1 && r1.funnel[3] == 1); /* 0-50 on one node, 45-94 on the other */
    CK_CHECK(r1.ratings[4] == 1 && r1.ratings[1] == 0);
    CK_CHECK(r2.viewers == r1.viewers && r2.plays == r1.plays && r2.funnel[3] == r1.funnel[3] &&
             r2.ratings[4] == 1);
    char *csv = ck_analytics_csv(n2, c, &err);
    CK_CHECK(csv && strstr(csv, "naspi-accolta,2026-12-01,watched,100,1,1,94\n") &&
             strstr(csv, "naspi-accolta,2026-12-01,play,,2,2,0\n") &&
             !strstr(csv, "red-sollecito"));
    free(csv);
    ck_analytics_close(&n1);
    ck_analytics_close(&n2);
}

/* Nodes adding to one view at the same moment: each its own handle, interleaved slices of the
 * video; the view must hold all of them (a read-modify-write without a row lock loses some). */
#define RACERS 4
#define SLICES 64
typedef struct racer {
    const char *where;
    int index;
    int stored;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(r->where, NULL, &err);
    for (int s = r->index; a && s < SLICES; s += RACERS) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"events\":[{\"type\":\"watched\",\"ranges\":[[%.4f,%.4f]]}]}",
                 94.0 * s / SLICES, 94.0 * (s + 1) / SLICES);
        r->stored +=
            post_to(a, "race", TOKEN_A, body, ck_days_from_civil(2026, 12, 2)) == CK_AN_STORED;
    }
    ck_analytics_close(&a);
    return NULL;
}

static void test_concurrent_view(const char *where)
{
    racer r[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer){.where = where, .index = i};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    int stored = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(t[i], NULL);
        stored += r[i].stored;
    }
    CK_CHECK(stored == SLICES);
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(where, NULL, &err);
    ck_an_report rep = {0};
    int32_t day = ck_days_from_civil(2026, 12, 2);
    CK_CHECK(a && ck_analytics_report(a, "race", day, day, &rep, &err) == CK_OK);
    CK_CHECK(rep.viewers == 1 && rep.funnel[3] == 1);
    ck_analytics_close(&a);
}

/* A node that finds a newer schema than it knows refuses to start, naming both versions. */
static void test_newer_schema(const backend *b, const char *where)
{
    CK_CHECK(raw_sql(b, where, "UPDATE ciak_schema SET version = 7 WHERE part = 'analytics'"));
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(where, NULL, &err);
    CK_CHECK(a == NULL && err.status == CK_ERR_UNSUPPORTED);
    CK_CHECK(strstr(err.msg, "analytics schema is version 7") &&
             strstr(err.msg, "the version 1 this ciak knows"));
    CK_CHECK(raw_sql(b, where, "UPDATE ciak_schema SET version = 1 WHERE part = 'analytics'"));
    a = ck_analytics_open(where, NULL, &err);
    CK_CHECK(a != NULL);
    ck_analytics_close(&a);
}

/* A SQLite file from before versioning (and before ratings were a unique index, holding two
 * ratings of one view) is adopted: its rows are kept, the later rating stays. */
static void test_sqlite_legacy(const backend *b)
{
    char where[600];
    place(b, "legacy", where, sizeof where);
    CK_CHECK(raw_sql(
        b, where,
        "CREATE TABLE events(campaign TEXT NOT NULL, day INTEGER NOT NULL, type TEXT NOT NULL,"
        " item TEXT NOT NULL DEFAULT '', value INTEGER NOT NULL DEFAULT 0, viewer BLOB NOT NULL);"
        "CREATE TABLE views(campaign TEXT NOT NULL, day INTEGER NOT NULL, viewer BLOB NOT NULL,"
        " duration_ms INTEGER NOT NULL, watched_ms INTEGER NOT NULL, ranges BLOB NOT NULL,"
        " PRIMARY KEY(campaign, day, viewer));"
        "CREATE TABLE salt(day INTEGER PRIMARY KEY, bytes BLOB NOT NULL);"
        "INSERT INTO events VALUES('old', 10, 'play', '', 0, x'0102030405060708');"
        "INSERT INTO events VALUES('old', 10, 'rating', '', 2, x'0102030405060708');"
        "INSERT INTO events VALUES('old', 10, 'rating', '', 4, x'0102030405060708');"));
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(where, NULL, &err);
    ck_an_report rep = {0};
    CK_CHECK(a && ck_analytics_report(a, "old", 10, 10, &rep, &err) == CK_OK);
    CK_CHECK(rep.plays == 1 && rep.viewers == 1 && rep.ratings[3] == 1 && rep.ratings[1] == 0);
    ck_analytics_close(&a);
}

/* PostgreSQL stopped and started under open handles: batches fail as values (503) while it is
 * away, and are stored again afterwards without reopening; admin sessions too. */
static void test_pg_restart(const backend *b, ck_admin *ad, const char *sid_cookie)
{
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(b->url, NULL, &err);
    CK_CHECK(a != NULL);
    if (!a)
        return;
    const int32_t day = ck_days_from_civil(2026, 12, 3);
    const char *play = "{\"events\":[{\"type\":\"play\"}]}";
    CK_CHECK(post_to(a, "restart", TOKEN_A, play, day) == CK_AN_STORED);
    CK_CHECK(sh(PG_SH " down %s", b->dir) == 0);
    CK_CHECK(post_to(a, "restart", TOKEN_A, play, day) == CK_AN_FAILED);
    ck_an_report rep = {0};
    CK_CHECK(ck_analytics_report(a, "restart", day, day, &rep, &err) == CK_ERR_IO);
    CK_CHECK(!ck_admin_session_ok(ad, sid_cookie, 0));
    CK_CHECK(sh(PG_SH " up %s", b->dir) == 0);
    CK_CHECK(post_to(a, "restart", TOKEN_A, play, day) == CK_AN_STORED);
    CK_CHECK(ck_analytics_report(a, "restart", day, day, &rep, &err) == CK_OK && rep.plays == 2);
    CK_CHECK(ck_admin_session_ok(ad, sid_cookie, 0));
    ck_analytics_close(&a);
}

/* The fleet's admin: credential and sessions in PostgreSQL, so a login on one node is valid on
 * every node and a logout ends it everywhere. Then the restart test, the schema check and the
 * pg_dump: no token, no session id, no admin secret in clear. */
static void test_admin_pg(const backend *b)
{
    ck_error err = {0};
    const char *url = b->url;
    CK_CHECK(ck_admin_open_at(NULL, url, &err) == NULL && err.status == CK_ERR_NOT_FOUND);
    const char secret[] = "un-token-lungo-e-casuale-per-la-flotta";
    char line[256], hex[65], sids[4][65];
    uint8_t h[32];
    crypto_hash_sha256(h, (const uint8_t *)secret, strlen(secret));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(line, sizeof line, "token-sha256 %s\n", hex);
    CK_CHECK(ck_admin_save(NULL, url, line, &err) == CK_OK);
    ck_admin *n1 = ck_admin_open_at(NULL, url, &err), *n2 = ck_admin_open_at(NULL, url, &err);
    CK_CHECK(n1 && n2);
    if (!n1 || !n2) {
        ck_admin_destroy(&n1);
        ck_admin_destroy(&n2);
        return;
    }
    CK_CHECK(ck_admin_check(n2, secret, strlen(secret)) && !ck_admin_check(n2, "no", 2));
    char cookie[4][300];
    for (int i = 0; i < 4; i++) {
        /* The caller's clock means nothing to PostgreSQL sessions (each node has its own). */
        ck_admin_session_new(n1, 1e9 * i, sids[i]);
        snprintf(cookie[i], sizeof cookie[i], "lang=it; ck_admin=%s", sids[i]);
    }
    CK_CHECK(ck_admin_session_ok(n2, cookie[0], 0) && ck_admin_session_ok(n1, cookie[0], 5));
    CK_CHECK(!ck_admin_session_ok(n2, "ck_admin=00", 0) && !ck_admin_session_ok(n2, NULL, 0));
    ck_admin_session_end(n2, cookie[0]); /* a logout on one node */
    CK_CHECK(!ck_admin_session_ok(n1, cookie[0], 0) && ck_admin_session_ok(n1, cookie[1], 0));
    /* Eight hours later by the database's clock. */
    CK_CHECK(raw_sql(b, url, "UPDATE ciak_admin_sessions SET expires = now() - interval '1 s'"));
    CK_CHECK(!ck_admin_session_ok(n2, cookie[1], 0));
    ck_admin_session_new(n1, 0, sids[2]);
    snprintf(cookie[2], sizeof cookie[2], "ck_admin=%s", sids[2]);
    CK_CHECK(ck_admin_session_ok(n2, cookie[2], 0));
    test_pg_restart(b, n2, cookie[2]);

    /* A new password ends every session. */
    CK_CHECK(ck_admin_hash_password("una password nuova per tutti", line, sizeof line, &err) ==
             CK_OK);
    CK_CHECK(ck_admin_save(NULL, url, line, &err) == CK_OK);
    CK_CHECK(!ck_admin_session_ok(n2, cookie[2], 0));
    ck_admin_destroy(&n1);
    ck_admin_destroy(&n2);
    n1 = ck_admin_open_at(NULL, url, &err);
    CK_CHECK(n1 && ck_admin_check(n1, "una password nuova per tutti", 28));
    ck_admin_session_new(n1, 0, sids[3]);
    ck_admin_destroy(&n1);

    /* The admin tables are versioned too. */
    CK_CHECK(raw_sql(b, url, "UPDATE ciak_schema SET version = 9 WHERE part = 'admin'"));
    CK_CHECK(ck_admin_open_at(NULL, url, &err) == NULL && err.status == CK_ERR_UNSUPPORTED &&
             strstr(err.msg, "admin schema is version 9"));
    CK_CHECK(raw_sql(b, url, "UPDATE ciak_schema SET version = 1 WHERE part = 'admin'"));

    size_t len = 0;
    char *bytes = stored_bytes(b, url, &len);
    CK_CHECK(stored_has(bytes, len, "naspi-accolta") && stored_has(bytes, len, "ciak_admin"));
    CK_CHECK(!stored_has(bytes, len, TOKEN_A) && !stored_has(bytes, len, TOKEN_B) &&
             !stored_has(bytes, len, "node01") && !stored_has(bytes, len, secret));
    for (int i = 0; i < 4; i++)
        CK_CHECK(!stored_has(bytes, len, sids[i]));
    free(bytes);
}

static void run_all(const backend *b)
{
    int before = ck_test_failed;
    char main_db[600], other[600];
    place(b, NULL, main_db, sizeof main_db);
    test_ingest(b, main_db);
    place(b, "ck_watched", other, sizeof other);
    test_watched(other);
    test_nodes(main_db);
    test_concurrent_view(main_db);
    test_newer_schema(b, main_db);
    if (b->pg) {
        test_admin_pg(b);
        /* A server that is not there: an error, and no password echoed. */
        ck_error err = {0};
        CK_CHECK(ck_analytics_open("postgresql://ciak:s3cret@127.0.0.1:1/none", NULL, &err) ==
                 NULL);
        CK_CHECK(err.status == CK_ERR_IO && !strstr(err.msg, "s3cret") &&
                 !strstr(err.file, "s3cret"));
        /* --db wins over the data folder. */
        ck_analytics *a = ck_analytics_open_at("/nonexistent", b->url, NULL, &err);
        CK_CHECK(a && ck_analytics_event_count(a) > 0);
        ck_analytics_close(&a);
    } else {
        test_sqlite_legacy(b);
    }
    fprintf(stderr, "test_analytics: %s: %s\n", b->name,
            ck_test_failed == before ? "all passed" : "FAILED");
}

int main(void)
{
    backend lite = {.name = "sqlite"}, pg = {.name = "postgresql", .pg = true};
    snprintf(lite.dir, sizeof lite.dir, "/tmp/ck_analytics_XXXXXX");
    if (!mkdtemp(lite.dir))
        return 1;
    run_all(&lite);
    if (ck_test_pg_start(pg.dir, sizeof pg.dir, pg.url, sizeof pg.url))
        run_all(&pg);
    else
        CK_CHECK(!"PostgreSQL test server did not start (see pg.sh's message above)");
    if (pg.dir[0])
        sh(PG_SH " clean %s", pg.dir);
    test_dashboard_names();
    test_admin(lite.dir);
    test_admin_file(lite.dir);
    sh("rm -rf '%s'", lite.dir);
    return ck_test_done("test_analytics");
}
