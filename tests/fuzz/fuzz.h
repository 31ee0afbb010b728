/*
 * Shared pieces of the libFuzzer harnesses in tests/fuzz/. Each harness
 * defines LLVMFuzzerTestOneInput(); built with -DNETPOLQ_FUZZ=ON and clang it
 * links libFuzzer, and in every build it also links standalone.c, which
 * replays the committed corpus and regression inputs as a CTest test.
 *
 * A harness never prints on bad input: rejecting input is the expected
 * outcome. It calls fuzz_fail() (which aborts) only when an invariant breaks,
 * such as two evaluation paths disagreeing, so the fuzzer records a crash.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "api/internal.h"
#include "core/eval.h"
#include "core/snapshot.h"

/* The libFuzzer entry point: returns 0 for every input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints a message to stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

/* Uploads data as a manifest body in fmt the way PUT /state does: parse,
 * decode into a builder, build. On an error, locates its field path in the
 * body like the server does and checks that the error is complete (code,
 * message). On success, cross-checks the evaluation paths on the snapshot
 * (fuzz_check_snapshot) and encodes every object. */
void fuzz_manifest(const uint8_t *data, size_t size, enum api_format fmt);

/* Evaluates up to the first 12 pods pairwise on a few ports and protocols
 * with np_eval_allowed(), np_eval_trace() and np_matrix_compute() and
 * aborts when they disagree; encodes each traced verdict as JSON. */
void fuzz_check_snapshot(const struct np_snapshot *snap);

/* Writes the reachability answer for aq and v (api_verdict_write()) and
 * aborts unless it is valid JSON whose "allowed" is v->allowed. */
void fuzz_check_verdict_json(const struct np_snapshot *snap,
                             const struct api_query *aq,
                             const struct np_verdict *v);

/* A context holding a small fixed cluster (namespaces with labels, pods with
 * IPv4/IPv6 addresses, named TCP/UDP/SCTP ports, a hostNetwork pod, a few
 * policies), made on first use and kept for the life of the process. */
struct api_ctx *fuzz_fixed_ctx(void);

#endif
