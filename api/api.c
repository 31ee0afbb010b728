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
#include <time.h>

#include <jansson.h>

#include "api/cors.h"
#include "api/internal.h"
#include "api/metrics.h"

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
    /* Before any jansson value exists: see jalloc.c. */
    api_jalloc_install();
    memset(ctx, 0, sizeof(*ctx));
    if (cfg != NULL)
        ctx->cfg = *cfg;
    else
        api_config_defaults(&ctx->cfg);
    ctx->opts.ipblock_matches_pods = ctx->cfg.ipblock_matches_pods;
    atomic_init(&ctx->ready, false);
    if (np_state_init(&ctx->state, err) != 0)
        return -1;
    ctx->metrics = api_metrics_new(api_route_count());
    if (ctx->metrics == NULL) {
        np_state_fini(&ctx->state);
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    return 0;
}

void
api_ctx_fini(struct api_ctx *ctx)
{
    api_metrics_free(ctx->metrics);
    ctx->metrics = NULL;
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
    case NP_E_UNKNOWN_WORKLOAD:
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

/* Answers req through the route table: 404, 405 (or a CORS preflight), 400
 * for query arguments the route does not take, or the route's handler,
 * whose 200 answers to GET and HEAD get their ETag. hit is filled. */
static void
answer(struct api_ctx *ctx, const struct api_request *req,
       struct api_route_hit *hit, struct api_response *resp)
{
    enum api_route_result r;
    uint64_t before;

    r = api_route_find(req->method, req->path, hit);
    if (r == API_ROUTE_NO_PATH) {
        api_reply_errorf(resp, NP_E_NOT_FOUND,
                         "no such path: %.200s; GET /openapi.yaml lists the "
                         "API",
                         req->path != NULL ? req->path : "");
        return;
    }
    if (r == API_ROUTE_NO_METHOD) {
        if (api_cors_preflight(ctx, req, hit->allow, resp))
            return;
        api_reply_errorf(resp, NP_E_METHOD_NOT_ALLOWED,
                         "%.200s does not accept %.20s; it accepts %s",
                         req->path, req->method != NULL ? req->method : "",
                         hit->allow);
        memcpy(resp->allow, hit->allow, sizeof(resp->allow));
        resp->allow[sizeof(resp->allow) - 1] = '\0';
        return;
    }
    if (hit->query != NULL && api_query_check_or_reply(req, hit->query, resp))
        return;
    before = api_etag_begin(ctx, req, hit->handler);
    hit->handler(ctx, req, hit->params, hit->nparams, resp);
    if (resp->status == 0)
        api_reply_errorf(resp, NP_E_INTERNAL,
                         "the handler of %.200s gave no answer", req->path);
    api_etag_apply(ctx, req, hit->handler, before, resp);
}

/* Returns the revision that a successful change of the state published, or
 * 0: the "revision" every answer of state.c's changes carries. Reading it
 * back from the answer gives the exact revision even when other changes
 * publish at the same time. */
static uint64_t
published_revision(api_handler_fn *handler, const struct api_response *resp)
{
    json_t *doc;
    json_t *rev;
    uint64_t out = 0;

    if (resp->status < 200 || resp->status > 299 || resp->body == NULL ||
        (handler != api_state_put && handler != api_state_post &&
         handler != api_state_delete && handler != api_namespace_delete &&
         handler != api_pod_delete && handler != api_policy_delete))
        return 0;
    doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    rev = json_object_get(doc, "revision");
    if (json_is_integer(rev) && json_integer_value(rev) > 0)
        out = (uint64_t)json_integer_value(rev);
    json_decref(doc);
    return out;
}

void
api_dispatch(struct api_ctx *ctx, const struct api_request *req,
             struct api_response *resp)
{
    struct api_route_hit hit;
    struct timespec t0, t1;
    uint64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(resp, 0, sizeof(*resp));
    answer(ctx, req, &hit, resp);
    resp->published = published_revision(hit.handler, resp);
    api_cors_headers(ctx, req->origin, resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
         (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
    if (resp->published != 0 &&
        (hit.handler == api_state_put || hit.handler == api_state_post))
        api_metrics_upload(ctx->metrics, ns);
    api_metrics_request(ctx->metrics, hit.route, req->method, resp->status, ns);
}

void
api_count_answer(struct api_ctx *ctx, const char *method, const char *path,
                 int status, uint64_t ns)
{
    struct api_route_hit hit;

    api_route_find(method, path, &hit);
    api_metrics_request(ctx->metrics, hit.route, method, status, ns);
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
