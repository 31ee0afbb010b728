/*
 * Reachability verdicts and their traces.
 *
 * The fast path (np_eval_allowed) and the traced path (np_eval_trace) share
 * the predicates peer_matches() and port_matches(), so a trace can never
 * disagree with the verdict it explains. Only the traced path allocates, and
 * only from the caller's arena.
 */
#include "core/eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

static const char *const why_names[NP_WHY__MAX] = {
    [NP_WHY_SELF] = "self",
    [NP_WHY_EXTERNAL] = "external",
    [NP_WHY_HOST_NETWORK] = "host_network",
    [NP_WHY_NOT_ISOLATED] = "not_isolated",
    [NP_WHY_ALLOWED_BY_RULE] = "allowed_by_rule",
    [NP_WHY_NO_RULE_MATCHES] = "no_rule_matches",
};

const char *
np_side_why_name(enum np_side_why why)
{
    return (unsigned)why < NP_WHY__MAX ? why_names[why] : "?";
}

void
np_endpoint_from_ip(const struct np_snapshot *snap, const struct np_ip *ip,
                    struct np_endpoint *out)
{
    out->pod = np_snapshot_find_pod_by_ip(snap, ip);
    out->has_ip = true;
    out->ip = *ip;
}

int
np_pod_resolve_port(const struct np_snapshot *snap, const struct np_pod *pod,
                    const char *name, bool proto_given, enum np_proto *proto,
                    uint16_t *port, struct np_error *err)
{
    np_sym s = np_intern_find(snap->syms, name);
    /* A workload's template pod is named as the workload. */
    const char *what = pod->workload_kind != NULL ? "workload" : "pod";
    const char *kind = pod->workload_kind != NULL ? pod->workload_kind : "";
    const char *sep = pod->workload_kind != NULL ? "/" : "";
    uint32_t i;

    for (i = 0; s != NP_SYM_NONE && i < pod->nports; i++) {
        const struct np_container_port *cp = &pod->ports[i];

        if (cp->name != s)
            continue;
        if (proto_given && cp->proto != *proto)
            return np_error_set(
                err, NP_E_UNKNOWN_PORT_NAME,
                "port \"%.40s\" of %s %s/%s%s%s is %s, not %s", name, what,
                snap->namespaces[pod->ns].name, kind, sep, pod->name,
                np_proto_name((enum np_proto)cp->proto), np_proto_name(*proto));
        *proto = (enum np_proto)cp->proto;
        *port = cp->port;
        return 0;
    }
    return np_error_set(err, NP_E_UNKNOWN_PORT_NAME,
                        "%s %s/%s%s%s has no container port named \"%.40s\"",
                        what, snap->namespaces[pod->ns].name, kind, sep,
                        pod->name, name);
}

/* --- predicates shared by both paths --- */

/* Why a peer does or does not match; the traced path turns these into
 * sentences. */
enum peer_why {
    PEER_MATCHED,
    PEER_NOT_A_POD,       /* pod peers vs an outside address */
    PEER_HOST_NETWORK,    /* pod peers vs a hostNetwork pod */
    PEER_OTHER_NAMESPACE, /* bare podSelector vs another namespace */
    PEER_NS_SELECTOR,     /* namespaceSelector fails */
    PEER_POD_SELECTOR,    /* podSelector fails */
    PEER_IPBLOCK_PODS_OFF,
    PEER_NO_ADDRESS,
    PEER_NOT_IN_CIDR,
    PEER_IN_EXCEPT,
};

struct peer_eval {
    enum peer_why why;
    int req;         /* failing selector requirement */
    struct np_ip ip; /* the address compared, for ipBlock */
    uint32_t except; /* the except entry hit */
};

static bool
in_block(const struct np_peer *p, const struct np_ip *ip, uint32_t *except)
{
    uint32_t i;

    if (!np_cidr_contains(&p->cidr, ip))
        return false;
    for (i = 0; i < p->nexcept; i++) {
        if (np_cidr_contains(&p->except[i], ip)) {
            *except = i;
            return false;
        }
    }
    return true;
}

static bool
ipblock_matches(const struct np_snapshot *snap, const struct np_eval_opts *opts,
                const struct np_peer *p, const struct np_endpoint *ep,
                struct peer_eval *pe)
{
    const struct np_pod *pod = ep->pod;
    uint32_t i, ex = UINT32_MAX;

    (void)snap;
    pe->except = UINT32_MAX;
    if (pod == NULL || pod->host_network) {
        /* An outside address, or a hostNetwork pod seen by its node's
         * address: status.hostIP, or without one its own status IPs (the
         * node's addresses too), any of them as for other pods. */
        const struct np_ip *ips = pod != NULL ? pod->ips : NULL;
        uint32_t nips = pod != NULL ? pod->nips : 0;

        if (pod == NULL || (ep->has_ip && !pod->has_host_ip)) {
            ips = &ep->ip;
            nips = 1;
        } else if (pod->has_host_ip) {
            ips = &pod->host_ip;
            nips = 1;
        }
        if (nips == 0) {
            pe->why = PEER_NO_ADDRESS;
            return false;
        }
        pe->why = PEER_NOT_IN_CIDR;
        pe->ip = ips[0];
        for (i = 0; i < nips; i++) {
            ex = UINT32_MAX;
            if (in_block(p, &ips[i], &ex)) {
                pe->ip = ips[i];
                pe->why = PEER_MATCHED;
                return true;
            }
            if (ex != UINT32_MAX) {
                pe->ip = ips[i];
                pe->except = ex;
                pe->why = PEER_IN_EXCEPT;
            }
        }
        return false;
    }
    if (!opts->ipblock_matches_pods) {
        pe->why = PEER_IPBLOCK_PODS_OFF;
        return false;
    }
    if (ep->has_ip) {
        pe->ip = ep->ip;
        if (in_block(p, &ep->ip, &ex)) {
            pe->why = PEER_MATCHED;
            return true;
        }
        pe->except = ex;
        pe->why = ex != UINT32_MAX ? PEER_IN_EXCEPT : PEER_NOT_IN_CIDR;
        return false;
    }
    if (pod->nips == 0) {
        pe->why = PEER_NO_ADDRESS;
        return false;
    }
    /* A pod named by name may use any of its addresses (dual stack). */
    pe->why = PEER_NOT_IN_CIDR;
    pe->ip = pod->ips[0];
    for (i = 0; i < pod->nips; i++) {
        ex = UINT32_MAX;
        if (in_block(p, &pod->ips[i], &ex)) {
            pe->ip = pod->ips[i];
            pe->why = PEER_MATCHED;
            return true;
        }
        if (ex != UINT32_MAX) {
            pe->ip = pod->ips[i];
            pe->except = ex;
            pe->why = PEER_IN_EXCEPT;
        }
    }
    return false;
}

static bool
peer_matches(const struct np_snapshot *snap, const struct np_eval_opts *opts,
             const struct np_policy *pol, const struct np_peer *p,
             const struct np_endpoint *ep, struct peer_eval *pe)
{
    const struct np_pod *pod = ep->pod;

    if (p->kind == NP_PEER_IPBLOCK)
        return ipblock_matches(snap, opts, p, ep, pe);
    pe->req = -1;
    if (pod == NULL) {
        pe->why = PEER_NOT_A_POD;
        return false;
    }
    if (pod->host_network) {
        pe->why = PEER_HOST_NETWORK;
        return false;
    }
    /* A peer without namespaceSelector selects pods in the policy's own
     * namespace (NetworkPolicyPeer.podSelector). */
    if (p->ns_sel == NULL) {
        if (pod->ns != pol->ns) {
            pe->why = PEER_OTHER_NAMESPACE;
            return false;
        }
    } else {
        pe->req = np_selector_first_mismatch(p->ns_sel,
                                             &snap->namespaces[pod->ns].labels);
        if (pe->req >= 0) {
            pe->why = PEER_NS_SELECTOR;
            return false;
        }
    }
    if (p->pod_sel != NULL) {
        pe->req = np_selector_first_mismatch(p->pod_sel, &pod->labels);
        if (pe->req >= 0) {
            pe->why = PEER_POD_SELECTOR;
            return false;
        }
    }
    pe->why = PEER_MATCHED;
    return true;
}

enum port_why {
    PORT_MATCHED,
    PORT_PROTOCOL,
    PORT_NUMBER,
    PORT_RANGE,
    PORT_NAME_EXTERNAL, /* destination is not a pod on the pod network */
    PORT_NAME_MISSING,  /* no container port of that name and protocol */
    PORT_NAME_OTHER,    /* the named port is another number */
};

static enum port_why
port_eval(const struct np_pport *pp, const struct np_endpoint *dst,
          uint16_t port, enum np_proto proto, uint16_t *named)
{
    uint32_t i;

    if (pp->proto != proto)
        return PORT_PROTOCOL;
    switch (pp->kind) {
    case NP_PPORT_ALL:
        return PORT_MATCHED;
    case NP_PPORT_NUMBER:
        return pp->port == port ? PORT_MATCHED : PORT_NUMBER;
    case NP_PPORT_RANGE:
        return port >= pp->port && port <= pp->end_port ? PORT_MATCHED
                                                        : PORT_RANGE;
    case NP_PPORT_NAMED:
        /* A named port is resolved on the destination pod's container
         * ports, for ingress and egress rules alike; it must have the
         * rule's protocol. */
        if (dst->pod == NULL || dst->pod->host_network)
            return PORT_NAME_EXTERNAL;
        for (i = 0; i < dst->pod->nports; i++) {
            const struct np_container_port *cp = &dst->pod->ports[i];

            if (cp->name == pp->name && cp->proto == pp->proto) {
                *named = cp->port;
                return cp->port == port ? PORT_MATCHED : PORT_NAME_OTHER;
            }
        }
        return PORT_NAME_MISSING;
    }
    return PORT_NUMBER;
}

static bool
rule_matches(const struct np_snapshot *snap, const struct np_eval_opts *opts,
             const struct np_policy *pol, const struct np_rule *r,
             const struct np_endpoint *peer, const struct np_query *q)
{
    struct peer_eval pe;
    uint16_t named;
    uint32_t i;
    bool ok;

    /* An empty or missing ports list matches every port; an empty or
     * missing from/to list matches every peer (NetworkPolicyIngressRule,
     * NetworkPolicyEgressRule). */
    ok = r->nports == 0;
    for (i = 0; !ok && i < r->nports; i++)
        ok = port_eval(&r->ports[i], &q->to, q->port, q->proto, &named) ==
             PORT_MATCHED;
    if (!ok)
        return false;
    if (r->npeers == 0)
        return true;
    for (i = 0; i < r->npeers; i++) {
        if (peer_matches(snap, opts, pol, &r->peers[i], peer, &pe))
            return true;
    }
    return false;
}

/* A workload's template stands for every pod of the workload, so from a
 * workload to itself is from one of its pods to another, not self traffic. */
static bool
is_self(const struct np_query *q)
{
    return q->from.pod != NULL && q->from.pod == q->to.pod &&
           q->from.pod->workload_kind == NULL;
}

/* The pod whose policies decide side dir, or NULL when no policy can apply
 * (an outside address or a hostNetwork pod). */
static const struct np_pod *
side_subject(const struct np_query *q, enum np_dir dir)
{
    const struct np_endpoint *e = dir == NP_DIR_EGRESS ? &q->from : &q->to;

    if (e->pod == NULL || e->pod->host_network)
        return NULL;
    return e->pod;
}

bool
np_eval_side_allowed(const struct np_snapshot *snap,
                     const struct np_eval_opts *opts, const struct np_query *q,
                     enum np_dir dir)
{
    const struct np_pod *pod = side_subject(q, dir);
    const struct np_endpoint *peer = dir == NP_DIR_EGRESS ? &q->to : &q->from;
    uint32_t i, j;

    if (pod == NULL || pod->npolicies[dir] == 0 || is_self(q))
        return true;
    for (i = 0; i < pod->npolicies[dir]; i++) {
        const struct np_policy *pol = &snap->policies[pod->policies[dir][i]];

        for (j = 0; j < pol->nrules[dir]; j++) {
            if (rule_matches(snap, opts, pol, &pol->rules[dir][j], peer, q))
                return true;
        }
    }
    return false;
}

bool
np_eval_allowed(const struct np_snapshot *snap, const struct np_eval_opts *opts,
                const struct np_query *q)
{
    if (is_self(q))
        return true;
    return np_eval_side_allowed(snap, opts, q, NP_DIR_EGRESS) &&
           np_eval_side_allowed(snap, opts, q, NP_DIR_INGRESS);
}

void
np_pod_isolation(const struct np_snapshot *snap, const struct np_pod *pod,
                 struct np_isolation *out)
{
    int d;

    (void)snap;
    for (d = 0; d < NP_DIR__MAX; d++) {
        out->npolicies[d] = pod->npolicies[d];
        out->policies[d] = pod->policies[d];
        out->isolated[d] = pod->npolicies[d] > 0;
    }
}

/* --- traces ---
 *
 * The evaluation keeps, in each result, what its sentence is made of
 * (struct np_say); np_say_*() write the sentences. np_eval_trace() writes
 * them all into the arena; an answer being written asks np_say_*() to
 * write each one straight into its text (np_eval_trace_lazy()). */

enum say_kind { SAY_PEER, SAY_PORT, SAY_RULE, SAY_POLICY };

/* Appends fmt with its arguments to o. The trace formats use only %s, %u
 * and %d, and an answer writes dozens of sentences: this is several times
 * faster than vsnprintf. */
static void tf(struct np_text *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tf(struct np_text *o, const char *fmt, ...)
{
    const char *f, *s;
    va_list ap;

    va_start(ap, fmt);
    for (f = fmt; *f != '\0'; f++) {
        const char *pct;
        size_t k;

        if (*f != '%') {
            /* The text up to the next conversion, in one copy. */
            pct = strchr(f, '%');
            k = pct != NULL ? (size_t)(pct - f) : strlen(f);
            np_text_put(o, f, k);
            f += k - 1;
            continue;
        }
        if (f[1] != 's' && f[1] != 'u' && f[1] != 'd') {
            np_text_put(o, f, 1);
            continue;
        }
        f++;
        if (*f == 's') {
            s = va_arg(ap, const char *);
            np_text_puts(o, s != NULL ? s : "(null)");
        } else if (*f == 'u') {
            np_text_putu(o, va_arg(ap, unsigned));
        } else {
            int v = va_arg(ap, int);

            if (v < 0)
                np_text_put(o, "-", 1);
            np_text_putu(o, v < 0 ? 0ULL - (unsigned long long)v
                                  : (unsigned long long)v);
        }
    }
    va_end(ap);
}

/* Appends s to the fixed buffer buf of *len bytes, cut to fit. */
static void
fix_put(char *buf, uint16_t *len, const char *s)
{
    size_t n = strlen(s), room = NP_SAY_ENDPOINT_MAX - 1 - *len;

    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len = (uint16_t)(*len + n);
    buf[*len] = '\0';
}

/* The texts of q->from (k = 0) or q->to (k = 1): "ns/name", "10.0.0.1",
 * or "workload ns/Kind/name (as a pod of its template)" for a workload's
 * template pod; and "pod ns/name" where a sentence names a pod. */
static void
make_texts(struct np_say_ctx *c, int k)
{
    const struct np_endpoint *e = k == 0 ? &c->q->from : &c->q->to;
    const struct np_pod *pod = e->pod;
    char *ep = c->ep[k];
    uint16_t *n = &c->ep_len[k];
    char ip[NP_IP_STRLEN];

    *n = 0;
    ep[0] = '\0';
    if (pod != NULL && pod->workload_kind != NULL) {
        fix_put(ep, n, "workload ");
        fix_put(ep, n, c->snap->namespaces[pod->ns].name);
        fix_put(ep, n, "/");
        fix_put(ep, n, pod->workload_kind);
        fix_put(ep, n, "/");
        fix_put(ep, n, pod->name);
        fix_put(ep, n, " (as a pod of its template)");
    } else if (pod != NULL) {
        fix_put(ep, n, c->snap->namespaces[pod->ns].name);
        fix_put(ep, n, "/");
        fix_put(ep, n, pod->name);
    } else {
        np_ip_format(&e->ip, ip, sizeof(ip));
        fix_put(ep, n, ip);
    }
    c->pod_len[k] = 0;
    c->pod[k][0] = '\0';
    if (pod != NULL && pod->workload_kind == NULL)
        fix_put(c->pod[k], &c->pod_len[k], "pod ");
    fix_put(c->pod[k], &c->pod_len[k], ep);
    c->made[k] = true;
}

static const char *
ep_text(struct np_say_ctx *c, int k)
{
    if (!c->made[k])
        make_texts(c, k);
    return c->ep[k];
}

static const char *
pod_text(struct np_say_ctx *c, int k)
{
    if (!c->made[k])
        make_texts(c, k);
    return c->pod[k];
}

void
np_say_init(struct np_say_ctx *c, const struct np_snapshot *snap,
            const struct np_query *q)
{
    c->snap = snap;
    c->q = q;
    c->made[0] = c->made[1] = false;
}

/* The peers of rules in direction dir are the query's other side. */
static int
peer_side(uint8_t dir)
{
    return dir == NP_DIR_EGRESS ? 1 : 0;
}

static void
say_peer(struct np_say_ctx *c, const struct np_say *s, struct np_text *o)
{
    const struct np_snapshot *snap = c->snap;
    const struct np_peer *p = s->item;
    const struct np_policy *pol = s->policy;
    int k = peer_side(s->dir);
    const struct np_endpoint *ep = k == 0 ? &c->q->from : &c->q->to;
    const char *who = ep_text(c, k);
    const char *pod = pod_text(c, k);
    char ip[NP_IP_STRLEN], cidr[NP_CIDR_STRLEN], ex[NP_CIDR_STRLEN];

    if (p->kind == NP_PEER_IPBLOCK) {
        np_ip_format(&s->ip, ip, sizeof(ip));
        np_cidr_format(&p->cidr, cidr, sizeof(cidr));
        switch ((enum peer_why)s->why) {
        case PEER_MATCHED:
            tf(o, "%s is in %s", ip, p->text);
            return;
        case PEER_IPBLOCK_PODS_OFF:
            tf(o,
               "%s is a pod and ipBlock peers do not match pod "
               "IPs here (--ipblock-matches-pods=false)",
               who);
            return;
        case PEER_NO_ADDRESS:
            tf(o, "%s has no IP address, so %s cannot match it", who, p->text);
            return;
        case PEER_IN_EXCEPT:
            np_cidr_format(&p->except[s->except], ex, sizeof(ex));
            tf(o, "%s is in %s but excluded by except %s", ip, cidr, ex);
            return;
        default:
            tf(o, "%s is not in %s", ip, cidr);
            return;
        }
    }
    switch ((enum peer_why)s->why) {
    case PEER_MATCHED:
        tf(o, "%s matches %s", pod, p->text);
        return;
    case PEER_NOT_A_POD:
        tf(o,
           "%s is outside the cluster and this peer selects only "
           "pods",
           who);
        return;
    case PEER_HOST_NETWORK:
        tf(o,
           "%s uses the host network; pod and namespace "
           "selectors never match it (only ipBlock can)",
           pod);
        return;
    case PEER_OTHER_NAMESPACE:
        tf(o,
           "%s is in namespace %s, but a peer without "
           "namespaceSelector selects only pods in the policy's "
           "namespace %s",
           pod, snap->namespaces[ep->pod->ns].name,
           snap->namespaces[pol->ns].name);
        return;
    case PEER_NS_SELECTOR:
        tf(o,
           "namespace %s does not match namespaceSelector %s "
           "(fails %s)",
           snap->namespaces[ep->pod->ns].name, p->ns_sel->text,
           p->ns_sel->reqs[s->req].text);
        return;
    case PEER_POD_SELECTOR:
        tf(o, "%s does not match podSelector %s (fails %s)", pod,
           p->pod_sel->text, p->pod_sel->reqs[s->req].text);
        return;
    default:
        tf(o, "%s does not match %s", pod, p->text);
        return;
    }
}

static void
say_port(struct np_say_ctx *c, const struct np_say *s, struct np_text *o)
{
    const struct np_query *q = c->q;
    const struct np_pport *pp = s->item;
    const char *proto = np_proto_name(q->proto);
    const char *dst = ep_text(c, 1);

    switch ((enum port_why)s->why) {
    case PORT_MATCHED:
        if (pp->kind == NP_PPORT_NAMED)
            tf(o, "%u/%s is the port named %s on %s", q->port, proto,
               np_snapshot_str(c->snap, pp->name), dst);
        else
            tf(o, "%u/%s matches %s", q->port, proto, pp->text);
        return;
    case PORT_PROTOCOL:
        tf(o, "protocol %s is not %s (%s)", proto,
           np_proto_name((enum np_proto)pp->proto), pp->text);
        return;
    case PORT_NUMBER:
    case PORT_RANGE:
        tf(o, "%u/%s is not %s", q->port, proto, pp->text);
        return;
    case PORT_NAME_EXTERNAL:
        tf(o,
           "named port %s cannot be resolved: the destination "
           "%s is not a pod on the pod network",
           np_snapshot_str(c->snap, pp->name), dst);
        return;
    case PORT_NAME_MISSING:
        tf(o,
           "destination %s has no %s container port "
           "named %s",
           pod_text(c, 1), np_proto_name((enum np_proto)pp->proto),
           np_snapshot_str(c->snap, pp->name));
        return;
    case PORT_NAME_OTHER:
        tf(o, "port %s on %s is %u/%s, not %u",
           np_snapshot_str(c->snap, pp->name), dst, s->named,
           np_proto_name((enum np_proto)pp->proto), q->port);
        return;
    }
}

void
np_say_match(struct np_say_ctx *c, const struct np_match_result *m,
             struct np_text *out)
{
    if (m->say.kind == SAY_PEER)
        say_peer(c, &m->say, out);
    else if (m->say.kind == SAY_PORT)
        say_port(c, &m->say, out);
}

void
np_say_rule(struct np_say_ctx *c, const struct np_rule_result *rr,
            struct np_text *o)
{
    const struct np_rule *r = rr->say.item;
    const char *word = rr->say.dir == NP_DIR_INGRESS ? "from" : "to";
    uint32_t i;

    if (rr->matched) {
        np_text_puts(o, "allows: ");
        if (r->npeers == 0)
            tf(o, "every peer (no %s list)", word);
        else
            tf(o, "%s[%d] %s", word, rr->peer, r->peers[rr->peer].text);
        np_text_puts(o, " and ");
        if (r->nports == 0)
            np_text_puts(o, "every port (no ports list)");
        else
            tf(o, "ports[%d] %s", rr->port, r->ports[rr->port].text);
    } else if (!rr->peer_ok) {
        /* No peer matches: the first one's sentence says why. */
        if (r->npeers == 1) {
            tf(o, "%s[0]: ", word);
            say_peer(c, &rr->peers[rr->say.req].say, o);
        } else {
            tf(o, "no %s peer matches (%s[0]: ", word, word);
            say_peer(c, &rr->peers[rr->say.req].say, o);
            np_text_puts(o, r->npeers > 1 ? "; see peers)" : ")");
        }
    } else {
        tf(o, "port %u/%s not in [", c->q->port, np_proto_name(c->q->proto));
        for (i = 0; i < r->nports; i++) {
            if (i > 0)
                np_text_put(o, ", ", 2);
            np_text_puts(o, r->ports[i].text);
        }
        np_text_put(o, "]", 1);
    }
}

void
np_say_policy(struct np_say_ctx *c, const struct np_policy_result *p,
              struct np_text *o)
{
    const char *dname = np_dir_name((enum np_dir)p->say.dir);
    uint32_t j, nmatched = 0;

    (void)c;
    for (j = 0; j < p->nrules; j++)
        nmatched += p->rules[j].matched;
    if (p->nrules == 0)
        tf(o,
           "has no %s rules, so it allows no %s "
           "for the pods it selects",
           dname, dname);
    else if (nmatched > 0)
        tf(o, "%u of %u %s rules allow it", nmatched, p->nrules, dname);
    else
        tf(o, "none of its %u %s rules match", p->nrules, dname);
}

struct tracer {
    const struct np_snapshot *snap;
    const struct np_eval_opts *opts;
    const struct np_query *q;
    struct np_arena *a;
    bool nomem;
    struct np_text scratch; /* a sentence on its way to the arena */
    struct np_say_ctx say;
};

/* Empties the scratch text for a sentence. */
static struct np_text *
sentence(struct tracer *t)
{
    t->scratch.len = 0;
    return &t->scratch;
}

/* The sentence in the scratch text, copied into the arena. */
static const char *
sentence_done(struct tracer *t)
{
    const char *s;

    if (t->scratch.fail) {
        t->nomem = true;
        return "";
    }
    s = np_arena_strndup(t->a, t->scratch.len > 0 ? t->scratch.p : "",
                         t->scratch.len);
    if (s == NULL) {
        t->nomem = true;
        return "";
    }
    return s;
}

static void
trace_rule(struct tracer *t, const struct np_policy *pol, enum np_dir dir,
           uint32_t index, const struct np_endpoint *peer,
           struct np_rule_result *rr)
{
    const struct np_rule *r = &pol->rules[dir][index];
    struct np_match_result *pres, *ports;
    int32_t first_peer = -1;
    uint32_t i;

    rr->index = index;
    rr->peer = -1;
    rr->port = -1;
    rr->npeers = r->npeers;
    rr->nports = r->nports;
    pres = np_arena_calloc(t->a, r->npeers + 1, sizeof(*pres));
    ports = np_arena_calloc(t->a, r->nports + 1, sizeof(*ports));
    if (pres == NULL || ports == NULL) {
        t->nomem = true;
        return;
    }
    rr->peers = pres;
    rr->ports = ports;
    rr->peer_ok = r->npeers == 0;
    for (i = 0; i < r->npeers; i++) {
        struct peer_eval pe = { 0 };
        struct np_say *s = &pres[i].say;

        pres[i].matched =
            peer_matches(t->snap, t->opts, pol, &r->peers[i], peer, &pe);
        s->policy = pol;
        s->item = &r->peers[i];
        s->ip = pe.ip;
        s->except = pe.except;
        s->req = pe.req;
        s->kind = SAY_PEER;
        s->why = (uint8_t)pe.why;
        s->dir = (uint8_t)dir;
        if (pres[i].matched && !rr->peer_ok) {
            rr->peer_ok = true;
            rr->peer = (int32_t)i;
        }
        if (!pres[i].matched && first_peer < 0)
            first_peer = (int32_t)i;
    }
    rr->port_ok = r->nports == 0;
    for (i = 0; i < r->nports; i++) {
        uint16_t named = 0;
        enum port_why w =
            port_eval(&r->ports[i], &t->q->to, t->q->port, t->q->proto, &named);
        struct np_say *s = &ports[i].say;

        ports[i].matched = w == PORT_MATCHED;
        s->policy = pol;
        s->item = &r->ports[i];
        s->named = named;
        s->kind = SAY_PORT;
        s->why = (uint8_t)w;
        s->dir = (uint8_t)dir;
        if (ports[i].matched && !rr->port_ok) {
            rr->port_ok = true;
            rr->port = (int32_t)i;
        }
    }
    rr->matched = rr->peer_ok && rr->port_ok;
    rr->say.policy = pol;
    rr->say.item = r;
    rr->say.req = first_peer;
    rr->say.kind = SAY_RULE;
    rr->say.dir = (uint8_t)dir;
}

static void
trace_side(struct tracer *t, enum np_dir dir, struct np_side *side)
{
    const struct np_snapshot *snap = t->snap;
    const struct np_query *q = t->q;
    const struct np_endpoint *self = dir == NP_DIR_EGRESS ? &q->from : &q->to;
    const struct np_endpoint *peer = dir == NP_DIR_EGRESS ? &q->to : &q->from;
    const struct np_pod *pod = side_subject(q, dir);
    const char *who = pod_text(&t->say, dir == NP_DIR_EGRESS ? 0 : 1);
    const char *peer_text = ep_text(&t->say, dir == NP_DIR_EGRESS ? 1 : 0);
    const char *dname = np_dir_name(dir);
    struct np_policy_result *prs;
    struct np_rule_ref *refs;
    uint32_t i, j, nrefs = 0, nrules = 0;

    memset(side, 0, sizeof(*side));
    side->dir = dir;
    side->allowed = true;
    if (self->pod == NULL) {
        side->why = NP_WHY_EXTERNAL;
        tf(sentence(t),
           "%s is outside the cluster; no NetworkPolicy "
           "applies to its %s",
           who, dname);
        side->reason = sentence_done(t);
        return;
    }
    if (pod == NULL) {
        side->why = NP_WHY_HOST_NETWORK;
        tf(sentence(t),
           "%s uses the host network; NetworkPolicies "
           "do not select it, so its %s is not restricted",
           who, dname);
        side->reason = sentence_done(t);
        return;
    }
    side->isolated = pod->npolicies[dir] > 0;
    side->npolicies = pod->npolicies[dir];
    if (!side->isolated && is_self(q)) {
        side->why = NP_WHY_SELF;
        tf(sentence(t), "traffic from a pod to itself is always "
                        "allowed");
        side->reason = sentence_done(t);
        return;
    }
    if (!side->isolated) {
        side->why = NP_WHY_NOT_ISOLATED;
        tf(sentence(t),
           "%s is not isolated for %s: no "
           "NetworkPolicy selecting it has policyType %s, "
           "so all %s is allowed",
           who, dname, np_dir_type_name(dir), dname);
        side->reason = sentence_done(t);
        return;
    }
    prs = np_arena_calloc(t->a, side->npolicies, sizeof(*prs));
    if (prs == NULL) {
        t->nomem = true;
        return;
    }
    for (i = 0; i < side->npolicies; i++)
        nrules += snap->policies[pod->policies[dir][i]].nrules[dir];
    refs = np_arena_calloc(t->a, nrules + 1, sizeof(*refs));
    if (refs == NULL) {
        t->nomem = true;
        return;
    }
    for (i = 0; i < side->npolicies; i++) {
        const struct np_policy *pol = &snap->policies[pod->policies[dir][i]];
        struct np_rule_result *rrs;
        uint32_t nmatched = 0;

        prs[i].policy = pol;
        prs[i].nrules = pol->nrules[dir];
        prs[i].say.policy = pol;
        prs[i].say.kind = SAY_POLICY;
        prs[i].say.dir = (uint8_t)dir;
        rrs = np_arena_calloc(t->a, pol->nrules[dir] + 1, sizeof(*rrs));
        if (rrs == NULL) {
            t->nomem = true;
            return;
        }
        prs[i].rules = rrs;
        for (j = 0; j < pol->nrules[dir]; j++) {
            trace_rule(t, pol, dir, j, peer, &rrs[j]);
            if (rrs[j].matched) {
                nmatched++;
                refs[nrefs].policy = i;
                refs[nrefs].rule = j;
                refs[nrefs].peer = rrs[j].peer;
                refs[nrefs].port = rrs[j].port;
                nrefs++;
            }
        }
        prs[i].allowed = nmatched > 0;
    }
    side->policies = prs;
    side->allowed_by = refs;
    side->nallowed_by = nrefs;
    side->allowed = nrefs > 0;
    if (side->allowed) {
        const struct np_rule_ref *r0 = &refs[0];

        side->why = NP_WHY_ALLOWED_BY_RULE;
        tf(sentence(t),
           "%s is isolated for %s by %u %s; %s/%s spec.%s[%u] allows "
           "%s%s",
           who, dname, side->npolicies,
           side->npolicies == 1 ? "policy" : "policies",
           snap->namespaces[prs[r0->policy].policy->ns].name,
           prs[r0->policy].policy->name, dname, r0->rule,
           dir == NP_DIR_EGRESS ? "traffic to " : "traffic from ", peer_text);
    } else {
        side->why = NP_WHY_NO_RULE_MATCHES;
        tf(sentence(t),
           "%s is isolated for %s by %u %s and no %s rule allows "
           "%u/%s %s %s",
           who, dname, side->npolicies,
           side->npolicies == 1 ? "policy" : "policies", dname, q->port,
           np_proto_name(q->proto), dir == NP_DIR_EGRESS ? "to" : "from",
           peer_text);
    }
    side->reason = sentence_done(t);
    /* The rules above are still traced, so a person sees what the policies
     * would say to another pod. */
    if (is_self(q)) {
        side->allowed = true;
        side->why = NP_WHY_SELF;
        tf(sentence(t),
           "traffic from a pod to itself is always "
           "allowed, whatever the policies (%s)",
           side->reason);
        side->reason = sentence_done(t);
    }
}

/* Writes the reason of every policy, rule, peer and port of side into the
 * arena. */
static void
say_all(struct tracer *t, struct np_side *side)
{
    struct np_policy_result *prs = (struct np_policy_result *)side->policies;
    uint32_t i, j, k;

    for (i = 0; prs != NULL && i < side->npolicies; i++) {
        struct np_rule_result *rrs = (struct np_rule_result *)prs[i].rules;

        np_say_policy(&t->say, &prs[i], sentence(t));
        prs[i].reason = sentence_done(t);
        for (j = 0; j < prs[i].nrules; j++) {
            struct np_rule_result *rr = &rrs[j];
            struct np_match_result *m;

            m = (struct np_match_result *)rr->peers;
            for (k = 0; k < rr->npeers; k++) {
                np_say_match(&t->say, &m[k], sentence(t));
                m[k].reason = sentence_done(t);
            }
            m = (struct np_match_result *)rr->ports;
            for (k = 0; k < rr->nports; k++) {
                np_say_match(&t->say, &m[k], sentence(t));
                m[k].reason = sentence_done(t);
            }
            np_say_rule(&t->say, rr, sentence(t));
            rr->reason = sentence_done(t);
        }
    }
}

static int
eval_trace(const struct np_snapshot *snap, const struct np_eval_opts *opts,
           const struct np_query *q, struct np_arena *a, bool lazy,
           struct np_verdict *out, struct np_error *err)
{
    struct tracer t;

    t.snap = snap;
    t.opts = opts;
    t.q = q;
    t.a = a;
    t.nomem = false;
    memset(&t.scratch, 0, sizeof(t.scratch));
    np_say_init(&t.say, snap, q);
    memset(out, 0, sizeof(*out));
    out->self = is_self(q);
    trace_side(&t, NP_DIR_EGRESS, &out->egress);
    trace_side(&t, NP_DIR_INGRESS, &out->ingress);
    out->allowed = out->egress.allowed && out->ingress.allowed;
    if (!lazy && !t.nomem) {
        say_all(&t, &out->egress);
        say_all(&t, &out->ingress);
    }
    np_text_fini(&t.scratch);
    if (t.nomem)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    return 0;
}

int
np_eval_trace(const struct np_snapshot *snap, const struct np_eval_opts *opts,
              const struct np_query *q, struct np_arena *a,
              struct np_verdict *out, struct np_error *err)
{
    return eval_trace(snap, opts, q, a, false, out, err);
}

int
np_eval_trace_lazy(const struct np_snapshot *snap,
                   const struct np_eval_opts *opts, const struct np_query *q,
                   struct np_arena *a, struct np_verdict *out,
                   struct np_error *err)
{
    return eval_trace(snap, opts, q, a, true, out, err);
}

bool
np__peer_matches_pod(const struct np_snapshot *snap,
                     const struct np_eval_opts *opts,
                     const struct np_policy *pol, const struct np_peer *p,
                     const struct np_pod *pod)
{
    struct np_endpoint ep = { .pod = pod, .has_ip = false };
    struct peer_eval pe;

    return peer_matches(snap, opts, pol, p, &ep, &pe);
}

bool
np__pport_matches(const struct np_pport *pp, const struct np_pod *dst,
                  uint16_t port, int proto)
{
    struct np_endpoint ep = { .pod = dst, .has_ip = false };
    uint16_t named;

    return port_eval(pp, &ep, port, (enum np_proto)proto, &named) ==
           PORT_MATCHED;
}
