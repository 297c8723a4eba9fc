// The statements the workers run through SPI (which the caller connects), with plans prepared once: record a run,
// skip missed slots, find the next due time. Used by run_step.cpp, run_journal.cpp and the executor.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/claimed_task.hpp"
#include "pg/run/run_record.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// Moves a loop task whose missed slots are skipped to its next slot, without a run.
void skip_missed_slots(const ClaimedTask *task, TimestampTz next_exec_time);
// The earliest next_exec_time of a scheduled task no executor is running; DT_NOEND if none. *due_together: how many
// tasks are due within 100 ms of it (up to 8).
TimestampTz earliest_next_exec_time(int *due_together);

// Prepares the statements of the common path, so that a new executor's first run does not pay for it.
void prepare_statements(void);

// Transactional run: task row and run row written in the run's own transaction; sends the run's notification if the
// task asks for one. Returns the run as JSON text (allocated in `context`) when the task notifies or has on_failure,
// and sets *earliest to the earliest next_exec_time after this run (DT_NOEND: none; DT_NOBEGIN: unknown) and *run_id to
// the run's id (0: no row kept).
char *record_run(const ClaimedTask *task, const RunRecord *record, MemoryContext context, TimestampTz *earliest,
                 int64 *run_id);
// Autonomous run: marks the task running and inserts its run row (committed before the command starts); returns run_id.
int64 record_run_start(const ClaimedTask *task, TimestampTz started_at);
// Autonomous run: the outcome, in a fresh transaction after the command. Returns as record_run does.
char *record_run_end(const ClaimedTask *task, int64 run_id, const RunRecord *record, MemoryContext context,
                     TimestampTz *earliest);

// Set while the workers write their own bookkeeping, so that the validation trigger lets those rows through.
extern bool writing_bookkeeping;

// For the statements of run/: every function, operator and type named by schema.
#define OP(op) " OPERATOR(pg_catalog." op ") "
#define SCHEDULED "'scheduled'::chronos.task_state"
#define RUNNING_TASK "'running'::chronos.task_state"
#define RUNNING_RUN "'running'::chronos.run_status"
