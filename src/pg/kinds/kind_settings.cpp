// The http and shell kinds' settings (see kind_settings.hpp).
#include "pg/kinds/kind_settings.hpp"

extern "C" {
#include "utils/guc.h"
}

char *chronos_http_ca_file = NULL;
char *chronos_shell_directory = NULL;

void define_kind_settings(void) {
    DefineCustomStringVariable("chronos.http_ca_file", "CA bundle that verifies the certificates of https servers.",
                               "Empty: the system's bundle. Certificates and host names are always verified.",
                               &chronos_http_ca_file, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomStringVariable("chronos.shell_directory", "Working directory of shell tasks.",
                               "Empty: the data directory, where COPY … PROGRAM runs too.", &chronos_shell_directory,
                               "", PGC_SIGHUP, 0, NULL, NULL, NULL);
}
