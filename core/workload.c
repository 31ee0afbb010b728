/*
 * Workloads as pod templates: which kinds there are and where their template
 * lives, what the builder checks beyond what pods share with them, and the
 * compilation of workload models into template pods with their policies and
 * the pods they own.
 *
 * The builder (builder.c) validates names, labels and ports as for pods and
 * copies the models; it calls np__workload_validate() for the rest and
 * np__workloads_build() once pods, policies and their selection are
 * compiled. The evaluator needs nothing from here: a template pod is a pod.
 */
#include "core/workload.h"

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/net.h"
#include "core/selector.h"

struct kind_info {
    const char *kind;
    const char *api_version;
    const char *template_path;
};

/* The kinds whose objects carry a pod template, with the group version the
 * API server serves them at today (older ones such as extensions/v1beta1 are
 * gone from it). */
static const struct kind_info kinds[] = {
    { .kind = "Deployment",
      .api_version = "apps/v1",
      .template_path = "spec.template" },
    { .kind = "ReplicaSet",
      .api_version = "apps/v1",
      .template_path = "spec.template" },
    { .kind = "StatefulSet",
      .api_version = "apps/v1",
      .template_path = "spec.template" },
    { .kind = "DaemonSet",
      .api_version = "apps/v1",
      .template_path = "spec.template" },
    { .kind = "Job",
      .api_version = "batch/v1",
      .template_path = "spec.template" },
    { .kind = "CronJob",
      .api_version = "batch/v1",
      .template_path = "spec.jobTemplate.spec.template" },
    { .kind = "ReplicationController",
      .api_version = "v1",
      .template_path = "spec.template" },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *const np_workload_kinds[] = {
    "Deployment", "ReplicaSet", "StatefulSet",           "DaemonSet",
    "Job",        "CronJob",    "ReplicationController", NULL,
};

_Static_assert(sizeof(np_workload_kinds) / sizeof(np_workload_kinds[0]) ==
                   NKINDS + 1,
               "np_workload_kinds and kinds[] list the same kinds");

/* The labels the API server puts on a Job's template when it generates the
 * Job's selector (spec.manualSelector unset or false): both carry the Job's
 * name (pkg/registry/batch/job/strategy.go, generateSelector). */
static const char *const job_name_labels[] = { "job-name",
                                               "batch.kubernetes.io/job-name" };

static const struct kind_info *
kind_find(const char *kind)
{
    size_t i;

    for (i = 0; kind != NULL && i < NKINDS; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

bool
np_workload_kind_is_valid(const char *kind)
{
    return kind_find(kind) != NULL;
}

const char *
np_workload_kinds_text(void)
{
    return "Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or "
           "ReplicationController";
}

const char *
np_workload_api_version(const char *kind)
{
    const struct kind_info *k = kind_find(kind);

    return k != NULL ? k->api_version : NULL;
}

const char *
np_workload_template_path(const char *kind)
{
    const struct kind_info *k = kind_find(kind);

    return k != NULL ? k->template_path : "spec.template";
}

const struct np_workload *
np_workload_info(const struct np_snapshot *snap, const struct np_pod *pod)
{
    if (pod == NULL || pod->workload_kind == NULL ||
        pod->id >= snap->nworkloads || &snap->workloads[pod->id] != pod)
        return NULL;
    return &snap->workload_info[pod->id];
}

/* --- validation --- */

int
np__workload_validate(const struct np_model_workload *w, struct np_error *err)
{
    size_t len;

    if (!np_workload_kind_is_valid(w->kind)) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "kind \"%.60s\" is not a workload kind: use %s "
                     "(kinds are case-sensitive)",
                     w->kind != NULL ? w->kind : "", np_workload_kinds_text());
        return np_error_path(err, "kind");
    }
    len = w->name != NULL ? strlen(w->name) : 0;
    /* A CronJob's Jobs are named after it plus an 11-character suffix,
     * which must still be a DNS label (ValidateCronJob). */
    if (strcmp(w->kind, "CronJob") == 0 && len > 52) {
        np_error_set(err, NP_E_INVALID_NAME,
                     "CronJob name \"%.60s...\" is %zu characters long: a "
                     "CronJob name has at most 52",
                     w->name, len);
        return np_error_path(err, "metadata.name");
    }
    /* Without a manual selector the Job's name becomes the value of its
     * template's job-name labels, and label values have at most 63
     * characters. */
    if (strcmp(w->kind, "Job") == 0 && !w->manual_selector && len > 63) {
        np_error_set(err, NP_E_INVALID_NAME,
                     "Job name \"%.60s...\" is %zu characters long: it "
                     "becomes the value of the template's job-name label, "
                     "which has at most 63 characters",
                     w->name, len);
        return np_error_path(err, "metadata.name");
    }
    return 0;
}

/* --- compilation --- */

static int
nomem(struct np_error *err)
{
    return np_error_set(err, NP_E_NOMEM, "out of memory");
}

static int
cmp_model(const void *x, const void *y)
{
    const struct np_model_workload *a =
        *(const struct np_model_workload *const *)x;
    const struct np_model_workload *b =
        *(const struct np_model_workload *const *)y;
    int c = strcmp(a->namespace_, b->namespace_);

    if (c == 0)
        c = strcmp(a->kind, b->kind);
    return c != 0 ? c : strcmp(a->name, b->name);
}

static int
cmp_label(const void *x, const void *y)
{
    const struct np_label *a = x, *b = y;

    return a->key < b->key ? -1 : a->key > b->key;
}

static bool
has_label(const struct np_model_workload *m, const char *key)
{
    size_t i;

    for (i = 0; i < m->nlabels; i++)
        if (strcmp(m->labels[i].key, key) == 0)
            return true;
    return false;
}

/* The template's labels as a sorted set, plus a Job's generated job-name
 * labels. */
static int
template_labels(struct np_snapshot *snap, struct np_arena *a,
                const struct np_model_workload *m, struct np_labels *out,
                struct np_error *err)
{
    bool job = strcmp(m->kind, "Job") == 0 && !m->manual_selector;
    size_t nextra = sizeof(job_name_labels) / sizeof(job_name_labels[0]);
    struct np_label *l;
    size_t i, n = 0;

    l = np_arena_calloc(a, m->nlabels + nextra + 1, sizeof(*l));
    if (l == NULL)
        return nomem(err);
    for (i = 0; i < m->nlabels; i++) {
        l[n].key = np_intern_add(snap->syms, m->labels[i].key);
        l[n].value = np_intern_add(snap->syms, m->labels[i].value);
        if (l[n].key == NP_SYM_NONE || l[n].value == NP_SYM_NONE)
            return nomem(err);
        n++;
    }
    for (i = 0; job && i < nextra; i++) {
        if (has_label(m, job_name_labels[i]))
            continue;
        l[n].key = np_intern_add(snap->syms, job_name_labels[i]);
        l[n].value = np_intern_add(snap->syms, m->name);
        if (l[n].key == NP_SYM_NONE || l[n].value == NP_SYM_NONE)
            return nomem(err);
        n++;
    }
    qsort(l, n, sizeof(*l), cmp_label);
    out->items = l;
    out->n = (uint32_t)n;
    return 0;
}

/* Container ports as the builder compiles a pod's (validated already). */
static int
template_ports(struct np_snapshot *snap, struct np_arena *a,
               const struct np_model_workload *m, struct np_pod *p,
               struct np_error *err)
{
    struct np_container_port *cp;
    size_t j;

    cp = np_arena_calloc(a, m->nports + 1, sizeof(*cp));
    if (cp == NULL)
        return nomem(err);
    for (j = 0; j < m->nports; j++) {
        enum np_proto proto = NP_PROTO_TCP;

        if (m->ports[j].protocol != NULL)
            np_proto_parse(m->ports[j].protocol, &proto, NULL);
        cp[j].port = (uint16_t)m->ports[j].port;
        cp[j].proto = (uint8_t)proto;
        if (m->ports[j].name != NULL) {
            cp[j].name = np_intern_add(snap->syms, m->ports[j].name);
            if (cp[j].name == NP_SYM_NONE)
                return nomem(err);
        }
    }
    p->ports = cp;
    p->nports = (uint32_t)m->nports;
    return 0;
}

/* Copies vec into the arena; *out stays NULL for an empty vector. */
static int
freeze(struct np_arena *a, const struct np__u32vec *vec, const uint32_t **out,
       uint32_t *n)
{
    uint32_t *v = NULL;

    if (vec->n > 0) {
        v = np_arena_calloc(a, vec->n, sizeof(*v));
        if (v == NULL)
            return -1;
        memcpy(v, vec->v, vec->n * sizeof(*v));
    }
    *out = v;
    *n = (uint32_t)vec->n;
    return 0;
}

/* The policies selecting each workload's template, per direction and in
 * all, and the workloads each policy selects: build_selection() of
 * builder.c for template pods. A policy only selects in its own namespace;
 * hostNetwork templates are never selected. */
static int
select_workloads(struct np_snapshot *snap, struct np_arena *a,
                 struct np_error *err)
{
    size_t nvec = (size_t)snap->nworkloads * (NP_DIR__MAX + 1);
    struct np__u32vec *bywl, sel = { 0 };
    uint32_t i, j, d;
    int rc = -1;

    bywl = calloc(nvec + 1, sizeof(*bywl));
    if (bywl == NULL)
        return nomem(err);
    for (i = 0; i < snap->npolicies; i++) {
        struct np_policy *p = (struct np_policy *)&snap->policies[i];
        const struct np_namespace *ns = &snap->namespaces[p->ns];

        sel.n = 0;
        for (j = ns->first_workload; j < ns->first_workload + ns->nworkloads;
             j++) {
            const struct np_pod *w = &snap->workloads[j];
            struct np__u32vec *v = &bywl[(size_t)j * (NP_DIR__MAX + 1)];

            if (w->host_network ||
                !np_selector_matches(&p->pod_sel, &w->labels))
                continue;
            if (np__u32vec_push(&sel, j) != 0)
                goto nomem;
            for (d = 0; d < NP_DIR__MAX; d++)
                if (p->affects[d] && np__u32vec_push(&v[d], i) != 0)
                    goto nomem;
            if (np__u32vec_push(&v[NP_DIR__MAX], i) != 0)
                goto nomem;
        }
        if (freeze(a, &sel, &p->selected_workloads, &p->nselected_workloads))
            goto nomem;
    }
    for (j = 0; j < snap->nworkloads; j++) {
        struct np_pod *w = (struct np_pod *)&snap->workloads[j];
        struct np__u32vec *v = &bywl[(size_t)j * (NP_DIR__MAX + 1)];

        for (d = 0; d < NP_DIR__MAX; d++)
            if (freeze(a, &v[d], &w->policies[d], &w->npolicies[d]) != 0)
                goto nomem;
        if (freeze(a, &v[NP_DIR__MAX], &w->selected_by, &w->nselected_by) != 0)
            goto nomem;
    }
    rc = 0;
    goto out;
nomem:
    nomem(err);
out:
    for (j = 0; j < nvec; j++)
        np__u32vec_fini(&bywl[j]);
    free(bywl);
    np__u32vec_fini(&sel);
    return rc;
}

/* The first owner reference of kind among owners that names a workload of
 * snap in namespace ns. */
static const struct np_pod *
find_owner(const struct np_snapshot *snap, const char *ns,
           const struct np_model_owner *owners, size_t nowners,
           const char *kind)
{
    const struct np_pod *w;
    size_t i;

    for (i = 0; i < nowners; i++) {
        if (owners[i].kind == NULL || owners[i].name == NULL)
            continue;
        if (kind != NULL ? strcmp(owners[i].kind, kind) != 0
                         : !np_workload_kind_is_valid(owners[i].kind))
            continue;
        w = np_snapshot_find_workload(snap, ns, owners[i].kind, owners[i].name);
        if (w != NULL)
            return w;
    }
    return NULL;
}

/* Links workloads to the workload owning them (a Deployment's ReplicaSets,
 * a CronJob's Jobs) and pods to their workload. Owner references hold no
 * namespace: an owner is always in its dependent's namespace. */
static int
link_owners(struct np_snapshot *snap, struct np_arena *a, struct np_error *err)
{
    struct np_workload *info = (struct np_workload *)snap->workload_info;
    struct np__u32vec *pods;
    uint32_t i;
    int rc = -1;

    for (i = 0; i < snap->nworkloads; i++) {
        const struct np_pod *w = &snap->workloads[i];
        const struct np_model_workload *m = info[i].model;
        const char *owner_kind = NULL;

        if (strcmp(w->workload_kind, "ReplicaSet") == 0)
            owner_kind = "Deployment";
        else if (strcmp(w->workload_kind, "Job") == 0)
            owner_kind = "CronJob";
        if (owner_kind != NULL)
            info[i].owner = find_owner(snap, snap->namespaces[w->ns].name,
                                       m->owners, m->nowners, owner_kind);
    }
    pods = calloc((size_t)snap->nworkloads + 1, sizeof(*pods));
    if (pods == NULL)
        return nomem(err);
    for (i = 0; i < snap->npods; i++) {
        struct np_pod *p = (struct np_pod *)&snap->pods[i];
        const struct np_pod *direct, *top;

        if (p->model == NULL || p->model->nowners == 0)
            continue;
        direct = find_owner(snap, snap->namespaces[p->ns].name,
                            p->model->owners, p->model->nowners, NULL);
        if (direct == NULL)
            continue;
        /* One level up: a Deployment's pods are owned by its ReplicaSet,
         * a CronJob's by its Job. */
        top = info[direct->id].owner != NULL ? info[direct->id].owner : direct;
        p->workload = top;
        if (np__u32vec_push(&pods[direct->id], i) != 0 ||
            (top != direct && np__u32vec_push(&pods[top->id], i) != 0))
            goto nomem;
    }
    for (i = 0; i < snap->nworkloads; i++)
        if (freeze(a, &pods[i], &info[i].pods, &info[i].npods) != 0)
            goto nomem;
    rc = 0;
    goto out;
nomem:
    nomem(err);
out:
    for (i = 0; i < snap->nworkloads; i++)
        np__u32vec_fini(&pods[i]);
    free(pods);
    return rc;
}

int
np__workloads_build(struct np_snapshot *snap, struct np_arena *a,
                    const struct np_model_workload *const *models, size_t n,
                    struct np_error *err)
{
    const struct np_model_workload **sorted;
    struct np_pod *wl;
    struct np_workload *info;
    size_t i;
    int rc = -1;

    sorted = malloc((n + 1) * sizeof(*sorted));
    wl = np_arena_calloc(a, n + 1, sizeof(*wl));
    info = np_arena_calloc(a, n + 1, sizeof(*info));
    if (sorted == NULL || wl == NULL || info == NULL) {
        free(sorted);
        return nomem(err);
    }
    if (n > 0)
        memcpy(sorted, models, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_model);
    for (i = 0; i < n; i++) {
        const struct np_model_workload *m = sorted[i];
        const struct np_namespace *ns =
            np_snapshot_find_namespace(snap, m->namespace_);
        struct np_pod *p = &wl[i];

        if (ns == NULL) {
            np_error_set(err, NP_E_INTERNAL,
                         "workload %s/%s/%s is in no known namespace",
                         m->namespace_, m->kind, m->name);
            goto out;
        }
        p->id = (uint32_t)i;
        p->name = m->name;
        p->name_len = (uint32_t)strlen(m->name);
        p->ns = ns->id;
        p->host_network = m->host_network;
        p->workload_kind = kind_find(m->kind)->kind;
        p->workload = p;
        info[i].model = m;
        if (template_labels(snap, a, m, &p->labels, err) != 0 ||
            template_ports(snap, a, m, p, err) != 0)
            goto out;
        /* Namespace ranges: workloads are sorted by namespace name, as are
         * the namespaces themselves. */
        {
            struct np_namespace *nsw = (struct np_namespace *)ns;

            if (nsw->nworkloads == 0)
                nsw->first_workload = (uint32_t)i;
            nsw->nworkloads++;
        }
    }
    snap->workloads = wl;
    snap->workload_info = info;
    snap->nworkloads = (uint32_t)n;
    rc = select_workloads(snap, a, err) != 0 || link_owners(snap, a, err) != 0
             ? -1
             : 0;
out:
    free(sorted);
    return rc;
}
