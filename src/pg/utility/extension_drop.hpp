// DROP EXTENSION pg_chronos while tasks run (extension_drop.cpp), called by the ProcessUtility hook
// (utility_hook.cpp) before PostgreSQL drops the extension.
#pragma once
#include "pg/postgres.hpp"

// Quiesces this database until the transaction ends (no run starts, idle executors leave) and waits for the runs in
// progress to be recorded, with a NOTICE naming them. Raises 55P03 when they outlast lock_timeout. Autonomous runs are
// not waited for when this transaction holds a lock on the catalog that their recording could wait for (a NOTICE says
// so). When the transaction ends, the database is served again, or, the extension gone, no longer.
void wait_for_runs_before_drop(void);
