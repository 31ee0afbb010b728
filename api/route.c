/*
 * The route table and what every handler needs from a request before its own
 * work starts: path parameters, query arguments checked against what the
 * route accepts, and a JSON body checked for its media type. Dispatching
 * (api.c) and the handlers themselves live elsewhere; this file only knows
 * which handler a method and path lead to.
 */
#include "api/internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

struct api_route {
    const char *method;
    const char *pattern; /* literal segments and "{param}" segments */
    api_handler_fn *handler;
    const char *const *query; /* accepted arguments, NULL: handler checks */
};

static const char *const no_args[] = { NULL };
static const char *const list_args[] = { "namespace", NULL };
static const char *const pods_args[] = { "namespace", "labelSelector", NULL };
static const char *const reach_args[] = { "from",     "to",    "port",
                                          "protocol", "trace", NULL };

/* The order of methods here is the order of the Allow header. State handlers
 * check their own arguments. */
static const struct api_route routes[] = {
    { .method = "GET",
      .pattern = "/healthz",
      .handler = api_healthz,
      .query = no_args },
    { .method = "GET",
      .pattern = "/readyz",
      .handler = api_readyz,
      .query = no_args },
    { .method = "GET",
      .pattern = "/openapi.yaml",
      .handler = api_openapi,
      .query = no_args },
    { .method = "GET",
      .pattern = "/metrics",
      .handler = api_metrics_get,
      .query = no_args },
    { .method = "GET", .pattern = "/state", .handler = api_state_get },
    { .method = "PUT", .pattern = "/state", .handler = api_state_put },
    { .method = "POST", .pattern = "/state", .handler = api_state_post },
    { .method = "DELETE", .pattern = "/state", .handler = api_state_delete },
    { .method = "GET",
      .pattern = "/namespaces",
      .handler = api_namespaces_list,
      .query = no_args },
    { .method = "GET",
      .pattern = "/namespaces/{ns}",
      .handler = api_namespace_get,
      .query = no_args },
    { .method = "DELETE",
      .pattern = "/namespaces/{ns}",
      .handler = api_namespace_delete },
    { .method = "DELETE",
      .pattern = "/namespaces/{ns}/pods/{name}",
      .handler = api_pod_delete },
    { .method = "DELETE",
      .pattern = "/namespaces/{ns}/networkpolicies/{name}",
      .handler = api_policy_delete },
    { .method = "DELETE",
      .pattern = "/namespaces/{ns}/workloads/{kind}/{name}",
      .handler = api_workload_delete },
    { .method = "GET",
      .pattern = "/pods",
      .handler = api_pods_list,
      .query = pods_args },
    { .method = "GET",
      .pattern = "/pods/{ns}/{name}",
      .handler = api_pod_get,
      .query = no_args },
    { .method = "GET",
      .pattern = "/pods/{ns}/{name}/isolation",
      .handler = api_isolation_get,
      .query = no_args },
    { .method = "GET",
      .pattern = "/networkpolicies",
      .handler = api_policies_list,
      .query = list_args },
    { .method = "GET",
      .pattern = "/networkpolicies/{ns}/{name}",
      .handler = api_policy_get,
      .query = no_args },
    { .method = "GET",
      .pattern = "/workloads",
      .handler = api_workloads_list,
      .query = pods_args },
    { .method = "GET",
      .pattern = "/workloads/{ns}/{kind}/{name}",
      .handler = api_workload_get,
      .query = no_args },
    { .method = "GET",
      .pattern = "/workloads/{ns}/{kind}/{name}/isolation",
      .handler = api_workload_isolation_get,
      .query = no_args },
    { .method = "GET",
      .pattern = "/reachability",
      .handler = api_reach_get,
      .query = reach_args },
    { .method = "POST",
      .pattern = "/reachability",
      .handler = api_reach_post,
      .query = no_args },
    { .method = "POST",
      .pattern = "/reachability/batch",
      .handler = api_reach_batch,
      .query = no_args },
    { .method = "POST",
      .pattern = "/reachability/matrix",
      .handler = api_matrix_post,
      .query = no_args },
};

#define MAX_SEGMENTS 8

/* Splits path ("/a/b/c") into segments stored in buf. Returns the number of
 * segments, or -1 when the path cannot match any route (no leading '/', an
 * empty segment, too long, too deep). */
static int
split(const char *path, char *buf, size_t size, char **seg)
{
    size_t len;
    int n;
    char *p;

    if (path == NULL || path[0] != '/')
        return -1;
    len = strlen(path);
    if (len >= size)
        return -1;
    memcpy(buf, path + 1, len);
    if (len == 1)
        return 0; /* "/" */
    n = 0;
    p = buf;
    for (;;) {
        char *slash = strchr(p, '/');

        if (n == MAX_SEGMENTS || *p == '\0' || p == slash)
            return -1;
        seg[n++] = p;
        if (slash == NULL)
            return n;
        *slash = '\0';
        p = slash + 1;
    }
}

/* Returns true when the segments match pattern; captures go to hit. */
static bool
match(const char *pattern, char *const *seg, int nseg,
      struct api_route_hit *hit)
{
    const char *p = pattern + 1;
    size_t nparams = 0;
    int i;

    for (i = 0; i < nseg; i++) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        if (len == 0)
            return false;
        if (p[0] == '{') {
            if (nparams == API_MAX_PARAMS)
                return false;
            hit->params[nparams++] = seg[i];
        } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
            return false;
        }
        p += len;
        if (*p == '/')
            p++;
        else if (i + 1 < nseg)
            return false;
    }
    if (*p != '\0')
        return false;
    hit->nparams = nparams;
    return true;
}

static void
allow_add(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow);

    if (strstr(allow, method) != NULL)
        return;
    snprintf(allow + len, size - len, "%s%s", len > 0 ? ", " : "", method);
}

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The routes grouped by the first letter of their path, each group in the
 * order of the table: a request reads only the routes that can match it,
 * whatever its place in the table. Built once. */
static struct {
    uint8_t order[NROUTES]; /* route indexes, grouped */
    uint8_t start[128];     /* group of a letter: order[start, start + n) */
    uint8_t n[128];
} by_letter;
static pthread_once_t by_letter_once = PTHREAD_ONCE_INIT;
_Static_assert(NROUTES < 256, "route indexes are bytes");

static void
by_letter_build(void)
{
    size_t i, k = 0;
    unsigned c;

    for (c = 0; c < 128; c++) {
        by_letter.start[c] = (uint8_t)k;
        for (i = 0; i < NROUTES; i++)
            if ((unsigned char)routes[i].pattern[1] == c)
                by_letter.order[k++] = (uint8_t)i;
        by_letter.n[c] = (uint8_t)(k - by_letter.start[c]);
    }
}

enum api_route_result
api_route_find(const char *method, const char *path, struct api_route_hit *hit)
{
    char *seg[MAX_SEGMENTS];
    const uint8_t *group;
    unsigned c;
    int first = -1;
    int nseg;
    size_t i, n;

    hit->handler = NULL;
    hit->query = NULL;
    hit->nparams = 0;
    hit->allow[0] = '\0';
    hit->route = -1;
    nseg = split(path, hit->buf, sizeof(hit->buf), seg);
    if (nseg < 0)
        return API_ROUTE_NO_PATH;
    /* HEAD is GET without the body; the server drops the body. */
    if (method != NULL && strcmp(method, "HEAD") == 0)
        method = "GET";
    pthread_once(&by_letter_once, by_letter_build);
    c = (unsigned char)path[1]; /* the first letter of seg[0] */
    if (c >= 128)
        return API_ROUTE_NO_PATH;
    group = &by_letter.order[by_letter.start[c]];
    n = by_letter.n[c];
    for (i = 0; i < n; i++) {
        const struct api_route *r = &routes[group[i]];

        if (!match(r->pattern, seg, nseg, hit))
            continue;
        if (first < 0)
            first = group[i];
        if (method != NULL && strcmp(method, r->method) == 0) {
            hit->route = group[i];
            hit->handler = r->handler;
            hit->query = r->query;
            return API_ROUTE_FOUND;
        }
    }
    if (first < 0)
        return API_ROUTE_NO_PATH;
    /* The path is known and the method is not: the methods it accepts, in
     * the order of the table. */
    hit->route = first;
    for (i = 0; i < n; i++) {
        const struct api_route *r = &routes[group[i]];

        if (!match(r->pattern, seg, nseg, hit))
            continue;
        allow_add(hit->allow, sizeof(hit->allow), r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(hit->allow, sizeof(hit->allow), "HEAD");
    }
    hit->nparams = 0;
    return API_ROUTE_NO_METHOD;
}

size_t
api_route_count(void)
{
    return sizeof(routes) / sizeof(routes[0]);
}

const char *
api_route_pattern(size_t i)
{
    return i < NROUTES ? routes[i].pattern : "unmatched";
}

const char *
api_query_get(const struct api_request *req, const char *key)
{
    size_t i;

    for (i = 0; i < req->nquery; i++)
        if (req->query[i].key != NULL && strcmp(req->query[i].key, key) == 0)
            return req->query[i].value != NULL ? req->query[i].value : "";
    return NULL;
}

static bool
is_allowed(const char *const *allowed, const char *key)
{
    for (; *allowed != NULL; allowed++)
        if (strcmp(*allowed, key) == 0)
            return true;
    return false;
}

int
api_query_check_or_reply(const struct api_request *req,
                         const char *const *allowed, struct api_response *resp)
{
    struct np_error err;
    char names[160];
    const char *first = NULL;
    size_t i, j, nunknown = 0;

    if (req->nquery == 0)
        return 0;
    names[0] = '\0';
    np_error_init(&err);
    for (i = 0; i < req->nquery; i++) {
        const char *key = req->query[i].key != NULL ? req->query[i].key : "";
        size_t len = strlen(names);

        if (is_allowed(allowed, key))
            continue;
        /* Every unknown argument is named, so that one answer is enough to
         * fix the request. */
        if (first == NULL)
            first = key;
        nunknown++;
        snprintf(names + len, sizeof(names) - len, "%s\"%.40s\"",
                 len > 0 ? ", " : "", key);
    }
    if (first != NULL) {
        np_error_set(&err, NP_E_UNKNOWN_FIELD,
                     "unknown query argument%s %s; %s%s",
                     nunknown > 1 ? "s" : "", names,
                     allowed[0] != NULL ? "this path takes " : "",
                     allowed[0] != NULL ? "" : "this path takes none");
        if (allowed[0] != NULL) {
            size_t len = strlen(err.message);

            for (j = 0; allowed[j] != NULL; j++) {
                snprintf(err.message + len, sizeof(err.message) - len, "%s%s",
                         j > 0 ? ", " : "", allowed[j]);
                len = strlen(err.message);
            }
        }
        np_error_path(&err, "%s", first);
        api_reply_error(resp, &err);
        return -1;
    }
    /* A repeated argument has no single meaning. */
    for (i = 0; i < req->nquery; i++) {
        for (j = 0; j < i; j++) {
            if (req->query[i].key != NULL && req->query[j].key != NULL &&
                strcmp(req->query[j].key, req->query[i].key) == 0) {
                np_error_set(&err, NP_E_INVALID_QUERY,
                             "query argument \"%s\" is given more than once",
                             req->query[i].key);
                np_error_path(&err, "%s", req->query[i].key);
                api_reply_error(resp, &err);
                return -1;
            }
        }
    }
    return 0;
}

/* Returns true when the media type (before any parameter) is JSON:
 * application/json or a +json structured type. A charset parameter must be
 * UTF-8, the only encoding JSON has (RFC 8259, section 8.1). */
static bool
is_json_media_type(const char *ct)
{
    const char *semi = strchr(ct, ';');
    size_t len = semi != NULL ? (size_t)(semi - ct) : strlen(ct);
    const char *p;

    while (len > 0 && isspace((unsigned char)ct[len - 1]))
        len--;
    while (len > 0 && isspace((unsigned char)*ct)) {
        ct++;
        len--;
    }
    if (!(len == 16 && strncasecmp(ct, "application/json", 16) == 0) &&
        !(len > 5 && strncasecmp(ct + len - 5, "+json", 5) == 0 &&
          strncasecmp(ct, "application/", 12) == 0))
        return false;
    for (p = semi; p != NULL; p = strchr(p + 1, ';')) {
        const char *q = p + 1;

        while (isspace((unsigned char)*q))
            q++;
        if (strncasecmp(q, "charset=", 8) != 0)
            continue;
        q += 8;
        if (*q == '"')
            q++;
        if (strncasecmp(q, "utf-8", 5) != 0 && strncasecmp(q, "utf8", 4) != 0)
            return false;
    }
    return true;
}

json_t *
api_body_json_or_reply(const struct api_request *req, struct api_response *resp)
{
    struct np_error err;
    json_error_t jerr;
    json_t *doc;

    /* A missing Content-Type is read as JSON: "curl --json" and most
     * clients send one, and a body that is not JSON still fails below. */
    if (req->content_type != NULL && req->content_type[0] != '\0' &&
        !is_json_media_type(req->content_type)) {
        api_reply_errorf(resp, NP_E_UNSUPPORTED_MEDIA_TYPE,
                         "queries are JSON: send Content-Type "
                         "application/json, not \"%.100s\"",
                         req->content_type);
        return NULL;
    }
    if (req->body == NULL || req->body_len == 0) {
        api_reply_errorf(resp, NP_E_SYNTAX,
                         "the request body is empty; send a JSON object");
        return NULL;
    }
    doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        np_error_init(&err);
        np_error_set(&err, NP_E_SYNTAX, "the body is not valid JSON: %s",
                     jerr.text);
        err.line = jerr.line > 0 ? jerr.line : 0;
        err.column = jerr.column > 0 ? jerr.column : 0;
        api_reply_error(resp, &err);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        api_reply_errorf(resp, NP_E_INVALID_TYPE,
                         "the body must be a JSON object");
        return NULL;
    }
    return doc;
}
