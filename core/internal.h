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

/* workload.c, for the builder. */
struct np_model_workload;
struct np_error;
struct np_arena;

/* Checks what workloads do not share with pods (the kind, name lengths);
 * paths are relative to the object. Returns 0, or -1 with err set. */
int np__workload_validate(const struct np_model_workload *w,
                          struct np_error *err);

/* Compiles the n workload models (namespace_ set, namespaces built) into
 * snap->workloads with their policies, and links pods and workloads to their
 * owners; runs after pods, policies and their selection. Allocates in a (the
 * snapshot's arena). Returns 0, or -1 with err set. */
struct np_snapshot;
int np__workloads_build(struct np_snapshot *snap, struct np_arena *a,
                        const struct np_model_workload *const *models, size_t n,
                        struct np_error *err);

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
