/*
 * The error-answer assertion shared by the suites under tests/api/.
 */
#include "tests/support/assert_json.h"

#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

void
tassert_json_error(const struct thttp_resp *r, long status, const char *code,
                   const char *path)
{
    json_t *error;
    const char *got;

    cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status,
                 status, r->body);
    cr_assert(strncmp(r->content_type, "application/json", 16) == 0,
              "Content-Type \"%s\" is not JSON", r->content_type);
    cr_assert_not_null(r->json, "the body is not JSON: %s", r->body);
    error = json_object_get(r->json, "error");
    got = json_string_value(json_object_get(error, "code"));
    cr_assert_not_null(got, "no error.code in %s", r->body);
    cr_assert(json_string_length(json_object_get(error, "message")) > 0,
              "no error.message in %s", r->body);
    if (code != NULL)
        cr_assert_str_eq(got, code, "code %s, want %s: %s", got, code, r->body);
    if (path != NULL) {
        const char *p = json_string_value(json_object_get(error, "path"));

        cr_assert(p != NULL && strcmp(p, path) == 0,
                  "error.path %s, want %s: %s", p != NULL ? p : "(none)", path,
                  r->body);
    }
}
