/*
 * Whole-file reads with a size bound, and wiping secrets from memory. No
 * parsing happens here; the callers know what the bytes mean.
 */
#include "server/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read(2) without EINTR. */
static ssize_t
read_some(int fd, char *buf, size_t n)
{
    ssize_t r;

    do
        r = read(fd, buf, n);
    while (r < 0 && errno == EINTR);
    return r;
}

int
srv_file_read(const char *path, size_t max, char **data, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    size_t cap;
    ssize_t r;
    int fd;
    int saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    /* The size is a hint (the file may change while it is read): a buffer
     * of the right size, plus one byte for the NUL. */
    cap = 4096;
    if (st.st_size > 0 && (uint64_t)st.st_size <= max)
        cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (buf == NULL)
        goto fail;
    for (;;) {
        if (n + 1 == cap) {
            char probe;
            char *nbuf;

            /* Full: read one byte before growing, so that a file of
             * exactly the expected size is never copied. */
            r = read_some(fd, &probe, 1);
            if (r < 0)
                goto fail;
            if (r == 0)
                break;
            if (n >= max || cap > SIZE_MAX / 2) {
                errno = EFBIG;
                goto fail;
            }
            nbuf = realloc(buf, cap * 2);
            if (nbuf == NULL)
                goto fail;
            buf = nbuf;
            cap *= 2;
            buf[n++] = probe;
            continue;
        }
        r = read_some(fd, buf + n, cap - n - 1);
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            errno = EFBIG;
            goto fail;
        }
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
fail:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return -1;
}

void
srv_file_wipe_free(char *p, size_t n)
{
    volatile char *v = p;
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < n; i++)
        v[i] = 0;
    free(p);
}
