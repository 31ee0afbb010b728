/*
 * The Prometheus registry (metrics.h) and GET /metrics, in the text
 * exposition format 0.0.4. Counters are written by many threads with
 * relaxed atomic additions and read at scrape time without stopping them:
 * a scrape may see one request's count without its duration sum, which
 * Prometheus tolerates, but every atomic_uint_least64_t only ever grows.
 *
 * Cardinality is bounded by construction: requests are keyed by the index
 * of their route in the route table (one pattern such as
 * /pods/{ns}/{name}/isolation, never the raw path) or "unmatched", by one of
 * eight method names and by one of a fixed list of status codes. Series
 * that are still zero are left out of the scrape.
 *
 * Process figures (CPU time, memory, descriptors) come from getrusage(),
 * getrlimit() and /proc/self on Linux; where /proc is missing those lines
 * are left out rather than reported as zero.
 */
#include "api/metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "core/snapshot.h"

/* Methods with their own series; anything else is counted as "other". */
static const char *const methods[] = { "GET",    "HEAD",  "POST",    "PUT",
                                       "DELETE", "PATCH", "OPTIONS", "other" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* Status codes with their own series. Any other status is counted under its
 * class ("1xx" ... "5xx"), the last five slots. */
static const int codes[] = { 200, 201, 202, 204, 206, 301, 302, 304, 307,
                             308, 400, 401, 403, 404, 405, 406, 408, 409,
                             410, 411, 412, 413, 414, 415, 416, 417, 421,
                             422, 429, 431, 500, 501, 502, 503, 504, 505 };
#define NCODES_EXACT (sizeof(codes) / sizeof(codes[0]))
#define NCODES       (NCODES_EXACT + 5)

/* Request latency: 50 µs to 10 s. */
static const uint64_t latency_ns[] = {
    50000,     100000,     250000,     500000,     1000000,     2500000,
    5000000,   10000000,   25000000,   50000000,   100000000,   250000000,
    500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const latency_le[] = {
    "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
    "0.005", "0.01",   "0.025",   "0.05",   "0.1",   "0.25",
    "0.5",   "1",      "2.5",     "5",      "10",
};
#define NLATENCY (sizeof(latency_le) / sizeof(latency_le[0]))
_Static_assert(sizeof(latency_ns) / sizeof(latency_ns[0]) == NLATENCY,
               "one bound per bucket label");

/* Uploads parse and compile a whole state: 1 ms to 60 s. */
static const uint64_t upload_ns[] = {
    1000000,     5000000,     10000000,    50000000,   100000000,
    250000000,   500000000,   1000000000,  2500000000, 5000000000,
    10000000000, 30000000000, 60000000000,
};
static const char *const upload_le[] = { "0.001", "0.005", "0.01", "0.05",
                                         "0.1",   "0.25",  "0.5",  "1",
                                         "2.5",   "5",     "10",   "30",
                                         "60" };
#define NUPLOAD (sizeof(upload_le) / sizeof(upload_le[0]))
_Static_assert(sizeof(upload_ns) / sizeof(upload_ns[0]) == NUPLOAD,
               "one bound per bucket label");

/* Queries per batch. */
static const uint64_t batch_bounds[] = { 1,     10,     100,    1000,
                                         10000, 100000, 1000000 };
static const char *const batch_le[] = { "1",     "10",     "100",  "1000",
                                        "10000", "100000", "1e+06" };
#define NBATCH (sizeof(batch_le) / sizeof(batch_le[0]))
_Static_assert(sizeof(batch_bounds) / sizeof(batch_bounds[0]) == NBATCH,
               "one bound per bucket label");

struct api_metrics {
    size_t nroutes; /* route table entries; slot nroutes is "unmatched" */
    atomic_uint_least64_t *requests;    /* [route slot][method][code] */
    atomic_uint_least64_t *latency;     /* [route slot][method][NLATENCY + 1] */
    atomic_uint_least64_t *latency_sum; /* [route slot][method], nanoseconds */
    atomic_uint_least64_t upload_bucket[NUPLOAD + 1];
    atomic_uint_least64_t upload_sum; /* nanoseconds */
    atomic_uint_least64_t batch_bucket[NBATCH + 1];
    atomic_uint_least64_t batch_sum;   /* queries */
    atomic_uint_least64_t verdicts[2]; /* allowed, denied */
    struct timespec start;             /* CLOCK_REALTIME at creation */
};

static void
counters_init(atomic_uint_least64_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        atomic_init(&c[i], 0);
}

static atomic_uint_least64_t *
counters_new(size_t n)
{
    atomic_uint_least64_t *c = malloc(n * sizeof(*c));

    if (c != NULL)
        counters_init(c, n);
    return c;
}

struct api_metrics *
api_metrics_new(size_t nroutes)
{
    struct api_metrics *m = calloc(1, sizeof(*m));
    size_t nslots = (nroutes + 1) * NMETHODS;

    if (m == NULL)
        return NULL;
    m->nroutes = nroutes;
    m->requests = counters_new(nslots * NCODES);
    m->latency = counters_new(nslots * (NLATENCY + 1));
    m->latency_sum = counters_new(nslots);
    if (m->requests == NULL || m->latency == NULL || m->latency_sum == NULL) {
        api_metrics_free(m);
        return NULL;
    }
    counters_init(m->upload_bucket, NUPLOAD + 1);
    atomic_init(&m->upload_sum, 0);
    counters_init(m->batch_bucket, NBATCH + 1);
    atomic_init(&m->batch_sum, 0);
    counters_init(m->verdicts, 2);
    clock_gettime(CLOCK_REALTIME, &m->start);
    return m;
}

void
api_metrics_free(struct api_metrics *m)
{
    if (m == NULL)
        return;
    free(m->requests);
    free(m->latency);
    free(m->latency_sum);
    free(m);
}

static void
add(atomic_uint_least64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
get(atomic_uint_least64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Returns the bucket of v: the first bound v does not exceed, or nbounds
 * (+Inf). */
static size_t
bucket_of(const uint64_t *bounds, size_t nbounds, uint64_t v)
{
    size_t i;

    for (i = 0; i < nbounds; i++)
        if (v <= bounds[i])
            break;
    return i;
}

static size_t
method_index(const char *method)
{
    size_t i;

    for (i = 0; method != NULL && i + 1 < NMETHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return NMETHODS - 1;
}

static size_t
code_index(int status)
{
    size_t i;

    for (i = 0; i < NCODES_EXACT; i++)
        if (codes[i] == status)
            return i;
    if (status < 100 || status > 599)
        status = 500;
    return NCODES_EXACT + (size_t)(status / 100 - 1);
}

void
api_metrics_request(struct api_metrics *m, int route, const char *method,
                    int status, uint64_t ns)
{
    size_t r;
    size_t slot;

    if (m == NULL)
        return;
    r = route >= 0 && (size_t)route < m->nroutes ? (size_t)route : m->nroutes;
    slot = r * NMETHODS + method_index(method);
    add(&m->requests[slot * NCODES + code_index(status)], 1);
    add(&m->latency[slot * (NLATENCY + 1) +
                    bucket_of(latency_ns, NLATENCY, ns)],
        1);
    add(&m->latency_sum[slot], ns);
}

void
api_metrics_upload(struct api_metrics *m, uint64_t ns)
{
    if (m == NULL)
        return;
    add(&m->upload_bucket[bucket_of(upload_ns, NUPLOAD, ns)], 1);
    add(&m->upload_sum, ns);
}

void
api_metrics_verdicts(struct api_metrics *m, uint64_t allowed, uint64_t denied)
{
    if (m == NULL)
        return;
    if (allowed > 0)
        add(&m->verdicts[0], allowed);
    if (denied > 0)
        add(&m->verdicts[1], denied);
}

void
api_metrics_batch(struct api_metrics *m, size_t nqueries)
{
    if (m == NULL)
        return;
    add(&m->batch_bucket[bucket_of(batch_bounds, NBATCH, nqueries)], 1);
    add(&m->batch_sum, nqueries);
}

/* --- the scrape ---------------------------------------------------------- */

/* A growing text buffer; the first failure sticks and the text is then
 * dropped. */
struct buf {
    char *p;
    size_t len;
    size_t cap;
    bool failed;
};

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = b->cap != 0 ? b->cap : 16384;
            char *p;

            while (cap - b->len <= (size_t)n)
                cap *= 2;
            p = realloc(b->p, cap);
            if (p == NULL) {
                b->failed = true;
                return;
            }
            b->p = p;
            b->cap = cap;
        }
    }
}

static void
header(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Formats ns nanoseconds as seconds, exactly ("1.000250000"). */
static void
seconds(char *out, size_t len, uint64_t ns)
{
    snprintf(out, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
             (unsigned long long)(ns % 1000000000u));
}

/* Writes the _bucket, _sum and _count lines of one histogram series.
 * labels is "" or the series' labels followed by a comma. */
static void
histogram(struct buf *b, const char *name, const char *labels,
          const char *const *le, size_t nbounds, atomic_uint_least64_t *bucket,
          const char *sum)
{
    uint64_t total = 0;
    size_t i;

    for (i = 0; i <= nbounds; i++) {
        total += get(&bucket[i]);
        buf_printf(b, "%s_bucket{%sle=\"%s\"} %llu\n", name, labels,
                   i < nbounds ? le[i] : "+Inf", (unsigned long long)total);
    }
    /* Without labels, "name{}" would be valid but unusual. */
    if (labels[0] == '\0') {
        buf_printf(b, "%s_sum %s\n%s_count %llu\n", name, sum, name,
                   (unsigned long long)total);
        return;
    }
    buf_printf(b, "%s_sum{%.*s} %s\n%s_count{%.*s} %llu\n", name,
               (int)strlen(labels) - 1, labels, sum, name,
               (int)strlen(labels) - 1, labels, (unsigned long long)total);
}

static const char *
route_label(const struct api_metrics *m, size_t r)
{
    return r < m->nroutes ? api_route_pattern(r) : "unmatched";
}

static void
code_label(char *out, size_t len, size_t c)
{
    if (c < NCODES_EXACT)
        snprintf(out, len, "%d", codes[c]);
    else
        snprintf(out, len, "%cxx", (char)('1' + (c - NCODES_EXACT)));
}

static void
write_requests(struct buf *b, struct api_metrics *m)
{
    size_t nslots = (m->nroutes + 1) * NMETHODS;
    size_t s, c;

    header(b, "netpolq_http_requests_total", "counter",
           "HTTP requests answered, by route pattern (\"unmatched\" for "
           "paths no route knows), method and status code.");
    for (s = 0; s < nslots; s++) {
        for (c = 0; c < NCODES; c++) {
            uint64_t n = get(&m->requests[s * NCODES + c]);
            char code[8];

            if (n == 0)
                continue;
            code_label(code, sizeof(code), c);
            buf_printf(b,
                       "netpolq_http_requests_total{route=\"%s\",method=\"%s\","
                       "code=\"%s\"} %llu\n",
                       route_label(m, s / NMETHODS), methods[s % NMETHODS],
                       code, (unsigned long long)n);
        }
    }
    header(b, "netpolq_http_request_duration_seconds", "histogram",
           "Time from a complete request to its answer, by route pattern "
           "and method (receiving the body and sending the answer not "
           "included).");
    for (s = 0; s < nslots; s++) {
        atomic_uint_least64_t *bucket = &m->latency[s * (NLATENCY + 1)];
        char labels[160];
        char sum[32];
        size_t i;
        bool any = false;

        for (i = 0; i <= NLATENCY && !any; i++)
            any = get(&bucket[i]) != 0;
        if (!any)
            continue;
        snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",",
                 route_label(m, s / NMETHODS), methods[s % NMETHODS]);
        seconds(sum, sizeof(sum), get(&m->latency_sum[s]));
        histogram(b, "netpolq_http_request_duration_seconds", labels,
                  latency_le, NLATENCY, bucket, sum);
    }
}

static void
write_state(struct buf *b, struct api_ctx *ctx)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    struct api_metrics *m = ctx->metrics;
    char sum[32];

    header(b, "netpolq_state_revision", "gauge",
           "Revision of the state queries are answered from.");
    buf_printf(b, "netpolq_state_revision %llu\n",
               (unsigned long long)snap->revision);
    header(b, "netpolq_objects", "gauge",
           "Objects in the current state, by kind (namespaces include the "
           "implicit ones).");
    buf_printf(b,
               "netpolq_objects{kind=\"namespace\"} %u\n"
               "netpolq_objects{kind=\"pod\"} %u\n"
               "netpolq_objects{kind=\"networkpolicy\"} %u\n",
               (unsigned)snap->nnamespaces, (unsigned)snap->npods,
               (unsigned)snap->npolicies);
    np_snapshot_release(snap);
    header(b, "netpolq_state_upload_duration_seconds", "histogram",
           "Time to parse, compile and publish a successful PUT or POST "
           "/state.");
    seconds(sum, sizeof(sum), get(&m->upload_sum));
    histogram(b, "netpolq_state_upload_duration_seconds", "", upload_le,
              NUPLOAD, m->upload_bucket, sum);
}

static void
write_queries(struct buf *b, struct api_metrics *m)
{
    char sum[32];

    header(b, "netpolq_verdicts_total", "counter",
           "Reachability verdicts given: single queries, batch items and "
           "matrix pairs.");
    buf_printf(b,
               "netpolq_verdicts_total{verdict=\"allowed\"} %llu\n"
               "netpolq_verdicts_total{verdict=\"denied\"} %llu\n",
               (unsigned long long)get(&m->verdicts[0]),
               (unsigned long long)get(&m->verdicts[1]));
    header(b, "netpolq_batch_queries", "histogram",
           "Queries per POST /reachability/batch that was answered.");
    snprintf(sum, sizeof(sum), "%llu", (unsigned long long)get(&m->batch_sum));
    histogram(b, "netpolq_batch_queries", "", batch_le, NBATCH, m->batch_bucket,
              sum);
}

/* Returns the number of open descriptors, or -1 without /proc. */
static long
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    long n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the descriptor of d itself */
}

static void
write_process(struct buf *b, struct api_metrics *m)
{
    struct rusage ru;
    struct rlimit rl;
    unsigned long long vsize, rss;
    FILE *fp;
    long fds;

    header(b, "netpolq_build_info", "gauge",
           "Always 1; the version of the running netpolq as a label.");
    buf_printf(b, "netpolq_build_info{version=\"%s\"} 1\n", NETPOLQ_VERSION);
    header(b, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
    buf_printf(b, "process_start_time_seconds %lld.%09ld\n",
               (long long)m->start.tv_sec, m->start.tv_nsec);
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        long usec = ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        long long sec =
            (long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + usec / 1000000;

        header(b, "process_cpu_seconds_total", "counter",
               "Total user and system CPU time spent in seconds.");
        buf_printf(b, "process_cpu_seconds_total %lld.%06ld\n", sec,
                   usec % 1000000);
    }
    fp = fopen("/proc/self/statm", "r");
    if (fp != NULL) {
        long page = sysconf(_SC_PAGESIZE);

        if (fscanf(fp, "%llu %llu", &vsize, &rss) == 2 && page > 0) {
            header(b, "process_virtual_memory_bytes", "gauge",
                   "Virtual memory size in bytes.");
            buf_printf(b, "process_virtual_memory_bytes %llu\n",
                       vsize * (unsigned long long)page);
            header(b, "process_resident_memory_bytes", "gauge",
                   "Resident memory size in bytes.");
            buf_printf(b, "process_resident_memory_bytes %llu\n",
                       rss * (unsigned long long)page);
        }
        fclose(fp);
    }
    fds = open_fds();
    if (fds >= 0) {
        header(b, "process_open_fds", "gauge",
               "Number of open file descriptors.");
        buf_printf(b, "process_open_fds %ld\n", fds);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        header(b, "process_max_fds", "gauge",
               "Maximum number of open file descriptors.");
        buf_printf(b, "process_max_fds %llu\n",
                   (unsigned long long)rl.rlim_cur);
    }
}

void
api_metrics_get(struct api_ctx *ctx, const struct api_request *req,
                const char *const *params, size_t nparams,
                struct api_response *resp)
{
    struct buf b = { 0 };

    (void)req;
    (void)params;
    (void)nparams;
    if (ctx->metrics == NULL) {
        api_reply_errorf(resp, NP_E_INTERNAL, "this server keeps no metrics");
        return;
    }
    write_requests(&b, ctx->metrics);
    write_state(&b, ctx);
    write_queries(&b, ctx->metrics);
    write_process(&b, ctx->metrics);
    if (b.failed || b.p == NULL) {
        free(b.p);
        api_reply_errorf(resp, NP_E_NOMEM, "out of memory writing metrics");
        return;
    }
    free(resp->body);
    resp->status = 200;
    resp->body = b.p;
    resp->body_len = b.len;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
