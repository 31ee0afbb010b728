/*
 * For the tests of the two-thread upload paths (api/yaml.c): every request
 * goes to two in-process contexts, once with a split threshold lowered so
 * that large bodies are read on two threads and once with it at SIZE_MAX
 * (the whole body in one go, on one thread). Both must answer the same,
 * status and body byte for byte.
 */
#ifndef TESTS_SUPPORT_SPLIT_H
#define TESTS_SUPPORT_SPLIT_H

#include <stddef.h>

#include "api/api.h"

struct tsplit {
    struct api_ctx split, seq;
    size_t *threshold; /* api_yaml_halves_min_bytes or _json_ */
    size_t saved;      /* its value before tsplit_init() */
    size_t lowered;    /* its value for the split context */
    const char *content_type;
};

/* Sets up both contexts; bodies are sent as content_type. */
void tsplit_init(struct tsplit *t, size_t *threshold, size_t lowered,
                 const char *content_type);

/* Restores the threshold and releases both contexts. */
void tsplit_fini(struct tsplit *t);

/* Sends the request to both contexts and asserts the same answer. Returns
 * the status; *answer (may be NULL) gets the body (malloc'ed). */
int tsplit_both(struct tsplit *t, const char *method, const char *path,
                const char *body, char **answer);

/* Asserts that both contexts hold the same state (the listings). */
void tsplit_same_state(struct tsplit *t);

#endif
