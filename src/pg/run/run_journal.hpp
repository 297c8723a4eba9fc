// The run journal: what each executor is running, in a small file of its own under $PGDATA/pg_chronos, so that a run
// that ends its worker (FATAL, termination, a crash, an OOM kill) is still recorded. A crash rolls back the run's
// transaction and restarts shared memory, but not the file; the next executor of the database reads it, records the
// run as interrupted with its cause, counts the crash against the task, and quarantines a task that keeps doing it.
#pragma once
#include "pg/postgres.hpp"

#include "pg/run/run_statements.hpp"

// Opens this executor's journal (locked while the executor lives) and installs the signal and log hooks that write the
// cause of a death into it. Once per executor, after it has connected.
void journal_open(void);

// A run starts (`run_id` is 0 for a transactional run, whose row is written with its outcome) / has been recorded.
void journal_run_start(const ClaimedTask *task, int64 run_id, TimestampTz started_at);
void journal_run_end(void);
// The run in progress is abandoned with an error outside its command: the executor exits, and the run is recorded by
// the next one as interrupted with this cause.
void journal_run_abandoned(const char *cause);

// How a run that ended its executor is recorded: interrupted, or, when the executor ended a command that went on after
// its timeout or chronos.cancel() had cancelled it, timed out or cancelled.
enum class RunEnd : char { interrupted = 0, timed_out = 't', cancelled = 'c' };
// The run's timeout (0: none) and the grace after a cancel, for the error an ended run is recorded with.
void journal_run_limits(int64 timeout_ms, int grace_ms);
// The executor ends the run in progress because it ignored its cancel: how it is recorded. Async-signal-safe.
void journal_run_ended_as(RunEnd end);

// Whether a run is in progress (started and not yet recorded).
bool journal_run_in_progress(void);

// Records the runs of this database whose executors died (their journals are no longer locked); returns how many.
// Inside a transaction with SPI connected. A run whose task row a session locks is left (*left set) for a later call.
int recover_ended_runs(bool *left);
// Whether executor `pid` of this database left a journal: its run is recorded from it (by recover_ended_runs()), not
// from its row in chronos.runs.
bool journal_left_by(int pid);
// Whether an executor of this database ended during a run since the last recovery (a hint; cheap to ask).
bool ended_runs_pending(void);
