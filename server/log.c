/*
 * stderr logging for the server (OpenBSD log.c shape: log_info, log_warn,
 * log_warnx, fatal, fatalx). It deliberately knows nothing about HTTP or
 * requests; callers format their own context into the message.
 */
#include "server/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Formats "netpolq: <fmt>[: <strerror(errnum)>]\n" and writes it with one
 * write(2). errnum 0 means no strerror part. Long messages are cut, not
 * dropped. */
static void
vlog(int errnum, const char *fmt, va_list ap)
{
    char msg[768];
    char reason[128];
    char line[1024];
    size_t len;
    size_t off;
    int n;

    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    /* libmicrohttpd ends its messages with a newline; we add our own. */
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    if (errnum != 0) {
        if (strerror_r(errnum, reason, sizeof(reason)) != 0)
            snprintf(reason, sizeof(reason), "error %d", errnum);
        n = snprintf(line, sizeof(line), "netpolq: %s: %s\n", msg, reason);
    } else {
        n = snprintf(line, sizeof(line), "netpolq: %s\n", msg);
    }
    if (n <= 0)
        return;
    len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    line[len - 1] = '\n'; /* a cut line still ends the line */
    /* A failed write to stderr has nowhere else to be reported. */
    off = 0;
    while (off < len) {
        ssize_t w = write(STDERR_FILENO, line + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

void
log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(0, fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(saved, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(0, fmt, ap);
    va_end(ap);
}

void
log_vwarnx(const char *fmt, va_list ap)
{
    vlog(0, fmt, ap);
}

void
fatal(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(saved, fmt, ap);
    va_end(ap);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(0, fmt, ap);
    va_end(ap);
    exit(1);
}
