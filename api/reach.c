/*
 * POST /reachability, GET /reachability and POST /reachability/batch. Each
 * request reads one snapshot acquired once, so every answer of a batch comes
 * from the same revision even while uploads publish new ones. Decoding
 * queries is endpoint.c's, the answer's JSON encode.c's; this file only
 * strings them together around the evaluator.
 */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/eval.h"

static const char *const batch_fields[] = { "queries", "trace", NULL };

int
api_reach_answer(const struct api_ctx *ctx, const struct np_snapshot *snap,
                 const struct api_query *aq, bool trace, uint64_t tally[2],
                 struct api_jw *w, struct np_error *err)
{
    struct np_verdict v;
    struct np_say_ctx say;
    struct np_arena a;
    /* A trace's results take a few KiB (2 KiB for five policies of one
     * rule each): the arena starts on the stack, and only a pod that many
     * policies select makes it ask malloc for more. */
    _Alignas(16) unsigned char first[8192];

    if (!trace) {
        bool allowed = np_eval_allowed(snap, &ctx->opts, &aq->q);

        tally[allowed ? 0 : 1]++;
        api_jw_object(w);
        API_JW_KEY(w, "allowed");
        api_jw_bool(w, allowed);
        API_JW_KEY(w, "revision");
        api_jw_int(w, (long long)snap->revision);
        api_jw_end_object(w);
        return 0;
    }
    np_arena_init_lent(&a, first, sizeof(first));
    /* The sentences of the trace are written straight into the answer,
     * with the texts the evaluation made for its own. */
    np_say_init(&say, snap, &aq->q);
    if (np_eval_trace_say(snap, &ctx->opts, &aq->q, &a, &say, &v, err) != 0) {
        np_arena_free_all(&a);
        return -1;
    }
    tally[v.allowed ? 0 : 1]++;
    api_verdict_write(w, snap, aq, &v, &say);
    np_arena_free_all(&a);
    return 0;
}

/* Reads "trace" (true by default) from a query body and removes it, so that
 * the rest decodes like a batch item. Returns 0, or -1 with err set. */
static int
take_trace(json_t *doc, bool *trace, struct np_error *err)
{
    json_t *t = json_is_object(doc) ? json_object_get(doc, "trace") : NULL;

    *trace = true;
    if (t == NULL)
        return 0;
    if (!json_is_boolean(t) && !json_is_null(t)) {
        np_error_set(err, NP_E_INVALID_TYPE, "trace must be true or false");
        return np_error_path(err, "trace");
    }
    *trace = !json_is_false(t);
    json_object_del(doc, "trace");
    return 0;
}

/* Answers one query, with its trace unless trace is false, or the error. */
static void
reply_one(struct api_ctx *ctx, const struct np_snapshot *snap,
          const struct api_query *aq, bool trace, struct api_response *resp)
{
    uint64_t tally[2] = { 0, 0 };
    struct np_error err;
    struct api_jw w;
    size_t len;
    char *text;

    np_error_init(&err);
    api_jw_init(&w);
    if (api_reach_answer(ctx, snap, aq, trace, tally, &w, &err) != 0) {
        api_jw_fini(&w);
        api_reply_error(resp, &err);
        return;
    }
    api_metrics_verdicts(ctx->metrics, tally[0], tally[1]);
    text = api_jw_finish(&w, &len);
    if (text == NULL) {
        np_error_set(&err, NP_E_NOMEM, "out of memory writing the answer");
        api_reply_error(resp, &err);
        return;
    }
    api_reply_text(resp, text, len);
}

void
api_reach_post(struct api_ctx *ctx, const struct api_request *req,
               const char *const *params, size_t nparams,
               struct api_response *resp)
{
    struct np_snapshot *snap;
    struct api_query aq;
    struct np_error err;
    bool trace;
    json_t *doc;

    (void)params;
    (void)nparams;
    snap = np_state_acquire(&ctx->state);
    if (api_query_fast(snap, req, &aq, &trace) == 0) {
        reply_one(ctx, snap, &aq, trace, resp);
        np_snapshot_release(snap);
        return;
    }
    doc = api_body_json_or_reply(req, resp);
    if (doc == NULL) {
        np_snapshot_release(snap);
        return;
    }
    np_error_init(&err);
    if (take_trace(doc, &trace, &err) != 0 ||
        api_query_decode(snap, doc, &aq, &err) != 0)
        api_reply_error(resp, &err);
    else
        reply_one(ctx, snap, &aq, trace, resp);
    np_snapshot_release(snap);
    json_decref(doc);
}

void
api_reach_get(struct api_ctx *ctx, const struct api_request *req,
              const char *const *params, size_t nparams,
              struct api_response *resp)
{
    struct np_snapshot *snap;
    struct api_query aq;
    struct np_error err;
    const char *t;

    (void)params;
    (void)nparams;
    np_error_init(&err);
    t = api_query_get(req, "trace");
    if (t != NULL && strcmp(t, "true") != 0 && strcmp(t, "false") != 0) {
        np_error_set(&err, NP_E_INVALID_VALUE,
                     "query argument trace must be true or false");
        np_error_path(&err, "trace");
        api_reply_error(resp, &err);
        return;
    }
    snap = np_state_acquire(&ctx->state);
    if (api_query_from_args(snap, req, &aq, &err) != 0)
        api_reply_error(resp, &err);
    else
        reply_one(ctx, snap, &aq, t == NULL || strcmp(t, "false") != 0, resp);
    np_snapshot_release(snap);
}

void
api_batch_answer_open(struct api_jw *w, const struct np_snapshot *snap)
{
    api_jw_object(w);
    API_JW_KEY(w, "revision");
    api_jw_int(w, (long long)snap->revision);
    API_JW_KEY(w, "results");
    api_jw_array(w);
}

int
api_batch_answer_close(struct api_ctx *ctx, struct api_jw *w,
                       const uint64_t tally[2], size_t nqueries,
                       struct api_response *resp)
{
    size_t len;
    char *text;

    api_jw_end_array(w);
    api_jw_end_object(w);
    text = api_jw_finish(w, &len);
    if (text == NULL)
        return -1;
    api_metrics_verdicts(ctx->metrics, tally[0], tally[1]);
    api_metrics_batch(ctx->metrics, nqueries);
    api_reply_text(resp, text, len);
    return 0;
}

/* Decodes the batch envelope. Returns 0, or -1 with err set. */
static int
batch_decode(const json_t *doc, const struct api_limits *lim,
             const json_t **queries, bool *trace, struct np_error *err)
{
    const json_t *t;
    size_t n;

    if (api_fields_check(doc, batch_fields, "", err) != 0)
        return -1;
    t = json_object_get(doc, "trace");
    *trace = true;
    if (t != NULL && !json_is_null(t)) {
        if (!json_is_boolean(t)) {
            np_error_set(err, NP_E_INVALID_TYPE, "trace must be true or false");
            return np_error_path(err, "trace");
        }
        *trace = json_is_true(t);
    }
    *queries = json_object_get(doc, "queries");
    if (*queries == NULL || json_is_null(*queries)) {
        np_error_set(err, NP_E_MISSING_FIELD,
                     "queries is missing: give {\"queries\": [QUERY, ...]}");
        return np_error_path(err, "queries");
    }
    if (!json_is_array(*queries)) {
        np_error_set(err, NP_E_INVALID_TYPE,
                     "queries must be an array of query objects");
        return np_error_path(err, "queries");
    }
    n = json_array_size(*queries);
    if (lim->max_batch > 0 && n > lim->max_batch) {
        np_error_set(err, NP_E_LIMIT_EXCEEDED,
                     "a batch holds at most %zu queries (limit max_batch); "
                     "this one has %zu: split it",
                     lim->max_batch, n);
        return np_error_path(err, "queries");
    }
    return 0;
}

void
api_reach_batch(struct api_ctx *ctx, const struct api_request *req,
                const char *const *params, size_t nparams,
                struct api_response *resp)
{
    struct np_snapshot *snap = NULL;
    const json_t *queries = NULL;
    struct np_error err;
    uint64_t tally[2] = { 0, 0 };
    struct api_jw w;
    json_t *doc;
    bool trace;
    size_t i;

    (void)params;
    (void)nparams;
    api_jw_init(&w);
    if (api_batch_fast(ctx, req, resp) == 0)
        return;
    doc = api_body_json_or_reply(req, resp);
    if (doc == NULL)
        return;
    np_error_init(&err);
    if (batch_decode(doc, &ctx->cfg.limits, &queries, &trace, &err) != 0) {
        api_reply_error(resp, &err);
        goto out;
    }
    snap = np_state_acquire(&ctx->state);
    api_batch_answer_open(&w, snap);
    for (i = 0; i < json_array_size(queries); i++) {
        struct np_error qerr;
        struct api_query aq;

        np_error_init(&qerr);
        /* A query that cannot be answered fails alone, as {"error": ...} in
         * its place; running out of memory fails the whole batch. */
        if (api_query_decode(snap, json_array_get(queries, i), &aq, &qerr) !=
            0) {
            json_t *e = api_error_encode(&qerr);
            char *t = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;

            json_decref(e);
            if (t == NULL)
                goto nomem;
            api_jw_raw(&w, t, strlen(t));
            api_json_free(t);
        } else if (api_reach_answer(ctx, snap, &aq, trace, tally, &w, &qerr) !=
                   0) {
            goto nomem;
        }
    }
    if (api_batch_answer_close(ctx, &w, tally, json_array_size(queries),
                               resp) != 0)
        goto nomem;
    goto out;
nomem:
    np_error_set(&err, NP_E_NOMEM,
                 "out of memory answering the batch; send fewer queries");
    api_reply_error(resp, &err);
out:
    api_jw_fini(&w);
    np_snapshot_release(snap);
    json_decref(doc);
}
