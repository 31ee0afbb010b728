/*
 * Diagnostics of the netpolq executable, in the shape of OpenBSD's log.c:
 * every message is one line on stderr, "netpolq: message". Lines are written
 * with a single write(2), so lines from different threads never interleave.
 * There is no syslog and no verbosity level; the server logs start-up,
 * shutdown and its own faults, not every request.
 */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdarg.h>

/* Logs an informational line. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning followed by ": " and strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs a warning from a va_list (libmicrohttpd's external logger); a
 * trailing newline in fmt is dropped. */
void log_vwarnx(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Logs the message followed by ": " and strerror(errno), then exits 1. */
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Logs the message, then exits 1. */
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
