/*
 * A growing text. Trace sentences are written into one: a scratch text
 * copied into an arena (np_eval_trace), or the very buffer of an answer
 * being written, which saves building each sentence twice.
 */
#ifndef NP_TEXT_H
#define NP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct np_text {
    char *p; /* malloc'ed, grown with realloc; not NUL-terminated */
    size_t len, cap;
    bool fail; /* out of memory: later writes do nothing */
};

/* Makes cap greater than len + more, or sets t->fail. */
void np_text_grow(struct np_text *t, size_t more);

static inline void
np_text_put(struct np_text *t, const char *s, size_t n)
{
    if (t->len + n + 1 >= t->cap) {
        np_text_grow(t, n + 1);
        if (t->fail)
            return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static inline void
np_text_puts(struct np_text *t, const char *s)
{
    np_text_put(t, s, strlen(s));
}

/* n in decimal. */
void np_text_putu(struct np_text *t, unsigned long long n);

/* Frees the buffer; t is empty again. */
void np_text_fini(struct np_text *t);

#endif
