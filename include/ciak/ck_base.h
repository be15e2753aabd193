/* ck_base.h: the few things every ciak module shares.
 *
 * - ck_status: every call that can fail returns one (0 ok, negative error).
 * - ck_error: one failure with a human message naming the file, line, column or field.
 * - ck_diags: a list of problems (errors and warnings) for commands such as `ciak check`
 *   that report everything at once instead of stopping at the first.
 * - ck_log: the one logger; the engine never prints on its own.
 * - ck_arena: a bump allocator for short-lived data (per scene, per frame), freed in one call.
 *
 * Thread safety: nothing here is shared; each object belongs to one thread at a time. The
 * logger callback may be called from any thread that drives the engine.
 */
#ifndef CK_BASE_H
#define CK_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One X-macro list makes the enum and its names. */
#define CK_STATUS_LIST(X)                                                                          \
    X(CK_OK, 0, "ok")                                                                              \
    X(CK_ERR_IO, -1, "input/output error")                                                         \
    X(CK_ERR_PARSE, -2, "parse error")                                                             \
    X(CK_ERR_INVALID, -3, "invalid value")                                                         \
    X(CK_ERR_NOMEM, -4, "out of memory")                                                           \
    X(CK_ERR_NOT_FOUND, -5, "not found")                                                           \
    X(CK_ERR_UNSUPPORTED, -6, "unsupported")                                                       \
    X(CK_ERR_LIMIT, -7, "limit exceeded")                                                          \
    X(CK_ERR_GPU, -8, "GPU error")                                                                 \
    X(CK_ERR_MEDIA, -9, "media error")                                                             \
    X(CK_ERR_USAGE, -10, "usage error")

typedef enum ck_status {
#define CK_X_ENUM(name, value, text) name = value,
    CK_STATUS_LIST(CK_X_ENUM)
#undef CK_X_ENUM
} ck_status;

/* Static text for a status ("ok", "parse error", ...). Never NULL. */
const char *ck_status_str(ck_status s);

/* One failure. `file` is the input at fault (scene, record, asset), `line`/`col` are 1-based
 * (0 when unknown). Fill with ck_error_set(); print with ck_error_format(). */
typedef struct ck_error {
    ck_status status;
    char file[512];
    int line, col;
    char msg[768];
} ck_error;

/* Sets `err` (if non-NULL) and returns `status`, so a failing function can
 * `return ck_error_set(err, CK_ERR_PARSE, path, line, col, "unexpected %s", x);`. */
ck_status ck_error_set(ck_error *err, ck_status status, const char *file, int line, int col,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "file:line:col: message" (parts that are unknown are left out). Returns `buf`. */
const char *ck_error_format(const ck_error *err, char *buf, size_t size);

/* ---- diagnostics: many problems at once ---- */
typedef enum ck_severity { CK_SEV_ERROR, CK_SEV_WARNING, CK_SEV_NOTE } ck_severity;

typedef struct ck_diag {
    ck_severity sev;
    char *file; /* owned by the list */
    int line, col;
    char *msg; /* owned by the list */
} ck_diag;

/* A growable list of problems. Zero-initialise it; free with ck_diags_free(). Caps at
 * `max` entries when max > 0 (later ones are counted but dropped) so garbage input cannot
 * make a report of millions of lines. */
typedef struct ck_diags {
    ck_diag *items;
    size_t count, cap;
    size_t errors, warnings, dropped;
    size_t max;
} ck_diags;

void ck_diag_add(ck_diags *d, ck_severity sev, const char *file, int line, int col, const char *fmt,
                 ...) __attribute__((format(printf, 6, 7)));
void ck_diag_addv(ck_diags *d, ck_severity sev, const char *file, int line, int col,
                  const char *fmt, va_list ap);
/* Adds an error from a ck_error. */
void ck_diag_add_error(ck_diags *d, const ck_error *err);
void ck_diags_free(ck_diags *d);

/* ---- logging ---- */
typedef enum ck_log_level { CK_LOG_ERROR, CK_LOG_WARN, CK_LOG_INFO, CK_LOG_DEBUG } ck_log_level;
typedef void (*ck_log_fn)(void *user, ck_log_level level, const char *msg);

/* Installs the process-wide log sink (NULL restores the default: stderr, level INFO).
 * Call before starting threads. Messages above `max_level` are dropped before formatting. */
void ck_log_set(ck_log_fn fn, void *user, ck_log_level max_level);
void ck_log(ck_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- arena ---- */
/* A bump allocator: many small allocations, one free. Zero-initialise; `chunk` is the
 * block size (0 = 64 KiB). Allocations are 16-byte aligned and zeroed. ck_arena_reset keeps
 * the first block for reuse (per-frame use); ck_arena_free releases everything. */
typedef struct ck_arena_block ck_arena_block;
typedef struct ck_arena {
    ck_arena_block *head;
    size_t chunk;
    size_t used_total; /* bytes handed out since the last reset, for tests and stats */
} ck_arena;

void *ck_arena_alloc(ck_arena *a, size_t size);
char *ck_arena_strdup(ck_arena *a, const char *s);
char *ck_arena_strndup(ck_arena *a, const char *s, size_t n);
char *ck_arena_printf(ck_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_arena_reset(ck_arena *a);
void ck_arena_free(ck_arena *a);

/* ---- string builder ---- */
/* A NUL-terminated string built by appending (playlists, JSON, pages, CSV, template text).
 *
 * Growable (zero-initialise it): the text lives on the heap and grows as needed. After a
 * failed allocation it stops growing, `failed` is set and ck_strbuf_take returns NULL, so
 * callers check once at the end.
 * Fixed (ck_strbuf_init_fixed): the text is written into the caller's buffer and never grows;
 * what does not fit is dropped at a code point boundary (the result stays valid UTF-8) and
 * `failed` is set ("truncated to fit").
 * Either way `s` is NUL-terminated once anything was appended (or cap > 0). Nothing here is
 * thread-safe: one builder belongs to one thread at a time. */
typedef struct ck_strbuf {
    char *s; /* NULL until something is appended (growable) or the caller's buffer (fixed) */
    size_t len, cap; /* bytes without the NUL; bytes available with the NUL */
    bool failed;     /* out of memory (growable) or out of room (fixed): the text is incomplete */
    bool fixed;      /* s belongs to the caller: never grows, never freed */
} ck_strbuf;

/* A fixed builder over buf[size]; size may be 0 (then nothing is written, not even the NUL). */
void ck_strbuf_init_fixed(ck_strbuf *b, char *buf, size_t size);
/* Appends n bytes of UTF-8; a fixed builder keeps only the whole code points that fit. */
void ck_strbuf_add(ck_strbuf *b, const char *s, size_t n);
void ck_strbuf_puts(ck_strbuf *b, const char *s);
/* Appends one code point as UTF-8 (invalid ones, surrogates included, become U+FFFD). */
void ck_strbuf_put_cp(ck_strbuf *b, int32_t cp);
void ck_strbuf_printf(ck_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_strbuf_vprintf(ck_strbuf *b, const char *fmt, va_list ap);
/* Appends `s` escaped for HTML text and attribute values (< > & " '). NULL adds nothing. */
void ck_strbuf_html(ck_strbuf *b, const char *s);
/* Empties the text and clears `failed`; a growable builder keeps its memory for reuse. */
void ck_strbuf_clear(ck_strbuf *b);
/* Hands the string to the caller (malloc'd, "" when nothing was added; NULL after a failed
 * allocation or a truncation) and resets the builder to an empty growable one. */
char *ck_strbuf_take(ck_strbuf *b);
/* Frees a growable builder's memory (a fixed builder's buffer is the caller's) and resets it
 * to an empty growable one. */
void ck_strbuf_free(ck_strbuf *b);

/* ---- small helpers ---- */
/* Reads a whole file (max `limit` bytes, 0 = 64 MiB) into a malloc'd, NUL-terminated buffer. */
ck_status ck_read_file(const char *path, size_t limit, char **out, size_t *len, ck_error *err);
/* Writes `path` whole or not at all: a unique temporary file beside it (created with `mode`),
 * fsync, rename. Thread-safe. */
ck_status ck_write_atomic(const char *path, const void *data, size_t len, int mode, ck_error *err);
/* True if `s` (length n) is valid UTF-8 with no NUL bytes. */
bool ck_utf8_valid(const char *s, size_t n);
/* Decodes one code point at *s, advancing it; returns -1 on malformed input (and skips a byte). */
int32_t ck_utf8_next(const char **s, const char *end);
/* The value of one hexadecimal digit (0-9, a-f, A-F), or -1. */
int ck_hex_digit(int c);
/* Number of code points in a valid UTF-8 string. */
size_t ck_utf8_len(const char *s);
/* Joins a directory and a relative path into buf ("dir/rel"); absolute `rel` is kept as is. */
const char *ck_path_join(char *buf, size_t size, const char *dir, const char *rel);
bool ck_file_exists(const char *path);
/* mkdir -p: makes `path` and the missing folders above it with `mode` (less the umask);
 * folders that exist keep theirs. Errors name the folder that could not be made. */
ck_status ck_mkdirs(const char *path, int mode, ck_error *err);
/* Seconds on a monotonic clock (durations, deadlines; not the time of day). */
double ck_now_s(void);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int32_t ck_days_from_civil(int y, int m, int d);
void ck_civil_from_days(int32_t days, int *y, int *m, int *d);
/* Parses "YYYY-MM-DD" strictly (real calendar dates only). */
bool ck_parse_date(const char *s, int32_t *days);
/* 0 = Monday ... 6 = Sunday. */
int ck_weekday(int32_t days);

#define CK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
