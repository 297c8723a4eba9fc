// Runs left 'running' by a worker that is gone (a crash, an immediate stop) are recorded 'interrupted' and their tasks
// rescheduled: at start-up, by the first executor of a database, and when an executor finds runs another one ended.
#pragma once
#include "pg/postgres.hpp"

// Marks runs left 'running' by processes that are no longer running them as 'interrupted' and reschedules their tasks.
// A run whose task row a session locks is left (*left set) for a later call.
int recover_interrupted_runs(bool *left);
