/*
 * The fast path of POST /reachability/batch (api/batch.c), with and without
 * traces, against the general path (api/reach.c): the same body must get
 * the same answer, byte for byte. The general path is forced by spelling
 * the key "trace" with an escape ("tr\u0061ce"), which the fast path steps
 * aside for and jansson reads as "trace".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/internal.h"
#include "tests/support/dispatch.h"

static struct api_ctx ctx;

/* Namespaces n0..n3 (team=t<i%2>), pods p0..p19 in them with ports named
 * http (8080/TCP) or dns (53/UDP), and policies: default deny ingress in n0,
 * allow from team=t1 on http in n0, egress deny in n1 except to n0 on 8080,
 * and an ipBlock allow in n2. */
static char *
cluster(void)
{
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    int i;

    cr_assert_not_null(s);
    for (i = 0; i < 4; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "apiVersion: v1\nkind: Namespace\nmetadata: "
                                "{name: n%d, labels: {team: t%d}}\n---\n",
                                i, i % 2);
    for (i = 0; i < 20; i++)
        len += (size_t)snprintf(
            s + len, cap - len,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: "
            "n%d, labels: {app: a%d}}\nspec: {containers: [{name: c, ports: "
            "[{containerPort: %d, name: %s, protocol: %s}]}]}\nstatus: "
            "{podIP: 10.0.%d.%d}\n---\n",
            i, i % 4, i % 3, i % 2 ? 53 : 8080, i % 2 ? "dns" : "http",
            i % 2 ? "UDP" : "TCP", i % 4, i + 1);
    len += (size_t)snprintf(
        s + len, cap - len,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
        "{name: deny, namespace: n0}\nspec: {podSelector: {}}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
        "{name: allow, namespace: n0}\nspec: {podSelector: {matchLabels: "
        "{app: a1}}, ingress: [{from: [{namespaceSelector: {matchLabels: "
        "{team: t1}}}], ports: [{port: http}]}]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
        "{name: egress, namespace: n1}\nspec: {podSelector: {}, policyTypes: "
        "[Egress], egress: [{to: [{namespaceSelector: {matchLabels: "
        "{kubernetes.io/metadata.name: n0}}}], ports: [{port: 8080}]}]}\n"
        "---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: "
        "{name: cidr, namespace: n2}\nspec: {podSelector: {}, ingress: "
        "[{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}}]}]}"
        "\n");
    return s;
}

static void
setup(void)
{
    char *body = cluster();

    tdisp_ctx_init(&ctx);
    tdisp_put_state(&ctx, body);
    free(body);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

/* One random query in one of the shapes clients send. One in sixteen names
 * a port the destination lacks, which makes the batch the general path's. */
static size_t
random_query(char *buf, size_t len, unsigned *seed)
{
    static const char *const protos[] = { "", ",\"protocol\":\"TCP\"",
                                          ",\"protocol\":\"UDP\"",
                                          ", \"protocol\": null" };
    static const char *const numbers[] = { "8080", "53", "\"8080\"", "80" };
    int a = rand_r(seed) % 20, b = rand_r(seed) % 20;
    char from[96], to[96], port[64];

    if (rand_r(seed) % 8 == 0)
        snprintf(from, sizeof(from), "{\"ip\":\"10.0.%d.%d\"}", a % 4,
                 rand_r(seed) % 3 == 0 ? 200 : a + 1);
    else
        snprintf(from, sizeof(from), "{\"namespace\":\"n%d\",\"pod\":\"p%d\"}",
                 a % 4, a);
    snprintf(to, sizeof(to), "{ \"pod\" : \"p%d\", \"namespace\": \"n%d\" }", b,
             b % 4);
    if (rand_r(seed) % 2 == 0)
        snprintf(port, sizeof(port), "%s%s", numbers[rand_r(seed) % 4],
                 protos[rand_r(seed) % 4]);
    else if (rand_r(seed) % 16 == 0)
        snprintf(port, sizeof(port), "\"%s\"", b % 2 ? "http" : "dns");
    else
        snprintf(port, sizeof(port), "\"%s\"", b % 2 ? "dns" : "http");
    return (size_t)snprintf(buf, len, "{\"from\":%s,\"to\":%s,\"port\":%s}",
                            from, to, port);
}

/* A batch of n random queries; trace is the value of its "trace" member
 * ("false", "true" or "null", the default). */
static char *
random_batch(unsigned seed, int n, bool slow, const char *trace)
{
    size_t cap = (size_t)n * 256 + 128, len = 0;
    char *s = malloc(cap);
    int i;

    cr_assert_not_null(s);
    len += (size_t)snprintf(s, cap, "{\"%s\": %s, \"queries\": [",
                            slow ? "tr\\u0061ce" : "trace", trace);
    for (i = 0; i < n; i++) {
        if (i > 0)
            s[len++] = ',';
        len += random_query(s + len, cap - len, &seed);
    }
    snprintf(s + len, cap - len, "]}");
    return s;
}

Test(batch_fast, answers_exactly_like_the_general_path, .init = setup,
     .fini = teardown)
{
    static const char *const traces[] = { "false", "true", "null" };
    unsigned seed, nfast[3] = { 0, 0, 0 };

    for (seed = 1; seed <= 300; seed++) {
        const char *trace = traces[seed % 3];
        char *fast = random_batch(seed, 1 + (int)(seed % 50), false, trace);
        char *slow = random_batch(seed, 1 + (int)(seed % 50), true, trace);
        struct api_response a, b;

        struct api_request req = { .method = "POST",
                                   .path = "/reachability/batch",
                                   .body = fast,
                                   .body_len = strlen(fast) };

        memset(&a, 0, sizeof(a));
        if (api_batch_fast(&ctx, &req, &a) == 0)
            nfast[seed % 3]++;
        api_response_fini(&a);
        tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0,
                  "application/json", fast, &a);
        tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0,
                  "application/json", slow, &b);
        cr_assert_eq(a.status, b.status, "seed %u: %d vs %d", seed, a.status,
                     b.status);
        cr_assert_str_eq(a.body, b.body, "seed %u:\n%s", seed, fast);
        api_response_fini(&a);
        api_response_fini(&b);
        free(fast);
        free(slow);
    }
    /* Both kinds of batches occurred, with and without traces. */
    for (seed = 0; seed < 3; seed++) {
        cr_assert_gt(nfast[seed], 25,
                     "trace %s: the fast path answered only %u", traces[seed],
                     nfast[seed]);
        cr_assert_lt(nfast[seed], 100,
                     "trace %s: the general path answered none", traces[seed]);
    }
}

Test(batch_fast, counts_allowed_and_denied_verdicts, .init = setup,
     .fini = teardown)
{
    struct api_response r;

    /* p1 (n1, a1, dns) -> p0 (n0): n1 egress allows only 8080 to n0, and n0
     * denies ingress to p0 (app a0): denied. p2 (n2) -> p5 (n1): n2 has no
     * egress policy and n1 no ingress policy: allowed. */
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, NULL,
              "{\"trace\":false,\"queries\":[{\"from\":{\"namespace\":\"n1\","
              "\"pod\":\"p1\"},\"to\":{\"namespace\":\"n0\",\"pod\":\"p0\"},"
              "\"port\":8080},{\"from\":{\"namespace\":\"n2\",\"pod\":\"p2\"},"
              "\"to\":{\"namespace\":\"n1\",\"pod\":\"p5\"},\"port\":53,"
              "\"protocol\":\"UDP\"}]}",
              &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"revision\":1,\"results\":[{\"allowed\":false,"
                             "\"revision\":1},{\"allowed\":true,"
                             "\"revision\":1}]}");
    api_response_fini(&r);
}

Test(batch_fast, leaves_errors_to_the_general_path, .init = setup,
     .fini = teardown)
{
    struct api_response r;

    /* An unknown pod: the item's error, as the general path words it. */
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, "application/json",
              "{\"trace\":false,\"queries\":[{\"from\":{\"namespace\":\"n1\","
              "\"pod\":\"nope\"},\"to\":{\"namespace\":\"n0\",\"pod\":\"p0\"},"
              "\"port\":8080}]}",
              &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"code\":\"unknown_pod\""), "%s",
                       r.body);
    api_response_fini(&r);
    /* Duplicate keys are a syntax error for the whole body. */
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, "application/json",
              "{\"trace\":false,\"trace\":false,\"queries\":[]}", &r);
    cr_assert_eq(r.status, 400, "%s", r.body);
    api_response_fini(&r);
    /* Without trace:false every answer carries its trace. */
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, "application/json",
              "{\"queries\":[{\"from\":{\"namespace\":\"n2\",\"pod\":\"p2\"},"
              "\"to\":{\"namespace\":\"n1\",\"pod\":\"p5\"},\"port\":53}]}",
              &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"ingress\""), "%s", r.body);
    api_response_fini(&r);
}

/* A batch large enough to be evaluated by two threads answers exactly like
 * the general path, and it does take the fast path. */
Test(batch_fast, large_batches_split_across_threads_answer_the_same,
     .init = setup, .fini = teardown)
{
    const int n = 20000;
    size_t cap = (size_t)n * 128 + 64, len[2] = { 0, 0 };
    char *body[2];
    struct api_response a, b, f;
    unsigned seed = 7;
    int k, i;

    for (k = 0; k < 2; k++) {
        body[k] = malloc(cap);
        cr_assert_not_null(body[k]);
        len[k] = (size_t)snprintf(body[k], cap, "{\"%s\":false,\"queries\":[",
                                  k == 0 ? "trace" : "tr\\u0061ce");
    }
    for (i = 0; i < n; i++) {
        int x = rand_r(&seed) % 20, y = rand_r(&seed) % 20;
        int udp = rand_r(&seed) % 2;

        for (k = 0; k < 2; k++)
            len[k] += (size_t)snprintf(
                body[k] + len[k], cap - len[k],
                "%s{\"from\":{\"namespace\":\"n%d\",\"pod\":\"p%d\"},"
                "\"to\":{\"namespace\":\"n%d\",\"pod\":\"p%d\"},"
                "\"port\":%s,\"protocol\":\"%s\"}",
                i > 0 ? "," : "", x % 4, x, y % 4, y, udp ? "53" : "8080",
                udp ? "UDP" : "TCP");
    }
    for (k = 0; k < 2; k++)
        snprintf(body[k] + len[k], cap - len[k], "]}");
    {
        struct api_request req = { .method = "POST",
                                   .path = "/reachability/batch",
                                   .body = body[0],
                                   .body_len = strlen(body[0]) };

        memset(&f, 0, sizeof(f));
        cr_assert_eq(api_batch_fast(&ctx, &req, &f), 0,
                     "the fast path stepped aside");
        api_response_fini(&f);
    }
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, "application/json",
              body[0], &a);
    tdisp_raw(&ctx, "POST", "/reachability/batch", NULL, 0, "application/json",
              body[1], &b);
    cr_assert_eq(a.status, 200, "%s", a.body);
    cr_assert_eq(a.body_len, b.body_len);
    cr_assert(memcmp(a.body, b.body, a.body_len) == 0, "the answers differ");
    api_response_fini(&a);
    api_response_fini(&b);
    free(body[0]);
    free(body[1]);
}

/* POST /reachability reads plain bodies with the same scanner
 * (api_query_fast). Each random query, with and without "trace", must get
 * the answer the general path gives the same query with a key spelled with
 * an escape ("p\u006frt"), which only jansson reads; the trace included. */
Test(query_fast, answers_exactly_like_the_general_path, .init = setup,
     .fini = teardown)
{
    static const char *const traces[] = { "", ",\"trace\":false",
                                          ",\"trace\":true",
                                          ",\"trace\":null" };
    unsigned seed, nfast = 0;

    for (seed = 1; seed <= 400; seed++) {
        const char *tr = traces[seed % 4];
        char q[512], fast[640], slow[640], *port;
        struct api_response a, b;
        struct api_query aq;
        bool trace;
        unsigned s = seed;
        size_t n = random_query(q, sizeof(q), &s);

        /* q ends with '}': insert the trace member before it. */
        snprintf(fast, sizeof(fast), "%.*s%s}", (int)(n - 1), q, tr);
        port = strstr(fast, "\"port\"");
        cr_assert_not_null(port);
        snprintf(slow, sizeof(slow), "%.*s\"p\\u006frt\"%s", (int)(port - fast),
                 fast, port + strlen("\"port\""));

        struct api_request req = { .method = "POST",
                                   .path = "/reachability",
                                   .body = fast,
                                   .body_len = strlen(fast) };
        struct np_snapshot *snap = np_state_acquire(&ctx.state);

        if (api_query_fast(snap, &req, &aq, &trace) == 0) {
            nfast++;
            cr_assert_eq(trace, strcmp(tr, ",\"trace\":false") != 0,
                         "seed %u: trace read wrong from %s", seed, fast);
        }
        np_snapshot_release(snap);
        tdisp_raw(&ctx, "POST", "/reachability", NULL, 0, "application/json",
                  fast, &a);
        tdisp_raw(&ctx, "POST", "/reachability", NULL, 0, "application/json",
                  slow, &b);
        cr_assert_eq(a.status, b.status, "seed %u: %d vs %d\n%s", seed,
                     a.status, b.status, fast);
        cr_assert_str_eq(a.body, b.body, "seed %u:\n%s", seed, fast);
        api_response_fini(&a);
        api_response_fini(&b);
    }
    /* Both paths answered: plain queries fast, unknown ports generally. */
    cr_assert_gt(nfast, 200, "the fast path answered only %u queries", nfast);
    cr_assert_lt(nfast, 400, "the general path answered no query");
}

Test(query_fast, steps_aside_for_what_only_the_general_path_reads,
     .init = setup, .fini = teardown)
{
    static const char *const bodies[] = {
        /* unknown pod, unknown field, duplicate key, escape, bad trace,
         * trailing text, number forms jansson reads differently */
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"nope\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080}",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080,\"x\":1}",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080,\"port\":53}",
        "{\"from\":{\"namespace\":\"n\\u0031\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080}",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080,\"trace\":1}",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8080} x",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":8.08e3}",
        "{\"from\":{\"namespace\":\"n1\",\"pod\":\"p1\"},\"to\":{"
        "\"namespace\":\"n0\",\"pod\":\"p0\"},\"port\":0}",
    };
    struct np_snapshot *snap = np_state_acquire(&ctx.state);
    struct api_query aq;
    bool trace;
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct api_request req = { .method = "POST",
                                   .path = "/reachability",
                                   .content_type = "application/json",
                                   .body = bodies[i],
                                   .body_len = strlen(bodies[i]) };

        cr_expect_eq(api_query_fast(snap, &req, &aq, &trace), -1,
                     "the fast path read %s", bodies[i]);
    }
    /* A Content-Type other than plain JSON is the general path's to judge. */
    struct api_request req = { .method = "POST",
                               .path = "/reachability",
                               .content_type = "text/plain",
                               .body =
                                   "{\"from\":{\"namespace\":\"n1\","
                                   "\"pod\":\"p1\"},\"to\":{\"namespace\":"
                                   "\"n0\",\"pod\":\"p0\"},\"port\":8080}" };
    req.body_len = strlen(req.body);
    cr_expect_eq(api_query_fast(snap, &req, &aq, &trace), -1);
    req.content_type = NULL;
    cr_expect_eq(api_query_fast(snap, &req, &aq, &trace), 0);
    cr_expect_eq(aq.q.port, 8080);
    cr_expect(trace);
    np_snapshot_release(snap);
}
