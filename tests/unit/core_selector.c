/*
 * Label selectors: matching of compiled model selectors (matchLabels and
 * matchExpressions, ANDed) and of kubectl's string syntax parsed with
 * np_selector_parse(), which must agree on every row; the parsed structure
 * and text; parse errors; validation paths.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/intern.h"
#include "core/labels.h"
#include "core/selector.h"
#include "tests/support/fixtures.h"

TestSuite(selector, .fini = fx_fini);

struct match_case {
    char selector[96]; /* kubectl syntax */
    char labels[96];
    bool matches;
};

ParameterizedTestParameters(selector, matches_label_sets)
{
    static struct match_case cases[] = {
        /* The empty selector matches everything. */
        { "", "", true },
        { "", "app=web", true },
        /* Equality: matchLabels. */
        { "app=web", "app=web", true },
        { "app=web", "app=web,tier=fe", true },
        { "app=web", "app=db", false },
        { "app=web", "", false },
        { "app=web", "tier=web", false },
        { "app==web", "app=web", true },
        { "app=web,tier=fe", "app=web", false },
        { "app=web,tier=fe", "tier=fe,app=web", true },
        /* The empty value is a value. */
        { "app=", "app=", true },
        { "app=", "app=x", false },
        { "app=", "", false },
        /* != and notin hold when the key is absent. */
        { "app!=web", "app=db", true },
        { "app!=web", "app=web", false },
        { "app!=web", "", true },
        { "app!=", "app=", false },
        { "app!=", "", true },
        { "env notin (prod,stage)", "env=dev", true },
        { "env notin (prod,stage)", "env=prod", false },
        { "env notin (prod,stage)", "env=stage", false },
        { "env notin (prod,stage)", "", true },
        { "env in (prod,stage)", "env=stage", true },
        { "env in (prod,stage)", "env=dev", false },
        { "env in (prod,stage)", "", false },
        { "env in (prod)", "env=prod", true },
        /* Exists and DoesNotExist look at keys only. */
        { "legacy", "legacy=", true },
        { "legacy", "legacy=yes", true },
        { "legacy", "", false },
        { "!legacy", "", true },
        { "!legacy", "legacy=", false },
        { "!legacy", "app=legacy", true },
        /* Everything at once: AND. */
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,tier=fe,env=prod,has=1", true },
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,env=stage,has=", true },
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,tier=db,env=prod,has=1", false },
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,env=prod,has=1,legacy=1", false },
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,env=prod", false },
        { "app=web,tier!=db,env in (prod,stage),!legacy,has",
          "app=web,env=dev,has=1", false },
        /* Spaces around tokens do not matter. */
        { " app = web , env in ( prod , stage ) ", "app=web,env=prod", true },
        { " app = web , env in ( prod , stage ) ", "app=web,env=dev", false },
        /* Prefixed keys are different keys. */
        { "example.com/team=a", "example.com/team=a", true },
        { "example.com/team=a", "team=a", false },
        { "kubernetes.io/metadata.name in (a,b)",
          "kubernetes.io/metadata.name=b", true },
        /* Values and keys are case sensitive. */
        { "app=Web", "app=web", false },
        { "App=web", "app=web", false },
    };

    return cr_make_param_array(struct match_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct match_case *c, selector, matches_label_sets)
{
    struct np_intern *t = np_intern_new();
    struct np_labels ls = fx_labels(t, c->labels);
    struct np_model_selector model = fx_selector(c->selector);
    struct np_selector parsed, compiled;
    struct np_error err;
    struct np_arena a;
    int mismatch;

    np_arena_init(&a);
    np_error_init(&err);
    /* Parsed against a table that knows only the labels: strings it lacks
     * cannot match, yet NotIn and DoesNotExist still hold. */
    cr_assert_eq(np_selector_parse(c->selector, t, &a, &parsed, &err), 0,
                 "\"%s\": %s", c->selector, err.message);
    cr_expect_eq(np_selector_matches(&parsed, &ls), c->matches,
                 "parsed \"%s\" on {%s}", c->selector, c->labels);
    cr_assert_eq(np_selector_validate(&model, "sel", &err), 0, "%s",
                 err.message);
    cr_assert_eq(np_selector_compile(&model, t, &a, &compiled, &err), 0);
    cr_expect_eq(np_selector_matches(&compiled, &ls), c->matches,
                 "compiled \"%s\" on {%s}", c->selector, c->labels);
    mismatch = np_selector_first_mismatch(&compiled, &ls);
    cr_expect_eq(mismatch < 0, c->matches);
    cr_expect_eq(np_selector_is_empty(&compiled),
                 model.nlabels == 0 && model.nexprs == 0);
    np_arena_free_all(&a);
    np_intern_free(t);
}

Test(selector, parse_gives_requirements_in_order_with_their_text)
{
    static const struct {
        enum np_sel_op op;
        const char *text;
        uint32_t nvalues;
    } want[] = {
        { NP_SEL_IN, "app=web", 1 },
        { NP_SEL_NOT_IN, "tier!=db", 1 },
        { NP_SEL_IN, "env in (prod,stage)", 2 },
        { NP_SEL_DOES_NOT_EXIST, "!legacy", 0 },
        { NP_SEL_EXISTS, "has", 0 },
    };
    struct np_intern *t = np_intern_new();
    struct np_selector sel;
    struct np_error err;
    struct np_arena a;
    uint32_t i;

    np_arena_init(&a);
    np_error_init(&err);
    /* Every string known, so every value survives the lookup. */
    fx_labels(t, "app=web,tier=db,env=prod,legacy=stage,has=x,x=stage");
    cr_assert_eq(np_selector_parse("app==web, tier != db,env in (prod, "
                                   "stage),  !legacy ,has",
                                   t, &a, &sel, &err),
                 0, "%s", err.message);
    cr_assert_eq(sel.nreqs, 5);
    for (i = 0; i < 5; i++) {
        cr_expect_eq(sel.reqs[i].op, want[i].op, "req %u", i);
        cr_expect_str_eq(sel.reqs[i].text, want[i].text);
        cr_expect_eq(sel.reqs[i].nvalues, want[i].nvalues, "req %u", i);
    }
    cr_expect_str_eq(sel.text,
                     "app=web,tier!=db,env in (prod,stage),!legacy,has");
    cr_assert_eq(np_selector_parse("   ", t, &a, &sel, &err), 0);
    cr_assert(np_selector_is_empty(&sel));
    cr_assert_str_eq(sel.text, "");
    np_arena_free_all(&a);
    np_intern_free(t);
}

Test(selector, compile_keeps_match_labels_then_expressions)
{
    struct np_intern *t = np_intern_new();
    struct np_model_selector model =
        fx_selector("app=web, tier in (fe,be), !legacy, env=prod");
    struct np_labels ls;
    struct np_selector sel;
    struct np_error err;
    struct np_arena a;

    np_arena_init(&a);
    np_error_init(&err);
    cr_assert_eq(model.nlabels, 2);
    cr_assert_eq(model.nexprs, 2);
    cr_assert_eq(np_selector_compile(&model, t, &a, &sel, &err), 0);
    cr_assert_eq(sel.nreqs, 4);
    cr_assert_str_eq(sel.text, "app=web,env=prod,tier in (fe,be),!legacy");
    ls = fx_labels(t, "app=web,env=prod,tier=db");
    cr_assert_eq(np_selector_first_mismatch(&sel, &ls), 2);
    ls = fx_labels(t, "app=web,env=prod,tier=be,legacy=");
    cr_assert_eq(np_selector_first_mismatch(&sel, &ls), 3);
    ls = fx_labels(t, "env=prod");
    cr_assert_eq(np_selector_first_mismatch(&sel, &ls), 0);
    ls = fx_labels(t, "app=web,env=prod,tier=be");
    cr_assert_eq(np_selector_first_mismatch(&sel, &ls), -1);
    np_arena_free_all(&a);
    np_intern_free(t);
}

struct parse_error_case {
    char selector[64];
    char message[64];
};

ParameterizedTestParameters(selector, parse_errors)
{
    static struct parse_error_case cases[] = {
        { "a in (b", "expected ',' or ')'" },
        { "a in (b c)", "expected ',' or ')'" },
        { "a in b", "expected '('" },
        { "a notin b", "expected '('" },
        { "a in", "expected '('" },
        { "a<b", "< and > are not part of label selectors" },
        { "a>1", "< and > are not part of label selectors" },
        { "a < 1", "< and >" },
        { "=b", "expected a label key" },
        { ",a", "expected a label key" },
        { "a,", "expected a label key" },
        { "a,,b", "expected a label key" },
        { "!", "expected a label key" },
        { "!=b", "expected a label key" },
        { "a=b c", "unexpected 'c'" },
        { "a b", "unexpected 'b'" },
        { "a!b", "unexpected '!'" },
        { "!a=b", "unexpected '='" },
        { "a in (b))", "unexpected ')'" },
        { "a=b=c", "unexpected '='" },
        { "-a=b", "\"-a\" is not a valid label key" },
        { "a/b/c=d", "is not a valid label key" },
        { "a=-b", "\"-b\" is not a valid label value" },
        { "a in (b,-c)", "\"-c\" is not a valid label value" },
    };

    return cr_make_param_array(struct parse_error_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct parse_error_case *c, selector, parse_errors)
{
    struct np_intern *t = np_intern_new();
    struct np_selector sel;
    struct np_error err;
    struct np_arena a;

    np_arena_init(&a);
    np_error_init(&err);
    cr_assert_eq(np_selector_parse(c->selector, t, &a, &sel, &err), -1,
                 "\"%s\" was accepted", c->selector);
    cr_expect_eq(err.code, NP_E_INVALID_SELECTOR);
    cr_expect(strstr(err.message, c->message) != NULL,
              "\"%s\": message \"%s\" lacks \"%s\"", c->selector, err.message,
              c->message);
    cr_expect(strstr(err.message, c->selector) != NULL,
              "the message quotes the selector: %s", err.message);
    np_arena_free_all(&a);
    np_intern_free(t);
}

Test(selector, parse_limits_the_size_of_a_set)
{
    struct np_intern *t = np_intern_new();
    char s[512];
    size_t off;
    int i;
    struct np_selector sel;
    struct np_error err;
    struct np_arena a;

    np_arena_init(&a);
    off = (size_t)snprintf(s, sizeof(s), "k in (");
    for (i = 0; i < 65; i++)
        off += (size_t)snprintf(s + off, sizeof(s) - off, "%sv%d", i ? "," : "",
                                i);
    snprintf(s + off, sizeof(s) - off, ")");
    np_error_init(&err);
    cr_assert_eq(np_selector_parse(s, t, &a, &sel, &err), -1);
    cr_assert(strstr(err.message, "more than 64 values") != NULL, "%s",
              err.message);
    /* 64 values are fine. */
    s[strlen(s) - 5] = ')';
    s[strlen(s) - 4] = '\0';
    np_error_init(&err);
    cr_assert_eq(np_selector_parse(s, t, &a, &sel, &err), 0, "%s: %s", s,
                 err.message);
    cr_assert_eq(sel.nreqs, 1);
    np_arena_free_all(&a);
    np_intern_free(t);
}

Test(selector, validate_prefixes_the_given_path)
{
    struct np_model_selector sel = fx_selector("app=web, tier In ()");
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(np_selector_validate(&sel,
                                      "spec.ingress[3].from[1]."
                                      "podSelector",
                                      &err),
                 -1);
    cr_assert_eq(err.code, NP_E_INVALID_SELECTOR);
    cr_assert_str_eq(err.path, "spec.ingress[3].from[1].podSelector."
                               "matchExpressions[0].values");
    sel = fx_selector("");
    np_error_init(&err);
    cr_assert_eq(np_selector_validate(&sel, "x", &err), 0);
    cr_assert_not(np_error_is_set(&err));
}
