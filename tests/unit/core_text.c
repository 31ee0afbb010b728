/*
 * The growing text trace sentences are written into (core/text.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

Test(text, grows_and_keeps_every_byte)
{
    struct np_text t = { 0 };
    char want[16];
    size_t i;

    for (i = 0; i < 10000; i++) {
        snprintf(want, sizeof(want), "%zu,", i % 97);
        np_text_puts(&t, want);
    }
    cr_assert(!t.fail);
    cr_assert_gt(t.cap, t.len);
    np_text_put(&t, "", 1);
    for (i = 0; i < 10000; i++) {
        char *comma = strchr(t.p, ',');
        size_t n;

        cr_assert_not_null(comma);
        snprintf(want, sizeof(want), "%zu", i % 97);
        n = (size_t)(comma - t.p);
        cr_assert_eq(n, strlen(want));
        cr_assert(strncmp(t.p, want, n) == 0);
        memmove(t.p, comma + 1, strlen(comma + 1) + 1);
    }
    np_text_fini(&t);
    cr_assert_null(t.p);
    cr_assert_eq(t.len, 0);
    cr_assert_eq(t.cap, 0);
}

Test(text, numbers_in_decimal)
{
    static const unsigned long long n[] = {
        0, 7, 10, 65535, 4294967295ULL, 18446744073709551615ULL
    };
    struct np_text t = { 0 };
    size_t i;

    for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        np_text_putu(&t, n[i]);
        np_text_put(&t, " ", 1);
    }
    np_text_put(&t, "", 1);
    cr_assert_str_eq(t.p, "0 7 10 65535 4294967295 18446744073709551615 ");
    np_text_fini(&t);
}

Test(text, empty_put_on_an_empty_text)
{
    struct np_text t = { 0 };

    np_text_put(&t, "", 0);
    cr_assert(!t.fail);
    cr_assert_eq(t.len, 0);
    np_text_fini(&t);
}

/* np_copy_small() for every length up to well past its largest case: the
 * bytes arrive, nothing past n is written, and the source is read only
 * within its n bytes (each source is a malloc of exactly n bytes, which
 * the sanitizer build watches). */
Test(text, small_copies_are_exact_for_every_length)
{
    size_t n, i;

    for (n = 0; n <= 80; n++) {
        char *src = malloc(n > 0 ? n : 1);
        char dst[96];

        cr_assert_not_null(src);
        for (i = 0; i < n; i++)
            src[i] = (char)('a' + (i * 7 + n) % 26);
        memset(dst, '#', sizeof(dst));
        np_copy_small(dst, src, n);
        cr_assert(memcmp(dst, src, n) == 0, "length %zu", n);
        for (i = n; i < sizeof(dst); i++)
            cr_assert_eq(dst[i], '#', "length %zu wrote byte %zu", n, i);
        free(src);
    }
}

/* Pieces of every small length, appended one after the other, give the
 * same text as one copy of the whole. */
Test(text, pieces_of_every_length_add_up)
{
    struct np_text t = { 0 };
    char whole[4096];
    size_t n, off = 0;

    for (n = 0; n <= 40; n++) {
        size_t i;
        char piece[40];

        for (i = 0; i < n; i++)
            piece[i] = (char)('A' + (i + n) % 26);
        np_text_put(&t, piece, n);
        memcpy(whole + off, piece, n);
        off += n;
    }
    cr_assert(!t.fail);
    cr_assert_eq(t.len, off);
    cr_assert(memcmp(t.p, whole, off) == 0);
    np_text_fini(&t);
}
