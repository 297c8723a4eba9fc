// The workers' statements against the catalog (see catalog.hpp). Plans are prepared on first use and kept for the life of
// the worker; the worker exits when the extension is dropped, so they never outlive the tables they name.
#include "catalog.hpp"

#include "next_exec_time.hpp"
#include "shared_state.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

bool writing_bookkeeping = false;

namespace {

const char *const kClaimSql =
    "SELECT id, name, command, owner, type = 'loop', schedule, timezone, start_time, next_exec_time, transactional"
    "  FROM chronos.tasks"
    " WHERE status = 'scheduled' AND next_exec_time <= $1"
    " ORDER BY next_exec_time"
    " LIMIT 1"
    "   FOR UPDATE SKIP LOCKED";

const char *const kEarliestSql = "SELECT min(next_exec_time) FROM chronos.tasks WHERE status = 'scheduled'";

// Parameters shared by the recording statements:
// $1 task id, $2 task status, $3 next_exec_time, $4 started_at, $5 run status, $6 error, $7 finished_at,
// $8 scheduled_for, $9 result, $10 pid, $11 run_id.
#define TASK_OUTCOME_SET                                                                                      \
    "status = $2::chronos.task_state, next_exec_time = $3, last_exec_time = $4,"                              \
    " last_status = $5::chronos.run_status, last_error = $6, last_duration = $7 - $4, run_count = run_count + 1," \
    " failure_count = CASE WHEN $5 = 'succeeded' THEN 0 ELSE failure_count + 1 END"

const char *const kRecordRunSql =
    "WITH task AS (UPDATE chronos.tasks SET " TASK_OUTCOME_SET " WHERE id = $1 RETURNING id, name, owner)"
    " INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, finished_at, status, error,"
    "                           result, pid)"
    " SELECT id, name, owner, $8, $4, $7, $5::chronos.run_status, $6, $9, $10 FROM task";

const char *const kRecordRunStartSql =
    "WITH task AS (UPDATE chronos.tasks SET status = 'running', last_exec_time = $4 WHERE id = $1"
    "              RETURNING id, name, owner)"
    " INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, status, pid)"
    " SELECT id, name, owner, $8, $4, 'running', $10 FROM task RETURNING run_id";

// A task paused or changed by a user while its autonomous run went on keeps what the user set.
const char *const kRecordRunEndSql =
    "WITH task AS (UPDATE chronos.tasks SET " TASK_OUTCOME_SET " WHERE id = $1 AND status = 'running')"
    " UPDATE chronos.runs SET finished_at = $7, status = $5::chronos.run_status, error = $6, result = $9"
    "  WHERE run_id = $11";

constexpr int kRecordArgs = 11;
Oid record_arg_types[kRecordArgs] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
                                     TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT8OID};

SPIPlanPtr claim_plan, earliest_plan, record_plan, record_start_plan, record_end_plan;

SPIPlanPtr prepared(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types) {
    if (*plan == NULL) {
        SPIPlanPtr p = SPI_prepare(sql, nargs, types);
        if (p == NULL)
            elog(ERROR, "pg_chronos: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        *plan = p;
    }
    return *plan;
}

char *copy_text_column(int column, MemoryContext context) {
    char *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column);
    return value ? MemoryContextStrdup(context, value) : NULL;
}

Datum binary_column(int column, bool *isnull) {
    return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, column, isnull);
}

Datum text_or_null(const char *value, char *nulls, int i) {
    nulls[i] = value ? ' ' : 'n';
    return value ? CStringGetTextDatum(value) : (Datum)0;
}

void bind_record(const ClaimedTask *task, const RunRecord *record, int64 run_id, Datum *values, char *nulls) {
    memset(nulls, ' ', kRecordArgs);
    values[0] = Int64GetDatum(task->id);
    values[1] = text_or_null(record ? record->task_status : "running", nulls, 1);
    values[2] = record && record->has_next ? TimestampTzGetDatum(record->next_exec_time) : (Datum)0;
    nulls[2] = record && record->has_next ? ' ' : 'n';
    values[3] = TimestampTzGetDatum(record ? record->started_at : 0);
    values[4] = text_or_null(record ? record->run_status : "running", nulls, 4);
    values[5] = text_or_null(record ? record->error : NULL, nulls, 5);
    values[6] = TimestampTzGetDatum(record ? record->finished_at : 0);
    values[7] = TimestampTzGetDatum(task->scheduled_for);
    values[8] = text_or_null(record ? record->result : NULL, nulls, 8);
    values[9] = Int32GetDatum(MyProcPid);
    values[10] = Int64GetDatum(run_id);
}

void execute_bookkeeping(SPIPlanPtr plan, Datum *values, char *nulls, int expected) {
    writing_bookkeeping = true;
    int rc = SPI_execute_plan(plan, values, nulls, false, 0);
    writing_bookkeeping = false;
    if (rc != expected)
        elog(ERROR, "pg_chronos: bookkeeping statement failed: %s", SPI_result_code_string(rc));
}

}  // namespace

bool claim_due_task(TimestampTz now, MemoryContext context, ClaimedTask *task) {
    Oid types[1] = {TIMESTAMPTZOID};
    Datum values[1] = {TimestampTzGetDatum(now)};
    int rc = SPI_execute_plan(prepared(&claim_plan, kClaimSql, 1, types), values, NULL, false, 1);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not look for due tasks: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0)
        return false;

    bool isnull;
    task->id = DatumGetInt64(binary_column(1, &isnull));
    task->name = copy_text_column(2, context);
    task->command = copy_text_column(3, context);
    task->owner = copy_text_column(4, context);
    task->is_loop = DatumGetBool(binary_column(5, &isnull));
    task->schedule = copy_text_column(6, context);
    task->timezone = copy_text_column(7, context);
    task->start_time = DatumGetTimestampTz(binary_column(8, &isnull));
    task->scheduled_for = DatumGetTimestampTz(binary_column(9, &isnull));
    Datum forced = binary_column(10, &isnull);
    task->transactional = isnull ? -1 : DatumGetBool(forced);
    return true;
}

TimestampTz earliest_next_exec_time(void) {
    int rc = SPI_execute_plan(prepared(&earliest_plan, kEarliestSql, 0, NULL), NULL, NULL, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed == 0)
        return DT_NOEND;
    bool isnull;
    Datum value = binary_column(1, &isnull);
    return isnull ? DT_NOEND : DatumGetTimestampTz(value);
}

void record_run(const ClaimedTask *task, const RunRecord *record) {
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, record, 0, values, nulls);
    execute_bookkeeping(prepared(&record_plan, kRecordRunSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_INSERT);
}

int64 record_run_start(const ClaimedTask *task, TimestampTz started_at) {
    RunRecord start = {"running", false, 0, "running", NULL, NULL, started_at, started_at};
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, &start, 0, values, nulls);
    execute_bookkeeping(prepared(&record_start_plan, kRecordRunStartSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_INSERT_RETURNING);
    if (SPI_processed != 1)
        return 0;
    bool isnull;
    return DatumGetInt64(binary_column(1, &isnull));
}

void record_run_end(const ClaimedTask *task, int64 run_id, const RunRecord *record) {
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, record, run_id, values, nulls);
    execute_bookkeeping(prepared(&record_end_plan, kRecordRunEndSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_UPDATE);
}

int recover_interrupted_runs(void) {
    int rc = SPI_execute(
        "SELECT t.id, r.run_id, r.pid, t.type = 'loop', t.schedule, t.timezone, t.start_time"
        "  FROM chronos.tasks t LEFT JOIN chronos.runs r ON r.task_id = t.id AND r.status = 'running'"
        " WHERE t.status = 'running'"
        " UNION ALL "
        "SELECT r.task_id, r.run_id, r.pid, NULL, NULL, NULL, NULL"
        "  FROM chronos.runs r WHERE r.status = 'running'"
        "   AND NOT EXISTS (SELECT FROM chronos.tasks t WHERE t.id = r.task_id AND t.status = 'running')",
        false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not look for interrupted runs: %s", SPI_result_code_string(rc));

    SPITupleTable *found = SPI_tuptable;
    uint64 count = SPI_processed;
    int recovered = 0;
    TimestampTz now = GetCurrentTimestamp();
    for (uint64 i = 0; i < count; i++) {
        HeapTuple row = found->vals[i];
        bool isnull, no_run, no_pid, no_type;
        int64 task_id = DatumGetInt64(SPI_getbinval(row, found->tupdesc, 1, &isnull));
        Datum run_id = SPI_getbinval(row, found->tupdesc, 2, &no_run);
        Datum pid = SPI_getbinval(row, found->tupdesc, 3, &no_pid);
        if (!no_pid && executor_runs_task(DatumGetInt32(pid), task_id))
            continue;

        Datum type_is_loop = SPI_getbinval(row, found->tupdesc, 4, &no_type);
        TimestampTz next = now;
        if (!no_type && DatumGetBool(type_is_loop)) {
            bool start_null;
            TimestampTz start = DatumGetTimestampTz(SPI_getbinval(row, found->tupdesc, 7, &start_null));
            if (!compute_next_exec_time(SPI_getvalue(row, found->tupdesc, 5), SPI_getvalue(row, found->tupdesc, 6),
                                        start, now, &next, NULL))
                next = now;
        }
        Oid types[3] = {INT8OID, INT8OID, TIMESTAMPTZOID};
        Datum values[3] = {Int64GetDatum(task_id), no_run ? (Datum)0 : run_id, TimestampTzGetDatum(next)};
        char nulls[3] = {' ', no_run ? 'n' : ' ', ' '};
        writing_bookkeeping = true;
        rc = SPI_execute_with_args(
            "WITH run AS (UPDATE chronos.runs SET status = 'interrupted', finished_at = now(),"
            "                     error = 'the worker running it ended before the run finished'"
            "              WHERE run_id = $2)"
            " UPDATE chronos.tasks SET status = 'scheduled', next_exec_time = $3, last_status = 'interrupted',"
            "        failure_count = failure_count + 1"
            "  WHERE id = $1 AND status = 'running'",
            3, types, values, nulls, false, 0);
        writing_bookkeeping = false;
        if (rc != SPI_OK_UPDATE)
            elog(ERROR, "pg_chronos: could not recover run of task " INT64_FORMAT, task_id);
        recovered++;
    }
    return recovered;
}

bool extension_is_installed(void) {
    return OidIsValid(get_extension_oid("pg_chronos", true));
}
