/*
 * POST /reachability/matrix: the verdict for every (source, destination) pair
 * of two pod sets on one port and protocol, computed by np_matrix_compute()
 * with bitsets rather than pair by pair.
 *
 * A pod set is {"namespace": NS, "labelSelector": "kubectl syntax"}, both
 * optional (all pods by default), in the snapshot's pod order (namespace,
 * then name). The answer lists both orders and encodes the verdicts in the
 * smallest of three forms unless the request picks one:
 *   "hex":     one string per source; byte k of a row (two hex digits) holds
 *              destinations 8k..8k+7, least significant bit first;
 *   "allowed": [[i, j], ...] pairs of indexes that are allowed;
 *   "denied":  the same for denied pairs;
 *   "bits":    one string of '0'/'1' per source (readable, never chosen
 *              automatically).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/arena.h"
#include "core/matrix.h"
#include "core/selector.h"

static const char *const matrix_fields[] = { "from",     "to",       "port",
                                             "protocol", "encoding", NULL };
static const char *const set_fields[] = { "namespace", "labelSelector", NULL };

/* Decodes a pod set and collects the ids of its pods. Returns 0, or -1 with
 * err set. *ids is owned by the caller (free()). */
static int
pod_set_decode(const struct np_snapshot *snap, const json_t *set,
               const char *field, uint32_t **ids, uint32_t *n,
               struct np_error *err)
{
    const struct np_namespace *ns = NULL;
    struct np_selector sel = { 0 };
    struct np_arena a;
    const json_t *v;
    uint32_t first = 0, count = snap->npods, i;
    int rc = -1;

    np_arena_init(&a);
    *ids = NULL;
    *n = 0;
    if (set != NULL && !json_is_null(set)) {
        if (!json_is_object(set)) {
            np_error_set(err, NP_E_INVALID_TYPE,
                         "%s must be an object {\"namespace\", "
                         "\"labelSelector\"}",
                         field);
            np_error_path(err, "%s", field);
            goto out;
        }
        if (api_fields_check(set, set_fields, field, err) != 0)
            goto out;
        v = json_object_get(set, "namespace");
        if (v != NULL && !json_is_null(v)) {
            if (!json_is_string(v)) {
                np_error_set(err, NP_E_INVALID_TYPE,
                             "namespace must be a string");
                np_error_path(err, "%s.namespace", field);
                goto out;
            }
            ns = np_snapshot_find_namespace(snap, json_string_value(v));
            if (ns == NULL) {
                np_error_set(err, NP_E_UNKNOWN_NAMESPACE,
                             "namespace \"%.100s\" does not exist in revision "
                             "%llu",
                             json_string_value(v),
                             (unsigned long long)snap->revision);
                np_error_path(err, "%s.namespace", field);
                goto out;
            }
            first = ns->first_pod;
            count = ns->npods;
        }
        v = json_object_get(set, "labelSelector");
        if (v != NULL && !json_is_null(v)) {
            if (!json_is_string(v)) {
                np_error_set(err, NP_E_INVALID_TYPE,
                             "labelSelector must be a string in kubectl's "
                             "syntax, e.g. \"app=web,tier!=db\"");
                np_error_path(err, "%s.labelSelector", field);
                goto out;
            }
            if (np_selector_parse(json_string_value(v), snap->syms, &a, &sel,
                                  err) != 0) {
                np_error_path(err, "%s.labelSelector", field);
                goto out;
            }
        }
    }
    *ids = malloc(((size_t)count + 1) * sizeof(**ids));
    if (*ids == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = first; i < first + count; i++) {
        if (np_selector_matches(&sel, &snap->pods[i].labels))
            (*ids)[(*n)++] = i;
    }
    rc = 0;
out:
    np_arena_free_all(&a);
    return rc;
}

static json_t *
pod_names(const struct np_snapshot *snap, const uint32_t *ids, uint32_t n)
{
    json_t *arr = json_array();
    char buf[512];
    uint32_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        const struct np_pod *p = &snap->pods[ids[i]];

        snprintf(buf, sizeof(buf), "%s/%s", snap->namespaces[p->ns].name,
                 p->name);
        if (json_array_append_new(arr, json_string(buf)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *
encode_rows(const struct np_matrix *m, bool hex)
{
    static const char digits[] = "0123456789abcdef";
    size_t len = hex ? ((size_t)m->ndst + 7) / 8 * 2 : m->ndst;
    json_t *rows = json_array();
    char *buf = malloc(len + 1);
    uint32_t i, j;

    if (rows == NULL || buf == NULL)
        goto fail;
    for (i = 0; i < m->nsrc; i++) {
        const uint64_t *row = m->bits + (size_t)i * m->row_words;

        if (hex) {
            for (j = 0; j < len / 2; j++) {
                uint8_t byte = (uint8_t)(row[j / 8] >> ((j % 8) * 8));

                buf[2 * j] = digits[byte >> 4];
                buf[2 * j + 1] = digits[byte & 15];
            }
        } else {
            for (j = 0; j < m->ndst; j++)
                buf[j] = np_matrix_get(m, i, j) ? '1' : '0';
        }
        if (json_array_append_new(rows, json_stringn_nocheck(buf, len)) != 0)
            goto fail;
    }
    free(buf);
    return rows;
fail:
    free(buf);
    json_decref(rows);
    return NULL;
}

static json_t *
encode_pairs(const struct np_matrix *m, bool want)
{
    json_t *pairs = json_array();
    uint32_t i, j;

    for (i = 0; pairs != NULL && i < m->nsrc; i++) {
        for (j = 0; j < m->ndst; j++) {
            if (np_matrix_get(m, i, j) != want)
                continue;
            if (json_array_append_new(pairs, json_pack("[I,I]", (json_int_t)i,
                                                       (json_int_t)j)) != 0) {
                json_decref(pairs);
                return NULL;
            }
        }
    }
    return pairs;
}

void
api_matrix_post(struct api_ctx *ctx, const struct api_request *req,
                const char *const *params, size_t nparams,
                struct api_response *resp)
{
    struct np_snapshot *snap;
    struct np_matrix m = { 0 };
    struct np_error err;
    uint32_t *src = NULL, *dst = NULL, nsrc = 0, ndst = 0;
    enum np_proto proto = NP_PROTO_TCP;
    const char *encoding = "auto";
    json_t *doc, *v, *out = NULL, *verdicts = NULL;
    uint64_t allowed, total;
    json_int_t port;

    (void)params;
    (void)nparams;
    doc = api_body_json_or_reply(req, resp);
    if (doc == NULL)
        return;
    np_error_init(&err);
    snap = np_state_acquire(&ctx->state);
    if (!json_is_object(doc)) {
        np_error_set(&err, NP_E_INVALID_TYPE,
                     "the body must be a JSON object {\"from\", \"to\", "
                     "\"port\", \"protocol\"}");
        goto fail;
    }
    if (api_fields_check(doc, matrix_fields, "", &err) != 0)
        goto fail;
    v = json_object_get(doc, "port");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > 65535) {
        np_error_set(&err, v == NULL ? NP_E_MISSING_FIELD : NP_E_INVALID_PORT,
                     "port must be a number from 1 to 65535 (a matrix needs "
                     "a numeric port: names resolve per destination pod)");
        np_error_path(&err, "port");
        goto fail;
    }
    port = json_integer_value(v);
    v = json_object_get(doc, "protocol");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) ||
            np_proto_parse(json_string_value(v), &proto, &err) != 0) {
            np_error_set(&err, NP_E_INVALID_PROTOCOL,
                         "protocol must be \"TCP\", \"UDP\" or \"SCTP\"");
            np_error_path(&err, "protocol");
            goto fail;
        }
    }
    v = json_object_get(doc, "encoding");
    if (v != NULL && !json_is_null(v)) {
        encoding = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(encoding, "auto") != 0 && strcmp(encoding, "hex") != 0 &&
            strcmp(encoding, "bits") != 0 && strcmp(encoding, "allowed") != 0 &&
            strcmp(encoding, "denied") != 0) {
            np_error_set(&err, NP_E_INVALID_VALUE,
                         "encoding must be \"auto\", \"hex\", \"bits\", "
                         "\"allowed\" or \"denied\"");
            np_error_path(&err, "encoding");
            goto fail;
        }
    }
    if (pod_set_decode(snap, json_object_get(doc, "from"), "from", &src, &nsrc,
                       &err) != 0 ||
        pod_set_decode(snap, json_object_get(doc, "to"), "to", &dst, &ndst,
                       &err) != 0)
        goto fail;
    if (ctx->cfg.limits.max_matrix_pods != 0 &&
        (nsrc > ctx->cfg.limits.max_matrix_pods ||
         ndst > ctx->cfg.limits.max_matrix_pods)) {
        np_error_set(&err, NP_E_LIMIT_EXCEEDED,
                     "a matrix of %u x %u pods exceeds the limit of %zu pods "
                     "per side (max_matrix_pods); narrow from/to",
                     nsrc, ndst, ctx->cfg.limits.max_matrix_pods);
        goto fail;
    }
    if (np_matrix_compute(snap, &ctx->opts, src, nsrc, dst, ndst,
                          (uint16_t)port, proto, &m, &err) != 0)
        goto fail;
    allowed = np_matrix_count_allowed(&m);
    total = (uint64_t)nsrc * ndst;
    api_metrics_verdicts(ctx->metrics, allowed, total - allowed);
    if (strcmp(encoding, "auto") == 0) {
        /* A pair costs about 12 bytes of JSON, a row byte two. */
        uint64_t hex_cost = (uint64_t)nsrc * ((ndst + 7) / 8 * 2 + 3);
        uint64_t few = allowed < total - allowed ? allowed : total - allowed;

        if (few * 12 < hex_cost)
            encoding = allowed <= total - allowed ? "allowed" : "denied";
        else
            encoding = "hex";
    }
    if (strcmp(encoding, "hex") == 0 || strcmp(encoding, "bits") == 0)
        verdicts = encode_rows(&m, encoding[0] == 'h');
    else
        verdicts = encode_pairs(&m, strcmp(encoding, "allowed") == 0);
    out = json_object();
    if (verdicts == NULL || out == NULL ||
        json_object_set_new(out, "revision",
                            json_integer((json_int_t)snap->revision)) != 0 ||
        json_object_set_new(out, "port", json_integer(port)) != 0 ||
        json_object_set_new(out, "protocol",
                            json_string(np_proto_name(proto))) != 0 ||
        json_object_set_new(out, "from", pod_names(snap, src, nsrc)) != 0 ||
        json_object_set_new(out, "to", pod_names(snap, dst, ndst)) != 0 ||
        json_object_set_new(out, "allowedCount",
                            json_integer((json_int_t)allowed)) != 0 ||
        json_object_set_new(out, "deniedCount",
                            json_integer((json_int_t)(total - allowed))) != 0 ||
        json_object_set_new(out, "encoding", json_string(encoding)) != 0 ||
        json_object_set_new(out,
                            strcmp(encoding, "hex") == 0 ||
                                    strcmp(encoding, "bits") == 0
                                ? "rows"
                                : "pairs",
                            verdicts) != 0) {
        verdicts = NULL;
        np_error_set(&err, NP_E_NOMEM, "out of memory writing the answer");
        goto fail;
    }
    api_reply_json(resp, 200, out);
    out = NULL;
    goto done;
fail:
    json_decref(verdicts);
    api_reply_error(resp, &err);
done:
    json_decref(out);
    np_matrix_fini(&m);
    free(src);
    free(dst);
    np_snapshot_release(snap);
    json_decref(doc);
}
