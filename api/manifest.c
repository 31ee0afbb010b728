/*
 * Manifests to builder calls: walks the documents of an upload (single
 * objects and List kinds, nested or not), type-checks every field netpolq
 * reads with its exact path, and hands Namespaces, Pods and NetworkPolicies to
 * np_builder as model objects, and the seven workload kinds (Deployment, ...,
 * core/workload.h) as their pod templates. Other kinds are skipped with a
 * warning.
 *
 * This file checks structure and JSON types only; names, labels, CIDRs, ports
 * and the rest are validated by the builder (core), whose paths, relative to
 * the object, get the "items[i]." prefix of the object here. Fields netpolq
 * does not evaluate (annotations, managedFields, status.conditions, images,
 * ...) are never read, so they may hold anything.
 *
 * Null: a field holding null is treated as absent, as Kubernetes' decoding
 * leaves the zero value for it. A null array element or map value (a label
 * value, a matchExpressions value) is a type error.
 *
 * Two things the API server refuses are tolerated, because manifests written
 * for analysis tools carry them and neither can change a verdict: a container
 * port without containerPort is left out with a warning, and an owner
 * reference without kind or name is dropped.
 *
 * Warnings name their document (the stream index) and, inside a List, the
 * item: "document 3 (items[1]): skipped Service default/web (kind not
 * evaluated)". The builder's own warnings for an object get the same prefix.
 *
 * api_manifest_decode_body() takes an upload from its bytes to the builder.
 * A large YAML stream is decoded as two halves at once, each on the thread
 * that parsed it, and put back together so that the answer is the one
 * decoding the documents in order gives, errors and warnings included; so
 * are the items of a large JSON List, the second half's at their index in
 * the List.
 */
#include "api/internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/model.h"
#include "core/workload.h"

#define API_GROUP_NETWORKING "networking.k8s.io/v1"

struct decoder {
    struct np_builder *b;
    const struct api_limits *lim;
    json_t *warnings; /* borrowed; may be NULL */
    struct np_error *err;
    struct np_arena arena; /* model objects of the current call */
    size_t nobjects;       /* objects seen, Lists not counted */
    int doc;               /* stream index of the current document */
    size_t plen;
    char path[192]; /* path from the document root */
};

/* Metadata fields shared by every kind. */
struct meta {
    const char *kind; /* the object's kind, for messages */
    const char *name;
    const char *namespace_;
    size_t nlabels;
    const struct np_model_label *labels;
    size_t nowners;
    struct np_model_owner *owners;
};

/* Where each address of status.podIP and status.podIPs came from, to turn
 * the builder's paths (an index into the merged list) into the paths of the
 * manifest. */
struct pod_origin {
    size_t nips;
    char **ip_paths; /* "status.podIP", "status.podIPs[1].ip" */
};

/* --- paths --- */

/* Appends ".key" (or "key" at the root) to the current path and returns the
 * previous length for path_restore(). A path longer than the buffer is cut;
 * the error message still names the field. */
/* Appends n bytes of s, cutting at the end of the buffer. Paths are built
 * for every field read, so this avoids printf. */
static void
path_append(struct decoder *d, const char *s, size_t n)
{
    size_t room = sizeof(d->path) - 1 - d->plen;

    if (n > room)
        n = room;
    memcpy(d->path + d->plen, s, n);
    d->plen += n;
    d->path[d->plen] = '\0';
}

static size_t
path_key(struct decoder *d, const char *key)
{
    size_t mark = d->plen;

    if (d->plen != 0)
        path_append(d, ".", 1);
    path_append(d, key, strlen(key));
    return mark;
}

static size_t
path_index(struct decoder *d, size_t i)
{
    size_t mark = d->plen;
    char buf[24];
    size_t n = sizeof(buf);

    /* "[i]", digits written backwards from the end of buf. */
    buf[--n] = ']';
    do {
        buf[--n] = (char)('0' + i % 10);
        i /= 10;
    } while (i != 0);
    buf[--n] = '[';
    path_append(d, buf + n, sizeof(buf) - n);
    return mark;
}

static void
path_restore(struct decoder *d, size_t mark)
{
    d->plen = mark;
    d->path[mark] = '\0';
}

/* --- errors --- */

static const char *
json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a floating-point number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

static const char *
path_or_document(const struct decoder *d)
{
    return d->plen == 0 ? "the document" : d->path;
}

/* Sets NP_E_INVALID_TYPE for the value v at the current path. */
static int
type_error(struct decoder *d, const json_t *v, const char *want)
{
    np_error_set(d->err, NP_E_INVALID_TYPE, "%s must be %s, got %s",
                 path_or_document(d), want, json_kind(v));
    return np_error_path(d->err, "%s", d->path);
}

/* type_error() for the member key of the object at the current path;
 * returns -1 and leaves the path as it was. */
static int
member_type_error(struct decoder *d, const char *key, const json_t *v,
                  const char *want)
{
    size_t mark = path_key(d, key);

    type_error(d, v, want);
    path_restore(d, mark);
    return -1;
}

/* Sets NP_E_MISSING_FIELD for the current path. */
static int
missing_error(struct decoder *d)
{
    np_error_set(d->err, NP_E_MISSING_FIELD, "%s is required", d->path);
    return np_error_path(d->err, "%s", d->path);
}

static int
nomem(struct decoder *d)
{
    return np_error_set(d->err, NP_E_NOMEM, "out of memory decoding manifests");
}

/* --- typed field access; each leaves the path as it found it --- */

/* Returns the member key of obj, or NULL when it is missing or null. */
static json_t *
member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return json_is_null(v) ? NULL : v;
}

/* Checks that the value at the current path is a string without NUL bytes
 * and returns it (borrowed from the document). */
static int
as_string(struct decoder *d, const json_t *v, const char **out)
{
    if (!json_is_string(v))
        return type_error(d, v, "a string");
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        np_error_set(d->err, NP_E_INVALID_VALUE,
                     "%s must not contain NUL characters", d->path);
        return np_error_path(d->err, "%s", d->path);
    }
    *out = json_string_value(v);
    return 0;
}

/* Reads an optional string member: NULL when missing or null. */
static int
opt_string(struct decoder *d, const json_t *obj, const char *key,
           const char **out)
{
    json_t *v = member(obj, key);
    size_t mark;
    int rc;

    *out = NULL;
    if (v == NULL)
        return 0;
    mark = path_key(d, key);
    rc = as_string(d, v, out);
    path_restore(d, mark);
    return rc;
}

/* Reads a required string member; missing, null and "" are
 * NP_E_MISSING_FIELD (the API server's "Required value"). */
static int
req_string(struct decoder *d, const json_t *obj, const char *key,
           const char **out)
{
    json_t *v = member(obj, key);
    size_t mark = path_key(d, key);
    int rc;

    if (v == NULL)
        rc = missing_error(d);
    else
        rc = as_string(d, v, out);
    if (rc == 0 && (*out)[0] == '\0')
        rc = missing_error(d);
    path_restore(d, mark);
    return rc;
}

/* Reads an optional member of JSON type type ("an object", ...): NULL when
 * missing or null. */
static int
opt_typed(struct decoder *d, const json_t *obj, const char *key, json_type type,
          const char *want, json_t **out)
{
    json_t *v = member(obj, key);

    *out = NULL;
    if (v == NULL)
        return 0;
    if (json_typeof(v) != type)
        return member_type_error(d, key, v, want);
    *out = v;
    return 0;
}

static int
opt_object(struct decoder *d, const json_t *obj, const char *key, json_t **out)
{
    return opt_typed(d, obj, key, JSON_OBJECT, "an object", out);
}

static int
opt_array(struct decoder *d, const json_t *obj, const char *key, json_t **out)
{
    return opt_typed(d, obj, key, JSON_ARRAY, "an array", out);
}

/* Reads an integer member. Numbers with a fraction are rejected: Kubernetes
 * decodes these fields into int32. */
static int
opt_int(struct decoder *d, const json_t *obj, const char *key, bool *has,
        int64_t *out)
{
    json_t *v = member(obj, key);

    *has = false;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return member_type_error(d, key, v, "an integer");
    *has = true;
    *out = json_integer_value(v);
    return 0;
}

static int
opt_bool(struct decoder *d, const json_t *obj, const char *key, bool *out)
{
    json_t *v = member(obj, key);

    *out = false;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return member_type_error(d, key, v, "a boolean");
    *out = json_is_true(v);
    return 0;
}

/* Reads an optional array of strings; every element must be a string. */
static int
opt_strings(struct decoder *d, const json_t *obj, const char *key, size_t *n,
            const char *const **out)
{
    json_t *arr;
    json_t *v;
    const char **strs;
    size_t mark, i;

    *n = 0;
    *out = NULL;
    if (opt_array(d, obj, key, &arr) != 0)
        return -1;
    if (arr == NULL || json_array_size(arr) == 0)
        return 0;
    strs = np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*strs));
    if (strs == NULL)
        return nomem(d);
    mark = path_key(d, key);
    json_array_foreach(arr, i, v)
    {
        size_t imark = path_index(d, i);

        if (as_string(d, v, &strs[i]) != 0)
            return -1;
        path_restore(d, imark);
    }
    path_restore(d, mark);
    *n = json_array_size(arr);
    *out = strs;
    return 0;
}

/* Reads a map of string to string (labels, matchLabels). Keys are kept in
 * document order; the builder validates and sorts them. */
static int
opt_string_map(struct decoder *d, const json_t *obj, const char *key, size_t *n,
               const struct np_model_label **out)
{
    json_t *map;
    json_t *v;
    const char *k;
    struct np_model_label *labels;
    size_t mark, i = 0;

    *n = 0;
    *out = NULL;
    if (opt_object(d, obj, key, &map) != 0)
        return -1;
    if (map == NULL || json_object_size(map) == 0)
        return 0;
    labels = np_arena_calloc(&d->arena, json_object_size(map), sizeof(*labels));
    if (labels == NULL)
        return nomem(d);
    mark = path_key(d, key);
    json_object_foreach(map, k, v)
    {
        size_t kmark = path_key(d, k);

        labels[i].key = k;
        if (as_string(d, v, &labels[i].value) != 0)
            return -1;
        path_restore(d, kmark);
        i++;
    }
    path_restore(d, mark);
    *n = i;
    *out = labels;
    return 0;
}

/* --- metadata --- */

static int
decode_owners(struct decoder *d, const json_t *meta, struct meta *m)
{
    json_t *arr;
    json_t *v;
    size_t mark, i;

    if (opt_array(d, meta, "ownerReferences", &arr) != 0)
        return -1;
    if (arr == NULL || json_array_size(arr) == 0)
        return 0;
    m->owners =
        np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*m->owners));
    if (m->owners == NULL)
        return nomem(d);
    mark = path_key(d, "ownerReferences");
    json_array_foreach(arr, i, v)
    {
        size_t imark = path_index(d, i);
        struct np_model_owner *o = &m->owners[m->nowners];

        if (!json_is_object(v))
            return type_error(d, v, "an object");
        if (opt_string(d, v, "kind", &o->kind) != 0 ||
            opt_string(d, v, "name", &o->name) != 0)
            return -1;
        /* The API server requires both, but hand-written manifests often
         * leave the kind out; an owner reference never changes a verdict,
         * so an incomplete one is dropped rather than refused. */
        if (o->kind != NULL && o->kind[0] != '\0' && o->name != NULL &&
            o->name[0] != '\0')
            m->nowners++;
        path_restore(d, imark);
    }
    path_restore(d, mark);
    return 0;
}

/* Reads metadata.name (required), metadata.namespace, metadata.labels and
 * metadata.ownerReferences. An empty namespace means the default one, as
 * for kubectl. */
static int
decode_meta(struct decoder *d, const json_t *obj, struct meta *m)
{
    json_t *meta;
    size_t mark;
    int rc = -1;

    memset(m, 0, sizeof(*m));
    if (opt_object(d, obj, "metadata", &meta) != 0)
        return -1;
    mark = path_key(d, "metadata");
    if (meta == NULL) {
        path_key(d, "name");
        missing_error(d);
        goto out;
    }
    if (req_string(d, meta, "name", &m->name) != 0 ||
        opt_string(d, meta, "namespace", &m->namespace_) != 0 ||
        opt_string_map(d, meta, "labels", &m->nlabels, &m->labels) != 0 ||
        decode_owners(d, meta, m) != 0)
        goto out;
    if (m->namespace_ != NULL && m->namespace_[0] == '\0')
        m->namespace_ = NULL;
    rc = 0;
out:
    path_restore(d, mark);
    return rc;
}

/* --- selectors and policies --- */

static int
decode_exprs(struct decoder *d, const json_t *sel, struct np_model_selector *s)
{
    json_t *arr;
    json_t *v;
    struct np_model_expr *exprs;
    size_t mark, i;

    if (opt_array(d, sel, "matchExpressions", &arr) != 0)
        return -1;
    if (arr == NULL || json_array_size(arr) == 0)
        return 0;
    exprs = np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*exprs));
    if (exprs == NULL)
        return nomem(d);
    mark = path_key(d, "matchExpressions");
    json_array_foreach(arr, i, v)
    {
        size_t imark = path_index(d, i);

        if (!json_is_object(v))
            return type_error(d, v, "an object");
        if (req_string(d, v, "key", &exprs[i].key) != 0 ||
            req_string(d, v, "operator", &exprs[i].op) != 0 ||
            opt_strings(d, v, "values", &exprs[i].nvalues, &exprs[i].values) !=
                0)
            return -1;
        path_restore(d, imark);
    }
    path_restore(d, mark);
    s->nexprs = json_array_size(arr);
    s->exprs = exprs;
    return 0;
}

/* Decodes the LabelSelector v at the current path into s. */
static int
decode_selector(struct decoder *d, const json_t *v, struct np_model_selector *s)
{
    memset(s, 0, sizeof(*s));
    if (!json_is_object(v))
        return type_error(d, v, "an object");
    if (opt_string_map(d, v, "matchLabels", &s->nlabels, &s->labels) != 0)
        return -1;
    return decode_exprs(d, v, s);
}

/* Decodes an optional selector member: *out stays NULL when it is missing
 * or null, which the model distinguishes from {}. */
static int
opt_selector(struct decoder *d, const json_t *obj, const char *key,
             const struct np_model_selector **out)
{
    json_t *v = member(obj, key);
    struct np_model_selector *s;
    size_t mark;
    int rc;

    *out = NULL;
    if (v == NULL)
        return 0;
    s = np_arena_alloc(&d->arena, sizeof(*s));
    if (s == NULL)
        return nomem(d);
    mark = path_key(d, key);
    rc = decode_selector(d, v, s);
    path_restore(d, mark);
    *out = s;
    return rc;
}

static int
decode_ipblock(struct decoder *d, const json_t *peer,
               const struct np_model_ipblock **out)
{
    json_t *v;
    struct np_model_ipblock *ib;
    size_t mark;
    int rc = -1;

    *out = NULL;
    if (opt_object(d, peer, "ipBlock", &v) != 0)
        return -1;
    if (v == NULL)
        return 0;
    ib = np_arena_alloc(&d->arena, sizeof(*ib));
    if (ib == NULL)
        return nomem(d);
    mark = path_key(d, "ipBlock");
    if (req_string(d, v, "cidr", &ib->cidr) == 0 &&
        opt_strings(d, v, "except", &ib->nexcept, &ib->except) == 0)
        rc = 0;
    path_restore(d, mark);
    *out = ib;
    return rc;
}

/* Decodes a NetworkPolicyPeer. Which combinations are allowed is the
 * builder's to check. */
static int
decode_peer(struct decoder *d, const json_t *v, struct np_model_peer *p)
{
    if (!json_is_object(v))
        return type_error(d, v, "an object");
    if (opt_selector(d, v, "podSelector", &p->pod_selector) != 0 ||
        opt_selector(d, v, "namespaceSelector", &p->namespace_selector) != 0)
        return -1;
    return decode_ipblock(d, v, &p->ipblock);
}

/* Decodes a NetworkPolicyPort. port is an IntOrString: a JSON string is a
 * port name even when it holds digits ("80"), as in Kubernetes, and the
 * builder rejects it as a name. */
static int
decode_policy_port(struct decoder *d, const json_t *v,
                   struct np_model_policy_port *p)
{
    json_t *port;
    size_t mark;

    if (!json_is_object(v))
        return type_error(d, v, "an object");
    if (opt_string(d, v, "protocol", &p->protocol) != 0)
        return -1;
    port = member(v, "port");
    if (port != NULL) {
        mark = path_key(d, "port");
        if (json_is_integer(port)) {
            p->port = json_integer_value(port);
        } else if (json_is_string(port)) {
            if (as_string(d, port, &p->port_name) != 0)
                return -1;
        } else {
            return type_error(d, port, "an integer or a string");
        }
        path_restore(d, mark);
        p->has_port = true;
    }
    return opt_int(d, v, "endPort", &p->has_end_port, &p->end_port);
}

/* Decodes one NetworkPolicyIngressRule (peers_key "from") or
 * NetworkPolicyEgressRule ("to"). */
static int
decode_rule(struct decoder *d, const json_t *v, const char *peers_key,
            struct np_model_rule *r)
{
    json_t *arr;
    json_t *e;
    struct np_model_peer *peers;
    struct np_model_policy_port *ports;
    size_t mark, i;

    if (!json_is_object(v))
        return type_error(d, v, "an object");
    if (opt_array(d, v, peers_key, &arr) != 0)
        return -1;
    if (arr != NULL && json_array_size(arr) > 0) {
        peers =
            np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*peers));
        if (peers == NULL)
            return nomem(d);
        mark = path_key(d, peers_key);
        json_array_foreach(arr, i, e)
        {
            size_t imark = path_index(d, i);

            if (decode_peer(d, e, &peers[i]) != 0)
                return -1;
            path_restore(d, imark);
        }
        path_restore(d, mark);
        r->npeers = json_array_size(arr);
        r->peers = peers;
    }
    if (opt_array(d, v, "ports", &arr) != 0)
        return -1;
    if (arr != NULL && json_array_size(arr) > 0) {
        ports =
            np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*ports));
        if (ports == NULL)
            return nomem(d);
        mark = path_key(d, "ports");
        json_array_foreach(arr, i, e)
        {
            size_t imark = path_index(d, i);

            if (decode_policy_port(d, e, &ports[i]) != 0)
                return -1;
            path_restore(d, imark);
        }
        path_restore(d, mark);
        r->nports = json_array_size(arr);
        r->ports = ports;
    }
    return 0;
}

/* Decodes spec.ingress or spec.egress. *present tells a missing (or null)
 * list from an empty one. */
static int
decode_rules(struct decoder *d, const json_t *spec, const char *key,
             const char *peers_key, bool *present, size_t *n,
             const struct np_model_rule **out)
{
    json_t *arr;
    json_t *v;
    struct np_model_rule *rules;
    size_t mark, i;

    *present = false;
    *n = 0;
    *out = NULL;
    if (opt_array(d, spec, key, &arr) != 0)
        return -1;
    if (arr == NULL)
        return 0;
    *present = true;
    if (json_array_size(arr) == 0)
        return 0;
    rules = np_arena_calloc(&d->arena, json_array_size(arr), sizeof(*rules));
    if (rules == NULL)
        return nomem(d);
    mark = path_key(d, key);
    json_array_foreach(arr, i, v)
    {
        size_t imark = path_index(d, i);

        if (decode_rule(d, v, peers_key, &rules[i]) != 0)
            return -1;
        path_restore(d, imark);
    }
    path_restore(d, mark);
    *n = json_array_size(arr);
    *out = rules;
    return 0;
}

/* Decodes a NetworkPolicy's spec. A missing spec or spec.podSelector is the
 * zero value: an empty selector, which selects every pod of the namespace
 * (the Go type's podSelector is a struct, not a pointer). */
static int
decode_policy_spec(struct decoder *d, const json_t *obj,
                   struct np_model_policy *pol)
{
    json_t *spec;
    json_t *sel;
    size_t mark;
    int rc = -1;

    if (opt_object(d, obj, "spec", &spec) != 0)
        return -1;
    if (spec == NULL)
        return 0;
    mark = path_key(d, "spec");
    if (opt_object(d, spec, "podSelector", &sel) != 0)
        goto out;
    if (sel != NULL) {
        size_t smark = path_key(d, "podSelector");

        if (decode_selector(d, sel, &pol->pod_selector) != 0)
            goto out;
        path_restore(d, smark);
    }
    if (opt_strings(d, spec, "policyTypes", &pol->ntypes, &pol->types) != 0 ||
        decode_rules(d, spec, "ingress", "from", &pol->ingress_present,
                     &pol->ningress, &pol->ingress) != 0 ||
        decode_rules(d, spec, "egress", "to", &pol->egress_present,
                     &pol->negress, &pol->egress) != 0)
        goto out;
    rc = 0;
out:
    path_restore(d, mark);
    return rc;
}

/* --- pods --- */

/* Records where a flattened entry came from (the path relative to the
 * object, which is the current path without the object's prefix). */
static char *
origin_path(struct decoder *d, size_t prefix_len)
{
    const char *rel = d->path + prefix_len;

    if (*rel == '.')
        rel++;
    return np_arena_strdup(&d->arena, rel);
}

/* Warns that the container port at the current path has no containerPort
 * and is ignored; prefix_len is the length of the object's own path. */
static int
warn_port(struct decoder *d, const struct meta *m, size_t prefix_len)
{
    const char *ns = m->namespace_ == NULL ? "default" : m->namespace_;
    const char *rel = d->path + prefix_len;
    char *text;

    if (d->warnings == NULL)
        return 0;
    if (*rel == '.')
        rel++;
    text = np_arena_printf(
        &d->arena,
        "document %d%s%.*s%s: %s %s/%s: %s has no containerPort; the port "
        "is ignored",
        d->doc, prefix_len == 0 ? "" : " (", (int)prefix_len, d->path,
        prefix_len == 0 ? "" : ")", m->kind != NULL ? m->kind : "Pod", ns,
        m->name, rel);
    if (text == NULL ||
        json_array_append_new(d->warnings, api_json_text(text)) != 0)
        return nomem(d);
    return 0;
}

/* Flattens spec.containers[].ports[]. Init containers are not read: their
 * ports do not serve traffic and named ports resolve against the regular
 * containers. */
static int
decode_container_ports(struct decoder *d, const json_t *spec, size_t prefix_len,
                       const struct meta *m, struct np_model_pod *pod)
{
    json_t *containers;
    json_t *c;
    json_t *ports;
    json_t *p;
    struct np_model_container_port *out;
    size_t total = 0, n = 0, mark, i, j;

    if (opt_array(d, spec, "containers", &containers) != 0)
        return -1;
    if (containers == NULL)
        return 0;
    mark = path_key(d, "containers");
    json_array_foreach(containers, i, c)
    {
        size_t imark = path_index(d, i);

        if (!json_is_object(c))
            return type_error(d, c, "an object");
        if (opt_array(d, c, "ports", &ports) != 0)
            return -1;
        if (ports != NULL)
            total += json_array_size(ports);
        path_restore(d, imark);
    }
    if (total == 0) {
        path_restore(d, mark);
        return 0;
    }
    out = np_arena_calloc(&d->arena, total, sizeof(*out));
    if (out == NULL)
        return nomem(d);
    json_array_foreach(containers, i, c)
    {
        size_t imark = path_index(d, i);
        size_t pmark;

        ports = member(c, "ports");
        if (ports == NULL) {
            path_restore(d, imark);
            continue;
        }
        pmark = path_key(d, "ports");
        json_array_foreach(ports, j, p)
        {
            size_t jmark = path_index(d, j);
            bool has;

            if (!json_is_object(p))
                return type_error(d, p, "an object");
            if (opt_int(d, p, "containerPort", &has, &out[n].port) != 0 ||
                opt_string(d, p, "name", &out[n].name) != 0 ||
                opt_string(d, p, "protocol", &out[n].protocol) != 0)
                return -1;
            /* The API server requires containerPort, but manifests
             * written for analysis tools sometimes list a port by name
             * only. Such a port can never be reached, so it is left out
             * with a warning instead of failing the upload. */
            if (!has) {
                if (warn_port(d, m, prefix_len) != 0)
                    return -1;
                path_restore(d, jmark);
                continue;
            }
            /* An empty name is no name, and an empty protocol defaults to
             * TCP (SetDefaults_ContainerPort). */
            if (out[n].name != NULL && out[n].name[0] == '\0')
                out[n].name = NULL;
            if (out[n].protocol != NULL && out[n].protocol[0] == '\0')
                out[n].protocol = NULL;
            /* The builder names a bad port by this path. */
            out[n].path = origin_path(d, prefix_len);
            if (out[n].path == NULL)
                return nomem(d);
            n++;
            path_restore(d, jmark);
        }
        path_restore(d, pmark);
        path_restore(d, imark);
    }
    path_restore(d, mark);
    pod->nports = n;
    pod->ports = out;
    return 0;
}

static int
decode_pod_spec(struct decoder *d, const json_t *obj, size_t prefix_len,
                const struct meta *m, struct np_model_pod *pod)
{
    json_t *spec;
    size_t mark;
    int rc = -1;

    if (opt_object(d, obj, "spec", &spec) != 0)
        return -1;
    if (spec == NULL)
        return 0;
    mark = path_key(d, "spec");
    if (decode_container_ports(d, spec, prefix_len, m, pod) == 0 &&
        opt_bool(d, spec, "hostNetwork", &pod->host_network) == 0)
        rc = 0;
    path_restore(d, mark);
    return rc;
}

/* Reads a workload's pod template at spec.template (a CronJob's at
 * spec.jobTemplate.spec.template): its metadata.labels, the ports of its
 * spec.containers (not initContainers, as for pods) and spec.hostNetwork,
 * and a Job's spec.manualSelector. Every workload kind requires a template
 * in Kubernetes, so a missing one is an error. */
static int
decode_workload(struct decoder *d, const json_t *obj, size_t prefix_len,
                const struct meta *m, struct np_model_workload *w)
{
    const char *tpath = np_workload_template_path(w->kind);
    const json_t *cur = obj;
    struct np_model_pod ports;
    json_t *meta;
    json_t *spec;
    json_t *next;
    size_t mark = d->plen;
    int rc = -1;

    memset(&ports, 0, sizeof(ports));
    /* Walk "spec.template" or "spec.jobTemplate.spec.template". */
    while (*tpath != '\0') {
        size_t len = strcspn(tpath, ".");
        char key[32];

        snprintf(key, sizeof(key), "%.*s", (int)len, tpath);
        if (opt_object(d, cur, key, &next) != 0)
            goto out;
        path_key(d, key);
        if (next == NULL) {
            missing_error(d);
            goto out;
        }
        /* spec.manualSelector is a field of the Job's own spec. */
        if (cur == obj && strcmp(w->kind, "Job") == 0 &&
            opt_bool(d, next, "manualSelector", &w->manual_selector) != 0)
            goto out;
        cur = next;
        tpath += len + (tpath[len] == '.');
    }
    if (opt_object(d, cur, "metadata", &meta) != 0 ||
        opt_object(d, cur, "spec", &spec) != 0)
        goto out;
    if (meta != NULL) {
        size_t mmark = path_key(d, "metadata");

        if (opt_string_map(d, meta, "labels", &w->nlabels, &w->labels) != 0)
            goto out;
        path_restore(d, mmark);
    }
    if (spec != NULL) {
        size_t smark = path_key(d, "spec");

        if (decode_container_ports(d, spec, prefix_len, m, &ports) != 0 ||
            opt_bool(d, spec, "hostNetwork", &w->host_network) != 0)
            goto out;
        path_restore(d, smark);
    }
    w->nports = ports.nports;
    w->ports = ports.ports;
    rc = 0;
out:
    path_restore(d, mark);
    return rc;
}

/* Reads status.podIP and status.podIPs[].ip into one list, podIP first; the
 * builder drops duplicates (podIPs[0] repeats podIP in every real pod). An
 * empty podIP or hostIP means "not assigned yet". */
static int
decode_pod_status(struct decoder *d, const json_t *obj, size_t prefix_len,
                  struct np_model_pod *pod, struct pod_origin *o)
{
    json_t *status;
    json_t *arr;
    json_t *v;
    const char *ip;
    const char **ips;
    size_t mark, amark, n = 0, i;
    int rc = -1;

    if (opt_object(d, obj, "status", &status) != 0)
        return -1;
    if (status == NULL)
        return 0;
    mark = path_key(d, "status");
    if (opt_string(d, status, "podIP", &ip) != 0 ||
        opt_array(d, status, "podIPs", &arr) != 0 ||
        opt_string(d, status, "hostIP", &pod->host_ip) != 0 ||
        opt_string(d, status, "phase", &pod->phase) != 0)
        goto out;
    if (pod->host_ip != NULL && pod->host_ip[0] == '\0')
        pod->host_ip = NULL;
    if (pod->phase != NULL && pod->phase[0] == '\0')
        pod->phase = NULL;
    i = 1 + (arr == NULL ? 0 : json_array_size(arr));
    ips = np_arena_calloc(&d->arena, i, sizeof(*ips));
    o->ip_paths = np_arena_calloc(&d->arena, i, sizeof(char *));
    if (ips == NULL || o->ip_paths == NULL) {
        nomem(d);
        goto out;
    }
    if (ip != NULL && ip[0] != '\0') {
        size_t imark = path_key(d, "podIP");

        o->ip_paths[n] = origin_path(d, prefix_len);
        path_restore(d, imark);
        ips[n++] = ip;
    }
    if (arr != NULL) {
        amark = path_key(d, "podIPs");
        json_array_foreach(arr, i, v)
        {
            size_t imark = path_index(d, i);

            if (!json_is_object(v)) {
                type_error(d, v, "an object");
                goto out;
            }
            if (req_string(d, v, "ip", &ips[n]) != 0)
                goto out;
            path_key(d, "ip");
            o->ip_paths[n++] = origin_path(d, prefix_len);
            path_restore(d, imark);
        }
        path_restore(d, amark);
    }
    for (i = 0; i < n; i++) {
        if (o->ip_paths[i] == NULL) {
            nomem(d);
            goto out;
        }
    }
    pod->nips = n;
    pod->ips = ips;
    o->nips = n;
    rc = 0;
out:
    path_restore(d, mark);
    return rc;
}

/* The builder names an address by its index in the merged list
 * ("status.podIPs[k].ip"); this puts the manifest's own path back
 * ("status.podIP" or "status.podIPs[j].ip"). */
static void
remap_pod_path(struct np_error *err, const struct pod_origin *o)
{
    static const char prefix[] = "status.podIPs[";
    char buf[sizeof(err->path)];
    const char *rest;
    char *end;
    unsigned long k;

    if (strncmp(err->path, prefix, sizeof(prefix) - 1) != 0)
        return;
    k = strtoul(err->path + sizeof(prefix) - 1, &end, 10);
    if (end == err->path + sizeof(prefix) - 1 || *end != ']' || k >= o->nips)
        return;
    rest = end + 1;
    if (strncmp(rest, ".ip", 3) == 0)
        rest += 3;
    if (snprintf(buf, sizeof(buf), "%s%s", o->ip_paths[k], rest) < 0)
        return;
    memcpy(err->path, buf, sizeof(buf));
}

/* --- objects --- */

/* Returns the compact JSON of obj as uploaded (malloc'ed), with kind and
 * apiVersion added when they were inherited from a typed List, so that the
 * stored object can be uploaded again on its own. */
static char *
object_source(const json_t *obj, const char *api_version, const char *kind,
              bool inherited)
{
    json_t *copy;
    char *s;

    if (!inherited)
        return json_dumps(obj, JSON_COMPACT);
    copy = json_object();
    if (copy == NULL)
        return NULL;
    if (json_object_set_new(copy, "apiVersion", json_string(api_version)) !=
            0 ||
        json_object_set_new(copy, "kind", json_string(kind)) != 0 ||
        json_object_update_missing(copy, (json_t *)obj) != 0) {
        json_decref(copy);
        return NULL;
    }
    s = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return s;
}

/* Appends "document N[ (items[i])]: " plus the object's name to the
 * warnings the builder raised for the object just added (from index first
 * on), so that a warning such as a CIDR with host bits says where it is. */
static int
warn_builder(struct decoder *d, const char *kind, const struct meta *m,
             size_t first)
{
    const char *ns = m->namespace_ == NULL ? "default" : m->namespace_;
    const char *w;
    char *who;
    char *text;
    size_t i;

    if (d->warnings == NULL)
        return 0;
    if (strcmp(kind, "Namespace") == 0)
        who = np_arena_printf(&d->arena, "%s %s", kind, m->name);
    else
        who = np_arena_printf(&d->arena, "%s %s/%s", kind, ns, m->name);
    if (who == NULL)
        return nomem(d);
    for (i = first; i < np_builder_nwarnings(d->b); i++) {
        w = np_builder_warning(d->b, i);
        /* Warnings that already name the object are not named twice. */
        text = np_arena_printf(
            &d->arena, "document %d%s%s%s: %s%s%s", d->doc,
            d->plen == 0 ? "" : " (", d->path, d->plen == 0 ? "" : ")",
            strncmp(w, who, strlen(who)) == 0 ? "" : who,
            strncmp(w, who, strlen(who)) == 0 ? "" : ": ", w);
        if (text == NULL ||
            json_array_append_new(d->warnings, api_json_text(text)) != 0)
            return nomem(d);
    }
    return 0;
}

/* Decodes the Namespace, Pod or NetworkPolicy obj and adds it to the
 * builder; d->path is the object's own path ("" or "items[2]"). */
static int
add_object(struct decoder *d, const json_t *obj, const char *api_version,
           const char *kind, bool inherited)
{
    struct meta m;
    struct pod_origin o;
    char prefix[sizeof(d->path) + 1];
    size_t prefix_len = d->plen;
    char *source = NULL;
    size_t nwarnings = np_builder_nwarnings(d->b);
    int rc = -1;

    snprintf(prefix, sizeof(prefix), "%s%s", d->path, d->plen == 0 ? "" : ".");
    if (decode_meta(d, obj, &m) != 0)
        return -1;
    m.kind = kind;
    /* Pods are most of a large upload, and all netpolq reads of a pod is in
     * its model, from which the state file writes it again
     * (api_pod_manifest_text()): serializing each pod here would cost a
     * quarter of the upload. The other kinds keep their text as uploaded. */
    if (strcmp(kind, "Pod") != 0) {
        source = object_source(obj, api_version, kind, inherited);
        if (source == NULL)
            return nomem(d);
    }
    if (strcmp(kind, "Namespace") == 0) {
        struct np_model_namespace ns = {
            .name = m.name,
            .nlabels = m.nlabels,
            .labels = m.labels,
            .source = source,
        };

        rc = np_builder_add_namespace(d->b, &ns, d->err);
    } else if (strcmp(kind, "Pod") == 0) {
        struct np_model_pod pod = {
            .namespace_ = m.namespace_,
            .name = m.name,
            .nlabels = m.nlabels,
            .labels = m.labels,
            .nowners = m.nowners,
            .owners = m.owners,
            .source = source,
        };

        memset(&o, 0, sizeof(o));
        if (decode_pod_spec(d, obj, prefix_len, &m, &pod) != 0 ||
            decode_pod_status(d, obj, prefix_len, &pod, &o) != 0)
            goto out;
        rc = np_builder_add_pod(d->b, &pod, d->err);
        if (rc != 0)
            remap_pod_path(d->err, &o);
    } else if (np_workload_kind_is_valid(kind)) {
        struct np_model_workload w = {
            .namespace_ = m.namespace_,
            .kind = kind,
            .name = m.name,
            .nowners = m.nowners,
            .owners = m.owners,
            .source = source,
        };

        if (decode_workload(d, obj, prefix_len, &m, &w) != 0)
            goto out;
        rc = np_builder_add_workload(d->b, &w, d->err);
    } else {
        struct np_model_policy pol = {
            .namespace_ = m.namespace_,
            .name = m.name,
            .source = source,
        };

        if (decode_policy_spec(d, obj, &pol) != 0)
            goto out;
        rc = np_builder_add_policy(d->b, &pol, d->err);
    }
    /* The builder's paths are relative to the object. */
    if (rc != 0)
        np_error_prefix_path(d->err, prefix);
    else
        rc = warn_builder(d, kind, &m, nwarnings);
out:
    api_json_free(source);
    return rc;
}

/* Appends "document N[ (items[i])]: skipped KIND NS/NAME (why)". */
static int
warn_skipped(struct decoder *d, const json_t *obj, const char *kind,
             const char *why)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    char *text;
    json_t *s;

    if (d->warnings == NULL)
        return 0;
    text = np_arena_printf(
        &d->arena, "document %d%s%s%s: skipped %s %s%s%s (%s)", d->doc,
        d->plen == 0 ? "" : " (", d->path, d->plen == 0 ? "" : ")", kind,
        ns != NULL && ns[0] != '\0' ? ns : "",
        ns != NULL && ns[0] != '\0' ? "/" : "",
        name != NULL ? name : "(unnamed)", why);
    if (text == NULL)
        return nomem(d);
    s = api_json_text(text);
    if (json_array_append_new(d->warnings, s) != 0)
        return nomem(d);
    return 0;
}

static bool
is_list_kind(const char *kind)
{
    size_t len = strlen(kind);

    return len >= 4 && strcmp(kind + len - 4, "List") == 0;
}

static int decode_value(struct decoder *d, const json_t *v,
                        const char *list_api_version, const char *list_kind);

/* Decodes items[from] on of a List of kind list_kind, at the path of its
 * items; the List's item i is items[i - base] (base is not 0 for the
 * second half of a split List, whose items are those after the split). */
static int
decode_items(struct decoder *d, const json_t *items, size_t from, size_t base,
             const char *api_version, const char *list_kind)
{
    char *item_kind = NULL;
    size_t mark, i;

    if (strcmp(list_kind, "List") != 0) {
        item_kind =
            np_arena_strndup(&d->arena, list_kind, strlen(list_kind) - 4);
        if (item_kind == NULL)
            return nomem(d);
    }
    mark = path_key(d, "items");
    for (i = from; i < base + json_array_size(items); i++) {
        size_t imark = path_index(d, i);

        if (decode_value(d, json_array_get(items, i - base),
                         item_kind == NULL ? NULL : api_version,
                         item_kind) != 0)
            return -1;
        path_restore(d, imark);
    }
    path_restore(d, mark);
    return 0;
}

/* Decodes the items of a List. Items of a typed list (PodList, as the API
 * server returns it) may leave out kind and apiVersion, which they then
 * inherit, as client-go's UnstructuredList does; kind: List items must
 * carry their own. */
static int
decode_list(struct decoder *d, const json_t *obj, const char *api_version,
            const char *kind)
{
    json_t *items;

    if (opt_array(d, obj, "items", &items) != 0)
        return -1;
    if (items == NULL)
        return 0;
    return decode_items(d, items, 0, 0, api_version, kind);
}

/* Decodes one document or List item v at the current path. */
static int
decode_value(struct decoder *d, const json_t *v, const char *list_api_version,
             const char *list_kind)
{
    const char *api_version;
    const char *kind;
    bool inherited = false;

    if (!json_is_object(v))
        return type_error(d, v, "an object");
    if (list_kind != NULL && member(v, "kind") == NULL) {
        kind = list_kind;
        inherited = true;
    } else if (req_string(d, v, "kind", &kind) != 0) {
        return -1;
    }
    if (list_api_version != NULL && member(v, "apiVersion") == NULL) {
        api_version = list_api_version;
        inherited = true;
    } else if (req_string(d, v, "apiVersion", &api_version) != 0) {
        return -1;
    }
    if (is_list_kind(kind))
        return decode_list(d, v, api_version, kind);

    d->nobjects++;
    if (d->lim != NULL && d->lim->max_objects > 0 &&
        d->nobjects > d->lim->max_objects) {
        np_error_set(d->err, NP_E_LIMIT_EXCEEDED,
                     "the upload has more than %zu objects (max_objects)",
                     d->lim->max_objects);
        return np_error_path(d->err, "%s", d->path);
    }

    if (strcmp(kind, "Namespace") == 0 || strcmp(kind, "Pod") == 0) {
        if (strcmp(api_version, "v1") != 0)
            return warn_skipped(d, v, kind, "apiVersion not evaluated");
        return add_object(d, v, api_version, kind, inherited);
    }
    if (strcmp(kind, "NetworkPolicy") == 0) {
        if (strcmp(api_version, API_GROUP_NETWORKING) != 0)
            return warn_skipped(d, v, kind, "apiVersion not evaluated");
        return add_object(d, v, api_version, kind, inherited);
    }
    /* Workloads at the versions the API server serves; older ones
     * (extensions/v1beta1, apps/v1beta2, batch/v1beta1) are gone from it. */
    if (np_workload_kind_is_valid(kind)) {
        if (strcmp(api_version, np_workload_api_version(kind)) != 0)
            return warn_skipped(d, v, kind, "apiVersion not evaluated");
        return add_object(d, v, api_version, kind, inherited);
    }
    return warn_skipped(d, v, kind, "kind not evaluated");
}

static void
decoder_init(struct decoder *d, struct np_builder *b,
             const struct api_limits *lim, json_t *warnings, size_t nobjects,
             struct np_error *err)
{
    memset(d, 0, sizeof(*d));
    d->b = b;
    d->lim = lim;
    d->warnings = warnings;
    d->err = err;
    d->nobjects = nobjects;
    np_arena_init(&d->arena);
}

/* Decodes documents from to to of docs into b; *nobjects counts the objects
 * of the upload decoded before them, and after them on return. */
static int
decode_docs(struct np_builder *b, const struct api_docs *docs, size_t from,
            size_t to, const struct api_limits *lim, json_t *warnings,
            size_t *nobjects, struct np_error *err)
{
    struct decoder d;
    size_t i;
    int rc = 0;

    decoder_init(&d, b, lim, warnings, *nobjects, err);
    for (i = from; i < to; i++) {
        d.doc = docs->index[i];
        path_restore(&d, 0);
        rc = decode_value(&d, docs->docs[i], NULL, NULL);
        /* Model objects are copied by the builder; each document's can
         * go. */
        np_arena_free_all(&d.arena);
        if (rc != 0) {
            if (err != NULL)
                err->document = d.doc;
            break;
        }
    }
    np_arena_free_all(&d.arena);
    *nobjects = d.nobjects;
    return rc;
}

/* Besides skipped kinds, warnings receives the builder's warnings for each
 * object added (prefixed with the document), so the caller only reports
 * the builder's warnings raised after this returns. */
int
api_manifest_decode(struct np_builder *b, const struct api_docs *docs,
                    const struct api_limits *lim, json_t *warnings,
                    struct np_error *err)
{
    size_t nobjects = 0;

    return decode_docs(b, docs, 0, docs->n, lim, warnings, &nobjects, err);
}

/* --- whole bodies, two halves at once --- */

atomic_size_t api_json_halves_decoded;
atomic_size_t api_json_halves_absorbed;

/* The kind and apiVersion of list, the only document of a JSON body split
 * in halves, when decoding it decodes its items: it is a List kind with
 * both strings. Otherwise false: the body is then decoded as a whole. */
static bool
split_list(const json_t *list, const char **api_version, const char **kind)
{
    *kind = json_string_value(member(list, "kind"));
    *api_version = json_string_value(member(list, "apiVersion"));
    return *kind != NULL && *api_version != NULL && is_list_kind(*kind);
}

/* Decodes the items from from on of the List docs holds alone into b, as
 * decode_docs() would once it reached them; the List's item i is
 * items[i - base]. */
static int
decode_list_items(struct np_builder *b, const struct api_docs *docs,
                  const json_t *items, size_t from, size_t base,
                  const struct api_limits *lim, json_t *warnings,
                  size_t *nobjects, struct np_error *err)
{
    struct decoder d;
    const char *api_version, *kind;
    int rc = 0;

    decoder_init(&d, b, lim, warnings, *nobjects, err);
    d.doc = docs->index[0];
    if (split_list(docs->docs[0], &api_version, &kind))
        rc = decode_items(&d, items, from, base, api_version, kind);
    if (rc != 0 && err != NULL)
        err->document = d.doc;
    np_arena_free_all(&d.arena);
    *nobjects = d.nobjects;
    return rc;
}

/* One half of a YAML stream or of a JSON List's items, decoded on its own
 * thread. */
struct body_half {
    struct np_builder *b; /* the caller's for the first half, else owned */
    json_t *warnings;     /* in the half's arena; NULL when none wanted */
    struct np_error err;
    size_t nobjects; /* objects of the half, counted from 0 */
    size_t ndocs;    /* documents of the half */
    int rc;
    bool ran;
};

struct body_decode {
    const struct api_limits *lim;
    bool want_warnings;
    bool list;         /* the halves are those of a JSON List's items */
    size_t first_item; /* the List's first item of the second half */
    struct body_half half[2];
};

/* api_docs_half_fn: decodes one half into its builder. The first half goes
 * straight into the caller's builder, as the sequential decode would put
 * it; the second into a builder of its own, checked against the first's
 * once both are done. The first half of a JSON List is the List with the
 * items before the split, decoded as the document it is; the second, the
 * items after the split, decoded at their place in the List. */
static void
decode_half(void *arg, int i, const struct api_docs *docs)
{
    struct body_decode *bd = arg;
    struct body_half *h = &bd->half[i];
    const char *api_version, *kind;

    /* Both halves leave a List whose items the decode would not read to
     * the decode of the whole body. */
    if (docs->items != NULL && !split_list(docs->docs[0], &api_version, &kind))
        return;
    h->ran = true;
    h->ndocs = docs->n;
    if (i == 1 && docs->items != NULL) {
        bd->list = true;
        bd->first_item = docs->first_item;
    }
    if (i == 1) {
        h->b = np_builder_new();
        if (bd->want_warnings)
            h->warnings = json_array();
        if (h->b == NULL || (bd->want_warnings && h->warnings == NULL)) {
            h->rc = np_error_set(&h->err, NP_E_NOMEM, "out of memory");
            return;
        }
    }
    if (i == 1 && docs->items != NULL) {
        h->rc = decode_list_items(h->b, docs, docs->items, docs->first_item,
                                  docs->first_item, bd->lim, h->warnings,
                                  &h->nobjects, &h->err);
        atomic_fetch_add(&api_json_halves_decoded, 1);
    } else {
        h->rc = decode_docs(h->b, docs, 0, docs->n, bd->lim, h->warnings,
                            &h->nobjects, &h->err);
    }
}

/* Sets err to src unless an error is set already (the first error wins).
 * Returns -1. */
static int
copy_error(struct np_error *err, const struct np_error *src)
{
    if (err != NULL && !np_error_is_set(err))
        *err = *src;
    return -1;
}

/* Puts the halves' results together as the sequential decode of docs into
 * b would have left them: b holds the first half's objects and warnings
 * already hold its warnings. */
static int
join_halves(struct body_decode *bd, struct np_builder *b,
            const struct api_docs *docs, json_t *warnings, struct np_error *err)
{
    struct body_half *first = &bd->half[0], *second = &bd->half[1];
    const struct api_limits *lim = bd->lim;
    size_t nobjects = first->nobjects;
    struct np_error e;

    /* The sequential decode stops at the first half's error too. */
    if (first->rc != 0)
        return copy_error(err, &first->err);
    /* Absorbing the second half gives the sequential result when it decoded
     * cleanly, the objects of both stay within the limit, and no object of
     * the second half met a warning limit the first half's warnings would
     * have reached (its warnings then are the ones each object raises). */
    if (second->rc == 0 &&
        (lim == NULL || lim->max_objects == 0 ||
         nobjects + second->nobjects <= lim->max_objects) &&
        np_builder_nwarnings(b) + np_builder_nwarnings(second->b) <=
            NP_BUILDER_MAX_WARNINGS) {
        np_error_init(&e);
        if (np_builder_absorb(b, second->b, &e) == 0) {
            if (warnings != NULL &&
                json_array_extend(warnings, second->warnings) != 0)
                return np_error_set(err, NP_E_NOMEM, "out of memory");
            if (bd->list)
                atomic_fetch_add(&api_json_halves_absorbed, 1);
            return 0;
        }
        if (e.code != NP_E_DUPLICATE_OBJECT)
            return copy_error(err, &e);
    }
    /* Anything else is decoded again, after the first half: the error the
     * second half met, the duplicate with its document and path, or the
     * object over the limit, whichever the stream reaches first. */
    if (bd->list)
        return decode_list_items(
            b, docs, json_object_get(docs->docs[0], "items"), bd->first_item, 0,
            lim, warnings, &nobjects, err);
    return decode_docs(b, docs, first->ndocs, docs->n, lim, warnings, &nobjects,
                       err);
}

int
api_manifest_decode_body(struct np_builder *b, const char *body, size_t len,
                         enum api_format fmt, const struct api_limits *lim,
                         json_t **warnings, struct np_error *err)
{
    struct api_jarena arena;
    struct api_docs docs;
    struct body_decode bd;
    size_t nobjects = 0;
    json_t *w = NULL;
    int rc = -1;

    memset(&docs, 0, sizeof(docs));
    memset(&bd, 0, sizeof(bd));
    bd.lim = lim;
    bd.want_warnings = warnings != NULL;
    bd.half[0].b = b;
    np_error_init(&bd.half[0].err);
    np_error_init(&bd.half[1].err);
    if (warnings != NULL)
        *warnings = NULL;
    /* The documents and every jansson value made from them live in an arena
     * dropped whole at the end; the warnings are copied out of it. */
    api_jarena_init(&arena);
    api_jarena_enter(&arena);
    if (bd.want_warnings) {
        w = json_array();
        if (w == NULL) {
            np_error_set(err, NP_E_NOMEM, "out of memory");
            goto out;
        }
    }
    bd.half[0].warnings = w;
    if (len > 0 && api_docs_parse_halves(body, len, fmt, lim, decode_half, &bd,
                                         &docs, err) != 0)
        goto out;
    if (bd.half[0].ran)
        rc = join_halves(&bd, b, &docs, w, err);
    else
        rc = decode_docs(b, &docs, 0, docs.n, lim, w, &nobjects, err);
    if (rc != 0 || w == NULL)
        goto out;
    /* The copy is made outside the arena, so it outlives it. */
    api_jarena_leave();
    *warnings = json_deep_copy(w);
    api_jarena_enter(&arena);
    if (*warnings == NULL)
        rc = np_error_set(err, NP_E_NOMEM, "out of memory");
out:
    np_builder_free(bd.half[1].b);
    api_docs_fini(&docs);
    api_jarena_leave();
    api_jarena_fini(&arena);
    return rc;
}

/* Media types are case-insensitive and parameters (charset) do not change
 * the syntax; JSON is YAML too, but JSON bodies get jansson's exact
 * errors. */
int
api_format_from_content_type(const char *ct, enum api_format *out,
                             struct np_error *err)
{
    static const struct {
        const char *type;
        enum api_format fmt;
    } types[] = {
        { .type = "application/yaml", .fmt = API_FORMAT_YAML },
        { .type = "application/x-yaml", .fmt = API_FORMAT_YAML },
        { .type = "text/yaml", .fmt = API_FORMAT_YAML },
        { .type = "text/x-yaml", .fmt = API_FORMAT_YAML },
        { .type = "application/json", .fmt = API_FORMAT_JSON },
    };
    const char *start;
    size_t len, i;

    /* Without a Content-Type the body is read as YAML, which also reads
     * JSON; callers with the body at hand may sniff it instead. */
    if (ct == NULL) {
        *out = API_FORMAT_YAML;
        return 0;
    }
    start = ct + strspn(ct, " \t");
    len = strcspn(start, "; \t");
    if (len == 0 && start[len] == '\0') {
        *out = API_FORMAT_YAML;
        return 0;
    }
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i].type) == len &&
            strncasecmp(start, types[i].type, len) == 0) {
            *out = types[i].fmt;
            return 0;
        }
    }
    return np_error_set(err, NP_E_UNSUPPORTED_MEDIA_TYPE,
                        "Content-Type \"%.80s\" is not supported; send "
                        "application/yaml, application/x-yaml, text/yaml, "
                        "text/x-yaml or application/json",
                        ct);
}
