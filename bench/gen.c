/*
 * netpolq-gen: a synthetic cluster for the benchmarks, deterministic from a
 * seed. It writes Namespaces, Pods and NetworkPolicies as a multi-document
 * YAML stream or as one JSON List, and optionally query files: batch bodies
 * for POST /reachability/batch and one single-query body per line for wrk.
 *
 * The shapes follow real clusters: namespaces carry team and env labels,
 * pods app, tier, version and a few high-cardinality labels, and policies mix
 * default-deny, same-namespace allows, cross-namespace namespaceSelector plus
 * podSelector peers, matchExpressions, ipBlocks with except, named ports and
 * endPort ranges. Everything written is valid for the API server: label
 * values stay within 63 characters, names are DNS labels, every except CIDR
 * lies strictly inside its cidr and endPort is never below port.
 *
 * Output goes through one buffered FILE with fprintf; no JSON library.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- random numbers: splitmix64, so a seed gives the same cluster
 * everywhere --- */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
    uint64_t z;

    rng_state += 0x9e3779b97f4a7c15ULL;
    z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A fixed scramble of v, for names and hashes that must not depend on the
 * random stream. */
static uint64_t
mix(uint64_t v)
{
    v = (v ^ (v >> 33)) * 0xff51afd7ed558ccdULL;
    v = (v ^ (v >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    return v ^ (v >> 33);
}

/* Uniform in [0, n). */
static uint32_t
rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static bool
rnd_chance(uint32_t percent)
{
    return rnd_below(100) < percent;
}

/* --- the catalogue --- */

enum proto { TCP, UDP };

struct cport {
    const char *name;
    int port;
    enum proto proto;
};

#define MAX_CPORTS 4

struct app {
    const char *name;
    const char *tier;
    struct cport ports[MAX_CPORTS];
};

static const struct app apps[] = {
    { .name = "frontend",
      .tier = "frontend",
      .ports = { { "http", 8080, TCP }, { "metrics", 9090, TCP } } },
    { .name = "web",
      .tier = "frontend",
      .ports = { { "http", 8080, TCP }, { "https", 8443, TCP } } },
    { .name = "gateway",
      .tier = "frontend",
      .ports = { { "http", 8080, TCP },
                 { "https", 8443, TCP },
                 { "metrics", 9090, TCP } } },
    { .name = "api",
      .tier = "backend",
      .ports = { { "http", 8080, TCP },
                 { "grpc", 50051, TCP },
                 { "metrics", 9090, TCP } } },
    { .name = "auth",
      .tier = "backend",
      .ports = { { "grpc", 50051, TCP }, { "metrics", 9090, TCP } } },
    { .name = "orders",
      .tier = "backend",
      .ports = { { "http", 8080, TCP }, { "grpc", 50051, TCP } } },
    { .name = "payments",
      .tier = "backend",
      .ports = { { "grpc", 50051, TCP }, { "metrics", 9090, TCP } } },
    { .name = "inventory",
      .tier = "backend",
      .ports = { { "http", 8080, TCP }, { "metrics", 9090, TCP } } },
    { .name = "search",
      .tier = "backend",
      .ports = { { "http", 8080, TCP }, { "grpc", 50051, TCP } } },
    { .name = "worker",
      .tier = "backend",
      .ports = { { "metrics", 9090, TCP } } },
    { .name = "scheduler",
      .tier = "backend",
      .ports = { { "metrics", 9090, TCP }, { "admin", 8081, TCP } } },
    { .name = "postgres",
      .tier = "data",
      .ports = { { "postgres", 5432, TCP }, { "metrics", 9187, TCP } } },
    { .name = "redis",
      .tier = "data",
      .ports = { { "redis", 6379, TCP }, { "metrics", 9121, TCP } } },
    { .name = "kafka",
      .tier = "data",
      .ports = { { "kafka", 9092, TCP }, { "metrics", 9308, TCP } } },
    { .name = "coredns",
      .tier = "infra",
      .ports = { { "dns", 53, UDP },
                 { "dns-tcp", 53, TCP },
                 { "metrics", 9153, TCP } } },
    { .name = "prometheus",
      .tier = "infra",
      .ports = { { "http", 9090, TCP } } },
};
#define NAPPS     (sizeof(apps) / sizeof(apps[0]))
#define APP_DNS   14
#define APP_PROM  15
#define APP_FIRST 0

static const char *const teams[] = {
    "platform", "payments", "checkout", "search",    "identity", "growth",
    "data",     "ml",       "mobile",   "marketing", "support",  "billing",
    "catalog",  "shipping", "risk",     "infra",
};
#define NTEAMS (sizeof(teams) / sizeof(teams[0]))

static const char *const envs[] = { "prod", "staging", "dev", "test" };
#define NENVS (sizeof(envs) / sizeof(envs[0]))

static const char *const versions[] = { "v1", "v2", "v3", "v4", "v5" };
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

static const char *const zones[] = { "zone-a", "zone-b", "zone-c" };
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* --- the generated cluster, kept for queries --- */

#define APPS_PER_NS 6

struct ns {
    char name[64];
    uint32_t team, env;
    uint32_t napps;
    uint32_t apps[APPS_PER_NS];
    uint32_t first_pod, npods;
    uint32_t npolicies;
};

struct pod {
    uint32_t ns;
    uint32_t app;
    uint32_t index; /* global */
    char name[64];
};

struct cluster {
    uint32_t nns, npods, npolicies;
    struct ns *ns;
    struct pod *pods;
};

/* --- an emitter writing either block YAML or indented JSON --- */

#define MAX_DEPTH 32

struct level {
    char type;  /* 'm' map, 's' sequence */
    int indent; /* YAML: column of this level's keys or dashes */
    int n;      /* items written */
};

struct em {
    FILE *f;
    bool yaml;
    int depth;
    struct level st[MAX_DEPTH];
    bool after_key;    /* a key was written, its value comes next */
    bool inline_first; /* YAML: next key goes right after "- " */
};

static void
spaces(FILE *f, int n)
{
    static const char sp[] = "                                                "
                             "                                                ";
    while (n > 0) {
        int k = n < (int)sizeof(sp) - 1 ? n : (int)sizeof(sp) - 1;
        fwrite(sp, 1, (size_t)k, f);
        n -= k;
    }
}

static struct level *
top(struct em *e)
{
    if (e->depth == 0) {
        fprintf(stderr, "netpolq-gen: emitter underflow\n");
        abort();
    }
    return &e->st[e->depth - 1];
}

static void
push(struct em *e, char type, int indent)
{
    if (e->depth == MAX_DEPTH) {
        fprintf(stderr, "netpolq-gen: emitter too deep\n");
        abort();
    }
    e->st[e->depth].type = type;
    e->st[e->depth].indent = indent;
    e->st[e->depth].n = 0;
    e->depth++;
}

/* JSON: the separator and indentation before an item of the current
 * container (not after a key). */
static void
json_item(struct em *e)
{
    struct level *l;

    if (e->depth == 0)
        return;
    l = top(e);
    fputs(l->n > 0 ? ",\n" : "\n", e->f);
    spaces(e->f, e->depth * 2);
    l->n++;
}

static void
key(struct em *e, const char *k)
{
    struct level *l = top(e);

    if (e->yaml) {
        if (e->inline_first)
            e->inline_first = false;
        else
            spaces(e->f, l->indent);
        fputs(k, e->f);
        fputc(':', e->f);
        l->n++;
    } else {
        json_item(e);
        fprintf(e->f, "\"%s\": ", k);
    }
    e->after_key = true;
}

/* Writes what comes before a scalar or a flow value: YAML " " after a key or
 * "- " in a sequence; JSON the separator of a sequence item. */
static void
before_scalar(struct em *e)
{
    if (e->after_key) {
        if (e->yaml)
            fputc(' ', e->f);
        e->after_key = false;
        return;
    }
    if (e->yaml) {
        struct level *l = top(e);
        spaces(e->f, l->indent);
        fputs("- ", e->f);
        l->n++;
    } else {
        json_item(e);
    }
}

static void
after_scalar(struct em *e)
{
    if (e->yaml)
        fputc('\n', e->f);
}

/* YAML scalars that would not read back as the same string are quoted. */
static bool
yaml_needs_quotes(const char *s)
{
    static const char *const words[] = { "true", "false", "yes",  "no",
                                         "on",   "off",   "null", "y",
                                         "n",    "~",     NULL };
    size_t i;

    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') || s[0] == '-' ||
        s[0] == '.' || s[0] == '*' || s[0] == '&' || s[0] == '!')
        return true;
    for (i = 0; words[i] != NULL; i++) {
        const char *a = s;
        const char *b = words[i];
        while (*a != '\0' && *b != '\0' && (*a | 0x20) == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0')
            return true;
    }
    return strpbrk(s, ":#{}[],&*!|>'\"%@`") != NULL;
}

static void
str(struct em *e, const char *s)
{
    before_scalar(e);
    if (!e->yaml || yaml_needs_quotes(s))
        fprintf(e->f, "\"%s\"", s);
    else
        fputs(s, e->f);
    after_scalar(e);
}

static void
num(struct em *e, long long v)
{
    before_scalar(e);
    fprintf(e->f, "%lld", v);
    after_scalar(e);
}

static void
empty_map(struct em *e)
{
    before_scalar(e);
    fputs("{}", e->f);
    after_scalar(e);
}

static void
map_begin(struct em *e)
{
    if (e->yaml) {
        if (e->depth == 0) {
            push(e, 'm', 0);
        } else if (e->after_key) {
            struct level *l = top(e);
            fputc('\n', e->f);
            push(e, 'm', l->indent + 2);
        } else {
            struct level *l = top(e);
            spaces(e->f, l->indent);
            fputs("- ", e->f);
            l->n++;
            push(e, 'm', l->indent + 2);
            e->inline_first = true;
        }
        e->after_key = false;
        return;
    }
    if (e->after_key)
        e->after_key = false;
    else
        json_item(e);
    fputc('{', e->f);
    push(e, 'm', 0);
}

static void
seq_begin(struct em *e)
{
    if (e->yaml) {
        struct level *l = top(e);
        if (!e->after_key) {
            fprintf(stderr, "netpolq-gen: a sequence in a sequence\n");
            abort();
        }
        fputc('\n', e->f);
        push(e, 's', l->indent + 2);
        e->after_key = false;
        return;
    }
    if (e->after_key)
        e->after_key = false;
    else
        json_item(e);
    fputc('[', e->f);
    push(e, 's', 0);
}

static void
end(struct em *e)
{
    struct level *l = top(e);

    if (e->yaml) {
        /* Callers write {} and [] for empty containers. */
        if (l->n == 0) {
            fprintf(stderr, "netpolq-gen: empty block container\n");
            abort();
        }
        e->depth--;
        return;
    }
    e->depth--;
    if (l->n > 0) {
        fputc('\n', e->f);
        spaces(e->f, e->depth * 2);
    }
    fputc(l->type == 'm' ? '}' : ']', e->f);
}

static void
kv_str(struct em *e, const char *k, const char *v)
{
    key(e, k);
    str(e, v);
}

static void
kv_num(struct em *e, const char *k, long long v)
{
    key(e, k);
    num(e, v);
}

/* --- objects --- */

/* Starts one top-level object: a YAML document or a List item. */
static void
object_begin(struct em *e, const char *api_version, const char *kind)
{
    if (e->yaml) {
        fputs("---\n", e->f);
        e->depth = 0;
    }
    map_begin(e);
    kv_str(e, "apiVersion", api_version);
    kv_str(e, "kind", kind);
}

static void
object_end(struct em *e)
{
    end(e);
}

static void
hexstr(char *buf, size_t len, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        buf[i] = digits[v & 15];
        v >>= 4;
        if (v == 0)
            v = rnd();
    }
    buf[len - 1] = '\0';
}

/* A pod name suffix like the ReplicaSet controller's: 5 characters drawn
 * from consonants and digits, here derived from the pod's global index so
 * names never collide. */
static void
pod_suffix(char *buf, uint32_t index)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    const uint32_t base = sizeof(alphabet) - 1;
    int i;

    /* Scramble the index so consecutive pods do not look consecutive; the
     * map is a bijection on [0, base^5). */
    uint64_t x = ((uint64_t)index * 2654435761u) % 14348907u; /* 27^5 */
    for (i = 4; i >= 0; i--) {
        buf[i] = alphabet[x % base];
        x /= base;
    }
    buf[5] = '\0';
}

static void
write_namespace(struct em *e, const struct ns *n, uint32_t index)
{
    char cc[16];

    object_begin(e, "v1", "Namespace");
    key(e, "metadata");
    map_begin(e);
    kv_str(e, "name", n->name);
    key(e, "labels");
    map_begin(e);
    kv_str(e, "team", teams[n->team]);
    kv_str(e, "env", envs[n->env]);
    snprintf(cc, sizeof(cc), "cc-%04u", (index * 7919u) % 10000u);
    kv_str(e, "cost-center", cc);
    if (n->env == 0)
        kv_str(e, "pod-security.kubernetes.io/enforce", "restricted");
    end(e);
    end(e);
    object_end(e);
}

static void
write_pod(struct em *e, const struct cluster *c, const struct pod *p,
          const char *template_hash)
{
    const struct ns *n = &c->ns[p->ns];
    const struct app *a = &apps[p->app];
    uint32_t ip = (10u << 24) + 256u + p->index;
    char commit[13];
    char ipbuf[16];
    int i;

    object_begin(e, "v1", "Pod");
    key(e, "metadata");
    map_begin(e);
    kv_str(e, "name", p->name);
    kv_str(e, "namespace", n->name);
    key(e, "labels");
    map_begin(e);
    kv_str(e, "app", a->name);
    kv_str(e, "tier", a->tier);
    kv_str(e, "version", versions[rnd_below(NVERSIONS)]);
    kv_str(e, "pod-template-hash", template_hash);
    kv_str(e, "app.kubernetes.io/instance", p->name);
    hexstr(commit, sizeof(commit), rnd());
    kv_str(e, "commit", commit);
    kv_str(e, "topology.kubernetes.io/zone", zones[rnd_below(NZONES)]);
    end(e);
    end(e);

    key(e, "spec");
    map_begin(e);
    key(e, "containers");
    seq_begin(e);
    map_begin(e);
    kv_str(e, "name", a->name);
    kv_str(e, "image", "registry.example.com/app:1.0");
    key(e, "ports");
    seq_begin(e);
    for (i = 0; i < MAX_CPORTS && a->ports[i].name != NULL; i++) {
        /* Sidecar-style split: metrics ports go on a second container. */
        if (strcmp(a->ports[i].name, "metrics") == 0 && i > 0)
            continue;
        map_begin(e);
        kv_str(e, "name", a->ports[i].name);
        kv_num(e, "containerPort", a->ports[i].port);
        kv_str(e, "protocol", a->ports[i].proto == UDP ? "UDP" : "TCP");
        end(e);
    }
    end(e);
    end(e);
    for (i = 1; i < MAX_CPORTS && a->ports[i].name != NULL; i++) {
        if (strcmp(a->ports[i].name, "metrics") != 0)
            continue;
        map_begin(e);
        kv_str(e, "name", "exporter");
        kv_str(e, "image", "registry.example.com/exporter:0.9");
        key(e, "ports");
        seq_begin(e);
        map_begin(e);
        kv_str(e, "name", "metrics");
        kv_num(e, "containerPort", a->ports[i].port);
        kv_str(e, "protocol", "TCP");
        end(e);
        end(e);
        end(e);
    }
    end(e);
    end(e);

    key(e, "status");
    map_begin(e);
    kv_str(e, "phase", "Running");
    snprintf(ipbuf, sizeof(ipbuf), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
             (ip >> 8) & 255, ip & 255);
    kv_str(e, "podIP", ipbuf);
    end(e);
    object_end(e);
}

/* --- policies --- */

enum shape {
    SHAPE_DENY_INGRESS,
    SHAPE_DENY_EGRESS,
    SHAPE_ALLOW_DNS,
    SHAPE_SAME_NS,
    SHAPE_CROSS_NS,
    SHAPE_EXPRESSIONS,
    SHAPE_IPBLOCK,
    SHAPE_MONITORING,
    SHAPE_RANGE,
    SHAPE_IPV6,
    SHAPE__MAX
};

static const char *const shape_names[SHAPE__MAX] = {
    [SHAPE_DENY_INGRESS] = "default-deny-ingress",
    [SHAPE_DENY_EGRESS] = "default-deny-egress",
    [SHAPE_ALLOW_DNS] = "allow-dns",
    [SHAPE_SAME_NS] = "allow-same-namespace",
    [SHAPE_CROSS_NS] = "allow-cross-namespace",
    [SHAPE_EXPRESSIONS] = "allow-by-expressions",
    [SHAPE_IPBLOCK] = "allow-ipblock",
    [SHAPE_MONITORING] = "allow-monitoring",
    [SHAPE_RANGE] = "allow-port-range",
    [SHAPE_IPV6] = "allow-ipv6-block",
};

/* Weights of the shapes drawn after a namespace's default-deny ones. */
static enum shape
random_shape(void)
{
    uint32_t r = rnd_below(100);

    if (r < 30)
        return SHAPE_SAME_NS;
    if (r < 58)
        return SHAPE_CROSS_NS;
    if (r < 72)
        return SHAPE_EXPRESSIONS;
    if (r < 82)
        return SHAPE_IPBLOCK;
    if (r < 90)
        return SHAPE_MONITORING;
    if (r < 97)
        return SHAPE_RANGE;
    return SHAPE_IPV6;
}

static void
match_labels_1(struct em *e, const char *k, const char *v)
{
    key(e, "matchLabels");
    map_begin(e);
    kv_str(e, k, v);
    end(e);
}

static void
pod_selector_app(struct em *e, uint32_t app)
{
    key(e, "podSelector");
    map_begin(e);
    match_labels_1(e, "app", apps[app].name);
    end(e);
}

static void
expr(struct em *e, const char *k, const char *op, const char *const *values,
     size_t nvalues)
{
    size_t i;

    map_begin(e);
    kv_str(e, "key", k);
    kv_str(e, "operator", op);
    if (nvalues > 0) {
        key(e, "values");
        seq_begin(e);
        for (i = 0; i < nvalues; i++)
            str(e, values[i]);
        end(e);
    }
    end(e);
}

/* One NetworkPolicyPort: by name or number, with an optional endPort. */
static void
pport(struct em *e, const char *proto, const char *name, int port, int end_port)
{
    map_begin(e);
    kv_str(e, "protocol", proto);
    key(e, "port");
    if (name != NULL)
        str(e, name);
    else
        num(e, port);
    if (end_port > 0)
        kv_num(e, "endPort", end_port);
    end(e);
}

static void
policy_types(struct em *e, bool ingress, bool egress)
{
    key(e, "policyTypes");
    seq_begin(e);
    if (ingress)
        str(e, "Ingress");
    if (egress)
        str(e, "Egress");
    end(e);
}

static uint32_t
pick_app(const struct ns *n)
{
    return n->apps[rnd_below(n->napps)];
}

static void
write_policy(struct em *e, const struct ns *n, enum shape s, uint32_t j)
{
    char name[96];
    uint32_t a;

    snprintf(name, sizeof(name), "%s-%u", shape_names[s], j);
    object_begin(e, "networking.k8s.io/v1", "NetworkPolicy");
    key(e, "metadata");
    map_begin(e);
    kv_str(e, "name", name);
    kv_str(e, "namespace", n->name);
    end(e);
    key(e, "spec");
    map_begin(e);

    switch (s) {
    case SHAPE_DENY_INGRESS:
        key(e, "podSelector");
        empty_map(e);
        policy_types(e, true, false);
        break;
    case SHAPE_DENY_EGRESS:
        key(e, "podSelector");
        empty_map(e);
        policy_types(e, false, true);
        break;
    case SHAPE_ALLOW_DNS:
        /* Egress to the cluster DNS pods in any namespace, by port name
         * with UDP and by number with TCP. */
        key(e, "podSelector");
        empty_map(e);
        policy_types(e, false, true);
        key(e, "egress");
        seq_begin(e);
        map_begin(e);
        key(e, "to");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        empty_map(e);
        pod_selector_app(e, APP_DNS);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "UDP", "dns", 0, 0);
        pport(e, "TCP", NULL, 53, 0);
        end(e);
        end(e);
        end(e);
        break;
    case SHAPE_SAME_NS:
        a = pick_app(n);
        pod_selector_app(e, a);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "podSelector");
        empty_map(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", "http", 0, 0);
        pport(e, "TCP", NULL, 8080, 0);
        end(e);
        end(e);
        end(e);
        break;
    case SHAPE_CROSS_NS: {
        /* Clients of another team's namespaces in the same env. */
        uint32_t team = rnd_below(NTEAMS);
        uint32_t client = rnd_below(NAPPS - 2);
        a = pick_app(n);
        pod_selector_app(e, a);
        policy_types(e, true, false);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        map_begin(e);
        key(e, "matchLabels");
        map_begin(e);
        kv_str(e, "team", teams[team]);
        kv_str(e, "env", envs[n->env]);
        end(e);
        end(e);
        pod_selector_app(e, client);
        end(e);
        map_begin(e);
        pod_selector_app(e, rnd_below(NAPPS - 2));
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", "grpc", 0, 0);
        pport(e, "TCP", NULL, 8080, 0);
        end(e);
        end(e);
        end(e);
        break;
    }
    case SHAPE_EXPRESSIONS: {
        static const char *const tiers[] = { "backend", "data" };
        static const char *const envs_ok[] = { "prod", "staging" };
        static const char *const old[] = { "v1" };
        const char *team_out[1];
        key(e, "podSelector");
        map_begin(e);
        key(e, "matchExpressions");
        seq_begin(e);
        expr(e, "tier", "In", tiers, 1 + rnd_below(2));
        expr(e, "version", "NotIn", old, 1);
        end(e);
        end(e);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        map_begin(e);
        key(e, "matchExpressions");
        seq_begin(e);
        expr(e, "env", "In", envs_ok, 2);
        team_out[0] = teams[rnd_below(NTEAMS)];
        expr(e, "team", "NotIn", team_out, 1);
        expr(e, "cost-center", "Exists", NULL, 0);
        end(e);
        end(e);
        key(e, "podSelector");
        map_begin(e);
        key(e, "matchExpressions");
        seq_begin(e);
        expr(e, "app", "Exists", NULL, 0);
        expr(e, "canary", "DoesNotExist", NULL, 0);
        end(e);
        end(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", NULL, 8000, 8100);
        pport(e, "TCP", "grpc", 0, 0);
        end(e);
        end(e);
        end(e);
        break;
    }
    case SHAPE_IPBLOCK: {
        /* Ingress from an office range, egress to the internet but not to
         * private ranges. */
        char cidr[32];
        char ex1[32];
        char ex2[32];
        const char *ex[2];
        uint32_t b = rnd_below(200);
        a = pick_app(n);
        pod_selector_app(e, a);
        policy_types(e, true, true);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "ipBlock");
        map_begin(e);
        snprintf(cidr, sizeof(cidr), "172.%u.0.0/16", 16 + b % 16);
        kv_str(e, "cidr", cidr);
        key(e, "except");
        seq_begin(e);
        snprintf(ex1, sizeof(ex1), "172.%u.%u.0/24", 16 + b % 16, b);
        snprintf(ex2, sizeof(ex2), "172.%u.%u.128/25", 16 + b % 16, b + 1);
        ex[0] = ex1;
        ex[1] = ex2;
        str(e, ex[0]);
        str(e, ex[1]);
        end(e);
        end(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", "https", 0, 0);
        pport(e, "TCP", NULL, 8080, 0);
        end(e);
        end(e);
        end(e);
        key(e, "egress");
        seq_begin(e);
        map_begin(e);
        key(e, "to");
        seq_begin(e);
        map_begin(e);
        key(e, "ipBlock");
        map_begin(e);
        kv_str(e, "cidr", "0.0.0.0/0");
        key(e, "except");
        seq_begin(e);
        str(e, "10.0.0.0/8");
        str(e, "172.16.0.0/12");
        str(e, "192.168.0.0/16");
        end(e);
        end(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", NULL, 443, 0);
        end(e);
        end(e);
        map_begin(e);
        key(e, "to");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        empty_map(e);
        end(e);
        end(e);
        end(e);
        end(e);
        break;
    }
    case SHAPE_MONITORING:
        key(e, "podSelector");
        empty_map(e);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        map_begin(e);
        match_labels_1(e, "team", "platform");
        end(e);
        pod_selector_app(e, APP_PROM);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", "metrics", 0, 0);
        end(e);
        end(e);
        end(e);
        break;
    case SHAPE_RANGE:
        a = pick_app(n);
        pod_selector_app(e, a);
        policy_types(e, true, true);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "namespaceSelector");
        map_begin(e);
        match_labels_1(e, "team", teams[n->team]);
        end(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", NULL, 30000, 32767);
        pport(e, "UDP", NULL, 5000, 5100);
        end(e);
        end(e);
        end(e);
        key(e, "egress");
        seq_begin(e);
        map_begin(e);
        key(e, "to");
        seq_begin(e);
        map_begin(e);
        key(e, "podSelector");
        empty_map(e);
        end(e);
        end(e);
        key(e, "ports");
        seq_begin(e);
        pport(e, "TCP", NULL, 8000, 9999);
        end(e);
        end(e);
        end(e);
        break;
    case SHAPE_IPV6: {
        char cidr[48];
        char ex[48];
        uint32_t b = 1 + rnd_below(0xfff0);
        a = pick_app(n);
        pod_selector_app(e, a);
        key(e, "ingress");
        seq_begin(e);
        map_begin(e);
        key(e, "from");
        seq_begin(e);
        map_begin(e);
        key(e, "ipBlock");
        map_begin(e);
        snprintf(cidr, sizeof(cidr), "fd00:%x::/32", b);
        kv_str(e, "cidr", cidr);
        key(e, "except");
        seq_begin(e);
        snprintf(ex, sizeof(ex), "fd00:%x:1::/48", b);
        str(e, ex);
        end(e);
        end(e);
        end(e);
        end(e);
        end(e);
        end(e);
        break;
    }
    case SHAPE__MAX:
        abort();
    }
    end(e);
    object_end(e);
}

/* --- the cluster --- */

static void
plan(struct cluster *c, uint32_t nns, uint32_t npods, uint32_t npolicies)
{
    uint32_t i, k;
    uint32_t pod = 0;

    c->nns = nns;
    c->npods = npods;
    c->npolicies = npolicies;
    c->ns = calloc(nns, sizeof(*c->ns));
    c->pods = calloc(npods > 0 ? npods : 1, sizeof(*c->pods));
    if (c->ns == NULL || c->pods == NULL) {
        fprintf(stderr, "netpolq-gen: out of memory\n");
        exit(1);
    }
    for (i = 0; i < nns; i++) {
        struct ns *n = &c->ns[i];
        n->team = i == 0 ? 0 : rnd_below(NTEAMS);
        n->env = i == 0 ? 0 : rnd_below(NENVS);
        snprintf(n->name, sizeof(n->name), "%s-%s-%04u", teams[n->team],
                 envs[n->env], i);
        /* The first namespace runs the cluster DNS and Prometheus. */
        if (i == 0) {
            n->apps[n->napps++] = APP_DNS;
            n->apps[n->napps++] = APP_PROM;
        }
        while (n->napps < APPS_PER_NS) {
            uint32_t a = rnd_below(NAPPS - 2);
            bool dup = false;
            for (k = 0; k < n->napps; k++)
                dup = dup || n->apps[k] == a;
            if (!dup)
                n->apps[n->napps++] = a;
        }
        n->npods = npods / nns + (i < npods % nns ? 1 : 0);
        n->npolicies = npolicies / nns + (i < npolicies % nns ? 1 : 0);
        n->first_pod = pod;
        for (k = 0; k < n->npods; k++) {
            struct pod *p = &c->pods[pod];
            char suffix[8];
            p->ns = i;
            p->index = pod;
            p->app = n->apps[k % n->napps];
            pod_suffix(suffix, pod);
            snprintf(p->name, sizeof(p->name), "%s-%08x-%s", apps[p->app].name,
                     (unsigned)mix((uint64_t)i << 8 | p->app), suffix);
            pod++;
        }
    }
}

static void
write_cluster(const struct cluster *c, FILE *f, bool yaml)
{
    struct em e;
    uint32_t i, j, k;

    memset(&e, 0, sizeof(e));
    e.f = f;
    e.yaml = yaml;
    if (!yaml) {
        fputs("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n"
              "  \"items\": [",
              f);
        e.depth = 0;
        push(&e, 's', 0);
        push(&e, 's', 0);
    }
    for (i = 0; i < c->nns; i++)
        write_namespace(&e, &c->ns[i], i);
    for (i = 0; i < c->nns; i++) {
        const struct ns *n = &c->ns[i];
        for (k = 0; k < n->npods; k++) {
            const struct pod *p = &c->pods[n->first_pod + k];
            char hash[11];
            uint64_t h = mix((uint64_t)i << 8 | p->app);
            snprintf(hash, sizeof(hash), "%010llx",
                     (unsigned long long)((h >> 20) & 0xffffffffffULL));
            write_pod(&e, c, p, hash);
        }
    }
    for (i = 0; i < c->nns; i++) {
        const struct ns *n = &c->ns[i];
        bool deny_egress = rnd_chance(20) && n->npolicies >= 3;
        for (j = 0; j < n->npolicies; j++) {
            enum shape s;
            if (j == 0)
                s = rnd_chance(75) ? SHAPE_DENY_INGRESS : random_shape();
            else if (j == 1 && deny_egress)
                s = SHAPE_DENY_EGRESS;
            else if (j == 2 && deny_egress)
                s = SHAPE_ALLOW_DNS;
            else
                s = random_shape();
            write_policy(&e, n, s, j);
        }
    }
    if (!yaml) {
        /* The emitter's two levels stand for the List's items: close them
         * by hand so the List object itself closes too. */
        fputs("\n  ]\n}\n", f);
    }
}

/* --- queries --- */

/* Writes one query between random pods. The port is one the destination
 * declares (by name or by number with its protocol) or a number from the
 * policies' ranges. */
static void
write_query(FILE *f, const struct cluster *c)
{
    const struct pod *from = &c->pods[rnd_below(c->npods)];
    const struct pod *to = &c->pods[rnd_below(c->npods)];
    const struct app *a = &apps[to->app];
    uint32_t np = 0;
    uint32_t r = rnd_below(100);
    const struct cport *cp;

    while (np < MAX_CPORTS && a->ports[np].name != NULL)
        np++;
    cp = &a->ports[rnd_below(np)];
    fprintf(f,
            "{\"from\": {\"namespace\": \"%s\", \"pod\": \"%s\"}, "
            "\"to\": {\"namespace\": \"%s\", \"pod\": \"%s\"}, ",
            c->ns[from->ns].name, from->name, c->ns[to->ns].name, to->name);
    if (r < 40)
        fprintf(f, "\"port\": \"%s\"}", cp->name);
    else if (r < 85)
        fprintf(f, "\"port\": %d, \"protocol\": \"%s\"}", cp->port,
                cp->proto == UDP ? "UDP" : "TCP");
    else if (r < 95)
        fprintf(f, "\"port\": %u, \"protocol\": \"TCP\"}",
                8000 + rnd_below(101));
    else
        fprintf(f, "\"port\": %u, \"protocol\": \"TCP\"}",
                30000 + rnd_below(2768));
}

static FILE *
open_out(const char *path)
{
    FILE *f;

    if (path == NULL || strcmp(path, "-") == 0)
        return stdout;
    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "netpolq-gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static void
close_out(FILE *f, const char *path)
{
    if (fflush(f) != 0 || ferror(f) || (f != stdout && fclose(f) != 0)) {
        fprintf(stderr, "netpolq-gen: %s: write error\n",
                path != NULL ? path : "stdout");
        exit(1);
    }
}

static void
write_queries(const struct cluster *c, uint32_t n, uint32_t batch,
              const char *path)
{
    uint32_t i, chunk, nchunks;
    char name[4096];

    if (batch == 0 || batch >= n)
        batch = n;
    nchunks = n == 0 ? 1 : (n + batch - 1) / batch;
    for (chunk = 0; chunk < nchunks; chunk++) {
        const char *p = path;
        FILE *f;
        uint32_t first = chunk * batch;
        uint32_t last = first + batch < n ? first + batch : n;
        if (nchunks > 1) {
            snprintf(name, sizeof(name), "%s.%u", path, chunk);
            p = name;
        }
        f = open_out(p);
        fputs("{\"queries\": [\n", f);
        for (i = first; i < last; i++) {
            write_query(f, c);
            fputs(i + 1 < last ? ",\n" : "\n", f);
        }
        fputs("], \"trace\": false}\n", f);
        close_out(f, p);
    }
}

static void
write_singles(const struct cluster *c, uint32_t n, const char *path)
{
    FILE *f = open_out(path);
    uint32_t i;

    for (i = 0; i < n; i++) {
        write_query(f, c);
        fputc('\n', f);
    }
    close_out(f, path);
}

/* --- command line --- */

static void
usage(FILE *f)
{
    fputs(
        "usage: netpolq-gen [--size small|medium|large]\n"
        "                   [--namespaces N] [--pods N] [--policies N]\n"
        "                   [--seed S] [--format yaml|json] [--out FILE]\n"
        "                   [--queries N --queries-out FILE [--batch-size B]]\n"
        "                   [--singles N --singles-out FILE]\n"
        "\n"
        "Writes a synthetic cluster (Namespaces, Pods, NetworkPolicies),\n"
        "the same for the same seed and sizes. YAML is a multi-document\n"
        "stream, JSON one List. --queries writes POST /reachability/batch\n"
        "bodies with random pod pairs (\"trace\": false); with --batch-size\n"
        "they are split into FILE.0, FILE.1, ... of B queries each.\n"
        "--singles writes one POST /reachability body per line.\n"
        "Sizes: small 5 namespaces, 100 pods, 20 policies; medium 200,\n"
        "10000, 2000; large 2000, 100000, 20000.\n",
        f);
}

static uint32_t
parse_count(const char *flag, const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > 100000000ULL ||
        s[0] == '-') {
        fprintf(stderr, "netpolq-gen: %s: \"%s\" is not a count\n", flag, s);
        exit(2);
    }
    return (uint32_t)v;
}

int
main(int argc, char **argv)
{
    uint32_t nns = 5;
    uint32_t npods = 100;
    uint32_t npolicies = 20;
    uint64_t seed = 1;
    bool yaml = true;
    const char *out = NULL;
    uint32_t nqueries = 0;
    uint32_t batch = 0;
    const char *queries_out = NULL;
    uint32_t nsingles = 0;
    const char *singles_out = NULL;
    struct cluster c;
    FILE *f;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "netpolq-gen: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--size") == 0) {
            if (strcmp(v, "small") == 0) {
                nns = 5;
                npods = 100;
                npolicies = 20;
            } else if (strcmp(v, "medium") == 0) {
                nns = 200;
                npods = 10000;
                npolicies = 2000;
            } else if (strcmp(v, "large") == 0) {
                nns = 2000;
                npods = 100000;
                npolicies = 20000;
            } else {
                fprintf(stderr, "netpolq-gen: unknown size \"%s\"\n", v);
                return 2;
            }
        } else if (strcmp(a, "--namespaces") == 0) {
            nns = parse_count(a, v);
        } else if (strcmp(a, "--pods") == 0) {
            npods = parse_count(a, v);
        } else if (strcmp(a, "--policies") == 0) {
            npolicies = parse_count(a, v);
        } else if (strcmp(a, "--seed") == 0) {
            seed = parse_count(a, v);
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "yaml") == 0) {
                yaml = true;
            } else if (strcmp(v, "json") == 0) {
                yaml = false;
            } else {
                fprintf(stderr, "netpolq-gen: unknown format \"%s\"\n", v);
                return 2;
            }
        } else if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--queries") == 0) {
            nqueries = parse_count(a, v);
        } else if (strcmp(a, "--queries-out") == 0) {
            queries_out = v;
        } else if (strcmp(a, "--batch-size") == 0) {
            batch = parse_count(a, v);
        } else if (strcmp(a, "--singles") == 0) {
            nsingles = parse_count(a, v);
        } else if (strcmp(a, "--singles-out") == 0) {
            singles_out = v;
        } else {
            fprintf(stderr, "netpolq-gen: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (nns == 0 || nns > 99999) {
        fprintf(stderr, "netpolq-gen: --namespaces must be 1..99999\n");
        return 2;
    }
    if ((nqueries > 0 || nsingles > 0) && npods == 0) {
        fprintf(stderr, "netpolq-gen: queries need pods\n");
        return 2;
    }
    if ((nqueries > 0) != (queries_out != NULL) ||
        (nsingles > 0) != (singles_out != NULL)) {
        fprintf(stderr, "netpolq-gen: --queries goes with --queries-out, "
                        "--singles with --singles-out\n");
        return 2;
    }

    rng_state = seed;
    plan(&c, nns, npods, npolicies);
    if (out != NULL || (queries_out == NULL && singles_out == NULL)) {
        f = open_out(out);
        write_cluster(&c, f, yaml);
        close_out(f, out);
    }
    /* Queries draw from their own stream so they do not depend on whether
     * the cluster was written in the same run. */
    rng_state = seed ^ 0x5157u;
    if (queries_out != NULL)
        write_queries(&c, nqueries, batch, queries_out);
    if (singles_out != NULL)
        write_singles(&c, nsingles, singles_out);
    free(c.ns);
    free(c.pods);
    return 0;
}
