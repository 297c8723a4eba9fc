// Whether the extension is installed in the current database, and which version (the workers, at start and before
// each step; the utility hook).
#pragma once
#include "pg/postgres.hpp"

// Whether the extension is installed in this database.
bool extension_is_installed(void);
// The installed version of the extension in this database (palloc'd), NULL if it is not installed.
char *installed_extension_version(void);
// Whether this library serves a catalog of `version`: its own, and 1.1, whose tasks run with 1.1's features (SQL tasks
// only) until ALTER EXTENSION pg_chronos UPDATE, so that a new library does not stop a cluster's schedules until a
// DBA has visited every database. 1.0 (owners by name) is not served.
bool catalog_version_served(const char *version);
