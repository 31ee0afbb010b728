/*
 * Declarations shared by the files of api/ and their unit tests; not part of
 * the interface the server uses (api.h).
 */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/builder.h"
#include "core/error.h"

/* --- yaml.c: bodies to json_t documents --- */

enum api_format {
    API_FORMAT_YAML,
    API_FORMAT_JSON,
};

struct api_docs {
    size_t n;
    json_t **docs; /* owned; NULL entries never occur (empty documents are
                      dropped, their index still counts in lines) */
    int *index;    /* 0-based index of each document in the stream */
    int *line;     /* 1-based line where each document starts */
};

/* Parses body into documents. YAML: a multi-document stream, plain scalars
 * typed like the Kubernetes tooling (go-yaml v2: null, booleans including
 * yes/no/on/off, integers, floats; quoted scalars are strings), anchors and
 * aliases resolved with at most lim->max_depth nesting and a bound on the
 * nodes an alias may expand to. JSON: one value (jansson), optionally with
 * trailing whitespace. Returns 0, or -1 with err set (NP_E_SYNTAX with
 * document, line and column; NP_E_LIMIT_EXCEEDED naming the limit). */
int api_docs_parse(const char *body, size_t len, enum api_format fmt,
                   const struct api_limits *lim, struct api_docs *out,
                   struct np_error *err);

void api_docs_fini(struct api_docs *docs);

/* Finds the 1-based line and column in body of the node at path (e.g.
 * "items[2].spec.ingress[0].from[1].ipBlock.cidr") in document doc (0-based
 * stream index). Works for YAML and JSON bodies. Returns 0, or -1 when the
 * path is not found, in which case the deepest existing prefix is used when
 * there is one (so line points at the closest enclosing node). */
int api_locate(const char *body, size_t len, int doc, const char *path,
               int *line, int *column);

/* --- manifest.c: documents to builder calls --- */

/* Decodes every object of docs (single objects and List kinds) into b.
 * Unknown kinds are skipped with a warning appended to warnings (a json
 * array of strings). On error err has document and path set (the path from
 * the document root, "items[3].spec..."); the caller adds line and column
 * with api_locate(). Returns 0 or -1. */
int api_manifest_decode(struct np_builder *b, const struct api_docs *docs,
                        const struct api_limits *lim, json_t *warnings,
                        struct np_error *err);

/* Picks the format from a Content-Type value (parameters such as charset are
 * ignored). Returns 0, or -1 with err set (NP_E_UNSUPPORTED_MEDIA_TYPE). */
int api_format_from_content_type(const char *ct, enum api_format *out,
                                 struct np_error *err);

#endif
