/*
 * The read-only listings against the real binary: namespaces (declared and
 * implicit, with their labels), pods filtered by namespace and by a kubectl
 * label selector, one pod, network policies by namespace, and one policy as
 * it was uploaded plus the pods it selects. Bad selectors and unknown
 * objects get their 4xx. The cluster is built from fixtures that read like
 * the manifests they stand for and uploaded as one JSON List.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

TestSuite(listings, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/* "k=v,k=v" as a labels object (owned). */
static json_t *
fx_labels(const char *text)
{
    json_t *labels = json_object();
    const char *p = text;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        char key[64];
        char value[64];

        cr_assert_not_null(eq, "bad fixture label in %s", text);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
        snprintf(value, sizeof(value), "%.*s", (int)(p + n - eq - 1), eq + 1);
        json_object_set_new(labels, key, json_string(value));
        p += n;
        if (*p == ',')
            p++;
    }
    return labels;
}

static void
fx_namespace(json_t *items, const char *name, const char *labels)
{
    json_array_append_new(items,
                          json_pack("{s:s,s:s,s:{s:s,s:o}}", "apiVersion", "v1",
                                    "kind", "Namespace", "metadata", "name",
                                    name, "labels", fx_labels(labels)));
}

/* ref is "namespace/name"; the pod serves http on 80. */
static void
fx_pod(json_t *items, const char *ref, const char *labels, const char *ip)
{
    char ns[64];
    const char *slash = strchr(ref, '/');

    cr_assert_not_null(slash);
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ref), ref);
    json_array_append_new(
        items,
        json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:[{s:s,s:[{s:s,s:i}]}]},"
                  "s:{s:s}}",
                  "apiVersion", "v1", "kind", "Pod", "metadata", "name",
                  slash + 1, "namespace", ns, "labels", fx_labels(labels),
                  "spec", "containers", "name", "main", "ports", "name", "http",
                  "containerPort", 80, "status", "podIP", ip));
}

/* The policies as uploaded, compared with what GET answers. */
static const char allow_web[] =
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
    "\"metadata\":{\"name\":\"allow-web\",\"namespace\":\"prod\","
    "\"labels\":{\"owner\":\"team-web\"}},"
    "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":"
    "{\"env\":\"stage\"}}},{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\","
    "\"except\":[\"192.0.2.128/25\"]}}],"
    "\"ports\":[{\"port\":80},{\"port\":\"http\",\"protocol\":\"TCP\"},"
    "{\"port\":8000,\"endPort\":8080}]}]}}";
static const char deny_all[] =
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
    "\"metadata\":{\"name\":\"deny-all\",\"namespace\":\"prod\"},"
    "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}}";
static const char db_egress[] =
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
    "\"metadata\":{\"name\":\"db-egress\",\"namespace\":\"stage\"},"
    "\"spec\":{\"podSelector\":{\"matchExpressions\":[{\"key\":\"tier\","
    "\"operator\":\"In\",\"values\":[\"db\"]}]},"
    "\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"}}]}]}}";

static json_t *
policy_doc(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);

    cr_assert_not_null(doc, "bad fixture: %s", jerr.text);
    return doc;
}

/* prod and stage are declared; scratch exists through its pod. */
static long
put_cluster(void)
{
    json_t *items = json_array();
    json_t *list;
    struct thttp_resp r;
    char *body;
    long rev;

    fx_namespace(items, "prod", "env=prod,team=web");
    fx_namespace(items, "stage", "env=stage");
    fx_pod(items, "prod/web-1", "app=web,tier=fe,env=prod", "10.8.0.1");
    fx_pod(items, "prod/web-2", "app=web,tier=fe,env=stage", "10.8.0.2");
    fx_pod(items, "prod/api-1", "app=api,tier=be,env=prod", "10.8.0.3");
    fx_pod(items, "prod/db-1", "app=db,tier=db,env=prod", "10.8.0.4");
    fx_pod(items, "stage/web-1", "app=web,tier=fe,env=stage", "10.8.1.1");
    fx_pod(items, "stage/web-3", "app=web,tier=db,env=stage", "10.8.1.3");
    fx_pod(items, "stage/web-4", "app=web,env=dev", "10.8.1.4");
    fx_pod(items, "stage/web-5", "app=web", "10.8.1.5");
    fx_pod(items, "stage/web-6", "app=web,env=prod", "10.8.1.6");
    fx_pod(items, "scratch/tmp", "app=tmp", "10.8.2.1");
    json_array_append_new(items, policy_doc(allow_web));
    json_array_append_new(items, policy_doc(deny_all));
    json_array_append_new(items, policy_doc(db_egress));
    list = json_pack("{s:s,s:s,s:o}", "apiVersion", "v1", "kind", "List",
                     "items", items);
    body = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/json", body, strlen(body), &r),
                 0);
    free(body);
    cr_assert_eq(r.status, 200, "PUT /state: %ld %s", r.status, r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    return rev;
}

static void
get_ok(const char *path, struct thttp_resp *r)
{
    cr_assert_eq(thttp_get(tsuite_srv.base, path, r), 0, "GET %s: no answer",
                 path);
    cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
    cr_assert_not_null(r->json, "GET %s: %s", path, r->body);
}

static void
get_error(const char *path, long status, const char *code, const char *epath)
{
    struct thttp_resp r;
    json_t *error;

    cr_assert_eq(thttp_get(tsuite_srv.base, path, &r), 0);
    cr_assert_eq(r.status, status, "GET %s: %ld %s", path, r.status, r.body);
    error = json_object_get(r.json, "error");
    cr_assert(json_is_object(error), "GET %s: %s", path, r.body);
    cr_expect(json_string_length(json_object_get(error, "message")) > 0,
              "GET %s: %s", path, r.body);
    if (code != NULL)
        cr_expect_str_eq(json_string_value(json_object_get(error, "code")),
                         code, "GET %s: %s", path, r.body);
    if (epath != NULL)
        cr_expect_str_eq(json_string_value(json_object_get(error, "path")),
                         epath, "GET %s: %s", path, r.body);
    thttp_resp_fini(&r);
}

/* The "namespace/name" (or "name" when ns_key is NULL) of each item,
 * sorted and joined with spaces into buf. */
static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_of(json_t *items, const char *ns_key, const char *name_key, char *buf,
         size_t size)
{
    char *names[64];
    size_t n = json_array_size(items);
    size_t i, len = 0;

    cr_assert_leq(n, 64);
    for (i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        json_t *meta = json_object_get(it, "metadata");
        const char *ns = ns_key != NULL
                             ? json_string_value(json_object_get(it, ns_key))
                             : NULL;
        const char *name = json_string_value(json_object_get(it, name_key));
        char one[160];

        /* Policies carry their names in metadata, as uploaded. */
        if (name == NULL && meta != NULL) {
            ns = json_string_value(json_object_get(meta, "namespace"));
            name = json_string_value(json_object_get(meta, "name"));
        }
        cr_assert_not_null(name, "an item without a name");
        if (ns != NULL)
            snprintf(one, sizeof(one), "%s/%s", ns, name);
        else
            snprintf(one, sizeof(one), "%s", name);
        names[i] = strdup(one);
    }
    qsort(names, n, sizeof(names[0]), str_cmp);
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i > 0 ? " " : "",
                                names[i]);
        free(names[i]);
    }
}

Test(listings, namespaces_lists_declared_and_implicit_with_labels)
{
    struct thttp_resp r;
    char names[512];
    json_t *ns;
    size_t i;
    long rev = put_cluster();

    get_ok("/namespaces", &r);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    names_of(json_object_get(r.json, "namespaces"), NULL, "name", names,
             sizeof(names));
    cr_expect_str_eq(names, "prod scratch stage");
    json_array_foreach(json_object_get(r.json, "namespaces"), i, ns)
    {
        const char *name = json_string_value(json_object_get(ns, "name"));
        json_t *labels = json_object_get(ns, "labels");

        /* Every namespace carries kubernetes.io/metadata.name. */
        cr_expect_str_eq(json_string_value(json_object_get(
                             labels, "kubernetes.io/metadata.name")),
                         name, "%s: %s", name, r.body);
        if (strcmp(name, "prod") == 0) {
            cr_expect_str_eq(json_string_value(json_object_get(labels, "env")),
                             "prod");
            cr_expect_str_eq(json_string_value(json_object_get(labels, "team")),
                             "web");
            cr_expect_eq(json_object_size(labels), 3, "%s", r.body);
        }
        if (strcmp(name, "scratch") == 0)
            cr_expect_eq(json_object_size(labels), 1,
                         "an implicit namespace has only its name label: %s",
                         r.body);
    }
    thttp_resp_fini(&r);
}

Test(listings, namespace_by_name)
{
    struct thttp_resp r;

    put_cluster();
    get_ok("/namespaces/stage", &r);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "name")),
                     "stage");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_object_get(r.json, "labels"), "env")),
                     "stage");
    thttp_resp_fini(&r);
    get_error("/namespaces/nope", 404, "unknown_namespace", NULL);
    get_error("/namespaces?x=1", 400, "unknown_field", "x");
}

/* A pod listing query and the pods it must answer, sorted. */
struct pods_row {
    char query[160];
    char want[200];
};

ParameterizedTestParameters(listings, pods_filter_by_namespace_and_selector)
{
    static struct pods_row rows[] = {
        { "", "prod/api-1 prod/db-1 prod/web-1 prod/web-2 scratch/tmp "
              "stage/web-1 stage/web-3 stage/web-4 stage/web-5 stage/web-6" },
        { "?namespace=stage",
          "stage/web-1 stage/web-3 stage/web-4 stage/web-5 stage/web-6" },
        { "?namespace=nope", "" },
        /* app=web,tier!=db,env in (prod,stage): tier!=db holds where the
         * label is missing (web-6); env in needs the label (not web-5). */
        { "?labelSelector=app%3Dweb%2Ctier%21%3Ddb%2Cenv%20in%20%28prod%2C"
          "stage%29",
          "prod/web-1 prod/web-2 stage/web-1 stage/web-6" },
        { "?namespace=stage&labelSelector=app%3Dweb%2Ctier%21%3Ddb%2Cenv%20in"
          "%20%28prod%2Cstage%29",
          "stage/web-1 stage/web-6" },
        { "?labelSelector=tier", "prod/api-1 prod/db-1 prod/web-1 prod/web-2 "
                                 "stage/web-1 stage/web-3" },
        { "?labelSelector=%21tier",
          "scratch/tmp stage/web-4 stage/web-5 stage/web-6" },
        { "?labelSelector=env%20notin%20%28prod%2Cstage%29",
          "scratch/tmp stage/web-4 stage/web-5" },
        { "?labelSelector=app%3D%3Dapi", "prod/api-1" },
        { "?labelSelector=app%3Dnone", "" },
        { "?labelSelector=", "prod/api-1 prod/db-1 prod/web-1 prod/web-2 "
                             "scratch/tmp stage/web-1 stage/web-3 "
                             "stage/web-4 stage/web-5 stage/web-6" },
    };

    return cr_make_param_array(struct pods_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct pods_row *row, listings,
                  pods_filter_by_namespace_and_selector)
{
    char path[256];
    char names[1024];
    struct thttp_resp r;
    long rev = put_cluster();

    snprintf(path, sizeof(path), "/pods%s", row->query);
    get_ok(path, &r);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    names_of(json_object_get(r.json, "pods"), "namespace", "name", names,
             sizeof(names));
    cr_expect_str_eq(names, row->want, "GET %s", path);
    thttp_resp_fini(&r);
}

Test(listings, selector_built_with_curl_escape_matches)
{
    char path[256];
    char names[512];
    struct thttp_resp r;
    char *sel;

    put_cluster();
    sel = curl_easy_escape(NULL, "app=web,tier!=db,env in (prod,stage)", 0);
    snprintf(path, sizeof(path), "/pods?labelSelector=%s", sel);
    curl_free(sel);
    get_ok(path, &r);
    names_of(json_object_get(r.json, "pods"), "namespace", "name", names,
             sizeof(names));
    cr_expect_str_eq(names, "prod/web-1 prod/web-2 stage/web-1 stage/web-6");
    thttp_resp_fini(&r);
}

struct bad_selector {
    char query[64];
};

ParameterizedTestParameters(listings, bad_label_selector_is_400)
{
    static struct bad_selector rows[] = {
        { "app%20in%20%28" },  /* app in ( */
        { "%3Dweb" },          /* =web */
        { "app%20in%20web" },  /* in without parentheses */
        { "app%3D%3D%3Dweb" }, /* app===web */
        { "a%20b" },           /* a b */
        { "-bad%3Dx" },        /* a key Kubernetes rejects */
        { "app%3D-x-" },       /* a value Kubernetes rejects */
    };

    return cr_make_param_array(struct bad_selector, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_selector *row, listings, bad_label_selector_is_400)
{
    char path[128];

    put_cluster();
    snprintf(path, sizeof(path), "/pods?labelSelector=%s", row->query);
    get_error(path, 400, "invalid_selector", "labelSelector");
}

Test(listings, pod_by_name)
{
    struct thttp_resp r;
    json_t *want = fx_labels("app=web,tier=fe,env=prod");
    json_t *ports;

    put_cluster();
    get_ok("/pods/prod/web-1", &r);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "namespace")),
                     "prod");
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "name")),
                     "web-1");
    cr_expect(json_equal(json_object_get(r.json, "labels"), want), "labels: %s",
              r.body);
    cr_expect_str_eq(
        json_string_value(json_array_get(json_object_get(r.json, "ips"), 0)),
        "10.8.0.1", "%s", r.body);
    ports = json_object_get(r.json, "ports");
    cr_expect_eq(json_array_size(ports), 1, "%s", r.body);
    cr_expect_eq(
        json_integer_value(json_object_get(json_array_get(ports, 0), "port")),
        80, "%s", r.body);
    thttp_resp_fini(&r);
    json_decref(want);
    get_error("/pods/prod/nope", 404, "unknown_pod", NULL);
    get_error("/pods/nope/web-1", 404, "unknown_pod", NULL);
}

Test(listings, networkpolicies_by_namespace)
{
    struct thttp_resp r;
    char names[512];

    put_cluster();
    get_ok("/networkpolicies", &r);
    names_of(json_object_get(r.json, "networkPolicies"), NULL, "", names,
             sizeof(names));
    cr_expect_str_eq(names, "prod/allow-web prod/deny-all stage/db-egress",
                     "%s", r.body);
    thttp_resp_fini(&r);
    get_ok("/networkpolicies?namespace=stage", &r);
    names_of(json_object_get(r.json, "networkPolicies"), NULL, "", names,
             sizeof(names));
    cr_expect_str_eq(names, "stage/db-egress");
    thttp_resp_fini(&r);
    get_ok("/networkpolicies?namespace=scratch", &r);
    cr_expect_eq(json_array_size(json_object_get(r.json, "networkPolicies")),
                 0);
    thttp_resp_fini(&r);
    get_error("/networkpolicies?labelSelector=a", 400, "unknown_field",
              "labelSelector");
}

/* A policy and the pods it must select. */
struct policy_row {
    char ref[32];
    int which; /* 0 allow_web, 1 deny_all, 2 db_egress */
    char selected[120];
};

ParameterizedTestParameters(listings, policy_is_answered_as_uploaded)
{
    static struct policy_row rows[] = {
        { "prod/allow-web", 0, "prod/web-1 prod/web-2" },
        { "prod/deny-all", 1, "prod/api-1 prod/db-1 prod/web-1 prod/web-2" },
        { "stage/db-egress", 2, "stage/web-3" },
    };

    return cr_make_param_array(struct policy_row, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct policy_row *row, listings,
                  policy_is_answered_as_uploaded)
{
    static const char *const texts[] = { allow_web, deny_all, db_egress };
    char path[64];
    char got[256];
    json_t *want = policy_doc(texts[row->which]);
    json_t *selected;
    struct thttp_resp r;
    size_t i, len = 0;
    char *sorted[16];
    size_t n;

    put_cluster();
    snprintf(path, sizeof(path), "/networkpolicies/%s", row->ref);
    get_ok(path, &r);
    cr_expect(json_equal(json_object_get(r.json, "spec"),
                         json_object_get(want, "spec")),
              "%s: spec differs from the upload: %s", row->ref, r.body);
    cr_expect(json_equal(json_object_get(r.json, "metadata"),
                         json_object_get(want, "metadata")),
              "%s: metadata differs from the upload: %s", row->ref, r.body);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "kind")),
                     "NetworkPolicy");
    selected = json_object_get(r.json, "selectedPods");
    n = json_array_size(selected);
    cr_assert_leq(n, 16, "%s", r.body);
    for (i = 0; i < n; i++)
        sorted[i] = (char *)json_string_value(json_array_get(selected, i));
    for (i = 0; i < n; i++)
        cr_assert_not_null(sorted[i], "%s", r.body);
    qsort(sorted, n, sizeof(sorted[0]), str_cmp);
    got[0] = '\0';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
                                i > 0 ? " " : "", sorted[i]);
    cr_expect_str_eq(got, row->selected, "%s selects", row->ref);
    thttp_resp_fini(&r);
    json_decref(want);
}

Test(listings, unknown_policy_is_404)
{
    put_cluster();
    get_error("/networkpolicies/prod/nope", 404, "unknown_policy", NULL);
    get_error("/networkpolicies/stage/allow-web", 404, "unknown_policy", NULL);
}
