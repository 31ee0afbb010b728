/*
 * The shared suite server. Its start and stop are tsrv_start() and
 * tsrv_stop() with the assertions every suite made for itself.
 */
#include "tests/support/suite.h"

#include <stddef.h>

#include <criterion/criterion.h>

struct tsrv tsuite_srv;

void
tsuite_start(void)
{
    cr_assert_eq(tsrv_start(&tsuite_srv, NULL), 0, "netpolq did not start");
}

void
tsuite_assert_exit_0(void)
{
    cr_assert_eq(tsrv_stop(&tsuite_srv), 0,
                 "netpolq did not exit 0 on SIGTERM");
}

void
tsuite_stop(void)
{
    tsrv_stop(&tsuite_srv);
}
