// Shared memory of pg_chronos (see shared_state.hpp). One spinlock guards it; critical sections only copy a few fields, and
// latches are set after the lock is released.
#include "pg/workers/shared_state.hpp"

#include "pg/settings.hpp"


extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

namespace {

struct SharedState {
    slock_t mutex;
    pid_t launcher_pid;
    Latch *launcher_latch;
    int runs_in_progress;
    uint64 next_permit_ticket;
    int slot_count;
    bool slots_contended;      // a database with due work waits for a worker slot (launcher.cpp)
    int database_count;        // entries in use: databases[0 .. database_count)
    int database_capacity;     // chronos.max_databases
    // Databases that wanted an entry while the table was full (CREATE EXTENSION, a task committed): the launcher
    // takes them and tries again once there is room.
    Oid overflowed[kOverflowedDatabases];
    int overflowed_count;
};

SharedState *state = NULL;
DatabaseEntry *databases = NULL;
ExecutorSlot *slots = NULL;
ExecutorSlot *me = NULL;
uint64 served_generation_at_attach = 0;  // this executor's database's served_generation when it attached

Size databases_size(void) {
    return MAXALIGN(mul_size(chronos_max_databases, sizeof(DatabaseEntry)));
}

Size shared_state_size(void) {
    return add_size(add_size(MAXALIGN(sizeof(SharedState)), databases_size()),
                    mul_size(max_worker_processes, sizeof(ExecutorSlot)));
}

struct Locked {
    Locked() { SpinLockAcquire(&state->mutex); }
    ~Locked() { SpinLockRelease(&state->mutex); }
};

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

// With the lock held: this executor's permit goes to the queued executor whose database holds the fewest permits
// (then the one queued first), or back to the pool. Returns the latch to set, or NULL.
Latch *pass_permit_on(int max_workers, TimestampTz now) {
    me->holds_permit = false;
    ExecutorSlot *next = NULL;
    int next_held = 0;
    for (int i = 0; i < state->slot_count && state->runs_in_progress <= max_workers; i++) {
        ExecutorSlot *s = &slots[i];
        if (s->pid == 0 || s == me || !s->waits_for_permit || s->holds_permit)
            continue;
        const DatabaseEntry *e = find_database(s->database, false);
        if (e != NULL && e->quiesced)
            continue;
        int held = permits_held(s->database);
        if (next == NULL || held < next_held || (held == next_held && s->permit_ticket < next->permit_ticket)) {
            next = s;
            next_held = held;
        }
    }
    if (next != NULL) {
        next->holds_permit = true;  // runs_in_progress is unchanged: the permit changes hands
        next->waits_for_permit = false;
        next->since = now;
        return next->latch;
    }
    state->runs_in_progress--;
    return NULL;
}

void detach_at_exit(int, Datum) {
    executor_detach();
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

bool executor_attach(Oid database) {
    {
        Locked lock;
        // A database being dropped, copied or renamed, or one no longer served, gets no new executor.
        DatabaseEntry *e = find_database(database, false);
        if (e == NULL || !e->served || e->quiesced)
            return false;
        served_generation_at_attach = e->served_generation;
        // The first executor of a visit: what the executors of the last one said is done; each that leaves says when
        // the database next needs one (the earliest is kept).
        if (count_executors(database) == 0) {
            e->next_due = DT_NOEND;
            e->due_pending = false;  // its first look at the catalog sees what was handed over
        }
        for (int i = 0; i < state->slot_count && me == NULL; i++) {
            if (slots[i].pid == 0) {
                me = &slots[i];
                memset(me, 0, sizeof *me);
                me->pid = MyProcPid;
                me->database = database;
                me->latch = MyLatch;
                me->since = GetCurrentTimestamp();
                me->attached_at = me->since;
            }
        }
    }
    if (me == NULL)
        return false;
    before_shmem_exit(detach_at_exit, 0);
    return true;
}

void executor_detach(void) {
    if (me == NULL)
        return;
    Latch *successor = NULL;
    Latch *permit_to = NULL;
    TimestampTz now = GetCurrentTimestamp();
    {
        Locked lock;
        if (me->holds_permit)
            permit_to = pass_permit_on(chronos_max_workers, now);
        if (me->watcher)
            hand_over_due(me->database, me->wakes_at);
        me->pid = 0;  // no longer counted, nor found as the watcher
        if (me->watcher || find_watcher(me->database) == NULL) {
            // The database keeps a watcher: an idle executor takes over.
            ExecutorSlot *idle = find_idle(me->database, me);
            successor = idle ? idle->latch : NULL;
        }
        memset(me, 0, sizeof *me);
        me = NULL;
    }
    if (successor)
        SetLatch(successor);
    if (permit_to)
        SetLatch(permit_to);
    wake_launcher();
}

ExecutorSlot *my_slot(void) {
    return me;
}

bool take_watch(TimestampTz wakes_at, bool to_sleep) {
    Latch *wake = NULL;
    bool watching;
    {
        Locked lock;
        ExecutorSlot *watcher = find_watcher(me->database);
        DatabaseEntry *e = find_database(me->database, false);
        if (to_sleep && e != NULL && e->due_pending) {
            wakes_at = Min(wakes_at, e->pending_due);  // taken over by whoever watches now
            e->due_pending = false;
        }
        // A watcher's deadline is DT_NOEND while it is awake; a commit since then lowered it (and set a latch that a
        // lock wait or a permit wait may have consumed): that due time is kept, so that it cannot be lost.
        if (watcher == me && to_sleep)
            wakes_at = Min(wakes_at, me->wakes_at);
        if (watcher == NULL || watcher == me) {
            me->watcher = true;
            me->wakes_at = wakes_at;
        } else if (watcher->wakes_at > wakes_at) {
            // This executor knows of an earlier due time than the watcher: lower its deadline.
            watcher->wakes_at = wakes_at;
            wake = watcher->latch;
        }
        watching = me->watcher;
    }
    if (wake)
        SetLatch(wake);
    return watching;
}

TimestampTz watch_deadline(void) {
    Locked lock;
    return me->watcher ? me->wakes_at : DT_NOEND;
}

void share_work(int max_workers, int also_due) {
    Latch *wake[16];
    int woken = 0;
    int wanted = Min(Max(also_due, 1), 16);
    bool want_executor = false;
    {
        Locked lock;
        if (me->watcher)
            hand_over_due(me->database, me->wakes_at);
        me->watcher = false;
        int executors = 0;
        for (int i = 0; i < state->slot_count; i++) {
            ExecutorSlot *s = &slots[i];
            if (s->pid == 0 || s->database != me->database)
                continue;
            executors++;
            if (s != me && s->task_id == 0 && woken < wanted)
                wake[woken++] = s->latch;
        }
        int limit = executor_limit(me->database, max_workers);
        if (woken < wanted && executors < limit && state->runs_in_progress < max_workers) {
            DatabaseEntry *e = find_database(me->database, true);
            int more = Min(wanted - woken, limit - executors);
            if (e != NULL && e->extra_wanted < more) {
                e->extra_wanted = more;
                want_executor = true;
            }
        }
    }
    for (int i = 0; i < woken; i++)
        SetLatch(wake[i]);
    if (want_executor)
        wake_launcher();
}

void prepare_pool(int max_workers, int together) {
    bool want_executor = false;
    {
        Locked lock;
        int more = Min(together, executor_limit(me->database, max_workers)) - count_executors(me->database);
        DatabaseEntry *e = more > 0 ? find_database(me->database, true) : NULL;
        if (e != NULL && e->extra_wanted < more) {
            e->extra_wanted = more;
            want_executor = true;
        }
    }
    if (want_executor)
        wake_launcher();
}

bool could_share_work(int max_workers) {
    Locked lock;
    if (find_asleep(me->database, me) != NULL)
        return true;
    return count_executors(me->database) < executor_limit(me->database, max_workers) &&
           state->runs_in_progress < max_workers;
}

void set_asleep(bool asleep) {
    Locked lock;
    me->asleep = asleep;
    if (asleep)
        me->run_owner = InvalidOid;  // a claim that ran nothing (its task's missed slots were skipped)
}

void wake_idle_executors(void) {
    wake_executors(me->database, true);
}

void publish_run(int64 task_id, TimestampTz scheduled_for, TimestampTz started_at, bool transactional) {
    Locked lock;
    me->task_id = task_id;
    me->run_number++;
    me->scheduled_for = scheduled_for;
    me->started_at = started_at;
    me->since = started_at;
    me->transactional = transactional;
}

void publish_run_mode(bool transactional) {
    Locked lock;
    me->transactional = transactional;
}

void clear_run(void) {
    TimestampTz now = GetCurrentTimestamp();
    Locked lock;
    if (me->task_id != 0)
        me->since = now;
    me->task_id = 0;
    me->run_owner = InvalidOid;
}

pid_t request_cancel(Oid database, int64 task_id) {
    if (state == NULL)
        return 0;
    Locked lock;
    for (int i = 0; i < state->slot_count; i++) {
        if (slots[i].pid != 0 && slots[i].database == database && slots[i].task_id == task_id) {
            slots[i].cancel_run = slots[i].run_number;
            slots[i].cancel_sender = MyProcPid;
            return slots[i].pid;
        }
    }
    return 0;
}

bool run_cancel_requested(void) {
    Locked lock;
    return me->task_id != 0 && me->cancel_run == me->run_number;
}

bool cancel_is_for_run(uint64 run_number) {
    return me != NULL && me->cancel_run == run_number;
}

bool cancel_came_late(uint64 run_number, pid_t sender) {
    return me != NULL && sender != 0 && sender == me->cancel_sender && me->cancel_run != run_number;
}

uint64 current_run_number(void) {
    return me != NULL ? me->run_number : 0;
}

bool take_run_permit(int max_workers) {
    TimestampTz now = GetCurrentTimestamp();
    Locked lock;
    if (me->holds_permit)
        return true;  // handed over by give_run_permit while it waited
    DatabaseEntry *e = find_database(me->database, false);
    if (e != NULL && e->quiesced)
        return false;  // claims nothing while the database is being dropped, copied or renamed
    if (state->runs_in_progress >= max_workers) {
        if (!me->waits_for_permit) {
            me->waits_for_permit = true;
            me->permit_ticket = ++state->next_permit_ticket;
            me->since = now;
        }
        return false;
    }
    if (me->waits_for_permit)
        me->since = now;
    me->waits_for_permit = false;
    state->runs_in_progress++;
    me->holds_permit = true;
    return true;
}

void give_run_permit(int max_workers) {
    Latch *wake = NULL;
    TimestampTz now = GetCurrentTimestamp();
    {
        Locked lock;
        if (me->holds_permit)
            wake = pass_permit_on(max_workers, now);
    }
    if (wake)
        SetLatch(wake);
}

void wake_for_due_task(Oid database, TimestampTz due) {
    if (state == NULL)
        return;
    Latch *wake = NULL;
    bool want_executor = false;
    {
        Locked lock;
        DatabaseEntry *entry = find_database(database, true);
        if (entry != NULL)
            entry->task_changes++;
        ExecutorSlot *watcher = find_watcher(database);
        ExecutorSlot *idle = watcher ? NULL : find_idle(database, NULL);
        if (watcher == NULL)
            hand_over_due(database, due);  // for an executor that looked before this commit and watches after it
        if (watcher != NULL) {
            if (watcher->wakes_at > due) {
                watcher->wakes_at = due;
                wake = watcher->latch;
            }
        } else if (idle != NULL) {
            wake = idle->latch;
        } else {
            DatabaseEntry *e = find_database(database, true);
            if (e != NULL && !e->quiesced) {
                e->served = true;
                e->has_extension = true;  // a task was committed there
                int executors = count_executors(database);
                if (executors > 0 && executors < executor_limit(database, INT_MAX))
                    e->extra_wanted++;
                want_executor = true;
            }
        }
    }
    if (wake)
        SetLatch(wake);
    if (want_executor)
        wake_launcher();
}

void request_manual_runs(Oid database) {
    if (state == NULL)
        return;
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    if (e != NULL)
        e->manual_requested = true;
}

bool take_manual_request(Oid database) {
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    bool requested = e != NULL && e->manual_requested;
    if (requested)
        e->manual_requested = false;
    return requested;
}

void wake_idle_executors_everywhere(void) {
    Latch *wake[64];
    int n = 0;
    {
        Locked lock;
        for (int i = 0; i < state->slot_count && n < 64; i++)
            if (slots[i].pid != 0 && slots[i].asleep)
                wake[n++] = slots[i].latch;
    }
    for (int i = 0; i < n; i++)
        SetLatch(wake[i]);
}

void wake_database_executors(Oid database) {
    if (state != NULL)
        wake_executors(database, false);
}

// Sets one flag of the database's entry (creating the entry to set a flag, not to clear one) and tells the launcher.
static void set_database_flag(Oid database, bool DatabaseEntry::*flag, bool value) {
    if (state == NULL)
        return;
    {
        Locked lock;
        DatabaseEntry *e = find_database(database, value);
        if (e != NULL)
            e->*flag = value;
    }
    wake_launcher();
}

void mark_database_served(Oid database, bool served) {
    if (state == NULL)
        return;
    {
        Locked lock;
        if (served) {
            DatabaseEntry *e = find_database(database, true);
            if (e != NULL) {
                e->served = true;
                e->has_extension = true;
                e->served_generation++;
                e->next_due = Min(e->next_due, GetCurrentTimestamp());  // an executor looks at its tasks
            }
        } else {
            free_database(database);
        }
    }
    wake_launcher();
}

void withdraw_database_service(Oid database) {
    if (state == NULL)
        return;
    {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e != NULL && e->served_generation == served_generation_at_attach)
            free_database(database);
    }
    wake_launcher();
}

void confirm_database_served(Oid database) {
    if (state == NULL)
        return;
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    if (e != NULL)
        e->has_extension = true;
}

bool consider_database(Oid database) {
    if (state == NULL)
        return false;
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    if (e == NULL)
        return false;
    e->served = true;
    e->next_due = Min(e->next_due, GetCurrentTimestamp());
    return true;
}

TimestampTz database_due_at(const DatabaseEntry *entry) {
    return entry->due_pending ? Min(entry->next_due, entry->pending_due) : entry->next_due;
}

void set_database_next_due(TimestampTz due, TimestampTz looked_at) {
    Locked lock;
    DatabaseEntry *e = find_database(me->database, false);
    if (e == NULL)
        return;
    e->next_due = Min(e->next_due, due);
    if (e->due_pending && e->pending_since < looked_at)
        e->due_pending = false;
}

void visit_every_database(void) {
    TimestampTz now = GetCurrentTimestamp();
    Locked lock;
    for (int i = 0; i < state->database_count; i++) {
        databases[i].next_due = Min(databases[i].next_due, now);
        databases[i].prune_after = Min(databases[i].prune_after, now);
    }
}

void set_slots_contended(bool contended) {
    Locked lock;
    state->slots_contended = contended;
}

bool slots_contended(void) {
    Locked lock;
    return state->slots_contended;
}

void note_executor_failure(void) {
    Locked lock;
    DatabaseEntry *e = me != NULL ? find_database(me->database, false) : NULL;
    if (e != NULL && e->failed_starts < 1000)
        e->failed_starts++;
}

void note_executor_healthy(void) {
    Locked lock;
    DatabaseEntry *e = find_database(me->database, false);
    if (e != NULL)
        e->failed_starts = 0;
}

TimestampTz next_prune_of_database(void) {
    Locked lock;
    const DatabaseEntry *e = find_database(me->database, false);
    return e != NULL ? e->prune_after : 0;
}

void set_next_prune_of_database(TimestampTz at) {
    Locked lock;
    DatabaseEntry *e = find_database(me->database, false);
    if (e != NULL)
        e->prune_after = at;
}

TimestampTz executor_attached_at(void) {
    return me->attached_at;
}

void set_executor_cap(Oid database, int cap) {
    bool lowered = false;
    {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e == NULL)
            return;
        lowered = cap > 0 && (e->executor_cap == 0 || cap < e->executor_cap) && count_executors(database) > cap;
        e->executor_cap = cap;
    }
    if (lowered)
        wake_executors(database, true);  // the idle ones give their slot back at once; a running one after its run
}

bool executor_should_retire(void) {
    Locked lock;
    if (me->retiring)
        return true;
    if (me->holds_permit)
        return false;  // a permit handed over is used first
    const DatabaseEntry *e = find_database(me->database, false);
    if (e == NULL || e->executor_cap <= 0 || count_executors(me->database) <= e->executor_cap)
        return false;
    me->retiring = true;
    return true;
}

void set_database_quiesced(Oid database, bool quiesced) {
    set_database_flag(database, &DatabaseEntry::quiesced, quiesced);
    if (!quiesced && state != NULL) {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e != NULL && !e->served)
            free_database(database);  // an entry made only to quiesce a database without the extension
    }
}

bool terminate_database_executors(Oid database, int timeout_ms) {
    if (state == NULL)
        return true;
    for (int waited = 0;; waited += 10) {
        pid_t pids[64];
        int n = 0;
        {
            Locked lock;
            for (int i = 0; i < state->slot_count && n < 64; i++)
                if (slots[i].pid != 0 && slots[i].database == database)
                    pids[n++] = slots[i].pid;
        }
        if (n == 0)
            return true;
        if (waited >= timeout_ms)
            return false;
        for (int i = 0; i < n; i++)
            kill(pids[i], SIGTERM);
        pg_usleep(10 * 1000L);
        CHECK_FOR_INTERRUPTS();
    }
}

int copy_database_entries(DatabaseEntry *out, int max) {
    Locked lock;
    int n = Min(state->database_count, max);
    memcpy(out, databases, sizeof(DatabaseEntry) * n);
    return n;
}

int take_extra_wanted(Oid database) {
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    if (e == NULL)
        return 0;
    int n = e->extra_wanted;
    e->extra_wanted = 0;
    return n;
}

int running_task_ids(Oid database, int64 *out, int max) {
    ExecutorSlot running[64];
    int n = copy_running_slots(database, running, Min(max, 64));
    for (int i = 0; i < n; i++)
        out[i] = running[i].task_id;
    return n;
}

int copy_claim_state(Oid database, int64 *ids, int max_ids, int *id_count, OwnerRuns *owners, int max_owners,
                     uint64 *task_changes) {
    Locked lock;
    const DatabaseEntry *e = find_database(database, false);
    *task_changes = e != NULL ? e->task_changes : 0;
    int n = 0, m = 0;
    for (int i = 0; i < state->slot_count; i++) {
        const ExecutorSlot *s = &slots[i];
        if (s->pid == 0 || s == me)
            continue;
        if (s->database == database && s->task_id != 0 && n < max_ids)
            ids[n++] = s->task_id;
        if (s->run_owner == InvalidOid)
            continue;
        int k = 0;
        while (k < m && owners[k].owner != s->run_owner)
            k++;
        if (k < m)
            owners[k].runs++;
        else if (m < max_owners)
            owners[m++] = {s->run_owner, 1};
    }
    *id_count = n;
    return m;
}

bool reserve_owner_run(Oid owner, int cap) {
    Locked lock;
    if (cap > 0) {
        int runs = 0;
        for (int i = 0; i < state->slot_count; i++)
            if (slots[i].pid != 0 && &slots[i] != me && slots[i].run_owner == owner)
                runs++;
        if (runs >= cap)
            return false;
    }
    me->run_owner = owner;
    return true;
}

void release_owner_run(void) {
    Locked lock;
    me->run_owner = InvalidOid;
}

bool note_lock_wait(Oid database, TimestampTz now, int64 every_us) {
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    if (e == NULL || (e->lock_wait_logged_at != 0 && now - e->lock_wait_logged_at < every_us))
        return false;
    e->lock_wait_logged_at = now;
    return true;
}

bool note_warning(Oid database, int kind, TimestampTz now, int64 every_us, int64 *held) {
    *held = 0;
    if (state == NULL)
        return true;
    Locked lock;
    DatabaseEntry *e = find_database(database, true);
    *held = 0;
    if (e == NULL)
        return true;  // no entry to count in: say it
    if (e->warned_at[kind] != 0 && now - e->warned_at[kind] < every_us) {
        e->warnings_held[kind]++;
        return false;
    }
    e->warned_at[kind] = now;
    *held = e->warnings_held[kind];
    e->warnings_held[kind] = 0;
    return true;
}

bool end_lock_wait(Oid database) {
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    bool logged = e != NULL && e->lock_wait_logged_at != 0;
    if (logged)
        e->lock_wait_logged_at = 0;
    return logged;
}

int copy_running_slots(Oid database, ExecutorSlot *out, int max) {
    if (state == NULL)
        return 0;
    Locked lock;
    int n = 0;
    for (int i = 0; i < state->slot_count && n < max; i++)
        if (slots[i].pid != 0 && slots[i].database == database && slots[i].task_id != 0)
            out[n++] = slots[i];
    return n;
}

bool executor_runs_task(pid_t pid, int64 task_id) {
    if (state == NULL)
        return false;
    Locked lock;
    for (int i = 0; i < state->slot_count; i++) {
        if (slots[i].pid != pid)
            continue;
        if (slots[i].task_id == task_id)
            return true;
        for (int k = 0; k < slots[i].deferred_count; k++)
            if (slots[i].deferred[k] == task_id)
                return true;
    }
    return false;
}

void publish_deferred_runs(const int64 *task_ids, int count) {
    Locked lock;
    me->deferred_count = Min(count, kMaxDeferredRuns);
    for (int i = 0; i < me->deferred_count; i++)
        me->deferred[i] = task_ids[i];
}

void note_ended_run(Oid database) {
    if (state == NULL)
        return;
    {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e != NULL) {
            e->ended_runs = true;
            // Recorded by an executor that is free now: when every other one is busy (or there is none), the
            // launcher starts one, so that the run is recorded, and due tasks run, without waiting for long runs.
            bool free_sibling = false;
            for (int i = 0; i < state->slot_count && !free_sibling; i++)
                free_sibling = &slots[i] != me && slots[i].pid != 0 && slots[i].database == database &&
                               slots[i].task_id == 0 && !slots[i].retiring;
            if (!free_sibling && count_executors(database) <= executor_limit(database, INT_MAX))
                e->extra_wanted++;
        }
        hand_over_due(database, GetCurrentTimestamp());
    }
    wake_database_executors(database);
    wake_launcher();
}

bool take_ended_runs(Oid database) {
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    bool ended = e != NULL && e->ended_runs;
    if (ended)
        e->ended_runs = false;
    return ended;
}

bool database_quiesced(Oid database) {
    if (state == NULL)
        return false;
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    return e != NULL && e->quiesced;
}

void look_at_database_executors(Oid database, DatabaseExecutors *out) {
    memset(out, 0, sizeof *out);
    if (state == NULL)
        return;
    Locked lock;
    for (int i = 0; i < state->slot_count; i++) {
        ExecutorSlot *s = &slots[i];
        if (s->pid == 0 || s->database != database)
            continue;
        out->count++;
        if (!s->holds_permit && out->idle_count < 64)
            out->idle[out->idle_count++] = s->pid;
        if (s->task_id != 0) {
            if (out->runs < 8) {
                out->task_ids[out->runs] = s->task_id;
                out->run_owners[out->runs] = s->run_owner;
            }
            out->runs++;
        }
    }
}

int take_overflowed_databases(Oid *out, int max) {
    if (state == NULL)
        return 0;
    Locked lock;
    int n = Min(max, state->overflowed_count);
    memcpy(out, state->overflowed, sizeof(Oid) * n);
    state->overflowed_count = 0;
    return n;
}

bool database_table_full(void) {
    if (state == NULL)
        return false;
    Locked lock;
    return state->database_count == state->database_capacity;
}

void forget_database(Oid database) {
    if (state == NULL)
        return;
    {
        Locked lock;
        free_database(database);
    }
    wake_launcher();
}

int copy_executor_slots(ExecutorSlot *out, int max) {
    if (state == NULL)
        return 0;
    Locked lock;
    int n = 0;
    for (int i = 0; i < state->slot_count && n < max; i++)
        if (slots[i].pid != 0)
            out[n++] = slots[i];
    return n;
}

void look_at_scheduler(Oid database, SchedulerView *out) {
    memset(out, 0, sizeof *out);
    if (state == NULL)
        return;
    out->attached = true;
    Locked lock;
    out->launcher_pid = state->launcher_pid;
    const DatabaseEntry *e = find_database(database, false);
    out->database_served = e != NULL && e->served && e->has_extension;
    out->database_quiesced = e != NULL && e->quiesced;
}
