/* test_analytics.c: events are validated whole (malformed, oversized, unknown type or id,
 * out-of-range values: nothing stored), rate-limited per viewer, counted by day with a salted
 * viewer key that changes with the day (the old salt deleted), never storing the token; the
 * report, CSV export and dashboard HTML agree; the admin credential and sessions. */
#include "ck_analytics.h"
#include "ck_test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const popups[] = {"redditi-quattordicesima"};
static const char *const buttons[] = {"red-precompilato", "cedolino"};
static const ck_an_allowed allowed = {popups, 1, buttons, 2};
static const char TOKEN_A[] = "AQ1yZWQtc29sbGVjaXRvAAAAAAAAAAAAAAAAAABtokenA";
static const char TOKEN_B[] = "AQ1yZWQtc29sbGVjaXRvBBBBBBBBBBBBBBBBBBBtokenB";

static ck_an_result post(ck_analytics *a, const char *token, const char *body, int32_t day)
{
    return ck_analytics_ingest(a, "red-sollecito", token, strlen(token), body, strlen(body),
                               &allowed, day, 1000.0);
}

static bool file_has(const char *path, const char *needle)
{
    char *buf = NULL;
    size_t len = 0;
    if (ck_read_file(path, 0, &buf, &len, NULL) != CK_OK)
        return false;
    bool found = false;
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= len && !found; i++)
        found = memcmp(buf + i, needle, k) == 0;
    free(buf);
    return found;
}

static void test_ingest(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/analytics.db", dir);
    ck_error err = {0};
    ck_analytics *a = ck_analytics_open(path, &(ck_analytics_params){.rate_events = 40}, &err);
    CK_CHECK(a != NULL);
    if (!a)
        return;
    const int32_t day = ck_days_from_civil(2026, 11, 20);
    CK_CHECK(post(a, TOKEN_A,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"startup\",\"value\":850},"
                  "{\"type\":\"progress\",\"value\":25},{\"type\":\"progress\",\"value\":50},"
                  "{\"type\":\"popup\",\"id\":\"redditi-quattordicesima\"},"
                  "{\"type\":\"button\",\"id\":\"red-precompilato\"},"
                  "{\"type\":\"rating\",\"value\":5},{\"type\":\"captions\",\"value\":0}]}",
                  day) == CK_AN_STORED);
    CK_CHECK(ck_analytics_event_count(a) == 8);

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
        "{\"events\":[{\"type\":\"progress\",\"value\":33}]}",
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
    CK_CHECK(ck_analytics_event_count(a) == 8);

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
    CK_CHECK(ck_analytics_event_count(a) == 8);

    /* A second viewer, and the first one again on the next day (a new salt). */
    CK_CHECK(post(a, TOKEN_B,
                  "{\"events\":[{\"type\":\"play\"},{\"type\":\"startup\",\"value\":1500},"
                  "{\"type\":\"progress\",\"value\":25},{\"type\":\"progress\",\"value\":50},"
                  "{\"type\":\"progress\",\"value\":75},{\"type\":\"progress\",\"value\":100},"
                  "{\"type\":\"rating\",\"value\":4},{\"type\":\"button\",\"id\":\"cedolino\"}]}",
                  day) == CK_AN_STORED);

    /* Rate limit: 40 events per window for one viewer (TOKEN_B has sent 8). */
    char thirty[2048] = "{\"events\":[";
    for (int i = 0; i < 30; i++)
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
    CK_CHECK(rep.errors == 1 && rep.caption_off == 1 && rep.guides == 31);
    CK_CHECK(rep.day_count == 8 && rep.days[6].viewers == 2 && rep.days[6].completions == 1 &&
             rep.days[7].viewers == 1);

    char **camps = NULL;
    int nc = 0;
    CK_CHECK(ck_analytics_campaigns(a, &camps, &nc, &err) == CK_OK && nc == 1 &&
             strcmp(camps[0], "red-sollecito") == 0);
    ck_analytics_free_list(camps, nc);

    char *csv = ck_analytics_csv(a, NULL, &err);
    CK_CHECK(csv && strncmp(csv, "campaign,day,type,item,events,viewers,value_sum\n", 48) == 0);
    CK_CHECK(csv && strstr(csv, "red-sollecito,2026-11-20,popup,redditi-quattordicesima,1,1,0"));
    free(csv);

    char *html = ck_dashboard_html(&rep, 1, 0);
    CK_CHECK(html && strstr(html, "<svg class=\"chart\"") && strstr(html, "lang=\"it\""));
    CK_CHECK(html && strstr(html, "id=\"rating\">4,5<"));
    free(html);
    html = ck_dashboard_login_html(true);
    CK_CHECK(html && strstr(html, "type=\"password\"") && strstr(html, "role=\"alert\""));
    free(html);

    ck_analytics_close(&a);
    CK_CHECK(a == NULL);
    /* The database never holds a token; one salt row at most. */
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CK_CHECK(!file_has(path, "token") && !file_has(path, TOKEN_A));
    CK_CHECK(!file_has(wal, TOKEN_A) && !file_has(wal, TOKEN_B));
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

int main(void)
{
    char dir[] = "/tmp/ck_analytics_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    test_ingest(dir);
    test_admin(dir);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return ck_test_done("test_analytics");
}
