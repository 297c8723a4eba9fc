// Runs in flight: the http and shell runs an executor started (TaskKind.start_async) and drives while it claims other
// tasks, holding no run permit for them. Each has its run row ('running') committed before it starts; its timeout and
// chronos.cancel() stop it; the runs that ended are recorded together, one transaction for all that ended at once.
// A worker that exits ends its runs in flight (shell: their process groups killed); recovery records them
// 'interrupted' (run_recovery.hpp), and the task's retries decide whether they run again. Used by run_step.cpp (start)
// and executor_worker.cpp (drive, wait).
#pragma once
#include "pg/postgres.hpp"

#include "pg/kinds/task_kind.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// The timeout of an http run whose task has none, when chronos.default_timeout is 0 too.
constexpr int64 kHttpTimeoutMs = 5 * 60 * 1000;

// How many this executor drives.
int in_flight_count(void);

// Whether another run may start in flight: this executor and the cluster (chronos.max_in_flight) have room.
bool in_flight_room(void);

// A memory context for the run of a task about to start in flight: its plan is made in it.
MemoryContext in_flight_context(void);

// Starts the run of `task` (its row written and committed as run `run_id`) in flight, in `context`; outside any
// transaction. False, with *failure set and `context` deleted, when it could not start: the caller records that.
bool start_in_flight(const ClaimedTask *task, const TaskKind *kind, const RunPlan *plan, int64 run_id,
                     TimestampTz started_at, bool owner_is_superuser, MemoryContext context, RunOutcome *failure);

// Waits at most `wait_ms` for runs in flight, moves them on, stops those past their timeout or cancelled, and records
// those that ended. Outside any transaction. Returns when the next run must be looked at whatever happens (DT_NOEND).
TimestampTz advance_in_flight(int wait_ms);
