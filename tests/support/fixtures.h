/*
 * Fixture builders for the core suites: namespaces, pods and NetworkPolicies
 * written the way their manifests read, added to an np_builder, and helpers
 * that evaluate a query on every path of core/eval.h at once.
 *
 * Objects are written in a compact text form that mirrors the YAML fields:
 *
 *   fx_ns(b, "test-a", "team=ateam");
 *   fx_pod(b, "prod/web-1", "app=web,tier=fe", "10.0.1.5,fd00::5");
 *   fx_pod_ports(b, "prod/web-1", "app=web", "10.0.1.5",
 *                "http:80/TCP,dns:53/UDP,8080");
 *   fx_pod_spec(b, "kube-system/node-agent",
 *               "labels: app=agent; ips: 192.168.0.5; hostNetwork; "
 *               "hostIP: 192.168.0.5; phase: Running");
 *   fx_policy(b, "test-a/allow-client",
 *             "podSelector: app=test-server; "
 *             "ingress: [{from: [ns(team=bteam) pod(app=test-client)], "
 *             "           ports: [80/TCP]}]");
 *
 * A reference is "namespace/name"; without '/' the namespace is left out and
 * the builder puts the object into "default".
 *
 * Labels: "k=v,k2=v2", "" or NULL for none.
 *
 * Selectors use kubectl's syntax and become matchLabels and matchExpressions
 * the way a manifest would hold them: "k=v" and "k==v" are matchLabels,
 * "k!=v" is NotIn (v), "k in (a,b)" In, "k notin (a,b)" NotIn, "k" Exists,
 * "!k" DoesNotExist. A capitalized operator is passed verbatim, so invalid
 * selectors can be written too: "k In ()" (no values), "k Exists (a)",
 * "k Bogus (a)". "" and "{}" are the empty selector.
 *
 * Policies: clauses separated by ';'.
 *   podSelector: SELECTOR          spec.podSelector ({} when left out)
 *   policyTypes: [Ingress, Egress] spec.policyTypes, verbatim
 *   ingress: [RULE, ...]           spec.ingress; "[]" is an empty list and a
 *   egress: [RULE, ...]            left-out clause a missing one
 * A RULE is "{}" or "{from: [PEER, ...], ports: [PORT, ...]}" ("to:" for
 * egress; either word is accepted). A PEER is "{}" (nothing set) or parts
 * separated by spaces, which all belong to the same peer:
 *   pod(SELECTOR)  ns(SELECTOR)  ipBlock(CIDR [except CIDR ...])
 * A PORT is "[PORT][-END][/PROTOCOL]" or "[PORT] end=END[/PROTOCOL]":
 *   80   80/UDP   8000-8080/TCP   http   http/UDP   /SCTP (protocol only)
 *   "end=90" alone is an endPort without port; the protocol is verbatim
 *   ("80/tcp" stays lowercase).
 *
 * Pods (fx_pod_spec): clauses "labels: L", "ips: A,B", "ports: P",
 * "hostNetwork", "hostIP: A", "phase: P". Container ports are
 * "[NAME:]PORT[/PROTOCOL]", comma-separated.
 *
 * A text the fixtures cannot read fails the test with the text quoted. Every
 * fx_* function that adds an object asserts that the builder accepted it; the
 * fx_try_* forms return the builder's answer instead.
 *
 * Memory: models and traces live in a scratch arena of the test process
 * (fx_arena()), freed by fx_fini(), which suites name as their .fini.
 */
#ifndef TESTS_SUPPORT_FIXTURES_H
#define TESTS_SUPPORT_FIXTURES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/eval.h"
#include "core/labels.h"
#include "core/model.h"
#include "core/snapshot.h"

/* The scratch arena (borrowed) and its release. */
struct np_arena *fx_arena(void);
void fx_fini(void);

/* --- models (allocated in fx_arena()) --- */

struct np_model_selector fx_selector(const char *text);
struct np_model_namespace *fx_ns_model(const char *name, const char *labels);
struct np_model_pod *fx_pod_model(const char *ref, const char *spec);
struct np_model_policy *fx_policy_model(const char *ref, const char *spec);

/* Interns the labels "k=v,..." into t and returns the sorted set. */
struct np_labels fx_labels(struct np_intern *t, const char *labels);

/* --- adding to a builder --- */

/* A new builder; asserts it could be made. */
struct np_builder *fx_builder(void);

void fx_ns(struct np_builder *b, const char *name, const char *labels);
void fx_pod(struct np_builder *b, const char *ref, const char *labels,
            const char *ips);
void fx_pod_ports(struct np_builder *b, const char *ref, const char *labels,
                  const char *ips, const char *ports);
void fx_pod_spec(struct np_builder *b, const char *ref, const char *spec);
void fx_policy(struct np_builder *b, const char *ref, const char *spec);

/* Return what np_builder_add_*() returns, with err filled. kind is "ns"
 * (text: labels), "pod" (text: pod spec) or "policy" (text: policy spec). */
int fx_try_ns(struct np_builder *b, const char *name, const char *labels,
              struct np_error *err);
int fx_try_pod(struct np_builder *b, const char *ref, const char *spec,
               struct np_error *err);
int fx_try_policy(struct np_builder *b, const char *ref, const char *spec,
                  struct np_error *err);
int fx_try_add(struct np_builder *b, const char *kind, const char *ref,
               const char *text, struct np_error *err);

/* Builds b at revision 1 and frees it; asserts success. The caller releases
 * the snapshot. */
struct np_snapshot *fx_build(struct np_builder *b);

/* --- queries --- */

/* ipblock_matches_pods = true, the default. */
extern const struct np_eval_opts fx_opts;

/* "ns/name" is that pod (asserted to exist); an address goes through
 * np_endpoint_from_ip(), so a pod's IP means that pod. */
struct np_endpoint fx_endpoint(const struct np_snapshot *s, const char *who);

/* port: "80", "53/UDP", or a port name ("http", "dns/UDP") resolved on the
 * destination pod with np_pod_resolve_port(). */
struct np_query fx_query(const struct np_snapshot *s, const char *from,
                         const char *to, const char *port);

/*
 * Evaluates from -> to on port with np_eval_allowed(), np_eval_side_allowed()
 * for both directions and np_eval_trace(), and asserts that they agree and
 * that the trace is consistent with itself (allowed_by points at matching
 * rules, isolation matches np_pod_isolation(), every reason is set). Returns
 * the verdict; out (may be NULL) receives the trace, allocated in fx_arena().
 * opts NULL means fx_opts.
 */
bool fx_eval(const struct np_snapshot *s, const struct np_eval_opts *opts,
             const char *from, const char *to, const char *port,
             struct np_verdict *out);

/* fx_eval() with fx_opts and no trace kept. */
bool fx_allowed(const struct np_snapshot *s, const char *from, const char *to,
                const char *port);

/* The trace of policy "name" (its own name, not ns/name) on side, or NULL. */
const struct np_policy_result *fx_side_policy(const struct np_side *side,
                                              const char *name);

/* True when text occurs in any reason of side: the side's, its policies',
 * their rules', peers' and ports'. */
bool fx_side_mentions(const struct np_side *side, const char *text);

/* Every reason of side, one per line, for failure messages (fx_arena()). */
const char *fx_side_dump(const struct np_side *side);

#endif
