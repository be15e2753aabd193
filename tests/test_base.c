/* test_base.c: engine/core (ck_base.h): the string builder and the player page's HTML
 * escaping, UTF-8, dates, path joins, hex digits, mkdir -p modes, whole-file reads and
 * atomic writes. */
#include "ck_base.h"
#include "ck_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[512];

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Files in `dir` whose name contains `part` (temporary files left behind). */
static int count_named(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_strbuf_growable(void)
{
    ck_strbuf b = {0};
    char *s = ck_strbuf_take(&b);
    CK_CHECK_STR(s, ""); /* nothing added: "" rather than NULL */
    free(s);

    ck_strbuf_puts(&b, "Gentile ");
    ck_strbuf_add(&b, "Maria Rossi", 5);
    ck_strbuf_printf(&b, ", %d %s", 3, "rate");
    CK_CHECK_STR(b.s, "Gentile Maria, 3 rate");
    CK_CHECK(b.len == strlen("Gentile Maria, 3 rate"));

    /* Growth past the first block keeps every byte. */
    ck_strbuf_clear(&b);
    CK_CHECK(b.len == 0 && b.s && b.s[0] == 0);
    for (int i = 0; i < 1000; i++)
        ck_strbuf_printf(&b, "%03d,", i);
    CK_CHECK(b.len == 4000 && !b.failed);
    CK_CHECK(memcmp(b.s, "000,001,", 8) == 0 && memcmp(b.s + 3996, "999,", 4) == 0);
    char big[700];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ck_strbuf_printf(&b, "%s", big); /* one printf larger than the block it grows from */
    CK_CHECK(b.len == 4000 + 699 && b.s[b.len] == 0);

    s = ck_strbuf_take(&b);
    CK_CHECK(s && strlen(s) == 4699);
    CK_CHECK(b.s == NULL && b.len == 0 && b.cap == 0); /* reset for reuse */
    free(s);
    ck_strbuf_free(&b); /* twice is harmless */
    ck_strbuf_free(&b);
}

static void test_strbuf_fixed(void)
{
    char buf[8];
    ck_strbuf b;
    ck_strbuf_init_fixed(&b, buf, sizeof buf);
    CK_CHECK(b.s == buf && buf[0] == 0);
    ck_strbuf_puts(&b, "abc");
    CK_CHECK_STR(buf, "abc");
    /* "è" is 2 bytes, "€" 3: 3 + 2 + 2 = 7 fits with the NUL, the "€" does not, and is dropped
     * whole rather than cut in the middle. */
    ck_strbuf_puts(&b, "\xC3\xA8\xC3\xA8\xE2\x82\xAC");
    CK_CHECK_STR(buf, "abc\xC3\xA8\xC3\xA8");
    CK_CHECK(b.failed && b.len == 7);
    ck_strbuf_puts(&b, "z"); /* once truncated, nothing more is added */
    CK_CHECK(b.len == 7);
    CK_CHECK(ck_strbuf_take(&b) == NULL); /* an incomplete text is not handed out */

    /* printf into a fixed builder that is too small keeps whole code points too. */
    ck_strbuf_init_fixed(&b, buf, sizeof buf);
    ck_strbuf_printf(&b, "%s%s", "\xE2\x82\xAC\xE2\x82\xAC", "\xE2\x82\xAC");
    CK_CHECK_STR(buf, "\xE2\x82\xAC\xE2\x82\xAC"); /* 6 bytes: the third "€" would be cut */
    CK_CHECK(b.failed);

    /* A fixed builder that fits is complete, and clear makes it usable again. */
    ck_strbuf_clear(&b);
    ck_strbuf_printf(&b, "%d", 1234567);
    CK_CHECK_STR(buf, "1234567");
    CK_CHECK(!b.failed);
    char *s = ck_strbuf_take(&b); /* a copy: the buffer stays the caller's */
    CK_CHECK_STR(s, "1234567");
    CK_CHECK(s != buf);
    free(s);

    /* Size 0 writes nothing at all, not even the NUL. */
    char none = 'q';
    ck_strbuf_init_fixed(&b, &none, 0);
    ck_strbuf_puts(&b, "a");
    CK_CHECK(none == 'q' && b.failed && b.len == 0);
}

static void test_strbuf_code_points(void)
{
    ck_strbuf b = {0};
    ck_strbuf_put_cp(&b, 'A');
    ck_strbuf_put_cp(&b, 0xE8);    /* è */
    ck_strbuf_put_cp(&b, 0x20AC);  /* € */
    ck_strbuf_put_cp(&b, 0x1F600); /* an emoji: 4 bytes */
    ck_strbuf_put_cp(&b, 0xD800);  /* a surrogate is not a character */
    ck_strbuf_put_cp(&b, 0x110000);
    ck_strbuf_put_cp(&b, -5);
    CK_CHECK_STR(b.s, "A\xC3\xA8\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CK_CHECK(ck_utf8_valid(b.s, b.len));
    ck_strbuf_free(&b);
}

/* The player page writes names, titles and greetings through ck_strbuf_html. */
static void test_html_escape(void)
{
    ck_strbuf b = {0};
    ck_strbuf_html(&b, "<script>alert('x')</script> & \"D'Amico\"");
    CK_CHECK_STR(b.s,
                 "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;D&#39;Amico&quot;");
    ck_strbuf_clear(&b);
    ck_strbuf_html(&b, "Niccolò Àlvarez – 1.234,56 €"); /* UTF-8 passes through unchanged */
    CK_CHECK_STR(b.s, "Niccolò Àlvarez – 1.234,56 €");
    ck_strbuf_clear(&b);
    ck_strbuf_html(&b, NULL);
    ck_strbuf_html(&b, "");
    CK_CHECK(b.len == 0);
    ck_strbuf_html(&b, "&amp;"); /* already escaped text is escaped again, not trusted */
    CK_CHECK_STR(b.s, "&amp;amp;");
    ck_strbuf_free(&b);
}

static void test_utf8(void)
{
    CK_CHECK(ck_utf8_valid("", 0));
    CK_CHECK(ck_utf8_valid("Perché sì, 10 €", strlen("Perché sì, 10 €")));
    CK_CHECK(ck_utf8_valid("\xF0\x9F\x98\x80", 4));
    CK_CHECK(ck_utf8_valid("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF, the last one */
    CK_CHECK(!ck_utf8_valid("\xC0\xAF", 2));         /* overlong "/" */
    CK_CHECK(!ck_utf8_valid("\xE0\x80\xAF", 3));     /* overlong, 3 bytes */
    CK_CHECK(!ck_utf8_valid("\xED\xA0\x80", 3));     /* a surrogate */
    CK_CHECK(!ck_utf8_valid("\xF4\x90\x80\x80", 4)); /* past U+10FFFF */
    CK_CHECK(!ck_utf8_valid("\xC3", 1));             /* cut short */
    CK_CHECK(!ck_utf8_valid("\x80", 1));             /* a lone continuation byte */
    CK_CHECK(!ck_utf8_valid("\xFF", 1));
    CK_CHECK(!ck_utf8_valid("a\0b", 3)); /* NUL bytes are refused */

    const char *s = "a\xC3\xA8\xE2\x82\xAC\xF0\x9F\x98\x80", *end = s + strlen(s);
    CK_CHECK(ck_utf8_next(&s, end) == 'a');
    CK_CHECK(ck_utf8_next(&s, end) == 0xE8);
    CK_CHECK(ck_utf8_next(&s, end) == 0x20AC);
    CK_CHECK(ck_utf8_next(&s, end) == 0x1F600);
    CK_CHECK(s == end && ck_utf8_next(&s, end) == -1);
    /* A malformed byte is skipped one at a time, so a loop always makes progress. */
    const char *bad = "\xE2\x82z", *bend = bad + 3;
    CK_CHECK(ck_utf8_next(&bad, bend) == -1);
    CK_CHECK(ck_utf8_next(&bad, bend) == -1);
    CK_CHECK(ck_utf8_next(&bad, bend) == 'z');

    CK_CHECK(ck_utf8_len("") == 0);
    CK_CHECK(ck_utf8_len("Città: 5 €") == 10);

    CK_CHECK(ck_hex_digit('0') == 0 && ck_hex_digit('9') == 9);
    CK_CHECK(ck_hex_digit('a') == 10 && ck_hex_digit('F') == 15);
    CK_CHECK(ck_hex_digit('g') == -1 && ck_hex_digit('/') == -1 && ck_hex_digit(0xE8) == -1);
}

static void test_dates(void)
{
    CK_CHECK(ck_days_from_civil(1970, 1, 1) == 0);
    CK_CHECK(ck_days_from_civil(1969, 12, 31) == -1);
    CK_CHECK(ck_days_from_civil(2000, 3, 1) == 11017);
    CK_CHECK(ck_days_from_civil(2025, 4, 1) == 20179);
    /* Every day from 1900 to 2100 comes back as itself (leap years included). */
    int bad = 0;
    for (int32_t d = ck_days_from_civil(1900, 1, 1); d <= ck_days_from_civil(2100, 12, 31); d++) {
        int y, m, dd;
        ck_civil_from_days(d, &y, &m, &dd);
        bad += ck_days_from_civil(y, m, dd) != d;
    }
    CK_CHECK(bad == 0);
    int y, m, d;
    ck_civil_from_days(ck_days_from_civil(2024, 2, 29) + 1, &y, &m, &d);
    CK_CHECK(y == 2024 && m == 3 && d == 1);

    int32_t days = 0;
    CK_CHECK(ck_parse_date("2024-02-29", &days) && days == ck_days_from_civil(2024, 2, 29));
    CK_CHECK(ck_parse_date("2000-02-29", &days));  /* divisible by 400: leap */
    CK_CHECK(!ck_parse_date("1900-02-29", &days)); /* divisible by 100: not leap */
    CK_CHECK(!ck_parse_date("2023-02-29", &days));
    CK_CHECK(!ck_parse_date("2025-04-31", &days));
    CK_CHECK(!ck_parse_date("2025-13-01", &days));
    CK_CHECK(!ck_parse_date("2025-00-10", &days));
    CK_CHECK(!ck_parse_date("2025-4-01", &days));
    CK_CHECK(!ck_parse_date("2025-04-01 ", &days));
    CK_CHECK(!ck_parse_date("01/04/2025", &days));
    CK_CHECK(!ck_parse_date(NULL, &days));

    CK_CHECK(ck_weekday(0) == 3);                              /* 1970-01-01 was a Thursday */
    CK_CHECK(ck_weekday(ck_days_from_civil(2025, 4, 1)) == 1); /* a Tuesday */
    CK_CHECK(ck_weekday(-1) == 2);                             /* before 1970 too */
}

static void test_paths(void)
{
    char buf[64];
    CK_CHECK_STR(ck_path_join(buf, sizeof buf, "scenes/inps", "video.mp4"),
                 "scenes/inps/video.mp4");
    CK_CHECK_STR(ck_path_join(buf, sizeof buf, "scenes/", "a.png"), "scenes/a.png");
    CK_CHECK_STR(ck_path_join(buf, sizeof buf, "scenes", "/abs/a.png"), "/abs/a.png");
    CK_CHECK_STR(ck_path_join(buf, sizeof buf, "", "a.png"), "a.png");
    CK_CHECK_STR(ck_path_join(buf, sizeof buf, NULL, "a.png"), "a.png");
    CK_CHECK_STR(ck_path_join(buf, 8, "abcdef", "ghi"), "abcdef/"); /* cut, still terminated */
}

static void test_mkdirs(void)
{
    char path[1024], leaf[1100];
    ck_error err = {0};
    snprintf(path, sizeof path, "%s/mk/a/b", tmp_root);
    CK_CHECK(ck_mkdirs(path, 0700, &err) == CK_OK);
    CK_CHECK(mode_of(path) == 0700);
    snprintf(leaf, sizeof leaf, "%s/mk", tmp_root);
    CK_CHECK(mode_of(leaf) == 0700); /* every folder it makes gets the mode */
    /* Existing folders keep their mode, whoever asks again with another. */
    CK_CHECK(ck_mkdirs(path, 0755, &err) == CK_OK);
    CK_CHECK(mode_of(path) == 0700);
    snprintf(leaf, sizeof leaf, "%s/c/", path); /* a trailing slash is fine */
    CK_CHECK(ck_mkdirs(leaf, 0750, &err) == CK_OK);
    CK_CHECK(mode_of(leaf) == 0750);

    /* A file in the way is an error naming the folder, not a crash or a silent success. */
    snprintf(leaf, sizeof leaf, "%s/file", path);
    CK_CHECK(ck_write_atomic(leaf, "x", 1, 0600, &err) == CK_OK);
    CK_CHECK(ck_mkdirs(leaf, 0700, &err) == CK_ERR_IO);
    CK_CHECK(strstr(err.file, "/mk/a/b/file") != NULL);
    snprintf(leaf, sizeof leaf, "%s/file/under", path);
    err = (ck_error){0};
    CK_CHECK(ck_mkdirs(leaf, 0700, &err) == CK_ERR_IO);
    CK_CHECK(strstr(err.msg, "cannot create folder") != NULL);
    CK_CHECK(ck_mkdirs("", 0700, &err) == CK_ERR_INVALID);
}

static void test_files(void)
{
    char dir[1024], path[1100];
    ck_error err = {0};
    snprintf(dir, sizeof dir, "%s/files", tmp_root);
    CK_CHECK(ck_mkdirs(dir, 0700, &err) == CK_OK);
    snprintf(path, sizeof path, "%s/admin", dir);

    /* The caller's mode, whole contents, and a replacement that keeps its own mode. */
    CK_CHECK(ck_write_atomic(path, "secret\n", 7, 0600, &err) == CK_OK);
    CK_CHECK(mode_of(path) == 0600);
    char *text = NULL;
    size_t len = 0;
    CK_CHECK(ck_read_file(path, 0, &text, &len, &err) == CK_OK);
    CK_CHECK(text && len == 7 && strcmp(text, "secret\n") == 0);
    free(text);
    CK_CHECK(ck_write_atomic(path, "open", 4, 0644, &err) == CK_OK);
    CK_CHECK(mode_of(path) == 0644);
    CK_CHECK(ck_read_file(path, 0, &text, &len, &err) == CK_OK);
    CK_CHECK(text && len == 4 && strcmp(text, "open") == 0);
    free(text);
    CK_CHECK(ck_write_atomic(path, "", 0, 0600, &err) == CK_OK); /* empty is a valid file */
    CK_CHECK(ck_read_file(path, 0, &text, &len, &err) == CK_OK && len == 0 && text[0] == 0);
    free(text);

    /* A failed write leaves the old file and no temporary file behind. */
    char sub[1200];
    snprintf(sub, sizeof sub, "%s/a-folder", dir);
    CK_CHECK(ck_mkdirs(sub, 0700, &err) == CK_OK);
    err = (ck_error){0};
    CK_CHECK(ck_write_atomic(sub, "x", 1, 0600, &err) == CK_ERR_IO); /* rename onto a folder */
    CK_CHECK(strstr(err.file, "a-folder") != NULL && strstr(err.msg, "cannot write") != NULL);
    CK_CHECK(count_named(dir, ".tmp") == 0);
    snprintf(sub, sizeof sub, "%s/missing/file", dir);
    CK_CHECK(ck_write_atomic(sub, "x", 1, 0600, &err) == CK_ERR_IO);
    CK_CHECK(count_named(dir, ".tmp") == 0);

    /* Reads: a size limit, a folder, a missing file. */
    char big[5000];
    memset(big, 'a', sizeof big);
    CK_CHECK(ck_write_atomic(path, big, sizeof big, 0600, &err) == CK_OK);
    CK_CHECK(ck_read_file(path, 4096, &text, &len, &err) == CK_ERR_LIMIT && text == NULL);
    CK_CHECK(ck_read_file(path, 5000, &text, &len, &err) == CK_OK && len == 5000);
    free(text);
    CK_CHECK(ck_read_file(dir, 0, &text, &len, &err) == CK_ERR_IO);
    snprintf(sub, sizeof sub, "%s/nothing", dir);
    CK_CHECK(ck_read_file(sub, 0, &text, &len, &err) == CK_ERR_IO);
    CK_CHECK(!ck_file_exists(sub) && ck_file_exists(path));
}

static void test_errors(void)
{
    ck_error err = {0};
    char buf[256];
    CK_CHECK(ck_error_set(&err, CK_ERR_PARSE, "scene.json", 3, 7, "unexpected %s", "}") ==
             CK_ERR_PARSE);
    CK_CHECK_STR(ck_error_format(&err, buf, sizeof buf), "scene.json:3:7: unexpected }");
    CK_CHECK(ck_error_set(NULL, CK_ERR_IO, NULL, 0, 0, "x") == CK_ERR_IO); /* NULL is allowed */
    CK_CHECK_STR(ck_status_str(CK_ERR_NOMEM), "out of memory");
}

int main(void)
{
    /* A fixed umask, so the modes below are the ones the helpers ask for. */
    umask(022);
    snprintf(tmp_root, sizeof tmp_root, "%s/test_base.%ld", CK_BUILD_DIR, (long)getpid());
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        return 1;
    test_strbuf_growable();
    test_strbuf_fixed();
    test_strbuf_code_points();
    test_html_escape();
    test_utf8();
    test_dates();
    test_paths();
    test_mkdirs();
    test_files();
    test_errors();
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    return ck_test_done("test_base");
}
