/*
 * Interning with an open-addressing hash table (linear probing) over ids;
 * strings live in an arena owned by the table. Ids are dense, starting at 1.
 */
#include "core/intern.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/internal.h"

struct np_intern {
    struct np_arena arena;
    const char **strs; /* by id; strs[0] is "" */
    uint32_t *hashes;  /* low 32 bits of each string's hash, by id */
    size_t nstrs, capstrs;
    uint32_t *slots; /* ids, 0 = empty */
    size_t nslots;   /* power of two */
};

uint64_t
np__hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int
np__u32vec_push(struct np__u32vec *vec, uint32_t x)
{
    uint32_t *nv;
    size_t ncap;

    if (vec->n == vec->cap) {
        ncap = vec->cap == 0 ? 8 : vec->cap * 2;
        nv = realloc(vec->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        vec->v = nv;
        vec->cap = ncap;
    }
    vec->v[vec->n++] = x;
    return 0;
}

void
np__u32vec_fini(struct np__u32vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

struct np_intern *
np_intern_new(void)
{
    struct np_intern *t;

    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    np_arena_init(&t->arena);
    t->capstrs = 64;
    t->strs = malloc(t->capstrs * sizeof(*t->strs));
    t->hashes = malloc(t->capstrs * sizeof(*t->hashes));
    t->nslots = 128;
    t->slots = calloc(t->nslots, sizeof(*t->slots));
    if (t->strs == NULL || t->hashes == NULL || t->slots == NULL) {
        np_intern_free(t);
        return NULL;
    }
    t->strs[0] = "";
    t->hashes[0] = 0;
    t->nstrs = 1;
    return t;
}

void
np_intern_free(struct np_intern *t)
{
    if (t == NULL)
        return;
    np_arena_free_all(&t->arena);
    free(t->strs);
    free(t->hashes);
    free(t->slots);
    free(t);
}

static size_t
lookup_slot(const struct np_intern *t, const char *s, uint32_t h)
{
    size_t mask = t->nslots - 1;
    size_t i = h & mask;
    uint32_t id;

    while ((id = t->slots[i]) != 0) {
        if (t->hashes[id] == h && strcmp(t->strs[id], s) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int
grow_slots(struct np_intern *t)
{
    uint32_t *old = t->slots;
    size_t oldn = t->nslots;
    size_t i, j, mask;

    t->nslots = oldn * 2;
    t->slots = calloc(t->nslots, sizeof(*t->slots));
    if (t->slots == NULL) {
        t->slots = old;
        t->nslots = oldn;
        return -1;
    }
    mask = t->nslots - 1;
    for (i = 0; i < oldn; i++) {
        if (old[i] == 0)
            continue;
        j = t->hashes[old[i]] & mask;
        while (t->slots[j] != 0)
            j = (j + 1) & mask;
        t->slots[j] = old[i];
    }
    free(old);
    return 0;
}

np_sym
np_intern_add(struct np_intern *t, const char *s)
{
    uint32_t h = (uint32_t)np__hash_str(s);
    size_t i = lookup_slot(t, s, h);
    const char **ns;
    uint32_t *nh;
    char *copy;

    if (t->slots[i] != 0)
        return t->slots[i];
    if (t->nstrs == t->capstrs) {
        ns = realloc(t->strs, 2 * t->capstrs * sizeof(*ns));
        if (ns == NULL)
            return NP_SYM_NONE;
        t->strs = ns;
        nh = realloc(t->hashes, 2 * t->capstrs * sizeof(*nh));
        if (nh == NULL)
            return NP_SYM_NONE;
        t->hashes = nh;
        t->capstrs *= 2;
    }
    copy = np_arena_strdup(&t->arena, s);
    if (copy == NULL)
        return NP_SYM_NONE;
    t->strs[t->nstrs] = copy;
    t->hashes[t->nstrs] = h;
    t->slots[i] = (uint32_t)t->nstrs;
    t->nstrs++;
    /* Keep the load factor under one half. */
    if (t->nstrs * 2 > t->nslots && grow_slots(t) != 0)
        return NP_SYM_NONE;
    return (np_sym)(t->nstrs - 1);
}

np_sym
np_intern_find(const struct np_intern *t, const char *s)
{
    uint32_t h = (uint32_t)np__hash_str(s);

    return t->slots[lookup_slot(t, s, h)];
}

const char *
np_intern_str(const struct np_intern *t, np_sym id)
{
    if (id >= t->nstrs)
        return "";
    return t->strs[id];
}

size_t
np_intern_count(const struct np_intern *t)
{
    return t->nstrs - 1;
}
