// The settings of the http and shell kinds (defined by define_kind_settings(), called from module.cpp).
#pragma once
#include "pg/postgres.hpp"

extern char *chronos_http_ca_file;     // chronos.http_ca_file: CA bundle for https (empty: the system's)
extern char *chronos_shell_directory;  // chronos.shell_directory: where shell tasks run (empty: the data directory)

extern int chronos_max_in_flight;         // chronos.max_in_flight: http requests and shell commands at once, cluster-wide
extern int chronos_max_requests_per_host; // chronos.max_requests_per_host: connections to one host, per worker

void define_kind_settings(void);
