/*
 * Label sets and label syntax. Keys and values are interned (intern.h) into
 * np_sym ids, so comparing labels compares integers. A label set is sorted by
 * key id.
 */
#ifndef NP_LABELS_H
#define NP_LABELS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/intern.h"

struct np_label {
    np_sym key;
    np_sym value;
};

struct np_labels {
    uint32_t n;
    const struct np_label *items; /* sorted by key */
};

/* Returns the value id of key in ls, or NP_SYM_NONE when ls lacks key. */
np_sym np_labels_get(const struct np_labels *ls, np_sym key);

/* Returns true when s is a valid label key: an optional DNS-subdomain prefix
 * (at most 253 characters) and '/', then a name of 1-63 characters of
 * [A-Za-z0-9-_.] that starts and ends with an alphanumeric. On false, *why
 * (if not NULL) points to a static explanation. */
bool np_label_key_is_valid(const char *s, const char **why);

/* Returns true when s is a valid label value: empty, or at most 63 characters
 * of [A-Za-z0-9-_.] starting and ending with an alphanumeric. */
bool np_label_value_is_valid(const char *s, const char **why);

/* Returns true when s is a DNS-1123 label (namespace names): at most 63
 * lowercase alphanumerics or '-', starting and ending with an alphanumeric. */
bool np_dns_label_is_valid(const char *s);

/* Returns true when s is a DNS-1123 subdomain (pod and policy names): at most
 * 253 characters, dot-separated parts of lowercase alphanumerics or '-' that
 * start and end with an alphanumeric (a part may exceed 63 characters). */
bool np_dns_subdomain_is_valid(const char *s);

#endif
