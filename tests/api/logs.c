/*
 * The server's log against the real binary: one line per request with its
 * id, method, path, status, duration and size; a line per published
 * revision; JSON lines that parse; X-Request-Id taken from the caller when
 * sane and generated otherwise, and echoed either way; --log-level; and
 * nothing secret in any line (bodies, query strings, Authorization).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "tests/support/hdr.h"
#include "tests/support/http.h"
#include "tests/support/server.h"

static struct tsrv srv;

static void
start_json(void)
{
    static const char *const args[] = { "--log-format", "json", NULL };

    cr_assert_eq(tsrv_start(&srv, args), 0, "netpolq did not start");
}

static void
start_text(void)
{
    cr_assert_eq(tsrv_start(&srv, NULL), 0, "netpolq did not start");
}

/* The warn suite's state file lives in a directory the test removes, so
 * that saving a change fails: a 500, whose line is a warning. */
static char state_dir[64];

static void
start_warn(void)
{
    char state[96];
    const char *args[] = { "--log-level", "warn", "--state-file", state, NULL };

    snprintf(state_dir, sizeof(state_dir), "/tmp/netpolq-logs-XXXXXX");
    cr_assert_not_null(mkdtemp(state_dir));
    snprintf(state, sizeof(state), "%s/state.json", state_dir);
    cr_assert_eq(tsrv_start(&srv, args), 0,
                 "netpolq did not start: the readiness line must show at "
                 "any level");
}

static void
stop_warn(void)
{
    tsrv_stop(&srv);
    rmdir(state_dir);
}

static void
stop_quietly(void)
{
    tsrv_stop(&srv);
}

/* Criterion 2.4 ignores failed assertions in .fini. */
static void
assert_exit_0(void)
{
    cr_assert_eq(tsrv_stop(&srv), 0, "netpolq did not exit 0 on SIGTERM");
}

TestSuite(logs_json, .init = start_json, .fini = stop_quietly);
TestSuite(logs_text, .init = start_text, .fini = stop_quietly);
TestSuite(logs_warn, .init = start_warn, .fini = stop_warn);
TestSuite(logs_cli);

/* Returns a copy of what the server wrote to stderr so far (owned). */
static char *
log_copy(void)
{
    char *copy;

    pthread_mutex_lock(&srv.lock);
    copy = strdup(srv.log != NULL ? srv.log : "");
    pthread_mutex_unlock(&srv.lock);
    cr_assert_not_null(copy);
    return copy;
}

/* Sends a request with the given request headers; returns the answer's
 * X-Request-Id into id. */
static long
request(const char *method, const char *path, const char *const *headers,
        const char *body, char *id, size_t idlen)
{
    struct thdr_resp r;
    long status;

    cr_assert_eq(thdr_request(srv.base, method, path, headers,
                              body != NULL ? "application/yaml" : NULL, body,
                              body != NULL ? strlen(body) : 0, &r),
                 0);
    status = r.status;
    cr_assert(thdr_get(&r, "X-Request-Id", id, idlen),
              "%s %s: no X-Request-Id in the answer:\n%s", method, path,
              r.headers);
    cr_assert_eq(thdr_count(&r, "X-Request-Id"), 1);
    thdr_resp_fini(&r);
    return status;
}

static bool
is_generated_id(const char *id)
{
    return strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16;
}

/* Returns the complete line of log (a JSON object) whose "msg" is msg and
 * whose "id" is id, as a new reference, or NULL. */
static json_t *
find_json_line(const char *log, const char *msg, const char *id)
{
    char *copy = strdup(log);
    char *line;
    char *next;
    json_t *found = NULL;

    cr_assert_not_null(copy);
    for (line = copy; found == NULL; line = next) {
        json_t *v;
        const char *m;
        const char *i;

        next = strchr(line, '\n');
        if (next == NULL)
            break; /* not a complete line yet */
        *next++ = '\0';
        v = json_loads(line, 0, NULL);
        m = json_string_value(json_object_get(v, "msg"));
        i = json_string_value(json_object_get(v, "id"));
        if (m != NULL && i != NULL && strcmp(m, msg) == 0 && strcmp(i, id) == 0)
            found = json_incref(v);
        json_decref(v);
    }
    free(copy);
    return found;
}

/* Waits for the JSON log line whose "msg" is msg and "id" is id and returns
 * it (new reference); fails when it does not come. A request's line comes
 * when it is over, after its answer and after any line it logged earlier
 * (such as "state published"), so waiting for the id alone is not enough. */
static json_t *
json_line(const char *msg, const char *id)
{
    struct timespec deadline;
    json_t *found = NULL;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += tsrv_timeout_ms() / 1000;
    pthread_mutex_lock(&srv.lock);
    for (;;) {
        found = find_json_line(srv.log != NULL ? srv.log : "", msg, id);
        if (found != NULL || srv.eof)
            break;
        if (pthread_cond_timedwait(&srv.changed, &srv.lock, &deadline) ==
            ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&srv.lock);
    cr_assert_not_null(found, "no \"%s\" line for request %s", msg, id);
    return found;
}

Test(logs_json, every_line_is_json_with_time_level_and_message)
{
    char id[80];
    char *log;
    char *line;
    int n = 0;
    bool ready = false;

    request("GET", "/healthz", NULL, NULL, id, sizeof(id));
    json_decref(json_line("request", id));
    log = log_copy();
    /* A line still being read in is not checked. */
    if (strrchr(log, '\n') != NULL)
        strrchr(log, '\n')[1] = '\0';
    for (line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        json_error_t jerr;
        json_t *v = json_loads(line, 0, &jerr);
        const char *msg;

        cr_assert_not_null(v, "not JSON (%s): %s", jerr.text, line);
        cr_assert(json_is_string(json_object_get(v, "time")), "%s", line);
        cr_assert(json_is_string(json_object_get(v, "level")), "%s", line);
        msg = json_string_value(json_object_get(v, "msg"));
        cr_assert_not_null(msg, "%s", line);
        /* The readiness line keeps its words, which tests wait for. */
        if (strncmp(msg, "listening on http://127.0.0.1:", 30) == 0)
            ready = true;
        json_decref(v);
        n++;
    }
    free(log);
    cr_assert(ready, "no readiness line");
    cr_assert(n >= 3, "start, readiness and request lines expected");
    assert_exit_0();
}

Test(logs_json, request_lines_have_the_request_fields)
{
    static const char *const headers[] = { "X-Request-Id: dash-42.a_b", NULL };
    char id[80];
    json_t *v;

    cr_assert_eq(request("GET", "/pods/default/nope/isolation", headers, NULL,
                         id, sizeof(id)),
                 404);
    cr_assert_str_eq(id, "dash-42.a_b");
    v = json_line("request", id);
    cr_assert_str_eq(json_string_value(json_object_get(v, "level")), "info");
    cr_assert_str_eq(json_string_value(json_object_get(v, "method")), "GET");
    cr_assert_str_eq(json_string_value(json_object_get(v, "path")),
                     "/pods/default/nope/isolation");
    cr_assert_eq(json_integer_value(json_object_get(v, "status")), 404);
    cr_assert(json_is_number(json_object_get(v, "duration_ms")));
    cr_assert(json_number_value(json_object_get(v, "duration_ms")) >= 0);
    /* The 404's JSON error body was sent. */
    cr_assert(json_integer_value(json_object_get(v, "bytes")) > 20);
    cr_assert_str_eq(json_string_value(json_object_get(v, "remote")),
                     "127.0.0.1");
    json_decref(v);
    assert_exit_0();
}

Test(logs_json, generates_an_id_when_the_caller_gives_none_or_a_bad_one)
{
    static const char *const spaces[] = { "X-Request-Id: has spaces", NULL };
    static const char *const quote[] = { "X-Request-Id: a\"b", NULL };
    char long_id[100];
    const char *too_long[] = { long_id, NULL };
    char id1[80], id2[80], id3[80], id4[80];

    snprintf(long_id, sizeof(long_id), "X-Request-Id: %065d", 7);
    request("GET", "/healthz", NULL, NULL, id1, sizeof(id1));
    request("GET", "/healthz", NULL, NULL, id2, sizeof(id2));
    request("GET", "/healthz", spaces, NULL, id3, sizeof(id3));
    request("GET", "/healthz", too_long, NULL, id4, sizeof(id4));
    cr_assert(is_generated_id(id1), "%s", id1);
    cr_assert(is_generated_id(id2), "%s", id2);
    cr_assert(is_generated_id(id3), "%s", id3);
    cr_assert(is_generated_id(id4), "%s", id4);
    cr_assert_str_neq(id1, id2);
    json_decref(json_line("request", id4));
    request("GET", "/healthz", quote, NULL, id1, sizeof(id1));
    cr_assert(is_generated_id(id1), "%s", id1);
    /* An id of exactly 64 characters is taken as it is. */
    snprintf(long_id, sizeof(long_id), "X-Request-Id: %064d", 7);
    request("GET", "/healthz", too_long, NULL, id1, sizeof(id1));
    cr_assert_eq(strlen(id1), 64);
    assert_exit_0();
}

Test(logs_json, a_change_of_the_state_logs_its_revision)
{
    static const char ns[] = "apiVersion: v1\nkind: Namespace\n"
                             "metadata: {name: logged}\n";
    char id[80];
    json_t *v;

    cr_assert_eq(request("PUT", "/state", NULL, ns, id, sizeof(id)), 200);
    v = json_line("state published", id);
    cr_assert_eq(json_integer_value(json_object_get(v, "revision")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(v, "method")), "PUT");
    json_decref(v);
    cr_assert_eq(
        request("DELETE", "/namespaces/logged", NULL, NULL, id, sizeof(id)),
        200);
    v = json_line("state published", id);
    cr_assert_eq(json_integer_value(json_object_get(v, "revision")), 2);
    json_decref(v);
    assert_exit_0();
}

Test(logs_json, never_logs_bodies_query_strings_or_tokens)
{
    static const char *const auth[] = {
        "Authorization: Bearer TOKEN-SECRET-7f3a",
        "Cookie: session=COOKIE-SECRET-91",
        NULL,
    };
    static const char body[] = "apiVersion: v1\nkind: Namespace\n"
                               "metadata:\n  name: quiet\n"
                               "  labels: {secret: BODY-SECRET-5e1}\n";
    char id[80];
    char *log;

    request("POST", "/state", auth, body, id, sizeof(id));
    json_decref(json_line("request", id));
    request("GET", "/pods?labelSelector=QUERY-SECRET-c4", auth, NULL, id,
            sizeof(id));
    json_decref(json_line("request", id));
    /* A rejected body is not quoted either. */
    request("POST", "/state", auth, "kind: [BAD-BODY-SECRET-0d", id,
            sizeof(id));
    json_decref(json_line("request", id));
    log = log_copy();
    cr_assert_null(strstr(log, "TOKEN-SECRET"), "%s", log);
    cr_assert_null(strstr(log, "COOKIE-SECRET"), "%s", log);
    cr_assert_null(strstr(log, "BODY-SECRET"), "%s", log);
    cr_assert_null(strstr(log, "QUERY-SECRET"), "%s", log);
    cr_assert_null(strstr(log, "Bearer"), "%s", log);
    free(log);
    assert_exit_0();
}

Test(logs_json, control_characters_in_a_path_cannot_forge_lines)
{
    char id[80];
    char *log;
    char *line;

    /* %0A decodes to a newline in the path. */
    request("GET", "/x%0A{\"msg\":\"forged\"}", NULL, NULL, id, sizeof(id));
    json_decref(json_line("request", id));
    log = log_copy();
    if (strrchr(log, '\n') != NULL)
        strrchr(log, '\n')[1] = '\0';
    for (line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        json_t *v = json_loads(line, 0, NULL);

        cr_assert_not_null(v, "not JSON: %s", line);
        cr_assert_str_neq(json_string_value(json_object_get(v, "msg")),
                          "forged");
        json_decref(v);
    }
    free(log);
    assert_exit_0();
}

Test(logs_text, request_lines_read_as_key_value_pairs)
{
    static const char *const headers[] = { "X-Request-Id: text-1", NULL };
    char id[80];

    request("GET", "/state", headers, NULL, id, sizeof(id));
    cr_assert(tsrv_wait_log(&srv, "netpolq: request id=text-1 method=GET "
                                  "path=/state status=200 duration_ms="),
              "no text request line");
    cr_assert(tsrv_log_contains(&srv, "remote=127.0.0.1"));
    cr_assert(tsrv_log_contains(&srv, "netpolq: starting netpolq "));
    assert_exit_0();
}

/* Sends GET /healthz with X-Request-Id first_id, then the raw request
 * second, on one connection, and returns the second answer's status.
 * libmicrohttpd is done with a request, its log line included, before it
 * reads the next one on the same connection: once the second request's
 * line is in the log, the first one's is too if it was logged at all. */
static long
two_on_one_connection(const char *first_id, const char *second)
{
    struct thttp_resp r;
    char first[256];
    long status;
    int fd;

    snprintf(first, sizeof(first),
             "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "X-Request-Id: %s\r\n\r\n",
             first_id);
    fd = thttp_connect(srv.port);
    cr_assert(fd >= 0);
    cr_assert_eq(thttp_send(fd, first, strlen(first)), 0);
    cr_assert_eq(thttp_read_response(fd, tsrv_timeout_ms(), &r), 0);
    cr_assert_eq(r.status, 200);
    thttp_resp_fini(&r);
    cr_assert_eq(thttp_send(fd, second, strlen(second)), 0);
    cr_assert_eq(thttp_read_response(fd, tsrv_timeout_ms(), &r), 0);
    status = r.status;
    thttp_resp_fini(&r);
    close(fd);
    return status;
}

Test(logs_text, a_request_is_logged_before_the_next_on_its_connection)
{
    static const char second[] = "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "X-Request-Id: barrier-1\r\n\r\n";
    char *log;

    cr_assert_eq(two_on_one_connection("first-1", second), 404);
    cr_assert(tsrv_wait_log(&srv, "id=barrier-1 "));
    log = log_copy();
    cr_assert_not_null(strstr(log, "id=first-1 "), "%s", log);
    cr_assert(strstr(log, "id=first-1 ") < strstr(log, "id=barrier-1 "));
    free(log);
    assert_exit_0();
}

Test(logs_warn, level_warn_keeps_warnings_and_drops_request_lines)
{
    /* Saving the state fails once its directory is gone: 500, a warning. */
    static const char body[] = "apiVersion: v1\nkind: Namespace\n"
                               "metadata: {name: a}\n";
    char second[512];
    char *log;

    snprintf(second, sizeof(second),
             "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "X-Request-Id: barrier-1\r\nContent-Type: application/yaml\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    cr_assert_eq(rmdir(state_dir), 0);
    cr_assert_eq(two_on_one_connection("first-1", second), 500);
    cr_assert(tsrv_wait_log(&srv, "id=barrier-1 "), "no line for the 500");
    log = log_copy();
    cr_assert_null(strstr(log, "first-1"), "%s", log);
    cr_assert_null(strstr(log, "starting netpolq"), "%s", log);
    cr_assert_not_null(strstr(log, "listening on"), "%s", log);
    cr_assert_not_null(strstr(log, "cannot save the state"), "%s", log);
    free(log);
    assert_exit_0();
}

Test(logs_cli, bad_format_or_level_is_a_usage_error)
{
    static const char *const fmt[] = { "--log-format", "xml", NULL };
    static const char *const lvl[] = { "--log-level", "loud", NULL };
    struct tsrv_output out;

    cr_assert_eq(tsrv_run(fmt, &out), 0);
    cr_assert_eq(out.status, 2, "%s", out.err);
    cr_assert_not_null(strstr(out.err, "--log-format must be text or json"),
                       "%s", out.err);
    tsrv_output_fini(&out);
    cr_assert_eq(tsrv_run(lvl, &out), 0);
    cr_assert_eq(out.status, 2, "%s", out.err);
    cr_assert_not_null(strstr(out.err, "--log-level must be debug, info"), "%s",
                       out.err);
    tsrv_output_fini(&out);
}

Test(logs_cli, the_environment_sets_format_and_level)
{
    static const char *const args[] = { "--load", "/nonexistent/netpolq",
                                        NULL };
    struct tsrv_output out;
    json_t *v;

    setenv("NETPOLQ_LOG_FORMAT", "json", 1);
    setenv("NETPOLQ_LOG_LEVEL", "warn", 1);
    cr_assert_eq(tsrv_run(args, &out), 0);
    cr_assert_eq(out.status, 1, "%s", out.err);
    /* Only the error, as JSON: no "starting" line at level warn. */
    v = json_loads(out.err, JSON_DISABLE_EOF_CHECK, NULL);
    cr_assert_not_null(v, "not JSON: %s", out.err);
    cr_assert_str_eq(json_string_value(json_object_get(v, "level")), "error");
    cr_assert_not_null(
        strstr(json_string_value(json_object_get(v, "msg")), "/nonexistent"));
    json_decref(v);
    cr_assert_null(strstr(out.err, "starting"), "%s", out.err);
    tsrv_output_fini(&out);
}
