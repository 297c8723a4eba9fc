// Recording interrupted runs (see run_recovery.hpp).
#include "pg/run/run_recovery.hpp"

#include "pg/bridge/core_error.hpp"
#include "pg/catalog/next_exec_time.hpp"
#include "pg/run/catalog_locks.hpp"
#include "pg/run/run_journal.hpp"
#include "pg/run/run_log.hpp"
#include "pg/run/run_statements.hpp"
#include "pg/workers/runs_in_progress.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

// The log line of a run recover_interrupted_runs() marked interrupted, from its recovery statement's row `row`.
void log_recovered_run(int64 task_id, HeapTuple row, TupleDesc desc) {
    bool isnull, no_max, no_scheduled, no_started, no_manual;
    EndedRun run = {};
    run.task_id = task_id;
    Datum run_id = SPI_getbinval(row, desc, 2, &isnull);
    run.run_id = isnull ? 0 : DatumGetInt64(run_id);
    run.task_name = SPI_getvalue(row, desc, 3);
    Datum owner = SPI_getbinval(row, desc, 4, &isnull);
    run.owner = isnull ? InvalidOid : DatumGetObjectId(owner);
    Datum attempt = SPI_getbinval(row, desc, 5, &isnull);
    run.attempt = isnull ? 0 : DatumGetInt32(attempt);
    Datum max_retries = SPI_getbinval(row, desc, 6, &no_max);
    run.max_attempts = no_max ? 0 : DatumGetInt32(max_retries) + 1;
    run.scheduled_for = DatumGetTimestampTz(SPI_getbinval(row, desc, 7, &no_scheduled));
    run.started_at = DatumGetTimestampTz(SPI_getbinval(row, desc, 8, &no_started));
    run.times_known = !no_scheduled && !no_started;
    Datum manual = SPI_getbinval(row, desc, 9, &no_manual);
    run.manual = !no_manual && DatumGetBool(manual);
    run.finished_at = GetCurrentTransactionStartTimestamp();
    run.run_status = "interrupted";
    run.error = SPI_getvalue(row, desc, 10);
    if (run.error == NULL)
        run.error = "the worker running it ended before the run finished";
    log_run_outcome(&run);
}

}  // namespace

// A run is recovered only if no live executor runs its task and it is still 'running' when updated: the UPDATEs re-check
// the latest row version (READ COMMITTED), so a run an executor finished after this statement's snapshot keeps its
// outcome. The task is set back only if it is still 'running' and its run (if it has one) was the one recovered.
int recover_interrupted_runs(bool *left) {
    int rc = SPI_execute(
        "SELECT t.id, r.run_id, r.pid, t.type" OP("=") "'loop'::chronos.task_type, t.schedule, t.timezone, t.start_time,"
        "       pg_catalog.to_jsonb(t)" OP("->>") "'kind'" OP("<>") "'sql'"  // NULL in a catalog of 1.1: no kind
        "  FROM chronos.tasks t LEFT JOIN chronos.runs r"
        "    ON r.task_id" OP("=") "t.id AND r.status" OP("=") RUNNING_RUN
        " WHERE t.status" OP("=") RUNNING_TASK
        " UNION ALL "
        "SELECT r.task_id, r.run_id, r.pid, NULL, NULL, NULL, NULL, NULL"
        "  FROM chronos.runs r WHERE r.status" OP("=") RUNNING_RUN
        "   AND NOT EXISTS (SELECT FROM chronos.tasks t"
        "                    WHERE t.id" OP("=") "r.task_id AND t.status" OP("=") RUNNING_TASK ")",
        false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_chronos: could not look for interrupted runs: %s", SPI_result_code_string(rc));

    SPITupleTable *found = SPI_tuptable;
    uint64 count = SPI_processed;
    int recovered = 0;
    TimestampTz now = GetCurrentTimestamp();
    int64 running[64];
    int running_count = running_task_ids(MyDatabaseId, running, 64);
    for (uint64 i = 0; i < count; i++) {
        HeapTuple row = found->vals[i];
        bool isnull, no_run, no_pid, no_type;
        int64 task_id = DatumGetInt64(SPI_getbinval(row, found->tupdesc, 1, &isnull));
        Datum run_id = SPI_getbinval(row, found->tupdesc, 2, &no_run);
        Datum pid = SPI_getbinval(row, found->tupdesc, 3, &no_pid);
        // A live executor runs it, or the journal of the one that ran it is to be recorded (it may be taken by
        // another executor's recovery this moment): not this run to recover.
        if (!no_pid && (executor_runs_task(DatumGetInt32(pid), task_id) || journal_left_by(DatumGetInt32(pid))))
            continue;
        bool task_is_run = false;
        for (int k = 0; k < running_count; k++)
            task_is_run = task_is_run || running[k] == task_id;
        Datum type_is_loop = SPI_getbinval(row, found->tupdesc, 4, &no_type);
        // A task that is not 'running' (second branch), or is being run now: only its stale run row is recovered.
        bool task_was_running = !no_type && !task_is_run;
        if (no_run && !task_was_running)
            continue;

        LockHolder holder;
        if (lock_for_recording(task_id, &holder) == RecordingLock::busy) {
            *left = true;  // a session locks the task's row: looked at again later
            continue;
        }
        TimestampTz next = now;
        if (!no_type && DatumGetBool(type_is_loop)) {
            bool start_null;
            TimestampTz start = DatumGetTimestampTz(SPI_getbinval(row, found->tupdesc, 7, &start_null));
            if (!compute_next_exec_time(SPI_getvalue(row, found->tupdesc, 5), SPI_getvalue(row, found->tupdesc, 6),
                                        start, now, &next, NULL))
                next = now;
        }
        // An http request or shell command cut short may have had its effect: it runs again only as a retry, with
        // the same Idempotency-Key (its attempt and run count move on together), and not at all without retries left.
        bool no_in_flight;
        Datum in_flight = SPI_getbinval(row, found->tupdesc, 8, &no_in_flight);
        bool retried_only = !no_in_flight && DatumGetBool(in_flight);
        Oid types[5] = {INT8OID, INT8OID, TIMESTAMPTZOID, BOOLOID, BOOLOID};
        Datum values[5] = {Int64GetDatum(task_id), no_run ? (Datum)0 : run_id, TimestampTzGetDatum(next),
                           BoolGetDatum(task_was_running), BoolGetDatum(retried_only)};
        char nulls[5] = {' ', no_run ? 'n' : ' ', ' ', ' ', ' '};
        writing_bookkeeping = true;
        rc = SPI_execute_with_args(
            "WITH run AS (UPDATE chronos.runs SET status = 'interrupted', finished_at = pg_catalog.now(),"
            "                     error = 'the worker running it ended before the run finished'"
            "              WHERE run_id" OP("=") "$2 AND status" OP("=") RUNNING_RUN
            "              RETURNING run_id, task_name, owner, attempt, scheduled_for, started_at, manual, error),"
            " task AS (UPDATE chronos.tasks SET"
            "                 status = CASE WHEN $5 AND attempt" OP(">") "max_retries"
            "                                    AND type" OP("=") "'once'::chronos.task_type"
            "                               THEN 'failed'::chronos.task_state ELSE " SCHEDULED " END,"
            "                 next_exec_time = CASE WHEN NOT $5 THEN $3"
            "                                       WHEN attempt" OP("<=") "max_retries THEN pg_catalog.now()"
            "                                       WHEN type" OP("=") "'once'::chronos.task_type THEN NULL"
            "                                       ELSE $3 END,"
            "                 attempt = CASE WHEN NOT $5 THEN attempt WHEN attempt" OP("<=") "max_retries"
            "                                THEN attempt" OP("+") "1 ELSE 1 END,"
            "                 run_count = run_count" OP("+") "CASE WHEN $5 THEN 1 ELSE 0 END,"
            "                 last_status = 'interrupted', failure_count = failure_count" OP("+") "1"
            "           WHERE id" OP("=") "$1 AND status" OP("=") RUNNING_TASK " AND $4"
            "             AND ($2 IS NULL OR EXISTS (SELECT FROM run)) RETURNING id, name, owner, max_retries)"
            " SELECT (SELECT pg_catalog.count(*) FROM run)" OP("+") "(SELECT pg_catalog.count(*) FROM task),"
            "        (SELECT run_id FROM run), COALESCE((SELECT task_name FROM run), (SELECT name FROM task)),"
            "        COALESCE((SELECT owner FROM run), (SELECT owner FROM task)), (SELECT attempt FROM run),"
            "        (SELECT max_retries FROM task), (SELECT scheduled_for FROM run), (SELECT started_at FROM run),"
            "        (SELECT manual FROM run), (SELECT error FROM run)",
            5, types, values, nulls, false, 0);
        writing_bookkeeping = false;
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "pg_chronos: could not recover run of task " INT64_FORMAT, task_id);
        HeapTuple changed = SPI_tuptable->vals[0];
        TupleDesc desc = SPI_tuptable->tupdesc;
        bool changed_isnull;
        if (DatumGetInt64(SPI_getbinval(changed, desc, 1, &changed_isnull)) > 0) {
            recovered++;
            log_recovered_run(task_id, changed, desc);
        }
    }
    return recovered;
}
