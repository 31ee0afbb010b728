/*
 * libmicrohttpd glue. A request's memory lives in a struct srv_req, created
 * on the first call of the access handler (when the headers are in) and
 * freed only in the MHD_OPTION_NOTIFY_COMPLETED callback, as in
 * libmicrohttpd's doc/examples/simplepost.c. This file decides nothing
 * about routes or payloads: a complete body goes to api_dispatch(), and the
 * only answers made here are the ones the api layer never gets to see (a
 * body over the limit, running out of memory while reading it).
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/cors.h"
#include "server/auth.h"
#include "server/file.h"
#include "server/log.h"

/* First allocation for a body whose length is unknown (chunked). */
#define BODY_INITIAL_CAP 16384

/* Ceiling for MHD_OPTION_CONNECTION_LIMIT, whatever RLIMIT_NOFILE says. */
#define CONNECTION_LIMIT_MAX 65536

/* The longest X-Request-Id taken from a caller. */
#define REQUEST_ID_MAX 64

/* Bodies from this size on are answered off the polling thread (see
 * offload()). */
#define OFFLOAD_BODY_MIN ((size_t)64 << 10)

/* The largest PEM file read for --tls-cert and --tls-key. */
#define TLS_FILE_MAX ((size_t)1 << 20)

/* The 401 answers (RFC 6750, section 3). Static: a request without a valid
 * token gets no work done on its behalf, and the token never gets near a
 * message. */
static const char unauthorized_missing[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"This call needs "
    "an Authorization: Bearer header with one of the server's tokens "
    "(--token-file).\"}}";
static const char unauthorized_invalid[] =
    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"The bearer token "
    "is not one of the server's tokens (--token-file).\"}}";

/* The answer when even formatting an error answer runs out of memory. */
static const char nomem_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"The server ran out "
    "of memory; retry later.\"}}";

struct srv_http {
    struct MHD_Daemon *daemon;
    struct api_ctx *ctx; /* borrowed */
    size_t max_body;
    const char *mode;     /* "poll": how the polling threads wait */
    MHD_socket quiesced;  /* the listen socket after quiescing */
    atomic_bool stopping; /* answers now carry Connection: close */
    pthread_mutex_t lock; /* guards inflight, jobs and requests' suspended */
    pthread_cond_t idle;  /* signalled when inflight drops to 0 */
    size_t inflight;      /* requests that have a struct srv_req */
    size_t jobs;          /* requests being answered off the polling threads */
    pthread_cond_t jobs_idle;    /* signalled when jobs drops to 0 */
    pthread_cond_t suspended_cv; /* an offloaded request's connection is
                                    suspended */
    uint64_t id_seed; /* request ids: mix64(id_seed + request number) */
    atomic_uint_least64_t next_id;
    struct srv_auth *auth; /* owned; NULL when no token is needed */
    bool tls;              /* serving HTTPS */
    char *tls_cert;        /* owned PEM text while the daemon runs */
    size_t tls_cert_len;
    char *tls_key; /* owned; wiped when freed */
    size_t tls_key_len;
};

struct srv_req {
    char *body; /* owned; NUL-terminated for the parsers' convenience */
    size_t len;
    size_t cap;
    size_t discarded;     /* bytes dropped after the body went over the cap */
    char *content_type;   /* owned copy of the header, or NULL */
    struct api_kv *query; /* owned array; keys and values borrowed from MHD */
    size_t nquery;
    size_t query_cap;
    struct np_error err; /* set once reading the body failed */
    /* For the request's log line. */
    struct timespec start;         /* CLOCK_MONOTONIC when the headers came */
    char id[REQUEST_ID_MAX + 1];   /* X-Request-Id, echoed in the answer */
    char method[16];               /* cut when longer */
    char *path;                    /* owned, may be NULL; no query string */
    char remote[INET6_ADDRSTRLEN]; /* the client's address */
    int status;       /* of the answer queue_response() queued, else 0 */
    size_t bytes_out; /* body bytes of that answer */
    /* A request answered off the polling thread (offload()): the
     * connection is suspended from the hand-off until the answer is in
     * resp, then resumed, and the access handler queues resp. */
    struct srv_http *h;
    struct MHD_Connection *conn;
    struct api_request areq;
    struct api_response resp;
    bool suspended; /* guarded by h->lock */
    atomic_bool answered;
};

static struct srv_req *
req_new(struct srv_http *h, struct MHD_Connection *conn)
{
    struct srv_req *req;
    const char *ct;

    req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    np_error_init(&req->err);
    ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct != NULL) {
        req->content_type = strdup(ct);
        if (req->content_type == NULL) {
            free(req);
            return NULL;
        }
    }
    pthread_mutex_lock(&h->lock);
    h->inflight++;
    pthread_mutex_unlock(&h->lock);
    return req;
}

static void
req_free(struct srv_http *h, struct srv_req *req)
{
    /* An offloaded answer whose client left before it could be sent. */
    api_response_fini(&req->resp);
    free(req->body);
    free(req->content_type);
    free(req->path);
    free(req->query);
    free(req);
    pthread_mutex_lock(&h->lock);
    if (--h->inflight == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
}

/* Returns true when s can serve as a request id as it is: 1 to
 * REQUEST_ID_MAX characters of [A-Za-z0-9._-], safe in a header and in a
 * log line. */
static bool
request_id_is_sane(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789._-");
    return n > 0 && n <= REQUEST_ID_MAX && s[n] == '\0';
}

/* splitmix64's finalizer: a bijection, so distinct request numbers give
 * distinct ids, which still do not look like a sequence. */
static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

/* Returns a seed that differs between processes, so that two servers
 * behind one proxy do not hand out the same ids: /dev/urandom, or the clock
 * and the process id without it. */
static uint64_t
id_seed(void)
{
    struct timespec ts;
    uint64_t seed;
    uint64_t r;
    FILE *fp;

    clock_gettime(CLOCK_REALTIME, &ts);
    seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
           ((uint64_t)getpid() << 32);
    fp = fopen("/dev/urandom", "rb");
    if (fp != NULL) {
        if (fread(&r, sizeof(r), 1, fp) == 1)
            seed ^= r;
        fclose(fp);
    }
    return seed;
}

/* Notes what the request's log line needs once its headers are in, and
 * settles its id: the caller's X-Request-Id when it is sane, else a new
 * one. */
static void
req_begin(struct srv_http *h, struct srv_req *req, struct MHD_Connection *conn,
          const char *url, const char *method)
{
    const union MHD_ConnectionInfo *ci;
    const char *id;

    clock_gettime(CLOCK_MONOTONIC, &req->start);
    snprintf(req->method, sizeof(req->method), "%s",
             method != NULL ? method : "");
    /* libmicrohttpd's url is the path alone: the query string, which may
     * carry anything, never reaches the log. */
    req->path = strdup(url != NULL ? url : "");
    id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (request_id_is_sane(id))
        snprintf(req->id, sizeof(req->id), "%s", id);
    else
        snprintf(req->id, sizeof(req->id), "%016llx",
                 (unsigned long long)mix64(h->id_seed +
                                           atomic_fetch_add(&h->next_id, 1)));
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET,
                  &((const struct sockaddr_in *)ci->client_addr)->sin_addr,
                  req->remote, sizeof(req->remote));
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
                  req->remote, sizeof(req->remote));
}

/* Logs the request's line when it is over: method, path, status, duration,
 * bytes of body sent, id and client address. Never a body, a query string
 * or a header's value other than the request id. */
static void
req_log(const struct srv_req *req, struct MHD_Connection *conn,
        enum MHD_RequestTerminationCode toe)
{
    struct log_field f[9];
    struct timespec now;
    const char *outcome = NULL;
    int status = req->status;
    double ms;
    int n = 0;

    if (status == 0) {
        /* An answer queued without queue_response() (a 401) is still
         * known to libmicrohttpd. */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);

        if (ci != NULL)
            status = (int)ci->http_status;
    }
    if (!log_enabled(status >= 500 ? SRV_LOG_WARN : SRV_LOG_INFO))
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (double)(now.tv_sec - req->start.tv_sec) * 1e3 +
         (double)(now.tv_nsec - req->start.tv_nsec) / 1e6;
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        break;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        outcome = "timed out";
        break;
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        outcome = "closed at shutdown";
        break;
    case MHD_REQUEST_TERMINATED_READ_ERROR:
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        outcome = "client went away";
        break;
    default:
        outcome = "connection error";
        break;
    }
    f[n++] = (struct log_field)LOG_STR("id", req->id);
    f[n++] = (struct log_field)LOG_STR("method", req->method);
    f[n++] = (struct log_field)LOG_STR("path", req->path);
    f[n++] = (struct log_field)LOG_INT("status", status);
    f[n++] = (struct log_field)LOG_REAL("duration_ms", ms);
    if (req->status != 0)
        f[n++] = (struct log_field)LOG_INT("bytes", req->bytes_out);
    f[n++] = (struct log_field)LOG_STR("remote", req->remote);
    if (outcome != NULL)
        f[n++] = (struct log_field)LOG_STR("outcome", outcome);
    log_event(status >= 500 ? SRV_LOG_WARN : SRV_LOG_INFO, "request", f, n);
}

/* Logs a change of the state that the request published. */
static void
log_published(const struct srv_req *req, uint64_t revision)
{
    const struct log_field f[] = {
        LOG_INT("revision", revision),
        LOG_STR("id", req->id),
        LOG_STR("method", req->method),
        LOG_STR("path", req->path),
    };

    log_event(SRV_LOG_INFO, "state published", f,
              (int)(sizeof(f) / sizeof(f[0])));
}

/* Appends n bytes to the body. The cap is checked before growing, so a body
 * over the limit never makes the buffer larger than the limit; the buffer
 * doubles, so a body costs O(log n) reallocations (GNUnet's json_mhd.c
 * buffer_append). */
static int
req_append(struct srv_req *req, const char *data, size_t n, size_t max,
           struct np_error *err)
{
    if (n > max || req->len > max - n)
        return np_error_set(err, NP_E_BODY_TOO_LARGE,
                            "The request body is larger than the limit of "
                            "%zu bytes (--max-body).",
                            max);
    /* max <= SIZE_MAX / 2 (config.c), so none of this overflows. */
    if (req->len + n + 1 > req->cap) {
        size_t cap = req->cap != 0 ? req->cap : BODY_INITIAL_CAP;
        char *body;

        while (cap < req->len + n + 1)
            cap *= 2;
        if (cap > max + 1)
            cap = max + 1;
        body = realloc(req->body, cap);
        if (body == NULL)
            return np_error_set(err, NP_E_NOMEM,
                                "The server ran out of memory while reading "
                                "the request body.");
        req->body = body;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, n);
    req->len += n;
    req->body[req->len] = '\0';
    return 0;
}

/* Collects the query arguments in order (MHD_KeyValueIterator). "?trace"
 * has no value; the api layer gets "" for it, never NULL. */
static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
            const char *value)
{
    struct srv_req *req = cls;

    (void)kind;
    if (req->nquery == req->query_cap) {
        size_t cap = req->query_cap != 0 ? req->query_cap * 2 : 8;
        struct api_kv *q = realloc(req->query, cap * sizeof(*q));

        if (q == NULL) {
            np_error_set(&req->err, NP_E_NOMEM,
                         "The server ran out of memory while reading the "
                         "query.");
            return MHD_NO;
        }
        req->query = q;
        req->query_cap = cap;
    }
    req->query[req->nquery].key = key != NULL ? key : "";
    req->query[req->nquery].value = value != NULL ? value : "";
    req->nquery++;
    return MHD_YES;
}

/* Queues resp on conn and steals resp->body (it is NULL afterwards, so
 * api_response_fini() does not free it again). With req (NULL before there
 * is one), the answer carries its X-Request-Id and req notes the status and
 * size for the log. */
static enum MHD_Result
queue_response(struct srv_http *h, struct MHD_Connection *conn,
               struct srv_req *req, struct api_response *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    int status = resp->status;
    size_t sent = resp->body_len;
    size_t i;

    if (resp->body != NULL) {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                            MHD_RESPMEM_MUST_FREE);
        if (r != NULL)
            resp->body = NULL;
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        /* Out of memory: answer 500 from static memory rather than drop
         * the connection. */
        r = MHD_create_response_from_buffer(
            sizeof(nomem_body) - 1, (void *)nomem_body, MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return MHD_NO;
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        sent = sizeof(nomem_body) - 1;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json");
    } else {
        if (resp->content_type != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    resp->content_type);
        if (resp->allow[0] != '\0')
            MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
        if (resp->etag[0] != '\0')
            MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
        for (i = 0; i < resp->nheaders; i++)
            MHD_add_response_header(r, resp->headers[i].name,
                                    resp->headers[i].value);
    }
    if (req != NULL) {
        MHD_add_response_header(r, "X-Request-Id", req->id);
        req->status = status;
        req->bytes_out = strcmp(req->method, "HEAD") == 0 ? 0 : sent;
    }
    /* While shutting down, tell keep-alive clients not to send another
     * request on this connection. */
    if (atomic_load(&h->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Counts in the metrics an answer made here, which api_dispatch() never
 * saw. */
static void
count_answer(struct srv_http *h, const struct srv_req *req, int status)
{
    struct timespec now;
    uint64_t ns;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (uint64_t)(now.tv_sec - req->start.tv_sec) * 1000000000u +
         (uint64_t)now.tv_nsec - (uint64_t)req->start.tv_nsec;
    api_count_answer(h->ctx, req->method, req->path != NULL ? req->path : "",
                     status, ns);
}

/* Answers with CONTRACT.md's {"error": {"code", "message"}} for an error
 * found here, before the api layer saw the request. */
static enum MHD_Result
queue_error(struct srv_http *h, struct MHD_Connection *conn,
            struct srv_req *req, const struct np_error *err)
{
    struct api_response resp;
    json_t *doc;

    memset(&resp, 0, sizeof(resp));
    resp.status = api_errc_status(err->code);
    resp.content_type = "application/json";
    api_cors_headers(h->ctx,
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_ORIGIN),
                     &resp);
    doc = json_pack("{s:{s:s,s:s}}", "error", "code", np_errc_name(err->code),
                    "message", err->message);
    if (doc != NULL) {
        resp.body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
    }
    if (resp.body == NULL) {
        resp.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp.body = strdup(nomem_body);
    }
    if (resp.body != NULL)
        resp.body_len = strlen(resp.body);
    if (req != NULL)
        count_answer(h, req, resp.status);
    return queue_response(h, conn, req, &resp);
}

/* Answers 401 with the challenge of RFC 6750: `error="invalid_token"` when
 * a token was given but is not ours. */
static enum MHD_Result
queue_unauthorized(struct srv_http *h, struct MHD_Connection *conn,
                   struct srv_req *req, enum srv_auth_result why)
{
    struct MHD_Response *r;
    struct api_response cors;
    enum MHD_Result ret;
    bool invalid = why == SRV_AUTH_INVALID;
    size_t len = invalid ? sizeof(unauthorized_invalid) - 1
                         : sizeof(unauthorized_missing) - 1;
    size_t i;

    r = MHD_create_response_from_buffer(
        len, (void *)(invalid ? unauthorized_invalid : unauthorized_missing),
        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    /* A dashboard on an allowed origin can read the 401 like any answer. */
    memset(&cors, 0, sizeof(cors));
    api_cors_headers(h->ctx,
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_ORIGIN),
                     &cors);
    for (i = 0; i < cors.nheaders; i++)
        MHD_add_response_header(r, cors.headers[i].name, cors.headers[i].value);
    MHD_add_response_header(r, "X-Request-Id", req->id);
    req->status = MHD_HTTP_UNAUTHORIZED;
    req->bytes_out = strcmp(req->method, "HEAD") == 0 ? 0 : len;
    count_answer(h, req, MHD_HTTP_UNAUTHORIZED);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            invalid ? "Bearer realm=\"netpolq\", "
                                      "error=\"invalid_token\""
                                    : "Bearer realm=\"netpolq\"");
    if (atomic_load(&h->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
    MHD_destroy_response(r);
    return ret;
}

/* Returns true when the Content-Length header announces more than max
 * bytes. A number too long for uint64_t is too large as well; anything
 * malformed is libmicrohttpd's to reject. */
static bool
declared_too_large(struct MHD_Connection *conn, size_t max,
                   unsigned long long *declared)
{
    const char *s;
    uint64_t v = 0;

    s = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (s == NULL)
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
            *declared = UINT64_MAX;
            return true;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *declared = v;
    return v > max;
}

/* Calls the api layer with the request in req->areq; the answer goes to
 * req->resp. */
static void
answer(struct srv_http *h, struct srv_req *req)
{
    memset(&req->resp, 0, sizeof(req->resp));
    api_dispatch(h->ctx, &req->areq, &req->resp);
    if (req->resp.published != 0)
        log_published(req, req->resp.published);
}

/* Queues the answer answer() made and releases what is left of it. */
static enum MHD_Result
queue_answer(struct srv_http *h, struct MHD_Connection *conn,
             struct srv_req *req)
{
    enum MHD_Result ret = queue_response(h, conn, req, &req->resp);

    api_response_fini(&req->resp);
    return ret;
}

/* Returns true for the requests that may keep a thread busy for long:
 * changes of the state (parsing, building and with --state-file an fsync),
 * batches and matrices, and any large body. Everything else, POST
 * /reachability among it, is answered in the polling thread that read it. */
static bool
heavy(const struct srv_req *req, const char *url, const char *method)
{
    if (req->len >= OFFLOAD_BODY_MIN)
        return true;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
        strcmp(method, "OPTIONS") == 0)
        return false;
    return strcmp(url, "/reachability") != 0;
}

static void
jobs_done(struct srv_http *h)
{
    pthread_mutex_lock(&h->lock);
    if (--h->jobs == 0)
        pthread_cond_broadcast(&h->jobs_idle);
    pthread_mutex_unlock(&h->lock);
}

static void *
offload_main(void *arg)
{
    struct srv_req *req = arg;
    struct srv_http *h = req->h;
    struct MHD_Connection *conn = req->conn;

    answer(h, req);
    /* The connection is resumed only once it has been suspended. */
    pthread_mutex_lock(&h->lock);
    while (!req->suspended)
        pthread_cond_wait(&h->suspended_cv, &h->lock);
    pthread_mutex_unlock(&h->lock);
    atomic_store(&req->answered, true);
    /* From here on req belongs to the polling thread again, which may
     * answer and free it at once. */
    MHD_resume_connection(conn);
    jobs_done(h);
    return NULL;
}

/* Answers req on a thread of its own while conn is suspended, so that an
 * upload or a large batch does not hold the other connections of the
 * polling thread that read it: their queries go on being answered from the
 * snapshot they find. Returns false (nothing started) when no thread can
 * be had; the caller then answers in place. */
static bool
offload(struct srv_http *h, struct MHD_Connection *conn, struct srv_req *req)
{
    pthread_attr_t attr;
    pthread_t thread;
    int rc;

    req->h = h;
    req->conn = conn;
    req->suspended = false;
    atomic_store(&req->answered, false);
    if (pthread_attr_init(&attr) != 0) {
        req->conn = NULL;
        return false;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&h->lock);
    h->jobs++;
    pthread_mutex_unlock(&h->lock);
    rc = pthread_create(&thread, &attr, offload_main, req);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        req->conn = NULL;
        jobs_done(h);
        return false;
    }
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&h->lock);
    req->suspended = true;
    pthread_cond_broadcast(&h->suspended_cv);
    pthread_mutex_unlock(&h->lock);
    return true;
}

static enum MHD_Result
dispatch(struct srv_http *h, struct MHD_Connection *conn, struct srv_req *req,
         const char *url, const char *method)
{
    struct api_request *areq = &req->areq;

    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, req);
    if (np_error_is_set(&req->err))
        return queue_error(h, conn, req, &req->err);
    /* Everything borrowed from libmicrohttpd stays valid while the
     * connection is suspended. */
    memset(areq, 0, sizeof(*areq));
    areq->method = method;
    areq->path = url;
    areq->nquery = req->nquery;
    areq->query = req->query;
    areq->content_type = req->content_type;
    areq->body = req->len != 0 ? req->body : NULL;
    areq->body_len = req->len;
    areq->if_none_match = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    areq->origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_ORIGIN);
    areq->cors_method = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCESS_CONTROL_REQUEST_METHOD);
    if (heavy(req, url, method) && offload(h, conn, req))
        return MHD_YES;
    answer(h, req);
    return queue_answer(h, conn, req);
}

/* The access handler (MHD_AccessHandlerCallback). libmicrohttpd calls it
 * once when the headers are in, once per piece of body, and once more when
 * the body is complete; a response may be queued only on the first and the
 * last call. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
    struct srv_http *h = cls;
    struct srv_req *req = *con_cls;
    unsigned long long declared = 0;

    (void)version;
    /* Back from offload(): the answer is ready. */
    if (req != NULL && req->conn != NULL) {
        if (!atomic_load(&req->answered))
            return MHD_YES;
        req->conn = NULL;
        return queue_answer(h, conn, req);
    }
    if (req == NULL) {
        req = req_new(h, conn);
        if (req == NULL) {
            struct np_error err;

            np_error_init(&err);
            np_error_set(&err, NP_E_NOMEM,
                         "The server ran out of memory; retry later.");
            return queue_error(h, conn, NULL, &err);
        }
        *con_cls = req;
        req_begin(h, req, conn, url, method);
        /* Before the body and before routing: a caller without a token
         * learns nothing, not even which paths exist. */
        if (h->auth != NULL && srv_auth_needed(h->auth, method, url)) {
            enum srv_auth_result ar = srv_auth_check(
                h->auth,
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                            MHD_HTTP_HEADER_AUTHORIZATION));

            if (ar != SRV_AUTH_OK)
                return queue_unauthorized(h, conn, req, ar);
        }
        /* Refuse before reading a byte of it: libmicrohttpd then discards
         * the body and closes the connection after the answer. */
        if (declared_too_large(conn, h->max_body, &declared)) {
            np_error_set(&req->err, NP_E_BODY_TOO_LARGE,
                         "The request body of %llu bytes is larger than the "
                         "limit of %zu bytes (--max-body).",
                         declared, h->max_body);
            return queue_error(h, conn, req, &req->err);
        }
        /* A body of known size is read into one buffer of that size, not
         * copied as it doubles: a 20 MB batch is read once. Pages a client
         * announces but never sends are never touched. */
        if (declared > 0 && req->cap == 0) {
            req->body = malloc((size_t)declared + 1);
            if (req->body != NULL)
                req->cap = (size_t)declared + 1;
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (!np_error_is_set(&req->err) &&
            req_append(req, upload_data, n, h->max_body, &req->err) == 0)
            return MHD_YES;
        /* A response cannot be queued while the body is arriving, so a
         * body without Content-Length that goes over the limit is read to
         * its end and dropped, then answered 413. A client still sending
         * after twice the limit gets its connection closed instead. */
        free(req->body);
        req->body = NULL;
        req->len = 0;
        req->cap = 0;
        if (n > h->max_body || req->discarded > h->max_body - n)
            return MHD_NO;
        req->discarded += n;
        return MHD_YES;
    }
    if (np_error_is_set(&req->err))
        return queue_error(h, conn, req, &req->err);
    return dispatch(h, conn, req, url, method);
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* MHD_OPTION_UNESCAPE_CALLBACK: decodes %XX in paths and query values in
 * place, as libmicrohttpd's own unescaper does, except %00: a decoded NUL
 * would cut the C string and make "web%00x" mean "web". It stays as the
 * three characters "%00", which no name or value can hold, so the request
 * fails as naming something that does not exist. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *r = s, *w = s;

    (void)cls;
    (void)c;
    while (*r != '\0') {
        int hi = r[0] == '%' ? hex_value(r[1]) : -1;
        int lo = hi >= 0 ? hex_value(r[2]) : -1;

        if (lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the only place a struct srv_req is freed. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct srv_http *h = cls;

    if (*con_cls == NULL)
        return;
    req_log(*con_cls, conn, toe);
    req_free(h, *con_cls);
    *con_cls = NULL;
}

/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's complaints go through our log
 * so that every line starts with "netpolq: ". */
static void
on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    log_vwarnx(fmt, ap);
}

/* Returns --max-connections, lowered to what RLIMIT_NOFILE allows: each
 * connection holds a descriptor; leave some for the listen socket, the
 * threads' wake-up descriptors and the state file. */
static unsigned
connection_limit(unsigned wanted, unsigned threads)
{
    struct rlimit rl;
    rlim_t n = CONNECTION_LIMIT_MAX;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < CONNECTION_LIMIT_MAX + 64)
        n = rl.rlim_cur > 80 ? rl.rlim_cur - 64 : 16;
    if (wanted <= n)
        return wanted;
    /* libmicrohttpd splits the limit across the pool; every thread needs
     * a share. */
    if (n < (rlim_t)threads)
        n = (rlim_t)threads;
    log_warnx("--max-connections %u is more than the open-files limit "
              "allows; serving at most %u connections",
              wanted, (unsigned)n);
    return (unsigned)n;
}

/* Reads --tls-cert and --tls-key into h. */
static int
tls_load(struct srv_http *h, const struct srv_config *cfg, struct np_error *err)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return np_error_set(err, NP_E_INTERNAL,
                            "--tls-cert: this libmicrohttpd was built "
                            "without TLS support; serve plain HTTP behind "
                            "a TLS proxy, or install a libmicrohttpd with "
                            "GnuTLS");
    if (srv_file_read(cfg->tls_cert, TLS_FILE_MAX, &h->tls_cert,
                      &h->tls_cert_len) != 0)
        return np_error_set(err, NP_E_INTERNAL, "cannot read --tls-cert %s: %s",
                            cfg->tls_cert, strerror(errno));
    if (srv_file_read(cfg->tls_key, TLS_FILE_MAX, &h->tls_key,
                      &h->tls_key_len) != 0)
        return np_error_set(err, NP_E_INTERNAL, "cannot read --tls-key %s: %s",
                            cfg->tls_key, strerror(errno));
    h->tls = true;
    return 0;
}

/* Frees what srv_http_start() set up in h, and h. */
static void
http_free(struct srv_http *h)
{
    srv_auth_free(h->auth);
    free(h->tls_cert);
    srv_file_wipe_free(h->tls_key, h->tls_key_len);
    pthread_cond_destroy(&h->idle);
    pthread_cond_destroy(&h->jobs_idle);
    pthread_cond_destroy(&h->suspended_cv);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct srv_http *
srv_http_start(const struct srv_config *cfg, struct api_ctx *ctx,
               struct np_error *err)
{
    struct srv_http *h;
    pthread_condattr_t ca;
    struct MHD_OptionItem pool[2];
    struct MHD_OptionItem tls[3];
    unsigned flags;
    char addr[INET6_ADDRSTRLEN + 16];
    uint16_t port;

    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory");
        return NULL;
    }
    h->ctx = ctx;
    h->max_body = cfg->max_body;
    h->quiesced = MHD_INVALID_SOCKET;
    atomic_init(&h->stopping, false);
    h->id_seed = id_seed();
    atomic_init(&h->next_id, 0);
    pthread_mutex_init(&h->lock, NULL);
    /* Drain deadlines are measured on the monotonic clock. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->idle, &ca);
    pthread_cond_init(&h->jobs_idle, NULL);
    pthread_cond_init(&h->suspended_cv, NULL);
    pthread_condattr_destroy(&ca);
    if (cfg->token_file != NULL) {
        h->auth = srv_auth_load(cfg->token_file, cfg->auth, err);
        if (h->auth == NULL) {
            http_free(h);
            return NULL;
        }
    }
    if (cfg->tls_cert != NULL && tls_load(h, cfg, err) != 0) {
        http_free(h);
        return NULL;
    }

    /* One polling thread per core answers queries in the thread that read
     * them: no hand-off between threads and no thread per connection.
     * Changes of the state, batches, matrices and large bodies get a
     * thread of their own while their connection is suspended (offload()).
     * MHD_USE_ITC lets MHD_quiesce_daemon() wake the pool at shutdown, and
     * MHD_resume_connection() wake it when an offloaded answer is ready.
     *
     * poll(), not epoll: with epoll, libmicrohttpd 0.9.75's
     * MHD_quiesce_daemon() races a busy worker removing the listen socket
     * from its epoll set, and the loser aborts the process ("Failed to
     * remove listen FD from epoll set") on SIGTERM. With poll() a quiesced
     * worker just stops polling the socket. Measured on 2 cores, 16
     * connections: the same throughput either way. */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_POLL;
    h->mode = "poll";
    if (cfg->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv_config_format_addr((const struct sockaddr *)&cfg->addr, 0, addr,
                           sizeof(addr));
    port = ntohs(cfg->addr.ss_family == AF_INET6
                     ? ((const struct sockaddr_in6 *)&cfg->addr)->sin6_port
                     : ((const struct sockaddr_in *)&cfg->addr)->sin_port);
    /* libmicrohttpd warns about a pool of one; one thread is simply no
     * pool. An array that starts with MHD_OPTION_END is empty. */
    pool[0].option =
        cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END;
    pool[0].value = (intptr_t)cfg->threads;
    pool[0].ptr_value = NULL;
    pool[1].option = MHD_OPTION_END;
    pool[1].value = 0;
    pool[1].ptr_value = NULL;
    /* libmicrohttpd hands the PEM text to GnuTLS at start. */
    tls[0].option = h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END;
    tls[0].value = 0;
    tls[0].ptr_value = h->tls_cert;
    tls[1].option = h->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END;
    tls[1].value = 0;
    tls[1].ptr_value = h->tls_key;
    tls[2].option = MHD_OPTION_END;
    tls[2].value = 0;
    tls[2].ptr_value = NULL;
    if (h->tls)
        flags |= MHD_USE_TLS;
    /* The logger goes first: libmicrohttpd reports problems with the
     * options after it through the logger already set. */
    h->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
        on_log, NULL, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&cfg->addr,
        MHD_OPTION_ARRAY, pool, MHD_OPTION_ARRAY, tls,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->connection_timeout,
        MHD_OPTION_CONNECTION_LIMIT,
        connection_limit(cfg->max_connections, cfg->threads),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (h->daemon == NULL) {
        np_error_set(err, NP_E_INTERNAL,
                     h->tls ? "cannot listen on %s with TLS (check "
                              "--tls-cert and --tls-key)"
                            : "cannot listen on %s",
                     addr);
        http_free(h);
        return NULL;
    }
    return h;
}

unsigned
srv_http_port(const struct srv_http *h)
{
    const union MHD_DaemonInfo *info;

    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info != NULL ? info->port : 0;
}

const char *
srv_http_mode(const struct srv_http *h)
{
    return h->mode;
}

const char *
srv_http_scheme(const struct srv_http *h)
{
    return h->tls ? "https" : "http";
}

bool
srv_http_auth_on(const struct srv_http *h)
{
    return h->auth != NULL;
}

void
srv_http_quiesce(struct srv_http *h)
{
    atomic_store(&h->stopping, true);
    if (h->quiesced != MHD_INVALID_SOCKET)
        return;
    h->quiesced = MHD_quiesce_daemon(h->daemon);
    /* The pool no longer accepts, but the kernel would still complete
     * handshakes into the backlog and leave those clients hanging until
     * the end. Shutting the socket down refuses them at once; closing it
     * must wait for MHD_stop_daemon(), as the workers may still hold the
     * descriptor. */
    if (h->quiesced != MHD_INVALID_SOCKET)
        shutdown(h->quiesced, SHUT_RDWR);
}

size_t
srv_http_inflight(struct srv_http *h)
{
    size_t n;

    pthread_mutex_lock(&h->lock);
    n = h->inflight;
    pthread_mutex_unlock(&h->lock);
    return n;
}

size_t
srv_http_wait_idle(struct srv_http *h, unsigned timeout_ms)
{
    struct timespec deadline;
    size_t left;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    while (h->inflight > 0) {
        if (pthread_cond_timedwait(&h->idle, &h->lock, &deadline) == ETIMEDOUT)
            break;
    }
    left = h->inflight;
    pthread_mutex_unlock(&h->lock);
    return left;
}

void
srv_http_stop(struct srv_http *h)
{
    if (h == NULL)
        return;
    /* libmicrohttpd may not stop with a connection suspended: let every
     * offloaded request finish and resume its connection first. */
    pthread_mutex_lock(&h->lock);
    while (h->jobs > 0)
        pthread_cond_wait(&h->jobs_idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
    MHD_stop_daemon(h->daemon);
    if (h->quiesced != MHD_INVALID_SOCKET)
        close(h->quiesced);
    http_free(h);
}
