/* base.c: status names, errors, diagnostics, logging, arena, files, UTF-8 and dates. */
#include "ck_base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

const char *ck_status_str(ck_status s)
{
    switch (s) {
#define CK_X_CASE(name, value, text)                                                               \
    case name:                                                                                     \
        return text;
        CK_STATUS_LIST(CK_X_CASE)
#undef CK_X_CASE
    }
    return "unknown error";
}

ck_status ck_error_set(ck_error *err, ck_status status, const char *file, int line, int col,
                       const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return status;
}

const char *ck_error_format(const ck_error *err, char *buf, size_t size)
{
    if (!size)
        return buf;
    if (err->file[0] && err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
    else if (err->file[0] && err->line > 0)
        snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->msg);
    else if (err->file[0])
        snprintf(buf, size, "%s: %s", err->file, err->msg);
    else
        snprintf(buf, size, "%s", err->msg);
    return buf;
}

/* ---- diagnostics ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void ck_diag_addv(ck_diags *d, ck_severity sev, const char *file, int line, int col,
                  const char *fmt, va_list ap)
{
    if (!d)
        return;
    if (sev == CK_SEV_ERROR)
        d->errors++;
    else if (sev == CK_SEV_WARNING)
        d->warnings++;
    size_t max = d->max ? d->max : 1000;
    if (d->count >= max) {
        d->dropped++;
        return;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        ck_diag *items = realloc(d->items, cap * sizeof *items);
        if (!items) {
            d->dropped++;
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ck_diag *g = &d->items[d->count++];
    g->sev = sev;
    g->file = dup_or_null(file);
    g->line = line;
    g->col = col;
    g->msg = strdup(msg);
}

void ck_diag_add(ck_diags *d, ck_severity sev, const char *file, int line, int col, const char *fmt,
                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_diag_addv(d, sev, file, line, col, fmt, ap);
    va_end(ap);
}

void ck_diag_add_error(ck_diags *d, const ck_error *err)
{
    ck_diag_add(d, CK_SEV_ERROR, err->file[0] ? err->file : NULL, err->line, err->col, "%s",
                err->msg);
}

void ck_diags_free(ck_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].msg);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

/* ---- logging ---- */

static const char *const log_names[] = {"error", "warning", "info", "debug"};

static void log_stderr(void *user, ck_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "ciak: %s: %s\n", log_names[level], msg);
}

static ck_log_fn log_fn = log_stderr;
static void *log_user;
static ck_log_level log_max = CK_LOG_INFO;

void ck_log_set(ck_log_fn fn, void *user, ck_log_level max_level)
{
    log_fn = fn ? fn : log_stderr;
    log_user = fn ? user : NULL;
    log_max = max_level;
}

void ck_log(ck_log_level level, const char *fmt, ...)
{
    if (level > log_max)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(log_user, level, msg);
}

/* ---- arena ---- */

struct ck_arena_block {
    ck_arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void *ck_arena_alloc(ck_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    ck_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t chunk = a->chunk ? a->chunk : 64 * 1024;
        size_t bsize = size > chunk ? size : chunk;
        ck_arena_block *nb = malloc(sizeof *nb + bsize);
        if (!nb)
            return NULL;
        nb->size = bsize;
        nb->used = 0;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    a->used_total += size;
    memset(p, 0, size);
    return p;
}

char *ck_arena_strndup(ck_arena *a, const char *s, size_t n)
{
    char *p = ck_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ck_arena_strdup(ck_arena *a, const char *s)
{
    return s ? ck_arena_strndup(a, s, strlen(s)) : NULL;
}

char *ck_arena_printf(ck_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? ck_arena_alloc(a, (size_t)n + 1) : NULL;
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void ck_arena_reset(ck_arena *a)
{
    /* Keep the largest block (the newest is at least as large as the chunk) for reuse, so a
     * per-frame arena stops calling malloc once it has grown to a frame's needs. */
    ck_arena_block *keep = NULL;
    for (ck_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (!keep || b->size > keep->size) {
            free(keep);
            keep = b;
        } else {
            free(b);
        }
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used_total = 0;
}

void ck_arena_free(ck_arena *a)
{
    for (ck_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->used_total = 0;
}

/* ---- string builder ---- */

void ck_strbuf_init_fixed(ck_strbuf *b, char *buf, size_t size)
{
    *b = (ck_strbuf){.s = buf, .cap = buf ? size : 0, .fixed = true};
    if (b->cap)
        b->s[0] = 0;
}

/* Room for `extra` more bytes and the NUL; false (and `failed` set by the caller's path) when a
 * growable builder cannot get it. A fixed builder is never grown. */
static bool strbuf_reserve(ck_strbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return true;
    if (b->fixed || extra > SIZE_MAX / 2 - b->len)
        return false;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s)
        return false;
    b->s = s;
    b->cap = cap;
    return true;
}

/* Length of the UTF-8 sequence that starts with byte c (1 for stray bytes, so malformed
 * input still makes progress). */
static size_t utf8_seq_len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

void ck_strbuf_add(ck_strbuf *b, const char *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    size_t take = n;
    if (!strbuf_reserve(b, n)) {
        b->failed = true;
        if (!b->fixed)
            return;
        /* Keep only the whole code points that fit, so the text stays valid UTF-8. */
        size_t room = b->cap ? b->cap - 1 - b->len : 0;
        take = 0;
        while (take < n) {
            size_t k = utf8_seq_len((unsigned char)s[take]);
            if (take + k > room || take + k > n)
                break;
            take += k;
        }
        if (take == 0)
            return;
    }
    memcpy(b->s + b->len, s, take);
    b->len += take;
    b->s[b->len] = 0;
}

void ck_strbuf_puts(ck_strbuf *b, const char *s)
{
    ck_strbuf_add(b, s, strlen(s));
}

void ck_strbuf_put_cp(ck_strbuf *b, int32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    ck_strbuf_add(b, u, n);
}

void ck_strbuf_vprintf(ck_strbuf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (strbuf_reserve(b, (size_t)n)) {
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return;
    }
    if (!b->fixed) {
        b->failed = true;
        return;
    }
    /* A fixed builder that is too small: format aside, then keep the code points that fit. */
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) {
        b->failed = true;
        return;
    }
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    ck_strbuf_add(b, tmp, (size_t)n);
    free(tmp);
}

void ck_strbuf_printf(ck_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ck_strbuf_html(ck_strbuf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '<':
            ck_strbuf_add(b, "&lt;", 4);
            break;
        case '>':
            ck_strbuf_add(b, "&gt;", 4);
            break;
        case '&':
            ck_strbuf_add(b, "&amp;", 5);
            break;
        case '"':
            ck_strbuf_add(b, "&quot;", 6);
            break;
        case '\'':
            ck_strbuf_add(b, "&#39;", 5);
            break;
        default:
            ck_strbuf_add(b, p, 1);
        }
    }
}

void ck_strbuf_clear(ck_strbuf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->cap)
        b->s[0] = 0;
}

char *ck_strbuf_take(ck_strbuf *b)
{
    char *s = NULL;
    if (!b->failed)
        s = b->fixed ? strndup(b->s ? b->s : "", b->len) : b->s ? b->s : strdup("");
    else if (!b->fixed)
        free(b->s);
    *b = (ck_strbuf){0};
    return s;
}

void ck_strbuf_free(ck_strbuf *b)
{
    if (!b->fixed)
        free(b->s);
    *b = (ck_strbuf){0};
}

/* ---- files ---- */

ck_status ck_read_file(const char *path, size_t limit, char **out, size_t *len, ck_error *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (!limit)
        limit = 64u << 20;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "is a directory, not a file");
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > limit) {
                free(buf);
                fclose(f);
                return ck_error_set(err, CK_ERR_LIMIT, path, 0, 0,
                                    "file too large (limit %zu bytes)", limit);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory reading file");
    if (failed) {
        free(buf);
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "read error");
    }
    if (n > limit) {
        free(buf);
        return ck_error_set(err, CK_ERR_LIMIT, path, 0, 0, "file too large (limit %zu bytes)",
                            limit);
    }
    buf[n] = 0;
    *out = buf;
    if (len)
        *len = n;
    return CK_OK;
}

bool ck_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

ck_status ck_mkdirs(const char *path, int mode, ck_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0)
        return ck_error_set(err, CK_ERR_INVALID, path, 0, 0, "empty folder name");
    if (n >= sizeof buf)
        return ck_error_set(err, CK_ERR_LIMIT, path, 0, 0, "path too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        buf[i] = 0;
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
            return ck_error_set(err, CK_ERR_IO, buf, 0, 0, "cannot create folder: %s",
                                strerror(errno));
        buf[i] = i < n ? '/' : 0;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "not a folder");
    return CK_OK;
}

const char *ck_path_join(char *buf, size_t size, const char *dir, const char *rel)
{
    if (!rel || rel[0] == '/' || !dir || !dir[0])
        snprintf(buf, size, "%s", rel ? rel : "");
    else if (dir[strlen(dir) - 1] == '/')
        snprintf(buf, size, "%s%s", dir, rel);
    else
        snprintf(buf, size, "%s/%s", dir, rel);
    return buf;
}

/* ---- UTF-8 ---- */

int ck_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int32_t ck_utf8_next(const char **sp, const char *end)
{
    const unsigned char *s = (const unsigned char *)*sp;
    const unsigned char *e = (const unsigned char *)end;
    if (s >= e)
        return -1;
    unsigned c = s[0];
    int n;
    int32_t cp, min;
    if (c < 0x80) {
        *sp += 1;
        return (int32_t)c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        *sp += 1;
        return -1;
    }
    if (e - s <= n) {
        *sp += 1;
        return -1;
    }
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *sp += 1;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *sp += 1;
        return -1;
    }
    *sp += n + 1;
    return cp;
}

bool ck_utf8_valid(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        int32_t cp = ck_utf8_next(&p, end);
        if (cp <= 0)
            return false;
    }
    return true;
}

size_t ck_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- dates (Howard Hinnant's civil-days algorithms) ---- */

int32_t ck_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ck_civil_from_days(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

bool ck_parse_date(const char *s, int32_t *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *days = ck_days_from_civil(y, m, d);
    return true;
}

int ck_weekday(int32_t days)
{
    /* 1970-01-01 was a Thursday (3 with Monday = 0). */
    int w = (int)((days % 7 + 7) % 7);
    return (w + 3) % 7;
}

double ck_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ck_status ck_write_atomic(const char *path, const void *data, size_t len, int mode, ck_error *err)
{
    static atomic_uint seq;
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld.%u", path, (long)getpid(), atomic_fetch_add(&seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot write: %s", strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    bool ok = left == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot write: %s", strerror(e));
    }
    return CK_OK;
}
