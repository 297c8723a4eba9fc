// The workers' statements against the catalog (see run_statements.hpp). Plans are prepared on first use and kept for the life of
// the worker; the worker exits when the extension is dropped, so they never outlive the tables they name.
#include "pg/run/run_statements.hpp"

#include "pg/run/catalog_locks.hpp"
#include "pg/catalog/columns.hpp"
#include "pg/catalog/next_exec_time.hpp"
#include "pg/run/run_log.hpp"
#include "pg/run/run_journal.hpp"
#include "pg/settings.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

bool writing_bookkeeping = false;

namespace {

// Every statement here names its functions, operators and types by schema (the macros of run_statements.hpp): the
// workers connect as a superuser with the database's search_path, and a plan kept with SPI_keepplan is analyzed again
// when search_path changes, so an unqualified = could resolve to an operator a role created in public.

// The earliest due time, and how many tasks are due within 100 ms of it (up to 8): the pool can grow before they are
// due. Tasks being run are left out ($1): their rows stay 'scheduled' until their runs commit.
const char *const kEarliestSql =
    "WITH e AS (SELECT pg_catalog.min(next_exec_time) AS at FROM chronos.tasks"
    "            WHERE status" OP("=") SCHEDULED " AND id" OP("<>") "ALL ($1))"
    " SELECT e.at, (SELECT pg_catalog.count(*) FROM (SELECT FROM chronos.tasks t"
    "                WHERE t.status" OP("=") SCHEDULED " AND t.id" OP("<>") "ALL ($1)"
    "                  AND t.next_exec_time" OP("<=") "(e.at" OP("+") "'100 ms'::pg_catalog.interval)"
    "                LIMIT 8) together)"
    "   FROM e";

const char *const kSkipSql = "UPDATE chronos.tasks SET next_exec_time = $2 WHERE id" OP("=") "$1";

// Parameters shared by the recording statements:
// $1 task id, $2 task status, $3 next_exec_time, $4 started_at, $5 run status, $6 error, $7 finished_at,
// $8 scheduled_for, $9 result, $10 pid, $11 failure_count, $12 next attempt, $13 manual, $14 run attempt,
// $15 keep the run in history, $16 run_id, $17 ids of the tasks other executors are running, $18 whether to look for
// the earliest due time.
#define TASK_OUTCOME_SET                                                                                         \
    " last_exec_time = $4, last_status = $5::chronos.run_status, last_error = $6, last_duration = $7" OP("-") "$4," \
    " run_count = run_count" OP("+") "1, failure_count = $11, attempt = $12, run_requested = run_requested AND NOT $13," \
    " crash_count = 0"

// What the recording statements return: the run's id, and, when asked ($18: the claim saw no other task due), the
// earliest next_exec_time now that this task has moved (its old row is still in the statement's snapshot, so it is
// left out and its new time added), so that an idle executor sleeps without another query. Not asked, it is
// -infinity: look for the next due task at once.
#define RECORDED                                                                                         \
    " SELECT (SELECT run_id FROM run),"                                                                 \
    "        CASE WHEN $18 THEN"                                                                        \
    "          LEAST((SELECT pg_catalog.min(next_exec_time) FROM chronos.tasks"                         \
    "                  WHERE status" OP("=") SCHEDULED " AND id" OP("<>") "$1 AND id" OP("<>") "ALL ($17)),"  \
    "                CASE WHEN $2" OP("=") "'scheduled' THEN $3 END)"                                 \
    "        ELSE '-infinity'::pg_catalog.timestamptz END"

const char *const kRecordRunStartSql =
    "WITH task AS (UPDATE chronos.tasks SET status = " RUNNING_TASK ", last_exec_time = $4 WHERE id" OP("=") "$1"
    "              RETURNING id, name, owner)"
    " INSERT INTO chronos.runs (task_id, task_name, owner, scheduled_for, started_at, status, pid, attempt, manual)"
    " SELECT id, name, owner, $8, $4, " RUNNING_RUN ", $10, $14, $13 FROM task RETURNING run_id";

// A task paused or changed by a user while its autonomous run went on keeps what the user set.
const char *const kRecordRunEndSql =
    "WITH task AS (UPDATE chronos.tasks"
    "                 SET status = CASE WHEN status" OP("=") RUNNING_TASK " THEN $2::chronos.task_state ELSE status END,"
    "                     next_exec_time = CASE WHEN status" OP("=") RUNNING_TASK " THEN $3 ELSE next_exec_time END,"
    TASK_OUTCOME_SET " WHERE id" OP("=") "$1),"
    " run AS (UPDATE chronos.runs SET finished_at = $7, status = $5::chronos.run_status, error = $6, result = $9"
    "          WHERE run_id" OP("=") "$16 AND $15 RETURNING run_id),"
    " forgotten AS (DELETE FROM chronos.runs WHERE run_id" OP("=") "$16 AND NOT $15)" RECORDED;

// For tasks with notify_on or on_failure, after the recording statement: the run as JSON (for on_failure), and its
// notification (sent when the transaction commits, so never for rolled-back work). $16 is the run's id. Any role that
// may LISTEN reads a notification, so by default it carries ids and the status only; a task with notify_details adds
// its name, times, error and result, cut to whole characters so that the payload stays under pg_notify's 8000 bytes
// (the short form fits even when every character takes 6 bytes escaped) and a long error cannot fail the bookkeeping.
#define DURATION_MS "pg_catalog.round(EXTRACT(epoch FROM $7" OP("-") "$4)" OP("*") "1000, 3)"
#define DETAILED_RUN(chars)                                                                                          \
    "pg_catalog.json_build_object('task', pg_catalog.left(o.name, 100), 'task_id', $1, 'run_id', $16, 'status', $5," \
    " 'attempt', $14, 'scheduled_for', $8, 'started_at', $4, 'duration_ms', " DURATION_MS ","                     \
    " 'error', pg_catalog.left($6, " chars "), 'result', pg_catalog.left($9, " chars "))::pg_catalog.text"
const char *const kReportRunSql =
    "WITH outcome AS ("
    "  SELECT t.notify_on, t.notify_match, t.notify_channel, t.notify_details, t.name,"
    "         pg_catalog.json_build_object('task', t.name, 'task_id', t.id, 'run_id', $16, 'status', $5, 'attempt', $14,"
    "                           'scheduled_for', $8, 'started_at', $4, 'duration_ms', " DURATION_MS ","
    "                           'error', $6, 'result', $9)::pg_catalog.text AS run"
    "    FROM chronos.tasks t WHERE t.id" OP("=") "$1),"
    " notified AS ("
    "  SELECT pg_catalog.pg_notify(o.notify_channel,"
    "           CASE WHEN NOT o.notify_details"
    "                THEN pg_catalog.json_build_object('task_id', $1, 'run_id', $16, 'status', $5,"
    "                                                  'attempt', $14)::pg_catalog.text"
    "                WHEN pg_catalog.octet_length(d.long)" OP("<") "8000 THEN d.long ELSE " DETAILED_RUN("450") " END)"
    "    FROM outcome o, LATERAL (SELECT CASE WHEN o.notify_details THEN " DETAILED_RUN("2000") " END AS long) d"
    "   WHERE o.notify_on" OP("=") "'always' OR (o.notify_on" OP("=") "'failure' AND $5" OP("<>") "'succeeded')"
    "      OR (o.notify_on" OP("=") "'success' AND $5" OP("=") "'succeeded')"
    "      OR (o.notify_on" OP("=") "'match' AND EXISTS (SELECT FROM pg_catalog.unnest(o.notify_match) k"
    "           WHERE pg_catalog.strpos(pg_catalog.lower(COALESCE($9, '')" OP("||") "' '" OP("||") "COALESCE($6, '')),"
    "                                   pg_catalog.lower(k))" OP(">") "0)))"
    " SELECT run, (SELECT pg_catalog.count(*) FROM notified) FROM outcome";

constexpr int kRecordArgs = 18;
Oid record_arg_types[kRecordArgs] = {INT8OID,  TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
                                     TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT4OID, INT4OID,
                                     BOOLOID,  INT4OID, BOOLOID,        INT8OID,        INT8ARRAYOID,   BOOLOID};

SPIPlanPtr earliest_plan, skip_plan, record_start_plan,
    record_end_plan, report_plan;

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

int64 int64_column(int column, int64 if_null) {
    bool isnull;
    Datum value = binary_column(column, &isnull);
    return isnull ? if_null : DatumGetInt64(value);
}

// The ids of the tasks being run in this database, as an int8[] parameter.
Datum running_ids_array(void) {
    int64 ids[64];
    int n = running_task_ids(MyDatabaseId, ids, 64);
    Datum elements[64];
    for (int i = 0; i < n; i++)
        elements[i] = Int64GetDatum(ids[i]);
    return PointerGetDatum(construct_array(elements, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

Datum text_or_null(const char *value, char *nulls, int i) {
    nulls[i] = value ? ' ' : 'n';
    return value ? CStringGetTextDatum(value) : (Datum)0;
}

// Whether the run gets a row in chronos.runs (chronos.log_runs).
bool keeps_run(const RunRecord *record) {
    return chronos_log_runs == LOG_RUNS_ALL || strcmp(record->run_status, "succeeded") != 0;
}

void bind_record(const ClaimedTask *task, const RunRecord *record, int64 run_id, Datum *values, char *nulls) {
    memset(nulls, ' ', kRecordArgs);
    values[0] = Int64GetDatum(task->id);
    values[1] = text_or_null(record->task_status, nulls, 1);
    values[2] = record->has_next ? TimestampTzGetDatum(record->next_exec_time) : (Datum)0;
    nulls[2] = record->has_next ? ' ' : 'n';
    values[3] = TimestampTzGetDatum(record->started_at);
    values[4] = text_or_null(record->run_status, nulls, 4);
    values[5] = text_or_null(record->error, nulls, 5);
    values[6] = TimestampTzGetDatum(record->finished_at);
    values[7] = TimestampTzGetDatum(task->scheduled_for);
    values[8] = text_or_null(record->result, nulls, 8);
    values[9] = Int32GetDatum(MyProcPid);
    values[10] = Int32GetDatum(record->failure_count);
    values[11] = Int32GetDatum(record->next_attempt);
    values[12] = BoolGetDatum(task->manual);
    values[13] = Int32GetDatum(task->attempt);
    values[14] = BoolGetDatum(keeps_run(record));
    values[15] = Int64GetDatum(run_id);
    bool want_earliest = task->also_due == 0;
    values[16] = want_earliest ? running_ids_array() : (Datum)0;
    nulls[16] = want_earliest ? ' ' : 'n';
    values[17] = BoolGetDatum(want_earliest);
}

void execute_bookkeeping(SPIPlanPtr plan, Datum *values, char *nulls, int expected) {
    writing_bookkeeping = true;
    int rc = SPI_execute_plan(plan, values, nulls, false, 0);
    writing_bookkeeping = false;
    if (rc != expected)
        elog(ERROR, "pg_chronos: bookkeeping statement failed: %s", SPI_result_code_string(rc));
}

// After a recording statement (RECORDED): sets *earliest, and for a task that notifies or has on_failure, builds the
// run's JSON and sends its notification. Returns the JSON (NULL when not needed, or when the task was deleted).
char *report_recorded_run(const ClaimedTask *task, Datum *values, char *nulls, MemoryContext context,
                          TimestampTz *earliest) {
    *earliest = DT_NOBEGIN;  // unknown: look again
    if (SPI_processed == 0)
        return NULL;
    bool run_isnull, next_isnull;
    Datum run_id = binary_column(1, &run_isnull);
    Datum next = binary_column(2, &next_isnull);
    *earliest = next_isnull ? DT_NOEND : DatumGetTimestampTz(next);
    if (!task->reports)
        return NULL;
    values[15] = run_isnull ? (Datum)0 : run_id;
    nulls[15] = run_isnull ? 'n' : ' ';
    execute_bookkeeping(prepared(&report_plan, kReportRunSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_SELECT);
    return SPI_processed > 0 ? copy_text_column(1, context) : NULL;
}

}  // namespace

void skip_missed_slots(const ClaimedTask *task, TimestampTz next_exec_time) {
    Oid types[2] = {INT8OID, TIMESTAMPTZOID};
    Datum values[2] = {Int64GetDatum(task->id), TimestampTzGetDatum(next_exec_time)};
    execute_bookkeeping(prepared(&skip_plan, kSkipSql, 2, types), values, NULL, SPI_OK_UPDATE);
}

TimestampTz earliest_next_exec_time(int *due_together) {
    Oid types[1] = {INT8ARRAYOID};
    Datum values[1] = {running_ids_array()};
    int rc = SPI_execute_plan(prepared(&earliest_plan, kEarliestSql, 1, types), values, NULL, true, 1);
    *due_together = 0;
    if (rc != SPI_OK_SELECT || SPI_processed == 0)
        return DT_NOEND;
    bool isnull;
    Datum value = binary_column(1, &isnull);
    if (isnull)
        return DT_NOEND;
    *due_together = (int)int64_column(2, 0);
    return DatumGetTimestampTz(value);
}

void prepare_statements(void) {
    Oid earliest_types[1] = {INT8ARRAYOID};
    prepared(&earliest_plan, kEarliestSql, 1, earliest_types);
}

char *record_run(const ClaimedTask *task, const RunRecord *record, MemoryContext context, TimestampTz *earliest,
                 int64 *recorded_run_id) {
    bool keep = keeps_run(record);
    int64 run_id;
    writing_bookkeeping = true;
    bool found = write_run_record(task, record, keep, &run_id);
    *recorded_run_id = run_id;
    writing_bookkeeping = false;
    *earliest = DT_NOBEGIN;  // unknown: look again
    if (!found)
        return NULL;
    if (task->also_due == 0) {
        // Nothing else was due at the claim: the next due time, so that the executor can sleep at once. This task is
        // still among those being run, so its own next time is added here.
        int together;
        *earliest = earliest_next_exec_time(&together);
        if (record->has_next && strcmp(record->task_status, "scheduled") == 0)
            *earliest = Min(*earliest, record->next_exec_time);
    }
    if (!task->reports)
        return NULL;
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, record, run_id, values, nulls);
    nulls[15] = keep ? ' ' : 'n';
    execute_bookkeeping(prepared(&report_plan, kReportRunSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_SELECT);
    return SPI_processed > 0 ? copy_text_column(1, context) : NULL;
}

int64 record_run_start(const ClaimedTask *task, TimestampTz started_at) {
    RunRecord start = {"running", false, 0, 0, 0, "running", NULL, NULL, started_at, started_at};
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, &start, 0, values, nulls);
    execute_bookkeeping(prepared(&record_start_plan, kRecordRunStartSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_INSERT_RETURNING);
    return SPI_processed == 1 ? int64_column(1, 0) : 0;
}

char *record_run_end(const ClaimedTask *task, int64 run_id, const RunRecord *record, MemoryContext context,
                     TimestampTz *earliest) {
    Datum values[kRecordArgs];
    char nulls[kRecordArgs];
    bind_record(task, record, run_id, values, nulls);
    execute_bookkeeping(prepared(&record_end_plan, kRecordRunEndSql, kRecordArgs, record_arg_types), values, nulls,
                        SPI_OK_SELECT);
    return report_recorded_run(task, values, nulls, context, earliest);
}
