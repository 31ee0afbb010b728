/*
 * Large multi-document YAML uploads for the tests of the two-half upload
 * path (api/yaml.c, api/manifest.c): a stream over 1 MiB of Namespaces,
 * Pods, NetworkPolicies, Deployments, Lists and skipped kinds, with errors,
 * duplicates and warnings placed in the documents a test names.
 *
 * Document i belongs to namespace ns-(i / 50) and, by i % 50, is:
 *   0 the Namespace, 1 a NetworkPolicy (ipBlock with host bits, a warning,
 *   every third namespace), 2 a Service (skipped with a warning), 3 a
 *   PodList of three pods, 4 a Deployment, anything else Pod pod-i.
 */
#ifndef TESTS_SUPPORT_BIGYAML_H
#define TESTS_SUPPORT_BIGYAML_H

#include <stddef.h>

#define TBIG_NONE (-1)

struct tbig_opts {
    int ndocs;      /* documents (6000, about 1.5 MiB) */
    int bad_label;  /* a pod document whose label value is invalid */
    int bad_label2; /* another one */
    int syntax;     /* a pod document with a YAML syntax error */
    int dup;        /* a pod document repeating the pod of document dup_of */
    int dup_of;
    int list_dup;   /* a List document (i % 50 == 3) whose second item
                       repeats the pod of document dup_of */
    int dup_ns;     /* a pod document replaced by a second Namespace
                       ns-(dup_of / 50) */
    int warn_every; /* every k-th pod names two ports "http" (a warning);
                       0 for none */
};

/* A growing text: tbig_printf() appends to it (allocating on first use;
 * out of memory aborts). Free p when done. */
struct tbig_buf {
    char *p;
    size_t len, cap;
};

void tbig_printf(struct tbig_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A clean stream of 6000 documents: every other field TBIG_NONE or 0. */
struct tbig_opts tbig_defaults(void);

/* The stream (malloc'ed, NUL-terminated, *len bytes); *nobjects (may be
 * NULL) gets the number of objects in it, List items counted, Lists not. */
char *tbig_stream(const struct tbig_opts *o, size_t *len, size_t *nobjects);

#endif
