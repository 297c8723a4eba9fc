// Whether the scheduler serves a database, as SQL sees it: chronos.check_preloaded(), which the install and update
// scripts call so that the extension is not installed where no launcher would ever run its tasks, and
// chronos.scheduler_status(), behind the view chronos.scheduler.
#include "pg/settings.hpp"
#include "pg/workers/database_table.hpp"
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_check_preloaded);
PG_FUNCTION_INFO_V1(chronos_scheduler_status);
}

// chronos.check_preloaded(): raises an error unless the library was loaded from shared_preload_libraries, where its
// shared memory and launcher come from (a library loaded by a backend on first use has neither). A binary upgrade
// (pg_upgrade) creates the extension's objects one by one and runs no script, so it is never refused.
extern "C" Datum chronos_check_preloaded(PG_FUNCTION_ARGS) {
    SchedulerView view;
    look_at_scheduler(MyDatabaseId, &view);
    if (!view.attached && !IsBinaryUpgrade)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("pg_chronos must be loaded via shared_preload_libraries"),
                        errdetail("Tasks would never run: no pg_chronos launcher is running in this server."),
                        errhint("Add pg_chronos to shared_preload_libraries in postgresql.conf and restart the "
                                "server.")));
    PG_RETURN_VOID();
}

// chronos.scheduler_status() → (preloaded, launcher_running, enabled, database_served, executors, runs_in_progress,
// library_version). The database is served while the launcher knows it has the extension (its executors connect when
// a task is due and leave when none is, so `executors` is 0 while nothing is due; an executor leaves a database whose
// catalog version the library does not serve, and the launcher forgets it). Runs in progress are counted as chronos.running_tasks()
// shows them: only runs of tasks whose owner the caller is a member of.
extern "C" Datum chronos_scheduler_status(PG_FUNCTION_ARGS) {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("chronos.scheduler_status() called in a context that cannot accept a record")));
    desc = BlessTupleDesc(desc);

    SchedulerView view;
    look_at_scheduler(MyDatabaseId, &view);
    DatabaseExecutors executors;
    look_at_database_executors(MyDatabaseId, &executors);

    int max = max_worker_processes;
    ExecutorSlot *running = static_cast<ExecutorSlot *>(palloc(sizeof(ExecutorSlot) * max));
    int n = copy_running_slots(MyDatabaseId, running, max);
    Oid reader = GetUserId();
    int visible_runs = 0;
    for (int i = 0; i < n; i++)
        if (is_member_of_role(reader, running[i].run_owner))
            visible_runs++;

    bool launcher_running = view.launcher_pid != 0;
    bool served = launcher_running && view.database_served && !view.database_quiesced;
    Datum values[7] = {BoolGetDatum(view.attached),   BoolGetDatum(launcher_running),
                       BoolGetDatum(chronos_enabled), BoolGetDatum(served),
                       Int32GetDatum(executors.count), Int32GetDatum(visible_runs),
                       CStringGetTextDatum(kCatalogVersion)};
    bool nulls[7] = {false, false, false, false, false, false, false};
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
