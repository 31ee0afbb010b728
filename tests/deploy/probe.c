/*
 * docker/probe.c, the container image's HEALTHCHECK, against the real
 * netpolq binary: exit 0 on a 200 from /healthz, 1 on anything else (another
 * status, nothing listening, a server that never answers, a bad URL or
 * setting), and the default URL taken from NETPOLQ_LISTEN with a wildcard
 * host turned into the loopback address.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "tests/support/server.h"

static struct tsrv srv;

/* Runs the probe with url as its argument (NULL for none) and only the
 * given environment entries (NULL-terminated, may be NULL). Returns its exit
 * status, or -1 when it did not exit normally. */
static int
run_probe(const char *url, char *const *env)
{
    char *const empty[] = { NULL };
    pid_t pid;
    int status;

    pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        char *argv[] = { (char *)NETPOLQ_PROBE_BIN, (char *)url, NULL };

        execve(NETPOLQ_PROBE_BIN, argv, env != NULL ? env : empty);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        cr_assert_eq(errno, EINTR, "waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
start(void)
{
    cr_assert_eq(tsrv_start(&srv, NULL), 0, "netpolq did not start");
}

static void
stop_quietly(void)
{
    tsrv_stop(&srv);
}

/* Criterion 2.4 ignores failed assertions in .fini. */
static void
assert_exit_0(void)
{
    cr_assert_eq(tsrv_stop(&srv), 0, "netpolq did not exit 0 on SIGTERM");
}

TestSuite(probe, .init = start, .fini = stop_quietly);
TestSuite(probe_alone);

Test(probe, healthz_200_exits_0)
{
    char url[160];

    snprintf(url, sizeof(url), "%s/healthz", srv.base);
    cr_assert_eq(run_probe(url, NULL), 0);
    assert_exit_0();
}

Test(probe, other_status_exits_1)
{
    char url[160];

    snprintf(url, sizeof(url), "%s/no/such/path", srv.base);
    cr_assert_eq(run_probe(url, NULL), 1);
    assert_exit_0();
}

Test(probe, stopped_server_exits_1)
{
    char url[160];

    snprintf(url, sizeof(url), "%s/healthz", srv.base);
    cr_assert_eq(run_probe(url, NULL), 0);
    assert_exit_0();
    cr_assert_eq(run_probe(url, NULL), 1, "the probe passed with no server");
}

/* NETPOLQ_LISTEN, as the image sets it, chooses the URL when none is
 * given. A wildcard host means "ask the loopback address". */
struct listen_case {
    char format[32]; /* %u is the server's port */
};

static struct listen_case listen_cases[] = {
    { .format = "127.0.0.1:%u" },
    { .format = "0.0.0.0:%u" },
    { .format = ":%u" },
    { .format = "localhost:%u" },
};

ParameterizedTestParameters(probe, default_url_follows_netpolq_listen)
{
    return cr_make_param_array(struct listen_case, listen_cases,
                               sizeof(listen_cases) / sizeof(listen_cases[0]));
}

ParameterizedTest(struct listen_case *c, probe,
                  default_url_follows_netpolq_listen)
{
    char listen[64];
    char *env[] = { listen, NULL };
    int n;

    n = snprintf(listen, sizeof(listen), "NETPOLQ_LISTEN=");
    snprintf(listen + n, sizeof(listen) - (size_t)n, c->format, srv.port);
    cr_assert_eq(run_probe(NULL, env), 0, "%s", listen);
    assert_exit_0();
}

struct bad_case {
    char url[64];
    char env[64]; /* "" for none */
};

static struct bad_case bad_cases[] = {
    { .url = "ftp://127.0.0.1:1/healthz" },
    { .url = "http://127.0.0.1/healthz" },
    { .url = "http://127.0.0.1:http/healthz" },
    { .url = "http://[::1/healthz" },
    { .url = "http://127.0.0.1:1/he alth" },
    { .env = "NETPOLQ_LISTEN=no-port" },
    { .url = "http://127.0.0.1:1/healthz", .env = "NETPOLQ_PROBE_TIMEOUT=0" },
    { .url = "http://127.0.0.1:1/healthz", .env = "NETPOLQ_PROBE_TIMEOUT=x" },
};

ParameterizedTestParameters(probe_alone, bad_url_or_setting_exits_1)
{
    return cr_make_param_array(struct bad_case, bad_cases,
                               sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_case *c, probe_alone, bad_url_or_setting_exits_1)
{
    char *env[] = { c->env, NULL };

    cr_assert_eq(run_probe(c->url[0] != '\0' ? c->url : NULL,
                           c->env[0] != '\0' ? env : NULL),
                 1, "url \"%s\", %s", c->url, c->env);
}

Test(probe_alone, silent_server_times_out_with_1)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    char url[96];
    char timeout[] = "NETPOLQ_PROBE_TIMEOUT=1";
    char *env[] = { timeout, NULL };
    struct timespec t0, t1;
    double secs;
    int fd;

    /* A socket that accepts connections (the kernel's backlog) but never
     * answers. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz",
             (unsigned)ntohs(sin.sin_port));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(run_probe(url, env), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert(secs >= 0.9 && secs < 5.0, "gave up after %.2f s, want ~1 s",
              secs);
    close(fd);
}
