/*
 * Bump allocator over a list of malloc'ed blocks. Large requests get a block
 * of their own so that a big array does not waste the rest of a block.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536
#define ARENA_ALIGN NP_ARENA_ALIGN

void
np_arena_init(struct np_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
    a->lent = NULL;
}

void
np_arena_init_lent(struct np_arena *a, void *buf, size_t size)
{
    struct np_arena_block *b = buf;

    np_arena_init(a);
    if (buf == NULL || size <= sizeof(*b) + ARENA_ALIGN ||
        ((uintptr_t)buf & (ARENA_ALIGN - 1)) != 0)
        return;
    b->next = NULL;
    b->size = (size - sizeof(*b)) & ~(size_t)(ARENA_ALIGN - 1);
    a->head = b;
    a->lent = b;
}

/* n bytes aligned for any type, not cleared. */
static void *
alloc_raw(struct np_arena *a, size_t n)
{
    struct np_arena_block *b;
    size_t size;
    void *p;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN - sizeof(*b))
        return NULL;
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->head == NULL || a->head->size - a->used < n) {
        size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->size = size;
        if (size == n && a->head != NULL) {
            /* A dedicated block goes behind the current one, which keeps
             * its free space. */
            b->next = a->head->next;
            a->head->next = b;
            a->total += n;
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    p = a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *
np__arena_alloc_slow(struct np_arena *a, size_t n)
{
    void *p = alloc_raw(a, n);

    if (p != NULL)
        memset(p, 0, n == 0 ? 1 : n);
    return p;
}

char *
np_arena_strndup(struct np_arena *a, const char *s, size_t n)
{
    char *p;

    if (s == NULL)
        return NULL;
    /* Every byte is written below: no need to clear them first. */
    p = alloc_raw(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
np_arena_strdup(struct np_arena *a, const char *s)
{
    if (s == NULL)
        return NULL;
    return np_arena_strndup(a, s, strlen(s));
}

char *
np_arena_printf(struct np_arena *a, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    p = np_arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    if ((size_t)n < sizeof(small)) {
        memcpy(p, small, (size_t)n + 1);
        return p;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
np_arena_absorb(struct np_arena *dst, struct np_arena *src)
{
    struct np_arena_block *last;

    if (src->head == NULL)
        return;
    if (dst->head == NULL) {
        *dst = *src;
        np_arena_init(src);
        return;
    }
    /* src's blocks go behind dst's current one, which keeps its free
     * space. */
    for (last = src->head; last->next != NULL; last = last->next)
        ;
    last->next = dst->head->next;
    dst->head->next = src->head;
    dst->total += src->total;
    np_arena_init(src);
}

void
np_arena_free_all(struct np_arena *a)
{
    struct np_arena_block *b, *next;

    for (b = a->head; b != NULL; b = next) {
        next = b->next;
        if (b != a->lent)
            free(b);
    }
    np_arena_init(a);
}
