/*
 * Large YAML uploads are parsed and decoded as two halves on two threads
 * (api_manifest_decode_body()). Every upload here is over 1 MiB and is sent
 * twice, in-process: once as the server sends it (split) and once with
 * api_yaml_halves_min_bytes at SIZE_MAX (the whole stream in one go, on one
 * thread). The answers, status and body byte for byte, and the state left
 * behind must be the same, whether the upload succeeds or meets an error in
 * the first half, the second, a duplicate across the halves, a syntax
 * error, the object limit or the warning limit.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/internal.h"
#include "tests/support/bigyaml.h"
#include "tests/support/split.h"

static struct tsplit ts;

static void
setup(void)
{
    tsplit_init(&ts, &api_yaml_halves_min_bytes, api_yaml_halves_min_bytes,
                "application/yaml");
}

static void
teardown(void)
{
    tsplit_fini(&ts);
}

TestSuite(upload_split, .init = setup, .fini = teardown);

/* PUTs the stream o describes to both contexts and compares the answers
 * and the states; asserts the status is want and that the answer holds
 * text (may be NULL). */
static void
put_both(const struct tbig_opts *o, int want, const char *text)
{
    size_t len;
    char *body = tbig_stream(o, &len, NULL);
    char *answer;
    int status;

    cr_assert_gt(len, (size_t)1 << 20, "the stream must be over 1 MiB");
    status = tsplit_both(&ts, "PUT", "/state", body, &answer);
    cr_assert_eq(status, want, "%s", answer);
    if (text != NULL)
        cr_assert_not_null(strstr(answer, text), "no \"%s\" in %s", text,
                           answer);
    free(answer);
    free(body);
    tsplit_same_state(&ts);
}

Test(upload_split, a_clean_upload_with_warnings)
{
    struct tbig_opts o = tbig_defaults();

    o.warn_every = 13;
    /* Skipped Services, host bits in ipBlocks and repeated port names, from
     * both halves, in document order. */
    put_both(&o, 200, "document 5952: skipped Service ns-119/svc-5952");
    put_both(&o, 200, "port name \\\"http\\\" is used more than once");
}

Test(upload_split, an_error_in_the_first_half)
{
    struct tbig_opts o = tbig_defaults();

    o.bad_label = 1005;
    put_both(&o, 400, "\"document\":1005");
}

Test(upload_split, an_error_in_the_second_half)
{
    struct tbig_opts o = tbig_defaults();

    o.bad_label = 4505;
    put_both(&o, 400, "\"document\":4505");
}

Test(upload_split, errors_in_both_halves_report_the_first)
{
    struct tbig_opts o = tbig_defaults();

    o.bad_label = 1005;
    o.bad_label2 = 4505;
    put_both(&o, 400, "\"document\":1005");
}

Test(upload_split, a_duplicate_across_the_halves)
{
    struct tbig_opts o = tbig_defaults();

    o.dup = 4510;
    o.dup_of = 1010;
    put_both(&o, 400, "Pod ns-20/pod-1010 appears twice in this upload");
}

Test(upload_split, a_duplicate_list_item_across_the_halves)
{
    struct tbig_opts o = tbig_defaults();

    o.list_dup = 4503;
    o.dup_of = 1010;
    put_both(&o, 400, "\"path\":\"items[1].metadata.name\"");
}

Test(upload_split, a_duplicate_namespace_across_the_halves)
{
    struct tbig_opts o = tbig_defaults();

    o.dup_ns = 4520;
    o.dup_of = 1000;
    put_both(&o, 400, "Namespace ns-20 appears twice in this upload");
}

Test(upload_split, a_duplicate_before_an_error_in_the_second_half)
{
    struct tbig_opts o = tbig_defaults();

    o.dup = 4510;
    o.dup_of = 1010;
    o.bad_label = 5005;
    put_both(&o, 400, "\"document\":4510");
}

Test(upload_split, an_error_before_a_duplicate_in_the_second_half)
{
    struct tbig_opts o = tbig_defaults();

    o.bad_label = 4505;
    o.dup = 5010;
    o.dup_of = 1010;
    put_both(&o, 400, "\"document\":4505");
}

Test(upload_split, a_duplicate_inside_the_second_half)
{
    struct tbig_opts o = tbig_defaults();

    o.dup = 5010;
    o.dup_of = 4510;
    put_both(&o, 400, "\"document\":5010");
}

Test(upload_split, a_syntax_error_in_the_second_half)
{
    struct tbig_opts o = tbig_defaults();

    o.syntax = 4505;
    put_both(&o, 400, "\"code\":\"syntax_error\"");
}

Test(upload_split, a_syntax_error_wins_over_an_earlier_invalid_object)
{
    struct tbig_opts o = tbig_defaults();

    o.bad_label = 1005;
    o.syntax = 4505;
    put_both(&o, 400, "\"code\":\"syntax_error\"");
}

Test(upload_split, warnings_beyond_the_limit)
{
    struct tbig_opts o = tbig_defaults();

    /* Over a thousand repeated port names, half of them in each half: the
     * builder keeps the first thousand, and only those are reported. */
    o.warn_every = 3;
    put_both(&o, 200, "port name");
}

Test(upload_split, the_object_limit_counts_both_halves)
{
    struct tbig_opts o = tbig_defaults();
    size_t len, n;
    const size_t limits[] = { 0, 1, 2, 3, 4, 5 };
    char *body = tbig_stream(&o, &len, &n);
    size_t i;

    free(body);
    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        /* The total, one under it, a limit in the second half, one in the
         * first, and right at the cut. */
        size_t max = limits[i] == 0   ? n
                     : limits[i] == 1 ? n - 1
                     : limits[i] == 2 ? n * 3 / 4
                     : limits[i] == 3 ? n / 4
                     : limits[i] == 4 ? n / 2
                                      : n / 2 + 1;

        ts.split.cfg.limits.max_objects = max;
        ts.seq.cfg.limits.max_objects = max;
        put_both(&o, i == 0 ? 200 : 400, i == 0 ? NULL : "max_objects");
    }
}

Test(upload_split, a_merge_over_the_state)
{
    struct tbig_opts o = tbig_defaults();
    size_t len;
    char *body;

    put_both(&o, 200, NULL);
    o.warn_every = 7;
    body = tbig_stream(&o, &len, NULL);
    cr_assert_eq(tsplit_both(&ts, "POST", "/state", body, NULL), 200);
    free(body);
    tsplit_same_state(&ts);
    o.dup = 4510;
    o.dup_of = 1010;
    body = tbig_stream(&o, &len, NULL);
    cr_assert_eq(tsplit_both(&ts, "POST", "/state", body, NULL), 400);
    free(body);
    tsplit_same_state(&ts);
}

/* A document whose aliases expand to about 90000 nodes from 1100 written:
 * under the alias limit's floor of 100000 alone, over it twice, where the
 * ratio (10 nodes expanded per node written) no longer holds. */
static void
add_alias_doc(char **p, int k)
{
    int i;

    *p += sprintf(*p,
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: al%d, "
                  "namespace: default}\nlist: &l [",
                  k);
    for (i = 0; i < 1000; i++)
        *p += sprintf(*p, "%s%d", i > 0 ? ", " : "", i);
    *p += sprintf(*p, "]\ncopies: [");
    for (i = 0; i < 90; i++)
        *p += sprintf(*p, "%s*l", i > 0 ? ", " : "");
    *p += sprintf(*p, "]\n");
}

/* The alias limit counts over the whole stream, so one heavy document in
 * each half adds up to an error the stream in one go reports. */
Test(upload_split, the_alias_limit_counts_both_halves)
{
    char *body = malloc(4 << 20), *p = body, *answer;
    int i;

    cr_assert_not_null(body);
    add_alias_doc(&p, 0);
    for (i = 0; i < 120; i++) {
        p += sprintf(p,
                     "---\napiVersion: v1\nkind: ConfigMap\nmetadata: "
                     "{name: pad%d, namespace: default}\ndata: {pad: \"",
                     i);
        memset(p, 'x', 10000);
        p += 10000;
        p += sprintf(p, "\"}\n");
    }
    p += sprintf(p, "---\n");
    add_alias_doc(&p, 1);
    cr_assert_gt((size_t)(p - body), (size_t)1 << 20);
    cr_assert_eq(tsplit_both(&ts, "PUT", "/state", body, &answer), 400, "%s",
                 answer);
    cr_assert_not_null(strstr(answer, "alias expansion limit"), "%s", answer);
    free(answer);
    free(body);
    tsplit_same_state(&ts);
}
