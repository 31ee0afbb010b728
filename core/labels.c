/*
 * Label lookup and the syntax rules of label keys, label values and object
 * names (apimachinery's validation.IsQualifiedName, IsValidLabelValue,
 * IsDNS1123Label and IsDNS1123Subdomain).
 */
#include "core/labels.h"

#include <string.h>

np_sym
np_labels_get(const struct np_labels *ls, np_sym key)
{
    uint32_t lo = 0, hi = ls->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (ls->items[mid].key == key)
            return ls->items[mid].value;
        if (ls->items[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NP_SYM_NONE;
}

static bool
is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? of len bytes. */
static bool
is_qualified_part(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? of len bytes, whatever its length. */
static bool
dns_part_n(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
        return false;
    for (i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

static bool
dns_label_n(const char *s, size_t len)
{
    return len <= 63 && dns_part_n(s, len);
}

/* IsDNS1123Subdomain limits the whole name to 253 characters; the parts
 * between dots match the label pattern but have no 63-character limit of
 * their own, so a 100-character pod name without dots is valid. */
static bool
dns_subdomain_n(const char *s, size_t len)
{
    size_t start = 0, i;

    if (len == 0 || len > 253)
        return false;
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!dns_part_n(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool
np_dns_label_is_valid(const char *s)
{
    return dns_label_n(s, strlen(s));
}

bool
np_dns_subdomain_is_valid(const char *s)
{
    return dns_subdomain_n(s, strlen(s));
}

bool
np_label_key_is_valid(const char *s, const char **why)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (slash != NULL) {
        if (slash == s) {
            *why = "the prefix before '/' must not be empty";
            return false;
        }
        if (!dns_subdomain_n(s, (size_t)(slash - s))) {
            *why = "the prefix before '/' must be a lowercase DNS subdomain "
                   "of at most 253 characters";
            return false;
        }
        name = slash + 1;
    }
    if (name[0] == '\0') {
        *why = "the name part must not be empty";
        return false;
    }
    if (strlen(name) > 63) {
        *why = "the name part must be at most 63 characters";
        return false;
    }
    if (!is_qualified_part(name, strlen(name))) {
        *why = "the name part must consist of alphanumerics, '-', '_' or '.', "
               "and start and end with an alphanumeric";
        return false;
    }
    return true;
}

bool
np_label_value_is_valid(const char *s, const char **why)
{
    size_t len = strlen(s);
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (len == 0)
        return true;
    if (len > 63) {
        *why = "a label value must be at most 63 characters";
        return false;
    }
    if (!is_qualified_part(s, len)) {
        *why = "a label value must be empty or consist of alphanumerics, '-', "
               "'_' or '.', and start and end with an alphanumeric";
        return false;
    }
    return true;
}
