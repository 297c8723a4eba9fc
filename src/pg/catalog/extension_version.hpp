// Whether the extension is installed in the current database, and which version (the workers, at start and before
// each step; the utility hook).
#pragma once
#include "pg/postgres.hpp"

// Whether the extension is installed in this database.
bool extension_is_installed(void);
// The installed version of the extension in this database (palloc'd), NULL if it is not installed.
char *installed_extension_version(void);
