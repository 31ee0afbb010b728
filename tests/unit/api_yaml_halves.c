/*
 * Large YAML streams are parsed as two halves at once (api/yaml.c). These
 * tests make streams over the threshold and check that the documents, their
 * stream indexes and their lines are those of the stream read in one go, and
 * that an error anywhere is reported where it is.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/internal.h"

#define NDOCS 20000

/* NDOCS documents of 4 lines each after a "---" line; every 7th document
 * is empty (index counted, nothing returned). With bad >= 0, document bad
 * has a syntax error on its third line. */
static char *
stream(int bad, size_t *len)
{
    size_t cap = (size_t)NDOCS * 160, n = 0;
    char *s = malloc(cap);
    int i;

    cr_assert_not_null(s);
    for (i = 0; i < NDOCS; i++) {
        if (i % 7 == 3) {
            n += (size_t)snprintf(s + n, cap - n, "---\n# empty %d\n\n\n\n", i);
            continue;
        }
        n += (size_t)snprintf(s + n, cap - n,
                              "---\nkind: Thing\nname: thing-%d\n%s\n"
                              "labels: {a: \"%d\", b: y}\n",
                              i, i == bad ? "x: [1, 2" : "x: [1, 2]", i);
    }
    *len = n;
    return s;
}

Test(yaml_halves, documents_indexes_and_lines_match_the_stream)
{
    struct api_limits lim = { 0 };
    struct api_docs docs;
    struct np_error err;
    size_t len, i, k = 0;
    char *s = stream(-1, &len);

    cr_assert_gt(len, (size_t)1 << 20, "the stream must be over 1 MiB");
    np_error_init(&err);
    cr_assert_eq(api_docs_parse(s, len, API_FORMAT_YAML, &lim, &docs, &err), 0,
                 "%s", err.message);
    for (i = 0; i < NDOCS; i++) {
        char name[32];
        json_t *d;

        if (i % 7 == 3)
            continue;
        cr_assert_lt(k, docs.n);
        d = docs.docs[k];
        snprintf(name, sizeof(name), "thing-%zu", i);
        cr_assert_eq(docs.index[k], (int)i, "document %zu", i);
        /* Each document takes 5 lines: its "---" and 4 more. */
        cr_assert_eq(docs.line[k], (int)(5 * i + 1), "document %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(d, "name")), name);
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(d, "labels"), "b")),
                         "y");
        k++;
    }
    cr_assert_eq(k, docs.n);
    api_docs_fini(&docs);
    free(s);
}

Test(yaml_halves, an_error_in_either_half_is_reported_where_it_is)
{
    const int bads[] = { 5, NDOCS - 6 }; /* not empty ones (i % 7 == 3) */
    size_t j;

    for (j = 0; j < sizeof(bads) / sizeof(bads[0]); j++) {
        struct api_limits lim = { 0 };
        struct api_docs docs;
        struct np_error err;
        size_t len;
        char *s = stream(bads[j], &len);

        np_error_init(&err);
        cr_assert_eq(api_docs_parse(s, len, API_FORMAT_YAML, &lim, &docs, &err),
                     -1);
        cr_assert_eq(err.code, NP_E_SYNTAX);
        cr_assert_eq(err.document, bads[j], "document %d, got %d: %s", bads[j],
                     err.document, err.message);
        /* The error is on the document's third or fourth line. */
        cr_assert_geq(err.line, 5 * bads[j] + 4, "%d: %s", err.line,
                      err.message);
        cr_assert_leq(err.line, 5 * bads[j] + 6, "%d: %s", err.line,
                      err.message);
        free(s);
    }
}

Test(yaml_halves, the_document_limit_counts_both_halves)
{
    struct api_limits lim = { .max_documents = 1000 };
    struct api_docs docs;
    struct np_error err;
    size_t len;
    char *s = stream(-1, &len);

    np_error_init(&err);
    cr_assert_eq(api_docs_parse(s, len, API_FORMAT_YAML, &lim, &docs, &err),
                 -1);
    cr_assert_eq(err.code, NP_E_LIMIT_EXCEEDED, "%s", err.message);
    free(s);
}

Test(yaml_halves, inside_an_upload_arena)
{
    struct api_limits lim = { 0 };
    struct api_jarena arena;
    struct api_docs docs;
    struct np_error err;
    size_t len;
    char *s = stream(-1, &len);

    api_jarena_init(&arena);
    api_jarena_enter(&arena);
    np_error_init(&err);
    cr_assert_eq(api_docs_parse(s, len, API_FORMAT_YAML, &lim, &docs, &err), 0,
                 "%s", err.message);
    cr_assert_gt(docs.n, (size_t)NDOCS / 2);
    api_docs_fini(&docs);
    api_jarena_leave();
    api_jarena_fini(&arena);
    free(s);
}
