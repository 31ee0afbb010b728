/*
 * Label syntax and names as the API server checks them (label keys and
 * values, DNS-1123 labels for namespaces, DNS-1123 subdomains for pods and
 * policies), and lookups in interned label sets.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "core/intern.h"
#include "core/labels.h"
#include "tests/support/fixtures.h"

TestSuite(labels, .fini = fx_fini);

/* 63 characters, the longest label, label value or key name. */
#define A63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* 250 characters in dot-separated parts: A250 ".bb" is 253. */
#define B58  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define A250 A63 "." A63 "." A63 "." B58

struct syntax_case {
    char s[300];
    bool valid;
    char why[48]; /* part of the explanation when invalid, or "" */
};

ParameterizedTestParameters(labels, label_keys)
{
    static struct syntax_case cases[] = {
        { "app", true, "" },
        { "a", true, "" },
        { "A", true, "" },
        { "9", true, "" },
        { "App.Name_x-1", true, "" },
        { "app.kubernetes.io/name", true, "" },
        { "kubernetes.io/metadata.name", true, "" },
        { "example.com/a_b.c-D", true, "" },
        { A63, true, "" },
        { "example.com/" A63, true, "" },
        { A63 "a", false, "at most 63 characters" },
        { "example.com/" A63 "a", false, "at most 63 characters" },
        /* The prefix is a DNS-1123 subdomain: up to 253, lowercase. */
        { A250 ".bb/a", true, "" },
        { A250 ".bbb/a", false, "prefix before '/'" },
        { A63 "aaaaaaaaaaaa.com/a", true, "" },
        { "Example.com/a", false, "lowercase DNS subdomain" },
        { "example_com/a", false, "lowercase DNS subdomain" },
        { "a..b/c", false, "prefix" },
        { "-a.com/b", false, "prefix" },
        { "", false, "must not be empty" },
        { "/a", false, "prefix before '/' must not be empty" },
        { "a/", false, "name part must not be empty" },
        { "a/b/c", false, "alphanumerics" },
        { "-a", false, "start and end with an alphanumeric" },
        { "a-", false, "start and end" },
        { "_a", false, "" },
        { ".a", false, "" },
        { "a b", false, "" },
        { "a=b", false, "" },
        { "a:b", false, "" },
    };

    return cr_make_param_array(struct syntax_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct syntax_case *c, labels, label_keys)
{
    const char *why = NULL;

    cr_expect_eq(np_label_key_is_valid(c->s, &why), c->valid, "key \"%s\"",
                 c->s);
    if (!c->valid) {
        cr_assert_not_null(why);
        cr_expect(strstr(why, c->why) != NULL, "\"%s\": why \"%s\"", c->s, why);
    }
    /* why may be NULL. */
    cr_expect_eq(np_label_key_is_valid(c->s, NULL), c->valid);
}

ParameterizedTestParameters(labels, label_values)
{
    static struct syntax_case cases[] = {
        { "", true, "" },
        { "a", true, "" },
        { "A-b_c.D", true, "" },
        { "0", true, "" },
        { A63, true, "" },
        { A63 "a", false, "at most 63 characters" },
        { "-a", false, "start and end with an alphanumeric" },
        { "a-", false, "" },
        { ".a", false, "" },
        { "a_", false, "" },
        { "a b", false, "" },
        { "a/b", false, "" },
        { "a:b", false, "" },
        { "\xc3\xa4", false, "" },
    };

    return cr_make_param_array(struct syntax_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct syntax_case *c, labels, label_values)
{
    const char *why = NULL;

    cr_expect_eq(np_label_value_is_valid(c->s, &why), c->valid, "value \"%s\"",
                 c->s);
    if (!c->valid) {
        cr_assert_not_null(why);
        cr_expect(strstr(why, c->why) != NULL, "\"%s\": why \"%s\"", c->s, why);
    }
    cr_expect_eq(np_label_value_is_valid(c->s, NULL), c->valid);
}

struct name_case {
    char s[300];
    bool label;     /* np_dns_label_is_valid */
    bool subdomain; /* np_dns_subdomain_is_valid */
};

ParameterizedTestParameters(labels, dns_names)
{
    static struct name_case cases[] = {
        { "a", true, true },
        { "a-b", true, true },
        { "0abc", true, true },
        { "123", true, true },
        { A63, true, true },
        /* A label is at most 63; a subdomain's parts have no limit of
         * their own, only the whole name's 253. */
        { A63 "a", false, true },
        { A63 A63 A63 A63 "a", false, true },
        { A250 ".bb", false, true },
        { A250 ".bbb", false, false },
        { "a.b", false, true },
        { "a.b-c.d", false, true },
        { "", false, false },
        { "A", false, false },
        { "a_b", false, false },
        { "-a", false, false },
        { "a-", false, false },
        { "a..b", false, false },
        { ".a", false, false },
        { "a.", false, false },
        { "a-.b", false, false },
        { "a.-b", false, false },
        { "a b", false, false },
        { "a/b", false, false },
    };

    return cr_make_param_array(struct name_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, labels, dns_names)
{
    cr_expect_eq(np_dns_label_is_valid(c->s), c->label, "label \"%s\"", c->s);
    cr_expect_eq(np_dns_subdomain_is_valid(c->s), c->subdomain,
                 "subdomain \"%s\" (%zu characters)", c->s, strlen(c->s));
}

Test(labels, get_finds_values_by_key_in_a_sorted_set)
{
    struct np_intern *t = np_intern_new();
    struct np_labels ls, none = { 0 };
    uint32_t i;

    /* Intern keys in an order different from the set's. */
    np_intern_add(t, "zeta");
    np_intern_add(t, "mid");
    ls = fx_labels(t, "app=web,mid=,zeta=z,b=2,a=1");
    cr_assert_eq(ls.n, 5);
    for (i = 1; i < ls.n; i++)
        cr_assert_lt(ls.items[i - 1].key, ls.items[i].key);
    cr_assert_str_eq(
        np_intern_str(t, np_labels_get(&ls, np_intern_find(t, "app"))), "web");
    cr_assert_str_eq(
        np_intern_str(t, np_labels_get(&ls, np_intern_find(t, "zeta"))), "z");
    cr_assert_str_eq(
        np_intern_str(t, np_labels_get(&ls, np_intern_find(t, "a"))), "1");
    /* The empty value is a value, distinct from absent. */
    cr_assert_neq(np_labels_get(&ls, np_intern_find(t, "mid")), NP_SYM_NONE);
    cr_assert_eq(np_labels_get(&ls, np_intern_add(t, "other")), NP_SYM_NONE);
    cr_assert_eq(np_labels_get(&ls, NP_SYM_NONE), NP_SYM_NONE);
    cr_assert_eq(np_labels_get(&none, np_intern_find(t, "app")), NP_SYM_NONE);
    np_intern_free(t);
}

Test(labels, interning_gives_one_id_per_string)
{
    struct np_intern *t = np_intern_new();
    np_sym a = np_intern_add(t, "a"), e = np_intern_add(t, "");
    char buf[16];
    int i;

    cr_assert_neq(a, NP_SYM_NONE);
    cr_assert_neq(e, NP_SYM_NONE, "\"\" is a string like any other");
    cr_assert_neq(a, e);
    cr_assert_eq(np_intern_add(t, "a"), a);
    cr_assert_eq(np_intern_find(t, "a"), a);
    cr_assert_eq(np_intern_find(t, "b"), NP_SYM_NONE);
    cr_assert_str_eq(np_intern_str(t, a), "a");
    cr_assert_str_eq(np_intern_str(t, NP_SYM_NONE), "");
    cr_assert_str_eq(np_intern_str(t, 1000), "");
    /* Growth keeps every id. */
    for (i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf), "s%d", i);
        np_intern_add(t, buf);
    }
    cr_assert_eq(np_intern_count(t), 1002);
    cr_assert_eq(np_intern_find(t, "a"), a);
    cr_assert_str_eq(np_intern_str(t, np_intern_find(t, "s777")), "s777");
    np_intern_free(t);
}
