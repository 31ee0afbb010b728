/*
 * The netpolq a suite under tests/api/ runs for its tests, and the
 * start/stop functions suites name as .init and .fini (Redis's
 * start_server, shared). Suites that need flags start tsuite_srv with
 * tsrv_start() themselves and still stop it here.
 *
 * Criterion 2.4 ignores failed assertions in .fini, so a suite whose .fini
 * is tsuite_stop() ends each test with tsuite_assert_exit_0(); tsuite_stop()
 * then only cleans up after a test that failed earlier.
 */
#ifndef TESTS_SUPPORT_SUITE_H
#define TESTS_SUPPORT_SUITE_H

#include "tests/support/server.h"

/* The suite's server: one per test process, as each test runs in its own. */
extern struct tsrv tsuite_srv;

/* Starts tsuite_srv without extra flags; fails the test unless it starts. */
void tsuite_start(void);

/* Stops tsuite_srv and asserts that it exited 0 on SIGTERM. */
void tsuite_assert_exit_0(void);

/* Stops tsuite_srv whatever its exit status. */
void tsuite_stop(void);

#endif
