// HTTP tasks' rules without PostgreSQL (see http_rules.hpp).
#include "http_rules.hpp"

#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <strings.h>

namespace chronos {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped_v4(const IpAddress &a) {
    return memcmp(a.bytes, kMappedPrefix, 12) == 0;
}

// Whether the first `bits` bits of `a` are those of `prefix` (given as bytes).
bool starts_with(const uint8_t *a, const uint8_t *prefix, int bits) {
    int whole = bits / 8;
    if (memcmp(a, prefix, whole) != 0)
        return false;
    int rest = bits % 8;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (prefix[whole] & mask);
}

AddressClass classify_v4(const uint8_t *b) {
    if (b[0] == 127)
        return AddressClass::loopback;
    if (b[0] == 169 && b[1] == 254)
        return b[2] == 169 && b[3] == 254 ? AddressClass::metadata : AddressClass::link_local;
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
        (b[0] == 100 && (b[1] & 0xc0) == 64) || (b[0] == 192 && b[1] == 0 && b[2] == 0) ||
        (b[0] == 198 && (b[1] & 0xfe) == 18))
        return AddressClass::private_network;  // RFC 1918, shared address space, IETF protocol and benchmark ranges
    if (b[0] == 0)
        return AddressClass::unspecified;
    if (b[0] >= 224)
        return AddressClass::multicast;  // multicast, reserved and broadcast
    return AddressClass::public_address;
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

bool is_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A host name: dot-separated labels of letters, digits, '-' and '_', at most 253 characters, a final dot allowed.
bool is_host_name(const char *text) {
    size_t length = strlen(text);
    if (length == 0 || length > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (!is_label_char(text[i]) || ++label > 63) {
            return false;
        }
    }
    return true;
}

size_t without_final_dot(const char *text) {
    size_t length = strlen(text);
    return length > 0 && text[length - 1] == '.' ? length - 1 : length;
}

}  // namespace

bool parse_ip_address(const char *text, IpAddress *out) noexcept {
    char buffer[64];
    size_t length = strlen(text);
    if (length == 0 || length >= sizeof buffer)
        return false;
    if (text[0] == '[') {
        if (length < 3 || text[length - 1] != ']')
            return false;
        memcpy(buffer, text + 1, length - 2);
        buffer[length - 2] = '\0';
    } else {
        memcpy(buffer, text, length + 1);
    }
    uint8_t v4[4];
    if (inet_pton(AF_INET, buffer, v4) == 1) {
        memcpy(out->bytes, kMappedPrefix, 12);
        memcpy(out->bytes + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buffer, out->bytes) == 1;
}

void format_ip_address(const IpAddress &address, char *out, int size) noexcept {
    if (is_mapped_v4(address))
        inet_ntop(AF_INET, address.bytes + 12, out, size);
    else
        inet_ntop(AF_INET6, address.bytes, out, size);
}

AddressClass classify_address(const IpAddress &address) noexcept {
    const uint8_t *b = address.bytes;
    if (is_mapped_v4(address))
        return classify_v4(b + 12);
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, nat64, 12) == 0)
        return classify_v4(b + 12);  // 64:ff9b::/96 reaches the IPv4 address it embeds
    static const uint8_t zero[16] = {};
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? AddressClass::loopback : AddressClass::unspecified;
    if (memcmp(b, zero, 12) == 0)
        return classify_v4(b + 12);  // IPv4-compatible (deprecated), treated as the IPv4 address
    static const uint8_t aws_metadata[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
    if (memcmp(b, aws_metadata, 16) == 0)
        return AddressClass::metadata;
    if ((b[0] & 0xfe) == 0xfc)
        return AddressClass::private_network;  // unique local fc00::/7
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return AddressClass::link_local;  // fe80::/10
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return AddressClass::private_network;  // site-local fec0::/10 (deprecated)
    if (b[0] == 0xff)
        return AddressClass::multicast;
    static const uint8_t six_to_four[2] = {0x20, 0x02};
    if (memcmp(b, six_to_four, 2) == 0) {
        uint8_t embedded[16];
        memcpy(embedded, kMappedPrefix, 12);
        memcpy(embedded + 12, b + 2, 4);
        return classify_v4(embedded + 12);  // 2002::/16 carries an IPv4 address
    }
    return AddressClass::public_address;
}

const char *address_class_name(AddressClass kind) noexcept {
    switch (kind) {
        case AddressClass::public_address: return "a public address";
        case AddressClass::loopback: return "a loopback address";
        case AddressClass::private_network: return "a private network address";
        case AddressClass::link_local: return "a link-local address";
        case AddressClass::metadata: return "the cloud metadata address";
        case AddressClass::unspecified: return "an unspecified address";
        case AddressClass::multicast: return "a multicast or reserved address";
    }
    return "an address";
}

bool parse_address_range(const char *text, AddressRange *out) noexcept {
    char address[64];
    const char *slash = strchr(text, '/');
    size_t length = slash ? (size_t)(slash - text) : strlen(text);
    if (length == 0 || length >= sizeof address)
        return false;
    memcpy(address, text, length);
    address[length] = '\0';
    if (address[0] == '[' || !parse_ip_address(address, &out->base))
        return false;
    bool v4 = strchr(address, ':') == nullptr;
    int max_bits = v4 ? 32 : 128;
    int bits = max_bits;
    if (slash != nullptr) {
        const char *digits = slash + 1;
        if (*digits == '\0' || strlen(digits) > 3)
            return false;
        bits = 0;
        for (const char *p = digits; *p; p++) {
            if (*p < '0' || *p > '9')
                return false;
            bits = bits * 10 + (*p - '0');
        }
        if (bits > max_bits)
            return false;
    }
    out->prefix = v4 ? 96 + bits : bits;
    return true;
}

bool range_contains(const AddressRange &range, const IpAddress &address) noexcept {
    return starts_with(address.bytes, range.base.bytes, range.prefix);
}

GrantForm grant_form(const char *host) noexcept {
    AddressRange range;
    if (parse_address_range(host, &range))
        return GrantForm::range;
    if (strncmp(host, "*.", 2) == 0)
        return is_host_name(host + 2) && host[strlen(host) - 1] != '.' ? GrantForm::wildcard : GrantForm::invalid;
    IpAddress address;
    if (parse_ip_address(host, &address))
        return GrantForm::invalid;  // a bracketed address: write it without brackets
    return is_host_name(host) && strchr(host, '/') == nullptr ? GrantForm::name : GrantForm::invalid;
}

bool grant_covers_name(const char *grant, const char *host) noexcept {
    size_t host_length = without_final_dot(host);
    if (strncmp(grant, "*.", 2) == 0) {
        const char *suffix = grant + 1;  // ".example.com"
        size_t suffix_length = without_final_dot(suffix);
        return host_length > suffix_length &&
               strncasecmp(host + host_length - suffix_length, suffix, suffix_length) == 0;
    }
    size_t grant_length = without_final_dot(grant);
    return grant_length == host_length && strncasecmp(grant, host, host_length) == 0;
}

bool http_method_known(const char *method) noexcept {
    static const char *const kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    for (const char *known : kMethods)
        if (strcmp(method, known) == 0)
            return true;
    return false;
}

const char *header_problem(const char *name, const char *value) noexcept {
    size_t length = strlen(name);
    if (length == 0 || length > 256)
        return "A header name has 1 to 256 characters.";
    for (const char *p = name; *p; p++)
        if (!is_token_char(*p))
            return "A header name is an HTTP token: letters, digits and !#$%&'*+-.^_`|~, with no blank, colon, CR or LF.";
    static const char *const kSetByChronos[] = {"user-agent", "idempotency-key"};
    for (const char *reserved : kSetByChronos)
        if (strcasecmp(name, reserved) == 0)
            return "pg_chronos sets User-Agent and Idempotency-Key on every request itself.";
    static const char *const kFraming[] = {"host", "content-length", "transfer-encoding", "connection", "upgrade",
                                           "te", "trailer", "expect", "keep-alive", "proxy-connection"};
    for (const char *reserved : kFraming)
        if (strcasecmp(name, reserved) == 0)
            return "This header decides where a request goes or how it is framed; libcurl sets it from the URL and body.";
    if (strlen(value) > 8192)
        return "A header value has at most 8192 characters.";
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n')
            return "A header value may not contain CR or LF.";
    return nullptr;
}

}  // namespace chronos
