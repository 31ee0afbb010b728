/*
 * Reachability queries through api_dispatch() on a small cluster uploaded
 * with PUT /state: verdicts for allowed and denied pairs, ports by name, IP
 * endpoints (IPv4 and IPv6, pods' and outside addresses), errors with their
 * field paths, the GET form against the POST form, batches against single
 * answers, and the shape of an answer with its trace.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "tests/support/dispatch.h"

/* test-a/server-pod serves http (80/TCP) and dns (53/UDP); its ingress is
 * isolated by default-deny-ingress, and admits test-client pods of team
 * bteam namespaces on 80 and two outside ranges on the port named http.
 * test-b pods are not isolated. */
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
    "metadata: {name: server-pod, namespace: test-a, labels: {app: "
    "test-server}}\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    ports:\n"
    "    - {containerPort: 80, name: http}\n"
    "    - {containerPort: 53, name: dns, protocol: UDP}\n"
    "status:\n"
    "  podIP: 10.1.1.10\n"
    "  podIPs: [{ip: 10.1.1.10}, {ip: 'fd00::10'}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: client-pod, namespace: test-b, labels: {app: "
    "test-client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status:\n"
    "  podIP: 10.1.2.20\n"
    "  podIPs: [{ip: 10.1.2.20}, {ip: 'fd00::20'}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: other-pod, namespace: test-b, labels: {app: other}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.1.2.21}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: host-pod, namespace: test-b}\n"
    "spec: {hostNetwork: true, containers: [{name: c}]}\n"
    "status: {hostIP: 192.168.0.5, podIP: 192.168.0.5}\n"
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
    "    ports:\n"
    "    - {port: 80, protocol: TCP}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: allow-external, namespace: test-a}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: test-server}}\n"
    "  ingress:\n"
    "  - from:\n"
    "    - ipBlock: {cidr: 203.0.113.0/24}\n"
    "    - ipBlock: {cidr: '2001:db8::/32'}\n"
    "    ports:\n"
    "    - port: http\n";

static struct api_ctx ctx;

/* Every answer of these routes is JSON. */
static struct tdisp_reply
dispatch(const char *method, const char *path, const struct api_kv *query,
         size_t nquery, const char *ct, const char *body)
{
    struct tdisp_reply r =
        tdisp_call(&ctx, method, path, query, nquery, ct, body);

    cr_assert_str_eq(r.content_type, "application/json");
    return r;
}

static struct tdisp_reply
post(const char *path, const char *body)
{
    return dispatch("POST", path, NULL, 0, "application/json", body);
}

static void
setup(void)
{
    struct tdisp_reply r;

    tdisp_ctx_init(&ctx);
    r = dispatch("PUT", "/state", NULL, 0, "application/yaml", cluster);
    cr_assert_eq(r.status, 200, "PUT /state: %s", r.text);
    json_decref(r.json);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

#define CLIENT "{\"namespace\":\"test-b\",\"pod\":\"client-pod\"}"
#define OTHER  "{\"namespace\":\"test-b\",\"pod\":\"other-pod\"}"
#define SERVER "{\"namespace\":\"test-a\",\"pod\":\"server-pod\"}"
#define HOST   "{\"namespace\":\"test-b\",\"pod\":\"host-pod\"}"

/* allowed: 1 or 0 for a verdict, -1 for an error with code and path. */
struct reach_case {
    char body[192];
    int allowed;
    int status;
    char code[32];
    char path[24];
};

static struct reach_case reach_cases[] = {
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80}", 1, 200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"protocol\":"
      "\"TCP\"}",
      1, 200, "", "" },
    { "{\"from\":" OTHER ",\"to\":" SERVER ",\"port\":80}", 0, 200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":81}", 0, 200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"protocol\":"
      "\"UDP\"}",
      0, 200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"http\"}", 1, 200, "",
      "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"dns\"}", 0, 200, "",
      "" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"80\"}", 1, 200, "",
      "" },
    { "{\"from\":" SERVER ",\"to\":" CLIENT ",\"port\":8080}", 1, 200, "", "" },
    { "{\"from\":" SERVER ",\"to\":" SERVER ",\"port\":80}", 1, 200, "", "" },
    { "{\"from\":{\"ip\":\"10.1.2.20\"},\"to\":" SERVER ",\"port\":80}", 1, 200,
      "", "" },
    { "{\"from\":{\"ip\":\"fd00::20\"},\"to\":" SERVER ",\"port\":80}", 1, 200,
      "", "" },
    { "{\"from\":{\"ip\":\"10.1.2.21\"},\"to\":" SERVER ",\"port\":80}", 0, 200,
      "", "" },
    { "{\"from\":{\"ip\":\"203.0.113.7\"},\"to\":" SERVER ",\"port\":80}", 1,
      200, "", "" },
    { "{\"from\":{\"ip\":\"203.0.113.7\"},\"to\":" SERVER ",\"port\":81}", 0,
      200, "", "" },
    { "{\"from\":{\"ip\":\"198.51.100.1\"},\"to\":" SERVER ",\"port\":80}", 0,
      200, "", "" },
    { "{\"from\":{\"ip\":\"2001:db8::1\"},\"to\":" SERVER ",\"port\":80}", 1,
      200, "", "" },
    { "{\"from\":{\"ip\":\"2001:db9::1\"},\"to\":" SERVER ",\"port\":80}", 0,
      200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":{\"ip\":\"fd00::10\"},\"port\":80}", 1, 200,
      "", "" },
    { "{\"from\":" CLIENT ",\"to\":{\"ip\":\"8.8.8.8\"},\"port\":53,"
      "\"protocol\":\"UDP\"}",
      1, 200, "", "" },
    { "{\"from\":" HOST ",\"to\":" SERVER ",\"port\":80}", 0, 200, "", "" },
    { "{\"from\":" CLIENT ",\"to\":{\"namespace\":\"test-a\",\"pod\":"
      "\"nope\"},\"port\":80}",
      -1, 404, "unknown_pod", "to" },
    { "{\"from\":{\"namespace\":\"nope\",\"pod\":\"x\"},\"to\":" SERVER
      ",\"port\":80}",
      -1, 404, "unknown_pod", "from" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":0}", -1, 400,
      "invalid_port", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":65536}", -1, 400,
      "invalid_port", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"HTTP\"}", -1, 400,
      "invalid_port", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"nope\"}", -1, 400,
      "unknown_port_name", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"http\",\"protocol\":"
      "\"UDP\"}",
      -1, 400, "unknown_port_name", "port" },
    { "{\"from\":" CLIENT ",\"to\":{\"ip\":\"8.8.8.8\"},\"port\":\"http\"}", -1,
      400, "invalid_port", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80.5}", -1, 400,
      "invalid_type", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":true}", -1, 400,
      "invalid_type", "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER "}", -1, 400, "missing_field",
      "port" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"protocol\":"
      "\"tcp\"}",
      -1, 400, "invalid_protocol", "protocol" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"protocol\":6}", -1,
      400, "invalid_type", "protocol" },
    { "{\"from\":{\"namespace\":\"test-b\"},\"to\":" SERVER ",\"port\":80}", -1,
      400, "missing_field", "from.pod" },
    { "{\"from\":{\"pod\":\"client-pod\"},\"to\":" SERVER ",\"port\":80}", -1,
      400, "missing_field", "from.namespace" },
    { "{\"to\":" SERVER ",\"port\":80}", -1, 400, "missing_field", "from" },
    { "{\"from\":\"test-b/client-pod\",\"to\":" SERVER ",\"port\":80}", -1, 400,
      "invalid_type", "from" },
    { "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\",\"ip\":"
      "\"10.1.2.20\"},\"to\":" SERVER ",\"port\":80}",
      -1, 400, "invalid_value", "from" },
    { "{\"from\":" CLIENT ",\"to\":{\"ip\":\"10.0.0.300\"},\"port\":80}", -1,
      400, "invalid_ip", "to.ip" },
    { "{\"from\":" CLIENT ",\"to\":{\"ip\":\"fe80::1%eth0\"},\"port\":80}", -1,
      400, "invalid_ip", "to.ip" },
    { "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"color\":1}", -1,
      400, "unknown_field", "color" },
    { "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\",\"zone\":"
      "1},\"to\":" SERVER ",\"port\":80}",
      -1, 400, "unknown_field", "from.zone" },
    { "{\"from\":{\"namespace\":7,\"pod\":\"client-pod\"},\"to\":" SERVER
      ",\"port\":80}",
      -1, 400, "invalid_type", "from.namespace" },
};

#define NREACH (sizeof(reach_cases) / sizeof(reach_cases[0]))

ParameterizedTestParameters(reach, single_queries)
{
    return cr_make_param_array(struct reach_case, reach_cases, NREACH);
}

ParameterizedTest(struct reach_case *c, reach, single_queries, .init = setup,
                  .fini = teardown)
{
    struct tdisp_reply r = post("/reachability", c->body);
    json_t *e = json_object_get(r.json, "error");

    cr_assert_eq(r.status, c->status, "%s -> %d %s", c->body, r.status, r.text);
    if (c->allowed < 0) {
        cr_assert_str_eq(json_string_value(json_object_get(e, "code")), c->code,
                         "%s -> %s", c->body, r.text);
        cr_assert_str_eq(json_string_value(json_object_get(e, "path")), c->path,
                         "%s -> %s", c->body, r.text);
    } else {
        cr_assert_null(e, "%s -> %s", c->body, r.text);
        cr_assert_eq(json_is_true(json_object_get(r.json, "allowed")),
                     c->allowed == 1, "%s -> %s", c->body, r.text);
        cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")),
                     1);
    }
    json_decref(r.json);
}

static const char *
str_at(const json_t *v, const char *k1, const char *k2)
{
    const json_t *o = json_object_get(v, k1);

    return json_string_value(k2 != NULL ? json_object_get(o, k2) : o);
}

Test(reach, denied_answer_names_the_isolating_policies, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r = post(
        "/reachability", "{\"from\":" OTHER ",\"to\":" SERVER ",\"port\":80}");
    json_t *in = json_object_get(r.json, "ingress");
    json_t *eg = json_object_get(r.json, "egress");
    json_t *pols = json_object_get(in, "policies");
    json_t *trace = json_object_get(in, "trace");
    json_t *rule, *peer;

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert(json_is_false(json_object_get(r.json, "allowed")));
    cr_assert(json_is_false(json_object_get(r.json, "self")));
    cr_assert_str_eq(str_at(r.json, "from", "namespace"), "test-b");
    cr_assert_str_eq(str_at(r.json, "from", "pod"), "other-pod");
    cr_assert_str_eq(str_at(r.json, "from", "ip"), "10.1.2.21");
    cr_assert_str_eq(str_at(r.json, "to", "ip"), "10.1.1.10");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "port")), 80);
    cr_assert_str_eq(str_at(r.json, "protocol", NULL), "TCP");
    cr_assert_null(json_object_get(r.json, "portName"));
    cr_assert(strncmp(str_at(r.json, "reason", NULL),
                      "denied: ingress of test-a/server-pod is isolated by "
                      "test-a/allow-external, test-a/allow-from-test-client, "
                      "test-a/default-deny-ingress and no rule allows 80/TCP "
                      "from test-b/other-pod",
                      200) == 0,
              "%s", str_at(r.json, "reason", NULL));

    cr_assert(json_is_true(json_object_get(eg, "allowed")));
    cr_assert(json_is_false(json_object_get(eg, "isolated")));
    cr_assert_str_eq(str_at(eg, "decision", NULL), "not_isolated");
    cr_assert_str_eq(str_at(eg, "pod", NULL), "test-b/other-pod");
    cr_assert_eq(json_array_size(json_object_get(eg, "policies")), 0);
    cr_assert_eq(json_array_size(json_object_get(eg, "trace")), 0);

    cr_assert(json_is_false(json_object_get(in, "allowed")));
    cr_assert(json_is_true(json_object_get(in, "isolated")));
    cr_assert_str_eq(str_at(in, "decision", NULL), "no_rule_matches");
    cr_assert_str_eq(str_at(in, "pod", NULL), "test-a/server-pod");
    cr_assert_eq(json_array_size(pols), 3);
    cr_assert_str_eq(json_string_value(json_array_get(pols, 0)),
                     "test-a/allow-external");
    cr_assert_str_eq(json_string_value(json_array_get(pols, 2)),
                     "test-a/default-deny-ingress");
    cr_assert_eq(json_array_size(json_object_get(in, "allowedBy")), 0);
    cr_assert(json_string_length(json_object_get(in, "reason")) > 0);
    cr_assert_eq(json_array_size(trace), 3);
    cr_assert_str_eq(str_at(json_array_get(trace, 1), "policy", NULL),
                     "test-a/allow-from-test-client");
    rule =
        json_array_get(json_object_get(json_array_get(trace, 1), "rules"), 0);
    cr_assert_str_eq(str_at(rule, "path", NULL), "spec.ingress[0]");
    cr_assert(json_is_false(json_object_get(rule, "matched")));
    peer = json_array_get(json_object_get(rule, "peers"), 0);
    cr_assert_str_eq(str_at(peer, "path", NULL), "spec.ingress[0].from[0]");
    cr_assert(json_is_false(json_object_get(peer, "matched")));
    cr_assert(json_string_length(json_object_get(peer, "reason")) > 0);
    cr_assert_str_eq(
        str_at(json_array_get(json_object_get(rule, "ports"), 0), "path", NULL),
        "spec.ingress[0].ports[0]");
    json_decref(r.json);
}

Test(reach, allowed_answer_names_the_rule_that_allowed, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r =
        post("/reachability",
             "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"http\"}");
    json_t *in = json_object_get(r.json, "ingress");
    json_t *by = json_array_get(json_object_get(in, "allowedBy"), 0);

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert(json_is_true(json_object_get(r.json, "allowed")));
    cr_assert_eq(json_integer_value(json_object_get(r.json, "port")), 80);
    cr_assert_str_eq(str_at(r.json, "portName", NULL), "http");
    cr_assert_str_eq(str_at(in, "decision", NULL), "allowed_by_rule");
    cr_assert_eq(json_array_size(json_object_get(in, "allowedBy")), 1, "%s",
                 r.text);
    cr_assert_str_eq(str_at(by, "policy", NULL),
                     "test-a/allow-from-test-client");
    cr_assert_eq(json_integer_value(json_object_get(by, "rule")), 0);
    cr_assert_str_eq(str_at(by, "rulePath", NULL), "spec.ingress[0]");
    cr_assert_eq(json_integer_value(json_object_get(by, "peer")), 0);
    cr_assert_str_eq(str_at(by, "peerPath", NULL), "spec.ingress[0].from[0]");
    cr_assert_eq(json_integer_value(json_object_get(by, "port")), 0);
    cr_assert_str_eq(str_at(by, "portPath", NULL), "spec.ingress[0].ports[0]");
    cr_assert_str_eq(str_at(r.json, "reason", NULL),
                     "allowed: egress of test-b/client-pod is not isolated; "
                     "ingress of test-a/server-pod is allowed by "
                     "test-a/allow-from-test-client spec.ingress[0]");
    json_decref(r.json);
}

Test(reach, outside_address_is_echoed_as_external, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r =
        post("/reachability", "{\"from\":{\"ip\":\"2001:db8::1\"},"
                              "\"to\":" SERVER ",\"port\":80}");
    json_t *eg = json_object_get(r.json, "egress");

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(str_at(r.json, "from", "ip"), "2001:db8::1");
    cr_assert(json_is_true(
        json_object_get(json_object_get(r.json, "from"), "external")));
    cr_assert_null(json_object_get(json_object_get(r.json, "from"), "pod"));
    cr_assert(json_is_null(json_object_get(eg, "pod")));
    cr_assert_str_eq(str_at(eg, "decision", NULL), "external");
    cr_assert_str_eq(
        str_at(json_object_get(r.json, "ingress"), "decision", NULL),
        "allowed_by_rule");
    json_decref(r.json);
}

Test(reach, pod_address_is_that_pod, .init = setup, .fini = teardown)
{
    struct tdisp_reply r =
        post("/reachability", "{\"from\":{\"ip\":\"fd00::20\"},"
                              "\"to\":" SERVER ",\"port\":80}");

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(str_at(r.json, "from", "namespace"), "test-b");
    cr_assert_str_eq(str_at(r.json, "from", "pod"), "client-pod");
    cr_assert_str_eq(str_at(r.json, "from", "ip"), "fd00::20");
    cr_assert_null(
        json_object_get(json_object_get(r.json, "from"), "external"));
    json_decref(r.json);
}

Test(reach, host_network_pod_is_marked, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = post(
        "/reachability", "{\"from\":" HOST ",\"to\":" SERVER ",\"port\":80}");

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert(json_is_true(
        json_object_get(json_object_get(r.json, "from"), "hostNetwork")));
    cr_assert_str_eq(str_at(r.json, "from", "ip"), "192.168.0.5");
    cr_assert_str_eq(
        str_at(json_object_get(r.json, "egress"), "decision", NULL),
        "host_network");
    json_decref(r.json);
}

Test(reach, pod_reaching_itself_is_allowed_and_marked_self, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r =
        post("/reachability",
             "{\"from\":" SERVER ",\"to\":" SERVER ",\"port\":9999}");

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert(json_is_true(json_object_get(r.json, "allowed")));
    cr_assert(json_is_true(json_object_get(r.json, "self")));
    cr_assert_eq(json_array_size(json_object_get(
                     json_object_get(r.json, "ingress"), "policies")),
                 3);
    json_decref(r.json);
}

/* The GET form: query arguments and the POST body that must answer the
 * same. */
struct get_case {
    char from[32];
    char to[32];
    char port[8];
    char protocol[8];
    char body[192];
};

ParameterizedTestParameters(reach, get_form_equals_post_form)
{
    static struct get_case cases[] = {
        { "test-b/client-pod", "test-a/server-pod", "80", "",
          "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80}" },
        { "test-b/other-pod", "test-a/server-pod", "80", "TCP",
          "{\"from\":" OTHER ",\"to\":" SERVER ",\"port\":80,\"protocol\":"
          "\"TCP\"}" },
        { "test-b/client-pod", "test-a/server-pod", "http", "",
          "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"http\"}" },
        { "test-b/client-pod", "test-a/server-pod", "dns", "UDP",
          "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":\"dns\","
          "\"protocol\":\"UDP\"}" },
        { "fd00::20", "test-a/server-pod", "80", "",
          "{\"from\":{\"ip\":\"fd00::20\"},\"to\":" SERVER ",\"port\":80}" },
        { "203.0.113.9", "10.1.1.10", "80", "",
          "{\"from\":{\"ip\":\"203.0.113.9\"},\"to\":{\"ip\":\"10.1.1.10\"},"
          "\"port\":80}" },
        { "test-b/client-pod", "test-a/nope", "80", "",
          "{\"from\":" CLIENT ",\"to\":{\"namespace\":\"test-a\",\"pod\":"
          "\"nope\"},\"port\":80}" },
        { "test-b/client-pod", "test-a/server-pod", "0", "",
          "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":0}" },
        { "test-b/client-pod", "test-a/server-pod", "80", "sctp",
          "{\"from\":" CLIENT ",\"to\":" SERVER ",\"port\":80,\"protocol\":"
          "\"sctp\"}" },
    };

    return cr_make_param_array(struct get_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct get_case *c, reach, get_form_equals_post_form,
                  .init = setup, .fini = teardown)
{
    struct api_kv q[4] = {
        { "from", c->from },
        { "to", c->to },
        { "port", c->port },
        { "protocol", c->protocol },
    };
    struct tdisp_reply g =
        dispatch("GET", "/reachability", q, c->protocol[0] ? 4 : 3, NULL, NULL);
    struct tdisp_reply p = post("/reachability", c->body);

    cr_assert_eq(g.status, p.status, "GET %s, POST %s", g.text, p.text);
    cr_assert(json_equal(g.json, p.json), "GET %s\nPOST %s", g.text, p.text);
    json_decref(g.json);
    json_decref(p.json);
}

struct get_error_case {
    char from[32];
    char to[32];
    char port[8];
    int status;
    char code[32];
    char path[16];
};

ParameterizedTestParameters(reach, get_form_errors)
{
    static struct get_error_case cases[] = {
        { "", "test-a/server-pod", "80", 400, "missing_field", "from" },
        { "client-pod", "test-a/server-pod", "80", 400, "invalid_value",
          "from" },
        { "test-b/client-pod/x", "test-a/server-pod", "80", 400,
          "invalid_value", "from" },
        { "test-b/client-pod", "/server-pod", "80", 400, "invalid_value",
          "to" },
        { "test-b/client-pod", "test-a/server-pod", "", 400, "missing_field",
          "port" },
        { "test-b/client-pod", "test-a/server-pod", "8o", 400, "invalid_port",
          "port" },
        { "test-b/client-pod", "203.0.113.1", "http", 400, "invalid_port",
          "port" },
    };

    return cr_make_param_array(struct get_error_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct get_error_case *c, reach, get_form_errors,
                  .init = setup, .fini = teardown)
{
    struct api_kv q[3];
    size_t n = 0;
    struct tdisp_reply r;
    json_t *e;

    if (c->from[0] != '\0')
        q[n++] = (struct api_kv){ "from", c->from };
    q[n++] = (struct api_kv){ "to", c->to };
    if (c->port[0] != '\0')
        q[n++] = (struct api_kv){ "port", c->port };
    r = dispatch("GET", "/reachability", q, n, NULL, NULL);
    e = json_object_get(r.json, "error");
    cr_assert_eq(r.status, c->status, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")), c->code,
                     "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(e, "path")), c->path,
                     "%s", r.text);
    json_decref(r.json);
}

/* Builds {"queries": [every reach case], "trace": ...}. */
static char *
batch_body(const char *trace)
{
    json_t *queries = json_array();
    json_t *doc;
    char *text;
    size_t i;

    for (i = 0; i < NREACH; i++)
        json_array_append_new(queries,
                              json_loads(reach_cases[i].body, 0, NULL));
    doc = json_pack("{s:o}", "queries", queries);
    if (trace != NULL)
        json_object_set_new(doc, "trace",
                            json_loads(trace, JSON_DECODE_ANY, NULL));
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

Test(reach, batch_answers_equal_single_answers, .init = setup, .fini = teardown)
{
    char *body = batch_body(NULL);
    struct tdisp_reply b = post("/reachability/batch", body);
    json_t *results = json_object_get(b.json, "results");
    size_t i;

    cr_assert_eq(b.status, 200, "%s", b.text);
    cr_assert_eq(json_integer_value(json_object_get(b.json, "revision")), 1);
    cr_assert_eq(json_array_size(results), NREACH);
    for (i = 0; i < NREACH; i++) {
        struct tdisp_reply s = post("/reachability", reach_cases[i].body);

        cr_assert(json_equal(json_array_get(results, i), s.json),
                  "query %zu: %s\nbatch and single answers differ: %s", i,
                  reach_cases[i].body, s.text);
        json_decref(s.json);
    }
    json_decref(b.json);
    free(body);
}

Test(reach, batch_without_trace_answers_verdicts_only, .init = setup,
     .fini = teardown)
{
    char *body = batch_body("false");
    struct tdisp_reply b = post("/reachability/batch", body);
    json_t *results = json_object_get(b.json, "results");
    size_t i;

    cr_assert_eq(b.status, 200, "%s", b.text);
    cr_assert_eq(json_array_size(results), NREACH);
    for (i = 0; i < NREACH; i++) {
        json_t *one = json_array_get(results, i);

        if (reach_cases[i].allowed < 0) {
            cr_assert_str_eq(
                str_at(json_object_get(one, "error"), "code", NULL),
                reach_cases[i].code);
            continue;
        }
        cr_assert_eq(json_object_size(one), 2, "query %zu", i);
        cr_assert_eq(json_is_true(json_object_get(one, "allowed")),
                     reach_cases[i].allowed == 1, "query %zu", i);
        cr_assert_eq(json_integer_value(json_object_get(one, "revision")), 1);
    }
    json_decref(b.json);
    free(body);
}

struct batch_error_case {
    char body[96];
    char code[32];
    char path[16];
};

ParameterizedTestParameters(reach, batch_envelope_errors)
{
    static struct batch_error_case cases[] = {
        { "{\"queries\":[],\"color\":1}", "unknown_field", "color" },
        { "{\"queries\":{}}", "invalid_type", "queries" },
        { "{\"trace\":true}", "missing_field", "queries" },
        { "{\"queries\":[],\"trace\":\"no\"}", "invalid_type", "trace" },
        { "{\"queries\":[{},{},{}]}", "limit_exceeded", "queries" },
    };

    return cr_make_param_array(struct batch_error_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct batch_error_case *c, reach, batch_envelope_errors,
                  .init = setup, .fini = teardown)
{
    struct tdisp_reply r;
    json_t *e;

    ctx.cfg.limits.max_batch = 2;
    r = post("/reachability/batch", c->body);
    e = json_object_get(r.json, "error");
    cr_assert_eq(r.status, 400, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")), c->code,
                     "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(e, "path")), c->path);
    json_decref(r.json);
}

Test(reach, batch_item_that_is_not_an_object_fails_alone, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r =
        post("/reachability/batch", "{\"queries\":[7,{\"from\":" CLIENT
                                    ",\"to\":" SERVER ",\"port\":80}]}");
    json_t *results = json_object_get(r.json, "results");

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(
        str_at(json_object_get(json_array_get(results, 0), "error"), "code",
               NULL),
        "invalid_type");
    cr_assert(
        json_is_true(json_object_get(json_array_get(results, 1), "allowed")));
    json_decref(r.json);
}

Test(reach, answers_follow_the_state_revision, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = dispatch("DELETE",
                                    "/namespaces/test-a/networkpolicies/"
                                    "default-deny-ingress",
                                    NULL, 0, NULL, NULL);

    cr_assert_eq(r.status, 200, "%s", r.text);
    json_decref(r.json);
    r = post("/reachability",
             "{\"from\":" OTHER ",\"to\":" SERVER ",\"port\":80}");
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 2);
    cr_assert_eq(json_array_size(json_object_get(
                     json_object_get(r.json, "ingress"), "policies")),
                 2);
    json_decref(r.json);
}

/* "trace": false on a single query answers like a batch item without its
 * trace, in the POST and the GET form; the verdicts are the traced ones. */
Test(reach, single_query_without_trace_answers_the_verdict_only, .init = setup,
     .fini = teardown)
{
    size_t i;

    for (i = 0; i < NREACH; i++) {
        json_t *q = json_loads(reach_cases[i].body, 0, NULL);
        struct tdisp_reply full, bare;
        char *text;

        cr_assert_not_null(q);
        full = post("/reachability", reach_cases[i].body);
        json_object_set_new(q, "trace", json_false());
        text = json_dumps(q, JSON_COMPACT);
        bare = post("/reachability", text);
        cr_assert_eq(bare.status, full.status, "query %zu: %s", i, bare.text);
        if (full.status == 200) {
            cr_assert_eq(json_object_size(bare.json), 2, "%s", bare.text);
            cr_assert(json_equal(json_object_get(bare.json, "allowed"),
                                 json_object_get(full.json, "allowed")),
                      "query %zu", i);
        }
        json_decref(full.json);
        json_decref(bare.json);
        json_decref(q);
        free(text);
    }
}

Test(reach, trace_must_be_a_boolean, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = post(
        "/reachability", "{\"from\":{\"namespace\":\"test-b\",\"pod\":"
                         "\"client-pod\"},\"to\":{\"namespace\":\"test-a\","
                         "\"pod\":\"server-pod\"},\"port\":80,\"trace\":1}");

    cr_assert_eq(r.status, 400, "%s", r.text);
    cr_assert_str_eq(str_at(json_object_get(r.json, "error"), "path", NULL),
                     "trace");
    json_decref(r.json);
}

Test(reach, get_form_takes_trace_false, .init = setup, .fini = teardown)
{
    const struct api_kv args[] = {
        { .key = "from", .value = "test-b/client-pod" },
        { .key = "to", .value = "test-a/server-pod" },
        { .key = "port", .value = "80" },
        { .key = "trace", .value = "false" },
    };
    const struct api_kv bad[] = {
        { .key = "from", .value = "test-b/client-pod" },
        { .key = "to", .value = "test-a/server-pod" },
        { .key = "port", .value = "80" },
        { .key = "trace", .value = "no" },
    };
    struct tdisp_reply r =
        dispatch("GET", "/reachability", args, 4, NULL, NULL);

    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(json_object_size(r.json), 2, "%s", r.text);
    json_decref(r.json);
    r = dispatch("GET", "/reachability", bad, 4, NULL, NULL);
    cr_assert_eq(r.status, 400, "%s", r.text);
    json_decref(r.json);
}
