/* jsonpos.c: line and column of every JSON value, which jansson does not keep.
 *
 * After jansson has parsed (and so validated) the text, we scan the same text once more with
 * a tiny tokenizer, walking the jansson tree in step: object members come in text order
 * (jansson keeps insertion order, and duplicate keys are rejected at load), array items in
 * index order. Each value's position goes into an open-addressing map keyed by its json_t
 * pointer.
 */
#include "scene_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    const json_t *key;
    ck_srcpos pos;
} slot;

struct ck_jsonpos {
    slot *slots;
    size_t cap, count;
};

typedef struct scanner {
    const char *p, *end, *line_start;
    int line;
    ck_jsonpos *jp;
    int depth;
} scanner;

static size_t hash_ptr(const void *p, size_t cap)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static bool put(ck_jsonpos *jp, const json_t *v, ck_srcpos pos)
{
    if ((jp->count + 1) * 2 > jp->cap) {
        size_t cap = jp->cap ? jp->cap * 2 : 256;
        slot *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < jp->cap; i++) {
            if (!jp->slots[i].key)
                continue;
            size_t h = hash_ptr(jp->slots[i].key, cap);
            while (ns[h].key)
                h = (h + 1) & (cap - 1);
            ns[h] = jp->slots[i];
        }
        free(jp->slots);
        jp->slots = ns;
        jp->cap = cap;
    }
    size_t h = hash_ptr(v, jp->cap);
    while (jp->slots[h].key && jp->slots[h].key != v)
        h = (h + 1) & (jp->cap - 1);
    if (!jp->slots[h].key)
        jp->count++;
    jp->slots[h].key = v;
    jp->slots[h].pos = pos;
    return true;
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '\n') {
            s->line++;
            s->line_start = s->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        s->p++;
    }
}

static ck_srcpos here(const scanner *s)
{
    /* Columns count characters, not bytes, so they match what an editor shows. */
    int col = 1;
    for (const char *q = s->line_start; q < s->p; q++)
        if (((unsigned char)*q & 0xC0) != 0x80)
            col++;
    return (ck_srcpos){s->line, col};
}

static void skip_string(scanner *s)
{
    s->p++; /* opening quote */
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->p + 1 < s->end)
            s->p++;
        s->p++;
    }
    if (s->p < s->end)
        s->p++;
}

static bool scan_value(scanner *s, const json_t *v);

static bool scan_object(scanner *s, const json_t *obj)
{
    s->p++; /* { */
    void *it = json_object_iter((json_t *)obj);
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == '}') {
            s->p++;
            return true;
        }
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != '"' || !it)
            return false;
        skip_string(s); /* key */
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        skip_ws(s);
        if (!scan_value(s, json_object_iter_value(it)))
            return false;
        it = json_object_iter_next((json_t *)obj, it);
    }
}

static bool scan_array(scanner *s, const json_t *arr)
{
    s->p++; /* [ */
    size_t i = 0;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ']') {
            s->p++;
            return true;
        }
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        const json_t *item = json_array_get(arr, i++);
        if (!item || !scan_value(s, item))
            return false;
    }
}

static bool scan_value(scanner *s, const json_t *v)
{
    skip_ws(s);
    if (s->p >= s->end || !v)
        return false;
    if (!put(s->jp, v, here(s)))
        return false;
    if (++s->depth > 2048)
        return false;
    bool ok = true;
    switch (*s->p) {
    case '{':
        ok = json_is_object(v) && scan_object(s, v);
        break;
    case '[':
        ok = json_is_array(v) && scan_array(s, v);
        break;
    case '"':
        skip_string(s);
        break;
    default: /* number, true, false, null */
        while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
            s->p++;
        break;
    }
    s->depth--;
    return ok;
}

ck_jsonpos *scene_jsonpos_build(const char *text, size_t len, json_t *root)
{
    ck_jsonpos *jp = calloc(1, sizeof *jp);
    if (!jp)
        return NULL;
    scanner s = {text, text + len, text, 1, jp, 0};
    /* A UTF-8 byte order mark is not part of the first line's columns. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        s.p += 3, s.line_start += 3;
    /* On a mismatch (which would mean a jansson/scanner disagreement) we keep what we have:
     * positions are for messages only, and unknown ones print as line 0. */
    scan_value(&s, root);
    return jp;
}

void scene_jsonpos_destroy(ck_jsonpos **jpp)
{
    if (!jpp || !*jpp)
        return;
    free((*jpp)->slots);
    free(*jpp);
    *jpp = NULL;
}

ck_srcpos scene_jsonpos_get(const ck_jsonpos *jp, const json_t *v)
{
    if (!jp || !jp->cap || !v)
        return (ck_srcpos){0, 0};
    size_t h = hash_ptr(v, jp->cap);
    while (jp->slots[h].key) {
        if (jp->slots[h].key == v)
            return jp->slots[h].pos;
        h = (h + 1) & (jp->cap - 1);
    }
    return (ck_srcpos){0, 0};
}
