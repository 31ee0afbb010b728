/*
 * The entry points of api.h: configuration defaults, the context that holds
 * the published state, dispatching a request through the route table
 * (route.c), the status of each error code, and the service endpoints
 * /healthz, /readyz and /openapi.yaml. Handlers of resources live in their
 * own files; nothing here formats an error body (reply.c does).
 */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/internal.h"

void
api_config_defaults(struct api_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    /* Calico and the upstream e2e suite let ipBlock peers match pods by
     * their IPs; Cilium does not. */
    cfg->ipblock_matches_pods = true;
    cfg->limits.max_body = 64u << 20;
    cfg->limits.max_depth = 64;
    cfg->limits.max_objects = 1000000;
    cfg->limits.max_batch = 1000000;
    cfg->limits.max_string = 1u << 20;
    cfg->limits.max_documents = 1000000;
    cfg->limits.max_matrix_pods = 200000;
}

int
api_ctx_init(struct api_ctx *ctx, const struct api_config *cfg,
             struct np_error *err)
{
    memset(ctx, 0, sizeof(*ctx));
    if (cfg != NULL)
        ctx->cfg = *cfg;
    else
        api_config_defaults(&ctx->cfg);
    ctx->opts.ipblock_matches_pods = ctx->cfg.ipblock_matches_pods;
    atomic_init(&ctx->ready, false);
    return np_state_init(&ctx->state, err);
}

void
api_ctx_fini(struct api_ctx *ctx)
{
    np_state_fini(&ctx->state);
}

void
api_response_fini(struct api_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

int
api_errc_status(enum np_errc code)
{
    /* No default: the compiler names any code added to the table but not
     * here (-Wswitch). */
    switch (code) {
    case NP_E_OK:
    case NP_E_NOMEM:
    case NP_E_INTERNAL:
    case NP_E__MAX:
        return 500;
    case NP_E_SYNTAX:
    case NP_E_INVALID_TYPE:
    case NP_E_MISSING_FIELD:
    case NP_E_INVALID_VALUE:
    case NP_E_INVALID_NAME:
    case NP_E_INVALID_LABEL:
    case NP_E_INVALID_SELECTOR:
    case NP_E_INVALID_CIDR:
    case NP_E_INVALID_IP:
    case NP_E_INVALID_PORT:
    case NP_E_INVALID_PROTOCOL:
    case NP_E_INVALID_POLICY_TYPE:
    case NP_E_INVALID_PEER:
    case NP_E_DUPLICATE_OBJECT:
    case NP_E_UNKNOWN_PORT_NAME:
    case NP_E_INVALID_QUERY:
    case NP_E_UNKNOWN_FIELD:
    case NP_E_LIMIT_EXCEEDED:
        return 400;
    case NP_E_UNAUTHORIZED:
        return 401;
    case NP_E_UNKNOWN_POD:
    case NP_E_UNKNOWN_NAMESPACE:
    case NP_E_UNKNOWN_POLICY:
    case NP_E_NOT_FOUND:
        return 404;
    case NP_E_METHOD_NOT_ALLOWED:
        return 405;
    case NP_E_BODY_TOO_LARGE:
        return 413;
    case NP_E_UNSUPPORTED_MEDIA_TYPE:
        return 415;
    case NP_E_NOT_READY:
        return 503;
    }
    return 500;
}

void
api_dispatch(struct api_ctx *ctx, const struct api_request *req,
             struct api_response *resp)
{
    struct api_route_hit hit;
    enum api_route_result r;

    memset(resp, 0, sizeof(*resp));
    r = api_route_find(req->method, req->path, &hit);
    if (r == API_ROUTE_NO_PATH) {
        api_reply_errorf(resp, NP_E_NOT_FOUND,
                         "no such path: %.200s; GET /openapi.yaml lists the "
                         "API",
                         req->path != NULL ? req->path : "");
        return;
    }
    if (r == API_ROUTE_NO_METHOD) {
        api_reply_errorf(resp, NP_E_METHOD_NOT_ALLOWED,
                         "%.200s does not accept %.20s; it accepts %s",
                         req->path, req->method != NULL ? req->method : "",
                         hit.allow);
        memcpy(resp->allow, hit.allow, sizeof(resp->allow));
        resp->allow[sizeof(resp->allow) - 1] = '\0';
        return;
    }
    if (hit.query != NULL && api_query_check_or_reply(req, hit.query, resp))
        return;
    hit.handler(ctx, req, hit.params, hit.nparams, resp);
    if (resp->status == 0)
        api_reply_errorf(resp, NP_E_INTERNAL,
                         "the handler of %.200s gave no answer", req->path);
}

void
api_healthz(struct api_ctx *ctx, const struct api_request *req,
            const char *const *params, size_t nparams,
            struct api_response *resp)
{
    (void)ctx;
    (void)req;
    (void)params;
    (void)nparams;
    api_reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void
api_readyz(struct api_ctx *ctx, const struct api_request *req,
           const char *const *params, size_t nparams, struct api_response *resp)
{
    struct np_snapshot *snap;
    json_int_t revision;

    (void)req;
    (void)params;
    (void)nparams;
    if (!atomic_load(&ctx->ready)) {
        api_reply_errorf(resp, NP_E_NOT_READY,
                         "the server is still loading its start-up state");
        return;
    }
    snap = np_state_acquire(&ctx->state);
    revision = (json_int_t)snap->revision;
    np_snapshot_release(snap);
    api_reply_json(
        resp, 200,
        json_pack("{s:s,s:I}", "status", "ready", "revision", revision));
}

void
api_openapi(struct api_ctx *ctx, const struct api_request *req,
            const char *const *params, size_t nparams,
            struct api_response *resp)
{
    char *text;

    (void)ctx;
    (void)req;
    (void)params;
    (void)nparams;
    text = malloc(api_openapi_len + 1);
    if (text == NULL) {
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory");
        return;
    }
    memcpy(text, api_openapi_text, api_openapi_len);
    text[api_openapi_len] = '\0';
    free(resp->body);
    resp->status = 200;
    resp->body = text;
    resp->body_len = api_openapi_len;
    resp->content_type = "application/yaml";
}
