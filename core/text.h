/*
 * A growing text. Trace sentences are written into one: a scratch text
 * copied into an arena (np_eval_trace), or the very buffer of an answer
 * being written, which saves building each sentence twice.
 */
#ifndef NP_TEXT_H
#define NP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct np_text {
    char *p; /* malloc'ed, grown with realloc; not NUL-terminated */
    size_t len, cap;
    bool fail; /* out of memory: later writes do nothing */
};

/* Makes cap greater than len + more, or sets t->fail. */
void np_text_grow(struct np_text *t, size_t more);

/* Copies n bytes from s to d. Trace texts are written in pieces of a few
 * to a few dozen bytes: up to 32 bytes go in two overlapping moves of the
 * first and last bytes (never reading outside s[0..n)), without the call
 * to memcpy and its dispatch on the size. */
static inline void
np_copy_small(char *d, const char *s, size_t n)
{
    uint64_t a, b;

    if (n >= 8 && n <= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n > 16 && n <= 32) {
        uint64_t c, e;

        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + n - 16, 8);
        memcpy(&e, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + 8, &b, 8);
        memcpy(d + n - 16, &c, 8);
        memcpy(d + n - 8, &e, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x, y;

        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n < 4) {
        if (n > 0) {
            d[0] = s[0];
            d[n / 2] = s[n / 2];
            d[n - 1] = s[n - 1];
        }
    } else {
        memcpy(d, s, n);
    }
}

static inline void
np_text_put(struct np_text *t, const char *s, size_t n)
{
    if (t->len + n + 1 >= t->cap) {
        np_text_grow(t, n + 1);
        if (t->fail)
            return;
    }
    if (__builtin_constant_p(n))
        memcpy(t->p + t->len, s, n);
    else
        np_copy_small(t->p + t->len, s, n);
    t->len += n;
}

static inline void
np_text_puts(struct np_text *t, const char *s)
{
    np_text_put(t, s, strlen(s));
}

void np_text_putu_slow(struct np_text *t, unsigned long long n);

/* n in decimal. Traces write mostly indexes below ten. */
static inline void
np_text_putu(struct np_text *t, unsigned long long n)
{
    if (n < 10 && t->len + 2 < t->cap) {
        t->p[t->len++] = (char)('0' + n);
        return;
    }
    np_text_putu_slow(t, n);
}

/* Frees the buffer; t is empty again. */
void np_text_fini(struct np_text *t);

#endif
