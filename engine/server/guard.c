/* guard.c: counts bad links per client address and blocks an address that keeps guessing
 * (429). Addresses are kept only as keyed 64-bit hashes (the key is random per process) in a
 * fixed table, so memory is bounded and nothing readable is kept. IPv6 clients count per /64,
 * since one host can hold a whole /64. */
#include "server_internal.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SLOTS 4096
#define PROBE 8

typedef struct slot {
    uint64_t key;
    int64_t window_start; /* seconds */
    int fails;
} slot;

struct srv_guard {
    pthread_mutex_t lock;
    int limit, window_s;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
    slot slots[SLOTS];
};

srv_guard *srv_guard_create(int limit, int window_s)
{
    srv_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    pthread_mutex_init(&g->lock, NULL);
    g->limit = limit;
    g->window_s = window_s;
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

static uint64_t addr_key(const srv_guard *g, const void *addr)
{
    const struct sockaddr *sa = addr;
    uint8_t h[8];
    if (!sa) {
        memset(h, 0, sizeof h);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = addr;
        crypto_shorthash(h, a->sin6_addr.s6_addr, 8, g->hash_key);
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = addr;
        crypto_shorthash(h, (const uint8_t *)&a->sin_addr, 4, g->hash_key);
    } else {
        memset(h, 0, sizeof h);
    }
    uint64_t k;
    memcpy(&k, h, sizeof k);
    return k | 1; /* 0 marks a free slot */
}

/* The slot of `key`, or a slot to reuse (free, expired or the oldest of the probe run). */
static slot *find(srv_guard *g, uint64_t key, int64_t now, bool create)
{
    slot *victim = NULL;
    for (int i = 0; i < PROBE; i++) {
        slot *s = &g->slots[(key + (uint64_t)i) % SLOTS];
        if (s->key == key) {
            if (now - s->window_start >= g->window_s) {
                s->window_start = now;
                s->fails = 0;
            }
            return s;
        }
        bool stale = s->key == 0 || now - s->window_start >= g->window_s;
        if (!victim || stale || s->window_start < victim->window_start)
            if (!victim || !(victim->key == 0 || now - victim->window_start >= g->window_s))
                victim = s;
    }
    if (!create)
        return NULL;
    *victim = (slot){.key = key, .window_start = now};
    return victim;
}

int srv_guard_blocked(srv_guard *g, const void *addr)
{
    uint64_t key = addr_key(g, addr);
    int64_t now = (int64_t)time(NULL);
    int wait = 0;
    pthread_mutex_lock(&g->lock);
    slot *s = find(g, key, now, false);
    if (s && s->fails >= g->limit)
        wait = (int)(g->window_s - (now - s->window_start));
    pthread_mutex_unlock(&g->lock);
    return wait > 0 ? wait : (s && s->fails >= g->limit ? 1 : 0);
}

void srv_guard_fail(srv_guard *g, const void *addr)
{
    uint64_t key = addr_key(g, addr);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&g->lock);
    slot *s = find(g, key, now, true);
    s->fails++;
    pthread_mutex_unlock(&g->lock);
}
