/*
 * Reachability verdicts and their traces.
 *
 * The fast path (np_eval_allowed) and the traced path (np_eval_trace) share
 * the predicates peer_matches() and port_matches(), so a trace can never
 * disagree with the verdict it explains. Only the traced path allocates, and
 * only from the caller's arena.
 */
#include "core/eval.h"

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

/* Sentences are written piece by piece: a literal's length is known when
 * compiling, and a number is converted in place. An answer writes dozens
 * of sentences, and a format interpreted at run time (even a small one)
 * was a tenth of the time of a traced answer. */
#define LIT(o, lit) np_text_put((o), "" lit, sizeof(lit) - 1)
#define STR(o, s)   np_text_puts((o), (s))
#define NUM(o, n)   np_text_putu((o), (n))
/* A string of the snapshot with its stored length: STRN(o, p->text)
 * copies p->text_len bytes. */
#define STRN(o, s) np_text_put((o), (s), (s##_len))

/* Appends s[0..n) to the fixed buffer buf of *len bytes, cut to fit. */
static void
fix_putn(char *buf, uint16_t *len, const char *s, size_t n)
{
    size_t room = NP_SAY_ENDPOINT_MAX - 1 - *len;

    if (n > room)
        n = room;
    memcpy(buf + *len, s, n);
    *len = (uint16_t)(*len + n);
    buf[*len] = '\0';
}

static void
fix_put(char *buf, uint16_t *len, const char *s)
{
    fix_putn(buf, len, s, strlen(s));
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
        const struct np_namespace *ns = &c->snap->namespaces[pod->ns];

        fix_putn(ep, n, ns->name, ns->name_len);
        fix_putn(ep, n, "/", 1);
        fix_putn(ep, n, pod->name, pod->name_len);
    } else {
        np_ip_format(&e->ip, ip, sizeof(ip));
        fix_put(ep, n, ip);
    }
    c->pod_len[k] = 0;
    c->pod[k][0] = '\0';
    if (pod != NULL && pod->workload_kind == NULL)
        fix_putn(c->pod[k], &c->pod_len[k], "pod ", 4);
    fix_putn(c->pod[k], &c->pod_len[k], ep, *n);
    c->made[k] = true;
}

/* The texts of make_texts() appended to o: ep_put() "ns/name" (or the
 * address, or the workload), pod_put() "pod ns/name". */
static void
ep_put(struct np_say_ctx *c, int k, struct np_text *o)
{
    if (!c->made[k])
        make_texts(c, k);
    np_text_put(o, c->ep[k], c->ep_len[k]);
}

static void
pod_put(struct np_say_ctx *c, int k, struct np_text *o)
{
    if (!c->made[k])
        make_texts(c, k);
    np_text_put(o, c->pod[k], c->pod_len[k]);
}

void
np_say_init(struct np_say_ctx *c, const struct np_snapshot *snap,
            const struct np_query *q)
{
    c->snap = snap;
    c->q = q;
    c->made[0] = c->made[1] = false;
    c->port_len = 0;
}

/* The peers of rules in direction dir are the query's other side. */
static int
peer_side(uint8_t dir)
{
    return dir == NP_DIR_EGRESS ? 1 : 0;
}

/* "SELECTOR (fails REQUIREMENT)". */
static void
selector_fails(const struct np_selector *sel, int req, struct np_text *o)
{
    STRN(o, sel->text);
    LIT(o, " (fails ");
    STRN(o, sel->reqs[req].text);
    LIT(o, ")");
}

static void
say_peer(struct np_say_ctx *c, const struct np_say *s, struct np_text *o)
{
    const struct np_snapshot *snap = c->snap;
    const struct np_peer *p = s->item;
    const struct np_policy *pol = s->policy;
    int k = peer_side(s->dir);
    const struct np_endpoint *ep = k == 0 ? &c->q->from : &c->q->to;
    char buf[NP_CIDR_STRLEN];

    if (p->kind == NP_PEER_IPBLOCK) {
        switch ((enum peer_why)s->why) {
        case PEER_MATCHED:
            np_ip_format(&s->ip, buf, sizeof(buf));
            STR(o, buf);
            LIT(o, " is in ");
            STRN(o, p->text);
            return;
        case PEER_IPBLOCK_PODS_OFF:
            ep_put(c, k, o);
            LIT(o, " is a pod and ipBlock peers do not match pod "
                   "IPs here (--ipblock-matches-pods=false)");
            return;
        case PEER_NO_ADDRESS:
            ep_put(c, k, o);
            LIT(o, " has no IP address, so ");
            STRN(o, p->text);
            LIT(o, " cannot match it");
            return;
        case PEER_IN_EXCEPT:
            np_ip_format(&s->ip, buf, sizeof(buf));
            STR(o, buf);
            LIT(o, " is in ");
            np_cidr_format(&p->cidr, buf, sizeof(buf));
            STR(o, buf);
            LIT(o, " but excluded by except ");
            np_cidr_format(&p->except[s->except], buf, sizeof(buf));
            STR(o, buf);
            return;
        default:
            np_ip_format(&s->ip, buf, sizeof(buf));
            STR(o, buf);
            LIT(o, " is not in ");
            np_cidr_format(&p->cidr, buf, sizeof(buf));
            STR(o, buf);
            return;
        }
    }
    switch ((enum peer_why)s->why) {
    case PEER_MATCHED:
        pod_put(c, k, o);
        LIT(o, " matches ");
        STRN(o, p->text);
        return;
    case PEER_NOT_A_POD:
        ep_put(c, k, o);
        LIT(o, " is outside the cluster and this peer selects only pods");
        return;
    case PEER_HOST_NETWORK:
        pod_put(c, k, o);
        LIT(o, " uses the host network; pod and namespace "
               "selectors never match it (only ipBlock can)");
        return;
    case PEER_OTHER_NAMESPACE:
        pod_put(c, k, o);
        LIT(o, " is in namespace ");
        STRN(o, snap->namespaces[ep->pod->ns].name);
        LIT(o, ", but a peer without namespaceSelector selects only pods "
               "in the policy's namespace ");
        STRN(o, snap->namespaces[pol->ns].name);
        return;
    case PEER_NS_SELECTOR:
        LIT(o, "namespace ");
        STRN(o, snap->namespaces[ep->pod->ns].name);
        LIT(o, " does not match namespaceSelector ");
        selector_fails(p->ns_sel, s->req, o);
        return;
    case PEER_POD_SELECTOR:
        pod_put(c, k, o);
        LIT(o, " does not match podSelector ");
        selector_fails(p->pod_sel, s->req, o);
        return;
    default:
        pod_put(c, k, o);
        LIT(o, " does not match ");
        STRN(o, p->text);
        return;
    }
}

/* "ingress" or "egress". */
static void
dir_put(struct np_text *o, enum np_dir dir)
{
    if (dir == NP_DIR_INGRESS)
        LIT(o, "ingress");
    else
        LIT(o, "egress");
}

/* The name of a protocol, as np_proto_name() gives it. */
static void
proto_put(struct np_text *o, enum np_proto proto)
{
    switch (proto) {
    case NP_PROTO_TCP:
        LIT(o, "TCP");
        return;
    case NP_PROTO_UDP:
        LIT(o, "UDP");
        return;
    case NP_PROTO_SCTP:
        LIT(o, "SCTP");
        return;
    default:
        STR(o, np_proto_name(proto));
        return;
    }
}

/* "PORT/PROTO" of the query: many sentences of a trace name it. */
static void
query_port(struct np_say_ctx *c, struct np_text *o)
{
    if (c->port_len == 0) {
        char digits[8], *d = digits + sizeof(digits);
        unsigned n = c->q->port;
        const char *proto = np_proto_name(c->q->proto);
        size_t plen = strlen(proto), dlen;

        do {
            *--d = (char)('0' + n % 10);
            n /= 10;
        } while (n != 0);
        dlen = (size_t)(digits + sizeof(digits) - d);
        /* At most "65535/SCTP". */
        memcpy(c->port, d, dlen);
        c->port[dlen] = '/';
        memcpy(c->port + dlen + 1, proto, plen);
        c->port_len = (uint8_t)(dlen + 1 + plen);
    }
    np_text_put(o, c->port, c->port_len);
}

static void
say_port(struct np_say_ctx *c, const struct np_say *s, struct np_text *o)
{
    const struct np_pport *pp = s->item;

    switch ((enum port_why)s->why) {
    case PORT_MATCHED:
        query_port(c, o);
        if (pp->kind == NP_PPORT_NAMED) {
            LIT(o, " is the port named ");
            STR(o, np_snapshot_str(c->snap, pp->name));
            LIT(o, " on ");
            ep_put(c, 1, o);
        } else {
            LIT(o, " matches ");
            STRN(o, pp->text);
        }
        return;
    case PORT_PROTOCOL:
        LIT(o, "protocol ");
        proto_put(o, c->q->proto);
        LIT(o, " is not ");
        proto_put(o, (enum np_proto)pp->proto);
        LIT(o, " (");
        STRN(o, pp->text);
        LIT(o, ")");
        return;
    case PORT_NUMBER:
    case PORT_RANGE:
        query_port(c, o);
        LIT(o, " is not ");
        STRN(o, pp->text);
        return;
    case PORT_NAME_EXTERNAL:
        LIT(o, "named port ");
        STR(o, np_snapshot_str(c->snap, pp->name));
        LIT(o, " cannot be resolved: the destination ");
        ep_put(c, 1, o);
        LIT(o, " is not a pod on the pod network");
        return;
    case PORT_NAME_MISSING:
        LIT(o, "destination ");
        pod_put(c, 1, o);
        LIT(o, " has no ");
        proto_put(o, (enum np_proto)pp->proto);
        LIT(o, " container port named ");
        STR(o, np_snapshot_str(c->snap, pp->name));
        return;
    case PORT_NAME_OTHER:
        LIT(o, "port ");
        STR(o, np_snapshot_str(c->snap, pp->name));
        LIT(o, " on ");
        ep_put(c, 1, o);
        LIT(o, " is ");
        NUM(o, s->named);
        LIT(o, "/");
        proto_put(o, (enum np_proto)pp->proto);
        LIT(o, ", not ");
        NUM(o, c->q->port);
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
    bool in = rr->say.dir == NP_DIR_INGRESS;
    uint32_t i;

    if (rr->matched) {
        LIT(o, "allows: ");
        if (r->npeers == 0) {
            if (in)
                LIT(o, "every peer (no from list)");
            else
                LIT(o, "every peer (no to list)");
        } else {
            if (in)
                LIT(o, "from[");
            else
                LIT(o, "to[");
            NUM(o, (unsigned)rr->peer);
            LIT(o, "] ");
            STRN(o, r->peers[rr->peer].text);
        }
        LIT(o, " and ");
        if (r->nports == 0) {
            LIT(o, "every port (no ports list)");
        } else {
            LIT(o, "ports[");
            NUM(o, (unsigned)rr->port);
            LIT(o, "] ");
            STRN(o, r->ports[rr->port].text);
        }
    } else if (!rr->peer_ok) {
        /* No peer matches: the first one's sentence says why. */
        if (r->npeers == 1) {
            if (in)
                LIT(o, "from[0]: ");
            else
                LIT(o, "to[0]: ");
            say_peer(c, &rr->peers[rr->say.req].say, o);
        } else {
            if (in)
                LIT(o, "no from peer matches (from[0]: ");
            else
                LIT(o, "no to peer matches (to[0]: ");
            say_peer(c, &rr->peers[rr->say.req].say, o);
            if (r->npeers > 1)
                LIT(o, "; see peers)");
            else
                LIT(o, ")");
        }
    } else {
        LIT(o, "port ");
        query_port(c, o);
        LIT(o, " not in [");
        for (i = 0; i < r->nports; i++) {
            if (i > 0)
                LIT(o, ", ");
            STRN(o, r->ports[i].text);
        }
        LIT(o, "]");
    }
}

void
np_say_policy(struct np_say_ctx *c, const struct np_policy_result *p,
              struct np_text *o)
{
    bool in = p->say.dir == NP_DIR_INGRESS;
    uint32_t j, nmatched = 0;

    (void)c;
    for (j = 0; j < p->nrules; j++)
        nmatched += p->rules[j].matched;
    if (p->nrules == 0) {
        if (in)
            LIT(o, "has no ingress rules, so it allows no ingress for the "
                   "pods it selects");
        else
            LIT(o, "has no egress rules, so it allows no egress for the "
                   "pods it selects");
    } else if (nmatched > 0) {
        NUM(o, nmatched);
        LIT(o, " of ");
        NUM(o, p->nrules);
        if (in)
            LIT(o, " ingress rules allow it");
        else
            LIT(o, " egress rules allow it");
    } else {
        LIT(o, "none of its ");
        NUM(o, p->nrules);
        if (in)
            LIT(o, " ingress rules match");
        else
            LIT(o, " egress rules match");
    }
}

struct tracer {
    const struct np_snapshot *snap;
    const struct np_eval_opts *opts;
    const struct np_query *q;
    struct np_arena *a;
    bool nomem;
    struct np_text scratch; /* a sentence on its way to the arena */
    struct np_say_ctx *say;
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

/* "pod NS/NAME is isolated for DIR by N policies". */
static void
say_isolated(struct np_say_ctx *c, int self_k, enum np_dir dir, uint32_t n,
             struct np_text *o)
{
    pod_put(c, self_k, o);
    LIT(o, " is isolated for ");
    dir_put(o, dir);
    LIT(o, " by ");
    NUM(o, n);
    if (n == 1)
        LIT(o, " policy");
    else
        LIT(o, " policies");
}

static void
trace_side(struct tracer *t, enum np_dir dir, struct np_side *side)
{
    const struct np_snapshot *snap = t->snap;
    const struct np_query *q = t->q;
    const struct np_endpoint *self = dir == NP_DIR_EGRESS ? &q->from : &q->to;
    const struct np_endpoint *peer = dir == NP_DIR_EGRESS ? &q->to : &q->from;
    const struct np_pod *pod = side_subject(q, dir);
    int self_k = dir == NP_DIR_EGRESS ? 0 : 1; /* np_say_ctx's index */
    struct np_policy_result *prs;
    struct np_rule_ref *refs;
    struct np_text *o;
    uint32_t i, j, nrefs = 0, nrules = 0;

    memset(side, 0, sizeof(*side));
    side->dir = dir;
    side->allowed = true;
    if (self->pod == NULL) {
        side->why = NP_WHY_EXTERNAL;
        o = sentence(t);
        pod_put(t->say, self_k, o);
        LIT(o, " is outside the cluster; no NetworkPolicy applies to its ");
        dir_put(o, dir);
        side->reason = sentence_done(t);
        return;
    }
    if (pod == NULL) {
        side->why = NP_WHY_HOST_NETWORK;
        o = sentence(t);
        pod_put(t->say, self_k, o);
        LIT(o, " uses the host network; NetworkPolicies do not select it, "
               "so its ");
        dir_put(o, dir);
        LIT(o, " is not restricted");
        side->reason = sentence_done(t);
        return;
    }
    side->isolated = pod->npolicies[dir] > 0;
    side->npolicies = pod->npolicies[dir];
    if (!side->isolated && is_self(q)) {
        side->why = NP_WHY_SELF;
        LIT(sentence(t), "traffic from a pod to itself is always allowed");
        side->reason = sentence_done(t);
        return;
    }
    if (!side->isolated) {
        side->why = NP_WHY_NOT_ISOLATED;
        o = sentence(t);
        pod_put(t->say, self_k, o);
        LIT(o, " is not isolated for ");
        dir_put(o, dir);
        LIT(o, ": no NetworkPolicy selecting it has policyType ");
        STR(o, np_dir_type_name(dir));
        LIT(o, ", so all ");
        dir_put(o, dir);
        LIT(o, " is allowed");
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
        /* The answer names every policy: ask for the name now. */
        __builtin_prefetch(pol->name);
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
        o = sentence(t);
        say_isolated(t->say, self_k, dir, side->npolicies, o);
        LIT(o, "; ");
        STRN(o, snap->namespaces[prs[r0->policy].policy->ns].name);
        LIT(o, "/");
        STRN(o, prs[r0->policy].policy->name);
        LIT(o, " spec.");
        dir_put(o, dir);
        LIT(o, "[");
        NUM(o, r0->rule);
        if (dir == NP_DIR_EGRESS)
            LIT(o, "] allows traffic to ");
        else
            LIT(o, "] allows traffic from ");
        ep_put(t->say, 1 - self_k, o);
    } else {
        side->why = NP_WHY_NO_RULE_MATCHES;
        o = sentence(t);
        say_isolated(t->say, self_k, dir, side->npolicies, o);
        LIT(o, " and no ");
        dir_put(o, dir);
        LIT(o, " rule allows ");
        query_port(t->say, o);
        if (dir == NP_DIR_EGRESS)
            LIT(o, " to ");
        else
            LIT(o, " from ");
        ep_put(t->say, 1 - self_k, o);
    }
    side->reason = sentence_done(t);
    /* The rules above are still traced, so a person sees what the policies
     * would say to another pod. */
    if (is_self(q)) {
        side->allowed = true;
        side->why = NP_WHY_SELF;
        o = sentence(t);
        LIT(o, "traffic from a pod to itself is always allowed, whatever "
               "the policies (");
        STR(o, side->reason);
        LIT(o, ")");
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

        np_say_policy(t->say, &prs[i], sentence(t));
        prs[i].reason = sentence_done(t);
        for (j = 0; j < prs[i].nrules; j++) {
            struct np_rule_result *rr = &rrs[j];
            struct np_match_result *m;

            m = (struct np_match_result *)rr->peers;
            for (k = 0; k < rr->npeers; k++) {
                np_say_match(t->say, &m[k], sentence(t));
                m[k].reason = sentence_done(t);
            }
            m = (struct np_match_result *)rr->ports;
            for (k = 0; k < rr->nports; k++) {
                np_say_match(t->say, &m[k], sentence(t));
                m[k].reason = sentence_done(t);
            }
            np_say_rule(t->say, rr, sentence(t));
            rr->reason = sentence_done(t);
        }
    }
}

/* The policies of both sides, asked of the memory before the egress side
 * is traced: a traced query reads every policy that selects either pod,
 * and the snapshot is mostly not in the cache. First the policies of both
 * sides, so that they arrive together; then the first lines of what their
 * rules are made of, which the builder allocates after the rules array:
 * peers, ports, selectors and their texts. */
#define PREFETCH_RULE_LINES 8

static void
prefetch_policies(const struct np_snapshot *snap, const struct np_query *q)
{
    const struct np_pod *pods[2] = { side_subject(q, NP_DIR_EGRESS),
                                     side_subject(q, NP_DIR_INGRESS) };
    const enum np_dir dirs[2] = { NP_DIR_EGRESS, NP_DIR_INGRESS };
    uint32_t i, k, l;

    /* The answer gives the pods' addresses and names too. */
    for (k = 0; k < 2; k++) {
        if (pods[k] != NULL) {
            __builtin_prefetch(pods[k]->ips);
            __builtin_prefetch(pods[k]->name);
        }
    }
    for (k = 0; k < 2; k++)
        for (i = 0; pods[k] != NULL && i < pods[k]->npolicies[dirs[k]]; i++)
            __builtin_prefetch(
                &snap->policies[pods[k]->policies[dirs[k]][i]].rules[dirs[k]]);
    for (k = 0; k < 2; k++) {
        for (i = 0; pods[k] != NULL && i < pods[k]->npolicies[dirs[k]]; i++) {
            const struct np_policy *pol =
                &snap->policies[pods[k]->policies[dirs[k]][i]];
            const char *r = (const char *)pol->rules[dirs[k]];

            for (l = 0; r != NULL && l < PREFETCH_RULE_LINES; l++)
                __builtin_prefetch(r + 64 * l);
        }
    }
}

static int
eval_trace(const struct np_snapshot *snap, const struct np_eval_opts *opts,
           const struct np_query *q, struct np_arena *a, bool lazy,
           struct np_say_ctx *say, struct np_verdict *out, struct np_error *err)
{
    struct np_say_ctx own;
    struct tracer t;

    t.snap = snap;
    t.opts = opts;
    t.q = q;
    t.a = a;
    t.nomem = false;
    memset(&t.scratch, 0, sizeof(t.scratch));
    if (say == NULL) {
        np_say_init(&own, snap, q);
        say = &own;
    }
    t.say = say;
    memset(out, 0, sizeof(*out));
    out->self = is_self(q);
    prefetch_policies(snap, q);
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
    return eval_trace(snap, opts, q, a, false, NULL, out, err);
}

int
np_eval_trace_lazy(const struct np_snapshot *snap,
                   const struct np_eval_opts *opts, const struct np_query *q,
                   struct np_arena *a, struct np_verdict *out,
                   struct np_error *err)
{
    return eval_trace(snap, opts, q, a, true, NULL, out, err);
}

int
np_eval_trace_say(const struct np_snapshot *snap,
                  const struct np_eval_opts *opts, const struct np_query *q,
                  struct np_arena *a, struct np_say_ctx *say,
                  struct np_verdict *out, struct np_error *err)
{
    return eval_trace(snap, opts, q, a, true, say, out, err);
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
