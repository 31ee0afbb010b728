/*
 * Errors reported by every layer of netpolq.
 *
 * A struct np_error is filled by the first failing call and carried up
 * unchanged: the first error wins, later np_error_set() calls are ignored.
 * Core fills the code, the message and the field path inside an object; the
 * api layer adds the document index and line. Reporting an error never
 * allocates, so running out of memory can still be reported.
 */
#ifndef NP_ERROR_H
#define NP_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* One table makes enum np_errc and np_errc_name(). The second column is the
 * snake_case code clients see in {"error": {"code": ...}}. */
#define NP_ERRORS(X)                                                           \
    X(OK, "ok")                                                                \
    X(NOMEM, "out_of_memory")                                                  \
    X(INTERNAL, "internal_error")                                              \
    X(SYNTAX, "syntax_error")                                                  \
    X(INVALID_TYPE, "invalid_type")                                            \
    X(MISSING_FIELD, "missing_field")                                          \
    X(INVALID_VALUE, "invalid_value")                                          \
    X(INVALID_NAME, "invalid_name")                                            \
    X(INVALID_LABEL, "invalid_label")                                          \
    X(INVALID_SELECTOR, "invalid_selector")                                    \
    X(INVALID_CIDR, "invalid_cidr")                                            \
    X(INVALID_IP, "invalid_ip")                                                \
    X(INVALID_PORT, "invalid_port")                                            \
    X(INVALID_PROTOCOL, "invalid_protocol")                                    \
    X(INVALID_POLICY_TYPE, "invalid_policy_type")                              \
    X(INVALID_PEER, "invalid_peer")                                            \
    X(DUPLICATE_OBJECT, "duplicate_object")                                    \
    X(UNKNOWN_POD, "unknown_pod")                                              \
    X(UNKNOWN_NAMESPACE, "unknown_namespace")                                  \
    X(UNKNOWN_POLICY, "unknown_policy")                                        \
    X(UNKNOWN_WORKLOAD, "unknown_workload")                                    \
    X(UNKNOWN_PORT_NAME, "unknown_port_name")                                  \
    X(INVALID_QUERY, "invalid_query")                                          \
    X(UNKNOWN_FIELD, "unknown_field")                                          \
    X(LIMIT_EXCEEDED, "limit_exceeded")                                        \
    X(BODY_TOO_LARGE, "body_too_large")                                        \
    X(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")                        \
    X(NOT_FOUND, "not_found")                                                  \
    X(METHOD_NOT_ALLOWED, "method_not_allowed")                                \
    X(UNAUTHORIZED, "unauthorized")                                            \
    X(NOT_READY, "not_ready")

enum np_errc {
#define NP_ERRC_ENUM(name, text) NP_E_##name,
    NP_ERRORS(NP_ERRC_ENUM)
#undef NP_ERRC_ENUM
        NP_E__MAX
};

struct np_error {
    enum np_errc code;  /* NP_E_OK while nothing is set */
    char message[256];  /* one sentence a person can act on */
    int document;       /* 0-based document in the upload, -1 if none */
    int line, column;   /* 1-based position in the body, 0 if unknown */
    char path[192];     /* field path within the document */
    const char *origin; /* "core/net.c:88" of the raising call; logs only */
};

/* Resets err to "no error". */
void np_error_init(struct np_error *err);

/* Returns the snake_case name of code ("invalid_cidr"). */
const char *np_errc_name(enum np_errc code);

/* Sets code and message unless an error is already set; always returns -1 so
 * that "return np_error_set(err, ...);" reads as one line. err may be NULL. */
#define np_error_set(err, code, ...)                                           \
    np__error_set((err), (code), __FILE__ ":" NP__STR(__LINE__), __VA_ARGS__)
#define NP__STR(x)  NP__STR2(x)
#define NP__STR2(x) #x

int np__error_set(struct np_error *err, enum np_errc code, const char *origin,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets the field path of err (printf-style) if err is set and has no path yet.
 * Returns -1. */
int np_error_path(struct np_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends prefix (e.g. "items[3].") to the path of err. */
void np_error_prefix_path(struct np_error *err, const char *prefix);

/* Returns true if an error is set. */
bool np_error_is_set(const struct np_error *err);

#endif
