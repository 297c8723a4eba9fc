// What a run's outcome does to its task, and its writing (the "record" of claim → run → record): used by the
// executor's step (run_step.cpp) and by the runs in flight (in_flight.cpp), which record several together.
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"
#include "pg/run/catalog_locks.hpp"
#include "pg/run/run_statements.hpp"

// What the task becomes after a run of outcome `kind` that started at `started_at`: the core's retry / failure / end
// policy (a manual run leaves the task as it was). *finally_failed: on_failure is due.
void decide_record(const ClaimedTask *task, const RunOutcome *outcome, chronos::RunOutcomeKind kind,
                   TimestampTz started_at, RunRecord *record, bool *finally_failed);

// on_failure: SQL run as the owner once a run has finally failed, with the run's JSON as $1; its failure is logged, at
// most once a minute per database. Inside a transaction.
void run_on_failure(const ClaimedTask *task, Oid owner, bool owner_is_superuser, const char *run_json);

// The run's server log line, written when its recording commits (only called when run_is_logged() says so).
void log_recorded_run(const ClaimedTask *task, const RunRecord *record, int64 run_id);

// Writes an autonomous run's outcome (its task row locked by lock_for_recording), its log line and, when it finally
// failed, runs on_failure; in the current transaction, which the caller commits. *next_due: as record_run_end.
// `in_flight`: a run in flight, recorded by the worker that drives others: its on_failure is not run there (user SQL
// there would hold the other runs up) but scheduled as a task of its own, due now (schedule_on_failure).
void record_autonomous_outcome(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                               bool owner_is_superuser, MemoryContext context, TimestampTz *next_due,
                               bool in_flight = false);

// A session holds a lock the recording needs: the outcome is kept to be recorded later (deferred_runs.hpp) or, when
// this executor keeps as many as it may, left for recovery; the log says what it waits for, at most once a minute per
// database. Inside a transaction.
void defer_recording(const ClaimedTask *task, int64 run_id, const RunRecord *record, bool finally_failed,
                     bool owner_is_superuser, const LockHolder *holder);
