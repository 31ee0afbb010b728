/*
 * Addresses, CIDR blocks, protocols and port names. Addresses go through
 * inet_pton, which already rejects IPv4 octets with leading zeros and IPv6
 * zones; an IPv4-mapped IPv6 address is taken as the IPv4 address it maps, as
 * Go's net.ParseIP (and so the API server) does.
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const proto_names[NP_PROTO__MAX] = {
    [NP_PROTO_TCP] = "TCP",
    [NP_PROTO_UDP] = "UDP",
    [NP_PROTO_SCTP] = "SCTP",
};

static int
ip_parse(const char *s, struct np_ip *out)
{
    static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff };

    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = NP_AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = NP_AF_INET6;
        if (memcmp(out->bytes, v4mapped, sizeof(v4mapped)) == 0) {
            memmove(out->bytes, out->bytes + 12, 4);
            memset(out->bytes + 4, 0, 12);
            out->family = NP_AF_INET;
        }
        return 0;
    }
    return -1;
}

int
np_ip_parse(const char *s, struct np_ip *out, struct np_error *err)
{
    if (ip_parse(s, out) != 0)
        return np_error_set(err, NP_E_INVALID_IP,
                            "\"%.64s\" is not an IPv4 or IPv6 address", s);
    return 0;
}

void
np_ip_format(const struct np_ip *ip, char *buf, size_t len)
{
    int af = ip->family == NP_AF_INET6 ? AF_INET6 : AF_INET;

    /* IPv4 by hand: inet_ntop() goes through sprintf, and every answer
     * with a trace formats a few addresses. */
    if (ip->family == NP_AF_INET && len >= 16) {
        char *p = buf;
        int i;

        for (i = 0; i < 4; i++) {
            unsigned b = ip->bytes[i];

            if (i > 0)
                *p++ = '.';
            if (b >= 100)
                *p++ = (char)('0' + b / 100);
            if (b >= 10)
                *p++ = (char)('0' + b / 10 % 10);
            *p++ = (char)('0' + b % 10);
        }
        *p = '\0';
        return;
    }
    if (ip->family == NP_AF_NONE ||
        inet_ntop(af, ip->bytes, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

bool
np_ip_equal(const struct np_ip *a, const struct np_ip *b)
{
    return np_ip_compare(a, b) == 0;
}

int
np_ip_compare(const struct np_ip *a, const struct np_ip *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

static unsigned
family_bits(uint8_t family)
{
    return family == NP_AF_INET ? 32 : 128;
}

/* Clears the bits of ip past prefix; returns true when any was set. */
static bool
mask_host_bits(struct np_ip *ip, unsigned prefix)
{
    bool had = false;
    unsigned i;

    for (i = 0; i < 16; i++) {
        unsigned bit = i * 8;
        uint8_t keep;

        if (bit >= prefix)
            keep = 0;
        else if (bit + 8 <= prefix)
            keep = 0xff;
        else
            keep = (uint8_t)(0xff << (8 - (prefix - bit)));
        if ((ip->bytes[i] & ~keep) != 0)
            had = true;
        ip->bytes[i] &= keep;
    }
    return had;
}

int
np_cidr_parse(const char *s, struct np_cidr *out, bool *had_host_bits,
              struct np_error *err)
{
    char addr[NP_IP_STRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t alen;
    uint32_t prefix;
    bool had;

    if (slash == NULL)
        return np_error_set(err, NP_E_INVALID_CIDR,
                            "\"%.64s\" is not a CIDR: expected ADDRESS/PREFIX, "
                            "e.g. 10.0.0.0/16",
                            s);
    alen = (size_t)(slash - s);
    if (alen == 0 || alen >= sizeof(addr))
        return np_error_set(err, NP_E_INVALID_CIDR,
                            "\"%.64s\" is not a CIDR: bad address part", s);
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (ip_parse(addr, &out->ip) != 0)
        return np_error_set(err, NP_E_INVALID_CIDR,
                            "\"%.64s\" is not a CIDR: \"%s\" is not an IPv4 "
                            "or IPv6 address",
                            s, addr);
    /* An IPv4-mapped address keeps its IPv6 prefix length out of scope: the
     * API server rejects such CIDRs too. */
    if (strchr(addr, ':') != NULL && out->ip.family == NP_AF_INET)
        return np_error_set(err, NP_E_INVALID_CIDR,
                            "\"%.64s\" is not a CIDR: IPv4-mapped IPv6 "
                            "addresses are not accepted",
                            s);
    if (np_parse_u32(slash + 1, 0, family_bits(out->ip.family), &prefix) != 0)
        return np_error_set(err, NP_E_INVALID_CIDR,
                            "\"%.64s\" is not a CIDR: the prefix length must "
                            "be a number from 0 to %u",
                            s, family_bits(out->ip.family));
    out->prefix = (uint8_t)prefix;
    had = mask_host_bits(&out->ip, prefix);
    if (had_host_bits != NULL)
        *had_host_bits = had;
    return 0;
}

void
np_cidr_format(const struct np_cidr *c, char *buf, size_t len)
{
    char ip[NP_IP_STRLEN];

    size_t n;
    unsigned pfx = c->prefix;
    char tail[5], *t = tail;

    if (len == 0)
        return;
    /* Traces format these in every ipBlock sentence: no printf. */
    np_ip_format(&c->ip, ip, sizeof(ip));
    *t++ = '/';
    if (pfx >= 100)
        *t++ = (char)('0' + pfx / 100);
    if (pfx >= 10)
        *t++ = (char)('0' + pfx / 10 % 10);
    *t++ = (char)('0' + pfx % 10);
    n = strlen(ip);
    if (n > len - 1)
        n = len - 1;
    memcpy(buf, ip, n);
    if ((size_t)(t - tail) > len - 1 - n)
        t = tail + (len - 1 - n);
    memcpy(buf + n, tail, (size_t)(t - tail));
    buf[n + (size_t)(t - tail)] = '\0';
}

bool
np_cidr_contains(const struct np_cidr *c, const struct np_ip *ip)
{
    unsigned full = c->prefix / 8, rest = c->prefix % 8;

    if (c->ip.family != ip->family)
        return false;
    if (c->ip.family == NP_AF_INET) {
        /* The common case in one comparison of 32-bit words. */
        uint32_t a = (uint32_t)c->ip.bytes[0] << 24 |
                     (uint32_t)c->ip.bytes[1] << 16 |
                     (uint32_t)c->ip.bytes[2] << 8 | c->ip.bytes[3];
        uint32_t b = (uint32_t)ip->bytes[0] << 24 |
                     (uint32_t)ip->bytes[1] << 16 |
                     (uint32_t)ip->bytes[2] << 8 | ip->bytes[3];
        uint32_t mask = c->prefix == 0 ? 0 : ~(uint32_t)0 << (32 - c->prefix);

        return (a & mask) == (b & mask);
    }
    if (memcmp(c->ip.bytes, ip->bytes, full) != 0)
        return false;
    if (rest != 0) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));

        if ((ip->bytes[full] & mask) != c->ip.bytes[full])
            return false;
    }
    return true;
}

bool
np_cidr_strict_subset(const struct np_cidr *outer, const struct np_cidr *inner)
{
    return outer->ip.family == inner->ip.family &&
           inner->prefix > outer->prefix && np_cidr_contains(outer, &inner->ip);
}

int
np_proto_parse(const char *s, enum np_proto *out, struct np_error *err)
{
    int p;

    for (p = 0; p < NP_PROTO__MAX; p++) {
        if (strcmp(s, proto_names[p]) == 0) {
            *out = (enum np_proto)p;
            return 0;
        }
    }
    return np_error_set(err, NP_E_INVALID_PROTOCOL,
                        "protocol \"%.32s\" is not supported: use TCP, UDP or "
                        "SCTP (upper case)",
                        s);
}

const char *
np_proto_name(enum np_proto p)
{
    if ((unsigned)p >= NP_PROTO__MAX)
        return "?";
    return proto_names[p];
}

bool
np_port_name_is_valid(const char *s)
{
    size_t len = strlen(s), i;
    bool letter = false;

    if (len == 0 || len > 15 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c >= 'a' && c <= 'z')
            letter = true;
        else if (c == '-') {
            if (s[i + 1] == '-')
                return false;
        } else if (!(c >= '0' && c <= '9'))
            return false;
    }
    return letter;
}

int
np_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    unsigned long long v = 0;
    const char *p;

    if (s == NULL || *s == '\0')
        return -1;
    for (p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
        if (v > 0xffffffffULL)
            return -1;
    }
    /* No leading zeros except "0" itself, as in a canonical number. */
    if (s[0] == '0' && s[1] != '\0')
        return -1;
    if (v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}
