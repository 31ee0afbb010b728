/*
 * Snapshot objects, verdicts, traces and isolation as JSON: the field names
 * here are the ones openapi.yaml documents and dashboards bind to, so change
 * them only together with that file. Every function builds a new json_t and
 * returns NULL when out of memory; none of them evaluates anything (eval.c
 * does) or answers HTTP (reply.c does).
 */
#include "api/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/net.h"
#include "core/workload.h"

/* Builders that remember a failure, so that a long object is checked once
 * at the end. json_object_set_new() and json_array_append_new() steal v even
 * when they fail, and accept a NULL v or container by failing. */
static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void
push(json_t *a, json_t *v, bool *ok)
{
    if (json_array_append_new(a, v) != 0)
        *ok = false;
}

static json_t *
finish(json_t *v, bool ok)
{
    if (!ok) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Returns the length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

json_t *
api_json_text(const char *s)
{
    const unsigned char *p;
    json_t *v;
    char *buf;
    size_t len, o;

    if (s == NULL)
        return json_null();
    v = json_string(s);
    if (v != NULL)
        return v;
    /* Not UTF-8: each bad byte becomes U+FFFD (3 bytes). */
    len = strlen(s);
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    buf = malloc(3 * len + 1);
    if (buf == NULL)
        return NULL;
    o = 0;
    for (p = (const unsigned char *)s; *p != '\0';) {
        size_t n = utf8_len(p);

        if (n == 0) {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
            continue;
        }
        memcpy(buf + o, p, n);
        o += n;
        p += n;
    }
    buf[o] = '\0';
    v = json_string(buf);
    free(buf);
    return v;
}

static const char *
ns_name(const struct np_snapshot *snap, uint32_t ns)
{
    return ns < snap->nnamespaces ? snap->namespaces[ns].name : "";
}

static json_t *
pod_ref(const struct np_snapshot *snap, const struct np_pod *pod)
{
    return json_sprintf("%s/%s", ns_name(snap, pod->ns), pod->name);
}

/* "ns/Kind/name" of a workload's template pod. */
static json_t *
workload_ref(const struct np_snapshot *snap, const struct np_pod *wl)
{
    return json_sprintf("%s/%s/%s", ns_name(snap, wl->ns), wl->workload_kind,
                        wl->name);
}

static json_t *
policy_ref(const struct np_snapshot *snap, const struct np_policy *pol)
{
    return json_sprintf("%s/%s", ns_name(snap, pol->ns), pol->name);
}

static json_t *
policy_refs(const struct np_snapshot *snap, const uint32_t *ids, uint32_t n)
{
    json_t *a = json_array();
    bool ok = true;
    uint32_t i;

    for (i = 0; i < n; i++)
        push(a,
             ids[i] < snap->npolicies
                 ? policy_ref(snap, &snap->policies[ids[i]])
                 : NULL,
             &ok);
    return finish(a, ok);
}

static json_t *
pod_refs(const struct np_snapshot *snap, const uint32_t *ids, uint32_t n)
{
    json_t *a = json_array();
    bool ok = true;
    uint32_t i;

    for (i = 0; i < n; i++)
        push(a,
             ids[i] < snap->npods ? pod_ref(snap, &snap->pods[ids[i]]) : NULL,
             &ok);
    return finish(a, ok);
}

static json_t *
workload_refs(const struct np_snapshot *snap, const uint32_t *ids, uint32_t n)
{
    json_t *a = json_array();
    bool ok = true;
    uint32_t i;

    for (i = 0; i < n; i++)
        push(a,
             ids[i] < snap->nworkloads
                 ? workload_ref(snap, &snap->workloads[ids[i]])
                 : NULL,
             &ok);
    return finish(a, ok);
}

static json_t *
ip_text(const struct np_ip *ip)
{
    char buf[NP_IP_STRLEN];

    np_ip_format(ip, buf, sizeof(buf));
    return json_string(buf);
}

struct label_text {
    const char *key, *value;
};

static int
label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct label_text *)a)->key,
                  ((const struct label_text *)b)->key);
}

json_t *
api_labels_encode(const struct np_snapshot *snap, const struct np_labels *ls)
{
    struct label_text *t;
    json_t *o = json_object();
    bool ok = true;
    uint32_t i;

    if (ls->n == 0)
        return o;
    t = calloc(ls->n, sizeof(*t));
    if (t == NULL)
        return finish(o, false);
    /* Sets are sorted by symbol id; people read labels sorted by key. */
    for (i = 0; i < ls->n; i++) {
        t[i].key = np_snapshot_str(snap, ls->items[i].key);
        t[i].value = np_snapshot_str(snap, ls->items[i].value);
    }
    qsort(t, ls->n, sizeof(*t), label_cmp);
    for (i = 0; i < ls->n; i++)
        put(o, t[i].key, api_json_text(t[i].value), &ok);
    free(t);
    return finish(o, ok);
}

/* "from" for ingress rule peers, "to" for egress. */
static const char *
peers_field(enum np_dir dir)
{
    return dir == NP_DIR_INGRESS ? "from" : "to";
}

/* The answer's one-sentence reason, written straight into the answer's
 * text (api_jw_text_begin). It keeps at most SENTENCE_MAX bytes, as the
 * fixed buffer it was once formatted into did. Without printf: this runs
 * for every answer. */
#define SENTENCE_MAX 1023

struct sentence {
    struct np_text *t;
    size_t start; /* where the sentence begins in t */
};

static void
say_n(struct sentence *st, const char *s, size_t n)
{
    size_t used = st->t->len - st->start;

    if (used >= SENTENCE_MAX)
        return;
    if (n > SENTENCE_MAX - used)
        n = SENTENCE_MAX - used;
    np_text_put(st->t, s, n);
}

/* A literal, without strlen. */
#define SAY(st, lit) say_n((st), "" lit, sizeof(lit) - 1)

static void
say(struct sentence *st, const char *s)
{
    say_n(st, s, strlen(s));
}

/* Writes n in decimal to p; returns the end. */
static char *
cpy_uint(char *p, uint64_t n)
{
    char buf[24];
    size_t k = sizeof(buf);

    if (n < 10) {
        *p = (char)('0' + n);
        return p + 1;
    }
    do {
        buf[--k] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    memcpy(p, buf + k, sizeof(buf) - k);
    return p + (sizeof(buf) - k);
}

static void
say_uint(struct sentence *st, unsigned n)
{
    char buf[24];

    say_n(st, buf, (size_t)(cpy_uint(buf, n) - buf));
}

/* "ns/name" of a pod or a policy, with the lengths the snapshot keeps. */
static void
say_ref(struct sentence *st, const struct np_snapshot *snap, uint32_t ns,
        const char *name, uint32_t name_len)
{
    if (ns < snap->nnamespaces)
        say_n(st, snap->namespaces[ns].name, snap->namespaces[ns].name_len);
    SAY(st, "/");
    say_n(st, name, name_len);
}

static void
say_endpoint(struct sentence *st, const struct np_snapshot *snap,
             const struct np_endpoint *ep)
{
    char ip[NP_IP_STRLEN];

    if (ep->pod != NULL && ep->pod->workload_kind != NULL) {
        SAY(st, "workload ");
        say(st, ns_name(snap, ep->pod->ns));
        SAY(st, "/");
        say(st, ep->pod->workload_kind);
        SAY(st, "/");
        say_n(st, ep->pod->name, ep->pod->name_len);
        return;
    }
    if (ep->pod != NULL) {
        say_ref(st, snap, ep->pod->ns, ep->pod->name, ep->pod->name_len);
        return;
    }
    np_ip_format(&ep->ip, ip, sizeof(ip));
    say(st, ip);
}

/* "ingress" or "egress". */
static void
say_dir(struct sentence *st, enum np_dir dir)
{
    if (dir == NP_DIR_INGRESS)
        SAY(st, "ingress");
    else
        SAY(st, "egress");
}

/* One side in a clause that names what decided it: the policy and rule that
 * allowed, or the policies that isolate and the traffic none of them lets
 * through. Other decisions keep the evaluator's own sentence. */
static void
say_side(struct sentence *st, const struct np_snapshot *snap,
         const struct np_query *q, const struct np_side *side)
{
    const struct np_endpoint *self =
        side->dir == NP_DIR_EGRESS ? &q->from : &q->to;
    const struct np_endpoint *peer =
        side->dir == NP_DIR_EGRESS ? &q->to : &q->from;
    uint32_t i;

    if (side->why == NP_WHY_ALLOWED_BY_RULE && side->nallowed_by > 0 &&
        side->allowed_by[0].policy < side->npolicies) {
        const struct np_rule_ref *r = &side->allowed_by[0];
        const struct np_policy *pol = side->policies[r->policy].policy;

        say_dir(st, side->dir);
        SAY(st, " of ");
        say_endpoint(st, snap, self);
        SAY(st, " is allowed by ");
        say_ref(st, snap, pol->ns, pol->name, pol->name_len);
        SAY(st, " spec.");
        say_dir(st, side->dir);
        SAY(st, "[");
        say_uint(st, (unsigned)r->rule);
        SAY(st, "]");
        return;
    }
    if (side->why == NP_WHY_NO_RULE_MATCHES) {
        say_dir(st, side->dir);
        SAY(st, " of ");
        say_endpoint(st, snap, self);
        SAY(st, " is isolated by ");
        for (i = 0; i < side->npolicies && i < 3; i++) {
            const struct np_policy *pol = side->policies[i].policy;

            if (i > 0)
                SAY(st, ", ");
            say_ref(st, snap, pol->ns, pol->name, pol->name_len);
        }
        if (side->npolicies > 3) {
            SAY(st, " and ");
            say_uint(st, (unsigned)(side->npolicies - 3));
            SAY(st, " more");
        }
        SAY(st, " and no rule allows ");
        say_uint(st, (unsigned)q->port);
        SAY(st, "/");
        say(st, np_proto_name(q->proto));
        if (side->dir == NP_DIR_EGRESS)
            SAY(st, " to ");
        else
            SAY(st, " from ");
        say_endpoint(st, snap, peer);
        return;
    }
    if (side->why == NP_WHY_NOT_ISOLATED) {
        say_dir(st, side->dir);
        SAY(st, " of ");
        say_endpoint(st, snap, self);
        SAY(st, " is not isolated");
        return;
    }
    if (side->reason != NULL) {
        size_t rlen = strlen(side->reason);

        /* The sentence becomes a clause: no final period. */
        if (rlen > 0 && side->reason[rlen - 1] == '.')
            rlen--;
        say_n(st, side->reason, rlen);
    }
}

/* The answer in one sentence: the verdict, then the sides that decided it
 * (both when allowed, the denying ones when denied). Written as the
 * string value the writer w is at. */
static void
w_verdict_reason(struct api_jw *w, const struct np_snapshot *snap,
                 const struct np_query *q, const struct np_verdict *v)
{
    struct sentence st;

    st.t = api_jw_text_begin(w, &st.start);
    if (v->self) {
        SAY(&st, "allowed: traffic from a pod to itself is always "
                 "allowed, whatever the policies");
    } else {
        if (v->allowed)
            SAY(&st, "allowed: ");
        else
            SAY(&st, "denied: ");
        if (v->allowed || !v->egress.allowed)
            say_side(&st, snap, q, &v->egress);
        if (!v->allowed && !v->egress.allowed && !v->ingress.allowed)
            SAY(&st, "; and ");
        else if (v->allowed)
            SAY(&st, "; ");
        if (v->allowed || !v->ingress.allowed)
            say_side(&st, snap, q, &v->ingress);
    }
    if (snap->texts_plain)
        api_jw_text_end_plain(w);
    else
        api_jw_text_end(w, st.start);
}

/* --- the reachability answer, written as text (jsonw.c): it is the most
 * frequent answer, and writing it directly costs a fraction of building
 * and serializing a tree of values --- */

/* Copies the NUL-terminated s to p; returns the end. */
static char *
cpy(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

/* Copies a string literal to p; evaluates to the end. */
#define CPY_LIT(p, lit)                                                        \
    (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static void
w_ref(struct api_jw *w, const char *ns, const char *name)
{
    size_t start;
    struct np_text *t = api_jw_text_begin(w, &start);

    np_text_puts(t, ns);
    np_text_put(t, "/", 1);
    np_text_puts(t, name);
    api_jw_text_end(w, start);
}

static void
w_ip(struct api_jw *w, const struct np_ip *ip)
{
    char buf[NP_IP_STRLEN];

    np_ip_format(ip, buf, sizeof(buf));
    api_jw_string(w, buf);
}

/* The address an answer gives for a pod endpoint, or NULL. */
static const struct np_ip *
endpoint_ip(const struct np_endpoint *ep)
{
    const struct np_pod *pod = ep->pod;

    if (ep->has_ip)
        return &ep->ip;
    if (pod->host_network && pod->has_host_ip)
        return &pod->host_ip;
    if (!pod->host_network && pod->nips > 0)
        return &pod->ips[0];
    return NULL;
}

/* A pod endpoint of a snapshot whose texts need no escapes, in one copy:
 * {"namespace":"NS","pod":"NAME","ip":"IP","hostNetwork":true}, as
 * w_endpoint() writes it key by key. */
static void
w_pod_endpoint(struct api_jw *w, const struct np_snapshot *snap,
               const struct np_endpoint *ep)
{
    const struct np_pod *pod = ep->pod;
    const struct np_namespace *ns = &snap->namespaces[pod->ns];
    const struct np_ip *ip = endpoint_ip(ep);
    char addr[NP_IP_STRLEN], *p;

    p = api_jw_raw_key_begin(w,
                             ns->name_len + pod->name_len + 64 + NP_IP_STRLEN);
    if (p == NULL)
        return;
    p = CPY_LIT(p, "{\"namespace\":\"");
    memcpy(p, ns->name, ns->name_len);
    p += ns->name_len;
    p = CPY_LIT(p, "\",\"pod\":\"");
    memcpy(p, pod->name, pod->name_len);
    p += pod->name_len;
    *p++ = '"';
    if (ip != NULL) {
        np_ip_format(ip, addr, sizeof(addr));
        p = CPY_LIT(p, ",\"ip\":\"");
        p = cpy(p, addr);
        *p++ = '"';
    }
    if (pod->host_network)
        p = CPY_LIT(p, ",\"hostNetwork\":true");
    *p++ = '}';
    api_jw_raw_value_end(w, p);
}

static void
w_endpoint(struct api_jw *w, const struct np_snapshot *snap,
           const struct np_endpoint *ep)
{
    const struct np_pod *pod = ep->pod;

    if (pod != NULL && pod->workload_kind == NULL &&
        pod->ns < snap->nnamespaces && snap->texts_plain) {
        w_pod_endpoint(w, snap, ep);
        return;
    }
    api_jw_object(w);
    if (pod == NULL) {
        API_JW_KEY(w, "ip");
        w_ip(w, &ep->ip);
        API_JW_KEY(w, "external");
        api_jw_bool(w, true);
    } else if (pod->workload_kind != NULL) {
        API_JW_KEY(w, "namespace");
        api_jw_string(w, ns_name(snap, pod->ns));
        API_JW_KEY(w, "workload");
        w_ref(w, pod->workload_kind, pod->name);
        if (pod->host_network) {
            API_JW_KEY(w, "hostNetwork");
            api_jw_bool(w, true);
        }
    } else {
        API_JW_KEY(w, "namespace");
        if (pod->ns < snap->nnamespaces)
            api_jw_string_n(w, snap->namespaces[pod->ns].name,
                            snap->namespaces[pod->ns].name_len);
        else
            api_jw_string(w, "");
        API_JW_KEY(w, "pod");
        api_jw_string_n(w, pod->name, pod->name_len);
        if (ep->has_ip) {
            API_JW_KEY(w, "ip");
            w_ip(w, &ep->ip);
        } else if (pod->host_network && pod->has_host_ip) {
            API_JW_KEY(w, "ip");
            w_ip(w, &pod->host_ip);
        } else if (!pod->host_network && pod->nips > 0) {
            API_JW_KEY(w, "ip");
            w_ip(w, &pod->ips[0]);
        }
        if (pod->host_network) {
            API_JW_KEY(w, "hostNetwork");
            api_jw_bool(w, true);
        }
    }
    api_jw_end_object(w);
}

/* spec.DIR[rule] and, with field, .FIELD[i] (no quotes) at p; returns the
 * end. dir and field are short names of ours. */
static char *
cpy_path(char *p, enum np_dir dir, uint32_t rule, const char *field, uint32_t i)
{
    if (dir == NP_DIR_INGRESS)
        p = CPY_LIT(p, "spec.ingress[");
    else
        p = CPY_LIT(p, "spec.egress[");
    p = cpy_uint(p, rule);
    *p++ = ']';
    if (field != NULL) {
        *p++ = '.';
        p = cpy(p, field);
        *p++ = '[';
        p = cpy_uint(p, i);
        *p++ = ']';
    }
    return p;
}

/* A string literal appended as it is. */
#define RAW(w, lit) api_jw_raw_more((w), "" lit, sizeof(lit) - 1)

/* "ns/name" of a pod or a policy written raw (after lead, unless 0):
 * escaped unless the snapshot's texts need none. */
static void
raw_ref(struct api_jw *w, const struct np_snapshot *snap, uint32_t ns,
        const char *name, uint32_t name_len, char lead)
{
    size_t ns_len = ns < snap->nnamespaces ? snap->namespaces[ns].name_len : 0;
    char *p = api_jw_raw_begin(w, 4 + ns_len + name_len);
    size_t start;

    if (p == NULL)
        return;
    if (lead != '\0')
        *p++ = lead;
    *p++ = '"';
    start = (size_t)(p - w->t.p);
    if (ns_len > 0) {
        memcpy(p, snap->namespaces[ns].name, ns_len);
        p += ns_len;
    }
    *p++ = '/';
    memcpy(p, name, name_len);
    p += name_len;
    api_jw_raw_value_end(w, p);
    if (!snap->texts_plain)
        api_jw_text_escape(w, start);
    RAW(w, "\"");
}

/* {"policy":"ns/name of a trace item or of allowedBy, after a comma
 * unless first. */
static void
raw_policy_open(struct api_jw *w, const struct np_snapshot *snap,
                const struct np_policy *pol, bool first)
{
    if (first)
        RAW(w, "{\"policy\":");
    else
        RAW(w, ",{\"policy\":");
    raw_ref(w, snap, pol->ns, pol->name, pol->name_len, '\0');
}

/* What np_say_*() writes a reason of. */
enum say_what { SAY_MATCH, SAY_RULE, SAY_POLICY };

/* A result's reason, between quotes the caller writes: its text, or
 * written by np_say_*() straight into the answer (np_eval_trace_lazy()),
 * escaped afterwards should it need it. */
static void
raw_reason(struct api_jw *w, struct np_say_ctx *c, const char *reason,
           enum say_what what, const void *result)
{
    size_t start = w->t.len;

    if (reason != NULL) {
        np_text_put(&w->t, reason, strlen(reason));
        api_jw_text_escape(w, start);
        return;
    }
    if (what == SAY_MATCH)
        np_say_match(c, result, &w->t);
    else if (what == SAY_RULE)
        np_say_rule(c, result, &w->t);
    else
        np_say_policy(c, result, &w->t);
    if (!c->snap->texts_plain)
        api_jw_text_escape(w, start);
}

static char *
cpy_bool(char *p, bool b)
{
    return b ? CPY_LIT(p, "true") : CPY_LIT(p, "false");
}

/* spec.DIR[rule] and, with field, .FIELD[i], where field is "from", "to"
 * or "ports" (peers_field()), at p; returns the end. */
static char *
cpy_item_path(char *p, enum np_dir dir, uint32_t rule, const char *field,
              uint32_t i)
{
    if (dir == NP_DIR_INGRESS)
        p = CPY_LIT(p, "spec.ingress[");
    else
        p = CPY_LIT(p, "spec.egress[");
    p = cpy_uint(p, rule);
    if (field[0] == 'f')
        p = CPY_LIT(p, "].from[");
    else if (field[0] == 't')
        p = CPY_LIT(p, "].to[");
    else
        p = CPY_LIT(p, "].ports[");
    p = cpy_uint(p, i);
    *p++ = ']';
    return p;
}

/* The items of a rule's peers or ports, "[...]" included, written raw:
 * every byte but the reasons is ours. */
static void
raw_match_results(struct api_jw *w, struct np_say_ctx *c,
                  const struct np_match_result *m, uint32_t n, enum np_dir dir,
                  uint32_t rule, const char *field)
{
    uint32_t i;
    char *p;

    for (i = 0; i < n; i++) {
        /* ,{"index":I,"path":"spec.ingress[R].ports[I]","matched":false,
         * "reason":" is at most 110 bytes. */
        p = api_jw_raw_begin(w, 128);
        if (p == NULL)
            return;
        *p++ = i == 0 ? '[' : ',';
        p = CPY_LIT(p, "{\"index\":");
        p = cpy_uint(p, i);
        p = CPY_LIT(p, ",\"path\":\"");
        p = cpy_item_path(p, dir, rule, field, i);
        p = CPY_LIT(p, "\",\"matched\":");
        p = cpy_bool(p, m[i].matched);
        p = CPY_LIT(p, ",\"reason\":\"");
        api_jw_raw_value_end(w, p);
        raw_reason(w, c, m[i].reason, SAY_MATCH, &m[i]);
        RAW(w, "\"}");
    }
    if (n == 0)
        RAW(w, "[]");
    else
        RAW(w, "]");
}

/* A rule's result, written raw; first: the first rule of its policy. */
static void
raw_rule_result(struct api_jw *w, struct np_say_ctx *c,
                const struct np_rule_result *r, enum np_dir dir, bool first)
{
    char *p = api_jw_raw_begin(w, 160);

    if (p == NULL)
        return;
    if (!first)
        *p++ = ',';
    p = CPY_LIT(p, "{\"index\":");
    p = cpy_uint(p, r->index);
    p = CPY_LIT(p, ",\"path\":\"");
    p = cpy_path(p, dir, r->index, NULL, 0);
    p = CPY_LIT(p, "\",\"matched\":");
    p = cpy_bool(p, r->matched);
    p = CPY_LIT(p, ",\"peerMatched\":");
    p = cpy_bool(p, r->peer_ok);
    p = CPY_LIT(p, ",\"portMatched\":");
    p = cpy_bool(p, r->port_ok);
    p = CPY_LIT(p, ",\"reason\":\"");
    api_jw_raw_value_end(w, p);
    raw_reason(w, c, r->reason, SAY_RULE, r);
    RAW(w, "\",\"peers\":");
    raw_match_results(w, c, r->peers, r->npeers, dir, r->index,
                      peers_field(dir));
    RAW(w, ",\"ports\":");
    raw_match_results(w, c, r->ports, r->nports, dir, r->index, "ports");
    RAW(w, "}");
}

/* A policy's trace item up to its reason's text, written raw:
 * {"policy":"ns/name","allowed":B,"reason":" (after a comma unless
 * first). */
static void
raw_policy_head(struct api_jw *w, const struct np_snapshot *snap,
                const struct np_policy_result *pr, bool first)
{
    char *p;

    raw_policy_open(w, snap, pr->policy, first);
    p = api_jw_raw_begin(w, 32);
    if (p == NULL)
        return;
    p = CPY_LIT(p, ",\"allowed\":");
    p = cpy_bool(p, pr->allowed);
    p = CPY_LIT(p, ",\"reason\":\"");
    api_jw_raw_value_end(w, p);
}

/* ,"trace":[...] of a side, written raw, in place. */
static void
raw_trace(struct api_jw *w, const struct np_snapshot *snap,
          struct np_say_ctx *c, const struct np_side *side)
{
    uint32_t i, j;

    RAW(w, ",\"trace\":[");
    for (i = 0; i < side->npolicies; i++) {
        const struct np_policy_result *pr = &side->policies[i];

        raw_policy_head(w, snap, pr, i == 0);
        raw_reason(w, c, pr->reason, SAY_POLICY, pr);
        RAW(w, "\",\"rules\":[");
        for (j = 0; j < pr->nrules; j++)
            raw_rule_result(w, c, &pr->rules[j], side->dir, j == 0);
        RAW(w, "]}");
    }
    RAW(w, "]");
}

/* One of allowedBy, written raw (after a comma unless first). */
static void
raw_rule_ref(struct api_jw *w, const struct np_snapshot *snap,
             const struct np_side *side, const struct np_rule_ref *r,
             bool first)
{
    const struct np_policy *pol = side->policies[r->policy].policy;
    enum np_dir dir = side->dir;
    char *p;

    raw_policy_open(w, snap, pol, first);
    /* The rest, with numbers of ten digits, is under 240 bytes. */
    p = api_jw_raw_begin(w, 240);
    if (p == NULL)
        return;
    p = CPY_LIT(p, ",\"rule\":");
    p = cpy_uint(p, r->rule);
    p = CPY_LIT(p, ",\"rulePath\":\"");
    p = cpy_path(p, dir, r->rule, NULL, 0);
    p = CPY_LIT(p, "\",\"peer\":");
    if (r->peer >= 0) {
        p = cpy_uint(p, (uint32_t)r->peer);
        p = CPY_LIT(p, ",\"peerPath\":\"");
        p = cpy_path(p, dir, r->rule, peers_field(dir), (uint32_t)r->peer);
        *p++ = '"';
    } else {
        p = CPY_LIT(p, "null,\"peerPath\":null");
    }
    p = CPY_LIT(p, ",\"port\":");
    if (r->port >= 0) {
        p = cpy_uint(p, (uint32_t)r->port);
        p = CPY_LIT(p, ",\"portPath\":\"");
        p = cpy_path(p, dir, r->rule, "ports", (uint32_t)r->port);
        *p++ = '"';
    } else {
        p = CPY_LIT(p, "null,\"portPath\":null");
    }
    *p++ = '}';
    api_jw_raw_value_end(w, p);
}

/* One side of an answer (egress or ingress), written raw as the value of
 * the key before it. */
static void
w_side(struct api_jw *w, const struct np_snapshot *snap, struct np_say_ctx *c,
       const struct np_side *side, const struct np_pod *pod)
{
    const char *why = np_side_why_name(side->why);
    uint32_t i;
    size_t start;
    bool first = true;
    char *h;

    /* {"allowed":B,"isolated":B,"decision":"D","pod": in one copy (the
     * names of decisions are ours). */
    h = api_jw_raw_key_begin(w, 112);
    if (h == NULL)
        return;
    h = CPY_LIT(h, "{\"allowed\":");
    h = cpy_bool(h, side->allowed);
    h = CPY_LIT(h, ",\"isolated\":");
    h = cpy_bool(h, side->isolated);
    h = CPY_LIT(h, ",\"decision\":\"");
    h = cpy(h, why);
    h = CPY_LIT(h, "\",\"pod\":");
    api_jw_raw_value_end(w, h);
    if (pod != NULL && pod->workload_kind != NULL) {
        RAW(w, "null,\"workload\":\"");
        start = w->t.len;
        np_text_puts(&w->t, ns_name(snap, pod->ns));
        RAW(w, "/");
        np_text_puts(&w->t, pod->workload_kind);
        RAW(w, "/");
        np_text_puts(&w->t, pod->name);
        api_jw_text_escape(w, start);
        RAW(w, "\"");
    } else if (pod != NULL) {
        raw_ref(w, snap, pod->ns, pod->name, pod->name_len, '\0');
    } else {
        RAW(w, "null");
    }
    RAW(w, ",\"policies\":[");
    for (i = 0; pod != NULL && i < pod->npolicies[side->dir]; i++) {
        const struct np_policy *pol =
            &snap->policies[pod->policies[side->dir][i]];

        raw_ref(w, snap, pol->ns, pol->name, pol->name_len, i > 0 ? ',' : '\0');
    }
    RAW(w, "],\"reason\":\"");
    start = w->t.len;
    if (side->reason != NULL)
        np_text_puts(&w->t, side->reason);
    if (!snap->texts_plain)
        api_jw_text_escape(w, start);
    RAW(w, "\",\"allowedBy\":[");
    for (i = 0; i < side->nallowed_by; i++) {
        if (side->allowed_by[i].policy < side->npolicies) {
            raw_rule_ref(w, snap, side, &side->allowed_by[i], first);
            first = false;
        }
    }
    RAW(w, "]");
    /* The trace is the bulk of an answer. */
    raw_trace(w, snap, c, side);
    RAW(w, "}");
}

void
api_verdict_write(struct api_jw *w, const struct np_snapshot *snap,
                  const struct api_query *aq, const struct np_verdict *v,
                  struct np_say_ctx *say)
{
    struct np_say_ctx own;
    struct np_say_ctx *c = say;
    char *p;

    if (c == NULL) {
        np_say_init(&own, snap, &aq->q);
        c = &own;
    }
    /* "allowed":B,"revision":N,"from": in one copy. */
    api_jw_object(w);
    p = api_jw_raw_key_begin(w, 64);
    if (p == NULL)
        return;
    p = CPY_LIT(p, "\"allowed\":");
    p = cpy_bool(p, v->allowed);
    p = CPY_LIT(p, ",\"revision\":");
    p = cpy_uint(p, snap->revision);
    p = CPY_LIT(p, ",\"from\":");
    api_jw_raw_key_end(w, p);
    w_endpoint(w, snap, &aq->q.from);
    API_JW_KEY(w, "to");
    w_endpoint(w, snap, &aq->q.to);
    API_JW_KEY(w, "port");
    api_jw_int(w, aq->q.port);
    API_JW_KEY(w, "protocol");
    api_jw_string(w, np_proto_name(aq->q.proto));
    if (aq->port_name[0] != '\0') {
        API_JW_KEY(w, "portName");
        api_jw_string(w, aq->port_name);
    }
    API_JW_KEY(w, "self");
    api_jw_bool(w, v->self);
    API_JW_KEY(w, "reason");
    w_verdict_reason(w, snap, &aq->q, v);
    API_JW_KEY(w, "egress");
    w_side(w, snap, c, &v->egress, aq->q.from.pod);
    API_JW_KEY(w, "ingress");
    w_side(w, snap, c, &v->ingress, aq->q.to.pod);
    api_jw_end_object(w);
}

static json_t *
isolation_side(const struct np_snapshot *snap, const struct np_pod *pod,
               const struct np_isolation *iso, enum np_dir dir)
{
    const char *type = np_dir_type_name(dir);
    uint32_t n = iso->npolicies[dir];
    json_t *o = json_object();
    bool ok = true;

    put(o, "isolated", json_boolean(iso->isolated[dir]), &ok);
    put(o, "policies", policy_refs(snap, iso->policies[dir], n), &ok);
    if (pod->host_network)
        put(o, "reason",
            json_string("hostNetwork pod: no NetworkPolicy selects it, so it "
                        "is never isolated"),
            &ok);
    else if (n > 0)
        put(o, "reason",
            json_sprintf("selected by %u %s with policyType %s", (unsigned)n,
                         n == 1 ? "policy" : "policies", type),
            &ok);
    else if (pod->nselected_by > 0)
        put(o, "reason",
            json_sprintf("not isolated: %u %s %s it, but none has policyType "
                         "%s",
                         (unsigned)pod->nselected_by,
                         pod->nselected_by == 1 ? "policy" : "policies",
                         pod->nselected_by == 1 ? "selects" : "select", type),
            &ok);
    else
        put(o, "reason",
            json_sprintf("not isolated: no policy with policyType %s "
                         "selects it",
                         type),
            &ok);
    return finish(o, ok);
}

json_t *
api_isolation_encode(const struct np_snapshot *snap, const struct np_pod *pod)
{
    struct np_isolation iso;
    json_t *o = json_object();
    bool ok = true;

    np_pod_isolation(snap, pod, &iso);
    if (pod->workload_kind != NULL)
        put(o, "workload",
            json_pack("{s:s,s:s,s:s}", "namespace", ns_name(snap, pod->ns),
                      "kind", pod->workload_kind, "name", pod->name),
            &ok);
    else
        put(o, "pod",
            json_pack("{s:s,s:s}", "namespace", ns_name(snap, pod->ns), "name",
                      pod->name),
            &ok);
    put(o, "revision", json_integer((json_int_t)snap->revision), &ok);
    put(o, "ingress", isolation_side(snap, pod, &iso, NP_DIR_INGRESS), &ok);
    put(o, "egress", isolation_side(snap, pod, &iso, NP_DIR_EGRESS), &ok);
    put(o, "hostNetwork", json_boolean(pod->host_network), &ok);
    put(o, "selectedBy", policy_refs(snap, pod->selected_by, pod->nselected_by),
        &ok);
    return finish(o, ok);
}

json_t *
api_namespace_encode(const struct np_snapshot *snap,
                     const struct np_namespace *ns)
{
    json_t *o = json_object();
    bool ok = true;

    put(o, "name", json_string(ns->name), &ok);
    put(o, "labels", api_labels_encode(snap, &ns->labels), &ok);
    put(o, "implicit", json_boolean(ns->implicit), &ok);
    put(o, "pods", json_integer(ns->npods), &ok);
    put(o, "networkPolicies", json_integer(ns->npolicies), &ok);
    put(o, "workloads", json_integer(ns->nworkloads), &ok);
    return finish(o, ok);
}

static json_t *
container_ports(const struct np_snapshot *snap, const struct np_pod *pod)
{
    json_t *a = json_array();
    bool ok = true;
    uint32_t i;

    for (i = 0; i < pod->nports; i++) {
        const struct np_container_port *cp = &pod->ports[i];
        json_t *o = json_object();
        bool ook = true;

        if (cp->name != NP_SYM_NONE)
            put(o, "name", json_string(np_snapshot_str(snap, cp->name)), &ook);
        put(o, "port", json_integer(cp->port), &ook);
        put(o, "protocol", json_string(np_proto_name(cp->proto)), &ook);
        push(a, finish(o, ook), &ok);
    }
    return finish(a, ok);
}

static json_t *
owners(const struct np_model_pod *m)
{
    json_t *a = json_array();
    bool ok = true;
    size_t i;

    for (i = 0; i < m->nowners; i++) {
        json_t *o = json_object();
        bool ook = true;

        put(o, "kind", api_json_text(m->owners[i].kind), &ook);
        put(o, "name", api_json_text(m->owners[i].name), &ook);
        push(a, finish(o, ook), &ok);
    }
    return finish(a, ok);
}

json_t *
api_pod_encode(const struct np_snapshot *snap, const struct np_pod *pod)
{
    json_t *o = json_object();
    json_t *ips = json_array();
    bool ok = true;
    uint32_t i;

    put(o, "namespace", json_string(ns_name(snap, pod->ns)), &ok);
    put(o, "name", json_string(pod->name), &ok);
    put(o, "labels", api_labels_encode(snap, &pod->labels), &ok);
    for (i = 0; i < pod->nips; i++)
        push(ips, ip_text(&pod->ips[i]), &ok);
    put(o, "ips", ips, &ok);
    put(o, "hostNetwork", json_boolean(pod->host_network), &ok);
    if (pod->has_host_ip)
        put(o, "hostIP", ip_text(&pod->host_ip), &ok);
    put(o, "phase", api_json_text(pod->phase), &ok);
    put(o, "ports", container_ports(snap, pod), &ok);
    put(o, "ingressPolicies",
        policy_refs(snap, pod->policies[NP_DIR_INGRESS],
                    pod->npolicies[NP_DIR_INGRESS]),
        &ok);
    put(o, "egressPolicies",
        policy_refs(snap, pod->policies[NP_DIR_EGRESS],
                    pod->npolicies[NP_DIR_EGRESS]),
        &ok);
    if (pod->model != NULL && pod->model->nowners > 0)
        put(o, "owners", owners(pod->model), &ok);
    /* The uploaded workload its ownerReferences lead to (through a
     * ReplicaSet to its Deployment, through a Job to its CronJob). */
    if (pod->workload != NULL)
        put(o, "workload",
            json_pack("{s:s,s:s}", "kind", pod->workload->workload_kind, "name",
                      pod->workload->name),
            &ok);
    return finish(o, ok);
}

/* The uploaded object, or a minimal one when the snapshot kept no source. */
static json_t *
policy_source(const struct np_snapshot *snap, const struct np_policy *pol)
{
    json_t *doc = NULL;
    json_t *meta;

    if (pol->model != NULL && pol->model->source != NULL)
        doc = json_loads(pol->model->source, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        doc = json_pack("{s:s,s:s,s:{}}", "apiVersion", "networking.k8s.io/v1",
                        "kind", "NetworkPolicy", "metadata");
        if (doc == NULL)
            return NULL;
    }
    meta = json_object_get(doc, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        if (json_object_set_new(doc, "metadata", meta) != 0)
            goto fail;
    }
    /* A manifest may leave the namespace out ("default", or the one the
     * upload put it in); the answer names where the policy lives. */
    if (json_object_set_new(meta, "name", json_string(pol->name)) != 0 ||
        json_object_set_new(meta, "namespace",
                            json_string(ns_name(snap, pol->ns))) != 0)
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

json_t *
api_policy_encode(const struct np_snapshot *snap, const struct np_policy *pol)
{
    json_t *o = policy_source(snap, pol);
    json_t *types = json_array();
    bool ok = o != NULL;
    int d;

    for (d = 0; d < NP_DIR__MAX; d++)
        if (pol->affects[d])
            push(types, json_string(np_dir_type_name((enum np_dir)d)), &ok);
    put(o, "selectedPods", pod_refs(snap, pol->selected, pol->nselected), &ok);
    put(o, "selectedWorkloads",
        workload_refs(snap, pol->selected_workloads, pol->nselected_workloads),
        &ok);
    put(o, "policyTypes", types, &ok);
    put(o, "policyTypesDefaulted", json_boolean(pol->types_defaulted), &ok);
    put(o, "ingressRules", json_integer(pol->nrules[NP_DIR_INGRESS]), &ok);
    put(o, "egressRules", json_integer(pol->nrules[NP_DIR_EGRESS]), &ok);
    return finish(o, ok);
}

json_t *
api_workload_encode(const struct np_snapshot *snap, const struct np_pod *wl)
{
    const struct np_workload *info = np_workload_info(snap, wl);
    json_t *o = json_object();
    bool ok = info != NULL;

    put(o, "namespace", json_string(ns_name(snap, wl->ns)), &ok);
    put(o, "kind", json_string(wl->workload_kind), &ok);
    put(o, "name", json_string(wl->name), &ok);
    put(o, "labels", api_labels_encode(snap, &wl->labels), &ok);
    put(o, "hostNetwork", json_boolean(wl->host_network), &ok);
    put(o, "ports", container_ports(snap, wl), &ok);
    put(o, "ingressPolicies",
        policy_refs(snap, wl->policies[NP_DIR_INGRESS],
                    wl->npolicies[NP_DIR_INGRESS]),
        &ok);
    put(o, "egressPolicies",
        policy_refs(snap, wl->policies[NP_DIR_EGRESS],
                    wl->npolicies[NP_DIR_EGRESS]),
        &ok);
    if (info != NULL && info->owner != NULL)
        put(o, "owner",
            json_pack("{s:s,s:s}", "kind", info->owner->workload_kind, "name",
                      info->owner->name),
            &ok);
    put(o, "pods",
        info != NULL ? pod_refs(snap, info->pods, info->npods) : NULL, &ok);
    return finish(o, ok);
}

char *
api_pod_manifest_text(const struct np_model_pod *m, size_t *len)
{
    struct api_jw w;
    size_t i;

    api_jw_init(&w);
    api_jw_object(&w);
    API_JW_KEY(&w, "apiVersion");
    api_jw_string(&w, "v1");
    API_JW_KEY(&w, "kind");
    api_jw_string(&w, "Pod");
    API_JW_KEY(&w, "metadata");
    api_jw_object(&w);
    API_JW_KEY(&w, "name");
    api_jw_string(&w, m->name);
    if (m->namespace_ != NULL) {
        API_JW_KEY(&w, "namespace");
        api_jw_string(&w, m->namespace_);
    }
    if (m->nlabels > 0) {
        API_JW_KEY(&w, "labels");
        api_jw_object(&w);
        for (i = 0; i < m->nlabels; i++) {
            api_jw_key(&w, m->labels[i].key);
            api_jw_string(&w, m->labels[i].value);
        }
        api_jw_end_object(&w);
    }
    if (m->nowners > 0) {
        API_JW_KEY(&w, "ownerReferences");
        api_jw_array(&w);
        for (i = 0; i < m->nowners; i++) {
            api_jw_object(&w);
            API_JW_KEY(&w, "kind");
            api_jw_string(&w, m->owners[i].kind);
            API_JW_KEY(&w, "name");
            api_jw_string(&w, m->owners[i].name);
            api_jw_end_object(&w);
        }
        api_jw_end_array(&w);
    }
    api_jw_end_object(&w);
    API_JW_KEY(&w, "spec");
    api_jw_object(&w);
    if (m->host_network) {
        API_JW_KEY(&w, "hostNetwork");
        api_jw_bool(&w, true);
    }
    /* The ports of all containers, flattened in the model, go into one. */
    API_JW_KEY(&w, "containers");
    api_jw_array(&w);
    api_jw_object(&w);
    API_JW_KEY(&w, "name");
    api_jw_string(&w, "c");
    API_JW_KEY(&w, "ports");
    api_jw_array(&w);
    for (i = 0; i < m->nports; i++) {
        api_jw_object(&w);
        API_JW_KEY(&w, "containerPort");
        api_jw_int(&w, (long long)m->ports[i].port);
        if (m->ports[i].name != NULL) {
            API_JW_KEY(&w, "name");
            api_jw_string(&w, m->ports[i].name);
        }
        if (m->ports[i].protocol != NULL) {
            API_JW_KEY(&w, "protocol");
            api_jw_string(&w, m->ports[i].protocol);
        }
        api_jw_end_object(&w);
    }
    api_jw_end_array(&w);
    api_jw_end_object(&w);
    api_jw_end_array(&w);
    api_jw_end_object(&w);
    API_JW_KEY(&w, "status");
    api_jw_object(&w);
    if (m->phase != NULL) {
        API_JW_KEY(&w, "phase");
        api_jw_string(&w, m->phase);
    }
    if (m->host_ip != NULL) {
        API_JW_KEY(&w, "hostIP");
        api_jw_string(&w, m->host_ip);
    }
    if (m->nips > 0) {
        API_JW_KEY(&w, "podIPs");
        api_jw_array(&w);
        for (i = 0; i < m->nips; i++) {
            api_jw_object(&w);
            API_JW_KEY(&w, "ip");
            api_jw_string(&w, m->ips[i]);
            api_jw_end_object(&w);
        }
        api_jw_end_array(&w);
    }
    api_jw_end_object(&w);
    api_jw_end_object(&w);
    return api_jw_finish(&w, len);
}
