/*
 * The netpolq launcher for tests/api/. fork() and exec() rather than
 * posix_spawn(), so that the child can ask to be killed with its parent
 * (PR_SET_PDEATHSIG): a test that crashes must not leave a server behind.
 */
#include "tests/support/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX  ((size_t)1 << 20)
#define MAX_ARGS 64

int
tsrv_timeout_ms(void)
{
    const char *w = getenv("NETPOLQ_TEST_WRAPPER");

    return w != NULL && w[0] != '\0' ? 100000 : 10000;
}

static bool
verbose(void)
{
    const char *v = getenv("NETPOLQ_TEST_VERBOSE");

    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

unsigned
tsrv_free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    unsigned port = 0;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

/* Fills argv with the wrapper's words, the binary and args. wrapper is a
 * writable copy that argv points into. Returns the count, or -1. */
static int
build_argv(const char **argv, char *wrapper, const char *listen,
           const char *const *args)
{
    int n = 0;
    char *p = wrapper;

    while (p != NULL && *p != '\0') {
        p += strspn(p, " \t");
        if (*p == '\0')
            break;
        if (n >= MAX_ARGS - 4)
            return -1;
        argv[n++] = p;
        p += strcspn(p, " \t");
        if (*p != '\0')
            *p++ = '\0';
    }
    argv[n++] = NETPOLQ_BIN;
    if (listen != NULL) {
        argv[n++] = "--listen";
        argv[n++] = listen;
    }
    for (; args != NULL && *args != NULL; args++) {
        if (n >= MAX_ARGS - 1)
            return -1;
        argv[n++] = *args;
    }
    argv[n] = NULL;
    return n;
}

static int
pipe_cloexec(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Forks and execs argv with stdin from /dev/null, stdout to out_fd (or the
 * test's stdout when -1) and stderr to err_fd. */
static pid_t
spawn(const char **argv, int out_fd, int err_fd)
{
    pid_t pid;

    pid = fork();
    if (pid != 0)
        return pid;
    /* The child: only async-signal-safe calls until exec. */
    {
        sigset_t none;
        int devnull;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        if (out_fd >= 0)
            dup2(out_fd, STDOUT_FILENO);
        dup2(err_fd, STDERR_FILENO);
        /* Ignored signals stay ignored across exec; the server must see
         * them as a normal process would. */
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], (char *const *)argv);
        {
            static const char msg[] = "tsrv: exec failed\n";

            if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
                _exit(127);
        }
        _exit(127);
    }
}

static int
exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return -1;
}

static int
reap(pid_t pid)
{
    int wstatus;

    while (waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return exit_status(wstatus);
}

/* Called with s->lock held, after new output: notices the readiness line
 * and takes the base URL from it. */
static void
check_ready(struct tsrv *s)
{
    const char *line;
    const char *url;
    const char *end;
    const char *colon;
    size_t len;

    line = strstr(s->log, "listening on");
    if (line == NULL || strchr(line, '\n') == NULL)
        return;
    s->ready = true;
    url = strstr(line, "http://");
    if (url == NULL)
        return;
    end = url + strcspn(url, " \n");
    len = (size_t)(end - url);
    if (len >= sizeof(s->base))
        return;
    memcpy(s->base, url, len);
    s->base[len] = '\0';
    colon = strrchr(s->base, ':');
    if (colon != NULL)
        s->port = (unsigned)strtoul(colon + 1, NULL, 10);
}

static void *
drain(void *arg)
{
    struct tsrv *s = arg;
    char buf[4096];

    for (;;) {
        ssize_t n = read(s->err_fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (verbose() && write(STDERR_FILENO, buf, (size_t)n) < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        if (s->log_len < LOG_MAX) {
            size_t take = (size_t)n;

            if (take > LOG_MAX - s->log_len)
                take = LOG_MAX - s->log_len;
            if (s->log_len + take + 1 > s->log_cap) {
                size_t cap = s->log_cap * 2;
                char *log;

                while (cap < s->log_len + take + 1)
                    cap *= 2;
                log = realloc(s->log, cap);
                if (log != NULL) {
                    s->log = log;
                    s->log_cap = cap;
                } else {
                    take = 0;
                }
            }
            memcpy(s->log + s->log_len, buf, take);
            s->log_len += take;
            s->log[s->log_len] = '\0';
        }
        if (!s->ready)
            check_ready(s);
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_lock(&s->lock);
    s->eof = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void
dump_log(struct tsrv *s, const char *why)
{
    pthread_mutex_lock(&s->lock);
    fprintf(stderr, "tsrv: %s; netpolq wrote:\n%s\n", why,
            s->log != NULL ? s->log : "");
    pthread_mutex_unlock(&s->lock);
}

/* Waits until the predicate field becomes true or the deadline passes.
 * Returns its value. */
static bool
wait_for(struct tsrv *s, const bool *flag, int ms)
{
    struct timespec deadline;
    bool v;

    deadline_in(&deadline, ms);
    pthread_mutex_lock(&s->lock);
    while (!*flag && !s->eof) {
        if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) ==
            ETIMEDOUT)
            break;
    }
    v = *flag;
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* Ends the server's story: reaps it (SIGKILL first when kill is true),
 * joins the drainer and frees the buffers. */
static void
finish(struct tsrv *s, bool kill_it)
{
    if (kill_it)
        kill(s->pid, SIGKILL);
    if (s->drainer_running)
        pthread_join(s->drainer, NULL);
    s->drainer_running = false;
    s->status = reap(s->pid);
    if (kill_it)
        s->status = -1;
    s->pid = 0;
    if (s->err_fd >= 0)
        close(s->err_fd);
    s->err_fd = -1;
    free(s->log);
    s->log = NULL;
    s->log_len = s->log_cap = 0;
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
}

int
tsrv_start(struct tsrv *s, const char *const *args)
{
    const char *argv[MAX_ARGS];
    char listen[32];
    char *wrapper = NULL;
    const char *w;
    pthread_condattr_t ca;
    int fds[2];

    memset(s, 0, sizeof(*s));
    s->status = -1;
    s->err_fd = -1;
    s->port = tsrv_free_port();
    if (s->port == 0)
        return -1;
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", s->port);
    snprintf(s->base, sizeof(s->base), "http://%s", listen);
    w = getenv("NETPOLQ_TEST_WRAPPER");
    if (w != NULL && w[0] != '\0') {
        wrapper = strdup(w);
        if (wrapper == NULL)
            return -1;
    }
    if (build_argv(argv, wrapper, listen, args) < 0 || pipe_cloexec(fds) != 0) {
        free(wrapper);
        return -1;
    }
    s->log_cap = 4096;
    s->log = calloc(1, s->log_cap);
    if (s->log == NULL) {
        close(fds[0]);
        close(fds[1]);
        free(wrapper);
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &ca);
    pthread_condattr_destroy(&ca);
    s->pid = spawn(argv, -1, fds[1]);
    free(wrapper);
    close(fds[1]);
    s->err_fd = fds[0];
    if (s->pid < 0) {
        s->pid = 0;
        close(s->err_fd);
        s->err_fd = -1;
        free(s->log);
        s->log = NULL;
        pthread_cond_destroy(&s->changed);
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    if (pthread_create(&s->drainer, NULL, drain, s) != 0) {
        finish(s, true);
        return -1;
    }
    s->drainer_running = true;
    if (wait_for(s, &s->ready, tsrv_timeout_ms()))
        return 0;
    dump_log(s, s->eof ? "netpolq exited during start-up"
                       : "no readiness line before the timeout");
    finish(s, !s->eof);
    return -1;
}

void
tsrv_signal(struct tsrv *s, int sig)
{
    if (s->pid > 0)
        kill(s->pid, sig);
}

int
tsrv_stop(struct tsrv *s)
{
    return tsrv_stop_signal(s, SIGTERM);
}

int
tsrv_stop_signal(struct tsrv *s, int sig)
{
    bool exited;

    if (s->pid <= 0)
        return s->status;
    kill(s->pid, sig);
    exited = wait_for(s, &s->eof, tsrv_timeout_ms());
    if (!exited)
        dump_log(s, "no exit after SIGTERM before the timeout");
    if (exited) {
        /* Read the status before the log goes, to decide whether to show
         * it. */
        int status;
        char *log = NULL;

        pthread_mutex_lock(&s->lock);
        if (s->log != NULL)
            log = strdup(s->log);
        pthread_mutex_unlock(&s->lock);
        finish(s, false);
        status = s->status;
        if (status != 0)
            fprintf(stderr,
                    "tsrv: netpolq exited with status %d; it wrote:\n%s\n",
                    status, log != NULL ? log : "");
        free(log);
        return status;
    }
    finish(s, true);
    return s->status;
}

bool
tsrv_log_contains(struct tsrv *s, const char *needle)
{
    bool found;

    if (s->pid <= 0)
        return false;
    pthread_mutex_lock(&s->lock);
    found = s->log != NULL && strstr(s->log, needle) != NULL;
    pthread_mutex_unlock(&s->lock);
    return found;
}

bool
tsrv_wait_log(struct tsrv *s, const char *needle)
{
    struct timespec deadline;
    bool found;

    if (s->pid <= 0)
        return false;
    deadline_in(&deadline, tsrv_timeout_ms());
    pthread_mutex_lock(&s->lock);
    for (;;) {
        found = s->log != NULL && strstr(s->log, needle) != NULL;
        if (found || s->eof)
            break;
        if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) ==
            ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

struct sink {
    char *buf;
    size_t len;
    size_t cap;
};

static int
sink_add(struct sink *k, const char *data, size_t n)
{
    if (k->len + n + 1 > k->cap) {
        size_t cap = k->cap != 0 ? k->cap : 4096;
        char *buf;

        while (cap < k->len + n + 1)
            cap *= 2;
        buf = realloc(k->buf, cap);
        if (buf == NULL)
            return -1;
        k->buf = buf;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, data, n);
    k->len += n;
    k->buf[k->len] = '\0';
    return 0;
}

int
tsrv_run(const char *const *args, struct tsrv_output *out)
{
    const char *argv[MAX_ARGS];
    char *wrapper = NULL;
    const char *w;
    struct sink sinks[2];
    struct pollfd pfd[2];
    int outp[2];
    int errp[2];
    long long deadline;
    bool timed_out = false;
    pid_t pid;
    int i;

    memset(out, 0, sizeof(*out));
    memset(sinks, 0, sizeof(sinks));
    w = getenv("NETPOLQ_TEST_WRAPPER");
    if (w != NULL && w[0] != '\0') {
        wrapper = strdup(w);
        if (wrapper == NULL)
            return -1;
    }
    if (build_argv(argv, wrapper, NULL, args) < 0 || pipe_cloexec(outp) != 0) {
        free(wrapper);
        return -1;
    }
    if (pipe_cloexec(errp) != 0) {
        close(outp[0]);
        close(outp[1]);
        free(wrapper);
        return -1;
    }
    pid = spawn(argv, outp[1], errp[1]);
    free(wrapper);
    close(outp[1]);
    close(errp[1]);
    if (pid < 0) {
        close(outp[0]);
        close(errp[0]);
        return -1;
    }
    pfd[0].fd = outp[0];
    pfd[1].fd = errp[0];
    pfd[0].events = pfd[1].events = POLLIN;
    deadline = now_ms() + tsrv_timeout_ms();
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        long long left = deadline - now_ms();
        int r;

        if (left <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        r = poll(pfd, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        for (i = 0; i < 2; i++) {
            char buf[4096];
            ssize_t n;

            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            n = read(pfd[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                continue;
            }
            sink_add(&sinks[i], buf, (size_t)n);
        }
    }
    for (i = 0; i < 2; i++) {
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    }
    out->status = reap(pid);
    if (timed_out)
        out->status = -1;
    out->out = sinks[0].buf != NULL ? sinks[0].buf : strdup("");
    out->err = sinks[1].buf != NULL ? sinks[1].buf : strdup("");
    return 0;
}

void
tsrv_output_fini(struct tsrv_output *out)
{
    free(out->out);
    free(out->err);
    memset(out, 0, sizeof(*out));
}
