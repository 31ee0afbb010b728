/*
 * api/state.c and api/load.c through api_dispatch(): uploads (PUT replaces,
 * POST merges), GET /state, deletions, all-or-nothing errors with their
 * position in the body, and start-up loads.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "core/snapshot.h"
#include "tests/support/dispatch.h"
#include "tests/support/testdata.h"

#ifndef NETPOLQ_TEST_DATA
#define NETPOLQ_TEST_DATA "tests/data"
#endif

static struct api_ctx ctx;

static void
setup(void)
{
    tdisp_ctx_init(&ctx);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

TestSuite(state, .init = setup, .fini = teardown);

/* Sends one request; returns the parsed answer (owned) and its status. */
static json_t *
call(const char *method, const char *path, const char *ct, const char *body,
     int *status)
{
    struct api_response resp;
    json_error_t jerr;
    json_t *answer;

    tdisp_raw(&ctx, method, path, NULL, 0, ct, body, &resp);
    cr_assert_not_null(resp.body, "%s %s: no body", method, path);
    answer = json_loadb(resp.body, resp.body_len, 0, &jerr);
    cr_assert_not_null(answer, "%s %s: answer is not JSON: %s", method, path,
                       resp.body);
    *status = resp.status;
    api_response_fini(&resp);
    return answer;
}

/* Sends a request that must answer want_status; returns the answer. */
static json_t *
expect(const char *method, const char *path, const char *ct, const char *body,
       int want_status)
{
    int status;
    json_t *answer = call(method, path, ct, body, &status);
    char *text = json_dumps(answer, JSON_COMPACT);

    cr_assert_eq(status, want_status, "%s %s: status %d: %s", method, path,
                 status, text);
    free(text);
    return answer;
}

static json_int_t
int_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    cr_assert(json_is_integer(v), "\"%s\" is not an integer", key);
    return json_integer_value(v);
}

static const char *
str_of(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    cr_assert(json_is_string(v), "\"%s\" is not a string", key);
    return json_string_value(v);
}

static void
assert_counts(const json_t *answer, json_int_t revision, json_int_t nns,
              json_int_t npods, json_int_t npols)
{
    cr_assert_eq(int_of(answer, "revision"), revision);
    cr_assert_eq(int_of(answer, "namespaces"), nns);
    cr_assert_eq(int_of(answer, "pods"), npods);
    cr_assert_eq(int_of(answer, "networkPolicies"), npols);
}

static json_int_t
revision(void)
{
    json_t *a = expect("GET", "/state", NULL, NULL, 200);
    json_int_t rev = int_of(a, "revision");

    json_decref(a);
    return rev;
}

static const char cluster[] =
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata: {name: prod, labels: {env: prod}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: web, namespace: prod, labels: {app: web}}\n"
    "status: {podIP: 10.0.0.1}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: db, namespace: prod, labels: {app: db}}\n"
    "status: {podIP: 10.0.0.2}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: job, namespace: batch}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: prod}\n"
    "spec: {podSelector: {}}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: web, namespace: prod}\n";

/* --- GET and PUT --- */

Test(state, starts_empty_at_revision_zero)
{
    json_t *a = expect("GET", "/state", NULL, NULL, 200);

    assert_counts(a, 0, 0, 0, 0);
    cr_assert_eq(int_of(a, "implicitNamespaces"), 0);
    json_decref(a);
}

Test(state, put_then_get_counts_objects_and_implicit_namespaces)
{
    json_t *a = expect("PUT", "/state", "application/yaml", cluster, 200);
    json_t *w;

    /* batch exists only because job/batch names it. */
    assert_counts(a, 1, 2, 3, 1);
    w = json_object_get(a, "warnings");
    cr_assert_eq(json_array_size(w), 1);
    cr_assert_str_eq(json_string_value(json_array_get(w, 0)),
                     "document 5: skipped Service prod/web (kind not "
                     "evaluated)");
    json_decref(a);

    a = expect("GET", "/state", NULL, NULL, 200);
    assert_counts(a, 1, 2, 3, 1);
    cr_assert_eq(int_of(a, "implicitNamespaces"), 1);
    cr_assert_null(json_object_get(a, "warnings"));
    json_decref(a);
}

Test(state, put_replaces_the_whole_state)
{
    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    json_t *a = expect("PUT", "/state", "application/json",
                       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                       "\"metadata\":{\"name\":\"only\"}}",
                       200);

    assert_counts(a, 2, 1, 0, 0);
    json_decref(a);
}

Test(state, put_with_an_empty_body_empties_the_state)
{
    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    json_t *a = expect("PUT", "/state", "application/yaml", NULL, 200);

    assert_counts(a, 2, 0, 0, 0);
    json_decref(a);
}

Test(state, json_without_content_type_is_sniffed)
{
    json_t *a = expect("PUT", "/state", NULL,
                       "  {\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":"
                       "[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                       "\"metadata\":{\"name\":\"a\"}}]}",
                       200);

    assert_counts(a, 1, 1, 0, 0);
    json_decref(a);
    a = expect("PUT", "/state", NULL,
               "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n", 200);
    assert_counts(a, 2, 1, 0, 0);
    json_decref(a);
}

Test(state, unsupported_content_type_is_415_and_changes_nothing)
{
    json_t *a = expect("PUT", "/state", "text/plain", cluster, 415);

    cr_assert_str_eq(str_of(json_object_get(a, "error"), "code"),
                     "unsupported_media_type");
    json_decref(a);
    cr_assert_eq(revision(), 0);
}

Test(state, unknown_query_argument_is_400)
{
    static const struct api_kv args[] = { { .key = "x", .value = "1" } };
    struct api_request req = {
        .method = "GET",
        .path = "/state",
        .nquery = 1,
        .query = args,
    };
    struct api_response resp;

    memset(&resp, 0, sizeof(resp));
    api_dispatch(&ctx, &req, &resp);
    cr_assert_eq(resp.status, 400, "%s", resp.body);
    api_response_fini(&resp);
}

/* --- POST --- */

Test(state, post_creates_or_replaces_by_kind_namespace_and_name)
{
    struct np_snapshot *snap;
    const struct np_pod *pod;
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("POST", "/state", "application/yaml",
               "apiVersion: v1\nkind: Pod\n"
               "metadata: {name: web, namespace: prod, labels: {app: web2}}\n"
               "---\n"
               "apiVersion: v1\nkind: Pod\n"
               "metadata: {name: cache, namespace: prod}\n"
               "---\n"
               "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: deny, namespace: batch}\n",
               200);
    /* web replaced, cache added; a policy of the same name in another
     * namespace is another object. */
    assert_counts(a, 2, 2, 4, 2);
    json_decref(a);

    snap = np_state_acquire(&ctx.state);
    pod = np_snapshot_find_pod(snap, "prod", "web");
    cr_assert_not_null(pod);
    cr_assert_eq(pod->model->nlabels, 1);
    cr_assert_str_eq(pod->model->labels[0].value, "web2");
    /* Replaced as a whole: the old status.podIP is gone. */
    cr_assert_eq(pod->nips, 0);
    cr_assert_not_null(np_snapshot_find_pod(snap, "prod", "db"));
    cr_assert_not_null(np_snapshot_find_policy(snap, "prod", "deny"));
    np_snapshot_release(snap);
}

Test(state, post_of_a_namespace_keeps_its_pods)
{
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("POST", "/state", "application/yaml",
               "apiVersion: v1\nkind: Namespace\n"
               "metadata: {name: prod, labels: {env: staging}}\n",
               200);
    assert_counts(a, 2, 2, 3, 1);
    json_decref(a);
}

Test(state, post_with_a_duplicate_in_the_body_is_400)
{
    json_t *a;
    json_t *e;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("POST", "/state", "application/yaml",
               "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: "
               "prod}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n"
               "  name: x\n  namespace: prod\n",
               400);
    e = json_object_get(a, "error");
    cr_assert_str_eq(str_of(e, "code"), "duplicate_object");
    cr_assert_eq(int_of(e, "document"), 1);
    cr_assert_str_eq(str_of(e, "path"), "metadata.name");
    cr_assert_eq(int_of(e, "line"), 8);
    json_decref(a);
    cr_assert_eq(revision(), 1);
}

/* --- errors are all or nothing --- */

Test(state, invalid_upload_says_where_and_keeps_the_revision)
{
    char *body = tdata_manifest("bad-cidr.yaml", NULL);
    json_t *a;
    json_t *e;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("PUT", "/state", "application/yaml", body, 400);
    e = json_object_get(a, "error");
    cr_assert_str_eq(str_of(e, "code"), "invalid_cidr");
    cr_assert_eq(int_of(e, "document"), 1);
    cr_assert_eq(int_of(e, "line"), 18);
    cr_assert_gt(int_of(e, "column"), 0);
    cr_assert_str_eq(str_of(e, "path"), "spec.egress[0].to[1].ipBlock.cidr");
    json_decref(a);
    free(body);

    a = expect("GET", "/state", NULL, NULL, 200);
    assert_counts(a, 1, 2, 3, 1);
    json_decref(a);
}

Test(state, type_error_in_a_list_item_points_at_the_item)
{
    json_t *a;
    json_t *e;

    a = expect("POST", "/state", "application/json",
               "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n"
               "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
               "{\"name\":\"a\"}},\n"
               "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
               "\"p\"},\n"
               " \"spec\":{\"hostNetwork\":\"yes\"}}]}",
               400);
    e = json_object_get(a, "error");
    cr_assert_str_eq(str_of(e, "code"), "invalid_type");
    cr_assert_eq(int_of(e, "document"), 0);
    cr_assert_str_eq(str_of(e, "path"), "items[1].spec.hostNetwork");
    cr_assert_eq(int_of(e, "line"), 4);
    json_decref(a);
    cr_assert_eq(revision(), 0);
}

Test(state, syntax_error_is_400_with_a_line)
{
    json_t *a = expect("PUT", "/state", "application/yaml",
                       "apiVersion: v1\nkind: [\n", 400);
    json_t *e = json_object_get(a, "error");

    cr_assert_str_eq(str_of(e, "code"), "syntax_error");
    cr_assert_gt(int_of(e, "line"), 0);
    json_decref(a);
}

/* --- deletions --- */

Test(state, delete_state_empties_it_at_a_new_revision)
{
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("DELETE", "/state", NULL, NULL, 200);
    assert_counts(a, 2, 0, 0, 0);
    cr_assert(json_is_array(json_object_get(a, "warnings")));
    json_decref(a);
}

Test(state, delete_namespace_removes_its_pods_and_policies)
{
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("DELETE", "/namespaces/prod", NULL, NULL, 200);
    assert_counts(a, 2, 1, 1, 0);
    json_decref(a);
    /* An implicit namespace goes with its last pod. */
    a = expect("DELETE", "/namespaces/batch", NULL, NULL, 200);
    assert_counts(a, 3, 0, 0, 0);
    json_decref(a);
}

Test(state, delete_pod_and_policy)
{
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("DELETE", "/namespaces/prod/pods/web", NULL, NULL, 200);
    assert_counts(a, 2, 2, 2, 1);
    json_decref(a);
    a = expect("DELETE", "/namespaces/prod/networkpolicies/deny", NULL, NULL,
               200);
    assert_counts(a, 3, 2, 2, 0);
    json_decref(a);
}

struct missing_case {
    char path[64];
    char code[32];
};

ParameterizedTestParameters(state, delete_of_a_missing_object_is_404)
{
    static struct missing_case cases[] = {
        { .path = "/namespaces/nope", .code = "unknown_namespace" },
        { .path = "/namespaces/prod/pods/nope", .code = "unknown_pod" },
        { .path = "/namespaces/nope/pods/web", .code = "unknown_pod" },
        { .path = "/namespaces/prod/networkpolicies/nope",
          .code = "unknown_policy" },
        { .path = "/namespaces/batch/networkpolicies/deny",
          .code = "unknown_policy" },
    };

    return cr_make_param_array(struct missing_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct missing_case *c, state,
                  delete_of_a_missing_object_is_404)
{
    json_t *a;

    json_decref(expect("PUT", "/state", "application/yaml", cluster, 200));
    a = expect("DELETE", c->path, NULL, NULL, 404);
    cr_assert_str_eq(str_of(json_object_get(a, "error"), "code"), c->code);
    json_decref(a);
    cr_assert_eq(revision(), 1);
}

/* --- start-up loads --- */

Test(state, load_files_publishes_one_revision)
{
    static const char ns[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
        "\"name\":\"test\"}}";
    size_t len;
    char *pods = tdata_manifest("podlist.json", &len);
    char *pols = tdata_manifest("networkpolicylist.yaml", NULL);
    struct api_file files[] = {
        { .name = "ns.JSON", .data = ns, .len = strlen(ns) },
        { .name = "podlist.json", .data = pods, .len = len },
        { .name = "policies.yaml", .data = pols, .len = strlen(pols) },
    };
    struct np_error err;
    json_t *a;

    np_error_init(&err);
    cr_assert_eq(api_load_files(&ctx, files, 3, &err), 0, "%s", err.message);
    a = expect("GET", "/state", NULL, NULL, 200);
    assert_counts(a, 1, 1, 2, 2);
    json_decref(a);
    free(pods);
    free(pols);
}

Test(state, load_files_errors_name_the_file_and_load_nothing)
{
    static const char a[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n";
    static const char b[] = "# the same pod again\n"
                            "apiVersion: v1\n"
                            "kind: Pod\n"
                            "metadata:\n"
                            "  name: x\n";
    struct api_file files[] = {
        { .name = "a.yaml", .data = a, .len = strlen(a) },
        { .name = "dir/b.yaml", .data = b, .len = strlen(b) },
    };
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(api_load_files(&ctx, files, 2, &err), -1);
    cr_assert_eq(err.code, NP_E_DUPLICATE_OBJECT);
    cr_assert(strncmp(err.message, "dir/b.yaml: ", 12) == 0, "%s", err.message);
    cr_assert_eq(err.document, 0);
    cr_assert_eq(err.line, 5);
    cr_assert_str_eq(err.path, "metadata.name");
    cr_assert_eq(revision(), 0);
}
