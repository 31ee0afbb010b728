/*
 * SIGINT/SIGTERM: stop accepting, finish what is in flight, return to main()
 * for an exit 0. The signals stay blocked from start-up on and are collected
 * with sigwait(), which is simpler than a self-pipe and leaves no
 * async-signal-safety rules to follow. SIGPIPE is ignored: a client that
 * goes away must not kill the server.
 */
#include "server/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "server/log.h"

static void
shutdown_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

int
srv_signals_block(void)
{
    struct sigaction sa;
    sigset_t set;
    int rc;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    shutdown_set(&set);
    rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int
srv_signals_serve(struct srv_http *h)
{
    sigset_t set;
    size_t inflight;
    size_t left;
    int sig = 0;

    shutdown_set(&set);
    while (sigwait(&set, &sig) != 0)
        continue;
    srv_http_quiesce(h);
    inflight = srv_http_inflight(h);
    log_info("%s received: refusing new connections, finishing %zu "
             "request%s in progress",
             sig == SIGINT ? "SIGINT" : "SIGTERM", inflight,
             inflight == 1 ? "" : "s");
    left = srv_http_wait_idle(h, SRV_DRAIN_TIMEOUT * 1000);
    if (left > 0)
        log_warnx("%zu requests still in progress after %d s; closing them",
                  left, SRV_DRAIN_TIMEOUT);
    srv_http_stop(h);
    return sig;
}
