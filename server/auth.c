/*
 * Bearer-token checks for server/http.c. Each token is kept in a zeroed
 * buffer of SRV_AUTH_TOKEN_MAX bytes, and the token a request gives is
 * copied into one of the same size, so that every check compares the same
 * number of bytes against every token: neither the position of the first
 * differing byte, nor which token matched, nor the tokens' lengths change
 * how long a check takes. What a request's own header costs to copy only
 * depends on what the client sent.
 */
#include "server/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/file.h"

/* A token file larger than this is not a token file. */
#define TOKEN_FILE_MAX ((size_t)1 << 20)

struct token {
    size_t len;
    unsigned char bytes[SRV_AUTH_TOKEN_MAX];
};

struct srv_auth {
    enum srv_auth_scope scope;
    size_t ntokens;
    struct token *tokens;
};

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Adds the token of one line, or reports the line's problem. */
static int
add_token(struct srv_auth *a, const char *p, size_t len, size_t *cap,
          const char *path, unsigned line, struct np_error *err)
{
    size_t i;
    struct token *t;

    if (len > SRV_AUTH_TOKEN_MAX)
        return np_error_set(err, NP_E_INVALID_VALUE,
                            "token file %s, line %u: the token is longer than "
                            "%d characters",
                            path, line, SRV_AUTH_TOKEN_MAX);
    for (i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] > '~')
            return np_error_set(err, NP_E_INVALID_VALUE,
                                "token file %s, line %u: a token is printable "
                                "ASCII without spaces (character %zu is "
                                "not)",
                                path, line, i + 1);
    }
    if (a->ntokens == *cap) {
        size_t ncap = *cap != 0 ? *cap * 2 : 4;

        t = calloc(ncap, sizeof(*t));
        if (t == NULL)
            return np_error_set(err, NP_E_NOMEM, "out of memory");
        if (a->ntokens > 0)
            memcpy(t, a->tokens, a->ntokens * sizeof(*t));
        srv_file_wipe_free((char *)a->tokens, a->ntokens * sizeof(*t));
        a->tokens = t;
        *cap = ncap;
    }
    t = &a->tokens[a->ntokens++];
    memset(t, 0, sizeof(*t));
    memcpy(t->bytes, p, len);
    t->len = len;
    return 0;
}

struct srv_auth *
srv_auth_load(const char *path, enum srv_auth_scope scope, struct np_error *err)
{
    struct srv_auth *a;
    char *data = NULL;
    size_t len = 0;
    size_t cap = 0;
    size_t off = 0;
    unsigned line = 0;

    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory");
        return NULL;
    }
    a->scope = scope;
    if (srv_file_read(path, TOKEN_FILE_MAX, &data, &len) != 0) {
        np_error_set(err, NP_E_INVALID_VALUE, "cannot read token file %s: %s",
                     path, strerror(errno));
        goto fail;
    }
    while (off < len) {
        size_t end = off;
        size_t b, e;

        while (end < len && data[end] != '\n')
            end++;
        line++;
        b = off;
        e = end;
        while (b < e && is_space(data[b]))
            b++;
        while (e > b && is_space(data[e - 1]))
            e--;
        if (e > b && data[b] != '#' &&
            add_token(a, data + b, e - b, &cap, path, line, err) != 0)
            goto fail;
        off = end + 1;
    }
    if (a->ntokens == 0) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "token file %s has no tokens; nobody could call the "
                     "server",
                     path);
        goto fail;
    }
    srv_file_wipe_free(data, len);
    return a;
fail:
    srv_file_wipe_free(data, len);
    srv_auth_free(a);
    return NULL;
}

void
srv_auth_free(struct srv_auth *a)
{
    if (a == NULL)
        return;
    srv_file_wipe_free((char *)a->tokens, a->ntokens * sizeof(*a->tokens));
    free(a);
}

static bool
is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

bool
srv_auth_needed(const struct srv_auth *a, const char *method, const char *path)
{
    static const char query_prefix[] = "/reachability";
    size_t n = sizeof(query_prefix) - 1;

    if (is_read(method) &&
        (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0))
        return false;
    /* A CORS preflight never carries credentials (Fetch standard, CORS
     * protocol), and its answer tells only which methods a path takes. */
    if (strcmp(method, "OPTIONS") == 0)
        return false;
    if (a->scope == SRV_AUTH_ALL)
        return true;
    if (is_read(method))
        return false;
    /* POST /reachability, /reachability/batch and /reachability/matrix
     * answer questions and change nothing. No route under /reachability
     * writes; a path the router does not know gets 404 either way. */
    if (strcmp(method, "POST") == 0 && strncmp(path, query_prefix, n) == 0 &&
        (path[n] == '\0' || path[n] == '/'))
        return false;
    return true;
}

enum srv_auth_result
srv_auth_check(const struct srv_auth *a, const char *authorization)
{
    unsigned char given[SRV_AUTH_TOKEN_MAX];
    const char *p = authorization;
    size_t glen;
    size_t i, k;
    unsigned match = 0;
    enum srv_auth_result r;

    /* "Bearer" is case-insensitive (RFC 7235, section 2.1). */
    if (p == NULL || strncasecmp(p, "Bearer", 6) != 0 ||
        (p[6] != ' ' && p[6] != '\t'))
        return SRV_AUTH_MISSING;
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    glen = strlen(p);
    while (glen > 0 && is_space(p[glen - 1]))
        glen--;
    if (glen == 0)
        return SRV_AUTH_MISSING;
    /* A token longer than any we keep cannot match; it is compared all the
     * same, cut to size, with its length telling it apart. */
    memset(given, 0, sizeof(given));
    memcpy(given, p, glen < sizeof(given) ? glen : sizeof(given));
    for (k = 0; k < a->ntokens; k++) {
        const struct token *t = &a->tokens[k];
        /* Nonzero when the lengths differ, without a branch on them. */
        uint64_t diff = (uint64_t)(glen ^ t->len);
        unsigned char acc = 0;

        for (i = 0; i < SRV_AUTH_TOKEN_MAX; i++)
            acc |= (unsigned char)(given[i] ^ t->bytes[i]);
        diff |= acc;
        /* 1 when diff is 0: (diff | -diff) has its top bit set for any
         * nonzero diff. */
        match |= (unsigned)(1 ^ ((diff | (0 - diff)) >> 63));
    }
    r = match != 0 ? SRV_AUTH_OK : SRV_AUTH_INVALID;
    {
        volatile unsigned char *v = given;

        for (i = 0; i < sizeof(given); i++)
            v[i] = 0;
    }
    return r;
}
