/*
 * The reference evaluator (refeval.h). Each function is one sentence of the
 * Kubernetes API reference; the comments quote or paraphrase it. Nothing is
 * cached: a namespace's labels are looked up by scanning the declared
 * namespaces each time, a policy's selection by matching its podSelector
 * each time. Addresses are compared as bytes from inet_pton(), so
 * "fd00::1" and "fd00:0::1" are the same address.
 */
#include "tests/support/refeval.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAME_KEY "kubernetes.io/metadata.name"

/* --- labels and selectors (metav1.LabelSelector) --- */

/* A label set: a pod's own labels, or a namespace's declared labels plus
 * the kubernetes.io/metadata.name label the API server sets on every
 * namespace (an undeclared namespace has only that one). */
struct labelset {
    size_t n;
    const struct np_model_label *labels;
    const char *ns_name; /* non-NULL for a namespace */
};

static const char *
label_get(const struct labelset *ls, const char *key)
{
    size_t i;

    if (ls->ns_name != NULL && strcmp(key, NAME_KEY) == 0)
        return ls->ns_name;
    for (i = 0; i < ls->n; i++) {
        if (strcmp(ls->labels[i].key, key) == 0)
            return ls->labels[i].value;
    }
    return NULL;
}

static bool
value_listed(const struct np_model_expr *e, const char *v)
{
    size_t i;

    for (i = 0; i < e->nvalues; i++) {
        if (strcmp(e->values[i], v) == 0)
            return true;
    }
    return false;
}

/* "matchLabels is a map of {key,value} pairs ... The requirements are
 * ANDed." "In and NotIn: the values set must be non-empty. Exists and
 * DoesNotExist: the values set must be empty." An empty selector matches
 * every object. */
static bool
selector_matches(const struct np_model_selector *sel, const struct labelset *ls)
{
    size_t i;

    for (i = 0; i < sel->nlabels; i++) {
        const char *v = label_get(ls, sel->labels[i].key);

        if (v == NULL || strcmp(v, sel->labels[i].value) != 0)
            return false;
    }
    for (i = 0; i < sel->nexprs; i++) {
        const struct np_model_expr *e = &sel->exprs[i];
        const char *v = label_get(ls, e->key);
        bool ok;

        if (strcmp(e->op, "In") == 0)
            ok = v != NULL && value_listed(e, v);
        else if (strcmp(e->op, "NotIn") == 0)
            ok = v == NULL || !value_listed(e, v);
        else if (strcmp(e->op, "Exists") == 0)
            ok = v != NULL;
        else if (strcmp(e->op, "DoesNotExist") == 0)
            ok = v == NULL;
        else
            abort(); /* the builder rejects any other operator */
        if (!ok)
            return false;
    }
    return true;
}

/* --- objects --- */

static const char *
ns_of(const char *ns)
{
    return ns != NULL ? ns : "default";
}

static struct labelset
namespace_labels(const struct ref_cluster *c, const char *name)
{
    struct labelset ls = { .n = 0, .labels = NULL, .ns_name = name };
    size_t i;

    for (i = 0; i < c->nnamespaces; i++) {
        if (strcmp(c->namespaces[i].name, name) == 0) {
            ls.n = c->namespaces[i].nlabels;
            ls.labels = c->namespaces[i].labels;
        }
    }
    return ls;
}

static struct labelset
pod_labels(const struct np_model_pod *pod)
{
    struct labelset ls = { .n = pod->nlabels,
                           .labels = pod->labels,
                           .ns_name = NULL };

    return ls;
}

static const char *
proto_of(const char *p)
{
    return p != NULL ? p : "TCP";
}

/* --- addresses --- */

struct addr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t b[16];
};

static bool
addr_parse(const char *s, struct addr *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, s, a->b) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, a->b) == 1) {
        a->family = AF_INET6;
        return true;
    }
    return false;
}

static bool
addr_equal(const char *x, const char *y)
{
    struct addr a, b;

    return addr_parse(x, &a) && addr_parse(y, &b) && a.family == b.family &&
           memcmp(a.b, b.b, sizeof(a.b)) == 0;
}

/* "cidr is a string representing the IPBlock. Valid examples are
 * 192.168.1.0/24 or 2001:db8::/64": the address is inside when its first
 * prefix bits equal the block's (bits past the prefix in the block's text
 * do not count). */
static bool
cidr_contains(const char *cidr, const char *ip)
{
    char buf[64];
    const char *slash = strchr(cidr, '/');
    struct addr net, a;
    long prefix;
    size_t len;
    long i;

    if (slash == NULL)
        abort(); /* the builder rejects such a block */
    len = (size_t)(slash - cidr);
    if (len >= sizeof(buf))
        abort();
    memcpy(buf, cidr, len);
    buf[len] = '\0';
    prefix = strtol(slash + 1, NULL, 10);
    if (!addr_parse(buf, &net) || !addr_parse(ip, &a))
        abort();
    if (net.family != a.family)
        return false;
    for (i = 0; i < prefix; i++) {
        int bit = 7 - (int)(i % 8);

        if (((net.b[i / 8] >> bit) & 1) != ((a.b[i / 8] >> bit) & 1))
            return false;
    }
    return true;
}

/* "except is a slice of CIDRs that should not be included within an
 * IPBlock." */
static bool
ipblock_contains(const struct np_model_ipblock *ib, const char *ip)
{
    size_t i;

    if (!cidr_contains(ib->cidr, ip))
        return false;
    for (i = 0; i < ib->nexcept; i++) {
        if (cidr_contains(ib->except[i], ip))
            return false;
    }
    return true;
}

static bool
is_finished(const struct np_model_pod *pod)
{
    return pod->phase != NULL && (strcmp(pod->phase, "Succeeded") == 0 ||
                                  strcmp(pod->phase, "Failed") == 0);
}

/* Orders pods by namespace, then name. */
static int
pod_order(const struct np_model_pod *a, const struct np_model_pod *b)
{
    int r = strcmp(ns_of(a->namespace_), ns_of(b->namespace_));

    return r != 0 ? r : strcmp(a->name, b->name);
}

long
ref_resolve_ip(const struct ref_cluster *c, const char *ip)
{
    long found = -1;
    size_t i, j;

    for (i = 0; i < c->npods; i++) {
        const struct np_model_pod *pod = &c->pods[i];

        if (pod->host_network || is_finished(pod))
            continue;
        for (j = 0; j < pod->nips; j++) {
            if (addr_equal(pod->ips[j], ip) &&
                (found < 0 || pod_order(pod, &c->pods[found]) < 0))
                found = (long)i;
        }
    }
    return found;
}

/* --- peers --- */

/* The pod an endpoint is, or NULL for an address outside the cluster. */
static const struct np_model_pod *
endpoint_pod(const struct ref_cluster *c, const struct ref_endpoint *e)
{
    long i = e->pod >= 0 ? e->pod : ref_resolve_ip(c, e->ip);

    return i >= 0 ? &c->pods[i] : NULL;
}

/* ipBlock: an outside address is matched by itself. A hostNetwork pod is
 * seen by its node's address: status.hostIP, or without one any of its own
 * addresses (which are the node's), whatever --ipblock-matches-pods says. A
 * pod on the pod network is matched by its IPs only when ipBlocks match
 * pods: the address the query named, else any of its addresses. */
static bool
ipblock_peer_matches(const struct ref_cluster *c,
                     const struct np_model_ipblock *ib,
                     const struct ref_endpoint *e)
{
    const struct np_model_pod *pod = endpoint_pod(c, e);
    size_t i;

    if (pod == NULL)
        return ipblock_contains(ib, e->ip);
    if (pod->host_network) {
        if (pod->host_ip != NULL)
            return ipblock_contains(ib, pod->host_ip);
        for (i = 0; i < pod->nips; i++) {
            if (ipblock_contains(ib, pod->ips[i]))
                return true;
        }
        return false;
    }
    if (!c->ipblock_matches_pods)
        return false;
    if (e->ip != NULL)
        return ipblock_contains(ib, e->ip);
    for (i = 0; i < pod->nips; i++) {
        if (ipblock_contains(ib, pod->ips[i]))
            return true;
    }
    return false;
}

/* NetworkPolicyPeer. "podSelector ... If namespaceSelector is also set,
 * then the NetworkPolicyPeer as a whole selects the Pods matching
 * podSelector in the Namespaces selected by NamespaceSelector. Otherwise it
 * selects the Pods matching podSelector in the policy's own Namespace."
 * "namespaceSelector ... If podSelector is also set ... Otherwise it
 * selects all Pods in the Namespaces selected by namespaceSelector." Pod
 * and namespace selectors never match a hostNetwork pod or an outside
 * address. */
static bool
peer_matches(const struct ref_cluster *c, const struct np_model_policy *pol,
             const struct np_model_peer *p, const struct ref_endpoint *e)
{
    const struct np_model_pod *pod;
    struct labelset nsl, pl;

    if (p->ipblock != NULL)
        return ipblock_peer_matches(c, p->ipblock, e);
    pod = endpoint_pod(c, e);
    if (pod == NULL || pod->host_network)
        return false;
    if (p->namespace_selector == NULL) {
        if (strcmp(ns_of(pod->namespace_), ns_of(pol->namespace_)) != 0)
            return false;
    } else {
        nsl = namespace_labels(c, ns_of(pod->namespace_));
        if (!selector_matches(p->namespace_selector, &nsl))
            return false;
    }
    pl = pod_labels(pod);
    return p->pod_selector == NULL || selector_matches(p->pod_selector, &pl);
}

/* --- ports (NetworkPolicyPort) --- */

/* "protocol ... If not specified, this field defaults to TCP." "port ...
 * If this field is not provided, this matches all port names and numbers."
 * "endPort indicates that the range of ports from port to endPort ...
 * inclusive". A named port is resolved on the destination pod's container
 * ports and needs the rule's protocol; a destination that is not a pod on
 * the pod network (an outside address, a hostNetwork pod) has no named
 * ports. */
static bool
port_matches(const struct ref_cluster *c, const struct np_model_policy_port *pp,
             const struct ref_endpoint *dst, unsigned port, const char *proto)
{
    const struct np_model_pod *pod;
    size_t i;

    if (strcmp(proto_of(pp->protocol), proto) != 0)
        return false;
    if (!pp->has_port)
        return true;
    if (pp->port_name == NULL) {
        if (pp->has_end_port)
            return port >= pp->port && port <= pp->end_port;
        return port == pp->port;
    }
    pod = endpoint_pod(c, dst);
    if (pod == NULL || pod->host_network)
        return false;
    for (i = 0; i < pod->nports; i++) {
        const struct np_model_container_port *cp = &pod->ports[i];

        if (cp->name != NULL && strcmp(cp->name, pp->port_name) == 0 &&
            strcmp(proto_of(cp->protocol), proto_of(pp->protocol)) == 0)
            return cp->port == port;
    }
    return false;
}

/* --- rules, policies, sides --- */

/* A rule matches when one of its peers matches (an empty or missing
 * from/to list matches every peer) and one of its ports matches (an empty
 * or missing ports list matches every port). */
static bool
rule_matches(const struct ref_cluster *c, const struct np_model_policy *pol,
             const struct np_model_rule *r, const struct ref_endpoint *peer,
             const struct ref_endpoint *dst, unsigned port, const char *proto)
{
    bool peer_ok = r->npeers == 0;
    bool port_ok = r->nports == 0;
    size_t i;

    for (i = 0; !peer_ok && i < r->npeers; i++)
        peer_ok = peer_matches(c, pol, &r->peers[i], peer);
    for (i = 0; !port_ok && i < r->nports; i++)
        port_ok = port_matches(c, &r->ports[i], dst, port, proto);
    return peer_ok && port_ok;
}

/* "policyTypes ... If this field is not specified, it will default based on
 * the existence of ingress or egress rules; policies that contain an egress
 * section are assumed to affect egress, and all policies (whether or not
 * they contain an ingress section) are assumed to affect ingress." An
 * egress section means at least one egress rule (SetDefaults). */
static bool
policy_affects(const struct np_model_policy *pol, const char *type)
{
    size_t i;

    if (pol->ntypes == 0)
        return strcmp(type, "Ingress") == 0 || pol->negress > 0;
    for (i = 0; i < pol->ntypes; i++) {
        if (strcmp(pol->types[i], type) == 0)
            return true;
    }
    return false;
}

/* "podSelector selects the pods to which this NetworkPolicy object applies
 * ... An empty podSelector selects all pods in this namespace." A policy
 * never selects a hostNetwork pod. */
static bool
policy_selects(const struct np_model_policy *pol,
               const struct np_model_pod *pod)
{
    struct labelset pl = pod_labels(pod);

    return !pod->host_network &&
           strcmp(ns_of(pol->namespace_), ns_of(pod->namespace_)) == 0 &&
           selector_matches(&pol->pod_selector, &pl);
}

/* One side: the egress of from (egress true) or the ingress of to. A pod
 * is isolated for a direction when some policy that selects it affects
 * that direction; an isolated pod allows only what some rule of those
 * policies allows, and policies add up. */
static bool
side_allows(const struct ref_cluster *c, const struct ref_endpoint *from,
            const struct ref_endpoint *to, unsigned port, const char *proto,
            bool egress)
{
    const struct np_model_pod *pod = endpoint_pod(c, egress ? from : to);
    const struct ref_endpoint *peer = egress ? to : from;
    const char *type = egress ? "Egress" : "Ingress";
    bool isolated = false;
    size_t i, j;

    if (pod == NULL)
        return true;
    for (i = 0; i < c->npolicies; i++) {
        const struct np_model_policy *pol = &c->policies[i];
        size_t nrules = egress ? pol->negress : pol->ningress;
        const struct np_model_rule *rules = egress ? pol->egress : pol->ingress;

        if (!policy_selects(pol, pod) || !policy_affects(pol, type))
            continue;
        isolated = true;
        for (j = 0; j < nrules; j++) {
            if (rule_matches(c, pol, &rules[j], peer, to, port, proto))
                return true;
        }
    }
    return !isolated;
}

bool
ref_allowed(const struct ref_cluster *c, const struct ref_endpoint *from,
            const struct ref_endpoint *to, unsigned port, const char *proto)
{
    const struct np_model_pod *a = endpoint_pod(c, from);
    const struct np_model_pod *b = endpoint_pod(c, to);

    /* A pod always reaches itself. */
    if (a != NULL && a == b)
        return true;
    return side_allows(c, from, to, port, proto, true) &&
           side_allows(c, from, to, port, proto, false);
}

/* --- dump --- */

static void
dump_labels(FILE *f, size_t n, const struct np_model_label *ls)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(f, "%s%s=%s", i ? "," : "", ls[i].key, ls[i].value);
}

static void
dump_selector(FILE *f, const struct np_model_selector *s)
{
    size_t i, j;

    fputc('{', f);
    dump_labels(f, s->nlabels, s->labels);
    for (i = 0; i < s->nexprs; i++) {
        const struct np_model_expr *e = &s->exprs[i];

        fprintf(f, "%s%s %s (", i + s->nlabels ? "," : "", e->key, e->op);
        for (j = 0; j < e->nvalues; j++)
            fprintf(f, "%s%s", j ? "," : "", e->values[j]);
        fputc(')', f);
    }
    fputc('}', f);
}

static void
dump_rules(FILE *f, const char *word, bool present, size_t n,
           const struct np_model_rule *rules)
{
    size_t i, j, k;

    if (!present) {
        fprintf(f, " %s: missing;", word);
        return;
    }
    fprintf(f, " %s: [", word);
    for (i = 0; i < n; i++) {
        const struct np_model_rule *r = &rules[i];

        fprintf(f, "%s{peers: [", i ? ", " : "");
        for (j = 0; j < r->npeers; j++) {
            const struct np_model_peer *p = &r->peers[j];

            fputs(j ? ", " : "", f);
            if (p->ipblock != NULL) {
                fprintf(f, "ipBlock(%s", p->ipblock->cidr);
                for (k = 0; k < p->ipblock->nexcept; k++)
                    fprintf(f, " except %s", p->ipblock->except[k]);
                fputc(')', f);
            }
            if (p->namespace_selector != NULL) {
                fputs("ns", f);
                dump_selector(f, p->namespace_selector);
            }
            if (p->pod_selector != NULL) {
                fputs(p->namespace_selector != NULL ? " pod" : "pod", f);
                dump_selector(f, p->pod_selector);
            }
        }
        fputs("], ports: [", f);
        for (j = 0; j < r->nports; j++) {
            const struct np_model_policy_port *pp = &r->ports[j];

            fputs(j ? ", " : "", f);
            if (pp->port_name != NULL)
                fputs(pp->port_name, f);
            else if (pp->has_port)
                fprintf(f, "%lld", (long long)pp->port);
            if (pp->has_end_port)
                fprintf(f, "-%lld", (long long)pp->end_port);
            fprintf(f, "/%s", proto_of(pp->protocol));
        }
        fputs("]}", f);
    }
    fputs("];", f);
}

void
ref_cluster_dump(const struct ref_cluster *c, FILE *f)
{
    size_t i, j;

    fprintf(f, "ipblock_matches_pods: %s\n",
            c->ipblock_matches_pods ? "true" : "false");
    for (i = 0; i < c->nnamespaces; i++) {
        fprintf(f, "ns %s labels: ", c->namespaces[i].name);
        dump_labels(f, c->namespaces[i].nlabels, c->namespaces[i].labels);
        fputc('\n', f);
    }
    for (i = 0; i < c->npods; i++) {
        const struct np_model_pod *p = &c->pods[i];

        fprintf(f, "pod %s/%s labels: ", ns_of(p->namespace_), p->name);
        dump_labels(f, p->nlabels, p->labels);
        fputs("; ips:", f);
        for (j = 0; j < p->nips; j++)
            fprintf(f, " %s", p->ips[j]);
        fputs("; ports:", f);
        for (j = 0; j < p->nports; j++)
            fprintf(f, " %s%s%lld/%s", p->ports[j].name ? p->ports[j].name : "",
                    p->ports[j].name ? ":" : "", (long long)p->ports[j].port,
                    proto_of(p->ports[j].protocol));
        if (p->host_network)
            fprintf(f, "; hostNetwork hostIP: %s",
                    p->host_ip ? p->host_ip : "(none)");
        if (p->phase != NULL)
            fprintf(f, "; phase: %s", p->phase);
        fputc('\n', f);
    }
    for (i = 0; i < c->npolicies; i++) {
        const struct np_model_policy *p = &c->policies[i];

        fprintf(f, "policy %s/%s podSelector: ", ns_of(p->namespace_), p->name);
        dump_selector(f, &p->pod_selector);
        fputs("; policyTypes:", f);
        if (p->ntypes == 0)
            fputs(" (defaulted)", f);
        for (j = 0; j < p->ntypes; j++)
            fprintf(f, " %s", p->types[j]);
        fputc(';', f);
        dump_rules(f, "ingress", p->ingress_present, p->ningress, p->ingress);
        dump_rules(f, "egress", p->egress_present, p->negress, p->egress);
        fputc('\n', f);
    }
}
