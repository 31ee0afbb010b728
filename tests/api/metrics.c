/*
 * GET /metrics against the real binary: the Prometheus text format, and
 * counters that move with the traffic the test sends. Each expectation is
 * computed from the answers the test got (how many verdicts were allowed,
 * what GET /state reports), then compared with the difference between two
 * scrapes, so the numbers are never restated by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"
#include "tests/support/testdata.h"

#define WALKTHROUGH_DIR NETPOLQ_SOURCE_DIR "/examples/walkthrough"

TestSuite(metrics, .init = tsuite_start, .fini = tsuite_stop);

/* Sends a walkthrough file with method (PUT or POST /state). */
static void
upload(const char *method, const char *file)
{
    char path[512];
    struct thttp_resp r;
    char *yaml;

    snprintf(path, sizeof(path), "%s/%s", WALKTHROUGH_DIR, file);
    yaml = tdata_read(path, NULL);
    cr_assert_eq(thttp_request(tsuite_srv.base, method, "/state",
                               "application/yaml", yaml, strlen(yaml), &r),
                 0);
    cr_assert_eq(r.status, 200, "%s /state %s: %ld %s", method, file, r.status,
                 r.body);
    thttp_resp_fini(&r);
    free(yaml);
}

/* POSTs a JSON body and returns the answer's JSON (owned). */
static json_t *
post_json(const char *path, const char *body, long want)
{
    struct thttp_resp r;
    json_t *out;

    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", path,
                               "application/json", body, strlen(body), &r),
                 0);
    cr_assert_eq(r.status, want, "POST %s: %ld %s", path, r.status, r.body);
    cr_assert_not_null(r.json, "POST %s: not JSON: %s", path, r.body);
    out = json_incref(r.json);
    thttp_resp_fini(&r);
    return out;
}

static long
get_status(const char *path)
{
    struct thttp_resp r;
    long status;

    cr_assert_eq(thttp_get(tsuite_srv.base, path, &r), 0);
    status = r.status;
    thttp_resp_fini(&r);
    return status;
}

/* Returns the text of GET /metrics (owned), checking the media type. */
static char *
scrape(void)
{
    struct thttp_resp r;
    char *text;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/metrics", &r), 0);
    cr_assert_eq(r.status, 200, "GET /metrics: %ld %s", r.status, r.body);
    cr_assert(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0,
              "Content-Type \"%s\"", r.content_type);
    text = strdup(r.body);
    cr_assert_not_null(text);
    thttp_resp_fini(&r);
    return text;
}

/* Returns the value of the sample whose name and labels are exactly
 * series, or 0 when the scrape has no such line (series still at zero are
 * left out). *found, when given, says which. */
static double
sample(const char *text, const char *series, bool *found)
{
    size_t len = strlen(series);
    const char *line = text;

    if (found != NULL)
        *found = false;
    while (line != NULL && *line != '\0') {
        if (strncmp(line, series, len) == 0 && line[len] == ' ') {
            if (found != NULL)
                *found = true;
            return strtod(line + len + 1, NULL);
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return 0;
}

static double
delta(const char *before, const char *after, const char *series)
{
    return sample(after, series, NULL) - sample(before, series, NULL);
}

#define REQS(route, method, code)                                              \
    "netpolq_http_requests_total{route=\"" route "\",method=\"" method         \
    "\",code=\"" code "\"}"

static const char q_allowed[] =
    "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\"},"
    "\"to\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},\"port\":80}";

Test(metrics, counts_requests_by_route_pattern_method_and_status)
{
    char *before;
    char *after;
    int i;

    upload("PUT", "01-cluster.yaml");
    before = scrape();
    for (i = 0; i < 3; i++)
        cr_assert_eq(get_status("/pods/test-a/server-pod/isolation"), 200);
    cr_assert_eq(get_status("/pods/test-b/client-pod/isolation"), 200);
    cr_assert_eq(get_status("/pods/test-a/nope/isolation"), 404);
    cr_assert_eq(get_status("/no/such/path"), 404);
    cr_assert_eq(get_status("/reachability/batch"), 405);
    json_decref(post_json("/reachability", q_allowed, 200));
    after = scrape();

    /* The pattern, never the pods the paths named. */
    cr_assert_eq(
        delta(before, after, REQS("/pods/{ns}/{name}/isolation", "GET", "200")),
        4);
    cr_assert_eq(
        delta(before, after, REQS("/pods/{ns}/{name}/isolation", "GET", "404")),
        1);
    cr_assert_null(strstr(after, "server-pod"), "a raw path was exported");
    cr_assert_null(strstr(after, "/no/such"), "a raw path was exported");
    cr_assert_eq(delta(before, after, REQS("unmatched", "GET", "404")), 1);
    cr_assert_eq(
        delta(before, after, REQS("/reachability/batch", "GET", "405")), 1);
    cr_assert_eq(delta(before, after, REQS("/reachability", "POST", "200")), 1);
    /* The first scrape is counted by the second. */
    cr_assert_eq(delta(before, after, REQS("/metrics", "GET", "200")), 1);
    free(before);
    free(after);
    tsuite_assert_exit_0();
}

/* Answers the server makes before the api layer sees the request count
 * too: a body announced over --max-body gets its 413 from server/http.c. */
Test(metrics, counts_the_answers_the_server_makes_itself)
{
    static const char too_large[] = "PUT /state HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Type: application/yaml\r\n"
                                    "Content-Length: 1099511627776\r\n\r\n";
    struct thttp_resp r;
    char *before;
    char *after;

    before = scrape();
    cr_assert_eq(thttp_raw(tsuite_srv.port, too_large, strlen(too_large), &r),
                 0);
    cr_assert_eq(r.status, 413, "%ld %s", r.status, r.body);
    thttp_resp_fini(&r);
    after = scrape();
    cr_assert_eq(delta(before, after, REQS("/state", "PUT", "413")), 1);
    free(before);
    free(after);
    tsuite_assert_exit_0();
}

/* Adds the verdicts of a batch answer's results to tally. */
static void
tally_results(const json_t *answer, double tally[2])
{
    const json_t *results = json_object_get(answer, "results");
    const json_t *one;
    size_t i;

    cr_assert(json_is_array(results));
    json_array_foreach(results, i, one)
    {
        const json_t *allowed = json_object_get(one, "allowed");

        if (allowed != NULL)
            tally[json_is_true(allowed) ? 0 : 1]++;
    }
}

Test(metrics, counts_verdicts_of_single_batch_and_matrix_queries)
{
    static const char batch_fast[] =
        "{\"trace\":false,\"queries\":["
        "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\"},"
        "\"to\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},\"port\":80},"
        "{\"from\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},"
        "\"to\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\"},\"port\":80},"
        "{\"from\":{\"ip\":\"203.0.113.9\"},"
        "\"to\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},\"port\":80}"
        "]}";
    static const char batch_traced[] =
        "{\"queries\":["
        "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"client-pod\"},"
        "\"to\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},\"port\":80},"
        "{\"from\":{\"namespace\":\"test-b\",\"pod\":\"nope\"},"
        "\"to\":{\"namespace\":\"test-a\",\"pod\":\"server-pod\"},\"port\":80}"
        "]}";
    double want[2] = { 0, 0 };
    char *before;
    char *after;
    json_t *a;

    upload("PUT", "01-cluster.yaml");
    upload("POST", "02-default-deny-ingress.yaml");
    before = scrape();
    a = post_json("/reachability", q_allowed, 200);
    want[json_is_true(json_object_get(a, "allowed")) ? 0 : 1]++;
    json_decref(a);
    a = post_json("/reachability/batch", batch_fast, 200);
    tally_results(a, want);
    json_decref(a);
    a = post_json("/reachability/batch", batch_traced, 200);
    tally_results(a, want);
    json_decref(a);
    a = post_json("/reachability/matrix", "{\"port\":80}", 200);
    want[0] += (double)json_integer_value(json_object_get(a, "allowedCount"));
    want[1] += (double)json_integer_value(json_object_get(a, "deniedCount"));
    json_decref(a);
    /* A query that fails alone gives no verdict. */
    json_decref(post_json("/reachability",
                          "{\"from\":{\"namespace\":\"x\",\"pod\":\"y\"},"
                          "\"to\":{\"ip\":\"10.0.0.1\"},\"port\":80}",
                          404));
    after = scrape();

    /* The state denies some of these and allows others. */
    cr_assert(want[0] > 0 && want[1] > 0, "allowed %g, denied %g", want[0],
              want[1]);
    cr_assert_eq(
        delta(before, after, "netpolq_verdicts_total{verdict=\"allowed\"}"),
        want[0]);
    cr_assert_eq(
        delta(before, after, "netpolq_verdicts_total{verdict=\"denied\"}"),
        want[1]);
    /* Two batches, of 3 and 2 queries; both within the first buckets. */
    cr_assert_eq(delta(before, after, "netpolq_batch_queries_count"), 2);
    cr_assert_eq(delta(before, after, "netpolq_batch_queries_sum"), 5);
    cr_assert_eq(delta(before, after, "netpolq_batch_queries_bucket{le=\"1\"}"),
                 0);
    cr_assert_eq(
        delta(before, after, "netpolq_batch_queries_bucket{le=\"10\"}"), 2);
    free(before);
    free(after);
    tsuite_assert_exit_0();
}

/* Returns GET /state's member name. */
static double
state_count(const char *name)
{
    struct thttp_resp r;
    double v;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_assert_eq(r.status, 200);
    v = (double)json_integer_value(json_object_get(r.json, name));
    thttp_resp_fini(&r);
    return v;
}

Test(metrics, reports_the_revision_object_counts_and_uploads)
{
    char *before;
    char *after;
    struct thttp_resp r;

    before = scrape();
    cr_assert_eq(sample(before, "netpolq_state_revision", NULL), 0);
    cr_assert_eq(sample(before, "netpolq_objects{kind=\"pod\"}", NULL), 0);
    upload("PUT", "01-cluster.yaml");
    upload("POST", "02-default-deny-ingress.yaml");
    upload("POST", "03-allow-client-ingress.yaml");
    /* A failed upload is a request, not an upload. */
    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/state",
                               "application/yaml", "kind: [", 7, &r),
                 0);
    cr_assert_eq(r.status, 400);
    thttp_resp_fini(&r);
    after = scrape();

    cr_assert_eq(sample(after, "netpolq_state_revision", NULL),
                 state_count("revision"));
    cr_assert_eq(sample(after, "netpolq_state_revision", NULL), 3);
    cr_assert_eq(sample(after, "netpolq_objects{kind=\"namespace\"}", NULL),
                 state_count("namespaces"));
    cr_assert_eq(sample(after, "netpolq_objects{kind=\"pod\"}", NULL),
                 state_count("pods"));
    cr_assert_eq(sample(after, "netpolq_objects{kind=\"networkpolicy\"}", NULL),
                 state_count("networkPolicies"));
    cr_assert_eq(sample(after, "netpolq_objects{kind=\"networkpolicy\"}", NULL),
                 2);
    cr_assert_eq(
        delta(before, after, "netpolq_state_upload_duration_seconds_count"), 3);
    cr_assert(
        delta(before, after, "netpolq_state_upload_duration_seconds_sum") > 0,
        "uploads took no time");
    cr_assert_eq(delta(before, after, REQS("/state", "POST", "400")), 1);
    cr_assert_eq(delta(before, after, REQS("/state", "POST", "200")), 2);
    free(before);
    free(after);
    tsuite_assert_exit_0();
}

/* Checks one histogram series: buckets that never decrease, +Inf equal to
 * _count. labels is "" or "k=\"v\",...". */
static void
assert_histogram(const char *text, const char *name, const char *labels)
{
    char series[512];
    const char *line = text;
    double prev = 0, inf = -1, count;
    bool found;
    int nbuckets = 0;
    size_t plen;

    snprintf(series, sizeof(series), "%s_bucket{%s%sle=\"", name, labels,
             labels[0] != '\0' ? "," : "");
    plen = strlen(series);
    while (line != NULL && *line != '\0') {
        if (strncmp(line, series, plen) == 0) {
            const char *v = strchr(line, ' ');
            double n = strtod(v + 1, NULL);

            cr_assert(n >= prev, "bucket decreases: %.*s",
                      (int)strcspn(line, "\n"), line);
            prev = n;
            nbuckets++;
            if (strncmp(line + plen, "+Inf\"", 5) == 0)
                inf = n;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (labels[0] != '\0')
        snprintf(series, sizeof(series), "%s_count{%s}", name, labels);
    else
        snprintf(series, sizeof(series), "%s_count", name);
    count = sample(text, series, &found);
    cr_assert(found, "no %s", series);
    cr_assert(nbuckets > 1, "no buckets for %s", series);
    cr_assert_eq(inf, count, "%s: +Inf bucket %g, count %g", series, inf,
                 count);
}

Test(metrics, histograms_are_cumulative_and_match_the_request_counts)
{
    char *text;
    int i;

    upload("PUT", "01-cluster.yaml");
    for (i = 0; i < 5; i++)
        json_decref(post_json("/reachability", q_allowed, 200));
    text = scrape();
    assert_histogram(text, "netpolq_http_request_duration_seconds",
                     "route=\"/reachability\",method=\"POST\"");
    cr_assert_eq(sample(text,
                        "netpolq_http_request_duration_seconds_count{route=\"/"
                        "reachability\",method=\"POST\"}",
                        NULL),
                 sample(text, REQS("/reachability", "POST", "200"), NULL));
    cr_assert_eq(sample(text, REQS("/reachability", "POST", "200"), NULL), 5);
    /* 50 µs is the first bucket, 10 s the last finite one. */
    cr_assert_not_null(strstr(text, "le=\"5e-05\""));
    cr_assert_not_null(strstr(text, "le=\"10\""));
    assert_histogram(text, "netpolq_state_upload_duration_seconds", "");
    assert_histogram(text, "netpolq_batch_queries", "");
    cr_assert_not_null(
        strstr(text, "# TYPE netpolq_http_requests_total counter\n"));
    cr_assert_not_null(strstr(
        text, "# TYPE netpolq_http_request_duration_seconds histogram\n"));
    free(text);
    tsuite_assert_exit_0();
}

Test(metrics, tells_the_version_and_start_time)
{
    char *text = scrape();
    char series[128];
    double start;
    bool found;

    snprintf(series, sizeof(series), "netpolq_build_info{version=\"%s\"}",
             NETPOLQ_VERSION);
    cr_assert_eq(sample(text, series, &found), 1);
    cr_assert(found, "no %s", series);
    start = sample(text, "process_start_time_seconds", &found);
    cr_assert(found);
    cr_assert(start > (double)time(NULL) - 600 &&
                  start < (double)time(NULL) + 600,
              "process_start_time_seconds %f is not about now", start);
    free(text);
    tsuite_assert_exit_0();
}

Test(metrics, refuses_query_arguments_and_answers_head)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/metrics?format=json", &r), 0);
    cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(
        thttp_request(tsuite_srv.base, "HEAD", "/metrics", NULL, NULL, 0, &r),
        0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 0);
    thttp_resp_fini(&r);
    cr_assert_eq(
        thttp_request(tsuite_srv.base, "POST", "/metrics", NULL, "", 0, &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(r.allow, "GET, HEAD");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}
