/*
 * Large YAML uploads to the binary, which parses and decodes them as two
 * halves on two threads, answer byte for byte what the same uploads answer
 * in-process with the whole stream read in one go
 * (api_yaml_halves_min_bytes at SIZE_MAX), and leave the same state: a
 * clean upload with warnings, errors in either half, a duplicate across the
 * halves, more warnings than the builder keeps, and a merge.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "api/api.h"
#include "api/internal.h"
#include "tests/support/bigyaml.h"
#include "tests/support/dispatch.h"
#include "tests/support/http.h"
#include "tests/support/suite.h"

TestSuite(upload_split, .init = tsuite_start, .fini = tsuite_stop);

/* Sends the request to the server and, in one go, to ref; asserts the same
 * status and body. Returns the status. */
static int
same_answer(struct api_ctx *ref, const char *method, const char *path,
            const char *body)
{
    const char *ct = body != NULL ? "application/yaml" : NULL;
    struct thttp_resp got;
    struct api_response want;
    int status;

    cr_assert_eq(thttp_request(tsuite_srv.base, method, path, ct, body,
                               body != NULL ? strlen(body) : 0, &got),
                 0, "%s %s: no answer", method, path);
    api_yaml_halves_min_bytes = SIZE_MAX;
    tdisp_raw(ref, method, path, NULL, 0, ct, body, &want);
    cr_assert_not_null(want.body);
    cr_assert_eq(got.status, want.status, "%s %s: %ld, in one go %d: %.300s",
                 method, path, got.status, want.status, got.body);
    cr_assert(got.len == want.body_len &&
                  memcmp(got.body, want.body, want.body_len) == 0,
              "%s %s answers\n%.600s\nbut in one go\n%.600s", method, path,
              got.body, want.body);
    status = want.status;
    api_response_fini(&want);
    thttp_resp_fini(&got);
    return status;
}

static void
same_state(struct api_ctx *ref)
{
    static const char *const paths[] = {
        "/state", "/namespaces", "/pods", "/networkpolicies", "/workloads",
    };
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        cr_assert_eq(same_answer(ref, "GET", paths[i], NULL), 200, "%s",
                     paths[i]);
}

static void
upload(struct api_ctx *ref, const char *method, const struct tbig_opts *o,
       int want)
{
    size_t len;
    char *body = tbig_stream(o, &len, NULL);

    cr_assert_gt(len, (size_t)1 << 20, "the stream must be over 1 MiB");
    cr_assert_eq(same_answer(ref, method, "/state", body), want);
    free(body);
    same_state(ref);
}

Test(upload_split, answers_as_the_stream_read_in_one_go)
{
    struct api_ctx ref;
    struct tbig_opts o = tbig_defaults();

    tdisp_ctx_init(&ref);
    o.warn_every = 13;
    upload(&ref, "PUT", &o, 200);

    /* Each error leaves the state as it was. */
    o = tbig_defaults();
    o.bad_label = 1005;
    upload(&ref, "PUT", &o, 400);
    o.bad_label = 4505;
    upload(&ref, "PUT", &o, 400);
    o = tbig_defaults();
    o.dup = 4510;
    o.dup_of = 1010;
    upload(&ref, "PUT", &o, 400);
    o = tbig_defaults();
    o.list_dup = 4503;
    o.dup_of = 1010;
    o.bad_label = 5005;
    upload(&ref, "PUT", &o, 400);
    o = tbig_defaults();
    o.syntax = 4505;
    upload(&ref, "PUT", &o, 400);

    o = tbig_defaults();
    o.warn_every = 3;
    upload(&ref, "PUT", &o, 200);
    o.warn_every = 0;
    upload(&ref, "POST", &o, 200);
    api_ctx_fini(&ref);
    tsuite_assert_exit_0();
}
