/*
 * GET /pods/{namespace}/{name}/isolation: which policies isolate a pod in
 * each direction and why, as CONTRACT.md shapes it, and the same for a
 * workload's template pod (GET /workloads/{namespace}/{kind}/{name}/isolation).
 * The verdict is the core's (np_pod_isolation); the JSON is encode.c's.
 */
#include "api/internal.h"

#include <jansson.h>

void
api_isolation_get(struct api_ctx *ctx, const struct api_request *req,
                  const char *const *params, size_t nparams,
                  struct api_response *resp)
{
    struct np_snapshot *snap;
    const struct np_pod *pod;
    json_t *out;

    (void)req;
    if (nparams != 2) {
        api_reply_errorf(resp, NP_E_INTERNAL, "route without pod parameters");
        return;
    }
    snap = np_state_acquire(&ctx->state);
    pod = np_snapshot_find_pod(snap, params[0], params[1]);
    if (pod == NULL) {
        api_reply_errorf(resp, NP_E_UNKNOWN_POD,
                         "no pod %.200s in namespace %.63s", params[1],
                         params[0]);
        goto out;
    }
    out = api_isolation_encode(snap, pod);
    if (out == NULL)
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory writing the answer");
    else
        api_reply_json(resp, 200, out);
out:
    np_snapshot_release(snap);
}

void
api_workload_isolation_get(struct api_ctx *ctx, const struct api_request *req,
                           const char *const *params, size_t nparams,
                           struct api_response *resp)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    const struct np_pod *wl;
    json_t *out;

    (void)req;
    wl = api_workload_find_or_reply(snap, params, nparams, resp);
    if (wl != NULL) {
        out = api_isolation_encode(snap, wl);
        if (out == NULL)
            api_reply_errorf(resp, NP_E_NOMEM,
                             "out of memory writing the answer");
        else
            api_reply_json(resp, 200, out);
    }
    np_snapshot_release(snap);
}
