/*
 * np_builder: collects model objects, validates each one as the API server
 * would, and compiles them into a new immutable snapshot.
 *
 * Usage for an upload: np_builder_new(), np_builder_add_*() for every object
 * of the body (errors name the field path inside the object), then for
 * POST /state np_builder_keep_from(base) to carry over the objects the body
 * does not replace, then np_builder_build(). An error at any step leaves the
 * published state untouched: the caller simply frees the builder.
 */
#ifndef NP_BUILDER_H
#define NP_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/model.h"
#include "core/snapshot.h"

/* NP_KIND_WORKLOAD covers the seven workload kinds (core/workload.h); the
 * builder names a workload by its namespace and "Kind/name". */
enum np_kind {
    NP_KIND_NAMESPACE,
    NP_KIND_POD,
    NP_KIND_POLICY,
    NP_KIND_WORKLOAD,
    NP_KIND__MAX
};

struct np_builder;

/* Warnings a builder keeps; later ones are dropped. */
#define NP_BUILDER_MAX_WARNINGS 1000

/* Returns a new empty builder, or NULL when out of memory. Caller owns it. */
struct np_builder *np_builder_new(void);

void np_builder_free(struct np_builder *b);

/* Validate and copy one object. A second object of the same kind, namespace
 * and name is NP_E_DUPLICATE_OBJECT. Return 0, or -1 with err set; err->path
 * is relative to the object ("spec.ingress[0].ports[1].port"). */
int np_builder_add_namespace(struct np_builder *b,
                             const struct np_model_namespace *ns,
                             struct np_error *err);
int np_builder_add_pod(struct np_builder *b, const struct np_model_pod *pod,
                       struct np_error *err);
int np_builder_add_policy(struct np_builder *b,
                          const struct np_model_policy *pol,
                          struct np_error *err);
/* A workload's kind, name, template labels and ports are validated like a
 * pod's; label paths start at the template ("spec.template.metadata.labels",
 * "spec.jobTemplate.spec.template.metadata.labels" for a CronJob). */
int np_builder_add_workload(struct np_builder *b,
                            const struct np_model_workload *w,
                            struct np_error *err);

/* Moves every object and warning of src (filled by any thread, then left
 * alone) into dst, as if src's adds had been made on dst after dst's own:
 * the objects keep their order of adds, warnings are appended up to
 * NP_BUILDER_MAX_WARNINGS, and an object of src that dst already has is
 * NP_E_DUPLICATE_OBJECT with the message and path np_builder_add_*() gives
 * (for the first such object in src's order of adds). Returns 0 with src
 * left empty, or -1 with err set and both builders unchanged. A warning
 * src dropped at its own limit is not recovered, and warnings a
 * np_builder_add_*() on dst would have dropped are not told apart: callers
 * that report each object's warnings check that dst's and src's counts
 * together stay within NP_BUILDER_MAX_WARNINGS. */
int np_builder_absorb(struct np_builder *dst, struct np_builder *src,
                      struct np_error *err);

/* Copies every object of base that the builder has no object of the same
 * kind, namespace and name for (POST /state semantics). Returns 0 or -1. */
int np_builder_keep_from(struct np_builder *b, const struct np_snapshot *base,
                         struct np_error *err);

/* Removes an object added so far; a workload's name is "Kind/name". Removing
 * a namespace removes its pods, policies and workloads too. Returns true when
 * something was removed. */
bool np_builder_remove(struct np_builder *b, enum np_kind kind, const char *ns,
                       const char *name);

/* Number of objects of a kind added so far. */
size_t np_builder_count(const struct np_builder *b, enum np_kind kind);

/* Warnings collected while adding (e.g. host bits in a CIDR), borrowed from
 * b. */
size_t np_builder_nwarnings(const struct np_builder *b);
const char *np_builder_warning(const struct np_builder *b, size_t i);

/* Compiles everything into a new snapshot with the given revision. Returns it
 * (one reference, owned by the caller), or NULL with err set. The builder is
 * left empty and may only be freed afterwards. */
struct np_snapshot *np_builder_build(struct np_builder *b, uint64_t revision,
                                     struct np_error *err);

#endif
