// Runs whose outcome waits to be recorded (the "record" of claim → run → record): an autonomous run's recording, in a
// transaction of its own after the command, takes its locks without waiting (catalog_locks.cpp, lock_for_recording); when a
// session holds one of them, the outcome is kept here, the executor goes on with other work, holding no run permit
// for it, and records it once the lock is free (run_step.cpp, record_deferred_runs). A role that locks the rows of
// its own tasks so delays only the recording of its own runs.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/run_statements.hpp"
#include "pg/workers/executor_slots.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// An executor keeps up to kMaxDeferredRuns (workers/executor_slots.hpp); a run beyond them is left for recovery, which records it
// as interrupted.

struct DeferredRun {
    ClaimedTask task;            // without its command and payload (not needed to record)
    int64 run_id;
    RunRecord record;
    bool finally_failed;         // on_failure runs when it is recorded
    bool owner_is_superuser;
    TimestampTz since;           // when its recording was first put off
    TimestampTz retry_at;
    int backoff_ms;
    MemoryContext context;       // holds the copies; deleted with the entry
};

// Keeps a copy of the run's outcome; NULL when this executor keeps kMaxDeferredRuns already.
DeferredRun *defer_run(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                       bool owner_is_superuser);
// The deferred run in place `i` (0 <= i < kMaxDeferredRuns), or NULL.
DeferredRun *deferred_run_at(int i);
// Its lock was still held: try again later (100 ms, doubling up to 1 s).
void retry_deferred_run_later(DeferredRun *run, TimestampTz now);
// It is recorded (or there is nothing left to record it in): forgets it.
void forget_deferred_run(DeferredRun *run);
// When the next deferred run is due to be tried; DT_NOEND when there is none.
TimestampTz next_deferred_retry(void);
