// Who may call which host: chronos.http_grants as the http kind reads it (when a task is written, and before each run)
// and its trigger, which checks each grant as a superuser writes it. Superusers need no grant.
#pragma once
#include "pg/postgres.hpp"


// The grants that apply to a task's owner: its own and those of every role whose privileges it has.
struct HttpGrants {
    Oid owner;
    char *owner_name; // read with the grants, for messages written outside a transaction
    bool superuser;   // calls any host and any address
    int count;
    char **hosts;     // as written: a name, *.suffix, or a range
};

// Reads the grants of `owner` (SPI is connected by this function), allocated in the current memory context.
void load_http_grants(Oid owner, HttpGrants *out);

// Why `host` (a URL's host: a name, an IPv4 address or a bracketed IPv6 address) is not granted, palloc'd; NULL if it
// is (no catalog look-up: callable outside a transaction). A name needs a name or wildcard grant; an address literal a range grant that contains it.
char *http_host_refusal(const HttpGrants *grants, const char *host);

// On every connection a run opens (kinds/http/http_run.cpp, inside libcurl: no PostgreSQL call, no allocation):
// whether `address` may be connected to. An internal address (loopback, private, link-local, metadata) only when a
// range grant contains it, whatever name led there; any address for a superuser.
bool http_address_allowed(const HttpGrants *grants, const chronos::IpAddress &address);
