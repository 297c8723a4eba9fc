// Per-database limits on repeated log lines: the claims' lock-wait lines and the workers' rate-limited warnings
// (run/run_log.cpp, run/catalog_locks.cpp). Kept in the database's entry of the table of databases.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

#include "pg/workers/database_table.hpp"

// Whether a claim blocked by a session's lock in `database` should say so in the log now: at most once every
// `every_us` per database. Returns true (and notes the time) when it should.
bool note_lock_wait(Oid database, TimestampTz now, int64 every_us);

// Whether a warning of kind `kind` (< kRateLimitedWarnings) about `database` should be logged now: at most once every
// `every_us` per database and kind. Returns true (notes the time, sets *held to how many were held back since the last
// one, and clears that count) when it should; otherwise counts it as held back.
bool note_warning(Oid database, int kind, TimestampTz now, int64 every_us, int64 *held);

// Whether a lock wait was logged for `database` since it last ended; clears the note (to log once that it is over).
bool end_lock_wait(Oid database);
