#include "tests/support/bigyaml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
tbig_printf(struct tbig_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->p == NULL) {
        b->cap = 1 << 16;
        b->p = malloc(b->cap);
        if (b->p == NULL)
            abort();
    }
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < b->cap - b->len)
            break;
        b->cap = b->cap * 2 + (size_t)n;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    b->len += (size_t)n;
}

struct tbig_opts
tbig_defaults(void)
{
    struct tbig_opts o = {
        .ndocs = 6000,
        .bad_label = TBIG_NONE,
        .bad_label2 = TBIG_NONE,
        .syntax = TBIG_NONE,
        .dup = TBIG_NONE,
        .dup_of = TBIG_NONE,
        .list_dup = TBIG_NONE,
        .dup_ns = TBIG_NONE,
        .warn_every = 0,
    };

    return o;
}

/* Pod name (ns-NS/name) for document i; item: as a List item. */
static void
pod(struct tbig_buf *b, const struct tbig_opts *o, int i, int ns,
    const char *name, bool item)
{
    bool warn = o->warn_every > 0 && i % o->warn_every == 0;
    const char *f = item ? "- " : "";
    const char *r = item ? "  " : "";

    tbig_printf(b,
                "%sapiVersion: v1\n"
                "%skind: Pod\n"
                "%smetadata:\n"
                "%s  name: %s\n"
                "%s  namespace: ns-%d\n"
                "%s  labels: {app: app-%d, tier: \"%s\", idx: \"%d\"}\n"
                "%sspec:\n"
                "%s  containers:\n"
                "%s  - name: main\n"
                "%s    image: example/app:1.0\n"
                "%s    ports: [{name: http, containerPort: 8080}%s]\n"
                "%sstatus:\n"
                "%s  phase: Running\n"
                "%s  podIP: 10.%d.%d.%d\n",
                f, r, r, r, name, r, ns, r, i % 7,
                i == o->bad_label || i == o->bad_label2 ? "-bad-" : "web", i, r,
                r, r, r, r, warn ? ", {name: http, containerPort: 8081}" : "",
                r, r, r, 1 + i / 65536, (i / 256) % 256, i % 256);
}

char *
tbig_stream(const struct tbig_opts *o, size_t *len, size_t *nobjects)
{
    struct tbig_buf b = { 0 };
    size_t n = 0;
    int i;

    tbig_printf(&b, "%s", ""); /* a stream even of no documents */
    for (i = 0; i < o->ndocs; i++) {
        int ns = i / 50;
        char name[32];

        tbig_printf(&b, "---\n");
        if (i == o->syntax) {
            tbig_printf(&b, "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n");
            n++;
            continue;
        }
        if (i == o->dup_ns) {
            tbig_printf(&b,
                        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                        "  name: ns-%d\n",
                        o->dup_of / 50);
            n++;
            continue;
        }
        switch (i % 50) {
        case 0:
            tbig_printf(&b,
                        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                        "  name: ns-%d\n  labels: {team: team-%d}\n",
                        ns, ns % 5);
            n++;
            break;
        case 1:
            tbig_printf(
                &b,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: allow-%d, namespace: ns-%d}\n"
                "spec:\n"
                "  podSelector: {matchLabels: {tier: web}}\n"
                "  ingress:\n"
                "  - from:\n"
                "    - namespaceSelector: {matchLabels: {team: team-%d}}\n"
                "      podSelector:\n"
                "        matchExpressions:\n"
                "        - {key: app, operator: In, values: [app-1, app-2]}\n"
                "    - ipBlock: {cidr: %s}\n"
                "    ports: [{port: 8080, protocol: TCP}, {port: http}]\n",
                i, ns, (ns + 1) % 5,
                ns % 3 == 0 ? "10.0.0.1/8" : "192.168.0.0/16");
            n++;
            break;
        case 2:
            tbig_printf(&b,
                        "apiVersion: v1\nkind: Service\n"
                        "metadata: {name: svc-%d, namespace: ns-%d}\n"
                        "spec: {selector: {app: app-1}, ports: [{port: 80}]}\n",
                        i, ns);
            n++;
            break;
        case 3:
            tbig_printf(&b, "apiVersion: v1\nkind: PodList\nitems:\n");
            snprintf(name, sizeof(name), "list-%d-a", i);
            pod(&b, o, i, ns, name, true);
            /* The second item is the one a duplicate replaces. */
            if (i == o->list_dup) {
                snprintf(name, sizeof(name), "pod-%d", o->dup_of);
                pod(&b, o, i, o->dup_of / 50, name, true);
            } else {
                snprintf(name, sizeof(name), "list-%d-b", i);
                pod(&b, o, i, ns, name, true);
            }
            snprintf(name, sizeof(name), "list-%d-c", i);
            pod(&b, o, i, ns, name, true);
            n += 3;
            break;
        case 4:
            tbig_printf(
                &b,
                "apiVersion: apps/v1\nkind: Deployment\n"
                "metadata: {name: deploy-%d, namespace: ns-%d}\n"
                "spec:\n"
                "  selector: {matchLabels: {app: app-%d}}\n"
                "  template:\n"
                "    metadata: {labels: {app: app-%d, tier: web}}\n"
                "    spec:\n"
                "      containers:\n"
                "      - {name: main, ports: [{containerPort: 8080}]}\n",
                i, ns, i % 7, i % 7);
            n++;
            break;
        default:
            if (i == o->dup) {
                snprintf(name, sizeof(name), "pod-%d", o->dup_of);
                pod(&b, o, i, o->dup_of / 50, name, false);
            } else {
                snprintf(name, sizeof(name), "pod-%d", i);
                pod(&b, o, i, ns, name, false);
            }
            n++;
            break;
        }
    }
    *len = b.len;
    if (nobjects != NULL)
        *nobjects = n;
    return b.p;
}
