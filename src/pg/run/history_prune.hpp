// Deleting runs older than chronos.history_retention, a batch at a time (the executor's watcher, when nothing is due
// soon, and the executor leaving its database, to say when the next deletion is due).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// Runs deleted per prune_history() call.
#define kPruneBatch 500

// Deletes up to one batch of runs that started before `cutoff`; returns how many.
int64 prune_history(TimestampTz cutoff);
// When the oldest run kept (by run_id, an index look-up) started; DT_NOEND when none is kept.
TimestampTz oldest_run_start(void);
