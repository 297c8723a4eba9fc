// SQL functions about one task, looked up by name among the caller's own tasks (names belong to their owner; row-level
// security applies too): chronos.cancel(name) and chronos.next_runs(task_name, count).
#include "pg/api/task_functions.hpp"

#include "pg/bridge/core_error.hpp"
#include "pg/bridge/pg_time_zone.hpp"
#include "pg/workers/runs_in_progress.hpp"


extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

extern "C" {
PG_FUNCTION_INFO_V1(chronos_cancel);
PG_FUNCTION_INFO_V1(chronos_next_runs_of_task);
}

namespace {

// These statements run with the caller's search_path (a superuser's, possibly listing public first), so operators,
// functions and types are named by schema.
#define OP(op) " OPERATOR(pg_catalog." op ") "

// Runs `sql` with the task name as $1 and the current user as $2 (regrole), and errors out if the current user has no
// task of that name.
void select_task(const char *sql, const char *name) {
    Oid types[2] = {TEXTOID, REGROLEOID};
    Datum values[2] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId())};
    int rc = SPI_execute_with_args(sql, 2, types, values, NULL, true, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not look up a task: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("task \"%s\" does not exist", name),
                        errdetail("You have no task of that name (names are the owner's own: another role's task "
                                  "is reached as that role, with SET ROLE)."),
                        errhint("SELECT name FROM chronos.task_status WHERE owner = current_user::regrole lists "
                                "yours.")));
}

Datum column(int i, bool *isnull) {
    return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i, isnull);
}

}  // namespace

// chronos.cancel(name text) → whether a run of the task was in progress and has been asked to stop
extern "C" Datum chronos_cancel(PG_FUNCTION_ARGS) {
    SPI_connect();
    select_task("SELECT id FROM chronos.tasks WHERE name" OP("=") "$1 AND owner" OP("=") "$2",
                text_to_cstring(PG_GETARG_TEXT_PP(0)));
    bool isnull;
    int64 task_id = DatumGetInt64(column(1, &isnull));
    SPI_finish();
    pid_t pid = request_cancel(MyDatabaseId, task_id);
    // The executor may have ended meanwhile; signal only a live backend (as pg_cancel_backend checks).
    if (pid != 0 && BackendPidGetProc(pid) != NULL)
        kill(pid, SIGINT);
    PG_RETURN_BOOL(pid != 0);
}

int preview_task_runs(const char *name, int count, chronos::TimestampUs *fires) {
    int n = 0;
    SPI_connect();
    select_task(
        "SELECT type" OP("=") "'loop'::chronos.task_type, schedule, timezone, start_time, next_exec_time, end_time,"
        "       CASE WHEN max_runs IS NULL THEN NULL ELSE GREATEST(max_runs" OP("-") "run_count, 0) END"
        "  FROM chronos.tasks"
        " WHERE name" OP("=") "$1 AND owner" OP("=") "$2"
        "   AND status" OP("=") "ANY ('{scheduled,running}'::chronos.task_state[])"
        " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL"
        "  FROM chronos.tasks"
        " WHERE name" OP("=") "$1 AND owner" OP("=") "$2"
        "   AND NOT status" OP("=") "ANY ('{scheduled,running}'::chronos.task_state[])",
        name);
    bool no_next, no_loop, no_end, no_limit, isnull;
    Datum is_loop = column(1, &no_loop);
    Datum next = column(5, &no_next);
    Datum end = column(6, &no_end);
    Datum left = column(7, &no_limit);
    int64 limit = no_limit ? count : Min((int64)count, DatumGetInt64(left));
    if (!no_next && limit > 0) {
        fires[n++] = DatumGetTimestampTz(next);
        if (!no_loop && DatumGetBool(is_loop) && limit > 1) {
            const char *schedule = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
            chronos::TimeZone zone;
            lookup_time_zone(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3), &zone);
            TimestampTz start = DatumGetTimestampTz(column(4, &isnull));
            chronos::CoreError error;
            int produced;
            if (!chronos::engine_next_fires(schedule, fires[0], start, &zone, (int)limit - 1, &fires[1], &produced,
                                            &error))
                raise_core_error(&error);
            n = 1 + produced;
        }
    }
    while (!no_end && n > 0 && fires[n - 1] > DatumGetTimestampTz(end))
        n--;
    SPI_finish();
    return n;
}

bool task_name_exists(const char *name) {
    SPI_connect();
    Oid types[2] = {TEXTOID, REGROLEOID};
    Datum values[2] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId())};
    int rc = SPI_execute_with_args("SELECT FROM chronos.tasks WHERE name" OP("=") "$1 AND owner" OP("=") "$2", 2, types,
                                   values, NULL, true, 1);
    bool exists = rc == SPI_OK_SELECT && SPI_processed > 0;
    SPI_finish();
    return exists;
}

// chronos.next_runs(task_name name, count int) → the task's next runs
extern "C" Datum chronos_next_runs_of_task(PG_FUNCTION_ARGS) {
    FuncCallContext *funcctx;
    if (SRF_IS_FIRSTCALL()) {
        funcctx = SRF_FIRSTCALL_INIT();
        int32 count = PG_GETARG_INT32(1);
        if (count < 0 || count > kMaxPreviewCount)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("count must be between 0 and %d", kMaxPreviewCount), errdetail("count was %d.", count)));
        auto *fires = static_cast<chronos::TimestampUs *>(
            MemoryContextAlloc(funcctx->multi_call_memory_ctx, sizeof(chronos::TimestampUs) * (count + 1)));
        funcctx->max_calls = preview_task_runs(NameStr(*PG_GETARG_NAME(0)), count, fires);
        funcctx->user_fctx = fires;
    }
    funcctx = SRF_PERCALL_SETUP();
    if (funcctx->call_cntr < funcctx->max_calls) {
        Datum next = TimestampTzGetDatum(static_cast<chronos::TimestampUs *>(funcctx->user_fctx)[funcctx->call_cntr]);
        SRF_RETURN_NEXT(funcctx, next);
    }
    SRF_RETURN_DONE(funcctx);
}
