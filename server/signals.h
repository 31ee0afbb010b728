/*
 * Shutdown on SIGINT and SIGTERM. The signals are blocked in every thread
 * and taken synchronously with sigwait() by the main thread, so no code runs
 * in a signal handler and the shutdown path can call anything.
 */
#ifndef SRV_SIGNALS_H
#define SRV_SIGNALS_H

#include "server/http.h"

/* Seconds srv_signals_serve() waits for requests in progress: well inside
 * the 30 s Kubernetes grants between SIGTERM and SIGKILL. */
#define SRV_DRAIN_TIMEOUT 20

/* Blocks SIGINT and SIGTERM in the calling thread and ignores SIGPIPE. Call
 * it before any thread starts so that every thread inherits the mask.
 * Returns 0, or -1 with errno set. */
int srv_signals_block(void);

/* Waits for SIGINT or SIGTERM, then stops accepting connections, lets the
 * requests in progress finish (up to SRV_DRAIN_TIMEOUT seconds) and stops
 * the server; h is freed. Returns the signal that arrived. */
int srv_signals_serve(struct srv_http *h);

#endif
