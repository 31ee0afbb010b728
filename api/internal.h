/*
 * Declarations shared by the files of api/ and their unit tests; not part of
 * the interface the server uses (api.h).
 */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/text.h"

/* --- yaml.c: bodies to json_t documents --- */

enum api_format {
    API_FORMAT_YAML,
    API_FORMAT_JSON,
};

struct api_docs {
    size_t n;
    json_t **docs; /* owned; NULL entries never occur (empty documents are
                      dropped, their index still counts in lines) */
    int *index;    /* 0-based index of each document in the stream */
    int *line;     /* 1-based line where each document starts */
    /* The documents were made inside a jansson arena scope (jalloc.c): their
     * values go when the arena does, so api_docs_fini() leaves them. */
    bool in_arena;
    /* Set only in the halves of a JSON List that api_docs_parse_halves()
     * hands its fn: docs then holds the List alone, with the first half's
     * items, and the half is items (borrowed), the first of which is
     * items[first_item] of the whole List: the List's own items for the
     * first half (first_item 0), those after the split for the second. The
     * second half must only read the List (kind and apiVersion), which the
     * first half decodes at the same time. */
    const json_t *items;
    size_t first_item;
};

/* Parses body into documents. YAML: a multi-document stream, plain scalars
 * typed like the Kubernetes tooling (go-yaml v2: null, booleans including
 * yes/no/on/off, integers, floats; quoted scalars are strings), anchors and
 * aliases resolved with at most lim->max_depth nesting and a bound on the
 * nodes an alias may expand to. JSON: one value (jansson), optionally with
 * trailing whitespace. Returns 0, or -1 with err set (NP_E_SYNTAX with
 * document, line and column; NP_E_LIMIT_EXCEEDED naming the limit). */
int api_docs_parse(const char *body, size_t len, enum api_format fmt,
                   const struct api_limits *lim, struct api_docs *out,
                   struct np_error *err);

/* Work on the documents of one half of a large YAML stream or on the items
 * of one half of a large JSON List (docs->items), for
 * api_docs_parse_halves(): half is 0 or 1, docs borrowed, with their
 * indexes and lines in the whole stream. */
typedef void api_docs_half_fn(void *arg, int half, const struct api_docs *docs);

/* api_docs_parse(); and when a YAML stream or a JSON List is large enough to
 * be parsed as two halves on two threads, fn(arg, 0, first) on the calling
 * thread and fn(arg, 1, second) on the other run at once as soon as both
 * halves have parsed cleanly; the second runs inside a jansson arena scope
 * that the caller's adopts when the caller is in one. out then holds the
 * first half's documents followed by the second's (a JSON List: the List
 * with all its items). When fn did not run, out holds all the documents
 * for the caller to work on in order. A failure after fn ran is
 * NP_E_NOMEM. */
int api_docs_parse_halves(const char *body, size_t len, enum api_format fmt,
                          const struct api_limits *lim, api_docs_half_fn *fn,
                          void *arg, struct api_docs *out,
                          struct np_error *err);

/* YAML streams of at least this many bytes (1 MiB) are parsed as two
 * halves. Tests change it: SIZE_MAX parses every stream in one go. */
extern size_t api_yaml_halves_min_bytes;

/* JSON bodies of at least this many bytes (1 MiB) that are Lists have the
 * second half of their items parsed on a second thread. Tests change it:
 * SIZE_MAX parses every body in one go. */
extern size_t api_json_halves_min_bytes;

/* How many JSON bodies have been parsed on two threads; tests read it. */
extern atomic_size_t api_json_halves_parsed;

/* Releases the documents and the arrays of docs, which is left empty.
 * Documents parsed inside a jansson arena scope are left to that arena's
 * api_jarena_fini(): their trees are not walked. */
void api_docs_fini(struct api_docs *docs);

/* Finds the 1-based line and column in body of the node at path (e.g.
 * "items[2].spec.ingress[0].from[1].ipBlock.cidr") in document doc (0-based
 * stream index). Works for YAML and JSON bodies. Returns 0, or -1 when the
 * path is not found, in which case the deepest existing prefix is used when
 * there is one (so line points at the closest enclosing node). */
int api_locate(const char *body, size_t len, int doc, const char *path,
               int *line, int *column);

/* --- jalloc.c: jansson values of an upload in an arena --- */

struct api_jarena_block {
    char *base;
    size_t size;
};

struct api_jarena {
    struct api_jarena_block *blocks; /* sorted by address */
    size_t nblocks, capblocks;
    char *cur; /* the block being filled */
    size_t used;
};

/* Routes jansson's allocations through netpolq's functions (once per
 * process, before any value is made; api_ctx_init() calls it). */
void api_jalloc_install(void);

/* An empty arena in the caller's storage. */
void api_jarena_init(struct api_jarena *a);

/* From enter to leave, jansson values made on this thread come from a and
 * freeing them does nothing. Values made inside must be released inside
 * (or abandoned) before api_jarena_fini(); copy out with the scope left. */
void api_jarena_enter(struct api_jarena *a);
void api_jarena_leave(void);

/* Frees every block of a. */
void api_jarena_fini(struct api_jarena *a);

/* The arena of this thread's scope, or NULL outside one. */
struct api_jarena *api_jarena_current(void);

/* Moves the blocks of src (filled by another thread) into dst, so that
 * values made there are released inside dst's scope like its own; src is
 * left empty. Returns 0, or -1 when out of memory (src keeps the blocks
 * not moved, to be freed with api_jarena_fini()). */
int api_jarena_adopt(struct api_jarena *dst, struct api_jarena *src);

/* Frees memory jansson handed out (json_dumps() text), in or out of a
 * scope. */
void api_json_free(void *p);

/* --- manifest.c: documents to builder calls --- */

/* Decodes every object of docs (single objects and List kinds) into b.
 * Unknown kinds are skipped with a warning appended to warnings (a json
 * array of strings). On error err has document and path set (the path from
 * the document root, "items[3].spec..."); the caller adds line and column
 * with api_locate(). Returns 0 or -1. */
int api_manifest_decode(struct np_builder *b, const struct api_docs *docs,
                        const struct api_limits *lim, json_t *warnings,
                        struct np_error *err);

/* Parses body (len bytes, fmt) and decodes every object into b, all inside a
 * jansson arena of its own: api_docs_parse() then api_manifest_decode(),
 * with the same answers. A YAML stream or a JSON List that
 * api_docs_parse_halves() splits has its second half (documents, or items)
 * decoded on the thread that parsed it, into a builder of its own that b
 * then absorbs (np_builder_absorb()); whenever that cannot give the answer
 * the sequential decode gives (an error in the second half, a duplicate
 * across the halves, the object limit reached, the builder's warning
 * limit), the second half's documents or items are decoded again into b
 * after the first's. On success *warnings (when warnings is not NULL)
 * is a new array of the warnings, made outside the arena; NULL warnings
 * collects none. Errors as api_manifest_decode(), without line and
 * column. Returns 0 or -1. */
int api_manifest_decode_body(struct np_builder *b, const char *body, size_t len,
                             enum api_format fmt, const struct api_limits *lim,
                             json_t **warnings, struct np_error *err);

/* How many JSON Lists have had the second half of their items decoded on
 * the second thread, and how many of those decodes b then absorbed (the
 * others were decoded again after the first half); tests read them. */
extern atomic_size_t api_json_halves_decoded;
extern atomic_size_t api_json_halves_absorbed;

/* Picks the format from a Content-Type value (parameters such as charset are
 * ignored). Returns 0, or -1 with err set (NP_E_UNSUPPORTED_MEDIA_TYPE). */
int api_format_from_content_type(const char *ct, enum api_format *out,
                                 struct np_error *err);

/* --- reply.c: the only place errors become HTTP answers --- */

/* Fills resp with status and the compact serialization of body (steals body).
 */
void api_reply_json(struct api_response *resp, int status, json_t *body);
/* A 200 answer of JSON text written directly: resp takes text (malloc'ed,
 * len bytes, NUL-terminated). */
void api_reply_text(struct api_response *resp, char *text, size_t len);

/* Fills resp with CONTRACT.md's {"error": {"code", "message", "document",
 * "line", "column", "path"}} (absent fields left out) and the status that
 * err->code maps to. */
void api_reply_error(struct api_response *resp, const struct np_error *err);

/* Shorthand: an error with a code and a printf message. */
void api_reply_errorf(struct api_response *resp, enum np_errc code,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- route.c --- */

/* A handler gets the path parameters captured by its route pattern
 * ("{ns}", "{name}"), already decoded. It fills resp. */
typedef void api_handler_fn(struct api_ctx *ctx, const struct api_request *req,
                            const char *const *params, size_t nparams,
                            struct api_response *resp);

/* Rejects query arguments not in allowed (NULL-terminated). Returns 0, or -1
 * after filling resp with a 400 naming the unknown argument. */
int api_query_check_or_reply(const struct api_request *req,
                             const char *const *allowed,
                             struct api_response *resp);

/* Returns the value of query argument key, or NULL. */
const char *api_query_get(const struct api_request *req, const char *key);

/* Parses the JSON body of a query request (POST /reachability ...). Returns
 * the document (owned), or NULL after filling resp with 400/415. */
json_t *api_body_json_or_reply(const struct api_request *req,
                               struct api_response *resp);

/* --- state.c: uploads and deletions --- */
api_handler_fn api_state_get;
api_handler_fn api_state_put;
api_handler_fn api_state_post;
api_handler_fn api_state_delete;
api_handler_fn api_namespace_delete;
api_handler_fn api_pod_delete;
api_handler_fn api_policy_delete;
api_handler_fn api_workload_delete;

/* --- statefile.c --- */

/* Calls ctx->persist, if any, with snap before it is published. Returns 0,
 * or -1 with err set (NP_E_INTERNAL): the change must then be dropped. */
int api_statefile_persist(struct api_ctx *ctx, const struct np_snapshot *snap,
                          struct np_error *err);

/* --- list.c: read-only listings --- */
api_handler_fn api_namespaces_list;
api_handler_fn api_namespace_get;
api_handler_fn api_pods_list;
api_handler_fn api_pod_get;
api_handler_fn api_policies_list;
api_handler_fn api_policy_get;
api_handler_fn api_workloads_list;
api_handler_fn api_workload_get;
/* The workload named by route parameters {ns}, {kind}, {name} (borrowed
 * from snap), or NULL after answering 400 for a kind that is not a workload
 * kind or 404 (unknown_workload). */
const struct np_pod *api_workload_find_or_reply(const struct np_snapshot *snap,
                                                const char *const *params,
                                                size_t nparams,
                                                struct api_response *resp);

/* --- reach.c, isolation.c --- */
api_handler_fn api_reach_post;
api_handler_fn api_reach_get;
api_handler_fn api_reach_batch;
api_handler_fn api_isolation_get;
api_handler_fn api_workload_isolation_get;

/* --- jsonw.c: JSON text written directly --- */

#define API_JW_DEPTH 32

struct api_jw {
    struct np_text t; /* the text written so far (t.p owned) */
    bool after_key;
    int depth;
    bool first[API_JW_DEPTH];
};

void api_jw_init(struct api_jw *w);
void api_jw_fini(struct api_jw *w);

/* Returns the text (owned by the caller, NUL-terminated, *len bytes) and
 * leaves w empty, or NULL when writing failed or a container is open. */
char *api_jw_finish(struct api_jw *w, size_t *len);

/* A string value whose bytes are written straight into w's text, which
 * api_jw_text_begin() lends (w must not be used until api_jw_text_end()).
 * The bytes are escaped at the end should they need it. */
struct np_text *api_jw_text_begin(struct api_jw *w, size_t *start);
void api_jw_text_end(struct api_jw *w, size_t start);
/* api_jw_text_end() without the closing quote: escapes the text written
 * since start, should it need it. */
void api_jw_text_escape(struct api_jw *w, size_t start);
/* api_jw_text_end() for a text known to need no escapes: made only of
 * literals, numbers, addresses and the texts of a snapshot whose
 * texts_plain is true. */
void api_jw_text_end_plain(struct api_jw *w);
/* A string value of n bytes known to need no escapes, as for
 * api_jw_text_end_plain(). */
void api_jw_string_plain(struct api_jw *w, const char *s, size_t n);
/* Text written as it is, for the parts of a trace whose every byte is
 * ours: api_jw_raw_key() starts a value (the comma before it, if any) with
 * text that ends in a key, so the next value follows that key;
 * api_jw_raw_more() adds text after a value (closing what the raw text
 * opened). */
void api_jw_raw_key(struct api_jw *w, const char *text, size_t len);
static inline void
api_jw_raw_more(struct api_jw *w, const char *text, size_t len)
{
    np_text_put(&w->t, text, len);
}

void api_jw_object(struct api_jw *w);
void api_jw_end_object(struct api_jw *w);
void api_jw_array(struct api_jw *w);
void api_jw_end_array(struct api_jw *w);
void api_jw_key(struct api_jw *w, const char *k);
/* A key that needs no escaping, given as a string literal, written in one
 * copy: API_JW_KEY(w, "allowed"). */
#define API_JW_KEY(w, lit)                                                     \
    api_jw_key_plain((w), "\"" lit "\":", sizeof(lit) + 2)
void api_jw_key_plain(struct api_jw *w, const char *quoted, size_t len);
/* A string value; NULL writes null. */
void api_jw_string(struct api_jw *w, const char *s);
/* s[0..n), which holds no NUL. */
void api_jw_string_n(struct api_jw *w, const char *s, size_t n);
/* api_jw_raw_key() written in place: begin returns where up to max bytes
 * may be written (after the separator the value needs), or NULL when out
 * of memory; end takes the bytes up to end as the key of the value that
 * follows. */
char *api_jw_raw_key_begin(struct api_jw *w, size_t max);
void api_jw_raw_key_end(struct api_jw *w, char *end);
/* The same for a whole value: api_jw_raw_key_begin(), then this. */
static inline void
api_jw_raw_value_end(struct api_jw *w, char *end)
{
    w->t.len = (size_t)(end - w->t.p);
}
/* Room for up to max bytes at the end of the text, written as they are
 * (no separator): the caller keeps the JSON valid. End with
 * api_jw_raw_value_end(). NULL when out of memory. Inline, with
 * api_jw_raw_more(): a trace is written in some hundred pieces. */
static inline char *
api_jw_raw_begin(struct api_jw *w, size_t max)
{
    if (w->t.len + max + 1 >= w->t.cap) {
        np_text_grow(&w->t, max + 1);
        if (w->t.fail)
            return NULL;
    }
    return w->t.p + w->t.len;
}
/* Whether s[0..n) goes into a JSON string as it is (no escapes). */
bool api_jw_is_plain(const char *s, size_t n);
/* A string value written in pieces. */
void api_jw_string_begin(struct api_jw *w);
void api_jw_string_add(struct api_jw *w, const char *s);
void api_jw_string_add_uint(struct api_jw *w, unsigned long long n);
void api_jw_string_end(struct api_jw *w);
void api_jw_int(struct api_jw *w, long long n);
void api_jw_bool(struct api_jw *w, bool b);
void api_jw_null(struct api_jw *w);
/* A value that is already JSON text. */
void api_jw_raw(struct api_jw *w, const char *text, size_t len);

/* --- batch.c --- */

/* Answers POST /reachability/batch with "trace": false when the body has the
 * plain shape the fast path reads and every query resolves; the answer is
 * then byte for byte the one api_reach_batch() would give. Returns 0 when it
 * answered, -1 (resp untouched) when the general path must answer. */
int api_batch_fast(struct api_ctx *ctx, const struct api_request *req,
                   struct api_response *resp);

/* Reads the body of POST /reachability when it has the plain shape the
 * batch fast path reads ("trace" allowed) and resolves it against snap,
 * without building jansson values. Returns 0 with aq and trace filled, just
 * as api_query_decode() would fill them, or -1 when the general path must
 * decode the body (any error, escape or unusual form). */
struct api_query;
int api_query_fast(const struct np_snapshot *snap,
                   const struct api_request *req, struct api_query *aq,
                   bool *trace);

/* --- matrix.c --- */
api_handler_fn api_matrix_post;

/* --- api.c: service endpoints --- */
api_handler_fn api_healthz;
api_handler_fn api_readyz;
api_handler_fn api_openapi;

/* The embedded copy of openapi.yaml (generated at build time). */
extern const char api_openapi_text[];
extern const unsigned long api_openapi_len;

/* ===== Query helpers: reply.c, route.c, endpoint.c, encode.c ===== */

/* reply.c: returns {"error": {...}} for err (new reference), the body of an
 * error answer and of a failed batch item; NULL when out of memory. */
json_t *api_error_encode(const struct np_error *err);

/* route.c: the route table. */

#define API_MAX_PARAMS 4

enum api_route_result {
    API_ROUTE_FOUND,
    API_ROUTE_NO_PATH,   /* no pattern matches the path: 404 */
    API_ROUTE_NO_METHOD, /* patterns match, none for the method: 405 */
};

struct api_route_hit {
    api_handler_fn *handler;
    /* Query arguments the route accepts (NULL-terminated), or NULL when the
     * handler checks them itself. */
    const char *const *query;
    size_t nparams;
    const char *params[API_MAX_PARAMS]; /* borrowed from buf */
    char allow[64]; /* API_ROUTE_NO_METHOD: the methods the path accepts */
    char buf[1024]; /* segments of the path */
    /* Index in the route table of the route found or, for
     * API_ROUTE_NO_METHOD, of the path's first route; -1 for no path. */
    int route;
};

/* Matches method and path against the route table and fills hit. HEAD
 * matches the routes of GET. */
enum api_route_result api_route_find(const char *method, const char *path,
                                     struct api_route_hit *hit);

/* endpoint.c: queries decoded from JSON bodies or query arguments. */

struct api_query {
    struct np_query q;
    bool proto_given;
    char port_name[16]; /* the port name the query gave, "" for a number */
};

/* reach.c: writes the answer to one decoded query to w, the whole answer
 * of POST /reachability or one result of a batch. trace false is the
 * verdict and the revision only. The verdict is added to tally: [0]
 * allowed, [1] denied (for the metrics). Returns 0, or -1 with err set
 * (out of memory). */
int api_reach_answer(const struct api_ctx *ctx, const struct np_snapshot *snap,
                     const struct api_query *aq, bool trace, uint64_t tally[2],
                     struct api_jw *w, struct np_error *err);
/* The envelope of a batch's answer, for reach.c and batch.c alike: open
 * writes {"revision":N,"results":[; close ends it, counts the batch in the
 * metrics and hands the text to resp (0), or returns -1 when out of
 * memory (w is emptied either way). */
void api_batch_answer_open(struct api_jw *w, const struct np_snapshot *snap);
int api_batch_answer_close(struct api_ctx *ctx, struct api_jw *w,
                           const uint64_t tally[2], size_t nqueries,
                           struct api_response *resp);

/* Decodes a query object {"from", "to", "port", "protocol"} against snap.
 * Error paths are relative to the object ("from.namespace", "port").
 * Returns 0, or -1 with err set (400 codes; NP_E_UNKNOWN_POD for a pod snap
 * lacks). */
int api_query_decode(const struct np_snapshot *snap, const json_t *obj,
                     struct api_query *out, struct np_error *err);

/* Rejects members of obj whose names are not in allowed (NULL-terminated)
 * with NP_E_UNKNOWN_FIELD; prefix names obj in the path ("" at the root,
 * "from"). Returns 0 or -1. */
int api_fields_check(const json_t *obj, const char *const *allowed,
                     const char *prefix, struct np_error *err);

/* The same from GET /reachability's arguments from=NS/POD|IP, to=..., port,
 * protocol (unknown arguments are the caller's to check). */
int api_query_from_args(const struct np_snapshot *snap,
                        const struct api_request *req, struct api_query *out,
                        struct np_error *err);

/* encode.c: snapshot objects and verdicts as JSON. Each returns a new
 * reference, or NULL when out of memory; the snapshot is borrowed. */

/* A string as JSON; bytes that are not UTF-8 become U+FFFD. */
json_t *api_json_text(const char *s);
json_t *api_labels_encode(const struct np_snapshot *snap,
                          const struct np_labels *ls);
/* A Pod manifest (compact JSON, owned by the caller, *len bytes) holding
 * everything netpolq reads of a pod: name, namespace, labels, owner
 * references, hostNetwork, container ports, phase and addresses. Decoding it
 * gives back the same model. NULL when out of memory. */
char *api_pod_manifest_text(const struct np_model_pod *m, size_t *len);

/* The reachability answer of CONTRACT.md with the traces of v, written
 * to w (jsonw.c). say: the one np_eval_trace_say() made v with, or NULL. */
void api_verdict_write(struct api_jw *w, const struct np_snapshot *snap,
                       const struct api_query *aq, const struct np_verdict *v,
                       struct np_say_ctx *say);
json_t *api_isolation_encode(const struct np_snapshot *snap,
                             const struct np_pod *pod);
json_t *api_namespace_encode(const struct np_snapshot *snap,
                             const struct np_namespace *ns);
json_t *api_pod_encode(const struct np_snapshot *snap,
                       const struct np_pod *pod);
/* The policy as uploaded plus "selectedPods", "policyTypes" (effective) and
 * "policyTypesDefaulted". */
json_t *api_policy_encode(const struct np_snapshot *snap,
                          const struct np_policy *pol);
/* A workload (its template pod): kind, template labels, ports,
 * hostNetwork, the policies selecting it, its owner and its pods. */
json_t *api_workload_encode(const struct np_snapshot *snap,
                            const struct np_pod *wl);

/* ===== end of the query handlers' helpers ===== */

/* ===== Metrics, CORS and ETags: metrics.c, cors.c, etag.c, route.c ===== */

/* metrics.c: counting into ctx->metrics (NULL is ignored). Each call is a
 * few relaxed atomic additions, cheap enough for every request. */

/* One answered request: route is api_route_hit.route (-1: "unmatched"),
 * method as sent, ns the time from the complete request to the answer. */
void api_metrics_request(struct api_metrics *m, int route, const char *method,
                         int status, uint64_t ns);
/* One successful PUT or POST /state that took ns. */
void api_metrics_upload(struct api_metrics *m, uint64_t ns);
/* Verdicts given: single queries, batch items, matrix pairs. */
void api_metrics_verdicts(struct api_metrics *m, uint64_t allowed,
                          uint64_t denied);
/* One answered batch of nqueries queries. */
void api_metrics_batch(struct api_metrics *m, size_t nqueries);
/* GET /metrics: the Prometheus text format. */
api_handler_fn api_metrics_get;

/* route.c: the route table for the metrics' labels. */
size_t api_route_count(void);
/* The pattern of route i ("/pods/{ns}/{name}/isolation"), i below
 * api_route_count(). */
const char *api_route_pattern(size_t i);

/* cors.c */

/* Adds name: value to resp's extra headers (value cut at 255 bytes).
 * Returns 0, or -1 when API_MAX_HEADERS are already set. */
int api_response_add_header(struct api_response *resp, const char *name,
                            const char *value);

/* Answers a CORS preflight: an OPTIONS request with Origin and
 * Access-Control-Request-Method from an allowed origin, to a path whose
 * methods are allow. Returns true when it answered 204 with
 * Access-Control-Allow-Methods, -Headers and -Max-Age (the caller adds the
 * headers of api_cors_headers()); false when req is not such a preflight
 * and must be answered as usual. */
bool api_cors_preflight(const struct api_ctx *ctx,
                        const struct api_request *req, const char *allow,
                        struct api_response *resp);

/* etag.c: validators for GET and HEAD answers. State-derived answers carry
 * W/"r<revision>-<process>", /openapi.yaml a hash of its bytes; the
 * service endpoints (/healthz, /readyz, /metrics) none. */

/* Reads what api_etag_apply() needs before handler runs: the current
 * revision for a state-derived answer, else 0. */
uint64_t api_etag_begin(struct api_ctx *ctx, const struct api_request *req,
                        api_handler_fn *handler);

/* Sets resp->etag on a 200 answer of handler to a GET or HEAD, and turns the
 * answer into a 304 without a body when If-None-Match matches it. A
 * state-derived answer gets no ETag when the revision moved while handler
 * ran (before is api_etag_begin()'s), as its revision is then unknown. */
void api_etag_apply(struct api_ctx *ctx, const struct api_request *req,
                    api_handler_fn *handler, uint64_t before,
                    struct api_response *resp);

/* ===== end of metrics, CORS and ETags ===== */

#endif
