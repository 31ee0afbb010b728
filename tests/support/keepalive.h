/*
 * A keep-alive HTTP client for the suites that send thousands of requests
 * (tests/api/queries.c, tests/api/concurrency.c): one curl easy handle and
 * so one connection, reused for every request. It never asserts, so reader
 * threads can use it: failures come back as a sentence. One client per
 * thread, as libcurl requires.
 */
#ifndef TESTS_SUPPORT_KEEPALIVE_H
#define TESTS_SUPPORT_KEEPALIVE_H

#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

struct tka_client {
    CURL *curl;
    char base[96]; /* "http://127.0.0.1:PORT" */
    char *buf;     /* owned: the last answer's body */
    size_t len;
    size_t cap;
};

/* Prepares c for requests to base. Returns 0, or -1 when curl cannot make a
 * handle. Release c with tka_fini() after either. */
int tka_init(struct tka_client *c, const char *base);

/* Sends method base+path; body NULL means a GET (method is then only used
 * in messages), otherwise body[0..len) goes as ct. Returns the answer parsed
 * as JSON (owned) and its status, or NULL with why filled when no answer
 * arrived or it is not JSON. */
json_t *tka_send(struct tka_client *c, const char *method, const char *path,
                 const char *ct, const void *body, size_t len, long *status,
                 char *why, size_t whylen);

void tka_fini(struct tka_client *c);

#endif
