// The shared memory of pg_chronos and its one spinlock: the launcher's pid and latch, the table of databases
// (database_table.hpp), the executor slots (executor_slots.hpp) and the count of runs in progress (run_permits.hpp).
// module.cpp requests and creates it; the launcher attaches to it. Its second part is for the sources of workers/
// only: every access to the segment goes through the functions of those sources.
#pragma once
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"

extern "C" {
#include "storage/spin.h"
}

void request_shared_state(void);
void init_shared_state(void);

// Launcher side.
void launcher_attach(void);
void launcher_detach(void);
void wake_launcher(void);

// For the sources of workers/: the segment, its lock, and look-ups made with the lock held.
namespace shared_memory {

struct SharedState {
    slock_t mutex;
    pid_t launcher_pid;
    Latch *launcher_latch;
    int runs_in_progress;
    uint64 next_permit_ticket;
    int slot_count;
    bool slots_contended;      // a database with due work waits for a worker slot (launcher_worker.cpp)
    int database_count;        // entries in use: databases[0 .. database_count)
    int database_capacity;     // chronos.max_databases
    // Databases that wanted an entry while the table was full (CREATE EXTENSION, a task committed): the launcher
    // takes them and tries again once there is room.
    Oid overflowed[kOverflowedDatabases];
    int overflowed_count;
};

extern SharedState *state;
extern DatabaseEntry *databases;
extern ExecutorSlot *slots;
extern ExecutorSlot *me;                    // this executor's slot (NULL in other processes)
// Slot i's runs in flight: kMaxInFlightPerExecutor entries from in_flight_entries + i * kMaxInFlightPerExecutor.
extern InFlightEntry *in_flight_entries;
inline InFlightEntry *in_flight_of(const ExecutorSlot *slot) {
    return in_flight_entries + (slot - slots) * kMaxInFlightPerExecutor;
}
extern uint64 served_generation_at_attach;  // this executor's database's served_generation when it attached

struct Locked {
    Locked() { SpinLockAcquire(&state->mutex); }
    ~Locked() { SpinLockRelease(&state->mutex); }
};

// The entry of `database` (created, when `create`, if there is room; NULL otherwise). Entries are kept dense:
// databases[0 .. database_count).
DatabaseEntry *find_database(Oid database, bool create);

// Frees `database`'s entry (the last entry moves into its place).
void free_database(Oid database);

// Keeps `due` for the database's next watcher (under the lock): a commit found no watcher to wake, or the watcher left
// the watch with a deadline others may have lowered. Without it, an executor that looked at the catalog before such a
// commit and takes the watch after it would sleep past the task.
void hand_over_due(Oid database, TimestampTz due);

ExecutorSlot *find_watcher(Oid database);

int count_executors(Oid database);
// Of those, the ones that take SQL tasks: with no runs in flight (which keep their slot until they end).
int count_sql_executors(Oid database);

// The most executors `database` may have: chronos.max_workers, or less while the launcher caps it for other databases.
int executor_limit(Oid database, int max_workers);

// Permits held by the executors of `database`.
int permits_held(Oid database);

// An executor of `database` other than `except` that runs nothing, or NULL.
ExecutorSlot *find_idle(Oid database, const ExecutorSlot *except);

// An executor of `database` other than `except` that waits on its latch for work, or NULL.
ExecutorSlot *find_asleep(Oid database, const ExecutorSlot *except);

// Sets the latches of the executors of `database` other than this one (only those asleep if `asleep_only`).
void wake_executors(Oid database, bool asleep_only);

// The tasks of `e` whose runs ended their executor and are not recorded yet (at most `max`, noted within
// kEndedTaskHoldUs), appended at out[0..]; returns how many.
int ended_tasks_of(const DatabaseEntry *e, int64 *out, int max);

}  // namespace shared_memory
