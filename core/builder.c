/*
 * np_builder: validation of model objects as the API server would do it, and
 * compilation of a snapshot.
 *
 * Objects are deep-copied into the builder's arena on add; that arena becomes
 * the snapshot's, so the snapshot keeps the models it was built from (for
 * listings, POST /state merges and persistence). Compilation interns every
 * label, sorts objects by namespace and name, and precomputes the policies
 * selecting each pod.
 */
#include "core/builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/workload.h"

struct entry {
    const void *model;
    const char *ns; /* "" for namespaces */
    const char *name;
    bool removed;
    uint32_t seq; /* order of the adds across kinds, for np_builder_absorb() */
};

struct table {
    struct entry *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t nslots;
};

struct np_builder {
    struct np_arena arena;
    struct table tab[NP_KIND__MAX];
    uint32_t nadds; /* the seq of the next entry added */
    char **warnings;
    size_t nwarnings, capwarnings;
};

static const char *const kind_names[NP_KIND__MAX] = {
    [NP_KIND_NAMESPACE] = "Namespace",
    [NP_KIND_POD] = "Pod",
    [NP_KIND_POLICY] = "NetworkPolicy",
    [NP_KIND_WORKLOAD] = "workload", /* named "Kind/name" in the table */
};

/* --- object table --- */

static uint32_t
key_hash(const char *ns, const char *name)
{
    return (uint32_t)(np__hash_str(ns) * 31 + np__hash_str(name));
}

static struct entry *
table_find(struct table *t, const char *ns, const char *name)
{
    size_t mask, i;

    if (t->nslots == 0)
        return NULL;
    mask = t->nslots - 1;
    for (i = key_hash(ns, name) & mask; t->slots[i] != 0; i = (i + 1) & mask) {
        struct entry *e = &t->v[t->slots[i] - 1];

        if (strcmp(e->name, name) == 0 && strcmp(e->ns, ns) == 0)
            return e;
    }
    return NULL;
}

static int
table_rehash(struct table *t, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    size_t i, j, mask = nslots - 1;

    if (slots == NULL)
        return -1;
    for (i = 0; i < t->n; i++) {
        j = key_hash(t->v[i].ns, t->v[i].name) & mask;
        while (slots[j] != 0)
            j = (j + 1) & mask;
        slots[j] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* Makes room for n entries, so that as many table_add() calls cannot
 * fail. */
static int
table_reserve(struct table *t, size_t n)
{
    size_t nslots = t->nslots == 0 ? 128 : t->nslots;

    if (n > t->cap) {
        struct entry *nv = realloc(t->v, n * sizeof(*nv));

        if (nv == NULL)
            return -1;
        t->v = nv;
        t->cap = n;
    }
    while (n * 2 > nslots)
        nslots *= 2;
    if (n > 0 && nslots != t->nslots)
        return table_rehash(t, nslots);
    return 0;
}

static int
table_add(struct table *t, const void *model, const char *ns, const char *name,
          uint32_t seq)
{
    struct entry *nv;

    if (t->n == t->cap) {
        size_t ncap = t->cap == 0 ? 64 : t->cap * 2;

        nv = realloc(t->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        t->v = nv;
        t->cap = ncap;
    }
    t->v[t->n].model = model;
    t->v[t->n].ns = ns;
    t->v[t->n].name = name;
    t->v[t->n].removed = false;
    t->v[t->n].seq = seq;
    t->n++;
    if (t->n * 2 > t->nslots)
        return table_rehash(t, t->nslots == 0 ? 128 : t->nslots * 2);
    {
        size_t mask = t->nslots - 1;
        size_t j = key_hash(ns, name) & mask;

        while (t->slots[j] != 0)
            j = (j + 1) & mask;
        t->slots[j] = (uint32_t)t->n;
    }
    return 0;
}

static void
table_fini(struct table *t)
{
    free(t->v);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* --- builder lifetime and warnings --- */

struct np_builder *
np_builder_new(void)
{
    struct np_builder *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    np_arena_init(&b->arena);
    return b;
}

void
np_builder_free(struct np_builder *b)
{
    int k;

    if (b == NULL)
        return;
    for (k = 0; k < NP_KIND__MAX; k++)
        table_fini(&b->tab[k]);
    free(b->warnings);
    np_arena_free_all(&b->arena);
    free(b);
}

static void warn(struct np_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn(struct np_builder *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    char **nw;

    /* A flood of warnings helps nobody: keep the first ones. */
    if (b->nwarnings >= NP_BUILDER_MAX_WARNINGS)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (b->nwarnings == b->capwarnings) {
        size_t ncap = b->capwarnings == 0 ? 8 : b->capwarnings * 2;

        nw = realloc(b->warnings, ncap * sizeof(*nw));
        if (nw == NULL)
            return;
        b->warnings = nw;
        b->capwarnings = ncap;
    }
    b->warnings[b->nwarnings] = np_arena_strdup(&b->arena, buf);
    if (b->warnings[b->nwarnings] != NULL)
        b->nwarnings++;
}

size_t
np_builder_nwarnings(const struct np_builder *b)
{
    return b->nwarnings;
}

const char *
np_builder_warning(const struct np_builder *b, size_t i)
{
    return i < b->nwarnings ? b->warnings[i] : NULL;
}

size_t
np_builder_count(const struct np_builder *b, enum np_kind kind)
{
    size_t i, n = 0;

    for (i = 0; i < b->tab[kind].n; i++)
        n += !b->tab[kind].v[i].removed;
    return n;
}

/* --- deep copies into the builder's arena --- */

#define NOMEM(err) np_error_set((err), NP_E_NOMEM, "out of memory")

static const char *
dup(struct np_builder *b, const char *s, bool *fail)
{
    char *c;

    if (s == NULL)
        return NULL;
    c = np_arena_strdup(&b->arena, s);
    if (c == NULL)
        *fail = true;
    return c;
}

static void *
dup_array(struct np_builder *b, const void *src, size_t n, size_t size,
          bool *fail)
{
    void *p;

    if (n == 0 || src == NULL)
        return NULL;
    p = np_arena_calloc(&b->arena, n, size);
    if (p == NULL) {
        *fail = true;
        return NULL;
    }
    memcpy(p, src, n * size);
    return p;
}

static const struct np_model_label *
copy_labels(struct np_builder *b, const struct np_model_label *src, size_t n,
            bool *fail)
{
    struct np_model_label *l = dup_array(b, src, n, sizeof(*l), fail);
    size_t i;

    for (i = 0; l != NULL && i < n; i++) {
        l[i].key = dup(b, src[i].key, fail);
        l[i].value = dup(b, src[i].value, fail);
    }
    return l;
}

static const char *const *
copy_strs(struct np_builder *b, const char *const *src, size_t n, bool *fail)
{
    const char **v = dup_array(b, src, n, sizeof(*v), fail);
    size_t i;

    for (i = 0; v != NULL && i < n; i++)
        v[i] = dup(b, src[i], fail);
    return v;
}

static void
copy_selector_into(struct np_builder *b, struct np_model_selector *dst,
                   const struct np_model_selector *src, bool *fail)
{
    struct np_model_expr *e;
    size_t i;

    dst->nlabels = src->nlabels;
    dst->labels = copy_labels(b, src->labels, src->nlabels, fail);
    dst->nexprs = src->nexprs;
    e = dup_array(b, src->exprs, src->nexprs, sizeof(*e), fail);
    for (i = 0; e != NULL && i < src->nexprs; i++) {
        e[i].key = dup(b, src->exprs[i].key, fail);
        e[i].op = dup(b, src->exprs[i].op, fail);
        e[i].values =
            copy_strs(b, src->exprs[i].values, src->exprs[i].nvalues, fail);
    }
    dst->exprs = e;
}

static const struct np_model_selector *
copy_selector(struct np_builder *b, const struct np_model_selector *src,
              bool *fail)
{
    struct np_model_selector *s;

    if (src == NULL)
        return NULL;
    s = np_arena_alloc(&b->arena, sizeof(*s));
    if (s == NULL) {
        *fail = true;
        return NULL;
    }
    copy_selector_into(b, s, src, fail);
    return s;
}

static const struct np_model_rule *
copy_rules(struct np_builder *b, const struct np_model_rule *src, size_t n,
           bool *fail)
{
    struct np_model_rule *r = dup_array(b, src, n, sizeof(*r), fail);
    size_t i, j;

    for (i = 0; r != NULL && i < n; i++) {
        struct np_model_peer *p;
        struct np_model_policy_port *pp;

        p = dup_array(b, src[i].peers, src[i].npeers, sizeof(*p), fail);
        for (j = 0; p != NULL && j < src[i].npeers; j++) {
            const struct np_model_ipblock *sb = src[i].peers[j].ipblock;

            p[j].pod_selector =
                copy_selector(b, src[i].peers[j].pod_selector, fail);
            p[j].namespace_selector =
                copy_selector(b, src[i].peers[j].namespace_selector, fail);
            if (sb != NULL) {
                struct np_model_ipblock *ib;

                ib = np_arena_alloc(&b->arena, sizeof(*ib));
                if (ib == NULL) {
                    *fail = true;
                    continue;
                }
                ib->cidr = dup(b, sb->cidr, fail);
                ib->nexcept = sb->nexcept;
                ib->except = copy_strs(b, sb->except, sb->nexcept, fail);
                p[j].ipblock = ib;
            }
        }
        r[i].peers = p;
        pp = dup_array(b, src[i].ports, src[i].nports, sizeof(*pp), fail);
        for (j = 0; pp != NULL && j < src[i].nports; j++) {
            pp[j].protocol = dup(b, src[i].ports[j].protocol, fail);
            pp[j].port_name = dup(b, src[i].ports[j].port_name, fail);
        }
        r[i].ports = pp;
    }
    return r;
}

static const struct np_model_namespace *
copy_namespace(struct np_builder *b, const struct np_model_namespace *src,
               bool *fail)
{
    struct np_model_namespace *n = np_arena_alloc(&b->arena, sizeof(*n));

    if (n == NULL) {
        *fail = true;
        return NULL;
    }
    *n = *src;
    n->name = dup(b, src->name, fail);
    n->labels = copy_labels(b, src->labels, src->nlabels, fail);
    n->source = dup(b, src->source, fail);
    return n;
}

static const struct np_model_pod *
copy_pod(struct np_builder *b, const struct np_model_pod *src, const char *ns,
         bool *fail)
{
    struct np_model_pod *p = np_arena_alloc(&b->arena, sizeof(*p));
    struct np_model_container_port *ports;
    struct np_model_owner *owners;
    size_t i;

    if (p == NULL) {
        *fail = true;
        return NULL;
    }
    *p = *src;
    p->namespace_ = dup(b, ns, fail);
    p->name = dup(b, src->name, fail);
    p->labels = copy_labels(b, src->labels, src->nlabels, fail);
    ports = dup_array(b, src->ports, src->nports, sizeof(*ports), fail);
    for (i = 0; ports != NULL && i < src->nports; i++) {
        ports[i].name = dup(b, src->ports[i].name, fail);
        ports[i].protocol = dup(b, src->ports[i].protocol, fail);
        ports[i].path = NULL;
    }
    p->ports = ports;
    p->host_ip = dup(b, src->host_ip, fail);
    p->ips = copy_strs(b, src->ips, src->nips, fail);
    p->phase = dup(b, src->phase, fail);
    owners = dup_array(b, src->owners, src->nowners, sizeof(*owners), fail);
    for (i = 0; owners != NULL && i < src->nowners; i++) {
        owners[i].kind = dup(b, src->owners[i].kind, fail);
        owners[i].name = dup(b, src->owners[i].name, fail);
    }
    p->owners = owners;
    p->source = dup(b, src->source, fail);
    return p;
}

static const struct np_model_workload *
copy_workload(struct np_builder *b, const struct np_model_workload *src,
              const char *ns, bool *fail)
{
    struct np_model_workload *w = np_arena_alloc(&b->arena, sizeof(*w));
    struct np_model_container_port *ports;
    struct np_model_owner *owners;
    size_t i;

    if (w == NULL) {
        *fail = true;
        return NULL;
    }
    *w = *src;
    w->namespace_ = dup(b, ns, fail);
    w->kind = dup(b, src->kind, fail);
    w->name = dup(b, src->name, fail);
    w->labels = copy_labels(b, src->labels, src->nlabels, fail);
    ports = dup_array(b, src->ports, src->nports, sizeof(*ports), fail);
    for (i = 0; ports != NULL && i < src->nports; i++) {
        ports[i].name = dup(b, src->ports[i].name, fail);
        ports[i].protocol = dup(b, src->ports[i].protocol, fail);
        ports[i].path = NULL;
    }
    w->ports = ports;
    owners = dup_array(b, src->owners, src->nowners, sizeof(*owners), fail);
    for (i = 0; owners != NULL && i < src->nowners; i++) {
        owners[i].kind = dup(b, src->owners[i].kind, fail);
        owners[i].name = dup(b, src->owners[i].name, fail);
    }
    w->owners = owners;
    w->source = dup(b, src->source, fail);
    return w;
}

static const struct np_model_policy *
copy_policy(struct np_builder *b, const struct np_model_policy *src,
            const char *ns, bool *fail)
{
    struct np_model_policy *p = np_arena_alloc(&b->arena, sizeof(*p));

    if (p == NULL) {
        *fail = true;
        return NULL;
    }
    *p = *src;
    p->namespace_ = dup(b, ns, fail);
    p->name = dup(b, src->name, fail);
    copy_selector_into(b, &p->pod_selector, &src->pod_selector, fail);
    p->types = copy_strs(b, src->types, src->ntypes, fail);
    p->ingress = copy_rules(b, src->ingress, src->ningress, fail);
    p->egress = copy_rules(b, src->egress, src->negress, fail);
    p->source = dup(b, src->source, fail);
    return p;
}

/* --- validation --- */

static int
validate_meta(const char *kind, const char *ns, const char *name,
              bool name_is_label, struct np_error *err)
{
    if (name == NULL || name[0] == '\0') {
        np_error_set(err, NP_E_MISSING_FIELD, "%s has no metadata.name", kind);
        return np_error_path(err, "metadata.name");
    }
    if (name_is_label ? !np_dns_label_is_valid(name)
                      : !np_dns_subdomain_is_valid(name)) {
        np_error_set(err, NP_E_INVALID_NAME,
                     "%s name \"%.100s\" is not valid: use lowercase "
                     "letters, digits and '-'%s, starting and ending with a "
                     "letter or digit, at most %d characters",
                     kind, name, name_is_label ? "" : " or '.'",
                     name_is_label ? 63 : 253);
        return np_error_path(err, "metadata.name");
    }
    if (ns != NULL && !np_dns_label_is_valid(ns)) {
        np_error_set(err, NP_E_INVALID_NAME,
                     "namespace \"%.100s\" is not a valid namespace name: use "
                     "lowercase letters, digits and '-', at most 63 "
                     "characters",
                     ns);
        return np_error_path(err, "metadata.namespace");
    }
    return 0;
}

static int
validate_labels(const struct np_model_label *labels, size_t n,
                struct np_error *err)
{
    const char *why;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!np_label_key_is_valid(labels[i].key, &why)) {
            np_error_set(err, NP_E_INVALID_LABEL,
                         "label key \"%.100s\" is not valid: %s", labels[i].key,
                         why);
            return np_error_path(err, "metadata.labels");
        }
        if (!np_label_value_is_valid(labels[i].value, &why)) {
            np_error_set(err, NP_E_INVALID_LABEL,
                         "value \"%.100s\" of label \"%.60s\" is not valid: "
                         "%s",
                         labels[i].value, labels[i].key, why);
            return np_error_path(err, "metadata.labels.%s", labels[i].key);
        }
    }
    return 0;
}

static const char *
ns_or_default(const char *ns)
{
    /* kubectl puts objects without a namespace into "default". */
    return ns == NULL || ns[0] == '\0' ? "default" : ns;
}

static int
check_duplicate(struct np_builder *b, enum np_kind kind, const char *ns,
                const char *name, struct np_error *err)
{
    struct entry *e = table_find(&b->tab[kind], ns, name);

    if (e != NULL && !e->removed) {
        if (kind == NP_KIND_NAMESPACE)
            np_error_set(err, NP_E_DUPLICATE_OBJECT,
                         "Namespace %s appears twice in this upload", name);
        else
            np_error_set(err, NP_E_DUPLICATE_OBJECT,
                         "%s %s/%s appears twice in this upload",
                         kind_names[kind], ns, name);
        return np_error_path(err, "metadata.name");
    }
    return 0;
}

static int
add_entry(struct np_builder *b, enum np_kind kind, const void *model,
          const char *ns, const char *name, struct np_error *err)
{
    struct entry *e = table_find(&b->tab[kind], ns, name);

    if (e != NULL) {
        /* Re-adding a removed object reuses its slot. */
        e->model = model;
        e->ns = ns;
        e->name = name;
        e->removed = false;
        e->seq = b->nadds++;
        return 0;
    }
    if (table_add(&b->tab[kind], model, ns, name, b->nadds) != 0)
        return NOMEM(err);
    b->nadds++;
    return 0;
}

int
np_builder_add_namespace(struct np_builder *b,
                         const struct np_model_namespace *ns,
                         struct np_error *err)
{
    const struct np_model_namespace *copy;
    bool fail = false;

    if (validate_meta("Namespace", NULL, ns->name, true, err) != 0 ||
        validate_labels(ns->labels, ns->nlabels, err) != 0 ||
        check_duplicate(b, NP_KIND_NAMESPACE, "", ns->name, err) != 0)
        return -1;
    copy = copy_namespace(b, ns, &fail);
    if (fail)
        return NOMEM(err);
    return add_entry(b, NP_KIND_NAMESPACE, copy, "", copy->name, err);
}

/* Container ports of a pod, or of a workload's template (kind and spec, the
 * path of the pod spec, say which); a port's own path wins over spec. */
static int
validate_container_ports(struct np_builder *b, const char *kind, const char *ns,
                         const char *name, const char *spec,
                         const struct np_model_container_port *ports,
                         size_t nports, struct np_error *err)
{
    size_t i, j;

    for (i = 0; i < nports; i++) {
        const struct np_model_container_port *cp = &ports[i];
        enum np_proto proto;
        char path[96];

        if (cp->path != NULL)
            snprintf(path, sizeof(path), "%s", cp->path);
        else
            snprintf(path, sizeof(path), "%s.containers[*].ports[%zu]", spec,
                     i);
        if (cp->port < 1 || cp->port > 65535) {
            np_error_set(err, NP_E_INVALID_PORT,
                         "containerPort %lld is out of range: use 1 to 65535",
                         (long long)cp->port);
            return np_error_path(err, "%s.containerPort", path);
        }
        if (cp->protocol != NULL &&
            np_proto_parse(cp->protocol, &proto, err) != 0)
            return np_error_path(err, "%s.protocol", path);
        if (cp->name != NULL && !np_port_name_is_valid(cp->name)) {
            np_error_set(err, NP_E_INVALID_PORT,
                         "port name \"%.60s\" is not valid: use at most 15 "
                         "lowercase letters, digits and '-', with at least "
                         "one letter",
                         cp->name);
            return np_error_path(err, "%s.name", path);
        }
        for (j = 0; cp->name != NULL && j < i; j++) {
            if (ports[j].name != NULL && strcmp(ports[j].name, cp->name) == 0) {
                warn(b,
                     "%s %s/%s: port name \"%s\" is used more than once; "
                     "named ports resolve to the first",
                     kind, ns, name, cp->name);
                break;
            }
        }
    }
    return 0;
}

static int
validate_pod(struct np_builder *b, const struct np_model_pod *pod,
             const char *ns, struct np_error *err)
{
    struct np_ip ip;
    size_t i;

    if (validate_meta("Pod", ns, pod->name, false, err) != 0 ||
        validate_labels(pod->labels, pod->nlabels, err) != 0 ||
        validate_container_ports(b, "Pod", ns, pod->name, "spec", pod->ports,
                                 pod->nports, err) != 0)
        return -1;
    for (i = 0; i < pod->nips; i++) {
        if (np_ip_parse(pod->ips[i], &ip, err) != 0)
            return np_error_path(err, "status.podIPs[%zu].ip", i);
    }
    if (pod->host_ip != NULL && pod->host_ip[0] != '\0' &&
        np_ip_parse(pod->host_ip, &ip, err) != 0)
        return np_error_path(err, "status.hostIP");
    return 0;
}

int
np_builder_add_pod(struct np_builder *b, const struct np_model_pod *pod,
                   struct np_error *err)
{
    const char *ns = ns_or_default(pod->namespace_);
    const struct np_model_pod *copy;
    bool fail = false;

    if (validate_pod(b, pod, ns, err) != 0 ||
        check_duplicate(b, NP_KIND_POD, ns, pod->name, err) != 0)
        return -1;
    copy = copy_pod(b, pod, ns, &fail);
    if (fail)
        return NOMEM(err);
    return add_entry(b, NP_KIND_POD, copy, copy->namespace_, copy->name, err);
}

int
np_builder_add_workload(struct np_builder *b, const struct np_model_workload *w,
                        struct np_error *err)
{
    const char *ns = ns_or_default(w->namespace_);
    const struct np_model_workload *copy;
    const char *tmpl, *key;
    char spec[64];
    bool fail = false;

    if (np__workload_validate(w, err) != 0 ||
        validate_meta(w->kind, ns, w->name, false, err) != 0)
        return -1;
    tmpl = np_workload_template_path(w->kind);
    if (validate_labels(w->labels, w->nlabels, err) != 0) {
        snprintf(spec, sizeof(spec), "%s.", tmpl);
        np_error_prefix_path(err, spec);
        return -1;
    }
    snprintf(spec, sizeof(spec), "%s.spec", tmpl);
    if (validate_container_ports(b, w->kind, ns, w->name, spec, w->ports,
                                 w->nports, err) != 0)
        return -1;
    /* The table names a workload by namespace and "Kind/name": kinds are
     * part of the identity, as in Kubernetes. */
    key = np_arena_printf(&b->arena, "%s/%s", w->kind, w->name);
    if (key == NULL)
        return NOMEM(err);
    if (check_duplicate(b, NP_KIND_WORKLOAD, ns, key, err) != 0)
        return -1;
    copy = copy_workload(b, w, ns, &fail);
    if (fail)
        return NOMEM(err);
    return add_entry(b, NP_KIND_WORKLOAD, copy, copy->namespace_, key, err);
}

static int
validate_ipblock(struct np_builder *b, const struct np_model_ipblock *ib,
                 const char *path, struct np_error *err)
{
    struct np_cidr cidr, ex;
    bool host_bits;
    size_t k;

    if (ib->cidr == NULL || ib->cidr[0] == '\0') {
        np_error_set(err, NP_E_MISSING_FIELD, "ipBlock needs a cidr");
        return np_error_path(err, "%s.ipBlock.cidr", path);
    }
    if (np_cidr_parse(ib->cidr, &cidr, &host_bits, err) != 0)
        return np_error_path(err, "%s.ipBlock.cidr", path);
    if (host_bits) {
        char canon[NP_CIDR_STRLEN];

        np_cidr_format(&cidr, canon, sizeof(canon));
        warn(b, "%s.ipBlock.cidr: \"%s\" has host bits set; it means %s", path,
             ib->cidr, canon);
    }
    for (k = 0; k < ib->nexcept; k++) {
        if (np_cidr_parse(ib->except[k], &ex, NULL, err) != 0)
            return np_error_path(err, "%s.ipBlock.except[%zu]", path, k);
        if (!np_cidr_strict_subset(&cidr, &ex)) {
            np_error_set(err, NP_E_INVALID_CIDR,
                         "except \"%.60s\" must be a strict subset of cidr "
                         "\"%.60s\" (same family, inside it, longer prefix)",
                         ib->except[k], ib->cidr);
            return np_error_path(err, "%s.ipBlock.except[%zu]", path, k);
        }
    }
    return 0;
}

static int
validate_port(const struct np_model_policy_port *pp, const char *path,
              struct np_error *err)
{
    enum np_proto proto;

    if (pp->protocol != NULL && np_proto_parse(pp->protocol, &proto, err) != 0)
        return np_error_path(err, "%s.protocol", path);
    if (pp->has_port && pp->port_name != NULL &&
        !np_port_name_is_valid(pp->port_name)) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port \"%.60s\" is neither a number nor a valid port "
                     "name (at most 15 lowercase letters, digits and '-', "
                     "with at least one letter)",
                     pp->port_name);
        return np_error_path(err, "%s.port", path);
    }
    if (pp->has_port && pp->port_name == NULL &&
        (pp->port < 1 || pp->port > 65535)) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "port %lld is out of range: use 1 to 65535",
                     (long long)pp->port);
        return np_error_path(err, "%s.port", path);
    }
    if (!pp->has_end_port)
        return 0;
    if (!pp->has_port || pp->port_name != NULL) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "endPort needs a numeric port: it may not be set when "
                     "port is %s",
                     pp->has_port ? "a name" : "missing");
        return np_error_path(err, "%s.endPort", path);
    }
    if (pp->end_port < pp->port || pp->end_port > 65535) {
        np_error_set(err, NP_E_INVALID_PORT,
                     "endPort %lld must be between port %lld and 65535",
                     (long long)pp->end_port, (long long)pp->port);
        return np_error_path(err, "%s.endPort", path);
    }
    return 0;
}

static int
validate_rules(struct np_builder *b, const struct np_model_rule *rules,
               size_t n, enum np_dir dir, struct np_error *err)
{
    const char *list = dir == NP_DIR_INGRESS ? "ingress" : "egress";
    const char *peers = dir == NP_DIR_INGRESS ? "from" : "to";
    char path[160];
    size_t i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < rules[i].npeers; j++) {
            const struct np_model_peer *p = &rules[i].peers[j];

            snprintf(path, sizeof(path), "spec.%s[%zu].%s[%zu]", list, i, peers,
                     j);
            if (p->pod_selector == NULL && p->namespace_selector == NULL &&
                p->ipblock == NULL) {
                np_error_set(err, NP_E_INVALID_PEER,
                             "a peer must set podSelector, namespaceSelector "
                             "or ipBlock");
                return np_error_path(err, "%s", path);
            }
            if (p->ipblock != NULL &&
                (p->pod_selector != NULL || p->namespace_selector != NULL)) {
                np_error_set(err, NP_E_INVALID_PEER,
                             "a peer with ipBlock may not also set "
                             "podSelector or namespaceSelector; use separate "
                             "peers");
                return np_error_path(err, "%s", path);
            }
            if (p->ipblock != NULL &&
                validate_ipblock(b, p->ipblock, path, err) != 0)
                return -1;
            if (p->pod_selector != NULL) {
                char sp[192];

                snprintf(sp, sizeof(sp), "%s.podSelector", path);
                if (np_selector_validate(p->pod_selector, sp, err) != 0)
                    return -1;
            }
            if (p->namespace_selector != NULL) {
                char sp[192];

                snprintf(sp, sizeof(sp), "%s.namespaceSelector", path);
                if (np_selector_validate(p->namespace_selector, sp, err) != 0)
                    return -1;
            }
        }
        for (j = 0; j < rules[i].nports; j++) {
            snprintf(path, sizeof(path), "spec.%s[%zu].ports[%zu]", list, i, j);
            if (validate_port(&rules[i].ports[j], path, err) != 0)
                return -1;
        }
    }
    return 0;
}

static int
validate_policy(struct np_builder *b, const struct np_model_policy *pol,
                const char *ns, struct np_error *err)
{
    size_t i;

    if (validate_meta("NetworkPolicy", ns, pol->name, false, err) != 0)
        return -1;
    if (np_selector_validate(&pol->pod_selector, "spec.podSelector", err) != 0)
        return -1;
    for (i = 0; i < pol->ntypes; i++) {
        const char *t = pol->types[i];

        if (t == NULL ||
            (strcmp(t, "Ingress") != 0 && strcmp(t, "Egress") != 0)) {
            np_error_set(err, NP_E_INVALID_POLICY_TYPE,
                         "policyType \"%.40s\" is not valid: use Ingress "
                         "and/or Egress",
                         t == NULL ? "" : t);
            return np_error_path(err, "spec.policyTypes[%zu]", i);
        }
    }
    if (pol->ntypes > 2) {
        np_error_set(err, NP_E_INVALID_POLICY_TYPE,
                     "policyTypes lists more than two entries");
        return np_error_path(err, "spec.policyTypes");
    }
    return validate_rules(b, pol->ingress, pol->ningress, NP_DIR_INGRESS,
                          err) ||
           validate_rules(b, pol->egress, pol->negress, NP_DIR_EGRESS, err);
}

int
np_builder_add_policy(struct np_builder *b, const struct np_model_policy *pol,
                      struct np_error *err)
{
    const char *ns = ns_or_default(pol->namespace_);
    const struct np_model_policy *copy;
    bool fail = false;

    if (validate_policy(b, pol, ns, err) != 0)
        return -1;
    if (check_duplicate(b, NP_KIND_POLICY, ns, pol->name, err) != 0)
        return -1;
    copy = copy_policy(b, pol, ns, &fail);
    if (fail)
        return NOMEM(err);
    return add_entry(b, NP_KIND_POLICY, copy, copy->namespace_, copy->name,
                     err);
}

/* All or nothing: the duplicates are looked for and every table is made
 * large enough before anything moves, so that a failure leaves dst as it
 * was. */
int
np_builder_absorb(struct np_builder *dst, struct np_builder *src,
                  struct np_error *err)
{
    const struct entry *dup_entry = NULL;
    enum np_kind dup_kind = NP_KIND_NAMESPACE;
    size_t n[NP_KIND__MAX];
    size_t nwarnings, i;
    int k;

    for (k = 0; k < NP_KIND__MAX; k++) {
        n[k] = 0;
        for (i = 0; i < src->tab[k].n; i++) {
            const struct entry *e = &src->tab[k].v[i];
            const struct entry *d;

            if (e->removed)
                continue;
            n[k]++;
            d = table_find(&dst->tab[k], e->ns, e->name);
            if (d != NULL && !d->removed &&
                (dup_entry == NULL || e->seq < dup_entry->seq)) {
                dup_entry = e;
                dup_kind = (enum np_kind)k;
            }
        }
    }
    /* The duplicate the adds of src's objects into dst would have met
     * first, reported as they would have reported it. */
    if (dup_entry != NULL)
        return check_duplicate(dst, dup_kind, dup_entry->ns, dup_entry->name,
                               err);
    for (k = 0; k < NP_KIND__MAX; k++) {
        if (table_reserve(&dst->tab[k], dst->tab[k].n + n[k]) != 0)
            return NOMEM(err);
    }
    nwarnings = dst->nwarnings + src->nwarnings;
    if (nwarnings > NP_BUILDER_MAX_WARNINGS)
        nwarnings = NP_BUILDER_MAX_WARNINGS;
    if (nwarnings > dst->capwarnings) {
        char **nw = realloc(dst->warnings, nwarnings * sizeof(*nw));

        if (nw == NULL)
            return NOMEM(err);
        dst->warnings = nw;
        dst->capwarnings = nwarnings;
    }

    /* Nothing fails from here on. Entries keep their order of adds, after
     * dst's own. */
    for (k = 0; k < NP_KIND__MAX; k++) {
        for (i = 0; i < src->tab[k].n; i++) {
            const struct entry *e = &src->tab[k].v[i];
            struct entry *d;

            if (e->removed)
                continue;
            d = table_find(&dst->tab[k], e->ns, e->name);
            if (d != NULL) {
                /* A removed object's slot is reused, as add_entry() does. */
                d->model = e->model;
                d->ns = e->ns;
                d->name = e->name;
                d->removed = false;
                d->seq = dst->nadds + e->seq;
            } else {
                /* Cannot fail: the table has room (table_reserve()). */
                table_add(&dst->tab[k], e->model, e->ns, e->name,
                          dst->nadds + e->seq);
            }
        }
        table_fini(&src->tab[k]);
    }
    dst->nadds += src->nadds;
    src->nadds = 0;
    for (i = 0; i < src->nwarnings && dst->nwarnings < nwarnings; i++)
        dst->warnings[dst->nwarnings++] = src->warnings[i];
    src->nwarnings = 0;
    /* The models and warnings live in src's arena: dst takes its blocks. */
    np_arena_absorb(&dst->arena, &src->arena);
    return 0;
}

int
np_builder_keep_from(struct np_builder *b, const struct np_snapshot *base,
                     struct np_error *err)
{
    bool fail = false;
    uint32_t i;

    for (i = 0; i < base->nnamespaces; i++) {
        const struct np_namespace *n = &base->namespaces[i];
        const struct np_model_namespace *c;

        if (n->model == NULL ||
            table_find(&b->tab[NP_KIND_NAMESPACE], "", n->name) != NULL)
            continue;
        c = copy_namespace(b, n->model, &fail);
        if (fail || add_entry(b, NP_KIND_NAMESPACE, c, "", c->name, err) != 0)
            return NOMEM(err);
    }
    for (i = 0; i < base->npods; i++) {
        const struct np_pod *p = &base->pods[i];
        const char *ns = base->namespaces[p->ns].name;
        const struct np_model_pod *c;

        if (table_find(&b->tab[NP_KIND_POD], ns, p->name) != NULL)
            continue;
        c = copy_pod(b, p->model, ns, &fail);
        if (fail ||
            add_entry(b, NP_KIND_POD, c, c->namespace_, c->name, err) != 0)
            return NOMEM(err);
    }
    for (i = 0; i < base->npolicies; i++) {
        const struct np_policy *p = &base->policies[i];
        const char *ns = base->namespaces[p->ns].name;
        const struct np_model_policy *c;

        if (table_find(&b->tab[NP_KIND_POLICY], ns, p->name) != NULL)
            continue;
        c = copy_policy(b, p->model, ns, &fail);
        if (fail ||
            add_entry(b, NP_KIND_POLICY, c, c->namespace_, c->name, err) != 0)
            return NOMEM(err);
    }
    for (i = 0; i < base->nworkloads; i++) {
        const struct np_pod *w = &base->workloads[i];
        const char *ns = base->namespaces[w->ns].name;
        const char *key =
            np_arena_printf(&b->arena, "%s/%s", w->workload_kind, w->name);
        const struct np_model_workload *c;

        if (key == NULL)
            return NOMEM(err);
        if (table_find(&b->tab[NP_KIND_WORKLOAD], ns, key) != NULL)
            continue;
        c = copy_workload(b, base->workload_info[i].model, ns, &fail);
        if (fail ||
            add_entry(b, NP_KIND_WORKLOAD, c, c->namespace_, key, err) != 0)
            return NOMEM(err);
    }
    return 0;
}

bool
np_builder_remove(struct np_builder *b, enum np_kind kind, const char *ns,
                  const char *name)
{
    struct entry *e;
    size_t i;
    int k;

    if (kind == NP_KIND_NAMESPACE) {
        bool any = false;

        e = table_find(&b->tab[NP_KIND_NAMESPACE], "", name);
        if (e != NULL && !e->removed) {
            e->removed = true;
            any = true;
        }
        /* Deleting a namespace deletes what lives in it. */
        for (k = NP_KIND_POD; k < NP_KIND__MAX; k++) {
            for (i = 0; i < b->tab[k].n; i++) {
                e = &b->tab[k].v[i];
                if (!e->removed && strcmp(e->ns, name) == 0) {
                    e->removed = true;
                    any = true;
                }
            }
        }
        return any;
    }
    e = table_find(&b->tab[kind], ns_or_default(ns), name);
    if (e == NULL || e->removed)
        return false;
    e->removed = true;
    return true;
}

/* --- compilation --- */

struct build {
    struct np_builder *b;
    struct np_snapshot *snap;
    struct np_arena *a; /* the snapshot's arena */
    struct np_error *err;
};

static int
cmp_str_ptr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int
cmp_entry_ptr(const void *x, const void *y)
{
    const struct entry *a = *(const struct entry *const *)x;
    const struct entry *b = *(const struct entry *const *)y;
    int c = strcmp(a->ns, b->ns);

    return c != 0 ? c : strcmp(a->name, b->name);
}

static int
cmp_label(const void *x, const void *y)
{
    const struct np_label *a = x, *b = y;

    return a->key < b->key ? -1 : a->key > b->key;
}

static int
cmp_ip_entry(const void *x, const void *y)
{
    const struct np_ip_entry *a = x, *b = y;
    int c = np_ip_compare(&a->ip, &b->ip);

    if (c != 0)
        return c;
    return a->pod < b->pod ? -1 : a->pod > b->pod;
}

/* Interns labels into a sorted set; extra_key/extra_value (if set) is added
 * or overrides. */
static int
make_labels(struct build *bd, const struct np_model_label *src, size_t n,
            np_sym extra_key, const char *extra_value, struct np_labels *out)
{
    struct np_label *l;
    size_t i, m = 0;

    l = np_arena_calloc(bd->a, n + 1, sizeof(*l));
    if (l == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < n; i++) {
        np_sym k = np_intern_add(bd->snap->syms, src[i].key);

        if (k == extra_key && extra_key != NP_SYM_NONE)
            continue;
        l[m].key = k;
        l[m].value = np_intern_add(bd->snap->syms, src[i].value);
        if (l[m].key == NP_SYM_NONE || l[m].value == NP_SYM_NONE)
            return NOMEM(bd->err);
        m++;
    }
    if (extra_key != NP_SYM_NONE) {
        l[m].key = extra_key;
        l[m].value = np_intern_add(bd->snap->syms, extra_value);
        if (l[m].value == NP_SYM_NONE)
            return NOMEM(bd->err);
        m++;
    }
    qsort(l, m, sizeof(*l), cmp_label);
    out->items = l;
    out->n = (uint32_t)m;
    return 0;
}

/* Collects live entries of a kind, sorted by namespace and name. */
static struct entry **
sorted_entries(struct np_builder *b, enum np_kind kind, size_t *n)
{
    struct table *t = &b->tab[kind];
    struct entry **v;
    size_t i, m = 0;

    v = malloc((t->n + 1) * sizeof(*v));
    if (v == NULL)
        return NULL;
    for (i = 0; i < t->n; i++) {
        if (!t->v[i].removed)
            v[m++] = &t->v[i];
    }
    qsort(v, m, sizeof(*v), cmp_entry_ptr);
    *n = m;
    return v;
}

static int
build_namespaces(struct build *bd, struct entry **pods, size_t npods,
                 struct entry **pols, size_t npols, struct entry **wls,
                 size_t nwls)
{
    struct np_builder *b = bd->b;
    struct table *nt = &b->tab[NP_KIND_NAMESPACE];
    struct np_namespace *nss;
    const char **names;
    size_t n = 0, i, m = 0;

    names = malloc((nt->n + npods + npols + nwls + 1) * sizeof(*names));
    if (names == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < nt->n; i++) {
        if (!nt->v[i].removed)
            names[n++] = nt->v[i].name;
    }
    for (i = 0; i < npods; i++)
        names[n++] = pods[i]->ns;
    for (i = 0; i < npols; i++)
        names[n++] = pols[i]->ns;
    for (i = 0; i < nwls; i++)
        names[n++] = wls[i]->ns;
    qsort(names, n, sizeof(*names), cmp_str_ptr);
    for (i = 0; i < n; i++) {
        if (m == 0 || strcmp(names[m - 1], names[i]) != 0)
            names[m++] = names[i];
    }
    nss = np_arena_calloc(bd->a, m + 1, sizeof(*nss));
    if (nss == NULL) {
        free(names);
        return NOMEM(bd->err);
    }
    for (i = 0; i < m; i++) {
        struct entry *e = table_find(nt, "", names[i]);
        const struct np_model_namespace *model = NULL;

        if (e != NULL && !e->removed)
            model = e->model;
        nss[i].id = (uint32_t)i;
        nss[i].name = np_arena_strdup(bd->a, names[i]);
        nss[i].name_len = (uint32_t)strlen(names[i]);
        nss[i].implicit = model == NULL;
        nss[i].model = model;
        /* The API server sets kubernetes.io/metadata.name on every
         * namespace, whatever the manifest says. */
        if (nss[i].name == NULL ||
            make_labels(bd, model != NULL ? model->labels : NULL,
                        model != NULL ? model->nlabels : 0,
                        bd->snap->ns_name_key, names[i], &nss[i].labels) != 0) {
            free(names);
            return NOMEM(bd->err);
        }
        if (model != NULL)
            bd->snap->ndeclared_namespaces++;
    }
    free(names);
    bd->snap->namespaces = nss;
    bd->snap->nnamespaces = (uint32_t)m;
    return 0;
}

static int
build_pods(struct build *bd, struct entry **ents, size_t n)
{
    struct np_snapshot *snap = bd->snap;
    struct np_pod *pods;
    struct np_ip_entry *ips;
    size_t i, j, nips = 0, totalips = 0;

    pods = np_arena_calloc(bd->a, n + 1, sizeof(*pods));
    if (pods == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < n; i++)
        totalips += ((const struct np_model_pod *)ents[i]->model)->nips;
    ips = np_arena_calloc(bd->a, totalips + 1, sizeof(*ips));
    if (ips == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < n; i++) {
        const struct np_model_pod *m = ents[i]->model;
        struct np_pod *p = &pods[i];
        const struct np_namespace *ns;
        struct np_container_port *cp;
        struct np_ip *pips;
        bool terminal;

        ns = np_snapshot_find_namespace(snap, ents[i]->ns);
        p->id = (uint32_t)i;
        p->name = m->name;
        p->name_len = (uint32_t)strlen(m->name);
        p->ns = ns->id;
        p->model = m;
        p->host_network = m->host_network;
        p->phase = m->phase;
        if (make_labels(bd, m->labels, m->nlabels, NP_SYM_NONE, NULL,
                        &p->labels) != 0)
            return -1;
        cp = np_arena_calloc(bd->a, m->nports + 1, sizeof(*cp));
        if (cp == NULL)
            return NOMEM(bd->err);
        for (j = 0; j < m->nports; j++) {
            enum np_proto proto = NP_PROTO_TCP;

            if (m->ports[j].protocol != NULL)
                np_proto_parse(m->ports[j].protocol, &proto, NULL);
            cp[j].port = (uint16_t)m->ports[j].port;
            cp[j].proto = (uint8_t)proto;
            if (m->ports[j].name != NULL) {
                cp[j].name = np_intern_add(snap->syms, m->ports[j].name);
                if (cp[j].name == NP_SYM_NONE)
                    return NOMEM(bd->err);
            }
        }
        p->ports = cp;
        p->nports = (uint32_t)m->nports;
        if (m->host_ip != NULL && m->host_ip[0] != '\0' &&
            np_ip_parse(m->host_ip, &p->host_ip, NULL) == 0)
            p->has_host_ip = true;
        pips = np_arena_calloc(bd->a, m->nips + 1, sizeof(*pips));
        if (pips == NULL)
            return NOMEM(bd->err);
        for (j = 0; j < m->nips; j++) {
            struct np_ip ip;
            uint32_t k;
            bool seen = false;

            if (np_ip_parse(m->ips[j], &ip, NULL) != 0)
                continue;
            for (k = 0; k < p->nips; k++)
                seen = seen || np_ip_equal(&pips[k], &ip);
            if (!seen)
                pips[p->nips++] = ip;
        }
        p->ips = pips;
        /* A pod that has finished no longer owns its address: the IP may
         * already belong to another pod. hostNetwork pods share the node's
         * address, so they are reached by IP as outside addresses. */
        terminal = m->phase != NULL && (strcmp(m->phase, "Succeeded") == 0 ||
                                        strcmp(m->phase, "Failed") == 0);
        if (!p->host_network && !terminal) {
            for (j = 0; j < p->nips; j++) {
                ips[nips].ip = pips[j];
                ips[nips].pod = (uint32_t)i;
                nips++;
            }
        }
    }
    qsort(ips, nips, sizeof(*ips), cmp_ip_entry);
    for (i = 1; i < nips; i++) {
        if (np_ip_equal(&ips[i - 1].ip, &ips[i].ip)) {
            char buf[NP_IP_STRLEN];

            np_ip_format(&ips[i].ip, buf, sizeof(buf));
            warn(bd->b,
                 "pods %s/%s and %s/%s both have IP %s; the address is "
                 "taken to mean the first",
                 snap->namespaces[pods[ips[i - 1].pod].ns].name,
                 pods[ips[i - 1].pod].name,
                 snap->namespaces[pods[ips[i].pod].ns].name,
                 pods[ips[i].pod].name, buf);
        }
    }
    snap->pods = pods;
    snap->npods = (uint32_t)n;
    snap->ips = ips;
    snap->nips = (uint32_t)nips;
    /* Namespace ranges: pods are sorted by namespace name, as are the
     * namespaces themselves. */
    for (i = 0; i < n; i++) {
        struct np_namespace *ns =
            (struct np_namespace *)&snap->namespaces[pods[i].ns];

        if (ns->npods == 0)
            ns->first_pod = (uint32_t)i;
        ns->npods++;
    }
    return 0;
}

static const struct np_selector *
compile_selector(struct build *bd, const struct np_model_selector *m)
{
    struct np_selector *s;

    if (m == NULL)
        return NULL;
    s = np_arena_alloc(bd->a, sizeof(*s));
    if (s == NULL ||
        np_selector_compile(m, bd->snap->syms, bd->a, s, bd->err) != 0) {
        NOMEM(bd->err);
        return NULL;
    }
    return s;
}

static const char *
peer_text(struct build *bd, const struct np_peer *p, const char *own_ns)
{
    char cidr[NP_CIDR_STRLEN], ex[NP_CIDR_STRLEN];
    char *buf;
    size_t len, off;
    uint32_t i;

    if (p->kind == NP_PEER_IPBLOCK) {
        np_cidr_format(&p->cidr, cidr, sizeof(cidr));
        if (p->nexcept == 0)
            return np_arena_printf(bd->a, "ipBlock %s", cidr);
        len = 64 + p->nexcept * NP_CIDR_STRLEN;
        buf = np_arena_alloc(bd->a, len);
        if (buf == NULL)
            return NULL;
        off = (size_t)snprintf(buf, len, "ipBlock %s except ", cidr);
        for (i = 0; i < p->nexcept; i++) {
            np_cidr_format(&p->except[i], ex, sizeof(ex));
            off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                    ex);
        }
        return buf;
    }
    if (p->ns_sel == NULL)
        return p->pod_sel == NULL || np_selector_is_empty(p->pod_sel)
                   ? np_arena_printf(bd->a, "every pod in namespace %s", own_ns)
                   : np_arena_printf(bd->a,
                                     "pods matching podSelector %s in "
                                     "namespace %s",
                                     p->pod_sel->text, own_ns);
    if (np_selector_is_empty(p->ns_sel)) {
        if (p->pod_sel == NULL || np_selector_is_empty(p->pod_sel))
            return "every pod in every namespace";
        return np_arena_printf(bd->a,
                               "pods matching podSelector %s in every "
                               "namespace",
                               p->pod_sel->text);
    }
    if (p->pod_sel == NULL || np_selector_is_empty(p->pod_sel))
        return np_arena_printf(bd->a,
                               "every pod in namespaces matching "
                               "namespaceSelector %s",
                               p->ns_sel->text);
    return np_arena_printf(bd->a,
                           "pods matching podSelector %s in namespaces "
                           "matching namespaceSelector %s",
                           p->pod_sel->text, p->ns_sel->text);
}

static const char *
port_text(struct build *bd, const struct np_pport *pp)
{
    const char *proto = np_proto_name((enum np_proto)pp->proto);

    switch (pp->kind) {
    case NP_PPORT_ALL:
        return np_arena_printf(bd->a, "any %s port", proto);
    case NP_PPORT_NUMBER:
        return np_arena_printf(bd->a, "%u/%s", pp->port, proto);
    case NP_PPORT_RANGE:
        return np_arena_printf(bd->a, "%u-%u/%s", pp->port, pp->end_port,
                               proto);
    case NP_PPORT_NAMED:
        return np_arena_printf(bd->a, "%s/%s",
                               np_intern_str(bd->snap->syms, pp->name), proto);
    }
    return "?";
}

static int
compile_rules(struct build *bd, const struct np_model_rule *src, size_t n,
              const char *own_ns, const struct np_rule **out)
{
    struct np_rule *rules;
    size_t i, j, k;

    *out = NULL;
    if (n == 0)
        return 0;
    rules = np_arena_calloc(bd->a, n, sizeof(*rules));
    if (rules == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < n; i++) {
        struct np_peer *peers;
        struct np_pport *ports;

        peers = np_arena_calloc(bd->a, src[i].npeers + 1, sizeof(*peers));
        ports = np_arena_calloc(bd->a, src[i].nports + 1, sizeof(*ports));
        if (peers == NULL || ports == NULL)
            return NOMEM(bd->err);
        for (j = 0; j < src[i].npeers; j++) {
            const struct np_model_peer *mp = &src[i].peers[j];
            struct np_peer *p = &peers[j];

            if (mp->ipblock != NULL) {
                struct np_cidr *ex;

                p->kind = NP_PEER_IPBLOCK;
                np_cidr_parse(mp->ipblock->cidr, &p->cidr, NULL, NULL);
                ex = np_arena_calloc(bd->a, mp->ipblock->nexcept + 1,
                                     sizeof(*ex));
                if (ex == NULL)
                    return NOMEM(bd->err);
                for (k = 0; k < mp->ipblock->nexcept; k++)
                    np_cidr_parse(mp->ipblock->except[k], &ex[k], NULL, NULL);
                p->except = ex;
                p->nexcept = (uint32_t)mp->ipblock->nexcept;
            } else {
                p->kind = NP_PEER_PODS;
                p->pod_sel = compile_selector(bd, mp->pod_selector);
                p->ns_sel = compile_selector(bd, mp->namespace_selector);
                if ((mp->pod_selector != NULL && p->pod_sel == NULL) ||
                    (mp->namespace_selector != NULL && p->ns_sel == NULL))
                    return -1;
            }
            p->text = peer_text(bd, p, own_ns);
            if (p->text == NULL)
                return NOMEM(bd->err);
            p->text_len = (uint32_t)strlen(p->text);
        }
        for (j = 0; j < src[i].nports; j++) {
            const struct np_model_policy_port *mp = &src[i].ports[j];
            struct np_pport *pp = &ports[j];
            enum np_proto proto = NP_PROTO_TCP;

            if (mp->protocol != NULL)
                np_proto_parse(mp->protocol, &proto, NULL);
            pp->proto = (uint8_t)proto;
            if (!mp->has_port) {
                pp->kind = NP_PPORT_ALL;
            } else if (mp->port_name != NULL) {
                pp->kind = NP_PPORT_NAMED;
                pp->name = np_intern_add(bd->snap->syms, mp->port_name);
                if (pp->name == NP_SYM_NONE)
                    return NOMEM(bd->err);
            } else if (mp->has_end_port) {
                pp->kind = NP_PPORT_RANGE;
                pp->port = (uint16_t)mp->port;
                pp->end_port = (uint16_t)mp->end_port;
            } else {
                pp->kind = NP_PPORT_NUMBER;
                pp->port = (uint16_t)mp->port;
            }
            pp->text = port_text(bd, pp);
            if (pp->text == NULL)
                return NOMEM(bd->err);
            pp->text_len = (uint32_t)strlen(pp->text);
        }
        rules[i].peers = peers;
        rules[i].npeers = (uint32_t)src[i].npeers;
        rules[i].ports = ports;
        rules[i].nports = (uint32_t)src[i].nports;
    }
    *out = rules;
    return 0;
}

static int
build_policies(struct build *bd, struct entry **ents, size_t n)
{
    struct np_snapshot *snap = bd->snap;
    struct np_policy *pols;
    size_t i, t;

    pols = np_arena_calloc(bd->a, n + 1, sizeof(*pols));
    if (pols == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < n; i++) {
        const struct np_model_policy *m = ents[i]->model;
        struct np_policy *p = &pols[i];
        const struct np_namespace *ns;

        ns = np_snapshot_find_namespace(snap, ents[i]->ns);
        p->id = (uint32_t)i;
        p->name = m->name;
        p->name_len = (uint32_t)strlen(m->name);
        p->ns = ns->id;
        p->model = m;
        if (np_selector_compile(&m->pod_selector, snap->syms, bd->a,
                                &p->pod_sel, bd->err) != 0)
            return -1;
        /* SetDefaults_NetworkPolicy: without policyTypes a policy is an
         * Ingress policy, and an Egress one too when it has at least one
         * egress rule (an empty egress list adds nothing). */
        if (m->ntypes == 0) {
            p->types_defaulted = true;
            p->affects[NP_DIR_INGRESS] = true;
            p->affects[NP_DIR_EGRESS] = m->negress > 0;
        }
        for (t = 0; t < m->ntypes; t++) {
            if (strcmp(m->types[t], "Ingress") == 0)
                p->affects[NP_DIR_INGRESS] = true;
            else if (strcmp(m->types[t], "Egress") == 0)
                p->affects[NP_DIR_EGRESS] = true;
        }
        if (compile_rules(bd, m->ingress, m->ningress, ns->name,
                          &p->rules[NP_DIR_INGRESS]) != 0 ||
            compile_rules(bd, m->egress, m->negress, ns->name,
                          &p->rules[NP_DIR_EGRESS]) != 0)
            return -1;
        p->nrules[NP_DIR_INGRESS] = (uint32_t)m->ningress;
        p->nrules[NP_DIR_EGRESS] = (uint32_t)m->negress;
        if (m->ningress > 0 && !p->affects[NP_DIR_INGRESS])
            warn(bd->b,
                 "NetworkPolicy %s/%s has ingress rules but its policyTypes "
                 "leave out Ingress; the rules have no effect",
                 ns->name, m->name);
        if (m->negress > 0 && !p->affects[NP_DIR_EGRESS])
            warn(bd->b,
                 "NetworkPolicy %s/%s has egress rules but its policyTypes "
                 "leave out Egress; the rules have no effect",
                 ns->name, m->name);
    }
    snap->policies = pols;
    snap->npolicies = (uint32_t)n;
    for (i = 0; i < n; i++) {
        struct np_namespace *ns =
            (struct np_namespace *)&snap->namespaces[pols[i].ns];

        if (ns->npolicies == 0)
            ns->first_policy = (uint32_t)i;
        ns->npolicies++;
    }
    return 0;
}

/* Which pods each policy selects, and so which policies isolate each pod.
 * A policy only selects pods of its own namespace, which is a contiguous
 * range; the cost is the sum over namespaces of pods x policies there. */
static int
build_selection(struct build *bd)
{
    struct np_snapshot *snap = bd->snap;
    struct np__u32vec *bypod = NULL, sel = { 0 };
    uint32_t i, j, d;
    int rc = -1;

    bypod = calloc((size_t)snap->npods * (NP_DIR__MAX + 1) + 1, sizeof(*bypod));
    if (bypod == NULL)
        return NOMEM(bd->err);
    for (i = 0; i < snap->npolicies; i++) {
        struct np_policy *p = (struct np_policy *)&snap->policies[i];
        const struct np_namespace *ns = &snap->namespaces[p->ns];
        uint32_t *v;

        sel.n = 0;
        for (j = ns->first_pod; j < ns->first_pod + ns->npods; j++) {
            const struct np_pod *pod = &snap->pods[j];

            /* hostNetwork pods are outside the pod network: policies do
             * not apply to them. */
            if (pod->host_network ||
                !np_selector_matches(&p->pod_sel, &pod->labels))
                continue;
            if (np__u32vec_push(&sel, j) != 0)
                goto nomem;
            for (d = 0; d < NP_DIR__MAX; d++) {
                if (p->affects[d] &&
                    np__u32vec_push(&bypod[(size_t)j * (NP_DIR__MAX + 1) + d],
                                    i) != 0)
                    goto nomem;
            }
            if (np__u32vec_push(
                    &bypod[(size_t)j * (NP_DIR__MAX + 1) + NP_DIR__MAX], i) !=
                0)
                goto nomem;
        }
        v = np_arena_calloc(bd->a, sel.n + 1, sizeof(*v));
        if (v == NULL)
            goto nomem;
        if (sel.n > 0)
            memcpy(v, sel.v, sel.n * sizeof(*v));
        p->selected = v;
        p->nselected = (uint32_t)sel.n;
    }
    for (j = 0; j < snap->npods; j++) {
        struct np_pod *pod = (struct np_pod *)&snap->pods[j];

        for (d = 0; d <= NP_DIR__MAX; d++) {
            struct np__u32vec *vec = &bypod[(size_t)j * (NP_DIR__MAX + 1) + d];
            uint32_t *v = NULL;

            if (vec->n > 0) {
                v = np_arena_calloc(bd->a, vec->n, sizeof(*v));
                if (v == NULL)
                    goto nomem;
                memcpy(v, vec->v, vec->n * sizeof(*v));
            }
            if (d < NP_DIR__MAX) {
                pod->policies[d] = v;
                pod->npolicies[d] = (uint32_t)vec->n;
            } else {
                pod->selected_by = v;
                pod->nselected_by = (uint32_t)vec->n;
            }
        }
    }
    rc = 0;
    goto out;
nomem:
    NOMEM(bd->err);
out:
    for (j = 0; j < (size_t)snap->npods * (NP_DIR__MAX + 1); j++)
        np__u32vec_fini(&bypod[j]);
    free(bypod);
    np__u32vec_fini(&sel);
    return rc;
}

/* Printable ASCII without '"' or '\\' (struct np_snapshot.texts_plain). */
static bool
plain(const char *s)
{
    const unsigned char *p;

    if (s == NULL)
        return true;
    for (p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            return false;
    return true;
}

static bool
selector_plain(const struct np_selector *sel)
{
    uint32_t i;

    if (sel == NULL)
        return true;
    if (!plain(sel->text))
        return false;
    for (i = 0; i < sel->nreqs; i++)
        if (!plain(sel->reqs[i].text))
            return false;
    return true;
}

static bool
pod_plain(const struct np_pod *p)
{
    return plain(p->name) && plain(p->workload_kind);
}

static bool
texts_plain(const struct np_snapshot *snap)
{
    uint32_t i, j, k;
    int d;

    for (i = 0; i < snap->nnamespaces; i++)
        if (!plain(snap->namespaces[i].name))
            return false;
    for (i = 0; i < snap->npods; i++)
        if (!pod_plain(&snap->pods[i]))
            return false;
    for (i = 0; i < snap->nworkloads; i++)
        if (!pod_plain(&snap->workloads[i]))
            return false;
    for (i = 0; i < snap->npolicies; i++) {
        const struct np_policy *pol = &snap->policies[i];

        if (!plain(pol->name) || !selector_plain(&pol->pod_sel))
            return false;
        for (d = 0; d < NP_DIR__MAX; d++) {
            for (j = 0; j < pol->nrules[d]; j++) {
                const struct np_rule *r = &pol->rules[d][j];

                for (k = 0; k < r->npeers; k++)
                    if (!plain(r->peers[k].text) ||
                        !selector_plain(r->peers[k].pod_sel) ||
                        !selector_plain(r->peers[k].ns_sel))
                        return false;
                for (k = 0; k < r->nports; k++)
                    if (!plain(r->ports[k].text) ||
                        (r->ports[k].kind == NP_PPORT_NAMED &&
                         !plain(np_snapshot_str(snap, r->ports[k].name))))
                        return false;
            }
        }
    }
    return true;
}

struct np_snapshot *
np_builder_build(struct np_builder *b, uint64_t revision, struct np_error *err)
{
    struct entry **pods = NULL, **pols = NULL, **wls = NULL;
    const struct np_model_workload **wmodels = NULL;
    size_t npods = 0, npols = 0, nwls = 0, j;
    struct np_snapshot *snap;
    struct build bd;

    snap = np_snapshot_new_empty();
    if (snap == NULL) {
        NOMEM(err);
        return NULL;
    }
    /* The snapshot takes over the builder's arena with every model copy. */
    snap->arena = b->arena;
    np_arena_init(&b->arena);
    snap->revision = revision;
    bd.b = b;
    bd.snap = snap;
    bd.a = &snap->arena;
    bd.err = err;
    pods = sorted_entries(b, NP_KIND_POD, &npods);
    pols = sorted_entries(b, NP_KIND_POLICY, &npols);
    wls = sorted_entries(b, NP_KIND_WORKLOAD, &nwls);
    wmodels = wls != NULL ? malloc((nwls + 1) * sizeof(*wmodels)) : NULL;
    if (pods == NULL || pols == NULL || wmodels == NULL) {
        NOMEM(err);
        goto fail;
    }
    for (j = 0; j < nwls; j++)
        wmodels[j] = wls[j]->model;
    /* Workloads compile last: they need the namespaces, the policies and
     * the pods they own (core/workload.c). */
    if (build_namespaces(&bd, pods, npods, pols, npols, wls, nwls) != 0 ||
        build_pods(&bd, pods, npods) != 0 ||
        (np_snapshot_index_pods(snap) != 0 && NOMEM(err) != 0) ||
        build_policies(&bd, pols, npols) != 0 || build_selection(&bd) != 0 ||
        np__workloads_build(snap, bd.a, wmodels, nwls, err) != 0)
        goto fail;
    snap->texts_plain = texts_plain(snap);
    free(pods);
    free(pols);
    free(wls);
    free(wmodels);
    /* Warnings live in the arena the snapshot took: copy them out. */
    {
        size_t i;

        for (i = 0; i < b->nwarnings; i++) {
            b->warnings[i] = np_arena_strdup(&b->arena, b->warnings[i]);
            if (b->warnings[i] == NULL) {
                b->nwarnings = i;
                break;
            }
        }
    }
    for (int k = 0; k < NP_KIND__MAX; k++)
        table_fini(&b->tab[k]);
    return snap;
fail:
    free(pods);
    free(pols);
    free(wls);
    free(wmodels);
    /* The models are gone with the arena: empty the builder so that it can
     * only be freed. */
    for (int k = 0; k < NP_KIND__MAX; k++)
        table_fini(&b->tab[k]);
    b->nwarnings = 0;
    np_snapshot_release(snap);
    return NULL;
}
