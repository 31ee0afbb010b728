/*
 * Read-only listings of the current snapshot: namespaces, pods and workloads
 * (filtered by namespace and by a kubectl-syntax label selector, on template
 * labels for workloads) and network policies, each list or object stamped
 * with the revision it was read from. Objects
 * are encoded by encode.c; uploads and deletions are state.c's.
 */
#include "api/internal.h"

#include <jansson.h>

#include "core/arena.h"
#include "core/selector.h"
#include "core/workload.h"

/* Answers {"revision": N, key: items} or a 500 when items is NULL; steals
 * items. */
static void
reply_list(struct api_response *resp, const struct np_snapshot *snap,
           const char *key, json_t *items)
{
    json_t *out;

    if (items == NULL) {
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory writing the list");
        return;
    }
    out = json_pack("{s:I,s:o}", "revision", (json_int_t)snap->revision, key,
                    items);
    if (out == NULL) {
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory writing the list");
        return;
    }
    api_reply_json(resp, 200, out);
}

/* Answers obj with "revision" added, or a 500 when obj is NULL; steals
 * obj. */
static void
reply_object(struct api_response *resp, const struct np_snapshot *snap,
             json_t *obj)
{
    if (obj == NULL ||
        json_object_set_new(obj, "revision",
                            json_integer((json_int_t)snap->revision)) != 0) {
        json_decref(obj);
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory writing the answer");
        return;
    }
    api_reply_json(resp, 200, obj);
}

/* Appends v to a; on failure drops a and returns NULL. */
static json_t *
append(json_t *a, json_t *v)
{
    if (a == NULL || json_array_append_new(a, v) != 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

void
api_namespaces_list(struct api_ctx *ctx, const struct api_request *req,
                    const char *const *params, size_t nparams,
                    struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    json_t *items = json_array();
    uint32_t i;

    (void)req;
    (void)params;
    (void)nparams;
    for (i = 0; i < snap->nnamespaces && items != NULL; i++)
        items = append(items, api_namespace_encode(snap, &snap->namespaces[i]));
    reply_list(resp, snap, "namespaces", items);
    np_snapshot_release(snap);
}

void
api_namespace_get(struct api_ctx *ctx, const struct api_request *req,
                  const char *const *params, size_t nparams,
                  struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const struct np_namespace *ns;

    (void)req;
    ns = nparams == 1 ? np_snapshot_find_namespace(snap, params[0]) : NULL;
    if (ns == NULL)
        api_reply_errorf(resp, NP_E_UNKNOWN_NAMESPACE,
                         "no namespace %.63s: no object declares or uses it",
                         nparams == 1 ? params[0] : "");
    else
        reply_object(resp, snap, api_namespace_encode(snap, ns));
    np_snapshot_release(snap);
}

/* The objects a namespace-filtered listing reads. */
enum range {
    RANGE_PODS,
    RANGE_POLICIES,
    RANGE_WORKLOADS,
};

/* The range [*first, *first + *n) of objects in the namespace named by the
 * "namespace" argument, or every object without it. An unknown namespace has
 * none, as in kubectl. */
static void
namespace_range(const struct np_snapshot *snap, const struct api_request *req,
                enum range what, uint32_t *first, uint32_t *n)
{
    const char *name = api_query_get(req, "namespace");
    const struct np_namespace *ns;

    *first = 0;
    *n = 0;
    if (name == NULL || name[0] == '\0') {
        switch (what) {
        case RANGE_PODS:
            *n = snap->npods;
            break;
        case RANGE_POLICIES:
            *n = snap->npolicies;
            break;
        case RANGE_WORKLOADS:
            *n = snap->nworkloads;
            break;
        }
        return;
    }
    ns = np_snapshot_find_namespace(snap, name);
    if (ns == NULL)
        return;
    switch (what) {
    case RANGE_PODS:
        *first = ns->first_pod;
        *n = ns->npods;
        break;
    case RANGE_POLICIES:
        *first = ns->first_policy;
        *n = ns->npolicies;
        break;
    case RANGE_WORKLOADS:
        *first = ns->first_workload;
        *n = ns->nworkloads;
        break;
    }
}

/* GET /pods and GET /workloads: the objects of the namespace argument whose
 * labels match the labelSelector argument. A workload's labels here are its
 * template's, which its pods carry, not its own metadata.labels. */
static void
list_labeled(struct api_ctx *ctx, const struct api_request *req, bool workloads,
             struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const char *sel_text = api_query_get(req, "labelSelector");
    const struct np_pod *objs = workloads ? snap->workloads : snap->pods;
    struct np_selector sel;
    struct np_error err;
    struct np_arena a;
    json_t *items;
    uint32_t first, n, i;

    np_arena_init(&a);
    np_error_init(&err);
    if (sel_text != NULL &&
        np_selector_parse(sel_text, snap->syms, &a, &sel, &err) != 0) {
        np_error_path(&err, "labelSelector");
        api_reply_error(resp, &err);
        goto out;
    }
    namespace_range(snap, req, workloads ? RANGE_WORKLOADS : RANGE_PODS, &first,
                    &n);
    items = json_array();
    for (i = first; i < first + n && items != NULL; i++) {
        const struct np_pod *p = &objs[i];

        if (sel_text != NULL && !np_selector_matches(&sel, &p->labels))
            continue;
        items = append(items, workloads ? api_workload_encode(snap, p)
                                        : api_pod_encode(snap, p));
    }
    reply_list(resp, snap, workloads ? "workloads" : "pods", items);
out:
    np_arena_free_all(&a);
    np_snapshot_release(snap);
}

void
api_pods_list(struct api_ctx *ctx, const struct api_request *req,
              const char *const *params, size_t nparams,
              struct api_response *resp)
{
    (void)params;
    (void)nparams;
    list_labeled(ctx, req, false, resp);
}

void
api_pod_get(struct api_ctx *ctx, const struct api_request *req,
            const char *const *params, size_t nparams,
            struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const struct np_pod *pod;

    (void)req;
    pod =
        nparams == 2 ? np_snapshot_find_pod(snap, params[0], params[1]) : NULL;
    if (pod == NULL)
        api_reply_errorf(
            resp, NP_E_UNKNOWN_POD, "no pod %.200s in namespace %.63s",
            nparams == 2 ? params[1] : "", nparams == 2 ? params[0] : "");
    else
        reply_object(resp, snap, api_pod_encode(snap, pod));
    np_snapshot_release(snap);
}

void
api_policies_list(struct api_ctx *ctx, const struct api_request *req,
                  const char *const *params, size_t nparams,
                  struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    json_t *items = json_array();
    uint32_t first, n, i;

    (void)params;
    (void)nparams;
    namespace_range(snap, req, RANGE_POLICIES, &first, &n);
    for (i = first; i < first + n && items != NULL; i++)
        items = append(items, api_policy_encode(snap, &snap->policies[i]));
    reply_list(resp, snap, "networkPolicies", items);
    np_snapshot_release(snap);
}

void
api_policy_get(struct api_ctx *ctx, const struct api_request *req,
               const char *const *params, size_t nparams,
               struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const struct np_policy *pol;

    (void)req;
    pol = nparams == 2 ? np_snapshot_find_policy(snap, params[0], params[1])
                       : NULL;
    if (pol == NULL)
        api_reply_errorf(resp, NP_E_UNKNOWN_POLICY,
                         "no NetworkPolicy %.200s in namespace %.63s",
                         nparams == 2 ? params[1] : "",
                         nparams == 2 ? params[0] : "");
    else
        reply_object(resp, snap, api_policy_encode(snap, pol));
    np_snapshot_release(snap);
}

void
api_workloads_list(struct api_ctx *ctx, const struct api_request *req,
                   const char *const *params, size_t nparams,
                   struct api_response *resp)
{
    (void)params;
    (void)nparams;
    list_labeled(ctx, req, true, resp);
}

const struct np_pod *
api_workload_find_or_reply(const struct np_snapshot *snap,
                           const char *const *params, size_t nparams,
                           struct api_response *resp)
{
    const struct np_pod *wl;

    if (nparams < 3) {
        api_reply_errorf(resp, NP_E_INTERNAL, "route without a workload");
        return NULL;
    }
    if (!np_workload_kind_is_valid(params[1])) {
        api_reply_errorf(resp, NP_E_INVALID_VALUE,
                         "\"%.60s\" is not a workload kind: use %s "
                         "(kinds are case-sensitive)",
                         params[1], np_workload_kinds_text());
        return NULL;
    }
    wl = np_snapshot_find_workload(snap, params[0], params[1], params[2]);
    if (wl == NULL)
        api_reply_errorf(resp, NP_E_UNKNOWN_WORKLOAD,
                         "no workload %s/%.200s in namespace %.63s", params[1],
                         params[2], params[0]);
    return wl;
}

void
api_workload_get(struct api_ctx *ctx, const struct api_request *req,
                 const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const struct np_pod *wl;

    (void)req;
    wl = api_workload_find_or_reply(snap, params, nparams, resp);
    if (wl != NULL)
        reply_object(resp, snap, api_workload_encode(snap, wl));
    np_snapshot_release(snap);
}
