/*
 * Snapshot lifetime, lookups, and the np_state holder that publishes
 * snapshots to readers. Building a snapshot is builder.c's job.
 */
#include "core/snapshot.h"

#include <stdlib.h>
#include <string.h>

static const char *const dir_names[NP_DIR__MAX] = {
    [NP_DIR_INGRESS] = "ingress",
    [NP_DIR_EGRESS] = "egress",
};
static const char *const dir_type_names[NP_DIR__MAX] = {
    [NP_DIR_INGRESS] = "Ingress",
    [NP_DIR_EGRESS] = "Egress",
};

const char *
np_dir_name(enum np_dir d)
{
    return (unsigned)d < NP_DIR__MAX ? dir_names[d] : "?";
}

const char *
np_dir_type_name(enum np_dir d)
{
    return (unsigned)d < NP_DIR__MAX ? dir_type_names[d] : "?";
}

struct np_snapshot *
np_snapshot_new_empty(void)
{
    struct np_snapshot *snap;

    snap = calloc(1, sizeof(*snap));
    if (snap == NULL)
        return NULL;
    atomic_init(&snap->refs, 1);
    np_arena_init(&snap->arena);
    snap->syms = np_intern_new();
    if (snap->syms == NULL) {
        free(snap);
        return NULL;
    }
    snap->ns_name_key =
        np_intern_add(snap->syms, "kubernetes.io/metadata.name");
    if (snap->ns_name_key == NP_SYM_NONE) {
        np_snapshot_release(snap);
        return NULL;
    }
    return snap;
}

struct np_snapshot *
np_snapshot_retain(struct np_snapshot *snap)
{
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    return snap;
}

void
np_snapshot_release(struct np_snapshot *snap)
{
    if (snap == NULL)
        return;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1)
        return;
    np_intern_free(snap->syms);
    np_arena_free_all(&snap->arena);
    free(snap);
}

/* What a lookup looks for. kind is used by workloads only, which sort by
 * kind and then name within their namespace. */
struct key {
    const char *kind;
    const char *name;
};

/* Compares element i of one of the snapshot's sorted arrays with key, the
 * way strcmp() compares. */
typedef int cmp_fn(const struct np_snapshot *snap, uint32_t i,
                   const struct key *key);

#define NOT_FOUND UINT32_MAX

/* Binary search for key in [lo, hi) of an array sorted the way cmp
 * compares. Returns the index, or NOT_FOUND. */
static uint32_t
search(const struct np_snapshot *snap, uint32_t lo, uint32_t hi, cmp_fn *cmp,
       const struct key *key)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = cmp(snap, mid, key);

        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NOT_FOUND;
}

static int
namespace_cmp(const struct np_snapshot *snap, uint32_t i, const struct key *key)
{
    return strcmp(snap->namespaces[i].name, key->name);
}

static int
pod_cmp(const struct np_snapshot *snap, uint32_t i, const struct key *key)
{
    return strcmp(snap->pods[i].name, key->name);
}

static int
policy_cmp(const struct np_snapshot *snap, uint32_t i, const struct key *key)
{
    return strcmp(snap->policies[i].name, key->name);
}

static int
workload_cmp(const struct np_snapshot *snap, uint32_t i, const struct key *key)
{
    const struct np_pod *w = &snap->workloads[i];
    int c = strcmp(w->workload_kind, key->kind);

    return c != 0 ? c : strcmp(w->name, key->name);
}

const struct np_namespace *
np_snapshot_find_namespace(const struct np_snapshot *snap, const char *name)
{
    struct key key = { .name = name };
    uint32_t i = search(snap, 0, snap->nnamespaces, namespace_cmp, &key);

    return i != NOT_FOUND ? &snap->namespaces[i] : NULL;
}

/* One step of the pod key hash: eight bytes at a time, so that a key of
 * 40 bytes costs six dependent multiplications, not 40 (FNV-1a). */
static inline uint64_t
key_mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

static uint64_t
key_hash_bytes(uint64_t h, const char *s, size_t n)
{
    uint64_t v;

    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&v, s, 8);
        h = key_mix(h, v);
    }
    v = 0;
    memcpy(&v, s, n);
    /* The length ends each part: "ab" + "c" and "a" + "bc" differ. */
    return key_mix(h, v ^ (uint64_t)n << 56);
}

uint32_t
np_snapshot_pod_hash(const char *ns, size_t nslen, const char *name,
                     size_t namelen)
{
    uint64_t h = key_hash_bytes(0x243f6a8885a308d3ULL, ns, nslen);

    h = key_hash_bytes(h, name, namelen);
    return (uint32_t)(h ^ (h >> 29));
}

static uint32_t
pod_key_hash(const char *ns, const char *name)
{
    return np_snapshot_pod_hash(ns, strlen(ns), name, strlen(name));
}

int
np_snapshot_index_pods(struct np_snapshot *snap)
{
    struct np_pod_slot *slots;
    size_t n = 16, i;

    /* At most half full, so that probes stay short. */
    while (n < (size_t)snap->npods * 2)
        n *= 2;
    slots = np_arena_calloc(&snap->arena, n, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (i = 0; i < snap->npods; i++) {
        const struct np_pod *p = &snap->pods[i];
        uint32_t h = pod_key_hash(snap->namespaces[p->ns].name, p->name);
        size_t j = h & (n - 1);

        while (slots[j].pod != 0)
            j = (j + 1) & (n - 1);
        slots[j].hash = h;
        slots[j].pod = (uint32_t)i + 1;
        slots[j].name = p->name;
    }
    snap->pod_slots = slots;
    snap->pod_slots_mask = (uint32_t)(n - 1);
    return 0;
}

void
np_snapshot_prefetch_pod(const struct np_snapshot *snap, uint32_t hash,
                         int stage)
{
    const struct np_pod_slot *s;

    if (snap->pod_slots == NULL)
        return;
    s = &snap->pod_slots[hash & snap->pod_slots_mask];
    if (stage == 0) {
        __builtin_prefetch(s);
        return;
    }
    /* The first slot of the hash is the pod's, unless another key of the
     * same slot came first: then this only brings in what is not needed. */
    if (s->pod != 0 && s->hash == hash) {
        __builtin_prefetch(s->name);
        __builtin_prefetch(&snap->pods[s->pod - 1]);
    }
}

const struct np_pod *
np_snapshot_find_pod_hashed(const struct np_snapshot *snap, const char *ns,
                            const char *name, uint32_t h)
{
    uint32_t j;
    const struct np_pod_slot *s;

    if (snap->pod_slots == NULL)
        return np_snapshot_find_pod(snap, ns, name);
    for (j = h & snap->pod_slots_mask; (s = &snap->pod_slots[j])->pod != 0;
         j = (j + 1) & snap->pod_slots_mask) {
        const struct np_pod *p;

        if (s->hash != h || strcmp(s->name, name) != 0)
            continue;
        p = &snap->pods[s->pod - 1];
        if (strcmp(snap->namespaces[p->ns].name, ns) == 0)
            return p;
    }
    return NULL;
}

const struct np_pod *
np_snapshot_find_pod(const struct np_snapshot *snap, const char *ns,
                     const char *name)
{
    const struct np_namespace *n;
    struct key key = { .name = name };
    uint32_t i;

    if (snap->pod_slots != NULL)
        return np_snapshot_find_pod_hashed(snap, ns, name,
                                           pod_key_hash(ns, name));
    n = np_snapshot_find_namespace(snap, ns);
    if (n == NULL)
        return NULL;
    i = search(snap, n->first_pod, n->first_pod + n->npods, pod_cmp, &key);
    return i != NOT_FOUND ? &snap->pods[i] : NULL;
}

const struct np_policy *
np_snapshot_find_policy(const struct np_snapshot *snap, const char *ns,
                        const char *name)
{
    const struct np_namespace *n = np_snapshot_find_namespace(snap, ns);
    struct key key = { .name = name };
    uint32_t i;

    if (n == NULL)
        return NULL;
    i = search(snap, n->first_policy, n->first_policy + n->npolicies,
               policy_cmp, &key);
    return i != NOT_FOUND ? &snap->policies[i] : NULL;
}

const struct np_pod *
np_snapshot_find_workload(const struct np_snapshot *snap, const char *ns,
                          const char *kind, const char *name)
{
    const struct np_namespace *n = np_snapshot_find_namespace(snap, ns);
    struct key key = { .kind = kind, .name = name };
    uint32_t i;

    if (n == NULL)
        return NULL;
    i = search(snap, n->first_workload, n->first_workload + n->nworkloads,
               workload_cmp, &key);
    return i != NOT_FOUND ? &snap->workloads[i] : NULL;
}

const struct np_pod *
np_snapshot_find_pod_by_ip(const struct np_snapshot *snap,
                           const struct np_ip *ip)
{
    uint32_t lo = 0, hi = snap->nips;

    /* Lower bound, so that the first of several pods sharing an address
     * (a configuration error the builder warns about) wins. */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (np_ip_compare(&snap->ips[mid].ip, ip) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < snap->nips && np_ip_equal(&snap->ips[lo].ip, ip))
        return &snap->pods[snap->ips[lo].pod];
    return NULL;
}

const char *
np_snapshot_str(const struct np_snapshot *snap, np_sym s)
{
    return np_intern_str(snap->syms, s);
}

const char *
np_pod_ref(const struct np_snapshot *snap, const struct np_pod *pod,
           struct np_arena *a)
{
    if (pod->workload_kind != NULL)
        return np_arena_printf(a, "%s/%s/%s", snap->namespaces[pod->ns].name,
                               pod->workload_kind, pod->name);
    return np_arena_printf(a, "%s/%s", snap->namespaces[pod->ns].name,
                           pod->name);
}

const char *
np_policy_ref(const struct np_snapshot *snap, const struct np_policy *pol,
              struct np_arena *a)
{
    return np_arena_printf(a, "%s/%s", snap->namespaces[pol->ns].name,
                           pol->name);
}

int
np_state_init(struct np_state *st, struct np_error *err)
{
    st->current = np_snapshot_new_empty();
    if (st->current == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->writer, NULL);
    return 0;
}

void
np_state_fini(struct np_state *st)
{
    np_snapshot_release(st->current);
    st->current = NULL;
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->writer);
}

struct np_snapshot *
np_state_acquire(struct np_state *st)
{
    struct np_snapshot *snap;

    pthread_mutex_lock(&st->lock);
    snap = np_snapshot_retain(st->current);
    pthread_mutex_unlock(&st->lock);
    return snap;
}

void
np_state_writer_lock(struct np_state *st)
{
    pthread_mutex_lock(&st->writer);
}

void
np_state_writer_unlock(struct np_state *st)
{
    pthread_mutex_unlock(&st->writer);
}

void
np_state_publish(struct np_state *st, struct np_snapshot *snap)
{
    struct np_snapshot *old;

    pthread_mutex_lock(&st->lock);
    old = st->current;
    st->current = snap;
    pthread_mutex_unlock(&st->lock);
    /* The last reader of the old snapshot frees it, outside the lock. */
    np_snapshot_release(old);
}
