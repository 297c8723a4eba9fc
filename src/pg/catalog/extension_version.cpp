// The extension's presence and version (see extension_version.hpp).
#include "pg/catalog/extension_version.hpp"

#include "pg/settings.hpp"

#include "pg/catalog/columns.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

// DROP EXTENSION drops the extension's tables (schema chronos itself stays), so its table chronos.tasks stands for it:
// two cache lookups, where get_extension_oid() would scan pg_extension on every run.
bool extension_is_installed(void) {
    return OidIsValid(chronos_relation("tasks"));
}

char *installed_extension_version(void) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum("pg_chronos")};
    int rc = SPI_execute_with_args(
        "SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) $1", 1, types,
        values, NULL, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed == 0)
        return NULL;
    return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

bool catalog_version_served(const char *version) {
    return version != NULL && (strcmp(version, kCatalogVersion) == 0 || strcmp(version, "1.1") == 0);
}
