// The bookkeeping of a run (RunRecord), and its writes for a transactional run without planning a statement
// (run_record.cpp, called by record_run in run_statements.cpp).
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// The bookkeeping written after a run.
struct RunRecord {
    const char *task_status;     // status the task moves to
    bool has_next;
    TimestampTz next_exec_time;
    int32 failure_count;
    int32 next_attempt;
    const char *run_status;      // 'succeeded', 'failed', 'timed_out', 'cancelled'…
    const char *error;
    const char *result;
    TimestampTz started_at;
    TimestampTz finished_at;
};

// The writes of record_run: the task row's new state and, when `keep`, the run's row (its id in
// *run_id, else 0), without planning a statement. Returns false when the task's row is gone.
bool write_run_record(const ClaimedTask *task, const RunRecord *record, bool keep, int64 *run_id);
// Loads the descriptors of chronos.tasks, chronos.runs and their indexes into this process's caches (after an
// invalidation, the first run would otherwise rebuild them).
void warm_run_record(void);
