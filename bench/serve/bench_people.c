/* bench_people.c: synthetic people for `ciak bench serve`, made from a campaign's samples.
 *
 * The benchmark needs many *different* people: two people whose segments draw the same
 * thing share one cached file, and a benchmark full of them would measure the cache, not
 * the renderer. So person n takes its text fields from different samples, in mixed radix
 * over the k samples (d0 = n mod k, d1 = n / k mod k): text field j comes from sample
 * (d0 + j * (d1 + 1)) mod k, while numbers, dates and short codes come whole from sample d0,
 * so that sums that must agree (amount - deductions = net) still agree. Every value was valid
 * in some sample, so the import's checks (types, fit) mostly pass; the import runs with
 * --skip-bad and the count that made it is what the benchmark uses.
 * Numbers alone would still repeat every k people, and the segments that show a payment
 * (a date next to amounts) would be shared by them, which real people rarely are: so every
 * date of person n moves forward by n / k days, all by the same amount (their order, e.g. a
 * decision before its first payment, is kept). */
#include "bench_serve.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Dates ("2025-01-15") and short codes ("F") travel with their sample: a date mixed in from
 * another sample could fall before the decision date. */
static bool mixable(const char *key, const json_t *v)
{
    if (!json_is_string(v) || strcmp(key, "id") == 0)
        return false;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    bool date = n == 10 && s[4] == '-' && s[7] == '-';
    return !date && n > 2;
}

/* "YYYY-MM-DD" plus `days`, into out; false when s is not such a date. */
static bool date_plus(const char *s, int days, char out[32])
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + days, .tm_hour = 12};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || !gmtime_r(&t, &tm))
        return false;
    snprintf(out, 32, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return true;
}

bool bench_people_write(const char *samples_path, int n, const char *out_path)
{
    json_error_t je;
    json_t *samples = json_load_file(samples_path, 0, &je);
    if (!samples || !json_is_array(samples) || json_array_size(samples) == 0) {
        fprintf(stderr, "ciak bench: %s:%d:%d: needs a JSON array of sample records\n",
                samples_path, je.line, je.column);
        json_decref(samples);
        return false;
    }
    int k = (int)json_array_size(samples);
    json_t *out = json_array();
    for (int p = 0; p < n; p++) {
        int d0 = p % k, d1 = (p / k) % k;
        json_t *rec = json_deep_copy(json_array_get(samples, (size_t)d0));
        if (!json_is_object(rec)) {
            json_decref(rec);
            continue;
        }
        const char *key;
        json_t *val;
        int j = 0;
        json_object_foreach(rec, key, val)
        {
            char moved[32];
            if (json_is_string(val) && date_plus(json_string_value(val), p / k, moved)) {
                json_object_set_new(rec, key, json_string(moved));
                continue;
            }
            if (!mixable(key, val))
                continue;
            /* j = 0 keeps d0's value; later fields step by d1 + 1, so the pair of the first
             * two text fields is unique for every p < k * k. */
            int src = (d0 + j * (d1 + 1)) % k;
            json_t *other = json_object_get(json_array_get(samples, (size_t)src), key);
            if (json_is_string(other))
                json_object_set(rec, key, other);
            j++;
        }
        char id[32];
        snprintf(id, sizeof id, "BENCH-%06d", p);
        json_object_set_new(rec, "id", json_string(id));
        json_array_append_new(out, rec);
    }
    bool ok = json_dump_file(out, out_path, JSON_INDENT(0)) == 0;
    if (!ok)
        fprintf(stderr, "ciak bench: cannot write %s\n", out_path);
    json_decref(out);
    json_decref(samples);
    return ok;
}
