/*
 * CORS (the Fetch standard's cross-origin protocol) for dashboards that
 * call netpolq from a browser: the Access-Control-* headers of answers to
 * allowed origins, and preflight answers. Which origins are allowed is
 * configuration (api_config.cors_origins, checked by the server when it
 * parses --cors-origin); this file only compares and writes headers.
 *
 * Credentials (cookies, HTTP authentication) are never allowed: a bearer
 * token travels in the Authorization request header, which a preflight
 * lists among the allowed headers, and needs no
 * Access-Control-Allow-Credentials.
 */
#include "api/cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

int
api_response_add_header(struct api_response *resp, const char *name,
                        const char *value)
{
    struct api_header *h;

    if (resp->nheaders == API_MAX_HEADERS)
        return -1;
    h = &resp->headers[resp->nheaders++];
    h->name = name;
    snprintf(h->value, sizeof(h->value), "%s", value);
    return 0;
}

static bool
is_wildcard(const struct api_ctx *ctx)
{
    return ctx->cfg.ncors_origins == 1 &&
           strcmp(ctx->cfg.cors_origins[0], "*") == 0;
}

/* Returns true when origin (not NULL) is allowed by ctx's configuration. */
static bool
origin_allowed(const struct api_ctx *ctx, const char *origin)
{
    size_t i;

    if (origin == NULL || ctx->cfg.ncors_origins == 0)
        return false;
    if (is_wildcard(ctx))
        return true;
    /* Browsers send the serialized origin (RFC 6454, section 6.2): lower
     * case scheme and host, no default port, no path. The configured
     * origins are in the same form, so comparing bytes is enough. */
    for (i = 0; i < ctx->cfg.ncors_origins; i++)
        if (strcmp(ctx->cfg.cors_origins[i], origin) == 0)
            return true;
    return false;
}

void
api_cors_headers(const struct api_ctx *ctx, const char *origin,
                 struct api_response *resp)
{
    if (ctx->cfg.ncors_origins == 0)
        return;
    /* With "*" the answer is the same for every origin, and a cache may
     * hand it to any of them. */
    if (is_wildcard(ctx)) {
        api_response_add_header(resp, "Access-Control-Allow-Origin", "*");
        api_response_add_header(resp, "Access-Control-Expose-Headers",
                                API_CORS_EXPOSE_HEADERS);
        return;
    }
    /* The answer depends on Origin whether or not this one is allowed: a
     * shared cache must not hand an answer without the headers to an
     * allowed origin, or one with them to another. */
    api_response_add_header(resp, "Vary", "Origin");
    if (!origin_allowed(ctx, origin))
        return;
    api_response_add_header(resp, "Access-Control-Allow-Origin", origin);
    api_response_add_header(resp, "Access-Control-Expose-Headers",
                            API_CORS_EXPOSE_HEADERS);
}

bool
api_cors_preflight(const struct api_ctx *ctx, const struct api_request *req,
                   const char *allow, struct api_response *resp)
{
    if (req->method == NULL || strcmp(req->method, "OPTIONS") != 0 ||
        req->cors_method == NULL || !origin_allowed(ctx, req->origin))
        return false;
    /* The methods of the path, whatever was asked: the browser compares
     * them with the method it wants to send and gives up when it is not
     * listed. */
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    resp->status = 204;
    api_response_add_header(resp, "Access-Control-Allow-Methods", allow);
    api_response_add_header(resp, "Access-Control-Allow-Headers",
                            API_CORS_ALLOW_HEADERS);
    api_response_add_header(resp, "Access-Control-Max-Age", API_CORS_MAX_AGE);
    return true;
}
