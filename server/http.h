/*
 * The HTTP side of netpolq: a libmicrohttpd daemon whose access handler
 * turns each request into a struct api_request, calls api_dispatch() and
 * turns the struct api_response back into an HTTP answer. Only this file
 * calls libmicrohttpd. It owns the body limit (413 before reading a body
 * that declares itself too large, 413 when a body grows past the limit) and
 * graceful shutdown; everything about routes and JSON is in api/.
 */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/error.h"
#include "server/config.h"

struct srv_http;

/* Starts listening on cfg->addr with a pool of cfg->threads threads, each
 * polling its own connections with poll(),
 * serving HTTPS with cfg->tls_cert and cfg->tls_key when given, and asking
 * for the tokens of cfg->token_file when given (read here, once).
 * ctx is borrowed and must outlive the daemon; cfg is read only during the
 * call. Returns the running server (owned: stop it with srv_http_stop()), or
 * NULL with err set; libmicrohttpd has then logged the cause (the address is
 * in use, ...). */
struct srv_http *srv_http_start(const struct srv_config *cfg,
                                struct api_ctx *ctx, struct np_error *err);

/* Returns the port the server listens on (useful when the port was 0). */
unsigned srv_http_port(const struct srv_http *h);

/* Returns "poll", the polling mode of the worker threads (for the
 * readiness line). */
const char *srv_http_mode(const struct srv_http *h);

/* Returns "https" with --tls-cert, else "http". */
const char *srv_http_scheme(const struct srv_http *h);

/* Returns true when requests need a bearer token (--token-file). */
bool srv_http_auth_on(const struct srv_http *h);

/* Stops accepting connections: connection attempts are refused from now
 * on, connections already open are still served, and their answers carry
 * "Connection: close". */
void srv_http_quiesce(struct srv_http *h);

/* Returns the number of requests in progress (headers received, answer not
 * yet sent). */
size_t srv_http_inflight(struct srv_http *h);

/* Waits up to timeout_ms for the requests in progress to be answered.
 * Returns the number still in progress (0 when all finished). */
size_t srv_http_wait_idle(struct srv_http *h, unsigned timeout_ms);

/* Stops the daemon, closing whatever connections remain, and frees h.
 * NULL is ignored. */
void srv_http_stop(struct srv_http *h);

#endif
