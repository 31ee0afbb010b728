/*
 * Diagnostics of the netpolq executable, in the shape of OpenBSD's log.c:
 * every message is one line on stderr. Lines are written with a single
 * write(2), so lines from different threads never interleave.
 *
 * Two formats (--log-format): text, "netpolq: message key=value ...", and
 * json, one object per line {"time", "level", "msg", fields...} for log
 * collectors. Lines below the level set with --log-level are dropped, except
 * log_note()'s. There is no syslog. Callers decide what goes into a line;
 * this module only formats, escapes and writes, and knows nothing about
 * HTTP.
 */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum srv_log_format {
    SRV_LOG_TEXT,
    SRV_LOG_JSON,
};

enum srv_log_level {
    SRV_LOG_DEBUG,
    SRV_LOG_INFO,
    SRV_LOG_WARN,
    SRV_LOG_ERROR,
};

/* Sets the format and the lowest level written (defaults: text, info).
 * Call before any thread other than main's starts. */
void log_init(enum srv_log_format format, enum srv_log_level level);

/* Parse "text" or "json"; "debug", "info", "warn" or "error". Return 0, or
 * -1 for anything else. */
int log_format_parse(const char *s, enum srv_log_format *out);
int log_level_parse(const char *s, enum srv_log_level *out);

/* Returns true when lines of level are written. */
bool log_enabled(enum srv_log_level level);

/* A field of a structured line. Build with LOG_STR(), LOG_INT(), LOG_REAL(). */
enum log_field_type {
    LOG_FIELD_STR,
    LOG_FIELD_INT,
    LOG_FIELD_REAL,
};

struct log_field {
    const char *key; /* [a-z_]+ */
    enum log_field_type type;
    union {
        const char *s; /* NULL is written as "" */
        long long i;
        double d;
    };
};

#define LOG_STR(k, v)                                                          \
    {                                                                          \
        .key = (k), .type = LOG_FIELD_STR, .s = (v)                            \
    }
#define LOG_INT(k, v)                                                          \
    {                                                                          \
        .key = (k), .type = LOG_FIELD_INT, .i = (long long)(v)                 \
    }
#define LOG_REAL(k, v)                                                         \
    {                                                                          \
        .key = (k), .type = LOG_FIELD_REAL, .d = (double)(v)                   \
    }

/* Logs msg with fields at level: text "netpolq: msg key=value ..." (values
 * with spaces, quotes or control characters quoted and escaped), json
 * {"time", "level", "msg", "key": value, ...}. Long values are cut. */
void log_event(enum srv_log_level level, const char *msg,
               const struct log_field *fields, int nfields);

/* Logs a line whatever the level: the readiness line, which other programs
 * wait for. */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a debugging line. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs an informational line. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning followed by ": " and strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs an error, whatever --log-level says, followed by ": " and
 * strerror(errno): why the server cannot start. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs an error, whatever --log-level says: why the server cannot start. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning from a va_list (libmicrohttpd's external logger); a
 * trailing newline in fmt is dropped. */
void log_vwarnx(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Logs the message (level error, whatever --log-level says) followed by
 * ": " and strerror(errno), then exits 1. */
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Logs the message (level error), then exits 1. */
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
