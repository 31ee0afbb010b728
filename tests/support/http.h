/*
 * A small HTTP client for tests/api/: libcurl for ordinary requests, a raw
 * socket for requests curl would not send as written (a Content-Length
 * without the body, a chunked upload). Both fill the same struct
 * thttp_resp, with the body parsed as JSON when the server says it is JSON.
 */
#ifndef TESTS_SUPPORT_HTTP_H
#define TESTS_SUPPORT_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct thttp_resp {
    long status; /* 0 when no answer arrived */
    char *body;  /* owned, NUL-terminated */
    size_t len;
    char content_type[128];     /* "" when absent */
    char allow[128];            /* "" when absent */
    char connection[32];        /* the Connection header, "" when absent */
    char www_authenticate[256]; /* "" when absent */
    json_t *json;               /* owned; NULL unless the content type is
                                   application/json and the body parses */
};

/* Sends method base+path with the body (content_type may be NULL; body may
 * be NULL for none) and fills resp. Returns 0 when an answer arrived, or
 * -1 (the curl error printed to stderr). Release resp with
 * thttp_resp_fini() either way. */
int thttp_request(const char *base, const char *method, const char *path,
                  const char *content_type, const void *body, size_t len,
                  struct thttp_resp *resp);

/* What thttp_request_with() sends besides method, path and body. */
struct thttp_opts {
    /* The whole Authorization value ("Bearer abc"), or NULL for none. */
    const char *authorization;
    /* HTTPS: the CA certificate file that must have signed the server's
     * certificate (peer and host verified), and "HOST:PORT:ADDR" to pin the
     * name in base to an address (CURLOPT_RESOLVE); NULL for none. */
    const char *cainfo;
    const char *resolve;
};

/* thttp_request() with opts (NULL for none). On a transport error the curl
 * error is also in resp->body. */
int thttp_request_with(const char *base, const char *method, const char *path,
                       const char *content_type, const void *body, size_t len,
                       const struct thttp_opts *opts, struct thttp_resp *resp);

/* The same for a GET without a body. */
int thttp_get(const char *base, const char *path, struct thttp_resp *resp);

/* Connects to 127.0.0.1:port, returns the socket or -1. */
int thttp_connect(unsigned port);

/* Writes all of data to fd. Returns 0 or -1. */
int thttp_send(int fd, const void *data, size_t len);

/* Reads one HTTP answer from fd (status line, headers, a Content-Length
 * body) into resp, waiting at most timeout_ms. "100 Continue" interim
 * answers are returned like any other. Returns 0, or -1 when the
 * connection closed or the time ran out before a complete answer. */
int thttp_read_response(int fd, int timeout_ms, struct thttp_resp *resp);

/* Sends raw bytes on a new connection to 127.0.0.1:port and reads the
 * answer. Returns 0 or -1 like thttp_read_response(). */
int thttp_raw(unsigned port, const void *req, size_t len,
              struct thttp_resp *resp);

void thttp_resp_fini(struct thttp_resp *resp);

#endif
