/*
 * All-pairs verdicts with bitsets (see matrix.h for the method).
 *
 * Peer bitsets are cached by what they select, not by peer: generated and
 * real clusters repeat the same selectors across many policies. The cache
 * keys are the selectors' canonical texts, which the builder made.
 */
#include "core/matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

struct bits_cache_entry {
    char *key;
    uint64_t *bits;
};

/* What a rule's ports say for the matrix's port and protocol. */
enum rule_ports {
    PORTS_ALL,   /* every destination: no ports, or a number or range hit */
    PORTS_NONE,  /* no destination */
    PORTS_NAMED, /* destinations whose named container port is the port */
};

struct rule_info {
    enum rule_ports ports;
    uint64_t *named; /* PORTS_NAMED: the destinations, over all pods */
};

/* Open addressing keyed by pointer: peers to their bitsets (borrowed from
 * the text-keyed cache) and rules to their rule_info (owned). */
struct ptr_entry {
    const void *key;
    void *val;
};

struct ptr_map {
    struct ptr_entry *v;
    size_t n, cap; /* cap a power of two */
};

struct mx {
    const struct np_snapshot *snap;
    const struct np_eval_opts *opts;
    uint16_t port;
    enum np_proto proto;
    size_t w; /* words per bitset over all pods */
    uint64_t *all_pods;
    struct bits_cache_entry *cache;
    size_t ncache, capcache; /* open addressing, capcache a power of two */
    struct ptr_map peers, rules;
    bool nomem;
};

static size_t
ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;

    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static void *
ptr_get(const struct ptr_map *pm, const void *key)
{
    size_t i;

    if (pm->cap == 0)
        return NULL;
    for (i = ptr_hash(key) & (pm->cap - 1); pm->v[i].key != NULL;
         i = (i + 1) & (pm->cap - 1)) {
        if (pm->v[i].key == key)
            return pm->v[i].val;
    }
    return NULL;
}

static int
ptr_put(struct ptr_map *pm, const void *key, void *val)
{
    size_t i, j;

    if ((pm->n + 1) * 2 > pm->cap) {
        size_t ncap = pm->cap == 0 ? 256 : pm->cap * 2;
        struct ptr_entry *nv = calloc(ncap, sizeof(*nv));

        if (nv == NULL)
            return -1;
        for (j = 0; j < pm->cap; j++) {
            if (pm->v[j].key == NULL)
                continue;
            for (i = ptr_hash(pm->v[j].key) & (ncap - 1); nv[i].key != NULL;
                 i = (i + 1) & (ncap - 1))
                ;
            nv[i] = pm->v[j];
        }
        free(pm->v);
        pm->v = nv;
        pm->cap = ncap;
    }
    for (i = ptr_hash(key) & (pm->cap - 1); pm->v[i].key != NULL;
         i = (i + 1) & (pm->cap - 1))
        ;
    pm->v[i].key = key;
    pm->v[i].val = val;
    pm->n++;
    return 0;
}

static uint64_t *
bits_new(struct mx *m)
{
    uint64_t *b = calloc(m->w + 1, sizeof(*b));

    if (b == NULL)
        m->nomem = true;
    return b;
}

static void
bit_set(uint64_t *b, uint32_t i)
{
    b[i >> 6] |= (uint64_t)1 << (i & 63);
}

static bool
bit_get(const uint64_t *b, uint32_t i)
{
    return (b[i >> 6] >> (i & 63)) & 1;
}

static uint64_t *
cache_get(struct mx *m, const char *key)
{
    size_t i;

    if (m->capcache == 0)
        return NULL;
    for (i = np__hash_str(key) & (m->capcache - 1); m->cache[i].key != NULL;
         i = (i + 1) & (m->capcache - 1)) {
        if (strcmp(m->cache[i].key, key) == 0)
            return m->cache[i].bits;
    }
    return NULL;
}

static void
cache_put(struct mx *m, const char *key, uint64_t *bits)
{
    size_t i;

    if (m->ncache * 2 >= m->capcache) {
        size_t ncap = m->capcache == 0 ? 64 : m->capcache * 2, j;
        struct bits_cache_entry *nc = calloc(ncap, sizeof(*nc));

        if (nc == NULL) {
            m->nomem = true;
            free(bits);
            return;
        }
        for (j = 0; j < m->capcache; j++) {
            if (m->cache[j].key == NULL)
                continue;
            for (i = np__hash_str(m->cache[j].key) & (ncap - 1);
                 nc[i].key != NULL; i = (i + 1) & (ncap - 1))
                ;
            nc[i] = m->cache[j];
        }
        free(m->cache);
        m->cache = nc;
        m->capcache = ncap;
    }
    for (i = np__hash_str(key) & (m->capcache - 1); m->cache[i].key != NULL;
         i = (i + 1) & (m->capcache - 1))
        ;
    m->cache[i].key = strdup(key);
    if (m->cache[i].key == NULL) {
        m->nomem = true;
        free(bits);
        return;
    }
    m->cache[i].bits = bits;
    m->ncache++;
}

/* Pods on the pod network matching a pod selector (NULL: all of them). */
static const uint64_t *
podsel_bits(struct mx *m, const struct np_selector *sel)
{
    const char *text = sel == NULL ? "" : sel->text;
    char *k;
    uint64_t *b;
    uint32_t i;

    k = malloc(strlen(text) + 3);
    if (k == NULL) {
        m->nomem = true;
        return NULL;
    }
    snprintf(k, strlen(text) + 3, "p:%s", text);
    b = cache_get(m, k);
    if (b != NULL) {
        free(k);
        return b;
    }
    b = bits_new(m);
    if (b == NULL) {
        free(k);
        return NULL;
    }
    for (i = 0; i < m->snap->npods; i++) {
        const struct np_pod *pod = &m->snap->pods[i];

        if (!pod->host_network &&
            (sel == NULL || np_selector_matches(sel, &pod->labels)))
            bit_set(b, i);
    }
    cache_put(m, k, b);
    free(k);
    return m->nomem ? NULL : b;
}

/* Sets bits [first, first + n). */
static void
set_range(uint64_t *b, uint32_t first, uint32_t n)
{
    uint32_t i = first, end = first + n;

    while (i < end && (i & 63) != 0)
        bit_set(b, i++);
    while (i + 64 <= end) {
        b[i >> 6] = ~(uint64_t)0;
        i += 64;
    }
    while (i < end)
        bit_set(b, i++);
}

static const uint64_t *peer_bits_by_text(struct mx *m,
                                         const struct np_policy *pol,
                                         const struct np_peer *p);

/* A peer's pods, computed once per distinct peer text and found again by
 * the peer's address without formatting a key. */
static const uint64_t *
peer_bits(struct mx *m, const struct np_policy *pol, const struct np_peer *p)
{
    const uint64_t *b = ptr_get(&m->peers, p);

    if (b != NULL)
        return b;
    b = peer_bits_by_text(m, pol, p);
    if (b != NULL && ptr_put(&m->peers, p, (void *)b) != 0) {
        m->nomem = true;
        return NULL;
    }
    return b;
}

static const uint64_t *
peer_bits_by_text(struct mx *m, const struct np_policy *pol,
                  const struct np_peer *p)
{
    const struct np_snapshot *snap = m->snap;
    const uint64_t *pods;
    uint64_t *b;
    char *key;
    size_t klen;
    uint32_t i;

    klen = strlen(p->text) + strlen(snap->namespaces[pol->ns].name) + 8;
    key = malloc(klen);
    if (key == NULL) {
        m->nomem = true;
        return NULL;
    }
    /* The peer text names the policy's namespace where it matters. */
    snprintf(key, klen, "r:%s|%s", snap->namespaces[pol->ns].name, p->text);
    b = cache_get(m, key);
    if (b != NULL) {
        free(key);
        return b;
    }
    b = bits_new(m);
    if (b == NULL) {
        free(key);
        return NULL;
    }
    if (p->kind == NP_PEER_IPBLOCK) {
        for (i = 0; i < snap->npods; i++) {
            if (np__peer_matches_pod(snap, m->opts, pol, p, &snap->pods[i]))
                bit_set(b, i);
        }
    } else {
        pods = podsel_bits(m, p->pod_sel);
        if (pods == NULL) {
            free(b);
            free(key);
            return NULL;
        }
        if (p->ns_sel == NULL) {
            const struct np_namespace *ns = &snap->namespaces[pol->ns];

            set_range(b, ns->first_pod, ns->npods);
        } else if (np_selector_is_empty(p->ns_sel)) {
            memcpy(b, m->all_pods, m->w * sizeof(*b));
        } else {
            for (i = 0; i < snap->nnamespaces; i++) {
                const struct np_namespace *ns = &snap->namespaces[i];

                if (ns->npods > 0 &&
                    np_selector_matches(p->ns_sel, &ns->labels))
                    set_range(b, ns->first_pod, ns->npods);
            }
        }
        for (i = 0; i < m->w; i++)
            b[i] &= pods[i];
    }
    cache_put(m, key, b);
    free(key);
    return m->nomem ? NULL : b;
}

/* Destinations whose container port named like pp (with pp's protocol) is
 * the matrix's port: the same for every rule naming that port, so cached by
 * name and protocol. */
static const uint64_t *
named_port_bits(struct mx *m, const struct np_pport *pp)
{
    const struct np_snapshot *snap = m->snap;
    char key[96];
    uint64_t *b;
    uint32_t j;

    snprintf(key, sizeof(key), "n:%u/%u", (unsigned)pp->name,
             (unsigned)pp->proto);
    b = cache_get(m, key);
    if (b != NULL)
        return b;
    b = bits_new(m);
    if (b == NULL)
        return NULL;
    for (j = 0; j < snap->npods; j++) {
        if (np__pport_matches(pp, &snap->pods[j], m->port, m->proto))
            bit_set(b, j);
    }
    cache_put(m, key, b);
    return m->nomem ? NULL : b;
}

/* What r's ports say for the matrix's port, computed once per rule: the
 * numbers and ranges do not depend on the destination, named ports do. */
static const struct rule_info *
rule_info(struct mx *m, const struct np_rule *r)
{
    const struct np_snapshot *snap = m->snap;
    struct rule_info *ri = ptr_get(&m->rules, r);
    bool named = false, all = r->nports == 0;
    uint32_t i, j;

    if (ri != NULL)
        return ri;
    ri = calloc(1, sizeof(*ri));
    if (ri == NULL || ptr_put(&m->rules, r, ri) != 0) {
        free(ri);
        m->nomem = true;
        return NULL;
    }
    for (i = 0; i < r->nports && !all; i++) {
        if (r->ports[i].kind == NP_PPORT_NAMED)
            named = true;
        else if (np__pport_matches(&r->ports[i], NULL, m->port, m->proto))
            all = true;
    }
    ri->ports = all ? PORTS_ALL : named ? PORTS_NAMED : PORTS_NONE;
    if (ri->ports != PORTS_NAMED)
        return ri;
    ri->named = bits_new(m);
    if (ri->named == NULL)
        return NULL;
    for (i = 0; i < r->nports; i++) {
        const uint64_t *nb;

        if (r->ports[i].kind != NP_PPORT_NAMED)
            continue;
        nb = named_port_bits(m, &r->ports[i]);
        if (nb == NULL)
            return NULL;
        for (j = 0; j < m->w; j++)
            ri->named[j] |= nb[j];
    }
    (void)snap;
    return ri;
}

/* One row over all pods: the peers pod may talk to in direction dir. */
static int
side_row(struct mx *m, const struct np_pod *pod, enum np_dir dir, uint64_t *row)
{
    const struct np_snapshot *snap = m->snap;
    uint32_t i, j, k;

    memset(row, 0, m->w * sizeof(*row));
    if (pod->host_network || pod->npolicies[dir] == 0) {
        set_range(row, 0, snap->npods);
        return 0;
    }
    for (i = 0; i < pod->npolicies[dir]; i++) {
        const struct np_policy *pol = &snap->policies[pod->policies[dir][i]];

        for (j = 0; j < pol->nrules[dir]; j++) {
            const struct np_rule *r = &pol->rules[dir][j];
            const struct rule_info *ri = rule_info(m, r);
            const uint64_t *ports = NULL;

            if (ri == NULL)
                return -1;
            if (ri->ports == PORTS_NONE)
                continue;
            if (ri->ports == PORTS_NAMED) {
                /* For ingress the destination is pod itself: one bit. For
                 * egress the rule reaches only destinations with the named
                 * port. */
                if (dir == NP_DIR_INGRESS) {
                    if (((ri->named[pod->id >> 6] >> (pod->id & 63)) & 1) == 0)
                        continue;
                } else {
                    ports = ri->named;
                }
            }
            if (r->npeers == 0) {
                for (k = 0; k < m->w; k++)
                    row[k] |= ports != NULL ? ports[k] : ~(uint64_t)0;
            }
            for (k = 0; k < r->npeers; k++) {
                const uint64_t *pb = peer_bits(m, pol, &r->peers[k]);
                size_t x;

                if (pb == NULL)
                    return -1;
                if (ports != NULL) {
                    for (x = 0; x < m->w; x++)
                        row[x] |= pb[x] & ports[x];
                } else {
                    for (x = 0; x < m->w; x++)
                        row[x] |= pb[x];
                }
            }
        }
    }
    /* Clear the bits past the last pod that "all peers" rules set. */
    if (snap->npods % 64 != 0)
        row[m->w - 1] &= ((uint64_t)1 << (snap->npods % 64)) - 1;
    return 0;
}

/* Transposes a 64x64 bit block in place, bit c of a[r] being column c
 * (Hacker's Delight 7-3, with the least significant bit first). */
static void
transpose64(uint64_t a[64])
{
    uint64_t mask = 0x00000000FFFFFFFFULL;
    int j, k;

    for (j = 32; j != 0; j >>= 1, mask ^= mask << j) {
        for (k = 0; k < 64; k = (k + j + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k + j]) & mask;

            a[k] ^= t << j;
            a[k + j] ^= t;
        }
    }
}

/* Gathers bits idx[0..n) of a full-pod row into a compact row. */
static void
gather(const uint64_t *row, const uint32_t *idx, uint32_t n, bool identity,
       uint64_t *out, size_t out_words)
{
    uint32_t j;

    if (identity) {
        memcpy(out, row, out_words * sizeof(*out));
        return;
    }
    memset(out, 0, out_words * sizeof(*out));
    for (j = 0; j < n; j++) {
        if (bit_get(row, idx[j]))
            bit_set(out, j);
    }
}

static bool
is_identity(const uint32_t *idx, uint32_t n, uint32_t npods)
{
    uint32_t i;

    if (n != npods)
        return false;
    for (i = 0; i < n; i++) {
        if (idx[i] != i)
            return false;
    }
    return true;
}

int
np_matrix_compute(const struct np_snapshot *snap,
                  const struct np_eval_opts *opts, const uint32_t *src,
                  uint32_t nsrc, const uint32_t *dst, uint32_t ndst,
                  uint16_t port, enum np_proto proto, struct np_matrix *out,
                  struct np_error *err)
{
    struct mx m = { .snap = snap, .opts = opts, .port = port, .proto = proto };
    size_t dw = ((size_t)ndst + 63) / 64, sw = ((size_t)nsrc + 63) / 64;
    size_t bi, bj, i;
    uint64_t *row = NULL, *ingress_t = NULL, *block = NULL;
    bool src_id = is_identity(src, nsrc, snap->npods);
    bool dst_id = is_identity(dst, ndst, snap->npods);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->nsrc = nsrc;
    out->ndst = ndst;
    out->row_words = dw;
    m.w = ((size_t)snap->npods + 63) / 64;
    m.all_pods = calloc(m.w + 1, sizeof(*m.all_pods));
    row = calloc(m.w + 1, sizeof(*row));
    out->bits = calloc((size_t)nsrc * dw + 1, sizeof(*out->bits));
    /* Ingress verdicts, one row per destination over the sources, padded to
     * whole 64x64 blocks for the transposition. */
    ingress_t = calloc(((dw * 64) * sw) + 1, sizeof(*ingress_t));
    block = calloc(64, sizeof(*block));
    if (m.all_pods == NULL || row == NULL || out->bits == NULL ||
        ingress_t == NULL || block == NULL)
        goto out;
    for (i = 0; i < snap->npods; i++) {
        if (!snap->pods[i].host_network)
            bit_set(m.all_pods, (uint32_t)i);
    }
    /* Ingress rows: ingress_t[j] (sw words) = sources dst[j] accepts. */
    for (bj = 0; bj < ndst; bj++) {
        if (side_row(&m, &snap->pods[dst[bj]], NP_DIR_INGRESS, row) != 0)
            goto out;
        gather(row, src, nsrc, src_id, ingress_t + bj * sw, sw);
    }
    /* Egress rows go straight into the result, then are ANDed with the
     * transposed ingress rows. */
    for (bi = 0; bi < nsrc; bi++) {
        if (side_row(&m, &snap->pods[src[bi]], NP_DIR_EGRESS, row) != 0)
            goto out;
        gather(row, dst, ndst, dst_id, out->bits + bi * dw, dw);
    }
    for (bj = 0; bj < dw; bj++) {
        for (bi = 0; bi < sw; bi++) {
            size_t k;

            /* Block (bj, bi): destinations 64*bj.., sources 64*bi.. */
            for (k = 0; k < 64; k++) {
                size_t d = bj * 64 + k;

                block[k] = d < ndst ? ingress_t[d * sw + bi] : 0;
            }
            transpose64(block);
            /* Now block[k] holds, for source 64*bi + k, the destinations
             * 64*bj.. that accept it. */
            for (k = 0; k < 64; k++) {
                size_t s = bi * 64 + k;

                if (s < nsrc)
                    out->bits[s * dw + bj] &= block[k];
            }
        }
    }
    /* Traffic from a pod to itself is always allowed. */
    if (src_id && dst_id) {
        for (i = 0; i < nsrc; i++)
            bit_set(out->bits + i * dw, (uint32_t)i);
    } else {
        for (bi = 0; bi < nsrc; bi++) {
            for (bj = 0; bj < ndst; bj++) {
                if (src[bi] == dst[bj])
                    bit_set(out->bits + bi * dw, (uint32_t)bj);
            }
        }
    }
    rc = m.nomem ? -1 : 0;
out:
    for (i = 0; i < m.capcache; i++) {
        free(m.cache[i].key);
        free(m.cache[i].bits);
    }
    free(m.cache);
    for (i = 0; i < m.rules.cap; i++) {
        struct rule_info *ri = m.rules.v[i].val;

        if (m.rules.v[i].key != NULL && ri != NULL) {
            free(ri->named);
            free(ri);
        }
    }
    free(m.rules.v);
    free(m.peers.v);
    free(m.all_pods);
    free(row);
    free(ingress_t);
    free(block);
    if (rc != 0) {
        np_matrix_fini(out);
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    return 0;
}

bool
np_matrix_get(const struct np_matrix *m, uint32_t i, uint32_t j)
{
    return bit_get(m->bits + (size_t)i * m->row_words, j);
}

uint64_t
np_matrix_count_allowed(const struct np_matrix *m)
{
    uint64_t n = 0;
    size_t i;

    for (i = 0; i < (size_t)m->nsrc * m->row_words; i++)
        n += (uint64_t)__builtin_popcountll(m->bits[i]);
    return n;
}

void
np_matrix_fini(struct np_matrix *m)
{
    free(m->bits);
    m->bits = NULL;
}
