/*
 * Addresses, CIDR blocks, protocols, port names and the checked number
 * parser: strict parsing (no leading zeros, zones or missing parts), the
 * canonical text, IPv4-mapped IPv6 taken as IPv4, host bits, containment and
 * the strict subset that ipBlock.except requires.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/net.h"

struct ip_case {
    char in[48];
    int family; /* 0: rejected */
    char text[48];
};

ParameterizedTestParameters(net, ip_parse_and_format)
{
    static struct ip_case cases[] = {
        { "10.0.0.1", 4, "10.0.0.1" },
        { "0.0.0.0", 4, "0.0.0.0" },
        { "255.255.255.255", 4, "255.255.255.255" },
        { "fd00::1", 6, "fd00::1" },
        { "FD00:0:0:0:0:0:0:1", 6, "fd00::1" },
        { "2001:db8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1" },
        { "::", 6, "::" },
        { "::1", 6, "::1" },
        /* IPv4-mapped IPv6 is the IPv4 address (Go's net.ParseIP). */
        { "::ffff:10.0.0.1", 4, "10.0.0.1" },
        { "::ffff:a00:1", 4, "10.0.0.1" },
        { "0:0:0:0:0:ffff:c0a8:1", 4, "192.168.0.1" },
        { "::fffe:a00:1", 6, "::fffe:a00:1" },
        /* Rejected: leading zeros, short or long forms, zones, junk. */
        { "010.0.0.1", 0, "" },
        { "10.0.0.01", 0, "" },
        { "256.0.0.1", 0, "" },
        { "1.2.3", 0, "" },
        { "1.2.3.4.5", 0, "" },
        { "1.2.3.", 0, "" },
        { " 1.2.3.4", 0, "" },
        { "1.2.3.4 ", 0, "" },
        { "", 0, "" },
        { "10.0.0.1/32", 0, "" },
        { "fe80::1%eth0", 0, "" },
        { "fe80::1%1", 0, "" },
        { "1::2::3", 0, "" },
        { "12345::1", 0, "" },
        { "::ffff:1.2.3", 0, "" },
        { "[::1]", 0, "" },
        { "localhost", 0, "" },
    };

    return cr_make_param_array(struct ip_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ip_case *c, net, ip_parse_and_format)
{
    struct np_ip ip;
    struct np_error err;
    char buf[NP_IP_STRLEN];

    np_error_init(&err);
    if (c->family == 0) {
        cr_assert_eq(np_ip_parse(c->in, &ip, &err), -1, "\"%s\" accepted",
                     c->in);
        cr_expect_eq(err.code, NP_E_INVALID_IP);
        cr_expect(strstr(err.message, "is not an IPv4 or IPv6 address") != NULL,
                  "%s", err.message);
        return;
    }
    cr_assert_eq(np_ip_parse(c->in, &ip, &err), 0, "\"%s\": %s", c->in,
                 err.message);
    cr_expect_eq(ip.family, c->family, "\"%s\"", c->in);
    np_ip_format(&ip, buf, sizeof(buf));
    cr_expect_str_eq(buf, c->text);
    /* An IPv4 address uses the first four bytes only. */
    if (ip.family == NP_AF_INET) {
        static const uint8_t zero[12];

        cr_expect(memcmp(ip.bytes + 4, zero, sizeof(zero)) == 0);
    }
}

/* np_ip_format() writes IPv4 addresses itself: the same text as
 * inet_ntop() for every value of every byte. */
Test(net, ipv4_format_matches_inet_ntop)
{
    char buf[NP_IP_STRLEN], want[INET_ADDRSTRLEN];
    struct np_ip ip;
    unsigned b, pos;

    memset(&ip, 0, sizeof(ip));
    ip.family = NP_AF_INET;
    for (pos = 0; pos < 4; pos++) {
        for (b = 0; b < 256; b++) {
            ip.bytes[0] = (uint8_t)(pos == 0 ? b : 10);
            ip.bytes[1] = (uint8_t)(pos == 1 ? b : 0);
            ip.bytes[2] = (uint8_t)(pos == 2 ? b : 255);
            ip.bytes[3] = (uint8_t)(pos == 3 ? b : 99);
            np_ip_format(&ip, buf, sizeof(buf));
            cr_assert_not_null(
                inet_ntop(AF_INET, ip.bytes, want, sizeof(want)));
            cr_assert_str_eq(buf, want);
        }
    }
}

Test(net, compare_orders_by_family_then_bytes)
{
    struct np_ip a, b, c, mapped;
    char buf[NP_IP_STRLEN];

    cr_assert_eq(np_ip_parse("10.0.0.1", &a, NULL), 0);
    cr_assert_eq(np_ip_parse("10.0.0.2", &b, NULL), 0);
    cr_assert_eq(np_ip_parse("::1", &c, NULL), 0);
    cr_assert_eq(np_ip_parse("::ffff:10.0.0.1", &mapped, NULL), 0);
    cr_assert_lt(np_ip_compare(&a, &b), 0);
    cr_assert_gt(np_ip_compare(&b, &a), 0);
    cr_assert_lt(np_ip_compare(&b, &c), 0, "IPv4 sorts before IPv6");
    cr_assert(np_ip_equal(&a, &mapped));
    cr_assert_not(np_ip_equal(&a, &b));
    memset(&a, 0, sizeof(a));
    np_ip_format(&a, buf, sizeof(buf));
    cr_assert_str_eq(buf, "?");
}

struct cidr_case {
    char in[48];
    bool ok;
    char text[48];
    bool host_bits;
};

ParameterizedTestParameters(net, cidr_parse)
{
    static struct cidr_case cases[] = {
        { "10.0.0.0/8", true, "10.0.0.0/8", false },
        { "10.1.2.3/8", true, "10.0.0.0/8", true },
        { "10.255.0.0/9", true, "10.128.0.0/9", true },
        { "10.128.0.0/9", true, "10.128.0.0/9", false },
        { "0.0.0.0/0", true, "0.0.0.0/0", false },
        { "10.0.0.0/0", true, "0.0.0.0/0", true },
        { "1.2.3.4/32", true, "1.2.3.4/32", false },
        { "1.2.3.4/31", true, "1.2.3.4/31", false },
        { "1.2.3.5/31", true, "1.2.3.4/31", true },
        { "fd00::/8", true, "fd00::/8", false },
        { "fd00::1/64", true, "fd00::/64", true },
        { "fd00::/7", true, "fc00::/7", true },
        { "fd00::1/128", true, "fd00::1/128", false },
        { "::/0", true, "::/0", false },
        { "2001:db8::ff/120", true, "2001:db8::/120", true },
        { "10.0.0.0/33", false, "", false },
        { "fd00::/129", false, "", false },
        { "10.0.0.0/-1", false, "", false },
        { "10.0.0.0/", false, "", false },
        { "10.0.0.0/ 8", false, "", false },
        { "10.0.0.0/8 ", false, "", false },
        { "10.0.0.0/8/9", false, "", false },
        { "10.0.0.0/x", false, "", false },
        { "/8", false, "", false },
        { "10.0.0.0", false, "", false },
        { "10.0.0/8", false, "", false },
        { "010.0.0.0/8", false, "", false },
        { "10.0.0.256/8", false, "", false },
        { "fe80::%eth0/10", false, "", false },
        { "::ffff:10.0.0.0/104", false, "", false },
        { "", false, "", false },
    };

    return cr_make_param_array(struct cidr_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cidr_case *c, net, cidr_parse)
{
    struct np_cidr cidr;
    struct np_error err;
    char buf[NP_CIDR_STRLEN];
    bool host_bits = !c->host_bits;

    np_error_init(&err);
    if (!c->ok) {
        cr_assert_eq(np_cidr_parse(c->in, &cidr, &host_bits, &err), -1,
                     "\"%s\" accepted", c->in);
        cr_expect_eq(err.code, NP_E_INVALID_CIDR);
        cr_expect(strstr(err.message, "is not a CIDR") != NULL, "%s",
                  err.message);
        return;
    }
    cr_assert_eq(np_cidr_parse(c->in, &cidr, &host_bits, &err), 0, "\"%s\": %s",
                 c->in, err.message);
    np_cidr_format(&cidr, buf, sizeof(buf));
    cr_expect_str_eq(buf, c->text);
    cr_expect_eq(host_bits, c->host_bits, "\"%s\" host bits", c->in);
    /* had_host_bits may be NULL. */
    cr_expect_eq(np_cidr_parse(c->in, &cidr, NULL, NULL), 0);
}

struct contains_case {
    char cidr[48];
    char ip[48];
    bool contains;
};

ParameterizedTestParameters(net, cidr_contains)
{
    static struct contains_case cases[] = {
        { "10.0.0.0/8", "10.0.0.0", true },
        { "10.0.0.0/8", "10.255.255.255", true },
        { "10.0.0.0/8", "11.0.0.0", false },
        { "10.0.0.0/8", "9.255.255.255", false },
        { "10.0.0.0/9", "10.127.255.255", true },
        { "10.0.0.0/9", "10.128.0.0", false },
        { "10.0.0.0/8", "::ffff:10.1.1.1", true },
        { "1.2.3.4/32", "1.2.3.4", true },
        { "1.2.3.4/32", "1.2.3.5", false },
        { "0.0.0.0/0", "1.2.3.4", true },
        { "0.0.0.0/0", "::1", false },
        { "::/0", "::1", true },
        { "::/0", "1.2.3.4", false },
        { "fd00::/96", "fd00::2:3", true },
        { "fd00::/96", "fd00::1:0:2:3", false },
        { "fd00::2:0/112", "fd00::2:ffff", true },
        { "fd00::2:0/112", "fd00::3:0", false },
        { "fd00::/7", "fc00::1", true },
        { "fd00::/7", "fdff::1", true },
        { "fd00::/7", "fe00::1", false },
        { "fd00::1/128", "fd00::1", true },
        { "fd00::1/128", "fd00::", false },
    };

    return cr_make_param_array(struct contains_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct contains_case *c, net, cidr_contains)
{
    struct np_cidr cidr;
    struct np_ip ip;

    cr_assert_eq(np_cidr_parse(c->cidr, &cidr, NULL, NULL), 0);
    cr_assert_eq(np_ip_parse(c->ip, &ip, NULL), 0);
    cr_expect_eq(np_cidr_contains(&cidr, &ip), c->contains, "%s in %s", c->ip,
                 c->cidr);
}

struct subset_case {
    char outer[48], inner[48];
    bool strict;
};

ParameterizedTestParameters(net, cidr_strict_subset)
{
    static struct subset_case cases[] = {
        { "10.0.0.0/8", "10.1.0.0/16", true },
        { "10.0.0.0/8", "10.255.255.255/32", true },
        { "10.0.0.0/31", "10.0.0.1/32", true },
        { "0.0.0.0/0", "10.0.0.0/8", true },
        { "::/0", "fd00::/8", true },
        { "fd00::/64", "fd00::/65", true },
        { "fd00::/64", "fd00:0:0:0:8000::/65", true },
        /* Equal is not strictly smaller; larger is not inside. */
        { "10.0.0.0/8", "10.0.0.0/8", false },
        { "10.0.0.0/16", "10.0.0.0/8", false },
        { "10.0.0.0/8", "11.0.0.0/16", false },
        { "10.0.0.0/16", "10.1.0.0/24", false },
        { "fd00::/64", "fd01::/80", false },
        /* Families never mix. */
        { "10.0.0.0/8", "fd00::/64", false },
        { "::/0", "10.0.0.0/8", false },
    };

    return cr_make_param_array(struct subset_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct subset_case *c, net, cidr_strict_subset)
{
    struct np_cidr outer, inner;

    cr_assert_eq(np_cidr_parse(c->outer, &outer, NULL, NULL), 0);
    cr_assert_eq(np_cidr_parse(c->inner, &inner, NULL, NULL), 0);
    cr_expect_eq(np_cidr_strict_subset(&outer, &inner), c->strict, "%s in %s",
                 c->inner, c->outer);
}

struct u32_case {
    char s[32];
    uint32_t min, max;
    bool ok;
    uint32_t out;
};

ParameterizedTestParameters(net, parse_u32_edges)
{
    static struct u32_case cases[] = {
        { "0", 0, 10, true, 0 },
        { "10", 0, 10, true, 10 },
        { "11", 0, 10, false, 0 },
        { "5", 6, 10, false, 0 },
        { "6", 6, 10, true, 6 },
        { "65535", 1, 65535, true, 65535 },
        { "65536", 1, 65535, false, 0 },
        { "0", 1, 65535, false, 0 },
        { "4294967295", 0, UINT32_MAX, true, UINT32_MAX },
        { "4294967296", 0, UINT32_MAX, false, 0 },
        { "99999999999999999999999", 0, UINT32_MAX, false, 0 },
        /* Only a plain canonical decimal. */
        { "", 0, 10, false, 0 },
        { "00", 0, 10, false, 0 },
        { "007", 0, 10, false, 0 },
        { "-1", 0, 10, false, 0 },
        { "+1", 0, 10, false, 0 },
        { " 1", 0, 10, false, 0 },
        { "1 ", 0, 10, false, 0 },
        { "1a", 0, 10, false, 0 },
        { "0x1", 0, 10, false, 0 },
        { "1.0", 0, 10, false, 0 },
    };

    return cr_make_param_array(struct u32_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct u32_case *c, net, parse_u32_edges)
{
    uint32_t out = 12345;
    int rc = np_parse_u32(c->s, c->min, c->max, &out);

    cr_expect_eq(rc, c->ok ? 0 : -1, "\"%s\" in [%u, %u]", c->s, c->min,
                 c->max);
    if (c->ok)
        cr_expect_eq(out, c->out);
    else
        cr_expect_eq(out, 12345, "out untouched on error");
}

Test(net, parse_u32_rejects_null)
{
    uint32_t out;

    cr_assert_eq(np_parse_u32(NULL, 0, 10, &out), -1);
}

struct port_name_case {
    char s[32];
    bool valid;
};

ParameterizedTestParameters(net, port_names)
{
    static struct port_name_case cases[] = {
        { "http", true },
        { "h", true },
        { "http-alt", true },
        { "a-1-b", true },
        { "a1", true },
        { "1a", true },
        { "abcdefghijklmno", true },
        { "abcdefghijklmnop", false },
        { "123", false },
        { "1-2", false },
        { "", false },
        { "HTTP", false },
        { "Http", false },
        { "http_alt", false },
        { "h.t", false },
        { "-http", false },
        { "http-", false },
        { "ht--tp", false },
        { "ht tp", false },
    };

    return cr_make_param_array(struct port_name_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct port_name_case *c, net, port_names)
{
    cr_expect_eq(np_port_name_is_valid(c->s), c->valid, "\"%s\"", c->s);
}

struct proto_case {
    char s[16];
    int proto; /* -1: rejected */
};

ParameterizedTestParameters(net, protocols)
{
    static struct proto_case cases[] = {
        { "TCP", NP_PROTO_TCP },
        { "UDP", NP_PROTO_UDP },
        { "SCTP", NP_PROTO_SCTP },
        /* Exact case, as the API server requires. */
        { "tcp", -1 },
        { "Tcp", -1 },
        { "udp", -1 },
        { "sctp", -1 },
        { "ICMP", -1 },
        { "TCP ", -1 },
        { "", -1 },
    };

    return cr_make_param_array(struct proto_case, cases,
                               sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct proto_case *c, net, protocols)
{
    enum np_proto p = NP_PROTO__MAX;
    struct np_error err;

    np_error_init(&err);
    if (c->proto < 0) {
        cr_assert_eq(np_proto_parse(c->s, &p, &err), -1, "\"%s\"", c->s);
        cr_expect_eq(err.code, NP_E_INVALID_PROTOCOL);
        cr_expect(strstr(err.message, "use TCP, UDP or SCTP") != NULL);
        return;
    }
    cr_assert_eq(np_proto_parse(c->s, &p, &err), 0, "\"%s\"", c->s);
    cr_expect_eq((int)p, c->proto);
    cr_expect_str_eq(np_proto_name(p), c->s);
}

Test(net, proto_name_of_an_unknown_value)
{
    cr_assert_str_eq(np_proto_name(NP_PROTO__MAX), "?");
    cr_assert_str_eq(np_proto_name((enum np_proto)77), "?");
}
