/*
 * np_builder_absorb(): moving the objects and warnings of one builder into
 * another gives the builder the same adds one after the other would have
 * given: the same objects, warnings in order, and the duplicate the adds
 * would have met first with the same message and path. A failure changes
 * neither builder.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/builder.h"
#include "core/error.h"
#include "core/snapshot.h"
#include "tests/support/fixtures.h"

TestSuite(absorb, .fini = fx_fini);

static void
absorb_ok(struct np_builder *dst, struct np_builder *src)
{
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(np_builder_absorb(dst, src, &err), 0, "%s", err.message);
    cr_assert_not(np_error_is_set(&err));
}

static void
expect_counts(const struct np_builder *b, size_t nns, size_t npods,
              size_t npols)
{
    cr_assert_eq(np_builder_count(b, NP_KIND_NAMESPACE), nns);
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), npods);
    cr_assert_eq(np_builder_count(b, NP_KIND_POLICY), npols);
}

Test(absorb, an_empty_source_changes_nothing)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_snapshot *s;

    fx_ns(dst, "prod", "team=a");
    fx_pod(dst, "prod/web", "app=web", "10.0.0.1");
    absorb_ok(dst, src);
    expect_counts(dst, 1, 1, 0);
    expect_counts(src, 0, 0, 0);
    np_builder_free(src);
    s = fx_build(dst);
    cr_assert_not_null(np_snapshot_find_pod(s, "prod", "web"));
    np_snapshot_release(s);
}

Test(absorb, every_object_moves_and_outlives_the_source)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_snapshot *s;

    fx_ns(dst, "prod", "team=a");
    fx_pod(dst, "prod/web", "app=web", "10.0.0.1");
    fx_pod(dst, "prod/cache", "app=cache", "10.0.0.3");
    fx_ns(src, "dev", "team=b");
    fx_pod(src, "dev/db", "app=db", "10.0.0.2");
    fx_policy(src, "prod/allow-db",
              "podSelector: app=web; "
              "ingress: [{from: [ns(team=b) pod(app=db)], ports: [80/TCP]}]");
    absorb_ok(dst, src);
    expect_counts(dst, 2, 3, 1);
    expect_counts(src, 0, 0, 0);
    /* The models live on in dst's arena once src is gone. */
    np_builder_free(src);
    s = fx_build(dst);
    cr_assert_eq(s->npods, 3);
    cr_assert_eq(s->npolicies, 1);
    cr_assert_not_null(np_snapshot_find_pod(s, "dev", "db"));
    cr_assert_not_null(np_snapshot_find_namespace(s, "dev"));
    cr_assert(fx_allowed(s, "dev/db", "prod/web", "80"));
    cr_assert_not(fx_allowed(s, "prod/cache", "prod/web", "80"));
    np_snapshot_release(s);
}

Test(absorb, into_an_empty_builder)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_snapshot *s;

    fx_pod(src, "prod/web", "app=web", "10.0.0.1");
    absorb_ok(dst, src);
    np_builder_free(src);
    expect_counts(dst, 0, 1, 0);
    s = fx_build(dst);
    cr_assert_not_null(np_snapshot_find_pod(s, "prod", "web"));
    np_snapshot_release(s);
}

struct dup_case {
    char first[16]; /* kind of src's first object dst also has */
    char second[16];
};

/* The duplicate reported is the one src's adds made first, whatever its
 * kind, with the message and path np_builder_add_*() gives for it. */
Test(absorb, the_first_duplicate_in_order_of_adds_is_reported)
{
    static const struct dup_case cases[] = {
        { "pod", "policy" },
        { "policy", "pod" },
        { "ns", "pod" },
        { "policy", "ns" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dup_case *c = &cases[i];
        struct np_builder *dst = fx_builder();
        struct np_builder *src = fx_builder();
        struct np_builder *seq = fx_builder();
        struct np_error err, want;
        const char *kinds[2] = { c->first, c->second };
        size_t k;

        /* dst and seq hold the same objects; src adds a fresh one, then the
         * two that clash, then another fresh one. */
        fx_ns(dst, "prod", "");
        fx_pod(dst, "prod/web", "app=web", "10.0.0.1");
        fx_policy(dst, "prod/deny", "");
        fx_ns(seq, "prod", "");
        fx_pod(seq, "prod/web", "app=web", "10.0.0.1");
        fx_policy(seq, "prod/deny", "");
        fx_pod(src, "prod/new-1", "", "10.0.0.5");
        cr_assert_eq(fx_try_pod(seq, "prod/new-1", "ips: 10.0.0.5", &want), 0);
        np_error_init(&want);
        for (k = 0; k < 2; k++) {
            const char *ref = strcmp(kinds[k], "ns") == 0    ? "prod"
                              : strcmp(kinds[k], "pod") == 0 ? "prod/web"
                                                             : "prod/deny";
            struct np_error e;

            cr_assert_eq(fx_try_add(src, kinds[k], ref, "", &e), 0, "%s",
                         e.message);
            /* The same adds made on seq: the first one fails. */
            if (!np_error_is_set(&want))
                cr_assert_eq(fx_try_add(seq, kinds[k], ref, "", &want), -1);
        }
        fx_pod(src, "prod/new-2", "", "10.0.0.6");

        np_error_init(&err);
        cr_assert_eq(np_builder_absorb(dst, src, &err), -1, "case %zu", i);
        cr_assert_eq(err.code, NP_E_DUPLICATE_OBJECT);
        cr_assert_eq(err.code, want.code);
        cr_assert_str_eq(err.message, want.message, "case %zu", i);
        cr_assert_str_eq(err.path, want.path);
        cr_assert_str_eq(err.path, "metadata.name");
        /* Neither builder changed. */
        expect_counts(dst, 1, 1, 1);
        cr_assert_eq(
            np_builder_count(src, NP_KIND_POD),
            strcmp(c->first, "pod") == 0 || strcmp(c->second, "pod") == 0 ? 3
                                                                          : 2);
        np_builder_free(dst);
        np_builder_free(src);
        np_builder_free(seq);
    }
}

Test(absorb, workloads_clash_by_kind_and_name)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_model_workload w = {
        .namespace_ = "prod",
        .kind = "Deployment",
        .name = "web",
    };
    struct np_model_workload other = w;
    struct np_error err;

    other.kind = "StatefulSet";
    np_error_init(&err);
    cr_assert_eq(np_builder_add_workload(dst, &w, &err), 0, "%s", err.message);
    cr_assert_eq(np_builder_add_workload(src, &other, &err), 0, "%s",
                 err.message);
    absorb_ok(dst, src);
    cr_assert_eq(np_builder_count(dst, NP_KIND_WORKLOAD), 2);
    np_builder_free(src);

    src = fx_builder();
    cr_assert_eq(np_builder_add_workload(src, &w, &err), 0, "%s", err.message);
    cr_assert_eq(np_builder_absorb(dst, src, &err), -1);
    cr_assert_eq(err.code, NP_E_DUPLICATE_OBJECT);
    cr_assert_str_eq(err.message,
                     "workload prod/Deployment/web appears twice in this "
                     "upload");
    cr_assert_str_eq(err.path, "metadata.name");
    np_builder_free(src);
    np_builder_free(dst);
}

Test(absorb, absorbed_objects_are_duplicates_for_later_adds)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_error err;

    fx_pod(src, "prod/web", "app=web", "10.0.0.1");
    fx_ns(src, "prod", "");
    absorb_ok(dst, src);
    np_builder_free(src);
    cr_assert_eq(fx_try_pod(dst, "prod/web", "", &err), -1);
    cr_assert_str_eq(err.message, "Pod prod/web appears twice in this upload");
    cr_assert_eq(fx_try_ns(dst, "prod", "", &err), -1);
    cr_assert_str_eq(err.message,
                     "Namespace prod appears twice in this upload");
    cr_assert_eq(fx_try_pod(dst, "prod/web-2", "", &err), 0, "%s", err.message);
    expect_counts(dst, 1, 2, 0);
    np_builder_free(dst);
}

Test(absorb, a_removed_object_is_no_duplicate)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_snapshot *s;

    fx_pod(dst, "prod/web", "app=old", "10.0.0.1");
    cr_assert(np_builder_remove(dst, NP_KIND_POD, "prod", "web"));
    fx_pod(src, "prod/web", "app=new", "10.0.0.2");
    /* Removed in src: not moved. */
    fx_pod(src, "prod/gone", "", "10.0.0.3");
    cr_assert(np_builder_remove(src, NP_KIND_POD, "prod", "gone"));
    absorb_ok(dst, src);
    np_builder_free(src);
    expect_counts(dst, 0, 1, 0);
    s = fx_build(dst);
    cr_assert_eq(s->npods, 1);
    cr_assert_null(np_snapshot_find_pod(s, "prod", "gone"));
    cr_assert_not_null(np_snapshot_find_pod(s, "prod", "web"));
    np_snapshot_release(s);
}

/* A pod with two ports of one name: one warning naming the pod. */
static void
warn_pod(struct np_builder *b, const char *ref)
{
    fx_pod_ports(b, ref, "", NULL, "http:80,http:81");
}

Test(absorb, warnings_follow_in_order)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();

    warn_pod(dst, "prod/a");
    warn_pod(src, "prod/b");
    warn_pod(src, "prod/c");
    cr_assert_eq(np_builder_nwarnings(dst), 1);
    cr_assert_eq(np_builder_nwarnings(src), 2);
    absorb_ok(dst, src);
    np_builder_free(src);
    cr_assert_eq(np_builder_nwarnings(dst), 3);
    cr_assert_not_null(strstr(np_builder_warning(dst, 0), "prod/a"));
    cr_assert_not_null(strstr(np_builder_warning(dst, 1), "prod/b"));
    cr_assert_not_null(strstr(np_builder_warning(dst, 2), "prod/c"));
    warn_pod(dst, "prod/d");
    cr_assert_eq(np_builder_nwarnings(dst), 4);
    cr_assert_not_null(strstr(np_builder_warning(dst, 3), "prod/d"));
    np_builder_free(dst);
}

Test(absorb, warnings_stop_at_the_limit)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    char ref[32];
    int i;

    for (i = 0; i < NP_BUILDER_MAX_WARNINGS - 2; i++) {
        snprintf(ref, sizeof(ref), "prod/a-%d", i);
        warn_pod(dst, ref);
    }
    for (i = 0; i < 5; i++) {
        snprintf(ref, sizeof(ref), "prod/b-%d", i);
        warn_pod(src, ref);
    }
    absorb_ok(dst, src);
    np_builder_free(src);
    cr_assert_eq(np_builder_nwarnings(dst), NP_BUILDER_MAX_WARNINGS);
    cr_assert_not_null(strstr(
        np_builder_warning(dst, NP_BUILDER_MAX_WARNINGS - 1), "prod/b-1"));
    cr_assert_eq(np_builder_count(dst, NP_KIND_POD),
                 (size_t)NP_BUILDER_MAX_WARNINGS - 2 + 5);
    np_builder_free(dst);
}

Test(absorb, many_objects_grow_the_tables)
{
    struct np_builder *dst = fx_builder();
    struct np_builder *src = fx_builder();
    struct np_snapshot *s;
    struct np_error err;
    char ref[32];
    int i;

    for (i = 0; i < 300; i++) {
        snprintf(ref, sizeof(ref), "prod/a-%d", i);
        fx_pod(dst, ref, "", NULL);
    }
    for (i = 0; i < 3000; i++) {
        snprintf(ref, sizeof(ref), "prod/b-%d", i);
        fx_pod(src, ref, "", NULL);
    }
    absorb_ok(dst, src);
    np_builder_free(src);
    cr_assert_eq(np_builder_count(dst, NP_KIND_POD), 3300);
    for (i = 0; i < 3000; i += 7) {
        snprintf(ref, sizeof(ref), "prod/b-%d", i);
        cr_assert_eq(fx_try_pod(dst, ref, "", &err), -1, "%s", ref);
    }
    s = fx_build(dst);
    cr_assert_eq(s->npods, 3300);
    cr_assert_not_null(np_snapshot_find_pod(s, "prod", "b-2999"));
    np_snapshot_release(s);
}
