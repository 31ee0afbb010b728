/*
 * HTTP requests with chosen request headers and every answer header kept,
 * for the tests of headers themselves: X-Request-Id, ETag and
 * If-None-Match, CORS. libcurl, one easy handle per request, like
 * tests/support/http.c; the answer headers are kept as received so that a
 * test can also check that a header is absent or sent once.
 */
#ifndef TESTS_SUPPORT_HDR_H
#define TESTS_SUPPORT_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct thdr_resp {
    long status; /* 0 when no answer arrived */
    char *body;  /* owned, NUL-terminated; "" when empty */
    size_t len;
    char *headers; /* owned: the answer's header lines, "Name: value\n" each
                      (CR dropped), status line excluded */
    json_t *json;  /* owned; NULL unless the body is JSON */
};

/* Sends method base+path with the request headers of headers
 * ("Name: value", NULL-terminated; NULL for none) and body (NULL for none,
 * sent as content_type) and fills resp. HEAD sends no body and reads none.
 * Returns 0 when an answer arrived, else -1 (the curl error printed).
 * Release resp with thdr_resp_fini() either way. */
int thdr_request(const char *base, const char *method, const char *path,
                 const char *const *headers, const char *content_type,
                 const void *body, size_t len, struct thdr_resp *resp);

/* Copies the value of the first answer header called name (any case) into
 * out. Returns true when the answer had it. */
bool thdr_get(const struct thdr_resp *resp, const char *name, char *out,
              size_t outlen);

/* Returns how many answer headers are called name (any case). */
int thdr_count(const struct thdr_resp *resp, const char *name);

/* Returns true when some answer header name starts with prefix (any case),
 * e.g. "Access-Control-". */
bool thdr_has_prefix(const struct thdr_resp *resp, const char *prefix);

void thdr_resp_fini(struct thdr_resp *resp);

#endif
