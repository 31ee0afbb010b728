/*
 * bench_parse: how long the raw parsers take over a file, the floor under
 * netpolq's load time. YAML: libyaml's event loop over the whole stream,
 * doing nothing with the events. JSON: jansson's json_loadb() of the whole
 * buffer (the tree is freed outside the timed part).
 *
 * Usage: bench_parse [--repeat N] yaml|json FILE
 * Prints "parse_seconds=S" (the fastest of N runs, wall clock),
 * "parse_cpu_seconds=C" (the fastest in thread CPU time, which ignores time
 * spent waiting for a core) and "bytes=B" on stdout.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
    fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(errno));
    free(buf);
    if (f != NULL)
        fclose(f);
    exit(1);
}

/* Returns the number of events, or -1 on a syntax error. */
static long
yaml_events(const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t event;
    long n = 0;
    int done = 0;

    if (!yaml_parser_initialize(&parser))
        return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            fprintf(stderr, "bench_parse: YAML error at line %zu: %s\n",
                    parser.problem_mark.line + 1,
                    parser.problem != NULL ? parser.problem : "?");
            yaml_parser_delete(&parser);
            return -1;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        n++;
    }
    yaml_parser_delete(&parser);
    return n;
}

int
main(int argc, char **argv)
{
    int repeat = 3;
    int argi = 1;
    const char *format;
    const char *path;
    double best = -1;
    double best_cpu = -1;
    size_t len;
    char *buf;
    int i;

    if (argc >= 3 && strcmp(argv[1], "--repeat") == 0) {
        repeat = atoi(argv[2]);
        argi = 3;
    }
    if (argc - argi != 2 || repeat < 1) {
        fprintf(stderr, "usage: bench_parse [--repeat N] yaml|json FILE\n");
        return 2;
    }
    format = argv[argi];
    path = argv[argi + 1];
    buf = slurp(path, &len);
    for (i = 0; i < repeat; i++) {
        double c0 = cpu_now();
        double t0 = now();
        double t, c;
        if (strcmp(format, "yaml") == 0) {
            if (yaml_events(buf, len) < 0)
                return 1;
            t = now() - t0;
            c = cpu_now() - c0;
        } else if (strcmp(format, "json") == 0) {
            json_error_t jerr;
            json_t *doc = json_loadb(buf, len, 0, &jerr);
            t = now() - t0;
            c = cpu_now() - c0;
            if (doc == NULL) {
                fprintf(stderr, "bench_parse: JSON error at line %d: %s\n",
                        jerr.line, jerr.text);
                return 1;
            }
            json_decref(doc);
        } else {
            fprintf(stderr, "bench_parse: unknown format %s\n", format);
            return 2;
        }
        if (best < 0 || t < best)
            best = t;
        if (best_cpu < 0 || c < best_cpu)
            best_cpu = c;
    }
    printf("parse_seconds=%.6f\nparse_cpu_seconds=%.6f\nbytes=%zu\n", best,
           best_cpu, len);
    free(buf);
    return 0;
}
