/*
 * Routing through api_dispatch(): unknown paths, wrong methods with their
 * Allow header, query arguments a route does not take, media types of query
 * bodies, the service endpoints and the status of every error code.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/internal.h"
#include "tests/support/dispatch.h"

static struct api_ctx ctx;

static void
setup(void)
{
    tdisp_ctx_init(&ctx);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

static const char *
error_code(const struct tdisp_reply *r)
{
    return json_string_value(
        json_object_get(json_object_get(r->json, "error"), "code"));
}

struct route_case {
    char method[8];
    char target[96];
    char ct[48];
    char body[48];
    int status;
    char code[32];
    char allow[48];
    char path[24]; /* error.path expected, "" for none */
};

ParameterizedTestParameters(route, error_answers)
{
    static struct route_case cases[] = {
        { "GET", "/nope", "", "", 404, "not_found", "", "" },
        { "GET", "/", "", "", 404, "not_found", "", "" },
        { "GET", "/healthz/", "", "", 404, "not_found", "", "" },
        { "GET", "//healthz", "", "", 404, "not_found", "", "" },
        { "GET", "/pods/a/b/isolation/x", "", "", 404, "not_found", "", "" },
        { "GET", "/namespaces/a/pods", "", "", 404, "not_found", "", "" },
        { "PATCH", "/state", "", "", 405, "method_not_allowed",
          "GET, HEAD, PUT, POST, DELETE", "" },
        { "DELETE", "/healthz", "", "", 405, "method_not_allowed", "GET, HEAD",
          "" },
        { "GET", "/reachability/batch", "", "", 405, "method_not_allowed",
          "POST", "" },
        { "PUT", "/reachability", "", "", 405, "method_not_allowed",
          "GET, HEAD, POST", "" },
        { "POST", "/pods/x/y", "", "", 405, "method_not_allowed", "GET, HEAD",
          "" },
        { "GET", "/namespaces/x/pods/y", "", "", 405, "method_not_allowed",
          "DELETE", "" },
        { "PUT", "/namespaces/x", "", "", 405, "method_not_allowed",
          "GET, HEAD, DELETE", "" },
        { "GET", "/healthz?verbose=1", "", "", 400, "unknown_field", "",
          "verbose" },
        { "GET", "/pods?color=red", "", "", 400, "unknown_field", "", "color" },
        { "GET", "/networkpolicies?labelSelector=a", "", "", 400,
          "unknown_field", "", "labelSelector" },
        { "GET", "/reachability?from=a/b&to=c/d&port=80&x=1", "", "", 400,
          "unknown_field", "", "x" },
        { "GET", "/pods?namespace=a&namespace=b", "", "", 400, "invalid_query",
          "", "namespace" },
        { "POST", "/reachability?trace=false", "application/json", "{}", 400,
          "unknown_field", "", "trace" },
        { "POST", "/reachability", "text/plain", "{}", 415,
          "unsupported_media_type", "", "" },
        { "POST", "/reachability", "application/json; charset=latin1", "{}",
          415, "unsupported_media_type", "", "" },
        { "POST", "/reachability/batch", "application/xml", "{}", 415,
          "unsupported_media_type", "", "" },
        { "POST", "/reachability", "application/json", "{", 400, "syntax_error",
          "", "" },
        { "POST", "/reachability", "application/json", "", 400, "syntax_error",
          "", "" },
        { "POST", "/reachability", "application/json", "[]", 400,
          "invalid_type", "", "" },
        { "POST", "/reachability", "application/json", "{\"a\":1,\"a\":2}", 400,
          "syntax_error", "", "" },
        { "POST", "/reachability/batch", "application/json", "{}", 400,
          "missing_field", "", "queries" },
        { "GET", "/readyz", "", "", 503, "not_ready", "", "" },
        { "GET", "/namespaces/nope", "", "", 404, "unknown_namespace", "", "" },
        { "GET", "/pods/a/b", "", "", 404, "unknown_pod", "", "" },
        { "GET", "/pods/a/b/isolation", "", "", 404, "unknown_pod", "", "" },
        { "GET", "/networkpolicies/a/b", "", "", 404, "unknown_policy", "",
          "" },
    };

    return cr_make_param_array(struct route_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct route_case *c, route, error_answers, .init = setup,
                  .fini = teardown)
{
    struct tdisp_reply r = tdisp_target(
        &ctx, c->method, c->target, c->ct[0] != '\0' ? c->ct : NULL, c->body);
    json_t *e = json_object_get(r.json, "error");

    cr_assert_eq(r.status, c->status, "%s %s: status %d, want %d (%s)",
                 c->method, c->target, r.status, c->status, r.text);
    cr_assert_str_eq(r.content_type, "application/json");
    cr_assert(json_is_object(e), "%s %s: %s", c->method, c->target, r.text);
    cr_assert_str_eq(error_code(&r), c->code, "%s %s: %s", c->method, c->target,
                     r.text);
    cr_assert(json_string_length(json_object_get(e, "message")) > 10);
    cr_assert_str_eq(r.allow, c->allow);
    if (c->path[0] != '\0')
        cr_assert_str_eq(json_string_value(json_object_get(e, "path")), c->path,
                         "%s", r.text);
    json_decref(r.json);
}

struct ok_case {
    char method[8];
    char target[48];
    char ct[48];
    char body[48];
};

ParameterizedTestParameters(route, accepted_requests)
{
    static struct ok_case cases[] = {
        { "GET", "/healthz", "", "" },
        { "HEAD", "/healthz", "", "" },
        { "GET", "/state", "", "" },
        { "GET", "/namespaces", "", "" },
        { "GET", "/pods?namespace=x&labelSelector=a=b", "", "" },
        { "GET", "/networkpolicies?namespace=x", "", "" },
        { "POST", "/reachability/batch", "application/json",
          "{\"queries\":[]}" },
        { "POST", "/reachability/batch", "application/json; charset=utf-8",
          "{\"queries\":[]}" },
        { "POST", "/reachability/batch", "Application/JSON;charset=\"UTF-8\"",
          "{\"queries\":[]}" },
        { "POST", "/reachability/batch", "", "{\"queries\":[]}" },
    };

    return cr_make_param_array(struct ok_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ok_case *c, route, accepted_requests, .init = setup,
                  .fini = teardown)
{
    struct tdisp_reply r = tdisp_target(
        &ctx, c->method, c->target, c->ct[0] != '\0' ? c->ct : NULL, c->body);

    cr_assert_eq(r.status, 200, "%s %s: %d %s", c->method, c->target, r.status,
                 r.text);
    cr_assert_str_eq(r.content_type, "application/json");
    cr_assert(json_is_object(r.json));
    cr_assert_str_eq(r.allow, "");
    json_decref(r.json);
}

Test(route, healthz_answers_ok, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = tdisp_target(&ctx, "GET", "/healthz", NULL, NULL);

    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")),
                     "ok");
    json_decref(r.json);
}

Test(route, readyz_answers_revision_once_ready, .init = setup, .fini = teardown)
{
    struct tdisp_reply r;

    atomic_store(&ctx.ready, true);
    r = tdisp_target(&ctx, "GET", "/readyz", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")),
                     "ready");
    cr_assert(json_is_integer(json_object_get(r.json, "revision")));
    json_decref(r.json);
}

Test(route, openapi_is_served_as_yaml, .init = setup, .fini = teardown)
{
    struct tdisp_reply r =
        tdisp_target(&ctx, "GET", "/openapi.yaml", NULL, NULL);

    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.content_type, "application/yaml");
    cr_assert(strncmp(r.text, "openapi: 3.1", 12) == 0, "%s", r.text);
    cr_assert_null(r.json);
}

Test(route, syntax_error_names_line_and_column, .init = setup, .fini = teardown)
{
    struct tdisp_reply r = tdisp_target(&ctx, "POST", "/reachability",
                                        "application/json", "{\n  \"from\": }");
    json_t *e = json_object_get(r.json, "error");

    cr_assert_eq(r.status, 400);
    cr_assert_eq(json_integer_value(json_object_get(e, "line")), 2, "%s",
                 r.text);
    cr_assert(json_integer_value(json_object_get(e, "column")) > 0);
    json_decref(r.json);
}

Test(route, method_not_allowed_lists_the_methods_in_the_message, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r =
        tdisp_target(&ctx, "DELETE", "/reachability", NULL, NULL);
    const char *msg = json_string_value(
        json_object_get(json_object_get(r.json, "error"), "message"));

    cr_assert_eq(r.status, 405);
    cr_assert_not_null(strstr(msg, "GET, HEAD, POST"), "%s", msg);
    json_decref(r.json);
}

struct status_case {
    char code[32];
    int status;
};

ParameterizedTestParameters(route, error_code_statuses)
{
    static struct status_case cases[] = {
        { "out_of_memory", 500 },
        { "internal_error", 500 },
        { "syntax_error", 400 },
        { "invalid_type", 400 },
        { "missing_field", 400 },
        { "invalid_port", 400 },
        { "invalid_selector", 400 },
        { "unknown_field", 400 },
        { "unknown_port_name", 400 },
        { "limit_exceeded", 400 },
        { "unknown_pod", 404 },
        { "unknown_namespace", 404 },
        { "unknown_policy", 404 },
        { "not_found", 404 },
        { "method_not_allowed", 405 },
        { "body_too_large", 413 },
        { "unsupported_media_type", 415 },
        { "not_ready", 503 },
    };

    return cr_make_param_array(struct status_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct status_case *c, route, error_code_statuses)
{
    int code;

    for (code = 0; code < NP_E__MAX; code++)
        if (strcmp(np_errc_name((enum np_errc)code), c->code) == 0)
            break;
    cr_assert_lt(code, NP_E__MAX, "no code %s", c->code);
    cr_assert_eq(api_errc_status((enum np_errc)code), c->status, "%s", c->code);
}

Test(route, only_our_faults_are_5xx)
{
    int code;

    for (code = 1; code < NP_E__MAX; code++) {
        int st = api_errc_status((enum np_errc)code);
        bool ours = code == NP_E_NOMEM || code == NP_E_INTERNAL ||
                    code == NP_E_NOT_READY;

        cr_assert_eq(st >= 500, ours, "%s -> %d",
                     np_errc_name((enum np_errc)code), st);
    }
}

Test(route, error_body_leaves_out_unknown_positions)
{
    struct api_response resp;
    struct np_error err;
    json_t *e;
    json_t *doc;

    memset(&resp, 0, sizeof(resp));
    np_error_init(&err);
    np_error_set(&err, NP_E_INVALID_CIDR, "\"x\" is not a CIDR");
    np_error_path(&err, "spec.ingress[0].from[1].ipBlock.cidr");
    err.document = 0;
    err.line = 12;
    api_reply_error(&resp, &err);
    cr_assert_eq(resp.status, 400);
    doc = json_loads(resp.body, 0, NULL);
    e = json_object_get(doc, "error");
    cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
                     "invalid_cidr");
    cr_assert_eq(json_integer_value(json_object_get(e, "document")), 0);
    cr_assert_eq(json_integer_value(json_object_get(e, "line")), 12);
    cr_assert_null(json_object_get(e, "column"));
    cr_assert_str_eq(json_string_value(json_object_get(e, "path")),
                     "spec.ingress[0].from[1].ipBlock.cidr");
    json_decref(doc);
    api_response_fini(&resp);
}

Test(route, every_unknown_query_argument_is_named, .init = setup,
     .fini = teardown)
{
    struct tdisp_reply r = tdisp_target(
        &ctx, "GET", "/pods?colour=red&namespace=x&size=2", NULL, NULL);
    json_t *e = json_object_get(r.json, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));

    cr_assert_eq(r.status, 400, "%s", r.text);
    cr_assert_not_null(strstr(msg, "\"colour\", \"size\""), "%s", msg);
    cr_assert_not_null(strstr(msg, "namespace, labelSelector"), "%s", msg);
    cr_assert_str_eq(json_string_value(json_object_get(e, "path")), "colour");
    json_decref(r.json);
}
