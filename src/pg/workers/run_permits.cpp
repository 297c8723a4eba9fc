// Run permits (see run_permits.hpp): the count of runs in progress, the queue of executors waiting for a permit,
// and the runs in progress per owner.
#include "pg/workers/run_permits.hpp"

#include "pg/settings.hpp"
#include "pg/workers/shared_memory.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

using namespace shared_memory;

namespace shared_memory {

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

}  // namespace shared_memory

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
    n += ended_tasks_of(e, ids + n, max_ids - n);
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
