/*
 * Listings and isolation through api_dispatch() on a cluster uploaded with
 * PUT /state: namespaces (declared and implicit), pods filtered by namespace
 * and kubectl label selectors, policies with their effective policyTypes and
 * selected pods, and GET /pods/{ns}/{name}/isolation.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "tests/support/dispatch.h"

static const char cluster[] =
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: test-a, labels: {team: ateam}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: test-b, labels: {team: bteam}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: server-pod\n"
    "  namespace: test-a\n"
    "  labels: {app: test-server, tier: web}\n"
    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: "
    "server-7d9, uid: '1'}]\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    ports:\n"
    "    - {containerPort: 80, name: http}\n"
    "    - {containerPort: 53, name: dns, protocol: UDP}\n"
    "    - {containerPort: 9090}\n"
    "status:\n"
    "  phase: Running\n"
    "  podIP: 10.1.1.10\n"
    "  podIPs: [{ip: 10.1.1.10}, {ip: 'fd00::10'}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: client-pod, namespace: test-b, labels: {app: "
    "test-client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.1.2.20}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: other-pod, namespace: test-b, labels: {app: other}}\n"
    "spec: {containers: [{name: c}]}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: host-pod, namespace: test-b}\n"
    "spec: {hostNetwork: true, containers: [{name: c}]}\n"
    "status: {hostIP: 192.168.0.5}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: lonely, namespace: implicit-ns, labels: {app: other}}\n"
    "spec: {containers: [{name: c}]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: default-deny-ingress, namespace: test-a}\n"
    "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: allow-from-test-client, namespace: test-a}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: test-server}}\n"
    "  ingress:\n"
    "  - from:\n"
    "    - namespaceSelector: {matchLabels: {team: bteam}}\n"
    "      podSelector: {matchLabels: {app: test-client}}\n"
    "    ports: [{port: 80}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: other-egress, namespace: test-b}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: other}}\n"
    "  egress:\n"
    "  - to: [{namespaceSelector: {}}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: other-typed-egress, namespace: test-b}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: other}}\n"
    "  policyTypes: [Egress]\n";

static struct api_ctx ctx;

/* Every listing is JSON. */
static struct tdisp_reply
get(const char *path, const struct api_kv *query, size_t nquery)
{
    struct tdisp_reply r =
        tdisp_call(&ctx, "GET", path, query, nquery, NULL, NULL);

    cr_assert_str_eq(r.content_type, "application/json");
    return r;
}

static void
setup(void)
{
    tdisp_ctx_init(&ctx);
    tdisp_put_state(&ctx, cluster);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

/* Joins the "namespace/name" of each item of a pod list with ','. */
static void
pod_names(const json_t *items, char *buf, size_t size)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < json_array_size(items); i++) {
        const json_t *p = json_array_get(items, i);
        size_t len = strlen(buf);

        snprintf(buf + len, size - len, "%s%s/%s", i > 0 ? "," : "",
                 json_string_value(json_object_get(p, "namespace")),
                 json_string_value(json_object_get(p, "name")));
    }
}

static void
strings(const json_t *arr, char *buf, size_t size)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < json_array_size(arr); i++) {
        size_t len = strlen(buf);

        snprintf(buf + len, size - len, "%s%s", i > 0 ? "," : "",
                 json_string_value(json_array_get(arr, i)));
    }
}

Test(list, namespaces_declared_and_implicit, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = get("/namespaces", NULL, 0);
    json_t *items = json_object_get(r.json, "namespaces");
    json_t *a, *imp;

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    cr_assert_eq(json_array_size(items), 3, "%s", r.text);
    imp = json_array_get(items, 0);
    a = json_array_get(items, 1);
    cr_assert_str_eq(json_string_value(json_object_get(imp, "name")),
                     "implicit-ns");
    cr_assert(json_is_true(json_object_get(imp, "implicit")));
    cr_assert_eq(json_integer_value(json_object_get(imp, "pods")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(a, "name")), "test-a");
    cr_assert(json_is_false(json_object_get(a, "implicit")));
    cr_assert_str_eq(json_string_value(
                         json_object_get(json_object_get(a, "labels"), "team")),
                     "ateam");
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(a, "labels"),
                                          "kubernetes.io/metadata.name")),
        "test-a");
    cr_assert_eq(json_integer_value(json_object_get(a, "pods")), 1);
    cr_assert_eq(json_integer_value(json_object_get(a, "networkPolicies")), 2);
    json_decref(r.json);
}

Test(list, one_namespace_carries_the_revision, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = get("/namespaces/test-b", NULL, 0);

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")),
                     "test-b");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "pods")), 3);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    json_decref(r.json);
}

struct pods_case {
    char ns[16];
    char selector[48];
    int status;
    char want[128]; /* "ns/name,..." or the error code */
};

ParameterizedTestParameters(list, pods_filters)
{
    static struct pods_case cases[] = {
        { "", "", 200,
          "implicit-ns/lonely,test-a/server-pod,test-b/client-pod,"
          "test-b/host-pod,test-b/other-pod" },
        { "test-b", "", 200,
          "test-b/client-pod,test-b/host-pod,test-b/other-pod" },
        { "nope", "", 200, "" },
        { "", "app=test-client", 200, "test-b/client-pod" },
        { "", "app==other", 200, "implicit-ns/lonely,test-b/other-pod" },
        { "test-b", "app=other", 200, "test-b/other-pod" },
        { "", "app!=other", 200,
          "test-a/server-pod,test-b/client-pod,test-b/host-pod" },
        { "", "app in (test-client, test-server)", 200,
          "test-a/server-pod,test-b/client-pod" },
        { "", "app notin (other),app", 200,
          "test-a/server-pod,test-b/client-pod" },
        { "", "!app", 200, "test-b/host-pod" },
        { "", "app,tier=web", 200, "test-a/server-pod" },
        { "", "app=never-used-value", 200, "" },
        { "", "app", 200,
          "implicit-ns/lonely,test-a/server-pod,test-b/client-pod,"
          "test-b/other-pod" },
        { "", "app in (", 400, "invalid_selector" },
        { "", "=x", 400, "invalid_selector" },
    };

    return cr_make_param_array(struct pods_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pods_case *c, list, pods_filters, .init = setup,
                  .fini = teardown)
{
    struct api_kv q[2];
    size_t n = 0;
    char names[512];
    struct tdisp_reply r;

    if (c->ns[0] != '\0')
        q[n++] = (struct api_kv){ "namespace", c->ns };
    if (c->selector[0] != '\0')
        q[n++] = (struct api_kv){ "labelSelector", c->selector };
    r = get("/pods", q, n);
    cr_assert_eq(r.status, c->status, "%s / %s: %s", c->ns, c->selector,
                 r.text);
    if (c->status != 200) {
        json_t *e = json_object_get(r.json, "error");

        cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                         c->want);
        cr_assert_str_eq(json_string_value(json_object_get(e, "path")),
                         "labelSelector");
    } else {
        cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")),
                     1);
        pod_names(json_object_get(r.json, "pods"), names, sizeof(names));
        cr_assert_str_eq(names, c->want, "%s / %s", c->ns, c->selector);
    }
    json_decref(r.json);
}

Test(list, pod_shows_ports_addresses_and_policies, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r = get("/pods/test-a/server-pod", NULL, 0);
    json_t *ports = json_object_get(r.json, "ports");
    json_t *p0 = json_array_get(ports, 0);
    json_t *p2 = json_array_get(ports, 2);
    json_t *owner = json_array_get(json_object_get(r.json, "owners"), 0);
    char buf[256];

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "namespace")),
                     "test-a");
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "name")),
                     "server-pod");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "labels"), "tier")),
                     "web");
    strings(json_object_get(r.json, "ips"), buf, sizeof(buf));
    cr_assert_str_eq(buf, "10.1.1.10,fd00::10");
    cr_assert(json_is_false(json_object_get(r.json, "hostNetwork")));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "phase")),
                     "Running");
    cr_assert_eq(json_array_size(ports), 3, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(p0, "name")), "http");
    cr_assert_eq(json_integer_value(json_object_get(p0, "port")), 80);
    cr_assert_str_eq(json_string_value(json_object_get(p0, "protocol")), "TCP");
    cr_assert_null(json_object_get(p2, "name"));
    strings(json_object_get(r.json, "ingressPolicies"), buf, sizeof(buf));
    cr_assert_str_eq(
        buf, "test-a/allow-from-test-client,test-a/default-deny-ingress");
    cr_assert_eq(json_array_size(json_object_get(r.json, "egressPolicies")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(owner, "kind")),
                     "ReplicaSet");
    cr_assert_str_eq(json_string_value(json_object_get(owner, "name")),
                     "server-7d9");
    json_decref(r.json);
}

Test(list, pod_without_owners_has_no_owner_field, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r = get("/pods/test-b/host-pod", NULL, 0);

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_null(json_object_get(r.json, "owners"));
    cr_assert(json_is_true(json_object_get(r.json, "hostNetwork")));
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "hostIP")),
                     "192.168.0.5");
    cr_assert(json_is_null(json_object_get(r.json, "phase")));
    json_decref(r.json);
}

Test(list, policies_by_namespace, .init = setup, .fini = teardown)
{
    struct api_kv q[] = { { "namespace", "test-b" } };
    struct tdisp_reply r = get("/networkpolicies", q, 1);
    json_t *items = json_object_get(r.json, "networkPolicies");
    json_t *p0 = json_array_get(items, 0);

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(json_array_size(items), 2);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(p0, "metadata"), "name")),
                     "other-egress");
    json_decref(r.json);
    r = get("/networkpolicies", NULL, 0);
    cr_assert_eq(json_array_size(json_object_get(r.json, "networkPolicies")),
                 4);
    json_decref(r.json);
}

struct policy_case {
    char ns[16];
    char name[32];
    char types[24];
    bool defaulted;
    char selected[64];
};

ParameterizedTestParameters(list, policy_views)
{
    static struct policy_case cases[] = {
        { "test-a", "default-deny-ingress", "Ingress", false,
          "test-a/server-pod" },
        { "test-a", "allow-from-test-client", "Ingress", true,
          "test-a/server-pod" },
        /* Egress rules add Egress to the defaulted types. */
        { "test-b", "other-egress", "Ingress,Egress", true,
          "test-b/other-pod" },
        { "test-b", "other-typed-egress", "Egress", false, "test-b/other-pod" },
    };

    return cr_make_param_array(struct policy_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct policy_case *c, list, policy_views, .init = setup,
                  .fini = teardown)
{
    char path[96];
    char buf[128];
    struct tdisp_reply r;

    snprintf(path, sizeof(path), "/networkpolicies/%s/%s", c->ns, c->name);
    r = get(path, NULL, 0);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "kind")),
                     "NetworkPolicy");
    cr_assert(json_is_object(json_object_get(r.json, "spec")));
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "metadata"), "namespace")),
                     c->ns);
    strings(json_object_get(r.json, "policyTypes"), buf, sizeof(buf));
    cr_assert_str_eq(buf, c->types);
    cr_assert_eq(json_is_true(json_object_get(r.json, "policyTypesDefaulted")),
                 c->defaulted);
    strings(json_object_get(r.json, "selectedPods"), buf, sizeof(buf));
    cr_assert_str_eq(buf, c->selected);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    json_decref(r.json);
}

struct isolation_case {
    char ns[16];
    char name[16];
    bool in_isolated;
    char in_policies[96];
    char in_reason[64];
    bool eg_isolated;
    char eg_policies[96];
    char eg_reason[64];
    char selected_by[96];
};

ParameterizedTestParameters(list, isolation)
{
    static struct isolation_case cases[] = {
        { "test-a", "server-pod", true,
          "test-a/allow-from-test-client,test-a/default-deny-ingress",
          "selected by 2 policies with policyType Ingress", false, "",
          "not isolated: 2 policies select it, but none has",
          "test-a/allow-from-test-client,test-a/default-deny-ingress" },
        { "test-b", "other-pod", true, "test-b/other-egress",
          "selected by 1 policy with policyType Ingress", true,
          "test-b/other-egress,test-b/other-typed-egress",
          "selected by 2 policies with policyType Egress",
          "test-b/other-egress,test-b/other-typed-egress" },
        { "test-b", "client-pod", false, "",
          "not isolated: no policy with policyType Ingress", false, "",
          "not isolated: no policy with policyType Egress", "" },
        { "test-b", "host-pod", false, "", "hostNetwork pod", false, "",
          "hostNetwork pod", "" },
    };

    return cr_make_param_array(struct isolation_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct isolation_case *c, list, isolation, .init = setup,
                  .fini = teardown)
{
    char path[96];
    char buf[256];
    struct tdisp_reply r;
    json_t *in, *eg;

    snprintf(path, sizeof(path), "/pods/%s/%s/isolation", c->ns, c->name);
    r = get(path, NULL, 0);
    in = json_object_get(r.json, "ingress");
    eg = json_object_get(r.json, "egress");
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "pod"), "namespace")),
                     c->ns);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "pod"), "name")),
                     c->name);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    cr_assert_eq(json_is_true(json_object_get(in, "isolated")), c->in_isolated,
                 "%s", r.text);
    strings(json_object_get(in, "policies"), buf, sizeof(buf));
    cr_assert_str_eq(buf, c->in_policies);
    cr_assert(strncmp(json_string_value(json_object_get(in, "reason")),
                      c->in_reason, strlen(c->in_reason)) == 0,
              "%s", r.text);
    cr_assert_eq(json_is_true(json_object_get(eg, "isolated")), c->eg_isolated,
                 "%s", r.text);
    strings(json_object_get(eg, "policies"), buf, sizeof(buf));
    cr_assert_str_eq(buf, c->eg_policies);
    cr_assert(strncmp(json_string_value(json_object_get(eg, "reason")),
                      c->eg_reason, strlen(c->eg_reason)) == 0,
              "%s", r.text);
    strings(json_object_get(r.json, "selectedBy"), buf, sizeof(buf));
    cr_assert_str_eq(buf, c->selected_by);
    json_decref(r.json);
}

Test(list, unknown_objects_are_404, .init = setup, .fini = teardown)
{
    static const char *const paths[] = {
        "/namespaces/nope",
        "/pods/test-a/nope",
        "/pods/nope/x/isolation",
        "/networkpolicies/test-a/nope",
    };
    static const char *const codes[] = {
        "unknown_namespace",
        "unknown_pod",
        "unknown_pod",
        "unknown_policy",
    };
    size_t i;

    for (i = 0; i < 4; i++) {
        struct tdisp_reply r = get(paths[i], NULL, 0);

        cr_assert_eq(r.status, 404, "%s: %s", paths[i], r.text);
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(r.json, "error"), "code")),
                         codes[i]);
        json_decref(r.json);
    }
}
