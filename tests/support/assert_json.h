/*
 * Assertions on answers of the real binary that the API contract fixes
 * (CONTRACT.md): the shape of {"error": {...}} bodies. What a route answers
 * when it succeeds stays with the suite of that route.
 */
#ifndef TESTS_SUPPORT_ASSERT_JSON_H
#define TESTS_SUPPORT_ASSERT_JSON_H

#include "tests/support/http.h"

/* Asserts that r answered status with Content-Type application/json and a
 * body {"error": {"code", "message", ...}} whose message is not empty; and,
 * unless they are NULL, that error.code is code and error.path is path.
 * The body is quoted in every failure. */
void tassert_json_error(const struct thttp_resp *r, long status,
                        const char *code, const char *path);

#endif
