/*
 * A growing text (text.h).
 */
#include "core/text.h"

#include <stdlib.h>

void
np_text_grow(struct np_text *t, size_t more)
{
    size_t ncap;
    char *np;

    if (t->fail)
        return;
    ncap = t->cap == 0 ? 256 : t->cap;
    while (ncap <= t->len + more) {
        if (ncap > ((size_t)-1) / 2) {
            t->fail = true;
            return;
        }
        ncap *= 2;
    }
    np = realloc(t->p, ncap);
    if (np == NULL) {
        t->fail = true;
        return;
    }
    t->p = np;
    t->cap = ncap;
}

void
np_text_putu_slow(struct np_text *t, unsigned long long n)
{
    char buf[24];
    size_t k = sizeof(buf);

    do {
        buf[--k] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    np_text_put(t, buf + k, sizeof(buf) - k);
}

void
np_text_fini(struct np_text *t)
{
    free(t->p);
    t->p = NULL;
    t->len = t->cap = 0;
    t->fail = false;
}
