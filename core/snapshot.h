/*
 * The compiled, immutable cluster state and the holder that publishes it.
 *
 * A snapshot is built once by np_builder (builder.h) and never changes. It is
 * reference counted: whoever holds a reference may read every field and
 * follow every pointer until np_snapshot_release(). Everything a snapshot
 * points to lives in its own arena and intern table.
 *
 * Objects are sorted: namespaces by name, pods and policies by namespace then
 * name (workloads by namespace, kind, name), so a namespace's objects of a
 * kind are contiguous ranges. Indexes are precomputed at build time: the
 * policies selecting each pod and workload per direction, the pods and
 * workloads each policy selects, pods by IP, and pods by owning workload.
 */
#ifndef NP_SNAPSHOT_H
#define NP_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/intern.h"
#include "core/labels.h"
#include "core/model.h"
#include "core/net.h"
#include "core/selector.h"

enum np_dir { NP_DIR_INGRESS, NP_DIR_EGRESS, NP_DIR__MAX };

/* "ingress" / "egress" and "Ingress" / "Egress". */
const char *np_dir_name(enum np_dir d);
const char *np_dir_type_name(enum np_dir d);

struct np_namespace {
    uint32_t id;
    const char *name;
    uint32_t name_len; /* strlen(name): traces copy names without strlen */
    struct np_labels labels; /* includes kubernetes.io/metadata.name */
    bool implicit;           /* referenced, never declared */
    uint32_t first_pod, npods;
    uint32_t first_policy, npolicies;
    uint32_t first_workload, nworkloads;    /* range of snapshot.workloads */
    const struct np_model_namespace *model; /* NULL when implicit */
};

struct np_container_port {
    np_sym name; /* NP_SYM_NONE when unnamed */
    uint16_t port;
    uint8_t proto; /* enum np_proto */
};

struct np_pod {
    /* First what a query reads of both its pods (finding them by name,
     * writing their names and addresses, tracing their policies), packed
     * at the start, so that it takes one or two cache lines, not four. */
    uint32_t id;
    uint32_t ns; /* namespace id */
    const char *name;
    /* Policies whose podSelector selects this pod and whose effective
     * policyTypes include the direction, sorted by policy id. Empty for
     * hostNetwork pods, which NetworkPolicies do not select. */
    uint32_t npolicies[NP_DIR__MAX];
    const uint32_t *policies[NP_DIR__MAX];
    uint32_t name_len;
    uint32_t nips;
    const struct np_ip *ips; /* status.podIP(s), deduplicated */
    /* Workloads (core/workload.h). A template pod, an element of
     * snapshot.workloads, stands for any pod of a workload's template: it has
     * workload_kind set ("Deployment", ...), no IP, and its id is its index
     * in snapshot.workloads, so never index snapshot.pods with it. A real
     * pod has workload_kind NULL, and workload is the template pod of the
     * uploaded workload its metadata.ownerReferences lead to, or NULL. */
    const char *workload_kind;
    bool host_network;
    bool has_host_ip;
    struct np_labels labels;
    uint32_t nports;
    const struct np_container_port *ports;
    struct np_ip host_ip;
    const char *phase; /* NULL when not given */
    /* Every policy whose podSelector selects this pod, whatever its types. */
    uint32_t nselected_by;
    const uint32_t *selected_by;
    const struct np_model_pod *model; /* NULL for a template pod */
    const struct np_pod *workload;
};

/* What a workload adds to its template pod: snapshot.workload_info[i]
 * belongs to snapshot.workloads[i]. */
struct np_workload {
    const struct np_model_workload *model;
    /* The uploaded Deployment owning this ReplicaSet, or CronJob owning
     * this Job (metadata.ownerReferences); NULL otherwise. */
    const struct np_pod *owner;
    /* Real pods owned by this workload directly or through the workload it
     * owns (a Deployment's pods through its ReplicaSets), sorted ids. */
    uint32_t npods;
    const uint32_t *pods;
};

enum np_peer_kind {
    NP_PEER_PODS,    /* podSelector and/or namespaceSelector */
    NP_PEER_IPBLOCK, /* ipBlock */
};

struct np_peer {
    enum np_peer_kind kind;
    /* NP_PEER_PODS: a NULL ns_sel means the policy's own namespace; a NULL
     * pod_sel means every pod of the selected namespaces. */
    const struct np_selector *pod_sel;
    const struct np_selector *ns_sel;
    /* NP_PEER_IPBLOCK */
    struct np_cidr cidr;
    uint32_t nexcept;
    const struct np_cidr *except;
    const char *text; /* the peer in words, for traces */
    uint32_t text_len;
};

enum np_pport_kind {
    NP_PPORT_ALL,    /* protocol only, every port */
    NP_PPORT_NUMBER, /* port */
    NP_PPORT_RANGE,  /* port..endPort */
    NP_PPORT_NAMED,  /* a container port name on the destination pod */
};

struct np_pport {
    enum np_pport_kind kind;
    uint8_t proto; /* enum np_proto, TCP when not given */
    uint16_t port, end_port;
    np_sym name;
    const char *text; /* "80/TCP", "8000-8080/TCP", "http/TCP", "any/UDP" */
    uint32_t text_len;
};

struct np_rule {
    uint32_t npeers; /* 0: every peer (from/to missing or empty) */
    const struct np_peer *peers;
    uint32_t nports; /* 0: every port (ports missing or empty) */
    const struct np_pport *ports;
};

struct np_policy {
    /* First what tracing a query reads of each policy, in one cache line. */
    uint32_t id;
    uint32_t ns;
    const char *name;
    uint32_t nrules[NP_DIR__MAX];
    const struct np_rule *rules[NP_DIR__MAX];
    uint32_t name_len;
    /* Effective policyTypes: as given, or Ingress plus Egress when the spec
     * has egress rules (SetDefaults_NetworkPolicy). */
    bool affects[NP_DIR__MAX];
    bool types_defaulted;
    struct np_selector pod_sel;
    uint32_t nselected; /* pods the podSelector selects, sorted ids */
    const uint32_t *selected;
    /* Workloads whose template the podSelector selects: indexes into
     * snapshot.workloads, sorted. Real pods only are in selected. */
    uint32_t nselected_workloads;
    const uint32_t *selected_workloads;
    const struct np_model_policy *model;
};

struct np_ip_entry {
    struct np_ip ip;
    uint32_t pod;
};

/* A slot of the pod index: everything a probe looks at in one place, so
 * that finding a pod touches the slot, the name and the pod only. */
struct np_pod_slot {
    uint32_t hash; /* the key's hash: names are compared only on a match */
    uint32_t pod;  /* pod id + 1; 0 is an empty slot */
    const char *name;
};

struct np_snapshot {
    atomic_uint refs;
    uint64_t revision;
    struct np_arena arena;
    struct np_intern *syms;
    np_sym ns_name_key; /* "kubernetes.io/metadata.name" */
    uint32_t nnamespaces;
    const struct np_namespace *namespaces;
    uint32_t npods;
    const struct np_pod *pods;
    uint32_t npolicies;
    const struct np_policy *policies;
    uint32_t nips; /* sorted by address; pods that are not hostNetwork */
    const struct np_ip_entry *ips;
    /* Pods by namespace and name: open addressing, pod_slots_mask + 1
     * slots. */
    const struct np_pod_slot *pod_slots;
    uint32_t pod_slots_mask;
    /* Workloads as template pods, sorted by namespace, kind and name, and
     * the rest of what is known of each at the same index. Kept apart from
     * pods: pod ids, IPs and matrices cover real pods only. */
    uint32_t nworkloads;
    const struct np_pod *workloads;
    const struct np_workload *workload_info;
    uint32_t ndeclared_namespaces; /* namespaces not implicit */
    /* Every name and text a trace quotes (namespaces, pods, workloads,
     * policies, their peers, ports and selectors) is printable ASCII
     * without '"' or '\\': a writer of quoted text copies them, and the
     * sentences made of them, as they are. Names and labels Kubernetes
     * accepts always are; np_builder_build() checks. */
    bool texts_plain;
};

/* Returns a new empty snapshot at revision 0, or NULL when out of memory. */
struct np_snapshot *np_snapshot_new_empty(void);

/* Adds a reference; returns snap. */
struct np_snapshot *np_snapshot_retain(struct np_snapshot *snap);

/* Drops a reference; the last one frees the snapshot. NULL is ignored. */
void np_snapshot_release(struct np_snapshot *snap);

/* Lookups; they return borrowed pointers or NULL. */
const struct np_namespace *
np_snapshot_find_namespace(const struct np_snapshot *snap, const char *name);
const struct np_pod *np_snapshot_find_pod(const struct np_snapshot *snap,
                                          const char *ns, const char *name);
/* For callers that look up many pods at once (batches): the hash
 * np_snapshot_find_pod() looks (ns, name) up by, given by length;
 * np_snapshot_prefetch_pod() asks the memory a lookup will touch to be
 * brought in (stage 0: the slot; stage 1, once the slot is in: the pod and
 * its name), so that lookups a few queries ahead overlap their waits; and
 * the lookup itself with the hash. */
uint32_t np_snapshot_pod_hash(const char *ns, size_t nslen, const char *name,
                              size_t namelen);
void np_snapshot_prefetch_pod(const struct np_snapshot *snap, uint32_t hash,
                              int stage);
const struct np_pod *np_snapshot_find_pod_hashed(const struct np_snapshot *snap,
                                                 const char *ns,
                                                 const char *name,
                                                 uint32_t hash);
const struct np_policy *np_snapshot_find_policy(const struct np_snapshot *snap,
                                                const char *ns,
                                                const char *name);
/* The workload of kind ("Deployment", case-sensitive) and name in namespace
 * ns, as its template pod. */
const struct np_pod *np_snapshot_find_workload(const struct np_snapshot *snap,
                                               const char *ns, const char *kind,
                                               const char *name);
/* The pod (not hostNetwork, not in a terminal phase) that owns ip. */
const struct np_pod *np_snapshot_find_pod_by_ip(const struct np_snapshot *snap,
                                                const struct np_ip *ip);

/* Builds the pod lookup table of a snapshot under construction; its pods and
 * namespaces must be final. Returns 0, or -1 when out of memory. */
int np_snapshot_index_pods(struct np_snapshot *snap);

/* Returns the string of a symbol of snap. */
const char *np_snapshot_str(const struct np_snapshot *snap, np_sym s);

/* Returns "namespace/name" of a pod or policy into the arena a; for a
 * template pod, "namespace/Kind/name". */
const char *np_pod_ref(const struct np_snapshot *snap, const struct np_pod *pod,
                       struct np_arena *a);
const char *np_policy_ref(const struct np_snapshot *snap,
                          const struct np_policy *pol, struct np_arena *a);

/*
 * The holder of the current snapshot. Readers acquire a reference and never
 * wait for writers beyond the pointer swap; writers serialize on a separate
 * mutex held from reading the base snapshot to publishing the new one.
 */
struct np_state {
    pthread_mutex_t lock;   /* guards current; held only to swap or retain */
    pthread_mutex_t writer; /* serializes uploads */
    struct np_snapshot *current;
};

/* Initializes st with an empty snapshot. Returns 0, or -1 with err set. */
int np_state_init(struct np_state *st, struct np_error *err);

/* Releases the current snapshot and destroys the mutexes. */
void np_state_fini(struct np_state *st);

/* Returns the current snapshot, retained: the caller releases it. */
struct np_snapshot *np_state_acquire(struct np_state *st);

/* Writers: lock, read the base with np_state_acquire(), build, publish,
 * unlock. */
void np_state_writer_lock(struct np_state *st);
void np_state_writer_unlock(struct np_state *st);

/* Makes snap current; steals the caller's reference to snap. */
void np_state_publish(struct np_state *st, struct np_snapshot *snap);

#endif
