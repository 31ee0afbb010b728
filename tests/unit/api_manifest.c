/*
 * api/manifest.c: Content-Type selection, documents and List kinds to builder
 * calls, type errors with their exact paths and documents, skipped kinds,
 * limits. Bodies go through api_docs_parse() as an upload would.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/internal.h"
#include "core/builder.h"
#include "core/snapshot.h"
#include "tests/support/testdata.h"

#ifndef NETPOLQ_TEST_DATA
#define NETPOLQ_TEST_DATA "tests/data"
#endif

struct decoded {
    struct np_builder *b;
    json_t *warnings;
    struct np_error err;
    int rc;
};

static struct api_limits
test_limits(void)
{
    struct api_config cfg;

    api_config_defaults(&cfg);
    return cfg.limits;
}

/* Parses and decodes body as an upload would; the result is in out. */
static int
decode_with(const char *body, size_t len, enum api_format fmt,
            const struct api_limits *lim, struct decoded *out)
{
    struct api_docs docs;

    memset(out, 0, sizeof(*out));
    memset(&docs, 0, sizeof(docs));
    np_error_init(&out->err);
    out->b = np_builder_new();
    out->warnings = json_array();
    cr_assert_not_null(out->b);
    cr_assert_not_null(out->warnings);
    out->rc = api_docs_parse(body, len, fmt, lim, &docs, &out->err);
    if (out->rc == 0)
        out->rc =
            api_manifest_decode(out->b, &docs, lim, out->warnings, &out->err);
    api_docs_fini(&docs);
    return out->rc;
}

static int
decode(const char *body, enum api_format fmt, struct decoded *out)
{
    struct api_limits lim = test_limits();

    return decode_with(body, strlen(body), fmt, &lim, out);
}

static void
decoded_fini(struct decoded *d)
{
    np_builder_free(d->b);
    json_decref(d->warnings);
}

static int
decode_file(const char *name, enum api_format fmt, struct decoded *out)
{
    struct api_limits lim = test_limits();
    size_t len;
    char *body = tdata_manifest(name, &len);
    int rc = decode_with(body, len, fmt, &lim, out);

    free(body);
    return rc;
}

static void
assert_ok(const struct decoded *d)
{
    cr_assert_eq(d->rc, 0, "decode failed: %s: %s (document %d, path %s)",
                 np_errc_name(d->err.code), d->err.message, d->err.document,
                 d->err.path);
}

static void
assert_counts(const struct decoded *d, size_t nns, size_t npods, size_t npols)
{
    cr_assert_eq(np_builder_count(d->b, NP_KIND_NAMESPACE), nns);
    cr_assert_eq(np_builder_count(d->b, NP_KIND_POD), npods);
    cr_assert_eq(np_builder_count(d->b, NP_KIND_POLICY), npols);
}

static struct np_snapshot *
build(struct decoded *d)
{
    struct np_snapshot *snap = np_builder_build(d->b, 1, &d->err);

    cr_assert_not_null(snap, "build failed: %s", d->err.message);
    return snap;
}

static const char *
warning(const struct decoded *d, size_t i)
{
    return json_string_value(json_array_get(d->warnings, i));
}

/* --- Content-Type --- */

struct ct_case {
    char ct[64];
    bool ok;
    enum api_format fmt;
};

ParameterizedTestParameters(manifest, content_type)
{
    static struct ct_case cases[] = {
        { .ct = "application/yaml", .ok = true, .fmt = API_FORMAT_YAML },
        { .ct = "application/x-yaml", .ok = true, .fmt = API_FORMAT_YAML },
        { .ct = "text/yaml", .ok = true, .fmt = API_FORMAT_YAML },
        { .ct = "text/x-yaml", .ok = true, .fmt = API_FORMAT_YAML },
        { .ct = "application/json", .ok = true, .fmt = API_FORMAT_JSON },
        { .ct = "Application/JSON", .ok = true, .fmt = API_FORMAT_JSON },
        { .ct = "application/json; charset=utf-8",
          .ok = true,
          .fmt = API_FORMAT_JSON },
        { .ct = "application/yaml;charset=UTF-8",
          .ok = true,
          .fmt = API_FORMAT_YAML },
        { .ct = "  text/YAML ; charset=utf-8",
          .ok = true,
          .fmt = API_FORMAT_YAML },
        { .ct = "", .ok = true, .fmt = API_FORMAT_YAML },
        { .ct = "text/plain", .ok = false },
        { .ct = "application/x-www-form-urlencoded", .ok = false },
        { .ct = "application/jsonx", .ok = false },
        { .ct = "application/json-patch+json", .ok = false },
        { .ct = "application/merge-patch+json", .ok = false },
        { .ct = "application/yam", .ok = false },
        { .ct = "multipart/form-data; boundary=x", .ok = false },
        { .ct = "; charset=utf-8", .ok = false },
    };

    return cr_make_param_array(struct ct_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ct_case *c, manifest, content_type)
{
    struct np_error err;
    enum api_format fmt = API_FORMAT_JSON + 1;
    int rc;

    np_error_init(&err);
    rc = api_format_from_content_type(c->ct, &fmt, &err);
    if (c->ok) {
        cr_assert_eq(rc, 0, "%s: %s", c->ct, err.message);
        cr_assert_eq(fmt, c->fmt, "%s", c->ct);
    } else {
        cr_assert_eq(rc, -1, "%s accepted", c->ct);
        cr_assert_eq(err.code, NP_E_UNSUPPORTED_MEDIA_TYPE);
        cr_assert_eq(api_errc_status(err.code), 415);
        cr_assert_not_null(strstr(err.message, "application/yaml"), "%s",
                           err.message);
        cr_assert_not_null(strstr(err.message, "application/json"), "%s",
                           err.message);
    }
}

Test(manifest, missing_content_type_reads_yaml)
{
    struct np_error err;
    enum api_format fmt = API_FORMAT_JSON;

    np_error_init(&err);
    cr_assert_eq(api_format_from_content_type(NULL, &fmt, &err), 0);
    cr_assert_eq(fmt, API_FORMAT_YAML);
}

/* --- objects, streams and Lists --- */

Test(manifest, single_json_pod_keeps_labels_ports_and_ips)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_pod *pod;

    decode("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"web\",\"namespace\":\"prod\",\"labels\":{\"app\":\"web\"}},"
           "\"spec\":{\"hostNetwork\":false,\"containers\":[{\"name\":\"a\","
           "\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]},{\"name\":"
           "\"b\",\"ports\":[{\"containerPort\":53,\"protocol\":\"UDP\"}]}]},"
           "\"status\":{\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":\"10.0.0."
           "1\"},{\"ip\":\"fd00::1\"}],\"hostIP\":\"192.168.0.1\",\"phase\":"
           "\"Running\"}}",
           API_FORMAT_JSON, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 1, 0);
    cr_assert_eq(json_array_size(d.warnings), 0);
    snap = build(&d);
    pod = np_snapshot_find_pod(snap, "prod", "web");
    cr_assert_not_null(pod);
    cr_assert_eq(pod->nports, 2);
    cr_assert_eq(pod->model->nports, 2);
    cr_assert_str_eq(pod->model->ports[0].name, "http");
    cr_assert_eq(pod->model->ports[0].port, 80);
    cr_assert_null(pod->model->ports[1].name);
    cr_assert_str_eq(pod->model->ports[1].protocol, "UDP");
    cr_assert_eq(pod->nips, 2, "podIP and podIPs merge: %u", pod->nips);
    cr_assert(pod->has_host_ip);
    cr_assert_str_eq(pod->phase, "Running");
    cr_assert(!pod->host_network);
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, source_is_the_compact_object_as_uploaded)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_policy *pol;

    decode("{\"kind\": \"NetworkPolicy\", \"apiVersion\": "
           "\"networking.k8s.io/v1\",\n \"metadata\": {\"name\": \"p\", "
           "\"annotations\": {\"z\": \"1\", \"a\": \"2\"}},\n \"spec\": {}}",
           API_FORMAT_JSON, &d);
    assert_ok(&d);
    snap = build(&d);
    pol = np_snapshot_find_policy(snap, "default", "p");
    cr_assert_not_null(pol);
    cr_assert_str_eq(pol->model->source,
                     "{\"kind\":\"NetworkPolicy\",\"apiVersion\":"
                     "\"networking.k8s.io/v1\",\"metadata\":{\"name\":\"p\","
                     "\"annotations\":{\"z\":\"1\",\"a\":\"2\"}},\"spec\":{}}");
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, multi_document_yaml_skips_unknown_kinds_with_warnings)
{
    struct decoded d;

    decode_file("multi.yaml", API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 1, 1, 1);
    /* The Deployment of document 3 is a workload (core/workload.h). */
    cr_assert_eq(np_builder_count(d.b, NP_KIND_WORKLOAD), 1);
    cr_assert_eq(json_array_size(d.warnings), 2);
    cr_assert_str_eq(warning(&d, 0),
                     "document 2: skipped Service test/web (kind not "
                     "evaluated)");
    cr_assert_str_eq(warning(&d, 1),
                     "document 5: skipped AdminNetworkPolicy cluster-wide "
                     "(kind not evaluated)");
    decoded_fini(&d);
}

Test(manifest, kubectl_get_yaml_list_ignores_managed_fields_and_status_noise)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_pod *pod;

    decode_file("kubectl-get-pods.yaml", API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 2, 0);
    snap = build(&d);
    pod = np_snapshot_find_pod(snap, "prod", "web-7d4b9c8f5d-x2x9q");
    cr_assert_not_null(pod);
    /* Both containers' ports, not the init container's. */
    cr_assert_eq(pod->nports, 3);
    cr_assert_str_eq(pod->model->ports[2].name, "envoy-admin");
    cr_assert_eq(pod->nips, 2);
    cr_assert_eq(pod->model->nowners, 1);
    cr_assert_str_eq(pod->model->owners[0].kind, "ReplicaSet");
    cr_assert_str_eq(pod->model->owners[0].name, "web-7d4b9c8f5d");
    pod = np_snapshot_find_pod(snap, "prod", "db-0");
    cr_assert_not_null(pod);
    cr_assert_eq(pod->nips, 0);
    cr_assert_str_eq(pod->phase, "Pending");
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, typed_list_items_inherit_kind_and_api_version)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_pod *pod;
    json_t *src;

    decode_file("podlist.json", API_FORMAT_JSON, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 2, 0);
    snap = build(&d);
    pod = np_snapshot_find_pod(snap, "test", "server");
    cr_assert_not_null(pod);
    /* Pods keep no uploaded text; the manifest written from the model can
     * be uploaded again on its own. */
    cr_assert_null(pod->model->source);
    {
        size_t len;
        char *text = api_pod_manifest_text(pod->model, &len);

        cr_assert_not_null(text);
        src = json_loads(text, 0, NULL);
        free(text);
    }
    cr_assert_not_null(src);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(src, "metadata"), "name")),
                     "server");
    cr_assert_str_eq(json_string_value(json_object_get(src, "kind")), "Pod");
    cr_assert_str_eq(json_string_value(json_object_get(src, "apiVersion")),
                     "v1");
    json_decref(src);
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, network_policy_list_in_yaml)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_policy *pol;
    const struct np_model_rule *r;

    decode_file("networkpolicylist.yaml", API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 0, 2);
    snap = build(&d);
    pol = np_snapshot_find_policy(snap, "test", "allow-client");
    cr_assert_not_null(pol);
    cr_assert(pol->model->ingress_present);
    cr_assert(!pol->model->egress_present);
    cr_assert_eq(pol->model->ningress, 1);
    r = &pol->model->ingress[0];
    cr_assert_eq(r->npeers, 3);
    cr_assert_not_null(r->peers[0].pod_selector);
    cr_assert_null(r->peers[0].namespace_selector);
    cr_assert_null(r->peers[1].pod_selector);
    cr_assert_eq(r->peers[1].namespace_selector->nexprs, 1);
    cr_assert_eq(r->peers[1].namespace_selector->exprs[0].nvalues, 2);
    cr_assert_str_eq(r->peers[2].ipblock->cidr, "172.17.0.0/16");
    cr_assert_eq(r->peers[2].ipblock->nexcept, 1);
    cr_assert_eq(r->nports, 2);
    cr_assert_str_eq(r->ports[0].port_name, "http");
    cr_assert(r->ports[1].has_port && r->ports[1].port == 8000);
    cr_assert(r->ports[1].has_end_port && r->ports[1].end_port == 8080);
    pol = np_snapshot_find_policy(snap, "test", "default-deny-ingress");
    cr_assert_not_null(pol);
    cr_assert(!pol->model->ingress_present);
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, nested_lists_and_their_warnings_name_the_item)
{
    struct decoded d;

    decode_file("nested-list.json", API_FORMAT_JSON, &d);
    assert_ok(&d);
    assert_counts(&d, 1, 1, 0);
    cr_assert_eq(json_array_size(d.warnings), 1);
    cr_assert_str_eq(warning(&d, 0),
                     "document 0 (items[1].items[1]): skipped ConfigMap "
                     "outer/settings (kind not evaluated)");
    decoded_fini(&d);
}

Test(manifest, list_kinds_in_yaml_and_json_agree)
{
    static const char yaml[] = "apiVersion: v1\n"
                               "kind: List\n"
                               "items:\n"
                               "- apiVersion: v1\n"
                               "  kind: Namespace\n"
                               "  metadata: {name: a}\n"
                               "- apiVersion: v1\n"
                               "  kind: NamespaceList\n"
                               "  items:\n"
                               "  - metadata: {name: b}\n"
                               "  - metadata: {name: c}\n";
    static const char json[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
        "{\"name\":\"a\"}},{\"apiVersion\":\"v1\",\"kind\":\"NamespaceList\","
        "\"items\":[{\"metadata\":{\"name\":\"b\"}},{\"metadata\":{\"name\":"
        "\"c\"}}]}]}";
    struct decoded d;

    decode(yaml, API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 3, 0, 0);
    decoded_fini(&d);
    decode(json, API_FORMAT_JSON, &d);
    assert_ok(&d);
    assert_counts(&d, 3, 0, 0);
    decoded_fini(&d);
}

Test(manifest, other_api_versions_are_skipped_with_a_warning)
{
    struct decoded d;

    decode("apiVersion: extensions/v1beta1\n"
           "kind: NetworkPolicy\n"
           "metadata: {name: old, namespace: x}\n"
           "---\n"
           "apiVersion: v1\n"
           "kind: List\n"
           "items:\n"
           "- {apiVersion: v1, kind: Service, metadata: {name: s}}\n",
           API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 0, 0);
    cr_assert_eq(json_array_size(d.warnings), 2);
    cr_assert_str_eq(warning(&d, 0),
                     "document 0: skipped NetworkPolicy x/old (apiVersion "
                     "not evaluated)");
    cr_assert_str_eq(warning(&d, 1), "document 1 (items[0]): skipped Service "
                                     "s (kind not evaluated)");
    decoded_fini(&d);
}

Test(manifest, builder_warnings_name_the_document_and_object)
{
    static const char expected[] = "document 1: NetworkPolicy ns1/p: "
                                   "spec.egress[0].to[0].ipBlock.cidr";
    struct decoded d;

    decode("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n---\n"
           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: p, namespace: ns1}\n"
           "spec:\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.1/8}\n",
           API_FORMAT_YAML, &d);
    assert_ok(&d);
    cr_assert_eq(json_array_size(d.warnings), 1);
    cr_assert(strncmp(warning(&d, 0), expected, strlen(expected)) == 0, "%s",
              warning(&d, 0));
    decoded_fini(&d);
}

Test(manifest, null_fields_are_absent_and_missing_spec_selects_all)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_policy *pol;

    decode("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: a, namespace: null, labels: null}\n"
           "spec: {ingress: null, egress: [], policyTypes: null}\n"
           "---\n"
           "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
           "metadata: {name: b}\n",
           API_FORMAT_YAML, &d);
    assert_ok(&d);
    snap = build(&d);
    pol = np_snapshot_find_policy(snap, "default", "a");
    cr_assert_not_null(pol);
    cr_assert(!pol->model->ingress_present);
    cr_assert(pol->model->egress_present);
    pol = np_snapshot_find_policy(snap, "default", "b");
    cr_assert_not_null(pol);
    cr_assert_eq(pol->model->pod_selector.nlabels, 0);
    cr_assert_eq(pol->model->pod_selector.nexprs, 0);
    cr_assert(pol->affects[NP_DIR_INGRESS]);
    cr_assert(!pol->affects[NP_DIR_EGRESS]);
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, port_without_container_port_is_ignored_with_a_warning)
{
    struct decoded d;
    struct np_snapshot *snap;
    const struct np_pod *pod;

    decode("apiVersion: v1\nkind: List\nitems:\n"
           "- apiVersion: v1\n  kind: Pod\n"
           "  metadata:\n    name: a\n    namespace: hw\n"
           "    ownerReferences: [{name: rs}, {kind: ReplicaSet, name: rs}]\n"
           "  spec:\n    containers:\n    - ports:\n"
           "      - {name: sctp, containerPort: 8956, protocol: SCTP}\n"
           "      - {name: udps, protocol: UDP}\n",
           API_FORMAT_YAML, &d);
    assert_ok(&d);
    cr_assert_eq(json_array_size(d.warnings), 1);
    cr_assert_str_eq(warning(&d, 0),
                     "document 0 (items[0]): Pod hw/a: "
                     "spec.containers[0].ports[1] has no containerPort; the "
                     "port is ignored");
    snap = build(&d);
    pod = np_snapshot_find_pod(snap, "hw", "a");
    cr_assert_not_null(pod);
    cr_assert_eq(pod->nports, 1);
    cr_assert_str_eq(pod->model->ports[0].name, "sctp");
    /* An owner reference without a kind is dropped. */
    cr_assert_eq(pod->model->nowners, 1);
    cr_assert_str_eq(pod->model->owners[0].kind, "ReplicaSet");
    np_snapshot_release(snap);
    decoded_fini(&d);
}

Test(manifest, numeric_string_port_is_a_port_name)
{
    struct decoded d;

    decode("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
           "\"NetworkPolicy\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
           "\"ingress\":[{\"ports\":[{\"port\":\"80\"}]}]}}",
           API_FORMAT_JSON, &d);
    cr_assert_eq(d.rc, -1);
    cr_assert_eq(d.err.code, NP_E_INVALID_PORT, "%s", d.err.message);
    cr_assert_str_eq(d.err.path, "spec.ingress[0].ports[0].port");
    cr_assert_eq(d.err.document, 0);
    decoded_fini(&d);
}

Test(manifest, empty_body_and_comments_only_hold_no_objects)
{
    struct decoded d;

    decode("# nothing here\n", API_FORMAT_YAML, &d);
    assert_ok(&d);
    assert_counts(&d, 0, 0, 0);
    decoded_fini(&d);
}

/* --- errors: code, path from the document root, document index --- */

struct err_case {
    char name[48];
    bool yaml;
    char body[480];
    enum np_errc code;
    int document;
    char path[96];
    char message[112]; /* a part of the message, or "" */
};

#define NS_JSON  "\"apiVersion\":\"v1\",\"kind\":\"Namespace\""
#define POD_JSON "\"apiVersion\":\"v1\",\"kind\":\"Pod\""
#define NP_JSON                                                                \
    "\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","      \
    "\"metadata\":{\"name\":\"p\"}"

ParameterizedTestParameters(manifest, errors)
{
    static struct err_case cases[] = {
        { .name = "document not an object",
          .body = "[1]",
          .code = NP_E_INVALID_TYPE,
          .path = "",
          .message = "the document must be an object, got an array" },
        { .name = "yaml scalar document",
          .yaml = true,
          .body = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
                  "---\nhello\n",
          .code = NP_E_INVALID_TYPE,
          .document = 1,
          .path = "",
          .message = "the document must be an object, got a string" },
        { .name = "missing kind",
          .body = "{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}",
          .code = NP_E_MISSING_FIELD,
          .path = "kind",
          .message = "kind is required" },
        { .name = "missing apiVersion",
          .body = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}",
          .code = NP_E_MISSING_FIELD,
          .path = "apiVersion" },
        { .name = "kind not a string",
          .body = "{\"apiVersion\":\"v1\",\"kind\":5}",
          .code = NP_E_INVALID_TYPE,
          .path = "kind",
          .message = "kind must be a string, got an integer" },
        { .name = "metadata not an object",
          .body = "{" NS_JSON ",\"metadata\":[]}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata",
          .message = "metadata must be an object, got an array" },
        { .name = "missing metadata",
          .body = "{" NS_JSON "}",
          .code = NP_E_MISSING_FIELD,
          .path = "metadata.name" },
        { .name = "missing name",
          .body = "{" NS_JSON ",\"metadata\":{\"labels\":{}}}",
          .code = NP_E_MISSING_FIELD,
          .path = "metadata.name",
          .message = "metadata.name is required" },
        { .name = "empty name",
          .body = "{" NS_JSON ",\"metadata\":{\"name\":\"\"}}",
          .code = NP_E_MISSING_FIELD,
          .path = "metadata.name" },
        { .name = "name not a string",
          .body = "{" NS_JSON ",\"metadata\":{\"name\":7}}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.name",
          .message = "metadata.name must be a string, got an integer" },
        { .name = "namespace not a string",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\",\"namespace\":"
                  "[]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.namespace" },
        { .name = "null label value",
          .body = "{" NS_JSON ",\"metadata\":{\"name\":\"a\",\"labels\":{"
                  "\"app\":null}}}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.labels.app",
          .message = "metadata.labels.app must be a string, got null" },
        { .name = "boolean label value in yaml",
          .yaml = true,
          .body = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"
                  "  labels:\n    enabled: true\n",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.labels.enabled",
          .message = "got a boolean" },
        { .name = "labels not an object",
          .body = "{" NS_JSON ",\"metadata\":{\"name\":\"a\",\"labels\":["
                  "\"x\"]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.labels",
          .message = "metadata.labels must be an object, got an array" },
        { .name = "owner kind not a string",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\","
                  "\"ownerReferences\":[{\"kind\":[],\"name\":\"x\"}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "metadata.ownerReferences[0].kind" },
        { .name = "containers not an array",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                  "\"containers\":{}}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.containers",
          .message = "spec.containers must be an array, got an object" },
        { .name = "containerPort as a string",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                  "\"containers\":[{},{\"ports\":[{\"containerPort\":1},"
                  "{\"containerPort\":\"80\"}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.containers[1].ports[1].containerPort",
          .message = "spec.containers[1].ports[1].containerPort must be an "
                     "integer, got a string" },
        { .name = "containerPort with a fraction",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                  "\"containers\":[{\"ports\":[{\"containerPort\":80.5}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.containers[0].ports[0].containerPort",
          .message = "got a floating-point number" },
        { .name = "containerPort out of range (builder)",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                  "\"containers\":[{},{\"ports\":[{\"containerPort\":80},"
                  "{\"containerPort\":70000}]}]}}",
          .code = NP_E_INVALID_PORT,
          .path = "spec.containers[1].ports[1].containerPort" },
        { .name = "hostNetwork as a string",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"spec\":{"
                  "\"hostNetwork\":\"true\"}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.hostNetwork",
          .message = "spec.hostNetwork must be a boolean, got a string" },
        { .name = "podIPs element not an object",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"status\":{"
                  "\"podIPs\":[\"10.0.0.1\"]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "status.podIPs[0]",
          .message = "status.podIPs[0] must be an object, got a string" },
        { .name = "podIP not a string",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"status\":{"
                  "\"podIP\":10}}",
          .code = NP_E_INVALID_TYPE,
          .path = "status.podIP" },
        { .name = "bad podIP (builder)",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"status\":{"
                  "\"podIP\":\"10.0.0.300\"}}",
          .code = NP_E_INVALID_IP,
          .path = "status.podIP" },
        { .name = "bad second podIPs entry (builder)",
          .body = "{" POD_JSON ",\"metadata\":{\"name\":\"a\"},\"status\":{"
                  "\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":\"10.0.0.1\"},"
                  "{\"ip\":\"fd00::zz\"}]}}",
          .code = NP_E_INVALID_IP,
          .path = "status.podIPs[1].ip" },
        { .name = "policy port as an array",
          .body = "{" NP_JSON ",\"spec\":{\"ingress\":[{\"ports\":[{\"port\":"
                  "80},{\"port\":[]}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.ingress[0].ports[1].port",
          .message = "spec.ingress[0].ports[1].port must be an integer or a "
                     "string, got an array" },
        { .name = "ingress not an array",
          .body = "{" NP_JSON ",\"spec\":{\"ingress\":{}}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.ingress" },
        { .name = "rule not an object",
          .body = "{" NP_JSON ",\"spec\":{\"egress\":[{},\"all\"]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.egress[1]" },
        { .name = "except not an array",
          .body = "{" NP_JSON ",\"spec\":{\"egress\":[{\"to\":[{\"ipBlock\":"
                  "{\"cidr\":\"10.0.0.0/8\",\"except\":\"10.1.0.0/16\"}}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.egress[0].to[0].ipBlock.except" },
        { .name = "ipBlock without cidr",
          .body = "{" NP_JSON ",\"spec\":{\"egress\":[{\"to\":[{\"ipBlock\":"
                  "{}}]}]}}",
          .code = NP_E_MISSING_FIELD,
          .path = "spec.egress[0].to[0].ipBlock.cidr" },
        { .name = "bad cidr (builder)",
          .body = "{" NP_JSON
                  ",\"spec\":{\"ingress\":[{\"from\":[{\"podSelector\":{}},{"
                  "\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}}",
          .code = NP_E_INVALID_CIDR,
          .path = "spec.ingress[0].from[1].ipBlock.cidr" },
        { .name = "expression value not a string",
          .body = "{" NP_JSON ",\"spec\":{\"podSelector\":{"
                  "\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\","
                  "\"values\":[1]}]}}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.podSelector.matchExpressions[0].values[0]",
          .message = "must be a string, got an integer" },
        { .name = "expression without operator",
          .body = "{" NP_JSON ",\"spec\":{\"podSelector\":{"
                  "\"matchExpressions\":[{\"key\":\"a\"}]}}}",
          .code = NP_E_MISSING_FIELD,
          .path = "spec.podSelector.matchExpressions[0].operator" },
        { .name = "matchLabels value not a string",
          .body = "{" NP_JSON ",\"spec\":{\"ingress\":[{\"from\":[{"
                  "\"namespaceSelector\":{\"matchLabels\":{\"team\":1}}}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path =
              "spec.ingress[0].from[0].namespaceSelector.matchLabels.team" },
        { .name = "policyTypes not an array",
          .body = "{" NP_JSON ",\"spec\":{\"policyTypes\":\"Ingress\"}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.policyTypes" },
        { .name = "endPort as a string",
          .body = "{" NP_JSON ",\"spec\":{\"ingress\":[{\"ports\":[{\"port\":"
                  "80,\"endPort\":\"90\"}]}]}}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec.ingress[0].ports[0].endPort" },
        { .name = "spec not an object",
          .body = "{" NP_JSON ",\"spec\":\"x\"}",
          .code = NP_E_INVALID_TYPE,
          .path = "spec" },
        { .name = "items not an array",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":{}}",
          .code = NP_E_INVALID_TYPE,
          .path = "items",
          .message = "items must be an array, got an object" },
        { .name = "list item not an object",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
                  "\"x\"]}",
          .code = NP_E_INVALID_TYPE,
          .path = "items[0]",
          .message = "items[0] must be an object, got a string" },
        { .name = "List item without kind",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{"
                  "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}]}",
          .code = NP_E_MISSING_FIELD,
          .path = "items[0].kind" },
        { .name = "type error inside a list item",
          .body =
              "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{" NS_JSON
              ",\"metadata\":{\"name\":\"a\"}},{" NS_JSON
              ",\"metadata\":{\"name\":5}}]}",
          .code = NP_E_INVALID_TYPE,
          .path = "items[1].metadata.name",
          .message = "items[1].metadata.name must be a string" },
        { .name = "builder error inside a nested list",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{"
                  "\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{" NS_JSON
                  ",\"metadata\":{\"name\":\"a\"}},{" NP_JSON
                  ",\"spec\":{\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":"
                  "\"nope\"}}]}]}}]}]}",
          .code = NP_E_INVALID_CIDR,
          .path = "items[0].items[1].spec.egress[0].to[0].ipBlock.cidr" },
        { .name = "item of a nested List without kind",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{"
                  "\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}]}",
          .code = NP_E_MISSING_FIELD,
          .path = "items[0].items[0].kind" },
        { .name = "builder error gets the items prefix",
          .yaml = true,
          .body =
              "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
              "---\napiVersion: networking.k8s.io/v1\n"
              "kind: NetworkPolicyList\nitems:\n"
              "- metadata: {name: ok}\n"
              "- metadata: {name: bad}\n"
              "  spec:\n    egress:\n    - to:\n"
              "      - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}\n",
          .code = NP_E_INVALID_CIDR,
          .document = 1,
          .path = "items[1].spec.egress[0].to[0].ipBlock.except[0]" },
        { .name = "duplicate in a later document",
          .yaml = true,
          .body = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n"
                  "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
                  "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: "
                  "default}\n",
          .code = NP_E_DUPLICATE_OBJECT,
          .document = 2,
          .path = "metadata.name" },
        { .name = "document index counts empty documents",
          .yaml = true,
          .body = "---\n---\napiVersion: v1\nkind: Pod\nmetadata: {}\n",
          .code = NP_E_MISSING_FIELD,
          .document = 1,
          .path = "metadata.name" },
    };

    return cr_make_param_array(struct err_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct err_case *c, manifest, errors)
{
    struct decoded d;

    decode(c->body, c->yaml ? API_FORMAT_YAML : API_FORMAT_JSON, &d);
    cr_assert_eq(d.rc, -1, "%s: accepted", c->name);
    cr_assert_eq(d.err.code, c->code, "%s: got %s: %s", c->name,
                 np_errc_name(d.err.code), d.err.message);
    cr_assert_str_eq(d.err.path, c->path, "%s: %s", c->name, d.err.message);
    cr_assert_eq(d.err.document, c->document, "%s: document %d", c->name,
                 d.err.document);
    if (c->message[0] != '\0')
        cr_assert_not_null(strstr(d.err.message, c->message),
                           "%s: message \"%s\"", c->name, d.err.message);
    decoded_fini(&d);
}

/* --- limits --- */

Test(manifest, max_objects_counts_every_object_and_names_the_limit)
{
    struct api_limits lim = test_limits();
    static const char body[] =
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: s}}\n"
        "- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n";
    struct decoded d;

    lim.max_objects = 2;
    decode_with(body, strlen(body), API_FORMAT_YAML, &lim, &d);
    cr_assert_eq(d.rc, -1);
    cr_assert_eq(d.err.code, NP_E_LIMIT_EXCEEDED);
    cr_assert_not_null(strstr(d.err.message, "max_objects"), "%s",
                       d.err.message);
    cr_assert_eq(d.err.document, 1);
    cr_assert_str_eq(d.err.path, "items[1]");
    decoded_fini(&d);

    lim.max_objects = 3;
    decode_with(body, strlen(body), API_FORMAT_YAML, &lim, &d);
    assert_ok(&d);
    decoded_fini(&d);
}

/* The pod manifest the state file writes from a model decodes back to the
 * same model, for every pod of a realistic kubectl listing. */
Test(manifest, pod_manifest_from_the_model_decodes_to_the_same_pod)
{
    struct decoded d, again;
    struct np_snapshot *snap, *snap2;
    uint32_t i, k;

    decode_file("kubectl-get-pods.yaml", API_FORMAT_YAML, &d);
    assert_ok(&d);
    snap = build(&d);
    cr_assert_gt(snap->npods, 0);
    for (i = 0; i < snap->npods; i++) {
        const struct np_model_pod *a = snap->pods[i].model, *b;
        const struct np_pod *p2;
        size_t len;
        char *text = api_pod_manifest_text(a, &len);

        cr_assert_not_null(text);
        decode(text, API_FORMAT_JSON, &again);
        assert_ok(&again);
        snap2 = build(&again);
        p2 = np_snapshot_find_pod(snap2, a->namespace_, a->name);
        cr_assert_not_null(p2, "%s", text);
        b = p2->model;
        cr_assert_eq(a->nlabels, b->nlabels, "%s", text);
        for (k = 0; k < a->nlabels; k++) {
            cr_assert_str_eq(a->labels[k].key, b->labels[k].key);
            cr_assert_str_eq(a->labels[k].value, b->labels[k].value);
        }
        cr_assert_eq(a->nports, b->nports, "%s", text);
        for (k = 0; k < a->nports; k++) {
            cr_assert_eq(a->ports[k].port, b->ports[k].port);
            cr_assert_eq(a->ports[k].name == NULL, b->ports[k].name == NULL);
        }
        cr_assert_eq(a->nips, b->nips, "%s", text);
        for (k = 0; k < a->nips; k++)
            cr_assert_str_eq(a->ips[k], b->ips[k]);
        cr_assert_eq(a->host_network, b->host_network);
        cr_assert_eq(a->nowners, b->nowners);
        cr_assert_eq(a->phase == NULL, b->phase == NULL);
        cr_assert_eq(snap->pods[i].npolicies[NP_DIR_INGRESS],
                     p2->npolicies[NP_DIR_INGRESS]);
        np_snapshot_release(snap2);
        decoded_fini(&again);
        free(text);
    }
    np_snapshot_release(snap);
    decoded_fini(&d);
}
