/*
 * A bump allocator. Everything allocated from an arena is freed at once by
 * np_arena_free_all(); there is no per-object free. Snapshots and per-request
 * traces live in arenas.
 */
#ifndef NP_ARENA_H
#define NP_ARENA_H

#include <stddef.h>
#include <string.h>

#define NP_ARENA_ALIGN 16

struct np_arena_block {
    struct np_arena_block *next;
    size_t size;
    _Alignas(NP_ARENA_ALIGN) unsigned char data[];
};

struct np_arena {
    struct np_arena_block *head;
    size_t used;                 /* bytes used in head */
    size_t total;                /* bytes handed out, for statistics */
    struct np_arena_block *lent; /* np_arena_init_lent()'s block, or NULL */
};

/* Initializes an empty arena in the caller's storage. */
void np_arena_init(struct np_arena *a);

/* Initializes an arena whose first block is the caller's buf (size bytes,
 * aligned like max_align_t, e.g. on the stack): an arena that stays small,
 * like a query's trace, never calls malloc. buf must outlive the arena,
 * which must not be absorbed into another. */
void np_arena_init_lent(struct np_arena *a, void *buf, size_t size);

/* np_arena_alloc() when the current block has no room left. */
void *np__arena_alloc_slow(struct np_arena *a, size_t n);

/* Returns n zeroed bytes aligned for any type, or NULL when out of memory.
 * Inline: a traced query allocates its results a few at a time. */
static inline void *
np_arena_alloc(struct np_arena *a, size_t n)
{
    size_t m = (n + NP_ARENA_ALIGN - 1) & ~(size_t)(NP_ARENA_ALIGN - 1);
    void *p;

    if (n == 0 || m < n || a->head == NULL || a->head->size - a->used < m)
        return np__arena_alloc_slow(a, n);
    p = a->head->data + a->used;
    a->used += m;
    a->total += m;
    memset(p, 0, n);
    return p;
}

/* Returns n * size zeroed bytes, or NULL on overflow or out of memory. */
static inline void *
np_arena_calloc(struct np_arena *a, size_t n, size_t size)
{
    if (size != 0 && n > (size_t)-1 / size)
        return NULL;
    return np_arena_alloc(a, n * size);
}

/* Copies s (NULL gives NULL) into the arena. */
char *np_arena_strdup(struct np_arena *a, const char *s);

/* Copies n bytes of s and a terminating NUL into the arena. */
char *np_arena_strndup(struct np_arena *a, const char *s, size_t n);

/* printf into the arena; NULL when out of memory. */
char *np_arena_printf(struct np_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Moves every block of src into dst, which then owns what was allocated
 * from src; src is left empty. */
void np_arena_absorb(struct np_arena *dst, struct np_arena *src);

/* Frees every block; the arena is empty and reusable afterwards. */
void np_arena_free_all(struct np_arena *a);

#endif
