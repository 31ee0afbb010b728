/*
 * The netpolq executable: read the settings, load the start-up manifests,
 * listen, print the readiness line, serve until SIGINT or SIGTERM. The
 * order matters: a bad manifest fails the start before the port is bound,
 * so nothing ever answers from a half-loaded state.
 *
 * Exit status: 0 after a signal, 1 when starting fails (unreadable or
 * invalid manifests, a damaged state file, the address is in use), 2 for
 * bad options.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/error.h"
#include "core/snapshot.h"
#include "server/config.h"
#include "server/http.h"
#include "server/log.h"
#include "server/signals.h"
#include "server/store.h"

#define EXIT_USAGE 2

/* The manifests of every --load, read into memory in order. */
struct loads {
    struct api_file *files; /* names and data owned through the casts below */
    size_t nfiles;
    size_t cap;
};

static void
loads_fini(struct loads *l)
{
    size_t i;

    for (i = 0; i < l->nfiles; i++) {
        free((char *)l->files[i].name);
        free((char *)l->files[i].data);
    }
    free(l->files);
    memset(l, 0, sizeof(*l));
}

/* Reads the whole file at path into a new buffer. Returns 0, or -1 with
 * errno set. */
static int
read_file(const char *path, char **data, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    size_t cap = 0;
    int fd;
    int saved;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t r;

        if (n == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 65536;
            char *nbuf;

            if (ncap < cap) {
                errno = EFBIG;
                goto fail;
            }
            nbuf = realloc(buf, ncap);
            if (nbuf == NULL)
                goto fail;
            buf = nbuf;
            cap = ncap;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
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

static int
add_file(struct loads *l, const char *path)
{
    struct api_file *f;
    char *data;
    size_t len;
    char *name;

    if (read_file(path, &data, &len) != 0) {
        log_err("cannot read %s", path);
        return -1;
    }
    name = strdup(path);
    if (name == NULL)
        goto nomem;
    if (l->nfiles == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 8;

        f = realloc(l->files, cap * sizeof(*f));
        if (f == NULL)
            goto nomem;
        l->files = f;
        l->cap = cap;
    }
    f = &l->files[l->nfiles++];
    f->name = name;
    f->data = data;
    f->len = len;
    return 0;
nomem:
    free(name);
    free(data);
    log_errx("out of memory reading %s", path);
    return -1;
}

static bool
is_manifest_name(const char *name)
{
    static const char *const exts[] = { ".yaml", ".yml", ".json" };
    size_t len = strlen(name);
    size_t i;

    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t elen = strlen(exts[i]);

        if (len > elen && strcmp(name + len - elen, exts[i]) == 0)
            return true;
    }
    return false;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.yaml, *.yml and *.json regular file of dir (symbolic links
 * followed, as in a mounted ConfigMap; subdirectories skipped) in byte
 * order of their names, like kubectl apply -f DIR. */
static int
add_dir(struct loads *l, const char *dir)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t nnames = 0;
    size_t cap = 0;
    size_t i;
    int rc = -1;

    d = opendir(dir);
    if (d == NULL) {
        log_err("cannot open %s", dir);
        return -1;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL)
            break;
        if (!is_manifest_name(de->d_name))
            continue;
        if (nnames == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 16;
            char **n = realloc(names, ncap * sizeof(*n));

            if (n == NULL)
                goto nomem;
            names = n;
            cap = ncap;
        }
        names[nnames] = strdup(de->d_name);
        if (names[nnames] == NULL)
            goto nomem;
        nnames++;
    }
    if (errno != 0) {
        log_err("cannot list %s", dir);
        goto out;
    }
    if (nnames == 0)
        log_warnx("%s has no *.yaml, *.yml or *.json files", dir);
    qsort(names, nnames, sizeof(*names), compare_names);
    for (i = 0; i < nnames; i++) {
        char path[4096];
        struct stat st;
        int n;

        n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            log_errx("%s/%s: path too long", dir, names[i]);
            goto out;
        }
        if (stat(path, &st) != 0) {
            log_err("cannot read %s", path);
            goto out;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        if (add_file(l, path) != 0)
            goto out;
    }
    rc = 0;
    goto out;
nomem:
    log_errx("out of memory listing %s", dir);
out:
    for (i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

static int
read_loads(const struct srv_config *cfg, struct loads *l)
{
    size_t i;

    for (i = 0; i < cfg->nloads; i++) {
        struct stat st;
        const char *path = cfg->loads[i];

        if (stat(path, &st) != 0) {
            log_err("cannot load %s", path);
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (add_dir(l, path) != 0)
                return -1;
        } else if (add_file(l, path) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Prints a --load error with everything the api layer found out: the
 * message (which names the file), then the document, line and field
 * path. */
static void
print_load_error(const struct np_error *err)
{
    char where[320] = "";
    size_t off = 0;
    int n;

    if (err->document >= 0) {
        n = snprintf(where + off, sizeof(where) - off, ", document %d",
                     err->document);
        if (n > 0 && (size_t)n < sizeof(where) - off)
            off += (size_t)n;
    }
    if (err->line > 0) {
        n = snprintf(where + off, sizeof(where) - off, ", line %d", err->line);
        if (n > 0 && (size_t)n < sizeof(where) - off)
            off += (size_t)n;
    }
    if (err->path[0] != '\0') {
        n = snprintf(where + off, sizeof(where) - off, ", at %s", err->path);
        if (n > 0 && (size_t)n < sizeof(where) - off)
            off += (size_t)n;
    }
    log_errx("cannot load manifests: %s (%s%s)", err->message,
             np_errc_name(err->code), where);
}

static uint64_t
current_revision(struct api_ctx *ctx)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    uint64_t rev = snap->revision;

    np_snapshot_release(snap);
    return rev;
}

int
main(int argc, char *argv[])
{
    struct srv_config cfg;
    struct api_config acfg;
    struct api_ctx ctx;
    struct loads loads;
    struct srv_http *http;
    struct srv_store *store = NULL;
    struct np_error err;
    char addr[INET6_ADDRSTRLEN + 16];
    int status = EXIT_FAILURE;
    bool ctx_ok = false;

    memset(&loads, 0, sizeof(loads));
    srv_config_init(&cfg);
    np_error_init(&err);
    if (srv_config_parse(&cfg, argc, argv, &err) != 0) {
        log_errx("%s", err.message);
        fprintf(stderr, "Try 'netpolq --help' for more information.\n");
        status = EXIT_USAGE;
        goto out;
    }
    if (cfg.action == SRV_ACTION_HELP) {
        srv_config_usage(stdout);
        status = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    if (cfg.action == SRV_ACTION_VERSION) {
        printf("netpolq %s\n", NETPOLQ_VERSION);
        status = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        goto out;
    }
    log_init(cfg.log_format, cfg.log_level);
    log_info("starting netpolq %s (pid %ld)", NETPOLQ_VERSION, (long)getpid());
    api_config_defaults(&acfg);
    acfg.ipblock_matches_pods = cfg.ipblock_matches_pods;
    acfg.limits.max_body = cfg.max_body;
    acfg.cors_origins = (const char *const *)cfg.cors_origins;
    acfg.ncors_origins = cfg.ncors_origins;
    acfg.limits.max_objects = cfg.max_objects;
    acfg.limits.max_depth = cfg.max_depth;
    acfg.limits.max_string = cfg.max_string;
    acfg.limits.max_documents = cfg.max_documents;
    acfg.limits.max_batch = cfg.max_batch;
    acfg.limits.max_matrix_pods = cfg.max_matrix_pods;
    if (api_ctx_init(&ctx, &acfg, &err) != 0) {
        log_errx("cannot start: %s", err.message);
        goto out;
    }
    ctx_ok = true;

    /* The saved state first, then --load on top of it; from here on every
     * change, the --load one included, is saved before it counts. */
    if (cfg.state_file != NULL) {
        int restored;

        store = srv_store_open(cfg.state_file, &err);
        if (store == NULL) {
            log_errx("cannot start: %s", err.message);
            goto out;
        }
        restored = srv_store_load(store, &ctx, &err);
        if (restored < 0) {
            log_errx("cannot start: %s", err.message);
            goto out;
        }
        if (restored == 0)
            log_info("no state file at %s yet: starting empty", cfg.state_file);
        else
            log_info("restored revision %llu from %s",
                     (unsigned long long)current_revision(&ctx),
                     cfg.state_file);
        ctx.persist = srv_store_save;
        ctx.persist_arg = store;
    }

    if (read_loads(&cfg, &loads) != 0)
        goto out;
    if (loads.nfiles > 0 &&
        api_load_files(&ctx, loads.files, loads.nfiles, &err) != 0) {
        print_load_error(&err);
        goto out;
    }
    if (loads.nfiles > 0) {
        struct np_snapshot *snap = np_state_acquire(&ctx.state);

        log_info("loaded %zu file%s: revision %llu, %u namespaces, %u pods, "
                 "%u network policies",
                 loads.nfiles, loads.nfiles == 1 ? "" : "s",
                 (unsigned long long)snap->revision, snap->nnamespaces,
                 snap->npods, snap->npolicies);
        np_snapshot_release(snap);
    }
    loads_fini(&loads);
    atomic_store(&ctx.ready, true);

    /* Before the pool starts, so that every thread inherits the mask and
     * only sigwait() in this thread sees SIGINT and SIGTERM. */
    if (srv_signals_block() != 0) {
        log_err("cannot block signals");
        goto out;
    }
    http = srv_http_start(&cfg, &ctx, &err);
    if (http == NULL) {
        log_errx("%s", err.message);
        goto out;
    }
    srv_config_format_addr((const struct sockaddr *)&cfg.addr,
                           srv_http_port(http), addr, sizeof(addr));
    /* Whatever --log-level says: other programs wait for this line. */
    log_note("listening on %s://%s (revision %llu, threads %u, %s%s)",
             srv_http_scheme(http), addr,
             (unsigned long long)current_revision(&ctx), cfg.threads,
             srv_http_mode(http),
             !srv_http_auth_on(http)       ? ""
             : cfg.auth == SRV_AUTH_WRITES ? ", tokens for writes"
                                           : ", tokens for all calls");
    srv_signals_serve(http);
    log_info("stopped");
    status = EXIT_SUCCESS;
out:
    loads_fini(&loads);
    if (ctx_ok)
        api_ctx_fini(&ctx);
    srv_store_close(store);
    srv_config_fini(&cfg);
    return status;
}
