// The http and shell kinds' settings (see kind_settings.hpp).
#include "pg/kinds/kind_settings.hpp"

extern "C" {
#include "utils/guc.h"
}

char *chronos_http_ca_file = NULL;
char *chronos_shell_directory = NULL;
int chronos_max_in_flight = 1000;
int chronos_max_requests_per_host = 200;
int chronos_max_in_flight_per_owner = -1;

int in_flight_owner_cap(void) {
    if (chronos_max_in_flight_per_owner >= 0)
        return chronos_max_in_flight_per_owner;
    return Max(1, chronos_max_in_flight / 2);
}

void define_kind_settings(void) {
    DefineCustomStringVariable("chronos.http_ca_file", "CA bundle that verifies the certificates of https servers.",
                               "Empty: the system's bundle. Certificates and host names are always verified.",
                               &chronos_http_ca_file, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomStringVariable("chronos.shell_directory", "Working directory of shell tasks.",
                               "Empty: the data directory, where COPY … PROGRAM runs too.", &chronos_shell_directory,
                               "", PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_in_flight", "Most http and shell runs in flight at once, cluster-wide.",
                            "Runs in flight hold no worker: each worker drives many. Due http and shell tasks wait "
                            "while this many are in flight.",
                            &chronos_max_in_flight, 1000, 1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_requests_per_host",
                            "Most http requests in flight to one host at once, cluster-wide.",
                            "The host is the name (or address) and port of the task's URL. One owner's tasks may have "
                            "half of them; further requests to the host wait in their worker, their timeout running.",
                            &chronos_max_requests_per_host, 200, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("chronos.max_in_flight_per_owner",
                            "Most http and shell runs of one owner's tasks in flight at once, cluster-wide.",
                            "-1: half of chronos.max_in_flight, so that one role's runs leave room to the others; "
                            "0: no share. Due tasks of an owner at its share wait while other owners' start.",
                            &chronos_max_in_flight_per_owner, -1, -1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);
}
