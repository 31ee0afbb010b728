/*
 * Durable saving of the state file: the write-temp, fsync, rename, fsync-
 * the-directory sequence, and reading the file back at start. What the
 * file says is api/statefile.c's; this file only moves bytes and makes them
 * stay. Saves are serialized by the state's writer lock (the persistence
 * hook runs under it), so one temporary name is enough.
 */
#include "server/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/file.h"
#include "server/log.h"

/* Bytes collected before each write(2). */
#define STORE_BUFSIZE 65536

/* The largest state file read at start. */
#define STORE_MAX_FILE ((size_t)1 << 34)

struct srv_store {
    char *path;
    char *tmp; /* path + ".tmp" */
    char *dir; /* the directory of path, for messages */
    int dirfd;
};

/* A buffered writer on the temporary file. */
struct sink {
    struct srv_store *st;
    int fd;
    size_t n;
    char buf[STORE_BUFSIZE];
};

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Fills err with "cannot save the state to PATH: what: strerror(errno)". */
static int
save_error(const struct srv_store *st, const char *what, struct np_error *err)
{
    return np_error_set(err, NP_E_INTERNAL,
                        "cannot save the state to %s: %s: %s; the change was "
                        "not applied",
                        st->path, what, strerror(errno));
}

static int
sink_flush(struct sink *s, struct np_error *err)
{
    if (write_all(s->fd, s->buf, s->n) != 0)
        return save_error(s->st, "write", err);
    s->n = 0;
    return 0;
}

/* api_write_fn */
static int
sink_write(void *arg, const char *buf, size_t len, struct np_error *err)
{
    struct sink *s = arg;

    if (len > sizeof(s->buf) - s->n) {
        if (sink_flush(s, err) != 0)
            return -1;
        if (len > sizeof(s->buf)) {
            if (write_all(s->fd, buf, len) != 0)
                return save_error(s->st, "write", err);
            return 0;
        }
    }
    memcpy(s->buf + s->n, buf, len);
    s->n += len;
    return 0;
}

static char *
concat(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    char *s = malloc(la + lb + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

/* Returns the directory part of path ("." when it has none). */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

struct srv_store *
srv_store_open(const char *path, struct np_error *err)
{
    struct srv_store *st;
    struct stat sb;
    int fd;

    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory");
        return NULL;
    }
    st->dirfd = -1;
    st->path = strdup(path);
    st->tmp = concat(path, ".tmp");
    st->dir = dir_of(path);
    if (st->path == NULL || st->tmp == NULL || st->dir == NULL) {
        np_error_set(err, NP_E_NOMEM, "out of memory");
        goto fail;
    }
    if (path[strlen(path) - 1] == '/') {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "state file %s: give a file, not a directory", path);
        goto fail;
    }
    st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "state file %s: cannot open its directory %s: %s", path,
                     st->dir, strerror(errno));
        goto fail;
    }
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "state file %s exists but is not a regular file", path);
        goto fail;
    }
    /* Find out now, not at the first upload, that the directory is not
     * writable. */
    fd = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        np_error_set(err, NP_E_INVALID_VALUE,
                     "state file %s: cannot create %s: %s", path, st->tmp,
                     strerror(errno));
        goto fail;
    }
    close(fd);
    unlink(st->tmp);
    return st;
fail:
    srv_store_close(st);
    return NULL;
}

int
srv_store_load(struct srv_store *st, struct api_ctx *ctx, struct np_error *err)
{
    char *data;
    size_t len;
    int rc;

    if (srv_file_read(st->path, STORE_MAX_FILE, &data, &len) != 0) {
        if (errno == ENOENT)
            return 0;
        return np_error_set(err, NP_E_INTERNAL, "cannot read state file %s: %s",
                            st->path, strerror(errno));
    }
    rc = api_statefile_restore(ctx, data, len, st->path, err);
    free(data);
    return rc == 0 ? 1 : -1;
}

int
srv_store_save(void *arg, const struct np_snapshot *snap, struct np_error *err)
{
    struct srv_store *st = arg;
    struct sink *s;
    int rc = -1;

    s = malloc(sizeof(*s));
    if (s == NULL)
        return np_error_set(err, NP_E_NOMEM,
                            "out of memory saving the state to %s", st->path);
    s->st = st;
    s->n = 0;
    s->fd = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s->fd < 0) {
        save_error(st, "create the temporary file", err);
        goto out;
    }
    if (api_statefile_write(snap, sink_write, s, err) != 0 ||
        sink_flush(s, err) != 0)
        goto out;
    /* The data must be on disk before the rename makes it the state file;
     * the rename must be on disk before the change is answered. */
    if (fsync(s->fd) != 0) {
        save_error(st, "fsync", err);
        goto out;
    }
    if (close(s->fd) != 0) {
        s->fd = -1;
        save_error(st, "close", err);
        goto out;
    }
    s->fd = -1;
    if (rename(st->tmp, st->path) != 0) {
        save_error(st, "rename", err);
        goto out;
    }
    if (fsync(st->dirfd) != 0) {
        /* The rename is done and other processes see the new file, but it
         * may not survive a power loss. Say both. */
        np_error_set(err, NP_E_INTERNAL,
                     "cannot save the state to %s: fsync of %s: %s; the "
                     "change was not applied, though the file may hold it",
                     st->path, st->dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (s->fd >= 0)
        close(s->fd);
    if (rc != 0) {
        unlink(st->tmp);
        log_warnx("%s", err->message);
    }
    free(s);
    return rc;
}

void
srv_store_close(struct srv_store *st)
{
    if (st == NULL)
        return;
    if (st->dirfd >= 0)
        close(st->dirfd);
    free(st->path);
    free(st->tmp);
    free(st->dir);
    free(st);
}
