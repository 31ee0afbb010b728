/*
 * Helpers shared by the files of core/ only.
 */
#ifndef NP_INTERNAL_H
#define NP_INTERNAL_H

#include <stdbool.h>
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

/* Predicates of eval.c shared with matrix.c, so that both paths give the
 * same verdicts. */
struct np_snapshot;
struct np_eval_opts;
struct np_policy;
struct np_peer;
struct np_pport;
struct np_pod;

/* Whether peer p of policy pol matches pod named by name (not by address). */
bool np__peer_matches_pod(const struct np_snapshot *snap,
                          const struct np_eval_opts *opts,
                          const struct np_policy *pol, const struct np_peer *p,
                          const struct np_pod *pod);

/* Whether port entry pp matches port/proto towards destination pod dst (NULL
 * for an address outside the cluster). */
bool np__pport_matches(const struct np_pport *pp, const struct np_pod *dst,
                       uint16_t port, int proto);

#endif
