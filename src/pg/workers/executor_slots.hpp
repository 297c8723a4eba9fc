// Executor slots in shared memory: one per running executor (its database, its latch, whether it watches the clock for
// the database, its run permit and what it runs). Used by the executors (executor_worker.cpp, run/) and, to look, by
// the launcher, the utility hook and the status functions.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

// Runs an executor keeps whose recording waits for a lock (run/deferred_runs.hpp).
constexpr int kMaxDeferredRuns = 16;

// Runs in flight one executor drives (run/in_flight.hpp), and chronos.cancel() requests for them it has not seen yet.
constexpr int kMaxInFlightPerExecutor = 512;
constexpr int kMaxInFlightCancels = 8;

// A run in flight, as chronos.running shows it.
struct InFlightEntry {
    int64 task_id;
    Oid owner;
    TimestampTz scheduled_for;
    TimestampTz started_at;
    uint32 host_key;           // an http request sent (RunPlan.host_key); 0: none, or waiting for its host
};

// Worker slots shared between databases (launcher_worker.cpp, executor_worker.cpp): the launcher starts a database's
// executor this long before its next due time; while another database waits for a slot, a busy executor leaves after
// this turn.
constexpr long kLaunchLeadMs = 300;
constexpr long kTurnMs = 1000;

// An executor's public state; task_id is 0 while it runs nothing.
struct ExecutorSlot {
    pid_t pid;                 // 0: slot free
    Oid database;
    Latch *latch;
    bool watcher;              // sleeps until the database's next due task (one per database)
    TimestampTz wakes_at;      // watcher: when it wakes by itself
    int64 task_id;
    TimestampTz scheduled_for;
    TimestampTz started_at;
    bool transactional;
    uint64 run_number;         // counts its runs: which run a cancel is for
    uint64 cancel_run;         // the run chronos.cancel() asked to stop (0: none)
    pid_t cancel_sender;       // the process that asked
    bool holds_permit;         // counted in the cluster-wide runs in progress
    bool waits_for_permit;     // found due work while chronos.max_workers runs were in progress
    bool asleep;               // waiting on its latch for work
    Oid run_owner;             // owner of the task it claims or runs (reserved by the claim, cleared after the run)
    TimestampTz since;         // when it last started, or began to wait for a permit, or ended a run (chronos.executors)
    uint64 permit_ticket;      // while it waits for a permit: its place in the queue (lower waited longer)
    bool retiring;             // gives its worker slot back to another database (over the database's executor cap)
    TimestampTz attached_at;   // when it started serving its database
    int deferred_count;        // runs over, whose recording waits for a lock (deferred_runs.hpp)
    int64 deferred[kMaxDeferredRuns];  // their tasks
    int in_flight_count;       // http and shell runs it drives (run/in_flight.hpp); the runs: in_flight_of()
    bool may_drive;            // may_drive_in_flight() let it start runs in flight during its current step
    int64 in_flight_cancels[kMaxInFlightCancels];  // of those, the ones chronos.cancel() asked to stop (0: free)
};

// Executor side: attach returns false when no slot is free, or the database is not served or is quiesced.
bool executor_attach(Oid database);

void executor_detach(void);

ExecutorSlot *my_slot(void);

// Becomes the database's watcher if it has none, and returns whether this executor is now the watcher. When another
// executor watches but would wake later than `wakes_at`, its deadline is lowered and it is woken.
// `to_sleep`: it is about to sleep until `wakes_at` (a due time handed over to the next watcher then lowers it);
// false when it only advertises, awake, that it sleeps no more.
bool take_watch(TimestampTz wakes_at, bool to_sleep);

// This executor's deadline as the watcher (others may have lowered it); DT_NOEND if it does not watch.
TimestampTz watch_deadline(void);

// Called when this executor has claimed a task, with `also_due` other tasks due: it stops watching, and other
// executors look for work — up to max(also_due, 1) idle ones are woken at once, and while the database has fewer than
// `max_workers` executors and runs, the launcher starts one more. So tasks due together start together, and a long run
// never leaves the database without a watcher.
// `step_work`: the work is of tasks that run in an executor's step (SQL), which executors with runs in flight do not
// take: they are not counted as free for it.
void share_work(int max_workers, int also_due, bool step_work = false);

// Whether this executor, with no runs in flight, may start some: the executors of its database that drive runs in
// flight stay fewer than its executor limit (at least one), so that one executor is always left for SQL tasks; the
// databases that drive runs in flight stay fewer than half the worker slots (at least one), so that the others take
// turns in the rest; and not past its turn while another database waits for a slot (turn_is_over).
bool may_drive_in_flight(int max_workers);
// Whether `database` has executors and all of them drive runs in flight (none takes its SQL tasks).
bool executors_all_drive(Oid database);

// Another database waits for a worker slot and this executor has had its turn (kTurnMs): it takes no more runs in
// flight, and leaves once those it drives have ended.
bool turn_is_over(void);
// The step is over: an executor that started no run in flight no longer counts as driving.
void end_drive(bool drives);

// Called by an executor about to watch for `together` tasks due at about the same time: when the database has fewer
// executors than that (and than `max_workers`), asks the launcher for more now, so that they are ready when due.
void prepare_pool(int max_workers, int together);

// Whether more executors could take work now: another executor of this database sleeps, or the pool may grow.
bool could_share_work(int max_workers);

// Marks this executor as sleeping (waiting for work) or awake.
void set_asleep(bool asleep);

// Wakes the other sleeping executors of this executor's database (they look for work, and get ready for it).
void wake_idle_executors(void);

// Wakes the executors that wait for work, in every database (the launcher: a database waits for a worker slot).
void wake_idle_executors_everywhere(void);

// Wakes every executor of `database` (they re-check whether the extension is still there).
void wake_database_executors(Oid database);

// An executor's health, for the launcher's back-off: one that exits with an error counts a failed start (unless it
// has since run a step), one that completed a step resets the count.
void note_executor_failure(void);

void note_executor_healthy(void);

// When this executor attached.
TimestampTz executor_attached_at(void);

// Fair share of the worker slots (launcher_worker.cpp): the most executors `database` may have now (0: no cap but
// chronos.max_workers). Lowering it below the executors there wakes the idle ones, and those over the cap give their
// slot back (executor_should_retire).
void set_executor_cap(Oid database, int cap);

// Whether this executor, running nothing, should give its worker slot back now: its database has more executors than
// its cap (another takes over the watch if this one watched). Marks it retiring, so that only as many retire as the
// cap asks.
bool executor_should_retire(void);

// Sends SIGTERM to the executors of `database` and waits up to `timeout_ms` for them to exit; returns whether they did.
bool terminate_database_executors(Oid database, int timeout_ms);

// What the executors of one database are doing.
struct DatabaseExecutors {
    int count;           // executors attached to the database
    int idle_count;      // of which hold no run permit: they run nothing (and, the database quiesced, cannot start)
    pid_t idle[64];
    int runs;            // runs in progress
    int64 task_ids[8];   // the tasks of the first of them
    Oid run_owners[8];   // and their owners
};

void look_at_database_executors(Oid database, DatabaseExecutors *out);

// Every executor of the cluster (chronos.executors); returns how many, at most `max`.
int copy_executor_slots(ExecutorSlot *out, int max);
