// The server log lines of runs: one LOG line for every run that ends other than succeeded (and, by chronos.log_* settings,
// for successful or slow runs), written when the transaction recording the run commits; and rate-limited warnings.
#pragma once
#include "pg/postgres.hpp"

#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// What a run's log line says.
struct EndedRun {
    int64 run_id;             // its row in chronos.runs; 0: none (not kept, or the task is gone)
    int64 task_id;
    const char *task_name;
    Oid owner;
    const char *run_status;   // "succeeded", "failed", "timed_out", "cancelled", "interrupted"
    bool quarantined;         // the run's task is quarantined by it
    int32 attempt;            // 0: unknown
    int32 max_attempts;       // 0: unknown
    bool manual;
    bool times_known;         // scheduled_for and started_at are known
    TimestampTz scheduled_for;
    TimestampTz started_at;
    TimestampTz finished_at;
    const char *error;        // "SQLSTATE: message", or NULL
    const char *note;         // more facts for the DETAIL, or NULL
};

// Whether a run that ended so gets a log line: the hot path's only cost when it does not (a few comparisons).
inline bool run_is_logged(bool succeeded, TimestampTz started_at, TimestampTz finished_at) {
    return !succeeded || chronos_log_successful_runs ||
           (chronos_log_min_duration_ms >= 0 && finished_at - started_at >= (int64)chronos_log_min_duration_ms * 1000);
}

// Queues the run's line (built now, inside the transaction that records the run); it is written when that
// transaction commits, and dropped if it aborts.
void log_run_outcome(const EndedRun *run);

// Kinds of warnings the workers rate-limit: each is logged at most once a minute per database.
enum class WarningKind { on_failure_failed = 0, recording_waits = 1, task_held = 2, stored_setting_refused = 3 };
static_assert(kRateLimitedWarnings == 4, "one slot per WarningKind in DatabaseEntry");

// Whether a warning of `kind` about `database` is due now (none of that kind logged in the last minute); if so, sets
// *held to how many were held back since the last one logged.
bool warning_due(Oid database, WarningKind kind, int64 *held);
