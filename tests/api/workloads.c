/*
 * Workloads against the real binary: the seven kinds load from manifests
 * (typed Lists too), answer as endpoints {"namespace", "workload":
 * "Kind/name"} in POST, GET and batch queries as a pod of their template
 * would, show their isolation, list with their template labels, ports,
 * policies, owner and pods, link pods to the workloads that own them, count
 * in /state, and go away with DELETE or their namespace. Errors: an unknown
 * workload is 404 unknown_workload, a kind spelled otherwise than
 * Kubernetes spells it is 400. Upstream scenarios written with workloads
 * (tests/data/workloads/) load with --load DIR and answer like the
 * conformance sample's pods standing for the same workloads.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/assert_json.h"
#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

TestSuite(workloads, .init = tsuite_start, .fini = tsuite_stop);
TestSuite(workload_scenarios, .fini = tsuite_stop);

/*
 * shop (team=shop): Deployment frontend (app=frontend; http 8080, and an
 * init container's admin 9999 that is no container port), its ReplicaSet
 * frontend-5d9f, StatefulSet db (app=db; pg 5432), Job migrate (app=migrate),
 * ReplicationController legacy (app=legacy; web 8000); pods
 * frontend-5d9f-abc (owned by the ReplicaSet), db-0 (owned by the
 * StatefulSet) and orphan (app=frontend, no owner).
 * ops (team=ops): CronJob report (app=report) and its Job report-2891 as a
 * JobList item without kind, DaemonSet agent (hostNetwork); pod
 * report-2891-xyz owned by the Job.
 * Policies: shop/default-deny isolates every shop pod for ingress;
 * shop/frontend-in admits team=ops namespaces on the named port http;
 * shop/db-in admits app=frontend on 5432 and 10.0.0.0/16 on 5432;
 * ops/report-out lets app=report send to app=frontend pods of team=shop
 * namespaces on 8080 only.
 */
static const char cluster[] =
    "apiVersion: v1\nkind: Namespace\n"
    "metadata: {name: shop, labels: {team: shop}}\n"
    "---\n"
    "apiVersion: v1\nkind: Namespace\n"
    "metadata: {name: ops, labels: {team: ops}}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: Deployment\n"
    "metadata: {name: frontend, namespace: shop, labels: {owner: web-team}}\n"
    "spec:\n"
    "  replicas: 3\n"
    "  selector: {matchLabels: {app: frontend}}\n"
    "  template:\n"
    "    metadata: {labels: {app: frontend, tier: web}}\n"
    "    spec:\n"
    "      initContainers:\n"
    "      - {name: init, image: busybox,\n"
    "         ports: [{name: admin, containerPort: 9999}]}\n"
    "      containers:\n"
    "      - {name: web, image: nginx,\n"
    "         ports: [{name: http, containerPort: 8080}]}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: ReplicaSet\n"
    "metadata:\n"
    "  name: frontend-5d9f\n"
    "  namespace: shop\n"
    "  ownerReferences:\n"
    "  - {apiVersion: apps/v1, kind: Deployment, name: frontend, uid: u1,\n"
    "     controller: true}\n"
    "spec:\n"
    "  selector: {matchLabels: {app: frontend}}\n"
    "  template:\n"
    "    metadata: {labels: {app: frontend, tier: web}}\n"
    "    spec: {containers: [{name: web, ports: [{name: http, "
    "containerPort: 8080}]}]}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: StatefulSet\n"
    "metadata: {name: db, namespace: shop}\n"
    "spec:\n"
    "  serviceName: db\n"
    "  selector: {matchLabels: {app: db}}\n"
    "  template:\n"
    "    metadata: {labels: {app: db}}\n"
    "    spec: {containers: [{name: pg, ports: [{name: pg, "
    "containerPort: 5432}]}]}\n"
    "---\n"
    "apiVersion: batch/v1\nkind: Job\n"
    "metadata: {name: migrate, namespace: shop}\n"
    "spec:\n"
    "  template:\n"
    "    metadata: {labels: {app: migrate}}\n"
    "    spec: {restartPolicy: Never, containers: [{name: m}]}\n"
    "---\n"
    "apiVersion: v1\nkind: ReplicationController\n"
    "metadata: {name: legacy, namespace: shop}\n"
    "spec:\n"
    "  template:\n"
    "    metadata: {labels: {app: legacy}}\n"
    "    spec: {containers: [{name: l, ports: [{name: web, "
    "containerPort: 8000}]}]}\n"
    "---\n"
    "apiVersion: batch/v1\nkind: CronJob\n"
    "metadata: {name: report, namespace: ops}\n"
    "spec:\n"
    "  schedule: '0 * * * *'\n"
    "  jobTemplate:\n"
    "    spec:\n"
    "      template:\n"
    "        metadata: {labels: {app: report}}\n"
    "        spec: {restartPolicy: OnFailure, containers: [{name: r}]}\n"
    "---\n"
    "apiVersion: batch/v1\nkind: JobList\n"
    "items:\n"
    "- metadata:\n"
    "    name: report-2891\n"
    "    namespace: ops\n"
    "    ownerReferences: [{apiVersion: batch/v1, kind: CronJob, "
    "name: report}]\n"
    "  spec:\n"
    "    template:\n"
    "      metadata: {labels: {app: report}}\n"
    "      spec: {containers: [{name: r}]}\n"
    "---\n"
    "apiVersion: apps/v1\nkind: DaemonSet\n"
    "metadata: {name: agent, namespace: ops}\n"
    "spec:\n"
    "  selector: {matchLabels: {app: agent}}\n"
    "  template:\n"
    "    metadata: {labels: {app: agent}}\n"
    "    spec:\n"
    "      hostNetwork: true\n"
    "      containers: [{name: a, ports: [{name: metrics, "
    "containerPort: 9100}]}]\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata:\n"
    "  name: frontend-5d9f-abc\n"
    "  namespace: shop\n"
    "  labels: {app: frontend, tier: web, pod-template-hash: 5d9f}\n"
    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, "
    "name: frontend-5d9f}]\n"
    "spec: {containers: [{name: web, ports: [{name: http, "
    "containerPort: 8080}]}]}\n"
    "status: {podIP: 10.0.0.10}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata:\n"
    "  name: db-0\n"
    "  namespace: shop\n"
    "  labels: {app: db}\n"
    "  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db}]\n"
    "spec: {containers: [{name: pg}]}\n"
    "status: {podIP: 10.0.0.20}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: orphan, namespace: shop, labels: {app: frontend}}\n"
    "spec: {containers: [{name: web}]}\n"
    "status: {podIP: 10.0.0.30}\n"
    "---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata:\n"
    "  name: report-2891-xyz\n"
    "  namespace: ops\n"
    "  labels: {app: report}\n"
    "  ownerReferences: [{apiVersion: batch/v1, kind: Job, "
    "name: report-2891}]\n"
    "spec: {containers: [{name: r}]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: default-deny, namespace: shop}\n"
    "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: frontend-in, namespace: shop}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: frontend}}\n"
    "  ingress:\n"
    "  - from: [{namespaceSelector: {matchLabels: {team: ops}}}]\n"
    "    ports: [{port: http}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: db-in, namespace: shop}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: db}}\n"
    "  ingress:\n"
    "  - from: [{podSelector: {matchLabels: {app: frontend}}}]\n"
    "    ports: [{port: 5432}]\n"
    "  - from: [{ipBlock: {cidr: 10.0.0.0/16}}]\n"
    "    ports: [{port: 5432}]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: report-out, namespace: ops}\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: report}}\n"
    "  policyTypes: [Egress]\n"
    "  egress:\n"
    "  - to: [{namespaceSelector: {matchLabels: {team: shop}},\n"
    "          podSelector: {matchLabels: {app: frontend}}}]\n"
    "    ports: [{port: 8080}]\n";

#define NWORKLOADS 8

/* --- helpers --- */

static void
request(const char *method, const char *path, const char *ctype,
        const char *body, struct thttp_resp *r)
{
    cr_assert_eq(thttp_request(tsuite_srv.base, method, path, ctype, body,
                               body != NULL ? strlen(body) : 0, r),
                 0, "%s %s: no answer", method, path);
}

static void
get(const char *path, struct thttp_resp *r)
{
    cr_assert_eq(thttp_get(tsuite_srv.base, path, r), 0, "GET %s: no answer",
                 path);
}

/* GET path, asserting a 200 JSON answer. */
static void
get_ok(const char *path, struct thttp_resp *r)
{
    get(path, r);
    cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
    cr_assert_not_null(r->json, "GET %s: not JSON: %s", path, r->body);
}

static void
put_cluster(void)
{
    struct thttp_resp r;

    request("PUT", "/state", "application/yaml", cluster, &r);
    cr_assert_eq(r.status, 200, "PUT /state: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "workloads")),
                 NWORKLOADS, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "pods")), 4, "%s",
                 r.body);
    cr_assert_eq(json_array_size(json_object_get(r.json, "warnings")), 0, "%s",
                 r.body);
    thttp_resp_fini(&r);
}

/* The strings of a JSON array joined with ',' (into buf). */
static const char *
joined(const json_t *a, char *buf, size_t len)
{
    size_t i, off = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach(a, i, v)
    {
        int n = snprintf(buf + off, len - off, "%s%s", i > 0 ? "," : "",
                         json_is_string(v) ? json_string_value(v) : "?");
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    return buf;
}

static const char *
str_at(const json_t *o, const char *k1, const char *k2)
{
    const json_t *v = json_object_get(o, k1);

    if (k2 != NULL)
        v = json_object_get(v, k2);
    return json_is_string(v) ? json_string_value(v) : "(none)";
}

/* Whether any string in the JSON value v contains text. */
static bool
mentions(const json_t *v, const char *text)
{
    const char *key;
    json_t *e;
    size_t i;
    bool found = false;

    if (json_is_string(v))
        return strstr(json_string_value(v), text) != NULL;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            found = found || mentions(e, text);
        }
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, e)
        {
            found = found || mentions(e, text);
        }
    }
    return found;
}

/* --- queries --- */

struct query_row {
    char query[240];
    bool allowed;
    char note[96];
};

static struct query_row query_rows[] = {
    { "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
      "\"port\":\"http\"}",
      true,
      "report may send to app=frontend on 8080, frontend admits team=ops on "
      "http" },
    { "{\"from\":{\"namespace\":\"ops\",\"workload\":\"Job/report-2891\"},"
      "\"to\":{\"namespace\":\"shop\",\"pod\":\"frontend-5d9f-abc\"},"
      "\"port\":8080}",
      true, "a CronJob's Job carries the same template labels" },
    { "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      false, "report may only send to app=frontend" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      true, "db admits app=frontend by template labels" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5433}",
      false, "5433 is in no rule" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Job/migrate\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      false, "a template has no address, so the ipBlock never matches it" },
    { "{\"from\":{\"namespace\":\"shop\",\"pod\":\"orphan\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      true, "a real pod matches the podSelector peer" },
    { "{\"from\":{\"ip\":\"10.0.200.1\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      true, "an address in 10.0.0.0/16 matches the ipBlock" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
      "\"port\":5432}",
      false,
      "db to db is between two of its pods, and db admits app=frontend" },
    { "{\"from\":{\"namespace\":\"ops\",\"workload\":\"DaemonSet/agent\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
      "\"port\":8080}",
      false, "a hostNetwork template is not matched by namespaceSelector" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":"
      "\"ReplicationController/legacy\"},"
      "\"to\":{\"namespace\":\"ops\",\"workload\":\"DaemonSet/agent\"},"
      "\"port\":\"metrics\"}",
      true, "legacy is not isolated, agent uses the host network" },
    { "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
      "\"to\":{\"namespace\":\"shop\",\"workload\":"
      "\"ReplicationController/legacy\"},\"port\":\"web\"}",
      false, "default-deny isolates legacy" },
};

ParameterizedTestParameters(workloads, workload_verdicts_follow_the_policies)
{
    return cr_make_param_array(struct query_row, query_rows,
                               sizeof(query_rows) / sizeof(query_rows[0]));
}

ParameterizedTest(struct query_row *row, workloads,
                  workload_verdicts_follow_the_policies)
{
    struct thttp_resp r;

    put_cluster();
    request("POST", "/reachability", "application/json", row->query, &r);
    cr_assert_eq(r.status, 200, "%s: %ld %s", row->query, r.status, r.body);
    cr_expect_eq(json_is_true(json_object_get(r.json, "allowed")), row->allowed,
                 "%s: %s\n%s", row->note, row->query, r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, an_answer_names_the_workloads_and_their_policies)
{
    struct thttp_resp r;
    json_t *in, *eg;
    char buf[256];

    put_cluster();
    request("POST", "/reachability", "application/json",
            "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
            "\"to\":{\"namespace\":\"shop\",\"workload\":"
            "\"Deployment/frontend\"},\"port\":\"http\"}",
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_str_eq(str_at(r.json, "from", "namespace"), "ops");
    cr_expect_str_eq(str_at(r.json, "from", "workload"), "CronJob/report");
    cr_expect_null(json_object_get(json_object_get(r.json, "from"), "ip"),
                   "a template has no address: %s", r.body);
    cr_expect_str_eq(str_at(r.json, "to", "workload"), "Deployment/frontend");
    cr_expect_eq(json_integer_value(json_object_get(r.json, "port")), 8080);
    cr_expect_str_eq(str_at(r.json, "portName", NULL), "http");
    cr_expect(json_is_false(json_object_get(r.json, "self")));
    eg = json_object_get(r.json, "egress");
    in = json_object_get(r.json, "ingress");
    cr_expect_str_eq(str_at(eg, "workload", NULL), "ops/CronJob/report");
    cr_expect(json_is_null(json_object_get(eg, "pod")), "%s", r.body);
    cr_expect_str_eq(joined(json_object_get(eg, "policies"), buf, sizeof(buf)),
                     "ops/report-out");
    cr_expect_str_eq(str_at(in, "workload", NULL), "shop/Deployment/frontend");
    cr_expect_str_eq(joined(json_object_get(in, "policies"), buf, sizeof(buf)),
                     "shop/default-deny,shop/frontend-in");
    cr_expect_str_eq(str_at(in, "decision", NULL), "allowed_by_rule");
    cr_expect(strstr(str_at(in, "reason", NULL),
                     "workload shop/Deployment/frontend (as a pod of its "
                     "template) is isolated for ingress") != NULL,
              "%s", str_at(in, "reason", NULL));
    cr_expect(strstr(str_at(in, "reason", NULL),
                     "traffic from workload ops/CronJob/report (as a pod of "
                     "its template)") != NULL,
              "%s", str_at(in, "reason", NULL));
    cr_expect(strstr(str_at(r.json, "reason", NULL),
                     "workload ops/CronJob/report") != NULL,
              "%s", str_at(r.json, "reason", NULL));
    thttp_resp_fini(&r);

    /* The ipBlock's reason says why it cannot match a template. */
    request("POST", "/reachability", "application/json",
            "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Job/migrate\"},"
            "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
            "\"port\":5432}",
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(
        mentions(json_object_get(json_object_get(r.json, "ingress"), "trace"),
                 "workload shop/Job/migrate (as a pod of its template) "
                 "has no IP address"),
        "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, named_ports_resolve_on_the_template_containers_only)
{
    struct thttp_resp r;

    put_cluster();
    request("POST", "/reachability", "application/json",
            "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
            "\"to\":{\"namespace\":\"shop\",\"workload\":"
            "\"Deployment/frontend\"},\"port\":\"admin\"}",
            &r);
    tassert_json_error(&r, 400, "unknown_port_name", "port");
    cr_expect(strstr(str_at(json_object_get(r.json, "error"), "message", NULL),
                     "workload shop/Deployment/frontend has no container "
                     "port named \"admin\"") != NULL,
              "%s", r.body);
    thttp_resp_fini(&r);
    request("POST", "/reachability", "application/json",
            "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
            "\"to\":{\"namespace\":\"shop\",\"workload\":"
            "\"Deployment/frontend\"},\"port\":\"http\",\"protocol\":"
            "\"UDP\"}",
            &r);
    tassert_json_error(&r, 400, "unknown_port_name", "port");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, get_answers_like_post)
{
    struct thttp_resp g, p;
    char *gs, *ps;

    put_cluster();
    get("/reachability?from=ops/CronJob/report&to=shop/Deployment/frontend"
        "&port=http",
        &g);
    request("POST", "/reachability", "application/json",
            "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
            "\"to\":{\"namespace\":\"shop\",\"workload\":"
            "\"Deployment/frontend\"},\"port\":\"http\"}",
            &p);
    cr_assert_eq(g.status, 200, "%s", g.body);
    cr_assert_eq(p.status, 200, "%s", p.body);
    gs = json_dumps(g.json, JSON_SORT_KEYS | JSON_COMPACT);
    ps = json_dumps(p.json, JSON_SORT_KEYS | JSON_COMPACT);
    cr_expect_str_eq(gs, ps);
    free(gs);
    free(ps);
    thttp_resp_fini(&g);
    thttp_resp_fini(&p);
    /* A workload and a pod in the GET form. */
    get("/reachability?from=shop/Job/migrate&to=shop/db-0&port=5432", &g);
    cr_assert_eq(g.status, 200, "%s", g.body);
    cr_expect(json_is_false(json_object_get(g.json, "allowed")), "%s", g.body);
    cr_expect_str_eq(str_at(g.json, "from", "workload"), "Job/migrate");
    thttp_resp_fini(&g);
    tsuite_assert_exit_0();
}

struct error_row {
    char method[8];
    char path[96];
    char body[200];
    long status;
    char code[24];
    char field[24];
};

static struct error_row error_rows[] = {
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/nope\"},"
      "\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      404, "unknown_workload", "from.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"ip\":\"10.1.1.1\"},\"to\":{\"namespace\":\"nowhere\","
      "\"workload\":\"Deployment/frontend\"},\"port\":80}",
      404, "unknown_workload", "to.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/"
      "frontend\"},\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      404, "unknown_workload", "from.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"deployment/"
      "frontend\"},\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "invalid_value", "from.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Pod/orphan\"},"
      "\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "invalid_value", "from.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"frontend\"},"
      "\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "invalid_value", "from.workload" },
    { "POST", "/reachability",
      "{\"from\":{\"workload\":\"Deployment/frontend\"},"
      "\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "missing_field", "from.namespace" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\","
      "\"pod\":\"orphan\"},\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "invalid_value", "from" },
    { "POST", "/reachability",
      "{\"from\":{\"namespace\":\"shop\",\"workload\":5},"
      "\"to\":{\"ip\":\"10.1.1.1\"},\"port\":80}",
      400, "invalid_type", "from.workload" },
    { "GET", "/reachability?from=shop/Deployment/nope&to=10.1.1.1&port=80", "",
      404, "unknown_workload", "from" },
    { "GET", "/reachability?from=ops/DaemonSet/agent&to=shop/deploy/x&port=80",
      "", 400, "invalid_value", "to" },
    { "GET", "/workloads/shop/deployment/frontend", "", 400, "invalid_value",
      "" },
    { "GET", "/workloads/shop/Deployment/nope", "", 404, "unknown_workload",
      "" },
    { "GET", "/workloads/shop/Deployment/nope/isolation", "", 404,
      "unknown_workload", "" },
    { "GET", "/workloads/ops/Deployment/frontend/isolation", "", 404,
      "unknown_workload", "" },
    { "GET", "/workloads/shop/Pod/orphan/isolation", "", 400, "invalid_value",
      "" },
    { "GET", "/workloads?labelSelector=app%20in%20(", "", 400,
      "invalid_selector", "labelSelector" },
    { "GET", "/workloads?kind=Deployment", "", 400, "unknown_field", "kind" },
    { "DELETE", "/namespaces/shop/workloads/Deployment/nope", "", 404,
      "unknown_workload", "" },
    { "DELETE", "/namespaces/shop/workloads/CRONJOB/report", "", 400,
      "invalid_value", "" },
};

ParameterizedTestParameters(workloads, bad_workload_requests_get_their_4xx)
{
    return cr_make_param_array(struct error_row, error_rows,
                               sizeof(error_rows) / sizeof(error_rows[0]));
}

ParameterizedTest(struct error_row *row, workloads,
                  bad_workload_requests_get_their_4xx)
{
    struct thttp_resp r;

    put_cluster();
    request(row->method, row->path,
            row->body[0] != '\0' ? "application/json" : NULL,
            row->body[0] != '\0' ? row->body : NULL, &r);
    tassert_json_error(&r, row->status, row->code,
                       row->field[0] != '\0' ? row->field : NULL);
    thttp_resp_fini(&r);
    /* Nothing changed. */
    get_ok("/state", &r);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")),
                 NWORKLOADS);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, batches_answer_each_workload_query_like_a_single_one)
{
    static const char body[] =
        "{\"queries\":["
        "{\"from\":{\"namespace\":\"ops\",\"workload\":\"CronJob/report\"},"
        "\"to\":{\"namespace\":\"shop\",\"workload\":\"Deployment/frontend\"},"
        "\"port\":\"http\"},"
        "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Job/migrate\"},"
        "\"to\":{\"namespace\":\"shop\",\"workload\":\"StatefulSet/db\"},"
        "\"port\":5432},"
        "{\"from\":{\"namespace\":\"shop\",\"workload\":\"Deployment/gone\"},"
        "\"to\":{\"namespace\":\"shop\",\"pod\":\"db-0\"},\"port\":5432},"
        "{\"from\":{\"namespace\":\"shop\",\"pod\":\"orphan\"},"
        "\"to\":{\"namespace\":\"shop\",\"pod\":\"db-0\"},\"port\":5432}"
        "]%s}";
    static const bool want[] = { true, false, false, true };
    char text[sizeof(body) + 32];
    struct thttp_resp r, one;
    json_t *doc, *results, *queries, *q;
    size_t i;
    int traced;

    put_cluster();
    for (traced = 0; traced < 2; traced++) {
        snprintf(text, sizeof(text), body, traced ? "" : ",\"trace\":false");
        request("POST", "/reachability/batch", "application/json", text, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        results = json_object_get(r.json, "results");
        cr_assert_eq(json_array_size(results), 4, "%s", r.body);
        doc = json_loads(text, 0, NULL);
        queries = json_object_get(doc, "queries");
        cr_assert_eq(json_array_size(queries), 4);
        json_array_foreach(results, i, q)
        {
            if (i == 2) {
                cr_expect_str_eq(
                    str_at(json_object_get(q, "error"), "code", NULL),
                    "unknown_workload", "%s", r.body);
                continue;
            }
            cr_expect_eq(json_is_true(json_object_get(q, "allowed")), want[i],
                         "item %zu: %s", i, r.body);
            if (!traced)
                continue;
            /* A traced item is the single answer, byte for byte. */
            {
                char *single = json_dumps(json_array_get(queries, i), 0);
                char *a, *b;

                request("POST", "/reachability", "application/json", single,
                        &one);
                a = json_dumps(q, JSON_SORT_KEYS | JSON_COMPACT);
                b = json_dumps(one.json, JSON_SORT_KEYS | JSON_COMPACT);
                cr_expect_str_eq(a, b);
                free(a);
                free(b);
                free(single);
                thttp_resp_fini(&one);
            }
        }
        json_decref(doc);
        thttp_resp_fini(&r);
    }
    tsuite_assert_exit_0();
}

/* --- isolation --- */

Test(workloads, isolation_of_a_workload_has_the_shape_of_a_pods)
{
    struct thttp_resp r;
    char buf[256];

    put_cluster();
    get_ok("/workloads/shop/Deployment/frontend/isolation", &r);
    cr_expect_str_eq(str_at(r.json, "workload", "namespace"), "shop");
    cr_expect_str_eq(str_at(r.json, "workload", "kind"), "Deployment");
    cr_expect_str_eq(str_at(r.json, "workload", "name"), "frontend");
    cr_expect_null(json_object_get(r.json, "pod"));
    cr_expect(json_is_integer(json_object_get(r.json, "revision")));
    cr_expect(json_is_true(
        json_object_get(json_object_get(r.json, "ingress"), "isolated")));
    cr_expect_str_eq(
        joined(json_object_get(json_object_get(r.json, "ingress"), "policies"),
               buf, sizeof(buf)),
        "shop/default-deny,shop/frontend-in");
    cr_expect(json_is_false(
        json_object_get(json_object_get(r.json, "egress"), "isolated")));
    thttp_resp_fini(&r);

    get_ok("/workloads/ops/CronJob/report/isolation", &r);
    cr_expect(json_is_false(
        json_object_get(json_object_get(r.json, "ingress"), "isolated")));
    cr_expect_str_eq(
        joined(json_object_get(json_object_get(r.json, "egress"), "policies"),
               buf, sizeof(buf)),
        "ops/report-out");
    thttp_resp_fini(&r);

    /* A hostNetwork template is never isolated, as a hostNetwork pod. */
    get_ok("/workloads/ops/DaemonSet/agent/isolation", &r);
    cr_expect(json_is_true(json_object_get(r.json, "hostNetwork")));
    cr_expect(json_is_false(
        json_object_get(json_object_get(r.json, "ingress"), "isolated")));
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* --- listings and links --- */

Test(workloads, the_list_is_sorted_and_filters_on_namespace_and_template_labels)
{
    static const char *const all[NWORKLOADS + 1] = {
        "ops/CronJob/report",
        "ops/DaemonSet/agent",
        "ops/Job/report-2891",
        "shop/Deployment/frontend",
        "shop/Job/migrate",
        "shop/ReplicaSet/frontend-5d9f",
        "shop/ReplicationController/legacy",
        "shop/StatefulSet/db",
        NULL,
    };
    struct thttp_resp r;
    json_t *items, *w;
    char ref[128];
    size_t i;

    put_cluster();
    get_ok("/workloads", &r);
    items = json_object_get(r.json, "workloads");
    cr_assert_eq(json_array_size(items), NWORKLOADS, "%s", r.body);
    json_array_foreach(items, i, w)
    {
        snprintf(ref, sizeof(ref), "%s/%s/%s", str_at(w, "namespace", NULL),
                 str_at(w, "kind", NULL), str_at(w, "name", NULL));
        cr_expect_str_eq(ref, all[i] != NULL ? all[i] : "(end)");
    }
    cr_expect(json_is_integer(json_object_get(r.json, "revision")));
    thttp_resp_fini(&r);

    get_ok("/workloads?namespace=ops", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "workloads")), 3);
    thttp_resp_fini(&r);
    get_ok("/workloads?namespace=nowhere", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "workloads")), 0);
    thttp_resp_fini(&r);

    /* Template labels, not the workload's own (owner=web-team). */
    get_ok("/workloads?labelSelector=app%3Dfrontend", &r);
    items = json_object_get(r.json, "workloads");
    cr_expect_eq(json_array_size(items), 2, "%s", r.body);
    thttp_resp_fini(&r);
    get_ok("/workloads?labelSelector=owner", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "workloads")), 0, "%s",
                 r.body);
    thttp_resp_fini(&r);
    get_ok("/workloads?namespace=ops&labelSelector=app%3Dreport", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "workloads")), 2, "%s",
                 r.body);
    thttp_resp_fini(&r);
    /* The API server labels a Job's template with its name. */
    get_ok("/workloads?labelSelector=job-name%3Dmigrate", &r);
    items = json_object_get(r.json, "workloads");
    cr_expect_eq(json_array_size(items), 1, "%s", r.body);
    cr_expect_str_eq(str_at(json_array_get(items, 0), "kind", NULL), "Job");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, one_workload_shows_its_template_policies_owner_and_pods)
{
    struct thttp_resp r;
    json_t *ports;
    char buf[256];

    put_cluster();
    get_ok("/workloads/shop/Deployment/frontend", &r);
    cr_expect_str_eq(str_at(r.json, "labels", "app"), "frontend");
    cr_expect_str_eq(str_at(r.json, "labels", "tier"), "web");
    cr_expect_null(json_object_get(json_object_get(r.json, "labels"), "owner"));
    ports = json_object_get(r.json, "ports");
    cr_assert_eq(json_array_size(ports), 1, "init containers are left out: %s",
                 r.body);
    cr_expect_str_eq(str_at(json_array_get(ports, 0), "name", NULL), "http");
    cr_expect_eq(
        json_integer_value(json_object_get(json_array_get(ports, 0), "port")),
        8080);
    cr_expect(json_is_false(json_object_get(r.json, "hostNetwork")));
    cr_expect_str_eq(
        joined(json_object_get(r.json, "ingressPolicies"), buf, sizeof(buf)),
        "shop/default-deny,shop/frontend-in");
    cr_expect_eq(json_array_size(json_object_get(r.json, "egressPolicies")), 0);
    cr_expect_str_eq(joined(json_object_get(r.json, "pods"), buf, sizeof(buf)),
                     "shop/frontend-5d9f-abc");
    cr_expect_null(json_object_get(r.json, "owner"));
    cr_expect(json_is_integer(json_object_get(r.json, "revision")));
    thttp_resp_fini(&r);

    get_ok("/workloads/shop/ReplicaSet/frontend-5d9f", &r);
    cr_expect_str_eq(str_at(r.json, "owner", "kind"), "Deployment");
    cr_expect_str_eq(str_at(r.json, "owner", "name"), "frontend");
    cr_expect_str_eq(joined(json_object_get(r.json, "pods"), buf, sizeof(buf)),
                     "shop/frontend-5d9f-abc");
    thttp_resp_fini(&r);

    get_ok("/workloads/ops/CronJob/report", &r);
    cr_expect_str_eq(joined(json_object_get(r.json, "pods"), buf, sizeof(buf)),
                     "ops/report-2891-xyz");
    thttp_resp_fini(&r);
    get_ok("/workloads/ops/Job/report-2891", &r);
    cr_expect_str_eq(str_at(r.json, "owner", "kind"), "CronJob");
    thttp_resp_fini(&r);
    get_ok("/workloads/shop/Job/migrate", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "pods")), 0);
    cr_expect_str_eq(str_at(r.json, "labels", "job-name"), "migrate");
    cr_expect_str_eq(str_at(r.json, "labels", "batch.kubernetes.io/job-name"),
                     "migrate");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(workloads, pods_policies_and_namespaces_link_to_workloads)
{
    struct thttp_resp r;
    char buf[256];

    put_cluster();
    get_ok("/pods/shop/frontend-5d9f-abc", &r);
    cr_expect_str_eq(str_at(r.json, "workload", "kind"), "Deployment",
                     "a ReplicaSet's pod belongs to its Deployment: %s",
                     r.body);
    cr_expect_str_eq(str_at(r.json, "workload", "name"), "frontend");
    thttp_resp_fini(&r);
    get_ok("/pods/shop/db-0", &r);
    cr_expect_str_eq(str_at(r.json, "workload", "kind"), "StatefulSet");
    thttp_resp_fini(&r);
    get_ok("/pods/ops/report-2891-xyz", &r);
    cr_expect_str_eq(str_at(r.json, "workload", "kind"), "CronJob");
    cr_expect_str_eq(str_at(r.json, "workload", "name"), "report");
    thttp_resp_fini(&r);
    get_ok("/pods/shop/orphan", &r);
    cr_expect_null(json_object_get(r.json, "workload"));
    thttp_resp_fini(&r);

    get_ok("/networkpolicies/shop/frontend-in", &r);
    cr_expect_str_eq(
        joined(json_object_get(r.json, "selectedWorkloads"), buf, sizeof(buf)),
        "shop/Deployment/frontend,shop/ReplicaSet/frontend-5d9f");
    cr_expect_str_eq(
        joined(json_object_get(r.json, "selectedPods"), buf, sizeof(buf)),
        "shop/frontend-5d9f-abc,shop/orphan", "real pods only");
    thttp_resp_fini(&r);

    get_ok("/namespaces/shop", &r);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")), 5);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* --- state: counts, merges, deletions, manifests --- */

static long
count(const char *field)
{
    struct thttp_resp r;
    long n;

    get_ok("/state", &r);
    n = (long)json_integer_value(json_object_get(r.json, field));
    thttp_resp_fini(&r);
    return n;
}

Test(workloads, post_merges_and_delete_removes_workloads)
{
    struct thttp_resp r;

    put_cluster();
    cr_expect_eq(count("workloads"), NWORKLOADS);
    /* POST replaces one workload by kind, namespace and name. */
    request("POST", "/state", "application/yaml",
            "apiVersion: apps/v1\nkind: Deployment\n"
            "metadata: {name: frontend, namespace: shop}\n"
            "spec: {template: {metadata: {labels: {app: frontend2}}}}\n",
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")),
                 NWORKLOADS);
    thttp_resp_fini(&r);
    get_ok("/workloads/shop/Deployment/frontend", &r);
    cr_expect_str_eq(str_at(r.json, "labels", "app"), "frontend2");
    cr_expect_eq(json_array_size(json_object_get(r.json, "ingressPolicies")), 1,
                 "only default-deny selects app=frontend2: %s", r.body);
    thttp_resp_fini(&r);

    request("DELETE", "/namespaces/shop/workloads/Job/migrate", NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")),
                 NWORKLOADS - 1);
    thttp_resp_fini(&r);
    request("DELETE", "/namespaces/shop/workloads/Job/migrate", NULL, NULL, &r);
    tassert_json_error(&r, 404, "unknown_workload", NULL);
    thttp_resp_fini(&r);
    /* Deleting the Deployment unlinks the ReplicaSet's pod from it. */
    request("DELETE", "/namespaces/shop/workloads/Deployment/frontend", NULL,
            NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    get_ok("/pods/shop/frontend-5d9f-abc", &r);
    cr_expect_str_eq(str_at(r.json, "workload", "kind"), "ReplicaSet");
    thttp_resp_fini(&r);
    /* Deleting a namespace deletes its workloads. */
    request("DELETE", "/namespaces/ops", NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")), 3,
                 "%s", r.body);
    thttp_resp_fini(&r);
    get("/workloads/ops/CronJob/report", &r);
    tassert_json_error(&r, 404, "unknown_workload", NULL);
    thttp_resp_fini(&r);
    cr_expect_eq(count("workloads"), 3);
    request("DELETE", "/state", NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_expect_eq(count("workloads"), 0);
    tsuite_assert_exit_0();
}

struct manifest_row {
    char yaml[300];
    long status;
    char code[24];
    char path[64];
};

static struct manifest_row manifest_rows[] = {
    { "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
      "spec: {replicas: 1}\n",
      400, "missing_field", "spec.template" },
    { "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n"
      "spec: {jobTemplate: {spec: {}}}\n",
      400, "missing_field", "spec.jobTemplate.spec.template" },
    { "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n"
      "spec: {jobTemplate: {spec: {template: {metadata: {labels: "
      "{app: 'a b'}}}}}}\n",
      400, "invalid_label",
      "spec.jobTemplate.spec.template.metadata.labels.app" },
    { "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\n"
      "spec: {template: {spec: {containers: [{name: c, ports: "
      "[{containerPort: 70000}]}]}}}\n",
      400, "invalid_port",
      "spec.template.spec.containers[0].ports[0].containerPort" },
    { "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: Bad}\n"
      "spec: {template: {}}\n",
      400, "invalid_name", "metadata.name" },
    { "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\n"
      "spec: {template: {spec: {hostNetwork: 'yes'}}}\n",
      400, "invalid_type", "spec.template.spec.hostNetwork" },
    { "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: a},\n"
      "   spec: {template: {}}}\n"
      "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: a},\n"
      "   spec: {template: {}}}\n",
      400, "duplicate_object", "items[1].metadata.name" },
};

ParameterizedTestParameters(workloads, bad_workload_manifests_are_refused)
{
    return cr_make_param_array(struct manifest_row, manifest_rows,
                               sizeof(manifest_rows) /
                                   sizeof(manifest_rows[0]));
}

ParameterizedTest(struct manifest_row *row, workloads,
                  bad_workload_manifests_are_refused)
{
    struct thttp_resp r;

    put_cluster();
    request("POST", "/state", "application/yaml", row->yaml, &r);
    tassert_json_error(&r, row->status, row->code, row->path);
    cr_expect(json_integer_value(json_object_get(
                  json_object_get(r.json, "error"), "line")) > 0,
              "the error names a line: %s", r.body);
    thttp_resp_fini(&r);
    cr_expect_eq(count("workloads"), NWORKLOADS, "the state is unchanged");
    tsuite_assert_exit_0();
}

Test(workloads, old_api_versions_are_skipped_and_typed_lists_load)
{
    struct thttp_resp r;
    json_t *warnings;

    request("PUT", "/state", "application/yaml",
            "apiVersion: extensions/v1beta1\nkind: Deployment\n"
            "metadata: {name: old, namespace: a}\n"
            "spec: {template: {metadata: {labels: {app: old}}}}\n"
            "---\n"
            "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n"
            "- metadata: {name: one, namespace: a}\n"
            "  spec: {template: {metadata: {labels: {app: one}}}}\n"
            "- metadata: {name: two, namespace: b}\n"
            "  spec: {template: {metadata: {labels: {app: two}}}}\n",
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "workloads")), 2);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "namespaces")), 2,
                 "workloads make their namespaces exist");
    warnings = json_object_get(r.json, "warnings");
    cr_assert_eq(json_array_size(warnings), 1, "%s", r.body);
    cr_expect(strstr(json_string_value(json_array_get(warnings, 0)),
                     "skipped Deployment a/old (apiVersion not evaluated)") !=
                  NULL,
              "%s", r.body);
    thttp_resp_fini(&r);
    get_ok("/workloads/b/Deployment/two", &r);
    cr_expect_str_eq(str_at(r.json, "labels", "app"), "two");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* --- upstream scenarios --- */

/* The conformance expectations of npa-<scenario>, asked of the workloads the
 * conformance sample turned into pods. */
struct scenario_row {
    char name[64];
    int nworkloads;
};

static struct scenario_row scenario_rows[] = {
    { "acs_security_frontend_demos", 2 },
    { "exposure_test_with_match_expression_not_in_op", 2 },
    { "minimal_test_in_ns", 2 },
    { "netpol-analysis-example-minimal", 2 },
    { "netpol_named_port_test", 2 },
};

ParameterizedTestParameters(workload_scenarios,
                            upstream_workloads_answer_like_their_pods)
{
    return cr_make_param_array(struct scenario_row, scenario_rows,
                               sizeof(scenario_rows) /
                                   sizeof(scenario_rows[0]));
}

/* {"namespace", "pod": NAME} becomes {"namespace", "workload": KIND/NAME}
 * with the kind the listing gives (steals nothing; returns a new object). */
static json_t *
as_workload(const json_t *ep, const json_t *list)
{
    const char *ns = json_string_value(json_object_get(ep, "namespace"));
    const char *name = json_string_value(json_object_get(ep, "pod"));
    json_t *w;
    size_t i;

    if (name == NULL)
        return json_deep_copy(ep);
    json_array_foreach(list, i, w)
    {
        if (strcmp(str_at(w, "namespace", NULL), ns) == 0 &&
            strcmp(str_at(w, "name", NULL), name) == 0)
            return json_pack("{s:s,s:s++}", "namespace", ns, "workload",
                             str_at(w, "kind", NULL), "/", name);
    }
    cr_assert_fail("no workload %s/%s", ns, name);
    return NULL;
}

ParameterizedTest(struct scenario_row *row, workload_scenarios,
                  upstream_workloads_answer_like_their_pods)
{
    char dir[512], expect[512], line[2048];
    const char *args[] = { "--load", dir, NULL };
    json_t *queries = json_array(), *want = json_array(), *list, *results;
    json_t *envelope;
    struct thttp_resp r;
    char *body;
    size_t i, nbad = 0;
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/workloads/%s", NETPOLQ_TEST_DATA, row->name);
    snprintf(expect, sizeof(expect), "%s/conformance/npa-%s/expect.jsonl",
             NETPOLQ_TEST_DATA, row->name);
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "--load %s failed", dir);
    get_ok("/workloads", &r);
    list = json_incref(json_object_get(r.json, "workloads"));
    cr_assert_eq(json_array_size(list), (size_t)row->nworkloads, "%s", r.body);
    thttp_resp_fini(&r);
    f = fopen(expect, "r");
    cr_assert_not_null(f, "%s", expect);
    while (fgets(line, sizeof(line), f) != NULL) {
        json_t *e = json_loads(line, 0, NULL);

        cr_assert_not_null(e, "%s: bad line %s", expect, line);
        /* A pod probing itself: upstream ignores these. */
        if (json_is_true(json_object_get(e, "ignored"))) {
            json_decref(e);
            continue;
        }
        json_array_append_new(
            queries,
            json_pack("{s:o,s:o,s:O,s:O}", "from",
                      as_workload(json_object_get(e, "from"), list), "to",
                      as_workload(json_object_get(e, "to"), list), "port",
                      json_object_get(e, "port"), "protocol",
                      json_object_get(e, "protocol")));
        json_array_append(want, json_object_get(e, "allowed"));
        json_decref(e);
    }
    fclose(f);
    cr_assert_gt(json_array_size(queries), 0);
    envelope = json_pack("{s:O,s:b}", "queries", queries, "trace", 0);
    body = json_dumps(envelope, JSON_COMPACT);
    json_decref(envelope);
    cr_assert_not_null(body);
    request("POST", "/reachability/batch", "application/json", body, &r);
    cr_assert_eq(r.status, 200, "%.2000s", r.body);
    results = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(results), json_array_size(queries));
    for (i = 0; i < json_array_size(results); i++) {
        json_t *got = json_object_get(json_array_get(results, i), "allowed");

        if (json_is_boolean(got) &&
            json_is_true(got) == json_is_true(json_array_get(want, i)))
            continue;
        nbad++;
        cr_log_error("%s: %s: got %s, want %s", row->name,
                     json_dumps(json_array_get(queries, i), JSON_COMPACT),
                     json_dumps(json_array_get(results, i), JSON_COMPACT),
                     json_is_true(json_array_get(want, i)) ? "allowed"
                                                           : "denied");
    }
    cr_expect_eq(nbad, 0, "%s: %zu of %zu verdicts differ", row->name, nbad,
                 json_array_size(queries));
    free(body);
    thttp_resp_fini(&r);
    json_decref(list);
    json_decref(queries);
    json_decref(want);
    tsuite_assert_exit_0();
}
