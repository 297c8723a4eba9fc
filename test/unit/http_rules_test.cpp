// HTTP tasks' rules: methods, headers, addresses, ranges and grants (src/core/http_rules.hpp).
#include "http_rules.hpp"

#include <gtest/gtest.h>

using namespace chronos;

namespace {

AddressClass class_of(const char *text) {
    IpAddress address;
    EXPECT_TRUE(parse_ip_address(text, &address)) << text;
    return classify_address(address);
}

bool in_range(const char *range_text, const char *address_text) {
    AddressRange range;
    IpAddress address;
    EXPECT_TRUE(parse_address_range(range_text, &range)) << range_text;
    EXPECT_TRUE(parse_ip_address(address_text, &address)) << address_text;
    return range_contains(range, address);
}

}  // namespace

TEST(HttpRules, internal_addresses_are_classified_whatever_their_spelling) {
    EXPECT_EQ(class_of("127.0.0.1"), AddressClass::loopback);
    EXPECT_EQ(class_of("127.255.0.9"), AddressClass::loopback);
    EXPECT_EQ(class_of("::1"), AddressClass::loopback);
    EXPECT_EQ(class_of("[::1]"), AddressClass::loopback);
    EXPECT_EQ(class_of("::ffff:127.0.0.1"), AddressClass::loopback);
    EXPECT_EQ(class_of("::ffff:7f00:1"), AddressClass::loopback);
    EXPECT_EQ(class_of("64:ff9b::7f00:1"), AddressClass::loopback);
    EXPECT_EQ(class_of("169.254.169.254"), AddressClass::metadata);
    EXPECT_EQ(class_of("fd00:ec2::254"), AddressClass::metadata);
    EXPECT_EQ(class_of("169.254.1.1"), AddressClass::link_local);
    EXPECT_EQ(class_of("fe80::1"), AddressClass::link_local);
    EXPECT_EQ(class_of("10.1.2.3"), AddressClass::private_network);
    EXPECT_EQ(class_of("172.16.0.1"), AddressClass::private_network);
    EXPECT_EQ(class_of("172.31.255.255"), AddressClass::private_network);
    EXPECT_EQ(class_of("192.168.0.1"), AddressClass::private_network);
    EXPECT_EQ(class_of("100.64.0.1"), AddressClass::private_network);
    EXPECT_EQ(class_of("fd12::1"), AddressClass::private_network);
    EXPECT_EQ(class_of("2002:7f00:1::"), AddressClass::loopback);
    EXPECT_EQ(class_of("0.0.0.0"), AddressClass::unspecified);
    EXPECT_EQ(class_of("::"), AddressClass::unspecified);
    EXPECT_EQ(class_of("224.0.0.1"), AddressClass::multicast);
    EXPECT_EQ(class_of("255.255.255.255"), AddressClass::multicast);
}

TEST(HttpRules, public_addresses_are_public) {
    EXPECT_EQ(class_of("93.184.216.34"), AddressClass::public_address);
    EXPECT_EQ(class_of("172.32.0.1"), AddressClass::public_address);
    EXPECT_EQ(class_of("2606:4700::1111"), AddressClass::public_address);
}

TEST(HttpRules, host_names_and_odd_forms_are_not_addresses) {
    IpAddress address;
    EXPECT_FALSE(parse_ip_address("localhost", &address));
    EXPECT_FALSE(parse_ip_address("127.1", &address));       // inet_pton refuses the short forms
    EXPECT_FALSE(parse_ip_address("0x7f000001", &address));
    EXPECT_FALSE(parse_ip_address("2130706433", &address));
    EXPECT_FALSE(parse_ip_address("", &address));
    EXPECT_FALSE(parse_ip_address("[127.0.0.1", &address));
}

TEST(HttpRules, ranges_contain_exactly_their_addresses) {
    EXPECT_TRUE(in_range("127.0.0.1", "127.0.0.1"));
    EXPECT_FALSE(in_range("127.0.0.1", "127.0.0.2"));
    EXPECT_TRUE(in_range("10.0.0.0/8", "10.200.1.1"));
    EXPECT_FALSE(in_range("10.0.0.0/8", "11.0.0.1"));
    EXPECT_TRUE(in_range("0.0.0.0/0", "8.8.8.8"));
    EXPECT_FALSE(in_range("0.0.0.0/0", "2606:4700::1111"));  // an IPv4 range holds IPv4 addresses only
    EXPECT_TRUE(in_range("127.0.0.0/8", "::ffff:127.0.0.5"));
    EXPECT_TRUE(in_range("fd00::/8", "fd12::1"));
    EXPECT_TRUE(in_range("::1/128", "::1"));
    EXPECT_TRUE(in_range("172.16.0.0/12", "172.31.1.1"));
    EXPECT_FALSE(in_range("172.16.0.0/12", "172.32.1.1"));
}

TEST(HttpRules, grants_are_names_wildcards_or_ranges) {
    EXPECT_EQ(grant_form("api.example.com"), GrantForm::name);
    EXPECT_EQ(grant_form("localhost"), GrantForm::name);
    EXPECT_EQ(grant_form("*.example.com"), GrantForm::wildcard);
    EXPECT_EQ(grant_form("127.0.0.1"), GrantForm::range);
    EXPECT_EQ(grant_form("10.0.0.0/8"), GrantForm::range);
    EXPECT_EQ(grant_form("::1"), GrantForm::range);
    EXPECT_EQ(grant_form("*"), GrantForm::invalid);
    EXPECT_EQ(grant_form("*.*.com"), GrantForm::invalid);
    EXPECT_EQ(grant_form("10.0.0.0/33"), GrantForm::invalid);
    EXPECT_EQ(grant_form("http://example.com"), GrantForm::invalid);
    EXPECT_EQ(grant_form("example.com:8080"), GrantForm::invalid);
    EXPECT_EQ(grant_form("[::1]"), GrantForm::invalid);
    EXPECT_EQ(grant_form(""), GrantForm::invalid);
    EXPECT_EQ(grant_form("a..b"), GrantForm::invalid);
}

TEST(HttpRules, name_grants_cover_exact_names_and_wildcards_cover_subdomains) {
    EXPECT_TRUE(grant_covers_name("api.example.com", "API.Example.com"));
    EXPECT_TRUE(grant_covers_name("api.example.com", "api.example.com."));
    EXPECT_FALSE(grant_covers_name("api.example.com", "api.example.com.evil.net"));
    EXPECT_FALSE(grant_covers_name("api.example.com", "xapi.example.com"));
    EXPECT_TRUE(grant_covers_name("*.example.com", "a.example.com"));
    EXPECT_TRUE(grant_covers_name("*.example.com", "a.b.example.com"));
    EXPECT_FALSE(grant_covers_name("*.example.com", "example.com"));
    EXPECT_FALSE(grant_covers_name("*.example.com", "badexample.com"));
}

TEST(HttpRules, methods_are_the_six_listed) {
    for (const char *m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}) EXPECT_TRUE(http_method_known(m)) << m;
    for (const char *m : {"get", "TRACE", "CONNECT", "OPTIONS", "", "GET "}) EXPECT_FALSE(http_method_known(m)) << m;
}

TEST(HttpRules, headers_with_line_breaks_bad_names_or_reserved_names_are_refused) {
    EXPECT_EQ(header_problem("X-Token", "abc"), nullptr);
    EXPECT_EQ(header_problem("Authorization", "Bearer x"), nullptr);
    EXPECT_NE(header_problem("X-A", "a\r\nX-Injected: 1"), nullptr);
    EXPECT_NE(header_problem("X-A", "a\nb"), nullptr);
    EXPECT_NE(header_problem("X-A\r\nX-B", "1"), nullptr);
    EXPECT_NE(header_problem("X A", "1"), nullptr);
    EXPECT_NE(header_problem("X:A", "1"), nullptr);
    EXPECT_NE(header_problem("", "1"), nullptr);
    EXPECT_NE(header_problem("Host", "evil"), nullptr);
    EXPECT_NE(header_problem("content-length", "5"), nullptr);
    EXPECT_NE(header_problem("Transfer-Encoding", "chunked"), nullptr);
    EXPECT_NE(header_problem("User-Agent", "x"), nullptr);
    EXPECT_NE(header_problem("Idempotency-Key", "x"), nullptr);
    EXPECT_NE(header_problem("X-Long", std::string(9000, 'a').c_str()), nullptr);
}
