// Runs in progress and requests about them (see runs_in_progress.hpp).
#include "pg/workers/runs_in_progress.hpp"

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
        if (slots[i].pid == 0 || slots[i].database != database)
            continue;
        for (int k = 0; k < slots[i].in_flight_count; k++) {
            if (in_flight_of(&slots[i])[k].task_id != task_id)
                continue;
            // In flight: the executor sees the request at its next look (within 10 ms); the signal only wakes it.
            for (int c = 0; c < kMaxInFlightCancels; c++)
                if (slots[i].in_flight_cancels[c] == 0 || slots[i].in_flight_cancels[c] == task_id) {
                    slots[i].in_flight_cancels[c] = task_id;
                    break;
                }
            return slots[i].pid;
        }
    }
    return 0;
}

namespace {

// This executor's runs in flight become `runs` (the lock held).
void set_in_flight(const InFlightEntry *runs, int count) {
    me->in_flight_count = Min(count, kMaxInFlightPerExecutor);
    InFlightEntry *entries = in_flight_of(me);
    for (int i = 0; i < me->in_flight_count; i++)
        entries[i] = runs[i];
}

}  // namespace

void publish_in_flight(const InFlightEntry *runs, int count) {
    Locked lock;
    set_in_flight(runs, count);
}

int copy_in_flight_runs(Oid database, InFlightEntry *out, pid_t *pids, int max) {
    if (state == NULL)
        return 0;
    Locked lock;
    int n = 0;
    for (int i = 0; i < state->slot_count; i++) {
        if (slots[i].pid == 0 || slots[i].database != database)
            continue;
        for (int k = 0; k < slots[i].in_flight_count && n < max; k++) {
            out[n] = in_flight_of(&slots[i])[k];
            pids[n++] = slots[i].pid;
        }
    }
    return n;
}

int count_in_flight(void) {
    if (state == NULL)
        return 0;
    Locked lock;
    int n = 0;
    for (int i = 0; i < state->slot_count; i++)
        if (slots[i].pid != 0)
            n += slots[i].in_flight_count;
    return n;
}

namespace {

// Requests in flight to `host_key` in the cluster (the lock held); *of_owner: those of `owner`'s tasks.
int count_to_host(uint32 host_key, Oid owner, int *of_owner) {
    *of_owner = 0;
    int n = 0;
    for (int i = 0; i < state->slot_count; i++) {
        if (slots[i].pid == 0)
            continue;
        const InFlightEntry *entries = in_flight_of(&slots[i]);
        for (int k = 0; k < slots[i].in_flight_count; k++)
            if (entries[k].host_key == host_key) {
                n++;
                *of_owner += entries[k].owner == owner;
            }
    }
    return n;
}

}  // namespace

bool publish_in_flight_within_host_limits(const InFlightEntry *runs, int count, uint32 host_key, Oid owner,
                                          int max_to_host, int max_of_owner) {
    Locked lock;
    int of_owner;
    if (count_to_host(host_key, owner, &of_owner) >= max_to_host || of_owner >= max_of_owner)
        return false;
    set_in_flight(runs, count);
    return true;
}

int copy_in_flight_owners(OwnerRuns *owners, int max_owners) {
    if (state == NULL)
        return 0;
    Locked lock;
    int m = 0;
    for (int i = 0; i < state->slot_count; i++) {
        if (slots[i].pid == 0)
            continue;
        const InFlightEntry *entries = in_flight_of(&slots[i]);
        for (int k = 0; k < slots[i].in_flight_count; k++) {
            int j = 0;
            while (j < m && owners[j].owner != entries[k].owner)
                j++;
            if (j < m)
                owners[j].runs++;
            else if (m < max_owners)
                owners[m++] = {entries[k].owner, 1};
        }
    }
    return m;
}

int take_in_flight_cancels(int64 *task_ids, int max) {
    Locked lock;
    int n = 0;
    for (int c = 0; c < kMaxInFlightCancels; c++) {
        if (me->in_flight_cancels[c] != 0 && n < max)
            task_ids[n++] = me->in_flight_cancels[c];
        me->in_flight_cancels[c] = 0;
    }
    return n;
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

int running_task_ids(Oid database, int64 *out, int max) {
    ExecutorSlot running[64];
    int n = copy_running_slots(database, running, Min(max, 64));
    for (int i = 0; i < n; i++)
        out[i] = running[i].task_id;
    if (state != NULL) {
        Locked lock;
        n += ended_tasks_of(find_database(database, false), out + n, max - n);
    }
    return n;
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
        for (int k = 0; k < slots[i].in_flight_count; k++)
            if (in_flight_of(&slots[i])[k].task_id == task_id)
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

void note_ended_run(Oid database, int64 task_id) {
    if (state == NULL)
        return;
    {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e != NULL) {
            e->ended_runs = true;
            if (task_id != 0) {
                // Passed over by claims until recorded: in a free entry, or in place of the oldest.
                int k = 0;
                for (int i = 1; i < kEndedTasks && e->ended_tasks[k] != 0; i++)
                    if (e->ended_tasks[i] == 0 || e->ended_task_at[i] < e->ended_task_at[k])
                        k = i;
                e->ended_tasks[k] = task_id;
                e->ended_task_at[k] = GetCurrentTimestamp();
            }
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

void forget_ended_run(Oid database, int64 task_id) {
    if (state == NULL || task_id == 0)
        return;
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    for (int i = 0; e != NULL && i < kEndedTasks; i++)
        if (e->ended_tasks[i] == task_id)
            e->ended_tasks[i] = 0;
}
