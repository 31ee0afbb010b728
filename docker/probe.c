/*
 * netpolq-probe: the container image's health check. It sends one
 * "GET /healthz" to the netpolq in the same container and exits 0 when the
 * answer's status is 200, 1 otherwise (no answer, another status, a bad URL
 * or setting), which is what Docker's HEALTHCHECK and Kubernetes' exec
 * probes expect (Docker reserves 2). The runtime image has no curl or wget,
 * so the probe is a small program of its own, built beside netpolq in the
 * image's build stage.
 *
 * Usage: netpolq-probe [http://HOST:PORT/PATH]
 * Without a URL it asks http://HOST:PORT/healthz for the address in
 * NETPOLQ_LISTEN (the server's own variable), with a wildcard host
 * (0.0.0.0, "", [::]) replaced by the loopback address; without that
 * variable, http://127.0.0.1:8080/healthz. It speaks plain HTTP/1.0 only
 * (no TLS, no redirects, no proxies) and gives up after NETPOLQ_PROBE_TIMEOUT
 * seconds (default 3) in all.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DEFAULT_URL "http://127.0.0.1:8080/healthz"

struct probe_url {
    char host[256]; /* without IPv6 brackets */
    char port[8];
    char path[1024];
};

/* Milliseconds on a monotonic clock. */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits "HOST:PORT" or "[V6]:PORT" into u->host and u->port. A wildcard
 * host becomes the loopback address of its family, since a probe connects
 * where the server listens. Returns 0, or -1 when the text is not of that
 * form. */
static int
split_hostport(const char *s, size_t len, struct probe_url *u)
{
    const char *colon;
    size_t hlen;
    size_t plen;

    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);

        if (close == NULL || (size_t)(close - s) + 1 >= len || close[1] != ':')
            return -1;
        hlen = (size_t)(close - s) - 1;
        if (hlen >= sizeof(u->host))
            return -1;
        memcpy(u->host, s + 1, hlen);
        u->host[hlen] = '\0';
        colon = close + 1;
    } else {
        colon = NULL;
        for (size_t i = len; i > 0; i--) {
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        }
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof(u->host))
            return -1;
        memcpy(u->host, s, hlen);
        u->host[hlen] = '\0';
    }
    plen = len - (size_t)(colon + 1 - s);
    if (plen == 0 || plen >= sizeof(u->port))
        return -1;
    for (size_t i = 0; i < plen; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return -1;
    }
    memcpy(u->port, colon + 1, plen);
    u->port[plen] = '\0';
    if (u->host[0] == '\0' || strcmp(u->host, "0.0.0.0") == 0 ||
        strcmp(u->host, "*") == 0)
        snprintf(u->host, sizeof(u->host), "127.0.0.1");
    else if (strcmp(u->host, "::") == 0)
        snprintf(u->host, sizeof(u->host), "::1");
    return 0;
}

/* Parses "http://HOST:PORT[/PATH]" into u. Returns 0 or -1. */
static int
parse_url(const char *url, struct probe_url *u)
{
    const char *rest;
    const char *slash;
    size_t len;
    int n;

    if (strncmp(url, "http://", 7) != 0)
        return -1;
    rest = url + 7;
    slash = strchr(rest, '/');
    len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    if (split_hostport(rest, len, u) != 0)
        return -1;
    n = snprintf(u->path, sizeof(u->path), "%s", slash != NULL ? slash : "/");
    if (n < 0 || (size_t)n >= sizeof(u->path))
        return -1;
    /* The path goes into the request line as written. */
    if (strpbrk(u->path, " \r\n") != NULL)
        return -1;
    return 0;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0 or
 * -1 on timeout or error. */
static int
wait_fd(int fd, short events, long long deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    long long left;
    int rc;

    for (;;) {
        left = deadline - now_ms();
        if (left <= 0)
            return -1;
        rc = poll(&pfd, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc == 0 || errno != EINTR)
            return -1;
    }
}

/* Connects to one of host:port's addresses within the deadline. Returns the
 * socket or -1. */
static int
connect_any(const struct probe_url *u, long long deadline)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    struct addrinfo *ai;
    int fd = -1;

    if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
        return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t slen = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 &&
            soerr == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends the request and reads the status line. Returns the HTTP status, or
 * -1 when none arrived in time. */
static int
fetch_status(int fd, const struct probe_url *u, long long deadline)
{
    char req[1536];
    char buf[256];
    size_t off = 0;
    size_t len;
    int n;
    int status;

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\n"
                 "User-Agent: netpolq-probe\r\nConnection: close\r\n\r\n",
                 u->path, strchr(u->host, ':') != NULL ? "[" : "", u->host,
                 strchr(u->host, ':') != NULL ? "]" : "", u->port);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -1;
    len = (size_t)n;
    while (off < len) {
        ssize_t w;

        if (wait_fd(fd, POLLOUT, deadline) != 0)
            return -1;
        w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    /* "HTTP/1.x NNN" is all that matters; read until the first line ends. */
    off = 0;
    while (off < sizeof(buf) - 1 && memchr(buf, '\n', off) == NULL) {
        ssize_t r;

        if (wait_fd(fd, POLLIN, deadline) != 0)
            return -1;
        r = recv(fd, buf + off, sizeof(buf) - 1 - off, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    buf[off] = '\0';
    if (strncmp(buf, "HTTP/1.", 7) != 0 || off < 12 || buf[8] != ' ')
        return -1;
    status = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        status = status * 10 + (buf[i] - '0');
    }
    return status;
}

/* Fills url with the address the server was told to listen on. Returns 0
 * or -1 when NETPOLQ_LISTEN is not a HOST:PORT. */
static int
default_url(struct probe_url *u)
{
    const char *listen = getenv("NETPOLQ_LISTEN");

    if (listen == NULL || listen[0] == '\0')
        return parse_url(PROBE_DEFAULT_URL, u);
    if (split_hostport(listen, strlen(listen), u) != 0)
        return -1;
    snprintf(u->path, sizeof(u->path), "/healthz");
    return 0;
}

int
main(int argc, char **argv)
{
    struct probe_url u;
    const char *t = getenv("NETPOLQ_PROBE_TIMEOUT");
    long timeout_s = 3;
    long long deadline;
    int fd;
    int status;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--help") == 0)) {
        fprintf(stderr, "usage: netpolq-probe [http://HOST:PORT/PATH]\n");
        return argc == 2 ? 0 : 1;
    }
    if (t != NULL && t[0] != '\0') {
        char *end;

        errno = 0;
        timeout_s = strtol(t, &end, 10);
        if (errno != 0 || *end != '\0' || timeout_s < 1 || timeout_s > 600) {
            fprintf(stderr,
                    "netpolq-probe: NETPOLQ_PROBE_TIMEOUT \"%s\" is "
                    "not a number of seconds from 1 to 600\n",
                    t);
            return 1;
        }
    }
    if ((argc == 2 ? parse_url(argv[1], &u) : default_url(&u)) != 0) {
        fprintf(stderr, "netpolq-probe: \"%s\" is not http://HOST:PORT/PATH\n",
                argc == 2 ? argv[1] : getenv("NETPOLQ_LISTEN"));
        return 1;
    }
    deadline = now_ms() + timeout_s * 1000;
    fd = connect_any(&u, deadline);
    if (fd < 0) {
        fprintf(stderr, "netpolq-probe: cannot connect to %s port %s\n", u.host,
                u.port);
        return 1;
    }
    status = fetch_status(fd, &u, deadline);
    close(fd);
    if (status != 200) {
        if (status < 0)
            fprintf(stderr, "netpolq-probe: no HTTP answer from %s port %s\n",
                    u.host, u.port);
        else
            fprintf(stderr, "netpolq-probe: GET %s answered %d\n", u.path,
                    status);
        return 1;
    }
    return 0;
}
