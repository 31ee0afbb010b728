/*
 * Queries while the state changes underneath them. Reader threads, each
 * with its own keep-alive curl handle, ask one fixed question (single POST,
 * GET and batches) while a writer thread replaces the state ~200 times,
 * alternating between cluster A (the answer is allowed) and cluster B
 * (denied). Every answer must be a 200 from a revision some upload
 * returned, with the verdict of that revision's cluster, and every item of
 * a batch must come from the batch's revision: no failed, mixed or torn
 * answers. A second test has two writers merge objects concurrently and
 * checks that no upload loses another's objects.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <curl/curl.h>
#include <jansson.h>

#include "tests/support/http.h"
#include "tests/support/keepalive.h"
#include "tests/support/server.h"
#include "tests/support/suite.h"

#define NREADERS   4
#define NUPLOADS   200
#define MAX_READS  200000 /* per reader: a bound, not a target */
#define BATCH_SIZE 16

TestSuite(concurrency, .init = tsuite_start, .fini = tsuite_assert_exit_0);

/* A: no policy, client reaches server. B: the same pods and a policy that
 * isolates server for ingress and admits nothing. */
static const char pods[] =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: server, namespace: a, labels: {app: server}}\n"
    "spec: {containers: [{name: c, ports: [{name: http, "
    "containerPort: 80}]}]}\n"
    "status: {podIP: 10.5.0.10}\n---\n"
    "apiVersion: v1\nkind: Pod\n"
    "metadata: {name: client, namespace: a, labels: {app: client}}\n"
    "spec: {containers: [{name: c}]}\n"
    "status: {podIP: 10.5.0.11}\n";

static const char deny[] =
    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: deny, namespace: a}\n"
    "spec: {podSelector: {matchLabels: {app: server}}}\n";

static const char query[] =
    "{\"from\":{\"namespace\":\"a\",\"pod\":\"client\"},"
    "\"to\":{\"namespace\":\"a\",\"pod\":\"server\"},\"port\":80}";

enum { CLUSTER_NONE, CLUSTER_A, CLUSTER_B };

/* Pods that only make each upload take longer, so that queries overlap
 * with the building and publishing of new snapshots. */
#define NFILLER 150

static char *cluster_a;
static char *cluster_b;

static char *
make_cluster(bool with_deny)
{
    size_t cap = sizeof(pods) + sizeof(deny) + NFILLER * 160;
    char *s = malloc(cap);
    size_t len;
    int i;

    cr_assert_not_null(s);
    len = (size_t)snprintf(s, cap, "%s", pods);
    for (i = 0; i < NFILLER; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "---\napiVersion: v1\nkind: Pod\n"
                                "metadata: {name: filler-%d, namespace: f, "
                                "labels: {app: filler}}\n"
                                "spec: {containers: [{name: c}]}\n"
                                "status: {podIP: 10.6.%d.%d}\n",
                                i, i / 200, i % 200 + 1);
    if (with_deny)
        len += (size_t)snprintf(s + len, cap - len, "%s", deny);
    cr_assert_lt(len, cap);
    return s;
}

/* What the writer learned from its uploads: revision -> cluster. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static int cluster_of[NUPLOADS + 16];
static long last_revision;
static atomic_bool writer_done;
static char writer_error[512];

/* One answer a reader saw. */
struct seen {
    long revision;
    bool allowed;
    char kind; /* 'P' POST, 'G' GET, 'B' batch item */
};

struct reader {
    pthread_t thread;
    int id;
    struct seen *seen;
    size_t nseen;
    size_t cap;
    size_t requests;
    size_t failures;
    char failure[512]; /* the first failure */
};

static void
fail(struct reader *rd, const char *fmt, const char *a, const char *b)
{
    if (rd->failures++ == 0)
        snprintf(rd->failure, sizeof(rd->failure), fmt, a, b);
}

static void
record(struct reader *rd, json_t *answer, char kind)
{
    json_t *rev = json_object_get(answer, "revision");
    json_t *allowed = json_object_get(answer, "allowed");

    if (!json_is_integer(rev) || !json_is_boolean(allowed)) {
        char *text = json_dumps(answer, JSON_COMPACT);

        fail(rd, "answer without revision or allowed: %.300s%s", text, "");
        free(text);
        return;
    }
    if (rd->nseen == rd->cap) {
        rd->cap = rd->cap * 2 + 1024;
        rd->seen = realloc(rd->seen, rd->cap * sizeof(*rd->seen));
        if (rd->seen == NULL)
            abort();
    }
    rd->seen[rd->nseen].revision = (long)json_integer_value(rev);
    rd->seen[rd->nseen].allowed = json_is_true(allowed);
    rd->seen[rd->nseen].kind = kind;
    rd->nseen++;
}

static void *
read_loop(void *arg)
{
    struct reader *rd = arg;
    struct tka_client c;
    char batch[BATCH_SIZE * (sizeof(query) + 1) + 32];
    size_t blen, i;

    if (tka_init(&c, tsuite_srv.base) != 0) {
        fail(rd, "curl_easy_init failed%s%s", "", "");
        return NULL;
    }
    blen = (size_t)snprintf(batch, sizeof(batch), "{\"queries\":[");
    for (i = 0; i < BATCH_SIZE; i++)
        blen += (size_t)snprintf(batch + blen, sizeof(batch) - blen, "%s%s",
                                 i > 0 ? "," : "", query);
    blen += (size_t)snprintf(batch + blen, sizeof(batch) - blen, "]}");

    /* Stop once the writer is done: every reader runs during the uploads
     * and then ends on its own, bounded by MAX_READS. */
    while (!atomic_load(&writer_done) && rd->requests < MAX_READS) {
        char why[512] = "";
        int kind = (int)((rd->requests + (size_t)rd->id) % 3);
        long status = 0;
        json_t *a;

        rd->requests++;
        if (kind == 0)
            a = tka_send(&c, "POST", "/reachability", "application/json", query,
                         sizeof(query) - 1, &status, why, sizeof(why));
        else if (kind == 1)
            a = tka_send(&c, "GET",
                         "/reachability?from=a/client&to=a/server&port=80",
                         NULL, NULL, 0, &status, why, sizeof(why));
        else
            a = tka_send(&c, "POST", "/reachability/batch", "application/json",
                         batch, blen, &status, why, sizeof(why));
        if (a == NULL) {
            fail(rd, "%s%s", why, "");
            continue;
        }
        if (status != 200) {
            char *text = json_dumps(a, JSON_COMPACT);

            fail(rd, "status not 200: %.300s%s", text, "");
            free(text);
        } else if (kind != 2) {
            record(rd, a, kind == 0 ? 'P' : 'G');
        } else {
            json_t *results = json_object_get(a, "results");
            json_t *rev = json_object_get(a, "revision");
            json_t *item;

            if (json_array_size(results) != BATCH_SIZE)
                fail(rd, "a batch answered %s results%s", "the wrong number of",
                     "");
            json_array_foreach(results, i, item)
            {
                /* One snapshot per batch: no item from another revision. */
                if (!json_equal(json_object_get(item, "revision"), rev))
                    fail(rd,
                         "batch item from another revision than the "
                         "batch's%s%s",
                         "", "");
                record(rd, item, 'B');
            }
        }
        json_decref(a);
    }
    tka_fini(&c);
    return NULL;
}

static void *
write_loop(void *arg)
{
    struct thttp_resp r;
    int i;

    (void)arg;

    for (i = 0; i < NUPLOADS; i++) {
        int which = i % 2 == 0 ? CLUSTER_B : CLUSTER_A;
        const char *body = which == CLUSTER_A ? cluster_a : cluster_b;
        size_t len = strlen(body);
        long rev;

        if (thttp_request(tsuite_srv.base, "PUT", "/state", "application/yaml",
                          body, len, &r) != 0 ||
            r.status != 200) {
            snprintf(writer_error, sizeof(writer_error),
                     "upload %d: %ld %.300s", i, r.status,
                     r.body != NULL ? r.body : "");
            thttp_resp_fini(&r);
            break;
        }
        rev = (long)json_integer_value(json_object_get(r.json, "revision"));
        thttp_resp_fini(&r);
        pthread_mutex_lock(&table_lock);
        if (rev <= 0 ||
            rev >= (long)(sizeof(cluster_of) / sizeof(cluster_of[0])) ||
            rev <= last_revision) {
            snprintf(writer_error, sizeof(writer_error),
                     "upload %d answered revision %ld after %ld", i, rev,
                     last_revision);
            pthread_mutex_unlock(&table_lock);
            break;
        }
        cluster_of[rev] = which;
        last_revision = rev;
        pthread_mutex_unlock(&table_lock);
    }
    atomic_store(&writer_done, true);
    return NULL;
}

Test(concurrency, queries_during_uploads_answer_from_a_published_revision,
     .timeout = 300)
{
    struct reader readers[NREADERS];
    pthread_t writer;
    struct thttp_resp r;
    size_t total = 0, i, j;
    size_t wrong = 0, unknown = 0;
    bool saw[3] = { false, false, false };
    long rev0;

    cluster_a = make_cluster(false);
    cluster_b = make_cluster(true);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* The state exists before the readers start: revision 1 is A. */
    cr_assert_eq(thttp_request(tsuite_srv.base, "PUT", "/state",
                               "application/yaml", cluster_a, strlen(cluster_a),
                               &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    rev0 = (long)json_integer_value(json_object_get(r.json, "revision"));
    thttp_resp_fini(&r);
    cr_assert(rev0 > 0 && rev0 < 8, "revision %ld", rev0);
    cluster_of[rev0] = CLUSTER_A;
    last_revision = rev0;
    atomic_init(&writer_done, false);

    memset(readers, 0, sizeof(readers));
    for (i = 0; i < NREADERS; i++) {
        readers[i].id = (int)i;
        cr_assert_eq(
            pthread_create(&readers[i].thread, NULL, read_loop, &readers[i]),
            0);
    }
    cr_assert_eq(pthread_create(&writer, NULL, write_loop, NULL), 0);
    pthread_join(writer, NULL);
    for (i = 0; i < NREADERS; i++)
        pthread_join(readers[i].thread, NULL);
    free(cluster_a);
    free(cluster_b);

    cr_assert_eq(writer_error[0], '\0', "writer: %s", writer_error);
    cr_expect_eq(last_revision, rev0 + NUPLOADS, "last revision %ld",
                 last_revision);
    for (i = 0; i < NREADERS; i++) {
        struct reader *rd = &readers[i];

        cr_expect_eq(rd->failures, 0, "reader %zu: %zu failures, first: %s", i,
                     rd->failures, rd->failure);
        cr_expect_gt(rd->requests, 0, "reader %zu sent nothing", i);
        for (j = 0; j < rd->nseen; j++) {
            const struct seen *s = &rd->seen[j];
            int which = s->revision > 0 && s->revision <= last_revision
                            ? cluster_of[s->revision]
                            : CLUSTER_NONE;

            total++;
            if (which == CLUSTER_NONE) {
                if (unknown++ < 5)
                    cr_log_error("reader %zu: %c answer from revision %ld, "
                                 "which no upload returned",
                                 i, s->kind, s->revision);
                continue;
            }
            saw[which] = true;
            if (s->allowed != (which == CLUSTER_A) && wrong++ < 5)
                cr_log_error("reader %zu: %c answer from revision %ld "
                             "(cluster %c) says %s",
                             i, s->kind, s->revision,
                             which == CLUSTER_A ? 'A' : 'B',
                             s->allowed ? "allowed" : "denied");
        }
        free(rd->seen);
    }
    cr_log_info("%zu answers checked over %ld revisions", total, last_revision);
    cr_expect_eq(unknown, 0, "%zu answers from unknown revisions", unknown);
    cr_expect_eq(wrong, 0, "%zu answers with the other cluster's verdict",
                 wrong);
    cr_expect(saw[CLUSTER_A] && saw[CLUSTER_B],
              "the readers never saw both clusters (%zu answers)", total);
    curl_global_cleanup();
}

/* Two writers merge disjoint namespaces with POST /state at the same
 * time. */
#define MERGES 60

static void *
merge_loop(void *arg)
{
    int w = *(int *)arg;
    int i;

    for (i = 0; i < MERGES; i++) {
        char body[160];
        struct thttp_resp r;

        snprintf(body, sizeof(body),
                 "apiVersion: v1\nkind: Namespace\nmetadata: {name: w%d-%d}\n",
                 w, i);
        if (thttp_request(tsuite_srv.base, "POST", "/state", "application/yaml",
                          body, strlen(body), &r) != 0 ||
            r.status != 200) {
            pthread_mutex_lock(&table_lock);
            snprintf(writer_error, sizeof(writer_error), "writer %d: %ld %s", w,
                     r.status, r.body != NULL ? r.body : "");
            pthread_mutex_unlock(&table_lock);
        }
        thttp_resp_fini(&r);
    }
    return NULL;
}

Test(concurrency, concurrent_merges_lose_no_objects, .timeout = 120)
{
    pthread_t t[2];
    int ids[2] = { 0, 1 };
    struct thttp_resp r;
    int i;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, merge_loop, &ids[i]), 0);
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(writer_error[0], '\0', "%s", writer_error);
    cr_assert_eq(thttp_get(tsuite_srv.base, "/state", &r), 0);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "namespaces")),
                 2 * MERGES, "%s", r.body);
    cr_expect_eq(json_integer_value(json_object_get(r.json, "revision")),
                 2 * MERGES, "%s", r.body);
    thttp_resp_fini(&r);
    curl_global_cleanup();
}
