/*
 * Bearer tokens against the binary (--token-file, --auth): 401 with a
 * WWW-Authenticate challenge for a missing or wrong token, 200 for each
 * token of the file, /healthz and /readyz open, --auth writes letting
 * queries through but not changes, tokens kept out of the log, and a
 * token file that cannot serve stopping the start.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/http_auth.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

#define TOKEN_A "tok-A.9f2c1e7d-alpha"
#define TOKEN_B "tok-B+longer/than~the-first=="

static char dir[64];
static char token_path[128];

static const char cluster[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
    "\"namespace\":\"a\",\"labels\":{\"app\":\"x\"}},"
    "\"status\":{\"podIP\":\"10.0.0.1\"}},"
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\","
    "\"namespace\":\"a\",\"labels\":{\"app\":\"y\"}},"
    "\"status\":{\"podIP\":\"10.0.0.2\"}}]}";

static const char query[] =
    "{\"from\":{\"namespace\":\"a\",\"pod\":\"p1\"},"
    "\"to\":{\"namespace\":\"a\",\"pod\":\"p2\"},\"port\":80}";

static const char batch[] =
    "{\"queries\":[{\"from\":{\"namespace\":\"a\",\"pod\":\"p1\"},"
    "\"to\":{\"namespace\":\"a\",\"pod\":\"p2\"},\"port\":80}]}";

/* The token file: comments, blank lines, spaces and a CRLF around the two
 * tokens. */
static const char token_file[] = "# netpolq tokens\n"
                                 "\n"
                                 "   " TOKEN_A "  \r\n"
                                 "# the second one\n"
                                 "\t" TOKEN_B "\n";

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    cr_assert_eq(fclose(f), 0);
}

static void
make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/netpolq-auth-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(token_path, sizeof(token_path), "%s/tokens", dir);
    write_file(token_path, token_file);
}

static void
remove_dir(void)
{
    if (dir[0] == '\0')
        return;
    unlink(token_path);
    rmdir(dir);
    dir[0] = '\0';
}

static void
start_all(void)
{
    const char *args[] = { "--token-file", NULL, NULL };

    make_dir();
    args[1] = token_path;
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

static void
start_writes(void)
{
    const char *args[] = { "--token-file", NULL, "--auth", "writes", NULL };

    make_dir();
    args[1] = token_path;
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

static void
stop(void)
{
    tsrv_stop(&tsuite_srv);
    remove_dir();
}

/* Sends method path with body (JSON when not NULL) and the Authorization
 * value auth (NULL for none); returns the status. */
static long
call(const char *method, const char *path, const char *body, const char *auth,
     struct thttp_resp *r, char *www)
{
    struct thttp_auth_req req = {
        .method = method,
        .path = path,
        .content_type = body != NULL ? "application/json" : NULL,
        .body = body,
        .len = body != NULL ? strlen(body) : 0,
        .authorization = auth,
    };

    cr_assert_eq(thttp_auth_request(tsuite_srv.base, &req, r, www), 0,
                 "%s %s: no answer", method, path);
    return r->status;
}

static void
assert_unauthorized(const struct thttp_resp *r, const char *www,
                    bool invalid_token)
{
    const char *code;

    cr_assert_eq(r->status, 401, "status %ld: %s", r->status, r->body);
    cr_assert_not_null(r->json, "not JSON: %s", r->body);
    code = json_string_value(
        json_object_get(json_object_get(r->json, "error"), "code"));
    cr_assert_str_eq(code != NULL ? code : "", "unauthorized");
    cr_assert(strncmp(www, "Bearer realm=\"netpolq\"", 22) == 0,
              "WWW-Authenticate: \"%s\"", www);
    cr_assert_eq(strstr(www, "invalid_token") != NULL, invalid_token,
                 "WWW-Authenticate: \"%s\"", www);
    cr_assert_null(strstr(r->body, "tok-"), "a token in the answer: %s",
                   r->body);
}

static long
state_revision(const char *auth)
{
    struct thttp_resp r;
    char www[256];
    long rev;

    cr_assert_eq(call("GET", "/state", NULL, auth, &r, www), 200, "%s", r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    return rev;
}

Test(auth, no_header_answers_401_with_a_bearer_challenge, .init = start_all,
     .fini = stop)
{
    static const char *const paths[][2] = {
        { "GET", "/state" },         { "GET", "/pods" },
        { "GET", "/openapi.yaml" },  { "GET", "/no/such/path" },
        { "PUT", "/state" },         { "DELETE", "/state" },
        { "POST", "/reachability" },
    };
    struct thttp_resp r;
    char www[256];
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        call(paths[i][0], paths[i][1],
             strcmp(paths[i][0], "GET") == 0 ? NULL : "{}", NULL, &r, www);
        assert_unauthorized(&r, www, false);
        thttp_resp_fini(&r);
    }
    /* Not a bearer token at all. */
    call("GET", "/state", NULL, "Basic dG9rOnRvaw==", &r, www);
    assert_unauthorized(&r, www, false);
    thttp_resp_fini(&r);
    call("GET", "/state", NULL, "Bearer", &r, www);
    assert_unauthorized(&r, www, false);
    thttp_resp_fini(&r);
    /* The PUT above changed nothing. */
    cr_assert_eq(state_revision("Bearer " TOKEN_A), 0);
    tsuite_assert_exit_0();
}

Test(auth, wrong_tokens_answer_401_invalid_token, .init = start_all,
     .fini = stop)
{
    /* Near misses: prefixes, extensions, one character changed, both tokens
     * at once, the file's comment. */
    static const char *const wrong[] = {
        "Bearer tok-A",
        "Bearer " TOKEN_A "x",
        "Bearer " TOKEN_A "\\",
        "Bearer tok-A.9f2c1e7d-alphA",
        "Bearer " TOKEN_A TOKEN_B,
        "Bearer " TOKEN_A " " TOKEN_B,
        "Bearer #",
        "Bearer x",
        "Bearer "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    struct thttp_resp r;
    char www[256];
    size_t i;

    for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        call("GET", "/state", NULL, wrong[i], &r, www);
        cr_assert_eq(r.status, 401, "\"%.40s\": %ld", wrong[i], r.status);
        assert_unauthorized(&r, www, true);
        thttp_resp_fini(&r);
    }
    call("PUT", "/state", cluster, "Bearer tok-B", &r, www);
    assert_unauthorized(&r, www, true);
    thttp_resp_fini(&r);
    cr_assert_eq(state_revision("Bearer " TOKEN_B), 0);
    tsuite_assert_exit_0();
}

Test(auth, each_token_of_the_file_is_accepted, .init = start_all, .fini = stop)
{
    struct thttp_resp r;
    char www[256];

    cr_assert_eq(call("PUT", "/state", cluster, "Bearer " TOKEN_A, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("POST", "/state", cluster, "Bearer " TOKEN_B, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    /* The scheme is case-insensitive (RFC 7235). */
    cr_assert_eq(call("GET", "/pods", NULL, "bearer " TOKEN_B, &r, www), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(
        call("POST", "/reachability", query, "Bearer " TOKEN_A, &r, www), 200,
        "%s", r.body);
    cr_assert(json_is_true(json_object_get(r.json, "allowed")), "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("DELETE", "/namespaces/a/pods/p2", NULL,
                      "Bearer " TOKEN_B, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(state_revision("Bearer " TOKEN_A), 3);
    tsuite_assert_exit_0();
}

Test(auth, health_readiness_and_preflights_need_no_token, .init = start_all,
     .fini = stop)
{
    struct thttp_resp r;
    char www[256];

    cr_assert_eq(call("GET", "/healthz", NULL, NULL, &r, www), 200, "%s",
                 r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("GET", "/readyz", NULL, NULL, &r, www), 200, "%s",
                 r.body);
    thttp_resp_fini(&r);
    /* A wrong token does not spoil them either. */
    cr_assert_eq(call("GET", "/healthz", NULL, "Bearer nope", &r, www), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    /* Browsers send CORS preflights without credentials. */
    call("OPTIONS", "/state", NULL, NULL, &r, www);
    cr_assert_neq(r.status, 401, "OPTIONS /state: %s", r.body);
    cr_assert_eq(www[0], '\0', "WWW-Authenticate: %s", www);
    thttp_resp_fini(&r);
    /* Other methods on the open paths are not open. */
    call("POST", "/healthz", "{}", NULL, &r, www);
    assert_unauthorized(&r, www, false);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(auth, writes_mode_protects_changes_only, .init = start_writes,
     .fini = stop)
{
    static const char *const writes[][2] = {
        { "PUT", "/state" },
        { "POST", "/state" },
        { "DELETE", "/state" },
        { "DELETE", "/namespaces/a" },
        { "DELETE", "/namespaces/a/pods/p1" },
        { "DELETE", "/namespaces/a/networkpolicies/x" },
    };
    struct thttp_resp r;
    char www[256];
    size_t i;

    cr_assert_eq(call("PUT", "/state", cluster, "Bearer " TOKEN_B, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        call(writes[i][0], writes[i][1],
             strcmp(writes[i][0], "DELETE") == 0 ? NULL : cluster, NULL, &r,
             www);
        assert_unauthorized(&r, www, false);
        thttp_resp_fini(&r);
    }
    /* Reads and queries need no token. */
    cr_assert_eq(call("GET", "/state", NULL, NULL, &r, www), 200, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "revision")), 1);
    thttp_resp_fini(&r);
    cr_assert_eq(call("GET", "/pods", NULL, NULL, &r, www), 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("POST", "/reachability", query, NULL, &r, www), 200, "%s",
                 r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("POST", "/reachability/batch", batch, NULL, &r, www), 200,
                 "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(call("GET", "/reachability?from=a/p1&to=a/p2&port=80", NULL,
                      NULL, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    /* The 401s are in the metrics (open here, a read), under their
     * routes. */
    cr_assert_eq(call("GET", "/metrics", NULL, NULL, &r, www), 200, "%s",
                 r.body);
    cr_assert_not_null(strstr(r.body, "netpolq_http_requests_total{route="
                                      "\"/state\",method=\"PUT\",code=\"401\"}"
                                      " 1\n"),
                       "%s", r.body);
    cr_assert_not_null(strstr(r.body, "netpolq_http_requests_total{route="
                                      "\"/namespaces/{ns}\",method="
                                      "\"DELETE\",code=\"401\"} 1\n"),
                       "%s", r.body);
    thttp_resp_fini(&r);
    /* A change with a token still works. */
    cr_assert_eq(call("DELETE", "/namespaces/a/pods/p1", NULL,
                      "Bearer " TOKEN_A, &r, www),
                 200, "%s", r.body);
    thttp_resp_fini(&r);
    cr_assert_eq(state_revision(NULL), 2);
    tsuite_assert_exit_0();
}

Test(auth, tokens_never_reach_the_log, .init = start_all, .fini = stop)
{
    struct thttp_resp r;
    char www[256];

    call("GET", "/state", NULL, "Bearer tok-guess-1234", &r, www);
    thttp_resp_fini(&r);
    call("PUT", "/state", "{\"secret-body\": 1}", "Bearer " TOKEN_A, &r, www);
    thttp_resp_fini(&r);
    call("GET", "/state", NULL, "Bearer " TOKEN_B, &r, www);
    thttp_resp_fini(&r);
    cr_assert(!tsrv_log_contains(&tsuite_srv, "tok-"), "a token in the log");
    cr_assert(!tsrv_log_contains(&tsuite_srv, "secret-body"),
              "a body in the log");
    tsuite_assert_exit_0();
}

struct bad_file {
    char text[64];
    char expect[48];
};

static void
run_with_token_file(const char *text, struct tsrv_output *out)
{
    const char *args[] = { "--listen", "127.0.0.1:1", "--token-file", NULL,
                           NULL };

    make_dir();
    if (text != NULL)
        write_file(token_path, text);
    else
        unlink(token_path);
    args[3] = token_path;
    cr_assert_eq(tsrv_run(args, out), 0);
    remove_dir();
}

Test(auth, unusable_token_files_stop_the_start)
{
    static const struct bad_file rows[] = {
        { .text = "# only a comment\n\n", .expect = "has no tokens" },
        { .text = "", .expect = "has no tokens" },
        { .text = "good-token\nsecret with-space\n", .expect = "line 2" },
        { .text = "\x01\x02\n", .expect = "line 1" },
    };
    struct tsrv_output out;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        run_with_token_file(rows[i].text, &out);
        cr_assert_eq(out.status, 1, "row %zu: status %d: %s", i, out.status,
                     out.err);
        cr_assert(strstr(out.err, "token file") != NULL, "row %zu: %s", i,
                  out.err);
        cr_assert(strstr(out.err, rows[i].expect) != NULL, "row %zu: %s", i,
                  out.err);
        cr_assert(strstr(out.err, "secret") == NULL,
                  "row %zu: the token in the message: %s", i, out.err);
        tsrv_output_fini(&out);
    }
    run_with_token_file(NULL, &out);
    cr_assert_eq(out.status, 1, "missing file: status %d: %s", out.status,
                 out.err);
    cr_assert(strstr(out.err, "/tokens") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

Test(auth, auth_without_a_token_file_is_a_usage_error)
{
    static const char *const args[] = { "--auth", "writes", NULL };
    static const char *const bad[] = { "--token-file", "/dev/null", "--auth",
                                       "some", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 2, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "--token-file") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_run(bad, &out), 0);
    cr_assert_eq(out.status, 2, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "all or writes") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
}
