/*
 * Reachability and isolation verdicts on a snapshot, with the trace that
 * explains them.
 *
 * A connection from A to B on port/protocol is allowed when A's egress side
 * allows it and B's ingress side allows it. A side allows when its pod is not
 * isolated for that direction (no policy selecting it has the direction in
 * its effective policyTypes) or when some rule of one of those policies
 * matches the peer and the port. Policies are additive: order, creation time
 * and count never matter.
 *
 * np_eval_allowed() is the fast path (no allocation). np_eval_trace() gives
 * the same verdict plus a trace allocated in a caller's arena.
 */
#ifndef NP_EVAL_H
#define NP_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/net.h"
#include "core/snapshot.h"
#include "core/text.h"

struct np_eval_opts {
    /* Whether ipBlock peers also match pods by their IPs (Calico and the
     * upstream e2e suite: yes; Cilium: no). Default true. */
    bool ipblock_matches_pods;
};

/* One side of a connection. pod == NULL: an address outside the cluster (ip
 * is set). pod != NULL: that pod; has_ip tells whether the query named it by
 * one of its addresses (ip), which then is the address peers see. */
struct np_endpoint {
    const struct np_pod *pod;
    bool has_ip;
    struct np_ip ip;
};

struct np_query {
    struct np_endpoint from, to;
    uint16_t port;
    enum np_proto proto;
};

/* Resolves an endpoint given by address: a pod's IP means that pod. */
void np_endpoint_from_ip(const struct np_snapshot *snap, const struct np_ip *ip,
                         struct np_endpoint *out);

/* Resolves a port name on pod (its container ports). *proto is in/out: when
 * proto_given is true the named port must have that protocol, otherwise
 * *proto receives the port's protocol. Returns 0, or -1 with err set
 * (NP_E_UNKNOWN_PORT_NAME). */
int np_pod_resolve_port(const struct np_snapshot *snap,
                        const struct np_pod *pod, const char *name,
                        bool proto_given, enum np_proto *proto, uint16_t *port,
                        struct np_error *err);

/* Returns the verdict only. */
bool np_eval_allowed(const struct np_snapshot *snap,
                     const struct np_eval_opts *opts, const struct np_query *q);

/* Returns true when the side dir of q allows (egress of q->from, ingress of
 * q->to). */
bool np_eval_side_allowed(const struct np_snapshot *snap,
                          const struct np_eval_opts *opts,
                          const struct np_query *q, enum np_dir dir);

/* --- traces --- */

/* What a result's sentence is made of: the evaluator's findings, kept so
 * that np_say_*() can write the sentence later, straight where it goes.
 * Filled by np_eval_trace() and np_eval_trace_lazy() in every result. */
struct np_say {
    const struct np_policy *policy;
    const void *item; /* the np_peer, np_pport or np_rule */
    struct np_ip ip;  /* peer: the address compared, for ipBlock */
    uint32_t except;  /* peer: the except entry hit */
    int32_t req;      /* peer: the failing selector requirement; rule:
                         the first peer that does not match */
    uint16_t named;   /* port: the number a named port is on the pod */
    uint8_t kind;     /* peer, port, rule or policy (eval.c) */
    uint8_t why;      /* the evaluator's reason code */
    uint8_t dir;      /* enum np_dir */
};

struct np_match_result {
    bool matched;
    const char *reason; /* why it matched or not, one clause */
    struct np_say say;
};

struct np_rule_result {
    uint32_t index; /* into spec.ingress / spec.egress */
    bool matched;
    bool peer_ok;
    int32_t peer; /* first matching peer, -1 if none or the rule has none */
    bool port_ok;
    int32_t port; /* first matching port, -1 if none or the rule has none */
    uint32_t npeers;
    const struct np_match_result *peers; /* one per from/to item */
    uint32_t nports;
    const struct np_match_result *ports; /* one per ports item */
    const char *reason;                  /* the rule in one sentence */
    struct np_say say;
};

struct np_policy_result {
    const struct np_policy *policy;
    bool allowed; /* some rule matched */
    uint32_t nrules;
    const struct np_rule_result *rules;
    const char *reason;
    struct np_say say;
};

enum np_side_why {
    NP_WHY_SELF,            /* a pod talking to itself */
    NP_WHY_EXTERNAL,        /* this side is an address outside the cluster */
    NP_WHY_HOST_NETWORK,    /* hostNetwork pod: policies do not select it */
    NP_WHY_NOT_ISOLATED,    /* no policy isolates the pod in this direction */
    NP_WHY_ALLOWED_BY_RULE, /* some rule allows */
    NP_WHY_NO_RULE_MATCHES, /* isolated and nothing allows */
    NP_WHY__MAX
};

/* snake_case name of why, stable for clients ("no_rule_matches"). */
const char *np_side_why_name(enum np_side_why why);

struct np_rule_ref {
    uint32_t policy; /* index into np_side.policies */
    uint32_t rule;
    int32_t peer, port;
};

struct np_side {
    enum np_dir dir;
    bool allowed;
    bool isolated;
    enum np_side_why why;
    uint32_t npolicies; /* policies isolating the pod for dir, by name */
    const struct np_policy_result *policies;
    uint32_t nallowed_by;
    const struct np_rule_ref *allowed_by;
    const char *reason; /* the side in one sentence */
};

struct np_verdict {
    bool allowed;
    bool self;
    struct np_side egress, ingress;
};

/* Evaluates q with a full trace allocated in a. Returns 0, or -1 with err set
 * (out of memory only). */
int np_eval_trace(const struct np_snapshot *snap,
                  const struct np_eval_opts *opts, const struct np_query *q,
                  struct np_arena *a, struct np_verdict *out,
                  struct np_error *err);

/* As np_eval_trace(), but only the sides' reasons are written: the reason
 * of every policy, rule, peer and port result is NULL, and np_say_*()
 * writes it on demand (an answer writes them straight into its text). */
int np_eval_trace_lazy(const struct np_snapshot *snap,
                       const struct np_eval_opts *opts,
                       const struct np_query *q, struct np_arena *a,
                       struct np_verdict *out, struct np_error *err);

/* Longest text of one endpoint in a sentence, NUL included. */
#define NP_SAY_ENDPOINT_MAX 512

/* What np_say_*() needs of the query: the query, and the texts of its
 * endpoints made on first use. */
struct np_say_ctx {
    const struct np_snapshot *snap;
    const struct np_query *q;
    /* [0] q->from, [1] q->to: "ns/name" (or the address, or the
     * workload), and the same as a sentence names a pod ("pod ns/name") */
    char ep[2][NP_SAY_ENDPOINT_MAX], pod[2][NP_SAY_ENDPOINT_MAX];
    uint16_t ep_len[2], pod_len[2];
    bool made[2];
    /* "PORT/PROTO" of the query, made when a sentence first needs it
     * (port_len 0 until then) */
    char port[16];
    uint8_t port_len;
};

void np_say_init(struct np_say_ctx *c, const struct np_snapshot *snap,
                 const struct np_query *q);

/* np_eval_trace_lazy() with the texts of the sentences (the endpoints, the
 * port) kept in say, which the caller np_say_init()'ed for q: an answer
 * that writes the sentences afterwards with the same say makes them once. */
int np_eval_trace_say(const struct np_snapshot *snap,
                      const struct np_eval_opts *opts, const struct np_query *q,
                      struct np_arena *a, struct np_say_ctx *say,
                      struct np_verdict *out, struct np_error *err);

/* Append the sentence of a result of np_eval_trace_lazy() (the very text
 * np_eval_trace() puts in its reason) to out. */
void np_say_match(struct np_say_ctx *c, const struct np_match_result *m,
                  struct np_text *out);
void np_say_rule(struct np_say_ctx *c, const struct np_rule_result *r,
                 struct np_text *out);
void np_say_policy(struct np_say_ctx *c, const struct np_policy_result *p,
                   struct np_text *out);

/* Isolation of a pod: the policies (ids, sorted by namespace/name) that
 * isolate it per direction. Borrowed from snap. */
struct np_isolation {
    bool isolated[NP_DIR__MAX];
    uint32_t npolicies[NP_DIR__MAX];
    const uint32_t *policies[NP_DIR__MAX];
};

void np_pod_isolation(const struct np_snapshot *snap, const struct np_pod *pod,
                      struct np_isolation *out);

#endif
