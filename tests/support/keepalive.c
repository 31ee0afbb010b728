/*
 * The keep-alive client. curl keeps the connection of an easy handle open
 * between requests, so all this adds is a growing body buffer and the
 * switch between GET and requests with a body.
 */
#include "tests/support/keepalive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/server.h"

static size_t
write_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct tka_client *c = arg;
    size_t n = size * nmemb;

    if (c->len + n + 1 > c->cap) {
        char *buf = realloc(c->buf, (c->len + n + 1) * 2);

        if (buf == NULL)
            return 0;
        c->buf = buf;
        c->cap = (c->len + n + 1) * 2;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return n;
}

int
tka_init(struct tka_client *c, const char *base)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->base, sizeof(c->base), "%s", base);
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return -1;
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)tsrv_timeout_ms() * 3);
    return 0;
}

json_t *
tka_send(struct tka_client *c, const char *method, const char *path,
         const char *ct, const void *body, size_t len, long *status, char *why,
         size_t whylen)
{
    char url[512];
    json_error_t jerr;
    struct curl_slist *headers = NULL;
    CURLcode rc;
    json_t *v;

    snprintf(url, sizeof(url), "%s%s", c->base, path);
    c->len = 0;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    if (body == NULL) {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    } else {
        char h[128];

        snprintf(h, sizeof(h), "Content-Type: %s", ct);
        headers = curl_slist_append(NULL, h);
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    rc = curl_easy_perform(c->curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s %s: %s", method, path,
                 curl_easy_strerror(rc));
        return NULL;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    v = json_loadb(c->buf != NULL ? c->buf : "", c->len, 0, &jerr);
    if (v == NULL)
        snprintf(why, whylen, "%s %s: %ld, not JSON (%s): %.200s", method, path,
                 *status, jerr.text, c->buf != NULL ? c->buf : "");
    return v;
}

void
tka_fini(struct tka_client *c)
{
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->buf);
    c->curl = NULL;
    c->buf = NULL;
}
