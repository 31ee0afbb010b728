/*
 * Helpers shared by the files of core/ only.
 */
#ifndef NP_INTERNAL_H
#define NP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over a NUL-terminated string. */
uint64_t np__hash_str(const char *s);

/* Growable array of uint32_t. */
struct np__u32vec {
    uint32_t *v;
    size_t n, cap;
};

/* Appends x; returns 0 or -1 when out of memory. */
int np__u32vec_push(struct np__u32vec *vec, uint32_t x);
void np__u32vec_fini(struct np__u32vec *vec);

#endif
