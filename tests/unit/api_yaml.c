/*
 * api/yaml.c: YAML and JSON bodies to documents (typing, anchors, limits,
 * errors with positions) and field paths back to lines and columns.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>

#include "api/internal.h"
#include "core/error.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct api_limits test_limits = {
    .max_depth = 64,
    .max_string = 1024 * 1024,
    .max_documents = 1000,
};

/* Parses body, which must succeed; the caller calls api_docs_fini(). */
static void
parse_ok_lim(const char *body, size_t len, enum api_format fmt,
             const struct api_limits *lim, struct api_docs *docs)
{
    struct np_error err;
    int rc;

    np_error_init(&err);
    rc = api_docs_parse(body, len, fmt, lim, docs, &err);
    cr_assert_eq(rc, 0, "parse failed: %s: %s (document %d, %d:%d)",
                 np_errc_name(err.code), err.message, err.document, err.line,
                 err.column);
    cr_assert_eq(err.code, NP_E_OK);
}

static void
parse_ok(const char *body, enum api_format fmt, struct api_docs *docs)
{
    parse_ok_lim(body, strlen(body), fmt, &test_limits, docs);
}

/* Parses body, which must fail with code; err holds the error. */
static void
parse_fail_lim(const char *body, size_t len, enum api_format fmt,
               const struct api_limits *lim, enum np_errc code,
               struct np_error *err)
{
    struct api_docs docs;
    int rc;

    np_error_init(err);
    rc = api_docs_parse(body, len, fmt, lim, &docs, err);
    cr_assert_eq(rc, -1, "parse of \"%.60s\" succeeded", body);
    cr_assert_eq(err->code, code, "want %s, got %s: %s", np_errc_name(code),
                 np_errc_name(err->code), err->message);
    cr_assert_eq(docs.n, 0);
    cr_assert_null(docs.docs);
}

static void
parse_fail(const char *body, enum api_format fmt, enum np_errc code,
           struct np_error *err)
{
    parse_fail_lim(body, strlen(body), fmt, &test_limits, code, err);
}

/* Asserts that v equals the JSON text want (integers and reals differ). */
static void
assert_json(const json_t *v, const char *want)
{
    json_error_t jerr;
    json_t *w = json_loads(want, JSON_DECODE_ANY, &jerr);
    char *got;

    cr_assert_not_null(w, "bad expectation %s: %s", want, jerr.text);
    got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    cr_assert(json_equal(v, w), "got %s, want %s", got, want);
    free(got);
    json_decref(w);
}

/* Parses a one-document YAML body and compares it with want. */
static void
assert_yaml(const char *body, const char *want)
{
    struct api_docs docs;

    parse_ok(body, API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 1, "%zu documents in \"%s\"", docs.n, body);
    assert_json(docs.docs[0], want);
    api_docs_fini(&docs);
}

/* Returns the value of "v" in the one document of body (a new reference). */
static json_t *
yaml_value(const char *body)
{
    struct api_docs docs;
    json_t *v;

    parse_ok(body, API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 1);
    v = json_object_get(docs.docs[0], "v");
    cr_assert_not_null(v, "no \"v\" in \"%s\"", body);
    json_incref(v);
    api_docs_fini(&docs);
    return v;
}

/* --- streams --- */

Test(yaml_docs, documents_keep_their_stream_index_and_first_line)
{
    struct api_docs docs;

    parse_ok("a: 1\n---\nb: 2\n---\n- c\n", API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 3);
    assert_json(docs.docs[0], "{\"a\": 1}");
    assert_json(docs.docs[1], "{\"b\": 2}");
    assert_json(docs.docs[2], "[\"c\"]");
    cr_assert_eq(docs.index[0], 0);
    cr_assert_eq(docs.index[1], 1);
    cr_assert_eq(docs.index[2], 2);
    cr_assert_eq(docs.line[0], 1);
    cr_assert_eq(docs.line[1], 2);
    cr_assert_eq(docs.line[2], 4);
    api_docs_fini(&docs);
}

Test(yaml_docs, empty_documents_are_dropped_but_counted)
{
    struct api_docs docs;

    parse_ok("# leading comment\n---\n---\n# only a comment\n---\na: 1\n"
             "...\n---\n~\n---\nnull\n---\nb: 2\n---\n",
             API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 2);
    assert_json(docs.docs[0], "{\"a\": 1}");
    assert_json(docs.docs[1], "{\"b\": 2}");
    cr_assert_eq(docs.index[0], 2);
    cr_assert_eq(docs.index[1], 5);
    cr_assert_eq(docs.line[0], 5);
    cr_assert_eq(docs.line[1], 12);
    api_docs_fini(&docs);
}

Test(yaml_docs, empty_and_comment_only_bodies_hold_no_document)
{
    struct api_docs docs;

    parse_ok("", API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 0);
    api_docs_fini(&docs);
    parse_ok("# nothing\n\n   \n", API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 0);
    api_docs_fini(&docs);
    parse_ok_lim(NULL, 0, API_FORMAT_YAML, &test_limits, &docs);
    cr_assert_eq(docs.n, 0);
    api_docs_fini(&docs);
}

Test(yaml_docs, directives_and_document_end_markers_are_accepted)
{
    struct api_docs docs;

    parse_ok("%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n---\nb: 2\n...\n",
             API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 2);
    assert_json(docs.docs[1], "{\"b\": 2}");
    api_docs_fini(&docs);
}

Test(yaml_docs, block_and_flow_collections_nest)
{
    assert_yaml(
        "kind: List\n"
        "items:\n"
        "- metadata: {name: a, labels: {app: web}}\n"
        "  spec:\n"
        "    ports:\n"
        "    - port: 80 # http\n"
        "      protocol: TCP\n"
        "    - {port: 443, protocol: TCP}\n"
        "- []\n"
        "- {}\n"
        "- [1, [2, [3]], {x: [y, z]}]\n",
        "{\"kind\": \"List\", \"items\": ["
        "{\"metadata\": {\"name\": \"a\", \"labels\": {\"app\": "
        "\"web\"}}, \"spec\": {\"ports\": [{\"port\": 80, "
        "\"protocol\": \"TCP\"}, {\"port\": 443, \"protocol\": "
        "\"TCP\"}]}}, [], {}, [1, [2, [3]], {\"x\": [\"y\", \"z\"]}]]}");
}

Test(yaml_docs, top_level_sequences_and_scalars_are_documents)
{
    struct api_docs docs;

    parse_ok("- a\n- b\n---\nhello\n---\n42\n", API_FORMAT_YAML, &docs);
    cr_assert_eq(docs.n, 3);
    assert_json(docs.docs[0], "[\"a\", \"b\"]");
    assert_json(docs.docs[1], "\"hello\"");
    assert_json(docs.docs[2], "42");
    api_docs_fini(&docs);
}

Test(yaml_docs, keys_keep_their_text_whatever_their_type)
{
    assert_yaml("1: a\ntrue: b\n~: c\n'yes': d\n1.5: e\n",
                "{\"1\": \"a\", \"true\": \"b\", \"~\": \"c\", \"yes\": "
                "\"d\", \"1.5\": \"e\"}");
}

Test(yaml_docs, fini_is_safe_on_empty_and_finished_docs)
{
    struct api_docs docs;

    memset(&docs, 0, sizeof(docs));
    api_docs_fini(&docs);
    parse_ok("a: 1\n", API_FORMAT_YAML, &docs);
    api_docs_fini(&docs);
    api_docs_fini(&docs);
    api_docs_fini(NULL);
    cr_assert_eq(docs.n, 0);
}

/* --- scalar typing (go-yaml v2) --- */

struct scalar_case {
    char yaml[48];
    char json[48];
};

static struct scalar_case plain_cases[] = {
    { .yaml = "", .json = "null" },
    { .yaml = "~", .json = "null" },
    { .yaml = "null", .json = "null" },
    { .yaml = "Null", .json = "null" },
    { .yaml = "NULL", .json = "null" },
    { .yaml = "nULL", .json = "\"nULL\"" },
    { .yaml = "y", .json = "\"y\"" },
    { .yaml = "Y", .json = "\"Y\"" },
    { .yaml = "yes", .json = "\"yes\"" },
    { .yaml = "Yes", .json = "\"Yes\"" },
    { .yaml = "YES", .json = "\"YES\"" },
    { .yaml = "on", .json = "\"on\"" },
    { .yaml = "On", .json = "\"On\"" },
    { .yaml = "ON", .json = "\"ON\"" },
    { .yaml = "true", .json = "true" },
    { .yaml = "True", .json = "true" },
    { .yaml = "TRUE", .json = "true" },
    { .yaml = "n", .json = "\"n\"" },
    { .yaml = "N", .json = "\"N\"" },
    { .yaml = "no", .json = "\"no\"" },
    { .yaml = "No", .json = "\"No\"" },
    { .yaml = "NO", .json = "\"NO\"" },
    { .yaml = "off", .json = "\"off\"" },
    { .yaml = "Off", .json = "\"Off\"" },
    { .yaml = "OFF", .json = "\"OFF\"" },
    { .yaml = "false", .json = "false" },
    { .yaml = "False", .json = "false" },
    { .yaml = "FALSE", .json = "false" },
    { .yaml = "tRUE", .json = "\"tRUE\"" },
    { .yaml = "yEs", .json = "\"yEs\"" },
    { .yaml = "nginx", .json = "\"nginx\"" },
    { .yaml = "0", .json = "0" },
    { .yaml = "42", .json = "42" },
    { .yaml = "-17", .json = "-17" },
    { .yaml = "+5", .json = "5" },
    { .yaml = "1_000", .json = "1000" },
    { .yaml = "0x1F", .json = "31" },
    { .yaml = "0X1f", .json = "31" },
    { .yaml = "-0x10", .json = "-16" },
    { .yaml = "0o17", .json = "15" },
    { .yaml = "017", .json = "15" },
    { .yaml = "0b101", .json = "5" },
    { .yaml = "08", .json = "8.0" },
    { .yaml = "0o8", .json = "\"0o8\"" },
    { .yaml = "0x", .json = "\"0x\"" },
    { .yaml = "9223372036854775807", .json = "9223372036854775807" },
    { .yaml = "-9223372036854775808", .json = "-9223372036854775808" },
    { .yaml = "9223372036854775808", .json = "9223372036854775808.0" },
    { .yaml = "18446744073709551615", .json = "18446744073709551615.0" },
    { .yaml = "99999999999999999999999", .json = "1e23" },
    { .yaml = "0xFFFFFFFFFFFFFFFFFF", .json = "\"0xFFFFFFFFFFFFFFFFFF\"" },
    { .yaml = "1.5", .json = "1.5" },
    { .yaml = "-2.25", .json = "-2.25" },
    { .yaml = "1.", .json = "1.0" },
    { .yaml = "1e3", .json = "1000.0" },
    { .yaml = "1.5E-3", .json = "0.0015" },
    { .yaml = ".5", .json = "0.5" },
    { .yaml = "-.5", .json = "-0.5" },
    { .yaml = "+.5", .json = "0.5" },
    { .yaml = "1_0.5", .json = "10.5" },
    { .yaml = ".5_0", .json = "\".5_0\"" },
    { .yaml = "1e999", .json = "\"1e999\"" },
    { .yaml = "1.2.3", .json = "\"1.2.3\"" },
    { .yaml = "10.0.0.0/8", .json = "\"10.0.0.0/8\"" },
    { .yaml = "2001-12-14", .json = "\"2001-12-14\"" },
    { .yaml = "1:20", .json = "\"1:20\"" },
    { .yaml = "-x", .json = "\"-x\"" },
    { .yaml = "~x", .json = "\"~x\"" },
    { .yaml = "<<", .json = "\"<<\"" },
    { .yaml = "a b  c", .json = "\"a b  c\"" },
    { .yaml = "caf\xc3\xa9", .json = "\"caf\xc3\xa9\"" },
};

ParameterizedTestParameters(yaml_scalars, plain_scalars_are_typed_like_go_yaml)
{
    return cr_make_param_array(struct scalar_case, plain_cases,
                               NELEMS(plain_cases));
}

ParameterizedTest(struct scalar_case *c, yaml_scalars,
                  plain_scalars_are_typed_like_go_yaml)
{
    char body[64];
    json_t *v;

    snprintf(body, sizeof(body), "v: %s\n", c->yaml);
    v = yaml_value(body);
    assert_json(v, c->json);
    json_decref(v);
}

ParameterizedTestParameters(yaml_scalars,
                            flow_scalars_are_typed_like_block_ones)
{
    return cr_make_param_array(struct scalar_case, plain_cases,
                               NELEMS(plain_cases));
}

/* The same words in a flow sequence, to check the flow style types them. */
ParameterizedTest(struct scalar_case *c, yaml_scalars,
                  flow_scalars_are_typed_like_block_ones)
{
    char body[64];
    json_t *v;

    if (c->yaml[0] == '\0' || strcmp(c->yaml, "<<") == 0)
        cr_skip_test("not a flow item");
    snprintf(body, sizeof(body), "{v: [%s]}", c->yaml);
    v = yaml_value(body);
    cr_assert_eq(json_array_size(v), 1);
    assert_json(json_array_get(v, 0), c->json);
    json_decref(v);
}

struct body_case {
    char yaml[64];
    char json[48];
};

static struct body_case quoted_cases[] = {
    { .yaml = "v: 'yes'", .json = "\"yes\"" },
    { .yaml = "v: \"true\"", .json = "\"true\"" },
    { .yaml = "v: '1'", .json = "\"1\"" },
    { .yaml = "v: \"0x10\"", .json = "\"0x10\"" },
    { .yaml = "v: '~'", .json = "\"~\"" },
    { .yaml = "v: \"null\"", .json = "\"null\"" },
    { .yaml = "v: ''", .json = "\"\"" },
    { .yaml = "v: \"\"", .json = "\"\"" },
    { .yaml = "v: '.inf'", .json = "\".inf\"" },
    { .yaml = "v: 'it''s'", .json = "\"it's\"" },
    { .yaml = "v: \"a\\tb\\n\"", .json = "\"a\\tb\\n\"" },
    { .yaml = "v: \"\\u00e9\\x41\"",
      .json = "\"\xc3\xa9"
              "A\"" },
    { .yaml = "v: |\n  yes\n", .json = "\"yes\\n\"" },
    { .yaml = "v: |-\n  42\n", .json = "\"42\"" },
    { .yaml = "v: >\n  a\n  b\n", .json = "\"a b\\n\"" },
    { .yaml = "v: >-\n  1.5\n", .json = "\"1.5\"" },
};

ParameterizedTestParameters(yaml_scalars, quoted_and_block_scalars_are_strings)
{
    return cr_make_param_array(struct body_case, quoted_cases,
                               NELEMS(quoted_cases));
}

ParameterizedTest(struct body_case *c, yaml_scalars,
                  quoted_and_block_scalars_are_strings)
{
    json_t *v = yaml_value(c->yaml);

    assert_json(v, c->json);
    json_decref(v);
}

static struct body_case tag_cases[] = {
    { .yaml = "v: !!str 123", .json = "\"123\"" },
    { .yaml = "v: !!str yes", .json = "\"yes\"" },
    { .yaml = "v: !!str ~", .json = "\"~\"" },
    { .yaml = "v: !!str", .json = "\"\"" },
    { .yaml = "v: !!int \"12\"", .json = "12" },
    { .yaml = "v: !!int 0x10", .json = "16" },
    { .yaml = "v: !!float 1", .json = "1.0" },
    { .yaml = "v: !!float '2.5'", .json = "2.5" },
    { .yaml = "v: !!bool \"true\"", .json = "true" },
    { .yaml = "v: !!bool False", .json = "false" },
    { .yaml = "v: !!null ''", .json = "null" },
    { .yaml = "v: !!null ~", .json = "null" },
    { .yaml = "v: ! 12", .json = "\"12\"" },
    { .yaml = "v: !custom 12", .json = "12" },
    { .yaml = "v: !custom '12'", .json = "\"12\"" },
    { .yaml = "v: !!binary aGk=", .json = "\"aGk=\"" },
    { .yaml = "v: !!timestamp 2001-12-14", .json = "\"2001-12-14\"" },
    { .yaml = "v: !<tag:yaml.org,2002:int> '7'", .json = "7" },
    { .yaml = "v: !!map {a: 1}", .json = "{\"a\": 1}" },
    { .yaml = "v: !!seq [1]", .json = "[1]" },
};

ParameterizedTestParameters(yaml_scalars, explicit_tags_are_honoured)
{
    return cr_make_param_array(struct body_case, tag_cases, NELEMS(tag_cases));
}

ParameterizedTest(struct body_case *c, yaml_scalars, explicit_tags_are_honoured)
{
    json_t *v = yaml_value(c->yaml);

    assert_json(v, c->json);
    json_decref(v);
}

struct error_case {
    char yaml[64];
    char message[64]; /* a part of the message */
};

static struct error_case tag_mismatch_cases[] = {
    { .yaml = "v: !!int abc", .message = "cannot decode \"abc\" as !!int" },
    { .yaml = "v: !!int 1.5", .message = "as !!int" },
    { .yaml = "v: !!bool 1", .message = "as !!bool" },
    { .yaml = "v: !!null x", .message = "as !!null" },
    { .yaml = "v: !!float yes", .message = "as !!float" },
    { .yaml = "v: !!float 1e999", .message = "as !!float" },
};

ParameterizedTestParameters(yaml_scalars, tags_that_do_not_fit_are_errors)
{
    return cr_make_param_array(struct error_case, tag_mismatch_cases,
                               NELEMS(tag_mismatch_cases));
}

ParameterizedTest(struct error_case *c, yaml_scalars,
                  tags_that_do_not_fit_are_errors)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, c->message), "message: %s",
                       err.message);
    cr_assert_eq(err.document, 0);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.column, 4);
}

static struct error_case nonfinite_cases[] = {
    { .yaml = "v: .inf", .message = ".inf is not a finite number" },
    { .yaml = "v: .Inf", .message = ".Inf is not a finite number" },
    { .yaml = "v: +.INF", .message = "+.INF is not" },
    { .yaml = "v: -.inf", .message = "-.inf is not" },
    { .yaml = "v: .nan", .message = ".nan is not" },
    { .yaml = "v: .NaN", .message = ".NaN is not" },
    { .yaml = "v: !!float .inf", .message = ".inf is not" },
};

ParameterizedTestParameters(yaml_scalars, infinity_and_nan_are_rejected)
{
    return cr_make_param_array(struct error_case, nonfinite_cases,
                               NELEMS(nonfinite_cases));
}

ParameterizedTest(struct error_case *c, yaml_scalars,
                  infinity_and_nan_are_rejected)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, c->message), "message: %s",
                       err.message);
    cr_assert_not_null(strstr(err.message, "quote it"));
    cr_assert_eq(err.line, 1);
}

Test(yaml_scalars, nul_escapes_keep_their_length)
{
    json_t *v = yaml_value("v: \"a\\0b\"\n");

    cr_assert(json_is_string(v));
    cr_assert_eq(json_string_length(v), 3);
    cr_assert_eq(memcmp(json_string_value(v), "a\0b", 3), 0);
    json_decref(v);
}

/* --- anchors, aliases and merge keys --- */

Test(yaml_anchors, aliases_repeat_scalars_mappings_and_sequences)
{
    assert_yaml("s: &s hello\n"
                "m: &m {a: 1, b: [x, z]}\n"
                "q: &q [1, 2]\n"
                "copies: [*s, *m, *q]\n",
                "{\"s\": \"hello\", \"m\": {\"a\": 1, \"b\": [\"x\", \"z\"]}, "
                "\"q\": [1, 2], \"copies\": [\"hello\", {\"a\": 1, \"b\": "
                "[\"x\", \"z\"]}, [1, 2]]}");
}

Test(yaml_anchors, a_redefined_anchor_means_its_latest_node)
{
    assert_yaml("a: &x 1\nb: *x\nc: &x 2\nd: *x\n",
                "{\"a\": 1, \"b\": 1, \"c\": 2, \"d\": 2}");
}

Test(yaml_anchors, an_anchored_key_can_be_an_alias_key)
{
    assert_yaml("a:\n  &k name: web\nb:\n  *k : api\n",
                "{\"a\": {\"name\": \"web\"}, \"b\": {\"name\": \"api\"}}");
}

Test(yaml_anchors, anchors_do_not_cross_documents)
{
    struct np_error err;

    parse_fail("a: &x 1\n---\nb: *x\n", API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, "unknown anchor \"x\""), "%s",
                       err.message);
    cr_assert_eq(err.document, 1);
    cr_assert_eq(err.line, 3);
    cr_assert_eq(err.column, 4);
}

Test(yaml_anchors, an_alias_inside_its_own_anchor_is_an_error)
{
    struct np_error err;

    parse_fail("a: &x [1, *x]\n", API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, "*x is used inside"), "%s",
                       err.message);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.column, 11);
}

Test(yaml_anchors, an_alias_to_a_collection_cannot_be_a_key)
{
    struct np_error err;

    parse_fail("a: &m {x: 1}\nb: {*m : 2}\n", API_FORMAT_YAML, NP_E_SYNTAX,
               &err);
    cr_assert_not_null(strstr(err.message, "mapping keys must be strings"),
                       "%s", err.message);
    cr_assert_eq(err.line, 2);
}

Test(yaml_anchors, billion_laughs_is_rejected, .timeout = 10)
{
    struct np_error err;

    parse_fail("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
               "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
               "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
               API_FORMAT_YAML, NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_not_null(strstr(err.message, "alias"), "%s", err.message);
    cr_assert_eq(err.document, 0);
    cr_assert_gt(err.line, 4);
}

Test(yaml_anchors, billion_laughs_is_rejected_without_a_depth_limit,
     .timeout = 10)
{
    static const struct api_limits unlimited;
    char body[4096];
    size_t n = 0;
    int level;
    int i;

    /* 30 levels of doubling: 2^30 nodes if expanded. */
    n += (size_t)snprintf(body + n, sizeof(body) - n, "l0: &l0 [x, x]\n");
    for (level = 1; level < 30; level++) {
        n += (size_t)snprintf(body + n, sizeof(body) - n, "l%d: &l%d [", level,
                              level);
        for (i = 0; i < 2; i++)
            n += (size_t)snprintf(body + n, sizeof(body) - n, "%s*l%d",
                                  i ? ", " : "", level - 1);
        n += (size_t)snprintf(body + n, sizeof(body) - n, "]\n");
    }
    cr_assert_lt(n, sizeof(body));
    struct np_error err;
    parse_fail_lim(body, n, API_FORMAT_YAML, &unlimited, NP_E_LIMIT_EXCEEDED,
                   &err);
}

Test(yaml_anchors, modest_alias_use_is_accepted)
{
    struct api_docs docs;
    char body[8192];
    size_t n = 0;
    int i;

    n += (size_t)snprintf(body + n, sizeof(body) - n,
                          "base: &b {app: web, tier: fe, env: prod}\nuses:\n");
    for (i = 0; i < 200; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "- *b\n");
    parse_ok_lim(body, n, API_FORMAT_YAML, &test_limits, &docs);
    cr_assert_eq(json_array_size(json_object_get(docs.docs[0], "uses")), 200);
    api_docs_fini(&docs);
}

Test(yaml_anchors, merge_keys_add_missing_keys)
{
    assert_yaml("base: &b {a: 1, b: 2}\n"
                "m:\n"
                "  <<: *b\n"
                "  b: 3\n"
                "n:\n"
                "  b: 4\n"
                "  <<: *b\n",
                "{\"base\": {\"a\": 1, \"b\": 2}, \"m\": {\"a\": 1, \"b\": 3}, "
                "\"n\": {\"a\": 1, \"b\": 4}}");
}

Test(yaml_anchors, merge_key_lists_prefer_the_first_mapping)
{
    assert_yaml("x: &x {a: 1, b: 1}\n"
                "y: &y {b: 2, c: 2}\n"
                "m: {<<: [*x, *y, {d: 4}], c: 3}\n",
                "{\"x\": {\"a\": 1, \"b\": 1}, \"y\": {\"b\": 2, \"c\": 2}, "
                "\"m\": {\"a\": 1, \"b\": 1, \"c\": 3, \"d\": 4}}");
}

Test(yaml_anchors, a_quoted_merge_key_is_an_ordinary_key)
{
    assert_yaml("m: {'<<': 1, \"<<x\": 2}\n",
                "{\"m\": {\"<<\": 1, \"<<x\": 2}}");
}

static struct error_case merge_error_cases[] = {
    { .yaml = "m: {<<: 1}", .message = "merge key (<<)" },
    { .yaml = "m: {<<: [a]}", .message = "merge key (<<)" },
    { .yaml = "x: &x {a: 1}\nm: {<<: [*x, 2]}", .message = "merge key (<<)" },
};

ParameterizedTestParameters(yaml_anchors,
                            merge_values_that_are_not_mappings_are_errors)
{
    return cr_make_param_array(struct error_case, merge_error_cases,
                               NELEMS(merge_error_cases));
}

ParameterizedTest(struct error_case *c, yaml_anchors,
                  merge_values_that_are_not_mappings_are_errors)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, c->message), "%s", err.message);
    cr_assert_gt(err.line, 0);
}

/* --- keys --- */

struct dup_case {
    char yaml[64];
    char key[16];
    int line;
    int column;
};

static struct dup_case dup_cases[] = {
    { .yaml = "a: 1\na: 2\n", .key = "\"a\"", .line = 2, .column = 1 },
    { .yaml = "m:\n  x: 1\n  y: 2\n  x: 3\n",
      .key = "\"x\"",
      .line = 4,
      .column = 3 },
    { .yaml = "{k: 1, k: 2}", .key = "\"k\"", .line = 1, .column = 8 },
    { .yaml = "a: 1\n'a': 2\n", .key = "\"a\"", .line = 2, .column = 1 },
    { .yaml = "&k a: 1\n*k : 2\n", .key = "\"a\"", .line = 2, .column = 1 },
    { .yaml = "- x: 1\n  x: 2\n", .key = "\"x\"", .line = 2, .column = 3 },
};

ParameterizedTestParameters(yaml_keys, duplicate_keys_are_errors)
{
    return cr_make_param_array(struct dup_case, dup_cases, NELEMS(dup_cases));
}

ParameterizedTest(struct dup_case *c, yaml_keys, duplicate_keys_are_errors)
{
    struct np_error err;
    char line[32];

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, c->key), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "already set"), "%s", err.message);
    snprintf(line, sizeof(line), "line %d", c->line);
    cr_assert_not_null(strstr(err.message, line), "%s", err.message);
    cr_assert_eq(err.line, c->line);
    cr_assert_eq(err.column, c->column);
}

Test(yaml_keys, equal_keys_in_different_mappings_are_fine)
{
    assert_yaml("a: {x: 1}\nb: {x: 2}\nc: [{x: 3}, {x: 4}]\n",
                "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}, \"c\": [{\"x\": 3}, "
                "{\"x\": 4}]}");
}

static struct error_case complex_key_cases[] = {
    { .yaml = "? [a]\n: 1\n", .message = "not sequences" },
    { .yaml = "? {a: 1}\n: 2\n", .message = "not mappings" },
    { .yaml = "{[a]: 1}", .message = "not sequences" },
    { .yaml = "m:\n  ? - x\n  : y\n", .message = "not sequences" },
};

ParameterizedTestParameters(yaml_keys, collection_keys_are_errors)
{
    return cr_make_param_array(struct error_case, complex_key_cases,
                               NELEMS(complex_key_cases));
}

ParameterizedTest(struct error_case *c, yaml_keys, collection_keys_are_errors)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, "mapping keys must be strings"),
                       "%s", err.message);
    cr_assert_not_null(strstr(err.message, c->message), "%s", err.message);
    cr_assert_gt(err.line, 0);
}

/* --- syntax errors --- */

struct syntax_case {
    char yaml[64];
    int document;
    int line;
    int column;
    char message[64];
};

static struct syntax_case syntax_cases[] = {
    { .yaml = "a: b: c\n",
      .document = 0,
      .line = 1,
      .column = 5,
      .message = "mapping values are not allowed in this context" },
    { .yaml = "a:\n  - b\n c: d\n",
      .document = 0,
      .line = 3,
      .column = 2,
      .message = "did not find expected key" },
    { .yaml = "a: 1\n---\nb: c: d\n",
      .document = 1,
      .line = 3,
      .column = 5,
      .message = "mapping values are not allowed" },
    { .yaml = "a: 1\n---\n---\nx: [1, 2\n",
      .document = 2,
      .line = 5,
      .column = 1,
      .message = "did not find expected ',' or ']'" },
    { .yaml = "a: 'open\n",
      .document = 0,
      .line = 2,
      .column = 1,
      .message = "found unexpected end of stream" },
    { .yaml = "a:\n\tb: 1\n",
      .document = 0,
      .line = 2,
      .column = 1,
      .message = "found character that cannot start any token" },
    { .yaml = "a: *nope\n",
      .document = 0,
      .line = 1,
      .column = 4,
      .message = "unknown anchor \"nope\"" },
    /* After "...", the next document needs its "---". */
    { .yaml = "a: 1\n...\nb: c\n",
      .document = 1,
      .line = 3,
      .column = 1,
      .message = "did not find expected <document start>" },
};

ParameterizedTestParameters(yaml_errors, syntax_errors_have_positions)
{
    return cr_make_param_array(struct syntax_case, syntax_cases,
                               NELEMS(syntax_cases));
}

ParameterizedTest(struct syntax_case *c, yaml_errors,
                  syntax_errors_have_positions)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_not_null(strstr(err.message, c->message), "message: %s",
                       err.message);
    cr_assert_eq(err.document, c->document, "document %d", err.document);
    cr_assert_eq(err.line, c->line, "line %d", err.line);
    cr_assert_eq(err.column, c->column, "column %d", err.column);
}

Test(yaml_errors, parser_errors_start_with_yaml_syntax_error)
{
    struct np_error err;

    parse_fail("a: b: c\n", API_FORMAT_YAML, NP_E_SYNTAX, &err);
    cr_assert_eq(strncmp(err.message, "YAML syntax error: ", 19), 0, "%s",
                 err.message);
}

Test(yaml_errors, a_set_error_is_kept)
{
    struct api_docs docs;
    struct np_error err;

    np_error_init(&err);
    np_error_set(&err, NP_E_INVALID_CIDR, "first");
    err.line = 7;
    cr_assert_eq(api_docs_parse("a: b: c", 7, API_FORMAT_YAML, &test_limits,
                                &docs, &err),
                 -1);
    cr_assert_eq(err.code, NP_E_INVALID_CIDR);
    cr_assert_str_eq(err.message, "first");
    cr_assert_eq(err.line, 7);
    cr_assert_eq(err.document, -1);
}

struct bytes_case {
    char body[32];
    size_t len;
    int line;
    int column;
};

static struct bytes_case utf8_cases[] = {
    { .body = "a: \xc3\x28\n", .len = 6, .line = 1, .column = 5 },
    { .body = "a: 1\nb: \x80\n", .len = 10, .line = 2, .column = 4 },
    { .body = "a: \xed\xa0\x80\n", .len = 7, .line = 1, .column = 4 },
    { .body = "a: \xf8\x88\x80\x80\x80\n", .len = 9, .line = 1, .column = 4 },
    { .body = "a: b\x00\n", .len = 6, .line = 1, .column = 5 },
    { .body = "a: \xe2\x82", .len = 5, .line = 1, .column = 4 },
};

ParameterizedTestParameters(yaml_errors, invalid_utf8_is_a_syntax_error)
{
    return cr_make_param_array(struct bytes_case, utf8_cases,
                               NELEMS(utf8_cases));
}

ParameterizedTest(struct bytes_case *c, yaml_errors,
                  invalid_utf8_is_a_syntax_error)
{
    struct np_error err;

    parse_fail_lim(c->body, c->len, API_FORMAT_YAML, &test_limits, NP_E_SYNTAX,
                   &err);
    cr_assert_eq(err.document, 0);
    cr_assert_eq(err.line, c->line, "line %d: %s", err.line, err.message);
    cr_assert_eq(err.column, c->column, "column %d: %s", err.column,
                 err.message);
}

/* A manifest using most of the syntax: every prefix of it must parse or fail
 * cleanly. */
static const char manifest[] = "apiVersion: v1\n"
                               "kind: List\n"
                               "items:\n"
                               "- apiVersion: networking.k8s.io/v1\n"
                               "  kind: NetworkPolicy\n"
                               "  metadata:\n"
                               "    name: web\n"
                               "    labels:\n"
                               "      kubernetes.io/metadata.name: prod\n"
                               "  spec:\n"
                               "    podSelector: {}\n"
                               "    ingress:\n"
                               "    - from:\n"
                               "      - podSelector:\n"
                               "          matchLabels: {app: api}\n"
                               "      - ipBlock:\n"
                               "          cidr: 10.0.0.0/8\n"
                               "          except: [10.1.0.0/16, 10.2.0.0/16]\n"
                               "      ports:\n"
                               "      - port: 80\n"
                               "---\n"
                               "# empty\n"
                               "---\n"
                               "kind: Namespace\n"
                               "metadata:\n"
                               "  name: prod\n";

static const char anchored[] = "defaults: &d\n"
                               "  labels: &l {app: web, \"tier\": 'fe'}\n"
                               "  ports: [80, 443]\n"
                               "pods:\n"
                               "- <<: *d\n"
                               "  name: a\n"
                               "  note: |\n"
                               "    multi\n"
                               "    line\n"
                               "- {<<: *d, labels: *l, note: \"two\n"
                               "    words\"}\n"
                               "...\n";

static void
check_prefixes(const char *body)
{
    size_t len = strlen(body);
    size_t n;

    for (n = 0; n <= len; n++) {
        struct api_docs docs;
        struct np_error err;
        int line;
        int column;
        int rc;

        np_error_init(&err);
        rc =
            api_docs_parse(body, n, API_FORMAT_YAML, &test_limits, &docs, &err);
        if (rc == 0)
            api_docs_fini(&docs);
        else
            cr_assert_eq(err.code, NP_E_SYNTAX, "prefix %zu: %s: %s", n,
                         np_errc_name(err.code), err.message);
        api_locate(body, n, 0, "items[0].spec.ingress[0].from[1]", &line,
                   &column);
    }
}

Test(yaml_errors, truncated_yaml_parses_or_fails_cleanly)
{
    check_prefixes(manifest);
    check_prefixes(anchored);
}

Test(yaml_errors, the_anchored_manifest_parses)
{
    assert_yaml(anchored,
                "{\"defaults\": {\"labels\": {\"app\": \"web\", \"tier\": "
                "\"fe\"}, \"ports\": [80, 443]}, \"pods\": [{\"labels\": "
                "{\"app\": \"web\", \"tier\": \"fe\"}, \"ports\": [80, 443], "
                "\"name\": \"a\", \"note\": \"multi\\nline\\n\"}, "
                "{\"labels\": {\"app\": \"web\", \"tier\": \"fe\"}, "
                "\"ports\": [80, 443], \"note\": \"two words\"}]}");
}

/* Returns the next number of a fixed pseudo-random sequence. */
static uint32_t
next_random(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

Test(yaml_errors, binary_noise_never_crashes, .timeout = 60)
{
    uint32_t state = 12345;
    char body[512];
    int round;

    for (round = 0; round < 300; round++) {
        size_t len = next_random(&state) % sizeof(body);
        size_t i;
        enum api_format fmt = round % 2 ? API_FORMAT_JSON : API_FORMAT_YAML;
        struct api_docs docs;
        struct np_error err;
        int line;
        int column;

        for (i = 0; i < len; i++)
            body[i] = (char)(next_random(&state) & 0xFF);
        np_error_init(&err);
        if (api_docs_parse(body, len, fmt, &test_limits, &docs, &err) == 0)
            api_docs_fini(&docs);
        else
            cr_assert_neq(err.code, NP_E_OK);
        cr_assert_eq(api_locate(body, len, 0, "a.b[0]", &line, &column), -1);
    }
}

Test(yaml_errors, token_soup_never_crashes, .timeout = 60)
{
    static const char *const tokens[] = {
        "a",   "b",     ":",  ": ",     " ",   "\n",  "- ",    "[",
        "]",   "{",     "}",  ", ",     "&x ", "*x ", "<<: ",  "'",
        "\"",  "? ",    "  ", "!!int ", "1",   "~",   "# c\n", "---\n",
        "|\n", "...\n", "\t", "&y ",    "*y",  "\\",  "é",
    };
    uint32_t state = 777;
    char body[256];
    int round;

    for (round = 0; round < 3000; round++) {
        size_t len = 0;
        size_t ntok = next_random(&state) % 40;
        struct api_docs docs;
        struct np_error err;
        int line;
        int column;

        while (ntok-- > 0) {
            const char *t = tokens[next_random(&state) % NELEMS(tokens)];
            size_t tl = strlen(t);

            if (len + tl >= sizeof(body))
                break;
            memcpy(body + len, t, tl);
            len += tl;
        }
        np_error_init(&err);
        if (api_docs_parse(body, len, API_FORMAT_YAML, &test_limits, &docs,
                           &err) == 0) {
            size_t i;

            for (i = 0; i < docs.n; i++) {
                char *s = json_dumps(docs.docs[i], JSON_ENCODE_ANY);

                cr_assert_not_null(s);
                free(s);
            }
            api_docs_fini(&docs);
        } else {
            cr_assert(err.code == NP_E_SYNTAX ||
                          err.code == NP_E_LIMIT_EXCEEDED,
                      "%s: %s", np_errc_name(err.code), err.message);
            cr_assert_geq(err.document, 0);
        }
        api_locate(body, len, 0, "a.b", &line, &column);
        api_locate(body, len, 1, "[0].a", &line, &column);
    }
}

/* --- limits --- */

/* Returns "[" * n + "]" * n (or braces), malloc'ed. */
static char *
nested(size_t n, char open, char close)
{
    char *s = malloc(2 * n + 1);
    size_t i;

    cr_assert_not_null(s);
    for (i = 0; i < n; i++) {
        s[i] = open;
        s[2 * n - 1 - i] = close;
    }
    s[2 * n] = '\0';
    return s;
}

Test(yaml_limits, nesting_at_the_limit_is_accepted)
{
    struct api_docs docs;
    char *s = nested(64, '[', ']');

    parse_ok(s, API_FORMAT_YAML, &docs);
    api_docs_fini(&docs);
    parse_ok(s, API_FORMAT_JSON, &docs);
    api_docs_fini(&docs);
    free(s);
}

Test(yaml_limits, nesting_beyond_the_limit_is_rejected)
{
    struct np_error err;
    char *s = nested(65, '[', ']');

    parse_fail(s, API_FORMAT_YAML, NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_str_eq(err.message, "nesting of 65 levels exceeds the limit of "
                                  "64 levels (max_depth)");
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.column, 65);
    parse_fail(s, API_FORMAT_JSON, NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_str_eq(err.message, "nesting of 65 levels exceeds the limit of "
                                  "64 levels (max_depth)");
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.column, 65);
    free(s);
}

Test(yaml_limits, ten_thousand_levels_are_rejected_quickly, .timeout = 10)
{
    struct np_error err;
    char *sq = nested(10000, '[', ']');
    char *br = nested(10000, '{', '}');

    parse_fail(sq, API_FORMAT_YAML, NP_E_LIMIT_EXCEEDED, &err);
    parse_fail(sq, API_FORMAT_JSON, NP_E_LIMIT_EXCEEDED, &err);
    parse_fail(br, API_FORMAT_JSON, NP_E_LIMIT_EXCEEDED, &err);
    /* Unclosed brackets are caught by the limit before the syntax error. */
    parse_fail_lim(sq, 10000, API_FORMAT_YAML, &test_limits,
                   NP_E_LIMIT_EXCEEDED, &err);
    parse_fail_lim(sq, 10000, API_FORMAT_JSON, &test_limits,
                   NP_E_LIMIT_EXCEEDED, &err);
    free(sq);
    free(br);
}

Test(yaml_limits, ten_thousand_levels_without_a_limit_do_not_overflow,
     .timeout = 20)
{
    static const struct api_limits unlimited;
    struct api_docs docs;
    struct np_error err;
    char *sq = nested(10000, '[', ']');

    /* YAML is built on an explicit stack; jansson stops JSON at 2048. */
    parse_ok_lim(sq, strlen(sq), API_FORMAT_YAML, &unlimited, &docs);
    cr_assert_eq(docs.n, 1);
    api_docs_fini(&docs);
    parse_fail_lim(sq, strlen(sq), API_FORMAT_JSON, &unlimited,
                   NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_not_null(strstr(err.message, "2048"), "%s", err.message);
    free(sq);
}

Test(yaml_limits, block_nesting_counts_too)
{
    struct np_error err;
    char body[8192];
    size_t n = 0;
    int i;

    for (i = 0; i < 70; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%*sk:\n", i, "");
    parse_fail_lim(body, n, API_FORMAT_YAML, &test_limits, NP_E_LIMIT_EXCEEDED,
                   &err);
    cr_assert_eq(err.line, 65);
}

Test(yaml_limits, aliases_count_the_depth_of_their_anchor)
{
    struct np_error err;
    struct api_docs docs;
    char *deep = nested(40, '[', ']');
    char body[512];
    int n;

    /* 40 levels under a: fine; the same 40 levels under 30 more are not. */
    n = snprintf(body, sizeof(body), "a: &x %s\nb: %s*x%s\n", deep,
                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    parse_fail_lim(body, (size_t)n, API_FORMAT_YAML, &test_limits,
                   NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_eq(err.line, 2);
    n = snprintf(body, sizeof(body), "a: &x %s\nb: [[[[*x]]]]\n", deep);
    parse_ok_lim(body, (size_t)n, API_FORMAT_YAML, &test_limits, &docs);
    api_docs_fini(&docs);
    free(deep);
}

Test(yaml_limits, long_strings_are_rejected)
{
    static const struct api_limits lim = { .max_string = 10 };
    struct api_docs docs;
    struct np_error err;

    parse_ok_lim("a: '0123456789'", 15, API_FORMAT_YAML, &lim, &docs);
    api_docs_fini(&docs);
    parse_fail_lim("a: 1\nb: '0123456789a'", 21, API_FORMAT_YAML, &lim,
                   NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_str_eq(err.message, "a string of 11 bytes exceeds the limit of "
                                  "10 bytes (max_string)");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.column, 4);
    /* Keys are strings too. */
    parse_fail_lim("0123456789ab: 1", 15, API_FORMAT_YAML, &lim,
                   NP_E_LIMIT_EXCEEDED, &err);
}

Test(yaml_limits, long_json_strings_are_measured_decoded)
{
    static const struct api_limits lim = { .max_string = 10 };
    struct api_docs docs;
    struct np_error err;
    /* Five é (10 bytes) written as escapes, one as a surrogate pair (4). */
    static const char ok[] = "{\"a\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}";
    static const char pair[] = "{\"a\": \"\\ud83d\\ude00\\u00e9\\n\\\"x\"}";
    static const char over[] = "{\"a\": 1,\n \"b\": \"\\u00e9\\u00e9\\u00e9"
                               "\\u00e9\\u00e9x\"}";

    parse_ok_lim(ok, strlen(ok), API_FORMAT_JSON, &lim, &docs);
    api_docs_fini(&docs);
    parse_ok_lim(pair, strlen(pair), API_FORMAT_JSON, &lim, &docs);
    api_docs_fini(&docs);
    parse_fail_lim(over, strlen(over), API_FORMAT_JSON, &lim,
                   NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_str_eq(err.message, "a string of 11 bytes exceeds the limit of "
                                  "10 bytes (max_string)");
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.column, 7);
}

Test(yaml_limits, documents_beyond_the_limit_are_rejected)
{
    static const struct api_limits lim = { .max_documents = 2 };
    struct api_docs docs;
    struct np_error err;

    /* Empty documents hold no object and do not count. */
    parse_ok_lim("---\n---\na: 1\n---\n---\nb: 2\n", 26, API_FORMAT_YAML, &lim,
                 &docs);
    cr_assert_eq(docs.n, 2);
    api_docs_fini(&docs);
    parse_fail_lim("a: 1\n---\nb: 2\n---\nc: 3\n", 23, API_FORMAT_YAML, &lim,
                   NP_E_LIMIT_EXCEEDED, &err);
    cr_assert_str_eq(err.message, "more than 2 documents exceeds the limit of "
                                  "2 documents (max_documents)");
    cr_assert_eq(err.document, 2);
    cr_assert_eq(err.line, 4);
}

Test(yaml_limits, zero_limits_mean_no_limit)
{
    static const struct api_limits unlimited;
    struct api_docs docs;
    size_t len = 3 * 1024 * 1024;
    char *body = malloc(len + 8);

    cr_assert_not_null(body);
    memcpy(body, "a: ", 3);
    memset(body + 3, 'x', len);
    parse_ok_lim(body, len + 3, API_FORMAT_YAML, &unlimited, &docs);
    cr_assert_eq(json_string_length(json_object_get(docs.docs[0], "a")), len);
    api_docs_fini(&docs);
    parse_ok_lim(body, len + 3, API_FORMAT_YAML, NULL, &docs);
    api_docs_fini(&docs);
    free(body);
}

/* --- JSON --- */

Test(json_docs, a_single_object_is_one_document)
{
    struct api_docs docs;

    parse_ok("\n\n  {\"kind\": \"Pod\", \"spec\": {\"ports\": [80, 1.5, true, "
             "null, \"x\"]}}\n\n",
             API_FORMAT_JSON, &docs);
    cr_assert_eq(docs.n, 1);
    cr_assert_eq(docs.index[0], 0);
    cr_assert_eq(docs.line[0], 3);
    assert_json(docs.docs[0], "{\"kind\": \"Pod\", \"spec\": {\"ports\": "
                              "[80, 1.5, true, null, \"x\"]}}");
    api_docs_fini(&docs);
}

Test(json_docs, a_top_level_array_is_one_document)
{
    struct api_docs docs;

    parse_ok("[{\"a\": 1}, {\"b\": 2}]", API_FORMAT_JSON, &docs);
    cr_assert_eq(docs.n, 1);
    assert_json(docs.docs[0], "[{\"a\": 1}, {\"b\": 2}]");
    api_docs_fini(&docs);
}

Test(json_docs, scalars_are_documents_and_null_is_none)
{
    struct api_docs docs;

    parse_ok("\"text\"", API_FORMAT_JSON, &docs);
    cr_assert_eq(docs.n, 1);
    assert_json(docs.docs[0], "\"text\"");
    api_docs_fini(&docs);
    parse_ok(" null ", API_FORMAT_JSON, &docs);
    cr_assert_eq(docs.n, 0);
    api_docs_fini(&docs);
}

static struct syntax_case json_error_cases[] = {
    { .yaml = "", .line = 1, .column = 1, .message = "holds no JSON value" },
    { .yaml = " \n\t\r\n",
      .line = 1,
      .column = 1,
      .message = "holds no JSON value" },
    { .yaml = "{\"a\": 1,\n \"a\": 2}",
      .line = 2,
      .column = 4,
      .message = "duplicate object key" },
    { .yaml = "{\"a\": 1,\n  x}",
      .line = 2,
      .column = 3,
      .message = "string or '}' expected near 'x'" },
    { .yaml = "{\"a\": 1} {\"b\": 2}",
      .line = 1,
      .column = 10,
      .message = "end of file expected" },
    { .yaml = "[1, 2",
      .line = 1,
      .column = 5,
      .message = "']' expected near end of file" },
    { .yaml = "{\"a\": \"\\u0000\"}",
      .line = 1,
      .column = 14,
      .message = "\\u0000 is not allowed" },
    { .yaml = "{\"a\": 99999999999999999999}",
      .line = 1,
      .column = 26,
      .message = "too big integer" },
    { .yaml = "a: 1", .line = 1, .column = 1, .message = "invalid token" },
};

ParameterizedTestParameters(json_docs, syntax_errors_have_positions)
{
    return cr_make_param_array(struct syntax_case, json_error_cases,
                               NELEMS(json_error_cases));
}

ParameterizedTest(struct syntax_case *c, json_docs,
                  syntax_errors_have_positions)
{
    struct np_error err;

    parse_fail(c->yaml, API_FORMAT_JSON, NP_E_SYNTAX, &err);
    cr_assert_eq(strncmp(err.message, "JSON syntax error: ", 19), 0, "%s",
                 err.message);
    cr_assert_not_null(strstr(err.message, c->message), "message: %s",
                       err.message);
    cr_assert_eq(err.document, 0);
    cr_assert_eq(err.line, c->line, "line %d", err.line);
    cr_assert_eq(err.column, c->column, "column %d", err.column);
}

static struct bytes_case json_utf8_cases[] = {
    { .body = "{\"a\": \"\xff\"}", .len = 10, .line = 1, .column = 7 },
    { .body = "{\"a\": \"\xc3\x28\"}", .len = 11, .line = 1, .column = 7 },
    { .body = "{\"a\": \"b\x00\"}", .len = 11, .line = 1, .column = 9 },
    { .body = "\x80\x81", .len = 2, .line = 1, .column = 1 },
};

ParameterizedTestParameters(json_docs, invalid_utf8_is_a_syntax_error)
{
    return cr_make_param_array(struct bytes_case, json_utf8_cases,
                               NELEMS(json_utf8_cases));
}

ParameterizedTest(struct bytes_case *c, json_docs,
                  invalid_utf8_is_a_syntax_error)
{
    struct np_error err;

    parse_fail_lim(c->body, c->len, API_FORMAT_JSON, &test_limits, NP_E_SYNTAX,
                   &err);
    cr_assert_eq(err.line, c->line, "line %d: %s", err.line, err.message);
    cr_assert_gt(err.column, 0, "%s", err.message);
}

/* --- api_locate --- */

struct locate_case {
    char path[96];
    int doc;
    int rc;
    int line;
    int column;
};

static struct locate_case yaml_locate_cases[] = {
    { .path = "", .doc = 0, .rc = 0, .line = 1, .column = 1 },
    { .path = "kind", .doc = 0, .rc = 0, .line = 2, .column = 7 },
    { .path = "items", .doc = 0, .rc = 0, .line = 4, .column = 1 },
    { .path = "items[0]", .doc = 0, .rc = 0, .line = 4, .column = 3 },
    { .path = "items[0].metadata.name",
      .doc = 0,
      .rc = 0,
      .line = 7,
      .column = 11 },
    { .path = "items[0].metadata.labels[kubernetes.io/metadata.name]",
      .doc = 0,
      .rc = 0,
      .line = 9,
      .column = 36 },
    { .path = "items[0].metadata.labels[\"kubernetes.io/metadata.name\"]",
      .doc = 0,
      .rc = 0,
      .line = 9,
      .column = 36 },
    { .path = "items[0].metadata.labels.kubernetes.io/metadata.name",
      .doc = 0,
      .rc = 0,
      .line = 9,
      .column = 36 },
    { .path = "items[0].spec", .doc = 0, .rc = 0, .line = 11, .column = 5 },
    { .path = "items[0].spec.podSelector",
      .doc = 0,
      .rc = 0,
      .line = 11,
      .column = 18 },
    { .path = "items[0].spec.ingress[0].from[0].podSelector.matchLabels.app",
      .doc = 0,
      .rc = 0,
      .line = 15,
      .column = 30 },
    { .path = "items[0].spec.ingress[0].from[1].ipBlock.cidr",
      .doc = 0,
      .rc = 0,
      .line = 17,
      .column = 17 },
    { .path = "items[0].spec.ingress[0].from[1].ipBlock.except[1]",
      .doc = 0,
      .rc = 0,
      .line = 18,
      .column = 33 },
    { .path = "items[0].spec.ingress[0].ports[0].port",
      .doc = 0,
      .rc = 0,
      .line = 20,
      .column = 15 },
    { .path = "metadata.name", .doc = 2, .rc = 0, .line = 26, .column = 9 },
    { .path = "kind", .doc = 2, .rc = 0, .line = 24, .column = 7 },
    /* Missing: the deepest node found. */
    { .path = "items[0].spec.ingress[0].from[5].ipBlock",
      .doc = 0,
      .rc = -1,
      .line = 14,
      .column = 7 },
    { .path = "items[0].metadata.nosuch",
      .doc = 0,
      .rc = -1,
      .line = 7,
      .column = 5 },
    { .path = "items[3]", .doc = 0, .rc = -1, .line = 4, .column = 1 },
    { .path = "items[x]", .doc = 0, .rc = -1, .line = 4, .column = 1 },
    { .path = "nosuch.x", .doc = 0, .rc = -1, .line = 1, .column = 1 },
    { .path = "kind[0]", .doc = 0, .rc = -1, .line = 2, .column = 7 },
    { .path = "items[0].spec.ingress[0].from[1].ipBlock.cidr.x",
      .doc = 0,
      .rc = -1,
      .line = 17,
      .column = 17 },
    { .path = "items[0].metadata.labels[kubernetes.io]",
      .doc = 0,
      .rc = -1,
      .line = 9,
      .column = 7 },
    { .path = "metadata.namespace",
      .doc = 2,
      .rc = -1,
      .line = 26,
      .column = 3 },
    { .path = "kind", .doc = 5, .rc = -1, .line = 0, .column = 0 },
};

ParameterizedTestParameters(locate, yaml_paths_find_their_node)
{
    return cr_make_param_array(struct locate_case, yaml_locate_cases,
                               NELEMS(yaml_locate_cases));
}

ParameterizedTest(struct locate_case *c, locate, yaml_paths_find_their_node)
{
    int line = -7;
    int column = -7;
    int rc =
        api_locate(manifest, strlen(manifest), c->doc, c->path, &line, &column);

    cr_assert_eq(rc, c->rc, "rc %d for %s", rc, c->path);
    cr_assert_eq(line, c->line, "line %d for %s", line, c->path);
    cr_assert_eq(column, c->column, "column %d for %s", column, c->path);
}

static const char pretty_json[] =
    "{\n"
    "  \"kind\": \"List\",\n"
    "  \"items\": [\n"
    "    {\n"
    "      \"metadata\": {\n"
    "        \"name\": \"web\",\n"
    "        \"labels\": {\"kubernetes.io/metadata.name\": \"prod\"}\n"
    "      },\n"
    "      \"spec\": {\"ingress\": [{\"from\": [{\"ipBlock\": {\"cidr\": "
    "\"10.0.0.0/8\"}}]}]}\n"
    "    }\n"
    "  ]\n"
    "}\n";

static struct locate_case pretty_locate_cases[] = {
    { .path = "kind", .doc = 0, .rc = 0, .line = 2, .column = 11 },
    { .path = "items[0]", .doc = 0, .rc = 0, .line = 4, .column = 5 },
    { .path = "items[0].metadata.name",
      .doc = 0,
      .rc = 0,
      .line = 6,
      .column = 17 },
    { .path = "items[0].metadata.labels[kubernetes.io/metadata.name]",
      .doc = 0,
      .rc = 0,
      .line = 7,
      .column = 51 },
    { .path = "items[0].spec.ingress[0].from[0].ipBlock.cidr",
      .doc = 0,
      .rc = 0,
      .line = 9,
      .column = 59 },
    { .path = "items[0].spec.ingress[0].from[2]",
      .doc = 0,
      .rc = -1,
      .line = 9,
      .column = 37 },
    { .path = "items[0].spec.egress",
      .doc = 0,
      .rc = -1,
      .line = 9,
      .column = 15 },
    { .path = "kind", .doc = 1, .rc = -1, .line = 0, .column = 0 },
};

ParameterizedTestParameters(locate, pretty_json_paths_find_their_node)
{
    return cr_make_param_array(struct locate_case, pretty_locate_cases,
                               NELEMS(pretty_locate_cases));
}

ParameterizedTest(struct locate_case *c, locate,
                  pretty_json_paths_find_their_node)
{
    int line;
    int column;
    int rc = api_locate(pretty_json, strlen(pretty_json), c->doc, c->path,
                        &line, &column);

    cr_assert_eq(rc, c->rc, "rc %d for %s", rc, c->path);
    cr_assert_eq(line, c->line, "line %d for %s", line, c->path);
    cr_assert_eq(column, c->column, "column %d for %s", column, c->path);
}

static const char compact_json[] =
    "{\"kind\":\"List\",\"items\":[{\"metadata\":{\"name\":\"web\"}},"
    "{\"spec\":{\"ports\":[80,443]}}]}";

static struct locate_case compact_locate_cases[] = {
    { .path = "kind", .doc = 0, .rc = 0, .line = 1, .column = 9 },
    { .path = "items[0].metadata.name",
      .doc = 0,
      .rc = 0,
      .line = 1,
      .column = 45 },
    { .path = "items[1]", .doc = 0, .rc = 0, .line = 1, .column = 53 },
    { .path = "items[1].spec.ports[1]",
      .doc = 0,
      .rc = 0,
      .line = 1,
      .column = 74 },
    { .path = "items[1].spec.ports[2]",
      .doc = 0,
      .rc = -1,
      .line = 1,
      .column = 70 },
};

ParameterizedTestParameters(locate, compact_json_paths_find_their_node)
{
    return cr_make_param_array(struct locate_case, compact_locate_cases,
                               NELEMS(compact_locate_cases));
}

ParameterizedTest(struct locate_case *c, locate,
                  compact_json_paths_find_their_node)
{
    int line;
    int column;
    int rc = api_locate(compact_json, strlen(compact_json), c->doc, c->path,
                        &line, &column);

    cr_assert_eq(rc, c->rc, "rc %d for %s", rc, c->path);
    cr_assert_eq(line, c->line, "line %d for %s", line, c->path);
    cr_assert_eq(column, c->column, "column %d for %s", column, c->path);
}

Test(locate, the_longest_key_wins_when_dotted_keys_are_ambiguous)
{
    static const char body[] = "a:\n"
                               "  b:\n"
                               "    c: 1\n"
                               "  b.c: 2\n";
    int line;
    int column;

    cr_assert_eq(api_locate(body, strlen(body), 0, "a.b.c", &line, &column), 0);
    cr_assert_eq(line, 4);
    cr_assert_eq(column, 8);
    cr_assert_eq(api_locate(body, strlen(body), 0, "a.b[c]", &line, &column),
                 0);
    cr_assert_eq(line, 3);
    cr_assert_eq(column, 8);
    cr_assert_eq(
        api_locate(body, strlen(body), 0, "a[\"b.c\"]", &line, &column), 0);
    cr_assert_eq(line, 4);
}

Test(locate, quoted_and_escaped_keys_match)
{
    static const char body[] = "m:\n"
                               "  'we\"ird.key': 1\n"
                               "  \"[x]\": 2\n";
    int line;
    int column;

    cr_assert_eq(api_locate(body, strlen(body), 0, "m[\"we\\\"ird.key\"]",
                            &line, &column),
                 0);
    cr_assert_eq(line, 2);
    cr_assert_eq(api_locate(body, strlen(body), 0, "m.[x]", &line, &column), 0);
    cr_assert_eq(line, 3);
}

Test(locate, paths_stop_at_aliases_and_skip_collection_keys)
{
    static const char body[] = "a: &x {b: 1}\n"
                               "? [k]\n"
                               ": 5\n"
                               "c: *x\n"
                               "d: 4\n";
    int line;
    int column;

    cr_assert_eq(api_locate(body, strlen(body), 0, "d", &line, &column), 0);
    cr_assert_eq(line, 5);
    cr_assert_eq(api_locate(body, strlen(body), 0, "c.b", &line, &column), -1);
    cr_assert_eq(line, 4);
    cr_assert_eq(column, 4);
}

Test(locate, an_error_later_in_the_body_keeps_what_was_found)
{
    static const char body[] = "a:\n  b: 1\nc: d: e\n";
    int line;
    int column;

    cr_assert_eq(api_locate(body, strlen(body), 0, "a.b", &line, &column), 0);
    cr_assert_eq(line, 2);
    cr_assert_eq(column, 6);
}

struct garbage_case {
    char body[32];
    size_t len;
};

static struct garbage_case garbage_cases[] = {
    { .body = "", .len = 0 },
    { .body = "\x01\x02\x03", .len = 3 },
    { .body = "\xff\xfe\xfd\xfc", .len = 4 },
    { .body = "]]]", .len = 3 },
    { .body = "a: b: c", .len = 7 },
    { .body = "\x00\x00\x00\x00", .len = 4 },
    { .body = "{\"a\": [1, }", .len = 11 },
};

ParameterizedTestParameters(locate, garbage_bodies_are_not_found)
{
    return cr_make_param_array(struct garbage_case, garbage_cases,
                               NELEMS(garbage_cases));
}

ParameterizedTest(struct garbage_case *c, locate, garbage_bodies_are_not_found)
{
    int line;
    int column;

    cr_assert_eq(api_locate(c->body, c->len, 0, "a.b[0]", &line, &column), -1);
    cr_assert_eq(api_locate(c->body, c->len, 3, "", &line, &column), -1);
    cr_assert_eq(line, 0);
    cr_assert_eq(api_locate(NULL, 0, 0, "a", &line, &column), -1);
    cr_assert_eq(api_locate(c->body, c->len, -1, "a", &line, &column), -1);
    cr_assert_eq(api_locate(c->body, c->len, 0, NULL, &line, &column), -1);
}
