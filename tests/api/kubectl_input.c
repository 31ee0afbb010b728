/*
 * What kubectl prints loads as it is: the files in tests/data/kubectl/
 * (README.md there says which kubectl command made each) are uploaded with
 * PUT /state, or given to --load, unchanged. `kubectl get ... -A -o yaml`
 * and `-o json`, with and without --show-managed-fields, are one List of
 * Namespaces, Pods, NetworkPolicies and Deployments carrying status,
 * resourceVersion, uid, ownerReferences, annotations and managedFields;
 * `kubectl create|run --dry-run=client` prints single objects with
 * "creationTimestamp: null" and empty status.
 *
 * Deployments load as workloads (pod templates): each is counted, none is
 * skipped, and queries can name them as endpoints.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"
#include "tests/support/testdata.h"

#define KUBECTL_DIR NETPOLQ_TEST_DATA "/kubectl"

static bool
ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s);
    size_t lx = strlen(suffix);

    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Sends the file as kubectl's output would be sent: .json as
 * application/json, anything else as application/yaml. */
static void
upload(const char *method, const char *name, struct thttp_resp *r)
{
    char path[512];
    size_t len;
    char *body;

    snprintf(path, sizeof(path), "%s/%s", KUBECTL_DIR, name);
    body = tdata_read(path, &len);
    cr_assert_eq(thttp_request(tsuite_srv.base, method, "/state",
                               ends_with(name, ".json") ? "application/json"
                                                        : "application/yaml",
                               body, len, r),
                 0);
    free(body);
    cr_assert_eq(r->status, 200, "%s /state %s: %ld %s", method, name,
                 r->status, r->body);
    cr_assert(json_is_object(r->json), "not JSON: %s", r->body);
}

static json_int_t
count(const struct thttp_resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);

    cr_assert(json_is_integer(v), "no integer \"%s\" in %s", key, r->body);
    return json_integer_value(v);
}

/* The number of warnings that contain needle. */
static size_t
warnings_with(const struct thttp_resp *r, const char *needle)
{
    json_t *warnings = json_object_get(r->json, "warnings");
    json_t *w;
    size_t i;
    size_t n = 0;

    cr_assert(json_is_array(warnings), "no warnings array in %s", r->body);
    json_array_foreach(warnings, i, w)
    {
        const char *s = json_string_value(w);

        if (s != NULL && strstr(s, needle) != NULL)
            n++;
    }
    return n;
}

/* Every Deployment in the upload is loaded as a workload: the answer
 * counts n workloads and skips nothing. */
static void
assert_workloads(const struct thttp_resp *r, json_int_t n)
{
    cr_assert_eq(count(r, "workloads"), n, "%s", r->body);
    cr_assert_eq(warnings_with(r, "skipped"), 0, "%s", r->body);
}

static json_t *
reach(const char *query)
{
    struct thttp_resp r;
    json_t *answer;

    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", query, strlen(query), &r),
                 0);
    cr_assert_eq(r.status, 200, "%s: %ld %s", query, r.status, r.body);
    answer = json_incref(r.json);
    thttp_resp_fini(&r);
    return answer;
}

static bool
answer_allowed(json_t *answer)
{
    json_t *v = json_object_get(answer, "allowed");

    cr_assert(json_is_boolean(v), "no \"allowed\" in the answer");
    return json_is_true(v);
}

TestSuite(kubectl, .init = tsuite_start, .fini = tsuite_stop);
TestSuite(kubectl_load, .fini = tsuite_stop);

/* --- kubectl get namespaces,pods,networkpolicies,deployments -A ---------- */

struct get_case {
    char file[48];
};

static struct get_case get_cases[] = {
    { .file = "get-all.yaml" },
    { .file = "get-all.json" },
    { .file = "get-all-managed-fields.yaml" },
    { .file = "get-all-managed-fields.json" },
};

ParameterizedTestParameters(kubectl, get_list_loads_as_is)
{
    return cr_make_param_array(struct get_case, get_cases,
                               sizeof(get_cases) / sizeof(get_cases[0]));
}

/* The cluster in the List: namespaces default, kube-system and shop; seven
 * pods (two web replicas, a client, a finished Job pod whose IP a web
 * replica now has, CoreDNS, and two hostNetwork pods sharing the node's
 * address); two policies in shop; two Deployments. */
ParameterizedTest(struct get_case *c, kubectl, get_list_loads_as_is)
{
    struct thttp_resp r;

    upload("PUT", c->file, &r);
    cr_assert_eq(count(&r, "namespaces"), 3, "%s: %s", c->file, r.body);
    cr_assert_eq(count(&r, "pods"), 7, "%s: %s", c->file, r.body);
    cr_assert_eq(count(&r, "networkPolicies"), 2, "%s: %s", c->file, r.body);
    assert_workloads(&r, 2);
    /* Neither the finished pod nor the hostNetwork pods make two pods
     * claim one address. */
    cr_assert_eq(warnings_with(&r, "both have IP"), 0, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

ParameterizedTestParameters(kubectl, get_list_answers_by_its_policies)
{
    return cr_make_param_array(struct get_case, get_cases,
                               sizeof(get_cases) / sizeof(get_cases[0]));
}

/* shop: default-deny-ingress isolates every pod; allow-client-to-web
 * admits app=client to app=web on the named port http (80/TCP). */
ParameterizedTest(struct get_case *c, kubectl, get_list_answers_by_its_policies)
{
    struct thttp_resp r;
    json_t *a;
    const char *to_pod;

    upload("PUT", c->file, &r);
    thttp_resp_fini(&r);

    a = reach("{\"from\":{\"namespace\":\"shop\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"shop\",\"pod\":"
              "\"web-7d9c6b8f5c-2xkqp\"},\"port\":80}");
    cr_assert(answer_allowed(a), "client -> web:80 denied (%s)", c->file);
    json_decref(a);

    a = reach("{\"from\":{\"namespace\":\"shop\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"shop\",\"pod\":"
              "\"web-7d9c6b8f5c-9lmvn\"},\"port\":443}");
    cr_assert(!answer_allowed(a), "client -> web:443 allowed (%s)", c->file);
    json_decref(a);

    a = reach("{\"from\":{\"namespace\":\"kube-system\",\"pod\":"
              "\"coredns-5d78c9869d-x8w4n\"},\"to\":{\"namespace\":\"shop\","
              "\"pod\":\"web-7d9c6b8f5c-9lmvn\"},\"port\":80}");
    cr_assert(!answer_allowed(a), "coredns -> web:80 allowed (%s)", c->file);
    json_decref(a);

    /* 10.244.1.12 was the finished Job pod's and is now web-...-2xkqp's. */
    a = reach("{\"from\":{\"namespace\":\"shop\",\"pod\":\"client\"},"
              "\"to\":{\"ip\":\"10.244.1.12\"},\"port\":80}");
    to_pod =
        json_string_value(json_object_get(json_object_get(a, "to"), "pod"));
    cr_assert(to_pod != NULL && strcmp(to_pod, "web-7d9c6b8f5c-2xkqp") == 0,
              "10.244.1.12 means %s, want web-7d9c6b8f5c-2xkqp (%s)",
              to_pod != NULL ? to_pod : "no pod", c->file);
    cr_assert(answer_allowed(a), "client -> 10.244.1.12:80 denied");
    json_decref(a);

    /* A hostNetwork pod is no pod to a podSelector: web refuses it. */
    a = reach("{\"from\":{\"namespace\":\"kube-system\",\"pod\":"
              "\"kube-proxy-7x2hd\"},\"to\":{\"namespace\":\"shop\","
              "\"pod\":\"web-7d9c6b8f5c-2xkqp\"},\"port\":80}");
    cr_assert(!answer_allowed(a), "kube-proxy -> web:80 allowed (%s)", c->file);
    json_decref(a);

    /* The Deployment answers as its pod template (app=web, port http). */
    a = reach("{\"from\":{\"namespace\":\"shop\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"shop\",\"workload\":"
              "\"Deployment/web\"},\"port\":\"http\"}");
    cr_assert(answer_allowed(a), "client -> Deployment/web http denied (%s)",
              c->file);
    json_decref(a);
    a = reach("{\"from\":{\"namespace\":\"kube-system\",\"workload\":"
              "\"Deployment/coredns\"},\"to\":{\"namespace\":\"shop\","
              "\"workload\":\"Deployment/web\"},\"port\":80}");
    cr_assert(!answer_allowed(a),
              "Deployment/coredns -> Deployment/web "
              "allowed (%s)",
              c->file);
    json_decref(a);

    /* CoreDNS's named UDP port, with nothing isolating kube-system. */
    a = reach("{\"from\":{\"namespace\":\"shop\",\"pod\":\"client\"},"
              "\"to\":{\"namespace\":\"kube-system\",\"pod\":"
              "\"coredns-5d78c9869d-x8w4n\"},\"port\":\"dns\","
              "\"protocol\":\"UDP\"}");
    cr_assert(answer_allowed(a), "client -> coredns dns/UDP denied");
    json_decref(a);

    cr_assert_eq(thttp_get(tsuite_srv.base,
                           "/pods/shop/web-7d9c6b8f5c-2xkqp/isolation", &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "shop/default-deny-ingress") != NULL &&
                  strstr(r.body, "shop/allow-client-to-web") != NULL,
              "isolation of web: %s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* The YAML and the JSON form are the same cluster: PUT one, then POST the
 * other (create or replace each object) changes no count. */
Test(kubectl, yaml_and_json_are_the_same_objects)
{
    struct thttp_resp r;

    upload("PUT", "get-all.yaml", &r);
    thttp_resp_fini(&r);
    upload("POST", "get-all-managed-fields.json", &r);
    cr_assert_eq(count(&r, "namespaces"), 3, "%s", r.body);
    cr_assert_eq(count(&r, "pods"), 7, "%s", r.body);
    cr_assert_eq(count(&r, "networkPolicies"), 2, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* --- kubectl create / run --dry-run=client ------------------------------ */

Test(kubectl, create_namespace_json_loads)
{
    struct thttp_resp r;

    upload("PUT", "create-namespace-shop.json", &r);
    cr_assert_eq(count(&r, "namespaces"), 1, "%s", r.body);
    cr_assert_eq(count(&r, "pods"), 0, "%s", r.body);
    cr_assert_eq(warnings_with(&r, ""), 0, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/namespaces", &r), 0);
    cr_assert(strstr(r.body, "\"shop\"") != NULL, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* kubectl run leaves out the namespace unless -n is given: the pod goes to
 * "default", as kubectl apply would put it with no current namespace. */
Test(kubectl, run_pod_yaml_loads_into_default)
{
    struct thttp_resp r;

    upload("PUT", "run-client.yaml", &r);
    cr_assert_eq(count(&r, "pods"), 1, "%s", r.body);
    cr_assert_eq(warnings_with(&r, ""), 0, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(
        thttp_get(tsuite_srv.base, "/pods/default/client/isolation", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* kubectl create deployment leaves out the namespace, as kubectl run
 * does: the workload goes to "default". */
Test(kubectl, create_deployment_loads_as_a_workload)
{
    struct thttp_resp r;

    upload("PUT", "create-deployment-web.yaml", &r);
    cr_assert_eq(count(&r, "pods"), 0, "%s", r.body);
    cr_assert_eq(count(&r, "networkPolicies"), 0, "%s", r.body);
    assert_workloads(&r, 1);
    thttp_resp_fini(&r);
    cr_assert_eq(
        thttp_get(tsuite_srv.base, "/workloads/default/Deployment/web", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* Building a state from dry-run outputs, one POST each, as a CI job that
 * renders its manifests with kubectl would. */
Test(kubectl, dry_run_outputs_build_one_state)
{
    struct thttp_resp r;
    json_t *isolation;

    upload("PUT", "create-namespace-shop.json", &r);
    thttp_resp_fini(&r);
    upload("POST", "run-client-shop.json", &r);
    thttp_resp_fini(&r);
    upload("POST", "create-networkpolicy-allow-client-to-web.yaml", &r);
    cr_assert_eq(count(&r, "namespaces"), 1, "%s", r.body);
    cr_assert_eq(count(&r, "pods"), 1, "%s", r.body);
    cr_assert_eq(count(&r, "networkPolicies"), 1, "%s", r.body);
    thttp_resp_fini(&r);

    /* The policy selects app=web, not the app=client pod. */
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/shop/client/isolation", &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    isolation = json_object_get(r.json, "ingress");
    cr_assert(json_is_false(json_object_get(isolation, "isolated")), "%s",
              r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* --- --load -------------------------------------------------------------- */

Test(kubectl_load, get_list_file_loads_at_start)
{
    static const char *const args[] = {
        "--load", KUBECTL_DIR "/get-all-managed-fields.yaml", NULL
    };
    struct thttp_resp r;

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_assert_eq(count(&r, "namespaces"), 3, "%s", r.body);
    cr_assert_eq(count(&r, "pods"), 7, "%s", r.body);
    cr_assert_eq(count(&r, "networkPolicies"), 2, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}
