/*
 * libcurl with an Authorization header and with HTTPS verification, for
 * tests/api/auth.c and tests/api/tls.c. One easy handle per request, as in
 * http.c.
 */
#include "tests/support/http_auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "tests/support/server.h"

#define WWW_AUTH_LEN 256

struct answer {
    struct thttp_resp *resp;
    char *www_authenticate;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
body_add(struct thttp_resp *resp, const char *data, size_t n)
{
    char *body = realloc(resp->body, resp->len + n + 1);

    if (body == NULL)
        return -1;
    memcpy(body + resp->len, data, n);
    resp->body = body;
    resp->len += n;
    resp->body[resp->len] = '\0';
    return 0;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;

    return body_add(a->resp, data, n) == 0 ? n : 0;
}

/* Copies the value of "Name: value" into dst when line is that header. */
static void
header_value(const char *line, size_t len, const char *name, char *dst,
             size_t dstlen)
{
    size_t nlen = strlen(name);
    size_t vlen;

    if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return;
    line += nlen + 1;
    len -= nlen + 1;
    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    vlen = len;
    while (vlen > 0 && (line[vlen - 1] == '\r' || line[vlen - 1] == '\n' ||
                        line[vlen - 1] == ' '))
        vlen--;
    if (vlen >= dstlen)
        vlen = dstlen - 1;
    memcpy(dst, line, vlen);
    dst[vlen] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;

    header_value(data, n, "Content-Type", a->resp->content_type,
                 sizeof(a->resp->content_type));
    header_value(data, n, "Allow", a->resp->allow, sizeof(a->resp->allow));
    header_value(data, n, "Connection", a->resp->connection,
                 sizeof(a->resp->connection));
    header_value(data, n, "WWW-Authenticate", a->www_authenticate,
                 WWW_AUTH_LEN);
    return n;
}

int
thttp_auth_request(const char *base, const struct thttp_auth_req *req,
                   struct thttp_resp *resp, char *www_authenticate)
{
    struct answer a = { .resp = resp, .www_authenticate = www_authenticate };
    struct curl_slist *headers = NULL;
    struct curl_slist *resolve = NULL;
    char url[1024];
    char line[1024];
    CURLcode rc;
    CURL *c;
    int ret = -1;

    memset(resp, 0, sizeof(*resp));
    www_authenticate[0] = '\0';
    pthread_once(&curl_once, curl_init_once);
    snprintf(url, sizeof(url), "%s%s", base, req->path);
    c = curl_easy_init();
    if (c == NULL)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tsrv_timeout_ms() * 3);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
    if (strcmp(req->method, "GET") == 0 && req->body == NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                         req->body != NULL ? req->body : "");
    }
    headers = curl_slist_append(headers, "Expect:");
    snprintf(line, sizeof(line), "Content-Type:%s%s",
             req->content_type != NULL ? " " : "",
             req->content_type != NULL ? req->content_type : "");
    headers = curl_slist_append(headers, line);
    if (req->authorization != NULL) {
        snprintf(line, sizeof(line), "Authorization: %s", req->authorization);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (req->cainfo != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, req->cainfo);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (req->resolve != NULL) {
        resolve = curl_slist_append(NULL, req->resolve);
        curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "thttp_auth: %s %s: %s\n", req->method, url,
                curl_easy_strerror(rc));
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
        body_add(resp, curl_easy_strerror(rc), strlen(curl_easy_strerror(rc)));
        resp->status = 0;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->body == NULL)
        body_add(resp, "", 0);
    if (strncasecmp(resp->content_type, "application/json", 16) == 0)
        resp->json = json_loadb(resp->body, resp->len, 0, NULL);
    ret = 0;
out:
    curl_slist_free_all(resolve);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return ret;
}
