/*
 * Requests with what tests/support/http.h does not send: an Authorization
 * header, and HTTPS verified against a test CA (curl checks the chain and
 * the host name). The answer fills the same struct thttp_resp, plus the
 * WWW-Authenticate header.
 */
#ifndef TESTS_SUPPORT_HTTP_AUTH_H
#define TESTS_SUPPORT_HTTP_AUTH_H

#include <stddef.h>

#include "tests/support/http.h"

struct thttp_auth_req {
    const char *method;
    const char *path;
    const char *content_type; /* NULL: none */
    const void *body;         /* NULL: none */
    size_t len;
    /* The whole Authorization value ("Bearer abc"), or NULL for none. */
    const char *authorization;
    /* HTTPS: the CA certificate file that must have signed the server's
     * certificate (peer and host verified), and "HOST:PORT:ADDR" to pin
     * the name in base to an address (CURLOPT_RESOLVE); NULL for none. */
    const char *cainfo;
    const char *resolve;
};

/* Sends req to base ("http://127.0.0.1:PORT" or "https://localhost:PORT")
 * and fills resp and www_authenticate (size 256; "" when absent). Returns 0
 * when an answer arrived, or -1 with the curl error in resp->body (and on
 * stderr). Release resp with thttp_resp_fini() either way. */
int thttp_auth_request(const char *base, const struct thttp_auth_req *req,
                       struct thttp_resp *resp, char *www_authenticate);

#endif
