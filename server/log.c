/*
 * stderr logging for the server (OpenBSD log.c shape: log_info, log_warn,
 * log_warnx, fatal, fatalx), in text or JSON lines. It deliberately knows
 * nothing about HTTP or requests: callers pass a message and named fields,
 * and this file formats, escapes and writes them.
 *
 * Every line is built in a fixed buffer and written with one write(2). A
 * line that does not fit is cut inside its values, never in its syntax: a
 * JSON line always parses, and a text line always ends with a newline.
 * Whatever a value holds (a path with control characters, bytes that are
 * not UTF-8), it cannot forge a second line or break the JSON.
 */
#include "server/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set once by log_init() before other threads start; read-only after. */
static enum srv_log_format log_format = SRV_LOG_TEXT;
static enum srv_log_level log_level = SRV_LOG_INFO;

static const char *const level_names[] = {
    [SRV_LOG_DEBUG] = "debug",
    [SRV_LOG_INFO] = "info",
    [SRV_LOG_WARN] = "warn",
    [SRV_LOG_ERROR] = "error",
};

/* The longest line; longer values are cut to fit. */
#define LINE_MAX_BYTES 4096
/* Room always kept for what closes a line: "...\"}\n". */
#define LINE_TAIL 8
/* The most of one value written, in input bytes. */
#define VALUE_MAX 1024

struct line {
    char p[LINE_MAX_BYTES];
    size_t len;
};

void
log_init(enum srv_log_format format, enum srv_log_level level)
{
    log_format = format;
    log_level = level;
}

int
log_format_parse(const char *s, enum srv_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = SRV_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = SRV_LOG_JSON;
    else
        return -1;
    return 0;
}

int
log_level_parse(const char *s, enum srv_log_level *out)
{
    size_t i;

    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum srv_log_level)i;
            return 0;
        }
    }
    /* "warning" is what many people type. */
    if (strcmp(s, "warning") == 0) {
        *out = SRV_LOG_WARN;
        return 0;
    }
    return -1;
}

bool
log_enabled(enum srv_log_level level)
{
    return level >= log_level;
}

/* Bytes still free for content, keeping LINE_TAIL for the closing. */
static size_t
room(const struct line *l)
{
    return sizeof(l->p) - LINE_TAIL - l->len;
}

/* Appends n bytes if they all fit. Returns true when they did. */
static bool
put(struct line *l, const char *s, size_t n)
{
    if (n > room(l))
        return false;
    memcpy(l->p + l->len, s, n);
    l->len += n;
    return true;
}

static bool
puts_(struct line *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* Returns the length of the valid UTF-8 sequence at s (at most n bytes),
 * or 0 when the bytes there are not one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xbf;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Appends s as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, bytes that are not UTF-8 replaced by U+FFFD. Stops
 * with "..." where the value or the line runs out. */
static void
put_json_text(struct line *l, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t n = strlen((const char *)p);
    size_t i = 0;
    char esc[8];

    while (i < n) {
        size_t len;
        bool ok;

        if (i >= VALUE_MAX || room(l) < 8)
            break;
        len = utf8_len(p + i, n - i);
        if (len == 0) {
            ok = puts_(l, "\\ufffd");
            len = 1;
        } else if (p[i] == '"' || p[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            ok = put(l, esc, 2);
        } else if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
            ok = puts_(l, esc);
        } else {
            ok = put(l, (const char *)p + i, len);
        }
        if (!ok)
            break;
        i += len;
    }
    if (i < n)
        put(l, "...", 3);
}

/* Appends s for a text line: control characters as \n, \t or \xNN, and
 * quotes and backslashes escaped when quoted is set. */
static void
put_text(struct line *l, const char *s, bool quoted)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t i;
    char esc[8];

    for (i = 0; p[i] != '\0'; i++) {
        bool ok;

        if (i >= VALUE_MAX || room(l) < 8)
            break;
        if (p[i] == '\n')
            ok = puts_(l, "\\n");
        else if (p[i] == '\t')
            ok = puts_(l, "\\t");
        else if (p[i] < 0x20 || p[i] == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
            ok = puts_(l, esc);
        } else if (quoted && (p[i] == '"' || p[i] == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)p[i];
            ok = put(l, esc, 2);
        } else {
            ok = put(l, (const char *)p + i, 1);
        }
        if (!ok)
            break;
    }
    if (p[i] != '\0')
        put(l, "...", 3);
}

/* A text value is quoted when it would otherwise not read back as one
 * value (logfmt). */
static bool
needs_quotes(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return true;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' || *s == '\\' ||
            *s == 0x7f)
            return true;
    return false;
}

static void
put_number(struct line *l, const struct log_field *f)
{
    char num[40];

    if (f->type == LOG_FIELD_INT)
        snprintf(num, sizeof(num), "%lld", f->i);
    else
        snprintf(num, sizeof(num), "%.6g", f->d);
    puts_(l, num);
}

static void
put_time(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[40];
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    puts_(l, buf);
}

static void
format_json(struct line *l, enum srv_log_level level, const char *msg,
            const struct log_field *fields, int nfields)
{
    int i;

    puts_(l, "{\"time\":\"");
    put_time(l);
    puts_(l, "\",\"level\":\"");
    puts_(l, level_names[level]);
    puts_(l, "\",\"msg\":\"");
    put_json_text(l, msg);
    puts_(l, "\"");
    for (i = 0; i < nfields; i++) {
        const struct log_field *f = &fields[i];
        size_t mark = l->len;

        /* A field is written whole or not at all. */
        if (room(l) < strlen(f->key) + 48)
            break;
        puts_(l, ",\"");
        puts_(l, f->key);
        puts_(l, "\":");
        if (f->type == LOG_FIELD_STR) {
            puts_(l, "\"");
            put_json_text(l, f->s);
            if (!puts_(l, "\"")) {
                l->len = mark;
                break;
            }
        } else {
            put_number(l, f);
        }
    }
    /* LINE_TAIL keeps room for these. */
    l->p[l->len++] = '}';
    l->p[l->len++] = '\n';
}

static void
format_text(struct line *l, const char *msg, const struct log_field *fields,
            int nfields)
{
    int i;

    puts_(l, "netpolq: ");
    put_text(l, msg, false);
    for (i = 0; i < nfields; i++) {
        const struct log_field *f = &fields[i];

        if (room(l) < strlen(f->key) + 16)
            break;
        puts_(l, " ");
        puts_(l, f->key);
        puts_(l, "=");
        if (f->type != LOG_FIELD_STR) {
            put_number(l, f);
        } else if (needs_quotes(f->s)) {
            puts_(l, "\"");
            put_text(l, f->s, true);
            puts_(l, "\"");
        } else {
            put_text(l, f->s, false);
        }
    }
    l->p[l->len++] = '\n';
}

static void
write_line(const struct line *l)
{
    size_t off = 0;

    /* A failed write to stderr has nowhere else to be reported. */
    while (off < l->len) {
        ssize_t w = write(STDERR_FILENO, l->p + off, l->len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

static void
emit(enum srv_log_level level, const char *msg, const struct log_field *fields,
     int nfields)
{
    struct line l;

    l.len = 0;
    if (log_format == SRV_LOG_JSON)
        format_json(&l, level, msg, fields, nfields);
    else
        format_text(&l, msg, fields, nfields);
    write_line(&l);
}

void
log_event(enum srv_log_level level, const char *msg,
          const struct log_field *fields, int nfields)
{
    if (!log_enabled(level))
        return;
    emit(level, msg, fields, nfields);
}

/* Formats "<fmt>[: <strerror(errnum)>]" and logs it at level. errnum 0
 * means no strerror part. */
static void
vlog(enum srv_log_level level, bool always, int errnum, const char *fmt,
     va_list ap)
{
    char msg[1024];
    char reason[128];
    size_t len;

    if (!always && !log_enabled(level))
        return;
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    /* libmicrohttpd ends its messages with a newline; lines end anyway. */
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    if (errnum != 0) {
        if (strerror_r(errnum, reason, sizeof(reason)) != 0)
            snprintf(reason, sizeof(reason), "error %d", errnum);
        snprintf(msg + len, sizeof(msg) - len, ": %s", reason);
    }
    emit(level, msg, NULL, 0);
}

void
log_note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_INFO, true, 0, fmt, ap);
    va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_DEBUG, false, 0, fmt, ap);
    va_end(ap);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_INFO, false, 0, fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_WARN, false, saved, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_WARN, false, 0, fmt, ap);
    va_end(ap);
}

void
log_err(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_ERROR, true, saved, fmt, ap);
    va_end(ap);
}

void
log_errx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_ERROR, true, 0, fmt, ap);
    va_end(ap);
}

void
log_vwarnx(const char *fmt, va_list ap)
{
    vlog(SRV_LOG_WARN, false, 0, fmt, ap);
}

void
fatal(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_ERROR, true, saved, fmt, ap);
    va_end(ap);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SRV_LOG_ERROR, true, 0, fmt, ap);
    va_end(ap);
    exit(1);
}
