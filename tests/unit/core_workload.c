/*
 * Workloads in core: the builder's validation of the seven kinds, their
 * compilation into template pods (sorted, per namespace, found by kind and
 * name), the policies that select them, verdicts with a workload on either
 * end (isolation by a policy whose podSelector matches the template, peers
 * matching template labels, named ports on the template's container ports, no
 * address for ipBlock peers), the traces that name them, and the links from
 * pods to the workloads that own them.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/builder.h"
#include "core/eval.h"
#include "core/snapshot.h"
#include "core/workload.h"
#include "tests/support/fixtures.h"

/* --- fixtures --- */

/* A workload model: ref is "ns/Kind/name", spec the clauses of fx_pod_spec
 * ("labels: ...; ports: ...; hostNetwork") for its template. */
static struct np_model_workload *
wl_model(const char *ref, const char *spec)
{
    struct np_model_workload *w = np_arena_alloc(fx_arena(), sizeof(*w));
    char ns[64], kind[64];
    const char *name;
    const char *s1 = strchr(ref, '/');
    const char *s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
    struct np_model_pod *tmpl;

    cr_assert_not_null(w);
    cr_assert(s1 != NULL && s2 != NULL, "fixture: \"%s\" is not ns/Kind/name",
              ref);
    snprintf(ns, sizeof(ns), "%.*s", (int)(s1 - ref), ref);
    snprintf(kind, sizeof(kind), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    name = s2 + 1;
    tmpl = fx_pod_model("x/x", spec);
    memset(w, 0, sizeof(*w));
    w->namespace_ = np_arena_strdup(fx_arena(), ns);
    w->kind = np_arena_strdup(fx_arena(), kind);
    w->name = np_arena_strdup(fx_arena(), name);
    w->nlabels = tmpl->nlabels;
    w->labels = tmpl->labels;
    w->nports = tmpl->nports;
    w->ports = tmpl->ports;
    w->host_network = tmpl->host_network;
    return w;
}

/* owner is "Kind/name" or NULL; the model gets one owner reference. */
static void
set_owner(const struct np_model_owner **owners, size_t *nowners,
          const char *owner)
{
    struct np_model_owner *o;
    const char *slash;

    if (owner == NULL)
        return;
    o = np_arena_alloc(fx_arena(), sizeof(*o));
    slash = strchr(owner, '/');
    cr_assert(o != NULL && slash != NULL);
    o->kind = np_arena_strndup(fx_arena(), owner, (size_t)(slash - owner));
    o->name = np_arena_strdup(fx_arena(), slash + 1);
    *owners = o;
    *nowners = 1;
}

static void
wl_add_owned(struct np_builder *b, const char *ref, const char *spec,
             const char *owner)
{
    struct np_model_workload *w = wl_model(ref, spec);
    struct np_error err;

    set_owner(&w->owners, &w->nowners, owner);
    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(b, w, &err), 0,
                 "fixture: workload %s refused: %s: %s (%s)", ref,
                 np_errc_name(err.code), err.message, err.path);
}

static void
wl_add(struct np_builder *b, const char *ref, const char *spec)
{
    wl_add_owned(b, ref, spec, NULL);
}

static void
pod_owned(struct np_builder *b, const char *ref, const char *spec,
          const char *owner)
{
    struct np_model_pod *p = fx_pod_model(ref, spec);
    struct np_error err;

    set_owner(&p->owners, &p->nowners, owner);
    np_error_init(&err);
    cr_assert_eq(np_builder_add_pod(b, p, &err), 0, "fixture: pod %s: %s", ref,
                 err.message);
}

/* "ns/Kind/name" is a workload, "ns/name" a pod, anything else an address. */
static struct np_endpoint
endpoint(const struct np_snapshot *s, const char *who)
{
    const char *s1 = strchr(who, '/');
    const char *s2 = s1 != NULL ? strchr(s1 + 1, '/') : NULL;
    struct np_endpoint ep;
    char ns[64], kind[64];

    if (s2 == NULL)
        return fx_endpoint(s, who);
    memset(&ep, 0, sizeof(ep));
    snprintf(ns, sizeof(ns), "%.*s", (int)(s1 - who), who);
    snprintf(kind, sizeof(kind), "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    ep.pod = np_snapshot_find_workload(s, ns, kind, s2 + 1);
    cr_assert_not_null(ep.pod, "fixture: no workload %s", who);
    return ep;
}

/* Evaluates from -> to on port ("80", "53/UDP" or a port name of the
 * destination) on the fast path, each side, and with a trace, asserts they
 * agree and returns the verdict; out (may be NULL) gets the trace. */
static bool
eval(const struct np_snapshot *s, const char *from, const char *to,
     const char *port, struct np_verdict *out)
{
    struct np_query q;
    struct np_verdict v;
    struct np_error err;
    bool fast;

    memset(&q, 0, sizeof(q));
    q.from = endpoint(s, from);
    q.to = endpoint(s, to);
    q.proto = NP_PROTO_TCP;
    np_error_init(&err);
    if (port[0] >= '0' && port[0] <= '9') {
        q.port = (uint16_t)atoi(port);
        if (strstr(port, "/UDP") != NULL)
            q.proto = NP_PROTO_UDP;
    } else {
        cr_assert_not_null(q.to.pod);
        cr_assert_eq(np_pod_resolve_port(s, q.to.pod, port, false, &q.proto,
                                         &q.port, &err),
                     0, "%s", err.message);
    }
    fast = np_eval_allowed(s, &fx_opts, &q);
    cr_assert_eq(np_eval_trace(s, &fx_opts, &q, fx_arena(), &v, &err), 0);
    cr_assert_eq(v.allowed, fast, "%s -> %s: trace and fast path disagree",
                 from, to);
    cr_assert_eq(v.egress.allowed,
                 np_eval_side_allowed(s, &fx_opts, &q, NP_DIR_EGRESS));
    cr_assert_eq(v.ingress.allowed,
                 np_eval_side_allowed(s, &fx_opts, &q, NP_DIR_INGRESS));
    cr_assert_eq(fast, v.egress.allowed && v.ingress.allowed,
                 "%s -> %s: a workload is never self traffic", from, to);
    if (out != NULL)
        *out = v;
    return fast;
}

static const char *
policy_name(const struct np_snapshot *s, uint32_t id)
{
    return s->policies[id].name;
}

/* --- builder: validation --- */

TestSuite(workload_builder, .fini = fx_fini);

Test(workload_builder, every_workload_kind_is_accepted)
{
    struct np_builder *b = fx_builder();
    const char *const *k;
    struct np_snapshot *s;
    char ref[96];

    for (k = np_workload_kinds; *k != NULL; k++) {
        snprintf(ref, sizeof(ref), "shop/%s/w", *k);
        wl_add(b, ref, "labels: app=w");
    }
    cr_assert_eq(np_builder_count(b, NP_KIND_WORKLOAD), 7);
    s = fx_build(b);
    cr_assert_eq(s->nworkloads, 7);
    cr_assert_eq(s->npods, 0, "workloads are not pods");
    for (k = np_workload_kinds; *k != NULL; k++)
        cr_assert_not_null(np_snapshot_find_workload(s, "shop", *k, "w"),
                           "%s/w", *k);
    np_snapshot_release(s);
}

struct bad_case {
    char ref[96];
    char spec[96];
    enum np_errc code;
    char path[96];
};

static struct bad_case bad_cases[] = {
    { .ref = "shop/deployment/web",
      .spec = "labels: app=web",
      .code = NP_E_INVALID_VALUE,
      .path = "kind" },
    { .ref = "shop/Pod/web",
      .spec = "labels: app=web",
      .code = NP_E_INVALID_VALUE,
      .path = "kind" },
    { .ref = "shop/DEPLOYMENT/web",
      .spec = "",
      .code = NP_E_INVALID_VALUE,
      .path = "kind" },
    { .ref = "shop/Deployment/Web",
      .spec = "",
      .code = NP_E_INVALID_NAME,
      .path = "metadata.name" },
    { .ref = "Shop/Deployment/web",
      .spec = "",
      .code = NP_E_INVALID_NAME,
      .path = "metadata.namespace" },
    { .ref = "shop/Deployment/web",
      .spec = "labels: app=bad value",
      .code = NP_E_INVALID_LABEL,
      .path = "spec.template.metadata.labels.app" },
    { .ref = "shop/CronJob/nightly",
      .spec = "labels: -app=x",
      .code = NP_E_INVALID_LABEL,
      .path = "spec.jobTemplate.spec.template.metadata.labels" },
    { .ref = "shop/StatefulSet/db",
      .spec = "ports: 70000",
      .code = NP_E_INVALID_PORT,
      .path = "spec.template.spec.containers[*].ports[0].containerPort" },
    { .ref = "shop/DaemonSet/agent",
      .spec = "ports: Bad_Name:80",
      .code = NP_E_INVALID_PORT,
      .path = "spec.template.spec.containers[*].ports[0].name" },
    { .ref = "shop/Job/migrate",
      .spec = "ports: 80/ICMP",
      .code = NP_E_INVALID_PROTOCOL,
      .path = "spec.template.spec.containers[*].ports[0].protocol" },
    /* 53 characters: a CronJob name has at most 52. */
    { .ref = "shop/CronJob/"
             "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij",
      .spec = "",
      .code = NP_E_INVALID_NAME,
      .path = "metadata.name" },
};

ParameterizedTestParameters(workload_builder, bad_workloads_are_refused)
{
    return cr_make_param_array(struct bad_case, bad_cases,
                               sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_case *c, workload_builder,
                  bad_workloads_are_refused, .fini = fx_fini)
{
    struct np_builder *b = fx_builder();
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(b, wl_model(c->ref, c->spec), &err),
                 -1, "%s {%s} was accepted", c->ref, c->spec);
    cr_expect_eq(err.code, c->code, "%s: got %s: %s", c->ref,
                 np_errc_name(err.code), err.message);
    cr_expect_str_eq(err.path, c->path, "%s: %s", c->ref, err.message);
    cr_expect_eq(np_builder_count(b, NP_KIND_WORKLOAD), 0);
    np_builder_free(b);
}

Test(workload_builder, a_cronjob_name_of_52_characters_is_accepted)
{
    struct np_builder *b = fx_builder();

    wl_add(b, "shop/CronJob/abcdefghij-abcdefghij-abcdefghij-abcdefghij-a", "");
    np_builder_free(b);
}

Test(workload_builder,
     a_job_name_longer_than_a_label_value_needs_a_manual_selector)
{
    static const char name[] = "j123456789-j123456789-j123456789-j123456789-"
                               "j123456789-j123456789";
    struct np_builder *b = fx_builder();
    struct np_model_workload *w;
    struct np_error err;
    char ref[128];

    snprintf(ref, sizeof(ref), "shop/Job/%s", name);
    w = wl_model(ref, "labels: app=batch");
    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(b, w, &err), -1);
    cr_expect_eq(err.code, NP_E_INVALID_NAME, "%s", err.message);
    w->manual_selector = true;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(b, w, &err), 0, "%s", err.message);
    /* A Deployment may have such a name: it is a DNS subdomain. */
    snprintf(ref, sizeof(ref), "shop/Deployment/%s", name);
    wl_add(b, ref, "");
    np_builder_free(b);
}

Test(workload_builder, kind_and_name_identify_a_workload)
{
    struct np_builder *b = fx_builder();
    struct np_error err;

    wl_add(b, "shop/Deployment/web", "labels: app=web");
    wl_add(b, "shop/StatefulSet/web", "labels: app=web");
    wl_add(b, "other/Deployment/web", "labels: app=web");
    np_error_init(&err);
    cr_assert_eq(
        np_builder_add_workload(b, wl_model("shop/Deployment/web", ""), &err),
        -1);
    cr_expect_eq(err.code, NP_E_DUPLICATE_OBJECT);
    cr_expect(strstr(err.message, "shop/Deployment/web") != NULL, "%s",
              err.message);
    cr_expect_eq(np_builder_count(b, NP_KIND_WORKLOAD), 3);
    np_builder_free(b);
}

Test(workload_builder, duplicate_template_port_names_warn)
{
    struct np_builder *b = fx_builder();

    wl_add(b, "shop/Deployment/web", "ports: http:80,http:8080");
    cr_assert_eq(np_builder_nwarnings(b), 1);
    cr_expect(strstr(np_builder_warning(b, 0), "Deployment shop/web") != NULL,
              "%s", np_builder_warning(b, 0));
    np_builder_free(b);
}

/* --- snapshot: order, lookups, namespaces --- */

TestSuite(workload_snapshot, .fini = fx_fini);

Test(workload_snapshot, workloads_are_sorted_by_namespace_kind_and_name)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    const struct np_namespace *ns;
    uint32_t i;

    wl_add(b, "shop/StatefulSet/db", "labels: app=db");
    wl_add(b, "shop/Deployment/web", "labels: app=web");
    wl_add(b, "shop/Deployment/api", "labels: app=api");
    wl_add(b, "batch/CronJob/nightly", "labels: app=report");
    fx_pod(b, "shop/web-1", "app=web", "10.0.0.1");
    s = fx_build(b);
    cr_assert_eq(s->nworkloads, 4);
    cr_expect_str_eq(s->workloads[0].name, "nightly");
    cr_expect_str_eq(s->workloads[1].name, "api");
    cr_expect_str_eq(s->workloads[2].name, "web");
    cr_expect_str_eq(s->workloads[3].name, "db");
    for (i = 0; i < s->nworkloads; i++) {
        cr_expect_eq(s->workloads[i].id, i);
        cr_expect_eq(s->workloads[i].nips, 0, "a template has no address");
        cr_expect_null(s->workloads[i].model);
        cr_expect_eq(np_workload_info(s, &s->workloads[i]),
                     &s->workload_info[i]);
    }
    cr_expect_null(np_workload_info(s, &s->pods[0]));
    cr_expect_null(s->pods[0].workload_kind);
    /* batch exists through its workload only. */
    ns = np_snapshot_find_namespace(s, "batch");
    cr_assert_not_null(ns);
    cr_expect(ns->implicit);
    cr_expect_eq(ns->first_workload, 0);
    cr_expect_eq(ns->nworkloads, 1);
    ns = np_snapshot_find_namespace(s, "shop");
    cr_expect_eq(ns->first_workload, 1);
    cr_expect_eq(ns->nworkloads, 3);
    cr_expect_eq(ns->npods, 1);
    cr_expect_eq(np_snapshot_find_workload(s, "shop", "Deployment", "web"),
                 &s->workloads[2]);
    cr_expect_null(np_snapshot_find_workload(s, "shop", "deployment", "web"),
                   "kinds are case-sensitive");
    cr_expect_null(np_snapshot_find_workload(s, "shop", "Deployment", "db"));
    cr_expect_null(np_snapshot_find_workload(s, "batch", "Deployment", "web"));
    cr_expect_null(np_snapshot_find_workload(s, "nope", "Deployment", "web"));
    np_snapshot_release(s);
}

Test(workload_snapshot, a_template_keeps_its_labels_ports_and_host_network)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    const struct np_pod *w, *agent;

    wl_add(
        b, "shop/Deployment/web",
        "labels: app=web,tier=fe; ports: http:80,metrics:9090/TCP,dns:53/UDP");
    wl_add(b, "kube-system/DaemonSet/agent", "labels: app=agent; hostNetwork");
    s = fx_build(b);
    w = np_snapshot_find_workload(s, "shop", "Deployment", "web");
    cr_assert_not_null(w);
    cr_expect_str_eq(w->workload_kind, "Deployment");
    cr_expect_eq(w->labels.n, 2);
    cr_expect_eq(w->nports, 3);
    cr_expect_eq(w->ports[2].port, 53);
    cr_expect_eq(w->ports[2].proto, NP_PROTO_UDP);
    cr_expect_not(w->host_network);
    agent = np_snapshot_find_workload(s, "kube-system", "DaemonSet", "agent");
    cr_assert_not_null(agent);
    cr_expect(agent->host_network);
    np_snapshot_release(s);
}

Test(workload_snapshot, keep_from_carries_workloads_and_remove_deletes_them)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *base, *s;
    struct np_error err;

    wl_add(b, "shop/Deployment/web", "labels: app=web");
    wl_add(b, "shop/Job/migrate", "labels: app=migrate");
    wl_add(b, "tools/CronJob/backup", "labels: app=backup");
    base = fx_build(b);

    /* POST /state replacing one workload keeps the others. */
    b = fx_builder();
    wl_add(b, "shop/Deployment/web", "labels: app=web2");
    np_error_init(&err);
    cr_assert_eq(np_builder_keep_from(b, base, &err), 0, "%s", err.message);
    cr_expect_eq(np_builder_count(b, NP_KIND_WORKLOAD), 3);
    cr_expect(np_builder_remove(b, NP_KIND_WORKLOAD, "shop", "Job/migrate"));
    cr_expect_not(
        np_builder_remove(b, NP_KIND_WORKLOAD, "shop", "Job/migrate"));
    cr_expect_not(
        np_builder_remove(b, NP_KIND_WORKLOAD, "shop", "Deployment/migrate"));
    s = fx_build(b);
    cr_expect_eq(s->nworkloads, 2);
    cr_expect_null(np_snapshot_find_workload(s, "shop", "Job", "migrate"));
    cr_assert_not_null(
        np_snapshot_find_workload(s, "tools", "CronJob", "backup"));
    cr_expect_eq(
        np_labels_get(
            &np_snapshot_find_workload(s, "shop", "Deployment", "web")->labels,
            np_intern_find(s->syms, "app")),
        np_intern_find(s->syms, "web2"), "the upload replaced it");
    np_snapshot_release(s);

    /* Deleting a namespace deletes its workloads. */
    b = fx_builder();
    cr_assert_eq(np_builder_keep_from(b, base, &err), 0);
    cr_expect(np_builder_remove(b, NP_KIND_NAMESPACE, NULL, "shop"));
    s = fx_build(b);
    cr_expect_eq(s->nworkloads, 1);
    cr_expect_null(np_snapshot_find_namespace(s, "shop"));
    np_snapshot_release(s);
    np_snapshot_release(base);
}

/* --- selection --- */

TestSuite(workload_selection, .fini = fx_fini);

/* shop: Deployment web (app=web), StatefulSet db (app=db), DaemonSet agent
 * (app=web, hostNetwork), real pod web-1 (app=web); other: Deployment web
 * (app=web). */
static struct np_snapshot *
selection_cluster(void)
{
    struct np_builder *b = fx_builder();

    wl_add(b, "shop/Deployment/web", "labels: app=web");
    wl_add(b, "shop/StatefulSet/db", "labels: app=db");
    wl_add(b, "shop/DaemonSet/agent", "labels: app=web; hostNetwork");
    wl_add(b, "other/Deployment/web", "labels: app=web");
    fx_pod(b, "shop/web-1", "app=web", "10.0.0.1");
    fx_policy(b, "shop/web-ingress", "podSelector: app=web");
    fx_policy(b, "shop/all-egress", "podSelector: {}; policyTypes: [Egress]");
    return fx_build(b);
}

Test(workload_selection, policies_select_templates_by_their_labels)
{
    struct np_snapshot *s = selection_cluster();
    const struct np_pod *web =
        np_snapshot_find_workload(s, "shop", "Deployment", "web");
    const struct np_pod *db =
        np_snapshot_find_workload(s, "shop", "StatefulSet", "db");
    const struct np_policy *ing =
        np_snapshot_find_policy(s, "shop", "web-ingress");
    struct np_isolation iso;

    cr_assert(web != NULL && db != NULL && ing != NULL);
    cr_assert_eq(web->npolicies[NP_DIR_INGRESS], 1);
    cr_expect_str_eq(policy_name(s, web->policies[NP_DIR_INGRESS][0]),
                     "web-ingress");
    cr_assert_eq(web->npolicies[NP_DIR_EGRESS], 1);
    cr_expect_str_eq(policy_name(s, web->policies[NP_DIR_EGRESS][0]),
                     "all-egress");
    cr_expect_eq(web->nselected_by, 2);
    cr_expect_eq(db->npolicies[NP_DIR_INGRESS], 0);
    cr_expect_eq(db->npolicies[NP_DIR_EGRESS], 1);
    np_pod_isolation(s, web, &iso);
    cr_expect(iso.isolated[NP_DIR_INGRESS]);
    np_pod_isolation(s, db, &iso);
    cr_expect_not(iso.isolated[NP_DIR_INGRESS]);
    /* selected lists real pods only; templates are in selected_workloads. */
    cr_assert_eq(ing->nselected, 1);
    cr_expect_str_eq(s->pods[ing->selected[0]].name, "web-1");
    cr_assert_eq(ing->nselected_workloads, 1);
    cr_expect_eq(&s->workloads[ing->selected_workloads[0]], web);
    np_snapshot_release(s);
}

Test(workload_selection,
     host_network_and_other_namespace_templates_are_not_selected)
{
    struct np_snapshot *s = selection_cluster();
    const struct np_pod *agent =
        np_snapshot_find_workload(s, "shop", "DaemonSet", "agent");
    const struct np_pod *other =
        np_snapshot_find_workload(s, "other", "Deployment", "web");

    cr_assert(agent != NULL && other != NULL);
    cr_expect_eq(agent->nselected_by, 0);
    cr_expect_eq(agent->npolicies[NP_DIR_INGRESS], 0);
    cr_expect_eq(other->nselected_by, 0);
    np_snapshot_release(s);
}

Test(workload_selection, a_job_template_carries_the_generated_job_name_labels)
{
    struct np_builder *b = fx_builder();
    struct np_model_workload *manual;
    struct np_error err;
    struct np_snapshot *s;
    const struct np_pod *job, *other;

    wl_add(b, "shop/Job/migrate", "labels: app=migrate");
    manual = wl_model("shop/Job/manual", "labels: app=migrate");
    manual->manual_selector = true;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(b, manual, &err), 0);
    /* A Deployment gets no such label. */
    wl_add(b, "shop/Deployment/migrate", "labels: app=migrate");
    fx_policy(b, "shop/jobs", "podSelector: job-name=migrate");
    fx_policy(b, "shop/jobs-new",
              "podSelector: batch.kubernetes.io/job-name=migrate");
    s = fx_build(b);
    job = np_snapshot_find_workload(s, "shop", "Job", "migrate");
    cr_assert_not_null(job);
    cr_expect_eq(job->labels.n, 3);
    cr_expect_eq(job->npolicies[NP_DIR_INGRESS], 2);
    other = np_snapshot_find_workload(s, "shop", "Job", "manual");
    cr_expect_eq(other->labels.n, 1, "manualSelector: labels as written");
    cr_expect_eq(other->npolicies[NP_DIR_INGRESS], 0);
    other = np_snapshot_find_workload(s, "shop", "Deployment", "migrate");
    cr_expect_eq(other->npolicies[NP_DIR_INGRESS], 0);
    np_snapshot_release(s);
}

/* --- verdicts --- */

TestSuite(workload_verdicts, .fini = fx_fini);

/*
 * shop (team=shop): Deployment frontend (app=frontend; http 8080),
 * Deployment backend (app=backend; api 9000, grpc 9090), StatefulSet db
 * (app=db; pg 5432); a real pod shop/debug (app=debug, 10.1.0.9).
 * ops: CronJob report (app=report).
 * Policies: backend admits app=frontend on its named port api; db admits
 * app=backend from the same namespace and 10.0.0.0/8 by ipBlock; report's
 * egress goes to team=shop namespaces on 9000.
 */
static struct np_snapshot *
verdict_cluster(void)
{
    struct np_builder *b = fx_builder();

    fx_ns(b, "shop", "team=shop");
    fx_ns(b, "ops", "team=ops");
    wl_add(b, "shop/Deployment/frontend",
           "labels: app=frontend; ports: http:8080");
    wl_add(b, "shop/Deployment/backend",
           "labels: app=backend; ports: api:9000,grpc:9090");
    wl_add(b, "shop/StatefulSet/db", "labels: app=db; ports: pg:5432");
    wl_add(b, "ops/CronJob/report", "labels: app=report");
    fx_pod(b, "shop/debug", "app=debug", "10.1.0.9");
    fx_policy(b, "shop/backend-in",
              "podSelector: app=backend; "
              "ingress: [{from: [pod(app=frontend)], ports: [api]}]");
    fx_policy(b, "shop/db-in",
              "podSelector: app=db; "
              "ingress: [{from: [pod(app=backend), ipBlock(10.0.0.0/8)]}]");
    fx_policy(b, "ops/report-out",
              "podSelector: app=report; policyTypes: [Egress]; "
              "egress: [{to: [ns(team=shop)], ports: [9000]}]");
    return fx_build(b);
}

struct verdict_case {
    char from[48];
    char to[48];
    char port[16];
    bool allowed;
};

static struct verdict_case verdict_cases[] = {
    /* A workload isolated by a policy whose podSelector matches its
     * template admits only what the rules allow. */
    { .from = "shop/Deployment/frontend",
      .to = "shop/Deployment/backend",
      .port = "9000",
      .allowed = true },
    { .from = "shop/Deployment/frontend",
      .to = "shop/Deployment/backend",
      .port = "9090",
      .allowed = false },
    { .from = "shop/debug",
      .to = "shop/Deployment/backend",
      .port = "9000",
      .allowed = false },
    { .from = "shop/Deployment/backend",
      .to = "shop/Deployment/frontend",
      .port = "8080",
      .allowed = true },
    /* Peers match template labels. */
    { .from = "shop/Deployment/backend",
      .to = "shop/StatefulSet/db",
      .port = "5432",
      .allowed = true },
    { .from = "shop/Deployment/frontend",
      .to = "shop/StatefulSet/db",
      .port = "5432",
      .allowed = false },
    /* The ipBlock admits the real pod by its address but never a template,
     * which has none. */
    { .from = "shop/debug",
      .to = "shop/StatefulSet/db",
      .port = "5432",
      .allowed = true },
    { .from = "10.9.9.9",
      .to = "shop/StatefulSet/db",
      .port = "5432",
      .allowed = true },
    /* Egress of a CronJob's template, to workloads by namespace labels. */
    { .from = "ops/CronJob/report",
      .to = "shop/Deployment/backend",
      .port = "9000",
      .allowed = false },
    { .from = "ops/CronJob/report",
      .to = "shop/Deployment/frontend",
      .port = "9000",
      .allowed = true },
    { .from = "ops/CronJob/report",
      .to = "shop/debug",
      .port = "80",
      .allowed = false },
    /* Named ports resolve on the destination template's container ports. */
    { .from = "shop/Deployment/frontend",
      .to = "shop/Deployment/backend",
      .port = "api",
      .allowed = true },
    { .from = "shop/Deployment/frontend",
      .to = "shop/Deployment/backend",
      .port = "grpc",
      .allowed = false },
    /* From a workload to itself is between two of its pods: db admits only
     * app=backend. */
    { .from = "shop/StatefulSet/db",
      .to = "shop/StatefulSet/db",
      .port = "5432",
      .allowed = false },
    { .from = "shop/Deployment/frontend",
      .to = "shop/Deployment/frontend",
      .port = "8080",
      .allowed = true },
};

ParameterizedTestParameters(workload_verdicts, verdicts_with_workload_ends)
{
    return cr_make_param_array(struct verdict_case, verdict_cases,
                               sizeof(verdict_cases) /
                                   sizeof(verdict_cases[0]));
}

ParameterizedTest(struct verdict_case *c, workload_verdicts,
                  verdicts_with_workload_ends, .fini = fx_fini)
{
    struct np_snapshot *s = verdict_cluster();
    struct np_verdict v;
    bool got = eval(s, c->from, c->to, c->port, &v);

    cr_expect_eq(got, c->allowed,
                 "%s -> %s on %s: expected %s, got %s\negress: %s\n"
                 "ingress: %s",
                 c->from, c->to, c->port, c->allowed ? "allowed" : "denied",
                 got ? "allowed" : "denied", fx_side_dump(&v.egress),
                 fx_side_dump(&v.ingress));
    cr_expect_not(v.self && strchr(strchr(c->from, '/') + 1, '/') != NULL,
                  "a workload is never self traffic");
    np_snapshot_release(s);
}

Test(workload_verdicts, traces_name_the_workload_as_a_pod_of_its_template)
{
    struct np_snapshot *s = verdict_cluster();
    struct np_verdict v;

    cr_assert_not(
        eval(s, "shop/Deployment/frontend", "shop/StatefulSet/db", "5432", &v));
    cr_expect(strstr(v.ingress.reason,
                     "workload shop/StatefulSet/db (as a pod of its template) "
                     "is isolated for ingress") != NULL,
              "%s", v.ingress.reason);
    cr_expect(strstr(v.ingress.reason,
                     "from workload shop/Deployment/frontend (as a pod of its "
                     "template)") != NULL,
              "%s", v.ingress.reason);
    cr_expect(fx_side_mentions(&v.ingress,
                               "workload shop/Deployment/frontend (as a pod of "
                               "its template) does not match podSelector"),
              "%s", fx_side_dump(&v.ingress));
    cr_expect(fx_side_mentions(&v.ingress,
                               "workload shop/Deployment/frontend (as a pod of "
                               "its template) has no IP address"),
              "%s", fx_side_dump(&v.ingress));
    cr_expect(strstr(v.egress.reason,
                     "workload shop/Deployment/frontend (as a pod of its "
                     "template) is not isolated for egress") != NULL,
              "%s", v.egress.reason);
    cr_expect(strstr(v.ingress.reason, "pod workload") == NULL, "%s",
              v.ingress.reason);
    np_snapshot_release(s);
}

Test(workload_verdicts, port_names_a_template_lacks_are_errors_naming_it)
{
    struct np_snapshot *s = verdict_cluster();
    const struct np_pod *db =
        np_snapshot_find_workload(s, "shop", "StatefulSet", "db");
    enum np_proto proto = NP_PROTO_UDP;
    struct np_error err;
    uint16_t port = 0;

    np_error_init(&err);
    cr_assert_eq(np_pod_resolve_port(s, db, "http", false, &proto, &port, &err),
                 -1);
    cr_expect_eq(err.code, NP_E_UNKNOWN_PORT_NAME);
    cr_expect_str_eq(err.message, "workload shop/StatefulSet/db has no "
                                  "container port named \"http\"");
    np_error_init(&err);
    cr_assert_eq(np_pod_resolve_port(s, db, "pg", true, &proto, &port, &err),
                 -1, "pg is TCP, the query asked for UDP");
    cr_expect(strstr(err.message, "workload shop/StatefulSet/db is TCP") !=
                  NULL,
              "%s", err.message);
    np_error_init(&err);
    cr_assert_eq(np_pod_resolve_port(s, db, "pg", false, &proto, &port, &err),
                 0);
    cr_expect_eq(port, 5432);
    cr_expect_eq(proto, NP_PROTO_TCP);
    np_snapshot_release(s);
}

Test(workload_verdicts, a_host_network_template_is_never_isolated)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    struct np_verdict v;

    wl_add(b, "kube-system/DaemonSet/agent", "labels: app=agent; hostNetwork");
    wl_add(b, "kube-system/Deployment/dns", "labels: app=dns");
    fx_policy(b, "kube-system/deny-all",
              "podSelector: {}; policyTypes: [Ingress, Egress]");
    s = fx_build(b);
    cr_expect(eval(s, "kube-system/DaemonSet/agent", "10.0.0.1", "80", &v));
    cr_expect_eq(v.egress.why, NP_WHY_HOST_NETWORK);
    cr_expect_not(eval(s, "kube-system/Deployment/dns", "10.0.0.1", "80", &v));
    cr_expect_not(eval(s, "kube-system/DaemonSet/agent",
                       "kube-system/Deployment/dns", "53", &v),
                  "dns denies all ingress");
    np_snapshot_release(s);
}

/* --- owners --- */

TestSuite(workload_owners, .fini = fx_fini);

Test(workload_owners, pods_link_to_their_workload_one_level_up)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    const struct np_pod *dep, *rs, *orphan_rs, *cron, *job, *ds, *p;
    const struct np_workload *info;

    wl_add(b, "shop/Deployment/web", "labels: app=web");
    wl_add_owned(b, "shop/ReplicaSet/web-5d9f", "labels: app=web",
                 "Deployment/web");
    wl_add_owned(b, "shop/ReplicaSet/api-77aa", "labels: app=api",
                 "Deployment/api"); /* api is not uploaded */
    wl_add(b, "shop/CronJob/nightly", "labels: app=nightly");
    wl_add_owned(b, "shop/Job/nightly-2891", "labels: app=nightly",
                 "CronJob/nightly");
    wl_add(b, "shop/DaemonSet/agent", "labels: app=agent");
    pod_owned(b, "shop/web-5d9f-a", "labels: app=web", "ReplicaSet/web-5d9f");
    pod_owned(b, "shop/web-5d9f-b", "labels: app=web", "ReplicaSet/web-5d9f");
    pod_owned(b, "shop/api-77aa-a", "labels: app=api", "ReplicaSet/api-77aa");
    pod_owned(b, "shop/nightly-2891-x", "labels: app=nightly",
              "Job/nightly-2891");
    pod_owned(b, "shop/agent-x", "labels: app=agent", "DaemonSet/agent");
    pod_owned(b, "shop/lost", "labels: app=web", "ReplicaSet/gone");
    pod_owned(b, "shop/case", "labels: app=agent", "daemonset/agent");
    pod_owned(b, "other/agent-y", "labels: app=agent", "DaemonSet/agent");
    s = fx_build(b);
    dep = np_snapshot_find_workload(s, "shop", "Deployment", "web");
    rs = np_snapshot_find_workload(s, "shop", "ReplicaSet", "web-5d9f");
    orphan_rs = np_snapshot_find_workload(s, "shop", "ReplicaSet", "api-77aa");
    cron = np_snapshot_find_workload(s, "shop", "CronJob", "nightly");
    job = np_snapshot_find_workload(s, "shop", "Job", "nightly-2891");
    ds = np_snapshot_find_workload(s, "shop", "DaemonSet", "agent");
    cr_assert(dep && rs && orphan_rs && cron && job && ds);

    cr_expect_eq(np_workload_info(s, rs)->owner, dep);
    cr_expect_eq(np_workload_info(s, job)->owner, cron);
    cr_expect_null(np_workload_info(s, orphan_rs)->owner);
    cr_expect_null(np_workload_info(s, dep)->owner);

    p = np_snapshot_find_pod(s, "shop", "web-5d9f-a");
    cr_expect_eq(p->workload, dep, "ReplicaSet -> Deployment");
    p = np_snapshot_find_pod(s, "shop", "api-77aa-a");
    cr_expect_eq(p->workload, orphan_rs, "no Deployment uploaded");
    p = np_snapshot_find_pod(s, "shop", "nightly-2891-x");
    cr_expect_eq(p->workload, cron, "Job -> CronJob");
    p = np_snapshot_find_pod(s, "shop", "agent-x");
    cr_expect_eq(p->workload, ds);
    cr_expect_null(np_snapshot_find_pod(s, "shop", "lost")->workload);
    cr_expect_null(np_snapshot_find_pod(s, "shop", "case")->workload,
                   "owner kinds are case-sensitive");
    cr_expect_null(np_snapshot_find_pod(s, "other", "agent-y")->workload,
                   "owners are in their dependent's namespace");

    info = np_workload_info(s, dep);
    cr_expect_eq(info->npods, 2, "a Deployment's pods through its ReplicaSet");
    info = np_workload_info(s, rs);
    cr_assert_eq(info->npods, 2);
    cr_expect_str_eq(s->pods[info->pods[0]].name, "web-5d9f-a");
    cr_expect_str_eq(s->pods[info->pods[1]].name, "web-5d9f-b");
    cr_expect_eq(np_workload_info(s, cron)->npods, 1);
    cr_expect_eq(np_workload_info(s, job)->npods, 1);
    cr_expect_eq(np_workload_info(s, ds)->npods, 1);
    cr_expect_eq(np_workload_info(s, orphan_rs)->npods, 1);
    np_snapshot_release(s);
}
