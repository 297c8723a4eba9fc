// Waking the executors at commit (see task_wake.hpp).
#include "pg/catalog/task_wake.hpp"

#include "pg/workers/database_table.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
}

namespace {

// The earliest next_exec_time this transaction scheduled; DT_NOEND if none.
TimestampTz pending_due = DT_NOEND;
// Whether this transaction asked for a manual run (chronos.run_now()).
bool pending_manual = false;

void wake_at_commit(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT && pending_manual)
        request_manual_runs(MyDatabaseId);
    if (event == XACT_EVENT_COMMIT && pending_due != DT_NOEND)
        wake_for_due_task(MyDatabaseId, pending_due);
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE) {
        pending_due = DT_NOEND;
        pending_manual = false;
    }
}

}  // namespace

void register_task_wake_callback(void) {
    RegisterXactCallback(wake_at_commit, NULL);
}

void note_task_due(TimestampTz due) {
    pending_due = Min(pending_due, due);
}

void note_manual_run(void) {
    pending_manual = true;
    pending_due = Min(pending_due, GetCurrentTimestamp());
}
