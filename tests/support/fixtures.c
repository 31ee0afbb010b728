/*
 * Fixture builders: the compact text forms described in fixtures.h turned
 * into model objects, and the query helpers that check the fast and traced
 * evaluation paths against each other.
 *
 * The readers work on slices of the text and split at separators outside
 * (), [] and {}, so a selector such as "env in (a,b)" stays whole inside a
 * peer list. They are deliberately forgiving about spaces and strict about
 * everything else: a text they cannot read fails the test, quoting it.
 */
#include "tests/support/fixtures.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/net.h"

static struct np_arena scratch;

struct np_arena *
fx_arena(void)
{
    return &scratch;
}

void
fx_fini(void)
{
    np_arena_free_all(&scratch);
}

static void *
fx_alloc(size_t n, size_t size)
{
    void *p = np_arena_calloc(&scratch, n == 0 ? 1 : n, size);

    cr_assert_not_null(p, "fixture arena: out of memory");
    return p;
}

/* --- slices --- */

struct sl {
    const char *p;
    size_t n;
};

static struct sl
sl_of(const char *s)
{
    struct sl r = { s != NULL ? s : "", s != NULL ? strlen(s) : 0 };

    return r;
}

static struct sl
sl_trim(struct sl s)
{
    while (s.n > 0 && isspace((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && isspace((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

static char *
sl_dup(struct sl s)
{
    char *c = np_arena_strndup(&scratch, s.p, s.n);

    cr_assert_not_null(c, "fixture arena: out of memory");
    return c;
}

static bool
sl_eq(struct sl s, const char *w)
{
    return s.n == strlen(w) && memcmp(s.p, w, s.n) == 0;
}

static bool
sl_is_digits(struct sl s)
{
    size_t i;

    for (i = 0; i < s.n; i++) {
        if (!isdigit((unsigned char)s.p[i]))
            return false;
    }
    return s.n > 0;
}

/* A number as written, sign included; the fixtures must be able to state
 * out-of-range values. */
static int64_t
sl_int(struct sl s, const char *what)
{
    char *txt = sl_dup(sl_trim(s));
    char *end;
    long long v = strtoll(txt, &end, 10);

    cr_assert(txt[0] != '\0' && *end == '\0',
              "fixture: %s \"%s\" is not a number", what, txt);
    return (int64_t)v;
}

static bool
is_open(char c)
{
    return c == '(' || c == '[' || c == '{';
}

static bool
is_close(char c)
{
    return c == ')' || c == ']' || c == '}';
}

/* Splits s at delim outside brackets. Blank items are dropped, so "" and
 * "[]"'s inside give no items. */
static size_t
sl_split(struct sl s, char delim, struct sl **out)
{
    size_t n = 1, i, start = 0, k = 0;
    int depth = 0;
    struct sl *v;

    for (i = 0; i < s.n; i++)
        n += s.p[i] == delim;
    v = fx_alloc(n, sizeof(*v));
    for (i = 0; i <= s.n; i++) {
        if (i < s.n && is_open(s.p[i]))
            depth++;
        else if (i < s.n && is_close(s.p[i]))
            depth--;
        if (i == s.n || (depth == 0 && s.p[i] == delim)) {
            struct sl item = { s.p + start, i - start };

            item = sl_trim(item);
            if (item.n > 0)
                v[k++] = item;
            start = i + 1;
        }
    }
    *out = v;
    return k;
}

/* Index of the bracket closing the one at s.p[at], or s.n if none. */
static size_t
sl_match(struct sl s, size_t at)
{
    int depth = 0;
    size_t i;

    for (i = at; i < s.n; i++) {
        if (is_open(s.p[i]))
            depth++;
        else if (is_close(s.p[i]) && --depth == 0)
            return i;
    }
    return s.n;
}

/* True when s is "<open> inner <close>" as a whole; sets *inner. */
static bool
sl_wrapped(struct sl s, char open, char close, struct sl *inner)
{
    s = sl_trim(s);
    if (s.n < 2 || s.p[0] != open || s.p[s.n - 1] != close ||
        sl_match(s, 0) != s.n - 1)
        return false;
    inner->p = s.p + 1;
    inner->n = s.n - 2;
    *inner = sl_trim(*inner);
    return true;
}

/* Splits "key: value" at the first ':' outside brackets. */
static bool
sl_key_value(struct sl s, struct sl *key, struct sl *val)
{
    size_t i;
    int depth = 0;

    for (i = 0; i < s.n; i++) {
        if (is_open(s.p[i]))
            depth++;
        else if (is_close(s.p[i]))
            depth--;
        else if (depth == 0 && s.p[i] == ':') {
            *key = sl_trim((struct sl){ s.p, i });
            *val = sl_trim((struct sl){ s.p + i + 1, s.n - i - 1 });
            return true;
        }
    }
    *key = sl_trim(s);
    val->p = s.p + s.n;
    val->n = 0;
    return false;
}

static void
split_ref(const char *ref, const char **ns, const char **name)
{
    const char *slash = strchr(ref, '/');

    if (slash == NULL) {
        *ns = NULL;
        *name = sl_dup(sl_of(ref));
        return;
    }
    *ns = sl_dup((struct sl){ ref, (size_t)(slash - ref) });
    *name = sl_dup(sl_of(slash + 1));
}

/* --- labels and selectors --- */

static size_t
parse_labels(const char *text, struct np_model_label **out)
{
    struct sl *items;
    size_t n = sl_split(sl_of(text), ',', &items), i;
    struct np_model_label *l = fx_alloc(n, sizeof(*l));

    for (i = 0; i < n; i++) {
        const char *eq = memchr(items[i].p, '=', items[i].n);

        cr_assert_not_null(eq, "fixture: label \"%s\" in \"%s\" has no '='",
                           sl_dup(items[i]), text);
        l[i].key = sl_dup(
            sl_trim((struct sl){ items[i].p, (size_t)(eq - items[i].p) }));
        l[i].value = sl_dup(sl_trim(
            (struct sl){ eq + 1, items[i].n - (size_t)(eq - items[i].p) - 1 }));
    }
    *out = l;
    return n;
}

static const char *
op_word(struct sl w)
{
    if (sl_eq(w, "in"))
        return "In";
    if (sl_eq(w, "notin"))
        return "NotIn";
    return sl_dup(w);
}

struct np_model_selector
fx_selector(const char *text)
{
    struct np_model_selector sel = { 0 };
    struct sl all = sl_trim(sl_of(text)), *terms;
    struct np_model_label *labels;
    struct np_model_expr *exprs;
    size_t n, i;

    if (all.n == 0 || sl_eq(all, "{}"))
        return sel;
    n = sl_split(all, ',', &terms);
    labels = fx_alloc(n, sizeof(*labels));
    exprs = fx_alloc(n, sizeof(*exprs));
    for (i = 0; i < n; i++) {
        struct sl t = terms[i];
        struct np_model_expr *e = &exprs[sel.nexprs];
        const char *eq = memchr(t.p, '=', t.n);
        size_t k;

        if (t.p[0] == '!' && eq == NULL) {
            e->key = sl_dup(sl_trim((struct sl){ t.p + 1, t.n - 1 }));
            e->op = "DoesNotExist";
            sel.nexprs++;
            continue;
        }
        if (eq != NULL) {
            size_t at = (size_t)(eq - t.p);
            bool negate = at > 0 && t.p[at - 1] == '!';
            struct sl key = sl_trim((struct sl){ t.p, negate ? at - 1 : at });
            struct sl val = { eq + 1, t.n - at - 1 };
            const char **v;

            if (val.n > 0 && val.p[0] == '=') {
                val.p++;
                val.n--;
            }
            val = sl_trim(val);
            if (!negate) {
                labels[sel.nlabels].key = sl_dup(key);
                labels[sel.nlabels].value = sl_dup(val);
                sel.nlabels++;
                continue;
            }
            v = fx_alloc(1, sizeof(*v));
            v[0] = sl_dup(val);
            e->key = sl_dup(key);
            e->op = "NotIn";
            e->values = v;
            e->nvalues = 1;
            sel.nexprs++;
            continue;
        }
        /* "key", or "key op (values)" */
        for (k = 0; k < t.n && !isspace((unsigned char)t.p[k]) && t.p[k] != '(';
             k++)
            ;
        e->key = sl_dup((struct sl){ t.p, k });
        if (k == t.n) {
            e->op = "Exists";
        } else {
            struct sl rest = sl_trim((struct sl){ t.p + k, t.n - k });
            struct sl inner, *vals;
            size_t j, w;

            for (w = 0; w < rest.n && !isspace((unsigned char)rest.p[w]) &&
                        rest.p[w] != '(';
                 w++)
                ;
            e->op = op_word((struct sl){ rest.p, w });
            rest = sl_trim((struct sl){ rest.p + w, rest.n - w });
            cr_assert(sl_wrapped(rest, '(', ')', &inner),
                      "fixture: selector term \"%s\" in \"%s\": expected "
                      "\"key op (values)\"",
                      sl_dup(t), text);
            e->nvalues = sl_split(inner, ',', &vals);
            e->values = fx_alloc(e->nvalues, sizeof(char *));
            for (j = 0; j < e->nvalues; j++)
                ((const char **)e->values)[j] = sl_dup(vals[j]);
        }
        sel.nexprs++;
    }
    sel.labels = labels;
    sel.exprs = exprs;
    return sel;
}

static const struct np_model_selector *
selector_ptr(struct sl text)
{
    struct np_model_selector *s = fx_alloc(1, sizeof(*s));

    *s = fx_selector(sl_dup(text));
    return s;
}

static int
cmp_label(const void *x, const void *y)
{
    const struct np_label *a = x, *b = y;

    return a->key < b->key ? -1 : a->key > b->key;
}

struct np_labels
fx_labels(struct np_intern *t, const char *text)
{
    struct np_model_label *ml;
    size_t n = parse_labels(text, &ml), i;
    struct np_label *l = fx_alloc(n, sizeof(*l));
    struct np_labels out;

    for (i = 0; i < n; i++) {
        l[i].key = np_intern_add(t, ml[i].key);
        l[i].value = np_intern_add(t, ml[i].value);
        cr_assert(l[i].key != NP_SYM_NONE && l[i].value != NP_SYM_NONE);
    }
    qsort(l, n, sizeof(*l), cmp_label);
    out.n = (uint32_t)n;
    out.items = l;
    return out;
}

/* --- namespaces and pods --- */

struct np_model_namespace *
fx_ns_model(const char *name, const char *labels)
{
    struct np_model_namespace *ns = fx_alloc(1, sizeof(*ns));
    struct np_model_label *l;

    ns->name = name != NULL ? sl_dup(sl_of(name)) : NULL;
    ns->nlabels = parse_labels(labels, &l);
    ns->labels = l;
    return ns;
}

static size_t
parse_strs(struct sl text, const char *const **out)
{
    struct sl *items;
    size_t n = sl_split(text, ',', &items), i;
    const char **v = fx_alloc(n, sizeof(*v));

    for (i = 0; i < n; i++)
        v[i] = sl_dup(items[i]);
    *out = v;
    return n;
}

static size_t
parse_container_ports(struct sl text,
                      const struct np_model_container_port **out)
{
    struct sl *items;
    size_t n = sl_split(text, ',', &items), i;
    struct np_model_container_port *cp = fx_alloc(n, sizeof(*cp));

    for (i = 0; i < n; i++) {
        struct sl it = items[i];
        const char *colon = memchr(it.p, ':', it.n);
        const char *slash = memchr(it.p, '/', it.n);
        struct sl num;

        if (slash != NULL) {
            cp[i].protocol = sl_dup(sl_trim(
                (struct sl){ slash + 1, it.n - (size_t)(slash - it.p) - 1 }));
            it.n = (size_t)(slash - it.p);
        }
        num = it;
        if (colon != NULL && colon < it.p + it.n) {
            cp[i].name =
                sl_dup(sl_trim((struct sl){ it.p, (size_t)(colon - it.p) }));
            num.p = colon + 1;
            num.n = it.n - (size_t)(colon - it.p) - 1;
        }
        cp[i].port = sl_int(num, "containerPort");
    }
    *out = cp;
    return n;
}

struct np_model_pod *
fx_pod_model(const char *ref, const char *spec)
{
    struct np_model_pod *pod = fx_alloc(1, sizeof(*pod));
    struct sl *clauses;
    size_t n, i;

    split_ref(ref, &pod->namespace_, &pod->name);
    n = sl_split(sl_of(spec), ';', &clauses);
    for (i = 0; i < n; i++) {
        struct sl key, val;
        bool has_val = sl_key_value(clauses[i], &key, &val);

        if (sl_eq(key, "labels")) {
            struct np_model_label *l;

            pod->nlabels = parse_labels(sl_dup(val), &l);
            pod->labels = l;
        } else if (sl_eq(key, "ips")) {
            pod->nips = parse_strs(val, &pod->ips);
        } else if (sl_eq(key, "ports")) {
            pod->nports = parse_container_ports(val, &pod->ports);
        } else if (sl_eq(key, "hostNetwork")) {
            pod->host_network = !has_val || sl_eq(val, "true");
        } else if (sl_eq(key, "hostIP")) {
            pod->host_ip = sl_dup(val);
        } else if (sl_eq(key, "phase")) {
            pod->phase = sl_dup(val);
        } else {
            cr_assert_fail("fixture: pod %s: unknown clause \"%s\"", ref,
                           sl_dup(clauses[i]));
        }
    }
    return pod;
}

/* --- policies --- */

static void
parse_ipblock(struct sl text, struct np_model_peer *peer, const char *spec)
{
    struct np_model_ipblock *ib = fx_alloc(1, sizeof(*ib));
    const char **except;
    size_t nwords = 0, i = 0, k;
    struct sl words[64];

    while (i < text.n) {
        while (i < text.n &&
               (isspace((unsigned char)text.p[i]) || text.p[i] == ','))
            i++;
        k = i;
        while (k < text.n &&
               !(isspace((unsigned char)text.p[k]) || text.p[k] == ','))
            k++;
        if (k > i) {
            cr_assert(nwords < 64, "fixture: ipBlock too long in \"%s\"", spec);
            words[nwords++] = (struct sl){ text.p + i, k - i };
        }
        i = k;
    }
    if (nwords > 0 && !sl_eq(words[0], "except"))
        ib->cidr = sl_dup(words[0]);
    except = fx_alloc(nwords, sizeof(*except));
    for (i = ib->cidr != NULL ? 1 : 0; i < nwords; i++) {
        if (sl_eq(words[i], "except"))
            continue;
        except[ib->nexcept++] = sl_dup(words[i]);
    }
    ib->except = except;
    peer->ipblock = ib;
}

static void
parse_peer(struct sl text, struct np_model_peer *peer, const char *spec)
{
    struct sl inner;
    size_t i = 0;

    memset(peer, 0, sizeof(*peer));
    if (sl_wrapped(text, '{', '}', &inner) && inner.n == 0)
        return;
    while (i < text.n) {
        size_t w, close;
        struct sl word, arg;

        while (i < text.n && isspace((unsigned char)text.p[i]))
            i++;
        if (i == text.n)
            break;
        for (w = i; w < text.n && text.p[w] != '('; w++)
            ;
        close = sl_match(text, w);
        cr_assert(w < text.n && close < text.n,
                  "fixture: peer \"%s\" in \"%s\": expected pod(...), "
                  "ns(...) or ipBlock(...)",
                  sl_dup(text), spec);
        word = sl_trim((struct sl){ text.p + i, w - i });
        arg = sl_trim((struct sl){ text.p + w + 1, close - w - 1 });
        if (sl_eq(word, "pod") || sl_eq(word, "podSelector"))
            peer->pod_selector = selector_ptr(arg);
        else if (sl_eq(word, "ns") || sl_eq(word, "namespaceSelector"))
            peer->namespace_selector = selector_ptr(arg);
        else if (sl_eq(word, "ipBlock"))
            parse_ipblock(arg, peer, spec);
        else
            cr_assert_fail("fixture: unknown peer part \"%s\" in \"%s\"",
                           sl_dup(word), spec);
        i = close + 1;
    }
}

static void
parse_port(struct sl text, struct np_model_policy_port *pp, const char *spec)
{
    const char *slash = memchr(text.p, '/', text.n);
    struct sl val = text, *words;
    size_t n, i;

    memset(pp, 0, sizeof(*pp));
    if (slash != NULL) {
        pp->protocol = sl_dup(sl_trim(
            (struct sl){ slash + 1, text.n - (size_t)(slash - text.p) - 1 }));
        val.n = (size_t)(slash - text.p);
    }
    n = sl_split(val, ' ', &words);
    for (i = 0; i < n; i++) {
        struct sl w = words[i];
        const char *dash = w.n > 1 ? memchr(w.p + 1, '-', w.n - 1) : NULL;

        if (w.n > 4 && memcmp(w.p, "end=", 4) == 0) {
            pp->has_end_port = true;
            pp->end_port = sl_int((struct sl){ w.p + 4, w.n - 4 }, "endPort");
            continue;
        }
        cr_assert(!pp->has_port, "fixture: port \"%s\" in \"%s\"", sl_dup(text),
                  spec);
        pp->has_port = true;
        if (dash != NULL &&
            sl_is_digits((struct sl){ w.p, (size_t)(dash - w.p) }) &&
            sl_is_digits(
                (struct sl){ dash + 1, w.n - (size_t)(dash - w.p) - 1 })) {
            pp->port = sl_int((struct sl){ w.p, (size_t)(dash - w.p) }, "port");
            pp->has_end_port = true;
            pp->end_port =
                sl_int((struct sl){ dash + 1, w.n - (size_t)(dash - w.p) - 1 },
                       "endPort");
        } else if (sl_is_digits(w) ||
                   (w.p[0] == '-' && w.n > 1 &&
                    sl_is_digits((struct sl){ w.p + 1, w.n - 1 }))) {
            pp->port = sl_int(w, "port");
        } else {
            pp->port_name = sl_dup(w);
        }
    }
}

static size_t
parse_rules(struct sl text, bool *present, const struct np_model_rule **out,
            const char *spec)
{
    struct sl inner, *items;
    struct np_model_rule *rules;
    size_t n, i;

    cr_assert(sl_wrapped(text, '[', ']', &inner),
              "fixture: rules \"%s\" in \"%s\" must be a [list]", sl_dup(text),
              spec);
    *present = true;
    n = sl_split(inner, ',', &items);
    rules = fx_alloc(n, sizeof(*rules));
    for (i = 0; i < n; i++) {
        struct sl body, *fields;
        size_t nf, f;

        cr_assert(sl_wrapped(items[i], '{', '}', &body),
                  "fixture: rule \"%s\" in \"%s\" must be a {map}",
                  sl_dup(items[i]), spec);
        nf = sl_split(body, ',', &fields);
        for (f = 0; f < nf; f++) {
            struct sl key, val, list, *elems;
            size_t ne, e;

            sl_key_value(fields[f], &key, &val);
            cr_assert(sl_wrapped(val, '[', ']', &list),
                      "fixture: \"%s\" in \"%s\" must be a [list]",
                      sl_dup(fields[f]), spec);
            ne = sl_split(list, ',', &elems);
            if (sl_eq(key, "from") || sl_eq(key, "to")) {
                struct np_model_peer *peers = fx_alloc(ne, sizeof(*peers));

                for (e = 0; e < ne; e++)
                    parse_peer(elems[e], &peers[e], spec);
                rules[i].peers = peers;
                rules[i].npeers = ne;
            } else if (sl_eq(key, "ports")) {
                struct np_model_policy_port *ports =
                    fx_alloc(ne, sizeof(*ports));

                for (e = 0; e < ne; e++)
                    parse_port(elems[e], &ports[e], spec);
                rules[i].ports = ports;
                rules[i].nports = ne;
            } else {
                cr_assert_fail("fixture: unknown rule field \"%s\" in \"%s\"",
                               sl_dup(key), spec);
            }
        }
    }
    *out = rules;
    return n;
}

struct np_model_policy *
fx_policy_model(const char *ref, const char *spec)
{
    struct np_model_policy *pol = fx_alloc(1, sizeof(*pol));
    struct sl *clauses;
    size_t n, i;

    split_ref(ref, &pol->namespace_, &pol->name);
    n = sl_split(sl_of(spec), ';', &clauses);
    for (i = 0; i < n; i++) {
        struct sl key, val, list;

        sl_key_value(clauses[i], &key, &val);
        if (sl_eq(key, "podSelector")) {
            pol->pod_selector = fx_selector(sl_dup(val));
        } else if (sl_eq(key, "policyTypes")) {
            if (!sl_wrapped(val, '[', ']', &list))
                list = val;
            pol->ntypes = parse_strs(list, &pol->types);
        } else if (sl_eq(key, "ingress")) {
            pol->ningress =
                parse_rules(val, &pol->ingress_present, &pol->ingress, spec);
        } else if (sl_eq(key, "egress")) {
            pol->negress =
                parse_rules(val, &pol->egress_present, &pol->egress, spec);
        } else {
            cr_assert_fail("fixture: policy %s: unknown clause \"%s\"", ref,
                           sl_dup(clauses[i]));
        }
    }
    return pol;
}

/* --- builder --- */

struct np_builder *
fx_builder(void)
{
    struct np_builder *b = np_builder_new();

    cr_assert_not_null(b, "np_builder_new");
    return b;
}

int
fx_try_ns(struct np_builder *b, const char *name, const char *labels,
          struct np_error *err)
{
    np_error_init(err);
    return np_builder_add_namespace(b, fx_ns_model(name, labels), err);
}

int
fx_try_pod(struct np_builder *b, const char *ref, const char *spec,
           struct np_error *err)
{
    np_error_init(err);
    return np_builder_add_pod(b, fx_pod_model(ref, spec), err);
}

int
fx_try_policy(struct np_builder *b, const char *ref, const char *spec,
              struct np_error *err)
{
    np_error_init(err);
    return np_builder_add_policy(b, fx_policy_model(ref, spec), err);
}

int
fx_try_add(struct np_builder *b, const char *kind, const char *ref,
           const char *text, struct np_error *err)
{
    if (strcmp(kind, "ns") == 0)
        return fx_try_ns(b, ref, text, err);
    if (strcmp(kind, "pod") == 0)
        return fx_try_pod(b, ref, text, err);
    if (strcmp(kind, "policy") == 0)
        return fx_try_policy(b, ref, text, err);
    cr_assert_fail("fixture: unknown kind \"%s\"", kind);
    return -1;
}

static void
assert_added(int rc, const struct np_error *err, const char *what,
             const char *ref)
{
    cr_assert_eq(rc, 0, "adding %s %s failed: %s: %s (at %s)", what, ref,
                 np_errc_name(err->code), err->message, err->path);
}

void
fx_ns(struct np_builder *b, const char *name, const char *labels)
{
    struct np_error err;

    assert_added(fx_try_ns(b, name, labels, &err), &err, "Namespace", name);
}

void
fx_pod_spec(struct np_builder *b, const char *ref, const char *spec)
{
    struct np_error err;

    assert_added(fx_try_pod(b, ref, spec, &err), &err, "Pod", ref);
}

void
fx_pod_ports(struct np_builder *b, const char *ref, const char *labels,
             const char *ips, const char *ports)
{
    struct np_model_pod *pod = fx_pod_model(ref, "");
    struct np_model_label *l;
    struct np_error err;

    pod->nlabels = parse_labels(labels, &l);
    pod->labels = l;
    pod->nips = parse_strs(sl_of(ips), &pod->ips);
    pod->nports = parse_container_ports(sl_of(ports), &pod->ports);
    np_error_init(&err);
    assert_added(np_builder_add_pod(b, pod, &err), &err, "Pod", ref);
}

void
fx_pod(struct np_builder *b, const char *ref, const char *labels,
       const char *ips)
{
    fx_pod_ports(b, ref, labels, ips, NULL);
}

void
fx_policy(struct np_builder *b, const char *ref, const char *spec)
{
    struct np_error err;

    assert_added(fx_try_policy(b, ref, spec, &err), &err, "NetworkPolicy", ref);
}

struct np_snapshot *
fx_build(struct np_builder *b)
{
    struct np_error err;
    struct np_snapshot *s;

    np_error_init(&err);
    s = np_builder_build(b, 1, &err);
    np_builder_free(b);
    cr_assert_not_null(s, "np_builder_build: %s: %s", np_errc_name(err.code),
                       err.message);
    return s;
}

/* --- queries --- */

const struct np_eval_opts fx_opts = { .ipblock_matches_pods = true };

struct np_endpoint
fx_endpoint(const struct np_snapshot *s, const char *who)
{
    struct np_endpoint ep;
    struct np_ip ip;
    const char *ns, *name;

    memset(&ep, 0, sizeof(ep));
    if (np_ip_parse(who, &ip, NULL) == 0) {
        np_endpoint_from_ip(s, &ip, &ep);
        return ep;
    }
    split_ref(who, &ns, &name);
    ep.pod = np_snapshot_find_pod(s, ns != NULL ? ns : "default", name);
    cr_assert_not_null(ep.pod, "fixture: no pod %s in the snapshot", who);
    return ep;
}

struct np_query
fx_query(const struct np_snapshot *s, const char *from, const char *to,
         const char *port)
{
    struct np_query q;
    struct sl val = sl_of(port);
    const char *slash = strchr(port, '/');
    bool proto_given = slash != NULL;
    struct np_error err;

    memset(&q, 0, sizeof(q));
    q.from = fx_endpoint(s, from);
    q.to = fx_endpoint(s, to);
    q.proto = NP_PROTO_TCP;
    if (proto_given) {
        cr_assert_eq(np_proto_parse(slash + 1, &q.proto, NULL), 0,
                     "fixture: bad protocol in \"%s\"", port);
        val.n = (size_t)(slash - port);
    }
    if (sl_is_digits(val)) {
        uint32_t v;

        cr_assert_eq(np_parse_u32(sl_dup(val), 0, 65535, &v), 0,
                     "fixture: bad port \"%s\"", port);
        q.port = (uint16_t)v;
        return q;
    }
    cr_assert_not_null(q.to.pod, "fixture: port name %s needs a pod", port);
    np_error_init(&err);
    cr_assert_eq(np_pod_resolve_port(s, q.to.pod, sl_dup(val), proto_given,
                                     &q.proto, &q.port, &err),
                 0, "fixture: %s", err.message);
    return q;
}

static void
check_side(const struct np_snapshot *s, const struct np_query *q,
           const struct np_side *side, enum np_dir dir, bool fast,
           const char *what)
{
    const struct np_endpoint *self = dir == NP_DIR_EGRESS ? &q->from : &q->to;
    uint32_t i, j, nmatched = 0;

    cr_assert_eq(side->dir, dir, "%s: side direction", what);
    cr_assert_eq(side->allowed, fast,
                 "%s: %s: trace says %s, np_eval_side_allowed says %s\n%s",
                 what, np_dir_name(dir), side->allowed ? "allowed" : "denied",
                 fast ? "allowed" : "denied", fx_side_dump(side));
    cr_assert(side->reason != NULL && side->reason[0] != '\0',
              "%s: %s side has no reason", what, np_dir_name(dir));
    switch (side->why) {
    case NP_WHY_ALLOWED_BY_RULE:
        cr_assert(side->allowed && side->isolated && side->nallowed_by > 0,
                  "%s: allowed_by_rule without a rule", what);
        break;
    case NP_WHY_NO_RULE_MATCHES:
        cr_assert(!side->allowed && side->isolated && side->nallowed_by == 0,
                  "%s: no_rule_matches inconsistent", what);
        break;
    case NP_WHY_EXTERNAL:
        cr_assert(self->pod == NULL && side->allowed, "%s: external", what);
        break;
    case NP_WHY_HOST_NETWORK:
        cr_assert(self->pod != NULL && self->pod->host_network && side->allowed,
                  "%s: host_network", what);
        break;
    case NP_WHY_NOT_ISOLATED:
        cr_assert(side->allowed && !side->isolated && side->npolicies == 0,
                  "%s: not_isolated", what);
        break;
    case NP_WHY_SELF:
        cr_assert(side->allowed && q->from.pod == q->to.pod, "%s: self", what);
        break;
    default:
        cr_assert_fail("%s: why %d", what, (int)side->why);
    }
    if (self->pod != NULL && !self->pod->host_network) {
        struct np_isolation iso;

        np_pod_isolation(s, self->pod, &iso);
        cr_assert_eq(side->isolated, iso.isolated[dir],
                     "%s: %s isolation differs from np_pod_isolation", what,
                     np_dir_name(dir));
        if (side->isolated)
            cr_assert_eq(side->npolicies, iso.npolicies[dir],
                         "%s: policy count", what);
    }
    for (i = 0; i < side->npolicies; i++) {
        const struct np_policy_result *pr = &side->policies[i];
        bool any = false;

        cr_assert(pr->reason != NULL && pr->reason[0] != '\0');
        cr_assert_eq(pr->nrules, pr->policy->nrules[dir]);
        for (j = 0; j < pr->nrules; j++) {
            const struct np_rule_result *rr = &pr->rules[j];

            cr_assert_eq(rr->index, j);
            cr_assert_eq(rr->matched, rr->peer_ok && rr->port_ok,
                         "%s: rule matched flag", what);
            cr_assert(rr->reason != NULL && rr->reason[0] != '\0');
            if (rr->peer >= 0)
                cr_assert(rr->peers[rr->peer].matched);
            if (rr->port >= 0)
                cr_assert(rr->ports[rr->port].matched);
            any = any || rr->matched;
            nmatched += rr->matched;
        }
        cr_assert_eq(pr->allowed, any, "%s: policy allowed flag", what);
    }
    if (side->isolated && side->why != NP_WHY_SELF)
        cr_assert_eq(side->nallowed_by, nmatched,
                     "%s: allowed_by lists every matching rule", what);
    for (i = 0; i < side->nallowed_by; i++) {
        const struct np_rule_ref *ref = &side->allowed_by[i];
        const struct np_rule_result *rr;

        cr_assert_lt(ref->policy, side->npolicies);
        rr = &side->policies[ref->policy].rules[ref->rule];
        cr_assert(rr->matched,
                  "%s: allowed_by names a rule that does not "
                  "match",
                  what);
        cr_assert_eq(ref->peer, rr->peer);
        cr_assert_eq(ref->port, rr->port);
    }
}

bool
fx_eval(const struct np_snapshot *s, const struct np_eval_opts *opts,
        const char *from, const char *to, const char *port,
        struct np_verdict *out)
{
    struct np_query q = fx_query(s, from, to, port);
    struct np_verdict v;
    struct np_error err;
    bool fast, eg, in, self;
    char what[256];

    if (opts == NULL)
        opts = &fx_opts;
    snprintf(what, sizeof(what), "%s -> %s on %s", from, to, port);
    fast = np_eval_allowed(s, opts, &q);
    eg = np_eval_side_allowed(s, opts, &q, NP_DIR_EGRESS);
    in = np_eval_side_allowed(s, opts, &q, NP_DIR_INGRESS);
    np_error_init(&err);
    cr_assert_eq(np_eval_trace(s, opts, &q, &scratch, &v, &err), 0,
                 "%s: np_eval_trace: %s", what, err.message);
    self = q.from.pod != NULL && q.from.pod == q.to.pod;
    cr_assert_eq(v.self, self, "%s: verdict.self", what);
    cr_assert_eq(v.allowed, fast,
                 "%s: np_eval_trace says %s, np_eval_allowed says %s", what,
                 v.allowed ? "allowed" : "denied", fast ? "allowed" : "denied");
    if (self)
        cr_assert(fast, "%s: a pod may always talk to itself", what);
    else
        cr_assert_eq(fast, eg && in, "%s: verdict is egress AND ingress", what);
    check_side(s, &q, &v.egress, NP_DIR_EGRESS, eg, what);
    check_side(s, &q, &v.ingress, NP_DIR_INGRESS, in, what);
    if (out != NULL)
        *out = v;
    return fast;
}

bool
fx_allowed(const struct np_snapshot *s, const char *from, const char *to,
           const char *port)
{
    return fx_eval(s, NULL, from, to, port, NULL);
}

const struct np_policy_result *
fx_side_policy(const struct np_side *side, const char *name)
{
    uint32_t i;

    for (i = 0; i < side->npolicies; i++) {
        if (strcmp(side->policies[i].policy->name, name) == 0)
            return &side->policies[i];
    }
    return NULL;
}

static bool
has(const char *reason, const char *text)
{
    return reason != NULL && strstr(reason, text) != NULL;
}

bool
fx_side_mentions(const struct np_side *side, const char *text)
{
    uint32_t i, j, k;

    if (has(side->reason, text))
        return true;
    for (i = 0; i < side->npolicies; i++) {
        const struct np_policy_result *pr = &side->policies[i];

        if (has(pr->reason, text))
            return true;
        for (j = 0; j < pr->nrules; j++) {
            const struct np_rule_result *rr = &pr->rules[j];

            if (has(rr->reason, text))
                return true;
            for (k = 0; k < rr->npeers; k++) {
                if (has(rr->peers[k].reason, text))
                    return true;
            }
            for (k = 0; k < rr->nports; k++) {
                if (has(rr->ports[k].reason, text))
                    return true;
            }
        }
    }
    return false;
}

/* Appends a line to a growing dump; stops quietly at the cap. */
static void
dump_line(char *buf, size_t cap, size_t *off, const char *indent, const char *s)
{
    int n;

    if (*off >= cap)
        return;
    n = snprintf(buf + *off, cap - *off, "%s%s\n", indent, s ? s : "(null)");
    if (n > 0)
        *off += (size_t)n;
}

const char *
fx_side_dump(const struct np_side *side)
{
    size_t cap = 8192, off = 0;
    char *buf = fx_alloc(cap, 1);
    uint32_t i, j, k;

    dump_line(buf, cap, &off, "", side->reason);
    for (i = 0; i < side->npolicies; i++) {
        const struct np_policy_result *pr = &side->policies[i];

        dump_line(buf, cap, &off, "  policy ", pr->policy->name);
        dump_line(buf, cap, &off, "    ", pr->reason);
        for (j = 0; j < pr->nrules; j++) {
            const struct np_rule_result *rr = &pr->rules[j];

            dump_line(buf, cap, &off, "    rule: ", rr->reason);
            for (k = 0; k < rr->npeers; k++)
                dump_line(buf, cap, &off, "      peer: ", rr->peers[k].reason);
            for (k = 0; k < rr->nports; k++)
                dump_line(buf, cap, &off, "      port: ", rr->ports[k].reason);
        }
    }
    return buf;
}
