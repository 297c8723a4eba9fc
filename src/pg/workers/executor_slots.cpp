// Executor slots (see executor_slots.hpp): attaching and leaving, the watch over the clock, sharing work between the
// executors of a database, and looking at them.
#include "pg/workers/executor_slots.hpp"

#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/shared_memory.hpp"
#include "pg/workers/run_permits.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

using namespace shared_memory;

namespace {

void detach_at_exit(int, Datum) {
    executor_detach();
}

}  // namespace

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

void share_work(int max_workers, int also_due, bool step_work) {
    Latch *wake[16];
    int woken = 0;
    bool want_executor = false;
    {
        Locked lock;
        // Tasks others could run now are woken for; with none (their owners at chronos.max_runs_per_owner, or nothing
        // else due), one executor only when no other one watches the database, to take over the watch.
        ExecutorSlot *watcher = find_watcher(me->database);
        int wanted = also_due > 0 ? Min(also_due, 16) : (watcher != NULL && watcher != me ? 0 : 1);
        if (me->watcher)
            hand_over_due(me->database, me->wakes_at);
        me->watcher = false;
        int executors = 0;
        for (int i = 0; i < state->slot_count; i++) {
            ExecutorSlot *s = &slots[i];
            if (s->pid == 0 || s->database != me->database)
                continue;
            if (!(step_work && s->in_flight_count > 0))
                executors++;  // for SQL tasks, those driving runs in flight do not count
            if (s != me && s->task_id == 0 && !(step_work && s->in_flight_count > 0) && woken < wanted)
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

bool turn_is_over(void) {
    return slots_contended() && GetCurrentTimestamp() - executor_attached_at() >= kTurnMs * 1000;
}

bool may_drive_in_flight(int max_workers) {
    if (turn_is_over()) {
        end_drive(false);
        return false;
    }
    Locked lock;
    // Executors that drive runs in flight keep their worker slots until their runs end: in the whole cluster they stay
    // fewer than half the slots (max_worker_processes less the launcher and PostgreSQL's own), so that the databases
    // take turns in the rest; in a database, fewer than its executor limit, so that one is left for its SQL tasks.
    int drivers = 0, all_drivers = 0;
    for (int i = 0; i < state->slot_count; i++) {
        const ExecutorSlot *s = &slots[i];
        if (s == me || s->pid == 0 || !(s->in_flight_count > 0 || s->may_drive))
            continue;
        all_drivers++;
        if (s->database == me->database)
            drivers++;
    }
    bool cluster_room = all_drivers < Max(1, (state->slot_count - 3) / 2);
    me->may_drive = cluster_room && drivers < Max(executor_limit(me->database, max_workers) - 1, 1);
    return me->may_drive;
}

void end_drive(bool drives) {
    Locked lock;
    me->may_drive = drives;
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

bool executors_all_drive(Oid database) {
    Locked lock;
    return count_executors(database) > 0 && count_sql_executors(database) == 0;
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
    if (e == NULL || e->executor_cap <= 0 || count_sql_executors(me->database) <= e->executor_cap)
        return false;  // executors driving runs in flight do not count: they leave once their runs have ended
    me->retiring = true;
    return true;
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
