// Every statement the workers run against chronos.tasks and chronos.runs: claim a due task, record a run, find the next
// due time, recover runs left behind by a crash. All run through SPI (the caller connects it) with plans prepared once.
#pragma once
#include "postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

// A claimed task, copied out of SPI memory into the caller's context.
struct ClaimedTask {
    int64 id;
    char *name;
    char *command;
    char *owner;
    bool is_loop;
    char *schedule;
    char *timezone;
    TimestampTz start_time;
    TimestampTz scheduled_for;  // its next_exec_time when claimed
    int transactional;          // -1: decide from the command; 0 / 1: forced
};

// The bookkeeping written after a run.
struct RunRecord {
    const char *task_status;     // status the task moves to
    bool has_next;
    TimestampTz next_exec_time;
    const char *run_status;      // 'succeeded', 'failed', 'interrupted'…
    const char *error;
    const char *result;
    TimestampTz started_at;
    TimestampTz finished_at;
};

// Locks the earliest task due at `now` that no one else holds (SKIP LOCKED) and copies it into `context`.
bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task);
// The earliest next_exec_time of a scheduled task; DT_NOEND if none.
TimestampTz earliest_next_exec_time(void);

// Transactional run: task row and run row written in the run's own transaction.
void record_run(const ClaimedTask *task, const RunRecord *record);
// Autonomous run: marks the task running and inserts its run row (committed before the command starts); returns run_id.
int64 record_run_start(const ClaimedTask *task, TimestampTz started_at);
// Autonomous run: the outcome, in a fresh transaction after the command.
void record_run_end(const ClaimedTask *task, int64 run_id, const RunRecord *record);

// Marks runs left 'running' by processes that are no longer running them as 'interrupted' and reschedules their tasks.
int recover_interrupted_runs(void);

bool extension_is_installed(void);

// Set while the workers write their own bookkeeping, so that the validation trigger lets those rows through.
extern bool writing_bookkeeping;
