// The ProcessUtility hook, pg_chronos's one entry from PostgreSQL's utility commands (utility_hook.cpp): it routes
// database commands, DROP EXTENSION (extension_drop.cpp), role commands (role_commands.cpp) and a restore's COPY
// (restore_copy.cpp). Installed once by module.cpp.
#pragma once
#include "pg/postgres.hpp"

void install_utility_hook(void);
