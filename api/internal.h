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

void api_docs_fini(struct api_docs *docs);

/* Finds the 1-based line and column in body of the node at path (e.g.
 * "items[2].spec.ingress[0].from[1].ipBlock.cidr") in document doc (0-based
 * stream index). Works for YAML and JSON bodies. Returns 0, or -1 when the
 * path is not found, in which case the deepest existing prefix is used when
 * there is one (so line points at the closest enclosing node). */
int api_locate(const char *body, size_t len, int doc, const char *path,
               int *line, int *column);

/* --- manifest.c: documents to builder calls --- */

/* Decodes every object of docs (single objects and List kinds) into b.
 * Unknown kinds are skipped with a warning appended to warnings (a json
 * array of strings). On error err has document and path set (the path from
 * the document root, "items[3].spec..."); the caller adds line and column
 * with api_locate(). Returns 0 or -1. */
int api_manifest_decode(struct np_builder *b, const struct api_docs *docs,
                        const struct api_limits *lim, json_t *warnings,
                        struct np_error *err);

/* Picks the format from a Content-Type value (parameters such as charset are
 * ignored). Returns 0, or -1 with err set (NP_E_UNSUPPORTED_MEDIA_TYPE). */
int api_format_from_content_type(const char *ct, enum api_format *out,
                                 struct np_error *err);

/* --- reply.c: the only place errors become HTTP answers --- */

/* Fills resp with status and the compact serialization of body (steals body).
 */
void api_reply_json(struct api_response *resp, int status, json_t *body);

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

/* --- list.c: read-only listings --- */
api_handler_fn api_namespaces_list;
api_handler_fn api_namespace_get;
api_handler_fn api_pods_list;
api_handler_fn api_pod_get;
api_handler_fn api_policies_list;
api_handler_fn api_policy_get;

/* --- reach.c, isolation.c --- */
api_handler_fn api_reach_post;
api_handler_fn api_reach_get;
api_handler_fn api_reach_batch;
api_handler_fn api_isolation_get;

/* --- api.c: service endpoints --- */
api_handler_fn api_healthz;
api_handler_fn api_readyz;
api_handler_fn api_openapi;

/* The embedded copy of openapi.yaml (generated at build time). */
extern const char api_openapi_text[];
extern const unsigned long api_openapi_len;

#endif
