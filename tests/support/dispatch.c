/*
 * api_dispatch() for the unit suites. Nothing here interprets an answer
 * beyond parsing it: each suite asserts what its routes promise.
 */
#include "tests/support/dispatch.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/error.h"

#define MAX_ARGS 16

void
tdisp_ctx_init(struct api_ctx *ctx)
{
    struct api_config cfg;
    struct np_error err;

    api_config_defaults(&cfg);
    np_error_init(&err);
    cr_assert_eq(api_ctx_init(ctx, &cfg, &err), 0, "%s", err.message);
}

void
tdisp_raw(struct api_ctx *ctx, const char *method, const char *path,
          const struct api_kv *query, size_t nquery, const char *ct,
          const char *body, struct api_response *resp)
{
    struct api_request req = {
        .method = method,
        .path = path,
        .nquery = nquery,
        .query = query,
        .content_type = ct,
        .body = body,
        .body_len = body != NULL ? strlen(body) : 0,
    };

    memset(resp, 0, sizeof(*resp));
    api_dispatch(ctx, &req, resp);
}

struct tdisp_reply
tdisp_call(struct api_ctx *ctx, const char *method, const char *path,
           const struct api_kv *query, size_t nquery, const char *ct,
           const char *body)
{
    struct api_response resp;
    struct tdisp_reply r;

    tdisp_raw(ctx, method, path, query, nquery, ct, body, &resp);
    memset(&r, 0, sizeof(r));
    r.status = resp.status;
    r.json = resp.body != NULL ? json_loadb(resp.body, resp.body_len, 0, NULL)
                               : NULL;
    snprintf(r.allow, sizeof(r.allow), "%s", resp.allow);
    snprintf(r.content_type, sizeof(r.content_type), "%s",
             resp.content_type != NULL ? resp.content_type : "");
    snprintf(r.text, sizeof(r.text), "%s", resp.body != NULL ? resp.body : "");
    api_response_fini(&resp);
    return r;
}

struct tdisp_reply
tdisp_target(struct api_ctx *ctx, const char *method, const char *target,
             const char *ct, const char *body)
{
    char buf[1024];
    struct api_kv kv[MAX_ARGS];
    size_t nquery = 0;
    char *q;
    bool has_query;

    snprintf(buf, sizeof(buf), "%s", target);
    q = strchr(buf, '?');
    has_query = q != NULL;
    if (q != NULL) {
        *q++ = '\0';
        while (q != NULL && *q != '\0' && nquery < MAX_ARGS) {
            char *amp = strchr(q, '&');
            char *eq;

            if (amp != NULL)
                *amp++ = '\0';
            eq = strchr(q, '=');
            if (eq != NULL)
                *eq++ = '\0';
            kv[nquery].key = q;
            kv[nquery].value = eq != NULL ? eq : "";
            nquery++;
            q = amp;
        }
    }
    return tdisp_call(ctx, method, buf, has_query ? kv : NULL, nquery, ct,
                      body);
}

void
tdisp_put_state(struct api_ctx *ctx, const char *yaml)
{
    struct api_response resp;

    tdisp_raw(ctx, "PUT", "/state", NULL, 0, "application/yaml", yaml, &resp);
    cr_assert_eq(resp.status, 200, "PUT /state: %s", resp.body);
    api_response_fini(&resp);
}
