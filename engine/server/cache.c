/* cache.c: the segment cache on disk.
 *
 *   <root>/shared/<campaign>/<version>/<digest>.ts   made by the renderer, kept forever (a new
 *                                                    campaign version gets a new folder)
 *   <root>/personal/<xx>/<digest>.ts                 xx = the digest's first two digits;
 *                                                    LRU-evicted over the size cap
 * Files appear only by rename, complete. At start-up anything else (a temporary file left by a
 * render killed mid-way) is removed, so a partial segment can never be served, and the
 * personal files are indexed, oldest modification first, to rebuild the LRU: the cache
 * survives a restart. The LRU is a hash table plus a doubly linked list (O(1) touch).
 *
 * Storage faults (a full disk, a read-only file system, the folder removed under a running
 * server) never leave half a segment (the renderer writes a temporary file, fsyncs and
 * renames; a failed write removes it), answer the viewer 503 + Retry-After (http.c), count
 * in ciak_storage_errors_total{kind} and log one line, not one per request. Before each
 * write the folders are recreated if gone and, when the disk is nearly full, the oldest
 * personal segments make room: the cache evicts before it refuses. */
#include "server_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

typedef struct entry {
    char digest[CK_RENDER_DIGEST_HEX];
    int64_t size;
    struct entry *prev, *next; /* LRU list, head = most recent */
    struct entry *chain;       /* hash bucket */
    double mtime;              /* last written or served, seconds since the epoch */
} entry;

struct srv_cache {
    char root[512], shared_root[600], personal_root[600];
    int64_t cap, bytes;
    srv_metrics *metrics;
    pthread_mutex_t lock;
    entry **buckets;
    size_t nbuckets;
    entry *head, *tail;
    int64_t max_seg; /* the largest segment written so far: the room a render needs */
    /* The storage fault in progress (under `lock`): logged once, counted every time. */
    srv_storage_kind fault;
    int64_t fault_count;
    double fault_logged; /* ck_now_s() of its last log line */
};

static size_t bucket_of(const srv_cache *c, const char *digest)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = digest; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return (size_t)(h % c->nbuckets);
}

static entry *lookup(srv_cache *c, const char *digest)
{
    for (entry *e = c->buckets[bucket_of(c, digest)]; e; e = e->chain)
        if (strcmp(e->digest, digest) == 0)
            return e;
    return NULL;
}

static void unlink_lru(srv_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_head(srv_cache *c, entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void remove_entry(srv_cache *c, entry *e)
{
    unlink_lru(c, e);
    entry **pp = &c->buckets[bucket_of(c, e->digest)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    c->bytes -= e->size;
    free(e);
}

static bool is_segment_name(const char *name)
{
    size_t n = strlen(name);
    return n == CK_RENDER_DIGEST_HEX - 1 + 3 && strcmp(name + n - 3, ".ts") == 0 &&
           srv_is_hex(name, CK_RENDER_DIGEST_HEX - 1);
}

/* Removes unfinished files under `dir` (recursively, depth-limited); with `index` set, files
 * found are added to the LRU list. */
static void sweep(srv_cache *c, const char *dir, int depth, bool index, entry ***found,
                  size_t *count, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
            continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < 4)
                sweep(c, path, depth + 1, index, found, count, cap);
            continue;
        }
        if (!S_ISREG(sb.st_mode) || !is_segment_name(de->d_name) || sb.st_size == 0) {
            /* Audio caches and other renderer files live in the shared folders too: only the
             * temporary files that a crash leaves behind go. */
            if (strstr(de->d_name, ".tmp") || sb.st_size == 0) {
                unlink(path);
                ck_log(CK_LOG_INFO, "cache: removed unfinished file %s", de->d_name);
            }
            continue;
        }
        if (!index)
            continue;
        if (*count == *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            entry **n = realloc(*found, ncap * sizeof *n);
            if (!n)
                continue;
            *found = n;
            *cap = ncap;
        }
        entry *e = calloc(1, sizeof *e);
        if (!e)
            continue;
        memcpy(e->digest, de->d_name, CK_RENDER_DIGEST_HEX - 1);
        e->size = sb.st_size;
        e->mtime = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
        (*found)[(*count)++] = e;
    }
    closedir(d);
}

static int by_mtime(const void *a, const void *b)
{
    double x = (*(entry *const *)a)->mtime, y = (*(entry *const *)b)->mtime;
    return x < y ? -1 : x > y;
}

srv_cache *srv_cache_create(const char *root, int64_t cap_bytes, srv_metrics *m, ck_error *err)
{
    srv_cache *c = calloc(1, sizeof *c);
    if (!c) {
        ck_error_set(err, CK_ERR_NOMEM, root, 0, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    snprintf(c->root, sizeof c->root, "%s", root);
    snprintf(c->shared_root, sizeof c->shared_root, "%s/shared", root);
    snprintf(c->personal_root, sizeof c->personal_root, "%s/personal", root);
    c->cap = cap_bytes;
    c->metrics = m;
    c->fault = SRV_ST_NONE;
    c->nbuckets = 1 << 16;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets || ck_mkdirs(c->shared_root, CK_CACHE_DIR_MODE, err) != CK_OK ||
        ck_mkdirs(c->personal_root, CK_CACHE_DIR_MODE, err) != CK_OK) {
        if (!c->buckets)
            ck_error_set(err, CK_ERR_NOMEM, root, 0, 0, "out of memory");
        srv_cache_destroy(&c);
        return NULL;
    }
    entry **found = NULL;
    size_t count = 0, cap = 0;
    sweep(c, c->shared_root, 0, false, NULL, NULL, NULL);
    sweep(c, c->personal_root, 0, true, &found, &count, &cap);
    if (count)
        qsort(found, count, sizeof *found, by_mtime);
    for (size_t i = 0; i < count; i++) {
        entry *e = found[i];
        if (lookup(c, e->digest)) {
            free(e);
            continue;
        }
        size_t b = bucket_of(c, e->digest);
        e->chain = c->buckets[b];
        c->buckets[b] = e;
        push_head(c, e);
        c->bytes += e->size;
    }
    free(found);
    atomic_store(&m->cache_bytes, c->bytes);
    ck_log(CK_LOG_INFO, "cache: %zu personal segment(s), %.1f MB", count, (double)c->bytes / 1e6);
    return c;
}

void srv_cache_destroy(srv_cache **pc)
{
    srv_cache *c = *pc;
    if (!c)
        return;
    for (entry *e = c->head, *n; e; e = n) {
        n = e->next;
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *pc = NULL;
}

const char *srv_cache_shared_root(const srv_cache *c)
{
    return c->shared_root;
}

void srv_cache_personal_path(const srv_cache *c, const char *digest, char *out, size_t size)
{
    snprintf(out, size, "%s/%.2s/%s.ts", c->personal_root, digest, digest);
}

void srv_cache_touch(srv_cache *c, const char *digest, int64_t size)
{
    char path[1200];
    pthread_mutex_lock(&c->lock);
    entry *e = lookup(c, digest);
    if (!e && size >= 0) {
        e = calloc(1, sizeof *e);
        if (e) {
            snprintf(e->digest, sizeof e->digest, "%s", digest);
            e->mtime = (double)time(NULL);
            e->size = size;
            size_t b = bucket_of(c, digest);
            e->chain = c->buckets[b];
            c->buckets[b] = e;
            c->bytes += size;
            push_head(c, e);
        }
    } else if (e) {
        unlink_lru(c, e);
        push_head(c, e);
        if (size >= 0) { /* written again (its file had gone): the new size counts */
            c->bytes += size - e->size;
            e->size = size;
        }
    }
    if (e)
        e->mtime = (double)time(NULL);
    /* Evict from the tail, never the entry just touched. */
    while (c->cap > 0 && c->bytes > c->cap && c->tail && c->tail != e) {
        entry *old = c->tail;
        srv_cache_personal_path(c, old->digest, path, sizeof path);
        unlink(path); /* a request reading it keeps its open descriptor */
        remove_entry(c, old);
    }
    atomic_store(&c->metrics->cache_bytes, c->bytes);
    pthread_mutex_unlock(&c->lock);
}

int srv_cache_expire(srv_cache *c, int64_t max_age_s)
{
    char path[1200];
    int removed = 0;
    double oldest = (double)time(NULL) - (double)max_age_s;
    pthread_mutex_lock(&c->lock);
    while (c->tail && c->tail->mtime < oldest) {
        srv_cache_personal_path(c, c->tail->digest, path, sizeof path);
        unlink(path);
        remove_entry(c, c->tail);
        removed++;
    }
    atomic_store(&c->metrics->cache_bytes, c->bytes);
    pthread_mutex_unlock(&c->lock);
    return removed;
}

/* ---- storage faults ---- */
static const char *const kind_names[] = {
#define X(e, str) str,
    SRV_STORAGE_KINDS(X)
#undef X
};

const char *srv_storage_kind_name(srv_storage_kind kind)
{
    return kind >= 0 && kind < SRV_ST__N ? kind_names[kind] : "none";
}

/* Free bytes for an unprivileged writer on the cache's file system; -1: unknown. */
static int64_t free_bytes(const srv_cache *c, bool *readonly)
{
    struct statvfs v;
    if (statvfs(c->root, &v) != 0)
        return -1;
    if (readonly)
        *readonly = (v.f_flag & ST_RDONLY) != 0;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

/* The room one render should find: a few of the largest segments seen (a segment grows while
 * it is written; several workers write at once), at least 256 KiB. */
static int64_t room_needed(const srv_cache *c)
{
    int64_t need = 4 * c->max_seg;
    return need > (256 << 10) ? need : 256 << 10;
}

bool srv_cache_make_room(srv_cache *c, int64_t need)
{
    char path[1200];
    bool removed = false;
    pthread_mutex_lock(&c->lock);
    if (need <= 0)
        need = room_needed(c);
    int64_t left = free_bytes(c, NULL);
    /* Oldest first, as over the cap. A file already gone (the folder was removed) frees
     * nothing, so the loop also ends when the list is empty. */
    while (left >= 0 && left < need && c->tail) {
        srv_cache_personal_path(c, c->tail->digest, path, sizeof path);
        if (unlink(path) == 0) {
            atomic_fetch_add(&c->metrics->evicted_for_space, 1);
            removed = true;
        }
        remove_entry(c, c->tail);
        left = free_bytes(c, NULL);
    }
    atomic_store(&c->metrics->cache_bytes, c->bytes);
    pthread_mutex_unlock(&c->lock);
    return removed;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

bool srv_cache_prepare(srv_cache *c, const char *path, ck_error *err)
{
    if (!is_dir(c->shared_root) || !is_dir(c->personal_root)) {
        /* Removed under the running server (an operator freeing space, a clean-up script):
         * made again, so the next write works; what it held is rendered again on demand. */
        ck_error e = {0};
        ck_error_set(&e, CK_ERR_IO, c->root, 0, 0, "%s", strerror(ENOENT));
        srv_cache_report(c, SRV_ST_MISSING, "the cache folder", &e);
        if (ck_mkdirs(c->shared_root, CK_CACHE_DIR_MODE, err) != CK_OK ||
            ck_mkdirs(c->personal_root, CK_CACHE_DIR_MODE, err) != CK_OK) {
            srv_cache_report(c, srv_cache_classify(c, path, err), "the cache folder", err);
            return false;
        }
    }
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (ck_mkdirs(dir, CK_CACHE_DIR_MODE, err) != CK_OK) {
            srv_storage_kind k = srv_cache_classify(c, path, err);
            srv_cache_report(c, k == SRV_ST_NONE ? SRV_ST_IO : k, "a segment's folder", err);
            return false;
        }
    }
    srv_cache_make_room(c, 0);
    return true;
}

srv_storage_kind srv_cache_classify(srv_cache *c, const char *path, const ck_error *err)
{
    (void)path;
    /* The system's message is in the error (strerror, or FFmpeg's av_strerror of the same
     * errno); the file system's state decides when it is not. */
    static const struct {
        int code;
        srv_storage_kind kind;
    } codes[] = {{ENOSPC, SRV_ST_NOSPACE}, {EDQUOT, SRV_ST_NOSPACE},  {EFBIG, SRV_ST_NOSPACE},
                 {EROFS, SRV_ST_READONLY}, {EACCES, SRV_ST_READONLY}, {EPERM, SRV_ST_READONLY},
                 {EIO, SRV_ST_IO}};
    if (!is_dir(c->root))
        return SRV_ST_MISSING;
    bool ro = false;
    int64_t left = free_bytes(c, &ro);
    if (ro)
        return SRV_ST_READONLY;
    for (size_t i = 0; err && i < sizeof codes / sizeof codes[0]; i++)
        if (strstr(err->msg, strerror(codes[i].code)))
            return codes[i].kind;
    if (err && strstr(err->msg, strerror(ENOENT)))
        return SRV_ST_MISSING; /* a folder vanished between prepare and rename */
    if (left >= 0 && left < (64 << 10))
        return SRV_ST_NOSPACE;
    return SRV_ST_NONE;
}

static const char *fault_advice(srv_storage_kind k)
{
    switch (k) {
    case SRV_ST_NOSPACE:
        return "the disk is full (personal segments were evicted first): free space on it";
    case SRV_ST_READONLY:
        return "the file system or a file is read-only: make it writable again";
    case SRV_ST_MISSING:
        return "the cache folder was removed: it is made again and refilled on demand";
    default:
        return "an input/output error: check the disk";
    }
}

void srv_cache_report(srv_cache *c, srv_storage_kind kind, const char *what, const ck_error *err)
{
    if (kind == SRV_ST_NONE)
        return;
    atomic_fetch_add(&c->metrics->storage_errors[kind], 1);
    double now = ck_now_s();
    pthread_mutex_lock(&c->lock);
    bool first = c->fault != kind, again = !first && now - c->fault_logged >= SRV_FAULT_LOG_S;
    int64_t count = first ? 1 : ++c->fault_count;
    if (first) {
        c->fault = kind;
        c->fault_count = 1;
    }
    if (first || again)
        c->fault_logged = now;
    pthread_mutex_unlock(&c->lock);
    if (!first && !again)
        return;
    char buf[1400];
    const char *detail = err ? ck_error_format(err, buf, sizeof buf) : "";
    if (first)
        ck_log(kind == SRV_ST_MISSING ? CK_LOG_WARN : CK_LOG_ERROR,
               "storage fault (%s) writing %s in %s: %s; %s (%s)", kind_names[kind], what, c->root,
               fault_advice(kind),
               kind == SRV_ST_MISSING ? "viewers wait for the renders"
                                      : "viewers get 503 + Retry-After until then",
               detail);
    else
        ck_log(CK_LOG_ERROR, "storage fault (%s) in %s goes on: %lld failed writes so far (%s)",
               kind_names[kind], c->root, (long long)count, detail);
}

void srv_cache_wrote(srv_cache *c, int64_t bytes)
{
    pthread_mutex_lock(&c->lock);
    if (bytes > c->max_seg)
        c->max_seg = bytes;
    srv_storage_kind was = c->fault;
    int64_t count = c->fault_count;
    c->fault = SRV_ST_NONE;
    c->fault_count = 0;
    pthread_mutex_unlock(&c->lock);
    if (was != SRV_ST_NONE)
        ck_log(CK_LOG_INFO,
               "storage fault (%s) in %s is over: segments are written again "
               "(%lld failed writes)",
               kind_names[was], c->root, (long long)count);
}

bool srv_cache_faulty(srv_cache *c)
{
    pthread_mutex_lock(&c->lock);
    bool f = c->fault != SRV_ST_NONE;
    pthread_mutex_unlock(&c->lock);
    return f;
}
