/*
 * Cross-origin access for browser dashboards (--cors-origin): which
 * origins may read netpolq's answers, and the headers that tell a browser
 * so. The allowed origins are api_config's; an empty list turns CORS off
 * and no header is ever added. Preflight requests are answered inside
 * api_dispatch() (cors.c); this header is for the server, which adds the
 * same headers to the few answers it makes without api_dispatch().
 */
#ifndef API_CORS_H
#define API_CORS_H

#include "api/api.h"

/* The request headers a browser may send cross-origin, as preflight
 * answers list them. */
#define API_CORS_ALLOW_HEADERS                                                 \
    "Content-Type, Authorization, If-None-Match, X-Request-Id"

/* The answer headers a cross-origin script may read. */
#define API_CORS_EXPOSE_HEADERS "ETag, X-Request-Id"

/* Seconds a browser may cache a preflight answer. */
#define API_CORS_MAX_AGE "600"

/* Adds to resp the CORS headers for a request whose Origin header is origin
 * (NULL when absent): with "*" configured, Access-Control-Allow-Origin: *;
 * with a list, Vary: Origin always and, when origin is in the list,
 * Access-Control-Allow-Origin: origin; in both cases
 * Access-Control-Expose-Headers for an allowed origin. An origin that is not
 * allowed gets no Access-Control-* header. */
void api_cors_headers(const struct api_ctx *ctx, const char *origin,
                      struct api_response *resp);

#endif
