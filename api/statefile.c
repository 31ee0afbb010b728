/*
 * The state file's format (--state-file), both ways: api_statefile_write()
 * turns a snapshot into the file's bytes, api_statefile_restore() turns
 * them back into a published snapshot at the stored revision. Where the
 * bytes go, and how they reach the disk safely (a temporary file, fsync,
 * rename), is server/store.c's business.
 *
 * The file is one JSON document:
 *
 *   {"netpolqState":1,"revision":7,"namespaces":2,"workloads":1,"pods":3,
 *    "networkPolicies":1,"items":[
 *   {"apiVersion":"v1","kind":"Namespace",...},
 *   ...
 *   ],"fnv1a64":"0123456789abcdef"}
 *
 * Each item is an object exactly as it was uploaded (the model's `source`:
 * compact JSON, with kind and apiVersion filled in from a typed List), one
 * per line: declared namespaces, workloads, pods, then policies. Implicit
 * namespaces are not stored; the objects that refer to them bring them
 * back. The counts repeat what the items hold. "fnv1a64" is the 64-bit
 * FNV-1a hash of every byte before it, so the file always ends with the
 * same 30 bytes: `"fnv1a64":"` + 16 lowercase hex digits + `"}` + newline.
 * A file cut anywhere lacks that ending or fails the hash; a flipped bit
 * fails the hash. FNV-1a finds accidents, not tampering: whoever can write
 * the file can change the state anyway.
 */
#include "api/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/internal.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/snapshot.h"

#define STATEFILE_FORMAT 1

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* `"fnv1a64":"` (11) + 16 hex digits + `"}\n` (3). */
#define TRAILER_KEY "\"fnv1a64\":\""
#define TRAILER_LEN (sizeof(TRAILER_KEY) - 1 + 16 + 3)

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* The sink of api_statefile_write(): hashes what it passes on. */
struct out {
    api_write_fn *write;
    void *arg;
    uint64_t hash;
    struct np_error *err;
};

static int
put(struct out *o, const char *s, size_t len)
{
    o->hash = fnv1a(o->hash, s, len);
    if (o->write(o->arg, s, len, o->err) != 0)
        return np_error_set(o->err, NP_E_INTERNAL,
                            "cannot write the state file");
    return 0;
}

/* Writes one item, preceded by the separator of the one before. */
static int
put_item(struct out *o, const char *source, const char *what, size_t *nitems)
{
    if (source == NULL)
        return np_error_set(o->err, NP_E_INTERNAL,
                            "%s has no source to save in the state file", what);
    if (*nitems > 0 && put(o, ",\n", 2) != 0)
        return -1;
    (*nitems)++;
    return put(o, source, strlen(source));
}

int
api_statefile_write(const struct np_snapshot *snap, api_write_fn *write,
                    void *arg, struct np_error *err)
{
    struct out o = {
        .write = write, .arg = arg, .hash = FNV_OFFSET, .err = err
    };
    char buf[256];
    size_t nitems = 0;
    uint32_t i;
    int n;

    n = snprintf(buf, sizeof(buf),
                 "{\"netpolqState\":%d,\"revision\":%llu,\"namespaces\":%u,"
                 "\"workloads\":%u,\"pods\":%u,\"networkPolicies\":%u,"
                 "\"items\":[\n",
                 STATEFILE_FORMAT, (unsigned long long)snap->revision,
                 snap->ndeclared_namespaces, snap->nworkloads, snap->npods,
                 snap->npolicies);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return np_error_set(err, NP_E_INTERNAL, "state file header too long");
    if (put(&o, buf, (size_t)n) != 0)
        return -1;
    for (i = 0; i < snap->nnamespaces; i++) {
        const struct np_namespace *ns = &snap->namespaces[i];

        if (ns->model != NULL &&
            put_item(&o, ns->model->source, "a namespace", &nitems) != 0)
            return -1;
    }
    for (i = 0; i < snap->nworkloads; i++) {
        const struct np_workload *wl = &snap->workload_info[i];

        if (put_item(&o, wl->model != NULL ? wl->model->source : NULL,
                     "a workload", &nitems) != 0)
            return -1;
    }
    for (i = 0; i < snap->npods; i++) {
        const struct np_pod *pod = &snap->pods[i];
        char *text = NULL;
        int rc;

        /* Pods keep no text as uploaded (manifest.c): their manifest is
         * written from the model, which holds all netpolq reads of them. */
        if (pod->model != NULL && pod->model->source == NULL) {
            size_t len;

            text = api_pod_manifest_text(pod->model, &len);
            if (text == NULL)
                return np_error_set(err, NP_E_NOMEM, "out of memory");
        }
        rc = put_item(&o,
                      text != NULL         ? text
                      : pod->model != NULL ? pod->model->source
                                           : NULL,
                      "a pod", &nitems);
        free(text);
        if (rc != 0)
            return -1;
    }
    for (i = 0; i < snap->npolicies; i++) {
        const struct np_policy *pol = &snap->policies[i];

        if (put_item(&o, pol->model != NULL ? pol->model->source : NULL,
                     "a NetworkPolicy", &nitems) != 0)
            return -1;
    }
    if (put(&o, nitems > 0 ? "\n]," : "],", nitems > 0 ? 3 : 2) != 0)
        return -1;
    /* The trailer is outside the hash it carries. */
    n = snprintf(buf, sizeof(buf), TRAILER_KEY "%016llx\"}\n",
                 (unsigned long long)o.hash);
    if (n < 0 || (size_t)n != TRAILER_LEN)
        return np_error_set(err, NP_E_INTERNAL, "state file trailer");
    if (write(arg, buf, (size_t)n, err) != 0)
        return np_error_set(err, NP_E_INTERNAL, "cannot write the state file");
    return 0;
}

/* Reads the 16 hex digits at s. Returns 0 or -1. */
static int
parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Checks the trailer and the hash of data. */
static int
check_integrity(const char *data, size_t len, const char *name,
                struct np_error *err)
{
    const char *t;
    uint64_t want;

    if (len < TRAILER_LEN)
        return np_error_set(err, NP_E_SYNTAX,
                            "%s is truncated or not a netpolq state file: "
                            "%zu bytes, too short to end with its checksum",
                            name, len);
    t = data + len - TRAILER_LEN;
    if (memcmp(t, TRAILER_KEY, sizeof(TRAILER_KEY) - 1) != 0 ||
        parse_hex64(t + sizeof(TRAILER_KEY) - 1, &want) != 0 ||
        memcmp(t + TRAILER_LEN - 3, "\"}\n", 3) != 0)
        return np_error_set(err, NP_E_SYNTAX,
                            "%s is truncated or not a netpolq state file: it "
                            "does not end with its \"fnv1a64\" checksum",
                            name);
    if (fnv1a(FNV_OFFSET, data, len - TRAILER_LEN) != want)
        return np_error_set(err, NP_E_SYNTAX,
                            "%s is damaged: its contents do not match its "
                            "\"fnv1a64\" checksum",
                            name);
    return 0;
}

/* Reads member key of root as a count no larger than max. */
static int
get_count(const json_t *root, const char *key, uint64_t max, uint64_t *out,
          const char *name, struct np_error *err)
{
    const json_t *v = json_object_get(root, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return np_error_set(err, NP_E_SYNTAX,
                            "%s is damaged: \"%s\" is not a count", name, key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Prefixes err->message with "NAME: ". */
static void
name_file(struct np_error *err, const char *name)
{
    char buf[sizeof(err->message)];

    if (snprintf(buf, sizeof(buf), "%s: %s", name, err->message) < 0)
        return;
    memcpy(err->message, buf, sizeof(buf));
}

int
api_statefile_restore(struct api_ctx *ctx, const char *data, size_t len,
                      const char *name, struct np_error *err)
{
    /* The file holds what uploads accepted under the limits of their day;
     * today's limits do not apply to it. */
    struct api_limits lim = {
        .max_body = SIZE_MAX,
        .max_depth = SIZE_MAX,
        .max_objects = SIZE_MAX,
        .max_batch = SIZE_MAX,
        .max_string = SIZE_MAX,
        .max_documents = SIZE_MAX,
        .max_matrix_pods = SIZE_MAX,
    };
    struct api_docs docs;
    json_error_t jerr;
    json_t *root = NULL;
    json_t *list = NULL;
    json_t *items;
    struct np_builder *b = NULL;
    struct np_snapshot *base = NULL;
    struct np_snapshot *snap = NULL;
    /* Zeroed for compilers that cannot follow get_count()'s -1. */
    uint64_t format = 0;
    uint64_t revision = 0;
    uint64_t nns = 0;
    uint64_t nworkloads = 0;
    uint64_t npods = 0;
    uint64_t npols = 0;
    int rc = -1;

    memset(&docs, 0, sizeof(docs));
    if (check_integrity(data, len, name, err) != 0)
        return -1;
    root = json_loadb(data, len, 0, &jerr);
    if (root == NULL) {
        np_error_set(err, NP_E_SYNTAX, "%s is damaged: line %d: %s", name,
                     jerr.line, jerr.text);
        goto out;
    }
    if (!json_is_object(root) ||
        get_count(root, "netpolqState", UINT32_MAX, &format, name, err) != 0)
        goto damaged;
    if (format != STATEFILE_FORMAT) {
        np_error_set(err, NP_E_SYNTAX,
                     "%s is in state file format %llu; this netpolq reads "
                     "format %d",
                     name, (unsigned long long)format, STATEFILE_FORMAT);
        goto out;
    }
    if (get_count(root, "revision", INT64_MAX, &revision, name, err) != 0 ||
        get_count(root, "namespaces", UINT32_MAX, &nns, name, err) != 0 ||
        get_count(root, "workloads", UINT32_MAX, &nworkloads, name, err) != 0 ||
        get_count(root, "pods", UINT32_MAX, &npods, name, err) != 0 ||
        get_count(root, "networkPolicies", UINT32_MAX, &npols, name, err) != 0)
        goto out;
    items = json_object_get(root, "items");
    if (!json_is_array(items))
        goto damaged;

    /* The items go through the upload decoder as one List, so that an
     * error's path ("items[3].spec...") is also the item's place in the
     * file. */
    list = json_pack("{s:s,s:s,s:O}", "apiVersion", "v1", "kind", "List",
                     "items", items);
    docs.docs = malloc(sizeof(*docs.docs));
    docs.index = malloc(sizeof(*docs.index));
    docs.line = malloc(sizeof(*docs.line));
    b = np_builder_new();
    if (list == NULL || docs.docs == NULL || docs.index == NULL ||
        docs.line == NULL || b == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory reading %s", name);
        goto out;
    }
    docs.docs[0] = list;
    docs.index[0] = 0;
    docs.line[0] = 1;
    docs.n = 1;
    list = NULL; /* docs owns it */
    if (api_manifest_decode(b, &docs, &lim, NULL, err) != 0) {
        name_file(err, name);
        goto out;
    }

    np_state_writer_lock(&ctx->state);
    base = np_state_acquire(&ctx->state);
    if (base->revision != 0 || base->npods != 0 || base->npolicies != 0 ||
        base->nworkloads != 0 || base->nnamespaces != 0)
        np_error_set(err, NP_E_INTERNAL,
                     "%s can only be restored into an empty state", name);
    else
        snap = np_builder_build(b, revision, err);
    if (snap != NULL &&
        (snap->ndeclared_namespaces != nns || snap->nworkloads != nworkloads ||
         snap->npods != npods || snap->npolicies != npols)) {
        np_error_set(err, NP_E_SYNTAX,
                     "%s is damaged: it lists %llu namespaces, %llu "
                     "workloads, %llu pods and %llu NetworkPolicies but holds "
                     "%u, %u, %u and %u",
                     name, (unsigned long long)nns,
                     (unsigned long long)nworkloads, (unsigned long long)npods,
                     (unsigned long long)npols, snap->ndeclared_namespaces,
                     snap->nworkloads, snap->npods, snap->npolicies);
        np_snapshot_release(snap);
        snap = NULL;
    }
    if (snap != NULL) {
        np_state_publish(&ctx->state, snap);
        rc = 0;
    }
    np_state_writer_unlock(&ctx->state);
    if (snap == NULL && !np_error_is_set(err))
        np_error_set(err, NP_E_INTERNAL, "cannot restore %s", name);
    goto out;
damaged:
    np_error_set(err, NP_E_SYNTAX,
                 "%s is damaged: it is not a netpolq state document", name);
out:
    np_snapshot_release(base);
    np_builder_free(b);
    api_docs_fini(&docs);
    json_decref(list);
    json_decref(root);
    return rc;
}

int
api_statefile_persist(struct api_ctx *ctx, const struct np_snapshot *snap,
                      struct np_error *err)
{
    if (ctx->persist == NULL)
        return 0;
    if (ctx->persist(ctx->persist_arg, snap, err) == 0)
        return 0;
    return np_error_set(err, NP_E_INTERNAL,
                        "the state could not be saved; nothing changed");
}
