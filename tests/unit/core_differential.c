/*
 * Differential tests: random clusters, every pair of endpoints, several
 * ports and protocols, and four ways to the verdict that must agree:
 *
 *   np_eval_allowed()             the fast path
 *   np_eval_trace()               the traced path's verdict
 *   np_matrix_compute()           all pod pairs at once, with bitsets
 *   POST /reachability/batch      api_dispatch() in-process, trace false
 *                                 for every query and true for the ones
 *                                 that name endpoints by address
 *
 * against the reference evaluator of tests/support/refeval.c, which reads
 * the same model objects with plain strings.
 *
 * The clusters cover what NetworkPolicy has: declared and implicit
 * namespaces with labels, pods with labels, IPv4/IPv6/dual-stack or no
 * addresses, named container ports of every protocol, hostNetwork pods with
 * and without a hostIP, finished pods; policies with policyTypes given or
 * defaulted, ingress/egress missing, empty or with rules, peers of every
 * kind (podSelector, namespaceSelector, both, ipBlock with except, IPv4 and
 * IPv6, host bits), matchLabels and every matchExpressions operator, ports
 * by number, range (endPort) and name, TCP/UDP/SCTP or none. Endpoints are
 * pods by name, pods by one of their addresses, and outside addresses;
 * every cluster is checked with ipBlocks matching pods and without.
 *
 * Every traced query is also evaluated lazily (np_eval_trace_lazy()), and
 * each sentence np_say_*() writes must be the one np_eval_trace() gave.
 *
 * Seeds are fixed, so CI runs the same clusters each time. More:
 *   NETPOLQ_DIFF_SEEDS=N   run N seeds (NETPOLQ_DIFF_ITER is the same)
 *   NETPOLQ_DIFF_FIRST=S   start at seed S (default 1)
 *   NETPOLQ_DIFF_SEED=S    run seed S only, e.g. to replay a failure
 * A disagreement prints the seed, the cluster, the pair and every path's
 * verdict with the trace, then fails.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "core/arena.h"
#include "core/builder.h"
#include "core/eval.h"
#include "core/matrix.h"
#include "core/model.h"
#include "core/net.h"
#include "core/snapshot.h"
#include "tests/support/refeval.h"

/* Seeds per run by default: about 20 s on two cores, in the optimised
 * build and, with fewer seeds, under AddressSanitizer, which is four to
 * five times slower here. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SEEDS 700
#else
#define DEFAULT_SEEDS 3000
#endif
#define SHARDS 4

/* --- a small deterministic generator (splitmix64) --- */

struct rng {
    uint64_t s;
};

static uint64_t
rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n). */
static unsigned
pick(struct rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* True with the given percentage. */
static bool
chance(struct rng *r, unsigned percent)
{
    return pick(r, 100) < percent;
}

#define PICK(r, arr) ((arr)[pick((r), sizeof(arr) / sizeof((arr)[0]))])

/* --- the vocabulary clusters are made of --- */

static const char *const ns_names[] = { "default", "prod", "dev", "kube-sys",
                                        "team-x" };
static const char *const ns_keys[] = { "team", "env", "tier" };
static const char *const pod_keys[] = { "app", "tier", "role" };
static const char *const values[] = { "a", "b", "web", "" };
static const char *const port_names[] = { "http", "dns", "metrics", "grpc" };
static const char *const protocols[] = { "TCP", "UDP", "SCTP" };
static const int64_t port_numbers[] = { 53, 80, 443, 8080, 9000 };
static const char *const node_ips[] = { "192.168.0.1", "192.168.0.2",
                                        "fd01::1" };
static const char *const outside_ips[] = {
    "10.0.0.200",   "10.9.9.9", "172.16.5.4",  "8.8.8.8", "192.168.0.1",
    "192.168.1.77", "fd00::ff", "2001:db8::1", "fd01::1", "::1",
};

/* Ports and protocols every pair is asked about. */
struct probe {
    unsigned port;
    enum np_proto proto;
};

static const struct probe probes[] = {
    { .port = 80, .proto = NP_PROTO_TCP },
    { .port = 53, .proto = NP_PROTO_UDP },
    { .port = 53, .proto = NP_PROTO_TCP },
    { .port = 8080, .proto = NP_PROTO_TCP },
    { .port = 9000, .proto = NP_PROTO_SCTP },
    { .port = 443, .proto = NP_PROTO_TCP },
    { .port = 8050, .proto = NP_PROTO_TCP },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* --- generated clusters --- */

struct gen {
    struct rng r;
    struct np_arena *a;
    /* Namespaces in use (declared or not) and the declared ones. */
    size_t nused;
    const char *used[5];
    struct ref_cluster c;
    unsigned next_ip; /* pod network addresses are unique */
};

static void *
galloc(struct gen *g, size_t n, size_t size)
{
    void *p = np_arena_calloc(g->a, n + 1, size);

    cr_assert_not_null(p, "out of memory");
    return p;
}

/* Labels: a random subset of keys, each with a random value. */
static const struct np_model_label *
gen_labels(struct gen *g, const char *const *keys, size_t nkeys, size_t *n)
{
    struct np_model_label *ls = galloc(g, nkeys, sizeof(*ls));
    size_t i;

    *n = 0;
    for (i = 0; i < nkeys; i++) {
        if (!chance(&g->r, 55))
            continue;
        ls[*n].key = keys[i];
        ls[*n].value = PICK(&g->r, values);
        (*n)++;
    }
    return ls;
}

/* A label selector over keys; for namespaces, also the name label. */
static struct np_model_selector
gen_selector(struct gen *g, const char *const *keys, size_t nkeys,
             bool for_namespaces)
{
    static const char *const ops[] = { "In", "NotIn", "Exists",
                                       "DoesNotExist" };
    struct np_model_selector s;
    struct np_model_label *ls;
    struct np_model_expr *es;
    size_t i, j, off;

    memset(&s, 0, sizeof(s));
    if (chance(&g->r, 25))
        return s; /* {} */
    ls = galloc(g, 2, sizeof(*ls));
    es = galloc(g, 2, sizeof(*es));
    s.labels = ls;
    s.exprs = es;
    s.nlabels = pick(&g->r, 3);
    s.nexprs = pick(&g->r, 3);
    if (s.nlabels + s.nexprs == 0)
        s.nlabels = 1;
    /* matchLabels is a map: its keys are distinct. */
    off = pick(&g->r, (unsigned)nkeys);
    for (i = 0; i < s.nlabels; i++) {
        if (for_namespaces && i == 0 && chance(&g->r, 25)) {
            ls[i].key = "kubernetes.io/metadata.name";
            ls[i].value = g->used[pick(&g->r, (unsigned)g->nused)];
        } else {
            ls[i].key = keys[(off + i) % nkeys];
            ls[i].value = PICK(&g->r, values);
        }
    }
    for (i = 0; i < s.nexprs; i++) {
        const char **vs;
        bool name_key = for_namespaces && chance(&g->r, 25);

        es[i].key = name_key ? "kubernetes.io/metadata.name"
                             : keys[pick(&g->r, (unsigned)nkeys)];
        es[i].op = PICK(&g->r, ops);
        if (strcmp(es[i].op, "In") != 0 && strcmp(es[i].op, "NotIn") != 0)
            continue;
        es[i].nvalues = 1 + pick(&g->r, 2);
        vs = galloc(g, es[i].nvalues, sizeof(*vs));
        for (j = 0; j < es[i].nvalues; j++)
            vs[j] = name_key ? g->used[pick(&g->r, (unsigned)g->nused)]
                             : PICK(&g->r, values);
        es[i].values = vs;
    }
    return s;
}

static const struct np_model_selector *
gen_selector_ptr(struct gen *g, const char *const *keys, size_t nkeys,
                 bool for_namespaces)
{
    struct np_model_selector *s = galloc(g, 1, sizeof(*s));

    *s = gen_selector(g, keys, nkeys, for_namespaces);
    return s;
}

/* A unique address on the pod network. */
static const char *
pod_ip(struct gen *g, bool v6)
{
    unsigned n = ++g->next_ip;

    if (v6)
        return np_arena_printf(g->a, "fd00::%x", n);
    return np_arena_printf(g->a, "10.0.%u.%u", n / 200, n % 200 + 1);
}

static void
gen_pod(struct gen *g, struct np_model_pod *p, unsigned index)
{
    static const char *const phases[] = { "Running", "Pending", "Succeeded",
                                          "Failed" };
    struct np_model_container_port *cps;
    const char **ips;
    size_t i, j;

    p->namespace_ = g->used[pick(&g->r, (unsigned)g->nused)];
    if (strcmp(p->namespace_, "default") == 0 && chance(&g->r, 50))
        p->namespace_ = NULL;
    p->name = np_arena_printf(g->a, "p%u", index);
    p->labels = gen_labels(g, pod_keys, 3, &p->nlabels);
    p->host_network = chance(&g->r, 12);
    ips = galloc(g, 2, sizeof(*ips));
    if (p->host_network) {
        if (chance(&g->r, 60))
            p->host_ip = PICK(&g->r, node_ips);
        p->nips = pick(&g->r, 3);
        for (i = 0; i < p->nips; i++)
            ips[i] = PICK(&g->r, node_ips);
    } else {
        unsigned k = pick(&g->r, 100);

        if (k < 5) {
            p->nips = 0;
        } else if (k < 60) {
            p->nips = 1;
            ips[0] = pod_ip(g, false);
        } else if (k < 75) {
            p->nips = 1;
            ips[0] = pod_ip(g, true);
        } else {
            bool v6_first = chance(&g->r, 30);

            p->nips = 2;
            ips[0] = pod_ip(g, v6_first);
            ips[1] = pod_ip(g, !v6_first);
        }
    }
    p->ips = ips;
    if (chance(&g->r, 40))
        p->phase = PICK(&g->r, phases);
    /* Container ports: names unique within the pod, as Kubernetes
     * requires. */
    p->nports = pick(&g->r, 4);
    cps = galloc(g, p->nports, sizeof(*cps));
    for (i = 0; i < p->nports; i++) {
        cps[i].port = PICK(&g->r, port_numbers);
        if (chance(&g->r, 60))
            cps[i].protocol = PICK(&g->r, protocols);
        if (chance(&g->r, 70)) {
            const char *name = PICK(&g->r, port_names);
            bool dup = false;

            for (j = 0; j < i; j++)
                dup = dup ||
                      (cps[j].name != NULL && strcmp(cps[j].name, name) == 0);
            if (!dup)
                cps[i].name = name;
        }
    }
    p->ports = cps;
}

/* Formats the network of family/bytes with prefix, optionally leaving host
 * bits set. */
static const char *
format_cidr(struct gen *g, int family, const uint8_t *bytes, unsigned prefix,
            bool keep_host_bits)
{
    uint8_t b[16];
    char text[INET6_ADDRSTRLEN];
    unsigned bits = family == AF_INET ? 32 : 128, i;

    memcpy(b, bytes, 16);
    for (i = keep_host_bits ? bits : prefix; i < bits; i++)
        b[i / 8] &= (uint8_t) ~(1u << (7 - i % 8));
    cr_assert_not_null(inet_ntop(family, b, text, sizeof(text)));
    return np_arena_printf(g->a, "%s/%u", text, prefix);
}

/* An address some endpoint has, so that blocks and excepts hit things. */
static const char *
some_address(struct gen *g)
{
    size_t i, n = 0;

    for (i = 0; i < g->c.npods; i++)
        n += g->c.pods[i].nips;
    if (n > 0 && chance(&g->r, 70)) {
        size_t k = pick(&g->r, (unsigned)n);

        for (i = 0; i < g->c.npods; i++) {
            if (k < g->c.pods[i].nips)
                return g->c.pods[i].ips[k];
            k -= g->c.pods[i].nips;
        }
    }
    return chance(&g->r, 50) ? PICK(&g->r, node_ips) : PICK(&g->r, outside_ips);
}

static const struct np_model_ipblock *
gen_ipblock(struct gen *g)
{
    struct np_model_ipblock *ib = galloc(g, 1, sizeof(*ib));
    const char *anchor = some_address(g);
    const char **ex;
    uint8_t b[16] = { 0 };
    int family = strchr(anchor, ':') != NULL ? AF_INET6 : AF_INET;
    unsigned bits = family == AF_INET ? 32 : 128;
    unsigned prefix;
    size_t i;

    cr_assert_eq(inet_pton(family, anchor, b), 1, "%s", anchor);
    /* Short prefixes hold many endpoints; /0 is "everything". */
    switch (pick(&g->r, 5)) {
    case 0:
        prefix = 0;
        break;
    case 1:
        prefix = 8;
        break;
    case 2:
        prefix = family == AF_INET ? 16 : 64;
        break;
    case 3:
        prefix = family == AF_INET ? 24 : 120;
        break;
    default:
        prefix = bits;
        break;
    }
    ib->cidr = format_cidr(g, family, b, prefix, chance(&g->r, 10));
    ib->nexcept = prefix < bits ? pick(&g->r, 3) : 0;
    ex = galloc(g, ib->nexcept, sizeof(*ex));
    for (i = 0; i < ib->nexcept; i++) {
        /* A strict subset: a longer prefix around an address inside. */
        const char *inner = some_address(g);
        uint8_t ib_bytes[16] = { 0 };
        unsigned p2 = prefix + 1 + pick(&g->r, bits - prefix);

        if ((strchr(inner, ':') != NULL) != (family == AF_INET6) ||
            inet_pton(family, inner, ib_bytes) != 1)
            memcpy(ib_bytes, b, sizeof(b));
        /* Keep the block's own prefix bits so the except lies inside. */
        {
            unsigned k;

            for (k = 0; k < prefix; k++) {
                uint8_t m = (uint8_t)(1u << (7 - k % 8));

                ib_bytes[k / 8] =
                    (uint8_t)((ib_bytes[k / 8] & ~m) | (b[k / 8] & m));
            }
        }
        ex[i] = format_cidr(g, family, ib_bytes, p2, false);
    }
    ib->except = ex;
    return ib;
}

static void
gen_peer(struct gen *g, struct np_model_peer *p)
{
    switch (pick(&g->r, 4)) {
    case 0:
        p->pod_selector = gen_selector_ptr(g, pod_keys, 3, false);
        break;
    case 1:
        p->namespace_selector = gen_selector_ptr(g, ns_keys, 3, true);
        break;
    case 2:
        p->pod_selector = gen_selector_ptr(g, pod_keys, 3, false);
        p->namespace_selector = gen_selector_ptr(g, ns_keys, 3, true);
        break;
    default:
        p->ipblock = gen_ipblock(g);
        break;
    }
}

static void
gen_port(struct gen *g, struct np_model_policy_port *pp)
{
    if (chance(&g->r, 60))
        pp->protocol = PICK(&g->r, protocols);
    switch (pick(&g->r, 7)) {
    case 0:
        break; /* every port of the protocol */
    case 1:
    case 2:
    case 3:
        pp->has_port = true;
        pp->port = PICK(&g->r, port_numbers);
        break;
    case 4:
        pp->has_port = true;
        pp->port = PICK(&g->r, port_numbers);
        pp->has_end_port = true;
        pp->end_port = pp->port + pick(&g->r, 2) * pick(&g->r, 200);
        break;
    default:
        pp->has_port = true;
        pp->port_name = PICK(&g->r, port_names);
        break;
    }
}

static const struct np_model_rule *
gen_rules(struct gen *g, size_t n)
{
    struct np_model_rule *rs = galloc(g, n, sizeof(*rs));
    size_t i, j;

    for (i = 0; i < n; i++) {
        struct np_model_peer *peers;
        struct np_model_policy_port *ports;

        rs[i].npeers = chance(&g->r, 30) ? 0 : 1 + pick(&g->r, 3);
        peers = galloc(g, rs[i].npeers, sizeof(*peers));
        for (j = 0; j < rs[i].npeers; j++)
            gen_peer(g, &peers[j]);
        rs[i].peers = peers;
        rs[i].nports = chance(&g->r, 40) ? 0 : 1 + pick(&g->r, 3);
        ports = galloc(g, rs[i].nports, sizeof(*ports));
        for (j = 0; j < rs[i].nports; j++)
            gen_port(g, &ports[j]);
        rs[i].ports = ports;
    }
    return rs;
}

/* spec.ingress or spec.egress: missing, [] or one to three rules. */
static void
gen_direction(struct gen *g, bool *present, size_t *n,
              const struct np_model_rule **rules)
{
    unsigned k = pick(&g->r, 100);

    *present = k >= 25;
    *n = k < 40 ? 0 : 1 + pick(&g->r, 3);
    *rules = gen_rules(g, *n);
}

static void
gen_policy(struct gen *g, struct np_model_policy *p, unsigned index)
{
    static const char *const ingress[] = { "Ingress" };
    static const char *const egress[] = { "Egress" };
    static const char *const both[] = { "Ingress", "Egress" };
    static const char *const both_reversed[] = { "Egress", "Ingress" };

    p->namespace_ = g->used[pick(&g->r, (unsigned)g->nused)];
    if (strcmp(p->namespace_, "default") == 0 && chance(&g->r, 50))
        p->namespace_ = NULL;
    p->name = np_arena_printf(g->a, "np%u", index);
    p->pod_selector = gen_selector(g, pod_keys, 3, false);
    switch (pick(&g->r, 8)) {
    case 0:
        p->ntypes = 1;
        p->types = ingress;
        break;
    case 1:
        p->ntypes = 1;
        p->types = egress;
        break;
    case 2:
        p->ntypes = 2;
        p->types = both;
        break;
    case 3:
        p->ntypes = 2;
        p->types = both_reversed;
        break;
    default:
        break; /* defaulted */
    }
    gen_direction(g, &p->ingress_present, &p->ningress, &p->ingress);
    gen_direction(g, &p->egress_present, &p->negress, &p->egress);
}

static void
gen_cluster(struct gen *g, uint64_t seed, struct np_arena *a)
{
    struct np_model_namespace *nss;
    struct np_model_pod *pods;
    struct np_model_policy *pols;
    size_t i, n;

    memset(g, 0, sizeof(*g));
    g->r.s = seed;
    g->a = a;
    /* Two to four namespaces from the pool, in random order. */
    n = 2 + pick(&g->r, 3);
    while (g->nused < n) {
        const char *name = PICK(&g->r, ns_names);
        bool seen = false;

        for (i = 0; i < g->nused; i++)
            seen = seen || strcmp(g->used[i], name) == 0;
        if (!seen)
            g->used[g->nused++] = name;
    }
    /* Each is declared (with labels) or only referred to. */
    nss = galloc(g, g->nused, sizeof(*nss));
    for (i = 0; i < g->nused; i++) {
        if (!chance(&g->r, 75))
            continue;
        nss[g->c.nnamespaces].name = g->used[i];
        nss[g->c.nnamespaces].labels =
            gen_labels(g, ns_keys, 3, &nss[g->c.nnamespaces].nlabels);
        g->c.nnamespaces++;
    }
    g->c.namespaces = nss;
    g->c.npods = 2 + pick(&g->r, 10);
    pods = galloc(g, g->c.npods, sizeof(*pods));
    g->c.pods = pods;
    for (i = 0; i < g->c.npods; i++)
        gen_pod(g, &pods[i], (unsigned)i);
    g->c.npolicies = pick(&g->r, 7);
    pols = galloc(g, g->c.npolicies, sizeof(*pols));
    g->c.policies = pols;
    for (i = 0; i < g->c.npolicies; i++)
        gen_policy(g, &pols[i], (unsigned)i);
}

/* --- the paths under test --- */

struct run {
    uint64_t seed;
    struct gen g;
    struct np_snapshot *snap;
    struct api_ctx ctx;
    const struct np_pod **pod_of; /* model index -> snapshot pod */
    uint32_t *ids;                /* model index -> pod id */
};

static void
dump_and_fail(struct run *run, const char *pair, const char *verdicts)
{
    fprintf(stderr,
            "differential: seed %" PRIu64 " disagrees on %s\n  %s\n"
            "replay with NETPOLQ_DIFF_SEED=%" PRIu64 "\ncluster:\n",
            run->seed, pair, verdicts, run->seed);
    ref_cluster_dump(&run->g.c, stderr);
    cr_assert_fail("seed %" PRIu64 ": %s: %s", run->seed, pair, verdicts);
}

static const char *
model_ns(const struct np_model_pod *p)
{
    return p->namespace_ != NULL ? p->namespace_ : "default";
}

/* An endpoint for the query, the reference and the batch at once. */
struct endpoint {
    struct np_endpoint ep;
    struct ref_endpoint ref;
    char text[96]; /* "ns/name" or the address */
};

static void
pod_endpoint(struct run *run, size_t i, struct endpoint *e)
{
    const struct np_model_pod *m = &run->g.c.pods[i];

    memset(e, 0, sizeof(*e));
    e->ep.pod = run->pod_of[i];
    e->ref.pod = (long)i;
    snprintf(e->text, sizeof(e->text), "%s/%s", model_ns(m), m->name);
}

static void
ip_endpoint(struct run *run, const char *ip, struct endpoint *e)
{
    struct np_ip addr;
    struct np_error err;

    memset(e, 0, sizeof(*e));
    np_error_init(&err);
    cr_assert_eq(np_ip_parse(ip, &addr, &err), 0, "%s: %s", ip, err.message);
    np_endpoint_from_ip(run->snap, &addr, &e->ep);
    e->ref.pod = -1;
    e->ref.ip = ip;
    snprintf(e->text, sizeof(e->text), "%s", ip);
}

static json_t *
endpoint_json(const struct endpoint *e, const struct ref_cluster *c)
{
    const struct np_model_pod *m;

    if (e->ref.ip != NULL)
        return json_pack("{s:s}", "ip", e->ref.ip);
    m = &c->pods[e->ref.pod];
    return json_pack("{s:s,s:s}", "namespace", model_ns(m), "pod", m->name);
}

/* np_eval_trace_lazy() with np_say_*() must say, sentence for sentence,
 * what np_eval_trace() says (an answer is written the lazy way). */
static void
expect_lazy_says_the_same(const struct np_snapshot *snap,
                          const struct np_eval_opts *opts,
                          const struct np_query *q, const struct np_verdict *v)
{
    const struct np_side *eager[2] = { &v->egress, &v->ingress };
    struct np_verdict lv;
    struct np_say_ctx c;
    struct np_text t = { 0 };
    struct np_arena a;
    struct np_error err;
    uint32_t s, i, j, k;

    np_arena_init(&a);
    np_error_init(&err);
    cr_assert_eq(np_eval_trace_lazy(snap, opts, q, &a, &lv, &err), 0, "%s",
                 err.message);
    np_say_init(&c, snap, q);
    cr_assert_eq(lv.allowed, v->allowed);
    for (s = 0; s < 2; s++) {
        const struct np_side *e = eager[s];
        const struct np_side *l = s == 0 ? &lv.egress : &lv.ingress;

        cr_assert_eq(l->allowed, e->allowed);
        cr_assert_eq(l->why, e->why);
        cr_assert_str_eq(l->reason, e->reason);
        cr_assert_eq(l->npolicies, e->npolicies);
        for (i = 0; i < e->npolicies; i++) {
            const struct np_policy_result *ep = &e->policies[i];
            const struct np_policy_result *lp = &l->policies[i];

            cr_assert_null(lp->reason);
            t.len = 0;
            np_say_policy(&c, lp, &t);
            np_text_put(&t, "", 1);
            cr_assert_str_eq(t.p, ep->reason);
            for (j = 0; j < ep->nrules; j++) {
                const struct np_rule_result *er = &ep->rules[j];
                const struct np_rule_result *lr = &lp->rules[j];

                t.len = 0;
                np_say_rule(&c, lr, &t);
                np_text_put(&t, "", 1);
                cr_assert_str_eq(t.p, er->reason);
                for (k = 0; k < er->npeers + er->nports; k++) {
                    const struct np_match_result *em =
                        k < er->npeers ? &er->peers[k]
                                       : &er->ports[k - er->npeers];
                    const struct np_match_result *lm =
                        k < er->npeers ? &lr->peers[k]
                                       : &lr->ports[k - er->npeers];

                    cr_assert_eq(lm->matched, em->matched);
                    t.len = 0;
                    np_say_match(&c, lm, &t);
                    np_text_put(&t, "", 1);
                    cr_assert_str_eq(t.p, em->reason);
                }
            }
        }
    }
    cr_assert(!t.fail);
    np_text_fini(&t);
    np_arena_free_all(&a);
}

/* The verdicts of the in-process paths for one query; the batch is
 * compared later. */
static bool
check_query(struct run *run, const struct np_eval_opts *opts,
            const struct endpoint *from, const struct endpoint *to,
            const struct probe *pr, int matrix)
{
    struct np_query q;
    struct np_verdict v;
    struct np_arena a;
    struct np_error err;
    bool fast, ref;
    char pair[256], verdicts[1400];

    memset(&q, 0, sizeof(q));
    q.from = from->ep;
    q.to = to->ep;
    q.port = (uint16_t)pr->port;
    q.proto = pr->proto;
    fast = np_eval_allowed(run->snap, opts, &q);
    ref = ref_allowed(&run->g.c, &from->ref, &to->ref, pr->port,
                      np_proto_name(pr->proto));
    np_arena_init(&a);
    np_error_init(&err);
    cr_assert_eq(np_eval_trace(run->snap, opts, &q, &a, &v, &err), 0, "%s",
                 err.message);
    if (fast != ref || v.allowed != ref || (matrix >= 0 && matrix != ref)) {
        snprintf(pair, sizeof(pair), "%s -> %s on %u/%s (ipBlocks %s pods)",
                 from->text, to->text, pr->port, np_proto_name(pr->proto),
                 opts->ipblock_matches_pods ? "match" : "do not match");
        snprintf(verdicts, sizeof(verdicts),
                 "reference %d, np_eval_allowed %d, np_eval_trace %d, "
                 "np_matrix_compute %s\n  egress: %s\n  ingress: %s",
                 ref, fast, v.allowed, matrix < 0 ? "-" : (matrix ? "1" : "0"),
                 v.egress.reason, v.ingress.reason);
        np_arena_free_all(&a);
        dump_and_fail(run, pair, verdicts);
        return ref;
    }
    expect_lazy_says_the_same(run->snap, opts, &q, &v);
    np_arena_free_all(&a);
    return ref;
}

/* A batch of queries and the reference's verdicts, sent through
 * api_dispatch() at the end. */
struct batch {
    json_t *queries;
    bool *want;
    char (*what)[256];
    size_t n, cap;
};

static void
batch_add(struct batch *b, const struct ref_cluster *c,
          const struct endpoint *from, const struct endpoint *to,
          const struct probe *pr, bool want)
{
    json_t *q;

    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->want = realloc(b->want, b->cap * sizeof(*b->want));
        b->what = realloc(b->what, b->cap * sizeof(*b->what));
        cr_assert(b->want != NULL && b->what != NULL);
    }
    q = json_pack("{s:o,s:o,s:i,s:s}", "from", endpoint_json(from, c), "to",
                  endpoint_json(to, c), "port", (int)pr->port, "protocol",
                  np_proto_name(pr->proto));
    cr_assert_not_null(q);
    json_array_append_new(b->queries, q);
    b->want[b->n] = want;
    snprintf(b->what[b->n], sizeof(b->what[b->n]), "%s -> %s on %u/%s",
             from->text, to->text, pr->port, np_proto_name(pr->proto));
    b->n++;
}

static void
batch_check(struct run *run, struct batch *b, bool trace)
{
    struct api_request req;
    struct api_response resp;
    json_t *body, *doc, *results;
    json_error_t jerr;
    char *text;
    size_t i;

    body = json_pack("{s:O,s:b}", "queries", b->queries, "trace", trace);
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    cr_assert_not_null(text);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/reachability/batch";
    req.content_type = "application/json";
    req.body = text;
    req.body_len = strlen(text);
    api_dispatch(&run->ctx, &req, &resp);
    free(text);
    cr_assert_eq(resp.status, 200, "seed %" PRIu64 ": batch: %d %s", run->seed,
                 resp.status, resp.body);
    doc = json_loadb(resp.body, resp.body_len, 0, &jerr);
    cr_assert_not_null(doc, "the batch answer is not JSON: %s", jerr.text);
    results = json_object_get(doc, "results");
    cr_assert_eq(json_array_size(results), b->n);
    for (i = 0; i < b->n; i++) {
        json_t *r = json_array_get(results, i);
        json_t *allowed = json_object_get(r, "allowed");
        char verdicts[600];

        if (!json_is_boolean(allowed)) {
            char *s = json_dumps(r, JSON_COMPACT);

            snprintf(verdicts, sizeof(verdicts), "the batch answered %.500s",
                     s != NULL ? s : "?");
            free(s);
            dump_and_fail(run, b->what[i], verdicts);
        } else if (json_is_true(allowed) != b->want[i]) {
            snprintf(verdicts, sizeof(verdicts),
                     "reference %d, POST /reachability/batch (trace %s) %d",
                     b->want[i], trace ? "true" : "false",
                     json_is_true(allowed));
            dump_and_fail(run, b->what[i], verdicts);
        }
    }
    json_decref(doc);
    api_response_fini(&resp);
}

static void
batch_fini(struct batch *b)
{
    json_decref(b->queries);
    free(b->want);
    free(b->what);
    memset(b, 0, sizeof(*b));
}

static void
build(struct run *run)
{
    struct np_builder *b = np_builder_new();
    struct ref_cluster *c = &run->g.c;
    struct np_error err;
    size_t i;

    cr_assert_not_null(b);
    np_error_init(&err);
    for (i = 0; i < c->nnamespaces; i++) {
        if (np_builder_add_namespace(b, &c->namespaces[i], &err) != 0)
            goto fail;
    }
    for (i = 0; i < c->npods; i++) {
        if (np_builder_add_pod(b, &c->pods[i], &err) != 0)
            goto fail;
    }
    for (i = 0; i < c->npolicies; i++) {
        if (np_builder_add_policy(b, &c->policies[i], &err) != 0)
            goto fail;
    }
    run->snap = np_builder_build(b, 1, &err);
    np_builder_free(b);
    if (run->snap == NULL)
        goto fail_built;
    run->pod_of = np_arena_calloc(run->g.a, c->npods + 1, sizeof(*run->pod_of));
    run->ids = np_arena_calloc(run->g.a, c->npods + 1, sizeof(*run->ids));
    cr_assert(run->pod_of != NULL && run->ids != NULL);
    for (i = 0; i < c->npods; i++) {
        run->pod_of[i] = np_snapshot_find_pod(run->snap, model_ns(&c->pods[i]),
                                              c->pods[i].name);
        cr_assert_not_null(run->pod_of[i]);
        run->ids[i] = run->pod_of[i]->id;
    }
    return;
fail:
    np_builder_free(b);
fail_built:
    fprintf(stderr,
            "differential: seed %" PRIu64 ": the builder rejects the "
            "cluster: %s (%s)\n",
            run->seed, err.message, err.path);
    ref_cluster_dump(c, stderr);
    cr_assert_fail("seed %" PRIu64
                   ": the builder rejects a generated cluster: %s",
                   run->seed, err.message);
}

/* Pairs of pods by name, on every probe, with the matrix. */
static void
check_pod_pairs(struct run *run, const struct np_eval_opts *opts,
                struct batch *b)
{
    const struct ref_cluster *c = &run->g.c;
    struct np_matrix m;
    struct np_error err;
    struct endpoint from, to;
    size_t k, i, j;

    for (k = 0; k < NPROBES; k++) {
        np_error_init(&err);
        cr_assert_eq(np_matrix_compute(
                         run->snap, opts, run->ids, (uint32_t)c->npods,
                         run->ids, (uint32_t)c->npods, (uint16_t)probes[k].port,
                         probes[k].proto, &m, &err),
                     0, "%s", err.message);
        for (i = 0; i < c->npods; i++) {
            pod_endpoint(run, i, &from);
            for (j = 0; j < c->npods; j++) {
                bool want;

                pod_endpoint(run, j, &to);
                want = check_query(run, opts, &from, &to, &probes[k],
                                   np_matrix_get(&m, (uint32_t)i, (uint32_t)j));
                batch_add(b, c, &from, &to, &probes[k], want);
            }
        }
        np_matrix_fini(&m);
    }
}

/* Random endpoints given by address (a pod's, a node's or an outside one)
 * or by name, on random probes. */
static void
check_addresses(struct run *run, const struct np_eval_opts *opts,
                struct batch *b, struct rng *r)
{
    const struct ref_cluster *c = &run->g.c;
    struct endpoint ends[2];
    size_t n, e;

    for (n = 0; n < 40; n++) {
        for (e = 0; e < 2; e++) {
            size_t i = pick(r, (unsigned)c->npods);
            unsigned k = pick(r, 3);

            if (k == 0 || (k == 1 && c->pods[i].nips == 0))
                ip_endpoint(run, PICK(r, outside_ips), &ends[e]);
            else if (k == 1)
                ip_endpoint(run,
                            c->pods[i].ips[pick(r, (unsigned)c->pods[i].nips)],
                            &ends[e]);
            else
                pod_endpoint(run, i, &ends[e]);
        }
        {
            const struct probe *pr = &PICK(r, probes);
            bool want = check_query(run, opts, &ends[0], &ends[1], pr, -1);

            batch_add(b, c, &ends[0], &ends[1], pr, want);
        }
    }
}

static void
run_seed(uint64_t seed)
{
    struct np_arena a;
    struct run run;
    struct api_config cfg;
    struct np_error err;
    int o;

    memset(&run, 0, sizeof(run));
    run.seed = seed;
    np_arena_init(&a);
    gen_cluster(&run.g, seed, &a);
    build(&run);
    api_config_defaults(&cfg);
    np_error_init(&err);
    cr_assert_eq(api_ctx_init(&run.ctx, &cfg, &err), 0, "%s", err.message);
    np_state_publish(&run.ctx.state, np_snapshot_retain(run.snap));
    for (o = 0; o < 2; o++) {
        struct np_eval_opts opts = { .ipblock_matches_pods = o == 0 };
        struct batch pairs = { .queries = json_array() };
        struct batch addrs = { .queries = json_array() };
        struct rng r = { .s = seed ^ 0x5eed };

        run.g.c.ipblock_matches_pods = opts.ipblock_matches_pods;
        run.ctx.opts = opts;
        check_pod_pairs(&run, &opts, &pairs);
        check_addresses(&run, &opts, &addrs, &r);
        batch_check(&run, &pairs, false);
        batch_check(&run, &addrs, false);
        batch_check(&run, &addrs, true);
        batch_fini(&pairs);
        batch_fini(&addrs);
    }
    api_ctx_fini(&run.ctx);
    np_snapshot_release(run.snap);
    np_arena_free_all(&a);
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0')
        return dflt;
    v = strtoull(s, &end, 10);
    cr_assert(*end == '\0', "%s=\"%s\" is not a number", name, s);
    return (uint64_t)v;
}

struct shard {
    int index;
};

ParameterizedTestParameters(differential, paths_agree_with_the_reference)
{
    static struct shard shards[SHARDS] = {
        { .index = 0 }, { .index = 1 }, { .index = 2 }, { .index = 3 }
    };

    return cr_make_param_array(struct shard, shards, SHARDS);
}

/* Seeds first, first + SHARDS, ... belong to shard 0; Criterion runs the
 * shards in parallel. */
ParameterizedTest(struct shard *sh, differential,
                  paths_agree_with_the_reference, .timeout = 900)
{
    uint64_t only = env_u64("NETPOLQ_DIFF_SEED", 0);
    uint64_t n = env_u64("NETPOLQ_DIFF_SEEDS",
                         env_u64("NETPOLQ_DIFF_ITER", DEFAULT_SEEDS));
    uint64_t first = env_u64("NETPOLQ_DIFF_FIRST", 1);
    uint64_t s, ran = 0;

    if (only != 0) {
        if (sh->index == 0)
            run_seed(only);
        return;
    }
    for (s = first + (uint64_t)sh->index; s < first + n; s += SHARDS) {
        run_seed(s);
        ran++;
    }
    cr_log_info("shard %d: %" PRIu64 " clusters agree", sh->index, ran);
}

/* The reference itself, on cases whose answers are known by heart, so a
 * mistake in it cannot hide behind agreement. */
Test(differential, reference_knows_the_basics)
{
    static const struct np_model_label web_l[] = { { .key = "app",
                                                     .value = "web" } };
    static const struct np_model_label cli_l[] = { { .key = "app",
                                                     .value = "client" } };
    static const char *const web_ips[] = { "10.0.0.1" };
    static const char *const cli_ips[] = { "10.0.0.2", "fd00::2" };
    static const struct np_model_container_port web_ports[] = {
        { .name = "http", .port = 8080 }
    };
    struct np_model_pod pods[] = {
        { .namespace_ = "prod",
          .name = "web",
          .nlabels = 1,
          .labels = web_l,
          .nports = 1,
          .ports = web_ports,
          .nips = 1,
          .ips = web_ips },
        { .namespace_ = "dev",
          .name = "client",
          .nlabels = 1,
          .labels = cli_l,
          .nips = 2,
          .ips = cli_ips },
    };
    static const struct np_model_label dev_l[] = { { .key = "env",
                                                     .value = "dev" } };
    struct np_model_namespace nss[] = {
        { .name = "dev", .nlabels = 1, .labels = dev_l }
    };
    static const struct np_model_selector any = { 0 };
    static const struct np_model_label sel_env[] = { { .key = "env",
                                                       .value = "dev" } };
    static const struct np_model_selector dev_sel = { .nlabels = 1,
                                                      .labels = sel_env };
    static const char *const except[] = { "fd00::2/128" };
    static const struct np_model_ipblock v6 = { .cidr = "fd00::/8",
                                                .nexcept = 1,
                                                .except = except };
    struct np_model_peer peers[] = { { .namespace_selector = &dev_sel,
                                       .pod_selector = &any },
                                     { .ipblock = &v6 } };
    struct np_model_policy_port ports[] = { { .has_port = true,
                                              .port_name = "http" } };
    struct np_model_rule rule = {
        .npeers = 1, .peers = peers, .nports = 1, .ports = ports
    };
    struct np_model_policy pol = { .namespace_ = "prod",
                                   .name = "web-in",
                                   .pod_selector = { .nlabels = 1,
                                                     .labels = web_l },
                                   .ingress_present = true,
                                   .ningress = 1,
                                   .ingress = &rule };
    struct ref_cluster c = { .nnamespaces = 1,
                             .namespaces = nss,
                             .npods = 2,
                             .pods = pods,
                             .npolicies = 1,
                             .policies = &pol,
                             .ipblock_matches_pods = true };
    struct ref_endpoint web = { .pod = 0 }, cli = { .pod = 1 };
    struct ref_endpoint cli_v6 = { .pod = -1, .ip = "fd00::2" };
    struct ref_endpoint outside = { .pod = -1, .ip = "fd00::9" };

    /* The named port resolves to 8080 on web; the peer needs env=dev. */
    cr_expect(ref_allowed(&c, &cli, &web, 8080, "TCP"));
    cr_expect(!ref_allowed(&c, &cli, &web, 80, "TCP"));
    cr_expect(!ref_allowed(&c, &cli, &web, 8080, "UDP"));
    cr_expect(ref_allowed(&c, &web, &cli, 80, "TCP"), "client not isolated");
    cr_expect(ref_allowed(&c, &web, &web, 1, "SCTP"), "self");
    cr_expect_eq(ref_resolve_ip(&c, "fd00:0::2"), 1);
    cr_expect_eq(ref_resolve_ip(&c, "10.0.0.3"), -1);
    /* Without the namespace label, the peer fails; the ipBlock peer is not
     * in the rule yet. */
    nss[0].nlabels = 0;
    cr_expect(!ref_allowed(&c, &cli, &web, 8080, "TCP"));
    /* ipBlock fd00::/8 except fd00::2/128: the client by name still has
     * its IPv4 address outside the block, its IPv6 one is excepted. */
    rule.peers = &peers[1];
    cr_expect(!ref_allowed(&c, &cli, &web, 8080, "TCP"));
    cr_expect(!ref_allowed(&c, &cli_v6, &web, 8080, "TCP"));
    cr_expect(ref_allowed(&c, &outside, &web, 8080, "TCP"));
    c.ipblock_matches_pods = false;
    cr_expect(ref_allowed(&c, &outside, &web, 8080, "TCP"));
    /* policyTypes defaulting: egress rules add Egress. */
    pol.negress = 1;
    pol.egress = &rule;
    cr_expect(!ref_allowed(&c, &web, &cli, 80, "TCP"),
              "web is isolated for egress now");
    pol.ntypes = 1;
    pol.types = (const char *const[]){ "Ingress" };
    cr_expect(ref_allowed(&c, &web, &cli, 80, "TCP"),
              "policyTypes [Ingress] ignores egress rules");
}
