// The rules of HTTP tasks that need no PostgreSQL: which methods and headers a task may write, what an address or an
// address range is, which addresses are internal, and whether a grant of chronos.http_grants covers a host. Used by
// src/pg/kinds/http (checks when a row is written, and on every connection a run makes). Plain data in and out.
#pragma once
#include "core.hpp"

namespace chronos {

// An IP address, IPv4 kept as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so that one range test serves both.
struct IpAddress {
    uint8_t bytes[16];
};

// "127.0.0.1", "::1", "[::1]". False for anything else (host names, ports, zone ids).
bool parse_ip_address(const char *text, IpAddress *out) noexcept;

// Writes the address as text ("127.0.0.1", "::1") into `out` (at least 64 bytes).
void format_ip_address(const IpAddress &address, char *out, int size) noexcept;

// Where an address leads. Anything but public_address is internal: reachable from the database server and perhaps
// nowhere else, so a role that is not a superuser reaches it only through a range grant that names it.
enum class AddressClass { public_address, loopback, private_network, link_local, metadata, unspecified, multicast };
AddressClass classify_address(const IpAddress &address) noexcept;
const char *address_class_name(AddressClass kind) noexcept;  // "loopback", "a private network", …

// A range in CIDR form: "10.0.0.0/8", "fd00::/8", or one address ("127.0.0.1" is 127.0.0.1/32).
struct AddressRange {
    IpAddress base;
    int prefix;  // in bits of the 128-bit form
};
bool parse_address_range(const char *text, AddressRange *out) noexcept;
bool range_contains(const AddressRange &range, const IpAddress &address) noexcept;

// What a chronos.http_grants.host is: an exact host name, "*.suffix", or an address range; invalid otherwise.
enum class GrantForm { name, wildcard, range, invalid };
GrantForm grant_form(const char *host) noexcept;

// Whether grant `grant` (a name or a wildcard) covers host name `host`, ignoring case and a final dot. "*.example.com"
// covers "a.example.com" and "a.b.example.com", not "example.com".
bool grant_covers_name(const char *grant, const char *host) noexcept;

// The request methods an HTTP task may use.
bool http_method_known(const char *method) noexcept;

// Why request header `name: value` may not be written, or nullptr when it may: a name must be an HTTP token, a value
// has no CR, LF or NUL, and the headers pg_chronos sets itself (or that would change how the request is framed or
// where it goes) are refused.
const char *header_problem(const char *name, const char *value) noexcept;

}  // namespace chronos
