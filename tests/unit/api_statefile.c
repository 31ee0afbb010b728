/*
 * api/statefile.c in-process: a state written and restored is the same
 * state at the same revision, byte for byte when written again; every cut
 * and every changed byte of a state file is refused; and the persistence
 * hook of struct api_ctx runs once per change, before the change is
 * published, and cancels it when it fails.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "core/snapshot.h"
#include "tests/support/dispatch.h"

static struct api_ctx ctx;

static void
setup(void)
{
    tdisp_ctx_init(&ctx);
}

static void
teardown(void)
{
    api_ctx_fini(&ctx);
}

TestSuite(statefile, .init = setup, .fini = teardown);

static const char cluster[] =
    "apiVersion: v1\nkind: Namespace\n"
    "metadata: {name: shop, labels: {team: a}}\n---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: web, namespace: shop, labels: {app: web}}\n"
    "spec: {containers: [{name: c, ports: [{name: http, containerPort: "
    "80}]}]}\n"
    "status: {podIP: 10.0.0.1}\n---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: db, namespace: other, labels: {app: db}}\n"
    "status: {podIP: 10.0.0.2}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\n"
    "metadata: {name: api, namespace: shop}\n"
    "spec: {selector: {matchLabels: {app: api}}, template: {metadata: "
    "{labels: {app: api}}, spec: {containers: [{name: c}]}}}\n---\n"
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: shop}\n"
    "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: "
    "10.0.0.0/8, except: [10.0.0.2/32]}}], ports: [{port: http}]}]}\n";

/* Sends one request and returns its status. */
static int
call(struct api_ctx *c, const char *method, const char *path, const char *body)
{
    struct api_response resp;
    int status;

    tdisp_raw(c, method, path, NULL, 0,
              body != NULL ? "application/yaml" : NULL, body, &resp);
    status = resp.status;
    api_response_fini(&resp);
    return status;
}

static uint64_t
revision_of(struct api_ctx *c)
{
    struct np_snapshot *snap = np_state_acquire(&c->state);
    uint64_t rev = snap->revision;

    np_snapshot_release(snap);
    return rev;
}

/* An api_write_fn collecting the bytes. */
struct sink {
    char *data;
    size_t len;
};

static int
collect(void *arg, const char *buf, size_t len, struct np_error *err)
{
    struct sink *s = arg;
    char *data = realloc(s->data, s->len + len + 1);

    (void)err;
    cr_assert_not_null(data);
    memcpy(data + s->len, buf, len);
    s->data = data;
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

/* Writes the current state of c. */
static struct sink
write_state(struct api_ctx *c)
{
    struct sink s = { NULL, 0 };
    struct np_snapshot *snap = np_state_acquire(&c->state);
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(api_statefile_write(snap, collect, &s, &err), 0, "%s",
                 err.message);
    np_snapshot_release(snap);
    return s;
}

/* Restores data into a fresh context; returns restore's result. */
static int
restore(const char *data, size_t len, struct api_ctx *out, struct np_error *err)
{
    tdisp_ctx_init(out);
    np_error_init(err);
    return api_statefile_restore(out, data, len, "state.json", err);
}

Test(statefile, a_restored_state_is_the_same_state_at_the_same_revision)
{
    struct api_ctx back;
    struct np_error err;
    struct np_snapshot *a, *b;
    struct sink s1, s2;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    cr_assert_eq(call(&ctx, "DELETE", "/namespaces/other/pods/db", NULL), 200);
    cr_assert_eq(call(&ctx, "POST", "/state", cluster), 200);
    s1 = write_state(&ctx);
    cr_assert_eq(restore(s1.data, s1.len, &back, &err), 0, "%s", err.message);
    a = np_state_acquire(&ctx.state);
    b = np_state_acquire(&back.state);
    cr_assert_eq(b->revision, 3);
    cr_assert_eq(b->revision, a->revision);
    cr_assert_eq(b->nnamespaces, a->nnamespaces);
    cr_assert_eq(b->ndeclared_namespaces, a->ndeclared_namespaces);
    cr_assert_eq(b->npods, a->npods);
    cr_assert_eq(b->nworkloads, a->nworkloads);
    cr_assert_eq(b->npolicies, a->npolicies);
    cr_assert_not_null(np_snapshot_find_pod(b, "other", "db"));
    np_snapshot_release(a);
    np_snapshot_release(b);
    /* Written again, the restored state is the same bytes. */
    s2 = write_state(&back);
    cr_assert_eq(s2.len, s1.len);
    cr_assert_eq(memcmp(s1.data, s2.data, s1.len), 0, "%s\n---\n%s", s1.data,
                 s2.data);
    /* And it carries on counting. */
    cr_assert_eq(call(&back, "DELETE", "/namespaces/shop", NULL), 200);
    cr_assert_eq(revision_of(&back), 4);
    api_ctx_fini(&back);
    free(s1.data);
    free(s2.data);
}

Test(statefile, the_empty_state_round_trips)
{
    struct api_ctx back;
    struct np_error err;
    struct sink s;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    cr_assert_eq(call(&ctx, "DELETE", "/state", NULL), 200);
    s = write_state(&ctx);
    cr_assert_eq(restore(s.data, s.len, &back, &err), 0, "%s", err.message);
    cr_assert_eq(revision_of(&back), 2);
    api_ctx_fini(&back);
    free(s.data);
}

Test(statefile, every_cut_of_the_file_is_refused)
{
    struct sink s;
    size_t n;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    s = write_state(&ctx);
    for (n = 0; n < s.len; n++) {
        struct api_ctx back;
        struct np_error err;

        cr_assert_eq(restore(s.data, n, &back, &err), -1,
                     "a file cut to %zu of %zu bytes was restored", n, s.len);
        cr_assert_not_null(strstr(err.message, "state.json"), "%s",
                           err.message);
        cr_assert_eq(revision_of(&back), 0);
        api_ctx_fini(&back);
    }
    free(s.data);
}

Test(statefile, every_changed_byte_is_refused)
{
    struct sink s;
    size_t i;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    s = write_state(&ctx);
    for (i = 0; i < s.len; i++) {
        struct api_ctx back;
        struct np_error err;
        char saved = s.data[i];

        /* One bit, so that the byte stays text where it was text. */
        s.data[i] = (char)(saved ^ 0x01);
        cr_assert_eq(restore(s.data, s.len, &back, &err), -1,
                     "byte %zu changed from '%c' and the file was restored", i,
                     saved);
        cr_assert_not_null(strstr(err.message, "state.json"), "%s",
                           err.message);
        api_ctx_fini(&back);
        s.data[i] = saved;
    }
    free(s.data);
}

Test(statefile, restoring_needs_an_empty_state)
{
    struct np_error err;
    struct sink s;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    s = write_state(&ctx);
    np_error_init(&err);
    cr_assert_eq(api_statefile_restore(&ctx, s.data, s.len, "state.json", &err),
                 -1);
    cr_assert_eq(revision_of(&ctx), 1);
    free(s.data);
}

/* A persistence hook that records what it saw. */
struct seen {
    int calls;
    uint64_t revision;  /* of the snapshot it was given */
    uint64_t published; /* of the state published at the time */
    bool fail;
};

static int
hook(void *arg, const struct np_snapshot *snap, struct np_error *err)
{
    struct seen *s = arg;

    s->calls++;
    s->revision = snap->revision;
    s->published = revision_of(&ctx);
    if (s->fail)
        return np_error_set(err, NP_E_INTERNAL,
                            "cannot save the state to /x: disk full");
    return 0;
}

Test(statefile, the_hook_runs_once_per_change_before_it_is_published)
{
    struct seen s = { 0 };

    ctx.persist = hook;
    ctx.persist_arg = &s;
    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.revision, 1);
    cr_assert_eq(s.published, 0, "published before it was saved");
    cr_assert_eq(call(&ctx, "DELETE", "/namespaces/shop/pods/web", NULL), 200);
    cr_assert_eq(s.calls, 2);
    cr_assert_eq(s.revision, 2);
    cr_assert_eq(s.published, 1);
    /* Reads and failed uploads save nothing. */
    cr_assert_eq(call(&ctx, "GET", "/state", NULL), 200);
    cr_assert_eq(call(&ctx, "PUT", "/state", "kind: Pod\nmetadata: {}\n"), 400);
    cr_assert_eq(s.calls, 2);
}

Test(statefile, a_failing_hook_cancels_the_change_with_500)
{
    struct seen s = { 0 };
    struct api_request req;
    struct api_response resp;
    json_t *answer;

    ctx.persist = hook;
    ctx.persist_arg = &s;
    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    s.fail = true;
    memset(&req, 0, sizeof(req));
    req.method = "DELETE";
    req.path = "/state";
    api_dispatch(&ctx, &req, &resp);
    cr_assert_eq(resp.status, 500, "%s", resp.body);
    answer = json_loads(resp.body, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(answer, "error"), "code")),
                     "internal_error");
    cr_assert_not_null(strstr(resp.body, "disk full"), "%s", resp.body);
    json_decref(answer);
    api_response_fini(&resp);
    cr_assert_eq(call(&ctx, "POST", "/state", cluster), 500);
    cr_assert_eq(revision_of(&ctx), 1);
    s.fail = false;
    cr_assert_eq(call(&ctx, "DELETE", "/state", NULL), 200);
    cr_assert_eq(revision_of(&ctx), 2);
}

Test(statefile, start_up_loads_are_saved_and_merge_over_a_restored_state)
{
    static const char more[] =
        "apiVersion: v1\nkind: Pod\n"
        "metadata: {name: web, namespace: shop, labels: {app: web2}}\n"
        "status: {podIP: 10.0.0.9}\n";
    struct api_file f = { .name = "more.yaml",
                          .data = more,
                          .len = sizeof(more) - 1 };
    struct api_ctx back;
    struct np_error err;
    struct seen s = { 0 };
    struct np_snapshot *snap;
    struct sink data;

    cr_assert_eq(call(&ctx, "PUT", "/state", cluster), 200);
    data = write_state(&ctx);
    cr_assert_eq(restore(data.data, data.len, &back, &err), 0, "%s",
                 err.message);
    back.persist = hook;
    back.persist_arg = &s;
    /* hook() reads ctx's revision; only the call count matters here. */
    cr_assert_eq(api_load_files(&back, &f, 1, &err), 0, "%s", err.message);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.revision, 2);
    snap = np_state_acquire(&back.state);
    cr_assert_eq(snap->revision, 2);
    cr_assert_not_null(np_snapshot_find_pod(snap, "other", "db"));
    cr_assert_not_null(
        np_snapshot_find_workload(snap, "shop", "Deployment", "api"));
    cr_assert_eq(snap->npolicies, 1);
    np_snapshot_release(snap);
    api_ctx_fini(&back);
    free(data.data);
}
