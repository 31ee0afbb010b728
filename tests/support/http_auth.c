/*
 * Requests with an Authorization header and with HTTPS verification, for
 * tests/api/auth.c and tests/api/tls.c: thttp_request_with() in http.c does
 * the work.
 */
#include "tests/support/http_auth.h"

#include <string.h>

int
thttp_auth_request(const char *base, const struct thttp_auth_req *req,
                   struct thttp_resp *resp, char *www_authenticate)
{
    struct thttp_opts opts = { .authorization = req->authorization,
                               .cainfo = req->cainfo,
                               .resolve = req->resolve };
    int rc = thttp_request_with(base, req->method, req->path, req->content_type,
                                req->body, req->len, &opts, resp);

    memcpy(www_authenticate, resp->www_authenticate,
           sizeof(resp->www_authenticate));
    return rc;
}
