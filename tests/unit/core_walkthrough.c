/*
 * The walkthrough of the README, step by step on the core library: two
 * namespaces, a server in test-a and a client in test-b, and the verdict for
 * client -> server on 80/TCP as policies are added one at a time. Each step
 * rebuilds the cluster from scratch with the policies of the steps so far,
 * so a step's verdict depends on nothing but its manifests.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "core/builder.h"
#include "core/eval.h"
#include "core/snapshot.h"
#include "tests/support/fixtures.h"

TestSuite(walkthrough, .fini = fx_fini);

struct wt_policy {
    const char *ref;
    const char *spec;
};

static const struct wt_policy steps[] = {
    { "test-a/default-deny-ingress",
      "podSelector: {}; policyTypes: [Ingress]" },
    { "test-a/allow-test-client",
      "podSelector: app=test-server; "
      "ingress: [{from: [ns(team=bteam) pod(app=test-client)], "
      "           ports: [80/TCP]}]" },
    { "test-b/default-deny-egress", "podSelector: {}; policyTypes: [Egress]" },
    { "test-b/allow-egress-to-ateam",
      "podSelector: {}; policyTypes: [Egress]; "
      "egress: [{to: [ns(team=ateam)], ports: [80/TCP]}]" },
};

/* The cluster with the first npolicies policies of the walkthrough. */
static struct np_snapshot *
cluster(size_t npolicies)
{
    struct np_builder *b = fx_builder();
    size_t i;

    fx_ns(b, "test-a", "team=ateam");
    fx_ns(b, "test-b", "team=bteam");
    fx_pod_ports(b, "test-a/server-pod", "app=test-server", "10.0.1.10",
                 "http:80/TCP");
    fx_pod(b, "test-b/client-pod", "app=test-client", "10.0.2.20");
    for (i = 0; i < npolicies; i++)
        fx_policy(b, steps[i].ref, steps[i].spec);
    return fx_build(b);
}

struct step_case {
    int npolicies;
    bool allowed;
    enum np_side_why egress, ingress;
    bool on_egress;      /* decided_by is on the client's egress side */
    char decided_by[64]; /* a policy in that side's trace */
};

ParameterizedTestParameters(walkthrough, steps)
{
    static struct step_case cases[] = {
        /* No policies: nothing is isolated. */
        { 0, true, NP_WHY_NOT_ISOLATED, NP_WHY_NOT_ISOLATED, false, "" },
        /* default-deny-ingress isolates server-pod and allows nothing. */
        { 1, false, NP_WHY_NOT_ISOLATED, NP_WHY_NO_RULE_MATCHES, false,
          "default-deny-ingress" },
        /* The allow policy adds to the deny: union of allows. */
        { 2, true, NP_WHY_NOT_ISOLATED, NP_WHY_ALLOWED_BY_RULE, false,
          "allow-test-client" },
        /* The client side now denies although the server admits. */
        { 3, false, NP_WHY_NO_RULE_MATCHES, NP_WHY_ALLOWED_BY_RULE, true,
          "default-deny-egress" },
        { 4, true, NP_WHY_ALLOWED_BY_RULE, NP_WHY_ALLOWED_BY_RULE, true,
          "allow-egress-to-ateam" },
    };

    return cr_make_param_array(struct step_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct step_case *c, walkthrough, steps)
{
    struct np_snapshot *s = cluster((size_t)c->npolicies);
    struct np_verdict v;

    cr_assert_eq(fx_eval(s, NULL, "test-b/client-pod", "test-a/server-pod",
                         "80/TCP", &v),
                 c->allowed, "step %d", c->npolicies);
    cr_assert_eq(v.egress.why, c->egress, "step %d egress: %s", c->npolicies,
                 v.egress.reason);
    cr_assert_eq(v.ingress.why, c->ingress, "step %d ingress: %s", c->npolicies,
                 v.ingress.reason);
    if (c->decided_by[0] != '\0') {
        const struct np_side *side = c->on_egress ? &v.egress : &v.ingress;

        cr_assert_not_null(fx_side_policy(side, c->decided_by),
                           "step %d: %s not in the trace\n%s", c->npolicies,
                           c->decided_by, fx_side_dump(side));
    }
    /* The query by the port's name gives the same answer. */
    cr_assert_eq(
        fx_allowed(s, "test-b/client-pod", "test-a/server-pod", "http"),
        c->allowed);
    np_snapshot_release(s);
}

Test(walkthrough, allowed_by_names_the_rule_and_peer_that_admit_the_client)
{
    struct np_snapshot *s = cluster(4);
    struct np_verdict v;
    const struct np_rule_ref *r;

    cr_assert(
        fx_eval(s, NULL, "test-b/client-pod", "test-a/server-pod", "80", &v));
    cr_assert_eq(v.ingress.nallowed_by, 1);
    r = &v.ingress.allowed_by[0];
    cr_assert_str_eq(v.ingress.policies[r->policy].policy->name,
                     "allow-test-client");
    cr_assert_eq(r->rule, 0);
    cr_assert_eq(r->peer, 0);
    cr_assert_eq(r->port, 0);
    cr_assert_eq(v.egress.nallowed_by, 1);
    r = &v.egress.allowed_by[0];
    cr_assert_str_eq(v.egress.policies[r->policy].policy->name,
                     "allow-egress-to-ateam");
    np_snapshot_release(s);
}

Test(walkthrough, final_step_still_denies_other_ports_and_directions)
{
    struct np_snapshot *s = cluster(4);

    cr_assert_not(
        fx_allowed(s, "test-b/client-pod", "test-a/server-pod", "443/TCP"));
    cr_assert_not(
        fx_allowed(s, "test-b/client-pod", "test-a/server-pod", "80/UDP"));
    /* The server's egress is not isolated, but the client's ingress is not
     * isolated either: only test-b's egress and test-a's ingress are. */
    cr_assert(
        fx_allowed(s, "test-a/server-pod", "test-b/client-pod", "8080/TCP"));
    /* By address: 10.0.2.20 is the client. */
    cr_assert(fx_allowed(s, "10.0.2.20", "10.0.1.10", "80/TCP"));
    cr_assert_not(fx_allowed(s, "10.0.2.20", "10.0.1.10", "81/TCP"));
    np_snapshot_release(s);
}
