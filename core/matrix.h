/*
 * All-pairs verdicts: for every source pod in one set and every destination
 * pod in another, whether a connection on one port and protocol is allowed.
 *
 * Instead of evaluating pairs one by one, np_matrix_compute() turns every
 * rule peer into a bitset over the snapshot's pods, ORs the peers of the rules
 * that apply into one egress row per source and one ingress row per
 * destination, transposes the ingress rows and ANDs them with the egress
 * rows, 64 pairs per machine word. The verdicts are the same as
 * np_eval_allowed() gives pair by pair.
 */
#ifndef NP_MATRIX_H
#define NP_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/eval.h"
#include "core/net.h"
#include "core/snapshot.h"

struct np_matrix {
    uint32_t nsrc, ndst;
    size_t row_words; /* 64-bit words per source row: (ndst + 63) / 64 */
    uint64_t *bits;   /* owned; nsrc rows; bit j of row i: src[i] -> dst[j] */
};

/* Computes the verdicts for src x dst (pod ids of snap) on port/proto.
 * Returns 0, or -1 with err set (out of memory). Release with
 * np_matrix_fini(). */
int np_matrix_compute(const struct np_snapshot *snap,
                      const struct np_eval_opts *opts, const uint32_t *src,
                      uint32_t nsrc, const uint32_t *dst, uint32_t ndst,
                      uint16_t port, enum np_proto proto, struct np_matrix *out,
                      struct np_error *err);

/* Returns the verdict for src[i] -> dst[j]. */
bool np_matrix_get(const struct np_matrix *m, uint32_t i, uint32_t j);

/* Number of allowed pairs. */
uint64_t np_matrix_count_allowed(const struct np_matrix *m);

void np_matrix_fini(struct np_matrix *m);

#endif
