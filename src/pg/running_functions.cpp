// SQL functions that read the workers' shared state or roles: chronos.running_tasks() and chronos.is_member_of().
#include "shared_state.hpp"

extern "C" {
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
    return (Datum)0;
}

// chronos.is_member_of(owner regrole) → whether the current user is a member of that role (false if it no longer exists)
extern "C" Datum chronos_is_member_of_role(PG_FUNCTION_ARGS) {
    Oid role = PG_GETARG_OID(0);
    PG_RETURN_BOOL(SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)) && is_member_of_role(GetUserId(), role));
}

// Version 1.0's chronos.is_member_of(owner name), kept so that a 1.0 catalog still loads until it is updated: whether the current user is a member of that role (false if it no longer exists)
extern "C" Datum chronos_is_member_of(PG_FUNCTION_ARGS) {
    Oid role = get_role_oid(NameStr(*PG_GETARG_NAME(0)), true);
    PG_RETURN_BOOL(OidIsValid(role) && is_member_of_role(GetUserId(), role));
}
