/*
 * What the harnesses share: uploading a body as PUT /state would, the
 * cross-check of the evaluation paths on a built snapshot, and the fixed
 * cluster the query and selector harnesses run against. Nothing here
 * decides what netpolq answers; it only drives api/ and core/ and checks
 * that their paths agree with each other.
 */
#include "tests/fuzz/fuzz.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/internal.h"
#include "core/arena.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/eval.h"
#include "core/matrix.h"
#include "core/snapshot.h"

/* Pods compared pairwise; the cost is quadratic, so keep it small. */
#define CHECK_PODS 12

void
fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void
check_error(const struct np_error *err, const char *what)
{
    if (err->code == NP_E_OK || err->code >= NP_E__MAX)
        fuzz_fail("%s failed without an error code", what);
    if (err->message[0] == '\0')
        fuzz_fail("%s failed with code %s but no message", what,
                  np_errc_name(err->code));
    if (memchr(err->message, '\0', sizeof(err->message)) == NULL ||
        memchr(err->path, '\0', sizeof(err->path)) == NULL)
        fuzz_fail("%s: error strings are not terminated", what);
    /* Bad input is the caller's mistake: never a 5xx unless memory ran
     * out. */
    if (api_errc_status(err->code) >= 500 && err->code != NP_E_NOMEM)
        fuzz_fail("%s: bad input answered %d (%s: %s)", what,
                  api_errc_status(err->code), np_errc_name(err->code),
                  err->message);
}

void
fuzz_check_verdict_json(const struct np_snapshot *snap,
                        const struct api_query *aq, const struct np_verdict *v)
{
    struct api_jw w;
    json_error_t jerr;
    json_t *doc;
    char *text;
    size_t len;

    api_jw_init(&w);
    api_verdict_write(&w, snap, aq, v, NULL);
    text = api_jw_finish(&w, &len);
    if (text == NULL)
        fuzz_fail("api_verdict_write ran out of memory");
    doc = json_loadb(text, len, 0, &jerr);
    if (doc == NULL)
        fuzz_fail("the answer is not JSON (%s at %d): %s", jerr.text,
                  jerr.position, text);
    if (!json_is_boolean(json_object_get(doc, "allowed")) ||
        json_is_true(json_object_get(doc, "allowed")) != v->allowed)
        fuzz_fail("the answer's allowed is not the verdict %d: %s", v->allowed,
                  text);
    json_decref(doc);
    free(text);
}

/* Made-up paths for api_locate(): some exist in typical manifests, some
 * cannot exist, some are malformed. */
static const char *const made_up_paths[] = {
    "",
    "metadata.name",
    "items[0].metadata.labels.app",
    "items[1].spec.ingress[0].from[1].ipBlock.except[0]",
    "spec.egress[0].ports[0].endPort",
    "spec.podSelector.matchExpressions[0].values[2]",
    "items[99999999999].x",
    "a..b[",
    "[0]",
    "spec.ingress[-1]",
};

static void
locate_all(const uint8_t *data, size_t size, const struct np_error *err)
{
    size_t i;
    int line, column;

    for (i = 0; i < sizeof(made_up_paths) / sizeof(made_up_paths[0]); i++) {
        line = -1;
        column = -1;
        api_locate((const char *)data, size, (int)(i % 3), made_up_paths[i],
                   &line, &column);
        if (line < 0 || column < 0)
            fuzz_fail("api_locate(\"%s\") gave line %d column %d",
                      made_up_paths[i], line, column);
    }
    if (err != NULL && err->document >= 0) {
        line = -1;
        column = -1;
        api_locate((const char *)data, size, err->document, err->path, &line,
                   &column);
        if (line < 0 || column < 0)
            fuzz_fail("api_locate(\"%s\") gave line %d column %d", err->path,
                      line, column);
    }
}

static void
encode_objects(const struct np_snapshot *snap)
{
    uint32_t i;

    for (i = 0; i < snap->nnamespaces; i++)
        json_decref(api_namespace_encode(snap, &snap->namespaces[i]));
    for (i = 0; i < snap->npods && i < CHECK_PODS; i++) {
        json_decref(api_pod_encode(snap, &snap->pods[i]));
        json_decref(api_isolation_encode(snap, &snap->pods[i]));
    }
    for (i = 0; i < snap->npolicies && i < CHECK_PODS; i++)
        json_decref(api_policy_encode(snap, &snap->policies[i]));
}

void
fuzz_manifest(const uint8_t *data, size_t size, enum api_format fmt)
{
    struct api_config cfg;
    struct api_docs docs;
    struct np_builder *b;
    struct np_snapshot *snap;
    struct np_error err;
    json_t *warnings;

    api_config_defaults(&cfg);
    memset(&docs, 0, sizeof(docs));
    np_error_init(&err);
    if (api_docs_parse((const char *)data, size, fmt, &cfg.limits, &docs,
                       &err) != 0) {
        check_error(&err, "api_docs_parse");
        locate_all(data, size, &err);
        return;
    }
    b = np_builder_new();
    warnings = json_array();
    if (b == NULL || warnings == NULL)
        fuzz_fail("out of memory");
    if (api_manifest_decode(b, &docs, &cfg.limits, warnings, &err) != 0) {
        check_error(&err, "api_manifest_decode");
        locate_all(data, size, &err);
        goto out;
    }
    snap = np_builder_build(b, 1, &err);
    if (snap == NULL) {
        check_error(&err, "np_builder_build");
        locate_all(data, size, &err);
        goto out;
    }
    locate_all(data, size, NULL);
    fuzz_check_snapshot(snap);
    encode_objects(snap);
    np_snapshot_release(snap);
out:
    json_decref(warnings);
    np_builder_free(b);
    api_docs_fini(&docs);
}

/* The ports tried for each pair: fixed numbers and protocols, plus the
 * destination's own container ports. */
struct try_port {
    uint16_t port;
    enum np_proto proto;
};

static const struct try_port fixed_ports[] = {
    { .port = 80, .proto = NP_PROTO_TCP },
    { .port = 53, .proto = NP_PROTO_UDP },
    { .port = 443, .proto = NP_PROTO_SCTP },
    { .port = 8080, .proto = NP_PROTO_TCP },
};

static void
check_one(const struct np_snapshot *snap, const struct np_eval_opts *opts,
          uint32_t i, uint32_t j, uint16_t port, enum np_proto proto,
          bool matrix_verdict)
{
    struct np_query q;
    struct np_verdict v;
    struct np_arena a;
    struct np_error err;
    struct api_query aq;
    bool fast;

    memset(&q, 0, sizeof(q));
    q.from.pod = &snap->pods[i];
    q.to.pod = &snap->pods[j];
    q.port = port;
    q.proto = proto;
    fast = np_eval_allowed(snap, opts, &q);
    if (fast != (np_eval_side_allowed(snap, opts, &q, NP_DIR_EGRESS) &&
                 np_eval_side_allowed(snap, opts, &q, NP_DIR_INGRESS)))
        fuzz_fail("pods %u -> %u port %u/%s: np_eval_allowed says %d, the "
                  "sides disagree",
                  i, j, port, np_proto_name(proto), fast);
    np_arena_init(&a);
    np_error_init(&err);
    if (np_eval_trace(snap, opts, &q, &a, &v, &err) != 0)
        fuzz_fail("np_eval_trace: %s", err.message);
    if (v.allowed != fast)
        fuzz_fail("pods %u -> %u port %u/%s: np_eval_allowed says %d, "
                  "np_eval_trace %d",
                  i, j, port, np_proto_name(proto), fast, v.allowed);
    if (matrix_verdict != fast)
        fuzz_fail("pods %u -> %u port %u/%s: np_eval_allowed says %d, "
                  "np_matrix_compute %d",
                  i, j, port, np_proto_name(proto), fast, matrix_verdict);
    /* Writing every answer would cost most of the run; one source's row
     * reaches every path of the writer. */
    if (i == 0) {
        memset(&aq, 0, sizeof(aq));
        aq.q = q;
        aq.proto_given = true;
        fuzz_check_verdict_json(snap, &aq, &v);
    }
    np_arena_free_all(&a);
}

static void
check_port(const struct np_snapshot *snap, const struct np_eval_opts *opts,
           const uint32_t *ids, uint32_t n, uint16_t port, enum np_proto proto)
{
    struct np_matrix m;
    struct np_error err;
    uint32_t i, j;

    np_error_init(&err);
    if (np_matrix_compute(snap, opts, ids, n, ids, n, port, proto, &m, &err) !=
        0)
        fuzz_fail("np_matrix_compute: %s", err.message);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            check_one(snap, opts, ids[i], ids[j], port, proto,
                      np_matrix_get(&m, i, j));
    np_matrix_fini(&m);
}

void
fuzz_check_snapshot(const struct np_snapshot *snap)
{
    uint32_t ids[CHECK_PODS];
    uint32_t n = snap->npods < CHECK_PODS ? snap->npods : CHECK_PODS;
    uint32_t i, k;
    int o;

    if (n == 0)
        return;
    for (i = 0; i < n; i++)
        ids[i] = i;
    for (o = 0; o < 2; o++) {
        struct np_eval_opts opts = { .ipblock_matches_pods = o == 0 };

        for (k = 0; k < sizeof(fixed_ports) / sizeof(fixed_ports[0]); k++)
            check_port(snap, &opts, ids, n, fixed_ports[k].port,
                       fixed_ports[k].proto);
        /* Container ports reach the named-port rules. */
        for (i = 0; i < n && i < 4; i++) {
            const struct np_pod *pod = &snap->pods[i];

            for (k = 0; k < pod->nports && k < 2; k++)
                check_port(snap, &opts, ids, n, pod->ports[k].port,
                           (enum np_proto)pod->ports[k].proto);
        }
    }
}

/* The fixed cluster: every kind of endpoint a query can name. */
static const char fixed_cluster[] =
    "apiVersion: v1\nkind: Namespace\n"
    "metadata: {name: prod, labels: {team: a, env: prod}}\n"
    "---\n"
    "apiVersion: v1\nkind: Namespace\n"
    "metadata: {name: dev, labels: {team: b, env: dev, tier: \"\"}}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: web, namespace: prod, labels: {app: web, tier: fe}}\n"
    "spec:\n  containers:\n  - name: c\n    ports:\n"
    "    - {name: http, containerPort: 8080}\n"
    "    - {name: dns, containerPort: 53, protocol: UDP}\n"
    "    - {name: assoc, containerPort: 9000, protocol: SCTP}\n"
    "status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: fd00::1}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: db, namespace: prod, labels: {app: db}}\n"
    "spec: {containers: [{name: c, ports: [{name: pg, containerPort: "
    "5432}]}]}\n"
    "status: {podIP: 10.0.0.2}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: client, namespace: dev, labels: {app: client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.1.0.1}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: agent, namespace: dev, labels: {app: agent}}\n"
    "spec: {hostNetwork: true, containers: [{name: c, ports: [{name: http, "
    "containerPort: 80}]}]}\n"
    "status: {podIP: 192.168.0.5, hostIP: 192.168.0.5}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: done, namespace: dev, labels: {app: client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.1.0.9, phase: Succeeded}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: prod}\n"
    "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: web-in, namespace: prod}\n"
    "spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
    "  - from:\n    - namespaceSelector: {matchLabels: {team: b}}\n"
    "      podSelector:\n        matchExpressions:\n"
    "        - {key: app, operator: In, values: [client, agent]}\n"
    "    - ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}\n"
    "    ports: [{port: http}, {port: 53, protocol: UDP}, "
    "{port: 9000, endPort: 9100, protocol: SCTP}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: db-egress, namespace: prod}\n"
    "spec:\n  podSelector: {matchLabels: {app: db}}\n  egress:\n"
    "  - to: [{ipBlock: {cidr: \"::/0\", except: [\"fd00::/8\"]}}]\n"
    "  - to: [{podSelector: {}}]\n    ports: [{protocol: UDP}]\n";

static struct api_ctx fixed_ctx;
static bool fixed_ready;

struct api_ctx *
fuzz_fixed_ctx(void)
{
    struct api_file f = { .name = "fixed.yaml",
                          .data = fixed_cluster,
                          .len = sizeof(fixed_cluster) - 1 };
    struct np_error err;

    if (fixed_ready)
        return &fixed_ctx;
    np_error_init(&err);
    if (api_ctx_init(&fixed_ctx, NULL, &err) != 0 ||
        api_load_files(&fixed_ctx, &f, 1, &err) != 0)
        fuzz_fail("the fixed cluster does not load: %s", err.message);
    atomic_store(&fixed_ctx.ready, true);
    fixed_ready = true;
    return &fixed_ctx;
}
