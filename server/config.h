/*
 * The settings of one netpolq process: where to listen, what to load at
 * start, and the limits. They come from command-line flags and from
 * NETPOLQ_* environment variables (for containers); a flag always wins over
 * its variable. This file parses and validates; it neither reads manifests
 * nor opens sockets, though it does resolve the listen address.
 */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/error.h"
#include "server/log.h"

#define SRV_DEFAULT_LISTEN             "127.0.0.1:8080"
#define SRV_DEFAULT_MAX_BODY           ((size_t)64 << 20)
#define SRV_MAX_THREADS                4096
#define SRV_DEFAULT_MAX_CONNECTIONS    1024
#define SRV_DEFAULT_CONNECTION_TIMEOUT 30 /* seconds */

/* Which requests need a bearer token when --token-file is given. */
enum srv_auth_scope {
    SRV_AUTH_ALL,    /* every request but /healthz and /readyz */
    SRV_AUTH_WRITES, /* only those that change the state */
};

/* What main() should do after parsing. */
enum srv_action { SRV_ACTION_RUN, SRV_ACTION_HELP, SRV_ACTION_VERSION };

struct srv_config {
    enum srv_action action;
    char listen[256];             /* HOST:PORT as given, for messages */
    struct sockaddr_storage addr; /* listen resolved by srv_config_parse() */
    socklen_t addrlen;
    char **loads; /* owned: files and directories, in the order given */
    size_t nloads;
    char *state_file; /* owned; NULL when not given */
    unsigned threads; /* >= 1; default: the number of online cores */
    size_t max_body;  /* bytes */
    bool ipblock_matches_pods;
    enum srv_log_format log_format; /* --log-format; default text */
    enum srv_log_level log_level;   /* --log-level; default info */
    /* --cors-origin, lower case, without duplicates: owned; {"*"} for
     * every origin. */
    char **cors_origins;
    size_t ncors_origins;
    /* The api limits (struct api_limits), api_config_defaults() unless
     * given. */
    size_t max_objects;
    size_t max_depth;
    size_t max_string; /* bytes */
    size_t max_documents;
    size_t max_batch;
    size_t max_matrix_pods;
    unsigned max_connections;    /* open connections, >= threads */
    unsigned connection_timeout; /* seconds a connection may stay idle */
    char *token_file;            /* owned; NULL: no authentication */
    enum srv_auth_scope auth;
    bool auth_given; /* --auth or NETPOLQ_AUTH was set */
    char *tls_cert;  /* owned PEM file names; both or neither */
    char *tls_key;
};

/* Fills cfg with the defaults. */
void srv_config_init(struct srv_config *cfg);

/* Releases what cfg owns; cfg may be parsed again after srv_config_init(). */
void srv_config_fini(struct srv_config *cfg);

/* Reads the flags in argv (argv[0] is the program name), then the NETPOLQ_*
 * variables for every setting no flag gave, then resolves the listen
 * address. Stops at --help or --version, setting cfg->action, without
 * reading the environment. Returns 0, or -1 with err set to a message that
 * names the flag or variable (NP_E_INVALID_VALUE); the caller prints it and
 * exits 2. */
int srv_config_parse(struct srv_config *cfg, int argc, char *const argv[],
                     struct np_error *err);

/* Writes the usage text, every option with its variable, to fp. */
void srv_config_usage(FILE *fp);

/* Formats the address of sa as "127.0.0.1:8080" or "[::1]:8080" into buf.
 * port replaces the port of sa unless it is 0. */
void srv_config_format_addr(const struct sockaddr *sa, unsigned port, char *buf,
                            size_t len);

#endif
