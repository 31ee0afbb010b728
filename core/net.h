/*
 * IPv4 and IPv6 addresses and CIDR blocks, and the protocol and port types
 * shared by the model and the evaluator. Parsing is strict: "10.0.0.0/33",
 * "1.2.3", leading zeros in IPv4 octets and zone suffixes are rejected.
 */
#ifndef NP_NET_H
#define NP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum np_family {
    NP_AF_NONE = 0,
    NP_AF_INET = 4,
    NP_AF_INET6 = 6,
};

/* An address; IPv4 uses the first four bytes. */
struct np_ip {
    uint8_t family; /* enum np_family */
    uint8_t bytes[16];
};

struct np_cidr {
    struct np_ip ip; /* host bits cleared */
    uint8_t prefix;
};

enum np_proto { NP_PROTO_TCP, NP_PROTO_UDP, NP_PROTO_SCTP, NP_PROTO__MAX };

/* Longest text np_ip_format() writes, NUL included. */
#define NP_IP_STRLEN   46
#define NP_CIDR_STRLEN 50

/* Parses an IPv4 or IPv6 address. Returns 0, or -1 with err set. */
int np_ip_parse(const char *s, struct np_ip *out, struct np_error *err);

/* Writes the canonical text of ip into buf (NP_IP_STRLEN bytes). */
void np_ip_format(const struct np_ip *ip, char *buf, size_t len);

/* Returns true when a and b are the same address. */
bool np_ip_equal(const struct np_ip *a, const struct np_ip *b);

/* Orders addresses (family first); for sorting and binary search. */
int np_ip_compare(const struct np_ip *a, const struct np_ip *b);

/* Parses "ADDR/PREFIX". *had_host_bits is set when ADDR had bits set beyond
 * the prefix (they are cleared, as the API server's ParseCIDRSloppy does);
 * had_host_bits may be NULL. Returns 0, or -1 with err set. */
int np_cidr_parse(const char *s, struct np_cidr *out, bool *had_host_bits,
                  struct np_error *err);

/* Writes "ADDR/PREFIX" into buf (NP_CIDR_STRLEN bytes). */
void np_cidr_format(const struct np_cidr *c, char *buf, size_t len);

/* Returns true when ip is inside c (same family and prefix). */
bool np_cidr_contains(const struct np_cidr *c, const struct np_ip *ip);

/* Returns true when inner is a strict subset of outer (same family, longer
 * prefix, inside), as ipBlock.except requires. */
bool np_cidr_strict_subset(const struct np_cidr *outer,
                           const struct np_cidr *inner);

/* Parses "TCP", "UDP" or "SCTP" (exact case, as the API server requires).
 * Returns 0, or -1 with err set. */
int np_proto_parse(const char *s, enum np_proto *out, struct np_error *err);

/* Returns "TCP", "UDP" or "SCTP". */
const char *np_proto_name(enum np_proto p);

/* Returns true when s is a valid port name (IANA_SVC_NAME: 1-15 lowercase
 * letters, digits and '-', at least one letter, no leading, trailing or
 * double '-'). */
bool np_port_name_is_valid(const char *s);

/* Parses a decimal number in [min, max] with nothing around it. Returns 0, or
 * -1 when s is not such a number. */
int np_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif
