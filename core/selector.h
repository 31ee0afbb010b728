/*
 * Label selectors: compiled from model selectors (matchLabels and
 * matchExpressions) or parsed from kubectl's string syntax
 * ("app=web,tier!=db,env in (prod,stage),!legacy"), and matched against label
 * sets. Requirements combine with AND; an empty selector matches everything.
 */
#ifndef NP_SELECTOR_H
#define NP_SELECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/intern.h"
#include "core/labels.h"
#include "core/model.h"

enum np_sel_op {
    NP_SEL_IN,             /* matchLabels k: v, "k=v", "k in (a,b)" */
    NP_SEL_NOT_IN,         /* "k!=v", "k notin (a,b)": true when k is absent */
    NP_SEL_EXISTS,         /* "k" */
    NP_SEL_DOES_NOT_EXIST, /* "!k" */
    NP_SEL__MAX
};

struct np_sel_req {
    np_sym key;
    enum np_sel_op op;
    uint32_t nvalues;
    const np_sym *values; /* sorted ids */
    const char *text;     /* "team=ateam", "env in (prod,stage)" */
    uint32_t text_len;
};

struct np_selector {
    uint32_t nreqs;
    const struct np_sel_req *reqs;
    const char *text; /* whole selector in kubectl syntax; "" when empty */
    uint32_t text_len;
};

/* Validates sel as the API server does (label keys and values, operators,
 * values present exactly for In/NotIn). path names sel for the error, e.g.
 * "spec.podSelector". Returns 0, or -1 with err set (path included). */
int np_selector_validate(const struct np_model_selector *sel, const char *path,
                         struct np_error *err);

/* Compiles a validated model selector; strings are interned into t and the
 * compiled form lives in arena a. Returns 0, or -1 when out of memory. */
int np_selector_compile(const struct np_model_selector *sel,
                        struct np_intern *t, struct np_arena *a,
                        struct np_selector *out, struct np_error *err);

/* Parses kubectl's selector syntax against a finished snapshot's table t
 * (strings t lacks cannot match, but still parse). Returns 0, or -1 with err
 * set (NP_E_INVALID_SELECTOR). */
int np_selector_parse(const char *s, const struct np_intern *t,
                      struct np_arena *a, struct np_selector *out,
                      struct np_error *err);

/* Returns true when ls satisfies every requirement of sel. */
bool np_selector_matches(const struct np_selector *sel,
                         const struct np_labels *ls);

/* Returns the index of the first requirement of sel that ls fails, or -1 when
 * ls matches. */
int np_selector_first_mismatch(const struct np_selector *sel,
                               const struct np_labels *ls);

/* Returns true for a selector with no requirements. */
bool np_selector_is_empty(const struct np_selector *sel);

#endif
