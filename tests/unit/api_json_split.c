/*
 * Large JSON Lists are parsed on two threads: the second half of their
 * items on a thread of its own (api_docs_parse_halves()), which also
 * decodes them into a builder of its own for the upload's to absorb, or,
 * when that could answer otherwise, has them decoded again. Every upload here
 * is sent twice, in-process: once with api_json_halves_min_bytes lowered so
 * that it is split, and once with it at SIZE_MAX (the whole body in one go).
 * The answers, status and body byte for byte, and the state left behind
 * must be the same, whether the upload succeeds or meets a syntax error, a
 * duplicate key, a limit or an invalid object in either half or at the
 * split, and whether or not the body is a List that can be split at all.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/internal.h"
#include "tests/support/dispatch.h"
#include "tests/support/split.h"

/* Bodies here are some tens of kilobytes: split them all. */
#define TEST_MIN_BYTES 4096

static struct tsplit ts;

static void
setup(void)
{
    tsplit_init(&ts, &api_json_halves_min_bytes, TEST_MIN_BYTES,
                "application/json");
}

static void
teardown(void)
{
    tsplit_fini(&ts);
}

TestSuite(json_split, .init = setup, .fini = teardown);

/* PUTs body to both contexts and compares the answers and the states;
 * asserts the status is want, that the answer holds text (may be NULL) and
 * whether the split context parsed the body on two threads. */
static void
put_both(const char *body, int want, const char *text, bool split)
{
    size_t before = atomic_load(&api_json_halves_parsed);
    char *answer;
    int status;

    cr_assert_gt(strlen(body), (size_t)TEST_MIN_BYTES);
    status = tsplit_both(&ts, "PUT", "/state", body, &answer);
    cr_assert_eq(status, want, "%s", answer);
    if (text != NULL)
        cr_assert_not_null(strstr(answer, text), "no \"%s\" in %s", text,
                           answer);
    cr_assert_eq(atomic_load(&api_json_halves_parsed) - before, split ? 1u : 0u,
                 "split: %d", split);
    free(answer);
    tsplit_same_state(&ts);
}

/* --- bodies --- */

struct buf {
    char *s;
    size_t len, cap;
};

static void
add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, room, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0);
        if ((size_t)n < room)
            break;
        b->cap = b->cap * 2 + (size_t)n + 1;
        b->s = realloc(b->s, b->cap);
        cr_assert_not_null(b->s);
    }
    b->len += (size_t)n;
}

/* What to write into the items of a List; -1 for nothing. */
struct list_opts {
    int nitems;
    int syntax_at;     /* an item without a colon */
    int dup_key_at;    /* an item with "kind" twice */
    int bad_at;        /* a Pod with an invalid label value */
    int deep_at;       /* an item nested 70 levels deep (max_depth 64) */
    int long_at;       /* an item with a string over max_string */
    int scalar_at;     /* an item that is the number 7 */
    int nested_every;  /* every n-th item is a List of three (0: none) */
    bool tricky;       /* every item has strings with ], {, commas, escapes */
    int comma_after;   /* a second comma after this item */
    int nocomma_after; /* no comma after this item */
    int stray_after;   /* a semicolon instead of the comma after this item */
    int copy_at;       /* this item is a copy of item copy_of */
    int copy_of;
    int name_base;      /* added to the number in every item's name */
    bool port_warnings; /* Pods name a port twice: a builder warning each */
};

static struct list_opts
list_defaults(void)
{
    struct list_opts o = {
        .nitems = 240,
        .syntax_at = -1,
        .dup_key_at = -1,
        .bad_at = -1,
        .deep_at = -1,
        .long_at = -1,
        .scalar_at = -1,
        .comma_after = -1,
        .nocomma_after = -1,
        .stray_after = -1,
        .copy_at = -1,
        .copy_of = -1,
    };

    return o;
}

#define LONG_STRING 300

static void
add_item(struct buf *b, const struct list_opts *o, int i, const char *indent)
{
    int k;

    if (i == o->copy_at)
        i = o->copy_of;
    if (i == o->scalar_at) {
        add(b, "%s7", indent);
        return;
    }
    if (o->nested_every > 0 && i % o->nested_every == 0) {
        add(b,
            "%s{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": "
            "[{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
            "\"metadata\": {\"name\": \"nested-%d-a\"}}, "
            "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", "
            "\"metadata\": {\"name\": \"nested-%d-b\"}}, "
            "{\"kind\": \"ConfigMap\", \"apiVersion\": \"v1\", "
            "\"metadata\": {\"name\": \"c\", \"namespace\": \"nested-%d-a\"}}"
            "]}",
            indent, i, i, i);
        return;
    }
    add(b, "%s{\n", indent);
    add(b, "%s    \"apiVersion\": \"v1\",\n", indent);
    if (i == o->dup_key_at)
        add(b, "%s    \"kind\": \"Pod\",\n", indent);
    if (i % 9 == 0) {
        /* Skipped with a warning. */
        add(b, "%s    \"kind\": \"Service\",\n", indent);
    } else if (i % 3 == 0) {
        add(b, "%s    \"kind\": \"Namespace\",\n", indent);
    } else {
        add(b, "%s    \"kind\": \"Pod\",\n", indent);
    }
    if (i == o->syntax_at)
        add(b, "%s    \"broken\" true,\n", indent);
    if (i == o->deep_at) {
        add(b, "%s    \"deep\": ", indent);
        for (k = 0; k < 70; k++)
            add(b, "[");
        for (k = 0; k < 70; k++)
            add(b, "]");
        add(b, ",\n");
    }
    if (i == o->long_at) {
        add(b, "%s    \"long\": \"", indent);
        for (k = 0; k < LONG_STRING; k++)
            add(b, "x");
        add(b, "\",\n");
    }
    add(b, "%s    \"metadata\": {\n", indent);
    if (o->tricky)
        add(b,
            "%s        \"annotations\": {\"a]\": \"],\\\"{[\", "
            "\"b\": \"\\\\\\\", ]}, {\", \"c,\": \"\\u00e9\\ud83d\\ude00 "
            "\\u005d\\u002c é ]\", \"d\": \"\\\\\"},\n",
            indent);
    if (i % 9 != 0 && i % 3 == 0) {
        add(b, "%s        \"labels\": {\"team\": \"t%d\"},\n", indent, i % 5);
        add(b, "%s        \"name\": \"ns-%d\"\n", indent, i + o->name_base);
        add(b, "%s    }\n", indent);
        add(b, "%s}", indent);
        return;
    }
    add(b, "%s        \"labels\": {\"app\": \"%s\"},\n", indent,
        i == o->bad_at ? "-bad-" : "web");
    add(b, "%s        \"name\": \"pod-%d\",\n", indent, i + o->name_base);
    add(b, "%s        \"namespace\": \"ns-%d\"\n", indent,
        (i / 3) * 3 % 9 == 0 ? 3 : (i / 3) * 3);
    add(b, "%s    },\n", indent);
    if (i % 9 == 0) {
        add(b, "%s    \"spec\": {\"ports\": [{\"port\": 80}]}\n", indent);
    } else {
        if (o->port_warnings)
            add(b,
                "%s    \"spec\": {\"containers\": [{\"name\": \"c\", "
                "\"ports\": [{\"name\": \"http\", \"containerPort\": 80}, "
                "{\"name\": \"http\", \"containerPort\": 81}]}]},\n",
                indent);
        add(b,
            "%s    \"status\": {\"podIP\": \"10.%d.%d.%d\", "
            "\"podIPs\": [{\"ip\": \"10.%d.%d.%d\"}]}\n",
            indent, i / 65536, i / 256 % 256, i % 256, i / 65536, i / 256 % 256,
            i % 256);
    }
    add(b, "%s}", indent);
}

/* A List as kubectl get -o json prints it. */
static char *
list_body(const struct list_opts *o)
{
    struct buf b = { 0 };
    int i;

    add(&b, "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n");
    for (i = 0; i < o->nitems; i++) {
        add_item(&b, o, i, "        ");
        if (i + 1 < o->nitems) {
            if (i == o->stray_after)
                add(&b, ";");
            else if (i != o->nocomma_after)
                add(&b, ",");
            if (i == o->comma_after)
                add(&b, ",");
        }
        add(&b, "\n");
    }
    add(&b, "    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n"
            "        \"resourceVersion\": \"\"\n    }\n}\n");
    return b.s;
}

/* The index of the item that starts right after the split: the first comma
 * between items at or past the middle of the body o gives. */
static int
item_after_split(const struct list_opts *o)
{
    char *body = list_body(o);
    size_t len = strlen(body);
    const char *p = body + len / 2;
    int n = 0;
    const char *q;

    /* Items start on their own line, eight blanks in; count those before
     * the first one past the middle. */
    p = strstr(p, "\n        {");
    cr_assert_not_null(p);
    for (q = body; (q = strstr(q, "\n        {")) != NULL && q < p; q++)
        n++;
    free(body);
    return n;
}

static void
put_list(const struct list_opts *o, int want, const char *text, bool split)
{
    char *body = list_body(o);

    put_both(body, want, text, split);
    free(body);
}

/* --- uploads that are split --- */

Test(json_split, a_clean_list_with_warnings)
{
    struct list_opts o = list_defaults();

    put_list(&o, 200, "skipped Service ns-3/pod-234", true);
}

Test(json_split, strings_with_brackets_commas_and_escapes)
{
    struct list_opts o = list_defaults();

    o.tricky = true;
    put_list(&o, 200, "\"revision\":1", true);
}

Test(json_split, nested_lists)
{
    struct list_opts o = list_defaults();

    o.nested_every = 7;
    put_list(&o, 200, "skipped ConfigMap", true);
}

Test(json_split, a_list_over_a_mebibyte_with_the_default_threshold)
{
    struct list_opts o = list_defaults();
    char *body;
    size_t before = atomic_load(&api_json_halves_parsed);
    struct tdisp_reply r;

    o.nitems = 5000;
    o.tricky = true;
    body = list_body(&o);
    cr_assert_gt(strlen(body), (size_t)1 << 20);
    r = tdisp_call(&ts.split, "PUT", "/state", NULL, 0, "application/json",
                   body);
    cr_assert_eq(r.status, 200, "%s", r.text);
    cr_assert_eq(atomic_load(&api_json_halves_parsed) - before, 1u);
    json_decref(r.json);
    r = tdisp_call(&ts.seq, "PUT", "/state", NULL, 0, "application/json", body);
    cr_assert_eq(r.status, 200, "%s", r.text);
    json_decref(r.json);
    put_both(body, 200, "\"revision\":2", true);
    free(body);
}

/* An invalid object in the second half is reported with its item index in
 * the whole List. */
Test(json_split, an_invalid_object_in_the_second_half)
{
    struct list_opts o = list_defaults();

    o.bad_at = 200;
    put_list(&o, 400, "items[200].metadata.labels", true);
}

Test(json_split, an_invalid_object_in_the_first_half)
{
    struct list_opts o = list_defaults();

    o.bad_at = 20;
    put_list(&o, 400, "items[20].metadata.labels", true);
}

Test(json_split, an_item_that_is_not_an_object)
{
    struct list_opts o = list_defaults();

    o.scalar_at = 190;
    put_list(&o, 400, "items[190]", false);
}

/* --- errors that send the body to the one-go parse --- */

Test(json_split, a_syntax_error_in_the_first_half)
{
    struct list_opts o = list_defaults();

    o.syntax_at = 17;
    put_list(&o, 400, "JSON syntax error", false);
}

Test(json_split, a_syntax_error_in_the_second_half)
{
    struct list_opts o = list_defaults();

    o.syntax_at = 201;
    put_list(&o, 400, "JSON syntax error", false);
}

Test(json_split, syntax_errors_around_the_split)
{
    struct list_opts o = list_defaults();
    int at = item_after_split(&o);
    int d;

    cr_assert_gt(at, 0);
    for (d = -1; d <= 1; d++) {
        o = list_defaults();
        o.syntax_at = at + d;
        put_list(&o, 400, "JSON syntax error", false);
        o = list_defaults();
        o.comma_after = at + d - 1;
        put_list(&o, 400, "JSON syntax error", false);
        o = list_defaults();
        o.nocomma_after = at + d - 1;
        put_list(&o, 400, "JSON syntax error", false);
    }
}

Test(json_split, a_stray_character_between_items_of_the_second_half)
{
    struct list_opts o = list_defaults();

    o.stray_after = 200;
    put_list(&o, 400, "JSON syntax error", false);
    o.stray_after = -1;
    o.nocomma_after = 200;
    put_list(&o, 400, "JSON syntax error", false);
}

Test(json_split, a_trailing_comma_after_the_last_item)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *end = strstr(body, "\n    ],\n    \"kind\"");

    cr_assert_not_null(end);
    /* "}\n    ]" becomes "},    ]". */
    *end = ',';
    put_both(body, 400, "JSON syntax error", false);
    free(body);
}

Test(json_split, a_duplicate_key_in_an_item_of_the_second_half)
{
    struct list_opts o = list_defaults();

    o.dup_key_at = 205;
    put_list(&o, 400, "duplicate object key", false);
}

Test(json_split, a_duplicate_key_in_an_item_of_the_first_half)
{
    struct list_opts o = list_defaults();

    o.dup_key_at = 5;
    put_list(&o, 400, "duplicate object key", false);
}

Test(json_split, max_depth_in_either_half)
{
    struct list_opts o = list_defaults();

    o.deep_at = 30;
    put_list(&o, 400, "max_depth", false);
    o.deep_at = 220;
    put_list(&o, 400, "max_depth", false);
    /* A limit error beats a syntax error earlier in the body, as in the
     * one-go parse. */
    o.syntax_at = 3;
    put_list(&o, 400, "max_depth", false);
}

Test(json_split, max_string_in_either_half)
{
    struct list_opts o = list_defaults();

    ts.split.cfg.limits.max_string = LONG_STRING - 1;
    ts.seq.cfg.limits.max_string = LONG_STRING - 1;
    o.long_at = 40;
    put_list(&o, 400, "max_string", false);
    o.long_at = 230;
    put_list(&o, 400, "max_string", false);
    /* A limit error beats a syntax error earlier in the body, as in the
     * one-go parse. */
    o.syntax_at = 3;
    put_list(&o, 400, "max_string", false);
}

/* --- bodies that are not Lists to split --- */

/* Replaces the first from in body (malloc'ed) with to; returns a new body. */
static char *
replace(const char *body, const char *from, const char *to)
{
    const char *p = strstr(body, from);
    struct buf b = { 0 };

    cr_assert_not_null(p, "no %s", from);
    add(&b, "%.*s%s%s", (int)(p - body), body, to, p + strlen(from));
    return b.s;
}

Test(json_split, a_duplicate_items_key_at_the_top_level)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *dup = replace(body, "\"kind\": \"List\"",
                        "\"kind\": \"List\", \"items\": []");
    char *first =
        replace(body, "\"items\": [", "\"items\": {\"a\": 1}, \"items\": [");

    put_both(dup, 400, "duplicate object key", false);
    put_both(first, 400, "duplicate object key", false);
    free(first);
    free(dup);
    free(body);
}

Test(json_split, items_written_with_an_escape)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *esc = replace(body, "\"items\"", "\"\\u0069tems\"");

    put_both(esc, 200, "\"revision\":1", false);
    free(esc);
    free(body);
}

/* Items of another kind than List are split like those of a List; the
 * decode then answers for them. */
Test(json_split, lists_of_other_kinds)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *typed = replace(body, "\"kind\": \"List\"", "\"kind\": \"PodList\"");
    char *pod = replace(body, "\"kind\": \"List\"", "\"kind\": \"Pod\"");

    put_both(typed, 200, "skipped Service ns-3/pod-234", true);
    put_both(pod, 400, NULL, true);
    free(pod);
    free(typed);
    free(body);
}

Test(json_split, an_object_without_items)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *cm = replace(body, "\"items\": [", "\"data\": [");
    char *kind = replace(cm, "\"kind\": \"List\"", "\"kind\": \"ConfigMap\"");

    put_both(kind, 200, "skipped ConfigMap", false);
    free(kind);
    free(cm);
    free(body);
}

Test(json_split, items_that_are_not_an_array)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *obj = replace(body, "\"items\": [", "\"items\": {\"x\": [");
    char *closed =
        replace(obj, "\n    ],\n    \"kind\"", "\n    ]},\n    \"kind\"");

    put_both(closed, 400, "items must be an array", false);
    free(closed);
    free(obj);
    free(body);
}

Test(json_split, an_empty_items_array)
{
    struct buf b = { 0 };
    int i;

    add(&b, "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [], "
            "\"metadata\": {\"annotations\": {");
    for (i = 0; i < 400; i++)
        add(&b, "%s\"k%d\": \"v, ] %d\"", i == 0 ? "" : ", ", i, i);
    add(&b, "}}}");
    put_both(b.s, 200, "\"pods\":0", false);
    free(b.s);
}

Test(json_split, items_that_end_before_the_middle)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    struct buf b = { 0 };
    int i;

    add(&b, "%.*s, \"extra\": [", (int)(strlen(body) - 3), body);
    for (i = 0; i < 30000; i++)
        add(&b, "%s%d", i == 0 ? "" : ", ", i);
    add(&b, "]}\n");
    put_both(b.s, 200, "\"revision\":1", false);
    free(b.s);
    free(body);
}

Test(json_split, an_array_at_the_top_level)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    struct buf b = { 0 };

    add(&b, "[%s]", body);
    put_both(b.s, 400, "must be an object", false);
    free(b.s);
    free(body);
}

Test(json_split, text_after_the_list)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    struct buf b = { 0 };

    add(&b, "%s ]", body);
    put_both(b.s, 400, "JSON syntax error", false);
    b.len = 0;
    add(&b, "%s {}", body);
    put_both(b.s, 400, "JSON syntax error", false);
    free(b.s);
    free(body);
}

/* Outside a jansson arena (api_docs_parse() on its own), the split gives
 * the tree the one-go parse gives and releases every value. */
Test(json_split, parsing_outside_an_arena)
{
    struct list_opts o = list_defaults();
    char *body;
    struct api_docs split, seq;
    struct np_error err;
    size_t before = atomic_load(&api_json_halves_parsed);

    o.tricky = true;
    o.nested_every = 5;
    body = list_body(&o);
    np_error_init(&err);
    api_json_halves_min_bytes = TEST_MIN_BYTES;
    cr_assert_eq(
        api_docs_parse(body, strlen(body), API_FORMAT_JSON, NULL, &split, &err),
        0, "%s", err.message);
    cr_assert_eq(atomic_load(&api_json_halves_parsed) - before, 1u);
    api_json_halves_min_bytes = SIZE_MAX;
    cr_assert_eq(
        api_docs_parse(body, strlen(body), API_FORMAT_JSON, NULL, &seq, &err),
        0, "%s", err.message);
    api_json_halves_min_bytes = ts.saved;
    cr_assert_eq(split.n, 1u);
    cr_assert_eq(seq.n, 1u);
    cr_assert_eq(split.line[0], seq.line[0]);
    cr_assert(json_equal(split.docs[0], seq.docs[0]));
    cr_assert_eq(json_array_size(json_object_get(split.docs[0], "items")),
                 (size_t)o.nitems);
    api_docs_fini(&split);
    api_docs_fini(&seq);
    /* An error in the second half, outside an arena too. */
    free(body);
    o.syntax_at = 201;
    body = list_body(&o);
    api_json_halves_min_bytes = TEST_MIN_BYTES;
    cr_assert_eq(
        api_docs_parse(body, strlen(body), API_FORMAT_JSON, NULL, &split, &err),
        -1);
    api_json_halves_min_bytes = ts.saved;
    cr_assert_eq(err.code, NP_E_SYNTAX);
    free(body);
}

/* --- the second half of the items decoded on the second thread --- */

/* PUTs (or POSTs) the List o gives to both contexts, as put_both(), and
 * asserts that the split context decoded the second half of its items on
 * the second thread, and whether that decode was absorbed (rather than
 * decoded again after the first half). Returns the answer. */
static char *
send_decoded(const char *method, const struct list_opts *o, int want,
             const char *text, bool absorbed)
{
    size_t parsed = atomic_load(&api_json_halves_parsed);
    size_t decoded = atomic_load(&api_json_halves_decoded);
    size_t taken = atomic_load(&api_json_halves_absorbed);
    char *body = list_body(o);
    char *answer;
    int status;

    cr_assert_gt(strlen(body), (size_t)TEST_MIN_BYTES);
    status = tsplit_both(&ts, method, "/state", body, &answer);
    cr_assert_eq(status, want, "%s", answer);
    if (text != NULL)
        cr_assert_not_null(strstr(answer, text), "no \"%s\" in %s", text,
                           answer);
    cr_assert_eq(atomic_load(&api_json_halves_parsed) - parsed, 1u);
    cr_assert_eq(atomic_load(&api_json_halves_decoded) - decoded, 1u);
    cr_assert_eq(atomic_load(&api_json_halves_absorbed) - taken,
                 absorbed ? 1u : 0u, "absorbed: %d", absorbed);
    free(body);
    tsplit_same_state(&ts);
    return answer;
}

static void
put_decoded(const struct list_opts *o, int want, const char *text,
            bool absorbed)
{
    free(send_decoded("PUT", o, want, text, absorbed));
}

/* Skipped kinds warn from both halves, in the order of the items, with
 * their index in the whole List. */
Test(json_split, the_second_half_decoded_and_absorbed)
{
    struct list_opts o = list_defaults();
    int at = item_after_split(&o);
    char *answer = send_decoded("PUT", &o, 200, NULL, true);
    const char *first =
        strstr(answer, "\"document 0 (items[9]): skipped Service "
                       "ns-3/pod-9 (kind not evaluated)\"");
    const char *second =
        strstr(answer, "\"document 0 (items[234]): skipped Service "
                       "ns-3/pod-234 (kind not evaluated)\"");

    cr_assert_lt(at, 234);
    cr_assert_not_null(first, "%s", answer);
    cr_assert_not_null(second, "%s", answer);
    cr_assert_lt(first, second);
    free(answer);
}

Test(json_split, a_typed_list_decoded_in_halves)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *typed = replace(body, "\"kind\": \"List\"", "\"kind\": \"PodList\"");
    size_t decoded = atomic_load(&api_json_halves_decoded);
    size_t taken = atomic_load(&api_json_halves_absorbed);

    put_both(typed, 200, "skipped Service ns-3/pod-234", true);
    cr_assert_eq(atomic_load(&api_json_halves_decoded) - decoded, 1u);
    cr_assert_eq(atomic_load(&api_json_halves_absorbed) - taken, 1u);
    free(typed);
    free(body);
}

/* An object that is not a List is decoded whole: its items are not read. */
Test(json_split, an_object_with_items_that_is_not_a_list)
{
    struct list_opts o = list_defaults();
    char *body = list_body(&o);
    char *pod = replace(body, "\"kind\": \"List\"", "\"kind\": \"ConfigMap\"");
    size_t decoded = atomic_load(&api_json_halves_decoded);

    put_both(pod, 200, "skipped ConfigMap", true);
    cr_assert_eq(atomic_load(&api_json_halves_decoded) - decoded, 0u);
    free(pod);
    free(body);
}

Test(json_split, an_invalid_object_in_the_decoded_second_half)
{
    struct list_opts o = list_defaults();

    o.bad_at = 200;
    put_decoded(&o, 400, "\"path\":\"items[200].metadata.labels", false);
    o.bad_at = 239;
    put_decoded(&o, 400, "\"path\":\"items[239].metadata.labels", false);
}

Test(json_split, a_duplicate_across_the_halves)
{
    struct list_opts o = list_defaults();

    /* A Pod, then a Namespace. */
    o.copy_at = 200;
    o.copy_of = 20;
    put_decoded(&o, 400, "items[200]", false);
    o.copy_at = 201;
    o.copy_of = 3;
    put_decoded(&o, 400, "items[201]", false);
}

Test(json_split, a_duplicate_within_the_second_half)
{
    struct list_opts o = list_defaults();

    o.copy_at = 210;
    o.copy_of = 200;
    put_decoded(&o, 400, "items[210]", false);
}

Test(json_split, max_objects_around_the_split)
{
    struct list_opts o = list_defaults();
    int at = item_after_split(&o);
    size_t max[] = { (size_t)at - 1,
                     (size_t)at,
                     (size_t)at + 1,
                     (size_t)at + 10,
                     239,
                     240,
                     241 };
    size_t i;

    for (i = 0; i < sizeof(max) / sizeof(max[0]); i++) {
        ts.split.cfg.limits.max_objects = max[i];
        ts.seq.cfg.limits.max_objects = max[i];
        put_decoded(&o, max[i] >= 240 ? 200 : 400,
                    max[i] >= 240 ? NULL : "max_objects",
                    max[i] >= (size_t)240);
    }
}

/* Each Pod names a port twice: the builder warns once a Pod, up to
 * NP_BUILDER_MAX_WARNINGS. */
Test(json_split, builder_warnings_up_to_their_limit)
{
    struct list_opts o = list_defaults();

    o.port_warnings = true;
    put_decoded(&o, 200, "(items[238]): Pod ns-237/pod-238: port name", true);
    /* About 1330 Pods: more warnings than the limit, the first half's
     * under it. */
    o.nitems = 2000;
    cr_assert_gt(o.nitems * 2 / 3, NP_BUILDER_MAX_WARNINGS);
    cr_assert_lt(o.nitems * 2 / 3 / 2, NP_BUILDER_MAX_WARNINGS);
    put_decoded(&o, 200, "port name", false);
    /* The first half's alone over it. */
    o.nitems = 3400;
    put_decoded(&o, 200, "port name", false);
}

Test(json_split, a_merge_over_the_state)
{
    struct list_opts o = list_defaults();

    put_decoded(&o, 200, NULL, true);
    /* New objects, and objects of the state uploaded again. */
    o.name_base = 120;
    o.port_warnings = true;
    free(send_decoded("POST", &o, 200, "port name", true));
    o.copy_at = 200;
    o.copy_of = 20;
    free(send_decoded("POST", &o, 400, "items[200]", false));
    o.copy_at = -1;
    o.bad_at = 230;
    free(send_decoded("POST", &o, 400, "items[230]", false));
}
