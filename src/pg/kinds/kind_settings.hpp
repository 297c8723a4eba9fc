// The settings of the http and shell kinds (defined by define_kind_settings(), called from module.cpp).
#pragma once
#include "pg/postgres.hpp"

extern char *chronos_http_ca_file;     // chronos.http_ca_file: CA bundle for https (empty: the system's)
extern char *chronos_shell_directory;  // chronos.shell_directory: where shell tasks run (empty: the data directory)

extern int chronos_max_in_flight;         // chronos.max_in_flight: http requests and shell commands at once, cluster-wide
extern int chronos_max_requests_per_host; // chronos.max_requests_per_host: requests in flight to one host, cluster-wide
extern int chronos_max_in_flight_per_owner;  // chronos.max_in_flight_per_owner: one owner's runs in flight (-1: half)

// One owner's share of runs in flight, cluster-wide: chronos.max_in_flight_per_owner, or half of chronos.max_in_flight
// (at least 1) when it is -1; 0: no share (an owner may take them all).
int in_flight_owner_cap(void);

void define_kind_settings(void);
