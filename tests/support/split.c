#include "tests/support/split.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/support/dispatch.h"

void
tsplit_init(struct tsplit *t, size_t *threshold, size_t lowered,
            const char *content_type)
{
    t->threshold = threshold;
    t->saved = *threshold;
    t->lowered = lowered;
    t->content_type = content_type;
    tdisp_ctx_init(&t->split);
    tdisp_ctx_init(&t->seq);
}

void
tsplit_fini(struct tsplit *t)
{
    *t->threshold = t->saved;
    api_ctx_fini(&t->split);
    api_ctx_fini(&t->seq);
}

int
tsplit_both(struct tsplit *t, const char *method, const char *path,
            const char *body, char **answer)
{
    struct api_response split, seq;
    const char *ct = body != NULL ? t->content_type : NULL;
    int status;

    *t->threshold = t->lowered;
    tdisp_raw(&t->split, method, path, NULL, 0, ct, body, &split);
    *t->threshold = SIZE_MAX;
    tdisp_raw(&t->seq, method, path, NULL, 0, ct, body, &seq);
    *t->threshold = t->saved;
    cr_assert_not_null(split.body, "%s %s: no body", method, path);
    cr_assert_not_null(seq.body);
    cr_assert_eq(split.status, seq.status, "%s %s: %d, in one go %d: %.300s",
                 method, path, split.status, seq.status, split.body);
    cr_assert(split.body_len == seq.body_len &&
                  memcmp(split.body, seq.body, seq.body_len) == 0,
              "%s %s answers\n%.600s\nbut in one go\n%.600s", method, path,
              split.body, seq.body);
    status = split.status;
    if (answer != NULL) {
        *answer = strdup(split.body);
        cr_assert_not_null(*answer);
    }
    api_response_fini(&split);
    api_response_fini(&seq);
    return status;
}

void
tsplit_same_state(struct tsplit *t)
{
    static const char *const paths[] = {
        "/state", "/namespaces", "/pods", "/networkpolicies", "/workloads",
    };
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        cr_assert_eq(tsplit_both(t, "GET", paths[i], NULL, NULL), 200, "%s",
                     paths[i]);
}
