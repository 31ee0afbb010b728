/*
 * The header-aware test client of hdr.h. Header lines are collected as
 * libcurl hands them over; interim answers (100 Continue) are dropped by
 * starting over at each status line.
 */
#include "tests/support/hdr.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tests/support/server.h"

static pthread_once_t hdr_curl_once = PTHREAD_ONCE_INIT;

static void
hdr_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Appends n bytes to the NUL-terminated buffer *buf of *len bytes. */
static int
append(char **buf, size_t *len, const char *data, size_t n)
{
    char *p = realloc(*buf, *len + n + 1);

    if (p == NULL)
        return -1;
    memcpy(p + *len, data, n);
    *buf = p;
    *len += n;
    p[*len] = '\0';
    return 0;
}

struct hdr_sink {
    struct thdr_resp *resp;
    size_t hlen;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct thdr_resp *resp = arg;
    size_t n = size * nmemb;

    return append(&resp->body, &resp->len, data, n) == 0 ? n : 0;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct hdr_sink *sink = arg;
    size_t n = size * nmemb;
    size_t len = n;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        free(sink->resp->headers);
        sink->resp->headers = NULL;
        sink->hlen = 0;
        return n;
    }
    while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
        len--;
    if (len == 0)
        return n;
    if (append(&sink->resp->headers, &sink->hlen, data, len) != 0 ||
        append(&sink->resp->headers, &sink->hlen, "\n", 1) != 0)
        return 0;
    return n;
}

int
thdr_request(const char *base, const char *method, const char *path,
             const char *const *headers, const char *content_type,
             const void *body, size_t len, struct thdr_resp *resp)
{
    struct hdr_sink sink;
    struct curl_slist *list = NULL;
    char url[2048];
    char ct[256];
    CURLcode rc;
    CURL *c;
    int ret = -1;

    memset(resp, 0, sizeof(*resp));
    sink.resp = resp;
    sink.hlen = 0;
    pthread_once(&hdr_curl_once, hdr_curl_init);
    snprintf(url, sizeof(url), "%s%s", base, path);
    c = curl_easy_init();
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tsrv_timeout_ms() * 3);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && body == NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body != NULL) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        }
    }
    list = curl_slist_append(list, "Expect:");
    snprintf(ct, sizeof(ct), "Content-Type:%s%s",
             content_type != NULL ? " " : "",
             content_type != NULL ? content_type : "");
    list = curl_slist_append(list, ct);
    for (; headers != NULL && *headers != NULL; headers++)
        list = curl_slist_append(list, *headers);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "thdr: %s %s: %s\n", method, url,
                curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->body == NULL && append(&resp->body, &resp->len, "", 0) != 0)
        goto out;
    if (resp->headers == NULL && append(&resp->headers, &sink.hlen, "", 0) != 0)
        goto out;
    if (resp->len > 0 && (resp->body[0] == '{' || resp->body[0] == '['))
        resp->json = json_loadb(resp->body, resp->len, 0, NULL);
    ret = 0;
out:
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return ret;
}

/* Returns the line of the nth header called name, or NULL. */
static const char *
find(const struct thdr_resp *resp, const char *name, int nth)
{
    size_t nlen = strlen(name);
    const char *line = resp->headers;

    while (line != NULL && *line != '\0') {
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':' &&
            nth-- == 0)
            return line;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return NULL;
}

bool
thdr_get(const struct thdr_resp *resp, const char *name, char *out,
         size_t outlen)
{
    const char *line = find(resp, name, 0);
    const char *v;
    size_t len;

    if (line == NULL)
        return false;
    v = line + strlen(name) + 1;
    v += strspn(v, " \t");
    len = strcspn(v, "\n");
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, v, len);
    out[len] = '\0';
    return true;
}

int
thdr_count(const struct thdr_resp *resp, const char *name)
{
    int n = 0;

    while (find(resp, name, n) != NULL)
        n++;
    return n;
}

bool
thdr_has_prefix(const struct thdr_resp *resp, const char *prefix)
{
    size_t plen = strlen(prefix);
    const char *line = resp->headers;

    while (line != NULL && *line != '\0') {
        if (strncasecmp(line, prefix, plen) == 0)
            return true;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return false;
}

void
thdr_resp_fini(struct thdr_resp *resp)
{
    free(resp->body);
    free(resp->headers);
    json_decref(resp->json);
    memset(resp, 0, sizeof(*resp));
}
