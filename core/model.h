/*
 * Plain input objects: Namespaces, Pods, workloads and NetworkPolicies as
 * they were uploaded, with every string as written. The api layer decodes
 * manifests into these; np_builder (builder.c) validates them like the API
 * server would and compiles them into a snapshot.
 *
 * Ownership: the caller owns model objects and everything they point to;
 * np_builder_add_*() copies what it keeps, so a model object may be freed as
 * soon as the call returns. Absent optional strings are NULL. A "present" flag
 * tells a missing list from an empty one where Kubernetes gives them different
 * meanings.
 */
#ifndef NP_MODEL_H
#define NP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct np_model_label {
    const char *key;
    const char *value;
};

struct np_model_expr {
    const char *key;
    const char *op; /* "In", "NotIn", "Exists", "DoesNotExist" */
    size_t nvalues;
    const char *const *values;
};

/* metav1.LabelSelector. An empty selector (no labels, no expressions) matches
 * everything. */
struct np_model_selector {
    size_t nlabels;
    const struct np_model_label *labels; /* matchLabels */
    size_t nexprs;
    const struct np_model_expr *exprs; /* matchExpressions */
};

struct np_model_namespace {
    const char *name;
    size_t nlabels;
    const struct np_model_label *labels;
    const char *source; /* compact JSON of the object as uploaded, or NULL */
};

struct np_model_container_port {
    const char *name;     /* NULL when unnamed */
    int64_t port;         /* containerPort */
    const char *protocol; /* NULL means TCP */
    const char *path;     /* "spec.containers[0].ports[1]" for errors, or
                             NULL */
};

/* A workload or other owner named by metadata.ownerReferences. */
struct np_model_owner {
    const char *kind;
    const char *name;
};

struct np_model_pod {
    const char *namespace_; /* NULL means "default" */
    const char *name;
    size_t nlabels;
    const struct np_model_label *labels;
    size_t nports; /* spec.containers[].ports[], flattened */
    const struct np_model_container_port *ports;
    bool host_network;   /* spec.hostNetwork */
    const char *host_ip; /* status.hostIP, or NULL */
    size_t nips;         /* status.podIP and status.podIPs[].ip, merged */
    const char *const *ips;
    const char *phase; /* status.phase, or NULL */
    size_t nowners;
    const struct np_model_owner *owners;
    const char *source;
};

/* A workload as a pod template: Deployment, ReplicaSet, StatefulSet,
 * DaemonSet, Job, CronJob (apps/v1, batch/v1) or ReplicationController (v1).
 * Only what a pod of its template would carry is kept: the template's labels
 * (spec.template.metadata.labels; spec.jobTemplate.spec.template for a
 * CronJob), the ports of its containers (not initContainers) and hostNetwork.
 * See core/workload.h. */
struct np_model_workload {
    const char *namespace_; /* NULL means "default" */
    const char *kind;       /* "Deployment", ...; case-sensitive */
    const char *name;
    size_t nlabels; /* the template's labels */
    const struct np_model_label *labels;
    size_t nports; /* the template's spec.containers[].ports[], flattened */
    const struct np_model_container_port *ports;
    bool host_network;    /* the template's spec.hostNetwork */
    bool manual_selector; /* a Job's spec.manualSelector */
    size_t nowners;       /* metadata.ownerReferences */
    const struct np_model_owner *owners;
    const char *source;
};

/* NetworkPolicyPort. */
struct np_model_policy_port {
    const char *protocol; /* NULL means TCP */
    bool has_port;
    const char *port_name; /* non-NULL when port is a name */
    int64_t port;          /* when has_port and port_name == NULL */
    bool has_end_port;
    int64_t end_port;
};

struct np_model_ipblock {
    const char *cidr;
    size_t nexcept;
    const char *const *except;
};

/* NetworkPolicyPeer: at least one field must be set, and ipBlock excludes the
 * two selectors. A NULL selector is absent; a non-NULL empty one is {}. */
struct np_model_peer {
    const struct np_model_selector *pod_selector;
    const struct np_model_selector *namespace_selector;
    const struct np_model_ipblock *ipblock;
};

/* NetworkPolicyIngressRule / NetworkPolicyEgressRule: from (or to) and ports.
 * A missing or empty list matches everything. */
struct np_model_rule {
    size_t npeers;
    const struct np_model_peer *peers;
    size_t nports;
    const struct np_model_policy_port *ports;
};

struct np_model_policy {
    const char *namespace_; /* NULL means "default" */
    const char *name;
    struct np_model_selector pod_selector; /* spec.podSelector */
    size_t ntypes;                         /* spec.policyTypes */
    const char *const *types;
    /* spec.ingress / spec.egress. A missing list and an empty one both hold no
     * rules; egress_present is kept only for the trace. */
    bool ingress_present;
    size_t ningress;
    const struct np_model_rule *ingress;
    bool egress_present;
    size_t negress;
    const struct np_model_rule *egress;
    const char *source;
};

#endif
