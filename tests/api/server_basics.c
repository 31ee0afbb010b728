/*
 * The netpolq executable end to end: the HTTP plumbing around
 * api_dispatch(), the body limit, flags and variables, --load, the exit
 * statuses and graceful shutdown. What the API answers is tested in
 * tests/unit/api_*.c; here it only matters that answers arrive, are JSON,
 * and that the server keeps serving after bad input.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/assert_json.h"
#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

static void
assert_still_serving(void)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200, "GET /healthz: %ld %s", r.status, r.body);
    thttp_resp_fini(&r);
}

static void
start_small_body(void)
{
    static const char *const args[] = { "--max-body", "1024", NULL };

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0, "netpolq did not start");
}

TestSuite(server, .init = tsuite_start, .fini = tsuite_stop);
TestSuite(limits, .init = start_small_body, .fini = tsuite_stop);
TestSuite(cli);
TestSuite(startup, .fini = tsuite_stop);

Test(server, healthz_answers_200_json)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(strncmp(r.content_type, "application/json", 16) == 0,
              "Content-Type \"%s\"", r.content_type);
    cr_assert(json_is_object(r.json), "body %s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(server, readiness_line_names_the_address_and_revision)
{
    cr_assert(tsrv_log_contains(&tsuite_srv, "listening on http://127.0.0.1:"));
    cr_assert(tsrv_log_contains(&tsuite_srv, "(revision 0, threads "));
    tsuite_assert_exit_0();
}

Test(server, unknown_path_answers_404_json_error)
{
    struct thttp_resp r;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/no/such/path", &r), 0);
    tassert_json_error(&r, 404, "not_found", NULL);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(server, query_arguments_reach_the_api_in_order)
{
    struct thttp_resp r;
    json_t *error;

    /* A bare key ("?trace") arrives with an empty value. */
    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz?trace", &r), 0);
    tassert_json_error(&r, 400, NULL, NULL);
    error = json_object_get(r.json, "error");
    cr_assert_str_eq(json_string_value(json_object_get(error, "path")),
                     "trace");
    thttp_resp_fini(&r);
    /* Both copies of a repeated key arrive. */
    cr_assert_eq(
        thttp_get(tsuite_srv.base, "/pods?namespace=a&namespace=b", &r), 0);
    tassert_json_error(&r, 400, "invalid_query", NULL);
    thttp_resp_fini(&r);
    /* Values arrive decoded. */
    cr_assert_eq(thttp_get(tsuite_srv.base, "/pods?namespace=a%20b", &r), 0);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(server, wrong_method_answers_405_with_allow)
{
    struct thttp_resp r;

    cr_assert_eq(
        thttp_request(tsuite_srv.base, "DELETE", "/healthz", NULL, NULL, 0, &r),
        0);
    tassert_json_error(&r, 405, "method_not_allowed", NULL);
    cr_assert(strstr(r.allow, "GET") != NULL, "Allow \"%s\"", r.allow);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

/* Malformed bodies of every kind, from issue 3: each gets a 4xx JSON error
 * and the next request is served. */
struct bad_body {
    char name[32];
    char content_type[32];
    int kind; /* how body is made, see make_body() */
    char text[96];
};

enum { BODY_TEXT, BODY_DEEP_JSON, BODY_DEEP_YAML, BODY_NOISE };

static char *
make_body(const struct bad_body *b, size_t *len)
{
    size_t i;
    size_t n = 10000;
    char *s;

    switch (b->kind) {
    case BODY_DEEP_JSON:
    case BODY_DEEP_YAML:
        s = malloc(2 * n + 1);
        for (i = 0; i < n; i++) {
            s[i] = '[';
            s[n + i] = ']';
        }
        *len = 2 * n;
        return s;
    case BODY_NOISE:
        s = malloc(4096);
        /* A fixed LCG: the same noise on every run. */
        for (i = 0, n = 12345; i < 4096; i++) {
            n = n * 1103515245 + 12345;
            s[i] = (char)(n >> 16);
        }
        *len = 4096;
        return s;
    default:
        *len = strlen(b->text);
        s = malloc(*len + 1);
        memcpy(s, b->text, *len + 1);
        return s;
    }
}

ParameterizedTestParameters(server, malformed_body_gets_4xx_json)
{
    static struct bad_body rows[] = {
        { .name = "truncated yaml",
          .content_type = "application/yaml",
          .text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web\n" },
        { .name = "json wrong type",
          .content_type = "application/json",
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":42}}" },
        { .name = "truncated json",
          .content_type = "application/json",
          .text = "{\"apiVersion\":\"v1\",\"kind\":" },
        { .name = "deep json",
          .content_type = "application/json",
          .kind = BODY_DEEP_JSON },
        { .name = "deep yaml",
          .content_type = "application/yaml",
          .kind = BODY_DEEP_YAML },
        { .name = "binary noise yaml",
          .content_type = "application/yaml",
          .kind = BODY_NOISE },
        { .name = "binary noise json",
          .content_type = "application/json",
          .kind = BODY_NOISE },
    };

    return cr_make_param_array(struct bad_body, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_body *b, server, malformed_body_gets_4xx_json)
{
    struct thttp_resp r;
    size_t len;
    char *body = make_body(b, &len);

    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               b->content_type, body, len, &r),
                 0, "%s: no answer", b->name);
    cr_assert(r.status >= 400 && r.status < 500, "%s: status %ld: %s", b->name,
              r.status, r.body);
    tassert_json_error(&r, r.status, NULL, NULL);
    thttp_resp_fini(&r);
    free(body);
    assert_still_serving();
    tsuite_assert_exit_0();
}

Test(server, sigterm_finishes_a_request_in_progress)
{
    static const char body[] = "apiVersion: v1\nkind: Namespace\n"
                               "metadata:\n  name: late\n";
    char head[256];
    struct thttp_resp r;
    int fd;

    fd = thttp_connect(tsuite_srv.port);
    cr_assert_geq(fd, 0);
    snprintf(head, sizeof(head),
             "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/yaml\r\nContent-Length: %zu\r\n"
             "Expect: 100-continue\r\n\r\n",
             sizeof(body) - 1);
    cr_assert_eq(thttp_send(fd, head, strlen(head)), 0);
    /* "100 Continue" means the server has seen the headers: the request
     * is in progress when the signal arrives. */
    cr_assert_eq(thttp_read_response(fd, tsrv_timeout_ms(), &r), 0);
    cr_assert_eq(r.status, 100);
    thttp_resp_fini(&r);
    tsrv_signal(&tsuite_srv, SIGTERM);
    cr_assert(tsrv_wait_log(&tsuite_srv, "finishing 1 request in progress"));
    /* New connections are refused at once, not left in the backlog. */
    cr_assert_lt(thttp_connect(tsuite_srv.port), 0,
                 "a new connection was accepted after SIGTERM");
    cr_assert_eq(thttp_send(fd, body, sizeof(body) - 1), 0);
    cr_assert_eq(thttp_read_response(fd, tsrv_timeout_ms(), &r), 0,
                 "no answer to the request in progress");
    cr_assert(r.status >= 200 && r.status < 500, "%ld %s", r.status, r.body);
    cr_assert_str_eq(r.connection, "close");
    thttp_resp_fini(&r);
    close(fd);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0);
}

Test(server, sigint_exits_0)
{
    cr_assert_eq(tsrv_stop_signal(&tsuite_srv, SIGINT), 0);
}

Test(limits, content_length_of_2gib_gets_413_without_reading)
{
    static const char req[] = "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/yaml\r\n"
                              "Content-Length: 2147483648\r\n\r\n"
                              "apiVersion: v1\n";
    struct thttp_resp r;

    cr_assert_eq(thttp_raw(tsuite_srv.port, req, sizeof(req) - 1, &r), 0,
                 "no answer");
    tassert_json_error(&r, 413, "body_too_large", NULL);
    thttp_resp_fini(&r);
    assert_still_serving();
    tsuite_assert_exit_0();
}

Test(limits, content_length_beyond_uint64_gets_an_error)
{
    static const char req[] = "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/yaml\r\n"
                              "Content-Length: 99999999999999999999999\r\n"
                              "\r\n";
    struct thttp_resp r;

    /* libmicrohttpd rejects a length it cannot parse itself (with a 4xx of
     * its own, or by closing); either way the server goes on. */
    thttp_raw(tsuite_srv.port, req, sizeof(req) - 1, &r);
    cr_assert(r.status == 0 || (r.status >= 400 && r.status < 500),
              "status %ld", r.status);
    thttp_resp_fini(&r);
    assert_still_serving();
    tsuite_assert_exit_0();
}

Test(limits, body_over_max_body_gets_413)
{
    char body[1025];
    struct thttp_resp r;

    memset(body, '#', sizeof(body));
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", body, sizeof(body), &r),
                 0);
    tassert_json_error(&r, 413, "body_too_large", NULL);
    thttp_resp_fini(&r);
    assert_still_serving();
    tsuite_assert_exit_0();
}

Test(limits, chunked_body_over_max_body_gets_413)
{
    static const char head[] = "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Type: application/yaml\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    char req[4096];
    size_t len = 0;
    int i;
    struct thttp_resp r;

    memcpy(req, head, sizeof(head) - 1);
    len = sizeof(head) - 1;
    /* Three chunks of 512 bytes: the second crosses the 1024-byte limit. */
    for (i = 0; i < 3; i++) {
        memcpy(req + len, "200\r\n", 5);
        len += 5;
        memset(req + len, '#', 512);
        len += 512;
        memcpy(req + len, "\r\n", 2);
        len += 2;
    }
    memcpy(req + len, "0\r\n\r\n", 5);
    len += 5;
    cr_assert_eq(thttp_raw(tsuite_srv.port, req, len, &r), 0, "no answer");
    tassert_json_error(&r, 413, "body_too_large", NULL);
    thttp_resp_fini(&r);
    assert_still_serving();
    tsuite_assert_exit_0();
}

Test(limits, body_of_exactly_max_body_reaches_the_api)
{
    char body[1024];
    struct thttp_resp r;

    /* A YAML stream of comments only. */
    memset(body, '#', sizeof(body));
    body[sizeof(body) - 1] = '\n';
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", body, sizeof(body), &r),
                 0);
    cr_assert_neq(r.status, 413, "%s", r.body);
    cr_assert(r.status < 500, "%ld %s", r.status, r.body);
    cr_assert_not_null(r.json, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(cli, help_lists_every_option_and_exits_0)
{
    static const char *const args[] = { "--help", NULL };
    static const char *const words[] = {
        "--listen",
        "--load",
        "--threads",
        "--max-body",
        "--ipblock-matches-pods",
        "--state-file",
        "--help",
        "--version",
        "NETPOLQ_LISTEN",
        "NETPOLQ_LOAD",
        "NETPOLQ_THREADS",
        "NETPOLQ_MAX_BODY",
        "NETPOLQ_IPBLOCK_MATCHES_PODS",
        "NETPOLQ_STATE_FILE",
    };
    struct tsrv_output out;
    size_t i;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 0, "%s", out.err);
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        cr_assert(strstr(out.out, words[i]) != NULL, "--help lacks %s",
                  words[i]);
    tsrv_output_fini(&out);
}

Test(cli, version_prints_the_version_and_exits_0)
{
    static const char *const args[] = { "--version", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 0, "%s", out.err);
    cr_assert_str_eq(out.out, "netpolq " NETPOLQ_VERSION "\n");
    tsrv_output_fini(&out);
}

struct bad_args {
    char args[3][40];
};

ParameterizedTestParameters(cli, bad_option_exits_2_with_a_hint)
{
    static struct bad_args rows[] = {
        { { "--bogus" } },
        { { "stray" } },
        { { "--threads", "0" } },
        { { "--threads", "many" } },
        { { "--threads" } },
        { { "--max-body", "12X" } },
        { { "--max-body", "0" } },
        { { "--ipblock-matches-pods=maybe" } },
        { { "--ipblock-matches-pods", "yes" } },
        { { "--listen", "nohost" } },
        { { "--listen", "::1:8080" } },
        { { "--listen", "127.0.0.1:65536" } },
        { { "--listen", "[::1]8080" } },
        { { "--help=please" } },
    };

    return cr_make_param_array(struct bad_args, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_args *row, cli, bad_option_exits_2_with_a_hint)
{
    const char *args[4] = { NULL };
    struct tsrv_output out;
    int i;

    for (i = 0; i < 3 && row->args[i][0] != '\0'; i++)
        args[i] = row->args[i];
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 2, "%s %s: status %d: %s", row->args[0],
                 row->args[1], out.status, out.err);
    cr_assert(strstr(out.err, "--help") != NULL, "no hint: %s", out.err);
    tsrv_output_fini(&out);
}

Test(cli, bad_environment_value_exits_2_naming_the_variable)
{
    static const char *const args[] = { NULL };
    struct tsrv_output out;

    setenv("NETPOLQ_THREADS", "lots", 1);
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 2, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "NETPOLQ_THREADS") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

Test(cli, state_file_in_a_missing_directory_exits_1_naming_it)
{
    static const char *const args[] = { "--listen", "127.0.0.1:1",
                                        "--state-file",
                                        "/nonexistent/netpolq.state", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "/nonexistent") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

/* Why the server cannot start is an error, shown at every --log-level
 * (text and JSON). */
Test(cli, startup_failures_show_at_log_level_error)
{
    static const char *const load[] = {
        "--listen", "127.0.0.1:1", "--log-level",
        "error",    "--load",      "/nonexistent/netpolq.yaml",
        NULL
    };
    static const char *const state[] = { "--listen",
                                         "127.0.0.1:1",
                                         "--log-level",
                                         "error",
                                         "--log-format",
                                         "json",
                                         "--state-file",
                                         "/nonexistent/netpolq.state",
                                         NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(load, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "cannot load /nonexistent/netpolq.yaml") != NULL,
              "%s", out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_run(state, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "\"level\":\"error\"") != NULL, "%s", out.err);
    cr_assert(strstr(out.err, "/nonexistent") != NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

Test(cli, load_of_a_missing_file_exits_1_naming_it)
{
    static const char *const args[] = { "--listen", "127.0.0.1:1", "--load",
                                        "/nonexistent/netpolq.yaml", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "/nonexistent/netpolq.yaml") != NULL, "%s",
              out.err);
    cr_assert(strstr(out.err, "listening on") == NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

Test(cli, address_in_use_exits_1)
{
    char listen[32];
    const char *args[] = { "--listen", listen, NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", tsuite_srv.port);
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0);
}

/* Writes text to dir/name. */
static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    cr_assert_not_null(fp, "cannot create %s", path);
    fputs(text, fp);
    fclose(fp);
}

/* Removes a directory made by the tests and everything in it (files and
 * empty directories). The server has read the files once it is ready. */
static void
remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[512];

    if (d == NULL)
        return;
    for (;;) {
        struct dirent *de = readdir(d);

        if (de == NULL)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    rmdir(dir);
}

static void
namespace_dir(char *dir, size_t len)
{
    char sub[128];

    snprintf(dir, len, "/tmp/netpolq-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "b.yml",
               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n");
    write_file(dir, "a.yaml",
               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"
               "---\napiVersion: v1\nkind: Namespace\nmetadata:\n"
               "  name: a2\n");
    write_file(dir, "c.json",
               "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
               "\"metadata\":{\"name\":\"c\"}}\n");
    write_file(dir, "notes.txt", "not a manifest: {{{\n");
    /* A directory named like a manifest is skipped, not descended into. */
    snprintf(sub, sizeof(sub), "%s/sub.yaml", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
}

static long
state_count(const char *field)
{
    struct thttp_resp r;
    long n;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    n = (long)json_integer_value(json_object_get(r.json, field));
    thttp_resp_fini(&r);
    return n;
}

Test(startup, load_directory_reads_its_manifests_as_one_revision)
{
    char dir[64];
    const char *args[] = { "--load", dir, NULL };

    namespace_dir(dir, sizeof(dir));
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    remove_dir(dir);
    cr_assert(tsrv_log_contains(&tsuite_srv, "(revision 1,"));
    cr_assert_eq(state_count("namespaces"), 4);
    cr_assert_eq(state_count("revision"), 1);
    tsuite_assert_exit_0();
}

Test(startup, load_list_from_the_environment)
{
    char dir[64];
    char list[256];

    namespace_dir(dir, sizeof(dir));
    snprintf(list, sizeof(list), "%s/a.yaml,%s/c.json", dir, dir);
    setenv("NETPOLQ_LOAD", list, 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0);
    remove_dir(dir);
    cr_assert_eq(state_count("namespaces"), 3);
    tsuite_assert_exit_0();
}

Test(startup, load_flag_wins_over_the_environment)
{
    char dir[64];
    char file[128];
    const char *args[] = { "--load", file, NULL };

    namespace_dir(dir, sizeof(dir));
    snprintf(file, sizeof(file), "%s/b.yml", dir);
    setenv("NETPOLQ_LOAD", "/nonexistent.yaml", 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    remove_dir(dir);
    cr_assert_eq(state_count("namespaces"), 1);
    tsuite_assert_exit_0();
}

Test(startup, max_body_from_the_environment)
{
    char body[200];
    struct thttp_resp r;

    setenv("NETPOLQ_MAX_BODY", "100", 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0);
    memset(body, '#', sizeof(body));
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", body, sizeof(body), &r),
                 0);
    tassert_json_error(&r, 413, "body_too_large", NULL);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(startup, max_body_flag_wins_over_the_environment)
{
    static const char *const args[] = { "--max-body", "1K", NULL };
    char body[200];
    struct thttp_resp r;

    setenv("NETPOLQ_MAX_BODY", "100", 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    memset(body, '#', sizeof(body));
    body[sizeof(body) - 1] = '\n';
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", body, sizeof(body), &r),
                 0);
    cr_assert_neq(r.status, 413, "%s", r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(startup, listens_on_ipv6_loopback)
{
    static const char *const args[] = { "--listen", "[::1]:0", NULL };
    struct thttp_resp r;

    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    cr_assert(strncmp(tsuite_srv.base, "http://[::1]:", 13) == 0, "base %s",
              tsuite_srv.base);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}

Test(startup, bad_manifest_exits_1_before_listening)
{
    char dir[64];
    char file[128];
    const char *args[] = { "--listen", "127.0.0.1:1", "--load", file, NULL };
    struct tsrv_output out;

    snprintf(dir, sizeof(dir), "/tmp/netpolq-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "bad.yaml",
               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n"
               "---\napiVersion: networking.k8s.io/v1\n"
               "kind: NetworkPolicy\nmetadata:\n  name: p\n"
               "  namespace: ok\nspec:\n  podSelector: {}\n  ingress:\n"
               "  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/99\n");
    snprintf(file, sizeof(file), "%s/bad.yaml", dir);
    cr_assert_eq(tsrv_run(args, &out), 0);
    remove_dir(dir);
    cr_assert_eq(out.status, 1, "status %d: %s", out.status, out.err);
    cr_assert(strstr(out.err, "bad.yaml") != NULL, "%s", out.err);
    cr_assert(strstr(out.err, "document 1") != NULL, "%s", out.err);
    cr_assert(strstr(out.err, "listening on") == NULL, "%s", out.err);
    tsrv_output_fini(&out);
}

/* The ipBlock switch reaches the evaluator: a policy that admits
 * 10.0.0.0/24 by ipBlock admits the pod 10.0.0.5 only while ipBlock
 * matches pods. */
struct ipblock_case {
    char args[2][40];
    char env[8]; /* NETPOLQ_IPBLOCK_MATCHES_PODS, "" for unset */
    bool allowed;
};

ParameterizedTestParameters(startup, ipblock_matches_pods_switch)
{
    static struct ipblock_case rows[] = {
        { .allowed = true },
        { .args = { "--ipblock-matches-pods=true" }, .allowed = true },
        { .args = { "--ipblock-matches-pods=false" }, .allowed = false },
        { .args = { "--ipblock-matches-pods", "false" }, .allowed = false },
        { .env = "false", .allowed = false },
        { .args = { "--ipblock-matches-pods", "true" },
          .env = "false",
          .allowed = true },
    };

    return cr_make_param_array(struct ipblock_case, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct ipblock_case *c, startup, ipblock_matches_pods_switch)
{
    static const char query[] =
        "{\"from\":{\"namespace\":\"a\",\"pod\":\"client\"},"
        "\"to\":{\"namespace\":\"a\",\"pod\":\"server\"},\"port\":80}";
    char dir[64];
    char file[128];
    const char *args[6] = { "--load", file, NULL };
    struct thttp_resp r;
    int i;

    snprintf(dir, sizeof(dir), "/tmp/netpolq-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_file(dir, "cluster.yaml",
               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: client\n"
               "  namespace: a\nstatus:\n  podIP: 10.0.0.5\n"
               "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: server\n"
               "  namespace: a\n  labels:\n    app: server\n"
               "status:\n  podIP: 10.0.0.6\n"
               "---\napiVersion: networking.k8s.io/v1\n"
               "kind: NetworkPolicy\nmetadata:\n  name: by-ip\n"
               "  namespace: a\nspec:\n  podSelector:\n    matchLabels:\n"
               "      app: server\n  ingress:\n  - from:\n    - ipBlock:\n"
               "        cidr: 10.0.0.0/24\n");
    snprintf(file, sizeof(file), "%s/cluster.yaml", dir);
    for (i = 0; i < 2 && c->args[i][0] != '\0'; i++)
        args[2 + i] = c->args[i];
    if (c->env[0] != '\0')
        setenv("NETPOLQ_IPBLOCK_MATCHES_PODS", c->env, 1);
    cr_assert_eq(tsrv_start(&tsuite_srv, args), 0);
    remove_dir(dir);
    cr_assert_eq(thttp_request(tsuite_srv.base, "POST", "/reachability",
                               "application/json", query, sizeof(query) - 1,
                               &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_is_true(json_object_get(r.json, "allowed")), c->allowed,
                 "%s %s env=%s: %s", c->args[0], c->args[1], c->env, r.body);
    thttp_resp_fini(&r);
    tsuite_assert_exit_0();
}
