/*
 * Flags and NETPOLQ_* variables into struct srv_config. The options are one
 * table, so the flag parser, the environment pass and --help cannot drift
 * apart. Whether a --load path exists and what it holds is main.c's
 * business; this file only collects the paths.
 */
#include "server/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "core/net.h"

/* Bounds of the numeric options. Nesting deeper than jansson's own limit
 * (2048) could never be parsed anyway. */
#define MAX_DEPTH       1000
#define MAX_DEPTH_TEXT  "1000"
#define MAX_CONNECTIONS 1000000
#define MAX_TIMEOUT     86400

enum opt_id {
    OPT_LISTEN,
    OPT_LOAD,
    OPT_THREADS,
    OPT_MAX_BODY,
    OPT_MAX_OBJECTS,
    OPT_MAX_DEPTH,
    OPT_MAX_STRING,
    OPT_MAX_DOCUMENTS,
    OPT_MAX_BATCH,
    OPT_MAX_MATRIX_PODS,
    OPT_MAX_CONNECTIONS,
    OPT_CONNECTION_TIMEOUT,
    OPT_IPBLOCK_MATCHES_PODS,
    OPT_STATE_FILE,
    OPT_TOKEN_FILE,
    OPT_AUTH,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_CORS_ORIGIN,
    OPT_HELP,
    OPT_VERSION,
    OPT__MAX
};

struct opt {
    enum opt_id id;
    const char *name; /* without the leading "--" */
    const char *env;  /* the variable that also sets it, or NULL */
    const char *arg;  /* placeholder of the value; NULL: takes no value */
    const char *help; /* lines separated by '\n' */
};

static const struct opt opts[] = {
    {
        .id = OPT_LISTEN,
        .name = "listen",
        .env = "NETPOLQ_LISTEN",
        .arg = "HOST:PORT",
        .help = "Address to listen on: 127.0.0.1:8080, [::1]:8080 or\n"
                "localhost:8080; \":8080\" means every IPv4 interface.\n"
                "Default: " SRV_DEFAULT_LISTEN ".",
    },
    {
        .id = OPT_LOAD,
        .name = "load",
        .env = "NETPOLQ_LOAD",
        .arg = "FILE|DIR",
        .help = "Manifests to load at start, all as one PUT /state.\n"
                "Repeatable. A directory loads its *.yaml, *.yml and *.json\n"
                "files in name order (not recursive). The variable holds a\n"
                "list separated by ':' or ','.",
    },
    {
        .id = OPT_THREADS,
        .name = "threads",
        .env = "NETPOLQ_THREADS",
        .arg = "N",
        .help = "Worker threads. Default: the number of online cores.",
    },
    {
        .id = OPT_MAX_BODY,
        .name = "max-body",
        .env = "NETPOLQ_MAX_BODY",
        .arg = "BYTES",
        .help = "Largest request body; larger ones get 413. Suffixes K, M\n"
                "and G multiply by 1024, 1024^2 and 1024^3. Default: 64M.",
    },
    {
        .id = OPT_MAX_OBJECTS,
        .name = "max-objects",
        .env = "NETPOLQ_MAX_OBJECTS",
        .arg = "N",
        .help = "Most objects in one upload; more get 400 limit_exceeded.\n"
                "Default: 1000000.",
    },
    {
        .id = OPT_MAX_DEPTH,
        .name = "max-depth",
        .env = "NETPOLQ_MAX_DEPTH",
        .arg = "N",
        .help = "Deepest nesting of a YAML or JSON body, 1 to " MAX_DEPTH_TEXT
                ".\nDefault: 64.",
    },
    {
        .id = OPT_MAX_STRING,
        .name = "max-string",
        .env = "NETPOLQ_MAX_STRING",
        .arg = "BYTES",
        .help = "Longest string (key or value) in a body; K, M and G\n"
                "suffixes as for --max-body. Default: 1M.",
    },
    {
        .id = OPT_MAX_DOCUMENTS,
        .name = "max-documents",
        .env = "NETPOLQ_MAX_DOCUMENTS",
        .arg = "N",
        .help = "Most documents in one YAML stream. Default: 1000000.",
    },
    {
        .id = OPT_MAX_BATCH,
        .name = "max-batch",
        .env = "NETPOLQ_MAX_BATCH",
        .arg = "N",
        .help = "Most queries in one POST /reachability/batch.\n"
                "Default: 1000000.",
    },
    {
        .id = OPT_MAX_MATRIX_PODS,
        .name = "max-matrix-pods",
        .env = "NETPOLQ_MAX_MATRIX_PODS",
        .arg = "N",
        .help = "Most pods on each side of a POST /reachability/matrix.\n"
                "Default: 200000.",
    },
    {
        .id = OPT_MAX_CONNECTIONS,
        .name = "max-connections",
        .env = "NETPOLQ_MAX_CONNECTIONS",
        .arg = "N",
        .help = "Most connections open at once, at least --threads; more\n"
                "are closed at once. Lowered to what the open-files limit\n"
                "allows. Default: 1024.",
    },
    {
        .id = OPT_CONNECTION_TIMEOUT,
        .name = "connection-timeout",
        .env = "NETPOLQ_CONNECTION_TIMEOUT",
        .arg = "SECONDS",
        .help = "Close a connection that sends nothing for this long, a\n"
                "half-sent request included. Default: 30.",
    },
    {
        .id = OPT_IPBLOCK_MATCHES_PODS,
        .name = "ipblock-matches-pods",
        .env = "NETPOLQ_IPBLOCK_MATCHES_PODS",
        .arg = "true|false",
        .help = "Whether ipBlock peers also match pods by their IP, as most\n"
                "CNI plugins do. Default: true.",
    },
    {
        .id = OPT_STATE_FILE,
        .name = "state-file",
        .env = "NETPOLQ_STATE_FILE",
        .arg = "PATH",
        .help = "Keep the state in PATH across restarts: every change is\n"
                "written to PATH (through PATH.tmp, fsync and rename) before\n"
                "it is answered, and restored with its revision at start;\n"
                "--load files then apply on top as one more revision. A\n"
                "damaged file stops the start; a missing one starts empty.",
    },
    {
        .id = OPT_TOKEN_FILE,
        .name = "token-file",
        .env = "NETPOLQ_TOKEN_FILE",
        .arg = "FILE",
        .help = "Require \"Authorization: Bearer TOKEN\" with one of the\n"
                "tokens in FILE, one a line (blank lines and lines starting\n"
                "with # are skipped). /healthz and /readyz stay open.",
    },
    {
        .id = OPT_AUTH,
        .name = "auth",
        .env = "NETPOLQ_AUTH",
        .arg = "all|writes",
        .help = "With --token-file: \"all\" protects every call, \"writes\"\n"
                "only the calls that change the state (PUT, POST and DELETE\n"
                "/state, the DELETE routes). Default: all.",
    },
    {
        .id = OPT_TLS_CERT,
        .name = "tls-cert",
        .env = "NETPOLQ_TLS_CERT",
        .arg = "FILE",
        .help = "Serve HTTPS with this PEM certificate (chain); needs\n"
                "--tls-key.",
    },
    {
        .id = OPT_TLS_KEY,
        .name = "tls-key",
        .env = "NETPOLQ_TLS_KEY",
        .arg = "FILE",
        .help = "The PEM private key of --tls-cert.",
    },
    {
        .id = OPT_LOG_FORMAT,
        .name = "log-format",
        .env = "NETPOLQ_LOG_FORMAT",
        .arg = "text|json",
        .help = "Log lines on stderr as \"netpolq: message key=value\" (text)\n"
                "or as one JSON object each (json). Default: text.",
    },
    {
        .id = OPT_LOG_LEVEL,
        .name = "log-level",
        .env = "NETPOLQ_LOG_LEVEL",
        .arg = "LEVEL",
        .help = "Least important lines logged: debug, info (one line per\n"
                "request and per change of the state), warn or error. The\n"
                "readiness line is always logged. Default: info.",
    },
    {
        .id = OPT_CORS_ORIGIN,
        .name = "cors-origin",
        .env = "NETPOLQ_CORS_ORIGIN",
        .arg = "ORIGIN",
        .help = "Let browser scripts from ORIGIN (https://host[:port]) read\n"
                "the answers (CORS); \"*\" lets every origin. Repeatable;\n"
                "the variable holds a list separated by ','. Default: none.",
    },
    {
        .id = OPT_HELP,
        .name = "help",
        .help = "Print this help and exit.",
    },
    {
        .id = OPT_VERSION,
        .name = "version",
        .help = "Print the version and exit.",
    },
};
_Static_assert(sizeof(opts) / sizeof(opts[0]) == OPT__MAX,
               "opts has one row per enum opt_id");

void
srv_config_init(struct srv_config *cfg)
{
    struct api_config acfg;
    long ncpu;

    memset(cfg, 0, sizeof(*cfg));
    cfg->action = SRV_ACTION_RUN;
    snprintf(cfg->listen, sizeof(cfg->listen), "%s", SRV_DEFAULT_LISTEN);
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    if (ncpu > SRV_MAX_THREADS)
        ncpu = SRV_MAX_THREADS;
    cfg->threads = (unsigned)ncpu;
    cfg->max_body = SRV_DEFAULT_MAX_BODY;
    cfg->ipblock_matches_pods = true;
    cfg->log_format = SRV_LOG_TEXT;
    cfg->log_level = SRV_LOG_INFO;
    api_config_defaults(&acfg);
    cfg->max_objects = acfg.limits.max_objects;
    cfg->max_depth = acfg.limits.max_depth;
    cfg->max_string = acfg.limits.max_string;
    cfg->max_documents = acfg.limits.max_documents;
    cfg->max_batch = acfg.limits.max_batch;
    cfg->max_matrix_pods = acfg.limits.max_matrix_pods;
    cfg->max_connections = SRV_DEFAULT_MAX_CONNECTIONS;
    cfg->connection_timeout = SRV_DEFAULT_CONNECTION_TIMEOUT;
    cfg->auth = SRV_AUTH_ALL;
}

void
srv_config_fini(struct srv_config *cfg)
{
    size_t i;

    for (i = 0; i < cfg->nloads; i++)
        free(cfg->loads[i]);
    free(cfg->loads);
    for (i = 0; i < cfg->ncors_origins; i++)
        free(cfg->cors_origins[i]);
    free(cfg->cors_origins);
    cfg->cors_origins = NULL;
    cfg->ncors_origins = 0;
    free(cfg->state_file);
    free(cfg->token_file);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    cfg->loads = NULL;
    cfg->nloads = 0;
    cfg->state_file = NULL;
    cfg->token_file = NULL;
    cfg->tls_cert = NULL;
    cfg->tls_key = NULL;
}

/* Finds the option named by arg (the text after "--"), which may carry its
 * value as "name=value"; *value is set to that value or NULL. */
static const struct opt *
opt_find(const char *arg, const char **value)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    size_t i;

    *value = eq != NULL ? eq + 1 : NULL;
    for (i = 0; i < OPT__MAX; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    }
    return NULL;
}

static int
add_load(struct srv_config *cfg, const char *path, size_t len,
         const char *source, struct np_error *err)
{
    char **loads;
    char *copy;

    if (len == 0)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s needs a file or directory", source);
    copy = strndup(path, len);
    if (copy == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    loads = realloc(cfg->loads, (cfg->nloads + 1) * sizeof(*loads));
    if (loads == NULL) {
        free(copy);
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    }
    loads[cfg->nloads++] = copy;
    cfg->loads = loads;
    return 0;
}

/* Adds one CORS origin (len bytes of s). An origin is what browsers send
 * in Origin (RFC 6454): scheme "://" host [":" port], no path; scheme and
 * host are compared in lower case, as browsers serialize them. "*" allows
 * every origin and must come alone. */
static int
add_cors_origin(struct srv_config *cfg, const char *s, size_t len,
                const char *source, struct np_error *err)
{
    char origin[256];
    const char *host;
    char **list;
    size_t i;

    if (len == 0 || len >= sizeof(origin))
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s needs an origin such as "
                            "https://dash.example.com, or *",
                            source);
    for (i = 0; i < len; i++)
        origin[i] = (char)tolower((unsigned char)s[i]);
    origin[len] = '\0';
    if (strcmp(origin, "*") != 0) {
        host = strncmp(origin, "https://", 8) == 0  ? origin + 8
               : strncmp(origin, "http://", 7) == 0 ? origin + 7
                                                    : NULL;
        if (host == NULL || *host == '\0' ||
            host[strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]")] !=
                '\0')
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s \"%.64s\" is not an origin: write "
                                "scheme://host[:port] without a path or a "
                                "trailing slash, as in "
                                "https://dash.example.com:8443, or *",
                                source, origin);
    }
    for (i = 0; i < cfg->ncors_origins; i++) {
        if (strcmp(cfg->cors_origins[i], origin) == 0)
            return 0;
        if (strcmp(cfg->cors_origins[i], "*") == 0 || strcmp(origin, "*") == 0)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s: \"*\" already allows every origin; "
                                "give it alone",
                                source);
    }
    list = realloc(cfg->cors_origins, (cfg->ncors_origins + 1) * sizeof(*list));
    if (list == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    cfg->cors_origins = list;
    list[cfg->ncors_origins] = strdup(origin);
    if (list[cfg->ncors_origins] == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    cfg->ncors_origins++;
    return 0;
}

/* NETPOLQ_CORS_ORIGIN holds origins separated by ','. */
static int
apply_cors_list(struct srv_config *cfg, const char *list, const char *source,
                struct np_error *err)
{
    const char *p = list;

    while (*p != '\0') {
        size_t len;

        p += strspn(p, " ");
        len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len > 0 && add_cors_origin(cfg, p, len, source, err) != 0)
            return -1;
        p += strcspn(p, ",");
        if (*p != '\0')
            p++;
    }
    return 0;
}

/* Parses a positive byte count with an optional K, M or G suffix. The result
 * stays below SIZE_MAX / 2 so that doubling a buffer up to it never
 * overflows. */
static int
parse_size(const char *s, size_t *out)
{
    uint64_t v = 0;
    unsigned shift = 0;
    const char *p;

    if (*s < '0' || *s > '9')
        return -1;
    for (p = s; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    switch (*p) {
    case 'k':
    case 'K':
        shift = 10;
        p++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        p++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        p++;
        break;
    default:
        break;
    }
    if (*p != '\0' || v == 0 || v > ((uint64_t)(SIZE_MAX / 2) >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

/* Replaces the owned string *dst with a copy of the path value. */
static int
set_path(char **dst, const char *value, const char *source,
         struct np_error *err)
{
    char *copy;

    if (value[0] == '\0')
        return np_error_set(err, NP_E_INVALID_VALUE, "%s needs a path", source);
    copy = strdup(value);
    if (copy == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    free(*dst);
    *dst = copy;
    return 0;
}

/* Parses a count from 1 to max into *n. */
static int
parse_count(const char *value, uint32_t max, uint32_t *n, const char *source,
            struct np_error *err)
{
    if (np_parse_u32(value, 1, max, n) != 0)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s must be a number from 1 to %lu, not "
                            "\"%.32s\"",
                            source, (unsigned long)max, value);
    return 0;
}

/* Parses a count from 1 to max into *dst. */
static int
set_count(size_t *dst, const char *value, uint32_t max, const char *source,
          struct np_error *err)
{
    uint32_t n;

    if (parse_count(value, max, &n, source, err) != 0)
        return -1;
    *dst = n;
    return 0;
}

/* Parses a byte count (parse_size()) into *dst. */
static int
set_size(size_t *dst, const char *value, const char *source,
         struct np_error *err)
{
    if (parse_size(value, dst) != 0)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s must be a positive number of bytes, "
                            "optionally followed by K, M or G, not "
                            "\"%.32s\"",
                            source, value);
    return 0;
}

/* Applies one value of option o; source names where it came from ("--threads"
 * or "NETPOLQ_THREADS") for the error message. */
static int
opt_apply(struct srv_config *cfg, const struct opt *o, const char *value,
          const char *source, struct np_error *err)
{
    uint32_t n;
    int written;

    switch (o->id) {
    case OPT_LISTEN:
        written = snprintf(cfg->listen, sizeof(cfg->listen), "%s", value);
        if (written < 0 || (size_t)written >= sizeof(cfg->listen))
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s is too long to be HOST:PORT", source);
        return 0;
    case OPT_LOAD:
        return add_load(cfg, value, strlen(value), source, err);
    case OPT_THREADS:
        if (parse_count(value, SRV_MAX_THREADS, &n, source, err) != 0)
            return -1;
        cfg->threads = n;
        return 0;
    case OPT_MAX_BODY:
        return set_size(&cfg->max_body, value, source, err);
    case OPT_IPBLOCK_MATCHES_PODS:
        if (strcasecmp(value, "true") == 0)
            cfg->ipblock_matches_pods = true;
        else if (strcasecmp(value, "false") == 0)
            cfg->ipblock_matches_pods = false;
        else
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s must be true or false, not \"%.32s\"",
                                source, value);
        return 0;
    case OPT_STATE_FILE:
        return set_path(&cfg->state_file, value, source, err);
    case OPT_MAX_OBJECTS:
        return set_count(&cfg->max_objects, value, UINT32_MAX, source, err);
    case OPT_MAX_DEPTH:
        return set_count(&cfg->max_depth, value, MAX_DEPTH, source, err);
    case OPT_MAX_STRING:
        return set_size(&cfg->max_string, value, source, err);
    case OPT_MAX_DOCUMENTS:
        return set_count(&cfg->max_documents, value, UINT32_MAX, source, err);
    case OPT_MAX_BATCH:
        return set_count(&cfg->max_batch, value, UINT32_MAX, source, err);
    case OPT_MAX_MATRIX_PODS:
        return set_count(&cfg->max_matrix_pods, value, UINT32_MAX, source, err);
    case OPT_MAX_CONNECTIONS:
        if (parse_count(value, MAX_CONNECTIONS, &n, source, err) != 0)
            return -1;
        cfg->max_connections = n;
        return 0;
    case OPT_CONNECTION_TIMEOUT:
        if (np_parse_u32(value, 1, MAX_TIMEOUT, &n) != 0)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s must be a number of seconds from 1 to %d, "
                                "not \"%.32s\"",
                                source, MAX_TIMEOUT, value);
        cfg->connection_timeout = n;
        return 0;
    case OPT_TOKEN_FILE:
        return set_path(&cfg->token_file, value, source, err);
    case OPT_AUTH:
        if (strcmp(value, "all") == 0)
            cfg->auth = SRV_AUTH_ALL;
        else if (strcmp(value, "writes") == 0)
            cfg->auth = SRV_AUTH_WRITES;
        else
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s must be all or writes, not \"%.32s\"",
                                source, value);
        cfg->auth_given = true;
        return 0;
    case OPT_TLS_CERT:
        return set_path(&cfg->tls_cert, value, source, err);
    case OPT_TLS_KEY:
        return set_path(&cfg->tls_key, value, source, err);
    case OPT_LOG_FORMAT:
        if (log_format_parse(value, &cfg->log_format) != 0)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s must be text or json, not \"%.32s\"",
                                source, value);
        return 0;
    case OPT_LOG_LEVEL:
        if (log_level_parse(value, &cfg->log_level) != 0)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s must be debug, info, warn or error, not "
                                "\"%.32s\"",
                                source, value);
        return 0;
    case OPT_CORS_ORIGIN:
        return add_cors_origin(cfg, value, strlen(value), source, err);
    case OPT_HELP:
        cfg->action = SRV_ACTION_HELP;
        return 0;
    case OPT_VERSION:
        cfg->action = SRV_ACTION_VERSION;
        return 0;
    case OPT__MAX:
        break;
    }
    abort();
}

/* NETPOLQ_LOAD holds several paths separated by ':' or ','. Empty entries
 * (a trailing separator) are skipped. */
static int
apply_load_list(struct srv_config *cfg, const char *list, const char *source,
                struct np_error *err)
{
    const char *p = list;

    while (*p != '\0') {
        size_t len = strcspn(p, ":,");

        if (len > 0 && add_load(cfg, p, len, source, err) != 0)
            return -1;
        p += len;
        if (*p != '\0')
            p++;
    }
    return 0;
}

/* Splits cfg->listen into host and port and resolves it with getaddrinfo(),
 * keeping the first address. */
static int
resolve_listen(struct srv_config *cfg, const char *source, struct np_error *err)
{
    const char *s = cfg->listen;
    char host[256];
    const char *port;
    size_t hostlen;
    uint32_t portnum;
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':')
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s \"%s\" is not [IPv6]:PORT", source, s);
        hostlen = (size_t)(close - s - 1);
        memcpy(host, s + 1, hostlen);
        port = close + 2;
        hints.ai_family = AF_INET6;
        hints.ai_flags |= AI_NUMERICHOST;
    } else {
        const char *colon = strrchr(s, ':');

        if (colon == NULL)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s \"%s\" is not HOST:PORT", source, s);
        hostlen = (size_t)(colon - s);
        if (memchr(s, ':', hostlen) != NULL)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "%s \"%s\": write an IPv6 address in "
                                "brackets, as in [::1]:8080",
                                source, s);
        memcpy(host, s, hostlen);
        port = colon + 1;
    }
    host[hostlen] = '\0';
    if (np_parse_u32(port, 0, 65535, &portnum) != 0)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s \"%s\": the port must be a number from 0 "
                            "to 65535",
                            source, s);
    /* An empty host (":8080") means every IPv4 interface, as in Go's
     * net.Listen but without the dual-stack surprise. */
    if (hostlen == 0)
        snprintf(host, sizeof(host), "0.0.0.0");
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return np_error_set(
            err, NP_E_INVALID_VALUE, "%s \"%s\": cannot resolve \"%s\": %s",
            source, s, host,
            rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            ai->ai_addrlen <= sizeof(cfg->addr))
            break;
    }
    if (ai == NULL) {
        freeaddrinfo(res);
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "%s \"%s\": \"%s\" has no IPv4 or IPv6 address",
                            source, s, host);
    }
    memset(&cfg->addr, 0, sizeof(cfg->addr));
    memcpy(&cfg->addr, ai->ai_addr, ai->ai_addrlen);
    cfg->addrlen = ai->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* Options that only make sense together. */
static int
check_combinations(const struct srv_config *cfg, struct np_error *err)
{
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "--tls-cert and --tls-key (NETPOLQ_TLS_CERT, "
                            "NETPOLQ_TLS_KEY) go together; give both or "
                            "neither");
    if (cfg->auth_given && cfg->token_file == NULL)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "--auth (NETPOLQ_AUTH) needs --token-file "
                            "(NETPOLQ_TOKEN_FILE)");
    /* libmicrohttpd gives each worker thread an equal share of the
     * connections; a share of none cannot start. */
    if (cfg->max_connections < cfg->threads)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "--max-connections (%u) must be at least the "
                            "number of worker threads (%u); lower --threads",
                            cfg->max_connections, cfg->threads);
    return 0;
}

int
srv_config_parse(struct srv_config *cfg, int argc, char *const argv[],
                 struct np_error *err)
{
    bool given[OPT__MAX] = { false };
    const char *listen_source = "the default listen address";
    size_t i;
    int ai;

    for (ai = 1; ai < argc; ai++) {
        const char *arg = argv[ai];
        const struct opt *o;
        const char *value;
        char flag[64];

        if (strcmp(arg, "--") == 0) {
            if (ai + 1 < argc)
                return np_error_set(err, NP_E_INVALID_VALUE,
                                    "unexpected argument \"%.64s\"",
                                    argv[ai + 1]);
            break;
        }
        if (strcmp(arg, "-h") == 0)
            arg = "--help";
        if (strncmp(arg, "--", 2) != 0)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "unexpected argument \"%.64s\"; options start "
                                "with --",
                                arg);
        o = opt_find(arg + 2, &value);
        if (o == NULL)
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "unknown option \"%.64s\"", arg);
        snprintf(flag, sizeof(flag), "--%s", o->name);
        if (o->arg == NULL && value != NULL)
            return np_error_set(err, NP_E_INVALID_VALUE, "%s takes no value",
                                flag);
        if (o->arg != NULL && value == NULL) {
            if (ai + 1 >= argc)
                return np_error_set(err, NP_E_INVALID_VALUE,
                                    "%s needs a value (%s)", flag, o->arg);
            value = argv[++ai];
        }
        if (opt_apply(cfg, o, value, flag, err) != 0)
            return -1;
        given[o->id] = true;
        if (o->id == OPT_LISTEN)
            listen_source = "--listen";
        /* --help and --version ignore the rest, the environment included,
         * so that a broken variable never hides the help. */
        if (cfg->action != SRV_ACTION_RUN)
            return 0;
    }
    for (i = 0; i < OPT__MAX; i++) {
        const char *value;

        if (opts[i].env == NULL || given[opts[i].id])
            continue;
        value = getenv(opts[i].env);
        /* An empty variable counts as unset, as containers often define
         * every variable of the image with an empty default. */
        if (value == NULL || value[0] == '\0')
            continue;
        if (opts[i].id == OPT_LOAD) {
            if (apply_load_list(cfg, value, opts[i].env, err) != 0)
                return -1;
        } else if (opts[i].id == OPT_CORS_ORIGIN) {
            if (apply_cors_list(cfg, value, opts[i].env, err) != 0)
                return -1;
        } else if (opt_apply(cfg, &opts[i], value, opts[i].env, err) != 0) {
            return -1;
        }
        if (opts[i].id == OPT_LISTEN)
            listen_source = opts[i].env;
    }
    if (check_combinations(cfg, err) != 0)
        return -1;
    return resolve_listen(cfg, listen_source, err);
}

void
srv_config_usage(FILE *fp)
{
    size_t i;

    fprintf(fp, "Usage: netpolq [OPTION]...\n"
                "Answers questions about Kubernetes NetworkPolicies over "
                "HTTP.\n\n"
                "Options (the variable on the right sets the same; a flag "
                "wins):\n");
    for (i = 0; i < OPT__MAX; i++) {
        const struct opt *o = &opts[i];
        const char *line = o->help;
        char head[64];

        snprintf(head, sizeof(head), "--%s%s%s", o->name,
                 o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
        if (o->env != NULL)
            fprintf(fp, "  %-34s %s\n", head, o->env);
        else
            fprintf(fp, "  %s\n", head);
        while (*line != '\0') {
            size_t len = strcspn(line, "\n");

            fprintf(fp, "      %.*s\n", (int)len, line);
            line += len;
            if (*line == '\n')
                line++;
        }
    }
    fprintf(fp, "\nExit status: 0 after SIGINT or SIGTERM, 1 when start-up "
                "fails (a --load\nerror, a damaged state file, an unusable "
                "token file or TLS certificate,\nthe address is in use), 2 "
                "for a bad option.\n");
}

void
srv_config_format_addr(const struct sockaddr *sa, unsigned port, char *buf,
                       size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip,
                 port != 0 ? port : ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, port != 0 ? port : ntohs(s4->sin_port));
    }
}
