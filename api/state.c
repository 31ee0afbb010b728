/*
 * The cluster-state resource: GET, PUT, POST and DELETE /state, and the
 * deletion of one namespace, pod or policy. Every change builds a whole new
 * snapshot at the next revision under the state's writer lock and publishes
 * it, so a change is all or nothing and concurrent uploads never lose each
 * other's objects.
 *
 * Decoding manifests is manifest.c's, validation the builder's; this file
 * only orders the steps and answers. Listing objects is list.c's.
 */
#include "api/internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/builder.h"
#include "core/error.h"
#include "core/snapshot.h"
#include "core/workload.h"

static const char *const no_query[] = { NULL };

/* Fills the position of a manifest error from the body: the line and column
 * of the field at err->path (or of the document when there is no path). */
static void
locate_error(const char *body, size_t len, struct np_error *err)
{
    int line = 0, column = 0;

    if (err->document < 0 || err->line != 0 || body == NULL || len == 0)
        return;
    api_locate(body, len, err->document, err->path, &line, &column);
    err->line = line;
    err->column = column;
}

/* Without a Content-Type, a body whose first character opens a JSON object
 * or array is read as JSON (for jansson's exact errors), anything else as
 * YAML. */
static int
request_format(const struct api_request *req, enum api_format *fmt,
               struct np_error *err)
{
    size_t i;

    if (req->content_type != NULL &&
        req->content_type[strspn(req->content_type, " \t")] != '\0')
        return api_format_from_content_type(req->content_type, fmt, err);
    *fmt = API_FORMAT_YAML;
    for (i = 0; i < req->body_len; i++) {
        char c = req->body[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '{' || c == '[')
            *fmt = API_FORMAT_JSON;
        break;
    }
    return 0;
}

/* Answers 200 with the counts of snap and warnings (stolen; NULL for
 * none). */
static void
reply_counts(struct api_response *resp, const struct np_snapshot *snap,
             json_t *warnings)
{
    json_t *body = json_object();

    if (warnings == NULL)
        warnings = json_array();
    if (body == NULL || warnings == NULL ||
        json_object_set_new(body, "revision",
                            json_integer((json_int_t)snap->revision)) != 0 ||
        json_object_set_new(body, "namespaces",
                            json_integer(snap->nnamespaces)) != 0 ||
        json_object_set_new(body, "pods", json_integer(snap->npods)) != 0 ||
        json_object_set_new(body, "networkPolicies",
                            json_integer(snap->npolicies)) != 0 ||
        json_object_set_new(body, "workloads",
                            json_integer(snap->nworkloads)) != 0 ||
        json_object_set_new(body, "warnings", warnings) != 0) {
        json_decref(body);
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory");
        return;
    }
    api_reply_json(resp, 200, body);
}

/* Appends the builder's warnings from index first on (those raised while
 * building, such as two pods sharing an IP) to warnings. */
static int
add_builder_warnings(const struct np_builder *b, size_t first, json_t *warnings,
                     struct np_error *err)
{
    size_t i;

    for (i = first; i < np_builder_nwarnings(b); i++) {
        if (json_array_append_new(warnings,
                                  api_json_text(np_builder_warning(b, i))) != 0)
            return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    return 0;
}

/* Builds b on top of the current revision, saves the result to the state
 * file when there is one, and publishes it. For a merge (POST), the objects
 * of the current state that b does not replace are carried over first; the
 * base is read under the writer lock so that no concurrent upload slips
 * between reading it and publishing. Returns the new snapshot (owned), or
 * NULL with err set and the state unchanged. */
static struct np_snapshot *
commit(struct api_ctx *ctx, struct np_builder *b, bool merge, json_t *warnings,
       struct np_error *err)
{
    struct np_snapshot *base;
    struct np_snapshot *snap = NULL;
    /* api_manifest_decode() has reported the warnings of each object it
     * added, with the object's document. */
    size_t first = np_builder_nwarnings(b);

    np_state_writer_lock(&ctx->state);
    base = np_state_acquire(&ctx->state);
    if (merge && np_builder_keep_from(b, base, err) != 0)
        goto out;
    snap = np_builder_build(b, base->revision + 1, err);
    /* The builder keeps its warnings, build-time ones included, after
     * np_builder_build(). */
    if (snap != NULL && (add_builder_warnings(b, first, warnings, err) != 0 ||
                         api_statefile_persist(ctx, snap, err) != 0)) {
        np_snapshot_release(snap);
        snap = NULL;
    }
    if (snap != NULL)
        np_state_publish(&ctx->state, np_snapshot_retain(snap));
out:
    np_state_writer_unlock(&ctx->state);
    np_snapshot_release(base);
    return snap;
}

/* PUT (merge false) and POST (merge true) /state. An empty body is a valid
 * upload of no objects: PUT then empties the state and POST changes
 * nothing but the revision. kubectl has no such call, so nothing upstream
 * decides this; "no objects" is the reading that needs no special case. */
static void
upload(struct api_ctx *ctx, const struct api_request *req, bool merge,
       struct api_response *resp)
{
    struct np_error err;
    struct np_builder *b = NULL;
    struct np_snapshot *snap;
    json_t *warnings = NULL;
    enum api_format fmt;

    np_error_init(&err);
    if (api_query_check_or_reply(req, no_query, resp) != 0)
        return;
    if (request_format(req, &fmt, &err) != 0)
        goto fail;
    b = np_builder_new();
    if (b == NULL) {
        np_error_set(&err, NP_E_NOMEM, "out of memory");
        goto fail;
    }
    if (api_manifest_decode_body(b, req->body, req->body_len, fmt,
                                 &ctx->cfg.limits, &warnings, &err) != 0)
        goto fail;
    snap = commit(ctx, b, merge, warnings, &err);
    if (snap == NULL)
        goto fail;
    reply_counts(resp, snap, warnings);
    warnings = NULL;
    np_snapshot_release(snap);
    goto out;
fail:
    locate_error(req->body, req->body_len, &err);
    api_reply_error(resp, &err);
out:
    json_decref(warnings);
    np_builder_free(b);
}

void
api_state_get(struct api_ctx *ctx, const struct api_request *req,
              const char *const *params, size_t nparams,
              struct api_response *resp)
{
    struct np_snapshot *snap;
    json_t *body;

    (void)params;
    (void)nparams;
    if (api_query_check_or_reply(req, no_query, resp) != 0)
        return;
    snap = np_state_acquire(&ctx->state);
    body = json_object();
    if (body == NULL ||
        json_object_set_new(body, "revision",
                            json_integer((json_int_t)snap->revision)) != 0 ||
        json_object_set_new(body, "namespaces",
                            json_integer(snap->nnamespaces)) != 0 ||
        json_object_set_new(body, "implicitNamespaces",
                            json_integer(snap->nnamespaces -
                                         snap->ndeclared_namespaces)) != 0 ||
        json_object_set_new(body, "pods", json_integer(snap->npods)) != 0 ||
        json_object_set_new(body, "networkPolicies",
                            json_integer(snap->npolicies)) != 0 ||
        json_object_set_new(body, "workloads",
                            json_integer(snap->nworkloads)) != 0) {
        json_decref(body);
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory");
    } else {
        api_reply_json(resp, 200, body);
    }
    np_snapshot_release(snap);
}

void
api_state_put(struct api_ctx *ctx, const struct api_request *req,
              const char *const *params, size_t nparams,
              struct api_response *resp)
{
    (void)params;
    (void)nparams;
    upload(ctx, req, false, resp);
}

void
api_state_post(struct api_ctx *ctx, const struct api_request *req,
               const char *const *params, size_t nparams,
               struct api_response *resp)
{
    (void)params;
    (void)nparams;
    upload(ctx, req, true, resp);
}

/* Whether snap has the workload ref ("Kind/name") in namespace ns. */
static bool
workload_exists(const struct np_snapshot *snap, const char *ns, const char *ref)
{
    const char *slash = strchr(ref, '/');
    char kind[64];

    if (slash == NULL || (size_t)(slash - ref) >= sizeof(kind))
        return false;
    memcpy(kind, ref, (size_t)(slash - ref));
    kind[slash - ref] = '\0';
    return np_snapshot_find_workload(snap, ns, kind, slash + 1) != NULL;
}

/* Publishes the current state without one object (kind, ns, name), or an
 * empty state when kind is NP_KIND__MAX. Answers like an upload, or 404 when
 * the object does not exist in the current revision. */
static void
remove_object(struct api_ctx *ctx, enum np_kind kind, const char *ns,
              const char *name, struct api_response *resp)
{
    struct np_error err;
    struct np_builder *b;
    struct np_snapshot *base;
    struct np_snapshot *snap = NULL;
    json_t *warnings;

    np_error_init(&err);
    b = np_builder_new();
    warnings = json_array();
    if (b == NULL || warnings == NULL) {
        np_error_set(&err, NP_E_NOMEM, "out of memory");
        goto fail;
    }
    np_state_writer_lock(&ctx->state);
    base = np_state_acquire(&ctx->state);
    switch (kind) {
    case NP_KIND_NAMESPACE:
        if (np_snapshot_find_namespace(base, name) == NULL)
            np_error_set(&err, NP_E_UNKNOWN_NAMESPACE,
                         "namespace \"%s\" does not exist", name);
        break;
    case NP_KIND_POD:
        if (np_snapshot_find_pod(base, ns, name) == NULL)
            np_error_set(&err, NP_E_UNKNOWN_POD, "pod \"%s/%s\" does not exist",
                         ns, name);
        break;
    case NP_KIND_POLICY:
        if (np_snapshot_find_policy(base, ns, name) == NULL)
            np_error_set(&err, NP_E_UNKNOWN_POLICY,
                         "NetworkPolicy \"%s/%s\" does not exist", ns, name);
        break;
    case NP_KIND_WORKLOAD:
        /* name is "Kind/name", as the builder keys workloads. */
        if (!workload_exists(base, ns, name))
            np_error_set(&err, NP_E_UNKNOWN_WORKLOAD,
                         "workload \"%s/%s\" does not exist", ns, name);
        break;
    case NP_KIND__MAX:
        break;
    }
    /* Removing a namespace removes its pods and policies too, also when
     * the namespace was only implicit (referenced, never declared). */
    if (!np_error_is_set(&err) && kind != NP_KIND__MAX &&
        np_builder_keep_from(b, base, &err) == 0)
        np_builder_remove(b, kind, kind == NP_KIND_NAMESPACE ? name : ns, name);
    if (!np_error_is_set(&err))
        snap = np_builder_build(b, base->revision + 1, &err);
    if (snap != NULL && (add_builder_warnings(b, 0, warnings, &err) != 0 ||
                         api_statefile_persist(ctx, snap, &err) != 0)) {
        np_snapshot_release(snap);
        snap = NULL;
    }
    if (snap != NULL)
        np_state_publish(&ctx->state, np_snapshot_retain(snap));
    np_state_writer_unlock(&ctx->state);
    np_snapshot_release(base);
    if (snap == NULL)
        goto fail;
    reply_counts(resp, snap, warnings);
    warnings = NULL;
    np_snapshot_release(snap);
    goto out;
fail:
    api_reply_error(resp, &err);
out:
    json_decref(warnings);
    np_builder_free(b);
}

/* The checks of a DELETE of one object: no query arguments, and the want
 * path parameters its route promises (what names them in the error).
 * Returns 0, or -1 with resp filled. */
static int
delete_args_or_reply(const struct api_request *req, size_t nparams, size_t want,
                     const char *what, struct api_response *resp)
{
    if (api_query_check_or_reply(req, no_query, resp) != 0)
        return -1;
    if (nparams < want) {
        api_reply_errorf(resp, NP_E_INTERNAL, "route without a %s", what);
        return -1;
    }
    return 0;
}

void
api_state_delete(struct api_ctx *ctx, const struct api_request *req,
                 const char *const *params, size_t nparams,
                 struct api_response *resp)
{
    (void)params;
    (void)nparams;
    if (api_query_check_or_reply(req, no_query, resp) != 0)
        return;
    remove_object(ctx, NP_KIND__MAX, NULL, NULL, resp);
}

void
api_namespace_delete(struct api_ctx *ctx, const struct api_request *req,
                     const char *const *params, size_t nparams,
                     struct api_response *resp)
{
    if (delete_args_or_reply(req, nparams, 1, "namespace", resp) != 0)
        return;
    remove_object(ctx, NP_KIND_NAMESPACE, NULL, params[0], resp);
}

void
api_pod_delete(struct api_ctx *ctx, const struct api_request *req,
               const char *const *params, size_t nparams,
               struct api_response *resp)
{
    if (delete_args_or_reply(req, nparams, 2, "pod", resp) != 0)
        return;
    remove_object(ctx, NP_KIND_POD, params[0], params[1], resp);
}

void
api_policy_delete(struct api_ctx *ctx, const struct api_request *req,
                  const char *const *params, size_t nparams,
                  struct api_response *resp)
{
    if (delete_args_or_reply(req, nparams, 2, "policy", resp) != 0)
        return;
    remove_object(ctx, NP_KIND_POLICY, params[0], params[1], resp);
}

/* DELETE /namespaces/{ns}/workloads/{kind}/{name}: kinds are spelled as
 * Kubernetes spells them, so "deployment" is a bad request, not a missing
 * workload. */
void
api_workload_delete(struct api_ctx *ctx, const struct api_request *req,
                    const char *const *params, size_t nparams,
                    struct api_response *resp)
{
    char ref[600];
    int n;

    if (delete_args_or_reply(req, nparams, 3, "workload", resp) != 0)
        return;
    if (!np_workload_kind_is_valid(params[1])) {
        api_reply_errorf(resp, NP_E_INVALID_VALUE,
                         "\"%.60s\" is not a workload kind: use %s "
                         "(kinds are case-sensitive)",
                         params[1], np_workload_kinds_text());
        return;
    }
    n = snprintf(ref, sizeof(ref), "%s/%s", params[1], params[2]);
    if (n < 0 || (size_t)n >= sizeof(ref)) {
        api_reply_errorf(resp, NP_E_UNKNOWN_WORKLOAD,
                         "workload \"%.63s/%.30s/%.200s...\" does not exist",
                         params[0], params[1], params[2]);
        return;
    }
    remove_object(ctx, NP_KIND_WORKLOAD, params[0], ref, resp);
}
