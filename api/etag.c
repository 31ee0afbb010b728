/*
 * ETag and If-None-Match (RFC 9110, sections 8.8.3 and 13.1.2) for the
 * answers of GET and HEAD, so that a dashboard polling a listing pays for a
 * body only when the state changed.
 *
 * An answer derived from the state depends on nothing but the revision and
 * the request, so its validator is the revision: W/"r<revision>-<process>".
 * The process part, random per process, keeps a revision number that a
 * restarted server reuses for a different state from matching an old tag.
 * /openapi.yaml is compiled in and tagged with a hash of its bytes. Answers
 * that are about the process rather than the state (/healthz, /readyz,
 * /metrics) carry no tag, and neither does any route not listed here: a
 * new route is uncached until someone decides what its answer depends on.
 *
 * The handler runs even when the tag will match: a 304 is only right for a
 * request whose answer is a 200, and only the handler knows that.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "core/snapshot.h"

enum tag_kind {
    TAG_NONE,
    TAG_REVISION, /* W/"r<revision>-<process>" */
    TAG_CONTENT,  /* "<hash of the bytes>" */
};

static pthread_once_t tag_once = PTHREAD_ONCE_INIT;
static uint32_t process_tag;
static char openapi_tag[24];

static uint64_t
fnv1a(const char *p, size_t len)
{
    uint64_t h = 14695981039346656037u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211u;
    }
    return h;
}

static void
tags_init(void)
{
    struct timespec ts;
    FILE *fp;

    clock_gettime(CLOCK_REALTIME, &ts);
    process_tag =
        (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 12) ^ ((long)getpid() << 20));
    fp = fopen("/dev/urandom", "rb");
    if (fp != NULL) {
        uint32_t r;

        if (fread(&r, sizeof(r), 1, fp) == 1)
            process_tag ^= r;
        fclose(fp);
    }
    snprintf(openapi_tag, sizeof(openapi_tag), "\"%016llx\"",
             (unsigned long long)fnv1a(api_openapi_text, api_openapi_len));
}

static enum tag_kind
tag_kind(api_handler_fn *handler)
{
    /* The answers of these routes are functions of the revision and the
     * request alone. */
    static api_handler_fn *const by_revision[] = {
        api_state_get,      api_namespaces_list, api_namespace_get,
        api_pods_list,      api_pod_get,         api_policies_list,
        api_policy_get,     api_reach_get,       api_isolation_get,
        api_workloads_list, api_workload_get,    api_workload_isolation_get,
    };
    size_t i;

    if (handler == api_openapi)
        return TAG_CONTENT;
    for (i = 0; i < sizeof(by_revision) / sizeof(by_revision[0]); i++)
        if (handler == by_revision[i])
            return TAG_REVISION;
    return TAG_NONE;
}

static bool
is_get(const struct api_request *req)
{
    return req->method != NULL && (strcmp(req->method, "GET") == 0 ||
                                   strcmp(req->method, "HEAD") == 0);
}

static uint64_t
current_revision(struct api_ctx *ctx)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    uint64_t rev = snap->revision;

    np_snapshot_release(snap);
    return rev;
}

/* Returns true when the If-None-Match value header lists tag or is "*",
 * comparing weakly: W/"x" and "x" match (RFC 9110, section 8.8.3.2). A
 * malformed list matches nothing, so the full answer is sent. */
static bool
none_match(const char *header, const char *tag)
{
    const char *ours = strchr(tag, '"');
    size_t ourlen = strlen(ours);
    const char *p = header;

    for (;;) {
        const char *end;

        p += strspn(p, " \t,");
        if (*p == '\0')
            return false;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return false;
        end = strchr(p + 1, '"');
        if (end == NULL)
            return false;
        if ((size_t)(end - p + 1) == ourlen && memcmp(p, ours, ourlen) == 0)
            return true;
        p = end + 1;
    }
}

uint64_t
api_etag_begin(struct api_ctx *ctx, const struct api_request *req,
               api_handler_fn *handler)
{
    if (!is_get(req) || tag_kind(handler) != TAG_REVISION)
        return 0;
    return current_revision(ctx);
}

void
api_etag_apply(struct api_ctx *ctx, const struct api_request *req,
               api_handler_fn *handler, uint64_t before,
               struct api_response *resp)
{
    enum tag_kind kind = tag_kind(handler);

    if (kind == TAG_NONE || resp->status != 200 || !is_get(req))
        return;
    pthread_once(&tag_once, tags_init);
    if (kind == TAG_CONTENT) {
        snprintf(resp->etag, sizeof(resp->etag), "%s", openapi_tag);
    } else {
        /* Revisions only grow: the same revision before and after means
         * the handler read that one. */
        if (current_revision(ctx) != before)
            return;
        snprintf(resp->etag, sizeof(resp->etag), "W/\"r%llu-%08x\"",
                 (unsigned long long)before, (unsigned)process_tag);
    }
    if (req->if_none_match == NULL ||
        !none_match(req->if_none_match, resp->etag))
        return;
    /* 304 Not Modified: the same headers, no body (RFC 9110, 15.4.5). */
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->content_type = NULL;
    resp->status = 304;
}
