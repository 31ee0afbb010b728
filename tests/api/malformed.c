/*
 * Malformed requests against the real binary, one table row each:
 * truncated and mistyped manifests, nesting 10,000 deep, binary noise,
 * invalid UTF-8, NUL bytes, numbers beyond any integer, values Kubernetes
 * rejects (long label values, a /33 CIDR), a Content-Length of 2 GiB,
 * methods a path does not take and paths with "..". Each must get its 4xx
 * as a JSON {"error": {"code", "message"}}; afterwards the server must
 * still answer /healthz and the state must be the revision it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

TestSuite(malformed, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/* The state every row starts from: revision 1. */
static const char base[] =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: web, namespace: prod, labels: {app: web}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.7.0.10}\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: prod}\n"
    "spec: {podSelector: {}}\n";

enum body_kind {
    BODY_TEXT,        /* text, len bytes (strlen when len is 0) */
    BODY_DEEP_JSON,   /* [[[...]]] 10,000 deep */
    BODY_DEEP_OBJECT, /* {"a":{"a":...}} 10,000 deep */
    BODY_DEEP_FLOW,   /* YAML flow mappings {a: {a: ...}} 10,000 deep */
    BODY_DEEP_BLOCK,  /* YAML block sequences "- - - ... x" 10,000 deep */
    BODY_NOISE,       /* 8 KiB of random bytes, fixed seed */
    BODY_RAW,         /* text is a whole HTTP request, sent raw */
};

#define DEPTH 10000

struct bad_request {
    char name[40];
    char method[8];
    char path[40];
    char content_type[24];
    int kind;
    char text[420];
    size_t len;
    long status;
    char code[28];     /* "" accepts any code */
    char err_path[56]; /* "" does not check error.path */
};

/* A manifest for a field of the wrong type: a Pod or NetworkPolicy in JSON
 * whose one field is given as FIELD. */
#define POD_JSON(META, SPEC)                                                   \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{" META "},"         \
    "\"spec\":{" SPEC "}}"
#define NP_JSON(SPEC)                                                          \
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","     \
    "\"metadata\":{\"name\":\"p\",\"namespace\":\"prod\"},\"spec\":{" SPEC     \
    "}}"
#define NP_YAML(SPEC)                                                          \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                  \
    "metadata: {name: p, namespace: prod}\nspec:\n" SPEC

#define YAML "application/yaml"
#define JSON "application/json"

ParameterizedTestParameters(malformed,
                            request_gets_4xx_json_and_changes_nothing)
{
    static struct bad_request rows[] = {
        /* Syntax. */
        { .name = "truncated yaml",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web\n",
          .status = 400,
          .code = "syntax_error" },
        { .name = "truncated yaml flow",
          .method = "POST",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a\n",
          .status = 400,
          .code = "syntax_error" },
        { .name = "truncated json",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"meta",
          .status = 400,
          .code = "syntax_error" },
        { .name = "truncated query",
          .method = "POST",
          .path = "/reachability",
          .content_type = JSON,
          .text = "{\"from\":{\"namespace\":\"prod\",",
          .status = 400,
          .code = "syntax_error" },
        { .name = "json trailing garbage",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":\"a\"}} x",
          .status = 400,
          .code = "syntax_error" },
        /* Wrong types, each naming its field. */
        { .name = "metadata.name 5",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":5,\"namespace\":\"prod\"",
                           "\"containers\":[{\"name\":\"c\"}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "metadata.name" },
        { .name = "labels []",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\","
                           "\"labels\":[]",
                           "\"containers\":[{\"name\":\"c\"}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "metadata.labels" },
        { .name = "label value 5",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\","
                           "\"labels\":{\"app\":5}",
                           "\"containers\":[{\"name\":\"c\"}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "metadata.labels.app" },
        { .name = "containers \"x\"",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\"",
                           "\"containers\":\"x\""),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.containers" },
        { .name = "containerPort \"80\"",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\"",
                           "\"containers\":[{\"name\":\"c\",\"ports\":"
                           "[{\"containerPort\":\"80\"}]}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.containers[0].ports[0].containerPort" },
        { .name = "spec.ingress {}",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{},\"ingress\":{}"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.ingress" },
        { .name = "ports[0].port true",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{},\"ingress\":[{\"ports\":"
                          "[{\"port\":true}]}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.ingress[0].ports[0].port" },
        { .name = "podSelector \"x\"",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":\"x\""),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.podSelector" },
        { .name = "policyTypes \"Ingress\"",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{},\"policyTypes\":\"Ingress\""),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.policyTypes" },
        { .name = "from {}",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{},\"ingress\":[{\"from\":{}}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.ingress[0].from" },
        { .name = "except \"10.0.0.0/8\"",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{},\"egress\":[{\"to\":[{"
                          "\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
                          "\"except\":\"10.1.0.0/16\"}}]}]"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.egress[0].to[0].ipBlock.except" },
        { .name = "matchLabels []",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = NP_JSON("\"podSelector\":{\"matchLabels\":[]}"),
          .status = 400,
          .code = "invalid_type",
          .err_path = "spec.podSelector.matchLabels" },
        { .name = "kind 5",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":5,"
                  "\"metadata\":{\"name\":\"a\"}}",
          .status = 400,
          .code = "invalid_type",
          .err_path = "kind" },
        { .name = "List items {}",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":{}}",
          .status = 400,
          .code = "invalid_type",
          .err_path = "items" },
        { .name = "document is a list",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "- apiVersion: v1\n  kind: Namespace\n",
          .status = 400 },
        /* Values Kubernetes rejects. */
        { .name = "operator Equals",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML("  podSelector:\n    matchExpressions:\n"
                          "    - {key: app, operator: Equals, values: [a]}\n"),
          .status = 400,
          .err_path = "spec.podSelector.matchExpressions[0].operator" },
        { .name = "cidr 10.0.0.0/33",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML("  podSelector: {}\n  ingress:\n  - from:\n"
                          "    - ipBlock: {cidr: 10.0.0.0/33}\n"),
          .status = 400,
          .code = "invalid_cidr",
          .err_path = "spec.ingress[0].from[0].ipBlock.cidr" },
        { .name = "label value of 64 chars",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n"
                  "  namespace: prod\n  labels:\n    app: "
                  "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff"
                  "gggg\nspec: {containers: [{name: c}]}\n",
          .status = 400,
          .code = "invalid_label",
          .err_path = "metadata.labels.app" },
        { .name = "selector value of 64 chars",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML(
              "  podSelector:\n    matchLabels:\n      app: "
              "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff"
              "gggg\n"),
          .status = 400,
          .err_path = "spec.podSelector.matchLabels.app" },
        { .name = "podIP not an address",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Pod\n"
                  "metadata: {name: a, namespace: prod}\n"
                  "spec: {containers: [{name: c}]}\n"
                  "status: {podIP: 10.0.0.256}\n",
          .status = 400,
          .err_path = "status.podIP" },
        { .name = "endPort below port",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML("  podSelector: {}\n  ingress:\n"
                          "  - ports: [{port: 90, endPort: 80}]\n"),
          .status = 400,
          .err_path = "spec.ingress[0].ports[0].endPort" },
        { .name = "protocol tcp",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML("  podSelector: {}\n  ingress:\n"
                          "  - ports: [{port: 80, protocol: tcp}]\n"),
          .status = 400,
          .err_path = "spec.ingress[0].ports[0].protocol" },
        { .name = "namespace name with a slash",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a/b}\n",
          .status = 400,
          .err_path = "metadata.name" },
        /* Numbers. */
        { .name = "json 1e400",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\"",
                           "\"containers\":[{\"name\":\"c\",\"ports\":"
                           "[{\"containerPort\":1e400}]}]"),
          .status = 400 },
        { .name = "json 99999999999999999999",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = POD_JSON("\"name\":\"a\",\"namespace\":\"prod\"",
                           "\"containers\":[{\"name\":\"c\",\"ports\":"
                           "[{\"containerPort\":99999999999999999999}]}]"),
          .status = 400 },
        { .name = "yaml 99999999999999999999",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = NP_YAML("  podSelector: {}\n  ingress:\n"
                          "  - ports: [{port: 99999999999999999999}]\n"),
          .status = 400,
          .err_path = "spec.ingress[0].ports[0].port" },
        /* A plain 1e400 is not a float go-yaml can hold, so it is the
         * string "1e400": a valid port name in a policy, but no
         * containerPort. */
        { .name = "yaml 1e400",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Pod\n"
                  "metadata: {name: a, namespace: prod}\n"
                  "spec: {containers: [{name: c, ports: "
                  "[{containerPort: 1e400}]}]}\n",
          .status = 400,
          .err_path = "spec.containers[0].ports[0].containerPort" },
        { .name = "query port 1e400",
          .method = "POST",
          .path = "/reachability",
          .content_type = JSON,
          .text = "{\"from\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"to\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"port\":1e400}",
          .status = 400 },
        { .name = "query port 99999999999999999999",
          .method = "POST",
          .path = "/reachability",
          .content_type = JSON,
          .text = "{\"from\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"to\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"port\":99999999999999999999}",
          .status = 400 },
        /* Nesting. */
        { .name = "json arrays 10000 deep",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .kind = BODY_DEEP_JSON,
          .status = 400 },
        { .name = "json objects 10000 deep",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .kind = BODY_DEEP_OBJECT,
          .status = 400 },
        { .name = "yaml flow 10000 deep",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .kind = BODY_DEEP_FLOW,
          .status = 400 },
        { .name = "yaml block 10000 deep",
          .method = "POST",
          .path = "/state",
          .content_type = YAML,
          .kind = BODY_DEEP_BLOCK,
          .status = 400 },
        { .name = "query 10000 deep",
          .method = "POST",
          .path = "/reachability/batch",
          .content_type = JSON,
          .kind = BODY_DEEP_OBJECT,
          .status = 400 },
        /* Bytes. */
        { .name = "noise as yaml",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .kind = BODY_NOISE,
          .status = 400 },
        { .name = "noise as json",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .kind = BODY_NOISE,
          .status = 400 },
        { .name = "noise as a query",
          .method = "POST",
          .path = "/reachability",
          .content_type = JSON,
          .kind = BODY_NOISE,
          .status = 400 },
        { .name = "invalid utf-8 in yaml",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                  "  name: \"a\xff\xfe\"\n",
          .status = 400 },
        { .name = "overlong utf-8 in json",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":\"a\xc0\xaf\"}}",
          .status = 400 },
        { .name = "lone surrogate in json",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":\"a\\ud800\"}}",
          .status = 400 },
        { .name = "nul byte in yaml",
          .method = "PUT",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                  "  name: a\0b\n",
          .len = 53,
          .status = 400 },
        { .name = "escaped nul in json",
          .method = "PUT",
          .path = "/state",
          .content_type = JSON,
          .text = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":\"a\\u0000b\"}}",
          .status = 400 },
        { .name = "nul byte after json",
          .method = "POST",
          .path = "/reachability",
          .content_type = JSON,
          .text = "{\"from\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"to\":{\"namespace\":\"prod\",\"pod\":\"web\"},"
                  "\"port\":80}\0",
          .len = 90,
          .status = 400 },
        /* HTTP. */
        { .name = "2 GiB Content-Length",
          .kind = BODY_RAW,
          .text = "PUT /state HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/yaml\r\n"
                  "Content-Length: 2147483648\r\n\r\n"
                  "apiVersion: v1\n",
          .status = 413,
          .code = "body_too_large" },
        { .name = "TRACE /state",
          .method = "TRACE",
          .path = "/state",
          .status = 405,
          .code = "method_not_allowed" },
        { .name = "PATCH /state",
          .method = "PATCH",
          .path = "/state",
          .content_type = YAML,
          .text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
          .status = 405,
          .code = "method_not_allowed" },
        { .name = "PUT /reachability",
          .method = "PUT",
          .path = "/reachability",
          .content_type = JSON,
          .text = "{}",
          .status = 405,
          .code = "method_not_allowed" },
        { .name = "GET /reachability/batch",
          .method = "GET",
          .path = "/reachability/batch",
          .status = 405,
          .code = "method_not_allowed" },
        { .name = "DELETE /pods/prod/web",
          .method = "DELETE",
          .path = "/pods/prod/web",
          .status = 405,
          .code = "method_not_allowed" },
        { .name = "GET /../state",
          .kind = BODY_RAW,
          .text = "GET /../state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "GET /state/..",
          .kind = BODY_RAW,
          .text = "GET /state/.. HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "GET /pods/../../state",
          .kind = BODY_RAW,
          .text = "GET /pods/../../state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "GET /%2e%2e/healthz",
          .kind = BODY_RAW,
          .text = "GET /%2e%2e/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "DELETE /namespaces/prod/pods/..",
          .kind = BODY_RAW,
          .text = "DELETE /namespaces/prod/pods/.. HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "DELETE /namespaces/prod/pods/../..",
          .kind = BODY_RAW,
          .text = "DELETE /namespaces/prod/pods/../.. HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\n\r\n",
          .status = 404 },
        { .name = "DELETE /namespaces/..",
          .kind = BODY_RAW,
          .text = "DELETE /namespaces/.. HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          .status = 404 },
    };

    return cr_make_param_array(struct bad_request, rows,
                               sizeof(rows) / sizeof(rows[0]));
}

static char *
make_body(const struct bad_request *b, size_t *len)
{
    size_t i, n = 0;
    unsigned long seed = 12345;
    char *s;

    switch (b->kind) {
    case BODY_DEEP_JSON:
        s = malloc(2 * DEPTH);
        memset(s, '[', DEPTH);
        memset(s + DEPTH, ']', DEPTH);
        *len = 2 * DEPTH;
        return s;
    case BODY_DEEP_OBJECT:
    case BODY_DEEP_FLOW: {
        const char *open = b->kind == BODY_DEEP_OBJECT ? "{\"a\":" : "{a: ";
        size_t olen = strlen(open);

        s = malloc(DEPTH * (olen + 1) + 2);
        for (i = 0; i < DEPTH; i++) {
            memcpy(s + n, open, olen);
            n += olen;
        }
        s[n++] = '1';
        memset(s + n, '}', DEPTH);
        *len = n + DEPTH;
        return s;
    }
    case BODY_DEEP_BLOCK:
        s = malloc(2 * DEPTH + 2);
        for (i = 0; i < DEPTH; i++) {
            s[n++] = '-';
            s[n++] = ' ';
        }
        s[n++] = 'x';
        s[n++] = '\n';
        *len = n;
        return s;
    case BODY_NOISE:
        s = malloc(8192);
        /* A fixed LCG: the same noise on every run. */
        for (i = 0; i < 8192; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            s[i] = (char)(seed >> 56);
        }
        *len = 8192;
        return s;
    default:
        *len = b->len > 0 ? b->len : strlen(b->text);
        s = malloc(*len + 1);
        memcpy(s, b->text, *len);
        s[*len] = '\0';
        return s;
    }
}

static long
put_base(void)
{
    struct thttp_resp r;
    long rev;

    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state", YAML, base,
                               sizeof(base) - 1, &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rev = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    return rev;
}

/* GET /state, compact, for comparing before and after. */
static char *
state_text(void)
{
    struct thttp_resp r;
    char *text;

    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_assert_eq(r.status, 200, "GET /state: %ld %s", r.status, r.body);
    text = json_dumps(r.json, JSON_COMPACT | JSON_SORT_KEYS);
    thttp_resp_fini(&r);
    return text;
}

ParameterizedTest(struct bad_request *b, malformed,
                  request_gets_4xx_json_and_changes_nothing)
{
    struct thttp_resp r;
    struct thttp_resp h;
    json_t *error;
    char *before;
    char *after;
    size_t len;
    char *body;

    put_base();
    before = state_text();
    body = make_body(b, &len);
    if (b->kind == BODY_RAW)
        cr_assert_eq(thttp_raw(tsuite_srv.port, body, len, &r), 0,
                     "%s: no answer", b->name);
    else
        cr_assert_eq(
            thttp_request(tsuite_srv.base, b->method, b->path,
                          b->content_type[0] != '\0' ? b->content_type : NULL,
                          b->kind == BODY_TEXT && len == 0 ? NULL : body, len,
                          &r),
            0, "%s: no answer", b->name);
    free(body);
    cr_expect_eq(r.status, b->status, "%s: status %ld, want %ld: %.300s",
                 b->name, r.status, b->status, r.body);
    cr_expect(strncmp(r.content_type, "application/json", 16) == 0,
              "%s: Content-Type \"%s\"", b->name, r.content_type);
    cr_assert_not_null(r.json, "%s: the body is not JSON: %.300s", b->name,
                       r.body);
    cr_expect_eq(json_object_size(r.json), 1, "%s: %s", b->name, r.body);
    error = json_object_get(r.json, "error");
    cr_assert(json_is_object(error), "%s: no error object: %s", b->name,
              r.body);
    cr_expect(json_string_length(json_object_get(error, "code")) > 0,
              "%s: no error.code: %s", b->name, r.body);
    cr_expect(json_string_length(json_object_get(error, "message")) > 0,
              "%s: no error.message: %s", b->name, r.body);
    if (b->code[0] != '\0')
        cr_expect_str_eq(json_string_value(json_object_get(error, "code")),
                         b->code, "%s: %s", b->name, r.body);
    if (b->err_path[0] != '\0') {
        const char *p = json_string_value(json_object_get(error, "path"));

        cr_expect(p != NULL && strcmp(p, b->err_path) == 0,
                  "%s: error.path %s, want %s", b->name,
                  p != NULL ? p : "(none)", b->err_path);
    }
    if (b->status == 405) {
        cr_expect_neq(r.allow[0], '\0', "%s: no Allow header", b->name);
        cr_expect(strstr(r.allow, b->method) == NULL,
                  "%s: Allow \"%s\" lists the refused method", b->name,
                  r.allow);
    }
    thttp_resp_fini(&r);

    cr_assert_eq(thttp_get(tsuite_srv.base, "/healthz", &h), 0,
                 "%s: /healthz does not answer", b->name);
    cr_expect_eq(h.status, 200, "%s: /healthz %ld", b->name, h.status);
    thttp_resp_fini(&h);
    after = state_text();
    cr_expect_str_eq(after, before, "%s changed the state", b->name);
    free(before);
    free(after);
}

Test(malformed, allow_lists_the_methods_of_state)
{
    static const char *const methods[] = { "GET", "PUT", "POST", "DELETE" };
    struct thttp_resp r;
    size_t i;

    cr_assert_eq(
        thttp_request(tsuite_srv.base, "PATCH", "/state", YAML, "x", 1, &r), 0);
    cr_assert_eq(r.status, 405, "%s", r.body);
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        cr_expect(strstr(r.allow, methods[i]) != NULL, "Allow \"%s\" lacks %s",
                  r.allow, methods[i]);
    thttp_resp_fini(&r);
}

Test(malformed, many_bad_requests_in_a_row_leave_the_server_serving)
{
    struct thttp_resp r;
    unsigned long seed = 99;
    long rev = put_base();
    int i;

    /* Noise of varied lengths to every body-taking route. */
    for (i = 0; i < 200; i++) {
        static const char *const paths[] = { "/state", "/reachability",
                                             "/reachability/batch" };
        char buf[2048];
        size_t len, j;

        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        len = 16 + (size_t)(seed >> 40) % (sizeof(buf) - 16);
        for (j = 0; j < len; j++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            buf[j] = (char)(seed >> 56);
        }
        cr_assert_eq(thttp_request(tsuite_srv.base, i % 3 == 0 ? "PUT" : "POST",
                                   paths[i % 3], i % 2 == 0 ? JSON : YAML, buf,
                                   len, &r),
                     0, "request %d: no answer", i);
        cr_expect(r.status >= 400 && r.status < 500,
                  "request %d (%zu bytes to %s): status %ld", i, len,
                  paths[i % 3], r.status);
        cr_expect(json_is_object(json_object_get(r.json, "error")),
                  "request %d: %.200s", i, r.body);
        thttp_resp_fini(&r);
    }
    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")), rev);
    thttp_resp_fini(&r);
}
