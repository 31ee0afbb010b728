/*
 * The walkthrough of examples/walkthrough/ against the real binary: the
 * five steps applied one by one (PUT /state with step 1, POST /state with
 * each later file) and as whole states (PUT /state with files 1..k
 * concatenated). The verdicts come from examples/walkthrough/expected.jsonl;
 * the trace expectations below (which policies isolate each side, which
 * rule allowed, why a side denied) restate the walkthrough's README. The
 * GET form of the query must answer exactly what the POST form answers.
 */
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

#define WALKTHROUGH_DIR NETPOLQ_SOURCE_DIR "/examples/walkthrough"
#define NSTEPS          5

TestSuite(walkthrough, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/* The lines of expected.jsonl, indexed by step - 1 (owned). */
static json_t *
expected_steps(void)
{
    json_t *steps = json_array();
    char *text = tdata_read(WALKTHROUGH_DIR "/expected.jsonl", NULL);
    char *line = text;

    while (*line != '\0') {
        char *nl = strchr(line, '\n');
        json_error_t jerr;
        json_t *v;

        if (nl != NULL)
            *nl = '\0';
        if (line[strspn(line, " \t\r")] != '\0') {
            v = json_loads(line, 0, &jerr);
            cr_assert_not_null(v, "expected.jsonl: %s", jerr.text);
            json_array_append_new(steps, v);
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    free(text);
    cr_assert_eq(json_array_size(steps), NSTEPS,
                 "expected.jsonl has %zu steps, want %d",
                 json_array_size(steps), NSTEPS);
    return steps;
}

static json_t *
step_of(json_t *steps, int step)
{
    json_t *s = json_array_get(steps, (size_t)step - 1);

    cr_assert_eq(json_integer_value(json_object_get(s, "step")), step,
                 "expected.jsonl line %d is not step %d", step, step);
    return s;
}

/* Sends the files of a step (all of them concatenated as one YAML stream,
 * or only the last one) and returns the revision the upload answered. */
static long
upload_step(json_t *step, const char *method, bool all_files)
{
    json_t *files = json_object_get(step, "files");
    size_t n = json_array_size(files);
    size_t first = all_files ? 0 : n - 1;
    char *body = NULL;
    size_t len = 0;
    struct thttp_resp r;
    size_t i;
    long rev;

    cr_assert_gt(n, 0, "a step without files");
    for (i = first; i < n; i++) {
        char path[512];
        size_t flen;
        char *text;

        snprintf(path, sizeof(path), "%s/%s", WALKTHROUGH_DIR,
                 json_string_value(json_array_get(files, i)));
        text = tdata_read(path, &flen);
        body = realloc(body, len + flen + 8);
        cr_assert_not_null(body);
        if (len > 0) {
            memcpy(body + len, "\n---\n", 5);
            len += 5;
        }
        memcpy(body + len, text, flen);
        len += flen;
        free(text);
    }
    cr_assert_eq(thttp_request(tsuite_srv.base, method, "/state",
                               "application/yaml", body, len, &r),
                 0);
    cr_assert_eq(r.status, 200, "%s /state: %ld %s", method, r.status, r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    cr_assert_gt(rev, 0, "no revision in %s", r.body);
    thttp_resp_fini(&r);
    free(body);
    return rev;
}

/* The value at a path like "ingress.allowedBy[0].policy" (borrowed), or
 * NULL. */
static json_t *
json_at(json_t *root, const char *path)
{
    char key[64];
    json_t *v = root;
    const char *p = path;

    while (*p != '\0' && v != NULL) {
        size_t n = strcspn(p, ".[");

        if (n > 0) {
            cr_assert_lt(n, sizeof(key));
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            p += n;
        } else if (*p == '[') {
            v = json_array_get(v, strtoul(p + 1, NULL, 10));
            p = strchr(p, ']');
            cr_assert_not_null(p, "bad path %s", path);
            p++;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

/* What the walkthrough's README says about the trace at each step: the
 * value at path in the answer, written as JSON. */
struct trace_check {
    int step;
    char path[48];
    char want[128];
};

static const struct trace_check checks[] = {
    /* 1: no policy selects either pod. */
    { .step = 1, .path = "egress.isolated", .want = "false" },
    { .step = 1, .path = "ingress.isolated", .want = "false" },
    { .step = 1, .path = "egress.policies", .want = "[]" },
    { .step = 1, .path = "ingress.policies", .want = "[]" },
    { .step = 1, .path = "ingress.decision", .want = "\"not_isolated\"" },
    { .step = 1, .path = "egress.decision", .want = "\"not_isolated\"" },
    /* 2: server-pod is isolated for ingress and no rule admits the
     * client; the client's side still allows it. */
    { .step = 2, .path = "egress.allowed", .want = "true" },
    { .step = 2, .path = "ingress.allowed", .want = "false" },
    { .step = 2, .path = "ingress.isolated", .want = "true" },
    { .step = 2,
      .path = "ingress.policies",
      .want = "[\"test-a/default-deny-ingress\"]" },
    { .step = 2, .path = "ingress.decision", .want = "\"no_rule_matches\"" },
    { .step = 2, .path = "ingress.allowedBy", .want = "[]" },
    /* 3: the allow policy's first ingress rule admits the client; the
     * deny-all policy still selects the pod and takes nothing away. */
    { .step = 3, .path = "ingress.allowed", .want = "true" },
    { .step = 3, .path = "ingress.decision", .want = "\"allowed_by_rule\"" },
    { .step = 3,
      .path = "ingress.allowedBy[0].policy",
      .want = "\"test-a/allow-from-test-client\"" },
    { .step = 3,
      .path = "ingress.allowedBy[0].rulePath",
      .want = "\"spec.ingress[0]\"" },
    { .step = 3,
      .path = "ingress.allowedBy[0].peerPath",
      .want = "\"spec.ingress[0].from[0]\"" },
    { .step = 3, .path = "egress.isolated", .want = "false" },
    /* 4: client-pod is isolated for egress with nothing allowed out,
     * although the server would admit it. */
    { .step = 4, .path = "egress.allowed", .want = "false" },
    { .step = 4, .path = "egress.isolated", .want = "true" },
    { .step = 4,
      .path = "egress.policies",
      .want = "[\"test-b/default-deny-egress\"]" },
    { .step = 4, .path = "egress.decision", .want = "\"no_rule_matches\"" },
    { .step = 4, .path = "ingress.allowed", .want = "true" },
    { .step = 4,
      .path = "ingress.allowedBy[0].policy",
      .want = "\"test-a/allow-from-test-client\"" },
    /* 5: both sides allow TCP 80. */
    { .step = 5, .path = "egress.allowed", .want = "true" },
    { .step = 5, .path = "egress.decision", .want = "\"allowed_by_rule\"" },
    { .step = 5,
      .path = "egress.allowedBy[0].policy",
      .want = "\"test-b/allow-egress-to-ateam\"" },
    { .step = 5,
      .path = "egress.allowedBy[0].rulePath",
      .want = "\"spec.egress[0]\"" },
    { .step = 5,
      .path = "ingress.allowedBy[0].policy",
      .want = "\"test-a/allow-from-test-client\"" },
};

/* Policies a side lists, in any order: the set is what the README names. */
struct policy_set {
    int step;
    char side[8];
    char policies[2][40];
};

static const struct policy_set policy_sets[] = {
    { .step = 3,
      .side = "ingress",
      .policies = { "test-a/allow-from-test-client",
                    "test-a/default-deny-ingress" } },
    { .step = 5,
      .side = "egress",
      .policies = { "test-b/allow-egress-to-ateam",
                    "test-b/default-deny-egress" } },
    { .step = 5,
      .side = "ingress",
      .policies = { "test-a/allow-from-test-client",
                    "test-a/default-deny-ingress" } },
};

static bool
array_has_string(json_t *a, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

static void
check_trace(int step, json_t *answer)
{
    size_t i;

    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        const struct trace_check *c = &checks[i];
        json_t *want;
        json_t *got;
        char *text;

        if (c->step != step)
            continue;
        want = json_loads(c->want, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(want, "bad expectation %s", c->want);
        got = json_at(answer, c->path);
        text = got != NULL ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT)
                           : strdup("(absent)");
        cr_expect(got != NULL && json_equal(got, want),
                  "step %d: %s is %s, want %s", step, c->path, text, c->want);
        free(text);
        json_decref(want);
    }
    for (i = 0; i < sizeof(policy_sets) / sizeof(policy_sets[0]); i++) {
        const struct policy_set *ps = &policy_sets[i];
        json_t *list;
        size_t j;

        if (ps->step != step)
            continue;
        list = json_object_get(json_object_get(answer, ps->side), "policies");
        cr_expect_eq(json_array_size(list), 2, "step %d: %s.policies has %zu",
                     step, ps->side, json_array_size(list));
        for (j = 0; j < 2; j++)
            cr_expect(array_has_string(list, ps->policies[j]),
                      "step %d: %s.policies lacks %s", step, ps->side,
                      ps->policies[j]);
    }
}

/* Asks the step's question by POST and by GET and checks the answer. */
static void
ask(json_t *step, long revision)
{
    int k = (int)json_integer_value(json_object_get(step, "step"));
    bool want = json_is_true(json_object_get(step, "allowed"));
    json_t *query = json_object_get(step, "query");
    char *body = json_dumps(query, JSON_COMPACT);
    struct thttp_resp post;
    struct thttp_resp get;
    json_t *egress;
    json_t *ingress;

    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", body, strlen(body), &post),
                 0);
    free(body);
    cr_assert_eq(post.status, 200, "step %d: %ld %s", k, post.status,
                 post.body);
    cr_assert(json_is_boolean(json_object_get(post.json, "allowed")), "%s",
              post.body);
    cr_expect_eq(json_is_true(json_object_get(post.json, "allowed")), want,
                 "step %d: allowed is %s, want %s; reason: %s", k,
                 want ? "false" : "true", want ? "true" : "false",
                 json_string_value(json_object_get(post.json, "reason")));
    cr_expect_eq(json_integer_value(json_object_get(post.json, "revision")),
                 revision, "step %d: answered from another revision", k);
    egress = json_object_get(post.json, "egress");
    ingress = json_object_get(post.json, "ingress");
    cr_expect_eq(json_is_true(json_object_get(post.json, "allowed")),
                 json_is_true(json_object_get(egress, "allowed")) &&
                     json_is_true(json_object_get(ingress, "allowed")),
                 "step %d: allowed is not egress.allowed && "
                 "ingress.allowed",
                 k);
    check_trace(k, post.json);

    cr_assert_eq(thttp_get(tsuite_srv.base,
                           "/reachability?from=test-b/client-pod"
                           "&to=test-a/server-pod&port=80",
                           &get),
                 0);
    cr_assert_eq(get.status, 200, "step %d: GET %ld %s", k, get.status,
                 get.body);
    cr_expect(json_equal(get.json, post.json),
              "step %d: GET answers\n%s\nPOST answers\n%s", k, get.body,
              post.body);
    thttp_resp_fini(&get);
    thttp_resp_fini(&post);
}

Test(walkthrough, steps_applied_one_by_one_give_the_documented_verdicts)
{
    json_t *steps = expected_steps();
    long last = 0;
    int k;

    for (k = 1; k <= NSTEPS; k++) {
        json_t *step = step_of(steps, k);
        long rev = upload_step(step, k == 1 ? "PUT" : "POST", false);

        cr_expect_eq(rev, last + 1, "step %d: revision %ld after %ld", k, rev,
                     last);
        ask(step, rev);
        last = rev;
    }
    json_decref(steps);
}

ParameterizedTestParameters(walkthrough,
                            whole_state_of_step_k_gives_its_verdict)
{
    static int rows[] = { 1, 2, 3, 4, 5 };

    return cr_make_param_array(int, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(int *k, walkthrough, whole_state_of_step_k_gives_its_verdict)
{
    json_t *steps = expected_steps();
    json_t *step = step_of(steps, *k);
    long rev;

    /* A state already in place must be replaced, not merged into: start
     * from the final state, then PUT steps 1..k. */
    upload_step(step_of(steps, NSTEPS), "PUT", true);
    rev = upload_step(step, "PUT", true);
    ask(step, rev);
    json_decref(steps);
}

Test(walkthrough, port_by_name_resolves_on_server_pod)
{
    json_t *steps = expected_steps();
    json_t *step = step_of(steps, NSTEPS);
    json_t *query = json_deep_copy(json_object_get(step, "query"));
    struct thttp_resp r;
    char *body;

    upload_step(step, "PUT", true);
    json_object_set_new(query, "port", json_string("http"));
    json_object_del(query, "protocol");
    body = json_dumps(query, JSON_COMPACT);
    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", body, strlen(body), &r),
                 0);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_expect(json_is_true(json_object_get(r.json, "allowed")), "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "port")), 80);
    cr_expect_str_eq(json_string_value(json_object_get(r.json, "protocol")),
                     "TCP");
    thttp_resp_fini(&r);
    free(body);
    json_decref(query);
    json_decref(steps);
}
