/*
 * String interning: each distinct string gets a small integer id (np_sym).
 * Every snapshot owns its own table, so ids are meaningful only with the
 * snapshot that made them, and a state replaced by an upload frees its
 * strings with it.
 */
#ifndef NP_INTERN_H
#define NP_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t np_sym;

/* No string: the id of "absent". Real ids start at 1. */
#define NP_SYM_NONE ((np_sym)0)

struct np_intern;

/* Returns a new empty table, or NULL when out of memory. Caller owns it. */
struct np_intern *np_intern_new(void);

void np_intern_free(struct np_intern *t);

/* Returns the id of s, adding it if new; NP_SYM_NONE when out of memory. */
np_sym np_intern_add(struct np_intern *t, const char *s);

/* Returns the id of s, or NP_SYM_NONE when s was never added. */
np_sym np_intern_find(const struct np_intern *t, const char *s);

/* Returns the string of id (borrowed from t), or "" for NP_SYM_NONE. */
const char *np_intern_str(const struct np_intern *t, np_sym id);

/* Returns the number of distinct strings. */
size_t np_intern_count(const struct np_intern *t);

#endif
