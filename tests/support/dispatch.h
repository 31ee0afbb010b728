/*
 * In-process requests for tests/unit/api_*.c: a struct api_ctx set up the
 * way the server sets it up, and api_dispatch() called with a request
 * built from a method, a path, query arguments and a body. The answer comes
 * back either as the struct api_response itself (for byte comparisons) or
 * as a struct tdisp_reply: the status, the body parsed as JSON and copies
 * of the headers tests look at.
 */
#ifndef TESTS_SUPPORT_DISPATCH_H
#define TESTS_SUPPORT_DISPATCH_H

#include <stddef.h>

#include <jansson.h>

#include "api/api.h"

struct tdisp_reply {
    int status;
    json_t *json; /* owned (json_decref); NULL when the body is not JSON */
    char content_type[64]; /* "" when none */
    char allow[64];        /* the Allow header, "" when none */
    char text[4096];       /* the body, cut to fit; "" when none */
};

/* Initializes ctx with api_config_defaults() and an empty state; fails the
 * test when that fails. Release it with api_ctx_fini(). */
void tdisp_ctx_init(struct api_ctx *ctx);

/* Sends method path with the query arguments query[0..nquery) and body
 * (NULL for none) as ct (NULL for none) and fills resp (release it with
 * api_response_fini()). */
void tdisp_raw(struct api_ctx *ctx, const char *method, const char *path,
               const struct api_kv *query, size_t nquery, const char *ct,
               const char *body, struct api_response *resp);

/* tdisp_raw() with the answer turned into a reply. */
struct tdisp_reply tdisp_call(struct api_ctx *ctx, const char *method,
                              const char *path, const struct api_kv *query,
                              size_t nquery, const char *ct, const char *body);

/* tdisp_call() on target ("PATH?a=b&c"): the arguments are taken as
 * written, without percent-decoding, up to 16 of them. */
struct tdisp_reply tdisp_target(struct api_ctx *ctx, const char *method,
                                const char *target, const char *ct,
                                const char *body);

/* PUT /state with the YAML body; fails the test unless it answers 200. */
void tdisp_put_state(struct api_ctx *ctx, const char *yaml);

#endif
