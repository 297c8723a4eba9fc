// One step of an executor: claim a due task (or a requested manual run), run it as its owner, record the outcome —
// claim → run → record — applying the task's controls (catch-up, timeout, retries, failures, end, on_failure).
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/run_statements.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

enum class Step { ran, idle, extension_gone };

// Registers the run timeout and the run memory context; once per executor.
void init_run_step(void);

// Does one step. Returns what it did; *next_due is the earliest next_exec_time seen afterwards (DT_NOEND if none), so
// that an executor with nothing more to do can sleep without another transaction, and *due_together how many tasks
// are due within 100 ms of it (0 when not counted). An error may escape (longjmp): the caller then aborts the
// transaction and calls record_escaped_error().
Step run_one_step(TimestampTz *next_due, int *due_together);

// Tasks due together are prepared for this long before they are due: the watcher wakes the idle executors, and each
// loads what a run needs (relation and index descriptors), so that the first runs are not slower than the rest.
// Only for a real group (this many due within 100 ms: the most earliest_next_exec_time() counts), not for tasks that
// merely happen to fall due close together.
constexpr int64 kWarmUpLeadUs = 20 * 1000;
constexpr int kWarmUpTogether = 8;

// Records the runs whose recording waited for a lock (deferred_runs.hpp) that can be recorded now; returns when the
// next of those left is due to be tried (DT_NOEND: none left). Outside any transaction; no run permit needed.
TimestampTz record_deferred_runs(void);

// When the transaction in which the last step read the next due time began: tasks committed before then were seen.
TimestampTz last_catalog_look(void);

// Whether the step that an error escaped had started a task's code (or on_failure): then the session may hold what
// that code left, and the executor must not run anything else in it.
bool step_ran_command(void);

// After an error escaped run_one_step: records the run it was doing as failed, in a fresh transaction, and moves the
// task on, so that one bad task can neither stop the executor nor make it spin.
void record_escaped_error(const char *message);

// A run whose command went on after its timeout or chronos.cancel() had cancelled it, and which its executor ended:
// recorded by the next executor as the run would have been had the command stopped (timed_out or cancelled, the
// task's retries, failures and next slot applied), with `error`; on_failure is not run. `task` is the task's row,
// locked (lock_for_recording), and `run_id` the run's row (0 for a transactional run, which has none yet). Inside a
// transaction with SPI connected.
void record_ignored_cancel(ClaimedTask *task, bool timed_out, const char *error, int64 run_id,
                           TimestampTz scheduled_for, TimestampTz started_at, int32 attempt, bool manual);
