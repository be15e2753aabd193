/* cache.c: the segment cache on disk.
 *
 *   <root>/shared/<campaign>/<version>/<digest>.ts   made by the renderer, kept forever (a new
 *                                                    campaign version gets a new folder)
 *   <root>/personal/<xx>/<digest>.ts                 xx = the digest's first two digits;
 *                                                    LRU-evicted over the size cap
 * Files appear only by rename, complete. At start-up anything else (a temporary file left by a
 * render killed mid-way) is removed, so a partial segment can never be served, and the
 * personal files are indexed, oldest modification first, to rebuild the LRU: the cache
 * survives a restart. The LRU is a hash table plus a doubly linked list (O(1) touch). */
#include "server_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
           ck_srv_is_hex(name, CK_RENDER_DIGEST_HEX - 1);
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
    c->nbuckets = 1 << 16;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets || ck_srv_mkdirs(c->shared_root, err) != CK_OK ||
        ck_srv_mkdirs(c->personal_root, err) != CK_OK) {
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
