/*
 * Bearer tokens (--token-file, --auth): which requests need one, and
 * whether the Authorization header carries one of the tokens. Tokens are
 * compared in time that depends on neither the token given nor the tokens
 * kept, and they never appear in a message or a log line.
 */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "server/config.h"

/* The longest token accepted in the file. */
#define SRV_AUTH_TOKEN_MAX 512

enum srv_auth_result {
    SRV_AUTH_OK,
    SRV_AUTH_MISSING, /* no Authorization header, or not a Bearer one */
    SRV_AUTH_INVALID, /* a Bearer token that is not one of ours */
};

struct srv_auth;

/* Reads the tokens of path: one a line, surrounding spaces and tabs (and a
 * CR) removed; blank lines and lines starting with '#' skipped. A token is
 * 1 to SRV_AUTH_TOKEN_MAX printable ASCII characters without spaces. Returns
 * the token set (owned: srv_auth_free()), or NULL with err set to a message
 * naming the file and, for a bad token, its line number, never the token
 * itself. A file without tokens is an error. */
struct srv_auth *srv_auth_load(const char *path, enum srv_auth_scope scope,
                               struct np_error *err);

/* Wipes the tokens from memory and frees a. NULL is ignored. */
void srv_auth_free(struct srv_auth *a);

/* Returns true when a request of method on path needs a token:
 * with SRV_AUTH_ALL every request except GET or HEAD of /healthz and
 * /readyz; with SRV_AUTH_WRITES only requests that may change the state,
 * that is every method but GET and HEAD, except POST to the query routes
 * under /reachability. OPTIONS (CORS preflights) never needs one. */
bool srv_auth_needed(const struct srv_auth *a, const char *method,
                     const char *path);

/* Checks an Authorization header value (NULL when absent) against every
 * token, without stopping at the first match or mismatch. */
enum srv_auth_result srv_auth_check(const struct srv_auth *a,
                                    const char *authorization);

#endif
