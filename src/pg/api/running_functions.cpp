// SQL functions that read the workers' shared state or roles: chronos.running_tasks(), chronos.executor_status() (behind
// the view chronos.executors) and chronos.is_member_of().
#include "pg/workers/executor_slots.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "catalog/pg_authid_d.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_running_tasks);
PG_FUNCTION_INFO_V1(chronos_executor_status);
PG_FUNCTION_INFO_V1(chronos_is_member_of);
PG_FUNCTION_INFO_V1(chronos_is_member_of_role);
}

// chronos.running_tasks() → (task_id, pid, scheduled_for, started_at, transactional): the runs of tasks whose owner
// the caller is a member of (every run for a superuser), as row-level security shows their tasks.
extern "C" Datum chronos_running_tasks(PG_FUNCTION_ARGS) {
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);

    int max = max_worker_processes;
    ExecutorSlot *running = static_cast<ExecutorSlot *>(palloc(sizeof(ExecutorSlot) * max));
    int n = copy_running_slots(MyDatabaseId, running, max);
    Oid reader = GetUserId();
    for (int i = 0; i < n; i++) {
        if (!is_member_of_role(reader, running[i].run_owner))
            continue;
        Datum values[5] = {Int64GetDatum(running[i].task_id), Int32GetDatum(running[i].pid),
                           TimestampTzGetDatum(running[i].scheduled_for), TimestampTzGetDatum(running[i].started_at),
                           BoolGetDatum(running[i].transactional)};
        bool nulls[5] = {false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    // HTTP requests and shell commands in flight: their executor drives them beside its other work.
    int in_flight_max = max_worker_processes * kMaxInFlightPerExecutor;
    InFlightEntry *in_flight = static_cast<InFlightEntry *>(palloc(sizeof(InFlightEntry) * in_flight_max));
    pid_t *pids = static_cast<pid_t *>(palloc(sizeof(pid_t) * in_flight_max));
    n = copy_in_flight_runs(MyDatabaseId, in_flight, pids, in_flight_max);
    for (int i = 0; i < n; i++) {
        if (!is_member_of_role(reader, in_flight[i].owner))
            continue;
        Datum values[5] = {Int64GetDatum(in_flight[i].task_id), Int32GetDatum(pids[i]),
                           TimestampTzGetDatum(in_flight[i].scheduled_for), TimestampTzGetDatum(in_flight[i].started_at),
                           BoolGetDatum(false)};
        bool nulls[5] = {false, false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// chronos.is_member_of(owner regrole) → whether the current user is a member of that role (false if it no longer exists)
// What an executor is doing, in the words of chronos.executors.
static const char *executor_state(const ExecutorSlot *slot) {
    if (slot->retiring)
        return "retiring";
    if (slot->task_id != 0)
        return "running";
    if (slot->waits_for_permit)
        return "waiting";
    return slot->watcher ? "watching" : "idle";
}

// chronos.executor_status() → (database, pid, state, task_id, owner, since): every executor of the cluster. As in
// pg_stat_activity, anyone sees its database and pid; what it does, since when, and the task it runs only members of
// the run's owner (as chronos.running shows runs) and members of pg_read_all_stats: the state of an executor would
// otherwise time the runs of others.
extern "C" Datum chronos_executor_status(PG_FUNCTION_ARGS) {
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    InitMaterializedSRF(fcinfo, 0);

    int max = max_worker_processes;
    ExecutorSlot *slots = static_cast<ExecutorSlot *>(palloc(sizeof(ExecutorSlot) * max));
    int n = copy_executor_slots(slots, max);
    Oid reader = GetUserId();
    bool reads_all = has_privs_of_role(reader, ROLE_PG_READ_ALL_STATS);
    for (int i = 0; i < n; i++) {
        const ExecutorSlot *slot = &slots[i];
        char *database = get_database_name(slot->database);
        bool running = slot->task_id != 0;
        bool visible = reads_all || (running && is_member_of_role(reader, slot->run_owner));
        Datum values[6] = {(Datum)0, Int32GetDatum(slot->pid),
                           CStringGetTextDatum(executor_state(slot)), Int64GetDatum(slot->task_id),
                           ObjectIdGetDatum(slot->run_owner), TimestampTzGetDatum(slot->since)};
        bool nulls[6] = {database == NULL, false, !visible, !visible || !running,
                         !visible || !running || !OidIsValid(slot->run_owner), !visible || slot->since == 0};
        if (database != NULL) {
            Name datname = static_cast<Name>(palloc0(NAMEDATALEN));
            strlcpy(NameStr(*datname), database, NAMEDATALEN);
            values[0] = NameGetDatum(datname);
        }
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

extern "C" Datum chronos_is_member_of_role(PG_FUNCTION_ARGS) {
    Oid role = PG_GETARG_OID(0);
    PG_RETURN_BOOL(SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)) && is_member_of_role(GetUserId(), role));
}

// Version 1.0's chronos.is_member_of(owner name), kept so that a 1.0 catalog still loads until it is updated: whether the current user is a member of that role (false if it no longer exists)
extern "C" Datum chronos_is_member_of(PG_FUNCTION_ARGS) {
    Oid role = get_role_oid(NameStr(*PG_GETARG_NAME(0)), true);
    PG_RETURN_BOOL(OidIsValid(role) && is_member_of_role(GetUserId(), role));
}
