/*
 * How a traced answer's text is written. A reachability answer writes the
 * sentences of its trace straight into its own text (np_eval_trace_lazy()
 * and np_say_*() through api_jw_text_begin()/api_jw_text_end()), and the
 * rest of each trace item in one copy (api_jw_raw_key()). These tests hold
 * that to the plain way: the verdict of np_eval_trace(), whose reasons are
 * strings, written with api_jw_string(); every pair of endpoints of several
 * clusters, on several ports and protocols, must give the same bytes. They
 * also hold the string writer itself to jansson's escaping.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/internal.h"
#include "core/eval.h"
#include "tests/support/dispatch.h"

#ifndef NETPOLQ_SOURCE_DIR
#define NETPOLQ_SOURCE_DIR "."
#endif

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The files (under the source tree) as one YAML stream. */
static char *
stream_of(const char *const *files)
{
    size_t len = 0, i;
    char *out = NULL;

    for (i = 0; files[i] != NULL; i++) {
        char path[512];
        char *text;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", NETPOLQ_SOURCE_DIR, files[i]);
        text = slurp(path);
        n = strlen(text);
        out = realloc(out, len + n + 6);
        cr_assert_not_null(out);
        memcpy(out + len, "\n---\n", 5);
        memcpy(out + len + 5, text, n + 1);
        len += n + 5;
        free(text);
    }
    return out;
}

/* The answer to aq written from v; the text is returned (free it). */
static char *
written_say(const struct np_snapshot *snap, const struct api_query *aq,
            const struct np_verdict *v, struct np_say_ctx *say)
{
    struct api_jw w;
    size_t len;
    char *text;

    api_jw_init(&w);
    api_verdict_write(&w, snap, aq, v, say);
    text = api_jw_finish(&w, &len);
    cr_assert_not_null(text);
    cr_assert_eq(strlen(text), len);
    return text;
}

static char *
written(const struct np_snapshot *snap, const struct api_query *aq,
        const struct np_verdict *v)
{
    return written_say(snap, aq, v, NULL);
}

static void
expect_items(const json_t *items, const struct np_match_result *m, uint32_t n,
             const char *stem)
{
    char path[128];
    uint32_t i;

    cr_assert(json_is_array(items));
    cr_assert_eq(json_array_size(items), n);
    for (i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);

        snprintf(path, sizeof(path), "%s[%u]", stem, i);
        cr_assert_eq(json_object_size(it), 4);
        cr_assert_eq(json_integer_value(json_object_get(it, "index")), i);
        cr_assert_str_eq(json_string_value(json_object_get(it, "path")), path);
        cr_assert_eq(json_is_true(json_object_get(it, "matched")),
                     m[i].matched);
        cr_assert_str_eq(json_string_value(json_object_get(it, "reason")),
                         m[i].reason);
    }
}

/* The trace of a side as written holds what np_eval_trace() found. */
static void
expect_trace(const json_t *side, const struct np_side *v)
{
    const json_t *trace = json_object_get(side, "trace");
    const char *dir = np_dir_name(v->dir);
    const char *peers = v->dir == NP_DIR_INGRESS ? "from" : "to";
    char stem[96];
    uint32_t i, j;

    cr_assert(json_is_array(trace));
    cr_assert_eq(json_array_size(trace), v->npolicies);
    for (i = 0; i < v->npolicies; i++) {
        const struct np_policy_result *p = &v->policies[i];
        const json_t *pj = json_array_get(trace, i);
        const json_t *rules = json_object_get(pj, "rules");

        cr_assert_eq(json_is_true(json_object_get(pj, "allowed")), p->allowed);
        cr_assert_str_eq(json_string_value(json_object_get(pj, "reason")),
                         p->reason);
        cr_assert_eq(json_array_size(rules), p->nrules);
        for (j = 0; j < p->nrules; j++) {
            const struct np_rule_result *r = &p->rules[j];
            const json_t *rj = json_array_get(rules, j);

            snprintf(stem, sizeof(stem), "spec.%s[%u]", dir, r->index);
            cr_assert_eq(json_object_size(rj), 8);
            cr_assert_eq(json_integer_value(json_object_get(rj, "index")),
                         r->index);
            cr_assert_str_eq(json_string_value(json_object_get(rj, "path")),
                             stem);
            cr_assert_eq(json_is_true(json_object_get(rj, "matched")),
                         r->matched);
            cr_assert_eq(json_is_true(json_object_get(rj, "peerMatched")),
                         r->peer_ok);
            cr_assert_eq(json_is_true(json_object_get(rj, "portMatched")),
                         r->port_ok);
            cr_assert_str_eq(json_string_value(json_object_get(rj, "reason")),
                             r->reason);
            snprintf(stem, sizeof(stem), "spec.%s[%u].%s", dir, r->index,
                     peers);
            expect_items(json_object_get(rj, "peers"), r->peers, r->npeers,
                         stem);
            snprintf(stem, sizeof(stem), "spec.%s[%u].ports", dir, r->index);
            expect_items(json_object_get(rj, "ports"), r->ports, r->nports,
                         stem);
        }
    }
}

/* Both ways of writing the answer to aq give the same bytes: compact JSON
 * as jansson writes it, whose trace holds what np_eval_trace() found. */
static void
expect_same_answer(const struct api_ctx *ctx, const struct np_snapshot *snap,
                   const struct api_query *aq)
{
    struct np_verdict eager, lazy, shared;
    struct np_say_ctx say;
    struct np_arena a;
    struct np_error err;
    json_error_t jerr;
    char *e, *l, *again;
    json_t *doc;

    np_arena_init(&a);
    np_error_init(&err);
    cr_assert_eq(np_eval_trace(snap, &ctx->opts, &aq->q, &a, &eager, &err), 0,
                 "%s", err.message);
    cr_assert_eq(np_eval_trace_lazy(snap, &ctx->opts, &aq->q, &a, &lazy, &err),
                 0, "%s", err.message);
    e = written(snap, aq, &eager);
    l = written(snap, aq, &lazy);
    cr_assert_str_eq(l, e);
    /* As POST /reachability writes it: the texts the evaluation made are
     * used again by the writer. */
    np_say_init(&say, snap, &aq->q);
    cr_assert_eq(
        np_eval_trace_say(snap, &ctx->opts, &aq->q, &a, &say, &shared, &err), 0,
        "%s", err.message);
    again = written_say(snap, aq, &shared, &say);
    cr_assert_str_eq(again, e);
    free(again);
    /* The snapshot's texts need no escapes, so the writer copies them as
     * they are; checking every text for escapes writes the same bytes. */
    cr_assert(snap->texts_plain);
    ((struct np_snapshot *)snap)->texts_plain = false;
    again = written(snap, aq, &lazy);
    ((struct np_snapshot *)snap)->texts_plain = true;
    cr_assert_str_eq(again, l);
    free(again);
    doc = json_loads(l, 0, &jerr);
    cr_assert_not_null(doc, "%s: %s", jerr.text, l);
    again = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    cr_assert_not_null(again);
    cr_assert_str_eq(l, again);
    free(again);
    expect_trace(json_object_get(doc, "egress"), &eager.egress);
    expect_trace(json_object_get(doc, "ingress"), &eager.ingress);
    json_decref(doc);
    free(e);
    free(l);
    np_arena_free_all(&a);
}

static void
endpoint_of(const struct np_pod *pod, int by_ip, struct np_endpoint *ep)
{
    memset(ep, 0, sizeof(*ep));
    ep->pod = pod;
    if (by_ip && pod->nips > 0) {
        ep->has_ip = true;
        ep->ip = pod->ips[0];
    }
}

/* Every pair of pods (by name and by address) and outside addresses, on a
 * few numbers of every protocol and on the destination's named ports.
 * Returns the number of answers compared. */
static unsigned
compare_cluster(const char *const *files)
{
    static const char *const outside[] = { "192.0.2.7", "2001:db8::7" };
    static const unsigned numbers[] = { 53, 80, 443, 5432, 8080 };
    struct np_endpoint *eps;
    struct api_ctx ctx;
    struct np_snapshot *snap;
    unsigned n = 0;
    size_t neps = 0, i, j, k, p;
    char *yaml = stream_of(files);

    tdisp_ctx_init(&ctx);
    tdisp_put_state(&ctx, yaml);
    free(yaml);
    snap = np_state_acquire(&ctx.state);
    cr_assert_gt(snap->npods + snap->nworkloads, 0);
    eps = calloc(2 * snap->npods + snap->nworkloads + 2, sizeof(*eps));
    cr_assert_not_null(eps);
    for (i = 0; i < snap->npods; i++) {
        endpoint_of(&snap->pods[i], 0, &eps[neps++]);
        if (snap->pods[i].nips > 0)
            endpoint_of(&snap->pods[i], 1, &eps[neps++]);
    }
    /* Workloads as the template pods that stand for their pods. */
    for (i = 0; i < snap->nworkloads; i++)
        endpoint_of(&snap->workloads[i], 0, &eps[neps++]);
    for (i = 0; i < 2; i++) {
        struct np_ip ip;
        struct np_error err;

        np_error_init(&err);
        cr_assert_eq(np_ip_parse(outside[i], &ip, &err), 0);
        np_endpoint_from_ip(snap, &ip, &eps[neps++]);
    }
    for (i = 0; i < neps; i++) {
        for (j = 0; j < neps; j++) {
            struct api_query aq;

            memset(&aq, 0, sizeof(aq));
            aq.q.from = eps[i];
            aq.q.to = eps[j];
            for (k = 0; k < sizeof(numbers) / sizeof(numbers[0]); k++) {
                for (p = 0; p < 3; p++) {
                    aq.q.port = (uint16_t)numbers[k];
                    aq.q.proto = p == 0   ? NP_PROTO_TCP
                                 : p == 1 ? NP_PROTO_UDP
                                          : NP_PROTO_SCTP;
                    expect_same_answer(&ctx, snap, &aq);
                    n++;
                }
            }
            for (k = 0; eps[j].pod != NULL && k < eps[j].pod->nports; k++) {
                const struct np_container_port *cp = &eps[j].pod->ports[k];

                if (cp->name == NP_SYM_NONE)
                    continue;
                snprintf(aq.port_name, sizeof(aq.port_name), "%s",
                         np_snapshot_str(snap, cp->name));
                aq.q.port = cp->port;
                aq.q.proto = (enum np_proto)cp->proto;
                expect_same_answer(&ctx, snap, &aq);
                aq.port_name[0] = '\0';
                n++;
            }
        }
    }
    free(eps);
    np_snapshot_release(snap);
    api_ctx_fini(&ctx);
    return n;
}

/* The clusters: files of the source tree (at most 5; the rest empty), and
 * how many answers each gives at least. Arrays, not pointers: Criterion
 * copies parameters into the process that runs the test. */
struct cluster_case {
    char what[48];
    char files[5][128];
    unsigned min_answers;
};

ParameterizedTestParameters(trace_text, answers_written_both_ways)
{
    static struct cluster_case cases[] = {
        { "ipBlocks with except",
          { "tests/data/conformance/e2e-egress-cidr-except-clause/"
            "manifests.yaml" },
          1000 },
        { "named ports",
          { "tests/data/conformance/e2e-ingress-on-one-named-port/"
            "manifests.yaml" },
          1000 },
        { "namespaceSelector and podSelector",
          { "tests/data/conformance/e2e-podselector-and-nsselector/"
            "manifests.yaml" },
          1000 },
        { "egress and ingress both isolated",
          { "tests/data/conformance/e2e-deny-egress-client-side-even-if-"
            "server-allows/manifests.yaml" },
          1000 },
        { "the walkthrough",
          { "examples/walkthrough/01-cluster.yaml",
            "examples/walkthrough/02-default-deny-ingress.yaml",
            "examples/walkthrough/03-allow-client-ingress.yaml",
            "examples/walkthrough/04-default-deny-egress.yaml",
            "examples/walkthrough/05-allow-egress-to-server.yaml" },
          100 },
        { "workloads",
          { "tests/data/workloads/acs_security_frontend_demos/"
            "asset_cache_deployment.yaml",
            "tests/data/workloads/acs_security_frontend_demos/"
            "frontend_netpols.yaml",
            "tests/data/workloads/acs_security_frontend_demos/"
            "webapp_deployment.yaml" },
          10 },
    };

    return cr_make_param_array(struct cluster_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cluster_case *c, trace_text, answers_written_both_ways)
{
    const char *files[6] = { NULL };
    int i, n = 0;

    for (i = 0; i < 5; i++)
        if (c->files[i][0] != '\0')
            files[n++] = c->files[i];
    cr_expect_gt(compare_cluster(files), c->min_answers, "%s", c->what);
}

/* --- the string writer --- */

/* s written by api_jw_string(), and through the lent text. */
static void
expect_written_as_jansson(const char *s, size_t n)
{
    struct api_jw w;
    struct np_text *t;
    json_t *str = json_stringn(s, n);
    char *want, *got, *lent;
    size_t len, start;

    cr_assert_not_null(str);
    want = json_dumps(str, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert_not_null(want);
    api_jw_init(&w);
    api_jw_array(&w);
    api_jw_string(&w, s);
    api_jw_end_array(&w);
    got = api_jw_finish(&w, &len);
    cr_assert_not_null(got);
    api_jw_init(&w);
    api_jw_array(&w);
    t = api_jw_text_begin(&w, &start);
    np_text_put(t, s, n);
    api_jw_text_end(&w, start);
    api_jw_end_array(&w);
    lent = api_jw_finish(&w, &len);
    cr_assert_not_null(lent);
    /* [ + want + ] */
    cr_assert_eq(strlen(got), strlen(want) + 2);
    cr_assert(strncmp(got + 1, want, strlen(want)) == 0, "%s vs %s", got, want);
    cr_assert_str_eq(lent, got);
    free(want);
    free(got);
    free(lent);
    json_decref(str);
}

Test(trace_text, strings_are_escaped_as_jansson_escapes_them)
{
    static const char special[] = { '"',  '\\', '\n', '\t', '\r',
                                    '\b', '\f', 0x01, 0x1f, 0x7f };
    /* Valid UTF-8 of two, three and four bytes. */
    static const char *const utf8[] = { "\xc3\xa9", "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80" };
    char buf[80];
    size_t len, pos, i;

    /* Every special byte at every place of strings of every length up to
     * 40: the 16-byte, 8-byte and byte-by-byte scans each see it. */
    for (len = 1; len <= 40; len++) {
        for (pos = 0; pos < len; pos++) {
            for (i = 0; i < sizeof(special); i++) {
                memset(buf, 'a', len);
                buf[len] = '\0';
                buf[pos] = special[i];
                expect_written_as_jansson(buf, len);
            }
            for (i = 0; i < 3; i++) {
                size_t k = strlen(utf8[i]);

                if (pos + k > len)
                    continue;
                memset(buf, 'b', len);
                buf[len] = '\0';
                memcpy(buf + pos, utf8[i], k);
                expect_written_as_jansson(buf, len);
            }
        }
        memset(buf, 'c', len);
        buf[len] = '\0';
        expect_written_as_jansson(buf, len);
    }
}

Test(trace_text, lent_text_with_bytes_that_are_not_utf8)
{
    struct api_jw w;
    struct np_text *t;
    size_t len, start;
    char *got;

    api_jw_init(&w);
    api_jw_object(&w);
    API_JW_KEY(&w, "reason");
    t = api_jw_text_begin(&w, &start);
    np_text_puts(t, "pod \xff\"x\" in 16 bytes or more");
    api_jw_text_end(&w, start);
    api_jw_end_object(&w);
    got = api_jw_finish(&w, &len);
    cr_assert_not_null(got);
    cr_assert_str_eq(got, "{\"reason\":\"pod \xef\xbf\xbd\\\"x\\\" in 16 bytes "
                          "or more\"}");
    free(got);
}
