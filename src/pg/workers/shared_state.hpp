// Shared memory of pg_chronos: the launcher, one slot per executor (what it runs, whether it watches the clock), one entry per
// database, and the count of runs in progress that chronos.max_workers caps. Every access goes through these functions.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

constexpr int kMaxDeferredRuns = 16;
// Worker slots shared between databases (launcher.cpp, executor.cpp): the launcher starts a database's executor this
// long before its next due time; while another database waits for a slot, a busy executor leaves after this turn.
constexpr long kLaunchLeadMs = 300;
constexpr long kTurnMs = 1000;      // runs an executor keeps whose recording waits for a lock (deferred_runs.hpp)
constexpr int kRateLimitedWarnings = 3;  // kinds of rate-limited warnings (run_log.hpp)

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
};

// What the launcher knows of a database. There is an entry only for a database known to have the extension, or being
// checked for it; at most chronos.max_databases entries.
struct DatabaseEntry {
    Oid database;              // InvalidOid: entry free
    bool served;               // has the extension (as far as we know), or is being checked: executors may attach
    bool has_extension;        // known to have it: CREATE EXTENSION, a task committed there, or an executor found it
    int executor_cap;          // most executors it may have now, set by the launcher when slots are short; 0: no cap
    bool quiesced;             // being dropped or copied: no executor may connect
    int extra_wanted;          // executors requested beyond the one resident executor
    bool manual_requested;     // chronos.run_now() was called: look for requested runs
    bool ended_runs;           // an executor ended during a run: its journal waits to be recovered
    TimestampTz lock_wait_logged_at;  // when a claim last logged that a session's lock on the catalog delays it; 0: not
    uint64 task_changes;       // commits that wrote scheduled tasks (wake_for_due_task): claims' fairness look-ups expire
    TimestampTz warned_at[kRateLimitedWarnings];  // when a warning of each kind (run_log.hpp) was last logged; 0: never
    int64 warnings_held[kRateLimitedWarnings];    // of each kind, how many were held back since
    bool due_pending;          // a due time that no watcher took (none was watching, or the watcher left the watch):
    TimestampTz pending_due;   // the next watcher wakes by then (take_watch)
    TimestampTz pending_since; // when due_pending was set
    uint64 served_generation;  // times the database was marked served: an executor that found no extension withdraws
                               // the service only if it was not marked served again since it attached
    TimestampTz next_due;      // when it needs an executor again, as its last executor left it (DT_NOEND: nothing
                               // due); the launcher starts one a little before, or at pending_due if that is earlier
    int failed_starts;         // executors of it that exited with an error in a row (the launcher backs off)
    TimestampTz prune_after;   // when its expired runs are to be deleted next (by whichever executor is there then)
};

// Databases that found the table of databases full, kept for the launcher (more are dropped: it also looks at every
// database now and then).
constexpr int kOverflowedDatabases = 32;

void request_shared_state(void);
void init_shared_state(void);

// Launcher side.
void launcher_attach(void);
void launcher_detach(void);
void wake_launcher(void);

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
void share_work(int max_workers, int also_due);
// Called by an executor about to watch for `together` tasks due at about the same time: when the database has fewer
// executors than that (and than `max_workers`), asks the launcher for more now, so that they are ready when due.
void prepare_pool(int max_workers, int together);

// Whether more executors could take work now: another executor of this database sleeps, or the pool may grow.
bool could_share_work(int max_workers);
// Marks this executor as sleeping (waiting for work) or awake.
void set_asleep(bool asleep);
// Wakes the other sleeping executors of this executor's database (they look for work, and get ready for it).
void wake_idle_executors(void);
void publish_run(int64 task_id, TimestampTz scheduled_for, TimestampTz started_at, bool transactional);
// Marks the run transactional or not, once that is known.
void publish_run_mode(bool transactional);
void clear_run(void);

// The cluster-wide cap on runs in progress: take a permit before a run, give it back after. No permit is given in a
// quiesced database. An executor that finds every permit taken queues; a permit given back goes straight to the
// queued executor whose database holds the fewest permits (the longest waiting of those), so a busy database cannot
// take the permits back ahead of the others.
bool take_run_permit(int max_workers);
void give_run_permit(int max_workers);

// Lowers the deadline of the watcher of `database` to `due` and wakes it when it would sleep past `due`; without a
// watcher, wakes an idle executor or asks the launcher for one.
void wake_for_due_task(Oid database, TimestampTz due);
// chronos.run_now() committed: executors of `database` look for requested runs before due ones.
void request_manual_runs(Oid database);
// Whether manual runs were requested in `database`; clears the request.
bool take_manual_request(Oid database);

// Wakes the executors that wait for work, in every database (the launcher: a database waits for a worker slot).
void wake_idle_executors_everywhere(void);
// Wakes every executor of `database` (they re-check whether the extension is still there).
void wake_database_executors(Oid database);

// Database entries. Marking a database served says it has the extension (an executor is started there, which looks at
// its tasks); marking it not served forgets it. Considering one (the launcher, for each database it has not checked
// yet) has an executor check; false when the table of databases is full.
void mark_database_served(Oid database, bool served);
// An executor found the extension in its database.
void confirm_database_served(Oid database);
bool consider_database(Oid database);
// The databases that found the table full since the last call (at most `max`), for the launcher to try again.
int take_overflowed_databases(Oid *out, int max);
// Whether every entry of the table of databases is taken (chronos.max_databases).
bool database_table_full(void);
// When `entry`'s database next needs an executor: its next_due, or a due time handed over since (DT_NOEND: none).
TimestampTz database_due_at(const DatabaseEntry *entry);
// An executor about to leave its database records when the database next needs one (DT_NOEND: it does not know, as
// an executor that is not the watcher); the earliest any executor of the visit records is kept. A due time handed
// over before `looked_at` (when it last looked at the catalog) was seen by that look, and is dropped.
void set_database_next_due(TimestampTz due, TimestampTz looked_at);
// Every database with the extension is to be visited now (the launcher, after chronos.history_retention changed).
void visit_every_database(void);
// The launcher says whether a database with due work waits for a worker slot; while one does, idle executors leave
// at once and a busy one leaves after its turn.
void set_slots_contended(bool contended);
bool slots_contended(void);
// An executor's health, for the launcher's back-off: one that exits with an error counts a failed start (unless it
// has since run a step), one that completed a step resets the count.
void note_executor_failure(void);
void note_executor_healthy(void);
// When this executor attached.
TimestampTz executor_attached_at(void);
// When this executor's database's expired runs are to be deleted next, shared by its executors over their visits.
TimestampTz next_prune_of_database(void);
void set_next_prune_of_database(TimestampTz at);
// Fair share of the worker slots (launcher.cpp): the most executors `database` may have now (0: no cap but
// chronos.max_workers). Lowering it below the executors there wakes the idle ones, and those over the cap give their
// slot back (executor_should_retire).
void set_executor_cap(Oid database, int cap);
// Whether this executor, running nothing, should give its worker slot back now: its database has more executors than
// its cap (another takes over the watch if this one watched). Marks it retiring, so that only as many retire as the
// cap asks.
bool executor_should_retire(void);
// An executor found no extension (or an older one) in its database: it is no longer served, unless it was marked served
// since this executor attached (a CREATE EXTENSION that committed after the executor looked: another one starts).
void withdraw_database_service(Oid database);
void set_database_quiesced(Oid database, bool quiesced);
// Sends SIGTERM to the executors of `database` and waits up to `timeout_ms` for them to exit; returns whether they did.
bool terminate_database_executors(Oid database, int timeout_ms);
int copy_database_entries(DatabaseEntry *out, int max);
int take_extra_wanted(Oid database);

// chronos.cancel(): marks the run of `task_id` in `database` (the run in progress now, by its number) as cancelled by
// this process; returns the pid of the executor to signal, or 0 if no executor runs it.
pid_t request_cancel(Oid database, int64 task_id);
// Whether a user cancelled the run this executor is doing.
bool run_cancel_requested(void);
// For the executor's SIGINT handler (no lock: one aligned word each): whether a cancel was asked for its run
// `run_number`, or the signal's sender (`sender`) had asked to cancel an earlier run and the signal came late.
bool cancel_is_for_run(uint64 run_number);
bool cancel_came_late(uint64 run_number, pid_t sender);
// The number of the run this executor publishes next (publish_run) or does now.
uint64 current_run_number(void);

// Ids of the tasks executors of `database` are running (claimed tasks stay 'scheduled' in the catalog until their run
// commits, so whoever computes the next due time must leave them out). Returns how many, at most `max`.
int running_task_ids(Oid database, int64 *out, int max);

// Runs in progress per owner, cluster-wide, as the claims count them: an executor reserves its task's owner before it
// locks the row (reserve_owner_run) and keeps it until the run is recorded.
struct OwnerRuns {
    Oid owner;
    int runs;
};
// What a claim needs to know of the other executors, in one look: the ids of the tasks being run in `database` (as
// running_task_ids), the runs in progress per owner across all databases, and the database's count of commits that
// wrote scheduled tasks. Returns how many owners.
int copy_claim_state(Oid database, int64 *ids, int max_ids, int *id_count, OwnerRuns *owners, int max_owners,
                     uint64 *task_changes);
// Reserves a run for `owner` for this executor, unless `cap` (> 0) runs of `owner` are already in progress elsewhere
// (chronos.max_runs_per_owner). Returns whether it did.
bool reserve_owner_run(Oid owner, int cap);
// Gives back this executor's reservation (its claim did not get the row, or its run is over).
void release_owner_run(void);
// Whether a claim blocked by a session's lock in `database` should say so in the log now: at most once every
// `every_us` per database. Returns true (and notes the time) when it should.
bool note_lock_wait(Oid database, TimestampTz now, int64 every_us);
// Whether a warning of kind `kind` (< kRateLimitedWarnings) about `database` should be logged now: at most once every
// `every_us` per database and kind. Returns true (notes the time, sets *held to how many were held back since the last
// one, and clears that count) when it should; otherwise counts it as held back.
bool note_warning(Oid database, int kind, TimestampTz now, int64 every_us, int64 *held);
// Whether a lock wait was logged for `database` since it last ended; clears the note (to log once that it is over).
bool end_lock_wait(Oid database);

// Runs in progress in `database` (for chronos.running_tasks()).
int copy_running_slots(Oid database, ExecutorSlot *out, int max);
// Whether a live executor runs `task_id` in process `pid`, or has run it and waits to record the run.
bool executor_runs_task(pid_t pid, int64 task_id);
// The tasks whose runs this executor has ended and waits to record (deferred_runs.cpp).
void publish_deferred_runs(const int64 *task_ids, int count);

// An executor of `database` ended during a run (its journal holds the run): the other executors are woken to record it.
void note_ended_run(Oid database);
// Whether runs ended in `database` since the last call; clears the mark.
bool take_ended_runs(Oid database);

// Databases being copied, renamed, moved or dropped (database_events.cpp). While a database is quiesced its executors
// take no run permit (so claim nothing), no executor attaches to it, and the launcher starts none there.
bool database_quiesced(Oid database);

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

// Forgets the entry of a dropped database.
void forget_database(Oid database);

// Every executor of the cluster (chronos.executors); returns how many, at most `max`.
int copy_executor_slots(ExecutorSlot *out, int max);

// What chronos.scheduler shows of the shared state (scheduler_status.cpp).
struct SchedulerView {
    bool attached;           // the shared state exists: the library was loaded from shared_preload_libraries
    pid_t launcher_pid;      // 0: no launcher is running
    bool database_served;    // the launcher keeps an executor in the database
    bool database_quiesced;  // being dropped, copied, renamed or moved
};
void look_at_scheduler(Oid database, SchedulerView *out);
