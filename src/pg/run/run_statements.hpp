// What the workers read and write in chronos.tasks and chronos.runs: claim a due task (claim.cpp: an index scan that
// locks the row), record a run, find the next due time, recover runs left behind by a crash (run_statements.cpp: statements
// run through SPI, which the caller connects, with plans prepared once).
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// A claimed task, copied out of SPI memory into the caller's context.
struct ClaimedTask {
    int64 id;
    char *name;
    char *command;
    Oid owner;                  // role OID (chronos.tasks.owner is regrole)
    bool is_loop;
    char *schedule;
    char *timezone;
    TimestampTz start_time;
    TimestampTz scheduled_for;  // its next_exec_time when claimed (the claim time for a manual run)
    bool next_exec_time_known;  // next_exec_time was not NULL when claimed
    TimestampTz next_exec_time; // as claimed: a manual run leaves it unchanged
    int transactional;          // -1: decide from the command; 0 / 1: forced
    bool manual;                // claimed for chronos.run_now()
    char *status;               // status when claimed
    int64 timeout_ms;           // -1: chronos.default_timeout
    chronos::TaskPolicy policy; // policy.schedule points at `schedule`
    int32 attempt;
    int32 failure_count;
    int64 run_count;
    char *payload;              // jsonb as text, or NULL
    char *on_failure;
    bool reports;               // notify_on or on_failure: the run's JSON is built after it
    int also_due;               // other tasks due when claimed (counted up to 8; some may be claimed by others)
};

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

// Locks the earliest task due at `now` that no one else holds (SKIP LOCKED) and copies it into `context`.
bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task);
// Locks a task with a pending chronos.run_now() request.
bool claim_requested_task(TimestampTz now, MemoryContext context, ClaimedTask *task);
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
// The writes of record_run (run_record.cpp): the task row's new state and, when `keep`, the run's row (its id in
// *run_id, else 0), without planning a statement. Returns false when the task's row is gone.
bool write_run_record(const ClaimedTask *task, const RunRecord *record, bool keep, int64 *run_id);
// Loads the descriptors of chronos.tasks, chronos.runs and their indexes into this process's caches (after an
// invalidation, the first run would otherwise rebuild them).
void warm_run_record(void);
// Autonomous run: marks the task running and inserts its run row (committed before the command starts); returns run_id.
int64 record_run_start(const ClaimedTask *task, TimestampTz started_at);
// Autonomous run: the outcome, in a fresh transaction after the command. Returns as record_run does.
char *record_run_end(const ClaimedTask *task, int64 run_id, const RunRecord *record, MemoryContext context,
                     TimestampTz *earliest);

// Runs deleted per prune_history() call.
#define kPruneBatch 500

// Deletes up to one batch of runs that started before `cutoff`; returns how many.
int64 prune_history(TimestampTz cutoff);
// When the oldest run kept (by run_id, an index look-up) started; DT_NOEND when none is kept.
TimestampTz oldest_run_start(void);

// Marks runs left 'running' by processes that are no longer running them as 'interrupted' and reschedules their tasks.
// A run whose task row a session locks is left (*left set) for a later call.
int recover_interrupted_runs(bool *left);

// Whether the extension is installed in this database.
bool extension_is_installed(void);
// The installed version of the extension in this database (palloc'd), NULL if it is not installed.
char *installed_extension_version(void);

// Set while the workers write their own bookkeeping, so that the validation trigger lets those rows through.
extern bool writing_bookkeeping;
