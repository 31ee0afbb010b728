/*
 * The limits as flags, against the binary: each limit set low through its
 * flag lets a request at the limit through and answers one over it with a
 * 4xx whose message names the limit and its value; --max-connections holds
 * extra clients back until a connection closes; --connection-timeout
 * closes idle and half-sent requests, and slow clients (slowloris) do not
 * keep other clients from being served. Bad values exit 2.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* A growable string. */
struct buf {
    char *s;
    size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        cr_assert(n >= 0);
        if ((size_t)n < room)
            break;
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        cr_assert_not_null(b->s);
    }
    b->len += (size_t)n;
}

/* A JSON List of n namespaces. */
static char *
namespaces(unsigned n)
{
    struct buf b = { 0 };
    unsigned i;

    buf_printf(&b, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    for (i = 0; i < n; i++)
        buf_printf(&b,
                   "%s{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                   "\"metadata\":{\"name\":\"ns-%u\"}}",
                   i > 0 ? "," : "", i);
    buf_printf(&b, "]}");
    return b.s;
}

/* A YAML stream of n Namespace documents. */
static char *
documents(unsigned n)
{
    struct buf b = { 0 };
    unsigned i;

    for (i = 0; i < n; i++)
        buf_printf(&b,
                   "---\napiVersion: v1\nkind: Namespace\n"
                   "metadata: {name: doc-%u}\n",
                   i);
    return b.s;
}

/* A Namespace whose objects and arrays nest depth levels deep (the
 * Namespace itself is level 1), as JSON: arrays inside spec, which the
 * decoder ignores. */
static char *
nested(unsigned depth)
{
    struct buf b = { 0 };
    unsigned i;

    buf_printf(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                   "\"metadata\":{\"name\":\"deep\"},\"spec\":{\"x\":");
    for (i = 2; i < depth; i++)
        buf_printf(&b, "[");
    buf_printf(&b, "1");
    for (i = 2; i < depth; i++)
        buf_printf(&b, "]");
    buf_printf(&b, "}}");
    return b.s;
}

/* A Namespace with a label value of len bytes. */
static char *
long_label(unsigned len)
{
    struct buf b = { 0 };
    char *v = malloc(len + 1);

    cr_assert_not_null(v);
    memset(v, 'v', len);
    v[len] = '\0';
    buf_printf(&b,
               "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
               "\"name\":\"long\",\"annotations\":{\"note\":\"%s\"}}}",
               v);
    free(v);
    return b.s;
}

/* A batch of n queries. */
static char *
batch(unsigned n)
{
    struct buf b = { 0 };
    unsigned i;

    buf_printf(&b, "{\"queries\":[");
    for (i = 0; i < n; i++)
        buf_printf(&b,
                   "%s{\"from\":{\"ip\":\"10.0.0.1\"},\"to\":{\"ip\":"
                   "\"10.0.0.2\"},\"port\":80}",
                   i > 0 ? "," : "");
    buf_printf(&b, "]}");
    return b.s;
}

static long
send_body(const char *method, const char *path, const char *ct,
          const char *body, struct thttp_resp *r)
{
    cr_assert_eq(thttp_request(tsuite_srv.base, method, path, ct, body,
                               body != NULL ? strlen(body) : 0, r),
                 0, "%s %s: no answer", method, path);
    return r->status;
}

/* Asserts an over-the-limit answer: status, code, and a message naming
 * the limit (name) and its value. */
static void
assert_limit(const struct thttp_resp *r, long status, const char *code,
             const char *name, const char *value)
{
    json_t *error = json_object_get(r->json, "error");
    const char *got = json_string_value(json_object_get(error, "code"));
    const char *message = json_string_value(json_object_get(error, "message"));

    cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status,
                 status, r->body);
    cr_assert_str_eq(got != NULL ? got : "", code, "%s", r->body);
    cr_assert_not_null(message, "%s", r->body);
    cr_assert(strstr(message, name) != NULL, "the limit %s is not named: %s",
              name, message);
    cr_assert(strstr(message, value) != NULL, "the value %s is not given: %s",
              value, message);
}

static void
start_with(const char *flag, const char *value)
{
    const char *args[] = { flag, value, NULL };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0,
                 "netpolq %s %s did not start", flag, value);
}

Test(limits, max_body_flag, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *ok = namespaces(1);
    char *big = namespaces(40);

    start_with("--max-body", "512");
    cr_assert_lt(strlen(ok), 512);
    cr_assert_eq(send_body("PUT", "/state", "application/json", ok, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/json", big, &r);
    assert_limit(&r, 413, "body_too_large", "--max-body", "512");
    thttp_resp_fini(&r);
    free(ok);
    free(big);
    tsuite_assert_exit_0();
}

Test(limits, max_objects_flag, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *ok = namespaces(3);
    char *over = namespaces(4);

    start_with("--max-objects", "3");
    cr_assert_eq(send_body("PUT", "/state", "application/json", ok, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/json", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_objects", "3");
    thttp_resp_fini(&r);
    free(ok);
    free(over);
    tsuite_assert_exit_0();
}

Test(limits, max_depth_flag, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *ok = nested(6);
    char *over = nested(7);

    start_with("--max-depth", "6");
    cr_assert_eq(send_body("PUT", "/state", "application/json", ok, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/json", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_depth", "6");
    thttp_resp_fini(&r);
    /* The same through the YAML parser. */
    send_body("PUT", "/state", "application/yaml", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_depth", "6");
    thttp_resp_fini(&r);
    free(ok);
    free(over);
    tsuite_assert_exit_0();
}

Test(limits, max_string_flag, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *ok = long_label(40);
    char *over = long_label(41);

    start_with("--max-string", "40");
    cr_assert_eq(send_body("PUT", "/state", "application/json", ok, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/json", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_string", "40");
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/yaml", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_string", "40");
    thttp_resp_fini(&r);
    free(ok);
    free(over);
    tsuite_assert_exit_0();
}

Test(limits, max_documents_flag, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *ok = documents(2);
    char *over = documents(3);

    start_with("--max-documents", "2");
    cr_assert_eq(send_body("PUT", "/state", "application/yaml", ok, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    send_body("PUT", "/state", "application/yaml", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_documents", "2");
    thttp_resp_fini(&r);
    free(ok);
    free(over);
    tsuite_assert_exit_0();
}

Test(limits, max_batch_flag, .fini = tsuite_stop)
{
    static const char *const paths[] = { "/reachability/batch",
                                         "/reachability/batch?trace=false" };
    struct thttp_resp r;
    char *ok = batch(2);
    char *over = batch(3);
    char *over_plain;
    size_t i;

    start_with("--max-batch", "2");
    cr_assert_eq(
        send_body("POST", "/reachability/batch", "application/json", ok, &r),
        200, "%s", r.body);
    thttp_resp_fini(&r);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        send_body("POST", paths[i], "application/json", over, &r);
        if (r.status == 400 && strstr(r.body, "trace") != NULL &&
            strstr(r.body, "max_batch") == NULL) {
            /* No such query argument: the body form below covers it. */
            thttp_resp_fini(&r);
            continue;
        }
        assert_limit(&r, 400, "limit_exceeded", "max_batch", "2");
        thttp_resp_fini(&r);
    }
    /* Without traces, which may take a faster path. */
    over_plain = malloc(strlen(over) + 32);
    cr_assert_not_null(over_plain);
    snprintf(over_plain, strlen(over) + 32, "{\"trace\":false,%s", over + 1);
    send_body("POST", "/reachability/batch", "application/json", over_plain,
              &r);
    assert_limit(&r, 400, "limit_exceeded", "max_batch", "2");
    thttp_resp_fini(&r);
    free(over_plain);
    free(ok);
    free(over);
    tsuite_assert_exit_0();
}

Test(limits, max_matrix_pods_flag, .fini = tsuite_stop)
{
    static const char pods[] =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n"
        "status: {podIP: 10.0.0.1}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\n"
        "status: {podIP: 10.0.0.2}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: y}\n"
        "status: {podIP: 10.0.0.3}\n";
    static const char ok[] =
        "{\"from\":{\"namespace\":\"x\"},\"to\":{\"namespace\":\"x\"},"
        "\"port\":80}";
    static const char over[] = "{\"from\":{},\"to\":{},\"port\":80}";
    struct thttp_resp r;

    start_with("--max-matrix-pods", "2");
    cr_assert_eq(send_body("PUT", "/state", "application/yaml", pods, &r), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(
        send_body("POST", "/reachability/matrix", "application/json", ok, &r),
        200, "%s", r.body);
    thttp_resp_fini(&r);
    send_body("POST", "/reachability/matrix", "application/json", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_matrix_pods", "2");
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(limits, limits_from_the_environment, .fini = tsuite_stop)
{
    struct thttp_resp r;
    char *over = namespaces(3);

    setenv("NETPOLQ_MAX_OBJECTS", "2", 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0);
    send_body("PUT", "/state", "application/json", over, &r);
    assert_limit(&r, 400, "limit_exceeded", "max_objects", "2");
    thttp_resp_fini(&r);
    free(over);
    tsuite_assert_exit_0();
}

/* --- connections --- */

/* Opens a connection and sends the first bytes of a request, never its
 * end. Returns the socket. */
static int
half_request(void)
{
    static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    int fd = thttp_connect(tsuite_srv.port);

    cr_assert_geq(fd, 0, "cannot connect");
    cr_assert_eq(thttp_send(fd, part, sizeof(part) - 1), 0);
    return fd;
}

/* Waits up to timeout_ms for the server to close fd; returns the time it
 * took, or -1. */
static long
wait_closed(int fd, long timeout_ms)
{
    long long start = now_ms();

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        long left = timeout_ms - (long)(now_ms() - start);
        char buf[512];
        ssize_t n;

        if (left <= 0)
            return -1;
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return (long)(now_ms() - start);
        /* A 408 or similar before the close is fine: keep reading. */
    }
}

/* A GET /healthz on its own thread, so that a test can watch it wait. */
struct pending_get {
    pthread_t thread;
    atomic_bool done;
    long status;
};

static void *
run_get(void *arg)
{
    struct pending_get *g = arg;
    struct thttp_resp r;

    if (thttp_get(tsuite_srv.base, "/healthz", &r) == 0)
        g->status = r.status;
    thttp_resp_fini(&r);
    atomic_store(&g->done, true);
    return NULL;
}

Test(limits, max_connections_holds_extra_clients_back, .fini = tsuite_stop)
{
    static const char *const args[] = { "--threads", "1", "--max-connections",
                                        "2", NULL };
    struct pending_get g = { .status = 0 };
    int a, b;
    long long deadline;

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    a = half_request();
    b = half_request();
    atomic_init(&g.done, false);
    cr_assert_eq(pthread_create(&g.thread, NULL, run_get, &g), 0);
    /* Both connections are taken: the third client is not served. */
    sleep_ms(500);
    cr_assert(!atomic_load(&g.done) || g.status != 200,
              "a third connection was served beyond --max-connections 2");
    /* A connection closes; the waiting client is served, or, if it was
     * turned away, the next one is. */
    close(a);
    deadline = now_ms() + 5000;
    while (!atomic_load(&g.done) && now_ms() < deadline)
        sleep_ms(20);
    pthread_join(g.thread, NULL);
    if (g.status != 200) {
        struct thttp_resp r;

        cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
        cr_assert_eq(r.status, 200, "%s", r.body);
        thttp_resp_fini(&r);
    }
    close(b);
    tsuite_assert_exit_0();
}

Test(limits, idle_and_half_sent_connections_are_closed_after_the_timeout,
     .fini = tsuite_stop)
{
    static const char *const args[] = { "--connection-timeout", "1", NULL };
    int idle, half;
    long t_idle, t_half;

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    idle = thttp_connect(tsuite_srv.port);
    cr_assert_geq(idle, 0);
    half = half_request();
    t_idle = wait_closed(idle, 6000);
    t_half = wait_closed(half, 6000);
    cr_assert_geq(t_idle, 0, "an idle connection stayed open over 6 s");
    cr_assert_geq(t_half, 0, "a half-sent request stayed open over 6 s");
    close(idle);
    close(half);
    tsuite_assert_exit_0();
}

/* Slowloris: connections that send a request header a byte at a time. */
struct slowloris {
    pthread_t thread;
    int fds[32];
    size_t nfds;
    atomic_bool stop;
};

static void *
trickle(void *arg)
{
    static const char header[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                 "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    struct slowloris *s = arg;
    size_t pos = 0;

    while (!atomic_load(&s->stop)) {
        size_t i;

        for (i = 0; i < s->nfds; i++)
            (void)thttp_send(s->fds[i], &header[pos % (sizeof(header) - 1)], 1);
        pos++;
        sleep_ms(150);
    }
    return NULL;
}

Test(limits, slow_clients_do_not_keep_others_waiting, .fini = tsuite_stop)
{
    static const char *const args[] = { "--threads", "1",
                                        "--connection-timeout", "1", NULL };
    struct slowloris s = { .nfds = 0 };
    int i;
    size_t k;

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    atomic_init(&s.stop, false);
    for (k = 0; k < sizeof(s.fds) / sizeof(s.fds[0]); k++) {
        s.fds[k] = thttp_connect(tsuite_srv.port);
        cr_assert_geq(s.fds[k], 0);
        s.nfds++;
    }
    cr_assert_eq(pthread_create(&s.thread, NULL, trickle, &s), 0);
    /* One worker thread, 32 slow clients: others are served at once. */
    for (i = 0; i < 20; i++) {
        struct thttp_resp r;
        long long t0 = now_ms();

        cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_lt(now_ms() - t0, 1000, "GET /healthz took %lld ms",
                     now_ms() - t0);
        thttp_resp_fini(&r);
        sleep_ms(50);
    }
    /* Once they stop sending, the timeout closes them all. */
    atomic_store(&s.stop, true);
    pthread_join(s.thread, NULL);
    for (k = 0; k < s.nfds; k++) {
        cr_assert_geq(wait_closed(s.fds[k], 6000), 0,
                      "slow connection %zu stayed open", k);
        close(s.fds[k]);
    }
    tsuite_assert_exit_0();
}

/* --- flags --- */

Test(limits, help_lists_every_limit_flag)
{
    static const char *const args[] = { "--help", NULL };
    static const char *const words[] = {
        "--max-objects",
        "NETPOLQ_MAX_OBJECTS",
        "--max-depth",
        "NETPOLQ_MAX_DEPTH",
        "--max-string",
        "NETPOLQ_MAX_STRING",
        "--max-documents",
        "NETPOLQ_MAX_DOCUMENTS",
        "--max-batch",
        "NETPOLQ_MAX_BATCH",
        "--max-matrix-pods",
        "NETPOLQ_MAX_MATRIX_PODS",
        "--max-connections",
        "NETPOLQ_MAX_CONNECTIONS",
        "--connection-timeout",
        "NETPOLQ_CONNECTION_TIMEOUT",
        "--token-file",
        "NETPOLQ_TOKEN_FILE",
        "--auth",
        "NETPOLQ_AUTH",
        "--tls-cert",
        "NETPOLQ_TLS_CERT",
        "--tls-key",
        "NETPOLQ_TLS_KEY",
    };
    struct tsrv_output out;
    size_t i;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 0, "%s", out.err);
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        cr_assert(strstr(out.out, words[i]) != NULL, "--help lacks %s",
                  words[i]);
    tsrv_output_fini(&out);
}

Test(limits, bad_limit_values_exit_2_naming_the_flag)
{
    static const char *const rows[][5] = {
        { "--max-objects", "0" },
        { "--max-objects", "lots" },
        { "--max-depth", "0" },
        { "--max-depth", "100000" },
        { "--max-string", "0" },
        { "--max-string", "1T" },
        { "--max-documents", "-1" },
        { "--max-batch", "" },
        { "--max-matrix-pods", "0" },
        { "--max-connections", "0" },
        { "--max-connections", "1", "--threads", "2" },
        { "--connection-timeout", "0" },
        { "--connection-timeout", "1s" },
        { "--tls-cert", "/tmp/c.pem" },
        { "--tls-key", "/tmp/k.pem" },
    };
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct tsrv_output out;

        cr_assert_eq(tsrv_run(rows[i], &out), 0);
        cr_assert_eq(out.status, 2, "%s %s: status %d: %s", rows[i][0],
                     rows[i][1], out.status, out.err);
        cr_assert(strstr(out.err, rows[i][0]) != NULL, "%s is not named: %s",
                  rows[i][0], out.err);
        tsrv_output_fini(&out);
    }
}
