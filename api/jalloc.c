/*
 * jansson allocations from a per-thread arena while an upload is decoded.
 *
 * Decoding a large upload creates millions of small json_t values that live
 * only until the manifests are copied into the builder. Allocating them one
 * by one with malloc and freeing them one by one costs more than parsing
 * (glibc spends the time merging freed chunks). Inside a scope opened by
 * api_jarena_enter(), jansson's allocations on this thread come from big
 * blocks instead, frees of them are no-ops, and api_jarena_fini() returns
 * the blocks at once.
 *
 * The rule that keeps this safe: every value created inside a scope is
 * released inside a scope of the same arena, or abandoned, before
 * api_jarena_fini(); values that must outlive it are copied out with the
 * scope left (api_jarena_leave()), which allocates them normally. Outside a
 * scope, and on every other thread, jansson uses malloc and free as usual,
 * and a free of a normal allocation inside a scope still reaches free().
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

#define JARENA_BLOCK ((size_t)1 << 20)
#define JARENA_ALIGN 16

static _Thread_local struct api_jarena *current;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

/* Keeps blocks sorted by address so that a free can tell arena memory from
 * malloc'ed memory by binary search. */
static int
add_block(struct api_jarena *a, char *base, size_t size)
{
    size_t i;

    if (a->nblocks == a->capblocks) {
        size_t ncap = a->capblocks == 0 ? 16 : a->capblocks * 2;
        struct api_jarena_block *nb;

        nb = realloc(a->blocks, ncap * sizeof(*nb));
        if (nb == NULL)
            return -1;
        a->blocks = nb;
        a->capblocks = ncap;
    }
    for (i = a->nblocks; i > 0 && a->blocks[i - 1].base > base; i--)
        a->blocks[i] = a->blocks[i - 1];
    a->blocks[i].base = base;
    a->blocks[i].size = size;
    a->nblocks++;
    return 0;
}

static bool
owns(const struct api_jarena *a, const void *p)
{
    size_t lo = 0, hi = a->nblocks;
    const char *c = p;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c < a->blocks[mid].base)
            hi = mid;
        else if (c >= a->blocks[mid].base + a->blocks[mid].size)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static void *
arena_alloc(struct api_jarena *a, size_t n)
{
    char *b;

    n = (n + JARENA_ALIGN - 1) & ~(size_t)(JARENA_ALIGN - 1);
    if (n > JARENA_BLOCK / 8) {
        /* A large value (a long string, a big array) gets its own block. */
        b = malloc(n);
        if (b == NULL || add_block(a, b, n) != 0) {
            free(b);
            return NULL;
        }
        return b;
    }
    if (a->cur == NULL || JARENA_BLOCK - a->used < n) {
        b = malloc(JARENA_BLOCK);
        if (b == NULL || add_block(a, b, JARENA_BLOCK) != 0) {
            free(b);
            return NULL;
        }
        a->cur = b;
        a->used = 0;
    }
    b = a->cur + a->used;
    a->used += n;
    return b;
}

static void *
jmalloc(size_t n)
{
    if (current != NULL)
        return arena_alloc(current, n);
    return malloc(n);
}

static void
jfree(void *p)
{
    const char *c = p;

    if (p == NULL)
        return;
    if (current != NULL) {
        /* Most frees inside a scope are of values just made, in the block
         * being filled: check it before searching. */
        if (current->cur != NULL && c >= current->cur &&
            c < current->cur + JARENA_BLOCK)
            return;
        if (owns(current, p))
            return;
    }
    free(p);
}

static void
install(void)
{
    json_set_alloc_funcs(jmalloc, jfree);
}

void
api_jalloc_install(void)
{
    pthread_once(&installed, install);
}

void
api_jarena_init(struct api_jarena *a)
{
    memset(a, 0, sizeof(*a));
    api_jalloc_install();
}

void
api_jarena_enter(struct api_jarena *a)
{
    current = a;
}

void
api_jarena_leave(void)
{
    current = NULL;
}

void
api_jarena_fini(struct api_jarena *a)
{
    size_t i;

    if (current == a)
        current = NULL;
    for (i = 0; i < a->nblocks; i++)
        free(a->blocks[i].base);
    free(a->blocks);
    memset(a, 0, sizeof(*a));
}

void
api_json_free(void *p)
{
    jfree(p);
}

struct api_jarena *
api_jarena_current(void)
{
    return current;
}

int
api_jarena_adopt(struct api_jarena *dst, struct api_jarena *src)
{
    size_t i;

    for (i = 0; i < src->nblocks; i++) {
        if (add_block(dst, src->blocks[i].base, src->blocks[i].size) != 0) {
            /* dst keeps what it took; src keeps the rest to free. */
            memmove(src->blocks, src->blocks + i,
                    (src->nblocks - i) * sizeof(*src->blocks));
            src->nblocks -= i;
            return -1;
        }
    }
    free(src->blocks);
    memset(src, 0, sizeof(*src));
    return 0;
}
