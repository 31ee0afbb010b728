/*
 * A reference NetworkPolicy evaluator for the differential tests
 * (tests/unit/core_differential.c), written straight from the Kubernetes
 * API reference (networking.k8s.io/v1 NetworkPolicySpec, NetworkPolicyPeer,
 * NetworkPolicyPort, IPBlock, metav1.LabelSelector) and netpolq's README
 * "Semantics" section. It reads the plain model objects of core/model.h and
 * compares strings: no interning, no indexes, no precomputation and no code
 * from core/. Every question is answered by looking at every object again,
 * so it is slow and, one hopes, obviously right.
 *
 * Objects must be valid (np_builder accepts them); the reference does not
 * validate. Memory: nothing is allocated; every pointer is borrowed.
 */
#ifndef TESTS_SUPPORT_REFEVAL_H
#define TESTS_SUPPORT_REFEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/model.h"

struct ref_cluster {
    size_t nnamespaces; /* declared namespaces */
    const struct np_model_namespace *namespaces;
    size_t npods;
    const struct np_model_pod *pods;
    size_t npolicies;
    const struct np_model_policy *policies;
    bool ipblock_matches_pods; /* --ipblock-matches-pods */
};

/* One end of a connection: a pod named by namespace and name (pod >= 0,
 * ip NULL), or an address (ip set), which means the pod owning it when
 * there is one (ref_resolve_ip()). */
struct ref_endpoint {
    long pod;       /* index into cluster->pods, or -1 */
    const char *ip; /* the address the query gave, or NULL */
};

/* Returns the index of the pod an address means: a pod on the pod network
 * (not hostNetwork) that is not finished (phase Succeeded or Failed) and
 * lists the address among its IPs; -1 for an address outside the cluster.
 * The first such pod in namespace/name order wins. */
long ref_resolve_ip(const struct ref_cluster *c, const char *ip);

/* Returns whether a connection from -> to on port/proto ("TCP", "UDP",
 * "SCTP") is allowed. */
bool ref_allowed(const struct ref_cluster *c, const struct ref_endpoint *from,
                 const struct ref_endpoint *to, unsigned port,
                 const char *proto);

/* Prints the cluster compactly, one object a line, for failure messages. */
void ref_cluster_dump(const struct ref_cluster *c, FILE *f);

#endif
