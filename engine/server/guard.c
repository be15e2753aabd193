/* guard.c: counts bad links and slows whoever keeps sending them (429 with Retry-After).
 *
 * Guessing a link is hopeless (a token carries a 128-bit MAC), so the guard is not what keeps
 * links safe; it keeps scanners from costing us and from filling the logs, and it must never
 * lock out a genuine viewer. Many people share one address (a care home, a mobile carrier's
 * NAT), so a bad link counts against three budgets per window: the address (IPv6: its /64,
 * which one host may hold whole), its prefix (IPv4 /24, IPv6 /56: one network renting many
 * addresses) and the whole server. The caller asks only after a link turned out bad: a valid
 * link is served whatever its address did (http.c).
 *
 * Addresses are kept only as keyed 64-bit hashes (the key is random per process) in a fixed
 * table, so memory is bounded and nothing readable is kept. */
#include "server_internal.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SLOTS 8192
#define PROBE 8

typedef struct slot {
    uint64_t key;
    int64_t window_start; /* seconds */
    int fails;
} slot;

struct srv_guard {
    pthread_mutex_t lock;
    srv_guard_params p;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
    slot global;
    slot slots[SLOTS];
};

srv_guard *srv_guard_create(const srv_guard_params *p)
{
    srv_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->lock, NULL);
    g->p = *p;
    if (g->p.window_s <= 0)
        g->p.window_s = 600;
    randombytes_buf(g->hash_key, sizeof g->hash_key);
    return g;
}

void srv_guard_destroy(srv_guard **pg)
{
    if (!*pg)
        return;
    pthread_mutex_destroy(&(*pg)->lock);
    free(*pg);
    *pg = NULL;
}

/* The address's bytes and its prefix's: IPv4 (also mapped into IPv6) 4 and 3 bytes, IPv6
 * 8 (/64) and 7 (/56). Returns the address length, 0 for anything else. */
static size_t addr_bytes(const void *addr, uint8_t out[16], size_t *prefix)
{
    const struct sockaddr *sa = addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa && sa->sa_family == AF_INET6) {
        const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        if (memcmp(b, mapped, sizeof mapped) == 0) {
            memcpy(out, b + 12, 4);
            *prefix = 3;
            return 4;
        }
        memcpy(out, b, 8);
        *prefix = 7;
        return 8;
    }
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        *prefix = 3;
        return 4;
    }
    *prefix = 0;
    return 0;
}

/* A keyed hash of `n` bytes; `kind` keeps addresses and prefixes apart. */
static uint64_t hash_key(const srv_guard *g, char kind, const uint8_t *b, size_t n)
{
    uint8_t in[17] = {(uint8_t)kind}, h[8];
    memcpy(in + 1, b, n);
    crypto_shorthash(h, in, n + 1, g->hash_key);
    uint64_t k;
    memcpy(&k, h, sizeof k);
    return k | 1; /* 0 marks a free slot */
}

static bool stale(const srv_guard *g, const slot *s, int64_t now)
{
    return s->key == 0 || now - s->window_start >= g->p.window_s;
}

/* The slot of `key` (its window restarted when over), or a slot to reuse (free, expired, or
 * the oldest of the probe run); NULL when absent and not `create`. */
static slot *find(srv_guard *g, uint64_t key, int64_t now, bool create)
{
    slot *victim = NULL;
    for (int i = 0; i < PROBE; i++) {
        slot *s = &g->slots[(key + (uint64_t)i) % SLOTS];
        if (s->key == key) {
            if (stale(g, s, now)) {
                s->window_start = now;
                s->fails = 0;
            }
            return s;
        }
        if (!victim || (!stale(g, victim, now) &&
                        (stale(g, s, now) || s->window_start < victim->window_start)))
            victim = s;
    }
    if (!create)
        return NULL;
    *victim = (slot){.key = key, .window_start = now};
    return victim;
}

/* Seconds until `s`'s window ends when it is over `limit` (at least 1), else 0. */
static int over(const srv_guard *g, const slot *s, int limit, int64_t now)
{
    if (!s || limit <= 0 || s->fails < limit || stale(g, s, now))
        return 0;
    int64_t left = g->p.window_s - (now - s->window_start);
    return left > 0 ? (int)left : 1;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

int srv_guard_blocked(srv_guard *g, const void *addr)
{
    uint8_t b[16];
    size_t prefix, n = addr_bytes(addr, b, &prefix);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&g->lock);
    int wait = over(g, &g->global, g->p.global_limit, now);
    if (n) {
        wait = max_int(wait,
                       over(g, find(g, hash_key(g, 'a', b, n), now, false), g->p.addr_limit, now));
        wait = max_int(wait, over(g, find(g, hash_key(g, 'p', b, prefix), now, false),
                                  g->p.prefix_limit, now));
    }
    pthread_mutex_unlock(&g->lock);
    return wait;
}

void srv_guard_fail(srv_guard *g, const void *addr)
{
    uint8_t b[16];
    size_t prefix, n = addr_bytes(addr, b, &prefix);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&g->lock);
    if (stale(g, &g->global, now))
        g->global = (slot){.key = 1, .window_start = now};
    g->global.fails++;
    if (n) {
        find(g, hash_key(g, 'a', b, n), now, true)->fails++;
        if (g->p.prefix_limit > 0)
            find(g, hash_key(g, 'p', b, prefix), now, true)->fails++;
    }
    pthread_mutex_unlock(&g->lock);
}
