/*
 * Long requests do not hold the connections that share their polling
 * thread. The server runs with --threads 1, so every connection is served
 * by one libmicrohttpd thread; an upload of a large cluster (hundreds of
 * milliseconds of parsing and building) is sent whole on a raw socket, and
 * while its answer has not arrived, GET /healthz and POST /reachability on
 * other connections must keep being answered. A server answering uploads
 * in its polling thread answers none of them until the upload is done.
 * Then: SIGTERM while such an upload is being answered still answers it
 * and exits 0 (libmicrohttpd may not stop with a connection suspended).
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "tests/support/bigyaml.h"
#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

#define NNAMESPACES 100
#define NPODS       20000
#define NPOLICIES   2000

static void
start_one_thread(void)
{
    static const char *const args[] = { "--threads", "1", "--max-body", "256M",
                                        NULL };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

TestSuite(offload, .init = start_one_thread, .fini = tsuite_stop);

/* A cluster large enough that building it takes a while: pods with labels
 * and ports, and policies with selectors and rules in every namespace. */
static struct tbig_buf
large_cluster(void)
{
    struct tbig_buf b = { 0 };
    int i;

    for (i = 0; i < NNAMESPACES; i++)
        tbig_printf(&b,
                    "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns%d, "
                    "labels: {team: t%d}}\n---\n",
                    i, i % 7);
    for (i = 0; i < NPODS; i++)
        tbig_printf(
            &b,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: pod%d, namespace: "
            "ns%d, labels: {app: a%d, tier: t%d, version: v%d}}\nspec: "
            "{containers: [{name: c, ports: [{containerPort: 8080, name: "
            "http}, {containerPort: 9090, name: metrics}]}]}\nstatus: "
            "{podIP: 10.%d.%d.%d}\n---\n",
            i, i % NNAMESPACES, i % 50, i % 3, i % 5, 1 + i / 65536,
            (i / 256) % 256, i % 256);
    for (i = 0; i < NPOLICIES; i++)
        tbig_printf(
            &b,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: pol%d, namespace: ns%d}\nspec:\n  "
            "podSelector: {matchLabels: {app: a%d}}\n  ingress:\n  - from:\n"
            "    - namespaceSelector: {matchExpressions: [{key: team, "
            "operator: In, values: [t1, t2]}]}\n      podSelector: "
            "{matchLabels: {tier: t%d}}\n    - ipBlock: {cidr: 10.0.0.0/8, "
            "except: [10.1.0.0/16]}\n    ports:\n    - {port: http}\n"
            "    - {port: 7000, endPort: 7100}\n---\n",
            i, i % NNAMESPACES, i % 50, i % 3);
    return b;
}

/* Sends PUT /state with the cluster on a new connection, whole, and
 * returns the socket the answer will come on. */
static int
send_upload(const struct tbig_buf *cluster)
{
    char head[256];
    int fd, n;

    fd = thttp_connect(tsuite_srv.port);
    cr_assert_geq(fd, 0, "cannot connect");
    n = snprintf(head, sizeof(head),
                 "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/yaml\r\nContent-Length: %zu\r\n\r\n",
                 cluster->len);
    cr_assert_eq(thttp_send(fd, head, (size_t)n), 0);
    cr_assert_eq(thttp_send(fd, cluster->p, cluster->len), 0);
    return fd;
}

static bool
answer_arrived(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1;
}

static void
expect_upload_answer(int fd)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_read_response(fd, tsrv_timeout_ms() * 4, &r), 0,
                 "no answer to the upload");
    cr_expect_eq(r.status, 200, "upload: %ld %s", r.status, r.body);
    cr_expect_not_null(strstr(r.body, "\"pods\":20000"), "%s", r.body);
    thttp_resp_fini(&r);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

Test(offload, queries_are_answered_while_an_upload_is_built)
{
    static const char query[] =
        "{\"from\":{\"namespace\":\"ns1\",\"pod\":\"pod1\"},"
        "\"to\":{\"namespace\":\"ns2\",\"pod\":\"pod2\"},\"port\":8080}";
    struct tbig_buf cluster = large_cluster();
    double alone, start, slowest = 0;
    int fd, n = 0;

    /* How long the upload takes with nothing else going on: nearly all of
     * it is parsing and building, which a server answering in its polling
     * thread spends with every other connection waiting. */
    start = now_ms();
    fd = send_upload(&cluster);
    expect_upload_answer(fd);
    close(fd);
    alone = now_ms() - start;

    fd = send_upload(&cluster);
    while (!answer_arrived(fd)) {
        struct thttp_resp r;
        double t = now_ms();

        if (n % 2 == 0)
            cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
        else
            cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                                       "application/json", query, strlen(query),
                                       &r),
                         0);
        cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
        thttp_resp_fini(&r);
        t = now_ms() - t;
        if (t > slowest)
            slowest = t;
        n++;
    }
    expect_upload_answer(fd);
    close(fd);
    free(cluster.p);
    cr_log_info("upload alone %.1f ms; %d requests during the second, the "
                "slowest %.1f ms",
                alone, n, slowest);
    /* Waiting for the build would take most of the upload's time. */
    cr_expect_lt(slowest, alone / 3,
                 "a request waited %.1f ms while an upload taking %.1f ms "
                 "was answered",
                 slowest, alone);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0, "netpolq did not exit 0");
}

Test(offload, sigterm_waits_for_an_upload_being_built)
{
    struct tbig_buf cluster = large_cluster();
    int fd;

    fd = send_upload(&cluster);
    tsrv_signal(&tsuite_srv, SIGTERM);
    expect_upload_answer(fd);
    close(fd);
    free(cluster.p);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0,
                 "netpolq did not exit 0 after answering the upload");
}

Test(offload, a_client_leaving_during_an_upload_costs_nothing)
{
    struct tbig_buf cluster = large_cluster();
    struct pollfd p;
    struct thttp_resp r;
    int fd;

    /* The client hangs up while its upload is being built (the build
     * takes hundreds of milliseconds; the client waits 100 for the server
     * to have read the body): the answer made for it is released and the
     * server goes on. Leaks show in the exit status under the sanitizers
     * and valgrind. */
    fd = send_upload(&cluster);
    p.fd = fd;
    p.events = POLLIN;
    cr_assert_eq(poll(&p, 1, 100), 0, "the upload was answered too soon");
    close(fd);
    free(cluster.p);
    cr_assert(tsrv_wait_log(&tsuite_srv, "method=PUT path=/state"),
              "the upload's request was never over");
    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
    cr_expect_eq(r.status, 200, "%ld %s", r.status, r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0, "netpolq did not exit 0");
}
