/*
 * Whole-file reads for the suites. The file is read in chunks rather than
 * sized with fseek/ftell, so a pipe or a file that grows still reads to its
 * end.
 */
#include "tests/support/testdata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

char *
tdata_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    size_t n = 0;
    size_t got;

    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    do {
        if (cap - n < 4096) {
            cap = cap != 0 ? cap * 2 : 65536;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf, "out of memory reading %s", path);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    cr_assert(!ferror(f), "cannot read %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

char *
tdata_manifest(const char *name, size_t *len)
{
    char path[512];
    int n = snprintf(path, sizeof(path), "%s/manifests/%s", NETPOLQ_TEST_DATA,
                     name);

    cr_assert(n > 0 && (size_t)n < sizeof(path), "path too long: %s", name);
    return tdata_read(path, len);
}
