/*
 * Headers for dashboards against the real binary. CORS: allowed origins get
 * Access-Control-Allow-Origin (the origin, or * with --cors-origin '*') and
 * the exposed headers, others get none; preflights are answered 204 with the
 * path's methods. ETag: answers derived from the state carry the revision,
 * /openapi.yaml a hash of its bytes, and a matching If-None-Match turns a
 * 200 into a 304 without a body; the service endpoints carry none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/hdr.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

#define DASH  "https://dash.example.com"
#define LOCAL "http://localhost:3000"
#define EVIL  "https://evil.example.com"

static void
start_cors(void)
{
    static const char *const args[] = {
        "--cors-origin", DASH, "--cors-origin", LOCAL, "--max-body",
        "4096",          NULL
    };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

static void
start_wildcard(void)
{
    static const char *const args[] = { "--cors-origin", "*", NULL };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

static void
start_env(void)
{
    setenv("NETPOLQ_CORS_ORIGIN",
           " https://a.example.com,HTTPS://B.example.com:8443 ", 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0, "netpolq did not start");
}

/* A token file for the suite with --token-file, removed by its .fini. */
static char token_file[64];

static void
start_auth(void)
{
    const char *args[] = { "--cors-origin", DASH, "--token-file", token_file,
                           NULL };
    FILE *fp;
    int fd;

    snprintf(token_file, sizeof(token_file), "/tmp/netpolq-cors-XXXXXX");
    fd = mkstemp(token_file);
    cr_assert(fd >= 0);
    fp = fdopen(fd, "w");
    cr_assert_not_null(fp);
    fputs("dash-token-1\n", fp);
    fclose(fp);
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

static void
stop_auth(void)
{
    tsrv_stop(&tsuite_srv);
    unlink(token_file);
}

TestSuite(cors, .init = start_cors, .fini = tsuite_stop);
TestSuite(cors_wildcard, .init = start_wildcard, .fini = tsuite_stop);
TestSuite(cors_env, .init = start_env, .fini = tsuite_stop);
TestSuite(cors_auth, .init = start_auth, .fini = stop_auth);
TestSuite(cors_off, .init = tsuite_start, .fini = tsuite_stop);
TestSuite(cors_cli);
TestSuite(etag, .init = tsuite_start, .fini = tsuite_stop);

/* Sends method path with up to two request headers (NULL for none). */
static void
send(const char *method, const char *path, const char *h1, const char *h2,
     struct thdr_resp *r)
{
    const char *headers[3] = { h1, h1 != NULL ? h2 : NULL, NULL };

    cr_assert_eq(
        thdr_request(tsuite_srv.base, method, path, headers, NULL, NULL, 0, r),
        0, "%s %s: no answer", method, path);
}

static void
assert_header(const struct thdr_resp *r, const char *name, const char *want)
{
    char got[512];

    cr_assert(thdr_get(r, name, got, sizeof(got)), "no %s header in:\n%s", name,
              r->headers);
    cr_assert_str_eq(got, want, "%s", name);
    cr_assert_eq(thdr_count(r, name), 1, "%s sent twice:\n%s", name,
                 r->headers);
}

static void
assert_no_cors(const struct thdr_resp *r)
{
    cr_assert(!thdr_has_prefix(r, "Access-Control-"),
              "CORS headers for an origin that is not allowed:\n%s",
              r->headers);
}

Test(cors, an_allowed_origin_gets_itself_back_and_the_exposed_headers)
{
    struct thdr_resp r;

    send("GET", "/healthz", "Origin: " DASH, NULL, &r);
    cr_assert_eq(r.status, 200);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    assert_header(&r, "Access-Control-Expose-Headers", "ETag, X-Request-Id");
    assert_header(&r, "Vary", "Origin");
    cr_assert(!thdr_has_prefix(&r, "Access-Control-Allow-Credentials"));
    thdr_resp_fini(&r);
    send("GET", "/healthz", "Origin: " LOCAL, NULL, &r);
    assert_header(&r, "Access-Control-Allow-Origin", LOCAL);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors, other_origins_get_no_cors_headers)
{
    static const char *const others[] = {
        ("Origin: " EVIL),
        "Origin: https://dash.example.com.evil.example",
        "Origin: http://dash.example.com",
        "Origin: https://dash.example.com:444",
        "Origin: null",
    };
    struct thdr_resp r;
    size_t i;

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        send("GET", "/healthz", others[i], NULL, &r);
        cr_assert_eq(r.status, 200);
        assert_no_cors(&r);
        /* Still Vary, so that a cache keeps the answers apart. */
        assert_header(&r, "Vary", "Origin");
        thdr_resp_fini(&r);
    }
    send("GET", "/healthz", NULL, NULL, &r);
    assert_no_cors(&r);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors, a_preflight_lists_the_methods_of_the_path)
{
    struct thdr_resp r;
    char v[256];

    send("OPTIONS", "/state", "Origin: " DASH,
         "Access-Control-Request-Method: PUT", &r);
    cr_assert_eq(r.status, 204, "%ld %s", r.status, r.body);
    cr_assert_eq(r.len, 0);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    assert_header(&r, "Access-Control-Allow-Methods",
                  "GET, HEAD, PUT, POST, DELETE");
    cr_assert(thdr_get(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
    cr_assert_not_null(strstr(v, "Content-Type"));
    cr_assert_not_null(strstr(v, "Authorization"));
    cr_assert_not_null(strstr(v, "If-None-Match"));
    cr_assert_not_null(strstr(v, "X-Request-Id"));
    cr_assert(thdr_get(&r, "Access-Control-Max-Age", v, sizeof(v)));
    cr_assert(atoi(v) > 0, "Max-Age %s", v);
    thdr_resp_fini(&r);
    send("OPTIONS", "/pods/test-a/server-pod/isolation", "Origin: " LOCAL,
         "Access-Control-Request-Method: GET", &r);
    cr_assert_eq(r.status, 204);
    assert_header(&r, "Access-Control-Allow-Methods", "GET, HEAD");
    thdr_resp_fini(&r);
    send("OPTIONS", "/reachability", "Origin: " LOCAL,
         "Access-Control-Request-Method: POST", &r);
    cr_assert_eq(r.status, 204);
    assert_header(&r, "Access-Control-Allow-Methods", "GET, HEAD, POST");
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors, options_that_is_no_allowed_preflight_answers_405)
{
    struct thdr_resp r;

    /* From an origin that is not allowed. */
    send("OPTIONS", "/state", "Origin: " EVIL,
         "Access-Control-Request-Method: PUT", &r);
    cr_assert_eq(r.status, 405);
    assert_no_cors(&r);
    thdr_resp_fini(&r);
    /* Without Access-Control-Request-Method, not a preflight. */
    send("OPTIONS", "/state", "Origin: " DASH, NULL, &r);
    cr_assert_eq(r.status, 405);
    assert_header(&r, "Allow", "GET, HEAD, PUT, POST, DELETE");
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    thdr_resp_fini(&r);
    /* A path that does not exist. */
    send("OPTIONS", "/no/such/path", "Origin: " DASH,
         "Access-Control-Request-Method: GET", &r);
    cr_assert_eq(r.status, 404);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors, error_answers_carry_the_headers_too)
{
    static const char big[] = "Content-Length: 5000";
    struct thdr_resp r;
    char *body = malloc(5000);

    send("GET", "/pods/x/y", "Origin: " DASH, NULL, &r);
    cr_assert_eq(r.status, 404);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    thdr_resp_fini(&r);
    /* The body limit is enforced before the request reaches the route
     * table; a dashboard still reads the 413. */
    cr_assert_not_null(body);
    memset(body, '#', 5000);
    {
        const char *headers[] = { "Origin: " DASH, NULL };

        (void)big;
        cr_assert_eq(thdr_request(tsuite_srv.base, "PUT", "/state", headers,
                                  "application/yaml", body, 5000, &r),
                     0);
    }
    cr_assert_eq(r.status, 413, "%ld %s", r.status, r.body);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    thdr_resp_fini(&r);
    free(body);
    tsuite_assert_exit_0();
}

Test(cors_wildcard, every_origin_gets_a_star)
{
    struct thdr_resp r;

    send("GET", "/healthz", "Origin: " EVIL, NULL, &r);
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    assert_header(&r, "Access-Control-Expose-Headers", "ETag, X-Request-Id");
    cr_assert_eq(thdr_count(&r, "Vary"), 0, "%s", r.headers);
    thdr_resp_fini(&r);
    send("OPTIONS", "/reachability/batch", "Origin: " EVIL,
         "Access-Control-Request-Method: POST", &r);
    cr_assert_eq(r.status, 204);
    assert_header(&r, "Access-Control-Allow-Origin", "*");
    assert_header(&r, "Access-Control-Allow-Methods", "POST");
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors_env, the_variable_holds_a_comma_separated_list)
{
    struct thdr_resp r;

    send("GET", "/healthz", "Origin: https://a.example.com", NULL, &r);
    assert_header(&r, "Access-Control-Allow-Origin", "https://a.example.com");
    thdr_resp_fini(&r);
    /* Scheme and host compare in lower case, as browsers send them. */
    send("GET", "/healthz", "Origin: https://b.example.com:8443", NULL, &r);
    assert_header(&r, "Access-Control-Allow-Origin",
                  "https://b.example.com:8443");
    thdr_resp_fini(&r);
    send("GET", "/healthz", "Origin: https://c.example.com", NULL, &r);
    assert_no_cors(&r);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors_auth, a_preflight_needs_no_token_and_a_401_is_readable)
{
    struct thdr_resp r;
    char id[80];

    /* Browsers never send credentials with a preflight. */
    send("OPTIONS", "/state", "Origin: " DASH,
         "Access-Control-Request-Method: PUT", &r);
    cr_assert_eq(r.status, 204, "%ld %s", r.status, r.body);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    thdr_resp_fini(&r);
    /* From another origin it is no preflight: 405, and no CORS headers. */
    send("OPTIONS", "/state", "Origin: " EVIL,
         "Access-Control-Request-Method: PUT", &r);
    cr_assert_eq(r.status, 405);
    assert_no_cors(&r);
    thdr_resp_fini(&r);
    /* The dashboard can read why it was refused. */
    send("GET", "/state", "Origin: " DASH, NULL, &r);
    cr_assert_eq(r.status, 401);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    cr_assert(thdr_get(&r, "X-Request-Id", id, sizeof(id)), "%s", r.headers);
    thdr_resp_fini(&r);
    send("GET", "/state", "Origin: " DASH, "Authorization: Bearer dash-token-1",
         &r);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    assert_header(&r, "Access-Control-Allow-Origin", DASH);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors_off, without_the_flag_no_answer_has_cors_headers)
{
    struct thdr_resp r;

    send("GET", "/healthz", "Origin: " DASH, NULL, &r);
    assert_no_cors(&r);
    cr_assert_eq(thdr_count(&r, "Vary"), 0);
    thdr_resp_fini(&r);
    send("OPTIONS", "/state", "Origin: " DASH,
         "Access-Control-Request-Method: PUT", &r);
    cr_assert_eq(r.status, 405);
    assert_no_cors(&r);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cors_cli, origins_with_a_path_or_mixed_with_a_star_are_refused)
{
    static const char *const path[] = { "--cors-origin", DASH "/", NULL };
    static const char *const ftp[] = { "--cors-origin", "ftp://x.example",
                                       NULL };
    static const char *const mixed[] = { "--cors-origin", DASH, "--cors-origin",
                                         "*", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(path, &out), 0);
    cr_assert_eq(out.status, 2, "%s", out.err);
    cr_assert_not_null(strstr(out.err, "without a path"), "%s", out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_run(ftp, &out), 0);
    cr_assert_eq(out.status, 2, "%s", out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_run(mixed, &out), 0);
    cr_assert_eq(out.status, 2, "%s", out.err);
    cr_assert_not_null(strstr(out.err, "give it alone"), "%s", out.err);
    tsrv_output_fini(&out);
}

/* --- ETag ----------------------------------------------------------------- */

static const char cluster[] =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: a, labels: "
    "{app: web}}\nstatus: {podIP: 10.0.0.1}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: "
    "a}\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n"
    "    metadata: {labels: {app: api}}\n"
    "    spec: {containers: [{name: api, image: api}]}\n";
static const char policy[] =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: a}\nspec: {podSelector: {}}\n";

static void
apply(const char *method, const char *yaml)
{
    struct thdr_resp r;

    cr_assert_eq(thdr_request(tsuite_srv.base, method, "/state", NULL,
                              "application/yaml", yaml, strlen(yaml), &r),
                 0);
    cr_assert_eq(r.status, 200, "%s /state: %ld %s", method, r.status, r.body);
    thdr_resp_fini(&r);
}

/* GETs path and returns its ETag into tag; fails without one. */
static void
etag_of(const char *path, char *tag, size_t len)
{
    struct thdr_resp r;

    send("GET", path, NULL, NULL, &r);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, r.body);
    cr_assert(thdr_get(&r, "ETag", tag, len), "GET %s: no ETag:\n%s", path,
              r.headers);
    thdr_resp_fini(&r);
}

static long
conditional(const char *method, const char *path, const char *tags,
            struct thdr_resp *r)
{
    char h[512];

    snprintf(h, sizeof(h), "If-None-Match: %s", tags);
    send(method, path, h, NULL, r);
    return r->status;
}

Test(etag, state_answers_are_tagged_with_the_revision)
{
    static const char *const paths[] = {
        "/state",
        "/namespaces",
        "/namespaces/a",
        "/pods",
        "/pods?namespace=a",
        "/pods/a/web",
        "/pods/a/web/isolation",
        "/networkpolicies",
        "/workloads",
        "/workloads/a/Deployment/api",
        "/workloads/a/Deployment/api/isolation",
        "/reachability?from=a/web&to=10.9.9.9&port=80",
    };
    char tag[128];
    char first[128];
    struct thdr_resp r;
    size_t i;

    apply("PUT", cluster);
    etag_of("/state", first, sizeof(first));
    cr_assert_eq(strncmp(first, "W/\"r1-", 6), 0, "ETag %s", first);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        etag_of(paths[i], tag, sizeof(tag));
        cr_assert_str_eq(tag, first, "GET %s", paths[i]);
        cr_assert_eq(conditional("GET", paths[i], tag, &r), 304,
                     "GET %s with its ETag: %ld", paths[i], r.status);
        cr_assert_eq(r.len, 0, "a 304 has no body");
        assert_header(&r, "ETag", tag);
        thdr_resp_fini(&r);
    }
    /* A new revision: the old tag no longer matches. */
    apply("POST", policy);
    cr_assert_eq(conditional("GET", "/pods/a/web/isolation", first, &r), 200);
    cr_assert_not_null(strstr(r.body, "a/deny"), "%s", r.body);
    cr_assert(thdr_get(&r, "ETag", tag, sizeof(tag)));
    cr_assert_eq(strncmp(tag, "W/\"r2-", 6), 0, "ETag %s", tag);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(etag, if_none_match_compares_weakly_and_accepts_lists_and_star)
{
    char tag[128];
    char list[400];
    struct thdr_resp r;

    apply("PUT", cluster);
    etag_of("/pods", tag, sizeof(tag));
    /* The strong form of a weak tag matches in a weak comparison. */
    cr_assert_eq(conditional("GET", "/pods", tag + 2, &r), 304);
    thdr_resp_fini(&r);
    snprintf(list, sizeof(list), "\"x\", W/\"r9-0\",%s", tag);
    cr_assert_eq(conditional("GET", "/pods", list, &r), 304);
    thdr_resp_fini(&r);
    cr_assert_eq(conditional("GET", "/pods", "*", &r), 304);
    thdr_resp_fini(&r);
    cr_assert_eq(conditional("HEAD", "/pods", tag, &r), 304);
    thdr_resp_fini(&r);
    cr_assert_eq(conditional("GET", "/pods", "W/\"r1-0\"", &r), 200);
    thdr_resp_fini(&r);
    cr_assert_eq(conditional("GET", "/pods", "garbage", &r), 200);
    thdr_resp_fini(&r);
    /* Only a 200 becomes a 304. */
    cr_assert_eq(conditional("GET", "/pods/a/nope", "*", &r), 404);
    cr_assert(!thdr_has_prefix(&r, "ETag"), "%s", r.headers);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(etag, openapi_yaml_is_tagged_with_a_hash_of_its_bytes)
{
    char tag[128];
    char again[128];
    struct thdr_resp r;

    etag_of("/openapi.yaml", tag, sizeof(tag));
    cr_assert_eq(tag[0], '"', "a strong tag: %s", tag);
    apply("PUT", cluster);
    etag_of("/openapi.yaml", again, sizeof(again));
    cr_assert_str_eq(tag, again, "the document did not change");
    cr_assert_eq(conditional("GET", "/openapi.yaml", tag, &r), 304);
    cr_assert_eq(r.len, 0);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(etag, service_endpoints_and_queries_by_post_carry_none)
{
    static const char *const paths[] = { "/healthz", "/readyz", "/metrics" };
    static const char q[] = "{\"from\":{\"namespace\":\"a\",\"pod\":\"web\"},"
                            "\"to\":{\"ip\":\"10.9.9.9\"},\"port\":80}";
    struct thdr_resp r;
    size_t i;

    apply("PUT", cluster);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        cr_assert_eq(conditional("GET", paths[i], "*", &r), 200, "%s",
                     paths[i]);
        cr_assert_eq(thdr_count(&r, "ETag"), 0, "GET %s:\n%s", paths[i],
                     r.headers);
        thdr_resp_fini(&r);
    }
    cr_assert_eq(thdr_request(tsuite_srv.base, "POST", "/reachability", NULL,
                              "application/json", q, strlen(q), &r),
                 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(thdr_count(&r, "ETag"), 0);
    thdr_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(etag, another_process_at_the_same_revision_has_other_tags)
{
    struct tsrv other;
    struct thdr_resp r;
    char tag[128];
    char line[200];
    const char *h[] = { line, NULL };
    long put;
    long get;

    apply("PUT", cluster);
    etag_of("/state", tag, sizeof(tag));
    snprintf(line, sizeof(line), "If-None-Match: %s", tag);
    cr_assert_eq(tsrv_start(&other, NULL), 0);
    /* Every answer is read before any assertion, so that a failure never
     * leaves the second server running. */
    put = thdr_request(other.base, "PUT", "/state", NULL, "application/yaml",
                       cluster, strlen(cluster), &r) == 0
              ? r.status
              : 0;
    thdr_resp_fini(&r);
    get = thdr_request(other.base, "GET", "/state", h, NULL, NULL, 0, &r) == 0
              ? r.status
              : 0;
    thdr_resp_fini(&r);
    cr_assert_eq(tsrv_stop(&other), 0);
    cr_assert_eq(put, 200);
    /* Revision 1 there is not revision 1 here. */
    cr_assert_eq(get, 200);
    tsuite_assert_exit_0();
}
