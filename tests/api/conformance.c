/*
 * The conformance sample of tests/data/conformance/ against the real binary:
 * one test per case folder, found when the suite starts, so a case added to
 * the folder is run without touching this file. Each test replaces the
 * state with the case's manifests.yaml and asks every expectation of its
 * expect.jsonl in one POST /reachability/batch; lines marked "ignored" (a
 * pod probing itself) are skipped, as the folder's README says. Every
 * mismatch is printed with the case, the query, the expected verdict and
 * the server's reason before the test fails. NETPOLQ_CONFORMANCE_DIR points
 * the suite at another folder of the same layout.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"
#include "tests/support/testdata.h"

/* NETPOLQ_CONFORMANCE_DIR runs another sample of the same layout. */
#define CONFORMANCE_DIR conformance_dir()

/* The sample as shipped: a folder that goes missing fails the suite instead
 * of silently running fewer cases. */
#define MIN_CASES 18

static const char *
conformance_dir(void)
{
    const char *dir = getenv("NETPOLQ_CONFORMANCE_DIR");

    return dir != NULL && dir[0] != '\0' ? dir
                                         : NETPOLQ_TEST_DATA "/conformance";
}

TestSuite(conformance, .init = tsuite_start, .fini = tsuite_assert_exit_0);
TestSuite(sample);

struct conf_case {
    char name[128];
};

static int
case_cmp(const void *a, const void *b)
{
    return strcmp(((const struct conf_case *)a)->name,
                  ((const struct conf_case *)b)->name);
}

/* Fills cases (up to max) with the folders of CONFORMANCE_DIR that hold a
 * manifests.yaml, sorted by name. Returns how many. */
static size_t
find_cases(struct conf_case *cases, size_t max)
{
    DIR *d = opendir(CONFORMANCE_DIR);
    struct dirent *e;
    size_t n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        char path[512];
        struct stat st;

        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(cases[0].name))
            continue;
        snprintf(path, sizeof(path), "%s/%s/manifests.yaml", CONFORMANCE_DIR,
                 e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        memcpy(cases[n].name, e->d_name, strlen(e->d_name) + 1);
        n++;
    }
    closedir(d);
    qsort(cases, n, sizeof(cases[0]), case_cmp);
    return n;
}

static void
free_cases(struct criterion_test_params *crp)
{
    cr_free(crp->params);
}

ParameterizedTestParameters(conformance, case_matches_expectations)
{
    struct conf_case found[256];
    struct conf_case *cases;
    size_t n = find_cases(found, sizeof(found) / sizeof(found[0]));

    if (n == 0)
        return cr_make_param_array(struct conf_case, NULL, 0);
    /* Criterion copies parameters into each test's process from memory it
     * shares: cr_malloc, not malloc. */
    cases = cr_malloc(n * sizeof(*cases));
    memcpy(cases, found, n * sizeof(*cases));
    return cr_make_param_array(struct conf_case, cases, n, free_cases);
}

/* Reads expect.jsonl into an array of the expectations to compare (ignored
 * lines dropped). */
static json_t *
load_expectations(const char *name)
{
    char path[512];
    json_t *out = json_array();
    char *text;
    char *line;
    int lineno = 0;

    snprintf(path, sizeof(path), "%s/%s/expect.jsonl", CONFORMANCE_DIR, name);
    text = tdata_read(path, NULL);
    for (line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        json_error_t jerr;
        json_t *v;

        lineno++;
        if (nl != NULL)
            *nl = '\0';
        if (line[strspn(line, " \t\r")] != '\0') {
            v = json_loads(line, 0, &jerr);
            cr_assert_not_null(v, "%s:%d: %s", path, lineno, jerr.text);
            cr_assert(json_is_boolean(json_object_get(v, "allowed")),
                      "%s:%d: no allowed", path, lineno);
            json_object_set_new(v, "_line", json_integer(lineno));
            if (json_is_true(json_object_get(v, "ignored")))
                json_decref(v);
            else
                json_array_append_new(out, v);
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    free(text);
    return out;
}

/* The query part of an expectation: the four fields README.md names. */
static json_t *
query_of(json_t *expectation)
{
    static const char *const fields[] = { "from", "to", "port", "protocol" };
    json_t *q = json_object();
    size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *v = json_object_get(expectation, fields[i]);

        if (v != NULL)
            json_object_set(q, fields[i], v);
    }
    return q;
}

ParameterizedTest(struct conf_case *c, conformance, case_matches_expectations)
{
    char path[512];
    struct thttp_resp r;
    json_t *expect;
    json_t *batch;
    json_t *queries;
    json_t *results;
    char *body;
    size_t len, i;
    size_t mismatches = 0;
    long revision;

    snprintf(path, sizeof(path), "%s/%s/manifests.yaml", CONFORMANCE_DIR,
             c->name);
    body = tdata_read(path, &len);
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", body, len, &r),
                 0);
    free(body);
    cr_assert_eq(r.status, 200, "%s: PUT /state: %ld %s", c->name, r.status,
                 r.body);
    revision = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);

    expect = load_expectations(c->name);
    cr_assert_gt(json_array_size(expect), 0, "%s: nothing to compare", c->name);
    queries = json_array();
    for (i = 0; i < json_array_size(expect); i++)
        json_array_append_new(queries, query_of(json_array_get(expect, i)));
    batch = json_pack("{s:o}", "queries", queries);
    body = json_dumps(batch, JSON_COMPACT);
    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability/batch",
                               "application/json", body, strlen(body), &r),
                 0);
    free(body);
    cr_assert_eq(r.status, 200, "%s: batch: %ld %.500s", c->name, r.status,
                 r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")),
                 revision, "%s: the batch read another revision", c->name);
    results = json_object_get(r.json, "results");
    cr_assert_eq(json_array_size(results), json_array_size(queries),
                 "%s: %zu results for %zu queries", c->name,
                 json_array_size(results), json_array_size(queries));

    for (i = 0; i < json_array_size(results); i++) {
        json_t *e = json_array_get(expect, i);
        json_t *res = json_array_get(results, i);
        json_t *allowed = json_object_get(res, "allowed");
        bool want = json_is_true(json_object_get(e, "allowed"));
        char *q = json_dumps(json_array_get(queries, i), JSON_COMPACT);

        if (!json_is_boolean(allowed)) {
            char *text = json_dumps(res, JSON_COMPACT);

            cr_log_error(
                "%s (expect.jsonl:%lld): %s: no verdict: %s", c->name,
                (long long)json_integer_value(json_object_get(e, "_line")), q,
                text);
            free(text);
            mismatches++;
        } else if (json_is_true(allowed) != want) {
            cr_log_error(
                "%s (expect.jsonl:%lld): %s: expected %s, got %s: "
                "%s",
                c->name,
                (long long)json_integer_value(json_object_get(e, "_line")), q,
                want ? "allowed" : "denied", want ? "denied" : "allowed",
                json_string_value(json_object_get(res, "reason")));
            mismatches++;
        }
        free(q);
    }
    cr_expect_eq(mismatches, 0,
                 "%s: %zu of %zu verdicts differ (printed above)", c->name,
                 mismatches, json_array_size(results));
    thttp_resp_fini(&r);
    json_decref(batch);
    json_decref(expect);
}

Test(sample, every_case_folder_is_complete)
{
    struct conf_case cases[256];
    size_t n = find_cases(cases, sizeof(cases) / sizeof(cases[0]));
    DIR *d = opendir(CONFORMANCE_DIR);
    struct dirent *e;
    size_t dirs = 0;
    size_t i;

    cr_assert_not_null(d, "cannot open %s", CONFORMANCE_DIR);
    while ((e = readdir(d)) != NULL) {
        char path[512];
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", CONFORMANCE_DIR, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            dirs++;
    }
    closedir(d);
    cr_expect_geq(n, MIN_CASES, "only %zu cases in %s", n, CONFORMANCE_DIR);
    cr_expect_eq(n, dirs, "%zu folders but %zu have a manifests.yaml", dirs, n);
    for (i = 0; i < n; i++) {
        char path[512];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s/expect.jsonl", CONFORMANCE_DIR,
                 cases[i].name);
        cr_expect(stat(path, &st) == 0 && st.st_size > 0,
                  "%s has no expect.jsonl", cases[i].name);
    }
}
