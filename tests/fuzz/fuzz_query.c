/*
 * Fuzzes the query parsers against a fixed cluster (common.c). The first
 * byte picks what the rest is:
 *
 *   0  a JSON query object, decoded with api_query_decode() as
 *      POST /reachability does, then evaluated with and without a trace;
 *   1  GET /reachability's arguments, one "key=value" per line, decoded
 *      with api_query_from_args();
 *   2  a whole request: "METHOD PATH" on the first line, "key=value"
 *      arguments on the next lines up to an empty line, then the body,
 *      given to api_dispatch() (requests that would change the state are
 *      skipped, so every input sees the same cluster).
 *
 * Every answer must be JSON; every error answer a 4xx with a code and a
 * message.
 */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/internal.h"
#include "core/arena.h"
#include "core/eval.h"

#define MAX_ARGS 16

static void
check_query_error(const struct np_error *err)
{
    if (err->code == NP_E_OK || err->message[0] == '\0')
        fuzz_fail("a query failed without a code or message");
    if (api_errc_status(err->code) >= 500)
        fuzz_fail("a bad query answered %d: %s", api_errc_status(err->code),
                  err->message);
}

static void
evaluate(const struct api_ctx *ctx, const struct np_snapshot *snap,
         const struct api_query *aq)
{
    struct np_verdict v;
    struct np_arena a;
    struct np_error err;
    bool fast = np_eval_allowed(snap, &ctx->opts, &aq->q);

    np_arena_init(&a);
    np_error_init(&err);
    if (np_eval_trace(snap, &ctx->opts, &aq->q, &a, &v, &err) != 0)
        fuzz_fail("np_eval_trace: %s", err.message);
    if (v.allowed != fast)
        fuzz_fail("np_eval_allowed says %d, np_eval_trace %d", fast, v.allowed);
    fuzz_check_verdict_json(snap, aq, &v);
    np_arena_free_all(&a);
}

static void
json_query(struct api_ctx *ctx, const char *text, size_t len)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    struct api_query aq;
    struct np_error err;
    json_error_t jerr;
    json_t *doc;

    doc =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (doc != NULL) {
        np_error_init(&err);
        if (api_query_decode(snap, doc, &aq, &err) == 0)
            evaluate(ctx, snap, &aq);
        else
            check_query_error(&err);
        json_decref(doc);
    }
    np_snapshot_release(snap);
}

/* Splits text (modified in place) into lines of "key=value" up to the first
 * empty line or the end; returns the number of arguments and sets *rest to
 * what follows the empty line (NULL when there is none). */
static size_t
split_args(char *text, char *end, struct api_kv *args, char **rest)
{
    size_t n = 0;
    char *p = text;

    *rest = NULL;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eq;

        if (nl == NULL)
            nl = end;
        *nl = '\0';
        if (nl == p) {
            *rest = nl + 1 <= end ? nl + 1 : end;
            break;
        }
        eq = strchr(p, '=');
        if (n < MAX_ARGS) {
            if (eq != NULL)
                *eq = '\0';
            args[n].key = p;
            args[n].value = eq != NULL ? eq + 1 : "";
            n++;
        }
        p = nl + 1;
    }
    return n;
}

static void
args_query(struct api_ctx *ctx, char *text, char *end)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    struct api_kv args[MAX_ARGS];
    struct api_request req;
    struct api_query aq;
    struct np_error err;
    char *rest;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/reachability";
    req.query = args;
    req.nquery = split_args(text, end, args, &rest);
    np_error_init(&err);
    if (api_query_from_args(snap, &req, &aq, &err) == 0)
        evaluate(ctx, snap, &aq);
    else
        check_query_error(&err);
    np_snapshot_release(snap);
}

/* Handlers that change the state; inputs routed to them are skipped. */
static bool
changes_state(api_handler_fn *h)
{
    return h == api_state_put || h == api_state_post || h == api_state_delete ||
           h == api_namespace_delete || h == api_pod_delete ||
           h == api_policy_delete;
}

static void
dispatch(struct api_ctx *ctx, char *text, char *end)
{
    struct api_kv args[MAX_ARGS];
    struct api_route_hit hit;
    struct api_request req;
    struct api_response resp;
    char *nl = memchr(text, '\n', (size_t)(end - text));
    char *sp;
    char *rest;
    char *body = NULL;
    json_t *doc;

    if (nl == NULL)
        nl = end;
    *nl = '\0';
    sp = strchr(text, ' ');
    if (sp == NULL)
        return;
    *sp = '\0';
    memset(&req, 0, sizeof(req));
    req.method = text;
    req.path = sp + 1;
    if (api_route_find(req.method, req.path, &hit) == API_ROUTE_FOUND &&
        changes_state(hit.handler))
        return;
    req.query = args;
    req.nquery = nl < end ? split_args(nl + 1, end, args, &rest) : 0;
    if (nl < end && rest != NULL && rest < end) {
        /* An allocation of exactly the body: the api layer must not read
         * past body_len (api.h), and AddressSanitizer sees if it does. */
        req.body_len = (size_t)(end - rest);
        body = malloc(req.body_len);
        if (body == NULL)
            return;
        memcpy(body, rest, req.body_len);
        req.body = body;
        req.content_type = "application/json";
    }
    api_dispatch(ctx, &req, &resp);
    free(body);
    if (resp.status < 200 || resp.status > 599 || resp.body == NULL)
        fuzz_fail("%s %s: status %d, body %s", req.method, req.path,
                  resp.status, resp.body != NULL ? "set" : "missing");
    if (resp.status >= 500)
        fuzz_fail("%s %s: %d %s", req.method, req.path, resp.status, resp.body);
    if (resp.content_type != NULL &&
        strcmp(resp.content_type, "application/json") == 0) {
        json_error_t jerr;

        doc = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (doc == NULL)
            fuzz_fail("%s %s: the answer is not JSON (%s): %s", req.method,
                      req.path, jerr.text, resp.body);
        if (resp.status >= 400 &&
            json_string_value(
                json_object_get(json_object_get(doc, "error"), "code")) == NULL)
            fuzz_fail("%s %s: %d without error.code: %s", req.method, req.path,
                      resp.status, resp.body);
        json_decref(doc);
    }
    api_response_fini(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_ctx *ctx = fuzz_fixed_ctx();
    char *text;

    if (size < 1)
        return 0;
    /* A copy with a terminating NUL after the bytes, for the string
     * arguments; JSON is passed with its length. */
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        json_query(ctx, text, size - 1);
        break;
    case 1:
        args_query(ctx, text, text + size - 1);
        break;
    default:
        dispatch(ctx, text, text + size - 1);
        break;
    }
    free(text);
    return 0;
}
