/*
 * Reachability queries against the real binary: verdicts for pairs whose
 * answer follows from the NetworkPolicy rules (ports by number and by name,
 * UDP and SCTP, pods named by IP, addresses outside the cluster), the
 * errors a client can cause (unknown pods, bad ports and protocols, unknown
 * fields and arguments) with the field they name, and batches: a batch of
 * 10,000 queries over a generated cluster must answer every query exactly
 * as the single query does, item errors stay in their item, and trace:false
 * answers only the verdict and the revision.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/assert_json.h"
#include "tests/support/http.h"
#include "tests/support/keepalive.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

TestSuite(queries, .init = tsuite_start, .fini = tsuite_assert_exit_0);
TestSuite(batch, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/*
 * a/web serves http 80/TCP, dns 53/UDP and sig 9999/SCTP; its ingress
 * admits app=client pods of team=bteam namespaces on those three, and
 * 192.0.2.0/24 except 192.0.2.128/25 on 80. a/db admits app=web pods of
 * its own namespace on 5432. b/client may send only to team=ateam namespaces
 * on 80/TCP, 53/UDP, 9999/SCTP and 5432/TCP. b/other is not isolated.
 */
static const char small_cluster[] =
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: a, labels: {team: ateam}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: b, labels: {team: bteam}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: web, namespace: a, labels: {app: web}}\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    ports:\n"
    "    - {name: http, containerPort: 80}\n"
    "    - {name: dns, containerPort: 53, protocol: UDP}\n"
    "    - {name: sig, containerPort: 9999, protocol: SCTP}\n"
    "status:\n"
    "  podIP: 10.2.0.10\n"
    "  podIPs: [{ip: 10.2.0.10}, {ip: 'fd00::10'}]\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: db, namespace: a, labels: {app: db}}\n"
    "spec:\n"
    "  containers:\n"
    "  - name: db\n"
    "    ports: [{name: pg, containerPort: 5432}]\n"
    "status: {podIP: 10.2.0.11}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: client, namespace: b, labels: {app: client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.2.1.10}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: other, namespace: b, labels: {app: other}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.2.1.11}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: web-ingress, namespace: a}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: web}}\n"
    "  ingress:\n"
    "  - from:\n"
    "    - namespaceSelector: {matchLabels: {team: bteam}}\n"
    "      podSelector: {matchLabels: {app: client}}\n"
    "    ports:\n"
    "    - {port: 80}\n"
    "    - {port: dns, protocol: UDP}\n"
    "    - {port: 9999, protocol: SCTP}\n"
    "  - from:\n"
    "    - ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}\n"
    "    ports: [{port: 80}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: db-ingress, namespace: a}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: db}}\n"
    "  ingress:\n"
    "  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
    "    ports: [{port: 5432}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: client-egress, namespace: b}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: client}}\n"
    "  policyTypes: [Egress]\n"
    "  egress:\n"
    "  - to: [{namespaceSelector: {matchLabels: {team: ateam}}}]\n"
    "    ports:\n"
    "    - {port: 80, protocol: TCP}\n"
    "    - {port: 53, protocol: UDP}\n"
    "    - {port: 9999, protocol: SCTP}\n"
    "    - {port: 5432}\n";

/* Sends body (JSON text) to path by method and fills r. */
static void
send_json(const char *method, const char *path, const char *body,
          struct thttp_resp *r)
{
    cr_assert_eq(thttp_request(tsuite_srv.base, method, path,
                               "application/json", body, strlen(body), r),
                 0, "%s %s: no answer", method, path);
}

/* The same for a json_t body (borrowed). */
static void
send_doc(const char *method, const char *path, const json_t *doc,
         struct thttp_resp *r)
{
    char *body = json_dumps(doc, JSON_COMPACT);

    cr_assert_not_null(body);
    send_json(method, path, body, r);
    free(body);
}

/* PUT /state with YAML text; returns the revision. */
static long
put_state(const char *yaml, size_t len)
{
    struct thttp_resp r;
    long rev;

    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", yaml, len, &r),
                 0);
    cr_assert_eq(r.status, 200, "PUT /state: %ld %.1000s", r.status, r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    return rev;
}

/* One row of a verdict table: the query as JSON text and the verdict the
 * Kubernetes rules give. */
struct verdict_row {
    char query[200];
    bool allowed;
    char note[80];
};

ParameterizedTestParameters(queries, verdict_follows_the_policies)
{
    static struct verdict_row rows[] = {
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          true, "both sides allow 80/TCP" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"other\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          false, "other is not app=client" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":81}",
          false, "no rule lists 81" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"http\"}",
          true, "http is 80/TCP on web" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":53,"
          "\"protocol\":\"UDP\"}",
          true, "53/UDP is the named port dns" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":53}",
          false, "53/TCP is not 53/UDP" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"dns\"}",
          true, "dns resolves to 53/UDP" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":9999,"
          "\"protocol\":\"SCTP\"}",
          true, "9999/SCTP listed on both sides" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":9999}",
          false, "9999/TCP is not 9999/SCTP" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"db\"},\"port\":5432}",
          false, "db admits only app=web" },
        { "{\"from\":{\"namespace\":\"a\",\"pod\":\"web\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"db\"},\"port\":5432}",
          true, "web may reach db on 5432" },
        { "{\"from\":{\"namespace\":\"a\",\"pod\":\"web\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"db\"},\"port\":\"pg\"}",
          true, "pg is 5432/TCP on db" },
        { "{\"from\":{\"namespace\":\"a\",\"pod\":\"web\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"db\"},\"port\":5433}",
          false, "db admits only 5432" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"b\",\"pod\":\"other\"},\"port\":80}",
          false, "client's egress allows only team=ateam" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"other\"},"
          "\"to\":{\"namespace\":\"b\",\"pod\":\"client\"},\"port\":80}",
          true, "neither side isolated in that direction" },
        { "{\"from\":{\"ip\":\"192.0.2.10\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          true, "inside the ipBlock" },
        { "{\"from\":{\"ip\":\"192.0.2.200\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          false, "inside the ipBlock's except" },
        { "{\"from\":{\"ip\":\"192.0.2.10\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":53,"
          "\"protocol\":\"UDP\"}",
          false, "the ipBlock rule lists only 80" },
        { "{\"from\":{\"ip\":\"10.2.1.10\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          true, "client's IP means client" },
        { "{\"from\":{\"ip\":\"10.2.1.11\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          false, "other's IP means other" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"ip\":\"10.2.0.10\"},\"port\":80}",
          true, "web's IP means web" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"ip\":\"fd00::10\"},\"port\":80}",
          true, "web's IPv6 address means web" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"ip\":\"8.8.8.8\"},\"port\":80}",
          false, "client's egress allows no outside address" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"other\"},"
          "\"to\":{\"ip\":\"8.8.8.8\"},\"port\":80}",
          true, "other is not isolated for egress" },
        { "{\"from\":{\"namespace\":\"a\",\"pod\":\"web\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":12345}",
          true, "a pod always reaches itself" },
    };

    return cr_make_param_array(struct verdict_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct verdict_row *row, queries,
                  verdict_follows_the_policies)
{
    struct thttp_resp r;
    json_t *allowed;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    send_json("POST", "/reachability", row->query, &r);
    cr_assert_eq(r.status, 200, "%s: %ld %s", row->query, r.status, r.body);
    allowed = json_object_get(r.json, "allowed");
    cr_assert(json_is_boolean(allowed), "%s", r.body);
    cr_expect_eq(json_is_true(allowed), row->allowed,
                 "%s (%s): allowed is %s; reason: %s", row->query, row->note,
                 json_is_true(allowed) ? "true" : "false",
                 json_string_value(json_object_get(r.json, "reason")));
    thttp_resp_fini(&r);
}

Test(queries, port_name_answers_with_the_resolved_port_and_protocol)
{
    struct thttp_resp r;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    send_json("POST", "/reachability",
              "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"dns\"}",
              &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "port")), 53);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "protocol")),
                     "UDP");
    thttp_resp_fini(&r);
}

Test(queries, pod_ip_endpoint_answers_as_that_pod)
{
    struct thttp_resp by_ip;
    struct thttp_resp by_name;
    json_t *from;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    send_json("POST", "/reachability",
              "{\"from\":{\"ip\":\"10.2.1.10\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
              &by_ip);
    cr_assert_eq(by_ip.status, 200, "%s", by_ip.body);
    from = json_object_get(by_ip.json, "from");
    cr_expect_str_eq(json_string_value(json_object_get(from, "namespace")),
                     "b");
    cr_expect_str_eq(json_string_value(json_object_get(from, "pod")), "client");
    send_json("POST", "/reachability",
              "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
              &by_name);
    cr_assert_eq(by_name.status, 200, "%s", by_name.body);
    /* The same pod answers the same: the sides and their traces agree. */
    cr_expect(json_equal(json_object_get(by_ip.json, "egress"),
                         json_object_get(by_name.json, "egress")),
              "egress by IP %s\nby name %s", by_ip.body, by_name.body);
    cr_expect(json_equal(json_object_get(by_ip.json, "ingress"),
                         json_object_get(by_name.json, "ingress")),
              "ingress by IP %s\nby name %s", by_ip.body, by_name.body);
    thttp_resp_fini(&by_ip);
    thttp_resp_fini(&by_name);
}

Test(queries, outside_ip_endpoint_is_external_and_not_isolated)
{
    struct thttp_resp r;
    json_t *from;
    json_t *egress;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    send_json("POST", "/reachability",
              "{\"from\":{\"ip\":\"192.0.2.10\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
              &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    from = json_object_get(r.json, "from");
    cr_expect_null(json_object_get(from, "pod"), "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(from, "ip")),
                     "192.0.2.10");
    /* No policy selects an address outside the cluster. */
    egress = json_object_get(r.json, "egress");
    cr_expect(json_is_true(json_object_get(egress, "allowed")), "%s", r.body);
    cr_expect(json_is_false(json_object_get(egress, "isolated")), "%s", r.body);
    cr_expect_eq(json_array_size(json_object_get(egress, "policies")), 0);
    thttp_resp_fini(&r);
}

/* A query that fails, with the status, code and field path it must name. */
struct error_row {
    char query[200];
    long status;
    char code[24];
    char path[24];
};

ParameterizedTestParameters(queries, bad_query_names_the_field)
{
    static struct error_row rows[] = {
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"nope\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          404, "unknown_pod", "" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"nope\",\"pod\":\"web\"},\"port\":80}",
          404, "unknown_pod", "" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":0}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":65536}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"\"}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":true}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":-1}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"}}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"nope\"}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"ip\":\"8.8.8.8\"},\"port\":\"http\"}",
          400, "", "port" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80,"
          "\"protocol\":\"tcp\"}",
          400, "", "protocol" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80,"
          "\"protocol\":\"ICMP\"}",
          400, "", "protocol" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80,"
          "\"protocol\":6}",
          400, "", "protocol" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80,"
          "\"extra\":1}",
          400, "unknown_field", "extra" },
        { "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\",\"x\":1},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          400, "unknown_field", "from.x" },
        { "{\"from\":{\"ip\":\"10.0.0.300\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          400, "", "from.ip" },
        { "{\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}", 400, "",
          "from" },
        { "{\"from\":\"b/client\","
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}",
          400, "", "from" },
    };

    return cr_make_param_array(struct error_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct error_row *row, queries, bad_query_names_the_field)
{
    struct thttp_resp r;
    json_t *error;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    send_json("POST", "/reachability", row->query, &r);
    cr_assert_eq(r.status, row->status, "%s: status %ld, want %ld: %s",
                 row->query, r.status, row->status, r.body);
    cr_assert_not_null(r.json, "%s", r.body);
    error = json_object_get(r.json, "error");
    cr_assert(json_string_length(json_object_get(error, "code")) > 0, "%s",
              r.body);
    cr_assert(json_string_length(json_object_get(error, "message")) > 0, "%s",
              r.body);
    if (row->code[0] != '\0')
        cr_expect_str_eq(json_string_value(json_object_get(error, "code")),
                         row->code, "%s: %s", row->query, r.body);
    if (row->path[0] != '\0') {
        const char *p = json_string_value(json_object_get(error, "path"));

        cr_expect(p != NULL && strcmp(p, row->path) == 0,
                  "%s: error.path %s, want %s", row->query,
                  p != NULL ? p : "(none)", row->path);
    }
    thttp_resp_fini(&r);
}

Test(queries, get_with_an_unknown_argument_names_it)
{
    struct thttp_resp r;
    const char *message;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    cr_assert_eq(thttp_get(tsuite_srv.base,
                           "/reachability?from=b/client&to=a/web&port=80"
                           "&verbose=1",
                           &r),
                 0);
    tassert_json_error(&r, 400, "unknown_field", "verbose");
    message = json_string_value(
        json_object_get(json_object_get(r.json, "error"), "message"));
    cr_expect(strstr(message, "verbose") != NULL, "message: %s", message);
    thttp_resp_fini(&r);
}

Test(queries, get_answers_like_post_for_pods_ips_and_names)
{
    static const char *const pairs[][2] = {
        { "/reachability?from=b/client&to=a/web&port=http",
          "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":\"http\"}" },
        { "/reachability?from=192.0.2.200&to=a/web&port=80",
          "{\"from\":{\"ip\":\"192.0.2.200\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}" },
        { "/reachability?from=b/client&to=a/web&port=53&protocol=UDP",
          "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
          "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":53,"
          "\"protocol\":\"UDP\"}" },
    };
    size_t i;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct thttp_resp get;
        struct thttp_resp post;

        cr_assert_eq(thttp_get(tsuite_srv.base, pairs[i][0], &get), 0);
        send_json("POST", "/reachability", pairs[i][1], &post);
        cr_assert_eq(get.status, 200, "%s: %s", pairs[i][0], get.body);
        cr_assert_eq(post.status, 200, "%s: %s", pairs[i][1], post.body);
        cr_expect(json_equal(get.json, post.json), "GET %s\n%s\nPOST\n%s",
                  pairs[i][0], get.body, post.body);
        thttp_resp_fini(&get);
        thttp_resp_fini(&post);
    }
}

Test(batch, trace_false_answers_only_allowed_and_revision)
{
    struct thttp_resp r;
    json_t *results;
    json_t *item;
    size_t i;
    long rev = put_state(small_cluster, sizeof(small_cluster) - 1);

    send_json("POST", "/reachability/batch",
              "{\"trace\":false,\"queries\":["
              "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80},"
              "{\"from\":{\"namespace\":\"b\",\"pod\":\"other\"},"
              "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}]}",
              &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    results = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(results), 2, "%s", r.body);
    json_array_foreach(results, i, item)
    {
        cr_expect_eq(json_object_size(item), 2, "item %zu: %s", i, r.body);
        cr_expect(json_is_boolean(json_object_get(item, "allowed")),
                  "item %zu: %s", i, r.body);
        cr_expect_eq(json_integer_value(json_object_get(item, "revision")), rev,
                     "item %zu: %s", i, r.body);
    }
    cr_expect(
        json_is_true(json_object_get(json_array_get(results, 0), "allowed")));
    cr_expect(
        json_is_false(json_object_get(json_array_get(results, 1), "allowed")));
    thttp_resp_fini(&r);
}

Test(batch, item_error_stays_in_its_item)
{
    static const char good[] =
        "{\"from\":{\"namespace\":\"b\",\"pod\":\"client\"},"
        "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}";
    static const char bad[] =
        "{\"from\":{\"namespace\":\"b\",\"pod\":\"nope\"},"
        "\"to\":{\"namespace\":\"a\",\"pod\":\"web\"},\"port\":80}";
    char body[1024];
    struct thttp_resp r;
    struct thttp_resp single;
    json_t *results;
    json_t *item;

    put_state(small_cluster, sizeof(small_cluster) - 1);
    snprintf(body, sizeof(body), "{\"queries\":[%s,%s,{\"port\":0},%s]}", good,
             bad, good);
    send_json("POST", "/reachability/batch", body, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    results = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(results), 4, "%s", r.body);
    item = json_array_get(results, 1);
    cr_expect_eq(json_object_size(item), 1, "item 1: %s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_object_get(item, "error"), "code")),
                     "unknown_pod");
    /* The item's error is the body the single query answers with. */
    send_json("POST", "/reachability", bad, &single);
    cr_expect_eq(single.status, 404);
    cr_expect(json_equal(item, single.json), "batch item %s\nsingle %s",
              json_dumps(item, JSON_COMPACT), single.body);
    thttp_resp_fini(&single);
    item = json_array_get(results, 2);
    cr_expect_eq(json_object_size(item), 1, "item 2: %s", r.body);
    cr_expect(json_string_length(
                  json_object_get(json_object_get(item, "error"), "code")) > 0,
              "%s", r.body);
    cr_expect(
        json_is_true(json_object_get(json_array_get(results, 0), "allowed")),
        "%s", r.body);
    cr_expect(
        json_equal(json_array_get(results, 0), json_array_get(results, 3)),
        "the same query answered twice differs: %s", r.body);
    thttp_resp_fini(&r);
}

Test(batch, bad_envelope_fails_the_whole_batch)
{
    static const char *const bodies[] = {
        "{}",
        "{\"queries\":{}}",
        "{\"queries\":[],\"trace\":\"no\"}",
        "{\"queries\":[],\"extra\":1}",
        "[]",
    };
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct thttp_resp r;

        send_json("POST", "/reachability/batch", bodies[i], &r);
        cr_expect_eq(r.status, 400, "%s: %ld %s", bodies[i], r.status, r.body);
        cr_expect(json_is_object(json_object_get(r.json, "error")), "%s: %s",
                  bodies[i], r.body);
        thttp_resp_fini(&r);
    }
}

/* --- a generated cluster and 10,000 queries over it --- */

#define NNS         4
#define PODS_PER_NS 8
#define NQUERIES    10000

static const char *const ns_names[NNS] = { "prod", "stage", "dev", "tools" };
static const char *const ns_env[NNS] = { "prod", "stage", "dev", "ops" };
static const char *const apps[PODS_PER_NS] = { "web", "web", "web", "api",
                                               "api", "db",  "db",  "cache" };

/* A fixed LCG: the same cluster and queries on every run. */
static unsigned long
next_rand(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return (*state >> 33);
}

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0);
        if ((size_t)n < *cap - *len)
            break;
        *cap = *cap * 2 + (size_t)n;
        *buf = realloc(*buf, *cap);
        cr_assert_not_null(*buf);
    }
    *len += (size_t)n;
}

/* 32 pods in 4 namespaces (one left undeclared, so implicit) and policies
 * that use every kind of rule: default deny in both directions, pod and
 * namespace selectors with matchExpressions, named ports, port ranges,
 * UDP and SCTP, ipBlocks with except. */
static char *
generated_cluster(size_t *len)
{
    size_t cap = 4096;
    char *y = malloc(cap);
    int n, p;

    *len = 0;
    y[0] = '\0';
    for (n = 0; n < NNS - 1; n++)
        appendf(&y, len, &cap,
                "apiVersion: v1\nkind: Namespace\n"
                "metadata: {name: %s, labels: {env: %s, idx: \"%d\"}}\n---\n",
                ns_names[n], ns_env[n], n);
    for (n = 0; n < NNS; n++) {
        for (p = 0; p < PODS_PER_NS; p++) {
            const char *app = apps[p];

            appendf(&y, len, &cap,
                    "apiVersion: v1\nkind: Pod\n"
                    "metadata:\n  name: %s-%d\n  namespace: %s\n"
                    "  labels: {app: %s, tier: %s, shard: \"%d\"}\n"
                    "spec:\n  containers:\n  - name: main\n    ports:\n",
                    app, p, ns_names[n], app,
                    strcmp(app, "web") == 0   ? "fe"
                    : strcmp(app, "db") == 0  ? "db"
                    : strcmp(app, "api") == 0 ? "be"
                                              : "cache",
                    p % 3);
            if (strcmp(app, "web") == 0)
                appendf(&y, len, &cap,
                        "    - {name: http, containerPort: 80}\n"
                        "    - {name: metrics, containerPort: 9090}\n");
            else if (strcmp(app, "api") == 0)
                appendf(&y, len, &cap,
                        "    - {name: http, containerPort: 8080}\n"
                        "    - {name: grpc, containerPort: 9000}\n");
            else if (strcmp(app, "db") == 0)
                appendf(&y, len, &cap,
                        "    - {name: pg, containerPort: 5432}\n"
                        "    - {name: dns, containerPort: 53, protocol: "
                        "UDP}\n");
            else
                appendf(&y, len, &cap,
                        "    - {name: sig, containerPort: 7777, protocol: "
                        "SCTP}\n"
                        "    - {name: http, containerPort: 6379}\n");
            appendf(&y, len, &cap, "status: {podIP: 10.9.%d.%d}\n---\n", n,
                    10 + p);
        }
    }
    appendf(
        &y, len, &cap,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: default-deny, namespace: prod}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: web-from-anywhere, namespace: prod}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n"
        "  ingress:\n  - from: [{namespaceSelector: {}}]\n"
        "    ports: [{port: 80}, {port: metrics}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: api-from-web, namespace: prod}\n"
        "spec:\n  podSelector: {matchLabels: {app: api}}\n"
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
        "    ports: [{port: http}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-from-api, namespace: prod}\n"
        "spec:\n  podSelector: {matchLabels: {tier: db}}\n"
        "  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: api}}\n"
        "      namespaceSelector:\n        matchExpressions:\n"
        "        - {key: env, operator: In, values: [prod, stage]}\n"
        "    ports: [{port: 5432}, {port: 53, protocol: UDP}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: egress-internal, namespace: prod}\n"
        "spec:\n  podSelector: {}\n  egress:\n"
        "  - to: [{namespaceSelector: {matchLabels: {env: prod}}}]\n"
        "  - to:\n    - ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}\n"
        "    ports: [{port: 443}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: be-range-from-cidr, namespace: stage}\n"
        "spec:\n  podSelector: {matchExpressions: [{key: tier, operator: In, "
        "values: [be, db]}]}\n"
        "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.9.0.0/16, except: "
        "[10.9.2.0/24]}\n"
        "    ports: [{port: 5000, endPort: 9000}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: sctp-signal, namespace: stage}\n"
        "spec:\n  podSelector: {matchLabels: {app: cache}}\n"
        "  ingress:\n  - ports: [{port: sig, protocol: SCTP}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: dns-only-egress, namespace: tools}\n"
        "spec:\n  podSelector: {matchExpressions: [{key: shard, operator: "
        "NotIn, values: [\"0\"]}]}\n"
        "  policyTypes: [Egress]\n"
        "  egress:\n  - ports: [{port: 53, protocol: UDP}, {port: 53, "
        "protocol: TCP}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: not-web-from-labelled-ns, namespace: tools}\n"
        "spec:\n  podSelector: {matchExpressions: [{key: app, operator: "
        "NotIn, values: [web]}]}\n"
        "  ingress:\n  - from:\n    - namespaceSelector: {matchExpressions: "
        "[{key: env, operator: Exists}]}\n"
        "      podSelector: {matchExpressions: [{key: tier, operator: "
        "DoesNotExist}]}\n"
        "    - namespaceSelector: {matchLabels: {env: dev}}\n"
        "  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]\n"
        "    ports: [{port: 1, endPort: 65535, protocol: UDP}]\n");
    return y;
}

/* The endpoint of a random query: a pod by name mostly, sometimes a pod by
 * IP or an address outside the cluster. */
static json_t *
random_endpoint(unsigned long *st, int *pod_ns, int *pod_idx)
{
    static const char *const outside[] = { "8.8.8.8", "198.51.100.7",
                                           "10.200.0.1", "192.168.1.1",
                                           "2001:db8::1" };
    unsigned long k = next_rand(st) % 10;
    char name[32];
    char ip[32];
    int n = (int)(next_rand(st) % NNS);
    int p = (int)(next_rand(st) % PODS_PER_NS);

    *pod_ns = -1;
    if (k == 0)
        return json_pack("{s:s}", "ip", outside[next_rand(st) % 5]);
    *pod_ns = n;
    *pod_idx = p;
    if (k == 1) {
        snprintf(ip, sizeof(ip), "10.9.%d.%d", n, 10 + p);
        return json_pack("{s:s}", "ip", ip);
    }
    snprintf(name, sizeof(name), "%s-%d", apps[p], p);
    return json_pack("{s:s,s:s}", "namespace", ns_names[n], "pod", name);
}

static json_t *
random_query(unsigned long *st)
{
    static const int ports[] = { 80,   8080, 9000, 5432, 53, 443,
                                 7777, 6000, 9090, 6379, 1,  65535 };
    static const char *const names[] = { "http", "metrics", "grpc", "pg",
                                         "dns",  "sig",     "nope" };
    static const char *const protos[] = { NULL, "TCP", "UDP", "SCTP" };
    int fns, fidx, tns, tidx;
    json_t *q = json_object();
    unsigned long k;

    json_object_set_new(q, "from", random_endpoint(st, &fns, &fidx));
    json_object_set_new(q, "to", random_endpoint(st, &tns, &tidx));
    k = next_rand(st) % 5;
    if (k == 0)
        json_object_set_new(q, "port", json_string(names[next_rand(st) % 7]));
    else
        json_object_set_new(q, "port", json_integer(ports[next_rand(st) % 12]));
    /* Mostly no protocol with names: a given one must match the port's. */
    k = next_rand(st) % 4;
    if (protos[k] != NULL)
        json_object_set_new(q, "protocol", json_string(protos[k]));
    return q;
}

/* POSTs body to /reachability on the keep-alive client and returns the
 * answer (owned) and its status. */
static json_t *
ka_post(struct tka_client *c, const char *body, long *status)
{
    char why[512];
    json_t *v = tka_send(c, "POST", "/reachability", "application/json", body,
                         strlen(body), status, why, sizeof(why));

    cr_assert_not_null(v, "%s", why);
    return v;
}

Test(batch, ten_thousand_queries_answer_like_single_queries, .timeout = 590)
{
    unsigned long st = 20261126;
    struct tka_client client;
    struct thttp_resp r;
    json_t *queries = json_array();
    json_t *batch;
    json_t *results;
    size_t len, i;
    size_t nallowed = 0, nerrors = 0, differ = 0;
    char *cluster = generated_cluster(&len);
    long rev = put_state(cluster, len);

    free(cluster);
    for (i = 0; i < NQUERIES; i++)
        json_array_append_new(queries, random_query(&st));
    batch = json_pack("{s:O}", "queries", queries);
    send_doc("POST", "/reachability/batch", batch, &r);
    json_decref(batch);
    cr_assert_eq(r.status, 200, "batch: %ld %.500s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    results = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(results), NQUERIES);

    /* Every single answer, whole, against its batch item: the verdicts,
     * the traces and the errors. */
    cr_assert_eq(tka_init(&client, tsuite_srv.base), 0,
                 "curl_easy_init failed");
    for (i = 0; i < NQUERIES; i++) {
        json_t *item = json_array_get(results, i);
        char *q = json_dumps(json_array_get(queries, i), JSON_COMPACT);
        long status;
        json_t *single = ka_post(&client, q, &status);

        if (json_object_get(item, "error") != NULL) {
            nerrors++;
            cr_expect(status >= 400 && status < 500,
                      "query %zu %s: the batch item is an error, the single "
                      "query answers %ld",
                      i, q, status);
        } else {
            cr_expect_eq(status, 200, "query %zu %s: single answers %ld", i, q,
                         status);
            if (json_is_true(json_object_get(item, "allowed")))
                nallowed++;
        }
        if (!json_equal(item, single)) {
            char *a = json_dumps(item, JSON_COMPACT);
            char *b = json_dumps(single, JSON_COMPACT);

            if (differ++ < 5)
                cr_log_error("query %zu %s:\nbatch  %.2000s\nsingle %.2000s", i,
                             q, a, b);
            free(a);
            free(b);
        }
        json_decref(single);
        free(q);
    }
    tka_fini(&client);
    cr_expect_eq(differ, 0, "%zu of %d answers differ from the batch's", differ,
                 NQUERIES);
    cr_log_info("%zu allowed, %zu denied, %zu item errors", nallowed,
                NQUERIES - nallowed - nerrors, nerrors);
    /* The mix must exercise both verdicts and item errors. */
    cr_expect_gt(nallowed, NQUERIES / 20, "only %zu allowed", nallowed);
    cr_expect_gt(NQUERIES - nallowed - nerrors, NQUERIES / 20,
                 "only %zu denied", NQUERIES - nallowed - nerrors);
    cr_expect_gt(nerrors, 0, "no item errors in the mix");
    cr_expect_lt(nerrors, NQUERIES / 5, "%zu item errors", nerrors);
    thttp_resp_fini(&r);
    json_decref(queries);
}

Test(batch, trace_false_verdicts_match_traced_ones)
{
    unsigned long st = 7;
    struct thttp_resp traced;
    struct thttp_resp bare;
    json_t *queries = json_array();
    json_t *body;
    size_t len, i;
    char *cluster = generated_cluster(&len);

    put_state(cluster, len);
    free(cluster);
    for (i = 0; i < 2000; i++)
        json_array_append_new(queries, random_query(&st));
    body = json_pack("{s:O,s:b}", "queries", queries, "trace", 1);
    send_doc("POST", "/reachability/batch", body, &traced);
    json_object_set_new(body, "trace", json_false());
    send_doc("POST", "/reachability/batch", body, &bare);
    cr_assert_eq(traced.status, 200, "%.300s", traced.body);
    cr_assert_eq(bare.status, 200, "%.300s", bare.body);
    for (i = 0; i < json_array_size(queries); i++) {
        json_t *t = json_array_get(json_object_get(traced.json, "results"), i);
        json_t *b = json_array_get(json_object_get(bare.json, "results"), i);

        if (json_object_get(t, "error") != NULL) {
            cr_expect(json_equal(t, b), "query %zu: errors differ", i);
            continue;
        }
        cr_expect_eq(json_object_size(b), 2, "query %zu: %s", i,
                     json_dumps(b, JSON_COMPACT));
        cr_expect(json_equal(json_object_get(t, "allowed"),
                             json_object_get(b, "allowed")),
                  "query %zu %s: the traced and the fast path disagree", i,
                  json_dumps(json_array_get(queries, i), JSON_COMPACT));
    }
    thttp_resp_fini(&traced);
    thttp_resp_fini(&bare);
    json_decref(body);
    json_decref(queries);
}
