/*
 * The fast path of POST /reachability/batch (and of a single query's body).
 *
 * A batch of a hundred thousand queries is mostly JSON: decoding it into
 * jansson values and encoding a hundred thousand small answer objects costs
 * far more than the verdicts. This file reads the common shape of such a
 * body in one pass without building values. With "trace": false it
 * evaluates with np_eval_allowed() and writes the answer text directly;
 * with traces, each result is written by reach.c's api_reach_answer(), as
 * the general path writes it.
 *
 * It only ever answers when the answer is certain to be the one the general
 * path (reach.c) would give, byte for byte: any escape, unknown field,
 * duplicate key, number that is not plain digits, unknown pod, bad port or
 * anything else unusual makes it step aside, and reach.c answers from
 * jansson values with its exact errors.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <strings.h>

#include "api/internal.h"
#include "core/eval.h"

struct span {
    const char *p;
    size_t len; /* p == NULL: absent or null */
};

enum { EP_NAMESPACE, EP_POD, EP_IP, EP__MAX };

struct fast_query {
    struct span ep[2][EP__MAX]; /* from, to */
    bool has_from, has_to;
    struct span port_str;
    bool port_is_num;
    unsigned long long port;
    struct span proto;
};

struct scan {
    const char *p, *end;
};

static void
ws(struct scan *s)
{
    /* Mostly a value or a key follows at once, or after one space. */
    if (s->p < s->end && (unsigned char)*s->p > ' ')
        return;
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool
lit(struct scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A string without escapes, control characters or non-ASCII bytes. */
static bool
str(struct scan *s, struct span *out)
{
    const char *q;

    if (!lit(s, '"'))
        return false;
    q = s->p;
#if defined(__SSE2__)
    /* Sixteen bytes at a time up to the first quote, backslash, control
     * or non-ASCII byte (as signed bytes, the last two are below 0x20). */
    while (s->end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        int m = _mm_movemask_epi8(
            _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));

        if (m != 0) {
            q += __builtin_ctz((unsigned)m);
            break;
        }
        q += 16;
    }
#endif
    for (; q < s->end; q++) {
        unsigned char c = (unsigned char)*q;

        if (c == '"')
            break;
        if (c == '\\' || c < 0x20 || c >= 0x80)
            return false;
    }
    if (q == s->end)
        return false;
    out->p = s->p;
    out->len = (size_t)(q - s->p);
    s->p = q + 1;
    return true;
}

static bool
word(struct scan *s, const char *w)
{
    size_t n = strlen(w);

    ws(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool
span_is_n(const struct span *sp, const char *w, size_t n)
{
    return sp->p != NULL && sp->len == n && memcmp(sp->p, w, n) == 0;
}

/* Whether sp is the literal w; memcmp of a known length is a few loads. */
#define span_is(sp, w) span_is_n((sp), "" w, sizeof(w) - 1)

/* A string or null into out (null leaves it absent). */
static bool
str_or_null(struct scan *s, struct span *out)
{
    if (word(s, "null")) {
        out->p = NULL;
        return true;
    }
    return str(s, out);
}

static bool
endpoint(struct scan *s, struct span ep[EP__MAX])
{
    bool seen[EP__MAX] = { false };
    struct span key;
    int i;

    if (!lit(s, '{'))
        return false;
    if (lit(s, '}'))
        return true;
    do {
        if (!str(s, &key) || !lit(s, ':'))
            return false;
        if (span_is(&key, "namespace"))
            i = EP_NAMESPACE;
        else if (span_is(&key, "pod"))
            i = EP_POD;
        else if (span_is(&key, "ip"))
            i = EP_IP;
        else
            return false;
        if (seen[i] || !str_or_null(s, &ep[i]))
            return false;
        seen[i] = true;
    } while (lit(s, ','));
    return lit(s, '}');
}

/* One query object. With trace non-NULL (a single query's body) a "trace"
 * member is read too: true, false or null (true). */
static bool
query(struct scan *s, struct fast_query *q, bool *trace)
{
    bool seen_port = false, seen_proto = false, seen_trace = false;
    struct span key;

    memset(q, 0, sizeof(*q));
    if (!lit(s, '{'))
        return false;
    if (lit(s, '}'))
        return true;
    do {
        if (!str(s, &key) || !lit(s, ':'))
            return false;
        if (span_is(&key, "from") || span_is(&key, "to")) {
            int k = key.p[0] == 'f' ? 0 : 1;
            bool *has = k == 0 ? &q->has_from : &q->has_to;

            if (*has)
                return false;
            *has = true;
            if (!word(s, "null") && !endpoint(s, q->ep[k]))
                return false;
        } else if (span_is(&key, "port")) {
            if (seen_port)
                return false;
            seen_port = true;
            ws(s);
            if (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
                /* Plain digits only, without the leading zeros JSON
                 * forbids; fractions and exponents step aside. */
                const char *start = s->p;

                while (s->p < s->end && *s->p >= '0' && *s->p <= '9' &&
                       s->p - start < 12)
                    q->port = q->port * 10 + (unsigned)(*s->p++ - '0');
                if ((s->p - start > 1 && *start == '0') ||
                    (s->p < s->end &&
                     (*s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
                      (*s->p >= '0' && *s->p <= '9'))))
                    return false;
                q->port_is_num = true;
            } else if (!str_or_null(s, &q->port_str)) {
                return false;
            }
        } else if (span_is(&key, "protocol")) {
            if (seen_proto || !str_or_null(s, &q->proto))
                return false;
            seen_proto = true;
        } else if (trace != NULL && span_is(&key, "trace")) {
            if (seen_trace)
                return false;
            seen_trace = true;
            if (word(s, "false"))
                *trace = false;
            else if (word(s, "true") || word(s, "null"))
                *trace = true;
            else
                return false;
        } else {
            return false;
        }
    } while (lit(s, ','));
    return lit(s, '}');
}

/* Copies a span into buf as a C string; false when it does not fit. */
static bool
cstr(const struct span *sp, char *buf, size_t len)
{
    if (sp->len >= len)
        return false;
    memcpy(buf, sp->p, sp->len);
    buf[sp->len] = '\0';
    return true;
}

/* Whether ep names a pod, and then the hash its lookup goes by. */
static bool
pod_hash(const struct span ep[EP__MAX], uint32_t *hash)
{
    if (ep[EP_IP].p != NULL || ep[EP_NAMESPACE].p == NULL ||
        ep[EP_POD].p == NULL)
        return false;
    *hash = np_snapshot_pod_hash(ep[EP_NAMESPACE].p, ep[EP_NAMESPACE].len,
                                 ep[EP_POD].p, ep[EP_POD].len);
    return true;
}

/* Resolves one endpoint exactly as endpoint.c does when it succeeds. hash,
 * when not NULL, is pod_hash() of ep. */
static bool
resolve_endpoint(const struct np_snapshot *snap, const struct span ep[EP__MAX],
                 const uint32_t *hash, struct np_endpoint *out)
{
    char a[256], b[256];
    struct np_ip ip;

    memset(out, 0, sizeof(*out));
    if (ep[EP_IP].p != NULL) {
        if (ep[EP_NAMESPACE].p != NULL || ep[EP_POD].p != NULL ||
            !cstr(&ep[EP_IP], a, sizeof(a)) || np_ip_parse(a, &ip, NULL) != 0)
            return false;
        np_endpoint_from_ip(snap, &ip, out);
        return true;
    }
    if (ep[EP_NAMESPACE].p == NULL || ep[EP_POD].p == NULL ||
        !cstr(&ep[EP_NAMESPACE], a, sizeof(a)) ||
        !cstr(&ep[EP_POD], b, sizeof(b)))
        return false;
    out->pod = hash != NULL ? np_snapshot_find_pod_hashed(snap, a, b, *hash)
                            : np_snapshot_find_pod(snap, a, b);
    return out->pod != NULL;
}

/* Resolves a scanned query as endpoint.c's api_query_decode() does when it
 * succeeds. aq may be NULL; when given, it receives the whole decoded query
 * (the port name and whether the protocol was given, for the answer).
 * hashes, when not NULL, are pod_hash() of the two endpoints (NULL each
 * when the endpoint is not a pod by name). */
static bool
resolve(const struct np_snapshot *snap, const struct fast_query *fq,
        const uint32_t *const hashes[2], struct np_query *q,
        struct api_query *aq)
{
    bool proto_given = false;
    char buf[32];
    uint32_t n;

    memset(q, 0, sizeof(*q));
    q->proto = NP_PROTO_TCP;
    if (fq->proto.p != NULL) {
        if (!cstr(&fq->proto, buf, sizeof(buf)) ||
            np_proto_parse(buf, &q->proto, NULL) != 0)
            return false;
        proto_given = true;
    }
    if (!fq->has_from || !fq->has_to ||
        !resolve_endpoint(snap, fq->ep[0], hashes != NULL ? hashes[0] : NULL,
                          &q->from) ||
        !resolve_endpoint(snap, fq->ep[1], hashes != NULL ? hashes[1] : NULL,
                          &q->to))
        return false;
    if (fq->port_is_num) {
        if (fq->port < 1 || fq->port > 65535)
            return false;
        q->port = (uint16_t)fq->port;
        return true;
    }
    if (fq->port_str.p == NULL || !cstr(&fq->port_str, buf, sizeof(buf)))
        return false;
    if (buf[0] >= '0' && buf[0] <= '9') {
        if (np_parse_u32(buf, 1, 65535, &n) != 0)
            return false;
        q->port = (uint16_t)n;
        return true;
    }
    if (!np_port_name_is_valid(buf) || q->to.pod == NULL ||
        np_pod_resolve_port(snap, q->to.pod, buf, proto_given, &q->proto,
                            &q->port, NULL) != 0)
        return false;
    if (aq != NULL) {
        /* A valid port name has at most 15 characters. */
        if (strlen(buf) >= sizeof(aq->port_name))
            return false;
        memcpy(aq->port_name, buf, strlen(buf) + 1);
    }
    return true;
}

static bool
content_type_is_plain_json(const char *ct)
{
    return ct == NULL || strcasecmp(ct, "application/json") == 0 ||
           strcasecmp(ct, "application/json; charset=utf-8") == 0 ||
           strcasecmp(ct, "application/json;charset=utf-8") == 0;
}

struct out_buf {
    char *p;
    size_t len, cap;
};

static bool
out_reserve(struct out_buf *o, size_t more)
{
    char *np;
    size_t ncap;

    if (o->len + more < o->cap)
        return true;
    ncap = o->cap == 0 ? 4096 : o->cap;
    while (ncap <= o->len + more)
        ncap *= 2;
    np = realloc(o->p, ncap);
    if (np == NULL)
        return false;
    o->p = np;
    o->cap = ncap;
    return true;
}

/* How many queries ahead a batch asks for the memory of its pod lookups:
 * the slots AHEAD * 2 queries ahead, the pods and names AHEAD queries
 * ahead. Finding a pod is three waits for memory (slot, name, pod) that
 * nothing else overlaps; a batch knows its next queries, so it overlaps
 * them. RING holds the hashes of the queries in flight. */
#define AHEAD 8
#define RING  32

struct ahead {
    uint32_t hash[RING][2];
    bool is_pod[RING][2];
};

static void
ahead_start(const struct np_snapshot *snap, const struct fast_query *fq,
            struct ahead *r, size_t i)
{
    int e;

    for (e = 0; e < 2; e++) {
        r->is_pod[i % RING][e] = pod_hash(fq->ep[e], &r->hash[i % RING][e]);
        if (r->is_pod[i % RING][e])
            np_snapshot_prefetch_pod(snap, r->hash[i % RING][e], 0);
    }
}

static void
ahead_next(const struct np_snapshot *snap, const struct ahead *r, size_t i)
{
    int e;

    for (e = 0; e < 2; e++)
        if (r->is_pod[i % RING][e])
            np_snapshot_prefetch_pod(snap, r->hash[i % RING][e], 1);
}

/* Resolves and evaluates queries [from, to) into verdicts (1 allowed, 0
 * denied). Returns false when a query does not resolve. */
static bool
evaluate_range(const struct api_ctx *ctx, const struct np_snapshot *snap,
               const struct fast_query *qs, size_t from, size_t to,
               unsigned char *verdicts)
{
    struct ahead r;
    size_t i;

    for (i = from; i < to && i < from + 2 * AHEAD; i++)
        ahead_start(snap, &qs[i], &r, i);
    for (i = from; i < to && i < from + AHEAD; i++)
        ahead_next(snap, &r, i);
    for (i = from; i < to; i++) {
        const uint32_t *hashes[2];
        struct np_query q;
        int e;

        if (i + 2 * AHEAD < to)
            ahead_start(snap, &qs[i + 2 * AHEAD], &r, i + 2 * AHEAD);
        if (i + AHEAD < to)
            ahead_next(snap, &r, i + AHEAD);
        for (e = 0; e < 2; e++)
            hashes[e] = r.is_pod[i % RING][e] ? &r.hash[i % RING][e] : NULL;
        if (!resolve(snap, &qs[i], hashes, &q, NULL))
            return false;
        verdicts[i] = np_eval_allowed(snap, &ctx->opts, &q) ? 1 : 0;
    }
    return true;
}

struct eval_job {
    const struct api_ctx *ctx;
    const struct np_snapshot *snap;
    const struct fast_query *qs;
    size_t from, to;
    unsigned char *verdicts;
    bool ok;
};

static void *
eval_job_main(void *arg)
{
    struct eval_job *j = arg;

    j->ok = evaluate_range(j->ctx, j->snap, j->qs, j->from, j->to, j->verdicts);
    return NULL;
}

/* Large batches are evaluated by two threads, each on half of the queries:
 * the snapshot is immutable and np_eval_allowed() allocates nothing, so the
 * halves share it freely. */
#define BATCH_SPLIT_MIN 8192

static bool
evaluate(const struct api_ctx *ctx, const struct np_snapshot *snap,
         const struct fast_query *qs, size_t n, unsigned char *verdicts)
{
    struct eval_job job = { .ctx = ctx,
                            .snap = snap,
                            .qs = qs,
                            .from = n / 2,
                            .to = n,
                            .verdicts = verdicts };
    pthread_t thread;
    bool ok;

    if (n < BATCH_SPLIT_MIN ||
        pthread_create(&thread, NULL, eval_job_main, &job) != 0)
        return evaluate_range(ctx, snap, qs, 0, n, verdicts);
    ok = evaluate_range(ctx, snap, qs, 0, n / 2, verdicts);
    pthread_join(thread, NULL);
    return ok && job.ok;
}

/* The answer of a batch with traces, written as reach.c writes it: each
 * result by api_reach_answer(). Returns 0, or -1 when some query does not
 * resolve (reach.c then answers it with its error in its place) or memory
 * runs out. */
static int
traced(struct api_ctx *ctx, const struct np_snapshot *snap,
       const struct fast_query *qs, size_t nqs, struct api_response *resp)
{
    uint64_t tally[2] = { 0, 0 };
    struct np_error err;
    struct api_jw w;
    size_t i;

    np_error_init(&err);
    api_jw_init(&w);
    api_batch_answer_open(&w, snap);
    for (i = 0; i < nqs; i++) {
        struct api_query aq;

        memset(&aq, 0, sizeof(aq));
        if (!resolve(snap, &qs[i], NULL, &aq.q, &aq)) {
            api_jw_fini(&w);
            return -1;
        }
        aq.proto_given = qs[i].proto.p != NULL;
        if (api_reach_answer(ctx, snap, &aq, true, tally, &w, &err) != 0) {
            api_jw_fini(&w);
            return -1;
        }
    }
    return api_batch_answer_close(ctx, &w, tally, nqs, resp);
}

int
api_batch_fast(struct api_ctx *ctx, const struct api_request *req,
               struct api_response *resp)
{
    /* An empty body is NULL; NULL + 0 is undefined behaviour in C. */
    struct scan s = { .p = req->body,
                      .end = req->body != NULL ? req->body + req->body_len
                                               : NULL };
    struct fast_query *qs = NULL, *nq;
    size_t nqs = 0, capqs = 0, i, nallowed = 0;
    bool seen_queries = false, seen_trace = false, trace = true;
    struct np_snapshot *snap = NULL;
    unsigned char *verdicts = NULL;
    struct out_buf o = { 0 };
    struct span key;
    char head[32], res[2][64];
    size_t rlen[2];
    int hlen, rc = -1;

    if (req->body == NULL || !content_type_is_plain_json(req->content_type) ||
        !lit(&s, '{'))
        return -1;
    if (lit(&s, '}'))
        return -1;
    do {
        if (!str(&s, &key) || !lit(&s, ':'))
            goto out;
        if (span_is(&key, "trace")) {
            if (seen_trace)
                goto out;
            seen_trace = true;
            if (word(&s, "false"))
                trace = false;
            else if (!word(&s, "true") && !word(&s, "null"))
                goto out;
        } else if (span_is(&key, "queries")) {
            if (seen_queries || !lit(&s, '['))
                goto out;
            seen_queries = true;
            if (lit(&s, ']'))
                continue;
            do {
                if (nqs == capqs) {
                    capqs = capqs == 0 ? 1024 : capqs * 2;
                    nq = realloc(qs, capqs * sizeof(*qs));
                    if (nq == NULL)
                        goto out;
                    qs = nq;
                }
                if (!query(&s, &qs[nqs], NULL))
                    goto out;
                nqs++;
            } while (lit(&s, ','));
            if (!lit(&s, ']'))
                goto out;
        } else {
            goto out;
        }
    } while (lit(&s, ','));
    if (!lit(&s, '}'))
        goto out;
    ws(&s);
    if (s.p != s.end || !seen_queries ||
        (ctx->cfg.limits.max_batch > 0 && nqs > ctx->cfg.limits.max_batch))
        goto out;

    snap = np_state_acquire(&ctx->state);
    if (trace) {
        rc = traced(ctx, snap, qs, nqs, resp);
        goto out;
    }
    /* Every result is one of two strings. */
    hlen = snprintf(head, sizeof(head), "%llu",
                    (unsigned long long)snap->revision);
    rlen[1] = (size_t)snprintf(res[1], sizeof(res[1]),
                               ",{\"allowed\":true,\"revision\":%s}", head);
    rlen[0] = (size_t)snprintf(res[0], sizeof(res[0]),
                               ",{\"allowed\":false,\"revision\":%s}", head);
    if (!out_reserve(&o, 64 + (size_t)hlen + nqs * rlen[0]))
        goto out;
    o.len =
        (size_t)snprintf(o.p, o.cap, "{\"revision\":%s,\"results\":[", head);
    verdicts = malloc(nqs + 1);
    if (verdicts == NULL || !evaluate(ctx, snap, qs, nqs, verdicts))
        goto out;
    for (i = 0; i < nqs; i++) {
        int allowed = verdicts[i];

        nallowed += (size_t)allowed;
        /* The first result goes without its leading comma. */
        memcpy(o.p + o.len, res[allowed] + (i == 0), rlen[allowed] - (i == 0));
        o.len += rlen[allowed] - (i == 0);
    }
    if (!out_reserve(&o, 3))
        goto out;
    memcpy(o.p + o.len, "]}", 3);
    o.len += 2;
    api_metrics_verdicts(ctx->metrics, nallowed, nqs - nallowed);
    api_metrics_batch(ctx->metrics, nqs);
    api_reply_text(resp, o.p, o.len);
    o.p = NULL;
    rc = 0;
out:
    free(verdicts);
    free(o.p);
    free(qs);
    np_snapshot_release(snap);
    return rc;
}

int
api_query_fast(const struct np_snapshot *snap, const struct api_request *req,
               struct api_query *aq, bool *trace)
{
    struct scan s = { .p = req->body,
                      .end = req->body != NULL ? req->body + req->body_len
                                               : NULL };
    struct fast_query fq;
    const uint32_t *hashes[2];
    uint32_t hash[2];
    bool is_pod[2];
    int i;

    *trace = true;
    memset(aq, 0, sizeof(*aq));
    if (req->body == NULL || !content_type_is_plain_json(req->content_type) ||
        !query(&s, &fq, trace))
        return -1;
    ws(&s);
    if (s.p != s.end)
        return -1;
    /* Both pods are looked up together: each lookup waits for memory two
     * or three times (slot, name, pod), and the two can wait at once. */
    for (i = 0; i < 2; i++)
        is_pod[i] = pod_hash(fq.ep[i], &hash[i]);
    for (i = 0; i < 2; i++)
        if (is_pod[i])
            np_snapshot_prefetch_pod(snap, hash[i], 0);
    for (i = 0; i < 2; i++)
        if (is_pod[i])
            np_snapshot_prefetch_pod(snap, hash[i], 1);
    hashes[0] = is_pod[0] ? &hash[0] : NULL;
    hashes[1] = is_pod[1] ? &hash[1] : NULL;
    if (!resolve(snap, &fq, hashes, &aq->q, aq))
        return -1;
    aq->proto_given = fq.proto.p != NULL;
    return 0;
}
