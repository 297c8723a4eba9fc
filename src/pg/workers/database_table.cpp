// The table of databases (see database_table.hpp).
#include "pg/workers/database_table.hpp"

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

namespace {

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

}  // namespace

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

void set_database_quiesced(Oid database, bool quiesced) {
    set_database_flag(database, &DatabaseEntry::quiesced, quiesced);
    if (!quiesced && state != NULL) {
        Locked lock;
        DatabaseEntry *e = find_database(database, false);
        if (e != NULL && !e->served)
            free_database(database);  // an entry made only to quiesce a database without the extension
    }
}

bool database_quiesced(Oid database) {
    if (state == NULL)
        return false;
    Locked lock;
    DatabaseEntry *e = find_database(database, false);
    return e != NULL && e->quiesced;
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

void forget_database(Oid database) {
    if (state == NULL)
        return;
    {
        Locked lock;
        free_database(database);
    }
    wake_launcher();
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
