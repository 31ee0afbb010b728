/*
 * The test HTTP client. One curl easy handle per request: tests are short
 * and a fresh connection per request keeps one test's mistakes out of the
 * next request. Keep-alive and partial requests are exercised through the
 * raw socket helpers instead.
 */
#include "tests/support/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/support/server.h"

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
    size_t n = size * nmemb;

    return body_add(arg, data, n) == 0 ? n : 0;
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

static void
on_header_line(struct thttp_resp *resp, const char *line, size_t len)
{
    header_value(line, len, "Content-Type", resp->content_type,
                 sizeof(resp->content_type));
    header_value(line, len, "Allow", resp->allow, sizeof(resp->allow));
    header_value(line, len, "Connection", resp->connection,
                 sizeof(resp->connection));
    header_value(line, len, "WWW-Authenticate", resp->www_authenticate,
                 sizeof(resp->www_authenticate));
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    size_t n = size * nmemb;

    on_header_line(arg, data, n);
    return n;
}

static void
parse_json(struct thttp_resp *resp)
{
    json_error_t jerr;

    if (strncasecmp(resp->content_type, "application/json", 16) != 0 ||
        resp->body == NULL)
        return;
    resp->json = json_loadb(resp->body, resp->len, 0, &jerr);
    if (resp->json == NULL)
        fprintf(stderr, "thttp: answer is not JSON (%s): %.200s\n", jerr.text,
                resp->body);
}

int
thttp_request(const char *base, const char *method, const char *path,
              const char *content_type, const void *body, size_t len,
              struct thttp_resp *resp)
{
    return thttp_request_with(base, method, path, content_type, body, len, NULL,
                              resp);
}

int
thttp_request_with(const char *base, const char *method, const char *path,
                   const char *content_type, const void *body, size_t len,
                   const struct thttp_opts *opts, struct thttp_resp *resp)
{
    CURL *c;
    struct curl_slist *headers = NULL;
    struct curl_slist *resolve = NULL;
    char auth[1024];
    char url[1024];
    char ct[256];
    CURLcode rc;
    int ret = -1;

    memset(resp, 0, sizeof(*resp));
    pthread_once(&curl_once, curl_init_once);
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
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    if (strcmp(method, "GET") == 0 && body == NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body != NULL || strcmp(method, "POST") == 0 ||
            strcmp(method, "PUT") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        }
    }
    /* No "Expect: 100-continue" pause before large bodies. */
    headers = curl_slist_append(headers, "Expect:");
    if (content_type != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
    } else {
        /* curl would otherwise send application/x-www-form-urlencoded. */
        headers = curl_slist_append(headers, "Content-Type:");
    }
    if (opts != NULL && opts->authorization != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: %s", opts->authorization);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (opts != NULL && opts->cainfo != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, opts->cainfo);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (opts != NULL && opts->resolve != NULL) {
        resolve = curl_slist_append(NULL, opts->resolve);
        curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "thttp: %s %s: %s\n", method, url,
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
    parse_json(resp);
    ret = 0;
out:
    curl_slist_free_all(resolve);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return ret;
}

int
thttp_get(const char *base, const char *path, struct thttp_resp *resp)
{
    return thttp_request(base, "GET", path, NULL, NULL, 0, resp);
}

int
thttp_connect(unsigned port)
{
    struct sockaddr_in sin;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
thttp_send(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses the head in buf[0..head_len) into resp; returns the
 * Content-Length, or -1 when there is none. */
static long long
parse_head(struct thttp_resp *resp, const char *buf, size_t head_len)
{
    const char *line = buf;
    const char *end = buf + head_len;
    char clen[32] = "";

    if (sscanf(buf, "HTTP/%*d.%*d %ld", &resp->status) != 1)
        resp->status = 0;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len =
            nl != NULL ? (size_t)(nl - line + 1) : (size_t)(end - line);

        on_header_line(resp, line, len);
        header_value(line, len, "Content-Length", clen, sizeof(clen));
        line += len;
    }
    return clen[0] != '\0' ? strtoll(clen, NULL, 10) : -1;
}

int
thttp_read_response(int fd, int timeout_ms, struct thttp_resp *resp)
{
    char *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    long long deadline = now_ms() + timeout_ms;
    long long clen = -1;
    size_t head_len = 0;
    int ret = -1;

    memset(resp, 0, sizeof(*resp));
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        long long left = deadline - now_ms();
        ssize_t n;

        if (head_len == 0 && buf != NULL) {
            char *sep = strstr(buf, "\r\n\r\n");

            if (sep != NULL) {
                head_len = (size_t)(sep - buf) + 4;
                clen = parse_head(resp, buf, head_len);
                /* Without Content-Length (interim answers) the answer
                 * ends at the blank line; netpolq sends it otherwise. */
                if (clen < 0)
                    clen = 0;
            }
        }
        if (head_len != 0 && len - head_len >= (size_t)clen) {
            body_add(resp, buf + head_len, (size_t)clen);
            parse_json(resp);
            ret = 0;
            break;
        }
        if (left <= 0)
            break;
        if (poll(&pfd, 1, (int)left) <= 0)
            continue;
        if (len + 4097 > cap) {
            size_t ncap = cap != 0 ? cap * 2 : 8192;
            char *nbuf = realloc(buf, ncap);

            if (nbuf == NULL)
                break;
            buf = nbuf;
            cap = ncap;
        }
        /* Read one byte at a time until the head is complete, so that an
         * interim answer never swallows the bytes of the next one. */
        n = recv(fd, buf + len, head_len == 0 ? 1 : 4096, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    if (ret != 0 && resp->body == NULL)
        body_add(resp, "", 0);
    free(buf);
    return ret;
}

int
thttp_raw(unsigned port, const void *req, size_t len, struct thttp_resp *resp)
{
    int fd;
    int ret;

    memset(resp, 0, sizeof(*resp));
    fd = thttp_connect(port);
    if (fd < 0)
        return -1;
    /* The server may answer and close before taking everything (a 413);
     * the answer is what matters, so a failed send is not the end. */
    thttp_send(fd, req, len);
    ret = thttp_read_response(fd, tsrv_timeout_ms(), resp);
    close(fd);
    return ret;
}

void
thttp_resp_fini(struct thttp_resp *resp)
{
    free(resp->body);
    json_decref(resp->json);
    memset(resp, 0, sizeof(*resp));
}
