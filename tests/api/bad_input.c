/*
 * The bad-input corpus against the real binary: every case of
 * tests/data/bad-input/{manifests,queries,http}.jsonl (format in that
 * folder's README.md) is sent on a raw socket exactly as written, so
 * requests curl would refuse or repair arrive as they are. Each must get its
 * expected status with a JSON {"error": {"code", "message"}} (libmicrohttpd's
 * own answers to broken HTTP are HTML, and the cases say so); afterwards the
 * server must still answer /healthz, and GET /state must be what it was
 * before: no bad request changes the state or its revision.
 *
 * One test per file, each with its own server, so a case that crashes the
 * server names itself and the other files still run. The cases of
 * tests/api/malformed.c are not repeated here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"
#include "tests/support/testdata.h"

#define CORPUS_DIR NETPOLQ_TEST_DATA "/bad-input"

/* Cases in the three files together; the issue asks for at least 200. */
#define MIN_CASES 200

TestSuite(bad_input, .init = tsuite_start, .fini = tsuite_stop, .timeout = 600);
TestSuite(bad_input_corpus);

/* A growing byte buffer. */
struct buf {
    char *p;
    size_t len, cap;
};

static void
buf_add(struct buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 256;

        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert_not_null(b->p, "out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* Appends a corpus value: a string (its bytes, NULs included), or an array
 * of parts, each a string or [string, count] for a repeated one. Returns
 * false when v has another shape. */
static bool
expand(struct buf *b, const json_t *v)
{
    const json_t *part;
    size_t i;

    if (json_is_string(v)) {
        buf_add(b, json_string_value(v), json_string_length(v));
        return true;
    }
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, part)
    {
        const json_t *s = json_array_get(part, 0);
        json_int_t n = json_integer_value(json_array_get(part, 1));
        json_int_t k;

        if (json_is_string(part)) {
            buf_add(b, json_string_value(part), json_string_length(part));
            continue;
        }
        if (!json_is_string(s) || n < 0 || n > 10000000)
            return false;
        for (k = 0; k < n; k++)
            buf_add(b, json_string_value(s), json_string_length(s));
    }
    return true;
}

/* Builds the bytes of the request a case describes. */
static void
build_request(const char *name, const json_t *c, struct buf *req)
{
    const json_t *raw = json_object_get(c, "raw");
    const json_t *headers = json_object_get(c, "headers");
    const json_t *body = json_object_get(c, "body");
    const char *body_file = json_string_value(json_object_get(c, "body_file"));
    const char *key;
    const json_t *v;
    struct buf path = { 0 };
    struct buf data = { 0 };
    bool has_body = false;
    char line[64];

    if (raw != NULL) {
        cr_assert(expand(req, raw), "%s: raw is neither a string nor parts",
                  name);
        return;
    }
    cr_assert(json_is_string(json_object_get(c, "method")), "%s: no method",
              name);
    cr_assert(expand(&path, json_object_get(c, "path")), "%s: no path", name);
    if (body != NULL) {
        cr_assert(expand(&data, body), "%s: body is neither a string nor parts",
                  name);
        has_body = true;
    } else if (body_file != NULL) {
        char file[512];

        snprintf(file, sizeof(file), "%s/%s", CORPUS_DIR, body_file);
        data.p = tdata_read(file, &data.len);
        cr_assert_not_null(data.p, "%s: cannot read %s", name, file);
        has_body = true;
    }
    buf_str(req, json_string_value(json_object_get(c, "method")));
    buf_str(req, " ");
    buf_add(req, path.p, path.len);
    buf_str(req, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    json_object_foreach((json_t *)headers, key, v)
    {
        buf_str(req, key);
        buf_str(req, ": ");
        cr_assert(expand(req, v), "%s: header %s is neither a string nor parts",
                  name, key);
        buf_str(req, "\r\n");
    }
    if (has_body) {
        snprintf(line, sizeof(line), "Content-Length: %zu\r\n", data.len);
        buf_str(req, line);
    }
    buf_str(req, "\r\n");
    if (has_body)
        buf_add(req, data.p, data.len);
    free(path.p);
    free(data.p);
}

/* GET /state, compact with sorted keys. */
static char *
state_text(void)
{
    struct thttp_resp r;
    char *text;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0,
                 "GET /state: no answer");
    cr_assert_eq(r.status, 200, "GET /state: %ld %s", r.status, r.body);
    text = json_dumps(r.json, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_not_null(text, "GET /state: not JSON: %s", r.body);
    thttp_resp_fini(&r);
    return text;
}

static void
put_base(void)
{
    struct thttp_resp r;
    size_t len;
    char *yaml = tdata_read(CORPUS_DIR "/base.yaml", &len);

    cr_assert_not_null(yaml, "cannot read " CORPUS_DIR "/base.yaml");
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", yaml, len, &r),
                 0);
    cr_assert_eq(r.status, 200, "PUT base.yaml: %ld %s", r.status, r.body);
    thttp_resp_fini(&r);
    free(yaml);
}

/* Checks the answer to one case; returns false (after cr_expect failures
 * naming the case) when it is not the expected one. */
static bool
check_answer(const char *name, const json_t *c, int rc,
             const struct thttp_resp *r)
{
    long status = (long)json_integer_value(json_object_get(c, "status"));
    const char *code = json_string_value(json_object_get(c, "code"));
    const char *err_path = json_string_value(json_object_get(c, "err_path"));
    bool want_json = !json_is_false(json_object_get(c, "json"));
    const json_t *error;
    const char *got;
    bool ok = true;

    if (status == 0) {
        /* Broken beyond an answer: the server may just close. */
        cr_expect(rc != 0 || r->status == 0 ||
                      (r->status >= 400 && r->status < 500),
                  "%s: answered %ld", name, r->status);
        return rc != 0 || r->status == 0 ||
               (r->status >= 400 && r->status < 500);
    }
    /* A HEAD answer announces a body it does not send, so only the status
     * line and headers arrive: enough where no JSON is expected. */
    if (r->status != status || (rc != 0 && want_json)) {
        cr_expect_fail("%s: status %ld, want %ld: %.300s", name, r->status,
                       status, r->body != NULL ? r->body : "");
        return false;
    }
    if (!want_json)
        return true;
    error = json_object_get(r->json, "error");
    got = json_string_value(json_object_get(error, "code"));
    if (strncmp(r->content_type, "application/json", 16) != 0 ||
        !json_is_object(error) || json_object_size(r->json) != 1 ||
        got == NULL || got[0] == '\0' ||
        json_string_length(json_object_get(error, "message")) == 0) {
        cr_expect_fail("%s: not a JSON error (Content-Type \"%s\"): %.300s",
                       name, r->content_type, r->body);
        return false;
    }
    if (code != NULL && strcmp(got, code) != 0) {
        cr_expect_fail("%s: error.code %s, want %s: %.300s", name, got, code,
                       r->body);
        ok = false;
    }
    if (err_path != NULL) {
        const char *p = json_string_value(json_object_get(error, "path"));

        if (p == NULL || strcmp(p, err_path) != 0) {
            cr_expect_fail("%s: error.path %s, want %s", name,
                           p != NULL ? p : "(none)", err_path);
            ok = false;
        }
    }
    if (status == 405 && r->allow[0] == '\0') {
        cr_expect_fail("%s: 405 without an Allow header", name);
        ok = false;
    }
    return ok;
}

/* Sends every case of file and checks each answer, then that the server
 * still serves the state it had. */
static void
run_corpus(const char *file)
{
    char path[512];
    char *text, *line, *next;
    char *before;
    size_t len;
    int ncases = 0, nfailed = 0;

    snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, file);
    text = tdata_read(path, &len);
    cr_assert_not_null(text, "cannot read %s", path);
    put_base();
    before = state_text();
    for (line = text; line != NULL && *line != '\0'; line = next) {
        struct buf req = { 0 };
        struct thttp_resp r, h;
        json_error_t jerr;
        json_t *c;
        const char *name;
        char *after;
        int rc;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '\0')
            continue;
        c = json_loads(line, JSON_ALLOW_NUL, &jerr);
        cr_assert_not_null(c, "%s:%d: %s", file, jerr.line, jerr.text);
        name = json_string_value(json_object_get(c, "name"));
        cr_assert_not_null(name, "%s: a case without a name: %s", file, line);
        build_request(name, c, &req);
        rc = thttp_raw(tsuite_srv.port, req.p, req.len, &r);
        ncases++;
        if (!check_answer(name, c, rc, &r))
            nfailed++;
        thttp_resp_fini(&r);
        free(req.p);

        /* The server survives and the state is untouched. */
        cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &h), 0,
                     "after %s: /healthz does not answer", name);
        cr_assert_eq(h.status, 200, "after %s: /healthz %ld", name, h.status);
        thttp_resp_fini(&h);
        after = state_text();
        cr_assert_str_eq(after, before, "%s changed the state", name);
        free(after);
        json_decref(c);
    }
    free(before);
    free(text);
    cr_log_info("%s: %d cases, %d failed", file, ncases, nfailed);
    cr_expect_eq(nfailed, 0, "%s: %d of %d cases failed", file, nfailed,
                 ncases);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0,
                 "netpolq did not exit 0 on SIGTERM");
}

Test(bad_input, manifests_are_refused_and_change_nothing)
{
    run_corpus("manifests.jsonl");
}

Test(bad_input, queries_are_refused_and_change_nothing)
{
    run_corpus("queries.jsonl");
}

Test(bad_input, http_oddities_are_refused_and_change_nothing)
{
    run_corpus("http.jsonl");
}

/* The corpus itself: enough cases, unique names, every case well formed. */
Test(bad_input_corpus, holds_at_least_200_named_cases)
{
    static const char *const files[] = { "manifests.jsonl", "queries.jsonl",
                                         "http.jsonl" };
    json_t *seen = json_object();
    int total = 0;
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        char *text, *line, *next;
        size_t len;

        snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, files[i]);
        text = tdata_read(path, &len);
        cr_assert_not_null(text, "cannot read %s", path);
        for (line = text; line != NULL && *line != '\0'; line = next) {
            json_error_t jerr;
            json_t *c;
            const char *name;
            json_int_t status;

            next = strchr(line, '\n');
            if (next != NULL)
                *next++ = '\0';
            if (line[0] == '\0')
                continue;
            c = json_loads(line, JSON_ALLOW_NUL, &jerr);
            cr_assert_not_null(c, "%s:%d: %s", files[i], jerr.line, jerr.text);
            name = json_string_value(json_object_get(c, "name"));
            cr_assert_not_null(name, "%s: a case without a name", files[i]);
            cr_expect_null(json_object_get(seen, name), "two cases named %s",
                           name);
            json_object_set_new(seen, name, json_true());
            status = json_integer_value(json_object_get(c, "status"));
            cr_expect(
                status == 0 || (status >= 400 && status < 500) || status == 505,
                "%s: status %lld is not a refusal", name, (long long)status);
            total++;
            json_decref(c);
        }
        free(text);
    }
    json_decref(seen);
    cr_expect_geq(total, MIN_CASES, "only %d cases", total);
}
