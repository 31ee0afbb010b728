/*
 * np_builder: validation as the API server does it (one table row per error,
 * with its code and exact field path), duplicates, POST /state merging with
 * np_builder_keep_from(), removal, warnings, and the snapshot it builds:
 * lookups, ordering, revision, reference counting and the np_state holder.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "core/builder.h"
#include "core/error.h"
#include "core/model.h"
#include "core/snapshot.h"
#include "tests/support/fixtures.h"

TestSuite(validation, .fini = fx_fini);
TestSuite(builder, .fini = fx_fini);
TestSuite(snapshot, .fini = fx_fini);

/* 63 and 64 characters: the longest label value and one too many. */
#define A63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A64 A63 "a"

struct invalid_case {
    char kind[8];   /* "ns", "pod" or "policy" */
    char ref[80];   /* name, or namespace/name */
    char text[200]; /* labels, pod spec or policy spec */
    enum np_errc code;
    char path[96];
    char message[64]; /* part of the message, "" to skip */
};

ParameterizedTestParameters(validation, each_error_has_its_code_and_path)
{
    static struct invalid_case cases[] = {
        /* Namespaces: names are DNS labels. */
        { "ns", "", "", NP_E_MISSING_FIELD, "metadata.name",
          "has no metadata.name" },
        { "ns", "Test-A", "", NP_E_INVALID_NAME, "metadata.name",
          "Namespace name \"Test-A\" is not valid" },
        { "ns", "a.b", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "ns", "-a", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "ns", "a-", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "ns", A64, "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "ns", "ok", "bad key=x", NP_E_INVALID_LABEL, "metadata.labels",
          "label key \"bad key\" is not valid" },
        { "ns", "ok", "team=-x", NP_E_INVALID_LABEL, "metadata.labels.team",
          "value \"-x\" of label \"team\"" },
        { "ns", "ok", "team=" A64, NP_E_INVALID_LABEL, "metadata.labels.team",
          "" },
        { "ns", "ok", "example.com/=x", NP_E_INVALID_LABEL, "metadata.labels",
          "" },
        { "ns", "ok", "Example.com/team=x", NP_E_INVALID_LABEL,
          "metadata.labels", "" },
        { "ns", "ok", "=x", NP_E_INVALID_LABEL, "metadata.labels", "" },
        /* Pods: names are DNS subdomains, namespaces DNS labels. */
        { "pod", "prod/", "", NP_E_MISSING_FIELD, "metadata.name",
          "Pod has no metadata.name" },
        { "pod", "prod/Web", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "pod", "prod/web_1", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "pod", "prod/web..1", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "pod", "Prod/web", "", NP_E_INVALID_NAME, "metadata.namespace",
          "namespace \"Prod\" is not a valid namespace name" },
        { "pod", "prod.x/web", "", NP_E_INVALID_NAME, "metadata.namespace",
          "" },
        { "pod", "prod/web", "labels: -app=web", NP_E_INVALID_LABEL,
          "metadata.labels", "" },
        { "pod", "prod/web", "labels: app=web, tier=" A64, NP_E_INVALID_LABEL,
          "metadata.labels.tier", "" },
        { "pod", "prod/web", "ips: 10.0.0.256", NP_E_INVALID_IP,
          "status.podIPs[0].ip", "\"10.0.0.256\" is not an IPv4 or IPv6" },
        { "pod", "prod/web", "ips: 10.0.0.1, 010.0.0.2", NP_E_INVALID_IP,
          "status.podIPs[1].ip", "" },
        { "pod", "prod/web", "ips: fe80::1%eth0", NP_E_INVALID_IP,
          "status.podIPs[0].ip", "" },
        { "pod", "prod/web", "ips: 10.0.0.0/24", NP_E_INVALID_IP,
          "status.podIPs[0].ip", "" },
        { "pod", "prod/web", "hostNetwork; hostIP: 1.2.3", NP_E_INVALID_IP,
          "status.hostIP", "" },
        { "pod", "prod/web", "ports: 0", NP_E_INVALID_PORT,
          "spec.containers[*].ports[0].containerPort",
          "containerPort 0 is out of range" },
        { "pod", "prod/web", "ports: http:80, 65536", NP_E_INVALID_PORT,
          "spec.containers[*].ports[1].containerPort", "" },
        { "pod", "prod/web", "ports: 80/tcp", NP_E_INVALID_PROTOCOL,
          "spec.containers[*].ports[0].protocol",
          "protocol \"tcp\" is not supported" },
        { "pod", "prod/web", "ports: HTTP:80", NP_E_INVALID_PORT,
          "spec.containers[*].ports[0].name", "" },
        { "pod", "prod/web", "ports: 8080:80", NP_E_INVALID_PORT,
          "spec.containers[*].ports[0].name", "" },
        /* NetworkPolicy metadata and spec.podSelector. */
        { "policy", "prod/", "", NP_E_MISSING_FIELD, "metadata.name",
          "NetworkPolicy has no metadata.name" },
        { "policy", "prod/Allow", "", NP_E_INVALID_NAME, "metadata.name", "" },
        { "policy", "bad_ns/p", "", NP_E_INVALID_NAME, "metadata.namespace",
          "" },
        { "policy", "prod/p", "podSelector: -app=web", NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchLabels",
          "matchLabels key \"-app\" is not a valid label key" },
        { "policy", "prod/p", "podSelector: app=-web", NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchLabels.app", "" },
        { "policy", "prod/p", "podSelector: app Bogus (a)",
          NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchExpressions[0].operator",
          "operator \"Bogus\" is not a valid selector operator" },
        { "policy", "prod/p", "podSelector: app in ()", NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchExpressions[0].values",
          "operator In needs at least one value" },
        { "policy", "prod/p", "podSelector: app notin ()",
          NP_E_INVALID_SELECTOR, "spec.podSelector.matchExpressions[0].values",
          "operator NotIn needs at least one value" },
        { "policy", "prod/p", "podSelector: app Exists (a)",
          NP_E_INVALID_SELECTOR, "spec.podSelector.matchExpressions[0].values",
          "operator Exists takes no values" },
        { "policy", "prod/p", "podSelector: app DoesNotExist (a)",
          NP_E_INVALID_SELECTOR, "spec.podSelector.matchExpressions[0].values",
          "" },
        /* Lowercase operators are kubectl syntax, not API values. */
        { "policy", "prod/p", "podSelector: app exists (a)",
          NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchExpressions[0].operator", "" },
        { "policy", "prod/p", "podSelector: app in (a), -x",
          NP_E_INVALID_SELECTOR, "spec.podSelector.matchExpressions[1].key",
          "" },
        { "policy", "prod/p", "podSelector: tier in (a,-b)",
          NP_E_INVALID_SELECTOR,
          "spec.podSelector.matchExpressions[0].values[1]",
          "value \"-b\" is not a valid label value" },
        { "policy", "prod/p", "podSelector: app=web, tier in (a), env notin ()",
          NP_E_INVALID_SELECTOR, "spec.podSelector.matchExpressions[1].values",
          "" },
        /* Peer selectors. */
        { "policy", "prod/p",
          "ingress: [{from: [pod(app=a), ns(team Bogus (x))]}]",
          NP_E_INVALID_SELECTOR,
          "spec.ingress[0].from[1].namespaceSelector.matchExpressions[0]."
          "operator",
          "" },
        { "policy", "prod/p", "egress: [{}, {to: [pod(-a=b)]}]",
          NP_E_INVALID_SELECTOR, "spec.egress[1].to[0].podSelector.matchLabels",
          "" },
        { "policy", "prod/p", "ingress: [{}, {}, {from: [ns(x in ())]}]",
          NP_E_INVALID_SELECTOR,
          "spec.ingress[2].from[0].namespaceSelector.matchExpressions[0]."
          "values",
          "" },
        /* ipBlock. */
        { "policy", "prod/p", "ingress: [{from: [ipBlock(10.0.0.0/33)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr",
          "\"10.0.0.0/33\" is not a CIDR" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock(fd00::/129)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr", "" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock(10.0.0.0)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr", "" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock(10.0.0/8)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr", "" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock(010.0.0.0/8)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr", "" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock(fd00::1::/64)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(::ffff:10.0.0.0/104)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.cidr",
          "IPv4-mapped" },
        { "policy", "prod/p", "ingress: [{from: [ipBlock()]}]",
          NP_E_MISSING_FIELD, "spec.ingress[0].from[0].ipBlock.cidr",
          "ipBlock needs a cidr" },
        { "policy", "prod/p", "egress: [{to: [ipBlock(10.0.0.0/33)]}]",
          NP_E_INVALID_CIDR, "spec.egress[0].to[0].ipBlock.cidr", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/16 except 10.1.0.0/24)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.except[0]",
          "must be a strict subset of cidr" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/16 except 10.0.0.0/16)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.except[0]", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/16 except 10.0.0.0/8)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.except[0]", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/8 except 10.1.0.0/16 "
          "fd00::/64)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.except[1]", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/8 except 10.1.0.0/33)]}]",
          NP_E_INVALID_CIDR, "spec.ingress[0].from[0].ipBlock.except[0]",
          "is not a CIDR" },
        { "policy", "prod/p",
          "egress: [{to: [pod({}), ipBlock(fd00::/64 except fd01::/80)]}]",
          NP_E_INVALID_CIDR, "spec.egress[0].to[1].ipBlock.except[0]", "" },
        /* Ports. */
        { "policy", "prod/p", "ingress: [{ports: [80/tcp]}]",
          NP_E_INVALID_PROTOCOL, "spec.ingress[0].ports[0].protocol",
          "use TCP, UDP or SCTP" },
        { "policy", "prod/p", "ingress: [{ports: [80/ICMP]}]",
          NP_E_INVALID_PROTOCOL, "spec.ingress[0].ports[0].protocol", "" },
        { "policy", "prod/p", "ingress: [{ports: [80, /udp]}]",
          NP_E_INVALID_PROTOCOL, "spec.ingress[0].ports[1].protocol", "" },
        { "policy", "prod/p", "egress: [{to: [], ports: [53/Udp]}]",
          NP_E_INVALID_PROTOCOL, "spec.egress[0].ports[0].protocol", "" },
        { "policy", "prod/p", "ingress: [{ports: [0]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].port", "port 0 is out of range" },
        { "policy", "prod/p", "ingress: [{ports: [65536]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].port", "" },
        { "policy", "prod/p", "ingress: [{ports: [-1]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].port", "" },
        { "policy", "prod/p", "ingress: [{ports: [HTTP]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].port", "neither a number nor a valid" },
        { "policy", "prod/p", "ingress: [{ports: [http_alt]}]",
          NP_E_INVALID_PORT, "spec.ingress[0].ports[0].port", "" },
        { "policy", "prod/p", "ingress: [{ports: [abcdefghijklmnop]}]",
          NP_E_INVALID_PORT, "spec.ingress[0].ports[0].port", "" },
        { "policy", "prod/p", "ingress: [{ports: [-http]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].port", "" },
        { "policy", "prod/p", "ingress: [{ports: [end=90]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].endPort", "port is missing" },
        { "policy", "prod/p", "ingress: [{ports: [http end=90]}]",
          NP_E_INVALID_PORT, "spec.ingress[0].ports[0].endPort",
          "port is a name" },
        { "policy", "prod/p", "ingress: [{ports: [90-80]}]", NP_E_INVALID_PORT,
          "spec.ingress[0].ports[0].endPort",
          "endPort 80 must be between port 90 and 65535" },
        { "policy", "prod/p", "ingress: [{ports: [80-65536]}]",
          NP_E_INVALID_PORT, "spec.ingress[0].ports[0].endPort", "" },
        { "policy", "prod/p", "egress: [{ports: [80, 443, 90-89/UDP]}]",
          NP_E_INVALID_PORT, "spec.egress[0].ports[2].endPort", "" },
        /* policyTypes. */
        { "policy", "prod/p", "policyTypes: [ingress]",
          NP_E_INVALID_POLICY_TYPE, "spec.policyTypes[0]",
          "policyType \"ingress\" is not valid" },
        { "policy", "prod/p", "policyTypes: [Ingress, Both]",
          NP_E_INVALID_POLICY_TYPE, "spec.policyTypes[1]", "" },
        { "policy", "prod/p", "policyTypes: [Ingress, Egress, Ingress]",
          NP_E_INVALID_POLICY_TYPE, "spec.policyTypes", "more than two" },
        /* Peers. */
        { "policy", "prod/p", "ingress: [{from: [{}]}]", NP_E_INVALID_PEER,
          "spec.ingress[0].from[0]",
          "a peer must set podSelector, namespaceSelector or ipBlock" },
        { "policy", "prod/p", "egress: [{to: [pod(a=b), {}]}]",
          NP_E_INVALID_PEER, "spec.egress[0].to[1]", "" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(10.0.0.0/8) pod(a=b)]}]",
          NP_E_INVALID_PEER, "spec.ingress[0].from[0]",
          "may not also set podSelector or namespaceSelector" },
        { "policy", "prod/p", "egress: [{to: [ns({}) ipBlock(10.0.0.0/8)]}]",
          NP_E_INVALID_PEER, "spec.egress[0].to[0]", "" },
    };

    return cr_make_param_array(struct invalid_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct invalid_case *c, validation,
                  each_error_has_its_code_and_path)
{
    struct np_builder *b = fx_builder();
    enum np_kind kind = strcmp(c->kind, "ns") == 0    ? NP_KIND_NAMESPACE
                        : strcmp(c->kind, "pod") == 0 ? NP_KIND_POD
                                                      : NP_KIND_POLICY;
    struct np_error err;
    int rc = fx_try_add(b, c->kind, c->ref, c->text, &err);

    cr_assert_eq(rc, -1, "%s %s {%s} was accepted", c->kind, c->ref, c->text);
    cr_expect_eq(err.code, c->code, "%s {%s}: code %s, want %s (%s)", c->ref,
                 c->text, np_errc_name(err.code), np_errc_name(c->code),
                 err.message);
    cr_expect_str_eq(err.path, c->path, "%s {%s}: %s", c->ref, c->text,
                     err.message);
    cr_expect(strstr(err.message, c->message) != NULL,
              "%s {%s}: message \"%s\" lacks \"%s\"", c->ref, c->text,
              err.message, c->message);
    cr_expect(err.origin != NULL && strstr(err.origin, "core/") != NULL,
              "origin \"%s\" names a core file", err.origin);
    /* A rejected object leaves nothing behind. */
    cr_expect_eq(np_builder_count(b, kind), 0);
    np_builder_free(b);
}

/* The same objects without their errors are accepted, so each row above
 * fails for the reason it states. */
struct valid_case {
    char kind[8];
    char ref[300];
    char text[200];
};

ParameterizedTestParameters(validation, valid_neighbours_are_accepted)
{
    static struct valid_case cases[] = {
        { "ns", "a-b", "" },
        { "ns", "ok", "example.com/team=x,team=,a.b_c-d=X.y_z-0" },
        { "ns", "ok", "team=" A63 },
        { "ns", A63, "" },
        /* A pod name is a DNS subdomain: dots, and up to 253 characters. */
        { "pod", "prod/web.1", "" },
        { "pod", "web", "labels: app=web" },
        { "pod", "prod/" A64 A64, "" },
        { "pod", "prod/" A63 "." A63 "." A63, "" },
        { "pod", "prod/web", "ips: 10.0.0.1, fd00::1, ::ffff:10.0.0.2" },
        { "pod", "prod/web",
          "ports: 1, http:65535/TCP, dns:53/UDP, s:9/SCTP, h-2:8" },
        { "pod", "prod/web", "hostNetwork; hostIP: 192.168.0.1" },
        { "policy", "prod/p", "podSelector: {}" },
        { "policy", "prod/p.v2",
          "podSelector: app in (a,b), !x, y, z notin (c)" },
        { "policy", "prod/p",
          "policyTypes: [Egress]; egress: [{to: [ipBlock(10.0.0.0/8 except "
          "10.1.0.0/16 10.2.3.4/32)]}]" },
        { "policy", "prod/p",
          "ingress: [{from: [ipBlock(fd00::/64 except fd00::/65)]}]" },
        { "policy", "prod/p",
          "ingress: [{ports: [1, 65535, 80-80, 1-65535/UDP, http, /SCTP]}]" },
        { "policy", "prod/p", "policyTypes: [Ingress, Ingress]" },
        { "policy", "prod/p", "policyTypes: []" },
        { "policy", "prod/p",
          "ingress: [{from: [ns({}) pod({}), ns(a=b), pod(c=d)]}]" },
    };

    return cr_make_param_array(struct valid_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct valid_case *c, validation,
                  valid_neighbours_are_accepted)
{
    struct np_builder *b = fx_builder();
    struct np_error err;

    cr_expect_eq(fx_try_add(b, c->kind, c->ref, c->text, &err), 0,
                 "%s %s {%s}: %s (%s)", c->kind, c->ref, c->text, err.message,
                 err.path);
    np_builder_free(b);
}

/* Object names are at most 253 characters (DNS-1123 subdomain); the labels
 * between dots have no limit of their own. */
Test(validation, names_are_limited_to_253_characters)
{
    struct np_builder *b = fx_builder();
    char ref[300], *name;
    struct np_error err;

    memcpy(ref, "prod/", 5);
    name = ref + 5;
    memset(name, 'a', 253);
    name[253] = '\0';
    name[100] = '.';
    cr_assert_eq(fx_try_pod(b, ref, "", &err), 0, "%s", err.message);
    cr_assert_eq(fx_try_policy(b, ref, "", &err), 0, "%s", err.message);
    name[253] = 'a';
    name[254] = '\0';
    cr_assert_eq(fx_try_pod(b, ref, "", &err), -1);
    cr_assert_eq(err.code, NP_E_INVALID_NAME);
    cr_assert_str_eq(err.path, "metadata.name");
    cr_assert_eq(fx_try_policy(b, ref, "", &err), -1);
    cr_assert_eq(err.code, NP_E_INVALID_NAME);
    np_builder_free(b);
}

Test(validation, missing_strings_in_the_model_are_errors)
{
    struct np_builder *b = fx_builder();
    struct np_model_policy *pol;
    struct np_model_pod *pod;
    struct np_model_expr expr = { .key = NULL, .op = "Exists" };
    const char *types[] = { NULL };
    struct np_error err;

    pod = fx_pod_model("prod/x", "");
    pod->name = NULL;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_pod(b, pod, &err), -1);
    cr_assert_eq(err.code, NP_E_MISSING_FIELD);
    cr_assert_str_eq(err.path, "metadata.name");

    pol = fx_policy_model("prod/p", "");
    pol->pod_selector.nexprs = 1;
    pol->pod_selector.exprs = &expr;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_policy(b, pol, &err), -1);
    cr_assert_eq(err.code, NP_E_INVALID_SELECTOR);
    cr_assert_str_eq(err.path, "spec.podSelector.matchExpressions[0].key");

    expr.key = "app";
    expr.op = NULL;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_policy(b, pol, &err), -1);
    cr_assert_str_eq(err.path, "spec.podSelector.matchExpressions[0].operator");

    pol = fx_policy_model("prod/p", "");
    pol->ntypes = 1;
    pol->types = types;
    np_error_init(&err);
    cr_assert_eq(np_builder_add_policy(b, pol, &err), -1);
    cr_assert_eq(err.code, NP_E_INVALID_POLICY_TYPE);
    cr_assert_str_eq(err.path, "spec.policyTypes[0]");
    cr_assert_eq(np_builder_count(b, NP_KIND_POLICY), 0);
    np_builder_free(b);
}

Test(validation, the_first_error_wins)
{
    struct np_builder *b = fx_builder();
    struct np_error err;

    cr_assert_eq(fx_try_policy(b, "prod/p",
                               "podSelector: -bad=x; "
                               "ingress: [{from: [{}], ports: [0]}]",
                               &err),
                 -1);
    cr_assert_str_eq(err.path, "spec.podSelector.matchLabels");
    cr_assert_eq(
        fx_try_policy(b, "prod/p", "ingress: [{from: [{}], ports: [0]}]", &err),
        -1);
    cr_assert_str_eq(err.path, "spec.ingress[0].from[0]");
    np_builder_free(b);
}

struct dup_case {
    char kind[8];
    char first[64], second[64];
    bool duplicate;
    char message[64];
};

ParameterizedTestParameters(validation, duplicates_by_kind_namespace_and_name)
{
    static struct dup_case cases[] = {
        { "ns", "prod", "prod", true, "Namespace prod appears twice" },
        { "pod", "prod/web", "prod/web", true, "Pod prod/web appears twice" },
        { "policy", "prod/p", "prod/p", true,
          "NetworkPolicy prod/p appears twice" },
        /* A missing namespace is "default". */
        { "pod", "web", "default/web", true, "Pod default/web" },
        { "policy", "default/p", "p", true, "" },
        { "pod", "prod/web", "stage/web", false, "" },
        { "policy", "prod/p", "prod/q", false, "" },
    };

    return cr_make_param_array(struct dup_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dup_case *c, validation,
                  duplicates_by_kind_namespace_and_name)
{
    struct np_builder *b = fx_builder();
    struct np_error err;

    cr_assert_eq(fx_try_add(b, c->kind, c->first, "", &err), 0);
    if (!c->duplicate) {
        cr_assert_eq(fx_try_add(b, c->kind, c->second, "", &err), 0);
        np_builder_free(b);
        return;
    }
    cr_assert_eq(fx_try_add(b, c->kind, c->second, "", &err), -1);
    cr_expect_eq(err.code, NP_E_DUPLICATE_OBJECT);
    cr_expect_str_eq(err.path, "metadata.name");
    cr_expect(strstr(err.message, c->message) != NULL, "%s", err.message);
    np_builder_free(b);
}

Test(validation, same_name_in_different_kinds_is_no_duplicate)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;

    fx_ns(b, "web", "");
    fx_pod(b, "web/web", "", NULL);
    fx_policy(b, "web/web", "");
    s = fx_build(b);
    cr_assert_not_null(np_snapshot_find_pod(s, "web", "web"));
    cr_assert_not_null(np_snapshot_find_policy(s, "web", "web"));
    np_snapshot_release(s);
}

/* --- builder operations --- */

static struct np_snapshot *
base_snapshot(uint64_t revision)
{
    struct np_builder *b = fx_builder();
    struct np_error err;
    struct np_snapshot *s;

    fx_ns(b, "prod", "team=a");
    fx_ns(b, "stage", "team=b");
    fx_pod(b, "prod/web", "app=web", "10.0.0.1");
    fx_pod(b, "prod/db", "app=db", "10.0.0.2");
    fx_pod(b, "stage/web", "app=web", "10.0.1.1");
    fx_pod(b, "lonely/pod", "app=lonely", "10.0.2.1");
    fx_policy(b, "prod/deny", "podSelector: {}");
    fx_policy(b, "stage/deny", "podSelector: {}");
    np_error_init(&err);
    s = np_builder_build(b, revision, &err);
    cr_assert_not_null(s, "%s", err.message);
    np_builder_free(b);
    return s;
}

static const char *
label_of(const struct np_snapshot *s, const struct np_labels *ls,
         const char *key)
{
    np_sym k = np_intern_find(s->syms, key);

    return k == NP_SYM_NONE ? "" : np_snapshot_str(s, np_labels_get(ls, k));
}

Test(builder, keep_from_carries_over_what_the_upload_does_not_replace)
{
    struct np_snapshot *base = base_snapshot(1), *s;
    struct np_builder *b = fx_builder();
    struct np_error err;
    const struct np_pod *web;

    /* The upload replaces prod's labels, prod/web and prod/deny, and adds
     * one pod. A pod named like a policy replaces nothing but that pod. */
    fx_ns(b, "prod", "team=z");
    fx_pod(b, "prod/web", "app=web2", "10.0.0.11");
    fx_pod(b, "prod/deny", "app=x", "10.0.0.12");
    fx_policy(b, "prod/deny", "podSelector: app=none");
    fx_pod(b, "stage/new", "app=new", "10.0.1.2");
    np_error_init(&err);
    cr_assert_eq(np_builder_keep_from(b, base, &err), 0);
    cr_assert_eq(np_builder_count(b, NP_KIND_NAMESPACE), 2,
                 "implicit namespaces are not objects");
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), 6);
    cr_assert_eq(np_builder_count(b, NP_KIND_POLICY), 2);
    s = np_builder_build(b, 2, &err);
    cr_assert_not_null(s, "%s", err.message);
    np_builder_free(b);
    cr_assert_eq(s->revision, 2);
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_namespace(s, "prod")->labels, "team"),
        "z");
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_namespace(s, "stage")->labels, "team"),
        "b");
    web = np_snapshot_find_pod(s, "prod", "web");
    cr_assert_str_eq(label_of(s, &web->labels, "app"), "web2");
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_pod(s, "prod", "db")->labels, "app"),
        "db");
    cr_assert_not_null(np_snapshot_find_pod(s, "stage", "web"));
    cr_assert_not_null(np_snapshot_find_pod(s, "stage", "new"));
    cr_assert_not_null(np_snapshot_find_pod(s, "lonely", "pod"));
    cr_assert(np_snapshot_find_namespace(s, "lonely")->implicit);
    /* The replaced policy selects nothing any more; stage's is kept. */
    cr_assert_eq(np_snapshot_find_policy(s, "prod", "deny")->nselected, 0);
    cr_assert_eq(np_snapshot_find_policy(s, "stage", "deny")->nselected, 2);
    cr_assert(fx_allowed(s, "stage/web", "prod/web", "80"));
    cr_assert_not(fx_allowed(s, "prod/web", "stage/web", "80"));
    /* The base is untouched. */
    cr_assert_eq(base->revision, 1);
    cr_assert_str_eq(
        label_of(base, &np_snapshot_find_pod(base, "prod", "web")->labels,
                 "app"),
        "web");
    np_snapshot_release(s);
    np_snapshot_release(base);
}

Test(builder, keep_from_an_empty_snapshot_keeps_nothing)
{
    struct np_snapshot *empty = np_snapshot_new_empty(), *s;
    struct np_builder *b = fx_builder();
    struct np_error err;

    cr_assert_not_null(empty);
    cr_assert_eq(empty->revision, 0);
    cr_assert_eq(empty->npods + empty->npolicies + empty->nnamespaces, 0);
    fx_pod(b, "a/p", "", NULL);
    np_error_init(&err);
    cr_assert_eq(np_builder_keep_from(b, empty, &err), 0);
    s = fx_build(b);
    cr_assert_eq(s->npods, 1);
    np_snapshot_release(s);
    np_snapshot_release(empty);
}

Test(builder, remove_objects_and_namespaces_with_their_contents)
{
    struct np_snapshot *base = base_snapshot(1), *s;
    struct np_builder *b = fx_builder();
    struct np_error err;

    np_error_init(&err);
    cr_assert_eq(np_builder_keep_from(b, base, &err), 0);
    cr_assert(np_builder_remove(b, NP_KIND_POD, "prod", "db"));
    cr_assert_not(np_builder_remove(b, NP_KIND_POD, "prod", "db"),
                  "already removed");
    cr_assert_not(np_builder_remove(b, NP_KIND_POD, "prod", "nope"));
    cr_assert_not(np_builder_remove(b, NP_KIND_POLICY, "prod", "web"),
                  "web is a pod, not a policy");
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), 3);
    /* Deleting a namespace deletes its pods and policies. */
    cr_assert(np_builder_remove(b, NP_KIND_NAMESPACE, NULL, "stage"));
    cr_assert_eq(np_builder_count(b, NP_KIND_NAMESPACE), 1);
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), 2);
    cr_assert_eq(np_builder_count(b, NP_KIND_POLICY), 1);
    /* An implicit namespace is only its contents. */
    cr_assert(np_builder_remove(b, NP_KIND_NAMESPACE, NULL, "lonely"));
    cr_assert_not(np_builder_remove(b, NP_KIND_NAMESPACE, NULL, "lonely"));
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), 1);
    /* A removed object may be added again. */
    fx_pod(b, "prod/db", "app=db2", "10.0.0.2");
    s = fx_build(b);
    cr_assert_eq(s->nnamespaces, 1);
    cr_assert_null(np_snapshot_find_namespace(s, "stage"));
    cr_assert_null(np_snapshot_find_namespace(s, "lonely"));
    cr_assert_null(np_snapshot_find_policy(s, "stage", "deny"));
    cr_assert_not_null(np_snapshot_find_policy(s, "prod", "deny"));
    cr_assert_eq(s->npods, 2);
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_pod(s, "prod", "db")->labels, "app"),
        "db2");
    np_snapshot_release(s);
    np_snapshot_release(base);
}

Test(builder, remove_pod_without_namespace_means_default)
{
    struct np_builder *b = fx_builder();

    fx_pod(b, "web", "", NULL);
    fx_policy(b, "default/p", "");
    cr_assert(np_builder_remove(b, NP_KIND_POD, NULL, "web"));
    cr_assert(np_builder_remove(b, NP_KIND_POLICY, NULL, "p"));
    cr_assert_eq(np_builder_count(b, NP_KIND_POD), 0);
    cr_assert_eq(np_builder_count(b, NP_KIND_POLICY), 0);
    np_builder_free(b);
}

static bool
has_warning(const struct np_builder *b, const char *text)
{
    size_t i;

    for (i = 0; i < np_builder_nwarnings(b); i++) {
        if (strstr(np_builder_warning(b, i), text) != NULL)
            return true;
    }
    return false;
}

Test(builder, warnings_for_host_bits_duplicate_ips_and_ignored_rules)
{
    struct np_builder *b = fx_builder();
    struct np_error err;
    struct np_snapshot *s;
    const struct np_pod *p;
    struct np_ip ip;

    fx_pod(b, "a/first", "app=x", "10.0.0.5");
    fx_pod(b, "b/second", "app=x", "10.0.0.5");
    fx_pod(b, "b/finished", "app=x", "10.0.0.9");
    fx_pod_spec(b, "b/done", "ips: 10.0.0.9; phase: Succeeded");
    fx_pod_ports(b, "a/ports", "", "10.0.0.6", "http:80,http:8080");
    fx_policy(b, "a/sloppy", "ingress: [{from: [ipBlock(10.1.2.3/16)]}]");
    fx_policy(b, "a/typed",
              "policyTypes: [Egress]; ingress: [{}]; egress: [{}]");
    cr_assert_eq(np_builder_nwarnings(b), 2, "host bits and port name");
    cr_assert(has_warning(b, "spec.ingress[0].from[0].ipBlock.cidr: "
                             "\"10.1.2.3/16\" has host bits set; it means "
                             "10.1.0.0/16"));
    cr_assert(has_warning(b, "port name \"http\" is used more than once"));
    cr_assert_null(np_builder_warning(b, 2));
    np_error_init(&err);
    s = np_builder_build(b, 7, &err);
    cr_assert_not_null(s);
    /* Warnings survive the build, which adds the shared address and the
     * rules the policyTypes leave out. */
    cr_assert_eq(np_builder_nwarnings(b), 4);
    cr_assert(has_warning(b, "NetworkPolicy a/typed has ingress rules but "
                             "its policyTypes leave out Ingress"));
    cr_assert(has_warning(b, "pods a/first and b/second both have IP "
                             "10.0.0.5"));
    cr_assert_not(has_warning(b, "10.0.0.9"),
                  "a finished pod shares no address");
    np_builder_free(b);
    cr_assert_eq(s->revision, 7);
    /* The address means the first pod in namespace/name order. */
    cr_assert_eq(np_ip_parse("10.0.0.5", &ip, NULL), 0);
    p = np_snapshot_find_pod_by_ip(s, &ip);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->name, "first");
    /* The sloppy CIDR means its network. */
    cr_assert(fx_allowed(s, "10.1.200.1", "a/ports", "80"));
    cr_assert_not(fx_allowed(s, "10.2.0.1", "a/ports", "80"));
    np_snapshot_release(s);
}

/* --- the snapshot --- */

Test(snapshot, lookups_find_objects_sorted_by_namespace_and_name)
{
    struct np_snapshot *s = base_snapshot(42);
    struct np_arena a;
    uint32_t i;

    np_arena_init(&a);
    cr_assert_eq(s->revision, 42);
    cr_assert_eq(s->nnamespaces, 3);
    cr_assert_eq(s->ndeclared_namespaces, 2);
    cr_assert_str_eq(s->namespaces[0].name, "lonely");
    cr_assert_str_eq(s->namespaces[1].name, "prod");
    cr_assert_str_eq(s->namespaces[2].name, "stage");
    for (i = 1; i < s->npods; i++) {
        const struct np_pod *x = &s->pods[i - 1], *y = &s->pods[i];
        int c = strcmp(s->namespaces[x->ns].name, s->namespaces[y->ns].name);

        cr_assert(c < 0 || (c == 0 && strcmp(x->name, y->name) < 0));
        cr_assert_eq(y->id, i);
    }
    cr_assert_eq(s->namespaces[1].npods, 2);
    cr_assert_str_eq(s->pods[s->namespaces[1].first_pod].name, "db");
    cr_assert_eq(s->namespaces[1].npolicies, 1);
    cr_assert_str_eq(s->policies[s->namespaces[1].first_policy].name, "deny");

    cr_assert_not_null(np_snapshot_find_namespace(s, "prod"));
    cr_assert_null(np_snapshot_find_namespace(s, "prods"));
    cr_assert_null(np_snapshot_find_namespace(s, ""));
    cr_assert_str_eq(np_snapshot_find_pod(s, "prod", "web")->name, "web");
    cr_assert_null(np_snapshot_find_pod(s, "stage", "db"));
    cr_assert_null(np_snapshot_find_pod(s, "nowhere", "web"));
    cr_assert_not_null(np_snapshot_find_policy(s, "stage", "deny"));
    cr_assert_null(np_snapshot_find_policy(s, "lonely", "deny"));
    cr_assert_null(np_snapshot_find_policy(s, "prod", "web"));
    cr_assert_str_eq(np_pod_ref(s, np_snapshot_find_pod(s, "stage", "web"), &a),
                     "stage/web");
    cr_assert_str_eq(
        np_policy_ref(s, np_snapshot_find_policy(s, "prod", "deny"), &a),
        "prod/deny");
    cr_assert_str_eq(np_dir_name(NP_DIR_EGRESS), "egress");
    cr_assert_str_eq(np_dir_type_name(NP_DIR_INGRESS), "Ingress");
    /* The snapshot keeps the models it was built from. */
    cr_assert_str_eq(np_snapshot_find_pod(s, "prod", "web")->model->name,
                     "web");
    cr_assert_str_eq(
        np_snapshot_find_pod(s, "lonely", "pod")->model->namespace_, "lonely");
    np_arena_free_all(&a);
    np_snapshot_release(s);
}

Test(snapshot, references_keep_it_alive_until_the_last_release)
{
    struct np_snapshot *s = base_snapshot(1);

    cr_assert_eq(atomic_load(&s->refs), 1);
    cr_assert_eq(np_snapshot_retain(s), s);
    cr_assert_eq(atomic_load(&s->refs), 2);
    np_snapshot_release(s);
    cr_assert_eq(atomic_load(&s->refs), 1);
    /* Still readable with the remaining reference. */
    cr_assert_not_null(np_snapshot_find_pod(s, "prod", "web"));
    np_snapshot_release(s);
    np_snapshot_release(NULL);
}

Test(snapshot, state_publishes_new_snapshots_to_readers)
{
    struct np_state st;
    struct np_error err;
    struct np_snapshot *first, *reader, *next;

    np_error_init(&err);
    cr_assert_eq(np_state_init(&st, &err), 0);
    first = np_state_acquire(&st);
    cr_assert_eq(first->revision, 0);
    cr_assert_eq(atomic_load(&first->refs), 2);
    np_snapshot_release(first);

    np_state_writer_lock(&st);
    next = base_snapshot(1);
    reader = np_state_acquire(&st);
    np_state_publish(&st, next);
    np_state_writer_unlock(&st);
    /* The reader keeps the old snapshot it acquired. */
    cr_assert_eq(reader->revision, 0);
    cr_assert_eq(atomic_load(&reader->refs), 1);
    np_snapshot_release(reader);
    reader = np_state_acquire(&st);
    cr_assert_eq(reader, next);
    cr_assert_eq(reader->revision, 1);
    np_snapshot_release(reader);
    np_state_fini(&st);
}

/* The pod index: every pod is found by its namespace and name, by
 * np_snapshot_find_pod() and by the hashed lookup batches use (with the
 * prefetches before it), and keys that only differ in where the namespace
 * ends and the name begins are different pods. */
Test(snapshot, pods_are_found_by_namespace_and_name)
{
    struct np_builder *b = fx_builder();
    struct np_snapshot *s;
    struct np_error err;
    char ref[64], ns[32], name[32];
    unsigned i;

    for (i = 0; i < 3000; i++) {
        snprintf(ref, sizeof(ref), "ns-%u/pod-%u-%s", i % 37, i,
                 i % 2 ? "abcdefghijklmnopq" : "x");
        fx_pod(b, ref, "app=a", NULL);
    }
    /* "a-b" + "c" and "a" + "b-c": the same bytes, split differently. */
    fx_pod(b, "a-b/c", "app=first", NULL);
    fx_pod(b, "a/b-c", "app=second", NULL);
    np_error_init(&err);
    s = np_builder_build(b, 1, &err);
    cr_assert_not_null(s, "%s", err.message);
    np_builder_free(b);
    for (i = 0; i < 3000; i++) {
        const struct np_pod *p;
        uint32_t h;

        snprintf(ns, sizeof(ns), "ns-%u", i % 37);
        snprintf(name, sizeof(name), "pod-%u-%s", i,
                 i % 2 ? "abcdefghijklmnopq" : "x");
        p = np_snapshot_find_pod(s, ns, name);
        cr_assert_not_null(p, "%s/%s", ns, name);
        cr_assert_str_eq(p->name, name);
        cr_assert_str_eq(s->namespaces[p->ns].name, ns);
        h = np_snapshot_pod_hash(ns, strlen(ns), name, strlen(name));
        np_snapshot_prefetch_pod(s, h, 0);
        np_snapshot_prefetch_pod(s, h, 1);
        cr_assert_eq(np_snapshot_find_pod_hashed(s, ns, name, h), p);
        /* The right name in another namespace is another key. */
        snprintf(ns, sizeof(ns), "ns-%u", i % 37 + 37);
        cr_assert_null(np_snapshot_find_pod(s, ns, name));
    }
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_pod(s, "a-b", "c")->labels, "app"),
        "first");
    cr_assert_str_eq(
        label_of(s, &np_snapshot_find_pod(s, "a", "b-c")->labels, "app"),
        "second");
    cr_assert_null(np_snapshot_find_pod(s, "a", "b"));
    cr_assert_null(np_snapshot_find_pod(s, "", ""));
    np_snapshot_release(s);
}
