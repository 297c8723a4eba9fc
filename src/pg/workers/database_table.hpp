// The table of databases in shared memory (chronos.max_databases entries): whether each is served or quiesced, when it
// next needs an executor, its back-off and its next prune. Used by the launcher, the executors, the validation trigger
// (wake_for_due_task at commit), the utility hook and chronos.scheduler.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/latch.h"
}

constexpr int kRateLimitedWarnings = 4;  // kinds of rate-limited warnings (run_log.hpp)
// Runs that ended their executor and wait to be recorded from its journal, per database: claims pass their tasks over
// until then (a transactional run leaves its task row due, unlocked once the executor's transaction is aborted). An
// entry is ignored after kEndedTaskHoldUs, should its journal never be recorded.
constexpr int kEndedTasks = 8;
constexpr int64 kEndedTaskHoldUs = 60 * INT64CONST(1000000);

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
    int64 ended_tasks[kEndedTasks];            // tasks of runs that ended their executor, not recorded yet; 0: free
    TimestampTz ended_task_at[kEndedTasks];    // when each was noted
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

// Lowers the deadline of the watcher of `database` to `due` and wakes it when it would sleep past `due`; without a
// watcher, wakes an idle executor or asks the launcher for one.
void wake_for_due_task(Oid database, TimestampTz due);

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

// When this executor's database's expired runs are to be deleted next, shared by its executors over their visits.
TimestampTz next_prune_of_database(void);

void set_next_prune_of_database(TimestampTz at);

// An executor found no extension (or an older one) in its database: it is no longer served, unless it was marked served
// since this executor attached (a CREATE EXTENSION that committed after the executor looked: another one starts).
void withdraw_database_service(Oid database);

void set_database_quiesced(Oid database, bool quiesced);

int copy_database_entries(DatabaseEntry *out, int max);

int take_extra_wanted(Oid database);

// Databases being copied, renamed, moved or dropped (utility_hook.cpp). While a database is quiesced its executors
// take no run permit (so claim nothing), no executor attaches to it, and the launcher starts none there.
bool database_quiesced(Oid database);

// Forgets the entry of a dropped database.
void forget_database(Oid database);

// What chronos.scheduler shows of the shared state (scheduler_functions.cpp).
struct SchedulerView {
    bool attached;           // the shared state exists: the library was loaded from shared_preload_libraries
    pid_t launcher_pid;      // 0: no launcher is running
    bool database_served;    // the launcher keeps an executor in the database
    bool database_quiesced;  // being dropped, copied, renamed or moved
};

void look_at_scheduler(Oid database, SchedulerView *out);
