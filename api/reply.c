/*
 * Turning answers into struct api_response: a JSON body serialized compactly,
 * and errors formatted as CONTRACT.md's {"error": {...}}. This is the only
 * place an np_error becomes JSON or an HTTP status (through
 * api_errc_status()), so every error answer, whole-request or per batch item,
 * has the same shape. It does not decide which error happened; callers do.
 */
#include "api/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The answer when even serializing the answer fails. */
static const char fallback_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"the server ran out "
    "of memory while writing the answer; retry the request\"}}";

void
api_reply_json(struct api_response *resp, int status, json_t *body)
{
    char *text;

    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    free(resp->body);
    resp->content_type = "application/json";
    if (text == NULL) {
        resp->status = 500;
        resp->body = strdup(fallback_body);
        resp->body_len = resp->body != NULL ? strlen(resp->body) : 0;
        return;
    }
    resp->status = status;
    resp->body = text;
    resp->body_len = strlen(text);
}

void
api_reply_text(struct api_response *resp, char *text, size_t len)
{
    free(resp->body);
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = text;
    resp->body_len = len;
}

json_t *
api_error_encode(const struct np_error *err)
{
    json_t *e;
    json_t *root;
    const char *msg;
    int rc;

    msg = err->message[0] != '\0' ? err->message : np_errc_name(err->code);
    e = json_object();
    root = json_object();
    if (e == NULL || root == NULL)
        goto fail;
    rc = json_object_set_new(e, "code", json_string(np_errc_name(err->code)));
    /* Messages and paths quote what the caller sent, which may be invalid
     * UTF-8 (or valid UTF-8 cut in the middle of a character by a bounded
     * format); json_dumps() refuses such strings, which turned a 400 into a
     * 500. api_json_text() writes each bad byte as U+FFFD. */
    rc |= json_object_set_new(e, "message", api_json_text(msg));
    if (err->document >= 0)
        rc |= json_object_set_new(e, "document", json_integer(err->document));
    if (err->line > 0)
        rc |= json_object_set_new(e, "line", json_integer(err->line));
    if (err->column > 0)
        rc |= json_object_set_new(e, "column", json_integer(err->column));
    if (err->path[0] != '\0')
        rc |= json_object_set_new(e, "path", api_json_text(err->path));
    if (rc != 0)
        goto fail;
    if (json_object_set_new(root, "error", e) != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
fail:
    json_decref(e);
    json_decref(root);
    return NULL;
}

void
api_reply_error(struct api_response *resp, const struct np_error *err)
{
    enum np_errc code;

    code = err->code != NP_E_OK ? err->code : NP_E_INTERNAL;
    api_reply_json(resp, api_errc_status(code), api_error_encode(err));
}

void
api_reply_errorf(struct api_response *resp, enum np_errc code, const char *fmt,
                 ...)
{
    struct np_error err;
    va_list ap;

    np_error_init(&err);
    err.code = code;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    api_reply_error(resp, &err);
}
