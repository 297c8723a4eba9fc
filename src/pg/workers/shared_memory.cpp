// The shared memory segment (see shared_memory.hpp): its layout, creation, and the look-ups the other sources of
// workers/ make under its one spinlock. Critical sections only copy a few fields; latches are set after the lock is
// released.
#include "pg/workers/shared_memory.hpp"

#include "pg/settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

namespace shared_memory {

SharedState *state = NULL;
DatabaseEntry *databases = NULL;
ExecutorSlot *slots = NULL;
ExecutorSlot *me = NULL;
InFlightEntry *in_flight_entries = NULL;
uint64 served_generation_at_attach = 0;

// The entry of `database` (created, when `create`, if there is room; NULL otherwise). Entries are kept dense:
// databases[0 .. database_count).
DatabaseEntry *find_database(Oid database, bool create) {
    for (int i = 0; i < state->database_count; i++)
        if (databases[i].database == database)
            return &databases[i];
    if (!create)
        return NULL;
    if (state->database_count == state->database_capacity) {
        bool noted = false;
        for (int i = 0; i < state->overflowed_count && !noted; i++)
            noted = state->overflowed[i] == database;
        if (!noted && state->overflowed_count < kOverflowedDatabases)
            state->overflowed[state->overflowed_count++] = database;
        return NULL;
    }
    DatabaseEntry *e = &databases[state->database_count++];
    memset(e, 0, sizeof *e);
    e->database = database;
    e->next_due = DT_NOEND;
    return e;
}

// Frees `database`'s entry (the last entry moves into its place).
void free_database(Oid database) {
    for (int i = 0; i < state->database_count; i++) {
        if (databases[i].database != database)
            continue;
        databases[i] = databases[--state->database_count];
        memset(&databases[state->database_count], 0, sizeof(DatabaseEntry));
        return;
    }
}

// Keeps `due` for the database's next watcher (under the lock): a commit found no watcher to wake, or the watcher left
// the watch with a deadline others may have lowered. Without it, an executor that looked at the catalog before such a
// commit and takes the watch after it would sleep past the task.
void hand_over_due(Oid database, TimestampTz due) {
    DatabaseEntry *e = find_database(database, false);
    if (e == NULL || due == DT_NOEND)
        return;
    if (!e->due_pending || due < e->pending_due)
        e->pending_due = due;
    if (!e->due_pending)
        e->pending_since = GetCurrentTimestamp();
    e->due_pending = true;
}

ExecutorSlot *find_watcher(Oid database) {
    for (int i = 0; i < state->slot_count; i++)
        if (slots[i].pid != 0 && slots[i].database == database && slots[i].watcher)
            return &slots[i];
    return NULL;
}

int count_executors(Oid database) {
    int n = 0;
    for (int i = 0; i < state->slot_count; i++)
        if (slots[i].pid != 0 && slots[i].database == database && !slots[i].retiring)
            n++;
    return n;
}

int count_sql_executors(Oid database) {
    int n = 0;
    for (int i = 0; i < state->slot_count; i++)
        if (slots[i].pid != 0 && slots[i].database == database && !slots[i].retiring && slots[i].in_flight_count == 0)
            n++;
    return n;
}

// The most executors `database` may have: chronos.max_workers, or less while the launcher caps it for other databases.
int executor_limit(Oid database, int max_workers) {
    const DatabaseEntry *e = find_database(database, false);
    return e != NULL && e->executor_cap > 0 ? Min(e->executor_cap, max_workers) : max_workers;
}

// Permits held by the executors of `database`.
int permits_held(Oid database) {
    int n = 0;
    for (int i = 0; i < state->slot_count; i++)
        if (slots[i].pid != 0 && slots[i].database == database && slots[i].holds_permit)
            n++;
    return n;
}

// An executor of `database` other than `except` that runs nothing, or NULL.
ExecutorSlot *find_idle(Oid database, const ExecutorSlot *except) {
    for (int i = 0; i < state->slot_count; i++)
        if (&slots[i] != except && slots[i].pid != 0 && slots[i].database == database && slots[i].task_id == 0)
            return &slots[i];
    return NULL;
}

// An executor of `database` other than `except` that waits on its latch for work, or NULL.
ExecutorSlot *find_asleep(Oid database, const ExecutorSlot *except) {
    for (int i = 0; i < state->slot_count; i++)
        if (&slots[i] != except && slots[i].pid != 0 && slots[i].database == database && slots[i].asleep)
            return &slots[i];
    return NULL;
}

// Sets the latches of the executors of `database` other than this one (only those asleep if `asleep_only`).
void wake_executors(Oid database, bool asleep_only) {
    Latch *wake[64];
    int n = 0;
    {
        Locked lock;
        for (int i = 0; i < state->slot_count && n < 64; i++)
            if (slots[i].pid != 0 && &slots[i] != me && slots[i].database == database &&
                (!asleep_only || slots[i].asleep))
                wake[n++] = slots[i].latch;
    }
    for (int i = 0; i < n; i++)
        SetLatch(wake[i]);
}

int ended_tasks_of(const DatabaseEntry *e, int64 *out, int max) {
    if (e == NULL)
        return 0;
    TimestampTz now = GetCurrentTimestamp();
    int n = 0;
    for (int i = 0; i < kEndedTasks && n < max; i++)
        if (e->ended_tasks[i] != 0 && now - e->ended_task_at[i] < kEndedTaskHoldUs)
            out[n++] = e->ended_tasks[i];
    return n;
}

}  // namespace shared_memory

using namespace shared_memory;

namespace {

Size databases_size(void) {
    return MAXALIGN(mul_size(chronos_max_databases, sizeof(DatabaseEntry)));
}

Size slots_size(void) {
    return MAXALIGN(mul_size(max_worker_processes, sizeof(ExecutorSlot)));
}

Size shared_state_size(void) {
    return add_size(add_size(add_size(MAXALIGN(sizeof(SharedState)), databases_size()), slots_size()),
                    mul_size(mul_size(max_worker_processes, kMaxInFlightPerExecutor), sizeof(InFlightEntry)));
}

void launcher_detach_at_exit(int, Datum) {
    launcher_detach();
}

}  // namespace

void request_shared_state(void) {
    RequestAddinShmemSpace(shared_state_size());
}

void init_shared_state(void) {
    bool found;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    state = static_cast<SharedState *>(ShmemInitStruct("pg_chronos", shared_state_size(), &found));
    databases = reinterpret_cast<DatabaseEntry *>(reinterpret_cast<char *>(state) + MAXALIGN(sizeof(SharedState)));
    slots = reinterpret_cast<ExecutorSlot *>(reinterpret_cast<char *>(databases) + databases_size());
    in_flight_entries = reinterpret_cast<InFlightEntry *>(reinterpret_cast<char *>(slots) + slots_size());
    if (!found) {
        memset(state, 0, shared_state_size());
        SpinLockInit(&state->mutex);
        state->slot_count = max_worker_processes;
        state->database_capacity = chronos_max_databases;
    }
    LWLockRelease(AddinShmemInitLock);
}

void launcher_attach(void) {
    {
        Locked lock;
        state->launcher_pid = MyProcPid;
        state->launcher_latch = MyLatch;
    }
    before_shmem_exit(launcher_detach_at_exit, 0);
}

void launcher_detach(void) {
    Locked lock;
    if (state->launcher_pid == MyProcPid) {
        state->launcher_pid = 0;
        state->launcher_latch = NULL;
    }
}

void wake_launcher(void) {
    if (state == NULL)
        return;
    Latch *latch;
    {
        Locked lock;
        latch = state->launcher_latch;
    }
    if (latch)
        SetLatch(latch);
}
