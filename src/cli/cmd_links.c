/* cmd_links.c: `ciak links CAMPAIGN --base-url URL -o links.csv [--qr DIR]`: one signed link
 * per stored person (person id, URL, last day), and with --qr a PNG and an SVG QR code each,
 * named after the person id, for the letters. --expires re-issues links with another last
 * day (a date in the past makes links that answer 410); a later date also keeps the person's
 * data that long. Without --expires, people whose window has already closed are refused
 * (their links would be born expired). */
#include "ck_cli.h"
#include "ck_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct links_run {
    const ck_keyring *keys;
    const char *campaign, *base_url, *qr_dir;
    int32_t override; /* INT32_MIN: none */
    FILE *out;
    int64_t total, done;
    bool tty, failed;
    uint8_t (*extend)[CK_HANDLE_BYTES]; /* handles whose last day moves later */
    size_t extend_count;
} links_run;

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",;\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A file name from a person id: letters, digits, '-' and '_' kept, the rest '_'. */
static void file_name(char *out, size_t size, const char *id)
{
    size_t n = 0;
    for (; *id && n + 1 < size; id++) {
        char c = *id;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
}

static void progress(links_run *lr)
{
    if (!lr->tty || (lr->done % 50 != 0 && lr->done != lr->total))
        return;
    int width = 40, fill = lr->total ? (int)(width * lr->done / lr->total) : width;
    fprintf(stderr, "\r[%.*s%*s] %lld/%lld", fill, "########################################",
            width - fill, "", (long long)lr->done, (long long)lr->total);
    if (lr->done == lr->total)
        fputc('\n', stderr);
}

static bool each_person(void *user, const ck_person *p)
{
    links_run *lr = user;
    ck_token_claims c = {0};
    snprintf(c.campaign, sizeof c.campaign, "%s", lr->campaign);
    memcpy(c.handle, p->handle, CK_HANDLE_BYTES);
    c.expires = lr->override != INT32_MIN ? lr->override : p->expires;
    char token[CK_TOKEN_MAX], url[2048];
    if (!ck_token_sign(lr->keys, &c, token)) {
        lr->failed = true;
        return false;
    }
    snprintf(url, sizeof url, "%s/v/%s", lr->base_url, token);
    if (lr->override != INT32_MIN && lr->override > p->expires &&
        lr->extend_count < (size_t)lr->total)
        memcpy(lr->extend[lr->extend_count++], p->handle, CK_HANDLE_BYTES);
    csv_field(lr->out, p->person_id);
    int y = 9999, m = 12, d = 31;
    if (c.expires != INT32_MAX)
        ck_civil_from_days(c.expires, &y, &m, &d);
    fprintf(lr->out, ",%s,%04d-%02d-%02d\n", url, y, m, d);
    if (lr->qr_dir) {
        char name[200], png[1400], svg[1400];
        file_name(name, sizeof name, p->person_id);
        snprintf(png, sizeof png, "%s/%s.png", lr->qr_dir, name);
        snprintf(svg, sizeof svg, "%s/%s.svg", lr->qr_dir, name);
        ck_error err = {0};
        if (ck_qr_write(url, png, svg, NULL, NULL, &err) != CK_OK) {
            char buf[1400];
            fprintf(stderr, "ciak links: %s\n", ck_error_format(&err, buf, sizeof buf));
            lr->failed = true;
            return false;
        }
    }
    lr->done++;
    progress(lr);
    return true;
}

/* People whose last day is before today: their links would answer 410 from the start. */
static bool count_closed(void *user, const ck_person *p)
{
    int64_t *n = user;
    *n += p->expires < ck_today();
    return true;
}

typedef struct links_opts {
    const char *campaign, *base, *out, *qr;
    int32_t expires; /* INT32_MIN: each person's own last day */
    ck_cli_store store;
} links_opts;

static void links_init(void *opts)
{
    ((links_opts *)opts)->expires = INT32_MIN;
}

static const ck_opt links_table[] = {
    {.name = "CAMPAIGN",
     .help = "the campaign whose stored people get links",
     .parse = ck_opt_str,
     .offset = offsetof(links_opts, campaign)},
    {.name = "--base-url",
     .arg = "URL",
     .help = "the server's public address (https://...)",
     .parse = ck_opt_str,
     .offset = offsetof(links_opts, base),
     .flags = CK_OPT_REQUIRED},
    {.name = "--output",
     .arg = "links.csv",
     .help = "person id, link and last day, one line each",
     .parse = ck_opt_str,
     .offset = offsetof(links_opts, out),
     .flags = CK_OPT_REQUIRED,
     .alias = "-o"},
    {.name = "--qr",
     .arg = "DIR",
     .help = "a PNG and an SVG QR code per person, named after the person id",
     .parse = ck_opt_str,
     .offset = offsetof(links_opts, qr)},
    {.name = "--expires",
     .arg = "YYYY-MM-DD",
     .help =
         "the links' last day (default: each person's availability window; a later day also keeps "
         "the person's data that long)",
     .parse = ck_opt_date,
     .offset = offsetof(links_opts, expires)},
    {0},
};

static int cmd_links(const void *opts)
{
    const links_opts *o = opts;
    const char *campaign = o->campaign, *base = o->base, *out = o->out, *qr = o->qr;
    links_run lr = {.campaign = campaign, .override = INT32_MIN, .tty = isatty(2)};
    char base_buf[1024];
    snprintf(base_buf, sizeof base_buf, "%s", base);
    size_t bl = strlen(base_buf);
    while (bl > 0 && base_buf[bl - 1] == '/')
        base_buf[--bl] = '\0';
    if (strncmp(base_buf, "http://", 7) != 0 && strncmp(base_buf, "https://", 8) != 0) {
        fprintf(stderr, "ciak links: --base-url must start with https:// (or http://)\n");
        return CK_EXIT_USAGE;
    }
    lr.base_url = base_buf;
    lr.override = o->expires;
    ck_error mk = {0};
    if (qr && ck_mkdirs(qr, 0755, &mk) != CK_OK) {
        char mbuf[1400];
        fprintf(stderr, "ciak links: %s\n", ck_error_format(&mk, mbuf, sizeof mbuf));
        return CK_EXIT_PROBLEMS;
    }
    lr.qr_dir = qr;
    ck_keyring keys;
    ck_store *st = NULL;
    if (!ck_cli_open_store(&o->store, false, &keys, &st))
        return CK_EXIT_PROBLEMS;
    lr.keys = &keys;
    int rc = CK_EXIT_PROBLEMS;
    ck_error err = {0};
    char buf[1400];
    if (ck_store_count(st, campaign, &lr.total, &err) != CK_OK)
        goto store_error;
    if (lr.total == 0) {
        fprintf(stderr, "ciak links: nobody stored for campaign \"%s\" (run `ciak import`)\n",
                campaign);
        goto done;
    }
    /* Without --expires a link lasts as long as the person's availability window, which may
     * have closed already (the demo campaigns' sample dates are in the past): such links
     * would answer 410 from the start and the server's next purge deletes those people. */
    int64_t closed = 0;
    if (lr.override == INT32_MIN &&
        ck_store_each(st, campaign, count_closed, &closed, &err) != CK_OK)
        goto store_error;
    if (closed > 0) {
        fprintf(stderr,
                "ciak links: %lld of %lld person(s) of %s are past their availability window: "
                "their links would be born expired and the next purge would delete them. "
                "Nothing written; give the links a last day with --expires YYYY-MM-DD (a day "
                "after today; it also keeps their data that long)\n",
                (long long)closed, (long long)lr.total, campaign);
        goto done;
    }
    lr.extend = calloc((size_t)lr.total, sizeof *lr.extend);
    lr.out = fopen(out, "w");
    if (!lr.out || !lr.extend) {
        fprintf(stderr, "ciak links: cannot write %s: %s\n", out, strerror(errno));
        goto done;
    }
    fprintf(lr.out, "person_id,url,expires\n");
    if (ck_store_each(st, campaign, each_person, &lr, &err) != CK_OK)
        goto store_error;
    for (size_t i = 0; i < lr.extend_count; i++)
        if (ck_store_extend(st, campaign, lr.extend[i], lr.override, &err) != CK_OK)
            goto store_error;
    if (fclose(lr.out) != 0 || lr.failed) {
        lr.out = NULL;
        fprintf(stderr, "ciak links: failed to write every link\n");
        goto done;
    }
    lr.out = NULL;
    printf("%s: %lld link(s) for %s", out, (long long)lr.done, campaign);
    if (qr)
        printf(", QR codes (PNG + SVG) in %s/", qr);
    printf("\n");
    rc = CK_EXIT_OK;
    goto done;
store_error:
    fprintf(stderr, "ciak links: %s\n", ck_error_format(&err, buf, sizeof buf));
done:
    if (lr.out)
        fclose(lr.out);
    free(lr.extend);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    return rc;
}

const ck_cli_cmd ck_cli_cmd_links = {
    "links",
    "one signed link per stored person (CSV), and QR codes for the letters",
    {{links_table, 0}, {ck_cli_store_opts, offsetof(links_opts, store)}},
    sizeof(links_opts),
    links_init,
    cmd_links};
