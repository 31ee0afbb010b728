/*
 * The error table and the first-error-wins setters. Formatting an error never
 * allocates.
 */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

static const char *const errc_names[] = {
#define NP_ERRC_NAME(name, text) [NP_E_##name] = text,
    NP_ERRORS(NP_ERRC_NAME)
#undef NP_ERRC_NAME
};
_Static_assert(sizeof(errc_names) / sizeof(errc_names[0]) == NP_E__MAX,
               "errc_names covers every code");

void
np_error_init(struct np_error *err)
{
    /* Field by field: the texts are read up to their NUL only, and a
     * request sets up a few errors that mostly stay empty. */
    err->code = NP_E_OK;
    err->message[0] = '\0';
    err->document = -1;
    err->line = 0;
    err->column = 0;
    err->path[0] = '\0';
    err->origin = NULL;
}

const char *
np_errc_name(enum np_errc code)
{
    if ((unsigned)code >= NP_E__MAX)
        return "internal_error";
    return errc_names[code];
}

int
np__error_set(struct np_error *err, enum np_errc code, const char *origin,
              const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != NP_E_OK)
        return -1;
    err->code = code;
    err->origin = origin;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

int
np_error_path(struct np_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code == NP_E_OK || err->path[0] != '\0')
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->path, sizeof(err->path), fmt, ap);
    va_end(ap);
    return -1;
}

void
np_error_prefix_path(struct np_error *err, const char *prefix)
{
    char buf[sizeof(err->path)];
    size_t plen, n;

    if (err == NULL || prefix == NULL || prefix[0] == '\0')
        return;
    plen = strlen(prefix);
    /* "items[3]." + "" must not leave a trailing dot. */
    if (err->path[0] == '\0' && prefix[plen - 1] == '.')
        plen--;
    if (plen >= sizeof(buf))
        plen = sizeof(buf) - 1;
    memcpy(buf, prefix, plen);
    /* Whatever of the old path fits after the prefix. */
    n = strlen(err->path);
    if (n > sizeof(buf) - 1 - plen)
        n = sizeof(buf) - 1 - plen;
    memcpy(buf + plen, err->path, n);
    buf[plen + n] = '\0';
    memcpy(err->path, buf, sizeof(buf));
}

bool
np_error_is_set(const struct np_error *err)
{
    return err != NULL && err->code != NP_E_OK;
}
