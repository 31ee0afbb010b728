/*
 * Start-up loads (--load FILE...): every file is decoded into one builder and
 * published as one new revision, exactly as a PUT /state of all the files
 * would be (a POST /state over a restored state file). An object defined in
 * two files is therefore a duplicate, and an error in any file loads
 * nothing. Warnings (skipped kinds) are dropped: there is no answer to carry
 * them.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "core/builder.h"
#include "core/error.h"
#include "core/snapshot.h"

/* Returns the format a file's name implies: .json is JSON, anything else
 * (.yaml, .yml, no extension) YAML. */
static enum api_format
file_format(const char *name)
{
    size_t len = name == NULL ? 0 : strlen(name);

    if (len >= 5 && strcasecmp(name + len - 5, ".json") == 0)
        return API_FORMAT_JSON;
    return API_FORMAT_YAML;
}

/* Prefixes err->message with "NAME: ", cutting the end if it gets too
 * long. */
static void
name_file(struct np_error *err, const char *name)
{
    char buf[sizeof(err->message)];

    if (snprintf(buf, sizeof(buf), "%s: %s", name == NULL ? "(unnamed)" : name,
                 err->message) < 0)
        return;
    memcpy(err->message, buf, sizeof(buf));
}

int
api_load_files(struct api_ctx *ctx, const struct api_file *files, size_t nfiles,
               struct np_error *err)
{
    struct np_builder *b;
    struct np_snapshot *base;
    struct np_snapshot *snap;
    const struct api_file *f;
    size_t i;
    int line, column;
    int rc = -1;

    b = np_builder_new();
    if (b == NULL)
        return np_error_set(err, NP_E_NOMEM, "out of memory");
    for (i = 0; i < nfiles; i++) {
        f = &files[i];
        if (f->len > 0 &&
            api_manifest_decode_body(b, f->data, f->len, file_format(f->name),
                                     &ctx->cfg.limits, NULL, err) != 0) {
            if (err->document >= 0 && err->line == 0) {
                line = 0;
                column = 0;
                api_locate(f->data, f->len, err->document, err->path, &line,
                           &column);
                err->line = line;
                err->column = column;
            }
            name_file(err, f->name);
            goto out;
        }
    }

    /* Over a restored state file the files replace same-named objects and
     * keep the others; over the empty start-up state this is PUT /state. */
    np_state_writer_lock(&ctx->state);
    base = np_state_acquire(&ctx->state);
    snap = NULL;
    if (np_builder_keep_from(b, base, err) == 0)
        snap = np_builder_build(b, base->revision + 1, err);
    if (snap != NULL && api_statefile_persist(ctx, snap, err) != 0) {
        np_snapshot_release(snap);
        snap = NULL;
    }
    if (snap != NULL)
        np_state_publish(&ctx->state, snap);
    np_state_writer_unlock(&ctx->state);
    np_snapshot_release(base);
    if (snap != NULL)
        rc = 0;
out:
    np_builder_free(b);
    return rc;
}
