/*
 * The netpolq HTTP API without HTTP: a request is a method, a path, decoded
 * query arguments, a content type and a complete body; the answer is a status,
 * a JSON body and a few headers. server/http.c converts libmicrohttpd's
 * connections into these; tests call api_dispatch() directly.
 */
#ifndef API_API_H
#define API_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/eval.h"
#include "core/snapshot.h"

struct api_metrics;

struct api_kv {
    const char *key;
    const char *value;
};

struct api_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded path without the query string */
    size_t nquery;
    const struct api_kv *query; /* decoded query arguments, in order */
    const char *content_type;   /* Content-Type header, or NULL */
    const char *body;           /* not NUL-terminated; may be NULL if empty */
    size_t body_len;
    const char *if_none_match; /* If-None-Match header, or NULL */
    const char *origin;        /* Origin header (CORS), or NULL */
    const char *cors_method;   /* Access-Control-Request-Method, or NULL */
};

/* Headers of an answer beyond Content-Type, Allow and ETag (CORS). */
#define API_MAX_HEADERS 8

struct api_header {
    const char *name; /* static string */
    char value[256];
};

struct api_response {
    int status;
    char *body; /* owned, NUL-terminated JSON (or YAML for /openapi.yaml) */
    size_t body_len;
    const char *content_type; /* static string */
    char allow[64];           /* Allow header value for 405, else "" */
    char etag[64];            /* ETag header value, else "" */
    size_t nheaders;
    struct api_header headers[API_MAX_HEADERS];
    /* The revision a successful change of the state published, else 0. */
    uint64_t published;
};

struct api_limits {
    size_t max_body;        /* bytes; checked by the server before reading */
    size_t max_depth;       /* nesting depth of YAML/JSON documents */
    size_t max_objects;     /* objects per upload */
    size_t max_batch;       /* queries per batch */
    size_t max_string;      /* bytes in one scalar */
    size_t max_documents;   /* documents in one YAML stream */
    size_t max_matrix_pods; /* pods on each side of a matrix */
};

struct api_config {
    bool ipblock_matches_pods;
    struct api_limits limits;
    /* Origins whose browser scripts may read answers (CORS): borrowed,
     * must outlive the context; {"*"} allows every origin, none turns CORS
     * off. */
    const char *const *cors_origins;
    size_t ncors_origins;
};

/* Fills cfg with the defaults (ipBlock matches pods, 64 MiB bodies, ...). */
void api_config_defaults(struct api_config *cfg);

struct api_ctx {
    struct np_state state;
    struct api_config cfg;
    struct np_eval_opts opts;
    atomic_bool ready; /* /readyz: set once the start-up loads are in */
    /* Called under the writer lock with every new snapshot (uploads,
     * deletions, --load) after it is built and before it is published; NULL
     * for none. snap is borrowed. Returning -1 with err set cancels the
     * change: the state stays as it was and the request answers 500. */
    int (*persist)(void *arg, const struct np_snapshot *snap,
                   struct np_error *err);
    void *persist_arg;
    struct api_metrics *metrics; /* owned; GET /metrics (api/metrics.h) */
};

/* Initializes ctx with an empty state at revision 0. Returns 0, or -1 with
 * err set. */
int api_ctx_init(struct api_ctx *ctx, const struct api_config *cfg,
                 struct np_error *err);
void api_ctx_fini(struct api_ctx *ctx);

/* Answers one request. Never fails: errors become 4xx/5xx JSON answers.
 * resp is filled; release it with api_response_fini(). */
void api_dispatch(struct api_ctx *ctx, const struct api_request *req,
                  struct api_response *resp);

void api_response_fini(struct api_response *resp);

/* Counts in the metrics an answer the server made without api_dispatch()
 * (a 401, a body over --max-body), under the route the path would have
 * taken; ns is how long it took. */
void api_count_answer(struct api_ctx *ctx, const char *method, const char *path,
                      int status, uint64_t ns);

/* One file of start-up manifests (--load). */
struct api_file {
    const char *name; /* for error messages */
    const char *data;
    size_t len;
};

/* Loads files as one POST /state would (one new revision; all or nothing):
 * their objects replace same-named ones of the current state, which is empty
 * at start unless a state file was restored. Objects defined twice across
 * the files are an error. The format of each file follows its name (.json
 * is JSON, anything else YAML). Returns 0, or -1 with err set;
 * err->message names the file. */
int api_load_files(struct api_ctx *ctx, const struct api_file *files,
                   size_t nfiles, struct np_error *err);

/* The state file (--state-file), api/statefile.c. */

/* Receives the bytes of a state file: returns 0, or -1 with err set. */
typedef int api_write_fn(void *arg, const char *buf, size_t len,
                         struct np_error *err);

/* Writes snap (borrowed) in the state-file format through write, in pieces.
 * Returns 0, or -1 with err set (write's error, or NP_E_INTERNAL for an
 * object without its uploaded source). */
int api_statefile_write(const struct np_snapshot *snap, api_write_fn *write,
                        void *arg, struct np_error *err);

/* Publishes the state saved in data (the bytes of a state file; name is for
 * messages) at its saved revision. ctx must still hold its initial empty
 * state. Returns 0, or -1 with err set and the state unchanged: a file that
 * is truncated, damaged (its checksum does not match) or not a state file is
 * NP_E_SYNTAX, and every message names the file. */
int api_statefile_restore(struct api_ctx *ctx, const char *data, size_t len,
                          const char *name, struct np_error *err);

/* Returns the HTTP status for an error code (400, 404, 413, 500, ...). */
int api_errc_status(enum np_errc code);

#endif
