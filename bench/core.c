/*
 * bench_core: netpolq's figures measured in-process, without HTTP.
 *
 *   load     api_load_files() of a generated cluster: time and RSS.
 *   latency  api_dispatch() of POST /reachability for random pod pairs,
 *            timed one by one: p50, p99, p99.9, max. --untraced asks
 *            for "trace": false (the verdict alone). --cold KIB writes
 *            KIB KiB of other memory before each query, untimed, as the
 *            kernel and the load generator do between two queries of a
 *            server under load: the query then finds its snapshot data
 *            and its code out of the caches, as it does there.
 *   batch    api_dispatch() of POST /reachability/batch bodies, with
 *            "trace": false, and the first K of them again with
 *            "trace": true.
 *   matrix   np_matrix_compute() over all pods on one port, against a naive
 *            loop of np_eval_allowed() over the same pairs; every pair the
 *            naive loop evaluates is compared with the matrix.
 *
 * Usage: bench_core --cluster FILE [--no-limits] [--seed S]
 *                   [--latency N [--untraced] [--cold KIB]]
 *                   [--batch FILE]... [--trace-batches K]
 *                   [--matrix PORT[/PROTO]] [--sample N]
 *                   [--naive-budget SECONDS]
 *        bench_core --count FILE...
 *
 * --count reads batch answers saved by bench/run from HTTP and prints how
 * many results and errors they hold (count=N errors=E), so the shell never
 * has to parse big JSON.
 *
 * Results are "key=value" lines on stdout for bench/run; progress and
 * problems go to stderr. Each figure has a wall-clock and a CPU-time
 * (CLOCK_THREAD_CPUTIME_ID) version: the second ignores time spent waiting
 * for a core while other processes share the machine. Exit status 3 means the
 * matrix and the naive loop disagreed on some pair.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api/api.h"
#include "core/eval.h"
#include "core/matrix.h"
#include "core/net.h"
#include "core/snapshot.h"

#define MAX_BATCH_FILES 64

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: unlike the wall clock, it does not count
 * time spent waiting for a core, so it stays meaningful when other work
 * shares the machine. */
static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 42;

static uint64_t
rnd(void)
{
    uint64_t z;

    rng_state += 0x9e3779b97f4a7c15ULL;
    z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t
rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (f == NULL)
        goto fail;
    if (fseek(f, 0, SEEK_END) != 0)
        goto fail;
    size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)size + 1);
    if (buf == NULL)
        goto fail;
    if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        goto fail;
    fclose(f);
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
fail:
    fprintf(stderr, "bench_core: %s: %s\n", path, strerror(errno));
    free(buf);
    if (f != NULL)
        fclose(f);
    exit(1);
}

/* Returns a field of /proc/self/status ("VmRSS", "VmHWM") in bytes, or 0. */
static unsigned long long
proc_status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t flen = strlen(field);
    unsigned long long kb = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtoull(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
percentile(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    return sorted[i < n ? i : n - 1];
}

static void
dispatch(struct api_ctx *ctx, const char *method, const char *path,
         const char *body, size_t len, struct api_response *resp)
{
    struct api_request req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = path;
    req.content_type = "application/json";
    req.body = body;
    req.body_len = len;
    api_dispatch(ctx, &req, resp);
}

/* --- load --- */

static void
bench_load(struct api_ctx *ctx, const char *path)
{
    struct api_file file;
    struct np_error err;
    struct np_snapshot *snap;
    unsigned long long rss0;
    size_t len;
    double t0, c0, t, c;
    char *data = slurp(path, &len);

    rss0 = proc_status_bytes("VmRSS");
    file.name = path;
    file.data = data;
    file.len = len;
    np_error_init(&err);
    c0 = cpu_now();
    t0 = now();
    if (api_load_files(ctx, &file, 1, &err) != 0) {
        fprintf(stderr, "bench_core: loading %s failed: %s (%s) line %d %s\n",
                path, err.message, np_errc_name(err.code), err.line, err.path);
        exit(1);
    }
    t = now() - t0;
    c = cpu_now() - c0;
    free(data);
    snap = np_state_acquire(&ctx->state);
    printf("load_seconds=%.6f\n", t);
    printf("load_cpu_seconds=%.6f\n", c);
    printf("load_bytes=%zu\n", len);
    printf("load_rss_before=%llu\n", rss0);
    printf("load_rss_after=%llu\n", proc_status_bytes("VmRSS"));
    printf("load_hwm=%llu\n", proc_status_bytes("VmHWM"));
    printf("namespaces=%u\npods=%u\npolicies=%u\n", snap->nnamespaces,
           snap->npods, snap->npolicies);
    np_snapshot_release(snap);
}

/* --- single-query latency --- */

/* Writes a POST /reachability body for a random pair into buf. The port is
 * one the destination declares, with its protocol. */
static bool untraced;   /* --untraced: the queries ask for "trace": false */
static size_t cold_kib; /* --cold: KiB written between two queries */

static size_t
random_query(const struct np_snapshot *snap, char *buf, size_t size)
{
    const struct np_pod *from = &snap->pods[rnd_below(snap->npods)];
    const struct np_pod *to = &snap->pods[rnd_below(snap->npods)];
    unsigned port = 8080;
    const char *proto = "TCP";
    int n;

    if (to->nports > 0) {
        const struct np_container_port *cp = &to->ports[rnd_below(to->nports)];
        port = cp->port;
        proto = np_proto_name((enum np_proto)cp->proto);
    }
    n = snprintf(buf, size,
                 "{\"from\": {\"namespace\": \"%s\", \"pod\": \"%s\"}, "
                 "\"to\": {\"namespace\": \"%s\", \"pod\": \"%s\"}, "
                 "\"port\": %u, \"protocol\": \"%s\"%s}",
                 snap->namespaces[from->ns].name, from->name,
                 snap->namespaces[to->ns].name, to->name, port, proto,
                 untraced ? ", \"trace\": false" : "");
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "bench_core: query too long\n");
        exit(1);
    }
    return (size_t)n;
}

/* Writes one byte of every cache line of buf (len bytes), so that what the
 * last query read is no longer in the caches. The compiler must not drop
 * the stores: buf is read back once in a while. */
static volatile unsigned char cold_sink;

static void
make_cold(unsigned char *buf, size_t len, uint32_t round)
{
    size_t i;

    for (i = 0; i < len; i += 64)
        buf[i] = (unsigned char)(buf[i] + round);
    if (round % 1024 == 0)
        cold_sink = buf[len / 2];
}

static void
bench_latency(struct api_ctx *ctx, uint32_t n)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    double *lat = malloc(sizeof(double) * n);
    double *cpu = malloc(sizeof(double) * n);
    double *cpu_sorted = malloc(sizeof(double) * n);
    size_t *bytes = malloc(sizeof(size_t) * n);
    unsigned long long slow_bytes = 0;
    uint32_t nslow = 0;
    double p99;
    uint32_t warm = n / 10 < 1000 ? n / 10 : 1000;
    uint32_t i, bad = 0;
    unsigned long long resp_bytes = 0;
    double sum = 0;
    char body[1024];
    unsigned char *cold = NULL;

    if (cold_kib > 0)
        cold = calloc(cold_kib, 1024);
    if (lat == NULL || cpu == NULL || cpu_sorted == NULL || bytes == NULL ||
        snap->npods == 0 || (cold_kib > 0 && cold == NULL)) {
        fprintf(stderr, "bench_core: latency needs pods and memory\n");
        exit(1);
    }
    for (i = 0; i < warm + n; i++) {
        struct api_response resp;
        size_t len = random_query(snap, body, sizeof(body));

        if (cold != NULL)
            make_cold(cold, cold_kib * 1024, i);
        double c0 = cpu_now();
        double t0 = now();
        double t, c;
        dispatch(ctx, "POST", "/reachability", body, len, &resp);
        t = now() - t0;
        c = cpu_now() - c0;
        if (resp.status != 200) {
            if (bad == 0)
                fprintf(stderr, "bench_core: POST /reachability %d: %s\n",
                        resp.status, resp.body);
            bad++;
        }
        if (i >= warm) {
            lat[i - warm] = t;
            cpu[i - warm] = c;
            bytes[i - warm] = resp.body_len;
            sum += t;
            resp_bytes += resp.body_len;
        }
        api_response_fini(&resp);
    }
    /* What the slowest 1% (by CPU time) have in common: the size of their
     * answers, i.e. of their traces. */
    memcpy(cpu_sorted, cpu, sizeof(double) * n);
    qsort(cpu_sorted, n, sizeof(double), cmp_double);
    p99 = percentile(cpu_sorted, n, 0.99);
    for (i = 0; i < n; i++) {
        if (cpu[i] >= p99) {
            slow_bytes += bytes[i];
            nslow++;
        }
    }
    memcpy(cpu, cpu_sorted, sizeof(double) * n);
    qsort(lat, n, sizeof(double), cmp_double);
    printf("lat_n=%u\n", n);
    printf("lat_cold_kib=%zu\n", cold_kib);
    printf("lat_errors=%u\n", bad);
    printf("lat_mean_us=%.2f\n", sum / n * 1e6);
    printf("lat_p50_us=%.2f\n", percentile(lat, n, 0.50) * 1e6);
    printf("lat_p99_us=%.2f\n", percentile(lat, n, 0.99) * 1e6);
    printf("lat_p999_us=%.2f\n", percentile(lat, n, 0.999) * 1e6);
    printf("lat_max_us=%.2f\n", lat[n - 1] * 1e6);
    printf("lat_cpu_p50_us=%.2f\n", percentile(cpu, n, 0.50) * 1e6);
    printf("lat_cpu_p99_us=%.2f\n", percentile(cpu, n, 0.99) * 1e6);
    printf("lat_cpu_p999_us=%.2f\n", percentile(cpu, n, 0.999) * 1e6);
    printf("lat_resp_bytes_mean=%.0f\n", (double)resp_bytes / n);
    printf("lat_slowest_resp_bytes_mean=%.0f\n",
           nslow > 0 ? (double)slow_bytes / nslow : 0);
    free(lat);
    free(cpu);
    free(cpu_sorted);
    free(bytes);
    free(cold);
    np_snapshot_release(snap);
}

/* --- batches --- */

/* Counts the answers of a batch reply and those that are errors. Outside
 * the timed part. */
static void
count_results(const struct api_response *resp, size_t *n, size_t *errors)
{
    json_error_t jerr;
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, &jerr);
    json_t *results;
    json_t *r;
    size_t i;

    *n = 0;
    *errors = 0;
    if (doc == NULL)
        return;
    results = json_object_get(doc, "results");
    json_array_foreach(results, i, r)
    {
        (*n)++;
        if (json_object_get(r, "error") != NULL)
            (*errors)++;
    }
    json_decref(doc);
}

/* Reads saved batch answers and prints "count=N" and "errors=E". */
static int
count_files(int nfiles, char **files)
{
    size_t total = 0;
    size_t total_errors = 0;
    int f;

    for (f = 0; f < nfiles; f++) {
        struct api_response resp;
        size_t n, errors;
        memset(&resp, 0, sizeof(resp));
        resp.body = slurp(files[f], &resp.body_len);
        count_results(&resp, &n, &errors);
        total += n;
        total_errors += errors;
        free(resp.body);
    }
    printf("count=%zu\nerrors=%zu\n", total, total_errors);
    return 0;
}

/* Runs every file with "trace": false, then the first ntrace files with
 * "trace": true (traced answers are two orders of magnitude bigger). */
static void
bench_batch(struct api_ctx *ctx, char **files, size_t nfiles, size_t ntrace)
{
    static const char *const label[2] = { "batch_notrace", "batch_trace" };
    int pass;

    for (pass = 0; pass < 2; pass++) {
        double total = 0;
        double total_cpu = 0;
        size_t nresults = 0;
        size_t nerrors = 0;
        unsigned long long bytes = 0;
        size_t f;
        for (f = 0; f < (pass == 0 ? nfiles : ntrace) && f < nfiles; f++) {
            struct api_response resp;
            size_t len, n, errors;
            char *body = slurp(files[f], &len);
            char *t = strstr(body, "\"trace\": false");
            double t0, c0;
            if (t == NULL) {
                fprintf(stderr, "bench_core: %s has no \"trace\": false\n",
                        files[f]);
                exit(1);
            }
            /* "false" and "true " have the same length. */
            if (pass == 1)
                memcpy(t + 9, "true ", 5);
            c0 = cpu_now();
            t0 = now();
            dispatch(ctx, "POST", "/reachability/batch", body, len, &resp);
            total += now() - t0;
            total_cpu += cpu_now() - c0;
            if (resp.status != 200) {
                fprintf(stderr,
                        "bench_core: POST /reachability/batch %d: "
                        "%.300s\n",
                        resp.status, resp.body);
                exit(1);
            }
            bytes += resp.body_len;
            count_results(&resp, &n, &errors);
            nresults += n;
            nerrors += errors;
            api_response_fini(&resp);
            free(body);
        }
        printf("%s_seconds=%.6f\n", label[pass], total);
        printf("%s_cpu_seconds=%.6f\n", label[pass], total_cpu);
        printf("%s_queries=%zu\n", label[pass], nresults);
        printf("%s_errors=%zu\n", label[pass], nerrors);
        printf("%s_resp_bytes=%llu\n", label[pass], bytes);
        printf("%s_per_second=%.0f\n", label[pass],
               total > 0 ? (double)nresults / total : 0);
        printf("%s_per_cpu_second=%.0f\n", label[pass],
               total_cpu > 0 ? (double)nresults / total_cpu : 0);
    }
}

/* --- matrix against the naive loop --- */

static void
pair_query(const struct np_snapshot *snap, uint32_t i, uint32_t j,
           uint16_t port, enum np_proto proto, struct np_query *q)
{
    memset(q, 0, sizeof(*q));
    q->from.pod = &snap->pods[i];
    q->to.pod = &snap->pods[j];
    q->port = port;
    q->proto = proto;
}

/* Evaluates src i -> dst j pair by pair and compares with the matrix;
 * prints the first disagreements. Returns the naive verdict. */
static bool
check_pair(const struct np_snapshot *snap, const struct np_eval_opts *opts,
           const struct np_matrix *m, uint32_t i, uint32_t j, uint16_t port,
           enum np_proto proto, uint64_t *disagree)
{
    struct np_query q;
    bool v;

    pair_query(snap, i, j, port, proto, &q);
    v = np_eval_allowed(snap, opts, &q);
    if (v != np_matrix_get(m, i, j)) {
        if (*disagree < 10)
            fprintf(stderr,
                    "bench_core: DISAGREEMENT %s/%s -> %s/%s port %u/%s: "
                    "naive %s, matrix %s\n",
                    snap->namespaces[snap->pods[i].ns].name, snap->pods[i].name,
                    snap->namespaces[snap->pods[j].ns].name, snap->pods[j].name,
                    port, np_proto_name(proto), v ? "allowed" : "denied",
                    v ? "denied" : "allowed");
        (*disagree)++;
    }
    return v;
}

static int
bench_matrix(struct api_ctx *ctx, uint16_t port, enum np_proto proto,
             uint32_t sample, double budget)
{
    struct np_snapshot *snap = np_state_acquire(&ctx->state);
    uint32_t n = snap->npods;
    uint32_t *ids = malloc(sizeof(uint32_t) * (n > 0 ? n : 1));
    struct np_matrix m;
    struct np_error err;
    double best = -1;
    double best_cpu = -1;
    double t0, c0, t_sample, c_sample, t_rows, c_rows, per_pair, naive_full;
    uint32_t nrows;
    uint64_t allowed = 0;
    uint64_t disagree = 0;
    uint64_t checked = 0;
    uint64_t naive_allowed = 0;
    uint64_t pairs = (uint64_t)n * n;
    uint32_t i, j, k;
    int run;

    if (ids == NULL || n == 0) {
        fprintf(stderr, "bench_core: matrix needs pods and memory\n");
        exit(1);
    }
    for (i = 0; i < n; i++)
        ids[i] = i;

    /* Three runs, the fastest counts; the last one's bits are kept. */
    memset(&m, 0, sizeof(m));
    for (run = 0; run < 3; run++) {
        double t, c;
        if (run > 0)
            np_matrix_fini(&m);
        np_error_init(&err);
        c0 = cpu_now();
        t0 = now();
        if (np_matrix_compute(snap, &ctx->opts, ids, n, ids, n, port, proto, &m,
                              &err) != 0) {
            fprintf(stderr, "bench_core: np_matrix_compute: %s\n", err.message);
            exit(1);
        }
        t = now() - t0;
        c = cpu_now() - c0;
        if (best < 0 || t < best)
            best = t;
        if (best_cpu < 0 || c < best_cpu)
            best_cpu = c;
    }
    allowed = np_matrix_count_allowed(&m);
    printf("matrix_pods=%u\n", n);
    printf("matrix_pairs=%llu\n", (unsigned long long)pairs);
    printf("matrix_seconds=%.6f\n", best);
    printf("matrix_cpu_seconds=%.6f\n", best_cpu);
    printf("matrix_per_second=%.0f\n", (double)pairs / best);
    printf("matrix_allowed=%llu\n", (unsigned long long)allowed);

    /* First a random sample of pairs: their verdicts are checked against
     * the matrix, and their time is np_eval_allowed()'s cost for one
     * isolated query (what a batch of random pairs pays). */
    if (sample > pairs)
        sample = (uint32_t)pairs;
    c0 = cpu_now();
    t0 = now();
    for (k = 0; k < sample; k++) {
        i = rnd_below(n);
        j = rnd_below(n);
        naive_allowed +=
            check_pair(snap, &ctx->opts, &m, i, j, port, proto, &disagree);
    }
    t_sample = now() - t0;
    c_sample = cpu_now() - c0;
    checked = sample;
    printf("naive_sample_pairs=%u\n", sample);
    printf("naive_sample_seconds=%.6f\n", t_sample);
    printf("naive_sample_allowed=%llu\n", (unsigned long long)naive_allowed);
    printf("naive_ns_per_pair=%.1f\n", t_sample / sample * 1e9);
    printf("naive_cpu_ns_per_pair=%.1f\n", c_sample / sample * 1e9);

    /* Then whole rows of the naive loop, in its order (one source, every
     * destination): the loop's caches behave as in the full loop, which
     * random pairs would make several times slower. This sample is what
     * the full loop's time is extrapolated from. */
    nrows = sample / n > 0 ? sample / n : 1;
    c0 = cpu_now();
    t0 = now();
    for (k = 0; k < nrows; k++) {
        i = rnd_below(n);
        for (j = 0; j < n; j++)
            check_pair(snap, &ctx->opts, &m, i, j, port, proto, &disagree);
    }
    t_rows = now() - t0;
    c_rows = cpu_now() - c0;
    checked += (uint64_t)nrows * n;
    per_pair = t_rows / ((double)nrows * n);
    naive_full = per_pair * (double)pairs;
    printf("naive_rows=%u\n", nrows);
    printf("naive_rows_pairs=%llu\n", (unsigned long long)nrows * n);
    printf("naive_rows_seconds=%.6f\n", t_rows);
    printf("naive_rows_ns_per_pair=%.1f\n", per_pair * 1e9);

    if (naive_full <= budget) {
        double t_full, c_full;
        uint64_t full_disagree = 0;
        fprintf(stderr,
                "bench_core: naive loop over all %llu pairs "
                "(about %.1f s)\n",
                (unsigned long long)pairs, naive_full);
        c0 = cpu_now();
        t0 = now();
        for (i = 0; i < n; i++) {
            for (j = 0; j < n; j++)
                check_pair(snap, &ctx->opts, &m, i, j, port, proto,
                           &full_disagree);
        }
        t_full = now() - t0;
        c_full = cpu_now() - c0;
        checked += pairs;
        disagree += full_disagree;
        printf("naive_full=1\n");
        printf("naive_seconds=%.6f\n", t_full);
        printf("naive_cpu_seconds=%.6f\n", c_full);
    } else {
        printf("naive_full=0\n");
        printf("naive_seconds=%.6f\n", naive_full);
        printf("naive_cpu_seconds=%.6f\n",
               c_rows / ((double)nrows * n) * (double)pairs);
    }
    printf("naive_checked_pairs=%llu\n", (unsigned long long)checked);
    printf("matrix_disagreements=%llu\n", (unsigned long long)disagree);
    if (disagree > 0)
        fprintf(stderr,
                "bench_core: *** THE MATRIX DISAGREES WITH np_eval_allowed ON "
                "%llu OF %llu CHECKED PAIRS ***\n",
                (unsigned long long)disagree, (unsigned long long)checked);
    np_matrix_fini(&m);
    free(ids);
    np_snapshot_release(snap);
    return disagree > 0 ? 3 : 0;
}

/* --- command line --- */

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_core --cluster FILE [--no-limits] [--seed S]\n"
            "                  [--latency N [--untraced] [--cold KIB]]\n"
            "                  [--batch FILE]... [--trace-batches K]\n"
            "                  [--matrix PORT[/PROTO]] [--sample N]\n"
            "                  [--naive-budget SECONDS]\n"
            "       bench_core --count FILE...\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *cluster = NULL;
    bool no_limits = false;
    uint32_t latency = 0;
    char *batches[MAX_BATCH_FILES];
    size_t nbatches = 0;
    const char *matrix = NULL;
    uint32_t sample = 1000000;
    size_t ntrace = MAX_BATCH_FILES;
    double budget = 30;
    struct api_config cfg;
    struct api_ctx ctx;
    struct np_error err;
    int rc = 0;
    int i;

    if (argc >= 3 && strcmp(argv[1], "--count") == 0)
        return count_files(argc - 2, argv + 2);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-limits") == 0) {
            no_limits = true;
            continue;
        }
        if (strcmp(a, "--untraced") == 0) {
            untraced = true;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--cluster") == 0) {
            cluster = v;
        } else if (strcmp(a, "--seed") == 0) {
            rng_state = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--latency") == 0) {
            latency = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--cold") == 0) {
            cold_kib = strtoul(v, NULL, 10);
        } else if (strcmp(a, "--batch") == 0) {
            if (nbatches == MAX_BATCH_FILES)
                usage();
            batches[nbatches++] = argv[i];
        } else if (strcmp(a, "--matrix") == 0) {
            matrix = v;
        } else if (strcmp(a, "--trace-batches") == 0) {
            ntrace = strtoul(v, NULL, 10);
        } else if (strcmp(a, "--sample") == 0) {
            sample = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--naive-budget") == 0) {
            budget = strtod(v, NULL);
        } else {
            usage();
        }
    }
    if (cluster == NULL || sample == 0)
        usage();

    api_config_defaults(&cfg);
    if (no_limits) {
        /* In-process only: the large cluster may exceed the served
         * defaults, and this tool measures the work, not the limits. */
        cfg.limits.max_body = 0;
        cfg.limits.max_objects = 0;
        cfg.limits.max_documents = 0;
        cfg.limits.max_batch = 0;
    }
    np_error_init(&err);
    if (api_ctx_init(&ctx, &cfg, &err) != 0) {
        fprintf(stderr, "bench_core: %s\n", err.message);
        return 1;
    }
    bench_load(&ctx, cluster);
    fflush(stdout);
    if (latency > 0)
        bench_latency(&ctx, latency);
    fflush(stdout);
    if (nbatches > 0)
        bench_batch(&ctx, batches, nbatches, ntrace);
    fflush(stdout);
    if (matrix != NULL) {
        char *slash;
        unsigned long port = strtoul(matrix, &slash, 10);
        enum np_proto proto = NP_PROTO_TCP;
        if (port == 0 || port > 65535)
            usage();
        if (*slash == '/') {
            np_error_init(&err);
            if (np_proto_parse(slash + 1, &proto, &err) != 0)
                usage();
        }
        rc = bench_matrix(&ctx, (uint16_t)port, proto, sample, budget);
    }
    api_ctx_fini(&ctx);
    return rc;
}
