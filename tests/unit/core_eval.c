/*
 * NetworkPolicy semantics, as the core evaluator decides them: isolation per
 * direction and policyTypes defaulting, additive policies, both ends of a
 * connection, empty and missing lists, peers (podSelector, namespaceSelector,
 * ipBlock), ports (protocols, ranges, named ports), hostNetwork pods, self
 * traffic, and the traces that explain the verdicts.
 *
 * Most tables add one policy, prod/under-test, to the same cluster and ask
 * for one connection; every query goes through fx_eval(), which also checks
 * that np_eval_allowed(), np_eval_side_allowed() and np_eval_trace() agree.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "core/builder.h"
#include "core/eval.h"
#include "core/net.h"
#include "core/snapshot.h"
#include "tests/support/fixtures.h"

/*
 * prod (team=a, env=prod): web serves http 80/TCP, metrics 9090/TCP and dns
 * 53/UDP; db serves pg 5432/TCP; client (version=v1) has its own http port
 * 8081, which must never matter for egress named ports.
 * stage (team=b, env=stage): web serves http on 8080; client (version=v2) is
 * dual-stack; done has finished (Succeeded) and gave up 10.0.2.50.
 * dev (env=dev, no team): client (no version) and tool (no app label).
 * legacy and kube-system are never declared: implicit namespaces.
 * kube-system agents use the host network: agent has its node's address
 * and a port named http (80), agent-noip only a hostIP, agent-nowhere
 * neither.
 */
static struct np_builder *
base_builder(void)
{
    struct np_builder *b = fx_builder();

    fx_ns(b, "prod", "team=a,env=prod");
    fx_ns(b, "stage", "team=b,env=stage");
    fx_ns(b, "dev", "env=dev");
    fx_pod_ports(b, "prod/web", "app=web,tier=fe", "10.0.1.1,fd00::1:1",
                 "http:80/TCP,metrics:9090/TCP,dns:53/UDP");
    fx_pod_ports(b, "prod/db", "app=db", "10.0.1.2", "pg:5432/TCP");
    fx_pod_ports(b, "prod/client", "app=client,version=v1", "10.0.1.3",
                 "http:8081/TCP");
    fx_pod_ports(b, "stage/web", "app=web", "10.0.2.1", "http:8080/TCP");
    fx_pod(b, "stage/client", "app=client,version=v2", "10.0.2.3,fd00::2:3");
    fx_pod_spec(b, "stage/done",
                "labels: app=client; ips: 10.0.2.50; phase: Succeeded");
    fx_pod(b, "dev/client", "app=client", "10.0.3.3");
    fx_pod(b, "dev/tool", "role=tool", "10.0.3.4,fd00::3:4");
    fx_pod(b, "legacy/client", "app=client", "10.0.4.3");
    fx_pod_spec(b, "kube-system/agent",
                "labels: app=agent; hostNetwork; ips: 192.168.0.5; "
                "hostIP: 192.168.0.5; ports: http:80");
    fx_pod_spec(b, "kube-system/agent-noip",
                "labels: app=agent; hostNetwork; hostIP: 192.168.0.6");
    fx_pod_spec(b, "kube-system/agent-nowhere",
                "labels: app=agent; "
                "hostNetwork");
    return b;
}

/* The base cluster plus one policy (ref NULL: none). */
static struct np_snapshot *
base_with(const char *ref, const char *spec)
{
    struct np_builder *b = base_builder();

    if (ref != NULL)
        fx_policy(b, ref, spec);
    return fx_build(b);
}

/* The verdict a row expects; the _PODS_OFF forms evaluate with
 * ipblock_matches_pods = false. */
enum expect { DENY, ALLOW, DENY_PODS_OFF, ALLOW_PODS_OFF };

/* One connection against the base cluster plus prod/under-test. */
struct conn_case {
    char policy[320];
    char from[40];
    char to[40];
    char port[24];
    enum expect expect;
};

static void
run_conn_case(const struct conn_case *c)
{
    struct np_snapshot *s = base_with("prod/under-test", c->policy);
    bool pods_off = c->expect == DENY_PODS_OFF || c->expect == ALLOW_PODS_OFF;
    bool allowed = c->expect == ALLOW || c->expect == ALLOW_PODS_OFF;
    struct np_eval_opts opts = { .ipblock_matches_pods = !pods_off };
    struct np_verdict v;
    bool got = fx_eval(s, &opts, c->from, c->to, c->port, &v);

    cr_expect_eq(got, allowed,
                 "policy {%s}\n%s -> %s on %s%s: expected %s, got %s\n"
                 "egress: %s\ningress: %s",
                 c->policy, c->from, c->to, c->port,
                 pods_off ? " (ipblock_matches_pods=false)" : "",
                 allowed ? "allowed" : "denied", got ? "allowed" : "denied",
                 fx_side_dump(&v.egress), fx_side_dump(&v.ingress));
    np_snapshot_release(s);
}

#define CONN_PARAMS(cases)                                                     \
    cr_make_param_array(struct conn_case, cases,                               \
                        sizeof(cases) / sizeof(cases[0]))

/* --- isolation and policyTypes --- */

TestSuite(isolation, .fini = fx_fini);

struct iso_case {
    char ref[48];
    char policy[200];
    bool ingress_isolated, egress_isolated; /* of prod/web */
    bool in_allowed;                        /* dev/tool -> prod/web on 7777 */
    bool out_allowed;                       /* prod/web -> dev/tool on 7777 */
};

ParameterizedTestParameters(isolation, policy_types_decide_the_directions)
{
    static struct iso_case cases[] = {
        /* No policyTypes: Ingress only, since there are no egress rules. */
        { "prod/p", "podSelector: app=web", true, false, false, true },
        /* egress: [] adds nothing: SetDefaults uses len(egress) != 0. */
        { "prod/p", "podSelector: app=web; egress: []", true, false, false,
          true },
        /* One egress rule makes the defaulted types Ingress and Egress; the
         * rule {} then allows all egress. */
        { "prod/p", "podSelector: app=web; egress: [{}]", true, true, false,
          true },
        { "prod/p",
          "podSelector: app=web; egress: [{to: [pod(app=db)]}, {ports: "
          "[5432]}]",
          true, true, false, false },
        { "prod/p", "podSelector: app=web; policyTypes: [Egress]", false, true,
          true, false },
        /* Explicit [Egress]: the ingress rules are ignored, ingress is not
         * isolated. */
        { "prod/p",
          "podSelector: app=web; policyTypes: [Egress]; ingress: "
          "[{from: [pod(app=db)]}]",
          false, true, true, false },
        /* Explicit [Ingress]: the egress rule is ignored. */
        { "prod/p",
          "podSelector: app=web; policyTypes: [Ingress]; egress: "
          "[{to: [pod(app=db)]}]",
          true, false, false, true },
        { "prod/p", "podSelector: app=web; policyTypes: [Ingress, Egress]",
          true, true, false, false },
        { "prod/p", "podSelector: app=web; policyTypes: [Egress, Ingress]",
          true, true, false, false },
        /* A policy that selects other pods leaves web alone. */
        { "prod/p", "podSelector: app=db; policyTypes: [Ingress, Egress]",
          false, false, true, true },
        { "prod/p", "podSelector: {}", true, false, false, true },
        /* A policy selects pods of its own namespace only. */
        { "stage/p", "podSelector: {}; policyTypes: [Ingress, Egress]", false,
          false, true, true },
        { "prod/p",
          "podSelector: app=web; ingress: [{from: [ns({})]}]; "
          "egress: [{to: [pod(app=db)]}]",
          true, true, true, false },
        /* Ingress with an empty ingress list: isolated, nothing allowed. */
        { "prod/p", "podSelector: tier=fe; ingress: []", true, false, false,
          true },
        { "prod/p", "podSelector: tier in (fe,be)", true, false, false, true },
        { "prod/p", "podSelector: tier notin (fe)", false, false, true, true },
    };

    return cr_make_param_array(struct iso_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct iso_case *c, isolation,
                  policy_types_decide_the_directions)
{
    struct np_snapshot *s = base_with(c->ref, c->policy);
    const struct np_pod *web = np_snapshot_find_pod(s, "prod", "web");
    struct np_isolation iso;

    np_pod_isolation(s, web, &iso);
    cr_expect_eq(iso.isolated[NP_DIR_INGRESS], c->ingress_isolated,
                 "{%s}: ingress isolation", c->policy);
    cr_expect_eq(iso.isolated[NP_DIR_EGRESS], c->egress_isolated,
                 "{%s}: egress isolation", c->policy);
    cr_expect_eq(fx_allowed(s, "dev/tool", "prod/web", "7777"), c->in_allowed,
                 "{%s}: dev/tool -> prod/web", c->policy);
    cr_expect_eq(fx_allowed(s, "prod/web", "dev/tool", "7777"), c->out_allowed,
                 "{%s}: prod/web -> dev/tool", c->policy);
    np_snapshot_release(s);
}

Test(isolation, defaulted_types_are_recorded_on_the_policy)
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    const struct np_policy *p;

    fx_policy(b, "prod/defaulted", "podSelector: {}; egress: [{}]");
    fx_policy(b, "prod/empty-egress", "podSelector: {}; egress: []");
    fx_policy(b, "prod/typed", "podSelector: {}; policyTypes: [Egress]");
    s = fx_build(b);
    p = np_snapshot_find_policy(s, "prod", "defaulted");
    cr_assert(p->types_defaulted);
    cr_assert(p->affects[NP_DIR_INGRESS] && p->affects[NP_DIR_EGRESS]);
    p = np_snapshot_find_policy(s, "prod", "empty-egress");
    cr_assert(p->types_defaulted);
    cr_assert(p->affects[NP_DIR_INGRESS] && !p->affects[NP_DIR_EGRESS]);
    p = np_snapshot_find_policy(s, "prod", "typed");
    cr_assert_not(p->types_defaulted);
    cr_assert(!p->affects[NP_DIR_INGRESS] && p->affects[NP_DIR_EGRESS]);
    np_snapshot_release(s);
}

Test(isolation, selected_pods_and_isolating_policies_are_indexed)
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    const struct np_pod *web, *db;
    const struct np_policy *deny, *eg;
    struct np_isolation iso;

    fx_policy(b, "prod/deny", "podSelector: {}");
    fx_policy(b, "prod/web-egress",
              "podSelector: app=web; policyTypes: [Egress]");
    s = fx_build(b);
    web = np_snapshot_find_pod(s, "prod", "web");
    db = np_snapshot_find_pod(s, "prod", "db");
    deny = np_snapshot_find_policy(s, "prod", "deny");
    eg = np_snapshot_find_policy(s, "prod", "web-egress");
    cr_assert_eq(deny->nselected, 3, "client, db and web");
    cr_assert_eq(eg->nselected, 1);
    cr_assert_eq(eg->selected[0], web->id);
    cr_assert_eq(web->nselected_by, 2);
    np_pod_isolation(s, web, &iso);
    cr_assert_eq(iso.npolicies[NP_DIR_INGRESS], 1);
    cr_assert_eq(iso.policies[NP_DIR_INGRESS][0], deny->id);
    cr_assert_eq(iso.npolicies[NP_DIR_EGRESS], 1);
    cr_assert_eq(iso.policies[NP_DIR_EGRESS][0], eg->id);
    np_pod_isolation(s, db, &iso);
    cr_assert(iso.isolated[NP_DIR_INGRESS]);
    cr_assert_not(iso.isolated[NP_DIR_EGRESS]);
    np_snapshot_release(s);
}

/* --- policies add up; order never matters --- */

TestSuite(additive, .fini = fx_fini);

struct ref_spec {
    const char *ref;
    const char *spec;
};

static const struct ref_spec additive_policies[] = {
    { "prod/deny-all-ingress", "podSelector: {}; policyTypes: [Ingress]" },
    { "prod/allow-client-80",
      "podSelector: app=web; ingress: [{from: [pod(app=client)], ports: "
      "[80]}]" },
    { "prod/allow-stage-metrics",
      "podSelector: app=web; ingress: [{from: [ns(env=stage)], ports: "
      "[metrics]}]" },
};

static const char *const additive_sources[] = {
    "prod/client", "prod/db",  "stage/client",
    "stage/web",   "dev/tool", "10.9.9.9",
};
static const char *const additive_ports[] = { "80", "9090", "443" };

#define NSRC   (sizeof(additive_sources) / sizeof(additive_sources[0]))
#define NPORTS (sizeof(additive_ports) / sizeof(additive_ports[0]))

static void
additive_verdicts(const int order[3], bool out[NSRC][NPORTS])
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    size_t i, j;

    for (i = 0; i < 3; i++)
        fx_policy(b, additive_policies[order[i]].ref,
                  additive_policies[order[i]].spec);
    s = fx_build(b);
    for (i = 0; i < NSRC; i++) {
        for (j = 0; j < NPORTS; j++)
            out[i][j] = fx_allowed(s, additive_sources[i], "prod/web",
                                   additive_ports[j]);
    }
    np_snapshot_release(s);
}

Test(additive, allows_are_a_union_whatever_the_order_of_adds)
{
    static const int orders[6][3] = {
        { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
        { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
    };
    bool first[NSRC][NPORTS], got[NSRC][NPORTS];
    size_t o, i, j;

    additive_verdicts(orders[0], first);
    for (i = 0; i < NSRC; i++) {
        for (j = 0; j < NPORTS; j++) {
            bool client80 =
                strcmp(additive_sources[i], "prod/client") == 0 && j == 0;
            bool stage9090 =
                strncmp(additive_sources[i], "stage/", 6) == 0 && j == 1;

            cr_expect_eq(first[i][j], client80 || stage9090,
                         "%s -> prod/web on %s", additive_sources[i],
                         additive_ports[j]);
        }
    }
    for (o = 1; o < 6; o++) {
        additive_verdicts(orders[o], got);
        for (i = 0; i < NSRC; i++) {
            for (j = 0; j < NPORTS; j++)
                cr_expect_eq(got[i][j], first[i][j],
                             "order %d%d%d: %s -> prod/web on %s", orders[o][0],
                             orders[o][1], orders[o][2], additive_sources[i],
                             additive_ports[j]);
        }
    }
}

/* Some guides claim the policy created last overrides the others. It does
 * not: an allow in any policy stands, whether the deny came before or
 * after it. */
Test(additive, last_created_policy_does_not_win)
{
    static const struct ref_spec allow = { "prod/allow-all",
                                           "podSelector: {}; ingress: [{}]" };
    static const struct ref_spec deny = {
        "prod/deny-all", "podSelector: {}; policyTypes: [Ingress]"
    };
    const struct ref_spec *orders[2][2] = { { &allow, &deny },
                                            { &deny, &allow } };
    int o;

    for (o = 0; o < 2; o++) {
        struct np_builder *b = base_builder();
        struct np_snapshot *s;
        struct np_verdict v;

        fx_policy(b, orders[o][0]->ref, orders[o][0]->spec);
        fx_policy(b, orders[o][1]->ref, orders[o][1]->spec);
        s = fx_build(b);
        cr_expect(fx_eval(s, NULL, "dev/tool", "prod/web", "80", &v),
                  "created last: %s", orders[o][1]->ref);
        cr_expect_eq(v.ingress.npolicies, 2);
        cr_expect_eq(v.ingress.nallowed_by, 1);
        cr_expect_str_eq(
            v.ingress.policies[v.ingress.allowed_by[0].policy].policy->name,
            "allow-all");
        np_snapshot_release(s);
    }
}

Test(additive, two_allow_policies_both_appear_in_allowed_by)
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    struct np_verdict v;

    fx_policy(b, "prod/a", "podSelector: app=web; ingress: [{ports: [80]}]");
    fx_policy(b, "prod/b",
              "podSelector: {}; ingress: [{from: [pod(app=client)]}]");
    s = fx_build(b);
    cr_assert(fx_eval(s, NULL, "prod/client", "prod/web", "80", &v));
    cr_assert_eq(v.ingress.nallowed_by, 2);
    /* Only a allows from outside the namespace; only b on other ports. */
    cr_assert(fx_allowed(s, "dev/tool", "prod/web", "80"));
    cr_assert(fx_allowed(s, "prod/client", "prod/web", "443"));
    cr_assert_not(fx_allowed(s, "dev/tool", "prod/web", "443"));
    np_snapshot_release(s);
}

/* --- both ends of a connection --- */

TestSuite(direction, .fini = fx_fini);

struct dir_case {
    char client_policy[200]; /* in stage, "" for none */
    char server_policy[200]; /* in prod, "" for none */
    bool allowed;
    bool egress_allowed, ingress_allowed;
};

ParameterizedTestParameters(direction, egress_and_ingress_must_both_allow)
{
    static struct dir_case cases[] = {
        { "", "", true, true, true },
        /* The server admits the client, but the client may not send. */
        { "podSelector: app=client; policyTypes: [Egress]",
          "podSelector: app=web; ingress: [{from: [ns(team=b)]}]", false, false,
          true },
        { "podSelector: app=client; policyTypes: [Egress]; egress: "
          "[{to: [ns(team=a) pod(app=web)]}]",
          "podSelector: app=web; policyTypes: [Ingress]", false, true, false },
        { "podSelector: app=client; policyTypes: [Egress]; egress: "
          "[{to: [ns(team=a) pod(app=web)]}]",
          "podSelector: app=web; ingress: [{from: [ns(team=b)]}]", true, true,
          true },
        /* Egress isolation on the server does not affect what it receives. */
        { "", "podSelector: app=web; policyTypes: [Egress]", true, true, true },
        /* Ingress isolation on the client does not affect what it sends. */
        { "podSelector: app=client; policyTypes: [Ingress]", "", true, true,
          true },
        { "podSelector: {}; egress: [{ports: [443]}]", "", false, false, true },
    };

    return cr_make_param_array(struct dir_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dir_case *c, direction,
                  egress_and_ingress_must_both_allow)
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    struct np_verdict v;
    struct np_query q;

    if (c->client_policy[0] != '\0')
        fx_policy(b, "stage/client-side", c->client_policy);
    if (c->server_policy[0] != '\0')
        fx_policy(b, "prod/server-side", c->server_policy);
    s = fx_build(b);
    cr_expect_eq(fx_eval(s, NULL, "stage/client", "prod/web", "80", &v),
                 c->allowed);
    cr_expect_eq(v.egress.allowed, c->egress_allowed, "%s", v.egress.reason);
    cr_expect_eq(v.ingress.allowed, c->ingress_allowed, "%s", v.ingress.reason);
    q = fx_query(s, "stage/client", "prod/web", "80");
    cr_expect_eq(np_eval_side_allowed(s, &fx_opts, &q, NP_DIR_EGRESS),
                 c->egress_allowed);
    cr_expect_eq(np_eval_side_allowed(s, &fx_opts, &q, NP_DIR_INGRESS),
                 c->ingress_allowed);
    np_snapshot_release(s);
}

Test(direction, outside_addresses_have_no_policies_of_their_own)
{
    struct np_snapshot *s =
        base_with("prod/p", "podSelector: {}; policyTypes: [Egress]");
    struct np_verdict v;

    /* From outside to a pod: only the pod's ingress counts. */
    cr_assert(fx_eval(s, NULL, "203.0.113.9", "prod/web", "80", &v));
    cr_assert_eq(v.egress.why, NP_WHY_EXTERNAL);
    /* From an egress-isolated pod to outside: denied on its egress. */
    cr_assert_not(fx_eval(s, NULL, "prod/web", "203.0.113.9", "80", &v));
    cr_assert_eq(v.egress.why, NP_WHY_NO_RULE_MATCHES);
    cr_assert_eq(v.ingress.why, NP_WHY_EXTERNAL);
    np_snapshot_release(s);
}

/* --- empty and missing lists --- */

TestSuite(rules, .fini = fx_fini);

ParameterizedTestParameters(rules, empty_and_missing_lists)
{
    static struct conn_case cases[] = {
        /* Type Ingress with no rules (missing or []) allows nothing. */
        { "podSelector: app=web", "prod/client", "prod/web", "80", DENY },
        { "podSelector: app=web; ingress: []", "prod/client", "prod/web", "80",
          DENY },
        { "podSelector: app=web; ingress: []", "203.0.113.9", "prod/web", "80",
          DENY },
        /* A rule {} matches every peer on every port. */
        { "podSelector: app=web; ingress: [{}]", "dev/tool", "prod/web", "7777",
          ALLOW },
        { "podSelector: app=web; ingress: [{}]", "203.0.113.9", "prod/web",
          "53/UDP", ALLOW },
        { "podSelector: app=web; ingress: [{}]", "kube-system/agent",
          "prod/web", "80", ALLOW },
        /* Missing or empty from: every source. */
        { "podSelector: app=web; ingress: [{ports: [80]}]", "203.0.113.9",
          "prod/web", "80", ALLOW },
        { "podSelector: app=web; ingress: [{ports: [80]}]", "dev/tool",
          "prod/web", "81", DENY },
        { "podSelector: app=web; ingress: [{from: [], ports: [80]}]",
          "stage/client", "prod/web", "80", ALLOW },
        { "podSelector: app=web; ingress: [{from: [], ports: [80]}]",
          "stage/client", "prod/web", "81", DENY },
        /* Missing or empty ports: every port and protocol. */
        { "podSelector: app=web; ingress: [{from: [pod(app=client)]}]",
          "prod/client", "prod/web", "7777/SCTP", ALLOW },
        { "podSelector: app=web; ingress: [{from: [pod(app=client)]}]",
          "dev/client", "prod/web", "80", DENY },
        { "podSelector: app=web; ingress: [{from: [pod(app=client)], ports: "
          "[]}]",
          "prod/client", "prod/web", "12345/UDP", ALLOW },
        { "podSelector: app=web; ingress: [{from: [], ports: []}]",
          "203.0.113.9", "prod/web", "1", ALLOW },
        /* A pod-only peer never matches an outside address. */
        { "podSelector: app=web; ingress: [{from: [pod({})]}]", "203.0.113.9",
          "prod/web", "80", DENY },
        { "podSelector: app=web; ingress: [{from: [ns({})]}]", "203.0.113.9",
          "prod/web", "80", DENY },
        /* The same for egress. */
        { "podSelector: app=client; policyTypes: [Egress]", "prod/client",
          "prod/web", "80", DENY },
        { "podSelector: app=client; policyTypes: [Egress]; egress: []",
          "prod/client", "prod/web", "80", DENY },
        { "podSelector: app=client; egress: [{}]", "prod/client", "203.0.113.9",
          "443", ALLOW },
        { "podSelector: app=client; egress: [{to: [], ports: [53/UDP]}]",
          "prod/client", "203.0.113.9", "53/UDP", ALLOW },
        { "podSelector: app=client; egress: [{to: [], ports: [53/UDP]}]",
          "prod/client", "203.0.113.9", "53/TCP", DENY },
        /* Rules are ORed: one of several is enough. */
        { "podSelector: app=web; ingress: [{from: [pod(app=db)]}, {ports: "
          "[9090]}]",
          "dev/tool", "prod/web", "9090", ALLOW },
        { "podSelector: app=web; ingress: [{from: [pod(app=db)]}, {ports: "
          "[9090]}]",
          "prod/db", "prod/web", "80", ALLOW },
        { "podSelector: app=web; ingress: [{from: [pod(app=db)]}, {ports: "
          "[9090]}]",
          "dev/tool", "prod/web", "80", DENY },
        /* Within one rule, peers and ports are ANDed. */
        { "podSelector: app=web; ingress: [{from: [pod(app=db)], ports: "
          "[9090]}]",
          "prod/db", "prod/web", "80", DENY },
    };

    return CONN_PARAMS(cases);
}

ParameterizedTest(struct conn_case *c, rules, empty_and_missing_lists)
{
    run_conn_case(c);
}

/* --- peers --- */

TestSuite(peers, .fini = fx_fini);

ParameterizedTestParameters(peers, selectors)
{
#define WEB_FROM(peers) "podSelector: app=web; ingress: [{from: [" peers "]}]"
    static struct conn_case cases[] = {
        /* A bare podSelector means the policy's own namespace. */
        { WEB_FROM("pod(app=client)"), "prod/client", "prod/web", "80", ALLOW },
        { WEB_FROM("pod(app=client)"), "stage/client", "prod/web", "80", DENY },
        { WEB_FROM("pod(app=client)"), "prod/db", "prod/web", "80", DENY },
        { WEB_FROM("pod({})"), "prod/db", "prod/web", "80", ALLOW },
        { WEB_FROM("pod({})"), "dev/tool", "prod/web", "80", DENY },
        /* A bare namespaceSelector: every pod of the selected namespaces. */
        { WEB_FROM("ns(team=b)"), "stage/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(team=b)"), "stage/web", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(team=b)"), "prod/client", "prod/web", "80", DENY },
        { WEB_FROM("ns(team=b)"), "dev/tool", "prod/web", "80", DENY },
        /* namespaceSelector {}: every namespace, implicit ones included. */
        { WEB_FROM("ns({})"), "dev/tool", "prod/web", "80", ALLOW },
        { WEB_FROM("ns({})"), "legacy/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns({})"), "prod/db", "prod/web", "80", ALLOW },
        /* Both selectors in one peer: AND. */
        { WEB_FROM("ns(team=b) pod(app=client)"), "stage/client", "prod/web",
          "80", ALLOW },
        { WEB_FROM("ns(team=b) pod(app=client)"), "stage/web", "prod/web", "80",
          DENY },
        { WEB_FROM("ns(team=b) pod(app=client)"), "prod/client", "prod/web",
          "80", DENY },
        { WEB_FROM("ns(team=b) pod(app=client)"), "dev/client", "prod/web",
          "80", DENY },
        { WEB_FROM("ns({}) pod(app=client)"), "dev/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ns({}) pod(app=client)"), "dev/tool", "prod/web", "80",
          DENY },
        /* Two peers: OR. */
        { WEB_FROM("ns(team=b), pod(app=client)"), "stage/web", "prod/web",
          "80", ALLOW },
        { WEB_FROM("ns(team=b), pod(app=client)"), "prod/client", "prod/web",
          "80", ALLOW },
        { WEB_FROM("ns(team=b), pod(app=client)"), "dev/client", "prod/web",
          "80", DENY },
        /* kubernetes.io/metadata.name is on every namespace. */
        { WEB_FROM("ns(kubernetes.io/metadata.name=stage)"), "stage/client",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ns(kubernetes.io/metadata.name=stage)"), "prod/client",
          "prod/web", "80", DENY },
        { WEB_FROM("ns(kubernetes.io/metadata.name=legacy)"), "legacy/client",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ns(kubernetes.io/metadata.name in (dev,legacy))"),
          "dev/tool", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(kubernetes.io/metadata.name in (dev,legacy))"),
          "stage/web", "prod/web", "80", DENY },
        /* An implicit namespace carries no other label. */
        { WEB_FROM("ns(!team)"), "legacy/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(env)"), "legacy/client", "prod/web", "80", DENY },
        /* Exists, DoesNotExist, In, NotIn. */
        { WEB_FROM("ns(team)"), "stage/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(team)"), "dev/tool", "prod/web", "80", DENY },
        { WEB_FROM("ns(!team)"), "dev/tool", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(!team)"), "stage/client", "prod/web", "80", DENY },
        { WEB_FROM("ns(env in (prod,stage))"), "stage/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ns(env in (prod,stage))"), "dev/tool", "prod/web", "80",
          DENY },
        /* NotIn holds when the key is absent. */
        { WEB_FROM("ns(team notin (a))"), "dev/tool", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(team notin (a))"), "stage/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ns(team notin (a))"), "prod/client", "prod/web", "80",
          DENY },
        { WEB_FROM("ns(team!=b)"), "legacy/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns(team!=b)"), "stage/client", "prod/web", "80", DENY },
        /* matchLabels and matchExpressions together: AND. */
        { WEB_FROM("ns({}) pod(app=client, version in (v2,v3))"),
          "stage/client", "prod/web", "80", ALLOW },
        { WEB_FROM("ns({}) pod(app=client, version in (v2,v3))"), "prod/client",
          "prod/web", "80", DENY },
        { WEB_FROM("ns({}) pod(app=client, version in (v2,v3))"), "dev/client",
          "prod/web", "80", DENY },
        { WEB_FROM("ns(team=b, env notin (stage))"), "stage/client", "prod/web",
          "80", DENY },
        { WEB_FROM("ns(team=b, env=stage)"), "stage/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("pod(version)"), "prod/client", "prod/web", "80", ALLOW },
        { WEB_FROM("pod(version)"), "prod/db", "prod/web", "80", DENY },
        { WEB_FROM("pod(!version)"), "prod/db", "prod/web", "80", ALLOW },
        { WEB_FROM("pod(!version)"), "prod/client", "prod/web", "80", DENY },
        /* Egress peers follow the same rules. */
        { "podSelector: app=client; egress: [{to: [ns(team=b) "
          "pod(app=web)]}]",
          "prod/client", "stage/web", "80", ALLOW },
        { "podSelector: app=client; egress: [{to: [ns(team=b) "
          "pod(app=web)]}]",
          "prod/client", "prod/web", "80", DENY },
        { "podSelector: app=client; egress: [{to: [pod(app=web)]}]",
          "prod/client", "prod/web", "80", ALLOW },
        { "podSelector: app=client; egress: [{to: [pod(app=web)]}]",
          "prod/client", "stage/web", "80", DENY },
    };
#undef WEB_FROM

    return CONN_PARAMS(cases);
}

ParameterizedTest(struct conn_case *c, peers, selectors)
{
    run_conn_case(c);
}

Test(peers, implicit_namespaces_carry_only_their_name_label)
{
    struct np_snapshot *s = base_with(NULL, NULL);
    const struct np_namespace *legacy = np_snapshot_find_namespace(s, "legacy");
    const struct np_namespace *prod = np_snapshot_find_namespace(s, "prod");
    np_sym name_key = np_intern_find(s->syms, "kubernetes.io/metadata.name");

    cr_assert_not_null(legacy);
    cr_assert(legacy->implicit);
    cr_assert_null(legacy->model);
    cr_assert_eq(legacy->labels.n, 1);
    cr_assert_str_eq(np_snapshot_str(s, legacy->labels.items[0].key),
                     "kubernetes.io/metadata.name");
    cr_assert_str_eq(np_snapshot_str(s, legacy->labels.items[0].value),
                     "legacy");
    cr_assert_not(prod->implicit);
    cr_assert_eq(prod->labels.n, 3, "team, env and the name label");
    cr_assert_str_eq(np_snapshot_str(s, np_labels_get(&prod->labels, name_key)),
                     "prod");
    cr_assert_eq(s->ndeclared_namespaces, 3);
    np_snapshot_release(s);
}

Test(peers, the_name_label_cannot_be_overridden_by_the_manifest)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;

    fx_ns(b, "real", "kubernetes.io/metadata.name=fake");
    fx_pod(b, "real/client", "app=client", "10.0.0.1");
    fx_pod(b, "srv/web", "app=web", "10.0.0.2");
    fx_policy(b, "srv/p",
              "podSelector: {}; ingress: [{from: "
              "[ns(kubernetes.io/metadata.name=real)]}]");
    s = fx_build(b);
    cr_assert(fx_allowed(s, "real/client", "srv/web", "80"));
    np_snapshot_release(s);
}

/* --- ports --- */

TestSuite(ports, .fini = fx_fini);

ParameterizedTestParameters(ports, protocols_numbers_ranges_and_names)
{
#define WEB_PORTS(ports) "podSelector: app=web; ingress: [{ports: [" ports "]}]"
    static struct conn_case cases[] = {
        /* The protocol defaults to TCP. */
        { WEB_PORTS("80"), "dev/tool", "prod/web", "80/TCP", ALLOW },
        { WEB_PORTS("80"), "dev/tool", "prod/web", "80/UDP", DENY },
        { WEB_PORTS("80"), "dev/tool", "prod/web", "81/TCP", DENY },
        { WEB_PORTS("80/TCP"), "dev/tool", "prod/web", "80/SCTP", DENY },
        { WEB_PORTS("80/UDP"), "dev/tool", "prod/web", "80/UDP", ALLOW },
        { WEB_PORTS("80/UDP"), "dev/tool", "prod/web", "80/TCP", DENY },
        { WEB_PORTS("5000/SCTP"), "dev/tool", "prod/web", "5000/SCTP", ALLOW },
        { WEB_PORTS("5000/SCTP"), "dev/tool", "prod/web", "5000/TCP", DENY },
        { WEB_PORTS("5000/SCTP"), "dev/tool", "prod/web", "5000/UDP", DENY },
        /* Protocol without port: every port of that protocol. */
        { WEB_PORTS("/UDP"), "dev/tool", "prod/web", "53/UDP", ALLOW },
        { WEB_PORTS("/UDP"), "dev/tool", "prod/web", "65535/UDP", ALLOW },
        { WEB_PORTS("/UDP"), "dev/tool", "prod/web", "53/TCP", DENY },
        { WEB_PORTS("/SCTP"), "dev/tool", "prod/web", "7/SCTP", ALLOW },
        { WEB_PORTS("/SCTP"), "dev/tool", "prod/web", "7/TCP", DENY },
        /* endPort: an inclusive range. */
        { WEB_PORTS("8000-8080"), "dev/tool", "prod/web", "7999", DENY },
        { WEB_PORTS("8000-8080"), "dev/tool", "prod/web", "8000", ALLOW },
        { WEB_PORTS("8000-8080"), "dev/tool", "prod/web", "8042", ALLOW },
        { WEB_PORTS("8000-8080"), "dev/tool", "prod/web", "8080", ALLOW },
        { WEB_PORTS("8000-8080"), "dev/tool", "prod/web", "8081", DENY },
        { WEB_PORTS("8000-8080/UDP"), "dev/tool", "prod/web", "8000/TCP",
          DENY },
        { WEB_PORTS("8000-8080/UDP"), "dev/tool", "prod/web", "8080/UDP",
          ALLOW },
        { WEB_PORTS("65000-65535"), "dev/tool", "prod/web", "65535", ALLOW },
        { WEB_PORTS("1-1"), "dev/tool", "prod/web", "1", ALLOW },
        { WEB_PORTS("1-1"), "dev/tool", "prod/web", "2", DENY },
        /* Several ports: any of them. */
        { WEB_PORTS("80, 443"), "dev/tool", "prod/web", "443", ALLOW },
        { WEB_PORTS("80, 443"), "dev/tool", "prod/web", "8443", DENY },
        { WEB_PORTS("metrics, 80"), "dev/tool", "prod/web", "9090", ALLOW },
        { WEB_PORTS("metrics, 80"), "dev/tool", "prod/web", "80", ALLOW },
        { WEB_PORTS("metrics, 80"), "dev/tool", "prod/web", "443", DENY },
        /* Named ports resolve on the destination pod and must match the
         * rule's protocol. */
        { WEB_PORTS("http"), "dev/tool", "prod/web", "80/TCP", ALLOW },
        { WEB_PORTS("http"), "dev/tool", "prod/web", "81/TCP", DENY },
        { WEB_PORTS("http"), "dev/tool", "prod/web", "80/UDP", DENY },
        { WEB_PORTS("http/UDP"), "dev/tool", "prod/web", "80/UDP", DENY },
        { WEB_PORTS("http/UDP"), "dev/tool", "prod/web", "80/TCP", DENY },
        { WEB_PORTS("dns/UDP"), "dev/tool", "prod/web", "53/UDP", ALLOW },
        { WEB_PORTS("dns/UDP"), "dev/tool", "prod/web", "53/TCP", DENY },
        { WEB_PORTS("dns"), "dev/tool", "prod/web", "53/UDP", DENY },
        { WEB_PORTS("dns"), "dev/tool", "prod/web", "53/TCP", DENY },
        { WEB_PORTS("pg"), "dev/tool", "prod/web", "5432", DENY },
        /* Egress named ports also resolve on the destination: web's http is
         * 80, stage/web's 8080; the client's own http (8081) is irrelevant.
         */
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "prod/web", "80", ALLOW },
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "stage/web", "8080", ALLOW },
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "stage/web", "80", DENY },
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "stage/web", "8081", DENY },
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "prod/db", "80", DENY },
        /* No container ports outside the cluster: never a match. */
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "203.0.113.9", "80", DENY },
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "203.0.113.9", "8081", DENY },
        { "podSelector: app=client; egress: [{ports: [http, 443]}]",
          "prod/client", "203.0.113.9", "443", ALLOW },
    };
#undef WEB_PORTS

    return CONN_PARAMS(cases);
}

ParameterizedTest(struct conn_case *c, ports,
                  protocols_numbers_ranges_and_names)
{
    run_conn_case(c);
}

struct resolve_case {
    char pod[32];
    char name[16];
    bool proto_given;
    enum np_proto proto;
    int rc;
    uint16_t port;
    enum np_proto out_proto;
    char message[64];
};

ParameterizedTestParameters(ports, resolve_port_by_name)
{
    static struct resolve_case cases[] = {
        { "prod/web", "http", false, NP_PROTO_TCP, 0, 80, NP_PROTO_TCP, "" },
        { "prod/web", "http", true, NP_PROTO_TCP, 0, 80, NP_PROTO_TCP, "" },
        { "prod/web", "dns", false, NP_PROTO_TCP, 0, 53, NP_PROTO_UDP, "" },
        { "prod/web", "dns", true, NP_PROTO_UDP, 0, 53, NP_PROTO_UDP, "" },
        { "prod/web", "http", true, NP_PROTO_UDP, -1, 0, 0,
          "port \"http\" of pod prod/web is TCP, not UDP" },
        { "prod/web", "dns", true, NP_PROTO_TCP, -1, 0, 0, "is UDP, not TCP" },
        { "prod/web", "pg", false, NP_PROTO_TCP, -1, 0, 0,
          "pod prod/web has no container port named \"pg\"" },
        { "prod/web", "nowhere", false, NP_PROTO_TCP, -1, 0, 0,
          "has no container port named \"nowhere\"" },
        { "stage/web", "http", false, NP_PROTO_TCP, 0, 8080, NP_PROTO_TCP, "" },
        { "dev/tool", "http", false, NP_PROTO_TCP, -1, 0, 0,
          "pod dev/tool has no container port" },
    };

    return cr_make_param_array(struct resolve_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct resolve_case *c, ports, resolve_port_by_name)
{
    struct np_snapshot *s = base_with(NULL, NULL);
    struct np_endpoint ep = fx_endpoint(s, c->pod);
    enum np_proto proto = c->proto;
    uint16_t port = 0;
    struct np_error err;
    int rc;

    np_error_init(&err);
    rc = np_pod_resolve_port(s, ep.pod, c->name, c->proto_given, &proto, &port,
                             &err);
    cr_assert_eq(rc, c->rc, "%s %s: %s", c->pod, c->name, err.message);
    if (rc == 0) {
        cr_expect_eq(port, c->port);
        cr_expect_eq(proto, c->out_proto);
    } else {
        cr_expect_eq(err.code, NP_E_UNKNOWN_PORT_NAME);
        cr_expect(strstr(err.message, c->message) != NULL,
                  "message \"%s\" lacks \"%s\"", err.message, c->message);
    }
    np_snapshot_release(s);
}

/* --- ipBlock --- */

TestSuite(ipblock, .fini = fx_fini);

ParameterizedTestParameters(ipblock, cidr_and_except)
{
#define WEB_FROM(peers) "podSelector: app=web; ingress: [{from: [" peers "]}]"
    static struct conn_case cases[] = {
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "203.0.113.9", "prod/web", "80",
          DENY },
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "10.0.200.1", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "10.1.0.1", "prod/web", "80",
          DENY },
        /* Pods match by their IPs, by name or by address. */
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "stage/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "10.0.2.3", "prod/web", "80",
          ALLOW },
        /* except carves holes, edges included. */
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "10.0.1.255",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "10.0.2.0",
          "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "10.0.2.255",
          "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "10.0.3.0",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "stage/client",
          "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24)"), "dev/tool",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24 10.0.3.4/32)"),
          "dev/tool", "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(10.0.0.0/8 except 10.0.2.0/24 10.0.3.4/32)"),
          "dev/client", "prod/web", "80", ALLOW },
        /* IPv6. */
        { WEB_FROM("ipBlock(fd00::/96 except fd00::2:0/112)"), "fd00::3:99",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(fd00::/96 except fd00::2:0/112)"), "fd00::2:99",
          "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(fd00::/96 except fd00::2:0/112)"), "fd00::3:4",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(fd00::/96 except fd00::2:0/112)"), "fd00::2:3",
          "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(fd00::/96 except fd00::2:0/112)"), "2001:db8::1",
          "prod/web", "80", DENY },
        /* A dual-stack pod named by name matches by either address. */
        { WEB_FROM("ipBlock(fd00::/96)"), "stage/client", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ipBlock(fd00::/96)"), "10.0.2.3", "prod/web", "80", DENY },
        { WEB_FROM("ipBlock(fd00::/96)"), "dev/client", "prod/web", "80",
          DENY },
        /* Families never mix: /0 is one family's everything. */
        { WEB_FROM("ipBlock(0.0.0.0/0)"), "203.0.113.9", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ipBlock(0.0.0.0/0)"), "2001:db8::1", "prod/web", "80",
          DENY },
        { WEB_FROM("ipBlock(::/0)"), "2001:db8::1", "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(::/0)"), "203.0.113.9", "prod/web", "80", DENY },
        /* An IPv4-mapped IPv6 address is the IPv4 address. */
        { WEB_FROM("ipBlock(203.0.113.0/24)"), "::ffff:203.0.113.9", "prod/web",
          "80", ALLOW },
        /* ipblock_matches_pods=false: pods never match an ipBlock, outside
         * addresses still do. */
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "stage/client", "prod/web", "80",
          DENY_PODS_OFF },
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "10.0.2.3", "prod/web", "80",
          DENY_PODS_OFF },
        { WEB_FROM("ipBlock(10.0.0.0/16)"), "10.0.200.1", "prod/web", "80",
          ALLOW_PODS_OFF },
        /* A finished pod no longer owns its address: it is an outside
         * address, which a pod selector does not match and ipBlock does. */
        { WEB_FROM("ipBlock(10.0.2.0/24)"), "10.0.2.50", "prod/web", "80",
          ALLOW_PODS_OFF },
        { WEB_FROM("ns(team=b) pod(app=client)"), "10.0.2.50", "prod/web", "80",
          DENY },
        /* Egress to ipBlock. */
        { "podSelector: app=client; egress: [{to: [ipBlock(203.0.113.0/24)]}]",
          "prod/client", "203.0.113.9", "443", ALLOW },
        { "podSelector: app=client; egress: [{to: [ipBlock(203.0.113.0/24)]}]",
          "prod/client", "198.51.100.1", "443", DENY },
        { "podSelector: app=client; egress: [{to: [ipBlock(203.0.113.0/24)]}]",
          "prod/client", "prod/web", "80", DENY },
        { "podSelector: app=client; egress: [{to: [ipBlock(10.0.1.1/32)]}]",
          "prod/client", "prod/web", "80", ALLOW },
        { "podSelector: app=client; egress: [{to: [ipBlock(10.0.1.1/32)]}]",
          "prod/client", "prod/web", "80", DENY_PODS_OFF },
    };
#undef WEB_FROM

    return CONN_PARAMS(cases);
}

ParameterizedTest(struct conn_case *c, ipblock, cidr_and_except)
{
    run_conn_case(c);
}

Test(ipblock, an_address_of_a_running_pod_is_that_pod)
{
    struct np_snapshot *s = base_with(NULL, NULL);
    struct np_endpoint ep;
    struct np_ip ip;

    cr_assert_eq(np_ip_parse("fd00::2:3", &ip, NULL), 0);
    np_endpoint_from_ip(s, &ip, &ep);
    cr_assert_not_null(ep.pod);
    cr_assert_str_eq(ep.pod->name, "client");
    cr_assert_str_eq(s->namespaces[ep.pod->ns].name, "stage");
    cr_assert(ep.has_ip);
    cr_assert(np_ip_equal(&ep.ip, &ip));
    /* Finished pods and hostNetwork pods are not found by address. */
    cr_assert_eq(np_ip_parse("10.0.2.50", &ip, NULL), 0);
    np_endpoint_from_ip(s, &ip, &ep);
    cr_assert_null(ep.pod);
    cr_assert(ep.has_ip);
    cr_assert_eq(np_ip_parse("192.168.0.5", &ip, NULL), 0);
    cr_assert_null(np_snapshot_find_pod_by_ip(s, &ip));
    cr_assert_eq(np_ip_parse("10.9.9.9", &ip, NULL), 0);
    cr_assert_null(np_snapshot_find_pod_by_ip(s, &ip));
    np_snapshot_release(s);
}

Test(ipblock, a_finished_pods_address_goes_to_the_pod_that_reuses_it)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    struct np_ip ip;
    const struct np_pod *p;

    fx_pod_spec(b, "a/old", "labels: app=old; ips: 10.0.0.7; phase: Failed");
    fx_pod_spec(b, "a/done",
                "labels: app=done; ips: 10.0.0.8; phase: "
                "Succeeded");
    fx_pod_spec(b, "b/new", "labels: app=new; ips: 10.0.0.7; phase: Running");
    fx_pod(b, "b/srv", "app=srv", "10.0.0.9");
    fx_policy(b, "b/p",
              "podSelector: {}; ingress: [{from: [ns({}) pod(app=old)]}]");
    s = fx_build(b);
    cr_assert_eq(np_ip_parse("10.0.0.7", &ip, NULL), 0);
    p = np_snapshot_find_pod_by_ip(s, &ip);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->name, "new");
    cr_assert_eq(np_ip_parse("10.0.0.8", &ip, NULL), 0);
    cr_assert_null(np_snapshot_find_pod_by_ip(s, &ip));
    /* 10.0.0.7 is new, not old, so b/p does not admit it. */
    cr_assert_not(fx_allowed(s, "10.0.0.7", "b/srv", "80"));
    cr_assert(fx_allowed(s, "a/old", "b/srv", "80"));
    np_snapshot_release(s);
}

/* --- hostNetwork pods --- */

TestSuite(hostnet, .fini = fx_fini);

ParameterizedTestParameters(hostnet, selectors_never_match_ipblock_does)
{
#define WEB_FROM(peers) "podSelector: app=web; ingress: [{from: [" peers "]}]"
    static struct conn_case cases[] = {
        { WEB_FROM("ns({})"), "kube-system/agent", "prod/web", "80", DENY },
        { WEB_FROM("ns({}) pod({})"), "kube-system/agent", "prod/web", "80",
          DENY },
        { WEB_FROM("ns(kubernetes.io/metadata.name=kube-system) "
                   "pod(app=agent)"),
          "kube-system/agent", "prod/web", "80", DENY },
        /* ipBlock matches by status.hostIP. */
        { WEB_FROM("ipBlock(192.168.0.0/24)"), "kube-system/agent", "prod/web",
          "80", ALLOW },
        { WEB_FROM("ipBlock(192.168.0.0/24)"), "kube-system/agent-noip",
          "prod/web", "80", ALLOW },
        { WEB_FROM("ipBlock(192.168.0.6/32)"), "kube-system/agent", "prod/web",
          "80", DENY },
        { WEB_FROM("ipBlock(0.0.0.0/0)"), "kube-system/agent-nowhere",
          "prod/web", "80", DENY },
        /* Even with ipblock_matches_pods=false: the node's address is not a
         * pod IP. */
        { WEB_FROM("ipBlock(192.168.0.0/24)"), "kube-system/agent", "prod/web",
          "80", ALLOW_PODS_OFF },
        /* By address a hostNetwork pod is an outside address. */
        { WEB_FROM("ipBlock(192.168.0.0/24)"), "192.168.0.5", "prod/web", "80",
          ALLOW },
        { WEB_FROM("ns({})"), "192.168.0.5", "prod/web", "80", DENY },
        /* Egress from a selected pod to a hostNetwork pod. */
        { "podSelector: app=client; egress: [{to: [ns({})]}]", "prod/client",
          "kube-system/agent", "80", DENY },
        { "podSelector: app=client; egress: [{to: [ipBlock(192.168.0.5/32)]}]",
          "prod/client", "kube-system/agent", "80", ALLOW },
        /* Named ports cannot be resolved on a hostNetwork destination. */
        { "podSelector: app=client; egress: [{ports: [http]}]", "prod/client",
          "kube-system/agent", "80", DENY },
    };
#undef WEB_FROM

    return CONN_PARAMS(cases);
}

ParameterizedTest(struct conn_case *c, hostnet,
                  selectors_never_match_ipblock_does)
{
    run_conn_case(c);
}

Test(hostnet, policies_do_not_select_host_network_pods)
{
    struct np_builder *b = base_builder();
    struct np_snapshot *s;
    const struct np_pod *agent;
    const struct np_policy *p;
    struct np_isolation iso;
    struct np_verdict v;

    fx_policy(b, "kube-system/deny-all",
              "podSelector: {}; policyTypes: [Ingress, Egress]");
    s = fx_build(b);
    agent = np_snapshot_find_pod(s, "kube-system", "agent");
    p = np_snapshot_find_policy(s, "kube-system", "deny-all");
    cr_assert_eq(p->nselected, 0);
    cr_assert_eq(agent->nselected_by, 0);
    np_pod_isolation(s, agent, &iso);
    cr_assert_not(iso.isolated[NP_DIR_INGRESS]);
    cr_assert_not(iso.isolated[NP_DIR_EGRESS]);
    cr_assert(fx_eval(s, NULL, "dev/tool", "kube-system/agent", "80", &v));
    cr_assert_eq(v.ingress.why, NP_WHY_HOST_NETWORK);
    cr_assert(fx_eval(s, NULL, "kube-system/agent", "dev/tool", "80", &v));
    cr_assert_eq(v.egress.why, NP_WHY_HOST_NETWORK);
    np_snapshot_release(s);
}

/* --- a pod talking to itself --- */

TestSuite(self, .fini = fx_fini);

Test(self, always_allowed_even_under_default_deny)
{
    struct np_snapshot *s = base_with(
        "prod/deny-all", "podSelector: {}; policyTypes: [Ingress, Egress]");
    struct np_verdict v;

    cr_assert(fx_eval(s, NULL, "prod/web", "prod/web", "80", &v));
    cr_assert(v.self);
    cr_assert_eq(v.egress.why, NP_WHY_SELF);
    cr_assert_eq(v.ingress.why, NP_WHY_SELF);
    cr_assert(v.egress.isolated && v.ingress.isolated);
    cr_assert(v.egress.allowed && v.ingress.allowed);
    /* The trace still shows the policy that would deny another pod. */
    cr_assert_not_null(fx_side_policy(&v.ingress, "deny-all"));
    /* By address too. */
    cr_assert(fx_eval(s, NULL, "10.0.1.1", "prod/web", "443", &v));
    cr_assert(v.self);
    cr_assert(fx_eval(s, NULL, "fd00::1:1", "10.0.1.1", "443", &v));
    cr_assert(v.self);
    /* Another pod of the namespace is denied. */
    cr_assert_not(fx_eval(s, NULL, "prod/db", "prod/web", "80", &v));
    cr_assert_not(v.self);
    np_snapshot_release(s);
}

Test(self, not_isolated_self_traffic_says_self)
{
    struct np_snapshot *s = base_with(NULL, NULL);
    struct np_verdict v;

    cr_assert(fx_eval(s, NULL, "dev/tool", "dev/tool", "80", &v));
    cr_assert(v.self);
    cr_assert_eq(v.egress.why, NP_WHY_SELF);
    cr_assert_eq(v.ingress.why, NP_WHY_SELF);
    np_snapshot_release(s);
}

/* --- traces --- */

TestSuite(trace, .fini = fx_fini);

static struct np_snapshot *
teams_cluster(const char *policy)
{
    struct np_builder *b = fx_builder();

    fx_ns(b, "test-a", "team=ateam");
    fx_ns(b, "test-b", "team=bteam");
    fx_pod_ports(b, "test-a/server-pod", "app=test-server", "10.0.1.10",
                 "http:80/TCP");
    fx_pod(b, "test-a/other-pod", "app=other", "10.0.1.11");
    fx_pod(b, "test-b/client-pod", "app=test-client", "10.0.2.20");
    fx_policy(b, "test-a/under-test", policy);
    return fx_build(b);
}

struct reason_case {
    char policy[240];
    char from[40];
    char to[40];
    char port[16];
    bool on_egress;
    char text[120];
};

ParameterizedTestParameters(trace, reasons_name_what_failed)
{
    static struct reason_case cases[] = {
        { "podSelector: {}; ingress: [{from: [ns(team=ateam)]}]",
          "test-b/client-pod", "test-a/server-pod", "80", false,
          "namespace test-b does not match namespaceSelector team=ateam" },
        { "podSelector: {}; ingress: [{from: [ns(team in (ateam,cteam))]}]",
          "test-b/client-pod", "test-a/server-pod", "80", false,
          "(fails team in (ateam,cteam))" },
        { "podSelector: {}; ingress: [{from: [ns({}) pod(app=test-client, "
          "tier=fe)]}]",
          "test-a/other-pod", "test-a/server-pod", "80", false,
          "pod test-a/other-pod does not match podSelector "
          "app=test-client,tier=fe (fails app=test-client)" },
        { "podSelector: {}; ingress: [{from: [pod(app=test-client)]}]",
          "test-b/client-pod", "test-a/server-pod", "80", false,
          "selects only pods in the policy's namespace test-a" },
        { "podSelector: {}; ingress: [{ports: [80]}]", "test-b/client-pod",
          "test-a/server-pod", "443", false, "443/TCP is not 80/TCP" },
        { "podSelector: {}; ingress: [{ports: [8000-8080]}]",
          "test-b/client-pod", "test-a/server-pod", "443", false,
          "443/TCP is not 8000-8080/TCP" },
        { "podSelector: {}; ingress: [{ports: [80/UDP]}]", "test-b/client-pod",
          "test-a/server-pod", "80", false, "protocol TCP is not UDP" },
        { "podSelector: {}; ingress: [{ports: [http]}]", "test-b/client-pod",
          "test-a/server-pod", "8080", false,
          "port http on test-a/server-pod "
          "is 80/TCP, not 8080" },
        { "podSelector: {}; ingress: [{ports: [metrics]}]", "test-b/client-pod",
          "test-a/server-pod", "80", false,
          "has no TCP container port named metrics" },
        { "podSelector: {}; egress: [{ports: [http]}]", "test-a/other-pod",
          "203.0.113.9", "80", true, "named port http cannot be resolved" },
        { "podSelector: {}; policyTypes: [Ingress]", "test-b/client-pod",
          "test-a/server-pod", "80", false, "no ingress rules" },
        { "podSelector: {}; policyTypes: [Egress]", "test-a/other-pod",
          "test-b/client-pod", "80", true, "no egress rules" },
        { "podSelector: {}; ingress: [{from: [ipBlock(10.0.0.0/8 except "
          "10.0.2.0/24)]}]",
          "test-b/client-pod", "test-a/server-pod", "80", false,
          "10.0.2.20 is in 10.0.0.0/8 but excluded by except 10.0.2.0/24" },
        { "podSelector: {}; ingress: [{from: [ipBlock(192.168.0.0/16)]}]",
          "203.0.113.9", "test-a/server-pod", "80", false,
          "203.0.113.9 is not in 192.168.0.0/16" },
        { "podSelector: {}; ingress: [{from: [pod({})]}]", "203.0.113.9",
          "test-a/server-pod", "80", false,
          "203.0.113.9 is outside the cluster" },
        { "podSelector: {}; ingress: [{from: [ns(team=ateam)]}]",
          "test-b/client-pod", "test-a/server-pod", "80", false,
          "pod test-a/server-pod is isolated for ingress by 1 policy" },
    };

    return cr_make_param_array(struct reason_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct reason_case *c, trace, reasons_name_what_failed)
{
    struct np_snapshot *s = teams_cluster(c->policy);
    struct np_verdict v;
    const struct np_side *side;

    cr_assert_not(fx_eval(s, NULL, c->from, c->to, c->port, &v),
                  "{%s} should deny", c->policy);
    side = c->on_egress ? &v.egress : &v.ingress;
    cr_assert_eq(side->why, NP_WHY_NO_RULE_MATCHES);
    cr_expect(fx_side_mentions(side, c->text), "no reason mentions \"%s\":\n%s",
              c->text, fx_side_dump(side));
    np_snapshot_release(s);
}

Test(trace, ipblock_reason_names_the_option_that_turned_pods_off)
{
    struct np_snapshot *s = teams_cluster(
        "podSelector: {}; ingress: [{from: [ipBlock(10.0.0.0/8)]}]");
    struct np_eval_opts off = { .ipblock_matches_pods = false };
    struct np_verdict v;

    cr_assert_not(
        fx_eval(s, &off, "test-b/client-pod", "test-a/server-pod", "80", &v));
    cr_assert(fx_side_mentions(&v.ingress, "ipblock-matches-pods=false"), "%s",
              fx_side_dump(&v.ingress));
    cr_assert(
        fx_eval(s, NULL, "test-b/client-pod", "test-a/server-pod", "80", &v));
    cr_assert(fx_side_mentions(&v.ingress, "10.0.2.20 is in ipBlock "
                                           "10.0.0.0/8"),
              "%s", fx_side_dump(&v.ingress));
    np_snapshot_release(s);
}

Test(trace, allowed_by_points_at_the_matching_rule_peer_and_port)
{
    struct np_snapshot *s = teams_cluster(
        "podSelector: app=test-server; ingress: ["
        "{from: [pod(app=other)], ports: [80]}, "
        "{from: [pod(app=nobody), ns(team=bteam) pod(app=test-client)], "
        " ports: [443, 8000-8080, http]}]");
    struct np_verdict v;
    const struct np_policy_result *pr;
    const struct np_rule_result *rr;
    const struct np_rule_ref *ref;

    cr_assert(
        fx_eval(s, NULL, "test-b/client-pod", "test-a/server-pod", "80", &v));
    cr_assert_eq(v.ingress.why, NP_WHY_ALLOWED_BY_RULE);
    cr_assert_eq(v.ingress.npolicies, 1);
    cr_assert_eq(v.ingress.nallowed_by, 1);
    ref = &v.ingress.allowed_by[0];
    cr_assert_eq(ref->policy, 0);
    cr_assert_eq(ref->rule, 1);
    cr_assert_eq(ref->peer, 1);
    cr_assert_eq(ref->port, 2, "80 is the port named http, ports[2]");
    pr = fx_side_policy(&v.ingress, "under-test");
    cr_assert_not_null(pr);
    cr_assert(pr->allowed);
    cr_assert_eq(pr->nrules, 2);
    rr = &pr->rules[0];
    cr_assert_not(rr->matched);
    cr_assert_not(rr->peer_ok);
    cr_assert(rr->port_ok);
    cr_assert_eq(rr->peer, -1);
    cr_assert_eq(rr->port, 0);
    rr = &pr->rules[1];
    cr_assert(rr->matched);
    cr_assert_eq(rr->npeers, 2);
    cr_assert_not(rr->peers[0].matched);
    cr_assert(rr->peers[1].matched);
    cr_assert_eq(rr->nports, 3);
    cr_assert_not(rr->ports[0].matched);
    cr_assert_not(rr->ports[1].matched);
    cr_assert(rr->ports[2].matched);
    cr_assert(strstr(rr->ports[2].reason,
                     "80/TCP is the port named http on test-a/server-pod") !=
                  NULL,
              "%s", rr->ports[2].reason);
    cr_assert(strstr(v.ingress.reason, "test-a/under-test spec.ingress[1]") !=
                  NULL,
              "%s", v.ingress.reason);
    np_snapshot_release(s);
    /* A rule without peers or ports has -1 for both. */
    s = teams_cluster("podSelector: {}; ingress: [{}]");
    cr_assert(
        fx_eval(s, NULL, "test-b/client-pod", "test-a/server-pod", "80", &v));
    cr_assert_eq(v.ingress.nallowed_by, 1);
    cr_assert_eq(v.ingress.allowed_by[0].peer, -1);
    cr_assert_eq(v.ingress.allowed_by[0].port, -1);
    cr_assert(fx_side_mentions(&v.ingress, "every peer (no from list)"));
    np_snapshot_release(s);
}

Test(trace, not_isolated_and_external_sides_explain_themselves)
{
    struct np_snapshot *s = teams_cluster("podSelector: app=nobody");
    struct np_verdict v;

    cr_assert(fx_eval(s, NULL, "203.0.113.9", "test-a/server-pod", "80", &v));
    cr_assert_eq(v.egress.why, NP_WHY_EXTERNAL);
    cr_assert_eq(v.ingress.why, NP_WHY_NOT_ISOLATED);
    cr_assert_not(v.ingress.isolated);
    cr_assert_eq(v.ingress.npolicies, 0);
    cr_assert(strstr(v.ingress.reason, "not isolated for ingress") != NULL,
              "%s", v.ingress.reason);
    cr_assert(strstr(v.egress.reason, "outside the cluster") != NULL, "%s",
              v.egress.reason);
    cr_assert_str_eq(np_side_why_name(NP_WHY_NO_RULE_MATCHES),
                     "no_rule_matches");
    cr_assert_str_eq(np_side_why_name(NP_WHY_SELF), "self");
    np_snapshot_release(s);
}
