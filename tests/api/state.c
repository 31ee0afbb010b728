/*
 * The cluster state through the real binary: GET /state counts, PUT
 * replaces, POST merges by kind, namespace and name, DELETE removes the
 * whole state or one namespace, pod or policy, and every change is one new
 * revision. An upload that fails (a bad CIDR deep in a multi-document
 * stream, duplicate objects, an unsupported media type) answers where the
 * problem is and leaves the previous revision answering as before. Also:
 * the accepted media types and List kinds, skipped kinds with warnings, pod
 * isolation, the health endpoints and the served openapi.yaml.
 */
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

TestSuite(state, .init = tsuite_start, .fini = tsuite_assert_exit_0);
TestSuite(uploads, .init = tsuite_start, .fini = tsuite_assert_exit_0);
TestSuite(isolation, .init = tsuite_start, .fini = tsuite_assert_exit_0);
TestSuite(service, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/*
 * prod (declared) holds web and db; a pod in "scratch" makes that
 * namespace exist implicitly. prod/deny-ingress isolates every prod pod
 * for ingress; prod/db-egress has egress rules and no policyTypes, so it
 * is Ingress and Egress for db. web has two container ports.
 */
static const char cluster[] =
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata:\n"
    "  name: prod\n"
    "  labels: {env: prod}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Namespace\n"
    "metadata:\n"
    "  name: stage\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: web\n"
    "  namespace: prod\n"
    "  labels: {app: web}\n"
    "spec:\n"
    "  containers:\n"
    "  - name: web\n"
    "    ports: [{name: http, containerPort: 80}]\n"
    "status: {podIP: 10.3.0.10}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: db\n"
    "  namespace: prod\n"
    "  labels: {app: db}\n"
    "spec: {containers: [{name: db}]}\n"
    "status: {podIP: 10.3.0.11}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata:\n"
    "  name: tmp\n"
    "  namespace: scratch\n"
    "  labels: {app: tmp}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.3.1.10}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata:\n"
    "  name: deny-ingress\n"
    "  namespace: prod\n"
    "spec:\n"
    "  podSelector: {}\n"
    "  policyTypes: [Ingress]\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata:\n"
    "  name: db-egress\n"
    "  namespace: prod\n"
    "spec:\n"
    "  podSelector: {matchLabels: {app: db}}\n"
    "  egress:\n"
    "  - to: [{podSelector: {matchLabels: {app: web}}}]\n";

/* tmp -> web on 80: denied by prod/deny-ingress. */
static const char probe[] =
    "{\"from\":{\"namespace\":\"scratch\",\"pod\":\"tmp\"},"
    "\"to\":{\"namespace\":\"prod\",\"pod\":\"web\"},\"port\":80}";

static void
upload(const char *method, const char *ct, const char *body, size_t len,
       struct thttp_resp *r)
{
    cr_assert_eq(
        thttp_request(tsuite_srv.base, method, "/state", ct, body, len, r), 0,
        "%s /state: no answer", method);
}

/* Uploads and expects 200; returns the revision and checks the answer's
 * shape (CONTRACT.md). */
static long
upload_ok(const char *method, const char *ct, const char *body)
{
    struct thttp_resp r;
    long rev;

    upload(method, ct, body, strlen(body), &r);
    cr_assert_eq(r.status, 200, "%s /state: %ld %s", method, r.status, r.body);
    cr_assert(json_is_integer(json_object_get(r.json, "revision")), "%s",
              r.body);
    cr_assert(json_is_integer(json_object_get(r.json, "namespaces")), "%s",
              r.body);
    cr_assert(json_is_integer(json_object_get(r.json, "pods")), "%s", r.body);
    cr_assert(json_is_integer(json_object_get(r.json, "networkPolicies")), "%s",
              r.body);
    cr_assert(json_is_array(json_object_get(r.json, "warnings")), "%s", r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    return rev;
}

static long
put_cluster(void)
{
    return upload_ok("PUT", "application/yaml", cluster);
}

/* GET /state as {revision, namespaces, pods, networkPolicies}. */
struct counts {
    long revision, namespaces, pods, policies;
};

static struct counts
get_counts(void)
{
    struct thttp_resp r;
    struct counts c;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_assert_eq(r.status, 200, "GET /state: %ld %s", r.status, r.body);
    c.revision = (long)json_integer_value(json_object_get(r.json, "revision"));
    c.namespaces =
        (long)json_integer_value(json_object_get(r.json, "namespaces"));
    c.pods = (long)json_integer_value(json_object_get(r.json, "pods"));
    c.policies =
        (long)json_integer_value(json_object_get(r.json, "networkPolicies"));
    thttp_resp_fini(&r);
    return c;
}

static void
expect_counts(long namespaces, long pods, long policies)
{
    struct counts c = get_counts();

    cr_expect_eq(c.namespaces, namespaces, "namespaces %ld, want %ld",
                 c.namespaces, namespaces);
    cr_expect_eq(c.pods, pods, "pods %ld, want %ld", c.pods, pods);
    cr_expect_eq(c.policies, policies, "networkPolicies %ld, want %ld",
                 c.policies, policies);
}

/* The full answer to the probe query (owned). */
static json_t *
ask_probe(void)
{
    struct thttp_resp r;
    json_t *answer;

    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", probe, strlen(probe), &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    answer = json_incref(r.json);
    thttp_resp_fini(&r);
    return answer;
}

static long
status_of(const char *method, const char *path)
{
    struct thttp_resp r;
    long status;

    cr_assert_eq(
        thttp_request(tsuite_srv.base, method, path, NULL, NULL, 0, &r), 0);
    status = r.status;
    thttp_resp_fini(&r);
    return status;
}

Test(state, empty_state_is_revision_0)
{
    struct counts c = get_counts();

    cr_expect_eq(c.revision, 0);
    cr_expect_eq(c.namespaces, 0);
    cr_expect_eq(c.pods, 0);
    cr_expect_eq(c.policies, 0);
}

Test(state, get_counts_declared_and_implicit_namespaces)
{
    long rev = put_cluster();
    struct counts c = get_counts();

    cr_expect_eq(c.revision, rev);
    /* prod and stage are declared; scratch exists through its pod. */
    expect_counts(3, 3, 2);
}

Test(state, put_replaces_the_whole_state)
{
    struct thttp_resp r;

    put_cluster();
    upload_ok("PUT", "application/yaml",
              "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n");
    expect_counts(1, 0, 0);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/prod/web", &r), 0);
    tassert_json_error(&r, 404, "unknown_pod", NULL);
    thttp_resp_fini(&r);
}

Test(state, post_creates_and_replaces_by_kind_namespace_and_name)
{
    struct thttp_resp r;
    json_t *labels;

    put_cluster();
    /* web gets new labels, a new pod joins stage, deny-ingress changes. */
    upload_ok("POST", "application/yaml",
              "apiVersion: v1\nkind: Pod\n"
              "metadata: {name: web, namespace: prod, labels: {app: web2}}\n"
              "spec: {containers: [{name: web}]}\n"
              "status: {podIP: 10.3.0.10}\n"
              "---\n"
              "apiVersion: v1\nkind: Pod\n"
              "metadata: {name: new, namespace: stage}\n"
              "spec: {containers: [{name: c}]}\n"
              "---\n"
              "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: deny-ingress, namespace: prod}\n"
              "spec: {podSelector: {matchLabels: {app: db}}}\n");
    expect_counts(3, 4, 2);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/prod/web", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    labels = json_object_get(r.json, "labels");
    cr_expect_str_eq(json_string_value(json_object_get(labels, "app")), "web2",
                     "%s", r.body);
    thttp_resp_fini(&r);
    /* The replaced policy no longer selects web: tmp reaches it. */
    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", probe, strlen(probe), &r),
                 0);
    cr_expect(json_is_true(json_object_get(r.json, "allowed")), "%s", r.body);
    thttp_resp_fini(&r);
}

Test(state, every_change_is_one_new_revision)
{
    struct thttp_resp r;
    long rev = put_cluster();
    static const char *const deletions[][2] = {
        { "DELETE", "/namespaces/prod/networkpolicies/db-egress" },
        { "DELETE", "/namespaces/prod/pods/db" },
        { "DELETE", "/namespaces/scratch" },
        { "DELETE", "/state" },
    };
    size_t i;

    cr_expect_eq(get_counts().revision, rev);
    cr_expect_eq(upload_ok("POST", "application/yaml",
                           "apiVersion: v1\nkind: Namespace\n"
                           "metadata: {name: extra}\n"),
                 rev + 1);
    rev++;
    cr_expect_eq(upload_ok("PUT", "application/yaml", cluster), rev + 1);
    rev++;
    for (i = 0; i < sizeof(deletions) / sizeof(deletions[0]); i++) {
        cr_assert_eq(thttp_request(tsuite_srv.base, deletions[i][0],
                                   deletions[i][1], NULL, NULL, 0, &r),
                     0);
        cr_expect_eq(r.status, 200, "%s %s: %ld %s", deletions[i][0],
                     deletions[i][1], r.status, r.body);
        cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")),
                     rev + 1, "%s %s: %s", deletions[i][0], deletions[i][1],
                     r.body);
        thttp_resp_fini(&r);
        rev++;
        cr_expect_eq(get_counts().revision, rev);
    }
}

Test(state, deletions_remove_one_object_each)
{
    struct thttp_resp r;

    put_cluster();
    cr_expect_eq(status_of("DELETE", "/namespaces/prod/networkpolicies/"
                                     "deny-ingress"),
                 200);
    expect_counts(3, 3, 1);
    cr_expect_eq(status_of("DELETE", "/namespaces/prod/pods/db"), 200);
    expect_counts(3, 2, 1);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/prod/db", &r), 0);
    tassert_json_error(&r, 404, "unknown_pod", NULL);
    thttp_resp_fini(&r);
    /* Without deny-ingress, tmp reaches web. */
    {
        json_t *a = ask_probe();

        cr_expect(json_is_true(json_object_get(a, "allowed")));
        json_decref(a);
    }
}

Test(state, deleting_a_namespace_removes_its_pods_and_policies)
{
    put_cluster();
    cr_expect_eq(status_of("DELETE", "/namespaces/prod"), 200);
    expect_counts(2, 1, 0);
    /* An implicit namespace can be deleted too. */
    cr_expect_eq(status_of("DELETE", "/namespaces/scratch"), 200);
    expect_counts(1, 0, 0);
}

Test(state, delete_state_empties_everything)
{
    put_cluster();
    cr_expect_eq(status_of("DELETE", "/state"), 200);
    expect_counts(0, 0, 0);
}

struct missing_row {
    char path[64];
    char code[24];
};

ParameterizedTestParameters(state, deleting_a_missing_object_is_404)
{
    static struct missing_row rows[] = {
        { "/namespaces/nope", "unknown_namespace" },
        { "/namespaces/prod/pods/nope", "unknown_pod" },
        { "/namespaces/nope/pods/web", "unknown_pod" },
        { "/namespaces/prod/networkpolicies/nope", "unknown_policy" },
        { "/namespaces/stage/networkpolicies/deny-ingress", "unknown_policy" },
    };

    return cr_make_param_array(struct missing_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct missing_row *row, state,
                  deleting_a_missing_object_is_404)
{
    struct thttp_resp r;
    long rev = put_cluster();

    cr_assert_eq(
        thttp_request(tsuite_srv.base, "DELETE", row->path, NULL, NULL, 0, &r),
        0);
    tassert_json_error(&r, 404, row->code, NULL);
    thttp_resp_fini(&r);
    cr_expect_eq(get_counts().revision, rev,
                 "a failed deletion changed the "
                 "revision");
    expect_counts(3, 3, 2);
}

/* A stream whose third document (index 2) has an invalid CIDR. */
static const char bad_cidr_stream[] = "apiVersion: v1\n"
                                      "kind: Namespace\n"
                                      "metadata:\n"
                                      "  name: prod\n"
                                      "---\n"
                                      "apiVersion: v1\n"
                                      "kind: Pod\n"
                                      "metadata:\n"
                                      "  name: web\n"
                                      "  namespace: prod\n"
                                      "spec: {containers: [{name: c}]}\n"
                                      "---\n"
                                      "apiVersion: networking.k8s.io/v1\n"
                                      "kind: NetworkPolicy\n"
                                      "metadata:\n"
                                      "  name: broken\n"
                                      "  namespace: prod\n"
                                      "spec:\n"
                                      "  podSelector: {}\n"
                                      "  ingress:\n"
                                      "  - from:\n"
                                      "    - ipBlock:\n"
                                      "        cidr: 10.0.0.0/8\n"
                                      "    - ipBlock:\n"
                                      "        cidr: 10.0.0.0/33\n";

/* The 1-based line of the first occurrence of needle in text. */
static long
line_of(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    long line = 1;
    const char *p;

    cr_assert_not_null(at);
    for (p = text; p < at; p++)
        if (*p == '\n')
            line++;
    return line;
}

ParameterizedTestParameters(uploads, bad_cidr_answers_where_and_keeps_state)
{
    static char methods[][8] = { "PUT", "POST" };

    return cr_make_param_array(char[8], methods,
                               sizeof(methods) / sizeof(methods[0]));
}

ParameterizedTest(char (*method)[8], uploads,
                  bad_cidr_answers_where_and_keeps_state)
{
    struct thttp_resp r;
    json_t *before;
    json_t *after;
    json_t *error;
    long rev = put_cluster();

    before = ask_probe();
    upload(*method, "application/yaml", bad_cidr_stream,
           sizeof(bad_cidr_stream) - 1, &r);
    tassert_json_error(&r, 400, "invalid_cidr", NULL);
    error = json_object_get(r.json, "error");
    cr_expect_eq(json_integer_value(json_object_get(error, "document")), 2,
                 "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(error, "line")),
                 line_of(bad_cidr_stream, "10.0.0.0/33"), "%s", r.body);
    cr_expect_str_eq(json_string_value(json_object_get(error, "path")),
                     "spec.ingress[0].from[1].ipBlock.cidr", "%s", r.body);
    thttp_resp_fini(&r);
    /* All or nothing: the previous revision still answers, the same. */
    cr_expect_eq(get_counts().revision, rev);
    expect_counts(3, 3, 2);
    after = ask_probe();
    cr_expect(json_equal(before, after), "the answer changed after a failed "
                                         "upload");
    json_decref(before);
    json_decref(after);
}

struct bad_upload {
    char name[32];
    char content_type[40];
    char body[400];
    long status;
    char code[28];
};

ParameterizedTestParameters(uploads, rejected_upload_keeps_state)
{
    static struct bad_upload rows[] = {
        { .name = "duplicate namespace",
          .content_type = "application/yaml",
          .body = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
                  "---\n"
                  "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
          .status = 400,
          .code = "duplicate_object" },
        { .name = "duplicate pod",
          .content_type = "application/yaml",
          .body = "apiVersion: v1\nkind: Pod\n"
                  "metadata: {name: p, namespace: a}\n"
                  "spec: {containers: [{name: c}]}\n---\n"
                  "apiVersion: v1\nkind: Pod\n"
                  "metadata: {name: p, namespace: a}\n"
                  "spec: {containers: [{name: c}]}\n",
          .status = 400,
          .code = "duplicate_object" },
        { .name = "duplicate policy in a list",
          .content_type = "application/json",
          .body = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
                  "{\"apiVersion\":\"networking.k8s.io/v1\","
                  "\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\","
                  "\"namespace\":\"a\"},\"spec\":{\"podSelector\":{}}},"
                  "{\"apiVersion\":\"networking.k8s.io/v1\","
                  "\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\","
                  "\"namespace\":\"a\"},\"spec\":{\"podSelector\":{}}}]}",
          .status = 400,
          .code = "duplicate_object" },
        { .name = "text/plain",
          .content_type = "text/plain",
          .body = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
          .status = 415,
          .code = "unsupported_media_type" },
        { .name = "application/xml",
          .content_type = "application/xml",
          .body = "<Namespace name=\"a\"/>",
          .status = 415,
          .code = "unsupported_media_type" },
        { .name = "form",
          .content_type = "application/x-www-form-urlencoded",
          .body = "a=b",
          .status = 415,
          .code = "unsupported_media_type" },
    };

    return cr_make_param_array(struct bad_upload, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_upload *row, uploads, rejected_upload_keeps_state)
{
    static const char *const methods[] = { "PUT", "POST" };
    long rev = put_cluster();
    size_t i;

    for (i = 0; i < 2; i++) {
        struct thttp_resp r;

        upload(methods[i], row->content_type, row->body, strlen(row->body), &r);
        cr_expect_eq(r.status, row->status, "%s %s: %ld %s", methods[i],
                     row->name, r.status, r.body);
        tassert_json_error(&r, row->status, row->code, NULL);
        thttp_resp_fini(&r);
        cr_expect_eq(get_counts().revision, rev, "%s %s changed the revision",
                     methods[i], row->name);
    }
    expect_counts(3, 3, 2);
}

struct media_row {
    char content_type[48];
    bool json;
};

ParameterizedTestParameters(uploads, media_type_is_accepted)
{
    static struct media_row rows[] = {
        { "application/yaml", false },
        { "application/x-yaml", false },
        { "text/yaml", false },
        { "application/yaml; charset=utf-8", false },
        { "application/yaml;charset=UTF-8", false },
        { "text/yaml; charset=\"utf-8\"", false },
        { "application/json", true },
        { "application/json; charset=utf-8", true },
        { "Application/JSON", true },
    };

    return cr_make_param_array(struct media_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct media_row *row, uploads, media_type_is_accepted)
{
    const char *body =
        row->json ? "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                    "\"metadata\":{\"name\":\"m\"}}"
                  : "apiVersion: v1\nkind: Namespace\nmetadata: {name: m}\n";

    upload_ok("PUT", row->content_type, body);
    expect_counts(1, 0, 0);
}

Test(uploads, json_list_loads_every_item)
{
    upload_ok(
        "PUT", "application/json",
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
        "\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"ateam\"}}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
        "\"namespace\":\"a\",\"labels\":{\"app\":\"x\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
        "\"status\":{\"podIP\":\"10.4.0.1\"}},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\","
        "\"namespace\":\"a\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}},"
        "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
        "\"metadata\":{\"name\":\"deny\",\"namespace\":\"a\"},"
        "\"spec\":{\"podSelector\":{}}}]}");
    expect_counts(1, 2, 1);
}

Test(uploads, typed_lists_load_like_kubectl_output)
{
    upload_ok("PUT", "application/yaml",
              "apiVersion: v1\nkind: PodList\nitems:\n"
              "- apiVersion: v1\n  kind: Pod\n"
              "  metadata: {name: p1, namespace: a}\n"
              "  spec: {containers: [{name: c}]}\n"
              "- apiVersion: v1\n  kind: Pod\n"
              "  metadata: {name: p2, namespace: b}\n"
              "  spec: {containers: [{name: c}]}\n"
              "---\n"
              "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\n"
              "items:\n"
              "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
              "  metadata: {name: np, namespace: a}\n"
              "  spec: {podSelector: {}}\n");
    expect_counts(2, 2, 1);
}

Test(uploads, other_kinds_are_skipped_with_a_warning_each)
{
    static const char *const kinds[] = { "Service", "Ingress", "ConfigMap" };
    struct thttp_resp r;
    json_t *warnings;
    size_t i;
    static const char body[] =
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n"
        "spec: {ports: [{port: 80}]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: d, namespace: a}\n"
        "spec: {defaultBackend: {service: {name: s, port: {number: 80}}}}\n"
        "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\n"
        "data: {k: v}\n";

    upload("PUT", "application/yaml", body, sizeof(body) - 1, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    warnings = json_object_get(r.json, "warnings");
    cr_expect_eq(json_array_size(warnings), 3, "%s", r.body);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t j;
        json_t *w;
        bool found = false;

        json_array_foreach(warnings, j, w)
        {
            if (json_is_string(w) &&
                strstr(json_string_value(w), kinds[i]) != NULL)
                found = true;
        }
        cr_expect(found, "no warning names %s: %s", kinds[i], r.body);
    }
    thttp_resp_fini(&r);
    expect_counts(1, 0, 0);
}

Test(uploads, empty_put_empties_the_state)
{
    struct thttp_resp r;

    put_cluster();
    upload("PUT", "application/yaml", "", 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    thttp_resp_fini(&r);
    expect_counts(0, 0, 0);
}

Test(uploads, query_arguments_on_state_are_refused)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state?dryRun=1",
                               "application/yaml", cluster, sizeof(cluster) - 1,
                               &r),
                 0);
    tassert_json_error(&r, 400, "unknown_field", NULL);
    thttp_resp_fini(&r);
    expect_counts(0, 0, 0);
}

/* The isolation of a pod: which policies select it for each direction. */
struct isolation_row {
    char pod[24];
    bool ingress;
    char ingress_policies[2][24];
    bool egress;
    char egress_policies[2][24];
};

ParameterizedTestParameters(isolation, answers_the_selecting_policies)
{
    static struct isolation_row rows[] = {
        { .pod = "prod/web",
          .ingress = true,
          .ingress_policies = { "prod/deny-ingress" },
          .egress = false },
        /* db-egress has egress rules and no policyTypes: Ingress and
         * Egress. */
        { .pod = "prod/db",
          .ingress = true,
          .ingress_policies = { "prod/db-egress", "prod/deny-ingress" },
          .egress = true,
          .egress_policies = { "prod/db-egress" } },
        { .pod = "scratch/tmp", .ingress = false, .egress = false },
    };

    return cr_make_param_array(struct isolation_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

static void
expect_policies(json_t *list, char (*want)[24], const char *what)
{
    size_t n = 0;
    size_t i;

    while (n < 2 && want[n][0] != '\0')
        n++;
    cr_expect_eq(json_array_size(list), n, "%s lists %zu policies, want %zu",
                 what, json_array_size(list), n);
    for (i = 0; i < n; i++) {
        size_t j;
        json_t *v;
        bool found = false;

        json_array_foreach(list, j, v)
        {
            if (strcmp(json_string_value(v), want[i]) == 0)
                found = true;
        }
        cr_expect(found, "%s lacks %s", what, want[i]);
    }
}

ParameterizedTest(struct isolation_row *row, isolation,
                  answers_the_selecting_policies)
{
    char path[96];
    struct thttp_resp r;
    json_t *pod;
    json_t *in;
    json_t *eg;
    long rev = put_cluster();

    snprintf(path, sizeof(path), "/pods/%s/isolation", row->pod);
    cr_assert_eq(thttp_get(tsuite_srv.base, path, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
    pod = json_object_get(r.json, "pod");
    {
        char name[48];

        snprintf(name, sizeof(name), "%s/%s",
                 json_string_value(json_object_get(pod, "namespace")),
                 json_string_value(json_object_get(pod, "name")));
        cr_expect_str_eq(name, row->pod, "%s", r.body);
    }
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    in = json_object_get(r.json, "ingress");
    eg = json_object_get(r.json, "egress");
    cr_assert(json_is_boolean(json_object_get(in, "isolated")), "%s", r.body);
    cr_assert(json_is_boolean(json_object_get(eg, "isolated")), "%s", r.body);
    cr_expect_eq(json_is_true(json_object_get(in, "isolated")), row->ingress,
                 "%s ingress: %s", row->pod, r.body);
    cr_expect_eq(json_is_true(json_object_get(eg, "isolated")), row->egress,
                 "%s egress: %s", row->pod, r.body);
    expect_policies(json_object_get(in, "policies"), row->ingress_policies,
                    "ingress.policies");
    expect_policies(json_object_get(eg, "policies"), row->egress_policies,
                    "egress.policies");
    thttp_resp_fini(&r);
}

Test(isolation, unknown_pod_is_404)
{
    struct thttp_resp r;

    put_cluster();
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/prod/nope/isolation", &r),
                 0);
    tassert_json_error(&r, 404, "unknown_pod", NULL);
    thttp_resp_fini(&r);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods/nope/web/isolation", &r), 0);
    tassert_json_error(&r, 404, "unknown_pod", NULL);
    thttp_resp_fini(&r);
}

Test(service, healthz_and_readyz_answer_200)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect(json_is_object(r.json), "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/readyz", &r), 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect(json_is_object(r.json), "%s", r.body);
    thttp_resp_fini(&r);
}

Test(service, openapi_yaml_is_the_repository_file)
{
    struct thttp_resp r;
    FILE *fp = fopen(NETPOLQ_SOURCE_DIR "/openapi.yaml", "rb");
    char *want;
    long n;

    cr_assert_not_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    want = malloc((size_t)n + 1);
    cr_assert_eq(fread(want, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/openapi.yaml", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.content_type, "yaml") != NULL, "Content-Type %s",
              r.content_type);
    cr_expect_eq(r.len, (size_t)n,
                 "served %zu bytes, the file has %ld (rebuild after editing "
                 "openapi.yaml)",
                 r.len, n);
    cr_expect(r.len == (size_t)n && memcmp(r.body, want, (size_t)n) == 0,
              "the served openapi.yaml differs from the repository's");
    thttp_resp_fini(&r);
    free(want);
}
