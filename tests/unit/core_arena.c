/*
 * The bump allocator snapshots and traces live in (core/arena.h), and its
 * lent first block: a traced query's arena starts on the caller's stack.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"

static bool
inside(const void *p, const void *buf, size_t size)
{
    return (const char *)p >= (const char *)buf &&
           (const char *)p < (const char *)buf + size;
}

Test(arena, allocations_are_zeroed_aligned_and_distinct)
{
    struct np_arena a;
    unsigned char *p[100];
    size_t i, j;

    np_arena_init(&a);
    for (i = 0; i < 100; i++) {
        p[i] = np_arena_alloc(&a, 1 + i * 37);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % 16, 0);
        for (j = 0; j < 1 + i * 37; j++)
            cr_assert_eq(p[i][j], 0);
        memset(p[i], (int)(i + 1), 1 + i * 37);
    }
    /* Each kept its own bytes: nothing overlapped. */
    for (i = 0; i < 100; i++)
        for (j = 0; j < 1 + i * 37; j++)
            cr_assert_eq(p[i][j], (unsigned char)(i + 1));
    np_arena_free_all(&a);
    cr_assert_null(a.head);
}

/* Small allocations come from the lent block; once it is full they go on
 * in malloc'ed blocks; np_arena_free_all() frees those and leaves the
 * caller's buffer alone (the sanitizer build would see a free of the
 * stack). */
Test(arena, a_lent_block_first_then_malloc)
{
    _Alignas(16) unsigned char buf[1024];
    struct np_arena a;
    void *first, *big, *after;
    size_t n = 0;

    memset(buf, 0xab, sizeof(buf));
    np_arena_init_lent(&a, buf, sizeof(buf));
    first = np_arena_alloc(&a, 100);
    cr_assert(inside(first, buf, sizeof(buf)));
    cr_assert_eq(((unsigned char *)first)[99], 0, "cleared like any other");
    /* Fill the lent block. */
    while (inside(after = np_arena_alloc(&a, 64), buf, sizeof(buf)))
        n++;
    cr_assert_gt(n, 5);
    cr_assert_not_null(after);
    cr_assert_eq((uintptr_t)after % 16, 0);
    big = np_arena_alloc(&a, 100000);
    cr_assert_not_null(big);
    cr_assert(!inside(big, buf, sizeof(buf)));
    np_arena_free_all(&a);
    cr_assert_null(a.head);
    cr_assert_null(a.lent);
    /* Reusable afterwards, as an ordinary arena. */
    cr_assert_not_null(np_arena_alloc(&a, 10));
    np_arena_free_all(&a);
}

/* A buffer too small or misaligned for a block is not used at all. */
Test(arena, an_unusable_buffer_is_ignored)
{
    _Alignas(16) unsigned char buf[64];
    struct np_arena a;
    void *p;

    np_arena_init_lent(&a, buf + 1, sizeof(buf) - 1);
    cr_assert_null(a.lent);
    np_arena_init_lent(&a, buf, 8);
    cr_assert_null(a.lent);
    p = np_arena_alloc(&a, 10);
    cr_assert_not_null(p);
    cr_assert(!inside(p, buf, sizeof(buf)));
    np_arena_free_all(&a);
}
